#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Scheduling policy: workers of a master under the default policy run
under SCHED_BATCH (a woken worker does not preempt one mid-response),
the master keeps its own; a master started under another policy passes
that one on unchanged, and the nice value is kept either way."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, echo_once, expect, wait_until


def policy_name(p):
    for name in ('SCHED_OTHER', 'SCHED_BATCH', 'SCHED_IDLE', 'SCHED_FIFO',
                 'SCHED_RR'):
        if getattr(os, name, None) == p:
            return name
    return str(p)


def policies(srv, n):
    workers = srv.wait_workers(n)
    return (os.sched_getscheduler(srv.master),
            {w: os.sched_getscheduler(w) for w in workers})


def expect_policies(srv, master_policy, worker_policy, what):
    """The master under master_policy, every one of 2 workers under
    worker_policy; the workers' pids.  A worker just forked sets its
    policy a moment after it shows among the master's children: it is
    given that moment."""
    def right():
        m, w = policies(srv, 2)
        return m == master_policy and \
            all(p == worker_policy for p in w.values())
    wait_until(right, T(5))
    master, workers = policies(srv, 2)
    expect(master == master_policy, 'master runs under %s'
           % policy_name(master))
    wrong = {w: policy_name(p) for w, p in workers.items()
             if p != worker_policy}
    expect(not wrong, '%s not under %s: %s'
           % (what, policy_name(worker_policy), wrong))
    return sorted(workers)


def batch_workers(srv):
    srv.start()
    workers = expect_policies(srv, os.SCHED_OTHER, os.SCHED_BATCH, 'workers')
    echo_once(srv.addr(), b'batch')
    # A replacement worker takes the policy too.
    victim = workers[0]
    os.kill(victim, 9)
    expect(wait_until(lambda: victim not in srv.workers() and
                      len(srv.workers()) == 2, T(10)),
           'worker %d not replaced' % victim)
    expect_policies(srv, os.SCHED_OTHER, os.SCHED_BATCH,
                    'replacement workers')
    srv.stop()


def idle_master(srv):
    # chrt --idle 0 preforkd ...: the policy the administrator chose.
    srv.start(wrapper=['chrt', '--idle', '0'])
    expect_policies(srv, os.SCHED_IDLE, os.SCHED_IDLE, 'workers')
    echo_once(srv.addr(), b'idle')
    srv.stop()


def nice_kept(srv):
    srv.start(wrapper=['nice', '-n', '7'])
    workers = expect_policies(srv, os.SCHED_OTHER, os.SCHED_BATCH, 'workers')
    base = os.getpriority(os.PRIO_PROCESS, srv.master)
    expect(base >= 7, 'master nice %d, wanted at least 7' % base)
    wrong = {w: os.getpriority(os.PRIO_PROCESS, w) for w in workers
             if os.getpriority(os.PRIO_PROCESS, w) != base}
    expect(not wrong, 'workers changed nice from %d: %s' % (base, wrong))
    srv.stop()


def main():
    t = Test('test_sched')
    t.check('workers run under SCHED_BATCH, the master under its own',
            batch_workers, t.server('batch'))
    t.check('a master under SCHED_IDLE passes it on to its workers',
            idle_master, t.server('idle'))
    t.check('the nice value is kept', nice_kept, t.server('nice'))
    t.finish()


if __name__ == '__main__':
    main()

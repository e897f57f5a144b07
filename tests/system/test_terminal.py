# SPDX-License-Identifier: BSD-2-Clause
"""Ctrl-C on a foreground server (-n): the terminal sends SIGINT to its
foreground process group.  The master stops its workers itself; no worker
is logged as having crashed ("exited on signal 2")."""
import os
import re
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Test, alive, echo_once, expect, proc_stat,
                     wait_until)

CRASH_RE = re.compile(r'^.*\[(?:error|warning|notice|info)\] .*exited on signal.*$', re.M)


def start_in_own_group(srv):
    # setsid(1) execs in place (we are no group leader): the master's pid
    # is its process group's, as a shell's job control would make it.
    srv.start(wrapper=('setsid',))
    st = proc_stat(srv.master)
    expect(st is not None and os.getpgid(srv.master) == srv.master,
           'master %d leads no process group' % srv.master)
    srv.wait_workers(3)
    echo_once(srv.addr(), b'before ctrl-c')


def ctrl_c(srv, stop_master_first):
    workers = srv.workers()
    mark = srv.mark()
    if stop_master_first:
        # The master sees its SIGINT only after anything the workers did.
        os.kill(srv.master, signal.SIGSTOP)
        wait_until(lambda: proc_stat(srv.master)[0] == 'T', T(5))
    os.killpg(srv.master, signal.SIGINT)
    if stop_master_first:
        # Until each worker has either died of it or never got it.
        def settled():
            for p in workers:
                try:
                    if alive(p) and os.getpgid(p) == srv.master:
                        return False
                except ProcessLookupError:
                    pass
            return True
        wait_until(settled, T(5))
        hit = [p for p in workers if not alive(p)]
        expect(not hit, 'the terminal\'s SIGINT reached workers %s' % hit)
        os.kill(srv.master, signal.SIGCONT)
    rc = srv.wait_exit(T(10))
    expect(rc == 0, 'master exited with %s after SIGINT' % rc)
    log = srv.log_text()[mark:]
    expect('fast shutdown' in log, 'no "fast shutdown" logged')
    crashes = CRASH_RE.findall(log)
    expect(not crashes, 'workers %s logged as crashed: %s'
           % (workers, crashes))
    left = wait_until(lambda: not srv.leftovers(), T(10))
    expect(left, 'still running: %s' % srv.leftovers())


def main():
    t = Test('test_terminal')
    for name, stop_first in (('ctrlc', False), ('ctrlc-late', True)):
        srv = t.server(name, servers=[dict(workers=3)])
        if t.check('%s: foreground server in its own process group' % name,
                   start_in_own_group, srv):
            t.check('%s: SIGINT to the group%s: exit 0, no worker logged '
                    'as crashed' % (name, ', master stopped meanwhile'
                                    if stop_first else ''),
                    ctrl_c, srv, stop_first)
    t.finish()


if __name__ == '__main__':
    main()

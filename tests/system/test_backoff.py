# SPDX-License-Identifier: BSD-2-Clause
"""Crash-loop backoff: a worker that dies right after start is respawned
after a delay that grows from 100 ms, doubling, and the delay resets once a
worker has lived (2 s).  Never a tight fork loop."""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, expect, kill, wait_until

STAMP_RE = r'^(\S+)Z \[info\] preforkd\[\d+\]: server echo: worker (\d+) started'


def start_times(srv):
    """{pid: seconds since the epoch} of every `worker PID started` line."""
    out = {}
    for m in re.finditer(STAMP_RE, srv.log_text(), re.M):
        t = time.strptime(m.group(1).split('.')[0], '%Y-%m-%dT%H:%M:%S')
        out[int(m.group(2))] = (time.mktime(t) +
                                int(m.group(1).split('.')[1]) / 1000.0)
    return out


def kill_newest(srv, known):
    """Waits for a worker not in known, kills it at once, returns its pid."""
    new = wait_until(lambda: [p for p in srv.workers() if p not in known],
                     T(15), interval=0.005)
    expect(new, 'no replacement worker within %gs' % T(15))
    kill(new[0], signal.SIGKILL)
    known.add(new[0])
    return new[0]


def delays_grow(srv, known):
    srv.start()
    killed = [kill_newest(srv, known) for _ in range(6)]
    # The master logs a start after its fork returns: a worker may be seen
    # (and killed) before its line is written.
    starts = wait_until(lambda: all(p in start_times(srv) for p in killed)
                        and start_times(srv), T(5))
    expect(starts, 'start lines missing for %s'
           % [p for p in killed if p not in start_times(srv)])
    gaps = [starts[b] - starts[a] for a, b in zip(killed, killed[1:])]
    # Each death came right after a start: 100, 200, 400, 800, 1600 ms.
    for i, gap in enumerate(gaps):
        want = 0.1 * 2 ** i
        expect(gap >= want * 0.9, 'respawn %d came after %.3fs, backoff '
               'wants >= %.1fs (gaps %s)' % (i + 1, gap, want,
                                             ['%.3f' % g for g in gaps]))
    return 'gaps ' + ' '.join('%.2f' % g for g in gaps)


def delay_resets(srv, known):
    # The worker after delays_grow's last victim lives: after 2 s, a death
    # is healthy.  A victim may still show for a moment after its SIGKILL:
    # wait for none of them, or the one timed would already be dead.
    w = srv.wait_workers(1, gone=sorted(known))
    time.sleep(2.2)  # the behaviour under test is a span of life
    t0 = time.monotonic()
    kill(w[0], signal.SIGKILL)
    srv.wait_workers(1, gone=w)
    took = time.monotonic() - t0
    expect(took < T(0.5) + 0.1, 'a worker that had lived 2 s was replaced '
           'after %.2fs: the backoff did not reset' % took)
    srv.wait_log(r'worker %d exited on signal 9' % w[0])
    return 'replaced after %.3fs' % took


def main():
    t = Test('test_backoff')
    srv = t.server('backoff', servers=[{'workers': 1}])
    killed = set()
    if t.check('respawn delays double after quick deaths', delays_grow, srv,
               killed):
        t.check('the delay resets once a worker has lived', delay_resets,
                srv, killed)
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""A dynamic pool (max-workers above workers), Apache prefork style: the
master keeps between min-spare and max-spare idle workers, never more than
max-workers in all, and retires surplus idle workers when load goes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, connect, expect, wait_until

POOL = dict(workers=2, max_workers=5, min_spare=1, max_spare=2)


def hold(srv, clients):
    """One more echo client held open: it keeps one worker busy."""
    c = connect(srv.addr())
    c.sendall(b'x')
    expect(c.recv(1) == b'x', 'no echo')
    clients.append(c)


def grows_and_shrinks(srv):
    srv.start()
    srv.wait_workers(POOL['workers'])
    clients = []
    seen_max = 0
    try:
        for n in range(1, POOL['max_workers'] + 1):
            hold(srv, clients)
            # n busy: the master keeps min-spare idle, within max-workers.
            want = min(n + POOL['min_spare'], POOL['max_workers'])
            ok = wait_until(lambda: len(srv.workers()) >= want, T(10))
            seen_max = max(seen_max, len(srv.workers()))
            expect(ok, '%d busy: %d workers, expected %d'
                   % (n, len(srv.workers()), want))
            expect(len(srv.workers()) <= POOL['max_workers'],
                   'more than max-workers: %s' % srv.workers())
        # Every worker busy and the pool at its cap: no more spawn.
        expect(not wait_until(lambda: len(srv.workers()) >
                              POOL['max_workers'], T(2)),
               'the pool passed max-workers: %s' % srv.workers())
        srv.wait_log(r'reached max-workers', timeout=T(5))
    finally:
        for c in clients:
            c.close()
    # Load gone: surplus idle workers retire down to max-spare idle.
    srv.wait_workers(POOL['max_spare'], timeout=T(20))
    expect(not wait_until(lambda: len(srv.workers()) < POOL['workers'],
                          T(2)), 'the pool fell below workers')
    srv.stop()
    return 'grew to %d, shrank to %d' % (seen_max, POOL['max_spare'])


def main():
    t = Test('test_dynamic')
    t.check('a dynamic pool grows under load up to max-workers and '
            'shrinks back', grows_and_shrinks,
            t.server('dynamic', servers=[dict(POOL)]))
    t.finish()


if __name__ == '__main__':
    main()

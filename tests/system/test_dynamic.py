# SPDX-License-Identifier: BSD-2-Clause
"""A dynamic pool (max-workers above workers), Apache prefork style: the
master keeps between min-spare and max-spare idle workers, never more than
max-workers in all, and retires surplus idle workers when load goes.
Many servers left at the default pool start: past 8 of them, 256 each
would exceed the 2048 workers all may have, so they share those."""
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, conf_value, connect, expect, kill, run,
                     wait_until)

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


def fixed_pool_capped(srv):
    """A fixed pool (workers alone) full with connections waiting for a
    second is at its cap too, as Apache says of MaxRequestWorkers whatever
    the pool: logged once, counted on the status page.  Clients no more
    than the workers, however busy, are not that."""
    srv.start()
    srv.wait_workers(2)
    # As many clients as workers, connecting again and again: a
    # connection seen queued between two is no shortage.
    echo_clients(srv, 2, 2)
    noise = srv.find(r'reached max-workers')
    expect(not noise, '%d warnings with as many clients as workers'
           % len(noise))
    clients, queued = [], []
    try:
        for _ in range(2):
            hold(srv, clients)
        # Enough that the new workers of two reloads are short too.
        queued = [connect(srv.addr()) for _ in range(8)]
        line = srv.wait_log(r'server echo: reached max-workers \(2\) short '
                            r'of idle workers; consider raising workers',
                            timeout=T(5))
        rc, out, err = srv.ctl('status')
        expect(re.search(r'reached max-workers 1 times', out),
               'the status does not count it: %s' % out[:400])
        # A reload does not end the shortage, nor start another episode.
        for gen in (2, 3):
            mark = srv.mark()
            srv.signal(signal.SIGHUP)
            srv.wait_log(r'reload: generation %d serving' % gen, mark,
                         timeout=T(30))
            time.sleep(2)   # past the 1 s a shortage takes to count
        warned = srv.find(r'reached max-workers')
        rc, out, err = srv.ctl('status')
        expect(len(warned) == 1 and
               re.search(r'reached max-workers 1 times', out),
               'two reloads during one shortage: %d warnings, status %s'
               % (len(warned), re.findall(r'reached max-workers \d+ times',
                                          out)))
    finally:
        for c in clients + queued:
            c.close()
    srv.stop()
    return line.group(0)


def echo_clients(srv, n, seconds):
    """n clients, each connecting again and again for seconds."""
    stop = time.monotonic() + seconds
    loops = [threading.Thread(target=echo_loop, args=(srv, stop))
             for _ in range(n)]
    for th in loops:
        th.start()
    for th in loops:
        th.join()


def echo_loop(srv, stop):
    while time.monotonic() < stop:
        with connect(srv.addr()) as c:
            c.sendall(b'x')
            c.recv(1)


def recycling_not_capped(srv):
    """Workers leaving for max-requests are counted within max-workers
    until they exit, milliseconds later: a pool far below its cap then
    looks short by turns.  Five clients on a pool of up to 8 recycling
    every 20 connections are no shortage: before, the warning "reached
    max-workers ... consider raising it" came dozens of times a second
    and the counter with it."""
    srv.start()
    srv.wait_workers(2)
    echo_clients(srv, 5, 3)
    recycled = srv.find(r'recycled after 20 connections')
    expect(len(recycled) >= 10, 'only %d workers recycled: the test did '
           'not recycle enough to tell' % len(recycled))
    noise = srv.find(r'reached max-workers')
    expect(not noise, '%d "reached max-workers" warnings with 5 clients '
           'on up to 8 workers' % len(noise))
    rc, out, err = srv.ctl('status')
    expect(re.search(r'reached max-workers 0 times', out),
           'the status counts shortages: %s' % out[:400])
    srv.stop()
    return '%d workers recycled, no warning' % len(recycled)


def backoff_heals(srv):
    """One worker that died young puts the pool in crash back-off (one
    worker at a time); once a worker started since has lived 2 s, it is
    over, and a burst is met at once again.  Before, back-off ended only
    when a worker exited: a pool whose workers never exit grew one worker
    a second for good, and 16 clients waited up to 14 s."""
    srv.start()
    first = srv.wait_workers(2)
    kill(first[0], signal.SIGKILL)
    young = wait_until(lambda: [p for p in srv.workers() if p not in first],
                       T(10), interval=0.005)
    expect(young, 'no replacement worker')
    kill(young[0], signal.SIGKILL)
    over = wait_until(lambda: srv.find(r'crash back-off over'), T(10) + 2)
    n = 16
    clients = []
    try:
        start = time.monotonic()
        for i in range(n):
            c = connect(srv.addr())
            clients.append(c)
            c.sendall(b'x')
        for c in clients:
            c.settimeout(T(10))
            expect(c.recv(1) == b'x', 'no echo')
        took = time.monotonic() - start
    finally:
        for c in clients:
            c.close()
    expect(took < T(2), '%d clients took %.1fs to be echoed, 2 s after a '
           'worker started since the crash: the pool grew by its back-off '
           'pace' % (n, took))
    expect(over, 'the end of the back-off was not logged')
    srv.stop()
    return '%d clients echoed within %.2fs' % (n, took)


def ttou_band(srv):
    """TTOU lowers a dynamic pool's idle band one end at a time down to
    0..1, as preforkd(8) says, then says it is at its limit; TTIN raises
    it back the way it came, to 1..3 (not 1..2 then 2..3).  The status
    page shows the band as it is."""
    def shown():
        rc, out, err = srv.ctl('status')
        expect(rc == 0, '-s status: exit %d, %s' % (rc, err.strip()))
        m = re.search(r'^server echo: .*\n  dynamic pool: (\d+) to (\d+) '
                      r'idle workers$', out, re.M)
        return m and '%s..%s' % m.groups()
    srv.start_daemon()
    expect(shown() == '1..3', 'status shows the band %s, not 1..3'
           % shown())
    for sig, want in ((signal.SIGTTOU, '0..2'), (signal.SIGTTOU, '0..1'),
                      (signal.SIGTTOU, r'0..1 \(at its limit\)'),
                      (signal.SIGTTIN, '0..2'), (signal.SIGTTIN, '1..3')):
        mark = srv.mark()
        srv.signal(sig)
        srv.wait_log(r'server echo: idle workers %s\n' % want, since=mark,
                     timeout=T(5))
        band = want.split(' ')[0]
        expect(shown() == band, 'after %s the status shows the band %s, '
               'not %s' % (signal.Signals(sig).name, shown(), band))
    srv.stop()


DEFAULT_POOLS = 12


def default_pools_share(t):
    """Twelve servers that set no pool size: accepted (-t and start),
    each with max-workers 2048 / 12."""
    srv = t.server('shared')
    lines = ['%s = %s' % (k.replace('_', '-'), conf_value(v))
             for k, v in srv.globals.items() if v is not None]
    for i in range(DEFAULT_POOLS):
        lines += ['server s%d {' % i, '  listen = "127.0.0.1:0"',
                  '  handler = "echo"', '}']
    srv.write_conf(text='\n'.join(lines) + '\n')
    rc, out, err = run([BINARY, '-t', '-f', srv.conf])
    expect(rc == 0, 'preforkd -t refused %d default pools: %s'
           % (DEFAULT_POOLS, err.strip()))
    srv.start()
    share = 2048 // DEFAULT_POOLS
    rc, out, err = srv.ctl('status')
    expect(rc == 0, '-s status: %d %s' % (rc, err))
    got = re.findall(r'^server (s\d+): .*max-workers (\d+)$', out, re.M)
    expect(len(got) == DEFAULT_POOLS and
           all(int(m) == share for _, m in got),
           'max-workers per server %s, expected %d each' % (got, share))
    srv.stop()
    return '%d servers, max-workers %d each' % (DEFAULT_POOLS, share)


def main():
    t = Test('test_dynamic')
    t.check('a dynamic pool grows under load up to max-workers and '
            'shrinks back', grows_and_shrinks,
            t.server('dynamic', servers=[dict(POOL)]))
    t.check('a fixed pool full with clients waiting: "reached '
            'max-workers", counted', fixed_pool_capped,
            t.server('fixed', servers=[dict(workers=2)]))
    t.check('workers leaving for max-requests are no shortage: no '
            '"reached max-workers"', recycling_not_capped,
            t.server('recycling', servers=[dict(
                workers=2, max_workers=8, min_spare=1, max_spare=3,
                max_requests=20)]))
    t.check('crash back-off ends once a worker lives: a burst is met at '
            'once again', backoff_heals,
            t.server('heals', servers=[dict(
                workers=2, max_workers=32, min_spare=0, max_spare=32)]))
    t.check('TTOU lowers a dynamic pool\'s idle band down to 0..1, the '
            'status page shows it',
            ttou_band, t.server('band', servers=[dict(
                workers=2, max_workers=6, min_spare=1, max_spare=3)]))
    t.check('%d servers with the default pool share the 2048 workers'
            % DEFAULT_POOLS, default_pools_share, t)
    t.finish()


if __name__ == '__main__':
    main()

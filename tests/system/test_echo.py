# SPDX-License-Identifier: BSD-2-Clause
"""The echo handler (RFC 862): sizes, concurrency, the idle timeout, log
reopening during a session."""
import os
import re
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Test, closed_by_peer, connect, echo_once, expect,
                     fd_targets, read_file, roundtrip, wait_until)

IDLE = 2    # the server's timeout, seconds


def sizes(srv, n):
    echo_once(srv.addr(), os.urandom(n))


def concurrent(srv, clients=20):
    results = [None] * clients
    barrier = threading.Barrier(clients, timeout=T(10))

    def client(i):
        try:
            data = (b'%02d' % i) * 8192 + os.urandom(1000)
            s = connect(srv.addr())
            try:
                barrier.wait()
                got = roundtrip(s, data, T(30))
                results[i] = 'ok' if got == data else \
                    'got %d of %d bytes, or other bytes' % (len(got), len(data))
            finally:
                s.close()
        except Exception as e:
            results[i] = '%s: %s' % (type(e).__name__, e)

    threads = [threading.Thread(target=client, args=(i,), daemon=True)
               for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(T(40))
    bad = {i: r for i, r in enumerate(results) if r != 'ok'}
    expect(not bad, 'clients failed: %s' % bad)


def idle_dropped(srv):
    with connect(srv.addr()) as s:
        expect(roundtrip(s, b'hello') == b'hello', 'no echo')
        start = time.monotonic()
        expect(closed_by_peer(s, T(IDLE + 10)),
               'idle client not dropped within %gs (timeout = %d)'
               % (T(IDLE + 10), IDLE))
        took = time.monotonic() - start
    expect(took >= IDLE - 0.5, 'idle client dropped after %.2fs, before '
           'the timeout of %ds' % (took, IDLE))
    return 'dropped after %.2fs' % took


def idle_dropped_across_signals(srv):
    """Signals to the workers (here the master's log reopen) do not start
    the idle wait again: the handler drops the client on time, itself,
    before the master would take the worker for stuck and kill it."""
    mark = srv.mark()
    with connect(srv.addr()) as s:
        expect(roundtrip(s, b'hello') == b'hello', 'no echo')
        start = time.monotonic()
        for _ in range(3):
            time.sleep(IDLE / 4.0)      # the signals land inside the wait
            srv.signal(signal.SIGUSR1)
        expect(closed_by_peer(s, T(IDLE + 10)),
               'idle client not dropped within %gs (timeout = %d)'
               % (T(IDLE + 10), IDLE))
        took = time.monotonic() - start
    killed = srv.find(r'busy for \d+s without progress', mark)
    expect(not killed, 'the worker was killed: %s' % killed[:1])
    expect(took < IDLE + 0.9, 'idle client dropped after %.2fs, the '
           'timeout of %ds restarted by the signals' % (took, IDLE))
    return 'dropped after %.2fs' % took


def active_not_dropped(srv):
    # A client that sends every half timeout is never idle for `timeout`.
    with connect(srv.addr()) as s:
        for i in range(4):
            if i:
                time.sleep(IDLE / 2.0)   # pacing the client, not a wait
            got = roundtrip(s, b'tick%d' % i, T(5))
            expect(got == b'tick%d' % i, 'round %d: got %r' % (i, got))


def reopen_in_session(t):
    """A worker holding an echo session reopens the error log when told,
    at its next wake-up, not once the session ends: a session may last
    for days, the rotated file compressed and deleted meanwhile.  The
    handler itself logs nothing per session; what shows is the line its
    worker writes as the session ends, before it is back at accept(),
    where it reopened: here max-memory's recycling."""
    srv = t.server('reopen', servers=[dict(workers=1, max_memory='64K')])
    srv.start()
    (worker,) = srv.wait_workers(1)
    old = srv.log + '.1'
    with connect(srv.addr()) as s:
        expect(roundtrip(s, b'before') == b'before', 'no echo')
        os.rename(srv.log, old)
        rc, out, err = srv.ctl('reopen')
        expect(rc == 0, '-s reopen exited %s: %s' % (rc, err.strip()))
        srv.wait_log(r'reopened log files')
        # The client idles: the worker waits on it, in poll().
        wait_until(lambda: old not in fd_targets(worker), T(5))
        held = old in fd_targets(worker)
        expect(roundtrip(s, b'after', T(5)) == b'after',
               'no echo after the reopen')
    line = r'worker %d resident set \d+K exceeds max-memory' % worker
    in_old = lambda: re.search(line, read_file(old) or '')
    expect(wait_until(lambda: srv.find(line) or in_old(), T(10)),
           'worker %d did not log its recycling' % worker)
    expect(not held and not in_old(), 'the worker in a session %s'
           % ('kept writing to the rotated log: its recycling line went '
              'there' if in_old() else 'still held the rotated log'))


def main():
    t = Test('test_echo')
    srv = t.server('echo', servers=[dict(workers=4, timeout=IDLE)])
    if t.check('server starts', srv.start):
        t.check('echo of 1 byte', sizes, srv, 1)
        t.check('echo of 64 KiB', sizes, srv, 64 * 1024)
        t.check('echo of 1 MiB', sizes, srv, 1024 * 1024)
        t.check('20 concurrent clients each get their own data',
                concurrent, srv)
        t.check('idle client dropped after timeout', idle_dropped, srv)
        t.check('idle client dropped on time across signals',
                idle_dropped_across_signals, srv)
        t.check('a client active more often than timeout is kept',
                active_not_dropped, srv)
        t.check('pool intact after the echo checks', srv.wait_workers, 4)
    t.check('-s reopen reaches a worker in an echo session',
            reopen_in_session, t)
    t.finish()


if __name__ == '__main__':
    main()

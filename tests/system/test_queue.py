#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A pool that never makes clients queue.  The default pool (no pool
option written) serves 64 concurrent keep-alive clients, each answered
within 200 ms of connecting: the master grows the pool at once from its
listener's accept queue.  At max-workers, workers held by idle keep-alive
clients are asked to close those connections, so queued clients get
served long before keepalive-timeout.  Workers running as another user
than the master still wake it the moment they take the last idle place."""
import atexit
import os
import re
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Test, connect, expect, roundtrip, wait_until,
                     write_file)
from test_http_util import make_tree

CLIENTS = 64
FIRST_BYTE_MS = 200
# On a machine busy with other jobs: the pool must still grow in one go.
START_GAP_MAX = 0.05
LOADED_FIRST_BYTE = 1.0
REQUEST = b'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n'


def plain_conf(srv, server_body, http_body='', global_body=''):
    write_file(srv.conf, 'pidfile = "%s"\nerror-log = "%s"\n'
               'log-level = "info"\n%sserver www {\n'
               '  listen = "127.0.0.1:0"\n%s  http {\n    root = "root"\n'
               '%s  }\n}\n' % (srv.pidfile, srv.log, global_body,
                                server_body, http_body))


def burst(addr, n, timeout):
    """n clients connect at once and each sends a request: the seconds
    from each one's connect to the first byte of its answer."""
    sel = selectors.DefaultSelector()
    socks, started, first = [], {}, {}
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            started[s] = time.monotonic()
            s.connect(addr)
            s.sendall(REQUEST)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while len(first) < n and time.monotonic() < deadline:
            for key, _ in sel.select(max(0.01, deadline - time.monotonic())):
                s = key.fileobj
                first[s] = time.monotonic() - started[s]
                sel.unregister(s)
        return socks, [first.get(s) for s in socks]
    except BaseException:
        for s in socks:
            s.close()
        raise


def read_response(s, timeout):
    s.setblocking(True)
    s.settimeout(timeout)
    data = b''
    while b'alpha\n' not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def one_burst(t, name):
    """The default server, a burst of CLIENTS: the first-byte times, each
    client answered twice on its own worker."""
    srv = t.server(name)
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': 'alpha\n'})
    plain_conf(srv, '')
    srv.start()
    srv.parse_addrs()
    addr = srv.addr('www')[1]
    wait_until(lambda: len(srv.workers()) >= 5, T(10))
    mark = srv.mark()
    socks, times = burst(addr, CLIENTS, T(10))
    try:
        missing = [i for i, x in enumerate(times) if x is None]
        expect(not missing, '%d of %d clients got no answer within %gs'
               % (len(missing), CLIENTS, T(10)))
        for s in socks:
            expect(read_response(s, T(5)).startswith(b'HTTP/1.1 200'),
                   'not a 200')
        # Every client is kept alive, each on its own worker.
        expect(len(srv.workers()) >= CLIENTS, 'only %d workers for %d '
               'keep-alive clients' % (len(srv.workers()), CLIENTS))
        # The pool is at full size now: a second round is answered at once.
        for s in socks:
            s.sendall(REQUEST)
        for s in socks:
            expect(b'200' in read_response(s, T(5))[:16],
                   'no second answer on a kept-alive connection')
    finally:
        for s in socks:
            s.close()
        burst_log = srv.log_text()[mark:]
        srv.stop()
    return times, len(srv.seen) - 1, burst_log


def largest_start_gap(log):
    """The longest pause, in seconds, between two workers started in a
    burst, read off the master's log times: a pool that grows at once
    forks them back to back, one that grows by a schedule waits for its
    next pass (Apache's: a second) between its batches."""
    stamps = sorted(
        int(h) * 3600 + int(m) * 60 + float(sec) for h, m, sec in
        re.findall(r'T(\d\d):(\d\d):(\d\d\.\d{3})Z \[info\] \S+ '
                   r'server www: worker \d+ started', log))
    if len(stamps) < CLIENTS - 5:
        return float('inf')     # the log does not show the growth
    return max(b - a for a, b in zip(stamps, stamps[1:]))


def default_pool_64(t):
    """The bound is a latency on a shared machine, where a neighbour's
    burst can delay the 59 forks it needs: another burst, on a fresh
    server, may make it.  A pool that grows by a schedule (seconds for
    64) fails all three."""
    bound = FIRST_BYTE_MS / 1000.0 * T(1)
    tries = []
    for name in ('default', 'default-again', 'default-third'):
        times, workers, burst_log = one_burst(t, name)
        tries.append(max(times))
        if max(times) <= bound:
            break
    worst = max(times)
    gap = largest_start_gap(burst_log) if worst > bound else 0
    # Under a load of other jobs the forks themselves are slow: then the
    # master's own log must show the pool grown in one go, and the wait
    # still far below what any schedule takes.
    loaded = worst > bound and gap <= START_GAP_MAX * T(1) and \
        worst <= LOADED_FIRST_BYTE * T(1)
    expect(worst <= bound or loaded, 'slowest first byte after %s ms in %d '
           'bursts (bound %.0f ms); slowest five of the last: %s; longest '
           'pause between two starts %.0f ms'
           % (' and '.join('%.0f' % (x * 1000) for x in tries), len(tries),
              bound * 1000, ['%.0f' % (x * 1000) for x in sorted(times)[-5:]],
              gap * 1000))
    return 'first byte: median %.0f ms, slowest %.0f ms, %d workers%s%s' % (
        sorted(times)[CLIENTS // 2] * 1000, worst * 1000, workers,
        '' if len(tries) == 1 else
        ' (burst %d; before: slowest %s ms)' % (
            len(tries), ', '.join('%.0f' % (x * 1000) for x in tries[:-1])),
        '' if not loaded else '; over the bound on a loaded machine, but '
        'the workers started back to back (longest pause %.0f ms)'
        % (gap * 1000))


def backpressure(t):
    srv = t.server('capped')
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': 'alpha\n'})
    keepalive = 10
    plain_conf(srv, '  workers = 2\n  max-workers = 4\n  min-spare = 1\n'
               '  max-spare = 2\n', '    keepalive-timeout = %d\n' % keepalive)
    srv.start()
    srv.parse_addrs()
    addr = srv.addr('www')[1]
    start = time.monotonic()
    socks, times = burst(addr, 16, T(keepalive))
    try:
        missing = [i for i, x in enumerate(times) if x is None]
        expect(not missing, '%d of 16 clients got no answer within '
               'keepalive-timeout (%ds)' % (len(missing), keepalive))
        expect(len(srv.workers()) <= 4, 'more than max-workers: %s'
               % srv.workers())
    finally:
        for s in socks:
            s.close()
    worst = max(times)
    expect(worst < keepalive * 0.5, 'a client waited %.1fs: keep-alive '
           'clients kept their workers' % worst)
    srv.stop()
    return '16 clients on 4 workers; slowest first byte %.2fs (%.1fs in ' \
        'all)' % (worst, time.monotonic() - start)


def silent_connections(t):
    """Connections that send nothing (a browser's preconnect, a port
    check, or an attacker) hold every worker of a full pool: they are as
    idle as kept-alive ones, and given back the same way.  A client
    queued behind them is answered within about a second, not after
    header-timeout; the silent ones are closed without a word."""
    srv = t.server('silent')
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': 'alpha\n'})
    header_timeout = 20
    plain_conf(srv, '  workers = 2\n',
               '    header-timeout = %d\n' % header_timeout)
    srv.start()
    srv.parse_addrs()
    addr = srv.addr('www')[1]
    silent = []
    try:
        for _ in range(2):
            silent.append(socket.create_connection(addr, timeout=T(5)))
        time.sleep(0.3)  # the behaviour under test is a span of silence
        start = time.monotonic()
        socks, times = burst(addr, 1, T(header_timeout))
        try:
            took = times[0]
            expect(took is not None and took < T(3), 'the queued client '
                   'waited %s s behind 2 silent connections (header-timeout '
                   '%d)' % (took, header_timeout))
            expect(read_response(socks[0], T(5)).startswith(
                b'HTTP/1.1 200'), 'not a 200')
        finally:
            for s in socks:
                s.close()
        closed = 0
        for s in silent:
            s.settimeout(1)
            try:
                got = s.recv(100)
            except socket.timeout:
                got = None
            except ConnectionResetError:
                got = b''
            expect(not got, 'a silent connection got %r' % got)
            closed += got == b''
        # The queued client took the worker of one of them.
        expect(closed >= 1, 'no silent connection was closed')
    finally:
        for s in silent:
            s.close()
    srv.stop()
    return 'answered after %.2fs (%.1fs in all)' % (
        took, time.monotonic() - start)


def silent_then_quit(t):
    """A new connection that has sent nothing is given up only for a
    queued client, not at a graceful stop: QUIT finishes the current
    connection, so its request, sent after the QUIT, is answered."""
    srv = t.server('silentquit')
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': 'alpha\n'})
    plain_conf(srv, '  workers = 2\n', '    header-timeout = 10\n',
               'shutdown-timeout = 4\n')
    srv.start()
    srv.parse_addrs()
    s = socket.create_connection(srv.addr('www')[1], timeout=T(5))
    try:
        time.sleep(0.3)  # taken by a worker: the behaviour is its wait
        srv.signal(signal.SIGQUIT)
        time.sleep(2.5)  # past half of shutdown-timeout, the idle grace
        s.sendall(REQUEST)
        got = read_response(s, T(5))
        expect(got.startswith(b'HTTP/1.1 200'), 'the request sent after '
               'QUIT on a silent connection got %r' % got[:40])
    finally:
        s.close()
    expect(srv.wait_exit(T(10)) == 0, 'the master did not exit')
    return 'answered 2.8 s after it was opened'


def queued_client_wait(srv, addr):
    """Both workers taken, one at a time, then a third client at once:
    the seconds until its echo.  Only the master's wake-up by the worker
    that took the last idle place makes it short: otherwise the master,
    all idle before, looks again only at its next one-second pass."""
    held = []
    try:
        for i in range(2):
            s = connect(addr)
            held.append(s)
            expect(roundtrip(s, b'hold %d' % i, T(5)) == b'hold %d' % i,
                   'no echo for a holding client')
        start = time.monotonic()
        s = connect(addr)
        held.append(s)
        got = roundtrip(s, b'queued', T(5))
        expect(got == b'queued', 'the queued client got %r' % got)
        return time.monotonic() - start
    finally:
        for s in held:
            s.close()


def wake_as_other_user(t):
    """As root the workers run as nobody: a signal from them to the
    master would be refused (EPERM), so they wake it otherwise.  Five
    rounds, each from an all-idle pool the master has stopped watching
    closely: without the wake-up each waits for a pass anywhere in the
    next second, and five all under the bound would be luck (< 0.1%)."""
    user = {'user': 'nobody'} if os.geteuid() == 0 else {}
    srv = t.server('wake', servers=[dict(workers=2, max_workers=4,
                                         min_spare=0, max_spare=2)],
                   log_level='info', **user)
    srv.start()
    srv.parse_addrs()
    addr = srv.addr()
    bound = 0.25 * T(1)
    waits = []
    for _ in range(5):
        expect(wait_until(lambda: len(srv.workers()) == 2, T(10)),
               'pool did not settle at 2 workers: %s' % srv.workers())
        # Idle for over a second: the master sleeps its long pass now.
        time.sleep(1.3)
        waits.append(queued_client_wait(srv, addr))
    srv.stop()
    expect(max(waits) <= bound, 'a queued client waited %s ms (bound %.0f '
           'ms)' % (['%.0f' % (w * 1000) for w in waits], bound * 1000))
    return 'queued client answered after %s ms%s' % (
        ', '.join('%.0f' % (w * 1000) for w in waits),
        '' if user else ' (not root: workers run as the master\'s user)')


def unix_burst(t):
    """A unix listener's accept queue is read too (sock_diag): the status
    table shows what waits on a fixed pool, and a burst on a dynamic pool
    grows it at once, where the spare rule alone would take seconds."""
    srv = t.server('unixburst')
    sockdir = srv.dir
    if len(sockdir) >= 90:  # sun_path is 108 bytes: a deep build dir
        sockdir = tempfile.mkdtemp(prefix='preforkd.')
        atexit.register(shutil.rmtree, sockdir, True)
    fixed = os.path.join(sockdir, 'f.sock')
    dyn = os.path.join(sockdir, 'd.sock')
    write_file(srv.conf, 'pidfile = "%s"\nerror-log = "%s"\n'
               'log-level = "info"\n'
               'server fixed {\n  listen = "unix:%s"\n  handler = "echo"\n'
               '  workers = 1\n}\n'
               'server dyn {\n  listen = "unix:%s"\n  handler = "echo"\n'
               '  workers = 1\n  min-spare = 1\n  max-spare = 2\n'
               '  max-workers = 24\n}\n'
               % (srv.pidfile, srv.log, fixed, dyn))
    srv.start()
    n = 16
    socks, first = [], []

    def client(path, byte):
        s = socket.socket(socket.AF_UNIX)
        socks.append(s)
        s.connect(path)
        if byte:
            s.sendall(byte)
        return s
    try:
        held = client(fixed, b'x')
        held.settimeout(T(5))
        expect(held.recv(1) == b'x', 'no echo')
        client(fixed, None)
        client(fixed, None)
        shown = wait_until(lambda: re.search(
            r'^server fixed: .*\n(?:  .*\n)*?  queue 2 now',
            srv.ctl('status')[1], re.M), T(5))
        expect(shown, 'the status never showed the 2 queued clients: %s'
               % srv.ctl('status')[1][:600])
        for _ in range(n):
            first.append((client(dyn, b'y'), time.monotonic()))
        worst = 0.0
        for s, started in first:
            s.settimeout(T(10))
            expect(s.recv(1) == b'y', 'a client of the burst got no echo')
            worst = max(worst, time.monotonic() - started)
    finally:
        for s in socks:
            s.close()
    srv.stop()
    expect(worst < LOADED_FIRST_BYTE, 'a client of the unix burst waited '
           '%.2fs: the pool did not grow from the queue' % worst)
    return ('queue shown; %d clients on a dynamic pool, the last answered '
            'after %.2fs' % (n, worst))


def main():
    t = Test('test_queue')
    t.check('default config: %d keep-alive clients each answered within '
            '%d ms' % (CLIENTS, FIRST_BYTE_MS), default_pool_64, t)
    t.check('max-workers = 4, 16 keep-alive clients: idle keep-alive '
            'connections are closed for the queued ones', backpressure, t)
    t.check('2 workers held by connections that send nothing: a queued '
            'client is answered at once, they are closed quietly',
            silent_connections, t)
    t.check('a silent connection at QUIT: its request is still answered',
            silent_then_quit, t)
    t.check('workers running as nobody wake the master for a queued client',
            wake_as_other_user, t)
    t.check('a unix listener: its queue is shown and grows the pool at once',
            unix_burst, t)
    t.finish()


if __name__ == '__main__':
    main()

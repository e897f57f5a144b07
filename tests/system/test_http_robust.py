# SPDX-License-Identifier: BSD-2-Clause
"""The http handler under abuse: clients that reset mid-response, read
slowly or not at all, send garbage or a 1 MB header line.  Afterwards the
same workers serve on, with no descriptor leaked.  Then reloads: SIGHUP
with a new root serves it, a kept-alive connection is closed politely, a
bad reload leaves the old config serving.
"""
import hashlib
import os
import re
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, conn_inode, expect, run,
                     socket_inodes, wait_until)
from test_http_util import (HttpClient, exchange, expect_status, get,
                            http_conf_text, http_server, make_tree,
                            no_worker_trouble, request_bytes, worker_fds)

BIG = 10 * 1024 * 1024
MID = 1024 * 1024
SEND_TIMEOUT = 4        # the server's timeout: bounds a send without progress


def build(srv):
    root = os.path.join(srv.dir, 'root')
    make_tree(root, {'index.html': 'old root\n', 'a.txt': 'alpha\n'})
    for name, size in (('big.bin', BIG), ('mid.bin', MID)):
        with open(os.path.join(root, name), 'wb') as f:
            f.write(os.urandom(size))
    make_tree(os.path.join(srv.dir, 'root2'), {'index.html': 'new root\n',
                                               'a.txt': 'alpha2\n'})


def servers(root='root'):
    # No open-file cache: its descriptors are kept on purpose, and this
    # test counts every descriptor a worker holds to find leaks.
    return [dict(name='www', workers=2, timeout=SEND_TIMEOUT, http=dict(
        root=root, access_log='access.log', keepalive_timeout=3,
        header_timeout=1, open_file_cache=0))]


def serves(srv):
    r = get(srv, '/a.txt')
    expect(r.status == 200 and r.body == b'alpha\n', 'GET /a.txt: %r' % r)


def small_rcvbuf(c, size=65536):
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


# ---------------------------------------------------------------- abuse

def reset_mid_response(srv, n=5):
    for i in range(n):
        with HttpClient(srv) as c:
            small_rcvbuf(c)
            c.send(request_bytes('/big.bin'))
            got = 0
            while got < 100000:
                chunk = c.sock.recv(65536)
                expect(chunk, 'closed after %d bytes' % got)
                got += len(chunk)
            c.reset()
    serves(srv)


def slow_reader(srv):
    want = hashlib.sha256(open(os.path.join(srv.dir, 'root', 'mid.bin'),
                               'rb').read()).hexdigest()
    with HttpClient(srv) as c:
        small_rcvbuf(c, 16384)
        c.send(request_bytes('/mid.bin', headers={'Connection': 'close'}))
        data = b''
        start = time.monotonic()
        while True:
            chunk = c.sock.recv(16384)
            if not chunk:
                break
            data += chunk
            time.sleep(0.01)    # pacing the slow reader, not a wait
        took = time.monotonic() - start
    body = data[data.index(b'\r\n\r\n') + 4:]
    expect(len(body) == MID, 'slow reader got %d of %d bytes' % (len(body),
                                                                MID))
    expect(hashlib.sha256(body).hexdigest() == want, 'slow reader: bytes '
           'differ')
    return 'read in %.1fs' % took


def garbage(srv, n=20):
    statuses = {}
    for i in range(n):
        data = os.urandom(300 + i * 37) + b'\r\n\r\n'
        try:
            responses, closed = exchange(srv, data)
        except Exception as e:
            responses, closed = [], '%s' % e
        key = ','.join(str(r.status) for r in responses) or 'none'
        statuses[key] = statuses.get(key, 0) + 1
        expect(closed is True, 'garbage %d: connection not closed (%s)'
               % (i, closed))
    expect(set(statuses) <= {'400', '414', '431', '501', '505'},
           'answers to garbage: %s' % statuses)
    serves(srv)
    return 'answers %s' % statuses


def megabyte_header(srv):
    line = b'X-Big: ' + b'b' * (1 << 20)
    data = b'GET /a.txt HTTP/1.1\r\nHost: x\r\n' + line + b'\r\n\r\n'
    with HttpClient(srv) as c:
        errors = []

        def sender():
            try:
                c.sock.sendall(data)
            except OSError as e:
                errors.append(e)
        th = threading.Thread(target=sender, daemon=True)
        th.start()
        r = c.response(timeout=T(10))
        th.join(T(10))
        expect(r is not None, '1 MB header line: connection closed without '
               'a response (sender: %s)' % errors)
        expect_status(r, 431, '1 MB header line')
        expect(c.closed(), 'connection open after the 431')
    serves(srv)


def bad_batch(srv):
    """50 bad requests of every kind."""
    kinds = [
        lambda: exchange(srv, b'\xff\xfe\x00garbage\r\n\r\n'),
        lambda: exchange(srv, b'GET / HTTP/1.1\r\nHost x\r\n\r\n'),
        lambda: get(srv, '/missing'),
        lambda: get(srv, '/a.txt', method='POST', body=b'x' * 5000),
        lambda: exchange(srv, b'GET /%s HTTP/1.1\r\nHost: x\r\n\r\n'
                         % (b'a' * 9000)),
        lambda: exchange(srv, b'GET / HTTP/1.1\r\nHost: x\r\n%s\r\n'
                         % (b'X-H: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n'
                            * 300)),
        lambda: exchange(srv, b'GET / HTTP/2.0\r\nHost: x\r\n\r\n'),
        lambda: get(srv, '/', method='BREW'),
        lambda: exchange(srv, b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length:'
                         b' 3\r\nTransfer-Encoding: chunked\r\n\r\n'),
        lambda: reset_mid_response(srv, 1),
        lambda: exchange(srv, b'GET /../../etc/passwd HTTP/1.1\r\nHost: x'
                         b'\r\nConnection: close\r\n\r\n'),
        lambda: half_head_then_close(srv),
        lambda: get(srv, '/a.txt', headers={'Range': 'bytes=99999-'}),
    ]
    for i in range(50):
        kinds[i % len(kinds)]()


def half_head_then_close(srv):
    with HttpClient(srv) as c:
        c.send(b'GET /a.txt HTTP/1.1\r\nHo')
    return [], True


def no_fd_leak(srv, before):
    ok = wait_until(lambda: worker_fds(srv) == before, T(5))
    expect(ok, 'worker descriptors before %s, after %s'
           % (before, worker_fds(srv)))


def stalled_reader(srv):
    """A client that never reads: the send makes no progress, the worker
    gives up after `timeout`, before the master's watchdog would kill it,
    even when a signal (here a log reopen) interrupts its wait, and goes
    on serving."""
    mark = srv.mark()
    workers = srv.workers()
    c = HttpClient(srv)
    try:
        small_rcvbuf(c, 4096)
        c.send(request_bytes('/big.bin'))
        port = c.sock.getsockname()[1]
        inode = wait_until(lambda: conn_inode(srv.port('www'), port), T(5))
        expect(inode, 'no server-side socket for the connection')
        start = time.monotonic()
        time.sleep(SEND_TIMEOUT / 2)
        srv.signal(signal.SIGUSR1)

        def released():
            return not any(inode in socket_inodes(w) for w in srv.workers())
        ok = wait_until(released, T(SEND_TIMEOUT) + 5, interval=0.1)
        took = time.monotonic() - start
        expect(ok, 'the connection of a client that reads nothing is still '
               'held after %.1fs (timeout = %d)' % (took, SEND_TIMEOUT))
    finally:
        c.reset()
    serves(srv)
    killed = srv.find(r'worker \d+ busy for \d+s without progress: killed',
                      mark)
    expect(not killed and srv.workers() == workers, 'the worker was killed '
           'rather than giving the client up: %s' % [m.group(0)
                                                      for m in killed])
    return 'released after %.1fs by the worker' % took


def quiet_error_log(srv, since):
    # Habit 16: clients that reset, stall or send garbage are counted, not
    # logged as failures (a flood of them must not flood the log).
    noisy = srv.find(r'[^\n]*\[(warning|error|crit|alert|emerg)\][^\n]*',
                     since)
    expect(not noisy, 'abusive clients logged as failures: %s'
           % [m.group(0) for m in noisy][:5])


def waits_not_killed(t):
    """keepalive-timeout and header-timeout are the handler's own waits; the
    master kills a worker busy `timeout` without progress.  A config with
    a wait as long as `timeout` must be refused (by -t, naming the option),
    or else the wait must not get the worker killed."""
    srv = http_server(t, 'waits', [dict(name='www', workers=2, timeout=2,
                                        http=dict(root='root',
                                                  keepalive_timeout=6,
                                                  header_timeout=6))])
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': 'alpha\n'})
    rc, out, err = run([BINARY, '-t', '-f', srv.conf])
    if rc != 0:
        for option in ('keepalive-timeout', 'header-timeout'):
            expect(re.search(r'preforkd\.conf:\d+: [^\n]*%s' % option, err),
                   'refused, but %s not named with file:line: %r'
                   % (option, err))
        return 'refused by -t: %s' % err.strip().split('\n')[0][-90:]
    srv.start()
    workers = srv.workers()
    mark = srv.mark()
    idle, partial = HttpClient(srv), HttpClient(srv)
    try:
        expect_status(idle.request('/a.txt'), 200, 'first request')
        partial.send(b'GET /a.txt HTTP/1.1\r\nHost: x\r\n')
        # Idling past `timeout` (2s), within the http timeouts (6s), is the
        # behaviour under test.
        time.sleep(3.5)
        problems = []
        try:
            r = idle.request('/a.txt')
            if r is None or r.status != 200:
                problems.append('kept-alive connection idle 3.5s '
                                '(keepalive-timeout = 6): %r' % r)
        except Exception as e:
            problems.append('kept-alive connection idle 3.5s: %s' % e)
        try:
            partial.send(b'\r\n')
            r = partial.response()
            if r is None or r.status != 200:
                problems.append('head completed after 3.5s (header-timeout '
                                '= 6): %r' % r)
        except Exception as e:
            problems.append('head completed after 3.5s: %s' % e)
    finally:
        idle.close()
        partial.close()
    killed = [m.group(0).split('] ', 1)[-1] for m in
              srv.find(r'[^\n]*worker \d+ busy[^\n]*', mark)]
    expect(not problems and not killed, '%s; log: %s' % ('; '.join(problems),
                                                        killed))
    expect(srv.workers() == workers, 'workers replaced')
    srv.stop()


# ---------------------------------------------------------------- reload

def requests_during_reload(srv):
    stop = threading.Event()
    failures, done = [], [0]

    def loop():
        while not stop.is_set():
            try:
                r = get(srv, '/a.txt')
                if r.status != 200 or r.body != b'alpha\n':
                    failures.append(repr(r))
                done[0] += 1
            except Exception as e:
                failures.append('%s: %s' % (type(e).__name__, e))
    threads = [threading.Thread(target=loop, daemon=True) for _ in range(4)]
    for th in threads:
        th.start()
    try:
        wait_until(lambda: done[0] >= 20, T(10))
        old = srv.workers()
        mark = srv.mark()
        srv.signal(signal.SIGHUP)       # the same config: a new generation
        srv.wait_log(r'reload: generation \d+ serving', mark)
        srv.wait_workers(2, gone=old)
        n = done[0]
        wait_until(lambda: done[0] >= n + 20, T(10))
    finally:
        stop.set()
        for th in threads:
            th.join(T(10))
    expect(not failures, '%d of %d requests failed during the reload: %s'
           % (len(failures), done[0], failures[:3]))
    return '%d requests' % done[0]


def download_across_reload(srv):
    want = hashlib.sha256(open(os.path.join(srv.dir, 'root', 'mid.bin'),
                               'rb').read()).hexdigest()
    with HttpClient(srv) as c:
        small_rcvbuf(c, 16384)
        c.send(request_bytes('/mid.bin', headers={'Connection': 'close'}))
        data = b''
        while len(data) < 65536:
            chunk = c.sock.recv(16384)
            expect(chunk, 'closed after %d bytes' % len(data))
            data += chunk
        old = srv.workers()
        mark = srv.mark()
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation \d+ serving', mark)
        while True:
            chunk = c.sock.recv(65536)
            if not chunk:
                break
            data += chunk
    body = data[data.index(b'\r\n\r\n') + 4:]
    expect(len(body) == MID and hashlib.sha256(body).hexdigest() == want,
           'download across a reload: %d of %d bytes%s' % (
               len(body), MID, ', other bytes' if len(body) == MID else ''))
    srv.wait_workers(2, gone=old)


def reload_new_root(srv):
    with HttpClient(srv) as c:
        r = c.request('/')
        expect(r.status == 200 and r.body == b'old root\n', 'before: %r' % r)
        old = srv.workers()
        srv.write_conf(text=http_conf_text(srv, servers('root2')))
        mark = srv.mark()
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation \d+ serving', mark)
        # The old worker holding this kept-alive connection answers the
        # next request on it with Connection: close, then exits.
        r = c.request('/a.txt')
        expect(r is not None, 'kept-alive connection closed by the reload '
               'without a response')
        expect_status(r, 200, 'request on a connection kept alive across '
                      'the reload')
        expect(r.has_token('connection', 'close'), 'a retiring worker '
               'answered without Connection: close: %r' % r)
        expect(c.closed(), 'connection open after the retiring worker\'s '
               'last response')
    srv.wait_workers(2, gone=old)
    r = get(srv, '/')
    expect(r.status == 200 and r.body == b'new root\n', 'after the reload: '
           '%r' % r)


def reload_bad_root(srv):
    before = srv.workers()
    srv.write_conf(text=http_conf_text(srv, servers('no-such-dir')))
    mark = srv.mark()
    srv.signal(signal.SIGHUP)
    m = srv.wait_log(r'reload failed[^\n]*', mark)
    log = srv.log_text()[mark:]
    expect('preforkd.conf:' in log and 'no-such-dir' in log,
           'the error does not name the file:line and the root: %r'
           % log[-600:])
    r = get(srv, '/')
    expect(r.status == 200 and r.body == b'new root\n', 'after the failed '
           'reload: %r' % r)
    expect(srv.workers() == before, 'workers changed by a failed reload')
    return m.group(0)[-110:]


def main():
    t = Test('test_http_robust')
    srv = http_server(t, 'rob', servers())
    build(srv)
    if not t.check('server starts', srv.start):
        t.finish()
    for _ in range(6):          # every worker past its first request
        get(srv, '/a.txt')
    workers = srv.workers()
    mark = srv.mark()
    fds = {}

    def baseline():
        # Idle workers: wait until two looks 0.1s apart agree.
        last = [None]

        def settled():
            now = worker_fds(srv)
            same, last[0] = now == last[0], now
            return same
        wait_until(settled, T(5), interval=0.1)
        fds.update(last[0])
        expect(set(fds) == set(workers), 'no fd counts: %s' % fds)
        return 'fds %s' % fds
    t.check('baseline descriptor counts', baseline)
    t.check('clients reset mid-download (SO_LINGER 0)', reset_mid_response,
            srv)
    t.check('a slow reader gets the whole file', slow_reader, srv)
    t.check('garbage bytes: 4xx/5xx and close', garbage, srv)
    t.check('a 1 MB header line: 431 and close', megabyte_header, srv)
    t.check('50 bad requests of 13 kinds', bad_batch, srv)
    t.check('no descriptor leaked in the workers', no_fd_leak, srv, fds)

    def same_workers():
        no_worker_trouble(srv, mark)
        expect(srv.workers() == workers, 'workers changed: %s -> %s'
               % (workers, srv.workers()))
        bad = [w for w in workers if not alive(w)]
        expect(not bad, 'workers gone: %s' % bad)
    t.check('the same workers serve on, none died or was killed',
            same_workers)
    t.check('abusive clients are not logged as failures', quiet_error_log,
            srv, mark)
    t.check('a client that never reads is dropped after timeout',
            stalled_reader, srv)
    t.check('requests during a reload all succeed', requests_during_reload,
            srv)
    t.check('a download in progress completes across a reload',
            download_across_reload, srv)
    t.check('SIGHUP with a new root serves it', reload_new_root, srv)
    t.check('a reload to a missing root fails, old config serves',
            reload_bad_root, srv)
    t.check('timeout < keepalive/header-timeout: the waits are not killed',
            waits_not_killed, t)
    t.finish()


if __name__ == '__main__':
    main()

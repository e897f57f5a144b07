#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The watchdog knows the handler's own deadlines: `timeout` ends a worker
busy on a response that makes no progress, while waits for a request
(keepalive-timeout, header-timeout) are the handler's and may be longer.
A retiring worker ends an idle keep-alive wait itself, so a short
shutdown-timeout kills nobody; and a generation that serves survives
workers that fail their start (a docroot briefly missing)."""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, conn_inode, expect, run,
                     socket_inodes, wait_until, write_file)
from test_http_util import (HttpClient, expect_status, get, make_tree,
                            request_bytes)

BIG = 64 * 1024 * 1024


def plain_conf(srv, body):
    """A config with nothing but what the test names (no harness
    defaults such as timeout = 60)."""
    write_file(srv.conf, 'pidfile = "%s"\nerror-log = "%s"\n'
               'log-level = "debug"\n%s' % (srv.pidfile, srv.log, body))


def worker_of(srv, sock):
    """The worker holding the server side of sock."""
    port = sock.getsockname()[1]
    inode = wait_until(lambda: conn_inode(srv.port('www'), port), T(5))
    expect(inode, 'no server-side socket for the connection')
    found = wait_until(lambda: [w for w in srv.workers()
                                if inode in socket_inodes(w)], T(5))
    expect(found, 'no worker holds the connection')
    return found[0], inode


def timeout_alone(t):
    srv = t.server('alone')
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': 'alpha\n',
                                              'big.bin': b'\0' * BIG})
    plain_conf(srv, 'server www {\n  listen = "127.0.0.1:0"\n'
               '  timeout = 2\n  workers = 3\n'
               '  http {\n    root = "root"\n  }\n}\n')
    rc, out, err = run([BINARY, '-t', '-f', srv.conf])
    expect(rc == 0, '`timeout = 2` alone refused: %s' % err.strip())
    srv.start()
    srv.addrs['www'] = srv.addrs.get('www')
    notes = []

    # An idle keep-alive client (keepalive-timeout 5 by default) outlives
    # `timeout`: its wait is the handler's.
    idle = HttpClient(srv)
    try:
        expect_status(idle.request('/a.txt'), 200, 'first request')
        idle_worker, _ = worker_of(srv, idle.sock)
        stalled = HttpClient(srv)
        stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.send(request_bytes('/big.bin'))
        stalled_worker, inode = worker_of(srv, stalled.sock)
        slow = HttpClient(srv)
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.send(request_bytes('/big.bin'))
        slow_worker, _ = worker_of(srv, slow.sock)
        start = time.monotonic()
        got = 0
        released_at = None

        def stalled_released():
            return not any(inode in socket_inodes(w) for w in srv.workers())
        # The slow reader reads a little every 0.2 s: progress.
        # Real seconds, not stretched: the idle client must stay within
        # its keepalive-timeout (5) while passing `timeout` (2).
        while time.monotonic() - start < 3.5:
            slow.sock.settimeout(T(5))
            chunk = slow.sock.recv(2048)
            expect(chunk, 'the slow but progressing download was closed '
                   'after %d bytes, %.1fs' % (got, time.monotonic() - start))
            got += len(chunk)
            if released_at is None and stalled_released():
                released_at = time.monotonic() - start
                notes.append('stalled released after %.1fs' % released_at)
            time.sleep(0.2)     # pacing the slow reader, not a wait
        # 3.5 s idle: past `timeout`, within keepalive-timeout.
        expect_status(idle.request('/a.txt'), 200, 'keep-alive request '
                      'after %.1fs idle' % (time.monotonic() - start))
        expect(alive(idle_worker), 'the idle keep-alive worker died')
        expect(wait_until(stalled_released, T(4)),
               'a stalled download still held after %.1fs (timeout = 2)'
               % (time.monotonic() - start))
        took = time.monotonic() - start
        expect(took >= 1.5, 'the stalled download ended after %.1fs, '
               'before timeout = 2' % took)
        expect(alive(slow_worker), 'the slow download\'s worker died')
        slow.close()
        stalled.reset()
    finally:
        idle.close()
    killed = srv.find(r'worker (\d+) busy[^\n]*killed')
    expect(all(int(k.group(1)) == stalled_worker for k in killed),
           'killed a worker that was not stalled: %s'
           % [k.group(0) for k in killed])
    srv.stop()
    return '%s; slow reader read %d bytes' % ('; '.join(notes) or
                                               'stalled released', got)


def retiring_keepalive(t):
    srv = t.server('retire', shutdown_timeout=1)
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': 'alpha\n'})
    plain_conf(srv, 'shutdown-timeout = 1\nserver www {\n'
               '  listen = "127.0.0.1:0"\n  workers = 1\n'
               '  http {\n    root = "root"\n    keepalive-timeout = 30\n'
               '  }\n}\n')
    srv.start()
    c = HttpClient(srv)
    try:
        expect_status(c.request('/a.txt'), 200, 'first request')
        old = srv.workers()
        mark = srv.mark()
        start = time.monotonic()
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation 2 serving', mark)
        expect(c.closed(T(5)), 'the idle keep-alive connection of a '
               'retiring worker is still open after %.1fs'
               % (time.monotonic() - start))
        took = time.monotonic() - start
        srv.wait_workers(1, gone=old)
    finally:
        c.close()
    killed = srv.find(r'still running after shutdown-timeout', mark)
    expect(not killed, 'a retiring idle keep-alive worker was killed: %s'
           % [k.group(0) for k in killed])
    expect_status(get(srv, '/a.txt'), 200, 'after the reload')
    srv.stop()
    return 'closed by the worker after %.1fs' % took


def root_renamed(t):
    srv = t.server('deploy')
    root = os.path.join(srv.dir, 'root')
    make_tree(root, {'a.txt': 'alpha\n'})
    # Every worker serves one connection: new workers start all the time.
    plain_conf(srv, 'server www {\n  listen = "127.0.0.1:0"\n'
               '  workers = 2\n  max-requests = 1\n'
               '  http {\n    root = "root"\n  }\n}\n')
    srv.start()
    expect_status(get(srv, '/a.txt'), 200, 'before')
    mark = srv.mark()
    os.rename(root, root + '.away')
    try:
        # Workers that already run keep their (renamed) root; each request
        # recycles one, and its successor cannot open the root.  Requests
        # may now wait in the queue: their answers do not matter.
        clients = []
        for _ in range(3):
            c = HttpClient(srv)
            c.send(request_bytes('/a.txt', headers={'Connection': 'close'}))
            clients.append(c)
        srv.wait_log(r'exited with status 78 \(fatal\)', mark)
    finally:
        os.rename(root + '.away', root)
    start = time.monotonic()
    for c in clients:
        c.close()
    ok = wait_until(lambda: len(srv.workers()) == 2, T(20))
    expect(ok, 'no workers %.1fs after the root came back: %s'
           % (time.monotonic() - start, srv.workers()))
    for _ in range(4):
        expect_status(get(srv, '/a.txt'), 200, 'after the root came back')
    expect(not srv.find(r'not respawning', mark),
           'the master gave up respawning a serving generation')
    srv.stop()
    return 'serving again %.1fs after the root came back' % (
        time.monotonic() - start)


def main():
    t = Test('test_watchdog')
    t.check('timeout = 2 alone: valid; a stalled download ends after '
            'about 2 s, a slow one and an idle keep-alive client live',
            timeout_alone, t)
    t.check('shutdown-timeout < keepalive-timeout: a retiring idle '
            'keep-alive worker closes and exits, nobody is killed',
            retiring_keepalive, t)
    t.check('a docroot renamed away and back: workers come back without '
            'a reload', root_renamed, t)
    t.finish()


if __name__ == '__main__':
    main()

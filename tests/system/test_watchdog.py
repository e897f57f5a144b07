#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Supervision.  The watchdog knows the handler's own deadlines: `timeout` ends a worker
busy on a response that makes no progress, while waits for a request
(keepalive-timeout, header-timeout) are the handler's and may be longer.
A retiring worker ends an idle keep-alive wait itself, so a short
shutdown-timeout kills nobody; and a generation that serves survives
workers that fail their start (a docroot briefly missing).  TTIN is
capped by the total of all pools."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, conn_inode, expect, read_file, run,
                     socket_inodes, wait_until, write_file)
from test_http_util import (HttpClient, expect_status, get, make_tree,
                            request_bytes)

BIG = 64 * 1024 * 1024


def plain_conf(srv, body):
    """A config with nothing but what the test names (no harness
    defaults such as timeout = 60)."""
    write_file(srv.conf, 'pidfile = "%s"\nerror-log = "%s"\n'
               'log-level = "debug"\n%s' % (srv.pidfile, srv.log, body))


def read_some(client, got):
    client.sock.settimeout(T(5))
    chunk = client.sock.recv(65536)
    expect(chunk, 'the slow but progressing download was closed after %d '
           'bytes' % got)
    return len(chunk)


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
    # `timeout`: its wait is the handler's.  Only cheap calls while it
    # idles: the idle time must pass `timeout` and stay within 5 s.
    idle = stalled = slow = None
    try:
        stalled = HttpClient(srv)
        stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.send(request_bytes('/big.bin'))
        stalled_start = time.monotonic()
        port = stalled.sock.getsockname()[1]
        inode = wait_until(lambda: conn_inode(srv.port('www'), port), T(5))
        expect(inode, 'no server-side socket for the stalled download')

        def stalled_released():
            return not any(inode in socket_inodes(w) for w in srv.workers())
        idle = HttpClient(srv)
        expect_status(idle.request('/a.txt'), 200, 'first request')
        idle_start = time.monotonic()
        slow = HttpClient(srv)
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.send(request_bytes('/big.bin'))
        got = 0
        early = None
        # The slow reader reads 64 KiB every 0.1 s: slow, but the worker
        # makes progress.  Real seconds, not stretched, for the idle
        # client's sake.
        while time.monotonic() - idle_start < 3.2:
            got += read_some(slow, got)
            # One look, while the stalled download is 1..1.5 s old (on a
            # loaded host that moment may pass unseen: then no look).
            age = time.monotonic() - stalled_start
            if early is None and 1.0 < age < 1.5:
                early = stalled_released()
            time.sleep(0.1)     # pacing the slow reader, not a wait
        idled = time.monotonic() - idle_start
        expect_status(idle.request('/a.txt'), 200, 'keep-alive request '
                      'after %.1fs idle (timeout = 2)' % idled)
        # The stalled download: ended after about 2 s, not before.
        expect(early is not True, 'the stalled download was ended within '
               '1.5s (timeout = 2)')
        expect(wait_until(stalled_released, T(6)),
               'a stalled download still held after %.1fs (timeout = 2)'
               % (time.monotonic() - idle_start))
        # And the slow one goes on, well past `timeout`.
        more = time.monotonic()
        while time.monotonic() - more < 2.5:
            got += read_some(slow, got)
            time.sleep(0.1)     # pacing the slow reader, not a wait
    finally:
        for c in (idle, stalled, slow):
            if c is not None:
                c.close()
    killed = srv.find(r'worker (\d+) busy[^\n]*killed')
    expect(len(killed) <= 1, 'killed more than the stalled worker: %s'
           % [k.group(0) for k in killed])
    srv.stop()
    return 'idle keep-alive client served after %.1fs; slow reader read ' \
        '%d bytes; %s' % (idled, got, 'stalled worker killed' if killed
                          else 'stalled connection closed by its worker')


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


def idle_then_busy(t):
    """A worker idle for longer than timeout takes a connection: its idle
    time is not busy time.  The worker that takes its server's last idle
    place marks itself busy and wakes the master; strace holds it for
    0.6 s right after that wake-up (the eventfd write, its only write()
    without an access log), so the master looks at it then, every time.
    It used to see it busy since it went idle, and kill it."""
    expect(shutil.which('strace'), 'strace not found: install strace')
    root = os.path.join(t.dir, 'idle-root')
    make_tree(root, {'a.txt': 'alpha\n'})
    srv = t.server('idle')
    plain_conf(srv, 'server www {\n  listen = "127.0.0.1:0"\n'
               '  workers = 1\n  timeout = 2\n'
               '  http {\n    root = "%s"\n  }\n}\n' % root)
    srv.start()
    worker = srv.workers()[0]
    out = os.path.join(srv.dir, 'strace.out')
    err = open(os.path.join(srv.dir, 'strace.err'), 'w+')
    tracer = subprocess.Popen(
        ['strace', '-o', out, '-p', str(worker), '-e', 'trace=write',
         '-e', 'inject=write:delay_exit=600000'],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        def attached():
            err.seek(0)
            return 'attached' in err.read() or tracer.poll() is not None
        expect(wait_until(attached, T(10)) and tracer.poll() is None,
               'strace did not attach to worker %d' % worker)
        mark = srv.mark()
        time.sleep(2.5)         # idle past timeout
        r = get(srv, '/a.txt')
        expect_status(r, 200, 'the first request after 2.5 s idle')
    finally:
        if tracer.poll() is None:
            tracer.send_signal(signal.SIGINT)
        tracer.wait(T(10))
        err.close()
    delayed = [l for l in (read_file(out) or '').splitlines()
               if 'DELAYED' in l]
    expect(delayed, 'strace delayed no write(): the wake-up was not held '
           '(%s)' % (read_file(out) or '')[:300])
    killed = srv.find(r'busy for \d+s without progress', mark)
    expect(not killed, 'killed: %s' % [k.group(0) for k in killed])
    expect(srv.workers() == [worker], 'worker %d replaced by %s'
           % (worker, srv.workers()))
    srv.stop()
    return 'served; the master looked during the hold: %s' % delayed[0]


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
        srv.wait_log(r'exited with status 78 \(fatal: open\(', mark)
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


def ttin_total_cap(t):
    """The scoreboard holds two generations of at most 2048 workers: a
    TTIN that would take the servers past that together is refused."""
    srv = t.server('ttin', servers=[
        dict(name='big', workers=1, max_workers=1024, min_spare=0,
             max_spare=1),
        dict(name='big2', workers=1, max_workers=1023, min_spare=0,
             max_spare=1),
        dict(name='small', workers=1)])
    srv.start()
    mark = srv.mark()
    srv.signal(signal.SIGTTIN)
    srv.wait_log(r'SIGTTIN refused: the servers together may have at most '
                 r'2048 workers', mark)
    expect(not srv.find(r'server small: pool size 2', mark),
           'the fixed pool grew past the total')
    mark = srv.mark()
    srv.signal(signal.SIGTTOU)
    srv.wait_log(r'server big: idle workers', mark)
    srv.stop()


def main():
    t = Test('test_watchdog')
    t.check('timeout = 2 alone: valid; a stalled download ends after '
            'about 2 s, a slow one and an idle keep-alive client live',
            timeout_alone, t)
    t.check('shutdown-timeout < keepalive-timeout: a retiring idle '
            'keep-alive worker closes and exits, nobody is killed',
            retiring_keepalive, t)
    t.check('a worker idle past timeout takes a connection: not killed as '
            'busy', idle_then_busy, t)
    t.check('a docroot renamed away and back: workers come back without '
            'a reload', root_renamed, t)
    t.check('SIGTTIN past 2048 workers in all is refused and logged',
            ttin_total_cap, t)
    t.finish()


if __name__ == '__main__':
    main()

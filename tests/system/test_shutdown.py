# SPDX-License-Identifier: BSD-2-Clause
"""Shutdown: QUIT is graceful, TERM is fast (and a reload it abandons is
not said to serve on), a killed master leaves no workers behind,
shutdown-timeout bounds a graceful stop."""
import os
import re
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Failure, Test, alive, closed_by_peer, conn_inode,
                     connect, echo_once, expect, kill, port_refuses, roundtrip,
                     socket_inodes, wait_until)
from test_reload_requests import signal_while_starting

LIMIT = 2   # shutdown-timeout of the server whose client never closes


def quit_graceful(srv):
    port = srv.port()
    with connect(srv.addr()) as s:
        expect(roundtrip(s, b'before QUIT') == b'before QUIT', 'no echo')
        srv.signal(signal.SIGQUIT)
        expect(wait_until(lambda: port_refuses(port), T(10)),
               'port %d still accepts connections %gs after QUIT'
               % (port, T(10)))
        expect(srv.running(), 'master exited under a connected client')
        for i in range(3):
            got = roundtrip(s, b'after QUIT %d' % i)
            expect(got == b'after QUIT %d' % i, 'echo after QUIT: %r' % got)
        expect(srv.running(), 'master exited under a connected client')
        expect(os.path.exists(srv.pidfile), 'pidfile removed too early')
        expect(len(srv.workers()) == 1, 'workers after QUIT with one client: '
               '%s' % srv.workers())
    rc = srv.wait_exit(T(10))
    expect(rc is not None, 'master still runs %gs after its last client '
           'closed' % T(10))
    expect(rc == 0, 'master exited with status %s' % rc)
    expect(not os.path.exists(srv.pidfile), 'pidfile not removed')
    expect(wait_until(lambda: not srv.leftovers(), T(5)),
           'left running: %s' % srv.leftovers())


def term_fast(srv):
    with connect(srv.addr()) as s:
        expect(roundtrip(s, b'before TERM') == b'before TERM', 'no echo')
        w = srv.workers()
        start = time.monotonic()
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(T(5))
        expect(rc is not None, 'master still runs %gs after TERM' % T(5))
        expect(rc == 0, 'master exited with status %s' % rc)
        expect(closed_by_peer(s, T(5)), 'the client connection stays open')
        took = time.monotonic() - start
    expect(wait_until(lambda: not any(alive(p) for p in w), T(5)),
           'workers still alive: %s' % [p for p in w if alive(p)])
    expect(not os.path.exists(srv.pidfile), 'pidfile not removed')
    return 'all gone in %.2fs' % took


def master_killed(srv):
    port = srv.port()
    echo_once(srv.addr(), b'before kill -9')
    w = srv.wait_workers(2)
    os.kill(srv.master, signal.SIGKILL)
    gone = wait_until(lambda: not any(alive(p) for p in w), T(5))
    expect(gone, 'orphaned workers still alive %gs after kill -9 of the '
           'master: %s' % (T(5), [p for p in w if alive(p)]))
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', port))
        s.listen(1)
    except OSError as e:
        raise Failure('bind to port %d after the master died: %s'
                      % (port, e))
    finally:
        s.close()
    srv.wait_exit(T(5))


def restart_after_kill(srv):
    # The stale pidfile of the killed master does not block a new one.
    port = srv.port()
    srv.write_conf(servers=[dict(listen='127.0.0.1:%d' % port)])
    srv.start()
    echo_once(srv.addr(), b'restarted')
    srv.stop()


def quit_timeout(srv):
    """Each worker (3 of server echo, 2 of echo1) holds a client that
    never closes: killed at shutdown-timeout, and said in one line per
    server, not one per worker (a reload under slow downloads kills
    hundreds at once), though one replaced worker of echo has mixed the
    two servers' workers in the master's table."""
    first = srv.workers()
    kill(first[0], signal.SIGKILL)
    srv.wait_workers(5, gone=[first[0]])
    mark = srv.mark()
    others = [connect(srv.addr()) for _ in range(2)]
    others += [connect(srv.addr('echo1')) for _ in range(2)]
    with connect(srv.addr()) as s:
        expect(roundtrip(s, b'never closes') == b'never closes', 'no echo')
        for o in others:
            expect(roundtrip(o, b'nor I') == b'nor I', 'no echo')
        w = srv.workers()
        start = time.monotonic()
        srv.signal(signal.SIGQUIT)
        rc = srv.wait_exit(T(LIMIT + 10))
        took = time.monotonic() - start
        expect(rc is not None, 'master still runs %gs after QUIT with '
               'shutdown-timeout = %d' % (T(LIMIT + 10), LIMIT))
        expect(rc == 0, 'master exited with status %s' % rc)
        expect(took >= LIMIT - 0.5, 'master exited after %.2fs, before '
               'shutdown-timeout = %d' % (took, LIMIT))
        expect(closed_by_peer(s, T(5)), 'the client connection stays open')
    for o in others:
        o.close()
    expect(wait_until(lambda: not any(alive(p) for p in w), T(5)),
           'workers still alive: %s' % [p for p in w if alive(p)])
    expect(not os.path.exists(srv.pidfile), 'pidfile not removed')
    lines = sorted(m.group(0) for m in srv.find(
        r'server \S+: .*still running after shutdown-timeout: killed.*',
        mark))
    want = [r'server echo: 3 workers still running after shutdown-timeout: '
            r'killed \(\d+ \d+ \d+\)$',
            r'server echo1: 2 workers still running after shutdown-timeout: '
            r'killed \(\d+ \d+\)$']
    expect(len(lines) == 2 and all(any(re.match(p, l) for l in lines)
                                   for p in want),
           'the kills were logged as %s' % lines)
    return 'exited after %.2fs' % took


def no_limit(srv):
    """shutdown-timeout = 0: no limit, as Apache's GracefulShutdownTimeout
    0.  A reload and a QUIT leave a connected client alone, however long;
    the master exits once it has closed."""
    with connect(srv.addr()) as s:
        expect(roundtrip(s, b'first') == b'first', 'no echo')
        mark = srv.mark()
        old = srv.workers()
        holder = serving(srv, old, s)
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation 2 serving', since=mark)
        idle = [p for p in old if p != holder]
        expect(wait_until(lambda: not any(alive(p) for p in idle), T(10)),
               'idle old workers still run: %s' % idle)
        time.sleep(1.5)
        got = roundtrip(s, b'after reload')
        expect(got == b'after reload', 'echo %.1fs after a reload: %r'
               % (1.5, got))
        killed = srv.find(r'still running after shutdown-timeout', mark)
        expect(not killed, 'killed: %s' % [m.group(0) for m in killed])
        srv.signal(signal.SIGQUIT)
        time.sleep(1.5)
        expect(srv.running(), 'master exited under a connected client')
        got = roundtrip(s, b'after QUIT')
        expect(got == b'after QUIT', 'echo %.1fs after QUIT: %r'
               % (1.5, got))
    rc = srv.wait_exit(T(10))
    expect(rc == 0, 'master exit status %s once the client closed' % rc)
    return 'served 1.5 s after a reload and after QUIT'


def term_during_reload(srv):
    """TERM while a reload starts abandons it, and its requester is told
    that the master is shutting down: not that the old generation keeps
    serving, since the master leaves at once."""
    req, mark = signal_while_starting(srv, signal.SIGTERM, 'term')
    rc, out, err = req.result(T(20))
    expect(rc == 1 and out == '' and err ==
           'preforkd: reload failed: the master is shutting down\n',
           '-s reload: %s %r %r' % (rc, out, err))
    rc = srv.wait_exit(T(10))
    expect(rc == 0, 'master exit %r' % rc)
    srv.wait_log(r'reload failed: the master is shutting down\n', mark)
    expect(not srv.find(r'keeps serving|generation 2 serving', mark),
           'the log says something serves on:\n%s' % srv.log_text()[mark:])


def serving(srv, workers, sock):
    """Which of workers holds sock's connection (None if none does)."""
    port = sock.getsockname()[1]
    inode = wait_until(lambda: conn_inode(srv.port(), port), T(5))
    for p in workers:
        if inode in socket_inodes(p):
            return p
    return None


def main():
    t = Test('test_shutdown')
    srv = t.server('quit', shutdown_timeout=30)
    if t.check('server starts (QUIT)', srv.start):
        t.check('QUIT: in-flight client served to its end, new ones '
                'refused, then exit 0', quit_graceful, srv)

    srv = t.server('term', shutdown_timeout=30)
    if t.check('server starts (TERM)', srv.start):
        t.check('TERM with a connected client: everything exits promptly',
                term_fast, srv)

    srv = t.server('reload', servers=[dict(workers=1)])
    if t.check('server starts (TERM during a reload)', srv.start):
        t.check('TERM while a reload starts: -s reload says the master is '
                'shutting down, nothing about serving on',
                term_during_reload, srv)

    srv = t.server('kill9')
    if t.check('server starts (kill -9)', srv.start):
        if t.check('kill -9 of the master: workers gone within 5 s, port '
                   'free', master_killed, srv):
            t.check('a new master starts on the same port and pidfile',
                    restart_after_kill, srv)

    srv = t.server('limit', servers=[dict(workers=3), dict(workers=2)],
                   shutdown_timeout=LIMIT)
    if t.check('server starts (shutdown-timeout = %d)' % LIMIT, srv.start):
        t.check('QUIT with a client that never closes: exit after '
                'shutdown-timeout', quit_timeout, srv)

    srv = t.server('nolimit', shutdown_timeout=0)
    if t.check('server starts (shutdown-timeout = 0)', srv.start):
        t.check('shutdown-timeout = 0: reload and QUIT leave a connected '
                'client alone; exit once it closes', no_limit, srv)
    t.finish()


if __name__ == '__main__':
    main()

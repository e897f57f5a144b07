# SPDX-License-Identifier: BSD-2-Clause
"""Listen address forms: IPv6, dual-stack "*", 0.0.0.0, unix sockets."""
import atexit
import os
import shutil
import socket
import stat
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Failure, Test, echo_once, expect,
                     listening_inodes, run, socket_inodes, wait_until)


def started(srv, listen, logged):
    srv.write_conf(servers=[dict(listen=listen)])
    srv.start()
    a = srv.addrs.get('echo', '')
    expect(a.startswith(logged), 'logged "listening on %s", expected %s...'
           % (a, logged))
    return 'listening on %s' % a


def ipv6(srv):
    fam, sa = srv.addr()
    expect(fam == socket.AF_INET6 and sa[0] == '::1', 'address %r' % (sa,))
    echo_once((fam, sa), b'over IPv6')


def dual_stack(srv):
    port = srv.port()
    echo_once((socket.AF_INET, ('127.0.0.1', port)), b'over IPv4')
    echo_once((socket.AF_INET6, ('::1', port)), b'over IPv6')
    # One server, one listening socket, serving both families.
    mine = socket_inodes(srv.master) & listening_inodes(port)
    expect(len(mine) == 1, 'master listens on port %d with %d sockets'
           % (port, len(mine)))


def ipv4_any(srv):
    echo_once((socket.AF_INET, ('127.0.0.1', srv.port())), b'any')


def stale_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()       # the file stays: a stale socket
    st = os.lstat(path)
    expect(stat.S_ISSOCK(st.st_mode), 'no stale socket made')
    try:
        echo_once((socket.AF_UNIX, path), b'x')
        raise Failure('the stale socket accepts connections')
    except ConnectionRefusedError:
        pass
    return st.st_ino, st.st_ctime_ns


def unix_start(srv, path):
    stale = stale_socket(path)
    srv.write_conf(servers=[dict(listen='unix:' + path)])
    srv.start()
    expect(srv.addrs.get('echo') == 'unix:' + path,
           'logged "listening on %s"' % srv.addrs.get('echo'))
    st = os.lstat(path)
    expect(stat.S_ISSOCK(st.st_mode), '%s is not a socket' % path)
    expect((st.st_ino, st.st_ctime_ns) != stale,
           'the stale socket file was not replaced')


def unix_echo(srv, path):
    echo_once((socket.AF_UNIX, path), b'over AF_UNIX')
    echo_once((socket.AF_UNIX, path), os.urandom(100000))
    mode = stat.S_IMODE(os.lstat(path).st_mode)
    expect(mode == 0o666, 'socket mode %o, want 666 (any local user may '
           'connect, as nginx has it)' % mode)


def live_full_socket(t, path):
    """A live server on the path whose backlog is full: the start fails
    at once, the path left alone (the old probe waited in connect())."""
    held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    held.bind(path)
    held.listen(0)
    fillers = []
    try:
        for _ in range(3):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(path)
            except (BlockingIOError, OSError):
                pass
            fillers.append(c)
        srv = t.server('full')
        srv.write_conf(servers=[dict(listen='unix:' + path)])
        began = time.monotonic()
        rc, out, err = run([BINARY, '-n', '-f', srv.conf], timeout=T(10))
        took = time.monotonic() - began
        expect(rc == 1 and 'bind(unix:%s): Address already in use' % path
               in err, 'start beside a live, full socket: exit %s, %r'
               % (rc, err))
        st = os.lstat(path)
        expect(stat.S_ISSOCK(st.st_mode), 'the live socket file was removed')
        return 'refused in %.2fs' % took
    finally:
        for c in fillers:
            c.close()
        held.close()
        os.unlink(path)


def unix_removed(srv, path):
    srv.stop()
    expect(wait_until(lambda: not os.path.lexists(path), T(5)),
           '%s still exists after shutdown' % path)


def main():
    t = Test('test_addresses')

    srv = t.server('v6')
    if t.check('"[::1]:0" starts', started, srv, '[::1]:0', '[::1]:'):
        t.check('"[::1]:0" serves over IPv6', ipv6, srv)
        t.check('"[::1]:0" stops', srv.stop)

    srv = t.server('dual')
    if t.check('"*:0" starts', started, srv, '*:0', '*:'):
        t.check('"*:0" serves 127.0.0.1 and ::1 on one port', dual_stack,
                srv)
        t.check('"*:0" stops', srv.stop)

    srv = t.server('any4')
    if t.check('"0.0.0.0:0" starts', started, srv, '0.0.0.0:0', '0.0.0.0:'):
        t.check('"0.0.0.0:0" serves 127.0.0.1', ipv4_any, srv)
        t.check('"0.0.0.0:0" stops', srv.stop)

    srv = t.server('unix')
    path = os.path.join(srv.dir, 'echo.sock')
    if len(path) >= 100:    # sun_path is 108 bytes: a deep build dir
        short = tempfile.mkdtemp(prefix='preforkd.')
        atexit.register(shutil.rmtree, short, True)
        path = os.path.join(short, 'echo.sock')
    if t.check('unix socket: a stale socket file is replaced at start-up',
               unix_start, srv, path):
        t.check('unix socket serves over AF_UNIX', unix_echo, srv, path)
        t.check('unix socket file removed on shutdown', unix_removed, srv,
                path)
    t.check('a live unix socket with a full backlog: the start fails at '
            'once, the file stays', live_full_socket, t, path)
    t.finish()


if __name__ == '__main__':
    main()

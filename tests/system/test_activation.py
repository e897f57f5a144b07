# SPDX-License-Identifier: BSD-2-Clause
"""Socket activation (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES), driven by
systemd-socket-activate, which needs no running systemd: it listens,
and on the first connection execs preforkd with the sockets as fds 3...

The master adopts each passed socket for the server whose listen address
it has (matched with getsockname, not by position: the sockets are passed
in the opposite order of the servers), binds the other servers' itself,
and refuses to start when a
passed socket is the address of no server, naming it.  Checked in the
foreground and as a daemon (whose fork changes its pid after LISTEN_PID
was checked), for TCP, a dual-stack "*:port" and a unix socket, whose
file, systemd's, is left in place at shutdown."""
import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, echo_once, expect, read_file,
                     wait_until)

TOOL = shutil.which('systemd-socket-activate')


def free_port(family=socket.AF_INET, host='127.0.0.1'):
    """A port the kernel just gave out; systemd-socket-activate binds it."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def unix_path(srv, name):
    path = os.path.join(srv.dir, name)
    if len(path) >= 100:    # sun_path is 108 bytes: a deep build dir
        short = tempfile.mkdtemp(prefix='preforkd.')
        atexit.register(shutil.rmtree, short, True)
        path = os.path.join(short, name)
    return path


def activate_argv(listens, names):
    argv = [TOOL]
    for a in listens:
        argv += ['-l', a]
    argv += ['--fdname=' + ':'.join(names)]
    # It passes on only the variables it is told to.
    for var in ('ASAN_OPTIONS', 'UBSAN_OPTIONS'):
        if var in os.environ:
            argv += ['-E', var]
    return argv


def connects(family, addr):
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(T(2))
            s.connect(addr)
            return True
    except OSError:
        return False


def wait_listening(family, addr):
    # The probe's connection is what makes it exec preforkd.
    expect(wait_until(lambda: connects(family, addr), T(10)),
           'systemd-socket-activate does not listen on %s' % (addr,))


def tool_present():
    expect(TOOL is not None, 'systemd-socket-activate not found: install '
           'the systemd package (Debian) to test socket activation')


def foreground(srv):
    tool_present()
    tcp, sock = free_port(), unix_path(srv, 'act.sock')
    srv.write_conf(servers=[
        dict(name='web', listen='127.0.0.1:%d' % tcp),
        dict(name='uds', listen='unix:' + sock, workers=1),
        dict(name='own', listen='127.0.0.1:0', workers=1)])
    # Sockets in the opposite order of the servers: matched by address.
    srv.start(ready=False, wrapper=activate_argv(
        [sock, '127.0.0.1:%d' % tcp], ['u', 'w']))
    wait_listening(socket.AF_INET, ('127.0.0.1', tcp))
    srv.wait_ready()
    srv.wait_log(r'server web: adopted 127\.0\.0\.1:%d from LISTEN_FDS '
                 r'fd 4 \(w\)' % tcp)
    srv.wait_log(r'server uds: adopted unix:%s from LISTEN_FDS fd 3 \(u\)'
                 % sock)
    expect(not srv.find(r'server own: adopted'), 'server own adopted a '
           'socket')
    echo_once((socket.AF_INET, ('127.0.0.1', tcp)), b'activated tcp')
    echo_once((socket.AF_UNIX, sock), b'activated unix')
    echo_once(srv.addr('own'), b'bound by preforkd')
    srv.stop()
    expect(os.path.exists(sock), 'the activated unix socket file %s was '
           'removed: it is systemd\'s' % sock)


def dual_stack_daemon(srv):
    tool_present()
    port = free_port(socket.AF_INET6, '::')
    srv.write_conf(servers=[dict(listen='*:%d' % port)])
    srv.start_mark = srv.mark()
    argv = activate_argv(['%d' % port], ['any']) + [BINARY, '-f', srv.conf]
    with open(os.path.join(srv.dir, 'stderr'), 'wb') as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=err, stderr=err, cwd=srv.dir)
    srv.seen.add(proc.pid)
    wait_listening(socket.AF_INET, ('127.0.0.1', port))
    try:
        rc = proc.wait(T(30))
    except subprocess.TimeoutExpired:
        raise AssertionError('the daemon start did not return')
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, srv.stderr()))
    pid = read_file(srv.pidfile)
    expect(pid and pid.strip().isdigit() and int(pid) != proc.pid,
           'pidfile %r: the master forked away from %d' % (pid, proc.pid))
    srv.master = int(pid)
    srv.seen.add(srv.master)
    srv.parse_addrs()
    srv.wait_log(r'server echo: adopted \*:%d from LISTEN_FDS fd 3 \(any\)'
                 % port)
    echo_once((socket.AF_INET, ('127.0.0.1', port)), b'over IPv4')
    echo_once((socket.AF_INET6, ('::1', port)), b'over IPv6')
    srv.stop()


def mismatch(srv, near=False):
    """near: a server listens on another address of the passed socket's
    port, which that socket holds: still the mistake named, not a failed
    bind."""
    tool_present()
    stray = free_port()
    srv.write_conf(servers=[dict(listen='0.0.0.0:%d' % stray) if near
                            else {}])
    srv.start(ready=False, wrapper=activate_argv(
        ['127.0.0.1:%d' % stray], ['stray']))
    # preforkd may refuse and close the socket before a probe returns.
    wait_until(lambda: srv.proc.poll() is not None or
               connects(socket.AF_INET, ('127.0.0.1', stray)), T(10))
    rc = srv.wait_exit(T(20))
    expect(rc == 1, 'master exited %s, not 1' % rc)
    want = ('LISTEN_FDS fd 3 (stray): inherited socket 127.0.0.1:%d is the '
            'listen address of no server' % stray)
    expect(want in srv.log_text() and want in srv.stderr(), 'no "%s" in '
           'the log and on stderr: %s' % (want, srv.stderr()[-400:]))


def upgraded(srv):
    """An activated unix socket passed on by an upgrade is still systemd's:
    the new master leaves its file in place when it stops."""
    tool_present()
    sock = unix_path(srv, 'up.sock')
    srv.write_conf(servers=[dict(name='uds', listen='unix:' + sock)])
    srv.start(ready=False, wrapper=activate_argv([sock], ['u']))
    wait_listening(socket.AF_UNIX, sock)
    srv.wait_ready()
    old = srv.master
    rc, out, err = srv.ctl('upgrade', timeout=T(90))
    expect(rc == 0, '-s upgrade exited %s: %s' % (rc, err))
    new = int(read_file(srv.pidfile))
    srv.seen.add(new)
    expect(new != old and srv.wait_exit(T(15)) is not None, 'the old '
           'master %d still runs' % old)
    srv.proc, srv.master = None, new
    echo_once((socket.AF_UNIX, sock), b'after the upgrade')
    srv.stop()
    expect(os.path.exists(sock), 'the new master removed systemd\'s unix '
           'socket file %s' % sock)


def main():
    t = Test('test_activation')
    t.check('TCP and unix sockets adopted by address, one bound, '
            'systemd\'s socket file kept', foreground,
            t.server('fg'))
    t.check('a daemon adopts a dual-stack "*:port" after its fork',
            dual_stack_daemon, t.server('daemon'))
    t.check('a passed socket no server uses: exit 1, naming it', mismatch,
            t.server('mismatch'))
    t.check('the same beside a server on another address of its port',
            mismatch, t.server('near'), True)
    t.check('after an upgrade the new master still leaves systemd\'s '
            'socket file', upgraded, t.server('upgraded'))
    t.finish()


if __name__ == '__main__':
    main()

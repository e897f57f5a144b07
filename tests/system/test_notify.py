# SPDX-License-Identifier: BSD-2-Clause
"""sd_notify: with NOTIFY_SOCKET set, the master tells the service
manager, in order: READY=1 with MAINPID= (its own pid, as it forked away
from the invoker) and STATUS=; on HUP RELOADING=1 with MONOTONIC_USEC=,
then READY=1 once the new generation serves; a failed reload ends in
READY=1 with a STATUS= saying why; STOPPING=1 on shutdown.  The test
stands a datagram socket at NOTIFY_SOCKET (a path, and an abstract name)
and reads what arrives."""
import os
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NotifySocket, T, Test, echo_once, expect, read_file


def with_manager(address, env_value, fn):
    with NotifySocket(address, env_value) as manager:
        return fn(manager)


def lifecycle(srv, manager):
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    i = manager.wait('READY', '1')
    ready = manager.messages[i]
    expect(ready.get('MAINPID') == str(srv.master),
           'READY=1 says MAINPID=%s, the master is %d'
           % (ready.get('MAINPID'), srv.master))
    expect('2 workers' in ready.get('STATUS', ''),
           'READY=1 without a STATUS= naming the workers: %s' % ready)
    expect(not [m for m in manager.messages[:i] if 'READY' in m],
           'an earlier READY=1: %s' % manager.messages[:i])
    echo_once(srv.addr(), b'ready')

    # A good reload: RELOADING=1 with a fresh MONOTONIC_USEC, then READY=1.
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    rc, out, err = srv.ctl('reload', timeout=T(30))
    expect(rc == 0, '-s reload exited %s: %s' % (rc, err))
    r = manager.wait('RELOADING', '1', after=i + 1)
    usec = int(manager.messages[r].get('MONOTONIC_USEC', '0'))
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    expect(before <= usec <= after, 'MONOTONIC_USEC=%d not within the '
           'reload (%d..%d)' % (usec, before, after))
    i = manager.wait('READY', '1', after=r + 1)
    # Its own workers, not the old ones still finishing.
    expect('generation 2 serving: 2 workers' in
           manager.messages[i].get('STATUS', ''),
           'READY=1 after the reload: %s' % manager.messages[i])

    # A failed reload (a port taken by another server): READY=1 with why.
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(('127.0.0.1', 0))
    blocker.listen(1)
    taken = blocker.getsockname()[1]
    try:
        srv.write_conf(servers=[{}, {'listen': '127.0.0.1:%d' % taken}])
        srv.signal(signal.SIGHUP)
        r = manager.wait('RELOADING', '1', after=i + 1)
        i = manager.wait('READY', '1', after=r + 1)
    finally:
        blocker.close()
    status = manager.messages[i].get('STATUS', '')
    expect('reload failed' in status and str(taken) in status,
           'READY=1 after a failed reload: %s' % manager.messages[i])
    echo_once(srv.addr(), b'still serving')

    srv.stop(signal.SIGQUIT)
    s = manager.wait('STOPPING', '1', after=i + 1)
    expect(not [m for m in manager.messages[s + 1:] if 'READY' in m],
           'READY=1 after STOPPING=1: %s' % manager.messages[s + 1:])


def upgrade(srv, manager):
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    i = manager.wait('READY', '1')
    old = srv.master
    rc, out, err = srv.ctl('upgrade', timeout=T(90))
    expect(rc == 0, '-s upgrade exited %s: %s' % (rc, err))
    new = int(read_file(srv.pidfile))
    srv.master = new
    srv.seen.add(new)
    # The new master is ready, without claiming the main pid yet...
    r = manager.wait('READY', '1', after=i + 1)
    expect('MAINPID' not in manager.messages[r], 'the new master claimed '
           'MAINPID while the old one ran: %s' % manager.messages[r])
    # ...which the old master hands it as it leaves, instead of STOPPING.
    h = manager.wait('MAINPID', str(new), after=r + 1)
    between = manager.messages[i + 1:h + 1]
    expect(not [m for m in between if 'STOPPING' in m], 'STOPPING=1 during '
           'the upgrade from %d to %d: %s' % (old, new, between))
    echo_once(srv.addr(), b'upgraded')
    srv.stop(signal.SIGQUIT)
    manager.wait('STOPPING', '1', after=h + 1)


def abstract(srv):
    name = '\0preforkd-test-notify-%d' % os.getpid()
    return with_manager(name, '@' + name[1:], lambda m: _foreground(srv, m))


def _foreground(srv, manager):
    srv.start()
    i = manager.wait('READY', '1')
    expect(manager.messages[i].get('MAINPID') == str(srv.master),
           'MAINPID=%s, master %d' % (manager.messages[i].get('MAINPID'),
                                      srv.master))
    srv.stop()
    manager.wait('STOPPING', '1', after=i + 1)


DRAIN = 4


def drain_stops(srv, manager):
    """With drain-delay, QUIT begins the stop for systemd at once
    (STOPPING=1, STATUS= saying it drains), not drain-delay later."""
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    i = manager.wait('READY', '1')
    start = time.monotonic()
    srv.signal(signal.SIGQUIT)
    s = manager.wait('STOPPING', '1', after=i + 1, timeout=T(DRAIN + 10))
    took = time.monotonic() - start
    expect(took < DRAIN / 2.0, 'STOPPING=1 %.1fs after QUIT, with '
           'drain-delay %d s' % (took, DRAIN))
    expect('draining' in manager.messages[s].get('STATUS', ''),
           'STOPPING=1 without a STATUS= saying it drains: %s'
           % manager.messages[s])
    expect(srv.running(), 'the master exited at once: no drain')
    srv.stop(signal.SIGQUIT, timeout=T(DRAIN + 10))
    return 'STOPPING=1 after %.2fs' % took


def start_notifying(srv, value):
    """Starts srv in the foreground with NOTIFY_SOCKET=value."""
    old = os.environ.get('NOTIFY_SOCKET')
    os.environ['NOTIFY_SOCKET'] = value
    try:
        srv.start()
    finally:
        if old is None:
            del os.environ['NOTIFY_SOCKET']
        else:
            os.environ['NOTIFY_SOCKET'] = old


def silent(srv):
    """A NOTIFY_SOCKET nobody listens on costs one log line, no more."""
    # Nobody binds it: a path (or, in a deep build dir, an abstract name).
    start_notifying(srv, address(srv)[1])
    echo_once(srv.addr(), b'serving anyway')
    srv.signal(signal.SIGHUP)
    srv.wait_log(r'reload: generation 2 serving')
    expect(len(srv.find(r'sendto\(NOTIFY_SOCKET\)')) == 1,
           'sendto(NOTIFY_SOCKET) errors logged %d times, not once'
           % len(srv.find(r'sendto\(NOTIFY_SOCKET\)')))
    srv.stop()


def not_reading(srv):
    """A manager that stops reading: its socket's queue fills up (ten
    datagrams by default), and the master used to block in sendto() for
    good, deaf to signals.  It now waits a second at most for room for a
    change of state, drops a STATUS= line, logs it once, and reloads and
    stops as usual."""
    bind_to, value = address(srv)
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(bind_to)
    # Full from the start, whatever net.unix.max_dgram_qlen allows.
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    filler.setblocking(False)
    queued = 0
    try:
        while queued < 100000:
            filler.sendto(b'STATUS=filler', bind_to)
            queued += 1
    except BlockingIOError:
        pass
    filler.close()
    expect(queued < 100000, 'the manager\'s queue never filled')
    start_notifying(srv, value)
    try:
        for gen in range(2, 6):
            mark = srv.mark()
            rc, out, err = srv.ctl('reload', timeout=T(20))
            expect(rc == 0, 'reload %d with the manager\'s queue full: exit '
                   '%s, %r' % (gen, rc, err.strip()[-200:]))
        echo_once(srv.addr(), b'serving anyway')
        expect(len(srv.find(r'sendto\(NOTIFY_SOCKET\)')) == 1,
               'sendto(NOTIFY_SOCKET) errors logged %d times, not once'
               % len(srv.find(r'sendto\(NOTIFY_SOCKET\)')))
        srv.stop()
    finally:
        sink.close()
        if bind_to[0] != '\0':
            os.unlink(bind_to)


def address(srv):
    """(bind address, NOTIFY_SOCKET value) of a socket in srv's dir."""
    path = os.path.join(srv.dir, 'notify.sock')
    if len(path) < 100:
        return path, path
    # sun_path holds 108 bytes: a deep build dir gets an abstract name.
    path = '\0preforkd-test-notify-%s-%d' % (srv.name, os.getpid())
    return path, '@' + path[1:]


def main():
    t = Test('test_notify')
    srv = t.server('daemon')
    t.check('READY+MAINPID, RELOADING+MONOTONIC_USEC, READY, failed '
            'reload READY+STATUS, STOPPING, in order',
            with_manager, *address(srv), lambda m: lifecycle(srv, m))
    up = t.server('upgrade')
    t.check('-s upgrade: the new master says READY=1 without MAINPID=, '
            'the old one hands it MAINPID= instead of STOPPING=1',
            with_manager, *address(up), lambda m: upgrade(up, m))
    dr = t.server('drain', drain_delay=DRAIN)
    t.check('QUIT with drain-delay: STOPPING=1 when the drain begins',
            with_manager, *address(dr), lambda m: drain_stops(dr, m))
    t.check('an abstract NOTIFY_SOCKET (@name), in the foreground',
            abstract, t.server('abstract'))
    t.check('a manager that stops reading: messages dropped, the master '
            'serves on', not_reading, t.server('notreading'))
    t.check('an unreachable NOTIFY_SOCKET is logged once, serving goes on',
            silent, t.server('silent'))
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""Supervision: a killed worker is replaced, TTIN/TTOU resize the pool, a
worker stuck without progress for `timeout` is killed and replaced."""
import os
import re
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Test, alive, conn_inode, connect, echo_once, expect,
                     socket_inodes, tcp_state, wait_until)

STUCK = 2   # timeout of the server used for the no-progress check


def kill9_worker(srv):
    before = srv.wait_workers(3)
    victim = before[0]
    mark = srv.mark()
    os.kill(victim, signal.SIGKILL)
    srv.wait_log(r'server echo: worker %d exited on signal 9' % victim,
                 since=mark)
    after = srv.wait_workers(3, gone=[victim])
    new = set(after) - set(before)
    expect(len(new) == 1, 'expected one new worker, pool %s -> %s'
           % (before, after))
    # The child runs before the master, back from fork(), logs its start.
    expect(wait_until(lambda: new <= set(srv.started(since=mark)), T(5)),
           'replacement %s not logged as started' % sorted(new))
    echo_once(srv.addr(), b'after kill -9')
    return 'worker %d replaced by %d' % (victim, new.pop())


def quit_worker(srv):
    """SIGQUIT sent to a worker by hand: it finishes and leaves, is
    replaced, and is logged as stopped from outside: not as recycled
    with a reason it never gave, and counted as no restart."""
    def restarts():
        rc, out, err = srv.ctl('status')
        expect(rc == 0, '-s status: exit %d, %s' % (rc, err.strip()))
        return re.findall(r'restarts: .*', out)
    counted = restarts()
    before = srv.wait_workers(3)
    victim = before[0]
    mark = srv.mark()
    os.kill(victim, signal.SIGQUIT)
    srv.wait_log(r'server echo: worker %d stopped by a signal from outside '
                 r'the master' % victim, since=mark)
    srv.wait_workers(3, gone=[victim])
    expect(not srv.find(r'worker %d recycled' % victim, mark),
           'the stopped worker was logged as recycled')
    expect(restarts() == counted, 'restarts counted: %s -> %s'
           % (counted, restarts()))
    echo_once(srv.addr(), b'after QUIT')


def status_max_workers(srv):
    rc, out, err = srv.ctl('status')
    expect(rc == 0, '-s status: exit %d, %s' % (rc, err.strip()))
    m = re.search(r'max-workers (\d+)\n', out)
    expect(m, 'no max-workers in -s status: %r' % out[:300])
    return int(m.group(1))


def ttin(srv):
    mark = srv.mark()
    srv.signal(signal.SIGTTIN)
    srv.wait_log(r'server echo: pool size 4', since=mark)
    srv.wait_workers(4)
    size = status_max_workers(srv)
    expect(size == 4, 'the status page says max-workers %d after TTIN' % size)


def ttou(srv):
    mark = srv.mark()
    srv.signal(signal.SIGTTOU)
    srv.wait_log(r'server echo: pool size 3', since=mark)
    srv.wait_workers(3)
    size = status_max_workers(srv)
    expect(size == 3, 'the status page says max-workers %d after TTOU' % size)
    echo_once(srv.addr(), b'after TTOU')


def stuck_worker(srv):
    """A client sends but never reads: the echo worker blocks on a full
    socket buffer and makes no progress."""
    pool = srv.wait_workers(2)
    mark = srv.mark()
    start = time.monotonic()    # the worker's last progress is after this
    s = connect(srv.addr())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # Which worker serves us, found before the handler's own timeout can
    # end the connection (filling it may take a while on a loaded host).
    def serving():
        inode = conn_inode(srv.port(), s.getsockname()[1])
        return [p for p in pool if inode and inode in socket_inodes(p)]
    busy = wait_until(serving, T(5))
    expect(len(busy) == 1, 'cannot tell which worker serves the client '
           '(workers %s)' % pool)
    busy = busy[0]
    s.setblocking(False)
    chunk = b'z' * 65536
    deadline = time.monotonic() + T(10)
    filled = False
    while time.monotonic() < deadline:          # fill both directions
        try:
            s.send(chunk)
        except BlockingIOError:
            # Full for now; the worker may still be draining: try again
            # until sends stay refused for a while.
            if wait_until(lambda: _can_send(s), 0.5):
                continue
            filled = True
            break
    expect(filled or tcp_state(s) != 1,
           'could not fill the connection within %gs' % T(10))
    pattern = (r'server echo: worker %d busy for \d+s without progress: '
               r'killed' % busy)
    ended = wait_until(lambda: srv.find(pattern, mark) or
                       not alive(busy) or tcp_state(s) != 1, T(STUCK + 15))
    took = time.monotonic() - start
    expect(ended, 'worker %d still busy and the connection still open %gs '
           'after it stopped making progress (timeout = %d)'
           % (busy, T(STUCK + 15), STUCK))
    killed = wait_until(lambda: srv.find(pattern, mark), T(3))
    if killed:
        srv.wait_log(r'server echo: worker %d exited on signal 9' % busy,
                     since=mark)
        after = srv.wait_workers(2, gone=[busy])
        expect(set(after) != set(pool), 'pool did not change')
        how = 'killed by the master after %.1fs' % took
    else:
        after = srv.wait_workers(2)
        how = ('closed by the echo handler after %.1fs (its own write '
               'timeout), worker %d %s' % (took, busy, 'lives on'
                                           if alive(busy) else 'exited'))
    expect(took >= STUCK - 0.5, 'ended after %.1fs, before timeout = %d'
           % (took, STUCK))
    s.close()
    echo_once(srv.addr(), b'after the stuck worker')
    return how


def stopped_worker_killed(srv):
    """A worker that cannot make progress at all (here: SIGSTOPped in the
    middle of a connection, as one blocked in the kernel would be) is
    killed by the master after `timeout` and replaced."""
    before = srv.workers()
    c = connect(srv.addr())
    try:
        c.sendall(b'ping')
        expect(c.recv(4) == b'ping', 'no echo before the stop')
        # The worker serving c is the one whose socket holds the connection.
        inode = conn_inode(srv.port(), c.getsockname()[1])
        busy = [w for w in before if inode in socket_inodes(w)]
        expect(len(busy) == 1, 'cannot tell which worker serves the client: '
               '%s' % busy)
        mark = srv.mark()
        os.kill(busy[0], signal.SIGSTOP)
        m = srv.wait_log(r'worker %d busy for (\d+)s without progress: '
                         r'killed' % busy[0], since=mark, timeout=T(STUCK + 8))
        expect(int(m.group(1)) >= STUCK, 'killed after %ss, timeout is %ds'
               % (m.group(1), STUCK))
        expect(wait_until(lambda: not alive(busy[0]), T(5)),
               'worker %d still alive' % busy[0])
        srv.wait_workers(len(before), gone=busy)
    finally:
        c.close()
    echo_once(srv.addr(), b'after the stopped worker')
    return 'killed after %ss' % m.group(1)


def _can_send(s):
    try:
        s.send(b'z' * 4096)
        return True
    except BlockingIOError:
        return False


def main():
    t = Test('test_supervise')
    srv = t.server('pool', servers=[dict(workers=3)])
    if t.check('server starts', srv.start):
        t.check('kill -9 of a worker: logged and replaced', kill9_worker,
                srv)
        t.check('QUIT to a worker: replaced, not counted as a restart',
                quit_worker, srv)
        t.check('TTIN: one worker more', ttin, srv)
        t.check('TTOU: one worker fewer', ttou, srv)
        t.check('stops cleanly', srv.stop)

    srv = t.server('stuck', servers=[dict(workers=2, timeout=STUCK)])
    if t.check('server with timeout = %d starts' % STUCK, srv.start):
        t.check('worker without progress for timeout: connection ended, '
                'pool full', stuck_worker, srv)
        t.check('a stopped busy worker is killed by the master and replaced',
                stopped_worker_killed, srv)
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""Reload (HUP and -s reload): same master, same listening socket, a new
generation of workers; bad configs and failing binds leave the old one."""
import os
import re
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, conn_inode, connect, echo_once,
                     expect, fd_count, fd_targets, http_get, line_of,
                     listening_inodes, read_file, roundtrip, run,
                     socket_inodes, wait_until, write_file)
from test_http_util import http_server, rewrite_conf
import sockdiag

GEN_RE = r'reload: generation (\d+) serving'


def listener(srv):
    mine = socket_inodes(srv.master) & listening_inodes(srv.port())
    expect(len(mine) == 1, 'master holds %d listening sockets on port %d'
           % (len(mine), srv.port()))
    return mine.pop()


def serving_worker(srv, sock):
    """The worker holding the server side of sock's connection."""
    inode = wait_until(lambda: conn_inode(srv.port(), sock.getsockname()[1]),
                       T(5))
    holders = wait_until(lambda: [p for p in srv.workers()
                                  if inode in socket_inodes(p)], T(5))
    expect(len(holders) == 1, 'connection (inode %s) held by %s'
           % (inode, holders))
    return holders[0]


def hup_changed(srv):
    pid, inode, old = srv.master, listener(srv), srv.wait_workers(2)
    mark = srv.mark()
    srv.write_conf(servers=[dict(workers=3)])
    srv.signal(signal.SIGHUP)
    gen = int(srv.wait_log(GEN_RE, since=mark).group(1))
    expect(gen == 2, 'reload logged generation %d, not 2' % gen)
    new = srv.wait_workers(3, gone=old)
    started = srv.started(since=mark)
    expect(all(started.get(p) == 2 for p in new), 'workers %s, logged as '
           'started: %s' % (new, started))
    expect(srv.master == pid and alive(pid), 'the master changed')
    expect(listener(srv) == inode, 'the listening socket changed')
    echo_once(srv.addr(), b'generation 2')


def hup_broken(srv):
    old = srv.wait_workers(3)
    mark = srv.mark()
    text = srv.conf_text(servers=[dict(workers=0)])
    srv.write_conf(text)
    srv.signal(signal.SIGHUP)
    line = line_of(text, 'workers = 0')
    srv.wait_log(re.escape(srv.conf) + r':%d: ' % line, since=mark)
    srv.wait_log(r'reload failed', since=mark)
    expect(srv.workers() == old, 'workers changed: %s -> %s'
           % (old, srv.workers()))
    for _ in range(5):
        echo_once(srv.addr(), b'old generation')
    expect(srv.workers() == old, 'workers changed after serving: %s -> %s'
           % (old, srv.workers()))
    expect(not srv.find(GEN_RE, mark), 'a failed reload logged "serving"')


def ctl_good(srv):
    old = srv.workers()
    inode = listener(srv)
    mark = srv.mark()
    srv.write_conf(servers=[dict(workers=2)])
    rc, out, err = srv.ctl('reload')
    expect(rc == 0, '-s reload exited %s: %s' % (rc, err.strip()))
    expect(srv.find(GEN_RE, mark), 'no "reload: generation N serving" '
           'logged before -s reload returned')
    started = srv.started(since=mark)
    # The very next connection is served by the new generation.
    with connect(srv.addr()) as s:
        expect(roundtrip(s, b'new') == b'new', 'no echo')
        w = serving_worker(srv, s)
        expect(w in started, 'served by worker %d of the old generation '
               '(new: %s)' % (w, sorted(started)))
    srv.wait_workers(2, gone=old)
    expect(listener(srv) == inode, 'the listening socket changed')


def ctl_broken(srv):
    old = srv.workers()
    mark = srv.mark()
    text = srv.conf_text(servers=[dict(workers=2, handler='gopher')])
    srv.write_conf(text)
    rc, out, err = srv.ctl('reload')
    srv.write_conf(servers=[dict(workers=2)])
    expect(rc == 1, '-s reload of a bad config exited %s' % rc)
    line = line_of(text, 'gopher')
    expect('%s:%d:' % (srv.conf, line) in err, 'stderr lacks %s:%d: %r'
           % (srv.conf, line, err))
    expect(not srv.find(r'reload', mark), 'the master was signalled: %s'
           % srv.log_text()[mark:])
    expect(srv.workers() == old, 'workers changed')
    echo_once(srv.addr(), b'untouched')


def fifo_config(srv):
    """The config path turned into a fifo: -t and a reload refuse it at
    once (an open() waiting for a writer would stop the master), and the
    master goes on serving and reloading."""
    old = srv.workers()
    saved = read_file(srv.conf)
    fifo = srv.conf + '.fifo'
    os.mkfifo(fifo)
    os.rename(fifo, srv.conf)
    try:
        rc, out, err = run([BINARY, '-t', '-f', srv.conf], timeout=T(10))
        expect(rc == 1 and '%s: cannot open: not a regular file' % srv.conf
               in err, '-t of a fifo: exit %s, %r' % (rc, err))
        mark = srv.mark()
        srv.signal(signal.SIGHUP)
        srv.wait_log(re.escape(srv.conf) + r': cannot open: not a regular '
                     r'file', since=mark)
        srv.wait_log(r'reload failed', since=mark)
    finally:
        os.unlink(srv.conf)
        write_file(srv.conf, saved)
    expect(srv.workers() == old, 'workers changed')
    rc, out, err = srv.ctl('reload')
    expect(rc == 0, '-s reload after the fifo: exit %s, %s' % (rc, err))
    echo_once(srv.addr(), b'after the fifo')


def listen_in_use(srv):
    old = srv.workers()
    blocker = socket.socket()
    try:
        blocker.bind(('127.0.0.1', 0))
        blocker.listen(1)
        busy = blocker.getsockname()[1]
        mark = srv.mark()
        srv.write_conf(servers=[dict(workers=2,
                                     listen='127.0.0.1:%d' % busy)])
        rc, out, err = srv.ctl('reload')
        srv.write_conf(servers=[dict(workers=2)])
        expect(rc != 0, '-s reload to an address in use exited 0')
        expect('Address already in use' in err, 'stderr lacks the reason: '
               '%r' % err)
        srv.wait_log(r'reload failed', since=mark)
        expect(srv.log_text().find('127.0.0.1:%d' % busy, mark) >= 0,
               'the failing address is not logged')
    finally:
        blocker.close()
    expect(srv.workers() == old, 'workers changed')
    echo_once(srv.addr(), b'old address')


def good_after_failed(srv):
    """Regression: a reload that failed after keeping one listener must
    not break the next reload of that unchanged listener."""
    srv.start()
    two = [dict(workers=1), dict(workers=1)]
    blocker = socket.socket()
    try:
        blocker.bind(('127.0.0.1', 0))
        blocker.listen(1)
        busy = blocker.getsockname()[1]
        srv.write_conf(servers=[two[0], dict(workers=1,
                                            listen='127.0.0.1:%d' % busy)])
        rc, out, err = srv.ctl('reload')
        expect(rc != 0, 'reload to a busy address exited 0')
    finally:
        blocker.close()
    srv.write_conf(servers=two)
    for attempt in range(3):
        rc, out, err = srv.ctl('reload', timeout=T(30))
        expect(rc == 0, 'reload %d after the failed one exited %s: %s'
               % (attempt + 1, rc, err.strip()))
    echo_once(srv.addr('echo'), b'first')
    echo_once(srv.addr('echo1'), b'second')
    srv.stop()


def backlog_after_failed(srv):
    """A kept socket takes a reload's backlog once the new generation
    serves: a reload that fails, on a bind or on workers that never
    start, leaves the old one, as it leaves everything else."""
    srv.start()
    port = srv.port()
    expect(sockdiag.listen_backlog(port) == 7, 'backlog %s at the start, '
           'not 7' % sockdiag.listen_backlog(port))
    blocker = socket.socket()
    try:
        blocker.bind(('127.0.0.1', 0))
        blocker.listen(1)
        busy = blocker.getsockname()[1]
        srv.write_conf(servers=[dict(workers=1, backlog=3), dict(
            workers=1, listen='127.0.0.1:%d' % busy)])
        rc, out, err = srv.ctl('reload', timeout=T(30))
        expect(rc != 0, 'reload to a busy address exited 0')
    finally:
        blocker.close()
    expect(sockdiag.listen_backlog(port) == 7, 'backlog %s after the '
           'failed reload, not 7' % sockdiag.listen_backlog(port))
    srv.write_conf(servers=[dict(workers=1, backlog=3)])
    rc, out, err = srv.ctl('reload', timeout=T(30))
    expect(rc == 0, 'reload exited %s: %s' % (rc, err.strip()))
    expect(sockdiag.listen_backlog(port) == 3, 'backlog %s after the '
           'reload, not 3' % sockdiag.listen_backlog(port))
    echo_once(srv.addr(), b'backlog')
    srv.stop()


def backlog_capped_warned(srv):
    """A backlog above net.core.somaxconn is capped by the kernel without
    a word: the master says so at the start and at each reload, and says
    nothing of a backlog within it."""
    with open('/proc/sys/net/core/somaxconn') as f:
        somaxconn = int(f.read())
    if somaxconn >= 65535:
        return 'not run: net.core.somaxconn is 65535 or more'
    warning = r'server echo: backlog %d is capped at %d by net.core.somaxconn'
    srv.write_conf(servers=[dict(workers=1, backlog=somaxconn + 1)])
    srv.start()
    srv.wait_log(warning % (somaxconn + 1, somaxconn))
    expect(sockdiag.listen_backlog(srv.port()) == somaxconn,
           'backlog %s, not the cap %d' % (sockdiag.listen_backlog(
               srv.port()), somaxconn))
    mark = srv.mark()
    srv.write_conf(servers=[dict(workers=1, backlog=somaxconn)])
    rc, out, err = srv.ctl('reload', timeout=T(30))
    expect(rc == 0, 'reload exited %s: %s' % (rc, err.strip()))
    srv.wait_log(r'reload: generation 2 serving', mark)
    expect(not srv.find(r'is capped at', mark), 'a backlog of exactly '
           'somaxconn was warned about')
    srv.stop()


def overlap_named(srv):
    """127.0.0.1:P -> 0.0.0.0:P: the bind fails on the master's own
    socket, which the error names, with what to do."""
    port = srv.port()
    srv.write_conf(servers=[dict(workers=2, listen='0.0.0.0:%d' % port)])
    rc, out, err = srv.ctl('reload', timeout=T(30))
    srv.write_conf(servers=[dict(workers=2)])
    want = ('bind(0.0.0.0:%d): Address already in use (this master\'s '
            'listener 127.0.0.1:%d holds it' % (port, port))
    expect(rc == 1 and want in err and 'restart' in err,
           '-s reload to 0.0.0.0:%d: exit %s, %r' % (port, rc, err.strip()))
    echo_once(srv.addr(), b'still on 127.0.0.1')


def same_port_written(srv):
    inode = listener(srv)
    srv.write_conf(servers=[dict(workers=2,
                                 listen='127.0.0.1:%d' % srv.port())])
    rc, out, err = srv.ctl('reload')
    expect(rc == 0, '-s reload exited %s: %s' % (rc, err.strip()))
    expect(listener(srv) == inode, 'the listening socket changed')
    echo_once(srv.addr(), b'same port')


def many_reloads(srv, n=20):
    seen = set(srv.workers())
    for i in range(n):
        rc, out, err = srv.ctl('reload')
        expect(rc == 0, 'reload %d exited %s: %s' % (i + 1, rc, err.strip()))
        seen |= set(srv.workers())
        if i == 0:
            now = srv.wait_workers(2, gone=seen - set(srv.workers()))
            first = fd_count(srv.master)
    now = srv.wait_workers(2, gone=seen - set(srv.workers()))
    expect(not (set(now) & (seen - set(now))), 'old workers remain')
    fds = fd_count(srv.master)
    expect(fds == first, 'master fds: %d after the first reload, %d after '
           '%d' % (first, fds, n))
    echo_once(srv.addr(), b'after %d reloads' % n)
    return 'master holds %d fds' % fds


def no_refusal_under_load(srv, reloads=5, limit=5000):
    """Connections made while reloading are never refused or reset."""
    stop = threading.Event()
    errors, count = [], [0]

    def client():
        while not stop.is_set() and count[0] < limit:
            try:
                echo_once(srv.addr(), b'load %d' % count[0])
            except Exception as e:
                errors.append('%s: %s' % (type(e).__name__, e))
            count[0] += 1

    th = threading.Thread(target=client, daemon=True)
    th.start()
    try:
        for i in range(reloads):
            rc, out, err = srv.ctl('reload')
            expect(rc == 0, 'reload %d exited %s: %s' % (i + 1, rc,
                                                        err.strip()))
    finally:
        stop.set()
        th.join(T(30))
    expect(not errors, '%d of %d connections failed during %d reloads: %s'
           % (len(errors), count[0], reloads, errors[:3]))
    return '%d connections during %d reloads' % (count[0], reloads)


def client_through_reload(srv):
    with connect(srv.addr()) as s:
        expect(roundtrip(s, b'before') == b'before', 'no echo')
        w = serving_worker(srv, s)
        rc, out, err = srv.ctl('reload')
        expect(rc == 0, '-s reload exited %s: %s' % (rc, err.strip()))
        for i in range(3):
            got = roundtrip(s, b'during %d' % i)
            expect(got == b'during %d' % i, 'after the reload got %r' % got)
        expect(alive(w), 'worker %d ended under its client' % w)
        expect(w in srv.workers(), 'worker %d no longer a child' % w)
    expect(wait_until(lambda: not alive(w), T(10)),
           'old worker %d still runs after its client closed' % w)
    srv.wait_workers(2)


def idle_retired_not_killed(t):
    """Workers idle for longer than timeout, retired by reloads: each
    leaves by itself, none is killed as busy without progress or counted
    as a timeout restart."""
    srv = t.server('idle-retire', servers=[dict(workers=20, timeout=1)])
    srv.start()
    mark = srv.mark()
    for gen in (2, 3, 4):
        old = srv.wait_workers(20)
        time.sleep(1.5)         # idle past timeout
        srv.signal(signal.SIGHUP)
        srv.wait_log(GEN_RE.replace(r'(\d+)', str(gen)), since=mark,
                     timeout=T(20))
        srv.wait_workers(20, timeout=T(20), gone=old)
    killed = srv.find(r'worker \d+ busy for \d+s without progress', mark)
    expect(not killed, '%d idle workers on their way out were killed: %s'
           % (len(killed), ', '.join(m.group(0) for m in killed[:3])))
    rc, out, err = srv.ctl('status')
    expect(rc == 0 and re.search(r'restarts: crash 0, timeout 0,', out),
           'restarts counted: %s' % (re.findall(r'restarts: .*', out)
                                     or err.strip()))
    srv.stop()
    return '60 idle workers retired by 3 reloads, none killed'


def log_settings_follow(t):
    """A reload that changes error-log and log-level: the new generation's
    workers write to the new file at the new level, not the master's old
    ones (it takes them up only once they serve)."""
    root = os.path.join(t.dir, 'logs-root')
    os.makedirs(root)
    write_file(os.path.join(root, 'a.txt'), 'a\n')
    servers = [dict(name='www', http=dict(root=root))]
    srv = http_server(t, 'logs', servers, log_level='info')
    new_log = os.path.join(srv.dir, 'error2.log')
    srv.start()

    def reload(level):
        rewrite_conf(srv, servers, error_log=new_log, log_level=level)
        rc, out, err = srv.ctl('reload', timeout=T(40))
        expect(rc == 0, '-s reload exited %d: %r' % (rc, err.strip()))
        return srv.wait_workers(2)

    def root_lost_warning():
        """Moves the root away for a moment: each worker that looks logs
        a warning.  Returns the lines the new log got."""
        size = os.path.getsize(new_log)
        os.rename(root, root + '.away')
        try:
            deadline = time.monotonic() + T(3)
            while time.monotonic() < deadline:
                http_get(srv.addr('www'), '/a.txt')
                if 'still serving' in (read_file(new_log) or '')[size:]:
                    break
                time.sleep(0.1)
        finally:
            os.rename(root + '.away', root)
        return (read_file(new_log) or '')[size:]

    for pid in reload('error'):
        files = [f for f in fd_targets(pid) if f.endswith('.log')]
        expect(files == [new_log], 'worker %d of the new generation writes '
               'to %s, not %s' % (pid, files, new_log))
    old_size = os.path.getsize(srv.log)
    got = root_lost_warning()
    expect('still serving' not in got and 'still serving' not in
           (read_file(srv.log) or '')[old_size:],
           'a warning logged at log-level "error": %r' % got.strip())
    reload('warning')
    got = root_lost_warning()
    expect('still serving' in got, 'no warning in %s at log-level '
           '"warning": %r' % (new_log, got.strip()))
    srv.stop()


def main():
    t = Test('test_reload')
    srv = t.server('reload', servers=[dict(workers=2)], shutdown_timeout=30)
    if t.check('server starts', srv.start):
        t.check('HUP, workers 2 -> 3: same master and socket, new workers',
                hup_changed, srv)
        t.check('HUP with a broken config: FILE:LINE and "reload failed" '
                'logged, old workers serve', hup_broken, srv)
        t.check('-s reload: exit 0, the next connection sees the new '
                'generation', ctl_good, srv)
        t.check('-s reload with a broken config: exit 1, FILE:LINE, master '
                'untouched', ctl_broken, srv)
        t.check('a fifo as the config: -t and reload refuse it at once, '
                'the master serves on', fifo_config, srv)
        t.check('reload to an address in use fails, old address serves',
                listen_in_use, srv)
        t.check('reload to an address overlapping the master\'s own: the '
                'error names it', overlap_named, srv)
        t.check('20 reloads: pool size right, no old workers, no fd leak',
                many_reloads, srv)
        t.check('no connection refused or reset during reloads',
                no_refusal_under_load, srv)
        t.check('a client connected during a reload is served through it',
                client_through_reload, srv)
        # Last: it leaves the config with the port written out.
        t.check('reload with the bound port written out keeps the socket',
                same_port_written, srv)
    t.check('idle workers retired by reloads are not killed as timed out',
            idle_retired_not_killed, t)
    t.check('a reload changing error-log and log-level: the new workers '
            'use them', log_settings_follow, t)
    t.check('a failed reload leaves the kept socket\'s backlog as it was',
            backlog_after_failed, t.server('backlog', servers=[
                dict(workers=1, backlog=7)]))
    t.check('a backlog above net.core.somaxconn is warned about',
            backlog_capped_warned, t.server('capped'))
    t.check('a good reload after a failed one keeps working',
            good_after_failed, t.server('refail', servers=[
                dict(workers=1), dict(workers=1)]))
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""Daemon mode: readiness on return, pidfile and its lock, -s control."""
import os
import re
import select
import signal
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Failure, Test, alive, connect, echo_once,
                     expect, fd_targets, proc_stat, read_file, run,
                     wait_until, write_file)


def daemon_start(srv):
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'daemon start exited %s; stderr: %s' % (rc, err.strip()))
    # No waiting: the contract is that listeners are up once it returns.
    expect('echo' in srv.addrs, 'no "listening on" in the log when the '
           'daemon returned')
    try:
        connect(srv.addr()).close()
    except OSError as e:
        raise Failure('connect right after the daemon returned: %s' % e)
    echo_once(srv.addr(), b'daemon')


def detached(srv):
    st = proc_stat(srv.master)
    expect(st is not None and alive(srv.master), 'master %d is not running'
           % srv.master)
    expect(st[2] != os.getsid(0), 'the daemon did not leave our session')
    ours = {os.path.join(srv.dir, 'stdout'), os.path.join(srv.dir, 'stderr')}
    for fd in ('0', '1', '2'):
        target = os.readlink('/proc/%d/fd/%s' % (srv.master, fd))
        expect(target == '/dev/null', 'daemon fd %s -> %s, not /dev/null'
               % (fd, target))
    expect(not ours & set(fd_targets(srv.master)), 'daemon holds our files')


def pidfile_and_workers(srv, n):
    text = read_file(srv.pidfile)
    expect(text is not None and text.strip() == str(srv.master),
           'pidfile holds %r' % text)
    w = srv.wait_workers(n)
    for p in w:
        expect(proc_stat(p)[1] == srv.master, 'worker %d not a child of %d'
               % (p, srv.master))


def second_instance_refused(srv):
    before = srv.workers()
    rc, out, err = srv.start_daemon()
    expect(rc != 0, 'a second instance with the same pidfile exited 0')
    expect(str(srv.master) in err, 'the refusal does not name the running '
           'master %d: %r' % (srv.master, err.strip()))
    text = read_file(srv.pidfile)
    expect(text is not None and text.strip() == str(srv.master),
           'the refused instance changed the pidfile to %r' % text)
    mine = set(before) | {srv.master}
    strays = wait_until(lambda: not (set(srv.leftovers()) - mine -
                                     set(srv.workers())), T(10))
    expect(strays, 'the refused instance left processes: %s'
           % sorted(set(srv.leftovers()) - mine - set(srv.workers())))
    expect(srv.workers() == before, 'workers changed: %s -> %s'
           % (before, srv.workers()))
    echo_once(srv.addr(), b'still the first one')
    return err.strip().split('\n')[-1]


def stop_running(srv):
    w = srv.workers()
    rc, out, err = srv.ctl('stop')
    expect(rc == 0, '-s stop exited %s: %s' % (rc, err.strip()))
    expect(srv.wait_exit(T(10)), 'master still runs after -s stop')
    expect(wait_until(lambda: not os.path.exists(srv.pidfile), T(5)),
           'pidfile not removed')
    expect(wait_until(lambda: not any(alive(p) for p in w), T(5)),
           'workers still alive: %s' % [p for p in w if alive(p)])


def stop_nothing(srv):
    rc, out, err = srv.ctl('stop')
    expect(rc == 1, '-s stop without a master exited %s' % rc)
    expect(err.strip(), '-s stop without a master said nothing on stderr')
    return err.strip()


def stop_stale(srv):
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    write_file(srv.pidfile, '%d\n' % dead.pid)
    rc, out, err = srv.ctl('stop')
    expect(rc == 1, '-s stop with a stale pidfile exited %s' % rc)
    expect(err.strip(), 'no message for a stale pidfile')
    os.unlink(srv.pidfile)
    return err.strip()


def start_past_a_status_check(srv):
    """A status check (the init script's flock -s, -s status) holds a
    shared lock on the pidfile for a moment; a start at that moment used
    to fail with "another preforkd holds the pidfile".  It now waits for
    it, as long as the pid in the file is not alive; a live master's
    pidfile still refuses at once (second_instance_refused)."""
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    write_file(srv.pidfile, '%d\n' % dead.pid)
    holder = subprocess.Popen(
        [sys.executable, '-c', 'import fcntl, sys, time\n'
         'f = open(sys.argv[1])\n'
         'fcntl.flock(f, fcntl.LOCK_SH)\n'
         'print("held", flush=True)\n'
         'time.sleep(0.3)\n', srv.pidfile],
        stdout=subprocess.PIPE)
    try:
        expect(holder.stdout.readline().strip() == b'held',
               'the lock holder did not start')
        rc, out, err = srv.start_daemon()
    finally:
        holder.wait()
    expect(rc == 0, 'the start during a status check failed: exit %s, %r'
           % (rc, err.strip()))
    echo_once(srv.addr(), b'started past the check')
    rc, out, err = srv.ctl('stop')
    expect(rc == 0, '-s stop: exit %s, %r' % (rc, err.strip()))
    expect(wait_until(lambda: not srv.running(), T(10)), 'the master '
           'still runs after -s stop')


def reopen(srv):
    mark = srv.mark()
    rc, out, err = srv.ctl('reopen')
    expect(rc == 0, '-s reopen exited %s: %s' % (rc, err.strip()))
    srv.wait_log(r'reopened log files', since=mark)
    echo_once(srv.addr(), b'after reopen')


def quit_(srv):
    w = srv.workers()
    rc, out, err = srv.ctl('quit')
    expect(rc == 0, '-s quit exited %s: %s' % (rc, err.strip()))
    expect(srv.wait_exit(T(10)), 'master still runs after -s quit')
    expect(wait_until(lambda: not os.path.exists(srv.pidfile), T(5)),
           'pidfile not removed')
    expect(wait_until(lambda: not any(alive(p) for p in w), T(5)),
           'workers still alive: %s' % [p for p in w if alive(p)])


def no_inherited_fds(srv):
    """A daemon keeps no descriptor its invoker left open: whoever waits
    for EOF on a pipe it passed down must not wait for the daemon."""
    r, w = os.pipe()
    try:
        p = subprocess.run([BINARY, '-f', srv.conf], pass_fds=(w,),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=T(30), cwd=srv.dir)
        expect(p.returncode == 0, 'daemon start exited %s: %s'
               % (p.returncode, p.stderr))
        srv.master = int(open(srv.pidfile).read())
        srv.seen.add(srv.master)
        os.close(w)
        w = -1
        ready = select.select([r], [], [], T(5))[0]
        expect(ready and os.read(r, 1) == b'', 'the inherited pipe is still '
               'held open by the daemon or its workers')
    finally:
        if w != -1:
            os.close(w)
        os.close(r)
    srv.stop()


def stderr_log_warned(srv):
    """error-log = "stderr" in a daemon logs into /dev/null once it is
    ready: the start says so, on the terminal that started it."""
    srv.write_conf(error_log='stderr')
    rc, out, err = run([BINARY, '-f', srv.conf], timeout=T(30),
                       cwd=srv.dir)
    pid = read_file(srv.pidfile)
    if pid and pid.strip().isdigit():
        srv.master = int(pid)
        srv.seen.add(srv.master)
    expect(rc == 0, 'daemon start exited %s: %r' % (rc, err.strip()))
    want = 'error-log = "stderr" without -n: what is logged after ' \
           'start-up is lost'
    expect(want in err, 'no warning on stderr: %r' % err.strip())
    rc, out, err2 = srv.ctl('stop')
    expect(rc == 0, '-s stop exited %s: %r' % (rc, err2.strip()))
    expect(wait_until(lambda: not alive(srv.master), T(10)),
           'master %d still runs' % srv.master)
    return want


def closed_stdio(srv):
    """Started with descriptors 0, 1 and 2 closed (as by `<&- >&- 2>&-` or
    a careless supervisor), preforkd runs as it does with them open: the
    pidfile used to land on one of them and lose its lock when it was
    pointed at /dev/null (-s status called it stale, a second start
    removed it), and the error log went quiet or into the pidfile."""
    def closed():
        for fd in (0, 1, 2):
            os.close(fd)
    for argv, what in (([BINARY, '-f', srv.conf], 'daemon'),
                       ([BINARY, '-n', '-f', srv.conf], 'foreground')):
        mark = srv.mark()
        p = subprocess.Popen(argv, preexec_fn=closed, cwd=srv.dir)
        srv.seen.add(p.pid)
        if what == 'daemon':
            expect(p.wait(T(30)) == 0, 'daemon start exited %s'
                   % p.returncode)
        expect(wait_until(lambda: srv.find(r'ready: generation 1', mark),
                          T(20)), '%s: not ready' % what)
        srv.start_mark = mark
        srv.parse_addrs()
        srv.master = int(read_file(srv.pidfile).strip())
        srv.seen.add(srv.master)
        expect(srv.master == p.pid or what == 'daemon', 'pidfile holds %d, '
               'not %d' % (srv.master, p.pid))
        rc, out, err = srv.ctl('status')
        expect(rc == 0 and out.startswith('preforkd: master %d,'
                                          % srv.master),
               '%s: -s status exit %d, %r' % (what, rc, (err or out)[:200]))
        targets = fd_targets(srv.master)
        expect(srv.pidfile in targets, '%s: the master does not hold its '
               'pidfile: %s' % (what, targets))
        for fd in ('0', '1', '2'):
            target = os.readlink('/proc/%d/fd/%s' % (srv.master, fd))
            expect(target == '/dev/null', '%s: fd %s -> %s, not /dev/null'
                   % (what, fd, target))
        mark = srv.mark()
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation 2 serving', mark)
        echo_once(srv.addr(), b'closed stdio')
        srv.stop()
        if what == 'foreground':
            p.wait(T(10))


def main():
    t = Test('test_daemon')
    srv = t.server('d1', servers=[dict(workers=3)])
    if t.check('daemon returns 0 only once the port accepts', daemon_start,
               srv):
        t.check('daemon detached (own session, stdio on /dev/null)',
                detached, srv)
        t.check('pidfile holds the master, its children are 3 workers',
                pidfile_and_workers, srv, 3)
        t.check('second instance with the same pidfile is refused',
                second_instance_refused, srv)
        t.check('-s reopen', reopen, srv)
        t.check('-s stop stops it: exit 0, pidfile gone', stop_running, srv)
    t.check('-s stop with no master: exit 1 and a message', stop_nothing, srv)
    t.check('-s stop with a stale pidfile: exit 1 and a message', stop_stale,
            srv)

    t.check('a start while a status check holds the pidfile\'s lock',
            start_past_a_status_check, t.server('d6'))
    srv = t.server('d2')
    if t.check('daemon start (second server)', daemon_start, srv):
        t.check('-s quit stops it: exit 0, pidfile gone', quit_, srv)
    t.check('error-log = "stderr" in a daemon: the start warns',
            stderr_log_warned, t.server('d4'))
    t.check('started with stdin, stdout and stderr closed: as with them '
            'open', closed_stdio, t.server('d5'))
    t.check('descriptors left open by the invoker are closed',
            no_inherited_fds, t.server('d3'))
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""Start-up in the foreground, -V, -h, and fast shutdown by TERM and INT."""
import os
import re
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, echo_once, expect, proc_stat,
                     run, skipped, wait_until)


def version():
    rc, out, err = run([BINARY, '-V'])
    expect(rc == 0, '-V exited %s; stderr: %s' % (rc, err.strip()))
    text = out + err
    expect(re.search(r'preforkd.*\d+\.\d+', text),
           '-V printed no "preforkd <version>": %r' % text)
    return text.strip().split('\n')[0]


def usage():
    rc, out, err = run([BINARY, '-h'])
    expect(rc == 0, '-h exited %s' % rc)
    text = out + err
    expect(re.search(r'usage', text, re.I), '-h printed no usage: %r' % text)
    for flag in ('-f', '-n', '-t', '-s'):
        expect(flag in text, 'usage does not mention %s: %r' % (flag, text))


def mistyped_commands(srv):
    """An empty -f, -p or -s (an unset variable in a script), two
    different -s, or -t with -s, is a usage error (exit 2) that names the option, and
    the running master is left alone: "-s status -s stop" used to stop
    it, getopt's last one winning."""
    for args, said in ((['-f', ''], '-f needs a value'),
                       (['-p', '', '-f', srv.conf], '-p needs a value'),
                       (['-s', '', '-f', srv.conf], '-s needs a value'),
                       (['-s', 'status', '-s', 'stop', '-f', srv.conf],
                        "-s given twice: 'status' and 'stop'"),
                       # "-t -s stop" used to stop the master, unchecked.
                       (['-t', '-s', 'stop', '-f', srv.conf],
                        '-t and -s do not go together'),
                       (['-s', 'reopen', '-t', '-f', srv.conf],
                        '-t and -s do not go together')):
        rc, out, err = run([BINARY] + args, timeout=T(10))
        expect(rc == 2 and said in err, '%s: exit %s, %r'
               % (' '.join(repr(a) for a in args), rc, err.strip()))
        expect(srv.running(), 'the master is gone after %s' % args)
    rc, out, err = run([BINARY, '-s', 'status', '-s', 'status', '-f',
                        srv.conf], timeout=T(10))
    expect(rc == 0, 'the same -s twice: exit %s, %r' % (rc, err.strip()))


def foreground_start(srv, n):
    srv.start()
    expect(srv.running(), 'master is not running')
    pid = (open(srv.pidfile).read().strip()
           if os.path.exists(srv.pidfile) else None)
    expect(pid == str(srv.master),
           'pidfile holds %r, the foreground process is %d'
           % (pid, srv.master))
    # -n: no fork to the background, no setsid.
    expect(proc_stat(srv.master)[2] == os.getsid(0),
           'the foreground master left our session')
    srv.wait_log(r'ready: generation 1, %d workers?' % n)
    return 'port %d' % srv.port()


def workers_exist(srv, n):
    w = srv.wait_workers(n)
    for p in w:
        expect(proc_stat(p)[1] == srv.master, 'worker %d is not a child of '
               'the master %d' % (p, srv.master))
    started = srv.started()
    expect(set(w) <= set(started),
           'workers %s not logged as "worker PID started": logged %s'
           % (w, sorted(started)))
    expect(all(started[p] == 1 for p in w),
           'workers of generation %s' % started)


def echo_one_byte(srv):
    echo_once(srv.addr(), b'x')


def fast_stop(srv, sig):
    w = srv.workers()
    expect(w, 'no workers to watch')
    srv.signal(sig)
    rc = srv.wait_exit(T(5))
    expect(rc is not None, 'master still runs %gs after %s'
           % (T(5), signal.Signals(sig).name))
    expect(rc == 0, 'master exited with status %s' % rc)
    gone = wait_until(lambda: not any(alive(p) for p in w), T(5))
    expect(gone, 'workers still alive: %s' % [p for p in w if alive(p)])
    expect(not os.path.exists(srv.pidfile), 'pidfile %s not removed'
           % srv.pidfile)
    expect(not srv.leftovers(), 'left running: %s' % srv.leftovers())


def default_pidfile():
    """The compiled-in pidfile, as -h tells it."""
    rc, out, err = run([BINARY, '-h'])
    m = re.search(r'\(default (/\S+\.pid)\)', out)
    expect(rc == 0 and m, '-h names no default pidfile: %r' % out)
    return m.group(1)


def found_by_default_pidfile(srv):
    """A master started with -p and the default pidfile (as the init
    script and the systemd unit start it) is found by "-s" without -p,
    though the configuration names another pidfile; but only as the
    master of that same file."""
    default = default_pidfile()
    made = []
    d = os.path.dirname(default)
    while not os.path.isdir(d):
        made.append(d)
        d = os.path.dirname(d)
    try:
        for d in reversed(made):
            os.mkdir(d)
    except OSError as e:
        return skipped('cannot make %s: %s' % (d, e))
    master = None
    try:
        if not os.access(os.path.dirname(default), os.W_OK):
            return skipped('%s is not ours to write' % default)
        if os.path.exists(default):
            return skipped('%s exists: a master may be running' % default)
        srv.write_conf(servers=[dict(workers=1)])
        rc, out, err = run([BINARY, '-f', srv.conf, '-p', default],
                           cwd=srv.dir)
        expect(rc == 0, 'start with -p %s: exit %s, %r' % (default, rc, err))
        master = int(open(default).read())
        rc, out, err = srv.ctl('status')
        expect(rc == 0 and 'master %d' % master in out
               and ('master %d reads it with pidfile %s' % (master, default))
               in err, '-s status without -p: exit %s, %r, %r'
               % (rc, out, err))
        # Another file's "-s" does not reach it.
        other = os.path.join(srv.dir, 'other.conf')
        with open(srv.conf) as f:
            text = f.read()
        with open(other, 'w') as f:
            f.write(text)
        rc, out, err = run([BINARY, '-s', 'stop', '-f', other])
        expect(rc == 1 and 'no preforkd is running' in err and alive(master),
               '-s stop of another file: exit %s, %r' % (rc, err))
        rc, out, err = srv.ctl('stop')
        expect(rc == 0, '-s stop without -p: exit %s, %r' % (rc, err))
        expect(wait_until(lambda: not alive(master), T(10)),
               'master %d still runs after -s stop' % master)
        master = None
    finally:
        if master is not None and alive(master):
            os.kill(master, signal.SIGKILL)
            wait_until(lambda: not alive(master), T(5))
            # Killed, it left its pidfile: the next run must find none.
            if (open(default).read().strip() if os.path.exists(default)
                    else '') == str(master):
                os.unlink(default)
        wait_until(lambda: not os.path.exists(default), T(5))
        for d in made:
            try:
                os.rmdir(d)
            except OSError:
                pass


def main():
    t = Test('test_start')
    t.check('-V prints a version', version)
    t.check('-h prints usage', usage)

    srv = t.server('term', servers=[dict(workers=3)])
    if t.check('foreground start is ready and is the master',
               foreground_start, srv, 3):
        t.check('3 workers, children of the master', workers_exist, srv, 3)
        t.check('echo of one byte', echo_one_byte, srv)
        t.check('empty -f/-p/-s, or two -s: exit 2, master left alone',
                mistyped_commands, srv)
        t.check('TERM: master exits 0, workers gone, pidfile removed',
                fast_stop, srv, signal.SIGTERM)

    t.check('-s without -p finds a master started with -p and the default '
            'pidfile', found_by_default_pidfile, t.server('dflt'))

    srv = t.server('int')
    if t.check('foreground start (second instance)', foreground_start,
               srv, 2):
        t.check('echo of one byte (second instance)', echo_one_byte, srv)
        t.check('INT: master exits 0, workers gone, pidfile removed',
                fast_stop, srv, signal.SIGINT)
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""Start-up errors, -t with good and bad configs, USR1 reopen, -s errors."""
import errno
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, echo_once, expect, fd_targets,
                     line_of, read_file, run, skipped, wait_until,
                     write_file)

GOOD = '''pidfile = "preforkd.pid"
error-log = "error.log"
log-level = "info"
shutdown-timeout = 5
server echo {
  listen = "127.0.0.1:0"
  handler = "echo"
  workers = 2
  timeout = 60
  max-requests = 0
}
'''

HTTP = GOOD.replace('"echo"', '"http"').replace(
    '  max-requests = 0\n', '  max-requests = 0\n  http {\n    root = "."\n  }\n')

# Each bad config: (name, text, the marker of the line the error must name).
BAD = [
    # "" would serve the directory of the configuration file.
    ('empty root', HTTP.replace('root = "."', 'root = ""'), 'root = ""'),
    # A header of its own in every response.
    ('default-type with CR LF',
     HTTP.replace('root = "."', 'root = "."\n'
                  '    default-type = "text/plain\\r\\nX-Injected: 1"'),
     'default-type'),
    ('unknown option', GOOD.replace('  workers = 2', '  workers = 2\n'
                                    '  frobnicate = 1'), 'frobnicate'),
    ('workers = 0', GOOD.replace('workers = 2', 'workers = 0'),
     'workers = 0'),
    ('bad listen address', GOOD.replace('127.0.0.1:0', '127.0.0.1:99999'),
     '99999'),
    ('unparsable listen address', GOOD.replace('127.0.0.1:0', 'not an addr'),
     'not an addr'),
    ('unknown handler', GOOD.replace('"echo"', '"gopher"'), 'gopher'),
    # A log file is created, its directory is not: said now, not at start.
    ('error-log in a missing directory',
     GOOD.replace('"error.log"', '"no-such-dir/error.log"'), 'error-log'),
    # The start would fail: -t says it first (not for the build's default).
    ('pidfile in a missing directory',
     GOOD.replace('"preforkd.pid"', '"no-such-dir/preforkd.pid"'), 'pidfile'),
    # -t said ok; the start, or a reload, failed in bind() without a line.
    ('a unix socket in a missing directory',
     GOOD.replace('"127.0.0.1:0"', '"unix:/no-such-dir/echo.sock"'),
     'unix:'),
    ('access-log in a missing directory',
     HTTP.replace('root = "."', 'root = "."\n'
                  '    access-log = "no-such-dir/access.log"'), 'access-log'),
    # libconfuse took the string on into the next lines.
    ('a string missing its closing quote',
     GOOD.replace('"127.0.0.1:0"', '"127.0.0.1:0'), 'listen'),
    # nginx's habit: libconfuse said "no such option ';'".
    ('a ; after a value', GOOD.replace('"echo"', '"echo";'), 'handler'),
    # A fifo nobody writes would hold -t and a reload's master in open();
    # a device would feed the parser forever.
    ('mime-types a fifo', HTTP.replace('root = "."', 'root = "."\n'
                                       '    mime-types = "mime.fifo"'),
     'mime-types'),
    ('mime-types a device', HTTP.replace('root = "."', 'root = "."\n'
                                         '    mime-types = "/dev/zero"'),
     'mime-types'),
    ('error-log a directory', GOOD.replace('"error.log"', '"."'),
     'error-log'),
    ('access-log a directory',
     HTTP.replace('root = "."', 'root = "."\n    access-log = "/"'),
     'access-log'),
    ('duplicate listen address across servers',
     GOOD.replace('127.0.0.1:0', '127.0.0.1:7007') +
     'server echo2 {\n  listen = "127.0.0.1:7007"\n'
     '  handler = "echo"\n}\n', None),
    # libconfuse stopped at an empty name without a word, and the
    # (empty) configuration passed: everything after it was ignored.
    ('a stray "" before the servers',
     GOOD.replace('server echo {', '""\nserver echo {'), '""'),
    ("a stray '' inside a server", GOOD.replace("  workers = 2",
                                                "  '' = 2"), "''"),
    # libconfuse read an empty number as 0: no timeout at all.
    ('an empty number', GOOD.replace('timeout = 60', 'timeout = ""'),
     'timeout = ""'),
    ('an unset variable as a number',
     GOOD.replace('timeout = 60', 'timeout = ${PREFORKD_TEST_UNSET}'),
     'timeout = $'),
    # The second list silently replaced the first.
    ('a list given twice', GOOD.replace(
        '  workers = 2', '  workers = 2\n  proxy-allow = { "10.0.0.0/8" }\n'
        '  proxy-allow = { "0.0.0.0/0" }'), '"0.0.0.0/0"'),
    # libconfuse dropped the '*': ":0" was read.
    ('an unquoted * in listen', GOOD.replace('"127.0.0.1:0"', '*:0'),
     '*:0'),
    # What followed a NUL was never read: a file cut by a crash passed.
    ('a NUL-filled tail', GOOD.replace('}\n', '}\n' + '\0' * 64 + '\n'),
     '\0'),
    # libconfuse said "no such option 'pidfile'" of an invisible mark.
    ('a byte-order mark', '\ufeff' + GOOD, 'pidfile'),
    # libconfuse read on to the next '}': the pidfile line vanished.
    ('a ${ without its }', GOOD.replace('"error.log"', '"${LOGDIR"'),
     'error-log'),
    # The '#' began a comment: "root = /srv/www#2" served /srv/www.
    ('a # right after an unquoted value',
     GOOD.replace('timeout = 60', 'timeout = 60#s'), 'timeout = 60#s'),
    # Comments are lines too (libconfuse 3.3 miscounts them).
    ('workers = 0 after comment lines',
     '# a comment\n// another\n/* and\n   a block */\n' +
     GOOD.replace('workers = 2', 'workers = 0  # trailing'), 'workers = 0'),
]


def in_use(srv, daemon):
    blocker = socket.socket()
    try:
        blocker.bind(('127.0.0.1', 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        srv.write_conf(servers=[dict(listen='127.0.0.1:%d' % port)])
        argv = [BINARY, '-f', srv.conf] + ([] if daemon else ['-n'])
        rc, out, err = run(argv, timeout=T(20), cwd=srv.dir)
    finally:
        blocker.close()
    expect(rc != 0, 'start on a port in use exited 0')
    expect('127.0.0.1:%d' % port in err, 'stderr does not name 127.0.0.1:%d:'
           ' %r' % (port, err.strip()))
    expect('Address already in use' in err, 'stderr does not say "Address '
           'already in use": %r' % err.strip())
    where = '%s:%d: server ' % (srv.conf, line_of(read_file(srv.conf),
                                                  '127.0.0.1:%d' % port))
    expect(where in err, 'stderr does not name the listen line (%s...): %r'
           % (where, err.strip()))
    left = wait_until(lambda: not srv.leftovers(), T(5))
    expect(left, 'processes left after the failed start: %s'
           % srv.leftovers())
    expect(not os.path.exists(srv.pidfile), 'pidfile left behind')
    return [l for l in err.split('\n') if 'in use' in l][0]


def check_good(tdir):
    path = os.path.join(tdir, 'good.conf')
    write_file(path, GOOD)
    rc, out, err = run([BINARY, '-t', '-f', path])
    expect(rc == 0, '-t on a good config exited %s: %s' % (rc, err.strip()))
    expect('preforkd: configuration %s is ok' % path in out,
           'stdout lacks "preforkd: configuration %s is ok": %r'
           % (path, out))


def check_size_limits(tdir):
    """An 8 MiB comment line used to take libconfuse some 20 s (the
    blanked comment was a run of 8 Mi spaces, read in quadratic time),
    with the master frozen during a reload; a line as long outside a
    comment is refused at once; a file a little over the 16 MiB limit
    was read anyway."""
    path = os.path.join(tdir, 'long_comment.conf')
    write_file(path, '# ' + 'x' * (8 << 20) + '\n' + GOOD)
    start = time.monotonic()
    rc, out, err = run([BINARY, '-t', '-f', path], timeout=T(5))
    took = time.monotonic() - start
    expect(rc == 0, '-t exited %s: %s' % (rc, err.strip()[-200:]))
    spaces = os.path.join(tdir, 'long_line.conf')
    write_file(spaces, GOOD.replace('workers = 2', 'workers = 2' +
                                    ' ' * (8 << 20)))
    start = time.monotonic()
    rc, out, err = run([BINARY, '-t', '-f', spaces], timeout=T(5))
    want_line = '%s:%d: line longer than 65536 bytes (comments aside)' \
        % (spaces, line_of(GOOD, 'workers = 2'))
    expect(rc == 1 and want_line in err, '-t of an 8 MiB line: exit %s, '
           '%r; wanted %r' % (rc, err.strip()[-200:], want_line))
    over = os.path.join(tdir, 'over_limit.conf')
    write_file(over, GOOD + '#' * (16 << 20) + '\n')
    rc, out, err = run([BINARY, '-t', '-f', over], timeout=T(10))
    want = '%s: cannot open: it is larger than 16 MiB, the limit' % over
    expect(rc == 1 and want in err, '-t of a file over 16 MiB: exit %s, '
           '%r; wanted %r' % (rc, err.strip()[-200:], want))
    return '8 MiB comment: %.2fs | %s' % (took, want)


def check_slashes_in_paths(tdir):
    """// and /* inside an unquoted path are part of it (libconfuse reads
    them so); they used to start comments, and root lost its tail."""
    os.makedirs(os.path.join(tdir, 'www', 'site'), exist_ok=True)
    path = os.path.join(tdir, 'slashes.conf')
    write_file(path, HTTP.replace('root = "."', 'root = ./www//site\n'
                                  '    index = "index.html" // a comment'))
    rc, out, err = run([BINARY, '-t', '-f', path])
    expect(rc == 0, '-t exited %s: %r' % (rc, err.strip()))
    write_file(path, HTTP.replace('root = "."', 'root = ./www//nosuch'))
    rc, out, err = run([BINARY, '-t', '-f', path])
    want = '/www//nosuch: No such file or directory'
    expect(rc == 1 and want in err, '-t on root = ./www//nosuch exited '
           '%s: %r; wanted %r' % (rc, err.strip(), want))
    return want


def check_good_pool(tdir):
    # max-spare left out must not be blamed for exceeding max-workers.
    path = os.path.join(tdir, 'pool.conf')
    write_file(path, GOOD.replace('workers = 2',
                                  'workers = 1\n  max-workers = 2'))
    rc, out, err = run([BINARY, '-t', '-f', path])
    expect(rc == 0, '-t on workers = 1, max-workers = 2 exited %s: %s'
           % (rc, err.strip()))


def check_bad(tdir, name, text, marker):
    path = os.path.join(tdir, name.replace(' ', '_') + '.conf')
    write_file(path, text)
    line = (line_of(text, marker) if marker else
            line_of(text, 'listen', nth=2))
    rc, out, err = run([BINARY, '-t', '-f', path])
    expect(rc == 1, '-t exited %s, not 1' % rc)
    expect('is ok' not in out, 'said ok: %r' % out)
    lines = re.findall(r'^%s:(\d+): (.+)$' % re.escape(path), err, re.M)
    expect(lines, 'no "%s:LINE: message" on stderr: %r' % (path, err))
    expect(str(line) in [l for l, _ in lines],
           'expected an error at line %d, got %s' % (line, lines))
    return '; '.join('%s: %s' % l for l in lines)


def pidfile_dir_with_p(tdir):
    """-p names the pidfile the start will use: -t -p does not judge the
    file's own, whose directory may well be missing (the systemd unit
    passes -p)."""
    path = os.path.join(tdir, 'pid_elsewhere.conf')
    write_file(path, GOOD.replace('"preforkd.pid"',
                                  '"no-such-dir/preforkd.pid"'))
    rc, out, err = run([BINARY, '-t', '-f', path, '-p',
                        os.path.join(tdir, 'other.pid')])
    expect(rc == 0 and 'is ok' in out, '-t -p: exit %s, %r' % (rc,
                                                             err.strip()))


def all_errors(tdir):
    text = GOOD.replace('workers = 2', 'workers = 0').replace('"echo"',
                                                              '"gopher"')
    path = os.path.join(tdir, 'two_errors.conf')
    write_file(path, text)
    rc, out, err = run([BINARY, '-t', '-f', path])
    expect(rc == 1, '-t exited %s' % rc)
    for marker in ('workers = 0', 'gopher'):
        n = line_of(text, marker)
        expect('%s:%d:' % (path, n) in err, 'no error at line %d (%s) in %r'
               % (n, marker, err))


def reopen(srv):
    old = srv.log + '.1'
    os.rename(srv.log, old)
    mark_old = len(open(old).read())
    srv.signal(signal.SIGUSR1)
    expect(wait_until(lambda: os.path.exists(srv.log), T(10)),
           'no new %s after USR1' % srv.log)
    said = wait_until(lambda: 'reopened log files' in
                      (srv.log_text() + open(old).read()[mark_old:]), T(10))
    expect(said, 'no "reopened log files" in either log')
    srv.signal(signal.SIGTTIN)
    srv.wait_log(r'server echo: pool size 3')
    srv.wait_workers(3)
    late = open(old).read()[mark_old:]
    expect('pool size' not in late, 'the TTIN line went to the old file: %r'
           % late)
    procs = [srv.master] + srv.workers()
    held = lambda: [p for p in procs if alive(p) and old in fd_targets(p)]
    expect(wait_until(lambda: not held(), T(10)),
           'still writing to the renamed log: %s' % held())
    echo_once(srv.addr(), b'x')


def reopen_failed(t):
    """USR1 while the log directory is gone: the old files stay in use,
    and the log says so instead of "reopened log files"."""
    logs = os.path.join(t.dir, 'reopen-logs')
    os.makedirs(logs)
    srv = t.server('reopen-fail', servers=[dict(workers=1)],
                   error_log=os.path.join(logs, 'error.log'))
    srv.log = os.path.join(logs, 'error.log')
    srv.start()
    moved = logs + '.away'
    os.rename(logs, moved)
    srv.log = os.path.join(moved, 'error.log')
    mark = srv.mark()
    srv.signal(signal.SIGUSR1)
    line = srv.wait_log(r'reopening log files: 1 could not be reopened '
                        r'and stay on their old file', mark)
    expect(not srv.find(r'reopened log files', mark),
           '"reopened log files" logged though the error log was not')
    echo_once(srv.addr(), b'x')
    srv.stop()
    return line.group(0)


def ctl_no_pidfile(srv):
    srv.write_conf(pidfile=os.path.join(srv.dir, 'missing', 'p.pid'))
    rc, out, err = srv.ctl('stop')
    expect(rc == 1, '-s stop with a missing pidfile exited %s' % rc)
    expect(err.strip(), 'no message on stderr')
    rc, out, err = srv.ctl('reload')
    expect(rc == 1, '-s reload with a missing pidfile exited %s' % rc)
    return err.strip()


def pidfile_a_fifo(srv):
    """A pidfile that is a fifo: -s used to block in open() for good, and
    the start said "write(...): Invalid argument"."""
    path = os.path.join(srv.dir, 'p.pid')
    os.mkfifo(path)
    srv.write_conf(pidfile=path)
    seen = []
    for action in ('stop', 'reload', 'status'):
        rc, out, err = srv.ctl(action, timeout=T(10))
        want = 'pidfile %s is not a regular file' % path
        expect(rc == 1 and want in err, '-s %s: exit %s, %r; wanted %r'
               % (action, rc, err.strip(), want))
        seen.append(err.strip())
    rc, out, err = run([BINARY, '-n', '-f', srv.conf], timeout=T(20),
                       cwd=srv.dir)
    want = 'cannot create pidfile %s: it exists and is not a regular file' \
        % path
    expect(rc == 1 and want in err, 'start: exit %s, %r; wanted %r'
           % (rc, err.strip()[-300:], want))
    seen.append(want)
    return ' | '.join(seen[::3])


def pidfile_a_symlink(srv):
    """A symbolic link as pidfile is refused at start (root would write
    where its owner points it), saying so: it used to say "Too many levels
    of symbolic links".  Its target is left alone."""
    target = os.path.join(srv.dir, 'target')
    write_file(target, 'untouched\n')
    path = os.path.join(srv.dir, 'link.pid')
    os.symlink(target, path)
    srv.write_conf(pidfile=path)
    rc, out, err = run([BINARY, '-n', '-f', srv.conf], timeout=T(20),
                       cwd=srv.dir)
    want = 'cannot create pidfile %s: it is a symbolic link' % path
    expect(rc == 1 and want in err, 'start: exit %s, %r; wanted %r'
           % (rc, err.strip()[-300:], want))
    expect(read_file(target) == 'untouched\n', 'the link\'s target changed')
    return want


def start_no_pidfile_dir(srv):
    path = os.path.join(srv.dir, 'missing', 'p.pid')
    srv.write_conf(pidfile=path)
    rc, out, err = run([BINARY, '-n', '-f', srv.conf], timeout=T(20),
                       cwd=srv.dir)
    want = 'cannot create pidfile %s: No such file or directory' % path
    expect(rc == 1 and want in err, 'start exited %s: %r; wanted %r'
           % (rc, err.strip(), want))
    return want


def ctl_pidfile_written_over(srv):
    """The master holds the pidfile locked, but someone wrote another pid
    into it: -s must not signal that process."""
    srv.start()
    stranger = subprocess.Popen(['sleep', '60'])
    try:
        write_file(srv.pidfile, '%d\n' % stranger.pid)
        rc, out, err = srv.ctl('stop')
        want = ('pidfile %s names process %d, not the master that holds it '
                'locked' % (srv.pidfile, stranger.pid))
        expect(rc == 1 and want in err, '-s stop exited %s: %r; wanted %r'
               % (rc, err.strip(), want))
        time.sleep(0.2)
        expect(stranger.poll() is None, 'the process named in the pidfile '
               'was signalled (%s)' % stranger.returncode)
        expect(srv.running(), 'the master stopped')
        write_file(srv.pidfile, '%d\n' % srv.master)
        rc, out, err = srv.ctl('reopen')
        expect(rc == 0, '-s reopen with the pidfile right again: %s %r'
               % (rc, err.strip()))
    finally:
        stranger.kill()
        stranger.wait()
    srv.stop()
    return want


LOCKER = r"""
import fcntl, os, sys, time
f = open(sys.argv[1], 'w')
fcntl.flock(f, fcntl.LOCK_EX)
f.write('%d\n' % os.getpid())
f.flush()
print('locked', flush=True)
time.sleep(60)
"""


def ctl_pidfile_of_another_program(srv):
    """-p given another daemon's pidfile, which that daemon holds locked
    as preforkd does: -s signals no process that is not a preforkd
    master (it has no scoreboard), and says so; status agrees."""
    srv.write_conf()
    path = os.path.join(srv.dir, 'other.pid')
    other = subprocess.Popen([sys.executable, '-c', LOCKER, path],
                             stdout=subprocess.PIPE, text=True)
    try:
        expect(other.stdout.readline().strip() == 'locked',
               'the locking process did not start')
        want = ('no preforkd is running: pidfile %s is held by process %d, '
                'which is not a preforkd master' % (path, other.pid))
        for action in ('stop', 'reopen', 'reload', 'upgrade', 'status'):
            rc, out, err = run([BINARY, '-s', action, '-p', path, '-f',
                                srv.conf], timeout=T(20))
            expect(rc == 1 and (want in err or action == 'status'),
                   '-s %s exited %s: %r; wanted %r'
                   % (action, rc, err.strip(), want))
            time.sleep(0.1)
            expect(other.poll() is None, '-s %s signalled the other '
                   'program (%s)' % (action, other.returncode))
    finally:
        other.kill()
        other.wait()
    return want


def ctl_pidfile_bind_mount(srv):
    """The pidfile reached through a bind mount of its directory (another
    path to the same file, as in a container): -s still finds the master
    holding it."""
    if os.geteuid() != 0 or shutil.which('unshare') is None:
        return skipped('needs root and unshare for a private bind mount')
    srv.start()
    alias = os.path.join(srv.dir, 'alias')
    os.makedirs(alias)
    script = ('mount --bind "$1" "$2" && exec "$3" -s status -f /dev/null '
              '-p "$2/preforkd.pid"')
    rc, out, err = run(['unshare', '-m', '--propagation', 'private', 'sh',
                        '-c', script, 'sh', srv.dir, alias, BINARY],
                       timeout=T(20))
    expect(rc == 0 and 'preforkd: master %d' % srv.master in out,
           '-s status through a bind mount: exit %s, %r'
           % (rc, err.strip()))
    srv.stop()


def ctl_pidfile_unreadable(t, srv):
    """A caller who may not read the pidfile is told so, not that no
    master runs."""
    if os.geteuid() != 0:
        return skipped('not root: cannot run -s as another user')
    srv.start()
    # A copy nobody may run, outside the test's private directory (which
    # is what nobody may not enter, so the pidfile in it is closed to him).
    bindir = tempfile.mkdtemp(prefix='preforkd-bin.')
    try:
        os.chmod(bindir, 0o755)
        binary = os.path.join(bindir, 'preforkd')
        shutil.copy2(BINARY, binary)
        nobody = pwd.getpwnam('nobody')
        rc, out, err = run(['setpriv', '--reuid=%d' % nobody.pw_uid,
                            '--regid=%d' % nobody.pw_gid, '--clear-groups',
                            binary, '-s', 'stop', '-f', '/dev/null', '-p',
                            srv.pidfile], timeout=T(20))
    finally:
        shutil.rmtree(bindir)
    want = 'cannot read pidfile %s: Permission denied' % srv.pidfile
    expect(rc == 1 and want in err and 'no preforkd is running' not in err,
           '-s stop as nobody exited %s: %r; wanted %r'
           % (rc, err.strip(), want))
    expect(srv.running(), 'the master stopped')
    srv.stop()
    return want


def ctl_pidfile_only(srv):
    """-s with -p needs no configuration (but a reload does): the
    default -f, which may not be the master's, is not read.  A reload or
    an upgrade with -p and no -f checks the master's own file."""
    srv.start()
    missing = os.path.join(srv.dir, 'no-such.conf')
    for action in ('status', 'reopen'):
        rc, out, err = run([BINARY, '-s', action, '-p', srv.pidfile, '-f',
                            missing], timeout=T(20))
        expect(rc == 0 and not err.strip(), '-s %s -p: exit %s, stderr %r'
               % (action, rc, err.strip()))
    rc, out, err = run([BINARY, '-s', 'reload', '-p', srv.pidfile, '-f',
                        missing], timeout=T(20))
    expect(rc == 1 and 'not reloading' in err, '-s reload -p with a '
           'missing config: exit %s, %r' % (rc, err.strip()))
    # Without -f, the master's own file is checked and reloaded, wherever
    # the command runs and whatever the default file holds.
    rc, out, err = run([BINARY, '-s', 'reload', '-p', srv.pidfile],
                       timeout=T(20), cwd='/')
    expect(rc == 0 and 'generation 2 serving' in out, '-s reload -p '
           'without -f: exit %s, %r %r' % (rc, out.strip(), err.strip()))
    good = read_file(srv.conf)
    write_file(srv.conf, good.replace('workers = 2', 'workers = two'))
    mark = srv.mark()
    for action, verb in (('reload', 'reloading'), ('upgrade', 'upgrading')):
        rc, out, err = run([BINARY, '-s', action, '-p', srv.pidfile],
                           timeout=T(20), cwd='/')
        want = 'configuration %s has errors: not %s' % (srv.conf, verb)
        expect(rc == 1 and want in err and srv.conf + ':' in err,
               '-s %s -p without -f, master\'s file bad: exit %s, %r'
               % (action, rc, err.strip()))
    expect(not srv.find(r'reloading configuration|upgrade', mark),
           'the master acted on a refused command')
    write_file(srv.conf, good)
    srv.stop()


def ctl_conf_broken_since(srv):
    """stop, quit, reopen and status need only the pidfile from -f: an
    edit not yet reloaded that breaks the file (a root deleted; here a
    max-memory too small, a number out of range, one not a number, an
    option given twice, a boolean that is none) must not keep logrotate's "-s reopen" from the
    master.  reload still
    checks the whole file; a file whose pidfile cannot be read fails."""
    srv.start()
    good = read_file(srv.conf)
    write_file(srv.conf, good.replace('workers = 2', 'workers = 2\n'
                                      '  max-memory = "12"\n'
                                      '  timeout = 99999999\n'
                                      '  backlog = 10s\n'
                                      '  workers = 3\n'
                                      '  http {\n'
                                      '    autoindex = maybe\n'
                                      '  }'))
    mark = srv.mark()
    rc, out, err = run([BINARY, '-s', 'reopen', '-f', srv.conf],
                       timeout=T(20))
    expect(rc == 0 and not err.strip(), '-s reopen -f of a broken file: '
           'exit %s, %r' % (rc, err.strip()))
    srv.wait_log(r'reopened log files', mark)
    rc, out, err = run([BINARY, '-s', 'status', '-f', srv.conf],
                       timeout=T(20))
    expect(rc == 0 and 'generation' in out, '-s status -f of a broken '
           'file: exit %s, %r' % (rc, err.strip()))
    rc, out, err = srv.ctl('reload', timeout=T(20))
    expect(rc == 1 and 'not reloading' in err, '-s reload -f of a broken '
           'file: exit %s, %r' % (rc, err.strip()))
    unreadable = os.path.join(srv.dir, 'nopid.conf')
    write_file(unreadable, 'pidfile = ""\n')
    rc, out, err = run([BINARY, '-s', 'stop', '-f', unreadable],
                       timeout=T(20))
    expect(rc == 1 and unreadable + ':1:' in err and '-p' in err,
           '-s stop -f of a file without a pidfile: exit %s, %r'
           % (rc, err.strip()))
    expect(srv.running(), 'the master stopped')
    rc, out, err = srv.ctl('stop', timeout=T(20))
    expect(rc == 0, '-s stop -f of the broken file: exit %s, %r'
           % (rc, err.strip()))
    expect(wait_until(lambda: not srv.running(), T(20)), 'the master still '
           'runs after -s stop')
    write_file(srv.conf, good)


def memfd_of(pid, name):
    """/proc/PID/fd/N of pid's memfd called name, or None."""
    for fd in os.listdir('/proc/%d/fd' % pid):
        path = '/proc/%d/fd/%s' % (pid, fd)
        try:
            target = os.readlink(path)
        except OSError:
            continue
        if target.split(' ')[0] == '/memfd:' + name:
            return path
    return None


def forge_scoreboard(pid, real, forged):
    """Writes forged over the configuration path real in pid's
    scoreboard, as any worker could: workers map it read-write."""
    path = memfd_of(pid, 'preforkd-scoreboard')
    expect(path, 'master %d has no scoreboard memfd' % pid)
    fd = os.open(path, os.O_RDWR)
    try:
        # The path sits in the master's record, at the start.
        at = os.pread(fd, 65536, 0).find(real.encode() + b'\0')
        expect(at >= 0, '%s not in the scoreboard of master %d'
               % (real, pid))
        os.pwrite(fd, forged.encode() + b'\0', at)
    finally:
        os.close(fd)


def ctl_scoreboard_forged(srv):
    """-s reload and -s upgrade without -f check the file the master
    reads.  They used to take its path from the scoreboard, which
    workers can write: one taken over could have root's -s parse a file
    of its choosing, and judge the reload by it.  Here the scoreboard
    names a broken file; the master's own, good one is checked, before
    and after an upgrade (the new master tells its path itself)."""
    srv.start()
    forged = os.path.join(srv.dir, 'forged.conf')
    write_file(forged, read_file(srv.conf).replace('workers = 2',
                                                    'workers = forged'))
    forge_scoreboard(srv.master, srv.conf, forged)
    rc, out, err = run([BINARY, '-s', 'reload', '-p', srv.pidfile],
                       timeout=T(20), cwd='/')
    expect(rc == 0 and 'generation 2 serving' in out and forged not in err,
           '-s reload -p without -f, scoreboard forged: exit %s, %r %r'
           % (rc, out.strip(), err.strip()))
    old = srv.master
    rc, out, err = run([BINARY, '-s', 'upgrade', '-p', srv.pidfile],
                       timeout=T(60), cwd='/')
    expect(rc == 0 and forged not in err, '-s upgrade -p without -f, '
           'scoreboard forged: exit %s, %r %r' % (rc, out.strip(),
                                                   err.strip()))
    expect(srv.proc.wait(T(10)) == 0, 'the old master exited %s'
           % srv.proc.returncode)
    srv.proc = None
    srv.master = int(read_file(srv.pidfile))
    srv.seen.add(srv.master)
    expect(srv.master != old, 'the pidfile still names the old master')
    forge_scoreboard(srv.master, srv.conf, forged)
    rc, out, err = run([BINARY, '-s', 'reload', '-p', srv.pidfile],
                       timeout=T(20), cwd='/')
    expect(rc == 0 and 'serving' in out and forged not in err,
           '-s reload -p without -f to the new master, scoreboard forged: '
           'exit %s, %r %r' % (rc, out.strip(), err.strip()))
    srv.stop()


def ctl_conf_path_sealed(srv):
    """The master's memfd of its configuration path holds that path and
    cannot be written, by the master's own user either; workers do not
    hold it."""
    srv.start()
    path = memfd_of(srv.master, 'preforkd-conf')
    expect(path, 'master %d has no preforkd-conf memfd: %s'
           % (srv.master, fd_targets(srv.master)))
    fd = os.open(path, os.O_RDWR)
    try:
        held = os.pread(fd, 65536, 0)
        expect(held == srv.conf.encode() + b'\0', 'it holds %r' % held)
        for what, call in (('write', lambda: os.write(fd, b'/etc/x\0')),
                           ('ftruncate', lambda: os.ftruncate(fd, 0))):
            try:
                call()
            except OSError as e:
                expect(e.errno == errno.EPERM, '%s(): %s' % (what, e))
            else:
                expect(False, '%s() to it succeeded' % what)
        expect(os.pread(fd, 65536, 0) == held, 'it changed')
    finally:
        os.close(fd)
    held_by = [w for w in srv.workers() if memfd_of(w, 'preforkd-conf')]
    expect(not held_by, 'workers %s hold it' % held_by)
    srv.stop()


def ctl_other_config(srv):
    """-s reload -f B to a master started with -f A used to check B, then
    have the master reload A, and say it succeeded.  It now refuses,
    naming both; A by another path (a symbolic link) is A."""
    srv.start()
    other = os.path.join(srv.dir, 'other.conf')
    write_file(other, read_file(srv.conf).replace('workers = 2',
                                                   'workers = 3'))
    link = os.path.join(srv.dir, 'link.conf')
    os.symlink(srv.conf, link)
    mark = srv.mark()
    seen = []
    for action, verb in (('reload', 'reloading'), ('upgrade', 'upgrading')):
        rc, out, err = srv.ctl(action, conf=other, timeout=T(20))
        want = ('preforkd: master %d reads %s, not %s: not %s (name its '
                'file with -f)' % (srv.master, srv.conf, other, verb))
        expect(rc == 1 and want in err, '-s %s -f other: exit %s, %r; '
               'wanted %r' % (action, rc, err.strip(), want))
        seen.append(want)
    expect(not srv.find(r'reloading configuration|upgrade', mark),
           'the master acted on a refused command')
    rc, out, err = srv.ctl('reload', conf=link, timeout=T(20))
    expect(rc == 0, '-s reload through a link to its file: exit %s, %r'
           % (rc, err.strip()))
    srv.stop()
    return seen[0]


def ctl_master_out_of_files(srv):
    """A master with no descriptor left fails the reload (its config
    cannot be opened) and still tells -s reload why, at once: the answer
    used to need a new socket, and the command waited 60 s."""
    srv.start()
    used = {int(n) for n in os.listdir('/proc/%d/fd' % srv.master)}
    lowest_free = min(set(range(len(used) + 1)) - used)
    saved = resource.prlimit(srv.master, resource.RLIMIT_NOFILE)
    resource.prlimit(srv.master, resource.RLIMIT_NOFILE,
                     (lowest_free, saved[1]))
    try:
        start = time.monotonic()
        rc, out, err = srv.ctl('reload', timeout=T(70))
        took = time.monotonic() - start
    finally:
        resource.prlimit(srv.master, resource.RLIMIT_NOFILE, saved)
    want = ('configuration %s has errors (%s: cannot open: Too many open '
            'files)' % (srv.conf, srv.conf))
    expect(rc == 1 and want in err and took < T(10), '-s reload to a master '
           'out of descriptors: exit %s after %.1f s, %r; wanted %r'
           % (rc, took, err.strip(), want))
    rc, out, err = srv.ctl('reload', timeout=T(20))
    expect(rc == 0, '-s reload once it has descriptors again: exit %s, %r'
           % (rc, err.strip()))
    srv.stop()
    return want


def ctl_bad_signal(srv):
    rc, out, err = srv.ctl('frobnicate')
    expect(rc != 0, '-s frobnicate exited 0')
    expect(err.strip(), 'no message on stderr')


def main():
    t = Test('test_errors')
    t.check('port in use: foreground start fails naming the address',
            in_use, t.server('busy_fg'), False)
    t.check('port in use: daemon start fails naming the address',
            in_use, t.server('busy_daemon'), True)
    t.check('-t on a good config: 0 and the ok line', check_good, t.dir)
    t.check('-t on workers = 1, max-workers = 2: 0', check_good_pool, t.dir)
    t.check('-t: // inside an unquoted path is part of it',
            check_slashes_in_paths, t.dir)
    t.check('-t: a long comment is quick, a file over 16 MiB refused',
            check_size_limits, t.dir)
    os.mkfifo(os.path.join(t.dir, 'mime.fifo'))
    for name, text, marker in BAD:
        t.check('-t on a bad config (%s): 1 and FILE:LINE' % name,
                check_bad, t.dir, name, text, marker)
    t.check('-t reports every error of a config', all_errors, t.dir)
    t.check('-t -p: the pidfile directory of the file is not judged',
            pidfile_dir_with_p, t.dir)

    srv = t.server('reopen', servers=[dict(workers=2)], log_level='info')
    if t.check('server starts', srv.start):
        t.check('USR1 reopens the error log in master and workers',
                reopen, srv)
    t.check('USR1 with the log directory gone: says the old files stay',
            reopen_failed, t)
    t.check('-s with a missing pidfile: exit 1', ctl_no_pidfile,
            t.server('nopid'))
    t.check('a pidfile that is a fifo: -s and the start say so at once',
            pidfile_a_fifo, t.server('fifopid'))
    t.check('a pidfile that is a symbolic link: the start says so',
            pidfile_a_symlink, t.server('linkpid'))
    t.check('start with a missing pidfile directory: names the pidfile',
            start_no_pidfile_dir, t.server('nopiddir'))
    t.check('-s with a pidfile written over: the process it names is left '
            'alone', ctl_pidfile_written_over, t.server('overwritten'))
    t.check('-s with another program\'s locked pidfile signals nothing',
            ctl_pidfile_of_another_program, t.server('otherprogram'))
    t.check('-s through a bind mount of the pidfile\'s directory',
            ctl_pidfile_bind_mount, t.server('bindmount'))
    t.check('-s with a pidfile the caller may not read: says so',
            ctl_pidfile_unreadable, t, t.server('unreadable'))
    t.check('-s status/reopen with -p read no configuration; reload -p '
            'checks the master\'s file',
            ctl_pidfile_only, t.server('ponly'))
    t.check('-s stop/reopen/status -f of a file broken since the start: '
            'only its pidfile is read', ctl_conf_broken_since,
            t.server('brokensince'))
    t.check('-s reload/upgrade without -f check the master\'s file, not '
            'the path in its scoreboard, which workers can write',
            ctl_scoreboard_forged, t.server('forged'))
    t.check('the master\'s configuration path is in a sealed memfd: a '
            'write fails with EPERM', ctl_conf_path_sealed,
            t.server('sealed'))
    t.check('-s reload/upgrade -f another file than the master\'s: '
            'refused', ctl_other_config, t.server('otherconf'))
    t.check('-s reload to a master out of descriptors: told why at once',
            ctl_master_out_of_files, t.server('emfile'))
    t.check('-s with an unknown signal name fails', ctl_bad_signal,
            t.server('badsig'))
    t.finish()


if __name__ == '__main__':
    main()

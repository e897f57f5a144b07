# SPDX-License-Identifier: BSD-2-Clause
"""Binary upgrade (SIGUSR2) and `preforkd -s upgrade`.

The master runs from a copy of the binary in the test's dir; before an
upgrade a different copy is renamed over that path, as a package upgrade
does, so /proc/PID/exe tells which file a master runs.  Eight client
threads keep the http server busy throughout (new connections and
keep-alive requests): no request may fail and no connection may be
refused or cut, through USR2, WINCH and QUIT, through `-s upgrade`, and
through a roll back (HUP to the old master, QUIT to the new one).

Upgrades to a binary that exits at once, to one that cannot read its
configuration, to one that cannot bind an address and to a file that
cannot be executed leave the old master serving with its pidfile
restored, and `-s upgrade` exits non-zero with the reason.  A new
master that cannot bind an address leaves the old master's unix socket
file in place.  WINCH while the new master starts, which then fails, is
undone: workers run and the health path answers 200, and a drain-delay
begun does not retire them.  A second USR2 while one is pending is
refused with a log line.  A new master and its workers run in "/", as
a first daemon does, not in the directory the old master finds the
binary from.  Ten upgrades in a row leave the same descriptors and the
same number of processes."""
import atexit
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, children, echo_once, expect,
                     fd_targets, line_of, read_file, run, wait_until,
                     write_file)
from test_http_util import HttpClient, get, http_server, make_tree
import sockdiag

BODY = b'upgrade me\n' * 100
CLIENTS = 8


def setup(t, name, http=None, **globals_):
    srv = http_server(t, name, [dict(name='www', workers=3, http=dict(
        root=os.path.join(t.dir, name, 'root'), **(http or {})))],
        **globals_)
    make_tree(os.path.join(srv.dir, 'root'), {'index.html': BODY})
    srv.bin = os.path.join(srv.dir, 'bin', 'preforkd')
    os.makedirs(os.path.dirname(srv.bin))
    shutil.copy2(BINARY, srv.bin)
    return srv


def install(srv, text=None, mode=0o755):
    """Renames a new file over srv.bin (a copy of the binary, or a script):
    its inode, by which /proc/PID/exe tells it apart."""
    tmp = srv.bin + '.new'
    if text is None:
        shutil.copy2(BINARY, tmp)
    else:
        write_file(tmp, text)
        os.chmod(tmp, mode)
    os.rename(tmp, srv.bin)
    return os.stat(srv.bin).st_ino


def exe_inode(pid):
    return os.stat('/proc/%d/exe' % pid).st_ino


def start(srv):
    srv.start_mark = srv.mark()
    rc, out, err = run([srv.bin, '-f', srv.conf], cwd=srv.dir)
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    srv.master = int(read_file(srv.pidfile))
    srv.seen.add(srv.master)
    srv.parse_addrs()
    return srv.master


def pidfile_pid(path):
    text = read_file(path)
    return int(text) if text and text.strip().isdigit() else None


def upgrade_ctl(srv):
    return run([BINARY, '-s', 'upgrade', '-f', srv.conf], timeout=T(90))


class Load:
    """CLIENTS threads: each opens a connection, makes a few keep-alive
    requests on it (reconnecting when told `Connection: close`), again and
    again.  Every error is kept; none is expected."""

    def __init__(self, srv):
        self.srv = srv
        self.stop_ = threading.Event()
        self.ok = 0
        self.errors = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(CLIENTS)]
        for th in self.threads:
            th.start()

    def run(self):
        while not self.stop_.is_set():
            try:
                with HttpClient(self.srv, 'www', timeout=T(10)) as c:
                    for i in range(3):
                        r = c.request('/index.html', timeout=T(10))
                        if r is None:
                            raise AssertionError('connection closed '
                                                 'before a response')
                        if r.status != 200 or r.body != BODY:
                            raise AssertionError('%r' % r)
                        with self.lock:
                            self.ok += 1
                        if r.has_token('connection', 'close'):
                            break
            except Exception as e:
                with self.lock:
                    self.errors.append('%s: %s' % (type(e).__name__, e))
                time.sleep(0.01)

    def served(self):
        with self.lock:
            return self.ok

    def more(self, n=50):
        """Waits until n more requests succeeded."""
        base = self.served()
        expect(wait_until(lambda: self.served() >= base + n, T(20)),
               'the load made %d requests in %gs, not %d'
               % (self.served() - base, T(20), n))

    def finish(self):
        self.stop_.set()
        for th in self.threads:
            th.join(T(20))
        expect(not self.errors, '%d failed requests of %d: %s'
               % (len(self.errors), self.ok + len(self.errors),
                  self.errors[:3]))
        return '%d requests, none failed' % self.ok


def new_master_serving(srv, since):
    m = srv.wait_log(r'upgrade: new master (\d+) serving', since, T(30))
    return int(m.group(1))


def by_signals(srv):
    old = start(srv)
    load = Load(srv)
    try:
        load.more()
        new_ino = install(srv)
        expect(exe_inode(old) != new_ino, 'the old master runs the new file')
        mark = srv.mark()
        os.kill(old, signal.SIGUSR2)
        new = new_master_serving(srv, mark)
        srv.seen.add(new)
        expect(pidfile_pid(srv.pidfile) == new, 'pidfile names %s, not the '
               'new master %d' % (pidfile_pid(srv.pidfile), new))
        expect(pidfile_pid(srv.pidfile + '.oldbin') == old, '.oldbin names '
               '%s, not %d' % (pidfile_pid(srv.pidfile + '.oldbin'), old))
        expect(exe_inode(new) == new_ino, 'the new master does not run the '
               'new file')
        load.more()
        os.kill(old, signal.SIGWINCH)
        expect(wait_until(lambda: children(old) == [new], T(15)),
               'old workers still run after WINCH: %s' % children(old))
        load.more()
        os.kill(old, signal.SIGQUIT)
        expect(wait_until(lambda: not alive(old), T(15)), 'the old master '
               'still runs after QUIT')
        expect(not os.path.exists(srv.pidfile + '.oldbin'), '.oldbin left')
        expect(pidfile_pid(srv.pidfile) == new, 'pidfile names %s after '
               'the old master left' % pidfile_pid(srv.pidfile))
        srv.master = new
        load.more()
    finally:
        note = load.finish()
    srv.stop(signal.SIGQUIT)
    return note


def by_ctl(srv):
    old = start(srv)
    load = Load(srv)
    try:
        load.more()
        new_ino = install(srv)
        rc, out, err = upgrade_ctl(srv)
        expect(rc == 0, '-s upgrade exited %s: %s' % (rc, err.strip()))
        new = pidfile_pid(srv.pidfile)
        srv.seen.add(new)
        expect(new != old and alive(new) and not alive(old),
               'after -s upgrade: pidfile %s, old %d alive %s'
               % (new, old, alive(old)))
        expect('new master %d serves alone' % new in out, 'stdout: %r' % out)
        expect(exe_inode(new) == new_ino, 'the new master does not run the '
               'new file')
        srv.master = new
        load.more()
    finally:
        note = load.finish()
    srv.stop(signal.SIGQUIT)
    return note


def no_shutdown_limit(srv):
    """shutdown-timeout = 0: the old master finishes its connections
    however long they last; -s upgrade says so and exits 0 once the new
    master serves, instead of waiting for them or failing."""
    old = start(srv)
    with HttpClient(srv, 'www') as c:
        r = c.request('/index.html')
        expect(r is not None and r.status == 200, 'first request: %r' % r)
        install(srv)
        rc, out, err = upgrade_ctl(srv)
        new = pidfile_pid(srv.pidfile)
        srv.seen.add(new)
        expect(rc == 0 and 'still finishes its connections' in out,
               '-s upgrade exited %s: %r %r' % (rc, out.strip(),
                                                err.strip()))
        expect(new != old and alive(new) and alive(old),
               'pidfile %s, old master %d %s' % (
                   new, old, 'alive' if alive(old) else 'gone'))
        r = c.request('/index.html')
        expect(r is not None and r.status == 200 and r.body == BODY,
               'the kept-alive connection after the upgrade: %r' % r)
    expect(wait_until(lambda: not alive(old), T(10)),
           'old master %d still runs after its last client left' % old)
    srv.master = new
    srv.stop(signal.SIGQUIT)
    return out.strip().split('\n')[-1]


def cwds(pid):
    """The working directories of pid and of its children."""
    return {p: os.readlink('/proc/%d/cwd' % p)
            for p in [pid] + children(pid)}


def in_root(srv):
    """Started from its directory by relative names, the daemon runs in
    "/"; so do the masters of two upgrades in a row, and their workers,
    the old master finding the binary by that relative name each time."""
    srv.start_mark = srv.mark()
    rc, out, err = run([os.path.relpath(srv.bin, srv.dir), '-f',
                        os.path.basename(srv.conf)], cwd=srv.dir)
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    srv.master = pidfile_pid(srv.pidfile)
    srv.seen.add(srv.master)
    srv.wait_workers(3)
    first = cwds(srv.master)
    expect(set(first.values()) == {'/'}, 'first master: %s' % first)
    for i in range(2):
        new_ino = install(srv)
        rc, out, err = upgrade_ctl(srv)
        expect(rc == 0, 'upgrade %d: -s upgrade exited %s: %s'
               % (i + 1, rc, err.strip()))
        srv.master = pidfile_pid(srv.pidfile)
        srv.seen.add(srv.master)
        expect(exe_inode(srv.master) == new_ino, 'upgrade %d: the new '
               'master does not run the new file' % (i + 1))
        srv.wait_workers(3)
        now = cwds(srv.master)
        expect(set(now.values()) == {'/'}, 'upgrade %d: working '
               'directories %s' % (i + 1, now))
    srv.stop(signal.SIGQUIT)


def failing(srv, name, text, reason, mode=0o755):
    old = srv.master
    workers = srv.workers()
    install(srv, text, mode)
    mark = srv.mark()
    rc, out, err = upgrade_ctl(srv)
    expect(rc != 0, '-s upgrade to %s exited 0' % name)
    expect('upgrade failed' in err and reason in err,
           '-s upgrade to %s: stderr %r lacks "%s"' % (name, err, reason))
    srv.wait_log(r'upgrade failed: new master \d+ .*pidfile .* restored',
                 mark)
    expect(pidfile_pid(srv.pidfile) == old, 'pidfile names %s, not the old '
           'master %d' % (pidfile_pid(srv.pidfile), old))
    expect(not os.path.exists(srv.pidfile + '.oldbin'), '.oldbin left')
    expect(alive(old) and srv.workers() == workers, 'the old master or its '
           'workers changed')


def failures(srv):
    start(srv)
    load = Load(srv)
    try:
        load.more()
        failing(srv, 'a binary that exits at once',
                '#!/bin/sh\nexit 3\n', 'exited with status 3')
        load.more()
        # The new binary reads a config it finds wrong (here: another file
        # with an error): the old master passes its first error on.
        bad = os.path.join(srv.dir, 'bad.conf')
        write_file(bad, read_file(srv.conf).replace('workers = 3',
                                                    'workers = 0'))
        failing(srv, 'a binary that cannot read its configuration',
                '#!/bin/sh\nexec %s "$@" -f %s\n' % (BINARY, bad),
                'exited with status 1 before it was ready: %s:' % bad)
        load.more()
        failing(srv, 'a binary that cannot find its configuration',
                '#!/bin/sh\nexec %s "$@" -f %s/missing.conf\n'
                % (BINARY, srv.dir), 'missing.conf')
        load.more()
        # A good config, but an address it cannot bind: the reason too.
        held = taken_port()
        try:
            port = held.getsockname()[1]
            taken = os.path.join(srv.dir, 'taken.conf')
            text = (read_file(srv.conf) + 'server taken {\n'
                    '  listen = "127.0.0.1:%d"\n  handler = "echo"\n'
                    '}\n' % port)
            write_file(taken, text)
            failing(srv, 'a binary that cannot bind an address',
                    '#!/bin/sh\nexec %s "$@" -f %s\n' % (BINARY, taken),
                    'exited with status 1 before it was ready: %s:%d: '
                    'server taken: bind(127.0.0.1:%d): Address already in '
                    'use' % (taken, line_of(text, '127.0.0.1:%d' % port),
                             port))
        finally:
            held.close()
        load.more()
        failing(srv, 'a file that cannot be executed',
                'not a program\n', 'exited with status 127')
        failing(srv, 'a file without execute permission',
                '#!/bin/sh\nexit 0\n', 'exited with status 127', 0o644)
        load.more()
    finally:
        note = load.finish()
    srv.stop(signal.SIGQUIT)
    return note


def roll_back(srv):
    old = start(srv)
    load = Load(srv)
    go = os.path.join(srv.dir, 'go')
    try:
        load.more()
        # A new binary that waits for a go: the upgrade stays pending.
        install(srv, '#!/bin/sh\nwhile [ ! -e %s ]; do sleep 0.05; done\n'
                'exec %s "$@"\n' % (go, BINARY))
        mark = srv.mark()
        os.kill(old, signal.SIGUSR2)
        srv.wait_log(r'SIGUSR2: upgrade: new master \d+ started', mark)
        os.kill(old, signal.SIGUSR2)
        srv.wait_log(r'SIGUSR2 refused: an upgrade is in progress', mark)
        write_file(go, '')
        new = new_master_serving(srv, mark)
        srv.seen.add(new)
        load.more()
        os.kill(old, signal.SIGWINCH)
        expect(wait_until(lambda: children(old) == [new], T(15)),
               'old workers still run after WINCH: %s' % children(old))
        load.more()
        # Roll back: the old master's workers return, the new master ends.
        mark = srv.mark()
        os.kill(old, signal.SIGHUP)
        srv.wait_log(r'reload: generation 2 serving', mark)
        # Its pidfile is .oldbin for now, the config's is the same.
        expect(not srv.find(r'a new pidfile takes a restart', mark),
               'the roll-back reload warned of a new pidfile')
        os.kill(new, signal.SIGQUIT)
        srv.wait_log(r'upgrade: new master %d exited with status 0; '
                     r'pidfile .* restored' % new, mark)
        expect(not alive(new), 'the new master still runs')
        expect(pidfile_pid(srv.pidfile) == old, 'pidfile names %s, not the '
               'old master %d' % (pidfile_pid(srv.pidfile), old))
        expect(not os.path.exists(srv.pidfile + '.oldbin'), '.oldbin left')
        expect(wait_until(lambda: len(srv.workers()) == 3, T(10)),
               'old master has workers %s' % srv.workers())
        load.more()
    finally:
        note = load.finish()
    srv.stop(signal.SIGQUIT)
    return note


def new_master_dies(srv):
    """The new master dies after WINCH emptied the old one: the old master
    takes its pidfile back and starts workers again by itself."""
    old = start(srv)
    install(srv)
    mark = srv.mark()
    os.kill(old, signal.SIGUSR2)
    new = new_master_serving(srv, mark)
    srv.seen.add(new)
    os.kill(old, signal.SIGWINCH)
    expect(wait_until(lambda: children(old) == [new], T(15)),
           'old workers still run after WINCH: %s' % children(old))
    os.kill(new, signal.SIGKILL)
    srv.wait_log(r'upgrade: new master %d was killed by signal 9 .*'
                 r'pidfile .* restored' % new, mark)
    expect(pidfile_pid(srv.pidfile) == old, 'pidfile names %s, not the old '
           'master %d' % (pidfile_pid(srv.pidfile), old))
    expect(wait_until(lambda: len(srv.workers()) == 3, T(10)),
           'the old master has workers %s' % srv.workers())
    with HttpClient(srv, 'www') as c:
        r = c.request('/index.html')
        expect(r is not None and r.status == 200, 'GET after: %r' % r)
    srv.stop(signal.SIGQUIT)


def health_turns(srv, want, timeout):
    last = []
    ok = wait_until(lambda: last.append(get(srv, '/healthz').status) or
                    last[-1] == want, timeout, interval=0.05)
    expect(ok, '/healthz still %d, want %d' % (last[-1], want))


def winch_before_failure(srv, delay):
    """WINCH while the new master starts drains (or retires) as it would
    without one; once the new master fails, the old one serves as before
    the WINCH: the health path says 200, workers run, and a drain that
    was waiting does not go on to retire them."""
    old = start(srv)
    workers = srv.wait_workers(3)
    go = os.path.join(srv.dir, 'go')
    install(srv, '#!/bin/sh\nwhile [ ! -e %s ]; do sleep 0.05; done\n'
            'exit 1\n' % go)
    mark = srv.mark()
    os.kill(old, signal.SIGUSR2)
    new = int(srv.wait_log(r'SIGUSR2: upgrade: new master (\d+) started',
                           mark).group(1))
    os.kill(old, signal.SIGWINCH)
    winched = time.monotonic()
    if delay > 0:
        srv.wait_log(r'draining for drain-delay', mark)
        health_turns(srv, 503, T(5))
    else:
        expect(wait_until(lambda: children(old) == [new], T(15)),
               'old workers still run after WINCH: %s' % children(old))
    write_file(go, '')
    srv.wait_log(r'upgrade failed: new master %d .*restored' % new, mark)
    if delay > 0:
        expect(time.monotonic() - winched < delay - 1, 'the machine is too '
               'slow for this test: drain-delay nearly over')
        health_turns(srv, 200, max(0.5, delay - 1 -
                                   (time.monotonic() - winched)))
        # Past the drain's end: it must not have retired the workers.
        wait_until(lambda: srv.find(r'SIGWINCH: retiring', mark) or
                   len(srv.workers()) != 3, winched + delay + 1 -
                   time.monotonic())
        expect(not srv.find(r'SIGWINCH: retiring', mark) and
               srv.workers() == workers, 'the drain begun before the '
               'failure retired the workers: %s' % srv.workers())
    else:
        srv.wait_workers(3)
        health_turns(srv, 200, T(5))
    r = get(srv, '/index.html')
    expect(r.status == 200 and r.body == BODY, 'GET after: %r' % r)
    srv.stop(signal.SIGQUIT)


# Long enough that the new master serves well within it, even slowed.
READY_DRAIN = int(T(10))


def winch_before_ready(srv):
    """WINCH while the new master starts drains, for it may fail; once it
    serves, the instance is not leaving: the drain is called off, the old
    workers retire at once, and the health path says 200 from then on.
    Before, the drain ran its course: the old workers answered 503 beside
    the new ones' 200 until drain-delay ended, and a balancer's checks
    flapped."""
    old = start(srv)
    srv.wait_workers(3)
    go = os.path.join(srv.dir, 'go')
    install(srv, '#!/bin/sh\nwhile [ ! -e %s ]; do sleep 0.05; done\n'
            'exec %s "$@"\n' % (go, BINARY))
    mark = srv.mark()
    os.kill(old, signal.SIGUSR2)
    srv.wait_log(r'SIGUSR2: upgrade: new master (\d+) started', mark)
    os.kill(old, signal.SIGWINCH)
    winched = time.monotonic()
    srv.wait_log(r'draining for drain-delay', mark)
    health_turns(srv, 503, T(5))
    write_file(go, '')
    new = new_master_serving(srv, mark)
    srv.seen.add(new)
    expect(wait_until(lambda: children(old) == [new], T(5)),
           'old workers still run once the new master serves: %s'
           % children(old))
    seen = set()
    for _ in range(20):
        seen.add(get(srv, '/healthz').status)
        time.sleep(0.05)
    expect(time.monotonic() - winched < READY_DRAIN - 2, 'the machine is '
           'too slow for this test: drain-delay nearly over')
    expect(seen == {200}, 'the health path answered %s once the new '
           'master served, within drain-delay' % sorted(seen))
    expect(srv.find(r'drain called off', mark), 'not logged')
    os.kill(old, signal.SIGQUIT)
    expect(wait_until(lambda: not alive(old), T(15)), 'the old master '
           'still runs after QUIT')
    srv.master = new
    # Not QUIT: alone now, the new master would drain for drain-delay.
    srv.stop(signal.SIGTERM)


def pidfile_changed(srv):
    """A pidfile changed in the file takes a restart, as on a reload: the
    new master of an upgrade writes the old master's, and says so.
    Before, it wrote the new one: -s upgrade (with the old one) retired
    the old master, then failed ("names master -1"), and nothing found
    the master that served."""
    old = start(srv)
    other = srv.pidfile + '.elsewhere'
    text = read_file(srv.conf)
    expect(srv.pidfile in text, 'the pidfile is not in the file')
    write_file(srv.conf, text.replace(srv.pidfile, other))
    install(srv)
    mark = srv.mark()
    rc, out, err = run([BINARY, '-s', 'upgrade', '-f', srv.conf, '-p',
                        srv.pidfile], timeout=T(90))
    new = pidfile_pid(srv.pidfile)
    if new is not None:
        srv.seen.add(new)
    expect(rc == 0, '-s upgrade exited %s: %s' % (rc, err.strip()))
    expect(new is not None and new != old and alive(new) and
           not alive(old), 'pidfile names %s; old master %d %s'
           % (new, old, 'alive' if alive(old) else 'gone'))
    expect(not os.path.exists(other), 'the new master wrote %s' % other)
    srv.wait_log(r'a new pidfile takes a restart: keeping %s'
                 % re.escape(srv.pidfile), mark)
    srv.master = new
    rc, out, err = run([BINARY, '-s', 'quit', '-f', srv.conf, '-p',
                        srv.pidfile])
    expect(rc == 0 and wait_until(lambda: not alive(new), T(15)),
           '-s quit with the pidfile: %s %s' % (rc, err.strip()))
    srv.stop(signal.SIGQUIT)


def never_ready(srv):
    """A new master that never reports (here a binary that hangs) is
    stopped after 45 s; the pidfile comes back and -s upgrade says why.
    Before, -s upgrade gave up at 60 s and exited 1, but the pidfile
    stayed .oldbin, so -s and the init script no longer found the
    master, and the new one could come up later beside it."""
    old = start(srv)
    workers = srv.wait_workers(3)
    install(srv, '#!/bin/sh\nexec sleep 600\n')
    mark = srv.mark()
    rc, out, err = upgrade_ctl(srv)
    expect(rc == 1 and 'not ready within 45 s' in err, '-s upgrade '
           'exited %s: %r' % (rc, err.strip()))
    m = srv.wait_log(r'upgrade failed: new master (\d+) not ready within '
                     r'45 s: stopped .*pidfile .* restored', mark)
    new = int(m.group(1))
    expect(not alive(new), 'the new master %d still runs' % new)
    expect(pidfile_pid(srv.pidfile) == old, 'pidfile names %s, not the '
           'old master %d' % (pidfile_pid(srv.pidfile), old))
    expect(not os.path.exists(srv.pidfile + '.oldbin'), '.oldbin left')
    expect(alive(old) and srv.workers() == workers, 'the old master or '
           'its workers changed')
    r = get(srv, '/index.html')
    expect(r.status == 200 and r.body == BODY, 'GET after: %r' % r)
    srv.stop(signal.SIGQUIT)


def bad_environment(srv):
    """A master given a malformed hand-over refuses to start, naming it."""
    r, w = os.pipe()
    try:
        for value, says in (('www@127.0.0.1:1', 'is malformed'),
                            ('www@127.0.0.1:1=%d' % r, 'not a socket')):
            env = dict(os.environ, PREFORKD_LISTENERS=value,
                       PREFORKD_UPGRADE_FD=str(w))
            p = subprocess.run([BINARY, '-n', '-f', srv.conf], env=env,
                               stdin=subprocess.DEVNULL, pass_fds=(r, w),
                               capture_output=True, timeout=T(30))
            err = p.stderr.decode(errors='replace')
            expect(p.returncode == 1 and says in err,
                   'PREFORKD_LISTENERS=%s: exit %s, stderr %r'
                   % (value, p.returncode, err))
    finally:
        os.close(r)
        os.close(w)


def unix_path(srv):
    path = os.path.join(srv.dir, 's.sock')
    if len(path) >= 100:    # sun_path is 108 bytes: a deep build dir
        short = tempfile.mkdtemp(prefix='preforkd.')
        atexit.register(shutil.rmtree, short, True)
        path = os.path.join(short, 's.sock')
    return path


def taken_port():
    """A loopback port this test listens on: a bind there fails."""
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(('127.0.0.1', 0))
    held.listen(1)
    return held


def unix_kept(t):
    """A new master that cannot bind leaves the old master's unix socket
    file, which serves on; one that took over removes it when it stops,
    as a first master does."""
    srv = t.server('unixkept')
    path = unix_path(srv)
    sock = dict(name='sock', listen='unix:' + path, workers=1)
    srv.write_conf(servers=[sock])
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    old = srv.master
    held = taken_port()
    try:
        srv.write_conf(servers=[sock, dict(
            name='taken', listen='127.0.0.1:%d' % held.getsockname()[1],
            workers=1)])
        rc, out, err = upgrade_ctl(srv)
        expect(rc == 1, '-s upgrade to an address in use exited %s' % rc)
    finally:
        held.close()
    srv.wait_log(r'upgrade failed: new master \d+ .*pidfile .* restored')
    expect(alive(old) and pidfile_pid(srv.pidfile) == old,
           'the old master %d does not serve on' % old)
    expect(os.path.exists(path), 'the failed new master removed %s' % path)
    echo_once((socket.AF_UNIX, path), b'still served')
    srv.write_conf(servers=[sock])
    rc, out, err = upgrade_ctl(srv)
    expect(rc == 0, '-s upgrade exited %s: %s' % (rc, err.strip()))
    srv.master = pidfile_pid(srv.pidfile)
    srv.seen.add(srv.master)
    expect(srv.master != old and not alive(old), 'no new master alone')
    expect(os.path.exists(path), 'the old master removed %s on leaving'
           % path)
    echo_once((socket.AF_UNIX, path), b'served by the new master')
    srv.stop(signal.SIGQUIT)
    expect(not os.path.exists(path), 'the new master left %s at its '
           'shutdown' % path)


def quit_stops_new_at_once(t):
    """QUIT with a drain-delay while the new master is still starting: the
    new master is stopped at once, not when the drain ends, by which time
    it was ready and was handed the service of a stopped server."""
    srv = setup(t, 'quitdrain', drain_delay=3)
    old = start(srv)
    slow = T(1.5)
    install(srv, '#!/bin/sh\nsleep %g\nexec %s "$@"\n' % (slow, BINARY))
    mark = srv.mark()
    srv.signal(signal.SIGUSR2)
    new = int(srv.wait_log(r'SIGUSR2: upgrade: new master (\d+) started',
                           mark).group(1))
    srv.seen.add(new)
    srv.signal(signal.SIGQUIT)
    srv.wait_log(r'shutdown: new master %d is not ready: stopping it'
                 % new, mark, timeout=T(1))
    expect(wait_until(lambda: not alive(old), T(20)), 'the old master %d '
           'still runs' % old)
    expect(not alive(new), 'the new master %d serves after the stop' % new)
    expect(not os.path.exists(srv.pidfile), 'a pidfile is left')


def failed_upgrade_keeps_backlog(t):
    """A failed upgrade leaves the old master's backlog on the sockets it
    shares with the new one, which takes its own once it serves."""
    srv = setup(t, 'backlog')
    srv.write_conf(text=read_file(srv.conf).replace(
        'workers = 3', 'workers = 3\n  backlog = 7'))
    start(srv)
    port = srv.port('www')
    good = read_file(srv.conf).replace('backlog = 7', 'backlog = 3')
    held = taken_port()
    try:
        srv.write_conf(text=good + 'server taken {\n  listen = '
                       '"127.0.0.1:%d"\n  handler = "echo"\n}\n'
                       % held.getsockname()[1])
        rc, out, err = upgrade_ctl(srv)
        expect(rc == 1, '-s upgrade to an address in use exited %s' % rc)
    finally:
        held.close()
    expect(sockdiag.listen_backlog(port) == 7, 'backlog %s after the '
           'failed upgrade, not 7' % sockdiag.listen_backlog(port))
    srv.write_conf(text=good)
    rc, out, err = upgrade_ctl(srv)
    expect(rc == 0, '-s upgrade exited %s: %s' % (rc, err.strip()))
    srv.master = pidfile_pid(srv.pidfile)
    srv.seen.add(srv.master)
    expect(sockdiag.listen_backlog(port) == 3, 'backlog %s once the new '
           'master serves, not 3' % sockdiag.listen_backlog(port))
    srv.stop(signal.SIGQUIT)


def reopened_log_not_handed(t):
    """A log the old master reopened is not handed to the new master,
    which would hold it for good once rotated again."""
    srv = setup(t, 'reopened', http=dict(access_log='access.log'))
    start(srv)
    access = os.path.join(srv.dir, 'access.log')
    os.rename(access, access + '.1')
    mark = srv.mark()
    srv.signal(signal.SIGUSR1)
    srv.wait_log(r'reopened log files', mark)
    rc, out, err = upgrade_ctl(srv)
    expect(rc == 0, '-s upgrade exited %s: %s' % (rc, err.strip()))
    srv.master = pidfile_pid(srv.pidfile)
    srv.seen.add(srv.master)
    expect(wait_until(lambda: len(srv.workers()) == 3, T(10)), 'workers')
    rotated = access + '.2'
    os.rename(access, rotated)
    mark = srv.mark()
    srv.signal(signal.SIGUSR1)
    srv.wait_log(r'reopened log files', mark)

    def holders():
        return [p for p in [srv.master] + srv.workers()
                if rotated in fd_targets(p)]
    wait_until(lambda: not holders(), T(5))
    expect(not holders(), 'the new master\'s processes %s still hold the '
           'rotated log after a reopen' % holders())
    srv.stop(signal.SIGQUIT)


def snapshot(pid):
    """The master's descriptors by kind, and its process count."""
    kinds = sorted(re.sub(r'\[\d+\]', '', t) for t in fd_targets(pid))
    return kinds, len(children(pid))


def repeated(srv):
    start(srv)
    expect(wait_until(lambda: len(srv.workers()) == 3, T(10)), 'workers')
    first = snapshot(srv.master)
    seen = [srv.master]
    for i in range(10):
        install(srv)
        rc, out, err = upgrade_ctl(srv)
        expect(rc == 0, 'upgrade %d: -s upgrade exited %s: %s'
               % (i + 1, rc, err.strip()))
        srv.master = pidfile_pid(srv.pidfile)
        seen.append(srv.master)
        srv.seen.add(srv.master)
        expect(wait_until(lambda: len(srv.workers()) == 3, T(10)),
               'upgrade %d: workers %s' % (i + 1, srv.workers()))
        now = snapshot(srv.master)
        expect(now == first, 'upgrade %d: master has %s, the first had %s'
               % (i + 1, now, first))
    gone = [p for p in seen[:-1] if alive(p)]
    expect(not gone, 'earlier masters still run: %s' % gone)
    left = [p for p in srv.leftovers()
            if p != srv.master and p not in srv.workers()]
    expect(not left, 'processes of earlier masters left: %s' % left)
    srv.stop(signal.SIGQUIT)
    return '%d fds, %d workers after 10 upgrades' % (len(first[0]),
                                                    first[1])


def main():
    t = Test('test_upgrade')
    t.check('USR2, WINCH, QUIT under load: nothing failed or refused, the '
            'new file serves', by_signals, setup(t, 'signals'))
    t.check('-s upgrade under load: exit 0 once the new master serves '
            'alone', by_ctl, setup(t, 'ctl'))
    t.check('failed upgrades (exits at once, bad config, address in use, '
            'not executable): old master serves, pidfile restored, '
            '-s upgrade says why',
            failures, setup(t, 'failures'))
    t.check('started by relative names, upgraded twice: masters and '
            'workers run in /', in_root, setup(t, 'root'))
    t.check('a second USR2 while pending is refused; roll back (HUP old, '
            'QUIT new) under load', roll_back, setup(t, 'rollback'))
    t.check('the new master dies after WINCH: the old one takes the '
            'pidfile back and starts workers again', new_master_dies,
            setup(t, 'dies'))
    health = dict(health_path='/healthz')
    t.check('WINCH, then the new master fails: workers back, health-path '
            '200', winch_before_failure, setup(t, 'winchfail', http=health),
            0)
    t.check('WINCH drains, then the new master fails: drain called off, '
            'health-path 200', winch_before_failure,
            setup(t, 'drainfail', http=health, drain_delay=3), 3)
    t.check('WINCH drains while the new master starts; once it serves, '
            'the drain is called off, health-path 200', winch_before_ready,
            setup(t, 'drainready', http=health, drain_delay=READY_DRAIN))
    t.check('a pidfile changed in the file: the new master writes the old '
            'one, -s upgrade exits 0', pidfile_changed, setup(t, 'pidfile'))
    t.check('a new master that never reports is stopped after 45 s: '
            'pidfile restored, -s upgrade says why', never_ready,
            setup(t, 'hangs'))
    t.check('a malformed hand-over in the environment: exit 1, naming it',
            bad_environment, setup(t, 'badenv'))
    t.check('shutdown-timeout = 0: -s upgrade exits 0 once the new master '
            'serves; the old one finishes its connection', no_shutdown_limit,
            setup(t, 'nolimit', http=dict(keepalive_timeout=60),
                  shutdown_timeout=0))
    t.check('a failed upgrade leaves the unix socket file; the new master '
            'that took over removes it at its stop', unix_kept, t)
    t.check('QUIT with drain-delay while the new master starts: it is '
            'stopped at once', quit_stops_new_at_once, t)
    t.check('a failed upgrade leaves the old master\'s backlog',
            failed_upgrade_keeps_backlog, t)
    t.check('a log reopened before an upgrade is not handed to the new '
            'master', reopened_log_not_handed, t)
    t.check('10 upgrades in a row: same descriptors, same processes, no '
            'leftovers', repeated, setup(t, 'repeated'))
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""The LSB init script etc/init.d/preforkd, run for real with `sh`.

PREFORKD_DEFAULTS points the script at a defaults file in the test's temp
dir (DAEMON = the built binary, CONF and PIDFILE in the temp dir).  The
whole life cycle runs twice: as shipped (Debian's init-functions, flock and
start-stop-daemon present), and from a copy that finds none of the three,
covering the script's plain-sh fallbacks.  Then the cases an administrator
hits: a pidfile naming a live stranger, a package upgrade replacing the
binary under a running master, a master whose binary is no longer at
$DAEMON (a versioned directory's symlink switched, DAEMON changed) or
has another name, a stop in the middle of a binary upgrade, a reload
and an upgrade run without the environment the master was started with,
a configuration whose pidfile PIDFILE overrides, a start whose output
goes to a pipe, (as root) a master that the user running the script may
not signal, and stop being graceful: a download in
progress is finished, and STOP_TIMEOUT still bounds it (SIGQUIT, then
SIGTERM)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, HERE, T, Failure, alive, children,
                     closed_by_peer, connect, echo_once, http_get, expect,
                     line_of, pids_mentioning, read_file, roundtrip, run,
                     reap_daemons, skipped, wait_until, write_file, Test)

SCRIPT = os.path.normpath(os.path.join(HERE, '..', '..', 'etc', 'init.d',
                                       'preforkd'))

# The copy that exercises the fallbacks: each pattern must be in the script.
FALLBACKS = [
    ('/lib/lsb/init-functions', '/nonexistent/lsb/init-functions'),
    ('command -v start-stop-daemon', 'command -v no-start-stop-daemon'),
    ('command -v flock', 'command -v no-flock'),
]


class Init:
    """A preforkd instance driven through the init script."""

    def __init__(self, t, name, script=SCRIPT, daemon=BINARY):
        self.stop_timeout = T(10)
        self.shutdown_timeout = 5
        self.srv = t.server(name)
        self.dir = self.srv.dir
        self.script = script
        self.daemon = daemon
        self.root = os.path.join(self.dir, 'htdocs')
        os.makedirs(self.root)
        write_file(os.path.join(self.root, 'index.html'), name + '\n')
        self.defaults = os.path.join(self.dir, 'default')
        self.set_daemon(daemon)
        self.conf(workers=2)

    def set_daemon(self, daemon):
        """(Re)writes the defaults file with DAEMON = daemon."""
        self.daemon = daemon
        write_file(self.defaults,
                   '# written by test_initscript.py\n'
                   'DAEMON="%s"\nCONF="%s"\nPIDFILE="%s"\n'
                   'STOP_TIMEOUT=%d\n'
                   % (daemon, self.srv.conf, self.srv.pidfile,
                      self.stop_timeout))

    def conf_text(self, workers, broken=False, pidfile=None, root=None):
        s = self.srv
        return ('pidfile = "%s"\n'
                'error-log = "%s"\n'
                'log-level = "debug"\n'
                'shutdown-timeout = %d\n'
                'server echo {\n'
                '  listen = "127.0.0.1:0"\n'
                '  handler = "echo"\n'
                '  workers = 2\n'
                '}\n'
                'server www {\n'
                '  listen = "127.0.0.1:0"\n'
                '  handler = "http"\n'
                '  workers = %d\n'
                '%s'
                '  http {\n'
                '    root = "%s"\n'
                '  }\n'
                '}\n' % (pidfile or s.pidfile, s.log, self.shutdown_timeout,
                         workers, '  no-such-option = 1\n' if broken else '',
                         root or self.root))

    def conf(self, workers, broken=False, pidfile=None, root=None):
        """Writes the config (pidfile and http root as given, else the
        defaults' PIDFILE and self.root); for a broken one returns its
        error's FILE:LINE: prefix."""
        text = self.conf_text(workers, broken, pidfile, root)
        self.srv.write_conf(text)
        if broken:
            return '%s:%d:' % (self.srv.conf, line_of(text, 'no-such-option'))
        return None

    def argv(self, action, env=None):
        return (['env', 'PREFORKD_DEFAULTS=' + self.defaults] +
                ['%s=%s' % kv for kv in sorted((env or {}).items())] +
                ['sh', self.script, action])

    def run(self, action, preexec_fn=None, env=None):
        """(status, stdout + stderr) of one action; env: variables added
        to the test's environment."""
        rc, out, err = run(self.argv(action, env), timeout=T(90),
                           preexec_fn=preexec_fn)
        text = out + err
        expect('not found' not in text and 'Syntax error' not in text,
               '"%s" printed a shell error: %r' % (action, text.strip()))
        return rc, text

    def status(self):
        return self.run('status')[0]

    # -- processes
    def pid_from_file(self):
        text = read_file(self.srv.pidfile)
        expect(text is not None and text.strip().isdigit(),
               'pidfile %s holds %r' % (self.srv.pidfile, text))
        pid = int(text)
        self.srv.master = pid
        self.srv.seen.add(pid)
        return pid

    def ours(self):
        """Live processes whose command line names our dir."""
        return set(pids_mentioning(self.dir + os.sep))

    def family(self):
        """{master} and its workers."""
        return {self.srv.master} | set(self.srv.workers())

    def serves(self, tag):
        data = tag.encode()
        with connect(self.srv.addr('echo')) as c:
            got = roundtrip(c, data)
        expect(got == data, 'server echo (%s) answered %r to %r%s'
               % (self.srv.addrs['echo'], got[:40], data,
                  ': the http handler serves the echo port'
                  if got.startswith(b'HTTP/') else ''))
        echo_once(self.srv.addr('echo'), data)
        status, body = http_get(self.srv.addr('www'), '/index.html')
        expect(status == 200, 'GET /index.html: status %s' % status)
        expect(body == (self.srv.name + '\n').encode(),
               'GET /index.html: body %r' % body[:80])

    def started(self):
        """Call after a successful start: reads pid and ports, checks both
        servers answer."""
        pid = self.pid_from_file()
        expect(alive(pid), 'master %d from the pidfile is not running' % pid)
        self.srv.parse_addrs()
        self.serves('started')
        return pid

    def generation_serving(self, gen, since, workers):
        """Waits until the master's children are exactly the workers started
        in generation gen since the log offset `since`."""
        def current():
            want = {}
            for name in ('echo', 'www'):
                want.update(self.srv.started(name, since))
            new = {p for p, g in want.items() if g == gen}
            have = set(self.srv.workers())
            return have if have == new and len(have) == workers else None
        got = wait_until(current, T(15))
        expect(got, 'expected %d workers of generation %d; children %s, '
               'started since the reload: %s'
               % (workers, gen, self.srv.workers(),
                  {**self.srv.started('echo', since),
                   **self.srv.started('www', since)}))
        return got


# ---------------------------------------------------------------- checks

def status_is(init, want):
    rc, text = init.run('status')
    expect(rc == want, 'status exited %s, not %s: %r'
           % (rc, want, text.strip()))
    return text.strip()


def start(init, env=None):
    init.srv.start_mark = init.srv.mark()
    rc, text = init.run('start', env=env)
    expect(rc == 0, 'start exited %s: %r' % (rc, text.strip()))
    # No waiting: preforkd returns only once everything is up.
    init.started()
    expect(init.ours() == init.family(), 'processes %s, expected the master '
           'and its workers %s' % (sorted(init.ours()), sorted(init.family())))


def start_again(init):
    pid, before = init.srv.master, init.family()
    rc, text = init.run('start')
    expect(rc == 0, 'second start exited %s: %r' % (rc, text.strip()))
    expect('already running' in text, 'second start did not say "already '
           'running": %r' % text.strip())
    expect(init.pid_from_file() == pid, 'the pidfile changed')
    expect(init.ours() == before, 'processes changed: %s -> %s'
           % (sorted(before), sorted(init.ours())))
    init.serves('still one master')


def configtest(init):
    rc, text = init.run('configtest')
    expect(rc == 0, 'configtest exited %s: %r' % (rc, text.strip()))
    expect('is ok' in text, 'configtest said %r' % text.strip())


def configtest_broken(init):
    where = init.conf(workers=2, broken=True)
    try:
        rc, text = init.run('configtest')
    finally:
        init.conf(workers=2)
    expect(rc == 1, 'configtest of a broken config exited %s' % rc)
    expect(where in text, 'configtest output lacks %s: %r'
           % (where, text.strip()))


def reload_good(init):
    pid = init.srv.master
    old = set(init.srv.workers())
    mark = init.srv.mark()
    init.conf(workers=3)
    rc, text = init.run('reload')
    expect(rc == 0, 'reload exited %s: %r' % (rc, text.strip()))
    expect(init.srv.find(r'reload: generation 2 serving', mark),
           'no "reload: generation 2 serving" logged before reload returned')
    new = init.generation_serving(2, mark, 5)
    expect(not new & old, 'old workers still run: %s' % sorted(new & old))
    expect(init.srv.master == pid and alive(pid), 'the master changed')
    init.serves('generation 2')


def reload_broken(init):
    pid, before = init.srv.master, init.family()
    where = init.conf(workers=4, broken=True)
    rc, text = init.run('reload')
    expect(rc == 1, 'reload of a broken config exited %s, not 1: %r'
           % (rc, text.strip()))
    expect(where in text, 'reload output lacks %s: %r'
           % (where, text.strip()))
    expect('not reloading' in text, 'reload output lacks "not reloading": '
           '%r' % text.strip())
    expect(init.pid_from_file() == pid and alive(pid), 'the master changed')
    expect(init.family() == before, 'master and workers changed: %s -> %s'
           % (sorted(before), sorted(init.family())))
    init.serves('after a refused reload')
    expect(init.family() == before, 'master and workers changed after '
           'serving: %s -> %s' % (sorted(before), sorted(init.family())))


def restart_broken(init):
    pid, before = init.srv.master, init.family()
    where = init.conf(workers=4, broken=True)
    rc, text = init.run('restart')
    expect(rc != 0, 'restart with a broken config exited 0: %r'
           % text.strip())
    expect(where in text, 'restart output lacks %s: %r'
           % (where, text.strip()))
    expect(init.pid_from_file() == pid and alive(pid), 'the master changed')
    expect(init.family() == before, 'master and workers changed: %s -> %s'
           % (sorted(before), sorted(init.family())))
    init.serves('after a refused restart')


def restart_good(init):
    old_pid, old = init.srv.master, init.family()
    init.conf(workers=2)
    init.srv.start_mark = init.srv.mark()
    rc, text = init.run('restart')
    expect(rc == 0, 'restart exited %s: %r' % (rc, text.strip()))
    gone = wait_until(lambda: not any(alive(p) for p in old), T(10))
    expect(gone, 'old processes still run: %s'
           % [p for p in old if alive(p)])
    pid = init.started()
    expect(pid != old_pid, 'the master pid did not change (%d)' % pid)
    w = init.srv.wait_workers(4)
    expect(init.ours() == {pid} | set(w), 'processes %s, expected %s'
           % (sorted(init.ours()), sorted({pid} | set(w))))


def stop(init):
    fam = init.family()
    rc, text = init.run('stop')
    expect(rc == 0, 'stop exited %s: %r' % (rc, text.strip()))
    all_gone(init, fam)


def all_gone(init, fam):
    """After a stop that exited 0: the master and workers fam, and the
    pidfile, have gone."""
    # start-stop-daemon waits for the master, the fallback polls it.  It
    # takes a master whose /proc/PID/exe is gone for ended; the kernel may
    # still be closing its descriptors (long with a sanitizer's shadow
    # memory), so allow that last step a moment, not a stop's timeout.
    expect(wait_until(lambda: not alive(init.srv.master), T(1)),
           'master %d still runs after stop returned' % init.srv.master)
    expect(wait_until(lambda: not any(alive(p) for p in fam), T(10)),
           'still running after stop: %s' % [p for p in fam if alive(p)])
    expect(not os.path.exists(init.srv.pidfile), 'pidfile left behind')
    expect(not init.ours(), 'processes left: %s' % sorted(init.ours()))


def stop_stopped(init):
    rc, text = init.run('stop')
    expect(rc == 0, 'stop of a stopped daemon exited %s: %r'
           % (rc, text.strip()))


def reload_stopped(init):
    rc, text = init.run('reload')
    expect(rc == 7, 'reload of a stopped daemon exited %s, not 7 (LSB): %r'
           % (rc, text.strip()))


def dead_pid():
    p = subprocess.Popen([sys.executable, '-c', 'pass'])
    p.wait()
    return p.pid


def stale(init):
    write_file(init.srv.pidfile, '%d\n' % dead_pid())
    return status_is(init, 1)


def stale_stop(init):
    rc, text = init.run('stop')
    expect(rc == 0, 'stop with a stale pidfile exited %s: %r'
           % (rc, text.strip()))
    expect(not os.path.exists(init.srv.pidfile),
           'the stale pidfile was not removed')


def stale_oldbin_stop(init):
    """A PIDFILE.oldbin left by an old master killed with SIGKILL names
    nothing: stop removes it with the running master's pidfile."""
    start(init)
    oldbin = init.srv.pidfile + '.oldbin'
    write_file(oldbin, '%d\n' % dead_pid())
    stop(init)
    expect(not os.path.exists(oldbin), 'the stale %s was left' % oldbin)


def stale_start(init):
    write_file(init.srv.pidfile, '%d\n' % dead_pid())
    start(init)


def lifecycle(t, init, mode):
    """The whole life cycle; mode names the variant in check names."""
    def c(name, fn, *args):
        return t.check('%s: %s' % (mode, name), fn, *args)
    c('status before start -> 3', status_is, init, 3)
    c('stop before start -> 0', stop_stopped, init)
    if not c('start -> 0, both servers answer at once', start, init):
        return
    c('start again -> 0, "already running", the same master', start_again,
      init)
    c('status while running -> 0', status_is, init, 0)
    c('configtest -> 0, "is ok"', configtest, init)
    c('configtest of a broken config -> 1 with FILE:LINE', configtest_broken,
      init)
    c('reload (www workers 2 -> 3) -> 0, generation 2 serves', reload_good,
      init)
    c('reload of a broken config -> refused with FILE:LINE, nothing changed',
      reload_broken, init)
    c('restart with a broken config -> refused, the same master serves',
      restart_broken, init)
    c('restart -> 0, a new master serves', restart_good, init)
    c('stop -> 0, master, workers and pidfile gone', stop, init)
    c('status after stop -> 3', status_is, init, 3)
    c('stop when stopped -> 0', stop_stopped, init)
    c('reload when stopped -> 7', reload_stopped, init)
    c('stale pidfile (dead pid) -> status 1', stale, init)
    c('stop with a stale pidfile -> 0, pidfile removed', stale_stop, init)
    c('status after that -> 3', status_is, init, 3)
    if c('start over a stale pidfile -> 0', stale_start, init):
        c('stop -> 0', stop, init)
    c('stop with a stale PIDFILE.oldbin beside -> 0, both gone',
      stale_oldbin_stop, init)


# ---------------------------------------------------------------- cases

def stranger(t):
    """A pidfile naming a live process that is not the master."""
    init = Init(t, 'stranger')
    p = subprocess.Popen([sys.executable, '-c',
                          'import time; time.sleep(%d)' % T(120)])
    try:
        def status_1():
            write_file(init.srv.pidfile, '%d\n' % p.pid)
            return status_is(init, 1)

        def stop_spares_it():
            write_file(init.srv.pidfile, '%d\n' % p.pid)
            rc, text = init.run('stop')
            expect(rc == 0, 'stop exited %s: %r' % (rc, text.strip()))
            expect(p.poll() is None, 'stop killed pid %d, which is not '
                   'preforkd' % p.pid)

        def start_anyway():
            write_file(init.srv.pidfile, '%d\n' % p.pid)
            start(init)
            stop(init)
            expect(p.poll() is None, 'pid %d was killed' % p.pid)
        t.check('pidfile naming a live non-preforkd process -> status 1',
                status_1)
        t.check('stop leaves that process alone', stop_spares_it)
        t.check('start with that pidfile -> 0, then stop -> 0', start_anyway)
    finally:
        p.kill()
        p.wait()

    # The same, with another instance's master: start-stop-daemon
    # --pidfile --exec would take it for ours, as it runs the same binary.
    other = Init(t, 'other')

    def another_master():
        start(other)
        write_file(init.srv.pidfile, '%d\n' % other.srv.master)
        start(init)
        expect(init.srv.master != other.srv.master, 'the pidfile still '
               'names the other master')
        stop(init)
        expect(alive(other.srv.master), 'the other master was stopped')
        stop(other)
    t.check('pidfile naming another instance\'s master -> start 0 and '
            'serves, that master untouched', another_master)


def upgrade(t):
    """A package upgrade replaces the binary while the master runs: the
    running executable is then a deleted inode, yet stop must find it."""
    bindir = os.path.join(t.dir, 'upgrade-bin')
    os.makedirs(bindir)
    daemon = os.path.join(bindir, 'preforkd')
    shutil.copy2(BINARY, daemon)
    init = Init(t, 'upgrade', daemon=daemon)

    def replace_and_stop():
        start(init)
        fam = init.family()
        new = daemon + '.dpkg-new'
        shutil.copy2(BINARY, new)
        os.replace(new, daemon)      # what dpkg does: a new inode
        exe = os.readlink('/proc/%d/exe' % init.srv.master)
        expect(exe.endswith('(deleted)'), 'master exe is %r' % exe)
        status_is(init, 0)
        stop(init)
        expect(not any(alive(p) for p in fam), 'left: %s'
               % [p for p in fam if alive(p)])
    t.check('stop after the binary was replaced (package upgrade) -> 0, '
            'all gone', replace_and_stop)

    def binary_upgrade():
        rc, text = init.run('upgrade')
        expect(rc == 7, 'upgrade of a stopped daemon exited %s, not 7: %r'
               % (rc, text.strip()))
        start(init)
        old = init.pid_from_file()
        new_file = daemon + '.dpkg-new'
        shutil.copy2(BINARY, new_file)
        os.replace(new_file, daemon)
        rc, text = init.run('upgrade')
        expect(rc == 0, 'upgrade exited %s: %r' % (rc, text.strip()))
        new = init.pid_from_file()
        expect(new != old and alive(new) and not alive(old),
               'after upgrade: pidfile %d, old master %d %s' % (
                   new, old, 'alive' if alive(old) else 'gone'))
        exe = os.readlink('/proc/%d/exe' % new)
        expect(exe == daemon, 'the new master runs %r, not %s' % (exe,
                                                                 daemon))
        init.serves('upgraded')
        # A new binary that checks the config but cannot start as a
        # master: 1 with the reason, the old master serves on.
        write_file(new_file, '#!/bin/sh\nfor a; do case "$a" in -t|-s) '
                   'exec %s "$@" ;; esac; done\nexit 3\n' % BINARY)
        os.chmod(new_file, 0o755)
        os.replace(new_file, daemon)
        rc, text = init.run('upgrade')
        expect(rc == 1 and 'exited with status 3' in text,
               'upgrade to a failing binary: %s %r' % (rc, text.strip()))
        expect(init.pid_from_file() == new and alive(new),
               'the pidfile no longer names the serving master %d' % new)
        init.serves('after a failed upgrade')
        shutil.copy2(BINARY, new_file)
        os.replace(new_file, daemon)
        stop(init)
    t.check('upgrade: 7 when stopped; 0 once the installed binary serves '
            'alone; 1 with the reason when it cannot start, old serves',
            binary_upgrade)

    t.check('stop in the middle of a binary upgrade (USR2 by hand): both '
            'masters stop, both pidfiles go', stop_mid_upgrade, init)


def switched(t, script, mode, tag):
    """DAEMON reaches the binary through the symlink of a versioned
    directory (cur -> v1), as a deployment tool installs it.  Once the
    symlink is switched to v2, or DAEMON changed in the defaults, the
    running master's executable is no longer at $DAEMON: stop and
    restart must still find it, not report success and leave it
    serving (which, at shutdown, would skip its graceful stop)."""
    base = os.path.join(t.dir, 'versions-' + tag)
    for v in ('v1', 'v2'):
        os.makedirs(os.path.join(base, v))
        shutil.copy2(BINARY, os.path.join(base, v, 'preforkd'))
    cur = os.path.join(base, 'cur')
    os.symlink('v1', cur)
    init = Init(t, 'switched-' + tag, script=script,
                daemon=os.path.join(cur, 'preforkd'))

    def switch(to):
        tmp = cur + '.tmp'
        os.symlink(to, tmp)
        os.replace(tmp, cur)     # ln -sfn v2 cur.tmp && mv -T cur.tmp cur

    def runs(version):
        exe = os.readlink('/proc/%d/exe' % init.srv.master)
        expect(exe == os.path.join(base, version, 'preforkd'),
               'the master runs %r, not %s' % (exe, version))

    def stop_after_switch():
        start(init)
        runs('v1')
        switch('v2')
        stop(init)

    def restart_after_switch():
        switch('v1')
        start(init)
        switch('v2')
        restart_good(init)
        runs('v2')
        stop(init)

    def stop_after_daemon_changed():
        start(init)
        runs('v2')
        init.set_daemon(os.path.join(base, 'v1', 'preforkd'))
        stop(init)

    def stop_after_daemon_gone():
        # The removed-but-not-purged rule (exit 0 quietly when DAEMON
        # is missing) must not leave a running master: it is stopped.
        init.set_daemon(os.path.join(base, 'v1', 'preforkd'))
        start(init)
        init.set_daemon(os.path.join(base, 'gone', 'preforkd'))
        if shutil.which('start-stop-daemon') and script == SCRIPT:
            stop(init)
        else:
            # Without start-stop-daemon preforkd -s stop is the way:
            # with no binary, stop says it failed, never 0.
            rc, text = init.run('stop')
            expect(rc == 1 and 'still runs' in text, 'stop with DAEMON '
                   'gone and no start-stop-daemon: exit %s, %r'
                   % (rc, text.strip()))
            init.set_daemon(os.path.join(base, 'v1', 'preforkd'))
            stop(init)
        init.set_daemon(os.path.join(base, 'gone', 'preforkd'))
        rc, text = init.run('stop')
        expect(rc == 0 and not text.strip(), 'stop with DAEMON gone and '
               'nothing running: exit %s, %r' % (rc, text.strip()))

    def status_after_daemon_gone():
        # Nor must status call a running master "not installed", exit 3.
        init.set_daemon(os.path.join(base, 'v1', 'preforkd'))
        start(init)
        init.set_daemon(os.path.join(base, 'gone', 'preforkd'))
        rc, text = init.run('status')
        expect(rc == 0 and 'is running' in text, 'status with DAEMON gone '
               'and a master running: exit %s, %r' % (rc, text.strip()))
        init.set_daemon(os.path.join(base, 'v1', 'preforkd'))
        stop(init)
        init.set_daemon(os.path.join(base, 'gone', 'preforkd'))
        rc, text = init.run('status')
        expect(rc == 3 and 'not installed' in text, 'status with DAEMON '
               'gone and nothing running: exit %s, %r' % (rc, text.strip()))

    def c(name, fn):
        return t.check('%s: %s' % (mode, name), fn)
    c('stop after the versioned directory\'s symlink was switched -> 0, '
      'all gone', stop_after_switch)
    c('restart after the symlink was switched -> 0, the new binary serves',
      restart_after_switch)
    c('stop after DAEMON was changed in the defaults -> 0, all gone',
      stop_after_daemon_changed)
    c('stop with DAEMON gone: a running master is still stopped; with '
      'none, exit 0 quietly', stop_after_daemon_gone)
    c('status with DAEMON gone: 0 while a master runs; with none, 3 "not '
      'installed"', status_after_daemon_gone)


ENV_ROOT = 'PREFORKD_INITTEST_ROOT'


def master_env(t, script, mode, tag):
    """A configuration that takes a value from the master's environment
    (${NAME}, here the http root), set when the master was started (by
    the defaults file, or the environment the script was started with)
    but not in that of the administrator who reloads it.  preforkd -s
    reload and -s upgrade check the file with the master's environment;
    the script used to run -t first with its own, and refused the reload
    and the upgrade ("not reloading") of a file the master reads well.
    A broken file is still refused: 1, its FILE:LINE error shown, the
    master serving on."""
    init = Init(t, 'env-' + tag, script=script)
    expect(ENV_ROOT not in os.environ, '%s is set in the test\'s '
           'environment' % ENV_ROOT)

    def start_with_env():
        init.conf(workers=2, root='${%s}' % ENV_ROOT)
        start(init, env={ENV_ROOT: init.root})

    def reload_without():
        pid = init.srv.master
        mark = init.srv.mark()
        init.conf(workers=3, root='${%s}' % ENV_ROOT)
        rc, text = init.run('reload')
        expect(rc == 0, 'reload without %s in the environment exited %s: '
               '%r' % (ENV_ROOT, rc, text.strip()))
        init.generation_serving(2, mark, 5)
        expect(init.pid_from_file() == pid and alive(pid),
               'the master changed')
        init.serves('reloaded')

    def refused(action, word):
        pid, before = init.srv.master, init.family()
        where = init.conf(workers=4, broken=True, root='${%s}' % ENV_ROOT)
        try:
            rc, text = init.run(action)
        finally:
            init.conf(workers=3, root='${%s}' % ENV_ROOT)
        expect(rc == 1, '%s of a broken config exited %s, not 1: %r'
               % (action, rc, text.strip()))
        expect(where in text and word in text, '%s output lacks %s or '
               '"%s": %r' % (action, where, word, text.strip()))
        expect(init.pid_from_file() == pid and alive(pid),
               'the master changed')
        expect(init.family() == before, 'master and workers changed: %s '
               '-> %s' % (sorted(before), sorted(init.family())))
        init.serves('after a refused ' + action)

    def upgrade_without():
        old = init.srv.master
        rc, text = init.run('upgrade')
        expect(rc == 0, 'upgrade without %s in the environment exited %s: '
               '%r' % (ENV_ROOT, rc, text.strip()))
        new = init.pid_from_file()
        expect(new != old and alive(new) and not alive(old),
               'after upgrade: pidfile %d, old master %d %s' % (
                   new, old, 'alive' if alive(old) else 'gone'))
        init.serves('upgraded')

    def c(name, fn, *args):
        return t.check('%s: %s' % (mode, name), fn, *args)
    if not c('start with ${%s} set, the config using it -> 0' % ENV_ROOT,
             start_with_env):
        return
    c('reload without it (the master has it) -> 0, generation 2 serves',
      reload_without)
    c('reload of a broken config -> 1 with FILE:LINE, "not reloading", '
      'nothing changed', refused, 'reload', 'not reloading')
    c('upgrade without it -> 0, the new master serves', upgrade_without)
    c('upgrade of a broken config -> 1 with FILE:LINE, "not upgrading", '
      'nothing changed', refused, 'upgrade', 'not upgrading')
    c('stop -> 0, all gone', stop, init)


def pidfile_dir(t, script, mode, tag):
    """The script starts the daemon with -p PIDFILE, which overrides the
    configuration's pidfile: its directory need not exist.  configtest,
    and the check before start and restart, ran -t without -p, which
    judges that directory, and refused a configuration that the start
    serves with."""
    init = Init(t, 'pidfile-dir-' + tag, script=script)
    elsewhere = os.path.join(init.dir, 'no-such-dir', 'preforkd.pid')

    def configtest_ok():
        rc, text = init.run('configtest')
        expect(rc == 0 and 'is ok' in text, 'configtest exited %s: %r'
               % (rc, text.strip()))

    def c(name, fn, *args):
        return t.check('%s: the config\'s pidfile in a missing directory, '
                       'PIDFILE elsewhere: %s' % (mode, name), fn, *args)
    init.conf(workers=2, pidfile=elsewhere)
    c('configtest -> 0, "is ok"', configtest_ok)
    if c('start -> 0', start, init):
        c('restart -> 0, a new master serves', restart_good, init)
        c('stop -> 0, all gone', stop, init)


def renamed(t):
    """A master whose binary has another name than preforkd (installed as
    preforkd-2.1, say): its name in /proc is that too, and stop must
    still find it.  start-stop-daemon is given the name /proc shows for
    the pid that the pidfile's lock vouches for."""
    bindir = os.path.join(t.dir, 'renamed-bin')
    os.makedirs(bindir)
    daemon = os.path.join(bindir, 'preforkd-2.1')
    shutil.copy2(BINARY, daemon)
    init = Init(t, 'renamed', daemon=daemon)

    def check():
        start(init)
        comm = (read_file('/proc/%d/comm' % init.srv.master) or '').strip()
        expect(comm == 'preforkd-2.1', 'the master is named %r' % comm)
        stop(init)
    t.check('stop of a master whose binary is named preforkd-2.1 -> 0, '
            'all gone', check)


def stop_mid_upgrade(init):
    # SIGUSR2 by hand, then stop before WINCH/QUIT: both masters go.
    # Stopping only the new one would let the old take the pidfile
    # back and serve on.
    start(init)
    old = init.pid_from_file()
    oldbin = init.srv.pidfile + '.oldbin'
    os.kill(old, signal.SIGUSR2)

    def new_master():
        text = read_file(init.srv.pidfile)
        if not os.path.exists(oldbin) or not text or \
                not text.strip().isdigit() or int(text) == old:
            return None
        return int(text) if alive(int(text)) else None
    new = wait_until(new_master, T(15))
    expect(new, 'no new master in the pidfile after SIGUSR2 (%s: %r)'
           % (init.srv.pidfile, read_file(init.srv.pidfile)))
    init.srv.seen.add(new)
    fam = init.family() | {new} | set(children(new))
    status_is(init, 0)
    rc, text = init.run('stop')
    expect(rc == 0, 'stop exited %s: %r' % (rc, text.strip()))
    expect(wait_until(lambda: not any(alive(p) for p in fam), T(10)),
           'still running after stop: %s'
           % [p for p in fam if alive(p)])
    for path in (init.srv.pidfile, oldbin):
        expect(not os.path.exists(path), '%s left behind' % path)
    expect(not init.ours(), 'processes left: %s' % sorted(init.ours()))
    status_is(init, 3)


def stop_before_new_master_ready(t):
    """SIGUSR2 by hand, then stop while the new master is still starting
    (no pidfile of its own yet): the old master takes it down with it.
    Handed the service instead, it came up after stop had said 0."""
    bindir = os.path.join(t.dir, 'slow-bin')
    os.makedirs(bindir)
    daemon = os.path.join(bindir, 'preforkd')
    shutil.copy2(BINARY, daemon)
    init = Init(t, 'slow-upgrade', daemon=daemon)
    delay = T(3)

    def check():
        start(init)
        old = init.srv.master
        fam = init.family()
        # The new binary takes its time before it starts.
        new_file = daemon + '.dpkg-new'
        write_file(new_file, '#!/bin/sh\nsleep %g\nexec %s "$@"\n'
                   % (delay, BINARY))
        os.chmod(new_file, 0o755)
        os.replace(new_file, daemon)
        mark = init.srv.mark()
        os.kill(old, signal.SIGUSR2)
        new = int(init.srv.wait_log(r'upgrade: new master (\d+) started',
                                    mark).group(1))
        init.srv.seen.add(new)
        # Meanwhile the old master serves alone under .oldbin: running,
        # and a start must not make a second master.
        expect(not os.path.exists(init.srv.pidfile), 'the pidfile is '
               'there already: the new binary was not slow enough')
        status_is(init, 0)
        before = sorted(init.ours())
        rc, text = init.run('start')
        expect(rc == 0 and 'already running' in text, 'start during the '
               'upgrade: exit %s, %r' % (rc, text.strip()))
        expect(sorted(init.ours()) == before, 'start during the upgrade '
               'started %s' % sorted(set(init.ours()) - set(before)))
        rc, text = init.run('stop')
        expect(rc == 0, 'stop exited %s: %r' % (rc, text.strip()))
        expect(wait_until(lambda: not alive(new), T(1)),
               'the new master %d still runs after stop returned' % new)
        expect(wait_until(lambda: not any(alive(p) for p in fam), T(10)),
               'still running after stop: %s'
               % [p for p in fam if alive(p)])
        expect(init.srv.find(r'new master %d is not ready: stopping it'
                             % new, mark),
               'the old master did not log that it stops the new one')
        # Had it been left to start, it would be up by now.
        came = wait_until(lambda: init.ours() or
                          os.path.exists(init.srv.pidfile), delay + T(2))
        expect(not came, 'after stop: processes %s, pidfile %s'
               % (sorted(init.ours()), read_file(init.srv.pidfile)))
        for path in (init.srv.pidfile, init.srv.pidfile + '.oldbin'):
            expect(not os.path.exists(path), '%s left behind' % path)
        status_is(init, 3)
    t.check('while a new master (USR2 by hand) is still starting: status '
            'says running, start starts nothing, and stop has the old one '
            'stop it, nothing serving after', check)


NOBODY = 65534


def as_nobody():
    """For preexec_fn: the script runs as uid and gid 65534, no groups."""
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def open_to_all(top):
    """Lets any user enter and read what is under top, and run what its
    owner may run."""
    for d, dirs, files in os.walk(top):
        os.chmod(d, 0o755)
        for f in files:
            path = os.path.join(d, f)
            mode = os.stat(path).st_mode
            os.chmod(path, mode | 0o444 | (0o111 if mode & 0o100 else 0))


def foreign(t, script, mode, tag):
    """A master started by root; the script run by a user who may not
    signal it (uid 65534).  stop, reload, force-reload, restart and
    upgrade must say so and exit 4 (LSB: the user had insufficient
    privilege), the master serving on, and status must still say it
    runs.  As shipped, stop said "Stopping ... failed!" and exited 1
    after start-stop-daemon had tried to kill it; without flock the
    script took the master for dead (kill -0 fails for another user's
    process as for a gone one): stop said "not running" and exited 0;
    and with the pidfile closed to the user, both said "not running"."""
    def c(name, fn, *args):
        return t.check('%s: %s' % (mode, name), fn, *args)
    if os.geteuid() != 0:
        c('stop as a user who may not signal the master -> 4',
          lambda: skipped('not root: no master of another user to stop'))
        return
    # The user must read the script, the defaults and the pidfile, and
    # run DAEMON: the test's dir lies in the build tree, which may sit in
    # a directory only its owner may enter (root's home), so this
    # instance lives in the system's temp dir, open to all.
    base = tempfile.mkdtemp(prefix='preforkd-initd-%s.' % tag)
    init = None
    try:
        os.chmod(base, 0o755)
        own = os.path.join(base, 'preforkd.sh')
        shutil.copy(script, own)
        daemon = os.path.join(base, 'preforkd')
        shutil.copy2(BINARY, daemon)
        # An absolute name puts the server's dir under base.
        init = Init(t, os.path.join(base, 'foreign-' + tag), script=own,
                    daemon=daemon)
        open_to_all(base)
        fam = set()

        def unchanged(what):
            pid = init.srv.master
            expect(alive(pid), 'master %d gone after %s' % (pid, what))
            expect(init.pid_from_file() == pid, 'the pidfile changed after '
                   '%s' % what)
            expect(init.family() == fam, 'master and workers changed after '
                   '%s: %s -> %s' % (what, sorted(fam),
                                     sorted(init.family())))

        def refused(action):
            rc, text = init.run(action, preexec_fn=as_nobody)
            expect(rc == 4 and 'privilege' in text, '%s as uid %d: exit %s '
                   '(not 4, LSB: insufficient privilege), %r'
                   % (action, NOBODY, rc, text.strip()))
            unchanged('%s as uid %d' % (action, NOBODY))

        def stop_refused():
            # The pidfile the master writes must be readable to all, as
            # /run/preforkd.pid is, whatever umask runs the tests.
            umask = os.umask(0o022)
            try:
                start(init)
            finally:
                os.umask(umask)
            fam.update(init.family())
            refused('stop')
            init.serves('after a refused stop')

        def status_runs():
            rc, text = init.run('status', preexec_fn=as_nobody)
            expect(rc == 0, 'status as uid %d exited %s, not 0: %r'
                   % (NOBODY, rc, text.strip()))

        def others_refused():
            for action in ('reload', 'force-reload', 'restart', 'upgrade'):
                refused(action)
            init.serves('after refused actions')

        def pidfile_closed():
            os.chmod(init.srv.pidfile, 0o600)
            try:
                refused('stop')
                rc, text = init.run('status', preexec_fn=as_nobody)
                expect(rc == 4, 'status as uid %d with the pidfile closed '
                       'to it exited %s, not 4 (unknown): %r'
                       % (NOBODY, rc, text.strip()))
            finally:
                os.chmod(init.srv.pidfile, 0o644)

        if not c('stop as a user who may not signal the master -> 4, '
                 '"insufficient privilege", the master serves on',
                 stop_refused):
            return
        c('status as that user -> 0', status_runs)
        c('reload, force-reload, restart, upgrade as that user -> 4, '
          'nothing changed', others_refused)
        c('the pidfile closed to that user: stop -> 4, status -> 4',
          pidfile_closed)
        c('stop as root -> 0, all gone', stop, init)
    finally:
        if init is not None:
            init.srv.cleanup()
        shutil.rmtree(base, ignore_errors=True)



def pipe_holders(inode):
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            fds = os.listdir('/proc/%s/fd' % d)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink('/proc/%s/fd/%s' % (d, fd)) == \
                        'pipe:[%d]' % inode:
                    out.append(int(d))
                    break
            except OSError:
                pass
    return sorted(out)


def piped(t):
    """`ssh host /etc/init.d/preforkd start`, Ansible and `| tee` read the
    start's output from a pipe until EOF: the daemon must not keep it."""
    init = Init(t, 'pipe')

    def start_through_pipe():
        init.srv.start_mark = init.srv.mark()
        p = subprocess.Popen(init.argv('start'), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        inode = os.fstat(p.stdout.fileno()).st_ino
        try:
            out, _ = p.communicate(timeout=T(30))
        except subprocess.TimeoutExpired:
            rc = p.poll()
            holders = pipe_holders(inode)
            p.stdout.close()
            if rc is None:
                p.kill()
                p.wait()
            if os.path.exists(init.srv.pidfile):
                init.pid_from_file()
            raise Failure('no EOF on the start\'s output within %gs (script '
                          'exited %s); the pipe is held by %s (master %s)'
                          % (T(30), rc, holders, init.srv.master))
        expect(p.returncode == 0, 'start exited %s: %r'
               % (p.returncode, out))
        init.started()

    t.check('start with output to a pipe: returns and closes it',
            start_through_pipe)
    if os.path.exists(init.srv.pidfile):
        t.check('stop -> 0', stop, init)


BIG = 4 << 20     # bytes: far more than the socket buffers hold


class Download:
    """GET of a large file whose client reads only when it is told to:
    with a small receive buffer, the worker is still sending meanwhile."""

    def __init__(self, init):
        family, sockaddr = init.srv.addr('www')
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        self.sock.settimeout(T(10))
        self.sock.connect(sockaddr)
        self.sock.sendall(b'GET /big.bin HTTP/1.1\r\nHost: localhost\r\n'
                          b'Connection: close\r\n\r\n')
        self.data = bytearray()
        self.eof = False

    def read(self, at_least=None, timeout=None):
        """Reads at_least bytes, or to EOF (or a reset)."""
        deadline = time.monotonic() + (timeout or T(20))
        try:
            while not self.eof and (at_least is None or
                                    len(self.data) < at_least):
                expect(time.monotonic() < deadline, 'download: %d bytes '
                       'read in %gs, no EOF' % (len(self.data),
                                                timeout or T(20)))
                chunk = self.sock.recv(16384)
                self.eof = not chunk
                self.data += chunk
        except ConnectionResetError:
            self.eof = True

    def close(self):
        self.sock.close()

    def body(self):
        head, _, body = bytes(self.data).partition(b'\r\n\r\n')
        expect(head.startswith(b'HTTP/1.1 200 '), 'download: no 200 status '
               'line: %r' % head[:80])
        return body


class InBackground:
    """An action of the script, run in a thread: result() waits for its
    (status, output)."""

    def __init__(self, init, action):
        self.out = []
        self.thread = threading.Thread(target=self._run, args=(init, action),
                                       daemon=True)
        self.thread.start()

    def _run(self, init, action):
        try:
            self.out.append(init.run(action))
        except Exception as e:   # Failure included: reported by result()
            self.out.append(e)

    def result(self, timeout):
        self.thread.join(timeout)
        expect(self.out, 'the action still runs after %gs' % timeout)
        if isinstance(self.out[0], Exception):
            raise self.out[0]
        return self.out[0]


def graceful(t, script, mode, tag):
    """stop (and so restart) is graceful, as the systemd unit's is and as
    an administrator expects: SIGQUIT, so that a download in progress
    completes; after STOP_TIMEOUT seconds SIGTERM (the fast shutdown),
    then SIGKILL, so that a connection that never ends cannot hold the
    stop up.  The script used to send SIGTERM at once: the download was
    cut at the bytes the kernel's buffers held."""
    content = bytes(range(256)) * (BIG // 256)

    def download_finishes():
        init = Init(t, 'graceful-' + tag, script=script)
        with open(os.path.join(init.root, 'big.bin'), 'wb') as f:
            f.write(content)
        start(init)
        fam = init.family()
        d = Download(init)
        try:
            d.read(65536)
            mark = init.srv.mark()
            stopping = InBackground(init, 'stop')
            # Nothing is read until the master has had the signal, and a
            # moment more (the behaviour: a slow client): SIGTERM, the
            # fast shutdown, has ended the worker by then.
            how = init.srv.wait_log(r'(graceful|fast) shutdown', mark,
                                    T(10)).group(1)
            time.sleep(0.3)
            d.read(timeout=T(20))
        finally:
            d.close()
        rc, text = stopping.result(T(30))
        body = d.body()
        expect(body == content, 'the download was cut: %d of %d bytes '
               '(a %s shutdown)' % (len(body), len(content), how))
        expect(how == 'graceful', 'a %s shutdown' % how)
        expect(rc == 0, 'stop exited %s: %r' % (rc, text.strip()))
        all_gone(init, fam)

    def stop_bounded():
        init = Init(t, 'bounded-' + tag, script=script)
        init.stop_timeout = int(T(1))
        init.set_daemon(init.daemon)
        # No limit: only the script's SIGTERM ends the stalled client.
        init.shutdown_timeout = 0
        init.conf(workers=2)
        with open(os.path.join(init.root, 'big.bin'), 'wb') as f:
            f.write(content)
        start(init)
        fam = init.family()
        d = Download(init)
        try:
            d.read(65536)        # and no more: it stalls
            mark = init.srv.mark()
            began = time.monotonic()
            rc, text = init.run('stop')
            took = time.monotonic() - began
            expect(rc == 0, 'stop exited %s: %r' % (rc, text.strip()))
            all_gone(init, fam)
            expect(closed_by_peer(d.sock, T(5)), 'the stalled download '
                   'is still open')
        finally:
            d.close()
        log = [m.group(1) for m in
               init.srv.find(r'(graceful|fast) shutdown', mark)]
        expect(log == ['graceful', 'fast'], 'the master logged %s, not a '
               'graceful then a fast shutdown' % (log or 'neither'))
        expect(took >= init.stop_timeout - 0.1, 'stop returned after '
               '%.2fs, before STOP_TIMEOUT=%d' % (took, init.stop_timeout))
        expect(took < init.stop_timeout + T(10), 'stop took %.2fs with '
               'STOP_TIMEOUT=%d' % (took, init.stop_timeout))
        return 'stop took %.2fs' % took

    def c(name, fn):
        return t.check('%s: %s' % (mode, name), fn)
    c('stop during a 4 MB download: graceful, the download completes, '
      'exit 0, all gone', download_finishes)
    c('stop with a stalled client and shutdown-timeout = 0: SIGQUIT, '
      'SIGTERM after STOP_TIMEOUT, exit 0, all gone', stop_bounded)


# A stand-in for a master whose pid another process takes once it has
# gone: it holds the pidfile locked with its pid in it, and on the signal
# named in argv[2] removes the pidfile and unlocks it, as an exiting
# master does, but lives on, as the process that reused its pid would.
# SIGQUIT before that signal is ignored: a master still draining.
REUSED = r'''
import fcntl, os, signal, sys, time
path, leave_on = sys.argv[1], getattr(signal, sys.argv[2])
# What marks a master to preforkd -s: its scoreboard, made first.
sb = os.memfd_create('preforkd-scoreboard')
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, b'%d\n' % os.getpid())
def leave(signo, frame):
    os.unlink(path)
    os.close(fd)
    signal.signal(signo, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_IGN)
signal.signal(leave_on, leave)
print('ready', flush=True)
while True:
    time.sleep(1)
'''


def reused_pid(t, script, mode, tag):
    """Without start-stop-daemon, stop sends SIGQUIT (preforkd -s quit),
    waits for the pid, then escalates by pid: SIGTERM after STOP_TIMEOUT,
    SIGKILL 10 seconds later.  A master that has exited (its pidfile
    removed) while its pid was taken by another process is not the
    master any more: the escalation must first check that the pidfile
    still vouches for the pid, as the start-stop-daemon path does.  It
    used to send SIGTERM (or SIGKILL) to whatever held the pid."""
    init = Init(t, 'reused-' + tag, script=script)
    init.stop_timeout = int(T(1))
    init.set_daemon(init.daemon)

    def spared(leave_on):
        p = subprocess.Popen([sys.executable, '-c', REUSED,
                              init.srv.pidfile, leave_on],
                             stdout=subprocess.PIPE)
        try:
            expect(p.stdout.readline() == b'ready\n', 'the stand-in did '
                   'not start')
            status_is(init, 0)
            rc, text = init.run('stop')
            expect(p.poll() is None, 'stop killed pid %d (status %s) after '
                   'its pidfile had gone with the master: %r'
                   % (p.pid, p.returncode, text.strip()))
            expect(rc == 0, 'stop exited %s: %r' % (rc, text.strip()))
            expect(not os.path.exists(init.srv.pidfile), 'pidfile left')
        finally:
            p.kill()
            p.wait()
            p.stdout.close()

    def c(name, fn, *args):
        return t.check('%s: %s' % (mode, name), fn, *args)
    c('the master leaves on SIGQUIT, its pid reused: no SIGTERM to that '
      'pid, stop -> 0', spared, 'SIGQUIT')
    c('the master leaves on SIGTERM, its pid reused: no SIGKILL to that '
      'pid, stop -> 0', spared, 'SIGTERM')


def script_without(t, names, tag):
    """A copy of the script that does not find the commands named."""
    text = read_file(SCRIPT)
    expect(text is not None, 'cannot read %s' % SCRIPT)
    for name in names:
        old = 'command -v ' + name
        expect(old in text, '%r is no longer in %s' % (old, SCRIPT))
        text = text.replace(old, 'command -v no-' + name)
    path = os.path.join(t.dir, 'preforkd-%s.sh' % tag)
    write_file(path, text)
    return path


def fallback_script(t):
    text = read_file(SCRIPT)
    expect(text is not None, 'cannot read %s' % SCRIPT)
    for old, new in FALLBACKS:
        expect(old in text, '%r is no longer in %s: update FALLBACKS'
               % (old, SCRIPT))
        text = text.replace(old, new)
    path = os.path.join(t.dir, 'preforkd-fallback.sh')
    write_file(path, text)
    return path


def main():
    t = Test('test_initscript')
    reap_daemons()

    def sanity():
        expect(os.access(SCRIPT, os.X_OK), '%s is not executable' % SCRIPT)
        head = read_file(SCRIPT) or ''
        for key in ('Provides:', 'Required-Start:', 'Required-Stop:',
                    'Default-Start:', 'Default-Stop:', 'Short-Description:'):
            expect('# %s' % key in head, 'LSB header lacks %s' % key)
        expect(shutil.which('start-stop-daemon', path='/sbin:/usr/sbin'),
               'start-stop-daemon not found: install dpkg')
        rc, out, err = run(['sh', '-n', SCRIPT])
        expect(rc == 0, 'sh -n: %s' % err.strip())
    t.check('the script: executable, LSB header, sh -n', sanity)

    lifecycle(t, Init(t, 'lsb'), 'as shipped')
    fb = [None]
    if t.check('a copy without init-functions, start-stop-daemon and flock',
               lambda: fb.__setitem__(0, fallback_script(t))):
        lifecycle(t, Init(t, 'plain', script=fb[0]), 'fallbacks')
        t.check('fallbacks: stop in the middle of a binary upgrade stops '
                'both masters', stop_mid_upgrade,
                Init(t, 'plain-upgrade', script=fb[0]))
    graceful(t, SCRIPT, 'as shipped', 'lsb')
    if fb[0]:
        graceful(t, fb[0], 'fallbacks', 'plain')
    stranger(t)
    upgrade(t)
    stop_before_new_master_ready(t)
    renamed(t)
    switched(t, SCRIPT, 'as shipped', 'lsb')
    if fb[0]:
        switched(t, fb[0], 'fallbacks', 'plain')
    master_env(t, SCRIPT, 'as shipped', 'lsb')
    if fb[0]:
        master_env(t, fb[0], 'fallbacks', 'plain')
    pidfile_dir(t, SCRIPT, 'as shipped', 'lsb')
    if fb[0]:
        pidfile_dir(t, fb[0], 'fallbacks', 'plain')
        reused_pid(t, fb[0], 'fallbacks', 'plain')
    nossd = [None]
    if t.check('a copy without start-stop-daemon (flock found)',
               lambda: nossd.__setitem__(0, script_without(
                   t, ['start-stop-daemon'], 'no-ssd'))):
        reused_pid(t, nossd[0], 'without start-stop-daemon', 'no-ssd')
    foreign(t, SCRIPT, 'as shipped', 'lsb')
    if fb[0]:
        foreign(t, fb[0], 'fallbacks', 'plain')
    piped(t)
    t.finish()


if __name__ == '__main__':
    main()

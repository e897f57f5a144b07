# SPDX-License-Identifier: BSD-2-Clause
"""Log rotation with the shipped etc/logrotate.d/preforkd and real logrotate.

The shipped file is the template: its paths are moved into the test's temp
dir (logs, config, the init script's defaults file), its binary is the
built one, `create` names the current user; the pidfile is the one the
defaults file names, as for the init script, not the template's.  A daemon serves N requests, logrotate -f rotates, M more
requests follow: the N lines stay in access.log.1, the M land in the new
access.log, none lost or doubled (each request carries a unique query
string); the error log continues in the new error.log, workers started after
the rotation included.  A second rotation compresses the first (delaycompress)
and loses nothing either."""
import grp
import gzip
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, HERE, T, expect, http_get,
                     fd_targets, read_file, run, wait_until, write_file, Test)

TEMPLATE = os.path.normpath(os.path.join(HERE, '..', '..', 'etc',
                                         'logrotate.d', 'preforkd'))
ID_RE = re.compile(r'"GET /index\.html\?id=([a-z]+-\d+) HTTP/1\.0"')


def ids_in(path):
    """Request ids logged in path (plain or .gz), in order."""
    if path.endswith('.gz'):
        with gzip.open(path, 'rt', errors='replace') as f:
            text = f.read()
    else:
        text = read_file(path)
        expect(text is not None, '%s does not exist' % path)
    return ID_RE.findall(text)


class Rotation:
    def __init__(self, t):
        self.t = t
        srv = self.srv = t.server('rot')
        self.root = os.path.join(srv.dir, 'htdocs')
        os.makedirs(self.root)
        write_file(os.path.join(self.root, 'index.html'), 'rotate me\n')
        self.access = os.path.join(srv.dir, 'access.log')
        # logrotate skips logs in a group-writable dir (umask 002).
        os.chmod(srv.dir, 0o755)
        srv.write_conf(
            'pidfile = "%s"\n'
            'error-log = "%s"\n'
            'log-level = "debug"\n'
            'shutdown-timeout = 5\n'
            'server www {\n'
            '  listen = "127.0.0.1:0"\n'
            '  handler = "http"\n'
            '  workers = 2\n'
            '  http {\n'
            '    root = "%s"\n'
            '    access-log = "%s"\n'
            '  }\n'
            '}\n' % (srv.pidfile, srv.log, self.root, self.access))
        self.lr_conf = os.path.join(srv.dir, 'logrotate.conf')
        self.state = os.path.join(srv.dir, 'logrotate.state')
        self.sent = []
        # /usr/sbin is not in a user's PATH on Debian.
        self.tool = shutil.which('logrotate', path=os.environ.get(
            'PATH', '') + ':/usr/sbin:/sbin')

    def write_lr_conf(self):
        text = read_file(TEMPLATE)
        expect(text is not None, 'cannot read %s' % TEMPLATE)
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        srv = self.srv
        self.defaults = os.path.join(srv.dir, 'default-preforkd')
        write_file(self.defaults, 'PIDFILE=%s\n' % srv.pidfile)
        for old, new in (('/var/log/preforkd', srv.dir),
                         ('/etc/default/preforkd', self.defaults),
                         ('/run/preforkd.pid',
                          os.path.join(srv.dir, 'not-the.pid')),
                         ('/usr/sbin/preforkd', BINARY),
                         ('/etc/preforkd.conf', srv.conf),
                         ('create 0640 www-data adm',
                          'create 0640 %s %s' % (user, group))):
            expect(old in text, '%r is not in %s' % (old, TEMPLATE))
            text = text.replace(old, new)
        write_file(self.lr_conf, text)
        os.chmod(self.lr_conf, 0o644)    # logrotate ignores writable ones
        return text

    def send(self, tag, n):
        ids = ['%s-%d' % (tag, i) for i in range(n)]
        for i in ids:
            status, _ = http_get(self.srv.addr('www'),
                                 '/index.html?id=' + i)
            expect(status == 200, 'GET %s: status %d' % (i, status))
        self.sent += ids
        return ids

    def wait_lines(self, path, ids):
        """Waits until path holds exactly ids (the log is written after the
        response, so it may lag a little)."""
        got = wait_until(lambda: ids_in(path) == ids or None, T(10))
        expect(got, '%s holds %s, expected %s' % (
            os.path.basename(path), ids_in(path), ids))

    def logrotate(self):
        rc, out, err = run([self.tool, '-s', self.state, '-f',
                            self.lr_conf], timeout=T(60))
        expect(rc == 0, 'logrotate exited %s: %s' % (rc, (out + err).strip()))
        expect(not err.strip(), 'logrotate said: %s' % err.strip())

    def holders_of(self, paths, pids):
        return {p: [f for f in fd_targets(p) if f in paths] for p in pids
                if any(f in paths for f in fd_targets(p))}

    def wait_reopened(self, workers):
        """The postrotate "-s reopen" only signals: waits until the master
        logged the reopen and the workers dropped the rotated files."""
        srv = self.srv
        old = {self.access + '.1', srv.log + '.1'}
        srv.wait_log(r'reopened log files')
        wait_until(lambda: not self.holders_of(old, workers), T(10))
        held = self.holders_of(old, workers)
        expect(not held, 'workers still hold the rotated files: %s' % held)


def main():
    t = Test('test_logrotate')
    r = Rotation(t)
    srv = r.srv
    st = {}

    def prerequisites():
        expect(r.tool, 'logrotate not found: install the logrotate package')
        text = r.write_lr_conf()
        expect('postrotate' in text and '-s reopen' in text,
               'the template has no "-s reopen" postrotate')
        return '%s, template %s' % (r.tool, TEMPLATE)

    def start():
        rc, out, err = srv.start_daemon()
        expect(rc == 0, 'start exited %s: %s' % (rc, err.strip()))
        st['workers'] = srv.wait_workers(2)

    def before():
        ids = r.send('before', 10)
        r.wait_lines(r.access, ids)
        st['before'] = ids

    def rotate():
        old = {r.access + '.1', srv.log + '.1'}
        st['mark'] = os.path.getsize(srv.log)
        r.logrotate()
        for p in sorted(old):
            expect(os.path.exists(p), '%s was not rotated' % p)
        expect(ids_in(r.access + '.1') == st['before'],
               'access.log.1 holds %s' % ids_in(r.access + '.1'))
        for p in (r.access, srv.log):
            expect(os.path.exists(p), 'no new %s after the rotation' % p)
            mode = stat.S_IMODE(os.stat(p).st_mode)
            expect(mode == 0o640, '%s has mode %o, not 0640 ("create")'
                   % (p, mode))
        r.wait_reopened(st['workers'])

    def master_reopened():
        old = {r.access + '.1', srv.log + '.1'}
        held = r.holders_of(old, [srv.master])
        expect(not held, 'the master still holds %s after the reopen: '
               'workers it starts later (respawn, TTIN, max-requests) '
               'inherit it and log into the rotated file'
               % held.get(srv.master))

    def after():
        ids = r.send('after', 7)
        r.wait_lines(r.access, ids)
        expect(ids_in(r.access + '.1') == st['before'],
               'access.log.1 changed: %s' % ids_in(r.access + '.1'))
        st['after'] = ids

    def none_lost():
        logged = ids_in(r.access + '.1') + ids_in(r.access)
        expect(sorted(logged) == sorted(r.sent), 'sent %d requests, logged '
               '%d: missing %s, extra %s'
               % (len(r.sent), len(logged),
                  sorted(set(r.sent) - set(logged)),
                  [i for i in logged if logged.count(i) > 1]))
        return '%d + %d lines' % (len(st['before']), len(st['after']))

    def error_log():
        old = srv.log + '.1'
        size = os.path.getsize(old)
        text = read_file(srv.log) or ''
        expect('reopened log files' in text,
               'the new error.log lacks "reopened log files": %r'
               % text[-300:])
        mark = len(text)
        srv.signal(signal.SIGTTIN)
        m = srv.wait_log(r'server www: worker (\d+) started', since=mark)
        new = int(m.group(1))
        srv.wait_workers(3)
        expect(os.path.getsize(old) == size, 'error.log.1 grew after the '
               'rotation: %r' % (read_file(old) or '')[size:])
        held = r.holders_of({old, r.access + '.1'}, [new])
        expect(not held, 'worker %d, started after the rotation, holds %s'
               % (new, held.get(new)))

    def second():
        r.logrotate()
        gz = r.access + '.2.gz'
        expect(os.path.exists(gz), 'no %s (compress, delaycompress)'
               % os.path.basename(gz))
        expect(not os.path.exists(r.access + '.2'),
               'access.log.2 left uncompressed')
        expect(ids_in(gz) == st['before'], 'access.log.2.gz holds %s'
               % ids_in(gz))
        expect(ids_in(r.access + '.1') == st['after'],
               'access.log.1 holds %s' % ids_in(r.access + '.1'))
        r.wait_reopened(srv.workers())
        ids = r.send('third', 5)
        r.wait_lines(r.access, ids)
        logged = ids_in(gz) + ids_in(r.access + '.1') + ids_in(r.access)
        expect(sorted(logged) == sorted(r.sent), 'logged %d of %d: missing '
               '%s' % (len(logged), len(r.sent),
                       sorted(set(r.sent) - set(logged))))

    def stop():
        rc, out, err = srv.ctl('stop')
        expect(rc == 0, '-s stop exited %s: %s' % (rc, err.strip()))
        expect(srv.wait_exit(T(10)), 'master still runs')

    def stale_pidfile():
        """A pidfile left by a master killed with -9 names a dead pid:
        nothing runs, so nothing to reopen and no error.  Before, the
        postrotate's "-s reopen" failed on it and logrotate with it."""
        p = subprocess.Popen(['true'])
        p.wait()
        write_file(srv.pidfile, '%d\n' % p.pid)
        r.logrotate()

    def package_removed():
        """Removed, not purged: the logs and this file stay, the binary is
        gone; the nightly run must not fail on it."""
        # Something to rotate (notifempty), or the postrotate never runs.
        with open(r.access, 'a') as f:
            f.write('a line of before the removal\n')
        write_file(r.defaults, 'PIDFILE=%s\nDAEMON=%s\n' % (
            srv.pidfile, os.path.join(srv.dir, 'removed', 'preforkd')))
        r.logrotate()

    if t.check('logrotate present, template rewritten to the temp dir',
               prerequisites) and \
            t.check('daemon starts with an access log', start):
        t.check('10 requests: 10 lines in access.log', before)
        if t.check('logrotate -f: access.log.1 holds them, new files are '
                   '0640, the workers reopen', rotate):
            t.check('the master reopened the access log too',
                    master_reopened)
            t.check('7 more requests land in the new access.log only', after)
            t.check('none lost, none doubled', none_lost)
            t.check('error log continues in the new error.log (SIGTTIN); '
                    'the new worker holds no rotated file', error_log)
            t.check('second rotation: .2.gz holds the first 10, .1 the 7; '
                    'nothing lost', second)
        if t.check('-s stop', stop):
            t.check('a stale pidfile: logrotate -f exits 0, says nothing',
                    stale_pidfile)
            t.check('the binary removed: logrotate -f exits 0, says nothing',
                    package_removed)
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""Files a worker holds: its own server's access log of its own
generation, nothing of another server's nor of a retired generation's, so
a log rotated after a reload is freed once it is deleted."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Test, expect, fd_targets, http_get, wait_until,
                     write_file)

SERVERS = ('www', 'www2', 'echo')


class Setup:
    def __init__(self, t):
        srv = self.srv = t.server('files')
        self.root = os.path.join(srv.dir, 'htdocs')
        os.makedirs(self.root)
        write_file(os.path.join(self.root, 'index.html'), 'hello\n')
        self.logs = {name: os.path.join(srv.dir, 'access-%s.log' % name)
                     for name in ('www', 'www2')}
        text = ('pidfile = "%s"\nerror-log = "%s"\nlog-level = "debug"\n'
                'shutdown-timeout = 5\n' % (srv.pidfile, srv.log))
        for name in ('www', 'www2'):
            text += ('server %s {\n  listen = "127.0.0.1:0"\n'
                     '  handler = "http"\n  workers = 2\n  http {\n'
                     '    root = "%s"\n    access-log = "%s"\n  }\n}\n'
                     % (name, self.root, self.logs[name]))
        text += ('server echo {\n  listen = "127.0.0.1:0"\n'
                 '  handler = "echo"\n  workers = 2\n}\n')
        srv.write_conf(text)
        self.mark = 0

    def access_files(self, pid):
        """The access logs (rotated or deleted too) that pid holds open."""
        return sorted(f for f in fd_targets(pid)
                      if os.path.basename(f).startswith('access-'))

    def workers_by_server(self):
        """{pid: server} of the workers started since the last mark."""
        out = {}
        for name in SERVERS:
            for pid in self.srv.started(name, self.mark):
                out[pid] = name
        return out

    def wrong_files(self):
        """(pid, server, files) of every worker holding a file not its own."""
        bad = []
        for pid, name in sorted(self.workers_by_server().items()):
            files = self.access_files(pid)
            want = [self.logs[name]] if name in self.logs else []
            if files != want:
                bad.append((pid, name, [os.path.basename(f) for f in files]))
        return bad


def own_files_only(s):
    bad = s.wrong_files()
    expect(not bad, 'workers hold other files than their own server\'s '
           'access log: %s' % bad)


def after_reload(s):
    srv = s.srv
    old = srv.workers()
    s.mark = srv.mark()
    rc, out, err = srv.ctl('reload')
    expect(rc == 0, '-s reload exited %s: %s' % (rc, err.strip()))
    new = srv.wait_workers(6, gone=old)
    expect(sorted(s.workers_by_server()) == new, 'workers %s, logged as '
           'started since the reload: %s' % (new, s.workers_by_server()))
    own_files_only(s)


def rotated_log_freed(s):
    srv = s.srv
    for name, path in s.logs.items():
        os.rename(path, path + '.1')
    rc, out, err = srv.ctl('reopen')
    expect(rc == 0, '-s reopen exited %s: %s' % (rc, err.strip()))
    # Every worker has reopened its log once it holds the new file.
    ok = wait_until(lambda: not s.wrong_files(), T(10))
    expect(ok, 'after the rotation: %s' % s.wrong_files())
    for path in s.logs.values():
        os.unlink(path + '.1')
    for name in ('www', 'www2'):
        status, body = http_get(srv.addr(name), '/index.html')
        expect(status == 200, 'GET on %s answered %d' % (name, status))

    def holders():
        return {pid: [f for f in s.access_files(pid) if f.endswith('.1') or
                      f.endswith('(deleted)')]
                for pid in [srv.master] + srv.workers()
                if any(f.endswith('.1') or f.endswith('(deleted)')
                       for f in s.access_files(pid))}
    ok = wait_until(lambda: not holders(), T(10))
    expect(ok, 'deleted logs still held open: %s' % holders())


def main():
    t = Test('test_worker_files')
    s = Setup(t)
    if t.check('server starts', s.srv.start):
        t.check('each worker holds its own server\'s access log only',
                own_files_only, s)
        t.check('after a reload: only the new generation\'s own log',
                after_reload, s)
        t.check('after a rotation the deleted logs are held by nobody',
                rotated_log_freed, s)
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""A worker out of descriptors (EMFILE): 503 with Retry-After, not 500 or
403; logged once per interval with a count, not once per request; the
worker serves on once descriptors are back.  And an open-file cache
larger than the worker's limit gives way: cached files are closed for
new ones, never a 503 while the cache holds descriptors.

The worker's RLIMIT_NOFILE is lowered while it waits in accept(), to just
what lets it accept a connection and make `opens` more opens: the limit
bounds descriptor numbers, so it is set from the numbers in use, and the
same request fails the same way every time.
"""
import os
import re
import resource
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, expect, fd_targets, wait_until
from test_http_util import (expect_status, get, http_server, make_tree,
                            no_worker_trouble)

# Each worker reports for itself: %d is its pid.
REPORT_RE = (r'preforkd\[%d\]: open\(([^)\n]*)\): Too many open files: '
             r'answering 503 \((\d+) more since the last report\)')
REPORT_INTERVAL = 10    # seconds, as in src/http/file.c


def fd_numbers(pid):
    return {int(fd) for fd in os.listdir('/proc/%d/fd' % pid)}


def free_numbers(pid, n):
    """The n lowest descriptor numbers pid does not use."""
    used, out, fd = fd_numbers(pid), [], 0
    while len(out) < n:
        if fd not in used:
            out.append(fd)
        fd += 1
    return out


def worker_of(srv, name):
    """The one live worker of server `name`."""
    pids = [p for p in srv.started(name) if p in srv.workers()]
    expect(len(pids) == 1, 'server %s: workers %s, expected one'
           % (name, pids))
    return pids[0]


class Limited:
    """The soft RLIMIT_NOFILE of server `name`'s worker lowered so that it
    can accept and then open `opens` more descriptors; restored on exit."""

    def __init__(self, srv, opens, name='www'):
        self.srv, self.opens, self.name = srv, opens, name

    def __enter__(self):
        self.pid = worker_of(self.srv, self.name)
        idle = self.srv.idle_fds[self.pid]
        # Back to its idle set: the last connection's close may lag.
        expect(wait_until(lambda: fd_numbers(self.pid) == idle, T(10)),
               'worker %d holds %s, not its idle set %s'
               % (self.pid, sorted(fd_numbers(self.pid)), sorted(idle)))
        self.saved = resource.prlimit(self.pid, resource.RLIMIT_NOFILE)
        limit = free_numbers(self.pid, 2 + self.opens)[-1]
        resource.prlimit(self.pid, resource.RLIMIT_NOFILE,
                         (limit, self.saved[1]))
        return self

    def __exit__(self, *exc):
        resource.prlimit(self.pid, resource.RLIMIT_NOFILE, self.saved)


MANY = 40               # distinct files, more than the cache's limit allows


def build(srv):
    files = {
        'a.txt': 'alpha\n',
        'dir/index.html': 'dir index\n',
        'list/b.txt': 'beta\n',
    }
    for i in range(MANY):
        files['many/f%d.txt' % i] = 'file %d\n' % i
        files['more/g%d.txt' % i] = 'more %d\n' % i
    make_tree(os.path.join(srv.dir, 'root'), files)
    srv.built = time.time()


def expect_503(srv, r, what, name='www'):
    expect_status(r, 503, what)
    expect(r.header('retry-after') == '5', '%s: Retry-After %r, expected 5'
           % (what, r.header('retry-after')))
    srv.events[name] += 1


def reports(srv, since, name='www'):
    return [(m.group(1), int(m.group(2))) for m in
            srv.find(REPORT_RE % worker_of(srv, name), since)]


def at_each_open(srv):
    # The file itself; a directory's index (not "no index": no 403, no
    # listing); a listing's own open.
    srv.events = {'www': 0, 'plain': 0}
    srv.first_event = time.monotonic()
    for target, opens, name in (('/a.txt', 0, 'www'), ('/dir/', 1, 'plain'),
                                ('/list/', 1, 'www')):
        with Limited(srv, opens, name):
            expect_503(srv, get(srv, target, name=name),
                       'server %s: GET %s out of descriptors'
                       % (name, target), name)
    expect(reports(srv, 0, 'plain') == [(srv.root + '/dir/', 0)],
           'server plain: reports %s' % reports(srv, 0, 'plain'))
    with Limited(srv, 1):
        r = get(srv, '/a.txt')
        expect(r.status == 200 and r.body == b'alpha\n', 'GET /a.txt with '
               'one descriptor to spare: %r' % r)


def logged_once(srv, since):
    with Limited(srv, 0):
        for i in range(5):
            expect_503(srv, get(srv, '/a.txt'), 'request %d out of '
                       'descriptors' % i)
    elapsed = time.monotonic() - srv.first_event
    got = reports(srv, since)
    expect(got and got[0] == (srv.root + '/a.txt', 0),
           'the first report: %s' % got)
    # Measured here, elapsed bounds the worker's own: under it, one report.
    expect(len(got) == 1 or elapsed >= REPORT_INTERVAL,
           '%d requests out of descriptors in %.1f s: %d reports, expected '
           '1: %s' % (srv.events['www'], elapsed, len(got), got))


def count_after_interval(srv, since):
    # Events go on; the next report, an interval later, counts those held.
    def new_report():
        with Limited(srv, 0):
            expect_503(srv, get(srv, '/a.txt'), 'a request out of '
                       'descriptors')
        return len(reports(srv, since)) > before
    before = len(reports(srv, since))
    expect(wait_until(new_report, T(REPORT_INTERVAL * 3), interval=0.5),
           'no new report within %g s' % T(REPORT_INTERVAL * 3))
    got = reports(srv, since)
    # The last request made the last report: every event is accounted for.
    told = sum(1 + held for _, held in got)
    expect(told == srv.events['www'], '%d requests out of descriptors, the '
           'reports account for %d: %s' % (srv.events['www'], told, got))
    expect(got[-1][1] > 0, 'the last report counts nothing held: %s' % got)


def settled(srv):
    # The cache takes only files that have stopped changing (2 s).
    expect(wait_until(lambda: time.time() >= srv.built + 3, T(10)),
           'the files did not settle')


def cache_keeps_clear(srv, since):
    """open-file-cache = 64 under a limit with room for 12 more files:
    every one of MANY files is served, twice, and so is a listing; the
    cache stays clear of the limit (room for opens outside it: a listing,
    a log reopen, a directory searched but not read) and holds some."""
    settled(srv)
    pid = worker_of(srv, 'cached')
    saved = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    try:
        limit = max(fd_numbers(pid)) + 1 + 12
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, saved[1]))
        for round_ in range(2):
            for i in range(MANY):
                r = get(srv, '/many/f%d.txt' % i, name='cached')
                expect(r.status == 200 and r.body == b'file %d\n' % i,
                       'round %d, GET /many/f%d.txt under the limit: %r'
                       % (round_, i, r))
            r = get(srv, '/many/', name='cached')
            expect(r.status == 200 and b'f39.txt' in r.body,
                   'the listing under the limit: %r' % r)
        # 8 left free: the cache's own headroom (src/http/cached.c).
        top = max(fd_numbers(pid))
        expect(top < limit - 8, 'descriptor %d held, at a limit of %d: no '
               'room left for opens outside the cache' % (top, limit))
        files = [f for f in fd_targets(pid)
                 if f.startswith(os.path.join(srv.root, 'many') + '/')]
        expect(files, 'the cache held no file: %s' % fd_targets(pid))
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, saved)


def cache_gives_way(srv, since):
    """A cache filled under a higher limit, then the limit lowered to just
    above its descriptors: new files are still served (cached ones are
    closed for them), and that is reported once, as a warning."""
    settled(srv)
    pid = worker_of(srv, 'filled')
    saved = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    try:
        for i in range(MANY):
            expect_status(get(srv, '/many/f%d.txt' % i, name='filled'), 200,
                          'GET /many/f%d.txt' % i)
        # Room for the connection only: its file's open fails at first.
        limit = max(fd_numbers(pid)) + 2
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, saved[1]))
        for i in range(MANY):
            r = get(srv, '/more/g%d.txt' % i, name='filled')
            expect(r.status == 200 and r.body == b'more %d\n' % i,
                   'GET /more/g%d.txt with the cache at the limit: %r'
                   % (i, r))
        r = get(srv, '/more/', name='filled')
        expect(r.status == 200 and b'g39.txt' in r.body,
               'the listing with the cache at the limit: %r' % r)
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, saved)
    got = srv.find(r'preforkd\[%d\]: open-file cache: Too many open files: '
                   r'closed (\d+) cached file\(s\); open-file-cache = 64 is '
                   r'more than' % pid, since)
    expect(len(got) == 1, 'reports of the cache giving way: %d, expected '
           'one within the minute' % len(got))


def serves_again(srv, workers):
    for name in ('www', 'plain'):
        r = get(srv, '/a.txt', name=name)
        expect(r.status == 200 and r.body == b'alpha\n', 'server %s: GET '
               '/a.txt after: %r' % (name, r))
    expect(sorted(srv.workers()) == workers, 'workers %s, expected the '
           'same %s' % (srv.workers(), workers))


def main():
    t = Test('test_http_emfile')
    # No open-file cache: each request opens its file, and the cache's
    # descriptors would not make the idle set.
    srv = http_server(t, 'emfile', [
        dict(name='www', workers=1, http=dict(root='root', autoindex=True,
                                              open_file_cache=0)),
        dict(name='plain', workers=1, http=dict(root='root',
                                                open_file_cache=0)),
        dict(name='cached', workers=1, http=dict(root='root', autoindex=True,
                                                 open_file_cache=64)),
        dict(name='filled', workers=1, http=dict(root='root', autoindex=True,
                                                 open_file_cache=64)),
    ])
    build(srv)
    srv.root = os.path.join(srv.dir, 'root')
    if not t.check('server starts', srv.start):
        t.finish()
    mark = srv.mark()
    workers = sorted(srv.workers())

    def baseline():
        # A first request does any lazy set-up; the idle set is then stable.
        srv.idle_fds = {}
        for name, target in (('www', '/list/'), ('plain', '/dir/')):
            pid = worker_of(srv, name)
            expect_status(get(srv, '/a.txt', name=name), 200, 'GET /a.txt')
            srv.idle_fds[pid] = idle = fd_numbers(pid)
            expect_status(get(srv, target, name=name), 200, 'GET ' + target)
            expect(wait_until(lambda: fd_numbers(pid) == idle, T(10)),
                   'worker fds %s after a request, %s before'
                   % (sorted(fd_numbers(pid)), sorted(idle)))
    if not t.check('baseline: the workers\' idle descriptors', baseline):
        t.finish()
    t.check('EMFILE at the file, the index, the listing: 503, Retry-After',
            at_each_open, srv)
    t.check('8 such requests in a burst: one report', logged_once, srv, mark)
    t.check('an interval later, one more report with the count held',
            count_after_interval, srv, mark)
    t.check('an open-file cache larger than the limit keeps clear of it',
            cache_keeps_clear, srv, mark)
    t.check('a cache at the limit gives way: no 503, one report',
            cache_gives_way, srv, mark)
    t.check('descriptors back: the same workers serve', serves_again, srv,
            workers)
    t.check('no worker died', no_worker_trouble, srv, mark)
    t.finish()


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The open-file cache under change: a cached file replaced by rename,
changed in place, truncated, deleted and recreated, or replaced by a
symbolic link out of the root, while a keep-alive client fetches it in a
loop.  Every response must be one whole version of the file with the
headers of that version, and a request made open-file-cache-valid after
the change must get the newest one.  A reload leaves no cached file open.

Servers: www, 6 workers (one per concurrent client), open-file-cache 16,
open-file-cache-valid 1, keepalive-timeout 10; one, a single worker with
the defaults; shutdown-timeout 30, so that a retiring worker is not
killed before the checks are done.
"""
import calendar
import email.utils
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Test, expect, fd_targets, listening_inodes,
                     socket_inodes, wait_until)
from test_http_util import (HttpClient, expect_status, http_server,
                            no_worker_trouble)

VALID = 1           # open-file-cache-valid
SETTLE = 2.2        # a file enters the cache once unchanged this long
KA_TIMEOUT = 10


def http_date(t):
    return email.utils.formatdate(int(t), usegmt=True)


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def wait_settled(paths):
    """Waits (bounded) until no file has changed for SETTLE seconds."""
    def settled():
        now = time.time()
        return all(now - max(os.stat(p).st_mtime, os.stat(p).st_ctime) >
                   SETTLE for p in paths)
    expect(wait_until(settled, T(10) + SETTLE, 0.05),
           'files not settled within %gs' % (T(10) + SETTLE))


def held_open(srv, path):
    """The pids of the server's processes that have path open."""
    pids = [srv.master] + srv.workers()
    return [p for p in pids if path in fd_targets(p)]


# Each scenario: the versions' contents, and the change from v1 to v2
# (a function of the file's path, the new content and the outside file).

def by_rename(path, data, outside):
    write(path + '.new', data)
    os.rename(path + '.new', path)


def in_place(path, data, outside):
    with open(path, 'r+b') as f:
        f.write(data)


def truncated(path, data, outside):
    write(path, data)       # open(O_TRUNC), then write: an empty moment


def recreated(path, data, outside):
    os.unlink(path)
    write(path, data)


def to_symlink(path, data, outside):
    os.symlink(outside, path + '.new')
    os.rename(path + '.new', path)


SCENARIOS = [
    # name, v1, v2, change, what else may be seen in between
    ('renamed', b'one\n' * 300, b'two\n' * 175, by_rename, ()),
    ('renamed-big', b'1' * 65536, b'2' * 40000, by_rename, ()),
    ('in-place', b'A' * 1000, b'B' * 1000, in_place, ()),
    ('truncated', b'long version\n' * 100, b'short\n' * 20, truncated,
     (b'',)),
    ('recreated', b'old file\n' * 50, b'new file\n' * 60, recreated,
     (404,)),
    ('symlinked-out', b'inside\n' * 40, None, to_symlink, ()),
]


class Fetcher(threading.Thread):
    """Fetches one path on one keep-alive connection until told to stop;
    records (time sent, response)."""

    def __init__(self, srv, target, name='www'):
        super().__init__(daemon=True)
        self.srv = srv
        self.target = target
        self.server_name = name
        self.seen = []
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            with HttpClient(self.srv, self.server_name) as c:
                while not self.stop.is_set():
                    sent = time.monotonic()
                    r = c.request(self.target)
                    if r is None:
                        raise AssertionError('connection closed')
                    self.seen.append((sent, r))
        except Exception as e:
            self.error = '%s: %s' % (type(e).__name__, e)


def run_scenario(srv, root, outside, sc):
    name, v1, v2, change, between = sc
    path = os.path.join(root, name)
    f = Fetcher(srv, '/' + name)
    f.start()
    try:
        ok = wait_until(lambda: held_open(srv, path) or f.error, T(10))
        expect(ok and not f.error, '%s: no worker keeps the file open '
               '(not cached) within %gs%s' % (name, T(10), f.error or ''))
        v1_date = http_date(os.stat(path).st_mtime)
        start = time.monotonic()
        change(path, v2, outside)
        done = time.monotonic()
        v2_date = http_date(os.stat(path).st_mtime) if v2 else None
        expect(wait_until(lambda: f.error or (f.seen and f.seen[-1][0] >
                                              done + VALID + 0.5), T(10)),
               '%s: no request made %gs after the change' % (name, VALID))
    finally:
        f.stop.set()
        f.join(T(10))
    expect(not f.error, '%s: client: %s' % (name, f.error))
    return check_responses(name, f.seen, start, done,
                           {v1: v1_date, v2: v2_date}, between)


def modified_ok(r, own):
    """The Last-Modified of a response is its version's own, or its Date
    when that is earlier: a file changed within the last second may have
    an mtime later than the server's clock in whole seconds (time() reads
    a clock that lags the file system's by a few ms), and RFC 9110
    8.8.2.1 puts the Date in its place."""
    got = r.header('last-modified')
    if got == own:
        return True
    date = r.header('date')
    if got is None or date is None:
        return False
    # The clamp and the Date read the clock apart: a second may pass.
    got_t = email.utils.parsedate_to_datetime(got)
    return (got_t <= email.utils.parsedate_to_datetime(date) and
            got_t < email.utils.parsedate_to_datetime(own) and
            (email.utils.parsedate_to_datetime(date) -
             got_t).total_seconds() <= 1)


def check_responses(name, seen, start, done, dates, between):
    """Every response whole and consistent; the newest after VALID."""
    v1, v2 = list(dates)
    etags = {}
    counts = {'v1': 0, 'v2': 0, 'between': 0}
    for i, (sent, r) in enumerate(seen):
        what = '%s: response %d (sent %+.3fs after the change)' % (
            name, i + 1, sent - done)
        late = sent >= done + VALID
        if v2 is None and r.status == 403:
            counts['v2'] += 1
            continue
        if r.status == 404 and 404 in between and sent >= start and not late:
            counts['between'] += 1
            continue
        expect_status(r, 200, what)
        expect(r.header('content-length') == str(len(r.body)),
               '%s: Content-Length %s for %d bytes' % (
                   what, r.header('content-length'), len(r.body)))
        if r.body == v2 and v2 is not None:
            counts['v2'] += 1
            expect(modified_ok(r, dates[v2]), '%s: new body '
                   'with Last-Modified %s, not its own %s' % (
                       what, r.header('last-modified'), dates[v2]))
        elif r.body == v1 and not late:
            counts['v1'] += 1
            expect(modified_ok(r, dates[v1]), '%s: old body '
                   'with Last-Modified %s, not its own %s' % (
                       what, r.header('last-modified'), dates[v1]))
        elif r.body in between and sent >= start and not late:
            counts['between'] += 1
        else:
            raise AssertionError('%s: %s body of %d bytes: %r' % (
                what, 'an old' if r.body == v1 else 'not one whole',
                len(r.body), r.body[:40]))
        tag = r.header('etag')
        expect(etags.setdefault(tag, r.body) == r.body,
               '%s: ETag %s given to two different bodies' % (what, tag))
    expect(counts['v1'] > 0 and counts['v2'] > 0, '%s: responses %s: '
           'both versions expected' % (name, counts))
    return '%s: %d old, %d new, %d in between' % (
        name, counts['v1'], counts['v2'], counts['between'])


def under_change(srv, root, outside):
    for name, v1, *_ in SCENARIOS:
        write(os.path.join(root, name), v1)
    wait_settled([os.path.join(root, sc[0]) for sc in SCENARIOS])
    results, errors = {}, {}

    def one(sc):
        try:
            results[sc[0]] = run_scenario(srv, root, outside, sc)
        except Exception as e:
            errors[sc[0]] = str(e)
    threads = [threading.Thread(target=one, args=(sc,)) for sc in SCENARIOS]
    for th in threads:
        th.start()
    for th in threads:
        th.join(T(60))
    expect(not errors, '; '.join(errors.values()))
    expect(len(results) == len(SCENARIOS), 'scenarios unfinished: %s' %
           [sc[0] for sc in SCENARIOS if sc[0] not in results])
    return '; '.join(results[sc[0]] for sc in SCENARIOS)


REWRITE_BASE = 1000
REWRITE_SECONDS = 3


REWRITE_MAX = 3000       # versions: all within the first 4 KiB page


def version(k):
    """The k-th version of a file written in place: one letter, and one
    byte longer than the version before, so that its bytes alone say
    which version they are, and each is one write() that only grows the
    file (no truncation, no empty moment)."""
    return bytes([ord('a') + k % 26]) * (REWRITE_BASE + k)


def written_in_place(srv, root):
    """A small file written in place again and again (never settled, so
    read afresh each time): no response gives a version's validators
    (its ETag, hence its Last-Modified and length) to other bytes.  A read
    that overlaps the writer's own write() may see bytes of two versions
    under a stat of that moment, which no stat can tell from a whole
    version; the stat no longer goes stale between the server's look and
    its read."""
    path = os.path.join(root, 'rewritten')
    write(path, version(0))
    stop = threading.Event()

    def writer():
        fd = os.open(path, os.O_WRONLY)
        try:
            k = 0
            while not stop.is_set() and k < REWRITE_MAX:
                k += 1
                os.pwrite(fd, version(k), 0)
                # Several requests see each version whole, so its ETag
                # is known when a response gives it to other bytes.
                time.sleep(0.001)
        finally:
            os.close(fd)
    th = threading.Thread(target=writer, daemon=True)
    th.start()
    statuses, etags, whole = {}, {}, 0
    c = HttpClient(srv)
    try:
        end = time.monotonic() + REWRITE_SECONDS
        while time.monotonic() < end:
            r = c.request('/rewritten')
            expect(r is not None, 'connection closed after %s' % statuses)
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.has_token('connection', 'close'):
                c.close()
                c = HttpClient(srv)
            # Written more often than it could be read: 503, as for a
            # file that shrinks as it is read.
            if r.status == 503:
                continue
            expect_status(r, 200, 'GET /rewritten')
            k = len(r.body) - REWRITE_BASE
            whole += k >= 0 and r.body == version(k)
            expect(r.header('content-length') == str(len(r.body)),
                   'Content-Length %s for %d bytes' % (
                       r.header('content-length'), len(r.body)))
            tag = r.header('etag')
            seen = etags.setdefault(tag, r.body)
            expect(seen == r.body, 'ETag %s given to %d bytes of %r and to '
                   '%d bytes of %r' % (tag, len(seen), seen[:1] + b'..' +
                                       seen[-1:], len(r.body), r.body[:1] +
                                       b'..' + r.body[-1:]))
    finally:
        stop.set()
        th.join(T(10))
        c.close()
    expect(statuses.get(200, 0) >= 10 * statuses.get(503, 0) and
           len(etags) > 10 and whole >= statuses.get(200, 0) * 0.9,
           'responses %s, %d versions seen, %d whole' % (
               statuses, len(etags), whole))
    return 'responses %s, %d versions seen, %d whole' % (
        statuses, len(etags), whole)


def reload_closes(srv, root):
    """A worker told to retire while its client idles closes its cached
    files at once, and still answers that client's next request."""
    path = os.path.join(root, 'kept.txt')
    write(path, b'kept\n' * 10)
    wait_settled([path])
    with HttpClient(srv) as c:
        for _ in range(2):
            expect_status(c.request('/kept.txt'), 200, 'GET /kept.txt')
        expect(wait_until(lambda: held_open(srv, path), T(5)),
               'no worker keeps kept.txt open: not cached')
        rc, out, err = srv.ctl('reload')
        expect(rc == 0, '-s reload: %d %s' % (rc, err))
        gone = wait_until(lambda: not held_open(srv, path), T(3))
        expect(gone, 'kept.txt still open in %s %gs after the reload '
               '(keepalive-timeout = %d)' % (held_open(srv, path), T(3),
                                            KA_TIMEOUT))
        r = c.request('/kept.txt')
        expect_status(r, 200, 'the idle client\'s next request')
        expect(r.body == b'kept\n' * 10, 'body %r' % r.body[:40])
        expect(r.has_token('connection', 'close'), 'the retiring worker\'s '
               'last answer without Connection: close: %r' % r)


def drop_keeps_cache(srv, root):
    """A worker asked by the master to drop an idle keep-alive client
    (connections queue and the pool is at its size) lives on: it keeps
    its cached files."""
    path = os.path.join(root, 'kept-one.txt')
    write(path, b'kept by one\n')
    wait_settled([path])
    (worker,) = srv_workers_of(srv, 'one')
    with HttpClient(srv, 'one') as idle:
        expect_status(idle.request('/kept-one.txt'), 200, 'GET /kept-one.txt')
        expect(wait_until(lambda: worker in held_open(srv, path), T(5)),
               'the worker of "one" does not keep kept-one.txt open')
        with HttpClient(srv, 'one') as queued:
            # Waits in the accept queue until the idle client is dropped.
            r = queued.request('/missing', timeout=T(20))
            expect_status(r, 404, 'the queued client\'s request')
        expect(idle.closed(T(5)), 'the idle client was not dropped')
    expect(worker in held_open(srv, path), 'kept-one.txt no longer open in '
           'worker %d after it dropped an idle client' % worker)


def srv_workers_of(srv, name):
    listening = listening_inodes(srv.port(name))
    return [p for p in srv.workers() if socket_inodes(p) & listening]


def main():
    t = Test('test_http_cache')
    root = os.path.join(t.dir, 'root')
    os.makedirs(root)
    outside = os.path.join(t.dir, 'outside.txt')
    write(outside, b'secret outside the root\n')
    srv = http_server(t, 'cache', [dict(
        name='www', workers=len(SCENARIOS), timeout=30, http=dict(
            root=root, keepalive_timeout=KA_TIMEOUT, keepalive_requests=0,
            header_timeout=5, open_file_cache=16,
            open_file_cache_valid=VALID)),
        dict(name='one', workers=1, timeout=30, http=dict(
            root=root, keepalive_timeout=KA_TIMEOUT))],
        shutdown_timeout=KA_TIMEOUT + 20)
    try:
        srv.start()
        t.check('files changed under a keep-alive client: each response '
                'one whole version, the newest within %ds' % VALID,
                under_change, srv, root, outside)
        t.check('a file written in place while read: no response gives '
                'a version\'s validators to other bytes', written_in_place,
                srv, root)
        t.check('a worker that drops an idle client keeps its cache',
                drop_keeps_cache, srv, root)
        t.check('no worker trouble', no_worker_trouble, srv)
        t.check('reload: a retiring worker closes its cached files',
                reload_closes, srv, root)
    finally:
        t.finish()
    sys.exit(1 if t.failed else 0)


if __name__ == '__main__':
    main()

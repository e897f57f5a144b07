#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The document root is a path, and deployments swap what it names: a
"current" symlink moved from one release to the next, atomically.  A
worker holds the root open, so it must look at the path again: with the
open-file cache, within open-file-cache-valid (the cached files of the
old release are dropped), without it at the next request.  A keep-alive
client fetching in a loop sees whole responses of one release or the
other, and the new release once the time is up.  A root path that names
no directory for a while (removed between two steps of a careless swap)
leaves the workers serving the directory they have, with one warning.

Servers, both rooted at the symlink `current`, one worker each:
  cached    open-file-cache-valid 1
  uncached  open-file-cache 0 (the cache off; open-file-cache-valid
            left at 1, which then does not delay the root's check)
"""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, expect, wait_until
from test_http_cache import Fetcher, wait_settled, write
from test_http_util import (HttpClient, expect_status, http_server,
                            no_worker_trouble)

VALID = 1
RELEASES = {'r1': b'release one\n' * 30, 'r2': b'release two!\n' * 50,
            'r3': b'release three\n' * 20}


def point(base, release):
    """Moves the symlink base/current to release, atomically (rename)."""
    tmp = os.path.join(base, 'current.new')
    os.symlink(release, tmp)
    os.rename(tmp, os.path.join(base, 'current'))


def check_whole(seen, swapped, old, new):
    """Every response one whole release; the new one after VALID."""
    counts = {'old': 0, 'new': 0}
    for i, (sent, r) in enumerate(seen):
        what = 'response %d (sent %+.3fs after the swap)' % (
            i + 1, sent - swapped)
        expect_status(r, 200, what)
        expect(r.header('content-length') == str(len(r.body)),
               '%s: Content-Length %s for %d bytes' % (
                   what, r.header('content-length'), len(r.body)))
        if r.body == new:
            counts['new'] += 1
        elif r.body == old and sent < swapped + VALID:
            counts['old'] += 1
        else:
            raise AssertionError('%s: %s body of %d bytes' % (
                what, 'the old release\'s' if r.body == old else
                'not one whole', len(r.body)))
    expect(counts['old'] > 0 and counts['new'] > 0, 'responses %s: both '
           'releases expected' % counts)
    return counts


def swap_cached(srv, base):
    """A symlink swap under a keep-alive client of the cached server."""
    wait_settled([os.path.join(base, r, 'page.txt') for r in RELEASES])
    f = Fetcher(srv, '/page.txt', 'cached')
    f.start()
    try:
        expect(wait_until(lambda: len(f.seen) > 50 or f.error, T(10)),
               'no responses before the swap: %s' % f.error)
        swapped = time.monotonic()
        point(base, 'r2')
        expect(wait_until(lambda: f.error or f.seen[-1][0] >
                          swapped + VALID + 0.5, T(10)),
               'no request made %gs after the swap' % VALID)
    finally:
        f.stop.set()
        f.join(T(10))
    expect(not f.error, 'client: %s' % f.error)
    counts = check_whole(f.seen, swapped, RELEASES['r1'], RELEASES['r2'])
    # A file only the new release has.
    r = HttpClient(srv, 'cached').request('/only-r2.txt')
    expect_status(r, 200, 'GET /only-r2.txt, only in the new release')
    return '%d responses of the old release, %d of the new' % (
        counts['old'], counts['new'])


def swap_uncached(srv, base):
    """Without the cache, the request after the swap gets the new one."""
    with HttpClient(srv, 'uncached') as c:
        r = c.request('/page.txt')
        expect_status(r, 200, 'before the swap')
        expect(r.body == RELEASES['r2'], 'before the swap: %r' % r.body[:20])
        point(base, 'r3')
        r = c.request('/page.txt')
        expect_status(r, 200, 'after the swap')
        expect(r.body == RELEASES['r3'], 'the request after the swap got '
               '%r, not the new release' % r.body[:20])
    return 'the next request got the new release'


def root_gone_keeps_serving(srv, base):
    """The root path removed: still served from the directory held, one
    warning; back in place, the workers follow it again."""
    current = os.path.join(base, 'current')
    time.sleep(VALID + 0.2)
    for name in ('cached', 'uncached'):
        r = HttpClient(srv, name).request('/page.txt')
        expect(r.body == RELEASES['r3'], '%s: not on r3 before: %r'
               % (name, r.body[:20]))
    mark = srv.mark()
    os.unlink(current)
    time.sleep(VALID + 0.2)
    for _ in range(3):
        for name in ('cached', 'uncached'):
            r = HttpClient(srv, name).request('/page.txt')
            expect_status(r, 200, '%s: with the root path gone' % name)
            expect(r.body == RELEASES['r3'], '%s: with the root path gone: '
                   '%r' % (name, r.body[:20]))
    warnings = srv.find(r'root %s: No such file or directory; still '
                        r'serving .*r3' % current, mark)
    expect(len(warnings) == 2, '%d warnings, one per worker expected: %s'
           % (len(warnings), srv.log_text()[mark:][-600:]))
    point(base, 'r1')
    time.sleep(VALID + 0.2)
    for name in ('cached', 'uncached'):
        r = HttpClient(srv, name).request('/page.txt')
        expect_status(r, 200, '%s: the root path back' % name)
        expect(r.body == RELEASES['r1'], '%s: the root path back to r1: '
               '%r' % (name, r.body[:20]))
    return 'served on, %d warnings' % len(warnings)


def main():
    t = Test('test_http_root')
    base = os.path.join(t.dir, 'site')
    for release, body in RELEASES.items():
        os.makedirs(os.path.join(base, release))
        write(os.path.join(base, release, 'page.txt'), body)
    write(os.path.join(base, 'r2', 'only-r2.txt'), b'new\n')
    point(base, 'r1')
    root = os.path.join(base, 'current')
    srv = http_server(t, 'root', [
        dict(name='cached', workers=1, http=dict(
            root=root, open_file_cache_valid=VALID, keepalive_requests=0)),
        dict(name='uncached', workers=1, http=dict(
            root=root, open_file_cache=0))])
    try:
        srv.start()
        t.check('a symlink swap of the root is followed within %ds, each '
                'response whole' % VALID, swap_cached, srv, base)
        t.check('without the cache, at the next request', swap_uncached,
                srv, base)
        t.check('a root path gone: the directory held is served, one '
                'warning; followed again once back', root_gone_keeps_serving,
                srv, base)
        t.check('no worker trouble', no_worker_trouble, srv)
    finally:
        t.finish()
    sys.exit(1 if t.failed else 0)


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""The http handler's file side: bodies, types, validators, conditional
requests, ranges, directories, gzip-static, unreadable files.

Servers (one instance, one document root):
  www   defaults (autoindex, gzip-static off; built-in types)
  auto  autoindex, gzip-static, a mime-types file, default-type changed
and, when root, a second instance whose workers run as nobody (403 for an
unreadable file: root reads anything).
"""
import calendar
import gzip
import hashlib
import html
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from email.utils import formatdate, parsedate_to_datetime

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, expect, run, skipped, wait_until,
                     write_file)
from test_http_util import (HTTP_DATE_RE, HttpClient, expect_status, get,
                            http_server, make_tree, no_worker_trouble,
                            request_bytes)

BIG = 10 * 1024 * 1024
SMALL = b'0123456789abcdefghij'                 # 20 bytes, for ranges
FIXED_MTIME = calendar.timegm((2020, 1, 2, 3, 4, 5))
FIXED_HTTP = 'Thu, 02 Jan 2020 03:04:05 GMT'
EARLIER_HTTP = 'Wed, 01 Jan 2020 00:00:00 GMT'
LATER_HTTP = 'Fri, 03 Jan 2020 00:00:00 GMT'
FUTURE_HTTP = 'Fri, 01 Jan 2100 00:00:00 GMT'
EVIL = '<b>&"x.txt'                             # a file name to escape
PLAIN = b'plain text, compressible ' * 40
# Directory paths past 1 KiB; the spaced one's Location, encoded, past 3 KiB.
LONG_DIR = ('d' * 200 + '/') * 6
SPACED_DIR = ('s p' * 66 + '/') * 6

TYPES = {           # extension -> acceptable media types (built-in table)
    'html': {'text/html'},
    'css': {'text/css'},
    'js': {'text/javascript', 'application/javascript'},
    'json': {'application/json'},
    'png': {'image/png'},
    'svg': {'image/svg+xml'},
    'txt': {'text/plain'},
    'wasm': {'application/wasm'},
    'woff2': {'font/woff2'},
    'qqqzz': {'application/octet-stream'},      # unknown: default-type
}

MIME_TYPES = """# a mime.types file
application/x-preforkd-css\tcss
application/x-preforkd-foo   foo  bar

text/x-ignored
"""


def media(r):
    return (r.header('content-type') or '').split(';')[0].strip().lower()


def build(srv):
    root = os.path.join(srv.dir, 'root')
    files = {
        'index.html': '<html>top index</html>\n',
        'small.txt': SMALL,
        'cond.txt': 'conditional\n',
        'dir/index.html': '<html>dir index</html>\n',
        'noindex/plain.txt': 'plain\n',
        'noindex/\u00e9t\u00e9 \u20ac.txt': 'utf-8 name\n',
        'noindex/' + EVIL: 'evil\n',
        'x<i>d/plain.txt': 'plain\n',
        'my dir/index.html': 'spaced dir\n',
        'with space.txt': 'spaced file\n',
        'gz/a.txt': PLAIN,
        'gz/a.txt.gz': gzip.compress(PLAIN, mtime=0),
        'gz/old.txt': PLAIN,
        'gz/old.txt.gz': gzip.compress(PLAIN, mtime=0),
        'x.foo': 'foo\n',
        'empty.txt': '',
        'q?mark.txt': 'question\n',
        'pct%.txt': 'percent\n',
        'start/start.html': 'custom index\n',
        'start/index.html': 'not the custom index\n',
        LONG_DIR + 'index.html': 'long dir\n',
        SPACED_DIR + 'index.html': 'long spaced dir\n',
        'gzd/index.html': '<html>gz index</html>\n',
        'gzd/index.html.gz': gzip.compress(b'<html>gz index</html>\n',
                                           mtime=0),
    }
    for ext in TYPES:
        files['types/a.' + ext] = 'type %s\n' % ext
    make_tree(root, files)
    with open(os.path.join(root, 'big.bin'), 'wb') as f:
        f.write(os.urandom(BIG))
    # A name in Latin-1, not UTF-8: the listing says it is UTF-8.
    with open(os.path.join(os.fsencode(root), b'noindex/caf\xe9.txt'),
              'wb') as f:
        f.write(b'latin-1\n')
    os.utime(os.path.join(root, 'cond.txt'), (FIXED_MTIME, FIXED_MTIME))
    # a.txt.gz as new as a.txt; old.txt.gz a day older than old.txt.
    os.utime(os.path.join(root, 'gz/a.txt'), (FIXED_MTIME, FIXED_MTIME))
    os.utime(os.path.join(root, 'gz/a.txt.gz'), (FIXED_MTIME, FIXED_MTIME))
    os.utime(os.path.join(root, 'gz/old.txt.gz'),
             (FIXED_MTIME - 86400, FIXED_MTIME - 86400))
    os.utime(os.path.join(root, 'gz/old.txt'), (FIXED_MTIME, FIXED_MTIME))
    with open(os.path.join(srv.dir, 'mime.types'), 'w') as f:
        f.write(MIME_TYPES)
    return root


# ---------------------------------------------------------------- bodies

def big_file_curl(srv):
    root = os.path.join(srv.dir, 'root')
    with open(os.path.join(root, 'big.bin'), 'rb') as f:
        want = hashlib.sha256(f.read()).hexdigest()
    out = os.path.join(srv.dir, 'big.out')
    hdr = os.path.join(srv.dir, 'big.hdr')
    p = subprocess.run(['/usr/bin/curl', '-sS', '--max-time', str(T(30)),
                        '-o', out, '-D', hdr, '-w', '%{http_code}',
                        'http://127.0.0.1:%d/big.bin' % srv.port('www')],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=T(40))
    expect(p.returncode == 0, 'curl failed (%d): %s'
           % (p.returncode, p.stderr.decode(errors='replace')))
    expect(p.stdout == b'200', 'curl got status %r' % p.stdout)
    with open(out, 'rb') as f:
        data = f.read()
    os.unlink(out)
    expect(len(data) == BIG, 'got %d bytes of %d' % (len(data), BIG))
    expect(hashlib.sha256(data).hexdigest() == want, 'sha256 differs')
    heads = open(hdr).read().lower()
    expect('content-length: %d' % BIG in heads, 'no Content-Length %d in %r'
           % (BIG, heads))


def big_file_raw(srv):
    root = os.path.join(srv.dir, 'root')
    with open(os.path.join(root, 'big.bin'), 'rb') as f:
        want = f.read()
    with HttpClient(srv) as c:          # twice on one connection
        for i in (1, 2):
            r = c.request('/big.bin', timeout=T(30))
            expect_status(r, 200, 'GET %d of big.bin' % i)
            expect(r.body == want, 'GET %d of big.bin: %d bytes, %s' % (
                i, len(r.body), 'same length but other bytes'
                if len(r.body) == BIG else 'wrong length'))


def shrinks_while_sent(srv):
    """A file cut short while it is sent: the answer ends early, the
    connection closes (its Content-Length can no longer be met), the
    error log says so, and the worker serves on."""
    path = os.path.join(srv.dir, 'root', 'shrink.bin')
    size, left = 16 * 1024 * 1024, 1024 * 1024
    with open(path, 'wb') as f:
        f.write(b's' * size)
    mark = srv.mark()
    family, sockaddr = srv.addr('www')
    s = socket.socket(family, socket.SOCK_STREAM)
    # A small window: the server is held up long before the end.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(T(30))
    try:
        s.connect(sockaddr)
        s.sendall(request_bytes('/shrink.bin'))
        got = s.recv(65536)
        expect(got.startswith(b'HTTP/1.1 200 '), 'no 200: %r' % got[:80])
        os.truncate(path, left)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    head, _, body = got.partition(b'\r\n\r\n')
    expect(b'Content-Length: %d' % size in head, 'head: %r' % head)
    expect(len(body) <= left, '%d body bytes of a file cut to %d'
           % (len(body), left))
    srv.wait_log(r'\[error\] .*/shrink\.bin: the file shrank while it was '
                 r'sent: \d+ of %d bytes sent' % size, mark)
    expect_status(get(srv, '/small.txt'), 200, 'a file after it')
    no_worker_trouble(srv, mark)


def types_builtin(srv):
    bad = []
    for ext, ok in TYPES.items():
        r = get(srv, '/types/a.' + ext)
        expect_status(r, 200, 'a.' + ext)
        if media(r) not in ok:
            bad.append('.%s: %r (expected %s)' % (
                ext, r.header('content-type'), ' or '.join(sorted(ok))))
    expect(not bad, 'wrong Content-Type: %s' % '; '.join(bad))


def types_file(srv):
    for target, want in (('/types/a.css', 'application/x-preforkd-css'),
                         ('/x.foo', 'application/x-preforkd-foo'),
                         ('/types/a.qqqzz', 'text/x-preforkd-default')):
        r = get(srv, target, name='auto')
        expect_status(r, 200, target)
        expect(media(r) == want, '%s on the server with mime-types and '
               'default-type: Content-Type %r, expected %s'
               % (target, r.header('content-type'), want))


def percent_decoding(srv):
    for target, body in (('/with%20space.txt', b'spaced file\n'),
                         ('/%73mall.txt', SMALL),
                         ('/types/a%2Etxt', b'type txt\n'),
                         ('/my%20dir/', b'spaced dir\n'),
                         ('/q%3Fmark.txt', b'question\n'),
                         ('/pct%25.txt', b'percent\n'),
                         ('/q%3fmark.txt?x=%3F', b'question\n')):
        r = get(srv, target)
        expect_status(r, 200, target)
        expect(r.body == body, '%s: body %r' % (target, r.body[:60]))


# ---------------------------------------------------------------- validators

def validators(srv):
    r = get(srv, '/cond.txt')
    expect_status(r, 200, 'GET /cond.txt')
    expect(r.header('last-modified') == FIXED_HTTP, 'Last-Modified %r, '
           'expected %r' % (r.header('last-modified'), FIXED_HTTP))
    etag = r.header('etag')
    expect(etag and re.match(r'^"[\x21\x23-\x7e]+"$', etag),
           'ETag %r is not a strong entity-tag' % etag)
    expect(r.has_token('accept-ranges', 'bytes'), 'Accept-Ranges %r'
           % r.header('accept-ranges'))
    date = r.header('date')
    expect(date and HTTP_DATE_RE.match(date), 'Date %r' % date)
    # Another file, or this one changed, has another ETag.
    other = get(srv, '/small.txt').header('etag')
    expect(other != etag, 'two files share the ETag %r' % etag)
    # A file of its own, so that no worker's cached copy of a changed
    # cond.txt can reach the checks that follow.
    path = os.path.join(srv.dir, 'root', 'etag-change.txt')
    with open(path, 'w') as f:
        f.write('before\n')
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    before = get(srv, '/etag-change.txt').header('etag')
    with open(path, 'w') as f:
        f.write('after, longer\n')
    os.utime(path, (FIXED_MTIME + 1, FIXED_MTIME + 1))

    # Each worker may serve its cached copy for open-file-cache-valid
    # (1 s by default) before it looks again: poll past that.
    def new_etag():
        r = get(srv, '/etag-change.txt')
        if r.body == b'before\n':
            return None
        expect(r.body == b'after, longer\n', 'changed file: body %r'
               % r.body)
        return r.header('etag')
    changed = wait_until(new_etag, T(3))
    expect(changed and changed != before, 'ETag %r unchanged after the '
           'file changed' % before)
    # RFC 9110 8.8.2.1: a modification time in the future is sent as the
    # Date instead.
    path = os.path.join(srv.dir, 'root', 'future.txt')
    write_file(path, 'from the future\n')
    os.utime(path, (time.time() + 86400 * 400,) * 2)
    r = get(srv, '/future.txt')
    expect_status(r, 200, 'GET /future.txt')
    expect(r.header('last-modified') and
           parsedate_to_datetime(r.header('last-modified')) <=
           parsedate_to_datetime(r.header('date')),
           'Last-Modified %r later than Date %r'
           % (r.header('last-modified'), r.header('date')))


def conditional_cases(c, cases, etag):
    """Each (headers, status, what) by GET and HEAD on /cond.txt: a 304
    names the ETag, a 200 to GET carries the whole file."""
    for headers, status, what in cases:
        for method in ('GET', 'HEAD'):
            r = c.request('/cond.txt', method, headers=headers)
            expect_status(r, status, '%s, %s' % (what, method))
            if status == 304:
                expect(r.header('etag') == etag, '%s: 304 with ETag %r'
                       % (what, r.header('etag')))
            elif status == 200 and method == 'GET':
                expect(r.body == b'conditional\n', '%s: body %r'
                       % (what, r.body))


def conditional(srv):
    etag = get(srv, '/cond.txt').header('etag')
    expect(etag, 'no ETag')
    cases = [
        ({'If-None-Match': etag}, 304, 'If-None-Match: the ETag'),
        ({'If-None-Match': '"nope", %s' % etag}, 304, 'a list holding it'),
        ({'If-None-Match': '*'}, 304, 'If-None-Match: *'),
        ({'If-None-Match': 'W/' + etag}, 304, 'the weak form (weak match)'),
        ({'If-None-Match': '"nope"'}, 200, 'another ETag'),
        ({'If-Modified-Since': FIXED_HTTP}, 304, 'IMS = Last-Modified'),
        ({'If-Modified-Since': LATER_HTTP}, 304, 'IMS later'),
        ({'If-Modified-Since': EARLIER_HTTP}, 200, 'IMS earlier'),
        ({'If-Modified-Since': 'yesterday'}, 200, 'IMS not a date'),
        # Later than now: invalid (RFC 9110 13.1.3).  Such a date is the
        # Last-Modified of a file once dated in the future; a 304 would
        # keep its stale copy until that date, whatever replaced it.
        ({'If-Modified-Since': FUTURE_HTTP}, 200, 'IMS in the future'),
        ({'If-None-Match': etag, 'If-Modified-Since': FUTURE_HTTP}, 304,
         'If-None-Match decides over an IMS in the future'),
        ({'If-None-Match': '"nope"', 'If-Modified-Since': FIXED_HTTP}, 200,
         'If-None-Match not matching wins over a matching IMS'),
    ]
    with HttpClient(srv) as c:
        conditional_cases(c, cases, etag)
        # Any body after a 304 would garble this response.
        r = c.request('/small.txt')
        expect(r.status == 200 and r.body == SMALL,
               'after the 304s: %r' % r)


def preconditions(srv):
    """RFC 9110 13.1.1, 13.1.4: If-Match (strong) and, without it,
    If-Unmodified-Since answer 412 when they fail, before any 304 or 206;
    the lines of a list header make one list."""
    etag = get(srv, '/cond.txt').header('etag')
    cases = [
        ({'If-Match': etag}, 200, 'If-Match: the ETag'),
        ({'If-Match': '"nope", %s' % etag}, 200, 'a list holding it'),
        ({'If-Match': '*'}, 200, 'If-Match: *'),
        ({'If-Match': '"nope"'}, 412, 'another ETag'),
        ({'If-Match': 'W/' + etag}, 412, 'the weak form (strong compare)'),
        ({'If-Unmodified-Since': FIXED_HTTP}, 200, 'IUS = Last-Modified'),
        ({'If-Unmodified-Since': EARLIER_HTTP}, 412, 'IUS earlier'),
        ({'If-Unmodified-Since': 'yesterday'}, 200, 'IUS not a date'),
        ({'If-Match': etag, 'If-Unmodified-Since': EARLIER_HTTP}, 200,
         'If-Match holding: IUS not looked at'),
        ({'If-Match': '"nope"', 'Range': 'bytes=0-1'}, 412,
         'a failed If-Match before a Range'),
        ({'If-Match': '"nope"', 'If-None-Match': etag}, 412,
         'a failed If-Match before a matching If-None-Match'),
    ]
    with HttpClient(srv) as c:
        conditional_cases(c, cases, etag)
        # Two lines of one list header are one list (RFC 9110 5.3).
        for lines, status in (
                (('If-None-Match: "nope"', 'If-None-Match: ' + etag), 304),
                (('If-Match: "nope"', 'If-Match: ' + etag), 200),
                (('If-Match: "nope"', 'If-Match: "other"'), 412)):
            c.send(('GET /cond.txt HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n'
                    % '\r\n'.join(lines)).encode())
            expect_status(c.response(timeout=T(10)), status, ' + '.join(lines))
        # The connection lives on after the 412s.
        r = c.request('/small.txt')
        expect(r.status == 200 and r.body == SMALL,
               'after the 412s: %r' % r)


# ---------------------------------------------------------------- ranges

def ranges(srv):
    size = len(SMALL)
    cases = [('bytes=0-9', 0, 9), ('bytes=10-', 10, 19), ('bytes=-5', 15, 19),
             ('bytes=5-100', 5, 19), ('bytes=-100', 0, 19),
             ('bytes=19-19', 19, 19),
             # No bound on the numbers (RFC 9110 14.1.1): past 2^64, a
             # last or a suffix is still the rest of the file.
             ('bytes=3-99999999999999999999999', 3, 19),
             ('bytes=-18446744073709551616', 0, 19)]
    with HttpClient(srv) as c:
        for spec, first, last in cases:
            r = c.request('/small.txt', headers={'Range': spec})
            expect_status(r, 206, spec)
            want = 'bytes %d-%d/%d' % (first, last, size)
            expect(r.header('content-range') == want, '%s: Content-Range %r, '
                   'expected %r' % (spec, r.header('content-range'), want))
            expect(r.body == SMALL[first:last + 1], '%s: body %r'
                   % (spec, r.body))
            expect(r.header('content-length') == str(last - first + 1),
                   '%s: Content-Length %r'
                   % (spec, r.header('content-length')))
        # Several ranges of which none is satisfiable: 416 (RFC 9110 14.2).
        for spec in ('bytes=999999-', 'bytes=20-', 'bytes=20-,30-40',
                     'bytes=99999999999999999999999-'):
            r = c.request('/small.txt', headers={'Range': spec})
            expect_status(r, 416, spec)
            expect(r.header('content-range') == 'bytes */%d' % size,
                   '%s: 416 with Content-Range %r, expected bytes */%d'
                   % (spec, r.header('content-range'), size))
        for spec in ('bytes=0-1,5-6', 'bytes=30-,0-1', 'items=0-5'):
            r = c.request('/small.txt', headers={'Range': spec})
            expect_status(r, 200, spec)
            expect(r.body == SMALL and not r.header('content-range'),
                   '%s: not the whole file: %r' % (spec, r))
        r = c.request('/small.txt', 'HEAD', headers={'Range': 'bytes=0-9'})
        expect(r.status in (200, 206), 'HEAD with Range: %r' % r)
        r = c.request('/small.txt')
        expect(r.status == 200 and r.body == SMALL, 'after the ranges: %r'
               % r)


def empty_file(srv):
    with HttpClient(srv) as c:
        r = c.request('/empty.txt')
        expect_status(r, 200, 'empty file')
        expect(r.header('content-length') == '0' and r.body == b'',
               'empty file: %r' % r)
        r = c.request('/empty.txt', headers={'Range': 'bytes=0-'})
        expect_status(r, 416, 'Range on an empty file')
        expect(r.header('content-range') == 'bytes */0', 'Content-Range %r'
               % r.header('content-range'))
        # RFC 9110 14.1.1: a suffix range of an empty representation is
        # satisfiable, by all of it.
        r = c.request('/empty.txt', headers={'Range': 'bytes=-5'})
        expect_status(r, 200, 'Range: bytes=-5 on an empty file')
        expect(r.header('content-length') == '0' and r.body == b'' and
               r.header('content-range') is None,
               'bytes=-5 on an empty file: %r' % r)
        r = c.request('/empty.txt', headers={'Range': 'bytes=-0'})
        expect_status(r, 416, 'Range: bytes=-0 on an empty file')
        r = c.request('/small.txt')
        expect(r.status == 200 and r.body == SMALL, 'after the empty file: '
               '%r' % r)


def head_everywhere(srv):
    # HEAD never gets a body, whatever the status: the next response on
    # the connection would be garbled.
    cases = [('/missing', {}, 404), ('/dir', {}, 301), ('/noindex/', {}, 200),
             ('/small.txt', {'Range': 'bytes=0-3'}, 206),
             ('/small.txt', {'Range': 'bytes=999-'}, 416),
             ('/big.bin', {}, 200)]
    with HttpClient(srv, 'auto') as c:
        for target, headers, status in cases:
            r = c.request(target, 'HEAD', headers=headers)
            expect_status(r, status, 'HEAD %s %s' % (target, headers))
            expect(r.header('content-length') is not None,
                   'HEAD %s: no Content-Length' % target)
        r = c.request('/small.txt')
        expect(r.status == 200 and r.body == SMALL, 'after the HEADs: %r'
               % r)


def long_names(srv):
    for target in ('/' + 'n' * 300, '/dir/' + 'n' * 300 + '/x',
                   '/' + 'd/' * 1000 + 'x'):
        r = get(srv, target)
        expect_status(r, (404, 400, 414), 'a name of %d bytes' % len(target))


def custom_index(srv):
    r = get(srv, '/start/', name='idx')
    expect(r.status == 200 and r.body == b'custom index\n',
           'index = "start.html": %r' % r)
    r = get(srv, '/dir/', name='idx')
    expect_status(r, 403, '/dir/ has index.html only, index = "start.html"')


def if_range(srv):
    r = get(srv, '/cond.txt')
    etag, lm = r.header('etag'), r.header('last-modified')
    whole = b'conditional\n'
    for value, status in ((etag, 206), ('"stale"', 200), (lm, 206),
                          (EARLIER_HTTP, 200)):
        r = get(srv, '/cond.txt', headers={'Range': 'bytes=0-3',
                                            'If-Range': value})
        expect_status(r, status, 'If-Range: %s' % value)
        expect(r.body == (whole[:4] if status == 206 else whole),
               'If-Range: %s: body %r' % (value, r.body))
    # A modification time not yet a second old is a weak validator (RFC
    # 9110 8.8.2.2): its date must not select a range (13.1.5), since the
    # file may change again within that second.  Judged on a response
    # whose Date is the file's second; a tick in between tries again.
    path = os.path.join(srv.dir, 'root', 'recent.txt')
    judged = None
    for _ in range(20):
        with open(path, 'wb') as f:
            f.write(b'recent body\n')
        now = int(time.time())
        os.utime(path, (now, now))
        lm = formatdate(now, usegmt=True)
        r = get(srv, '/recent.txt', headers={'Range': 'bytes=0-3',
                                              'If-Range': lm})
        if r.header('date') == lm:
            judged = r
            break
    expect(judged is not None, 'no response within the second of its file')
    expect(judged.status == 200 and judged.body == b'recent body\n',
           'If-Range: %s on a file of that second: %r' % (lm, judged))
    r = get(srv, '/recent.txt', headers={'Range': 'bytes=0-3',
                                          'If-Range': judged.header('etag')})
    expect(r.status == 206 and r.body == b'rece',
           'If-Range: its entity-tag on the same file: %r' % r)


def big_range(srv):
    with open(os.path.join(srv.dir, 'root', 'big.bin'), 'rb') as f:
        f.seek(5000000)
        want = f.read(100)
        f.seek(BIG - 7)
        tail = f.read()
    r = get(srv, '/big.bin', headers={'Range': 'bytes=5000000-5000099'})
    expect_status(r, 206, 'middle of big.bin')
    expect(r.body == want, 'bytes 5000000-5000099 differ')
    r = get(srv, '/big.bin', headers={'Range': 'bytes=-7'})
    expect_status(r, 206, 'tail of big.bin')
    expect(r.body == tail, 'last 7 bytes differ')


# ---------------------------------------------------------------- directories

def location_path(srv, r, name='www'):
    loc = r.header('location') or ''
    for prefix in ('http://127.0.0.1:%d' % srv.port(name),):
        if loc.startswith(prefix):
            return loc[len(prefix):]
    return loc


def special_files(srv):
    """A socket or a fifo under the root is no file to send: 403, the
    answer the man page gives, not 500 (opening a socket fails with
    ENXIO), and the worker serves on."""
    root = os.path.join(srv.dir, 'root')
    sock_path = os.path.join(root, 'app.sock')
    fifo_path = os.path.join(root, 'pipe')
    listener = socket.socket(socket.AF_UNIX)
    cwd = os.getcwd()
    try:
        # Relative: a build tree's path may be longer than sun_path.
        os.chdir(root)
        try:
            listener.bind('app.sock')
        finally:
            os.chdir(cwd)
        os.mkfifo(fifo_path)
        for target in ('/app.sock', '/pipe'):
            r = get(srv, target)
            expect_status(r, 403, target)
        expect_status(get(srv, '/small.txt'), 200, 'a file after them')
    finally:
        listener.close()
        for path in (sock_path, fifo_path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def directories(srv):
    for target, want in (('/dir', '/dir/'), ('/dir?x=1', '/dir/?x=1'),
                         ('/my%20dir', '/my%20dir/')):
        r = get(srv, target)
        expect_status(r, 301, target)
        expect(location_path(srv, r) == want, '%s: Location %r, expected %r'
               % (target, r.header('location'), want))
        cl = r.header('content-length')
        expect(cl is not None and int(cl) == len(r.body), '%s: 301 without '
               'a matching Content-Length' % target)
    r = get(srv, '/dir/')
    expect_status(r, 200, '/dir/')
    expect(r.body == b'<html>dir index</html>\n', '/dir/: body %r' % r.body)
    expect(media(r) == 'text/html', '/dir/: Content-Type %r'
           % r.header('content-type'))
    r = get(srv, '/noindex/')
    expect_status(r, 403, '/noindex/ without index, autoindex off')
    expect(b'plain.txt' not in r.body, '403 page lists the directory')
    for target in ('/missing', '/dir/missing.html', '/small.txt/',
                   '/missing/'):
        expect_status(get(srv, target), 404, target)


def long_directories(srv):
    # The redirect may be as long as the request limits allow the path:
    # "/dir" must not fail where "/dir/" is served.
    for rel, body in ((LONG_DIR, b'long dir\n'),
                      (SPACED_DIR, b'long spaced dir\n')):
        encoded = '/' + rel.replace(' ', '%20')
        for method in ('GET', 'HEAD'):
            r = get(srv, encoded[:-1] + '?q=1', method=method)
            expect_status(r, 301, '%s of a %d-byte directory path without '
                          '"/"' % (method, len(rel)))
            expect(location_path(srv, r) == encoded + '?q=1',
                   'Location of %d bytes, expected %d'
                   % (len(r.header('location') or ''), len(encoded) + 4))
        r = get(srv, encoded)
        expect(r.status == 200 and r.body == body, 'the %d-byte directory '
               'path with "/": %r' % (len(rel), r))


def autoindex(srv):
    r = get(srv, '/noindex/', name='auto')
    expect_status(r, 200, '/noindex/ with autoindex')
    expect(media(r) == 'text/html', 'listing Content-Type %r'
           % r.header('content-type'))
    body = r.body.decode('utf-8', 'replace')
    expect('plain.txt' in body, 'plain.txt not listed: %r' % body[:500])
    expect('&lt;b&gt;&amp;' in body, 'the name %r is not escaped as '
           '"&lt;b&gt;&amp;": %r' % (EVIL, body[:800]))
    expect('<b>' not in body, 'raw "<b>" in the listing: %r' % body[:800])
    expect(EVIL not in body, 'the raw name %r in the listing' % EVIL)
    expect(b'<a href="caf%E9.txt">caf\xef\xbf\xbd.txt</a>' in r.body,
           'a name not in UTF-8 is not shown with U+FFFD: %r'
           % r.body[r.body.find(b'caf'):][:60])
    # Names padded in characters, as shown: the dates line up.
    columns = set()
    for line in body.split('\r\n'):
        if line.startswith('<a href=') and not line.startswith('<a href="../'):
            shown = html.unescape(re.sub('<[^>]*>', '', line))
            columns.add(re.search(r'\d\d-\w{3}-\d{4} ', shown).start())
    expect(len(columns) == 1, 'listing dates in columns %s: %r'
           % (sorted(columns), body))
    expect(r.header('content-length') == str(len(r.body)),
           'listing Content-Length %r for %d bytes'
           % (r.header('content-length'), len(r.body)))
    # The directory's own name, in the title and heading, is escaped too.
    r = get(srv, '/x%3Ci%3Ed/', name='auto')
    expect_status(r, 200, 'listing of "x<i>d/"')
    expect(b'<i>' not in r.body and b'&lt;i&gt;' in r.body,
           'the directory name "x<i>d" is not escaped: %r' % r.body[:400])
    # A listing has no validators: only "*" can match it, dates do not
    # apply (RFC 9110 13.1.1-13.1.4).
    for headers, status in (({'If-Match': '"zz"'}, 412),
                            ({'If-Match': '*'}, 200),
                            ({'If-None-Match': '*'}, 304),
                            ({'If-None-Match': '"zz"'}, 200),
                            ({'If-Unmodified-Since':
                              'Thu, 01 Jan 1998 00:00:00 GMT'}, 200),
                            ({'If-Modified-Since':
                              'Thu, 01 Jan 2037 00:00:00 GMT'}, 200)):
        r = get(srv, '/noindex/', name='auto', headers=headers)
        expect(r.status == status and (status != 304 or r.body == b''),
               'listing with %s: %d, expected %d' % (headers, r.status,
                                                     status))
    # An index that cannot be served is an error, never a listing: a
    # directory, a fifo, a symlink out of the root (follow-symlinks off).
    root = os.path.join(srv.dir, 'root')
    for name in ('idxdir', 'idxfifo', 'idxsym'):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        with open(os.path.join(root, name, 'hidden.txt'), 'w') as f:
            f.write('not to be listed\n')
    os.makedirs(os.path.join(root, 'idxdir', 'index.html'), exist_ok=True)
    fifo = os.path.join(root, 'idxfifo', 'index.html')
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    link = os.path.join(root, 'idxsym', 'index.html')
    if not os.path.lexists(link):
        os.symlink('/etc/hostname', link)
    for target in ('/idxdir/', '/idxfifo/', '/idxsym/'):
        r = get(srv, target, name='auto')
        expect(r.status == 403 and b'hidden.txt' not in r.body,
               '%s, its index not a file it may serve: %r' % (target, r))
    # A directory with an index is not listed.
    r = get(srv, '/dir/', name='auto')
    expect(r.body == b'<html>dir index</html>\n', '/dir/ listed despite '
           'index.html')


# ---------------------------------------------------------------- gzip-static

def repeated_list_headers(srv):
    """Field lines of one name make one list (RFC 9110 5.3): gzip named
    in a second Accept-Encoding line counts, and gzip;q=0 in one refuses
    it; two Range lines make "bytes=0-1, bytes=2-3", no range set, so the
    whole file is sent."""
    root = os.path.join(srv.dir, 'root')
    gz = open(os.path.join(root, 'gz/a.txt.gz'), 'rb').read()

    def raw(name, target, lines):
        with HttpClient(srv, name) as c:
            c.send(('GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n'
                    % (target, ''.join(l + '\r\n' for l in lines)))
                   .encode())
            return c.response()
    r = raw('auto', '/gz/a.txt', ['Accept-Encoding: br',
                                  'Accept-Encoding: gzip'])
    expect(r.status == 200 and r.body == gz and
           r.header('content-encoding') == 'gzip',
           'gzip in a second Accept-Encoding line: %r' % r)
    r = raw('auto', '/gz/a.txt', ['Accept-Encoding: gzip',
                                  'Accept-Encoding: gzip;q=0'])
    expect(r.status == 200 and r.body == PLAIN and
           not r.header('content-encoding'),
           'gzip;q=0 in a second line: %r' % r)
    r = raw('www', '/small.txt', ['Range: bytes=0-1', 'Range: bytes=2-3'])
    expect(r.status == 200 and r.body == SMALL,
           'two Range lines: %r' % r)


def gzip_static(srv):
    root = os.path.join(srv.dir, 'root')
    gz = open(os.path.join(root, 'gz/a.txt.gz'), 'rb').read()
    with HttpClient(srv, 'auto') as c:
        for ae in ('gzip', 'deflate, gzip', 'br;q=1, GZIP;q=0.5',
                   'gzip;q=0.001', 'gzip ; level=1 ; Q=1.000',
                   'gzip\t;q=0.2'):
            r = c.request('/gz/a.txt', headers={'Accept-Encoding': ae})
            expect_status(r, 200, 'Accept-Encoding: %s' % ae)
            expect(r.body == gz, 'Accept-Encoding: %s: not the .gz bytes '
                   '(%d bytes)' % (ae, len(r.body)))
            expect(r.header('content-encoding') == 'gzip',
                   'Accept-Encoding: %s: Content-Encoding %r'
                   % (ae, r.header('content-encoding')))
            expect(r.has_token('vary', 'accept-encoding'),
                   'Accept-Encoding: %s: Vary %r' % (ae, r.header('vary')))
            expect(media(r) == 'text/plain', 'gzip variant Content-Type %r'
                   % r.header('content-type'))
        gz_etag = r.header('etag')
        # A 304 of the variant: validators and Vary, no Content-Encoding.
        for inm in (gz_etag, '*'):
            r = c.request('/gz/a.txt', headers={'Accept-Encoding': 'gzip',
                                                'If-None-Match': inm})
            expect(r.status == 304 and r.header('etag') == gz_etag and
                   r.has_token('vary', 'accept-encoding') and
                   not r.header('content-encoding'), 'If-None-Match %s on '
                   'the gzip variant: %s, ETag %r, Vary %r, Content-Encoding '
                   '%r' % (inm, r.status, r.header('etag'), r.header('vary'),
                           r.header('content-encoding')))
        # A 412 and a 416 depend on the variant too (its ETag, its size):
        # both carry Vary, whichever variant was chosen.
        for ae in ('gzip', 'identity'):
            r = c.request('/gz/a.txt', headers={'Accept-Encoding': ae,
                                                'If-Match': '"nope"'})
            expect(r.status == 412 and r.has_token('vary', 'accept-encoding'),
                   'If-Match "nope", Accept-Encoding %s: %s, Vary %r'
                   % (ae, r.status, r.header('vary')))
            r = c.request('/gz/a.txt', headers={'Accept-Encoding': ae,
                                                'Range': 'bytes=99999-'})
            expect(r.status == 416 and r.has_token('vary', 'accept-encoding')
                   and (r.header('content-range') or '').startswith(
                       'bytes */'), 'an unsatisfiable Range, Accept-Encoding '
                   '%s: %s, Vary %r, Content-Range %r'
                   % (ae, r.status, r.header('vary'),
                      r.header('content-range')))
        # The weight is the q= parameter, wherever it stands among them.
        for headers in ({}, {'Accept-Encoding': 'identity'},
                        {'Accept-Encoding': 'gzip;q=0'},
                        {'Accept-Encoding': 'gzip;q=0.000'},
                        {'Accept-Encoding': 'gzip;level=1;q=0'},
                        {'Accept-Encoding': 'gzip;q=junk'},
                        {'Accept-Encoding': 'br'}):
            r = c.request('/gz/a.txt', headers=headers)
            expect(r.status == 200 and r.body == PLAIN and
                   not r.header('content-encoding'),
                   '%s: not the plain file: %r' % (headers, r))
        expect(r.header('etag') != gz_etag, 'the .gz and plain variants '
               'share the ETag %r' % gz_etag)
        r = c.request('/gz/old.txt', headers={'Accept-Encoding': 'gzip'})
        expect(r.status == 200 and r.body == PLAIN and
               not r.header('content-encoding'),
               'a .gz older than its file was used: %r' % r)
    r = get(srv, '/gz/a.txt', headers={'Accept-Encoding': 'gzip'})
    expect(r.body == PLAIN and not r.header('content-encoding'),
           'gzip-static off, yet the .gz was sent: %r' % r)
    r = get(srv, '/gzd/', name='auto', headers={'Accept-Encoding': 'gzip'})
    expect(r.status == 200 and r.header('content-encoding') == 'gzip' and
           gzip.decompress(r.body) == b'<html>gz index</html>\n' and
           media(r) == 'text/html', 'index.html.gz for /gzd/: %r' % r)


# ---------------------------------------------------------------- permissions

def unreadable(t, root):
    """403 for a file the workers cannot read; as root, workers run as
    nobody (root reads anything).  Not as root, the workers own the
    directories, so the mode checks cannot bite: CI runs as root."""
    is_root = os.geteuid() == 0
    if is_root:
        try:
            pwd.getpwnam('nobody')
        except KeyError:
            return skipped('running as root and there is no user nobody')
    # The workers (nobody) must reach the root: the build tree may sit
    # under a directory only its owner can enter, so the root is made in
    # the system's temp dir, open to all.
    root = tempfile.mkdtemp(prefix='preforkd-nobody.')
    try:
        os.chmod(root, 0o755)
        srv = http_server(t, 'nobody', [
            dict(name='www', http=dict(root=root)),
            dict(name='listing', http=dict(root=root, autoindex=True))],
                          user='nobody' if is_root else None)
        make_tree(root, {'ok.txt': 'readable\n', 'locked.txt': 'locked\n',
                         'index.html': 'root index\n',
                         'xonly/index.html': 'x index\n',
                         'xonly-bare/a.txt': 'a\n',
                         'closed/index.html': 'closed\n',
                         'lockedidx/index.html': 'locked index\n',
                         'lockedidx/hidden.txt': 'hidden\n'})
        os.chmod(os.path.join(root, 'locked.txt'), 0)
        os.chmod(os.path.join(root, 'lockedidx/index.html'), 0)
        os.chmod(os.path.join(root, 'lockedidx/hidden.txt'), 0o644)
        os.chmod(os.path.join(root, 'lockedidx'), 0o755)
        for name in ('ok.txt', 'index.html', 'xonly/index.html',
                     'xonly-bare/a.txt'):
            os.chmod(os.path.join(root, name), 0o644)
        # Search but not read: an index is served, there is no listing.
        for name in ('xonly', 'xonly-bare'):
            os.chmod(os.path.join(root, name), 0o711)
        os.chmod(os.path.join(root, 'closed'), 0o700)
        os.chmod(root, 0o711)
        srv.start()
        r = get(srv, '/ok.txt')
        expect(r.status == 200 and r.body == b'readable\n',
               'ok.txt: %r' % r)
        mark = srv.mark()
        r = get(srv, '/locked.txt')
        expect_status(r, 403, 'a file with mode 000')
        expect(b'locked' not in r.body, 'the unreadable file was sent')
        # Said in the error log, as nginx says it: a 403 is not a riddle.
        srv.wait_log(r'\[error\] .*open\(%s/locked\.txt\): Permission '
                     r'denied: answering 403' % re.escape(root), mark)
        # An index it may not read: 403, not the listing it stands for.
        r = get(srv, '/lockedidx/', name='listing')
        expect(r.status == 403 and b'hidden.txt' not in r.body,
               'a directory whose index has mode 000, autoindex on: %r' % r)
        for target, body in (('/', b'root index\n'),
                             ('/xonly/', b'x index\n')):
            r = get(srv, target)
            expect(r.status == 200 and r.body == body, '%s of a 0711 '
                   'directory with an index: %r' % (target, r))
        r = get(srv, '/xonly')
        expect(r.status == 301 and r.header('location') in
               ('/xonly/', 'xonly/'), '/xonly: %r' % r)
        expect_status(get(srv, '/xonly-bare/'), 403,
                      'a 0711 directory without an index')
        expect_status(get(srv, '/xonly-bare/a.txt'), 200,
                      'a file in a 0711 directory')
        # Not even searchable (0700, another user's): no redirect either.
        if is_root:
            for target in ('/closed', '/closed/'):
                expect_status(get(srv, target), 403,
                              '%s, a 0700 directory of root\'s' % target)
        srv.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 'workers as nobody' if is_root else 'as uid %d' % os.geteuid()


def unsearchable_root(t):
    """A document root the workers may not search would answer 403 to
    every request with nothing logged: the start fails instead, and
    says why."""
    is_root = os.geteuid() == 0
    root = tempfile.mkdtemp(prefix='preforkd-locked.')
    try:
        # As root the workers run as nobody, who may not enter a 0700
        # directory of root's; otherwise nobody may enter a 0000 one.
        os.chmod(root, 0o700 if is_root else 0)
        srv = http_server(t, 'unsearchable', [dict(name='www',
                                                   http=dict(root=root))],
                          user='nobody' if is_root else None)
        rc, _, err = run([BINARY, '-n', '-f', srv.conf], timeout=T(10))
        want = ('start-up failed: workers exited fatally (server www: root '
                '%s: the worker may not search it: Permission denied)' % root)
        expect(rc == 1 and want in srv.log_text() + err,
               'exit %d; no %r in: %s' % (rc, want, (srv.log_text() +
                                                     err)[-600:]))
    finally:
        os.chmod(root, 0o700)
        shutil.rmtree(root, ignore_errors=True)
    return 'workers as nobody' if is_root else 'as uid %d' % os.geteuid()


def main():
    t = Test('test_http_files')
    srv = http_server(t, 'files', [
        dict(name='www', http=dict(root='root')),
        dict(name='auto', http=dict(root='root', autoindex=True,
                                    gzip_static=True, mime_types='mime.types',
                                    default_type='text/x-preforkd-default')),
        dict(name='idx', http=dict(root='root', index='start.html')),
    ])
    build(srv)
    if not t.check('server starts', srv.start):
        t.finish()
    workers = srv.workers()
    mark = srv.mark()
    t.check('10 MiB file by curl: sha256 matches', big_file_curl, srv)
    t.check('10 MiB file twice on one connection', big_file_raw, srv)
    t.check('a file that shrinks while sent: cut short, closed, logged',
            shrinks_while_sent, srv)
    t.check('Content-Type from the built-in table', types_builtin, srv)
    t.check('Content-Type from a mime-types file and default-type',
            types_file, srv)
    t.check('percent-encoded paths are decoded', percent_decoding, srv)
    t.check('Last-Modified, strong ETag, Accept-Ranges, Date', validators,
            srv)
    t.check('If-None-Match / If-Modified-Since: 304 or 200', conditional,
            srv)
    t.check('If-Match / If-Unmodified-Since: 412 or on', preconditions,
            srv)
    t.check('single ranges: 206, 416; multiple ranges: 200, or 416 when '
            'none is satisfiable', ranges, srv)
    t.check('If-Range', if_range, srv)
    t.check('an empty file: 200 with Content-Length 0; Range: 416, '
            'but -5: 200',
            empty_file, srv)
    t.check('HEAD of 404, 301, a listing, 206, 416: no body', head_everywhere,
            srv)
    t.check('over-long names: 404 (or 400/414), no crash', long_names, srv)
    t.check('index = "start.html"', custom_index, srv)
    t.check('ranges of the 10 MiB file', big_range, srv)
    t.check('a socket or a fifo under the root: 403', special_files, srv)
    t.check('/dir: 301; /dir/: index; no index: 403; missing: 404',
            directories, srv)
    t.check('/dir of more than 1 KiB: 301 with the whole Location',
            long_directories, srv)
    t.check('autoindex lists with names escaped', autoindex, srv)
    t.check('gzip-static: .gz for gzip clients, plain otherwise', gzip_static,
            srv)
    t.check('repeated Accept-Encoding and Range lines are one list each',
            repeated_list_headers, srv)

    def same_workers():
        no_worker_trouble(srv, mark)
        expect(srv.workers() == workers, 'workers changed: %s -> %s'
               % (workers, srv.workers()))
    t.check('the same workers serve on, none died', same_workers)
    t.check('unreadable file: 403; a directory the workers may search but '
            'not read: its index, no listing', unreadable, t, srv.dir)
    t.check('a root the workers may not search fails the start, saying why',
            unsearchable_root, t)
    t.finish()


if __name__ == '__main__':
    main()

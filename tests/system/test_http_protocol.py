# SPDX-License-Identifier: BSD-2-Clause
"""The http handler's protocol: versions, methods, persistent connections,
pipelining, request bodies, malformed requests, limits and timeouts.

Three http servers in one instance share a document root:
  www  keepalive-timeout 1, keepalive-requests 0 (unlimited), header-timeout
       1, max-header-size 2048
  kr   keepalive-requests 3
  nk   keepalive-timeout 0 (no keep-alive), server-tokens false
"""
import email.utils
import os
import select
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BINARY, T, Failure, Test, expect, run
from test_http_util import (HTTP_DATE_RE, HttpClient, check_error_form,
                            error_reply, exchange, expect_status, get,
                            http_server, make_tree, no_worker_trouble,
                            request_bytes)

KA_TIMEOUT = 1      # www's keepalive-timeout
HEAD_TIMEOUT = 1    # www's header-timeout
MAX_HEAD = 2048     # www's max-header-size

FILES = {
    'index.html': '<html><body>index</body></html>\n',
    'a.txt': 'alpha ' * 50 + '\n',
    'b.txt': 'bravo bravo\n',
    'c.txt': 'charlie ' * 500 + '\n',
}


def body_of(name):
    return FILES[name].encode()


# ---------------------------------------------------------------- basics

def get_basic(srv):
    version = run([BINARY, '-V'])[1].split()[-1]
    r = get(srv, '/')
    expect_status(r, 200, 'GET /')
    expect(r.version == 'HTTP/1.1', 'status line %r' % r.status_line)
    expect(r.body == body_of('index.html'), 'body %r' % r.body[:200])
    expect(r.header('content-length') == str(len(r.body)),
           'Content-Length %r for %d bytes' % (r.header('content-length'),
                                               len(r.body)))
    ctype = (r.header('content-type') or '').split(';')[0].strip()
    expect(ctype == 'text/html', 'Content-Type %r' % r.header('content-type'))
    date = r.header('date')
    expect(date and HTTP_DATE_RE.match(date), 'Date %r is not an HTTP-date'
           % date)
    skew = abs(email.utils.parsedate_to_datetime(date).timestamp() -
               time.time())
    expect(skew < 5, 'Date %r is %.0fs off the clock' % (date, skew))
    expect(r.header('server') == 'preforkd/%s' % version,
           'Server %r, expected preforkd/%s (server-tokens default true)'
           % (r.header('server'), version))


def server_tokens_off(srv):
    r = get(srv, '/a.txt', name='nk')
    expect_status(r, 200, 'GET /a.txt')
    expect(r.all('server') == ['preforkd'], 'Server %r with server-tokens '
           '= false, expected exactly "preforkd"' % r.all('server'))


def absolute_form(srv):
    port = srv.port('www')
    for target, name in (('http://127.0.0.1/a.txt', 'a.txt'),
                         ('http://127.0.0.1:%d/b.txt?x=1' % port, 'b.txt'),
                         ('http://127.0.0.1:%d' % port, 'index.html'),
                         ('HTTP://localhost/c.txt', 'c.txt')):
        r = get(srv, target)
        expect_status(r, 200, 'GET %s' % target)
        expect(r.body == body_of(name), 'GET %s: body %r, not %s'
               % (target, r.body[:80], name))


# ---------------------------------------------------------------- versions

def http10_closes(srv):
    with HttpClient(srv) as c:
        r = c.request('/a.txt', version='HTTP/1.0', host=None)
        expect_status(r, 200, 'HTTP/1.0 GET without Host')
        expect(r.body == body_of('a.txt'), 'body %r' % r.body[:80])
        expect(not r.has_token('connection', 'keep-alive'),
               'HTTP/1.0 without keep-alive answered with %r' % r)
        expect(c.closed(), 'HTTP/1.0 connection without keep-alive left open')


def http10_keepalive(srv):
    with HttpClient(srv) as c:
        for i, name in enumerate(('a.txt', 'b.txt', 'c.txt')):
            r = c.request('/' + name, version='HTTP/1.0',
                          headers={'Connection': 'keep-alive'})
            expect_status(r, 200, 'request %d' % (i + 1))
            expect(r.body == body_of(name), 'request %d: body %r'
                   % (i + 1, r.body[:80]))
            expect(r.has_token('connection', 'keep-alive'),
                   'request %d: HTTP/1.0 keep-alive answered without '
                   '"Connection: keep-alive": %r' % (i + 1, r))
            expect(c.still_open(), 'request %d: HTTP/1.0 keep-alive '
                   'connection closed' % (i + 1))


def http11_persistent(srv):
    with HttpClient(srv) as c:
        for i, name in enumerate(('a.txt', 'b.txt', 'index.html', 'c.txt')):
            r = c.request('/' + name)
            expect_status(r, 200, 'request %d' % (i + 1))
            expect(r.body == body_of(name), 'request %d: wrong body'
                   % (i + 1))
            expect(not r.has_token('connection', 'close'),
                   'request %d: Connection: close on a persistent 1.1 '
                   'connection: %r' % (i + 1, r))
        expect(c.still_open(), 'persistent connection closed')


def http11_close(srv):
    for value in ('close', 'Close', 'TE, close'):
        with HttpClient(srv) as c:
            r = c.request('/b.txt', headers={'Connection': value})
            expect_status(r, 200, 'Connection: %s' % value)
            expect(r.has_token('connection', 'close'),
                   'Connection: %s answered without Connection: close: %r'
                   % (value, r))
            expect(c.closed(), 'connection open after Connection: %s'
                   % value)
    # Header names are case-insensitive.
    with HttpClient(srv) as c:
        c.send(b'GET /b.txt HTTP/1.1\r\nhOST: x\r\nCONNECTION: close\r\n\r\n')
        r = c.response()
        expect_status(r, 200, 'upper-case CONNECTION: close')
        expect(c.closed(), 'CONNECTION: close (upper-case name) ignored')


def keepalive_requests(srv):
    with HttpClient(srv, 'kr') as c:
        for i in (1, 2, 3):
            r = c.request('/a.txt')
            expect_status(r, 200, 'request %d' % i)
            closes = r.has_token('connection', 'close')
            if i < 3:
                expect(not closes, 'request %d of 3 (keepalive-requests = 3)'
                       ' has Connection: close' % i)
            else:
                expect(closes, 'request 3 of keepalive-requests = 3 without '
                       'Connection: close: %r' % r)
        expect(c.closed(), 'connection open after keepalive-requests')


def keepalive_requests_pipelined(srv):
    with HttpClient(srv, 'kr') as c:
        c.send(b''.join(request_bytes('/b.txt?n=%d' % i) for i in range(5)))
        for i in (1, 2, 3):
            r = c.response()
            expect_status(r, 200, 'pipelined request %d' % i)
            expect(r.body == body_of('b.txt'), 'request %d: body %r'
                   % (i, r.body[:60]))
            expect(r.has_token('connection', 'close') == (i == 3),
                   'pipelined request %d of keepalive-requests = 3: %r'
                   % (i, r))
        expect(c.closed(), 'requests 4 and 5 answered, or connection left '
               'open, after keepalive-requests = 3')


def keepalive_timeout(srv):
    with HttpClient(srv) as c:
        expect_status(c.request('/a.txt'), 200, 'first request')
        start = time.monotonic()
        # The wait is the behaviour under test: an idle kept-alive connection.
        closed = c.closed(T(KA_TIMEOUT) + 5)
        took = time.monotonic() - start
    expect(closed, 'idle connection not closed within %gs '
           '(keepalive-timeout = %d)' % (T(KA_TIMEOUT) + 5, KA_TIMEOUT))
    expect(took >= KA_TIMEOUT - 0.3, 'idle connection closed after %.2fs, '
           'before keepalive-timeout = %d' % (took, KA_TIMEOUT))
    return 'closed after %.2fs, no bytes sent' % took


def keepalive_disabled(srv):
    with HttpClient(srv, 'nk') as c:
        r = c.request('/a.txt')
        expect_status(r, 200, 'GET with keepalive-timeout = 0')
        expect(r.has_token('connection', 'close'), 'keepalive-timeout = 0 '
               'but no Connection: close: %r' % r)
        expect(c.closed(), 'connection open with keepalive-timeout = 0')


# ---------------------------------------------------------------- pipelining

PIPELINE = [('GET', '/a.txt'), ('HEAD', '/c.txt'), ('GET', '/b.txt'),
            ('GET', '/missing'), ('GET', '/c.txt'), ('HEAD', '/a.txt'),
            ('GET', '/index.html')]


def pipeline_bytes(reqs):
    data = b''
    for i, (method, target) in enumerate(reqs):
        h = {'Connection': 'close'} if i == len(reqs) - 1 else {}
        data += request_bytes(target, method, headers=h)
    return data


def check_pipeline(c, reqs):
    for i, (method, target) in enumerate(reqs):
        what = 'pipelined request %d (%s %s)' % (i + 1, method, target)
        r = c.response(head=(method == 'HEAD'))
        expect(r is not None, '%s: no response (connection closed)' % what)
        name = target.lstrip('/').split('?')[0]
        if name in FILES:
            expect_status(r, 200, what)
            expect(r.header('content-length') == str(len(body_of(name))),
                   '%s: Content-Length %r, expected %d: responses mixed up'
                   % (what, r.header('content-length'), len(body_of(name))))
            if method == 'GET':
                expect(r.body == body_of(name), '%s: body of another file: %r'
                       % (what, r.body[:60]))
        else:
            expect_status(r, 404, what)
    expect(c.closed(), 'after %d pipelined responses: connection not closed'
           % len(reqs))


def pipelined(srv):
    with HttpClient(srv) as c:
        c.send(pipeline_bytes(PIPELINE))
        check_pipeline(c, PIPELINE)


def pipelined_trickle(srv):
    # The same requests cut at arbitrary points: heads split across reads.
    data = pipeline_bytes(PIPELINE)
    with HttpClient(srv) as c:
        for i in range(0, len(data), 7):
            c.send(data[i:i + 7])
        check_pipeline(c, PIPELINE)


def pipelined_many(srv):
    # More requests in one write than the head buffer holds, beyond the
    # default keepalive-requests (www has keepalive-requests = 0).
    names = ['a.txt', 'b.txt', 'c.txt', 'index.html']
    reqs = [('HEAD' if i % 7 == 3 else 'GET', '/%s?n=%d' % (names[i % 4], i))
            for i in range(150)]
    with HttpClient(srv) as c:
        c.send(pipeline_bytes(reqs))
        check_pipeline(c, reqs)


# ---------------------------------------------------------------- methods

def head_like_get(srv):
    with HttpClient(srv) as c:
        g = c.request('/c.txt')
        h = c.request('/c.txt', method='HEAD')
        expect_status(g, 200, 'GET')
        expect_status(h, 200, 'HEAD')
        # A body after the HEAD would show up as garbage before this one.
        after = c.request('/b.txt')
        expect_status(after, 200, 'GET after HEAD')
        expect(after.body == body_of('b.txt'), 'GET after HEAD: wrong body')

    def strip(r):
        return sorted((n, v) for n, v in r.headers if n != 'date')
    expect(strip(g) == strip(h), 'HEAD headers differ from GET: GET %s, '
           'HEAD %s' % (strip(g), strip(h)))
    expect(h.header('content-length') == str(len(body_of('c.txt'))),
           'HEAD Content-Length %r' % h.header('content-length'))


def methods_405(srv):
    for method in ('POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'):
        with HttpClient(srv) as c:
            r = c.request('/a.txt', method=method,
                          headers={'Content-Length': '0'})
            expect_status(r, 405, method)
            check_error_form(r, method)
            allow = {x.strip() for x in (r.header('allow') or '').split(',')}
            expect(allow == {'GET', 'HEAD'}, '%s: Allow %r, expected "GET, '
                   'HEAD"' % (method, r.header('allow')))
            expect(b'alpha' not in r.body, '%s returned the file' % method)


def unknown_method_501(srv):
    for method in ('BREW', 'PROPFIND', 'FOO-BAR'):
        r = get(srv, '/a.txt', method=method)
        expect_status(r, 501, method)
        check_error_form(r, method)


def version_505(srv):
    for version in ('HTTP/2.0', 'HTTP/3.0'):
        error_reply(srv, b'GET / %s\r\nHost: x\r\n\r\n' % version.encode(),
                    505, 'GET / %s' % version)


MALFORMED = [
    (b'\x00\x01\x02\xff\xfe garbage \x7f\r\n\r\n', 'binary garbage'),
    (b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + b'\xaa' * 40 +
     b'\r\n\r\n', 'a TLS ClientHello'),
    (b'GET\r\nHost: x\r\n\r\n', 'request line without target'),
    (b'GET /\r\nHost: x\r\n\r\n', 'request line without version'),
    (b'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n', 'request line with 4 words'),
    (b'GET / HTTX/1.1\r\nHost: x\r\n\r\n', 'bad protocol name'),
    (b'GET / HTTP/1.x\r\nHost: x\r\n\r\n', 'bad version number'),
    (b'G(T / HTTP/1.1\r\nHost: x\r\n\r\n', 'method with a non-token char'),
    (b'GET / HTTP/1.1\r\nHost x\r\n\r\n', 'header line without a colon'),
    (b'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 'space before the colon'),
    (b'GET / HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n',
     'empty header name'),
    (b'GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n', 'NUL in the target'),
    # RFC 9112 2.2: a bare CR is invalid; no LF is coming to end the line.
    (b'GET /a.txt HTTP/1.1\rHost: x\r\r', 'a request line ended by a bare CR'),
    (b'GET /a.txt HTTP/1.1\r\nHost: x\r\r', 'a field ended by a bare CR'),
    # 3.2: a fragment is never part of a request-target.
    (b'GET /a.txt#frag HTTP/1.1\r\nHost: x\r\n\r\n', 'a fragment'),
    # More than 8 empty lines before a request line: 400, no 414.
    (b'\r\n' * 4090 + b'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n',
     '4090 empty lines before the request line'),
]


def malformed_400(srv):
    for data, what in MALFORMED:
        error_reply(srv, data, 400, what)


def host_rules(srv):
    r = error_reply(srv, b'GET /a.txt HTTP/1.1\r\n\r\n', 400,
                    'HTTP/1.1 without Host', closes=False)
    expect(b'alpha' not in r.body, 'file served without Host')
    # RFC 9112 3.2: "MUST respond with 400 to ... more than one Host".
    error_reply(srv, b'GET /a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
                400, 'two Host headers', closes=False)
    # 3.2: "MUST respond with 400 to ... an invalid field value".
    for host in (b'a:80:80', b'a:b', b':80', b'[::1', b'[::1]x', b'a%zz'):
        error_reply(srv, b'GET /a.txt HTTP/1.1\r\nHost: %s\r\n\r\n' % host,
                    400, 'Host: %s' % host.decode(), closes=False)
    for host in (b'[::1]:8080', b'127.0.0.1', b'a:'):
        rs, _ = exchange(srv, b'GET /a.txt HTTP/1.1\r\nHost: %s\r\n'
                         b'Connection: close\r\n\r\n' % host)
        expect(len(rs) == 1, 'Host: %s: %d responses' % (host.decode(),
                                                          len(rs)))
        expect_status(rs[0], 200, 'Host: %s' % host.decode())


def cl_te_400(srv):
    for method in ('POST', 'GET'):
        error_reply(srv, b'%s /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5'
                    b'\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
                    % method.encode(), 400,
                    '%s with Content-Length and Transfer-Encoding' % method)
    error_reply(srv, b'POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: '
                b'chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 400,
                'Transfer-Encoding before Content-Length')


def invalid_cl_400(srv):
    for value in (b'abc', b'-1', b'+5', b'0x10', b'1 2', b'',
                  b'99999999999999999999999999'):
        error_reply(srv, b'POST /a.txt HTTP/1.1\r\nHost: x\r\n'
                    b'Content-Length: %s\r\n\r\n' % value, 400,
                    'Content-Length: %r' % value)
    error_reply(srv, b'POST /a.txt HTTP/1.1\r\nHost: x\r\n'
                b'Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400,
                'two different Content-Lengths')


def framing_400(srv):
    # Heads whose body framing is ambiguous: answering anything but an
    # error (and closing) would let a proxy and this server disagree.
    cases = [
        (b'POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n'
         b'Transfer-Encoding:\r\n chunked\r\n\r\nhello', (400,),
         'Transfer-Encoding by obs-fold, with Content-Length'),
        (b'GET /a.txt HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', (400,),
         'obs-fold'),
        (b'POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, '
         b'gzip\r\n\r\n0\r\n\r\n', (400,), 'chunked not the final coding'),
        (b'POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n'
         b'\r\n0\r\n\r\n', (400, 501), 'unknown transfer coding'),
        (b'POST /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n'
         b'0\r\n\r\n', (400,), 'Transfer-Encoding in HTTP/1.0'),
        # RFC 9112 6.1: framed, but by a coding the server cannot undo.
        (b'GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, '
         b'chunked\r\n\r\n0\r\n\r\n', (501,), 'gzip before chunked'),
        (b'GET /a.txt HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n', (400,),
         'bare CR in a header'),
        (b'GET /a.txt HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n', (400,),
         'NUL in a header'),
    ]
    for data, status, what in cases:
        error_reply(srv, data, status, what)


def many_headers(srv):
    # More header lines than a parser may keep, then Content-Length: the
    # body must be skipped (or the request refused), never run.
    head = (b'POST /a.txt HTTP/1.1\r\nHost: x\r\n' +
            b''.join(b'h%d: v\r\n' % i for i in range(150)) +
            b'Content-Length: %d\r\n\r\n' % len(SMUGGLED))
    with HttpClient(srv, 'kr') as c:
        c.send(head + SMUGGLED)
        r = c.response()
        expect_status(r, (400, 431, 405), '150 header lines then '
                      'Content-Length')
        if r.status == 405:
            expect(c.still_open(), 'the body was answered as a request')
        else:
            expect(c.closed(), 'connection open after %d' % r.status)


# ---------------------------------------------------------------- bodies

SMUGGLED = b'GET /c.txt HTTP/1.1\r\nHost: x\r\n\r\n'


def post_body_skipped(srv):
    # The body looks like a request: answering it would be request smuggling.
    post = request_bytes('/a.txt', 'POST', body=SMUGGLED)
    with HttpClient(srv) as c:            # body and next request apart
        r = c.request('/a.txt', 'POST', body=SMUGGLED)
        expect_status(r, 405, 'POST with a body')
        expect(c.still_open(), 'connection closed after a 405 to a POST '
               'with a Content-Length body')
        r = c.request('/b.txt', headers={'Connection': 'close'})
        expect_status(r, 200, 'GET after the POST')
        expect(r.body == body_of('b.txt'), 'GET after the POST: body %r'
               % r.body[:60])
        expect(c.closed(), 'a response for the body as a request')
    with HttpClient(srv) as c:            # all in one write
        c.send(post + request_bytes('/b.txt', headers={'Connection': 'close'}))
        expect_status(c.response(), 405, 'pipelined POST')
        r = c.response()
        expect_status(r, 200, 'GET pipelined after the POST')
        expect(r.body == body_of('b.txt'), 'pipelined GET after POST: body '
               'of another request: %r' % r.body[:60])
        expect(c.closed(), 'a response for the body as a request')
    big = os.urandom(64 * 1024)           # body spread over many reads
    with HttpClient(srv) as c:
        c.send(request_bytes('/a.txt', 'PUT', body=big) +
               request_bytes('/b.txt', headers={'Connection': 'close'}))
        expect_status(c.response(), 405, 'PUT of 64 KiB')
        r = c.response()
        expect_status(r, 200, 'GET after a 64 KiB PUT')
        expect(r.body == body_of('b.txt'), 'GET after 64 KiB PUT: wrong body')
    # Larger is not read through: the answer closes the connection.
    with HttpClient(srv) as c:
        c.send(request_bytes('/a.txt', 'PUT', body=big + b'x') +
               request_bytes('/b.txt', headers={'Connection': 'close'}))
        r = c.response()
        expect_status(r, 405, 'PUT of 64 KiB + 1')
        expect(r.header('connection') == 'close', 'PUT of 64 KiB + 1: '
               'Connection: %r' % r.header('connection'))
        expect(c.closed(), 'the connection stayed open after the 405')


def chunked_body_skipped(srv):
    # A chunk-size may have leading zeros past 16 digits (1*HEXDIG).
    body = (b'5\r\nhello\r\n'
            b'%x;name=value\r\n%s\r\n'
            b'00000000000000000001\r\nx\r\n'
            b'0\r\nX-Trailer: t\r\n\r\n') % (len(SMUGGLED), SMUGGLED)
    head = (b'POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked'
            b'\r\n\r\n')
    for split in (None, 3):
        with HttpClient(srv) as c:
            data = head + body + request_bytes(
                '/b.txt', headers={'Connection': 'close'})
            if split is None:
                c.send(data)
            else:
                for i in range(0, len(data), split):
                    c.send(data[i:i + split])
            expect_status(c.response(), 405, 'chunked POST')
            r = c.response()
            expect_status(r, 200, 'GET after a chunked POST')
            expect(r.body == body_of('b.txt'), 'GET after a chunked POST: '
                   'body %r' % r.body[:60])
            expect(c.closed(), 'a response for the chunked body as a request')


def chunked_body_over_limit(srv):
    """A chunked body is skipped only up to 64 KiB, as one with a
    Content-Length, also when it ends within the bytes already read: then
    the connection closes after the answer, and what follows is not taken
    for a request."""
    head = (b'POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked'
            b'\r\n\r\n')
    for size in (66000, 72000):
        with HttpClient(srv) as c:
            c.send(head + b'%x\r\n%s\r\n0\r\n\r\n' % (size, b'z' * size) +
                   request_bytes('/b.txt'))
            expect_status(c.response(), 405, 'chunked POST of %d' % size)
            expect(c.closed(), 'a chunked body of %d bytes was skipped and '
                   'the next request answered' % size)


def chunked_body_framing_aside(srv):
    """The 64 KiB counts the body's data, not its chunk framing: 64 KiB in
    64 chunks (about 450 bytes more on the wire) is skipped and the next
    request answered on the same connection."""
    head = (b'POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked'
            b'\r\n\r\n')
    body = b''.join(b'400\r\n' + b'z' * 1024 + b'\r\n' for _ in range(64))
    with HttpClient(srv) as c:
        c.send(head + body + b'0\r\n\r\n' + request_bytes('/b.txt'))
        expect_status(c.response(), 405, 'chunked POST of 64 KiB')
        r = c.response()
        expect_status(r, 200, 'GET after a chunked body of 64 KiB of data')
        expect(r.body == body_of('b.txt'), 'GET after it: wrong body')


def chunked_bare_lf_closes(srv):
    # A proxy that reads a bare LF as part of a chunk-ext or a trailer
    # line would forward what follows inside the body: the worker must
    # not take it for the next request.  Framing that came with the head
    # is judged before the answer: 400, announced as the close it is.
    head = (b'POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked'
            b'\r\n\r\n')
    for body in (b'5\r\nhello\n0\r\n\r\n', b'5;e\nhello\r\n0\r\n\r\n',
                 b'0\r\nX: v\n\r\n', b'0\r\n\n', b'5 x\r\nhello\r\n'
                 b'0\r\n\r\n'):
        with HttpClient(srv) as c:
            c.send(head + body + SMUGGLED)
            r = c.response()
            expect_status(r, 400, 'chunked POST %r' % body)
            expect(r.header('connection') == 'close', 'chunked POST %r: '
                   'Connection %r' % (body, r.header('connection')))
            expect(c.closed(), 'after %r the connection stayed open (the '
                   'request after it was answered?)' % body)
    # Framing that turns bad only after the answer still closes.
    with HttpClient(srv) as c:
        c.send(head + b'5\r\nhel')
        r = c.response()
        expect_status(r, 405, 'chunked POST, its body still to come')
        c.send(b'lo\n0\r\n\r\n' + SMUGGLED)
        expect(c.closed(), 'bad framing after the answer: the connection '
               'stayed open')


# ---------------------------------------------------------------- limits

def head_errors_bodiless(srv):
    """A HEAD refused before its head is parsed (its request line too
    long, no Host, an unknown version) gets the error's headers and no
    body, as any HEAD: the client reads no content (RFC 9110 9.3.2)."""
    cases = (
        (b'HEAD / HTTP/1.1\r\n\r\n', 400, 'HEAD without Host'),
        (b'HEAD / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400,
         'HEAD with two Hosts'),
        (b'HEAD / HTTP/2.0\r\nHost: x\r\n\r\n', 505, 'HEAD HTTP/2.0'),
        (b'HEAD /%s HTTP/1.1\r\nHost: x\r\n\r\n' % (b'a' * MAX_HEAD),
         414, 'HEAD with a long line'),
    )
    for data, status, what in cases:
        with HttpClient(srv) as c:
            c.send(data)
            r = c.response(head=True)
            expect_status(r, status, what)
            expect(r.header('content-length') not in (None, '0'),
                   '%s: no Content-Length of the GET\'s body: %r' % (what, r))
            # closed() fails on any byte after the head.
            expect(c.closed(), '%s: connection open after %d' % (what,
                                                                  status))


def request_line_414(srv):
    target = b'/' + b'a' * (MAX_HEAD + 100)
    error_reply(srv, b'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' % target, 414,
                'request line of %d bytes' % (len(target) + 14))


def long_path_414(srv):
    """A request line that fits max-header-size (8192 on kr) but whose
    path is longer than any the file system takes: 414, not 400."""
    for target in (b'/' + b'a' * 4200, b'/a' * 2100 + b'/'):
        error_reply(srv, b'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' % target,
                    414, 'a path of %d bytes' % len(target), name='kr')
    r = get(srv, '/' + 'a' * 4000, name='kr')
    expect_status(r, 404, 'a path of 4001 bytes')


def header_block_431(srv):
    headers = b''.join(b'X-Filler-%02d: %s\r\n' % (i, b'v' * 60)
                       for i in range(40))
    error_reply(srv, b'GET /a.txt HTTP/1.1\r\nHost: x\r\n%s\r\n' % headers,
                431, 'header block of %d bytes' % len(headers))
    error_reply(srv, b'GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n'
                % (b'b' * 65536), 431, 'one header line of 64 KiB')


def head_size_boundary(srv):
    # max-header-size counts the whole head, final blank line included.
    base = b'GET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX: '
    for size, status in ((MAX_HEAD, 200), (MAX_HEAD + 1, 431)):
        data = base + b'v' * (size - len(base) - 4) + b'\r\n\r\n'
        responses, closed = exchange(srv, data)
        expect(len(responses) == 1 and responses[0].status == status,
               'a head of %d bytes (max-header-size = %d): %s, expected %d'
               % (size, MAX_HEAD, [r.status for r in responses], status))


def header_timeout_408(srv):
    with HttpClient(srv) as c:
        c.send(b'GET /a.txt HTTP/1.1\r\nHost: x\r\n')
        start = time.monotonic()
        # Waiting past header-timeout is the behaviour under test.
        r = c.response(timeout=T(HEAD_TIMEOUT) + 5)
        took = time.monotonic() - start
        expect_status(r, 408, 'incomplete head')
        check_error_form(r, 'incomplete head')
        expect(r.has_token('connection', 'close'), '408 without Connection: '
               'close: %r' % r)
        expect(c.closed(), 'connection open after 408')
    expect(took >= HEAD_TIMEOUT - 0.3, '408 after %.2fs, before header-timeout'
           ' = %d' % (took, HEAD_TIMEOUT))
    return '408 after %.2fs' % took


def answered_at_once(srv, data, status, what):
    """Bytes that no request line can follow: the answer comes at once,
    not after header-timeout, and the worker is free again."""
    with HttpClient(srv) as c:
        start = time.monotonic()
        c.send(data)
        r = c.response(timeout=T(HEAD_TIMEOUT) + 5)
        took = time.monotonic() - start
        expect_status(r, status, what)
        expect(c.closed(), 'connection open after the %d' % status)
    expect(took < HEAD_TIMEOUT / 2.0, '%d after %.2fs: the worker waited '
           'for a line end (header-timeout %d s)' % (status, took,
                                                     HEAD_TIMEOUT))
    return '%d after %.3fs' % (status, took)


def binary_line_400(srv):
    # No method starts with a TLS handshake's bytes.
    hello = bytes.fromhex('16030100c8010000c40303') + bytes(range(0x41, 0x61))
    return answered_at_once(srv, hello, 400, 'a TLS ClientHello')


def empty_lines_400(srv):
    # RFC 9112 2.2 asks to skip one; a stream of them is no request.
    return answered_at_once(srv, b'\r\n' * 9, 400, '9 empty lines')


def long_method_501(srv):
    # RFC 9112 3: longer than any method implemented, 501.
    return answered_at_once(srv, b'A' * 33, 501, 'a 33-byte method')


def second_head_408(srv):
    with HttpClient(srv) as c:
        expect_status(c.request('/a.txt'), 200, 'first request')
        c.send(b'GET /b.txt HTTP/1.1\r\nHost: x\r\n')
        start = time.monotonic()
        # Waiting past header-timeout is the behaviour under test.
        r = c.response(timeout=T(HEAD_TIMEOUT) + 5)
        took = time.monotonic() - start
        expect_status(r, 408, 'incomplete second head')
        expect(c.closed(), 'connection open after 408')
    return '408 after %.2fs' % took


def slow_head_408(srv):
    # A head trickled in byte by byte must still be complete within
    # header-timeout (the whole head, not each read): slowloris.
    line = b'GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ' + b's' * 200
    limit = T(HEAD_TIMEOUT) + 2
    with HttpClient(srv) as c:
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < limit and i < len(line):
            c.send(line[i:i + 1])
            i += 1
            # pacing the client: one byte every 0.1s
            ready, _, _ = select.select([c.sock], [], [], 0.1)
            if ready:
                break
        r = c.response(timeout=T(5))
        took = time.monotonic() - start
        expect(r is not None, 'trickled head: closed without a 408')
        expect_status(r, 408, 'trickled head')
        expect(c.closed(), 'connection open after 408 to a trickled head')
    expect(took < limit, 'a head trickled for %.1fs got its 408 only then '
           '(header-timeout = %d)' % (took, HEAD_TIMEOUT))
    return '408 after %.2fs and %d bytes' % (took, i)


def silent_client_dropped(srv):
    with HttpClient(srv) as c:
        start = time.monotonic()
        # Sending nothing: the header-timeout runs from accept().
        try:
            r = c.response(timeout=T(HEAD_TIMEOUT) + 5)    # None: closed
        except Failure:
            raise Failure('a client that sends nothing is still connected '
                          'after %.1fs (header-timeout = %d)'
                          % (time.monotonic() - start, HEAD_TIMEOUT))
        took = time.monotonic() - start
        # No 408: it made no request, and a browser's preconnect would
        # take the 408 for the answer to the request it sends then.
        expect(r is None, 'silent client got %r' % r)
        expect(c.closed(T(2)), 'connection open after %r' % r)
    expect(took >= HEAD_TIMEOUT - 0.3, 'silent client dropped after %.2fs, '
           'before header-timeout = %d' % (took, HEAD_TIMEOUT))
    return 'dropped after %.2fs' % took


def main():
    t = Test('test_http_protocol')
    srv = http_server(t, 'proto', [
        dict(name='www', http=dict(
            root='root', keepalive_timeout=KA_TIMEOUT, keepalive_requests=0,
            header_timeout=HEAD_TIMEOUT, max_header_size=MAX_HEAD)),
        dict(name='kr', http=dict(root='root', keepalive_requests=3)),
        dict(name='nk', http=dict(root='root', keepalive_timeout=0,
                                  server_tokens=False)),
    ])
    make_tree(os.path.join(srv.dir, 'root'), FILES)
    if not t.check('server starts', srv.start):
        t.finish()
    workers = srv.workers()
    mark = srv.mark()
    t.check('GET /: 200, body, Content-Length, Date, Server', get_basic, srv)
    t.check('server-tokens = false: "Server: preforkd"', server_tokens_off,
            srv)
    t.check('absolute-form targets are served', absolute_form, srv)
    t.check('HTTP/1.0 without keep-alive closes', http10_closes, srv)
    t.check('HTTP/1.0 with Connection: keep-alive stays open',
            http10_keepalive, srv)
    t.check('HTTP/1.1 is persistent by default', http11_persistent, srv)
    t.check('HTTP/1.1 Connection: close closes', http11_close, srv)
    t.check('keepalive-requests = 3: the 3rd response closes',
            keepalive_requests, srv)
    t.check('keepalive-requests = 3 with 5 pipelined requests',
            keepalive_requests_pipelined, srv)
    t.check('keepalive-timeout: idle connection closed without a response',
            keepalive_timeout, srv)
    t.check('keepalive-timeout = 0 disables keep-alive', keepalive_disabled,
            srv)
    t.check('7 pipelined requests (HEAD, 404) answered in order', pipelined,
            srv)
    t.check('pipelined requests trickled in 7-byte pieces', pipelined_trickle,
            srv)
    t.check('150 pipelined requests in one write', pipelined_many, srv)
    t.check('HEAD: the headers of GET, no body', head_like_get, srv)
    t.check('POST/PUT/DELETE/OPTIONS/PATCH/TRACE: 405 with Allow',
            methods_405, srv)
    t.check('unknown method: 501', unknown_method_501, srv)
    t.check('HTTP/2.0, HTTP/3.0: 505', version_505, srv)
    t.check('malformed requests: 400 and close', malformed_400, srv)
    t.check('HTTP/1.1 without Host, with two, or an invalid one: 400',
            host_rules, srv)
    t.check('Content-Length with Transfer-Encoding: 400 and close', cl_te_400,
            srv)
    t.check('invalid Content-Length: 400 and close', invalid_cl_400, srv)
    t.check('ambiguous framing (obs-fold, TE codings, CR, NUL): 400',
            framing_400, srv)
    t.check('150 header lines then Content-Length: no smuggling',
            many_headers, srv)
    t.check('POST/PUT body up to 64 KiB skipped: 405, connection usable',
            post_body_skipped, srv)
    t.check('chunked body skipped: 405, connection usable',
            chunked_body_skipped, srv)
    t.check('chunked body over 64 KiB ending in one read: closed after '
            'the answer', chunked_body_over_limit, srv)
    t.check('chunked body of 64 KiB of data: skipped, its framing aside',
            chunked_body_framing_aside, srv)
    t.check('bare LF or junk in chunk framing: 400 and closed',
            chunked_bare_lf_closes, srv)
    t.check('HEAD refused before its head is parsed: no body',
            head_errors_bodiless, srv)
    t.check('request line over max-header-size: 414', request_line_414, srv)
    t.check('a path longer than the file system takes: 414', long_path_414,
            srv)
    t.check('header block over max-header-size: 431', header_block_431, srv)
    t.check('a head of exactly max-header-size is served, one byte more 431',
            head_size_boundary, srv)
    t.check('incomplete head: 408 after header-timeout', header_timeout_408,
            srv)
    t.check('a TLS handshake: 400 at once, not 408', binary_line_400, srv)
    t.check('9 empty lines, no request line: 400 at once', empty_lines_400,
            srv)
    t.check('a 33-byte method, no line end: 501 at once', long_method_501,
            srv)
    t.check('incomplete head on a kept-alive connection: 408',
            second_head_408, srv)
    t.check('head trickled byte by byte: 408 within header-timeout',
            slow_head_408, srv)
    t.check('a client that sends nothing is dropped without a 408',
            silent_client_dropped, srv)

    def same_workers():
        no_worker_trouble(srv, mark)
        now = srv.workers()
        expect(now == workers, 'workers changed: %s -> %s' % (workers, now))
    t.check('the same workers serve on, none died', same_workers)
    t.finish()


if __name__ == '__main__':
    main()

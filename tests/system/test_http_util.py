# SPDX-License-Identifier: BSD-2-Clause
"""Support for the http handler's system tests (test_http_*.py).

The harness's Server writes configs from dicts, which cannot express the
`http { }` subsection: http_conf() writes such a config as text, and
HttpClient speaks raw HTTP/1.x over a socket (curl normalises paths and
hides framing, which these tests must see).

Run alone, this file is a smoke test: one http server, one GET.
"""
import os
import re
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Failure, Test, conf_value, connect, expect

VERSION_RE = re.compile(r'preforkd/\d+\.\d+')
# An HTTP-date (IMF-fixdate), as in Date and Last-Modified.
HTTP_DATE_RE = re.compile(r'^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} '
                          r'(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)'
                          r' \d{4} \d{2}:\d{2}:\d{2} GMT$')


def http_conf_text(srv, servers, **globals_):
    """Config text for srv: globals as the harness writes them, then one
    `server` section per dict; a dict's 'http' entry is the subsection."""
    g = dict(srv.globals)
    g.update(globals_)
    lines = ['%s = %s' % (k.replace('_', '-'), conf_value(v))
             for k, v in g.items() if v is not None]
    for s in servers:
        opts = dict(listen='127.0.0.1:0', handler='http', workers=2,
                    timeout=60)
        opts.update(s)
        name = opts.pop('name')
        http = opts.pop('http', None)
        lines.append('server %s {' % name)
        for k, v in opts.items():
            lines.append('  %s = %s' % (k.replace('_', '-'), conf_value(v)))
        if http is not None:
            lines.append('  http {')
            for k, v in http.items():
                lines.append('    %s = %s' % (k.replace('_', '-'), conf_value(v)))
            lines.append('  }')
        lines.append('}')
    return '\n'.join(lines) + '\n'


def http_server(t, name, servers, **globals_):
    """A harness Server whose config holds the given http servers (not
    started).  Each server dict needs 'name' and its 'http' dict."""
    srv = t.server(name, **globals_)
    srv.http_servers = servers
    srv.write_conf(text=http_conf_text(srv, servers))
    return srv


def rewrite_conf(srv, servers, **globals_):
    srv.http_servers = servers
    srv.write_conf(text=http_conf_text(srv, servers, **globals_))


def make_tree(root, files):
    """Creates files under root: {relative path: bytes or str}."""
    os.makedirs(root, exist_ok=True)
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data.encode() if isinstance(data, str) else data)


# ---------------------------------------------------------------- client

class Response:
    def __init__(self, head, body):
        self.head = head                # raw bytes, up to the blank line
        self.body = body
        lines = head.decode('latin-1').split('\r\n')
        self.status_line = lines[0]
        parts = lines[0].split(' ', 2)
        if len(parts) < 2 or not parts[0].startswith('HTTP/') or \
                not parts[1].isdigit():
            raise Failure('not an HTTP status line: %r' % lines[0][:200])
        self.version = parts[0]
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ''
        self.headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(':')
            if not sep:
                raise Failure('header line without a colon: %r' % line)
            self.headers.append((name.strip().lower(), value.strip()))

    def header(self, name):
        """Value of the last header called name, or None."""
        vals = self.all(name)
        return vals[-1] if vals else None

    def all(self, name):
        return [v for n, v in self.headers if n == name.lower()]

    def has_token(self, name, token):
        """True if the comma-separated header name holds token."""
        return any(token.lower() == x.strip().lower()
                   for v in self.all(name) for x in v.split(','))

    def __repr__(self):
        return '<%s, %d body bytes>' % (self.head.decode('latin-1')
                                         .replace('\r\n', ' | '),
                                         len(self.body))


class HttpClient:
    """One connection, speaking raw HTTP/1.x."""

    def __init__(self, srv, name='www', timeout=None):
        self.sock = connect(srv.addr(name), timeout or T(10))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _more(self, timeout):
        """Reads once into buf; False on EOF/reset."""
        if self.eof:
            return False
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise Failure('no (complete) response within %gs; have %r'
                          % (timeout, self.buf[:300]))
        except ConnectionResetError:
            chunk = b''
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def response(self, head=False, timeout=None):
        """Reads one response (no body if head, or for 1xx/204/304).
        Returns None on EOF before any byte of it."""
        timeout = timeout or T(10)
        while b'\r\n\r\n' not in self.buf:
            if not self._more(timeout):
                if not self.buf:
                    return None
                raise Failure('connection closed inside a response head: %r'
                              % self.buf[:300])
        end = self.buf.index(b'\r\n\r\n')
        r = Response(self.buf[:end], b'')
        self.buf = self.buf[end + 4:]
        if head or r.status in (204, 304) or r.status < 200:
            return r
        if r.header('transfer-encoding'):
            raise Failure('unexpected Transfer-Encoding in %r' % r)
        length = r.header('content-length')
        if length is None:
            while self._more(timeout):
                pass
            r.body, self.buf = self.buf, b''
            return r
        expect(length.isdigit(), 'bad Content-Length in %r' % r)
        n = int(length)
        while len(self.buf) < n:
            if not self._more(timeout):
                raise Failure('connection closed after %d of %d body bytes '
                              'of %r' % (len(self.buf), n, r))
        r.body, self.buf = self.buf[:n], self.buf[n:]
        return r

    def request(self, target='/', method='GET', version='HTTP/1.1',
                headers=None, body=b'', host='127.0.0.1', timeout=None):
        self.send(request_bytes(target, method, version, headers, body, host))
        return self.response(head=(method == 'HEAD'), timeout=timeout)

    def closed(self, timeout=None):
        """True if the server closes (EOF or reset) within timeout and sent
        nothing more; raises if it sent more bytes."""
        timeout = timeout or T(5)
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            try:
                if not self._more(max(0.01, deadline - time.monotonic())):
                    break
            except Failure:
                return False
        expect(not self.buf, 'bytes after the last response: %r'
               % self.buf[:300])
        return self.eof

    def still_open(self, wait=0.2):
        """True if nothing arrives and the connection stays open for
        `wait` seconds (a short look, not a wait for a condition)."""
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(1)
        except socket.timeout:
            return True
        except OSError:
            return False
        if chunk:
            self.buf += chunk
        return False

    def reset(self):
        """Closes with SO_LINGER 0: the peer sees a RST."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack('ii', 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


def request_bytes(target='/', method='GET', version='HTTP/1.1', headers=None,
                  body=b'', host='127.0.0.1'):
    lines = ['%s %s %s' % (method, target, version)]
    if host is not None:
        lines.append('Host: %s' % host)
    for k, v in (headers or {}).items():
        lines.append('%s: %s' % (k, v))
    if body and not any(k.lower() in ('content-length', 'transfer-encoding')
                        for k in (headers or {})):
        lines.append('Content-Length: %d' % len(body))
    data = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
    return data + (body if isinstance(body, bytes) else body.encode())


def get(srv, target='/', name='www', method='GET', headers=None,
        version='HTTP/1.1', body=b''):
    """One request on its own connection, with `Connection: close`; checks
    that the server then closes and sends nothing more."""
    h = {'Connection': 'close'}
    h.update(headers or {})
    with HttpClient(srv, name) as c:
        r = c.request(target, method, version, h, body)
        expect(r is not None, '%s %s: connection closed without a response'
               % (method, target))
        expect(c.closed(), '%s %s: connection still open after a response '
               'with Connection: close' % (method, target))
    return r


def exchange(srv, data, name='www', timeout=None):
    """Sends raw bytes on a new connection (no half-close) and reads the
    responses until the server closes: (responses, closed)."""
    out = []
    with HttpClient(srv, name) as c:
        c.send(data)
        while True:
            r = c.response(timeout=timeout or T(10))
            if r is None:
                break
            out.append(r)
        return out, c.eof


def expect_status(r, status, what):
    expect(r is not None, '%s: no response' % what)
    ok = r.status in status if isinstance(status, (tuple, list, set)) \
        else r.status == status
    expect(ok, '%s: status %d, expected %s; got %r'
           % (what, r.status, status, r))


def error_reply(srv, data, status, what, name='www', closes=True):
    """Sends raw data; expects one small error response `status` with a
    Content-Length matching its body and, if closes, `Connection: close` and
    the connection closed by the server."""
    with HttpClient(srv, name) as c:
        c.send(data)
        r = c.response()
        expect_status(r, status, what)
        check_error_form(r, what)
        if closes:
            expect(r.has_token('connection', 'close'),
                   '%s: %d without Connection: close: %r'
                   % (what, r.status, r))
            expect(c.closed(), '%s: connection open after %d with '
                   'Connection: close' % (what, r.status))
    return r


def check_error_form(r, what):
    cl = r.header('content-length')
    expect(cl is not None and cl.isdigit() and int(cl) == len(r.body),
           '%s: error response without a matching Content-Length: %r'
           % (what, r))
    expect(len(r.body) < 2048, '%s: error body of %d bytes is not small'
           % (what, len(r.body)))


def worker_fds(srv):
    """{worker pid: open fd count}."""
    out = {}
    for w in srv.workers():
        try:
            out[w] = len(os.listdir('/proc/%d/fd' % w))
        except OSError:
            pass
    return out


def no_worker_trouble(srv, since=0):
    """No worker died or was killed since log offset `since`."""
    bad = srv.find(r'[^\n]*worker \d+ (exited|busy for|recycled)[^\n]*',
                   since)
    expect(not bad, 'workers died: %s' % [m.group(0) for m in bad])


def smoke():
    t = Test('test_http_util')
    srv = http_server(t, 'smoke', [dict(name='www', http=dict(root='root'))])
    make_tree(os.path.join(srv.dir, 'root'), {'index.html': 'hello\n'})
    if t.check('server starts', srv.start):
        def one_get():
            r = get(srv, '/')
            expect_status(r, 200, 'GET /')
            expect(r.body == b'hello\n', 'body %r' % r.body)
        t.check('GET / serves index.html', one_get)
    t.finish()


if __name__ == '__main__':
    smoke()

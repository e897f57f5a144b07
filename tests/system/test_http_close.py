# SPDX-License-Identifier: BSD-2-Clause
"""Closing without destroying responses: when the server ends a
connection while the client's input is still unread (pipelined requests
past keepalive-requests, a request body after an early answer), a plain
close() makes the kernel send RST and the client loses responses already
written.  preforkd half-closes and drains first, as nginx and Apache do.
A body is read through only while it is small and quick."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, expect
from test_http_util import http_server, make_tree

BIG = bytes(range(256)) * 1200          # 300 KiB


def read_all(sock, limit):
    """Everything until EOF; a reset fails the check."""
    data = b''
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            raise AssertionError('connection reset after %d bytes'
                                 % len(data))
        if not chunk:
            return data
        data += chunk
    raise AssertionError('no EOF within %gs' % limit)


def responses(data):
    """Splits raw bytes into (status, body) pairs by Content-Length."""
    out = []
    while data:
        head, sep, rest = data.partition(b'\r\n\r\n')
        expect(sep, 'a truncated head: %r' % head[:80])
        status = int(head.split(b' ', 2)[1])
        length = [int(l.split(b':', 1)[1]) for l in head.split(b'\r\n')
                  if l.lower().startswith(b'content-length:')][0]
        expect(len(rest) >= length, 'a truncated body: %d of %d bytes'
               % (len(rest), length))
        out.append((status, rest[:length]))
        data = rest[length:]
    return out


def pipelined_past_limit(srv):
    s = socket.create_connection(('127.0.0.1', srv.port('www')))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    req = b'GET /big HTTP/1.1\r\nHost: x\r\n\r\n'
    s.sendall(req * 200)
    time.sleep(0.3)     # the behaviour: a client slow to read its answers
    got = responses(read_all(s, T(20)))
    s.close()
    expect([st for st, _ in got] == [200] * 3,
           'statuses %s, expected three 200s' % [st for st, _ in got])
    expect(all(b == BIG for _, b in got), 'a body differs from the file')


def body_after_early_answer(srv):
    s = socket.create_connection(('127.0.0.1', srv.port('www')))
    s.sendall(b'POST /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'
              b'Content-Length: 2000000\r\n\r\n')
    s.sendall(b'x' * 200000)
    got = responses(read_all(s, T(20)))
    s.close()
    expect([st for st, _ in got] == [405], 'statuses %s' % got)


def head_of(data):
    head = data.partition(b'\r\n\r\n')[0].decode('latin-1')
    return head.split('\r\n')


def trickle_body(srv, length, limit):
    """Sends a POST head announcing length bytes, then a byte every half
    second or so: (what came back, seconds until the server closed, or
    None if it was still open after limit)."""
    s = socket.create_connection(('127.0.0.1', srv.port('www')))
    s.sendall(b'POST /big HTTP/1.1\r\nHost: x\r\n'
              b'Content-Length: %d\r\n\r\n' % length)
    s.settimeout(0.4)
    data, start = b'', time.monotonic()
    try:
        while time.monotonic() - start < limit:
            try:
                s.sendall(b'x')
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return data, time.monotonic() - start
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        return data, time.monotonic() - start
    finally:
        s.close()
    return data, None


def huge_body_closes(srv):
    """A body too large to read through (1 TB announced) is not drained:
    the answer says Connection: close and the connection ends, though
    the client goes on sending.  It used to hold the worker for as long
    as the client sent a byte now and then."""
    data, closed = trickle_body(srv, 10 ** 12, T(6))
    expect(closed is not None, 'still open after %gs: %r'
           % (T(6), data[:200]))
    lines = head_of(data)
    expect(lines[0].startswith('HTTP/1.1 405') and
           'Connection: close' in lines, 'the answer: %r' % lines)
    return lines[0]


def trickled_body_bounded(srv):
    """A small body sent a byte at a time is read for one header-timeout
    (2 s here) in all, not per byte: then the connection ends."""
    data, closed = trickle_body(srv, 1000, T(8))
    expect(head_of(data)[0].startswith('HTTP/1.1 405'), 'the answer: %r'
           % data[:200])
    expect(closed is not None and closed < T(5), 'a body trickled in: '
           'closed after %s s, header-timeout is 2 s' % closed)
    return 'closed after %.1f s' % closed


def main():
    t = Test('test_http_close')
    srv = http_server(t, 'close', [dict(name='www', http=dict(
        root='www', keepalive_requests=3, header_timeout=2))])
    make_tree(os.path.join(srv.dir, 'www'), {'big': BIG})
    if t.check('server starts', srv.start):
        t.check('pipelined requests past keepalive-requests: all answers '
                'arrive, no reset', pipelined_past_limit, srv)
        t.check('a body after an early answer: the answer arrives',
                body_after_early_answer, srv)
        t.check('a huge body is not drained: Connection: close, closed',
                huge_body_closes, srv)
        t.check('a body trickled in is read for one header-timeout in all',
                trickled_body_bounded, srv)
    t.finish()


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""PROXY protocol on a listener: v1 and v2 headers from allowed peers give
the handler the header's source (access log host, status page client);
LOCAL and UNKNOWN keep the socket's addresses; a header split over
segments is waited for; a missing, partial, malformed or over-long header,
and any connection from a peer outside proxy-allow, is closed and counted
on the status page, and the worker serves on.  The echo handler echoes
only what follows the header."""
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, closed_by_peer, connect, expect, wait_until
from test_http_util import http_server, make_tree

SIG = b'\r\n\r\n\x00\r\nQUIT\n'


def v1(src, dst='192.0.2.1', sport=40000, dport=80):
    proto = 'TCP6' if ':' in src else 'TCP4'
    return ('PROXY %s %s %s %d %d\r\n' % (proto, src, dst, sport,
                                          dport)).encode()


def v2(src, dst='192.0.2.1', sport=40000, dport=80, tlvs=b''):
    if ':' in src:
        addrs = (socket.inet_pton(socket.AF_INET6, src) +
                 socket.inet_pton(socket.AF_INET6, dst))
        fam = 0x21
    else:
        addrs = socket.inet_aton(src) + socket.inet_aton(dst)
        fam = 0x11
    body = addrs + struct.pack('!HH', sport, dport) + tlvs
    return SIG + bytes([0x21, fam]) + struct.pack('!H', len(body)) + body


V2_LOCAL = SIG + b'\x20\x00\x00\x00'


def request(path='/a.txt'):
    return ('GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
            % path).encode()


def fetch(srv, name, data, parts=None):
    """Sends data (in parts, with a pause between, if given); returns all
    the server sends until it closes."""
    s = connect(srv.addr(name), T(10))
    try:
        for i, p in enumerate(parts or [data]):
            if i:
                time.sleep(0.2)
            s.sendall(p)
        out = b''
        s.settimeout(T(10))
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def main():
    t = Test('test_proxy')
    root = os.path.join(t.dir, 'root')
    make_tree(root, {'a.txt': 'alpha\n'})
    alog = os.path.join(t.dir, 'access.log')
    srv = http_server(t, 'srv', [
        dict(name='www', proxy_protocol='any',
             http=dict(root=root, access_log=alog,
                       status_path='/server-status',
                       status_allow=['127.0.0.1', '203.0.113.0/24'])),
        dict(name='strict', proxy_protocol='v2', proxy_allow=['10.0.0.0/8'],
             http=dict(root=root, access_log='off')),
        dict(name='echo', handler='echo', proxy_protocol='v1'),
        dict(name='dual', listen='*:0', proxy_protocol='v1',
             proxy_allow=['::1'], http=dict(root=root, access_log='off')),
    ])
    srv.start()

    def log_hosts():
        try:
            with open(alog) as f:
                return [line.split(' ', 1)[0] for line in f]
        except FileNotFoundError:
            return []

    def served_as(data, host, parts=None):
        before = len(log_hosts())
        out = fetch(srv, 'www', data, parts)
        expect(out.startswith(b'HTTP/1.1 200 '), 'no 200 for %r: %r'
               % ((data or parts[0])[:60], out[:120]))
        expect(wait_until(lambda: len(log_hosts()) > before, T(5)),
               'no access log line')
        got = log_hosts()[before]
        want = host if isinstance(host, tuple) else (host,)
        expect(got in want, 'access log host %r, want %r' % (got, host))

    t.check('v1 TCP4: the access log names the header source',
            served_as, v1('203.0.113.7') + request(), '203.0.113.7')
    t.check('v1 TCP6', served_as, v1('2001:db8::7', '2001:db8::1') +
            request(), '2001:db8::7')
    # HAProxy relaying an IPv4 client to an IPv6 server writes the client
    # IPv4-mapped; the log shows the IPv4 address or its mapped form.
    t.check('v1 TCP6 with an IPv4-mapped source', served_as,
            v1('::ffff:203.0.113.5', '2001:db8::1') + request(),
            ('203.0.113.5', '::ffff:203.0.113.5'))
    t.check('v2 TCP4 with TLVs', served_as,
            v2('198.51.100.9', tlvs=b'\x01\x00\x02h2\x04\x00\x00') +
            request(), '198.51.100.9')
    t.check('v2 TCP6', served_as, v2('2001:db8::9', '2001:db8::1') +
            request(), '2001:db8::9')
    hdr = v2('198.51.100.10')
    t.check('v2 header in three segments', served_as, None, '198.51.100.10',
            [hdr[:5], hdr[5:20], hdr[20:] + request()])
    t.check('v2 LOCAL keeps the socket address', served_as,
            V2_LOCAL + request(), '127.0.0.1')
    t.check('v1 UNKNOWN keeps the socket address', served_as,
            b'PROXY UNKNOWN\r\n' + request(), '127.0.0.1')

    def status_text():
        out = fetch(srv, 'www', v1('203.0.113.50') +
                    request('/server-status'))
        expect(out.startswith(b'HTTP/1.1 200 '), 'status page: %r'
               % out[:200])
        return out.decode('latin-1')

    def refused_count(name='www'):
        m = re.search(r'server %s: .*?\n(?:  .*\n)*?  PROXY header refused '
                      r'(\d+) connections' % name, status_text())
        return int(m.group(1)) if m else 0

    def status_client():
        text = status_text()
        expect(re.search(r' 203\.0\.113\.50:40000 GET /server-status', text),
               'the status page does not show the header source as the '
               'client: %s' % text[-600:])
    t.check('the status page shows the header source as client',
            status_client)

    def refused(name, data, what, wait=None):
        before = refused_count(name)
        s = connect(srv.addr(name), T(10))
        try:
            if data:
                s.sendall(data)
            expect(closed_by_peer(s, wait or T(10)), '%s: connection not '
                   'closed' % what)
        finally:
            s.close()
        expect(wait_until(lambda: refused_count(name) == before + 1, T(5)),
               '%s: refused count %d, want %d' % (what, refused_count(name),
                                                  before + 1))

    t.check('missing header: closed, counted', refused, 'www', request(),
            'no header')
    t.check('malformed v1: closed, counted', refused, 'www',
            b'PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n' + request(),
            'leading zero')
    t.check('v1 line of 108 bytes: closed, counted', refused, 'www',
            b'PROXY UNKNOWN ' + b'f' * 92 + b'\r\n', 'over-long')
    t.check('v2 TLV overrun: closed, counted', refused, 'www',
            v2('198.51.100.1', tlvs=b'\x01\x00\x09h2'), 'TLV overrun')
    t.check('partial header: closed after the wait, counted', refused,
            'www', v2('198.51.100.1')[:20], 'partial', T(15))
    t.check('valid header from a peer outside proxy-allow: closed',
            refused, 'strict', v2('198.51.100.1') + request(),
            'outside proxy-allow')
    # One line a minute per worker: the first, the plain request, says
    # what came instead of the header.
    t.check('the refusals are logged, a missing header with what came',
            lambda: expect(srv.find(
                r'server www: connection from 127\.0\.0\.1:\d+ closed: '
                r'PROXY header missing \(the connection began "GET '
                r'/a\.txt HTTP/1\.1"\)'), 'no log line'))
    # A dual-stack listener sees 127.0.0.1 as ::ffff:127.0.0.1; the log
    # names it as the access log and the status page do.
    t.check('a refusal on a dual-stack listener names an IPv4 peer as '
            'IPv4', refused, 'dual', v1('203.0.113.9') + request(),
            'outside proxy-allow')
    t.check('... in its log line', lambda: expect(srv.find(
        r'server dual: connection from 127\.0\.0\.1:\d+ closed: not in '
        r'proxy-allow'), 'no such line: %s' % [m.group(0) for m in srv.find(
            r'server dual: connection from \S+')]))
    t.check('the worker serves on', served_as, v1('203.0.113.8') + request(),
            '203.0.113.8')

    def echo():
        s = connect(srv.addr('echo'), T(10))
        try:
            s.sendall(v1('203.0.113.60') + b'hello')
            got = b''
            s.settimeout(T(10))
            while len(got) < 5:
                chunk = s.recv(100)
                expect(chunk, 'echo closed after %r' % got)
                got += chunk
            expect(got == b'hello', 'echo sent back %r' % got)
            text = status_text()
            expect(re.search(r' echo +\S+ .* 203\.0\.113\.60:40000 ', text),
                   'the echo worker\'s client is not the header source: '
                   '%s' % text[-600:])
        finally:
            s.close()
    t.check('echo: only what follows the header comes back', echo)
    # The first refusals of these workers: logged, saying which version.
    t.check('a v2 header to a v1 server: closed, counted', refused, 'echo',
            v2('198.51.100.1') + b'hello', 'v2 to v1')
    t.check('... logged as the other version, not as began ""',
            lambda: expect(srv.find(
                r'server echo: connection from 127\.0\.0\.1:\d+ closed: '
                r'PROXY header missing \(a version 2 header came; '
                r'proxy-protocol is "v1"\)'), 'no such line: %s' % [
                    m.group(0) for m in srv.find(r'server echo: .*closed.*')]))
    t.finish()


main()

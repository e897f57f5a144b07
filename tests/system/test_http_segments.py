#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""What preforkd puts on the wire, segment by segment, as a packet socket
on the loopback interface sees it:

- a response that ends its connection (Connection: close, an error that
  closes, the last request keepalive-requests allows) leaves with the FIN
  in its last segment, not in a segment of its own;
- on a kept-alive connection, a small file's head and body leave in one
  segment, without a FIN;
- a file sent with sendfile(): its head leaves with the file's first bytes.

A packet socket needs CAP_NET_RAW; the script runs itself again in a
network namespace of its own (unshare --net --map-root-user), where it
has that over its own loopback and sees no other traffic."""
import fcntl
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, connect, expect, recv_to_eof, skipped
from test_http_util import http_server, make_tree, no_worker_trouble

NETNS_ENV = 'PREFORKD_TEST_NETNS'
ETH_P_IP = 0x0800
PACKET_HOST = 0
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
TCP_FIN = 0x01

SMALL = bytes(range(256)) * 4           # 1 KiB: sent with its head
LARGE = bytes(range(256)) * 400         # 100 KiB: sent with sendfile()


def into_private_netns():
    """Runs this script again inside a network namespace of its own; returns
    (only) the reason when that cannot be done."""
    unshare = shutil.which('unshare')
    if unshare is None:
        return 'unshare (util-linux) not found'
    probe = subprocess.run([unshare, '--net', '--map-root-user', 'true'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=T(30))
    if probe.returncode != 0:
        return ('no private network namespace here (unshare: %s)'
                % probe.stderr.decode(errors='replace').strip())
    os.environ[NETNS_ENV] = '1'
    sys.stdout.flush()
    os.execv(unshare, [unshare, '--net', '--map-root-user', sys.executable,
                       os.path.abspath(__file__)])
    return 'exec failed'        # not reached: execv raises instead


def loopback_up():
    """A new network namespace has its loopback down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack('16sH22x', b'lo', 0))
        flags = struct.unpack('16sH22x', ifr)[1]
        fcntl.ioctl(s, SIOCSIFFLAGS,
                    struct.pack('16sH22x', b'lo', flags | IFF_UP))


class Capture:
    """IPv4 TCP segments through lo, each seen once: a socket bound to
    ETH_P_IP gets a loopback packet as it arrives (PACKET_HOST), not as
    it leaves (that copy goes only to ETH_P_ALL sockets)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                  socket.htons(ETH_P_IP))
        self.sock.bind(('lo', ETH_P_IP))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)

    def close(self):
        self.sock.close()

    def segments(self, sport, dport, done, timeout=None):
        """[(flags, payload)] of the segments from sport to dport, read
        until done(list) is true or timeout seconds pass."""
        out = []
        end = time.monotonic() + (timeout or T(5))
        while not done(out):
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                break
            pkt, addr = self.sock.recvfrom(1 << 18)
            if addr[2] != PACKET_HOST or len(pkt) < 20 or pkt[9] != 6:
                continue
            ihl = (pkt[0] & 0x0f) * 4
            total = struct.unpack('!H', pkt[2:4])[0]
            tcp = pkt[ihl:total]
            src, dst = struct.unpack('!HH', tcp[:4])
            if (src, dst) == (sport, dport):
                out.append((tcp[13], tcp[(tcp[12] >> 4) * 4:]))
        return out


def read_small_answer(s):
    """One answer carrying SMALL, read whole off a kept-alive connection."""
    got = b''
    while b'\r\n\r\n' not in got or \
            len(got) < got.index(b'\r\n\r\n') + 4 + len(SMALL):
        chunk = s.recv(65536)
        expect(chunk, 'the server closed mid-answer after %d bytes'
               % len(got))
        got += chunk
    return got


def with_fin(segs):
    return any(flags & TCP_FIN for flags, _ in segs)


def closing_exchange(srv, talk):
    """Runs talk(sock) on a new connection (it returns what it read, up to
    EOF); returns (bytes read, the server's data segments, whether a FIN
    came on its own)."""
    cap = Capture()
    try:
        with connect(srv.addr('www')) as s:
            data = talk(s)
            mine = s.getsockname()[1]
        segs = cap.segments(srv.port('www'), mine, with_fin)
    finally:
        cap.close()
    expect(with_fin(segs), 'no FIN from the server among %d segments'
           % len(segs))
    sent = b''.join(p for _, p in segs)
    expect(sent == data, 'the segments carried %d bytes, the client read %d'
           % (len(sent), len(data)))
    data_segs = [(f, p) for f, p in segs if p]
    lone_fin = any(f & TCP_FIN and not p for f, p in segs)
    return data, data_segs, lone_fin


def fin_rides_with_data(srv, request, status):
    def talk(s):
        s.sendall(request)
        return recv_to_eof(s)
    data, segs, lone_fin = closing_exchange(srv, talk)
    expect(data.startswith(b'HTTP/1.1 %d ' % status),
           'answer %r, expected %d' % (data[:40], status))
    expect(not lone_fin, 'the FIN left in a segment of its own, after %d '
           'data segment(s)' % len(segs))
    expect(segs and segs[-1][0] & TCP_FIN,
           'the FIN is not on the last data segment')
    return '%d bytes in %d segment(s), FIN on the last' % (len(data),
                                                          len(segs))


def last_allowed_request(srv):
    """The second request (keepalive-requests = 2) is sent once the first
    answer is read, so that its segment acknowledges that answer: an
    acknowledgement arriving while the second answer is held would send
    it at once, a case this check is not about."""
    req = b'GET /small HTTP/1.1\r\nHost: x\r\n\r\n'

    def talk(s):
        s.sendall(req)
        first = read_small_answer(s)
        s.sendall(req)
        return first + recv_to_eof(s)
    data, segs, lone_fin = closing_exchange(srv, talk)
    expect(data.count(b'HTTP/1.1 200 ') == 2, 'answers: %r' % data[:200])
    expect(not lone_fin, 'the FIN after the second answer left in a '
           'segment of its own')
    return '%d data segments, FIN on the last' % len(segs)


def keepalive_one_segment(srv):
    cap = Capture()
    try:
        with connect(srv.addr('www')) as s:
            s.sendall(b'GET /small HTTP/1.1\r\nHost: x\r\n\r\n')
            answer = read_small_answer(s)
            mine = s.getsockname()[1]
            segs = cap.segments(srv.port('www'), mine, lambda o: sum(
                len(p) for _, p in o) >= len(answer))
    finally:
        cap.close()
    data_segs = [(f, p) for f, p in segs if p]
    expect(len(data_segs) == 1, 'the response took %d segments (%s bytes)'
           % (len(data_segs), [len(p) for _, p in data_segs]))
    expect(data_segs[0][1] == answer, 'the segment differs from the '
           'response read')
    expect(not with_fin(segs), 'a FIN on a kept-alive connection')


def sendfile_head_with_body(srv):
    cap = Capture()
    try:
        with connect(srv.addr('www')) as s:
            s.sendall(b'GET /large HTTP/1.1\r\nHost: x\r\n\r\n')
            got = b''
            while b'\r\n\r\n' not in got:
                chunk = s.recv(65536)
                expect(chunk, 'closed before the head')
                got += chunk
            mine = s.getsockname()[1]
            segs = cap.segments(srv.port('www'), mine,
                                lambda o: any(p for _, p in o))
    finally:
        cap.close()
    first = next((p for _, p in segs if p), b'')
    head_len = first.find(b'\r\n\r\n') + 4
    expect(head_len >= 4, 'the first data segment holds no whole head '
           '(%d bytes)' % len(first))
    expect(len(first) > head_len, 'the head left alone, in a %d-byte '
           'segment' % len(first))
    expect(first[head_len:] == LARGE[:len(first) - head_len],
           'the bytes after the head are not the file\'s first')
    return 'head and %d file bytes in the first segment' % (len(first) -
                                                            head_len)


def main():
    if not os.environ.get(NETNS_ENV):
        why = into_private_netns()
        t = Test('test_http_segments')
        t.check('a network namespace of its own', lambda: skipped(why))
        t.finish()
        sys.exit(1 if t.failed else 0)
    t = Test('test_http_segments')
    try:
        loopback_up()
        Capture().close()
    except OSError as e:
        # A namespace without its capabilities (a security module's
        # restriction of user namespaces, say).
        t.check('a packet socket on a loopback of its own',
                lambda: skipped('in the private network namespace: %s' % e))
        t.finish()
        sys.exit(1 if t.failed else 0)
    root = os.path.join(t.dir, 'root')
    make_tree(root, {'small': SMALL, 'large': LARGE})
    srv = http_server(t, 'srv', [dict(name='www', workers=1, http=dict(
        root=root, keepalive_requests=2))])
    try:
        srv.start()
        t.check('Connection: close: the FIN leaves with the answer',
                fin_rides_with_data, srv,
                b'GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
                200)
        t.check('HEAD with Connection: close: the FIN leaves with the head',
                fin_rides_with_data, srv,
                b'HEAD /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
                200)
        t.check('an error that closes (400): the FIN leaves with the answer',
                fin_rides_with_data, srv, b'GET /small HTTP/1.1\r\n\r\n', 400)
        t.check('a 404 with Connection: close: the FIN leaves with it',
                fin_rides_with_data, srv,
                b'GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
                404)
        t.check('the last request keepalive-requests allows: the FIN leaves '
                'with its answer', last_allowed_request, srv)
        t.check('keep-alive: head and small body in one segment, no FIN',
                keepalive_one_segment, srv)
        t.check('sendfile: the head leaves with the file\'s first bytes',
                sendfile_head_with_body, srv)
        t.check('no worker trouble', no_worker_trouble, srv)
    finally:
        t.finish()
    sys.exit(1 if t.failed else 0)


if __name__ == '__main__':
    main()

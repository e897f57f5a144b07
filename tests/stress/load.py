# SPDX-License-Identifier: BSD-2-Clause
"""The fault harness's load client (see README): keep-alive HTTP requests
of known files, ranges among them, and echo exchanges, each response
checked byte for byte and each connection's fate counted in the Stats of
the phase it started in; and the rules that tell a failure a fault dooms
from one it does not."""
import collections
import random
import socket
import threading
import time
import traceback

from harness import T, expect

LOST = frozenset(('reset', 'closed before response', 'closed mid-response'))
WRONG = 'WRONG BYTES'
MIB = 1 << 20

# ---------------------------------------------------------------- results

class Fail(Exception):
    """What went wrong on one connection: a reason from a small set (the
    key of the tallies) and a detail for the examples."""

    def __init__(self, reason, detail=''):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


FailRecord = collections.namedtuple(
    'FailRecord', 'kind reason detail port conn_start t count')


class Stats:
    """One phase's tallies; the load threads add to it under its lock."""

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.sent = collections.Counter()       # kind -> requests
        self.correct = collections.Counter()
        self.unanswered = 0     # pipelined after a Connection: close
        self.fates = collections.Counter()
        self.failures = []
        self.extra = collections.Counter()      # the fault's own clients
        self.active = 0         # connections still running

    def enter(self):
        with self.lock:
            self.active += 1

    def leave(self):
        with self.lock:
            self.active -= 1

    def add(self, field, kind, n=1):
        with self.lock:
            getattr(self, field)[kind] += n

    def fail(self, kind, f, port, conn_start, count=1):
        with self.lock:
            self.failures.append(FailRecord(kind, f.reason, f.detail, port,
                                            conn_start, time.monotonic(),
                                            count))

    def fate(self, what):
        with self.lock:
            self.fates[what] += 1


class Doom:
    """Failures a fault dooms: those with one of `reasons`, on a connection
    that started before `end` and failed after `start` (and, if ports is
    given, whose client port is one of them)."""

    def __init__(self, label, reasons, start, end=None, ports=None):
        self.label = label
        self.reasons = reasons
        self.start = start
        self.end = end
        self.ports = ports

    def covers(self, f):
        return (f.reason in self.reasons and f.t >= self.start and
                (self.end is None or f.conn_start <= self.end) and
                (self.ports is None or f.port in self.ports))


def classify(stats, dooms):
    """(expected {(label, reason): n}, unexpected {reason: n}, examples)."""
    expected = collections.Counter()
    unexpected = collections.Counter()
    examples = []
    for f in stats.failures:
        d = None if f.reason == WRONG else \
            next((d for d in dooms if d.covers(f)), None)
        if d is not None:
            expected[(d.label, f.reason)] += f.count
        else:
            unexpected['%s %s' % (f.kind, f.reason)] += f.count
            if len(examples) < 5:
                examples.append('%s port %s: %s%s' % (
                    f.kind, f.port, f.reason,
                    ' (%s)' % f.detail if f.detail else ''))
    return expected, unexpected, examples


# ---------------------------------------------------------------- client

def recv_some(sock, deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise Fail('timeout')
    sock.settimeout(left)
    try:
        return sock.recv(256 * 1024)
    except socket.timeout:
        raise Fail('timeout')
    except ConnectionResetError:
        raise Fail('reset')
    except OSError as e:
        raise Fail('error', str(e))


class Reader:
    """Reads HTTP/1.1 responses off one connection."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _more(self, deadline, what):
        chunk = recv_some(self.sock, deadline)
        if not chunk:
            raise Fail(what)
        self.buf += chunk

    def response(self, head_only, deadline):
        while True:
            end = self.buf.find(b'\r\n\r\n')
            if end >= 0:
                break
            self._more(deadline, 'closed mid-response' if self.buf
                       else 'closed before response')
        lines = bytes(self.buf[:end]).decode('latin-1').split('\r\n')
        del self.buf[:end + 4]
        parts = lines[0].split(' ', 2)
        if len(parts) < 2 or not parts[0].startswith('HTTP/1.') or \
                not parts[1].isdigit():
            raise Fail(WRONG, 'status line %r' % lines[0][:80])
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(':')
            if not sep:
                raise Fail(WRONG, 'header line %r' % line[:80])
            headers[name.strip().lower()] = value.strip()
        if head_only or status in (204, 304):
            return status, headers, b''
        length = headers.get('content-length', '')
        if not length.isdigit():
            raise Fail(WRONG, '%d without Content-Length' % status)
        n = int(length)
        while len(self.buf) < n:
            self._more(deadline, 'closed mid-response')
        body = bytes(self.buf[:n])
        del self.buf[:n]
        return status, headers, body


class Req:
    """One request and what must come back: status, body (None: any), and
    a header check returning a complaint or None."""

    def __init__(self, target, status, body=None, method='GET',
                 headers=None, check=None):
        self.target = target
        self.status = status
        self.body = body
        self.method = method
        self.headers = headers or {}
        self.check = check

    def data(self, close):
        lines = ['%s %s HTTP/1.1' % (self.method, self.target),
                 'Host: 127.0.0.1']
        lines += ['%s: %s' % kv for kv in self.headers.items()]
        if close:
            lines.append('Connection: close')
        return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')

    def verify(self, status, headers, body):
        if status != self.status:
            raise Fail('status %d' % status, '%s %s: expected %d' % (
                self.method, self.target, self.status))
        if self.body is not None and body != self.body:
            at = next((i for i, (a, b) in enumerate(zip(body, self.body))
                       if a != b), min(len(body), len(self.body)))
            raise Fail(WRONG, '%s %s %s: %d bytes, expected %d, first '
                       'difference at %d' % (self.method, self.target,
                                             self.headers, len(body),
                                             len(self.body), at))
        complaint = self.check(headers) if self.check else None
        if complaint:
            raise Fail(WRONG, '%s %s: %s' % (self.method, self.target,
                                              complaint))


def header_is(name, value):
    def check(headers):
        got = headers.get(name)
        return None if got == value else '%s %r, expected %r' % (
            name, got, value)
    return check


# Files of the docroot: several sizes, including empty and odd ones.
LOAD_FILES = {'empty.txt': 0, 'one.txt': 1, 'small.html': 1000,
              'page.css': 4096, 'odd.bin': 65537, 'mid.bin': 300001,
              'big.bin': MIB + 13}
RESET_FILE = ('reset.bin', 3 * MIB)
STALL_FILE = ('stall.bin', 8 * MIB)


def make_request(rng, files):
    r = rng.random()
    if r < 0.03:
        return Req('/sub', 301, check=lambda h: None if h.get(
            'location', '').endswith('/sub/') else 'Location %r'
            % h.get('location'))
    if r < 0.08:
        return Req('/sub/', 200, files['sub/index.html'])
    if r < 0.10:
        return Req('/missing-%d.html' % rng.randrange(10), 404)
    name = rng.choice(sorted(LOAD_FILES))
    data = files[name]
    n = len(data)
    if r < 0.17:
        return Req('/' + name, 200, b'', 'HEAD',
                   check=header_is('content-length', str(n)))
    if n > 0 and r < 0.40:
        kind = rng.randrange(5)
        if kind == 4:
            return Req('/' + name, 416, headers={
                'Range': 'bytes=%d-' % (n + rng.randrange(10))},
                check=header_is('content-range', 'bytes */%d' % n))
        if kind == 0:
            a = rng.randrange(n)
            b = rng.randrange(a, n)
            spec = '%d-%d' % (a, b)
        elif kind == 1:
            a, b = rng.randrange(n), n - 1
            spec = '%d-' % a
        elif kind == 2:
            k = rng.randint(1, n)
            a, b = n - k, n - 1
            spec = '-%d' % k
        else:   # a last byte past the end is clamped
            a = rng.randrange(n)
            b = n - 1
            spec = '%d-%d' % (a, n + rng.randrange(1000))
        return Req('/' + name, 206, data[a:b + 1],
                   headers={'Range': 'bytes=' + spec},
                   check=header_is('content-range',
                                   'bytes %d-%d/%d' % (a, b, n)))
    return Req('/' + name, 200, data,
               check=header_is('content-length', str(n)))


class Load:
    """Client threads: http ones run keep-alive connections of 1..8
    requests (some pipelined by two), an echo one sends random payloads.
    Each connection counts in the Stats of the phase it started in."""

    def __init__(self, files, www, echo, http_threads=3, rate=120):
        self.files = files
        self.www = www
        self.echo = echo
        self.stats = Stats('start')
        self.stopping = False
        self.interval = 1.0 / rate      # per thread
        self.threads = [threading.Thread(target=self._loop, args=(i, fn),
                                         daemon=True)
                        for i, fn in enumerate(
                            [self.http_connection] * http_threads +
                            [self.echo_exchange])]
        self.slow = []

    def start(self):
        for th in self.threads:
            th.start()

    def stop(self):
        self.stopping = True
        for th in self.threads + self.slow:
            th.join(T(30))
        expect(not any(th.is_alive() for th in self.threads + self.slow),
               'load threads still running %gs after the stop' % T(30))

    def _loop(self, seed, fn):
        rng = random.Random(seed * 7919 + 1)
        pace = [time.monotonic()]
        while not self.stopping:
            self._guarded(fn, rng, pace)

    def _guarded(self, fn, *args):
        """A client's own bug must fail the phase, not end its thread."""
        try:
            fn(*args)
        except Exception:
            traceback.print_exc()
            self.stats.fail('client', Fail('client error', traceback.
                                           format_exc(limit=-1).strip()),
                            None, time.monotonic())

    def _pace(self, pace):
        now = time.monotonic()
        if now < pace[0]:
            time.sleep(pace[0] - now)
        pace[0] = max(pace[0], now) + self.interval

    def _connect(self, stats, kind, addr, t0, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(T(10))
        try:
            s.connect(addr)
        except OSError as e:
            s.close()
            f = Fail('refused' if isinstance(e, ConnectionRefusedError)
                     else 'connect failed', str(e))
            stats.add('sent', kind)
            stats.fail(kind, f, None, t0)
            stats.fate('connect: ' + f.reason)
            # Nothing listens: try again soon, not in a tight loop.
            time.sleep(0.05)
            return None
        return s

    def http_connection(self, rng, pace, slow=False):
        self._pace(pace)
        stats, t0 = self.stats, time.monotonic()
        kind = 'slow' if slow else 'http'
        stats.enter()
        try:
            sock = self._connect(stats, kind, self.www, t0,
                                 rcvbuf=4096 if slow else None)
            if sock is None:
                return
            try:
                fate = self._requests(stats, kind, sock, rng, slow, t0)
            finally:
                sock.close()
            stats.fate(fate)
        finally:
            stats.leave()

    def _requests(self, stats, kind, sock, rng, slow, t0):
        """1..8 requests on one connection, some pipelined by two: how the
        connection ended."""
        port = sock.getsockname()[1]
        rd = Reader(sock)
        nreq = 1 if slow else rng.randint(1, 8)
        done = 0
        while done < nreq and not self.stopping:
            batch = 2 if not slow and done + 1 < nreq and \
                rng.random() < 0.15 else 1
            reqs = [make_request(rng, self.files) for _ in range(batch)]
            close = done + batch >= nreq and rng.random() < 0.5
            stats.add('sent', kind, batch)
            try:
                unanswered = self._exchange(rd, reqs, close, slow, stats,
                                            kind)
            except Fail as f:
                stats.fail(kind, f, port, t0, f.pending)
                return 'failed: ' + f.reason
            done += batch
            if unanswered is not None:
                with stats.lock:
                    stats.unanswered += unanswered
                return 'ended by Connection: close'
        return 'ended by the client'

    def _exchange(self, rd, reqs, close, slow, stats, kind):
        """Sends reqs and checks each response.  None, or, if a response
        said Connection: close, how many of reqs it left unanswered."""
        data = b''.join(r.data(close and i == len(reqs) - 1)
                        for i, r in enumerate(reqs))
        pending = len(reqs)
        try:
            try:
                if slow:
                    self._send_slowly(rd.sock, data)
                else:
                    rd.sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                raise Fail('reset', 'on send')
            except OSError as e:
                raise Fail('error', 'send: %s' % e)
            for r in reqs:
                deadline = time.monotonic() + T(20)
                status, headers, body = (
                    self._read_slowly(rd, r, deadline) if slow else
                    rd.response(r.method == 'HEAD', deadline))
                r.verify(status, headers, body)
                stats.add('correct', kind)
                pending -= 1
                if 'close' in headers.get('connection', '').lower():
                    return pending
        except Fail as f:
            f.pending = pending
            raise
        return None

    @staticmethod
    def _send_slowly(sock, data):
        for i in range(0, len(data), 4):
            sock.sendall(data[i:i + 4])
            time.sleep(0.01)

    @staticmethod
    def _read_slowly(rd, req, deadline):
        """A slow reader: the head, then the body 1 KiB at a time."""
        status, headers, _ = rd.response(True, deadline)
        if req.method == 'HEAD' or status in (204, 304):
            return status, headers, b''
        length = headers.get('content-length', '')
        if not length.isdigit():
            raise Fail(WRONG, '%d without Content-Length' % status)
        body = bytearray(rd.buf[:int(length)])
        del rd.buf[:len(body)]
        while len(body) < int(length):
            rd.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = rd.sock.recv(min(1024, int(length) - len(body)))
            except socket.timeout:
                raise Fail('timeout')
            except ConnectionResetError:
                raise Fail('reset')
            if not chunk:
                raise Fail('closed mid-response')
            body += chunk
            time.sleep(0.002)
        return status, headers, bytes(body)

    def echo_exchange(self, rng, pace):
        self._pace(pace)
        stats, t0 = self.stats, time.monotonic()
        stats.enter()
        try:
            sock = self._connect(stats, 'echo', self.echo, t0)
            if sock is not None:
                self._echo(stats, sock, rng, t0)
        finally:
            stats.leave()

    def _echo(self, stats, sock, rng, t0):
        port = sock.getsockname()[1]
        payload = rng.randbytes(rng.randint(1, 48 * 1024))
        stats.add('sent', 'echo')
        try:
            try:
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                raise Fail('reset', 'on send')
            got = bytearray()
            deadline = time.monotonic() + T(20)
            while True:
                chunk = recv_some(sock, deadline)
                if not chunk:
                    break
                got += chunk
            if len(got) < len(payload) and got == payload[:len(got)]:
                raise Fail('closed mid-response' if got else
                           'closed before response',
                           '%d of %d bytes echoed' % (len(got), len(payload)))
            if got != payload:
                raise Fail(WRONG, 'echo of %d bytes returned %d that differ'
                           % (len(payload), len(got)))
            stats.add('correct', 'echo')
            stats.fate('echo complete')
        except Fail as f:
            stats.fail('echo', f, port, t0)
            stats.fate('failed: ' + f.reason)
        finally:
            sock.close()

    def start_slow(self, n):
        """n slow clients (request sent 4 bytes at a time, response read
        1 KiB at a time) until the load stops or stop_slow()."""
        self.slow_stop = False

        def loop(seed):
            rng = random.Random(seed)
            pace = [time.monotonic()]
            while not self.stopping and not self.slow_stop:
                self._guarded(self.http_connection, rng, pace, True)
        self.slow = [threading.Thread(target=loop, args=(100 + i,),
                                      daemon=True) for i in range(n)]
        for th in self.slow:
            th.start()

    def stop_slow(self):
        self.slow_stop = True
        for th in self.slow:
            th.join(T(30))
        expect(not any(th.is_alive() for th in self.slow),
               'slow clients still running')
        self.slow = []

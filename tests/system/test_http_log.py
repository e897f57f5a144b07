# SPDX-License-Identifier: BSD-2-Clause
"""The http handler's access log: Combined Log Format, one line per request
with the real status and body bytes, escaping, reopening on USR1, and
nothing written when it is off.
"""
import datetime
import os
import re
import resource
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, echo_once, expect, fd_targets, run,
                     skipped, wait_until)
from test_http_util import (HttpClient, exchange, expect_status, get,
                            http_server, make_tree, no_worker_trouble,
                            request_bytes, rewrite_conf)

BIG = 10 * 1024 * 1024
A_TXT = b'alpha ' * 100 + b'\n'
HEAD_TIMEOUT = 2     # header-timeout of the main server
FIELD = r'"((?:[^"\\]|\\.)*)"'
LINE_RE = re.compile(r'^(\S+) - (\S+) \[([^\]]+)\] %s (\d{3}) (\d+|-) %s %s$'
                     % (FIELD, FIELD, FIELD))


class Line:
    def __init__(self, text):
        m = LINE_RE.match(text)
        if not m:
            raise ValueError(text)
        self.text = text
        self.host, self.user, self.time = m.group(1), m.group(2), m.group(3)
        self.request, self.status = unescape(m.group(4)), int(m.group(5))
        self.bytes = m.group(6)
        self.referer, self.agent = unescape(m.group(7)), unescape(m.group(8))

    def __repr__(self):
        return repr(self.text)


def unescape(s):
    """Undoes \\" \\\\ and \\xHH escapes."""
    return re.sub(r'\\x([0-9A-Fa-f]{2})|\\(.)',
                  lambda m: chr(int(m.group(1), 16)) if m.group(1)
                  else m.group(2), s)


class Log:
    """Reads an access log, tracking what is new since mark()."""

    def __init__(self, path):
        self.path = path
        self.pos = 0

    def raw(self):
        try:
            with open(self.path, 'rb') as f:
                return f.read()
        except FileNotFoundError:
            return b''

    def mark(self):
        self.pos = len(self.raw())

    def new_lines(self):
        data = self.raw()[self.pos:]
        text = data.decode('latin-1')
        expect(text == '' or text.endswith('\n'), 'access log ends in a '
               'partial line: %r' % text[-200:])
        return [Line(l) if LINE_RE.match(l) else l
                for l in text.split('\n')[:-1]]

    def wait(self, n, timeout=None):
        """Waits until at least n new lines; returns all new lines."""
        lines = wait_until(lambda: len(self.new_lines()) >= n and
                           self.new_lines(), timeout or T(5))
        got = self.new_lines()
        expect(len(got) >= n, 'expected %d new access log lines, have %d: %s'
               % (n, len(got), got))
        bad = [l for l in got if not isinstance(l, Line)]
        expect(not bad, 'lines not in Combined Log Format: %s' % bad)
        return got

    def take(self, n):
        """Exactly n new lines (waits for them, then checks no more came);
        marks them read."""
        got = self.wait(n)
        expect(len(got) == n, 'expected %d new lines, got %d: %s'
               % (n, len(got), got))
        self.mark()
        return got


def check_time(line):
    stamp = datetime.datetime.strptime(line.time, '%d/%b/%Y:%H:%M:%S %z')
    skew = abs(stamp.timestamp() - time.time())
    expect(skew < 60, 'time [%s] is %.0fs off' % (line.time, skew))
    local = time.strftime('%z', time.localtime(stamp.timestamp()))
    expect(line.time.endswith(local), 'time [%s] not in the local zone %s'
           % (line.time, local))


# ---------------------------------------------------------------- format

def format_line(srv, log):
    log.mark()
    r = get(srv, '/a.txt', headers={'Referer': 'http://ref.example/page?x=1',
                                    'User-Agent': 'agent/1.0 (test; x)'})
    expect_status(r, 200, 'GET /a.txt')
    line, = log.take(1)
    want = ('127.0.0.1 - - [%s] "GET /a.txt HTTP/1.1" 200 %d '
            '"http://ref.example/page?x=1" "agent/1.0 (test; x)"'
            % (line.time, len(A_TXT)))
    expect(line.text == want, 'line %r, expected %r' % (line.text, want))
    check_time(line)
    get(srv, '/a.txt', version='HTTP/1.0')
    line, = log.take(1)
    expect(line.referer == '-' and line.agent == '-' and
           line.request == 'GET /a.txt HTTP/1.0',
           'without Referer and User-Agent: %r' % line)


def one_per_request(srv, log):
    log.mark()
    with HttpClient(srv) as c:
        for i in range(5):
            expect_status(c.request('/a.txt?seq=%d' % i), 200, 'request %d'
                          % i)
        c.send(b''.join(request_bytes('/a.txt?seq=%d' % i)
                        for i in range(5, 10)))
        for i in range(5, 10):
            expect_status(c.response(), 200, 'pipelined request %d' % i)
    lines = log.take(10)
    want = ['GET /a.txt?seq=%d HTTP/1.1' % i for i in range(10)]
    expect([l.request for l in lines] == want, 'requests logged: %s'
           % [l.request for l in lines])


def status_and_bytes(srv, log):
    etag = get(srv, '/a.txt').header('etag')
    log.mark()
    cases = []

    def run(target, method='GET', headers=None, body=b''):
        r = get(srv, target, method=method, headers=headers, body=body)
        cases.append((target, method, r))
    run('/a.txt')
    run('/a.txt', headers={'If-None-Match': etag})
    run('/a.txt', 'HEAD')
    run('/a.txt', headers={'Range': 'bytes=0-9'})
    run('/a.txt', headers={'Range': 'bytes=-7'})
    run('/a.txt', headers={'Range': 'bytes=99999-'})
    run('/missing')
    run('/dir')
    run('/a.txt', 'POST', body=b'x' * 100)
    run('/a.txt', 'BREW')
    lines = log.take(len(cases))
    for (target, method, r), line in zip(cases, lines):
        what = '%s %s (%d)' % (method, target, r.status)
        expect(line.request == '%s %s HTTP/1.1' % (method, target),
               '%s logged as %r' % (what, line))
        expect(line.status == r.status, '%s logged with status %d'
               % (what, line.status))
        sent = len(r.body)
        want = '-' if sent == 0 else str(sent)
        expect(line.bytes == want, '%s logged %s bytes, sent %d'
               % (what, line.bytes, sent))
    by = {(c[0], c[1], c[2].status): l.bytes for c, l in zip(cases, lines)}
    expect(by[('/a.txt', 'GET', 304)] == '-', '304 not logged with -')
    expect(by[('/a.txt', 'HEAD', 200)] == '-', 'HEAD not logged with -')


def bad_requests_logged(srv, log):
    log.mark()
    exchange(srv, b'\x00\x01garbage\xff\r\n\r\n')
    exchange(srv, b'GET /a.txt HTTP/2.0\r\nHost: x\r\n\r\n')
    lines = log.take(2)
    expect([l.status for l in lines] == [400, 505], 'statuses logged: %s'
           % lines)
    # What came of the request line is logged, as nginx does.
    expect(lines[1].request == 'GET /a.txt HTTP/2.0',
           'the 505 request line logged as %r' % lines[1].request)
    expect('garbage' in lines[0].request,
           'the 400 request line logged as %r' % lines[0].request)


def silent_not_logged(srv, log):
    """A connection that sends nothing until header-timeout made no
    request: no line, as in nginx (a browser's preconnects would fill
    the log with 408s)."""
    log.mark()
    with HttpClient(srv) as c:
        expect(c.closed(T(HEAD_TIMEOUT) + 5), 'a silent connection still '
               'open after header-timeout')
    expect_status(get(srv, '/a.txt'), 200, 'GET after it')
    lines = log.take(1)
    expect(lines[0].request == 'GET /a.txt HTTP/1.1', 'logged %s' % lines)


def hostile_fields(srv, log):
    agent = 'evil" 200 1 "x\\y \xe9'
    referer = 'http://r/"quoted"'
    log.mark()
    r = get(srv, '/a.txt', headers={'User-Agent': agent, 'Referer': referer})
    expect_status(r, 200, 'GET with quotes in the headers')
    line, = log.take(1)
    expect(line.agent == agent and line.referer == referer,
           'fields not escaped to round-trip: %r' % line)
    expect(line.status == 200, 'status field displaced: %r' % line)
    exchange(srv, b'GET /a\x01\x1b[31m\xff HTTP/1.1\r\nHost: x\r\n\r\n')
    log.take(1)
    raw = log.raw()
    ctl = [b for b in set(raw) if (b < 0x20 and b != 0x0a) or b == 0x7f]
    expect(not ctl, 'raw control bytes %s in the access log' % ctl)


def long_fields_logged(srv, log):
    # A long target or User-Agent (within max-header-size) is still logged:
    # truncated maybe, but one line, never none.
    log.mark()
    long_q = 'q' * 6000
    r = get(srv, '/a.txt?' + long_q)
    expect_status(r, 200, 'GET with a 6000-byte query')
    r = get(srv, '/a.txt?long-agent', headers={'User-Agent': 'u' * 6000})
    expect_status(r, 200, 'GET with a 6000-byte User-Agent')
    r = get(srv, '/a.txt?long-referer', headers={'Referer': 'r' * 6000})
    expect_status(r, 200, 'GET with a 6000-byte Referer')
    r = get(srv, '/a.txt?after-long')
    wait_until(lambda: any(isinstance(l, Line) and 'after-long' in l.request
                           for l in log.new_lines()), T(5))
    lines = log.new_lines()
    log.mark()
    reqs = [l.request if isinstance(l, Line) else l for l in lines]
    missing = [what for what, marker in (
        ('GET /a.txt?<6000 x q>', 'GET /a.txt?qqqq'),
        ('GET /a.txt?long-agent with a 6000-byte User-Agent', 'long-agent'),
        ('GET /a.txt?long-referer with a 6000-byte Referer', 'long-referer'),
        ('GET /a.txt?after-long', 'after-long'))
        if not any(marker in r for r in reqs)]
    expect(not missing and len(lines) == 4, 'not logged: %s (%d lines for '
           '4 requests)' % (missing, len(lines)))


def concurrent_lines(srv, log):
    clients, per = 8, 25
    log.mark()
    errors = []

    def client(i):
        try:
            with HttpClient(srv) as c:
                for j in range(per):
                    r = c.request('/a.txt?c=%d&n=%d' % (i, j),
                                  headers={'User-Agent': 'client-%d-' % i +
                                           'x' * 300})
                    if r is None or r.status != 200:
                        errors.append('client %d request %d: %r' % (i, j, r))
                        return
        except Exception as e:
            errors.append('client %d: %s' % (i, e))

    threads = [threading.Thread(target=client, args=(i,), daemon=True)
               for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(T(30))
    expect(not errors, 'clients failed: %s' % errors[:5])
    lines = log.take(clients * per)
    seen = sorted(l.request for l in lines)
    want = sorted('GET /a.txt?c=%d&n=%d HTTP/1.1' % (i, j)
                  for i in range(clients) for j in range(per))
    expect(seen == want, 'lines lost, doubled or mixed up')


def aborted_download(srv, log):
    log.mark()
    with HttpClient(srv) as c:
        # A small receive window: the server cannot push it all to the
        # kernel before the reset.
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c.send(request_bytes('/big.bin?abort'))
        got = 0
        while got < 256 * 1024:
            chunk = c.sock.recv(65536)
            expect(chunk, 'closed after %d bytes' % got)
            got += len(chunk)
        c.reset()
    line, = log.take(1)
    expect(line.request == 'GET /big.bin?abort HTTP/1.1', 'logged %r' % line)
    expect(line.status == 200, 'status %d' % line.status)
    expect(line.bytes != '-' and 0 < int(line.bytes) < BIG,
           'aborted download logged %s bytes of %d (we read %d)'
           % (line.bytes, BIG, got))
    aborted = line.bytes
    get(srv, '/big.bin?whole')
    line, = log.take(1)
    expect(line.bytes == str(BIG), 'whole download logged %s bytes, not %d'
           % (line.bytes, BIG))
    return 'logged %s bytes of the aborted download' % aborted


def reopen(srv, log):
    old = log.path + '.1'
    os.rename(log.path, old)
    mark = srv.mark()
    srv.signal(signal.SIGUSR1)
    srv.wait_log(r'reopened log files', mark)

    # The workers act on the master's signal on their own: wait until each
    # holds the new file and none the renamed one.
    def reopened():
        return all(log.path in fd_targets(w) and old not in fd_targets(w)
                   for w in srv.workers())
    ok = wait_until(reopened, T(5))
    expect(ok, 'workers still write to the renamed log: %s'
           % {w: [f for f in fd_targets(w) if 'access' in f]
              for w in srv.workers()})
    before = len(open(old, 'rb').read())
    fresh = Log(log.path)
    for i in range(10):
        get(srv, '/a.txt?after=%d' % i)
    lines = fresh.take(10)
    expect([l.request for l in lines] == ['GET /a.txt?after=%d HTTP/1.1' % i
                                          for i in range(10)],
           'new file has %s' % lines)
    expect(len(open(old, 'rb').read()) == before, 'lines still written to '
           'the renamed log after reopening')
    log.mark()


def reopen_keepalive(srv, log):
    """A worker busy with a keep-alive connection reopens too, in the wait
    between two requests, not once the connection ends: that could be
    keepalive-requests requests later, the old file long compressed."""
    with HttpClient(srv) as c:
        expect_status(c.request('/a.txt?ka=before'), 200, 'first request')
        old = log.path + '.ka'
        os.rename(log.path, old)
        mark = srv.mark()
        srv.signal(signal.SIGUSR1)
        srv.wait_log(r'reopened log files', mark)
        held = lambda: {w: old for w in srv.workers()
                        if old in fd_targets(w)}
        wait_until(lambda: not held(), T(5))
        expect(not held(), 'a worker with a kept-alive client still holds '
               'the renamed log: %s' % held())
        expect_status(c.request('/a.txt?ka=after'), 200, 'second request')
    lines = Log(log.path).take(1)
    expect(lines[0].request == 'GET /a.txt?ka=after HTTP/1.1',
           'the new log has %s' % lines)
    log.mark()


def off_writes_nothing(t):
    srv = http_server(t, 'quiet', [
        dict(name='www', http=dict(root='root', access_log='off')),
        dict(name='dflt', http=dict(root='root')),
    ])
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': A_TXT})
    srv.start()

    def files():
        out = set()
        for d, _, names in os.walk(srv.dir):
            out.update(os.path.relpath(os.path.join(d, n), srv.dir)
                       for n in names)
        return out
    before = files()
    sizes = {f: os.path.getsize(os.path.join(srv.dir, f)) for f in before
             if f not in ('error.log',)}
    for name in ('www', 'dflt'):
        for i in range(5):
            expect_status(get(srv, '/a.txt', name=name), 200, name)
        exchange(srv, b'garbage\r\n\r\n', name=name)
    after = files()
    expect(after == before, 'files appeared with the access log off: %s'
           % sorted(after - before))
    grown = [f for f, s in sizes.items()
             if os.path.getsize(os.path.join(srv.dir, f)) != s]
    expect(not grown, 'files written with the access log off: %s' % grown)
    expect('GET /a.txt' not in srv.log_text(), 'requests in the error log')
    srv.stop()


def unopenable_on_reload(t):
    """An access log in a missing directory, or that is a directory, is a
    configuration error with FILE:LINE, for -t and for -s reload; the old
    generation serves.  (One that cannot be opened for another reason:
    fifo_logs.)"""
    servers = [dict(name='www', http=dict(root='root',
                                          access_log='access.log'))]
    srv = http_server(t, 'unopenable', servers)
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': A_TXT})
    os.makedirs(os.path.join(srv.dir, 'a-directory'))
    srv.start()
    seen = []
    for path, why in (('missing/dir/access.log', 'directory %s does not '
                       'exist' % os.path.join(srv.dir, 'missing', 'dir')),
                      ('a-directory', '%s is a directory, not a file'
                       % os.path.join(srv.dir, 'a-directory'))):
        servers[0]['http']['access_log'] = path
        rewrite_conf(srv, servers)
        line = [i + 1 for i, l in enumerate(open(srv.conf))
                if 'access-log' in l][0]
        want = '%s:%d: access-log: %s' % (srv.conf, line, why)
        for argv in (['-t', '-f', srv.conf], ['-s', 'reload', '-f', srv.conf]):
            rc, _, err = run([BINARY] + argv, timeout=T(40))
            expect(rc == 1 and want in err, '%s: exit %d, %r; wanted %r'
                   % (' '.join(argv[:2]), rc, err.strip(), want))
        expect_status(get(srv, '/a.txt', name='www'), 200,
                      'the old generation')
        seen.append(want)
    srv.stop()
    return ' | '.join(seen)


def symlinked_logs(t):
    """The master opens logs as root, and gives them to the workers' user:
    a symbolic link at a log's path that another user made (the workers'
    user, in a log directory it may write) is refused, for the access log
    and the error log, and the file it names is left alone; one of root's
    (a container's access.log -> /dev/stdout) is followed."""
    if os.geteuid() != 0:
        return skipped('needs root to give a link another owner')
    srv = http_server(t, 'symlinks', [
        dict(name='www', http=dict(root='root',
                                   access_log='logs/access.log'))])
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': A_TXT})
    logs = os.path.join(srv.dir, 'logs')
    os.makedirs(logs)
    secret = os.path.join(srv.dir, 'secret')
    with open(secret, 'w') as f:
        f.write('secret\n')
    os.chmod(secret, 0o600)
    link = os.path.join(logs, 'access.log')
    os.symlink(secret, link)
    os.lchown(link, 65534, -1)
    line = [i + 1 for i, l in enumerate(open(srv.conf))
            if 'access-log' in l][0]
    want = ('%s:%d: access-log: %s is a symbolic link of uid 65534: only '
            'root\'s are followed' % (srv.conf, line, link))
    for argv in (['-t', '-f', srv.conf], ['-n', '-f', srv.conf]):
        rc, _, err = run([BINARY] + argv, timeout=T(20), cwd=srv.dir)
        expect(rc == 1 and want in err, '%s with a link of uid 65534: exit '
               '%s, %r; wanted %r' % (argv[0], rc, err.strip()[-300:], want))
    st = os.stat(secret)
    with open(secret) as f:
        expect(st.st_uid == 0 and f.read() == 'secret\n', 'the target of '
               'a refused link was written or given away')
    # The same link as the error log, given with -n's stderr left out.
    errlink = os.path.join(logs, 'error.log')
    os.symlink(secret, errlink)
    os.lchown(errlink, 65534, -1)
    os.lchown(link, 0, -1)
    text = open(srv.conf).read()
    with open(srv.conf, 'w') as f:
        f.write('error-log = "%s"\n' % errlink +
                re.sub(r'(?m)^error-log = .*\n', '', text))
    rc, _, err = run([BINARY, '-n', '-f', srv.conf], timeout=T(20),
                     cwd=srv.dir)
    expect(rc == 1 and 'error-log: %s is a symbolic link of uid 65534'
           % errlink in err, 'an error log that is a link of uid 65534: '
           'exit %s, %r' % (rc, err.strip()[-300:]))
    # Root's link is followed: the access log lands in its target.
    with open(srv.conf, 'w') as f:
        f.write(text)
    srv.start()
    expect_status(get(srv, '/a.txt'), 200, 'through a link of root\'s')
    with open(secret) as f:
        body = f.read()
    expect('GET /a.txt' in body, 'root\'s link was not followed: %r'
           % body[:200])
    # Made by another user after the start: USR1 does not follow it.
    other = os.path.join(srv.dir, 'other')
    with open(other, 'w') as f:
        f.write('other\n')
    os.chmod(other, 0o600)
    os.unlink(link)
    os.symlink(other, link)
    os.lchown(link, 65534, -1)
    mark = srv.mark()
    srv.signal(signal.SIGUSR1)
    srv.wait_log(r'reopening %s: it is a symbolic link of uid 65534'
                 % re.escape(link), mark, T(10))
    expect_status(get(srv, '/a.txt'), 200, 'after the refused reopen')
    srv.stop()
    st = os.stat(other)
    with open(other) as f:
        expect(st.st_uid == 0 and f.read() == 'other\n', 'USR1 followed '
               'a link of uid 65534: its target was written or given away')
    return want


def fifo_logs(t):
    """A fifo as a log: with a reader, the lines go through it; with none,
    opening it fails at once with that reason, where it used to block
    the master in open() for good (no reload, no stop but SIGKILL).  A
    worker whose reader goes away serves on."""
    servers = [dict(name='www', workers=1,
                    http=dict(root='root', access_log='access.log'))]
    srv = http_server(t, 'fifo', servers)
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': A_TXT})
    fifo = os.path.join(srv.dir, 'access.fifo')
    os.mkfifo(fifo)
    srv.start()
    servers[0]['http']['access_log'] = 'access.fifo'
    rewrite_conf(srv, servers)
    rc, _, err = srv.ctl('reload', timeout=T(20))
    want = ('server www: handler http could not set up: open(%s): it is a '
            'fifo that no process reads' % fifo)
    expect(rc == 1 and want in err, '-s reload to a fifo nobody reads: '
           'exit %s, %r; wanted %r' % (rc, err.strip()[-300:], want))
    expect_status(get(srv, '/a.txt'), 200, 'the old generation')
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        rc, _, err2 = srv.ctl('reload', timeout=T(20))
        expect(rc == 0, '-s reload with a reader: exit %s, %r'
               % (rc, err2.strip()[-300:]))
        expect_status(get(srv, '/a.txt?through-the-fifo'), 200, 'GET')
        got = b''

        def line_arrived():
            nonlocal got
            try:
                got += os.read(reader, 65536)
            except BlockingIOError:
                pass
            return b'GET /a.txt?through-the-fifo ' in got
        expect(wait_until(line_arrived, T(5)), 'no access log line through '
               'the fifo: %r' % got[-300:])
    finally:
        os.close(reader)
    mark = srv.mark()
    for i in range(3):
        expect_status(get(srv, '/a.txt?unread-%d' % i), 200,
                      'GET %d once the reader is gone' % i)
    no_worker_trouble(srv, mark)
    srv.stop()
    errsrv = t.server('fifo-errlog', error_log='error.fifo')
    os.mkfifo(os.path.join(errsrv.dir, 'error.fifo'))
    errsrv.start(ready=False)
    rc = errsrv.wait_exit(T(10))
    want2 = ('cannot open error log %s: it is a fifo that no process reads'
             % os.path.join(errsrv.dir, 'error.fifo'))
    expect(rc == 1 and want2 in errsrv.stderr(), 'start with error-log a '
           'fifo nobody reads: exit %s, stderr %r; wanted %r'
           % (rc, errsrv.stderr()[-300:], want2))
    return '%s | %s' % (want, want2)


def error_log_fifo_on_reload(t):
    """A reload to an error log that cannot be opened fails, says why and
    leaves the old generation serving: it used to answer success while
    the master kept its old log.  With a reader, the master's lines go
    through the fifo once the new generation serves; when the reader
    stops reading and the fifo is full, the master drops lines instead
    of hanging in write()."""
    srv = t.server('errfifo', servers=[dict(workers=1)])
    fifo = os.path.join(srv.dir, 'error.fifo')
    os.mkfifo(fifo)
    srv.start()
    srv.write_conf(error_log=fifo)
    rc, _, err = srv.ctl('reload', timeout=T(20))
    want = ('reload failed: cannot open error log %s: it is a fifo that no '
            'process reads; generation 1 keeps serving' % fifo)
    expect(rc == 1 and want in err, '-s reload: exit %s, %r; wanted %r'
           % (rc, err.strip()[-300:], want))
    expect(not srv.find(r'generation 2'), 'a generation 2 was started')
    echo_once(srv.addr(), b'old generation')
    got = []
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    done, reading, paused = (threading.Event(), threading.Event(),
                             threading.Event())
    reading.set()

    def drain():
        while not done.is_set():
            if not reading.is_set():
                paused.set()
                time.sleep(0.01)
                continue
            paused.clear()
            try:
                data = os.read(reader, 65536)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            if data:
                got.append(data)
            else:
                time.sleep(0.01)
    th = threading.Thread(target=drain)
    th.start()
    try:
        rc, out, err = srv.ctl('reload', timeout=T(20))
        expect(rc == 0, '-s reload with a reader: exit %s, %r'
               % (rc, err.strip()[-300:]))
        expect(wait_until(lambda: b'reload: generation 2 serving' in
                          b''.join(got), T(5)), 'the master\'s line did not '
               'come through the fifo: %r' % b''.join(got)[-300:])
        # The reader stops reading; the fifo fills up.
        reading.clear()
        expect(wait_until(paused.is_set, T(5)), 'the reader did not pause')
        filler = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            while True:
                os.write(filler, b'x' * 4096)
        except BlockingIOError:
            pass
        finally:
            os.close(filler)
        rc, _, err = srv.ctl('reload', timeout=T(20))
        expect(rc == 0, '-s reload with the fifo full: exit %s, %r'
               % (rc, err.strip()[-300:]))
        echo_once(srv.addr(), b'generation 3')
        reading.set()
        mark = srv.mark()
        srv.write_conf()
        rc, _, err = srv.ctl('reload', timeout=T(20))
        expect(rc == 0, '-s reload back to the file: exit %s, %r'
               % (rc, err.strip()[-300:]))
        srv.wait_log(r'reload: generation 4 serving', mark)
    finally:
        done.set()
        th.join()
        os.close(reader)
    echo_once(srv.addr(), b'generation 4')
    srv.stop()
    return want


def log_past_error_log(t, name):
    """A server with one worker and an access log grown past its error
    log, so that a file-size limit set at the access log's size leaves
    the error log room to say what failed; (server, worker, access log)."""
    srv = http_server(t, name, [dict(name='www', workers=1, http=dict(
        root='root', access_log='access.log'))])
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': A_TXT})
    srv.start()
    worker = srv.workers()[0]
    access = os.path.join(srv.dir, 'access.log')
    while os.path.getsize(access) < os.path.getsize(srv.log) + 4096:
        expect_status(get(srv, '/a.txt?' + 'x' * 2000), 200,
                      'GET before the limit')
    return srv, worker, access


def file_size_limit(t):
    """A write past RLIMIT_FSIZE fails with EFBIG, it does not kill (SIGXFSZ
    is ignored, as Apache does): a worker whose access log is at its limit
    serves on, a master whose error log is at its limit reloads."""
    srv, worker, access = log_past_error_log(t, 'fsize')
    size = os.path.getsize(access)

    def limit(pid, path):
        hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)[1]
        resource.prlimit(pid, resource.RLIMIT_FSIZE,
                         (os.path.getsize(path), hard))
    limit(worker, access)
    mark = srv.mark()
    for i in range(3):
        r = get(srv, '/a.txt?%d' % i)
        expect_status(r, 200, 'GET %d past the limit' % i)
        expect(r.body == A_TXT, 'GET %d past the limit: wrong body' % i)
    expect(os.path.getsize(access) == size, 'the access log grew past '
           'its limit')
    srv.wait_log(r'write\(\S*access\.log\): File too large', mark)
    expect(len(srv.find(r'File too large', mark)) == 1, 'the failed '
           'write is not logged once: %s' % srv.find(r'File too large',
                                                    mark))
    expect(srv.workers() == [worker], 'worker %d did not live on: workers '
           '%s' % (worker, srv.workers()))
    no_worker_trouble(srv, mark)
    limit(srv.master, srv.log)
    srv.signal(signal.SIGHUP)
    # The master logs the reload it cannot write; its new worker serves.
    fresh = wait_until(lambda: [w for w in srv.workers() if w != worker],
                       T(10))
    expect(srv.running(), 'the master died writing its error log')
    expect(fresh, 'no worker of the reload within %gs' % T(10))
    expect_status(get(srv, '/a.txt'), 200, 'GET after the reload')
    srv.stop()


def torn_line(t):
    """A write cut short at the limit (a full disk alike) names the real
    cause, leaves the next line on a line of its own, and is reported once
    per episode: when it starts, and when writing works again, with the
    lines lost."""
    srv, worker, access = log_past_error_log(t, 'torn')
    hard = resource.prlimit(worker, resource.RLIMIT_FSIZE)[1]
    for episode in (1, 2):
        size = os.path.getsize(access)
        mark = srv.mark()
        # Room for 40 bytes: the next line is cut short, the rest fail.
        resource.prlimit(worker, resource.RLIMIT_FSIZE, (size + 40, hard))
        for i in range(3):
            expect_status(get(srv, '/a.txt?lost%d' % i), 200,
                          'GET %d at the limit' % i)
        srv.wait_log(r'write\(\S*access\.log\): File too large', mark)
        expect(len(srv.find(r'access\.log\): ', mark)) == 1,
               'episode %d: reports %s' % (episode, [
                   m.group(0) for m in srv.find(r'access\.log\): .*', mark)]))
        expect(os.path.getsize(access) == size + 40,
               'episode %d: %d bytes written past %d, expected 40'
               % (episode, os.path.getsize(access) - size, size))
        resource.prlimit(worker, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, hard))
        expect_status(get(srv, '/a.txt?again%d' % episode), 200, 'GET after')
        srv.wait_log(r'write\(\S*access\.log\): writing again; 3 line\(s\) '
                     r'lost', mark)
        with open(access, 'rb') as f:
            f.seek(size)
            tail = f.read()
        lines = tail.split(b'\n')
        expect(len(lines) == 3 and lines[2] == b'' and len(lines[0]) == 40
               and lines[0].startswith(b'127.0.0.1 - - [')
               and lines[1].startswith(b'127.0.0.1 ')
               and b'"GET /a.txt?again%d HTTP/1.1" 200 ' % episode in lines[1],
               'episode %d: the log after the limit: %r' % (episode, tail))
    expect(srv.workers() == [worker], 'the worker did not live on')
    srv.stop()


def torn_by_another(t):
    """Every worker appends to the one file: a line cut short by one
    worker is ended by another that met the failure too."""
    srv = http_server(t, 'torn2', [dict(name='www', workers=2, http=dict(
        root='root', access_log='access.log', keepalive_timeout=30))])
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': A_TXT})
    srv.start()
    workers = srv.wait_workers(2)
    access = os.path.join(srv.dir, 'access.log')
    while os.path.getsize(access) < os.path.getsize(srv.log) + 4096:
        expect_status(get(srv, '/a.txt?' + 'x' * 2000), 200, 'GET')
    size = os.path.getsize(access)
    hard = {w: resource.prlimit(w, resource.RLIMIT_FSIZE)[1] for w in workers}
    mark = srv.mark()
    with HttpClient(srv) as held:
        # The worker of this connection stays on it: the next ones go to
        # the other.
        for w in workers:
            resource.prlimit(w, resource.RLIMIT_FSIZE, (size + 40, hard[w]))
        expect_status(held.request('/a.txt?torn'), 200, 'GET, cut short')
        expect_status(get(srv, '/a.txt?lost'), 200, 'GET, lost')
        srv.wait_log(r'write\(\S*access\.log\): File too large', mark)
        expect(wait_until(lambda: len(srv.find(r'access\.log\): File too '
                                                r'large', mark)) == 2, T(10)),
               'both workers did not report the failure: %s'
               % [m.group(0) for m in srv.find(r'access\.log\): .*', mark)])
        for w in workers:
            resource.prlimit(w, resource.RLIMIT_FSIZE,
                             (resource.RLIM_INFINITY, hard[w]))
        expect_status(get(srv, '/a.txt?again'), 200, 'GET after')
        srv.wait_log(r'writing again; 1 line\(s\) lost', mark)
    with open(access, 'rb') as f:
        f.seek(size)
        lines = f.read().split(b'\n')
    expect(len(lines) >= 3 and len(lines[0]) == 40
           and b'"GET /a.txt?again HTTP/1.1" 200 ' in lines[1],
           'the log after the limit: %r' % lines)
    srv.stop()


def main():
    t = Test('test_http_log')
    srv = http_server(t, 'logs', [dict(name='www', workers=2, http=dict(
        root='root', access_log='access.log', keepalive_timeout=5,
        header_timeout=HEAD_TIMEOUT))])
    root = os.path.join(srv.dir, 'root')
    make_tree(root, {'a.txt': A_TXT, 'dir/index.html': 'dir\n'})
    with open(os.path.join(root, 'big.bin'), 'wb') as f:
        f.write(os.urandom(BIG))
    log = Log(os.path.join(srv.dir, 'access.log'))
    if not t.check('server starts', srv.start):
        t.finish()
    workers = srv.workers()
    mark = srv.mark()
    t.check('Combined Log Format line with referer and agent', format_line,
            srv, log)
    t.check('one line per request, in order (keep-alive, pipelined)',
            one_per_request, srv, log)
    t.check('real status and bytes: 304 and HEAD "-", 206 the range',
            status_and_bytes, srv, log)
    t.check('bad requests are logged', bad_requests_logged, srv, log)
    t.check('a connection that sends nothing is not logged',
            silent_not_logged, srv, log)
    t.check('quotes and control bytes escaped', hostile_fields, srv, log)
    t.check('a long target, User-Agent or Referer is still logged',
            long_fields_logged, srv, log)
    t.check('200 concurrent requests: 200 whole lines', concurrent_lines,
            srv, log)
    t.check('an aborted download logs the bytes really sent',
            aborted_download, srv, log)
    t.check('USR1 reopens the access log', reopen, srv, log)
    t.check('USR1 reopens it in a worker holding a keep-alive connection',
            reopen_keepalive, srv, log)

    def same_workers():
        no_worker_trouble(srv, mark)
        expect(srv.workers() == workers, 'workers changed: %s -> %s'
               % (workers, srv.workers()))
    t.check('the same workers serve on, none died', same_workers)
    t.check('access-log = "off" (and the default) write nothing',
            off_writes_nothing, t)
    t.check('an access log in no directory or a directory: FILE:LINE',
            unopenable_on_reload, t)
    t.check('a fifo as a log: read through, or refused at once',
            fifo_logs, t)
    t.check('a log path that is another user\'s symbolic link: refused, '
            'its target untouched; root\'s: followed', symlinked_logs, t)
    t.check('a reload to an error log that cannot be opened fails',
            error_log_fifo_on_reload, t)
    t.check('a log at its file-size limit kills neither worker nor master',
            file_size_limit, t)
    t.check('a line cut short: its cause, a new line after it, one report '
            'per episode', torn_line, t)
    t.check('a line cut short by one worker, ended by another',
            torn_by_another, t)
    t.finish()


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The http hot path, counted in system calls with strace: a keep-alive
request waits in one read (no poll, no fcntl, no setsockopt per request),
a small file in the open-file cache costs no file system call (at most 3
calls a request in all; the aim is 2, a read and a write), and the header
and keep-alive timeouts stay exact all the same.  A large file goes out
with sendfile() after a head sent with MSG_MORE: no TCP_CORK on and off,
no setsockopt() per response.  A connection the client closes costs
accept, read, write and close: TCP_NODELAY comes from the listener (and
is checked on the worker's own socket), no parent check, no look for
unread input.  A connection that carried a sendfile() body keeps at most
32 KiB unsent (TCP_NOTSENT_LOWAT, read off the worker's socket), but its
last body, up to 256 KiB, is handed to the kernel whole.

Servers (one instance, one worker each, so strace follows the one that
serves):
  www    keepalive-timeout 1, header-timeout 8, keepalive-requests 0
  slow   keepalive-timeout 8, header-timeout 1
"""
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Test, conn_inode, expect, listening_inodes,
                     read_file, socket_inodes, wait_until)
from test_http_util import (HttpClient, expect_status, http_server,
                            make_tree, no_worker_trouble)

SMALL = b'x' * 1000 + b'\n'
CLOSE_CONNECTIONS = 100
SYS_PIDFD_GETFD = 438		# the same number on every Linux architecture
LARGE = bytes(range(256)) * 400		# 100 KiB: past the inline body
REQUESTS = 200
LARGE_REQUESTS = 40
SYSCALL_RE = re.compile(r'^(?:\d+\s+)?([a-z_0-9]+)\(')
# Calls that say the loop still waits or sets up per request.
PER_CONNECTION = ('poll', 'ppoll', 'select', 'pselect6', 'epoll_wait',
                  'fcntl', 'setsockopt', 'ioctl')


def servers(root):
    return [dict(name='www', workers=1, timeout=30, http=dict(
                root=root, keepalive_timeout=1, header_timeout=8,
                keepalive_requests=0)),
            dict(name='slow', workers=1, timeout=30, http=dict(
                root=root, keepalive_timeout=8, header_timeout=1))]


def worker_of(srv, name):
    """The pid of the one worker of server `name`: the one holding that
    server's listening socket."""
    listening = listening_inodes(srv.port(name))
    for pid in srv.workers():
        if socket_inodes(pid) & listening:
            return pid
    raise AssertionError('no worker of %s among %s' % (name, srv.workers()))


class Strace:
    """strace attached to one process, its calls in a file."""

    def __init__(self, dirname, pid):
        self.out = os.path.join(dirname, 'strace.%d' % pid)
        self.err = open(os.path.join(dirname, 'strace.%d.err' % pid), 'w+')
        self.proc = subprocess.Popen(
            ['strace', '-o', self.out, '-p', str(pid)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)

    def wait_attached(self):
        ok = wait_until(lambda: 'attached' in self._errors() or
                        self.proc.poll() is not None, T(10))
        expect(ok and self.proc.poll() is None,
               'strace did not attach: %s' % self._errors()[-300:])

    def _errors(self):
        self.err.seek(0)
        return self.err.read()

    def stop(self):
        """Detaches; the calls seen, by name."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(T(10))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        calls = Counter()
        self.lines = (read_file(self.out) or '').splitlines()
        for line in self.lines:
            m = SYSCALL_RE.match(line)
            if m:
                calls[m.group(1)] += 1
        return calls


def count_calls(srv, target, requests=REQUESTS, body=SMALL, lines=None):
    """Warms up, then counts the worker's calls over `requests` keep-alive
    GETs of target on one connection (their strace lines into `lines`)."""
    pid = worker_of(srv, 'www')
    with HttpClient(srv) as c:
        for _ in range(3):
            expect_status(c.request(target), 200, 'warm-up GET %s' % target)
        tracer = Strace(srv.dir, pid)
        try:
            tracer.wait_attached()
            for i in range(requests):
                r = c.request(target)
                expect_status(r, 200, 'GET %s number %d' % (target, i + 1))
                expect(r.body == body, 'GET %s: wrong body %r'
                       % (target, r.body[:60]))
        finally:
            calls = tracer.stop()
            if lines is not None:
                lines.extend(tracer.lines)
    return calls


def format_calls(calls, requests):
    return ', '.join('%s %.2f' % (k, v / requests)
                     for k, v in calls.most_common())


def wait_settled(path):
    """A file enters the open-file cache once unchanged for 2 s."""
    def settled():
        st = os.stat(path)
        return time.time() - max(st.st_mtime, st.st_ctime) > 2.2
    expect(wait_until(settled, T(10), 0.05), '%s not settled' % path)


def cached_small_file(srv, root):
    wait_settled(os.path.join(root, 'small.txt'))
    calls = count_calls(srv, '/small.txt')
    total = sum(calls.values())
    desc = format_calls(calls, REQUESTS)
    expect(total <= 3 * REQUESTS, '%.2f calls per request for a cached '
           'small file, more than 3: %s' % (total / REQUESTS, desc))
    return '%.2f calls per request: %s' % (total / REQUESTS, desc)


def one_read_per_request(srv):
    calls = count_calls(srv, '/small.txt')
    desc = format_calls(calls, REQUESTS)
    waits = {k: v for k, v in calls.items() if k in PER_CONNECTION}
    # A call or two at the edges (attaching, detaching) is not per request,
    # nor a receive timeout set again now and then, when a response took
    # longer than its 10 ms slack (a loaded machine, a sanitizer build).
    expect(sum(waits.values()) <= 2 + REQUESTS // 50, 'per-request waits '
           'or set-up calls '
           '%s over %d requests; all per request: %s'
           % (waits, REQUESTS, desc))
    reads = calls['recvfrom'] + calls['read'] + calls['recvmsg']
    expect(reads <= REQUESTS + 2, '%d reads for %d requests: %s'
           % (reads, REQUESTS, desc))
    return 'per request: %s' % desc


def large_file_no_cork(srv):
    lines = []
    calls = count_calls(srv, '/large.bin', LARGE_REQUESTS, LARGE, lines)
    desc = format_calls(calls, LARGE_REQUESTS)
    # A call or two at the edges (attaching, detaching) is not per request.
    expect(calls['setsockopt'] <= 2, '%d setsockopt() over %d responses of '
           'a large file: per response (%s)' % (calls['setsockopt'],
                                               LARGE_REQUESTS, desc))
    heads = [l for l in lines if re.match(r'^(?:\d+\s+)?sendmsg\(', l)]
    more = [l for l in heads if 'MSG_MORE' in l]
    expect(len(more) >= LARGE_REQUESTS, 'only %d of %d heads sent with '
           'MSG_MORE (%s)' % (len(more), LARGE_REQUESTS, desc))
    expect(calls['sendfile'] >= LARGE_REQUESTS, 'bodies not sent with '
           'sendfile(): %s' % desc)
    return 'per response: %s' % desc


def close_connections(srv, target='/small.txt', body=SMALL,
                      count=CLOSE_CONNECTIONS):
    """Counts the worker's calls over connections that each carry one
    request saying Connection: close."""
    pid = worker_of(srv, 'www')
    req = (b'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
           % target.encode())
    tracer = Strace(srv.dir, pid)
    try:
        tracer.wait_attached()
        for i in range(count):
            with HttpClient(srv) as c:
                c.send(req)
                r = c.response()
                expect_status(r, 200, 'connection %d' % (i + 1))
                expect(r.body == body and c.closed(T(10)), 'connection '
                       '%d: wrong body or not closed' % (i + 1))
    finally:
        calls = tracer.stop()
    return calls, tracer.lines


def close_connection_calls(srv):
    calls, lines = close_connections(srv)
    desc = format_calls(calls, CLOSE_CONNECTIONS)
    nodelay = [l for l in lines if 'TCP_NODELAY' in l]
    # Accepts that returned a connection, one shown resumed too (an
    # accept() under way as strace attaches); not EAGAIN or EINTR.
    accepts = sum(1 for l in lines
                  if re.search(r'\baccept4?(\(| resumed>).* = \d+$', l))
    expect(accepts >= CLOSE_CONNECTIONS,
           'the traced worker took %d of %d connections: %s; first '
           'calls: %s' % (accepts, CLOSE_CONNECTIONS, desc, lines[:3]))
    expect(not nodelay, 'TCP_NODELAY set per connection (%d times): %s'
           % (len(nodelay), desc))
    expect(calls['getppid'] <= 1, '%d getppid() over %d connections: %s'
           % (calls['getppid'], CLOSE_CONNECTIONS, desc))
    expect(calls['ioctl'] <= 1, '%d ioctl() over %d connections the '
           'client closed: %s' % (calls['ioctl'], CLOSE_CONNECTIONS, desc))
    return 'per connection: %s' % desc


def close_large_handoff(srv):
    """A connection's last body, up to 256 KiB, is handed to the kernel
    whole (TCP_NOTSENT_LOWAT 256 KiB): the worker does not stay to refill
    the socket, and takes its next client."""
    count = 10
    calls, lines = close_connections(srv, '/large.bin', LARGE, count)
    desc = format_calls(calls, count)
    lowat = [l for l in lines if 'TCP_NOTSENT_LOWAT' in l]
    expect(len(lowat) == count and all('[262144]' in l for l in lowat),
           '%d connections, TCP_NOTSENT_LOWAT set: %s (%s)'
           % (count, [l.split(',', 3)[-1].strip() for l in lowat], desc))
    return 'per connection: %s' % desc


def pidfd_getfd(pid, fd):
    """A duplicate of process pid's descriptor fd (pidfd_getfd(2))."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        dup = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if dup == -1:
            err = ctypes.get_errno()
            raise OSError(err, 'pidfd_getfd(%d, %d): %s'
                          % (pid, fd, os.strerror(err)))
        return dup
    finally:
        os.close(pidfd)


def worker_conn_fd(pid, inode):
    """The descriptor number under which process pid holds socket inode."""
    target = 'socket:[%d]' % inode
    for name in os.listdir('/proc/%d/fd' % pid):
        try:
            if os.readlink('/proc/%d/fd/%s' % (pid, name)) == target:
                return int(name)
        except OSError:
            pass
    return None


def worker_tcp_option(srv, name, path, option):
    """The TCP option as the worker's side of a kept-alive connection to
    server name has it after a GET of path: (value, fd, worker pid)."""
    pid = worker_of(srv, name)
    with HttpClient(srv, name) as c:
        expect_status(c.request(path), 200, 'GET %s' % path)
        inode = conn_inode(srv.port(name), c.sock.getsockname()[1])
        expect(inode is not None, 'no server side of the connection')
        fd = worker_conn_fd(pid, inode)
        expect(fd is not None, 'worker %d does not hold socket %d'
               % (pid, inode))
        dup = pidfd_getfd(pid, fd)
        try:
            s = socket.socket(fileno=dup)
            try:
                value = s.getsockopt(socket.IPPROTO_TCP, option)
            finally:
                s.detach()
        finally:
            os.close(dup)
    return value, fd, pid


def accepted_nodelay(srv):
    """Nagle is off on the worker's side of an accepted connection, though
    only the listener had TCP_NODELAY set."""
    on, fd, pid = worker_tcp_option(srv, 'www', '/small.txt',
                                    socket.TCP_NODELAY)
    expect(on != 0, 'TCP_NODELAY off on the accepted socket (fd %d of '
           'worker %d)' % (fd, pid))
    return 'TCP_NODELAY %d on fd %d of worker %d' % (on, fd, pid)


def sendfile_unsent_cap(srv):
    """A connection that had a file sent with sendfile() keeps at most
    32 KiB unsent: the worker refills the socket from its own CPU.  (On
    slow, whose 8 s keep-alive leaves time to look after a large body.)"""
    lowat, fd, pid = worker_tcp_option(srv, 'slow', '/large.bin',
                                       socket.TCP_NOTSENT_LOWAT)
    expect(lowat == 32768, 'TCP_NOTSENT_LOWAT %d on fd %d of worker %d, '
           'expected 32768' % (lowat, fd, pid))
    return 'TCP_NOTSENT_LOWAT %d' % lowat


def idle_close_exact(srv):
    """keepalive-timeout 1 while header-timeout is 8: the idle connection
    closes after 1 s, not after the longer receive timeout of a head."""
    with HttpClient(srv) as c:
        expect_status(c.request('/small.txt'), 200, 'first request')
        start = time.monotonic()
        closed = c.closed(T(10))
        took = time.monotonic() - start
    expect(closed, 'idle connection open after %gs' % T(10))
    expect(0.7 <= took <= T(3), 'idle connection closed after %.2fs '
           '(keepalive-timeout = 1, header-timeout = 8)' % took)
    return 'closed after %.2fs' % took


def head_timeout_exact(srv, second):
    """header-timeout 1 while keepalive-timeout is 8: a head that never
    completes gets 408 after 1 s, on a new or a kept-alive connection."""
    with HttpClient(srv, 'slow') as c:
        if second:
            expect_status(c.request('/small.txt'), 200, 'first request')
        start = time.monotonic()
        c.send(b'GET /small.txt HTTP/1.1\r\nHost: x\r\n')
        r = c.response(timeout=T(10))
        took = time.monotonic() - start
    expect_status(r, 408, 'incomplete head')
    expect(0.7 <= took <= T(3), '408 after %.2fs (header-timeout = 1, '
           'keepalive-timeout = 8)' % took)
    return '408 after %.2fs' % took


def main():
    t = Test('test_http_syscalls')
    root = os.path.join(t.dir, 'root')
    make_tree(root, {'small.txt': SMALL, 'large.bin': LARGE})
    srv = http_server(t, 'srv', servers(root))
    try:
        srv.start()
        t.check('a cached small file: at most 3 calls per request',
                cached_small_file, srv, root)
        t.check('a keep-alive request waits in one read: no poll, fcntl '
                'or setsockopt per request', one_read_per_request, srv)
        t.check('a large file: head with MSG_MORE, then sendfile(), no '
                'setsockopt per response', large_file_no_cork, srv)
        t.check('a connection the client closes: accept, read, write, '
                'close; no per-connection setsockopt, getppid or ioctl',
                close_connection_calls, srv)
        t.check('accepted connections have TCP_NODELAY (set on the '
                'listener)', accepted_nodelay, srv)
        t.check('a connection that carried a sendfile() body keeps at most '
                '32 KiB unsent', sendfile_unsent_cap, srv)
        t.check('Connection: close: a body up to 256 KiB is handed over '
                'whole', close_large_handoff, srv)
        t.check('keep-alive timeout exact with a longer header-timeout',
                idle_close_exact, srv)
        t.check('header-timeout exact on a new connection',
                head_timeout_exact, srv, False)
        t.check('header-timeout exact on a kept-alive connection',
                head_timeout_exact, srv, True)
        t.check('no worker trouble', no_worker_trouble, srv)
    finally:
        t.finish()
    sys.exit(1 if t.failed else 0)


if __name__ == '__main__':
    main()

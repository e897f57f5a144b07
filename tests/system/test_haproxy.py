#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The scale-out recipe of doc/scale-out.md, for real: HAProxy (started
here in the foreground on loopback) in front of two preforkd instances,
with send-proxy-v2 and option httpchk on health-path.  A client bound to
127.0.0.2 keeps sending requests through HAProxy while instance A is
stopped gracefully and started again, B is reloaded, then stopped and
started, and A's binary is upgraded with `preforkd -s upgrade`, WINCH and
QUIT: no request may fail, HAProxy's stats must show each instance down
while it drains, and both access logs must name 127.0.0.2, the real
client, for every request served through HAProxy."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, children, expect, kill,
                     read_file, recv_to_eof, run, skipped, wait_until)
from test_http_util import http_server, make_tree

BODY = b'served through haproxy\n' * 20
DRAIN = 5               # drain-delay: longer than HAProxy takes to notice
CLIENTS = 3
WORKERS = 5             # a fixed pool: the workers present are all there is
CLIENT_ADDR = '127.0.0.2'


def free_ports(n):
    """n distinct free ports: each socket stays bound until all are
    chosen, or the kernel may hand the same port out twice."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(('127.0.0.1', 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


RECIPE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                      '..', 'doc', 'scale-out.md')


def recipe_conf(stats, front, a, b):
    """The haproxy.cfg of doc/scale-out.md (its fenced block), with our
    loopback ports, the stats socket on TCP (a unix socket's path in a
    deep build dir can be too long) and a short check interval."""
    text = read_file(RECIPE)
    expect(text, 'cannot read %s' % RECIPE)
    m = re.search(r'^```\n(global\n.*?)^```$', text, re.M | re.S)
    expect(m, 'no haproxy.cfg block in %s' % RECIPE)
    conf = m.group(1)
    subs = [(r'stats socket \S+', 'stats socket ipv4@127.0.0.1:%d' % stats),
            (r'bind \S+', 'bind 127.0.0.1:%d' % front),
            (r'server a \S+', 'server a 127.0.0.1:%d' % a),
            (r'server b \S+', 'server b 127.0.0.1:%d' % b),
            (r'inter \S+', 'inter 300ms')]
    for pattern, repl in subs:
        conf, n = re.subn(pattern, repl, conf)
        expect(n == 1, '%s: %d matches in the recipe' % (pattern, n))
    return conf


class HAProxy:
    def __init__(self, t, exe):
        self.dir = os.path.join(t.dir, 'haproxy')
        os.makedirs(self.dir)
        self.exe = exe
        self.proc = None

    def start(self, front, a, b, stats):
        self.stats_port = stats
        self.conf = os.path.join(self.dir, 'haproxy.cfg')
        with open(self.conf, 'w') as f:
            f.write(recipe_conf(self.stats_port, front, a, b))
        rc, out, err = run([self.exe, '-c', '-f', self.conf])
        expect(rc == 0, 'haproxy -c: %s %s %s' % (rc, out, err))
        self.err = open(os.path.join(self.dir, 'stderr'), 'wb')
        self.proc = subprocess.Popen([self.exe, '-db', '-f', self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.err, stderr=self.err)

    def stat(self):
        """{server: status} of backend preforkd, from `show stat`."""
        s = socket.socket()
        try:
            s.settimeout(T(5))
            s.connect(('127.0.0.1', self.stats_port))
            s.sendall(b'show stat\n')
            data = recv_to_eof(s)
        except OSError:
            return {}
        finally:
            s.close()
        lines = data.decode('latin-1').splitlines()
        if not lines or not lines[0].startswith('# '):
            return {}
        head = lines[0][2:].split(',')
        out = {}
        for line in lines[1:]:
            f = line.split(',')
            if len(f) == len(head) and f[0] == 'preforkd':
                out[f[1]] = f[head.index('status')]
        return out

    def status(self, server):
        return self.stat().get(server, '?')

    def wait(self, server, up, timeout=None):
        want = (lambda st: st.startswith('UP')) if up else \
            (lambda st: st.startswith('DOWN'))
        ok = wait_until(lambda: want(self.status(server)),
                        timeout or T(15), interval=0.05)
        expect(ok, 'haproxy: server %s is %s, not %s' % (
            server, self.status(server), 'UP' if up else 'DOWN'))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(T(10))
            except subprocess.TimeoutExpired:
                kill(self.proc.pid)
                self.proc.wait()


class Load:
    """CLIENTS threads, each a request after another through HAProxy on a
    new connection from CLIENT_ADDR; every failure is kept."""

    def __init__(self, port):
        self.port = port
        self.stop_ = threading.Event()
        self.ok = 0
        self.errors = []
        self.lock = threading.Lock()
        self.began = time.monotonic()
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(CLIENTS)]
        for th in self.threads:
            th.start()

    def one(self):
        s = socket.create_connection(('127.0.0.1', self.port), T(10),
                                     source_address=(CLIENT_ADDR, 0))
        try:
            s.sendall(b'GET /a.txt HTTP/1.1\r\nHost: scale\r\n'
                      b'Connection: close\r\n\r\n')
            data = recv_to_eof(s)
        finally:
            s.close()
        head, _, body = data.partition(b'\r\n\r\n')
        if not head.startswith(b'HTTP/1.1 200 ') or body != BODY:
            raise AssertionError('%r' % data[:200])

    def run(self):
        while not self.stop_.is_set():
            try:
                self.one()
                with self.lock:
                    self.ok += 1
            except Exception as e:
                with self.lock:
                    self.errors.append('%.2f %s: %s' % (
                        time.monotonic() - self.began, type(e).__name__,
                        str(e)[:80]))

    def served(self):
        with self.lock:
            return self.ok

    def more(self, n=20):
        """Waits until n more requests went through."""
        base = self.served()
        expect(wait_until(lambda: self.served() >= base + n, T(20)),
               'the load made no progress (%d ok, errors %s)'
               % (self.served(), self.errors[:3]))

    def finish(self):
        self.stop_.set()
        for th in self.threads:
            th.join(T(30))


def instance(t, name, port, root):
    srv = http_server(t, name, [dict(
        name='www', listen='127.0.0.1:%d' % port, workers=WORKERS,
        max_workers=WORKERS,
        proxy_protocol='v2',
        http=dict(root=root, health_path='/healthz',
                  access_log=os.path.join(t.dir, name + '-access.log')))],
        drain_delay=DRAIN)
    srv.bin = os.path.join(srv.dir, 'bin', 'preforkd')
    os.makedirs(os.path.dirname(srv.bin))
    shutil.copy2(BINARY, srv.bin)
    srv.access = os.path.join(t.dir, name + '-access.log')
    return srv


def start(srv):
    srv.start_mark = srv.mark()
    rc, out, err = run([srv.bin, '-f', srv.conf], cwd=srv.dir)
    expect(rc == 0, '%s: start exited %s: %s' % (srv.name, rc, err))
    srv.master = int(read_file(srv.pidfile))
    srv.seen.add(srv.master)


def drain_seen(hap, srv, server):
    """After QUIT or WINCH: HAProxy marks the server down while its master
    still serves (the drain), before any worker of it leaves."""
    workers = set(children(srv.master))
    hap.wait(server, up=False, timeout=T(DRAIN + 10))
    expect(alive(srv.master), '%s: the master left before HAProxy marked '
           'it down' % server)
    left = [p for p in workers if not alive(p)]
    expect(not left, '%s: workers %s left before HAProxy marked it down'
           % (server, left))


def stop_start(hap, load, srv, server):
    srv.signal(signal.SIGQUIT)
    drain_seen(hap, srv, server)
    load.more()
    expect(srv.wait_exit(T(DRAIN + 20)) is not None, '%s still runs'
           % srv.name)
    start(srv)
    hap.wait(server, up=True)
    load.more()


def main():
    t = Test('test_haproxy')
    exe = shutil.which('haproxy') or next(
        (p for p in ('/usr/sbin/haproxy', '/usr/local/sbin/haproxy')
         if os.access(p, os.X_OK)), None)
    if exe is None:
        t.check('HAProxy in front of two instances', skipped,
                'haproxy is not installed (apt-get install haproxy)')
        t.finish()
        return

    root = os.path.join(t.dir, 'root')
    make_tree(root, {'a.txt': BODY})
    pa, pb, front, stats = free_ports(4)
    a = instance(t, 'a', pa, root)
    b = instance(t, 'b', pb, root)
    hap = HAProxy(t, exe)
    load = None
    try:
        def setup():
            start(a)
            start(b)
            hap.start(front, pa, pb, stats)
            hap.wait('a', up=True)
            hap.wait('b', up=True)
        if not t.check('two instances up behind HAProxy', setup):
            raise SystemExit(t.finish())
        load = Load(front)
        t.check('load flows', load.more)
        t.check('A stopped gracefully (down in HAProxy during its drain) '
                'and started again', stop_start, hap, load, a, 'a')

        def reload_b():
            rc, out, err = b.ctl('reload')
            expect(rc == 0, '-s reload: %s %s' % (rc, err))
            load.more()
            # The old generation finishes its connections and leaves.
            expect(wait_until(lambda: len(children(b.master)) == WORKERS,
                              T(20)), 'B has workers %s, not %d'
                   % (children(b.master), WORKERS))
        t.check('B reloaded', reload_b)
        t.check('B stopped gracefully (down during its drain) and started '
                'again', stop_start, hap, load, b, 'b')

        def upgrade_a():
            tmp = a.bin + '.new'
            shutil.copy2(BINARY, tmp)
            os.rename(tmp, a.bin)
            old = a.master
            workers = set(children(old))
            # USR2, then WINCH and QUIT to the old master once the new
            # one serves; the old one drains (503) before it retires.
            rc, out, err = run([BINARY, '-s', 'upgrade', '-f', a.conf],
                               timeout=T(90))
            expect(rc == 0, '-s upgrade: %s %s %s' % (rc, out, err))
            new = int(read_file(a.pidfile))
            a.seen.add(new)
            a.master = new
            expect(new != old and not alive(old) and
                   not any(alive(p) for p in workers),
                   'the old master %d or its workers still run' % old)
            expect(os.stat('/proc/%d/exe' % new).st_ino ==
                   os.stat(a.bin).st_ino, 'the new master does not run the '
                   'new binary')
            hap.wait('a', up=True)
            load.more()
        t.check('A upgraded with -s upgrade', upgrade_a)

        def zero_failures():
            load.finish()
            expect(not load.errors, '%d of %d requests failed: %s'
                   % (len(load.errors), load.ok + len(load.errors),
                      load.errors[:5]))
            return '%d requests, none failed' % load.ok
        t.check('no request through HAProxy failed', zero_failures)

        def real_client():
            for srv in (a, b):
                lines = [l for l in (read_file(srv.access) or '').splitlines()
                         if '"GET /a.txt ' in l]
                expect(lines, '%s served nothing' % srv.name)
                hosts = sorted({l.split(' ', 1)[0] for l in lines})
                expect(hosts == [CLIENT_ADDR], '%s access log names %s, not '
                       '%s' % (srv.name, hosts, CLIENT_ADDR))
            return 'A %d lines, B %d lines' % tuple(
                sum('"GET /a.txt ' in l for l in
                    (read_file(s.access) or '').splitlines()) for s in (a, b))
        t.check('both access logs name the real client', real_client)
    finally:
        if load is not None:
            load.finish()
        hap.stop()
    t.finish()


main()

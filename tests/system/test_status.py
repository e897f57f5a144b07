#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The status page and metrics: status-path answers allowed clients (text,
?format=json, ?format=prometheus; the Prometheus text checked by a strict
parser), refuses others with 403; counters never go backwards across
recycled workers and reloads; `preforkd -s status` prints the table from
the command line, for an echo-only configuration too, and every server of
a full configuration (64 sections) keeps its line across reloads that
rename them all, and a reload that fails leaves the page as it was and
no record taken.  Every format and -s status tell the master's state:
serving, draining, stopping, upgrading."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, closed_by_peer, connect,
                     echo_once, expect, read_file, roundtrip, run, wait_until)
from test_http_util import (error_reply, expect_status, get, http_server,
                            make_tree)

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(r'^(%s)(?:\{(%s(?:,%s)*)\})? (\S+)$'
                       % (NAME, LABEL, LABEL))
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text):
    """A strict reader of the text exposition format (0.0.4): HELP and
    TYPE before a metric's samples, known types, counters named _total,
    float values, no series twice.  {(name, labels): value}."""
    expect(text.endswith('\n'), 'the exposition does not end in a newline')
    types, helps, series = {}, set(), {}
    for n, line in enumerate(text.split('\n')[:-1], 1):
        m = re.match(r'^# (HELP|TYPE) (%s) (.+)$' % NAME, line)
        if m:
            kind, name, rest = m.groups()
            if kind == 'HELP':
                expect(name not in helps, 'line %d: HELP %s twice' % (n, name))
                helps.add(name)
            else:
                expect(rest in ('counter', 'gauge', 'histogram', 'summary',
                                'untyped'), 'line %d: type %r' % (n, rest))
                expect(name not in types, 'line %d: TYPE %s twice' % (n, name))
                types[name] = rest
            continue
        expect(not line.startswith('#'), 'line %d: bad comment %r' % (n, line))
        m = SAMPLE_RE.match(line)
        expect(m, 'line %d: not a sample: %r' % (n, line))
        name, labels, value = m.group(1), m.group(2) or '', m.group(3)
        expect(name in types and name in helps, 'line %d: %s without HELP '
               'and TYPE before it' % (n, name))
        expect(types[name] != 'counter' or name.endswith('_total'),
               'line %d: counter %s not named _total' % (n, name))
        key = (name, tuple(sorted(LABEL_RE.findall(labels))))
        expect(key not in series, 'line %d: series twice: %r' % (n, key))
        series[key] = float(value)
    return series


def metric(series, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    expect(key in series, 'no %s%s in the metrics' % (name, labels))
    return series[key]


def servers(root):
    return [dict(name='www', workers=2, max_requests=1,
                 http=dict(root=root, status_path='/server-status',
                           header_timeout=1)),
            dict(name='locked', workers=1,
                 http=dict(root=root, status_path='/server-status',
                           status_allow=['10.0.0.0/8', 'unix']))]


def formats(srv):
    r = get(srv, '/server-status')
    expect_status(r, 200, 'status page from 127.0.0.1')
    expect(r.header('content-type').startswith('text/plain'), 'text: %r'
           % r.header('content-type'))
    text = r.body.decode()
    expect(re.search(r'^server www: listen 127\.0\.0\.1:\d+', text, re.M) and
           re.search(r'^server locked: listen', text, re.M),
           'servers missing from the text page:\n%s' % text)
    expect(re.search(r'^\s+\d+\s+\d+\s+1 www\s+writing .* GET '
                     r'/server-status HTTP/1\.1$', text, re.M),
           'no row for the serving worker:\n%s' % text)
    r = get(srv, '/server-status?format=json')
    expect_status(r, 200, 'json')
    expect(r.header('content-type') == 'application/json', 'json type %r'
           % r.header('content-type'))
    doc = json.loads(r.body)
    names = [s['name'] for s in doc['servers']]
    expect(names == ['www', 'locked'], 'json servers %s' % names)
    expect(doc['master']['generation'] == 1, 'json master %s' % doc['master'])
    expect(all(set(w) >= {'pid', 'state', 'server', 'requests'}
               for w in doc['workers']), 'json workers %s' % doc['workers'])
    r = get(srv, '/server-status?format=prometheus')
    expect_status(r, 200, 'prometheus')
    expect(r.header('content-type').startswith('text/plain; version=0.0.4'),
           'prometheus type %r' % r.header('content-type'))
    series = parse_prometheus(r.body.decode())
    for name in ('preforkd_workers', 'preforkd_listen_queue',
                 'preforkd_connections_total', 'preforkd_requests_total',
                 'preforkd_sent_bytes_total', 'preforkd_worker_restarts_total',
                 'preforkd_reloads_total', 'preforkd_max_workers_reached_total'):
        expect(any(k[0] == name for k in series), 'no %s' % name)
    expect_status(get(srv, '/server-status?format=xml'), 400, 'unknown format')
    r = get(srv, '/server-status', method='HEAD')
    expect_status(r, 200, 'HEAD')
    return '%d series' % len(series)


def errors_counted(srv):
    """Every request answered is counted, a malformed one too (400, as
    nginx's stub_status and Apache's Total Accesses count them): the
    requests total and the access log agree."""
    def total():
        r = get(srv, '/server-status?format=prometheus')
        expect_status(r, 200, 'prometheus')
        return metric(parse_prometheus(r.body.decode()),
                      'preforkd_requests_total', server='www')
    before = total()
    for data in (b'GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n',
                 b'garbage\r\n\r\n', b'GET / HTTP/1.1\r\n\r\n'):
        error_reply(srv, data, 400, repr(data), closes=False)
    after = total()
    # The three 400s, and the status request that read "before".
    expect(after - before == 4, 'requests_total went %d -> %d after three '
           '400s' % (before, after))
    # A connection that says nothing until header-timeout is no request.
    with connect(srv.addr('www')) as c:
        expect(closed_by_peer(c, T(5)), 'a silent connection still open')
    later = total()
    expect(later - after == 1, 'requests_total went %d -> %d for a silent '
           'connection' % (after, later))


def refused(srv):
    r = get(srv, '/server-status', name='locked')
    expect_status(r, 403, 'status page from 127.0.0.1, allowed 10.0.0.0/8')
    expect(b'preforkd' not in r.body or b'master' not in r.body,
           'the 403 shows the status')


def status_code(fam, sa, target='/server-status'):
    """The status code of one GET to a socket address."""
    s = connect((fam, sa), T(10))
    try:
        s.sendall(b'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close'
                  b'\r\n\r\n' % target.encode())
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    m = re.match(rb'HTTP/1\.1 (\d{3}) ', data)
    expect(m, 'no status line from %r: %r' % (sa, data[:80]))
    return int(m.group(1))


def mapped_prefixes(t):
    """An IPv4 client gets the same answer on an IPv4 and a dual-stack
    listener: "::ffff:127.0.0.1" is 127.0.0.1 on both, and "::/0" (any
    IPv6 client) lets no IPv4 client in."""
    root = os.path.join(t.dir, 'mappedroot')
    make_tree(root, {'a.txt': 'alpha\n'})
    allow = [('v4mapped', '127.0.0.1:0', '::ffff:127.0.0.1'),
             ('dualmapped', '*:0', '::ffff:127.0.0.1'),
             ('dualany6', '*:0', '::/0'),
             ('v4any6', '127.0.0.1:0', '::/0')]
    srv = http_server(t, 'mapped', [
        dict(name=name, listen=listen, workers=1,
             http=dict(root=root, status_path='/server-status',
                       status_allow=[prefix]))
        for name, listen, prefix in allow])
    srv.start()
    want = {'v4mapped': 200, 'dualmapped': 200, 'dualany6': 403,
            'v4any6': 403}
    got = {name: status_code(*srv.addr(name)) for name in want}
    expect(got == want, 'from 127.0.0.1: %s, expected %s' % (got, want))
    port = srv.port('dualany6')
    six = status_code(socket.AF_INET6, ('::1', port))
    expect(six == 200, 'from ::1 allowed by "::/0": %d' % six)
    srv.stop()
    return 'from 127.0.0.1: %s; from ::1 on dualany6: %d' % (got, six)


def never_backwards(srv):
    """Every request recycles its worker (max-requests = 1), and a reload
    retires them all: the totals only grow."""
    def sample():
        r = get(srv, '/server-status?format=prometheus')
        expect_status(r, 200, 'metrics')
        s = parse_prometheus(r.body.decode())
        return (metric(s, 'preforkd_connections_total', server='www'),
                metric(s, 'preforkd_requests_total', server='www'),
                metric(s, 'preforkd_sent_bytes_total', server='www'),
                metric(s, 'preforkd_worker_restarts_total', server='www',
                       reason='max-requests'),
                metric(s, 'preforkd_reloads_total'))
    last = sample()
    seen = [last]
    for i in range(24):
        expect_status(get(srv, '/a.txt'), 200, 'GET %d' % i)
        if i == 12:
            mark = srv.mark()
            srv.signal(signal.SIGHUP)
            srv.wait_log(r'reload: generation 2 serving', mark)
        now = sample()
        expect(all(a >= b for a, b in zip(now, last)), 'a counter went '
               'backwards: %s -> %s (connections, requests, bytes, '
               'max-requests restarts, reloads)' % (last, now))
        last = now
        seen.append(now)
    first = seen[0]
    expect(last[0] - first[0] >= 48, 'connections grew by %d for 48'
           % (last[0] - first[0]))
    expect(last[3] > first[3], 'max-requests restarts did not grow')
    expect(last[4] == first[4] + 1, 'reloads %s -> %s' % (first[4], last[4]))
    return 'connections %d -> %d, restarts %d -> %d' % (first[0], last[0],
                                                        first[3], last[3])


def status_command(t):
    srv = t.server('echoonly', servers=[dict(workers=2)])
    srv.start()
    echo_once(srv.addr(), b'hello')
    rc, out, err = srv.ctl('status')
    expect(rc == 0, '-s status: exit %d, %s' % (rc, err.strip()))
    expect(re.search(r'^preforkd: master %d, up \d+ s, generation 1'
                     % srv.master, out, re.M), 'no master line:\n%s' % out)
    expect(re.search(r'^server echo: listen 127\.0\.0\.1:%d'
                     % srv.port(), out, re.M), 'no server line:\n%s' % out)
    expect(re.search(r'totals: connections 1,', out), 'totals:\n%s' % out)
    for pid in srv.workers():
        expect(re.search(r'^\s+\d+\s+%d\s+1 echo\s' % pid, out, re.M),
               'no row for worker %d:\n%s' % (pid, out))
    srv.stop()
    rc, out, err = srv.ctl('status')
    expect(rc == 1 and err, '-s status with no master: exit %d, %r'
           % (rc, err))
    return out.split('\n')[0] if out else 'refused without a master'


def removed_server_gauges(t):
    """A server a reload removes keeps its line and totals, says it is
    removed, and its queue reads 0: the socket the clients waited on is
    gone, and an alert on the queue must not fire for ever."""
    srv = t.server('removed', servers=[dict(name='kept', workers=1),
                                       dict(name='gone', workers=1)])
    srv.start()
    clients = []
    try:
        c = connect(srv.addr('gone'))
        clients.append(c)
        c.sendall(b'x')
        expect(c.recv(1) == b'x', 'no echo')
        clients += [connect(srv.addr('gone')) for _ in range(2)]
        shown = lambda: srv.ctl('status')[1]
        expect(wait_until(lambda: re.search(
            r'^server gone: .*\n(?:  .*\n)*?  queue 2 now', shown(), re.M),
            T(5)), 'the queue never showed 2:\n%s' % shown())
        mark = srv.mark()
        srv.write_conf(servers=[dict(name='kept', workers=1)])
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation 2 serving', mark, T(30))
    finally:
        for c in clients:
            c.close()
    out = shown()
    m = re.search(r'^server gone: listen \S+, generation 1, removed\n'
                  r'  queue (\d+) now, (\d+) peak', out, re.M)
    expect(m and m.group(1) == '0' and m.group(2) == '2',
           'the removed server\'s lines:\n%s' % out)
    expect(re.search(r'^server kept: listen \S+, generation 2, '
                     r'max-workers 1$', out, re.M),
           'the kept server\'s line:\n%s' % out)
    expect(re.search(r'totals: connections 1,', out), 'the removed server '
           'lost its totals:\n%s' % out)
    srv.stop()
    return m.group(0).replace('\n', ' ')


FAKE_MASTER = r'''
import fcntl, os, struct, sys, time
magic, version, pidfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sb = os.memfd_create('preforkd-scoreboard')
os.write(sb, struct.pack('=II', magic, version) + bytes(4088))
f = open(pidfile, 'w')
fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
f.write('%d\n' % os.getpid())
f.flush()
time.sleep(60)
'''


def status_of_other_version(t):
    """-s status to a master of another version (after a package upgrade,
    before the binary upgrade) says so and how to get its table: it used
    to say only "not this version's".  The master is faked: a process
    holding the locked pidfile and a scoreboard of another layout."""
    tdir = os.path.join(t.dir, 'otherversion')
    os.makedirs(tdir)
    pidfile = os.path.join(tdir, 'preforkd.pid')
    seen = []
    for magic, version, want in (
            (0x70666b64, 1, r'^preforkd: master %d runs another version of '
             r'preforkd \(scoreboard layout 1, this one reads \d+\): run '
             r'/proc/%d/exe -s status with the same options, or see its '
             r'status page$'),
            (0x12345678, 1, r'^preforkd: the scoreboard of master %d is not '
             r'one preforkd reads$')):
        fake = subprocess.Popen([sys.executable, '-c', FAKE_MASTER,
                                 str(magic), str(version), pidfile])
        try:
            expect(wait_until(lambda: (read_file(pidfile) or '').strip() ==
                              str(fake.pid), T(10)),
                   'the fake master did not write the pidfile')
            rc, out, err = run([BINARY, '-s', 'status', '-p', pidfile])
            pattern = want % ((fake.pid, fake.pid) if '%d/exe' in want
                              else (fake.pid,))
            expect(rc == 1 and re.search(pattern, err, re.M),
                   '-s status: exit %d, %r; wanted /%s/' % (rc, err.strip(),
                                                            pattern))
            expect(fake.poll() is None, 'the fake master was signalled')
            seen.append(err.strip())
        finally:
            fake.kill()
            fake.wait()
        os.unlink(pidfile)
    return ' | '.join(seen)


DRAIN = 3


def state_servers(root):
    return [dict(name='www', http=dict(root=root, access_log='off',
                                       status_path='/server-status',
                                       health_path='/healthz')),
            dict(name='echo', handler='echo')]


def told_state(out):
    m = re.search(r'^state: (\S+)$', out, re.M)
    return m.group(1) if m else 'none (no state line)'


def ctl_state(srv, pidfile=None):
    """The master's state as `preforkd -s status` prints it."""
    argv = [BINARY, '-s', 'status'] + (['-p', pidfile] if pidfile else
                                       ['-f', srv.conf])
    rc, out, err = run(argv)
    expect(rc == 0, '-s status: exit %d, %s' % (rc, err.strip()))
    return told_state(out)


def page_states(srv):
    """The master's state on the status page: (text, JSON, Prometheus)."""
    r = get(srv, '/server-status', name='www')
    expect_status(r, 200, 'text status page')
    text = told_state(r.body.decode())
    r = get(srv, '/server-status?format=json', name='www')
    expect_status(r, 200, 'json status page')
    doc = json.loads(r.body)
    expect({'pid', 'uptime', 'generation', 'reloads'} <= set(doc['master']),
           'json master lost a field: %s' % doc['master'])
    r = get(srv, '/server-status?format=prometheus', name='www')
    expect_status(r, 200, 'prometheus status page')
    series = parse_prometheus(r.body.decode())
    on = [dict(k[1])['state'] for k, v in series.items()
          if k[0] == 'preforkd_master_state' and v == 1]
    states = sorted(dict(k[1])['state'] for k in series
                    if k[0] == 'preforkd_master_state')
    expect(not states or states == sorted(['serving', 'draining', 'stopping',
                                           'upgrading']),
           'preforkd_master_state series: %s' % states)
    return (text, doc['master'].get('state', 'none'),
            on[0] if len(on) == 1 else 'none (%d series at 1)' % len(on))


def states_turn(srv, want, page=True, timeout=None):
    """-s status, and the status page if asked, tell want within a
    bounded wait (the master writes it in its next pass)."""
    last = {}

    def check():
        last['ctl'] = ctl_state(srv)
        if page:
            last['page'] = page_states(srv)
        return last['ctl'] == want and (not page or
                                        last['page'] == (want,) * 3)
    expect(wait_until(check, timeout or T(5), interval=0.05),
           'wanted state %s: -s status says %s, the page (text, json, '
           'prometheus) %s' % (want, last.get('ctl'), last.get('page')))


def master_states(t):
    """The master tells the administrator what it is doing, beside the
    health-path: serving; draining from WINCH, through the retirement of
    every worker (a table of none), until the reload; draining for the
    drain-delay of QUIT, then stopping while a worker finishes its
    connection.  Earlier the page and -s status had no state at all."""
    root = os.path.join(t.dir, 'stateroot')
    make_tree(root, {'a.txt': 'alpha\n'})
    srv = http_server(t, 'states', state_servers(root), drain_delay=DRAIN,
                      shutdown_timeout=30)
    # WINCH is ignored in the foreground: a daemon.
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'start: %s %s' % (rc, err))
    states_turn(srv, 'serving')
    seen = ['serving']

    mark = srv.mark()
    began = time.monotonic()
    srv.signal(signal.SIGWINCH)
    states_turn(srv, 'draining')
    seen.append('draining (WINCH)')
    expect(get(srv, '/healthz', name='www').status == 503,
           'health-path not 503 while draining')
    expect(time.monotonic() - began < DRAIN, 'the checks took longer than '
           'drain-delay: the machine is too slow for this test')
    srv.wait_log(r'SIGWINCH: retiring all workers', since=mark,
                 timeout=T(DRAIN + 15))
    expect(wait_until(lambda: not srv.workers(), T(15)),
           'workers still running after WINCH: %s' % srv.workers())
    # No worker is left to answer the page: -s status says why.
    states_turn(srv, 'draining', page=False)
    seen.append('draining (WINCH, no workers)')
    rc, out, err = srv.ctl('reload', timeout=T(30))
    expect(rc == 0, '-s reload after WINCH: %s %s' % (rc, err))
    states_turn(srv, 'serving')
    seen.append('serving (reload)')

    # A connection a worker serves past the drain: the stop waits for it.
    with connect(srv.addr('echo')) as c:
        expect(roundtrip(c, b'held') == b'held', 'echo failed')
        began = time.monotonic()
        srv.signal(signal.SIGQUIT)
        states_turn(srv, 'draining')
        expect(time.monotonic() - began < DRAIN, 'the checks took longer '
               'than drain-delay: the machine is too slow for this test')
        seen.append('draining (QUIT)')
        states_turn(srv, 'stopping', page=False, timeout=T(DRAIN + 5))
        expect(srv.running(), 'the master left with a connection open')
        seen.append('stopping')
    expect(srv.wait_exit(T(15)) is not None, 'the master still runs once '
           'its last connection closed')
    return ', '.join(seen)


def upgrade_states(t):
    """During a binary upgrade the old master says upgrading (its
    successor serves: the health-path stays 200), the new one serving."""
    root = os.path.join(t.dir, 'upgroot')
    make_tree(root, {'a.txt': 'alpha\n'})
    srv = http_server(t, 'upgstates', state_servers(root))
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'start: %s %s' % (rc, err))
    old = srv.master
    mark = srv.mark()
    os.kill(old, signal.SIGUSR2)
    m = srv.wait_log(r'upgrade: new master (\d+) serving', mark, T(30))
    new = int(m.group(1))
    srv.seen.add(new)
    oldbin = srv.pidfile + '.oldbin'
    got = {}
    expect(wait_until(lambda: got.update(old=ctl_state(srv, oldbin),
                                         new=ctl_state(srv)) or
                      got == dict(old='upgrading', new='serving'), T(5)),
           'old master says %s (want upgrading), new one %s (want '
           'serving)' % (got.get('old'), got.get('new')))
    os.kill(old, signal.SIGQUIT)
    expect(wait_until(lambda: not alive(old), T(15)),
           'the old master still runs after QUIT')
    srv.master = new
    srv.stop(signal.SIGQUIT)
    return 'old %(old)s, new %(new)s' % got


def renamed_servers_listed(t):
    """The scoreboard records the servers of the old and the new config
    during a reload; a record whose servers are gone from every running
    generation is taken over by the next reload."""
    def named(prefix):
        return [dict(name='%s%d' % (prefix, i), workers=1) for i in range(64)]
    srv = t.server('renamed', servers=named('a'))
    srv.start()
    for gen, prefix in ((2, 'b'), (3, 'c')):
        old = srv.workers()
        srv.write_conf(servers=named(prefix))
        mark = srv.mark()
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation %d serving' % gen, since=mark,
                     timeout=T(60))
        srv.wait_workers(64, timeout=T(60), gone=old)
        rc, out, err = srv.ctl('status')
        expect(rc == 0, '-s status: exit %d, %s' % (rc, err.strip()))
        missing = ['%s%d' % (prefix, i) for i in range(64)
                   if not re.search(r'^server %s%d: listen ' % (prefix, i),
                                    out, re.M)]
        expect(not missing, 'generation %d: no status line for %d servers: '
               '%s' % (gen, len(missing), ' '.join(missing[:8])))
        expect(not srv.find(r'servers have no status line', mark),
               'servers found no record in the scoreboard')
    srv.stop()


def failed_reloads_leave_no_mark(t):
    """A reload that fails shows nothing of its config on the status page,
    and the records it named are free again: after two failed reloads of
    new names, a third set of 64 new names all get status lines."""
    def named(prefix, n):
        return [dict(name='%s%d' % (prefix, i), workers=1) for i in range(n)]
    srv = t.server('failed', servers=named('a', 64))
    srv.start()
    rc, out, err = srv.ctl('status')
    expect(rc == 0, '-s status: exit %d, %s' % (rc, err.strip()))
    line = re.search(r'^server a0: listen (\S+), generation 1, '
                     r'max-workers (\d+)$', out, re.M)
    expect(line, 'no line for server a0:\n%s' % out[:600])
    with socket.socket() as blocker:
        blocker.bind(('127.0.0.1', 0))
        blocker.listen(1)
        busy = 'listen = 127.0.0.1:%d' % blocker.getsockname()[1]
        for prefix in 'bc':
            # New names, a0 moved and resized, then an address in use.
            bad = named(prefix, 62) + [
                dict(name='a0', workers=1, max_workers=9),
                dict(name='busy', listen='127.0.0.1:%d'
                     % blocker.getsockname()[1], workers=1)]
            srv.write_conf(servers=bad)
            rc, _, err = srv.ctl('reload', timeout=T(40))
            expect(rc != 0 and 'Address already in use' in err,
                   'reload with %s exited %d: %s' % (busy, rc, err.strip()))
            rc, out, err = srv.ctl('status')
            expect(rc == 0, '-s status: exit %d, %s' % (rc, err.strip()))
            now = re.search(r'^server a0: listen (\S+), generation 1, '
                            r'max-workers (\d+)$', out, re.M)
            expect(now and now.groups() == line.groups(),
                   'after a failed reload a0 shows %s, not %s'
                   % (now and now.group(0), line.group(0)))
            shown = re.findall(r'^server (\S+): listen \S+, generation '
                               r'(\d+),', out, re.M)
            stray = [x for x in shown if x[1] != '1' or x[0][0] != 'a']
            expect(len(shown) == 64 and not stray,
                   'after a failed reload %d lines, some of the failed '
                   'config: %s' % (len(shown), stray[:4]))
    old = srv.workers()
    mark = srv.mark()
    srv.write_conf(servers=named('d', 64))
    rc, _, err = srv.ctl('reload', timeout=T(60))
    expect(rc == 0, '-s reload: exit %d, %s' % (rc, err.strip()))
    srv.wait_workers(64, timeout=T(60), gone=old)
    rc, out, err = srv.ctl('status')
    missing = ['d%d' % i for i in range(64)
               if not re.search(r'^server d%d: listen ' % i, out, re.M)]
    expect(not missing, 'no status line for %d servers after two failed '
           'reloads: %s' % (len(missing), ' '.join(missing[:8])))
    expect(not srv.find(r'servers have no status line', mark),
           'servers found no record in the scoreboard')
    srv.stop()
    return 'a0 kept %s' % line.group(0)


def returning_server_keeps_totals(t):
    """With every record named, a server dropped by a reload keeps its
    free record; a config that brings it back after a new name gives the
    new name another record, and the server its own totals again."""
    def named(prefix, n):
        return [dict(name='%s%d' % (prefix, i), workers=1) for i in range(n)]

    def reload_to(servers, gen):
        old = srv.workers()
        mark = srv.mark()
        srv.write_conf(servers=servers)
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation %d serving' % gen, since=mark,
                     timeout=T(60))
        srv.wait_workers(len(servers), timeout=T(60), gone=old)

    srv = t.server('returning', servers=named('a', 64))
    srv.start()
    for _ in range(3):
        echo_once(srv.addr('a0'), b'counted')
    reload_to(named('b', 64), 2)        # all 128 records named now
    reload_to([dict(name='new', workers=1), dict(name='a0', workers=1)] +
              named('b', 62), 3)
    rc, out, err = srv.ctl('status')
    expect(rc == 0, '-s status: exit %d, %s' % (rc, err.strip()))
    totals = re.search(r'^server a0: listen .*\n(?:  .*\n)*?  totals: '
                       r'connections (\d+),', out, re.M)
    expect(totals and int(totals.group(1)) >= 3, 'a0 came back with %s '
           'connections, not its 3' % (totals and totals.group(1)))
    expect(re.search(r'^server new: listen ', out, re.M), 'no line for new')
    srv.stop()
    return 'a0 kept %s connections' % totals.group(1)


def main():
    t = Test('test_status')
    srv = http_server(t, 'status', servers('root'))
    make_tree(os.path.join(srv.dir, 'root'), {'a.txt': 'alpha\n'})
    if not t.check('server starts', srv.start):
        t.finish()
    t.check('-s status to a master of another version says how to ask it',
            status_of_other_version, t)
    t.check('status page: text, ?format=json, ?format=prometheus (strict '
            'parser)', formats, srv)
    t.check('status page refused (403) outside status-allow', refused, srv)
    t.check('status-allow: an IPv4 client is matched as IPv4 on an IPv4 '
            'and a dual-stack listener', mapped_prefixes, t)
    t.check('malformed requests answered 400 are counted', errors_counted,
            srv)
    t.check('counters never go backwards across recycling and a reload',
            never_backwards, srv)
    t.check('preforkd -s status prints the table (echo only)',
            status_command, t)
    t.check('a server a reload removed: kept, said removed, its queue 0',
            removed_server_gauges, t)
    t.check('the master\'s state (serving, draining, stopping) on the page '
            'and in -s status', master_states, t)
    t.check('upgrading: the old master of a binary upgrade says so',
            upgrade_states, t)
    t.check('64 servers renamed by two reloads: each keeps a status line',
            renamed_servers_listed, t)
    t.check('a server back after a new name finds its own totals',
            returning_server_keeps_totals, t)
    t.check('failed reloads leave no mark and free the records they took',
            failed_reloads_leave_no_mark, t)
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""The faults of the harness (see README), one function each: it injects
its fault into the running server while the load runs, says which
failures the fault dooms, restores what it broke, and returns a line of
figures.  p is the phase (PhaseContext in stress.py), p.run the run."""
import os
import resource
import signal
import socket
import struct
import subprocess
import threading
import time

from harness import T, alive, expect, proc_stat, read_file, socket_inodes, \
    wait_until
from load import LOST, RESET_FILE, Fail, recv_some
import sockdiag

# ---------------------------------------------------------------- /proc

def tcp_rows(states=sockdiag.NOT_TIME_WAIT):
    """(local port, remote port, inode) of the TCP sockets in `states`:
    through sock_diag, else (slowly) /proc/net/tcp."""
    try:
        return [r[:3] for r in sockdiag.tcp_sockets(states)]
    except OSError:
        pass
    rows = []
    for name in ('/proc/net/tcp', '/proc/net/tcp6'):
        for line in (read_file(name) or '').split('\n')[1:]:
            f = line.split()
            if len(f) >= 10 and states & (1 << int(f[3], 16)):
                rows.append((int(f[1].rsplit(':', 1)[1], 16),
                             int(f[2].rsplit(':', 1)[1], 16), int(f[9])))
    return rows


def client_ports(pid, server_ports, rows=None):
    """Client ports of the connections pid holds on server_ports."""
    inodes = socket_inodes(pid)
    return {r[1] for r in (rows if rows is not None else tcp_rows())
            if r[0] in server_ports and r[2] in inodes and r[1] != 0}


def listening(port):
    return any(r[0] == port for r in tcp_rows(1 << sockdiag.LISTEN))


def rss_kib(pid):
    for line in (read_file('/proc/%d/status' % pid) or '').split('\n'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return 0


def fd_count(pid):
    try:
        return len(os.listdir('/proc/%d/fd' % pid))
    except OSError:
        return -1


def mount(*argv):
    return subprocess.run(['mount'] + list(argv), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)


# ---------------------------------------------------------------- faults

BROKEN = [
    ('a syntax error', lambda text: text.replace('server echo {',
                                                 'server echo {{', 1)),
    ('workers = 0', lambda text: text.replace('workers = 6',
                                              'workers = 0', 1)),
    ('an unknown option', lambda text: text.replace(
        'server echo {', 'server echo {\n  no-such-option = 1', 1)),
    ('a missing root', lambda text: text.replace(
        'root = "', 'root = "/nonexistent', 1)),
]


# A storm takes a few seconds: a long phase has room for more than one.
STORM_AGAIN = 30


def reload_storm(p, holder):
    """HUPs in a burst; every fifth with a broken configuration, each
    confirmed refused before the good one is put back.  Returns how many
    were broken."""
    run, srv = p.run, p.srv
    busy = [('an address in use', lambda text: run.conf_text(extra=[dict(
        name='taken', handler='echo', workers=1,
        listen='127.0.0.1:%d' % holder.getsockname()[1])]))]
    good = run.conf_text()
    broken = 0
    try:
        for i in range(run.hups):
            if i % 5 != 4:
                srv.signal(signal.SIGHUP)
                p.load_for(run.rng.uniform(0, 0.03))
                continue
            what, make = (BROKEN + busy)[(i // 5) % (len(BROKEN) + 1)]
            mark = srv.mark()
            run.write_conf(make(good))
            srv.signal(signal.SIGHUP)
            found = wait_until(lambda: srv.find(
                r'reload failed: (configuration \S+ has errors|'
                r'[^\n]*Address already in use)', mark), T(20))
            run.write_conf(good)
            expect(found, 'HUP with %s: no "reload failed" in the log '
                   'within %gs' % (what, T(20)))
            broken += 1
    finally:
        run.write_conf(good)
    mark = srv.mark()
    srv.signal(signal.SIGHUP)
    srv.wait_log(r'reload: generation \d+ serving', mark, T(30))
    run.settle('after the storm')
    return broken


def fault_reload_storm(p):
    """Reload storms (100 HUPs each) with broken configurations among
    them: a parse error, or an address already in use, which only bind
    finds.  No request may fail."""
    run, srv = p.run, p.srv
    holder = socket.socket()
    holder.bind(('127.0.0.1', 0))
    holder.listen(1)
    storms = broken = 0
    try:
        while storms == 0 or p.left() > STORM_AGAIN:
            broken += reload_storm(p, holder)
            storms += 1
    finally:
        holder.close()
    p.load_for(p.left())
    served = len(srv.find(r'reload: generation \d+ serving', p.mark))
    return ('%d HUPs, %d with a broken configuration (each refused), %d '
            'reloads served' % (storms * (run.hups + 1), broken, served))


POOL_RE = r'server (\w+): pool size (\d+)'


def pool_sizes(srv, since):
    """{server: size} as the master last reported it since log offset."""
    return {m.group(1): int(m.group(2)) for m in srv.find(POOL_RE, since)}


def ttin_ttou_storm(p):
    """TTIN and TTOU in a burst, a random walk of the pool size (-1..+6
    as sent).  Signals that arrive together merge, as they do for any
    daemon, so the pools may end elsewhere, even at their floor of one
    worker: (signals, most workers seen)."""
    run, srv = p.run, p.srv
    level, sent, top = 0, 0, 0
    for _ in range(60):
        step = run.rng.choice((1, -1))
        if -1 <= level + step <= 6:
            srv.signal(signal.SIGTTIN if step > 0 else signal.SIGTTOU)
            level += step
            sent += 1
            top = max(top, len(srv.workers()))
            p.load_for(run.rng.uniform(0, 0.02))
    return sent, top


def pool_restore(p, since):
    """The pools as the master reports them must be the pools that run;
    then single TTOU/TTIN, each awaited, bring them back to their size."""
    run, srv = p.run, p.srv

    def consistent():
        sizes = pool_sizes(srv, since)
        return sizes if len(sizes) == 2 and \
            sum(sizes.values()) == len(srv.workers()) else None
    last = wait_until(consistent, T(30), 0.1)
    expect(last, 'the pools the master reports (%s) are not the %d '
           'workers that run' % (pool_sizes(srv, since), len(srv.workers())))
    delta = last['www'] - 6
    if last['echo'] - 2 == delta:
        for _ in range(abs(delta)):
            mark = srv.mark()
            srv.signal(signal.SIGTTOU if delta > 0 else signal.SIGTTIN)
            srv.wait_log(POOL_RE, mark, T(10))
        how = '%d single signals' % abs(delta)
    else:
        # A pool stopped at its floor of one worker while the other went
        # on shrinking: no signal brings both back, a reload does.
        mark = srv.mark()
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation \d+ serving', mark, T(30))
        how = 'a reload'
    run.settle('after the storm')
    return last, how


def fault_ttin_ttou(p):
    """TTIN/TTOU storms; the pools the master reports are the ones that
    run, and come back to their size."""
    run = p.run
    sent = top = storms = 0
    while storms == 0 or p.left() > STORM_AGAIN:
        mark = p.srv.mark()
        n, most = ttin_ttou_storm(p)
        sizes, how = pool_restore(p, mark)
        sent += n
        top = max(top, most)
        storms += 1
    p.load_for(p.left())
    return ('%d TTIN/TTOU, up to %d workers; the last storm ended at www '
            '%d, echo %d, brought back to %d in all by %s' % (
                sent, top, sizes['www'], sizes['echo'],
                run.expected_workers, how))


def kill_worker(p, w):
    """kill -9 of worker w, stopped first so that the client ports of the
    connections it holds, the ones its death dooms, are read before it
    dies.  The number of those connections, or None if w was gone."""
    t0 = time.monotonic()
    try:
        os.kill(w, signal.SIGSTOP)
    except ProcessLookupError:
        return None
    # Stopped for real: an accept() under way when the signal came
    # completes first, and its connection is doomed too.
    wait_until(lambda: (proc_stat(w) or 'X')[0] in 'TtZX', T(5), 0.001)
    held = client_ports(w, set(p.run.ports.values()))
    os.kill(w, signal.SIGKILL)
    p.killed.add(w)
    p.doom('in flight to worker %d killed with -9' % w, LOST, t0,
           time.monotonic(), held)
    return len(held)


def fault_kill_workers(p):
    """kill -9 of random workers, mostly of ones serving a connection."""
    run, srv = p.run, p.srv
    ports = set(run.ports.values())
    kills = doomed_conns = 0
    while p.left() > 0.5:
        workers = srv.workers()
        rows = tcp_rows()
        busy = [w for w in workers if client_ports(w, ports, rows)]
        pool = busy if busy and run.rng.random() < 0.7 else workers
        if pool:
            held = kill_worker(p, run.rng.choice(pool))
            if held is not None:
                kills += 1
                doomed_conns += held
        p.load_for(min(p.left(), run.rng.uniform(0.2, 0.6)))
    run.settle('after the kills')
    return '%d workers killed with -9, holding %d connections' % (
        kills, doomed_conns)


def rotate(p, access):
    """Moves the access log aside as logrotate would."""
    if os.path.exists(access):
        os.rename(access, access + '.1')


def make_unwritable(run):
    """Makes the log directory unwritable, for root too: a read-only bind
    mount over it, else chattr +i; chmod 0555 when not root.  (how,
    undo)."""
    logs = run.logs
    if os.geteuid() != 0:
        os.chmod(logs, 0o555)
        return 'chmod 0555', lambda: os.chmod(logs, 0o755)
    if not os.environ.get('STRESS_NO_MOUNT') and \
            run.try_mount('--bind', logs, logs):
        r = mount('-o', 'remount,bind,ro', logs)
        if r.returncode == 0:
            return 'a read-only bind mount', run.unmount_all_but_tmpfs
        run.unmount_all_but_tmpfs()
    r = subprocess.run(['chattr', '+i', logs], capture_output=True,
                       text=True)
    expect(r.returncode == 0, 'cannot make %s unwritable for root: no '
           'mount, and chattr +i: %s' % (logs, r.stderr.strip()))
    return 'chattr +i', lambda: subprocess.run(['chattr', '-i', logs],
                                               check=True)


def fault_log_unwritable(p):
    """The logs rotated and the log directory made unwritable (see
    make_unwritable), then reopened: the reopen fails, is logged once per
    process, serving goes on; writable again, the next reopen creates the
    log afresh."""
    run, srv = p.run, p.srv
    access = os.path.join(run.logs, 'access.log')
    rotate(p, access)
    how, undo = make_unwritable(run)
    mark = srv.mark()
    try:
        srv.signal(signal.SIGUSR1)
        srv.wait_log(r'reopening \S*access\.log', mark, T(15))
        p.load_for(p.left() / 2)
    finally:
        undo()
    complaints = len(srv.find(r'reopening \S*access\.log', mark))
    # One line per process that reopens (the master, each worker), never
    # one per request.
    expect(complaints <= 2 * (run.expected_workers + 1),
           '%d complaints about the log for one reopen' % complaints)
    mark2 = srv.mark()
    srv.signal(signal.SIGUSR1)
    srv.wait_log(r'reopened log files', mark2, T(15))
    grew = wait_until(lambda: os.path.getsize(access) > 0
                      if os.path.exists(access) else False, T(15))
    expect(grew, 'access.log not written again after the directory became '
           'writable and the logs were reopened')
    p.load_for(p.left())
    old = access + '.1'
    if os.path.exists(old):
        os.unlink(old)
    return ('log directory unwritable (%s) during a reopen: %d log lines '
            'about it, access.log written again after' % (how, complaints))


def fault_disk_full(p):
    """The access log's file system full: on the tmpfs, a file filling
    it; without one, RLIMIT_FSIZE on the workers at the log's size."""
    run, srv = p.run, p.srv
    access = os.path.join(run.logs, 'access.log')
    mark = srv.mark()
    limited = {}
    if run.tmpfs:
        filler = os.path.join(run.logs, 'filler')
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for size in (1 << 20, 4096, 1):
                try:
                    while True:
                        os.write(fd, b'\0' * size)
                except OSError:
                    pass
        finally:
            os.close(fd)
        how = 'tmpfs filled'
    else:
        filler = None
        size = os.path.getsize(access)
        for w in srv.workers():
            try:
                limited[w] = resource.prlimit(w, resource.RLIMIT_FSIZE)
                resource.prlimit(w, resource.RLIMIT_FSIZE,
                                 (size, limited[w][1]))
            except OSError:
                pass
        how = 'RLIMIT_FSIZE %d on the workers (no tmpfs)' % size
    try:
        p.load_for(p.left() * 2 / 3)
        full_size = os.path.getsize(access)
    finally:
        if filler:
            os.unlink(filler)
        for w, lim in limited.items():
            try:
                resource.prlimit(w, resource.RLIMIT_FSIZE, lim)
            except OSError:
                pass
    complaints = len(srv.find(r'write\(\S*access\.log\)', mark))
    expect(complaints <= 2 * run.expected_workers,
           '%d complaints about the full log' % complaints)
    grew = wait_until(lambda: os.path.getsize(access) > full_size, T(15))
    expect(grew, 'access.log not written again once the disk had room')
    p.load_for(p.left())
    return ('%s: %d log lines about it, access.log written again after' %
            (how, complaints))


def fault_emfile(p):
    """RLIMIT_NOFILE of every http worker lowered so that a connection's
    socket takes its last descriptor: opening the file fails with EMFILE.
    A 500 or a 503 is then the right answer, never a wrong byte."""
    run = p.run
    limited = {}
    t0 = time.monotonic()
    d = p.doom('EMFILE in the worker', {'status 500', 'status 503'}, t0)
    for w in run.www_workers():
        try:
            old = resource.prlimit(w, resource.RLIMIT_NOFILE)
            resource.prlimit(w, resource.RLIMIT_NOFILE,
                             (run.emfile_limit(w), old[1]))
            limited[w] = old
        except OSError:
            pass
    try:
        p.load_for(p.left() * 2 / 3)
    finally:
        for w, old in limited.items():
            try:
                resource.prlimit(w, resource.RLIMIT_NOFILE, old)
            except OSError:
                pass
        d.end = time.monotonic()
    p.load_for(p.left())
    hit = sum(f.count for f in p.stats.failures if d.covers(f))
    expect(hit > 0, 'no request met EMFILE: the fault did not happen')
    return ('RLIMIT_NOFILE lowered on %d http workers: %d requests '
            'answered 500/503' % (len(limited), hit))


def fault_docroot(p):
    """The docroot renamed away and back: 404 while it is away (or the
    files still, through the descriptor a worker holds), the files after.
    A worker killed while it is away is replaced by one that cannot open
    it; the pool must refill once the docroot is back."""
    run, srv = p.run, p.srv
    away = run.root + '.away'
    t0 = time.monotonic()
    d = p.doom('docroot renamed away', {'status 404'}, t0)
    os.rename(run.root, away)
    try:
        p.load_for(p.left() / 6)
        victims = run.www_workers()
        if victims:
            kill_worker(p, run.rng.choice(victims))
        p.load_for(p.left() / 4)
    finally:
        os.rename(away, run.root)
        # Requests sent before the rename back may be answered after it.
        d.end = time.monotonic()
    # Workers started while the root was away could not open it.
    for m in srv.find(r'worker (\d+) exited with status 78', p.mark):
        p.killed.add(int(m.group(1)))
    refilled = wait_until(lambda: len(srv.workers()) ==
                          run.expected_workers, T(10))
    have = len(srv.workers())
    if not refilled:
        # A reload refills the pool, so the next faults find it whole.
        mark = srv.mark()
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload: generation \d+ serving', mark, T(30))
        run.settle('after the reload')

    def pool_refills():
        expect(refilled, 'a worker started while the docroot was away '
               'exited and was not replaced once it was back: %d workers '
               'of %d after %gs (a reload restored the pool)'
               % (have, run.expected_workers, T(10)))
    p.subchecks.append(('docroot renamed away and back: the pool refills',
                        pool_refills))
    p.load_for(p.left())
    n404 = sum(f.count for f in p.stats.failures if d.covers(f))
    return 'docroot away for %.1fs: %d requests answered 404' % (
        d.end - t0, n404)


def stalled_header(run, stats, out):
    """A request head that never ends: 408 and close within
    header-timeout (2 s), or a plain close."""
    s = socket.create_connection(run.addr('www'), T(10))
    try:
        s.sendall(b'GET /small.html HTTP/1.1\r\nHost: x\r\n')
        t0 = time.monotonic()
        data = b''
        deadline = t0 + T(15)
        while True:
            chunk = recv_some(s, deadline)
            if not chunk:
                break
            data += chunk
        took = time.monotonic() - t0
        what = '408' if data.startswith(b'HTTP/1.1 408') else \
            'closed' if not data else 'other'
        stats.add('extra', 'stalled head: %s' % what)
        out.append((what, took))
    except Fail as f:
        stats.add('extra', 'stalled head: %s' % f.reason)
        out.append((f.reason, 0))
    finally:
        s.close()


def stalled_reader(run, stats, out):
    """Asks for 8 MiB and reads nothing: the send stalls, and the server
    must give up on it within `timeout` (4 s) and not lose the worker."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(T(10))
    try:
        s.connect(run.addr('www'))
        s.sendall(b'GET /stall.bin HTTP/1.1\r\nHost: x\r\n\r\n')
        t0 = time.monotonic()
        # Wait (bounded) until the server's end of the connection closes:
        # then reading drains what was buffered and ends in EOF or reset.
        port = s.getsockname()[1]
        gone = wait_until(lambda: not any(
            r[0] == run.ports['www'] and r[1] == port and r[2] != 0
            for r in tcp_rows()), T(30), 0.1)
        took = time.monotonic() - t0
        got, how = 0, 'still open'
        if gone:
            try:
                while True:
                    chunk = recv_some(s, time.monotonic() + T(10))
                    if not chunk:
                        how = 'closed'
                        break
                    got += len(chunk)
            except Fail as f:
                how = f.reason
        stats.add('extra', 'stalled reader: %s' % how)
        out.append((how, took, got))
    finally:
        s.close()


def fault_slow_clients(p):
    """Slow clients (4 bytes at a time up, 1 KiB at a time down) served
    right; two clients that stall in the request head and one that stops
    reading a large response are dropped, and their workers serve on."""
    run = p.run
    run.load.start_slow(2)
    heads, readers = [], []
    threads = [threading.Thread(target=stalled_header,
                                args=(run, p.stats, heads))
               for _ in range(2)]
    threads.append(threading.Thread(target=stalled_reader,
                                    args=(run, p.stats, readers)))
    for th in threads:
        th.start()
    try:
        for th in threads:
            th.join(T(60))
        expect(not any(th.is_alive() for th in threads),
               'stalled clients still waiting')
        p.load_for(p.left())
    finally:
        run.load.stop_slow()
    expect(len(heads) == 2 and all(h[0] in ('408', 'closed')
                                   for h in heads),
           'stalled request heads: %s' % heads)
    expect(len(heads) == 2 and all(h[1] < T(2 + 3) for h in heads),
           'stalled request heads dropped late: %s' % heads)
    expect(readers and readers[0][0] != 'still open',
           'a client that stopped reading still holds its connection '
           'after %gs' % T(30))
    # A worker killed by the master for the stalled send is a right
    # answer too: the log says so, and the pool replaces it.
    for m in p.srv.find(r'worker (\d+) busy for \d+s without progress',
                        p.mark):
        p.killed.add(int(m.group(1)))
    run.settle('after the stalled clients')
    slow = p.stats.correct['slow']
    expect(slow > 0, 'no slow client answered')
    return ('%d slow requests right; stalled heads: %s; stalled reader: '
            '%s after %.1fs' % (slow, ', '.join('%s after %.1fs' % h
                                                for h in heads),
                                readers[0][0], readers[0][1]))


def fault_resets(p):
    """Clients that reset mid-response (SO_LINGER 0 close): after part of
    a 3 MiB body, before any of it, in the middle of an echo."""
    run = p.run
    n = 0
    while p.left() > 0.3:
        linger = struct.pack('ii', 1, 0)
        try:
            if n % 4 == 3:
                s = socket.create_connection(run.addr('echo'), T(10))
                s.sendall(run.rng.randbytes(64 * 1024))
                s.recv(run.rng.randint(1, 4096))
                p.stats.add('extra', 'echo reset mid-stream')
            else:
                s = socket.create_connection(run.addr('www'), T(10))
                s.sendall(b'GET /%s HTTP/1.1\r\nHost: x\r\n\r\n'
                          % RESET_FILE[0].encode())
                want = 0 if n % 4 == 2 else run.rng.randint(1, 512 * 1024)
                got = 0
                while got < want:
                    chunk = s.recv(min(65536, want - got))
                    if not chunk:
                        break
                    got += len(chunk)
                p.stats.add('extra', 'http reset after %s' % (
                    'the request' if want == 0 else 'part of the body'))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            s.close()
        except OSError as e:
            p.stats.add('extra', 'reset client error: %s' % e)
        n += 1
        p.load_for(min(p.left(), 0.05))
    run.settle('after the resets')
    return '%d clients reset mid-response' % n


def fault_kill_master(p):
    """kill -9 of the master: its workers follow it (parent-death signal,
    after their current connection), nothing holds the ports any more,
    and a fresh master binds the very same ports."""
    run, srv = p.run, p.srv
    old = srv.master
    workers = srv.workers()
    t0 = time.monotonic()
    d = p.doom('master killed with -9, until a fresh one serves',
               LOST | {'refused'}, t0)
    os.kill(old, signal.SIGKILL)
    srv.proc.wait()
    gone = wait_until(lambda: not any(alive(w) for w in workers), T(20))
    expect(gone, 'workers of the killed master still run: %s'
           % [w for w in workers if alive(w)])
    took = time.monotonic() - t0
    free = wait_until(lambda: not any(listening(port) for port in
                                      run.ports.values()), T(10))
    expect(free, 'ports still listening with the master and its workers '
           'gone: %s' % [port for port in run.ports.values()
                         if listening(port)])
    srv.start()
    expect(srv.master != old, 'no fresh master')
    for name, port in run.ports.items():
        expect(srv.port(name) == port, 'the fresh master listens on %s, '
               'not %d' % (srv.addrs.get(name), port))
    srv.wait_workers(run.expected_workers, T(20))
    d.end = time.monotonic()
    p.load_for(p.left())
    return ('master %d killed, its %d workers gone in %.2fs, ports free; '
            'fresh master %d bound %s' % (
                old, len(workers), took, srv.master,
                ' and '.join('%s:%d' % (n, port)
                             for n, port in sorted(run.ports.items()))))


def fault_none(p):
    p.load_for(p.left())
    return 'no fault'


FAULTS = [
    ('reload storm', fault_reload_storm),
    ('TTIN/TTOU storm', fault_ttin_ttou),
    ('kill -9 of workers', fault_kill_workers),
    ('log directory unwritable', fault_log_unwritable),
    ('full disk', fault_disk_full),
    ('EMFILE', fault_emfile),
    ('docroot renamed away and back', fault_docroot),
    ('slow and stalled clients', fault_slow_clients),
    ('clients that reset mid-response', fault_resets),
]

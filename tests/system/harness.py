# SPDX-License-Identifier: BSD-2-Clause
"""Shared support for preforkd's system tests.

The tests run the real binary on ephemeral loopback ports (port 0 in the
config; the chosen port is read back from the error log) and talk to it with
real clients.  Nothing here sleeps to wait for a condition: every wait is a
bounded poll (wait_until).  Each test script owns one temp dir under
PREFORKD_TEST_TMP, and every process it starts is killed by PID at the end.

Environment (set by `make check`; fallbacks for running a script by hand):
  PREFORKD           the binary          (default ../../src/preforkd)
  PREFORKD_TEST_TMP  where to write      (default tests/system/tmp)
"""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import sockdiag

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.path.abspath(os.environ.get('PREFORKD') or
                         os.path.join(HERE, '..', '..', 'src', 'preforkd'))
TMP_ROOT = os.path.abspath(os.environ.get('PREFORKD_TEST_TMP') or
                           os.path.join(HERE, 'tmp'))


def _sanitized():
    try:
        with open(BINARY, 'rb') as f:
            return b'__asan_init' in f.read()
    except OSError:
        return False


# Sanitizer builds are several times slower: stretch every bound.
SLOW = 3.0 if _sanitized() else 1.0


def T(seconds):
    """A bound of `seconds`, stretched for slow (sanitizer) builds."""
    return seconds * SLOW


class Failure(Exception):
    """A check failed; the message says what was expected and what happened."""


def expect(cond, message):
    if not cond:
        raise Failure(message)


def skipped(reason):
    """For a check that cannot run on this machine: its note outside CI,
    a failure under CI=true, where nothing may be skipped silently."""
    if os.environ.get('CI') == 'true':
        raise Failure('cannot run here: %s (CI=true: nothing may be skipped)'
                      % reason)
    return 'SKIP: ' + reason


def wait_until(predicate, timeout, interval=0.02):
    """Polls predicate until it returns a true value or timeout seconds pass.

    Returns the last value of predicate (falsy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def write_file(path, text):
    with open(path, 'w') as f:
        f.write(text)


def read_file(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return None


def line_of(text, needle, nth=1):
    """1-based number of the nth line of text containing needle."""
    for number, line in enumerate(text.split('\n'), 1):
        if needle in line:
            nth -= 1
            if nth == 0:
                return number
    raise ValueError('%r not in text' % needle)


# ---------------------------------------------------------------- /proc

def proc_stat(pid):
    """(state, ppid, session, starttime) of pid, or None if it is gone."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b')') + 2:].split()
    return (fields[0].decode(), int(fields[1]), int(fields[3]),
            int(fields[19]))


def alive(pid):
    """True if pid runs (a zombie counts as dead: nobody may reap it)."""
    st = proc_stat(pid)
    return st is not None and st[0] not in 'ZXx'


def all_pids():
    return [int(d) for d in os.listdir('/proc') if d.isdigit()]


def children(pid):
    """Live children of pid, sorted."""
    out = []
    for p in all_pids():
        st = proc_stat(p)
        if st is not None and st[1] == pid and st[0] not in 'ZXx':
            out.append(p)
    return sorted(out)


PR_SET_CHILD_SUBREAPER = 36


def reap_daemons():
    """Makes this test the reaper of the daemons it starts, as init is.

    A daemonized master's parent is PID 1, and a zombie counts as running
    for kill -0 and start-stop-daemon: where PID 1 reaps only now and then
    (some container inits), every stop waits for it, a second here.  As
    a subreaper, this process gets them instead, and a thread reaps each
    one as it exits, as a real init does.  Only processes of another
    session are reaped: those of this one are subprocess's to wait for.
    """
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        return
    own_session = os.getsid(0)

    def reaper():
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG |
                                 os.WNOWAIT)
            except ChildProcessError:
                info = None
            st = proc_stat(info.si_pid) if info is not None else None
            if st is not None and st[2] != own_session:
                try:
                    os.waitpid(info.si_pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                continue
            time.sleep(0.01)
    threading.Thread(target=reaper, daemon=True).start()


def pids_mentioning(text):
    """Live processes (not us) whose command line contains text."""
    out = []
    for p in all_pids():
        if p == os.getpid():
            continue
        try:
            with open('/proc/%d/cmdline' % p, 'rb') as f:
                cmd = f.read().decode(errors='replace')
        except OSError:
            continue
        if text in cmd and alive(p):
            out.append(p)
    return sorted(out)


def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def fd_targets(pid):
    out = []
    try:
        names = os.listdir('/proc/%d/fd' % pid)
    except OSError:
        return out
    for fd in names:
        try:
            out.append(os.readlink('/proc/%d/fd/%s' % (pid, fd)))
        except OSError:
            pass
    return out


def socket_inodes(pid):
    return {int(t[8:-1]) for t in fd_targets(pid) if t.startswith('socket:[')}


def _tcp_table():
    """Rows (local_port, remote_port, state, inode) of the host's TCP
    sockets but TIME_WAIT ones (no inode, no process holds them).
    /proc/net/tcp lists those too, as text: after load tests it can take
    seconds to read, longer than the idle timeouts the tests race
    against, so the kernel is asked over sock_diag netlink first."""
    try:
        return [(r[0], r[1], '%02X' % r[3], r[2])
                for r in sockdiag.tcp_sockets()]
    except OSError:
        pass
    rows = []
    for name in ('/proc/net/tcp', '/proc/net/tcp6'):
        text = read_file(name) or ''
        for line in text.split('\n')[1:]:
            f = line.split()
            if len(f) < 10:
                continue
            rows.append((int(f[1].rsplit(':', 1)[1], 16),
                         int(f[2].rsplit(':', 1)[1], 16), f[3], int(f[9])))
    return rows


def listening_inodes(port):
    """Inodes of the TCP sockets listening on port (any address)."""
    return {r[3] for r in _tcp_table() if r[0] == port and r[2] == '0A'}


def conn_inode(server_port, client_port):
    """Inode of the server side of the connection client_port -> server_port."""
    for r in _tcp_table():
        if r[0] == server_port and r[1] == client_port and r[3] != 0:
            return r[3]
    return None


def kill(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- clients

def recv_to_eof(sock):
    """Everything the peer sends until it closes (the socket's timeout
    bounds each read)."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b''.join(chunks)
        chunks.append(chunk)


def http_get(addr, path='/'):
    """One HTTP/1.0 request: (status, body)."""
    with connect(addr) as s:
        s.sendall(('GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n'
                   % path).encode())
        data = recv_to_eof(s)
    head, _, body = data.partition(b'\r\n\r\n')
    parts = head.split(b' ', 2)
    expect(len(parts) >= 2 and parts[1].isdigit(),
           'no HTTP status line in %r' % data[:80])
    return int(parts[1]), body


def connect(addr, timeout=None):
    family, sockaddr = addr
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout if timeout is not None else T(10))
    try:
        s.connect(sockaddr)
    except BaseException:
        s.close()
        raise
    return s


def roundtrip(sock, data, timeout=None):
    """Sends data while reading the echo (a thread sends, so large payloads
    cannot deadlock); returns what came back, stopping at len(data), EOF or
    timeout."""
    timeout = timeout if timeout is not None else T(20)
    sock.settimeout(timeout)
    errors = []

    def sender():
        try:
            sock.sendall(data)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while len(got) < len(data) and time.monotonic() < deadline:
            chunk = sock.recv(min(1 << 20, len(data) - len(got)))
            if not chunk:
                break
            got += chunk
    except OSError as e:
        errors.append(e)
    t.join(max(0.1, deadline - time.monotonic()))
    if errors and len(got) < len(data):
        raise Failure('echo of %d bytes: got %d bytes, then %r'
                      % (len(data), len(got), errors[0]))
    return bytes(got)


def echo_once(addr, data, timeout=None):
    """One connection: sends data, half-closes, expects exactly data and EOF."""
    with connect(addr) as s:
        got = roundtrip(s, data, timeout)
        expect(got == data, 'echo of %d bytes returned %d bytes%s'
               % (len(data), len(got), '' if len(got) != len(data)
                  else ' that differ'))
        s.shutdown(socket.SHUT_WR)
        rest = s.recv(1)
        expect(rest == b'', 'data after the echo: %r' % rest)


def closed_by_peer(sock, timeout):
    """Waits (bounded) until the peer closes or resets: True, or False."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if sock.recv(65536) == b'':
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def tcp_state(sock):
    """Linux tcpi_state: 1 ESTABLISHED, 7 CLOSE, 8 CLOSE_WAIT, ..."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def port_refuses(port, host='127.0.0.1'):
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    try:
        s = connect((family, (host, port)), timeout=T(2))
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    s.close()
    return False


class NotifySocket:
    """A datagram socket standing in for systemd's notification socket;
    NOTIFY_SOCKET names it (env_value, e.g. "@name" for an abstract
    address) while the `with` block runs, so the servers started there
    talk to it."""

    def __init__(self, address, env_value=None):
        self.env_value = env_value or address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.setblocking(False)
        self.messages = []

    def poll(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return
            self.messages.append(dict(
                line.split('=', 1) for line in data.decode().split('\n')
                if '=' in line))

    def wait(self, key, value=None, after=0, timeout=None):
        """Index of the first message after `after` holding key (=value)."""
        def found():
            self.poll()
            for i, msg in enumerate(self.messages[after:], after):
                if key in msg and (value is None or msg[key] == value):
                    return i + 1
            return None
        i = wait_until(found, timeout or T(20))
        expect(i, 'no %s%s message within %gs; got %s'
               % (key, '=' + value if value else '', timeout or T(20),
                  self.messages[after:]))
        return i - 1

    def __enter__(self):
        self.old = os.environ.get('NOTIFY_SOCKET')
        os.environ['NOTIFY_SOCKET'] = self.env_value
        return self

    def __exit__(self, *exc):
        if self.old is None:
            del os.environ['NOTIFY_SOCKET']
        else:
            os.environ['NOTIFY_SOCKET'] = self.old
        self.sock.close()


# ---------------------------------------------------------------- commands

def run(argv, timeout=None, cwd=None, stdin=subprocess.DEVNULL,
        preexec_fn=None, env=None):
    """Runs argv (stdout/stderr to files, so a leaked daemon cannot hold a
    pipe); returns (exit status, stdout, stderr).  preexec_fn runs in the
    child before the exec (to change its user, say); env, if given, is
    its whole environment."""
    timeout = timeout if timeout is not None else T(30)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=stdin,
                             cwd=cwd, preexec_fn=preexec_fn, env=env)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Failure('%s did not finish within %gs'
                          % (' '.join(argv), timeout))
        out.seek(0)
        err.seek(0)
        return (rc, out.read().decode(errors='replace'),
                err.read().decode(errors='replace'))


LISTEN_RE = re.compile(r'server (\S+): listening on (\S+)')
STARTED_RE = r'server %s: worker (\d+) started \(generation (\d+)\)'


class Server:
    """One preforkd instance: its config, its processes, its log."""

    def __init__(self, test, name, servers=None, **globals_):
        self.test = test
        self.name = name
        self.dir = os.path.join(test.dir, name)
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, 'preforkd.conf')
        self.pidfile = os.path.join(self.dir, 'preforkd.pid')
        self.log = os.path.join(self.dir, 'error.log')
        self.globals = dict(pidfile=self.pidfile, error_log=self.log,
                            log_level='debug', shutdown_timeout=5)
        self.globals.update(globals_)
        self.servers = servers or [{}]
        self.start_mark = 0     # log size when the last start began
        self.proc = None        # Popen of a foreground master
        self.master = None
        self.addrs = {}
        self.seen = set()       # every pid of ours seen, killed at cleanup
        self.write_conf()

    # -- configuration
    def conf_text(self, servers=None, **globals_):
        g = dict(self.globals)
        g.update(globals_)
        lines = []
        for k, v in g.items():
            if v is not None:
                lines.append('%s = %s' % (k.replace('_', '-'), conf_value(v)))
        for i, s in enumerate(servers or self.servers):
            opts = dict(name='echo' if i == 0 else 'echo%d' % i,
                        listen='127.0.0.1:0', handler='echo', workers=2,
                        timeout=60)
            opts.update(s)
            lines.append('server %s {' % opts.pop('name'))
            for k, v in opts.items():
                lines.append('  %s = %s' % (k.replace('_', '-'), conf_value(v)))
            lines.append('}')
        return '\n'.join(lines) + '\n'

    def write_conf(self, text=None, servers=None, **globals_):
        if servers is not None:
            self.servers = servers
        write_file(self.conf, text if text is not None
                   else self.conf_text(**globals_))

    # -- starting
    def start(self, ready=True, extra=(), wrapper=(), env=None):
        """Starts a foreground master (-n); waits for `ready:` if asked.
        A wrapper command (unshare, valgrind) must run the binary in its
        own process, so that its pid is the master's.  env, if given, is
        the master's whole environment."""
        self.start_mark = self.mark()
        self.out = open(os.path.join(self.dir, 'stdout'), 'wb')
        self.err = open(os.path.join(self.dir, 'stderr'), 'wb')
        self.proc = subprocess.Popen(
            list(wrapper) + [BINARY, '-n', '-f', self.conf] + list(extra),
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err,
            cwd=self.dir, env=env)
        self.master = self.proc.pid
        self.seen.add(self.master)
        if ready:
            self.wait_ready()
        return self

    def wait_ready(self, generation=1):
        pattern = r'ready: generation %d, \d+ workers?' % generation
        ok = wait_until(lambda: self.find(pattern, self.start_mark) or
                        (self.proc and self.proc.poll() is not None), T(20))
        if self.proc and self.proc.poll() is not None:
            raise Failure('master exited with %s during start-up; stderr: %s'
                          % (self.proc.returncode, self.stderr()[-800:]))
        expect(ok, 'no "%s" in the log within %gs' % (pattern, T(20)))
        self.parse_addrs()

    def start_daemon(self, extra=()):
        """Runs the daemon launcher; (status, stdout, stderr).  On success
        the master's pid is read from the pidfile at once."""
        self.start_mark = self.mark()
        rc, out, err = run([BINARY, '-f', self.conf] + list(extra),
                           cwd=self.dir)
        if rc == 0:
            pid = read_file(self.pidfile)
            expect(pid and pid.strip().isdigit(),
                   'daemon returned 0 but pidfile holds %r' % pid)
            self.master = int(pid)
            self.seen.add(self.master)
            self.parse_addrs()
        return rc, out, err

    def stderr(self):
        return read_file(os.path.join(self.dir, 'stderr')) or ''

    # -- log
    def log_text(self):
        return read_file(self.log) or ''

    def mark(self):
        return len(self.log_text())

    def find(self, pattern, since=0):
        return list(re.finditer(pattern, self.log_text()[since:]))

    def wait_log(self, pattern, since=0, timeout=None):
        timeout = timeout if timeout is not None else T(15)
        found = wait_until(lambda: self.find(pattern, since), timeout)
        expect(found, 'no log line /%s/ within %gs' % (pattern, timeout))
        return found[0]

    def parse_addrs(self):
        for m in LISTEN_RE.finditer(self.log_text()[self.start_mark:]):
            self.addrs[m.group(1)] = m.group(2)

    def port(self, name='echo'):
        expect(name in self.addrs, 'no "server %s: listening on" in the log'
               % name)
        return int(self.addrs[name].rsplit(':', 1)[1])

    def addr(self, name='echo', host=None):
        """(family, sockaddr) to reach server `name`."""
        expect(name in self.addrs, 'no "server %s: listening on" in the log'
               % name)
        a = self.addrs[name]
        if a.startswith('unix:'):
            return socket.AF_UNIX, a[5:]
        h, p = a.rsplit(':', 1)
        h = host or {'*': '127.0.0.1', '0.0.0.0': '127.0.0.1'}.get(h, h)
        h = h.strip('[]')
        return (socket.AF_INET6 if ':' in h else socket.AF_INET), (h, int(p))

    def started(self, name='echo', since=0):
        """{pid: generation} from `worker PID started` lines."""
        return {int(m.group(1)): int(m.group(2))
                for m in self.find(STARTED_RE % name, since)}

    # -- processes
    def workers(self):
        expect(self.master is not None, 'no master')
        w = children(self.master)
        self.seen.update(w)
        return w

    def wait_workers(self, n, timeout=None, gone=()):
        """Waits until exactly n workers run and none of `gone` is alive."""
        timeout = timeout if timeout is not None else T(15)
        ok = wait_until(lambda: len(self.workers()) == n and
                        not any(alive(p) for p in gone), timeout)
        w = self.workers()
        expect(ok, 'expected %d workers%s within %gs; have %s%s'
               % (n, ' without %s' % sorted(gone) if gone else '', timeout,
                  w, '; still alive: %s' % [p for p in gone if alive(p)]
                  if gone else ''))
        return w

    def signal(self, sig):
        os.kill(self.master, sig)

    def ctl(self, action, conf=None, timeout=None, env=None):
        return run([BINARY, '-s', action, '-f', conf or self.conf],
                   timeout=timeout, env=env)

    def wait_exit(self, timeout=None):
        """Waits for the master to end: its exit status (foreground), True
        (daemon), or None if it still runs after timeout."""
        timeout = timeout if timeout is not None else T(10)
        if self.proc is not None:
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        return True if wait_until(lambda: not alive(self.master),
                                  timeout) else None

    def running(self):
        return self.master is not None and alive(self.master)

    def leftovers(self):
        """Our processes still alive: seen pids and anything whose command
        line names this server's dir (workers of a lost master)."""
        return sorted({p for p in self.seen if alive(p)} |
                      set(pids_mentioning(self.dir + os.sep)))

    def stop(self, sig=None, timeout=None):
        """Stops the master, expecting exit 0 and nothing left running."""
        sig = sig or signal.SIGTERM
        timeout = timeout if timeout is not None else T(10)
        if self.running():
            self.workers()
            self.signal(sig)
        rc = self.wait_exit(timeout)
        expect(rc is not None, 'master %s still runs %gs after %s'
               % (self.master, timeout, signal.Signals(sig).name))
        expect(rc in (0, True), 'master exited with status %s' % rc)
        left = wait_until(lambda: not self.leftovers(), timeout)
        expect(left, 'still running after stop: %s' % self.leftovers())

    def cleanup(self):
        """Kills, by pid, everything this server started."""
        for _ in range(3):
            pids = self.leftovers()
            if self.master is not None and alive(self.master):
                pids = sorted(set(pids) | set(children(self.master)))
            if not pids:
                break
            for p in pids:
                kill(p)
            wait_until(lambda: not any(alive(p) for p in pids), T(5))
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def conf_value(v):
    """A Python value as libconfuse syntax."""
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return '{%s}' % ', '.join(conf_value(x) for x in v)
    return '"%s"' % v


class Test:
    """Runs named checks, prints `ok - name` / `not ok - name: reason`."""

    def __init__(self, name):
        os.makedirs(TMP_ROOT, exist_ok=True)
        self.dir = tempfile.mkdtemp(dir=TMP_ROOT, prefix=name + '.')
        self.servers = []
        self.failed = 0
        self.done = False
        # Sanitizer reports go to files, even from a daemon whose stderr
        # is /dev/null; finish() fails if any was written.
        self.reports = os.path.join(self.dir, 'sanitizer')
        os.makedirs(self.reports)
        for var, base in (('ASAN_OPTIONS', 'asan'), ('UBSAN_OPTIONS', 'ubsan')):
            opts = os.environ.get(var, '')
            os.environ[var] = '%s%slog_path=%s' % (
                opts, ':' if opts else '', os.path.join(self.reports, base))
        atexit.register(self.cleanup)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
        print('# %s: binary %s, tmp %s%s' % (name, BINARY, self.dir,
              ', sanitizer build' if SLOW > 1 else ''))
        sys.stdout.flush()

    def server(self, name, servers=None, **globals_):
        s = Server(self, name, servers, **globals_)
        self.servers.append(s)
        return s

    def check(self, name, fn, *args):
        """Runs fn(*args); a Failure or exception fails the check.  A string
        returned by fn is printed as a note."""
        try:
            note = fn(*args)
        except Failure as e:
            self._fail(name, str(e))
            return False
        except Exception as e:
            traceback.print_exc()
            self._fail(name, '%s: %s' % (type(e).__name__, e))
            return False
        print('ok - %s%s' % (name, ' # %s' % note if isinstance(note, str)
                             else ''))
        sys.stdout.flush()
        return True

    def _fail(self, name, reason):
        self.failed += 1
        print('not ok - %s: %s' % (name, reason.replace('\n', ' | ')))
        for s in self.servers:
            tail = s.log_text().splitlines()[-12:]
            if tail:
                print('#   %s log tail:' % s.name)
                for line in tail:
                    print('#     ' + line)
        sys.stdout.flush()

    def cleanup(self):
        for s in self.servers:
            try:
                s.cleanup()
            except Exception:
                traceback.print_exc()

    def finish(self):
        """Stops what still runs, asserts nothing is left, exits 0 or 1."""
        def nothing_left():
            for s in self.servers:
                if s.running():
                    s.stop()
            # A daemon stopped by the test itself may still be exiting
            # (a sanitizer build checks for leaks on the way out).
            wait_until(lambda: not any(s.leftovers() for s in self.servers),
                       T(5))
            left = {s.name: s.leftovers() for s in self.servers
                    if s.leftovers()}
            expect(not left, 'processes still running: %s' % left)
        self.check('nothing left running', nothing_left)
        self.cleanup()

        def no_reports():
            found = sorted(os.listdir(self.reports))
            if found:
                first = read_file(os.path.join(self.reports, found[0])) or ''
                raise Failure('%s; %s' % (', '.join(found), ' | '.join(
                    l for l in first.split('\n')[:8] if l.strip())))
        self.check('no sanitizer reports', no_reports)
        if self.failed == 0:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print('# %d check(s) failed; files kept in %s'
                  % (self.failed, self.dir))
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)

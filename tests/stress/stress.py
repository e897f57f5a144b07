#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""preforkd's fault harness (see tests/stress/README).

Starts the real binary in the foreground with a generated configuration
(an http and an echo server on loopback ports), runs a load client that
checks every response byte for byte and counts every connection's fate,
and injects one fault after another, each while the load runs, so a
failure belongs to one fault.  A failure the fault itself dooms (a request
in flight to a worker killed with -9) is counted as such, with the reason;
any other failure, and any wrong byte ever, fails the run.

Environment (set by `make stress`):
  PREFORKD           the binary
  PREFORKD_TEST_TMP  where to write
  STRESS_MODE        short (the default, under two minutes) or long (an hour)
  STRESS_SECONDS     another length of the fault cycles, in seconds
"""
import collections
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, '..', 'system'))
sys.path.insert(0, HERE)
from harness import SLOW, T, Test, expect, pids_mentioning, wait_until, \
    write_file
from test_http_util import http_conf_text
from load import LOAD_FILES, RESET_FILE, STALL_FILE, Load, Stats, \
    Doom, classify
from faults import FAULTS, fault_kill_master, fault_none, fd_count, \
    mount, rss_kib, socket_inodes, tcp_rows

MODE = os.environ.get('STRESS_MODE') or 'short'
# (seconds the cycles of faults go on for, at least one cycle; seconds of
# load per phase; HUPs per storm)
MODES = {'short': (0, 7, 100), 'long': (3600, 60, 100)}

# Known issues: a check named here that fails is reported as such (a TODO
# line with the failure), not counted as a failure.  Each entry says where
# the issue is tracked; remove it when that lands.
KNOWN = {}


# ---------------------------------------------------------------- the run

class Stress:
    def __init__(self, t):
        self.t = t
        total, self.phase_seconds, self.hups = MODES[MODE]
        if os.environ.get('STRESS_SECONDS'):
            total = int(os.environ['STRESS_SECONDS'])
        self.total = total
        self.seed = int(os.environ.get('STRESS_SEED') or time.time())
        self.rng = random.Random(self.seed)
        self.srv = t.server('stress', log_level='info', shutdown_timeout=5)
        # Thousands of workers come and go: their pids are reused by other
        # processes, so ours are only those whose command line names our
        # configuration (the harness's own list would take in strangers,
        # and its cleanup would kill them).
        self.srv.leftovers = lambda: pids_mentioning(self.srv.conf)
        self.dir = self.srv.dir
        self.root = os.path.join(self.dir, 'www')
        self.logs = os.path.join(self.dir, 'logs')
        self.mounted = []
        self.figures = []       # (phase, sent, correct, doomed, failed,
        #                          unanswered)
        self.known = 0
        os.makedirs(self.logs)
        # STRESS_NO_MOUNT=1 runs the substitutes used where mount fails.
        self.tmpfs = not os.environ.get('STRESS_NO_MOUNT') and \
            self.try_mount('-t', 'tmpfs', '-o', 'size=48m,mode=0755',
                           'preforkd-stress', self.logs)
        self.make_docroot()
        self.ports = {'www': 0, 'echo': 0}
        self.write_conf()

    # -- set-up
    def try_mount(self, *argv):
        if os.geteuid() != 0:
            return False
        p = mount(*argv)
        if p.returncode == 0:
            self.mounted.append(argv[-1])
            return True
        print('# mount %s: %s' % (' '.join(argv), p.stderr.strip()))
        return False

    def unmount_all(self):
        while self.mounted:
            path = self.mounted.pop()
            p = subprocess.run(['umount', path], capture_output=True,
                               text=True)
            if p.returncode != 0:
                print('# umount %s: %s' % (path, p.stderr.strip()))

    def make_docroot(self):
        rng = random.Random(42)
        self.files = {name: rng.randbytes(size)
                      for name, size in LOAD_FILES.items()}
        self.files['sub/index.html'] = b'<html>index of sub</html>\n'
        extra = {name: rng.randbytes(size)
                 for name, size in (RESET_FILE, STALL_FILE)}
        for name, data in list(self.files.items()) + list(extra.items()):
            path = os.path.join(self.root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)
        # Workers may run as another user: let them in.
        for d in (self.dir, self.root, os.path.join(self.root, 'sub')):
            os.chmod(d, 0o755)

    def servers(self, www=None, extra=()):
        http = dict(root=self.root, access_log=os.path.join(self.logs,
                                                            'access.log'),
                    header_timeout=2, keepalive_timeout=2)
        http.update(www or {})
        return [dict(name='www', listen='127.0.0.1:%d' % self.ports['www'],
                     workers=6, timeout=4, http=http),
                dict(name='echo', handler='echo',
                     listen='127.0.0.1:%d' % self.ports['echo'], workers=2,
                     timeout=4)] + list(extra)

    def conf_text(self, **kw):
        return http_conf_text(self.srv, self.servers(**kw))

    def write_conf(self, text=None):
        """Atomically: the master never reads half a file."""
        tmp = self.srv.conf + '.new'
        write_file(tmp, text if text is not None else self.conf_text())
        os.rename(tmp, self.srv.conf)

    def start(self):
        self.srv.start()
        for name in self.ports:
            self.ports[name] = self.srv.port(name)
        # From now on the configuration names the ports it got, so a fresh
        # master binds the very same ones.
        self.write_conf()
        self.expected_workers = 8
        self.srv.wait_workers(self.expected_workers, T(20))

    def addr(self, name):
        return ('127.0.0.1', self.ports[name])

    def unmount_all_but_tmpfs(self):
        while len(self.mounted) > (1 if self.tmpfs else 0):
            path = self.mounted.pop()
            r = subprocess.run(['umount', path], capture_output=True,
                               text=True)
            expect(r.returncode == 0, 'umount %s: %s' % (path, r.stderr))

    def www_workers(self):
        """Workers of the www server: those holding its listener."""
        www = {r[2] for r in tcp_rows()
               if r[0] == self.ports['www'] and r[1] == 0}
        return [w for w in self.srv.workers() if socket_inodes(w) & www]

    def stable_fds(self, w):
        """Worker w's descriptors but for a connection it serves and the
        file it sends: {fd: target}."""
        conns = {r[2] for r in tcp_rows()
                 if r[0] in self.ports.values() and r[1] != 0}
        out = {}
        try:
            names = os.listdir('/proc/%d/fd' % w)
        except OSError:
            return out
        for name in names:
            try:
                target = os.readlink('/proc/%d/fd/%s' % (w, name))
            except OSError:
                continue
            if target.startswith('socket:[') and \
                    int(target[8:-1]) in conns:
                continue
            if target.startswith(self.root + os.sep):
                continue
            out[int(name)] = target
        return out

    def fd_kinds(self, w):
        """What worker w holds (sockets without their inode), sorted."""
        return sorted('socket' if t.startswith('socket:') else t
                      for t in self.stable_fds(w).values())

    def worker_fd_kinds(self):
        """What the worker holding the most descriptors holds."""
        return max((self.fd_kinds(w) for w in self.srv.workers()), key=len,
                   default=[])

    def workers_holding_more(self, kinds):
        """{worker: {fd: target}} of workers holding more than kinds."""
        out = {}
        for w in self.srv.workers():
            extra = collections.Counter(self.fd_kinds(w)) - \
                collections.Counter(kinds)
            if extra:
                out[w] = {fd: t for fd, t in self.stable_fds(w).items()
                          if ('socket' if t.startswith('socket:') else t)
                          in extra}
        return out

    def emfile_limit(self, w):
        """An RLIMIT_NOFILE for worker w that leaves it one descriptor
        when idle: the accepted socket takes it, the file finds none.  A
        connection and a file it holds right now do not count."""
        used = set(self.stable_fds(w))
        fd = 0
        while fd in used:
            fd += 1
        return fd + 1

    # -- checks shared by the phases
    def settle(self, what):
        """The pools back at their size, every worker alive."""
        self.srv.wait_workers(self.expected_workers, T(30))

    def worker_exits(self, since, allowed=()):
        """Log lines of workers that died, but for `allowed` pids."""
        out = []
        for m in self.srv.find(r'[^\n]*worker (\d+) (exited on signal|'
                               r'exited with status|busy for)[^\n]*', since):
            if int(m.group(1)) not in allowed:
                out.append(m.group(0)[-160:])
        return out

    def trim_access_log(self):
        """Empties a large access log in place, as logrotate's copytruncate
        does (workers append), so that the load alone never fills the
        log file system in the long mode."""
        access = os.path.join(self.logs, 'access.log')
        if os.path.exists(access) and os.path.getsize(access) > 8 << 20:
            os.truncate(access, 0)

    def phase(self, name, fn, seconds):
        """Runs fault fn under load for a phase, then judges it: every
        response right, every failure doomed by the fault, no worker lost
        that the fault did not kill."""
        self.trim_access_log()
        stats = Stats(name)
        mark = self.srv.mark()
        self.load.stats = stats
        started = time.monotonic()
        p = PhaseContext(self, stats, mark, seconds)
        detail = fn(p)
        self.subchecks = p.subchecks
        # Connections started in the phase count in it: wait for them.
        self.load.stats = Stats('between')
        wait_until(lambda: stats.active == 0, T(60))
        took = time.monotonic() - started
        expected, unexpected, examples = classify(stats, p.dooms)
        sent = sum(stats.sent.values())
        correct = sum(stats.correct.values())
        doomed = sum(expected.values())
        failed = sum(unexpected.values())
        self.figures.append((name, sent, correct, doomed, failed,
                             stats.unanswered))
        print('# %s (%.1fs): %s' % (name, took, detail))
        print('#   requests sent %d (%s), answered correctly %d, doomed '
              'by the fault %d, failed %d%s' % (
                  sent, ', '.join('%s %d' % kv for kv in
                                  sorted(stats.sent.items())),
                  correct, doomed, failed,
                  ', unanswered after Connection: close %d'
                  % stats.unanswered if stats.unanswered else ''))
        for (label, reason), n in sorted(expected.items()):
            print('#   doomed: %d %s (%s)' % (n, reason, label))
        for reason, n in sorted(unexpected.items()):
            print('#   FAILED: %d %s' % (n, reason))
        for e in examples:
            print('#     e.g. %s' % e)
        print('#   connections: %s' % ', '.join(
            '%s %d' % kv for kv in sorted(stats.fates.items())))
        for k, v in sorted(stats.extra.items()):
            print('#   fault clients: %s %d' % (k, v))
        sys.stdout.flush()
        expect(not unexpected, '%d failed request(s): %s' % (
            failed, '; '.join(examples)))
        expect(correct > 0, 'no request answered correctly')
        expect(sent == correct + doomed + failed + stats.unanswered,
               'requests unaccounted for: sent %d, correct %d, doomed %d, '
               'failed %d, unanswered %d' % (sent, correct, doomed, failed,
                                             stats.unanswered))
        lost = self.worker_exits(mark, p.killed)
        expect(not lost, 'workers lost: %s' % ' | '.join(lost[:4]))
        return detail


class PhaseContext:
    """What one fault needs: the run, its Stats, its dooms."""

    def __init__(self, run, stats, mark, seconds):
        self.run = run
        self.srv = run.srv
        self.stats = stats
        self.mark = mark
        self.seconds = seconds
        self.dooms = []
        self.killed = set()     # worker pids the fault killed
        self.subchecks = []     # (name, fn): checks of their own
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.0, self.end - time.monotonic())

    def load_for(self, seconds):
        """Lets the load run: a pause that waits for no condition."""
        if seconds > 0:
            time.sleep(seconds)

    def doom(self, *a, **kw):
        d = Doom(*a, **kw)
        self.dooms.append(d)
        return d


# ---------------------------------------------------------------- main

def check(run, name, fn, *args, known=None):
    """t.check; but a failure of a KNOWN check is a TAP TODO line, shown
    with its failure and not counted as one."""
    if (known or name) not in KNOWN:
        return run.t.check(name, fn, *args)
    reason = KNOWN[known or name]
    try:
        note = fn(*args)
    except Exception as e:
        run.known += 1
        print('not ok - %s # TODO known issue (%s): %s'
              % (name, reason, str(e).replace('\n', ' | ')))
        sys.stdout.flush()
        return False
    print('ok - %s # known issue (%s) did not show%s'
          % (name, reason, ': %s' % note if note else ''))
    return True


def master_figures(run):
    m = run.srv.master
    return fd_count(m), rss_kib(m)


def run_faults(run):
    secs = run.phase_seconds
    if not check(run, 'start', run.start):
        return
    run.load = Load(run.files, run.addr('www'), run.addr('echo'))
    run.load.start()
    check(run, 'baseline: no fault', run.phase, 'baseline', fault_none,
          min(secs, 3))
    before = master_figures(run)
    worker_fds = run.worker_fd_kinds()
    started = time.monotonic()
    cycle = 0
    rss = []        # the master's RSS after each cycle
    while cycle == 0 or time.monotonic() - started < run.total:
        cycle += 1
        for name, fn in FAULTS:
            label = name if cycle == 1 else '%s (cycle %d)' % (name, cycle)
            run.subchecks = []
            check(run, label, run.phase, label, fn, secs)
            for sub, subfn in run.subchecks:
                check(run, sub if cycle == 1 else '%s (cycle %d)' % (
                    sub, cycle), subfn, known=sub)
        rss.append(master_figures(run)[1])

    def no_leak():
        # The master's descriptors come back to what they were once the
        # last retired workers are reaped.
        ok = wait_until(lambda: master_figures(run)[0] == before[0], T(15))
        now = master_figures(run)
        fds = run.worker_fd_kinds()
        print('# master %d: descriptors %d -> %d, RSS %d -> %d KiB (after '
              'each cycle: %s); most descriptors in a worker %d -> %d' % (
                  run.srv.master, before[0], now[0], before[1], now[1],
                  ' '.join(map(str, rss)), len(worker_fds), len(fds)))
        expect(ok, 'master holds %d descriptors, %d before the faults'
               % (now[0], before[0]))
        # A connection the client reset is in no TCP table until the
        # worker closes it: only what stays is a leak.
        clean = wait_until(lambda: not run.workers_holding_more(worker_fds),
                           T(10), 0.1)
        expect(clean, 'workers hold more than before the faults, for %gs: '
               '%s' % (T(10), run.workers_holding_more(worker_fds)))
        if SLOW > 1:
            return ('RSS not judged: ASan keeps freed memory in quarantine '
                    '(LeakSanitizer judges the fresh master at its exit)')
        # Reloads allocate and free a whole configuration each: the heap
        # keeps some at first, then a leak per reload is what grows.
        expect(now[1] - before[1] < 1024 + before[1] // 4,
               'master RSS grew from %d to %d KiB' % (before[1], now[1]))
        expect(rss[-1] - rss[0] < 256 + rss[0] // 20,
               'master RSS grew from %d KiB after the first cycle of '
               'faults to %d KiB after the last' % (rss[0], rss[-1]))
    check(run, 'no leak in the master or the workers', no_leak)
    check(run, 'kill -9 of the master', run.phase, 'kill -9 of the master',
          fault_kill_master, min(secs, 5))
    check(run, 'the fresh master serves', run.phase, 'after the restart',
          fault_none, min(secs, 3))


def figures_table(run):
    """Every phase's requests: sent = correct + doomed + failed + those
    pipelined behind a Connection: close, never answered (unanswered)."""
    row = '# %-34s %8s %8s %7s %7s %7s'
    print(row % ('phase', 'sent', 'correct', 'doomed', 'failed',
                 'unansw.'))
    for f in run.figures:
        print(row % ((f[0][:34],) + f[1:]))
    print(row % (('total',) + tuple(sum(f[i] for f in run.figures)
                                    for i in range(1, 6))))


def main():
    if MODE not in MODES:
        sys.exit('stress.py: STRESS_MODE=%s: short or long' % MODE)
    t = Test('stress')
    counts = collections.Counter()
    plain_check = t.check

    def counted(name, fn, *args):
        ok = plain_check(name, fn, *args)
        counts[ok] += 1
        return ok
    t.check = counted
    run = Stress(t)
    print('# mode %s (seed %d): %s, %ds of load per phase; logs on %s' % (
              MODE, run.seed, 'cycles of faults for %ds' % run.total
              if run.total else 'one cycle of faults', run.phase_seconds,
              'a 48 MiB tmpfs' if run.tmpfs else 'the build dir (no tmpfs: '
              'the full disk is an RLIMIT_FSIZE)'))
    sys.stdout.flush()
    try:
        run_faults(run)
    finally:
        if getattr(run, 'load', None):
            check(run, 'load client stopped', run.load.stop)
        figures_table(run)

        def stopped():
            if run.srv.running():
                run.srv.stop()
            left = run.srv.leftovers()
            print('# processes left: %d' % len(left))
            expect(not left, 'still running: %s' % left)
        check(run, 'master stopped, nothing left running', stopped)
        run.srv.cleanup()
        run.unmount_all()
    try:
        t.finish()
    except SystemExit as e:
        print('# stress: %d passed, %d failed, %d known issue(s)'
              % (counts[True], counts[False], run.known))
        raise e


if __name__ == '__main__':
    main()

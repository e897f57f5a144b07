# SPDX-License-Identifier: BSD-2-Clause
"""-s reload answers every requester exactly once with the true outcome:
two requests that reach a busy master together both succeed (two SIGHUPs
would merge into one), and a reload superseded by a newer one of the same
file answers its requester with the newer one's outcome."""
import os
import shutil
import signal
import socket
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Failure, Test, skipped, echo_once, expect, proc_stat,
                     read_file, wait_until)

GEN_RE = r'reload: generation (\d+) serving'


class Requester:
    """A -s reload running in the background."""

    def __init__(self, srv, name):
        self.out = os.path.join(srv.dir, name + '.out')
        self.err = os.path.join(srv.dir, name + '.err')
        with open(self.out, 'wb') as o, open(self.err, 'wb') as e:
            self.proc = subprocess.Popen(
                [BINARY, '-s', 'reload', '-f', srv.conf],
                stdin=subprocess.DEVNULL, stdout=o, stderr=e)
        srv.seen.add(self.proc.pid)

    def waiting(self):
        """True once it has asked and sleeps waiting for the answer: its
        reply socket is bound (it binds it before it asks) and it sleeps
        (it asks without sleeping, then waits in poll())."""
        name = '@preforkd-reload-%d' % self.proc.pid
        unix = read_file('/proc/net/unix') or ''
        st = proc_stat(self.proc.pid)
        return (st is not None and st[0] == 'S' and
                any(line.endswith(' ' + name) for line in unix.split('\n')))

    def result(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        return rc, read_file(self.out), read_file(self.err)


def both_answered(srv, reqs):
    for name, r in reqs:
        rc, out, err = r.result(T(20))
        expect(rc is not None, '%s got no answer within %gs' % (name, T(20)))
        expect(rc == 0, '%s exited %s: %s' % (name, rc, err.strip()))
        expect('generation' in out, '%s printed %r' % (name, out))


def merged_requests(srv):
    """Both requests arrive while the master is stopped."""
    mark = srv.mark()
    srv.write_conf(servers=[dict(workers=2)])
    os.kill(srv.master, signal.SIGSTOP)
    reqs = []
    try:
        expect(wait_until(lambda: proc_stat(srv.master)[0] == 'T', T(5)),
               'master %d did not stop' % srv.master)
        reqs = [('first', Requester(srv, 'first')),
                ('second', Requester(srv, 'second'))]
        ok = wait_until(lambda: all(r.waiting() for _, r in reqs), T(10))
        expect(ok, 'the requesters did not both ask within %gs' % T(10))
    finally:
        os.kill(srv.master, signal.SIGCONT)
    both_answered(srv, reqs)
    expect(srv.find(GEN_RE, mark), 'no reload logged as serving')
    echo_once(srv.addr(), b'after two requests')


def stop_at_open(srv, path, name):
    """Has strace stop the master (SIGSTOP) as it opens path; SIGCONT lets
    it go on.  Its output goes to NAME.out and NAME.err in srv.dir."""
    out = os.path.join(srv.dir, name + '.out')
    with open(os.path.join(srv.dir, name + '.err'), 'wb') as err:
        tracer = subprocess.Popen(
            ['strace', '-o', out, '-p', str(srv.master), '-P', path,
             '-e', 'trace=openat', '-e', 'inject=openat:signal=SIGSTOP:when=1'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    srv.seen.add(tracer.pid)
    return tracer


def superseded_request(srv, attempts=5):
    """The first reload is still starting when the second one arrives:
    strace stops the master as it opens the new access log, and the second
    request is made before it goes on.  Once it does, the first reload's
    workers could still all be ready before the master reads the second
    request (then nothing is superseded): so a few attempts."""
    if not shutil.which('strace'):
        raise Failure('strace not found: install strace')
    try:
        for attempt in range(attempts):
            log = os.path.join(srv.dir, 'access%d.log' % attempt)
            name = 'strace%d' % attempt
            tracer = stop_at_open(srv, log, name)
            # strace stays attached while the master is needed stopped: on
            # detaching it may let a stopped tracee run on.
            try:
                expect(wait_until(lambda: 'attached' in (read_file(
                    os.path.join(srv.dir, name + '.err')) or '') or
                    tracer.poll() is not None, T(10)) and
                    tracer.poll() is None,
                    'strace did not attach to master %d' % srv.master)
                mark = srv.mark()
                srv.write_conf(http_conf(srv, log))
                older = Requester(srv, 'older%d' % attempt)
                expect(wait_until(lambda: 'stopped by SIGSTOP' in (read_file(
                    os.path.join(srv.dir, name + '.out')) or ''), T(10)),
                    'the master was not stopped at open(%s)' % log)
                newer = Requester(srv, 'newer%d' % attempt)
                expect(wait_until(newer.waiting, T(10)), 'the newer request '
                       'was not made within %gs' % T(10))
            finally:
                tracer.terminate()
                tracer.wait()
                os.kill(srv.master, signal.SIGCONT)
            both_answered(srv, [('older', older), ('newer', newer)])
            echo_once(srv.addr(), b'after two reloads')
            if srv.find(r'superseded', mark):
                return 'superseded at attempt %d' % (attempt + 1)
        raise Failure('in %d attempts, no reload was still starting when '
                      'the next one arrived' % attempts)
    finally:
        srv.stop()


def signal_while_starting(srv, sig, name):
    """Sends sig to the master while a -s reload starts (strace stops the
    master as it opens the new access log, before any new worker runs):
    the master acts on sig in its next pass, the reload still starting
    then.  Returns the Requester and the log's mark before the reload."""
    if not shutil.which('strace'):
        raise Failure('strace not found: install strace')
    log = os.path.join(srv.dir, name + '-access.log')
    tracer = stop_at_open(srv, log, name + '-strace')
    try:
        expect(wait_until(lambda: 'attached' in (read_file(
            os.path.join(srv.dir, name + '-strace.err')) or '') or
            tracer.poll() is not None, T(10)) and tracer.poll() is None,
            'strace did not attach to master %d' % srv.master)
        mark = srv.mark()
        srv.write_conf(http_conf(srv, log))
        req = Requester(srv, name)
        expect(wait_until(lambda: 'stopped by SIGSTOP' in (read_file(
            os.path.join(srv.dir, name + '-strace.out')) or ''), T(10)),
            'the master was not stopped at open(%s)' % log)
        # Blocked until the master sleeps again: it comes after the reload.
        srv.signal(sig)
    finally:
        tracer.terminate()
        tracer.wait()
        os.kill(srv.master, signal.SIGCONT)
    return req, mark


def foreign_request(srv):
    """A request from a user who may not signal the master is ignored,
    and the requester told so at once, as `preforkd -s reload` listens:
    not left to wait for an outcome that never comes."""
    if os.geteuid() != 0:
        return skipped('not root: no other user to ask as')
    mark = srv.mark()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(b'\0preforkd-reload-%d' % os.getpid())
            s.settimeout(T(5))
            s.sendto(b'reload', b'\0preforkd-control-%d' % srv.master)
            code = 2
            if s.recv(1024).startswith(b'failed refused'):
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    expect(status != 256, 'the request as uid 65534 could not be sent')
    expect(status == 0, 'the requester as uid 65534 was not told it was '
           'refused (wait status %d)' % status)
    srv.wait_log(r'reload request from uid 65534 ignored', since=mark)
    expect(not srv.find(r'reloading configuration', mark),
           'the master reloaded for uid 65534')
    rc, out, err = srv.ctl('reload')
    expect(rc == 0, '-s reload as root exited %s: %s' % (rc, err.strip()))


def http_conf(srv, access_log):
    """Adds an http server whose workers take a while to be ready: its
    root lies 500 directories deep, and a worker resolves it at start
    (realpath() walks the path again for each component)."""
    root = os.path.join(srv.dir, *(['d'] * 500))
    os.makedirs(root, exist_ok=True)
    text = srv.conf_text(servers=[dict(workers=2)])
    return text + ('server www {\n  listen = "127.0.0.1:0"\n'
                   '  handler = "http"\n  workers = 4\n  http {\n'
                   '    root = "%s"\n    access-log = "%s"\n  }\n}\n'
                   % (root, access_log))


def main():
    t = Test('test_reload_requests')
    srv = t.server('requests', servers=[dict(workers=1)])
    if t.check('server starts', srv.start):
        t.check('two -s reload at once: both exit 0', merged_requests, srv)
        t.check('a reload request from another user is ignored',
                foreign_request, srv)
        t.check('-s reload superseded by a newer one: both exit 0',
                superseded_request, srv)
    t.finish()


if __name__ == '__main__':
    main()

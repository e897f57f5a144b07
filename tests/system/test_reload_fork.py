# SPDX-License-Identifier: BSD-2-Clause
"""A reload whose workers cannot be forked (RLIMIT_NPROC, pids.max, no
memory) fails after its start-up time with fork()'s own reason, and the
old generation serves on; once fork() works again, a reload succeeds.
strace makes every fork() of the master fail with EAGAIN."""
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Failure, Test, echo_once, expect, read_file, wait_until


def fail_forks(srv):
    """strace attached to the master alone: its clone()s (fork) fail."""
    out = os.path.join(srv.dir, 'strace.out')
    err_path = os.path.join(srv.dir, 'strace.err')
    with open(err_path, 'wb') as err:
        tracer = subprocess.Popen(
            ['strace', '-o', out, '-p', str(srv.master),
             '-e', 'trace=clone,clone3,fork,vfork',
             '-e', 'inject=clone,clone3,fork,vfork:error=EAGAIN'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    srv.seen.add(tracer.pid)
    expect(wait_until(lambda: 'attached' in (read_file(err_path) or '') or
                      tracer.poll() is not None, T(10)) and
           tracer.poll() is None,
           'strace did not attach to master %d' % srv.master)
    return tracer


def fork_fails(srv):
    if not shutil.which('strace'):
        raise Failure('strace not found: install strace')
    srv.start()
    old = sorted(srv.workers())
    tracer = fail_forks(srv)
    try:
        srv.write_conf(servers=[dict(workers=3)])
        mark = srv.mark()
        rc, out, err = srv.ctl('reload', timeout=T(90))
    finally:
        tracer.terminate()
        tracer.wait()
    want = ('new workers did not start in time (server echo: fork(): '
            'Resource '
            'temporarily unavailable)')
    expect(rc == 1 and want in err, '-s reload with fork() failing: exit '
           '%s, %r; wanted %r' % (rc, err.strip(), want))
    expect(srv.find(r'server echo: fork\(\): Resource temporarily '
                    r'unavailable', mark), 'the fork() error is not logged')
    expect(sorted(srv.workers()) == old, 'the old workers changed: %s -> %s'
           % (old, sorted(srv.workers())))
    echo_once(srv.addr(), b'old generation')
    rc, out, err = srv.ctl('reload', timeout=T(30))
    expect(rc == 0, 'the reload after it: exit %s, %r' % (rc, err.strip()))
    expect(wait_until(lambda: len(srv.workers()) == 3, T(10)),
           'not 3 workers after the good reload: %s' % srv.workers())
    echo_once(srv.addr(), b'new generation')
    srv.stop()
    return want


def main():
    t = Test('test_reload_fork')
    t.check('a reload whose fork()s fail says why; the old workers serve',
            fork_fails, t.server('fork', servers=[dict(workers=2)]))
    t.finish()


if __name__ == '__main__':
    main()

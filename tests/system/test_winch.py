# SPDX-License-Identifier: BSD-2-Clause
"""SIGWINCH: the master retires every worker gracefully and stays up
without workers until the next reload (used around a binary upgrade).
In the foreground it is ignored: a terminal resize sends WINCH too."""
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Test, alive, connect, echo_once, expect, proc_stat,
                     read_file, wait_until, write_file)


def winch_daemon(srv):
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    before = srv.wait_workers(2)
    mark = srv.mark()
    srv.signal(signal.SIGWINCH)
    srv.wait_log(r'SIGWINCH: retiring all workers', since=mark)
    expect(wait_until(lambda: not srv.workers(), T(10)),
           'workers still running after WINCH: %s' % srv.workers())
    expect(srv.running(), 'the master exited on WINCH')
    # Still no workers a moment later: nothing respawns them.
    expect(not wait_until(lambda: srv.workers(), T(1.5)),
           'workers were respawned after WINCH: %s' % srv.workers())
    # Nobody accepts: what queues meanwhile shows on the status page.
    waiting = [connect(srv.addr()) for _ in range(3)]
    try:
        def queue():
            rc, out, err = srv.ctl('status')
            m = re.search(r'queue (\d+) now', out)
            return m and int(m.group(1)) == 3 and out
        expect(wait_until(queue, T(5)), 'the status does not show the 3 '
               'queued connections: %s' % srv.ctl('status')[1])
    finally:
        for c in waiting:
            c.close()
    mark = srv.mark()
    rc, out, err = srv.ctl('reload', timeout=T(30))
    expect(rc == 0, '-s reload after WINCH exited %s: %s' % (rc, err))
    after = srv.wait_workers(2)
    expect(not set(after) & set(before), 'old workers came back')
    # Only the new generation's: the retired one is not started again
    # to be retired at once (a pool forked twice).
    old_gen = srv.find(r'worker \d+ started \(generation 1\)', mark)
    expect(not old_gen, 'the reload after WINCH started %d workers of the '
           'retired generation' % len(old_gen))
    echo_once(srv.addr(), b'after winch')
    srv.stop()


def winch_during_reload(srv):
    """A WINCH that comes while a reload's workers are starting wins: the
    reload fails, no worker serves.  It used to let that generation
    serve once ready, then never replace its workers (here, recycled
    after 2 connections each): clients waited until the next HUP."""
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    srv.wait_workers(2)
    mark = srv.mark()
    # Both reach the master in one pass: the reload starts, then WINCH.
    srv.signal(signal.SIGSTOP)
    try:
        expect(wait_until(lambda: proc_stat(srv.master)[0] == 'T', T(5)),
               'master %d did not stop' % srv.master)
        srv.signal(signal.SIGHUP)
        srv.signal(signal.SIGWINCH)
    finally:
        srv.signal(signal.SIGCONT)
    srv.wait_log(r'reload failed: SIGWINCH retired every worker; no '
                 r'generation serves until the next reload', since=mark)
    expect(wait_until(lambda: not srv.workers(), T(10)),
           'workers still running after WINCH: %s' % srv.workers())
    expect(not srv.find(r'generation 2 serving', mark), 'the reload '
           'begun before WINCH served')
    mark = srv.mark()
    srv.signal(signal.SIGHUP)
    srv.wait_log(r'reload: generation 3 serving', since=mark)
    for i in range(8):
        echo_once(srv.addr(), b'recycled and replaced %d' % i)
    srv.stop()


def winch_failed_reload(srv):
    """A reload after WINCH that fails (here, a file with an unknown
    option: what a roll-back to the old binary of an upgrade meets when
    the file was edited for the new one) brings the serving generation's
    workers back, as nginx does on HUP after WINCH.  Before, nothing
    served until a reload succeeded."""
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    srv.wait_workers(2)
    srv.signal(signal.SIGWINCH)
    expect(wait_until(lambda: not srv.workers(), T(10)),
           'workers still running after WINCH: %s' % srv.workers())
    good = read_file(srv.conf)
    write_file(srv.conf, good + 'only-the-new-binary-knows = 1\n')
    mark = srv.mark()
    # HUP: -s reload would refuse the file before signalling.
    srv.signal(signal.SIGHUP)
    srv.wait_log(r'reload failed: ', since=mark)
    expect(wait_until(lambda: len(srv.workers()) == 2, T(10)),
           'no workers after the failed reload: %s' % srv.workers())
    echo_once(srv.addr(), b'back')
    srv.wait_log(r'SIGWINCH ended by the failed reload: generation 1 '
                 r'starts its workers again', since=mark)
    srv.wait_log(r'reload failed: .*; generation 1 keeps serving',
                 since=mark)
    write_file(srv.conf, good)
    srv.stop()


def winch_drain_failed_reload(srv):
    """The same while WINCH still drains (drain-delay): the failed reload
    calls the drain off, so the workers are not retired when it would
    have ended.  Before, they were, and nothing served."""
    rc, out, err = srv.start_daemon()
    expect(rc == 0, 'daemon start exited %s: %s' % (rc, err))
    before = srv.wait_workers(2)
    mark = srv.mark()
    srv.signal(signal.SIGWINCH)
    srv.wait_log(r'draining for drain-delay', since=mark)
    good = read_file(srv.conf)
    write_file(srv.conf, good + 'only-the-new-binary-knows = 1\n')
    srv.signal(signal.SIGHUP)
    srv.wait_log(r'reload failed: ', since=mark)
    write_file(srv.conf, good)
    # Past the drain's end: the workers must still serve.
    expect(not wait_until(lambda: srv.find(r'SIGWINCH: retiring', mark),
                          3.5), 'the drain retired the workers after the '
           'failed reload')
    expect(srv.workers() == before, 'workers changed: %s -> %s'
           % (before, srv.workers()))
    echo_once(srv.addr(), b'still here')
    srv.stop()


def winch_foreground(srv):
    srv.start()
    before = srv.wait_workers(2)
    mark = srv.mark()
    srv.signal(signal.SIGWINCH)
    srv.wait_log(r'SIGWINCH ignored in the foreground', since=mark)
    expect(srv.workers() == before and all(alive(p) for p in before),
           'workers changed after WINCH in the foreground')
    echo_once(srv.addr(), b'still here')
    srv.stop()


def main():
    t = Test('test_winch')
    t.check('WINCH retires all workers, the master stays (showing what '
            'queues), HUP restores',
            winch_daemon, t.server('daemon'))
    t.check('WINCH while a reload starts: the reload fails, HUP restores',
            winch_during_reload, t.server('pending', servers=[dict(
                workers=2, max_requests=2)]))
    t.check('a reload after WINCH that fails brings the workers back',
            winch_failed_reload, t.server('failed'))
    t.check('a reload that fails while WINCH drains calls the drain off',
            winch_drain_failed_reload, t.server('drainfail', drain_delay=2))
    t.check('WINCH is ignored in the foreground', winch_foreground,
            t.server('foreground'))
    t.finish()


if __name__ == '__main__':
    main()

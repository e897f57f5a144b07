#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""health-path and drain-delay: the health path answers 200 while serving
and 503 from the moment QUIT (or WINCH) arrives; for drain-delay seconds
the workers serve on normally and the listeners stay open (http and echo
alike), then the graceful stop (or the retirement) goes on; a reload after
WINCH, or during its delay, answers 200 again.  A reload during the
delay of QUIT is refused, and one still starting when QUIT comes is
abandoned: the master leaves once the delay ends.  During a binary
upgrade, once the new master serves, WINCH and QUIT to the old one do
not drain: the health path stays 200.  Bad values are refused with
FILE:LINE."""
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, children, echo_once, expect,
                     run, wait_until)
from test_http_util import get, http_server, make_tree
from test_reload_requests import signal_while_starting

# Checks run inside it (a reload, an strace attach): stretched with the
# build's slowness, so that they never outlast it.
DELAY = int(T(3))


def within_delay(began):
    expect(time.monotonic() - began < DELAY, 'the checks took longer than '
           'drain-delay: the machine is too slow for this test')


def stops_after_delay(srv, began):
    """The master serves through drain-delay, then exits 0: seconds since
    began (QUIT)."""
    expect(srv.running(), 'the master left during drain-delay')
    rc = srv.wait_exit(T(DELAY + 15))
    expect(rc == 0, 'master exit %r' % rc)
    took = time.monotonic() - began
    expect(took >= DELAY, 'the master exited %.2f s after QUIT, before '
           'drain-delay (%d s)' % (took, DELAY))
    return took


def main():
    t = Test('test_drain')
    root = os.path.join(t.dir, 'root')
    make_tree(root, {'a.txt': 'alpha\n'})
    servers = [
        dict(name='www', http=dict(root=root, access_log='off',
                                   health_path='/healthz')),
        dict(name='echo', handler='echo'),
    ]
    srv = http_server(t, 'quit', servers, drain_delay=DELAY)
    srv.start()

    def health(s, want):
        r = get(s, '/healthz')
        expect(r.status == want, '/healthz: %d, want %d' % (r.status, want))
        return r

    def turns(s, want):
        """The health path answers want within a bounded wait (the master
        acts on the signal in its next pass)."""
        last = []
        ok = wait_until(lambda: last.append(get(s, '/healthz')) or
                        last[-1].status == want, T(5), interval=0.05)
        expect(ok, '/healthz still %d, want %d' % (last[-1].status, want))
        return last[-1]

    def serving():
        r = health(srv, 200)
        expect(r.body == b'ok\n', 'body %r' % r.body)
        expect(r.header('Cache-Control') == 'no-store',
               'Cache-Control: %r' % r.header('Cache-Control'))
    t.check('health-path answers 200 while serving', serving)

    def quit_drains():
        began = time.monotonic()
        srv.signal(signal.SIGQUIT)
        r = turns(srv, 503)
        expect(r.body == b'draining\n', 'body %r' % r.body)
        # Well within the delay: everything else is served as usual.
        for _ in range(3):
            expect(get(srv, '/a.txt').status == 200, 'a.txt not served')
            echo_once(srv.addr('echo'), b'ping')
            health(srv, 503)
        within_delay(began)
        # The stop has begun (systemd was told STOPPING=1): no upgrade.
        mark = srv.mark()
        srv.signal(signal.SIGUSR2)
        srv.wait_log(r'SIGUSR2 refused: the master is shutting down',
                     since=mark)
        took = stops_after_delay(srv, began)
        return 'stopped %.1f s after QUIT' % took
    t.check('QUIT: 503 at once, serving on for drain-delay (no upgrade '
            'then), then the stop', quit_drains)

    # A reload during the drain of a stop is refused, as after it: the
    # master leaves once the delay ends, whatever generation serves.
    r = http_server(t, 'refuse', servers, drain_delay=DELAY)

    def reload_refused():
        r.start()
        mark = r.mark()
        began = time.monotonic()
        rc, out, err = r.ctl('quit')
        expect(rc == 0, '-s quit: %s %s' % (rc, err))
        r.wait_log(r'draining for drain-delay', since=mark)
        rc, out, err = r.ctl('reload')
        expect(rc == 1 and out == '' and err ==
               'preforkd: reload failed: the master is shutting down\n',
               '-s reload during the drain: %s %r %r' % (rc, out, err))
        r.wait_log(r'reload refused: the master is shutting down',
                   since=mark)
        hup = r.mark()
        r.signal(signal.SIGHUP)
        r.wait_log(r'reload refused: the master is shutting down',
                   since=hup)
        within_delay(began)
        health(r, 503)
        took = stops_after_delay(r, began)
        expect(not r.find(r'reloading configuration|generation 2', mark),
               'a reload ran during the drain:\n%s' % r.log_text()[mark:])
        return 'stopped %.1f s after QUIT' % took
    t.check('-s reload and SIGHUP during the drain of QUIT: refused, the '
            'stop goes on', reload_refused)

    # A reload still starting when QUIT comes is abandoned at once, as
    # without a drain-delay: it would serve only until the stop.
    p = t.server('pending', servers=[dict(workers=1)], drain_delay=DELAY)

    def pending_abandoned():
        p.start()
        began = time.monotonic()
        req, mark = signal_while_starting(p, signal.SIGQUIT, 'pending')
        rc, out, err = req.result(T(20))
        expect(rc == 1 and out == '' and err == 'preforkd: reload failed: '
               'the master is shutting down\n',
               '-s reload: %s %r %r' % (rc, out, err))
        expect(time.monotonic() - began < DELAY, 'the reload was answered '
               'after drain-delay: the machine is too slow for this test')
        p.wait_log(r'draining for drain-delay', since=mark)
        # The first generation serves on until the stop.
        echo_once(p.addr(), b'during the drain')
        rc = p.wait_exit(T(DELAY + 15))
        expect(rc == 0, 'master exit %r' % rc)
        expect(not p.find(r'reload: generation 2 serving', mark),
               'the reload served during the drain:\n%s'
               % p.log_text()[mark:])
    t.check('QUIT with drain-delay abandons a reload still starting',
            pending_abandoned)

    # WINCH is ignored in the foreground: this one runs as a daemon.
    w = http_server(t, 'winch', servers, drain_delay=DELAY)

    def winch():
        rc, out, err = w.start_daemon()
        expect(rc == 0, 'start: %s %s' % (rc, err))
        health(w, 200)
        mark = w.mark()
        began = time.monotonic()
        w.signal(signal.SIGWINCH)
        turns(w, 503)
        expect(get(w, '/a.txt').status == 200, 'a.txt not served')
        w.wait_log(r'SIGWINCH: retiring all workers', since=mark,
                   timeout=T(DELAY + 15))
        took = time.monotonic() - began
        expect(took >= DELAY - 0.1, 'workers retired %.2f s after WINCH'
               % took)
        expect(wait_until(lambda: not w.workers(), T(15)),
               'workers still running: %s' % w.workers())
        rc, out, err = w.ctl('reload')
        expect(rc == 0, '-s reload: %s %s' % (rc, err))
        turns(w, 200)
    t.check('WINCH: 503, serving for drain-delay, then retiring; a reload '
            'serves again with 200', winch)

    # An upgrade: WINCH and QUIT retire the old master while the new one
    # accepts on the same sockets, so the instance is not leaving.
    u = http_server(t, 'upgrade', servers, drain_delay=DELAY)

    def upgrade():
        rc, out, err = u.start_daemon()
        expect(rc == 0, 'start: %s %s' % (rc, err))
        old = u.master
        mark = u.mark()
        os.kill(old, signal.SIGUSR2)
        m = u.wait_log(r'upgrade: new master (\d+) serving', mark, T(30))
        new = int(m.group(1))
        u.seen.add(new)
        seen, errors, stop = [], [], threading.Event()

        def poll():
            while not stop.is_set():
                try:
                    seen.append(get(u, '/healthz').status)
                except Exception as e:
                    errors.append('%s: %s' % (type(e).__name__, e))
        th = threading.Thread(target=poll, daemon=True)
        th.start()
        try:
            began = time.monotonic()
            os.kill(old, signal.SIGWINCH)
            expect(wait_until(lambda: children(old) == [new], T(DELAY + 15)),
                   'old workers still run after WINCH: %s' % children(old))
            retired = time.monotonic() - began
            os.kill(old, signal.SIGQUIT)
            expect(wait_until(lambda: not alive(old), T(DELAY + 15)),
                   'the old master still runs after QUIT')
            u.master = new
            took = time.monotonic() - began
            time.sleep(0.2)
        finally:
            stop.set()
            th.join(T(10))
        expect(not errors, 'health checks failed: %s' % errors[:3])
        expect(seen and all(st == 200 for st in seen), '/healthz answered '
               '%s during the upgrade' % sorted(set(seen)))
        expect(took < DELAY, 'the old master left %.2f s after WINCH: it '
               'waited for drain-delay (%d s)' % (took, DELAY))
        u.stop(signal.SIGQUIT)
        return ('%d health checks, all 200; old workers gone after %.2f s, '
                'old master after %.2f s' % (len(seen), retired, took))
    t.check('upgrade: WINCH and QUIT to the old master while the new one '
            'serves: no drain, the health path stays 200', upgrade)

    def reload_in_winch_drain():
        mark = w.mark()
        w.signal(signal.SIGWINCH)
        turns(w, 503)
        rc, out, err = w.ctl('reload')
        expect(rc == 0, '-s reload during the drain of WINCH: %s %s'
               % (rc, err))
        health(w, 200)
        expect(not w.find(r'reload refused', mark), 'the reload was refused')
        # The retirement was called off: the workers serve on.
        time.sleep(DELAY + 0.5)
        expect(not w.find(r'SIGWINCH: retiring all workers', mark),
               'the workers retired after the reload')
        health(w, 200)
    t.check('a reload during the drain of WINCH is not refused: it calls '
            'the retirement off', reload_in_winch_drain)

    def second_quit():
        mark = w.mark()
        began = time.monotonic()
        w.signal(signal.SIGQUIT)
        w.wait_log(r'draining for drain-delay', since=mark)
        w.signal(signal.SIGQUIT)
        expect(w.wait_exit(T(15)) is not None, 'still running')
        took = time.monotonic() - began
        expect(took < DELAY, 'a second QUIT did not end the delay (%.1f s)'
               % took)
    t.check('a second QUIT ends the delay', second_quit)

    def bad(text, pattern):
        path = os.path.join(t.dir, 'bad.conf')
        with open(path, 'w') as f:
            f.write(text)
        rc, out, err = run([BINARY, '-t', '-f', path])
        expect(rc == 1 and re.search(pattern, err), '-t: %s %r' % (rc, err))

    base = ('pidfile = "p"\nserver www {\n listen = "127.0.0.1:0"\n'
            ' http {\n  root = "%s"\n' % root)
    t.check('health-path must be a plain path', bad,
            base + '  health-path = "healthz"\n }\n}\n',
            r'bad\.conf:6: health-path \'healthz\' must be a plain path')
    t.check('health-path must differ from status-path', bad,
            base + '  status-path = "/s"\n  health-path = "/s"\n }\n}\n',
            r'bad\.conf:7: health-path \'/s\' is also the status-path')
    t.check('drain-delay must be 0..3600', bad,
            'drain-delay = 3601\n' + base + ' }\n}\n',
            r'bad\.conf:1: drain-delay must be 0\.\.3600')
    t.finish()


main()

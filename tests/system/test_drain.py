#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""health-path and drain-delay: the health path answers 200 while serving
and 503 from the moment QUIT (or WINCH) arrives; for drain-delay seconds
the workers serve on normally and the listeners stay open (http and echo
alike), then the graceful stop (or the retirement) goes on; a reload after
WINCH answers 200 again; bad values are refused with FILE:LINE."""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, echo_once, expect, run, wait_until, BINARY
from test_http_util import get, http_server, make_tree

DELAY = 3


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
        expect(time.monotonic() - began < DELAY, 'the checks took longer '
               'than drain-delay: the machine is too slow for this test')
        expect(srv.running(), 'the master left during drain-delay')
        rc = srv.wait_exit(T(DELAY + 15))
        expect(rc == 0, 'master exit %r' % rc)
        took = time.monotonic() - began
        expect(took >= DELAY, 'the master exited %.2f s after QUIT, before '
               'drain-delay (%d s)' % (took, DELAY))
        return 'stopped %.1f s after QUIT' % took
    t.check('QUIT: 503 at once, serving on for drain-delay, then the stop',
            quit_drains)

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

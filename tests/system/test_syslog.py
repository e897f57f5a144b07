# SPDX-License-Identifier: BSD-2-Clause
"""error-log = syslog, the daemon's default: messages reach the local
syslog socket with the daemon facility, the right priority and the
preforkd tag, including a bad reload's FILE:LINE errors.

The test owns /dev/log without touching the host's: in a private mount
namespace (unshare --mount --map-root-user) /dev is a fresh tmpfs holding
only null, zero and urandom, bound from the host, and the test's own
datagram socket at /dev/log."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BINARY, T, Test, expect, run, write_file

# Runs inside the namespace: plays syslogd, drives the daemon, reports.
INNER = r'''
import json, os, signal, socket, subprocess, sys, time
binary, conf, bad, pidfile, timeout = sys.argv[1:6]
timeout = float(timeout)
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind('/dev/log')
log.settimeout(0.2)
got = []
def collect(pattern, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            got.append(log.recv(4096).decode(errors='replace'))
        except socket.timeout:
            pass
        if any(pattern in m for m in got):
            return True
    return False
out = {}
start = subprocess.run([binary, '-f', conf], capture_output=True,
                       timeout=timeout)
out['start'] = start.returncode
out['ready'] = collect('ready: generation 1', timeout)
os.rename(conf, conf + '.good')
os.rename(bad, conf)
pid = int(open(pidfile).read())
os.kill(pid, signal.SIGHUP)
out['reload_failed'] = collect('reload failed', timeout)
os.rename(conf + '.good', conf)
stop = subprocess.run([binary, '-s', 'stop', '-f', conf],
                      capture_output=True, timeout=timeout)
out['stop'] = stop.returncode
end = time.monotonic() + timeout
while os.path.exists(pidfile) and time.monotonic() < end:
    time.sleep(0.05)
out['exiting'] = collect('exiting', timeout)
out['messages'] = got
print(json.dumps(out))
'''

SETUP = ('for n in null zero urandom; do touch "$1/$n" && '
         'mount --bind "/dev/$n" "$1/$n" || exit 90; done; '
         'mount -t tmpfs tmpfs /dev || exit 91; '
         'for n in null zero urandom; do touch "/dev/$n" && '
         'mount --bind "$1/$n" "/dev/$n" || exit 92; done; '
         'shift; exec python3 "$@"')


def to_syslog(t):
    unshare = shutil.which('unshare')
    expect(unshare, 'unshare (util-linux) not found')
    srv = t.server('syslog', error_log=None)
    root = os.path.join(srv.dir, 'www')
    os.makedirs(root)
    good = ('pidfile = "%s"\nlog-level = "info"\n'
            'server www {\n  listen = "127.0.0.1:0"\n  workers = 1\n'
            '  http {\n    root = "%s"\n  }\n}\n' % (srv.pidfile, root))
    write_file(srv.conf, good)
    bad = os.path.join(srv.dir, 'bad.conf')
    write_file(bad, good.replace('workers = 1', 'workers = 0'))
    inner = os.path.join(srv.dir, 'inner.py')
    write_file(inner, INNER)
    devs = os.path.join(srv.dir, 'devs')
    os.makedirs(devs)
    rc, out, err = run([unshare, '--mount', '--map-root-user', 'sh', '-c',
                        SETUP, 'sh', devs, inner, BINARY, srv.conf, bad,
                        srv.pidfile, str(T(15))], timeout=T(90))
    expect(rc == 0 and out.strip(), 'namespace run failed (%s): %s'
           % (rc, err.strip()[-500:]))
    r = json.loads(out.strip().splitlines()[-1])
    msgs = r['messages']
    expect(r['start'] == 0, 'daemon start exited %s' % r['start'])
    expect(r['ready'], 'no "ready" message on /dev/log: %s' % msgs[-5:])
    # <29> = facility daemon (3) * 8 + notice (5); <27> = daemon.err.
    ready = [m for m in msgs if 'ready: generation 1' in m][0]
    expect(ready.startswith('<29>') and 'preforkd[' in ready,
           'ready message not daemon.notice from preforkd[pid]: %r' % ready)
    expect(r['reload_failed'], 'no "reload failed" on /dev/log: %s'
           % msgs[-5:])
    line = [m for m in msgs if '%s:5: workers must be' % srv.conf in m]
    expect(line and line[0].startswith('<27>'),
           'the config error is not daemon.err with FILE:LINE: %s'
           % msgs[-6:])
    expect(r['stop'] == 0 and r['exiting'], 'stop %s, exiting %s'
           % (r['stop'], r['exiting']))
    return '%d messages' % len(msgs)


def main():
    t = Test('test_syslog')
    t.check('error-log = syslog: daemon facility, priorities, FILE:LINE',
            to_syslog, t)
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""The workers' identity is looked up in a short-lived child process.

getpwnam() and friends load the NSS modules of /etc/nsswitch.conf
(libnss_systemd, which pulls in libcap and libm on Debian): looked up in
the master they would stay mapped there and in every worker.  Neither
the master nor a worker may map any libnss_ library, while the workers
still run with the configured user, group and supplementary groups.  A
reload to a user that does not exist, or one whose lookup cannot be made
at all, fails with FILE:LINE and the old generation keeps serving.  So
does one that hangs (a name service that never answers: here /etc/passwd
is a FIFO nobody writes, in a private mount namespace): the lookup child
is killed after 10 s, and the master goes on supervising and reloading.
"""
import grp
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Test, children, echo_once, expect, line_of,
                     proc_stat, skipped, wait_until)

NO_USER = 'preforkd-test-no-such-user'
NOBODY = pwd.getpwnam('nobody')


def nogroup():
    """Debian's nogroup, else nobody's own primary group."""
    try:
        return grp.getgrnam('nogroup')
    except KeyError:
        return grp.getgrgid(NOBODY.pw_gid)


def nss_modules(pid):
    """The libnss_ libraries pid maps."""
    out = set()
    for line in open('/proc/%d/maps' % pid):
        f = line.split(None, 5)
        if len(f) == 6 and '/libnss_' in f[5]:
            out.add(os.path.basename(f[5].strip()))
    return sorted(out)


def nss_loaded_by_lookup():
    """The libnss_ libraries the same lookups (user, group, the user's
    groups) map in another process: without any, the maps check below
    could not fail on this machine."""
    probe = ("import grp, os, pwd\n"
             "os.getgrouplist('nobody', pwd.getpwnam('nobody').pw_gid)\n"
             "grp.getgrnam(%r)\n"
             "for line in open('/proc/self/maps'):\n"
             "    if '/libnss_' in line:\n"
             "        print(line.split()[-1].rsplit('/', 1)[-1])\n"
             % nogroup().gr_name)
    out = subprocess.run([sys.executable, '-c', probe], check=True,
                         stdout=subprocess.PIPE, timeout=T(30)).stdout
    return sorted(set(out.decode().split()))


def ids(pid):
    """(real, effective uid), (real, effective gid), groups of pid."""
    uid = gid = groups = None
    for line in open('/proc/%d/status' % pid):
        f = line.split()
        if f[0] == 'Uid:':
            uid = (int(f[1]), int(f[2]))
        elif f[0] == 'Gid:':
            gid = (int(f[1]), int(f[2]))
        elif f[0] == 'Groups:':
            groups = sorted(int(x) for x in f[1:])
    return uid, gid, groups


def no_nss_in_master_or_workers(t):
    probe = nss_loaded_by_lookup()
    group = nogroup()
    srv = t.server('maps', user='nobody', group=group.gr_name)
    srv.start()
    workers = srv.wait_workers(2)
    for pid in [srv.master] + workers:
        loaded = nss_modules(pid)
        expect(not loaded, '%s %d maps %s' % (
            'master' if pid == srv.master else 'worker', pid, loaded))
    if os.geteuid() == 0:
        want = sorted(set(os.getgrouplist('nobody', group.gr_gid)))
        for w in workers:
            got = ids(w)
            expect(got == ((NOBODY.pw_uid,) * 2, (group.gr_gid,) * 2, want),
                   'worker %d runs with uid, gid, groups %s; expected '
                   '%d, %d, %s' % (w, got, NOBODY.pw_uid, group.gr_gid,
                                   want))
    echo_once(srv.addr(), b'served as nobody')
    srv.stop()
    if not probe:
        return ('note: a lookup loads no NSS module on this machine, so '
                'this check could not fail here')
    if os.geteuid() != 0:
        return skipped('not root: the workers keep our identity')
    return 'a lookup elsewhere maps %s' % ', '.join(probe)


def start_nobody(t, name):
    srv = t.server(name, user='nobody')
    srv.start()
    return srv, srv.wait_workers(2)


def expect_old_serves(srv, old, mark, error):
    """The reload logged error, failed, and left the old workers."""
    srv.wait_log(r'reload failed: .*generation 1 keeps serving', since=mark)
    expect(error in srv.log_text()[mark:], 'no %r in the log: %s'
           % (error, srv.log_text()[mark:][-600:]))
    expect(srv.workers() == old, 'old workers %s replaced by %s'
           % (old, srv.workers()))
    echo_once(srv.addr(), b'still the old generation')


def reload_missing_user_fails(t):
    srv, old = start_nobody(t, 'missing')
    text = srv.conf_text(user=NO_USER)
    srv.write_conf(text)
    error = "%s:%d: user '%s' does not exist" % (
        srv.conf, line_of(text, 'user = '), NO_USER)
    rc, out, err = srv.ctl('reload', timeout=T(30))
    expect(rc != 0 and error in err, '-s reload exited %d: %r' % (rc, err))
    # The master's own check, not only the one of -s reload.
    mark = srv.mark()
    srv.signal(signal.SIGHUP)
    expect_old_serves(srv, old, mark, error)
    srv.stop()


def lowest_free_fd(pid):
    used = {int(fd) for fd in os.listdir('/proc/%d/fd' % pid)}
    return min(set(range(len(used) + 1)) - used)


def reload_without_lookup_fails(t):
    """A master out of descriptors cannot make the reply pipe: the lookup
    fails, the reload with it, and nothing else."""
    srv, old = start_nobody(t, 'nopipe')
    text = srv.conf_text()
    error = "%s:%d: cannot look up user 'nobody': pipe(): " % (
        srv.conf, line_of(text, 'user = '))
    soft, hard = resource.prlimit(srv.master, resource.RLIMIT_NOFILE)
    # One descriptor free: enough to read the config, not for a pipe.
    resource.prlimit(srv.master, resource.RLIMIT_NOFILE,
                     (lowest_free_fd(srv.master) + 1, hard))
    mark = srv.mark()
    srv.signal(signal.SIGHUP)
    try:
        expect_old_serves(srv, old, mark, error)
    finally:
        resource.prlimit(srv.master, resource.RLIMIT_NOFILE, (soft, hard))
    # The lookup works again once descriptors are there.
    mark = srv.mark()
    srv.signal(signal.SIGHUP)
    srv.wait_log(r'reload: generation 2 serving', since=mark)
    ok = wait_until(lambda: not set(srv.workers()) & set(old), T(15))
    expect(ok, 'old workers %s still run after the reload'
           % sorted(set(srv.workers()) & set(old)))
    echo_once(srv.addr(), b'the new generation')
    srv.stop()


# In its own mount namespace, /etc/passwd becomes a FIFO: opening it to
# read blocks until a writer comes, and none does.
HANG_PASSWD = ('mkfifo "$1" && mount --bind "$1" /etc/passwd || exit 90; '
               'shift; exec "$@"')
LOOKUP_TIMEOUT = 10


def reload_hung_lookup_fails(t):
    unshare = shutil.which('unshare')
    expect(unshare, 'unshare (util-linux) not found')
    probe = subprocess.run([unshare, '--mount', '--map-root-user', 'true'],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=T(30))
    if probe.returncode != 0:
        return skipped('no private mount namespace here (unshare: %s)'
                       % probe.stderr.decode(errors='replace').strip())
    srv = t.server('hung')
    fifo = os.path.join(srv.dir, 'passwd.fifo')
    srv.start(wrapper=[unshare, '--mount', '--map-root-user', 'sh', '-c',
                       HANG_PASSWD, 'sh', fifo])
    old = srv.wait_workers(2)
    good = srv.conf_text()
    text = srv.conf_text(user='nobody')
    srv.write_conf(text)
    error = ("%s:%d: cannot look up user 'nobody': no answer within %d s"
             % (srv.conf, line_of(text, 'user = '), LOOKUP_TIMEOUT))
    mark = srv.mark()
    start = time.monotonic()
    srv.signal(signal.SIGHUP)
    srv.wait_log(r'reload failed: .*generation 1 keeps serving', since=mark,
                 timeout=LOOKUP_TIMEOUT + T(20))
    took = time.monotonic() - start
    expect_old_serves(srv, old, mark, error)
    expect(LOOKUP_TIMEOUT - 0.5 <= took <= LOOKUP_TIMEOUT + T(5),
           'the reload failed after %.1f s' % took)
    # The killed lookup is reaped, and the master still reloads.
    def zombies():
        return [p for p in children(srv.master)
                if (proc_stat(p) or ('?',))[0] == 'Z']
    expect(wait_until(lambda: not zombies(), T(5)), 'unreaped children %s'
           % zombies())
    srv.write_conf(good)
    mark = srv.mark()
    srv.signal(signal.SIGHUP)
    srv.wait_log(r'reload: generation 2 serving', since=mark)
    echo_once(srv.addr(), b'the new generation')
    srv.stop()
    return 'reload failed after %.1f s; the next one served' % took


def main():
    t = Test('test_identity')
    t.check('neither master nor workers map an NSS module; workers run '
            'as the configured user and groups',
            no_nss_in_master_or_workers, t)
    t.check('reload to a missing user fails at FILE:LINE, old generation '
            'serves', reload_missing_user_fails, t)
    t.check('reload whose lookup cannot run fails, old generation serves',
            reload_without_lookup_fails, t)
    t.check('reload whose lookup hangs fails after %d s, the master goes '
            'on' % LOOKUP_TIMEOUT, reload_hung_lookup_fails, t)
    t.finish()


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""Privilege drop of the workers, and the fatal "do not respawn" exit.

As root with `user = "nobody"` the workers run as nobody while the master
stays root.  Under `unshare --map-root-user` the master is root in a user
namespace where nobody's ids are unmapped, so setgroups() fails in every
worker: a real condition of containers.  The workers then exit with the
fatal status, and the master neither respawns them in a loop nor serves:
start-up fails with the reason, and a reload to such a config fails and
leaves the old generation serving.
"""
import grp
import os
import pwd
import re
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BINARY, T, Test, alive, echo_once, expect, run,
                     skipped, wait_until)
from test_http_util import http_server, rewrite_conf

NOBODY = pwd.getpwnam('nobody')


def ids(pid):
    """(real uid, effective uid, real gid, effective gid) of pid."""
    for line in open('/proc/%d/status' % pid):
        if line.startswith('Uid:'):
            uid = [int(x) for x in line.split()[1:3]]
        if line.startswith('Gid:'):
            gid = [int(x) for x in line.split()[1:3]]
    return uid[0], uid[1], gid[0], gid[1]


def workers_drop_to_nobody(t):
    if os.geteuid() != 0:
        return skipped('not root: no privilege drop to test')
    srv = t.server('drop', user='nobody')
    srv.start()
    workers = srv.wait_workers(2)
    expect(ids(srv.master)[:2] == (0, 0), 'master is not root: %s'
           % (ids(srv.master),))
    for w in workers:
        expect(ids(w) == (NOBODY.pw_uid, NOBODY.pw_uid, NOBODY.pw_gid,
                          NOBODY.pw_gid),
               'worker %d runs with ids %s, not nobody' % (w, ids(w)))
    echo_once(srv.addr(), b'dropped')
    srv.stop()


def groups_of(pid):
    for line in open('/proc/%d/status' % pid):
        if line.startswith('Groups:'):
            return sorted(int(x) for x in line.split()[1:])
    return None


def mapped_files(pid):
    """The files pid maps (libraries, the binary)."""
    out = set()
    for line in open('/proc/%d/maps' % pid):
        f = line.split(None, 5)
        if len(f) == 6 and f[5].startswith('/'):
            out.add(f[5].strip())
    return out


def workers_groups_from_master(t):
    """A worker takes nobody's supplementary groups from the list the
    master looked up: it loads no NSS module (libnss_systemd and the
    like: their private pages in every worker) after the fork."""
    if os.geteuid() != 0:
        return skipped('not root: no privilege drop to test')
    srv = t.server('groups', user='nobody')
    srv.start()
    workers = srv.wait_workers(2)
    want = sorted(set(os.getgrouplist('nobody', NOBODY.pw_gid)))
    master_maps = mapped_files(srv.master)
    for w in workers:
        expect(groups_of(w) == want, 'worker %d has groups %s, nobody\'s '
               'are %s' % (w, groups_of(w), want))
        extra = mapped_files(w) - master_maps
        expect(not extra, 'worker %d mapped %s after the fork'
               % (w, sorted(extra)))
    srv.stop()
    return 'groups %s' % want


def dropped_workers_follow_master(t):
    """Changing ids clears a process's parent-death signal: it must be set
    after the drop, or workers of a killed master live on as orphans."""
    if os.geteuid() != 0:
        return skipped('not root: no privilege drop to test')
    srv = t.server('orphans', user='nobody')
    srv.start()
    workers = srv.wait_workers(2)
    os.kill(srv.master, signal.SIGKILL)
    srv.wait_exit()
    gone = wait_until(lambda: not any(alive(w) for w in workers), T(5))
    expect(gone, 'workers %s outlived their master'
           % [w for w in workers if alive(w)])


def unshare():
    path = shutil.which('unshare')
    expect(path, 'unshare (util-linux) not found')
    rc, out, err = run([path, '--map-root-user', 'true'])
    expect(rc == 0, 'user namespaces unavailable: %s' % err.strip())
    return path


def fatal_start_fails(t):
    srv = t.server('fatal-start', user='nobody')
    rc, out, err = run([unshare(), '--map-root-user', BINARY, '-n', '-f',
                        srv.conf], timeout=T(30))
    expect(rc == 1, 'start-up with unusable workers exited %s, not 1' % rc)
    log = srv.log_text()
    for needle in ('status 78 (fatal: setgroups(nobody',
                   'start-up failed: workers exited fatally (server echo: '
                   'setgroups(nobody'):
        expect(needle in log + err, '%r not reported; stderr: %s'
               % (needle, err[-600:]))
    started = log.count('worker ')  # "worker PID started" and exits
    spawned = len(srv.started())
    expect(spawned <= 2, 'fatal workers were respawned: %d started'
           % spawned)
    expect(not os.path.exists(srv.pidfile), 'pidfile left behind')
    return '%d log lines about workers' % started


def fatal_reload_keeps_old(t):
    srv = t.server('fatal-reload')
    # The master runs as root of a user namespace: its own workers (no
    # user option) start fine.
    srv.start(wrapper=[unshare(), '--map-root-user'])
    old = srv.wait_workers(2)
    mark = srv.mark()
    srv.write_conf(user='nobody')
    rc, out, err = srv.ctl('reload', timeout=T(40))
    expect(rc != 0, '-s reload to unusable workers exited 0: %s' % out)
    expect('new workers exited fatally (server echo: setgroups(nobody'
           in err, '-s reload did not say why: %r' % err)
    srv.wait_log(r'reload failed: new workers exited fatally', since=mark)
    expect(srv.workers() == old, 'old workers %s replaced by %s'
           % (old, srv.workers()))
    echo_once(srv.addr(), b'still the old generation')
    rc, out, err = srv.ctl('status')
    expect(rc == 0 and re.search(r'^server echo: listen \S+, generation 1,',
                                 out, re.M),
           'the status page does not show generation 1 serving: %d %s%s'
           % (rc, out[:300], err.strip()))
    srv.stop()


def new_error_log_given(t):
    """A reload to a new error-log: the new workers open it before the
    master does, as root; they give it to the workers' user, or their
    USR1 could not reopen it (here the reload fails, so the master never
    takes the file up and never gives it away itself)."""
    if os.geteuid() != 0:
        return skipped('not root: no privilege drop to test')
    root = tempfile.mkdtemp(prefix='preforkd-newlog.')
    try:
        os.chmod(root, 0o755)
        servers = [dict(name='www', http=dict(root=root))]
        srv = http_server(t, 'newlog', servers, user='nobody')
        srv.start()
        new_log = os.path.join(srv.dir, 'error2.log')
        os.chmod(root, 0o700)       # nobody may not search it: fatal
        rewrite_conf(srv, servers, user='nobody', error_log=new_log)
        # A bare SIGHUP: -s reload would try the root as nobody first and
        # refuse, and no worker would start.
        mark = srv.mark()
        srv.signal(signal.SIGHUP)
        srv.wait_log(r'reload failed: new workers exited fatally', mark,
                     timeout=T(40))
        expect(os.path.exists(new_log), 'the new workers did not open %s'
               % new_log)
        owner = os.stat(new_log).st_uid
        expect(owner == NOBODY.pw_uid, '%s belongs to uid %d, not nobody'
               % (new_log, owner))
        srv.stop()
    finally:
        os.chmod(root, 0o700)
        shutil.rmtree(root, ignore_errors=True)
    return 'owned by nobody'


def log_groups_kept(t):
    """Log files are given to the workers' user, and keep their group: the
    shipped logrotate rule creates them 0640 www-data adm for the adm
    group to read, at start, on reopen and on reload alike."""
    if os.geteuid() != 0:
        return skipped('not root: no privilege drop to test')
    try:
        group = grp.getgrnam('adm').gr_gid
    except KeyError:
        group = 4
    expect(group != NOBODY.pw_gid, 'adm is nobody\'s group here')
    root = tempfile.mkdtemp(prefix='preforkd-loggroup.')
    try:
        os.chmod(root, 0o755)
        srv = http_server(t, 'loggroup', [dict(name='www', http=dict(
            root=root, access_log='access.log'))], user='nobody')
        logs = [srv.log, os.path.join(srv.dir, 'access.log')]

        def create():        # as logrotate's "create 0640 nobody adm"
            for path in logs:
                with open(path, 'a'):
                    pass
                os.chown(path, NOBODY.pw_uid, group)
                os.chmod(path, 0o640)

        def owners(when):
            for path in logs:
                st = os.stat(path)
                expect((st.st_uid, st.st_gid) == (NOBODY.pw_uid, group),
                       '%s %s: owner %d:%d, expected nobody (%d):%d'
                       % (when, os.path.basename(path), st.st_uid,
                          st.st_gid, NOBODY.pw_uid, group))
        create()
        srv.start()
        owners('after the start')
        for path in logs:
            os.rename(path, path + '.1')
        create()
        mark = srv.mark()
        srv.signal(signal.SIGUSR1)
        srv.wait_log(r'reopened log files', mark)
        owners('after a reopen')
        rc, out, err = srv.ctl('reload', timeout=T(40))
        expect(rc == 0, '-s reload exited %d: %s' % (rc, out + err))
        owners('after a reload')
        srv.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 'nobody:%d kept' % group


def main():
    t = Test('test_privileges')
    t.check('workers drop to user nobody, master stays root',
            workers_drop_to_nobody, t)
    t.check('workers take their groups from the master, load no library',
            workers_groups_from_master, t)
    t.check('workers running as nobody exit when the master is killed',
            dropped_workers_follow_master, t)
    t.check('fatal workers fail start-up without respawning',
            fatal_start_fails, t)
    t.check('reload to fatal workers fails, old generation serves',
            fatal_reload_keeps_old, t)
    t.check('a new error-log opened by a reload\'s workers is given to '
            'their user', new_error_log_given, t)
    t.check('log files keep their group (logrotate\'s create)',
            log_groups_kept, t)
    t.finish()


if __name__ == '__main__':
    main()

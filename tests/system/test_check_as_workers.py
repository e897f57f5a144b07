#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""-t and -s reload try the document root as the workers' user.

As root with `user = "nobody"`, each worker opens the http root after its
privilege drop.  A root nobody may not search (root's, mode 0700), or
not reach (under such a directory), passed -t, which looked at it as
root only; the start or the reload then failed when the workers opened
it.  -t opens the root in a child that has switched to nobody as a
worker does, and names the line of the root option.  A root that nobody
may search only through a group passes: the check is made with the
workers' real identity, not guessed from the mode bits.  -s reload makes
the same check before it signals, and leaves the master alone.

Root only (only root can switch to nobody); a skip otherwise.
"""
import os
import pwd
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BINARY, Test, expect, line_of, read_file, run, skipped
from test_http_util import http_server, rewrite_conf


def nobody():
    if os.geteuid() != 0:
        return None, 'not root: the workers do not switch users'
    try:
        return pwd.getpwnam('nobody'), None
    except KeyError:
        return None, 'there is no user nobody'


def docroot(prefix):
    """A root-owned directory in the system's temp dir, which nobody may
    enter (the test's own directory is root's, 0700)."""
    base = tempfile.mkdtemp(prefix=prefix)
    os.chmod(base, 0o755)
    root = os.path.join(base, 'www')
    os.mkdir(root)
    with open(os.path.join(root, 'index.html'), 'w') as f:
        f.write('hello\n')
    return base, root


def check(srv):
    return run([BINARY, '-t', '-f', srv.conf])


def expect_refused(srv, root, rc, out, err, what):
    text = read_file(srv.conf)
    want = ("%s:%d: root '%s': not accessible to user nobody: "
            "Permission denied" % (srv.conf, line_of(text, 'root = '), root))
    expect(rc == 1 and want in err.splitlines(),
           '%s: exit %d; wanted exit 1 and the line %r; stderr: %r'
           % (what, rc, want, err))


def private_root(t):
    user, why = nobody()
    if user is None:
        return skipped(why)
    base, root = docroot('preforkd-private.')
    try:
        srv = http_server(t, 'private', [dict(name='www',
                                              http=dict(root=root))],
                          user='nobody')
        os.chmod(root, 0o700)
        rc, out, err = check(srv)
        expect_refused(srv, root, rc, out, err, '-t, a 0700 root of root\'s')
        os.chmod(root, 0o755)
        rc, out, err = check(srv)
        expect(rc == 0 and 'configuration %s is ok' % srv.conf in out,
               '-t, the root made 0755: exit %d, stdout %r, stderr %r'
               % (rc, out, err))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def unreachable_root(t):
    """A root open to all, under a directory nobody may not enter: the
    worker's open() of the path fails, not its search of the root."""
    user, why = nobody()
    if user is None:
        return skipped(why)
    base, root = docroot('preforkd-unreachable.')
    try:
        srv = http_server(t, 'unreachable', [dict(name='www',
                                                  http=dict(root=root))],
                          user='nobody')
        os.chmod(base, 0o700)
        rc, out, err = check(srv)
        expect_refused(srv, root, rc, out, err,
                       '-t, a root under a 0700 directory of root\'s')
    finally:
        shutil.rmtree(base, ignore_errors=True)


def group_root(t):
    """Searchable by its group alone, nobody's primary group: the check
    takes the workers' groups, as they do."""
    user, why = nobody()
    if user is None:
        return skipped(why)
    base, root = docroot('preforkd-group.')
    try:
        srv = http_server(t, 'group', [dict(name='www',
                                            http=dict(root=root))],
                          user='nobody')
        os.chown(root, 0, user.pw_gid)
        os.chmod(root, 0o710)
        rc, out, err = check(srv)
        expect(rc == 0, '-t, a 0710 root of group %d: exit %d, stderr %r'
               % (user.pw_gid, rc, err))
        os.chown(root, 0, 0)
        rc, out, err = check(srv)
        expect_refused(srv, root, rc, out, err, '-t, the same root given '
                       'to group root')
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 'gid %d' % user.pw_gid


def reload_refused(t):
    user, why = nobody()
    if user is None:
        return skipped(why)
    base, root = docroot('preforkd-reload.')
    try:
        servers = [dict(name='www', http=dict(root=root))]
        srv = http_server(t, 'reload', servers, user='nobody')
        srv.start()
        workers = srv.wait_workers(2)
        os.chmod(root, 0o700)
        # A change, so that a reload that went through would show.
        rewrite_conf(srv, servers, user='nobody', log_level='info')
        mark = srv.mark()
        rc, out, err = srv.ctl('reload')
        expect_refused(srv, root, rc, out, err, '-s reload')
        expect('has errors: not reloading' in err,
               '-s reload did not say it is not reloading: %r' % err)
        expect(not srv.find(r'reloading configuration', mark),
               'the master was asked to reload: %s'
               % srv.log_text()[mark:][:600])
        expect(srv.workers() == workers, 'workers %s replaced by %s'
               % (workers, srv.workers()))
        os.chmod(root, 0o755)
        srv.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main():
    t = Test('test_check_as_workers')
    t.check('-t: a root nobody may not search is an error at its line; '
            'made 0755, it is ok', private_root, t)
    t.check('-t: a root under a directory nobody may not enter is an '
            'error', unreachable_root, t)
    t.check('-t: a root nobody may search through its group is ok',
            group_root, t)
    t.check('-s reload: a root nobody may not search is refused before '
            'the master is signalled', reload_refused, t)
    t.finish()


if __name__ == '__main__':
    main()

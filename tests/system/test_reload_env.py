# SPDX-License-Identifier: BSD-2-Clause
"""-s reload and -s upgrade check a configuration that uses ${NAME} with
the master's environment, the one it expands the file with.

The master is started with RELOADENV_PORT and RELOADENV_ROOT, which its
listen address and http root name.  They used to be checked with the
environment of the command instead: one without the variables was
refused ("missing or bad port ''"), though the master reloads the file
well; one with another root passed a check of that root, and the master
was asked to reload a file that fails with its own.  An upgrade's new
master inherits the old master's environment: -s upgrade checks with it
too, and so does a later -s reload to the new master."""
import os
import shutil
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Failure, T, Test, expect, http_get, listening_inodes,
                     read_file, wait_until)
from test_http_util import http_server, make_tree

GEN_RE = r'reload: generation (\d+) serving'
NAMES = ('RELOADENV_PORT', 'RELOADENV_ROOT')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def environment(**values):
    """This process's environment without the variables, plus values."""
    env = {k: v for k, v in os.environ.items() if k not in NAMES}
    env.update(values)
    return env


def served(port, body):
    status, got = http_get((socket.AF_INET, ('127.0.0.1', port)),
                           '/index.html')
    expect(status == 200 and got == body, 'port %d: %d %r, not 200 %r'
           % (port, status, got[:40], body))


def setup(t):
    srv = http_server(t, 'env', [dict(
        name='www', listen='127.0.0.1:${RELOADENV_PORT}',
        http=dict(root='${RELOADENV_ROOT}'))])
    srv.root = os.path.join(srv.dir, 'root')
    srv.other = os.path.join(srv.dir, 'other')
    make_tree(srv.root, {'index.html': 'master\n'})
    make_tree(srv.other, {'index.html': 'caller\n'})
    # The port is free when asked for, but a test beside this one may
    # take it before the master binds it: then another.
    for attempt in range(3):
        srv.port_value = free_port()
        try:
            srv.start(env=environment(RELOADENV_PORT=str(srv.port_value),
                                      RELOADENV_ROOT=srv.root))
            break
        except Failure:
            if attempt == 2 or 'Address already in use' not in srv.stderr():
                raise
    served(srv.port_value, b'master\n')
    return srv


def reload_ok(srv, env, what):
    mark = srv.mark()
    rc, out, err = srv.ctl('reload', timeout=T(60), env=env)
    expect(rc == 0 and 'serving' in out, '-s reload %s: exit %s, %r %r'
           % (what, rc, out.strip(), err.strip()))
    return int(srv.wait_log(GEN_RE, since=mark).group(1))


def unset_in_caller(srv):
    """The caller has neither variable: the master's values are checked,
    and the master reloads."""
    gen = reload_ok(srv, environment(), 'without the variables')
    expect(gen == 2, 'reload logged generation %d, not 2' % gen)
    served(srv.port_value, b'master\n')


def other_in_caller(srv):
    """The caller has other values, its root missing: the check is the
    master's, which passes, and the master serves on as it reads the
    file, on its port and from its root."""
    port = free_port()
    env = environment(RELOADENV_PORT=str(port),
                      RELOADENV_ROOT=os.path.join(srv.dir, 'missing'))
    gen = reload_ok(srv, env, 'with other values')
    expect(gen == 3, 'reload logged generation %d, not 3' % gen)
    served(srv.port_value, b'master\n')
    expect(not listening_inodes(port), 'something listens on the '
           'caller\'s port %d' % port)


def master_value_bad(srv):
    """The master's root is gone, the caller's is there: the check fails
    as the master's reload would, naming the master's root, and the
    master is not asked."""
    gone = srv.root + '.away'
    os.rename(srv.root, gone)
    try:
        mark = srv.mark()
        env = environment(RELOADENV_PORT=str(srv.port_value),
                          RELOADENV_ROOT=srv.other)
        rc, out, err = srv.ctl('reload', timeout=T(60), env=env)
        expect(rc == 1 and 'has errors: not reloading' in err and
               srv.root in err, '-s reload, master\'s root missing: exit '
               '%s, %r %r' % (rc, out.strip(), err.strip()))
        expect(not srv.find(r'reloading configuration', mark),
               'the master was asked to reload: %s'
               % srv.log_text()[mark:][:600])
    finally:
        os.rename(gone, srv.root)


def upgrade_then_reload(srv):
    """-s upgrade from an environment without the variables: the new
    master, which inherits the old one's, serves on its port; a reload of
    the new master is checked with that environment too."""
    old = srv.master
    rc, out, err = srv.ctl('upgrade', timeout=T(90), env=environment())
    expect(rc == 0, '-s upgrade without the variables: exit %s, %r %r'
           % (rc, out.strip(), err.strip()))
    expect(srv.proc.wait(T(15)) == 0, 'the old master exited %s'
           % srv.proc.returncode)
    srv.proc = None
    srv.master = int(read_file(srv.pidfile))
    srv.seen.add(srv.master)
    expect(srv.master != old, 'the pidfile still names the old master')
    served(srv.port_value, b'master\n')
    mark = srv.mark()
    rc, out, err = srv.ctl('reload', timeout=T(60), env=environment())
    expect(rc == 0 and 'serving' in out, '-s reload of the new master '
           'without the variables: exit %s, %r %r'
           % (rc, out.strip(), err.strip()))
    srv.wait_log(GEN_RE, since=mark)
    served(srv.port_value, b'master\n')


def main():
    t = Test('test_reload_env')
    srv = setup(t)
    t.check('-s reload without the master\'s variables: checked with the '
            'master\'s, reloaded', unset_in_caller, srv)
    t.check('-s reload with other values: checked with the master\'s, '
            'which it serves with', other_in_caller, srv)
    t.check('-s reload refuses what fails with the master\'s values, '
            'though it passes with the caller\'s', master_value_bad, srv)
    t.check('-s upgrade without the variables, then -s reload of the new '
            'master', upgrade_then_reload, srv)
    t.finish()


if __name__ == '__main__':
    main()

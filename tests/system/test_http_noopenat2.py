# SPDX-License-Identifier: BSD-2-Clause
"""Serving without openat2(): where the kernel (before 5.6), a sandbox or
valgrind answers ENOSYS, the http handler checks where each opened file
really leads.  valgrind 3.19 does not know openat2, so running the real
binary under it exercises that path: files under the root are served,
symlinks out of it are refused, symlinks within it are served."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SLOW, T, Test, expect, run
from test_http_util import get, http_server, make_tree

SECRET = 'never-serve-this-secret'


def valgrind():
    path = shutil.which('valgrind')
    expect(path, 'valgrind not found: install it (Debian: valgrind)')
    rc, out, err = run([path, '--version'])
    expect(rc == 0, 'valgrind does not run: %s' % err)
    return path


def checked_open(t):
    if SLOW > 1:
        return 'sanitizer build: valgrind cannot run it, checked in the ' \
               'plain build'
    tool = valgrind()
    root = os.path.join(t.dir, 'www')
    make_tree(root, {'a.txt': 'alpha\n', 'sub/b.txt': 'beta\n'})
    with open(os.path.join(t.dir, 'secret.txt'), 'w') as f:
        f.write(SECRET + '\n')
    os.symlink('../secret.txt', os.path.join(root, 'out'))
    os.symlink('/etc/hostname', os.path.join(root, 'abs'))
    os.symlink('sub/b.txt', os.path.join(root, 'in'))
    os.symlink('../secret.txt', os.path.join(root, 'sub', 'deep'))
    srv = http_server(t, 'valgrind', [dict(
        name='www', workers=1, timeout=60,
        http=dict(root=root, keepalive_timeout=2, header_timeout=5))])
    srv.start(wrapper=[tool, '-q', '--tool=none'])
    r = get(srv, '/a.txt')
    expect(r.status == 200 and r.body == b'alpha\n',
           '/a.txt: %s %r' % (r.status, r.body))
    srv.wait_log(r'openat2\(\) is not available', timeout=T(10))
    r = get(srv, '/in')
    expect(r.status == 200 and r.body == b'beta\n',
           'a symlink inside the root: %s %r' % (r.status, r.body))
    for target in ('/out', '/abs', '/sub/deep'):
        r = get(srv, target)
        expect(SECRET.encode() not in r.body and r.status in (403, 404),
               '%s led outside the root: %s %r' % (target, r.status,
                                                   r.body[:80]))
    r = get(srv, '/sub/')
    expect(r.status == 403, 'a directory without index: %s' % r.status)
    srv.stop(timeout=T(30))


def main():
    t = Test('test_http_noopenat2')
    t.check('without openat2: served under the root, refused outside',
            checked_open, t)
    t.finish()


if __name__ == '__main__':
    main()

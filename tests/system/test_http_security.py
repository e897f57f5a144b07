# SPDX-License-Identifier: BSD-2-Clause
"""The http handler never serves anything outside its root: a battery of
path traversal variants over a raw socket (curl would normalise them),
NUL bytes, and symlinks leading out of the root.

Layout of the instance's dir:
  secret                   MARKER, just outside every root
  outside/secret.txt       MARKER, in a directory next to the root
  root/                    index.html, a/b/, sub/f.txt, and symlinks:
    out-file  -> ../secret             out-dir -> ../outside
    out-abs   -> /ABS/secret           chain   -> in-chain -> ../secret
    in-file   -> index.html            in-dir  -> sub
    idx/index.html -> ../../secret     gzlink.txt.gz -> ../secret.gz
Servers: www (defaults), loose (follow-symlinks, autoindex, gzip-static:
symlinks leaving the root are allowed, `..` must still not be), gz
(autoindex, gzip-static, symlinks refused).
"""
import gzip
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Test, expect
from test_http_util import (HttpClient, exchange, expect_status, get,
                            http_server, make_tree, no_worker_trouble)

MARKER = b'TOP-SECRET-7c1f3e'
PASSWD = b'root:x:0:0'

TRAVERSALS = [
    '/../secret',
    '/%2e%2e/secret',
    '/%2E%2E/secret',
    '/..%2fsecret',
    '/..%2Fsecret',
    '/%2e%2e%2fsecret',
    '/%2e%2e%2f%2e%2e%2fsecret',
    '/..%5csecret',
    '/..\\secret',
    '/%252e%252e/secret',
    '/..%252fsecret',
    '/%c0%ae%c0%ae/secret',
    '/..%c0%afsecret',
    '/%e0%80%ae%e0%80%ae/secret',
    '/a/../../secret',
    '/a/b/../../../secret',
    '/a/%2e%2e/%2e%2e/secret',
    '/a/..%2f..%2fsecret',
    '/./../secret',
    '/.%2e/secret',
    '/%2e./secret',
    '//../secret',
    '/..//secret',
    '/..;/secret',
    '/a/..;/..;/secret',
    '/%00',
    '/%zz/../../secret',
    '/%4',
    '/%',
    '/index.html%00.txt',
    '/..%00/secret',
    '/a/..%00/../secret',
    '/../outside/secret.txt',
    '/%2e%2e/outside/secret.txt',
    '/a/../../outside/secret.txt',
    '/' + 'a/../' * 300 + '../secret',
    '/' + '../' * 20 + 'secret',
    '/../../../../../../../../../../etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
    '../secret',
    '.%2e/secret',
    'http://127.0.0.1/../secret',
    'http://127.0.0.1/%2e%2e/secret',
    'http://127.0.0.1/a/../../secret',
    'http://127.0.0.1/../../../../../../etc/passwd',
    'http://127.0.0.1:80/..%2fsecret',
    'http://x/..%5c..%5csecret',
]


def build(srv):
    base = srv.dir
    with open(os.path.join(base, 'secret'), 'wb') as f:
        f.write(MARKER + b'\n')
    make_tree(os.path.join(base, 'outside'), {'secret.txt': MARKER + b'\n'})
    root = os.path.join(base, 'root')
    make_tree(root, {'index.html': 'index\n', 'a/b/.keep': '',
                     'sub/f.txt': 'inside sub\n'})
    links = {'out-file': '../secret', 'out-dir': '../outside',
             'out-abs': os.path.join(base, 'secret'),
             'in-chain': '../secret', 'chain': 'in-chain',
             'in-file': 'index.html', 'in-dir': 'sub',
             'sub/up-file': '../index.html', 'sub/out-up': '../../secret',
             'idx/index.html': '../../secret',
             'in-abs': os.path.join(root, 'index.html'),
             'in-climb': '../root/index.html',
             'gzlink.txt.gz': '../secret.gz'}
    make_tree(root, {'gzlink.txt': 'plain gzlink\n', 'idx/.keep': ''})
    with open(os.path.join(base, 'secret.gz'), 'wb') as f:
        f.write(gzip.compress(MARKER + b'\n', mtime=0))
    for name, target in links.items():
        os.symlink(target, os.path.join(root, name))
    # The .gz (outside) is newer than gzlink.txt, so it would be chosen.
    os.utime(os.path.join(root, 'gzlink.txt'), (1e9, 1e9))


def probe(srv, target, name):
    """The response to target on a fresh connection (raw bytes, no
    normalisation by a client); None if the server closed without one."""
    with HttpClient(srv, name) as c:
        c.send(b'GET ' + target.encode('latin-1') +
               b' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
        return c.response()


def battery(srv, name):
    leaks, odd = [], []
    statuses = {}
    for target in TRAVERSALS:
        r = probe(srv, target, name)
        if r is None:
            odd.append('%s: closed without a response' % target)
            continue
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if MARKER in r.body or PASSWD in r.body or MARKER in r.head:
            leaks.append('%s -> %d' % (target[:60], r.status))
        elif r.status not in (400, 403, 404):
            odd.append('%s -> %s' % (target[:60], r.status_line))
    expect(not leaks, 'SECRET SERVED for: %s' % '; '.join(leaks))
    expect(not odd, 'traversals answered with something else than '
           '400/403/404: %s' % '; '.join(odd))
    return '%d variants, statuses %s' % (len(TRAVERSALS), statuses)


def listing_no_escape(srv):
    # With autoindex, a listing of ".." would name the secret.
    for target in ('/../', '/%2e%2e/', '/a/../../', '/%2e%2e%2f'):
        r = probe(srv, target, 'loose')
        expect(r is not None, '%s: no response' % target)
        expect(b'secret' not in r.body and b'outside' not in r.body,
               '%s lists the directory above the root (%d): %r'
               % (target, r.status, r.body[:300]))


def symlinks_refused(srv, name):
    for target in ('/out-file', '/out-dir/secret.txt', '/out-abs', '/chain',
                   '/sub/out-up', '/in-dir/out-up', '/out-dir/', '/idx/'):
        r = probe(srv, target, name)
        expect(r is not None, '%s: no response' % target)
        expect(MARKER not in r.body and b'secret.txt' not in r.body,
               'SECRET SERVED through the symlink %s with follow-symlinks = '
               'false: %r' % (target, r))
        # An index refused as a symlink may leave the directory listed.
        ok = (403, 404, 200) if target == '/idx/' and name == 'gz' else \
            (403, 404)
        expect(r.status in ok, '%s: %s, expected 403 (or 404)'
               % (target, r.status_line))


def symlinks_round_trip(srv):
    """follow-symlinks = false: a link is judged by its path, not by where
    it ends; an absolute one, or one whose ".." climbs above the root,
    gets 403 even when it lands back under the root (preforkd.conf(5))."""
    for target in ('/in-abs', '/in-climb'):
        r = get(srv, target)
        expect_status(r, 403, 'symlink %s, back into the root' % target)


def gzip_symlink_refused(srv):
    secret_gz = open(os.path.join(srv.dir, 'secret.gz'), 'rb').read()
    r = get(srv, '/gzlink.txt', name='gz', headers={'Accept-Encoding': 'gzip'})
    expect(r.body != secret_gz and MARKER not in r.body,
           'gzip-static sent the .gz symlinked outside the root: %r' % r)
    expect(r.status == 200 and r.body == b'plain gzlink\n' or
           r.status in (403, 404), '/gzlink.txt with gzip: %r' % r)
    return 'status %d' % r.status


def symlinks_inside(srv):
    for target, body in (('/in-file', b'index\n'),
                         ('/in-dir/f.txt', b'inside sub\n'),
                         ('/sub/up-file', b'index\n')):
        r = get(srv, target)
        expect_status(r, 200, 'symlink within the root %s' % target)
        expect(r.body == body, '%s: body %r' % (target, r.body))


def symlinks_followed(srv):
    for target in ('/out-file', '/out-dir/secret.txt', '/out-abs', '/chain'):
        r = get(srv, target, name='loose')
        expect_status(r, 200, '%s with follow-symlinks = true' % target)
        expect(MARKER in r.body, '%s: body %r' % (target, r.body[:80]))


def root_still_served(srv, name):
    r = get(srv, '/', name=name)
    expect(r.status == 200 and r.body == b'index\n', '/ after the battery: '
           '%r' % r)
    r = get(srv, 'http://127.0.0.1/sub/f.txt', name=name)
    expect(r.status == 200 and r.body == b'inside sub\n',
           'absolute-form /sub/f.txt: %r' % r)


def no_open_redirect(srv):
    """The /dir -> /dir/ redirect is built from the normalised path:
    "//evil.example/../sub" must not send a browser to another site."""
    for target in ('//evil.example/../sub', '/\\evil.example/../sub',
                   'http://x//evil.example/../sub', '/%2fevil.example/../sub',
                   '//sub'):
        out, _ = exchange(srv, ('GET %s HTTP/1.1\r\nHost: x\r\n'
                                'Connection: close\r\n\r\n'
                                % target).encode())
        expect(out, '%s: no response' % target)
        r = out[0]
        expect_status(r, 301, target)
        loc = r.header('location')
        expect(loc == '/sub/', '%s: Location %r, expected /sub/'
               % (target, loc))


def main():
    t = Test('test_http_security')
    srv = http_server(t, 'sec', [
        dict(name='www', http=dict(root='root')),
        dict(name='loose', http=dict(root='root', follow_symlinks=True,
                                     autoindex=True, gzip_static=True)),
        dict(name='gz', http=dict(root='root', autoindex=True,
                                  gzip_static=True)),
    ])
    build(srv)
    if not t.check('server starts', srv.start):
        t.finish()
    workers = srv.workers()
    mark = srv.mark()
    t.check('%d traversal variants never reach outside the root'
            % len(TRAVERSALS), battery, srv, 'www')
    t.check('the same with follow-symlinks, autoindex, gzip-static', battery,
            srv, 'loose')
    t.check('autoindex never lists above the root', listing_no_escape, srv)
    t.check('no open redirect through //host/.. paths', no_open_redirect,
            srv)
    t.check('the same with autoindex, gzip-static', battery, srv, 'gz')
    t.check('symlinks leading outside: 403 with follow-symlinks = false',
            symlinks_refused, srv, 'www')
    t.check('the same with autoindex, gzip-static', symlinks_refused, srv,
            'gz')
    t.check('gzip-static: a .gz symlinked outside the root is not sent',
            gzip_symlink_refused, srv)
    t.check('symlinks within the root are served', symlinks_inside, srv)
    t.check('symlinks back into the root, absolute or climbing out: 403',
            symlinks_round_trip, srv)
    t.check('follow-symlinks = true serves symlinks leading outside',
            symlinks_followed, srv)
    t.check('the root is still served (www)', root_still_served, srv, 'www')
    t.check('the root is still served (loose)', root_still_served, srv,
            'loose')

    def same_workers():
        no_worker_trouble(srv, mark)
        expect(srv.workers() == workers, 'workers changed: %s -> %s'
               % (workers, srv.workers()))
    t.check('the same workers serve on, none died', same_workers)
    t.finish()


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""What a worker costs in memory: the master binds every dynamic symbol
before it forks (-z now), so a worker that has served keep-alive and
Connection: close requests has run none of the dynamic linker's code
(its text, not inherited across fork, was never faulted in) and holds
no private copy of the GOT; with lazy binding each worker ran the
dynamic linker on its first call of every library function."""
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Test, expect, skipped
from test_http_util import (HttpClient, expect_status, http_server,
                            make_tree, no_worker_trouble)

MAP_RE = re.compile(r'^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$')
# glibc's dynamic loader, a library of its own (musl's is libc itself).
LOADER_RE = re.compile(r'^ld-linux[^/]*\.so')


def mappings(pid):
    """(perms, path, {field: kB}) for each mapping in /proc/pid/smaps."""
    out = []
    with open('/proc/%d/smaps' % pid) as f:
        for line in f:
            m = MAP_RE.match(line)
            if m:
                out.append((m.group(1), m.group(2), {}))
            elif out and line.split(':')[0].isidentifier():
                key, _, rest = line.partition(':')
                value = rest.split()
                if value and value[0].isdigit():
                    out[-1][2][key] = int(value[0])
    return out


def load(srv):
    with HttpClient(srv) as c:
        for i in range(100):
            expect_status(c.request('/page.html'), 200, 'keep-alive GET %d'
                          % (i + 1))
    for i in range(20):
        with HttpClient(srv) as c:
            expect_status(c.request('/page.html',
                                    headers={'Connection': 'close'}),
                          200, 'Connection: close GET %d' % (i + 1))


def no_loader_code(srv):
    load(srv)
    (worker,) = srv.workers()
    loader = [(perms, path, fields) for perms, path, fields in
              mappings(worker) if LOADER_RE.match(os.path.basename(path))]
    if not loader:
        return skipped('worker %d maps no glibc dynamic loader (a static '
                       'or non-glibc build)' % worker)
    text = sum(f.get('Rss', 0) for perms, _, f in loader if 'x' in perms)
    expect(text == 0, 'worker %d ran the dynamic linker: %d KiB of its '
           'code resident (symbols bound lazily?)' % (worker, text))
    return 'dynamic linker code resident in the worker: %d KiB' % text


def main():
    t = Test('test_memory')
    root = os.path.join(t.dir, 'root')
    make_tree(root, {'page.html': b'<p>hello</p>\n'})
    srv = http_server(t, 'srv', [dict(name='www', workers=1,
                                      http=dict(root=root))])
    try:
        srv.start()
        t.check('a worker that has served requests ran no dynamic linker '
                'code', no_loader_code, srv)
        t.check('no worker trouble', no_worker_trouble, srv)
    finally:
        t.finish()
    sys.exit(1 if t.failed else 0)


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: BSD-2-Clause
"""A reload that drops a listen address: once -s reload has returned, the
address refuses new connections; connections queued on it are served or
closed in order, never reset; the kept address serves on."""
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (T, Failure, Test, _tcp_table, connect, echo_once, expect,
                     port_refuses, roundtrip, wait_until)

KEEP = dict(name='keep', workers=1)
DROP = dict(name='drop', workers=1)


def queued(port, sock):
    """True once sock's connection is established on the server side
    (queued, not accepted: it has no inode yet)."""
    me = sock.getsockname()[1]
    return any(r[0] == port and r[1] == me and r[2] == '01'
               for r in _tcp_table())


def drop_address(srv):
    drop_port = srv.port('drop')
    busy = connect(srv.addr('drop'))
    waiting = []
    try:
        # The one worker of 'drop' is busy: the next ones stay queued.
        expect(roundtrip(busy, b'busy') == b'busy', 'no echo on drop')
        for i in range(2):
            s = connect(srv.addr('drop'))
            waiting.append(s)
            s.sendall(b'queued %d' % i)
            expect(wait_until(lambda: queued(drop_port, s), T(5)),
                   'connection %d not established' % i)
        srv.write_conf(servers=[KEEP])
        rc, out, err = srv.ctl('reload')
        expect(rc == 0, '-s reload exited %s: %s' % (rc, err.strip()))
        expect(port_refuses(drop_port), 'port %d of the dropped server '
               'still accepts after -s reload returned' % drop_port)
        # The connection in progress goes on with its old worker.
        expect(roundtrip(busy, b'still') == b'still',
               'the busy connection broke')
        busy.close()
        for i, s in enumerate(waiting):
            got = b''
            s.settimeout(T(10))
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except ConnectionResetError:
                raise Failure('queued connection %d was reset (got %r)'
                              % (i, got))
            except socket.timeout:
                raise Failure('queued connection %d neither served nor '
                              'closed within %gs' % (i, T(10)))
            expect(got in (b'', b'queued %d' % i), 'queued connection %d '
                   'got %r' % (i, got))
    finally:
        busy.close()
        for s in waiting:
            s.close()
    echo_once(srv.addr('keep'), b'kept')
    expect(port_refuses(drop_port), 'port %d accepts again' % drop_port)


def main():
    t = Test('test_reload_dropped')
    srv = t.server('dropped', servers=[KEEP, DROP], shutdown_timeout=30)
    if t.check('server starts', srv.start):
        t.check('a dropped address refuses at once; queued connections '
                'are not reset', drop_address, srv)
    t.finish()


if __name__ == '__main__':
    main()

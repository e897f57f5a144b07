# SPDX-License-Identifier: BSD-2-Clause
"""This host's TCP sockets through sock_diag netlink, as /proc/net/tcp
lists them but filtered by state in the kernel: the load leaves tens of
thousands of connections in TIME_WAIT, and reading /proc/net/tcp then
takes seconds on a busy machine."""
import os
import socket
import struct

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
TIME_WAIT = 6
LISTEN = 10
NOT_TIME_WAIT = 0xfff & ~(1 << TIME_WAIT)


def _request(family, states):
    """nlmsghdr + inet_diag_req_v2 (family, protocol, ext, pad, states,
    and an empty inet_diag_sockid of 48 bytes)."""
    req = struct.pack('=BBBBI', family, socket.IPPROTO_TCP, 0, 0,
                      states) + bytes(48)
    return struct.pack('=IHHII', 16 + len(req), SOCK_DIAG_BY_FAMILY,
                       NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + req


def _parse(data, out):
    """Adds (local port, remote port, inode, state, write queue) of each
    inet_diag_msg in data to out; True once the dump is done."""
    off = 0
    while off + 16 <= len(data):
        length, kind = struct.unpack_from('=IH', data, off)
        if kind == NLMSG_DONE:
            return True
        if kind == NLMSG_ERROR:
            err = -struct.unpack_from('=i', data, off + 16)[0]
            raise OSError(err, 'sock_diag: %s' % os.strerror(err))
        msg = off + 16      # inet_diag_msg: family, state, timer, retrans,
        state = data[msg + 1]       # sockid at 4, wqueue at 60, inode at 68
        sport, dport = struct.unpack_from('>HH', data, msg + 4)
        wqueue, = struct.unpack_from('=I', data, msg + 60)
        inode = struct.unpack_from('=I', data, msg + 68)[0]
        out.append((sport, dport, inode, state, wqueue))
        off += (length + 3) & ~3
    return False


def _dump(states):
    out = []
    for family in (socket.AF_INET, socket.AF_INET6):
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                           NETLINK_SOCK_DIAG) as s:
            s.sendto(_request(family, states), (0, 0))
            while not _parse(s.recv(1 << 20), out):
                pass
    return out


def tcp_sockets(states=NOT_TIME_WAIT):
    """[(local port, remote port, inode, state)] of the IPv4 and IPv6 TCP
    sockets in one of `states` (a bit mask of TCP states)."""
    return [m[:4] for m in _dump(states)]


def listen_backlog(port):
    """The backlog of the socket listening on TCP port (for a listening
    socket the kernel reports it as the write queue), or None."""
    for sport, _, _, _, wqueue in _dump(1 << LISTEN):
        if sport == port:
            return wqueue
    return None

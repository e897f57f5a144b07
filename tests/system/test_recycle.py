#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Recycling workers: max-requests-jitter spreads the limits of a pool
started together; a worker on its last connection is replaced before it
leaves (no dip) where the pool has room, but still counts against the
cap, so slow last connections never take the pool past workers or
max-workers; max-memory recycles a worker whose resident set grew past
it, logging its size; a max-memory below what a worker needs just to
exist is said once per server and generation (its workers are recycled
after every connection), not once per connection."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import T, Test, connect, echo_once, expect, wait_until

RECYCLED_RE = r'worker (\d+) recycled after (\d+) connections \(([a-z-]+)\)'


def jitter_spreads(srv):
    srv.start()
    for i in range(160):
        echo_once(srv.addr(), b'x%d' % i)
    found = srv.find(RECYCLED_RE)
    counts = sorted(int(m.group(2)) for m in found)
    expect(len(counts) >= 6, 'only %d workers recycled in 160 connections: '
           '%s' % (len(counts), counts))
    expect(all(2 <= c <= 2 + 20 for c in counts), 'limits outside '
           'max-requests + 0..jitter (2..22): %s' % counts)
    expect(len(set(counts)) > 1, 'every worker recycled after the same '
           'number of connections: %s' % counts)
    expect(all(m.group(3) == 'max-requests' for m in found),
           'reasons: %s' % [m.group(0) for m in found])
    srv.stop()
    return 'recycled after %s connections' % counts


def replaced_before_leaving(srv):
    srv.start()
    srv.wait_workers(2)
    c = connect(srv.addr())
    try:
        c.sendall(b'hold')
        expect(c.recv(4) == b'hold', 'no echo')
        # Its worker is on its last connection (max-requests = 1): a
        # replacement starts while it still serves.
        ok = wait_until(lambda: len(srv.workers()) == 3, T(10))
        expect(ok, 'no replacement while the last connection is served: '
               '%s' % srv.workers())
    finally:
        c.close()
    srv.wait_log(RECYCLED_RE)
    srv.wait_workers(2)
    srv.stop()
    return 'three workers while the leaving one served its last client'


def never_above_cap(srv, cap, clients=8):
    """max-requests = 1 and slow clients: every worker is on its last
    connection at once; the pool still never runs more than cap."""
    srv.start()
    srv.wait_workers(2)
    held, most = [], 0
    try:
        for i in range(clients):
            held.append(connect(srv.addr()))
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            most = max(most, len(srv.workers()))
            time.sleep(0.02)
    finally:
        for c in held:
            c.close()
    expect(most <= cap, '%d workers at once for %d slow clients, cap %d'
           % (most, clients, cap))
    # Each still gets its turn: the queue is served as workers leave.
    for i in range(clients):
        echo_once(srv.addr(), b'after %d' % i)
    srv.stop()
    return 'at most %d workers for %d slow clients' % (most, clients)


def max_memory(srv):
    srv.start()
    srv.wait_workers(2)
    before = set(srv.workers())
    echo_once(srv.addr(), b'grow')
    m = srv.wait_log(r'worker (\d+) resident set (\d+)K exceeds max-memory '
                     r'64K: recycling')
    pid, rss = int(m.group(1)), int(m.group(2))
    expect(pid in before, 'the recycled worker %d was not ours' % pid)
    srv.wait_log(r'worker %d recycled after 1 connections \(max-memory\)'
                 % pid)
    after = srv.wait_workers(2, gone=[pid])
    echo_once(srv.addr(), b'after')
    srv.stop()
    return 'worker %d recycled at %dK, pool %s' % (pid, rss, after)


BELOW_FRESH_RE = (r'\[warning\] preforkd\[\d+\]: server echo: max-memory %s is '
                  r"below a fresh worker's resident set \((\d+(?:\.\d)?[KMG])\): "
                  r'every worker is recycled after each connection; raise it')


def below_fresh_said_once(srv, limit, connections=6):
    """Every connection recycles its worker, yet one warning says why."""
    srv.start()
    srv.wait_workers(2)
    for i in range(connections):
        echo_once(srv.addr(), b'conn %d' % i)
    # The master says it as it reaps a recycled worker: after the last of
    # them is reaped, every chance to say it again has passed.
    expect(wait_until(lambda: len(srv.find(
        r'recycled after 1 connections \(max-memory\)')) >= connections,
        T(15)), 'not every connection recycled its worker')
    srv.stop()
    said = srv.find(BELOW_FRESH_RE % limit)
    expect(len(said) == 1, 'max-memory %s below a fresh worker said %d '
           'times over %d recycling connections, not once'
           % (limit, len(said), connections))
    return 'said once, fresh worker at %s' % said[0].group(1)


def above_fresh_not_said(srv, limit, connections=6):
    srv.start()
    srv.wait_workers(2)
    for i in range(connections):
        echo_once(srv.addr(), b'conn %d' % i)
    srv.stop()
    expect(not srv.find(r'below a fresh worker'),
           'max-memory %s said to be below a fresh worker' % limit)
    expect(not srv.find(r'\(max-memory\)'),
           'a worker recycled for max-memory %s' % limit)


def main():
    t = Test('test_recycle')
    t.check('max-requests-jitter spreads recycling',
            jitter_spreads, t.server('jitter', servers=[dict(
                workers=4, max_requests=2, max_requests_jitter=20)]))
    t.check('a worker on its last connection is replaced before it leaves, '
            'where the pool has room', replaced_before_leaving,
            t.server('nodip', servers=[dict(workers=2, max_workers=4,
                                            min_spare=1, max_spare=2,
                                            max_requests=1)]))
    t.check('slow last connections: a fixed pool stays at its size',
            never_above_cap, t.server('capfixed', servers=[dict(
                workers=2, max_requests=1)]), 2)
    t.check('slow last connections: a dynamic pool stays within '
            'max-workers', never_above_cap, t.server('capdyn', servers=[dict(
                workers=2, max_workers=3, min_spare=1, max_spare=2,
                max_requests=1)]), 3)
    t.check('max-memory recycles a worker, logging its resident set',
            max_memory, t.server('memory', servers=[dict(
                workers=2, max_memory='64K')]))
    t.check('max-memory below a fresh worker: said once, not once per '
            'connection', below_fresh_said_once, t.server(
                'belowfresh', servers=[dict(workers=2, max_memory='64K')]),
            '64K')
    t.check('max-memory above a fresh worker: nothing said',
            above_fresh_not_said, t.server('abovefresh', servers=[dict(
                workers=2, max_memory='512M')]), '512M')
    t.finish()


if __name__ == '__main__':
    main()

/* SPDX-License-Identifier: BSD-2-Clause */
/* Waiting on a connection's socket, shared by the core and the handlers. */
#ifndef PREFORKD_NETIO_H
#define PREFORKD_NETIO_H

#include <stdint.h>

/*
 * Waits until fd has something for recv(): bytes, EOF or an error (the
 * recv() that follows tells which), or until deadline_ms on
 * CLOCK_MONOTONIC.  0 when ready; -1 with ETIMEDOUT at the deadline, or
 * with poll()'s errno.  A signal does not end the wait.
 */
int netio_wait_readable(int fd, int64_t deadline_ms);
/* The same for any poll() events: POLLOUT waits for room to send. */
int netio_wait(int fd, short events, int64_t deadline_ms);
/*
 * netio_wait(), except that a signal ends the wait: -1 with EINTR, for a
 * caller that acts on what the signal asked (a log reopen) and waits on.
 */
int netio_wait_intr(int fd, short events, int64_t deadline_ms);

#endif

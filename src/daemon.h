/* SPDX-License-Identifier: BSD-2-Clause */
/* Detaching from the terminal, with a readiness pipe to the invoker. */
#ifndef PREFORKD_DAEMON_H
#define PREFORKD_DAEMON_H

#include <stdbool.h>

/*
 * Forks; the invoking process waits on a pipe and exits 0 when the
 * daemon reports it is ready, 1 otherwise.  Returns, in the daemon (a new
 * session leader), the pipe's write end, or -1 with errno.  Descriptors
 * from keep_below up are closed; those below (stdio, and the sockets of
 * socket activation) stay.
 */
int daemon_detach(int keep_below);

/*
 * Opens /dev/null on each of descriptors 0, 1 and 2 that is closed, so
 * that nothing opened later (the pidfile, a log, a socket) takes its
 * number and gets what is written to standard output or error, or is
 * closed when they are pointed at /dev/null.  0 or -1.
 */
int daemon_stdio_fill(void);

/* Points standard output and error at /dev/null; 0 or -1. */
int daemon_null_stdio(void);

/* Tells the invoker the outcome and points std fds at /dev/null. */
void daemon_report(int fd, bool ok);

#endif

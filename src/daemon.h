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

/* A report with its NUL: the status byte and up to 255 bytes of why. */
#define DAEMON_REPORT_MAX	(1 + 256)

/*
 * Tells the invoker the outcome and points std fds at /dev/null.  A
 * failure may say why (or NULL): the invoker of a start reads only the
 * outcome, having had the errors on its stderr, but the old master of an
 * upgrade, whose stderr the new master shares, passes it on to -s
 * upgrade.
 */
void daemon_report(int fd, bool ok, const char *why);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The accept queue of a unix listener, which TCP_INFO gives for TCP. */
#ifndef PREFORKD_UNIXDIAG_H
#define PREFORKD_UNIXDIAG_H

#include <stdbool.h>

/*
 * Connections waiting in the accept queue of the unix listening socket
 * fd, from the kernel's sock_diag; -1 with errno if it cannot tell.  A
 * failure that lasts (no netlink, a kernel without unix_diag: ENOENT,
 * EAFNOSUPPORT, EPROTONOSUPPORT, EPERM, EACCES) is returned from then on
 * without asking the kernel again.
 */
int unixdiag_listen_queue(int fd);
/* Whether it failed for good: every call fails from then on. */
bool unixdiag_given_up(void);

#endif

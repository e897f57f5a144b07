/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Socket activation: listening sockets passed by the service manager as
 * descriptors 3.. with LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES (the
 * sd_listen_fds protocol, without libsystemd).  They are matched to the
 * configuration's listen addresses by address, never by position.
 */
#ifndef PREFORKD_ACTIVATION_H
#define PREFORKD_ACTIVATION_H

#include <stddef.h>
#include <sys/types.h>

#define ACTIVATION_FIRST_FD 3

/*
 * PURE: how many descriptors the variables pass to process self: n > 0;
 * 0 when they are unset or meant for another process (LISTEN_PID); -1
 * when they are malformed.
 */
int activation_count(const char *listen_pid, const char *listen_fds,
		     pid_t self);

/* PURE: the i-th colon-separated name of LISTEN_FDNAMES, or "" (names NULL). */
void activation_name(const char *names, int i, char *buf, size_t len);

/*
 * Hands every activated socket to listener_inherit() and unsets the
 * variables, so that no child takes them for its own.  Must run before
 * anything forks or closes descriptors.  Returns the number of sockets,
 * or -1 with a message in err.
 */
int activation_adopt(char *err, size_t errlen);

#endif

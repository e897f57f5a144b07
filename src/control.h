/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * -s: signals a running master, and for reload waits for its verdict.
 * A reload requester announces itself with one datagram to the master's
 * abstract unix socket (the kernel vouches for its pid and uid); the
 * verdict travels back as one datagram to an abstract socket named after
 * the requester, which checks that the master's pid sent it.
 */
#ifndef PREFORKD_CONTROL_H
#define PREFORKD_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * In the master: binds the control socket -s reload announces itself on
 * (abstract, named after the master's pid); -1 with errno on failure.
 */
int control_open(pid_t master);
/* Closes what control_open() returned. */
void control_close(int fd);
/*
 * In the master: the pid of the next reload requester queued on fd, or 0
 * when none is left.  A request from a user who may not signal the
 * master is dropped, its uid left in refused_uid.
 */
pid_t control_next_request(int fd, uid_t *refused_uid);
/* In the master: tells a reload requester how the reload went. */
void control_reply(pid_t requester, bool ok, const char *message);

/*
 * main's -s path; returns the process exit status.  conf_named: -f was
 * given, rather than conf_path being the default.
 */
int control_command(const char *command, const char *conf_path,
		    bool conf_named, const char *pidfile_override);

#endif

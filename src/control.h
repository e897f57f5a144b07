/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * -s: signals a running master, and for reload waits for its verdict.
 * The verdict travels as one datagram to an abstract unix socket named
 * after the requesting process; the receiver checks the sender's pid.
 */
#ifndef PREFORKD_CONTROL_H
#define PREFORKD_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

/* In the master: tells the process that sent a SIGHUP how the reload went. */
void control_reply(pid_t requester, bool ok, const char *message);

/* main's -s path; returns the process exit status. */
int control_command(const char *command, const char *conf_path,
		    const char *pidfile_override);

#endif

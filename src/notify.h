/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sd_notify protocol, spoken without libsystemd: one datagram of
 * "KEY=value" lines to the unix socket named by NOTIFY_SOCKET.  Without
 * that variable every call does nothing.
 */
#ifndef PREFORKD_NOTIFY_H
#define PREFORKD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/types.h>

/*
 * PURE: the address named by a NOTIFY_SOCKET value: "/path" or
 * "@abstract" (a leading '@' stands for the NUL of the abstract
 * namespace).  Returns 0, or -1 if the value is empty, relative or too
 * long.
 */
int notify_address(const char *value, struct sockaddr_un *sun,
		   socklen_t *len);

/* Reads NOTIFY_SOCKET; false when the service manager wants no messages. */
bool notify_init(void);

/*
 * A master started by an upgrade is not the service's main process until
 * the old master hands over: it must not claim MAINPID= itself.
 */
void notify_set_handed_over(bool handed_over);

/* READY=1, with MAINPID= unless handed over, and STATUS=status. */
void notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC= of now. */
void notify_reloading(void);
void notify_stopping(void);
/* STOPPING=1 as a drain-delay begins: the stop has begun for systemd. */
void notify_draining(int seconds);
/* MAINPID=pid: the upgraded master is the service's main process now. */
void notify_mainpid(pid_t pid, const char *status);
void notify_status(const char *status);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The pidfile, locked by the running master for its whole life. */
#ifndef PREFORKD_PIDFILE_H
#define PREFORKD_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* $runstatedir/preforkd.pid, as configure sets it. */
#ifndef PIDFILE_DEFAULT
#define PIDFILE_DEFAULT "/run/preforkd.pid"
#endif

/*
 * Opens and locks path, then writes our pid.  Returns the fd (keep it open:
 * it holds the lock), or -1 with a message in err, naming the other
 * master's pid when one holds the lock.
 */
int pidfile_create(const char *path, char *err, size_t errlen);
void pidfile_remove(const char *path, int fd);

/* The pid of the master holding path's lock, or -1 with a message. */
pid_t pidfile_running_pid(const char *path, char *err, size_t errlen);

#endif

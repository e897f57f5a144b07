/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The running master's environment, for -s reload and -s upgrade: a
 * ${NAME} of the configuration is expanded by the master with its own
 * environment, so their check must use the same one.  The kernel shows it
 * in /proc/PID/environ as it was at the master's start (later unsetenv()
 * calls do not show there).
 */
#ifndef PREFORKD_MASTERENV_H
#define PREFORKD_MASTERENV_H

#include <stddef.h>
#include <sys/types.h>

/*
 * PURE: the NUL-separated entries of block (len bytes; the last one may
 * lack its NUL) as a NULL-terminated array of copies, in order, for use
 * as environ.  Entries that are not NAME=VALUE are left out, as are the
 * variables a master removes from its environment once it has read them
 * (socket activation's LISTEN_*, an upgrade's PREFORKD_*).  NULL (errno
 * ENOMEM) when out of memory.
 */
char **masterenv_parse(const char *block, size_t len);

/* Frees what masterenv_parse() or masterenv_read() returned. */
void masterenv_free(char **env);

/* masterenv_parse() of /proc/PID/environ, or NULL with errno set. */
char **masterenv_read(pid_t pid);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* preforkd -s status: the running master's status table, printed. */
#ifndef PREFORKD_STATUSCTL_H
#define PREFORKD_STATUSCTL_H

#include <stdio.h>
#include <sys/types.h>

/* Prints the text status of master pid to out; 0, or -1 (said why). */
int statusctl_print(pid_t pid, FILE *out);

/*
 * The configuration file master pid reads, as it published it in its
 * sealed memfd (see confseal.h), into out; 0, or -1 if it does not say
 * (an older version, no rights, a memfd not sealed).
 */
int statusctl_conf_path(pid_t pid, char *out, size_t outlen);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading a file the configuration names, which must be a regular file. */
#ifndef PREFORKD_REGFILE_H
#define PREFORKD_REGFILE_H

#include <stdio.h>

/*
 * Opens path for reading if it is a regular file: a fifo with no writer
 * would block the master's open() (a reload would stop it supervising),
 * and a device such as /dev/zero could feed it forever.  NULL with *why
 * set to the reason.
 */
FILE *regfile_open(const char *path, const char **why);

#endif

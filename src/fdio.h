/* SPDX-License-Identifier: BSD-2-Clause */
/* Descriptors: whole writes, and what a process's descriptor names. */
#ifndef PREFORKD_FDIO_H
#define PREFORKD_FDIO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes all len bytes of buf to fd, resuming after a partial write or
 * a signal: 0, or -1 with write()'s errno.  For blocking descriptors
 * only: EAGAIN is an error here.
 */
int fdio_write_all(int fd, const void *buf, size_t len);

/*
 * Whether link, a readlink() of /proc/PID/fd/N (len bytes, no NUL
 * needed), is the memfd created as name: "/memfd:NAME (deleted)".
 */
bool fdio_memfd_named(const char *link, size_t len, const char *name);

#endif

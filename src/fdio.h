/* SPDX-License-Identifier: BSD-2-Clause */
/* Whole writes to a descriptor that may take them in parts. */
#ifndef PREFORKD_FDIO_H
#define PREFORKD_FDIO_H

#include <stddef.h>

/*
 * Writes all len bytes of buf to fd, resuming after a partial write or
 * a signal: 0, or -1 with write()'s errno.  For blocking descriptors
 * only: EAGAIN is an error here.
 */
int fdio_write_all(int fd, const void *buf, size_t len);

#endif

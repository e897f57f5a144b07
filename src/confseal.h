/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The master's configuration path, for -s reload and -s upgrade without
 * -f to check the file the master will read.  It is not taken from the
 * scoreboard: workers map that read-write, and a worker taken over could
 * name any file for root's -s to parse.  The master keeps the path in a
 * memfd of its own, sealed against every write before the first fork;
 * -s finds it through /proc/PID/fd, which workers cannot add to.
 */
#ifndef PREFORKD_CONFSEAL_H
#define PREFORKD_CONFSEAL_H

#include <stddef.h>

#define CONFSEAL_MEMFD_NAME "preforkd-conf"

/*
 * In the master: a memfd holding path and its NUL, sealed (no write,
 * grow, shrink or further seal); -1 with errno.
 */
int confseal_publish(const char *path);

/*
 * The absolute path a memfd of confseal_publish() holds, into out; 0, or
 * -1 with errno: EPERM if it is not sealed (then nothing it says is
 * taken), EPROTO if it holds no single absolute path, ENAMETOOLONG if
 * out is too small.
 */
int confseal_read(int fd, char *out, size_t outlen);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The master's configuration path in a sealed memfd, for -s to trust. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confseal.h"
#include "fdio.h"

/*
 * Seals cannot be removed: with F_SEAL_WRITE on, the bytes are those
 * the master wrote before it set it, whoever held the descriptor since.
 * The reader asks for all four, as confseal_publish() sets them: a memfd
 * with fewer was not made by it.
 */
#define CONFSEAL_SEALS \
	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

int
confseal_publish(const char *path)
{
	int fd, saved;

	fd = memfd_create(CONFSEAL_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return -1;
	if (fdio_write_all(fd, path, strlen(path) + 1) == -1 ||
	    fcntl(fd, F_ADD_SEALS, CONFSEAL_SEALS) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
confseal_read(int fd, char *out, size_t outlen)
{
	struct stat st;
	size_t size;
	ssize_t n;
	int seals;

	if ((seals = fcntl(fd, F_GET_SEALS)) == -1 || fstat(fd, &st) == -1)
		return -1;
	if ((seals & CONFSEAL_SEALS) != CONFSEAL_SEALS) {
		errno = EPERM;
		return -1;
	}
	size = (size_t)st.st_size;
	if (st.st_size < 2) {
		errno = EPROTO;
		return -1;
	}
	if (size > outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Sealed: the size stated above is the size read now. */
	if ((n = pread(fd, out, size, 0)) == -1)
		return -1;
	if ((size_t)n != size || out[0] != '/' ||
	    memchr(out, '\0', size) != out + size - 1) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

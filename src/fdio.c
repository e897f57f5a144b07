/* SPDX-License-Identifier: BSD-2-Clause */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"

int
fdio_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

bool
fdio_memfd_named(const char *link, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len >= 7 + n && memcmp(link, "/memfd:", 7) == 0 &&
	       memcmp(link + 7, name, n) == 0 &&
	       (len == 7 + n || link[7 + n] == ' ');
}

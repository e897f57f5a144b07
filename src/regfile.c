/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading a file the configuration names, which must be a regular file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "regfile.h"

FILE *
regfile_open(const char *path, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	FILE *f = NULL;

	if (fd == -1) {
		*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) == -1)
		*why = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		*why = strerror(EISDIR);
	else if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if ((f = fdopen(fd, "r")) == NULL)
		*why = strerror(errno);
	if (f == NULL)
		close(fd);
	return f;
}

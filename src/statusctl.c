/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preforkd -s status: maps the running master's scoreboard (a memfd it
 * holds open, found through /proc/PID/fd) read-only and prints the text
 * status table.  No http server is needed.  For -s reload, the master's
 * configuration path comes from another memfd of the master's, sealed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confseal.h"
#include "fdio.h"
#include "scoreboard.h"
#include "status.h"
#include "statusctl.h"


/* Opens the master's memfd called name, or -1 (errno set). */
static int
open_memfd(pid_t pid, const char *name)
{
	char dir[64], path[64 + 256], target[PATH_MAX];
	struct dirent *e;
	int fd = -1, saved = ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while (fd == -1 && (e = readdir(d)) != NULL) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target));
		if (n <= 0 || !fdio_memfd_named(target, (size_t)n, name))
			continue;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			saved = errno;
	}
	closedir(d);
	if (fd == -1)
		errno = saved;
	return fd;
}

/*
 * Typically after a package upgrade, before the binary upgrade: the
 * master still runs the old binary, which /proc/PID/exe reaches even
 * once its file is replaced, and which reads its own layout.
 */
static void
other_version(pid_t pid, int fd)
{
	uint32_t head[2];

	if (pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
	    head[0] == SB_MAGIC)
		fprintf(stderr, "preforkd: master %d runs another version of "
			"preforkd (scoreboard layout %u, this one reads %u): "
			"run /proc/%d/exe -s status with the same options, "
			"or see its status page\n", (int)pid,
			(unsigned)head[1], SB_VERSION, (int)pid);
	else
		fprintf(stderr, "preforkd: the scoreboard of master %d is not "
			"one preforkd reads\n", (int)pid);
}

/* Maps master pid's scoreboard into sb; 0, or -1 (said why if loud). */
static int
master_attach(pid_t pid, struct scoreboard *sb, bool loud)
{
	int fd = open_memfd(pid, SB_MEMFD_NAME), rc;

	if (fd == -1) {
		if (loud)
			fprintf(stderr, "preforkd: the scoreboard of master "
				"%d: %s\n", (int)pid, strerror(errno));
		return -1;
	}
	if ((rc = scoreboard_attach(sb, fd)) == -1 && loud) {
		if (errno == EPROTO)
			other_version(pid, fd);
		else
			fprintf(stderr, "preforkd: the scoreboard of master "
				"%d: %s\n", (int)pid, strerror(errno));
	}
	close(fd);
	return rc;
}

int
statusctl_conf_path(pid_t pid, char *out, size_t outlen)
{
	int fd = open_memfd(pid, CONFSEAL_MEMFD_NAME), rc;

	if (fd == -1)
		return -1;
	rc = confseal_read(fd, out, outlen);
	close(fd);
	return rc;
}

int
statusctl_print(pid_t pid, FILE *out)
{
	struct scoreboard sb = { .fd = -1 };
	struct status_snapshot snap;
	struct status_buf buf = { .p = NULL };
	int rc = -1;

	if (master_attach(pid, &sb, true) == -1)
		return -1;
	if (scoreboard_snapshot(&sb, monotonic_ms(), &snap) == 0) {
		if (status_render(&snap, STATUS_TEXT, &buf) == 0 &&
		    fwrite(buf.p, 1, buf.len, out) == buf.len &&
		    fflush(out) == 0)
			rc = 0;
		free(snap.workers);
	}
	if (rc == -1)
		fprintf(stderr, "preforkd: cannot print the status of master "
			"%d\n", (int)pid);
	status_buf_free(&buf);
	scoreboard_destroy(&sb);
	return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Deployments swap what the root path names: a "current" symlink moved
 * to a new release, a directory renamed over the old one.  A worker
 * opens the root once, so without a second look it would serve the old
 * tree until it is replaced.  Looked at by stat() of the path at most
 * every open-file-cache-valid seconds, a swap is followed as a changed
 * file is: within that time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/root.h"
#include "log.h"

/*
 * The canonical path of the directory fd holds, asked of fd itself: the
 * path may be moved again between open() and a realpath() of it.
 * Without /proc, of the path.
 */
static char *
real_path_of(int fd, const char *path)
{
	char link[32];
	char *real;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((real = realpath(link, NULL)) != NULL)
		return real;
	return realpath(path, NULL);
}

int
http_root_open(struct http_root *r, const char *path, int64_t now_ms)
{
	struct stat st;
	char *real;
	int fd, err;

	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || (real = real_path_of(fd, path)) == NULL) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	http_root_close(r);
	r->fd = fd;
	r->real = real;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->checked_ms = now_ms;
	r->lost = false;
	return 0;
}

void
http_root_close(struct http_root *r)
{
	if (r->fd != -1)
		close(r->fd);
	free(r->real);
	r->fd = -1;
	r->real = NULL;
}

bool
http_root_follow(struct http_root *r, const char *path, int64_t now_ms,
		 int64_t every_ms)
{
	struct stat st;
	const char *why;

	if (now_ms - r->checked_ms < every_ms)
		return false;
	r->checked_ms = now_ms;
	if (stat(path, &st) == -1) {
		why = strerror(errno);
	} else if (!S_ISDIR(st.st_mode)) {
		why = "not a directory";
	} else if (st.st_dev == r->dev && st.st_ino == r->ino) {
		if (r->lost)
			log_notice("root %s: back to %s", path, r->real);
		r->lost = false;
		return false;
	} else if (http_root_open(r, path, now_ms) == -1) {
		why = strerror(errno);
	} else {
		log_info("root %s: now %s", path, r->real);
		return true;
	}
	if (!r->lost)
		log_warning("root %s: %s; still serving %s", path, why,
			    r->real);
	r->lost = true;
	return false;
}

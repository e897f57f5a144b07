/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The document root as a worker holds it: a directory descriptor that
 * every file is opened beneath, followed again when the configured path
 * comes to name another directory.
 */
#ifndef PREFORKD_HTTP_ROOT_H
#define PREFORKD_HTTP_ROOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

struct http_root {
	int fd;				/* O_PATH, O_DIRECTORY */
	char *real;			/* its canonical path */
	dev_t dev;
	ino_t ino;
	int64_t checked_ms;		/* when path was last looked at */
	bool lost;			/* path named no directory then */
};

/* Opens path as the root.  0, or -1 with errno (r unchanged). */
int http_root_open(struct http_root *r, const char *path, int64_t now_ms);

void http_root_close(struct http_root *r);

/*
 * Looks at path again if due (every_ms 0: at every call): when it names
 * another directory than r holds, r holds that one from now on, and the
 * call returns true, so the caller can drop what it cached from the old
 * one.  When path names no directory (in the middle of a careless swap,
 * say), r keeps the directory it has, and says so in the log once.
 */
bool http_root_follow(struct http_root *r, const char *path, int64_t now_ms,
		      int64_t every_ms);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The running master's environment, read from /proc for -s reload. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "masterenv.h"
#include "upgrade.h"

/* Unset by the master at its start: see activation.c and upgrade.c. */
static const char *const removed[] = {
	"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
	UPGRADE_ENV_LISTENERS, UPGRADE_ENV_READY_FD, UPGRADE_ENV_PIDFILE,
};

static bool
kept(const char *entry, size_t len)
{
	const char *eq = memchr(entry, '=', len);
	size_t name;

	if (eq == NULL || eq == entry)
		return false;
	name = (size_t)(eq - entry);
	for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++)
		if (strlen(removed[i]) == name &&
		    memcmp(removed[i], entry, name) == 0)
			return false;
	return true;
}

char **
masterenv_parse(const char *block, size_t len)
{
	size_t n = 0, at;
	char **env;

	for (at = 0; at < len; n++) {
		const char *nul = memchr(block + at, '\0', len - at);

		at = nul ? (size_t)(nul - block) + 1 : len;
	}
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return NULL;
	n = 0;
	for (at = 0; at < len;) {
		const char *p = block + at, *nul = memchr(p, '\0', len - at);
		size_t elen = nul ? (size_t)(nul - p) : len - at;

		at += elen + 1;
		if (!kept(p, elen))
			continue;
		if ((env[n] = strndup(p, elen)) == NULL) {
			masterenv_free(env);
			errno = ENOMEM;
			return NULL;
		}
		n++;
	}
	return env;
}

void
masterenv_free(char **env)
{
	if (env == NULL)
		return;
	for (char **p = env; *p != NULL; p++)
		free(*p);
	free(env);
}

char **
masterenv_read(pid_t pid)
{
	char path[64], *block = NULL, **env = NULL;
	size_t len = 0, size = 0;
	int fd, saved;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	for (;;) {
		if (len == size) {
			char *bigger = realloc(block, size ? 2 * size : 4096);

			if (bigger == NULL)
				goto out;
			block = bigger;
			size = size ? 2 * size : 4096;
		}
		n = read(fd, block + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	env = masterenv_parse(block, len);
out:
	saved = errno;
	free(block);
	close(fd);
	errno = saved;
	return env;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Socket activation: LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activation.h"
#include "listener.h"

/* More than a configuration can use; bounds a corrupt LISTEN_FDS. */
#define ACTIVATION_MAX_FDS 4096

static long
parse_positive(const char *text)
{
	char *end;
	long v;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return v;
}

int
activation_count(const char *listen_pid, const char *listen_fds, pid_t self)
{
	long pid, n;

	if (listen_pid == NULL && listen_fds == NULL)
		return 0;
	if ((pid = parse_positive(listen_pid)) <= 0 ||
	    (n = parse_positive(listen_fds)) < 0 || n > ACTIVATION_MAX_FDS)
		return -1;
	/* Meant for the process that exec'd us, or an ancestor. */
	if (pid != (long)self)
		return 0;
	return (int)n;
}

void
activation_name(const char *names, int i, char *buf, size_t len)
{
	const char *p = names, *end;

	buf[0] = '\0';
	if (names == NULL || len == 0)
		return;
	for (; i > 0 && p != NULL; i--)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p == NULL)
		return;
	end = strchr(p, ':');
	snprintf(buf, len, "%.*s", (int)(end ? (size_t)(end - p) :
					   strlen(p)), p);
}

static void
activation_unset(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

int
activation_adopt(char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	int n = activation_count(pid, fds, getpid());

	if (n == -1) {
		snprintf(err, errlen, "socket activation: LISTEN_PID=%s "
			 "LISTEN_FDS=%s are not numbers", pid ? pid : "",
			 fds ? fds : "");
		activation_unset();
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int fd = ACTIVATION_FIRST_FD + i;
		char name[64], origin[128];

		activation_name(names, i, name, sizeof(name));
		snprintf(origin, sizeof(origin), "LISTEN_FDS fd %d%s%s%s", fd,
			 name[0] ? " (" : "", name, name[0] ? ")" : "");
		if (listener_inherit(fd, NULL, origin, true, 0, err,
				     errlen) == -1) {
			activation_unset();
			return -1;
		}
	}
	activation_unset();
	return n;
}

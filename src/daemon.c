/* SPDX-License-Identifier: BSD-2-Clause */
/* Detaching from the terminal, with a readiness pipe to the invoker. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"

/* Long enough for a large pool under a slow machine, yet bounded. */
#define READY_WAIT_MS 120000

static int
redirect_to_null(int first, int last)
{
	/* No O_CLOEXEC: it may be one of the targets, closed at once if not. */
	int fd = open("/dev/null", O_RDWR);
	int rc = 0;

	if (fd == -1)
		return -1;
	for (int i = first; i <= last && rc == 0; i++)
		if (i != fd && dup2(fd, i) == -1)
			rc = -1;
	/* open() took the lowest free number: maybe one of the targets. */
	if (fd < first || fd > last)
		close(fd);
	return rc;
}

int
daemon_stdio_fill(void)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* The lowest free number: fd itself, the lower ones being open. */
		if (open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

static void
invoker_wait(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char status = '1';
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, READY_WAIT_MS);
	while (r == -1 && errno == EINTR);
	if (r == 0) {
		fprintf(stderr, "preforkd: no readiness report after %d s\n",
			READY_WAIT_MS / 1000);
		_exit(1);
	}
	do
		n = read(fd, &status, 1);
	while (n == -1 && errno == EINTR);
	if (n != 1)
		fprintf(stderr, "preforkd: the daemon exited during start-up\n");
	_exit(n == 1 && status == '0' ? 0 : 1);
}

int
daemon_detach(int keep_below)
{
	int fds[2];
	pid_t pid;

	/*
	 * A daemon keeps nothing its invoker left open: an inherited pipe
	 * end would make whoever waits for its EOF wait for our lifetime.
	 */
	if (close_range((unsigned)keep_below, ~0U, 0) == -1 && errno != ENOSYS)
		return -1;
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0) {
		close(fds[1]);
		invoker_wait(fds[0]);
	}
	close(fds[0]);
	if (setsid() == -1 || chdir("/") == -1 ||
	    redirect_to_null(STDIN_FILENO, STDIN_FILENO) == -1) {
		close(fds[1]);
		return -1;
	}
	return fds[1];
}

int
daemon_null_stdio(void)
{
	return redirect_to_null(STDOUT_FILENO, STDERR_FILENO);
}

void
daemon_report(int fd, bool ok, const char *why)
{
	char buf[DAEMON_REPORT_MAX];
	ssize_t n;
	int len;

	if (fd == -1)
		return;
	/* One write, under PIPE_BUF: a reader takes it whole. */
	len = snprintf(buf, sizeof(buf), "%c%s", ok ? '0' : '1',
		       ok || why == NULL ? "" : why);
	if (len < 0)
		len = 1;
	else if (len >= (int)sizeof(buf))
		len = (int)sizeof(buf) - 1;
	do
		n = write(fd, buf, (size_t)len);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (ok)
		redirect_to_null(STDOUT_FILENO, STDERR_FILENO);
}

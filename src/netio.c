/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Waiting on a connection's socket.  One rule for every reader: an
 * error or a hang-up counts as ready, so the recv() that follows reports
 * what happened instead of the wait guessing a timeout.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>

#include "netio.h"
#include "scoreboard.h"

int
netio_wait_readable(int fd, int64_t deadline_ms)
{
	return netio_wait(fd, POLLIN, deadline_ms);
}

int
netio_wait(int fd, short events, int64_t deadline_ms)
{
	int r;

	while ((r = netio_wait_intr(fd, events, deadline_ms)) == -1 &&
	       errno == EINTR)
		;
	return r;
}

int
netio_wait_intr(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline_ms - monotonic_ms();
		int n;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n == -1)
			return -1;
		if (n == 1)
			return 0;
	}
}

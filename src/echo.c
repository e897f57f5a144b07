/* SPDX-License-Identifier: BSD-2-Clause */
/* The echo handler: RFC 862 over TCP, every byte back until the client closes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "handler.h"
#include "netio.h"
#include "scoreboard.h"

/*
 * A signal that lands between the look at the worker's flags and poll()
 * does not interrupt that poll(): the wait is cut in slices, so it is
 * seen within one even from a client that stays idle for good.
 */
#define WAIT_SLICE_MS	1000

struct echo_conf {
	size_t buffer_size;
	int timeout_ms;
};

static cfg_opt_t echo_options[] = {
	CFG_INT("buffer-size", 16384, CFGF_NONE),
	CFG_END()
};

static int
echo_configure(cfg_t *sec, const struct server_conf *server, void **hconf)
{
	struct echo_conf *ec;
	long size = cfg_getint(sec, "buffer-size");

	if (size < 512 || size > 1048576) {
		conf_error(sec, "buffer-size", "buffer-size must be 512..1048576");
		return -1;
	}
	if ((ec = malloc(sizeof(*ec))) == NULL) {
		conf_error(sec, NULL, "out of memory");
		return -1;
	}
	ec->buffer_size = (size_t)size;
	/* timeout = 0 means no limit, as for the master's no-progress check. */
	ec->timeout_ms = server->timeout > 0 ? server->timeout * 1000 : -1;
	*hconf = ec;
	return 0;
}

static void
echo_free(void *hconf)
{
	free(hconf);
}

/*
 * Waits for the connection to be ready, up to the no-progress deadline.
 * 0 = ready (or an error or hangup for the read or write that follows to
 * report), -1 = timeout.  Woken by a signal, it does what the worker was
 * told meanwhile (a log reopen) and waits on: the deadline counts from
 * the last progress, so a wake-up does not put it off.
 */
static int
wait_ready(struct handler_conn *conn, short events, int timeout_ms)
{
	for (;;) {
		int64_t deadline = conn_progress_deadline_ms(conn, timeout_ms);
		int64_t end = monotonic_ms() + WAIT_SLICE_MS;

		if (end >= deadline)
			end = deadline;
		if (netio_wait_intr(conn->fd, events, end) == 0)
			return 0;
		if (errno != EINTR && (errno != ETIMEDOUT || end == deadline))
			return -1;
		conn_between_requests(conn);
	}
}

static int
send_all(struct handler_conn *conn, const char *buf, size_t len,
	 int timeout_ms)
{
	while (len > 0) {
		ssize_t n = write(conn->fd, buf, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wait_ready(conn, POLLOUT, timeout_ms) == -1)
				return -1;
			continue;
		}
		conn_progress(conn, (size_t)n);
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
echo_serve(struct handler_conn *conn)
{
	const struct echo_conf *ec = conn->hconf;
	char *buf = malloc(ec->buffer_size);
	int flags = fcntl(conn->fd, F_GETFL);

	if (buf == NULL || flags == -1 ||
	    fcntl(conn->fd, F_SETFL, flags | O_NONBLOCK) == -1)
		goto out;
	for (;;) {
		ssize_t n;

		/*
		 * Here too, not only in the waits: a client that always has
		 * bytes in flight may never let the worker wait.
		 */
		conn_between_requests(conn);
		n = read(conn->fd, buf, ec->buffer_size);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* An idle client is dropped after the server's timeout. */
			if (wait_ready(conn, POLLIN, ec->timeout_ms) == -1)
				break;
			continue;
		}
		if (n <= 0)
			break;
		conn_progress(conn, 0);
		if (send_all(conn, buf, (size_t)n, ec->timeout_ms) == -1)
			break;
	}
out:
	free(buf);
}

const struct handler echo_handler = {
	.name = "echo",
	.options = echo_options,
	.configure = echo_configure,
	.free_conf = echo_free,
	.serve = echo_serve,
};

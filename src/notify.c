/* SPDX-License-Identifier: BSD-2-Clause */
/* sd_notify without libsystemd: a datagram to NOTIFY_SOCKET. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static struct {
	bool on;
	bool handed_over;
	bool error_logged;
	struct sockaddr_un sun;
	socklen_t len;
} n;

int
notify_address(const char *value, struct sockaddr_un *sun, socklen_t *len)
{
	size_t l = value ? strlen(value) : 0;

	if (l < 2 || (value[0] != '/' && value[0] != '@') ||
	    l > sizeof(sun->sun_path) - (value[0] == '/'))
		return -1;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, value, l);
	if (value[0] == '@')
		sun->sun_path[0] = '\0';
	/* An abstract name has no terminator: its length says where it ends. */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l +
			   (value[0] == '/'));
	return 0;
}

bool
notify_init(void)
{
	const char *value = getenv("NOTIFY_SOCKET");

	n.on = false;
	if (value == NULL)
		return false;
	if (notify_address(value, &n.sun, &n.len) == -1) {
		log_error("NOTIFY_SOCKET=%s is not a socket path: no readiness "
			  "notifications", value);
		return false;
	}
	n.on = true;
	return true;
}

void
notify_set_handed_over(bool handed_over)
{
	n.handed_over = handed_over;
}

/* How long a change of state waits for room in a full manager's queue. */
#define NOTIFY_WAIT_MS 1000

/*
 * Sends without blocking: a manager that stops reading fills its queue
 * (ten datagrams by default), and a blocking send would then stop the
 * master for good, signals and all.  A change of state (READY=1,
 * STOPPING=1...) waits a bounded while for room, since the manager acts
 * on it; a STATUS= line it cannot take now is dropped.
 */
static ssize_t
send_bounded(int fd, const char *buf, size_t len, bool wait)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t r;

	/* Connected, poll() sees when the manager's queue has room. */
	if (connect(fd, (struct sockaddr *)&n.sun, n.len) == -1)
		return -1;
	for (;;) {
		do
			r = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (r == -1 && errno == EINTR);
		if (r != -1 || errno != EAGAIN || !wait)
			return r;
		wait = false;		/* one more try, after the wait */
		if (poll(&pfd, 1, NOTIFY_WAIT_MS) != 1) {
			errno = EAGAIN;
			return -1;
		}
	}
}

static void notify_send(bool state, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
notify_send(bool state, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int fd, len;

	if (!n.on)
		return;
	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if (len >= (int)sizeof(buf))
		len = (int)sizeof(buf) - 1;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_errno(LOG_LEVEL_WARNING, "socket() for NOTIFY_SOCKET");
		return;
	}
	/* Logged once: a manager that went away would otherwise flood us. */
	if (send_bounded(fd, buf, (size_t)len, state) == -1 &&
	    !n.error_logged) {
		log_errno(LOG_LEVEL_WARNING, "sendto(NOTIFY_SOCKET)");
		n.error_logged = true;
	}
	close(fd);
}

void
notify_ready(const char *status)
{
	if (n.handed_over)
		notify_send(true, "READY=1\nSTATUS=%s", status);
	else
		notify_send(true, "READY=1\nMAINPID=%d\nSTATUS=%s",
			    (int)getpid(), status);
}

void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send(true, "RELOADING=1\nMONOTONIC_USEC=%llu\n"
		    "STATUS=reloading",
		    (unsigned long long)ts.tv_sec * 1000000ULL +
		    (unsigned long long)ts.tv_nsec / 1000ULL);
}

void
notify_stopping(void)
{
	notify_send(true, "STOPPING=1\nSTATUS=stopping");
}

void
notify_draining(int seconds)
{
	notify_send(true, "STOPPING=1\nSTATUS=draining for %d s (health-path "
		    "answers 503), then a graceful stop", seconds);
}

void
notify_mainpid(pid_t pid, const char *status)
{
	notify_send(true, "MAINPID=%d\nSTATUS=%s", (int)pid, status);
}

/* Sent only when it changed: a periodic update must not chatter. */
void
notify_status(const char *status)
{
	static char last[256];

	if (strncmp(last, status, sizeof(last)) == 0)
		return;
	snprintf(last, sizeof(last), "%s", status);
	notify_send(false, "STATUS=%s", status);
}

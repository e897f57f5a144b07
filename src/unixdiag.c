/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The accept queue of a unix listening socket.  TCP gives it with
 * TCP_INFO and SIOCINQ refuses a unix socket; the kernel tells it through
 * sock_diag netlink (unix_diag, as ss -xl reads it): the socket is found
 * by its inode and its receive queue, for a listener the connections not
 * yet accepted, comes in the UNIX_DIAG_RQLEN attribute.
 */
#include "config.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unixdiag.h"

/* TCP_LISTEN of the kernel's socket states, which unix sockets share. */
#define UNIX_STATE_LISTEN 10

static int
diag_ask(int nl, ino_t ino)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.nlh.nlmsg_seq = 1;
	msg.req.sdiag_family = AF_UNIX;
	msg.req.udiag_states = 1u << UNIX_STATE_LISTEN;
	msg.req.udiag_ino = (uint32_t)ino;
	msg.req.udiag_show = UDIAG_SHOW_RQLEN;
	/* No cookie: the inode alone names it. */
	msg.req.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
	for (;;) {
		ssize_t n = sendto(nl, &msg, sizeof(msg), 0,
				   (struct sockaddr *)&kernel, sizeof(kernel));

		if (n == (ssize_t)sizeof(msg))
			return 0;
		if (n == -1 && errno == EINTR)
			continue;
		if (n != -1)
			errno = EIO;
		return -1;
	}
}

/* The queue from a UNIX_DIAG_RQLEN among attributes [p, p + len), or -1. */
static int
rqlen_attr(const char *p, size_t len)
{
	size_t off = 0;

	while (off + sizeof(struct rtattr) <= len) {
		const struct rtattr *a = (const void *)(p + off);
		struct unix_diag_rqlen q;

		if (a->rta_len < sizeof(*a) || a->rta_len > len - off)
			break;
		if (a->rta_type == UNIX_DIAG_RQLEN &&
		    a->rta_len >= RTA_LENGTH(sizeof(q))) {
			memcpy(&q, RTA_DATA(a), sizeof(q));
			return q.udiag_rqueue > INT32_MAX ? INT32_MAX :
			       (int)q.udiag_rqueue;
		}
		off += RTA_ALIGN(a->rta_len);
	}
	return -1;
}

/* The queue length from one answer, or -1 (errno set). */
static int
diag_read(const char *buf, size_t len, ino_t ino)
{
	size_t off = 0;

	while (off + sizeof(struct nlmsghdr) <= len) {
		const struct nlmsghdr *h = (const void *)(buf + off);
		const struct unix_diag_msg *m = NLMSG_DATA(h);
		int q;

		if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len - off)
			break;
		if (h->nlmsg_type == NLMSG_ERROR &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			errno = e->error < 0 ? -e->error : EIO;
			return -1;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(*m)) &&
		    m->udiag_ino == (uint32_t)ino &&
		    (q = rqlen_attr((const char *)(m + 1), h->nlmsg_len -
				    NLMSG_LENGTH(sizeof(*m)))) != -1)
			return q;
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	errno = ENOENT;
	return -1;
}

/*
 * Not there for good: no netlink (a sandbox), no unix_diag in the kernel
 * (which then runs modprobe at each request), or not allowed.
 */
static bool
unavailable(int err)
{
	return err == EAFNOSUPPORT || err == EPROTONOSUPPORT ||
	       err == ENOENT || err == EPERM || err == EACCES;
}

/* Once it is known not to work, it is not asked again. */
static int given_up;

bool
unixdiag_given_up(void)
{
	return given_up != 0;
}

int
unixdiag_listen_queue(int fd)
{
	/* One answer: a message and two small attributes. */
	char buf[1024] __attribute__((aligned(8)));
	struct stat st;
	ssize_t n;
	int nl, q = -1;

	if (given_up != 0) {
		errno = given_up;
		return -1;
	}
	if (fstat(fd, &st) == -1)
		return -1;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl == -1) {
		if (unavailable(errno))
			given_up = errno;
		return -1;
	}
	if (diag_ask(nl, st.st_ino) == 0) {
		do
			n = recv(nl, buf, sizeof(buf), 0);
		while (n == -1 && errno == EINTR);
		if (n > 0)
			q = diag_read(buf, (size_t)n, st.st_ino);
		else if (n == 0)
			errno = EIO;
	}
	if (q == -1) {
		int saved = errno;

		close(nl);
		if (unavailable(saved))
			given_up = saved;
		errno = saved;
		return -1;
	}
	close(nl);
	return q;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Takes the PROXY header off a new connection before the handler sees
 * it.  Bytes are peeked, and only those that belong to the header are
 * consumed, so the client's first bytes stay in the socket for the
 * handler however the balancer's segments fell.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "netio.h"
#include "proxy.h"
#include "proxyio.h"
#include "scoreboard.h"

bool
proxyio_peer_allowed(const struct server_conf *server,
		     const struct sockaddr_storage *peer, socklen_t peerlen)
{
	for (size_t i = 0; i < server->nproxy_allow; i++)
		if (addr_cidr_match(&server->proxy_allow[i],
				    (const struct sockaddr *)peer, peerlen))
			return true;
	return false;
}

/* Consumes exactly len bytes already seen by a peek. */
static int
consume(int fd, unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = recv(fd, buf, len, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * "missing", with what came instead ("GET / HTTP/1.1", a TLS hello as
 * dots): the log then says at once who forgot the header.
 */
static const char *
no_header(const unsigned char *buf, size_t len, int mode)
{
	enum proxy_mode came = proxy_signature(buf, len);
	static char why[64];
	char seen[25];
	size_t n = 0;

	/*
	 * The likeliest mistake: the balancer sends the other version.  A
	 * version 2 header would otherwise show as "" (it begins with CR LF).
	 */
	if (came != PROXY_OFF && !(mode & came))
		return came == PROXY_V2 ?
		       "missing (a version 2 header came; proxy-protocol is "
		       "\"v1\")" :
		       "missing (a version 1 header came; proxy-protocol is "
		       "\"v2\")";

	for (; n < len && n < sizeof(seen) - 1; n++) {
		if (buf[n] == '\r' || buf[n] == '\n')
			break;
		seen[n] = buf[n] >= 0x20 && buf[n] < 0x7f && buf[n] != '"' ?
			  (char)buf[n] : '.';
	}
	seen[n] = '\0';
	snprintf(why, sizeof(why), "missing (the connection began \"%s\")",
		 seen);
	return why;
}

int
proxyio_read_header(int fd, int mode, int64_t deadline_ms,
		    struct sockaddr_storage *peer, socklen_t *peerlen,
		    const char **why)
{
	unsigned char buf[PROXY_MAX];
	struct proxy_header h;
	size_t have = 0;

	for (;;) {
		enum proxy_result r;
		ssize_t n;

		*why = have == 0 ? "missing (timeout)" : "partial (timeout)";
		if (netio_wait_readable(fd, deadline_ms) == -1)
			return -1;
		n = recv(fd, buf + have, sizeof(buf) - have, MSG_PEEK);
		if (n == -1 && errno == EINTR)
			continue;
		*why = n == -1 ? "receive error" : have == 0 ? "missing" :
		       "partial";
		if (n <= 0)
			return -1;
		r = proxy_parse(buf, have + (size_t)n, (enum proxy_mode)mode, &h);
		if (r == PROXY_BAD) {
			*why = proxy_begins_header(buf, have + (size_t)n,
						   (enum proxy_mode)mode) ?
			       "malformed" : no_header(buf, have + (size_t)n,
						       mode);
			return -1;
		}
		if (r == PROXY_DONE) {
			*why = "receive error";
			if (consume(fd, buf + have, h.len - have) == -1)
				return -1;
			break;
		}
		/* Everything seen so far is header: take it, wait for more. */
		*why = "receive error";
		if (consume(fd, buf + have, (size_t)n) == -1)
			return -1;
		have += (size_t)n;
	}
	if (h.family != 0) {
		memcpy(peer, &h.src, h.srclen);
		*peerlen = h.srclen;
	}
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PURE parser of the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * version 1 text line and version 2 binary block) that a load balancer
 * sends before the client's bytes.  No system calls: the worker peeks at
 * the socket and hands the bytes over.
 */
#ifndef PREFORKD_PROXY_H
#define PREFORKD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Which versions a server accepts (the proxy-protocol option). */
enum proxy_mode {
	PROXY_OFF = 0,
	PROXY_V1 = 1,
	PROXY_V2 = 2,
	PROXY_ANY = PROXY_V1 | PROXY_V2,
};

/* The longest v1 line, CRLF included ("PROXY UNKNOWN" with 2 IPv6...). */
#define PROXY_V1_MAX 107
/*
 * The longest v2 header taken: the 16-byte head, two UNIX addresses and
 * room for TLVs.  HAProxy's own TLVs (ALPN, authority, unique id, SSL
 * details) fit well within it; a longer header is refused, not buffered.
 */
#define PROXY_V2_MAX 2048
#define PROXY_MAX PROXY_V2_MAX

enum proxy_result {
	PROXY_DONE,		/* a complete, valid header */
	PROXY_MORE,		/* valid so far: more bytes are needed */
	PROXY_BAD,		/* not a valid header of an accepted version */
};

struct proxy_header {
	int version;		/* 1 or 2 */
	/*
	 * 0 for LOCAL, UNKNOWN and unsupported families: the connection's
	 * own addresses stand.  Otherwise AF_INET, AF_INET6 or AF_UNIX.
	 */
	int family;
	struct sockaddr_storage src, dst;
	socklen_t srclen, dstlen;
	size_t len;		/* bytes the header takes on the wire */
};

/*
 * Parses the first len bytes received on a connection, for the versions
 * in mode.  PROXY_DONE fills *h (h->len bytes are the header; what
 * follows is the client's); PROXY_MORE says the bytes so far are a valid
 * beginning; PROXY_BAD covers everything else, an over-long header too.
 */
enum proxy_result proxy_parse(const unsigned char *buf, size_t len,
			      enum proxy_mode mode, struct proxy_header *h);

/*
 * Whether buf[0..len) (len > 0) begins as a header of a version in mode
 * would: if not, the peer sent none at all, the usual mistake (a client
 * that bypasses the balancer, a balancer not told to send one).
 */
bool proxy_begins_header(const unsigned char *buf, size_t len,
			 enum proxy_mode mode);
/* The version whose whole signature buf[0..len) begins with, or PROXY_OFF. */
enum proxy_mode proxy_signature(const unsigned char *buf, size_t len);

/* "off", "v1", "v2", "any" -> the mode; -1 for anything else. */
int proxy_mode_parse(const char *text);

#endif

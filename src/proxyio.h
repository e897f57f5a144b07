/* SPDX-License-Identifier: BSD-2-Clause */
/* The worker's side of the PROXY protocol: reading the header off a socket. */
#ifndef PREFORKD_PROXYIO_H
#define PREFORKD_PROXYIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"

/* Whether peer is one that must send the header (in proxy-allow). */
bool proxyio_peer_allowed(const struct server_conf *server,
			  const struct sockaddr_storage *peer,
			  socklen_t peerlen);

/*
 * Reads the header from fd, and not a byte more, by deadline_ms
 * (CLOCK_MONOTONIC).  0: *peer is the header's source (unchanged for
 * LOCAL, UNKNOWN and families not relayed); -1: the connection is to be
 * closed, *why says in a word why (missing, malformed, timeout...).
 */
int proxyio_read_header(int fd, int mode, int64_t deadline_ms,
			struct sockaddr_storage *peer, socklen_t *peerlen,
			const char **why);

#endif

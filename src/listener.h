/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening sockets, shared by generations: a reload that keeps an address
 * keeps the very same socket, so no connection is refused meanwhile.
 */
#ifndef PREFORKD_LISTENER_H
#define PREFORKD_LISTENER_H

#include <stddef.h>

#include "addr.h"

struct listener {
	struct addr addr;		/* as configured (port may be 0) */
	struct addr bound;		/* with the port really bound */
	int fd;
	int refs;			/* generations using it */
	unsigned claimed_by;		/* generation that last took it */
	char name[ADDR_TEXT_MAX];	/* bound address, real port */
	char owner[64];			/* the server it was bound for */
	struct listener *next;
};

/*
 * The listener for server owner's addr in generation gen: the existing
 * socket when one has this address (for port 0: and this owner, as
 * several servers may each ask for "any port") and gen has not taken it
 * yet, else a new bound one.
 * Returns NULL with a message such as "bind(127.0.0.1:80): Address
 * already in use" in err.
 */
struct listener *listener_acquire(const struct addr *addr, const char *owner,
				  int backlog, unsigned gen, char *err,
				  size_t errlen);
/* Drops a reference; the last one closes it (and unlinks a unix path). */
void listener_release(struct listener *l);
/* In a worker: closes every listener but keep. */
void listener_close_others(int keep_fd);
/*
 * Graceful stop: closes every listening socket (the port then refuses
 * connections) and unlinks unix socket files; references stay valid.
 */
void listener_close_all(void);

#endif

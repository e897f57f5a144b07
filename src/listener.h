/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening sockets, shared by generations: a reload that keeps an address
 * keeps the very same socket, so no connection is refused meanwhile.
 */
#ifndef PREFORKD_LISTENER_H
#define PREFORKD_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "addr.h"

struct server_conf;

struct listener {
	struct addr addr;		/* as configured (port may be 0) */
	struct addr bound;		/* with the port really bound */
	int fd;
	int refs;			/* generations using it */
	int backlog;			/* as last given to listen(), -1: not yet */
	unsigned claimed_by;		/* generation that last took it */
	char name[ADDR_TEXT_MAX];	/* bound address, real port */
	char owner[64];			/* the server it was bound for */
	bool managed;			/* systemd's unix path: never unlinked */
	pid_t shared_with;		/* an old master's too, while it runs */
	struct listener *next;
};

/*
 * Hands over a listening socket that the process inherited (socket
 * activation, binary upgrade): the next listener_acquire() of its address,
 * read with getsockname(), takes it instead of binding.  owner: the server
 * it served, which lets a "port 0" address find it again, or NULL.
 * origin names it in messages ("LISTEN_FDS fd 3").  managed: the service
 * manager's socket, which a server must use and whose unix socket file is
 * not ours to remove.  shared_with: the old master of an upgrade, our
 * parent, which serves on the socket too and may take the service back:
 * while it runs, the unix socket file is its own, and closing the socket
 * here leaves it; 0 for none.  Returns 0, or -1 with err (the fd is then
 * the caller's).
 */
int listener_inherit(int fd, const char *owner, const char *origin,
		     bool managed, pid_t shared_with, char *err,
		     size_t errlen);
/*
 * Before the first generation binds anything: a socket the service
 * manager passed that no server's listen address takes is the config
 * mistake it is (-1, said in err), not later a failed bind of a nearby
 * address (0.0.0.0:80 beside a passed 127.0.0.1:80) on the port it holds.
 */
int listener_inherited_check(const struct server_conf *servers, size_t n,
			     char *err, size_t errlen);
/*
 * Once the first generation is made: closes the inherited sockets that no
 * server took.  One the service manager passed (managed) is an error,
 * the first named in err: -1.  Returns 0 otherwise.
 */
int listener_inherited_settle(char *err, size_t errlen);
/* The open listening sockets (at most max), for an upgrade to pass on. */
size_t listener_all(struct listener **out, size_t max);
/*
 * While another master (the new one of an upgrade) serves on the same
 * sockets, closing them must not remove their unix socket files.
 */
void listener_keep_paths(bool keep);

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
/*
 * The backlog of a generation that serves: a socket kept by a reload, or
 * adopted from the old master of an upgrade, keeps its own until then,
 * so that a reload or an upgrade that fails changes nothing.  0, or -1
 * with errno.
 */
int listener_set_backlog(struct listener *l, int backlog);

/*
 * net.core.somaxconn of the master's network namespace, the kernel's cap
 * on every listen() backlog; -1 if it cannot be read.
 */
int listener_somaxconn(void);
/* Drops a reference; the last one closes it (and unlinks a unix path). */
void listener_release(struct listener *l);
/* At most this many queued connections are closed by listener_retire. */
#define LISTENER_RETIRE_MAX	4096
/*
 * Closes a listener the configuration dropped, once no worker accepts on
 * it any more: the port refuses new connections, and each connection
 * still queued is accepted and closed in order rather than reset.
 * References stay valid.
 */
void listener_retire(struct listener *l);
/* In a worker: closes every listener but keep. */
void listener_close_others(int keep_fd);
/*
 * Graceful stop: closes every listening socket (the port then refuses
 * connections) and unlinks unix socket files; references stay valid.
 */
void listener_close_all(void);
/* Connections waiting in the accept queue now; -1 if it cannot tell. */
int listener_queued(const struct listener *l);

#endif

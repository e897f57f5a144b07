/* SPDX-License-Identifier: BSD-2-Clause */
/* Listening sockets, shared by generations and kept across reloads. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "listener.h"
#include "log.h"
#include "unixdiag.h"

static struct listener *listeners;

/* Sockets handed over by systemd or an old master, until a server claims one. */
struct inherited {
	int fd;
	struct addr addr;		/* from getsockname() */
	char name[ADDR_TEXT_MAX];
	char owner[64];			/* the server it served, or "" */
	char origin[64];		/* for messages: "LISTEN_FDS fd 3" */
	bool managed;			/* the service manager's (socket activation) */
	pid_t shared_with;		/* the old master of an upgrade, or 0 */
	struct inherited *next;
};

static struct inherited *inherited;
static bool keep_paths;

/*
 * A socket file left by a crashed run is removed; one that still answers
 * belongs to a live server and is left alone (bind then fails).  The
 * probe never waits: a live server with a full backlog would otherwise
 * hold the master in connect() for as long as it stays full.
 */
static void
unix_remove_stale(const struct addr *addr)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&addr->sa;
	struct stat st;
	int fd;

	if (lstat(sun->sun_path, &st) == -1 || !S_ISSOCK(st.st_mode))
		return;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 0)) == -1)
		return;
	if (connect(fd, (const struct sockaddr *)&addr->sa, addr->salen) == -1 &&
	    errno == ECONNREFUSED) {
		if (unlink(sun->sun_path) == 0)
			log_notice("removed stale socket %s", sun->sun_path);
	}
	close(fd);
}

static int
socket_bind(const struct addr *addr, int backlog, struct addr *bound_out,
	    char *name, size_t namelen, char *err, size_t errlen)
{
	struct sockaddr_storage bound;
	socklen_t boundlen = sizeof(bound);
	const char *call = "socket";
	int fd, on = 1;

	addr_format(addr, name, namelen);
	if ((fd = socket(addr->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	call = "setsockopt";
	if (addr->family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (addr->family == AF_INET6) {
		int v6only = !addr->dual_stack;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			       sizeof(v6only)) == -1)
			goto fail;
	}
	if (addr->family == AF_UNIX)
		unix_remove_stale(addr);
	call = "bind";
	if (bind(fd, (const struct sockaddr *)&addr->sa, addr->salen) == -1)
		goto fail;
	/*
	 * As nginx does: any local user may connect, as to a TCP port; the
	 * directory's permissions say who may reach it.  Not the umask's
	 * 0755, which lets only the master's user in.
	 */
	call = "chmod";
	if (addr->family == AF_UNIX &&
	    chmod(((const struct sockaddr_un *)&addr->sa)->sun_path, 0666) == -1) {
		int saved = errno;

		unlink(((const struct sockaddr_un *)&addr->sa)->sun_path);
		errno = saved;
		goto fail;
	}
	call = "listen";
	if (listen(fd, backlog) == -1)
		goto fail;
	if (addr->family != AF_UNIX &&
	    getsockname(fd, (struct sockaddr *)&bound, &boundlen) == 0) {
		*bound_out = *addr;
		addr_set_port(bound_out, addr_port(&(struct addr){
			.family = bound.ss_family, .sa = bound }));
		addr_format(bound_out, name, namelen);
	} else {
		*bound_out = *addr;
	}
	return fd;
fail:
	snprintf(err, errlen, "%s(%s): %s", call, name, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static bool
listener_matches(const struct listener *l, const struct addr *addr,
		 const char *owner)
{
	/* A port 0 written out as the port it got is the same socket. */
	if (addr_equal(&l->bound, addr) && addr_port(addr) != 0)
		return true;
	return addr_equal(&l->addr, addr) &&
	       (addr->family == AF_UNIX || addr_port(addr) != 0 ||
		strcmp(l->owner, owner) == 0);
}

static bool
inherited_matches(const struct inherited *h, const struct addr *addr,
		  const char *owner)
{
	struct addr any_port;

	if (addr_equal(&h->addr, addr))
		return true;
	/* "Any port" kept across an upgrade: the same server's socket. */
	if (addr->family == AF_UNIX || addr_port(addr) != 0 ||
	    strcmp(h->owner, owner) != 0)
		return false;
	any_port = h->addr;
	addr_set_port(&any_port, 0);
	return addr_equal(&any_port, addr);
}

/* Gives l the inherited socket of its address, if there is one (fd -1 else). */
static int
inherited_claim(struct listener *l, char *err, size_t errlen)
{
	struct inherited **pp, *h;

	l->fd = -1;
	for (pp = &inherited; (h = *pp) != NULL; pp = &h->next)
		if (inherited_matches(h, &l->addr, l->owner))
			break;
	if (h == NULL)
		return 0;
	/* Ours now: no later exec may take it unasked. */
	if (fcntl(h->fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "fcntl(%s, FD_CLOEXEC): %s", h->name,
			 strerror(errno));
		return -1;
	}
	*pp = h->next;
	l->fd = h->fd;
	l->bound = h->addr;
	l->managed = h->managed;
	l->shared_with = h->shared_with;
	/*
	 * Listening already, maybe for the old master of an upgrade too:
	 * our backlog is applied once we serve, so that a new master that
	 * fails leaves the old one's (generation_serving).
	 */
	l->backlog = -1;
	snprintf(l->name, sizeof(l->name), "%s", h->name);
	log_info("server %s: adopted %s from %s", l->owner, h->name, h->origin);
	free(h);
	return 0;
}

int
listener_inherit(int fd, const char *owner, const char *origin,
		 bool managed, pid_t shared_with, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), optlen = sizeof(int);
	int type = 0, listening = 0, v6only = 0;
	struct inherited *h;

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &optlen) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
		       &optlen) == -1) {
		snprintf(err, errlen, "%s: not a socket: %s", origin,
			 strerror(errno));
		return -1;
	}
	if (ss.ss_family == AF_INET6 &&
	    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen) == -1) {
		snprintf(err, errlen, "%s: getsockopt(IPV6_V6ONLY): %s", origin,
			 strerror(errno));
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (type != SOCK_STREAM || !listening ||
	    addr_from_sockaddr(&ss, len, v6only, &h->addr) == -1) {
		snprintf(err, errlen, "%s: not a listening TCP or unix path "
			 "stream socket", origin);
		free(h);
		return -1;
	}
	h->fd = fd;
	h->managed = managed;
	h->shared_with = shared_with;
	addr_format(&h->addr, h->name, sizeof(h->name));
	snprintf(h->owner, sizeof(h->owner), "%s", owner ? owner : "");
	snprintf(h->origin, sizeof(h->origin), "%s", origin);
	h->next = inherited;
	inherited = h;
	return 0;
}

/* systemd listens there for us: a config mistake. */
static void
unwanted_error(const struct inherited *h, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: inherited socket %s is the listen address "
		 "of no server", h->origin, h->name);
}

int
listener_inherited_check(const struct server_conf *servers, size_t n,
			 char *err, size_t errlen)
{
	for (const struct inherited *h = inherited; h != NULL; h = h->next) {
		bool wanted = false;

		for (size_t i = 0; i < n && !wanted; i++)
			wanted = inherited_matches(h, &servers[i].listen,
						   servers[i].name);
		if (h->managed && !wanted) {
			unwanted_error(h, err, errlen);
			return -1;
		}
	}
	return 0;
}

int
listener_inherited_settle(char *err, size_t errlen)
{
	struct inherited *h;
	int rc = 0;

	while ((h = inherited) != NULL) {
		inherited = h->next;
		if (h->managed && rc == 0) {
			unwanted_error(h, err, errlen);
			rc = -1;
		} else if (!h->managed) {
			log_notice("closed inherited listener %s: no server "
				   "listens there now", h->name);
		}
		close(h->fd);
		free(h);
	}
	return rc;
}

size_t
listener_all(struct listener **out, size_t max)
{
	size_t n = 0;

	for (struct listener *l = listeners; l != NULL; l = l->next)
		if (l->fd != -1 && n < max)
			out[n++] = l;
	return n;
}

void
listener_keep_paths(bool keep)
{
	keep_paths = keep;
}

/*
 * Accepted TCP sockets inherit TCP_NODELAY from their listener: set here
 * once, it spares every connection a setsockopt().  Responses go out whole
 * (head and body in one write, or the head held with MSG_MORE), and an
 * echo is due at once, so Nagle could only delay them.  Set on adopted
 * sockets too: whoever bound them may not have.  A socket that refuses
 * it (not TCP after all) still serves, with Nagle.
 */
static void
listener_nodelay(const struct listener *l)
{
	int on = 1;

	if (l->bound.family != AF_UNIX &&
	    setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		log_errno(LOG_LEVEL_WARNING, "setsockopt(%s, TCP_NODELAY)",
			  l->name);
}

/*
 * A reload from 127.0.0.1:80 to 0.0.0.0:80 fails on a port that is in
 * use by this very master: "Address already in use" alone sends the
 * administrator looking for another process.
 */
static void
explain_own_conflict(const struct addr *addr, char *err, size_t errlen)
{
	size_t len = strlen(err);

	for (const struct listener *l = listeners; l != NULL; l = l->next)
		if (l->fd != -1 && addr_conflicts(&l->bound, addr)) {
			snprintf(err + len, errlen - len, " (this master's "
				 "listener %s holds it: moving to an address "
				 "that overlaps one in use takes a restart)",
				 l->name);
			return;
		}
}

struct listener *
listener_acquire(const struct addr *addr, const char *owner, int backlog,
		 unsigned gen, char *err, size_t errlen)
{
	struct listener *l;

	for (l = listeners; l != NULL; l = l->next) {
		if (l->fd == -1 || l->claimed_by == gen ||
		    !listener_matches(l, addr, owner))
			continue;
		/* Its backlog changes once gen serves: listener_set_backlog. */
		l->refs++;
		l->claimed_by = gen;
		return l;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->addr = *addr;
	snprintf(l->owner, sizeof(l->owner), "%s", owner);
	if (inherited_claim(l, err, errlen) == -1) {
		free(l);
		return NULL;
	}
	if (l->fd == -1) {
		l->fd = socket_bind(addr, backlog, &l->bound, l->name,
				    sizeof(l->name), err, errlen);
		if (l->fd == -1) {
			free(l);
			explain_own_conflict(addr, err, errlen);
			return NULL;
		}
		l->backlog = backlog;
	}
	listener_nodelay(l);
	l->refs = 1;
	l->claimed_by = gen;
	l->next = listeners;
	listeners = l;
	return l;
}

/*
 * Whether closing l removes its socket file.  One adopted from the old
 * master of an upgrade is still that master's while it runs (as our
 * parent): a new master that fails, or is rolled back, must leave it to
 * the master that serves on.  Once the old master has gone, it is ours.
 */
static bool
listener_owns_path(const struct listener *l)
{
	if (l->addr.family != AF_UNIX || l->managed || keep_paths)
		return false;
	return l->shared_with == 0 || getppid() != l->shared_with;
}

static void
listener_shut(struct listener *l)
{
	if (l->fd == -1)
		return;
	close(l->fd);
	l->fd = -1;
	if (listener_owns_path(l))
		unlink(((const struct sockaddr_un *)&l->addr.sa)->sun_path);
}

int
listener_set_backlog(struct listener *l, int backlog)
{
	/* listen() again only updates the backlog of a live socket. */
	if (l->backlog == backlog)
		return 0;
	if (listen(l->fd, backlog) == -1)
		return -1;
	l->backlog = backlog;
	return 0;
}

int
listener_somaxconn(void)
{
	char text[32];
	ssize_t n;
	long v;
	int fd;

	if ((fd = open("/proc/sys/net/core/somaxconn",
		       O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	do
		n = read(fd, text, sizeof(text) - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	v = strtol(text, NULL, 10);
	return v > 0 && v <= INT_MAX ? (int)v : -1;
}

void
listener_release(struct listener *l)
{
	struct listener **pp;

	if (l == NULL || --l->refs > 0)
		return;
	for (pp = &listeners; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	if (l->fd != -1)
		log_info("closed listener %s", l->name);
	listener_shut(l);
	free(l);
}

/*
 * Closing a socket with unread bytes resets the connection: read what
 * arrived (bounded), so the close is an orderly end for the client.
 */
static void
conn_close_orderly(int fd)
{
	char buf[4096];

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n == -1 && errno != EINTR))
			break;
	}
	close(fd);
}

void
listener_retire(struct listener *l)
{
	int flags, fd, n = 0;

	if (l->fd == -1)
		return;
	/*
	 * The last close of a listening socket resets what is queued on
	 * it: take each queued connection first.  Bounded, so a flood
	 * cannot hold the master here.
	 */
	flags = fcntl(l->fd, F_GETFL);
	if (flags != -1 && fcntl(l->fd, F_SETFL, flags | O_NONBLOCK) != -1)
		while (n < LISTENER_RETIRE_MAX) {
			fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd == -1 && (errno == EINTR || errno == ECONNABORTED))
				continue;
			if (fd == -1)
				break;
			conn_close_orderly(fd);
			n++;
		}
	if (n > 0)
		log_notice("closed listener %s, no longer configured, and %d "
			   "connection%s queued on it", l->name, n,
			   n == 1 ? "" : "s");
	else
		log_notice("closed listener %s, no longer configured", l->name);
	listener_shut(l);
}

void
listener_close_others(int keep_fd)
{
	for (struct listener *l = listeners; l != NULL; l = l->next)
		if (l->fd != keep_fd && l->fd != -1)
			close(l->fd);
}

void
listener_close_all(void)
{
	for (struct listener *l = listeners; l != NULL; l = l->next)
		listener_shut(l);
}

int
listener_queued(const struct listener *l)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (l->fd == -1)
		return 0;
	if (l->addr.family == AF_UNIX)
		return unixdiag_listen_queue(l->fd);
	/* On a listening socket, tcpi_unacked is the accept queue's length. */
	if (getsockopt(l->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -1;
	return (int)ti.tcpi_unacked;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The seam between the core and a protocol handler.  The core knows a
 * handler only through struct handler; a handler knows nothing of the
 * master, only the connection it is given and the conn_* calls below.
 */
#ifndef PREFORKD_HANDLER_H
#define PREFORKD_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <confuse.h>

struct server_conf;

struct handler_conn {
	int fd;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	const struct server_conf *server;
	void *hconf;			/* what the handler's configure made */
};

struct handler {
	const char *name;
	/* Options of the handler's own section, named after the handler. */
	cfg_opt_t *options;
	/*
	 * Turns the parsed section (always present, defaults applied) into the
	 * handler's config.  Reports problems with conf_error() and returns
	 * -1; the core never calls serve with a config that failed here.
	 */
	int (*configure)(cfg_t *section, const struct server_conf *server,
			 void **hconf);
	void (*free_conf)(void *hconf);
	/*
	 * In the master, before its generation's workers fork: open files
	 * with the master's rights and give them to uid ((uid_t)-1: keep).
	 * -1 fails the start or the reload.
	 */
	int (*prepare)(void *hconf, uid_t uid);
	/*
	 * In a new worker, for every configuration but its own server's in
	 * its own generation: closes what prepare opened, so a worker never
	 * holds another server's or a retired generation's files (a rotated
	 * log would stay allocated as long as any worker lives).
	 */
	void (*close_files)(void *hconf);
	/* In the worker, after the privilege drop; -1 = fatal for the worker. */
	int (*worker_init)(void *hconf);
	/* Serves one accepted connection; the core closes fd afterwards. */
	void (*serve)(struct handler_conn *conn);
	/*
	 * On SIGUSR1, in the master (uid as for prepare) and in each worker
	 * ((uid_t)-1): reopen the handler's own log files.  -1 (said in the
	 * log) if one stays on its old file.
	 */
	int (*reopen)(void *hconf, uid_t uid);
};

/* Every handler, NULL-terminated. */
extern const struct handler *const handlers[];
const struct handler *handler_find(const char *name);

/* Implemented by the worker: progress keeps the no-progress timeout away. */
void conn_progress(struct handler_conn *conn, size_t bytes_sent);
/*
 * Until when a handler may wait on its client for the server's no-progress
 * timeout (timeout_ms < 0: none, INT64_MAX): that long after the last
 * progress, less a margin.  The master counts from the same moment and
 * kills a worker stuck past timeout, so the handler gives the client up
 * first, cleanly, whatever signals interrupt its wait.
 */
int64_t conn_progress_deadline_ms(const struct handler_conn *conn,
				  int timeout_ms);
/* A request begins: its request line, for the scoreboard. */
void conn_note_request(struct handler_conn *conn, const char *line,
		       size_t len);
/*
 * True once the worker has been told to stop gracefully, or to give its
 * connection up: the response in progress says Connection: close.
 */
bool conn_stopping(const struct handler_conn *conn);
/*
 * Between two requests of a connection (echo: two reads), and in its
 * waits once a signal or a slice of the wait ends them: does what the
 * worker was signalled for meanwhile (SIGUSR1: reopen its logs), so a
 * long keep-alive connection or echo session does not keep writing to a
 * rotated log.  Only a flag test when there is nothing to do.
 */
void conn_between_requests(struct handler_conn *conn);
/*
 * True once the worker itself is to exit (graceful stop, reload), not
 * merely asked to give a connection up: what it holds beyond the
 * connection (cached files) may go now.
 */
bool conn_retiring(const struct handler_conn *conn);
/*
 * True once the instance drains: a graceful stop or an upgrade's
 * retirement has begun, though the worker may serve on for drain-delay.
 */
bool conn_draining(const struct handler_conn *conn);

/* What a connection is doing, for the scoreboard and the watchdog. */
enum conn_phase {
	CONN_READING,		/* reading a request */
	CONN_WRITING,		/* answering it (the default while served) */
	CONN_KEEPALIVE,		/* waiting for a next request */
	CONN_CLOSING,		/* lingering close */
};

/*
 * Enters a phase.  deadline_ms (CLOCK_MONOTONIC, 0 = none) is the
 * handler's own limit for it: the master's no-progress timeout never
 * kills a worker within that deadline, the handler ends the wait itself.
 */
void conn_phase(struct handler_conn *conn, enum conn_phase phase,
		int64_t deadline_ms);

/*
 * The status page: the scoreboard of every server rendered as format
 * (format[0..flen): "text", "json" or "prometheus"; empty = text) into
 * *out (malloc'd: free() it) of *len bytes, its media type in *type.
 * 0; -1 with errno EINVAL for an unknown format, else out of memory.
 */
int conn_status(const struct handler_conn *conn, const char *format,
		size_t flen, char **out, size_t *len, const char **type);

/*
 * When a wait for the next request on an idle connection must end at the
 * latest: now when the master asked for the worker back (connections
 * queue), the graceful stop's limit when told to stop, else INT64_MAX.
 * The worker's signals interrupt a blocking read for this to be checked.
 */
int64_t conn_idle_limit_ms(const struct handler_conn *conn);
/*
 * Only the first of those: the master asked for the worker back.  A new
 * connection that has sent nothing yet is given up for that alone; a
 * graceful stop lets it send its request (QUIT finishes the connection).
 */
bool conn_drop_asked(const struct handler_conn *conn);

#endif

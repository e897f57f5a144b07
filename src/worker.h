/* SPDX-License-Identifier: BSD-2-Clause */
/* The child side: signals, privilege drop, accept loop, handler call. */
#ifndef PREFORKD_WORKER_H
#define PREFORKD_WORKER_H

#include <sys/types.h>

struct conf;
struct server_conf;
struct slot;
struct sb_server;
struct scoreboard;

struct worker_args {
	const struct conf *conf;
	const struct server_conf *server;
	struct slot *slot;
	struct sb_server *record;	/* its server's totals, or NULL */
	int listen_fd;
	pid_t master_pid;
	int wake_fd;			/* the master's eventfd, -1 if none */
	long max_requests;		/* with its jitter; 0 = no limit */
	const struct scoreboard *sb;	/* every worker's, for the status page */
};

/* Runs in the forked child; never returns. */
_Noreturn void worker_main(const struct worker_args *args);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The status page and metrics: PURE renderers of a scoreboard snapshot
 * as a text table, JSON or the Prometheus text exposition format.  The
 * snapshot is plain memory (scoreboard_snapshot() takes one), so the
 * renderers are tested on fixed snapshots, golden text.
 */
#ifndef PREFORKD_STATUS_H
#define PREFORKD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scoreboard.h"

enum status_format { STATUS_TEXT, STATUS_JSON, STATUS_PROMETHEUS };

struct status_server {
	char name[SB_NAME_MAX];
	char listen[SB_LISTEN_MAX];
	unsigned generation;		/* 0: never served, not listed */
	int queue, queue_peak, max_workers;
	int min_spare, max_spare;	/* a dynamic pool's idle band; 0 fixed */
	int workers[SLOT_NSTATES];	/* live workers by state */
	/* Totals: gone workers' counts plus the live ones'. */
	uint64_t connections, requests, bytes_sent;
	uint64_t restarts[RESTART_NREASONS];
	uint64_t max_workers_reached;
	uint64_t proxy_refused;
};

struct status_worker {
	int slot;
	pid_t pid;
	unsigned generation;
	int server;			/* index in servers, -1 unknown */
	int state;
	int64_t seconds;		/* in that state */
	uint64_t connections, requests, bytes_sent;
	char client[SLOT_CLIENT_MAX];
	char request[SLOT_REQUEST_MAX];
};

struct status_snapshot {
	pid_t master_pid;
	int64_t uptime_s;
	unsigned generation;
	uint64_t reloads;
	int state;			/* enum master_state */
	size_t nservers, nworkers;
	struct status_server servers[SB_SERVERS_MAX];
	struct status_worker *workers;
};

/* A growing string; failed once memory ran out (the text is then cut). */
struct status_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

/* "text", "json", "prometheus" (NULL or "" = text); -1 if unknown. */
int status_format_parse(const char *name, size_t len);
const char *status_content_type(enum status_format format);

/* Appends the snapshot rendered as format to out; 0, or -1 (memory). */
int status_render(const struct status_snapshot *snap,
		  enum status_format format, struct status_buf *out);
void status_buf_free(struct status_buf *b);

#endif

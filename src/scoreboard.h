/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Worker state in shared memory, created by the master before any fork.
 * The master owns slot allocation (pid, generation, server) and the
 * per-server records; a worker writes only its own slot's state and
 * counters.  The mapping is a memfd, so `preforkd -s status` can map the
 * running master's scoreboard read-only.
 */
#ifndef PREFORKD_SCOREBOARD_H
#define PREFORKD_SCOREBOARD_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum slot_state {
	SLOT_FREE = 0,
	SLOT_STARTING,		/* forked, not yet in accept() */
	SLOT_IDLE,		/* blocked in accept() */
	SLOT_READING,		/* reading a request (head) */
	SLOT_WRITING,		/* answering; the echo handler's only state */
	SLOT_KEEPALIVE,		/* waiting for a next request on a connection */
	SLOT_CLOSING,		/* closing a connection, or leaving */
	SLOT_NSTATES
};

/* Why a worker of a server was replaced, for the status counters. */
enum restart_reason {
	RESTART_CRASH,
	RESTART_TIMEOUT,
	RESTART_MAX_REQUESTS,
	RESTART_MAX_MEMORY,
	RESTART_NREASONS
};

/*
 * What the master is doing, as the status page and -s status tell it: why
 * a pool may have no workers.  A stop over a drain over an upgrade, so
 * that it agrees with the health-path (503 while draining, 200 while an
 * upgrade's new master serves).
 */
enum master_state {
	MASTER_SERVING = 0,
	MASTER_DRAINING,	/* WINCH, or a graceful stop's drain-delay */
	MASTER_STOPPING,	/* shutting down: its workers finishing */
	MASTER_UPGRADING,	/* a new master starting, or serving for this one */
	MASTER_NSTATES
};

#define SLOT_CLIENT_MAX 64
#define SLOT_REQUEST_MAX 128
#define SB_NAME_MAX 64
#define SB_LISTEN_MAX 128
/* Room for every server of a reload's old and new config. */
#define SB_SERVERS_MAX 128
#define SB_MAGIC 0x70666b64u	/* "pfkd" */
#define SB_VERSION 9u
/* The master's memfd: what -s takes as the mark of a preforkd master. */
#define SB_MEMFD_NAME "preforkd-scoreboard"

struct slot {
	volatile pid_t pid;
	unsigned generation;
	int server;			/* index in its generation's conf */
	int record;			/* its struct sb_server, -1 none */
	volatile sig_atomic_t state;	/* enum slot_state */
	/* Cleared by the worker's stop handler once it can accept no more. */
	volatile sig_atomic_t accepting;
	/* Set by the worker on its last connection: replace it now. */
	volatile sig_atomic_t leaving;
	volatile sig_atomic_t exit_reason;	/* enum restart_reason */
	/*
	 * Set by the master to the number (connections, below) of the
	 * connection to close once it is idle; 0 none.  A number, not a flag:
	 * the worker may have moved on to a new client since the master
	 * looked, and that one must not be dropped for the last one's idling.
	 */
	volatile uint64_t drop_idle;
	/* Set by the master with SIGQUIT: no idle keep-alive wait past it. */
	volatile int64_t idle_until_ms;
	volatile int64_t started_ms;	/* CLOCK_MONOTONIC */
	volatile int64_t state_since_ms;
	volatile int64_t last_activity_ms;
	/* The handler's own limit for this state (0: none): no kill before. */
	volatile int64_t deadline_ms;
	volatile uint64_t connections;
	volatile uint64_t requests;
	volatile uint64_t bytes_sent;
	/*
	 * Bytes resident before the first connection, written once by a
	 * worker of a server with max-memory; 0 unknown.
	 */
	volatile uint64_t fresh_rss;
	char client[SLOT_CLIENT_MAX];
	char request[SLOT_REQUEST_MAX];
};

/* Totals of a server (by name, across generations and recycling). */
struct sb_server {
	char name[SB_NAME_MAX];
	char listen[SB_LISTEN_MAX];
	unsigned generation;		/* serving it, as shown; 0: not listed */
	volatile int queue, queue_peak;
	int max_workers;
	int min_spare, max_spare;	/* a dynamic pool's idle band; 0 fixed */
	/* Workers in accept(); the one that takes the last wakes the master. */
	volatile int idle;
	/* Counts of workers that are gone; live slots add theirs. */
	volatile uint64_t connections, requests, bytes_sent;
	volatile uint64_t restarts[RESTART_NREASONS];
	volatile uint64_t max_workers_reached;
	/* Connections refused for their PROXY header, or for having none. */
	volatile uint64_t proxy_refused;
};

struct sb_master {
	uint32_t magic, version;
	uint32_t nslots, nservers;
	/* Odd while the master folds a slot into a server's totals. */
	volatile uint32_t seq;
	pid_t pid;
	int64_t started_ms;
	volatile unsigned generation;
	volatile uint64_t reloads;
	/* Set by the master once a graceful stop or WINCH begins. */
	volatile sig_atomic_t draining;
	/* enum master_state, written by the master each pass of its loop. */
	volatile sig_atomic_t state;
	/*
	 * Set while the master looks at its pools every TICK_BUSY_MS; clear
	 * while it sleeps its long pass, when the worker that takes a
	 * server's last idle place must wake it.
	 */
	volatile uint32_t watching;
	/*
	 * The configuration file the master reads (absolute), written once
	 * at start, for -s of earlier releases of this layout.  Nothing
	 * reads it now, nor may: workers can write it (see confseal.h).
	 */
	char conf_path[PATH_MAX];
	struct sb_server servers[SB_SERVERS_MAX];
};

struct scoreboard {
	size_t nslots;
	struct sb_master *master;
	struct slot *slots;
	int fd;				/* the memfd, -1 once closed */
	size_t size;
};

int scoreboard_create(struct scoreboard *sb, size_t nslots);

/*
 * Notes the master's configuration file (cut to PATH_MAX - 1 bytes) for
 * earlier releases' -s; untrusted, since workers can overwrite it.
 */
void scoreboard_set_conf_path(struct scoreboard *sb, const char *path);
void scoreboard_destroy(struct scoreboard *sb);
/* Maps a running master's scoreboard read-only from its memfd. */
int scoreboard_attach(struct scoreboard *sb, int fd);
/* A free slot, or NULL when all are taken. */
struct slot *scoreboard_slot_claim(struct scoreboard *sb);
/* Adds the slot's counts to its server's totals, then frees it. */
void scoreboard_slot_release(struct scoreboard *sb, struct slot *slot);
/*
 * The record of server name, or else a record taken for it: a fresh one,
 * or one whose index in_use (SB_SERVERS_MAX flags: held by a live
 * generation) does not mark; -1 when every record is held.
 */
int scoreboard_server_record(struct scoreboard *sb, const char *name,
			     const bool *in_use);
/* The record named name, or -1. */
int scoreboard_server_find(const struct scoreboard *sb, const char *name);
/*
 * A change of what the status page shows, seen whole by its readers:
 * scoreboard_server_show() and the master's generation go between the
 * two, with no system call (readers spin meanwhile).
 */
void scoreboard_change_begin(struct scoreboard *sb);
void scoreboard_change_end(struct scoreboard *sb);
/*
 * What the status page says of a record's server: the config of the
 * generation serving it.  A record no generation has served (gen 0) is
 * not listed.
 */
void scoreboard_server_show(struct scoreboard *sb, int record,
			    const char *listen, unsigned gen, int max_workers,
			    int min_spare, int max_spare);
struct status_snapshot;
/*
 * Copies the scoreboard into snap (workers malloc'd; free them with
 * free(snap->workers)) as of now_ms: servers' totals include their live
 * workers' counts, consistently (never lower than a snapshot before).
 * 0, or -1 (out of memory, or the master kept folding slots).
 */
int scoreboard_snapshot(const struct scoreboard *sb, int64_t now_ms,
			struct status_snapshot *snap);
/* Bookkeeping of a server's record; record -1 (none) is ignored. */
void scoreboard_note_queue(struct scoreboard *sb, int record, int queued);
void scoreboard_note_capped(struct scoreboard *sb, int record);
/* reason: enum restart_reason, or -1 for none. */
void scoreboard_count_restart(struct scoreboard *sb, int record, int reason);
/* The slot's worker is reaped: one killed in accept() was counted idle. */
void scoreboard_slot_gone(struct scoreboard *sb, const struct slot *slot);
const char *slot_state_name(int state);
const char *master_state_name(int state);
const char *restart_reason_name(int reason);

int64_t monotonic_ms(void);

#endif

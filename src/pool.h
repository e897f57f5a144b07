/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pool decisions, as pure functions of their inputs: which workers to
 * spawn, retire (graceful) or kill for a server's state at a given time.
 * No system calls here, so the rules are tested directly.
 */
#ifndef PREFORKD_POOL_H
#define PREFORKD_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Worker exit statuses; the respawn policy reads them. */
#define WORKER_EXIT_OK		0	/* retired: graceful stop, max-requests */
#define WORKER_EXIT_FATAL	78	/* do not respawn (EX_CONFIG) */

enum worker_exit {
	EXIT_NORMAL,		/* status WORKER_EXIT_OK */
	EXIT_FATAL,		/* status WORKER_EXIT_FATAL */
	EXIT_CRASHED,		/* any other status, or a signal */
};

#define POOL_BACKOFF_MIN_MS	100
#define POOL_BACKOFF_MAX_MS	10000
/* A worker that lived this long was not crash-looping. */
#define POOL_HEALTHY_MS		2000
#define POOL_SPAWN_RATE_MAX	32
/*
 * A keep-alive connection idle this long is not about to carry a next
 * request (a client's next request follows its last answer within
 * milliseconds): only such are closed for queued clients.
 */
#define POOL_DROP_IDLE_MS	500
/* The spare-server rule runs once a second, as Apache's does. */
#define POOL_SPARE_PERIOD_MS	1000
#define POOL_CAPPED_QUIET_MS	10000

struct pool_worker {
	pid_t pid;
	int state;			/* enum slot_state */
	bool retiring;			/* already told to stop, or leaving */
	/*
	 * On its last connection (max-requests, max-memory): replaced as it
	 * serves it where the pool has room, but a process within the cap
	 * until it exits, or slow last connections would fork without end.
	 */
	bool leaving;
	int64_t last_activity_ms;
	int64_t deadline_ms;		/* the handler's own, 0 = none */
	int64_t state_since_ms;
	int64_t started_ms;
	bool dropping;			/* already asked to drop its connection */
	uint64_t connection;		/* its count of connections: this one's */
};

struct pool_server {
	int workers;			/* fixed size, or start size of a dynamic pool */
	int min_spare, max_spare, max_workers;	/* max_workers <= workers: fixed */
	/* The idle band as configured, and how far TTIN/TTOU moved it. */
	int base_min_spare, base_max_spare, spare_shift;
	int timeout_s;
	bool fatal;			/* a worker exited "do not respawn" */
	bool serving;			/* its generation has served */
	int backoff_ms;			/* current crash-loop delay, 0 = none */
	int64_t crashed_ms;		/* the last death that raised it */
	int64_t respawn_at_ms;		/* no spawn before this time */
	int spawn_rate;			/* dynamic pool: grows while short */
	bool capped_logged;		/* "reached max-workers" said once */
	int64_t uncapped_since_ms;	/* its episode ends after a quiet while */
	bool memory_warned;		/* "max-memory below a fresh worker" */
	int64_t spare_at_ms;		/* the spare rule's next pass (1/s) */
	int queued;			/* input: connections in the accept queue */
	int64_t short_since_ms;		/* short at the cap since, 0 = not */
};

struct pool_actions {
	int spawn;
	/*
	 * Short of idle workers at max-workers (a fixed pool's: workers) for
	 * POOL_SPARE_PERIOD_MS: a shortage that a worker leaving for
	 * max-requests ends in milliseconds is not one.
	 */
	bool capped;
	/* A worker started after the last crash lived: back-off over. */
	bool backoff_over;
	size_t nretire, nkill, ndrop;
	pid_t *retire;			/* caller-provided, room for n workers */
	pid_t *kill;
	pid_t *drop;			/* close your idle keep-alive connection */
};

/*
 * One maintenance pass for one server: w[0..n) are its current-generation
 * workers (other generations are retired by the caller), ps->queued the
 * connections waiting in its listener's accept queue.  Connections that
 * wait with no idle worker get workers at once, within the cap; at the
 * cap, workers idle between keep-alive requests are asked to drop that
 * connection, oldest-idle first (out->drop may be NULL: none asked).
 * Never more processes than pool_capacity(), leaving ones counted.
 */
void pool_decide(struct pool_server *ps, const struct pool_worker *w,
		 size_t n, int64_t now_ms, struct pool_actions *out);

/* A busy worker that made no progress for longer than timeout_s. */
bool pool_timed_out(const struct pool_worker *w, int64_t now_ms,
		    int timeout_s);

/*
 * Whether capped (pool_actions) begins a new episode, to be logged and
 * counted: one that ends only once the pool was not capped for
 * POOL_CAPPED_QUIET_MS, so that a pool at its cap under steady load,
 * short by turns, says it once.
 */
bool pool_capped_episode(struct pool_server *ps, bool capped, int64_t now_ms);
/*
 * A reload does not end a shortage: ps, the same server's pool in the
 * generation that takes over, goes on with from's episode, unless its
 * cap changed.
 */
void pool_episode_carry(struct pool_server *ps, const struct pool_server *from);

/* A worker of this server exited after living lived_ms. */
void pool_worker_exited(struct pool_server *ps, enum worker_exit how,
			int64_t lived_ms, int64_t now_ms);

/*
 * Why an exited worker counts as replaced (enum restart_reason), or -1
 * when it does not (told to stop): the watchdog's kill is a timeout, a
 * normal exit on its own the reason the worker gave (worker_reason, -1
 * when it gave none: stopped from outside the master, not counted),
 * anything else a crash.
 */
int pool_restart_reason(enum worker_exit how, bool expected, bool timed_out,
			int worker_reason);

/*
 * Whether max_memory is below what a worker of its server needs just to
 * exist: the worker that left for it (worker_reason) after its first
 * connection was past it already before that one, at fresh_rss bytes (0:
 * not measured).  Then every worker serves one connection and leaves.
 */
bool pool_memory_below_fresh(uint64_t max_memory, uint64_t fresh_rss,
			     int worker_reason, uint64_t connections);

/*
 * bytes as a size of preforkd.conf, in the largest unit it reaches:
 * "512", "64K", "1M"; to a tenth, rounded, when not a whole one: "2.7M".
 */
void pool_size_format(uint64_t bytes, char *buf, size_t len);

/* Maps a waitpid() status to the exit classes above. */
enum worker_exit pool_classify_status(int wstatus);

/*
 * A worker's connection limit: max_requests plus r (a random number)
 * spread over 0..jitter, so a pool started together does not recycle
 * together.  0 = none.
 */
long pool_request_limit(long max_requests, long jitter, uint32_t r);

/*
 * SIGTTIN / SIGTTOU: one worker more or fewer, within 1..max; a dynamic
 * pool moves its idle band instead, and as many steps back undo them.
 */
void pool_resize(struct pool_server *ps, int delta);

/* Takes the idle band as it is now for the one configured. */
void pool_band_set(struct pool_server *ps);

/* The most workers the pool may run. */
int pool_capacity(const struct pool_server *ps);

/*
 * Whether resizing every one of ps[0..n) by delta keeps their capacities
 * within total_max (the scoreboard holds two generations of that).
 */
bool pool_resize_fits(const struct pool_server *ps, size_t n, int delta,
		      int total_max);

#endif

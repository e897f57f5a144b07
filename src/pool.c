/* SPDX-License-Identifier: BSD-2-Clause */
/* Pool decisions as pure functions: no system calls, tested directly. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <sys/wait.h>

#include "conf.h"
#include "pool.h"
#include "scoreboard.h"

static bool
is_dynamic(const struct pool_server *ps)
{
	return ps->max_workers > ps->workers;
}

/*
 * timeout is for a worker busy on a request that makes no progress.  A
 * worker waiting for a request (head) under its handler's own deadline
 * ends that wait itself: it is killed only when stuck past the deadline
 * by a further timeout.
 */
bool
pool_timed_out(const struct pool_worker *w, int64_t now_ms, int timeout_s)
{
	int64_t limit = (int64_t)timeout_s * 1000;

	if (timeout_s <= 0)
		return false;
	switch (w->state) {
	case SLOT_READING:
	case SLOT_KEEPALIVE:
		if (w->deadline_ms > 0)
			return now_ms - w->deadline_ms > limit;
		/* FALLTHROUGH */
	case SLOT_WRITING:
	case SLOT_CLOSING:
		return now_ms - w->last_activity_ms > limit;
	}
	return false;
}

static void
decide_timeouts(const struct pool_worker *w, size_t n, int64_t now_ms,
		int timeout_s, struct pool_actions *out)
{
	for (size_t i = 0; i < n; i++)
		if (pool_timed_out(&w[i], now_ms, timeout_s))
			out->kill[out->nkill++] = w[i].pid;
}

/* Retires up to count live workers, idle ones first (they lose no work). */
static void
retire_some(const struct pool_worker *w, size_t n, int count,
	    struct pool_actions *out)
{
	for (int pass = 0; pass < 2 && count > 0; pass++)
		for (size_t i = 0; i < n && count > 0; i++) {
			bool idle = w[i].state == SLOT_IDLE ||
				    w[i].state == SLOT_STARTING;

			if (w[i].retiring || (pass == 0) != idle)
				continue;
			out->retire[out->nretire++] = w[i].pid;
			count--;
		}
}

static int
spawn_allowed(const struct pool_server *ps, int64_t now_ms)
{
	return !ps->fatal && now_ms >= ps->respawn_at_ms;
}

static void
decide_fixed(struct pool_server *ps, const struct pool_worker *w, size_t n,
	     int live, int64_t now_ms, struct pool_actions *out)
{
	if (live < ps->workers && spawn_allowed(ps, now_ms))
		/* While backing off, bring back one worker at a time. */
		out->spawn = ps->backoff_ms > 0 ? 1 : ps->workers - live;
	else if (live > ps->workers)
		retire_some(w, n, live - ps->workers, out);
}

/*
 * Apache prefork's rule: keep idle workers between min-spare and
 * max-spare, spawning at a rate that doubles each pass while short
 * (up to a cap), retiring one idle worker per pass when over.
 */
static void
decide_dynamic(struct pool_server *ps, const struct pool_worker *w, size_t n,
	       int live, int leaving, int64_t now_ms, struct pool_actions *out)
{
	int idle = 0;

	for (size_t i = 0; i < n; i++)
		if (!w[i].retiring &&
		    (w[i].state == SLOT_IDLE || w[i].state == SLOT_STARTING))
			idle++;

	if (live < ps->workers && idle < ps->max_spare &&
	    spawn_allowed(ps, now_ms)) {
		/* Never below the start size while it is not too idle. */
		out->spawn = ps->backoff_ms > 0 ? 1 : ps->workers - live;
		return;
	}
	/* The rest is the spare rule, once a second. */
	if (now_ms < ps->spare_at_ms)
		return;
	if (idle < ps->min_spare && live + leaving < ps->max_workers &&
	    spawn_allowed(ps, now_ms)) {
		int want = ps->min_spare - idle;

		if (ps->spawn_rate < 1)
			ps->spawn_rate = 1;
		if (want > ps->spawn_rate)
			want = ps->spawn_rate;
		if (want > ps->max_workers - live - leaving)
			want = ps->max_workers - live - leaving;
		if (ps->backoff_ms > 0)
			want = 1;
		out->spawn = want;
		if (ps->spawn_rate < POOL_SPAWN_RATE_MAX)
			ps->spawn_rate *= 2;
		ps->spare_at_ms = now_ms + POOL_SPARE_PERIOD_MS;
		return;
	}
	ps->spawn_rate = 1;
	out->capped = idle < ps->min_spare && live + leaving >= ps->max_workers;
	if (live > ps->max_workers)
		retire_some(w, n, live - ps->max_workers, out);
	else if (idle > ps->max_spare && live > ps->workers &&
		 ps->queued == 0) {
		retire_some(w, n, 1, out);
		ps->spare_at_ms = now_ms + POOL_SPARE_PERIOD_MS;
	}
}

/* Workers that will take a queued connection soon: idle or starting. */
static int
count_ready(const struct pool_worker *w, size_t n)
{
	int ready = 0;

	for (size_t i = 0; i < n; i++)
		if (!w[i].retiring &&
		    (w[i].state == SLOT_IDLE || w[i].state == SLOT_STARTING))
			ready++;
	return ready;
}

/* The longest idle keep-alive worker not yet asked, or -1. */
static int
oldest_keepalive(const struct pool_worker *w, size_t n, int64_t now_ms,
		 const struct pool_actions *out)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		bool taken = false;

		if (w[i].retiring || w[i].dropping ||
		    w[i].state != SLOT_KEEPALIVE ||
		    now_ms - w[i].state_since_ms < POOL_DROP_IDLE_MS)
			continue;
		for (size_t k = 0; k < out->ndrop; k++)
			taken |= out->drop[k] == w[i].pid;
		if (!taken && (best == -1 ||
			       w[i].state_since_ms < w[best].state_since_ms))
			best = (int)i;
	}
	return best;
}

/*
 * Connections wait in the accept queue with no idle worker to take them:
 * spawn enough at once (the spare rule grows too slowly for a burst), and
 * at the cap free workers held by idle keep-alive clients, whose client
 * loses nothing and reconnects into the queue like everyone else.
 */
static void
decide_queue(struct pool_server *ps, const struct pool_worker *w, size_t n,
	     int held, int64_t now_ms, struct pool_actions *out)
{
	int waiting = ps->queued - count_ready(w, n) - out->spawn;
	int room = pool_capacity(ps) - held - out->spawn;
	int grow;

	if (ps->queued <= 0 || waiting <= 0)
		return;
	grow = waiting < room ? waiting : room;
	if (grow > 0 && spawn_allowed(ps, now_ms) && ps->backoff_ms == 0) {
		out->spawn += grow;
		waiting -= grow;
		room -= grow;
	}
	/* A fixed pool is at its cap too, as Apache says of either kind. */
	if (waiting > 0 && room <= 0)
		out->capped = true;
	while (waiting > 0 && room <= 0 && out->drop != NULL) {
		int i = oldest_keepalive(w, n, now_ms, out);

		if (i == -1)
			break;
		out->drop[out->ndrop++] = w[i].pid;
		waiting--;
	}
}

/*
 * Back-off slows the respawning of workers that die young; it must not
 * outlive the cause (a docroot closed during a deploy, then opened
 * again), or the pool would grow one worker at a time for good.  It ends
 * once a worker started after the last such death has lived as long as
 * a healthy one, or when a worker exits after that long.
 */
static void
backoff_heal(struct pool_server *ps, const struct pool_worker *w, size_t n,
	     int64_t now_ms, struct pool_actions *out)
{
	if (ps->backoff_ms == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (!w[i].retiring && w[i].started_ms > ps->crashed_ms &&
		    now_ms - w[i].started_ms >= POOL_HEALTHY_MS) {
			ps->backoff_ms = 0;
			out->backoff_over = true;
			return;
		}
}

/*
 * A connection seen queued while every worker is between two, or while
 * workers leaving for max-requests are still counted, is no shortage:
 * only one that lasts is.
 */
static void
capped_if_lasting(struct pool_server *ps, int64_t now_ms,
		  struct pool_actions *out)
{
	if (!out->capped) {
		ps->short_since_ms = 0;
		return;
	}
	if (ps->short_since_ms == 0)
		ps->short_since_ms = now_ms;
	out->capped = now_ms - ps->short_since_ms >= POOL_SPARE_PERIOD_MS;
}

void
pool_decide(struct pool_server *ps, const struct pool_worker *w, size_t n,
	    int64_t now_ms, struct pool_actions *out)
{
	int live = 0, leaving = 0, room;

	out->spawn = 0;
	out->capped = false;
	out->backoff_over = false;
	out->nretire = 0;
	out->nkill = 0;
	out->ndrop = 0;
	backoff_heal(ps, w, n, now_ms, out);
	decide_timeouts(w, n, now_ms, ps->timeout_s, out);
	for (size_t i = 0; i < n; i++) {
		live += !w[i].retiring;
		leaving += w[i].retiring && w[i].leaving;
	}
	if (is_dynamic(ps))
		decide_dynamic(ps, w, n, live, leaving, now_ms, out);
	else
		decide_fixed(ps, w, n, live, now_ms, out);
	if (out->nretire == 0)
		decide_queue(ps, w, n, live + leaving, now_ms, out);
	capped_if_lasting(ps, now_ms, out);
	/* Leaving workers are replaced early only where there is room. */
	room = pool_capacity(ps) - live - leaving;
	if (out->spawn > room)
		out->spawn = room > 0 ? room : 0;
}

void
pool_worker_exited(struct pool_server *ps, enum worker_exit how,
		   int64_t lived_ms, int64_t now_ms)
{
	/*
	 * "Fatal" (e.g. the docroot missing) stops a generation that is
	 * starting; one that serves keeps trying, with the crash backoff.
	 */
	if (how == EXIT_FATAL && !ps->serving) {
		ps->fatal = true;
		return;
	}
	if (how == EXIT_NORMAL || (how == EXIT_CRASHED &&
				   lived_ms >= POOL_HEALTHY_MS)) {
		ps->backoff_ms = 0;
		return;
	}
	/* Died right after start: wait, doubling the wait each time. */
	if (ps->backoff_ms == 0)
		ps->backoff_ms = POOL_BACKOFF_MIN_MS;
	else if (ps->backoff_ms < POOL_BACKOFF_MAX_MS)
		ps->backoff_ms *= 2;
	if (ps->backoff_ms > POOL_BACKOFF_MAX_MS)
		ps->backoff_ms = POOL_BACKOFF_MAX_MS;
	ps->crashed_ms = now_ms;
	ps->respawn_at_ms = now_ms + ps->backoff_ms;
}

void
pool_episode_carry(struct pool_server *ps, const struct pool_server *from)
{
	/* A new cap is worth saying anew. */
	if (!from->capped_logged || pool_capacity(from) != pool_capacity(ps))
		return;
	ps->capped_logged = true;
	ps->uncapped_since_ms = from->uncapped_since_ms;
}

bool
pool_capped_episode(struct pool_server *ps, bool capped, int64_t now_ms)
{
	if (capped) {
		bool begins = !ps->capped_logged;

		ps->capped_logged = true;
		ps->uncapped_since_ms = 0;
		return begins;
	}
	if (!ps->capped_logged)
		return false;
	if (ps->uncapped_since_ms == 0)
		ps->uncapped_since_ms = now_ms;
	else if (now_ms - ps->uncapped_since_ms >= POOL_CAPPED_QUIET_MS)
		ps->capped_logged = false;
	return false;
}

int
pool_restart_reason(enum worker_exit how, bool expected, bool timed_out,
		    int worker_reason)
{
	if (timed_out)
		return RESTART_TIMEOUT;
	if (expected)
		return -1;
	/* Stopped by a signal from outside the master: no reason of ours. */
	if (how == EXIT_NORMAL)
		return worker_reason == RESTART_MAX_MEMORY ||
		       worker_reason == RESTART_MAX_REQUESTS ? worker_reason : -1;
	/* A fatal exit of a serving generation is retried as a crash. */
	return RESTART_CRASH;
}

/*
 * A worker past max-memory after a connection may have grown on it (a
 * large request); one past it before any connection would have left
 * after whichever it was given.
 */
bool
pool_memory_below_fresh(uint64_t max_memory, uint64_t fresh_rss,
			int worker_reason, uint64_t connections)
{
	return max_memory > 0 && worker_reason == RESTART_MAX_MEMORY &&
	       connections == 1 && fresh_rss > max_memory;
}

void
pool_size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	uint64_t unit = 1, whole, tenths;
	int u = -1;

	while (u + 1 < (int)sizeof(units) - 1 && bytes >= unit << 10) {
		unit <<= 10;
		u++;
	}
	if (u == -1) {
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
		return;
	}
	whole = bytes / unit;
	tenths = ((bytes % unit) * 10 + unit / 2) / unit;
	if (tenths == 10) {
		whole++;
		tenths = 0;
	}
	if (bytes % unit == 0)
		snprintf(buf, len, "%llu%c", (unsigned long long)whole,
			 units[u]);
	else
		snprintf(buf, len, "%llu.%llu%c", (unsigned long long)whole,
			 (unsigned long long)tenths, units[u]);
}

enum worker_exit
pool_classify_status(int wstatus)
{
	if (WIFEXITED(wstatus)) {
		if (WEXITSTATUS(wstatus) == WORKER_EXIT_OK)
			return EXIT_NORMAL;
		if (WEXITSTATUS(wstatus) == WORKER_EXIT_FATAL)
			return EXIT_FATAL;
	}
	return EXIT_CRASHED;
}

long
pool_request_limit(long max_requests, long jitter, uint32_t r)
{
	long extra;

	if (max_requests <= 0)
		return 0;
	if (jitter <= 0)
		return max_requests;
	extra = (long)(r % ((unsigned long)jitter + 1));
	/* Saturates: a limit near LONG_MAX means "practically never". */
	return max_requests > LONG_MAX - extra ? LONG_MAX :
	       max_requests + extra;
}

void
pool_band_set(struct pool_server *ps)
{
	ps->base_min_spare = ps->min_spare;
	ps->base_max_spare = ps->max_spare;
	ps->spare_shift = 0;
}

/*
 * A dynamic pool sizes itself: TTIN/TTOU move its idle band, each end
 * until its own limit (0 and 1 below, max-workers above), the band never
 * upside down.  The band is computed from the configured one and the
 * shift, not from the last band, so that steps back restore what the
 * limits cut; a step that moves nothing is not counted.
 */
static void
band_shift(struct pool_server *ps, int delta)
{
	int shift = ps->spare_shift + delta;
	int hi = ps->base_max_spare + shift, lo = ps->base_min_spare + shift;

	hi = hi < 1 ? 1 : hi > ps->max_workers ? ps->max_workers : hi;
	lo = lo < 0 ? 0 : lo > hi ? hi : lo;
	if (lo == ps->min_spare && hi == ps->max_spare)
		return;
	ps->spare_shift = shift;
	ps->min_spare = lo;
	ps->max_spare = hi;
}

void
pool_resize(struct pool_server *ps, int delta)
{
	if (is_dynamic(ps)) {
		band_shift(ps, delta);
		return;
	}
	if (ps->workers + delta >= 1 && ps->workers + delta <= CONF_MAX_WORKERS)
		ps->workers += delta;
	/* Shrinking must not turn a fixed pool into a dynamic one. */
	if (ps->max_workers > ps->workers)
		ps->max_workers = ps->workers;
}

int
pool_capacity(const struct pool_server *ps)
{
	return ps->max_workers > ps->workers ? ps->max_workers : ps->workers;
}

bool
pool_resize_fits(const struct pool_server *ps, size_t n, int delta,
		 int total_max)
{
	int total = 0;

	for (size_t i = 0; i < n; i++) {
		struct pool_server after = ps[i];

		pool_resize(&after, delta);
		total += pool_capacity(&after);
	}
	return delta <= 0 || total <= total_max;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/pool.c: the pool's pure spawn/retire/kill decisions. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "conf.h"
#include "pool.h"
#include "scoreboard.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

#define MAXW 256
#define NOW ((int64_t)1000000000)	/* any "current" monotonic time */
#define PID0 1000			/* worker i has pid PID0 + i */

/*
 * Workers are written as one letter each: S starting, I idle, B busy
 * (writing), R reading, K keep-alive, C closing; lower case = already
 * retiring; x = leaving (reading its last connection).  Expected retire /
 * kill lists
 * are written as worker indexes, one hex digit each ("13" = w[1], w[3]).
 */
static size_t
make_workers(const char *spec, const int64_t *age_ms, struct pool_worker *w)
{
	size_t n = 0;

	for (const char *p = spec; *p != '\0'; p++, n++) {
		char c = *p;

		memset(&w[n], 0, sizeof(w[n]));
		w[n].pid = PID0 + (pid_t)n;
		w[n].retiring = c >= 'a' && c <= 'z';
		w[n].leaving = c == 'x';
		switch (c & ~0x20) {
		case 'X': w[n].state = SLOT_READING; break;
		case 'S': w[n].state = SLOT_STARTING; break;
		case 'I': w[n].state = SLOT_IDLE; break;
		case 'B': w[n].state = SLOT_WRITING; break;
		case 'C': w[n].state = SLOT_CLOSING; break;
		case 'R': w[n].state = SLOT_READING; break;
		case 'K': w[n].state = SLOT_KEEPALIVE; break;
		default: fail_msg("bad worker letter '%c' in \"%s\"", c, spec);
		}
		w[n].last_activity_ms = NOW - (age_ms ? age_ms[n] : 0);
	}
	return n;
}

/* "13" for pids PID0+1, PID0+3. */
static void
pids_to_text(const pid_t *pids, size_t n, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < n && i + 1 < len; i++) {
		int idx = pids[i] - PID0;

		buf[i] = idx >= 0 && idx < 16 ? "0123456789abcdef"[idx] : '?';
	}
	buf[i] = '\0';
}

struct decide_row {
	const char *name;
	struct pool_server ps;
	const char *workers;
	int64_t age_ms[16];	/* now - last_activity, per worker */
	int64_t now_offset;	/* now = NOW + now_offset */
	/* expected */
	int spawn;
	const char *retire;
	const char *kill;
	int rate_after;		/* ps.spawn_rate after the pass */
};

static void
run_decide_rows(const struct decide_row *rows, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		const struct decide_row *row = &rows[i];
		struct pool_worker w[MAXW];
		struct pool_server ps = row->ps;
		pid_t retire[MAXW], kill[MAXW];
		struct pool_actions out = { .spawn = -99, .nretire = 99,
					    .nkill = 99, .retire = retire,
					    .kill = kill };
		char rbuf[MAXW + 1], kbuf[MAXW + 1];
		size_t n = make_workers(row->workers, row->age_ms, w);

		pool_decide(&ps, w, n, NOW + row->now_offset, &out);
		pids_to_text(retire, out.nretire, rbuf, sizeof(rbuf));
		pids_to_text(kill, out.nkill, kbuf, sizeof(kbuf));
		if (out.spawn != row->spawn)
			fail_msg("row %zu (%s): spawn %d, expected %d", i, row->name,
				 out.spawn, row->spawn);
		if (strcmp(rbuf, row->retire) != 0)
			fail_msg("row %zu (%s): retire \"%s\", expected \"%s\"", i,
				 row->name, rbuf, row->retire);
		if (strcmp(kbuf, row->kill) != 0)
			fail_msg("row %zu (%s): kill \"%s\", expected \"%s\"", i,
				 row->name, kbuf, row->kill);
		if (ps.spawn_rate != row->rate_after)
			fail_msg("row %zu (%s): spawn_rate %d after, expected %d", i,
				 row->name, ps.spawn_rate, row->rate_after);
		/* Only spawn_rate may change in a pass. */
		if (ps.workers != row->ps.workers ||
		    ps.min_spare != row->ps.min_spare ||
		    ps.max_spare != row->ps.max_spare ||
		    ps.max_workers != row->ps.max_workers ||
		    ps.fatal != row->ps.fatal ||
		    ps.backoff_ms != row->ps.backoff_ms ||
		    ps.respawn_at_ms != row->ps.respawn_at_ms)
			fail_msg("row %zu (%s): pool_decide changed the server's "
				 "settings", i, row->name);
	}
}

/* ---- fixed pools --------------------------------------------------------- */

/* Short of idle workers since a spare-rule period: capped if still. */
#define SHORT .short_since_ms = NOW - POOL_SPARE_PERIOD_MS

/* A dynamic pool started at w, capped at max, with q queued; spare 0..64. */
#define DYNQ(w, max, q) .workers = (w), .min_spare = 0, .max_spare = 64, \
	.max_workers = (max), .queued = (q), .spawn_rate = 1, .timeout_s = 60

#define FIXED4 .workers = 4, .min_spare = 1, .max_spare = 4, .timeout_s = 60

static void
test_decide_fixed(void **state)
{
	static const struct decide_row rows[] = {
		{ "empty pool spawns to size", { FIXED4 }, "",
		  .spawn = 4, .retire = "", .kill = "" },
		{ "partly filled pool spawns the rest", { FIXED4 }, "IB",
		  .spawn = 2, .retire = "", .kill = "" },
		{ "full pool: nothing", { FIXED4 }, "IBSB",
		  .spawn = 0, .retire = "", .kill = "" },
		{ "retiring workers are not counted", { FIXED4 }, "iIBbB",
		  .spawn = 1, .retire = "", .kill = "" },
		{ "only retiring workers: spawn a full set", { FIXED4 }, "iibc",
		  .spawn = 4, .retire = "", .kill = "" },
		{ "surplus retired idle first", { .workers = 2 }, "BIBI",
		  .spawn = 0, .retire = "13", .kill = "" },
		{ "starting counts as idle for retirement", { .workers = 2 },
		  "BBSB", .spawn = 0, .retire = "20", .kill = "" },
		{ "surplus beyond idle retires busy ones too", { .workers = 1 },
		  "BIBS", .spawn = 0, .retire = "130", .kill = "" },
		{ "already retiring not retired again", { .workers = 2 },
		  "iBIB", .spawn = 0, .retire = "2", .kill = "" },
		{ "max_workers == workers is a fixed pool",
		  { .workers = 3, .max_workers = 3, .min_spare = 1,
		    .max_spare = 1 }, "IIII",
		  .spawn = 0, .retire = "0", .kill = "" },
		{ "max_workers < workers is a fixed pool",
		  { .workers = 3, .max_workers = 2, .min_spare = 5,
		    .max_spare = 9 }, "BB",
		  .spawn = 1, .retire = "", .kill = "" },
		/* No-progress timeout. */
		{ "busy worker past timeout killed",
		  { .workers = 2, .timeout_s = 10 }, "BB",
		  { 10001, 9999 }, .spawn = 0, .retire = "", .kill = "0" },
		{ "busy worker exactly at timeout kept",
		  { .workers = 2, .timeout_s = 10 }, "BB",
		  { 10000, 0 }, .spawn = 0, .retire = "", .kill = "" },
		{ "closing worker past timeout killed",
		  { .workers = 2, .timeout_s = 10 }, "BC",
		  { 5000, 3600000 }, .spawn = 0, .retire = "", .kill = "1" },
		{ "retiring closing worker past timeout killed",
		  { .workers = 2, .timeout_s = 10 }, "cBI",
		  { 10001, 10001, 10001 },
		  .spawn = 0, .retire = "", .kill = "01" },
		{ "idle and starting workers never time out",
		  { .workers = 2, .timeout_s = 10 }, "IS",
		  { 3600000, 3600000 }, .spawn = 0, .retire = "", .kill = "" },
		{ "timeout 0: never killed",
		  { .workers = 2, .timeout_s = 0 }, "BC",
		  { 86400000, 86400000 }, .spawn = 0, .retire = "", .kill = "" },
		{ "several timed out, others kept",
		  { .workers = 4, .timeout_s = 1 }, "BBBB",
		  { 1001, 1000, 5000, 0 },
		  .spawn = 0, .retire = "", .kill = "02" },
		/* Respawn gates. */
		{ "fatal: no spawn", { FIXED4, .fatal = true }, "I",
		  .spawn = 0, .retire = "", .kill = "" },
		{ "fatal: surplus still retired",
		  { .workers = 1, .fatal = true }, "BI",
		  .spawn = 0, .retire = "1", .kill = "" },
		{ "fatal: timeouts still killed",
		  { .workers = 2, .timeout_s = 1, .fatal = true }, "B",
		  { 2000 }, .spawn = 0, .retire = "", .kill = "0" },
		{ "before respawn_at: no spawn",
		  { FIXED4, .backoff_ms = 100, .respawn_at_ms = NOW + 1 }, "",
		  .spawn = 0, .retire = "", .kill = "" },
		{ "at respawn_at while backing off: one at a time",
		  { FIXED4, .backoff_ms = 400, .respawn_at_ms = NOW }, "I",
		  .spawn = 1, .retire = "", .kill = "" },
		{ "after respawn_at, backoff reset: all missing",
		  { FIXED4, .backoff_ms = 0, .respawn_at_ms = NOW - 1 }, "I",
		  .spawn = 3, .retire = "", .kill = "" },
		{ "later pass: respawn_at reached",
		  { FIXED4, .backoff_ms = 100, .respawn_at_ms = NOW + 100 }, "",
		  .now_offset = 100, .spawn = 1, .retire = "", .kill = "" },
	};

	(void)state;
	run_decide_rows(rows, NROWS(rows));
}

/* ---- dynamic pools ------------------------------------------------------- */

#define DYNP(w, min, max, mw) \
	.workers = (w), .min_spare = (min), .max_spare = (max), .max_workers = (mw)
/* Start 2, keep 2..4 idle, at most 10. */
#define DYN DYNP(2, 2, 4, 10)

static void
test_decide_dynamic(void **state)
{
	static const struct decide_row rows[] = {
		{ "empty pool spawns the start size", { DYN }, "",
		  .spawn = 2, .retire = "", .kill = "", .rate_after = 0 },
		{ "below start size while busy", { DYN }, "B",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 0 },
		{ "within the idle band: nothing, rate reset",
		  { DYN, .spawn_rate = 8 }, "BIII",
		  .spawn = 0, .retire = "", .kill = "", .rate_after = 1 },
		{ "starting workers count as idle", { DYN, .spawn_rate = 4 },
		  "BBSS", .spawn = 0, .retire = "", .kill = "", .rate_after = 1 },
		{ "short of min-spare: first pass spawns 1", { DYN }, "BBBI",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 2 },
		{ "short of min-spare: rate 1 caps the want",
		  { DYN, .spawn_rate = 1 }, "BBBB",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 2 },
		{ "spawn limited by the rate",
		  { DYNP(2, 8, 9, 10), .spawn_rate = 2 }, "BBB",
		  .spawn = 2, .retire = "", .kill = "", .rate_after = 4 },
		{ "spawn limited by the shortfall",
		  { DYN, .spawn_rate = 16 }, "BBBI",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 32 },
		{ "rate stays at POOL_SPAWN_RATE_MAX",
		  { .workers = 2, .min_spare = 60, .max_spare = 80,
		    .max_workers = 200, .spawn_rate = POOL_SPAWN_RATE_MAX }, "BB",
		  .spawn = POOL_SPAWN_RATE_MAX, .retire = "", .kill = "",
		  .rate_after = POOL_SPAWN_RATE_MAX },
		{ "max-workers caps the spawn",
		  { DYNP(2, 4, 4, 10), .spawn_rate = 8 }, "BBBBBBBBB",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 16 },
		{ "at max-workers: no spawn",
		  { DYNP(2, 4, 4, 10), .spawn_rate = 8 }, "BBBBBBBBBB",
		  .spawn = 0, .retire = "", .kill = "", .rate_after = 1 },
		{ "retiring workers are neither live nor idle",
		  { DYN }, "iiBB",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 2 },
		{ "over max-spare: one idle retired per pass",
		  { DYN }, "BIIIII",
		  .spawn = 0, .retire = "1", .kill = "", .rate_after = 1 },
		{ "far over max-spare: still one per pass",
		  { DYN }, "IIIIIIIB",
		  .spawn = 0, .retire = "0", .kill = "", .rate_after = 1 },
		{ "over max-spare: idle chosen after busy ones",
		  { DYN }, "BBBIIIII",
		  .spawn = 0, .retire = "3", .kill = "", .rate_after = 1 },
		{ "over max-spare at the start size: kept",
		  { DYNP(5, 2, 4, 10) }, "IIIII",
		  .spawn = 0, .retire = "", .kill = "", .rate_after = 1 },
		{ "over max-workers: surplus retired idle first",
		  { DYNP(2, 2, 4, 4) }, "BIBIB",
		  .spawn = 0, .retire = "1", .kill = "", .rate_after = 1 },
		{ "timed-out busy worker killed",
		  { DYN, .timeout_s = 10 }, "BIII", { 10001, 0, 0, 0 },
		  .spawn = 0, .retire = "", .kill = "0", .rate_after = 1 },
		{ "fatal: no spawn", { DYN, .fatal = true }, "",
		  .spawn = 0, .retire = "", .kill = "", .rate_after = 1 },
		{ "fatal: no spawn for min-spare",
		  { DYN, .fatal = true, .spawn_rate = 4 }, "BBB",
		  .spawn = 0, .retire = "", .kill = "", .rate_after = 1 },
		{ "before respawn_at: no spawn",
		  { DYN, .backoff_ms = 100, .respawn_at_ms = NOW + 50 }, "BB",
		  .spawn = 0, .retire = "", .kill = "", .rate_after = 1 },
		{ "backing off, short of min-spare: one at a time",
		  { DYNP(2, 4, 4, 10), .backoff_ms = 400,
		    .respawn_at_ms = NOW - 1, .spawn_rate = 8 }, "BBB",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 16 },
	};

	(void)state;
	run_decide_rows(rows, NROWS(rows));
}

/*
 * While backing off, a fixed pool and the min-spare rule bring back one
 * worker at a time; so must a dynamic pool below its start size, or a
 * crash-looping pool respawns its whole start size at each respawn_at.
 */
static void
test_decide_dynamic_backoff_start_size(void **state)
{
	static const struct decide_row rows[] = {
		{ "backing off, empty, start size 4: one at a time",
		  { DYNP(4, 2, 4, 10), .backoff_ms = 400,
		    .respawn_at_ms = NOW }, "",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 0 },
		{ "backing off, 1 of start size 3: one at a time",
		  { DYNP(3, 1, 4, 10), .backoff_ms = 100,
		    .respawn_at_ms = NOW - 1 }, "B",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 0 },
		{ "not backing off: the whole start size",
		  { DYNP(4, 2, 4, 10), .backoff_ms = 0,
		    .respawn_at_ms = NOW }, "",
		  .spawn = 4, .retire = "", .kill = "", .rate_after = 0 },
	};

	(void)state;
	run_decide_rows(rows, NROWS(rows));
}

/*
 * A dynamic pool short of idle workers for several passes a second apart:
 * the spawn rate doubles each pass up to POOL_SPAWN_RATE_MAX, and restarts
 * at 1 once the pool is not short.  Spawned workers come up busy, so idle
 * stays 0.
 */
static void
test_dynamic_spawn_rate_sequence(void **state)
{
	static const struct {
		bool all_idle;	/* make every worker idle before the pass */
		int spawn;
		int rate_after;
	} steps[] = {
		{ false, 1, 2 },
		{ false, 2, 4 },
		{ false, 4, 8 },
		{ false, 8, 16 },
		{ false, 16, 32 },
		{ false, 32, 32 },
		{ false, 32, 32 },
		{ true, 0, 1 },		/* 96 idle >= 90: rate back to 1 */
		{ false, 1, 2 },	/* all busy again: short, from 1 */
		{ false, 2, 4 },
	};
	struct pool_server ps = { .workers = 1, .min_spare = 90,
				  .max_spare = 100, .max_workers = 400 };
	struct pool_worker w[MAXW];
	pid_t retire[MAXW], kill[MAXW];
	size_t n = 1;

	(void)state;
	memset(w, 0, sizeof(w));
	w[0].pid = PID0;
	w[0].state = SLOT_WRITING;
	w[0].last_activity_ms = NOW;
	for (size_t i = 0; i < NROWS(steps); i++) {
		struct pool_actions out = { .retire = retire, .kill = kill };

		for (size_t j = 0; j < n; j++)
			w[j].state = steps[i].all_idle ? SLOT_IDLE : SLOT_WRITING;
		pool_decide(&ps, w, n, NOW + (int64_t)i * POOL_SPARE_PERIOD_MS,
			    &out);
		if (out.spawn != steps[i].spawn || ps.spawn_rate != steps[i].rate_after)
			fail_msg("row %zu (pass with %zu workers%s): spawn %d rate %d, "
				 "expected spawn %d rate %d", i, n,
				 steps[i].all_idle ? ", all idle" : "", out.spawn,
				 ps.spawn_rate, steps[i].spawn, steps[i].rate_after);
		if (out.nretire != 0 || out.nkill != 0)
			fail_msg("row %zu: retired %zu, killed %zu", i, out.nretire,
				 out.nkill);
		for (int k = 0; k < out.spawn; k++, n++) {
			assert_true(n < MAXW);
			w[n].pid = PID0 + (pid_t)n;
			w[n].state = SLOT_WRITING;
			w[n].last_activity_ms = NOW;
		}
	}
	assert_int_equal(n, 1 + 1 + 2 + 4 + 8 + 16 + 32 + 32 + 1 + 2);
}

/* The spare rule acts once a second however often the master passes. */
static void
test_spare_rule_once_a_second(void **state)
{
	static const struct {
		const char *name;
		const char *workers;
		int64_t at_ms;
		int spawn;
		size_t nretire;
	} steps[] = {
		{ "short: spawns", "BB", 0, 1, 0 },
		{ "20 ms later: waits", "BB", 20, 0, 0 },
		{ "999 ms later: waits", "BB", 999, 0, 0 },
		{ "a second later: spawns more", "BB", 1000, 2, 0 },
		{ "too idle at 2000: retires one", "IIIIIIB", 2000, 0, 1 },
		{ "20 ms later: not another", "IIIIIIB", 2020, 0, 0 },
		{ "a second later: one more", "IIIIIIB", 3020, 0, 1 },
	};
	struct pool_server ps = { .workers = 2, .min_spare = 3,
				  .max_spare = 3, .max_workers = 10 };
	pid_t retire[MAXW], kill[MAXW];

	(void)state;
	for (size_t i = 0; i < NROWS(steps); i++) {
		struct pool_worker w[MAXW];
		struct pool_actions out = { .retire = retire, .kill = kill };
		size_t n = make_workers(steps[i].workers, NULL, w);

		pool_decide(&ps, w, n, NOW + steps[i].at_ms, &out);
		if (out.spawn != steps[i].spawn ||
		    out.nretire != steps[i].nretire)
			fail_msg("row %zu (%s): spawn %d retire %zu, expected %d "
				 "%zu", i, steps[i].name, out.spawn, out.nretire,
				 steps[i].spawn, steps[i].nretire);
	}
}

/*
 * Connections in the accept queue with no idle worker: spawn at once for
 * all of them within the cap; at the cap, ask keep-alive workers to drop
 * their idle connections, oldest-idle first.
 */
static void
test_queue(void **state)
{
	static const struct {
		const char *name;
		struct pool_server ps;
		const char *workers;	/* K: keep-alive, idle since age_ms */
		int64_t since_ms[8];	/* now - state_since, per worker */
		int spawn;
		const char *drop;	/* worker indexes, oldest first */
		bool capped;
	} rows[] = {
		{ "nothing queued", { DYNQ(4, 64, 0) }, "BBBB", { 0 }, 0, "",
		  false },
		{ "queued, as many idle: nothing", { DYNQ(4, 64, 2) }, "BBII",
		  { 0 }, 0, "", false },
		{ "59 queued, none idle: 59 at once", { DYNQ(5, 64, 59) },
		  "BBBBB", { 0 }, 59, "", false },
		{ "starting workers count as taking", { DYNQ(4, 64, 6) },
		  "BBSS", { 0 }, 4, "", false },
		{ "within the cap, short a while", { DYNQ(4, 8, 20), SHORT },
		  "BBBB", { 0 }, 4, "", true },
		{ "within the cap, first seen short: not yet capped",
		  { DYNQ(4, 8, 20) }, "BBBB", { 0 }, 4, "", false },
		{ "at the cap: oldest keep-alive first",
		  { DYNQ(2, 4, 2), SHORT }, "KBKK", { 3000, 0, 9000, 1000 }, 0,
		  "20", true },
		{ "at the cap: no more than queued wait",
		  { DYNQ(2, 4, 1), SHORT }, "KKBB", { 1000, 5000 }, 0, "1",
		  true },
		{ "at the cap: all keep-alive, fewer than queued",
		  { DYNQ(2, 4, 9), SHORT }, "KBBB", { 1000 }, 0, "0", true },
		{ "at the cap: a connection idle < 500 ms is likely in use",
		  { DYNQ(2, 4, 3), SHORT }, "KKKB", { 499, 500, 20 }, 0, "1",
		  true },
		{ "at the cap, short for less than a second: drops, not yet "
		  "capped", { DYNQ(2, 4, 1), .short_since_ms = NOW -
		  POOL_SPARE_PERIOD_MS + 1 }, "KKBB", { 1000, 5000 }, 0, "1",
		  false },
		{ "fixed pool at its size drops too; short a while: capped",
		  { .workers = 2, .min_spare = 1, .max_spare = 2, .queued = 3,
		    SHORT },
		  "KK", { 1000, 2000 }, 0, "10", true },
		{ "fixed pool, all busy a while: capped", { .workers = 2,
		  .min_spare = 1, .max_spare = 2, .queued = 1, SHORT }, "BB",
		  { 0 }, 0, "", true },
		{ "fixed pool, all busy, first seen: not yet", { .workers = 2,
		  .min_spare = 1, .max_spare = 2, .queued = 1 }, "BB",
		  { 0 }, 0, "", false },
		{ "fixed pool, all busy for less than a second: not yet",
		  { .workers = 2, .min_spare = 1, .max_spare = 2, .queued = 1,
		    .short_since_ms = NOW - POOL_SPARE_PERIOD_MS + 1 }, "BB",
		  { 0 }, 0, "", false },
		{ "fixed pool, one idle: not capped", { .workers = 2,
		  .min_spare = 1, .max_spare = 2, .queued = 1 }, "BI",
		  { 0 }, 0, "", false },
		{ "retiring keep-alive workers are not asked; the fixed pool "
		  "replaces one", { DYNQ(2, 2, 2) }, "kK", { 9000, 1000 }, 1, "1",
		  false },
		{ "backing off: no growth", { DYNQ(2, 10, 5), .backoff_ms = 100,
		  .respawn_at_ms = NOW + 50 }, "BB", { 0 }, 0, "", false },
	};
	pid_t retire[MAXW], kill[MAXW], drop[MAXW];

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct pool_worker w[MAXW];
		struct pool_server ps = rows[i].ps;
		struct pool_actions out = { .retire = retire, .kill = kill,
					    .drop = drop };
		size_t n = make_workers(rows[i].workers, NULL, w);
		char dbuf[MAXW + 1];

		for (size_t k = 0; k < n; k++) {
			w[k].state_since_ms = NOW - rows[i].since_ms[k];
			w[k].deadline_ms = NOW + 5000;
		}
		pool_decide(&ps, w, n, NOW, &out);
		pids_to_text(drop, out.ndrop, dbuf, sizeof(dbuf));
		if (out.spawn != rows[i].spawn || strcmp(dbuf, rows[i].drop) ||
		    out.capped != rows[i].capped)
			fail_msg("row %zu (%s): spawn %d drop \"%s\" capped %d, "
				 "expected %d \"%s\" %d", i, rows[i].name,
				 out.spawn, dbuf, out.capped, rows[i].spawn,
				 rows[i].drop, rows[i].capped);
	}
}

/*
 * A worker on its last connection is replaced early only where the pool
 * has room: a process within the cap until it exits.
 */
static void
test_leaving_within_cap(void **state)
{
	static const struct decide_row rows[] = {
		{ "fixed: the leaving one holds its place", { .workers = 2,
		  .min_spare = 1, .max_spare = 2 }, "xI", .spawn = 0,
		  .retire = "", .kill = "" },
		{ "fixed: all leaving, queued: none more", { .workers = 2,
		  .min_spare = 1, .max_spare = 2, .queued = 9 }, "xx",
		  .spawn = 0, .retire = "", .kill = "" },
		{ "fixed: one gone, one leaving", { .workers = 2,
		  .min_spare = 1, .max_spare = 2 }, "x", .spawn = 1,
		  .retire = "", .kill = "" },
		{ "dynamic with room: replaced at once", { DYNQ(2, 4, 0) }, "xI",
		  .spawn = 1, .retire = "", .kill = "", .rate_after = 1 },
		{ "dynamic at the cap: not", { DYNQ(2, 3, 0) }, "xxI",
		  .spawn = 0, .retire = "", .kill = "", .rate_after = 1 },
		{ "queued at the cap: none more", { DYNQ(2, 4, 5) }, "xxBB",
		  .spawn = 0, .retire = "", .kill = "", .rate_after = 1 },
		{ "queued below the cap: up to it", { DYNQ(2, 8, 5) }, "xxBB",
		  .spawn = 4, .retire = "", .kill = "", .rate_after = 1 },
	};

	(void)state;
	run_decide_rows(rows, NROWS(rows));
}

/* max-requests-jitter: the limit is max-requests plus 0..jitter. */
static void
test_request_limit(void **state)
{
	static const struct {
		const char *name;
		long max, jitter;
		uint32_t r;
		long expected;
	} rows[] = {
		{ "no limit", 0, 0, 7, 0 },
		{ "no limit, jitter ignored", 0, 50, 7, 0 },
		{ "no jitter", 100, 0, 123456, 100 },
		{ "jitter, r 0", 100, 10, 0, 100 },
		{ "jitter, r 10: the top", 100, 10, 10, 110 },
		{ "jitter, r 11 wraps", 100, 10, 11, 100 },
		{ "jitter, r 25", 100, 10, 25, 103 },
		{ "jitter, largest r", 1, 4, UINT32_MAX, 1 + UINT32_MAX % 5 },
		{ "near LONG_MAX saturates", LONG_MAX - 1, 10, 5, LONG_MAX },
		{ "negative jitter: none", 10, -5, 3, 10 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		long got = pool_request_limit(rows[i].max, rows[i].jitter,
					      rows[i].r);

		if (got != rows[i].expected)
			fail_msg("row %zu (%s): %ld, expected %ld", i, rows[i].name,
				 got, rows[i].expected);
	}
}

/* Restarts by reason, for the status counters. */
static void
test_restart_reason(void **state)
{
	static const struct {
		const char *name;
		enum worker_exit how;
		bool expected, timed_out;
		int worker_reason, reason;
	} rows[] = {
		{ "watchdog kill", EXIT_CRASHED, true, true, 0, RESTART_TIMEOUT },
		{ "told to stop", EXIT_NORMAL, true, false, 0, -1 },
		{ "terminated", EXIT_CRASHED, true, false, 0, -1 },
		{ "max-requests", EXIT_NORMAL, false, false, RESTART_MAX_REQUESTS,
		  RESTART_MAX_REQUESTS },
		{ "max-memory", EXIT_NORMAL, false, false, RESTART_MAX_MEMORY,
		  RESTART_MAX_MEMORY },
		{ "normal exit, no reason given (stopped from outside)",
		  EXIT_NORMAL, false, false, -1, -1 },
		{ "crash", EXIT_CRASHED, false, false, 0, RESTART_CRASH },
		{ "fatal while serving", EXIT_FATAL, false, false, 0,
		  RESTART_CRASH },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		int got = pool_restart_reason(rows[i].how, rows[i].expected,
					      rows[i].timed_out,
					      rows[i].worker_reason);

		if (got != rows[i].reason)
			fail_msg("row %zu (%s): %d, expected %d", i, rows[i].name,
				 got, rows[i].reason);
	}
}

/* ---- pool_memory_below_fresh, pool_size_format -------------------------- */

#define K ((uint64_t)1 << 10)
#define M ((uint64_t)1 << 20)

static void
test_memory_below_fresh(void **state)
{
	static const struct {
		const char *name;
		uint64_t max_memory, fresh_rss;
		int worker_reason;
		uint64_t connections;
		bool below;
	} rows[] = {
		{ "1M, fresh worker at 2.7M", M, 2765 * K, RESTART_MAX_MEMORY,
		  1, true },
		{ "64K, fresh worker at 752K", 64 * K, 752 * K,
		  RESTART_MAX_MEMORY, 1, true },
		{ "fresh worker at the limit exactly", M, M,
		  RESTART_MAX_MEMORY, 1, false },
		{ "grew past it on its first connection", 2 * M, 752 * K,
		  RESTART_MAX_MEMORY, 1, false },
		{ "512M", 512 * M, 752 * K, RESTART_MAX_MEMORY, 1, false },
		{ "fresh size not measured", M, 0, RESTART_MAX_MEMORY, 1,
		  false },
		{ "served more than one connection", M, 2765 * K,
		  RESTART_MAX_MEMORY, 2, false },
		{ "recycled for max-requests", M, 2765 * K,
		  RESTART_MAX_REQUESTS, 1, false },
		{ "no reason given", M, 2765 * K, -1, 1, false },
		{ "no max-memory", 0, 2765 * K, RESTART_MAX_MEMORY, 1, false },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		bool got = pool_memory_below_fresh(rows[i].max_memory,
						   rows[i].fresh_rss,
						   rows[i].worker_reason,
						   rows[i].connections);

		if (got != rows[i].below)
			fail_msg("row %zu (%s): %d, expected %d", i,
				 rows[i].name, got, rows[i].below);
	}
}

static void
test_size_format(void **state)
{
	static const struct {
		uint64_t bytes;
		const char *text;
	} rows[] = {
		{ 0, "0" },
		{ 1023, "1023" },
		{ K, "1K" },
		{ 64 * K, "64K" },
		{ 752 * K, "752K" },
		{ 1023 * K, "1023K" },
		{ M, "1M" },
		{ M + 4 * K, "1.0M" },
		{ M + 52 * K, "1.1M" },
		{ 2765 * K, "2.7M" },
		{ 2 * M - 4 * K, "2.0M" },
		{ 512 * M, "512M" },
		{ 2048 * M, "2G" },
		{ 3 * 1024 * 1024 * M, "3T" },
		{ UINT64_MAX, "16777216.0T" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		pool_size_format(rows[i].bytes, buf, sizeof(buf));
		if (strcmp(buf, rows[i].text) != 0)
			fail_msg("row %zu (%llu bytes): \"%s\", expected \"%s\"",
				 i, (unsigned long long)rows[i].bytes, buf,
				 rows[i].text);
	}
}

/* ---- pool_timed_out ------------------------------------------------------ */

static void
test_timed_out(void **state)
{
	static const struct {
		const char *name;
		int state;
		int64_t age_ms;
		int timeout_s;
		bool expected;
		int64_t deadline_in_ms;	/* handler's deadline - now; 0: none */
	} rows[] = {
		{ "busy, 1 ms past", SLOT_WRITING, 60001, 60, true, 0 },
		{ "busy, exactly at", SLOT_WRITING, 60000, 60, false, 0 },
		{ "busy, fresh", SLOT_WRITING, 0, 60, false, 0 },
		{ "closing, past", SLOT_CLOSING, 2001, 2, true, 0 },
		{ "idle, way past", SLOT_IDLE, 86400000, 1, false, 0 },
		{ "starting, way past", SLOT_STARTING, 86400000, 1, false, 0 },
		{ "free, way past", SLOT_FREE, 86400000, 1, false, 0 },
		{ "busy, timeout 0", SLOT_WRITING, 86400000, 0, false, 0 },
		{ "busy, negative timeout", SLOT_WRITING, 86400000, -1, false, 0 },
		{ "busy, activity in the future", SLOT_WRITING, -5000, 1, false, 0 },
		{ "busy, largest timeout", SLOT_WRITING, 86400001, 86400, true, 0 },
		/* Waits under the handler's own deadline are the handler's. */
		{ "keep-alive within its deadline", SLOT_KEEPALIVE, 4000, 2,
		  false, 1000 },
		{ "keep-alive just past its deadline", SLOT_KEEPALIVE, 6000, 2,
		  false, -1000 },
		{ "keep-alive stuck past deadline + timeout", SLOT_KEEPALIVE,
		  8000, 2, true, -2001 },
		{ "reading within header-timeout", SLOT_READING, 9000, 2, false,
		  1000 },
		{ "reading stuck past deadline + timeout", SLOT_READING, 20000, 2,
		  true, -2001 },
		{ "reading without deadline, past", SLOT_READING, 2001, 2, true, 0 },
		{ "keep-alive without deadline, fresh", SLOT_KEEPALIVE, 1000, 2,
		  false, 0 },
		{ "keep-alive deadline, timeout 0", SLOT_KEEPALIVE, 86400000, 0,
		  false, -86400000 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct pool_worker w = {
			.pid = PID0, .state = rows[i].state,
			.last_activity_ms = NOW - rows[i].age_ms,
			.deadline_ms = rows[i].deadline_in_ms ?
				       NOW + rows[i].deadline_in_ms : 0,
		};
		bool got = pool_timed_out(&w, NOW, rows[i].timeout_s);

		if (got != rows[i].expected)
			fail_msg("row %zu (%s): %d, expected %d", i, rows[i].name, got,
				 rows[i].expected);
	}
}

/* ---- pool_worker_exited: crash-loop backoff ----------------------------- */

static void
test_backoff_sequence(void **state)
{
	static const struct {
		const char *name;
		enum worker_exit how;
		int64_t lived_ms;
		int64_t now_ms;
		/* expected after the call */
		int backoff_ms;
		int64_t respawn_at_ms;
		bool fatal;
	} steps[] = {
		{ "first crash", EXIT_CRASHED, 10, 1000, 100, 1100, false },
		{ "second crash", EXIT_CRASHED, 10, 2000, 200, 2200, false },
		{ "third", EXIT_CRASHED, 0, 3000, 400, 3400, false },
		{ "4th", EXIT_CRASHED, 1999, 4000, 800, 4800, false },
		{ "5th", EXIT_CRASHED, 10, 5000, 1600, 6600, false },
		{ "6th", EXIT_CRASHED, 10, 6000, 3200, 9200, false },
		{ "7th", EXIT_CRASHED, 10, 7000, 6400, 13400, false },
		{ "8th: capped", EXIT_CRASHED, 10, 8000, POOL_BACKOFF_MAX_MS,
		  8000 + POOL_BACKOFF_MAX_MS, false },
		{ "9th: stays capped", EXIT_CRASHED, 10, 9000, POOL_BACKOFF_MAX_MS,
		  9000 + POOL_BACKOFF_MAX_MS, false },
		{ "crash after a healthy life resets", EXIT_CRASHED,
		  POOL_HEALTHY_MS, 20000, 0, 9000 + POOL_BACKOFF_MAX_MS, false },
		{ "crash again starts over", EXIT_CRASHED, 1, 21000, 100, 21100,
		  false },
		{ "and doubles", EXIT_CRASHED, 1, 22000, 200, 22200, false },
		{ "normal exit resets, even short-lived", EXIT_NORMAL, 1, 23000, 0,
		  22200, false },
		{ "crash once more", EXIT_CRASHED, 5, 24000, 100, 24100, false },
		{ "long healthy crash resets", EXIT_CRASHED, 3600000, 25000, 0,
		  24100, false },
		{ "crash", EXIT_CRASHED, 5, 26000, 100, 26100, false },
		{ "fatal exit sets fatal", EXIT_FATAL, 5, 27000, 100, 26100, true },
		{ "fatal stays after a normal exit", EXIT_NORMAL, 5000, 28000, 0,
		  26100, true },
	};
	struct pool_server ps = { .workers = 4 };

	(void)state;
	for (size_t i = 0; i < NROWS(steps); i++) {
		pool_worker_exited(&ps, steps[i].how, steps[i].lived_ms,
				   steps[i].now_ms);
		if (ps.backoff_ms != steps[i].backoff_ms ||
		    ps.respawn_at_ms != steps[i].respawn_at_ms ||
		    ps.fatal != steps[i].fatal)
			fail_msg("row %zu (%s): backoff %d respawn_at %lld fatal %d, "
				 "expected %d %lld %d", i, steps[i].name,
				 ps.backoff_ms, (long long)ps.respawn_at_ms, ps.fatal,
				 steps[i].backoff_ms,
				 (long long)steps[i].respawn_at_ms, steps[i].fatal);
		if (ps.workers != 4)
			fail_msg("row %zu (%s): workers changed", i, steps[i].name);
	}
}

/*
 * A generation that serves retries a worker that failed its init (a
 * docroot missing during a deploy) with the crash backoff; only one that
 * is starting gives up.
 */
static void
test_fatal_once_serving(void **state)
{
	static const struct {
		const char *name;
		bool serving;
		enum worker_exit how;
		int64_t now_ms;
		/* expected after the call */
		bool fatal;
		int backoff_ms;
		int spawn;		/* pool_decide at now_ms + backoff_ms */
	} steps[] = {
		{ "serving: fatal exit backs off", true, EXIT_FATAL, 1000,
		  false, 100, 1 },
		{ "serving: again, doubles", true, EXIT_FATAL, 2000, false, 200,
		  1 },
		{ "serving: a normal exit resets", true, EXIT_NORMAL, 3000,
		  false, 0, 1 },
		{ "starting: fatal is final", false, EXIT_FATAL, 4000, true, 0,
		  0 },
	};
	struct pool_server ps = { .workers = 1 };
	pid_t retire[4], kill[4];

	(void)state;
	for (size_t i = 0; i < NROWS(steps); i++) {
		struct pool_actions out = { .retire = retire, .kill = kill };

		ps.serving = steps[i].serving;
		pool_worker_exited(&ps, steps[i].how, 5, steps[i].now_ms);
		pool_decide(&ps, NULL, 0, steps[i].now_ms + ps.backoff_ms, &out);
		if (ps.fatal != steps[i].fatal ||
		    ps.backoff_ms != steps[i].backoff_ms ||
		    out.spawn != steps[i].spawn)
			fail_msg("row %zu (%s): fatal %d backoff %d spawn %d, "
				 "expected %d %d %d", i, steps[i].name, ps.fatal,
				 ps.backoff_ms, out.spawn, steps[i].fatal,
				 steps[i].backoff_ms, steps[i].spawn);
	}
}

/* TTIN is capped by the total the scoreboard holds, not only per pool. */
static void
test_resize_total_cap(void **state)
{
	static const struct {
		const char *name;
		int workers[3], max_workers[3];
		int delta, total_max;
		bool expected;
	} rows[] = {
		{ "room left", { 4, 4, 4 }, { 4, 4, 4 }, 1, 20, true },
		{ "exactly full after", { 4, 4, 4 }, { 4, 4, 4 }, 1, 15, true },
		{ "one over", { 4, 4, 5 }, { 4, 4, 5 }, 1, 15, false },
		{ "shrinking always fits", { 9, 9, 9 }, { 9, 9, 9 }, -1, 15,
		  true },
		{ "dynamic pools move their band: no growth", { 2, 2, 2 },
		  { 5, 5, 5 }, 1, 15, true },
		{ "mixed: fixed one grows past", { 2, 8, 1 }, { 6, 8, 1 }, 1, 15,
		  false },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct pool_server ps[3];
		bool got;

		for (int k = 0; k < 3; k++) {
			memset(&ps[k], 0, sizeof(ps[k]));
			ps[k].workers = rows[i].workers[k];
			ps[k].max_workers = rows[i].max_workers[k];
			ps[k].min_spare = 1;
			ps[k].max_spare = 2;
		}
		got = pool_resize_fits(ps, 3, rows[i].delta, rows[i].total_max);
		if (got != rows[i].expected)
			fail_msg("row %zu (%s): %d, expected %d", i, rows[i].name,
				 got, rows[i].expected);
	}
}

/* Exits feed decisions: a crash loop spawns nothing until respawn_at. */
static void
test_backoff_gates_decide(void **state)
{
	static const struct {
		const char *name;
		int crashes_before;	/* quick crashes at now_ms before deciding */
		int64_t now_ms;
		int spawn;
	} steps[] = {
		{ "three crashes at 1000: wait 400", 3, 1000, 0 },
		{ "at 1399: still waiting", 0, 1399, 0 },
		{ "at 1400: one worker", 0, 1400, 1 },
		{ "crash at 1500: wait 800", 1, 1500, 0 },
		{ "at 2299", 0, 2299, 0 },
		{ "at 2300: one worker", 0, 2300, 1 },
	};
	struct pool_server ps = { .workers = 3 };
	struct pool_worker w[1];
	pid_t retire[4], kill[4];

	(void)state;
	for (size_t i = 0; i < NROWS(steps); i++) {
		struct pool_actions out = { .retire = retire, .kill = kill };

		for (int k = 0; k < steps[i].crashes_before; k++)
			pool_worker_exited(&ps, EXIT_CRASHED, 20, steps[i].now_ms);
		pool_decide(&ps, w, 0, steps[i].now_ms, &out);
		if (out.spawn != steps[i].spawn)
			fail_msg("row %zu (%s): spawn %d, expected %d (backoff %d, "
				 "respawn_at %lld)", i, steps[i].name, out.spawn,
				 steps[i].spawn, ps.backoff_ms,
				 (long long)ps.respawn_at_ms);
	}
}

/*
 * Back-off ends once a worker started after the last young death has
 * lived POOL_HEALTHY_MS, not only when one exits: a pool whose workers
 * never exit (no max-requests) kept growing one worker at a time, for
 * good, after a single crash.
 */
static void
test_backoff_heals(void **state)
{
	static const struct {
		const char *name;
		const char *workers;
		int64_t started_ago_ms[4];	/* per worker; crash 3000 ago */
		bool over;
		bool not_backing_off;
	} rows[] = {
		{ "no worker since the crash", "II", { 9000, 9000 }, false, false },
		{ "one since, too young", "II", { 9000, POOL_HEALTHY_MS - 1 },
		  false, false },
		{ "one since, healthy", "II", { 9000, POOL_HEALTHY_MS }, true,
		  false },
		{ "one since, healthy and busy", "IB", { 9000, 2500 }, true,
		  false },
		{ "one since, healthy but retiring", "Ii", { 9000, 2500 },
		  false, false },
		{ "started with the crash, not after", "I", { 3000 }, false,
		  false },
		{ "not backing off: nothing to end", "II", { 9000, 2500 },
		  false, true },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		bool backing_off = !rows[i].not_backing_off;
		struct pool_server ps = { .workers = 2, .max_workers = 2,
					  .backoff_ms = backing_off ? 1600 : 0,
					  .crashed_ms = NOW - 3000,
					  .respawn_at_ms = NOW - 1400 };
		struct pool_worker w[MAXW];
		pid_t retire[MAXW], kill[MAXW];
		struct pool_actions out = { .retire = retire, .kill = kill };
		size_t n = make_workers(rows[i].workers, NULL, w);

		for (size_t k = 0; k < n; k++)
			w[k].started_ms = NOW - rows[i].started_ago_ms[k];
		pool_decide(&ps, w, n, NOW, &out);
		if (out.backoff_over != rows[i].over ||
		    (ps.backoff_ms == 0) != (rows[i].over || !backing_off))
			fail_msg("row %zu (%s): over %d, backoff %d after", i,
				 rows[i].name, out.backoff_over, ps.backoff_ms);
	}
}

/* The whole story: crash, back-off, a survivor, growth at full speed. */
static void
test_backoff_heals_growth(void **state)
{
	struct pool_server ps = { DYNQ(2, 64, 0) };
	struct pool_worker w[MAXW];
	pid_t retire[MAXW], kill[MAXW];
	struct pool_actions out = { .retire = retire, .kill = kill };
	size_t n = make_workers("IB", NULL, w);

	(void)state;
	w[0].started_ms = 0;
	/* The second worker's predecessor died 100 ms after its start. */
	pool_worker_exited(&ps, EXIT_CRASHED, 100, 1000);
	w[1].started_ms = 1100;
	ps.queued = 20;
	pool_decide(&ps, w, n, 1200, &out);
	if (out.spawn != 0)
		fail_msg("backing off: spawned %d", out.spawn);
	pool_decide(&ps, w, n, 1100 + POOL_HEALTHY_MS, &out);
	if (!out.backoff_over || out.spawn != 19)
		fail_msg("after a survivor: over %d, spawn %d, expected 1 and "
			 "19 (20 queued, 1 idle)", out.backoff_over, out.spawn);
}

/*
 * One warning per episode of "reached max-workers": an episode ends only
 * once the pool was not capped for POOL_CAPPED_QUIET_MS, so a pool short
 * by turns (workers leaving for max-requests) says it once.
 */
static void
test_capped_episode(void **state)
{
	static const struct {
		int64_t now_ms;
		bool capped;
		bool begins;
	} steps[] = {
		{ 0, false, false },
		{ 100, true, true },
		{ 120, true, false },
		{ 140, false, false },
		{ 160, true, false },
		{ 200, false, false },
		{ 200 + POOL_CAPPED_QUIET_MS - 1, false, false },
		{ 200 + POOL_CAPPED_QUIET_MS - 1, true, false },
		{ 300 + POOL_CAPPED_QUIET_MS, false, false },
		{ 300 + 2 * POOL_CAPPED_QUIET_MS, false, false },
		{ 301 + 2 * POOL_CAPPED_QUIET_MS, true, true },
	};
	struct pool_server ps = { .workers = 2 };

	(void)state;
	for (size_t i = 0; i < NROWS(steps); i++) {
		bool begins = pool_capped_episode(&ps, steps[i].capped,
						  steps[i].now_ms);

		if (begins != steps[i].begins)
			fail_msg("step %zu (at %lld, capped %d): begins %d, "
				 "expected %d", i, (long long)steps[i].now_ms,
				 steps[i].capped, begins, steps[i].begins);
	}
}

/* A reload carries an episode on, unless it changed the cap. */
static void
test_episode_carry(void **state)
{
	struct pool_server old = { .workers = 2 }, same = { .workers = 2 };
	struct pool_server raised = { .workers = 4 };

	(void)state;
	assert_true(pool_capped_episode(&old, true, 100));
	pool_episode_carry(&same, &old);
	assert_false(pool_capped_episode(&same, true, 200));
	pool_episode_carry(&raised, &old);
	assert_true(pool_capped_episode(&raised, true, 200));
	/* Not capped before: nothing carried, the next shortage is said. */
	old = (struct pool_server){ .workers = 2 };
	same = (struct pool_server){ .workers = 2 };
	pool_episode_carry(&same, &old);
	assert_true(pool_capped_episode(&same, true, 300));
}

/* ---- pool_classify_status ----------------------------------------------- */

static void
test_classify_status(void **state)
{
	static const struct {
		const char *name;
		int wstatus;
		enum worker_exit expected;
	} rows[] = {
		{ "exit 0", W_EXITCODE(WORKER_EXIT_OK, 0), EXIT_NORMAL },
		{ "exit 78", W_EXITCODE(WORKER_EXIT_FATAL, 0), EXIT_FATAL },
		{ "exit 1", W_EXITCODE(1, 0), EXIT_CRASHED },
		{ "exit 77", W_EXITCODE(77, 0), EXIT_CRASHED },
		{ "exit 79", W_EXITCODE(79, 0), EXIT_CRASHED },
		{ "exit 255", W_EXITCODE(255, 0), EXIT_CRASHED },
		{ "exit 127", W_EXITCODE(127, 0), EXIT_CRASHED },
		{ "SIGSEGV", W_EXITCODE(0, SIGSEGV), EXIT_CRASHED },
		{ "SIGSEGV, core dumped", W_EXITCODE(0, SIGSEGV) | WCOREFLAG,
		  EXIT_CRASHED },
		{ "SIGABRT", W_EXITCODE(0, SIGABRT), EXIT_CRASHED },
		{ "SIGKILL", W_EXITCODE(0, SIGKILL), EXIT_CRASHED },
		{ "SIGTERM", W_EXITCODE(0, SIGTERM), EXIT_CRASHED },
		{ "SIGALRM", W_EXITCODE(0, SIGALRM), EXIT_CRASHED },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		enum worker_exit got = pool_classify_status(rows[i].wstatus);

		if (got != rows[i].expected)
			fail_msg("row %zu (%s, status 0x%x): %d, expected %d", i,
				 rows[i].name, (unsigned)rows[i].wstatus, got,
				 rows[i].expected);
	}
}

/* ---- pool_resize (SIGTTIN / SIGTTOU) ------------------------------------ */

static void
test_resize_bounds(void **state)
{
	static const struct {
		const char *name;
		struct pool_server ps;
		int delta;
		int workers, min_spare, max_spare, max_workers;
	} rows[] = {
		{ "fixed TTIN", { .workers = 4 }, +1, 5, 0, 0, 0 },
		{ "fixed TTOU", { .workers = 4 }, -1, 3, 0, 0, 0 },
		{ "fixed TTOU down to 1", { .workers = 2 }, -1, 1, 0, 0, 0 },
		{ "fixed TTOU at 1: stays", { .workers = 1 }, -1, 1, 0, 0, 0 },
		{ "fixed TTIN to the max", { .workers = CONF_MAX_WORKERS - 1 }, +1,
		  CONF_MAX_WORKERS, 0, 0, 0 },
		{ "fixed TTIN at the max: stays", { .workers = CONF_MAX_WORKERS },
		  +1, CONF_MAX_WORKERS, 0, 0, 0 },
		{ "fixed TTIN keeps spare settings",
		  { .workers = 4, .min_spare = 1, .max_spare = 4 }, +1, 5, 1, 4, 0 },
		{ "dynamic TTIN moves the idle band up",
		  { .workers = 2, .min_spare = 2, .max_spare = 4,
		    .max_workers = 10 }, +1, 2, 3, 5, 10 },
		{ "dynamic TTOU moves the idle band down",
		  { .workers = 2, .min_spare = 2, .max_spare = 4,
		    .max_workers = 10 }, -1, 2, 1, 3, 10 },
		{ "dynamic TTOU to min-spare 0",
		  { .workers = 2, .min_spare = 1, .max_spare = 4,
		    .max_workers = 10 }, -1, 2, 0, 3, 10 },
		{ "dynamic TTOU at min-spare 0: max-spare goes on down",
		  { .workers = 2, .min_spare = 0, .max_spare = 4,
		    .max_workers = 10 }, -1, 2, 0, 3, 10 },
		{ "dynamic TTOU at max-spare 1: stays",
		  { .workers = 2, .min_spare = 0, .max_spare = 1,
		    .max_workers = 10 }, -1, 2, 0, 1, 10 },
		{ "dynamic TTIN to max-spare == max-workers",
		  { .workers = 2, .min_spare = 2, .max_spare = 9,
		    .max_workers = 10 }, +1, 2, 3, 10, 10 },
		{ "dynamic TTIN at max-spare == max-workers: min-spare goes on "
		  "up", { .workers = 2, .min_spare = 2, .max_spare = 10,
		    .max_workers = 10 }, +1, 2, 3, 10, 10 },
		{ "dynamic TTIN with the band at max-workers: stays",
		  { .workers = 2, .min_spare = 10, .max_spare = 10,
		    .max_workers = 10 }, +1, 2, 10, 10, 10 },
		{ "dynamic TTOU from 1..2: max-spare to 1",
		  { .workers = 2, .min_spare = 1, .max_spare = 2,
		    .max_workers = 10 }, -1, 2, 0, 1, 10 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct pool_server ps = rows[i].ps;

		pool_band_set(&ps);
		pool_resize(&ps, rows[i].delta);
		if (ps.workers != rows[i].workers ||
		    ps.min_spare != rows[i].min_spare ||
		    ps.max_spare != rows[i].max_spare ||
		    ps.max_workers != rows[i].max_workers)
			fail_msg("row %zu (%s): workers %d spare %d..%d max %d, "
				 "expected %d %d..%d %d", i, rows[i].name, ps.workers,
				 ps.min_spare, ps.max_spare, ps.max_workers,
				 rows[i].workers, rows[i].min_spare,
				 rows[i].max_spare, rows[i].max_workers);
	}
}

/*
 * As many steps back as there were steps that changed something give the
 * pool back as it was, whichever limits cut those steps short: a band
 * 5..10 under max-workers 12 goes 6..11, 7..12, 8..12 and back to 5..10.
 * A step that changes nothing (at 1 worker, or the band at its ends) is
 * not one to undo.
 */
/* One step; 1 if it changed the pool's size or band. */
static int
resized(struct pool_server *ps, int delta)
{
	struct pool_server was = *ps;

	pool_resize(ps, delta);
	return ps->workers != was.workers || ps->min_spare != was.min_spare ||
	       ps->max_spare != was.max_spare;
}

static void
test_resize_undone(void **state)
{
	static const struct pool_server pools[] = {
		{ .workers = 4 },
		{ .workers = 1 },
		{ .workers = CONF_MAX_WORKERS - 2 },
		{ .workers = 2, .min_spare = 2, .max_spare = 4, .max_workers = 10 },
		{ .workers = 2, .min_spare = 5, .max_spare = 10,
		  .max_workers = 12 },
		{ .workers = 2, .min_spare = 0, .max_spare = 1, .max_workers = 3 },
		{ .workers = 2, .min_spare = 3, .max_spare = 3, .max_workers = 3 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(pools); i++) {
		for (int n = 1; n <= 20; n++) {
			for (int sign = -1; sign <= 1; sign += 2) {
				struct pool_server ps = pools[i];
				int moved = 0;

				pool_band_set(&ps);
				for (int k = 0; k < n; k++)
					moved += resized(&ps, sign);
				for (int k = 0; k < moved; k++)
					pool_resize(&ps, -sign);
				if (ps.workers != pools[i].workers ||
				    ps.min_spare != pools[i].min_spare ||
				    ps.max_spare != pools[i].max_spare ||
				    ps.max_workers < pools[i].max_workers)
					fail_msg("pool %zu, %d x %+d then back: "
						 "workers %d spare %d..%d max %d",
						 i, n, sign, ps.workers,
						 ps.min_spare, ps.max_spare,
						 ps.max_workers);
			}
		}
	}
}

/* A resize followed by a maintenance pass. */
struct resize_row {
	const char *name;
	struct pool_server ps;
	const char *workers;
	int delta, times;
	int spawn;
	const char *retire;
};

static void
run_resize_rows(const struct resize_row *rows, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		struct pool_server ps = rows[i].ps;
		struct pool_worker w[MAXW];
		pid_t retire[MAXW], kill[MAXW];
		struct pool_actions out = { .retire = retire, .kill = kill };
		size_t n = make_workers(rows[i].workers, NULL, w);
		char rbuf[MAXW + 1];

		pool_band_set(&ps);
		for (int k = 0; k < rows[i].times; k++)
			pool_resize(&ps, rows[i].delta);
		pool_decide(&ps, w, n, NOW, &out);
		pids_to_text(retire, out.nretire, rbuf, sizeof(rbuf));
		if (out.spawn != rows[i].spawn || strcmp(rbuf, rows[i].retire) != 0)
			fail_msg("row %zu (%s): spawn %d retire \"%s\", expected %d "
				 "\"%s\" (now workers %d, max_workers %d)", i,
				 rows[i].name, out.spawn, rbuf, rows[i].spawn,
				 rows[i].retire, ps.workers, ps.max_workers);
		if (out.nkill != 0)
			fail_msg("row %zu (%s): killed %zu", i, rows[i].name,
				 out.nkill);
	}
}

static void
test_resize_then_decide(void **state)
{
	static const struct resize_row rows[] = {
		{ "fixed TTOU x2: two idle retired",
		  { .workers = 4 }, "BIBI", -1, 2, 0, "13" },
		{ "fixed TTOU x3: idle first, then busy",
		  { .workers = 4 }, "BIBI", -1, 3, 0, "130" },
		{ "fixed TTIN: one more spawned",
		  { .workers = 4 }, "BIBI", +1, 1, 1, "" },
		{ "fixed TTIN x3 over retiring workers",
		  { .workers = 2 }, "iB", +1, 3, 4, "" },
		{ "dynamic TTIN: min-spare 3 wants one more",
		  { .workers = 2, .min_spare = 2, .max_spare = 4,
		    .max_workers = 10 }, "BBII", +1, 1, 1, "" },
		{ "dynamic TTOU: max-spare 3 retires one idle",
		  { .workers = 2, .min_spare = 2, .max_spare = 4,
		    .max_workers = 10 }, "BIIII", -1, 1, 0, "1" },
	};

	(void)state;
	run_resize_rows(rows, NROWS(rows));
}

/*
 * pool.h: "max_workers <= workers: fixed".  A fixed pool written with
 * max-workers equal to workers must stay fixed after SIGTTOU, not turn
 * into a dynamic pool governed by the (unused) spare settings.
 */
static void
test_resize_fixed_stays_fixed(void **state)
{
	static const struct resize_row rows[] = {
		{ "max_workers == workers, TTOU: one idle retired",
		  { .workers = 4, .min_spare = 1, .max_spare = 4,
		    .max_workers = 4 }, "IIII", -1, 1, 0, "0" },
		{ "max_workers == workers, TTOU x2: two idle retired",
		  { .workers = 4, .min_spare = 1, .max_spare = 4,
		    .max_workers = 4 }, "BIBI", -1, 2, 0, "13" },
		{ "max_workers == workers, TTOU, 3 busy: no spawn past 3",
		  { .workers = 4, .min_spare = 2, .max_spare = 4,
		    .max_workers = 4 }, "BBB", -1, 1, 0, "" },
	};

	(void)state;
	run_resize_rows(rows, NROWS(rows));
}

/* Short of idle workers at max-workers: said, so the master can log it. */
static void
test_capped(void **state)
{
	static const struct {
		const char *name;
		const char *workers;
		bool capped;
		int64_t short_ms;	/* short of idle workers this long */
	} rows[] = {
		{ "all busy at the cap for a second", "BBBB", true,
		  POOL_SPARE_PERIOD_MS },
		{ "all busy at the cap, first seen", "BBBB", false, -1 },
		{ "all busy at the cap for less than a second", "BBBB", false,
		  POOL_SPARE_PERIOD_MS - 1 },
		{ "one idle at the cap (min-spare 1)", "BBBI", false,
		  POOL_SPARE_PERIOD_MS },
		{ "all busy below the cap", "BBB", false, POOL_SPARE_PERIOD_MS },
		{ "idle workers", "IIII", false, POOL_SPARE_PERIOD_MS },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct pool_server ps = { .workers = 2, .min_spare = 1,
					  .max_spare = 2, .max_workers = 4,
					  .spawn_rate = 1,
					  .short_since_ms = rows[i].short_ms < 0 ?
					  0 : NOW - rows[i].short_ms };
		struct pool_worker w[MAXW];
		pid_t retire[MAXW], kill[MAXW];
		struct pool_actions out = { .retire = retire, .kill = kill };
		size_t n = make_workers(rows[i].workers, NULL, w);

		pool_decide(&ps, w, n, NOW, &out);
		if (out.capped != rows[i].capped)
			fail_msg("row %zu (%s): capped %d, expected %d", i,
				 rows[i].name, out.capped, rows[i].capped);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_fixed),
		cmocka_unit_test(test_decide_dynamic),
		cmocka_unit_test(test_decide_dynamic_backoff_start_size),
		cmocka_unit_test(test_dynamic_spawn_rate_sequence),
		cmocka_unit_test(test_spare_rule_once_a_second),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_leaving_within_cap),
		cmocka_unit_test(test_request_limit),
		cmocka_unit_test(test_restart_reason),
		cmocka_unit_test(test_memory_below_fresh),
		cmocka_unit_test(test_size_format),
		cmocka_unit_test(test_timed_out),
		cmocka_unit_test(test_backoff_sequence),
		cmocka_unit_test(test_backoff_gates_decide),
		cmocka_unit_test(test_backoff_heals),
		cmocka_unit_test(test_backoff_heals_growth),
		cmocka_unit_test(test_capped_episode),
		cmocka_unit_test(test_episode_carry),
		cmocka_unit_test(test_fatal_once_serving),
		cmocka_unit_test(test_resize_total_cap),
		cmocka_unit_test(test_classify_status),
		cmocka_unit_test(test_resize_bounds),
		cmocka_unit_test(test_resize_undone),
		cmocka_unit_test(test_resize_then_decide),
		cmocka_unit_test(test_resize_fixed_stays_fixed),
		cmocka_unit_test(test_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PURE: a condition that repeats is reported once per interval, with the
 * count of the events held back since the last report.
 */
#ifndef PREFORKD_RATELIMIT_H
#define PREFORKD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	int64_t interval_ms;
	int64_t next_ms;		/* no report before this */
	bool reported;			/* once, so next_ms means something */
	unsigned long held;		/* events since the last report */
};

#define RATELIMIT_INIT(ms) { .interval_ms = (ms) }

/*
 * An event at now_ms (CLOCK_MONOTONIC).  True if it is to be reported,
 * with *held set to the events held back since the last report (0 for
 * the first); false if it is held back, and counted.
 */
bool ratelimit_pass(struct ratelimit *rl, int64_t now_ms,
		    unsigned long *held);

#endif

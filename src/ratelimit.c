/* SPDX-License-Identifier: BSD-2-Clause */
/* Reporting a repeated condition once per interval, with a count. */
#include "config.h"

#include "ratelimit.h"

bool
ratelimit_pass(struct ratelimit *rl, int64_t now_ms, unsigned long *held)
{
	if (rl->reported && now_ms < rl->next_ms) {
		rl->held++;
		return false;
	}
	*held = rl->held;
	rl->held = 0;
	rl->reported = true;
	rl->next_ms = now_ms + rl->interval_ms;
	return true;
}

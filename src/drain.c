/* SPDX-License-Identifier: BSD-2-Clause */
/* The master's drain: what falls due when, and the scoreboard's flag. */
#include "config.h"

#include "drain.h"
#include "log.h"

static struct {
	enum drain_action action;	/* waiting, or DRAIN_NONE */
	int64_t due_ms;
} d;

void
drain_begin(struct sb_master *sb, enum drain_action action, int delay_s,
	    int64_t now)
{
	sb->draining = 1;
	if (d.action == action || (d.action == DRAIN_STOP &&
				   action == DRAIN_RETIRE)) {
		/* Asked twice: the operator does not want to wait. */
		d.due_ms = now;
		return;
	}
	d.action = action;
	d.due_ms = now + (int64_t)delay_s * 1000;
	if (delay_s > 0)
		log_notice("draining for drain-delay (%d s) before %s", delay_s,
			   action == DRAIN_STOP ? "the graceful shutdown" :
			   "retiring the workers");
}

enum drain_action
drain_due(int64_t now)
{
	enum drain_action a = d.action;

	if (a == DRAIN_NONE || now < d.due_ms)
		return DRAIN_NONE;
	d.action = DRAIN_NONE;
	return a;
}

bool
drain_waiting(void)
{
	return d.action != DRAIN_NONE;
}

bool
drain_stopping(void)
{
	return d.action == DRAIN_STOP;
}

void
drain_cancel_retire(struct sb_master *sb)
{
	if (d.action == DRAIN_STOP)
		return;
	d.action = DRAIN_NONE;
	sb->draining = 0;
}

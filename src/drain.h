/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Draining: once a graceful stop (QUIT) or the retirement of all workers
 * (WINCH) begins, the scoreboard says so, and the http handler's
 * health-path answers 503; the workers serve on normally for drain-delay
 * seconds, so that a load balancer polling that path takes the instance
 * out before they leave.  (Not the old master of an upgrade whose new
 * master serves: the instance stays.)  The master asks drain_due() each
 * pass what to do, and when.
 */
#ifndef PREFORKD_DRAIN_H
#define PREFORKD_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "scoreboard.h"

enum drain_action {
	DRAIN_NONE,
	DRAIN_STOP,		/* then a graceful shutdown */
	DRAIN_RETIRE,		/* then retire every worker (WINCH) */
};

/*
 * Starts draining for action, which falls due delay_s seconds after now
 * (at once for 0).  A stop supersedes a pending retirement; a second
 * request for the same action makes it due at once.
 */
void drain_begin(struct sb_master *sb, enum drain_action action, int delay_s,
		 int64_t now);
/* The action whose delay has ended, once; DRAIN_NONE otherwise. */
enum drain_action drain_due(int64_t now);
/* Whether an action waits: the master then looks often. */
bool drain_waiting(void);
/* A graceful stop's drain has begun: the instance is on its way out. */
bool drain_stopping(void);
/*
 * A reload after WINCH, or the end of an upgrade's new master, serves
 * again: a retirement still waiting is called off (not a stop), and the
 * health-path says 200.
 */
void drain_cancel_retire(struct sb_master *sb);

#endif

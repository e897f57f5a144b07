/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A generation: one configuration with the listeners it holds, the pool
 * of each of its servers and their scoreboard records.  The master keeps
 * every generation with a use left on one list, the serving one and a
 * reload's pending one among them.
 */
#ifndef PREFORKD_GENERATION_H
#define PREFORKD_GENERATION_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "listener.h"
#include "pool.h"
#include "scoreboard.h"

struct generation {
	unsigned id;
	struct conf *conf;
	struct listener **listeners;	/* one per server */
	struct pool_server *pools;	/* one per server */
	int *records;			/* scoreboard totals, one per server */
	size_t nworkers;		/* alive */
	/* Why its first worker exited fatally, for the start or reload. */
	char fatal_reason[SLOT_REQUEST_MAX + SB_NAME_MAX + 16];
	/*
	 * Why worker_spawn() last failed for server spawn_error_server,
	 * until a worker of that server is forked.
	 */
	char spawn_error[SB_NAME_MAX + 128];
	size_t spawn_error_server;
	struct generation *next;
};

/*
 * Binds what is new, keeps what is unchanged; all or nothing.  The new
 * generation takes the id after *last_id, owns conf on success and is
 * put on *gens; NULL with err filled on failure.
 */
struct generation *generation_create(struct conf *conf,
				     struct generation **gens,
				     unsigned *last_id, struct scoreboard *sb,
				     char *err, size_t errlen);
/* Takes g off *gens and frees it, its conf and its hold on listeners. */
void generation_free(struct generation **gens, struct generation *g);
/* Frees every generation on *gens but current and pending with no worker. */
void generations_collect(struct generation **gens,
			 const struct generation *current,
			 const struct generation *pending);
/* Whether g (may be NULL) holds l for one of its servers. */
bool generation_uses(const struct generation *g, const struct listener *l);
/* Whether a server of g failed for good before it served. */
bool generation_failed(const struct generation *g);
/*
 * From now on a worker's fatal exit is retried, not final, and the status
 * page shows g's listen and max-workers for its servers.  old: the
 * generation it replaces (NULL at start), whose shortages it carries on.
 */
void generation_serving(struct generation *g, const struct generation *old,
			struct scoreboard *sb);
/* Puts server si's listen and pool size on the status page. */
void generation_show(struct generation *g, struct scoreboard *sb, size_t si);

#endif

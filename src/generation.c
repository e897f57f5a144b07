/* SPDX-License-Identifier: BSD-2-Clause */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "generation.h"
#include "handler.h"
#include "log.h"

void
generation_free(struct generation **gens, struct generation *g)
{
	struct generation **pp;

	for (pp = gens; *pp != NULL; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	for (size_t i = 0; i < g->conf->nservers; i++)
		listener_release(g->listeners[i]);
	conf_free(g->conf);
	free(g->listeners);
	free(g->pools);
	free(g->records);
	free(g);
}

static void
pool_init(struct pool_server *ps, const struct server_conf *s)
{
	memset(ps, 0, sizeof(*ps));
	ps->workers = s->workers;
	ps->min_spare = s->min_spare;
	ps->max_spare = s->max_spare;
	ps->max_workers = s->max_workers;
	pool_band_set(ps);
	ps->timeout_s = s->timeout;
	ps->spawn_rate = 1;
}

/* -1 with the handler's reason (its logged error) in err. */
static int
handler_prepare(const struct conf *conf, const struct server_conf *s,
		char *err, size_t errlen)
{
	bool give = geteuid() == 0 && conf->user != NULL;

	if (s->handler->prepare == NULL)
		return 0;
	log_last_error_clear();
	if (s->handler->prepare(s->hconf, give ? conf->uid : (uid_t)-1) == 0)
		return 0;
	snprintf(err, errlen, "server %s: handler %s could not set up: %s",
		 s->name, s->handler->name, log_last_error()[0] != '\0' ?
		 log_last_error() : "see the error log");
	return -1;
}

_Static_assert(SB_SERVERS_MAX >= 2 * CONF_MAX_SERVERS,
	       "a reload's old and new servers must all have records");
_Static_assert(SB_NAME_MAX > CONF_SERVER_NAME_MAX,
	       "a record holds a whole server name, so names never share one");

/* The records live generations hold: never taken for another name. */
static void
records_held(const struct generation *gens, bool *in_use)
{
	memset(in_use, 0, SB_SERVERS_MAX * sizeof(*in_use));
	for (const struct generation *g = gens; g != NULL; g = g->next)
		for (size_t i = 0; i < g->conf->nservers; i++)
			if (g->records[i] >= 0 && g->records[i] < SB_SERVERS_MAX)
				in_use[g->records[i]] = true;
}

/*
 * Taken once every listener is bound and every handler ready, so that a
 * reload failing there takes no retired server's record (and totals).
 * What a record shows changes only once its generation serves.
 */
static void
records_claim(struct generation *g, const struct generation *gens,
	      struct scoreboard *sb)
{
	bool in_use[SB_SERVERS_MAX];
	size_t unrecorded = 0;

	records_held(gens, in_use);
	/*
	 * Names that have a record first: a new name listed before one of
	 * them must not take over that record, and its totals, while it is
	 * free.
	 */
	for (size_t i = 0; i < g->conf->nservers; i++) {
		g->records[i] = scoreboard_server_find(sb,
						       g->conf->servers[i].name);
		if (g->records[i] >= 0)
			in_use[g->records[i]] = true;
	}
	for (size_t i = 0; i < g->conf->nservers; i++) {
		if (g->records[i] >= 0)
			continue;
		g->records[i] = scoreboard_server_record(sb,
				g->conf->servers[i].name, in_use);
		if (g->records[i] >= 0)
			in_use[g->records[i]] = true;
		else
			unrecorded++;
	}
	if (unrecorded > 0)
		log_warning("generation %u: %zu servers have no status line: "
			    "all %d scoreboard records are taken by "
			    "generations still running", g->id, unrecorded,
			    SB_SERVERS_MAX);
}


/* Binds what is new, keeps what is unchanged; all or nothing. */
struct generation *
generation_create(struct conf *conf, struct generation **gens,
		  unsigned *last_id, struct scoreboard *sb, char *err,
		  size_t errlen)
{
	struct generation *g = calloc(1, sizeof(*g));
	size_t n = conf->nservers;

	if (g == NULL || (g->listeners = calloc(n, sizeof(*g->listeners))) == NULL ||
	    (g->pools = calloc(n, sizeof(*g->pools))) == NULL ||
	    (g->records = calloc(n, sizeof(*g->records))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/*
	 * Ids are never reused, even by a generation that fails here: the
	 * listeners it claimed remember its id.
	 */
	g->id = ++*last_id;
	for (size_t i = 0; i < n; i++) {
		const struct server_conf *s = &conf->servers[i];
		char why[512];
		struct listener *l = listener_acquire(&s->listen, s->name,
						      s->backlog, g->id, why,
						      sizeof(why));

		if (l == NULL) {
			/* Where the address is written: the file's error too. */
			snprintf(err, errlen, "%s:%d: server %s: %s", conf->path,
				 s->listen_line, s->name, why);
			goto fail;
		}
		g->listeners[i] = l;
		if (handler_prepare(conf, s, err, errlen) == -1)
			goto fail;
		pool_init(&g->pools[i], s);
		if (l->refs == 1)
			log_notice("server %s: listening on %s", s->name, l->name);
		else
			log_info("server %s: keeps listening on %s", s->name,
				 l->name);
	}
	g->conf = conf;
	records_claim(g, *gens, sb);
	g->next = *gens;
	*gens = g;
	return g;
fail:
	if (g != NULL) {
		for (size_t i = 0; g->listeners != NULL && i < n; i++)
			listener_release(g->listeners[i]);
		free(g->listeners);
		free(g->pools);
		free(g->records);
		free(g);
	}
	return NULL;
}

void
generations_collect(struct generation **gens, const struct generation *current,
		    const struct generation *pending)
{
	struct generation *g = *gens, *next;

	for (; g != NULL; g = next) {
		next = g->next;
		if (g != current && g != pending && g->nworkers == 0)
			generation_free(gens, g);
	}
}

bool
generation_uses(const struct generation *g, const struct listener *l)
{
	for (size_t i = 0; g != NULL && i < g->conf->nservers; i++)
		if (g->listeners[i] == l)
			return true;
	return false;
}

bool
generation_failed(const struct generation *g)
{
	for (size_t si = 0; si < g->conf->nservers; si++)
		if (g->pools[si].fatal)
			return true;
	return false;
}

static void
server_show(struct generation *g, struct scoreboard *sb, size_t si)
{
	const struct pool_server *ps = &g->pools[si];
	bool dynamic = ps->max_workers > ps->workers;

	scoreboard_server_show(sb, g->records[si], g->listeners[si]->name,
			       g->id, pool_capacity(ps),
			       dynamic ? ps->min_spare : 0,
			       dynamic ? ps->max_spare : 0);
}

/* The same server's pool in old (by its record, which goes by name). */
static const struct pool_server *
pool_before(const struct generation *old, int record)
{
	if (old == NULL || record < 0)
		return NULL;
	for (size_t k = 0; k < old->conf->nservers; k++)
		if (old->records[k] == record)
			return &old->pools[k];
	return NULL;
}

/* From now on a worker's fatal exit is retried, not final. */
void
generation_serving(struct generation *g, const struct generation *old,
		   struct scoreboard *sb)
{
	int somaxconn = listener_somaxconn();
	const struct pool_server *before;

	for (size_t si = 0; si < g->conf->nservers; si++) {
		struct listener *l = g->listeners[si];

		/* The kernel caps it without a word: say so once per load. */
		if (somaxconn > 0 && g->conf->servers[si].backlog > somaxconn)
			log_warning("server %s: backlog %d is capped at %d by "
				    "net.core.somaxconn", g->conf->servers[si].name,
				    g->conf->servers[si].backlog, somaxconn);

		if (listener_set_backlog(l, g->conf->servers[si].backlog) == -1)
			log_errno(LOG_LEVEL_WARNING, "server %s: listen(%s) with "
				  "backlog %d, which stays %d",
				  g->conf->servers[si].name, l->name,
				  g->conf->servers[si].backlog, l->backlog);
		g->pools[si].serving = true;
		if ((before = pool_before(old, g->records[si])) != NULL)
			pool_episode_carry(&g->pools[si], before);
	}
	/* One change: never the new generation beside the old's servers. */
	scoreboard_change_begin(sb);
	sb->master->generation = g->id;
	for (size_t si = 0; si < g->conf->nservers; si++)
		server_show(g, sb, si);
	scoreboard_change_end(sb);
}

void
generation_show(struct generation *g, struct scoreboard *sb, size_t si)
{
	scoreboard_change_begin(sb);
	server_show(g, sb, si);
	scoreboard_change_end(sb);
}

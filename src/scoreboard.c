/* SPDX-License-Identifier: BSD-2-Clause */
/* Worker state in shared memory, created by the master before any fork. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scoreboard.h"
#include "status.h"

static size_t
layout_size(size_t nslots)
{
	return sizeof(struct sb_master) + nslots * sizeof(struct slot);
}

static void
layout_map(struct scoreboard *sb, void *p, size_t nslots)
{
	sb->master = p;
	/* struct sb_master ends on an 8-byte boundary: slots align. */
	sb->slots = (struct slot *)(void *)((char *)p + sizeof(struct sb_master));
	sb->nslots = nslots;
}

int
scoreboard_create(struct scoreboard *sb, size_t nslots)
{
	size_t size = layout_size(nslots);
	void *p;
	int fd;

	if ((fd = memfd_create(SB_MEMFD_NAME, MFD_CLOEXEC)) == -1)
		return -1;
	if (ftruncate(fd, (off_t)size) == -1) {
		close(fd);
		return -1;
	}
	/* A new memfd is zeroed: every slot starts SLOT_FREE. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -1;
	}
	layout_map(sb, p, nslots);
	sb->fd = fd;
	sb->size = size;
	sb->master->magic = SB_MAGIC;
	sb->master->version = SB_VERSION;
	sb->master->nslots = (uint32_t)nslots;
	sb->master->pid = getpid();
	sb->master->started_ms = monotonic_ms();
	return 0;
}

void
scoreboard_set_conf_path(struct scoreboard *sb, const char *path)
{
	snprintf(sb->master->conf_path, sizeof(sb->master->conf_path), "%s",
		 path);
}

int
scoreboard_attach(struct scoreboard *sb, int fd)
{
	struct sb_master head;
	struct stat st;
	void *p;

	if (pread(fd, &head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    head.magic != SB_MAGIC || head.version != SB_VERSION ||
	    fstat(fd, &st) == -1 ||
	    (size_t)st.st_size < layout_size(head.nslots)) {
		errno = EPROTO;
		return -1;
	}
	p = mmap(NULL, layout_size(head.nslots), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	layout_map(sb, p, head.nslots);
	sb->fd = -1;
	sb->size = layout_size(head.nslots);
	return 0;
}

void
scoreboard_destroy(struct scoreboard *sb)
{
	if (sb->master != NULL)
		munmap(sb->master, sb->size);
	if (sb->fd != -1)
		close(sb->fd);
	sb->master = NULL;
	sb->slots = NULL;
	sb->nslots = 0;
	sb->fd = -1;
}

struct slot *
scoreboard_slot_claim(struct scoreboard *sb)
{
	for (size_t i = 0; i < sb->nslots; i++) {
		struct slot *s = &sb->slots[i];

		if (s->state == SLOT_FREE && s->pid == 0) {
			memset(s, 0, sizeof(*s));
			s->record = -1;
			s->state = SLOT_STARTING;
			s->started_ms = monotonic_ms();
			s->state_since_ms = s->started_ms;
			s->last_activity_ms = s->started_ms;
			return s;
		}
	}
	return NULL;
}

void
scoreboard_slot_release(struct scoreboard *sb, struct slot *slot)
{
	struct sb_master *m = sb->master;

	/* Readers retry while seq is odd or moved: totals never go back. */
	__atomic_add_fetch(&m->seq, 1, __ATOMIC_ACQ_REL);
	if (slot->record >= 0 && slot->record < SB_SERVERS_MAX) {
		struct sb_server *r = &m->servers[slot->record];

		r->connections += slot->connections;
		r->requests += slot->requests;
		r->bytes_sent += slot->bytes_sent;
	}
	slot->pid = 0;
	slot->state = SLOT_FREE;
	__atomic_add_fetch(&m->seq, 1, __ATOMIC_ACQ_REL);
}

/*
 * A record for a new name: a fresh one, or else one that no live
 * generation holds (in_use): its server is gone from every config still
 * running, its workers are all gone and their counts folded in.  It is
 * made under seq, as a slot's fold is, for a reader copying the records
 * meanwhile.
 */
static struct sb_server *
record_take(struct sb_master *m, const char *name, const bool *in_use)
{
	struct sb_server *r = NULL;

	if (m->nservers < SB_SERVERS_MAX)
		r = &m->servers[m->nservers];
	for (uint32_t i = 0; i < m->nservers && r == NULL; i++)
		if (!in_use[i])
			r = &m->servers[i];
	if (r == NULL)
		return NULL;
	__atomic_add_fetch(&m->seq, 1, __ATOMIC_ACQ_REL);
	memset(r, 0, sizeof(*r));
	snprintf(r->name, SB_NAME_MAX, "%s", name);
	if (r == &m->servers[m->nservers])
		m->nservers++;
	__atomic_add_fetch(&m->seq, 1, __ATOMIC_ACQ_REL);
	return r;
}

int
scoreboard_server_find(const struct scoreboard *sb, const char *name)
{
	const struct sb_master *m = sb->master;

	for (uint32_t i = 0; i < m->nservers; i++)
		if (strncmp(m->servers[i].name, name, SB_NAME_MAX - 1) == 0)
			return (int)i;
	return -1;
}

int
scoreboard_server_record(struct scoreboard *sb, const char *name,
			 const bool *in_use)
{
	struct sb_server *r;
	int found = scoreboard_server_find(sb, name);

	if (found >= 0)
		return found;
	if ((r = record_take(sb->master, name, in_use)) == NULL)
		return -1;
	return (int)(r - sb->master->servers);
}

void
scoreboard_server_show(struct scoreboard *sb, int record, const char *listen,
		       unsigned gen, int max_workers, int min_spare,
		       int max_spare)
{
	struct sb_server *r;

	if (record < 0 || (uint32_t)record >= sb->master->nservers)
		return;
	r = &sb->master->servers[record];
	snprintf(r->listen, SB_LISTEN_MAX, "%s", listen);
	r->generation = gen;
	r->max_workers = max_workers;
	r->min_spare = min_spare;
	r->max_spare = max_spare;
}

/* Readers retry while seq is odd or moved: they copy no half change. */
void
scoreboard_change_begin(struct scoreboard *sb)
{
	__atomic_add_fetch(&sb->master->seq, 1, __ATOMIC_ACQ_REL);
}

void
scoreboard_change_end(struct scoreboard *sb)
{
	__atomic_add_fetch(&sb->master->seq, 1, __ATOMIC_ACQ_REL);
}

static struct sb_server *
record_of(struct scoreboard *sb, int record)
{
	if (record < 0 || (uint32_t)record >= sb->master->nservers)
		return NULL;
	return &sb->master->servers[record];
}

void
scoreboard_note_queue(struct scoreboard *sb, int record, int queued)
{
	struct sb_server *r = record_of(sb, record);

	if (r == NULL)
		return;
	r->queue = queued;
	if (queued > r->queue_peak)
		r->queue_peak = queued;
}

void
scoreboard_note_capped(struct scoreboard *sb, int record)
{
	struct sb_server *r = record_of(sb, record);

	if (r != NULL)
		r->max_workers_reached++;
}

void
scoreboard_count_restart(struct scoreboard *sb, int record, int reason)
{
	struct sb_server *r = record_of(sb, record);

	if (r != NULL && reason >= 0 && reason < RESTART_NREASONS)
		r->restarts[reason]++;
}

void
scoreboard_slot_gone(struct scoreboard *sb, const struct slot *slot)
{
	struct sb_server *r = record_of(sb, slot->record);

	if (r != NULL && slot->state == SLOT_IDLE)
		__atomic_sub_fetch(&r->idle, 1, __ATOMIC_ACQ_REL);
}

static void
snapshot_servers(const struct sb_master *m, struct status_snapshot *snap)
{
	snap->nservers = m->nservers < SB_SERVERS_MAX ? m->nservers :
			 SB_SERVERS_MAX;
	for (size_t i = 0; i < snap->nservers; i++) {
		const struct sb_server *r = &m->servers[i];
		struct status_server *v = &snap->servers[i];

		memset(v, 0, sizeof(*v));
		memcpy(v->name, r->name, sizeof(v->name) - 1);
		memcpy(v->listen, r->listen, sizeof(v->listen) - 1);
		v->generation = r->generation;
		v->queue_peak = r->queue_peak;
		/*
		 * A server the serving generation does not have (a reload
		 * removed it) has no socket: nothing waits, nothing may serve.
		 */
		if (r->generation == m->generation) {
			v->queue = r->queue;
			v->max_workers = r->max_workers;
			v->min_spare = r->min_spare;
			v->max_spare = r->max_spare;
		}
		v->connections = r->connections;
		v->requests = r->requests;
		v->bytes_sent = r->bytes_sent;
		for (int k = 0; k < RESTART_NREASONS; k++)
			v->restarts[k] = r->restarts[k];
		v->max_workers_reached = r->max_workers_reached;
		v->proxy_refused = r->proxy_refused;
	}
}

static void
snapshot_worker(const struct slot *sl, size_t i, int64_t now_ms,
		struct status_snapshot *snap)
{
	struct status_worker *w = &snap->workers[snap->nworkers++];
	int state = sl->state;

	memset(w, 0, sizeof(*w));
	w->slot = (int)i;
	w->pid = sl->pid;
	w->generation = sl->generation;
	w->server = sl->record >= 0 && (size_t)sl->record < snap->nservers ?
		    sl->record : -1;
	w->state = state >= 0 && state < SLOT_NSTATES ? state : SLOT_CLOSING;
	w->seconds = (now_ms - sl->state_since_ms) / 1000;
	w->connections = sl->connections;
	w->requests = sl->requests;
	w->bytes_sent = sl->bytes_sent;
	memcpy(w->client, sl->client, sizeof(w->client) - 1);
	memcpy(w->request, sl->request, sizeof(w->request) - 1);
	if (w->server >= 0) {
		struct status_server *v = &snap->servers[w->server];

		v->workers[w->state]++;
		v->connections += w->connections;
		v->requests += w->requests;
		v->bytes_sent += w->bytes_sent;
	}
}

int
scoreboard_snapshot(const struct scoreboard *sb, int64_t now_ms,
		    struct status_snapshot *snap)
{
	const struct sb_master *m = sb->master;

	memset(snap, 0, sizeof(*snap));
	if ((snap->workers = calloc(sb->nslots, sizeof(*snap->workers))) == NULL)
		return -1;
	/* A fold (seq odd, or moved meanwhile) would count a worker twice. */
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t seq = __atomic_load_n(&m->seq, __ATOMIC_ACQUIRE);

		if (seq & 1)
			continue;
		snap->master_pid = m->pid;
		snap->uptime_s = (now_ms - m->started_ms) / 1000;
		snap->generation = m->generation;
		snap->reloads = m->reloads;
		snap->state = m->state;
		snapshot_servers(m, snap);
		snap->nworkers = 0;
		for (size_t i = 0; i < sb->nslots; i++)
			if (sb->slots[i].state != SLOT_FREE &&
			    sb->slots[i].pid != 0)
				snapshot_worker(&sb->slots[i], i, now_ms, snap);
		if (__atomic_load_n(&m->seq, __ATOMIC_ACQUIRE) == seq)
			return 0;
	}
	free(snap->workers);
	snap->workers = NULL;
	return -1;
}

const char *
slot_state_name(int state)
{
	switch (state) {
	case SLOT_FREE:      return "free";
	case SLOT_STARTING:  return "starting";
	case SLOT_IDLE:      return "idle";
	case SLOT_READING:   return "reading";
	case SLOT_WRITING:   return "writing";
	case SLOT_KEEPALIVE: return "keep-alive";
	case SLOT_CLOSING:   return "closing";
	}
	return "?";
}

const char *
master_state_name(int state)
{
	switch (state) {
	case MASTER_SERVING:   return "serving";
	case MASTER_DRAINING:  return "draining";
	case MASTER_STOPPING:  return "stopping";
	case MASTER_UPGRADING: return "upgrading";
	}
	return "?";
}

const char *
restart_reason_name(int reason)
{
	switch (reason) {
	case RESTART_CRASH:        return "crash";
	case RESTART_TIMEOUT:      return "timeout";
	case RESTART_MAX_REQUESTS: return "max-requests";
	case RESTART_MAX_MEMORY:   return "max-memory";
	}
	return "?";
}

/*
 * The coarse clock: every deadline and time stamp here is in milliseconds
 * and bounds seconds, where a few milliseconds of lag (one tick) change
 * nothing, and a worker reads it about ten times a request: the fine
 * clock costs several times as much there (a TSC read and its scaling,
 * under a hypervisor a paravirtual clock too).
 */
int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The open-file cache's table: a hash of request paths over a list in
 * order of use, so that lookup, touch and eviction cost O(1).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/fcache.h"

/* Whole seconds a file must be unchanged before its body may be kept. */
#define SETTLE_SECONDS 2

struct fcache {
	struct fcache_entry **buckets;
	size_t nbuckets;		/* a power of two, >= 2 * max */
	size_t count, max;
	struct fcache_entry *newest, *oldest;
};

/* FNV-1a: short keys, no adversary who gains by collisions here. */
static uint32_t
hash_key(const char *key)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

struct fcache *
fcache_new(size_t max)
{
	struct fcache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->max = max;
	c->nbuckets = 16;
	while (c->nbuckets < 2 * max)
		c->nbuckets *= 2;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (c->buckets == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static void
list_unlink(struct fcache *c, struct fcache_entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void
list_push(struct fcache *c, struct fcache_entry *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest != NULL)
		c->newest->newer = e;
	c->newest = e;
	if (c->oldest == NULL)
		c->oldest = e;
}

struct fcache_entry *
fcache_find(struct fcache *c, const char *key)
{
	uint32_t h = hash_key(key);
	struct fcache_entry *e = c->buckets[h & (c->nbuckets - 1)];

	while (e != NULL && (e->hash != h || strcmp(e->key, key) != 0))
		e = e->chain;
	if (e != NULL && e != c->newest) {
		list_unlink(c, e);
		list_push(c, e);
	}
	return e;
}

void
fcache_drop(struct fcache *c, struct fcache_entry *e)
{
	struct fcache_entry **p = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*p != e)
		p = &(*p)->chain;
	*p = e->chain;
	list_unlink(c, e);
	c->count--;
	if (e->file.fd != -1)
		close(e->file.fd);
	free(e->key);
	free(e->body);
	free(e->head);
	free(e);
}

struct fcache_entry *
fcache_add(struct fcache *c, const char *key, const char *rel, int64_t now_ms)
{
	size_t klen = strlen(key) + 1, rlen = strlen(rel) + 1;
	struct fcache_entry *e, *old;
	size_t b;

	if ((old = fcache_find(c, key)) != NULL)
		fcache_drop(c, old);
	else if (c->count >= c->max && c->oldest != NULL)
		fcache_drop(c, c->oldest);
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->key = malloc(klen + rlen)) == NULL) {
		free(e);
		return NULL;
	}
	memcpy(e->key, key, klen);
	e->rel = e->key + klen;
	memcpy(e->rel, rel, rlen);
	e->hash = hash_key(key);
	e->checked_ms = now_ms;
	e->file.fd = -1;
	b = e->hash & (c->nbuckets - 1);
	e->chain = c->buckets[b];
	c->buckets[b] = e;
	list_push(c, e);
	c->count++;
	return e;
}

void
fcache_clear(struct fcache *c)
{
	while (c != NULL && c->oldest != NULL)
		fcache_drop(c, c->oldest);
}

void
fcache_free(struct fcache *c)
{
	if (c == NULL)
		return;
	fcache_clear(c);
	free(c->buckets);
	free(c);
}

size_t
fcache_count(const struct fcache *c)
{
	return c->count;
}

struct fcache_entry *
fcache_oldest(struct fcache *c)
{
	return c->oldest;
}

bool
fcache_due(const struct fcache_entry *e, int64_t now_ms, int valid_s)
{
	return now_ms - e->checked_ms >= (int64_t)valid_s * 1000 ||
	       now_ms < e->checked_ms;
}

/*
 * The ctime moves with every change to the file (content, size, mode,
 * owner, links), even one made with an old mtime put back (rsync -t,
 * touch -d); the inode and device tell a file renamed over the old one.
 */
bool
fcache_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mode == b->st_mode &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

bool
fcache_settled(const struct stat *st, time_t now)
{
	time_t newest = st->st_mtime > st->st_ctime ? st->st_mtime :
			st->st_ctime;

	return now - newest >= SETTLE_SECONDS;
}

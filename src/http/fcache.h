/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The open-file cache of a worker (open-file-cache, open-file-cache-valid):
 * request path -> open descriptor, its stat, its validators and, for a
 * small file that has stopped changing, its body and the fixed part of a
 * 200 response head.  The table and its decisions make no system call
 * but close(), so the unit tests drive them directly.
 */
#ifndef PREFORKD_HTTP_FCACHE_H
#define PREFORKD_HTTP_FCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http/cond.h"

/* What a response needs of an open regular file. */
struct fcache_file {
	int fd;
	struct stat st;
	const char *type;			/* Content-Type */
	char etag[HTTP_ETAG_MAX];
	char modified[HTTP_DATE_LEN + 1];	/* Last-Modified */
	const char *body;			/* whole file, or NULL */
	const char *head;			/* a 200's headers after Server: */
	size_t head_len;
};

struct fcache_entry {
	struct fcache_entry *newer, *older;	/* the LRU list */
	struct fcache_entry *chain;		/* the hash bucket's list */
	uint32_t hash;
	char *key;				/* the normalised request path */
	char *rel;				/* the file, beneath the root */
	int64_t checked_ms;			/* last validated, monotonic */
	struct fcache_file file;
	char *body, *head;			/* owned copies of file's */
};

struct fcache;

/* A cache of at most max entries (max > 0); NULL when out of memory. */
struct fcache *fcache_new(size_t max);
/* Closes every descriptor and frees everything; NULL is fine. */
void fcache_free(struct fcache *c);
/* The entry for key, now the most recently used; NULL if none. */
struct fcache_entry *fcache_find(struct fcache *c, const char *key);
/*
 * A new entry for key (replacing any), file.fd = -1, checked_ms = now_ms,
 * the least recently used one dropped if the cache is full; NULL when out
 * of memory.  The caller fills in file; the entry closes file.fd.
 */
struct fcache_entry *fcache_add(struct fcache *c, const char *key,
				const char *rel, int64_t now_ms);
/* Forgets e: closes its descriptor, frees it. */
void fcache_drop(struct fcache *c, struct fcache_entry *e);
/* Forgets everything (the worker retires: no descriptor outlives it). */
void fcache_clear(struct fcache *c);
size_t fcache_count(const struct fcache *c);
/* The least recently used entry (the next to go); NULL if empty. */
struct fcache_entry *fcache_oldest(struct fcache *c);

/* Is e due for a check by stat, valid_s seconds after the last one? */
bool fcache_due(const struct fcache_entry *e, int64_t now_ms, int valid_s);
/* Do two stats describe the same, unchanged file? */
bool fcache_same_file(const struct stat *a, const struct stat *b);
/*
 * Has the file stopped changing, long enough ago (now, wall clock) that
 * a change would show in its ctime even on a filesystem that keeps
 * whole seconds?  Only then may its body be kept.
 */
bool fcache_settled(const struct stat *st, time_t now);

#endif

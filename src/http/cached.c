/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Serving through the open-file cache.  An entry is made only of a file
 * opened the ordinary way (so RESOLVE_BENEATH decided), and only once the
 * file has stopped changing; it is checked again by stat of its path at
 * most every open-file-cache-valid seconds, and forgotten when the file
 * changed or went.  A small file's body is read once and checked against
 * a second fstat, so a cached response is always one whole version.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/fcache.h"
#include "http/http.h"
#include "http/root.h"
#include "log.h"
#include "ratelimit.h"
#include "scoreboard.h"

static struct fcache *
cache_of(const struct http_exchange *ex)
{
	struct fcache *c = ex->hc->fcache;

	/* A retiring worker keeps no descriptor of its generation's files. */
	if (c != NULL && conn_retiring(ex->conn)) {
		fcache_clear(c);
		return NULL;
	}
	return c;
}

struct fcache_entry *
http_cache_get(struct http_exchange *ex, int64_t now)
{
	struct fcache *c = cache_of(ex);
	struct fcache_entry *e;
	struct stat st;

	if (c == NULL || (e = fcache_find(c, ex->path)) == NULL)
		return NULL;
	if (!fcache_due(e, now, ex->hc->open_file_cache_valid))
		return e;
	/* The path may lead to another file now: fstatat() follows it. */
	if (fstatat(ex->hc->root_dir->fd, e->rel, &st, 0) == -1 ||
	    !fcache_same_file(&st, &e->file.st)) {
		fcache_drop(c, e);
		return NULL;
	}
	e->checked_ms = now;
	return e;
}

/* Reads the whole small file into e, if it reads as f's stat says. */
static int
load_body(struct fcache_entry *e)
{
	size_t size = (size_t)e->file.st.st_size;
	struct stat after;
	ssize_t n;

	if (size == 0)
		return 0;
	if ((e->body = malloc(size + 1)) == NULL)
		return -1;
	do
		n = pread(e->file.fd, e->body, size + 1, 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)size || fstat(e->file.fd, &after) == -1 ||
	    !fcache_same_file(&after, &e->file.st))
		return -1;
	e->file.body = e->body;
	return 0;
}

static int
build_head(struct fcache_entry *e)
{
	struct http_headers h = { .len = 0 };

	http_file_headers(&h, &e->file);
	if (h.overflow || (e->head = malloc(h.len)) == NULL)
		return -1;
	memcpy(e->head, h.buf, h.len);
	e->file.head = e->head;
	e->file.head_len = h.len;
	return 0;
}

/*
 * Descriptors the cache leaves free under the worker's limit, for what
 * opens outside it: a listing's second descriptor, a reopen of the logs
 * on SIGUSR1, a directory searched but not read.
 */
#define NOFILE_HEADROOM	8

/* Is there room under RLIMIT_NOFILE for descriptor fd to stay open? */
static bool
room_for(struct fcache *c, int fd)
{
	struct fcache_entry *old;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return true;
	if ((rlim_t)fd + NOFILE_HEADROOM < rl.rlim_cur)
		return true;
	/*
	 * Near the limit this one is not kept, and the oldest goes: the
	 * next file opens below it, where the cache may hold it.
	 */
	if ((old = fcache_oldest(c)) != NULL)
		fcache_drop(c, old);
	return false;
}

struct fcache_entry *
http_cache_put(struct http_exchange *ex, const char *key, const char *rel,
	       const struct fcache_file *f)
{
	struct fcache *c = cache_of(ex);
	struct fcache_entry *e;

	if (c == NULL || !fcache_settled(&f->st, time(NULL)) ||
	    !room_for(c, f->fd) ||
	    (e = fcache_add(c, key, rel, monotonic_ms())) == NULL)
		return NULL;
	e->file = *f;
	e->file.body = NULL;
	if ((f->st.st_size <= HTTP_INLINE_BODY_MAX && load_body(e) == -1) ||
	    build_head(e) == -1) {
		e->file.fd = -1;	/* still the caller's */
		fcache_drop(c, e);
		return NULL;
	}
	return e;
}

void
http_cache_forget(struct http_exchange *ex, struct fcache_entry *e)
{
	fcache_drop(ex->hc->fcache, e);
}

/*
 * A few at once: the listing of a directory needs a second descriptor
 * after its own, and a limit the cache has outgrown is met again with
 * the next new file.  Reported once a minute, with how many went.
 */
#define SHED_BATCH		4
#define SHED_REPORT_MS		60000

bool
http_cache_shed(const struct http_conf *hc)
{
	static struct ratelimit report = RATELIMIT_INIT(SHED_REPORT_MS);
	static unsigned long shed_since;
	struct fcache_entry *e;
	int err = errno;
	unsigned long held;
	size_t n = 0;

	while (n < SHED_BATCH && hc->fcache != NULL &&
	       (e = fcache_oldest(hc->fcache)) != NULL) {
		fcache_drop(hc->fcache, e);
		n++;
	}
	shed_since += n;
	if (n > 0 && ratelimit_pass(&report, monotonic_ms(), &held)) {
		log_warning("open-file cache: %s: closed %lu cached file(s); "
			    "open-file-cache = %d is more than this worker's "
			    "descriptor limit allows", strerror(err),
			    shed_since, hc->open_file_cache);
		shed_since = 0;
	}
	errno = err;
	return n > 0;
}

void
http_cache_release(const struct http_conf *hc)
{
	fcache_clear(hc->fcache);
}

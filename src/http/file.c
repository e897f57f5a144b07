/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Mapping a normalised path to a file under the root, and answering with
 * it: conditional requests, ranges, gzip-static variants, directories.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "http/cond.h"
#include "http/fcache.h"
#include "http/http.h"
#include "http/mime.h"
#include "http/path.h"
#include "http/root.h"
#include "log.h"
#include "ratelimit.h"
#include "scoreboard.h"

/*
 * Without openat2() (kernels before 5.6, some sandboxes, valgrind): open,
 * then ask the kernel where the descriptor really leads, and refuse it
 * unless that is under the root.  Safe against races, as the check is of
 * the file opened, not of a name.
 */
static int
open_checked(const struct http_conf *hc, const char *rel, int flags)
{
	char link[32], real[PATH_MAX];
	int fd = openat(hc->root_dir->fd, rel,
			flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY));
	ssize_t n;

	if (fd == -1)
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real));
	if (n <= 0 || n >= (ssize_t)sizeof(real) ||
	    !http_path_beneath(real, (size_t)n, hc->root_dir->real)) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

/*
 * Opens rel (no leading '/') beneath the root.  Without follow-symlinks
 * the kernel refuses any resolution that leaves the root (RESOLVE_BENEATH:
 * a symlink pointing outside, an absolute one), race-free.
 */
static int
open_beneath_once(const struct http_conf *hc, const char *rel, int flags)
{
	static bool no_openat2;
	/* openat2() refuses O_PATH with flags that only apply to opening. */
	int extra = (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
	struct open_how how = {
		.flags = (uint64_t)(flags | extra),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (*rel == '\0')
		rel = ".";
	if (hc->follow_symlinks)
		return openat(hc->root_dir->fd, rel, flags | extra);
	if (no_openat2)
		return open_checked(hc, rel, flags);
	do
		fd = (int)syscall(SYS_openat2, hc->root_dir->fd, rel, &how,
				  sizeof(how));
	while (fd == -1 && errno == EINTR);
	if (fd == -1 && errno == ENOSYS) {
		no_openat2 = true;
		log_notice("openat2() is not available: checking where each "
			   "opened file leads instead");
		return open_checked(hc, rel, flags);
	}
	return fd;
}

/*
 * The open-file cache holds descriptors that the worker's own limit may
 * not have room for (open-file-cache = 64 under a limit of 32): out of
 * them, cached files give way to the file asked for, rather than the
 * worker answering 503 for every new file while the cache holds on.
 */
static int
open_beneath(const struct http_conf *hc, const char *rel, int flags)
{
	int fd;

	while ((fd = open_beneath_once(hc, rel, flags)) == -1 &&
	       (errno == EMFILE || errno == ENFILE) && http_cache_shed(hc))
		;
	return fd;
}

/*
 * A directory the workers may search but not read (mode 0711) has no
 * listing, but its index is served, as by nginx and Apache: opened for
 * the path only.  A path-only open needs no right on the directory
 * itself: resolving "." in it proves the search right (a 0700 one of
 * another user's stays 403, not a redirect).  Still -1 with EACCES for
 * anything else.
 */
static int
open_search_only_dir(const struct http_conf *hc, const char *rel)
{
	int fd = open_beneath(hc, rel, O_PATH | O_DIRECTORY), searchable;

	if (fd == -1) {
		errno = EACCES;
		return -1;
	}
	searchable = openat(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	errno = EACCES;
	return searchable;
}

static int
status_for_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return 404;
	case EACCES:
	case EPERM:
	case EXDEV:		/* RESOLVE_BENEATH: would leave the root */
	case ELOOP:
	case ENXIO:		/* a socket, a device without its driver */
	case ENODEV:
		return 403;
	}
	return 500;
}

/*
 * Out of descriptors (RLIMIT_NOFILE or the system's table) is temporary:
 * 503 with Retry-After, and one line per interval, with a count, rather
 * than one per request while it lasts.
 */
#define NOFILE_REPORT_MS	10000
#define NOFILE_RETRY_AFTER	"Retry-After: 5\r\n"

/*
 * A 403 or 500 with nothing in the error log leaves an administrator to
 * guess; as nginx does, the refusals of the file system are said, once
 * per interval with a count.  A file that is not there is not: that is
 * the client's doing.
 */
static void
report_open_error(const struct http_exchange *ex, int err, int status)
{
	static struct ratelimit refused = RATELIMIT_INIT(NOFILE_REPORT_MS);
	static struct ratelimit failed = RATELIMIT_INIT(NOFILE_REPORT_MS);
	struct ratelimit *rl = status == 403 ? &refused : &failed;
	const char *why = strerror(err);
	unsigned long held;

	if (status == 404 || !ratelimit_pass(rl, monotonic_ms(), &held))
		return;
	if (err == EXDEV)
		why = "leads out of the root (follow-symlinks is off)";
	log_msg(err == EACCES || err == EPERM || status == 500 ?
		LOG_LEVEL_ERROR : LOG_LEVEL_NOTICE,
		"open(%s%s): %s: answering %d (%lu more since the last report)",
		ex->hc->root, ex->path, why, status, held);
}

void
http_send_open_error(struct http_exchange *ex, int err)
{
	static struct ratelimit nofile = RATELIMIT_INIT(NOFILE_REPORT_MS);
	unsigned long held;

	if (err != EMFILE && err != ENFILE) {
		int status = status_for_errno(err);

		report_open_error(ex, err, status);
		http_send_error(ex, status, NULL);
		return;
	}
	if (ratelimit_pass(&nofile, monotonic_ms(), &held))
		log_error("open(%s%s): %s: answering 503 (%lu more since the "
			  "last report)", ex->hc->root, ex->path, strerror(err),
			  held);
	http_send_error(ex, 503, NOFILE_RETRY_AFTER);
}

/*
 * Is the weight among the parameters in [p, stop) above 0?  RFC 9110
 * 12.4.2: "q=" then 0 or 1 with up to three decimals; none is 1.  Other
 * parameters are passed over; a weight that cannot be read is taken as
 * 0, so that a client is not sent what it may not decode.
 */
static bool
weight_positive(const char *p, const char *stop)
{
	const char *semi;

	while ((semi = memchr(p, ';', (size_t)(stop - p))) != NULL) {
		p = semi + 1;
		while (p < stop && (*p == ' ' || *p == '\t'))
			p++;
		if (stop - p < 3 || (*p != 'q' && *p != 'Q') || p[1] != '=')
			continue;
		if (p[2] == '1')
			return true;
		if (p[2] != '0')
			return false;
		for (p += 3; p < stop && *p != ';'; p++)
			if (*p >= '1' && *p <= '9')
				return true;
		return false;
	}
	return true;
}

/*
 * What one Accept-Encoding line says of gzip: 1 listed, 0 listed with
 * q=0, -1 not named.
 */
static int
gzip_in_line(const struct http_str *ae)
{
	const char *p = ae->p, *end = ae->p + ae->len;

	while (p < end) {
		const char *item = p, *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;

		while (item < stop && (*item == ' ' || *item == '\t'))
			item++;
		if ((size_t)(stop - item) >= 4 && strncasecmp(item, "gzip", 4) == 0 &&
		    (item + 4 == stop || item[4] == ';' || item[4] == ' ' ||
		     item[4] == '\t'))
			return weight_positive(item + 4, stop);
		p = stop + 1;
	}
	return -1;
}

/*
 * Does the client take gzip?  "gzip" listed without q=0, in any of its
 * Accept-Encoding lines: repeated, they make one list (RFC 9110 5.3).
 */
static bool
accepts_gzip(const struct http_request *req)
{
	struct http_str line;
	size_t pos = 0;
	bool listed = false;

	if (req->accept_encoding.len == 0)
		return false;
	while (http_header_next(req, "Accept-Encoding", &pos, &line)) {
		int said = gzip_in_line(&line);

		if (said == 0)
			return false;
		listed |= said == 1;
	}
	return listed;
}

/*
 * Range is one field: two lines make "bytes=0-1, bytes=2-3", which is
 * not a range set, so the request is answered whole (RFC 9110 14.2).
 */
static bool
range_single(const struct http_request *req)
{
	struct http_str line;
	size_t pos = 0;
	unsigned n = 0;

	while (n < 2 && http_header_next(req, "Range", &pos, &line))
		n++;
	return n == 1;
}

struct file {
	struct fcache_file f;
	bool gzip;
	bool vary;
};

/* Swaps in path.gz when allowed, wanted and not older than the file. */
static void
try_gzip(const struct http_exchange *ex, const char *rel, struct file *f)
{
	char gz[PATH_MAX];
	struct stat st;
	int fd;

	if (!ex->hc->gzip_static ||
	    snprintf(gz, sizeof(gz), "%s.gz", rel) >= (int)sizeof(gz))
		return;
	if ((fd = open_beneath(ex->hc, gz, O_RDONLY | O_NONBLOCK)) == -1)
		return;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_mtime < f->f.st.st_mtime) {
		close(fd);
		return;
	}
	f->vary = true;
	if (!accepts_gzip(ex->req)) {
		close(fd);
		return;
	}
	close(f->f.fd);
	f->f.fd = fd;
	f->f.st = st;
	f->gzip = true;
}

void
http_file_describe(const struct http_conf *hc, const char *name,
		   struct fcache_file *f)
{
	time_t now = time(NULL);

	http_etag_format((uint64_t)f->st.st_ino, (uint64_t)f->st.st_size,
			 f->st.st_mtim.tv_sec, f->st.st_mtim.tv_nsec, f->etag,
			 sizeof(f->etag));
	/* RFC 9110 8.8.2.1: never a Last-Modified later than the Date. */
	http_date_format(f->st.st_mtime < now ? f->st.st_mtime : now,
			 f->modified);
	f->type = mime_lookup(hc->mime, name, hc->default_type);
}

/* The headers of a 200 after Server:, as send_file() writes them. */
void
http_file_headers(struct http_headers *h, const struct fcache_file *f)
{
	http_headers_str(h, "Content-Type", f->type);
	http_headers_num(h, "Content-Length", (uint64_t)f->st.st_size);
	http_headers_str(h, "Last-Modified", f->modified);
	http_headers_str(h, "ETag", f->etag);
	http_headers_str(h, "Accept-Ranges", "bytes");
}

#define VARY_LINE "Vary: Accept-Encoding\r\n"

/*
 * 304, 206 or 200 (with first..last), or -1 once a 412 or 416 is sent.
 * Those two depend on the variant chosen, as its validators and size
 * differ: they carry its Vary as well.
 */
static int
choose_status(struct http_exchange *ex, const struct file *file,
	      uint64_t *first, uint64_t *last)
{
	const struct http_request *req = ex->req;
	const struct fcache_file *f = &file->f;
	uint64_t size = (uint64_t)f->st.st_size;
	enum http_range_result range = HTTP_RANGE_NONE;
	time_t now;

	*first = 0;
	*last = size - 1;
	/* The clock only for a date to judge: most requests carry none. */
	now = req->if_modified_since.len > 0 || req->if_range.len > 0 ?
	      time(NULL) : 0;
	switch (http_precondition_status(req, f->etag, f->st.st_mtime, now)) {
	case 412:
		http_send_error(ex, 412, file->vary ? VARY_LINE : NULL);
		return -1;
	case 304:
		return 304;
	}
	if (req->range.len > 0 && range_single(req) &&
	    (req->if_range.len == 0 ||
	     http_if_range_holds(req->if_range.p, req->if_range.len, f->etag,
				 f->st.st_mtime, now)))
		range = http_range_parse(req->range.p, req->range.len, size,
					 first, last);
	if (range == HTTP_RANGE_UNSATISFIABLE) {
		/* Room for the largest size, 20 digits, and the Vary line. */
		char lines[sizeof("Content-Range: bytes */\r\n") + 20 +
			   sizeof(VARY_LINE)];

		snprintf(lines, sizeof(lines),
			 "Content-Range: bytes */%llu\r\n%s",
			 (unsigned long long)size, file->vary ? VARY_LINE : "");
		http_send_error(ex, 416, lines);
		return -1;
	}
	if (range == HTTP_RANGE_OK)
		return 206;
	*last = size - 1;
	return 200;
}

static void
build_head(struct http_exchange *ex, const struct file *f, int status,
	   uint64_t first, uint64_t last, struct http_headers *h)
{
	uint64_t size = (uint64_t)f->f.st.st_size;

	http_headers_start(h, ex, status);
	if (status == 200 && f->f.head != NULL) {
		http_headers_raw(h, f->f.head, f->f.head_len);
	} else if (status == 200) {
		http_file_headers(h, &f->f);
	} else if (status == 206) {
		http_headers_str(h, "Content-Type", f->f.type);
		http_headers_num(h, "Content-Length", last - first + 1);
		http_headers_str(h, "Last-Modified", f->f.modified);
		http_headers_str(h, "ETag", f->f.etag);
		http_headers_str(h, "Accept-Ranges", "bytes");
		http_headers_add(h, "Content-Range", "bytes %llu-%llu/%llu",
				 (unsigned long long)first,
				 (unsigned long long)last,
				 (unsigned long long)size);
	} else {
		http_headers_str(h, "Last-Modified", f->f.modified);
		http_headers_str(h, "ETag", f->f.etag);
	}
	/* Of the body only: a 304 carries no representation metadata but
	 * its validators and Vary (RFC 9110 15.4.5). */
	if (f->gzip && (status == 200 || status == 206))
		http_headers_str(h, "Content-Encoding", "gzip");
	if (f->vary)
		http_headers_str(h, "Vary", "Accept-Encoding");
}

/*
 * Answers with the file; false, with nothing sent, if the file is no
 * longer what f says (it shrank or was written as it was read, or a
 * cached descriptor's file changed): its head would not match its body.
 */
static bool
send_file(struct http_exchange *ex, struct file *f, bool cached)
{
	/*
	 * Static, not on the stack: every call would otherwise push the
	 * frames below it 16 KiB deeper, and each stack page a worker ever
	 * touches stays its own for life.  Used only for a small file not
	 * (yet) cached.
	 */
	static char body[HTTP_INLINE_BODY_MAX];
	uint64_t size = (uint64_t)f->f.st.st_size, first, last, len;
	struct http_headers h;
	const char *from = NULL;
	struct stat now;
	int status = choose_status(ex, f, &first, &last);

	if (status == -1)
		return true;
	len = size == 0 ? 0 : last - first + 1;
	if (status == 304 || ex->req->method == HTTP_HEAD)
		len = 0;
	if (len > 0 && f->f.body != NULL) {
		from = f->f.body + first;
	} else if (len > 0 && len <= HTTP_INLINE_BODY_MAX) {
		/*
		 * Written in place between the stat and the read, the bytes
		 * would go out under the old version's validators: look
		 * again, and describe the file afresh if it changed.
		 */
		if (pread(f->f.fd, body, (size_t)len, (off_t)first) !=
		    (ssize_t)len || fstat(f->f.fd, &now) == -1 ||
		    !fcache_same_file(&now, &f->f.st))
			return false;
		from = body;
	} else if (len > 0 && cached &&
		   (fstat(f->f.fd, &now) == -1 ||
		    !fcache_same_file(&now, &f->f.st))) {
		return false;
	}
	build_head(ex, f, status, first, last, &h);
	if (len == 0 || from != NULL)
		http_send_head_and_body(ex, &h, from, (size_t)len);
	else
		http_send_head_and_file(ex, &h, f->f.fd, first, len);
	return true;
}

/* Answers from a cache entry: false, with nothing sent, if its file changed. */
static bool
send_file_cached(struct http_exchange *ex, const struct fcache_entry *e)
{
	struct file f = { .f = e->file };

	return send_file(ex, &f, true);
}

/* What a Location may carry of the decoded path as it is. */
static bool
path_keeps(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-._~/!$&'()*+,;=:@", c) != NULL);
}

/*
 * The query is kept as the client sent it, but for control bytes: the
 * request parser lets none through today, and a CR LF would add a header
 * line of the client's to the answer.
 */
static bool
query_keeps(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

/* Copies s[0..len) to out, which holds 3 * len, percent-encoding each
 * byte that keep() refuses. */
static size_t
location_copy(const char *s, size_t len, bool (*keep)(unsigned char),
	      char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (keep(c)) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		}
	}
	return n;
}

/*
 * The Location is built from the normalised path, never from the client's
 * text: "//evil.example/../dir" must not become a link to another site.
 * It is as long as the request allowed the path and query to be (a byte
 * may take three encoded), so it is sized from them: "/dir" must never
 * fail where "/dir/" would be served.
 */
static void
redirect_to_dir(struct http_exchange *ex)
{
	static const char name[] = "Location: ";
	const struct http_request *req = ex->req;
	size_t size = sizeof(name) + 3 * strlen(ex->path) + 2 +
		      3 * req->query.len;
	char *extra = malloc(size);
	size_t n = sizeof(name) - 1;

	if (extra == NULL) {
		log_errno(LOG_LEVEL_ERROR, "malloc(%zu)", size);
		http_send_error(ex, 500, NULL);
		return;
	}
	memcpy(extra, name, n);
	n += location_copy(ex->path, strlen(ex->path), path_keeps, extra + n);
	extra[n++] = '/';
	if (req->has_query) {
		extra[n++] = '?';
		n += location_copy(req->query.p, req->query.len, query_keeps,
				   extra + n);
	}
	extra[n] = '\0';
	http_send_error(ex, 301, extra);
	free(extra);
}

/*
 * Answers with the regular file open in f, through the cache when it may
 * keep it (key is the request path, rel the file).  Takes f's descriptor.
 */
static void
serve_file(struct http_exchange *ex, const char *key, const char *rel,
	   const char *name, struct file *f)
{
	struct fcache_entry *e = NULL;

	http_file_describe(ex->hc, name, &f->f);
	if (!f->gzip && !f->vary)
		e = http_cache_put(ex, key, rel, &f->f);
	if (e != NULL) {
		if (send_file_cached(ex, e))
			return;
		/*
		 * It changed as it was cached (written, or renamed over:
		 * the unlink moves its ctime): no file to keep, but still
		 * one to answer with, from the descriptor, as it is now.
		 */
		f->f.fd = e->file.fd;
		e->file.fd = -1;
		http_cache_forget(ex, e);
		if (fstat(f->f.fd, &f->f.st) == -1) {
			http_send_error(ex, 503, NULL);
			close(f->f.fd);
			return;
		}
		http_file_describe(ex->hc, name, &f->f);
	}
	/* It changed as it was read: describe it again, as it is now. */
	for (int tries = 1; !send_file(ex, f, false); tries++) {
		if (tries == 3 || fstat(f->f.fd, &f->f.st) == -1) {
			http_send_error(ex, 503, NULL);
			break;
		}
		http_file_describe(ex->hc, name, &f->f);
	}
	close(f->f.fd);
}

static void
serve_directory(struct http_exchange *ex, const char *rel, int dirfd)
{
	char index[PATH_MAX];
	struct file f = { .f.fd = -1 };

	/*
	 * Only an index that is not there makes a listing: one that cannot
	 * be served (unreadable, a symlink refused, not a regular file) is
	 * an error, as with nginx, never a look at what it stands for.
	 */
	bool named = snprintf(index, sizeof(index), "%s%s", rel,
			      ex->hc->index) < (int)sizeof(index);

	if (named &&
	    (f.f.fd = open_beneath(ex->hc, index, O_RDONLY | O_NONBLOCK)) != -1) {
		if (fstat(f.f.fd, &f.f.st) == 0 && S_ISREG(f.f.st.st_mode)) {
			try_gzip(ex, index, &f);
			serve_file(ex, ex->path, index, ex->hc->index, &f);
			return;
		}
		close(f.f.fd);
		http_send_error(ex, 403, NULL);
		return;
	}
	if (named && errno != ENOENT && errno != ENOTDIR &&
	    errno != ENAMETOOLONG) {
		http_send_open_error(ex, errno);
		return;
	}
	if (ex->hc->autoindex)
		http_send_listing(ex, dirfd);
	else
		http_send_error(ex, 403, NULL);
}

/* From the cache: true if answered. */
static bool
serve_cached(struct http_exchange *ex, int64_t now)
{
	struct fcache_entry *e = http_cache_get(ex, now);

	if (e == NULL)
		return false;
	if (send_file_cached(ex, e))
		return true;
	/* Changed under its cached stat: forget it, open it afresh. */
	http_cache_forget(ex, e);
	return false;
}

void
http_serve_path(struct http_exchange *ex)
{
	const char *rel = ex->path + 1;
	const char *name = strrchr(ex->path, '/') + 1;
	struct file f = { .f.fd = -1 };
	int64_t now = monotonic_ms();

	/*
	 * As often as a cached file is checked; without a cache (off, or
	 * gzip-static) at every request.  The cached files lie in the old
	 * root: none may be served once it moved.
	 */
	if (http_root_follow(ex->hc->root_dir, ex->hc->root, now,
			     ex->hc->fcache == NULL ? 0 :
			     (int64_t)ex->hc->open_file_cache_valid * 1000))
		http_cache_release(ex->hc);
	if (serve_cached(ex, now))
		return;
	f.f.fd = open_beneath(ex->hc, rel, O_RDONLY | O_NONBLOCK);
	if (f.f.fd == -1 && errno == EACCES)
		f.f.fd = open_search_only_dir(ex->hc, rel);
	if (f.f.fd == -1) {
		http_send_open_error(ex, errno);
		return;
	}
	if (fstat(f.f.fd, &f.f.st) == -1) {
		http_send_error(ex, 500, NULL);
	} else if (S_ISDIR(f.f.st.st_mode)) {
		if (*name != '\0' && rel[0] != '\0')
			redirect_to_dir(ex);
		else
			serve_directory(ex, rel, f.f.fd);
	} else if (!S_ISREG(f.f.st.st_mode) || *name == '\0') {
		/* Devices, fifos, sockets: never; "file/" is not a file. */
		http_send_error(ex, *name == '\0' ? 404 : 403, NULL);
	} else {
		try_gzip(ex, rel, &f);
		serve_file(ex, ex->path, rel, name, &f);
		return;
	}
	close(f.f.fd);
}

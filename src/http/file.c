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
#include "http/http.h"
#include "http/mime.h"
#include "http/path.h"
#include "log.h"

/* Small bodies go out in the same writev() as the head. */
#define INLINE_BODY_MAX 16384

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
	int fd = openat(hc->root_fd, rel, flags | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd == -1)
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real));
	if (n <= 0 || n >= (ssize_t)sizeof(real) ||
	    !http_path_beneath(real, (size_t)n, hc->root_real)) {
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
open_beneath(const struct http_conf *hc, const char *rel, int flags)
{
	static bool no_openat2;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (*rel == '\0')
		rel = ".";
	if (hc->follow_symlinks)
		return openat(hc->root_fd, rel, flags | O_CLOEXEC | O_NOCTTY);
	if (no_openat2)
		return open_checked(hc, rel, flags);
	do
		fd = (int)syscall(SYS_openat2, hc->root_fd, rel, &how, sizeof(how));
	while (fd == -1 && errno == EINTR);
	if (fd == -1 && errno == ENOSYS) {
		no_openat2 = true;
		log_notice("openat2() is not available: checking where each "
			   "opened file leads instead");
		return open_checked(hc, rel, flags);
	}
	return fd;
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
		return 403;
	}
	return 500;
}

/* Does the client take gzip?  "gzip" listed without q=0. */
static bool
accepts_gzip(const struct http_str *ae)
{
	const char *p = ae->p, *end = ae->p + ae->len;

	while (p < end) {
		const char *item = p, *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;

		while (item < stop && (*item == ' ' || *item == '\t'))
			item++;
		if ((size_t)(stop - item) >= 4 && strncasecmp(item, "gzip", 4) == 0 &&
		    (item + 4 == stop || item[4] == ';' || item[4] == ' ')) {
			const char *q = memchr(item, '=', (size_t)(stop - item));

			return q == NULL || strtod(q + 1, NULL) > 0;
		}
		p = stop + 1;
	}
	return false;
}

struct file {
	int fd;
	struct stat st;
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
	    st.st_mtime < f->st.st_mtime) {
		close(fd);
		return;
	}
	f->vary = true;
	if (!accepts_gzip(&ex->req->accept_encoding)) {
		close(fd);
		return;
	}
	close(f->fd);
	f->fd = fd;
	f->st = st;
	f->gzip = true;
}

static void
send_file(struct http_exchange *ex, struct file *f, const char *name)
{
	const struct http_request *req = ex->req;
	uint64_t size = (uint64_t)f->st.st_size, first = 0, last = 0;
	char etag[HTTP_ETAG_MAX], modified[HTTP_DATE_LEN + 1];
	enum http_range_result range = HTTP_RANGE_NONE;
	struct http_headers h;
	int status = 200;

	http_etag_format((uint64_t)f->st.st_ino, size, f->st.st_mtim.tv_sec,
			 f->st.st_mtim.tv_nsec, etag, sizeof(etag));
	http_date_format(f->st.st_mtime, modified);
	if (http_not_modified(req->if_none_match.p, req->if_none_match.len,
			      req->if_modified_since.p,
			      req->if_modified_since.len, etag,
			      f->st.st_mtime))
		status = 304;
	else if (req->range.len > 0 &&
		 (req->if_range.len == 0 ||
		  http_if_range_holds(req->if_range.p, req->if_range.len, etag,
				      f->st.st_mtime)))
		range = http_range_parse(req->range.p, req->range.len, size,
					 &first, &last);
	if (range == HTTP_RANGE_UNSATISFIABLE) {
		char cr[64];

		snprintf(cr, sizeof(cr), "Content-Range: bytes */%llu\r\n",
			 (unsigned long long)size);
		http_send_error(ex, 416, cr);
		return;
	}
	if (range == HTTP_RANGE_OK)
		status = 206;
	else
		last = size - 1;

	http_headers_start(&h, ex, status);
	if (status != 304) {
		http_headers_str(&h, "Content-Type",
				 mime_lookup(ex->hc->mime, name,
					     ex->hc->default_type));
		http_headers_num(&h, "Content-Length",
				 size == 0 ? 0 : last - first + 1);
	}
	http_headers_str(&h, "Last-Modified", modified);
	http_headers_str(&h, "ETag", etag);
	if (status != 304)
		http_headers_str(&h, "Accept-Ranges", "bytes");
	if (status == 206)
		http_headers_add(&h, "Content-Range", "bytes %llu-%llu/%llu",
				 (unsigned long long)first,
				 (unsigned long long)last,
				 (unsigned long long)size);
	if (f->gzip)
		http_headers_str(&h, "Content-Encoding", "gzip");
	if (f->vary)
		http_headers_str(&h, "Vary", "Accept-Encoding");
	if (status == 304 || req->method == HTTP_HEAD || size == 0) {
		http_send_head_and_body(ex, &h, NULL, 0);
		return;
	}
	if (last - first + 1 <= INLINE_BODY_MAX) {
		char body[INLINE_BODY_MAX];
		ssize_t n = pread(f->fd, body, (size_t)(last - first + 1),
				  (off_t)first);

		if (n == (ssize_t)(last - first + 1)) {
			http_send_head_and_body(ex, &h, body, (size_t)n);
			return;
		}
	}
	http_send_head_and_file(ex, &h, f->fd, first, last - first + 1);
}

/* Percent-encodes a decoded path into out, which holds 3 * strlen + 1. */
static size_t
location_path(const char *path, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') ||
			     strchr("-._~/!$&'()*+,;=:@", *p) != NULL;

		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 0xf];
		}
	}
	out[n] = '\0';
	return n;
}

/*
 * The Location is built from the normalised path, never from the client's
 * text: "//evil.example/../dir" must not become a link to another site.
 * It is as long as the request allowed the path and query to be (a byte
 * of the path may take three encoded), so it is sized from them: "/dir"
 * must never fail where "/dir/" would be served.
 */
static void
redirect_to_dir(struct http_exchange *ex)
{
	static const char name[] = "Location: ";
	const struct http_request *req = ex->req;
	size_t size = sizeof(name) + 3 * strlen(ex->path) + 2 + req->query.len;
	char *extra = malloc(size);
	size_t n = sizeof(name) - 1;

	if (extra == NULL) {
		log_errno(LOG_LEVEL_ERROR, "malloc(%zu)", size);
		http_send_error(ex, 500, NULL);
		return;
	}
	memcpy(extra, name, n);
	n += location_path(ex->path, extra + n);
	extra[n++] = '/';
	if (req->has_query) {
		extra[n++] = '?';
		memcpy(extra + n, req->query.p, req->query.len);
		n += req->query.len;
	}
	extra[n] = '\0';
	http_send_error(ex, 301, extra);
	free(extra);
}

static void
serve_directory(struct http_exchange *ex, const char *rel, int dirfd)
{
	char index[PATH_MAX];
	struct file f = { .fd = -1 };

	if (snprintf(index, sizeof(index), "%s%s", rel, ex->hc->index) <
	    (int)sizeof(index) &&
	    (f.fd = open_beneath(ex->hc, index, O_RDONLY | O_NONBLOCK)) != -1) {
		if (fstat(f.fd, &f.st) == 0 && S_ISREG(f.st.st_mode)) {
			try_gzip(ex, index, &f);
			send_file(ex, &f, ex->hc->index);
			close(f.fd);
			return;
		}
		close(f.fd);
	}
	if (ex->hc->autoindex)
		http_send_listing(ex, dirfd);
	else
		http_send_error(ex, 403, NULL);
}

void
http_serve_path(struct http_exchange *ex)
{
	const char *rel = ex->path + 1;
	const char *name = strrchr(ex->path, '/') + 1;
	struct file f = { .fd = -1 };

	f.fd = open_beneath(ex->hc, rel, O_RDONLY | O_NONBLOCK);
	if (f.fd == -1) {
		http_send_error(ex, status_for_errno(errno), NULL);
		return;
	}
	if (fstat(f.fd, &f.st) == -1) {
		http_send_error(ex, 500, NULL);
	} else if (S_ISDIR(f.st.st_mode)) {
		if (*name != '\0' && rel[0] != '\0')
			redirect_to_dir(ex);
		else
			serve_directory(ex, rel, f.fd);
	} else if (!S_ISREG(f.st.st_mode) || *name == '\0') {
		/* Devices, fifos, sockets: never; "file/" is not a file. */
		http_send_error(ex, *name == '\0' ? 404 : 403, NULL);
	} else {
		try_gzip(ex, rel, &f);
		send_file(ex, &f, name);
	}
	close(f.fd);
}

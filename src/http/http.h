/* SPDX-License-Identifier: BSD-2-Clause */
/* The http handler's internals, shared by its modules (not by the core). */
#ifndef PREFORKD_HTTP_H
#define PREFORKD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "handler.h"
#include "http/request.h"

struct mime_table;
struct http_root;
struct fcache;
struct fcache_entry;
struct fcache_file;

/* Small bodies go out in the same write as the head (and are cached). */
#define HTTP_INLINE_BODY_MAX 16384

struct http_conf {
	char *root;
	struct http_root *root_dir;	/* per worker; NULL in the master */
	char *index;
	char *access_log;		/* NULL = off */
	int access_fd;
	/*
	 * Shared by the master and the workers of a generation, which all
	 * append to the file: where a line cut short ends (0: none), so that
	 * whichever worker writes next ends it.
	 */
	int64_t *access_torn_end;	/* __atomic_* only */
	int keepalive_timeout;		/* seconds; 0 = no keep-alive */
	long keepalive_requests;
	int header_timeout;
	size_t max_header_size;
	int send_timeout_ms;		/* the server's timeout; -1 = none */
	bool autoindex;
	bool follow_symlinks;
	bool gzip_static;
	bool server_tokens;
	char *default_type;
	char *status_path;		/* NULL: no status page */
	char *health_path;		/* NULL: no health check */
	struct addr_cidr *status_allow;
	size_t nstatus_allow;
	struct mime_table *mime;
	int open_file_cache;		/* entries per worker; 0 = off */
	int open_file_cache_valid;	/* seconds between checks */
	struct fcache *fcache;		/* per worker; NULL = off */
};

/* What the connection loop hands to the file side, and gets back. */
struct http_exchange {
	struct handler_conn *conn;
	const struct http_conf *hc;
	const struct http_request *req;
	const char *raw_line;		/* without req: the bytes received */
	size_t raw_line_len;
	char *path;			/* decoded, normalised; NULL if refused */
	bool close;			/* Connection: close on this response */
	int status;			/* as sent, for the access log */
	uint64_t body_sent;		/* body bytes really sent */
	bool failed;			/* the client went away mid-response */
	bool *nonblocking;		/* the socket's O_NONBLOCK, set once */
};

/* statuspage.c: status-path and status-allow, and the page itself. */
bool http_status_configure(cfg_t *sec, struct http_conf *hc);
bool http_status_match(const struct http_conf *hc, const char *path);
void http_serve_status(struct http_exchange *ex);

/* health.c: health-path, 200 while serving, 503 while draining. */
bool http_health_configure(cfg_t *sec, struct http_conf *hc);
bool http_health_match(const struct http_conf *hc, const char *path);
void http_serve_health(struct http_exchange *ex);

/* conn.c: the handler's serve entry point. */
void http_conn_serve(struct handler_conn *conn);

/* file.c: answers a GET or HEAD for ex->path. */
void http_serve_path(struct http_exchange *ex);

/* cached.c: the open-file cache (see fcache.h). */
struct fcache_entry *http_cache_get(struct http_exchange *ex,
				    int64_t now_ms);
struct fcache_entry *http_cache_put(struct http_exchange *ex, const char *key,
				    const char *rel,
				    const struct fcache_file *f);
void http_cache_forget(struct http_exchange *ex, struct fcache_entry *e);
/* Closes every cached descriptor (the worker retires, the root moved). */
void http_cache_release(const struct http_conf *hc);
/*
 * Out of descriptors (errno EMFILE or ENFILE): closes the least recently
 * used cached files, a few at a time; false if there was none to close.
 */
bool http_cache_shed(const struct http_conf *hc);

/*
 * file.c: the answer to a failed open() (404, 403...); out of descriptors,
 * 503 with Retry-After, logged once per interval with a count.
 */
void http_send_open_error(struct http_exchange *ex, int err);

/* listing.c: the autoindex page of an open directory. */
void http_send_listing(struct http_exchange *ex, int dirfd);

/* respond.c: responses. */
struct http_headers {
	char buf[2048];
	size_t len;
	bool overflow;
};

void http_headers_start(struct http_headers *h, struct http_exchange *ex,
			int status);
void http_headers_str(struct http_headers *h, const char *name,
		      const char *value);
void http_headers_num(struct http_headers *h, const char *name,
		      uint64_t value);
/* Whole header lines, already formatted. */
void http_headers_raw(struct http_headers *h, const char *lines, size_t len);
/* For the rare formatted header; name NULL adds a raw line. */
void http_headers_add(struct http_headers *h, const char *name,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Ends the head (Connection, blank line) and sends it with body[0..len). */
int http_send_head_and_body(struct http_exchange *ex, struct http_headers *h,
			    const char *body, size_t len);
/* Sends [offset, offset + len) of fd after the head (sendfile). */
int http_send_head_and_file(struct http_exchange *ex, struct http_headers *h,
			    int fd, uint64_t offset, uint64_t len);
/* A small HTML error page (no body for HEAD); extra: NULL or header
 * lines, each ending in CRLF but perhaps the last. */
void http_send_error(struct http_exchange *ex, int status, const char *extra);
const char *http_reason(int status);
/* Writes all of buf, waiting for the socket; 0 or -1 (client gone/slow). */
int http_write_all(struct http_exchange *ex, const char *buf, size_t len);

/* file.c: validators and type of f->st's file called name. */
void http_file_describe(const struct http_conf *hc, const char *name,
			struct fcache_file *f);
/* The headers of a 200 for f, after Server:. */
void http_file_headers(struct http_headers *h, const struct fcache_file *f);

/* accesslog.c */
void http_access_log(const struct http_exchange *ex, const char *peer,
		     time_t now);
/* out must hold HTTP_ACCESS_LINE_MAX bytes; returns the line's length. */
#define HTTP_ACCESS_LINE_MAX 8448
size_t http_access_format(char *out, size_t outlen, const char *peer,
			  time_t now, long gmtoff, const char *request_line,
			  size_t request_line_len, int status, uint64_t bytes,
			  const char *referer, size_t referer_len,
			  const char *agent, size_t agent_len);

/* The Date header's value, formatted at most once a second. */
const char *http_date_now(void);

#endif

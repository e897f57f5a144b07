/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Validators, conditional requests and byte ranges (RFC 9110 sections 8.8,
 * 13 and 14), as pure functions.
 */
#ifndef PREFORKD_HTTP_COND_H
#define PREFORKD_HTTP_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HTTP_DATE_LEN 29		/* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define HTTP_ETAG_MAX 64

/*
 * IMF-fixdate of t into buf (at least HTTP_DATE_LEN + 1 bytes), always
 * exactly HTTP_DATE_LEN characters: a t outside years 0000..9999 is held
 * at the nearer end of that range.
 */
void http_date_format(time_t t, char *buf);

/*
 * Parses s[0..len) as an IMF-fixdate, RFC 850 or asctime date (names
 * case-sensitive, nothing around it); 0, or -1 if it is none of them or
 * names an impossible date or time (Feb 30, 25:00:00; second 60 is
 * allowed).  RFC 850's two-digit years 00-69 are 2000-2069, 70-99
 * 1970-1999.  The weekday must be a day name but is not checked.
 */
int http_date_parse(const char *s, size_t len, time_t *out);

/*
 * A strong validator from the file's identity: "\"inode-size-mtime\"" in
 * lower-case hex, mtime being mtime_sec * 10^9 + mtime_nsec (modulo
 * 2^64).  At most 52 characters, so HTTP_ETAG_MAX bytes always do.
 */
void http_etag_format(uint64_t ino, uint64_t size, int64_t mtime_sec,
		      long mtime_nsec, char *buf, size_t buflen);

/*
 * Should a GET/HEAD of a representation with this etag and mtime answer
 * 304?  If-None-Match, when present (len > 0), decides alone (weak
 * comparison, "*" matches, a list is searched; a malformed member ends
 * the search with no match); otherwise a valid If-Modified-Since not
 * older than mtime means not modified, and an invalid one, or one later
 * than now, is ignored.
 */
bool http_not_modified(const char *if_none_match, size_t inm_len,
		       const char *if_modified_since, size_t ims_len,
		       const char *etag, time_t mtime, time_t now);

struct http_request;
/*
 * RFC 9110 13.2.2, steps 1 to 4, for a GET or HEAD of a representation
 * with this etag and mtime: 412 when If-Match (or, without it,
 * If-Unmodified-Since) fails, 304 when If-None-Match (or, without it,
 * If-Modified-Since) finds it unchanged, else 0.  If-Match compares
 * strongly, If-None-Match weakly; "*" matches; the lines of each make
 * one list; a date that cannot be read, or an If-Modified-Since later
 * than now, is ignored.  etag NULL: a representation without validators
 * (a directory listing): only "*" matches, and dates are ignored (RFC
 * 9110 13.1.3 and 13.1.4: it has no modification date).
 */
int http_precondition_status(const struct http_request *req, const char *etag,
			     time_t mtime, time_t now);

/*
 * Does If-Range hold?  An entity-tag is compared strongly (a W/ tag on
 * either side never holds); a date holds only if it equals mtime and
 * mtime is at least a second before now; a value that is neither does
 * not hold.
 */
bool http_if_range_holds(const char *if_range, size_t len, const char *etag,
			 time_t mtime, time_t now);

enum http_range_result {
	HTTP_RANGE_NONE,		/* no usable range: the whole file, 200 */
	HTTP_RANGE_OK,			/* 206 with [*first, *last] */
	HTTP_RANGE_UNSATISFIABLE,	/* 416 */
};

/*
 * Interprets a Range header for a file of size bytes.  Only one range of
 * unit "bytes" (any case) is served: "a-b" (b clamped to size - 1), "a-",
 * "-n" (the last n bytes, the whole file if n >= size); OWS is allowed
 * after '=' and around '-', and so are empty list elements; a number
 * has no bound (one past UINT64_MAX lies past any end).  A syntactically
 * invalid header (b < a), another unit, or several ranges give
 * HTTP_RANGE_NONE (RFC 9110 lets a server ignore Range), and so does
 * "-n" (n > 0) on an empty file, which RFC
 * 9110 makes satisfiable by the whole, empty, representation; a first
 * byte at or past the end, or "-0", gives UNSATISFIABLE, and so do
 * several ranges none of which is satisfiable.  *first and *last are set
 * only for HTTP_RANGE_OK.
 */
enum http_range_result http_range_parse(const char *s, size_t len,
					uint64_t size, uint64_t *first,
					uint64_t *last);

#endif

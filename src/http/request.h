/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/1.x request head parsing: a pure function over a buffer (RFC 9112),
 * and a decoder that skips a chunked request body.  No system calls.
 */
#ifndef PREFORKD_HTTP_REQUEST_H
#define PREFORKD_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_method {
	HTTP_METHOD_UNKNOWN = 0,	/* a valid token we do not know: 501 */
	HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE,
	HTTP_OPTIONS, HTTP_PATCH, HTTP_TRACE, HTTP_CONNECT,
};

/*
 * A slice of the caller's buffer; not NUL-terminated.  An absent or empty
 * slice has len 0 and p pointing at "" (never NULL).
 */
struct http_str {
	const char *p;
	size_t len;
};

struct http_header {
	struct http_str name, value;	/* value without surrounding OWS */
};

#define HTTP_MAX_HEADERS 100
/* Empty lines skipped before a request line; one more is a 400. */
#define HTTP_EMPTY_LINES_MAX 8
/* A method not ended within this many bytes is longer than any: 501. */
#define HTTP_METHOD_MAX 32

struct http_request {
	enum http_method method;
	struct http_str method_name;
	struct http_str target;		/* the raw request-target */
	/*
	 * path is still percent-encoded and starts with '/', except: "*" for
	 * "OPTIONS *", empty for CONNECT's authority-form (answer 405), and
	 * a static "/" (outside the buffer) for an absolute-form target with
	 * an empty path ("http://host" or "http://host?q").
	 */
	struct http_str path;
	struct http_str query;		/* after '?', empty if none */
	bool has_query;
	struct http_str host;		/* the authority of absolute-form, else
					   Host; empty only for 1.0 without Host */
	int major, minor;		/* 1.0 or 1.1 (1.x, x > 1, is read as 1.1) */
	size_t head_len;		/* bytes of the head, final blank line included */
	size_t nheaders;
	struct http_header headers[HTTP_MAX_HEADERS];

	/* Interpreted headers. */
	bool keep_alive;		/* by version and Connection */
	bool has_content_length;
	uint64_t content_length;
	bool chunked;			/* Transfer-Encoding ends in chunked */
	/*
	 * The first non-empty field of each name, empty if none.  If-Match and
	 * If-None-Match are lists that may come in several lines: see
	 * http_header_next().
	 */
	struct http_str if_match, if_none_match, if_modified_since,
		if_unmodified_since, if_range, range, accept_encoding,
		user_agent, referer;
};

enum http_parse_result {
	HTTP_PARSE_OK,
	HTTP_PARSE_INCOMPLETE,		/* need more bytes (and len < max_head) */
	HTTP_PARSE_ERROR,		/* *status says which (see below) */
};

/*
 * Parses the request head at buf[0..len).  max_head bounds the head
 * (request line and headers) counted from buf[0]: a request line not ended
 * within the first max_head bytes is 414 (400 if empty lines filled most
 * of them), a head not ended within them 431, even when all of it is in
 * buf; while len < max_head such a head is INCOMPLETE instead.  Up to
 * HTTP_EMPTY_LINES_MAX leading empty lines are skipped and counted in
 * head_len, one more is 400; bytes after head_len (a body, the next
 * pipelined request) are not looked at.  Lines may end in CRLF or a bare
 * LF; a bare CR anywhere is 400.
 *
 * On HTTP_PARSE_ERROR, *status is the response code (400, 414, 431, 505,
 * or 501 for a transfer coding other than chunked or a method longer than
 * HTTP_METHOD_MAX, ended or not), req is only partly filled, and the
 * caller closes the connection after answering: the stream's framing can
 * no longer be trusted.  *status is left alone otherwise.  A well-formed
 * but unknown method of at most HTTP_METHOD_MAX bytes is not an error
 * here (HTTP_METHOD_UNKNOWN: the caller answers 501); neither is CONNECT.
 * On HTTP_PARSE_INCOMPLETE, call again with more bytes (from buf[0]).
 */
enum http_parse_result http_request_parse(const char *buf, size_t len,
					  size_t max_head,
					  struct http_request *req,
					  int *status);

/* The value of header name (case-insensitive), or NULL if absent. */
const struct http_str *http_request_header(const struct http_request *req,
					   const char *name);

/* tchar (RFC 9110 section 5.6.2), by byte: the chars of a token. */
extern const bool http_tchar[256];

static inline bool
http_is_tchar(unsigned char c)
{
	return http_tchar[c];
}

/* Case-insensitive comparison of a slice with a C string. */
bool http_str_eq(struct http_str s, const char *c);

/*
 * The value of the next field line called name, from index *pos of the
 * parsed headers on (start with 0); false when there is none left.
 */
bool http_header_next(const struct http_request *req, const char *name,
		      size_t *pos, struct http_str *value);

/*
 * Skipping a chunked body (RFC 9112 section 7.1) fed in pieces of any
 * size.  A chunk-size is at most 16 significant hex digits (leading
 * zeros are valid); a chunk-size line (with
 * its chunk-ext) or a trailer line longer than HTTP_CHUNKED_LINE_MAX bytes
 * is an error.  Extensions and trailer fields are skipped unread.  Every
 * line ends in CRLF: a bare LF is an error, as is whitespace after a
 * chunk-size that no ";" follows.
 */
#define HTTP_CHUNKED_LINE_MAX 4096

struct http_chunked {
	int state;
	uint64_t remaining;		/* of the current chunk's data */
	size_t line_len;		/* guards chunk-size and trailer lines */
	uint64_t data;			/* chunk-data so far: what a limit counts */
};

enum http_chunked_result {
	HTTP_CHUNKED_MORE,		/* all of buf consumed, body not ended */
	HTTP_CHUNKED_DONE,		/* body ended; *consumed bytes were its end */
	HTTP_CHUNKED_ERROR,		/* malformed: 400 and close */
};

void http_chunked_init(struct http_chunked *c);

/*
 * Consumes up to len bytes of body.  MORE: *consumed = len.  DONE: the
 * first *consumed bytes ended the body, the rest of buf is the next
 * request.  ERROR: *consumed counts the bytes read, the offending one
 * included.  Once DONE or ERROR, later calls return the same with
 * *consumed = 0.
 */
enum http_chunked_result http_chunked_skip(struct http_chunked *c,
					   const char *buf, size_t len,
					   size_t *consumed);

#endif

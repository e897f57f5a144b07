/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/http/request.c: request heads and chunked bodies. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "http/request.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
/* A literal and its length, so that rows may hold NUL bytes. */
#define S(lit)		lit, sizeof(lit) - 1
#define MAX_HEAD	8192

#define OK		HTTP_PARSE_OK
#define INCOMPLETE	HTTP_PARSE_INCOMPLETE
#define ERR		HTTP_PARSE_ERROR

/* Built by setup(): too long to write out. */
static char many_headers[4096];		/* HTTP_MAX_HEADERS fields */
static char too_many_headers[4096];	/* one more */
static char ext_max[HTTP_CHUNKED_LINE_MAX + 64];
static char ext_long[HTTP_CHUNKED_LINE_MAX + 64];
static char trailer_max[HTTP_CHUNKED_LINE_MAX + 64];
static char bws_max[HTTP_CHUNKED_LINE_MAX + 64];
static char bws_long[HTTP_CHUNKED_LINE_MAX + 64];
static char trailer_long[HTTP_CHUNKED_LINE_MAX + 64];

static void
make_headers(char *buf, size_t size, int n)
{
	int i, off;

	off = snprintf(buf, size, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < n; i++)
		off += snprintf(buf + off, size - (size_t)off, "X-%d: v\r\n",
				i);
	snprintf(buf + off, size - (size_t)off, "\r\n");
}

/* head, then n 'a's, then tail: lines of a chosen length. */
#define CHUNK_TAIL	"\r\nx\r\n0\r\n\r\n"

static void
make_line(char *buf, const char *head, size_t n, const char *tail)
{
	size_t hl = strlen(head);

	memcpy(buf, head, hl);
	memset(buf + hl, 'a', n);
	strcpy(buf + hl + n, tail);
}

/* "1", spaces, ";", then CHUNK_TAIL: BWS before a chunk-ext. */
static void
make_bws_line(char *buf, size_t spaces)
{
	buf[0] = '1';
	memset(buf + 1, ' ', spaces);
	strcpy(buf + 1 + spaces, ";" CHUNK_TAIL);
}

static int
setup(void **state)
{
	(void)state;
	make_headers(many_headers, sizeof(many_headers), HTTP_MAX_HEADERS);
	make_headers(too_many_headers, sizeof(too_many_headers),
		     HTTP_MAX_HEADERS + 1);
	/* "1;" and the 'a's make a line of exactly HTTP_CHUNKED_LINE_MAX. */
	make_line(ext_max, "1;", HTTP_CHUNKED_LINE_MAX - 2, CHUNK_TAIL);
	make_line(ext_long, "1;", HTTP_CHUNKED_LINE_MAX - 1, CHUNK_TAIL);
	make_bws_line(bws_max, HTTP_CHUNKED_LINE_MAX - 2);
	make_bws_line(bws_long, HTTP_CHUNKED_LINE_MAX - 1);
	make_line(trailer_max, "0\r\nX:", HTTP_CHUNKED_LINE_MAX - 2,
		  "\r\n\r\n");
	make_line(trailer_long, "0\r\nX:", HTTP_CHUNKED_LINE_MAX - 1,
		  "\r\n\r\n");
	return 0;
}

/* Rows give a length, or 0 for a string built at setup. */
static size_t
row_len(const char *in, size_t len)
{
	return len != 0 ? len : strlen(in);
}

static bool
str_is(struct http_str s, const char *want)
{
	return s.p != NULL && s.len == strlen(want) &&
	    memcmp(s.p, want, s.len) == 0;
}

static const char *
result_name(enum http_parse_result r)
{
	switch (r) {
	case HTTP_PARSE_OK:
		return "OK";
	case HTTP_PARSE_INCOMPLETE:
		return "INCOMPLETE";
	case HTTP_PARSE_ERROR:
		return "ERROR";
	}
	return "?";
}

/* Parses a request that must be OK; fails the test naming the row. */
static void
parse_ok(const char *in, size_t len, struct http_request *req, size_t row,
	 const char *name)
{
	enum http_parse_result r;
	int status = -1;

	r = http_request_parse(in, len, MAX_HEAD, req, &status);
	if (r != HTTP_PARSE_OK)
		fail_msg("row %zu (%s): %s, status %d, expected OK", row, name,
			 result_name(r), status);
	if (status != -1)
		fail_msg("row %zu (%s): status set to %d on OK", row, name,
			 status);
}

/* ---- valid requests ----------------------------------------------------- */

struct ok_row {
	const char *name;
	const char *in;
	size_t len;
	enum http_method method;
	const char *path;
	const char *query;	/* NULL: no '?' */
	const char *host;
	int minor;
	bool keep_alive;
	size_t nheaders;
};

static const struct ok_row ok_rows[] = {
	{ "GET 1.1", S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a", 1, true, 1 },
	{ "HEAD 1.1", S("HEAD /x/y.html HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_HEAD, "/x/y.html", NULL, "a", 1, true, 1 },
	{ "GET 1.0 without Host", S("GET /x HTTP/1.0\r\n\r\n"),
	  HTTP_GET, "/x", NULL, "", 0, false, 0 },
	{ "HEAD 1.0 with Host", S("HEAD / HTTP/1.0\r\nHost: h\r\n\r\n"),
	  HTTP_HEAD, "/", NULL, "h", 0, false, 1 },
	{ "HTTP/1.9 read as 1.1", S("GET / HTTP/1.9\r\nHost: a\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a", 1, true, 1 },
	{ "query", S("GET /p?a=b&c HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_GET, "/p", "a=b&c", "a", 1, true, 1 },
	{ "empty query", S("GET /p? HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_GET, "/p", "", "a", 1, true, 1 },
	{ "second '?' in query", S("GET /p?a?b HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_GET, "/p", "a?b", "a", 1, true, 1 },
	{ "absolute http",
	  S("GET http://example.com/x?y HTTP/1.1\r\nHost: other\r\n\r\n"),
	  HTTP_GET, "/x", "y", "example.com", 1, true, 1 },
	{ "absolute HTTPS with port",
	  S("GET HTTPS://Ex.com:8443/a/b HTTP/1.1\r\nHost: x\r\n\r\n"),
	  HTTP_GET, "/a/b", NULL, "Ex.com:8443", 1, true, 1 },
	{ "absolute, empty path", S("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n"),
	  HTTP_GET, "/", NULL, "h", 1, true, 1 },
	{ "absolute, empty path, query",
	  S("GET http://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n"),
	  HTTP_GET, "/", "q=1", "h", 1, true, 1 },
	{ "absolute IPv6",
	  S("GET http://[::1]:80/ HTTP/1.1\r\nHost: h\r\n\r\n"),
	  HTTP_GET, "/", NULL, "[::1]:80", 1, true, 1 },
	{ "absolute 1.0 without Host", S("GET http://h/x HTTP/1.0\r\n\r\n"),
	  HTTP_GET, "/x", NULL, "h", 0, false, 0 },
	{ "OPTIONS *", S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_OPTIONS, "*", NULL, "a", 1, true, 1 },
	{ "OPTIONS /", S("OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_OPTIONS, "/", NULL, "a", 1, true, 1 },
	{ "leading CRLFs", S("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a", 1, true, 1 },
	{ "leading LFs", S("\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a", 1, true, 1 },
	{ "bare LF everywhere", S("GET / HTTP/1.1\nHost: a\nX: y\n\n"),
	  HTTP_GET, "/", NULL, "a", 1, true, 2 },
	{ "mixed line ends", S("\nGET / HTTP/1.1\r\nHost: a\n\r\n"),
	  HTTP_GET, "/", NULL, "a", 1, true, 1 },
	{ "POST", S("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
	  HTTP_POST, "/f", NULL, "a", 1, true, 2 },
	{ "PUT", S("PUT /f HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_PUT, "/f", NULL, "a", 1, true, 1 },
	{ "DELETE", S("DELETE /f HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_DELETE, "/f", NULL, "a", 1, true, 1 },
	{ "PATCH", S("PATCH /f HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_PATCH, "/f", NULL, "a", 1, true, 1 },
	{ "TRACE", S("TRACE /f HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_TRACE, "/f", NULL, "a", 1, true, 1 },
	{ "CONNECT authority-form",
	  S("CONNECT example.com:443 HTTP/1.1\r\n"
	    "Host: example.com:443\r\n\r\n"),
	  HTTP_CONNECT, "", NULL, "example.com:443", 1, true, 1 },
	{ "unknown method", S("FOO / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_METHOD_UNKNOWN, "/", NULL, "a", 1, true, 1 },
	{ "methods are case-sensitive", S("get / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_METHOD_UNKNOWN, "/", NULL, "a", 1, true, 1 },
	{ "token method", S("M-SEARCH.x!~ / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_METHOD_UNKNOWN, "/", NULL, "a", 1, true, 1 },
	{ "GETS is not GET", S("GETS / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_METHOD_UNKNOWN, "/", NULL, "a", 1, true, 1 },
	{ "UTF-8 in target", S("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_GET, "/caf\xc3\xa9", NULL, "a", 1, true, 1 },
	{ "sub-delims in target",
	  S("GET /%7e~!$&'()*+,;=:@f HTTP/1.1\r\nHost: a\r\n\r\n"),
	  HTTP_GET, "/%7e~!$&'()*+,;=:@f", NULL, "a", 1, true, 1 },
	{ "Host with port", S("GET / HTTP/1.1\r\nHost: a.b:8080\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a.b:8080", 1, true, 1 },
	{ "Host IPv6", S("GET / HTTP/1.1\r\nhost: [::1]:80\r\n\r\n"),
	  HTTP_GET, "/", NULL, "[::1]:80", 1, true, 1 },
	/* RFC 3986 3.2: port = *DIGIT, pct-encoded and sub-delims in names */
	{ "Host with an empty port", S("GET / HTTP/1.1\r\nHost: a:\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a:", 1, true, 1 },
	{ "Host IPv4 and port",
	  S("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"),
	  HTTP_GET, "/", NULL, "127.0.0.1:8080", 1, true, 1 },
	{ "Host IPvFuture", S("GET / HTTP/1.1\r\nHost: [v1.x]\r\n\r\n"),
	  HTTP_GET, "/", NULL, "[v1.x]", 1, true, 1 },
	{ "Host pct-encoded, sub-delims",
	  S("GET / HTTP/1.1\r\nHost: a%20b!$&'()*+,;=-._~\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a%20b!$&'()*+,;=-._~", 1, true, 1 },
	{ "Host name case-insensitive", S("GET / HTTP/1.1\r\nHOST: a\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a", 1, true, 1 },
	{ "empty value", S("GET / HTTP/1.1\r\nHost: a\r\nX-E:\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a", 1, true, 2 },
	{ "UTF-8 and HTAB in value",
	  S("GET / HTTP/1.1\r\nHost: a\r\nX: \xc3\xa9\tb\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a", 1, true, 2 },
	{ "Connection: close", S("GET / HTTP/1.1\r\nHost: a\r\n"
				 "Connection: close\r\n\r\n"),
	  HTTP_GET, "/", NULL, "a", 1, false, 2 },
	{ "many headers", many_headers, 0,
	  HTTP_GET, "/", NULL, "a", 1, true, HTTP_MAX_HEADERS },
};

static void
check_ok_row(size_t i, const struct ok_row *row, const struct http_request *req,
	     size_t len)
{
	if (req->method != row->method)
		fail_msg("row %zu (%s): method %d, expected %d", i, row->name,
			 req->method, row->method);
	if (!str_is(req->path, row->path))
		fail_msg("row %zu (%s): path '%.*s', expected '%s'", i,
			 row->name, (int)req->path.len, req->path.p, row->path);
	if (req->has_query != (row->query != NULL) ||
	    !str_is(req->query, row->query ? row->query : ""))
		fail_msg("row %zu (%s): query %d '%.*s', expected '%s'", i,
			 row->name, req->has_query, (int)req->query.len,
			 req->query.p, row->query ? row->query : "(none)");
	if (!str_is(req->host, row->host))
		fail_msg("row %zu (%s): host '%.*s', expected '%s'", i,
			 row->name, (int)req->host.len, req->host.p, row->host);
	if (req->major != 1 || req->minor != row->minor)
		fail_msg("row %zu (%s): version %d.%d, expected 1.%d", i,
			 row->name, req->major, req->minor, row->minor);
	if (req->keep_alive != row->keep_alive)
		fail_msg("row %zu (%s): keep_alive %d", i, row->name,
			 req->keep_alive);
	if (req->nheaders != row->nheaders)
		fail_msg("row %zu (%s): %zu headers, expected %zu", i,
			 row->name, req->nheaders, row->nheaders);
	if (req->head_len != len)
		fail_msg("row %zu (%s): head_len %zu, expected %zu", i,
			 row->name, req->head_len, len);
}

static void
test_parse_ok(void **state)
{
	static struct http_request req;
	size_t i, len;

	(void)state;
	for (i = 0; i < NROWS(ok_rows); i++) {
		len = row_len(ok_rows[i].in, ok_rows[i].len);
		parse_ok(ok_rows[i].in, len, &req, i, ok_rows[i].name);
		check_ok_row(i, &ok_rows[i], &req, len);
	}
}

/* Every proper prefix of a valid head is INCOMPLETE, whatever max_head. */
static void
test_parse_prefixes(void **state)
{
	static struct http_request req;
	enum http_parse_result r;
	size_t i, k, len;
	int status;

	(void)state;
	for (i = 0; i < NROWS(ok_rows); i++) {
		len = row_len(ok_rows[i].in, ok_rows[i].len);
		for (k = 0; k < len; k++) {
			status = -1;
			r = http_request_parse(ok_rows[i].in, k, MAX_HEAD, &req,
					       &status);
			if (r != INCOMPLETE)
				fail_msg("row %zu (%s): prefix %zu: %s %d", i,
					 ok_rows[i].name, k, result_name(r),
					 status);
			r = http_request_parse(ok_rows[i].in, k, len, &req,
					       &status);
			if (r != INCOMPLETE)
				fail_msg("row %zu (%s): prefix %zu, max_head "
					 "%zu: %s %d", i, ok_rows[i].name, k,
					 len, result_name(r), status);
		}
	}
}

/* ---- malformed requests ------------------------------------------------- */

struct err_row {
	const char *name;
	const char *in;
	size_t len;
	int status;
};

#define H11(line)	line " HTTP/1.1\r\nHost: a\r\n\r\n"
#define HDR(fields)	"GET / HTTP/1.1\r\n" fields "\r\n"

static const struct err_row err_rows[] = {
	/* request line */
	{ "method with '('", S(H11("G(T /")), 400 },
	{ "method with '@'", S(H11("GET@ /")), 400 },
	{ "quoted method", S(H11("\"GET\" /")), 400 },
	{ "method with UTF-8", S(H11("G\xc3\x89T /")), 400 },
	{ "method with NUL", S(H11("G\0T /")), 400 },
	{ "leading SP", S(H11(" GET /")), 400 },
	{ "HTAB separator", S(H11("GET\t/")), 400 },
	{ "double SP after method", S(H11("GET  /")), 400 },
	{ "double SP before version", S("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"),
	  400 },
	{ "trailing SP", S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400 },
	{ "missing version", S("GET /\r\nHost: a\r\n\r\n"), 400 },
	{ "empty version", S("GET / \r\nHost: a\r\n\r\n"), 400 },
	{ "missing target", S("GET HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "method only", S("GET\r\n\r\n"), 400 },
	{ "bare CR in line", S("GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n"), 400 },
	{ "CR CRLF before line", S("\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	  400 },
	{ "lower-case version", S("GET / http/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "HTTP/1", S("GET / HTTP/1\r\nHost: a\r\n\r\n"), 400 },
	{ "HTTP/1.1x", S("GET / HTTP/1.1x\r\nHost: a\r\n\r\n"), 400 },
	{ "HTTP/1.x", S("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), 400 },
	{ "HTTP/11.1", S("GET / HTTP/11.1\r\nHost: a\r\n\r\n"), 400 },
	{ "HTTP/1,1", S("GET / HTTP/1,1\r\nHost: a\r\n\r\n"), 400 },
	{ "HTTX/1.1", S("GET / HTTX/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "HTTP/2.0", S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505 },
	{ "HTTP/0.9", S("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505 },
	{ "HTTP/3.0", S("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505 },
	{ "HTTP/9.9", S("GET / HTTP/9.9\r\n\r\n"), 505 },
	/* request-target */
	{ "CTL in target", S(H11("GET /a\x01z")), 400 },
	{ "DEL in target", S(H11("GET /a\x7fz")), 400 },
	{ "HTAB in target", S(H11("GET /a\tz")), 400 },
	{ "NUL in target", S(H11("GET /a\0z")), 400 },
	{ "'*' for GET", S(H11("GET *")), 400 },
	{ "'*x' for OPTIONS", S(H11("OPTIONS *x")), 400 },
	{ "authority-form for GET", S(H11("GET example.com:80")), 400 },
	{ "relative target", S(H11("GET a/b")), 400 },
	{ "ftp scheme", S(H11("GET ftp://h/")), 400 },
	{ "scheme without //", S(H11("GET http:/h/")), 400 },
	{ "userinfo", S(H11("GET http://user@h/")), 400 },
	{ "empty authority", S(H11("GET http:///x")), 400 },
	{ "backslash in authority", S(H11("GET http://a\\b/")), 400 },
	{ "absolute-form 1.1 without Host", S("GET http://h/ HTTP/1.1\r\n\r\n"),
	  400 },
	/* header fields */
	{ "SP before colon", S(HDR("Host : a\r\n")), 400 },
	{ "HTAB before colon", S(HDR("Host: a\r\nX\t: b\r\n")), 400 },
	{ "no colon", S(HDR("Host: a\r\nX b\r\n")), 400 },
	{ "empty name", S(HDR("Host: a\r\n: b\r\n")), 400 },
	{ "bad name char", S(HDR("Host: a\r\nX(y): b\r\n")), 400 },
	{ "UTF-8 in name", S(HDR("Host: a\r\nX\xc3\xa9: b\r\n")), 400 },
	{ "obs-fold SP", S(HDR("Host: a\r\nX: b\r\n c\r\n")), 400 },
	{ "obs-fold HTAB", S(HDR("Host: a\r\nX: b\r\n\tc\r\n")), 400 },
	{ "SP before first field", S(HDR(" Host: a\r\n")), 400 },
	{ "CTL in value", S(HDR("Host: a\r\nX: b\x01\r\n")), 400 },
	{ "DEL in value", S(HDR("Host: a\r\nX: b\x7f\r\n")), 400 },
	{ "NUL in value", S(HDR("Host: a\r\nX: b\0c\r\n")), 400 },
	{ "bare CR in value", S(HDR("Host: a\r\nX: b\rc\r\n")), 400 },
	{ "CR CRLF ending", S(HDR("Host: a\r\r\n")), 400 },
	{ "too many headers", too_many_headers, 0, 431 },
	/* Host */
	{ "1.1 without Host", S("GET / HTTP/1.1\r\nX: a\r\n\r\n"), 400 },
	{ "two Hosts", S(HDR("Host: a\r\nHost: a\r\n")), 400 },
	{ "two Hosts, 1.0", S("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"),
	  400 },
	{ "Host with SP", S(HDR("Host: a b\r\n")), 400 },
	{ "Host with HTAB", S(HDR("Host: a\tb\r\n")), 400 },
	{ "Host with '/'", S(HDR("Host: a/b\r\n")), 400 },
	{ "Host with '\\'", S(HDR("Host: a\\b\r\n")), 400 },
	{ "Host with userinfo", S(HDR("Host: u@a\r\n")), 400 },
	{ "empty Host", S(HDR("Host:\r\n")), 400 },
	{ "Host with two ports", S(HDR("Host: a:80:80\r\n")), 400 },
	{ "Host with a port not a number", S(HDR("Host: a:b\r\n")), 400 },
	{ "Host with a port only", S(HDR("Host: :80\r\n")), 400 },
	{ "Host IPv6 unclosed", S(HDR("Host: [::1\r\n")), 400 },
	{ "Host IPv6 then junk", S(HDR("Host: [::1]x\r\n")), 400 },
	{ "Host empty brackets", S(HDR("Host: []:80\r\n")), 400 },
	{ "Host bad escape", S(HDR("Host: a%zz\r\n")), 400 },
	{ "Host cut escape", S(HDR("Host: a%2\r\n")), 400 },
	{ "Host with '#'", S(HDR("Host: a#b\r\n")), 400 },
	{ "Host with '\"'", S(HDR("Host: a\"b\r\n")), 400 },
	{ "absolute-form, bad port",
	  S("GET http://a:x/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "blank Host", S(HDR("Host:  \t \r\n")), 400 },
	/* Content-Length and Transfer-Encoding */
	{ "CL -1", S(HDR("Host: a\r\nContent-Length: -1\r\n")), 400 },
	{ "CL +1", S(HDR("Host: a\r\nContent-Length: +1\r\n")), 400 },
	{ "CL 1a", S(HDR("Host: a\r\nContent-Length: 1a\r\n")), 400 },
	{ "CL 0x10", S(HDR("Host: a\r\nContent-Length: 0x10\r\n")), 400 },
	{ "CL empty", S(HDR("Host: a\r\nContent-Length:\r\n")), 400 },
	{ "CL space inside", S(HDR("Host: a\r\nContent-Length: 1 2\r\n")),
	  400 },
	{ "CL 2^63", S(HDR("Host: a\r\nContent-Length: "
			  "9223372036854775808\r\n")), 400 },
	{ "CL huge", S(HDR("Host: a\r\nContent-Length: "
			   "99999999999999999999999\r\n")), 400 },
	{ "CL twice, different", S(HDR("Host: a\r\nContent-Length: 1\r\n"
				       "Content-Length: 2\r\n")), 400 },
	{ "CL list, different", S(HDR("Host: a\r\nContent-Length: 1, 2\r\n")),
	  400 },
	{ "CL list, empty element",
	  S(HDR("Host: a\r\nContent-Length: 1,,1\r\n")), 400 },
	{ "CL and TE", S(HDR("Host: a\r\nContent-Length: 1\r\n"
			     "Transfer-Encoding: chunked\r\n")), 400 },
	{ "TE and CL", S(HDR("Host: a\r\nTransfer-Encoding: chunked\r\n"
			     "Content-Length: 1\r\n")), 400 },
	{ "TE on 1.0", S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
			 "\r\n"), 400 },
	{ "TE gzip", S(HDR("Host: a\r\nTransfer-Encoding: gzip\r\n")), 400 },
	{ "TE chunked, gzip",
	  S(HDR("Host: a\r\nTransfer-Encoding: chunked, gzip\r\n")), 400 },
	{ "TE chunked twice",
	  S(HDR("Host: a\r\nTransfer-Encoding: chunked, chunked\r\n")), 400 },
	{ "TE chunked then gzip field",
	  S(HDR("Host: a\r\nTransfer-Encoding: chunked\r\n"
		"Transfer-Encoding: gzip\r\n")), 400 },
	{ "TE empty", S(HDR("Host: a\r\nTransfer-Encoding:\r\n")), 400 },
	{ "TE chunked with parameter",
	  S(HDR("Host: a\r\nTransfer-Encoding: chunked;x=1\r\n")), 400 },
	/* framed by chunked, but with a coding we cannot undo (6.1) */
	{ "TE gzip, chunked",
	  S(HDR("Host: a\r\nTransfer-Encoding: gzip , chunked\r\n")), 501 },
	{ "TE in two fields", S(HDR("Host: a\r\nTransfer-Encoding: gzip\r\n"
				    "Transfer-Encoding: chunked\r\n")), 501 },
	{ "TE identity, chunked",
	  S(HDR("Host: a\r\nTransfer-Encoding: identity, chunked\r\n")),
	  501 },
	/* a fragment is not part of any request-target (RFC 9112 3.2) */
	{ "fragment", S("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "fragment after query", S("GET /a?x#b HTTP/1.1\r\nHost: a\r\n\r\n"),
	  400 },
	{ "fragment, absolute-form",
	  S("GET http://a/b#c HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
};

static void
test_parse_errors(void **state)
{
	static struct http_request req;
	enum http_parse_result r;
	size_t i;
	int status;

	(void)state;
	for (i = 0; i < NROWS(err_rows); i++) {
		status = -1;
		r = http_request_parse(err_rows[i].in,
				       row_len(err_rows[i].in, err_rows[i].len),
				       MAX_HEAD, &req, &status);
		if (r != ERR || status != err_rows[i].status)
			fail_msg("row %zu (%s): %s %d, expected ERROR %d", i,
				 err_rows[i].name, result_name(r), status,
				 err_rows[i].status);
	}
}

/* ---- body framing and Connection ---------------------------------------- */

struct framing_row {
	const char *name;
	const char *in;
	size_t len;
	bool has_cl;
	uint64_t cl;
	bool chunked;
};

static const struct framing_row framing_rows[] = {
	{ "no body", S(HDR("Host: a\r\n")), false, 0, false },
	{ "CL 0", S(HDR("Host: a\r\nContent-Length: 0\r\n")), true, 0, false },
	{ "CL 42", S(HDR("Host: a\r\nContent-Length: 42\r\n")),
	  true, 42, false },
	{ "CL leading zeros", S(HDR("Host: a\r\ncontent-length: 007\r\n")),
	  true, 7, false },
	{ "CL 2^63-1", S(HDR("Host: a\r\nContent-Length: "
			     "9223372036854775807\r\n")),
	  true, INT64_MAX, false },
	{ "CL with OWS", S(HDR("Host: a\r\nContent-Length: \t5 \r\n")),
	  true, 5, false },
	{ "CL twice, equal", S(HDR("Host: a\r\nContent-Length: 5\r\n"
				   "Content-Length: 5\r\n")), true, 5, false },
	{ "CL list, equal", S(HDR("Host: a\r\nContent-Length: 5, 5,5\r\n")),
	  true, 5, false },
	{ "TE chunked", S(HDR("Host: a\r\nTransfer-Encoding: chunked\r\n")),
	  false, 0, true },
	{ "TE Chunked", S(HDR("Host: a\r\ntransfer-encoding: CHUNKED\r\n")),
	  false, 0, true },
	{ "TE with empty elements",
	  S(HDR("Host: a\r\nTransfer-Encoding: ,chunked,\r\n")),
	  false, 0, true },
};

static void
test_framing(void **state)
{
	static struct http_request req;
	const struct framing_row *row;
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(framing_rows); i++) {
		row = &framing_rows[i];
		parse_ok(row->in, row->len, &req, i, row->name);
		if (req.has_content_length != row->has_cl ||
		    req.content_length != row->cl)
			fail_msg("row %zu (%s): Content-Length %d %ju, "
				 "expected %d %ju", i, row->name,
				 req.has_content_length,
				 (uintmax_t)req.content_length, row->has_cl,
				 (uintmax_t)row->cl);
		if (req.chunked != row->chunked)
			fail_msg("row %zu (%s): chunked %d", i, row->name,
				 req.chunked);
	}
}

struct keep_alive_row {
	const char *version;
	const char *fields;	/* header lines besides Host */
	bool keep_alive;
};

static void
test_keep_alive(void **state)
{
	static const struct keep_alive_row rows[] = {
		{ "1.1", "", true },
		{ "1.1", "Connection: close\r\n", false },
		{ "1.1", "Connection: CLOSE\r\n", false },
		{ "1.1", "Connection: keep-alive\r\n", true },
		{ "1.1", "Connection: keep-alive, close\r\n", false },
		{ "1.1", "Connection: close,keep-alive\r\n", false },
		{ "1.1", "Connection: Upgrade\r\n", true },
		{ "1.1", "Connection: foo , close \r\n", false },
		{ "1.1", "Connection: closed\r\n", true },
		{ "1.1", "Connection: keep-alive\r\nConnection: close\r\n",
		  false },
		{ "1.0", "", false },
		{ "1.0", "Connection: keep-alive\r\n", true },
		{ "1.0", "Connection: Keep-Alive\r\n", true },
		{ "1.0", "Connection: TE, keep-alive\r\n", true },
		{ "1.0", "Connection: keep-alive, close\r\n", false },
		{ "1.0", "Connection: close\r\nConnection: keep-alive\r\n",
		  false },
		{ "1.0", "Connection: close\r\n", false },
		{ "1.0", "Connection: keep-alives\r\n", false },
	};
	static struct http_request req;
	char buf[512];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		n = snprintf(buf, sizeof(buf), "GET / HTTP/%s\r\nHost: a\r\n"
			     "%s\r\n", rows[i].version, rows[i].fields);
		parse_ok(buf, (size_t)n, &req, i, rows[i].fields);
		if (req.keep_alive != rows[i].keep_alive)
			fail_msg("row %zu (%s, %s): keep_alive %d", i,
				 rows[i].version, rows[i].fields,
				 req.keep_alive);
	}
}

/* ---- field lookup -------------------------------------------------------- */

struct lookup_row {
	const char *name;
	const char *in;
	size_t len;
	const char *field;
	const char *value;	/* NULL: absent */
};

static const struct lookup_row lookup_rows[] = {
	{ "OWS trimmed", S(HDR("Host: a\r\nX-A:   v  \t\r\n")), "X-A", "v" },
	{ "HTAB trimmed", S(HDR("Host: a\r\nX-A:\tv\t\r\n")), "X-A", "v" },
	{ "no OWS", S(HDR("Host: a\r\nX-A:v\r\n")), "X-A", "v" },
	{ "inner OWS kept", S(HDR("Host: a\r\nX-A: a  b\tc \r\n")), "X-A",
	  "a  b\tc" },
	{ "empty value", S(HDR("Host: a\r\nX-A:\r\n")), "X-A", "" },
	{ "blank value", S(HDR("Host: a\r\nX-A: \t \r\n")), "X-A", "" },
	{ "lookup case", S(HDR("Host: a\r\nx-a: v\r\n")), "X-A", "v" },
	{ "name case", S(HDR("Host: a\r\nX-A: v\r\n")), "x-A", "v" },
	{ "first match", S(HDR("Host: a\r\nX-A: 1\r\nx-a: 2\r\n")), "X-A",
	  "1" },
	{ "colon in value", S(HDR("Host: a\r\nX-A: b:c\r\n")), "X-A", "b:c" },
	{ "absent", S(HDR("Host: a\r\nX-A: v\r\n")), "X-B", NULL },
	{ "prefix is not a match", S(HDR("Host: a\r\nX-AB: v\r\n")), "X-A",
	  NULL },
	{ "longer is not a match", S(HDR("Host: a\r\nX: v\r\n")), "X-A", NULL },
	{ "bare LF", S("GET / HTTP/1.1\nHost: a\nX-A: v \n\n"), "X-A", "v" },
};

static void
test_header_lookup(void **state)
{
	static struct http_request req;
	const struct lookup_row *row;
	const struct http_str *v;
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(lookup_rows); i++) {
		row = &lookup_rows[i];
		parse_ok(row->in, row->len, &req, i, row->name);
		v = http_request_header(&req, row->field);
		if (row->value == NULL && v != NULL)
			fail_msg("row %zu (%s): found '%.*s'", i, row->name,
				 (int)v->len, v->p);
		if (row->value != NULL &&
		    (v == NULL || !str_is(*v, row->value)))
			fail_msg("row %zu (%s): '%.*s', expected '%s'", i,
				 row->name, v ? (int)v->len : 6,
				 v ? v->p : "(null)", row->value);
	}
}

struct slice_row {
	const char *name;
	const char *fields;
	size_t offset;		/* of the http_str in the request */
	const char *value;
};

#define SLICE(m)	offsetof(struct http_request, m)

static void
test_slices(void **state)
{
	static const struct slice_row rows[] = {
		{ "If-None-Match", "If-None-Match: \"x\"\r\n",
		  SLICE(if_none_match), "\"x\"" },
		{ "If-Modified-Since", "if-modified-since: Sun, 06 Nov 1994 "
		  "08:49:37 GMT\r\n", SLICE(if_modified_since),
		  "Sun, 06 Nov 1994 08:49:37 GMT" },
		{ "If-Range", "If-Range: \"e\"\r\n", SLICE(if_range), "\"e\"" },
		{ "Range", "RANGE: bytes=0-1\r\n", SLICE(range), "bytes=0-1" },
		{ "Accept-Encoding", "Accept-Encoding: gzip\r\n",
		  SLICE(accept_encoding), "gzip" },
		{ "User-Agent", "User-Agent: curl/8\r\n", SLICE(user_agent),
		  "curl/8" },
		{ "Referer", "Referer: http://r/\r\n", SLICE(referer),
		  "http://r/" },
		{ "first If-None-Match wins", "If-None-Match: \"a\"\r\n"
		  "If-None-Match: \"b\"\r\n", SLICE(if_none_match), "\"a\"" },
		{ "first Range wins", "Range: bytes=1-\r\nRange: bytes=2-\r\n",
		  SLICE(range), "bytes=1-" },
		{ "an empty first Referer is passed over", "Referer:\r\n"
		  "Referer: http://r/\r\n", SLICE(referer), "http://r/" },
		{ "If-Match", "If-Match: \"m\"\r\n", SLICE(if_match), "\"m\"" },
		{ "If-Match and If-Range, both 8 long", "if-range: \"r\"\r\n"
		  "IF-MATCH: \"m\"\r\n", SLICE(if_match), "\"m\"" },
		{ "If-Range beside If-Match", "If-Match: \"m\"\r\n"
		  "If-Range: \"r\"\r\n", SLICE(if_range), "\"r\"" },
		{ "If-Unmodified-Since", "If-Unmodified-Since: Sun, 06 Nov "
		  "1994 08:49:37 GMT\r\n", SLICE(if_unmodified_since),
		  "Sun, 06 Nov 1994 08:49:37 GMT" },
		{ "a name as long as If-Unmodified-Since",
		  "If-Unmodified-Sincx: no\r\n", SLICE(if_unmodified_since), "" },
		{ "a name as long as User-Agent", "X-Agents-1: no\r\n",
		  SLICE(user_agent), "" },
		{ "a name as long as If-Range", "If-Rangx: no\r\n"
		  "if-range: yes\r\n", SLICE(if_range), "yes" },
		{ "absent Range", "X: y\r\n", SLICE(range), "" },
		{ "absent Referer", "", SLICE(referer), "" },
		{ "absent User-Agent", "", SLICE(user_agent), "" },
		{ "absent query", "", SLICE(query), "" },
	};
	static struct http_request req;
	const struct http_str *s;
	char buf[512];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\n"
			     "%s\r\n", rows[i].fields);
		parse_ok(buf, (size_t)n, &req, i, rows[i].name);
		s = (const struct http_str *)((const char *)&req +
					      rows[i].offset);
		/* Absent slices are "" rather than NULL (see request.h). */
		if (!str_is(*s, rows[i].value))
			fail_msg("row %zu (%s): '%.*s' (%p), expected '%s'", i,
				 rows[i].name, (int)s->len, s->p,
				 (const void *)s->p, rows[i].value);
	}
}

/* The table against RFC 9110's definition, byte by byte. */
static void
test_tchar(void **state)
{
	static const char specials[] = "!#$%&'*+-.^_`|~";
	int c;

	(void)state;
	for (c = 0; c < 256; c++) {
		bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
			     (c >= 'a' && c <= 'z');
		bool special = c != 0 && memchr(specials, c,
						 sizeof(specials) - 1) != NULL;

		if (http_is_tchar((unsigned char)c) != (alnum || special))
			fail_msg("byte 0x%02x: tchar %d, RFC 9110 says %d", c,
				 http_is_tchar((unsigned char)c),
				 alnum || special);
	}
}

static void
test_str_eq(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		const char *c;
		bool eq;
	} rows[] = {
		{ S("Host"), "host", true },
		{ S("HOST"), "Host", true },
		{ S("keep-alive"), "KEEP-ALIVE", true },
		{ S(""), "", true },
		{ S("Hos"), "Host", false },
		{ S("Hostx"), "Host", false },
		{ S(""), "a", false },
		{ S("a"), "", false },
		{ S("["), "{", false },		/* not a blind | 0x20 */
		{ S("@"), "`", false },
		{ S("\xc9"), "\xe9", false },	/* ASCII only */
		{ S("a\0b"), "a", false },
	};
	struct http_str s;
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		s.p = rows[i].s;
		s.len = rows[i].len;
		if (http_str_eq(s, rows[i].c) != rows[i].eq)
			fail_msg("row %zu (%s, %s): expected %d", i, rows[i].s,
				 rows[i].c, rows[i].eq);
	}
}

/* ---- limits ------------------------------------------------------------- */

#define LIM_LINE	"GET /aaaa HTTP/1.1\r\n"
#define LIM_HEAD	LIM_LINE "Host: x\r\n\r\n"
#define LIM_LF_HEAD	"GET /aaaa HTTP/1.1\nHost: x\n\n"
#define L		(sizeof(LIM_LINE) - 1)	/* line with CRLF */
#define H		(sizeof(LIM_HEAD) - 1)	/* whole head */

struct limit_row {
	const char *name;
	const char *in;
	size_t len;		/* bytes given, may be a prefix of in */
	size_t max_head;
	enum http_parse_result result;
	int status;		/* -1: left alone */
	size_t head_len;	/* on OK */
};

static const struct limit_row limit_rows[] = {
	{ "head = max", LIM_HEAD, H, H, OK, -1, H },
	{ "head = max + 1", LIM_HEAD, H, H + 1, OK, -1, H },
	{ "head = max - 1, all there", LIM_HEAD, H, H - 1, ERR, 431, 0 },
	{ "head = max, body after", LIM_HEAD "body", H + 4, H, OK, -1, H },
	{ "head = max - 1, body after", LIM_HEAD "body", H + 4, H - 1, ERR,
	  431, 0 },
	{ "head cut, len = max - 1", LIM_HEAD, H - 1, H, INCOMPLETE, -1, 0 },
	{ "head cut, len = max", LIM_HEAD, H - 1, H - 1, ERR, 431, 0 },
	{ "head cut, len = max + 1", LIM_HEAD, H - 1, H - 2, ERR, 431, 0 },
	{ "line = max, no field yet", LIM_HEAD, L, L, ERR, 431, 0 },
	{ "line = max - 1, len < max", LIM_HEAD, L, L + 1, INCOMPLETE, -1, 0 },
	{ "line = max + 1, all there", LIM_HEAD, H, L - 1, ERR, 414, 0 },
	{ "line cut, len = max - 1", LIM_HEAD, L - 1, L, INCOMPLETE, -1, 0 },
	{ "line cut, len = max", LIM_HEAD, L - 1, L - 1, ERR, 414, 0 },
	{ "line = max + 1, len = max + 1", LIM_HEAD, L, L - 1, ERR, 414, 0 },
	{ "bare LF line = max", LIM_LF_HEAD, L - 1, L - 1, ERR, 431, 0 },
	{ "bare LF line = max + 1", LIM_LF_HEAD, L - 1, L - 2, ERR, 414, 0 },
	{ "bare LF head = max", LIM_LF_HEAD, H - 3, H - 3, OK, -1, H - 3 },
	{ "bare LF head = max + 1", LIM_LF_HEAD, H - 3, H - 4, ERR, 431, 0 },
	{ "leading CRLF counted", "\r\n" LIM_HEAD, H + 2, H + 2, OK, -1,
	  H + 2 },
	{ "leading CRLF counted, over", "\r\n" LIM_HEAD, H + 2, H + 1, ERR,
	  431, 0 },
	{ "leading CRLFs push the line out", "\r\n\r\n" LIM_HEAD, H + 4,
	  L + 3, ERR, 414, 0 },
	{ "only empty lines, len = max", "\r\n\r\n\r\n", 6, 6, ERR, 400, 0 },
	{ "empty lines fill most of max", "\r\n\r\n\r\nGET /", 11, 11, ERR,
	  400, 0 },
	{ "empty lines fill less than half", "\r\nGET /aaaa", 11, 11, ERR,
	  414, 0 },
	{ "only empty lines, len < max", "\r\n\r\n\r\n", 6, 7, INCOMPLETE,
	  -1, 0 },
	{ "max_head 0", LIM_HEAD, H, 0, ERR, 414, 0 },
	{ "empty input", "", 0, 10, INCOMPLETE, -1, 0 },
	{ "empty input, max_head 0", "", 0, 0, ERR, 414, 0 },
	{ "bad line within max, head not", "GET  /aaa HTTP/1.1\r\nHost: x\r\n"
	  "\r\n", H, L + 2, ERR, 400, 0 },
	{ "bad field within max, head not", "GET / HTTP/1.1\r\nX : y\r\n", 23,
	  24, ERR, 400, 0 },
	/* A line not yet ended is refused once its method cannot be one. */
	{ "a TLS handshake, no line end", "\x16\x03\x01\x02\x00\x01", 6,
	  8192, ERR, 400, 0 },
	{ "a bad method byte, no line end", "G(T", 3, 8192, ERR, 400, 0 },
	{ "a bad byte after empty lines", "\r\n\x80", 3, 8192, ERR, 400, 0 },
	{ "a method cut short waits", "GE", 2, 8192, INCOMPLETE, -1, 0 },
	{ "a target cut short waits", "GET /\x01", 6, 8192, INCOMPLETE, -1,
	  0 },
	{ "a CR without its LF waits", "\r", 1, 8192, INCOMPLETE, -1, 0 },
	{ "a line ended by a bare CR", "GET /a HTTP/1.1\rHost: x\r\r", 25,
	  8192, ERR, 400, 0 },
	{ "a bare CR inside the target", "GET /a\rb", 8, 8192, ERR, 400, 0 },
	{ "a field ended by a bare CR", "GET / HTTP/1.1\r\nHost: x\r\r", 25,
	  8192, ERR, 400, 0 },
	{ "a field's CR LF still waits", "GET / HTTP/1.1\r\nHost: x\r", 24,
	  8192, INCOMPLETE, -1, 0 },
	{ "CR LF still waits", "GET /a HTTP/1.1\r", 16, 8192, INCOMPLETE, -1,
	  0 },
	/* A few empty lines before the request line, no more. */
	{ "8 empty lines, then a request", "\r\n\r\n\r\n\n\r\n\r\n\r\n\n"
	  "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 41, 8192, OK, -1, 41 },
	{ "9 empty lines", "\r\n\r\n\r\n\n\r\n\r\n\r\n\n\n", 15, 8192, ERR,
	  400, 0 },
	/* A method still coming is refused once it is longer than any. */
	{ "a 32-byte method waits", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 32,
	  8192, INCOMPLETE, -1, 0 },
	{ "a 33-byte method, no space yet", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
	  33, 8192, ERR, 501, 0 },
	{ "a 33-byte method after empty lines", "\r\n\r\n"
	  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", 37, 8192, ERR, 501, 0 },
	/* The same answer when the line came whole. */
	{ "a 33-byte method, line ended", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"
	  "\r\n", 35, 8192, ERR, 501, 0 },
	{ "a 33-byte method, request whole", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"
	  " / HTTP/2.0\r\n\r\n", 48, 8192, ERR, 501, 0 },
	{ "a 32-byte method, request whole", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	  " / HTTP/1.1\r\nHost: a\r\n\r\n", 56, 8192, OK, -1, 56 },
};

static void
test_limits(void **state)
{
	static struct http_request req;
	const struct limit_row *row;
	enum http_parse_result r;
	size_t i;
	int status;

	(void)state;
	for (i = 0; i < NROWS(limit_rows); i++) {
		row = &limit_rows[i];
		status = -1;
		r = http_request_parse(row->in, row->len, row->max_head, &req,
				       &status);
		if (r != row->result || status != row->status)
			fail_msg("row %zu (%s): %s %d, expected %s %d", i,
				 row->name, result_name(r), status,
				 result_name(row->result), row->status);
		if (r == OK && req.head_len != row->head_len)
			fail_msg("row %zu (%s): head_len %zu, expected %zu", i,
				 row->name, req.head_len, row->head_len);
	}
}

/* ---- pipelining ---------------------------------------------------------- */

struct pipeline_row {
	const char *name;
	const char *in;
	size_t len;
	const char *paths;	/* of complete requests, space-separated */
	bool incomplete;	/* the last request is cut short */
};

static const struct pipeline_row pipeline_rows[] = {
	{ "two GETs", S("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
			"GET /b HTTP/1.1\r\nHost: a\r\n\r\n"), "/a /b", false },
	{ "three, bare LF", S("GET /a HTTP/1.1\nHost: a\n\n"
			      "HEAD /b HTTP/1.0\n\n"
			      "GET /c HTTP/1.1\nHost: a\n\n"),
	  "/a /b /c", false },
	{ "POST body between", S("POST /a HTTP/1.1\r\nHost: a\r\n"
				 "Content-Length: 5\r\n\r\nhello"
				 "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"),
	  "/a /b", false },
	{ "body that looks like a request",
	  S("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n"
	    "GET /xy HTTP/1.1\r\n\r\n" "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"),
	  "/a /b", false },
	{ "chunked body between",
	  S("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n0\r\n\r\n" "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"),
	  "/a /b", false },
	{ "CRLF after a body", S("POST /a HTTP/1.1\r\nHost: a\r\n"
				 "Content-Length: 1\r\n\r\nx\r\n"
				 "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"),
	  "/a /b", false },
	{ "second cut short", S("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
				"GET /b HTTP/1.1\r\nHo"), "/a", true },
	{ "second cut at the blank line",
	  S("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n"),
	  "/a", true },
};

/* Length of a chunked body at in[0..len), or len + 1 if it does not end. */
static size_t
chunked_length(const char *in, size_t len)
{
	struct http_chunked c;
	size_t used;

	http_chunked_init(&c);
	if (http_chunked_skip(&c, in, len, &used) != HTTP_CHUNKED_DONE)
		return len + 1;
	return used;
}

static void
test_pipelined(void **state)
{
	static struct http_request req;
	const struct pipeline_row *row;
	enum http_parse_result r;
	char paths[256];
	size_t i, off, n, body = 0;
	int status = -1;

	(void)state;
	for (i = 0; i < NROWS(pipeline_rows); i++) {
		row = &pipeline_rows[i];
		paths[0] = '\0';
		for (off = 0; off < row->len; off += req.head_len + body) {
			r = http_request_parse(row->in + off, row->len - off,
					       MAX_HEAD, &req, &status);
			if (r == INCOMPLETE)
				break;
			if (r != OK)
				fail_msg("row %zu (%s): at %zu: %s %d", i,
					 row->name, off, result_name(r),
					 status);
			n = strlen(paths);
			snprintf(paths + n, sizeof(paths) - n, "%s%.*s",
				 n ? " " : "", (int)req.path.len, req.path.p);
			body = req.content_length;
			if (req.chunked)
				body = chunked_length(row->in + off +
						      req.head_len, row->len -
						      off - req.head_len);
		}
		if (strcmp(paths, row->paths) != 0)
			fail_msg("row %zu (%s): paths '%s', expected '%s'", i,
				 row->name, paths, row->paths);
		if ((off < row->len) != row->incomplete)
			fail_msg("row %zu (%s): stopped at %zu of %zu", i,
				 row->name, off, row->len);
	}
}

/* ---- chunked bodies ----------------------------------------------------- */

struct chunked_row {
	const char *name;
	const char *in;
	size_t len;		/* 0: strlen */
	enum http_chunked_result result;
	size_t consumed;	/* on DONE; 0: all of in */
};

#define NEXT		"GET / HTTP/1.1\r\n"
/* A body followed by the next request, which it must not consume. */
#define CH_DONE(name, body) \
	{ name, body NEXT, sizeof(body NEXT) - 1, HTTP_CHUNKED_DONE, \
	  sizeof(body) - 1 }
#define CH(name, in, result) \
	{ name, in, sizeof(in) - 1, result, sizeof(in) - 1 }

static const struct chunked_row chunked_rows[] = {
	CH_DONE("last-chunk only", "0\r\n\r\n"),
	CH_DONE("one chunk", "5\r\nhello\r\n0\r\n\r\n"),
	CH_DONE("three chunks", "3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n"),
	CH_DONE("upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n"),
	CH_DONE("lower-case hex", "a\r\n0123456789\r\n0\r\n\r\n"),
	CH_DONE("leading zeros", "0005\r\nhello\r\n000\r\n\r\n"),
	CH_DONE("16 hex digits", "0000000000000005\r\nhello\r\n0\r\n\r\n"),
	/* 1*HEXDIG: leading zeros are no overflow (nginx takes them too). */
	CH_DONE("17 hex digits, leading zeros",
		"00000000000000005\r\nhello\r\n0\r\n\r\n"),
	CH_DONE("40 zeros for the last chunk",
		"5\r\nhello\r\n0000000000000000000000000000000000000000\r\n\r\n"),
	CH_DONE("extension", "5;name=value\r\nhello\r\n0;x\r\n\r\n"),
	CH_DONE("extensions with BWS",
		"5 ; a=\"q s\";b\r\nhello\r\n0\t;z\r\n\r\n"),
	CH_DONE("trailer fields", "0\r\nX-T: v\r\nY: z\r\n\r\n"),
	CH_DONE("chunk then trailer", "2\r\nab\r\n0\r\nX: v\r\n\r\n"),
	CH_DONE("data that looks like the end",
		"7\r\n0\r\n\r\nxy\r\n0\r\n\r\n"),
	CH_DONE("binary data", "4\r\n\0\xff\r\x80\r\n0\r\n\r\n"),
	CH_DONE("UTF-8 in trailer", "0\r\nX: \xc3\xa9\r\n\r\n"),
	CH("nothing yet", "", HTTP_CHUNKED_MORE),
	CH("size only", "5", HTTP_CHUNKED_MORE),
	CH("inside data", "5\r\nhel", HTTP_CHUNKED_MORE),
	CH("after data", "5\r\nhello\r\n", HTTP_CHUNKED_MORE),
	CH("after data CR", "5\r\nhello\r", HTTP_CHUNKED_MORE),
	CH("inside extension", "5;abc", HTTP_CHUNKED_MORE),
	CH("after last-chunk", "0\r\n", HTTP_CHUNKED_MORE),
	CH("inside trailer", "0\r\nX: y\r\n", HTTP_CHUNKED_MORE),
	CH("final CR", "0\r\n\r", HTTP_CHUNKED_MORE),
	CH("huge chunk", "ffffffffffffffff\r\nabc", HTTP_CHUNKED_MORE),
	CH("empty size line", "\r\n5\r\nhello\r\n0\r\n\r\n",
	   HTTP_CHUNKED_ERROR),
	CH("not hex", "x\r\n", HTTP_CHUNKED_ERROR),
	CH("hex then junk", "5g\r\nhello\r\n", HTTP_CHUNKED_ERROR),
	CH("0x prefix", "0x5\r\nhello\r\n", HTTP_CHUNKED_ERROR),
	CH("negative", "-5\r\n", HTTP_CHUNKED_ERROR),
	CH("plus sign", "+5\r\n", HTTP_CHUNKED_ERROR),
	CH("leading SP", " 5\r\n", HTTP_CHUNKED_ERROR),
	CH("17 significant hex digits", "10000000000000005\r\nhello\r\n",
	   HTTP_CHUNKED_ERROR),
	CH("2^64", "10000000000000000\r\n", HTTP_CHUNKED_ERROR),
	CH("bare CR after size", "5\rhello\r\n", HTTP_CHUNKED_ERROR),
	CH("bare CR in extension", "5;e\rx\nhello\r\n", HTTP_CHUNKED_ERROR),
	CH("CTL in extension", "5;a\x01\r\nhello\r\n", HTTP_CHUNKED_ERROR),
	CH("no line end after data", "5\r\nhelloX\r\n", HTTP_CHUNKED_ERROR),
	CH("data longer than size", "5\r\nhelloo\r\n0\r\n\r\n",
	   HTTP_CHUNKED_ERROR),
	CH("CR then junk after data", "5\r\nhello\rX", HTTP_CHUNKED_ERROR),
	CH("CR CR after data", "5\r\nhello\r\r\n", HTTP_CHUNKED_ERROR),
	CH("CTL in trailer", "0\r\nX: \x01\r\n\r\n", HTTP_CHUNKED_ERROR),
	CH("bare CR in trailer", "0\r\nX: y\rZ\r\n\r\n", HTTP_CHUNKED_ERROR),
	CH("final CR then junk", "0\r\n\rX", HTTP_CHUNKED_ERROR),
	/* Bare LF ends no line of the framing (smuggling through a proxy). */
	CH("bare LF after size", "5\nhello\r\n", HTTP_CHUNKED_ERROR),
	CH("bare LF after last-chunk", "0\n\r\n", HTTP_CHUNKED_ERROR),
	CH("bare LF after data", "5\r\nhello\n0\r\n\r\n",
	   HTTP_CHUNKED_ERROR),
	CH("bare LF ends extension", "5;e\nhello\r\n", HTTP_CHUNKED_ERROR),
	CH("bare LF ends trailer field", "0\r\nX: v\n\r\n",
	   HTTP_CHUNKED_ERROR),
	CH("bare LF ends body", "0\r\n\n", HTTP_CHUNKED_ERROR),
	CH("bare LF ends body after trailer", "0\r\nX: v\r\n\n",
	   HTTP_CHUNKED_ERROR),
	/* chunk-ext = *( BWS ";" ... ): whitespace must lead to a ";". */
	CH("SP then no extension", "5 \r\nhello\r\n", HTTP_CHUNKED_ERROR),
	CH("SP then a word", "5 xyz\r\nhello\r\n", HTTP_CHUNKED_ERROR),
	CH("tab then a digit", "5\t5\r\nhello\r\n", HTTP_CHUNKED_ERROR),
	{ "extension line at the limit", ext_max, 0, HTTP_CHUNKED_DONE, 0 },
	{ "extension line over the limit", ext_long, 0, HTTP_CHUNKED_ERROR, 0 },
	{ "whitespace after the size at the limit", bws_max, 0,
	  HTTP_CHUNKED_DONE, 0 },
	{ "whitespace after the size over the limit", bws_long, 0,
	  HTTP_CHUNKED_ERROR, 0 },
	{ "trailer line at the limit", trailer_max, 0, HTTP_CHUNKED_DONE, 0 },
	{ "trailer line over the limit", trailer_long, 0, HTTP_CHUNKED_ERROR,
	  0 },
};

/*
 * Feeds in[0..len) as a first piece of first bytes, then pieces of step
 * bytes.  Returns the result; *total is the bytes consumed in all.
 */
static enum http_chunked_result
feed(const char *in, size_t len, size_t first, size_t step, size_t *total,
     size_t row, const char *name)
{
	struct http_chunked c;
	enum http_chunked_result r;
	size_t off = 0, n = first, used;

	http_chunked_init(&c);
	for (;;) {
		if (n > len - off)
			n = len - off;
		r = http_chunked_skip(&c, in + off, n, &used);
		*total = off + used;
		if (r != HTTP_CHUNKED_MORE)
			return r;
		if (used != n)
			fail_msg("row %zu (%s): MORE consumed %zu of %zu at "
				 "%zu", row, name, used, n, off);
		if ((off += n) == len)
			return r;
		n = step;
	}
}

static void
check_feed(const struct chunked_row *row, size_t i, size_t first, size_t step)
{
	enum http_chunked_result r;
	size_t len = row_len(row->in, row->len), total;
	size_t want = row->consumed ? row->consumed : len;

	r = feed(row->in, len, first, step, &total, i, row->name);
	if (r != row->result)
		fail_msg("row %zu (%s): pieces %zu then %zu: result %d, "
			 "expected %d", i, row->name, first, step, r,
			 row->result);
	if (r != HTTP_CHUNKED_ERROR && total != want)
		fail_msg("row %zu (%s): pieces %zu then %zu: consumed %zu, "
			 "expected %zu", i, row->name, first, step, total,
			 want);
}

/* Whole, byte by byte, in small steps, and cut in two at every offset. */
static void
test_chunked(void **state)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64 };
	size_t i, k, len;

	(void)state;
	for (i = 0; i < NROWS(chunked_rows); i++) {
		len = row_len(chunked_rows[i].in, chunked_rows[i].len);
		check_feed(&chunked_rows[i], i, len, 1);
		check_feed(&chunked_rows[i], i, 0, 1);
		for (k = 0; k < NROWS(steps); k++)
			check_feed(&chunked_rows[i], i, steps[k], steps[k]);
		for (k = 0; k <= len; k++)
			check_feed(&chunked_rows[i], i, k, len);
	}
}

/* Once the body ended (or failed), the decoder stays there. */
static void
test_chunked_after_end(void **state)
{
	static const struct {
		const char *body;
		enum http_chunked_result result;
	} rows[] = {
		{ "0\r\n\r\n", HTTP_CHUNKED_DONE },
		{ "1\r\nab", HTTP_CHUNKED_ERROR },
		{ "z", HTTP_CHUNKED_ERROR },
	};
	struct http_chunked c;
	enum http_chunked_result r;
	size_t i, used;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		http_chunked_init(&c);
		(void)http_chunked_skip(&c, rows[i].body, strlen(rows[i].body),
					&used);
		r = http_chunked_skip(&c, "5\r\nhello", 8, &used);
		if (r != rows[i].result || used != 0)
			fail_msg("row %zu (%s): %d, consumed %zu", i,
				 rows[i].body, r, used);
	}
}

/* The data a body limit counts: chunk-data only, in any pieces. */
static void
test_chunked_data_count(void **state)
{
	static const char body[] = "5\r\nhello\r\n3;x=y\r\nabc\r\n"
				   "00000000000000000010\r\n0123456789abcdef\r\n"
				   "0\r\nT: v\r\n\r\n";
	struct http_chunked c;
	size_t used;

	(void)state;
	for (size_t step = 1; step <= sizeof(body) - 1; step++) {
		enum http_chunked_result r = HTTP_CHUNKED_MORE;

		http_chunked_init(&c);
		for (size_t off = 0; off < sizeof(body) - 1 &&
		     r == HTTP_CHUNKED_MORE; off += step) {
			size_t n = sizeof(body) - 1 - off < step ?
				   sizeof(body) - 1 - off : step;

			r = http_chunked_skip(&c, body + off, n, &used);
		}
		if (r != HTTP_CHUNKED_DONE || c.data != 24)
			fail_msg("pieces of %zu: result %d, data %llu, "
				 "expected 24", step, r,
				 (unsigned long long)c.data);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_prefixes),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_header_lookup),
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_tchar),
		cmocka_unit_test(test_str_eq),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_after_end),
		cmocka_unit_test(test_chunked_data_count),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

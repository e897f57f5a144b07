/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/1.x request heads (RFC 9112, RFC 9110) and chunked bodies, parsed
 * in the caller's buffer: no allocation, no system calls.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/request.h"

#define EMPTY	{ "", 0 }

/*
 * Absent slices point at "" rather than NULL, so that callers may print
 * or compare them without a check.
 */
static const struct http_request blank_request = {
	.method_name = EMPTY, .target = EMPTY, .path = EMPTY, .query = EMPTY,
	.host = EMPTY, .if_match = EMPTY, .if_none_match = EMPTY,
	.if_modified_since = EMPTY, .if_unmodified_since = EMPTY,
	.if_range = EMPTY, .range = EMPTY, .accept_encoding = EMPTY,
	.user_agent = EMPTY, .referer = EMPTY,
};

static const struct {
	const char *name;
	enum http_method method;
} methods[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
	{ "PUT", HTTP_PUT }, { "DELETE", HTTP_DELETE },
	{ "OPTIONS", HTTP_OPTIONS }, { "PATCH", HTTP_PATCH },
	{ "TRACE", HTTP_TRACE }, { "CONNECT", HTTP_CONNECT },
};

/* ---- characters and slices ---------------------------------------------- */

/* ASCII only: tolower() would depend on the locale. */
static int
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * A table, not comparisons and a strchr(): every byte of a method and of
 * each header name goes through it.
 */
const bool http_tchar[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
	['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true,
	['\''] = true, ['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true,
	['^'] = true, ['_'] = true, ['`'] = true, ['|'] = true, ['~'] = true,
};

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static struct http_str
slice(const char *p, size_t len)
{
	struct http_str s = { p, len };

	return s;
}

static struct http_str
trim_ows(struct http_str s)
{
	while (s.len > 0 && is_ows(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && is_ows(s.p[s.len - 1]))
		s.len--;
	return s;
}

static bool
is_token(struct http_str s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (!http_is_tchar((unsigned char)s.p[i]))
			return false;
	return s.len > 0;
}

static bool
has_prefix(struct http_str s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s.len >= n && http_str_eq(slice(s.p, n), prefix);
}

bool
http_str_eq(struct http_str s, const char *c)
{
	size_t i;

	/* Names come mostly in the case we spell them: equal bytes first. */
	for (i = 0; i < s.len; i++)
		if (c[i] == '\0' ||
		    (s.p[i] != c[i] && lower(s.p[i]) != lower(c[i])))
			return false;
	return c[s.len] == '\0';
}

bool
http_header_next(const struct http_request *req, const char *name,
		 size_t *pos, struct http_str *value)
{
	for (; *pos < req->nheaders; (*pos)++)
		if (http_str_eq(req->headers[*pos].name, name)) {
			*value = req->headers[(*pos)++].value;
			return true;
		}
	return false;
}

/*
 * Pops the next element of a comma-separated list (RFC 9110 section 5.6.1)
 * into elem, trimmed of OWS.  Empty elements are returned too: callers
 * decide whether they are allowed.  rest->p == NULL marks the end.
 */
static bool
next_element(struct http_str *rest, struct http_str *elem)
{
	const char *comma;
	size_t n;

	if (rest->p == NULL)
		return false;
	if ((comma = memchr(rest->p, ',', rest->len)) == NULL) {
		*elem = trim_ows(*rest);
		rest->p = NULL;
		return true;
	}
	n = (size_t)(comma - rest->p);
	*elem = trim_ows(slice(rest->p, n));
	*rest = slice(comma + 1, rest->len - n - 1);
	return true;
}

/* ---- the request line --------------------------------------------------- */

/*
 * Finds the line starting at pos within buf[0..lim): its content without
 * CRLF or bare LF (RFC 9112 section 2.2) and where the next one starts.
 * A CR left inside the content is a CTL, refused by whoever reads it.
 */
static bool
find_line(const char *buf, size_t lim, size_t pos, struct http_str *line,
	  size_t *next)
{
	const char *lf;
	size_t n;

	if ((lf = memchr(buf + pos, '\n', lim - pos)) == NULL)
		return false;
	n = (size_t)(lf - buf) - pos;
	if (n > 0 && lf[-1] == '\r')
		n--;
	*line = slice(buf + pos, n);
	*next = (size_t)(lf - buf) + 1;
	return true;
}

static enum http_method
lookup_method(struct http_str name)
{
	size_t i;

	/* Methods are case-sensitive (RFC 9110 section 9.1). */
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == name.len &&
		    memcmp(methods[i].name, name.p, name.len) == 0)
			return methods[i].method;
	return HTTP_METHOD_UNKNOWN;
}

/* HTTP/DIGIT.DIGIT; any 1.x after 1.0 is served as 1.1 (RFC 9110 6.2). */
static int
parse_version(struct http_str v, struct http_request *req)
{
	if (v.len != 8 || memcmp(v.p, "HTTP/", 5) != 0 ||
	    v.p[5] < '0' || v.p[5] > '9' || v.p[6] != '.' ||
	    v.p[7] < '0' || v.p[7] > '9')
		return 400;
	if (v.p[5] != '1')
		return 505;
	req->major = 1;
	req->minor = v.p[7] == '0' ? 0 : 1;
	return 0;
}

/* unreserved / sub-delims (RFC 3986 section 2): what a host name holds. */
static bool
host_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z') ||
	       (c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL);
}

static bool
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
	       (c >= 'a' && c <= 'f');
}

/*
 * Host chars of h from *i up to stop (or the end), "%XX" and,
 * if colons, ':' (an IP literal) included.  Returns the count, or -1 at a
 * byte that may not be there.
 */
static long
host_part(struct http_str h, size_t *i, char stop, bool colons)
{
	size_t start = *i;

	while (*i < h.len && h.p[*i] != stop) {
		unsigned char c = (unsigned char)h.p[*i];

		if (c == '%' && *i + 2 < h.len && is_hex(h.p[*i + 1]) &&
		    is_hex(h.p[*i + 2]))
			*i += 3;
		else if (host_char(c) || (colons && c == ':'))
			(*i)++;
		else
			return -1;
	}
	return (long)(*i - start);
}

/*
 * The authority of absolute-form or the Host field (RFC 9112 section 3.2,
 * RFC 3986 section 3.2.2): uri-host [":" port], the host a name, an IPv4
 * address or a bracketed IP literal, not empty; no userinfo, no '/'.
 */
static bool
valid_host(struct http_str h)
{
	size_t i = 0;

	if (h.len > 0 && h.p[0] == '[') {
		i = 1;
		if (host_part(h, &i, ']', true) <= 0 || i == h.len)
			return false;
		i++;
	} else if (host_part(h, &i, ':', false) <= 0) {
		return false;
	}
	if (i == h.len)
		return true;
	if (h.p[i++] != ':')
		return false;
	for (; i < h.len; i++)
		if (h.p[i] < '0' || h.p[i] > '9')
			return false;
	return true;
}

/* path?query; an empty path (absolute-form only) is read as "/". */
static void
split_path(struct http_request *req, struct http_str s)
{
	const char *q = memchr(s.p, '?', s.len);

	if (q != NULL) {
		req->has_query = true;
		req->query = slice(q + 1, s.len - (size_t)(q - s.p) - 1);
		s.len = (size_t)(q - s.p);
	}
	req->path = s.len > 0 ? s : slice("/", 1);
}

/* rest is what follows "http://" or "https://": authority path-abempty. */
static int
parse_absolute(struct http_request *req, struct http_str rest)
{
	size_t n = 0;

	while (n < rest.len && rest.p[n] != '/' && rest.p[n] != '?')
		n++;
	req->host = slice(rest.p, n);
	if (!valid_host(req->host))
		return 400;
	split_path(req, slice(rest.p + n, rest.len - n));
	return 0;
}

/* The four forms of request-target, RFC 9112 section 3.2. */
static int
parse_target(struct http_request *req)
{
	struct http_str t = req->target;

	if (t.p[0] == '/') {
		split_path(req, t);
		return 0;
	}
	if (t.len == 1 && t.p[0] == '*') {
		if (req->method != HTTP_OPTIONS)
			return 400;
		req->path = t;
		return 0;
	}
	if (has_prefix(t, "http://"))
		return parse_absolute(req, slice(t.p + 7, t.len - 7));
	if (has_prefix(t, "https://"))
		return parse_absolute(req, slice(t.p + 8, t.len - 8));
	/* authority-form: parsed, path empty, for the caller to answer 405. */
	if (req->method == HTTP_CONNECT)
		return 0;
	return 400;
}

/* method SP request-target SP HTTP-version, exactly one SP each. */
static int
parse_request_line(struct http_str line, struct http_request *req)
{
	const char *sp1, *sp2, *end = line.p + line.len;
	size_t i;
	int rc;

	sp1 = memchr(line.p, ' ', line.len);
	/*
	 * As request_line_pending() answers it, whole or in pieces; only a
	 * long first word pays for the check.
	 */
	if ((sp1 != NULL ? (size_t)(sp1 - line.p) : line.len) >
	    HTTP_METHOD_MAX && is_token(slice(line.p, HTTP_METHOD_MAX + 1)))
		return 501;
	if (sp1 == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL)
		return 400;
	req->method_name = slice(line.p, (size_t)(sp1 - line.p));
	req->target = slice(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	if (!is_token(req->method_name) || req->target.len == 0)
		return 400;
	/* A fragment is the client's own: never in a request (3.2). */
	for (i = 0; i < req->target.len; i++)
		if (is_ctl(req->target.p[i]) || req->target.p[i] == '#')
			return 400;
	if ((rc = parse_version(slice(sp2 + 1, (size_t)(end - sp2 - 1)),
				req)) != 0)
		return rc;
	req->method = lookup_method(req->method_name);
	return parse_target(req);
}

/* ---- header fields ------------------------------------------------------ */

/*
 * field-name ":" OWS field-value OWS.  A line starting with whitespace is
 * obs-fold (RFC 9112 section 5.2) or whitespace after the request line
 * (section 2.2), whitespace before ':' is forbidden (section 5.1): all
 * three come out as an empty or unterminated name here.
 */
static int
parse_header_line(struct http_str line, struct http_header *h)
{
	size_t i = 0;

	while (i < line.len && http_is_tchar((unsigned char)line.p[i]))
		i++;
	if (i == 0 || i == line.len || line.p[i] != ':')
		return 400;
	h->name = slice(line.p, i);
	h->value = trim_ows(slice(line.p + i + 1, line.len - i - 1));
	for (i = 0; i < h->value.len; i++)
		if (is_ctl(h->value.p[i]) && h->value.p[i] != '\t')
			return 400;
	return 0;
}

/* 1*DIGIT, at most 2^63 - 1 so that it fits an off_t. */
static bool
parse_decimal(struct http_str s, uint64_t *out)
{
	uint64_t v = 0, d;
	size_t i;

	for (i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		d = (uint64_t)(s.p[i] - '0');
		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return s.len > 0;
}

/*
 * Content-Length, possibly repeated or a list: RFC 9110 section 8.6 lets
 * identical values stand for one; anything else could smuggle a request.
 */
static int
read_content_length(struct http_request *req, struct http_str value)
{
	struct http_str elem;
	uint64_t v;

	while (next_element(&value, &elem)) {
		if (!parse_decimal(elem, &v))
			return 400;
		if (req->has_content_length && v != req->content_length)
			return 400;
		req->has_content_length = true;
		req->content_length = v;
	}
	return 0;
}

/*
 * Transfer-Encoding, all fields read as one list: chunked must come last
 * and only once (RFC 9112 section 6.1), or the body has no known end.
 * *last_chunked tells whether the last coding so far is chunked.
 */
static int
read_transfer_encoding(struct http_str value, bool *last_chunked,
		       bool *unknown)
{
	struct http_str elem;

	while (next_element(&value, &elem)) {
		if (elem.len == 0)
			continue;
		if (*last_chunked)
			return 400;
		*last_chunked = http_str_eq(elem, "chunked");
		*unknown |= !*last_chunked;
	}
	return 0;
}

/* Connection options; close wins over keep-alive whatever the order. */
static void
read_connection(struct http_str value, bool *conn_close, bool *conn_keep)
{
	struct http_str elem;

	while (next_element(&value, &elem)) {
		if (http_str_eq(elem, "close"))
			*conn_close = true;
		else if (http_str_eq(elem, "keep-alive"))
			*conn_keep = true;
	}
}

/* A header name is one of ours: the length first, it differs mostly. */
#define NAME_IS(s, lit) ((s).len == sizeof(lit) - 1 && http_str_eq((s), (lit)))

/*
 * Where the handler wants the value of a header called name, the first
 * (non-empty) of that name; NULL if not wanted or already had.  Looked up by the
 * name's length, so each header is compared with two names at most.
 */
static struct http_str *
wanted_value(struct http_request *req, struct http_str name, uint64_t *seen)
{
#define WANTED(field) offsetof(struct http_request, field)
	static const struct {
		const char *name;
		size_t offset;
	} by_len[20][2] = {
		[5] = { { "Range", WANTED(range) } },
		[7] = { { "Referer", WANTED(referer) } },
		[8] = { { "If-Range", WANTED(if_range) },
			{ "If-Match", WANTED(if_match) } },
		[10] = { { "User-Agent", WANTED(user_agent) } },
		[13] = { { "If-None-Match", WANTED(if_none_match) } },
		[15] = { { "Accept-Encoding", WANTED(accept_encoding) } },
		[17] = { { "If-Modified-Since", WANTED(if_modified_since) } },
		[19] = { { "If-Unmodified-Since",
			   WANTED(if_unmodified_since) } },
	};
#undef WANTED

	if (name.len >= 20)
		return NULL;
	for (unsigned k = 0; k < 2 && by_len[name.len][k].name != NULL; k++) {
		uint64_t bit = 1ull << (name.len * 2 + k);

		if (!http_str_eq(name, by_len[name.len][k].name))
			continue;
		if (*seen & bit)
			return NULL;
		*seen |= bit;
		return (struct http_str *)(void *)((char *)req +
						   by_len[name.len][k].offset);
	}
	return NULL;
}

/*
 * Host (RFC 9112 section 3.2: exactly one in 1.1, at most one in 1.0),
 * framing and connection headers, and the slices the handler reads, in
 * one pass.  A bad Host is answered before a bad framing header.
 */
static int
interpret_headers(struct http_request *req)
{
	const struct http_header *h;
	const struct http_str *host = NULL;
	bool te = false, chunked = false, conn_close = false, conn_keep = false;
	bool bad_host = false, unknown_coding = false;
	uint64_t seen = 0;
	int rc = 0;

	for (h = req->headers; h < req->headers + req->nheaders; h++) {
		struct http_str *want;

		if (NAME_IS(h->name, "Host")) {
			bad_host |= host != NULL || !valid_host(h->value);
			host = &h->value;
		} else if (rc != 0) {
			continue;	/* the first framing error stands */
		} else if (NAME_IS(h->name, "Content-Length")) {
			rc = read_content_length(req, h->value);
		} else if (NAME_IS(h->name, "Transfer-Encoding")) {
			te = true;
			rc = read_transfer_encoding(h->value, &chunked,
						    &unknown_coding);
		} else if (NAME_IS(h->name, "Connection")) {
			read_connection(h->value, &conn_close, &conn_keep);
		} else if (h->value.len > 0 &&
			   (want = wanted_value(req, h->name, &seen)) != NULL) {
			*want = h->value;
		}
	}
	if (bad_host || (host == NULL && req->minor >= 1))
		return 400;
	/* An absolute-form authority, already in host, wins (3.2.2). */
	if (host != NULL && req->host.len == 0)
		req->host = *host;
	if (rc != 0)
		return rc;
	/* RFC 9112 sections 6.1 and 6.3: no other framing is safe. */
	if (te && (req->has_content_length || req->minor == 0 || !chunked))
		return 400;
	/* Framed, but by codings we cannot undo: section 6.1 says 501. */
	if (unknown_coding)
		return 501;
	req->chunked = chunked;
	req->keep_alive = !conn_close && (req->minor >= 1 || conn_keep);
	return 0;
}

/* ---- the head ----------------------------------------------------------- */

static enum http_parse_result
fail(int code, int *status)
{
	*status = code;
	return HTTP_PARSE_ERROR;
}

/* No line end in sight: wait, unless max_head bytes are already there. */
static enum http_parse_result
need_more(size_t len, size_t max_head, int code, int *status)
{
	if (len >= max_head)
		return fail(code, status);
	return HTTP_PARSE_INCOMPLETE;
}

/*
 * A bare CR in a line still being received (RFC 9112 section 2.2): no LF
 * will end that line, so waiting for one would hold the worker until
 * header-timeout.
 */
static bool
bare_cr_pending(const char *buf, size_t pos, size_t lim)
{
	const char *cr;

	while ((cr = memchr(buf + pos, '\r', lim - pos)) != NULL) {
		pos = (size_t)(cr - buf) + 1;
		if (pos < lim && buf[pos] != '\n')
			return true;
	}
	return false;
}

/*
 * A request line still being received: a byte that no method may hold
 * before its first space (a TLS handshake, binary noise) is a 400 now,
 * not a worker held until header-timeout.
 */
static enum http_parse_result
request_line_pending(const char *buf, size_t pos, size_t lim, size_t len,
		     size_t max_head, int *status)
{
	for (size_t i = pos; i < lim && buf[i] != ' ' && buf[i] != '\r'; i++) {
		if (!http_is_tchar((unsigned char)buf[i]))
			return fail(400, status);
		/* Longer than any method served (RFC 9112 section 3). */
		if (i - pos == HTTP_METHOD_MAX)
			return fail(501, status);
	}
	if (bare_cr_pending(buf, pos, lim))
		return fail(400, status);
	/*
	 * Too long: 414, unless it was mostly empty lines that filled the
	 * head, which is no long target but a malformed stream (with a
	 * head of a few bytes only: more than a few empty lines are a 400
	 * already).
	 */
	return need_more(len, max_head, pos > lim - pos ? 400 : 414, status);
}

enum http_parse_result
http_request_parse(const char *buf, size_t len, size_t max_head,
		   struct http_request *req, int *status)
{
	/* Lines are only looked for in the first max_head bytes. */
	size_t lim = len < max_head ? len : max_head;
	size_t pos = 0, next;
	struct http_str line;
	size_t empty = 0;
	int rc;

	/*
	 * All but the header array (3 KiB, read only as far as nheaders
	 * says): copying it was a fifth of a small request's instructions.
	 */
	memcpy(req, &blank_request, offsetof(struct http_request, headers));
	memcpy(&req->keep_alive, &blank_request.keep_alive,
	       sizeof(*req) - offsetof(struct http_request, keep_alive));
	/*
	 * Empty lines before the request line are skipped (RFC 9112 2.2),
	 * a few of them: a client that sends more sends no request.
	 */
	for (;;) {
		if (!find_line(buf, lim, pos, &line, &next))
			return request_line_pending(buf, pos, lim, len,
						    max_head, status);
		pos = next;
		if (line.len > 0)
			break;
		if (++empty > HTTP_EMPTY_LINES_MAX)
			return fail(400, status);
	}
	if ((rc = parse_request_line(line, req)) != 0)
		return fail(rc, status);

	for (;;) {
		if (!find_line(buf, lim, pos, &line, &next))
			return bare_cr_pending(buf, pos, lim) ? fail(400, status) :
			       need_more(len, max_head, 431, status);
		pos = next;
		if (line.len == 0)
			break;
		if (req->nheaders == HTTP_MAX_HEADERS)
			return fail(431, status);
		rc = parse_header_line(line, &req->headers[req->nheaders++]);
		if (rc != 0)
			return fail(rc, status);
	}
	req->head_len = pos;
	if ((rc = interpret_headers(req)) != 0)
		return fail(rc, status);
	return HTTP_PARSE_OK;
}

const struct http_str *
http_request_header(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (http_str_eq(req->headers[i].name, name))
			return &req->headers[i].value;
	return NULL;
}

/* ---- chunked bodies ----------------------------------------------------- */

enum chunked_state {
	CH_SIZE,		/* hex digits of chunk-size */
	CH_BWS,			/* whitespace after chunk-size: ";" must come */
	CH_EXT,			/* chunk-ext, skipped to the line end */
	CH_SIZE_LF,		/* CR after the size line: LF must follow */
	CH_DATA,		/* remaining bytes of chunk-data */
	CH_DATA_CR,		/* after chunk-data: CRLF */
	CH_DATA_LF,
	CH_TRAILER,		/* start of a trailer field or of the end */
	CH_TRAILER_LINE,	/* a trailer field, skipped to the line end */
	CH_TRAILER_LF,
	CH_END_LF,		/* CR of the last line: LF must follow */
	CH_DONE,
	CH_ERROR,
};

void
http_chunked_init(struct http_chunked *c)
{
	c->state = CH_SIZE;
	c->remaining = 0;
	c->line_len = 0;
	c->data = 0;
}

static int
hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (lower(ch) >= 'a' && lower(ch) <= 'f')
		return lower(ch) - 'a' + 10;
	return -1;
}

/* The size line ended: data follows, or the trailer after last-chunk. */
static int
size_line_done(struct http_chunked *c)
{
	c->line_len = 0;
	return c->remaining > 0 ? CH_DATA : CH_TRAILER;
}

/* One more byte of a skipped line (chunk-ext, trailer field). */
static int
skip_line_byte(struct http_chunked *c, unsigned char ch, int state, int cr)
{
	if (ch == '\r')
		return cr;
	if (is_ctl(ch) && ch != '\t')
		return CH_ERROR;
	if (++c->line_len > HTTP_CHUNKED_LINE_MAX)
		return CH_ERROR;
	return state;
}

/*
 * chunk-ext = *( BWS ";" ... ): whitespace leads only to a ";".  Neither
 * is a CR, so the CR state given to skip_line_byte() is never taken: it
 * only counts the byte against the line limit.
 */
static int
after_size_byte(struct http_chunked *c, unsigned char ch)
{
	if (ch == ';')
		return skip_line_byte(c, ch, CH_EXT, CH_SIZE_LF);
	if (is_ows(ch))
		return skip_line_byte(c, ch, CH_BWS, CH_ERROR);
	return CH_ERROR;
}

static int
size_byte(struct http_chunked *c, unsigned char ch)
{
	int v = hex_value(ch);

	if (v >= 0) {
		/*
		 * A value past 16 significant hex digits would overflow;
		 * leading zeros are valid (1*HEXDIG), up to the line limit.
		 */
		if (c->remaining >> 60 != 0 ||
		    ++c->line_len > HTTP_CHUNKED_LINE_MAX)
			return CH_ERROR;
		c->remaining = c->remaining << 4 | (uint64_t)v;
		return CH_SIZE;
	}
	if (c->line_len == 0)
		return CH_ERROR;
	if (ch == '\r')
		return CH_SIZE_LF;
	return after_size_byte(c, ch);
}

/*
 * Every state but CH_DATA, one byte at a time.  Every line of the
 * framing ends in CRLF: unlike a head's lines (RFC 9112 section 2.2),
 * a bare LF is an error, so that a proxy in front that reads a bare LF
 * as part of a chunk-ext or a trailer never sees a different body end
 * than the worker (request smuggling).
 */
static int
chunked_byte(struct http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case CH_SIZE:
		return size_byte(c, ch);
	case CH_BWS:
		return after_size_byte(c, ch);
	case CH_EXT:
		return skip_line_byte(c, ch, CH_EXT, CH_SIZE_LF);
	case CH_SIZE_LF:
		return ch == '\n' ? size_line_done(c) : CH_ERROR;
	case CH_DATA_CR:
		return ch == '\r' ? CH_DATA_LF : CH_ERROR;
	case CH_DATA_LF:
		return ch == '\n' ? CH_SIZE : CH_ERROR;
	case CH_TRAILER:
		if (ch == '\r')
			return CH_END_LF;
		return skip_line_byte(c, ch, CH_TRAILER_LINE, CH_TRAILER_LF);
	case CH_TRAILER_LINE:
		return skip_line_byte(c, ch, CH_TRAILER_LINE, CH_TRAILER_LF);
	case CH_TRAILER_LF:
		c->line_len = 0;
		return ch == '\n' ? CH_TRAILER : CH_ERROR;
	case CH_END_LF:
		return ch == '\n' ? CH_DONE : CH_ERROR;
	}
	return CH_ERROR;
}

enum http_chunked_result
http_chunked_skip(struct http_chunked *c, const char *buf, size_t len,
		  size_t *consumed)
{
	size_t i = 0, n;

	while (i < len && c->state != CH_DONE && c->state != CH_ERROR) {
		if (c->state != CH_DATA) {
			c->state = chunked_byte(c, buf[i++]);
			continue;
		}
		/* Chunk data is skipped whole, not looked at. */
		n = len - i < c->remaining ? len - i : (size_t)c->remaining;
		i += n;
		c->data += n;
		if ((c->remaining -= n) == 0)
			c->state = CH_DATA_CR;
	}
	*consumed = i;
	if (c->state == CH_DONE)
		return HTTP_CHUNKED_DONE;
	if (c->state == CH_ERROR)
		return HTTP_CHUNKED_ERROR;
	return HTTP_CHUNKED_MORE;
}

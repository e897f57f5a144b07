/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for src/http/request.c: arbitrary bytes as a request
 * head (under several max_head values) and as a chunked body (in pieces of
 * random sizes).  Any broken invariant aborts.
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -I src -I <dir with
 *     config.h> src/http/request.c tests/fuzz/fuzz_request.c -o fuzz_request
 * ./fuzz_request -max_total_time=60 -max_len=4096 tests/fuzz/corpus/request
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"
#include "fuzz.h"

static const char *const method_names[] = {
	[HTTP_GET] = "GET", [HTTP_HEAD] = "HEAD", [HTTP_POST] = "POST",
	[HTTP_PUT] = "PUT", [HTTP_DELETE] = "DELETE",
	[HTTP_OPTIONS] = "OPTIONS", [HTTP_PATCH] = "PATCH",
	[HTTP_TRACE] = "TRACE", [HTTP_CONNECT] = "CONNECT",
};

/* s lies within buf[0..len) (an empty slice may point anywhere). */
static bool
inside(struct http_str s, const char *buf, size_t len)
{
	uintptr_t p = (uintptr_t)s.p, b = (uintptr_t)buf;

	if (s.p == NULL)
		return false;
	return s.len == 0 || (p >= b && p - b <= len && s.len <= len - (p - b));
}

static bool
slice_is(struct http_str s, const char *c)
{
	return s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

static void
check_path(const struct http_request *req, const char *buf, size_t head)
{
	if (req->path.len == 0) {
		/* CONNECT's authority-form only. */
		CHECK(req->method == HTTP_CONNECT);
		return;
	}
	if (slice_is(req->path, "*")) {
		CHECK(req->method == HTTP_OPTIONS);
		CHECK(inside(req->path, buf, head));
		return;
	}
	CHECK(req->path.p[0] == '/');
	/* The static "/" of an absolute-form target with an empty path. */
	CHECK(inside(req->path, buf, head) || slice_is(req->path, "/"));
}

static void
check_ok(const struct http_request *req, const char *buf, size_t len,
	 size_t max_head)
{
	const struct http_str *slices[] = {
		&req->if_none_match, &req->if_modified_since, &req->if_range,
		&req->range, &req->accept_encoding, &req->user_agent,
		&req->referer,
	};
	size_t i, head = req->head_len;

	CHECK(head > 0 && head <= len && head <= max_head);
	CHECK(req->major == 1 && (req->minor == 0 || req->minor == 1));
	CHECK(req->method_name.len > 0 && req->target.len > 0);
	CHECK(inside(req->method_name, buf, head));
	CHECK(inside(req->target, buf, head));
	if (req->method != HTTP_METHOD_UNKNOWN)
		CHECK(slice_is(req->method_name, method_names[req->method]));
	check_path(req, buf, head);
	CHECK(inside(req->query, buf, head));
	CHECK(req->has_query || req->query.len == 0);
	CHECK(inside(req->host, buf, head));
	CHECK(req->host.len > 0 || req->minor == 0);
	CHECK(req->nheaders <= HTTP_MAX_HEADERS);
	for (i = 0; i < req->nheaders; i++) {
		CHECK(req->headers[i].name.len > 0);
		CHECK(inside(req->headers[i].name, buf, head));
		CHECK(inside(req->headers[i].value, buf, head));
	}
	for (i = 0; i < sizeof(slices) / sizeof(slices[0]); i++)
		CHECK(inside(*slices[i], buf, head));
	CHECK(!(req->chunked && req->has_content_length));
	CHECK(!req->chunked || req->minor == 1);
	CHECK(!req->has_content_length || req->content_length <= INT64_MAX);
}

/* Parses and checks; returns the result so callers can compare runs. */
static enum http_parse_result
parse_checked(const char *buf, size_t len, size_t max_head,
	      struct http_request *req)
{
	enum http_parse_result r;
	int status = -1;

	r = http_request_parse(buf, len, max_head, req, &status);
	switch (r) {
	case HTTP_PARSE_OK:
		CHECK(status == -1);
		check_ok(req, buf, len, max_head);
		break;
	case HTTP_PARSE_INCOMPLETE:
		CHECK(status == -1);
		CHECK(len < max_head);
		break;
	case HTTP_PARSE_ERROR:
		CHECK(status == 400 || status == 414 || status == 431 ||
		      status == 501 || status == 505);
		break;
	default:
		CHECK(!"unknown result");
	}
	return r;
}

static void
fuzz_head(const char *buf, size_t len, size_t max_head)
{
	static struct http_request req, again;
	enum http_parse_result r;
	size_t head;

	r = parse_checked(buf, len, max_head, &req);
	if (r == HTTP_PARSE_OK) {
		/* The head delimits itself: no byte after it matters... */
		head = req.head_len;
		CHECK(parse_checked(buf, head, max_head, &again) ==
		      HTTP_PARSE_OK && again.head_len == head);
		/* ...none before its end suffices... */
		CHECK(parse_checked(buf, head - 1, max_head, &again) ==
		      HTTP_PARSE_INCOMPLETE);
		/* ...and a larger limit changes nothing. */
		CHECK(parse_checked(buf, len, max_head + 1, &again) ==
		      HTTP_PARSE_OK && again.head_len == head);
	} else if (r == HTTP_PARSE_INCOMPLETE) {
		/* Fewer bytes cannot finish or break it. */
		CHECK(parse_checked(buf, len / 2, max_head, &again) ==
		      HTTP_PARSE_INCOMPLETE);
	}
}

/* xorshift64: piece sizes that differ between inputs but not between runs. */
static uint64_t
next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Feeds buf in pieces: of size step, or random (up to 64 bytes, empty
 * ones included) if step is 0.  *total: bytes consumed in all.
 */
static enum http_chunked_result
feed_chunked(const char *buf, size_t len, size_t step, uint64_t seed,
	     size_t *total)
{
	struct http_chunked c;
	enum http_chunked_result r;
	size_t off = 0, n, used;

	http_chunked_init(&c);
	for (;;) {
		n = step ? step : (size_t)(next_random(&seed) % 65);
		if (n > len - off)
			n = len - off;
		used = (size_t)-1;
		r = http_chunked_skip(&c, buf + off, n, &used);
		CHECK(used <= n);
		*total = off + used;
		if (r == HTTP_CHUNKED_DONE || r == HTTP_CHUNKED_ERROR)
			break;
		CHECK(r == HTTP_CHUNKED_MORE && used == n);
		if ((off += n) == len)
			break;
	}
	/* A finished decoder stays finished and consumes nothing. */
	if (r != HTTP_CHUNKED_MORE) {
		CHECK(http_chunked_skip(&c, buf, len, &used) == r);
		CHECK(used == 0);
	}
	return r;
}

static void
fuzz_chunked(const char *buf, size_t len, uint64_t seed)
{
	enum http_chunked_result whole, bytes, pieces;
	size_t t_whole, t_bytes, t_pieces;

	whole = feed_chunked(buf, len, len ? len : 1, seed, &t_whole);
	bytes = feed_chunked(buf, len, 1, seed, &t_bytes);
	pieces = feed_chunked(buf, len, 0, seed, &t_pieces);
	CHECK(whole == bytes && whole == pieces);
	if (whole != HTTP_CHUNKED_ERROR)
		CHECK(t_whole == t_bytes && t_whole == t_pieces);
	if (whole == HTTP_CHUNKED_MORE)
		CHECK(t_whole == len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request req;
	const char *buf = (const char *)data;
	uint64_t seed = 0x9e3779b97f4a7c15ULL ^ size;
	size_t i, max_heads[4];
	int status;

	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 0x100000001b3ULL;
	seed |= 1;	/* xorshift must not start at 0 */

	/* At, just past and well past the input, and somewhere inside it. */
	max_heads[0] = size;
	max_heads[1] = size + 1;
	max_heads[2] = 8192;
	max_heads[3] = size >= 2 ? (data[0] | (size_t)data[1] << 8) % size : 0;
	for (i = 0; i < 4; i++)
		fuzz_head(buf, size, max_heads[i]);

	fuzz_chunked(buf, size, seed);
	/* The body after a chunked head, as the server would see it. */
	if (http_request_parse(buf, size, 8192, &req, &status) ==
	    HTTP_PARSE_OK && req.chunked)
		fuzz_chunked(buf + req.head_len, size - req.head_len, seed);
	return 0;
}

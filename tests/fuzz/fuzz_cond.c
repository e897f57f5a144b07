/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for src/http/cond.c.  Aborts when an invariant breaks:
 *
 * http_range_parse: agrees with a reference written from its contract in
 * cond.h (split the set at commas, match each element whole), for the
 * header given and a file size taken from the input; a range it serves
 * lies within the file.  Each header is tried on every size from 0 to
 * 12 bytes and on one size of any magnitude taken from the input.
 *
 * http_date_parse: a date it reads is within years 0000..9999, and the
 * date formatted back reads as the same time; any time of those years
 * formatted reads back as itself.
 *
 * http_etag_format, http_not_modified, http_if_range_holds: a tag is
 * 2..52 bytes of '"', lower-case hex and '-'; it matches itself (weakly
 * in If-None-Match, also as W/, and "*"; strongly in If-Range, never as
 * W/); an If-Range that holds is that tag or that second, written as a
 * date, at least a second ago, with nothing but OWS around it.
 *
 * Input: 8 bytes of file size, 8 of a time, 16
 * of an inode and mtime, then the header bytes.  Build as the Makefile's
 * "make fuzz".
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/cond.h"
#include "fuzz.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define YEAR0_T		(-62167219200LL)
#define YEAR9999_T	253402300799LL

static uint64_t
take_u64(const uint8_t **p, size_t *n)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = v << 8 | (*n > 0 ? **p : 0);
		if (*n > 0)
			(*p)++, (*n)--;
	}
	return v;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A run of digits as a value, held at UINT64_MAX past it. */
static uint64_t
digits_value(const char *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	return v;
}

/* x <= y, both runs of digits, compared as written (no bound). */
static bool
digits_le(const char *x, size_t xn, const char *y, size_t yn)
{
	while (xn > 1 && *x == '0')
		x++, xn--;
	while (yn > 1 && *y == '0')
		y++, yn--;
	if (xn != yn)
		return xn < yn;
	return memcmp(x, y, xn) <= 0;
}

/* How many bytes from s on are of the kind in() takes. */
static size_t
span(const char *s, size_t n, bool (*in)(char))
{
	size_t i = 0;

	while (i < n && in(s[i]))
		i++;
	return i;
}

/*
 * One element, OWS already trimmed from both ends: "a-b", "a-", "-n"
 * with OWS allowed around the '-'.  Its result for a file of size bytes,
 * or -1 if it is malformed.
 */
static int
ref_element(const char *s, size_t n, uint64_t size, uint64_t *first,
	    uint64_t *last)
{
	size_t i = 0, a_len, b_len;
	const char *a, *b;
	uint64_t av, bv;

	if (n > 0 && s[0] == '-') {
		i = 1 + span(s + 1, n - 1, is_ows);
		b_len = span(s + i, n - i, is_digit);
		if (b_len == 0 || i + b_len != n)
			return -1;
		bv = digits_value(s + i, b_len);
		if (bv == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		if (size == 0)
			return HTTP_RANGE_NONE;
		*first = bv >= size ? 0 : size - bv;
		*last = size - 1;
		return HTTP_RANGE_OK;
	}
	a = s;
	a_len = span(s, n, is_digit);
	if (a_len == 0)
		return -1;
	i = a_len + span(s + a_len, n - a_len, is_ows);
	if (i == n || s[i] != '-')
		return -1;
	i++;
	i += span(s + i, n - i, is_ows);
	b = s + i;
	b_len = span(b, n - i, is_digit);
	if (i + b_len != n)
		return -1;
	if (b_len > 0 && !digits_le(a, a_len, b, b_len))
		return -1;
	av = digits_value(a, a_len);
	if (av >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	bv = b_len > 0 ? digits_value(b, b_len) : UINT64_MAX;
	*first = av;
	*last = bv < size ? bv : size - 1;
	return HTTP_RANGE_OK;
}

static enum http_range_result
ref_range(const char *s, size_t len, uint64_t size, uint64_t *first,
	  uint64_t *last)
{
	static const char unit[] = "bytes=";
	size_t i, elements = 0;
	bool all_unsatisfiable = true;
	int one = HTTP_RANGE_NONE;
	uint64_t f = 0, l = 0;

	if (len < 6)
		return HTTP_RANGE_NONE;
	for (i = 0; i < 6; i++) {
		char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];

		if (c != unit[i])
			return HTTP_RANGE_NONE;
	}
	while (i <= len) {
		const char *comma = memchr(s + i, ',', len - i);
		size_t end = comma ? (size_t)(comma - s) : len, start = i;

		while (start < end && is_ows(s[start]))
			start++;
		while (end > start && is_ows(s[end - 1]))
			end--;
		if (end > start) {
			one = ref_element(s + start, end - start, size, &f, &l);
			if (one == -1)
				return HTTP_RANGE_NONE;
			all_unsatisfiable &= one == HTTP_RANGE_UNSATISFIABLE;
			elements++;
		}
		if (comma == NULL)
			break;
		i = (size_t)(comma - s) + 1;
	}
	if (elements == 0)
		return HTTP_RANGE_NONE;
	if (elements > 1)
		return all_unsatisfiable ? HTTP_RANGE_UNSATISFIABLE :
		       HTTP_RANGE_NONE;
	if (one == HTTP_RANGE_OK) {
		*first = f;
		*last = l;
	}
	return (enum http_range_result)one;
}

static void
check_range(const char *s, size_t len, uint64_t size)
{
	uint64_t first = 1, last = 0, rf = 2, rl = 3;
	enum http_range_result got = http_range_parse(s, len, size, &first,
						      &last);
	enum http_range_result want = ref_range(s, len, size, &rf, &rl);

	CHECK(got == want);
	if (got == HTTP_RANGE_OK) {
		CHECK(first <= last && last < size);
		CHECK(first == rf && last == rl);
	} else {
		/* Set only for a range served. */
		CHECK(first == 1 && last == 0);
	}
}

static void
check_dates(const char *s, size_t len, int64_t any)
{
	char buf[HTTP_DATE_LEN + 1];
	time_t t, back;
	/* Any time of years 0000..9999 formats and reads back. */
	int64_t span = YEAR9999_T - YEAR0_T + 1;
	time_t u = (time_t)(YEAR0_T + ((any % span) + span) % span);

	http_date_format(u, buf);
	CHECK(strlen(buf) == HTTP_DATE_LEN);
	CHECK(http_date_parse(buf, HTTP_DATE_LEN, &back) == 0 && back == u);
	if (http_date_parse(s, len, &t) != 0)
		return;
	CHECK(t >= YEAR0_T && t <= YEAR9999_T);
	http_date_format(t, buf);
	CHECK(http_date_parse(buf, HTTP_DATE_LEN, &back) == 0 && back == t);
}

static void
check_etags(const char *s, size_t len, uint64_t ino, uint64_t mtime_raw)
{
	char etag[HTTP_ETAG_MAX], weak[HTTP_ETAG_MAX + 2], date[HTTP_DATE_LEN + 1];
	/* A modification time of years 1970..9999, whole seconds apart. */
	time_t mtime = (time_t)(mtime_raw % (uint64_t)YEAR9999_T);
	long nsec = (long)(mtime_raw >> 34) % 1000000000L;
	size_t n;
	time_t t;

	http_etag_format(ino, mtime_raw ^ ino, mtime, nsec, etag, sizeof(etag));
	n = strlen(etag);
	CHECK(n >= 2 && n <= 52 && etag[0] == '"' && etag[n - 1] == '"');
	for (size_t i = 1; i + 1 < n; i++)
		CHECK((etag[i] >= '0' && etag[i] <= '9') ||
		      (etag[i] >= 'a' && etag[i] <= 'f') || etag[i] == '-');
	snprintf(weak, sizeof(weak), "W/%s", etag);
	CHECK(http_not_modified(etag, n, NULL, 0, etag, mtime, mtime));
	CHECK(http_not_modified(weak, n + 2, NULL, 0, etag, mtime, mtime));
	CHECK(http_not_modified("*", 1, NULL, 0, etag, mtime, mtime));
	CHECK(http_if_range_holds(etag, n, etag, mtime, mtime));
	CHECK(!http_if_range_holds(weak, n + 2, etag, mtime, mtime + 10));
	http_date_format(mtime, date);
	CHECK(http_if_range_holds(date, HTTP_DATE_LEN, etag, mtime, mtime + 1));
	CHECK(!http_if_range_holds(date, HTTP_DATE_LEN, etag, mtime, mtime));
	/*
	 * Arbitrary bytes: only the tag itself, or that second, holds, with
	 * OWS around it (which the request parser has taken off already).
	 */
	(void)http_not_modified(s, len, s, len, etag, mtime, mtime + 1);
	if (!http_if_range_holds(s, len, etag, mtime, mtime + 1))
		return;
	while (len > 0 && is_ows(*s))
		s++, len--;
	while (len > 0 && is_ows(s[len - 1]))
		len--;
	if (len == n && memcmp(s, etag, n) == 0)
		return;
	CHECK(http_date_parse(s, len, &t) == 0 && t == mtime);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t n = size;
	uint64_t file_size = take_u64(&p, &n);
	uint64_t any = take_u64(&p, &n);
	uint64_t ino = take_u64(&p, &n), mtime = take_u64(&p, &n);
	/* An exact-sized heap copy, so that ASan sees any overread. */
	char *s = malloc(n ? n : 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	/* Every small size, where the boundaries lie, and one of any size. */
	for (uint64_t small = 0; small <= 12; small++)
		check_range(s, n, small);
	check_range(s, n, file_size);
	check_dates(s, n, (int64_t)any);
	check_etags(s, n, ino, mtime);
	free(s);
	return 0;
}

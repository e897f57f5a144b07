/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for src/http/cond.c: HTTP dates, ETags, If-None-Match and
 * If-Modified-Since, If-Range and single byte ranges.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/cond.h"
#include "http/request.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define GUARD_BYTE 0x5a

/* Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example. */
#define T94 784111777

/* ---- http_date_format ------------------------------------------------- */

struct fmt_row {
	long long t;
	const char *expected;
};

static void
test_date_format(void **state)
{
	static const struct fmt_row rows[] = {
		{ 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
		{ T94, "Sun, 06 Nov 1994 08:49:37 GMT" },
		{ 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
		{ 2147483647, "Tue, 19 Jan 2038 03:14:07 GMT" },
		{ 4102444800LL, "Fri, 01 Jan 2100 00:00:00 GMT" },
		{ -1, "Wed, 31 Dec 1969 23:59:59 GMT" },
		{ -2203891200LL, "Thu, 01 Mar 1900 00:00:00 GMT" },
		/* Four-digit years: out-of-range times are held at the ends. */
		{ 253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT" },
		{ 253402300800LL, "Fri, 31 Dec 9999 23:59:59 GMT" },
		{ 1000000000000000LL, "Fri, 31 Dec 9999 23:59:59 GMT" },
		{ -62167219200LL, "Sat, 01 Jan 0000 00:00:00 GMT" },
		{ -62167219201LL, "Sat, 01 Jan 0000 00:00:00 GMT" },
	};
	char buf[HTTP_DATE_LEN + 8];

	(void)state;
	if (HTTP_DATE_LEN != 29)
		fail_msg("row 0: HTTP_DATE_LEN is %d, expected 29", HTTP_DATE_LEN);
	for (size_t i = 0; i < NROWS(rows); i++) {
		if ((long long)(time_t)rows[i].t != rows[i].t)
			continue;	/* 32-bit time_t: not representable */
		memset(buf, GUARD_BYTE, sizeof(buf));
		http_date_format((time_t)rows[i].t, buf);
		if (buf[HTTP_DATE_LEN] != '\0' ||
		    (unsigned char)buf[HTTP_DATE_LEN + 1] != GUARD_BYTE)
			fail_msg("row %zu (%lld): not exactly %d bytes and a NUL", i,
				 rows[i].t, HTTP_DATE_LEN);
		if (strcmp(buf, rows[i].expected) != 0)
			fail_msg("row %zu (%lld): got '%s', expected '%s'", i,
				 rows[i].t, buf, rows[i].expected);
	}
}

/* Every second, in a sweep over 1900..2200, survives format -> parse. */
static void
test_date_round_trip(void **state)
{
	char buf[HTTP_DATE_LEN + 1];
	size_t row = 0;

	(void)state;
	for (long long t = -2208988800LL; t < 7258118400LL;
	     t += 86400LL * 7 + 3607, row++) {
		time_t got;

		if ((long long)(time_t)t != t)
			continue;
		http_date_format((time_t)t, buf);
		if (strlen(buf) != HTTP_DATE_LEN)
			fail_msg("row %zu (%lld): '%s' is not %d characters", row, t,
				 buf, HTTP_DATE_LEN);
		if (http_date_parse(buf, strlen(buf), &got) != 0)
			fail_msg("row %zu (%lld): '%s' did not parse", row, t, buf);
		if ((long long)got != t)
			fail_msg("row %zu (%lld): '%s' parsed as %lld", row, t, buf,
				 (long long)got);
	}
}

/* ---- http_date_parse --------------------------------------------------- */

struct parse_row {
	const char *s;
	size_t len;		/* 0: strlen(s) */
	bool ok;
	long long t;
};

static void
test_date_parse(void **state)
{
	static const struct parse_row rows[] = {
		/* The three forms of RFC 9110 5.6.7. */
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 0, true, T94 },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", 0, true, T94 },
		{ "Sun Nov  6 08:49:37 1994", 0, true, T94 },
		{ "Sun Nov 06 08:49:37 1994", 0, true, T94 },
		/* The slice is read, not the C string. */
		{ "Sun, 06 Nov 1994 08:49:37 GMTxyz", 29, true, T94 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 28, false, 0 },
		/* Bounds of the calendar. */
		{ "Thu, 01 Jan 1970 00:00:00 GMT", 0, true, 0 },
		{ "Wed, 31 Dec 1969 23:59:59 GMT", 0, true, -1 },
		{ "Tue, 29 Feb 2000 00:00:00 GMT", 0, true, 951782400 },
		{ "Tue, 19 Jan 2038 03:14:07 GMT", 0, true, 2147483647 },
		{ "Sun, 06 Nov 1994 23:59:60 GMT", 0, true, 784166400 },
		/* Two-digit years: 00-69 are 20xx, 70-99 19xx. */
		{ "Thursday, 01-Jan-70 00:00:00 GMT", 0, true, 0 },
		{ "Saturday, 01-Jan-00 00:00:00 GMT", 0, true, 946684800 },
		{ "Tuesday, 31-Dec-69 23:59:59 GMT", 0, true, 3155759999LL },
		{ "Friday, 31-Dec-99 23:59:59 GMT", 0, true, 946684799 },
		/* The weekday names a day but is not checked against the date. */
		{ "Mon, 06 Nov 1994 08:49:37 GMT", 0, true, T94 },
		/* Invalid dates. */
		{ "Sun, 30 Feb 2020 00:00:00 GMT", 0, false, 0 },
		{ "Thu, 29 Feb 2001 00:00:00 GMT", 0, false, 0 },
		{ "Thu, 29 Feb 1900 00:00:00 GMT", 0, false, 0 },
		{ "Sun, 31 Nov 1994 08:49:37 GMT", 0, false, 0 },
		{ "Sun, 00 Nov 1994 08:49:37 GMT", 0, false, 0 },
		{ "Sun, 32 Jan 1994 08:49:37 GMT", 0, false, 0 },
		{ "Sun, 06 Nov 1994 25:00:00 GMT", 0, false, 0 },
		{ "Sun, 06 Nov 1994 24:00:00 GMT", 0, false, 0 },
		{ "Sun, 06 Nov 1994 23:60:00 GMT", 0, false, 0 },
		{ "Sun, 06 Nov 1994 23:59:61 GMT", 0, false, 0 },
		{ "Sunday, 31-Apr-94 08:49:37 GMT", 0, false, 0 },
		{ "Sun Feb 30 08:49:37 1994", 0, false, 0 },
		{ "Sun Nov  0 08:49:37 1994", 0, false, 0 },
		{ "Sun Nov  6 24:49:37 1994", 0, false, 0 },
		/* Bad names: month and day names are case-sensitive. */
		{ "Sun, 06 Foo 1994 08:49:37 GMT", 0, false, 0 },
		{ "Sun, 06 nov 1994 08:49:37 GMT", 0, false, 0 },
		{ "Sun, 06 NOV 1994 08:49:37 GMT", 0, false, 0 },
		{ "Xyz, 06 Nov 1994 08:49:37 GMT", 0, false, 0 },
		{ "sun, 06 Nov 1994 08:49:37 GMT", 0, false, 0 },
		{ "Sundae, 06-Nov-94 08:49:37 GMT", 0, false, 0 },
		{ "Sun, 06-Nov-94 08:49:37 GMT", 0, false, 0 },
		{ "Sunday, 06-Nox-94 08:49:37 GMT", 0, false, 0 },
		{ "Sun Now  6 08:49:37 1994", 0, false, 0 },
		/* Wrong shapes. */
		{ "", 0, false, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 UTC", 0, false, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 gmt", 0, false, 0 },
		{ "Sun, 6 Nov 1994 08:49:37 GMT", 0, false, 0 },
		{ "Sun, 06 Nov 94 08:49:37 GMT", 0, false, 0 },
		{ " Sun, 06 Nov 1994 08:49:37 GMT", 0, false, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT ", 0, false, 0 },
		{ "Sun,06 Nov 1994 08:49:37 GMT ", 0, false, 0 },
		{ "Sun, 06 Nov 1994 8:49:37 GMT", 0, false, 0 },
		{ "Sun, 06 Nov 1994 08:49:3a GMT", 0, false, 0 },
		{ "Sun, 06 Nov 1994 08-49-37 GMT", 0, false, 0 },
		{ "Sun, 06 Nov -994 08:49:37 GMT", 0, false, 0 },
		{ "Sun, 06 Nov 1994 08:49:37", 0, false, 0 },
		{ "Sunday, 06-Nov-1994 08:49:37 GMT", 0, false, 0 },
		{ "Sunday, 06 Nov 94 08:49:37 GMT", 0, false, 0 },
		{ "Sunday,06-Nov-94 08:49:37 GMT", 0, false, 0 },
		{ "Sun Nov 6 08:49:37 1994", 0, false, 0 },
		{ "Sun Nov  6 08:49:37 1994 ", 0, false, 0 },
		{ "Sun Nov  6 08:49:37 94", 0, false, 0 },
		{ "Sun Nov x6 08:49:37 1994", 0, false, 0 },
		{ "784111777", 0, false, 0 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct parse_row *row = &rows[i];
		size_t len = row->len ? row->len : strlen(row->s);
		time_t got = (time_t)12345;
		int rc = http_date_parse(row->s, len, &got);

		if (!row->ok) {
			if (rc != -1)
				fail_msg("row %zu (%s): parsed as %lld, expected -1", i,
					 row->s, (long long)got);
			continue;
		}
		if (rc != 0)
			fail_msg("row %zu (%s): refused, expected %lld", i, row->s,
				 row->t);
		if ((long long)got != row->t)
			fail_msg("row %zu (%s): got %lld, expected %lld", i, row->s,
				 (long long)got, row->t);
	}
}

/* ---- http_etag_format -------------------------------------------------- */

struct etag_row {
	uint64_t ino, size;
	int64_t sec;
	long nsec;
	const char *expected;
};

static void
test_etag(void **state)
{
	static const struct etag_row rows[] = {
		{ 0, 0, 0, 0, "\"0-0-0\"" },
		{ 1, 2, 3, 0, "\"1-2-b2d05e00\"" },
		{ 1, 2, 3, 1, "\"1-2-b2d05e01\"" },
		{ 0x2a, 1024, 1700000000, 123456789,
		  "\"2a-400-17979cfe3d85cd15\"" },
		{ 5, 6, -1, 0, "\"5-6-ffffffffc4653600\"" },
		{ UINT64_MAX, UINT64_MAX, 0, 999999999,
		  "\"ffffffffffffffff-ffffffffffffffff-3b9ac9ff\"" },
		{ UINT64_MAX, UINT64_MAX, 18446744073LL, 709551615,
		  "\"ffffffffffffffff-ffffffffffffffff-ffffffffffffffff\"" },
	};
	char buf[HTTP_ETAG_MAX + 8];

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct etag_row *row = &rows[i];

		memset(buf, GUARD_BYTE, sizeof(buf));
		http_etag_format(row->ino, row->size, row->sec, row->nsec, buf,
				 HTTP_ETAG_MAX);
		if ((unsigned char)buf[HTTP_ETAG_MAX] != GUARD_BYTE)
			fail_msg("row %zu (%s): wrote past HTTP_ETAG_MAX", i,
				 row->expected);
		if (strcmp(buf, row->expected) != 0)
			fail_msg("row %zu (%s): got %s", i, row->expected, buf);
		if (strlen(buf) >= HTTP_ETAG_MAX)
			fail_msg("row %zu (%s): longer than HTTP_ETAG_MAX - 1", i,
				 row->expected);
	}
}

/* ---- http_not_modified ------------------------------------------------- */

#define ETAG "\"1f-400-b2d05e00\""

struct nm_row {
	const char *inm;	/* NULL: absent */
	const char *ims;	/* NULL: absent */
	const char *etag;
	long long mtime;
	bool expected;
	long long now;		/* 0: a day after T94 */
};

static void
test_not_modified(void **state)
{
	static const struct nm_row rows[] = {
		/* If-None-Match: weak comparison, lists, "*". */
		{ ETAG, NULL, ETAG, T94, true, 0 },
		{ "W/" ETAG, NULL, ETAG, T94, true, 0 },
		{ ETAG, NULL, "W/" ETAG, T94, true, 0 },
		{ "W/" ETAG, NULL, "W/" ETAG, T94, true, 0 },
		{ "*", NULL, ETAG, T94, true, 0 },
		{ "\"x\", " ETAG, NULL, ETAG, T94, true, 0 },
		{ "\"x\" , W/" ETAG " , \"y\"", NULL, ETAG, T94, true, 0 },
		{ "\"x\",\t" ETAG, NULL, ETAG, T94, true, 0 },
		{ "\"x\"," ETAG, NULL, ETAG, T94, true, 0 },
		{ ", ," ETAG ",", NULL, ETAG, T94, true, 0 },
		{ "\"a,b\", " ETAG, NULL, ETAG, T94, true, 0 },
		{ "\"x\", \"y\"", NULL, ETAG, T94, false, 0 },
		{ "\"1F-400-B2D05E00\"", NULL, ETAG, T94, false, 0 },
		{ "\"1f-400-b2d05e0\"", NULL, ETAG, T94, false, 0 },
		{ "\"1f-400-b2d05e000\"", NULL, ETAG, T94, false, 0 },
		{ "1f-400-b2d05e00", NULL, ETAG, T94, false, 0 },
		{ "\"1f-400-b2d05e00", NULL, ETAG, T94, false, 0 },
		{ "w/" ETAG, NULL, ETAG, T94, false, 0 },
		{ "\"a,b\"", NULL, "\"a\"", T94, false, 0 },
		{ "\"x\" " ETAG, NULL, ETAG, T94, false, 0 },
		{ "*, " ETAG, NULL, ETAG, T94, false, 0 },
		{ "\"\"", NULL, ETAG, T94, false, 0 },
		/* If-None-Match decides alone, whatever the date says. */
		{ "\"x\"", "Sun, 06 Nov 1994 08:49:37 GMT", ETAG, T94, false, 0 },
		{ ETAG, "Thu, 01 Jan 1970 00:00:00 GMT", ETAG, T94, true, 0 },
		/* If-Modified-Since: not modified if mtime <= date. */
		{ NULL, "Sun, 06 Nov 1994 08:49:37 GMT", ETAG, T94, true, 0 },
		{ NULL, "Sun, 06 Nov 1994 08:49:38 GMT", ETAG, T94, true, 0 },
		{ NULL, "Sun, 06 Nov 1994 08:49:36 GMT", ETAG, T94, false, 0 },
		{ NULL, "Sunday, 06-Nov-94 08:49:37 GMT", ETAG, T94, true, 0 },
		{ NULL, "Sun Nov  6 08:49:37 1994", ETAG, T94, true, 0 },
		{ NULL, "Sun, 06 Nov 1994 08:49:37 UTC", ETAG, T94, false, 0 },
		{ NULL, "yesterday", ETAG, T94, false, 0 },
		{ NULL, "Sun, 30 Feb 1994 08:49:37 GMT", ETAG, T94, false, 0 },
		{ NULL, NULL, ETAG, T94, false, 0 },
		/* A date later than now is invalid (RFC 9110 13.1.3). */
		{ NULL, "Sun, 06 Nov 1994 08:49:38 GMT", ETAG, T94, true,
		  T94 + 1 },
		{ NULL, "Sun, 06 Nov 1994 08:49:39 GMT", ETAG, T94, false,
		  T94 + 1 },
		{ NULL, "Fri, 01 Jan 2100 00:00:00 GMT", ETAG, T94, false, 0 },
		/* A file dated in the future gets no 304 by date. */
		{ NULL, "Sun, 06 Nov 1994 08:49:37 GMT", ETAG, T94, false,
		  T94 - 1 },
		/* If-None-Match does not depend on the clock. */
		{ ETAG, "Fri, 01 Jan 2100 00:00:00 GMT", ETAG, T94, true,
		  T94 - 1 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct nm_row *row = &rows[i];
		size_t inm_len = row->inm ? strlen(row->inm) : 0;
		size_t ims_len = row->ims ? strlen(row->ims) : 0;
		time_t now = (time_t)(row->now ? row->now : T94 + 86400);
		bool got = http_not_modified(row->inm, inm_len, row->ims, ims_len,
					     row->etag, (time_t)row->mtime, now);

		if (got != row->expected)
			fail_msg("row %zu (INM %s, IMS %s, etag %s): got %d, "
				 "expected %d", i, row->inm ? row->inm : "-",
				 row->ims ? row->ims : "-", row->etag, got,
				 row->expected);
	}
}

/* ---- http_if_range_holds ----------------------------------------------- */

struct ir_row {
	const char *value;
	const char *etag;
	long long mtime;
	bool expected;
};

struct precondition_row {
	const char *headers;
	int expected;
};

/* Each row's headers on a GET, a day after T94. */
static void
precondition_rows(const struct precondition_row *rows, size_t nrows,
		  const char *etag, time_t mtime)
{
	for (size_t i = 0; i < nrows; i++) {
		static struct http_request req;
		char head[512];
		int status = 0, n;

		n = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: a\r\n"
			     "%s\r\n", rows[i].headers);
		assert_true(n > 0 && (size_t)n < sizeof(head));
		assert_int_equal(http_request_parse(head, (size_t)n, sizeof(head),
						    &req, &status),
				 HTTP_PARSE_OK);
		status = http_precondition_status(&req, etag, mtime,
						  T94 + 86400);
		if (status != rows[i].expected)
			fail_msg("row %zu (%s): %d, expected %d", i,
				 rows[i].headers, status, rows[i].expected);
	}
}

/*
 * RFC 9110 13.2.2 on parsed heads: If-Match (strong) before
 * If-Unmodified-Since, both before If-None-Match (weak) before
 * If-Modified-Since; the lines of a list header make one list.
 */
static void
test_preconditions(void **state)
{
	static const struct precondition_row rows[] = {
		{ "", 0 },
		/* If-Match: strong comparison, "*", lists over lines. */
		{ "If-Match: " ETAG "\r\n", 0 },
		{ "If-Match: *\r\n", 0 },
		{ "If-Match: \"x\", " ETAG "\r\n", 0 },
		{ "If-Match: \"x\"\r\nIf-Match: " ETAG "\r\n", 0 },
		{ "If-Match: " ETAG "\r\nIf-Match: \"x\"\r\n", 0 },
		{ "If-Match: \"x\"\r\n", 412 },
		{ "If-Match: W/" ETAG "\r\n", 412 },
		{ "If-Match: \"x\"\r\nIf-Match: \"y\"\r\n", 412 },
		{ "If-Match: garbage, " ETAG "\r\n", 412 },
		{ "if-match: \"x\"\r\n", 412 },
		/* An empty line adds no member; a later one still counts. */
		{ "If-Match:\r\nIf-Match: \"x\"\r\n", 412 },
		{ "If-Match:\r\n", 0 },
		/* If-Unmodified-Since: holds if mtime <= date; bad dates ignored. */
		{ "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 0 },
		{ "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 412 },
		{ "If-Unmodified-Since: yesterday\r\n", 0 },
		/* With If-Match present, If-Unmodified-Since is not looked at. */
		{ "If-Match: " ETAG "\r\n"
		  "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 0 },
		/* A failed If-Match wins over a matching If-None-Match. */
		{ "If-Match: \"x\"\r\nIf-None-Match: " ETAG "\r\n", 412 },
		{ "If-Match: " ETAG "\r\nIf-None-Match: " ETAG "\r\n", 304 },
		/* If-None-Match over lines, weakly; it decides over IMS. */
		{ "If-None-Match: \"x\"\r\nIf-None-Match: " ETAG "\r\n", 304 },
		{ "If-None-Match: W/" ETAG "\r\n", 304 },
		{ "If-None-Match: \"x\"\r\nIf-None-Match: \"y\"\r\n", 0 },
		{ "If-None-Match: \"x\"\r\n"
		  "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 0 },
		{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 304 },
		{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 0 },
		{ "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n", 0 },
		{ "If-None-Match: " ETAG "\r\n"
		  "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n", 304 },
	};

	(void)state;
	precondition_rows(rows, NROWS(rows), ETAG, T94);
}

/* A listing: no entity-tag, no modification date. */
static void
test_preconditions_no_validators(void **state)
{
	static const struct precondition_row rows[] = {
		{ "", 0 },
		{ "If-Match: *\r\n", 0 },
		{ "If-Match: \"x\"\r\n", 412 },
		{ "If-Match: \"\"\r\n", 412 },
		{ "If-Match: W/\"x\", \"y\"\r\n", 412 },
		{ "If-None-Match: *\r\n", 304 },
		{ "If-None-Match: \"x\"\r\n", 0 },
		{ "If-None-Match: \"\"\r\n", 0 },
		{ "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 0 },
		{ "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n", 0 },
		{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 0 },
		{ "If-Match: \"x\"\r\nIf-None-Match: *\r\n", 412 },
	};

	(void)state;
	/* The mtime is the one a file would have: a listing must not use it. */
	precondition_rows(rows, NROWS(rows), NULL, T94);
}

static void
test_if_range(void **state)
{
	static const struct ir_row rows[] = {
		{ ETAG, ETAG, T94, true },
		{ "W/" ETAG, ETAG, T94, false },
		{ ETAG, "W/" ETAG, T94, false },
		{ "\"other\"", ETAG, T94, false },
		{ "\"1F-400-B2D05E00\"", ETAG, T94, false },
		{ ETAG " junk", ETAG, T94, false },
		{ ETAG ", \"x\"", ETAG, T94, false },
		{ "\"1f-400-b2d05e00", ETAG, T94, false },
		{ "*", ETAG, T94, false },
		{ "", ETAG, T94, false },
		/* Dates: only the exact mtime holds. */
		{ "Sun, 06 Nov 1994 08:49:37 GMT", ETAG, T94, true },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", ETAG, T94, true },
		{ "Sun Nov  6 08:49:37 1994", ETAG, T94, true },
		{ "Sun, 06 Nov 1994 08:49:38 GMT", ETAG, T94, false },
		{ "Sun, 06 Nov 1994 08:49:36 GMT", ETAG, T94, false },
		{ "Wed, 09 Nov 1994 08:49:37 GMT", ETAG, 784370977, true },
		{ "Wednesday, 09-Nov-94 08:49:37 GMT", ETAG, 784370977, true },
		{ "Sun, 06 Nov 1994 08:49:37 UTC", ETAG, T94, false },
		{ "Sun, 31 Nov 1994 08:49:37 GMT", ETAG, T94, false },
		{ "tomorrow", ETAG, T94, false },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct ir_row *row = &rows[i];
		bool got = http_if_range_holds(row->value, strlen(row->value),
					       row->etag, (time_t)row->mtime,
					       (time_t)row->mtime + 86400);

		if (got != row->expected)
			fail_msg("row %zu (If-Range %s, etag %s): got %d, expected %d",
				 i, row->value, row->etag, got, row->expected);
	}
}

/*
 * RFC 9110 13.1.5 and 8.8.2.2: a date is a strong validator only a second
 * or more after the modification; until then it must not select a range.
 */
static void
test_if_range_date_strength(void **state)
{
	static const char date[] = "Sun, 06 Nov 1994 08:49:37 GMT";
	static const long long offsets[] = { -86400, -1, 0, 1, 86400 };
	static const bool expected[] = { false, false, false, true, true };

	(void)state;
	for (size_t i = 0; i < NROWS(offsets); i++) {
		bool got = http_if_range_holds(date, strlen(date), ETAG, T94,
					       (time_t)(T94 + offsets[i]));

		if (got != expected[i])
			fail_msg("now = mtime %+lld: got %d, expected %d",
				 offsets[i], got, expected[i]);
	}
	/* An entity-tag does not depend on the clock. */
	assert_true(http_if_range_holds(ETAG, strlen(ETAG), ETAG, T94, T94));
}

/* ---- http_range_parse -------------------------------------------------- */

#define NONE HTTP_RANGE_NONE
#define OK HTTP_RANGE_OK
#define UNSAT HTTP_RANGE_UNSATISFIABLE

struct range_row {
	const char *s;
	size_t len;		/* 0: strlen(s) */
	uint64_t size;
	enum http_range_result expected;
	uint64_t first, last;
};

static const char *
result_name(enum http_range_result r)
{
	switch (r) {
	case HTTP_RANGE_NONE:
		return "NONE";
	case HTTP_RANGE_OK:
		return "OK";
	case HTTP_RANGE_UNSATISFIABLE:
		return "UNSATISFIABLE";
	}
	return "?";
}

static void
test_range(void **state)
{
	static const struct range_row rows[] = {
		/* a-b, a-, -n inside a 10-byte file. */
		{ "bytes=0-0", 0, 10, OK, 0, 0 },
		{ "bytes=0-9", 0, 10, OK, 0, 9 },
		{ "bytes=2-5", 0, 10, OK, 2, 5 },
		{ "bytes=0-", 0, 10, OK, 0, 9 },
		{ "bytes=-1", 0, 10, OK, 9, 9 },
		{ "bytes=-3", 0, 10, OK, 7, 9 },
		/* At the end of the file. */
		{ "bytes=0-10", 0, 10, OK, 0, 9 },
		{ "bytes=5-1000", 0, 10, OK, 5, 9 },
		{ "bytes=9-", 0, 10, OK, 9, 9 },
		{ "bytes=9-9", 0, 10, OK, 9, 9 },
		{ "bytes=9-10", 0, 10, OK, 9, 9 },
		{ "bytes=10-", 0, 10, UNSAT, 0, 0 },
		{ "bytes=10-10", 0, 10, UNSAT, 0, 0 },
		{ "bytes=11-20", 0, 10, UNSAT, 0, 0 },
		{ "bytes=-10", 0, 10, OK, 0, 9 },
		{ "bytes=-11", 0, 10, OK, 0, 9 },
		{ "bytes=-9", 0, 10, OK, 1, 9 },
		{ "bytes=-0", 0, 10, UNSAT, 0, 0 },
		{ "bytes=-00", 0, 10, UNSAT, 0, 0 },
		/* One-byte and empty files. */
		{ "bytes=0-0", 0, 1, OK, 0, 0 },
		{ "bytes=0-", 0, 1, OK, 0, 0 },
		{ "bytes=1-", 0, 1, UNSAT, 0, 0 },
		{ "bytes=-1", 0, 1, OK, 0, 0 },
		{ "bytes=-2", 0, 1, OK, 0, 0 },
		{ "bytes=0-", 0, 0, UNSAT, 0, 0 },
		{ "bytes=0-0", 0, 0, UNSAT, 0, 0 },
		/* RFC 9110 14.1.1: a non-zero suffix of nothing is all of it. */
		{ "bytes=-5", 0, 0, NONE, 0, 0 },
		{ "bytes=-1", 0, 0, NONE, 0, 0 },
		{ "bytes=-18446744073709551615", 0, 0, NONE, 0, 0 },
		{ "bytes=-0", 0, 0, UNSAT, 0, 0 },
		{ "bytes=5-2", 0, 0, NONE, 0, 0 },
		/* Unit case and OWS. */
		{ "BYTES=0-1", 0, 10, OK, 0, 1 },
		{ "Bytes=0-1", 0, 10, OK, 0, 1 },
		{ "bytes= 0-1", 0, 10, OK, 0, 1 },
		{ "bytes=\t0 - 1", 0, 10, OK, 0, 1 },
		{ "bytes=0 -1", 0, 10, OK, 0, 1 },
		{ "bytes=0- ", 0, 10, OK, 0, 9 },
		{ "bytes=- 5", 0, 10, OK, 5, 9 },
		{ "bytes=0-1 ", 0, 10, OK, 0, 1 },
		{ "bytes=007-008", 0, 10, OK, 7, 8 },
		/* Empty list elements are not a second range. */
		{ "bytes=0-1,", 0, 10, OK, 0, 1 },
		{ "bytes=0-1, ,", 0, 10, OK, 0, 1 },
		{ "bytes=,0-1", 0, 10, OK, 0, 1 },
		/* Several ranges, or not a range: the whole file. */
		{ "bytes=0-1,2-3", 0, 10, NONE, 0, 0 },
		{ "bytes=0-1, 5-", 0, 10, NONE, 0, 0 },
		{ "bytes=-1,-2", 0, 10, NONE, 0, 0 },
		{ "bytes=0-1 2-3", 0, 10, NONE, 0, 0 },
		{ "bytes=10-, 0-1", 0, 10, NONE, 0, 0 },
		{ "bytes=10-,5-2", 0, 10, NONE, 0, 0 },
		{ "bytes=10- 20-", 0, 10, NONE, 0, 0 },
		{ "bytes=-5,0-", 0, 0, NONE, 0, 0 },
		/* RFC 9110 14.2: several, none satisfiable: 416. */
		{ "bytes=10-,20-", 0, 10, UNSAT, 0, 0 },
		{ "bytes=-0, 10-15,,", 0, 10, UNSAT, 0, 0 },
		{ "bytes=0-,1-", 0, 0, UNSAT, 0, 0 },
		{ "bytes=5-2", 0, 10, NONE, 0, 0 },
		{ "bytes=20-10", 0, 10, NONE, 0, 0 },
		{ "bytes =0-1", 0, 10, NONE, 0, 0 },
		{ "bytes", 0, 10, NONE, 0, 0 },
		{ "bytes=", 0, 10, NONE, 0, 0 },
		{ "bytes=-", 0, 10, NONE, 0, 0 },
		{ "bytes=1", 0, 10, NONE, 0, 0 },
		{ "bytes=a-b", 0, 10, NONE, 0, 0 },
		{ "bytes=1-b", 0, 10, NONE, 0, 0 },
		{ "bytes=1-2-3", 0, 10, NONE, 0, 0 },
		{ "bytes=1--2", 0, 10, NONE, 0, 0 },
		{ "bytes=0x1-2", 0, 10, NONE, 0, 0 },
		{ "bytes=+1-2", 0, 10, NONE, 0, 0 },
		{ "bytes=--1", 0, 10, NONE, 0, 0 },
		{ "bytes=1.5-2", 0, 10, NONE, 0, 0 },
		{ "items=0-1", 0, 10, NONE, 0, 0 },
		{ "0-1", 0, 10, NONE, 0, 0 },
		{ "", 0, 10, NONE, 0, 0 },
		/*
		 * Numbers at and past UINT64_MAX: the grammar sets no
		 * bound, so they mean what smaller ones would.
		 */
		{ "bytes=18446744073709551615-", 0, 10, UNSAT, 0, 0 },
		{ "bytes=18446744073709551616-", 0, 10, UNSAT, 0, 0 },
		{ "bytes=99999999999999999999-", 0, 10, UNSAT, 0, 0 },
		{ "bytes=0-18446744073709551615", 0, 10, OK, 0, 9 },
		{ "bytes=0-18446744073709551616", 0, 10, OK, 0, 9 },
		{ "bytes=3-99999999999999999999999", 0, 10, OK, 3, 9 },
		{ "bytes=-18446744073709551615", 0, 10, OK, 0, 9 },
		{ "bytes=-18446744073709551616", 0, 10, OK, 0, 9 },
		{ "bytes=-99999999999999999999999", 0, 0, NONE, 0, 0 },
		{ "bytes=99999999999999999998-99999999999999999999", 0, 10,
		  UNSAT, 0, 0 },
		{ "bytes=99999999999999999999-99999999999999999999", 0, 10,
		  UNSAT, 0, 0 },
		/* Last before first, told apart past UINT64_MAX too. */
		{ "bytes=99999999999999999999-99999999999999999998", 0, 10,
		  NONE, 0, 0 },
		{ "bytes=99999999999999999999-5", 0, 10, NONE, 0, 0 },
		{ "bytes=0000000000000000000000000000009-10", 0, 10, OK, 9, 9 },
		{ "bytes=0000000000000000000000000000009-0008", 0, 10, NONE,
		  0, 0 },
		{ "bytes=10-0000000000000000000000000000009", 0, 10, NONE,
		  0, 0 },
		{ "bytes=0-", 0, UINT64_MAX, OK, 0, UINT64_MAX - 1 },
		{ "bytes=-1", 0, UINT64_MAX, OK, UINT64_MAX - 1, UINT64_MAX - 1 },
		{ "bytes=18446744073709551614-", 0, UINT64_MAX, OK,
		  UINT64_MAX - 1, UINT64_MAX - 1 },
		/* The slice is read, not the C string. */
		{ "bytes=0-1junk", 9, 10, OK, 0, 1 },
		{ "bytes=0-1,2-3", 9, 10, OK, 0, 1 },
		{ "bytes=0-1", 5, 10, NONE, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct range_row *row = &rows[i];
		size_t len = row->len ? row->len : strlen(row->s);
		uint64_t first = 12345, last = 12345;
		enum http_range_result got;

		got = http_range_parse(row->s, len, row->size, &first, &last);
		if (got != row->expected)
			fail_msg("row %zu (%s, size %llu): got %s, expected %s", i,
				 row->s, (unsigned long long)row->size,
				 result_name(got), result_name(row->expected));
		if (got == OK && (first != row->first || last != row->last))
			fail_msg("row %zu (%s, size %llu): got [%llu, %llu], "
				 "expected [%llu, %llu]", i, row->s,
				 (unsigned long long)row->size,
				 (unsigned long long)first, (unsigned long long)last,
				 (unsigned long long)row->first,
				 (unsigned long long)row->last);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date_format),
		cmocka_unit_test(test_date_round_trip),
		cmocka_unit_test(test_date_parse),
		cmocka_unit_test(test_etag),
		cmocka_unit_test(test_not_modified),
		cmocka_unit_test(test_preconditions),
		cmocka_unit_test(test_preconditions_no_validators),
		cmocka_unit_test(test_if_range),
		cmocka_unit_test(test_if_range_date_strength),
		cmocka_unit_test(test_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

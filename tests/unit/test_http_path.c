/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for src/http/path.c: request path decoding and normalisation
 * (above all, that nothing climbs out of the document root), and the
 * escaping of names in directory listings.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http/path.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define GUARD 8
#define GUARD_BYTE 0x5a

/*
 * A raw path: len 0 means strlen(raw), so that rows with an embedded NUL
 * can give their length.  expected NULL means -1 (400), TOO_LONG means
 * HTTP_PATH_TOO_LONG (414).  outlen 0 means a roomy buffer.
 */
static const char TOO_LONG[] = "(too long)";

struct norm_row {
	const char *raw;
	size_t len;
	const char *expected;
	size_t outlen;
};

/* What every successful result must be, whatever the input. */
static const char *
unclean(const char *p, size_t n)
{
	if (n == 0 || p[0] != '/')
		return "does not start with '/'";
	if (memchr(p, '\0', n) != NULL)
		return "holds a NUL";
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '/')
			continue;
		if (i + 1 < n && p[i + 1] == '/')
			return "holds \"//\"";
		if (i + 1 < n && p[i + 1] == '.' &&
		    (i + 2 == n || p[i + 2] == '/'))
			return "holds a \".\" segment";
		if (i + 2 < n && p[i + 1] == '.' && p[i + 2] == '.' &&
		    (i + 3 == n || p[i + 3] == '/'))
			return "holds a \"..\" segment";
	}
	return NULL;
}

static void
run_norm_rows(const struct norm_row *rows, size_t nrows, const char *table)
{
	char buf[512 + GUARD];

	for (size_t i = 0; i < nrows; i++) {
		const struct norm_row *row = &rows[i];
		size_t len = row->len ? row->len : strlen(row->raw);
		size_t outlen = row->outlen ? row->outlen : 512;
		const char *why;
		long n;

		memset(buf, GUARD_BYTE, sizeof(buf));
		n = http_path_normalize(row->raw, len, buf, outlen);
		for (size_t g = outlen; g < outlen + GUARD; g++)
			if ((unsigned char)buf[g] != GUARD_BYTE)
				fail_msg("%s row %zu (%s): wrote past outlen %zu",
					 table, i, row->raw, outlen);
		if (row->expected == NULL || row->expected == TOO_LONG) {
			long want = row->expected == NULL ? -1 :
				    HTTP_PATH_TOO_LONG;

			if (n != want)
				fail_msg("%s row %zu (%s): got %ld, expected %ld",
					 table, i, row->raw, n, want);
			continue;
		}
		if (n < 0)
			fail_msg("%s row %zu (%s): got -1, expected '%s'", table, i,
				 row->raw, row->expected);
		if ((size_t)n != strlen(row->expected) ||
		    memcmp(buf, row->expected, (size_t)n + 1) != 0)
			fail_msg("%s row %zu (%s): got '%.*s' (%ld), expected '%s'",
				 table, i, row->raw, (int)n, buf, n, row->expected);
		if ((why = unclean(buf, (size_t)n)) != NULL)
			fail_msg("%s row %zu (%s): result '%s' %s", table, i,
				 row->raw, buf, why);
	}
}

/* ---- traversal attempts: refused, or confined below the root ---------- */

static void
test_normalize_traversal(void **state)
{
	static const struct norm_row rows[] = {
		/* Plain dot-dot. */
		{ "/..", 0, NULL, 0 },
		{ "/../", 0, NULL, 0 },
		{ "/../etc/passwd", 0, NULL, 0 },
		{ "/a/../../b", 0, NULL, 0 },
		{ "/a/b/../../../etc", 0, NULL, 0 },
		{ "/../../../../../../etc/passwd", 0, NULL, 0 },
		{ "/a/b/c/d/../../../../../etc", 0, NULL, 0 },
		{ "/a/b/c/../../../..", 0, NULL, 0 },
		{ "/./../", 0, NULL, 0 },
		{ "//../", 0, NULL, 0 },
		{ "/a//..//../b", 0, NULL, 0 },
		{ "/./././..", 0, NULL, 0 },
		{ "/a/./../..", 0, NULL, 0 },
		/* Encoded dots and slashes, either case. */
		{ "/%2e%2e/", 0, NULL, 0 },
		{ "/%2E%2E/etc/passwd", 0, NULL, 0 },
		{ "/%2e%2E/x", 0, NULL, 0 },
		{ "/.%2e/", 0, NULL, 0 },
		{ "/%2e./", 0, NULL, 0 },
		{ "/.%2E/.%2e/x", 0, NULL, 0 },
		{ "/%2e%2e", 0, NULL, 0 },
		{ "/..%2f..%2fetc", 0, NULL, 0 },
		{ "/a%2f..%2f..%2fb", 0, NULL, 0 },
		{ "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", 0, NULL, 0 },
		{ "/x/%2e%2e%2F%2E%2E", 0, NULL, 0 },
		{ "/a/%2e%2e/%2e%2e/%2e%2e/etc", 0, NULL, 0 },
		/* NUL, raw or encoded, and broken escapes. */
		{ "/a%00.html", 0, NULL, 0 },
		{ "/..%00/", 0, NULL, 0 },
		{ "/a/..%00/", 0, NULL, 0 },
		{ "/a\0b", 4, NULL, 0 },
		{ "/\0/../", 6, NULL, 0 },
		{ "/%", 0, NULL, 0 },
		{ "/%2", 0, NULL, 0 },
		{ "/a%2", 0, NULL, 0 },
		{ "/%zz", 0, NULL, 0 },
		{ "/%2g", 0, NULL, 0 },
		{ "/%g2", 0, NULL, 0 },
		{ "/%%32%65", 0, NULL, 0 },
		{ "/% 2e", 0, NULL, 0 },
		/* Dot-dot that stays inside: the exact, confined result. */
		{ "/a/..", 0, "/", 0 },
		{ "/a/b/..", 0, "/a/", 0 },
		{ "/a/b/%2e%2e", 0, "/a/", 0 },
		{ "/a%2F..%2Fb", 0, "/b", 0 },
		{ "/a/b/c/../../..", 0, "/", 0 },
		{ "/a/.../..", 0, "/a/", 0 },
		/* Decoded once: a double-encoded dot-dot is a literal name. */
		{ "/%252e%252e/etc/passwd", 0, "/%2e%2e/etc/passwd", 0 },
		{ "/%252e%252e%252f", 0, "/%2e%2e%2f", 0 },
		{ "/%25%32%65", 0, "/%2e", 0 },
		/* Overlong UTF-8 dots are just bytes. */
		{ "/%c0%ae%c0%ae/etc/passwd", 0, "/\xc0\xae\xc0\xae/etc/passwd",
		  0 },
		{ "/%C0%AE%C0%AE/", 0, "/\xc0\xae\xc0\xae/", 0 },
		{ "/%e0%80%ae%e0%80%ae/x", 0,
		  "/\xe0\x80\xae\xe0\x80\xae/x", 0 },
		/* Backslash is an ordinary byte on POSIX. */
		{ "/..\\..\\etc\\passwd", 0, "/..\\..\\etc\\passwd", 0 },
		{ "/a\\..\\..\\b", 0, "/a\\..\\..\\b", 0 },
		{ "/%5c..%5c..%5cetc", 0, "/\\..\\..\\etc", 0 },
		/* Names that only look like dot segments. */
		{ "/...", 0, "/...", 0 },
		{ "/....//", 0, "/..../", 0 },
		{ "/..;/etc", 0, "/..;/etc", 0 },
		{ "/.. /x", 0, "/.. /x", 0 },
		{ "/. ./", 0, "/. ./", 0 },
		{ "/.a/..b/c..", 0, "/.a/..b/c..", 0 },
		/* Not a path. */
		{ "", 0, NULL, 0 },
		{ "a/b", 0, NULL, 0 },
		{ "../etc", 0, NULL, 0 },
		{ "%2e%2e/etc", 0, NULL, 0 },
	};

	(void)state;
	run_norm_rows(rows, NROWS(rows), "traversal");
}

/* ---- ordinary paths ----------------------------------------------------- */

static void
test_normalize_normal(void **state)
{
	static const struct norm_row rows[] = {
		{ "/", 0, "/", 0 },
		{ "/index.html", 0, "/index.html", 0 },
		{ "/a/b/", 0, "/a/b/", 0 },
		{ "//a///b", 0, "/a/b", 0 },
		{ "///", 0, "/", 0 },
		{ "/a/./b", 0, "/a/b", 0 },
		{ "/a/../b", 0, "/b", 0 },
		{ "/a/b/.", 0, "/a/b/", 0 },
		{ "/a/%2e", 0, "/a/", 0 },
		{ "/%2e", 0, "/", 0 },
		{ "/.", 0, "/", 0 },
		{ "/./", 0, "/", 0 },
		{ "/a%20b", 0, "/a b", 0 },
		{ "/%41%42%7e", 0, "/AB~", 0 },
		{ "/%7E/", 0, "/~/", 0 },
		{ "/~user/", 0, "/~user/", 0 },
		{ "/a+b", 0, "/a+b", 0 },
		{ "/a%2Bb+c", 0, "/a+b+c", 0 },
		{ "/%3F%23", 0, "/?#", 0 },
		{ "/caf%C3%A9.html", 0, "/caf\xc3\xa9.html", 0 },
		{ "%2Fa", 0, "/a", 0 },		/* the leading '/' decoded */
		{ "/a%2fb", 0, "/a/b", 0 },
	};

	(void)state;
	run_norm_rows(rows, NROWS(rows), "normal");
}

/* ---- output buffer bounds ----------------------------------------------- */

static void
test_normalize_bounds(void **state)
{
	static const struct norm_row rows[] = {
		{ "/abc", 0, "/abc", 5 },
		{ "/abc", 0, TOO_LONG, 4 },
		{ "/", 0, "/", 2 },
		{ "/", 0, NULL, 1 },
		{ "/a/", 0, "/a/", 4 },
		{ "/a/", 0, TOO_LONG, 3 },
		{ "/a/./b", 0, "/a/b", 5 },
		{ "/a/b/..", 0, "/a/", 6 },
		{ "/%41%42%43", 0, "/ABC", 5 },
		{ "/%41%42%43", 0, TOO_LONG, 4 },
		{ "//////a", 0, "/a", 3 },
		/* Conservative: checked as read, so a removed name counts. */
		{ "/abc/..", 0, TOO_LONG, 5 },
		{ "/abc/..", 0, "/", 6 },
		{ "/a/b/..", 0, TOO_LONG, 5 },
		/* Refused for what it is, not for its length. */
		{ "/abc/%zz", 0, NULL, 6 },
	};

	(void)state;
	run_norm_rows(rows, NROWS(rows), "bounds");
}

/* A zero-sized buffer is not touched at all. */
static void
test_normalize_zero_outlen(void **state)
{
	static const char *const raws[] = { "/", "/a", "" };
	char c = GUARD_BYTE;

	(void)state;
	for (size_t i = 0; i < NROWS(raws); i++) {
		if (http_path_normalize(raws[i], strlen(raws[i]), &c, 0) != -1)
			fail_msg("row %zu (%s): outlen 0 did not give -1", i, raws[i]);
		if (c != GUARD_BYTE)
			fail_msg("row %zu (%s): outlen 0 was written", i, raws[i]);
	}
}

/* ---- escaping --------------------------------------------------------- */

struct esc_row {
	const char *src;
	size_t dstlen;		/* 0: roomy */
	const char *expected;	/* NULL: -1 */
};

static void
run_esc_rows(long (*fn)(const char *, char *, size_t), const char *name,
	     const struct esc_row *rows, size_t nrows)
{
	char buf[256 + GUARD];

	for (size_t i = 0; i < nrows; i++) {
		const struct esc_row *row = &rows[i];
		size_t dstlen = row->dstlen ? row->dstlen : 256;
		long n;

		memset(buf, GUARD_BYTE, sizeof(buf));
		n = fn(row->src, buf, dstlen);
		for (size_t g = dstlen; g < dstlen + GUARD; g++)
			if ((unsigned char)buf[g] != GUARD_BYTE)
				fail_msg("%s row %zu (%s): wrote past dstlen %zu",
					 name, i, row->src, dstlen);
		if (row->expected == NULL) {
			if (n != -1)
				fail_msg("%s row %zu (%s): got %ld, expected -1", name,
					 i, row->src, n);
			continue;
		}
		if (n < 0 || (size_t)n != strlen(row->expected) ||
		    strcmp(buf, row->expected) != 0)
			fail_msg("%s row %zu (%s): got %ld '%s', expected '%s'", name,
				 i, row->src, n, n < 0 ? "" : buf, row->expected);
	}
}

/* Characters as the listing shows them: what its columns are padded by. */
static void
test_text_width(void **state)
{
	static const struct {
		const char *src;
		size_t width;
	} rows[] = {
		{ "", 0 },
		{ "plain.txt", 9 },
		{ "<b>&\"x.txt", 10 },
		{ "caf\xc3\xa9.txt", 8 },
		{ "\xe2\x82\xac \xf0\x9f\x98\x80", 3 },
		/* Each byte outside a character is one U+FFFD. */
		{ "caf\xe9.txt", 8 },
		{ "\xc0\xaf", 2 },
		{ "\xed\xa0\x80", 3 },
		{ "\xf4\x90\x80\x80", 4 },
		{ "\xe2\x82", 2 },
		{ "a\xe2\x82\xac\xe2", 3 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		size_t got = http_text_width(rows[i].src);

		if (got != rows[i].width)
			fail_msg("row %zu: width %zu, expected %zu", i, got,
				 rows[i].width);
	}
}

static void
test_html_escape(void **state)
{
	static const struct esc_row rows[] = {
		{ "", 0, "" },
		{ "plain.txt", 0, "plain.txt" },
		{ "a&b", 0, "a&amp;b" },
		{ "<script>", 0, "&lt;script&gt;" },
		{ "\"'", 0, "&quot;&#39;" },
		{ "&amp;", 0, "&amp;amp;" },
		{ "caf\xc3\xa9 %2e", 0, "caf\xc3\xa9 %2e" },
		/* Not UTF-8: each stray byte as U+FFFD, characters kept. */
		{ "bad\xff\xfe", 0, "bad\xef\xbf\xbd\xef\xbf\xbd" },
		{ "caf\xe9", 0, "caf\xef\xbf\xbd" },
		{ "\xc3", 0, "\xef\xbf\xbd" },
		{ "\xc3<", 0, "\xef\xbf\xbd&lt;" },
		{ "\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf4\x90\x80\x80", 0,
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xe2\x82\xac \xf0\x9f\x98\x80", 0,
		  "\xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "\xef\xbf\xbd", 0, "\xef\xbf\xbd" },
		{ "\xff", 4, "\xef\xbf\xbd" },	/* exactly fits */
		{ "\xff", 3, NULL },
		{ "<img src=x onerror='a()'>", 0,
		  "&lt;img src=x onerror=&#39;a()&#39;&gt;" },
		{ "a&b", 8, "a&amp;b" },	/* exactly fits */
		{ "a&b", 7, NULL },
		{ "ab", 3, "ab" },
		{ "ab", 2, NULL },
		{ "", 1, "" },
		{ "&", 5, NULL },
	};

	(void)state;
	run_esc_rows(http_html_escape, "html", rows, NROWS(rows));
}

static void
test_url_escape(void **state)
{
	static const struct esc_row rows[] = {
		{ "", 0, "" },
		{ "index.html", 0, "index.html" },
		{ "AZaz09-._~", 0, "AZaz09-._~" },
		{ "!$()*,=@", 0, "!$()*,=@" },
		{ "a b", 0, "a%20b" },
		{ "100%", 0, "100%25" },
		{ "a?b#c", 0, "a%3Fb%23c" },
		{ "\"<>\\", 0, "%22%3C%3E%5C" },
		{ "\x01\x1f\x7f", 0, "%01%1F%7F" },
		{ "caf\xc3\xa9", 0, "caf%C3%A9" },
		{ "\xff", 0, "%FF" },
		{ "a/b", 0, "a%2Fb" },
		{ "javascript:alert(1)", 0, "javascript%3Aalert(1)" },
		{ "a&b'c", 0, "a%26b%27c" },
		{ "a;b+c", 0, "a%3Bb%2Bc" },
		{ "[x]{y}|^`", 0, "%5Bx%5D%7By%7D%7C%5E%60" },
		{ "a b", 6, "a%20b" },		/* exactly fits */
		{ "a b", 5, NULL },
		{ "ab", 3, "ab" },
		{ "ab", 2, NULL },
		{ "", 1, "" },
		{ "", 0, "" },
	};

	(void)state;
	run_esc_rows(http_url_escape, "url", rows, NROWS(rows));
}

/* A zero-sized destination is refused, never written. */
static void
test_escape_zero_dstlen(void **state)
{
	char c = GUARD_BYTE;

	(void)state;
	if (http_html_escape("", &c, 0) != -1 || c != GUARD_BYTE)
		fail_msg("row 0 (html): dstlen 0 not refused untouched");
	if (http_url_escape("", &c, 0) != -1 || c != GUARD_BYTE)
		fail_msg("row 1 (url): dstlen 0 not refused untouched");
}

/*
 * A listing links to a name by "/dir/" + url_escape(name); the server
 * must read that link back as the same name.
 */
static void
test_url_escape_round_trip(void **state)
{
	static const char *const names[] = {
		"index.html", "a b", "100%", "%2e%2e", "a?b#c", "caf\xc3\xa9",
		"...", "javascript:x", "\x01\x7f\xff", "~!$&'()*+,;=:@",
		"..a", ".hidden",
	};
	char esc[256], path[300], out[300];

	(void)state;
	for (size_t i = 0; i < NROWS(names); i++) {
		long n;

		if (http_url_escape(names[i], esc, sizeof(esc)) < 0)
			fail_msg("row %zu (%s): escape failed", i, names[i]);
		snprintf(path, sizeof(path), "/dir/%s", esc);
		n = http_path_normalize(path, strlen(path), out, sizeof(out));
		if (n < 0)
			fail_msg("row %zu (%s): '%s' refused", i, names[i], path);
		if (strncmp(out, "/dir/", 5) != 0 || strcmp(out + 5, names[i]) != 0)
			fail_msg("row %zu (%s): read back as '%s'", i, names[i], out);
	}
}

static void
test_beneath(void **state)
{
	static const struct {
		const char *path, *root;
		bool expected;
	} rows[] = {
		{ "/srv/www", "/srv/www", true },
		{ "/srv/www/a", "/srv/www", true },
		{ "/srv/www/a/b.txt", "/srv/www", true },
		{ "/srv/wwwx", "/srv/www", false },
		{ "/srv/www-old/a", "/srv/www", false },
		{ "/srv/ww", "/srv/www", false },
		{ "/srv", "/srv/www", false },
		{ "/etc/passwd", "/srv/www", false },
		{ "/", "/srv/www", false },
		{ "/etc/passwd", "/", true },
		{ "/", "/", true },
		{ "", "/", false },
		{ "", "/srv/www", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool got = http_path_beneath(rows[i].path, strlen(rows[i].path),
					     rows[i].root);

		if (got != rows[i].expected)
			fail_msg("row %zu (%s under %s): %d, expected %d", i,
				 rows[i].path, rows[i].root, got,
				 rows[i].expected);
	}
}

static void
test_plain(void **state)
{
	static const struct {
		const char *path;
		bool expected;
	} rows[] = {
		{ "/server-status", true },
		{ "/", true },
		{ "/a/b/", true },
		{ "/a.b", true },
		{ "", false },
		{ "server-status", false },
		{ "/status?x=1", false },
		{ "/st%61tus", false },
		{ "/status#top", false },
		{ "//status", false },
		{ "/a//b", false },
		{ "/./status", false },
		{ "/a/../status", false },
		{ "/.well-known", false },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++)
		if (http_path_plain(rows[i].path) != rows[i].expected)
			fail_msg("row %zu (%s): %d, expected %d", i,
				 rows[i].path, !rows[i].expected,
				 rows[i].expected);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_traversal),
		cmocka_unit_test(test_normalize_normal),
		cmocka_unit_test(test_normalize_bounds),
		cmocka_unit_test(test_normalize_zero_outlen),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_text_width),
		cmocka_unit_test(test_url_escape),
		cmocka_unit_test(test_escape_zero_dstlen),
		cmocka_unit_test(test_url_escape_round_trip),
		cmocka_unit_test(test_beneath),
		cmocka_unit_test(test_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

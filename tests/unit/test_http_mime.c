/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for src/http/mime.c: the built-in types, lookup by the last
 * extension, and mime.types files (syntax, overrides, errors).  Files are
 * written to a mkdtemp() directory under the current (build) directory
 * and removed by the group teardown, even after a failure.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/mime.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define FALLBACK "application/octet-stream"
#define MAXFILES 32

static char tmpdir[] = "mimetest.XXXXXX";
static char files[MAXFILES][64];
static size_t nfiles;

static int
setup_dir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	(void)state;
	for (size_t i = 0; i < nfiles; i++)
		unlink(files[i]);
	return rmdir(tmpdir);
}

/* Writes text to a new file in the temp dir; its path is returned. */
static const char *
write_file(const char *text)
{
	char *path;
	FILE *fp;

	if (nfiles == MAXFILES)
		fail_msg("row %zu: too many temp files", nfiles);
	path = files[nfiles];
	snprintf(path, sizeof(files[0]), "%s/%zu.types", tmpdir, nfiles);
	nfiles++;
	if ((fp = fopen(path, "w")) == NULL)
		fail_msg("row %zu: cannot create %s", nfiles - 1, path);
	fputs(text, fp);
	if (fclose(fp) != 0)
		fail_msg("row %zu: cannot write %s", nfiles - 1, path);
	return path;
}

static struct mime_table *
new_table(void)
{
	struct mime_table *t = mime_table_new();

	if (t == NULL)
		fail_msg("row 0: mime_table_new() returned NULL");
	return t;
}

struct lookup_row {
	const char *name;
	const char *expected;
};

static void
check_lookups(const struct mime_table *t, const struct lookup_row *rows,
	      size_t nrows, const char *table)
{
	for (size_t i = 0; i < nrows; i++) {
		const char *got = mime_lookup(t, rows[i].name, FALLBACK);

		if (got == NULL || strcmp(got, rows[i].expected) != 0)
			fail_msg("%s row %zu (%s): got %s, expected %s", table, i,
				 rows[i].name, got ? got : "NULL", rows[i].expected);
	}
}

/* ---- built-in table ------------------------------------------------------ */

static void
test_builtin(void **state)
{
	static const struct lookup_row rows[] = {
		{ "a.html", "text/html" },
		{ "a.htm", "text/html" },
		{ "a.shtml", "text/html" },
		{ "a.css", "text/css" },
		{ "a.js", "text/javascript" },
		{ "a.mjs", "text/javascript" },
		{ "a.json", "application/json" },
		{ "a.svg", "image/svg+xml" },
		{ "a.svgz", "image/svg+xml" },
		{ "a.png", "image/png" },
		{ "a.jpg", "image/jpeg" },
		{ "a.jpeg", "image/jpeg" },
		{ "a.gif", "image/gif" },
		{ "a.webp", "image/webp" },
		{ "a.avif", "image/avif" },
		{ "a.ico", "image/x-icon" },
		{ "a.txt", "text/plain" },
		{ "a.xml", "text/xml" },
		{ "a.pdf", "application/pdf" },
		{ "a.wasm", "application/wasm" },
		{ "a.woff", "font/woff" },
		{ "a.woff2", "font/woff2" },
		{ "a.ttf", "font/ttf" },
		{ "a.otf", "font/otf" },
		{ "a.mp4", "video/mp4" },
		{ "a.webm", "video/webm" },
		{ "a.mp3", "audio/mpeg" },
		{ "a.ogg", "audio/ogg" },
		{ "a.csv", "text/csv" },
		{ "a.md", "text/markdown" },
		{ "a.zip", "application/zip" },
		{ "a.gz", "application/gzip" },
		{ "a.tar", "application/x-tar" },
		{ "a.bmp", "image/bmp" },
		{ "a.tif", "image/tiff" },
		{ "a.tiff", "image/tiff" },
		{ "a.map", "application/json" },
		{ "a.webmanifest", "application/manifest+json" },
		{ "a.rss", "application/rss+xml" },
		{ "a.atom", "application/atom+xml" },
	};
	struct mime_table *t = new_table();

	(void)state;
	check_lookups(t, rows, NROWS(rows), "builtin");
	mime_table_free(t);
}

/* ---- which extension, and its case ------------------------------------- */

static void
test_extension(void **state)
{
	static const struct lookup_row rows[] = {
		{ "index.HTML", "text/html" },
		{ "x.JpEg", "image/jpeg" },
		{ "x.Md", "text/markdown" },
		{ "/dir/INDEX.Html", "text/html" },
		{ "a.tar.gz", "application/gzip" },
		{ "archive.gz.tar", "application/x-tar" },
		{ "style.min.css", "text/css" },
		{ ".profile.html", "text/html" },
		{ "/srv/www/a.b/c.txt", "text/plain" },
		{ "README", FALLBACK },
		{ ".profile", FALLBACK },
		{ "/home/u/.bashrc", FALLBACK },
		{ "name.", FALLBACK },
		{ ".", FALLBACK },
		{ "..", FALLBACK },
		{ "", FALLBACK },
		{ "/dir.html/file", FALLBACK },
		{ "/dir.html/", FALLBACK },
		{ "x.unknownext", FALLBACK },
		{ "x.htmlx", FALLBACK },
		{ "x.htm_", FALLBACK },
		{ "x.h", FALLBACK },
		{ "x.html ", FALLBACK },
		{ "x.\xc3\xa9", FALLBACK },
	};
	struct mime_table *t = new_table();

	(void)state;
	check_lookups(t, rows, NROWS(rows), "extension");
	if (mime_lookup(t, "README", NULL) != NULL)
		fail_msg("row 0 (README): a NULL fallback was not returned");
	mime_table_free(t);
}

/* ---- loading files ------------------------------------------------------ */

static void
load_or_fail(struct mime_table *t, const char *path, const char *what)
{
	char err[512] = "";

	if (mime_table_load(t, path, err, sizeof(err)) != 0)
		fail_msg("row 0 (%s): load failed: %s", what, err);
}

static void
test_load(void **state)
{
	static const struct lookup_row rows[] = {
		{ "a.foo", "text/x-foo" },
		{ "a.foo2", "text/x-foo" },		/* "FOO2" in the file */
		{ "a.FOO2", "text/x-foo" },
		{ "a.bar", "application/x-bar" },
		{ "a.qux", "application/x-bar" },
		{ "a.html", "text/plain" },		/* overrides built-in */
		{ "a.htm", "text/html" },		/* built-in untouched */
		{ "a.css", "text/css" },
		{ "a.baz", "application/x-later" },	/* the later line wins */
		{ "a.none", FALLBACK },
		{ "a.comment", FALLBACK },
		{ "a.after", FALLBACK },
		/* Loads, but a last extension never holds a dot. */
		{ "a.1905.1", FALLBACK },
		{ "a.crlf", "text/x-crlf" },
		{ "a.last", "text/x-last" },
	};
	const char *path = write_file(
	    "# a comment line\n"
	    "\n"
	    "   \t  \n"
	    "text/x-foo foo FOO2   # trailing comment after\n"
	    "application/x-bar\tbar\t\tqux\n"
	    "text/plain html\n"
	    "image/x-none\n"
	    "application/x-none   # a type with no extensions\n"
	    "#text/x-comment comment\n"
	    "application/x-earlier baz\n"
	    "application/x-later baz\n"
	    "application/x-dotted 1905.1\n"
	    "text/x-crlf crlf\r\n"
	    "text/x-last last");		/* no final newline */
	struct mime_table *t = new_table();

	(void)state;
	load_or_fail(t, path, path);
	check_lookups(t, rows, NROWS(rows), "load");
	mime_table_free(t);
}

/* A second file overrides the first, which overrode the built-in. */
static void
test_load_layers(void **state)
{
	static const struct lookup_row rows[] = {
		{ "a.html", "text/x-second" },
		{ "a.one", "text/x-first" },
		{ "a.two", "text/x-second" },
		{ "a.css", "text/css" },
	};
	const char *first = write_file("text/x-first html one\n");
	const char *second = write_file("text/x-second html two\n");
	struct mime_table *t = new_table();

	(void)state;
	load_or_fail(t, first, "first");
	load_or_fail(t, second, "second");
	check_lookups(t, rows, NROWS(rows), "layers");
	mime_table_free(t);
}

struct bad_row {
	const char *text;
	const char *err;	/* expected after "PATH:" */
};

/* A bad line is reported as FILE:LINE, and the table stays as it was. */
static void
test_load_errors(void **state)
{
	static const struct bad_row rows[] = {
		{ "text/html html\nnotatype foo\n",
		  ":2: 'notatype' is not a media type (type/subtype)" },
		{ "/html x\n", ":1: '/html' is not a media type (type/subtype)" },
		{ "text/ x\n", ":1: 'text/' is not a media type (type/subtype)" },
		{ "# c\n\ntext/html; charset=utf-8 html\n",
		  ":3: 'text/html;' is not a media type (type/subtype)" },
		{ "text/plain html text/css css\n",
		  ":1: 'text/css' is not an extension" },
		{ "text/plain html\n\n\n\ntext\\x y\n",
		  ":5: 'text\\x' is not a media type (type/subtype)" },
		/* A control character can never reach Content-Type. */
		{ "text/ht\x01ml html\n",
		  ":1: 'text/ht\x01ml' is not a media type (type/subtype)" },
	};
	static const struct lookup_row unchanged[] = {
		{ "a.html", "text/html" },
		{ "a.css", "text/css" },
		{ "a.foo", FALLBACK },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const char *path = write_file(rows[i].text);
		struct mime_table *t = new_table();
		char err[512] = "", want[512];

		if (mime_table_load(t, path, err, sizeof(err)) != -1)
			fail_msg("row %zu: load of a bad file succeeded", i);
		snprintf(want, sizeof(want), "%s%s", path, rows[i].err);
		if (strcmp(err, want) != 0)
			fail_msg("row %zu: error '%s', expected '%s'", i, err, want);
		check_lookups(t, unchanged, NROWS(unchanged), "after error");
		mime_table_free(t);
	}
}

/* Values that go out as a Content-Type: no header of their own. */
static void
test_type_check(void **state)
{
#define CTL "must hold no control character (CR, LF...) and no byte " \
	"beyond ASCII"
#define SHAPE "must be a media type (type/subtype), perhaps with " \
	"parameters after ';'"
	static const struct {
		const char *value;
		const char *why;	/* NULL: fit */
	} rows[] = {
		{ "application/octet-stream", NULL },
		{ "text/plain; charset=utf-8", NULL },
		{ "text/plain;charset=\"utf-8\"", NULL },
		{ "text/plain\t; q=1", NULL },
		{ "application/vnd.a+json", NULL },
		{ "text/plain\r\nX-Injected: 1", CTL },
		{ "text/plain\nSet-Cookie: a=b", CTL },
		{ "text/plain\r", CTL },
		{ "text/plain; a=\"\n\"", CTL },
		{ "text/pl\x01ain", CTL },
		{ "text/plain\x7f", CTL },
		{ "text/plain; charset=\xc3\xa9", CTL },
		{ "", SHAPE },
		{ "text", SHAPE },
		{ "text/", SHAPE },
		{ "/plain", SHAPE },
		{ "text/plain extra", SHAPE },
		{ "text/plain/x", SHAPE },
		{ "te xt/plain", SHAPE },
		{ "text/pl(ain", SHAPE },
		{ "; charset=utf-8", SHAPE },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const char *got = mime_type_check(rows[i].value);

		if ((got == NULL) != (rows[i].why == NULL) ||
		    (got != NULL && strcmp(got, rows[i].why) != 0))
			fail_msg("row %zu: mime_type_check() said %s, expected %s",
				 i, got ? got : "fit", rows[i].why ? rows[i].why :
				 "fit");
	}
#undef CTL
#undef SHAPE
}

static void
test_load_missing(void **state)
{
	struct mime_table *t = new_table();
	char path[128], err[512] = "", want[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist", tmpdir);
	if (mime_table_load(t, path, err, sizeof(err)) != -1)
		fail_msg("row 0 (%s): load of a missing file succeeded", path);
	snprintf(want, sizeof(want), "open(%s): ", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("row 0 (%s): error '%s', expected it to start '%s'", path,
			 err, want);
	mime_table_free(t);
}

/* Not a gigabyte of blank lines: a reload would read it all. */
static void
test_load_too_large(void **state)
{
	struct mime_table *t = new_table();
	char path[128], err[512] = "", want[256];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/huge.types", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(ftruncate(fd, MIME_FILE_MAX + 1), 0);
	close(fd);
	if (mime_table_load(t, path, err, sizeof(err)) != -1)
		fail_msg("a file of %d bytes loaded", MIME_FILE_MAX + 1);
	snprintf(want, sizeof(want), "%s: larger than 4 MiB", path);
	assert_string_equal(err, want);
	/* At the limit it loads: blank lines are nothing. */
	assert_int_equal(truncate(path, MIME_FILE_MAX), 0);
	load_or_fail(t, path, "a file at the limit");
	unlink(path);
	mime_table_free(t);
}

/* The system's file, when there is one, must load as it is. */
static void
test_load_system(void **state)
{
	struct mime_table *t;

	(void)state;
	if (access("/etc/mime.types", R_OK) != 0)
		return;			/* absent: nothing to check */
	t = new_table();
	load_or_fail(t, "/etc/mime.types", "/etc/mime.types");
	if (strcmp(mime_lookup(t, "a.css", FALLBACK), "text/css") != 0)
		fail_msg("row 0 (/etc/mime.types): .css is not text/css");
	mime_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_extension),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_layers),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_type_check),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_too_large),
		cmocka_unit_test(test_load_system),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}

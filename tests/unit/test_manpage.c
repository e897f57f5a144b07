/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doc/preforkd.conf.5 against the configuration schema: every option that
 * conf_schema_walk() reports is documented, under the right section, by
 * one ".It Cm NAME" line, and every such line names an option of the
 * schema, so that the page and the code cannot drift apart.
 *
 * The page documents the options of the top level under ".Sh GLOBAL
 * OPTIONS" and those of the section "word" under ".Sh WORD OPTIONS"
 * (SERVER, HTTP, ECHO...).  A section of the schema may be documented as
 * an option of its parent (".It Cm http" under SERVER OPTIONS) but need
 * not be.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define PAGE "/doc/preforkd.conf.5"
#define MAX_ENTRIES 512
#define NAME_MAX_LEN 64

struct entry {
	char section[NAME_MAX_LEN];	/* "" for the top level */
	char option[NAME_MAX_LEN];
	int line;			/* in the page; 0 for the schema */
};

struct table {
	struct entry v[MAX_ENTRIES];
	size_t n;
	bool overflow;
};

static struct table schema, documented;
static char page_path[4096];
static bool page_missing;

static void
table_add(struct table *t, const char *section, const char *option, int line)
{
	struct entry *e;

	if (t->n == MAX_ENTRIES || strlen(section) >= NAME_MAX_LEN ||
	    strlen(option) >= NAME_MAX_LEN) {
		t->overflow = true;
		return;
	}
	e = &t->v[t->n++];
	strcpy(e->section, section);
	strcpy(e->option, option);
	e->line = line;
}

static const struct entry *
table_find(const struct table *t, const char *section, const char *option)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].section, section) == 0 &&
		    strcmp(t->v[i].option, option) == 0)
			return &t->v[i];
	return NULL;
}

/* A section of the schema is a name that other options belong to. */
static bool
schema_is_section(const char *name)
{
	for (size_t i = 0; i < schema.n; i++)
		if (strcmp(schema.v[i].section, name) == 0)
			return true;
	return false;
}

static void
collect_schema(const char *section, const char *option, void *arg)
{
	table_add(arg, section, option, 0);
}

/* How the page names a section: "" -> GLOBAL, "http" -> HTTP. */
static void
section_title(const char *section, char *out, size_t outlen)
{
	size_t i;

	if (section[0] == '\0') {
		snprintf(out, outlen, "GLOBAL OPTIONS");
		return;
	}
	for (i = 0; section[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)toupper((unsigned char)section[i]);
	out[i] = '\0';
	strncat(out, " OPTIONS", outlen - strlen(out) - 1);
}

/*
 * ".Sh WORD OPTIONS" -> "word" ("GLOBAL" -> ""); any other heading ->
 * NULL: no option may be documented there.
 */
static bool
heading_section(const char *title, char *out, size_t outlen)
{
	const char *suffix = " OPTIONS";
	size_t len = strlen(title), slen = strlen(suffix), i;

	if (len <= slen || strcmp(title + len - slen, suffix) != 0 ||
	    len - slen >= outlen)
		return false;
	for (i = 0; i < len - slen; i++)
		out[i] = (char)tolower((unsigned char)title[i]);
	out[i] = '\0';
	if (strcmp(out, "global") == 0)
		out[0] = '\0';
	return true;
}

/* The first word of s, with "\-" read as "-". */
static void
first_word(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n' &&
	       o + 1 < outlen) {
		if (s[0] == '\\' && s[1] == '-')
			s++;
		out[o++] = *s++;
	}
	out[o] = '\0';
}

static void
strip_newline(char *s)
{
	size_t len = strlen(s);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
			   s[len - 1] == ' '))
		s[--len] = '\0';
}

/* Reads the page: its ".It Cm" names, by section. */
static int
read_page(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024], section[NAME_MAX_LEN] = "?";
	bool in_options = false;
	int lineno = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		strip_newline(line);
		if (strncmp(line, ".Sh ", 4) == 0) {
			char title[sizeof(line)];
			const char *t = line + 4;
			size_t n;

			/* A quoted title: .Sh "HTTP OPTIONS" */
			if (*t == '"')
				t++;
			snprintf(title, sizeof(title), "%s", t);
			n = strlen(title);
			if (n > 0 && title[n - 1] == '"')
				title[n - 1] = '\0';
			in_options = heading_section(title, section,
						     sizeof(section));
			if (!in_options)
				snprintf(section, sizeof(section), "?");
		} else if (strncmp(line, ".It Cm ", 7) == 0) {
			char name[NAME_MAX_LEN];

			first_word(line + 7, name, sizeof(name));
			/* Outside an OPTIONS section: section "?", never in
			 * the schema, so reported as not an option. */
			table_add(&documented, in_options ? section : "?",
				  name, lineno);
		}
	}
	fclose(f);
	return 0;
}

static int
setup(void **state)
{
	const char *srcdir = getenv("srcdir");

	(void)state;
	conf_schema_walk(collect_schema, &schema);
	snprintf(page_path, sizeof(page_path), "%s" PAGE,
		 srcdir != NULL && srcdir[0] != '\0' ? srcdir : ".");
	page_missing = read_page(page_path) == -1;
	return 0;
}

/*
 * What a test found, one line per problem: handed to cmocka as the text of
 * the failed assertion, so it shows in the TAP output and in the log.
 */
static char report[16384];
static size_t report_len;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
note(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (report_len >= sizeof(report) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(report + report_len, sizeof(report) - report_len, fmt,
		      ap);
	va_end(ap);
	if (n > 0)
		report_len += (size_t)n;
	if (report_len > sizeof(report) - 1)
		report_len = sizeof(report) - 1;
}

/* Fails the test with the notes, if there are any. */
static void
report_check(const char *file, int line)
{
	if (report_len == 0)
		return;
	if (report[report_len - 1] == '\n')
		report[--report_len] = '\0';
	/* The line of the caller, and every note, in the failure. */
	_assert_true(0, report, file, line);
}

static void
report_start(void)
{
	report[0] = '\0';
	report_len = 0;
	if (page_missing)
		note("cannot read %s (srcdir=%s): the options cannot be "
		     "compared\n", page_path, getenv("srcdir") != NULL ?
		     getenv("srcdir") : "unset");
}

/* The walk and the page both give something, and fit in the tables. */
static void
test_both_sides_read(void **state)
{
	(void)state;
	report_start();
	if (schema.overflow || documented.overflow)
		note("more than %d options, or names of %d bytes or more: "
		     "raise MAX_ENTRIES or NAME_MAX_LEN in %s\n", MAX_ENTRIES,
		     NAME_MAX_LEN, __FILE__);
	if (table_find(&schema, "", "server") == NULL ||
	    table_find(&schema, "server", "listen") == NULL)
		note("conf_schema_walk() did not report (\"\", \"server\") "
		     "and (\"server\", \"listen\"): it gave %zu options\n",
		     schema.n);
	if (!page_missing && documented.n == 0)
		note("%s has no \".It Cm NAME\" line\n", page_path);
	report_check(__FILE__, __LINE__);
}

static void
test_every_option_documented(void **state)
{
	(void)state;
	report_start();
	for (size_t i = 0; !page_missing && i < schema.n; i++) {
		const struct entry *e = &schema.v[i];
		char title[NAME_MAX_LEN + 16];

		if (schema_is_section(e->option) ||
		    table_find(&documented, e->section, e->option) != NULL)
			continue;
		section_title(e->section, title, sizeof(title));
		note("option '%s' (section '%s') is not documented in %s: "
		     "add \".It Cm %s\" under \".Sh %s\"\n", e->option,
		     e->section, page_path, e->option, title);
	}
	report_check(__FILE__, __LINE__);
}

static void
test_every_documented_option_exists(void **state)
{
	(void)state;
	report_start();
	for (size_t i = 0; i < documented.n; i++) {
		const struct entry *d = &documented.v[i];

		if (table_find(&schema, d->section, d->option) != NULL)
			continue;
		if (strcmp(d->section, "?") == 0)
			note("%s:%d: \".It Cm %s\" outside a \"... OPTIONS\" "
			     "section: that form is kept for options\n",
			     page_path, d->line, d->option);
		else
			note("%s:%d: option '%s' is documented, but section "
			     "'%s' of the schema has no such option\n",
			     page_path, d->line, d->option, d->section);
	}
	report_check(__FILE__, __LINE__);
}

static void
test_each_option_documented_once(void **state)
{
	(void)state;
	report_start();
	for (size_t i = 0; i < documented.n; i++)
		for (size_t j = 0; j < i; j++) {
			const struct entry *a = &documented.v[j];
			const struct entry *b = &documented.v[i];

			if (strcmp(a->section, b->section) != 0 ||
			    strcmp(a->option, b->option) != 0)
				continue;
			note("%s:%d: option '%s' is documented again (first "
			     "at line %d)\n", page_path, b->line, b->option,
			     a->line);
			break;
		}
	report_check(__FILE__, __LINE__);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_sides_read),
		cmocka_unit_test(test_every_option_documented),
		cmocka_unit_test(test_every_documented_option_exists),
		cmocka_unit_test(test_each_option_documented_once),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

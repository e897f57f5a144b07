/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/masterenv.c: a /proc/PID/environ block as environ. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "masterenv.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
/* A block written as a C string literal, its final NUL left out. */
#define BLOCK(s) s, sizeof(s) - 1

/* The entries of env joined with '|', for comparing and for messages. */
static void
joined(char **env, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (char **p = env; *p != NULL && at < len; p++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s",
				       p == env ? "" : "|", *p);
}

static void
test_parse_rows(void **state)
{
	static const struct {
		const char *block;
		size_t len;
		const char *expected;
	} rows[] = {
		{ BLOCK(""), "" },
		{ BLOCK("PORT=19391\0"), "PORT=19391" },
		/* The last entry without its NUL. */
		{ BLOCK("PORT=19391\0DOCROOT=/srv/x"),
		  "PORT=19391|DOCROOT=/srv/x" },
		{ BLOCK("A=1\0B=2\0C=3\0"), "A=1|B=2|C=3" },
		/* Empty values and '=' in values are kept as written. */
		{ BLOCK("EMPTY=\0EQ=a=b\0"), "EMPTY=|EQ=a=b" },
		/* Duplicates stay in order: getenv() takes the first. */
		{ BLOCK("A=1\0A=2\0"), "A=1|A=2" },
		/* Not NAME=VALUE: left out. */
		{ BLOCK("\0\0A=1\0junk\0=nameless\0B=2\0"), "A=1|B=2" },
		/* Unset by the master at its start. */
		{ BLOCK("LISTEN_PID=7\0LISTEN_FDS=1\0LISTEN_FDNAMES=web\0"
			"PORT=1\0"), "PORT=1" },
		{ BLOCK("PREFORKD_LISTENERS=echo@127.0.0.1:1=3\0"
			"PREFORKD_UPGRADE_FD=4\0HOME=/root\0"), "HOME=/root" },
		{ BLOCK("PREFORKD_PIDFILE=/run/preforkd.pid\0HOME=/root\0"),
		  "HOME=/root" },
		/* Only the exact names. */
		{ BLOCK("LISTEN_PIDS=1\0LISTEN=2\0PREFORKD_LISTENERS_X=3\0"),
		  "LISTEN_PIDS=1|LISTEN=2|PREFORKD_LISTENERS_X=3" },
		/* Only len bytes are read. */
		{ "A=1\0B=2\0C=3", 6, "A=1|B=" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		char **env = masterenv_parse(rows[i].block, rows[i].len);
		char got[512];

		if (env == NULL)
			fail_msg("row %zu: NULL", i);
		joined(env, got, sizeof(got));
		masterenv_free(env);
		if (strcmp(got, rows[i].expected) != 0)
			fail_msg("row %zu: \"%s\", expected \"%s\"", i, got,
				 rows[i].expected);
	}
}

/* A last entry without '=' and without its NUL is left out too. */
static void
test_parse_no_equals_at_end(void **state)
{
	char **env = masterenv_parse(BLOCK("A=1\0B"));

	(void)state;
	assert_non_null(env);
	assert_string_equal(env[0], "A=1");
	assert_null(env[1]);
	masterenv_free(env);
}

/*
 * Our own environment, read back as -s reload reads the master's: nothing
 * here changes it, so the block at our start is environ itself.
 */
static void
test_read_self(void **state)
{
	char **env, **p, **q;

	(void)state;
	env = masterenv_read(getpid());
	assert_non_null(env);
	for (p = environ, q = env; *p != NULL; p++) {
		if (strncmp(*p, "LISTEN_", 7) == 0 ||
		    strncmp(*p, "PREFORKD_LISTENERS=", 19) == 0 ||
		    strncmp(*p, "PREFORKD_UPGRADE_FD=", 20) == 0)
			continue;
		if (*q == NULL || strcmp(*p, *q) != 0)
			fail_msg("environ has \"%s\" where /proc/self/environ "
				 "gives \"%s\"", *p, *q ? *q : "(end)");
		q++;
	}
	assert_null(*q);
	masterenv_free(env);
	assert_null(masterenv_read(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rows),
		cmocka_unit_test(test_parse_no_equals_at_end),
		cmocka_unit_test(test_read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

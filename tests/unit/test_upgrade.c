/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/upgrade.c: the PREFORKD_LISTENERS encoding. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "upgrade.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define MAXN 4

struct list {
	size_t n;
	char owner[MAXN][64];
	char addr[MAXN][128];
	int fd[MAXN];
	bool managed[MAXN];
};

static int
collect(void *arg, const struct upgrade_socket *s)
{
	struct list *l = arg;

	if (l->n == MAXN)
		return 7;
	snprintf(l->owner[l->n], sizeof(l->owner[0]), "%s", s->owner);
	snprintf(l->addr[l->n], sizeof(l->addr[0]), "%s", s->addr);
	l->managed[l->n] = s->managed;
	l->fd[l->n++] = s->fd;
	return 0;
}

/* Encoded text for each list, and back to the same list. */
static void
test_round_trip(void **state)
{
	static const struct {
		struct upgrade_socket v[MAXN];
		size_t n;
		const char *text;
	} rows[] = {
		{ { { "www", "*:80", 5, false } }, 1, "www@*:80=5" },
		{ { { "www", "127.0.0.1:8080", 3, false },
		    { "echo", "[::1]:7", 4, false } },
		  2, "www@127.0.0.1:8080=3;echo@[::1]:7=4" },
		{ { { "u", "unix:/run/a;b=c@d%e.sock", 9, false } }, 1,
		  "u@unix:/run/a%3Bb%3Dc%40d%25e.sock=9" },
		{ { { "odd@name;x", "0.0.0.0:1", 12, false } }, 1,
		  "odd%40name%3Bx@0.0.0.0:1=12" },
		{ { { "", "[::]:443", 6, false } }, 1, "@[::]:443=6" },
		{ { { "www", "*:80", 3, true },
		    { "u", "unix:/run/m", 4, false } }, 2,
		  "www@*:80=3m;u@unix:/run/m=4" },
		{ { { 0 } }, 0, "" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		char buf[512];
		struct list l = { 0 };

		if (upgrade_encode(rows[i].v, rows[i].n, buf, sizeof(buf)) != 0)
			fail_msg("row %zu: encode failed", i);
		if (strcmp(buf, rows[i].text) != 0)
			fail_msg("row %zu: encoded \"%s\", expected \"%s\"", i,
				 buf, rows[i].text);
		if (upgrade_decode(buf, collect, &l) != 0 || l.n != rows[i].n)
			fail_msg("row %zu: decoded %zu entries of \"%s\"", i,
				 l.n, buf);
		for (size_t k = 0; k < l.n; k++)
			if (strcmp(l.owner[k], rows[i].v[k].owner) != 0 ||
			    strcmp(l.addr[k], rows[i].v[k].addr) != 0 ||
			    l.fd[k] != rows[i].v[k].fd ||
			    l.managed[k] != rows[i].v[k].managed)
				fail_msg("row %zu entry %zu: %s@%s=%d", i, k,
					 l.owner[k], l.addr[k], l.fd[k]);
	}
}

static void
test_encode_too_small(void **state)
{
	const struct upgrade_socket v[] = {
		{ "www", "127.0.0.1:80", 3, false },
	};
	char buf[64];

	(void)state;
	/* "www@127.0.0.1:80=3" is 18 bytes and a terminator. */
	if (upgrade_encode(v, 1, buf, 19) != 0)
		fail_msg("19 bytes did not fit 18 and the terminator");
	for (size_t len = 0; len < 19; len++)
		if (upgrade_encode(v, 1, buf, len) != -1)
			fail_msg("encoded into %zu bytes", len);
}

static void
test_decode_malformed(void **state)
{
	static const char *const rows[] = {
		"www@*:80",		/* no fd */
		"www@*:80=",		/* empty fd */
		"www@*:80=x",
		"www@*:80=-3",
		"www*:80=3",		/* no owner separator */
		"www@=3",		/* no address */
		"www@*:80=3;",		/* empty entry */
		";www@*:80=3",
		"www@*:8%0=3",		/* bad escape */
		"www@*:8%=3",
		"www@*:80%00=3",	/* escaped NUL */
		"w=w@*:80=3",		/* unescaped separator in a name */
		"www@*:80=3=4",
		"www@*:80=99999999999",
		"www@*:80=m",		/* a flag without an fd */
		"www@*:80=3mm",
		"www@*:80=m3",
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct list l = { 0 };

		if (upgrade_decode(rows[i], collect, &l) != -1)
			fail_msg("row %zu (\"%s\"): accepted", i, rows[i]);
	}
}

/* A valid prefix is handed over before a bad entry stops the decoding. */
static void
test_decode_stops(void **state)
{
	struct list l = { 0 };

	(void)state;
	if (upgrade_decode("a@*:1=3;b@*:2", collect, &l) != -1 || l.n != 1)
		fail_msg("decoded %zu entries before the bad one", l.n);
	memset(&l, 0, sizeof(l));
	if (upgrade_decode("a@*:1=3;a@*:1=3;a@*:1=3;a@*:1=3;a@*:1=3",
			   collect, &l) != 7)
		fail_msg("the callback's refusal was not returned");
	if (upgrade_decode(NULL, collect, &l) != 0)
		fail_msg("an unset list is not empty");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_too_small),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_decode_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/activation.c: LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "activation.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static void
test_count_rows(void **state)
{
	static const struct {
		const char *pid, *fds;
		int expected;
	} rows[] = {
		{ NULL, NULL, 0 },		/* not activated */
		{ "100", "2", 2 },
		{ "100", "0", 0 },
		{ "101", "2", 0 },		/* for another process */
		{ "100", NULL, -1 },
		{ NULL, "2", -1 },
		{ "100", "", -1 },
		{ "100", "two", -1 },
		{ "100", "2x", -1 },
		{ "100", "-1", -1 },
		{ "100", "+2", -1 },
		{ "0", "1", -1 },
		{ "x100", "1", -1 },
		{ "100", "4096", 4096 },
		{ "100", "4097", -1 },
		{ "100", "99999999999999999999", -1 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		int got = activation_count(rows[i].pid, rows[i].fds, 100);

		if (got != rows[i].expected)
			fail_msg("row %zu (LISTEN_PID=%s LISTEN_FDS=%s): %d, "
				 "expected %d", i, rows[i].pid ? rows[i].pid :
				 "unset", rows[i].fds ? rows[i].fds : "unset",
				 got, rows[i].expected);
	}
}

static void
test_name_rows(void **state)
{
	static const struct {
		const char *names;
		int i;
		const char *expected;
	} rows[] = {
		{ "web:uds", 0, "web" },
		{ "web:uds", 1, "uds" },
		{ "web:uds", 2, "" },
		{ "web", 0, "web" },
		{ "::x", 2, "x" },
		{ "::x", 1, "" },
		{ "", 0, "" },
		{ NULL, 0, "" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		char buf[16] = "junk";

		activation_name(rows[i].names, rows[i].i, buf, sizeof(buf));
		if (strcmp(buf, rows[i].expected) != 0)
			fail_msg("row %zu (%s, %d): \"%s\", expected \"%s\"", i,
				 rows[i].names ? rows[i].names : "NULL",
				 rows[i].i, buf, rows[i].expected);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_rows),
		cmocka_unit_test(test_name_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

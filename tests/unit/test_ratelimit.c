/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/ratelimit.c: once per interval, with a count. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define END -1

/* Events at the given times, on one limiter of interval_ms. */
struct ratelimit_row {
	const char *name;
	int64_t interval_ms;
	int64_t at[8];			/* ends with END */
	/* Per event: -1 held back, else reported with this many held. */
	long expected[8];
};

static void
test_pass(void **state)
{
	static const struct ratelimit_row rows[] = {
		{ "one event is reported", 1000, { 5, END }, { 0 } },
		{ "the first at time 0 too", 1000, { 0, END }, { 0 } },
		{ "a burst: one report", 1000, { 10, 10, 11, 500, END },
		  { 0, -1, -1, -1 } },
		{ "after the interval, with the count", 1000,
		  { 10, 20, 30, 1010, END }, { 0, -1, -1, 2 } },
		{ "just before the interval: held", 1000,
		  { 10, 1009, 1010, END }, { 0, -1, 1 } },
		{ "quiet periods: nothing held", 1000,
		  { 0, 5000, 9000, END }, { 0, 0, 0 } },
		{ "the count starts again after a report", 100,
		  { 0, 1, 2, 100, 101, 200, END }, { 0, -1, -1, 2, -1, 1 } },
		{ "interval 0: every event", 0, { 7, 7, 7, END }, { 0, 0, 0 } },
		{ "negative clock values", 1000, { -5000, -4500, -4000, END },
		  { 0, -1, 1 } },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct ratelimit rl = RATELIMIT_INIT(rows[i].interval_ms);

		for (size_t k = 0; rows[i].at[k] != END; k++) {
			unsigned long held = 12345;
			bool pass = ratelimit_pass(&rl, rows[i].at[k], &held);
			long want = rows[i].expected[k];

			if (pass != (want >= 0) || (pass && held != (unsigned long)want))
				fail_msg("row %zu (%s), event %zu at %lld: %s "
					 "with %lu held, expected %s with %ld",
					 i, rows[i].name, k,
					 (long long)rows[i].at[k],
					 pass ? "reported" : "held back", held,
					 want >= 0 ? "reported" : "held back", want);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

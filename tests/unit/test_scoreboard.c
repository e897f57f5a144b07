/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for the server records of src/scoreboard.c: found by name,
 * taken only when no live generation holds them, and showing only what
 * they are told to show.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoreboard.h"
#include "status.h"

static int
setup(void **state)
{
	static struct scoreboard sb;

	if (scoreboard_create(&sb, 4) == -1)
		return -1;
	*state = &sb;
	return 0;
}

static int
teardown(void **state)
{
	scoreboard_destroy(*state);
	return 0;
}

static const struct sb_server *
record(struct scoreboard *sb, int i)
{
	assert_true(i >= 0 && (uint32_t)i < sb->master->nservers);
	return &sb->master->servers[i];
}

static void
test_found_by_name(void **state)
{
	struct scoreboard *sb = *state;
	bool in_use[SB_SERVERS_MAX] = { false };
	int www = scoreboard_server_record(sb, "www", in_use);
	int echo;

	in_use[www] = true;
	echo = scoreboard_server_record(sb, "echo", in_use);
	assert_int_not_equal(www, echo);
	assert_int_equal(sb->master->nservers, 2);
	assert_string_equal(record(sb, www)->name, "www");
	/* Taking a name does not show it: listen is told, not guessed. */
	assert_string_equal(record(sb, www)->listen, "");
	assert_int_equal(scoreboard_server_record(sb, "www", in_use), www);
	assert_int_equal(sb->master->nservers, 2);
}

static void
test_show(void **state)
{
	struct scoreboard *sb = *state;
	bool in_use[SB_SERVERS_MAX] = { false };
	int r = scoreboard_server_record(sb, "www", in_use);

	scoreboard_server_show(sb, r, "127.0.0.1:8080", 3, 256, 0, 0);
	assert_string_equal(record(sb, r)->listen, "127.0.0.1:8080");
	assert_int_equal(record(sb, r)->generation, 3);
	assert_int_equal(record(sb, r)->max_workers, 256);
	/* Looking the name up again changes nothing it shows. */
	assert_int_equal(scoreboard_server_record(sb, "www", in_use), r);
	assert_string_equal(record(sb, r)->listen, "127.0.0.1:8080");
	assert_int_equal(record(sb, r)->generation, 3);
	/* No record, or one out of range: nothing to show, nothing broken. */
	scoreboard_server_show(sb, -1, "x", 4, 1, 0, 0);
	scoreboard_server_show(sb, SB_SERVERS_MAX, "x", 4, 1, 0, 0);
	assert_int_equal(record(sb, r)->generation, 3);
}

static void
fill_all(struct scoreboard *sb, bool *in_use)
{
	char name[16];

	for (int i = 0; i < SB_SERVERS_MAX; i++) {
		int r;

		snprintf(name, sizeof(name), "s%d", i);
		r = scoreboard_server_record(sb, name, in_use);
		assert_int_equal(r, i);
		in_use[r] = true;
	}
}

static void
test_held_records_never_taken(void **state)
{
	struct scoreboard *sb = *state;
	bool in_use[SB_SERVERS_MAX] = { false };

	fill_all(sb, in_use);
	assert_int_equal(sb->master->nservers, SB_SERVERS_MAX);
	assert_int_equal(scoreboard_server_record(sb, "new", in_use), -1);
	/* A held record still answers to its own name. */
	assert_int_equal(scoreboard_server_record(sb, "s7", in_use), 7);
}

static void
test_free_record_taken_and_cleared(void **state)
{
	struct scoreboard *sb = *state;
	bool in_use[SB_SERVERS_MAX] = { false };
	uint32_t seq;
	int r;

	fill_all(sb, in_use);
	sb->master->servers[5].requests = 99;
	scoreboard_server_show(sb, 5, "127.0.0.1:1", 1, 8, 0, 0);
	in_use[5] = false;
	seq = sb->master->seq;
	r = scoreboard_server_record(sb, "new", in_use);
	assert_int_equal(r, 5);
	assert_string_equal(record(sb, r)->name, "new");
	assert_string_equal(record(sb, r)->listen, "");
	assert_int_equal(record(sb, r)->requests, 0);
	assert_int_equal(record(sb, r)->generation, 0);
	/* Made under seq: a reader copying meanwhile tries again. */
	assert_int_equal(sb->master->seq, seq + 2);
	assert_int_equal(sb->master->nservers, SB_SERVERS_MAX);
	/* Its old name is gone with it. */
	in_use[r] = true;
	assert_int_equal(scoreboard_server_record(sb, "s5", in_use), -1);
}

static void
test_snapshot_shows_records(void **state)
{
	struct scoreboard *sb = *state;
	bool in_use[SB_SERVERS_MAX] = { false };
	struct status_snapshot *snap = calloc(1, sizeof(*snap));
	int r = scoreboard_server_record(sb, "www", in_use);

	assert_non_null(snap);
	sb->master->generation = 2;	/* the generation that serves it */
	scoreboard_server_show(sb, r, "[::1]:80", 2, 16, 3, 6);
	scoreboard_note_queue(sb, r, 5);
	assert_int_equal(scoreboard_snapshot(sb, monotonic_ms(), snap), 0);
	assert_int_equal(snap->nservers, 1);
	assert_string_equal(snap->servers[0].name, "www");
	assert_string_equal(snap->servers[0].listen, "[::1]:80");
	assert_int_equal(snap->servers[0].generation, 2);
	assert_int_equal(snap->servers[0].max_workers, 16);
	assert_int_equal(snap->servers[0].min_spare, 3);
	assert_int_equal(snap->servers[0].max_spare, 6);
	assert_int_equal(snap->servers[0].queue, 5);
	free(snap->workers);
	/* Generation 3 serves without it: no socket, nothing waits. */
	sb->master->generation = 3;
	assert_int_equal(scoreboard_snapshot(sb, monotonic_ms(), snap), 0);
	assert_int_equal(snap->servers[0].generation, 2);
	assert_int_equal(snap->servers[0].max_workers, 0);
	assert_int_equal(snap->servers[0].max_spare, 0);
	assert_int_equal(snap->servers[0].queue, 0);
	assert_int_equal(snap->servers[0].queue_peak, 5);
	free(snap->workers);
	free(snap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_found_by_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_records_never_taken,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_free_record_taken_and_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_shows_records,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

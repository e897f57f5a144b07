/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for src/http/fcache.c: the open-file cache's table (lookup,
 * order of use, eviction, replacement) and its decisions (when to check
 * an entry again, what counts as the same file, when a body may be kept).
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
#include <sys/stat.h>

#include "http/fcache.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the table ---------------------------------------------------------- */

/* One step of a script run against a cache of 3 entries. */
struct step {
	char op;		/* 'a' add, 'f' find, 'd' drop what find gives */
	const char *key;
	bool found;		/* for 'f': expected to be there */
	const char *oldest;	/* the least recently used after the step */
	size_t count;
};

static void
test_table(void **state)
{
	static const struct step steps[] = {
		{ 'f', "/a", false, NULL, 0 },
		{ 'a', "/a", true, "/a", 1 },
		{ 'a', "/b", true, "/a", 2 },
		{ 'a', "/c", true, "/a", 3 },
		/* Using /a makes /b the oldest. */
		{ 'f', "/a", true, "/b", 3 },
		/* Full: adding drops the least recently used, /b. */
		{ 'a', "/d", true, "/c", 3 },
		{ 'f', "/b", false, "/c", 3 },
		{ 'f', "/c", true, "/a", 3 },
		/* Adding a key that is there replaces it, drops nothing else. */
		{ 'a', "/a", true, "/d", 3 },
		{ 'f', "/d", true, "/c", 3 },
		{ 'd', "/c", true, "/a", 2 },
		{ 'f', "/c", false, "/a", 2 },
		{ 'd', "/a", true, "/d", 1 },
		{ 'd', "/d", true, NULL, 0 },
		/* Keys differ in one byte, or are prefixes of each other. */
		{ 'a', "/x/", true, "/x/", 1 },
		{ 'a', "/x", true, "/x/", 2 },
		{ 'f', "/x/", true, "/x", 2 },
		{ 'f', "/y", false, "/x", 2 },
	};
	struct fcache *c = fcache_new(3);

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < NROWS(steps); i++) {
		const struct step *s = &steps[i];
		struct fcache_entry *e = NULL, *o;

		switch (s->op) {
		case 'a':
			e = fcache_add(c, s->key, s->key + 1, 1000);
			break;
		case 'f':
		case 'd':
			e = fcache_find(c, s->key);
			break;
		}
		if ((e != NULL) != s->found)
			fail_msg("step %zu (%c %s): %s", i, s->op, s->key,
				 e ? "found" : "not found");
		if (e != NULL && (strcmp(e->key, s->key) != 0 ||
				  strcmp(e->rel, s->key + 1) != 0))
			fail_msg("step %zu (%c %s): entry of %s (%s)", i, s->op,
				 s->key, e->key, e->rel);
		if (s->op == 'a' && (e->file.fd != -1 || e->checked_ms != 1000))
			fail_msg("step %zu: new entry fd %d, checked %lld", i,
				 e->file.fd, (long long)e->checked_ms);
		if (s->op == 'd' && e != NULL)
			fcache_drop(c, e);
		o = fcache_oldest(c);
		if ((o == NULL) != (s->oldest == NULL) ||
		    (o != NULL && strcmp(o->key, s->oldest) != 0))
			fail_msg("step %zu (%c %s): oldest %s, expected %s", i,
				 s->op, s->key, o ? o->key : "none",
				 s->oldest ? s->oldest : "none");
		if (fcache_count(c) != s->count)
			fail_msg("step %zu (%c %s): %zu entries, expected %zu",
				 i, s->op, s->key, fcache_count(c), s->count);
	}
	fcache_free(c);
}

/* Many keys through a small cache: the most recent ones stay, found. */
static void
test_many(void **state)
{
	struct fcache *c = fcache_new(50);
	char key[32];

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "/file%d", i);
		assert_non_null(fcache_add(c, key, key + 1, i));
	}
	assert_int_equal(fcache_count(c), 50);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "/file%d", i);
		if ((fcache_find(c, key) != NULL) != (i >= 950))
			fail_msg("row %d: %s %s", i, key, i >= 950 ?
				 "lost" : "kept past the limit");
	}
	fcache_clear(c);
	assert_int_equal(fcache_count(c), 0);
	assert_null(fcache_oldest(c));
	fcache_free(c);
	fcache_free(NULL);
}

/* ---- fcache_due --------------------------------------------------------- */

struct due_row {
	int64_t checked, now;
	int valid;
	bool due;
};

static void
test_due(void **state)
{
	static const struct due_row rows[] = {
		{ 1000, 1000, 1, false },
		{ 1000, 1999, 1, false },
		{ 1000, 2000, 1, true },
		{ 1000, 5000, 1, true },
		{ 1000, 10999, 10, false },
		{ 1000, 11000, 10, true },
		/* A clock that went back (never, on CLOCK_MONOTONIC): check. */
		{ 5000, 4000, 1, true },
	};
	struct fcache_entry e;

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		memset(&e, 0, sizeof(e));
		e.checked_ms = rows[i].checked;
		if (fcache_due(&e, rows[i].now, rows[i].valid) != rows[i].due)
			fail_msg("row %zu: checked %lld, now %lld, valid %d: "
				 "expected %s", i, (long long)rows[i].checked,
				 (long long)rows[i].now, rows[i].valid,
				 rows[i].due ? "due" : "not due");
	}
}

/* ---- fcache_same_file --------------------------------------------------- */

enum change { NONE, DEV, INO, SIZE, MODE, MTIME_S, MTIME_NS, CTIME_S,
	      CTIME_NS, ATIME, NLINK };

static void
change(struct stat *st, enum change what)
{
	switch (what) {
	case NONE: break;
	case DEV: st->st_dev++; break;
	case INO: st->st_ino++; break;
	case SIZE: st->st_size++; break;
	case MODE: st->st_mode ^= 0044; break;
	case MTIME_S: st->st_mtim.tv_sec++; break;
	case MTIME_NS: st->st_mtim.tv_nsec++; break;
	case CTIME_S: st->st_ctim.tv_sec++; break;
	case CTIME_NS: st->st_ctim.tv_nsec++; break;
	case ATIME: st->st_atim.tv_sec++; break;	/* a read */
	case NLINK: st->st_nlink++; break;		/* its ctime moves too */
	}
}

static void
test_same_file(void **state)
{
	static const struct { enum change what; bool same; } rows[] = {
		{ NONE, true }, { DEV, false }, { INO, false }, { SIZE, false },
		{ MODE, false }, { MTIME_S, false }, { MTIME_NS, false },
		{ CTIME_S, false }, { CTIME_NS, false }, { ATIME, true },
		{ NLINK, true },
	};
	struct stat a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.st_dev = 8;
	a.st_ino = 1234;
	a.st_size = 1000;
	a.st_mode = S_IFREG | 0644;
	a.st_mtim.tv_sec = 1700000000;
	a.st_mtim.tv_nsec = 5;
	a.st_ctim = a.st_mtim;
	for (size_t i = 0; i < NROWS(rows); i++) {
		b = a;
		change(&b, rows[i].what);
		if (fcache_same_file(&a, &b) != rows[i].same)
			fail_msg("row %zu (change %d): expected %s", i,
				 rows[i].what, rows[i].same ? "same" : "changed");
	}
}

/* ---- fcache_settled ----------------------------------------------------- */

struct settled_row {
	long long mtime, ctime, now;
	bool settled;
};

static void
test_settled(void **state)
{
	static const struct settled_row rows[] = {
		{ 100, 100, 100, false },
		{ 100, 100, 101, false },
		{ 100, 100, 102, true },
		{ 100, 100, 5000, true },
		/* An old mtime put back (touch -d, rsync -t): the ctime counts. */
		{ 10, 100, 101, false },
		{ 10, 100, 102, true },
		/* An mtime in the future: never settled. */
		{ 9000, 100, 5000, false },
	};
	struct stat st;

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		memset(&st, 0, sizeof(st));
		st.st_mtim.tv_sec = (time_t)rows[i].mtime;
		st.st_ctim.tv_sec = (time_t)rows[i].ctime;
		if (fcache_settled(&st, (time_t)rows[i].now) != rows[i].settled)
			fail_msg("row %zu: mtime %lld, ctime %lld, now %lld: "
				 "expected %s", i, rows[i].mtime, rows[i].ctime,
				 rows[i].now, rows[i].settled ? "settled" :
				 "not settled");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_same_file),
		cmocka_unit_test(test_settled),
	};

	return cmocka_run_group_tests_name("http_fcache", tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for src/identity.c: the replies of the lookup and the try
 * children, and the names of the steps of the privilege drop.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "identity.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define NO_USER "preforkd-test-no-such-user"

enum { USER = 1, GROUP = 2 };

/* A reply of head words, then extra bytes (gids or garbage). */
struct reply_row {
	const char *name;
	uint32_t head[5];		/* flags, status, uid, gid, ngroups */
	uint32_t gids[4];
	size_t ngids;			/* gid words sent after the head */
	size_t cut;			/* bytes cut off the end */
	size_t extra;			/* zero bytes added at the end */
	int rc;
};

static size_t
build(const struct reply_row *r, unsigned char *buf)
{
	size_t len = 0;

	memcpy(buf, r->head, sizeof(r->head));
	len += sizeof(r->head);
	memcpy(buf + len, r->gids, r->ngids * 4);
	len += r->ngids * 4;
	memset(buf + len, 0, r->extra);
	len += r->extra;
	return len - r->cut;
}

static void
test_decode(void **state)
{
	static const struct reply_row rows[] = {
		{ "nothing found", { 0, IDENTITY_GROUPS_NONE, 0, 0, 0 },
		  { 0 }, 0, 0, 0, 0 },
		{ "group only", { GROUP, IDENTITY_GROUPS_NONE, 0, 65534, 0 },
		  { 0 }, 0, 0, 0, 0 },
		{ "user with groups", { USER | GROUP, IDENTITY_GROUPS_OK,
		  65534, 65534, 3 }, { 65534, 27, 100 }, 3, 0, 0, 0 },
		{ "user with no groups", { USER, IDENTITY_GROUPS_OK, 1, 1, 0 },
		  { 0 }, 0, 0, 0, 0 },
		{ "too many groups", { USER, IDENTITY_GROUPS_TOO_MANY, 1, 1, 0 },
		  { 0 }, 0, 0, 0, 0 },
		{ "child out of memory", { USER, IDENTITY_GROUPS_NO_MEMORY,
		  1, 1, 0 }, { 0 }, 0, 0, 0, 0 },
		{ "empty", { 0 }, { 0 }, 0, 20, 0, -1 },
		{ "head cut short", { 0 }, { 0 }, 0, 1, 0, -1 },
		{ "a gid missing", { USER, IDENTITY_GROUPS_OK, 1, 1, 2 },
		  { 1 }, 1, 0, 0, -1 },
		{ "a gid cut short", { USER, IDENTITY_GROUPS_OK, 1, 1, 1 },
		  { 1 }, 1, 1, 0, -1 },
		{ "trailing bytes", { USER, IDENTITY_GROUPS_OK, 1, 1, 1 },
		  { 1 }, 1, 0, 1, -1 },
		{ "unknown flag", { 4, IDENTITY_GROUPS_NONE, 0, 0, 0 },
		  { 0 }, 0, 0, 0, -1 },
		{ "unknown groups status", { USER, IDENTITY_GROUPS_TOO_MANY + 1,
		  1, 1, 0 }, { 0 }, 0, 0, 0, -1 },
		{ "more groups than the cap", { USER, IDENTITY_GROUPS_OK, 1, 1,
		  IDENTITY_MAX_GROUPS + 1 }, { 0 }, 0, 0, 0, -1 },
		{ "gids with a failed list", { USER, IDENTITY_GROUPS_TOO_MANY,
		  1, 1, 1 }, { 1 }, 1, 0, 0, -1 },
		{ "user found, groups not looked up", { USER,
		  IDENTITY_GROUPS_NONE, 1, 1, 0 }, { 0 }, 0, 0, 0, -1 },
		{ "groups without a user", { GROUP, IDENTITY_GROUPS_OK, 0, 1, 0 },
		  { 0 }, 0, 0, 0, -1 },
	};
	unsigned char buf[64];

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct reply_row *r = &rows[i];
		struct identity id;
		size_t len = build(r, buf);
		int rc = identity_decode(buf, len, &id);

		if (rc != r->rc)
			fail_msg("row %zu (%s): decode returned %d, expected %d",
				 i, r->name, rc, r->rc);
		if (rc == -1)
			continue;
		if (id.user_found != ((r->head[0] & USER) != 0) ||
		    id.group_found != ((r->head[0] & GROUP) != 0) ||
		    (uint32_t)id.groups_status != r->head[1] ||
		    id.uid != r->head[2] || id.gid != r->head[3] ||
		    (size_t)id.ngroups != r->ngids ||
		    (r->ngids > 0 &&
		     memcmp(id.groups, r->gids, r->ngids * 4) != 0))
			fail_msg("row %zu (%s): decoded differently", i,
				 r->name);
		identity_free(&id);
	}
}

/* What the child encodes, the parent decodes; gids only for a list. */
static void
test_encode_head(void **state)
{
	static const struct identity rows[] = {
		{ .user_found = true, .uid = 7, .gid = 8,
		  .groups_status = IDENTITY_GROUPS_OK, .ngroups = 2 },
		{ .user_found = true, .uid = 7, .gid = 8,
		  .groups_status = IDENTITY_GROUPS_TOO_MANY, .ngroups = 9 },
		{ .group_found = true, .uid = (uid_t)-1, .gid = 3 },
		{ .uid = (uid_t)-1, .gid = (gid_t)-1 },
	};
	static const gid_t gids[2] = { 8, 4242 };

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		unsigned char buf[IDENTITY_HEAD_SIZE + sizeof(gids)];
		size_t len = IDENTITY_HEAD_SIZE;
		struct identity id;

		identity_encode_head(&rows[i], buf);
		if (rows[i].groups_status == IDENTITY_GROUPS_OK) {
			memcpy(buf + len, gids, sizeof(gids));
			len += sizeof(gids);
		}
		if (identity_decode(buf, len, &id) == -1)
			fail_msg("row %zu: its own encoding does not decode", i);
		if (id.user_found != rows[i].user_found ||
		    id.group_found != rows[i].group_found ||
		    id.uid != rows[i].uid || id.gid != rows[i].gid ||
		    id.groups_status != rows[i].groups_status ||
		    id.ngroups != (rows[i].groups_status ==
				   IDENTITY_GROUPS_OK ? 2 : 0))
			fail_msg("row %zu: decoded differently", i);
		identity_free(&id);
	}
}

/* The whole round trip through a child, for names every system has. */
static void
test_lookup(void **state)
{
	struct identity id;
	char err[256] = "";
	bool has_root = false;

	(void)state;
	if (identity_lookup("root", "root", &id, err, sizeof(err)) == -1)
		fail_msg("lookup of root failed: %s", err);
	assert_true(id.user_found);
	assert_true(id.group_found);
	assert_int_equal(id.uid, 0);
	assert_int_equal(id.gid, 0);
	assert_int_equal(id.groups_status, IDENTITY_GROUPS_OK);
	for (int i = 0; i < id.ngroups; i++)
		has_root = has_root || id.groups[i] == 0;
	assert_true(has_root);
	identity_free(&id);

	if (identity_lookup(NO_USER, NULL, &id, err, sizeof(err)) == -1)
		fail_msg("lookup of a missing user failed: %s", err);
	assert_false(id.user_found);
	assert_false(id.group_found);
	assert_int_equal(id.groups_status, IDENTITY_GROUPS_NONE);
	assert_int_equal(id.ngroups, 0);
	identity_free(&id);
}

/* A try reply of three words, cut short or lengthened. */
struct try_row {
	const char *name;
	uint32_t words[3];		/* drop step, failed, errno */
	size_t cut;			/* bytes cut off the end */
	size_t extra;			/* zero bytes added at the end */
	int rc;
};

static void
test_try_decode(void **state)
{
	static const struct try_row rows[] = {
		{ "fn succeeded", { IDENTITY_DROPPED, 0, 0 }, 0, 0, 0 },
		{ "fn failed", { IDENTITY_DROPPED, 1, EACCES }, 0, 0, 0 },
		{ "fn failed, errno 0", { IDENTITY_DROPPED, 1, 0 }, 0, 0, 0 },
		{ "setgroups failed", { IDENTITY_DROP_SETGROUPS, 0, EPERM },
		  0, 0, 0 },
		{ "setgid failed", { IDENTITY_DROP_SETGID, 0, EPERM }, 0, 0, 0 },
		{ "setuid failed", { IDENTITY_DROP_SETUID, 0, EAGAIN }, 0, 0, 0 },
		{ "drop unverified", { IDENTITY_DROP_UNVERIFIED, 0, 0 },
		  0, 0, 0 },
		{ "the largest errno", { IDENTITY_DROPPED, 1, 4095 }, 0, 0, 0 },
		{ "empty", { 0 }, 12, 0, -1 },
		{ "cut short", { IDENTITY_DROPPED, 0, 0 }, 1, 0, -1 },
		{ "trailing byte", { IDENTITY_DROPPED, 0, 0 }, 0, 1, -1 },
		{ "unknown step", { IDENTITY_DROP_UNVERIFIED + 1, 0, 0 },
		  0, 0, -1 },
		{ "failed is not a flag", { IDENTITY_DROPPED, 2, EACCES },
		  0, 0, -1 },
		{ "fn failed after a failed drop", { IDENTITY_DROP_SETUID, 1,
		  EPERM }, 0, 0, -1 },
		{ "an errno with a success", { IDENTITY_DROPPED, 0, EACCES },
		  0, 0, -1 },
		{ "errno past MAX_ERRNO", { IDENTITY_DROPPED, 1, 4096 },
		  0, 0, -1 },
		{ "a negative errno", { IDENTITY_DROPPED, 1, (uint32_t)-13 },
		  0, 0, -1 },
	};
	unsigned char buf[IDENTITY_TRY_REPLY_SIZE + 8];

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct try_row *r = &rows[i];
		struct identity_try_reply out;
		size_t len = sizeof(r->words);
		int rc;

		memcpy(buf, r->words, sizeof(r->words));
		memset(buf + len, 0, r->extra);
		len += r->extra;
		len -= r->cut;
		rc = identity_try_decode(buf, len, &out);
		if (rc != r->rc)
			fail_msg("row %zu (%s): decode returned %d, expected %d",
				 i, r->name, rc, r->rc);
		if (rc == 0 && ((uint32_t)out.drop != r->words[0] ||
				(uint32_t)out.failed != r->words[1] ||
				(uint32_t)out.err != r->words[2]))
			fail_msg("row %zu (%s): decoded differently", i,
				 r->name);
	}
}

/* What the child encodes, the parent decodes. */
static void
test_try_encode(void **state)
{
	static const struct identity_try_reply rows[] = {
		{ IDENTITY_DROPPED, false, 0 },
		{ IDENTITY_DROPPED, true, ENOENT },
		{ IDENTITY_DROP_SETGROUPS, false, EPERM },
		{ IDENTITY_DROP_UNVERIFIED, false, 0 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		unsigned char buf[IDENTITY_TRY_REPLY_SIZE];
		struct identity_try_reply out;

		identity_try_encode(&rows[i], buf);
		if (identity_try_decode(buf, sizeof(buf), &out) == -1)
			fail_msg("row %zu: its own encoding does not decode", i);
		if (out.drop != rows[i].drop || out.failed != rows[i].failed ||
		    out.err != rows[i].err)
			fail_msg("row %zu: decoded differently", i);
	}
}

/* The failed call, named as the worker logs it and -t reports it. */
static void
test_drop_describe(void **state)
{
	static const gid_t groups[] = { 65534, 27 };
	static const struct identity_ids ids = {
		.user = "nobody", .uid = 65534, .gid = 65533,
		.groups = groups, .ngroups = 2,
	};
	static const struct {
		enum identity_drop step;
		const char *want;
	} rows[] = {
		{ IDENTITY_DROP_SETGROUPS, "setgroups(nobody, 2 groups)" },
		{ IDENTITY_DROP_SETGID, "setgid(65533)" },
		{ IDENTITY_DROP_SETUID, "setuid(65534)" },
		{ IDENTITY_DROP_UNVERIFIED,
		  "privilege drop to nobody did not take effect" },
		{ IDENTITY_DROPPED, "privilege drop to nobody" },
	};
	char out[128], tiny[8];

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		identity_drop_describe(rows[i].step, &ids, out, sizeof(out));
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu: \"%s\", expected \"%s\"", i, out,
				 rows[i].want);
	}
	/* Cut short, never spilt. */
	identity_drop_describe(IDENTITY_DROP_SETGROUPS, &ids, tiny,
			       sizeof(tiny));
	assert_string_equal(tiny, "setgrou");
}

static int
opens_nothing(const char *arg)
{
	(void)arg;
	return 0;
}

static int
fails_with(const char *arg)
{
	errno = strcmp(arg, "EACCES") == 0 ? EACCES : ENOENT;
	return -1;
}

/* The round trip through a child that keeps this process's identity. */
static void
test_try(void **state)
{
	char err[256] = "";
	int fn_errno = -1;

	(void)state;
	if (identity_try(NULL, opens_nothing, "", &fn_errno, err,
			 sizeof(err)) != 0)
		fail_msg("a function that succeeds: %s", err);
	assert_int_equal(fn_errno, 0);
	assert_int_equal(identity_try(NULL, fails_with, "EACCES", &fn_errno,
				      err, sizeof(err)), 1);
	assert_int_equal(fn_errno, EACCES);
	assert_int_equal(identity_try(NULL, fails_with, "ENOENT", &fn_errno,
				      err, sizeof(err)), 1);
	assert_int_equal(fn_errno, ENOENT);
}

static int
runs_as_65534(const char *arg)
{
	(void)arg;
	if (getuid() == 65534 && geteuid() == 65534 && getgid() == 65534 &&
	    getegid() == 65534)
		return 0;
	errno = EPERM;
	return -1;
}

/*
 * With ids, fn runs after the switch; a switch that fails (not root) is
 * no answer, and says which call failed.  Ids need not have a name.
 */
static void
test_try_switch(void **state)
{
	static const gid_t groups[] = { 65534 };
	static const struct identity_ids ids = {
		.user = "uid65534", .uid = 65534, .gid = 65534,
		.groups = groups, .ngroups = 1,
	};
	char err[256] = "";
	int fn_errno = -1, rc;

	(void)state;
	rc = identity_try(&ids, runs_as_65534, "", &fn_errno, err,
			  sizeof(err));
	if (geteuid() == 0) {
		if (rc != 0)
			fail_msg("as root: %d, errno %d, %s", rc, fn_errno, err);
		return;
	}
	assert_int_equal(rc, -1);
	if (strncmp(err, "setgroups(uid65534, 1 groups): ", 31) != 0)
		fail_msg("not root: \"%s\"", err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode_head),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_try_decode),
		cmocka_unit_test(test_try_encode),
		cmocka_unit_test(test_drop_describe),
		cmocka_unit_test(test_try),
		cmocka_unit_test(test_try_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

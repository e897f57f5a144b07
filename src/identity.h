/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The workers' identity (user, group, supplementary groups), looked up in
 * a short-lived child process: getpwnam() and friends load NSS modules
 * (libnss_systemd and what it pulls in), which would otherwise stay
 * mapped in the master and in every worker forked from it.  Each worker
 * takes it with identity_drop(); a check (-t) takes it the same way, in
 * a child, to try what the workers will open (identity_try()).
 */
#ifndef PREFORKD_IDENTITY_H
#define PREFORKD_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* setgroups() takes no more on Linux (NGROUPS_MAX). */
#define IDENTITY_MAX_GROUPS 65536

enum identity_groups {
	IDENTITY_GROUPS_NONE,		/* not looked up: no user found */
	IDENTITY_GROUPS_OK,
	IDENTITY_GROUPS_NO_MEMORY,
	IDENTITY_GROUPS_TOO_MANY,	/* more than IDENTITY_MAX_GROUPS */
};

struct identity {
	bool user_found, group_found;
	uid_t uid;			/* the user's, if found */
	gid_t gid;			/* the group's if found, else the user's */
	enum identity_groups groups_status;
	gid_t *groups;			/* the user's groups, for setgroups() */
	int ngroups;
};

/*
 * A lookup that hangs (a name service that does not answer) would hang
 * the master with it, unable to supervise or to take signals: the child
 * is killed after this long and the lookup fails.
 */
#define IDENTITY_TIMEOUT_MS 10000

/* The reply's fixed part: flags, groups status, uid, gid, ngroups. */
#define IDENTITY_HEAD_SIZE (5 * 4)
#define IDENTITY_REPLY_MAX (IDENTITY_HEAD_SIZE + 4 * IDENTITY_MAX_GROUPS)

/*
 * Looks up user and group (either may be NULL) in a child process, as
 * getpwnam(), getgrnam() and getgrouplist() would here; the group, when
 * given, overrides the user's primary group, and the supplementary groups
 * are the user's for that gid.  The child is reaped before this returns
 * (but for one killed at the timeout and stuck in the kernel: the
 * caller's waitpid(-1) gets it later).  Returns 0 with *out filled
 * (identity_free() it), or -1 with the reason in err when the lookup
 * could not be made (pipe, fork, a child that died or did not answer
 * within IDENTITY_TIMEOUT_MS).
 */
int identity_lookup(const char *user, const char *group,
		    struct identity *out, char *err, size_t errlen);

void identity_free(struct identity *id);

/* PURE: the reply's fixed part, in host byte order (one host speaks). */
void identity_encode_head(const struct identity *id,
			  unsigned char head[IDENTITY_HEAD_SIZE]);

/*
 * PURE but for malloc: a whole reply (head, then ngroups gids) -> *out.
 * Returns 0, or -1 if the reply is short, long or inconsistent.  A group
 * list that cannot be allocated here is reported as
 * IDENTITY_GROUPS_NO_MEMORY, as in the child.
 */
int identity_decode(const unsigned char *buf, size_t len,
		    struct identity *out);

/* Whom a worker becomes after its fork, from the config. */
struct identity_ids {
	const char *user;		/* for messages */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int ngroups;
};

/* The step of identity_drop() that failed, or IDENTITY_DROPPED. */
enum identity_drop {
	IDENTITY_DROPPED,
	IDENTITY_DROP_SETGROUPS,
	IDENTITY_DROP_SETGID,
	IDENTITY_DROP_SETUID,
	IDENTITY_DROP_UNVERIFIED,	/* the calls returned 0, yet it did not take */
};

/*
 * Takes ids for good, as a worker does: setgroups() -> setgid() ->
 * setuid(), then checks that the switch took and that root cannot be
 * taken back.  errno is set for every failed step but
 * IDENTITY_DROP_UNVERIFIED.
 */
enum identity_drop identity_drop(const struct identity_ids *ids);

/*
 * PURE: the call that failed at step, as the worker logs it before
 * ": strerror": "setgroups(nobody, 2 groups)", "setgid(65534)", or for
 * IDENTITY_DROP_UNVERIFIED (no errno) "privilege drop to nobody did not
 * take effect".
 */
void identity_drop_describe(enum identity_drop step,
			    const struct identity_ids *ids, char *out,
			    size_t outlen);

/*
 * What a worker will open itself, tried beforehand (-t, -s reload): runs
 * fn(arg) in a child process that first takes ids with identity_drop()
 * (ids NULL: keeps this process's identity, as workers do when they do
 * not switch).  Returns 0 if fn returned 0; 1 if fn returned -1, its
 * errno in *fn_errno; -1 with the reason in err if the answer could not
 * be had (pipe, fork, the switch itself, a child that died or did not
 * answer within IDENTITY_TIMEOUT_MS: a hung file system).
 */
int identity_try(const struct identity_ids *ids, int (*fn)(const char *arg),
		 const char *arg, int *fn_errno, char *err, size_t errlen);

/* The try child's reply: what came of the switch and of fn. */
struct identity_try_reply {
	enum identity_drop drop;	/* IDENTITY_DROPPED: fn was called */
	bool failed;			/* fn returned -1 */
	int err;			/* errno of the failed step, else 0 */
};

#define IDENTITY_TRY_REPLY_SIZE (3 * 4)

/* PURE: the reply in host byte order (one host speaks). */
void identity_try_encode(const struct identity_try_reply *r,
			 unsigned char buf[IDENTITY_TRY_REPLY_SIZE]);

/*
 * PURE: buf[0..len) -> *out.  0, or -1 if the reply is short, long or
 * inconsistent (an unknown step, fn failed after a switch that did not
 * happen, an errno out of range).
 */
int identity_try_decode(const unsigned char *buf, size_t len,
			struct identity_try_reply *out);

#endif

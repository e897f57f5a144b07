/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The workers' identity (user, group, supplementary groups), looked up in
 * a short-lived child process: getpwnam() and friends load NSS modules
 * (libnss_systemd and what it pulls in), which would otherwise stay
 * mapped in the master and in every worker forked from it.
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

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The workers' identity: looked up in a child so no NSS module loads
 * here, taken by each worker, and taken by a child beforehand to try
 * what the workers will open.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "identity.h"
#include "netio.h"
#include "scoreboard.h"

/* The reply carries ids as 32-bit words, as Linux defines them. */
_Static_assert(sizeof(uid_t) == 4 && sizeof(gid_t) == 4,
	       "uid_t and gid_t are 32 bits");

enum { FOUND_USER = 1, FOUND_GROUP = 2 };

/* Linux's MAX_ERRNO: no errno is larger. */
#define ERRNO_MAX 4095

void
identity_free(struct identity *id)
{
	free(id->groups);
	id->groups = NULL;
	id->ngroups = 0;
}

static void
put_word(unsigned char *p, uint32_t w)
{
	memcpy(p, &w, sizeof(w));
}

static uint32_t
get_word(const unsigned char *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

void
identity_encode_head(const struct identity *id,
		     unsigned char head[IDENTITY_HEAD_SIZE])
{
	bool listed = id->groups_status == IDENTITY_GROUPS_OK;

	put_word(head, (id->user_found ? FOUND_USER : 0) |
		 (id->group_found ? FOUND_GROUP : 0));
	put_word(head + 4, (uint32_t)id->groups_status);
	put_word(head + 8, (uint32_t)id->uid);
	put_word(head + 12, (uint32_t)id->gid);
	put_word(head + 16, listed ? (uint32_t)id->ngroups : 0);
}

int
identity_decode(const unsigned char *buf, size_t len, struct identity *out)
{
	uint32_t flags, status, n;

	if (len < IDENTITY_HEAD_SIZE)
		return -1;
	flags = get_word(buf);
	status = get_word(buf + 4);
	n = get_word(buf + 16);
	if ((flags & ~(uint32_t)(FOUND_USER | FOUND_GROUP)) != 0 ||
	    status > IDENTITY_GROUPS_TOO_MANY || n > IDENTITY_MAX_GROUPS ||
	    (n != 0 && status != IDENTITY_GROUPS_OK) ||
	    len != IDENTITY_HEAD_SIZE + 4 * (size_t)n)
		return -1;
	/* The groups are looked up exactly when the user was found. */
	if ((status != IDENTITY_GROUPS_NONE) != ((flags & FOUND_USER) != 0))
		return -1;
	*out = (struct identity){
		.user_found = (flags & FOUND_USER) != 0,
		.group_found = (flags & FOUND_GROUP) != 0,
		.uid = (uid_t)get_word(buf + 8),
		.gid = (gid_t)get_word(buf + 12),
		.groups_status = (enum identity_groups)status,
	};
	if (n == 0)
		return 0;
	if ((out->groups = malloc(n * sizeof(gid_t))) == NULL) {
		out->groups_status = IDENTITY_GROUPS_NO_MEMORY;
		return 0;
	}
	memcpy(out->groups, buf + IDENTITY_HEAD_SIZE, n * sizeof(gid_t));
	out->ngroups = (int)n;
	return 0;
}

void
identity_try_encode(const struct identity_try_reply *r,
		    unsigned char buf[IDENTITY_TRY_REPLY_SIZE])
{
	put_word(buf, (uint32_t)r->drop);
	put_word(buf + 4, r->failed ? 1 : 0);
	put_word(buf + 8, (uint32_t)r->err);
}

int
identity_try_decode(const unsigned char *buf, size_t len,
		    struct identity_try_reply *out)
{
	uint32_t drop, failed, err;

	if (len != IDENTITY_TRY_REPLY_SIZE)
		return -1;
	drop = get_word(buf);
	failed = get_word(buf + 4);
	err = get_word(buf + 8);
	if (drop > IDENTITY_DROP_UNVERIFIED || failed > 1 || err > ERRNO_MAX ||
	    (failed && drop != IDENTITY_DROPPED) ||
	    (!failed && drop == IDENTITY_DROPPED && err != 0))
		return -1;
	*out = (struct identity_try_reply){
		.drop = (enum identity_drop)drop,
		.failed = failed == 1,
		.err = (int)err,
	};
	return 0;
}

enum identity_drop
identity_drop(const struct identity_ids *ids)
{
	if (setgroups((size_t)ids->ngroups, ids->groups) == -1)
		return IDENTITY_DROP_SETGROUPS;
	if (setgid(ids->gid) == -1)
		return IDENTITY_DROP_SETGID;
	if (setuid(ids->uid) == -1)
		return IDENTITY_DROP_SETUID;
	/* Trust but verify: a drop that silently failed is a hole. */
	if (getuid() != ids->uid || geteuid() != ids->uid ||
	    getgid() != ids->gid || getegid() != ids->gid ||
	    (ids->uid != 0 && setuid(0) != -1))
		return IDENTITY_DROP_UNVERIFIED;
	return IDENTITY_DROPPED;
}

void
identity_drop_describe(enum identity_drop step,
		       const struct identity_ids *ids, char *out,
		       size_t outlen)
{
	switch (step) {
	case IDENTITY_DROP_SETGROUPS:
		snprintf(out, outlen, "setgroups(%s, %d groups)", ids->user,
			 ids->ngroups);
		return;
	case IDENTITY_DROP_SETGID:
		snprintf(out, outlen, "setgid(%d)", (int)ids->gid);
		return;
	case IDENTITY_DROP_SETUID:
		snprintf(out, outlen, "setuid(%d)", (int)ids->uid);
		return;
	case IDENTITY_DROP_UNVERIFIED:
		snprintf(out, outlen, "privilege drop to %s did not take effect",
			 ids->user);
		return;
	case IDENTITY_DROPPED:
		break;
	}
	snprintf(out, outlen, "privilege drop to %s", ids->user);
}

/* ---- the children ---- */

/* A list that grows until getgrouplist() fits, up to the kernel's cap. */
static void
child_groups(const char *user, struct identity *id)
{
	int n = 32;

	for (;;) {
		gid_t *g = realloc(id->groups, (size_t)n * sizeof(*g));
		int want = n;

		if (g == NULL) {
			id->groups_status = IDENTITY_GROUPS_NO_MEMORY;
			return;
		}
		id->groups = g;
		if (getgrouplist(user, id->gid, g, &want) != -1) {
			id->groups_status = IDENTITY_GROUPS_OK;
			id->ngroups = want;
			return;
		}
		if (n >= IDENTITY_MAX_GROUPS || want > IDENTITY_MAX_GROUPS) {
			id->groups_status = IDENTITY_GROUPS_TOO_MANY;
			return;
		}
		n = want > n ? want : 2 * n;
		if (n > IDENTITY_MAX_GROUPS)
			n = IDENTITY_MAX_GROUPS;
	}
}

static void
child_resolve(const char *user, const char *group, struct identity *id)
{
	if (user != NULL) {
		struct passwd *pw = getpwnam(user);

		if (pw != NULL) {
			id->user_found = true;
			id->uid = pw->pw_uid;
			id->gid = pw->pw_gid;
		}
	}
	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr != NULL) {
			id->group_found = true;
			id->gid = gr->gr_gid;
		}
	}
	if (id->user_found)
		child_groups(user, id);
}

/*
 * Handlers reset as exec would: the master's only set flags nobody here
 * reads, and with its signals unblocked a stop or a kill reaches this
 * child.  A handler left in place is harmless, so failures are ignored.
 */
static void
child_signals(void)
{
	sigset_t none;

	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa;

		if (sigaction(s, NULL, &sa) == -1 || sa.sa_handler == SIG_IGN ||
		    sa.sa_handler == SIG_DFL)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		(void)sigaction(s, &sa, NULL);
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

struct lookup_args {
	const char *user, *group;
};

/*
 * Never returns (nor does try_child): _exit() runs no atexit handler and
 * flushes no stdio buffer of the parent's.  The parent's other
 * descriptors are left alone; the reply pipe is the only one written.
 */
static void __attribute__((noreturn))
lookup_child(int fd, const void *p)
{
	const struct lookup_args *a = p;
	struct identity id = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
	unsigned char head[IDENTITY_HEAD_SIZE];

	child_signals();
	child_resolve(a->user, a->group, &id);
	identity_encode_head(&id, head);
	if (fdio_write_all(fd, head, sizeof(head)) == -1 ||
	    (id.groups_status == IDENTITY_GROUPS_OK && id.ngroups > 0 &&
	     fdio_write_all(fd, id.groups, (size_t)id.ngroups * sizeof(gid_t)) == -1))
		_exit(1);
	_exit(0);
}

struct try_args {
	const struct identity_ids *ids;
	int (*fn)(const char *arg);
	const char *arg;
};

/* Switches as a worker does, then calls fn: it meets what a worker would. */
static void __attribute__((noreturn))
try_child(int fd, const void *p)
{
	const struct try_args *a = p;
	struct identity_try_reply r = { .drop = IDENTITY_DROPPED };
	unsigned char buf[IDENTITY_TRY_REPLY_SIZE];

	child_signals();
	if (a->ids != NULL &&
	    (r.drop = identity_drop(a->ids)) != IDENTITY_DROPPED) {
		r.err = r.drop == IDENTITY_DROP_UNVERIFIED ? 0 : errno;
	} else if (a->fn(a->arg) == -1) {
		r.failed = true;
		r.err = errno;
	}
	identity_try_encode(&r, buf);
	_exit(fdio_write_all(fd, buf, sizeof(buf)) == -1 ? 1 : 0);
}

/* ---- the parent ---- */

/* Until EOF or cap bytes; -1 on a read error, or ETIMEDOUT at deadline. */
static ssize_t
read_reply(int fd, unsigned char *buf, size_t cap, int64_t deadline_ms)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t n;

		if (netio_wait_readable(fd, deadline_ms) == -1)
			return -1;
		n = read(fd, buf + len, cap - len);

		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/*
 * 1 with *status, 0 if the child was reaped already (SIGCHLD ignored by
 * whoever started us: the kernel reaps), -1 on error.  By pid, never -1:
 * the master's workers are the master's to reap.
 */
static int
reap_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) == -1) {
		if (errno == EINTR)
			continue;
		return errno == ECHILD ? 0 : -1;
	}
	return 1;
}

/*
 * A child past its time is killed.  It is waited for only briefly: one
 * stuck in the kernel (a hung NFS home, say) dies only when that call
 * returns, and the master reaps it then, as any unknown child.
 */
static void
kill_child(pid_t pid)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	pid_t got;

	(void)kill(pid, SIGKILL);
	for (int i = 0; i < 100; i++) {
		if ((got = waitpid(pid, NULL, WNOHANG)) == pid ||
		    (got == -1 && errno != EINTR))
			return;
		nanosleep(&pause, NULL);
	}
}

/* One child that answers through a pipe, and what came of it. */
struct child_call {
	void (*body)(int fd, const void *arg);	/* never returns */
	const void *arg;
	const char *who;		/* "lookup": "the lookup process" */
	const char *hint;		/* why it might not answer in time */
	unsigned char *buf;
	size_t cap;			/* a reply of cap bytes is too long */
	ssize_t len;
	int reaped, status;		/* as reap_child() */
};

/*
 * Forks c->body, reads its reply until EOF (at most c->cap bytes, within
 * IDENTITY_TIMEOUT_MS) and reaps it.  0 with c->len, c->reaped and
 * c->status set, or -1 with the reason in err.
 */
static int
child_call_run(struct child_call *c, char *err, size_t errlen)
{
	int fds[2], read_errno;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe(): %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork(): %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		c->body(fds[1], c->arg);
		_exit(1);
	}
	close(fds[1]);
	c->len = read_reply(fds[0], c->buf, c->cap,
			    monotonic_ms() + IDENTITY_TIMEOUT_MS);
	read_errno = errno;
	/* Closed first: a child still writing gets EPIPE and ends. */
	close(fds[0]);
	if (c->len == -1 && read_errno == ETIMEDOUT) {
		kill_child(pid);
		snprintf(err, errlen, "no answer within %d s (%s); the %s "
			 "process was killed", IDENTITY_TIMEOUT_MS / 1000,
			 c->hint, c->who);
		return -1;
	}
	c->reaped = reap_child(pid, &c->status);
	if (c->len == -1) {
		snprintf(err, errlen, "read() from the %s process: %s", c->who,
			 strerror(read_errno));
		return -1;
	}
	if (c->reaped == -1) {
		snprintf(err, errlen, "waitpid(%d): %s", (int)pid,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* For a reply that does not decode: what the child's end says. */
static void
describe_failure(const struct child_call *c, char *err, size_t errlen)
{
	if (c->reaped == 1 && WIFSIGNALED(c->status))
		snprintf(err, errlen, "the %s process was killed by signal %d",
			 c->who, WTERMSIG(c->status));
	else if (c->reaped == 1 && WIFEXITED(c->status) &&
		 WEXITSTATUS(c->status) != 0)
		snprintf(err, errlen, "the %s process exited with status %d",
			 c->who, WEXITSTATUS(c->status));
	else
		snprintf(err, errlen, "the %s process sent a malformed reply "
			 "(%zd bytes)", c->who, c->len);
}

int
identity_lookup(const char *user, const char *group, struct identity *out,
		char *err, size_t errlen)
{
	struct lookup_args a = { user, group };
	struct child_call c = {
		.body = lookup_child, .arg = &a, .who = "lookup",
		.hint = "a name service that does not respond?",
		.cap = IDENTITY_REPLY_MAX + 1,
	};
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((c.buf = malloc(c.cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (child_call_run(&c, err, errlen) == 0) {
		if (identity_decode(c.buf, (size_t)c.len, out) == -1)
			describe_failure(&c, err, errlen);
		else
			rc = 0;
	}
	free(c.buf);
	return rc;
}

int
identity_try(const struct identity_ids *ids, int (*fn)(const char *arg),
	     const char *arg, int *fn_errno, char *err, size_t errlen)
{
	struct try_args a = { ids, fn, arg };
	unsigned char buf[IDENTITY_TRY_REPLY_SIZE + 1];
	struct child_call c = {
		.body = try_child, .arg = &a, .who = "check",
		.hint = "a file system that does not respond?",
		.buf = buf, .cap = sizeof(buf),
	};
	struct identity_try_reply r;
	char call[256];

	*fn_errno = 0;
	if (child_call_run(&c, err, errlen) == -1)
		return -1;
	if (identity_try_decode(buf, (size_t)c.len, &r) == -1 ||
	    (ids == NULL && r.drop != IDENTITY_DROPPED)) {
		describe_failure(&c, err, errlen);
		return -1;
	}
	if (r.drop != IDENTITY_DROPPED) {
		identity_drop_describe(r.drop, ids, call, sizeof(call));
		if (r.drop == IDENTITY_DROP_UNVERIFIED)
			snprintf(err, errlen, "%s", call);
		else
			snprintf(err, errlen, "%s: %s", call, strerror(r.err));
		return -1;
	}
	if (!r.failed)
		return 0;
	*fn_errno = r.err;
	return 1;
}

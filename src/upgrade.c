/* SPDX-License-Identifier: BSD-2-Clause */
/* Binary upgrade: the listener hand-over and the .oldbin pidfile dance. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "scoreboard.h"
#include "upgrade.h"

#define OLDBIN_SUFFIX	".oldbin"
/* Stopping a new master that is not ready: SIGTERM how often, SIGKILL when. */
#define STOP_RESEND_MS	200
#define STOP_KILL_MS	10000
#define MAX_HANDOVER	512
#define ENV_MAX		(MAX_HANDOVER * (3 * ADDR_TEXT_MAX + 3 * 64 + 16))

static struct {
	const char *exec_path;
	char *const *argv;
	const char *cwd;
	/* The old master's side. */
	pid_t child;			/* the new master, 0 when none */
	int ready_fd;			/* its readiness pipe, -1 once read */
	bool child_ready;
	pid_t requester;		/* -s upgrade, waiting for the outcome */
	bool stopping;			/* stopped with us: not ready at shutdown */
	bool given_up;			/* stopped: not ready in time */
	bool killed;			/* ... and sent SIGKILL */
	int64_t started_ms;		/* when it was forked */
	int64_t resend_ms, kill_ms;	/* next SIGTERM, SIGKILL */
	char reason[DAEMON_REPORT_MAX - 1];	/* the new master's why */
	/* The new master's side. */
	pid_t parent;			/* the old master, 0 if not upgraded */
	char *pidfile;			/* the one it wrote */
} u = { .ready_fd = -1 };

/* ---- the environment encoding (pure) ---- */

static bool
needs_escape(char c)
{
	return c == '%' || c == '@' || c == '=' || c == ';' ||
	       (unsigned char)c < 0x20;
}

/* Appends s at *p (escaped if asked), keeping room for the terminator. */
static int
put(const char *s, bool escape, char **p, char *end)
{
	for (; *s != '\0'; s++) {
		int n = escape && needs_escape(*s) ?
			snprintf(*p, (size_t)(end - *p), "%%%02X",
				 (unsigned char)*s) :
			snprintf(*p, (size_t)(end - *p), "%c", *s);

		if (n < 0 || n >= end - *p)
			return -1;
		*p += n;
	}
	return 0;
}

int
upgrade_encode(const struct upgrade_socket *v, size_t n, char *buf,
	       size_t len)
{
	char *p = buf, *end = buf + len;
	char fd[16];

	if (len == 0)
		return -1;
	*p = '\0';
	for (size_t i = 0; i < n; i++) {
		snprintf(fd, sizeof(fd), "=%d%s", v[i].fd,
			 v[i].managed ? "m" : "");
		if ((i > 0 && put(";", false, &p, end) == -1) ||
		    put(v[i].owner, true, &p, end) == -1 ||
		    put("@", false, &p, end) == -1 ||
		    put(v[i].addr, true, &p, end) == -1 ||
		    put(fd, false, &p, end) == -1)
			return -1;
	}
	return 0;
}

static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Copies [s, e) to out, unescaping; -1 if malformed or too long. */
static int
unescape(const char *s, const char *e, char *out, size_t outlen)
{
	size_t n = 0;

	for (; s < e; s++) {
		char c = *s;

		if (c == '%') {
			if (e - s < 3 || hex(s[1]) < 0 || hex(s[2]) < 0)
				return -1;
			c = (char)(hex(s[1]) * 16 + hex(s[2]));
			s += 2;
		} else if (needs_escape(c)) {
			return -1;
		}
		if (c == '\0' || n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

static int
decode_entry(const char *s, const char *e, char *owner, size_t ownerlen,
	     char *addr, size_t addrlen, int *fd, bool *managed)
{
	const char *at = memchr(s, '@', (size_t)(e - s));
	const char *eq = at ? memchr(at, '=', (size_t)(e - at)) : NULL;
	long v = 0;

	if (eq == NULL || eq + 1 == e ||
	    unescape(s, at, owner, ownerlen) == -1 ||
	    unescape(at + 1, eq, addr, addrlen) == -1 || addr[0] == '\0')
		return -1;
	if ((*managed = e[-1] == 'm'))
		e--;
	if (eq + 1 == e)
		return -1;
	for (const char *d = eq + 1; d < e; d++) {
		if (*d < '0' || *d > '9' || v > 100000000)
			return -1;
		v = v * 10 + (*d - '0');
	}
	*fd = (int)v;
	return 0;
}

int
upgrade_decode(const char *text,
	       int (*fn)(void *arg, const struct upgrade_socket *s), void *arg)
{
	const char *s = text;

	if (text == NULL || *text == '\0')
		return 0;
	for (;;) {
		const char *e = strchr(s, ';');
		char owner[64], addr[ADDR_TEXT_MAX];
		struct upgrade_socket us = { owner, addr, -1, false };
		int rc;

		if (e == NULL)
			e = s + strlen(s);
		if (decode_entry(s, e, owner, sizeof(owner), addr, sizeof(addr),
				 &us.fd, &us.managed) == -1)
			return -1;
		if ((rc = fn(arg, &us)) != 0)
			return rc;
		if (*e == '\0')
			return 0;
		s = e + 1;
	}
}

/* ---- the new master ---- */

void
upgrade_init(const char *exec_path, char *const *argv, const char *cwd)
{
	u.exec_path = exec_path;
	u.argv = argv;
	u.cwd = cwd;
}

struct adopt_ctx {
	char *err;
	size_t errlen;
	pid_t parent;			/* the old master */
	int n;
};

static int
adopt_one(void *arg, const struct upgrade_socket *s)
{
	struct adopt_ctx *c = arg;
	char origin[ADDR_TEXT_MAX + 64];

	snprintf(origin, sizeof(origin), "the old master (fd %d)", s->fd);
	/* systemd's socket stays systemd's: its file is never ours. */
	if (listener_inherit(s->fd, s->owner, origin, s->managed, c->parent,
			     c->err, c->errlen) == -1)
		return -1;
	c->n++;
	return 0;
}

int
upgrade_adopt(char *err, size_t errlen)
{
	const char *list = getenv(UPGRADE_ENV_LISTENERS);
	const char *ready = getenv(UPGRADE_ENV_READY_FD);
	const char *pidfile = getenv(UPGRADE_ENV_PIDFILE);
	struct adopt_ctx c = { err, errlen, getppid(), 0 };
	char *end;
	long fd;

	/*
	 * Taken now: left set, it would reach the workers, or a master that
	 * an older binary (which knows it not) starts on its next upgrade.
	 */
	if (pidfile != NULL && *pidfile != '\0' &&
	    (u.pidfile = strdup(pidfile)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	unsetenv(UPGRADE_ENV_PIDFILE);
	if (list == NULL && ready == NULL) {
		free(u.pidfile);
		u.pidfile = NULL;
		return -1;
	}
	err[0] = '\0';
	fd = ready ? strtol(ready, &end, 10) : -1;
	if (list == NULL || ready == NULL || *end != '\0' || fd < 3 ||
	    fcntl((int)fd, F_GETFD) == -1) {
		snprintf(err, errlen, "started by an upgrade, but %s=%s and "
			 "%s=%s are not what a master passes",
			 UPGRADE_ENV_LISTENERS, list ? list : "(unset)",
			 UPGRADE_ENV_READY_FD, ready ? ready : "(unset)");
		return -2;
	}
	if (upgrade_decode(list, adopt_one, &c) != 0) {
		if (c.err[0] == '\0')
			snprintf(err, errlen, "%s=%s is malformed",
				 UPGRADE_ENV_LISTENERS, list);
		return -2;
	}
	/* Ours only: a later upgrade sets them afresh. */
	unsetenv(UPGRADE_ENV_LISTENERS);
	unsetenv(UPGRADE_ENV_READY_FD);
	if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "fcntl(%ld, FD_CLOEXEC): %s", fd,
			 strerror(errno));
		return -2;
	}
	u.parent = c.parent;
	notify_set_handed_over(true);
	return (int)fd;
}

bool
upgrade_adopted(void)
{
	return u.parent != 0;
}

const char *
upgrade_handed_pidfile(void)
{
	return u.pidfile;
}

void
upgrade_report_failure(const char *reason)
{
	const char *ready = getenv(UPGRADE_ENV_READY_FD);
	int fd;

	if (ready == NULL || (fd = atoi(ready)) < 3)
		return;
	daemon_report(fd, false, reason);
}

/* ---- the old master ---- */

static void
describe(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
}

static void
reply(bool ok, const char *message)
{
	if (u.requester != 0)
		control_reply(u.requester, ok, message);
	u.requester = 0;
}

static void
refuse(pid_t requester, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "SIGUSR2 refused: %s", why);
	log_warning("%s", msg);
	if (requester != 0)
		control_reply(requester, false, msg);
}

/* PREFORKD_LISTENERS for the new master; -1 if it does not fit. */
static int
listeners_env(char *buf, size_t len)
{
	static struct listener *ls[MAX_HANDOVER];
	static struct upgrade_socket v[MAX_HANDOVER];
	size_t n = listener_all(ls, MAX_HANDOVER);

	for (size_t i = 0; i < n; i++)
		v[i] = (struct upgrade_socket){ ls[i]->owner, ls[i]->name,
						ls[i]->fd, ls[i]->managed };
	return upgrade_encode(v, n, buf, len);
}

/* Between fork and exec: the sockets and the pipe must survive the exec. */
static _Noreturn void
child_exec(const char *env, int ready_fd, const char *pidfile)
{
	static struct listener *ls[MAX_HANDOVER];
	size_t n = listener_all(ls, MAX_HANDOVER);
	char fdtext[16];
	sigset_t none;

	for (size_t i = 0; i < n; i++)
		if (fcntl(ls[i]->fd, F_SETFD, 0) == -1)
			goto fail;
	snprintf(fdtext, sizeof(fdtext), "%d", ready_fd);
	sigemptyset(&none);
	if (fcntl(ready_fd, F_SETFD, 0) == -1 ||
	    setenv(UPGRADE_ENV_LISTENERS, env, 1) == -1 ||
	    setenv(UPGRADE_ENV_READY_FD, fdtext, 1) == -1 ||
	    setenv(UPGRADE_ENV_PIDFILE, pidfile, 1) == -1 ||
	    sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		goto fail;
	/* Relative paths in argv mean what they meant at the first start. */
	if (u.cwd != NULL && chdir(u.cwd) == -1)
		log_errno(LOG_LEVEL_WARNING, "upgrade: chdir(%s)", u.cwd);
	execvp(u.exec_path, u.argv);
	log_errno(LOG_LEVEL_ERROR, "upgrade: execve(%s)", u.exec_path);
	_exit(127);
fail:
	log_errno(LOG_LEVEL_ERROR, "upgrade: preparing the new master");
	_exit(127);
}

static char *
oldbin_path(const char *pidfile)
{
	char *p = malloc(strlen(pidfile) + sizeof(OLDBIN_SUFFIX));

	if (p != NULL)
		sprintf(p, "%s%s", pidfile, OLDBIN_SUFFIX);
	return p;
}

static char *
base_path(const char *oldbin)
{
	size_t n = strlen(oldbin) - (sizeof(OLDBIN_SUFFIX) - 1);

	return strndup(oldbin, n);
}

void
upgrade_start(char **pidfile, pid_t requester, bool running)
{
	static char env[ENV_MAX];
	char *oldbin;
	int fds[2];
	char why[128];

	if (!running) {
		refuse(requester, "the master is shutting down");
		return;
	}
	if (u.child != 0) {
		snprintf(why, sizeof(why), "an upgrade is in progress (new "
			 "master %d)", (int)u.child);
		refuse(requester, why);
		return;
	}
	if (u.parent != 0 && kill(u.parent, 0) == 0 && getppid() == u.parent) {
		snprintf(why, sizeof(why), "the old master %d still runs: "
			 "finish or roll back that upgrade first", (int)u.parent);
		refuse(requester, why);
		return;
	}
	if (listeners_env(env, sizeof(env)) == -1) {
		refuse(requester, "too many listeners to pass on");
		return;
	}
	if ((oldbin = oldbin_path(*pidfile)) == NULL) {
		refuse(requester, "out of memory");
		return;
	}
	/* Non-blocking: the loop only peeks at it; one byte never blocks. */
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		snprintf(why, sizeof(why), "pipe2(): %s", strerror(errno));
		refuse(requester, why);
		free(oldbin);
		return;
	}
	if (rename(*pidfile, oldbin) == -1) {
		snprintf(why, sizeof(why), "rename(%s, %s): %s", *pidfile,
			 oldbin, strerror(errno));
		refuse(requester, why);
		goto fail;
	}
	if ((u.child = fork()) == -1) {
		snprintf(why, sizeof(why), "fork(): %s", strerror(errno));
		u.child = 0;
		if (rename(oldbin, *pidfile) == -1)
			log_errno(LOG_LEVEL_ERROR, "rename(%s, %s)", oldbin,
				  *pidfile);
		refuse(requester, why);
		goto fail;
	}
	if (u.child == 0) {
		close(fds[0]);
		child_exec(env, fds[1], *pidfile);
	}
	close(fds[1]);
	u.ready_fd = fds[0];
	u.child_ready = false;
	u.started_ms = monotonic_ms();
	u.requester = requester;
	/* The new master serves on the same sockets: their files stay. */
	listener_keep_paths(true);
	log_notice("SIGUSR2: upgrade: new master %d started as %s; pidfile "
		   "renamed %s", (int)u.child, u.exec_path, oldbin);
	free(*pidfile);
	*pidfile = oldbin;
	return;
fail:
	close(fds[0]);
	close(fds[1]);
	free(oldbin);
}

void
upgrade_check(void)
{
	char buf[1 + sizeof(u.reason)], status, msg[128];
	ssize_t n;

	if (u.ready_fd == -1)
		return;
	n = read(u.ready_fd, buf, sizeof(buf) - 1);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	status = n >= 1 ? buf[0] : '1';
	if (n > 1) {
		buf[n] = '\0';
		snprintf(u.reason, sizeof(u.reason), "%s", buf + 1);
	}
	/* EOF or '1': it failed; its exit, reaped next, says how. */
	close(u.ready_fd);
	u.ready_fd = -1;
	/* Too late once this master stops: it goes all the same. */
	if (n < 1 || status != '0' || u.stopping)
		return;
	u.child_ready = true;
	log_notice("upgrade: new master %d serving; WINCH and QUIT this "
		   "master (%d) to finish, or HUP it and QUIT the new one to "
		   "roll back", (int)u.child, (int)getpid());
	snprintf(msg, sizeof(msg), "%d new master serving", (int)u.child);
	reply(true, msg);
}

bool
upgrade_successor_serves(void)
{
	return u.child != 0 && u.child_ready;
}

bool
upgrade_reaped(pid_t pid, int status, char **pidfile)
{
	char how[96], msg[512];
	char *base;

	if (u.child == 0 || pid != u.child)
		return false;
	/* What it wrote before it exited: its reason, or that it served. */
	upgrade_check();
	describe(status, how, sizeof(how));
	u.child = 0;
	listener_keep_paths(false);
	if (u.ready_fd != -1) {
		close(u.ready_fd);
		u.ready_fd = -1;
	}
	if ((base = base_path(*pidfile)) == NULL ||
	    rename(*pidfile, base) == -1) {
		log_errno(LOG_LEVEL_ERROR, "upgrade: rename(%s) back", *pidfile);
		free(base);
	} else {
		free(*pidfile);
		*pidfile = base;
	}
	if (u.given_up) {
		snprintf(msg, sizeof(msg), "new master %d not ready within "
			 "%d s: stopped (%s); pidfile %s restored, master %d "
			 "serves", (int)pid, UPGRADE_READY_MS / 1000, how,
			 *pidfile, (int)getpid());
		log_error("upgrade failed: %s", msg);
		reply(false, msg);
		u.given_up = u.killed = false;
		u.reason[0] = '\0';
		return true;
	}
	if (u.stopping) {
		log_notice("shutdown: new master %d %s, stopped before it was "
			   "ready", (int)pid, how);
		snprintf(msg, sizeof(msg), "new master %d stopped before it "
			 "was ready: master %d is shutting down", (int)pid,
			 (int)getpid());
		reply(false, msg);
		u.stopping = u.killed = false;
		u.reason[0] = '\0';
		return true;
	}
	snprintf(msg, sizeof(msg), "new master %d %s%s%s%s; pidfile %s "
		 "restored, master %d serves", (int)pid, how, u.child_ready ?
		 "" : " before it was ready", u.reason[0] ? ": " : "",
		 u.child_ready || u.reason[0] ? u.reason :
		 " (see its errors in the log)", *pidfile, (int)getpid());
	u.reason[0] = '\0';
	if (u.child_ready)
		log_notice("upgrade: %s", msg);
	else
		log_error("upgrade failed: %s", msg);
	reply(false, msg);
	u.child_ready = false;
	return true;
}

bool
upgrade_pending(void)
{
	return u.ready_fd != -1;
}

bool
upgrade_busy(void)
{
	return upgrade_pending() || (u.child != 0 &&
				     (u.stopping || u.given_up));
}

void
upgrade_shutdown(int64_t now)
{
	char status[64];

	/* A readiness it has just reported counts: it serves on. */
	upgrade_check();
	if (u.child != 0 && u.child_ready) {
		snprintf(status, sizeof(status), "upgraded: master %d serves",
			 (int)u.child);
		notify_mainpid(u.child, status);
		return;
	}
	upgrade_stop_successor(now);
	/*
	 * Rolled back: the old master is still the service's main process
	 * (and the socket files it handed over stay its own).
	 */
	if (u.parent != 0 && getppid() == u.parent)
		return;
	notify_stopping();
}

/*
 * One still starting has served nothing, and nobody else knows of it (it
 * has written no pidfile yet, or only just): left alone, it would come up
 * after a stop that said the service had stopped.  It goes with us; its
 * unix socket files go with ours.  Once: a TERM after a QUIT must not put
 * its SIGKILL off.
 */
void
upgrade_stop_successor(int64_t now)
{
	if (u.child == 0 || u.child_ready || u.stopping)
		return;
	u.stopping = true;
	listener_keep_paths(false);
	/*
	 * Given up already and being stopped: it goes with the reason of the
	 * shutdown now, but its SIGKILL is not put off.
	 */
	if (u.given_up) {
		u.given_up = false;
		return;
	}
	log_notice("shutdown: new master %d is not ready: stopping it",
		   (int)u.child);
	u.killed = false;
	u.resend_ms = now;
	u.kill_ms = now + STOP_KILL_MS;
	upgrade_stopping(now);
}

/*
 * Left alone, one that never reports (an exec'ed wrapper that hangs, a
 * start that blocks) would keep the pidfile renamed, so that -s and the
 * init script no longer find this master, and could come up long after
 * -s upgrade said that the upgrade failed, two masters then serving.
 */
void
upgrade_timeout(int64_t now)
{
	if (u.child == 0 || u.ready_fd == -1 || u.stopping || u.given_up ||
	    now - u.started_ms < UPGRADE_READY_MS)
		return;
	/* A word that came in the meantime counts. */
	upgrade_check();
	if (u.ready_fd == -1)
		return;
	log_error("upgrade: new master %d has not reported that it serves "
		  "within %d s: stopping it", (int)u.child,
		  UPGRADE_READY_MS / 1000);
	u.given_up = true;
	u.killed = false;
	u.resend_ms = now;
	u.kill_ms = now + STOP_KILL_MS;
	/* What it may say now comes too late. */
	close(u.ready_fd);
	u.ready_fd = -1;
	upgrade_stopping(now);
}

bool
upgrade_stopping(int64_t now)
{
	if (!(u.stopping || u.given_up) || u.child == 0)
		return false;
	if (now >= u.kill_ms) {
		if (!u.killed) {
			log_warning("%s: new master %d still runs %d s after "
				    "SIGTERM: SIGKILL", u.given_up ? "upgrade" :
				    "shutdown", (int)u.child,
				    STOP_KILL_MS / 1000);
			kill(u.child, SIGKILL);
			u.killed = true;
		}
	} else if (now >= u.resend_ms) {
		/* Again: one that came before its exec() found our handler. */
		kill(u.child, SIGTERM);
		u.resend_ms = now + STOP_RESEND_MS;
	}
	return true;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Binary upgrade (SIGUSR2), as nginx does it.  The old master renames its
 * pidfile to PIDFILE.oldbin and forks and execs the binary by the path
 * it was started as, with the same arguments; the listening sockets pass
 * in the environment (PREFORKD_LISTENERS=server@address=fd;...) and a
 * readiness pipe in PREFORKD_UPGRADE_FD.  The new master adopts the
 * sockets its configuration still lists, by address, and writes the
 * pidfile.  Both serve until WINCH (then QUIT) retires the old one, or HUP
 * to the old and QUIT to the new one rolls back.  The old master is the
 * new one's parent: if it dies, the old master restores the pidfile and
 * serves on.
 */
#ifndef PREFORKD_UPGRADE_H
#define PREFORKD_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define UPGRADE_ENV_LISTENERS	"PREFORKD_LISTENERS"
#define UPGRADE_ENV_READY_FD	"PREFORKD_UPGRADE_FD"
/* The old master's pidfile: the new one writes the same (see below). */
#define UPGRADE_ENV_PIDFILE	"PREFORKD_PIDFILE"
/*
 * How long the old master waits for the new one to report that it
 * serves before it stops it and serves on: within -s upgrade's wait
 * (60 s), its SIGKILL (10 s after SIGTERM) included.
 */
#define UPGRADE_READY_MS	45000

struct upgrade_socket {
	const char *owner;		/* the server it serves */
	const char *addr;		/* its bound address, as logged */
	int fd;
	bool managed;			/* the service manager's (activation) */
};

/*
 * PURE: "owner@addr=fd;..." with '%', '@', '=' and ';' in names escaped
 * as %XX, and an 'm' after the fd of a managed socket.  Returns 0, or -1
 * when buf is too small.
 */
int upgrade_encode(const struct upgrade_socket *v, size_t n, char *buf,
		   size_t len);

/*
 * PURE: calls fn for each entry of an encoded list, in order; stops at
 * the first non-zero return of fn and returns it.  Returns -1 (without
 * calling fn for it) at the first malformed entry, 0 at the end.
 */
int upgrade_decode(const char *text,
		   int (*fn)(void *arg, const struct upgrade_socket *s),
		   void *arg);

/* How this process was started: argv and cwd must live as long as it. */
void upgrade_init(const char *exec_path, char *const *argv, const char *cwd);

/*
 * In a master started by an upgrade: hands the inherited sockets to the
 * listener pool, checked with getsockname(), and unsets the variables.
 * Returns the readiness pipe to report on (as the daemon's), -1 when not
 * started by an upgrade, or -2 with a message in err.  While the old
 * master runs, the unix socket files of the sockets it handed over stay
 * its own: this master removes them only once it has taken over.
 */
int upgrade_adopt(char *err, size_t errlen);

/* Whether upgrade_adopt() took sockets from an old master. */
bool upgrade_adopted(void);

/*
 * The pidfile the old master wrote, handed over by upgrade_adopt(), or
 * NULL.  A pidfile changed in the configuration takes a restart, as on a
 * reload: the new master writes this one, where init scripts, -s and the
 * service manager look for it.
 */
const char *upgrade_handed_pidfile(void);

/*
 * In a master started by an upgrade that fails before it adopts the
 * sockets (a bad configuration): tells the old master why, for -s
 * upgrade to print.  Later, the readiness pipe upgrade_adopt() returned
 * carries it (daemon_report()).
 */
void upgrade_report_failure(const char *reason);

/*
 * SIGUSR2, in the old master: starts the new one, or refuses (logged,
 * and told to requester, the -s upgrade process, if not 0).  *pidfile is
 * replaced by the .oldbin path.
 */
void upgrade_start(char **pidfile, pid_t requester, bool running);

/* In the loop: has the new master reported that it serves? */
void upgrade_check(void);

/*
 * In the loop: a new master that has not reported within
 * UPGRADE_READY_MS is stopped (as upgrade_stopping() does), logged, and
 * the upgrade fails once it is reaped; the old master serves on.
 */
void upgrade_timeout(int64_t now);

/*
 * From waitpid(): true when pid was the new master; the old master has
 * then taken its pidfile back (*pidfile) and must serve again.
 */
bool upgrade_reaped(pid_t pid, int status, char **pidfile);

/* A new master is starting: the loop polls at a short tick. */
bool upgrade_pending(void);

/* Starting, or being stopped (SIGTERM every 200 ms): a short tick too. */
bool upgrade_busy(void);

/*
 * The new master has reported that it serves the same sockets: the
 * instance serves on whatever becomes of this master's workers.
 */
bool upgrade_successor_serves(void);

/*
 * At shutdown: tells the service manager STOPPING=1, or, when the other
 * master of an upgrade serves on, hands it MAINPID= (old master) or says
 * nothing (new master, rolled back); unix socket files stay for it.  A
 * new master that is not ready yet is stopped with this one (logged):
 * see upgrade_stopping().
 */
void upgrade_shutdown(int64_t now);

/*
 * A stop of the old master: a new master that is not ready yet is
 * stopped with it (logged), at once; see upgrade_stopping().
 */
void upgrade_stop_successor(int64_t now);

/*
 * Each pass of the old master: true while a new master it stops (at
 * shutdown, or after upgrade_timeout()) has yet to be reaped (SIGTERM,
 * again every so often, as one sent before its exec() is lost; SIGKILL
 * after 10 seconds).
 */
bool upgrade_stopping(int64_t now);

#endif

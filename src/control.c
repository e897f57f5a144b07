/* SPDX-License-Identifier: BSD-2-Clause */
/* -s: signals a running master, and for reload waits for its verdict. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "control.h"
#include "log.h"
#include "masterenv.h"
#include "pidfile.h"
#include "signals.h"
#include "statusctl.h"

/* A reload answers once new workers accept; this bounds a stuck one. */
#define RELOAD_WAIT_MS 60000

#define REQUEST_RELOAD "reload"

static socklen_t
abstract_address(const char *what, pid_t pid, struct sockaddr_un *sun)
{
	int len;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/* Abstract namespace: sun_path[0] == '\0', nothing on disk to clean. */
	len = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
		       "preforkd-%s-%d", what, (int)pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

static socklen_t
reply_address(pid_t pid, struct sockaddr_un *sun)
{
	return abstract_address("reload", pid, sun);
}

static socklen_t
control_address(pid_t master, struct sockaddr_un *sun)
{
	return abstract_address("control", master, sun);
}

/*
 * The control socket also sends the replies: a master out of descriptors
 * still answers, where a socket made for each reply left the requester
 * waiting for a minute.
 */
static int control_fd = -1;

int
control_open(pid_t master)
{
	struct sockaddr_un sun;
	socklen_t len = control_address(master, &sun);
	int fd, on = 1;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, len) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	control_fd = fd;
	return fd;
}

void
control_close(int fd)
{
	if (fd == -1)
		return;
	close(fd);
	if (fd == control_fd)
		control_fd = -1;
}

/*
 * Anyone may write to an abstract socket: take requests only from those
 * who could signal the master (root, or the master's own user).
 */
static bool
control_sender_allowed(const struct ucred *cred)
{
	return cred->uid == 0 || cred->uid == getuid() ||
	       cred->uid == geteuid();
}

pid_t
control_next_request(int fd, uid_t *refused_uid)
{
	for (;;) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(struct ucred))];
		} control;
		char buf[sizeof(REQUEST_RELOAD)];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof(control.buf),
		};
		struct cmsghdr *c;
		struct ucred cred;
		ssize_t n;

		if ((n = recvmsg(fd, &msg, MSG_DONTWAIT)) == -1) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		c = CMSG_FIRSTHDR(&msg);
		if (c == NULL || c->cmsg_type != SCM_CREDENTIALS ||
		    n != (ssize_t)strlen(REQUEST_RELOAD) ||
		    memcmp(buf, REQUEST_RELOAD, (size_t)n) != 0)
			continue;
		memcpy(&cred, CMSG_DATA(c), sizeof(cred));
		if (!control_sender_allowed(&cred)) {
			/* Told at once, as kill() would have told it. */
			*refused_uid = cred.uid;
			control_reply(cred.pid, false, "refused: only root and "
				      "the master's user may ask for a reload");
			continue;
		}
		return cred.pid;
	}
}

void
control_reply(pid_t requester, bool ok, const char *message)
{
	struct sockaddr_un sun;
	socklen_t len = reply_address(requester, &sun);
	char buf[1024];
	int fd = control_fd, n;

	if (fd == -1 &&
	    (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_errno(LOG_LEVEL_WARNING, "cannot answer the reload request "
			  "of process %d: socket()", (int)requester);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%s %s", ok ? "ok" : "failed", message);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	/* A plain kill -HUP has nobody listening: that is fine. */
	if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&sun,
		   len) == -1 && errno != ECONNREFUSED && errno != ENOENT)
		log_errno(LOG_LEVEL_WARNING, "cannot answer the reload request "
			  "of process %d: sendto()", (int)requester);
	if (fd != control_fd)
		close(fd);
}

static int
reply_socket(void)
{
	struct sockaddr_un sun;
	socklen_t len = reply_address(getpid(), &sun);
	int fd, on = 1;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One datagram from pid, or -1 on timeout (other senders are ignored). */
static int
reply_receive(int fd, pid_t pid, char *buf, size_t buflen)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(struct ucred))];
		} control;
		struct iovec iov = { buf, buflen - 1 };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof(control.buf),
		};
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct cmsghdr *c;
		struct timespec now;
		long waited;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 +
			 (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= RELOAD_WAIT_MS)
			return -1;
		if (poll(&pfd, 1, (int)(RELOAD_WAIT_MS - waited)) <= 0)
			continue;
		if ((n = recvmsg(fd, &msg, 0)) <= 0)
			continue;
		c = CMSG_FIRSTHDR(&msg);
		if (c == NULL || c->cmsg_type != SCM_CREDENTIALS ||
		    ((struct ucred *)(void *)CMSG_DATA(c))->pid != pid)
			continue;
		buf[n] = '\0';
		return 0;
	}
}

/*
 * Tells the master who asks: a datagram per requester, where signals
 * sent close together would merge into one and lose all senders but one.
 */
static int
announce(int fd, pid_t pid)
{
	struct sockaddr_un sun;
	socklen_t len = control_address(pid, &sun);
	ssize_t n;

	do
		n = sendto(fd, REQUEST_RELOAD, strlen(REQUEST_RELOAD),
			   MSG_DONTWAIT, (struct sockaddr *)&sun, len);
	while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

/*
 * Asks the master for a reload or an upgrade (what), by datagram first
 * if announced, else by signo, and waits for its outcome: 0 with the
 * text after "ok " in answer, or 1 once it has said why not.
 */
static int
request_outcome(pid_t pid, const char *what, bool announced, int signo,
		char *answer, size_t len)
{
	int fd = reply_socket();

	if (fd == -1) {
		perror("preforkd: reply socket");
		return 1;
	}
	if ((!announced || announce(fd, pid) == -1) && kill(pid, signo) == -1) {
		fprintf(stderr, "preforkd: kill(%d, %s): %s\n", (int)pid,
			signal_name(signo), strerror(errno));
		close(fd);
		return 1;
	}
	if (reply_receive(fd, pid, answer, len) == -1) {
		fprintf(stderr, "preforkd: master %d sent no %s outcome "
			"within %d s; see its error log\n", (int)pid, what,
			RELOAD_WAIT_MS / 1000);
		close(fd);
		return 1;
	}
	close(fd);
	if (strncmp(answer, "ok ", 3) != 0) {
		fprintf(stderr, "preforkd: %s failed: %s\n", what,
			strncmp(answer, "failed ", 7) == 0 ? answer + 7 : answer);
		return 1;
	}
	memmove(answer, answer + 3, strlen(answer + 3) + 1);
	return 0;
}

static int
reload(pid_t pid)
{
	char answer[1024];

	/* A master without the control socket still reloads on SIGHUP. */
	if (request_outcome(pid, "reload", true, SIGHUP, answer,
			    sizeof(answer)) != 0)
		return 1;
	printf("preforkd: %s\n", answer);
	return 0;
}

/* Gone, or a zombie: whoever reaps it is not our business. */
static bool
process_gone(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool zombie = false;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ')
		zombie = p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return zombie;
}

/*
 * Polls, bounded, until the master pid holding path has exited: it lets
 * go of the pidfile first, then ends.
 */
static bool
master_gone(const char *path, pid_t pid, int timeout_ms)
{
	struct timespec start, now;
	char err[512];

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timespec tick = { 0, 20 * 1000000L };

		if (pidfile_running_pid(path, err, sizeof(err)) == -1 &&
		    process_gone(pid))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 >= timeout_ms)
			return false;
		nanosleep(&tick, NULL);
	}
}

/*
 * The whole dance: USR2, the old master's word that the new one serves,
 * then WINCH and QUIT to the old one, and a check that the new one is
 * the master the pidfile names.
 */
static int
upgrade(pid_t pid, const char *pidfile, int shutdown_timeout)
{
	char answer[1024], oldbin[4096], err[512];
	/* With no shutdown-timeout, what is left after 5 s may last hours. */
	int wait_ms = shutdown_timeout > 0 ? (shutdown_timeout + 15) * 1000 :
		      5000;
	pid_t newpid, now;

	if (request_outcome(pid, "upgrade", false, SIGUSR2, answer,
			    sizeof(answer)) != 0)
		return 1;
	newpid = (pid_t)atoi(answer);
	printf("preforkd: upgrade: new master %d serving; retiring old "
	       "master %d\n", (int)newpid, (int)pid);
	fflush(stdout);
	snprintf(oldbin, sizeof(oldbin), "%s.oldbin", pidfile);
	if (kill(pid, SIGWINCH) == -1 || kill(pid, SIGQUIT) == -1) {
		fprintf(stderr, "preforkd: signalling old master %d: %s\n",
			(int)pid, strerror(errno));
		return 1;
	}
	if (!master_gone(oldbin, pid, wait_ms)) {
		if (shutdown_timeout == 0 &&
		    pidfile_running_pid(pidfile, err, sizeof(err)) == newpid) {
			/* Asked for: no limit on the old connections. */
			printf("preforkd: upgrade: new master %d serves; old "
			       "master %d accepts no more and still finishes "
			       "its connections (shutdown-timeout = 0)\n",
			       (int)newpid, (int)pid);
			return 0;
		}
		fprintf(stderr, "preforkd: old master %d still runs %d s after "
			"SIGQUIT; see its error log\n", (int)pid, wait_ms / 1000);
		return 1;
	}
	/* Gone, or back under the pidfile if the new master died meanwhile. */
	if ((now = pidfile_running_pid(pidfile, err, sizeof(err))) != newpid) {
		fprintf(stderr, "preforkd: upgrade failed: %s names master %d, "
			"not the new master %d; see the error log\n", pidfile,
			(int)now, (int)newpid);
		return 1;
	}
	printf("preforkd: upgrade: new master %d serves alone\n", (int)newpid);
	return 0;
}

static void
print_error(void *arg, const char *message)
{
	(void)arg;
	fprintf(stderr, "%s\n", message);
}

/* The same path, or the same file by another (a symbolic link). */
static bool
same_file(const char *x, const char *y)
{
	struct stat a, b;

	return strcmp(x, y) == 0 ||
	       (stat(x, &a) == 0 && stat(y, &b) == 0 &&
		a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

/*
 * -s reload -f B to a master started with -f A would check B, then have
 * the master read A: the check would prove nothing, and B would look
 * applied.  A master whose file cannot be told (another version) is
 * trusted, as before.
 */
static bool
reads_other_file(pid_t pid, const char *conf_path, const char *action)
{
	char theirs[PATH_MAX];

	if (statusctl_conf_path(pid, theirs, sizeof(theirs)) == -1 ||
	    same_file(theirs, conf_path))
		return false;
	fprintf(stderr, "preforkd: master %d reads %s, not %s: not %s (name "
		"its file with -f)\n", (int)pid, theirs, conf_path, action);
	return true;
}

/*
 * Loaded for a reload or an upgrade, which must not send a bad one: as
 * -t loads it, trying what the workers will open.
 */
static struct conf *
conf_checked(const char *conf_path, int signo)
{
	/*
	 * Not the pidfile's directory: a reload keeps its pidfile, and the
	 * new master of an upgrade says why it cannot write one.
	 */
	struct conf *conf = conf_verify(conf_path, false, print_error, NULL);

	if (conf == NULL)
		fprintf(stderr, "preforkd: configuration %s has errors%s\n",
			conf_path, signo == SIGHUP ? ": not reloading" :
			signo == SIGUSR2 ? ": not upgrading" : "");
	return conf;
}

/*
 * The master expands a ${NAME} with its own environment, as it was at its
 * start, and so does the new master of an upgrade, which inherits it:
 * the check is made with that one, swapped in for its duration, or it
 * would refuse what the master reads well and pass what it reads
 * otherwise.  When it cannot be read (a master that is not dumpable, or
 * another user's, which refuses the request anyway), the check falls
 * back to the command's own environment, as before, and says so: the
 * master still checks the file itself and answers with its verdict.
 */
static struct conf *
conf_checked_as_master(pid_t pid, const char *conf_path, int signo)
{
	char **ours = environ, **theirs;
	struct conf *conf;

	if ((theirs = masterenv_read(pid)) == NULL) {
		fprintf(stderr, "preforkd: cannot read the environment of "
			"master %d (/proc/%d/environ: %s); ${NAME} is checked "
			"with this command's own\n", (int)pid, (int)pid,
			strerror(errno));
		return conf_checked(conf_path, signo);
	}
	environ = theirs;
	conf = conf_checked(conf_path, signo);
	environ = ours;
	masterenv_free(theirs);
	return conf;
}

/*
 * The config names the pidfile, unless -p does.  With -p alone the
 * default -f may well not be the master's file, so it is not read.
 * stop, quit, reopen and status need only its pidfile: logrotate's
 * reopen must reach the master while an edit not yet reloaded has broken
 * the file.  A reload or an upgrade needs the whole file right, but
 * checks it once the master is found, with the master's environment: a
 * file whose pidfile cannot be read is checked here, with the command's,
 * to say all that is wrong with it.
 */
static char *
pidfile_named(const char *conf_path, const char *pidfile_override,
	      int signo)
{
	bool checks = signo == SIGHUP || signo == SIGUSR2;
	struct conf *conf;
	char *pidfile;

	if (pidfile_override != NULL)
		return strdup(pidfile_override);
	if ((pidfile = conf_load_pidfile(conf_path, checks ? NULL :
					 print_error, NULL)) != NULL)
		return pidfile;
	if (!checks) {
		fprintf(stderr, "preforkd: no pidfile can be read from %s "
			"(name it with -p)\n", conf_path);
		return NULL;
	}
	if ((conf = conf_checked(conf_path, signo)) == NULL)
		return NULL;
	pidfile = strdup(conf->pidfile);
	conf_free(conf);
	return pidfile;
}

/* Does master pid say that it reads conf_path? */
static bool
reads_file(pid_t pid, const char *conf_path)
{
	char theirs[PATH_MAX];

	return statusctl_conf_path(pid, theirs, sizeof(theirs)) == 0 &&
	       same_file(theirs, conf_path);
}

/*
 * The init script and the systemd unit start the master with -p and the
 * default pidfile, which overrides the file's pidfile: a "preforkd -s"
 * without -p then looks where the master is not.  A master that holds
 * the default pidfile and reads this very file is the one meant; the
 * pidfile found replaces *pidfile.  -1 if there is none.
 */
static pid_t
master_by_default_pidfile(const char *conf_path, char **pidfile)
{
	char err[512], *found;
	pid_t pid;

	if (strcmp(*pidfile, PIDFILE_DEFAULT) == 0 ||
	    (pid = pidfile_running_pid(PIDFILE_DEFAULT, err, sizeof(err))) == -1 ||
	    !reads_file(pid, conf_path) ||
	    (found = strdup(PIDFILE_DEFAULT)) == NULL)
		return -1;
	fprintf(stderr, "preforkd: no master at %s, the pidfile of %s; master "
		"%d reads it with pidfile %s, given with -p (as the init "
		"script and the systemd unit do)\n", *pidfile, conf_path,
		(int)pid, PIDFILE_DEFAULT);
	free(*pidfile);
	*pidfile = found;
	return pid;
}

int
control_command(const char *command, const char *conf_path, bool conf_named,
		const char *pidfile_override)
{
	bool status = strcmp(command, "status") == 0;
	int signo = status ? 0 : signal_for_command(command);
	bool checks = signo == SIGHUP || signo == SIGUSR2;
	struct conf *conf = NULL;
	char theirs[PATH_MAX];
	char *pidfile;
	char err[512];
	pid_t pid;
	int rc = 1, shutdown_timeout;

	if (signo == 0 && !status) {
		fprintf(stderr, "preforkd: unknown signal '%s': use one of %s, "
			"status\n", command, signal_commands);
		return 1;
	}
	if ((pidfile = pidfile_named(conf_path, pidfile_override,
				     signo)) == NULL)
		return 1;
	if ((pid = pidfile_running_pid(pidfile, err, sizeof(err))) == -1 &&
	    (pidfile_override != NULL ||
	     (pid = master_by_default_pidfile(conf_path, &pidfile)) == -1)) {
		fprintf(stderr, "preforkd: %s\n", err);
		goto out;
	}
	/*
	 * Without -f, check the file the master will read, as nginx -s
	 * reload has its master read its own -c; a master of another
	 * version does not say, and gets the default checked.
	 */
	if (checks && !conf_named &&
	    statusctl_conf_path(pid, theirs, sizeof(theirs)) == 0)
		conf_path = theirs;
	if (checks &&
	    (conf = conf_checked_as_master(pid, conf_path, signo)) == NULL)
		goto out;
	if (checks && reads_other_file(pid, conf_path, signo == SIGHUP ?
				       "reloading" : "upgrading"))
		goto out;
	shutdown_timeout = conf ? conf->shutdown_timeout : 0;
	if (signo == SIGHUP) {
		rc = reload(pid);
		goto out;
	}
	if (signo == SIGUSR2) {
		rc = upgrade(pid, pidfile, shutdown_timeout);
		goto out;
	}
	if (status) {
		rc = statusctl_print(pid, stdout) == 0 ? 0 : 1;
		goto out;
	}
	if (kill(pid, signo) == -1) {
		fprintf(stderr, "preforkd: kill(%d, %s): %s\n", (int)pid,
			signal_name(signo), strerror(errno));
		goto out;
	}
	rc = 0;
out:
	conf_free(conf);
	free(pidfile);
	return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* The error log: one backend (syslog, stderr or a file), levels, reopen. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"

enum log_backend { BACKEND_STDERR, BACKEND_SYSLOG, BACKEND_FILE };

static const char *const level_names[] = {
	"error", "warning", "notice", "info", "debug",
};
static const int level_priorities[] = {
	LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG,
};

static enum log_backend backend = BACKEND_STDERR;
static int current_level = LOG_LEVEL_INFO;
static int file_fd = -1;
static char *file_path;
static bool stderr_copy;
static bool write_failed;	/* an unwritable log is reported once */

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * The master opens logs as root and gives them to the workers' user: a
 * link that user could have made (in a log directory it may write) would
 * make root append to, and hand over, any file it names.  A link of root
 * or of ours (a container's access.log -> /dev/stdout) is followed.
 */
bool
log_link_refused(const char *path, uid_t *owner)
{
	int saved = errno;
	struct stat st;
	bool refused = lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
		       st.st_uid != 0 && st.st_uid != geteuid();

	errno = saved;
	if (refused)
		*owner = st.st_uid;
	return refused;
}

const char *
log_link_refusal(uid_t owner)
{
	static char why[128];

	if (geteuid() == 0)
		snprintf(why, sizeof(why), "a symbolic link of uid %d: only "
			 "root's are followed", (int)owner);
	else
		snprintf(why, sizeof(why), "a symbolic link of uid %d: only "
			 "root's and uid %d's are followed", (int)owner,
			 (int)geteuid());
	return why;
}

/*
 * O_NONBLOCK for the open: a fifo that no process reads would block
 * open() for good, and the master with it (no reload, no stop but
 * SIGKILL); it fails with ENXIO instead.  It stays for the error log
 * (it changes nothing for a file): the master must not hang on a fifo
 * whose reader stopped reading either.
 */
int
log_file_open(const char *path, bool wait_when_full)
{
	const int how = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
			O_NONBLOCK;
	int fd = open(path, how | O_NOFOLLOW, 0640);
	uid_t owner;
	int flags;

	if (fd == -1 && errno == ELOOP && !log_link_refused(path, &owner))
		fd = open(path, how, 0640);

	if (fd == -1 || !wait_when_full)
		return fd;
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

const char *
log_file_strerror(const char *path, int err)
{
	static char why[160];
	struct stat st;
	uid_t owner;

	if (err == ENXIO && path != NULL && stat(path, &st) == 0 &&
	    S_ISFIFO(st.st_mode))
		return "it is a fifo that no process reads";
	if (err == ELOOP && path != NULL && log_link_refused(path, &owner)) {
		snprintf(why, sizeof(why), "it is %s", log_link_refusal(owner));
		return why;
	}
	return strerror(err);
}

int
log_open(const char *target, int level)
{
	return log_open_fd(target, level, -1);
}

int
log_open_fd(const char *target, int level, int opened)
{
	if (strcmp(target, "stderr") == 0) {
		log_close();
		backend = BACKEND_STDERR;
	} else if (strcmp(target, "syslog") == 0) {
		log_close();
		openlog("preforkd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		backend = BACKEND_SYSLOG;
	} else {
		char *path = strdup(target);
		int fd;

		if (path == NULL)
			return -1;
		if ((fd = opened) == -1 &&
		    (fd = log_file_open(path, false)) == -1) {
			int saved = errno;

			free(path);
			errno = saved;
			return -1;
		}
		log_close();
		file_fd = fd;
		file_path = path;
		backend = BACKEND_FILE;
	}
	current_level = level;
	write_failed = false;
	return 0;
}

const char *
log_file_in_use(void)
{
	return backend == BACKEND_FILE ? file_path : NULL;
}

bool
log_uses(const char *target)
{
	switch (backend) {
	case BACKEND_STDERR: return strcmp(target, "stderr") == 0;
	case BACKEND_SYSLOG: return strcmp(target, "syslog") == 0;
	case BACKEND_FILE:   return strcmp(target, file_path) == 0;
	}
	return false;
}

int
log_switch(const char *target, int level)
{
	if (log_uses(target)) {
		current_level = level;
		return 0;
	}
	return log_open(target, level) == 0 ? 1 : -1;
}

void
log_set_stderr_copy(bool on)
{
	stderr_copy = on;
}

bool
log_to_stderr(void)
{
	return backend == BACKEND_STDERR;
}

int
log_reopen(void)
{
	int fd;

	if (backend != BACKEND_FILE)
		return 0;
	if ((fd = log_file_open(file_path, false)) == -1)
		return -1;
	/* dup2 keeps the descriptor number, so no window without a log. */
	if (dup2(fd, file_fd) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	if (fcntl(file_fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	write_failed = false;
	return 0;
}

void
log_chown(uid_t uid)
{
	if (backend == BACKEND_FILE && fchown(file_fd, uid, (gid_t)-1) == -1)
		log_errno(LOG_LEVEL_WARNING, "fchown(%s, %d)", file_path,
			  (int)uid);
}

void
log_close(void)
{
	if (backend == BACKEND_SYSLOG)
		closelog();
	if (file_fd != -1)
		close(file_fd);
	file_fd = -1;
	free(file_path);
	file_path = NULL;
	backend = BACKEND_STDERR;
}

static void
write_line(int fd, const char *line, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, line, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!write_failed && fd == file_fd) {
				/* Said once; serving goes on without the log. */
				write_failed = true;
				if (errno == EAGAIN)
					syslog(LOG_ERR, "preforkd: %s is full "
					       "(its reader does not keep up): "
					       "lines are dropped", file_path);
				else
					syslog(LOG_ERR, "preforkd: cannot write "
					       "%s: %s", file_path,
					       strerror(errno));
			}
			return;
		}
		line += n;
		len -= (size_t)n;
	}
}

static void
log_emit(int level, const char *msg)
{
	bool copy = stderr_copy && level <= LOG_LEVEL_WARNING;
	char line[2048];
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	int len;

	if (backend == BACKEND_SYSLOG)
		syslog(level_priorities[level], "%s", msg);
	if (backend == BACKEND_SYSLOG && !copy)
		return;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	len = snprintf(line, sizeof(line), "%s.%03ldZ [%s] preforkd[%d]: %s\n",
		       stamp, ts.tv_nsec / 1000000, level_names[level],
		       (int)getpid(), msg);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	if (backend == BACKEND_FILE)
		write_line(file_fd, line, (size_t)len);
	if (backend == BACKEND_STDERR || copy)
		write_line(STDERR_FILENO, line, (size_t)len);
}

static void log_vmsg(int, int, const char *, va_list)
	__attribute__((format(printf, 3, 0)));

static char last_error[256];

static void
log_vmsg(int level, int errnum, const char *fmt, va_list ap)
{
	char msg[1536];
	int len;

	if (level > current_level)
		return;
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (len >= 0 && errnum != 0 && (size_t)len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - (size_t)len, ": %s",
			 strerror(errnum));
	if (level == LOG_LEVEL_ERROR) {
		/* Cut short if need be: it is a reason, not the log. */
		size_t n = strnlen(msg, sizeof(last_error) - 1);

		memcpy(last_error, msg, n);
		last_error[n] = '\0';
	}
	log_emit(level, msg);
}

const char *
log_last_error(void)
{
	return last_error;
}

void
log_last_error_clear(void)
{
	last_error[0] = '\0';
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_errno(int level, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vmsg(level, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

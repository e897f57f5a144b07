/* SPDX-License-Identifier: BSD-2-Clause */
/* The pidfile, locked by the running master for its whole life. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "pidfile.h"
#include "scoreboard.h"

static pid_t
read_pid(int fd)
{
	char buf[32];
	ssize_t n;
	long pid;
	char *end;

	do
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (end == buf || pid <= 0 || (*end != '\n' && *end != '\0'))
		return -1;
	return (pid_t)pid;
}

/*
 * The exclusive lock of a new master.  A live master holds it for good,
 * but a status check (the init script's flock -s, -s) holds a shared
 * one for a moment: that one is waited for, up to a second, rather than
 * taken for "another preforkd".  0, or -1 with errno.
 */
static int
pidfile_lock(int fd)
{
	for (int waits = 0;; waits++) {
		struct timespec pause = { 0, 25 * 1000000L };
		pid_t holder;

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || waits == 40)
			return -1;
		holder = read_pid(fd);
		if (holder > 0 && (kill(holder, 0) == 0 || errno == EPERM)) {
			errno = EWOULDBLOCK;
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

int
pidfile_create(const char *path, char *err, size_t errlen)
{
	char buf[32];
	struct stat st;
	int fd, len;

	/*
	 * Looked at before the open, which could have a device act (a tape
	 * rewinds on close); fstat() below closes the race.  A symbolic link
	 * is refused: root would write wherever its owner points it.
	 */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot create pidfile %s: it %s", path,
			 S_ISLNK(st.st_mode) ? "is a symbolic link" :
			 "exists and is not a regular file");
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
		  O_NONBLOCK, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "cannot create pidfile %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot create pidfile %s: it exists and "
			 "is not a regular file", path);
		close(fd);
		return -1;
	}
	if (pidfile_lock(fd) == -1) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "another preforkd (pid %d) holds "
				 "the pidfile %s", (int)read_pid(fd), path);
		else
			snprintf(err, errlen, "flock(%s): %s", path,
				 strerror(errno));
		close(fd);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)len, 0) != len) {
		snprintf(err, errlen, "write(%s): %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
pidfile_remove(const char *path, int fd)
{
	if (fd == -1)
		return;
	/* Unlink while still holding the lock, so no new master races us. */
	unlink(path);
	close(fd);
}

/*
 * Seen through another mount (a bind mount of its directory) the same
 * file has another path.  Only an entry with our file's name is stat()ed:
 * that touches the pidfile's own file system, no other.
 */
static bool
same_file_by_name(const char *mine, size_t mlen, const char *theirs,
		  size_t tlen, int fd, const char *link)
{
	const char *mbase = memrchr(mine, '/', mlen);
	const char *tbase = memrchr(theirs, '/', tlen);
	struct stat a, b;

	if (mbase == NULL || tbase == NULL ||
	    mlen - (size_t)(mbase - mine) != tlen - (size_t)(tbase - theirs) ||
	    memcmp(mbase, tbase, mlen - (size_t)(mbase - mine)) != 0)
		return false;
	return fstat(fd, &a) == 0 && stat(link, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * 1 if process pid has the file our fd is open on, 0 if it has not (or
 * does not run), -1 if we cannot tell (another user's process, /proc
 * mounted with hidepid).  *master: whether it has a scoreboard too, as a
 * master has from before it writes its pidfile.  The links are compared,
 * not stat()ed: that would touch every file the master has open, a dead
 * NFS mount's too.
 */
static int
process_holds(pid_t pid, int fd, bool *master)
{
	char dir[64], link[64 + sizeof(((struct dirent *)0)->d_name)];
	char mine[PATH_MAX], theirs[PATH_MAX];
	ssize_t len, n;
	struct dirent *e;
	int found = 0;
	DIR *d;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((len = readlink(link, mine, sizeof(mine))) <= 0 ||
	    len == (ssize_t)sizeof(mine))
		return -1;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT && kill(pid, 0) == -1 && errno == ESRCH ?
		       0 : -1;
	*master = false;
	while ((!found || !*master) && (e = readdir(d)) != NULL) {
		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, theirs, sizeof(theirs));
		if (n <= 0 || n == (ssize_t)sizeof(theirs))
			continue;
		if (fdio_memfd_named(theirs, (size_t)n, SB_MEMFD_NAME)) {
			*master = true;
			continue;
		}
		found = found ||
			(n == len && memcmp(mine, theirs, (size_t)len) == 0) ||
			same_file_by_name(mine, (size_t)len, theirs, (size_t)n,
					  fd, link);
	}
	closedir(d);
	return found;
}

pid_t
pidfile_running_pid(const char *path, char *err, size_t errlen)
{
	pid_t pid;
	bool master = false;
	int holds;
	/* O_NONBLOCK: a fifo there would block the open for good. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd == -1 && (errno == EACCES || errno == EPERM)) {
		/* It may well run: the pidfile is only closed to us. */
		snprintf(err, errlen, "cannot read pidfile %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fd == -1) {
		snprintf(err, errlen, "no preforkd is running: cannot open "
			 "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "no preforkd is running: pidfile %s is "
			 "not a regular file", path);
		close(fd);
		return -1;
	}
	/* A lock we can take means nobody holds it: the file is stale. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		snprintf(err, errlen, "no preforkd is running: pidfile %s is "
			 "stale", path);
		close(fd);
		return -1;
	}
	pid = read_pid(fd);
	if (pid == -1) {
		snprintf(err, errlen, "pidfile %s holds no valid pid", path);
	} else if ((holds = process_holds(pid, fd, &master)) == 0) {
		/* Written over: signalling that pid would hit a stranger. */
		snprintf(err, errlen, "pidfile %s names process %d, not the "
			 "master that holds it locked", path, (int)pid);
		pid = -1;
	} else if (holds == 1 && !master) {
		/* Another program's pidfile, given by mistake to -p. */
		snprintf(err, errlen, "no preforkd is running: pidfile %s is "
			 "held by process %d, which is not a preforkd master",
			 path, (int)pid);
		pid = -1;
	}
	close(fd);
	return pid;
}

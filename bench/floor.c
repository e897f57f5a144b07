/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The least a pre-forking HTTP server can do, for bench/run --floor:
 * N processes block in accept() on one listener; each answers every
 * read() on its connection with one write() of a response prepared at
 * start (the file given, as application/octet-stream).  No parsing, no
 * timeouts, no logging: not a server, a floor.  What preforkd spends
 * above it is preforkd's own; what this spends is the model's (one
 * process wake-up and context switch per request).  Workers run under
 * SCHED_BATCH, as preforkd's do.
 *
 * Built with -DFLOOR_URING (and -luring), each worker instead hands the
 * kernel its answer and its next read in one io_uring_enter(): one system
 * call per request instead of two, which asks whether batching the calls
 * lifts the model's ceiling on a machine where every call is dear.
 *
 *   floor PORT WORKERS FILE
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef FLOOR_URING
#include <liburing.h>
#endif

#define MAX_WORKERS 64

static char *response;
static size_t response_len;

static int
load_response(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	int head;

	if (f == NULL || fstat(fileno(f), &st) == -1)
		return -1;
	response = malloc(256 + (size_t)st.st_size);
	if (response == NULL)
		return -1;
	head = snprintf(response, 256, "HTTP/1.1 200 OK\r\nServer: floor\r\n"
			"Content-Type: application/octet-stream\r\n"
			"Content-Length: %lld\r\n\r\n", (long long)st.st_size);
	if (fread(response + head, 1, (size_t)st.st_size, f) !=
	    (size_t)st.st_size)
		return -1;
	fclose(f);
	response_len = (size_t)head + (size_t)st.st_size;
	return 0;
}

#ifndef FLOOR_URING
static void
serve(int fd)
{
	char buf[8192];
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || write(fd, response, response_len) !=
		    (ssize_t)response_len)
			break;
	}
	close(fd);
}
#else
static struct io_uring ring;

/* The answer is linked to the read after it: both go in with one call,
 * which returns when the client's next request has been read. */
static void
serve(int fd)
{
	char buf[8192];
	int one = 1;
	ssize_t n;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while ((n = read(fd, buf, sizeof(buf))) == -1 && errno == EINTR)
		;
	while (n > 0) {
		struct io_uring_sqe *send = io_uring_get_sqe(&ring);
		struct io_uring_sqe *recv = io_uring_get_sqe(&ring);
		int rc, seen = 0;

		io_uring_prep_send(send, fd, response, response_len, 0);
		send->flags |= IOSQE_IO_LINK;
		send->user_data = 1;
		io_uring_prep_recv(recv, fd, buf, sizeof(buf), 0);
		recv->user_data = 2;
		while ((rc = io_uring_submit_and_wait(&ring, 2)) == -EINTR)
			;
		if (rc < 0)
			break;
		/* A signal can end the wait early: buf is the kernel's until
		 * the read's completion is in. */
		while (seen < 2) {
			struct io_uring_cqe *cqe;

			if ((rc = io_uring_wait_cqe(&ring, &cqe)) == -EINTR)
				continue;
			if (rc < 0)
				_exit(1);
			if (cqe->res <= 0 || (cqe->user_data == 1 &&
			    (size_t)cqe->res != response_len))
				n = 0;
			io_uring_cqe_seen(&ring, cqe);
			seen++;
		}
	}
	close(fd);
}
#endif

static _Noreturn void
worker(int lfd)
{
	struct sched_param sp = { .sched_priority = 0 };
#ifdef FLOOR_URING
	int rc = -EINVAL;

	/* Completions run in the worker's own wait, not on a wake-up of
	 * their own; kernels before 6.1 and liburing before 2.3 lack it. */
#ifdef IORING_SETUP_DEFER_TASKRUN
	rc = io_uring_queue_init(4, &ring, IORING_SETUP_SINGLE_ISSUER |
				 IORING_SETUP_DEFER_TASKRUN);
#endif
	if (rc == -EINVAL)
		rc = io_uring_queue_init(4, &ring, 0);
	if (rc < 0) {
		fprintf(stderr, "floor: io_uring: %s\n", strerror(-rc));
		_exit(1);
	}
#endif

	(void)sched_setscheduler(0, SCHED_BATCH, &sp);
	signal(SIGTERM, SIG_DFL);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd >= 0)
			serve(fd);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	pid_t kids[MAX_WORKERS];
	int lfd, one = 1, n;
	sigset_t set;
	int sig;

	if (argc != 4 || (n = atoi(argv[2])) < 1 || n > MAX_WORKERS) {
		fprintf(stderr, "usage: floor PORT WORKERS FILE\n");
		return 2;
	}
	if (load_response(argv[3]) == -1) {
		perror(argv[3]);
		return 1;
	}
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 511)) {
		perror("listen");
		return 1;
	}
	/* A worker that dies (no io_uring here, say) ends the floor: its
	 * caller then sees it gone instead of waiting on a dead port. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < n; i++) {
		if ((kids[i] = fork()) == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			worker(lfd);
		}
		if (kids[i] == -1) {
			perror("fork");
			n = i;
			break;
		}
	}
	while (sigwait(&set, &sig) != 0)
		;
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return sig == SIGCHLD ? 1 : 0;
}

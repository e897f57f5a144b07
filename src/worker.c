/* SPDX-License-Identifier: BSD-2-Clause */
/* The child side: signals, privilege drop, accept loop, handler call. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "handler.h"
#include "identity.h"
#include "log.h"
#include "pool.h"
#include "proxy.h"
#include "proxyio.h"
#include "ratelimit.h"
#include "scoreboard.h"
#include "status.h"
#include "worker.h"

#define WORKER_EXIT_CRASH 1
/*
 * A balancer sends the PROXY header at once; the specification asks a
 * receiver to wait at least 3 s, to cover a TCP retransmission.
 */
#define PROXY_HEADER_MS 5000
#define PROXY_REPORT_MS 60000

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t reopen_logs;
static int64_t stop_seen_ms;		/* when the handler first saw the stop */
static int64_t idle_grace_ms;		/* keep-alive wait left to a retiree */
static int listen_fd = -1;
static int dead_fd = -1;	/* an unconnected socket: accept() on it fails */
static struct slot *my_slot;
static struct sb_server *my_record;
static const struct scoreboard *scoreboard;
static int statm_fd = -1;	/* /proc/self/statm, when max-memory is set */
static int wake_fd = -1;		/* the master's eventfd */

/*
 * Graceful stop.  Covering the listener with a socket that is not
 * listening makes a pending or the very next accept() fail at once, so
 * the signal cannot slip in between the flag check and accept().  Only
 * this process's descriptor changes: the shared socket serves on.
 */
static void
on_quit(int signo)
{
	int saved = errno;

	(void)signo;
	stopping = 1;
	if (dead_fd != -1)
		dup2(dead_fd, listen_fd);
	my_slot->accepting = 0;
	errno = saved;
}

/* The master wants an idle keep-alive connection closed: wake the wait. */
static void
on_usr2(int signo)
{
	(void)signo;
}

static void
on_usr1(int signo)
{
	(void)signo;
	reopen_logs = 1;
}

static int
set_handler(int signo, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = fn;
	return sigaction(signo, &sa, NULL);
}

static int
worker_signals(void)
{
	/* SIGXFSZ: a log at its file-size limit fails a write (EFBIG),
	 * it must not kill the worker. */
	static const int ignored[] = { SIGHUP, SIGPIPE, SIGWINCH, SIGTTIN,
				       SIGTTOU, SIGXFSZ };
	static const int defaulted[] = { SIGTERM, SIGINT, SIGCHLD, SIGALRM };
	sigset_t none;

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (set_handler(ignored[i], SIG_IGN) == -1)
			return -1;
	for (size_t i = 0; i < sizeof(defaulted) / sizeof(defaulted[0]); i++)
		if (set_handler(defaulted[i], SIG_DFL) == -1)
			return -1;
	if (set_handler(SIGQUIT, on_quit) == -1 ||
	    set_handler(SIGUSR1, on_usr1) == -1 ||
	    set_handler(SIGUSR2, on_usr2) == -1)
		return -1;
	/* The master blocked its signals before forking us. */
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
drop_privileges(const struct conf *conf)
{
	/* The groups came with the config (see identity.h): no NSS module. */
	struct identity_ids ids = conf_worker_ids(conf);
	enum identity_drop step;
	char call[256];
	int err;

	if (geteuid() != 0 || conf->user == NULL ||
	    (step = identity_drop(&ids)) == IDENTITY_DROPPED)
		return 0;
	err = errno;
	identity_drop_describe(step, &ids, call, sizeof(call));
	errno = err;
	if (step == IDENTITY_DROP_UNVERIFIED)
		log_error("%s", call);
	else
		log_errno(LOG_LEVEL_ERROR, "%s", call);
	return -1;
}

/*
 * A worker runs until it blocks for its client's next bytes, a short
 * stretch; a worker woken meanwhile need not preempt it.  Under the
 * default policy, every wake-up on a busy CPU would cut the running
 * worker off mid-response and cost two context switches for nothing.
 * SCHED_BATCH keeps the wake-up from preempting: workers take turns at
 * their natural pauses (the tick still bounds a long one).  A master
 * started under another policy (chrt) passes that one on unchanged.
 */
static void
worker_sched_batch(void)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (sched_getscheduler(0) != SCHED_OTHER)
		return;
	if (sched_setscheduler(0, SCHED_BATCH, &sp) == -1)
		log_errno(LOG_LEVEL_INFO, "sched_setscheduler(SCHED_BATCH)");
}

/*
 * "Do not respawn", with the reason the master passes on to whoever asked
 * for the start or the reload: the slot's request line is free until a
 * worker serves.
 */
static _Noreturn void
exit_fatal(void)
{
	snprintf(my_slot->request, sizeof(my_slot->request), "%s",
		 log_last_error());
	_exit(WORKER_EXIT_FATAL);
}

/* The resident set in bytes, or 0 if unknown. */
static uint64_t
resident_bytes(void)
{
	unsigned long long size, resident;
	char buf[128];
	ssize_t n = pread(statm_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void
worker_setup(const struct worker_args *a)
{
	/* The master's last error is not this worker's reason. */
	log_last_error_clear();
	my_slot = a->slot;
	my_record = a->record;
	scoreboard = a->sb;
	wake_fd = a->wake_fd;
	listen_fd = a->listen_fd;
	/*
	 * A retiring worker still answers a request arriving on an idle
	 * keep-alive connection, but ends the wait itself well before the
	 * master's shutdown-timeout would kill it.
	 */
	idle_grace_ms = a->conf->shutdown_timeout > 0 ?
			(int64_t)a->conf->shutdown_timeout * 500 : INT64_MAX;
	my_slot->pid = getpid();
	my_slot->accepting = 1;
	worker_sched_batch();
	if ((dead_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    worker_signals() == -1) {
		log_errno(LOG_LEVEL_ERROR, "worker set-up");
		_exit(WORKER_EXIT_CRASH);
	}
	if (drop_privileges(a->conf) == -1)
		exit_fatal();
	/*
	 * A master killed with -9 takes its workers along, gracefully.  Set
	 * after the privilege drop: changing ids clears the death signal.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGQUIT) == -1)
		log_errno(LOG_LEVEL_WARNING, "prctl(PR_SET_PDEATHSIG)");
	if (getppid() != a->master_pid)
		_exit(WORKER_EXIT_OK);
	if (a->server->max_memory > 0 &&
	    (statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) == -1)
		log_errno(LOG_LEVEL_WARNING, "open(/proc/self/statm): "
			  "max-memory is not enforced");
	if (a->server->handler->worker_init != NULL &&
	    a->server->handler->worker_init(a->server->hconf) == -1)
		exit_fatal();
	/*
	 * What this worker needs just to exist, set up and before its first
	 * connection: the master tells a max-memory below it (once) from
	 * the recycling it causes.  One read per worker, none per connection.
	 */
	if (statm_fd != -1)
		my_slot->fresh_rss = resident_bytes();
}

static void
worker_reopen(const struct server_conf *server)
{
	reopen_logs = 0;
	if (log_reopen() == -1)
		log_errno(LOG_LEVEL_ERROR, "worker: reopening the error log");
	if (server->handler->reopen != NULL)
		server->handler->reopen(server->hconf, (uid_t)-1);
}

/*
 * The server's workers in accept(), counted in shared memory: the one
 * taking the last wakes the master at once, which otherwise looks only
 * once a second while every worker is idle, so that a burst of clients
 * gets workers spawned for it without waiting for that look.
 */
static int
idle_count(int delta)
{
	if (my_record == NULL)
		return -1;
	return __atomic_add_fetch(&my_record->idle, delta, __ATOMIC_ACQ_REL);
}

static void
set_state(int state, int64_t deadline_ms)
{
	int64_t now = monotonic_ms();

	my_slot->deadline_ms = deadline_ms;
	my_slot->last_activity_ms = now;
	my_slot->state_since_ms = now;
	/* Last, released: a master that sees the state sees its activity. */
	__atomic_store_n(&my_slot->state, state, __ATOMIC_RELEASE);
}

/*
 * With proxy-protocol on, the header comes first and its source becomes
 * the peer.  A peer outside proxy-allow, or one whose header is missing,
 * partial or malformed, is refused: counted, and logged now and then.
 */
static bool
proxy_header_taken(const struct server_conf *server, struct handler_conn *conn)
{
	static struct ratelimit refusals = RATELIMIT_INIT(PROXY_REPORT_MS);
	int64_t deadline = monotonic_ms() + PROXY_HEADER_MS;
	const char *why = NULL;
	unsigned long held;
	char peer[SLOT_CLIENT_MAX];

	if (server->proxy_mode == PROXY_OFF)
		return true;
	if (proxyio_peer_allowed(server, &conn->peer, conn->peerlen)) {
		conn_phase(conn, CONN_READING, deadline);
		if (proxyio_read_header(conn->fd, server->proxy_mode, deadline,
					&conn->peer, &conn->peerlen, &why) == 0)
			return true;
	}
	if (my_record != NULL)
		__atomic_add_fetch(&my_record->proxy_refused, 1,
				   __ATOMIC_RELAXED);
	if (ratelimit_pass(&refusals, monotonic_ms(), &held)) {
		addr_format_sockaddr((const struct sockaddr *)&conn->peer,
				     conn->peerlen, peer, sizeof(peer));
		log_notice("server %s: connection from %s closed: %s%s "
			   "(%lu more refused before)", server->name, peer,
			   why != NULL ? "PROXY header " : "not in proxy-allow",
			   why != NULL ? why : "", held);
	}
	return false;
}

static void
worker_serve(const struct server_conf *server, int fd,
	     const struct sockaddr_storage *peer, socklen_t peerlen)
{
	struct handler_conn conn = {
		.fd = fd, .peer = *peer, .peerlen = peerlen,
		.server = server, .hconf = server->hconf,
	};

	addr_format_sockaddr((const struct sockaddr *)peer, peerlen,
			     my_slot->client, sizeof(my_slot->client));
	my_slot->request[0] = '\0';
	conn_phase(&conn, CONN_WRITING, 0);
	/* After the state, released: see the master's slot_view(). */
	__atomic_store_n(&my_slot->connections, my_slot->connections + 1,
			 __ATOMIC_RELEASE);
	if (!proxy_header_taken(server, &conn)) {
		set_state(SLOT_CLOSING, 0);
		close(fd);
		return;
	}
	if (conn.peerlen != peerlen ||
	    memcmp(&conn.peer, peer, peerlen) != 0)
		addr_format_sockaddr((const struct sockaddr *)&conn.peer,
				     conn.peerlen, my_slot->client,
				     sizeof(my_slot->client));
	conn_phase(&conn, CONN_WRITING, 0);
	server->handler->serve(&conn);
	set_state(SLOT_CLOSING, 0);
	close(fd);
}

/* Benign accept() failures: counted by the kernel, not worth a log line. */
static bool
accept_error_is_transient(int err)
{
	return err == EINTR || err == ECONNABORTED || err == EAGAIN ||
	       err == EWOULDBLOCK || err == EPROTO || err == EPERM;
}

static void
accept_pause_resources(int err)
{
	static int64_t last_logged;
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	int64_t now = monotonic_ms();

	if (now - last_logged > 60000) {
		errno = err;
		log_errno(LOG_LEVEL_ERROR, "accept() out of resources, pausing");
		last_logged = now;
	}
	nanosleep(&pause, NULL);
}

/*
 * An eventfd write, not a signal: this worker may run as another user
 * than the master, which kill() would then refuse.  A full counter
 * (EAGAIN) means a wake-up is pending already.
 */
static void
wake_master(void)
{
	uint64_t one = 1;

	if (wake_fd != -1 && write(wake_fd, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		log_errno(LOG_LEVEL_WARNING, "waking the master");
}

/*
 * Called by the worker that took its server's last idle place.  A master
 * that looks every TICK_BUSY_MS anyway is left alone: under a steady
 * load that would otherwise be a wake-up for nearly every connection.
 * Busy first, then the look at the flag (see workers_busy in master.c).
 */
static void
wake_master_if_asleep(void)
{
	/*
	 * Busy from now, with the activity of now: the master that wakes
	 * would otherwise count this worker's idle time as busy time, and
	 * kill it as stuck if it idled past timeout.
	 */
	set_state(SLOT_READING, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (scoreboard == NULL ||
	    __atomic_load_n((uint32_t *)&scoreboard->master->watching,
			    __ATOMIC_SEQ_CST) == 0)
		wake_master();
}

/*
 * This worker will leave after its current connection: the master
 * replaces it now, so the pool does not dip while it finishes.
 */
static void
leave(int reason)
{
	my_slot->exit_reason = reason;
	my_slot->leaving = 1;
	wake_master();
}

/* After a connection: a worker grown past max-memory leaves. */
static bool
over_memory(const struct server_conf *server)
{
	uint64_t rss;

	if (statm_fd == -1 || (rss = resident_bytes()) <= server->max_memory)
		return false;
	log_notice("server %s: worker %d resident set %lluK exceeds "
		   "max-memory %lluK: recycling", server->name, (int)getpid(),
		   (unsigned long long)(rss >> 10),
		   (unsigned long long)(server->max_memory >> 10));
	leave(RESTART_MAX_MEMORY);
	return true;
}

_Noreturn void
worker_main(const struct worker_args *a)
{
	const struct server_conf *server = a->server;
	long served = 0, limit = a->max_requests;

	worker_setup(a);
	/* A master's death is seen as SIGQUIT (PDEATHSIG): no check per loop. */
	while (!stopping && (limit == 0 || served < limit)) {
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof(peer);
		int fd, idle;

		if (reopen_logs)
			worker_reopen(server);
		set_state(SLOT_IDLE, 0);
		idle_count(+1);
		fd = accept4(listen_fd, (struct sockaddr *)&peer, &peerlen,
			     SOCK_CLOEXEC);
		/*
		 * <= 0, not == 0: a worker killed between SLOT_IDLE and its
		 * increment leaves the count one low for good (see
		 * scoreboard_slot_gone), and the last idle place must still
		 * wake the master; one wake-up too many costs nothing.
		 */
		idle = idle_count(-1);
		if (fd != -1 && my_record != NULL && idle <= 0)
			wake_master_if_asleep();
		if (fd == -1) {
			int err = errno;

			if (stopping || accept_error_is_transient(err))
				continue;
			if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
			    err == ENOMEM) {
				accept_pause_resources(err);
				continue;
			}
			errno = err;
			log_errno(LOG_LEVEL_ERROR, "accept(%s)", server->listen_text);
			_exit(WORKER_EXIT_CRASH);
		}
		if (limit > 0 && served + 1 >= limit)
			leave(RESTART_MAX_REQUESTS);
		worker_serve(server, fd, &peer, peerlen);
		served++;
		if (server->max_memory > 0 && over_memory(server))
			break;
	}
	/*
	 * Closing starts the timeout afresh: an idle worker on its way out
	 * is not one busy without progress since it last served.
	 */
	set_state(SLOT_CLOSING, 0);
	_exit(WORKER_EXIT_OK);
}

/*
 * Ahead of the master's own count, which it checks every pass (20 ms), by
 * a tenth of the timeout (50 ms to 500 ms): after the wait the worker
 * still logs and closes, and a loaded machine may not run it at once.
 */
static int64_t
drop_ahead_ms(int timeout_ms)
{
	int64_t ahead = timeout_ms / 10;

	if (timeout_ms <= 100)
		return 0;
	return ahead < 50 ? 50 : ahead > 500 ? 500 : ahead;
}

int64_t
conn_progress_deadline_ms(const struct handler_conn *conn, int timeout_ms)
{
	(void)conn;
	if (timeout_ms < 0)
		return INT64_MAX;
	/* The master counts from the same last activity. */
	return my_slot->last_activity_ms + timeout_ms -
	       drop_ahead_ms(timeout_ms);
}

void
conn_progress(struct handler_conn *conn, size_t bytes_sent)
{
	(void)conn;
	my_slot->last_activity_ms = monotonic_ms();
	my_slot->bytes_sent += bytes_sent;
}

void
conn_note_request(struct handler_conn *conn, const char *line, size_t len)
{
	(void)conn;
	if (len >= sizeof(my_slot->request))
		len = sizeof(my_slot->request) - 1;
	memcpy(my_slot->request, line, len);
	my_slot->request[len] = '\0';
	my_slot->requests++;
	my_slot->last_activity_ms = monotonic_ms();
}

bool
conn_stopping(const struct handler_conn *conn)
{
	return stopping || conn_drop_asked(conn);
}

void
conn_between_requests(struct handler_conn *conn)
{
	if (reopen_logs)
		worker_reopen(conn->server);
}

bool
conn_retiring(const struct handler_conn *conn)
{
	(void)conn;
	return stopping != 0;
}

void
conn_phase(struct handler_conn *conn, enum conn_phase phase,
	   int64_t deadline_ms)
{
	static const int states[] = {
		[CONN_READING] = SLOT_READING,
		[CONN_WRITING] = SLOT_WRITING,
		[CONN_KEEPALIVE] = SLOT_KEEPALIVE,
		[CONN_CLOSING] = SLOT_CLOSING,
	};

	(void)conn;
	set_state(states[phase], deadline_ms);
}

bool
conn_draining(const struct handler_conn *conn)
{
	(void)conn;
	return scoreboard != NULL && scoreboard->master->draining;
}

int64_t
conn_idle_limit_ms(const struct handler_conn *conn)
{
	if (conn_drop_asked(conn))
		return 0;
	if (!stopping)
		return INT64_MAX;
	/* The master said until when; not so when it died (PDEATHSIG). */
	if (my_slot->idle_until_ms > 0)
		return my_slot->idle_until_ms;
	if (idle_grace_ms == INT64_MAX)
		return INT64_MAX;
	if (stop_seen_ms == 0)
		stop_seen_ms = monotonic_ms();
	return stop_seen_ms + idle_grace_ms;
}

bool
conn_drop_asked(const struct handler_conn *conn)
{
	(void)conn;
	/* Asked of this connection, not of one before it. */
	return __atomic_load_n(&my_slot->drop_idle, __ATOMIC_ACQUIRE) ==
	       my_slot->connections;
}

int
conn_status(const struct handler_conn *conn, const char *format, size_t flen,
	    char **out, size_t *len, const char **type)
{
	/* About 40 KiB (a record of every server): off the worker's stack. */
	static struct status_snapshot snap;
	struct status_buf buf = { .p = NULL };
	int f = status_format_parse(format, flen);

	(void)conn;
	if (f == -1) {
		errno = EINVAL;
		return -1;
	}
	if (scoreboard == NULL ||
	    scoreboard_snapshot(scoreboard, monotonic_ms(), &snap) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if (status_render(&snap, (enum status_format)f, &buf) == -1) {
		free(snap.workers);
		status_buf_free(&buf);
		errno = ENOMEM;
		return -1;
	}
	free(snap.workers);
	*out = buf.p;
	*len = buf.len;
	*type = status_content_type((enum status_format)f);
	return 0;
}

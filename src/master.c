/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The master: binds, forks and supervises generations of workers, and
 * turns signals into actions.  It sleeps only in ppoll() with its signals
 * unblocked; handlers set flags that the loop acts on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "activation.h"
#include "conf.h"
#include "confseal.h"
#include "control.h"
#include "daemon.h"
#include "drain.h"
#include "generation.h"
#include "handler.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "pidfile.h"
#include "pool.h"
#include "requesters.h"
#include "scoreboard.h"
#include "signals.h"
#include "unixdiag.h"
#include "upgrade.h"
#include "worker.h"

/* Room for two full generations (old and new) at the largest total. */
#define SCOREBOARD_SLOTS	(2 * CONF_MAX_WORKERS_TOTAL)
/* New workers must reach accept() within this, or start/reload fails. */
#define START_TIMEOUT_MS	30000
#define FAST_STOP_KILL_MS	5000
#define TICK_MS			1000
#define TICK_BUSY_MS		20
#define STATUS_EVERY_MS		5000
/* SIGHUP senders remembered between two passes of the loop. */
#define MAX_HUP_SENDERS		8

struct worker {
	pid_t pid;
	struct generation *gen;
	size_t server;
	struct slot *slot;
	bool retiring;			/* sent SIGQUIT */
	bool killed;			/* sent SIGTERM or SIGKILL */
	bool timed_out;			/* killed by the watchdog */
	int64_t kill_at_ms;		/* a graceful stop ends here */
};

enum master_mode { RUNNING, STOPPING_FAST, STOPPING_GRACEFUL };

static struct {
	char *conf_path;
	bool foreground;
	char *pidfile;
	/* The config's pidfile at start: a reload that names another warns. */
	char *pidfile_conf;
	int pidfile_fd;
	int ready_fd;			/* daemon readiness pipe, -1 when told */
	int control_fd;			/* -s reload requests, -1 if none */
	int conf_fd;			/* conf_path, sealed for -s; -1 if none */
	int wake_fd;			/* eventfd: a worker took the last idle place */
	bool control_refused_logged;
	bool ready;
	int64_t start_deadline_ms;
	sigset_t sleep_mask;
	struct scoreboard sb;
	struct generation *gens;	/* every generation with a use left */
	struct generation *current;
	struct generation *pending;	/* a reload's, until its workers accept */
	int64_t pending_deadline_ms;
	int pending_log_fd;		/* its error-log file, -1 if none */
	struct requesters pending_req;
	struct requesters confirm_req;	/* answered once old workers stop accepting */
	int64_t confirm_deadline_ms;
	bool dropped_pending;		/* listeners the reload dropped to close */
	unsigned last_gen_id;
	struct worker *workers;
	size_t nworkers, capacity;
	enum master_mode mode;
	bool winched;			/* SIGWINCH: no workers until HUP */
	bool scoreboard_full_logged;
	char start_error[DAEMON_REPORT_MAX];	/* why start-up failed */
} m = { .pidfile_fd = -1, .ready_fd = -1, .control_fd = -1, .conf_fd = -1,
	.wake_fd = -1, .pending_log_fd = -1, .sb = { .fd = -1 } };

static volatile sig_atomic_t sig_reload, sig_terminate, sig_quit, sig_reopen,
	sig_child, sig_winch, sig_ttin, sig_ttou, sig_upgrade;
static volatile sig_atomic_t hup_senders[MAX_HUP_SENDERS];
static volatile sig_atomic_t nhup_senders;
static volatile sig_atomic_t usr2_sender;

static void
on_signal(int signo, siginfo_t *info, void *context)
{
	(void)context;
	switch (signo) {
	case SIGHUP:
		sig_reload = 1;
		/* Whoever asked (e.g. -s reload) gets the outcome. */
		if (info->si_code == SI_USER && nhup_senders < MAX_HUP_SENDERS)
			hup_senders[nhup_senders++] = info->si_pid;
		break;
	case SIGTERM:
	case SIGINT:
		sig_terminate = 1;
		break;
	case SIGQUIT:
		sig_quit = 1;
		break;
	case SIGUSR1:
		sig_reopen = 1;
		break;
	case SIGUSR2:
		sig_upgrade = 1;
		usr2_sender = info->si_code == SI_USER ? info->si_pid : 0;
		break;
	case SIGWINCH:
		sig_winch = 1;
		break;
	case SIGTTIN:
		sig_ttin++;
		break;
	case SIGTTOU:
		sig_ttou++;
		break;
	case SIGCHLD:
		sig_child = 1;
		break;
	}
}

/* ---- workers ---- */

static struct worker *
worker_find(pid_t pid)
{
	for (size_t i = 0; i < m.nworkers; i++)
		if (m.workers[i].pid == pid)
			return &m.workers[i];
	return NULL;
}

/* A worker keeps its own server's files only. */
static void
handlers_close_others(const struct generation *own, size_t own_si)
{
	for (const struct generation *g = m.gens; g != NULL; g = g->next)
		for (size_t i = 0; i < g->conf->nservers; i++) {
			const struct server_conf *s = &g->conf->servers[i];

			if ((g != own || i != own_si) &&
			    s->handler->close_files != NULL)
				s->handler->close_files(s->hconf);
		}
}

/* The error log a configuration asks for: in the foreground, stderr. */
static const char *
log_target(const struct conf *conf)
{
	return conf->error_log ? conf->error_log :
	       m.foreground ? "stderr" : "syslog";
}

static _Noreturn void
worker_child(struct generation *g, size_t si, struct slot *slot,
	     pid_t master_pid, long max_requests)
{
	struct worker_args args = {
		.max_requests = max_requests,
		.sb = &m.sb,
		.conf = g->conf,
		.server = &g->conf->servers[si],
		.slot = slot,
		.record = slot->record >= 0 ?
			  &m.sb.master->servers[slot->record] : NULL,
		.listen_fd = g->listeners[si]->fd,
		.master_pid = master_pid,
		.wake_fd = m.wake_fd,
	};

	/*
	 * Its own process group: a terminal's Ctrl-C or Ctrl-\ is for the
	 * master, which stops its workers by pid; had they the signal too,
	 * they would end before the master knew it was stopping them.
	 */
	if (setpgid(0, 0) == -1)
		log_errno(LOG_LEVEL_WARNING, "worker: setpgid()");
	/*
	 * Nothing of the master's stays open in a worker but its listener
	 * and the wake-up eventfd.
	 */
	if (m.pidfile_fd != -1)
		close(m.pidfile_fd);
	if (m.ready_fd != -1)
		close(m.ready_fd);
	if (m.sb.fd != -1)
		close(m.sb.fd);
	if (m.conf_fd != -1)
		close(m.conf_fd);
	control_close(m.control_fd);
	if (m.pending_log_fd != -1)
		close(m.pending_log_fd);
	listener_close_others(args.listen_fd);
	handlers_close_others(g, si);
	/*
	 * A reload's workers start before the master takes up the new
	 * error-log and log-level (only once they serve): they take them up
	 * themselves, still privileged, and give a file they create to the
	 * workers' user, or their USR1 could not reopen it.  If the log
	 * cannot be opened they keep the master's, as the master will once
	 * it serves, and the master logs why.
	 */
	if (log_switch(log_target(g->conf), g->conf->log_level) == 1 &&
	    geteuid() == 0 && g->conf->user != NULL)
		log_chown(g->conf->uid);
	/* Not the invoker's terminal or pipe: it must see EOF once we run. */
	if (!m.foreground)
		daemon_null_stdio();
	worker_main(&args);
}

/*
 * Kept for the start's or the reload's failure message, which would
 * otherwise say only that the workers did not start in time.
 */
static void
spawn_failed(struct generation *g, size_t si, const char *why)
{
	snprintf(g->spawn_error, sizeof(g->spawn_error), "server %s: %s",
		 g->conf->servers[si].name, why);
	g->spawn_error_server = si;
}

static int
worker_spawn(struct generation *g, size_t si)
{
	const struct server_conf *s = &g->conf->servers[si];
	struct slot *slot;
	pid_t pid, master_pid = getpid();
	/* Drawn here: children would all inherit the same random state. */
	long limit = pool_request_limit(s->max_requests, s->max_requests_jitter,
					(uint32_t)random());

	if (m.nworkers == m.capacity) {
		size_t cap = m.capacity ? m.capacity * 2 : 16;
		struct worker *p = realloc(m.workers, cap * sizeof(*p));

		if (p == NULL) {
			log_error("out of memory for the worker table");
			spawn_failed(g, si, "out of memory for the worker table");
			return -1;
		}
		m.workers = p;
		m.capacity = cap;
	}
	if ((slot = scoreboard_slot_claim(&m.sb)) == NULL) {
		if (!m.scoreboard_full_logged)
			log_error("scoreboard full (%d slots): not spawning",
				  SCOREBOARD_SLOTS);
		m.scoreboard_full_logged = true;
		spawn_failed(g, si, "the scoreboard is full");
		return -1;
	}
	slot->generation = g->id;
	slot->server = (int)si;
	slot->record = g->records[si];
	if ((pid = fork()) == -1) {
		char why[96];

		snprintf(why, sizeof(why), "fork(): %s", strerror(errno));
		log_error("server %s: %s", s->name, why);
		spawn_failed(g, si, why);
		scoreboard_slot_release(&m.sb, slot);
		return -1;
	}
	if (pid == 0)
		worker_child(g, si, slot, master_pid, limit);
	if (g->spawn_error_server == si)
		g->spawn_error[0] = '\0';
	slot->pid = pid;
	m.workers[m.nworkers++] = (struct worker){
		.pid = pid, .gen = g, .server = si, .slot = slot,
	};
	g->nworkers++;
	log_info("server %s: worker %d started (generation %u)", s->name,
		 (int)pid, g->id);
	return 0;
}

static void
worker_signal(struct worker *w, int signo)
{
	if (kill(w->pid, signo) == -1 && errno != ESRCH)
		log_errno(LOG_LEVEL_ERROR, "kill(%d, %d)", (int)w->pid, signo);
}

static void
worker_retire(struct worker *w, int64_t now)
{
	int limit_s = m.current->conf->shutdown_timeout;

	if (w->retiring || w->killed)
		return;
	w->retiring = true;
	/*
	 * An idle keep-alive client is let go well before the kill.  With
	 * shutdown-timeout = 0 nothing is killed: each connection still ends
	 * by the handler's timeouts and the watchdog.
	 */
	if (limit_s > 0) {
		w->kill_at_ms = now + (int64_t)limit_s * 1000;
		w->slot->idle_until_ms = now + (int64_t)limit_s * 500;
	} else {
		w->kill_at_ms = 0;
		w->slot->idle_until_ms = INT64_MAX;
	}
	worker_signal(w, SIGQUIT);
}

static void
generation_retire(struct generation *g, int64_t now)
{
	for (size_t i = 0; i < m.nworkers; i++)
		if (m.workers[i].gen == g)
			worker_retire(&m.workers[i], now);
}

static void
generation_terminate(struct generation *g, int64_t now)
{
	for (size_t i = 0; i < m.nworkers; i++) {
		struct worker *w = &m.workers[i];

		if (g != NULL && w->gen != g)
			continue;
		if (!w->killed)
			worker_signal(w, SIGTERM);
		w->killed = true;
		w->kill_at_ms = now + FAST_STOP_KILL_MS;
	}
}

static void
describe_status(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "exited on signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
}

/*
 * A max-memory below a fresh worker recycles every worker after each
 * connection: a fork per connection, which the recycling lines of each
 * worker do not say.  Said once per server and generation.
 */
static void
memory_below_fresh(const struct worker *w, struct pool_server *ps)
{
	const struct server_conf *s = &w->gen->conf->servers[w->server];
	char limit[32], fresh[32];

	if (ps->memory_warned ||
	    !pool_memory_below_fresh(s->max_memory, w->slot->fresh_rss,
				     w->slot->exit_reason,
				     w->slot->connections))
		return;
	ps->memory_warned = true;
	pool_size_format(s->max_memory, limit, sizeof(limit));
	pool_size_format(w->slot->fresh_rss, fresh, sizeof(fresh));
	log_warning("server %s: max-memory %s is below a fresh worker's "
		    "resident set (%s): every worker is recycled after each "
		    "connection; raise it", s->name, limit, fresh);
}

static void
worker_exited(struct worker *w, int st, int64_t now)
{
	const char *name = w->gen->conf->servers[w->server].name;
	struct pool_server *ps = &w->gen->pools[w->server];
	enum worker_exit how = pool_classify_status(st);
	bool expected = w->retiring || w->killed;
	char what[96];

	describe_status(st, what, sizeof(what));
	if (how == EXIT_FATAL) {
		/* The worker wrote it: bounded, NUL or not. */
		char why[sizeof(w->slot->request)];

		snprintf(why, sizeof(why), "%.*s",
			 (int)sizeof(w->slot->request) - 1, w->slot->request);
		if (why[0] == '\0')
			snprintf(why, sizeof(why), "no reason given");
		log_error("server %s: worker %d exited with status %d (fatal: "
			  "%s): %s workers of generation %u", name, (int)w->pid,
			  WORKER_EXIT_FATAL, why, ps->serving ? "respawning, "
			  "with the crash backoff," : "not respawning",
			  w->gen->id);
		if (w->gen->fatal_reason[0] == '\0')
			snprintf(w->gen->fatal_reason,
				 sizeof(w->gen->fatal_reason), "server %s: %s",
				 name, why);
	} else if (expected) {
		log_debug("server %s: worker %d %s", name, (int)w->pid, what);
	} else if (how == EXIT_NORMAL && w->slot->leaving) {
		log_info("server %s: worker %d recycled after %llu connections "
			 "(%s)", name, (int)w->pid,
			 (unsigned long long)w->slot->connections,
			 restart_reason_name(w->slot->exit_reason));
		memory_below_fresh(w, ps);
	} else if (how == EXIT_NORMAL) {
		log_notice("server %s: worker %d stopped by a signal from "
			   "outside the master, after %llu connections",
			   name, (int)w->pid,
			   (unsigned long long)w->slot->connections);
	} else {
		log_warning("server %s: worker %d %s", name, (int)w->pid, what);
	}
	if (!expected || how == EXIT_FATAL)
		pool_worker_exited(ps, how, now - w->slot->started_ms, now);
	/* A fatal exit while its generation starts is not retried. */
	scoreboard_count_restart(&m.sb, w->slot->record, pool_restart_reason(
		how, expected || (how == EXIT_FATAL && !ps->serving),
		w->timed_out, w->slot->leaving ? w->slot->exit_reason : -1));
	scoreboard_slot_gone(&m.sb, w->slot);
	scoreboard_slot_release(&m.sb, w->slot);
	w->gen->nworkers--;
	*w = m.workers[--m.nworkers];
}

/*
 * The new master of an upgrade is gone: whatever WINCH began for it, a
 * drain still waiting or workers retired, is undone, and the health-path
 * answers 200 again, as after the reload that ends a WINCH.
 */
static void
serve_alone(void)
{
	/* A reload after the WINCH, still starting, ends it if it serves. */
	if (m.pending == NULL)
		m.winched = false;
	/* Not once stopping: its health-path must go on saying 503. */
	if (m.mode == RUNNING)
		drain_cancel_retire(m.sb.master);
}

static void
reap_children(int64_t now)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct worker *w = worker_find(pid);

		if (w != NULL)
			worker_exited(w, st, now);
		else if (upgrade_reaped(pid, st, &m.pidfile))
			serve_alone();
	}
	if (pid == -1 && errno != ECHILD)
		log_errno(LOG_LEVEL_ERROR, "waitpid()");
}

/* ---- pool maintenance ---- */

/*
 * A worker's slot as the pool logic reads it.  The state first, acquired:
 * the worker writes it last, so the activity read after it is at least
 * as new (else a worker just busy would look busy since it went idle).
 */
static struct pool_worker
slot_view(const struct worker *w)
{
	/*
	 * The connection before the state: the worker counts a connection
	 * after leaving the last one's states, so the state read here is of
	 * this connection or a newer one, and a drop is never asked of a
	 * connection that was not seen idle.
	 */
	struct pool_worker pw = {
		.pid = w->pid,
		.connection = __atomic_load_n(&w->slot->connections,
					      __ATOMIC_ACQUIRE),
	};

	pw.state = __atomic_load_n(&w->slot->state, __ATOMIC_ACQUIRE);

	/* One on its last connection takes no other. */
	pw.retiring = w->retiring || w->slot->leaving;
	pw.leaving = w->slot->leaving && !w->retiring;
	pw.last_activity_ms = w->slot->last_activity_ms;
	pw.deadline_ms = w->slot->deadline_ms;
	pw.state_since_ms = w->slot->state_since_ms;
	pw.started_ms = w->slot->started_ms;
	pw.dropping = __atomic_load_n(&w->slot->drop_idle, __ATOMIC_RELAXED) ==
		      pw.connection;
	return pw;
}

static size_t
server_workers(struct generation *g, size_t si, struct pool_worker *out,
	       struct worker **map)
{
	size_t n = 0;

	for (size_t i = 0; i < m.nworkers; i++) {
		struct worker *w = &m.workers[i];

		/* A killed worker is as good as gone: replace it now. */
		if (w->gen != g || w->server != si || w->killed)
			continue;
		out[n] = slot_view(w);
		map[n++] = w;
	}
	return n;
}

/* The accept queue: what the pool grows on (a read failure: none). */
static int
server_queued(struct generation *g, size_t si)
{
	static bool unix_said;
	const struct listener *l = g->listeners[si];
	int q = listener_queued(l);

	if (q != -1)
		return q;
	/* A failure for good is said once, not at every look. */
	if (l->addr.family == AF_UNIX && unixdiag_given_up()) {
		if (!unix_said)
			log_errno(LOG_LEVEL_NOTICE, "server %s: the accept "
				  "queue of %s cannot be read (sock_diag), its "
				  "pool grows by the spare rule",
				  g->conf->servers[si].name, l->name);
		unix_said = true;
	} else {
		log_errno(LOG_LEVEL_DEBUG, "the accept queue of %s", l->name);
	}
	return 0;
}

static void
worker_kill_stuck(struct worker *w, int64_t now)
{
	log_warning("server %s: worker %d busy for %llds without progress: "
		    "killed", w->gen->conf->servers[w->server].name, (int)w->pid,
		    (long long)(now - w->slot->last_activity_ms) / 1000);
	worker_signal(w, SIGKILL);
	w->killed = true;
	w->timed_out = true;
}

static void
maintain_server(struct generation *g, size_t si, int64_t now)
{
	struct pool_worker *pw = calloc(m.nworkers + 1, sizeof(*pw));
	struct worker **map = calloc(m.nworkers + 1, sizeof(*map));
	pid_t *retire = calloc(m.nworkers + 1, sizeof(pid_t));
	pid_t *kill_ = calloc(m.nworkers + 1, sizeof(pid_t));
	pid_t *drop = calloc(m.nworkers + 1, sizeof(pid_t));
	struct pool_actions act = { .retire = retire, .kill = kill_,
				    .drop = drop };
	size_t n;

	if (pw == NULL || map == NULL || retire == NULL || kill_ == NULL ||
	    drop == NULL)
		goto out;
	n = server_workers(g, si, pw, map);
	g->pools[si].queued = server_queued(g, si);
	scoreboard_note_queue(&m.sb, g->records[si], g->pools[si].queued);
	pool_decide(&g->pools[si], pw, n, now, &act);
	if (act.backoff_over)
		log_notice("server %s: a worker started after the last crash "
			   "has lived %ds: crash back-off over",
			   g->conf->servers[si].name, POOL_HEALTHY_MS / 1000);
	/* Said once per episode, as Apache does for MaxRequestWorkers. */
	if (pool_capped_episode(&g->pools[si], act.capped, now)) {
		scoreboard_note_capped(&m.sb, g->records[si]);
		log_warning("server %s: reached max-workers (%d) short of idle "
			    "workers; consider raising %s",
			    g->conf->servers[si].name,
			    pool_capacity(&g->pools[si]),
			    g->pools[si].max_workers > g->pools[si].workers ?
			    "it" : "workers, or setting max-workers above it");
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < act.nkill; k++)
			if (act.kill[k] == pw[i].pid)
				worker_kill_stuck(map[i], now);
		for (size_t r = 0; r < act.nretire; r++)
			if (act.retire[r] == pw[i].pid)
				worker_retire(map[i], now);
		for (size_t d = 0; d < act.ndrop; d++)
			if (act.drop[d] == pw[i].pid) {
				/* Read by the worker once the signal wakes it. */
				__atomic_store_n(&map[i]->slot->drop_idle,
						 pw[i].connection,
						 __ATOMIC_RELEASE);
				worker_signal(map[i], SIGUSR2);
			}
	}
	for (int i = 0; i < act.spawn; i++)
		if (worker_spawn(g, si) == -1) {
			g->pools[si].respawn_at_ms = now + TICK_MS;
			break;
		}
out:
	free(pw);
	free(map);
	free(retire);
	free(kill_);
	free(drop);
}

/*
 * The overdue workers of one server killed in one pass, said in one
 * line: a reload under slow downloads kills hundreds at once.
 */
struct overdue {
	const char *server, *after;
	size_t n, shown;
	char pids[96];
};

static void
overdue_log(const struct overdue *o)
{
	if (o->n == 1)
		log_warning("server %s: worker %s still running after %s: "
			    "killed", o->server, o->pids, o->after);
	else if (o->n > 1)
		log_warning("server %s: %zu workers still running after %s: "
			    "killed (%s%s)", o->server, o->n, o->after, o->pids,
			    o->shown < o->n ? " ..." : "");
}

static void
overdue_add(struct overdue *o, pid_t pid)
{
	size_t len = strlen(o->pids);

	/* The first that do not fit end the list: "..." says more came. */
	if (o->shown == o->n &&
	    snprintf(o->pids + len, sizeof(o->pids) - len, "%s%d",
		     len > 0 ? " " : "", (int)pid) <
	    (int)(sizeof(o->pids) - len))
		o->shown++;
	else
		o->pids[len] = '\0';
	o->n++;
}

static const char *
worker_server_name(const struct worker *w)
{
	return w->gen->conf->servers[w->server].name;
}

/*
 * Workers of several servers lie in any order in m.workers: each server's
 * killed ones (after[i] set) are gathered into its line.
 */
static void
overdue_report(const char **after)
{
	for (size_t i = 0; i < m.nworkers; i++) {
		struct overdue o = { .server = worker_server_name(&m.workers[i]),
				     .after = after[i] };

		if (after[i] == NULL)
			continue;
		for (size_t j = i; j < m.nworkers; j++)
			if (after[j] != NULL && after[j] == o.after &&
			    strcmp(worker_server_name(&m.workers[j]),
				   o.server) == 0) {
				overdue_add(&o, m.workers[j].pid);
				after[j] = NULL;
			}
		overdue_log(&o);
	}
}

/* Workers on their way out: stuck ones and overdue ones are killed. */
static void
maintain_leaving(int64_t now)
{
	const char **after = calloc(m.nworkers + 1, sizeof(*after));

	for (size_t i = 0; i < m.nworkers; i++) {
		struct worker *w = &m.workers[i];
		struct pool_worker pw = slot_view(w);
		const char *why = w->killed ? "SIGTERM" : "shutdown-timeout";

		if (w->kill_at_ms == 0 || now < w->kill_at_ms) {
			if (w->retiring && !w->killed &&
			    pool_timed_out(&pw, now, w->gen->pools[w->server].timeout_s))
				worker_kill_stuck(w, now);
			continue;
		}
		if (after != NULL)
			after[i] = why;
		else	/* out of memory: one line each */
			log_warning("server %s: worker %d still running after "
				    "%s: killed", worker_server_name(w),
				    (int)w->pid, why);
		worker_signal(w, SIGKILL);
		w->killed = true;
		w->kill_at_ms = 0;
	}
	if (after != NULL)
		overdue_report(after);
	free(after);
}

static void
maintain(int64_t now)
{
	if (m.mode == RUNNING) {
		for (size_t i = 0; i < m.current->conf->nservers; i++) {
			if (!m.winched)
				maintain_server(m.current, i, now);
			else	/* no workers, but what waits shows */
				scoreboard_note_queue(&m.sb,
						      m.current->records[i],
						      server_queued(m.current, i));
		}
		for (size_t i = 0; m.pending && i < m.pending->conf->nservers; i++)
			maintain_server(m.pending, i, now);
	}
	maintain_leaving(now);
}

/* ---- readiness of a generation ---- */

static bool
generation_ready(struct generation *g)
{
	for (size_t si = 0; si < g->conf->nservers; si++) {
		int idle = 0;

		for (size_t i = 0; i < m.nworkers; i++) {
			struct worker *w = &m.workers[i];

			if (w->gen == g && w->server == si && !w->retiring &&
			    !w->killed && w->slot->state >= SLOT_IDLE)
				idle++;
		}
		if (idle < g->pools[si].workers)
			return false;
	}
	return true;
}

/* ---- the service manager ---- */

/* STATUS= for systemctl status: what serves, and how much it did. */
static void
status_line(char *buf, size_t len)
{
	unsigned long long requests = 0;
	size_t serving = 0;

	/* Right after a reload, old workers finishing are not its size. */
	for (size_t i = 0; i < m.nworkers; i++) {
		requests += m.workers[i].slot->requests;
		serving += m.workers[i].gen == m.current &&
			   !m.workers[i].retiring && !m.workers[i].killed;
	}
	snprintf(buf, len, "generation %u serving: %zu worker%s, %llu "
		 "requests by live workers", m.current->id, serving,
		 serving == 1 ? "" : "s", requests);
}

static void
notify_outcome(bool ok, const char *failure)
{
	char status[800];

	if (ok)
		status_line(status, sizeof(status));
	else
		snprintf(status, sizeof(status), "reload failed: %s", failure);
	notify_ready(status);
}

static void
notify_tick(int64_t now)
{
	static int64_t next_ms;
	char status[128];

	if (!m.ready || m.mode != RUNNING || now < next_ms)
		return;
	next_ms = now + STATUS_EVERY_MS;
	status_line(status, sizeof(status));
	notify_status(status);
}

/* ---- reload ---- */

/* A stop has begun, its drain-delay included: no reload any more. */
static bool
master_stopping(void)
{
	return m.mode != RUNNING || drain_stopping();
}

static void
reload_failed(struct requesters *r, const char *reason)
{
	char msg[768];

	/* Whatever serves now leaves with the master. */
	if (master_stopping())
		snprintf(msg, sizeof(msg), "%s", reason);
	else if (m.winched)
		snprintf(msg, sizeof(msg), "%s; no generation serves until the "
			 "next reload", reason);
	else
		snprintf(msg, sizeof(msg), "%s; generation %u keeps serving",
			 reason, m.current->id);
	log_error("reload failed: %s", msg);
	notify_outcome(false, msg);
	requesters_reply(r, false, msg);
}

/*
 * A reload after WINCH ends the WINCH however it goes, as nginx starts an
 * old master's workers again on HUP during an upgrade: one that fails
 * brings the serving generation's workers back.  So a roll-back whose
 * file the old binary refuses (an option only the new one knows) still
 * has the old master serve before the new one is stopped.
 */
static void
winch_end_failed(const struct generation *failed)
{
	/* A reload still starting is the one to end it, if it serves. */
	if (master_stopping() || m.pending != failed)
		return;
	/* A WINCH still draining: its workers are kept, 200 again. */
	if (drain_waiting())
		drain_cancel_retire(m.sb.master);
	if (!m.winched)
		return;
	m.winched = false;
	log_notice("SIGWINCH ended by the failed reload: generation %u "
		   "starts its workers again", m.current->id);
}

static void
pending_log_close(void)
{
	if (m.pending_log_fd != -1)
		close(m.pending_log_fd);
	m.pending_log_fd = -1;
}

/*
 * A reload's error log is opened before its workers start, so that one
 * that cannot be (a fifo nobody reads, a read-only file system) fails
 * the reload, as an access log does, instead of the master keeping the
 * old one after answering that the reload succeeded.  Kept open until
 * the generation serves: a log collector reading a fifo would see
 * end-of-file if it were closed in between.
 */
static int
pending_log_open(const struct conf *conf, int *fd, char *err, size_t errlen)
{
	const char *target = log_target(conf);

	*fd = -1;
	/* The one in use stays open; USR1, not a reload, reopens it. */
	if (strcmp(target, "syslog") == 0 || strcmp(target, "stderr") == 0 ||
	    log_uses(target))
		return 0;
	if ((*fd = log_file_open(target, false)) == -1) {
		snprintf(err, errlen, "cannot open error log %s: %s", target,
			 log_file_strerror(target, errno));
		return -1;
	}
	return 0;
}

/* USR1 while a reload starts: its error log may have been rotated too. */
static int
pending_log_reopen(void)
{
	const char *target;
	int fd;

	if (m.pending_log_fd == -1)
		return 0;
	target = log_target(m.pending->conf);
	if ((fd = log_file_open(target, false)) == -1) {
		log_error("reopening %s: %s", target,
			  log_file_strerror(target, errno));
		return 1;
	}
	/* dup3: close-on-exec kept, a binary upgrade must not inherit it. */
	if (dup3(fd, m.pending_log_fd, O_CLOEXEC) == -1) {
		log_errno(LOG_LEVEL_ERROR, "reopening %s", target);
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

static void
pending_abort(const char *reason, int64_t now)
{
	struct generation *g = m.pending;

	m.pending = NULL;
	pending_log_close();
	/* Its workers may already serve clients: let them finish. */
	generation_retire(g, now);
	reload_failed(&m.pending_req, reason);
	if (g->nworkers == 0)
		generation_free(&m.gens, g);
}

/* arg: NULL, or room for the first error (256 bytes) for the requester. */
static void
log_conf_error(void *arg, const char *message)
{
	char *first = arg;

	log_error("%s", message);
	if (first != NULL && first[0] == '\0')
		snprintf(first, 256, "%s", message);
}

/*
 * A newer reload read the same file: its outcome is the answer for the
 * older one's requesters too, who stay in pending_req.
 */
static void
pending_supersede(const struct generation *newer, int64_t now)
{
	struct generation *g = m.pending;

	m.pending = NULL;
	pending_log_close();
	log_notice("reload: generation %u superseded by generation %u", g->id,
		   newer->id);
	generation_retire(g, now);
	if (g->nworkers == 0)
		generation_free(&m.gens, g);
}

/* hup: SIGHUP came; else only the control socket had something. */
static void
master_reload(int64_t now, bool hup)
{
	struct requesters req = { .pid = NULL };
	struct conf *conf;
	struct generation *g;
	char err[512], first[256] = "";
	int log_fd;

	requesters_collect(&req, hup_senders, &nhup_senders, m.control_fd,
			   &m.control_refused_logged);
	if (!hup && req.n == 0)
		goto out;		/* only requests that were refused */
	/*
	 * A stop's drain included: the master leaves once it ends, so a
	 * reload there could only be reported serving, then be gone.
	 */
	if (master_stopping()) {
		log_warning("reload refused: the master is shutting down");
		requesters_reply(&req, false, "the master is shutting down");
		goto out;
	}
	log_notice("reloading configuration %s", m.conf_path);
	notify_reloading();
	if ((conf = conf_load(m.conf_path, log_conf_error, first)) == NULL) {
		snprintf(err, sizeof(err), "configuration %s has errors%s%s%s",
			 m.conf_path, first[0] ? " (" : "", first,
			 first[0] ? ")" : "");
		winch_end_failed(NULL);
		reload_failed(&req, err);
		goto out;
	}
	if (pending_log_open(conf, &log_fd, err, sizeof(err)) == -1) {
		conf_free(conf);
		winch_end_failed(NULL);
		reload_failed(&req, err);
		goto out;
	}
	/* One whose last worker was reaped in this pass frees its records. */
	generations_collect(&m.gens, m.current, m.pending);
	/* A reload still starting keeps going if this one cannot. */
	if ((g = generation_create(conf, &m.gens, &m.last_gen_id, &m.sb, err,
				   sizeof(err))) == NULL) {
		if (log_fd != -1)
			close(log_fd);
		conf_free(conf);
		winch_end_failed(NULL);
		reload_failed(&req, err);
		goto out;
	}
	if (m.pending != NULL)
		pending_supersede(g, now);
	m.pending_log_fd = log_fd;
	if (strcmp(conf->pidfile, m.pidfile_conf) != 0)
		log_warning("a new pidfile takes a restart: keeping %s",
			    m.pidfile);
	m.pending = g;
	m.pending_deadline_ms = now + START_TIMEOUT_MS;
	requesters_add(&m.pending_req, &req);
	/*
	 * After WINCH, the retired generation stays without workers while
	 * this one starts (winched is cleared once it serves): were its
	 * workers started again, the pool would be forked twice, to be
	 * retired at once.
	 */
	drain_cancel_retire(m.sb.master);
out:
	requesters_free(&req);
}

static int
log_settings_apply(const struct conf *conf)
{
	const char *target = log_target(conf);
	int fd = m.pending_log_fd;

	m.pending_log_fd = -1;
	if ((fd != -1 ? log_open_fd(target, conf->log_level, fd) :
	     log_switch(target, conf->log_level)) == -1) {
		int saved = errno;

		if (fd != -1)
			close(fd);
		log_error("cannot open error log %s: %s%s", target,
			  log_file_strerror(target, saved),
			  m.ready ? "; keeping the previous one" : "");
		return -1;
	}
	if (geteuid() == 0 && conf->user != NULL)
		log_chown(conf->uid);
	/* A daemon's stderr is /dev/null from the moment it is ready. */
	if (!m.foreground && strcmp(target, "stderr") == 0)
		log_warning("error-log = \"stderr\" without -n: what is logged "
			    "after start-up is lost; use a file or syslog");
	return 0;
}

/* Why a start or a reload whose workers were not all up in time failed. */
static const char *
not_started(struct generation *g, const char *whose)
{
	static char reason[sizeof(g->spawn_error) + 64];

	snprintf(reason, sizeof(reason), "%s did not start in time%s%s%s",
		 whose, g->spawn_error[0] ? " (" : "", g->spawn_error,
		 g->spawn_error[0] ? ")" : "");
	return reason;
}

static void
pending_check(int64_t now)
{
	struct generation *old = m.current;

	if (m.pending == NULL)
		return;
	if (generation_failed(m.pending)) {
		char reason[sizeof(m.pending->fatal_reason) + 64];

		snprintf(reason, sizeof(reason), "new workers exited fatally "
			 "(%s)", m.pending->fatal_reason);
		winch_end_failed(m.pending);
		pending_abort(reason, now);
		return;
	}
	if (!generation_ready(m.pending)) {
		if (now > m.pending_deadline_ms) {
			winch_end_failed(m.pending);
			pending_abort(not_started(m.pending, "new workers"),
				      now);
		}
		return;
	}
	m.current = m.pending;
	m.pending = NULL;
	m.winched = false;
	generation_serving(m.current, old, &m.sb);
	m.sb.master->reloads++;
	log_settings_apply(m.current->conf);
	generation_retire(old, now);
	log_notice("reload: generation %u serving", m.current->id);
	notify_outcome(true, NULL);
	requesters_add(&m.confirm_req, &m.pending_req);
	m.confirm_deadline_ms = now + START_TIMEOUT_MS;
	m.dropped_pending = true;
}

static bool
old_workers_accepting(void)
{
	for (size_t i = 0; i < m.nworkers; i++)
		if (m.workers[i].gen != m.current &&
		    m.workers[i].slot->accepting && !m.workers[i].killed)
			return true;
	return false;
}

/*
 * A listener the serving configuration dropped is closed as soon as no
 * old worker accepts on it, not when its last old worker has finished:
 * meanwhile the kernel would queue connections that nobody accepts.
 */
static void
dropped_check(int64_t now)
{
	if (!m.dropped_pending)
		return;
	if (old_workers_accepting() && now < m.confirm_deadline_ms)
		return;
	m.dropped_pending = false;
	for (struct generation *g = m.gens; g != NULL; g = g->next) {
		if (g == m.current || g == m.pending)
			continue;
		for (size_t i = 0; i < g->conf->nservers; i++)
			if (!generation_uses(m.current, g->listeners[i]) &&
			    !generation_uses(m.pending, g->listeners[i]))
				listener_retire(g->listeners[i]);
	}
}

/* A reload is done for -s reload once no old worker can accept. */
static void
confirm_check(int64_t now)
{
	char msg[128];

	if (m.confirm_req.n == 0)
		return;
	if (old_workers_accepting() && now < m.confirm_deadline_ms)
		return;
	/* Past the deadline an old worker is stuck, not accepting either. */
	snprintf(msg, sizeof(msg), "reload: generation %u serving",
		 m.current->id);
	requesters_reply(&m.confirm_req, true, msg);
}

/* ---- the other signals ---- */

/*
 * Workers forked later inherit the master's log files: keep them fresh.
 * Returns how many could not be reopened.
 */
static int
handlers_reopen(struct generation *g)
{
	const struct conf *conf = g->conf;
	bool give = geteuid() == 0 && conf->user != NULL;
	int failed = 0;

	for (size_t i = 0; i < conf->nservers; i++) {
		const struct server_conf *s = &conf->servers[i];

		if (s->handler->reopen != NULL &&
		    s->handler->reopen(s->hconf,
				       give ? conf->uid : (uid_t)-1) == -1)
			failed++;
	}
	return failed;
}

static void
master_reopen(void)
{
	int failed = 0;

	if (log_reopen() == -1) {
		log_error("reopening the error log: %s",
			  log_file_strerror(log_file_in_use(), errno));
		failed++;
	} else if (geteuid() == 0 && m.current->conf->user != NULL) {
		log_chown(m.current->conf->uid);
	}
	failed += handlers_reopen(m.current);
	if (m.pending != NULL)
		failed += handlers_reopen(m.pending) + pending_log_reopen();
	for (size_t i = 0; i < m.nworkers; i++)
		if (!m.workers[i].killed)
			worker_signal(&m.workers[i], SIGUSR1);
	if (failed > 0)
		log_warning("reopening log files: %d could not be reopened and "
			    "stay on their old file (see above)", failed);
	else
		log_notice("reopened log files");
}

static void
master_resize(int delta)
{
	struct generation *g = m.current;

	if (!pool_resize_fits(g->pools, g->conf->nservers, delta,
			      CONF_MAX_WORKERS_TOTAL)) {
		log_warning("SIGTTIN refused: the servers together may have at "
			    "most %d workers", CONF_MAX_WORKERS_TOTAL);
		return;
	}
	for (size_t i = 0; i < g->conf->nservers; i++) {
		struct pool_server *ps = &g->pools[i];
		struct pool_server was = *ps;
		const char *same;

		pool_resize(ps, delta);
		same = ps->workers == was.workers &&
		       ps->min_spare == was.min_spare &&
		       ps->max_spare == was.max_spare ? " (at its limit)" : "";
		if (ps->max_workers > ps->workers)
			log_notice("server %s: idle workers %d..%d%s",
				   g->conf->servers[i].name, ps->min_spare,
				   ps->max_spare, same);
		else
			log_notice("server %s: pool size %d%s",
				   g->conf->servers[i].name, ps->workers, same);
		/* The status page shows the size the pool now keeps. */
		if (ps->serving)
			generation_show(g, &m.sb, i);
	}
}

static void
master_winch_retire(int64_t now)
{
	if (m.mode != RUNNING)
		return;
	log_notice("SIGWINCH: retiring all workers until the next reload");
	m.winched = true;
	generation_retire(m.current, now);
	/*
	 * A reload still starting would serve once ready, and with winched
	 * set its workers would never be replaced: it was asked for before
	 * the WINCH, which wins.
	 */
	if (m.pending != NULL)
		pending_abort("SIGWINCH retired every worker", now);
}

static void
master_winch(int64_t now)
{
	/* A terminal resize sends WINCH to the foreground: nginx ignores it too. */
	if (m.foreground) {
		log_info("SIGWINCH ignored in the foreground");
		return;
	}
	/*
	 * An upgrade's new master accepts on the same sockets: the instance
	 * is not leaving, so no drain; a health-path answering 503 here and
	 * 200 there would only make a balancer's checks flap.
	 */
	if (upgrade_successor_serves()) {
		master_winch_retire(now);
		return;
	}
	drain_begin(m.sb.master, DRAIN_RETIRE, m.current->conf->drain_delay,
		    now);
}

static void
master_shutdown(enum master_mode mode, int64_t now)
{
	if (m.mode == STOPPING_FAST || m.mode == mode)
		return;
	log_notice("%s shutdown", mode == STOPPING_FAST ? "fast" : "graceful");
	/* First: a reload abandoned now must not say that anything serves on. */
	m.mode = mode;
	/* Its READY=1 comes before STOPPING=1. */
	if (m.pending != NULL)
		pending_abort("the master is shutting down", now);
	requesters_reply(&m.confirm_req, false, "the master is shutting down");
	upgrade_shutdown(now);
	/* The port refuses new connections from now on. */
	listener_close_all();
	if (mode == STOPPING_FAST) {
		generation_terminate(NULL, now);
		return;
	}
	for (size_t i = 0; i < m.nworkers; i++)
		worker_retire(&m.workers[i], now);
}

/*
 * A WINCH that came while the new master was still starting began a
 * drain (it might have failed); now that it serves, the instance is not
 * leaving: the workers retire at once and the health-path says 200
 * again, as for a WINCH sent after, not 503 here beside 200 there.
 */
static void
winch_successor_check(int64_t now)
{
	if (m.mode != RUNNING || !drain_waiting() || drain_stopping() ||
	    !upgrade_successor_serves())
		return;
	drain_cancel_retire(m.sb.master);
	log_notice("upgrade: the new master serves: drain called off");
	master_winch_retire(now);
}

/* QUIT: drain first, when drain-delay asks for it, then stop gracefully. */
static void
master_quit(int64_t now)
{
	bool first;
	int delay;

	upgrade_check();
	/* As for WINCH, nothing to drain while a new master serves. */
	if (m.mode != RUNNING || upgrade_successor_serves()) {
		master_shutdown(STOPPING_GRACEFUL, now);
		return;
	}
	/*
	 * One not ready goes now, not once the drain ends: by then it could
	 * be ready and be handed the service of a stopped server.
	 */
	upgrade_stop_successor(now);
	/* After WINCH the workers are gone: nothing is left to drain. */
	delay = m.winched ? 0 : m.current->conf->drain_delay;
	first = !drain_stopping();
	drain_begin(m.sb.master, DRAIN_STOP, delay, now);
	/*
	 * Nor a reload still starting: it would serve only until the stop.
	 * Its READY=1 comes before STOPPING=1.
	 */
	if (m.pending != NULL)
		pending_abort("the master is shutting down", now);
	/*
	 * Said once, as the drain begins (a second QUIT cuts it short); not
	 * while an upgrade starts, which may yet take MAINPID= over.
	 */
	if (delay > 0 && first && !upgrade_pending())
		notify_draining(delay);
}

/* ---- start-up and the loop ---- */

static void
startup_check(int64_t now)
{
	if (m.ready)
		return;
	if (generation_ready(m.current)) {
		m.ready = true;
		generation_serving(m.current, NULL, &m.sb);
		log_notice("ready: generation %u, %zu worker%s", m.current->id,
			   m.current->nworkers,
			   m.current->nworkers == 1 ? "" : "s");
		log_set_stderr_copy(false);
		/* Before the invoker exits: systemd must know MAINPID by then. */
		notify_outcome(true, NULL);
		daemon_report(m.ready_fd, true, NULL);
		m.ready_fd = -1;
		return;
	}
	if (generation_failed(m.current) || now > m.start_deadline_ms) {
		if (generation_failed(m.current))
			log_error("start-up failed: workers exited fatally (%s)",
				  m.current->fatal_reason);
		else
			log_error("start-up failed: %s",
				  not_started(m.current, "workers"));
		/* Stopping the workers may log more: this is the reason. */
		snprintf(m.start_error, sizeof(m.start_error), "%s",
			 log_last_error());
		master_shutdown(STOPPING_FAST, now);
	}
}

/*
 * Why the pools may be empty, for the status page and -s status; see
 * enum master_state.  The new master of an upgrade upgrades too until it
 * is ready.
 */
static enum master_state
master_state(void)
{
	if (m.mode != RUNNING)
		return MASTER_STOPPING;
	if (m.sb.master->draining)
		return MASTER_DRAINING;
	if (upgrade_pending() || upgrade_successor_serves() ||
	    (upgrade_adopted() && !m.ready))
		return MASTER_UPGRADING;
	return MASTER_SERVING;
}

/*
 * While a worker serves, connections may queue: look every pass.  The
 * flag is cleared before the look, and a worker marks itself busy then
 * fences before reading it (all sequentially consistent): either the look
 * sees that worker busy, or the worker sees the flag clear and wakes the
 * master.
 */
static bool
workers_busy(void)
{
	uint32_t *watching = (uint32_t *)&m.sb.master->watching;

	__atomic_store_n(watching, 0, __ATOMIC_SEQ_CST);
	for (size_t i = 0; i < m.nworkers; i++)
		if (__atomic_load_n(&m.workers[i].slot->state,
				    __ATOMIC_SEQ_CST) > SLOT_IDLE) {
			__atomic_store_n(watching, 1, __ATOMIC_SEQ_CST);
			return true;
		}
	return false;
}

static int
sleep_ms(int64_t now)
{
	bool busy = !m.ready || m.pending != NULL || m.confirm_req.n > 0 ||
		    m.dropped_pending || upgrade_busy() || m.mode != RUNNING ||
		    drain_waiting() ||
		    workers_busy();
	int64_t wake = now + (busy ? TICK_BUSY_MS : TICK_MS);

	for (struct generation *g = m.gens; g != NULL; g = g->next)
		for (size_t i = 0; i < g->conf->nservers; i++)
			if (g->pools[i].respawn_at_ms > now &&
			    g->pools[i].respawn_at_ms < wake)
				wake = g->pools[i].respawn_at_ms;
	return (int)(wake - now);
}

/*
 * Workers wake the master through an eventfd, not a signal: once they
 * run as another user, kill() of the root master fails with EPERM.  The
 * count itself means nothing; only that the loop looks now.
 */
static void
wake_drain(void)
{
	uint64_t count;

	if (read(m.wake_fd, &count, sizeof(count)) == -1 &&
	    errno != EAGAIN && errno != EINTR)
		log_errno(LOG_LEVEL_ERROR, "read() of the worker wake-up eventfd");
}

static void
master_loop(void)
{
	m.sb.master->state = master_state();
	for (;;) {
		int64_t now = monotonic_ms();
		int ms = sleep_ms(now);
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

		struct pollfd pfd[2] = {
			{ .fd = m.control_fd, .events = POLLIN },
			{ .fd = m.wake_fd, .events = POLLIN },
		};
		bool requested, successor;

		/* A negative fd is ignored by ppoll(). */
		if (ppoll(pfd, 2, &ts, &m.sleep_mask) == -1) {
			if (errno != EINTR)
				log_errno(LOG_LEVEL_ERROR, "ppoll()");
			pfd[0].revents = pfd[1].revents = 0;
		}
		requested = (pfd[0].revents & POLLIN) != 0;
		if (pfd[1].revents & POLLIN)
			wake_drain();
		now = monotonic_ms();

		/* A stop first: workers it ended are then reaped as such. */
		if (sig_terminate) {
			sig_terminate = 0;
			master_shutdown(STOPPING_FAST, now);
		}
		if (sig_quit) {
			sig_quit = 0;
			master_quit(now);
		}
		if (sig_child) {
			sig_child = 0;
			reap_children(now);
		}
		if (sig_reload || requested) {
			bool hup = sig_reload;

			sig_reload = 0;
			master_reload(now, hup);
		}
		if (sig_reopen) {
			sig_reopen = 0;
			master_reopen();
		}
		if (sig_upgrade) {
			sig_upgrade = 0;
			/* Not once a stop has begun, its drain included. */
			upgrade_start(&m.pidfile, usr2_sender,
				      !master_stopping());
		}
		if (sig_winch) {
			sig_winch = 0;
			master_winch(now);
		}
		switch (drain_due(now)) {
		case DRAIN_STOP:
			master_shutdown(STOPPING_GRACEFUL, now);
			break;
		case DRAIN_RETIRE:
			master_winch_retire(now);
			break;
		case DRAIN_NONE:
			break;
		}
		for (; sig_ttin > 0; sig_ttin--)
			master_resize(+1);
		for (; sig_ttou > 0; sig_ttou--)
			master_resize(-1);

		/* Nor before a new master that was not ready is reaped. */
		successor = upgrade_stopping(now);
		if (m.mode != RUNNING && m.nworkers == 0 && !successor)
			return;
		maintain(now);
		upgrade_check();
		upgrade_timeout(now);
		winch_successor_check(now);
		pending_check(now);
		dropped_check(now);
		confirm_check(now);
		if (m.mode == RUNNING)
			startup_check(now);
		generations_collect(&m.gens, m.current, m.pending);
		m.sb.master->state = master_state();
		notify_tick(now);
	}
}

static void
master_cleanup(void)
{
	pending_log_close();
	while (m.gens != NULL)
		generation_free(&m.gens, m.gens);
	m.current = m.pending = NULL;
	listener_close_all();
	pidfile_remove(m.pidfile, m.pidfile_fd);
	m.pidfile_fd = -1;
	scoreboard_destroy(&m.sb);
	if (m.conf_fd != -1)
		close(m.conf_fd);
	m.conf_fd = -1;
	control_close(m.control_fd);
	m.control_fd = -1;
	if (m.wake_fd != -1)
		close(m.wake_fd);
	m.wake_fd = -1;
	requesters_free(&m.pending_req);
	requesters_free(&m.confirm_req);
	free(m.workers);
	free(m.pidfile);
	free(m.pidfile_conf);
	free(m.conf_path);
}

static int
master_start(struct conf *conf)
{
	char err[512];

	if (signals_install(on_signal, &m.sleep_mask) == -1) {
		log_errno(LOG_LEVEL_ERROR, "installing signal handlers");
		return -1;
	}
	/* Before the pidfile: -s signals only a holder that has one. */
	if (scoreboard_create(&m.sb, SCOREBOARD_SLOTS) == -1) {
		log_errno(LOG_LEVEL_ERROR, "mmap() of the scoreboard");
		return -1;
	}
	if ((m.pidfile_fd = pidfile_create(m.pidfile, err, sizeof(err))) == -1) {
		log_error("%s", err);
		return -1;
	}
	srandom((unsigned)getpid() ^ (unsigned)monotonic_ms());
	scoreboard_set_conf_path(&m.sb, m.conf_path);
	/*
	 * Sealed before the first fork.  Without it -s reload and -s upgrade
	 * check the default file, as for a master of an older version: worth
	 * a warning, not a refusal to serve.
	 */
	if ((m.conf_fd = confseal_publish(m.conf_path)) == -1)
		log_errno(LOG_LEVEL_WARNING, "sealed memfd %s for -s reload "
			  "without -f", CONFSEAL_MEMFD_NAME);
	if (listener_inherited_check(conf->servers, conf->nservers, err,
				     sizeof(err)) == -1 ||
	    (m.current = generation_create(conf, &m.gens, &m.last_gen_id,
					   &m.sb, err, sizeof(err))) == NULL ||
	    listener_inherited_settle(err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if ((m.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		log_errno(LOG_LEVEL_WARNING, "eventfd(): pools grow only at the "
			  "master's next pass");
	/* Without it, -s reload falls back to SIGHUP: a warning, no more. */
	if ((m.control_fd = control_open(getpid())) == -1)
		log_errno(LOG_LEVEL_WARNING, "control socket for -s reload");
	m.start_deadline_ms = monotonic_ms() + START_TIMEOUT_MS;
	log_notice("master %d started (config %s, pidfile %s)", (int)getpid(),
		   m.conf_path, m.pidfile);
	return 0;
}

/*
 * The invoker, or the old master of an upgrade, learns of the failure
 * once this master has cleaned up (an init script may start it again at
 * once, and must find the pidfile free), with why: the old master passes
 * it on to -s upgrade.
 */
static int
start_failed(const char *why)
{
	char reason[DAEMON_REPORT_MAX];
	int fd = m.ready_fd;

	/* Copied first: cleaning up may log another error over it. */
	snprintf(reason, sizeof(reason), "%.*s", (int)sizeof(reason) - 1, why);
	m.ready_fd = -1;
	master_cleanup();
	daemon_report(fd, false, reason);
	return 1;
}

/*
 * The old master of an upgrade runs us from the directory it was started
 * in, only so that a relative argv[0] and -f mean what they meant then
 * (main() has made the paths it keeps absolute).  A daemon then moves to
 * "/", where daemon_detach() puts a first one, and pins no directory (a
 * mount, one removed later); with -n it stays where it was started, as
 * at a first start.
 */
static int
upgraded_chdir(void)
{
	if (m.foreground || !upgrade_adopted())
		return 0;
	return chdir("/");
}

/*
 * Started by an upgrade without -p: the pidfile is the old master's, as
 * a reload keeps it, even if the configuration now names another.  Else
 * the new master would write one that the -s, init script or unit
 * invoked with the old one never find, once the old master is gone.
 */
static int
handed_pidfile(const struct master_options *o)
{
	const char *old = upgrade_handed_pidfile();
	char *p, *c;

	if (o->pidfile_override != NULL || old == NULL)
		return 0;
	if ((p = strdup(old)) == NULL || (c = strdup(old)) == NULL) {
		free(p);
		return -1;
	}
	free(m.pidfile);
	free(m.pidfile_conf);
	m.pidfile = p;
	m.pidfile_conf = c;
	return 0;
}

int
master_run(struct conf *conf, const struct master_options *o)
{
	char err[512];
	int nactivated;
	bool ready;

	m.foreground = o->foreground;
	m.conf_path = strdup(conf->path);
	m.pidfile = strdup(o->pidfile_override ? o->pidfile_override :
			   conf->pidfile);
	m.pidfile_conf = strdup(conf->pidfile);
	if (m.conf_path == NULL || m.pidfile == NULL ||
	    m.pidfile_conf == NULL) {
		fprintf(stderr, "preforkd: out of memory\n");
		return 1;
	}
	/* An old master's sockets, or systemd's before a fork changes our pid. */
	if ((m.ready_fd = upgrade_adopt(err, sizeof(err))) == -2 ||
	    (nactivated = activation_adopt(err, sizeof(err))) == -1) {
		fprintf(stderr, "preforkd: %s\n", err);
		/* A malformed hand-over has no pipe to report on. */
		if (m.ready_fd == -2)
			m.ready_fd = -1;
		conf_free(conf);
		return start_failed(err);
	}
	if (m.ready_fd >= 0 && handed_pidfile(o) == -1) {
		fprintf(stderr, "preforkd: out of memory\n");
		conf_free(conf);
		return start_failed("out of memory");
	}
	/* Upgraded: the old master, our parent, waits for the outcome. */
	if (m.ready_fd == -1 && !m.foreground &&
	    (m.ready_fd = daemon_detach(ACTIVATION_FIRST_FD + nactivated)) == -1) {
		perror("preforkd: detaching");
		return 1;
	}
	if (upgraded_chdir() == -1) {
		snprintf(err, sizeof(err), "chdir(/): %s", strerror(errno));
		fprintf(stderr, "preforkd: %s\n", err);
		conf_free(conf);
		return start_failed(err);
	}
	log_last_error_clear();
	if (log_settings_apply(conf) == -1) {
		conf_free(conf);
		return start_failed(log_last_error());
	}
	if (strcmp(conf->pidfile, m.pidfile_conf) != 0)
		log_warning("a new pidfile takes a restart: keeping %s",
			    m.pidfile);
	if (!log_to_stderr())
		log_set_stderr_copy(true);
	notify_init();
	if (master_start(conf) == -1) {
		if (m.current == NULL)
			conf_free(conf);
		return start_failed(log_last_error());
	}
	master_loop();
	ready = m.ready;
	log_notice("exiting");
	master_cleanup();
	daemon_report(m.ready_fd, false, m.start_error);
	log_close();
	return ready ? 0 : 1;
}

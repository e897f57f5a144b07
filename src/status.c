/* SPDX-License-Identifier: BSD-2-Clause */
/* Status renderers: pure functions of a snapshot, no system calls. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

static void buf_printf(struct status_buf *, const char *, ...)
	__attribute__((format(printf, 2, 3)));

static bool
buf_reserve(struct status_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->failed)
		return false;
	while (cap - b->len < more + 1)
		cap *= 2;
	if (cap == b->cap)
		return true;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	b->p[b->len] = '\0';
	return true;
}

static void
buf_printf(struct status_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void
buf_putc(struct status_buf *b, char c)
{
	if (buf_reserve(b, 1)) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
	}
}

void
status_buf_free(struct status_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int
status_format_parse(const char *name, size_t len)
{
	static const struct { const char *name; int format; } names[] = {
		{ "text", STATUS_TEXT }, { "json", STATUS_JSON },
		{ "prometheus", STATUS_PROMETHEUS },
	};

	if (name == NULL || len == 0)
		return STATUS_TEXT;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len &&
		    memcmp(names[i].name, name, len) == 0)
			return names[i].format;
	return -1;
}

const char *
status_content_type(enum status_format format)
{
	switch (format) {
	case STATUS_JSON:
		return "application/json";
	case STATUS_PROMETHEUS:
		return "text/plain; version=0.0.4; charset=utf-8";
	case STATUS_TEXT:
		break;
	}
	return "text/plain; charset=utf-8";
}

/*
 * Moves *i to the next listed server, true while there is one: a server
 * is listed once a generation has served it (generation 0: never).
 */
static bool
next_listed(const struct status_snapshot *s, size_t *i)
{
	while (*i < s->nservers && s->servers[*i].generation == 0)
		(*i)++;
	return *i < s->nservers;
}

/* Listed, but the serving generation has it no more (a reload took it). */
static bool
server_removed(const struct status_snapshot *s, const struct status_server *v)
{
	return v->generation != s->generation;
}

static const char *
server_name(const struct status_snapshot *s, int i)
{
	return i >= 0 && (size_t)i < s->nservers ? s->servers[i].name : "?";
}

/* ---- text ---- */

/* Client and request line as they came: only printable ASCII shown. */
static void
text_field(struct status_buf *b, const char *s)
{
	if (*s == '\0') {
		buf_putc(b, '-');
		return;
	}
	for (; *s != '\0'; s++)
		buf_putc(b, *s >= 0x20 && *s < 0x7f ? *s : '?');
}

static void
render_text(const struct status_snapshot *s, struct status_buf *b)
{
	buf_printf(b, "preforkd: master %d, up %" PRId64 " s, generation %u, "
		   "reloads %" PRIu64 "\n", (int)s->master_pid, s->uptime_s,
		   s->generation, s->reloads);
	buf_printf(b, "state: %s\n", master_state_name(s->state));
	for (size_t i = 0; next_listed(s, &i); i++) {
		const struct status_server *v = &s->servers[i];
		char cap[32] = "removed";

		if (!server_removed(s, v))
			snprintf(cap, sizeof(cap), "max-workers %d",
				 v->max_workers);
		buf_printf(b, "\nserver %s: listen %s, generation %u, %s\n",
			   v->name, v->listen, v->generation, cap);
		if (v->max_spare > 0)
			buf_printf(b, "  dynamic pool: %d to %d idle workers\n",
				   v->min_spare, v->max_spare);
		buf_printf(b, "  queue %d now, %d peak; reached max-workers %"
			   PRIu64 " times\n", v->queue, v->queue_peak,
			   v->max_workers_reached);
		if (v->proxy_refused > 0)
			buf_printf(b, "  PROXY header refused %" PRIu64
				   " connections\n", v->proxy_refused);
		buf_printf(b, "  workers:");
		for (int st = SLOT_STARTING; st < SLOT_NSTATES; st++)
			buf_printf(b, " %s %d%s", slot_state_name(st),
				   v->workers[st], st + 1 < SLOT_NSTATES ? "," : "\n");
		buf_printf(b, "  totals: connections %" PRIu64 ", requests %"
			   PRIu64 ", bytes %" PRIu64 "\n", v->connections,
			   v->requests, v->bytes_sent);
		buf_printf(b, "  restarts:");
		for (int r = 0; r < RESTART_NREASONS; r++)
			buf_printf(b, " %s %" PRIu64 "%s", restart_reason_name(r),
				   v->restarts[r], r + 1 < RESTART_NREASONS ? "," : "\n");
	}
	buf_printf(b, "\n%4s %7s %4s %-12s %-10s %6s %8s %8s %12s %s %s\n",
		   "slot", "pid", "gen", "server", "state", "secs", "conns",
		   "reqs", "bytes", "client", "request");
	for (size_t i = 0; i < s->nworkers; i++) {
		const struct status_worker *w = &s->workers[i];

		buf_printf(b, "%4d %7d %4u %-12s %-10s %6" PRId64 " %8" PRIu64
			   " %8" PRIu64 " %12" PRIu64 " ", w->slot, (int)w->pid,
			   w->generation, server_name(s, w->server),
			   slot_state_name(w->state), w->seconds, w->connections,
			   w->requests, w->bytes_sent);
		text_field(b, w->client);
		buf_putc(b, ' ');
		text_field(b, w->request);
		buf_putc(b, '\n');
	}
}

/* ---- JSON ---- */

/* Bytes above 0x7f are shown as U+0080..U+00FF: always valid JSON. */
static void
json_string(struct status_buf *b, const char *s)
{
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)*p);
		} else if (*p < 0x20 || *p >= 0x7f) {
			buf_printf(b, "\\u%04x", *p);
		} else {
			buf_putc(b, (char)*p);
		}
	}
	buf_putc(b, '"');
}

static void
json_server(const struct status_server *v, bool removed, struct status_buf *b)
{
	buf_printf(b, "{\"name\":");
	json_string(b, v->name);
	buf_printf(b, ",\"listen\":");
	json_string(b, v->listen);
	buf_printf(b, ",\"generation\":%u,\"removed\":%s,\"queue\":%d,"
		   "\"queue_peak\":%d,"
		   "\"max_workers\":%d,\"min_spare\":%d,\"max_spare\":%d,"
		   "\"max_workers_reached\":%" PRIu64
		   ",\"proxy_refused\":%" PRIu64 ",\"workers\":{",
		   v->generation, removed ? "true" : "false", v->queue,
		   v->queue_peak, v->max_workers,
		   v->min_spare, v->max_spare, v->max_workers_reached,
		   v->proxy_refused);
	for (int st = SLOT_STARTING; st < SLOT_NSTATES; st++)
		buf_printf(b, "%s\"%s\":%d", st > SLOT_STARTING ? "," : "",
			   slot_state_name(st), v->workers[st]);
	buf_printf(b, "},\"connections\":%" PRIu64 ",\"requests\":%" PRIu64
		   ",\"sent_bytes\":%" PRIu64 ",\"restarts\":{", v->connections,
		   v->requests, v->bytes_sent);
	for (int r = 0; r < RESTART_NREASONS; r++)
		buf_printf(b, "%s\"%s\":%" PRIu64, r ? "," : "",
			   restart_reason_name(r), v->restarts[r]);
	buf_printf(b, "}}");
}

static void
json_worker(const struct status_snapshot *s, const struct status_worker *w,
	    struct status_buf *b)
{
	buf_printf(b, "{\"slot\":%d,\"pid\":%d,\"generation\":%u,\"server\":",
		   w->slot, (int)w->pid, w->generation);
	json_string(b, server_name(s, w->server));
	buf_printf(b, ",\"state\":\"%s\",\"seconds\":%" PRId64 ",\"connections"
		   "\":%" PRIu64 ",\"requests\":%" PRIu64 ",\"sent_bytes\":%"
		   PRIu64 ",\"client\":", slot_state_name(w->state), w->seconds,
		   w->connections, w->requests, w->bytes_sent);
	json_string(b, w->client);
	buf_printf(b, ",\"request\":");
	json_string(b, w->request);
	buf_putc(b, '}');
}

static void
render_json(const struct status_snapshot *s, struct status_buf *b)
{
	buf_printf(b, "{\"master\":{\"pid\":%d,\"uptime\":%" PRId64
		   ",\"generation\":%u,\"reloads\":%" PRIu64 ",\"state\":\"%s\"},"
		   "\"servers\":[", (int)s->master_pid, s->uptime_s,
		   s->generation, s->reloads, master_state_name(s->state));
	for (size_t i = 0, n = 0; next_listed(s, &i); i++) {
		if (n++ > 0)
			buf_putc(b, ',');
		json_server(&s->servers[i], server_removed(s, &s->servers[i]),
			    b);
	}
	buf_printf(b, "],\"workers\":[");
	for (size_t i = 0; i < s->nworkers; i++) {
		if (i > 0)
			buf_putc(b, ',');
		json_worker(s, &s->workers[i], b);
	}
	buf_printf(b, "]}\n");
}

/* ---- Prometheus ---- */

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(struct status_buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(b, '\\');
		if (*s == '\n') {
			buf_printf(b, "\\n");
			continue;
		}
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

static void
prom_head(struct status_buf *b, const char *name, const char *type,
	  const char *help)
{
	buf_printf(b, "# HELP preforkd_%s %s\n# TYPE preforkd_%s %s\n", name,
		   help, name, type);
}

/* One sample per server of a per-server value. */
static void
prom_per_server(const struct status_snapshot *s, struct status_buf *b,
		const char *name, size_t offset)
{
	for (size_t i = 0; next_listed(s, &i); i++) {
		uint64_t v;

		memcpy(&v, (const char *)&s->servers[i] + offset, sizeof(v));
		buf_printf(b, "preforkd_%s{server=", name);
		prom_label(b, s->servers[i].name);
		buf_printf(b, "} %" PRIu64 "\n", v);
	}
}

/* A dynamic pool's idle band; a fixed pool has none, and no samples. */
static void
prom_spare(const struct status_snapshot *s, struct status_buf *b)
{
	static const char *const bound[] = { "min", "max" };

	prom_head(b, "spare_workers", "gauge", "A dynamic pool's idle band: "
		  "fewest and most idle workers it keeps.");
	for (size_t i = 0; next_listed(s, &i); i++) {
		const struct status_server *v = &s->servers[i];

		if (v->max_spare == 0)
			continue;
		for (int k = 0; k < 2; k++) {
			buf_printf(b, "preforkd_spare_workers{server=");
			prom_label(b, v->name);
			buf_printf(b, ",bound=\"%s\"} %d\n", bound[k],
				   k == 0 ? v->min_spare : v->max_spare);
		}
	}
}

static void
render_prometheus(const struct status_snapshot *s, struct status_buf *b)
{
	prom_head(b, "workers", "gauge", "Workers by state.");
	for (size_t i = 0; next_listed(s, &i); i++)
		for (int st = SLOT_STARTING; st < SLOT_NSTATES; st++) {
			buf_printf(b, "preforkd_workers{server=");
			prom_label(b, s->servers[i].name);
			buf_printf(b, ",state=\"%s\"} %d\n", slot_state_name(st),
				   s->servers[i].workers[st]);
		}
	prom_head(b, "max_workers", "gauge", "Most workers the pool may have.");
	for (size_t i = 0; next_listed(s, &i); i++) {
		buf_printf(b, "preforkd_max_workers{server=");
		prom_label(b, s->servers[i].name);
		buf_printf(b, "} %d\n", s->servers[i].max_workers);
	}
	prom_spare(s, b);
	prom_head(b, "listen_queue", "gauge",
		  "Connections waiting in the listener's accept queue.");
	for (size_t i = 0; next_listed(s, &i); i++) {
		buf_printf(b, "preforkd_listen_queue{server=");
		prom_label(b, s->servers[i].name);
		buf_printf(b, "} %d\n", s->servers[i].queue);
	}
	prom_head(b, "connections_total", "counter", "Connections accepted.");
	prom_per_server(s, b, "connections_total",
			offsetof(struct status_server, connections));
	prom_head(b, "requests_total", "counter", "Requests served.");
	prom_per_server(s, b, "requests_total",
			offsetof(struct status_server, requests));
	prom_head(b, "sent_bytes_total", "counter",
		  "Bytes sent to clients, response heads included.");
	prom_per_server(s, b, "sent_bytes_total",
			offsetof(struct status_server, bytes_sent));
	prom_head(b, "worker_restarts_total", "counter",
		  "Workers replaced, by reason.");
	for (size_t i = 0; next_listed(s, &i); i++)
		for (int r = 0; r < RESTART_NREASONS; r++) {
			buf_printf(b, "preforkd_worker_restarts_total{server=");
			prom_label(b, s->servers[i].name);
			buf_printf(b, ",reason=\"%s\"} %" PRIu64 "\n",
				   restart_reason_name(r), s->servers[i].restarts[r]);
		}
	prom_head(b, "max_workers_reached_total", "counter",
		  "Episodes of a pool short of workers at max-workers.");
	prom_per_server(s, b, "max_workers_reached_total",
			offsetof(struct status_server, max_workers_reached));
	prom_head(b, "proxy_refused_total", "counter",
		  "Connections closed for a missing or bad PROXY header.");
	prom_per_server(s, b, "proxy_refused_total",
			offsetof(struct status_server, proxy_refused));
	prom_head(b, "reloads_total", "counter", "Configuration reloads.");
	buf_printf(b, "preforkd_reloads_total %" PRIu64 "\n", s->reloads);
	prom_head(b, "uptime_seconds", "gauge", "Seconds since the master "
		  "started.");
	buf_printf(b, "preforkd_uptime_seconds %" PRId64 "\n", s->uptime_s);
	/* A state set: one series per state, 1 for the master's. */
	prom_head(b, "master_state", "gauge", "The master's state: 1 for the "
		  "one it is in (serving, draining, stopping, upgrading).");
	for (int st = 0; st < MASTER_NSTATES; st++)
		buf_printf(b, "preforkd_master_state{state=\"%s\"} %d\n",
			   master_state_name(st), st == s->state);
}

int
status_render(const struct status_snapshot *snap, enum status_format format,
	      struct status_buf *out)
{
	switch (format) {
	case STATUS_TEXT:
		render_text(snap, out);
		break;
	case STATUS_JSON:
		render_json(snap, out);
		break;
	case STATUS_PROMETHEUS:
		render_prometheus(snap, out);
		break;
	}
	/* An empty rendering still leaves a string. */
	buf_reserve(out, 0);
	return out->failed ? -1 : 0;
}

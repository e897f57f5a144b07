/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for src/status.c: the text, JSON and Prometheus renderings
 * of a fixed scoreboard snapshot, golden text, and their escaping.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static struct status_worker workers[] = {
	{ .slot = 0, .pid = 101, .generation = 2, .server = 0,
	  .state = SLOT_KEEPALIVE, .seconds = 3, .connections = 7,
	  .requests = 20, .bytes_sent = 4096, .client = "127.0.0.1:5000",
	  .request = "GET /a.txt HTTP/1.1" },
	{ .slot = 3, .pid = 102, .generation = 2, .server = 1,
	  .state = SLOT_IDLE, .seconds = 12 },
};

static void
fill(struct status_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->master_pid = 100;
	s->uptime_s = 3600;
	s->generation = 2;
	s->reloads = 1;
	s->state = MASTER_DRAINING;
	s->nservers = 2;
	strcpy(s->servers[0].name, "www");
	strcpy(s->servers[0].listen, "127.0.0.1:8080");
	s->servers[0].generation = 2;
	s->servers[0].queue = 1;
	s->servers[0].queue_peak = 9;
	s->servers[0].max_workers = 256;
	s->servers[0].min_spare = 2;
	s->servers[0].max_spare = 8;
	s->servers[0].workers[SLOT_KEEPALIVE] = 1;
	s->servers[0].connections = 50;
	s->servers[0].requests = 120;
	s->servers[0].bytes_sent = 65536;
	s->servers[0].restarts[RESTART_CRASH] = 1;
	s->servers[0].restarts[RESTART_MAX_REQUESTS] = 4;
	s->servers[0].max_workers_reached = 2;
	s->servers[0].proxy_refused = 7;
	strcpy(s->servers[1].name, "echo");
	strcpy(s->servers[1].listen, "unix:/run/e.sock");
	s->servers[1].generation = 2;
	s->servers[1].max_workers = 2;
	s->servers[1].workers[SLOT_IDLE] = 1;
	s->servers[1].restarts[RESTART_TIMEOUT] = 3;
	s->nworkers = NROWS(workers);
	s->workers = workers;
}

static char *
render(const struct status_snapshot *s, enum status_format f)
{
	struct status_buf b = { .p = NULL };

	assert_int_equal(status_render(s, f, &b), 0);
	assert_non_null(b.p);
	assert_int_equal(strlen(b.p), b.len);
	return b.p;
}

/* On a mismatch, the first differing line is named. */
static void
expect_text(const char *got, const char *want, const char *what)
{
	size_t line = 1, i = 0;

	if (strcmp(got, want) == 0)
		return;
	while (got[i] != '\0' && got[i] == want[i]) {
		if (got[i] == '\n')
			line++;
		i++;
	}
	fail_msg("%s: line %zu differs:\n--- got from there:\n%.160s\n--- "
		 "expected:\n%.160s", what, line, got + i, want + i);
}

static void
test_text(void **state)
{
	static const char want[] =
		"preforkd: master 100, up 3600 s, generation 2, reloads 1\n"
		"state: draining\n"
		"\n"
		"server www: listen 127.0.0.1:8080, generation 2, max-workers 256\n"
		"  dynamic pool: 2 to 8 idle workers\n"
		"  queue 1 now, 9 peak; reached max-workers 2 times\n"
		"  PROXY header refused 7 connections\n"
		"  workers: starting 0, idle 0, reading 0, writing 0, keep-alive 1, "
		"closing 0\n"
		"  totals: connections 50, requests 120, bytes 65536\n"
		"  restarts: crash 1, timeout 0, max-requests 4, max-memory 0\n"
		"\n"
		"server echo: listen unix:/run/e.sock, generation 2, max-workers 2\n"
		"  queue 0 now, 0 peak; reached max-workers 0 times\n"
		"  workers: starting 0, idle 1, reading 0, writing 0, keep-alive 0, "
		"closing 0\n"
		"  totals: connections 0, requests 0, bytes 0\n"
		"  restarts: crash 0, timeout 3, max-requests 0, max-memory 0\n"
		"\n"
		"slot     pid  gen server       state        secs    conns     reqs"
		"        bytes client request\n"
		"   0     101    2 www          keep-alive      3        7       20"
		"         4096 127.0.0.1:5000 GET /a.txt HTTP/1.1\n"
		"   3     102    2 echo         idle           12        0        0"
		"            0 - -\n";
	struct status_snapshot s;
	char *got;

	(void)state;
	fill(&s);
	got = render(&s, STATUS_TEXT);
	expect_text(got, want, "text");
	free(got);
}

static void
test_json(void **state)
{
	static const char want[] =
		"{\"master\":{\"pid\":100,\"uptime\":3600,\"generation\":2,"
		"\"reloads\":1,\"state\":\"draining\"},\"servers\":["
		"{\"name\":\"www\",\"listen\":\"127.0.0.1:8080\",\"generation\":2,"
		"\"removed\":false,\"queue\":1,\"queue_peak\":9,\"max_workers\":256,"
		"\"min_spare\":2,\"max_spare\":8,"
		"\"max_workers_reached\":2,\"proxy_refused\":7,\"workers\":{\"starting\":0,\"idle\":0,"
		"\"reading\":0,\"writing\":0,\"keep-alive\":1,\"closing\":0},"
		"\"connections\":50,\"requests\":120,\"sent_bytes\":65536,"
		"\"restarts\":{\"crash\":1,\"timeout\":0,\"max-requests\":4,"
		"\"max-memory\":0}},"
		"{\"name\":\"echo\",\"listen\":\"unix:/run/e.sock\",\"generation\":2,"
		"\"removed\":false,\"queue\":0,\"queue_peak\":0,\"max_workers\":2,"
		"\"min_spare\":0,\"max_spare\":0,"
		"\"max_workers_reached\":0,\"proxy_refused\":0,\"workers\":{\"starting\":0,\"idle\":1,"
		"\"reading\":0,\"writing\":0,\"keep-alive\":0,\"closing\":0},"
		"\"connections\":0,\"requests\":0,\"sent_bytes\":0,"
		"\"restarts\":{\"crash\":0,\"timeout\":3,\"max-requests\":0,"
		"\"max-memory\":0}}],\"workers\":["
		"{\"slot\":0,\"pid\":101,\"generation\":2,\"server\":\"www\","
		"\"state\":\"keep-alive\",\"seconds\":3,\"connections\":7,"
		"\"requests\":20,\"sent_bytes\":4096,\"client\":\"127.0.0.1:5000\","
		"\"request\":\"GET /a.txt HTTP/1.1\"},"
		"{\"slot\":3,\"pid\":102,\"generation\":2,\"server\":\"echo\","
		"\"state\":\"idle\",\"seconds\":12,\"connections\":0,"
		"\"requests\":0,\"sent_bytes\":0,\"client\":\"\",\"request\":\"\"}"
		"]}\n";
	struct status_snapshot s;
	char *got;

	(void)state;
	fill(&s);
	got = render(&s, STATUS_JSON);
	expect_text(got, want, "json");
	free(got);
}

static void
test_prometheus(void **state)
{
	static const char want[] =
		"# HELP preforkd_workers Workers by state.\n"
		"# TYPE preforkd_workers gauge\n"
		"preforkd_workers{server=\"www\",state=\"starting\"} 0\n"
		"preforkd_workers{server=\"www\",state=\"idle\"} 0\n"
		"preforkd_workers{server=\"www\",state=\"reading\"} 0\n"
		"preforkd_workers{server=\"www\",state=\"writing\"} 0\n"
		"preforkd_workers{server=\"www\",state=\"keep-alive\"} 1\n"
		"preforkd_workers{server=\"www\",state=\"closing\"} 0\n"
		"preforkd_workers{server=\"echo\",state=\"starting\"} 0\n"
		"preforkd_workers{server=\"echo\",state=\"idle\"} 1\n"
		"preforkd_workers{server=\"echo\",state=\"reading\"} 0\n"
		"preforkd_workers{server=\"echo\",state=\"writing\"} 0\n"
		"preforkd_workers{server=\"echo\",state=\"keep-alive\"} 0\n"
		"preforkd_workers{server=\"echo\",state=\"closing\"} 0\n"
		"# HELP preforkd_max_workers Most workers the pool may have.\n"
		"# TYPE preforkd_max_workers gauge\n"
		"preforkd_max_workers{server=\"www\"} 256\n"
		"preforkd_max_workers{server=\"echo\"} 2\n"
		"# HELP preforkd_spare_workers A dynamic pool's idle band: fewest "
		"and most idle workers it keeps.\n"
		"# TYPE preforkd_spare_workers gauge\n"
		"preforkd_spare_workers{server=\"www\",bound=\"min\"} 2\n"
		"preforkd_spare_workers{server=\"www\",bound=\"max\"} 8\n"
		"# HELP preforkd_listen_queue Connections waiting in the "
		"listener's accept queue.\n"
		"# TYPE preforkd_listen_queue gauge\n"
		"preforkd_listen_queue{server=\"www\"} 1\n"
		"preforkd_listen_queue{server=\"echo\"} 0\n"
		"# HELP preforkd_connections_total Connections accepted.\n"
		"# TYPE preforkd_connections_total counter\n"
		"preforkd_connections_total{server=\"www\"} 50\n"
		"preforkd_connections_total{server=\"echo\"} 0\n"
		"# HELP preforkd_requests_total Requests served.\n"
		"# TYPE preforkd_requests_total counter\n"
		"preforkd_requests_total{server=\"www\"} 120\n"
		"preforkd_requests_total{server=\"echo\"} 0\n"
		"# HELP preforkd_sent_bytes_total Bytes sent to clients, "
		"response heads included.\n"
		"# TYPE preforkd_sent_bytes_total counter\n"
		"preforkd_sent_bytes_total{server=\"www\"} 65536\n"
		"preforkd_sent_bytes_total{server=\"echo\"} 0\n"
		"# HELP preforkd_worker_restarts_total Workers replaced, by "
		"reason.\n"
		"# TYPE preforkd_worker_restarts_total counter\n"
		"preforkd_worker_restarts_total{server=\"www\",reason=\"crash\"} 1\n"
		"preforkd_worker_restarts_total{server=\"www\",reason=\"timeout\"} "
		"0\n"
		"preforkd_worker_restarts_total{server=\"www\",reason=\""
		"max-requests\"} 4\n"
		"preforkd_worker_restarts_total{server=\"www\",reason=\""
		"max-memory\"} 0\n"
		"preforkd_worker_restarts_total{server=\"echo\",reason=\"crash\"} "
		"0\n"
		"preforkd_worker_restarts_total{server=\"echo\",reason=\"timeout\"} "
		"3\n"
		"preforkd_worker_restarts_total{server=\"echo\",reason=\""
		"max-requests\"} 0\n"
		"preforkd_worker_restarts_total{server=\"echo\",reason=\""
		"max-memory\"} 0\n"
		"# HELP preforkd_max_workers_reached_total Episodes of a pool "
		"short of workers at max-workers.\n"
		"# TYPE preforkd_max_workers_reached_total counter\n"
		"preforkd_max_workers_reached_total{server=\"www\"} 2\n"
		"preforkd_max_workers_reached_total{server=\"echo\"} 0\n"
		"# HELP preforkd_proxy_refused_total Connections closed for a "
		"missing or bad PROXY header.\n"
		"# TYPE preforkd_proxy_refused_total counter\n"
		"preforkd_proxy_refused_total{server=\"www\"} 7\n"
		"preforkd_proxy_refused_total{server=\"echo\"} 0\n"
		"# HELP preforkd_reloads_total Configuration reloads.\n"
		"# TYPE preforkd_reloads_total counter\n"
		"preforkd_reloads_total 1\n"
		"# HELP preforkd_uptime_seconds Seconds since the master started.\n"
		"# TYPE preforkd_uptime_seconds gauge\n"
		"preforkd_uptime_seconds 3600\n"
		"# HELP preforkd_master_state The master's state: 1 for the one "
		"it is in (serving, draining, stopping, upgrading).\n"
		"# TYPE preforkd_master_state gauge\n"
		"preforkd_master_state{state=\"serving\"} 0\n"
		"preforkd_master_state{state=\"draining\"} 1\n"
		"preforkd_master_state{state=\"stopping\"} 0\n"
		"preforkd_master_state{state=\"upgrading\"} 0\n";
	struct status_snapshot s;
	char *got;

	(void)state;
	fill(&s);
	got = render(&s, STATUS_PROMETHEUS);
	expect_text(got, want, "prometheus");
	free(got);
}

/* Names and request lines come from outside: each format escapes them. */
static void
test_escaping(void **state)
{
	static const struct {
		const char *name;
		enum status_format format;
		const char *server, *request;
		const char *needle;
	} rows[] = {
		{ "prometheus: quote and backslash", STATUS_PROMETHEUS,
		  "a\"b\\c", "", "preforkd_listen_queue{server=\"a\\\"b\\\\c\"} 0\n" },
		{ "prometheus: newline", STATUS_PROMETHEUS, "a\nb", "",
		  "preforkd_listen_queue{server=\"a\\nb\"} 0\n" },
		{ "json: quote, backslash, control", STATUS_JSON, "s",
		  "GET /\"\\\x01 HTTP/1.1", "\"request\":\"GET /\\\"\\\\\\u0001 "
		  "HTTP/1.1\"" },
		{ "json: a byte above 0x7f", STATUS_JSON, "s", "GET /\xe9",
		  "\"request\":\"GET /\\u00e9\"" },
		{ "json: server name", STATUS_JSON, "a\"b", "",
		  "{\"name\":\"a\\\"b\"," },
		{ "text: control and high bytes shown as ?", STATUS_TEXT, "s",
		  "GET /\x1b[2J\xe9", "GET /?[2J?\n" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct status_snapshot s;
		struct status_worker w = { .pid = 7, .server = 0,
					   .state = SLOT_WRITING };
		char *got;

		memset(&s, 0, sizeof(s));
		s.nservers = 1;
		s.servers[0].generation = 1;
		snprintf(s.servers[0].name, sizeof(s.servers[0].name), "%s",
			 rows[i].server);
		snprintf(w.request, sizeof(w.request), "%s", rows[i].request);
		s.workers = &w;
		s.nworkers = 1;
		got = render(&s, rows[i].format);
		if (strstr(got, rows[i].needle) == NULL)
			fail_msg("row %zu (%s): no \"%s\" in:\n%s", i, rows[i].name,
				 rows[i].needle, got);
		free(got);
	}
}

/*
 * A server no generation has served yet (a reload's new server while it
 * starts, or one whose reload failed) has no line, in any format; its
 * workers' rows still name it.
 */
static void
test_unserved_not_listed(void **state)
{
	static const enum status_format formats[] = {
		STATUS_TEXT, STATUS_JSON, STATUS_PROMETHEUS
	};
	struct status_snapshot s;
	struct status_worker w = { .pid = 7, .server = 0,
				   .state = SLOT_STARTING };

	(void)state;
	memset(&s, 0, sizeof(s));
	s.generation = 4;
	s.nservers = 3;
	strcpy(s.servers[0].name, "pending");
	strcpy(s.servers[1].name, "www");
	s.servers[1].generation = 4;
	strcpy(s.servers[2].name, "echo");
	s.servers[2].generation = 3;
	s.workers = &w;
	s.nworkers = 1;
	for (size_t i = 0; i < NROWS(formats); i++) {
		char *got = render(&s, formats[i]);

		if (strstr(got, "server pending:") != NULL ||
		    strstr(got, "{\"name\":\"pending\"") != NULL ||
		    strstr(got, "{server=\"pending\"") != NULL)
			fail_msg("format %d lists the unserved server:\n%s",
				 (int)formats[i], got);
		if (strstr(got, "www") == NULL || strstr(got, "echo") == NULL)
			fail_msg("format %d lost a served server:\n%s",
				 (int)formats[i], got);
		/* echo was dropped by generation 4, which serves www. */
		if ((formats[i] == STATUS_TEXT &&
		     (strstr(got, "server echo: listen , generation 3, "
				  "removed\n") == NULL ||
		      strstr(got, "server www: listen , generation 4, "
				  "max-workers 0\n") == NULL)) ||
		    (formats[i] == STATUS_JSON &&
		     (strstr(got, "\"name\":\"echo\",\"listen\":\"\","
				  "\"generation\":3,\"removed\":true,") == NULL ||
		      strstr(got, "\"name\":\"www\",\"listen\":\"\","
				  "\"generation\":4,\"removed\":false,") == NULL)))
			fail_msg("format %d: echo not shown removed, or www "
				 "shown so:\n%s", (int)formats[i], got);
		free(got);
	}
	{
		char *json = render(&s, STATUS_JSON);

		assert_non_null(strstr(json, "\"servers\":[{\"name\":\"www\""));
		assert_non_null(strstr(json, "}},{\"name\":\"echo\""));
		assert_non_null(strstr(json, "\"server\":\"pending\""));
		free(json);
	}
}

/*
 * The master's state, in each format: its name in the text and JSON, and
 * 1 for its series alone in Prometheus.  A value out of range (workers
 * can write the scoreboard) shows as "?", with no series at 1.
 */
static void
test_master_state(void **state)
{
	static const struct {
		int state;
		const char *text, *json;
		const char *prom[MASTER_NSTATES];
	} rows[] = {
		{ MASTER_SERVING, "\nstate: serving\n", ",\"state\":\"serving\"}",
		  { "serving\"} 1", "draining\"} 0", "stopping\"} 0",
		    "upgrading\"} 0" } },
		{ MASTER_DRAINING, "\nstate: draining\n",
		  ",\"state\":\"draining\"}",
		  { "serving\"} 0", "draining\"} 1", "stopping\"} 0",
		    "upgrading\"} 0" } },
		{ MASTER_STOPPING, "\nstate: stopping\n",
		  ",\"state\":\"stopping\"}",
		  { "serving\"} 0", "draining\"} 0", "stopping\"} 1",
		    "upgrading\"} 0" } },
		{ MASTER_UPGRADING, "\nstate: upgrading\n",
		  ",\"state\":\"upgrading\"}",
		  { "serving\"} 0", "draining\"} 0", "stopping\"} 0",
		    "upgrading\"} 1" } },
		{ 42, "\nstate: ?\n", ",\"state\":\"?\"}",
		  { "serving\"} 0", "draining\"} 0", "stopping\"} 0",
		    "upgrading\"} 0" } },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct status_snapshot s;
		char *text, *json, *prom;

		memset(&s, 0, sizeof(s));
		s.master_pid = 9;
		s.state = rows[i].state;
		text = render(&s, STATUS_TEXT);
		json = render(&s, STATUS_JSON);
		prom = render(&s, STATUS_PROMETHEUS);
		if (strstr(text, rows[i].text) == NULL)
			fail_msg("row %zu (state %d): no \"%s\" in:\n%s", i,
				 rows[i].state, rows[i].text, text);
		if (strstr(json, rows[i].json) == NULL)
			fail_msg("row %zu (state %d): no '%s' in:\n%s", i,
				 rows[i].state, rows[i].json, json);
		for (int k = 0; k < MASTER_NSTATES; k++) {
			char needle[96];

			snprintf(needle, sizeof(needle),
				 "\npreforkd_master_state{state=\"%s\n",
				 rows[i].prom[k]);
			if (strstr(prom, needle) == NULL)
				fail_msg("row %zu (state %d): no '%s' in:\n%s",
					 i, rows[i].state, needle + 1, prom);
		}
		free(text);
		free(json);
		free(prom);
	}
}

static void
test_format_parse(void **state)
{
	static const struct {
		const char *text;
		int expected;
	} rows[] = {
		{ "", STATUS_TEXT },
		{ "text", STATUS_TEXT },
		{ "json", STATUS_JSON },
		{ "prometheus", STATUS_PROMETHEUS },
		{ "JSON", -1 },
		{ "jso", -1 },
		{ "jsonx", -1 },
		{ "xml", -1 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		int got = status_format_parse(rows[i].text, strlen(rows[i].text));

		if (got != rows[i].expected)
			fail_msg("row %zu (\"%s\"): %d, expected %d", i,
				 rows[i].text, got, rows[i].expected);
	}
	assert_int_equal(status_format_parse(NULL, 0), STATUS_TEXT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_unserved_not_listed),
		cmocka_unit_test(test_master_state),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/conf.c: loading, validation and error reporting. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "handler.h"
#include "log.h"

#ifndef PIDFILE_DEFAULT
#define PIDFILE_DEFAULT "/run/preforkd.pid"
#endif

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* A user and a group that no system has. */
#define NO_USER "preforkd-test-no-such-user"
#define NO_GROUP "preforkd-test-no-such-group"

/* The temporary directory, under the current (build) directory. */
static char dir[] = "conftest.XXXXXX";
static char logs[sizeof(dir) + 5];
static unsigned nfiles;

/* ---- collecting reports --------------------------------------------------- */

#define MAX_MESSAGES 16

struct collector {
	size_t n;
	char msg[MAX_MESSAGES][1200];
	char last[1200];
};

static void
collect(void *arg, const char *message)
{
	struct collector *c = arg;

	if (c->n < MAX_MESSAGES)
		snprintf(c->msg[c->n], sizeof(c->msg[0]), "%s", message);
	snprintf(c->last, sizeof(c->last), "%s", message);
	c->n++;
}

static void
dump_messages(const struct collector *c)
{
	for (size_t i = 0; i < c->n && i < MAX_MESSAGES; i++)
		print_error("  message %zu: %s\n", i, c->msg[i]);
}

/* ---- files ---------------------------------------------------------------- */

static int
setup_dir(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL) {
		print_error("mkdtemp(%s): %s\n", dir, strerror(errno));
		return -1;
	}
	/* Where the configs' relative logs go: a log's directory must exist. */
	snprintf(logs, sizeof(logs), "%s/logs", dir);
	if (mkdir(logs, 0700) != 0) {
		print_error("mkdir(%s): %s\n", logs, strerror(errno));
		return -1;
	}
	return 0;
}

/* dir holds only the files written by write_conf. */
static int
teardown_dir(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	(void)state;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, "logs") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			rc = -1;
	}
	closedir(d);
	if (rmdir(logs) != 0)
		rc = -1;
	if (rmdir(dir) != 0) {
		print_error("rmdir(%s): %s\n", dir, strerror(errno));
		rc = -1;
	}
	return rc;
}

/* Writes text to a new file in dir; path receives its name. */
static void
write_conf(const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/test%03u.conf", dir, nfiles++);
	if ((f = fopen(path, "w")) == NULL)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	if (fputs(text, f) == EOF || fclose(f) != 0)
		fail_msg("cannot write %s: %s", path, strerror(errno));
}

/* Loads text as a config file; every report goes to c. */
static struct conf *
load_text(const char *text, char *path, size_t len, struct collector *c)
{
	memset(c, 0, sizeof(*c));
	write_conf(text, path, len);
	return conf_load(path, collect, c);
}

/* Loads text that must be accepted without any report. */
static struct conf *
load_good(const char *name, const char *text, char *path, size_t len)
{
	struct collector c;
	struct conf *conf = load_text(text, path, len, &c);

	if (c.n != 0 || conf == NULL) {
		dump_messages(&c);
		fail_msg("%s: conf_load returned %p with %zu message(s), first: %s",
			 name, (void *)conf, c.n, c.n ? c.msg[0] : "(none)");
	}
	return conf;
}

#define SERVER_MIN \
	"server a {\n" \
	"  listen = \"127.0.0.1:0\"\n" \
	"  handler = \"echo\"\n" \
	"}\n"

/* ---- good configurations -------------------------------------------------- */

static void
test_minimal(void **state)
{
	char path[PATH_MAX];
	struct conf *conf;
	const struct server_conf *s;

	(void)state;
	conf = load_good("minimal", SERVER_MIN, path, sizeof(path));
	assert_string_equal(conf->path, path);
	assert_null(conf->user);
	assert_null(conf->group);
	assert_int_equal(conf->uid, (uid_t)-1);
	assert_int_equal(conf->gid, (gid_t)-1);
	assert_string_equal(conf->pidfile, PIDFILE_DEFAULT);
	assert_null(conf->error_log);
	assert_int_equal(conf->log_level, LOG_LEVEL_INFO);
	assert_int_equal(conf->shutdown_timeout, 30);
	assert_int_equal(conf->nservers, 1);
	s = &conf->servers[0];
	assert_string_equal(s->name, "a");
	assert_string_equal(s->listen_text, "127.0.0.1:0");
	assert_int_equal(s->listen.family, AF_INET);
	assert_int_equal(addr_port(&s->listen), 0);
	assert_int_equal(s->backlog, 511);
	assert_non_null(s->handler);
	assert_string_equal(s->handler->name, "echo");
	assert_ptr_equal(s->handler, handler_find("echo"));
	assert_non_null(s->hconf);
	/* The default pool is dynamic, for 64 keep-alive clients and more. */
	assert_int_equal(s->workers, 5);
	assert_int_equal(s->max_workers, 256);
	assert_int_equal(s->min_spare, 5);
	assert_int_equal(s->max_spare, 10);
	assert_true(conf_pool_is_dynamic(s));
	assert_int_equal(s->max_requests, 0);
	assert_int_equal(s->timeout, 60);
	conf_free(conf);
}

static void
test_full(void **state)
{
	static const char text[] =
		"user = \"root\"\n"
		"group = \"root\"\n"
		"pidfile = \"run/preforkd.pid\"\n"
		"error-log = \"logs/error.log\"\n"
		"log-level = \"debug\"\n"
		"shutdown-timeout = 10\n"
		"server main {\n"
		"  listen = \"127.0.0.1:0\"\n"
		"  backlog = 128\n"
		"  handler = \"echo\"\n"
		"  workers = 2\n"
		"  min-spare = 1\n"
		"  max-spare = 3\n"
		"  max-workers = 8\n"
		"  max-requests = 1000\n"
		"  timeout = 30\n"
		"  echo {\n"
		"    buffer-size = 4096\n"
		"  }\n"
		"}\n"
		"server second {\n"
		"  listen = \"[::1]:0\"\n"
		"  handler = \"echo\"\n"
		"  workers = 3\n"
		"  timeout = 0\n"
		"  echo {\n"
		"  }\n"
		"}\n"
		"server local {\n"
		"  handler = \"echo\"\n"
		"  listen = \"unix:/tmp/preforkd-unit.sock\"\n"
		"  workers = 1\n"
		"  max-workers = 1\n"
		"}\n";
	char path[PATH_MAX], want[PATH_MAX + 32];
	struct conf *conf;
	const struct server_conf *s;

	(void)state;
	conf = load_good("full", text, path, sizeof(path));
	assert_string_equal(conf->user, "root");
	assert_string_equal(conf->group, "root");
	assert_int_equal(conf->uid, 0);
	assert_int_equal(conf->gid, 0);
	snprintf(want, sizeof(want), "%s/run/preforkd.pid", dir);
	assert_string_equal(conf->pidfile, want);
	snprintf(want, sizeof(want), "%s/logs/error.log", dir);
	assert_string_equal(conf->error_log, want);
	assert_int_equal(conf->log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(conf->shutdown_timeout, 10);
	assert_int_equal(conf->nservers, 3);

	s = &conf->servers[0];
	assert_string_equal(s->name, "main");
	assert_string_equal(s->listen_text, "127.0.0.1:0");
	assert_int_equal(s->listen.family, AF_INET);
	assert_int_equal(addr_port(&s->listen), 0);
	assert_int_equal(s->backlog, 128);
	assert_string_equal(s->handler->name, "echo");
	assert_non_null(s->hconf);
	assert_int_equal(s->workers, 2);
	assert_int_equal(s->min_spare, 1);
	assert_int_equal(s->max_spare, 3);
	assert_int_equal(s->max_workers, 8);
	assert_true(conf_pool_is_dynamic(s));
	assert_int_equal(s->max_requests, 1000);
	assert_int_equal(s->timeout, 30);

	s = &conf->servers[1];
	assert_string_equal(s->name, "second");
	assert_string_equal(s->listen_text, "[::1]:0");
	assert_int_equal(s->listen.family, AF_INET6);
	assert_false(s->listen.dual_stack);
	assert_int_equal(addr_port(&s->listen), 0);
	assert_int_equal(s->backlog, 511);
	assert_string_equal(s->handler->name, "echo");
	assert_non_null(s->hconf);
	assert_int_equal(s->workers, 3);
	assert_int_equal(s->max_workers, 0);
	assert_false(conf_pool_is_dynamic(s));
	assert_int_equal(s->max_requests, 0);
	assert_int_equal(s->timeout, 0);

	s = &conf->servers[2];
	assert_string_equal(s->name, "local");
	assert_int_equal(s->listen.family, AF_UNIX);
	assert_string_equal(s->listen_text, "unix:/tmp/preforkd-unit.sock");
	assert_int_equal(s->workers, 1);
	assert_int_equal(s->max_workers, 1);
	assert_false(conf_pool_is_dynamic(s));
	conf_free(conf);
}

/* One global or server option per row, at its limits; its parsed value. */
static void
test_good_values(void **state)
{
	static const struct {
		const char *global;	/* lines before the server */
		const char *server;	/* lines inside "server a" */
		const char *field;
		long expected;
	} rows[] = {
		{ "", "workers = 1\n", "workers", 1 },
		{ "", "workers = 1024\n", "workers", 1024 },
		{ "", "backlog = 1\n", "backlog", 1 },
		{ "", "backlog = 65535\n", "backlog", 65535 },
		{ "", "timeout = 0\n", "timeout", 0 },
		{ "", "timeout = 86400\n", "timeout", 86400 },
		{ "", "max-requests = 0\n", "max_requests", 0 },
		{ "", "max-requests = 2000000000\n", "max_requests", 2000000000 },
		{ "", "max-requests-jitter = 50\n", "max_requests_jitter", 50 },
		{ "", "max-memory = \"64M\"\n", "max_memory", 64 << 20 },
		{ "", "max-memory = \"0\"\n", "max_memory", 0 },
		{ "", "max-memory = \"64K\"\n", "max_memory", 64 << 10 },
		{ "", "max-memory = 65536\n", "max_memory", 65536 },
		{ "", "", "max_memory", 0 },
		{ "", "workers = 2\nmax-workers = 1024\n", "max_workers", 1024 },
		{ "", "max-workers = 4\n", "max_workers", 4 },
		{ "", "max-workers = 9\nmin-spare = 0\n", "min_spare", 0 },
		{ "", "max-workers = 9\nmin-spare = 3\nmax-spare = 3\n",
		  "min_spare", 3 },
		{ "", "max-workers = 9\nmax-spare = 9\n", "max_spare", 9 },
		{ "", "max-workers = 9\nmax-spare = 1\nmin-spare = 1\n",
		  "max_spare", 1 },
		/* Left out, workers and the spares give way to max-workers. */
		{ "", "max-workers = 2\n", "workers", 2 },
		{ "", "max-workers = 2\n", "max_workers", 2 },
		{ "", "workers = 1\nmax-workers = 2\n", "max_spare", 2 },
		{ "", "workers = 1\nmax-workers = 2\n", "min_spare", 2 },
		/* Unconfigured, the pool is dynamic; workers alone: fixed. */
		{ "", "", "max_workers", 256 },
		{ "", "workers = 7\n", "max_workers", 0 },
		{ "", "min-spare = 2\n", "max_workers", 256 },
		{ "", "max-spare = 30\n", "max_spare", 30 },
		{ "", "max-workers = 8\n", "min_spare", 5 },
		{ "", "max-workers = 8\n", "max_spare", 8 },
		{ "", "workers = 1\nmax-workers = 9\nmin-spare = 6\n",
		  "max_spare", 9 },
		{ "", "workers = 1\nmax-workers = 20\nmin-spare = 12\n",
		  "max_spare", 12 },
		{ "", "workers = 1\nmax-workers = 9\nmax-spare = 3\n",
		  "min_spare", 3 },
		{ "", "echo {\nbuffer-size = 512\n}\n", "echo", 0 },
		{ "", "echo {\nbuffer-size = 1048576\n}\n", "echo", 0 },
		{ "", "echo {\n}\n", "echo", 0 },
		{ "shutdown-timeout = 0\n", "", "shutdown_timeout", 0 },
		{ "shutdown-timeout = 3600\n", "", "shutdown_timeout", 3600 },
		{ "log-level = \"error\"\n", "", "log_level", LOG_LEVEL_ERROR },
		{ "log-level = \"warning\"\n", "", "log_level", LOG_LEVEL_WARNING },
		{ "log-level = \"notice\"\n", "", "log_level", LOG_LEVEL_NOTICE },
		{ "log-level = \"info\"\n", "", "log_level", LOG_LEVEL_INFO },
		{ "log-level = \"debug\"\n", "", "log_level", LOG_LEVEL_DEBUG },
		{ "user = \"root\"\n", "", "uid", 0 },
		{ "user = \"root\"\ngroup = \"root\"\n", "", "gid", 0 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		char text[1024], path[PATH_MAX], name[64];
		struct conf *conf;
		const struct server_conf *s;
		long got = -12345;

		snprintf(text, sizeof(text),
			 "%sserver a {\nlisten = \"127.0.0.1:0\"\nhandler = \"echo\"\n"
			 "%s}\n", rows[i].global, rows[i].server);
		snprintf(name, sizeof(name), "row %zu (%s)", i, rows[i].field);
		conf = load_good(name, text, path, sizeof(path));
		s = &conf->servers[0];
		if (strcmp(rows[i].field, "workers") == 0)
			got = s->workers;
		else if (strcmp(rows[i].field, "backlog") == 0)
			got = s->backlog;
		else if (strcmp(rows[i].field, "timeout") == 0)
			got = s->timeout;
		else if (strcmp(rows[i].field, "max_requests") == 0)
			got = s->max_requests;
		else if (strcmp(rows[i].field, "max_requests_jitter") == 0)
			got = s->max_requests_jitter;
		else if (strcmp(rows[i].field, "max_memory") == 0)
			got = (long)s->max_memory;
		else if (strcmp(rows[i].field, "max_workers") == 0)
			got = s->max_workers;
		else if (strcmp(rows[i].field, "min_spare") == 0)
			got = s->min_spare;
		else if (strcmp(rows[i].field, "max_spare") == 0)
			got = s->max_spare;
		else if (strcmp(rows[i].field, "echo") == 0)
			got = s->hconf == NULL;	/* configured: hconf set */
		else if (strcmp(rows[i].field, "shutdown_timeout") == 0)
			got = conf->shutdown_timeout;
		else if (strcmp(rows[i].field, "log_level") == 0)
			got = conf->log_level;
		else if (strcmp(rows[i].field, "uid") == 0)
			got = (long)conf->uid;
		else if (strcmp(rows[i].field, "gid") == 0)
			got = (long)conf->gid;
		else
			fail_msg("row %zu: unknown field %s", i, rows[i].field);
		conf_free(conf);
		if (got != rows[i].expected)
			fail_msg("row %zu (%s%s): %s = %ld, expected %ld", i,
				 rows[i].global, rows[i].server, rows[i].field, got,
				 rows[i].expected);
	}
}

/* pidfile and error-log: relative to the config file's directory. */
/* ---- pool sizes: defaults derived from what was written ------------------- */

#define W(v) { v, true }	/* written */
#define D(v) { v, false }	/* left out: the default */

/* max-memory's sizes: binary units, nothing else accepted. */
static void
test_parse_size(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t expected;
	} rows[] = {
		{ "0", 0, 0 },
		{ "65536", 0, 65536 },
		{ "1K", 0, 1024 },
		{ "512k", 0, 512 * 1024 },
		{ "64M", 0, 64 * 1024 * 1024 },
		{ "2G", 0, 2ULL << 30 },
		{ "1T", 0, 1ULL << 40 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -1, 0 },
		{ "16777216T", -1, 0 },
		{ "", -1, 0 },
		{ "M", -1, 0 },
		{ "-1", -1, 0 },
		{ " 64M", -1, 0 },
		{ "64 M", -1, 0 },
		{ "64MB", -1, 0 },
		{ "64X", -1, 0 },
		{ "1.5G", -1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		uint64_t got = 0;
		int rc = conf_parse_size(rows[i].text, &got);

		if (rc != rows[i].rc || (rc == 0 && got != rows[i].expected))
			fail_msg("row %zu (\"%s\"): rc %d value %llu, expected %d "
				 "%llu", i, rows[i].text, rc,
				 (unsigned long long)got, rows[i].rc,
				 (unsigned long long)rows[i].expected);
	}
}

static void
test_default_max_workers(void **state)
{
	static const struct {
		size_t taken, n_default;
		int expected;
	} rows[] = {
		{ 0, 0, 256 }, { 0, 1, 256 }, { 0, 8, 256 },
		{ 0, 9, 227 },		/* 2048 / 9 */
		{ 0, 20, 102 },
		{ 1024, 4, 256 }, { 1024, 5, 204 },
		{ 2047, 1, 1 }, { 2048, 3, 1 }, { 3000, 1, 1 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		int got = conf_default_max_workers(rows[i].taken,
						   rows[i].n_default);

		if (got != rows[i].expected)
			fail_msg("taken %zu, %zu left to the default: %d, "
				 "expected %d", rows[i].taken, rows[i].n_default,
				 got, rows[i].expected);
	}
}

/* Servers left at the default pool share the total; set sizes count. */
static void
test_default_pools_share(void **state)
{
	char text[4096], path[PATH_MAX];
	size_t len = 0;
	struct conf *conf;

	(void)state;
	for (int i = 0; i < 9; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"server s%d {\n  listen = \"127.0.0.1:0\"\n"
					"  handler = \"echo\"\n}\n", i);
	conf = load_good("nine default pools", text, path, sizeof(path));
	assert_int_equal(conf->nservers, 9);
	for (size_t i = 0; i < conf->nservers; i++) {
		assert_int_equal(conf->servers[i].max_workers, 227);
		assert_int_equal(conf->servers[i].workers, 5);
	}
	conf_free(conf);

	snprintf(text + len, sizeof(text) - len,
		 "server fixed {\n  listen = \"127.0.0.1:0\"\n"
		 "  handler = \"echo\"\n  workers = 1024\n}\n");
	conf = load_good("nine default pools and 1024 fixed", text, path,
			 sizeof(path));
	assert_int_equal(conf->nservers, 10);
	assert_int_equal(conf->servers[0].max_workers, 113);	/* 1024 / 9 */
	assert_int_equal(conf->servers[9].workers, 1024);
	assert_int_equal(conf->servers[9].max_workers, 0);
	conf_free(conf);
}

/* The 65th server section is refused where it starts; 64 are served. */
static void
test_server_count_limit(void **state)
{
	char text[8192], path[PATH_MAX], want[PATH_MAX + 64];
	size_t len = 0;
	struct collector c;
	struct conf *conf;

	(void)state;
	for (int i = 0; i < CONF_MAX_SERVERS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"server s%d { listen = \"127.0.0.1:0\" "
					"handler = \"echo\" workers = 1 }\n", i);
	conf = load_good("64 servers", text, path, sizeof(path));
	assert_int_equal(conf->nservers, CONF_MAX_SERVERS);
	conf_free(conf);

	snprintf(text + len, sizeof(text) - len, "server extra { listen = "
		 "\"127.0.0.1:0\" handler = \"echo\" workers = 1 }\n");
	conf = load_text(text, path, sizeof(path), &c);
	assert_null(conf);
	snprintf(want, sizeof(want), "%s:%d: at most %d server sections", path,
		 CONF_MAX_SERVERS + 1, CONF_MAX_SERVERS);
	if (c.n != 1 || strcmp(c.msg[0], want) != 0) {
		dump_messages(&c);
		fail_msg("65 servers: %zu message(s), expected '%s'", c.n, want);
	}
}

static void
test_pool_settle(void **state)
{
	static const struct {
		const char *name;
		struct conf_pool_spec in;
		int workers, max_workers, min_spare, max_spare;
		struct {
			const char *option, *message;
		} err[CONF_POOL_ERRORS_MAX];
	} rows[] = {
		{ "all defaults: dynamic", { D(5), D(256), D(5), D(10) }, 5, 256,
		  5, 10, { { NULL, NULL } } },
		{ "workers alone: fixed", { W(4), D(256), D(5), D(10) }, 4, 0, 5,
		  10, { { NULL, NULL } } },
		{ "workers = 1, max-workers = 2", { W(1), W(2), D(5), D(10) },
		  1, 2, 2, 2, { { NULL, NULL } } },
		{ "max-workers = 2 alone: workers gives way",
		  { D(5), W(2), D(5), D(10) }, 2, 2, 5, 10, { { NULL, NULL } } },
		{ "max-workers = 8: defaults fit", { D(5), W(8), D(5), D(10) },
		  5, 8, 5, 8, { { NULL, NULL } } },
		{ "min-spare = 6: max-spare fits", { W(1), W(9), W(6), D(10) },
		  1, 9, 6, 9, { { NULL, NULL } } },
		{ "min-spare = 12: max-spare follows", { D(5), D(256), W(12),
		  D(10) }, 5, 256, 12, 12, { { NULL, NULL } } },
		{ "max-spare = 3: min-spare fits", { W(1), W(9), D(5), W(3) },
		  1, 9, 3, 3, { { NULL, NULL } } },
		{ "min-spare default above max-workers",
		  { W(1), W(2), D(5), D(10) }, 1, 2, 2, 2, { { NULL, NULL } } },
		{ "max-workers default, max-spare written above it",
		  { D(5), D(256), D(5), W(300) }, 5, 256, 5, 300,
		  { { "max-spare", "max-spare (300) is greater than max-workers "
		      "(256, the default)" } } },
		{ "min-spare > max-spare, both written",
		  { W(1), W(10), W(5), W(3) }, 1, 10, 5, 3,
		  { { "min-spare", "min-spare (5) is greater than max-spare "
		      "(3)" } } },
		{ "max-spare > max-workers, both written",
		  { W(1), W(8), D(5), W(9) }, 1, 8, 5, 9,
		  { { "max-spare", "max-spare (9) is greater than max-workers "
		      "(8)" } } },
		{ "min-spare > max-workers, max-spare left out",
		  { W(1), W(3), W(5), D(10) }, 1, 3, 5, 3,
		  { { "min-spare", "min-spare (5) is greater than max-workers "
		      "(3)" } } },
		{ "both spares above max-workers",
		  { W(1), W(3), W(5), W(4) }, 1, 3, 5, 4,
		  { { "min-spare", "min-spare (5) is greater than max-spare "
		      "(4)" },
		    { "max-spare", "max-spare (4) is greater than max-workers "
		      "(3)" } } },
		{ "spares for a fixed pool of workers written alone",
		  { W(4), D(256), W(2), D(10) }, 4, 0, 2, 10,
		  { { "min-spare", "min-spare and max-spare need max-workers "
		      "greater than workers (4)" } } },
		{ "max-workers < workers, both written",
		  { W(3), W(2), D(5), W(2) }, 3, 2, 5, 2,
		  { { "max-spare", "min-spare and max-spare need max-workers "
		      "greater than workers (3)" },
		    { "max-workers", "max-workers (2) is less than workers "
		      "(3)" } } },
		{ "max-workers = 0 written, workers left out",
		  { D(5), W(0), D(5), D(10) }, 5, 0, 5, 10,
		  { { "max-workers", "max-workers (0) is less than workers "
		      "(5, the default)" } } },
		{ "out of range: already reported", { W(0), W(2), D(5), D(10) },
		  0, 2, 5, 10, { { NULL, NULL } } },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct conf_pool_error err[CONF_POOL_ERRORS_MAX];
		struct server_conf s;
		size_t nexp = 0, n;

		memset(&s, 0, sizeof(s));
		memset(err, 0, sizeof(err));
		n = conf_pool_settle(&rows[i].in, &s, err);
		while (nexp < CONF_POOL_ERRORS_MAX &&
		       rows[i].err[nexp].option != NULL)
			nexp++;
		if (s.workers != rows[i].workers ||
		    s.max_workers != rows[i].max_workers ||
		    s.min_spare != rows[i].min_spare ||
		    s.max_spare != rows[i].max_spare)
			fail_msg("row %zu (%s): workers %d max-workers %d min-spare "
				 "%d max-spare %d, expected %d %d %d %d", i,
				 rows[i].name, s.workers, s.max_workers,
				 s.min_spare, s.max_spare, rows[i].workers,
				 rows[i].max_workers, rows[i].min_spare,
				 rows[i].max_spare);
		if (n != nexp)
			fail_msg("row %zu (%s): %zu error(s), expected %zu; first: "
				 "%s", i, rows[i].name, n, nexp,
				 n ? err[0].message : "(none)");
		for (size_t k = 0; k < n; k++)
			if (strcmp(err[k].option, rows[i].err[k].option) != 0 ||
			    strcmp(err[k].message, rows[i].err[k].message) != 0)
				fail_msg("row %zu (%s): error %zu is %s: '%s', "
					 "expected %s: '%s'", i, rows[i].name, k,
					 err[k].option, err[k].message,
					 rows[i].err[k].option,
					 rows[i].err[k].message);
	}
}

#undef W
#undef D

static void
test_paths(void **state)
{
	static const struct {
		const char *option;
		const char *value;
		bool in_dir;		/* expected is under the config's directory */
		const char *expected;
	} rows[] = {
		{ "pidfile", "preforkd.pid", true, "preforkd.pid" },
		{ "pidfile", "run/preforkd.pid", true, "run/preforkd.pid" },
		{ "pidfile", "../x.pid", true, "../x.pid" },
		{ "pidfile", "/var/run/x.pid", false, "/var/run/x.pid" },
		{ "error-log", "error.log", true, "error.log" },
		{ "error-log", "logs/error.log", true, "logs/error.log" },
		{ "error-log", "/var/log/preforkd.log", false,
		  "/var/log/preforkd.log" },
		{ "error-log", "stderr", false, "stderr" },
		{ "error-log", "syslog", false, "syslog" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		char text[512], path[PATH_MAX], want[PATH_MAX + 64], name[64];
		struct conf *conf;
		const char *got;

		snprintf(text, sizeof(text), "%s = \"%s\"\n" SERVER_MIN,
			 rows[i].option, rows[i].value);
		snprintf(want, sizeof(want), "%s%s%s", rows[i].in_dir ? dir : "",
			 rows[i].in_dir ? "/" : "", rows[i].expected);
		snprintf(name, sizeof(name), "row %zu (%s)", i, rows[i].value);
		conf = load_good(name, text, path, sizeof(path));
		got = strcmp(rows[i].option, "pidfile") == 0 ? conf->pidfile
							     : conf->error_log;
		if (got == NULL || strcmp(got, want) != 0) {
			char copy[PATH_MAX + 64];

			snprintf(copy, sizeof(copy), "%s", got ? got : "(null)");
			conf_free(conf);
			fail_msg("row %zu (%s = %s): '%s', expected '%s'", i,
				 rows[i].option, rows[i].value, copy, want);
		}
		conf_free(conf);
	}
}

/* conf_load_pidfile(): the pidfile past errors found after parsing. */
static void
test_load_pidfile(void **state)
{
	static const struct {
		const char *text;
		const char *expected;	/* under dir; NULL: refused */
		const char *message;	/* the first report, if any */
	} rows[] = {
		{ "pidfile = \"p.pid\"\n" SERVER_MIN, "p.pid", NULL },
		{ SERVER_MIN, NULL, NULL },	/* the default: absolute */
		/* Found only once parsed: the pidfile is still read. */
		{ "pidfile = \"p.pid\"\nuser = \"no-such-user-x\"\n"
		  SERVER_MIN, "p.pid", NULL },
		{ "pidfile = \"p.pid\"\n", "p.pid", NULL },
		{ "pidfile = \"p.pid\"\nserver a {\n  max-memory = \"12\"\n}\n",
		  "p.pid", NULL },
		/* Values out of range, not numbers, given twice: unread. */
		{ "pidfile = \"p.pid\"\nshutdown-timeout = -1\n"
		  "server a {\n  workers = 0\n  timeout = 10s\n"
		  "  backlog = \"\"\n  timeout = 1\n}\n", "p.pid", NULL },
		{ "pidfile = \"p.pid\"\nserver a {\n  handler = \"http\"\n"
		  "  http {\n    autoindex = maybe\n  }\n}\n", "p.pid", NULL },
		{ "pidfile = \"p.pid\"\npidfile = \"q.pid\"\n" SERVER_MIN, NULL,
		  ":2: option 'pidfile' is duplicate" },
		/* The file cannot be parsed, or names no pidfile. */
		{ "pidfile = \"\"\n" SERVER_MIN, NULL,
		  ":1: pidfile must name a file, not be empty" },
		{ "pidfile = \"p.pid\"\nworkers = 2\n", NULL,
		  ":2: no such option 'workers'" },
		{ "pidfile = \"p.pid\"\nserver a {\n", NULL,
		  ":2: '{' is never closed" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		char path[PATH_MAX], want[PATH_MAX + 64];
		struct collector c = { .n = 0 };
		char *got;
		bool ok;

		write_conf(rows[i].text, path, sizeof(path));
		got = conf_load_pidfile(path, collect, &c);
		if (rows[i].message != NULL) {
			ok = got == NULL && c.n > 0 &&
			     strstr(c.msg[0], rows[i].message) != NULL;
		} else if (rows[i].expected == NULL) {
			ok = got != NULL && got[0] == '/' && c.n == 0;
		} else {
			snprintf(want, sizeof(want), "%s/%s", dir,
				 rows[i].expected);
			ok = got != NULL && strcmp(got, want) == 0 && c.n == 0;
		}
		if (!ok) {
			dump_messages(&c);
			print_error("  got %s\n", got ? got : "(null)");
			free(got);
			fail_msg("row %zu: %zu report(s)", i, c.n);
		}
		free(got);
	}
}

static void
test_path_resolve(void **state)
{
	static const struct {
		const char *conf_path, *path, *expected;
	} rows[] = {
		{ "/etc/preforkd.conf", "run.pid", "/etc/run.pid" },
		{ "/etc/preforkd/preforkd.conf", "a/b.log", "/etc/preforkd/a/b.log" },
		{ "/preforkd.conf", "x", "/x" },
		{ "conf/preforkd.conf", "x.pid", "conf/x.pid" },
		{ "preforkd.conf", "x.pid", "x.pid" },
		{ "/etc/preforkd.conf", "/run/x.pid", "/run/x.pid" },
		{ "preforkd.conf", "/run/x.pid", "/run/x.pid" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		char *got = conf_path_resolve(rows[i].conf_path, rows[i].path);
		int differ = got == NULL || strcmp(got, rows[i].expected) != 0;
		char copy[PATH_MAX];

		snprintf(copy, sizeof(copy), "%s", got ? got : "(null)");
		free(got);
		if (differ)
			fail_msg("row %zu (%s, %s): '%s', expected '%s'", i,
				 rows[i].conf_path, rows[i].path, copy,
				 rows[i].expected);
	}
}

/* ---- comments ------------------------------------------------------------ */

static void
test_blank_comments(void **state)
{
	static const struct {
		const char *name;
		const char *in;
		const char *out;	/* a space a comment, newlines kept */
		size_t unclosed_line;
	} rows[] = {
		{ "no comment", "a = 1\nb = \"x\"\n", "a = 1\nb = \"x\"\n", 0 },
		{ "hash line", "# c\na = 1\n", " \na = 1\n", 0 },
		{ "hashes only", "###\n", " \n", 0 },
		{ "trailing hash", "a = 1 # one\n", "a = 1  \n", 0 },
		{ "slashes", "// c\na = 1 // d\n", " \na = 1  \n", 0 },
		{ "block on one line", "a /* b */ = 1\n", "a   = 1\n", 0 },
		{ "block after a word", "a /* b */b\n", "a  b\n", 0 },
		/* libconfuse reads on: "a/", then drops the '*'. */
		{ "no block inside a word", "a/* b */b\n", "a/* b */b\n", 0 },
		/* Nor a hash: refused by conf_dropped_char(), not cut short. */
		{ "no hash comment inside a word", "r = /srv/www#2 # x\n",
		  "r = /srv/www#2  \n", 0 },
		{ "hash after a string", "r = \"x\"# y\n", "r = \"x\" \n", 0 },
		{ "no hash comment after a variable", "r = ${D}#2 # x\n",
		  "r = ${D}#2  \n", 0 },
		{ "no line comment inside a path", "r = /srv/www//site\n",
		  "r = /srv/www//site\n", 0 },
		{ "line comment after a value", "r = /srv // site\n",
		  "r = /srv  \n", 0 },
		{ "block after a string", "r = \"x\"/* y */\n", "r = \"x\" \n",
		  0 },
		{ "block over lines", "/* a\nb\n*/x\n", " \n\nx\n", 0 },
		{ "empty block", "/**/x", " x", 0 },
		{ "block in a line comment", "# /* x\ny\n", " \ny\n", 0 },
		{ "line comment in a block", "/* # */x\n", " x\n", 0 },
		{ "hash in double quotes", "s = \"a#b//c/*d\"\n",
		  "s = \"a#b//c/*d\"\n", 0 },
		{ "hash in single quotes", "s = 'a#b' # c\n",
		  "s = 'a#b'  \n", 0 },
		{ "escaped quote in a string", "s = \"a\\\"#b\" # c\n",
		  "s = \"a\\\"#b\"  \n", 0 },
		{ "escaped single quote", "s = 'it\\'s # no' # yes\n",
		  "s = 'it\\'s # no'  \n", 0 },
		{ "comment at end, no newline", "a = 1 #x", "a = 1  ", 0 },
		{ "unclosed block, line 1", "/* a\nb\n", " \n\n", 1 },
		{ "unclosed block, line 3", "a\nb\nc /* d\n\n",
		  "a\nb\nc  \n\n", 3 },
		{ "/*/ does not close", "/*/ x\n", " \n", 1 },
		{ "a variable is kept whole", "a = ${X:-a/*b*/c#d} # e\n",
		  "a = ${X:-a/*b*/c#d}  \n", 0 },
		{ "escaped newline in a string counts",
		  "x = \"a\\\nb\"\n/* open\n", "x = \"a\\\nb\"\n \n", 3 },
		{ "empty text", "", "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		char buf[256];
		size_t line;

		snprintf(buf, sizeof(buf), "%s", rows[i].in);
		line = conf_blank_comments(buf);
		if (strcmp(buf, rows[i].out) != 0)
			fail_msg("row %zu (%s): \"%s\", expected \"%s\"", i,
				 rows[i].name, buf, rows[i].out);
		if (line != rows[i].unclosed_line)
			fail_msg("row %zu (%s): returned %zu, expected %zu", i,
				 rows[i].name, line, rows[i].unclosed_line);
	}
}

/* Comment characters inside quoted values are values. */
static void
test_comment_chars_in_strings(void **state)
{
	static const char text[] =
		"# leading comment\n"
		"pidfile = \"/run/a#b//c.pid\"   # the pid file\n"
		"error-log = '/tmp/*y*.log'\n"
		"server a {\n"
		"  listen = \"unix:/tmp//s#1.sock\" // a unix socket\n"
		"  handler = \"echo\" /* echo */\n"
		"}\n";
	char path[PATH_MAX];
	struct conf *conf;

	(void)state;
	conf = load_good("comment characters in strings", text, path,
			 sizeof(path));
	assert_string_equal(conf->pidfile, "/run/a#b//c.pid");
	assert_string_equal(conf->error_log, "/tmp/*y*.log");
	assert_string_equal(conf->servers[0].listen_text,
			    "unix:/tmp//s#1.sock");
	assert_int_equal(conf->servers[0].listen.family, AF_UNIX);
	conf_free(conf);
}

/* ---- errors ----------------------------------------------------------------- */

struct expect {
	int line;
	const char *message;	/* the whole text after "FILE:LINE: " */
};

struct error_row {
	const char *name;
	const char *text;
	struct expect exp[10];	/* in report order, up to message == NULL */
};

static void
check_errors(const struct error_row *rows, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		const struct error_row *row = &rows[i];
		char path[PATH_MAX];
		struct collector c;
		struct conf *conf = load_text(row->text, path, sizeof(path), &c);
		size_t nexp = 0;

		while (nexp < NROWS(row->exp) && row->exp[nexp].message != NULL)
			nexp++;
		if (conf != NULL) {
			conf_free(conf);
			dump_messages(&c);
			fail_msg("row %zu (%s): %s was accepted", i, row->name, path);
		}
		if (c.n != nexp) {
			dump_messages(&c);
			fail_msg("row %zu (%s): %zu message(s), expected %zu", i,
				 row->name, c.n, nexp);
		}
		for (size_t k = 0; k < nexp; k++) {
			char want[PATH_MAX + 1200];

			snprintf(want, sizeof(want), "%s:%d: %s", path,
				 row->exp[k].line, row->exp[k].message);
			if (strcmp(c.msg[k], want) != 0) {
				dump_messages(&c);
				fail_msg("row %zu (%s): message %zu is\n  '%s'\n"
					 "expected\n  '%s'", i, row->name, k,
					 c.msg[k], want);
			}
		}
	}
}

/* Rows of text and the one line a scan of it must name (0: none). */
struct line_row {
	const char *name;
	const char *text;
	size_t line;
};

static void
check_line_rows(const struct line_row *rows, size_t nrows,
		size_t (*scan)(const char *))
{
	for (size_t i = 0; i < nrows; i++) {
		size_t line = scan(rows[i].text);

		if (line != rows[i].line)
			fail_msg("row %zu (%s): %zu, expected %zu", i,
				 rows[i].name, line, rows[i].line);
	}
}

static void
test_unclosed_brace(void **state)
{
	static const struct line_row rows[] = {
		{ "balanced", "server a {\n  echo {\n  }\n}\n", 0 },
		{ "no braces", "a = 1\n", 0 },
		{ "server never closed", "a = 1\nserver a {\n  b = 2\n", 2 },
		{ "inner never closed", "server a {\n echo {\n}\n", 1 },
		{ "brace in a string", "server a {\n x = \"{\"\n}\n", 0 },
		{ "escaped quote in a string", "x = \"\\\"{\"\n", 0 },
		{ "stray closing brace", "}\n", 0 },
	};

	(void)state;
	check_line_rows(rows, NROWS(rows), conf_unclosed_brace);
}

static void
test_unclosed_variable(void **state)
{
	static const struct line_row rows[] = {
		{ "closed", "a = \"${X}/y\"\nb = \"${Y:-z}\"\n", 0 },
		{ "no variable", "a = \"$x {\"\n", 0 },
		{ "unclosed", "a = 1\nb = \"${LOGDIR/e.log\"\nc = \"}\"\n", 2 },
		{ "single quotes take no variable", "a = '${X'\n", 0 },
		{ "unquoted is the walk's own", "a = ${X}\n", 0 },
		{ "the first of two", "a = \"${A\"\nb = \"${B\"\n", 1 },
	};

	(void)state;
	check_line_rows(rows, NROWS(rows), conf_unclosed_variable);
}

static size_t
dropped_line(const char *text)
{
	char which = 0;
	size_t line = conf_dropped_char(text, &which);

	assert_true(line == 0 || which == '*' || which == '+' ||
		    which == '/' || which == '#');
	return line;
}

static void
test_empty_name(void **state)
{
	static const struct line_row rows[] = {
		{ "no empty string", "a = \"x\"\nserver s {\n b = 1\n}\n", 0 },
		{ "empty value", "a = \"\"\nb = ''\n", 0 },
		{ "empty values of a list", "a = { \"\", 'x', '' }\n", 0 },
		{ "empty arguments", "f(\"\", \"\")\n", 0 },
		{ "appended empty value", "a += \"\"\n", 0 },
		{ "empty title", "server \"\" {\n}\n", 0 },
		{ "alone before a section", "a = 1\n\"\"\nserver s {\n}\n", 2 },
		{ "as a name with a value", "a = 1\n'' = 2\n", 2 },
		{ "inside a section", "server s {\n b = 1\n \"\" = 3\n}\n", 3 },
		{ "after a section", "server s {\n}\n\"\"\n", 3 },
		{ "after a value on its line", "a = x \"\"\n", 1 },
		{ "after a list", "a = { 1 } ''\n", 1 },
		{ "after a variable", "a = ${X:-''} \"\"\n", 1 },
		{ "escaped quote is no empty string", "a = \"\\\"\"\n", 0 },
	};

	(void)state;
	check_line_rows(rows, NROWS(rows), conf_empty_name);
}

static void
test_dropped_char(void **state)
{
	static const struct line_row rows[] = {
		{ "none", "a = \"*:80\"\nb += { 'x+' }\n", 0 },
		{ "unquoted star", "a = 1\nlisten = *:80\n", 2 },
		{ "star at a path's end", "p = /status/*\n", 1 },
		{ "a block comment written on", "a = 4/* four */\n", 1 },
		{ "a lone plus", "a = 1\nb = +3\n", 2 },
		{ "a hash inside a word", "a = 1\nr = /srv/www#2\n", 2 },
		{ "a hash right after a word", "a = 4#four\n", 1 },
		{ "a hash in quotes", "r = \"/srv/www#2\"\n", 0 },
		{ "a hash after a variable", "t = ${X:-60}#c\n", 1 },
		{ "a variable keeps them", "a = ${X:-*+}\n", 0 },
	};

	(void)state;
	check_line_rows(rows, NROWS(rows), dropped_line);
}

static size_t
reassigned_line(const char *text)
{
	static const char *const names[] = { "pa", "sa" };
	size_t which = 9, line;

	line = conf_list_reassigned(text, names, 2, &which);
	assert_true(line == 0 || which < 2);
	return line;
}

static void
test_list_reassigned(void **state)
{
	static const struct line_row rows[] = {
		{ "once each", "s a {\n pa = { x }\n sa = { y }\n}\n", 0 },
		{ "grown with +=", "s a {\n pa = { x }\n pa += { y }\n}\n", 0 },
		{ "only +=", "pa += { x }\npa += y\n", 0 },
		{ "= after +=", "pa += { x }\npa = { y }\n", 2 },
		{ "given twice", "s a {\n pa = { x }\n pa = { y }\n}\n", 3 },
		{ "scalar form twice", "pa = x\npa = \"y\"\n", 2 },
		{ "one in each section", "s a {\n pa = x\n}\ns b {\n pa = y\n}\n",
		  0 },
		{ "inner section of its own", "s a {\n pa = x\n h {\n pa = y\n"
		  " }\n}\n", 0 },
		{ "a value named like it", "x = pa\npa = 1\n", 0 },
		{ "in a list", "x = { pa }\npa = { x }\n", 0 },
		{ "other names", "qa = 1\nqa = 2\n", 0 },
	};

	(void)state;
	check_line_rows(rows, NROWS(rows), reassigned_line);
}

static void
test_long_line(void **state)
{
	char text[64];

	(void)state;
	assert_int_equal(conf_long_line("", 4), 0);
	assert_int_equal(conf_long_line("abcd\nabcd", 4), 0);
	assert_int_equal(conf_long_line("abcd\nabcde\nabcdef\n", 4), 2);
	assert_int_equal(conf_long_line("a\n\nabcde", 4), 3);
	memset(text, ' ', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(conf_long_line(text, sizeof(text) - 1), 0);
	assert_int_equal(conf_long_line(text, sizeof(text) - 2), 1);
}

static void
test_split_string(void **state)
{
	static const struct line_row rows[] = {
		{ "strings on their lines", "a = \"x\"\nb = 'y'\n", 0 },
		{ "no strings", "a = 1\n", 0 },
		{ "missing closing quote", "a = 1\nb = \"x\nc = \"y\"\n", 2 },
		{ "single quotes too", "a = 'x\n'\n", 1 },
		{ "the other quote inside", "a = \"it's\"\nb = 'say \"hi\"'\n",
		  0 },
		{ "escaped quote inside", "a = \"x\\\"y\"\n", 0 },
		{ "continued by a backslash", "a = \"x\\\ny\"\n", 0 },
		{ "continued, then not closed", "a = 'x\\\ny\nz'\n", 1 },
		{ "a variable's quotes are no string",
		  "a = ${X:-\"}\nb = ${Y:-'}\n", 0 },
		{ "text ends inside a string", "a = 1\n\nb = \"x", 3 },
		{ "the first of two", "a = \"x\nb = \"\nc = \"z\n", 1 },
	};

	(void)state;
	check_line_rows(rows, NROWS(rows), conf_split_string);
}

static void
test_stray_semicolons(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		size_t lines[4];	/* up to a 0 */
	} rows[] = {
		{ "none", "a = 1\nb = \"x\"\n", { 0 } },
		{ "after a number", "a = 4;\n", { 1 } },
		{ "after a string, then more", "a = 1\nb = \"x\"; c = 2\n",
		  { 2 } },
		{ "after a brace, at the end", "s a {\n}\t;", { 2 } },
		{ "before a closing brace", "s a { b = 1;}\n", { 1 } },
		{ "two on a line: the line once", "a = 1; b = 2;\n", { 1 } },
		{ "inside a string", "a = \"x; y;\"\n", { 0 } },
		{ "inside an unquoted word", "a = x;y\n", { 0 } },
		{ "with CR LF", "a = 1;\r\nb = 2;\r\n", { 1, 2 } },
		/* A hash the blanker left after it: the ";" is said. */
		{ "then a hash", "a = 4;#four\n", { 1 } },
		{ "inside a variable", "a = ${X:-a; b}\nb = ${Y};\n", { 2 } },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		size_t lines[4], want = 0;
		size_t n = conf_stray_semicolons(rows[i].text, lines, 4);

		while (want < 4 && rows[i].lines[want] != 0)
			want++;
		if (n != want)
			fail_msg("row %zu (%s): %zu lines, expected %zu", i,
				 rows[i].name, n, want);
		for (size_t j = 0; j < n; j++)
			if (lines[j] != rows[i].lines[j])
				fail_msg("row %zu (%s): line %zu, expected %zu",
					 i, rows[i].name, lines[j],
					 rows[i].lines[j]);
	}
	assert_int_equal(conf_stray_semicolons("a;\nb;\nc;\n", NULL, 0), 0);
}

static void
test_escape_controls(void **state)
{
	char out[32];

	(void)state;
	conf_escape_controls(out, sizeof(out), "a\033[1mb\x7f\tc");
	assert_string_equal(out, "a\\x1b[1mb\\x7f\\x09c");
	/* Cut at a whole character: no half escape. */
	conf_escape_controls(out, 16, "a\033[1mb\x7f\tc");
	assert_string_equal(out, "a\\x1b[1mb\\x7f");
	conf_escape_controls(out, 6, "abc\001");
	assert_string_equal(out, "abc");
	conf_escape_controls(out, sizeof(out), "caf\xc3\xa9");
	assert_string_equal(out, "caf\xc3\xa9");
}

static void
test_section_lines(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		size_t n;
		int lines[4];		/* in the order the sections close */
	} rows[] = {
		{ "none", "a = 1\n", 0, { 0 } },
		{ "nested", "server a {\n  echo {\n  }\n}\n", 2, { 2, 1 } },
		{ "a list is no section",
		  "server a {\n  l = {\n \"x\" }\n}\n", 1, { 1 } },
		{ "a list after +=", "server a { l += { \"x\" } }\n", 1, { 1 } },
		{ "quoted title with braces",
		  "\nserver \"{}\"\n{\n}\nserver b {}\n", 2, { 3, 5 } },
		{ "escaped quote", "x = \"\\\"{\"\nserver a {\n}\n", 1, { 2 } },
		{ "stray closing brace", "}\nserver a {}\n", 1, { 2 } },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		int lines[8] = { 0 };
		size_t n = conf_section_lines(rows[i].text, lines, 8);

		if (n != rows[i].n)
			fail_msg("row %zu (%s): %zu sections, expected %zu", i,
				 rows[i].name, n, rows[i].n);
		for (size_t k = 0; k < n; k++)
			if (lines[k] != rows[i].lines[k])
				fail_msg("row %zu (%s): section %zu at line %d, "
					 "expected %d", i, rows[i].name, k,
					 lines[k], rows[i].lines[k]);
	}
	/* No room: the count stops at max. */
	assert_int_equal(conf_section_lines("a {}\nb {}\nc {}\n",
					    (int[2]){ 0 }, 2), 2);
}

#define SEMICOLON "';' is not part of the syntax: options are separated " \
		  "by white space or newlines"

static void
test_errors_syntax(void **state)
{
	static const struct error_row rows[] = {
		{ "file ends inside a section",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n",
		  { { 1, "'{' is never closed" } } },
		{ "section written twice",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  echo {\n"
		  "  }\n"
		  "  echo {\n"
		  "  }\n"
		  "}\n",
		  { { 7, "section 'echo' is duplicate" } } },
		{ "negative workers: one error, no follow-up",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  workers = -1\n"
		  "}\n",
		  { { 4, "workers must be 1..1024" } } },
		{ "unknown global option",
		  "log-level = \"info\"\n"
		  "bogus = 1\n"
		  SERVER_MIN,
		  { { 2, "no such option 'bogus'" } } },
		{ "unknown option in a server",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  bogus = 1\n"
		  "}\n",
		  { { 4, "no such option 'bogus'" } } },
		{ "server option at the top level",
		  "workers = 3\n"
		  SERVER_MIN,
		  { { 1, "no such option 'workers'" } } },
		{ "global option in a server",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  log-level = \"debug\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 3, "no such option 'log-level'" } } },
		{ "unknown option in the echo section",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  echo {\n"
		  "    buffer = 4096\n"
		  "  }\n"
		  "}\n",
		  { { 5, "no such option 'buffer'" } } },
		{ "wrong type: workers = \"abc\"",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  workers = \"abc\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 3, "invalid integer value for option 'workers'" } } },
		{ "wrong type: backlog = 1.5",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  backlog = 1.5\n"
		  "}\n",
		  { { 4, "invalid integer value for option 'backlog'" } } },
		{ "wrong type: shutdown-timeout = soon",
		  "shutdown-timeout = soon\n"
		  SERVER_MIN,
		  { { 1, "invalid integer value for option "
			 "'shutdown-timeout'" } } },
		{ "duplicate server name",
		  SERVER_MIN
		  "server a {\n"
		  "  listen = \"127.0.0.1:1\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 5, "found duplicate title 'a'" } } },
		{ "server without a name",
		  "server {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 1, "missing title for section 'server'" } } },
		{ "a string missing its closing quote",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 2, "a string opened on this line does not end on it: a "
			 "closing quote is missing" } } },
		{ "';' after options, each line named once",
		  "pidfile = \"x.pid\";\n"
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"; workers = 2;\n"
		  "  backlog = 5;\n"
		  "};\n",
		  { { 1, SEMICOLON }, { 4, SEMICOLON }, { 5, SEMICOLON },
		    { 6, SEMICOLON } } },
		{ "a control byte in a value is shown as \\xHH",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"e\033[2Jcho\"\n"
		  "}\n",
		  { { 3, "unknown handler 'e\\x1b[2Jcho'" } } },
	};

	(void)state;
	check_errors(rows, NROWS(rows));
}

static void
test_errors_range(void **state)
{
#define SRV(line3) \
	"server a {\n" \
	"  listen = \"127.0.0.1:0\"\n" \
	line3 \
	"  handler = \"echo\"\n" \
	"}\n"
	static const struct error_row rows[] = {
		{ "workers = 0", SRV("  workers = 0\n"),
		  { { 3, "workers must be 1..1024" } } },
		{ "workers = 5000", SRV("  workers = 5000\n"),
		  { { 3, "workers must be 1..1024" } } },
		{ "workers = 1025", SRV("  workers = 1025\n"),
		  { { 3, "workers must be 1..1024" } } },
		{ "backlog = 0", SRV("  backlog = 0\n"),
		  { { 3, "backlog must be 1..65535" } } },
		{ "backlog = 65536", SRV("  backlog = 65536\n"),
		  { { 3, "backlog must be 1..65535" } } },
		{ "timeout = -1", SRV("  timeout = -1\n"),
		  { { 3, "timeout must be 0..86400" } } },
		{ "timeout = 86401", SRV("  timeout = 86401\n"),
		  { { 3, "timeout must be 0..86400" } } },
		{ "max-requests = -1", SRV("  max-requests = -1\n"),
		  { { 3, "max-requests must be >= 0" } } },
		{ "max-requests-jitter = -1", SRV("  max-requests-jitter = -1\n"),
		  { { 3, "max-requests-jitter must be >= 0" } } },
		{ "max-memory = \"64MB\"", SRV("  max-memory = \"64MB\"\n"),
		  { { 3, "max-memory '64MB' is not a size such as 0, 65536, "
			 "512K, 64M or 2G" } } },
		{ "max-memory = 256 (no unit)", SRV("  max-memory = 256\n"),
		  { { 3, "max-memory '256' is 256 bytes, less than any worker: "
			 "give its unit, as in \"256M\" (0 means no limit)" } } },
		{ "max-memory = \"63K\"", SRV("  max-memory = \"63K\"\n"),
		  { { 3, "max-memory '63K' is less than any worker: at least "
			 "64K (0 means no limit)" } } },
		{ "max-workers = 2000", SRV("  max-workers = 2000\n"),
		  { { 3, "max-workers must be 0..1024" } } },
		{ "min-spare = -1 (dynamic pool)",
		  SRV("  max-workers = 8\n  min-spare = -1\n"),
		  { { 4, "min-spare must be 0..1024" } } },
		{ "max-spare = 0 (dynamic pool)",
		  SRV("  max-workers = 8\n  min-spare = 0\n  max-spare = 0\n"),
		  { { 5, "max-spare must be 1..1024" } } },
		{ "shutdown-timeout = 4000",
		  "shutdown-timeout = 4000\n" SERVER_MIN,
		  { { 1, "shutdown-timeout must be 0..3600" } } },
		{ "shutdown-timeout = -1",
		  "log-level = \"info\"\nshutdown-timeout = -1\n" SERVER_MIN,
		  { { 2, "shutdown-timeout must be 0..3600" } } },
		{ "echo buffer-size = 10",
		  SRV("  echo {\n    buffer-size = 10\n  }\n"),
		  { { 4, "buffer-size must be 512..1048576" } } },
		{ "echo buffer-size = 511",
		  SRV("  echo {\n\n    buffer-size = 511\n  }\n"),
		  { { 5, "buffer-size must be 512..1048576" } } },
		{ "echo buffer-size = 1048577",
		  SRV("  echo {\n    buffer-size = 1048577\n  }\n"),
		  { { 4, "buffer-size must be 512..1048576" } } },
	};
#undef SRV

	(void)state;
	check_errors(rows, NROWS(rows));
}

static void
test_errors_semantic(void **state)
{
	static const struct error_row rows[] = {
		{ "group without user",
		  "group = \"root\"\n"
		  SERVER_MIN,
		  { { 1, "group is set without user: workers take a group "
		      "only with a user (user alone brings its own group)" } } },
		{ "too many workers in all",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  workers = 1024\n"
		  "}\n"
		  "server b {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  workers = 1000\n"
		  "  max-workers = 1024\n"
		  "}\n"
		  "server c {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  workers = 1\n"
		  "}\n",
		  /* The line that opens the server that goes over. */
		  { { 12, "the servers together may have at most 2048 workers "
		      "(max-workers counted)" } } },
		{ "bad address: hostname",
		  "server a {\n"
		  "  listen = \"localhost:80\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 2, "listen: bad host 'localhost': use a numeric IPv4 "
			 "address, [IPv6] or *" } } },
		{ "bad address: port 65536",
		  "server a {\n"
		  "  handler = \"echo\"\n"
		  "\n"
		  "  listen = \"127.0.0.1:65536\"\n"
		  "}\n",
		  { { 4, "listen: port '65536' is not a number in 0..65535" } } },
		{ "bad address: relative unix path",
		  "server a {\n"
		  "  listen = \"unix:run/x.sock\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 2, "listen: unix socket path 'run/x.sock' must be "
			 "absolute" } } },
		{ "bad address: IPv6 without brackets",
		  "server a {\n"
		  "  listen = \"::1:80\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 2, "listen: bad address '::1:80': write IPv6 addresses "
			 "as [addr]:port" } } },
		{ "duplicate address: same",
		  "server a {\n"
		  "  listen = \"127.0.0.1:8080\"\n"
		  "  handler = \"echo\"\n"
		  "}\n"
		  "server b {\n"
		  "  handler = \"echo\"\n"
		  "  listen = \"127.0.0.1:8080\"\n"
		  "}\n",
		  { { 7, "listen '127.0.0.1:8080' is already used by server "
			 "'a'" } } },
		{ "duplicate address: wildcards",
		  "server a {\n"
		  "  listen = \"*:8080\"\n"
		  "  handler = \"echo\"\n"
		  "}\n"
		  "server b {\n"
		  "  listen = \"0.0.0.0:8080\"\n"
		  "  handler = \"echo\"\n"
		  "}\n"
		  "server c {\n"
		  "  listen = \"[::1]:8080\"\n"
		  "  handler = \"echo\"\n"
		  "}\n"
		  "server d {\n"
		  "  listen = \"127.0.0.1:8081\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 6, "listen '0.0.0.0:8080' is already used by server 'a'" },
		    { 10, "listen '[::1]:8080' is already used by server "
			  "'a'" } } },
		{ "duplicate address: unix path",
		  "server a {\n"
		  "  listen = \"unix:/tmp/x.sock\"\n"
		  "  handler = \"echo\"\n"
		  "}\n"
		  "server b {\n"
		  "  listen = \"unix:/tmp/x.sock\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 6, "listen 'unix:/tmp/x.sock' is already used by server "
			 "'a'" } } },
		{ "duplicate address: one unix path spelled two ways",
		  "server a {\n"
		  "  listen = \"unix:/tmp/x.sock\"\n"
		  "  handler = \"echo\"\n"
		  "}\n"
		  "server b {\n"
		  "  listen = \"unix:/tmp//./x.sock\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 6, "listen 'unix:/tmp//./x.sock' is already used by server "
			 "'a'" } } },
		{ "unknown handler",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"nope\"\n"
		  "}\n",
		  { { 3, "unknown handler 'nope'" } } },
		{ "unknown handler: its echo section is not checked",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"nope\"\n"
		  "  echo {\n"
		  "    buffer-size = 10\n"
		  "  }\n"
		  "}\n",
		  { { 3, "unknown handler 'nope'" } } },
		/* Reported at the foreign section's closing brace. */
		{ "section for another handler",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  http {\n"
		  "    root = \"/tmp\"\n"
		  "  }\n"
		  "}\n",
		  { { 4, "section 'http' given but server 'a' uses handler "
			 "'echo'" } } },
		{ "empty section for another handler",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  http {\n"
		  "  }\n"
		  "  echo {\n"
		  "  }\n"
		  "}\n",
		  { { 4, "section 'http' given but server 'a' uses handler "
			 "'echo'" } } },
		/* No 19-digit upper bound for a limit that has none. */
		{ "keepalive-requests = -1",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"http\"\n"
		  "  http {\n"
		  "    root = \"/tmp\"\n"
		  "    keepalive-requests = -1\n"
		  "  }\n"
		  "}\n",
		  { { 6, "keepalive-requests must be >= 0" } } },
		/* Resolved, "" names the configuration file's directory. */
		{ "empty pidfile",
		  "pidfile = \"\"\n" SERVER_MIN,
		  { { 1, "pidfile must name a file, not be empty" } } },
		{ "empty error-log",
		  "log-level = \"info\"\nerror-log = \"\"\n" SERVER_MIN,
		  { { 2, "error-log must be syslog, stderr or a file, not "
		      "empty" } } },
		{ "empty access-log",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  http {\n"
		  "    root = \"/\"\n"
		  "    access-log = \"\"\n"
		  "  }\n"
		  "}\n",
		  { { 5, "access-log must name a file or be \"off\", not be "
		      "empty" } } },
		/* Names reach log lines, the status table and metric labels. */
		{ "empty server name",
		  "server \"\" {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 1, "server name '' must be 1 to 63 printable ASCII "
		      "characters, no space" } } },
		{ "server name with a newline",
		  "server \"a\\nb\" {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 1, "server name 'a?b' must be 1 to 63 printable ASCII "
		      "characters, no space" } } },
		{ "server name with a space and UTF-8",
		  "server \"caf\xc3\xa9 bar\" {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 1, "server name 'caf?? bar' must be 1 to 63 printable "
		      "ASCII characters, no space" } } },
		{ "server name of 64 characters",
		  "server a123456789012345678901234567890123456789012345678901"
		  "234567890123 {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 1, "server name 'a123456789012345678901234567890123456789"
		      "012345678901234567890123' must be 1 to 63 "
		      "printable ASCII characters, no space" } } },
		/* "" would serve the configuration file's own directory. */
		{ "empty root",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  http {\n"
		  "    root = \"\"\n"
		  "  }\n"
		  "}\n",
		  { { 4, "root must name a directory, not be empty" } } },
		/* It would write headers of its own into every response. */
		{ "default-type with CR LF",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  http {\n"
		  "    root = \".\"\n"
		  "    default-type = \"text/plain\\r\\nX-Injected: 1\"\n"
		  "  }\n"
		  "}\n",
		  { { 5, "default-type must hold no control character (CR, "
			 "LF...) and no byte beyond ASCII" } } },
		{ "default-type not a media type",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  http {\n"
		  "    root = \".\"\n"
		  "    default-type = \"text\"\n"
		  "  }\n"
		  "}\n",
		  { { 5, "default-type must be a media type (type/subtype), "
			 "perhaps with parameters after ';'" } } },
		/* No line of its own: the line that opens the section. */
		{ "missing listen",
		  "server a {\n"
		  "  handler = \"echo\"\n"
		  "  workers = 2\n"
		  "}\n",
		  { { 1, "server 'a' has no listen address" } } },
		/* Lists in braces are not sections; a title may be quoted. */
		{ "missing listen, after a list and a one-line server",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  proxy-allow = {\n"
		  "    \"127.0.0.1\" }\n"
		  "}\n"
		  "server \"b{\" { handler = \"echo\" }\n",
		  { { 7, "server 'b{' has no listen address" } } },
		/* A list's entry is reported at its own line. */
		{ "bad proxy-allow entries",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  proxy-allow = {\n"
		  "    \"10.0.0.0/8\",\n"
		  "    \"10.0.0.0/99\",\n"
		  "    \"::1\", \"bogus\"\n"
		  "  }\n"
		  "}\n",
		  { { 6, "proxy-allow: '10.0.0.0/99': the prefix length must "
			 "be 0..32" },
		    { 7, "proxy-allow: 'bogus' is not a numeric IPv4 or IPv6 "
			 "address" } } },
		/* += keeps the defaults, which have no line of their own. */
		{ "bad proxy-allow entry appended",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  proxy-allow += { \"10.0.0.0/8\", \"1.2.3.4/33\" }\n"
		  "}\n",
		  { { 4, "proxy-allow: '1.2.3.4/33': the prefix length must "
			 "be 0..32" } } },
		{ "bad status-allow entry",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"http\"\n"
		  "  http {\n"
		  "    root = \".\"\n"
		  "    status-allow = { \"1.2.3.4\",\n"
		  "      \"::1/200\" }\n"
		  "  }\n"
		  "}\n",
		  { { 7, "status-allow: '::1/200': the prefix length must be "
			 "0..128" } } },
		{ "bad log-level",
		  "log-level = \"loud\"\n"
		  SERVER_MIN,
		  { { 1, "log-level 'loud' is not one of error, warning, "
			 "notice, info, debug" } } },
		{ "duplicate option in a server",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  workers = 2\n"
		  "  workers = 3\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 4, "option 'workers' is duplicate" } } },
		{ "duplicate listen in a server",
		  "server a {\n"
		  "  listen = \"127.0.0.1:1\"\n"
		  "  handler = \"echo\"\n"
		  "  listen = \"127.0.0.1:2\"\n"
		  "}\n",
		  { { 4, "option 'listen' is duplicate" } } },
		{ "duplicate global option",
		  "log-level = \"info\"\n"
		  "pidfile = \"a.pid\"\n"
		  "log-level = \"debug\"\n"
		  SERVER_MIN,
		  { { 3, "option 'log-level' is duplicate" } } },
		{ "duplicate option in the echo section",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  echo {\n"
		  "    buffer-size = 1024\n"
		  "    buffer-size = 2048\n"
		  "  }\n"
		  "}\n",
		  { { 6, "option 'buffer-size' is duplicate" } } },
		{ "user does not exist",
		  "pidfile = \"a.pid\"\n"
		  "user = \"" NO_USER "\"\n"
		  SERVER_MIN,
		  { { 2, "user '" NO_USER "' does not exist" } } },
		{ "group does not exist",
		  "user = \"root\"\n"
		  "group = \"" NO_GROUP "\"\n"
		  SERVER_MIN,
		  { { 2, "group '" NO_GROUP "' does not exist" } } },
		{ "no server section",
		  "log-level = \"info\"\n"
		  "pidfile = \"a.pid\"\n",
		  { { 3, "no server section: nothing to serve" } } },
		{ "empty file",
		  "",
		  { { 1, "no server section: nothing to serve" } } },
		{ "min-spare with workers, without max-workers",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  workers = 4\n"
		  "  min-spare = 2\n"
		  "}\n",
		  { { 5, "min-spare and max-spare need max-workers greater "
			 "than workers (4)" } } },
		{ "max-spare without max-workers",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  workers = 3\n"
		  "  handler = \"echo\"\n"
		  "  max-spare = 2\n"
		  "}\n",
		  { { 5, "min-spare and max-spare need max-workers greater "
			 "than workers (3)" } } },
		{ "min-spare with max-workers == workers",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  workers = 4\n"
		  "  max-workers = 4\n"
		  "  min-spare = 1\n"
		  "}\n",
		  { { 6, "min-spare and max-spare need max-workers greater "
			 "than workers (4)" } } },
		{ "min-spare > max-spare",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  max-workers = 10\n"
		  "  min-spare = 5\n"
		  "  max-spare = 3\n"
		  "}\n",
		  { { 5, "min-spare (5) is greater than max-spare (3)" } } },
		{ "max-spare > max-workers",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  max-workers = 8\n"
		  "  max-spare = 9\n"
		  "}\n",
		  { { 5, "max-spare (9) is greater than max-workers (8)" } } },
		{ "max-workers < workers",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  workers = 3\n"
		  "  max-workers = 2\n"
		  "}\n",
		  { { 5, "max-workers (2) is less than workers (3)" } } },
		{ "max-workers = 0 written",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  max-workers = 0\n"
		  "}\n",
		  { { 4, "max-workers (0) is less than workers (5, the "
			 "default)" } } },
		/* Only written values can disagree; the error names them. */
		{ "min-spare > max-workers, max-spare left out",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  handler = \"echo\"\n"
		  "  workers = 1\n"
		  "  max-workers = 3\n"
		  "  min-spare = 5\n"
		  "}\n",
		  { { 6, "min-spare (5) is greater than max-workers (3)" } } },
	};

	(void)state;
	check_errors(rows, NROWS(rows));
}

/* Comments do not shift the reported lines. */
static void
test_errors_after_comments(void **state)
{
	static const struct error_row rows[] = {
		{ "every comment kind before the errors",
		  "# preforkd test\n"					/* 1 */
		  "// another\n"					/* 2 */
		  "/* a block\n"					/* 3 */
		  "   comment */\n"					/* 4 */
		  "log-level = \"loud\"   # trailing\n"		/* 5 */
		  "server a {   // here\n"				/* 6 */
		  "  listen = \"127.0.0.1:0\"  /* inline */\n"		/* 7 */
		  "  workers = 0\n"					/* 8 */
		  "  handler = \"echo\"\n"				/* 9 */
		  "}\n",						/* 10 */
		  { { 5, "log-level 'loud' is not one of error, warning, "
			 "notice, info, debug" },
		    { 8, "workers must be 1..1024" } } },
		{ "many comment lines before a parse error",
		  "# 1\n# 2\n# 3\n# 4\n# 5\n# 6\n# 7\n# 8\n# 9\n"
		  "bogus = 1\n",
		  { { 10, "no such option 'bogus'" } } },
		{ "comments inside a server",
		  "server a {\n"
		  "  # the address\n"
		  "  listen = \"localhost:80\"\n"
		  "  // the handler\n"
		  "  handler = \"nope\"\n"
		  "}\n",
		  { { 3, "listen: bad host 'localhost': use a numeric IPv4 "
			 "address, [IPv6] or *" },
		    { 5, "unknown handler 'nope'" } } },
		{ "block comment never closed",
		  SERVER_MIN
		  "/* open\n"
		  "\n",
		  { { 5, "comment opened with /* is never closed" } } },
		{ "block comment never closed, errors before it",
		  "log-level = \"loud\"\n"
		  "/* open\n",
		  { { 2, "comment opened with /* is never closed" } } },
	};

	(void)state;
	check_errors(rows, NROWS(rows));
}

/*
 * Past CONF_ERRORS_SHOWN errors, those of the highest lines are counted
 * in one last line: a log-level error on line 1 (found after the parse),
 * 210 servers with five range errors each, and "at most 64 server
 * sections": 1052 errors.
 */
static void
test_errors_capped(void **state)
{
	static const char server[] =
		"server s%d {\n"
		"  listen = \"127.0.0.1:0\"\n"
		"  handler = \"echo\"\n"
		"  workers = 0\n"
		"  backlog = 0\n"
		"  timeout = -1\n"
		"  max-requests = -1\n"
		"  max-requests-jitter = -1\n"
		"}\n";
	static char text[210 * sizeof(server) + 32];
	char path[PATH_MAX], want[PATH_MAX + 128];
	struct collector c;
	size_t off = (size_t)snprintf(text, sizeof(text),
				      "log-level = \"loud\"\n");

	(void)state;
	for (int i = 0; i < 210; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, server,
					i);
	assert_null(load_text(text, path, sizeof(path), &c));
	assert_int_equal(c.n, CONF_ERRORS_SHOWN + 1);
	/* By line: line 1, found last, then the first server's. */
	snprintf(want, sizeof(want), "%s:1: log-level 'loud' is not one of "
		 "error, warning, notice, info, debug", path);
	assert_string_equal(c.msg[0], want);
	snprintf(want, sizeof(want), "%s:5: workers must be 1..1024", path);
	assert_string_equal(c.msg[1], want);
	snprintf(want, sizeof(want), "%s: %d more errors not shown", path,
		 1052 - CONF_ERRORS_SHOWN);
	assert_string_equal(c.last, want);
}

/* Independent errors in one file are all reported, in one run. */
static void
test_errors_all_reported(void **state)
{
	static const struct error_row rows[] = {
		{ "workers = 0 and backlog = 0",
		  "server a {\n"
		  "  listen = \"127.0.0.1:0\"\n"
		  "  workers = 0\n"
		  "  backlog = 0\n"
		  "  handler = \"echo\"\n"
		  "}\n",
		  { { 3, "workers must be 1..1024" },
		    { 4, "backlog must be 1..65535" } } },
		{ "the same error in two servers",
		  "server a {\n"
		  "  listen = \"127.0.0.1:1\"\n"
		  "  handler = \"nope\"\n"
		  "}\n"
		  "server b {\n"
		  "  listen = \"127.0.0.1:2\"\n"
		  "  handler = \"nope\"\n"
		  "}\n",
		  { { 3, "unknown handler 'nope'" },
		    { 7, "unknown handler 'nope'" } } },
		/*
		 * Range errors are reported as they are parsed, then globals,
		 * then each server: pool, listen, handler.
		 */
		{ "one of each",
		  "log-level = \"loud\"\n"				/* 1 */
		  "user = \"" NO_USER "\"\n"				/* 2 */
		  "shutdown-timeout = 4000\n"				/* 3 */
		  "server a {\n"					/* 4 */
		  "  listen = \"localhost:80\"\n"			/* 5 */
		  "  handler = \"echo\"\n"				/* 6 */
		  "  timeout = -1\n"					/* 7 */
		  "}\n"							/* 8 */
		  "server b {\n"					/* 9 */
		  "  listen = \"127.0.0.1:9\"\n"			/* 10 */
		  "  handler = \"nope\"\n"				/* 11 */
		  "}\n"							/* 12 */
		  "server c {\n"					/* 13 */
		  "  listen = \"127.0.0.1:9\"\n"			/* 14 */
		  "  handler = \"echo\"\n"				/* 15 */
		  "  max-workers = 10\n"				/* 16 */
		  "  min-spare = 5\n"					/* 17 */
		  "  max-spare = 3\n"					/* 18 */
		  "  echo {\n"						/* 19 */
		  "    buffer-size = 10\n"				/* 20 */
		  "  }\n"						/* 21 */
		  "}\n"							/* 22 */
		  "server d {\n"					/* 23 */
		  "  handler = \"echo\"\n"				/* 24 */
		  "}\n",						/* 25 */
		  /* Found option by option, reported by line. */
		  { { 1, "log-level 'loud' is not one of error, warning, "
			 "notice, info, debug" },
		    { 2, "user '" NO_USER "' does not exist" },
		    { 3, "shutdown-timeout must be 0..3600" },
		    { 5, "listen: bad host 'localhost': use a numeric IPv4 "
			 "address, [IPv6] or *" },
		    { 7, "timeout must be 0..86400" },
		    { 11, "unknown handler 'nope'" },
		    { 14, "listen '127.0.0.1:9' is already used by server 'b'" },
		    { 17, "min-spare (5) is greater than max-spare (3)" },
		    { 20, "buffer-size must be 512..1048576" },
		    { 23, "server 'd' has no listen address" } } },
	};

	(void)state;
	check_errors(rows, NROWS(rows));
}

/* Files that cannot be read: one message, "FILE: cannot open: ERROR". */
static void
test_unreadable_file(void **state)
{
	static const struct {
		const char *name;	/* under dir; "" = dir itself */
		int error;		/* 0: not a regular file */
	} rows[] = {
		{ "/no-such-file.conf", ENOENT },
		{ "/no-such-dir/preforkd.conf", ENOENT },
		{ "", EISDIR },
		/* With no writer: refused, not waited on. */
		{ "/fifo.conf", 0 },
	};
	char fifo[PATH_MAX];

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (size_t i = 0; i < NROWS(rows); i++) {
		char path[PATH_MAX], want[PATH_MAX + 128];
		struct collector c;
		struct conf *conf;

		memset(&c, 0, sizeof(c));
		snprintf(path, sizeof(path), "%s%s", dir, rows[i].name);
		conf = conf_load(path, collect, &c);
		if (conf != NULL) {
			conf_free(conf);
			fail_msg("row %zu (%s): accepted", i, path);
		}
		snprintf(want, sizeof(want), "%s: cannot open: %s", path,
			 rows[i].error != 0 ? strerror(rows[i].error) :
			 "not a regular file");
		if (c.n != 1 || strcmp(c.msg[0], want) != 0) {
			dump_messages(&c);
			fail_msg("row %zu (%s): %zu message(s), expected one: %s", i,
				 path, c.n, want);
		}
	}
	unlink(fifo);
}

/* No callback: errors still make conf_load fail, good files still load. */
static void
test_no_callback(void **state)
{
	char path[PATH_MAX];
	struct conf *conf;

	(void)state;
	write_conf("server a {\n  listen = \"127.0.0.1:0\"\n  workers = 0\n"
		   "  handler = \"echo\"\n}\n", path, sizeof(path));
	assert_null(conf_load(path, NULL, NULL));
	write_conf("log-level = \"loud\"\n" SERVER_MIN, path, sizeof(path));
	assert_null(conf_load(path, NULL, NULL));
	write_conf(SERVER_MIN, path, sizeof(path));
	conf = conf_load(path, NULL, NULL);
	assert_non_null(conf);
	assert_int_equal(conf->nservers, 1);
	conf_free(conf);
	conf_free(NULL);
}

/* Loads after a failed load start clean: no state is carried over. */
static void
test_load_after_error(void **state)
{
	char path[PATH_MAX];
	struct collector c;
	struct conf *conf;

	(void)state;
	conf = load_text("log-level = \"loud\"\n" SERVER_MIN, path, sizeof(path),
			 &c);
	assert_null(conf);
	assert_int_equal(c.n, 1);
	conf = load_text("log-level = \"debug\"\n" SERVER_MIN, path,
			 sizeof(path), &c);
	assert_int_equal(c.n, 0);
	assert_non_null(conf);
	assert_int_equal(conf->log_level, LOG_LEVEL_DEBUG);
	conf_free(conf);
}

/*
 * conf_verify() opens an http root as the workers will, conf_load()
 * leaves that to them.  As root the workers are nobody, kept out of the
 * root by the test directory (mkdtemp's 0700); otherwise they are this
 * user, kept out of a root of mode 0.
 */
/*
 * The pidfile is made at the start, in a directory that must exist: -t
 * says so, where the master's own loads (a reload keeps its pidfile),
 * and -t -p, do not look.
 */
static void
test_verify_pidfile_dir(void **state)
{
	static const char text[] =
		"pidfile = \"/no-such-dir-preforkd/p.pid\"\n"
		"server a {\n"
		"  listen = \"127.0.0.1:0\"\n"
		"  handler = \"echo\"\n"
		"}\n";
	char path[PATH_MAX], want[PATH_MAX + 128];
	struct collector c;
	struct conf *conf;

	(void)state;
	conf = load_text(text, path, sizeof(path), &c);
	if (conf == NULL || c.n != 0) {
		dump_messages(&c);
		fail_msg("conf_load() refused the pidfile's directory");
	}
	conf_free(conf);
	memset(&c, 0, sizeof(c));
	conf = conf_verify(path, true, collect, &c);
	snprintf(want, sizeof(want), "%s:1: pidfile: directory "
		 "/no-such-dir-preforkd does not exist", path);
	if (conf != NULL || c.n != 1 || strcmp(c.msg[0], want) != 0) {
		dump_messages(&c);
		conf_free(conf);
		fail_msg("conf_verify(): %zu message(s), expected one: %s", c.n,
			 want);
	}
	/* -t -p, or -s reload's check: the file's pidfile is not used. */
	memset(&c, 0, sizeof(c));
	conf = conf_verify(path, false, collect, &c);
	if (conf == NULL || c.n != 0) {
		dump_messages(&c);
		fail_msg("conf_verify() without the file's pidfile refused it");
	}
	conf_free(conf);
}

static void
test_verify_root(void **state)
{
	static const char text[] =
		"%s"
		"server www {\n"
		"  listen = \"127.0.0.1:0\"\n"
		"  handler = \"http\"\n"
		"  http {\n"
		"    root = \"%s\"\n"
		"  }\n"
		"}\n";
	bool as_root = geteuid() == 0;
	char root[PATH_MAX], conf_text[PATH_MAX + 256], path[PATH_MAX];
	char who[64], want[3 * PATH_MAX];
	struct collector c;
	struct conf *conf;

	(void)state;
	snprintf(root, sizeof(root), "%s/closed", dir);
	assert_int_equal(mkdir(root, as_root ? 0755 : 0), 0);
	snprintf(conf_text, sizeof(conf_text), text,
		 as_root ? "user = \"nobody\"\n" : "", "closed");
	conf = load_text(conf_text, path, sizeof(path), &c);
	if (c.n != 0 && as_root && strstr(c.msg[0], "does not exist")) {
		rmdir(root);
		print_message("# no user nobody: only conf_load() tried\n");
		return;
	}
	if (conf == NULL || c.n != 0) {
		dump_messages(&c);
		rmdir(root);
		fail_msg("conf_load() refused the root: %s", c.msg[0]);
	}
	conf_free(conf);

	memset(&c, 0, sizeof(c));
	conf = conf_verify(path, true, collect, &c);
	if (as_root)
		snprintf(who, sizeof(who), "user nobody");
	else
		snprintf(who, sizeof(who), "uid %d", (int)geteuid());
	snprintf(want, sizeof(want), "%s:%d: root '%s': not accessible to %s: "
		 "%s", path, as_root ? 6 : 5, root, who, strerror(EACCES));
	if (conf != NULL || c.n != 1 || strcmp(c.msg[0], want) != 0) {
		dump_messages(&c);
		conf_free(conf);
		rmdir(root);
		fail_msg("conf_verify(): %zu message(s), expected one: %s", c.n,
			 want);
	}

	/*
	 * Workers that keep root's identity, or a root open to this user:
	 * accepted.  (nobody's way to the build directory is not ours to
	 * open.)
	 */
	assert_int_equal(chmod(root, 0755), 0);
	snprintf(conf_text, sizeof(conf_text), text, "", "closed");
	write_conf(conf_text, path, sizeof(path));
	memset(&c, 0, sizeof(c));
	conf = conf_verify(path, true, collect, &c);
	rmdir(root);
	if (conf == NULL || c.n != 0) {
		dump_messages(&c);
		fail_msg("conf_verify() refused an open root: %s", c.msg[0]);
	}
	conf_free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_default_max_workers),
		cmocka_unit_test(test_load_pidfile),
		cmocka_unit_test(test_default_pools_share),
		cmocka_unit_test(test_server_count_limit),
		cmocka_unit_test(test_pool_settle),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_path_resolve),
		cmocka_unit_test(test_blank_comments),
		cmocka_unit_test(test_unclosed_brace),
		cmocka_unit_test(test_empty_name),
		cmocka_unit_test(test_dropped_char),
		cmocka_unit_test(test_unclosed_variable),
		cmocka_unit_test(test_list_reassigned),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_split_string),
		cmocka_unit_test(test_stray_semicolons),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_section_lines),
		cmocka_unit_test(test_comment_chars_in_strings),
		cmocka_unit_test(test_errors_syntax),
		cmocka_unit_test(test_errors_range),
		cmocka_unit_test(test_errors_semantic),
		cmocka_unit_test(test_errors_after_comments),
		cmocka_unit_test(test_errors_all_reported),
		cmocka_unit_test(test_errors_capped),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_no_callback),
		cmocka_unit_test(test_load_after_error),
		cmocka_unit_test(test_verify_root),
		cmocka_unit_test(test_verify_pidfile_dir),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}

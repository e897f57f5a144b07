/* SPDX-License-Identifier: BSD-2-Clause */
/* The configuration: libconfuse schema and validation -> plain structs. */
#ifndef PREFORKD_CONF_H
#define PREFORKD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <confuse.h>

#include "addr.h"
#include "identity.h"

struct handler;

#define CONF_MAX_WORKERS 1024
#define CONF_MAX_WORKERS_TOTAL (2 * CONF_MAX_WORKERS)
/* The scoreboard records the servers of two generations (SB_SERVERS_MAX). */
#define CONF_MAX_SERVERS 64
/* A server's name fits its scoreboard record (SB_NAME_MAX). */
#define CONF_SERVER_NAME_MAX 63
#define CONF_MAX_SIZE (16 * 1024 * 1024)
/* Errors of one file reported, by line; more are counted. */
#define CONF_ERRORS_SHOWN 1000
/*
 * The longest line, comments aside: libconfuse reads a long word or run
 * of blanks in quadratic time.
 */
#define CONF_LINE_MAX 65536
/*
 * The default pool, Apache prefork's: 5 started, 5..10 idle, up to 256.
 * It serves 64 concurrent keep-alive clients without making any queue:
 * the master grows it at once from the accept queue.
 */
#define CONF_DEFAULT_WORKERS 5
#define CONF_DEFAULT_MIN_SPARE 5
#define CONF_DEFAULT_MAX_SPARE 10
#define CONF_DEFAULT_MAX_WORKERS 256

struct server_conf {
	char *name;
	struct addr listen;
	char *listen_text;
	int listen_line;		/* in conf->path, for bind errors */
	int backlog;
	const struct handler *handler;
	void *hconf;
	int workers;			/* started; fixed pool size */
	int min_spare, max_spare;	/* dynamic pool, when max_workers > workers */
	int max_workers;
	long max_requests;		/* 0 = never recycle */
	long max_requests_jitter;	/* each worker's limit: + 0..this */
	uint64_t max_memory;		/* bytes of RSS; 0 = no limit */
	int timeout;			/* seconds without progress */
	int proxy_mode;			/* enum proxy_mode: PROXY header */
	struct addr_cidr *proxy_allow;	/* peers that must send it */
	size_t nproxy_allow;
};

struct conf {
	char *path;
	char *user, *group;		/* NULL: keep the master's identity */
	uid_t uid;
	gid_t gid;
	gid_t *groups;			/* the user's groups, for setgroups() */
	int ngroups;
	char *pidfile;
	char *error_log;		/* NULL: stderr with -n, else syslog */
	int log_level;
	int shutdown_timeout;
	int drain_delay;		/* seconds of serving after QUIT/WINCH */
	size_t nservers;
	struct server_conf *servers;
};

/* Called once per error, with "FILE:LINE: message". */
typedef void (*conf_report_fn)(void *arg, const char *message);

/*
 * Parses and validates path.  Every error found is reported; returns the
 * config, or NULL if there was any error.  The same code path serves
 * start-up, -t, -s reload and SIGHUP.
 */
struct conf *conf_load(const char *path, conf_report_fn report, void *arg);

/*
 * conf_load(), and the check an administrator asks for before a start
 * or a reload (-t, -s reload, -s upgrade): what the workers open
 * themselves, after their privilege drop (an http root), is opened by a
 * child that has taken their identity (conf_check_worker_open()).  The
 * master's own loads leave that to the workers, which fail with the
 * reason and fail the start or the reload cleanly.  With pidfile_used
 * (-t without -p), the pidfile's directory must exist too, as the start
 * needs it.
 */
struct conf *conf_verify(const char *path, bool pidfile_used,
			 conf_report_fn report, void *arg);

void conf_free(struct conf *conf);

/* Whom the workers become: conf's user, group and groups, as identified. */
struct identity_ids conf_worker_ids(const struct conf *conf);

/*
 * Only the pidfile path of the file at path, resolved as conf_load()
 * does, for -s stop, quit, reopen and status: they must reach a running
 * master even when the file on disk has since gained an error that does
 * not hide its pidfile (a root deleted, a bad option).  NULL after
 * reporting, if the file cannot be parsed or its pidfile is unusable.
 */
char *conf_load_pidfile(const char *path, conf_report_fn report, void *arg);

/*
 * For handlers' configure: reports "FILE:LINE: message" at the line of
 * option in section (or of the section itself when option is NULL or
 * was not written).
 */
void conf_error(cfg_t *section, const char *option, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same for entry index of a list option, at that entry's line. */
void conf_error_entry(cfg_t *section, const char *option, unsigned index,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * For the path of a file preforkd creates (a log, the pidfile): a file
 * missing is created when it is opened; a directory missing, or the
 * path a directory, is a conf_error() now, so that -t says it and a
 * reload is refused with FILE:LINE.
 */
void conf_check_file_dir(cfg_t *section, const char *option, const char *path);
/* "NAME must be MIN..MAX", or "NAME must be >= MIN" when max is LONG_MAX. */
const char *conf_range_message(const char *name, long min, long max);
/* That, and a symbolic link at a log's path that would not be followed. */
void conf_check_log_file(cfg_t *section, const char *option, const char *path);

/*
 * For a path the workers open themselves: under conf_verify() (else
 * nothing), open_fn(path) (0, or -1 with errno) runs in a child process
 * with the identity the workers will have, taken as a worker takes it
 * (identity_drop()) when they switch to user, and its failure is a
 * conf_error() at option: "root '/srv/www': not accessible to user
 * nobody: Permission denied".  Not as root, a config with a user is not
 * tried: only root can take that identity.
 */
void conf_check_worker_open(cfg_t *section, const char *option,
			    const char *path, int (*open_fn)(const char *path));

/* Resolves a relative path against the config file's directory. */
char *conf_path_resolve(const char *conf_path, const char *path);

/*
 * Replaces each comment (#, //, and block) of config text by one space, in
 * place, keeping its newlines and quoted strings: libconfuse miscounts
 * lines after comments, and takes time quadratic in the length of a run
 * of blanks.  Inside an unquoted word, "//", a slash-star and "#" are no
 * comment and are kept.  Returns 0, or the line of a block comment that is
 * never closed.
 */
size_t conf_blank_comments(char *text);

/* The first line of text longer than max bytes (newline aside), or 0. */
size_t conf_long_line(const char *text, size_t max);

/*
 * Copies in to out (outlen bytes with the '\0'), each control byte
 * (below 0x20, and 0x7f) written as \xHH; cut short at a whole character.
 */
void conf_escape_controls(char *out, size_t outlen, const char *in);

/*
 * The line where the first string of comment-free text opens that a
 * newline enters before it closes (or that the text ends in), or 0.  A
 * backslash before the newline continues the string: that one is fine.
 */
size_t conf_split_string(const char *text);

/*
 * The line of the first "${" in a double-quoted string of comment-free
 * text that has no '}' before the string closes, or 0.
 */
size_t conf_unclosed_variable(const char *text);

/*
 * The lines (up to max, each once) of comment-free text that have a ';'
 * outside strings that ends a word: "4;", "\"x\";", "};".  Returns how
 * many.
 */
size_t conf_stray_semicolons(const char *text, size_t *lines, size_t max);

/*
 * The line of the first empty string ("" or '') of comment-free text where
 * an option's name belongs, or 0: libconfuse stops there without a word.
 */
size_t conf_empty_name(const char *text);

/*
 * The line of the first '*', '#' (left by conf_blank_comments() only
 * inside a word), or '+' not followed by '=', outside the strings of
 * comment-free text, or 0: libconfuse drops or misreads them.  *which is
 * that character, or '/' for a slash and star that follow a word.
 */
size_t conf_dropped_char(const char *text, char *which);

/*
 * The line where comment-free text gives one of names (list options) a
 * second time with '=' in one section, its index in *which; or 0.
 */
size_t conf_list_reassigned(const char *text, const char *const *names,
			    size_t nnames, size_t *which);

/* The line of the innermost '{' never closed in comment-free text, or 0. */
size_t conf_unclosed_brace(const char *text);

/*
 * The lines where the sections of comment-free text open (a '{' not after
 * '=', which opens a list), in the order the sections close, as a parser
 * finishes them: up to max in lines[].  Returns how many there are.
 */
size_t conf_section_lines(const char *text, int *lines, size_t max);

/*
 * Calls fn for every option of the schema, sections included, with the
 * name of the section it belongs to ("" at the top, "server", "http"...):
 * the documentation is checked against this.
 */
void conf_schema_walk(void (*fn)(const char *section, const char *option,
				 void *arg), void *arg);

bool conf_pool_is_dynamic(const struct server_conf *s);

/* "0", "65536", "512K", "64M", "2G" (binary units) -> bytes; 0 or -1. */
int conf_parse_size(const char *text, uint64_t *out);
/* 1 to CONF_SERVER_NAME_MAX bytes of printable ASCII, no space. */
bool conf_server_name_ok(const char *name);

/* A pool option: its value (the default if left out), and if written. */
struct conf_pool_opt {
	int value;
	bool written;
};

struct conf_pool_spec {
	struct conf_pool_opt workers, max_workers, min_spare, max_spare;
};

#define CONF_POOL_ERRORS_MAX 2

struct conf_pool_error {
	const char *option;		/* the one to change, written */
	char message[160];
};

/*
 * PURE: the max-workers of each of n_default pools that leave both
 * workers and max-workers out, when the other servers take `taken` of
 * the CONF_MAX_WORKERS_TOTAL (each its max-workers, or workers where
 * larger): CONF_DEFAULT_MAX_WORKERS, or an equal share of what is left
 * when that is less, so that many servers left at the defaults fit
 * together.  At least 1; what still does not fit, the total check
 * reports.
 */
int conf_default_max_workers(size_t taken, size_t n_default);

/*
 * Sets s's pool sizes from what was written, deriving the options left
 * out from it (workers at most max-workers, max-spare at most
 * max-workers, min-spare at most max-spare), so that an error never
 * blames a default.  Returns the number of errors put in err.
 */
size_t conf_pool_settle(const struct conf_pool_spec *in, struct server_conf *s,
			struct conf_pool_error err[CONF_POOL_ERRORS_MAX]);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The configuration: libconfuse schema and validation -> plain structs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "handler.h"
#include "identity.h"
#include "log.h"
#include "pidfile.h"
#include "proxy.h"
#include "regfile.h"

/*
 * libconfuse gives no user pointer to its callbacks, so one load at a time
 * keeps its state here: where errors go, and on which line each option was
 * written (libconfuse remembers only a section's closing line).
 */
struct option_line {
	cfg_t *section;
	const char *name;
	unsigned index;		/* of a list's entry; 0 for a scalar */
	int line;
};

static struct {
	conf_report_fn report;
	void *arg;
	const char *path;
	int errors;
	struct option_line *lines;
	size_t nlines, capacity;
	int default_max_workers;	/* for pools left at the defaults */
	int *opened;			/* conf_section_lines() of the text */
	size_t nopened, nclosed;
	bool pidfile_only;		/* conf_load_pidfile(): values unread */
	cfg_t *list_section;		/* the last list entry validated */
	cfg_opt_t *list_opt;
	unsigned list_size;
	bool verify;			/* conf_verify(): what a start will need */
	bool verify_pidfile;		/* and its pidfile is the file's */
	const struct conf *conf;	/* being loaded */
	bool identity_ok;		/* its user and groups were found */
	struct held_error *held;	/* reported at the end, by line */
	size_t nheld, held_cap, unshown;
	size_t held_seq;		/* errors held so far */
	size_t held_last;		/* the held error of the highest line */
} load;

struct range {
	const char *name;
	long min, max;
};

static const struct range ranges[] = {
	{ "shutdown-timeout", 0, 3600 },
	{ "drain-delay", 0, 3600 },
	{ "backlog", 1, 65535 },
	{ "workers", 1, CONF_MAX_WORKERS },
	{ "min-spare", 0, CONF_MAX_WORKERS },
	{ "max-spare", 1, CONF_MAX_WORKERS },
	{ "max-workers", 0, CONF_MAX_WORKERS },
	{ "max-requests", 0, LONG_MAX },
	{ "max-requests-jitter", 0, LONG_MAX },
	{ "timeout", 0, 86400 },
};

static void report_v(const char *, int, const char *, va_list)
	__attribute__((format(printf, 3, 0)));
static void report_at(int, const char *, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Control bytes of the configuration (an escape sequence in a value) as
 * \xHH: a message goes to a terminal or a log, where they would act.
 */
void
conf_escape_controls(char *out, size_t outlen, const char *in)
{
	size_t n = 0;

	if (outlen == 0)
		return;
	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;
		bool plain = c >= 0x20 && c != 0x7f;

		if (n + (plain ? 1 : 4) >= outlen)
			break;
		if (plain)
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, outlen - n, "\\x%02x", c);
	}
	out[n] = '\0';
}

/*
 * An error kept until the whole file is checked: the checks run option
 * by option and server by server, not line by line, and an
 * administrator reads the errors from the top (and a reload quotes the
 * first).  seq keeps the order of errors of one line.
 */
struct held_error {
	int line;
	size_t seq;
	char *message;
};

static int held_cmp(const void *a, const void *b);

/*
 * Full: the error of the highest line makes room for one of a lower
 * line (found late, as the global options are checked after the parse).
 */
static void
error_replace(int line, const char *message)
{
	struct held_error *last = &load.held[load.held_last];
	char *copy;

	load.unshown++;
	if (line >= last->line || (copy = strdup(message)) == NULL)
		return;
	free(last->message);
	*last = (struct held_error){ line, load.held_seq++, copy };
	for (size_t i = 0; i < load.nheld; i++)
		if (held_cmp(&load.held[i], &load.held[load.held_last]) > 0)
			load.held_last = i;
}

/* false: not kept (no memory), to be reported now. */
static bool
error_hold(int line, const char *message)
{
	struct held_error *h;

	if (load.nheld == CONF_ERRORS_SHOWN) {
		error_replace(line, message);
		return true;
	}
	if (load.nheld == load.held_cap) {
		size_t cap = load.held_cap ? load.held_cap * 2 : 16;

		if ((h = realloc(load.held, cap * sizeof(*h))) == NULL)
			return false;
		load.held = h;
		load.held_cap = cap;
	}
	h = &load.held[load.nheld];
	if ((h->message = strdup(message)) == NULL)
		return false;
	h->line = line;
	h->seq = load.held_seq++;
	if (load.nheld == 0 || held_cmp(h, &load.held[load.held_last]) > 0)
		load.held_last = load.nheld;
	load.nheld++;
	return true;
}

static int
held_cmp(const void *a, const void *b)
{
	const struct held_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Reports the held errors by line, and how many more were found. */
static void
errors_flush(void)
{
	char more[PATH_MAX + 64];

	if (load.nheld > 1)
		qsort(load.held, load.nheld, sizeof(*load.held), held_cmp);
	for (size_t i = 0; i < load.nheld; i++) {
		if (load.report != NULL)
			load.report(load.arg, load.held[i].message);
		free(load.held[i].message);
	}
	if (load.unshown > 0 && load.report != NULL) {
		snprintf(more, sizeof(more), "%s: %zu more error%s not shown",
			 load.path, load.unshown, load.unshown == 1 ? "" : "s");
		load.report(load.arg, more);
	}
	free(load.held);
	load.held = NULL;
	load.nheld = load.held_cap = load.unshown = 0;
	load.held_seq = load.held_last = 0;
}

const char *
conf_range_message(const char *name, long min, long max)
{
	static char msg[160];

	/* No 19-digit bound for "none". */
	if (max == LONG_MAX)
		snprintf(msg, sizeof(msg), "%s must be >= %ld", name, min);
	else
		snprintf(msg, sizeof(msg), "%s must be %ld..%ld", name, min,
			 max);
	return msg;
}

static void
report_v(const char *file, int line, const char *fmt, va_list ap)
{
	char msg[PATH_MAX + 1024], shown[sizeof(msg)];
	int len;

	len = snprintf(msg, sizeof(msg), "%s:%d: ", file ? file : load.path,
		       line);
	/* A path near PATH_MAX leaves no room: the message is cut, not spilt. */
	if (len >= 0 && (size_t)len < sizeof(msg) - 1)
		vsnprintf(msg + len, sizeof(msg) - (size_t)len, fmt, ap);
	load.errors++;
	conf_escape_controls(shown, sizeof(shown), msg);
	if (!error_hold(line, shown) && load.report != NULL)
		load.report(load.arg, shown);
}

static void
report_at(int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_v(NULL, line, fmt, ap);
	va_end(ap);
}

static void confuse_error(cfg_t *, const char *, va_list)
	__attribute__((format(printf, 2, 0)));

static void
confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	report_v(cfg && cfg->filename ? cfg->filename : NULL,
		 cfg ? cfg->line : 0, fmt, ap);
}

static int
entry_line(cfg_t *section, const char *name, unsigned index)
{
	for (size_t i = 0; i < load.nlines; i++)
		if (load.lines[i].section == section &&
		    load.lines[i].index == index &&
		    strcmp(load.lines[i].name, name) == 0)
			return load.lines[i].line;
	return 0;
}

static int
option_line(cfg_t *section, const char *name)
{
	return entry_line(section, name, 0);
}

static void
remember_entry(cfg_t *section, const char *name, unsigned index, int line)
{
	if (load.nlines == load.capacity) {
		size_t cap = load.capacity ? load.capacity * 2 : 32;
		struct option_line *p = realloc(load.lines, cap * sizeof(*p));

		if (p == NULL)
			return;
		load.lines = p;
		load.capacity = cap;
	}
	load.lines[load.nlines++] =
		(struct option_line){ section, name, index, line };
}

static void
remember_line(cfg_t *section, const char *name, int line)
{
	remember_entry(section, name, 0, line);
}

/* A list's defaults, or an earlier '=' of it, are replaced by the file. */
static void
move_entry(cfg_t *section, const char *name, unsigned index, int line)
{
	for (size_t i = 0; i < load.nlines; i++)
		if (load.lines[i].section == section &&
		    load.lines[i].index == index &&
		    strcmp(load.lines[i].name, name) == 0) {
			load.lines[i].line = line;
			return;
		}
	remember_entry(section, name, index, line);
}

/*
 * Where a section opens: libconfuse's own line for it is where it
 * closed, and "server 'www' has no listen address" should point at
 * "server www {".
 */
static int
section_line(cfg_t *section)
{
	int line = option_line(section, "{");

	/* Only while the scan and libconfuse agree on every section. */
	if (load.nclosed != load.nopened)
		line = 0;
	return line != 0 ? line : section->line;
}

/* Where an error about option (NULL: the section) is reported. */
static int
error_line(cfg_t *section, const char *option)
{
	int line = option ? option_line(section, option) : 0;

	return line != 0 ? line : section_line(section);
}

void
conf_error(cfg_t *section, const char *option, const char *fmt, ...)
{
	va_list ap;
	int line = error_line(section, option);

	va_start(ap, fmt);
	report_v(NULL, line, fmt, ap);
	va_end(ap);
}

void
conf_error_entry(cfg_t *section, const char *option, unsigned index,
		 const char *fmt, ...)
{
	va_list ap;
	int line = entry_line(section, option, index);

	/* An entry of the defaults, appended to with +=, has no line. */
	if (line == 0)
		line = section_line(section);
	va_start(ap, fmt);
	report_v(NULL, line, fmt, ap);
	va_end(ap);
}

/*
 * Runs as each option is parsed: line, duplicates, ranges.  For a list
 * it runs after each entry, then once more at the closing brace.
 */
static int
validate_option(cfg_t *cfg, cfg_opt_t *opt)
{
	if (opt->flags & CFGF_LIST) {
		unsigned n = cfg_opt_size(opt);
		/* The closing brace's call repeats the last entry's. */
		bool repeat = load.list_section == cfg &&
			      load.list_opt == opt && load.list_size == n;

		if (n > 0 && !repeat)
			move_entry(cfg, opt->name, n - 1, cfg->line);
		load.list_section = cfg;
		load.list_opt = opt;
		load.list_size = n;
		return 0;
	}
	load.list_opt = NULL;
	/*
	 * -s stop or reopen reads the pidfile alone: an edit not yet
	 * reloaded must not keep the administrator from the master.
	 */
	if (load.pidfile_only && strcmp(opt->name, "pidfile") != 0)
		return 0;
	if (option_line(cfg, opt->name) != 0) {
		cfg_error(cfg, "option '%s' is duplicate", opt->name);
		return 0;
	}
	remember_line(cfg, opt->name, cfg->line);
	if (opt->type != CFGT_INT)
		return 0;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		long v = cfg_opt_getnint(opt, 0);

		if (strcmp(ranges[i].name, opt->name) != 0)
			continue;
		if (v < ranges[i].min || v > ranges[i].max)
			cfg_error(cfg, "%s", conf_range_message(opt->name,
					ranges[i].min, ranges[i].max));
	}
	/* Errors are counted, not fatal, so one run reports all of them. */
	return 0;
}

/* Runs as a section closes: remembers that it was written. */
static int
validate_section(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	/* Sections close in the order conf_section_lines() lists them. */
	int opened = load.nclosed < load.nopened ?
		     load.opened[load.nclosed] : 0;

	load.nclosed++;
	if (opened != 0)
		remember_line(sec, "{", opened);
	/* libconfuse silently merges a repeated single section. */
	if (!(opt->flags & CFGF_MULTI) && option_line(cfg, opt->name) != 0)
		cfg_error(cfg, "section '%s' is duplicate", opt->name);
	else
		remember_line(cfg, opt->name, opened != 0 ? opened : sec->line);
	return 0;
}

/*
 * libconfuse's own reading of an integer, but for the empty value it
 * takes as 0: 'timeout = ""', or an unset ${VAR}, would otherwise turn
 * a limit off without a word.
 */
static int
parse_int(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	char *end;
	long v;

	/* Not read by conf_load_pidfile(), which must not fail on it. */
	if (load.pidfile_only) {
		*(long *)result = 0;
		return 0;
	}
	if (value == NULL || value[strspn(value, " \t")] == '\0') {
		cfg_error(cfg, "option '%s' has an empty value: a number is "
			  "needed", opt->name);
		return -1;
	}
	errno = 0;
	v = strtol(value, &end, 0);
	if (*end != '\0') {
		cfg_error(cfg, "invalid integer value for option '%s'",
			  opt->name);
		return -1;
	}
	if (errno == ERANGE) {
		cfg_error(cfg, "integer value for option '%s' is out of range",
			  opt->name);
		return -1;
	}
	*(long *)result = v;
	return 0;
}

static void
install_validators(cfg_t *cfg, cfg_opt_t *opts, const char *prefix)
{
	for (cfg_opt_t *o = opts; o->name != NULL; o++) {
		char path[256];

		snprintf(path, sizeof(path), "%s%s", prefix, o->name);
		if (o->type == CFGT_SEC) {
			char sub[sizeof(path) + 2];

			cfg_set_validate_func(cfg, path, validate_section);
			snprintf(sub, sizeof(sub), "%s|", path);
			install_validators(cfg, o->subopts, sub);
		} else {
			cfg_set_validate_func(cfg, path, validate_option);
		}
	}
}

/* libconfuse's reading of a boolean, but not for conf_load_pidfile(). */
static int
parse_bool(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	/* libconfuse's cfg_setopt() reads the result as an int. */
	int b = load.pidfile_only ? 0 : cfg_parse_boolean(value);

	if (b == -1) {
		cfg_error(cfg, "invalid boolean value for option '%s'",
			  opt->name);
		return -1;
	}
	*(int *)result = b;
	return 0;
}

/* Before cfg_init(), which copies the options with their callbacks. */
static void
install_parsers(cfg_opt_t *opts)
{
	for (cfg_opt_t *o = opts; o->name != NULL; o++) {
		if (o->type == CFGT_SEC)
			install_parsers(o->subopts);
		else if (o->type == CFGT_INT)
			o->parsecb = parse_int;
		else if (o->type == CFGT_BOOL)
			o->parsecb = parse_bool;
	}
}

static cfg_opt_t *
server_options(void)
{
	static cfg_opt_t opts[32];
	static const cfg_opt_t common[] = {
		CFG_STR("listen", NULL, CFGF_NODEFAULT),
		CFG_INT("backlog", 511, CFGF_NONE),
		CFG_STR("handler", "http", CFGF_NONE),
		CFG_INT("workers", CONF_DEFAULT_WORKERS, CFGF_NONE),
		CFG_INT("min-spare", CONF_DEFAULT_MIN_SPARE, CFGF_NONE),
		CFG_INT("max-spare", CONF_DEFAULT_MAX_SPARE, CFGF_NONE),
		CFG_INT("max-workers", CONF_DEFAULT_MAX_WORKERS, CFGF_NONE),
		CFG_INT("max-requests", 0, CFGF_NONE),
		CFG_INT("max-requests-jitter", 0, CFGF_NONE),
		CFG_STR("max-memory", "0", CFGF_NONE),
		CFG_INT("timeout", 60, CFGF_NONE),
		CFG_STR("proxy-protocol", "off", CFGF_NONE),
		CFG_STR_LIST("proxy-allow", "{127.0.0.0/8, ::1, unix}", CFGF_NONE),
	};
	size_t n = 0;

	if (opts[0].name != NULL)
		return opts;
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		opts[n++] = common[i];
	for (size_t i = 0; handlers[i] != NULL; i++) {
		cfg_opt_t sec = CFG_SEC(handlers[i]->name,
					handlers[i]->options, CFGF_NONE);
		opts[n++] = sec;
	}
	opts[n] = (cfg_opt_t)CFG_END();
	return opts;
}

static cfg_t *
schema_init(void)
{
	cfg_opt_t opts[] = {
		CFG_STR("user", NULL, CFGF_NODEFAULT),
		CFG_STR("group", NULL, CFGF_NODEFAULT),
		CFG_STR("pidfile", PIDFILE_DEFAULT, CFGF_NONE),
		CFG_STR("error-log", NULL, CFGF_NODEFAULT),
		CFG_STR("log-level", "info", CFGF_NONE),
		CFG_INT("shutdown-timeout", 30, CFGF_NONE),
		CFG_INT("drain-delay", 0, CFGF_NONE),
		CFG_SEC("server", server_options(),
			CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_END()
	};
	cfg_t *cfg;

	install_parsers(opts);
	if ((cfg = cfg_init(opts, CFGF_NONE)) == NULL)
		return NULL;
	cfg_set_error_function(cfg, confuse_error);
	install_validators(cfg, opts, "");
	return cfg;
}

static void
walk_options(const cfg_opt_t *opts, const char *section,
	     void (*fn)(const char *, const char *, void *), void *arg)
{
	for (const cfg_opt_t *o = opts; o->name != NULL; o++) {
		fn(section, o->name, arg);
		if (o->type == CFGT_SEC)
			walk_options(o->subopts, o->name, fn, arg);
	}
}

void
conf_schema_walk(void (*fn)(const char *section, const char *option,
			    void *arg), void *arg)
{
	cfg_t *cfg = schema_init();

	if (cfg == NULL)
		return;
	walk_options(cfg->opts, "", fn, arg);
	cfg_free(cfg);
}

char *
conf_path_resolve(const char *conf_path, const char *path)
{
	const char *slash;
	char *out;
	size_t dirlen;

	if (path[0] == '/' || (slash = strrchr(conf_path, '/')) == NULL)
		return strdup(path);
	dirlen = (size_t)(slash - conf_path);
	if ((out = malloc(dirlen + 1 + strlen(path) + 1)) == NULL)
		return NULL;
	memcpy(out, conf_path, dirlen);
	out[dirlen] = '/';
	strcpy(out + dirlen + 1, path);
	return out;
}

void
conf_check_file_dir(cfg_t *section, const char *option, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	char *dir;

	if (slash == NULL)
		return;		/* beside a config named without a directory */
	if ((dir = strndup(path, slash == path ? 1 : (size_t)(slash - path))) ==
	    NULL)
		return;
	if (stat(dir, &st) == -1) {
		/* EACCES and the like: for the open to say, as root. */
		if (errno == ENOENT || errno == ENOTDIR)
			conf_error(section, option, "%s: directory %s does not "
				   "exist", option, dir);
	} else if (!S_ISDIR(st.st_mode)) {
		conf_error(section, option, "%s: %s is not a directory", option,
			   dir);
	} else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		conf_error(section, option, "%s: %s is a directory, not a file",
			   option, path);
	}
	free(dir);
}

void
conf_check_log_file(cfg_t *section, const char *option, const char *path)
{
	uid_t owner;

	conf_check_file_dir(section, option, path);
	/* As log_file_open() will refuse it, at start or reload. */
	if (log_link_refused(path, &owner))
		conf_error(section, option, "%s: %s is %s", option, path,
			   log_link_refusal(owner));
}

void
conf_check_worker_open(cfg_t *section, const char *option, const char *path,
		       int (*open_fn)(const char *path))
{
	const struct conf *conf = load.conf;
	struct identity_ids ids, *as = NULL;
	char who[320], err[512];
	int rc, fn_errno;

	if (!load.verify || conf == NULL || !load.identity_ok)
		return;
	if (conf->user != NULL) {
		/*
		 * Workers switch only under a master that runs as root, and
		 * only root can take their identity to try it.
		 */
		if (geteuid() != 0)
			return;
		ids = conf_worker_ids(conf);
		as = &ids;
		snprintf(who, sizeof(who), "user %s", conf->user);
	} else {
		/* The workers keep the identity of whoever starts them. */
		snprintf(who, sizeof(who), "uid %d", (int)geteuid());
	}
	rc = identity_try(as, open_fn, path, &fn_errno, err, sizeof(err));
	if (rc == 1)
		conf_error(section, option, "%s '%s': not accessible to %s: %s",
			   option, path, who, strerror(fn_errno));
	else if (rc == -1)
		conf_error(section, option, "%s '%s': cannot be tried as %s: "
			   "%s", option, path, who, err);
}

static char *
resolve_log_target(const char *conf_path, const char *target)
{
	if (target == NULL)
		return NULL;
	if (strcmp(target, "syslog") == 0 || strcmp(target, "stderr") == 0)
		return strdup(target);
	return conf_path_resolve(conf_path, target);
}

/*
 * The workers' identity.  The lookups run in a child process: NSS modules
 * (libnss_systemd and the libraries it pulls in) would otherwise stay
 * mapped in the master and in every worker, and with initgroups() each
 * worker would load them itself after the fork.
 */
static void
conf_identity(cfg_t *cfg, struct conf *conf)
{
	const char *user = cfg_getstr(cfg, "user");
	const char *group = cfg_getstr(cfg, "group");
	struct identity id;
	char err[256];

	conf->uid = (uid_t)-1;
	conf->gid = (gid_t)-1;
	if (user != NULL)
		conf->user = strdup(user);
	if (group != NULL)
		conf->group = strdup(group);
	if (group != NULL && user == NULL)
		conf_error(cfg, "group", "group is set without user: workers "
			   "take a group only with a user (user alone brings "
			   "its own group)");
	if (user == NULL && group == NULL)
		return;
	if (identity_lookup(user, group, &id, err, sizeof(err)) == -1) {
		conf_error(cfg, user ? "user" : "group", "cannot look up %s "
			   "'%s': %s", user ? "user" : "group",
			   user ? user : group, err);
		return;
	}
	if (user != NULL && !id.user_found)
		conf_error(cfg, "user", "user '%s' does not exist", user);
	if (group != NULL && !id.group_found)
		conf_error(cfg, "group", "group '%s' does not exist", group);
	if (id.user_found)
		conf->uid = id.uid;
	if (id.user_found || id.group_found)
		conf->gid = id.gid;
	if (id.groups_status == IDENTITY_GROUPS_NO_MEMORY)
		conf_error(cfg, "user", "groups of '%s': out of memory", user);
	else if (id.groups_status == IDENTITY_GROUPS_TOO_MANY)
		conf_error(cfg, "user", "user '%s' is in too many groups", user);
	conf->groups = id.groups;
	conf->ngroups = id.ngroups;
}

static void pool_error(struct conf_pool_error *, const char *, const char *,
		       ...) __attribute__((format(printf, 3, 4)));

static void
pool_error(struct conf_pool_error *e, const char *option, const char *fmt,
	   ...)
{
	va_list ap;

	e->option = option;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/* For a message that must quote a value the user did not write. */
static const char *
default_note(const struct conf_pool_opt *o)
{
	return o->written ? "" : ", the default";
}

static size_t
pool_settle_fixed(const struct conf_pool_spec *in, const struct server_conf *s,
		  struct conf_pool_error *err)
{
	size_t n = 0;

	if (in->min_spare.written || in->max_spare.written)
		pool_error(&err[n++], in->min_spare.written ? "min-spare" :
			   "max-spare", "min-spare and max-spare need "
			   "max-workers greater than workers (%d%s)", s->workers,
			   default_note(&in->workers));
	if (in->max_workers.written && s->max_workers < s->workers)
		pool_error(&err[n++], "max-workers", "max-workers (%d) is less "
			   "than workers (%d%s)", s->max_workers, s->workers,
			   default_note(&in->workers));
	return n;
}

/*
 * A spare bound left out gives way to what was written: it never exceeds
 * max-workers, and min-spare never max-spare.  Only what the user wrote
 * can then disagree, and the error names it.
 */
static size_t
pool_settle_dynamic(const struct conf_pool_spec *in, struct server_conf *s,
		    struct conf_pool_error *err)
{
	size_t n = 0;

	if (!in->max_spare.written) {
		if (in->min_spare.written && s->max_spare < s->min_spare)
			s->max_spare = s->min_spare;
		if (s->max_spare > s->max_workers)
			s->max_spare = s->max_workers;
	}
	if (!in->min_spare.written && s->min_spare > s->max_spare)
		s->min_spare = s->max_spare;
	if (s->min_spare > s->max_spare && in->max_spare.written)
		pool_error(&err[n++], "min-spare", "min-spare (%d) is greater "
			   "than max-spare (%d)", s->min_spare, s->max_spare);
	else if (s->min_spare > s->max_spare)
		pool_error(&err[n++], "min-spare", "min-spare (%d) is greater "
			   "than max-workers (%d%s)", s->min_spare,
			   s->max_workers, default_note(&in->max_workers));
	if (s->max_spare > s->max_workers)
		pool_error(&err[n++], "max-spare", "max-spare (%d) is greater "
			   "than max-workers (%d%s)", s->max_spare,
			   s->max_workers, default_note(&in->max_workers));
	return n;
}

size_t
conf_pool_settle(const struct conf_pool_spec *in, struct server_conf *s,
		 struct conf_pool_error err[CONF_POOL_ERRORS_MAX])
{
	s->workers = in->workers.value;
	s->max_workers = in->max_workers.value;
	s->min_spare = in->min_spare.value;
	s->max_spare = in->max_spare.value;
	if (s->workers < 1 || s->max_workers < 0)
		return 0;	/* already reported; more would only confuse */
	/*
	 * Unconfigured, a pool is dynamic and large enough for many
	 * keep-alive clients; "workers" written alone keeps its meaning of
	 * old, a fixed pool.
	 */
	if (!in->max_workers.written && in->workers.written)
		s->max_workers = 0;
	/* "max-workers = 2" alone: at most 2, not an error about 4. */
	if (!in->workers.written && in->max_workers.written &&
	    s->max_workers >= 1 && s->max_workers < s->workers)
		s->workers = s->max_workers;
	if (!conf_pool_is_dynamic(s))
		return pool_settle_fixed(in, s, err);
	return pool_settle_dynamic(in, s, err);
}

static struct conf_pool_opt
pool_opt(cfg_t *sec, const char *name)
{
	return (struct conf_pool_opt){ (int)cfg_getint(sec, name),
				       option_line(sec, name) != 0 };
}

int
conf_default_max_workers(size_t taken, size_t n_default)
{
	size_t left = taken < CONF_MAX_WORKERS_TOTAL ?
		      CONF_MAX_WORKERS_TOTAL - taken : 0;
	size_t share;

	if (n_default == 0)
		return CONF_DEFAULT_MAX_WORKERS;
	share = left / n_default;
	if (share > CONF_DEFAULT_MAX_WORKERS)
		share = CONF_DEFAULT_MAX_WORKERS;
	return share > 0 ? (int)share : 1;
}

/*
 * Nine servers left at the default 256 would pass the total that all
 * may have together, and refuse a config that names no pool size at
 * all: those share what the servers that set their size leave.
 */
static int
shared_default_max_workers(cfg_t *cfg)
{
	size_t taken = 0, n_default = 0;

	for (unsigned i = 0; i < cfg_size(cfg, "server"); i++) {
		cfg_t *sec = cfg_getnsec(cfg, "server", i);
		bool w = option_line(sec, "workers") != 0;
		bool mw = option_line(sec, "max-workers") != 0;
		long workers = w ? cfg_getint(sec, "workers") : 0;
		long max = mw ? cfg_getint(sec, "max-workers") : 0;
		long most = workers > max ? workers : max;

		if (!w && !mw)
			n_default++;
		else if (most > 0 && most <= CONF_MAX_WORKERS)
			taken += (size_t)most;
	}
	return conf_default_max_workers(taken, n_default);
}

static void
conf_pool(cfg_t *sec, struct server_conf *s)
{
	struct conf_pool_spec in = {
		.workers = pool_opt(sec, "workers"),
		.max_workers = pool_opt(sec, "max-workers"),
		.min_spare = pool_opt(sec, "min-spare"),
		.max_spare = pool_opt(sec, "max-spare"),
	};
	struct conf_pool_error err[CONF_POOL_ERRORS_MAX];
	size_t n;

	if (!in.max_workers.written)
		in.max_workers.value = load.default_max_workers;
	n = conf_pool_settle(&in, s, err);

	for (size_t i = 0; i < n; i++)
		conf_error(sec, err[i].option, "%s", err[i].message);
}

static void
conf_proxy(cfg_t *sec, struct server_conf *s)
{
	const char *mode = cfg_getstr(sec, "proxy-protocol");
	unsigned n = cfg_size(sec, "proxy-allow");
	char err[256];

	if ((s->proxy_mode = proxy_mode_parse(mode)) == -1) {
		s->proxy_mode = PROXY_OFF;
		conf_error(sec, "proxy-protocol", "proxy-protocol '%s' is not "
			   "one of off, v1, v2, any", mode);
	}
	if (n == 0)
		return;
	if ((s->proxy_allow = calloc(n, sizeof(*s->proxy_allow))) == NULL) {
		conf_error(sec, "proxy-allow", "out of memory");
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (addr_cidr_parse(cfg_getnstr(sec, "proxy-allow", i),
				    &s->proxy_allow[i], err, sizeof(err)) == -1)
			conf_error_entry(sec, "proxy-allow", i,
					 "proxy-allow: %s", err);
	s->nproxy_allow = n;
}

/*
 * A name goes into log lines, the status table and metric labels: no
 * control byte to forge a line with, nothing a terminal or a JSON reader
 * would take for another character, and short enough for its record.
 */
bool
conf_server_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CONF_SERVER_NAME_MAX)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	return true;
}

/*
 * No worker is smaller than MAX_MEMORY_MIN: a limit under it recycles
 * every worker after every connection.  It is almost always a size
 * written without its unit ("256" meant as 256M), so it is refused.
 */
#define MAX_MEMORY_MIN	(64 << 10)

static void
conf_max_memory(cfg_t *sec, struct server_conf *s)
{
	const char *text = cfg_getstr(sec, "max-memory");

	if (conf_parse_size(text, &s->max_memory) == -1)
		conf_error(sec, "max-memory", "max-memory '%s' is not a size "
			   "such as 0, 65536, 512K, 64M or 2G", text);
	else if (s->max_memory > 0 && s->max_memory < MAX_MEMORY_MIN &&
		 text[strlen(text) - 1] <= '9')
		conf_error(sec, "max-memory", "max-memory '%s' is %s bytes, "
			   "less than any worker: give its unit, as in "
			   "\"%sM\" (0 means no limit)", text, text, text);
	else if (s->max_memory > 0 && s->max_memory < MAX_MEMORY_MIN)
		conf_error(sec, "max-memory", "max-memory '%s' is less than "
			   "any worker: at least 64K (0 means no limit)", text);
}

/* The server's address: parsed, its socket's directory there, unused. */
static void
conf_listen(cfg_t *sec, struct server_conf *s, const char *listen,
	    const struct server_conf *prev, size_t nprev)
{
	char err[256];

	if (listen == NULL) {
		conf_error(sec, NULL, "server '%s' has no listen address",
			   s->name);
		return;
	}
	s->listen_text = strdup(listen);
	s->listen_line = error_line(sec, "listen");
	if (addr_parse(listen, &s->listen, err, sizeof(err)) == -1) {
		conf_error(sec, "listen", "listen: %s", err);
		return;
	}
	/* As for the log files: else bind() fails at start or reload. */
	if (s->listen.family == AF_UNIX)
		conf_check_file_dir(sec, "listen",
			((const struct sockaddr_un *)&s->listen.sa)->sun_path);
	for (size_t i = 0; i < nprev; i++)
		if (prev[i].listen_text != NULL &&
		    addr_conflicts(&prev[i].listen, &s->listen))
			conf_error(sec, "listen", "listen '%s' is already used "
				   "by server '%s'", listen, prev[i].name);
}

/* prev[0..nprev) are the servers before this one, for duplicate checks. */
static void
conf_server(cfg_t *sec, const struct server_conf *prev, size_t nprev,
	    struct server_conf *s)
{
	const char *listen = cfg_getstr(sec, "listen");
	const char *hname = cfg_getstr(sec, "handler");

	s->name = strdup(cfg_title(sec));
	if (!conf_server_name_ok(s->name)) {
		char shown[2 * CONF_SERVER_NAME_MAX];

		/* Not even the error may carry a line break onward. */
		snprintf(shown, sizeof(shown), "%s", s->name);
		for (char *p = shown; *p != '\0'; p++)
			if (*p < ' ' || *p >= 0x7f)
				*p = '?';
		conf_error(sec, NULL, "server name '%s' must be 1 to %d "
			   "printable ASCII characters, no space", shown,
			   CONF_SERVER_NAME_MAX);
	}
	s->backlog = (int)cfg_getint(sec, "backlog");
	s->max_requests = cfg_getint(sec, "max-requests");
	s->max_requests_jitter = cfg_getint(sec, "max-requests-jitter");
	conf_max_memory(sec, s);
	s->timeout = (int)cfg_getint(sec, "timeout");
	conf_pool(sec, s);
	conf_proxy(sec, s);

	conf_listen(sec, s, listen, prev, nprev);

	if ((s->handler = handler_find(hname)) == NULL) {
		conf_error(sec, "handler", "unknown handler '%s'", hname);
		return;
	}
	for (size_t i = 0; handlers[i] != NULL; i++)
		if (handlers[i] != s->handler &&
		    option_line(sec, handlers[i]->name) != 0)
			conf_error(sec, handlers[i]->name,
				   "section '%s' given but server '%s' uses "
				   "handler '%s'", handlers[i]->name, s->name,
				   s->handler->name);
	if (s->handler->configure != NULL &&
	    s->handler->configure(cfg_getsec(sec, s->handler->name), s,
				  &s->hconf) == -1 && load.errors == 0)
		report_at(section_line(sec), "handler '%s' rejected its section",
			  s->handler->name);
}

/* The pidfile's path, relative to the file at path; reports "". */
static char *
pidfile_resolve(cfg_t *cfg, const char *path)
{
	const char *pidfile = cfg_getstr(cfg, "pidfile");

	/* Resolved, "" would name the configuration file's directory. */
	if (pidfile[0] == '\0')
		conf_error(cfg, "pidfile", "pidfile must name a file, not be "
			   "empty");
	return conf_path_resolve(path, pidfile);
}

static void
conf_globals(cfg_t *cfg, struct conf *conf, const char *path)
{
	const char *level = cfg_getstr(cfg, "log-level");
	const char *error_log = cfg_getstr(cfg, "error-log");
	int errors;

	conf->path = strdup(path);
	conf->pidfile = pidfile_resolve(cfg, path);
	/*
	 * -t must not pass what a start then refuses.  Not with -p, which
	 * names another; not for a reload, which keeps the pidfile it has.
	 * The default is the build's, not this file's to answer for.
	 */
	if (load.verify_pidfile && conf->pidfile != NULL &&
	    option_line(cfg, "pidfile") != 0 &&
	    cfg_getstr(cfg, "pidfile")[0] != '\0')
		conf_check_file_dir(cfg, "pidfile", conf->pidfile);
	if (error_log != NULL && error_log[0] == '\0')
		conf_error(cfg, "error-log", "error-log must be syslog, stderr "
			   "or a file, not empty");
	conf->error_log = resolve_log_target(path, error_log);
	if (conf->error_log != NULL && error_log[0] != '\0' &&
	    strcmp(conf->error_log, "syslog") != 0 &&
	    strcmp(conf->error_log, "stderr") != 0)
		conf_check_log_file(cfg, "error-log", conf->error_log);
	conf->shutdown_timeout = (int)cfg_getint(cfg, "shutdown-timeout");
	conf->drain_delay = (int)cfg_getint(cfg, "drain-delay");
	if ((conf->log_level = log_level_parse(level)) == -1) {
		conf->log_level = LOG_LEVEL_INFO;
		conf_error(cfg, "log-level", "log-level '%s' is not one of "
			   "error, warning, notice, info, debug", level);
	}
	errors = load.errors;
	conf_identity(cfg, conf);
	load.identity_ok = load.errors == errors;
}

/* A character of an unquoted word, as libconfuse's lexer reads one. */
static bool
word_char(char c)
{
	return c != '\0' && strchr(" \t\r\n\"'={}()+,*#", c) == NULL;
}

size_t
conf_blank_comments(char *text)
{
	enum { CODE, DQUOTE, SQUOTE, VAR, LINE, BLOCK } st = CODE;
	size_t line = 1, opened = 0;
	char *out = text;	/* never ahead of p: compacted in place */
	/*
	 * In an unquoted word, two slashes or a slash and a star are text,
	 * and a '#' is left for conf_dropped_char() to refuse: blanked, it
	 * would cut "root = /srv/www#2" to /srv/www without a word.
	 */
	bool in_word = false;

	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n')
			line++;
		switch (st) {
		case CODE:
			if (*p == '"' || *p == '\'') {
				st = *p == '"' ? DQUOTE : SQUOTE;
			} else if (p[0] == '$' && p[1] == '{') {
				/* libconfuse reads "${...}" whole, as written. */
				st = VAR;
			} else if (!in_word && (*p == '#' ||
						(p[0] == '/' && p[1] == '/'))) {
				st = LINE;
				in_word = false;
				*out++ = ' ';
				continue;
			} else if (p[0] == '/' && p[1] == '*' && !in_word) {
				st = BLOCK;
				opened = line;
				*out++ = ' ';
				p++;
				continue;
			}
			in_word = st == CODE && word_char(*p);
			break;
		case DQUOTE:
		case SQUOTE:
			if (*p == '\\' && p[1] != '\0') {
				*out++ = *p++;
				if (*p == '\n')
					line++;
			} else if (*p == (st == DQUOTE ? '"' : '\'')) {
				st = CODE;
			}
			break;
		case VAR:
			/* "${X}#2" is one word to libconfuse. */
			if (*p == '}') {
				st = CODE;
				in_word = true;
			}
			break;
		case LINE:
			if (*p != '\n')
				continue;
			st = CODE;
			break;
		case BLOCK:
			if (p[0] == '*' && p[1] == '/') {
				p++;
				st = CODE;
				continue;
			}
			if (*p != '\n')
				continue;
			break;
		}
		*out++ = *p;
	}
	*out = '\0';
	return st == BLOCK ? opened : 0;
}

size_t
conf_long_line(const char *text, size_t max)
{
	size_t line = 1;

	for (const char *p = text; *p != '\0'; line++) {
		const char *end = strchr(p, '\n');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len > max)
			return line;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

/* A walk over comment-free config text that steps over quoted strings. */
struct text_walk {
	const char *p;		/* the next character */
	size_t line;		/* of the character last returned */
	char quote;		/* inside a string: its quote */
	size_t quote_line;	/* where that string opened */
	size_t split_line;	/* where the first string over a newline opened */
	size_t var_line;	/* where a "${" of the string opened, if open */
	size_t bad_var_line;	/* the first "${" its string closed on */
};

static void
skip_variable(struct text_walk *w)
{
	while (*w->p != '\0' && *w->p != '}')
		w->line += *w->p++ == '\n';
	if (*w->p == '}')
		w->p++;
}

/* The next character outside strings (an opening quote is one), or '\0'. */
static char
text_walk_next(struct text_walk *w)
{
	while (*w->p != '\0') {
		char c = *w->p++;

		if (c == '\n')
			w->line++;
		if (w->quote == 0) {
			if (c == '"' || c == '\'') {
				w->quote = c;
				w->quote_line = w->line;
			} else if (c == '$' && *w->p == '{') {
				/* libconfuse reads "${...}" whole, as one word. */
				skip_variable(w);
			}
			return c;
		}
		if (c == '\\' && *w->p != '\0') {
			/* A backslash at the end of a line continues the string. */
			if ((c = *w->p++) == '\n') {
				w->line++;
				continue;
			}
		} else if (c == w->quote) {
			if (w->var_line != 0 && w->bad_var_line == 0)
				w->bad_var_line = w->var_line;
			w->var_line = 0;
			w->quote = 0;
			continue;
		} else if (w->quote == '"' && c == '$' && *w->p == '{') {
			w->var_line = w->line;
		} else if (c == '}') {
			w->var_line = 0;
		}
		if (c == '\n' && w->split_line == 0)
			w->split_line = w->quote_line;
	}
	if (w->quote != 0 && w->split_line == 0)
		w->split_line = w->quote_line;
	return '\0';
}

size_t
conf_split_string(const char *text)
{
	struct text_walk w = { .p = text, .line = 1 };

	while (text_walk_next(&w) != '\0')
		;
	return w.split_line;
}

size_t
conf_unclosed_variable(const char *text)
{
	struct text_walk w = { .p = text, .line = 1 };

	while (text_walk_next(&w) != '\0')
		;
	return w.bad_var_line;
}

size_t
conf_stray_semicolons(const char *text, size_t *lines, size_t max)
{
	struct text_walk w = { .p = text, .line = 1 };
	size_t n = 0;
	char c;

	/* "a;b" may be an unquoted value; "4;" and "\"x\";" end nothing. */
	while ((c = text_walk_next(&w)) != '\0')
		if (c == ';' && strchr(" \t\r\n}#", *w.p) != NULL &&
		    (n == 0 || lines[n - 1] != w.line) && n < max)
			lines[n++] = w.line;
	return n;
}

/*
 * Tokens as far as conf_empty_name() needs them: a value is what follows
 * '=', ',' or '(' (words and strings alike); what follows a name is a
 * section's title.
 */
enum name_token { TOK_NONE, TOK_PUNCT, TOK_ASSIGN, TOK_NAME, TOK_VALUE };

size_t
conf_empty_name(const char *text)
{
	struct text_walk w = { .p = text, .line = 1 };
	enum name_token prev = TOK_NONE;
	bool in_word = false;
	char c;

	while ((c = text_walk_next(&w)) != '\0') {
		bool quote = c == '"' || c == '\'';

		if (strchr(" \t\r\n", c) != NULL) {
			in_word = false;
			continue;
		}
		if (quote || word_char(c)) {
			if (in_word && !quote)
				continue;
			if (quote && *w.p == c && prev != TOK_ASSIGN &&
			    prev != TOK_NAME)
				return w.line;
			/* After a name, a title: a value as far as this goes. */
			prev = prev == TOK_ASSIGN || prev == TOK_NAME ?
			       TOK_VALUE : TOK_NAME;
			in_word = !quote;
			continue;
		}
		in_word = false;
		/* "= {" opens a list of values; a section's '{' names follow. */
		if (c == '{' && prev == TOK_ASSIGN)
			continue;
		prev = c == '=' || c == ',' || c == '(' ? TOK_ASSIGN : TOK_PUNCT;
	}
	return 0;
}

size_t
conf_dropped_char(const char *text, char *which)
{
	struct text_walk w = { .p = text, .line = 1 };
	char c, prev = 0;

	while ((c = text_walk_next(&w)) != '\0') {
		if (c == '*' || c == '#' || (c == '+' && *w.p != '=')) {
			/* A slash-star right after a word: a comment, written on. */
			*which = c == '*' && prev == '/' ? '/' : c;
			return w.line;
		}
		prev = c;
	}
	return 0;
}

size_t
conf_list_reassigned(const char *text, const char *const *names,
		     size_t nnames, size_t *which)
{
	struct text_walk w = { .p = text, .line = 1 };
	/* Per depth of braces: a list's, or what its section set with '='. */
	bool is_list[65] = { false };
	unsigned seen[65] = { 0 };
	size_t depth = 0, wlen = 0, word_line = 0;
	char word[64], c, last = 0;
	int name = -1;		/* the word just read, if one of names */

	while ((c = text_walk_next(&w)) != '\0') {
		if (word_char(c)) {
			if (wlen == 0)
				word_line = w.line;
			if (wlen < sizeof(word) - 1)
				word[wlen] = c;
			wlen++;
			continue;
		}
		if (wlen > 0) {
			/* A name: not after '=', ',' or '(', nor in a list. */
			word[wlen < sizeof(word) ? wlen : sizeof(word) - 1] = '\0';
			name = -1;
			for (size_t i = 0; i < nnames && i < 32 && !is_list[depth] &&
			     last != '=' && last != ',' && last != '('; i++)
				if (strcmp(word, names[i]) == 0)
					name = (int)i;
			last = 'w';
			wlen = 0;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=' && name >= 0) {
			if (seen[depth] & 1u << name) {
				*which = (size_t)name;
				return word_line;
			}
			seen[depth] |= 1u << name;
		} else if (c == '+' && *w.p == '=' && name >= 0) {
			/* "+=" grows what a later '=' would throw away. */
			seen[depth] |= 1u << name;
		} else if (c == '{' && depth < 64) {
			depth++;
			is_list[depth] = last == '=';
			seen[depth] = 0;
		} else if (c == '}' && depth > 0) {
			depth--;
		}
		name = -1;
		last = c;
	}
	return 0;
}

size_t
conf_section_lines(const char *text, int *lines, size_t max)
{
	struct text_walk w = { .p = text, .line = 1 };
	int opened[64];
	size_t depth = 0, n = 0;
	char c, last = 0;

	while ((c = text_walk_next(&w)) != '\0') {
		if (c == '{') {
			/* 0 marks a list: "name = { ... }". */
			if (depth < sizeof(opened) / sizeof(opened[0]))
				opened[depth] = last == '=' ? 0 : (int)w.line;
			depth++;
		} else if (c == '}' && depth > 0) {
			depth--;
			if (depth < sizeof(opened) / sizeof(opened[0]) &&
			    opened[depth] != 0 && n < max)
				lines[n++] = opened[depth];
		}
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			last = c;
	}
	return n;
}

size_t
conf_unclosed_brace(const char *text)
{
	struct text_walk w = { .p = text, .line = 1 };
	size_t depth = 0, opened[64];
	char c;

	while ((c = text_walk_next(&w)) != '\0') {
		if (c == '{') {
			if (depth < sizeof(opened) / sizeof(opened[0]))
				opened[depth] = w.line;
			depth++;
		} else if (c == '}' && depth > 0) {
			depth--;
		}
	}
	if (depth == 0)
		return 0;
	return depth <= sizeof(opened) / sizeof(opened[0]) ?
	       opened[depth - 1] : w.line;
}

static char *
read_text(const char *path, const char **why, size_t *lenp)
{
	FILE *f = regfile_open(path, why);
	char *text = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *p = realloc(text, cap = cap * 2 + 8192);

			if (p == NULL) {
				free(text);
				fclose(f);
				*why = strerror(ENOMEM);
				return NULL;
			}
			text = p;
		}
		size_t n = fread(text + len, 1, cap - len - 1, f);

		len += n;
		if (len > CONF_MAX_SIZE) {
			free(text);
			fclose(f);
			*why = "it is larger than 16 MiB, the limit";
			return NULL;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		*why = strerror(errno);
		free(text);
		text = NULL;
	} else {
		text[len] = '\0';
		*lenp = len;
	}
	fclose(f);
	return text;
}

/* For section_line(): without memory, errors name where sections close. */
static void
note_section_lines(const char *text)
{
	size_t braces = 0;

	for (const char *p = text; *p != '\0'; p++)
		braces += *p == '}';
	if (braces == 0 ||
	    (load.opened = calloc(braces, sizeof(*load.opened))) == NULL)
		return;
	load.nopened = conf_section_lines(text, load.opened, braces);
}

/*
 * What libconfuse reads wrongly, slowly or not at all, found in the text
 * first and reported with its line: false if anything was.  Comments go
 * here too: libconfuse 3.3 miscounts lines after them.
 */
static bool
text_checked(char *text)
{
	static const char *const list_options[] = {
		"proxy-allow", "status-allow",
	};
	size_t open_line, lines[16], nlines, which;
	char dropped;

	/* Invisible in an editor: "no such option 'server'" would puzzle. */
	if (strncmp(text, "\xEF\xBB\xBF", 3) == 0) {
		report_at(1, "the file starts with a UTF-8 byte-order mark: "
			  "save it without one");
		return false;
	}
	if ((open_line = conf_blank_comments(text)) != 0) {
		report_at((int)open_line, "comment opened with /* is never "
			  "closed");
		return false;
	}
	if ((open_line = conf_long_line(text, CONF_LINE_MAX)) != 0) {
		report_at((int)open_line, "line longer than %d bytes (comments "
			  "aside)", CONF_LINE_MAX);
		return false;
	}
	/*
	 * libconfuse takes a string on over newlines, and reports what
	 * follows (or "'{' is never closed") lines later.  No value of
	 * preforkd's spans lines: the missing quote is named where it is.
	 */
	if ((open_line = conf_split_string(text)) != 0) {
		report_at((int)open_line, "a string opened on this line does "
			  "not end on it: a closing quote is missing");
		return false;
	}
	/*
	 * libconfuse reads "${NAME" on to the next '}', wherever that is:
	 * across the closing quote, lines and options.
	 */
	if ((open_line = conf_unclosed_variable(text)) != 0) {
		report_at((int)open_line, "'${' in a string without its '}' "
			  "before the closing quote");
		return false;
	}
	/* nginx's habit; libconfuse says "no such option ';'" or worse. */
	if ((nlines = conf_stray_semicolons(text, lines, 16)) != 0) {
		for (size_t i = 0; i < nlines; i++)
			report_at((int)lines[i], "';' is not part of the "
				  "syntax: options are separated by white space "
				  "or newlines");
		return false;
	}
	/* libconfuse's lexer drops them: "*:80" would read ":80". */
	if ((open_line = conf_dropped_char(text, &dropped)) != 0) {
		if (dropped == '/' || dropped == '#')
			report_at((int)open_line, "'%s' inside a word is not a "
				  "comment: put a space before it, or quote the "
				  "value", dropped == '/' ? "/*" : "#");
		else
			report_at((int)open_line, "'%c' outside quotes is not "
				  "read as part of a value: quote the value",
				  dropped);
		return false;
	}
	/*
	 * libconfuse stops at an empty name without a word: the rest of
	 * the file was ignored, and what came before passed for all of it.
	 */
	if ((open_line = conf_empty_name(text)) != 0) {
		report_at((int)open_line, "an empty name (\"\" or '') where an "
			  "option belongs");
		return false;
	}
	/* libconfuse lets a second '=' replace a list without a word. */
	if ((open_line = conf_list_reassigned(text, list_options,
					      sizeof(list_options) /
					      sizeof(list_options[0]),
					      &which)) != 0) {
		report_at((int)open_line, "option '%s' is duplicate (a list "
			  "grows with +=)", list_options[which]);
		return false;
	}
	/* libconfuse 3.3 accepts a file that ends inside a section. */
	if ((open_line = conf_unclosed_brace(text)) != 0) {
		report_at((int)open_line, "'{' is never closed");
		return false;
	}
	return true;
}

/*
 * libconfuse parses the text once text_checked() has blanked comments
 * (each one shifted every later error by a line or two) and refused what
 * it would misread: all its line numbers are then right.
 */
static int
parse_file(cfg_t *cfg, const char *path)
{
	const char *why = "";
	size_t len = 0;
	char *text = read_text(path, &why, &len);
	FILE *f;
	int rc;

	if (text == NULL) {
		char msg[PATH_MAX + 64];

		snprintf(msg, sizeof(msg), "%s: cannot open: %s", path, why);
		load.errors++;
		if (load.report != NULL)
			load.report(load.arg, msg);
		return CFG_FILE_ERROR;
	}
	/* Everything after it would go unread: a file cut by a crash. */
	if (strlen(text) != len) {
		size_t line = 1;

		for (const char *p = text; *p != '\0'; p++)
			line += *p == '\n';
		report_at((int)line, "a NUL byte: this is not a text file, or "
			  "not all of it is");
		free(text);
		return CFG_PARSE_ERROR;
	}
	if (!text_checked(text)) {
		free(text);
		return CFG_PARSE_ERROR;
	}
	note_section_lines(text);
	if ((f = fmemopen(text, strlen(text), "r")) == NULL) {
		report_at(0, "fmemopen: %s", strerror(errno));
		free(text);
		return CFG_FILE_ERROR;
	}
	free(cfg->filename);
	cfg->filename = strdup(path);
	rc = cfg_parse_fp(cfg, f);
	fclose(f);
	free(text);
	return rc;
}

static struct conf *
load_file(const char *path, bool verify, bool verify_pidfile,
	  conf_report_fn report, void *arg)
{
	size_t total = 0;
	int too_many = 0;
	struct conf *conf = calloc(1, sizeof(*conf));
	cfg_t *cfg = schema_init();
	int rc;

	memset(&load, 0, sizeof(load));
	load.report = report;
	load.arg = arg;
	load.path = path;
	load.verify = verify;
	load.verify_pidfile = verify_pidfile;
	load.conf = conf;
	if (conf == NULL || cfg == NULL) {
		report_at(0, "out of memory");
		goto out;
	}
	if ((rc = parse_file(cfg, path)) != CFG_SUCCESS) {
		/* An error nobody reported must still fail the load. */
		if (load.errors == 0)
			report_at(cfg->line, "syntax error");
		goto out;
	}

	conf_globals(cfg, conf, path);
	load.default_max_workers = shared_default_max_workers(cfg);
	conf->nservers = cfg_size(cfg, "server");
	if (conf->nservers == 0)
		report_at(cfg->line, "no server section: nothing to serve");
	conf->servers = calloc(conf->nservers ? conf->nservers : 1,
			       sizeof(*conf->servers));
	if (conf->servers == NULL) {
		report_at(0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < conf->nservers; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "server", (unsigned)i);
		const struct server_conf *s = &conf->servers[i];

		if (i == CONF_MAX_SERVERS)
			conf_error(sec, NULL, "at most %d server sections",
				   CONF_MAX_SERVERS);
		conf_server(sec, conf->servers, i, &conf->servers[i]);
		/* The scoreboard holds two generations of every pool. */
		if (s->workers >= 1 && s->workers <= CONF_MAX_WORKERS &&
		    s->max_workers >= 0 && s->max_workers <= CONF_MAX_WORKERS)
			total += (size_t)(s->max_workers > s->workers ?
					  s->max_workers : s->workers);
		if (total > CONF_MAX_WORKERS_TOTAL && !too_many++)
			conf_error(sec, NULL, "the servers together may have at "
				   "most %d workers (max-workers counted)",
				   CONF_MAX_WORKERS_TOTAL);
	}
out:
	errors_flush();
	free(load.lines);
	free(load.opened);
	if (cfg != NULL)
		cfg_free(cfg);
	if (load.errors > 0) {
		conf_free(conf);
		conf = NULL;
	}
	memset(&load, 0, sizeof(load));
	return conf;
}

struct conf *
conf_load(const char *path, conf_report_fn report, void *arg)
{
	return load_file(path, false, false, report, arg);
}

struct conf *
conf_verify(const char *path, bool pidfile_used, conf_report_fn report,
	    void *arg)
{
	return load_file(path, true, pidfile_used, report, arg);
}

char *
conf_load_pidfile(const char *path, conf_report_fn report, void *arg)
{
	cfg_t *cfg = schema_init();
	char *pidfile = NULL;

	memset(&load, 0, sizeof(load));
	load.report = report;
	load.arg = arg;
	load.path = path;
	load.pidfile_only = true;
	if (cfg == NULL) {
		report_at(0, "out of memory");
	} else if (parse_file(cfg, path) != CFG_SUCCESS) {
		if (load.errors == 0)
			report_at(cfg->line, "syntax error");
	} else if ((pidfile = pidfile_resolve(cfg, path)) == NULL) {
		report_at(0, "out of memory");
	}
	if (load.errors > 0) {
		free(pidfile);
		pidfile = NULL;
	}
	errors_flush();
	free(load.lines);
	free(load.opened);
	if (cfg != NULL)
		cfg_free(cfg);
	memset(&load, 0, sizeof(load));
	return pidfile;
}

struct identity_ids
conf_worker_ids(const struct conf *conf)
{
	return (struct identity_ids){
		.user = conf->user, .uid = conf->uid, .gid = conf->gid,
		.groups = conf->groups, .ngroups = conf->ngroups,
	};
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; conf->servers != NULL && i < conf->nservers; i++) {
		struct server_conf *s = &conf->servers[i];

		if (s->handler != NULL && s->handler->free_conf != NULL &&
		    s->hconf != NULL)
			s->handler->free_conf(s->hconf);
		free(s->name);
		free(s->listen_text);
		free(s->proxy_allow);
	}
	free(conf->servers);
	free(conf->path);
	free(conf->user);
	free(conf->group);
	free(conf->groups);
	free(conf->pidfile);
	free(conf->error_log);
	free(conf);
}

int
conf_parse_size(const char *text, uint64_t *out)
{
	static const struct { char suffix; unsigned shift; } units[] = {
		{ 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
	};
	uint64_t v = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0') {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if ((*p & ~0x20) == units[i].suffix)
				break;
		if (i == sizeof(units) / sizeof(units[0]) || p[1] != '\0' ||
		    v > UINT64_MAX >> units[i].shift)
			return -1;
		v <<= units[i].shift;
	}
	*out = v;
	return 0;
}

bool
conf_pool_is_dynamic(const struct server_conf *s)
{
	return s->max_workers > s->workers;
}

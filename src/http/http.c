/* SPDX-License-Identifier: BSD-2-Clause */
/* The http handler: its configuration and its life in a worker. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "http/fcache.h"
#include "http/http.h"
#include "http/mime.h"
#include "http/root.h"
#include "log.h"
#include "scoreboard.h"

static cfg_opt_t http_options[] = {
	CFG_STR("root", NULL, CFGF_NODEFAULT),
	CFG_STR("index", "index.html", CFGF_NONE),
	CFG_STR("access-log", "off", CFGF_NONE),
	CFG_INT("keepalive-timeout", 5, CFGF_NONE),
	CFG_INT("keepalive-requests", 100, CFGF_NONE),
	CFG_INT("header-timeout", 10, CFGF_NONE),
	CFG_INT("max-header-size", 8192, CFGF_NONE),
	CFG_BOOL("autoindex", cfg_false, CFGF_NONE),
	CFG_BOOL("follow-symlinks", cfg_false, CFGF_NONE),
	CFG_BOOL("gzip-static", cfg_false, CFGF_NONE),
	CFG_BOOL("server-tokens", cfg_true, CFGF_NONE),
	CFG_STR("mime-types", NULL, CFGF_NODEFAULT),
	CFG_STR("default-type", "application/octet-stream", CFGF_NONE),
	CFG_INT("open-file-cache", 64, CFGF_NONE),
	CFG_INT("open-file-cache-valid", 1, CFGF_NONE),
	CFG_STR("status-path", "", CFGF_NONE),
	CFG_STR("health-path", "", CFGF_NONE),
	CFG_STR_LIST("status-allow", "{127.0.0.1, ::1}", CFGF_NONE),
	CFG_END()
};

static void
http_free(void *p)
{
	struct http_conf *hc = p;

	if (hc == NULL)
		return;
	if (hc->access_fd != -1)
		close(hc->access_fd);
	if (hc->access_torn_end != NULL)
		munmap(hc->access_torn_end, sizeof(*hc->access_torn_end));
	if (hc->root_dir != NULL)
		http_root_close(hc->root_dir);
	free(hc->root_dir);
	fcache_free(hc->fcache);
	mime_table_free(hc->mime);
	free(hc->root);
	free(hc->index);
	free(hc->access_log);
	free(hc->default_type);
	free(hc->status_path);
	free(hc->health_path);
	free(hc->status_allow);
	free(hc);
}

static bool
int_in(cfg_t *sec, const char *name, long min, long max, long *out)
{
	*out = cfg_getint(sec, name);
	if (*out >= min && *out <= max)
		return true;
	conf_error(sec, name, "%s", conf_range_message(name, min, max));
	return false;
}

static bool
http_configure_limits(cfg_t *sec, struct http_conf *hc)
{
	long v;
	bool ok = true;

	ok &= int_in(sec, "keepalive-timeout", 0, 3600, &v);
	hc->keepalive_timeout = (int)v;
	ok &= int_in(sec, "keepalive-requests", 0, LONG_MAX, &v);
	hc->keepalive_requests = v;
	ok &= int_in(sec, "header-timeout", 1, 3600, &v);
	hc->header_timeout = (int)v;
	ok &= int_in(sec, "max-header-size", 1024, 1048576, &v);
	hc->max_header_size = (size_t)v;
	/* Each entry holds a descriptor: stay well inside RLIMIT_NOFILE. */
	ok &= int_in(sec, "open-file-cache", 0, 65536, &v);
	hc->open_file_cache = (int)v;
	ok &= int_in(sec, "open-file-cache-valid", 0, 3600, &v);
	hc->open_file_cache_valid = (int)v;
	return ok;
}

/*
 * A handle-only open of the root needs no right on the root itself: one
 * the worker's user may not search would answer 403 to every request,
 * with nothing in the log.  Resolving "." in it takes that right.
 */
static int
root_searchable(int root_fd)
{
	int fd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

/* The root opened as http_worker_init() opens it, then closed. */
static int
root_opens(const char *path)
{
	struct http_root r = { .fd = -1 };
	int rc = -1, err;

	if (http_root_open(&r, path, 0) == 0)
		rc = root_searchable(r.fd);
	err = errno;
	http_root_close(&r);
	errno = err;
	return rc;
}

static bool
http_configure_root(cfg_t *sec, const struct server_conf *server,
		    struct http_conf *hc)
{
	const char *root = cfg_getstr(sec, "root");
	struct stat st;

	if (root == NULL) {
		conf_error(sec, NULL, "server '%s': http needs a root "
			   "directory (root = \"/var/www/html\")", server->name);
		return false;
	}
	/* Resolved, "" would serve the configuration file's directory. */
	if (root[0] == '\0') {
		conf_error(sec, "root", "root must name a directory, not be "
			   "empty");
		return false;
	}
	if ((hc->root = conf_path_resolve(sec->filename, root)) == NULL)
		return false;
	if (stat(hc->root, &st) == -1) {
		conf_error(sec, "root", "root %s: %s", hc->root, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		conf_error(sec, "root", "root %s is not a directory", hc->root);
		return false;
	}
	/*
	 * The stat() above is this process's, and needs no right on the
	 * root itself: the workers' identity may differ, and must search it.
	 */
	conf_check_worker_open(sec, "root", hc->root, root_opens);
	return true;
}

static bool
http_configure_files(cfg_t *sec, struct http_conf *hc)
{
	const char *log = cfg_getstr(sec, "access-log");
	const char *types = cfg_getstr(sec, "mime-types");
	const char *index = cfg_getstr(sec, "index");
	char err[512];

	if (index[0] == '\0' || strchr(index, '/') != NULL) {
		conf_error(sec, "index", "index must be a file name, not '%s'",
			   index);
		return false;
	}
	hc->index = strdup(index);
	if (log[0] == '\0') {
		conf_error(sec, "access-log", "access-log must name a file or "
			   "be \"off\", not be empty");
		return false;
	}
	if (strcmp(log, "off") != 0 &&
	    (hc->access_log = conf_path_resolve(sec->filename, log)) != NULL)
		conf_check_log_file(sec, "access-log", hc->access_log);
	if ((hc->mime = mime_table_new()) == NULL)
		return false;
	if (types != NULL) {
		char *path = conf_path_resolve(sec->filename, types);
		int rc = path ? mime_table_load(hc->mime, path, err,
						sizeof(err)) : -1;

		free(path);
		if (rc == -1) {
			conf_error(sec, "mime-types", "mime-types: %s", err);
			return false;
		}
	}
	return true;
}

/* Options whose value ends up in every response's head. */
static bool
http_configure_header_values(cfg_t *sec)
{
	const char *why = mime_type_check(cfg_getstr(sec, "default-type"));

	if (why == NULL)
		return true;
	conf_error(sec, "default-type", "default-type %s", why);
	return false;
}

static int
http_configure(cfg_t *sec, const struct server_conf *server, void **out)
{
	struct http_conf *hc = calloc(1, sizeof(*hc));
	bool ok;

	if (hc == NULL)
		return -1;
	hc->access_fd = -1;
	hc->autoindex = cfg_getbool(sec, "autoindex");
	hc->follow_symlinks = cfg_getbool(sec, "follow-symlinks");
	hc->gzip_static = cfg_getbool(sec, "gzip-static");
	hc->server_tokens = cfg_getbool(sec, "server-tokens");
	hc->default_type = strdup(cfg_getstr(sec, "default-type"));
	hc->send_timeout_ms = server->timeout > 0 ? server->timeout * 1000 : -1;
	ok = http_configure_limits(sec, hc);
	ok &= http_configure_root(sec, server, hc);
	ok &= http_configure_header_values(sec);
	ok = ok && http_configure_files(sec, hc);
	ok &= http_status_configure(sec, hc);
	ok = ok && http_health_configure(sec, hc);
	if (!ok || hc->default_type == NULL || hc->index == NULL) {
		http_free(hc);
		return -1;
	}
	*out = hc;
	return 0;
}

/*
 * In the master: log files are opened with its rights, then given to the
 * workers' user; their group stays, as logrotate's "create" made it.
 */
static int
http_prepare(void *p, uid_t uid)
{
	struct http_conf *hc = p;

	if (hc->access_log == NULL)
		return 0;
	if (hc->access_torn_end == NULL) {
		void *shared = mmap(NULL, sizeof(*hc->access_torn_end),
				    PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (shared == MAP_FAILED) {
			log_errno(LOG_LEVEL_ERROR, "mmap");
			return -1;
		}
		hc->access_torn_end = shared;
	}
	if ((hc->access_fd = log_file_open(hc->access_log, true)) == -1) {
		log_error("open(%s): %s", hc->access_log,
			  log_file_strerror(hc->access_log, errno));
		return -1;
	}
	if (uid != (uid_t)-1 && fchown(hc->access_fd, uid, (gid_t)-1) == -1)
		log_errno(LOG_LEVEL_WARNING, "fchown(%s)", hc->access_log);
	return 0;
}

static void
http_close_files(void *p)
{
	struct http_conf *hc = p;

	if (hc->access_fd != -1)
		close(hc->access_fd);
	hc->access_fd = -1;
}

static int
http_worker_init(void *p)
{
	struct http_conf *hc = p;

	if ((hc->root_dir = malloc(sizeof(*hc->root_dir))) == NULL) {
		log_errno(LOG_LEVEL_ERROR, "root %s", hc->root);
		return -1;
	}
	hc->root_dir->fd = -1;
	hc->root_dir->real = NULL;
	if (http_root_open(hc->root_dir, hc->root, monotonic_ms()) == -1) {
		log_errno(LOG_LEVEL_ERROR, "open(%s)", hc->root);
		return -1;
	}
	if (root_searchable(hc->root_dir->fd) == -1) {
		log_errno(LOG_LEVEL_ERROR, "root %s: the worker may not search "
			  "it", hc->root);
		return -1;
	}
	/*
	 * Made in the worker, never in the master: a reload's new workers
	 * start with an empty cache, and no descriptor outlives its
	 * generation.  gzip-static answers depend on two files and are not
	 * cached.
	 */
	if (hc->open_file_cache > 0 && hc->open_file_cache_valid > 0 &&
	    !hc->gzip_static &&
	    (hc->fcache = fcache_new((size_t)hc->open_file_cache)) == NULL) {
		log_errno(LOG_LEVEL_ERROR, "open-file-cache");
		return -1;
	}
	return 0;
}

static int
http_reopen(void *p, uid_t uid)
{
	struct http_conf *hc = p;
	int fd, rc = 0;

	if (hc->access_log == NULL)
		return 0;
	if ((fd = log_file_open(hc->access_log, true)) == -1) {
		log_error("reopening %s: %s", hc->access_log,
			  log_file_strerror(hc->access_log, errno));
		return -1;
	}
	/* Created by us as root: the workers must be able to reopen it. */
	if (uid != (uid_t)-1 && fchown(fd, uid, (gid_t)-1) == -1)
		log_errno(LOG_LEVEL_WARNING, "fchown(%s)", hc->access_log);
	if (hc->access_fd == -1) {
		hc->access_fd = fd;
		return 0;
	}
	/*
	 * dup3(), not dup2(): that clears close-on-exec, and the new master
	 * of a binary upgrade would hold this file, rotated or deleted, for
	 * good.
	 */
	if (dup3(fd, hc->access_fd, O_CLOEXEC) == -1) {
		log_errno(LOG_LEVEL_ERROR, "reopening %s", hc->access_log);
		rc = -1;
	}
	close(fd);
	return rc;
}

const struct handler http_handler = {
	.name = "http",
	.options = http_options,
	.configure = http_configure,
	.free_conf = http_free,
	.prepare = http_prepare,
	.close_files = http_close_files,
	.worker_init = http_worker_init,
	.serve = http_conn_serve,
	.reopen = http_reopen,
};

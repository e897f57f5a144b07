/* SPDX-License-Identifier: BSD-2-Clause */
/* The error log: one backend (syslog, stderr or a file), levels, reopen. */
#ifndef PREFORKD_LOG_H
#define PREFORKD_LOG_H

#include <stdbool.h>
#include <sys/types.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* -1 if the name is not a level. */
int log_level_parse(const char *name);

/*
 * target: "syslog", "stderr" or a file path.  Returns 0, or -1 with errno
 * (the previous backend stays in use).
 */
int log_open(const char *target, int level);

/*
 * log_open(), with a file target already opened (by log_file_open()) as
 * fd, which the log then owns; -1 to open it here.
 */
int log_open_fd(const char *target, int level, int fd);

/* Whether target is the backend in use. */
bool log_uses(const char *target);

/* The path of the file backend in use, or NULL. */
const char *log_file_in_use(void);

/*
 * log_open(), unless target is already the one in use: then only the
 * level.  1 if it opened target, 0 if it was in use, -1 as log_open().
 */
int log_switch(const char *target, int level);

/* Also copies every message to stderr (start-up, before detaching). */
void log_set_stderr_copy(bool on);

/*
 * Opens a log file for appending, creating it (0640) if need be, without
 * waiting for a reader if it is a fifo.  When a fifo is full, writes wait
 * for the reader if wait_when_full (an access log: no line lost), else
 * fail (the error log: the master never hangs on it).  -1 with errno as
 * open(2).
 */
int log_file_open(const char *path, bool wait_when_full);

/*
 * Whether path is a symbolic link that log_file_open() does not follow:
 * neither root's nor ours (*owner: its uid).
 */
bool log_link_refused(const char *path, uid_t *owner);
/* Why such a link is refused: "a symbolic link of uid N: only ...". */
const char *log_link_refusal(uid_t owner);

/* Why log_file_open(path) failed with err, for a message; path may be NULL. */
const char *log_file_strerror(const char *path, int err);

/* Reopens a file backend under the same path (logrotate). */
int log_reopen(void);

/*
 * Gives a file backend to this uid so unprivileged workers can reopen
 * it; its group stays (logrotate's "create 0640 www-data adm").
 */
void log_chown(uid_t uid);

void log_close(void);
bool log_to_stderr(void);

void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends ": strerror(errno)". */
void log_errno(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * The last error logged since the last clear, "" if none: the reason a
 * step that logs its own failure gives to whoever asked for it.
 */
const char *log_last_error(void);
void log_last_error_clear(void);

#define log_error(...)   log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif

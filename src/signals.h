/* SPDX-License-Identifier: BSD-2-Clause */
/* The one table of master signals: drives sigaction() and the -s names. */
#ifndef PREFORKD_SIGNALS_H
#define PREFORKD_SIGNALS_H

#include <signal.h>

struct signal_def {
	int signo;
	const char *name;	/* "SIGHUP" */
	const char *command;	/* its -s name, or NULL */
	int handled;		/* 0: ignored by the master */
};

extern const struct signal_def signal_table[];
extern const char *const signal_commands;	/* "stop, quit, ..." */

/*
 * Installs handler for every handled signal, without SA_RESTART (a blocked
 * call must wake for a signal), ignores the others, and blocks the handled
 * ones: the caller unblocks them only where it sleeps.  old receives the
 * previous mask.  Returns 0 or -1 with errno.
 */
int signals_install(void (*handler)(int, siginfo_t *, void *), sigset_t *old);

/* The signal for a -s command, or 0. */
int signal_for_command(const char *command);
const char *signal_name(int signo);

#endif

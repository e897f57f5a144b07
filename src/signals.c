/* SPDX-License-Identifier: BSD-2-Clause */
/* The one table of master signals: drives sigaction() and the -s names. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "signals.h"

const struct signal_def signal_table[] = {
	{ SIGHUP,   "SIGHUP",   "reload", 1 },
	{ SIGTERM,  "SIGTERM",  "stop",   1 },
	{ SIGINT,   "SIGINT",   NULL,     1 },
	{ SIGQUIT,  "SIGQUIT",  "quit",   1 },
	{ SIGUSR1,  "SIGUSR1",  "reopen", 1 },
	{ SIGUSR2,  "SIGUSR2",  "upgrade", 1 },
	{ SIGWINCH, "SIGWINCH", NULL,     1 },
	{ SIGTTIN,  "SIGTTIN",  NULL,     1 },
	{ SIGTTOU,  "SIGTTOU",  NULL,     1 },
	{ SIGCHLD,  "SIGCHLD",  NULL,     1 },
	{ SIGPIPE,  "SIGPIPE",  NULL,     0 },
	/* A write past RLIMIT_FSIZE then fails with EFBIG, logged. */
	{ SIGXFSZ,  "SIGXFSZ",  NULL,     0 },
	{ 0, NULL, NULL, 0 }
};

const char *const signal_commands = "stop, quit, reload, reopen, upgrade";

int
signals_install(void (*handler)(int, siginfo_t *, void *), sigset_t *old)
{
	sigset_t blocked;

	sigemptyset(&blocked);
	for (const struct signal_def *d = signal_table; d->signo != 0; d++)
		if (d->handled)
			sigaddset(&blocked, d->signo);
	if (sigprocmask(SIG_BLOCK, &blocked, old) == -1)
		return -1;
	for (const struct signal_def *d = signal_table; d->signo != 0; d++) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		if (d->handled) {
			sa.sa_sigaction = handler;
			sa.sa_flags = SA_SIGINFO;
		} else {
			sa.sa_handler = SIG_IGN;
		}
		if (sigaction(d->signo, &sa, NULL) == -1)
			return -1;
	}
	return 0;
}

int
signal_for_command(const char *command)
{
	for (const struct signal_def *d = signal_table; d->signo != 0; d++)
		if (d->command != NULL && strcmp(d->command, command) == 0)
			return d->signo;
	return 0;
}

const char *
signal_name(int signo)
{
	for (const struct signal_def *d = signal_table; d->signo != 0; d++)
		if (d->signo == signo)
			return d->name;
	return "signal";
}

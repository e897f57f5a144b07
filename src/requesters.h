/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The processes waiting for a reload's outcome (-s reload, or a SIGHUP
 * whose sender is known), so that each is told the verdict once.
 */
#ifndef PREFORKD_REQUESTERS_H
#define PREFORKD_REQUESTERS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Processes waiting for a reload's outcome, each once. */
struct requesters {
	pid_t *pid;
	size_t n, cap;
};

void requesters_push(struct requesters *r, pid_t pid);
void requesters_reply(struct requesters *r, bool ok, const char *message);
void requesters_add(struct requesters *to, struct requesters *from);
void requesters_free(struct requesters *r);
/*
 * Adds the *nhup SIGHUP senders in hup (then empties that list) and the
 * requests queued on control_fd (skipped when -1); a refused request is
 * logged once, *refused_logged remembering that it was.
 */
void requesters_collect(struct requesters *r,
			const volatile sig_atomic_t *hup,
			volatile sig_atomic_t *nhup, int control_fd,
			bool *refused_logged);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
#include "config.h"

#include <stdlib.h>

#include "control.h"
#include "log.h"
#include "requesters.h"

void
requesters_push(struct requesters *r, pid_t pid)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->pid[i] == pid)
			return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		pid_t *p = realloc(r->pid, cap * sizeof(*p));

		if (p == NULL) {
			control_reply(pid, false, "the master is out of memory");
			return;
		}
		r->pid = p;
		r->cap = cap;
	}
	r->pid[r->n++] = pid;
}

void
requesters_reply(struct requesters *r, bool ok, const char *message)
{
	for (size_t i = 0; i < r->n; i++)
		control_reply(r->pid[i], ok, message);
	r->n = 0;
}

void
requesters_add(struct requesters *to, struct requesters *from)
{
	for (size_t i = 0; i < from->n; i++)
		requesters_push(to, from->pid[i]);
	from->n = 0;
}

void
requesters_free(struct requesters *r)
{
	free(r->pid);
	*r = (struct requesters){ .pid = NULL };
}

/*
 * Everyone who asked since the last reload: announced on the control
 * socket (one datagram each, so none is lost), or known only as the
 * sender of a SIGHUP (two signals sent close together merge into one).
 */
void
requesters_collect(struct requesters *r, const volatile sig_atomic_t *hup,
		   volatile sig_atomic_t *nhup, int control_fd,
		   bool *refused_logged)
{
	uid_t refused = 0;
	pid_t pid;

	for (sig_atomic_t i = 0; i < *nhup; i++)
		requesters_push(r, (pid_t)hup[i]);
	*nhup = 0;
	if (control_fd == -1)
		return;
	/* Bounded: what a flood leaves queued starts the next reload. */
	for (int i = 0; i < 4096 &&
	     (pid = control_next_request(control_fd, &refused)) > 0; i++)
		requesters_push(r, pid);
	if (refused != 0 && !*refused_logged) {
		log_warning("reload request from uid %d ignored: only root and "
			    "the master's user may ask", (int)refused);
		*refused_logged = true;
	}
}

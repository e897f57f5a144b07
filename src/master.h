/* SPDX-License-Identifier: BSD-2-Clause */
/* The master: supervises generations of workers, turns signals into acts. */
#ifndef PREFORKD_MASTER_H
#define PREFORKD_MASTER_H

#include <stdbool.h>

struct conf;

struct master_options {
	bool foreground;
	const char *pidfile_override;
};

/* Takes ownership of conf; returns the process exit status. */
int master_run(struct conf *conf, const struct master_options *opts);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* The registry of handlers the core can configure and call. */
#include "config.h"

#include <string.h>

#include "handler.h"

extern const struct handler echo_handler;
extern const struct handler http_handler;

const struct handler *const handlers[] = {
	&http_handler,
	&echo_handler,
	NULL
};

const struct handler *
handler_find(const char *name)
{
	for (size_t i = 0; handlers[i] != NULL; i++)
		if (strcmp(handlers[i]->name, name) == 0)
			return handlers[i];
	return NULL;
}

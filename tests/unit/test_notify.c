/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/notify.c: NOTIFY_SOCKET values to socket addresses. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "notify.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define SUN_PATH_SIZE (sizeof(((struct sockaddr_un *)0)->sun_path))

struct row {
	const char *value;
	int rc;
	const char *path;	/* sun_path from byte 0, NUL for '@' */
	size_t pathlen;		/* bytes of sun_path that count */
};

static char longest_path[SUN_PATH_SIZE];		/* fits, with its NUL */
static char too_long_path[SUN_PATH_SIZE + 1];
static char longest_abstract[SUN_PATH_SIZE + 1];	/* '@' + 107 bytes */
static char too_long_abstract[SUN_PATH_SIZE + 2];

static void
fill(char *buf, char first, size_t len)
{
	buf[0] = first;
	memset(buf + 1, 'x', len - 1);
	buf[len] = '\0';
}

static void
test_address_rows(void **state)
{
	(void)state;
	fill(longest_path, '/', SUN_PATH_SIZE - 1);
	fill(too_long_path, '/', SUN_PATH_SIZE);
	fill(longest_abstract, '@', SUN_PATH_SIZE);
	fill(too_long_abstract, '@', SUN_PATH_SIZE + 1);
	const struct row rows[] = {
		{ "/run/systemd/notify", 0, "/run/systemd/notify", 20 },
		{ "@/org/freedesktop/systemd1/notify", 0,
		  "\0/org/freedesktop/systemd1/notify", 33 },
		{ "@x", 0, "\0x", 2 },
		{ longest_path, 0, longest_path, SUN_PATH_SIZE },
		{ longest_abstract, 0, NULL, SUN_PATH_SIZE },
		{ too_long_path, -1, NULL, 0 },
		{ too_long_abstract, -1, NULL, 0 },
		{ "", -1, NULL, 0 },
		{ "@", -1, NULL, 0 },
		{ "/", -1, NULL, 0 },
		{ "run/notify", -1, NULL, 0 },
		{ NULL, -1, NULL, 0 },
	};

	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct row *r = &rows[i];
		struct sockaddr_un sun;
		socklen_t len = 0;
		int rc = notify_address(r->value, &sun, &len);

		if (rc != r->rc)
			fail_msg("row %zu (%.40s): returned %d, expected %d", i,
				 r->value ? r->value : "NULL", rc, r->rc);
		if (rc != 0)
			continue;
		if (sun.sun_family != AF_UNIX ||
		    len != offsetof(struct sockaddr_un, sun_path) + r->pathlen)
			fail_msg("row %zu (%.40s): family %d length %u, expected "
				 "%zu", i, r->value, sun.sun_family,
				 (unsigned)len, offsetof(struct sockaddr_un,
				 sun_path) + r->pathlen);
		if (r->value[0] == '@' && sun.sun_path[0] != '\0')
			fail_msg("row %zu (%.40s): abstract name not led by "
				 "NUL", i, r->value);
		if (memcmp(sun.sun_path + 1, r->value + 1,
			   strlen(r->value) - 1) != 0)
			fail_msg("row %zu (%.40s): name differs", i, r->value);
		if (r->path != NULL &&
		    memcmp(sun.sun_path, r->path, r->pathlen) != 0)
			fail_msg("row %zu (%.40s): sun_path differs", i,
				 r->value);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

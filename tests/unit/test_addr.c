/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/addr.c: listen address parsing, comparison, formatting. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "addr.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* sun_path is 108 bytes on Linux: 107 characters and the terminator. */
#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static char long_ok_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
static char long_bad_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];

/* "unix:/" followed by 'x's, so that the path has exactly pathlen bytes. */
static void
make_unix(char *buf, size_t pathlen)
{
	strcpy(buf, "unix:/");
	memset(buf + 6, 'x', pathlen - 1);
	buf[5 + pathlen] = '\0';
}

static int
setup_paths(void **state)
{
	(void)state;
	make_unix(long_ok_path, SUN_PATH_MAX);
	make_unix(long_bad_path, SUN_PATH_MAX + 1);
	return 0;
}

static void
parse_or_fail(const char *text, struct addr *a, const char *what, size_t row)
{
	char err[256] = "";

	if (addr_parse(text, a, err, sizeof(err)) != 0)
		fail_msg("row %zu (%s): addr_parse(\"%s\") failed: %s", row, what,
			 text, err);
}

/* ---- addr_parse: accepted forms ---------------------------------------- */

struct good_row {
	const char *text;
	int family;
	bool dual_stack;
	int port;		/* -1 for AF_UNIX */
	const char *host;	/* numeric host, or the socket path */
	socklen_t salen;
	const char *formatted;
};

static void
test_parse_good(void **state)
{
	static const struct good_row rows[] = {
		{ "*:80", AF_INET6, true, 80, "::",
		  sizeof(struct sockaddr_in6), "*:80" },
		{ "80", AF_INET6, true, 80, "::",
		  sizeof(struct sockaddr_in6), "*:80" },
		{ "*:0", AF_INET6, true, 0, "::",
		  sizeof(struct sockaddr_in6), "*:0" },
		{ "0", AF_INET6, true, 0, "::",
		  sizeof(struct sockaddr_in6), "*:0" },
		{ "*:65535", AF_INET6, true, 65535, "::",
		  sizeof(struct sockaddr_in6), "*:65535" },
		{ "0.0.0.0:80", AF_INET, false, 80, "0.0.0.0",
		  sizeof(struct sockaddr_in), "0.0.0.0:80" },
		{ "127.0.0.1:8080", AF_INET, false, 8080, "127.0.0.1",
		  sizeof(struct sockaddr_in), "127.0.0.1:8080" },
		{ "127.0.0.1:0", AF_INET, false, 0, "127.0.0.1",
		  sizeof(struct sockaddr_in), "127.0.0.1:0" },
		{ "10.1.2.3:080", AF_INET, false, 80, "10.1.2.3",
		  sizeof(struct sockaddr_in), "10.1.2.3:80" },
		{ "[::1]:80", AF_INET6, false, 80, "::1",
		  sizeof(struct sockaddr_in6), "[::1]:80" },
		{ "[::]:80", AF_INET6, false, 80, "::",
		  sizeof(struct sockaddr_in6), "[::]:80" },
		{ "[::1]:0", AF_INET6, false, 0, "::1",
		  sizeof(struct sockaddr_in6), "[::1]:0" },
		{ "[2001:db8::1]:443", AF_INET6, false, 443, "2001:db8::1",
		  sizeof(struct sockaddr_in6), "[2001:db8::1]:443" },
		{ "[0:0:0:0:0:0:0:1]:22", AF_INET6, false, 22, "::1",
		  sizeof(struct sockaddr_in6), "[::1]:22" },
		{ "unix:/run/x.sock", AF_UNIX, false, -1, "/run/x.sock",
		  offsetof(struct sockaddr_un, sun_path) + sizeof("/run/x.sock"),
		  "unix:/run/x.sock" },
		{ "unix:/", AF_UNIX, false, -1, "/",
		  offsetof(struct sockaddr_un, sun_path) + 2, "unix:/" },
		/* One spelling per path: "//" and "/./" go, ".." stays. */
		{ "unix://run//./x.sock", AF_UNIX, false, -1, "/run/x.sock",
		  offsetof(struct sockaddr_un, sun_path) + sizeof("/run/x.sock"),
		  "unix:/run/x.sock" },
		{ "unix:/run/../x.sock", AF_UNIX, false, -1, "/run/../x.sock",
		  offsetof(struct sockaddr_un, sun_path) +
		  sizeof("/run/../x.sock"), "unix:/run/../x.sock" },
		{ "unix:/run/.x/x.sock", AF_UNIX, false, -1, "/run/.x/x.sock",
		  offsetof(struct sockaddr_un, sun_path) +
		  sizeof("/run/.x/x.sock"), "unix:/run/.x/x.sock" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct good_row *row = &rows[i];
		struct addr a;
		char err[256] = "", host[INET6_ADDRSTRLEN + 128] = "";
		char buf[ADDR_TEXT_MAX];
		int rc;

		memset(&a, 0xa5, sizeof(a));
		rc = addr_parse(row->text, &a, err, sizeof(err));
		if (rc != 0)
			fail_msg("row %zu (%s): returned %d: %s", i, row->text, rc,
				 err);
		if (a.family != row->family)
			fail_msg("row %zu (%s): family %d, expected %d", i,
				 row->text, a.family, row->family);
		if (a.sa.ss_family != row->family)
			fail_msg("row %zu (%s): sa.ss_family %d, expected %d", i,
				 row->text, a.sa.ss_family, row->family);
		if (a.dual_stack != row->dual_stack)
			fail_msg("row %zu (%s): dual_stack %d, expected %d", i,
				 row->text, a.dual_stack, row->dual_stack);
		if (addr_port(&a) != row->port)
			fail_msg("row %zu (%s): port %d, expected %d", i, row->text,
				 addr_port(&a), row->port);
		if (a.salen != row->salen)
			fail_msg("row %zu (%s): salen %u, expected %u", i, row->text,
				 (unsigned)a.salen, (unsigned)row->salen);
		if (row->family == AF_INET)
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)&a.sa)->sin_addr,
				  host, sizeof(host));
		else if (row->family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)&a.sa)->sin6_addr,
				  host, sizeof(host));
		else
			snprintf(host, sizeof(host), "%s",
				 ((struct sockaddr_un *)&a.sa)->sun_path);
		if (strcmp(host, row->host) != 0)
			fail_msg("row %zu (%s): host '%s', expected '%s'", i,
				 row->text, host, row->host);
		addr_format(&a, buf, sizeof(buf));
		if (strcmp(buf, row->formatted) != 0)
			fail_msg("row %zu (%s): formatted '%s', expected '%s'", i,
				 row->text, buf, row->formatted);
	}
}

/* The longest unix path that fits sun_path, built at run time. */
static void
test_parse_unix_longest(void **state)
{
	struct addr a;
	char err[256] = "";
	const char *path = long_ok_path + 5;

	(void)state;
	if (addr_parse(long_ok_path, &a, err, sizeof(err)) != 0)
		fail_msg("%zu-byte unix path rejected: %s", strlen(path), err);
	assert_int_equal(a.family, AF_UNIX);
	assert_int_equal(strlen(path), SUN_PATH_MAX);
	assert_string_equal(((struct sockaddr_un *)&a.sa)->sun_path, path);
	assert_int_equal(a.salen,
			 offsetof(struct sockaddr_un, sun_path) + SUN_PATH_MAX + 1);
	assert_int_equal(addr_port(&a), -1);
}

/* ---- addr_parse: rejected forms ---------------------------------------- */

struct bad_row {
	const char *text;
	const char *err;	/* expected substring of the message */
};

static void
test_parse_bad(void **state)
{
	const struct bad_row rows[] = {
		{ "", "missing or bad port ''" },
		{ "[::ffff:127.0.0.1]:80", "[::ffff:127.0.0.1] is an IPv4-mapped "
		  "address: write the IPv4 address itself" },
		{ "127.0.0.1",
		  "'127.0.0.1' has no port: write 127.0.0.1:PORT" },
		{ "127.0.0.1:80.5", "port '80.5' is not a number in 0..65535" },
		{ "80.5", "port '80.5' is not a number in 0..65535" },
		{ "/run/p.sock",
		  "'/run/p.sock' is a path: write unix:/run/p.sock" },
		{ "127.0.0.1:", "missing or bad port ''" },
		{ "*:", "missing or bad port ''" },
		{ "*", "missing or bad port '*'" },
		{ "[::1]:", "missing or bad port ''" },
		{ "65536", "port '65536' is not a number in 0..65535" },
		{ "*:65536", "port '65536' is not a number in 0..65535" },
		{ "127.0.0.1:65536", "port '65536' is not a number in 0..65535" },
		{ "[::1]:65536", "port '65536' is not a number in 0..65535" },
		{ "99999999999999999999", "is not a number in 0..65535" },
		{ "-1", "missing or bad port '-1'" },
		{ "*:-1", "missing or bad port '-1'" },
		{ "+80", "missing or bad port '+80'" },
		{ " 80", "missing or bad port ' 80'" },
		{ "80 ", "port '80 ' is not a number" },
		{ "8o", "port '8o' is not a number" },
		{ "abc", "missing or bad port 'abc'" },
		{ "[::1]80", "expected [IPv6]:port" },
		{ "[::1", "expected [IPv6]:port" },
		{ "[]:80", "bad IPv6 address ''" },
		{ "[1.2.3.4]:80", "bad IPv6 address '1.2.3.4'" },
		{ "[::g]:80", "bad IPv6 address '::g'" },
		{ "::1:80", "write IPv6 addresses as [addr]:port" },
		{ ":::80", "write IPv6 addresses as [addr]:port" },
		{ "::80", "write IPv6 addresses as [addr]:port" },
		{ ":80", "bad host ''" },
		{ "**:80", "bad host '**'" },
		{ "localhost:80", "bad host 'localhost'" },
		{ "256.0.0.1:80", "bad host '256.0.0.1'" },
		{ "127.1:80", "bad host '127.1'" },
		{ "unix:run/x.sock", "unix socket path 'run/x.sock' must be absolute" },
		{ "unix:", "unix socket path '' must be absolute" },
		{ "unix:./x.sock", "must be absolute" },
		{ long_bad_path, "unix socket path is longer than 107 bytes" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct bad_row *row = &rows[i];
		struct addr a;
		char err[256];
		int rc;

		memset(err, 0, sizeof(err));
		rc = addr_parse(row->text, &a, err, sizeof(err));
		if (rc != -1)
			fail_msg("row %zu (%s): returned %d, expected -1 (family %d "
				 "port %d)", i, row->text, rc, a.family,
				 addr_port(&a));
		if (strstr(err, row->err) == NULL)
			fail_msg("row %zu (%s): error '%s' does not contain '%s'", i,
				 row->text, err, row->err);
	}
}

/* The message is cut to errlen and terminated. */
static void
test_parse_error_truncated(void **state)
{
	struct addr a;
	char err[16];

	(void)state;
	memset(err, 'Z', sizeof(err));
	assert_int_equal(addr_parse("localhost:80", &a, err, 8), -1);
	assert_int_equal(err[7], '\0');
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'Z');
}

/* ---- addr_equal --------------------------------------------------------- */

struct pair_row {
	const char *a, *b;
	bool expected;
};

static void
test_equal(void **state)
{
	static const struct pair_row rows[] = {
		{ "*:80", "*:80", true },
		{ "*:80", "80", true },
		{ "127.0.0.1:80", "127.0.0.1:80", true },
		{ "127.0.0.1:80", "127.0.0.1:080", true },
		{ "[::1]:80", "[::1]:80", true },
		{ "[::1]:80", "[0:0::1]:80", true },
		{ "[::]:80", "[::]:80", true },
		{ "unix:/run/x.sock", "unix:/run/x.sock", true },
		{ "127.0.0.1:80", "127.0.0.1:81", false },
		{ "127.0.0.1:80", "127.0.0.2:80", false },
		{ "*:80", "[::]:80", false },	/* dual stack vs v6-only */
		{ "*:80", "0.0.0.0:80", false },
		{ "0.0.0.0:80", "[::]:80", false },
		{ "[::1]:80", "[::2]:80", false },
		{ "[::1]:80", "127.0.0.1:80", false },
		{ "unix:/run/x.sock", "unix:/run/y.sock", false },
		{ "unix:/run/x", "unix:/run/x.sock", false },
		{ "unix:/run/x.sock", "*:80", false },
		{ "unix:/run//x.sock", "unix:/run/./x.sock", true },
		{ "*:0", "*:0", true },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct pair_row *row = &rows[i];
		struct addr a, b;

		parse_or_fail(row->a, &a, row->a, i);
		parse_or_fail(row->b, &b, row->b, i);
		if (addr_equal(&a, &b) != row->expected)
			fail_msg("row %zu (%s vs %s): addr_equal %d, expected %d", i,
				 row->a, row->b, !row->expected, row->expected);
		if (addr_equal(&b, &a) != row->expected)
			fail_msg("row %zu (%s vs %s): reversed addr_equal %d, "
				 "expected %d", i, row->a, row->b, !row->expected,
				 row->expected);
	}
}

/* ---- addr_conflicts ----------------------------------------------------- */

static void
test_conflicts(void **state)
{
	static const struct pair_row rows[] = {
		/* The dual-stack wildcard takes the port on every address. */
		{ "*:80", "*:80", true },
		{ "*:80", "80", true },
		{ "*:80", "127.0.0.1:80", true },
		{ "*:80", "[::1]:80", true },
		{ "*:80", "0.0.0.0:80", true },
		{ "*:80", "[::]:80", true },
		/* IPv4 wildcard: all IPv4, no IPv6. */
		{ "0.0.0.0:80", "127.0.0.1:80", true },
		{ "0.0.0.0:80", "0.0.0.0:80", true },
		{ "0.0.0.0:80", "[::1]:80", false },
		{ "0.0.0.0:80", "[::]:80", false },
		/* IPv6-only wildcard: all IPv6, no IPv4. */
		{ "[::]:80", "[::1]:80", true },
		{ "[::]:80", "[::]:80", true },
		{ "[::]:80", "127.0.0.1:80", false },
		/* Specific addresses. */
		{ "127.0.0.1:80", "127.0.0.1:80", true },
		{ "127.0.0.1:80", "127.0.0.2:80", false },
		{ "[::1]:80", "[::1]:80", true },
		{ "[::1]:80", "[::2]:80", false },
		{ "[::1]:80", "127.0.0.1:80", false },
		/* Different ports never. */
		{ "*:80", "*:81", false },
		{ "*:80", "127.0.0.1:81", false },
		{ "0.0.0.0:80", "127.0.0.1:8080", false },
		{ "[::]:80", "[::1]:81", false },
		{ "127.0.0.1:80", "127.0.0.1:81", false },
		/* Port 0 never: the kernel picks a free port for each. */
		{ "*:0", "*:0", false },
		{ "0", "0", false },
		{ "*:0", "127.0.0.1:0", false },
		{ "0.0.0.0:0", "127.0.0.1:0", false },
		{ "127.0.0.1:0", "127.0.0.1:0", false },
		{ "[::1]:0", "[::1]:0", false },
		{ "*:0", "*:80", false },
		/* Unix sockets: the same path only. */
		{ "unix:/run/x.sock", "unix:/run/x.sock", true },
		{ "unix:/run/x.sock", "unix:/run/y.sock", false },
		{ "unix:/run/x.sock", "*:80", false },
		{ "unix:/run/x.sock", "127.0.0.1:80", false },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct pair_row *row = &rows[i];
		struct addr a, b;

		parse_or_fail(row->a, &a, row->a, i);
		parse_or_fail(row->b, &b, row->b, i);
		if (addr_conflicts(&a, &b) != row->expected)
			fail_msg("row %zu (%s vs %s): addr_conflicts %d, expected %d",
				 i, row->a, row->b, !row->expected, row->expected);
		if (addr_conflicts(&b, &a) != row->expected)
			fail_msg("row %zu (%s vs %s): reversed addr_conflicts %d, "
				 "expected %d", i, row->a, row->b, !row->expected,
				 row->expected);
	}
}

/* ---- addr_format -------------------------------------------------------- */

struct format_row {
	const char *text;
	const char *formatted;
};

/* format(parse(x)) is canonical, and parse(format(parse(x))) == parse(x). */
static void
test_format_round_trip(void **state)
{
	static const struct format_row rows[] = {
		{ "*:80", "*:80" },
		{ "80", "*:80" },
		{ "*:0", "*:0" },
		{ "0.0.0.0:80", "0.0.0.0:80" },
		{ "127.0.0.1:8080", "127.0.0.1:8080" },
		{ "192.168.1.254:65535", "192.168.1.254:65535" },
		{ "[::1]:80", "[::1]:80" },
		{ "[::]:80", "[::]:80" },
		{ "[2001:DB8:0:0::1]:8443", "[2001:db8::1]:8443" },
		{ "unix:/run/x.sock", "unix:/run/x.sock" },
		{ "unix:/tmp/a b", "unix:/tmp/a b" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct format_row *row = &rows[i];
		struct addr a, b;
		char buf[ADDR_TEXT_MAX], buf2[ADDR_TEXT_MAX];

		parse_or_fail(row->text, &a, row->text, i);
		memset(buf, 'Z', sizeof(buf));
		addr_format(&a, buf, sizeof(buf));
		if (strcmp(buf, row->formatted) != 0)
			fail_msg("row %zu (%s): formatted '%s', expected '%s'", i,
				 row->text, buf, row->formatted);
		parse_or_fail(buf, &b, buf, i);
		if (!addr_equal(&a, &b))
			fail_msg("row %zu (%s): '%s' parses to a different address",
				 i, row->text, buf);
		addr_format(&b, buf2, sizeof(buf2));
		if (strcmp(buf2, buf) != 0)
			fail_msg("row %zu (%s): second format '%s' != '%s'", i,
				 row->text, buf2, buf);
	}
}

/* The longest unix path and the longest IPv6 text fit in ADDR_TEXT_MAX. */
static void
test_format_longest_fits(void **state)
{
	const struct format_row rows[] = {
		{ long_ok_path, long_ok_path },
		{ "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535",
		  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct addr a;
		char buf[ADDR_TEXT_MAX];

		parse_or_fail(rows[i].text, &a, rows[i].text, i);
		addr_format(&a, buf, sizeof(buf));
		if (strcmp(buf, rows[i].formatted) != 0)
			fail_msg("row %zu (%s): formatted '%s'", i, rows[i].text,
				 buf);
	}
}

struct trunc_row {
	const char *text;
	size_t len;
	const char *formatted;
};

static void
test_format_truncated(void **state)
{
	static const struct trunc_row rows[] = {
		{ "127.0.0.1:8080", 6, "127.0" },
		{ "[::1]:80", 4, "[::" },
		{ "*:8080", 3, "*:" },
		{ "unix:/run/x.sock", 8, "unix:/r" },
		{ "127.0.0.1:8080", 1, "" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct trunc_row *row = &rows[i];
		struct addr a;
		char buf[32];

		parse_or_fail(row->text, &a, row->text, i);
		memset(buf, 'Z', sizeof(buf));
		addr_format(&a, buf, row->len);
		if (strcmp(buf, row->formatted) != 0)
			fail_msg("row %zu (%s): formatted into %zu bytes '%s', "
				 "expected '%s'", i, row->text, row->len, buf,
				 row->formatted);
		if (buf[row->len] != 'Z')
			fail_msg("row %zu (%s): wrote past %zu bytes", i, row->text,
				 row->len);
	}
}

/* ---- addr_format_sockaddr ---------------------------------------------- */

static void
test_format_sockaddr(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6, mapped;
	struct sockaddr_un sun;
	struct sockaddr_storage other;
	struct {
		const char *name;
		const struct sockaddr *sa;
		socklen_t salen;
		const char *expected;
	} rows[] = {
		{ "IPv4 peer", (struct sockaddr *)&sin, sizeof(sin),
		  "192.0.2.7:5678" },
		{ "IPv6 peer", (struct sockaddr *)&sin6, sizeof(sin6),
		  "[2001:db8::7]:40000" },
		{ "IPv4 peer of a dual-stack listener",
		  (struct sockaddr *)&mapped, sizeof(mapped),
		  "198.51.100.20:443" },
		{ "unix peer", (struct sockaddr *)&sun,
		  offsetof(struct sockaddr_un, sun_path), "unix" },
		{ "AF_UNSPEC", (struct sockaddr *)&other, sizeof(other), "unix" },
		{ "oversized salen", (struct sockaddr *)&sin,
		  sizeof(struct sockaddr_storage) + 1, "unix" },
	};

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5678);
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(40000);
	inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
	memset(&mapped, 0, sizeof(mapped));
	mapped.sin6_family = AF_INET6;
	mapped.sin6_port = htons(443);
	inet_pton(AF_INET6, "::ffff:198.51.100.20", &mapped.sin6_addr);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memset(&other, 0, sizeof(other));
	other.ss_family = AF_UNSPEC;

	for (size_t i = 0; i < NROWS(rows); i++) {
		char buf[ADDR_TEXT_MAX];

		memset(buf, 'Z', sizeof(buf));
		addr_format_sockaddr(rows[i].sa, rows[i].salen, buf, sizeof(buf));
		if (strcmp(buf, rows[i].expected) != 0)
			fail_msg("row %zu (%s): '%s', expected '%s'", i,
				 rows[i].name, buf, rows[i].expected);
	}
}

/* ---- addr_format_host ---------------------------------------------------- */

static void
test_format_host(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6, mapped, loop6;
	struct sockaddr_un sun;
	struct {
		const char *name;
		const struct sockaddr *sa;
		socklen_t salen;
		const char *expected;
	} rows[] = {
		{ "IPv4", (struct sockaddr *)&sin, sizeof(sin), "192.0.2.7" },
		{ "IPv6", (struct sockaddr *)&sin6, sizeof(sin6), "2001:db8::7" },
		{ "IPv6 loopback", (struct sockaddr *)&loop6, sizeof(loop6),
		  "::1" },
		{ "IPv4-mapped IPv6 shown as IPv4", (struct sockaddr *)&mapped,
		  sizeof(mapped), "198.51.100.20" },
		{ "unix", (struct sockaddr *)&sun,
		  offsetof(struct sockaddr_un, sun_path), "unix:" },
	};

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5678);
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
	memset(&loop6, 0, sizeof(loop6));
	loop6.sin6_family = AF_INET6;
	loop6.sin6_addr = in6addr_loopback;
	memset(&mapped, 0, sizeof(mapped));
	mapped.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:198.51.100.20", &mapped.sin6_addr);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;

	for (size_t i = 0; i < NROWS(rows); i++) {
		char buf[ADDR_TEXT_MAX];

		memset(buf, 'Z', sizeof(buf));
		buf[sizeof(buf) - 1] = '\0';
		addr_format_host(rows[i].sa, rows[i].salen, buf, sizeof(buf));
		if (strcmp(buf, rows[i].expected) != 0)
			fail_msg("row %zu (%s): '%s', expected '%s'", i, rows[i].name,
				 buf, rows[i].expected);
	}
}

/* ---- addr_port / addr_set_port ------------------------------------------ */

struct port_row {
	const char *text;
	int set;
	int expected;		/* addr_port after addr_set_port(set) */
	const char *formatted;
};

static void
test_set_port(void **state)
{
	static const struct port_row rows[] = {
		{ "127.0.0.1:0", 40000, 40000, "127.0.0.1:40000" },
		{ "*:0", 8080, 8080, "*:8080" },
		{ "[::1]:0", 65535, 65535, "[::1]:65535" },
		{ "[::]:80", 0, 0, "[::]:0" },
		{ "0.0.0.0:80", 1, 1, "0.0.0.0:1" },
		{ "unix:/run/x.sock", 80, -1, "unix:/run/x.sock" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct port_row *row = &rows[i];
		struct addr a, orig;
		char buf[ADDR_TEXT_MAX];

		parse_or_fail(row->text, &a, row->text, i);
		orig = a;
		addr_set_port(&a, row->set);
		if (addr_port(&a) != row->expected)
			fail_msg("row %zu (%s): port %d after set %d, expected %d", i,
				 row->text, addr_port(&a), row->set, row->expected);
		addr_format(&a, buf, sizeof(buf));
		if (strcmp(buf, row->formatted) != 0)
			fail_msg("row %zu (%s): formatted '%s', expected '%s'", i,
				 row->text, buf, row->formatted);
		if (a.family != orig.family || a.dual_stack != orig.dual_stack ||
		    a.salen != orig.salen)
			fail_msg("row %zu (%s): set_port changed more than the port",
				 i, row->text);
	}
}

/* ---- addr_from_sockaddr: a bound socket's address as its text's ------- */

static void
test_from_sockaddr(void **state)
{
	static const struct {
		const char *text;	/* what getsockname() gives, as text */
		bool v6only;
		int rc;
		const char *expected;	/* addr_parse() of the listen text */
	} rows[] = {
		{ "127.0.0.1:80", false, 0, "127.0.0.1:80" },
		{ "0.0.0.0:8080", false, 0, "0.0.0.0:8080" },
		{ "[::]:80", false, 0, "*:80" },	/* dual-stack */
		{ "[::]:80", true, 0, "[::]:80" },	/* IPv6 only */
		{ "[::1]:80", false, 0, "[::1]:80" },	/* one stack anyway */
		{ "[::1]:80", true, 0, "[::1]:80" },
		{ "unix:/run/p.sock", false, 0, "unix:/run/p.sock" },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		struct addr in, out, want;
		int rc;

		parse_or_fail(rows[i].text, &in, "input", i);
		parse_or_fail(rows[i].expected, &want, "expected", i);
		rc = addr_from_sockaddr(&in.sa, in.salen, rows[i].v6only, &out);
		if (rc != rows[i].rc)
			fail_msg("row %zu (%s): returned %d", i, rows[i].text,
				 rc);
		if (!addr_equal(&out, &want) || out.salen != want.salen)
			fail_msg("row %zu (%s, v6only %d): not equal to %s", i,
				 rows[i].text, rows[i].v6only, rows[i].expected);
	}
}

/* Sockets no listen address names: unnamed, abstract, other families. */
static void
test_from_sockaddr_refused(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	struct addr out;
	socklen_t off = offsetof(struct sockaddr_un, sun_path);

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	if (addr_from_sockaddr(&ss, off, false, &out) != -1)
		fail_msg("an unnamed unix socket was accepted");
	memcpy(sun->sun_path, "\0abstract", 9);
	if (addr_from_sockaddr(&ss, off + 9, false, &out) != -1)
		fail_msg("an abstract unix socket was accepted");
	ss.ss_family = AF_PACKET;
	if (addr_from_sockaddr(&ss, sizeof(ss), false, &out) != -1)
		fail_msg("an AF_PACKET address was accepted");
	ss.ss_family = AF_INET;
	if (addr_from_sockaddr(&ss, 4, false, &out) != -1)
		fail_msg("a truncated AF_INET address was accepted");
}

/* status-allow: prefixes parsed, and peers matched against them. */
static void
test_cidr(void **state)
{
	static const struct {
		const char *cidr;
		const char *peer;	/* "4:a.b.c.d", "6:addr", "unix" */
		int rc;
		bool match;
	} rows[] = {
		{ "127.0.0.1", "4:127.0.0.1", 0, true },
		{ "127.0.0.1", "4:127.0.0.2", 0, false },
		{ "127.0.0.0/8", "4:127.1.2.3", 0, true },
		{ "10.0.0.0/8", "4:11.0.0.1", 0, false },
		{ "192.168.1.128/25", "4:192.168.1.200", 0, true },
		{ "192.168.1.128/25", "4:192.168.1.127", 0, false },
		{ "0.0.0.0/0", "4:8.8.8.8", 0, true },
		{ "127.0.0.1", "6:::ffff:127.0.0.1", 0, true },
		{ "10.0.0.0/8", "6:::ffff:10.9.8.7", 0, true },
		{ "127.0.0.1", "6:::1", 0, false },
		/* The same IPv4 client, on an IPv4 or a dual-stack listener. */
		{ "::ffff:127.0.0.1", "4:127.0.0.1", 0, true },
		{ "::ffff:127.0.0.1", "6:::ffff:127.0.0.1", 0, true },
		{ "::ffff:127.0.0.1", "4:127.0.0.2", 0, false },
		{ "::ffff:10.0.0.0/104", "4:10.200.0.1", 0, true },
		{ "::ffff:10.0.0.0/104", "6:::ffff:10.200.0.1", 0, true },
		{ "::ffff:10.0.0.0/104", "4:11.0.0.1", 0, false },
		{ "::ffff:0.0.0.0/96", "4:192.0.2.1", 0, true },
		{ "::/0", "4:127.0.0.1", 0, false },
		{ "::/0", "6:::ffff:127.0.0.1", 0, false },
		{ "::/0", "6:2001:db8::1", 0, true },
		{ "::/0", "6:::1", 0, true },
		{ "::ffff:0:0/95", "6:::ffff:127.0.0.1", 0, false },
		{ "::ffff:127.0.0.1", "6:::1", 0, false },
		{ "::1", "6:::1", 0, true },
		{ "::1", "4:127.0.0.1", 0, false },
		{ "fd00::/8", "6:fd12::1", 0, true },
		{ "fd00::/8", "6:fe80::1", 0, false },
		{ "2001:db8::/33", "6:2001:db8:7fff::1", 0, true },
		{ "2001:db8::/33", "6:2001:db8:8000::1", 0, false },
		{ "unix", "unix", 0, true },
		{ "127.0.0.1", "unix", 0, false },
		{ "127.0.0.1/33", "", -1, false },
		{ "::1/129", "", -1, false },
		{ "127.0.0.1/", "", -1, false },
		{ "127.0.0.1/-1", "", -1, false },
		{ "127.0.0.1/8x", "", -1, false },
		{ "localhost", "", -1, false },
		{ "", "", -1, false },
		{ "/8", "", -1, false },
		{ "1.2.3", "", -1, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct addr_cidr c;
		struct sockaddr_storage ss;
		socklen_t len = 0;
		char err[128];
		int rc = addr_cidr_parse(rows[i].cidr, &c, err, sizeof(err));
		bool got;

		if (rc != rows[i].rc)
			fail_msg("row %zu (%s): rc %d, expected %d", i,
				 rows[i].cidr, rc, rows[i].rc);
		if (rc == -1) {
			if (err[0] == '\0')
				fail_msg("row %zu (%s): no message", i, rows[i].cidr);
			continue;
		}
		memset(&ss, 0, sizeof(ss));
		if (rows[i].peer[0] == '4') {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			in->sin_family = AF_INET;
			assert_int_equal(inet_pton(AF_INET, rows[i].peer + 2,
						   &in->sin_addr), 1);
			len = sizeof(*in);
		} else if (rows[i].peer[0] == '6') {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			in6->sin6_family = AF_INET6;
			assert_int_equal(inet_pton(AF_INET6, rows[i].peer + 2,
						   &in6->sin6_addr), 1);
			len = sizeof(*in6);
		} else {
			ss.ss_family = AF_UNIX;
			len = sizeof(sa_family_t);
		}
		got = addr_cidr_match(&c, (struct sockaddr *)&ss, len);
		if (got != rows[i].match)
			fail_msg("row %zu (%s vs %s): %d, expected %d", i,
				 rows[i].cidr, rows[i].peer, got, rows[i].match);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_parse_unix_longest),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_error_truncated),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_format_longest_fits),
		cmocka_unit_test(test_format_truncated),
		cmocka_unit_test(test_format_sockaddr),
		cmocka_unit_test(test_format_host),
		cmocka_unit_test(test_set_port),
		cmocka_unit_test(test_from_sockaddr),
		cmocka_unit_test(test_from_sockaddr_refused),
	};

	return cmocka_run_group_tests(tests, setup_paths, NULL);
}

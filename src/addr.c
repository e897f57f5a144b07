/* SPDX-License-Identifier: BSD-2-Clause */
/* Listen addresses: parsing and comparison, no system calls. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"

static int
parse_port(const char *s, char *err, size_t errlen)
{
	char *end;
	long port;

	if (*s < '0' || *s > '9') {
		snprintf(err, errlen, "missing or bad port '%s'", s);
		return -1;
	}
	errno = 0;
	port = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || port < 0 || port > 65535) {
		snprintf(err, errlen, "port '%s' is not a number in 0..65535", s);
		return -1;
	}
	return (int)port;
}

/*
 * One spelling per path: "//" and "/./" say nothing, so two servers on
 * "/run//p.sock" and "/run/p.sock" are one address (and a config error),
 * not a bind() failing at start.  ".." is left alone: through a symlink
 * it need not mean the parent.
 */
static void
unix_path_tidy(const char *path, char *out)
{
	size_t o = 0;

	for (const char *p = path; *p != '\0';) {
		if (*p == '/') {
			while (*p == '/' || (p[0] == '.' && p[1] == '/' &&
					     p[-1] == '/'))
				p++;
			out[o++] = '/';
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}

static int
parse_unix(const char *path, struct addr *out, char *err, size_t errlen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->sa;

	if (path[0] != '/') {
		snprintf(err, errlen, "unix socket path '%s' must be absolute", path);
		return -1;
	}
	if (strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "unix socket path is longer than %zu bytes",
			 sizeof(sun->sun_path) - 1);
		return -1;
	}
	out->family = AF_UNIX;
	sun->sun_family = AF_UNIX;
	unix_path_tidy(path, sun->sun_path);
	out->salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				 strlen(sun->sun_path) + 1);
	return 0;
}

static int
parse_inet6(const char *host, size_t hostlen, int port, struct addr *out,
	    char *err, size_t errlen)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;
	char buf[INET6_ADDRSTRLEN];

	if (hostlen >= sizeof(buf)) {
		snprintf(err, errlen, "bad IPv6 address '%.*s'", (int)hostlen, host);
		return -1;
	}
	memcpy(buf, host, hostlen);
	buf[hostlen] = '\0';
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1) {
		snprintf(err, errlen, "bad IPv6 address '%s'", buf);
		return -1;
	}
	/* An IPv6-only socket cannot bind one (EINVAL): say what works. */
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		snprintf(err, errlen, "[%s] is an IPv4-mapped address: write "
			 "the IPv4 address itself", buf);
		return -1;
	}
	out->family = AF_INET6;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	out->salen = sizeof(*sin6);
	return 0;
}

static int
parse_inet4(const char *host, size_t hostlen, int port, struct addr *out,
	    char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->sa;
	char buf[INET_ADDRSTRLEN];

	if (hostlen == 0 || hostlen >= sizeof(buf))
		goto bad;
	memcpy(buf, host, hostlen);
	buf[hostlen] = '\0';
	if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1)
		goto bad;
	out->family = AF_INET;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	out->salen = sizeof(*sin);
	return 0;
bad:
	snprintf(err, errlen,
		 "bad host '%.*s': use a numeric IPv4 address, [IPv6] or *",
		 (int)hostlen, host);
	return -1;
}

int
addr_parse(const char *text, struct addr *out, char *err, size_t errlen)
{
	const char *colon, *portstr;
	int port;

	memset(out, 0, sizeof(*out));
	if (strncmp(text, "unix:", 5) == 0)
		return parse_unix(text + 5, out, err, errlen);

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen,
				 "bad address '%s': expected [IPv6]:port", text);
			return -1;
		}
		if ((port = parse_port(close + 2, err, errlen)) < 0)
			return -1;
		return parse_inet6(text + 1, (size_t)(close - text - 1), port,
				   out, err, errlen);
	}

	colon = strrchr(text, ':');
	/* "127.0.0.1" or a path alone would read as a bad port. */
	if (colon == NULL && text[0] == '/') {
		snprintf(err, errlen, "'%s' is a path: write unix:%s", text,
			 text);
		return -1;
	}
	if (colon == NULL && inet_pton(AF_INET, text, &(struct in_addr){0}) ==
	    1) {
		snprintf(err, errlen, "'%s' has no port: write %s:PORT", text,
			 text);
		return -1;
	}
	portstr = colon ? colon + 1 : text;
	if ((port = parse_port(portstr, err, errlen)) < 0)
		return -1;
	if (colon == NULL || (colon - text == 1 && text[0] == '*')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;

		out->family = AF_INET6;
		out->dual_stack = true;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		out->salen = sizeof(*sin6);
		return 0;
	}
	if (memchr(text, ':', (size_t)(colon - text)) != NULL) {
		snprintf(err, errlen,
			 "bad address '%s': write IPv6 addresses as [addr]:port",
			 text);
		return -1;
	}
	return parse_inet4(text, (size_t)(colon - text), port, out, err, errlen);
}

int
addr_port(const struct addr *a)
{
	if (a->family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->sa)->sin_port);
	if (a->family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->sa)->sin6_port);
	return -1;
}

void
addr_set_port(struct addr *a, int port)
{
	if (a->family == AF_INET)
		((struct sockaddr_in *)&a->sa)->sin_port = htons((uint16_t)port);
	else if (a->family == AF_INET6)
		((struct sockaddr_in6 *)&a->sa)->sin6_port = htons((uint16_t)port);
}

bool
addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family || a->dual_stack != b->dual_stack)
		return false;
	switch (a->family) {
	case AF_INET: {
		const struct sockaddr_in *x = (const void *)&a->sa;
		const struct sockaddr_in *y = (const void *)&b->sa;
		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *x = (const void *)&a->sa;
		const struct sockaddr_in6 *y = (const void *)&b->sa;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	case AF_UNIX:
		return strcmp(((const struct sockaddr_un *)&a->sa)->sun_path,
			      ((const struct sockaddr_un *)&b->sa)->sun_path) == 0;
	}
	return false;
}

static bool
is_wildcard(const struct addr *a)
{
	if (a->family == AF_INET)
		return ((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	if (a->family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
			&((const struct sockaddr_in6 *)&a->sa)->sin6_addr);
	return false;
}

/* Does wildcard w cover the address a (same port already checked)? */
static bool
covers(const struct addr *w, const struct addr *a)
{
	if (!is_wildcard(w))
		return false;
	if (w->family == AF_INET6 && w->dual_stack)
		return true;
	return w->family == a->family;
}

bool
addr_conflicts(const struct addr *a, const struct addr *b)
{
	if (a->family == AF_UNIX || b->family == AF_UNIX)
		return addr_equal(a, b);
	if (addr_port(a) == 0 || addr_port(a) != addr_port(b))
		return false;
	if (a->family == b->family && !a->dual_stack && !b->dual_stack &&
	    addr_equal(a, b))
		return true;
	return covers(a, b) || covers(b, a);
}

void
addr_format(const struct addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	switch (a->family) {
	case AF_UNIX:
		snprintf(buf, len, "unix:%s",
			 ((const struct sockaddr_un *)&a->sa)->sun_path);
		return;
	case AF_INET:
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->sa)->sin_addr,
			  host, sizeof(host));
		snprintf(buf, len, "%s:%d", host, addr_port(a));
		return;
	case AF_INET6:
		if (a->dual_stack) {
			snprintf(buf, len, "*:%d", addr_port(a));
			return;
		}
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)&a->sa)->sin6_addr,
			  host, sizeof(host));
		snprintf(buf, len, "[%s]:%d", host, addr_port(a));
		return;
	}
	snprintf(buf, len, "?");
}

void
addr_format_sockaddr(const struct sockaddr *sa, socklen_t salen, char *buf,
		     size_t len)
{
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (salen > sizeof(a.sa) || sa->sa_family == AF_UNIX ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
		snprintf(buf, len, "unix");
		return;
	}
	memcpy(&a.sa, sa, salen);
	a.salen = salen;
	a.family = sa->sa_family;
	/*
	 * A dual-stack listener's IPv4 client, as the access log and the
	 * status page show it (addr_format_host()): not [::ffff:a.b.c.d].
	 */
	if (a.family == AF_INET6 && salen >= sizeof(*sin6) &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_port = sin6->sin6_port };

		memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
		memset(&a.sa, 0, sizeof(a.sa));
		memcpy(&a.sa, &sin, sizeof(sin));
		a.salen = sizeof(sin);
		a.family = AF_INET;
	}
	addr_format(&a, buf, len);
}

void
addr_format_host(const struct sockaddr *sa, socklen_t salen, char *buf,
		 size_t len)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  buf, (socklen_t)len);
	} else if (sa->sa_family == AF_INET6 && salen >= sizeof(*sin6)) {
		/* Dual-stack listeners see IPv4 clients as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf,
				  (socklen_t)len);
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
				  (socklen_t)len);
	} else {
		snprintf(buf, len, "unix:");
	}
}

int
addr_from_sockaddr(const struct sockaddr_storage *sa, socklen_t salen,
		   bool v6only, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	switch (sa->ss_family) {
	case AF_INET:
		if (salen < sizeof(struct sockaddr_in))
			return -1;
		out->salen = sizeof(struct sockaddr_in);
		break;
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		if (salen < sizeof(struct sockaddr_in6))
			return -1;
		out->salen = sizeof(struct sockaddr_in6);
		/* Only "*:port" is dual-stack; a host address is one stack. */
		out->dual_stack = !v6only &&
			IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
		break;
	}
	case AF_UNIX: {
		size_t off = offsetof(struct sockaddr_un, sun_path);
		const char *path = ((const struct sockaddr_un *)sa)->sun_path;

		/* Unnamed and abstract sockets have no "unix:/path" form. */
		if (salen <= off + 1 || path[0] != '/')
			return -1;
		out->salen = salen;
		break;
	}
	default:
		return -1;
	}
	out->family = sa->ss_family;
	memcpy(&out->sa, sa, out->salen);
	if (out->family == AF_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&out->sa;
		size_t max = sizeof(sun->sun_path) - 1;
		size_t n = salen - offsetof(struct sockaddr_un, sun_path);

		/* getsockname() may or may not count the terminator. */
		sun->sun_path[n < max ? n : max] = '\0';
		out->salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
					 strlen(sun->sun_path) + 1);
	}
	return 0;
}

/*
 * "::ffff:10.0.0.0/104" is 10.0.0.0/8: IPv4 clients are matched as IPv4
 * (addr_cidr_match()), so a mapped prefix is kept as the IPv4 one it
 * names.  One shorter than the mapped range's 96 bits stays IPv6.
 */
static void
cidr_unmap(struct addr_cidr *c)
{
	struct in6_addr a;

	memcpy(&a, c->bytes, sizeof(a));
	if (c->family != AF_INET6 || c->bits < 96 || !IN6_IS_ADDR_V4MAPPED(&a))
		return;
	c->family = AF_INET;
	c->bits -= 96;
	memmove(c->bytes, c->bytes + 12, 4);
	memset(c->bytes + 4, 0, sizeof(c->bytes) - 4);
}

int
addr_cidr_parse(const char *text, struct addr_cidr *out, char *err,
		size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long bits;
	char *end;

	memset(out, 0, sizeof(*out));
	if (strcmp(text, "unix") == 0) {
		out->family = AF_UNIX;
		return 0;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "'%s' is not an address or prefix", text);
		return -1;
	}
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, out->bytes) == 1) {
		out->family = AF_INET;
		out->bits = 32;
	} else if (inet_pton(AF_INET6, host, out->bytes) == 1) {
		out->family = AF_INET6;
		out->bits = 128;
	} else {
		snprintf(err, errlen, "'%s' is not a numeric IPv4 or IPv6 "
			 "address", host);
		return -1;
	}
	if (slash != NULL) {
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
		    bits > out->bits) {
			snprintf(err, errlen, "'%s': the prefix length must be "
				 "0..%u", text, out->bits);
			return -1;
		}
		out->bits = (unsigned)bits;
	}
	cidr_unmap(out);
	return 0;
}

static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	return rest == 0 ||
	       ((a[whole] ^ b[whole]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

bool
addr_cidr_match(const struct addr_cidr *c, const struct sockaddr *sa,
		socklen_t salen)
{
	if (sa->sa_family == AF_UNIX)
		return c->family == AF_UNIX;
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)sa;

		return c->family == AF_INET &&
		       prefix_equal((const unsigned char *)&in->sin_addr,
				    c->bytes, c->bits);
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		const unsigned char *b = in6->sin6_addr.s6_addr;

		/*
		 * A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d:
		 * they are matched as IPv4 only, as on an IPv4 listener, so
		 * that "::/0" does not let every IPv4 client in on one of them.
		 */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return c->family == AF_INET &&
			       prefix_equal(b + 12, c->bytes, c->bits);
		return c->family == AF_INET6 &&
		       prefix_equal(b, c->bytes, c->bits);
	}
	return false;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Listen addresses: parsing and comparison, no system calls. */
#ifndef PREFORKD_ADDR_H
#define PREFORKD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define ADDR_TEXT_MAX 128

struct addr {
	int family;			/* AF_INET, AF_INET6 or AF_UNIX */
	bool dual_stack;		/* "*:port": IPv6 socket accepting IPv4 too */
	struct sockaddr_storage sa;
	socklen_t salen;
};

/*
 * Parses "*:80", "80", "0.0.0.0:80", "127.0.0.1:80", "[::1]:80", "[::]:80"
 * or "unix:/path".  Returns 0, or -1 with a message in err.
 */
int addr_parse(const char *text, struct addr *out, char *err, size_t errlen);

/* Same socket: equal family, stack mode, address and port (or path). */
bool addr_equal(const struct addr *a, const struct addr *b);

/* Would binding both fail with EADDRINUSE?  Port 0 never conflicts. */
bool addr_conflicts(const struct addr *a, const struct addr *b);

/* "127.0.0.1:80", "[::1]:80", "*:80", "unix:/path"; always terminated. */
void addr_format(const struct addr *a, char *buf, size_t len);

/* Formats a peer's sockaddr as "1.2.3.4:5678" / "[::1]:5678" / "unix". */
void addr_format_sockaddr(const struct sockaddr *sa, socklen_t salen,
			  char *buf, size_t len);

/* A peer's host alone, for logs: "1.2.3.4", "::1" (IPv4-mapped shown as
 * IPv4), or "unix:". */
void addr_format_host(const struct sockaddr *sa, socklen_t salen, char *buf,
		      size_t len);

/*
 * The address of a bound socket, from getsockname() and IPV6_V6ONLY, as
 * addr_parse() would give it for its text ("*:80" for a dual-stack [::]).
 * Returns 0, or -1 for a family or form that no listen address names.
 */
int addr_from_sockaddr(const struct sockaddr_storage *sa, socklen_t salen,
		       bool v6only, struct addr *out);

/* An address prefix, for access lists: "127.0.0.1", "10.0.0.0/8", "::1",
 * "fd00::/8", or "unix" (peers on a unix socket). */
struct addr_cidr {
	int family;			/* AF_INET, AF_INET6 or AF_UNIX */
	unsigned char bytes[16];
	unsigned bits;
};

/* Returns 0, or -1 with a message in err. */
int addr_cidr_parse(const char *text, struct addr_cidr *out, char *err,
		    size_t errlen);

/*
 * Whether the peer is in the prefix.  An IPv4-mapped IPv6 peer (an IPv4
 * client of a dual-stack listener) is its IPv4 address: IPv4 prefixes
 * only (a mapped prefix was parsed as the IPv4 one), never "::/0".
 */
bool addr_cidr_match(const struct addr_cidr *c, const struct sockaddr *sa,
		     socklen_t salen);

int addr_port(const struct addr *a);
void addr_set_port(struct addr *a, int port);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for src/proxy.c.  Aborts when an invariant breaks:
 *
 * - the result is DONE, MORE or BAD, and MORE never for PROXY_MAX bytes;
 * - DONE: the header fits the input and the version's limit, its version
 *   is one the mode accepts, a v1 header ends in CRLF, family 0 carries
 *   no addresses; the same header alone parses to the same result, and
 *   one byte less asks for more;
 * - a TCP4 v1 header printed back in canonical form is the input itself
 *   (the parser takes nothing but the canonical form);
 * - a prefix found BAD stays BAD with more bytes, and an input that asks
 *   for more was asked for more at every shorter length tried.
 *
 * The first input byte picks the mode (its two low bits), the rest is
 * what the connection received.  Build as the Makefile's "make fuzz".
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "fuzz.h"

static enum proxy_result
parse_copy(const uint8_t *data, size_t len, enum proxy_mode mode,
	   struct proxy_header *h)
{
	/* An exact-sized heap copy, so that ASan sees any overread. */
	uint8_t *buf = malloc(len ? len : 1);
	enum proxy_result r;

	if (buf == NULL)
		abort();
	memcpy(buf, data, len);
	r = proxy_parse(buf, len, mode, h);
	free(buf);
	return r;
}

static void
check_v1_canonical(const uint8_t *in, const struct proxy_header *h)
{
	const struct sockaddr_in *s = (const struct sockaddr_in *)&h->src;
	const struct sockaddr_in *d = (const struct sockaddr_in *)&h->dst;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], line[128];
	int n;

	if (h->family != AF_INET)
		return;
	inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
	inet_ntop(AF_INET, &d->sin_addr, b, sizeof(b));
	n = snprintf(line, sizeof(line), "PROXY TCP4 %s %s %u %u\r\n", a, b,
		     ntohs(s->sin_port), ntohs(d->sin_port));
	if (n < 0 || (size_t)n != h->len || memcmp(line, in, h->len) != 0)
		abort();
}

static void
check_done(const uint8_t *in, size_t len, enum proxy_mode mode,
	   const struct proxy_header *h)
{
	struct proxy_header again;

	if (h->len == 0 || h->len > len || h->len > PROXY_MAX)
		abort();
	if (h->version != 1 && h->version != 2)
		abort();
	if (!(mode & (h->version == 1 ? PROXY_V1 : PROXY_V2)))
		abort();
	if (h->version == 1 && (h->len > PROXY_V1_MAX ||
	    in[h->len - 2] != '\r' || in[h->len - 1] != '\n'))
		abort();
	if (h->family != 0 && h->family != AF_INET && h->family != AF_INET6 &&
	    h->family != AF_UNIX)
		abort();
	if (h->family == 0 && (h->srclen != 0 || h->dstlen != 0))
		abort();
	if (h->srclen > sizeof(h->src) || h->dstlen > sizeof(h->dst))
		abort();
	if (h->version == 1)
		check_v1_canonical(in, h);
	if (parse_copy(in, h->len, mode, &again) != PROXY_DONE ||
	    again.len != h->len || again.family != h->family ||
	    again.srclen != h->srclen ||
	    memcmp(&again.src, &h->src, h->srclen) != 0)
		abort();
	if (parse_copy(in, h->len - 1, mode, &again) != PROXY_MORE)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum proxy_mode mode;
	struct proxy_header h, p;
	enum proxy_result r, half;

	if (size == 0)
		return 0;
	mode = (enum proxy_mode)(data[0] & PROXY_ANY);
	data++;
	size--;
	r = parse_copy(data, size, mode, &h);
	if (r != PROXY_DONE && r != PROXY_MORE && r != PROXY_BAD)
		abort();
	if (r == PROXY_MORE && size >= PROXY_MAX)
		abort();
	if (r == PROXY_DONE)
		check_done(data, size, mode, &h);
	half = parse_copy(data, size / 2, mode, &p);
	if (half == PROXY_BAD && r != PROXY_BAD)
		abort();
	if (r == PROXY_MORE && half != PROXY_MORE)
		abort();
	return 0;
}

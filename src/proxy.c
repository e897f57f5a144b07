/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PROXY protocol header, versions 1 and 2, parsed from the bytes a
 * connection received so far.  Strict as the specification asks: any
 * sequence that does not match exactly is refused, so that a peer cannot
 * pass a half-valid header off as client data.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/un.h>

#include "proxy.h"

#define V2_HEAD 16
#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_AF_UNSPEC 0x0
#define V2_AF_INET 0x1
#define V2_AF_INET6 0x2
#define V2_AF_UNIX 0x3
#define V2_TR_UNSPEC 0x0
#define V2_TR_STREAM 0x1
#define V2_TR_DGRAM 0x2
#define V2_UNIX_PATH 108

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};
static const unsigned char v1_sig[6] = { 'P', 'R', 'O', 'X', 'Y', ' ' };

/* Whether buf[0..len) agrees with sig as far as both go. */
static bool
starts_like(const unsigned char *buf, size_t len, const unsigned char *sig,
	    size_t siglen)
{
	return memcmp(buf, sig, len < siglen ? len : siglen) == 0;
}

/* A field of the v1 line: [p, p + len). */
struct field {
	const char *p;
	size_t len;
};

static bool
field_is(struct field f, const char *word)
{
	return f.len == strlen(word) && memcmp(f.p, word, f.len) == 0;
}

/* Splits [p, end) at single spaces into at most max fields; -1 on "  ". */
static int
split_fields(const char *p, const char *end, struct field *f, int max)
{
	int n = 0;

	for (;;) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *stop = sp != NULL ? sp : end;

		if (n == max || stop == p)
			return -1;
		f[n].p = p;
		f[n].len = (size_t)(stop - p);
		n++;
		if (sp == NULL)
			return n;
		p = sp + 1;
	}
}

/* A decimal port 0..65535 without leading zeroes. */
static int
parse_port(struct field f)
{
	unsigned v = 0;

	if (f.len == 0 || f.len > 5 || (f.len > 1 && f.p[0] == '0'))
		return -1;
	for (size_t i = 0; i < f.len; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(f.p[i] - '0');
	}
	return v <= 65535 ? (int)v : -1;
}

/* Four decimal numbers 0..255 joined by single dots, no leading zeroes. */
static bool
parse_ipv4(struct field f, struct in_addr *out)
{
	unsigned char b[4];
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		while (i < f.len && f.p[i] >= '0' && f.p[i] <= '9' &&
		       i - start < 3)
			v = v * 10 + (unsigned)(f.p[i++] - '0');
		if (i == start || v > 255 || (i - start > 1 && f.p[start] == '0'))
			return false;
		b[part] = (unsigned char)v;
		if (part < 3 && (i >= f.len || f.p[i++] != '.'))
			return false;
	}
	if (i != f.len)
		return false;
	memcpy(out, b, 4);
	return true;
}

/*
 * Any text form of RFC 4291 2.2, the IPv4-mapped "::ffff:1.2.3.4" too:
 * HAProxy writes that for an IPv4 client it relays to an IPv6 server.
 */
static bool
parse_ipv6(struct field f, struct in6_addr *out)
{
	char text[INET6_ADDRSTRLEN];

	if (f.len >= sizeof(text))
		return false;
	memcpy(text, f.p, f.len);
	text[f.len] = '\0';
	return inet_pton(AF_INET6, text, out) == 1;
}

static bool
v1_addresses(const struct field *f, bool six, struct proxy_header *h)
{
	int sport = parse_port(f[3]), dport = parse_port(f[4]);

	if (sport < 0 || dport < 0)
		return false;
	memset(&h->src, 0, sizeof(h->src));
	memset(&h->dst, 0, sizeof(h->dst));
	if (six) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&h->dst;

		if (!parse_ipv6(f[1], &s->sin6_addr) ||
		    !parse_ipv6(f[2], &d->sin6_addr))
			return false;
		s->sin6_family = d->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)sport);
		d->sin6_port = htons((uint16_t)dport);
		h->srclen = h->dstlen = sizeof(*s);
		h->family = AF_INET6;
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&h->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&h->dst;

		if (!parse_ipv4(f[1], &s->sin_addr) ||
		    !parse_ipv4(f[2], &d->sin_addr))
			return false;
		s->sin_family = d->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)sport);
		d->sin_port = htons((uint16_t)dport);
		h->srclen = h->dstlen = sizeof(*s);
		h->family = AF_INET;
	}
	return true;
}

/*
 * "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN[ ...]\r\n",
 * CRLF within the first 107 bytes; a lone CR or LF is refused.
 */
static enum proxy_result
parse_v1(const unsigned char *buf, size_t len, struct proxy_header *h)
{
	const char *line = (const char *)buf;
	struct field f[5];
	size_t end;
	int n;

	for (end = 0; end < len && end < PROXY_V1_MAX; end++) {
		if (buf[end] == '\n')
			return PROXY_BAD;
		if (buf[end] == '\r')
			break;
	}
	if (end + 2 > PROXY_V1_MAX)
		return PROXY_BAD;
	if (end + 1 >= len)
		return PROXY_MORE;
	if (buf[end + 1] != '\n' || end < sizeof(v1_sig))
		return PROXY_BAD;
	h->version = 1;
	h->family = 0;
	h->srclen = h->dstlen = 0;
	h->len = end + 2;
	line += sizeof(v1_sig);
	/* UNKNOWN: whatever follows it up to the CRLF is ignored. */
	if (end - sizeof(v1_sig) >= 7 && memcmp(line, "UNKNOWN", 7) == 0 &&
	    (end - sizeof(v1_sig) == 7 || line[7] == ' '))
		return PROXY_DONE;
	n = split_fields(line, (const char *)buf + end, f, 5);
	if (n != 5 || !(field_is(f[0], "TCP4") || field_is(f[0], "TCP6")))
		return PROXY_BAD;
	if (!v1_addresses(f, field_is(f[0], "TCP6"), h))
		return PROXY_BAD;
	return PROXY_DONE;
}

/* Type, 2-byte length, value: each must end within [p, end). */
static bool
tlvs_fit(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		size_t vlen;

		if (end - p < 3)
			return false;
		vlen = (size_t)p[1] << 8 | p[2];
		if (vlen > (size_t)(end - p) - 3)
			return false;
		p += 3 + vlen;
	}
	return true;
}

static void
v2_unix(const unsigned char *p, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_un *su = (struct sockaddr_un *)ss;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	su->sun_family = AF_UNIX;
	memcpy(su->sun_path, p, V2_UNIX_PATH);
	for (n = 0; n < V2_UNIX_PATH && p[n] != 0; n++)
		;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

static void
v2_addresses(const unsigned char *p, int af, struct proxy_header *h)
{
	memset(&h->src, 0, sizeof(h->src));
	memset(&h->dst, 0, sizeof(h->dst));
	if (af == V2_AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&h->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&h->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, p, 4);
		memcpy(&d->sin_addr, p + 4, 4);
		memcpy(&s->sin_port, p + 8, 2);
		memcpy(&d->sin_port, p + 10, 2);
		h->srclen = h->dstlen = sizeof(*s);
		h->family = AF_INET;
	} else if (af == V2_AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&h->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, p, 16);
		memcpy(&d->sin6_addr, p + 16, 16);
		memcpy(&s->sin6_port, p + 32, 2);
		memcpy(&d->sin6_port, p + 34, 2);
		h->srclen = h->dstlen = sizeof(*s);
		h->family = AF_INET6;
	} else {
		v2_unix(p, &h->src, &h->srclen);
		v2_unix(p + V2_UNIX_PATH, &h->dst, &h->dstlen);
		h->family = AF_UNIX;
	}
}

/*
 * The 16-byte head (signature, version 2 and command, family and
 * transport, length), then that many bytes: addresses and TLVs.  LOCAL
 * and the combinations we do not relay (UNSPEC, datagrams) keep the
 * connection's addresses, as the specification allows.
 */
static enum proxy_result
parse_v2(const unsigned char *buf, size_t len, struct proxy_header *h)
{
	static const size_t addr_size[] = {
		[V2_AF_INET] = 12, [V2_AF_INET6] = 36,
		[V2_AF_UNIX] = 2 * V2_UNIX_PATH,
	};
	size_t total, asize;
	int cmd, af, tr;

	if (len < V2_HEAD)
		return PROXY_MORE;
	cmd = buf[12] & 0x0f;
	if (buf[12] >> 4 != 2 || (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY))
		return PROXY_BAD;
	total = V2_HEAD + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PROXY_V2_MAX)
		return PROXY_BAD;
	if (len < total)
		return PROXY_MORE;
	h->version = 2;
	h->family = 0;
	h->srclen = h->dstlen = 0;
	h->len = total;
	if (cmd == V2_CMD_LOCAL)
		return PROXY_DONE;
	af = buf[13] >> 4;
	tr = buf[13] & 0x0f;
	if (af > V2_AF_UNIX || tr > V2_TR_DGRAM)
		return PROXY_BAD;
	if (af == V2_AF_UNSPEC || tr == V2_TR_UNSPEC)
		return PROXY_DONE;
	asize = addr_size[af];
	if (total - V2_HEAD < asize ||
	    !tlvs_fit(buf + V2_HEAD + asize, buf + total))
		return PROXY_BAD;
	if (tr == V2_TR_STREAM)
		v2_addresses(buf + V2_HEAD, af, h);
	return PROXY_DONE;
}

enum proxy_result
proxy_parse(const unsigned char *buf, size_t len, enum proxy_mode mode,
	    struct proxy_header *h)
{
	if (len == 0)
		return mode != PROXY_OFF ? PROXY_MORE : PROXY_BAD;
	if ((mode & PROXY_V2) && starts_like(buf, len, v2_sig, sizeof(v2_sig)))
		return parse_v2(buf, len, h);
	if ((mode & PROXY_V1) && starts_like(buf, len, v1_sig, sizeof(v1_sig)))
		return parse_v1(buf, len, h);
	return PROXY_BAD;
}

bool
proxy_begins_header(const unsigned char *buf, size_t len,
		    enum proxy_mode mode)
{
	return ((mode & PROXY_V2) &&
		starts_like(buf, len, v2_sig, sizeof(v2_sig))) ||
	       ((mode & PROXY_V1) &&
		starts_like(buf, len, v1_sig, sizeof(v1_sig)));
}

enum proxy_mode
proxy_signature(const unsigned char *buf, size_t len)
{
	if (len >= sizeof(v2_sig) && memcmp(buf, v2_sig, sizeof(v2_sig)) == 0)
		return PROXY_V2;
	if (len >= sizeof(v1_sig) && memcmp(buf, v1_sig, sizeof(v1_sig)) == 0)
		return PROXY_V1;
	return PROXY_OFF;
}

int
proxy_mode_parse(const char *text)
{
	static const struct {
		const char *name;
		enum proxy_mode mode;
	} modes[] = {
		{ "off", PROXY_OFF }, { "v1", PROXY_V1 }, { "v2", PROXY_V2 },
		{ "any", PROXY_ANY },
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(text, modes[i].name) == 0)
			return (int)modes[i].mode;
	return -1;
}

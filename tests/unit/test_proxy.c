/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/proxy.c: the PROXY protocol header, v1 and v2. */
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

#include "proxy.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
/* A literal and its length, NUL bytes included. */
#define B(s) s, sizeof(s) - 1
#define SIG "\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"
#define V4_ADDRS "\xc0\xa8\x00\x01" "\xc0\xa8\x00\x0b" "\xdc\x04" "\x01\xbb"
#define V6_ADDRS "\x20\x01\x0d\xb8\x00\x00\x00\x00" \
	"\x00\x00\x00\x00\x00\x00\x00\x01" \
	"\x20\x01\x0d\xb8\x00\x00\x00\x00" \
	"\x00\x00\x00\x00\x00\x00\x00\x02" "\xdc\x04" "\x01\xbb"
#define NOADDR 0, 0, NULL, NULL, 0, 0
#define V6_MAX "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

static const char *const result_names[] = { "DONE", "MORE", "BAD" };

struct row {
	const char *name;
	const char *in;
	size_t len;
	enum proxy_mode mode;
	enum proxy_result want;
	/* For DONE: */
	size_t hlen;
	int family;		/* 0: the connection's own addresses */
	const char *src, *dst;
	int sport, dport;
};

static void
sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t len,
	      int *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, buf, (socklen_t)len);
		*port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, buf, (socklen_t)len);
		*port = ntohs(s->sin6_port);
	} else {
		snprintf(buf, len, "family %d", ss->ss_family);
		*port = -1;
	}
}

static void
check_row(const struct row *r, const unsigned char *in, size_t len)
{
	struct proxy_header h;
	enum proxy_result got;
	char text[INET6_ADDRSTRLEN + 16];
	int port;

	memset(&h, 0xa5, sizeof(h));
	got = proxy_parse(in, len, r->mode, &h);
	if (got != r->want)
		fail_msg("%s (%zu bytes): got %s, want %s", r->name, len,
			 result_names[got], result_names[r->want]);
	if (got != PROXY_DONE)
		return;
	if (h.len != r->hlen)
		fail_msg("%s: header length %zu, want %zu", r->name, h.len,
			 r->hlen);
	if (h.family != r->family)
		fail_msg("%s: family %d, want %d", r->name, h.family, r->family);
	if (r->family == 0) {
		if (h.srclen != 0 || h.dstlen != 0)
			fail_msg("%s: addresses set for family 0", r->name);
		return;
	}
	sockaddr_text(&h.src, text, sizeof(text), &port);
	if (strcmp(text, r->src) != 0 || port != r->sport)
		fail_msg("%s: source %s port %d, want %s port %d", r->name,
			 text, port, r->src, r->sport);
	sockaddr_text(&h.dst, text, sizeof(text), &port);
	if (strcmp(text, r->dst) != 0 || port != r->dport)
		fail_msg("%s: destination %s port %d, want %s port %d",
			 r->name, text, port, r->dst, r->dport);
}

/* Every example of HAProxy's proxy-protocol.txt, and the protocol bytes. */
static const struct row spec_rows[] = {
	{ "v1 spec example, request follows",
	  B("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
	    "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n"),
	  PROXY_V1, PROXY_DONE, 47, AF_INET, "192.168.0.1", "192.168.0.11",
	  56324, 443 },
	{ "v1 longest TCP4 (56 bytes)",
	  B("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"),
	  PROXY_V1, PROXY_DONE, 56, AF_INET, "255.255.255.255",
	  "255.255.255.255", 65535, 65535 },
	{ "v1 longest TCP6 (104 bytes)",
	  B("PROXY TCP6 " V6_MAX " " V6_MAX " 65535 65535\r\n"),
	  PROXY_V1, PROXY_DONE, 104, AF_INET6, V6_MAX, V6_MAX, 65535, 65535 },
	{ "v1 UNKNOWN short form (15 bytes)", B("PROXY UNKNOWN\r\n"),
	  PROXY_V1, PROXY_DONE, 15, 0, NULL, NULL, 0, 0 },
	{ "v1 UNKNOWN worst case (107 bytes)",
	  B("PROXY UNKNOWN " V6_MAX " " V6_MAX " 65535 65535\r\n"),
	  PROXY_V1, PROXY_DONE, 107, 0, NULL, NULL, 0, 0 },
	{ "v1 TCP6 compressed", B("PROXY TCP6 ::1 2001:db8::2 1 80\r\n"),
	  PROXY_ANY, PROXY_DONE, 33, AF_INET6, "::1", "2001:db8::2", 1, 80 },
	{ "v1 TCP6 IPv4-mapped, as HAProxy relays an IPv4 client",
	  B("PROXY TCP6 ::ffff:127.0.0.1 ::1 1 80\r\n"),
	  PROXY_ANY, PROXY_DONE, 38, AF_INET6, "::ffff:127.0.0.1", "::1", 1,
	  80 },
	{ "v1 ports 0", B("PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n"),
	  PROXY_ANY, PROXY_DONE, 33, AF_INET, "0.0.0.0", "10.0.0.1", 0, 0 },
	{ "v2 haproxy capture (TCP4, request follows)",
	  B(SIG "\x21\x11\x00\x0c" "\xac\x13\x00\x01" "\xac\x13\x00\x03"
	    "\xa6\x52\x00\x50" "GET / HTTP/1.1\r\n"),
	  PROXY_V2, PROXY_DONE, 28, AF_INET, "172.19.0.1", "172.19.0.3",
	  42578, 80 },
	{ "v2 \\x11 TCP over IPv4", B(SIG "\x21\x11\x00\x0c" V4_ADDRS),
	  PROXY_V2, PROXY_DONE, 28, AF_INET, "192.168.0.1", "192.168.0.11",
	  56324, 443 },
	{ "v2 \\x12 UDP over IPv4: own addresses",
	  B(SIG "\x21\x12\x00\x0c" V4_ADDRS),
	  PROXY_V2, PROXY_DONE, 28, 0, NULL, NULL, 0, 0 },
	{ "v2 \\x21 TCP over IPv6", B(SIG "\x21\x21\x00\x24" V6_ADDRS),
	  PROXY_V2, PROXY_DONE, 52, AF_INET6, "2001:db8::1", "2001:db8::2",
	  56324, 443 },
	{ "v2 \\x22 UDP over IPv6: own addresses",
	  B(SIG "\x21\x22\x00\x24" V6_ADDRS),
	  PROXY_V2, PROXY_DONE, 52, 0, NULL, NULL, 0, 0 },
	{ "v2 \\x00 UNSPEC", B(SIG "\x21\x00\x00\x00"),
	  PROXY_V2, PROXY_DONE, 16, 0, NULL, NULL, 0, 0 },
	{ "v2 \\x00 UNSPEC with bytes to skip", B(SIG "\x21\x00\x00\x03xyz"),
	  PROXY_V2, PROXY_DONE, 19, 0, NULL, NULL, 0, 0 },
	{ "v2 LOCAL (health check)", B(SIG "\x20\x00\x00\x00"),
	  PROXY_V2, PROXY_DONE, 16, 0, NULL, NULL, 0, 0 },
	{ "v2 LOCAL with addresses: skipped", B(SIG "\x20\x11\x00\x0c" V4_ADDRS),
	  PROXY_V2, PROXY_DONE, 28, 0, NULL, NULL, 0, 0 },
	{ "v2 LOCAL ignores the family byte", B(SIG "\x20\xff\x00\x00"),
	  PROXY_ANY, PROXY_DONE, 16, 0, NULL, NULL, 0, 0 },
	{ "v2 TCP4 with TLVs", B(SIG "\x21\x11\x00\x18" V4_ADDRS
	  "\x01\x00\x02h2" "\x04\x00\x00" "\x05\x00\x01x"),
	  PROXY_ANY, PROXY_DONE, 40, AF_INET, "192.168.0.1", "192.168.0.11",
	  56324, 443 },
	{ "v2 TCP6 with a TLV", B(SIG "\x21\x21\x00\x28" V6_ADDRS
	  "\x02\x00\x01h"),
	  PROXY_ANY, PROXY_DONE, 56, AF_INET6, "2001:db8::1", "2001:db8::2",
	  56324, 443 },
};

static void
test_spec_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(spec_rows); i++)
		check_row(&spec_rows[i], (const unsigned char *)spec_rows[i].in,
			  spec_rows[i].len);
}

/* Every proper prefix of a valid header asks for more, never decides. */
static void
test_truncated_every_length(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(spec_rows); i++) {
		struct row r = spec_rows[i];

		r.want = PROXY_MORE;
		for (size_t n = 0; n < r.hlen; n++)
			check_row(&r, (const unsigned char *)r.in, n);
	}
}

static const struct row bad_rows[] = {
	{ "v1 lower case", B("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 tab after PROXY", B("PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 PROXZ", B("PROXZ TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 no header at all", B("GET / HTTP/1.1\r\n\r\n"), PROXY_ANY,
	  PROXY_BAD, NOADDR },
	{ "v1 TCP5", B("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 UNKNOWNX", B("PROXY UNKNOWNX\r\n"), PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 empty protocol", B("PROXY \r\n"), PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 double space", B("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 trailing space", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 missing port", B("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 extra field", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 port 65536", B("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 port with leading zero", B("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 signed port", B("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 IPv4 leading zero", B("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 IPv4 octet 256", B("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 IPv4 three parts", B("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 IPv4 five parts", B("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 IPv6 under TCP4", B("PROXY TCP4 ::1 ::1 1 2\r\n"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 IPv4 under TCP6", B("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 IPv6 too many groups", B("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 lone LF", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 CR without LF", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 NUL in address", B("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n"),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v1 108 bytes with CRLF",
	  B("PROXY UNKNOWN " V6_MAX " " V6_MAX " 65535 655350\r\n"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 107 bytes, no CRLF",
	  B("PROXY UNKNOWN " V6_MAX " " V6_MAX " 65535 6553500"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 106 bytes then CR: the LF would be byte 108",
	  B("PROXY UNKNOWN " V6_MAX " " V6_MAX " 65535 655350\r"), PROXY_V1,
	  PROXY_BAD, NOADDR },
	{ "v1 sent to a v2-only server",
	  B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), PROXY_V2, PROXY_BAD, NOADDR },
	{ "v1 sent with proxy-protocol off",
	  B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), PROXY_OFF, PROXY_BAD, NOADDR },
	{ "v2 sent to a v1-only server", B(SIG "\x21\x11\x00\x0c" V4_ADDRS),
	  PROXY_V1, PROXY_BAD, NOADDR },
	{ "v2 version 1", B(SIG "\x11\x11\x00\x0c" V4_ADDRS), PROXY_V2,
	  PROXY_BAD, NOADDR },
	{ "v2 version 3", B(SIG "\x31\x11\x00\x0c" V4_ADDRS), PROXY_V2,
	  PROXY_BAD, NOADDR },
	{ "v2 command 2", B(SIG "\x22\x11\x00\x0c" V4_ADDRS), PROXY_V2,
	  PROXY_BAD, NOADDR },
	{ "v2 command 15", B(SIG "\x2f\x11\x00\x0c" V4_ADDRS), PROXY_V2,
	  PROXY_BAD, NOADDR },
	{ "v2 family 4", B(SIG "\x21\x41\x00\x0c" V4_ADDRS), PROXY_V2,
	  PROXY_BAD, NOADDR },
	{ "v2 transport 3", B(SIG "\x21\x13\x00\x0c" V4_ADDRS), PROXY_V2,
	  PROXY_BAD, NOADDR },
	{ "v2 TCP4 address block short",
	  B(SIG "\x21\x11\x00\x0b" "\xc0\xa8\x00\x01\xc0\xa8\x00\x0b\xdc\x04\x01"),
	  PROXY_V2, PROXY_BAD, NOADDR },
	{ "v2 TCP6 address block short", B(SIG "\x21\x21\x00\x0c" V4_ADDRS),
	  PROXY_V2, PROXY_BAD, NOADDR },
	{ "v2 TLV value overruns", B(SIG "\x21\x11\x00\x10" V4_ADDRS
	  "\x01\x00\x02h"), PROXY_V2, PROXY_BAD, NOADDR },
	{ "v2 TLV length 0xffff", B(SIG "\x21\x11\x00\x11" V4_ADDRS
	  "\x01\xff\xffhh"), PROXY_V2, PROXY_BAD, NOADDR },
	{ "v2 TLV head cut (2 bytes)", B(SIG "\x21\x11\x00\x0e" V4_ADDRS
	  "\x01\x00"), PROXY_V2, PROXY_BAD, NOADDR },
	{ "v2 second TLV overruns", B(SIG "\x21\x11\x00\x15" V4_ADDRS
	  "\x01\x00\x01h" "\x02\x00\x03" "ab"), PROXY_V2, PROXY_BAD, NOADDR },
	{ "v2 header over the limit", B(SIG "\x21\x00\x07\xf1"), PROXY_V2,
	  PROXY_BAD, NOADDR },
	{ "v2 header of 0xffff", B(SIG "\x21\x00\xff\xff"), PROXY_ANY,
	  PROXY_BAD, NOADDR },
};

static void
test_bad_headers(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(bad_rows); i++)
		check_row(&bad_rows[i], (const unsigned char *)bad_rows[i].in,
			  bad_rows[i].len);
}

/* Any one byte of the v2 signature changed: refused at that byte. */
static void
test_bad_signature_bytes(void **state)
{
	static const char good[] = SIG "\x21\x11\x00\x0c" V4_ADDRS;
	unsigned char buf[sizeof(good)];
	struct row r = { "v2 signature byte", NULL, 0, PROXY_ANY, PROXY_BAD, NOADDR };
	char name[64];

	(void)state;
	for (size_t i = 0; i < 12; i++) {
		memcpy(buf, good, sizeof(buf));
		buf[i] ^= 0x20;
		snprintf(name, sizeof(name), "v2 signature byte %zu changed", i);
		r.name = name;
		check_row(&r, buf, i + 1);
		check_row(&r, buf, sizeof(buf) - 1);
	}
}

/*
 * Without a CR in its first 106 bytes a line cannot end within 107:
 * refused from there on, however long it gets.
 */
static void
test_v1_over_long(void **state)
{
	unsigned char buf[300];
	struct row r = { "v1 over-long", NULL, 0, PROXY_ANY, PROXY_BAD, NOADDR };

	(void)state;
	memcpy(buf, "PROXY UNKNOWN ", 14);
	memset(buf + 14, 'f', sizeof(buf) - 14);
	for (size_t n = PROXY_V1_MAX - 1; n <= sizeof(buf); n++)
		check_row(&r, buf, n);
	/* Up to 105 bytes the line could still end well. */
	r.want = PROXY_MORE;
	for (size_t n = 6; n < PROXY_V1_MAX - 1; n++)
		check_row(&r, buf, n);
}

static size_t
v2_unix_header(unsigned char *buf, unsigned char fam, const char *src,
	       const char *dst, const char *tlv, size_t tlvlen)
{
	size_t len = 216 + tlvlen;

	memcpy(buf, SIG, 12);
	buf[12] = 0x21;
	buf[13] = fam;
	buf[14] = (unsigned char)(len >> 8);
	buf[15] = (unsigned char)len;
	memset(buf + 16, 0, 216);
	memcpy(buf + 16, src, strlen(src));
	memcpy(buf + 16 + 108, dst, strlen(dst) < 108 ? strlen(dst) : 108);
	memcpy(buf + 16 + 216, tlv, tlvlen);
	return 16 + len;
}

static void
test_v2_unix(void **state)
{
	unsigned char buf[600];
	struct proxy_header h;
	const struct sockaddr_un *su = (const struct sockaddr_un *)&h.src;
	char full[109];
	size_t n;

	(void)state;
	n = v2_unix_header(buf, 0x31, "/run/client.sock", "/run/server.sock",
			   B("\x01\x00\x02h2"));
	assert_int_equal(n, 16 + 216 + 5);
	assert_int_equal(proxy_parse(buf, n, PROXY_V2, &h), PROXY_DONE);
	assert_int_equal(h.family, AF_UNIX);
	assert_int_equal(h.len, n);
	assert_string_equal(su->sun_path, "/run/client.sock");
	assert_int_equal(h.srclen, offsetof(struct sockaddr_un, sun_path) +
			 strlen("/run/client.sock"));
	for (size_t k = 0; k < n; k++)
		assert_int_equal(proxy_parse(buf, k, PROXY_V2, &h), PROXY_MORE);

	/* A path of all 108 bytes, no terminator: the length says where. */
	memset(full, 'p', 108);
	full[108] = '\0';
	n = v2_unix_header(buf, 0x31, "/a", full, "", 0);
	assert_int_equal(proxy_parse(buf, n, PROXY_V2, &h), PROXY_DONE);
	assert_int_equal(h.dstlen, offsetof(struct sockaddr_un, sun_path) + 108);

	/* UNIX datagrams: the connection's own addresses. */
	n = v2_unix_header(buf, 0x32, "/a", "/b", "", 0);
	assert_int_equal(proxy_parse(buf, n, PROXY_V2, &h), PROXY_DONE);
	assert_int_equal(h.family, 0);

	/* TLV overrun after UNIX addresses. */
	n = v2_unix_header(buf, 0x31, "/a", "/b", B("\x01\x00\x09h2"));
	assert_int_equal(proxy_parse(buf, n, PROXY_V2, &h), PROXY_BAD);

	/* Address block one byte short of two paths. */
	n = v2_unix_header(buf, 0x31, "/a", "/b", "", 0);
	buf[15]--;
	assert_int_equal(proxy_parse(buf, n - 1, PROXY_V2, &h), PROXY_BAD);
}

/* The longest v2 header taken, and one byte more. */
static void
test_v2_limit(void **state)
{
	static unsigned char buf[PROXY_V2_MAX + 1];
	size_t body = PROXY_V2_MAX - 16 - 12;
	struct proxy_header h;

	(void)state;
	memcpy(buf, SIG "\x21\x11", 14);
	buf[14] = (unsigned char)((PROXY_V2_MAX - 16) >> 8);
	buf[15] = (unsigned char)(PROXY_V2_MAX - 16);
	memcpy(buf + 16, V4_ADDRS, 12);
	/* One TLV filling the rest exactly. */
	buf[28] = 0xe0;
	buf[29] = (unsigned char)((body - 3) >> 8);
	buf[30] = (unsigned char)(body - 3);
	assert_int_equal(proxy_parse(buf, PROXY_V2_MAX, PROXY_V2, &h),
			 PROXY_DONE);
	assert_int_equal(h.len, PROXY_V2_MAX);
	buf[15]++;
	assert_int_equal(proxy_parse(buf, PROXY_V2_MAX + 1, PROXY_V2, &h),
			 PROXY_BAD);
}

/* Missing (another protocol's bytes) or malformed (a header gone wrong). */
static void
test_begins_header(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		enum proxy_mode mode;
		bool begins;
	} rows[] = {
		{ B("GET / HTTP/1.1\r\n"), PROXY_ANY, false },
		{ B("\x16\x03\x01\x02\x00"), PROXY_ANY, false },
		{ B("P"), PROXY_V1, true },
		{ B("PROXY"), PROXY_ANY, true },
		{ B("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"), PROXY_V1, true },
		{ B("PROXYTCP4"), PROXY_V1, false },
		{ B("PROXY TCP4"), PROXY_V2, false },
		{ B("\r\n\r"), PROXY_V2, true },
		{ B(SIG "\x21\x11\xff\xff"), PROXY_ANY, true },
		{ B(SIG "\x21"), PROXY_V1, false },
		{ B("\r\n\r\nGET"), PROXY_V2, false },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++)
		if (proxy_begins_header((const unsigned char *)rows[i].s,
					rows[i].len, rows[i].mode) !=
		    rows[i].begins)
			fail_msg("row %zu: %s, expected %s", i,
				 rows[i].begins ? "no" : "yes",
				 rows[i].begins ? "yes" : "no");
}

static void
test_mode_parse(void **state)
{
	(void)state;
	assert_int_equal(proxy_mode_parse("off"), PROXY_OFF);
	assert_int_equal(proxy_mode_parse("v1"), PROXY_V1);
	assert_int_equal(proxy_mode_parse("v2"), PROXY_V2);
	assert_int_equal(proxy_mode_parse("any"), PROXY_ANY);
	assert_int_equal(proxy_mode_parse("V1"), -1);
	assert_int_equal(proxy_mode_parse(""), -1);
	assert_int_equal(proxy_mode_parse("on"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_signature_bytes),
		cmocka_unit_test(test_v1_over_long),
		cmocka_unit_test(test_v2_unix),
		cmocka_unit_test(test_v2_limit),
		cmocka_unit_test(test_begins_header),
		cmocka_unit_test(test_mode_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for src/http/path.c.  Aborts when an invariant breaks:
 *
 * http_path_normalize: a success starts with '/', holds no NUL, no "//",
 * no "." or ".." segment, and fits outlen; with a roomy buffer it agrees
 * exactly with a naive reference (decode everything, then walk a stack of
 * segments); with a small one it may refuse more, never answer otherwise.
 *
 * http_html_escape: the result holds no < > " ' and every '&' starts one
 * of our five entities; undoing them gives the input back, with each byte
 * that is not part of a well-formed UTF-8 character as U+FFFD (found by a
 * decoding reference, not by the escaper's byte ranges).
 *
 * http_url_escape: the result holds only unreserved bytes, the few kept
 * sub-delims and %XX (upper case); decoding gives the input back.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -I src
 *        -include <dir>/config.h src/http/path.c tests/fuzz/fuzz_path.c
 * The first input byte picks the buffer sizes, the rest is the path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/path.h"
#include "fuzz.h"

#define ROOMY 8192

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The naive reference: 0 and the result in out, or -1. */
static long
reference(const char *raw, size_t len, char *out)
{
	char *dec, *seg[ROOMY];
	size_t n = 0, nseg = 0, i, o;
	int trailing = 0;
	char *p, *q;

	if ((dec = malloc(len + 1)) == NULL)
		abort();
	for (i = 0; i < len; i++) {
		int c = (unsigned char)raw[i];

		if (c == '%') {
			if (i + 2 >= len || hexval(raw[i + 1]) < 0 ||
			    hexval(raw[i + 2]) < 0)
				goto bad;
			c = hexval(raw[i + 1]) << 4 | hexval(raw[i + 2]);
			i += 2;
		}
		if (c == 0)
			goto bad;
		dec[n++] = (char)c;
	}
	dec[n] = '\0';
	if (n == 0 || dec[0] != '/')
		goto bad;
	for (p = dec + 1; ; p = q + 1) {
		q = strchr(p, '/');
		if (q != NULL)
			*q = '\0';
		trailing = 0;
		if (strcmp(p, "..") == 0) {
			if (nseg == 0)
				goto bad;
			nseg--;
			trailing = 1;
		} else if (strcmp(p, ".") == 0 || *p == '\0') {
			trailing = 1;
		} else {
			seg[nseg++] = p;
		}
		if (q == NULL)
			break;
	}
	/* A path ending in a real name has no trailing '/'. */
	o = 0;
	out[o++] = '/';
	for (i = 0; i < nseg; i++) {
		size_t l = strlen(seg[i]);

		memcpy(out + o, seg[i], l);
		o += l;
		if (i + 1 < nseg || trailing)
			out[o++] = '/';
	}
	out[o] = '\0';
	free(dec);
	return (long)o;
bad:
	free(dec);
	return -1;
}

static void
check_clean(const char *p, long n, size_t outlen)
{
	if (n < 1 || (size_t)n >= outlen || p[n] != '\0' ||
	    strlen(p) != (size_t)n || p[0] != '/')
		abort();
	if (strstr(p, "//") != NULL || strstr(p, "/./") != NULL ||
	    strstr(p, "/../") != NULL)
		abort();
	if ((n >= 2 && strcmp(p + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(p + n - 3, "/..") == 0))
		abort();
}

static void
fuzz_normalize(const char *raw, size_t len, size_t outlen)
{
	static char ref[ROOMY * 2], big[ROOMY * 2];
	char *out;
	long n, r, b;

	if (len >= ROOMY)
		return;
	r = reference(raw, len, ref);

	/* Exact-sized heap buffer, so that ASan sees any overrun. */
	if ((out = malloc(outlen ? outlen : 1)) == NULL)
		abort();
	n = http_path_normalize(raw, len, out, outlen);
	if (n >= 0) {
		check_clean(out, n, outlen);
		if (r != n || memcmp(out, ref, (size_t)n + 1) != 0)
			abort();
	}
	free(out);

	b = http_path_normalize(raw, len, big, sizeof(big));
	if (b != r || (b >= 0 && strcmp(big, ref) != 0))
		abort();
	if (b >= 0)
		check_clean(big, b, sizeof(big));
}

/*
 * The well-formed UTF-8 character at s: its length, or 0.  Decoded to
 * its code point, unlike the escaper, which checks byte ranges.
 */
static size_t
ref_utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1fu;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0fu;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* a NUL ends it here too */
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* src as the page shows it: each byte of no character as U+FFFD. */
static char *
ref_utf8_clean(const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	char *out = malloc(strlen(src) * 3 + 1);
	size_t o = 0, n;

	if (out == NULL)
		abort();
	while (*s != '\0') {
		if ((n = ref_utf8_len(s)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			s++;
			continue;
		}
		memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
	return out;
}

static void
fuzz_html(const char *src, size_t dstlen)
{
	char *dst, *back, *p, *want;
	long n;
	size_t o = 0;

	if ((dst = malloc(dstlen ? dstlen : 1)) == NULL)
		abort();
	n = http_html_escape(src, dst, dstlen);
	if (n < 0)
		goto out;
	if ((size_t)n >= dstlen || strlen(dst) != (size_t)n ||
	    strpbrk(dst, "<>\"'") != NULL)
		abort();
	if ((back = malloc((size_t)n + 1)) == NULL)
		abort();
	for (p = dst; *p != '\0'; ) {
		static const char *const ent[] = {
			"&amp;", "&lt;", "&gt;", "&quot;", "&#39;",
		};
		static const char ch[] = "&<>\"'";
		size_t k;

		if (*p != '&') {
			back[o++] = *p++;
			continue;
		}
		for (k = 0; k < 5; k++)
			if (strncmp(p, ent[k], strlen(ent[k])) == 0)
				break;
		if (k == 5)
			abort();
		back[o++] = ch[k];
		p += strlen(ent[k]);
	}
	back[o] = '\0';
	want = ref_utf8_clean(src);
	if (strcmp(back, want) != 0)
		abort();
	free(want);
	free(back);
out:
	free(dst);
}

static void
fuzz_url(const char *src, size_t dstlen)
{
	static const char safe[] = "-._~!$()*,=@";
	char *dst, *back;
	const char *p;
	long n;
	size_t o = 0;
	int hi, lo;

	if ((dst = malloc(dstlen ? dstlen : 1)) == NULL)
		abort();
	n = http_url_escape(src, dst, dstlen);
	if (n < 0)
		goto out;
	if ((size_t)n >= dstlen || strlen(dst) != (size_t)n)
		abort();
	if ((back = malloc((size_t)n + 1)) == NULL)
		abort();
	for (p = dst; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			hi = hexval(p[1]);
			lo = hexval(p[2]);
			if (hi < 0 || lo < 0 || (p[1] >= 'a' && p[1] <= 'f') ||
			    (p[2] >= 'a' && p[2] <= 'f'))
				abort();
			back[o++] = (char)(hi << 4 | lo);
			p += 2;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(safe, c) != NULL))
			abort();
		back[o++] = (char)c;
	}
	back[o] = '\0';
	if (strcmp(back, src) != 0)
		abort();
	free(back);
out:
	free(dst);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t outlen, len;
	const char *raw;
	char *str;

	if (size == 0)
		return 0;
	/* High bit: a small buffer (0..127 bytes), else a roomy one. */
	outlen = data[0] & 0x80 ? (size_t)(data[0] & 0x7f) : 4096;
	raw = (const char *)data + 1;
	len = size - 1;

	fuzz_normalize(raw, len, outlen);

	/* The escapes take C strings: the input up to its first NUL. */
	if ((str = malloc(len + 1)) == NULL)
		abort();
	memcpy(str, raw, len);
	str[len] = '\0';
	fuzz_html(str, outlen);
	fuzz_url(str, outlen);
	free(str);
	return 0;
}

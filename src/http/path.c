/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Request paths: percent-decoding and normalisation, and the escaping a
 * directory listing needs.  No system calls: the result is a string the
 * caller appends to its document root, so everything that could climb
 * out of it is settled here.
 */
#include "config.h"

#include <stddef.h>

#include <string.h>

#include "http/path.h"

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The byte at raw[*i], percent-decoded, advancing *i past it.  -1 for a
 * bad escape or a NUL, which no file name can hold and which would cut
 * the path short at open().
 */
static int
decode_byte(const char *raw, size_t len, size_t *i)
{
	unsigned char c = (unsigned char)raw[*i];
	int hi, lo;

	if (c == '%') {
		if (len - *i < 3)
			return -1;
		hi = hex_value((unsigned char)raw[*i + 1]);
		lo = hex_value((unsigned char)raw[*i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		c = (unsigned char)(hi << 4 | lo);
		*i += 3;
	} else
		*i += 1;
	return c == '\0' ? -1 : c;
}

/*
 * Decoding and normalising are one pass, so that "%2e%2e" and "%2F" are
 * judged as the ".." and "/" the file system will see.  Invariant: at the
 * start of each segment out[0..o) is a clean prefix ending in '/'.  The
 * bytes of a segment are written as they are decoded; a segment that
 * turns out to be "." or ".." is then taken back.  Only those two can be
 * taken back, so a segment that does not fit fails unless it is one of
 * them; that makes the check conservative: a long name later removed by
 * ".." still has to fit.
 */
long
http_path_normalize(const char *raw, size_t len, char *out, size_t outlen)
{
	size_t i = 0, o, seg, seglen, dots;
	int c, slash, overflow;

	if (outlen < 2 || len == 0 || decode_byte(raw, len, &i) != '/')
		return -1;
	out[0] = '/';
	o = 1;
	while (i < len) {
		seg = o;
		seglen = dots = 0;
		slash = overflow = 0;
		while (i < len) {
			if ((c = decode_byte(raw, len, &i)) < 0)
				return -1;
			if (c == '/') {
				slash = 1;
				break;
			}
			if (c == '.' && dots == seglen)
				dots++;
			seglen++;
			if (o < outlen - 1)
				out[o++] = (char)c;
			else
				overflow = 1;
		}
		if (seglen == 1 && dots == 1) {
			o = seg;
		} else if (seglen == 2 && dots == 2) {
			if (seg == 1)
				return -1;	/* above the root */
			/* Drop the previous segment, keep the '/' before it. */
			o = seg - 1;
			while (out[o - 1] != '/')
				o--;
		} else if (seglen > 0) {
			if (overflow || (slash && o >= outlen - 1))
				return HTTP_PATH_TOO_LONG;
			if (slash)
				out[o++] = '/';
		}
		/* An empty segment ("//", a trailing '/') adds nothing. */
	}
	out[o] = '\0';
	return (long)o;
}

/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

long
http_html_escape(const char *src, char *dst, size_t dstlen)
{
	const unsigned char *s;
	const char *rep;
	size_t o = 0, len, replen;

	if (dstlen == 0)
		return -1;
	for (s = (const unsigned char *)src; *s != '\0'; s += len) {
		len = 1;
		switch (*s) {
		case '&':  rep = "&amp;";  break;
		case '<':  rep = "&lt;";   break;
		case '>':  rep = "&gt;";   break;
		case '"':  rep = "&quot;"; break;
		case '\'': rep = "&#39;";  break;
		/*
		 * The page says UTF-8: a byte that is not part of a character
		 * (a name in another charset) shows as U+FFFD.
		 */
		default:   rep = NULL;     break;
		}
		if (rep != NULL) {
			replen = strlen(rep);
		} else if ((len = utf8_len(s)) == 0) {
			rep = "\xef\xbf\xbd";
			replen = 3;
			len = 1;
		} else {
			rep = (const char *)s;	/* the character itself */
			replen = len;
		}
		if (o + replen >= dstlen)
			return -1;
		memcpy(dst + o, rep, replen);
		o += replen;
	}
	dst[o] = '\0';
	return (long)o;
}

size_t
http_text_width(const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t width = 0;

	while (*s != '\0') {
		size_t len = utf8_len(s);

		s += len > 0 ? len : 1;
		width++;
	}
	return width;
}

/*
 * Bytes left as they are in a path segment: RFC 3986 unreserved and the
 * sub-delims that mean nothing to us, to a browser or in an HTML
 * attribute.  Escaped besides the obvious: ':' (a first segment "a:b"
 * would be read as a scheme, "javascript:" included), '&' and '\'' (HTML),
 * ';' (path parameters to some servers) and '+' (a space to form
 * decoders).
 */
static int
url_safe(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '-': case '.': case '_': case '~':
	case '!': case '$': case '(': case ')': case '*': case ',': case '=':
	case '@':
		return 1;
	}
	return 0;
}

long
http_url_escape(const char *src, char *dst, size_t dstlen)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s;
	size_t o = 0;

	if (dstlen == 0)
		return -1;
	for (s = (const unsigned char *)src; *s != '\0'; s++) {
		if (url_safe(*s)) {
			if (o + 1 >= dstlen)
				return -1;
			dst[o++] = (char)*s;
		} else {
			if (o + 3 >= dstlen)
				return -1;
			dst[o++] = '%';
			dst[o++] = hex[*s >> 4];
			dst[o++] = hex[*s & 0xf];
		}
	}
	dst[o] = '\0';
	return (long)o;
}

bool
http_path_plain(const char *path)
{
	return path[0] == '/' && strpbrk(path, "?%#") == NULL &&
	       strstr(path, "//") == NULL && strstr(path, "/.") == NULL;
}

bool
http_path_beneath(const char *path, size_t len, const char *root)
{
	size_t rlen = strlen(root);

	if (rlen == 1 && root[0] == '/')
		return len > 0 && path[0] == '/';
	if (len < rlen || memcmp(path, root, rlen) != 0)
		return false;
	return len == rlen || path[rlen] == '/';
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Request paths: percent-decoding and normalisation, no filesystem. */
#ifndef PREFORKD_HTTP_PATH_H
#define PREFORKD_HTTP_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Decodes the percent-encoded path raw[0..len) (which starts with '/') and
 * normalises it into out: "." segments dropped, ".." removing the segment
 * before it, runs of '/' merged; a trailing '/' is kept, and a path ending
 * in "/." or "/.." ends in '/'.  Decoding comes first: "%2e%2e" is "..",
 * "%2F" is '/', '+' stays '+', a backslash is an ordinary byte.  The
 * result starts with '/' and never contains a "." or ".." segment, "//" or
 * a NUL.  Returns the length of out; -1 for a path to refuse with 400:
 * an invalid escape (not two hex digits), an encoded or raw NUL, a ".."
 * that would climb above the root; or HTTP_PATH_TOO_LONG (414) for a
 * result longer than outlen - 1 (checked as the path is read, so a long
 * name later removed by ".." counts too).
 */
#define HTTP_PATH_TOO_LONG	(-2)
long http_path_normalize(const char *raw, size_t len, char *out,
			 size_t outlen);

/*
 * Writes src into dst (from its start) with & < > " ' as HTML entities,
 * for text and quoted attribute values, and each byte that is not part
 * of a well-formed UTF-8 character as U+FFFD.  Returns the length
 * written, dst NUL-terminated, or -1 if dst is too small.
 */
long http_html_escape(const char *src, char *dst, size_t dstlen);

/*
 * How many characters src shows as on a UTF-8 page once escaped as
 * above: a well-formed UTF-8 character is one, and so is each other byte
 * (one U+FFFD each).
 */
size_t http_text_width(const char *src);

/*
 * Writes a file name percent-encoded (%XX, upper case) for use as one URL
 * path segment: everything but ALPHA DIGIT - . _ ~ ! $ ( ) * , = @ is
 * escaped, '/' and ':' included, so the result is safe as a relative
 * link and holds nothing special to HTML (it can go into href="..." as
 * is).  Returns the length written, dst NUL-terminated, or -1 if dst is
 * too small.
 */
long http_url_escape(const char *src, char *dst, size_t dstlen);

/*
 * Is the absolute, canonical path[0..len) root itself or below it?
 * root is canonical too, without a trailing '/' unless it is "/".
 */
bool http_path_beneath(const char *path, size_t len, const char *root);

/*
 * Can path, from the configuration (status-path, health-path), ever equal
 * a normalised request path?  It starts with '/' and holds no query,
 * escape or fragment, no "//" and no "." or ".." segment (nor a name
 * starting with '.', as before).
 */
bool http_path_plain(const char *path);

#endif

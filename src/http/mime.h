/* SPDX-License-Identifier: BSD-2-Clause */
/* Content types by file extension: a built-in table and mime.types files. */
#ifndef PREFORKD_HTTP_MIME_H
#define PREFORKD_HTTP_MIME_H

#include <stddef.h>

struct mime_table;

/* The largest mime-types file read, in bytes. */
#define MIME_FILE_MAX (4 << 20)

/* A table holding the built-in types; NULL if out of memory. */
struct mime_table *mime_table_new(void);

/*
 * Adds the types of an /etc/mime.types-format file: lines of "type/subtype
 * ext ext ..." separated by blanks, '#' starting a comment, a type with
 * no extensions allowed.  Entries from the file override built-in ones and
 * earlier loads, a later line an earlier one.  It must be a regular file
 * of at most MIME_FILE_MAX bytes.  Returns 0, or -1 with "FILE:LINE:
 * reason", "open(FILE): reason", "FILE: larger than ..." or "read(FILE):
 * reason" in err, and then t is unchanged.
 */
int mime_table_load(struct mime_table *t, const char *path, char *err,
		    size_t errlen);

/*
 * The type for a file name (or path) by the extension after the last '.'
 * of its last segment, case-insensitive ("index.HTML" -> text/html), or
 * fallback if unknown or none ("README", ".profile", "name.").  No
 * allocation: a binary search.
 */
const char *mime_lookup(const struct mime_table *t, const char *filename,
			const char *fallback);

/*
 * Can s go out as a Content-Type: "type/subtype", perhaps followed by
 * parameters after ';', in printable ASCII, blanks and tabs?  A CR, LF
 * or other control character would let it write headers of its own.
 * NULL if so, or the reason it cannot ("must ...").
 */
const char *mime_type_check(const char *s);

/* Frees t; NULL is fine. */
void mime_table_free(struct mime_table *t);

#endif

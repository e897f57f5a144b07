/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Content types by file extension.
 *
 * The table is a sorted array of (extension, type) searched with
 * bsearch(): built once at configuration time, read on every request, a
 * few hundred to two thousand entries (Debian's mime.types has ~1,600
 * extensions), so about 11 string comparisons per lookup, no hashing of
 * the name, no allocation, and nothing to tune.  Extensions are stored in
 * lower case and the looked-up one is folded while comparing.
 *
 * Entries carry the order they were defined in; after each load the array
 * is sorted by (extension, order) and only the last definition of an
 * extension is kept, which is how a file overrides the built-in types.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http/mime.h"
#include "http/request.h"
#include "regfile.h"

struct mime_entry {
	const char *ext;		/* lower case */
	const char *type;
	size_t order;			/* of definition: the later one wins */
};

/* A copy of a mime.types line; the entries from it point into text. */
struct mime_line {
	struct mime_line *next;
	char text[];
};

struct mime_table {
	struct mime_entry *v;
	size_t n;
	struct mime_line *lines;	/* owned by the table */
};

static const struct {
	const char *ext, *type;
} builtin[] = {
	{ "atom", "application/atom+xml" },
	{ "avif", "image/avif" },
	{ "bmp", "image/bmp" },
	{ "css", "text/css" },
	{ "csv", "text/csv" },
	{ "flac", "audio/flac" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "htm", "text/html" },
	{ "html", "text/html" },
	{ "ico", "image/x-icon" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript" },		/* RFC 9239 */
	{ "json", "application/json" },
	{ "map", "application/json" },		/* source maps */
	{ "md", "text/markdown" },
	{ "mjs", "text/javascript" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "oga", "audio/ogg" },
	{ "ogg", "audio/ogg" },
	{ "ogv", "video/ogg" },
	{ "otf", "font/otf" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "rss", "application/rss+xml" },
	{ "shtml", "text/html" },
	{ "svg", "image/svg+xml" },
	{ "svgz", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "ttf", "font/ttf" },
	{ "txt", "text/plain" },
	{ "wasm", "application/wasm" },
	{ "wav", "audio/wav" },
	{ "webm", "video/webm" },
	{ "webmanifest", "application/manifest+json" },
	{ "webp", "image/webp" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "xhtml", "application/xhtml+xml" },
	{ "xml", "text/xml" },
	{ "zip", "application/zip" },
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Compares a key of any case with a lower-case extension. */
static int
ext_cmp(const char *key, const char *ext)
{
	int a, b;

	do {
		a = ascii_lower((unsigned char)*key++);
		b = (unsigned char)*ext++;
	} while (a == b && a != '\0');
	return a - b;
}

static int
entry_cmp(const void *pa, const void *pb)
{
	const struct mime_entry *a = pa, *b = pb;
	int d = strcmp(a->ext, b->ext);

	if (d != 0)
		return d;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int
key_cmp(const void *key, const void *pe)
{
	const struct mime_entry *e = pe;

	return ext_cmp(key, e->ext);
}

/* Sorts t->v and keeps the last definition of each extension. */
static void
table_settle(struct mime_table *t)
{
	size_t i, o = 0;

	qsort(t->v, t->n, sizeof(t->v[0]), entry_cmp);
	for (i = 0; i < t->n; i++) {
		if (i + 1 < t->n && strcmp(t->v[i].ext, t->v[i + 1].ext) == 0)
			continue;
		t->v[o] = t->v[i];
		t->v[o].order = o;
		o++;
	}
	t->n = o;
}

struct mime_table *
mime_table_new(void)
{
	struct mime_table *t;
	size_t i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->v = calloc(NBUILTIN, sizeof(t->v[0]))) == NULL) {
		free(t);
		return NULL;
	}
	for (i = 0; i < NBUILTIN; i++) {
		t->v[i].ext = builtin[i].ext;
		t->v[i].type = builtin[i].type;
		t->v[i].order = i;
	}
	t->n = NBUILTIN;
	table_settle(t);
	return t;
}

/* The next blank-separated word of *cursor, NUL-terminated in place. */
static char *
next_word(char **cursor)
{
	char *p = *cursor, *word;

	p += strspn(p, " \t\r\n\v\f");
	if (*p == '\0') {
		*cursor = p;
		return NULL;
	}
	word = p;
	p += strcspn(p, " \t\r\n\v\f");
	if (*p != '\0')
		*p++ = '\0';
	*cursor = p;
	return word;
}

/* "token/token", as Content-Type needs it, in s[0..len). */
static int
is_media_type_n(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);

	if (slash == NULL || slash == s || slash == s + len - 1)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s + i != slash && !http_is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
is_media_type(const char *s)
{
	return is_media_type_n(s, strlen(s));
}

const char *
mime_type_check(const char *s)
{
	size_t n = strcspn(s, " \t;");
	const char *p;

	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return "must hold no control character (CR, LF...) "
			       "and no byte beyond ASCII";
	}
	p = s + n + strspn(s + n, " \t");
	if (!is_media_type_n(s, n) || (*p != '\0' && *p != ';'))
		return "must be a media type (type/subtype), perhaps with "
		       "parameters after ';'";
	return NULL;
}

/*
 * Splits one mime.types line in place: *type is its media type (NULL for
 * a blank or comment line) and *rest the extensions after it, comments
 * cut off.  0, or -1 with the reason in why (which quotes the line's
 * first word) if that word is not a media type.
 */
static int
parse_line(char *line, char **type, char **rest, char *why, size_t whylen)
{
	char *hash;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	*rest = line;
	*type = next_word(rest);
	if (*type != NULL && !is_media_type(*type)) {
		snprintf(why, whylen, "'%s' is not a media type (type/subtype)",
			 *type);
		return -1;
	}
	return 0;
}

/*
 * Lower-cases an extension in place; -1 if it holds a '/', which no file
 * name can end with: most likely a forgotten line break before a type.
 */
static int
parse_ext(char *ext)
{
	for (; *ext != '\0'; ext++) {
		if (*ext == '/')
			return -1;
		*ext = (char)ascii_lower((unsigned char)*ext);
	}
	return 0;
}

/* What a load collects before it is merged: nothing in t changes on error. */
struct mime_load {
	struct mime_entry *v;
	size_t n, cap;
	struct mime_line *lines;
};

static int
load_add(struct mime_load *ld, const char *ext, const char *type,
	 size_t order)
{
	struct mime_entry *v;
	size_t cap;

	if (ld->n == ld->cap) {
		cap = ld->cap ? ld->cap * 2 : 256;
		if ((v = realloc(ld->v, cap * sizeof(*v))) == NULL)
			return -1;
		ld->v = v;
		ld->cap = cap;
	}
	ld->v[ld->n].ext = ext;
	ld->v[ld->n].type = type;
	ld->v[ld->n].order = order;
	ld->n++;
	return 0;
}

static void
load_free(struct mime_load *ld)
{
	struct mime_line *l, *next;

	for (l = ld->lines; l != NULL; l = next) {
		next = l->next;
		free(l);
	}
	free(ld->v);
}

/*
 * Reads the entries of one line into ld.  0, or -1 with the reason in
 * why; errno is ENOMEM if that is the reason.
 */
static int
load_line(struct mime_load *ld, size_t base, const char *text, size_t len,
	  char *why, size_t whylen)
{
	struct mime_line *l;
	char *type, *rest, *ext;
	size_t first = ld->n;

	if ((l = malloc(sizeof(*l) + len + 1)) == NULL)
		goto nomem;
	memcpy(l->text, text, len + 1);
	if (parse_line(l->text, &type, &rest, why, whylen) != 0)
		goto bad;
	while (type != NULL && (ext = next_word(&rest)) != NULL) {
		if (parse_ext(ext) != 0) {
			snprintf(why, whylen, "'%s' is not an extension", ext);
			goto bad;
		}
		if (load_add(ld, ext, type, base + ld->n) != 0)
			goto nomem;
	}
	if (ld->n == first) {
		/* Blank, or a type without extensions: nothing points here. */
		free(l);
		return 0;
	}
	l->next = ld->lines;
	ld->lines = l;
	return 0;
nomem:
	snprintf(why, whylen, "%s", strerror(ENOMEM));
bad:
	ld->n = first;
	free(l);
	return -1;
}

/* Moves the collected entries into t; -1 (t unchanged) if out of memory. */
static int
load_merge(struct mime_table *t, struct mime_load *ld)
{
	struct mime_entry *v;
	struct mime_line *last;

	if (ld->n == 0)
		return 0;
	if ((v = realloc(t->v, (t->n + ld->n) * sizeof(*v))) == NULL)
		return -1;
	t->v = v;
	memcpy(t->v + t->n, ld->v, ld->n * sizeof(*v));
	t->n += ld->n;
	table_settle(t);
	for (last = ld->lines; last->next != NULL; last = last->next)
		;
	last->next = t->lines;
	t->lines = ld->lines;
	ld->lines = NULL;
	return 0;
}

int
mime_table_load(struct mime_table *t, const char *path, char *err,
		size_t errlen)
{
	struct mime_load ld = { NULL, 0, 0, NULL };
	char why[256];
	char *line = NULL;
	size_t linecap = 0, lineno = 0;
	ssize_t len;
	const char *cant;
	struct stat st;
	FILE *fp;
	int rc = -1;

	if ((fp = regfile_open(path, &cant)) == NULL) {
		snprintf(err, errlen, "open(%s): %s", path, cant);
		return -1;
	}
	/* /etc/mime.types is some 60 KiB; a reload must not read gigabytes. */
	if (fstat(fileno(fp), &st) == 0 && st.st_size > MIME_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d MiB", path,
			 MIME_FILE_MAX >> 20);
		fclose(fp);
		return -1;
	}
	while ((len = getline(&line, &linecap, fp)) != -1) {
		lineno++;
		if (load_line(&ld, t->n, line, (size_t)len, why,
			      sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			goto out;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "read(%s): %s", path, strerror(errno));
		goto out;
	}
	if (load_merge(t, &ld) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto out;
	}
	rc = 0;
out:
	load_free(&ld);
	free(line);
	fclose(fp);
	return rc;
}

const char *
mime_lookup(const struct mime_table *t, const char *filename,
	    const char *fallback)
{
	const char *name, *dot;
	const struct mime_entry *e;

	name = strrchr(filename, '/');
	name = name != NULL ? name + 1 : filename;
	dot = strrchr(name, '.');
	/* No dot, a dotfile such as ".profile", or "name." */
	if (dot == NULL || dot == name || dot[1] == '\0')
		return fallback;
	e = bsearch(dot + 1, t->v, t->n, sizeof(t->v[0]), key_cmp);
	return e != NULL ? e->type : fallback;
}

void
mime_table_free(struct mime_table *t)
{
	struct mime_line *l, *next;

	if (t == NULL)
		return;
	for (l = t->lines; l != NULL; l = next) {
		next = l->next;
		free(l);
	}
	free(t->v);
	free(t);
}

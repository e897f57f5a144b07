/* SPDX-License-Identifier: BSD-2-Clause */
/* Directory listings (autoindex): names escaped, sorted, dotfiles hidden. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/cond.h"
#include "http/http.h"
#include "http/path.h"

struct entry {
	char *name;
	bool dir;
	off_t size;
	time_t mtime;
};

struct page {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void page_add(struct page *, const char *, ...)
	__attribute__((format(printf, 2, 3)));

static void
page_add(struct page *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = p->cap - p->len;

		va_start(ap, fmt);
		n = vsnprintf(p->buf ? p->buf + p->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			p->failed = true;
			return;
		}
		if ((size_t)n < room) {
			p->len += (size_t)n;
			return;
		}
		size_t cap = (p->cap ? p->cap * 2 : 4096) + (size_t)n;
		char *nb = realloc(p->buf, cap);

		if (nb == NULL) {
			p->failed = true;
			return;
		}
		p->buf = nb;
		p->cap = cap;
	}
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

static struct entry *
read_entries(int dirfd, size_t *count)
{
	struct entry *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd == -1 ? NULL : fdopendir(fd);

	if (d == NULL) {
		if (fd != -1)
			close(fd);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (de->d_name[0] == '.' ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (n == cap) {
			struct entry *nl = realloc(list, (cap = cap ? cap * 2 : 64) *
						   sizeof(*nl));
			if (nl == NULL)
				break;
			list = nl;
		}
		list[n] = (struct entry){ strdup(de->d_name), S_ISDIR(st.st_mode),
					  st.st_size, st.st_mtime };
		if (list[n].name != NULL)
			n++;
	}
	closedir(d);
	qsort(list, n, sizeof(*list), entry_cmp);
	*count = n;
	return list ? list : calloc(1, sizeof(*list));
}

/*
 * Columns as nginx lays them out: names padded to 50 characters, counted
 * as the page shows them, not in bytes.
 */
static int
pad(size_t width)
{
	return width >= 50 ? 1 : (int)(51 - width);
}

static void
page_entry(struct page *p, const struct entry *e)
{
	char url[NAME_MAX * 3 + 2], html[NAME_MAX * 6 + 2], when[32];
	size_t width = http_text_width(e->name) + (e->dir ? 1 : 0);
	struct tm tm;

	if (http_url_escape(e->name, url, sizeof(url)) < 0 ||
	    http_html_escape(e->name, html, sizeof(html)) < 0)
		return;
	gmtime_r(&e->mtime, &tm);
	strftime(when, sizeof(when), "%d-%b-%Y %H:%M", &tm);
	if (e->dir)
		page_add(p, "<a href=\"%s/\">%s/</a>%*s%s %19s\r\n", url, html,
			 pad(width), "", when, "-");
	else
		page_add(p, "<a href=\"%s\">%s</a>%*s%s %19lld\r\n", url, html,
			 pad(width), "", when, (long long)e->size);
}

void
http_send_listing(struct http_exchange *ex, int dirfd)
{
	char title[PATH_MAX * 6];
	struct page p = { NULL, 0, 0, false };
	struct http_headers h;
	size_t n = 0;
	struct entry *list;

	/*
	 * No validators: If-Match and If-None-Match can only say "*" of it
	 * (RFC 9110 13.1.1, 13.1.2), and dates do not apply.
	 */
	switch (http_precondition_status(ex->req, NULL, 0, 0)) {
	case 412:
		http_send_error(ex, 412, NULL);
		return;
	case 304:
		http_headers_start(&h, ex, 304);
		http_send_head_and_body(ex, &h, NULL, 0);
		return;
	}
	if ((list = read_entries(dirfd, &n)) == NULL) {
		http_send_open_error(ex, errno);
		return;
	}
	if (http_html_escape(ex->path, title, sizeof(title)) < 0) {
		free(list);
		http_send_error(ex, 500, NULL);
		return;
	}
	page_add(&p, "<html>\r\n<head><title>Index of %s</title></head>\r\n"
		 "<body>\r\n<h1>Index of %s</h1><hr><pre><a href=\"../\">../</a>"
		 "\r\n", title, title);
	for (size_t i = 0; i < n; i++) {
		page_entry(&p, &list[i]);
		free(list[i].name);
	}
	free(list);
	page_add(&p, "</pre><hr></body>\r\n</html>\r\n");
	if (p.failed) {
		free(p.buf);
		http_send_error(ex, 500, NULL);
		return;
	}
	http_headers_start(&h, ex, 200);
	http_headers_str(&h, "Content-Type", "text/html; charset=utf-8");
	http_headers_num(&h, "Content-Length", p.len);
	http_send_head_and_body(ex, &h, p.buf, p.len);
	free(p.buf);
}

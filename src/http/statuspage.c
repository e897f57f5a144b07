/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The http handler's status page: status-path answers the scoreboard
 * (text, ?format=json or ?format=prometheus) to the clients that
 * status-allow names, 403 to the others.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "http/http.h"
#include "http/path.h"

bool
http_status_configure(cfg_t *sec, struct http_conf *hc)
{
	const char *path = cfg_getstr(sec, "status-path");
	unsigned n = cfg_size(sec, "status-allow");
	bool ok = true;
	char err[256];

	if (path[0] != '\0' && !http_path_plain(path)) {
		conf_error(sec, "status-path", "status-path '%s' must be a "
			   "plain path such as /server-status", path);
		return false;
	}
	if (path[0] != '\0' && (hc->status_path = strdup(path)) == NULL)
		return false;
	if (n > 0 && (hc->status_allow = calloc(n, sizeof(*hc->status_allow))) ==
	    NULL)
		return false;
	for (unsigned i = 0; i < n; i++) {
		const char *text = cfg_getnstr(sec, "status-allow", i);

		if (addr_cidr_parse(text, &hc->status_allow[i], err,
				    sizeof(err)) == -1) {
			conf_error_entry(sec, "status-allow", i,
					 "status-allow: %s", err);
			ok = false;
		}
	}
	hc->nstatus_allow = n;
	return ok;
}

bool
http_status_match(const struct http_conf *hc, const char *path)
{
	return hc->status_path != NULL && strcmp(hc->status_path, path) == 0;
}

static bool
allowed(const struct http_exchange *ex)
{
	const struct handler_conn *c = ex->conn;

	for (size_t i = 0; i < ex->hc->nstatus_allow; i++)
		if (addr_cidr_match(&ex->hc->status_allow[i],
				    (const struct sockaddr *)&c->peer,
				    c->peerlen))
			return true;
	return false;
}

/* The value of format= in the query, or none (len 0). */
static const char *
query_format(const struct http_request *req, size_t *len)
{
	const char *q = req->query.p, *end = q + req->query.len;

	*len = 0;
	while (req->has_query && q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *stop = amp ? amp : end;

		if (stop - q >= 7 && memcmp(q, "format=", 7) == 0) {
			*len = (size_t)(stop - q - 7);
			return q + 7;
		}
		q = stop + 1;
	}
	return NULL;
}

void
http_serve_status(struct http_exchange *ex)
{
	struct http_headers h;
	const char *format, *type;
	size_t flen, len;
	char *body;

	if (!allowed(ex)) {
		http_send_error(ex, 403, NULL);
		return;
	}
	format = query_format(ex->req, &flen);
	if (conn_status(ex->conn, format, flen, &body, &len, &type) == -1) {
		http_send_error(ex, errno == EINVAL ? 400 : 500, NULL);
		return;
	}
	http_headers_start(&h, ex, 200);
	http_headers_str(&h, "Content-Type", type);
	http_headers_num(&h, "Content-Length", len);
	http_headers_str(&h, "Cache-Control", "no-store");
	http_send_head_and_body(ex, &h, body, len);
	free(body);
}

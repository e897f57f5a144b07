/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The http handler's health check: health-path answers 200 while this
 * instance serves and 503 once it drains (a graceful stop or an
 * upgrade's retirement has begun), so that a load balancer's check
 * takes the instance out before its workers leave.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "http/http.h"
#include "http/path.h"

bool
http_health_configure(cfg_t *sec, struct http_conf *hc)
{
	const char *path = cfg_getstr(sec, "health-path");

	if (path[0] == '\0')
		return true;
	if (!http_path_plain(path)) {
		conf_error(sec, "health-path", "health-path '%s' must be a "
			   "plain path such as /healthz", path);
		return false;
	}
	if (hc->status_path != NULL && strcmp(hc->status_path, path) == 0) {
		conf_error(sec, "health-path", "health-path '%s' is also the "
			   "status-path", path);
		return false;
	}
	return (hc->health_path = strdup(path)) != NULL;
}

bool
http_health_match(const struct http_conf *hc, const char *path)
{
	return hc->health_path != NULL && strcmp(hc->health_path, path) == 0;
}

void
http_serve_health(struct http_exchange *ex)
{
	static const char ok[] = "ok\n", draining[] = "draining\n";
	bool drains = conn_draining(ex->conn);
	const char *body = drains ? draining : ok;
	size_t len = drains ? sizeof(draining) - 1 : sizeof(ok) - 1;
	struct http_headers h;

	http_headers_start(&h, ex, drains ? 503 : 200);
	http_headers_str(&h, "Content-Type", "text/plain");
	http_headers_num(&h, "Content-Length", len);
	http_headers_str(&h, "Cache-Control", "no-store");
	http_send_head_and_body(ex, &h, body, len);
}

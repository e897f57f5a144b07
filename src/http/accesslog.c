/* SPDX-License-Identifier: BSD-2-Clause */
/* The access log: Combined Log Format, one write() per line. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "log.h"

/*
 * Output caps per field: a padded request or header is still logged, cut
 * short with "...", and the whole line always fits the buffer.
 */
#define FIELD_REQUEST_MAX	4096
#define FIELD_HEADER_MAX	2048
#define LINE_MAX_LEN		HTTP_ACCESS_LINE_MAX
_Static_assert(LINE_MAX_LEN >= FIELD_REQUEST_MAX + 2 * FIELD_HEADER_MAX + 200,
	       "an access log line must always fit");

/*
 * Copies s escaped as nginx does ('"', '\\' and non-printables as \xHH),
 * into at most cap bytes; a field cut short ends in "...".
 */
static size_t
escape_into(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = 0;

	if (len == 0) {
		out[0] = '-';
		return 1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) ?
			      4 : 1;

		if (n + need > cap - 3) {
			memcpy(out + n, "...", 3);
			return n + 3;
		}
		if (need == 4)
			snprintf(out + n, 5, "\\x%02X", c);
		else
			out[n] = (char)c;
		n += need;
	}
	return n;
}

size_t
http_access_format(char *out, size_t outlen, const char *peer, time_t now,
		   long gmtoff, const char *request_line, size_t rl_len,
		   int status, uint64_t bytes, const char *referer,
		   size_t referer_len, const char *agent, size_t agent_len)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = now + gmtoff;
	long off = gmtoff / 60;
	char *line = out;
	struct tm tm;
	size_t n;
	int k;

	if (outlen < LINE_MAX_LEN)
		return 0;
	gmtime_r(&local, &tm);
	k = snprintf(line, 128, "%.64s - - [%02d/%s/%04d:%02d:%02d:%02d "
		     "%c%02ld%02ld] \"", peer, tm.tm_mday, months[tm.tm_mon],
		     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
		     (off < 0 ? -off : off) % 60);
	if (k < 0 || k >= 128)
		return 0;
	n = (size_t)k;
	n += escape_into(line + n, FIELD_REQUEST_MAX, request_line, rl_len);
	if (bytes > 0)
		n += (size_t)snprintf(line + n, 64, "\" %d %llu \"", status,
				      (unsigned long long)bytes);
	else
		n += (size_t)snprintf(line + n, 64, "\" %d - \"", status);
	n += escape_into(line + n, FIELD_HEADER_MAX, referer, referer_len);
	memcpy(line + n, "\" \"", 3);
	n += 3;
	n += escape_into(line + n, FIELD_HEADER_MAX, agent, agent_len);
	memcpy(line + n, "\"\n", 2);
	return n + 2;
}

void
http_access_log(const struct http_exchange *ex, const char *peer, time_t now)
{
	static bool failed_logged;
	const struct http_request *req = ex->req;
	const char *rl = NULL;
	size_t rl_len = 0;
	char line[LINE_MAX_LEN];
	struct tm tm;
	size_t n;

	if (ex->hc->access_fd == -1 || ex->status == 0)
		return;
	if (req != NULL) {
		rl = req->method_name.p;
		/* method SP target SP version: contiguous in the buffer. */
		rl_len = (size_t)(req->target.p + req->target.len - rl) + 9;
	} else {
		rl = ex->raw_line;
		rl_len = ex->raw_line_len;
	}
	localtime_r(&now, &tm);
	n = http_access_format(line, sizeof(line), peer, now, tm.tm_gmtoff, rl,
			       rl_len, ex->status, ex->body_sent,
			       req ? req->referer.p : NULL,
			       req ? req->referer.len : 0,
			       req ? req->user_agent.p : NULL,
			       req ? req->user_agent.len : 0);
	if (n > 0 && write(ex->hc->access_fd, line, n) != (ssize_t)n &&
	    !failed_logged) {
		/* Said once: serving goes on without the log. */
		log_errno(LOG_LEVEL_ERROR, "write(%s)", ex->hc->access_log);
		failed_logged = true;
	}
}

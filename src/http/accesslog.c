/* The access log: Combined Log Format, one write() per line. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "log.h"

/* Copies s escaped as nginx does: '"', '\\' and non-printables as \xHH. */
static size_t
escape_into(char *out, size_t room, const char *s, size_t len)
{
	size_t n = 0;

	if (len == 0 && room > 1) {
		out[0] = '-';
		return 1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
			if (n + 4 >= room)
				break;
			snprintf(out + n, 5, "\\x%02X", c);
			n += 4;
		} else {
			if (n + 1 >= room)
				break;
			out[n++] = (char)c;
		}
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
	struct tm tm;
	size_t n;
	int k;

	gmtime_r(&local, &tm);
	k = snprintf(out, outlen, "%s - - [%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld] \"",
		     peer, tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
		     tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
		     (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	if (k < 0 || (size_t)k >= outlen)
		return 0;
	n = (size_t)k;
	n += escape_into(out + n, outlen - n, request_line, rl_len);
	if (bytes > 0)
		k = snprintf(out + n, outlen - n, "\" %d %llu \"", status,
			     (unsigned long long)bytes);
	else
		k = snprintf(out + n, outlen - n, "\" %d - \"", status);
	if (k < 0 || (size_t)k >= outlen - n)
		return 0;
	n += (size_t)k;
	n += escape_into(out + n, outlen - n, referer, referer_len);
	if (n + 3 >= outlen)
		return 0;
	memcpy(out + n, "\" \"", 3);
	n += 3;
	n += escape_into(out + n, outlen - n, agent, agent_len);
	if (n + 2 >= outlen)
		return 0;
	memcpy(out + n, "\"\n", 2);
	return n + 2;
}

void
http_access_log(const struct http_exchange *ex, const char *peer, time_t now)
{
	static bool failed_logged;
	const struct http_request *req = ex->req;
	const char *rl = NULL;
	size_t rl_len = 0;
	char line[4096];
	struct tm tm;
	size_t n;

	if (ex->hc->access_fd == -1 || ex->status == 0)
		return;
	if (req != NULL) {
		rl = req->method_name.p;
		/* method SP target SP version: contiguous in the buffer. */
		rl_len = (size_t)(req->target.p + req->target.len - rl) + 9;
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

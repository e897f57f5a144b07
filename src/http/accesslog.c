/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The access log: Combined Log Format, one write() per line (a line cut
 * short on a full disk aside).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/*
 * A write that fails, on a full disk say, costs its line, and a short one
 * leaves part of a line in the file, which the next line, of whichever
 * worker, would be glued to: where that part ends is kept in memory the
 * workers share, and the next writer that finds the file still ending
 * there starts with a newline (one load per line; a stat only after a
 * cut).  Each worker reports an episode when it starts (with the real
 * cause: a short write sets no errno, the write of the rest does) and
 * when it ends, with the lines it lost.
 */
static struct {
	bool failing;
	unsigned long lost;
} trouble;

/* Writes all n bytes; -1 with errno when that fails, *done saying how far. */
static int
write_whole(int fd, const char *p, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		ssize_t w = write(fd, p + *done, n - *done);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		*done += (size_t)w;
	}
	return 0;
}

/*
 * Where the file ends, if that is where a line was cut short: this writer
 * is then to end it (and no other); 0 if not.
 */
static int64_t
torn_end_take(const struct http_conf *hc)
{
	int64_t end = hc->access_torn_end ?
		      __atomic_load_n(hc->access_torn_end, __ATOMIC_SEQ_CST) : 0;
	struct stat st;

	if (end == 0 || !__atomic_compare_exchange_n(hc->access_torn_end,
	    &end, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return 0;
	return fstat(hc->access_fd, &st) == 0 && st.st_size == end ? end : 0;
}

static void
torn_end_set(const struct http_conf *hc, int64_t end)
{
	struct stat st;

	if (hc->access_torn_end == NULL)
		return;
	if (end == 0 && fstat(hc->access_fd, &st) == 0)
		end = st.st_size;
	__atomic_store_n(hc->access_torn_end, end, __ATOMIC_SEQ_CST);
}

static void
log_line_write(const struct http_conf *hc, char *line, size_t n)
{
	int64_t torn = torn_end_take(hc);
	size_t done, newline = torn != 0;

	/* line[0] is free for the newline that ends a torn line. */
	if (newline) {
		line[0] = '\n';
		n++;
	} else {
		line++;
	}
	if (write_whole(hc->access_fd, line, n, &done) == 0) {
		if (trouble.failing)
			log_notice("write(%s): writing again; %lu line(s) lost",
				   hc->access_log, trouble.lost);
		trouble.failing = false;
		trouble.lost = 0;
		return;
	}
	trouble.lost++;
	/* Nothing written: the cut is still there for the next writer. */
	if (done == 0 && newline)
		torn_end_set(hc, torn);
	else if (done > newline)
		torn_end_set(hc, 0);
	if (!trouble.failing) {
		/* Said once: serving goes on without the log. */
		log_errno(LOG_LEVEL_ERROR, "write(%s)", hc->access_log);
		trouble.failing = true;
	}
}

void
http_access_log(const struct http_exchange *ex, const char *peer, time_t now)
{
	const struct http_request *req = ex->req;
	const char *rl = NULL;
	size_t rl_len = 0;
	char line[1 + LINE_MAX_LEN];
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
	n = http_access_format(line + 1, LINE_MAX_LEN, peer, now, tm.tm_gmtoff, rl,
			       rl_len, ex->status, ex->body_sent,
			       req ? req->referer.p : NULL,
			       req ? req->referer.len : 0,
			       req ? req->user_agent.p : NULL,
			       req ? req->user_agent.len : 0);
	if (n > 0)
		log_line_write(ex->hc, line, n);
}

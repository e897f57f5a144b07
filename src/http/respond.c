/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writing responses: the head built in one buffer, sent with the first
 * part of the body in one sendmsg(), file bodies with sendfile() after a
 * head sent with MSG_MORE.
 *
 * The socket stays blocking so that the connection loop waits for a
 * request in one read; writes that must not block say MSG_DONTWAIT, and
 * only sendfile(), which takes no flags, needs O_NONBLOCK on the socket.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "http/cond.h"
#include "http/http.h"
#include "log.h"
#include "netio.h"

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

const char *
http_date_now(void)
{
	static char date[HTTP_DATE_LEN + 1];
	static time_t formatted = -1;
	time_t now = time(NULL);

	if (now != formatted) {
		http_date_format(now, date);
		formatted = now;
	}
	return date;
}

static void
put(struct http_headers *h, const char *s, size_t n)
{
	if (n > sizeof(h->buf) - h->len) {
		h->overflow = true;
		return;
	}
	memcpy(h->buf + h->len, s, n);
	h->len += n;
}

static void
put_num(struct http_headers *h, uint64_t v)
{
	char digits[20], *p = digits + sizeof(digits);

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	put(h, p, (size_t)(digits + sizeof(digits) - p));
}

/*
 * The head is built with memcpy and a hand-made number formatter: on a
 * small file vsnprintf() per header was most of a request's instructions.
 */
void
http_headers_str(struct http_headers *h, const char *name, const char *value)
{
	put(h, name, strlen(name));
	put(h, ": ", 2);
	put(h, value, strlen(value));
	put(h, "\r\n", 2);
}

void
http_headers_num(struct http_headers *h, const char *name, uint64_t value)
{
	put(h, name, strlen(name));
	put(h, ": ", 2);
	put_num(h, value);
	put(h, "\r\n", 2);
}

void
http_headers_raw(struct http_headers *h, const char *lines, size_t len)
{
	put(h, lines, len);
}

void
http_headers_start(struct http_headers *h, struct http_exchange *ex,
		   int status)
{
	const char *reason = http_reason(status);

	h->len = 0;
	h->overflow = false;
	ex->status = status;
	put(h, "HTTP/1.1 ", 9);
	put_num(h, (uint64_t)status);
	put(h, " ", 1);
	put(h, reason, strlen(reason));
	put(h, "\r\n", 2);
	http_headers_str(h, "Date", http_date_now());
	http_headers_str(h, "Server", ex->hc->server_tokens ?
			 "preforkd/" PACKAGE_VERSION : "preforkd");
}

void
http_headers_add(struct http_headers *h, const char *name, const char *fmt,
		 ...)
{
	size_t room = sizeof(h->buf) - h->len;
	va_list ap;
	int n = 0;

	if (name != NULL)
		n = snprintf(h->buf + h->len, room, "%s: ", name);
	if (n < 0 || (size_t)n >= room)
		goto overflow;
	va_start(ap, fmt);
	n += vsnprintf(h->buf + h->len + n, room - (size_t)n, fmt, ap);
	va_end(ap);
	if ((size_t)n + 2 >= room)
		goto overflow;
	memcpy(h->buf + h->len + n, "\r\n", 2);
	h->len += (size_t)n + 2;
	return;
overflow:
	h->overflow = true;
}

static void
headers_end(struct http_exchange *ex, struct http_headers *h)
{
	const struct http_request *req = ex->req;

	if (ex->close)
		http_headers_str(h, "Connection", "close");
	else if (req != NULL && req->minor == 0)
		http_headers_str(h, "Connection", "keep-alive");
	put(h, "\r\n", 2);
}

/*
 * A client that reads nothing is given up at the no-progress deadline,
 * before the master's watchdog would kill the worker for it.
 */
static int
wait_writable(struct http_exchange *ex)
{
	return netio_wait(ex->conn->fd, POLLOUT, conn_progress_deadline_ms(
				  ex->conn, ex->hc->send_timeout_ms));
}

/* After a failed write: true to try again, false once the client is lost. */
static bool
write_again(struct http_exchange *ex)
{
	if (errno == EINTR)
		return true;
	if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_writable(ex) == 0)
		return true;
	ex->failed = true;
	return false;
}

/*
 * Sends the iovecs whole; counts the body part in ex->body_sent.  more:
 * MSG_MORE, when the body follows from elsewhere (sendfile); on a
 * connection's last response, always (below).
 */
static int
writev_all(struct http_exchange *ex, struct iovec *iov, int iovcnt,
	   size_t head_len, int more)
{
	size_t head_left = head_len;

	/*
	 * The last response of a connection is held back (MSG_MORE) for the
	 * close() or shutdown() that follows once it is logged: its last
	 * bytes and the FIN then leave in one segment, one packet less for
	 * both ends.  (A body sent with sendfile() pushes its own end, and
	 * its FIN leaves alone.)
	 */
	if (ex->close)
		more = MSG_MORE;
	while (iovcnt > 0) {
		struct msghdr msg = {
			.msg_iov = iov, .msg_iovlen = (size_t)iovcnt,
		};
		ssize_t n = sendmsg(ex->conn->fd, &msg,
				    MSG_DONTWAIT | MSG_NOSIGNAL | more);

		if (n == -1) {
			if (write_again(ex))
				continue;
			return -1;
		}
		conn_progress(ex->conn, (size_t)n);
		if ((size_t)n > head_left) {
			ex->body_sent += (size_t)n - head_left;
			head_left = 0;
		} else {
			head_left -= (size_t)n;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int
http_write_all(struct http_exchange *ex, const char *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };

	return writev_all(ex, &iov, 1, 0, 0);
}

static int
send_head_and_body(struct http_exchange *ex, struct http_headers *h,
		   const char *body, size_t len, int more)
{
	struct iovec iov[2];
	bool head = ex->req != NULL && ex->req->method == HTTP_HEAD;

	headers_end(ex, h);
	if (h->overflow) {
		ex->failed = true;
		return -1;
	}
	iov[0] = (struct iovec){ h->buf, h->len };
	iov[1] = (struct iovec){ (void *)body, head ? 0 : len };
	return writev_all(ex, iov, iov[1].iov_len > 0 ? 2 : 1, h->len, more);
}

int
http_send_head_and_body(struct http_exchange *ex, struct http_headers *h,
			const char *body, size_t len)
{
	return send_head_and_body(ex, h, body, len, 0);
}

static int send_file_range(struct http_exchange *, struct http_headers *,
			   int, off_t, uint64_t);

/*
 * Once per connection, before its first sendfile(): non-blocking (an
 * accepted socket has no other status flag that F_SETFL could clear, so
 * no F_GETFL first), for the connection's life.
 *
 * It also caps what may wait unsent in the socket: left alone,
 * sendfile() queues as much as the send buffer grows to (4 MiB by
 * default) at once, and the rest of the file then leaves as the client's
 * acknowledgements come back, sent by whichever CPU processes them.
 * Capped, the worker refills the socket as it drains, from its own CPU.
 * On loopback (client and server on separate cores, keep-alive), a cap
 * of 256 KiB took 4 MiB files from about 0.7 to about 0.9 of lighttpd's
 * rate; 32 KiB takes 256 KiB files from 3.2-4.3k to 6.3-6.5k requests/s
 * and 4 MiB files from 270-300 to 340-370, at less server CPU per
 * request.  Only unsent bytes count, so the data in flight, and with it
 * the rate over a long path, is not limited; the worker is woken to
 * refill once less than half of it, 16 KiB, is left unsent.
 *
 * A connection's last body, up to HANDOFF_MAX, is instead handed to the
 * kernel whole: the worker closes and takes its next client at once
 * rather than wait to refill.  With 16 clients on 4 workers, 256 KiB
 * files under Connection: close went from 4.6-4.8k to 5.1-5.2k
 * requests/s that way; for 1 MiB, refilling is worth more than the
 * worker's time (1.3k requests/s with the last 256 KiB handed over,
 * 1.4k without).
 */
#define NOTSENT_LOWAT	(32 * 1024)
#define HANDOFF_MAX	(256 * 1024)

static int
sendfile_prepare(struct http_exchange *ex, uint64_t len)
{
	bool handoff = ex->close && len <= HANDOFF_MAX;
	int lowat = handoff ? HANDOFF_MAX : NOTSENT_LOWAT;

	if (*ex->nonblocking && !handoff)
		return 0;
	if (!*ex->nonblocking) {
		if (fcntl(ex->conn->fd, F_SETFL, O_NONBLOCK) == -1) {
			ex->failed = true;
			return -1;
		}
		*ex->nonblocking = true;
	}
	/* Only the rate depends on it: a refusal is no reason to fail. */
	if (ex->conn->peer.ss_family != AF_UNIX)
		(void)setsockopt(ex->conn->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT,
				 &lowat, sizeof(lowat));
	return 0;
}

int
http_send_head_and_file(struct http_exchange *ex, struct http_headers *h,
			int fd, uint64_t offset, uint64_t len)
{
	if (sendfile_prepare(ex, len) == -1)
		return -1;
	return send_file_range(ex, h, fd, (off_t)offset, len);
}

static int
send_file_range(struct http_exchange *ex, struct http_headers *h, int fd,
		off_t off, uint64_t left)
{
	/*
	 * MSG_MORE: the head waits for the file's first bytes and leaves in
	 * the same segment, as TCP_CORK would have it, but without two more
	 * calls per response, and without holding back the whole file's
	 * segments until an uncork (which cost large files a fifth of their
	 * rate on loopback).
	 */
	if (send_head_and_body(ex, h, NULL, 0, MSG_MORE) == -1)
		return -1;
	while (left > 0) {
		size_t chunk = left > (1u << 30) ? (1u << 30) : (size_t)left;
		ssize_t n = sendfile(ex->conn->fd, fd, &off, chunk);

		if (n == -1) {
			if (write_again(ex))
				continue;
			return -1;
		}
		if (n == 0) {
			/*
			 * The file shrank under us: the length sent is a lie,
			 * and the client sees only a connection cut short.
			 */
			log_error("%s%s: the file shrank while it was sent: "
				  "%llu of %llu bytes sent, connection closed",
				  ex->hc->root, ex->path,
				  (unsigned long long)ex->body_sent,
				  (unsigned long long)(ex->body_sent + left));
			ex->failed = true;
			return -1;
		}
		conn_progress(ex->conn, (size_t)n);
		ex->body_sent += (uint64_t)n;
		left -= (uint64_t)n;
	}
	return 0;
}

/*
 * How much of extra goes into the head: its header lines up to an empty
 * line, or a CR or LF that does not end a line, which would end the head
 * early.  A CR LF does end one: text from the client must come without
 * (redirect_to_dir() encodes control bytes of the query).
 */
static size_t
extra_length(const char *extra)
{
	size_t n = 0, end = 0, line;

	while ((line = strcspn(extra + n, "\r\n")) > 0) {
		end = n + line;
		if (extra[end] != '\r' || extra[end + 1] != '\n')
			break;
		n = end + 2;
	}
	return end;
}

/*
 * The extra headers (a Location as long as the request path allows) are
 * sent from where they lie, between the head's two parts: the head's
 * fixed buffer holds only what preforkd itself writes.
 */
void
http_send_error(struct http_exchange *ex, int status, const char *extra)
{
	struct http_headers h;
	struct iovec iov[5];
	/*
	 * A head refused before it was parsed (a 414, a 400 for its Host)
	 * has no req, but a HEAD line still asks for no body.
	 */
	bool head = ex->req != NULL ? ex->req->method == HTTP_HEAD :
		    ex->raw_line_len >= 5 && memcmp(ex->raw_line, "HEAD ", 5) == 0;
	size_t mark, extra_len = extra ? extra_length(extra) : 0;
	char body[256];
	int n, cnt = 0;

	n = snprintf(body, sizeof(body), "<html>\r\n<head><title>%d %s</title>"
		     "</head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
		     "<hr><center>preforkd</center>\r\n</body>\r\n</html>\r\n",
		     status, http_reason(status), status, http_reason(status));
	/* After these the stream's framing or the client is in doubt. */
	if (status == 400 || status == 408 || status == 413 || status == 414 ||
	    status == 431 || status >= 500)
		ex->close = true;
	http_headers_start(&h, ex, status);
	mark = h.len;
	http_headers_str(&h, "Content-Type", "text/html");
	http_headers_num(&h, "Content-Length", (uint64_t)n);
	headers_end(ex, &h);
	if (h.overflow) {
		ex->failed = true;
		return;
	}
	iov[cnt++] = (struct iovec){ h.buf, mark };
	if (extra_len > 0) {
		iov[cnt++] = (struct iovec){ (void *)extra, extra_len };
		iov[cnt++] = (struct iovec){ "\r\n", 2 };
	}
	iov[cnt++] = (struct iovec){ h.buf + mark, h.len - mark };
	if (!head)
		iov[cnt++] = (struct iovec){ body, (size_t)n };
	(void)writev_all(ex, iov, cnt, h.len + (extra_len ? extra_len + 2 : 0), 0);
}

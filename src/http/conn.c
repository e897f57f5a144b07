/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The http connection loop: reads request heads under their timeouts,
 * answers them in order (pipelining), keeps the connection alive as the
 * client and the limits allow, and skips request bodies to stay in sync.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "http/http.h"
#include "http/path.h"
#include "scoreboard.h"
#include "log.h"
#include "netio.h"

struct conn_state {
	struct handler_conn *conn;
	const struct http_conf *hc;
	char *buf;
	size_t cap, len;
	long served;
	int rcvtimeo_ms;		/* SO_RCVTIMEO as set; 0 = none */
	bool nonblocking;		/* O_NONBLOCK set, for sendfile */
	/* Nothing can be unread: it asked to close and sent nothing more,
	   or it closed its side. */
	bool client_done;
	char peer[SLOT_CLIENT_MAX];
	int64_t started_ms;		/* when this worker took it */
};

/* Bounds of the lingering close: a client cannot hold a worker with it. */
#define LINGER_MS		2000
#define LINGER_MAX_BYTES	(1024 * 1024)
/*
 * A request body is read and dropped to keep the connection, up to this
 * much, within one header-timeout: a larger or slower one would hold the
 * worker for as long as its client liked.  The connection is closed then.
 */
#define SKIP_BODY_MAX		(64 * 1024)
/* Chunked framing around it: up to 7 bytes a byte (1-byte chunks). */
#define SKIP_WIRE_MAX		(8 * SKIP_BODY_MAX)
/* An idle keep-alive wait looks at the worker's flags this often at least. */
#define IDLE_SLICE_MS		1000
/* A receive timeout this much longer than the time left is kept as is. */
#define RCVTIMEO_SLACK_MS	10

/*
 * A blocking read gives up when SO_RCVTIMEO runs out.  It is set only when
 * the time left differs: a kept-alive connection waits keepalive-timeout
 * each time, so the option is set once per connection, not per request.
 */
static int
set_rcvtimeo(struct conn_state *cs, int64_t left_ms)
{
	struct timeval tv;

	if (left_ms > INT32_MAX)
		left_ms = INT32_MAX;
	if (cs->rcvtimeo_ms >= left_ms &&
	    cs->rcvtimeo_ms <= left_ms + RCVTIMEO_SLACK_MS)
		return 0;
	tv.tv_sec = (time_t)(left_ms / 1000);
	tv.tv_usec = (suseconds_t)(left_ms % 1000) * 1000;
	if (setsockopt(cs->conn->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) == -1)
		return -1;
	cs->rcvtimeo_ms = (int)left_ms;
	return 0;
}

/* One read into the buffer, blocking until the deadline at most. */
static ssize_t
recv_once(struct conn_state *cs, int64_t deadline_ms)
{
	int64_t left = deadline_ms - monotonic_ms();

	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (cs->nonblocking) {
		if (netio_wait_readable(cs->conn->fd, deadline_ms) == -1)
			return -1;
		return recv(cs->conn->fd, cs->buf + cs->len, cs->cap - cs->len,
			    MSG_DONTWAIT);
	}
	if (set_rcvtimeo(cs, left) == -1)
		return -1;
	return recv(cs->conn->fd, cs->buf + cs->len, cs->cap - cs->len, 0);
}

/*
 * Reads what comes before the deadline into the buffer: >0 bytes, 0 at
 * EOF, -1 on error (ETIMEDOUT at the deadline).  The socket stays
 * blocking, so a wait costs one read, not a poll and a read; try_first
 * reads without waiting first, where data has likely arrived already
 * (a new connection's request), to spare setting the receive timeout.
 */
static ssize_t
fill(struct conn_state *cs, int64_t deadline_ms, bool try_first)
{
	ssize_t n;

	for (;;) {
		if (try_first)
			n = recv(cs->conn->fd, cs->buf + cs->len,
				 cs->cap - cs->len, MSG_DONTWAIT);
		else
			n = recv_once(cs, deadline_ms);
		try_first = false;
		if (n >= 0)
			break;
		/* EAGAIN: nothing yet, or SO_RCVTIMEO ran out early. */
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
	if (n > 0) {
		cs->len += (size_t)n;
		conn_progress(cs->conn, 0);
	}
	return n;
}

static void
answer_error(struct conn_state *cs, const struct http_request *req,
	     int status)
{
	struct http_exchange ex = {
		.conn = cs->conn, .hc = cs->hc, .req = req, .close = true,
		.nonblocking = &cs->nonblocking,
	};
	size_t skip = 0, end;

	/* As nginx does, the log shows what came of the request line. */
	while (skip < cs->len && (cs->buf[skip] == '\r' || cs->buf[skip] == '\n'))
		skip++;
	for (end = skip; end < cs->len && cs->buf[end] != '\r' &&
	     cs->buf[end] != '\n'; end++)
		;
	ex.raw_line = cs->buf + skip;
	ex.raw_line_len = end - skip;
	/*
	 * A request answered is counted, a malformed one too; a connection
	 * that sent nothing (a preconnect, a port check) is not a request.
	 */
	if (cs->len > 0)
		conn_note_request(cs->conn, ex.raw_line, ex.raw_line_len);
	http_send_error(&ex, status, NULL);
	http_access_log(&ex, cs->peer, time(NULL));
}

enum head_result { HEAD_OK, HEAD_CLOSE };

/*
 * Waits on an idle connection for the first byte of a request: until
 * idle_deadline, or sooner when the master asks for the worker back or,
 * between two requests (not fresh), when the worker is told to stop (a
 * signal interrupts the read; the wait is cut in slices so a signal
 * landing just before it is seen too).  1: bytes came; 0: close quietly.
 */
static int
wait_request(struct conn_state *cs, int64_t idle_deadline, bool fresh)
{
	conn_phase(cs->conn, CONN_KEEPALIVE, idle_deadline);
	for (;;) {
		int64_t limit, end, now;
		ssize_t n;

		if (fresh)
			limit = conn_drop_asked(cs->conn) ? 0 : INT64_MAX;
		else
			limit = conn_idle_limit_ms(cs->conn);
		end = limit < idle_deadline ? limit : idle_deadline;
		now = monotonic_ms();

		/* Told to retire while its client idles: keep no file open. */
		if (conn_retiring(cs->conn))
			http_cache_release(cs->hc);
		if (end <= now) {
			/* A request that came meanwhile is answered, then close. */
			n = recv(cs->conn->fd, cs->buf + cs->len,
				 cs->cap - cs->len, MSG_DONTWAIT);
			if (n <= 0)
				return 0;
			cs->len += (size_t)n;
			conn_progress(cs->conn, 0);
			return 1;
		}
		if (end > now + IDLE_SLICE_MS)
			end = now + IDLE_SLICE_MS;
		n = recv_once(cs, end);
		if (n > 0) {
			cs->len += (size_t)n;
			conn_progress(cs->conn, 0);
			return 1;
		}
		if (n == 0) {
			cs->client_done = true;
			return 0;
		}
		if (errno != EINTR && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != ETIMEDOUT)
			return 0;
		/* Woken by a signal: USR1 may have asked for a reopen. */
		conn_between_requests(cs->conn);
	}
}

/*
 * The first byte of a new connection's first request.  One that has sent
 * nothing yet (a browser's preconnect, a port check, an attacker) is as
 * idle as a kept-alive one, and waits as one: the master may ask for the
 * worker back when connections queue at the pool's cap, instead of N
 * such connections holding every worker for header-timeout.
 */
static int
first_byte(struct conn_state *cs, int64_t head_deadline)
{
	ssize_t n = recv(cs->conn->fd, cs->buf, cs->cap, MSG_DONTWAIT);

	if (n > 0) {
		cs->len = (size_t)n;
		conn_progress(cs->conn, 0);
		return 1;
	}
	if (n == 0) {
		cs->client_done = true;
		return 0;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return 0;
	return wait_request(cs, head_deadline, true);
}

/*
 * Waits for a complete head: on a kept-alive connection first for its
 * first byte (above), then header-timeout for the whole of it; on a new
 * one, header-timeout from the start of the connection.
 */
static enum head_result
read_head(struct conn_state *cs, struct http_request *req)
{
	bool first = cs->served == 0;
	int64_t head_deadline;

	if (cs->len == 0 && !first && wait_request(cs, monotonic_ms() +
			(int64_t)cs->hc->keepalive_timeout * 1000, false) != 1)
		return HEAD_CLOSE;
	head_deadline = (first ? cs->started_ms : monotonic_ms()) +
			(int64_t)cs->hc->header_timeout * 1000;
	if (cs->len == 0 && first && first_byte(cs, head_deadline) != 1)
		return HEAD_CLOSE;
	conn_phase(cs->conn, CONN_READING, head_deadline);
	for (;;) {
		int status = 400;
		enum http_parse_result r = http_request_parse(
			cs->buf, cs->len, cs->hc->max_header_size, req, &status);
		ssize_t n;

		if (r == HTTP_PARSE_OK)
			return HEAD_OK;
		if (r == HTTP_PARSE_ERROR) {
			answer_error(cs, NULL, status);
			return HEAD_CLOSE;
		}
		n = fill(cs, head_deadline, false);
		/*
		 * A connection that sent nothing (a browser's preconnect, a
		 * port check) made no request: it is closed without a 408
		 * or a log line, as nginx does; a 408 there can reach a
		 * client that sends its request at that moment.
		 */
		if (n == -1 && errno == ETIMEDOUT && cs->len > 0) {
			answer_error(cs, NULL, 408);
			return HEAD_CLOSE;
		}
		if (n == 0)
			cs->client_done = true;
		if (n <= 0)
			return HEAD_CLOSE;
	}
}

static void
consume(struct conn_state *cs, size_t n)
{
	memmove(cs->buf, cs->buf + n, cs->len - n);
	cs->len -= n;
}

/*
 * Reads and drops a request body so the next request is found intact:
 * -1 (close) past SKIP_BODY_MAX bytes of body (chunked: of its data, with
 * at most SKIP_WIRE_MAX bytes on the wire) or one header-timeout in all.
 */
static int
skip_body(struct conn_state *cs, const struct http_request *req)
{
	int64_t deadline = monotonic_ms() + (int64_t)cs->hc->header_timeout * 1000;
	struct http_chunked ch;
	uint64_t left = req->content_length;
	size_t skipped = 0;

	http_chunked_init(&ch);
	for (;;) {
		if (req->chunked) {
			size_t used = 0;
			enum http_chunked_result r =
				http_chunked_skip(&ch, cs->buf, cs->len, &used);

			consume(cs, used);
			skipped += used;
			/* The body's data is what the limit counts, framing
			 * aside, also for a body that ends in what came. */
			if (ch.data > SKIP_BODY_MAX || skipped > SKIP_WIRE_MAX ||
			    r == HTTP_CHUNKED_ERROR)
				return -1;
			if (r == HTTP_CHUNKED_DONE)
				return 0;
		} else {
			size_t take = left < cs->len ? (size_t)left : cs->len;

			/* Never past SKIP_BODY_MAX: a longer one closes
			 * (ex.close), with no body skipped. */
			consume(cs, take);
			left -= take;
			if (left == 0)
				return 0;
		}
		if (fill(cs, deadline, true) <= 0)
			return -1;
	}
}

static void
note_request(struct conn_state *cs, const struct http_request *req)
{
	/* Empty lines before the request line are part of the head. */
	const char *line = req->method_name.p;
	const char *end = memchr(line, '\n', req->head_len -
				 (size_t)(line - cs->buf));
	size_t n = end ? (size_t)(end - line) : 0;

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	conn_note_request(cs->conn, line, n);
}

static void
dispatch(struct http_exchange *ex, const struct http_request *req)
{
	static char path[PATH_MAX];
	long n;

	if (req->method == HTTP_METHOD_UNKNOWN) {
		http_send_error(ex, 501, NULL);
		return;
	}
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		http_send_error(ex, 405, "Allow: GET, HEAD\r\n");
		return;
	}
	n = req->path.len == 0 || req->path.p[0] != '/' ? -1 :
	    http_path_normalize(req->path.p, req->path.len, path,
				sizeof(path));
	if (n < 0) {
		/* Longer than any path the file system takes: 414. */
		http_send_error(ex, n == HTTP_PATH_TOO_LONG ? 414 : 400, NULL);
		return;
	}
	ex->path = path;
	if (http_status_match(ex->hc, path))
		http_serve_status(ex);
	else if (http_health_match(ex->hc, path))
		http_serve_health(ex);
	else
		http_serve_path(ex);
}

/*
 * Is the part of a chunked body that came with the head already
 * malformed?  Then the answer is 400, not an answer to the request
 * followed by a close the client was not told of (RFC 9112 7.1: a body
 * whose framing cannot be read leaves no way to find the next request).
 * Whatever is still to come is judged as it is skipped.
 */
static bool
chunked_framing_bad(const struct conn_state *cs,
		    const struct http_request *req)
{
	struct http_chunked ch;
	size_t used;

	http_chunked_init(&ch);
	return http_chunked_skip(&ch, cs->buf + req->head_len,
				 cs->len - req->head_len, &used) ==
	       HTTP_CHUNKED_ERROR;
}

/* One request: answer, log, skip its body.  false = close the connection. */
static bool
serve_request(struct conn_state *cs, struct http_request *req)
{
	struct http_exchange ex = {
		.conn = cs->conn, .hc = cs->hc, .req = req,
		.nonblocking = &cs->nonblocking,
	};
	bool has_body = req->chunked ||
			(req->has_content_length && req->content_length > 0);

	conn_phase(cs->conn, CONN_WRITING, 0);
	note_request(cs, req);
	cs->served++;
	ex.close = !req->keep_alive || cs->hc->keepalive_timeout == 0 ||
		   (cs->hc->keepalive_requests > 0 &&
		    cs->served >= cs->hc->keepalive_requests) ||
		   (req->has_content_length &&
		    req->content_length > SKIP_BODY_MAX) ||
		   conn_stopping(cs->conn);
	if (req->chunked && chunked_framing_bad(cs, req)) {
		ex.close = true;
		http_send_error(&ex, 400, NULL);
	} else {
		dispatch(&ex, req);
	}
	http_access_log(&ex, cs->peer, time(NULL));
	/* The head's slices point into buf: drop it only once logged. */
	consume(cs, req->head_len);
	/*
	 * A client that asked to close sends no further request (RFC 9112
	 * 9.6): with no body and nothing left over, no input can be unread,
	 * and the answer leaves with the FIN at the close().  One that sends
	 * more anyway, in the moment before that close(), gets a reset in
	 * place of its answer.
	 */
	cs->client_done = !req->keep_alive && !has_body && cs->len == 0;
	if (ex.failed || ex.close)
		return false;
	return !has_body || skip_body(cs, req) == 0;
}

/*
 * Closing a socket with unread input makes the kernel answer RST, which
 * destroys responses still on their way (pipelined requests beyond
 * keepalive-requests, a body after an error).  Then, as nginx and Apache
 * do: stop sending, read and drop what comes for a short while, close.
 *
 * The FIN goes first, and with it an answer held back for the close
 * (MSG_MORE): input that arrived between the look and the close() would
 * make the reset destroy that answer unsent.
 */
static void
linger_close(struct handler_conn *conn)
{
	int fd = conn->fd;
	int64_t deadline = monotonic_ms() + LINGER_MS;
	size_t dropped = 0;
	char buf[4096];
	int unread = 0;

	if (shutdown(fd, SHUT_WR) == -1 ||
	    ioctl(fd, FIONREAD, &unread) == -1 || unread == 0)
		return;
	conn_phase(conn, CONN_CLOSING, deadline);
	while (dropped < LINGER_MAX_BYTES &&
	       netio_wait_readable(fd, deadline) == 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return;
		if (n > 0)
			dropped += (size_t)n;
	}
}

/*
 * A worker serves one connection at a time, and one server for life: its
 * head buffer and parsed request are made once, not per connection.
 */
static int
conn_buffers(struct conn_state *cs, struct http_request **req)
{
	static struct http_request *req_store;
	static char *buf_store;
	static size_t buf_cap;
	size_t want = cs->hc->max_header_size + 4096;

	if (req_store == NULL &&
	    (req_store = malloc(sizeof(*req_store))) == NULL)
		return -1;
	if (buf_cap < want) {
		free(buf_store);
		buf_cap = 0;
		if ((buf_store = malloc(want)) == NULL)
			return -1;
		buf_cap = want;
	}
	*req = req_store;
	cs->buf = buf_store;
	cs->cap = want;
	return 0;
}

void
http_conn_serve(struct handler_conn *conn)
{
	struct conn_state cs = { .conn = conn, .hc = conn->hconf,
				 .started_ms = monotonic_ms() };
	struct http_request *req;

	if (conn_buffers(&cs, &req) == -1)
		return;
	addr_format_host((const struct sockaddr *)&conn->peer, conn->peerlen,
			 cs.peer, sizeof(cs.peer));
	while (read_head(&cs, req) == HEAD_OK && serve_request(&cs, req))
		conn_between_requests(conn);
	if (!cs.client_done)
		linger_close(conn);
}

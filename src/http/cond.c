/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Validators, conditional requests and byte ranges (RFC 9110 sections 8.8,
 * 13 and 14).  Pure: the caller hands in the header values and the file's
 * identity, and gets a decision back; nothing here reads a clock or a
 * file.  Header values arrive as (pointer, length) slices of the request
 * buffer, so nothing may read past len.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/cond.h"
#include "http/request.h"

static const char wkday[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};

static const char *const weekday[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday",
};

static const char month[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: four-digit years. */
#define DATE_MIN	(-62167219200LL)
#define DATE_MAX	253402300799LL

static void
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * Written by hand rather than with strftime(), which follows the locale,
 * or snprintf(), which would have to be told the width cannot overflow.
 */
void
http_date_format(time_t t, char *buf)
{
	struct tm tm;
	int year;

	if ((long long)t < DATE_MIN)
		t = (time_t)DATE_MIN;
	else if ((long long)t > DATE_MAX)
		t = (time_t)DATE_MAX;
	if (gmtime_r(&t, &tm) == NULL) {
		/* Cannot happen in range; fall back to the epoch. */
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = 70;
		tm.tm_mday = 1;
		tm.tm_wday = 4;
	}
	year = tm.tm_year + 1900;
	memcpy(buf, wkday[tm.tm_wday], 3);
	memcpy(buf + 3, ", ", 2);
	put2(buf + 5, tm.tm_mday);
	buf[7] = ' ';
	memcpy(buf + 8, month[tm.tm_mon], 3);
	buf[11] = ' ';
	put2(buf + 12, year / 100);
	put2(buf + 14, year % 100);
	buf[16] = ' ';
	put2(buf + 17, tm.tm_hour);
	buf[19] = ':';
	put2(buf + 20, tm.tm_min);
	buf[22] = ':';
	put2(buf + 23, tm.tm_sec);
	memcpy(buf + 25, " GMT", 5);
}

/* The value of n decimal digits at s, or -1. */
static int
digits(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Names are case-sensitive in HTTP dates (RFC 9110 5.6.7). */
static int
month_index(const char *s)
{
	for (int i = 0; i < 12; i++)
		if (memcmp(s, month[i], 3) == 0)
			return i;
	return -1;
}

static bool
is_wkday(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (memcmp(s, wkday[i], 3) == 0)
			return true;
	return false;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	return m == 1 && is_leap(y) ? 29 : days[m];
}

/* Days from 1970-01-01 to y-m-d (m 1..12), proleptic Gregorian. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * "HH:MM:SS" at s, checked with the date, into *out.  Computed rather than
 * left to timegm(): it is four lines, needs no struct tm, and does not
 * normalise "Feb 30" into March behind our back.  Second 60 is a leap
 * second (RFC 5322 3.3) and lands on the next minute, as time_t has none.
 */
static int
make_time(int year, int mon, int mday, const char *hms, time_t *out)
{
	int h, m, s;
	int64_t v;

	if (hms[2] != ':' || hms[5] != ':')
		return -1;
	h = digits(hms, 2);
	m = digits(hms + 3, 2);
	s = digits(hms + 6, 2);
	if (year < 0 || mon < 0 || mday < 1 ||
	    mday > days_in_month(year, mon) || h < 0 || h > 23 || m < 0 ||
	    m > 59 || s < 0 || s > 60)
		return -1;
	v = days_from_civil(year, mon + 1, mday) * 86400 + h * 3600 + m * 60 +
	    s;
	if ((int64_t)(time_t)v != v)
		return -1;
	*out = (time_t)v;
	return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int
parse_imf(const char *s, size_t len, time_t *out)
{
	if (len != HTTP_DATE_LEN || !is_wkday(s) || s[3] != ',' ||
	    s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
	    memcmp(s + 25, " GMT", 4) != 0)
		return -1;
	return make_time(digits(s + 12, 4), month_index(s + 8),
			 digits(s + 5, 2), s + 17, out);
}

/*
 * "Sunday, 06-Nov-94 08:49:37 GMT".  RFC 9110 5.6.7 reads a two-digit
 * year as the most recent one that is not more than 50 years in the
 * future; that needs the current date, so this pure function uses the
 * fixed pivot most servers use: 00-69 are 2000-2069, 70-99 1970-1999.
 */
static int
parse_rfc850(const char *s, size_t len, time_t *out)
{
	size_t n = 0;
	int yy;

	for (int i = 0; i < 7 && n == 0; i++) {
		size_t wl = strlen(weekday[i]);

		if (len > wl && memcmp(s, weekday[i], wl) == 0 && s[wl] == ',')
			n = wl + 1;
	}
	if (n == 0 || len - n != 23)
		return -1;
	s += n;
	if (s[0] != ' ' || s[3] != '-' || s[7] != '-' || s[10] != ' ' ||
	    memcmp(s + 19, " GMT", 4) != 0)
		return -1;
	if ((yy = digits(s + 8, 2)) < 0)
		return -1;
	return make_time(yy < 70 ? 2000 + yy : 1900 + yy, month_index(s + 4),
			 digits(s + 1, 2), s + 11, out);
}

/* "Sun Nov  6 08:49:37 1994"; the day may also be two digits. */
static int
parse_asctime(const char *s, size_t len, time_t *out)
{
	int mday;

	if (len != 24 || !is_wkday(s) || s[3] != ' ' || s[7] != ' ' ||
	    s[10] != ' ' || s[19] != ' ')
		return -1;
	mday = s[8] == ' ' ? digits(s + 9, 1) : digits(s + 8, 2);
	return make_time(digits(s + 20, 4), month_index(s + 4), mday, s + 11,
			 out);
}

/*
 * The day name is checked to be one but not to match the date: nothing
 * is gained by refusing a client's miscomputed weekday.
 */
int
http_date_parse(const char *s, size_t len, time_t *out)
{
	if (parse_imf(s, len, out) == 0 || parse_rfc850(s, len, out) == 0 ||
	    parse_asctime(s, len, out) == 0)
		return 0;
	return -1;
}

/*
 * The mtime is one number, seconds * 10^9 + nanoseconds, so that two
 * writes within a second that leave the size alone still change the tag
 * (on file systems with fine timestamps).  Arithmetic is unsigned: a
 * pre-1970 mtime wraps rather than overflowing.
 */
/* Lower-case hex of v without leading zeros; returns its length (<= 16). */
static size_t
put_hex(char *out, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char digits[16];
	size_t n = 0;

	do
		digits[n++] = hex[v & 0xf];
	while ((v >>= 4) > 0);
	for (size_t i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	return n;
}

void
http_etag_format(uint64_t ino, uint64_t size, int64_t mtime_sec,
		 long mtime_nsec, char *buf, size_t buflen)
{
	uint64_t mt = (uint64_t)mtime_sec * 1000000000u + (uint64_t)mtime_nsec;
	const uint64_t parts[3] = { ino, size, mt };
	char tag[HTTP_ETAG_MAX];
	size_t n = 0;

	/* By hand, not snprintf(): this runs for every file served. */
	tag[n++] = '"';
	for (int i = 0; i < 3; i++) {
		n += put_hex(tag + n, parts[i]);
		tag[n++] = i < 2 ? '-' : '"';
	}
	if (buflen == 0)
		return;
	if (n >= buflen)
		n = buflen - 1;
	memcpy(buf, tag, n);
	buf[n] = '\0';
}

static void
skip_ows(const char *s, size_t len, size_t *i)
{
	while (*i < len && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
}

/* RFC 9110 etagc: anything visible but '"', and obs-text. */
static bool
is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/*
 * An entity-tag at s[*i..len): *weak for a "W/" prefix, [*tag, *tag +
 * *taglen) the opaque-tag with its quotes.  Note that ',' is an etagc, so
 * a list can only be split by parsing it.
 */
static int
parse_etag(const char *s, size_t len, size_t *i, bool *weak,
	   const char **tag, size_t *taglen)
{
	size_t j = *i;

	*weak = len - j >= 2 && s[j] == 'W' && s[j + 1] == '/';
	if (*weak)
		j += 2;
	if (j >= len || s[j] != '"')
		return -1;
	*tag = s + j++;
	while (j < len && is_etagc((unsigned char)s[j]))
		j++;
	if (j >= len || s[j] != '"')
		return -1;
	j++;
	*taglen = (size_t)(s + j - *tag);
	*i = j;
	return 0;
}

/* Our own tag without a W/ prefix, for the weak comparison. */
static const char *
opaque(const char *etag, bool *weak)
{
	*weak = etag[0] == 'W' && etag[1] == '/';
	return *weak ? etag + 2 : etag;
}

/*
 * If-None-Match and If-Match = "*" / #entity-tag, compared weakly or
 * strongly.  A member that is not an entity-tag makes the rest of the
 * list unreadable: no match, so a full 200 for If-None-Match and a 412
 * for If-Match, each the answer that cannot hand out a wrong version.
 */
static bool
etag_list_matches(const char *s, size_t len, const char *etag, bool strong)
{
	const char *tag, *ours;
	size_t i = 0, taglen;
	bool weak, ours_weak;

	skip_ows(s, len, &i);
	if (i < len && s[i] == '*') {
		i++;
		skip_ows(s, len, &i);
		return i == len;
	}
	/* Without a tag of its own, only "*" matches it. */
	if (etag == NULL)
		return false;
	ours = opaque(etag, &ours_weak);
	for (;;) {
		while (i < len && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			return false;
		if (parse_etag(s, len, &i, &weak, &tag, &taglen) != 0)
			return false;
		if ((!strong || (!weak && !ours_weak)) &&
		    taglen == strlen(ours) && memcmp(tag, ours, taglen) == 0)
			return true;
		skip_ows(s, len, &i);
		if (i < len && s[i] != ',')
			return false;
	}
}

/*
 * A valid If-Modified-Since not older than mtime: not modified.  A date
 * later than now is invalid (RFC 9110 13.1.3), and ignored as Apache
 * does: a client that made one up would otherwise get 304 for every
 * change until that date, even for a file replaced by an older one.
 */
static bool
not_modified_since(const char *ims, size_t len, time_t mtime, time_t now)
{
	time_t t;

	return len > 0 && http_date_parse(ims, len, &t) == 0 && t <= now &&
	       mtime <= t;
}

bool
http_not_modified(const char *if_none_match, size_t inm_len,
		  const char *if_modified_since, size_t ims_len,
		  const char *etag, time_t mtime, time_t now)
{
	if (inm_len > 0)
		return etag_list_matches(if_none_match, inm_len, etag, false);
	return not_modified_since(if_modified_since, ims_len, mtime, now);
}

/*
 * Whether a line of the list header name, first a non-empty one, matches;
 * its lines make one list (RFC 9110 5.3).
 */
static bool
list_header_matches(const struct http_request *req, const char *name,
		    const char *etag, bool strong)
{
	struct http_str v;
	size_t pos = 0;

	while (http_header_next(req, name, &pos, &v))
		if (v.len > 0 && etag_list_matches(v.p, v.len, etag, strong))
			return true;
	return false;
}

/* An If-Unmodified-Since that is not a date is ignored (13.1.4). */
static bool
unmodified_since(const struct http_str *v, time_t mtime)
{
	time_t t;

	return v->len == 0 || http_date_parse(v->p, v->len, &t) != 0 ||
	       mtime <= t;
}

/*
 * Only a request that has a condition pays for a second look at its
 * headers: the parser keeps the first non-empty line of each.
 */
int
http_precondition_status(const struct http_request *req, const char *etag,
			 time_t mtime, time_t now)
{
	/* Without validators (a listing) a date has nothing to go by. */
	bool dated = etag != NULL;

	if (req->if_match.len > 0) {
		if (!list_header_matches(req, "If-Match", etag, true))
			return 412;
	} else if (dated && !unmodified_since(&req->if_unmodified_since,
					      mtime)) {
		return 412;
	}
	if (req->if_none_match.len > 0)
		return list_header_matches(req, "If-None-Match", etag, false) ?
		       304 : 0;
	return dated && not_modified_since(req->if_modified_since.p,
					   req->if_modified_since.len, mtime,
					   now) ? 304 : 0;
}

/*
 * RFC 9110 13.1.5: an entity-tag must match strongly (neither side weak);
 * a date holds only if it is exactly the file's mtime, and only if that
 * mtime is a strong validator (8.8.2.2): a second or more before the
 * response's Date, or a file changed twice within one second could pass
 * for the version the client has.  Anything that cannot be read does not
 * hold: the client then gets the whole file, never a range of the wrong
 * version.
 */
bool
http_if_range_holds(const char *if_range, size_t len, const char *etag,
		    time_t mtime, time_t now)
{
	const char *tag;
	size_t i = 0, taglen;
	bool weak, ours_weak;
	time_t t;

	skip_ows(if_range, len, &i);
	while (len > i && (if_range[len - 1] == ' ' ||
	    if_range[len - 1] == '\t'))
		len--;
	/* A date starts with a day name, never with '"' or "W/". */
	if (i < len && (if_range[i] == '"' || (if_range[i] == 'W' &&
	    i + 1 < len && if_range[i + 1] == '/'))) {
		if (parse_etag(if_range, len, &i, &weak, &tag, &taglen) != 0 ||
		    i != len || weak)
			return false;
		opaque(etag, &ours_weak);
		if (ours_weak)
			return false;
		return taglen == strlen(etag) && memcmp(tag, etag, taglen) == 0;
	}
	if (http_date_parse(if_range + i, len - i, &t) != 0)
		return false;
	return t == mtime && mtime < now;
}

/*
 * Decimal digits at s[*i..len) into *v, which stays at UINT64_MAX past it:
 * RFC 9110 14.1.1 sets no bound, and a position that large is only ever
 * past the end of a file.  -1 if there are no digits.
 */
static int
parse_u64(const char *s, size_t len, size_t *i, uint64_t *v)
{
	size_t start = *i;
	unsigned d;

	*v = 0;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		d = (unsigned)(s[*i] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			*v = UINT64_MAX;
		else
			*v = *v * 10 + d;
		(*i)++;
	}
	return *i > start ? 0 : -1;
}

/* Compares two runs of decimal digits by value, whatever their length. */
static int
digits_cmp(const char *x, size_t xn, const char *y, size_t yn)
{
	int c;

	while (xn > 1 && *x == '0')
		x++, xn--;
	while (yn > 1 && *y == '0')
		y++, yn--;
	if (xn != yn)
		return xn < yn ? -1 : 1;
	c = memcmp(x, y, xn);
	return (c > 0) - (c < 0);
}

/* Skips OWS and empty list elements (RFC 9110 5.6.1). */
static void
skip_list_sep(const char *s, size_t len, size_t *i)
{
	while (*i < len && (s[*i] == ',' || s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
}

static bool
is_bytes_unit(const char *s, size_t len)
{
	static const char unit[] = "bytes=";

	if (len < sizeof(unit) - 1)
		return false;
	for (size_t i = 0; i < sizeof(unit) - 1; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != unit[i])
			return false;
	}
	return true;
}

/* One range-spec: "a-b", "a-" or "-n". */
struct range_spec {
	uint64_t a, b;
	bool suffix, has_last;
};

/* Parses the range-spec at s[*i]: 0, or -1 when it is malformed. */
static int
range_spec_parse(const char *s, size_t len, size_t *i, struct range_spec *r)
{
	const char *first;
	size_t first_len;

	*r = (struct range_spec){ .a = 0 };
	if (*i < len && s[*i] == '-') {
		r->suffix = true;
		(*i)++;
		skip_ows(s, len, i);
		return parse_u64(s, len, i, &r->b);
	}
	first = s + *i;
	if (parse_u64(s, len, i, &r->a) != 0)
		return -1;
	first_len = (size_t)(s + *i - first);
	skip_ows(s, len, i);
	if (*i == len || s[*i] != '-')
		return -1;
	(*i)++;
	skip_ows(s, len, i);
	if (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		const char *last = s + *i;

		parse_u64(s, len, i, &r->b);
		r->has_last = true;
		/* Compared as written: both may be past UINT64_MAX. */
		if (digits_cmp(first, first_len, last,
			       (size_t)(s + *i - last)) > 0)
			return -1;
	}
	return 0;
}

/* What one range-spec selects of a file of size bytes. */
static enum http_range_result
range_spec_resolve(const struct range_spec *r, uint64_t size, uint64_t *first,
		   uint64_t *last)
{
	if (r->suffix) {
		if (r->b == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		/*
		 * RFC 9110 14.1.1: on an empty representation a suffix of
		 * non-zero length is satisfiable, and is all of it: nothing
		 * a 206 could describe, so the whole (empty) file, 200.
		 */
		if (size == 0)
			return HTTP_RANGE_NONE;
		*first = r->b >= size ? 0 : size - r->b;
		*last = size - 1;
		return HTTP_RANGE_OK;
	}
	if (r->a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*first = r->a;
	*last = r->has_last && r->b < size ? r->b : size - 1;
	return HTTP_RANGE_OK;
}

/*
 * Range = "bytes=" range-spec *( "," range-spec ); only the one-range
 * case is served, since a multipart/byteranges answer is rarely wanted
 * (browsers and download tools ask for one range) and several ranges
 * invite abuse.  Several of which none is satisfiable still get 416, as
 * RFC 9110 14.2 says they should.
 */
enum http_range_result
http_range_parse(const char *s, size_t len, uint64_t size, uint64_t *first,
		 uint64_t *last)
{
	enum http_range_result result = HTTP_RANGE_NONE;
	bool unsatisfiable = true;
	size_t i = 6, n = 0;
	uint64_t f = 0, l = 0;

	if (!is_bytes_unit(s, len))
		return HTTP_RANGE_NONE;
	skip_list_sep(s, len, &i);
	while (i < len) {
		struct range_spec r;
		size_t end;

		if (range_spec_parse(s, len, &i, &r) != 0)
			return HTTP_RANGE_NONE;
		end = i;
		skip_list_sep(s, len, &i);
		/* Ranges are separated by a comma, not only by spaces. */
		if (i < len && memchr(s + end, ',', i - end) == NULL)
			return HTTP_RANGE_NONE;
		result = range_spec_resolve(&r, size, &f, &l);
		unsatisfiable &= result == HTTP_RANGE_UNSATISFIABLE;
		n++;
	}
	if (n > 1)
		return unsatisfiable ? HTTP_RANGE_UNSATISFIABLE :
		       HTTP_RANGE_NONE;
	if (result == HTTP_RANGE_OK) {
		*first = f;
		*last = l;
	}
	return result;
}

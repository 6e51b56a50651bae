/* SPDX-License-Identifier: ISC */
/*
 * declog-fmt.c: a decision log record as its JSON line, on the writer
 * thread.  The writer formats every decision the workers make, so this
 * is its hot path: no printf, no gmtime, no inet_ntop.  The fixed text
 * is precomputed (the decision and reason by value, the timestamp's
 * date and time once per second), strings are copied eight bytes at a
 * time while no byte needs escaping, numbers and addresses are written
 * by hand.  The output is byte for byte what docs/operations.md shows
 * (tests/unit/test-declog-fmt.c checks it against the printf version).
 */
#include <string.h>

#include "daemon/declog-fmt.h"

#define DF_ONES		0x0101010101010101ull
#define DF_HIGHS	0x8080808080808080ull
/* A byte of x is zero (exact for "any": no false positive alone). */
#define DF_ZERO(x)	(((x) - DF_ONES) & ~(x) & DF_HIGHS)

#define PUTS(s)	do { memcpy(p, s, sizeof(s) - 1); p += sizeof(s) - 1; } \
	while (0)
#define PUTSTR(q, n) do { *p++ = '"'; p += declog_fmt_str(p, q, n);	\
	*p++ = '"'; } while (0)

static const char declog_fmt_digits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "68697071727374757677787980818283848586878889909192939495969798990000";

static const char declog_fmt_hex[] = "0123456789abcdef";

static size_t
declog_fmt_cpy(char *out, const char *s)
{
	size_t	n = strlen(s);

	memcpy(out, s, n);
	return (n);
}

void
declog_fmt_init(struct declog_fmt *f)
{
	static const char *const decisions[] = {
		"IMPLICIT_DENY", "ALLOW", "EXPLICIT_DENY"
	};
	const char	*reason;
	char		*p;
	unsigned	 d, r;

	memset(f, 0, sizeof(*f));
	for (d = 0; d < 3; d++)
		for (r = 0; r <= EVAL_R_COUNT; r++) {
			/* Out of range: what the reader of the enum says. */
			reason = r < EVAL_R_COUNT ?
			    eval_reason_name((enum eval_reason)r) : NULL;
			p = f->mid[d][r];
			PUTS("Z\",\"decision\":\"");
			p += declog_fmt_cpy(p, decisions[d]);
			PUTS("\",\"reason\":\"");
			p += declog_fmt_cpy(p, reason != NULL ? reason :
			    "invalid-request");
			PUTS("\",\"principal\":");
			f->midlen[d][r] = (uint8_t)(p - f->mid[d][r]);
		}
}

/* Two digits of v < 100. */
static char *
declog_fmt_2(char *p, unsigned v)
{
	memcpy(p, declog_fmt_digits + 2 * v, 2);
	return (p + 2);
}

size_t
declog_fmt_u64(char *out, uint64_t v)
{
	static const uint64_t	pow10[19] = {
		10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
		10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
		100000000000ull, 1000000000000ull, 10000000000000ull,
		100000000000000ull, 1000000000000000ull, 10000000000000000ull,
		100000000000000000ull, 1000000000000000000ull,
		10000000000000000000ull
	};
	size_t			n = 1;
	char			*p;

	/* The length first: the digits go straight to their place. */
	while (n < 20 && v >= pow10[n - 1])
		n++;
	p = out + n;
	while (v >= 100) {
		p -= 2;
		memcpy(p, declog_fmt_digits + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(p - 2, declog_fmt_digits + 2 * v, 2);
	else
		p[-1] = (char)('0' + v);
	return (n);
}

/*
 * {"time":"YYYY-MM-DDTHH:MM:SS. for second sec, as gmtime would give
 * it (the proleptic Gregorian calendar of days since 1970-01-01).
 */
static void
declog_fmt_stamp(struct declog_fmt *f, int64_t sec)
{
	int64_t	 days, z, era, doe, yoe, y, doy, mp, d, m, sod;
	char	*p = f->stamp;

	days = sec / 86400;
	sod = sec % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	PUTS("{\"time\":\"");
	if (y >= 0 && y < 10000) {
		p = declog_fmt_2(p, (unsigned)(y / 100));
		p = declog_fmt_2(p, (unsigned)(y % 100));
	} else if (y >= 10000)
		p += declog_fmt_u64(p, (uint64_t)y);
	else {
		/* Before year 0 (a clock set wrong): "%04d" as before. */
		*p++ = '-';
		if (-y < 100)
			*p++ = '0';
		if (-y < 10)
			*p++ = '0';
		p += declog_fmt_u64(p, (uint64_t)-y);
	}
	*p++ = '-';
	p = declog_fmt_2(p, (unsigned)m);
	*p++ = '-';
	p = declog_fmt_2(p, (unsigned)d);
	*p++ = 'T';
	p = declog_fmt_2(p, (unsigned)(sod / 3600));
	*p++ = ':';
	p = declog_fmt_2(p, (unsigned)(sod / 60 % 60));
	*p++ = ':';
	p = declog_fmt_2(p, (unsigned)(sod % 60));
	*p++ = '.';
	f->stamplen = (size_t)(p - f->stamp);
	f->sec = sec;
	f->have_sec = 1;
}

/* One byte below 0x80 that needs escaping. */
static char *
declog_fmt_esc(char *p, uint8_t c)
{
	switch (c) {
	case '"':  *p++ = '\\'; *p++ = '"'; break;
	case '\\': *p++ = '\\'; *p++ = '\\'; break;
	case '\n': *p++ = '\\'; *p++ = 'n'; break;
	case '\r': *p++ = '\\'; *p++ = 'r'; break;
	case '\t': *p++ = '\\'; *p++ = 't'; break;
	default:
		memcpy(p, "\\u00", 4);
		p[4] = declog_fmt_hex[c >> 4];
		p[5] = declog_fmt_hex[c & 15];
		p += 6;
	}
	return (p);
}

/*
 * The UTF-8 sequence at s[0..len) (s[0] >= 0x80): its length when well
 * formed (no overlong form, no surrogate, at most U+10FFFF), else 0.
 */
static size_t
declog_fmt_utf8(const uint8_t *s, size_t len)
{
	size_t		n, k;
	uint32_t	cp;

	n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 && s[0] <= 0xef ?
	    3 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : 0;
	if (n == 0 || n > len)
		return (0);
	cp = n == 4 ? s[0] & 7u : n == 3 ? s[0] & 15u : s[0] & 31u;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (s[k] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return (0);
	return (n);
}

/*
 * No byte of w needs escaping: none below 0x20 (w - 0x20 borrows), at
 * or above 0x7f (w + 1 carries into, or w has, the high bit), '"' or
 * '\\'.  A false alarm only ever follows a true one in the same word.
 */
static int
declog_fmt_clean(uint64_t w)
{
	return ((((w | (w - 0x2020202020202020ull) |
	    (w + 0x0101010101010101ull)) & DF_HIGHS) |
	    DF_ZERO(w ^ 0x2222222222222222ull) |
	    DF_ZERO(w ^ 0x5c5c5c5c5c5c5c5cull)) == 0);
}

/*
 * A JSON string's body: escaped, invalid UTF-8 as U+FFFD; at most
 * 6 * len bytes.  Eight bytes at a time while none needs escaping (the
 * common case: ASCII names); the last few as the string's last eight
 * when those are clean, since what came before them was copied as is.
 */
size_t
declog_fmt_str(char *out, const uint8_t *s, size_t len)
{
	char		*p = out;
	size_t		 i = 0, n;
	uint64_t	 w;
	uint8_t		 c;
	int		 tail = len >= 8;

	while (i < len) {
		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if (declog_fmt_clean(w)) {
				memcpy(p, &w, 8);
				p += 8;
				i += 8;
				continue;
			}
		} else if (tail) {
			memcpy(&w, s + len - 8, 8);
			if (declog_fmt_clean(w)) {
				memcpy(p - (i - (len - 8)), &w, 8);
				p += len - i;
				break;
			}
			tail = 0;
		}
		c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*p++ = (char)c;
			i++;
		} else if (c < 0x80) {
			p = declog_fmt_esc(p, c);
			i++;
		} else if ((n = declog_fmt_utf8(s + i, len - i)) != 0) {
			memcpy(p, s + i, n);
			p += n;
			i += n;
		} else {
			memcpy(p, "\\ufffd", 6);
			p += 6;
			i++;
		}
	}
	return ((size_t)(p - out));
}

/* A byte in decimal. */
static char *
declog_fmt_octet(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		return (declog_fmt_2(p, v % 100));
	}
	if (v >= 10)
		return (declog_fmt_2(p, v));
	*p++ = (char)('0' + v);
	return (p);
}

static char *
declog_fmt_ip4(char *p, const uint8_t *ip)
{
	p = declog_fmt_octet(p, ip[0]);
	*p++ = '.';
	p = declog_fmt_octet(p, ip[1]);
	*p++ = '.';
	p = declog_fmt_octet(p, ip[2]);
	*p++ = '.';
	return (declog_fmt_octet(p, ip[3]));
}

/*
 * An address as inet_ntop(3) writes it (glibc's, RFC 5952 for IPv6:
 * the first longest run of two or more zero groups as "::", lower case,
 * IPv4-compatible and -mapped addresses with a dotted quad); iplen 4 or
 * 16.  At most 45 bytes.
 */
size_t
declog_fmt_ip(char *out, const uint8_t *ip, size_t iplen)
{
	unsigned	 w[8], i, v;
	int		 base = -1, blen = 0, cur = -1, clen = 0;
	char		*p = out;

	if (iplen == 4)
		return ((size_t)(declog_fmt_ip4(p, ip) - out));
	for (i = 0; i < 8; i++) {
		w[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
		if (w[i] == 0) {
			if (cur == -1) {
				cur = (int)i;
				clen = 0;
			}
			clen++;
			if (clen > blen) {
				base = cur;
				blen = clen;
			}
		} else
			cur = -1;
	}
	if (blen < 2)
		base = -1;
	for (i = 0; i < 8; i++) {
		if (base != -1 && (int)i >= base && (int)i < base + blen) {
			if ((int)i == base)
				*p++ = ':';
			continue;
		}
		if (i != 0)
			*p++ = ':';
		if (i == 6 && base == 0 &&
		    (blen == 6 || (blen == 5 && w[5] == 0xffff))) {
			p = declog_fmt_ip4(p, ip + 12);
			break;
		}
		v = w[i];
		if (v >= 0x1000)
			*p++ = declog_fmt_hex[v >> 12];
		if (v >= 0x100)
			*p++ = declog_fmt_hex[v >> 8 & 15];
		if (v >= 0x10)
			*p++ = declog_fmt_hex[v >> 4 & 15];
		*p++ = declog_fmt_hex[v & 15];
	}
	if (base != -1 && base + blen == 8)
		*p++ = ':';
	return ((size_t)(p - out));
}

/* The context's keys (and values), the list's end included. */
static char *
declog_fmt_ctx(char *p, const struct declog_hdr *h, const uint8_t **qp)
{
	const uint8_t	*q = *qp;
	uint16_t	 n16;
	unsigned	 i;

	if (h->flags & DL_VALUES)
		PUTS(",\"context\":{");
	else
		PUTS(",\"context_keys\":[");
	for (i = 0; i < h->nctx; i++) {
		if (i != 0)
			*p++ = ',';
		PUTSTR(q + 1, q[0]);
		q += 1 + q[0];
		if (h->flags & DL_VALUES) {
			memcpy(&n16, q, 2);
			*p++ = ':';
			PUTSTR(q + 2, n16);
			q += 2 + n16;
		}
	}
	*p++ = (h->flags & DL_VALUES) ? '}' : ']';
	*qp = q;
	return (p);
}

/* The matched statements, with an explanation. */
static char *
declog_fmt_matched(char *p, const struct declog_hdr *h, const uint8_t *q)
{
	uint32_t	n32;
	uint16_t	n16;
	unsigned	i;

	PUTS(",\"matched\":[");
	for (i = 0; i < h->nmatch; i++) {
		if (i != 0)
			*p++ = ',';
		if (q[0])
			PUTS("{\"source\":\"key\",\"index\":");
		else
			PUTS("{\"source\":\"policy\",\"index\":");
		memcpy(&n32, q + 1, 4);
		p += declog_fmt_u64(p, n32);
		PUTS(",\"name\":");
		q += 5;
		memcpy(&n16, q, 2);
		PUTSTR(q + 2, n16);
		q += 2 + n16;
		memcpy(&n16, q, 2);
		if (n16 != 0) {
			PUTS(",\"sid\":");
			PUTSTR(q + 2, n16);
		}
		q += 2 + n16;
		*p++ = '}';
	}
	*p++ = ']';
	if (h->flags & DL_MCUT)
		PUTS(",\"matched_truncated\":true");
	return (p);
}

size_t
declog_fmt_line(struct declog_fmt *f, char *out, const uint8_t *rec)
{
	struct declog_hdr	 h;
	const uint8_t		*q;
	char			*p = out;
	unsigned		 us, d, r;

	memcpy(&h, rec, sizeof(h));
	q = rec + sizeof(h);
	if (!f->have_sec || h.sec != f->sec)
		declog_fmt_stamp(f, h.sec);
	/* Fixed sizes: a few moves, not a call (the room is there). */
	memcpy(p, f->stamp, sizeof(f->stamp));
	p += f->stamplen;
	us = h.usec % 1000000;
	p = declog_fmt_2(p, us / 10000);
	p = declog_fmt_2(p, us / 100 % 100);
	p = declog_fmt_2(p, us % 100);
	d = h.decision < 3 ? h.decision : 0;
	r = h.reason < EVAL_R_COUNT ? h.reason : EVAL_R_COUNT;
	memcpy(p, f->mid[d][r], sizeof(f->mid[d][r]));
	p += f->midlen[d][r];
	PUTSTR(q, h.plen);
	q += h.plen;
	PUTS(",\"action\":");
	PUTSTR(q, h.alen);
	q += h.alen;
	PUTS(",\"resource\":");
	PUTSTR(q, h.rlen);
	q += h.rlen;
	if (h.ip_len == 4 || h.ip_len == 16) {
		PUTS(",\"source_ip\":\"");
		p += declog_fmt_ip(p, h.ip, h.ip_len);
		*p++ = '"';
	} else
		PUTS(",\"source_ip\":null");
	p = declog_fmt_ctx(p, &h, &q);
	PUTS(",\"generation\":");
	p += declog_fmt_u64(p, h.generation);
	PUTS(",\"uid\":");
	p += declog_fmt_u64(p, h.uid);
	PUTS(",\"pid\":");
	if (h.pid < 0) {
		*p++ = '-';
		p += declog_fmt_u64(p, (uint64_t)-(int64_t)h.pid);
	} else
		p += declog_fmt_u64(p, (uint64_t)h.pid);
	PUTS(",\"request_id\":");
	p += declog_fmt_u64(p, h.reqid);
	if (h.item >= 0) {
		PUTS(",\"batch_index\":");
		p += declog_fmt_u64(p, (uint64_t)h.item);
	}
	if (h.flags & DL_EXPLAIN)
		p = declog_fmt_matched(p, &h, q);
	if (h.flags & DL_CUT)
		PUTS(",\"truncated\":true");
	PUTS("}\n");
	return ((size_t)(p - out));
}

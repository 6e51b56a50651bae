/* SPDX-License-Identifier: ISC */
/*
 * test-declog-fmt.c: the decision log's JSON lines (declog-fmt.c)
 * against the printf formatter they replaced (ref_format below, as it
 * was in declog.c), on tricky and on random records.  With --bench:
 * the two formatters' speed.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "daemon/declog-fmt.h"

/* ---- The reference: the formatter as it was, printf and all. ---- */

static size_t
ref_str(char *out, const uint8_t *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char		*p = out;
	size_t		 i = 0, k, n;
	uint32_t	 cp;

	while (i < len) {
		if (s[i] < 0x80) {
			switch (s[i]) {
			case '"':  *p++ = '\\'; *p++ = '"'; break;
			case '\\': *p++ = '\\'; *p++ = '\\'; break;
			case '\n': *p++ = '\\'; *p++ = 'n'; break;
			case '\r': *p++ = '\\'; *p++ = 'r'; break;
			case '\t': *p++ = '\\'; *p++ = 't'; break;
			default:
				if (s[i] < 0x20 || s[i] == 0x7f) {
					memcpy(p, "\\u00", 4);
					p[4] = hex[s[i] >> 4];
					p[5] = hex[s[i] & 15];
					p += 6;
				} else
					*p++ = (char)s[i];
			}
			i++;
			continue;
		}
		n = s[i] >= 0xf0 && s[i] <= 0xf4 ? 4 : s[i] >= 0xe0 ? 3 :
		    s[i] >= 0xc2 && s[i] <= 0xdf ? 2 : 0;
		cp = n == 4 ? s[i] & 7u : n == 3 ? s[i] & 15u : s[i] & 31u;
		for (k = 1; n != 0 && k < n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80) {
				n = 0;
				break;
			}
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (n == 0 || (n == 3 && (cp < 0x800 ||
		    (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
			memcpy(p, "\\ufffd", 6);
			p += 6;
			i++;
			continue;
		}
		memcpy(p, s + i, n);
		p += n;
		i += n;
	}
	return ((size_t)(p - out));
}

#define PUTS(s)	do { memcpy(p, s, sizeof(s) - 1); p += sizeof(s) - 1; } \
	while (0)
#define PUTSTR(q, n) do { *p++ = '"'; p += ref_str(p, q, n);	\
	*p++ = '"'; } while (0)

static size_t
ref_format(char *out, const uint8_t *rec)
{
	static const char *const decisions[] = {
		"IMPLICIT_DENY", "ALLOW", "EXPLICIT_DENY"
	};
	struct declog_hdr	 h;
	struct tm		 tm;
	time_t			 t;
	char			*p = out, ip[INET6_ADDRSTRLEN];
	const uint8_t		*q;
	const char		*reason;
	uint32_t		 n32;
	uint16_t		 n16;
	unsigned		 i;

	memcpy(&h, rec, sizeof(h));
	q = rec + sizeof(h);
	t = (time_t)h.sec;
	gmtime_r(&t, &tm);
	reason = eval_reason_name((enum eval_reason)h.reason);
	p += sprintf(p, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\","
	    "\"decision\":\"%s\",\"reason\":\"%s\",\"principal\":",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)h.usec % 1000000,
	    h.decision < 3 ? decisions[h.decision] : "IMPLICIT_DENY",
	    reason != NULL ? reason : "invalid-request");
	PUTSTR(q, h.plen);
	q += h.plen;
	PUTS(",\"action\":");
	PUTSTR(q, h.alen);
	q += h.alen;
	PUTS(",\"resource\":");
	PUTSTR(q, h.rlen);
	q += h.rlen;
	if (h.ip_len == 4 || h.ip_len == 16) {
		inet_ntop(h.ip_len == 4 ? AF_INET : AF_INET6, h.ip, ip,
		    sizeof(ip));
		p += sprintf(p, ",\"source_ip\":\"%s\"", ip);
	} else
		PUTS(",\"source_ip\":null");
	if (h.flags & DL_VALUES)
		PUTS(",\"context\":{");
	else
		PUTS(",\"context_keys\":[");
	for (i = 0; i < h.nctx; i++) {
		if (i != 0)
			*p++ = ',';
		PUTSTR(q + 1, q[0]);
		q += 1 + q[0];
		if (h.flags & DL_VALUES) {
			memcpy(&n16, q, 2);
			*p++ = ':';
			PUTSTR(q + 2, n16);
			q += 2 + n16;
		}
	}
	*p++ = (h.flags & DL_VALUES) ? '}' : ']';
	p += sprintf(p, ",\"generation\":%" PRIu64 ",\"uid\":%" PRIu32
	    ",\"pid\":%" PRId32 ",\"request_id\":%" PRIu32, h.generation, h.uid,
	    h.pid, h.reqid);
	if (h.item >= 0)
		p += sprintf(p, ",\"batch_index\":%d", (int)h.item);
	if (h.flags & DL_EXPLAIN) {
		PUTS(",\"matched\":[");
		for (i = 0; i < h.nmatch; i++) {
			memcpy(&n32, q + 1, 4);
			p += sprintf(p,
			    "%s{\"source\":\"%s\",\"index\":%" PRIu32
			    ",\"name\":", i != 0 ? "," : "",
			    q[0] ? "key" : "policy", n32);
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
		if (h.flags & DL_MCUT)
			PUTS(",\"matched_truncated\":true");
	}
	if (h.flags & DL_CUT)
		PUTS(",\"truncated\":true");
	PUTS("}\n");
	return ((size_t)(p - out));
}

/* ---- Records, laid out as declog.c writes them. ---- */

struct tstr {
	const uint8_t	*s;
	size_t		 len;
};

struct tmatch {
	uint8_t		 key;
	uint32_t	 index;
	struct tstr	 name, sid;
};

struct trec {
	struct declog_hdr h;
	struct tstr	 p, a, r;
	struct tstr	 key[16], val[16];
	struct tmatch	 m[8];
};

#define TS(lit)	((struct tstr){ (const uint8_t *)(lit), sizeof(lit) - 1 })

static uint8_t *
put(uint8_t *q, const void *src, size_t len)
{
	if (len != 0)		/* an empty string may have no bytes at all */
		memcpy(q, src, len);
	return (q + len);
}

/* Lay t out in buf (DECLOG_REC_MAX bytes at least): its length. */
static size_t
build(uint8_t *buf, struct trec *t)
{
	uint8_t		*q = buf + sizeof(struct declog_hdr), n8;
	uint16_t	 n16;
	unsigned	 i;

	t->h.plen = (uint16_t)t->p.len;
	t->h.alen = (uint16_t)t->a.len;
	t->h.rlen = (uint16_t)t->r.len;
	q = put(q, t->p.s, t->p.len);
	q = put(q, t->a.s, t->a.len);
	q = put(q, t->r.s, t->r.len);
	for (i = 0; i < t->h.nctx; i++) {
		n8 = (uint8_t)t->key[i].len;
		q = put(q, &n8, 1);
		q = put(q, t->key[i].s, n8);
		if (t->h.flags & DL_VALUES) {
			n16 = (uint16_t)t->val[i].len;
			q = put(q, &n16, 2);
			q = put(q, t->val[i].s, n16);
		}
	}
	for (i = 0; i < t->h.nmatch; i++) {
		q = put(q, &t->m[i].key, 1);
		q = put(q, &t->m[i].index, 4);
		n16 = (uint16_t)t->m[i].name.len;
		q = put(q, &n16, 2);
		q = put(q, t->m[i].name.s, n16);
		n16 = (uint16_t)t->m[i].sid.len;
		q = put(q, &n16, 2);
		q = put(q, t->m[i].sid.s, n16);
	}
	t->h.len = (uint32_t)(((size_t)(q - buf) + 7) & ~(size_t)7);
	assert_true(t->h.len <= DECLOG_REC_MAX);
	memcpy(buf, &t->h, sizeof(t->h));
	return (t->h.len);
}

static struct declog_fmt	fmt;
static uint8_t			recbuf[DECLOG_REC_MAX + 64];
static char			got[DECLOG_LINE_MAX + 64];
static char			want[DECLOG_LINE_MAX + 64];

/* Format t both ways; they agree.  The new line is left in got. */
static size_t
same(struct trec *t)
{
	size_t	n, m;

	build(recbuf, t);
	n = declog_fmt_line(&fmt, got, recbuf);
	m = ref_format(want, recbuf);
	assert_true(n <= DECLOG_LINE_MAX);
	if (n != m || memcmp(got, want, n) != 0)
		fail_msg("new: %.*s\nold: %.*s", (int)n, got, (int)m, want);
	got[n] = '\0';
	return (n);
}

static void
base(struct trec *t)
{
	memset(t, 0, sizeof(*t));
	t->h.decision = 1;
	t->h.reason = 0;
	t->h.sec = 1796622011;		/* 2026-12-07T05:40:11Z */
	t->h.usec = 754605;
	t->h.reqid = 3;
	t->h.generation = 1;
	t->h.uid = 1000;
	t->h.pid = 11400;
	t->h.item = 1;
	t->p = TS("acs:ram::1192853035118888:user/erin");
	t->a = TS("kms:Encrypt");
	t->r = TS("acs:kms:cn-hangzhou:1192853035118888:key/keyId-example");
	t->h.ip_len = 4;
	memcpy(t->h.ip, "\x0a\x00\x00\x15", 4);
	t->h.nctx = 1;
	t->key[0] = TS("acs:SecureTransport");
	t->val[0] = TS("true");
}

/* The example of docs/operations.md, exactly. */
static void
test_documented(void **state)
{
	struct trec	t;

	base(&t);
	t.h.flags = DL_EXPLAIN;
	t.h.nmatch = 1;
	t.m[0].name = TS("KmsFullAccess");
	same(&t);
	assert_string_equal(got, "{\"time\":\"2026-12-07T05:40:11.754605Z\","
	    "\"decision\":\"ALLOW\",\"reason\":\"allowed-by-identity-policy\","
	    "\"principal\":\"acs:ram::1192853035118888:user/erin\","
	    "\"action\":\"kms:Encrypt\",\"resource\":\"acs:kms:cn-hangzhou:"
	    "1192853035118888:key/keyId-example\",\"source_ip\":\"10.0.0.21\","
	    "\"context_keys\":[\"acs:SecureTransport\"],\"generation\":1,"
	    "\"uid\":1000,\"pid\":11400,\"request_id\":3,\"batch_index\":1,"
	    "\"matched\":[{\"source\":\"policy\",\"index\":0,"
	    "\"name\":\"KmsFullAccess\"}]}\n");
}

/* Every byte below 0x80 at every offset of an 8-byte word. */
static void
test_escapes(void **state)
{
	struct trec	t;
	uint8_t		s[160];
	unsigned	c, off;

	for (c = 0; c < 0x80; c++)
		for (off = 0; off < 9; off++) {
			base(&t);
			memset(s, 'a', sizeof(s));
			s[off] = (uint8_t)c;
			s[off + 17] = (uint8_t)c;
			t.p = (struct tstr){ s, 30 + off };
			t.a = (struct tstr){ s + off, 1 };
			same(&t);
		}
	base(&t);
	t.p = TS("\"\\\n\r\t\b\f\x01\x1f\x7f/<>&'\x20~");
	same(&t);
	assert_non_null(strstr(got, "\"principal\":\"\\\"\\\\\\n\\r\\t"
	    "\\u0008\\u000c\\u0001\\u001f\\u007f/<>&' ~\""));
}

static void
test_utf8(void **state)
{
	static const struct tstr cases[] = {
		TS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 ok"),
		TS("\xc0\x80 overlong"), TS("\xc1\xbf"), TS("\xe0\x80\xaf"),
		TS("\xed\xa0\x80 surrogate"), TS("\xed\x9f\xbf"),
		TS("\xf0\x8f\xbf\xbf"), TS("\xf4\x90\x80\x80 too big"),
		TS("\xf4\x8f\xbf\xbf"), TS("\x80\xbf lone continuations"),
		TS("cut \xe2\x82"), TS("cut \xf0\x9f\x94"), TS("\xc3"),
		TS("\xe2\x82\xe2\x82\xac"), TS("12345678\xc3\xa9" "abcdefgh"),
		TS("\xef\xbf\xbf\xef\xbf\xbd"),
	};
	struct trec	t;
	unsigned	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base(&t);
		t.p = cases[i];
		t.key[0] = cases[i];
		same(&t);
	}
	base(&t);
	t.p = TS("a\xed\xa0\x80z");
	same(&t);
	assert_non_null(strstr(got, "\"a\\ufffd\\ufffd\\ufffdz\""));
}

/*
 * Lead bytes 0xf5 - 0xff start no UTF-8 sequence: U+FFFD, as documented
 * (the printf version took them for three-byte leads and copied them).
 */
static void
test_utf8_high_leads(void **state)
{
	char		out[64];
	uint8_t		s[3] = { 0, 0x80, 0x80 };
	unsigned	c;
	size_t		n;

	for (c = 0xf5; c <= 0xff; c++) {
		s[0] = (uint8_t)c;
		n = declog_fmt_str(out, s, 3);
		assert_int_equal(n, 18);
		assert_memory_equal(out, "\\ufffd\\ufffd\\ufffd", 18);
	}
}

static void
test_fields(void **state)
{
	struct trec	t;
	unsigned	d, r;

	/* Every decision and reason, out of range ones too. */
	for (d = 0; d < 5; d++)
		for (r = 0; r < 256; r += (r < 12 ? 1 : 61)) {
			base(&t);
			t.h.decision = (uint8_t)d;
			t.h.reason = (uint8_t)r;
			same(&t);
		}
	/* Lone CHECK, extreme numbers, usec out of range, no address. */
	base(&t);
	t.h.item = -1;
	t.h.pid = -2147483647 - 1;
	t.h.uid = UINT32_MAX;
	t.h.generation = UINT64_MAX;
	t.h.reqid = UINT32_MAX;
	t.h.usec = 4294967295u;
	t.h.ip_len = 0;
	same(&t);
	assert_non_null(strstr(got, "\"source_ip\":null"));
	base(&t);
	t.h.pid = 0;
	t.h.generation = 0;
	t.h.usec = 0;
	t.h.item = 65535;
	t.h.ip_len = 7;		/* never written so: null all the same */
	same(&t);
	/* Truncated, context values, empty strings. */
	base(&t);
	t.h.flags = DL_CUT | DL_VALUES;
	t.h.nctx = 3;
	t.key[1] = TS("kms:tag/\"quoted\"");
	t.val[1] = TS("line\nbreak");
	t.key[2] = TS("");
	t.val[2] = TS("");
	t.p = TS("");
	same(&t);
	assert_non_null(strstr(got, ",\"truncated\":true}\n"));
	/* No context at all, both ways. */
	base(&t);
	t.h.nctx = 0;
	same(&t);
	t.h.flags = DL_VALUES;
	same(&t);
}

static void
test_explain(void **state)
{
	struct trec	t;

	base(&t);
	t.h.flags = DL_EXPLAIN | DL_MCUT | DL_CUT;
	t.h.nmatch = 3;
	t.m[0].name = TS("KmsFullAccess");
	t.m[0].sid = TS("AllowAll");
	t.m[1].key = 1;
	t.m[1].index = 4294967295u;
	t.m[1].name = TS("key/keyId-\"x\"");
	t.m[2].index = 31;
	t.m[2].name = TS("");
	t.m[2].sid = TS("sid\x01\xff");
	same(&t);
	assert_non_null(strstr(got, "{\"source\":\"key\",\"index\":"
	    "4294967295,"));
	/* Asked, nothing matched. */
	base(&t);
	t.h.flags = DL_EXPLAIN;
	same(&t);
	assert_non_null(strstr(got, "\"matched\":[]}"));
}

static void
test_ip(void **state)
{
	static const char *const addrs[] = {
		"::", "::1", "::2", "1::", "1::1", "::ffff:10.0.0.1",
		"::10.0.0.1", "::ffff:0:10.0.0.1", "::fffe:10.0.0.1",
		"2001:db8::1", "2001:db8:0:0:1:0:0:1", "2001:0:0:1:0:0:0:1",
		"fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "1:0:3:4:5:6:7:8",
		"0:0:1::", "::1:0:0:0",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"0:0:0:0:0:1:0:0", "::0.0.0.1", "::ffff:0.0.0.0",
		"0:0:0:0:0:ffff:0:1", "0:1:0:1:0:1:0:1",
	};
	struct trec	t;
	char		a[64], b[INET6_ADDRSTRLEN];
	uint8_t		ip[16];
	unsigned	i, k, mask;
	size_t		n;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, addrs[i], ip), 1);
		n = declog_fmt_ip(a, ip, 16);
		assert_non_null(inet_ntop(AF_INET6, ip, b, sizeof(b)));
		assert_int_equal(n, strlen(b));
		assert_memory_equal(a, b, n);
	}
	/* Every pattern of zero groups, with random others. */
	srandom(17);
	for (mask = 0; mask < 256; mask++)
		for (i = 0; i < 40; i++) {
			for (k = 0; k < 8; k++) {
				ip[2 * k] = (mask >> k & 1) ? 0 :
				    (uint8_t)(i & 1 ? random() : 0);
				ip[2 * k + 1] = (mask >> k & 1) ? 0 :
				    (uint8_t)(random() | 1);
			}
			if (i % 4 == 2) {
				ip[10] = ip[11] = 0xff;
			}
			n = declog_fmt_ip(a, ip, 16);
			inet_ntop(AF_INET6, ip, b, sizeof(b));
			assert_int_equal(n, strlen(b));
			assert_memory_equal(a, b, n);
		}
	for (i = 0; i < 100000; i++) {
		for (k = 0; k < 4; k++)
			ip[k] = (uint8_t)(k == i % 4 ? i >> 2 : random());
		n = declog_fmt_ip(a, ip, 4);
		inet_ntop(AF_INET, ip, b, sizeof(b));
		assert_int_equal(n, strlen(b));
		assert_memory_equal(a, b, n);
	}
	/* In a line. */
	base(&t);
	t.h.ip_len = 16;
	memcpy(t.h.ip, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	same(&t);
	assert_non_null(strstr(got, "\"source_ip\":\"2001:db8::1\""));
}

/* The date cached per second: every second change, back and forth. */
static void
test_time(void **state)
{
	static const int64_t secs[] = {
		0, 59, 60, 86399, 86400, 951782400, 951868799, 951868800,
		1709164800, 1709251199, 4107456000, 4107542400, 4102444799,
		4102444800, 253402300799, 1796622011, 1796622011, 1796622012,
		1796622011,
	};
	struct trec	t;
	unsigned	i;

	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		base(&t);
		t.h.sec = secs[i];
		t.h.usec = i * 99991u;
		same(&t);
	}
	srandom(4);
	for (i = 0; i < 50000; i++) {
		base(&t);
		t.h.sec = (int64_t)((uint64_t)random() * 2147483648u +
		    (uint64_t)random()) % 253402300800;
		if (i & 1)
			t.h.sec %= 4200000000;
		t.h.usec = (uint32_t)random() % 1000000;
		same(&t);
	}
}

static void
rnd_str(uint8_t *s, size_t len)
{
	static const uint8_t pick[] = "\"\\\n\x01\x7f\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x94\x91\x80\xed\xa0";
	size_t	i;
	long	r;

	for (i = 0; i < len; i++) {
		r = random();
		if (r % 8 != 0)
			s[i] = (uint8_t)('a' + r / 8 % 26);
		else if (r % 64 == 8)
			s[i] = (uint8_t)(r / 64 % 0xf5);
		else
			s[i] = pick[r / 64 % (sizeof(pick) - 1)];
	}
}

/* Random records, every field varied. */
static void
test_random(void **state)
{
	static uint8_t	pool[16][600];
	struct trec	t;
	unsigned	i, k;

	srandom(1);
	for (i = 0; i < 5000; i++) {
		for (k = 0; k < 16; k++)
			rnd_str(pool[k], sizeof(pool[k]));
		base(&t);
		t.h.decision = (uint8_t)(random() % 3);
		t.h.reason = (uint8_t)(random() % EVAL_R_COUNT);
		t.h.flags = (uint8_t)(random() & 15);
		t.h.item = (int32_t)(random() % 300) - 1;
		t.h.ip_len = (uint8_t)(random() % 3 == 0 ? 4 : 16);
		for (k = 0; k < 16; k++)
			t.h.ip[k] = (uint8_t)(random() % 3 ? 0 : random());
		t.p = (struct tstr){ pool[0], (size_t)random() % 513 };
		t.a = (struct tstr){ pool[1], (size_t)random() % 40 };
		t.r = (struct tstr){ pool[2], (size_t)random() % 513 };
		t.h.nctx = (uint8_t)(random() % 5);
		for (k = 0; k < t.h.nctx; k++) {
			t.key[k] = (struct tstr){ pool[3 + k],
			    (size_t)random() % 60 };
			t.val[k] = (struct tstr){ pool[8 + k],
			    (size_t)random() % 257 };
		}
		t.h.nmatch = (uint8_t)(random() % 4);
		for (k = 0; k < t.h.nmatch; k++) {
			t.m[k].key = (uint8_t)(random() & 1);
			t.m[k].index = (uint32_t)random();
			t.m[k].name = (struct tstr){ pool[13 + k],
			    (size_t)random() % 80 };
			t.m[k].sid = (struct tstr){ pool[12 + k],
			    (size_t)random() % 129 };
		}
		same(&t);
	}
}

/* The worst record the ring holds fits the line bound, guard intact. */
static void
test_bound(void **state)
{
	static uint8_t	ctl[DECLOG_REC_MAX];
	struct trec	t;
	size_t		n;

	memset(ctl, 0x01, sizeof(ctl));
	base(&t);
	t.h.flags = DL_CUT | DL_VALUES | DL_EXPLAIN | DL_MCUT;
	t.p = (struct tstr){ ctl, DECLOG_FIELD_MAX };
	t.a = (struct tstr){ ctl, DECLOG_FIELD_MAX };
	t.r = (struct tstr){ ctl, DECLOG_FIELD_MAX };
	t.h.nctx = 10;
	for (n = 0; n < 10; n++) {
		t.key[n] = (struct tstr){ ctl, 40 };
		t.val[n] = (struct tstr){ ctl, 200 };
	}
	t.h.ip_len = 16;
	memset(t.h.ip, 0x11, 16);
	memset(got, 0x5a, sizeof(got));
	n = same(&t);
	assert_true(build(recbuf, &t) > DECLOG_REC_MAX - 64);
	assert_true(n > 5 * DECLOG_REC_MAX);
	assert_true(n <= DECLOG_LINE_MAX);
	for (n = DECLOG_LINE_MAX + 1; n < sizeof(got); n++)
		assert_int_equal((uint8_t)got[n], 0x5a);
}

static void
test_u64(void **state)
{
	char		a[24], b[24];
	uint64_t	v = 1;
	unsigned	i;
	size_t		n;

	for (i = 0; i < 64; i++, v *= 3) {
		n = declog_fmt_u64(a, v);
		snprintf(b, sizeof(b), "%" PRIu64, v);
		assert_int_equal(n, strlen(b));
		assert_memory_equal(a, b, n);
		n = declog_fmt_u64(a, v - 1);
		snprintf(b, sizeof(b), "%" PRIu64, v - 1);
		assert_int_equal(n, strlen(b));
		assert_memory_equal(a, b, n);
	}
}

/*
 * test-declog-fmt --bench: nanoseconds per line of both formatters on
 * the documented record (a new second every 300,000 lines), in rounds
 * (docs/benchmarks.md).
 */
static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
bench(void)
{
	struct declog_hdr	*h = (struct declog_hdr *)(void *)recbuf;
	struct trec		 t;
	double			 t0, t1, t2;
	size_t			 i, n = 0, len;
	const size_t		 lines = 2000000;
	int			 round;

	declog_fmt_init(&fmt);
	base(&t);
	t.h.item = -1;
	build(recbuf, &t);
	len = ref_format(want, recbuf);
	for (round = 0; round < 3; round++) {
		t0 = bench_now();
		for (i = 0; i < lines; i++) {
			h->usec = (uint32_t)i;
			h->sec = 1796622011 + (int64_t)(i / 300000);
			n += ref_format(want, recbuf);
		}
		t1 = bench_now();
		for (i = 0; i < lines; i++) {
			h->usec = (uint32_t)i;
			h->sec = 1796622011 + (int64_t)(i / 300000);
			n += declog_fmt_line(&fmt, got, recbuf);
		}
		t2 = bench_now();
		printf("%zu-byte line: printf %.1f ns, "
		    "declog_fmt_line %.1f ns\n",
		    len, (t1 - t0) / (double)lines * 1e9,
		    (t2 - t1) / (double)lines * 1e9);
	}
	return (n == 0);
}

static int
setup(void **state)
{
	declog_fmt_init(&fmt);
	return (0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documented),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_high_leads),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_u64),
	};

	if (argc == 2 && strcmp(argv[1], "--bench") == 0)
		return (bench());
	return (cmocka_run_group_tests(tests, setup, NULL));
}

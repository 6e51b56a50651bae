/* SPDX-License-Identifier: ISC */
/*
 * test-proto.c: the protocol v1 codec: known byte layouts, round trips,
 * every limit and every malformed input path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <endian.h>

#include "proto/proto.h"

static struct proto_str
S(const char *s)
{
	struct proto_str	r;

	r.ptr = s;
	r.len = strlen(s);
	return (r);
}

static int
streq(const struct proto_str *a, const char *b)
{
	return (a->len == strlen(b) && memcmp(a->ptr, b, a->len) == 0);
}

/* Encodes into buf, asserting success; returns the length. */
#define ENCODE(buf, call) __extension__ ({				\
	struct proto_wr w_;						\
	proto_wr_init(&w_, (buf), sizeof(buf));				\
	call(&w_, m_);							\
	assert_int_equal(w_.err, 0);					\
	w_.off;								\
})

static void
sample_check(struct proto_check *c)
{
	memset(c, 0, sizeof(*c));
	c->flags = KMSAUTHZ_CHECK_EXPLAIN | KMSAUTHZ_CHECK_TIME;
	c->ip_len = 4;
	c->ip[0] = 192;
	c->ip[1] = 168;
	c->ip[2] = 0;
	c->ip[3] = 1;
	c->time_sec = 1700000000;
	c->time_nsec = 5;
	c->principal = S("acs:ram::123:user/alice");
	c->action = S("kms:Encrypt");
	c->resource = S("acs:kms:cn-hangzhou:123:key/k1");
	c->nctx = 2;
	c->ctx[0].key = S("acs:SecureTransport");
	c->ctx[0].value = S("true");
	c->ctx[1].key = S("acs:MFAPresent");
	c->ctx[1].value = S("");
}

static void
test_header_layout(void **state)
{
	/* The PING example of docs/protocol.md. */
	static const uint8_t	 ping[16] = {
		0x4b, 0x5a, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00 };
	struct proto_hdr	 h;
	uint8_t			 buf[16];

	memset(&h, 0, sizeof(h));
	h.version = KMSAUTHZ_PROTO_VERSION;
	h.type = KMSAUTHZ_MSG_PING;
	h.id = 7;
	proto_hdr_encode(buf, &h);
	assert_memory_equal(buf, ping, sizeof(ping));
	assert_int_equal(proto_hdr_decode(ping, sizeof(ping), &h), 0);
	assert_int_equal(h.type, KMSAUTHZ_MSG_PING);
	assert_int_equal(h.id, 7);
	assert_int_equal(h.len, 0);
	assert_int_equal(h.version, 1);
}

static void
test_header_errors(void **state)
{
	struct proto_hdr	h;
	uint8_t			b[16], g[16];

	memset(&h, 0, sizeof(h));
	h.version = 1;
	h.type = KMSAUTHZ_MSG_CHECK;
	h.id = 0xdeadbeef;
	h.len = 100;
	proto_hdr_encode(g, &h);
	assert_int_equal(proto_hdr_decode(g, 16, &h), 0);
	assert_int_equal(h.id, 0xdeadbeef);
	assert_int_equal(proto_hdr_decode(g, 15, &h), KMSAUTHZ_EPROTO);

	memcpy(b, g, 16);
	b[0] = 'X';
	assert_int_equal(proto_hdr_decode(b, 16, &h), KMSAUTHZ_EPROTO);
	memcpy(b, g, 16);
	b[2] = 2;
	assert_int_equal(proto_hdr_decode(b, 16, &h), KMSAUTHZ_EVERSION);
	memcpy(b, g, 16);
	b[2] = 0;
	assert_int_equal(proto_hdr_decode(b, 16, &h), KMSAUTHZ_EVERSION);
	memcpy(b, g, 16);
	b[3] = 1;
	assert_int_equal(proto_hdr_decode(b, 16, &h), KMSAUTHZ_EPROTO);
	memcpy(b, g, 16);
	b[7] = 1;
	assert_int_equal(proto_hdr_decode(b, 16, &h), KMSAUTHZ_EPROTO);

	/* Body limits by type, checked from the header alone. */
	h.version = 1;
	h.flags = 0;
	h.type = KMSAUTHZ_MSG_CHECK;
	h.len = KMSAUTHZ_MAX_QUERY_BODY;
	proto_hdr_encode(b, &h);
	assert_int_equal(proto_hdr_decode(b, 16, &h), 0);
	h.len = KMSAUTHZ_MAX_QUERY_BODY + 1;
	proto_hdr_encode(b, &h);
	assert_int_equal(proto_hdr_decode(b, 16, &h), KMSAUTHZ_ETOOBIG);
	h.type = KMSAUTHZ_MSG_ADMIN_REQUEST;
	h.len = KMSAUTHZ_MAX_QUERY_BODY + 1;
	proto_hdr_encode(b, &h);
	assert_int_equal(proto_hdr_decode(b, 16, &h), 0);
	h.len = KMSAUTHZ_MAX_ADMIN_BODY + 1;
	proto_hdr_encode(b, &h);
	assert_int_equal(proto_hdr_decode(b, 16, &h), KMSAUTHZ_ETOOBIG);
	h.type = 9999;		/* unknown: the query limit */
	h.len = 0xffffffff;
	proto_hdr_encode(b, &h);
	assert_int_equal(proto_hdr_decode(b, 16, &h), KMSAUTHZ_ETOOBIG);
	h.type = KMSAUTHZ_MSG_BATCH_ANSWER;
	h.len = KMSAUTHZ_MAX_REPLY_BODY;
	proto_hdr_encode(b, &h);
	assert_int_equal(proto_hdr_decode(b, 16, &h), 0);
}

static void
test_types(void **state)
{
	assert_true(proto_type_is_query(KMSAUTHZ_MSG_CHECK));
	assert_true(proto_type_is_query(KMSAUTHZ_MSG_CHECK_BATCH));
	assert_true(proto_type_is_query(KMSAUTHZ_MSG_HELLO));
	assert_false(proto_type_is_query(KMSAUTHZ_MSG_ADMIN_REQUEST));
	assert_false(proto_type_is_query(KMSAUTHZ_MSG_ANSWER));
	assert_true(proto_type_is_admin(KMSAUTHZ_MSG_ADMIN_REQUEST));
	assert_true(proto_type_is_admin(KMSAUTHZ_MSG_PING));
	assert_false(proto_type_is_admin(KMSAUTHZ_MSG_CHECK));
	assert_string_equal(proto_type_name(KMSAUTHZ_MSG_BATCH_ANSWER),
	    "BATCH_ANSWER");
	assert_null(proto_type_name(0));
	assert_int_equal(proto_wire_error(KMSAUTHZ_EPROTO),
	    KMSAUTHZ_WERR_PROTO);
	assert_int_equal(proto_wire_error(KMSAUTHZ_ETOOBIG),
	    KMSAUTHZ_WERR_TOOBIG);
	assert_int_equal(proto_wire_error(KMSAUTHZ_EVERSION),
	    KMSAUTHZ_WERR_VERSION);
}

static void
test_frame_begin_end(void **state)
{
	struct proto_wr		w;
	struct proto_hdr	h;
	struct proto_error	e, *m_ = &e;
	uint8_t			buf[128];
	size_t			start, n;

	memset(&e, 0, sizeof(e));
	e.code = KMSAUTHZ_WERR_PROTO;
	e.message = S("bad");
	/* Counting mode gives the size the real write takes. */
	proto_wr_init(&w, NULL, 0);
	start = proto_frame_begin(&w, KMSAUTHZ_MSG_ERROR, 9);
	proto_error_encode(&w, m_);
	proto_frame_end(&w, start);
	assert_int_equal(w.err, 0);
	n = w.off;
	assert_int_equal(n, 16 + 4 + 2 + 3);

	proto_wr_init(&w, buf, sizeof(buf));
	start = proto_frame_begin(&w, KMSAUTHZ_MSG_ERROR, 9);
	proto_error_encode(&w, m_);
	proto_frame_end(&w, start);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.off, n);
	assert_int_equal(proto_hdr_decode(buf, w.off, &h), 0);
	assert_int_equal(h.len, n - 16);
	assert_int_equal(h.id, 9);
	memset(&e, 0, sizeof(e));
	assert_int_equal(proto_error_decode(buf + 16, h.len, &e), 0);
	assert_int_equal(e.code, KMSAUTHZ_WERR_PROTO);
	assert_true(streq(&e.message, "bad"));

	/* A writer too small fails, sticky, with ETOOBIG. */
	proto_wr_init(&w, buf, 20);
	start = proto_frame_begin(&w, KMSAUTHZ_MSG_ERROR, 9);
	proto_error_encode(&w, m_);
	proto_frame_end(&w, start);
	assert_int_equal(w.err, KMSAUTHZ_ETOOBIG);
}

/*
 * A body over its type's limit fails in the counting pass too, so a
 * sender learns it before building the frame (an ADMIN_REQUEST of one
 * byte more than KMSAUTHZ_MAX_ADMIN_BODY; one at the limit passes).
 */
static void
test_frame_limit_counting(void **state)
{
	struct proto_wr		 w;
	struct proto_admin	 a;
	size_t			 start, fixed = 8;
	char			*json;

	(void)state;
	json = malloc(KMSAUTHZ_MAX_ADMIN_BODY);
	assert_non_null(json);
	memset(json, ' ', KMSAUTHZ_MAX_ADMIN_BODY);
	memset(&a, 0, sizeof(a));
	a.json.ptr = json;
	a.json.len = KMSAUTHZ_MAX_ADMIN_BODY - fixed;
	proto_wr_init(&w, NULL, 0);
	start = proto_frame_begin(&w, KMSAUTHZ_MSG_ADMIN_REQUEST, 1);
	proto_admin_encode(&w, &a);
	proto_frame_end(&w, start);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.off, KMSAUTHZ_HDR_SIZE + KMSAUTHZ_MAX_ADMIN_BODY);

	a.json.len++;
	proto_wr_init(&w, NULL, 0);
	start = proto_frame_begin(&w, KMSAUTHZ_MSG_ADMIN_REQUEST, 1);
	proto_admin_encode(&w, &a);
	proto_frame_end(&w, start);
	assert_int_equal(w.err, KMSAUTHZ_ETOOBIG);
	free(json);
}

static void
test_check_layout(void **state)
{
	/* The minimal CHECK example of docs/protocol.md. */
	static const uint8_t	 want[] = {
		0x00, 0x00, 0x00, 0x00,			/* flags ip nctx */
		0x00, 0x00, 0x00, 0x00,			/* nsec */
		0, 0, 0, 0, 0, 0, 0, 0,			/* sec */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x01, 'p',
		0x00, 0x01, 'a',
		0x00, 0x01, 'r' };
	struct proto_check	 c, d, *m_ = &c;
	uint8_t			 buf[256];
	size_t			 n;

	memset(&c, 0, sizeof(c));
	c.principal = S("p");
	c.action = S("a");
	c.resource = S("r");
	n = ENCODE(buf, proto_check_encode);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, n);
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	assert_true(streq(&d.principal, "p"));
	assert_int_equal(d.ip_len, 0);
	assert_int_equal(d.nctx, 0);
}

static void
test_check_roundtrip(void **state)
{
	struct proto_check	 c, d, *m_ = &c;
	uint8_t			 buf[1024];
	size_t			 n, i;

	sample_check(&c);
	n = ENCODE(buf, proto_check_encode);
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	assert_int_equal(d.flags, c.flags);
	assert_int_equal(d.ip_len, 4);
	assert_memory_equal(d.ip, c.ip, 4);
	assert_int_equal(d.time_sec, 1700000000);
	assert_int_equal(d.time_nsec, 5);
	assert_true(streq(&d.principal, "acs:ram::123:user/alice"));
	assert_true(streq(&d.action, "kms:Encrypt"));
	assert_true(streq(&d.resource, "acs:kms:cn-hangzhou:123:key/k1"));
	assert_int_equal(d.nctx, 2);
	assert_true(streq(&d.ctx[0].key, "acs:SecureTransport"));
	assert_true(streq(&d.ctx[0].value, "true"));
	assert_true(streq(&d.ctx[1].key, "acs:MFAPresent"));
	assert_int_equal(d.ctx[1].value.len, 0);

	/* Negative pinned times and IPv6 survive. */
	c.time_sec = -86400;
	c.ip_len = 16;
	for (i = 0; i < 16; i++)
		c.ip[i] = (uint8_t)(0xf0 + i);
	n = ENCODE(buf, proto_check_encode);
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	assert_int_equal(d.time_sec, -86400);
	assert_memory_equal(d.ip, c.ip, 16);

	/* Every strict prefix is truncated; one more byte is trailing. */
	for (i = 0; i < n; i++)
		assert_int_equal(proto_check_decode(buf, i, &d),
		    KMSAUTHZ_EPROTO);
	buf[n] = 0;
	assert_int_equal(proto_check_decode(buf, n + 1, &d), KMSAUTHZ_EPROTO);
}

/* Mutates one byte of an encoded sample check and expects EPROTO. */
static void
expect_check_bad(size_t off, uint8_t v)
{
	struct proto_check	 c, d, *m_ = &c;
	uint8_t			 buf[1024];
	size_t			 n;

	sample_check(&c);
	n = ENCODE(buf, proto_check_encode);
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	buf[off] = v;
	assert_int_equal(proto_check_decode(buf, n, &d), KMSAUTHZ_EPROTO);
	assert_int_equal(d.nctx, 0);
}

static void
test_check_bad_fields(void **state)
{
	expect_check_bad(0, 0x04);	/* unknown flag */
	expect_check_bad(0, 0x80);
	expect_check_bad(1, 5);		/* ip length */
	expect_check_bad(1, 0);		/* ip bytes beyond ip_len nonzero */
	expect_check_bad(20, 1);	/* ip padding */
	expect_check_bad(31, 1);
	expect_check_bad(3, 65);	/* nctx over the limit */
	expect_check_bad(2, 0xff);
	expect_check_bad(4, 0x3c);	/* nsec >= 1e9 (0x3b9aca00) */
	expect_check_bad(32, 0xff);	/* principal length huge */
	expect_check_bad(34, 0);	/* NUL inside principal */
	expect_check_bad(0, 0x01);	/* time without the TIME flag */
}

static void
test_check_limits(void **state)
{
	struct proto_check	 c, d, *m_ = &c;
	struct proto_wr		 w;
	static uint8_t		 buf[KMSAUTHZ_MAX_QUERY_BODY];
	static char		 big[2048];
	size_t			 n, i;
	uint16_t		 len;

	memset(big, 'x', sizeof(big) - 1);
	sample_check(&c);
	c.principal.ptr = big;
	c.principal.len = KMSAUTHZ_MAX_PRINCIPAL;
	c.action.ptr = big;
	c.action.len = KMSAUTHZ_MAX_ACTION;
	c.resource.ptr = big;
	c.resource.len = KMSAUTHZ_MAX_RESOURCE;
	c.nctx = KMSAUTHZ_MAX_CONTEXT;
	for (i = 0; i < KMSAUTHZ_MAX_CONTEXT; i++) {
		c.ctx[i].key.ptr = big;
		c.ctx[i].key.len = KMSAUTHZ_MAX_CONTEXT_KEY;
		c.ctx[i].value.ptr = big;
		c.ctx[i].value.len = KMSAUTHZ_MAX_CONTEXT_VALUE;
	}
	/* The largest check fits in one query frame. */
	n = ENCODE(buf, proto_check_encode);
	assert_true(n <= KMSAUTHZ_MAX_QUERY_BODY);
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	assert_int_equal(d.nctx, KMSAUTHZ_MAX_CONTEXT);
	assert_int_equal(d.resource.len, KMSAUTHZ_MAX_RESOURCE);

	/* One byte over any string limit: the encoder refuses... */
	c.principal.len = KMSAUTHZ_MAX_PRINCIPAL + 1;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	c.principal.len = 1;
	c.ctx[3].value.len = KMSAUTHZ_MAX_CONTEXT_VALUE + 1;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	c.ctx[3].value.len = 1;
	c.ctx[3].key.len = KMSAUTHZ_MAX_CONTEXT_KEY + 1;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	c.ctx[3].key.len = 1;
	c.nctx = KMSAUTHZ_MAX_CONTEXT + 1;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);

	/* ...and so does the decoder, given a hand-made length. */
	memset(&c, 0, sizeof(c));
	c.principal.ptr = big;
	c.principal.len = KMSAUTHZ_MAX_PRINCIPAL;
	c.action = S("a");
	c.resource = S("r");
	n = ENCODE(buf, proto_check_encode);
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	len = htobe16(KMSAUTHZ_MAX_PRINCIPAL + 1);
	memmove(buf + 32 + 2 + KMSAUTHZ_MAX_PRINCIPAL + 1,
	    buf + 32 + 2 + KMSAUTHZ_MAX_PRINCIPAL, n - 32 - 2 -
	    KMSAUTHZ_MAX_PRINCIPAL);
	buf[32 + 2 + KMSAUTHZ_MAX_PRINCIPAL] = 'x';
	memcpy(buf + 32, &len, 2);
	assert_int_equal(proto_check_decode(buf, n + 1, &d), KMSAUTHZ_EPROTO);

	/* An encoder given a NUL inside a string refuses it. */
	memset(&c, 0, sizeof(c));
	c.principal.ptr = "a\0b";
	c.principal.len = 3;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	c.principal = S("p");
	c.ip_len = 3;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
}

static void
test_batch(void **state)
{
	struct proto_check	 c, d;
	struct proto_batch_rd	 it;
	struct proto_wr		 w;
	static uint8_t		 buf[KMSAUTHZ_MAX_QUERY_BODY];
	size_t			 n, i;

	sample_check(&c);
	proto_wr_init(&w, buf, sizeof(buf));
	proto_batch_encode_begin(&w, 3);
	for (i = 0; i < 3; i++) {
		c.time_nsec = (uint32_t)i;
		proto_check_encode(&w, &c);
	}
	assert_int_equal(w.err, 0);
	n = w.off;
	assert_int_equal(proto_batch_begin(&it, buf, n), 0);
	assert_int_equal(it.count, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(proto_batch_next(&it, &d), 0);
		assert_int_equal(d.time_nsec, i);
		assert_true(streq(&d.action, "kms:Encrypt"));
	}
	assert_int_equal(proto_batch_end(&it), 0);
	/* A fourth next is an error, and it sticks. */
	assert_int_equal(proto_batch_next(&it, &d), KMSAUTHZ_EPROTO);
	assert_int_equal(proto_batch_end(&it), KMSAUTHZ_EPROTO);

	/* Ending early (count says 3, 2 read). */
	assert_int_equal(proto_batch_begin(&it, buf, n), 0);
	assert_int_equal(proto_batch_next(&it, &d), 0);
	assert_int_equal(proto_batch_next(&it, &d), 0);
	assert_int_equal(proto_batch_end(&it), KMSAUTHZ_EPROTO);

	/* Count 4 over 3 items: the fourth is truncated. */
	buf[1] = 4;
	assert_int_equal(proto_batch_begin(&it, buf, n), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(proto_batch_next(&it, &d), 0);
	assert_int_equal(proto_batch_next(&it, &d), KMSAUTHZ_EPROTO);
	/* Count 2 over 3 items: trailing bytes. */
	buf[1] = 2;
	assert_int_equal(proto_batch_begin(&it, buf, n), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(proto_batch_next(&it, &d), 0);
	assert_int_equal(proto_batch_end(&it), KMSAUTHZ_EPROTO);
	buf[1] = 3;

	/* Count 0, over the limit, nonzero reserved, short prefix. */
	buf[1] = 0;
	assert_int_equal(proto_batch_begin(&it, buf, n), KMSAUTHZ_EPROTO);
	assert_int_equal(proto_batch_next(&it, &d), KMSAUTHZ_EPROTO);
	buf[0] = 0;
	buf[1] = KMSAUTHZ_MAX_BATCH + 1;
	assert_int_equal(proto_batch_begin(&it, buf, n), KMSAUTHZ_EPROTO);
	buf[1] = 3;
	buf[3] = 1;
	assert_int_equal(proto_batch_begin(&it, buf, n), KMSAUTHZ_EPROTO);
	buf[3] = 0;
	assert_int_equal(proto_batch_begin(&it, buf, 3), KMSAUTHZ_EPROTO);

	/* The encoder refuses counts out of range. */
	proto_wr_init(&w, buf, sizeof(buf));
	proto_batch_encode_begin(&w, 0);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	proto_wr_init(&w, buf, sizeof(buf));
	proto_batch_encode_begin(&w, KMSAUTHZ_MAX_BATCH + 1);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
}

/*
 * The minimum-generation extension (docs/protocol.md, "CHECK extension"):
 * its bytes after the context pairs, a round trip in a CHECK and in
 * batch items, and every malformed case with the reader's message.
 */
static void
test_check_mingen(void **state)
{
	static const uint8_t	 ext[KMSAUTHZ_MINGEN_SIZE] = {
		0x01, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c
	};
	struct proto_check	 c, d, *m_ = &c;
	struct proto_batch_rd	 it;
	struct proto_rd		 rd;
	struct proto_wr		 w;
	uint8_t			 buf[1024], plain[1024];
	size_t			 n, np, i;

	sample_check(&c);
	np = ENCODE(plain, proto_check_encode);
	c.flags |= KMSAUTHZ_CHECK_MIN_GEN;
	c.min_generation = 300;
	n = ENCODE(buf, proto_check_encode);
	/* The same check with the flag, then the 12 bytes. */
	assert_int_equal(n, np + KMSAUTHZ_MINGEN_SIZE);
	assert_int_equal(buf[0], plain[0] | KMSAUTHZ_CHECK_MIN_GEN);
	assert_memory_equal(buf + 1, plain + 1, np - 1);
	assert_memory_equal(buf + np, ext, sizeof(ext));
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	assert_int_equal(d.min_generation, 300);
	assert_int_equal(d.nctx, 2);
	/* Without the flag the field is 0. */
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(proto_check_decode(plain, np, &d), 0);
	assert_int_equal(d.min_generation, 0);
	/* The largest generation survives. */
	c.min_generation = UINT64_MAX;
	n = ENCODE(buf, proto_check_encode);
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	assert_true(d.min_generation == UINT64_MAX);
	/* With WHY (a single CHECK may carry both). */
	c.flags |= KMSAUTHZ_CHECK_WHY | KMSAUTHZ_CHECK_WHY_FULL;
	c.min_generation = 7;
	n = ENCODE(buf, proto_check_encode);
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	assert_int_equal(d.min_generation, 7);
	c.flags &= ~(KMSAUTHZ_CHECK_WHY | KMSAUTHZ_CHECK_WHY_FULL);
	c.min_generation = 300;
	n = ENCODE(buf, proto_check_encode);

#define BAD(len, msgtext) do {						\
	proto_rd_init(&rd, buf, (len));					\
	proto_check_read(&rd, &d);					\
	assert_int_equal(proto_rd_end(&rd), KMSAUTHZ_EPROTO);		\
	assert_int_equal(d.min_generation, 0);				\
	assert_int_equal(d.nctx, 0);					\
	if ((msgtext) != NULL) {					\
		assert_non_null(rd.msg);				\
		assert_non_null(strstr(rd.msg, (msgtext)));		\
	}								\
} while (0)
	/* Cut short anywhere in the extension (the flag says it is there). */
	for (i = np; i < n; i++)
		BAD(i, "cut short");
	/* A version other than 1. */
	buf[np] = 2;
	BAD(n, "unknown version");
	buf[np] = 0;
	BAD(n, "unknown version");
	buf[np] = 1;
	/* Flags and reserved bytes. */
	for (i = 1; i < 4; i++) {
		buf[np + i] = 0x01;
		BAD(n, "non-zero flags or reserved");
		buf[np + i] = 0x80;
		BAD(n, "non-zero flags or reserved");
		buf[np + i] = 0;
	}
	/* Generation 0: no minimum is said by leaving the flag out. */
	memset(buf + np + 4, 0, 8);
	BAD(n, "generation 0");
	buf[n - 1] = 0x2c;
	buf[n - 2] = 0x01;
	assert_int_equal(proto_check_decode(buf, n, &d), 0);
	/* A byte after the extension is trailing. */
	buf[n] = 0;
	assert_int_equal(proto_check_decode(buf, n + 1, &d), KMSAUTHZ_EPROTO);
	/* The extension's bytes without the flag are trailing too. */
	buf[0] &= ~KMSAUTHZ_CHECK_MIN_GEN;
	assert_int_equal(proto_check_decode(buf, n, &d), KMSAUTHZ_EPROTO);
	buf[0] |= KMSAUTHZ_CHECK_MIN_GEN;
#undef BAD

	/* The encoder: the flag and a non-zero generation go together. */
	c.min_generation = 0;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	c.flags &= ~KMSAUTHZ_CHECK_MIN_GEN;
	c.min_generation = 5;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);

	/* Batch items carry it each (here the second only). */
	proto_wr_init(&w, buf, sizeof(buf));
	proto_batch_encode_begin(&w, 2);
	sample_check(&c);
	proto_check_encode(&w, &c);
	c.flags |= KMSAUTHZ_CHECK_MIN_GEN;
	c.min_generation = 9;
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, 0);
	n = w.off;
	assert_int_equal(proto_batch_begin(&it, buf, n), 0);
	assert_int_equal(proto_batch_next(&it, &d), 0);
	assert_int_equal(d.min_generation, 0);
	assert_int_equal(proto_batch_next(&it, &d), 0);
	assert_int_equal(d.min_generation, 9);
	assert_int_equal(proto_batch_end(&it), 0);
	/* A bad item's extension makes the batch malformed, with why. */
	buf[n - KMSAUTHZ_MINGEN_SIZE] = 3;
	assert_int_equal(proto_batch_begin(&it, buf, n), 0);
	assert_int_equal(proto_batch_next(&it, &d), 0);
	assert_int_equal(proto_batch_next(&it, &d), KMSAUTHZ_EPROTO);
	assert_non_null(it.rd.msg);
	assert_non_null(strstr(it.rd.msg, "unknown version"));
}

static void
test_error_stale(void **state)
{
	struct proto_error	 e, d, *m_ = &e;
	uint8_t			 buf[64];
	size_t			 n;

	memset(&e, 0, sizeof(e));
	e.code = KMSAUTHZ_WERR_STALE;
	e.message = S("generation 5 not reached");
	n = ENCODE(buf, proto_error_encode);
	assert_int_equal(buf[1], 9);
	assert_int_equal(proto_error_decode(buf, n, &d), 0);
	assert_int_equal(d.code, KMSAUTHZ_WERR_STALE);
	assert_int_equal(proto_wire_error(KMSAUTHZ_EPROTO), KMSAUTHZ_WERR_PROTO);
}

static void
sample_answer(struct proto_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->decision = KMSAUTHZ_ALLOW;
	a->reason = KMSAUTHZ_REASON_ALLOWED_BY_KEY_POLICY;
	a->generation = 0x0102030405060708ULL;
	a->nmatch = 2;
	a->match[0].kind = KMSAUTHZ_SOURCE_POLICY;
	a->match[0].index = 0;
	a->match[0].name = S("pol1");
	a->match[1].kind = KMSAUTHZ_SOURCE_KEY;
	a->match[1].flags = KMSAUTHZ_MATCH_HAS_SID;
	a->match[1].index = 3;
	a->match[1].name = S("k1");
	a->match[1].sid = S("s");
}

static void
test_answer_layout(void **state)
{
	static const uint8_t	 want[] = {
		0x01, 0x02, 0x00, 0x02,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x04, 'p', 'o', 'l', '1', 0x00, 0x00,
		0x01, 0x01, 0x00, 0x00, 0x00, 0x03,
		0x00, 0x02, 'k', '1', 0x00, 0x01, 's' };
	struct proto_answer	 a, b, *m_ = &a;
	uint8_t			 buf[256];
	size_t			 n, i;

	sample_answer(&a);
	n = ENCODE(buf, proto_answer_encode);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, n);
	assert_int_equal(proto_answer_decode(buf, n, &b), 0);
	assert_int_equal(b.decision, KMSAUTHZ_ALLOW);
	assert_int_equal(b.reason, KMSAUTHZ_REASON_ALLOWED_BY_KEY_POLICY);
	assert_int_equal(b.generation, 0x0102030405060708ULL);
	assert_int_equal(b.nmatch, 2);
	assert_int_equal(b.match[1].index, 3);
	assert_true(streq(&b.match[1].sid, "s"));
	assert_true(streq(&b.match[0].name, "pol1"));
	assert_int_equal(b.match[0].flags, 0);

	/* Any truncation or trailing byte: an error and a deny. */
	for (i = 0; i < n; i++) {
		assert_int_equal(proto_answer_decode(buf, i, &b),
		    KMSAUTHZ_EPROTO);
		assert_int_equal(b.decision, KMSAUTHZ_IMPLICIT_DENY);
	}
	buf[n] = 0;
	assert_int_equal(proto_answer_decode(buf, n + 1, &b), KMSAUTHZ_EPROTO);
	assert_int_equal(b.decision, KMSAUTHZ_IMPLICIT_DENY);
	assert_int_equal(b.nmatch, 0);
}

static void
expect_answer_bad(size_t off, uint8_t v)
{
	struct proto_answer	 a, b, *m_ = &a;
	uint8_t			 buf[256];
	size_t			 n;

	sample_answer(&a);
	n = ENCODE(buf, proto_answer_encode);
	buf[off] = v;
	assert_int_equal(proto_answer_decode(buf, n, &b), KMSAUTHZ_EPROTO);
	assert_int_equal(b.decision, KMSAUTHZ_IMPLICIT_DENY);
}

static void
test_answer_bad(void **state)
{
	expect_answer_bad(0, 3);	/* unknown decision */
	expect_answer_bad(1, 0);	/* ALLOW without a reason */
	expect_answer_bad(1, KMSAUTHZ_REASON_EXPLICIT_DENY);
	expect_answer_bad(1, KMSAUTHZ_REASON_KEY_NOT_FOUND);
	expect_answer_bad(1, 11);
	expect_answer_bad(2, 2);	/* unknown flag */
	expect_answer_bad(3, 33);	/* nmatch over the limit */
	expect_answer_bad(3, 3);	/* more matches than present */
	expect_answer_bad(12, 0);	/* kind 0 */
	expect_answer_bad(12, 3);
	expect_answer_bad(13, 2);	/* unknown match flag */
	expect_answer_bad(19, 0);	/* empty name */
	expect_answer_bad(21, 0);	/* NUL in the name */
	expect_answer_bad(27, 0);	/* a Sid without HAS_SID */
}

/* The explanation extension: round trip, each field checked, refused in
 * batches (docs/protocol.md, "ANSWER extension"). */
static void
test_answer_why(void **state)
{
	static struct proto_answer	a, b;
	static uint8_t			buf[4096], buf2[4096], body[512];
	struct proto_check		c;
	struct proto_batch_rd		it;
	struct proto_wr			w;
	size_t				n, why_off;

	memset(&a, 0, sizeof(a));
	a.decision = KMSAUTHZ_IMPLICIT_DENY;
	a.reason = KMSAUTHZ_REASON_CROSS_ACCOUNT_NEEDS_IDENTITY_ALLOW;
	a.flags = KMSAUTHZ_ANSWER_WHY;
	a.generation = 7;
	a.why.rule = 5;
	a.why.half[0].result = 1;
	a.why.half[1].result = 2;
	a.why.half[1].n = 1;
	a.why.half[1].stmt[0].kind = KMSAUTHZ_SOURCE_KEY;
	a.why.half[1].stmt[0].name.ptr = "k1";
	a.why.half[1].stmt[0].name.len = 2;
	a.why.nmiss = 1;
	a.why.miss[0].half = 0;
	a.why.miss[0].stmt.kind = KMSAUTHZ_SOURCE_POLICY;
	a.why.miss[0].stmt.index = 3;
	a.why.miss[0].stmt.name.ptr = "P";
	a.why.miss[0].stmt.name.len = 1;
	a.why.miss[0].why.ptr = "kms:tag/Env missing";
	a.why.miss[0].why.len = 19;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_answer_encode(&w, &a);
	assert_int_equal(w.err, 0);
	n = w.off;
	why_off = KMSAUTHZ_ANSWER_FIXED_SIZE;	/* no statements listed */
	assert_int_equal(buf[why_off], KMSAUTHZ_WHY_VERSION);
	assert_int_equal(proto_answer_decode(buf, n, &b), 0);
	assert_int_equal(b.why.rule, 5);
	assert_int_equal(b.why.half[1].n, 1);
	assert_int_equal(b.why.nmiss, 1);
	assert_memory_equal(b.why.miss[0].why.ptr, "kms:tag/Env missing", 19);
	proto_wr_init(&w, buf2, sizeof(buf2));
	proto_answer_encode(&w, &b);
	assert_int_equal(w.off, n);
	assert_memory_equal(buf, buf2, n);

#define WHY_BAD(off, v) do {						\
	memcpy(buf2, buf, n);						\
	buf2[(off)] = (v);						\
	assert_int_equal(proto_answer_decode(buf2, n, &b),		\
	    KMSAUTHZ_EPROTO);						\
	assert_int_equal(b.decision, KMSAUTHZ_IMPLICIT_DENY);		\
} while (0)
	WHY_BAD(why_off, 2);		/* unknown extension version */
	WHY_BAD(why_off + 1, 0);	/* rule 0 */
	WHY_BAD(why_off + 1, 7);	/* rule past the last */
	WHY_BAD(why_off + 2, 5);	/* result past ROOT */
	WHY_BAD(why_off + 3, 2);	/* unknown half flag */
	WHY_BAD(why_off + 4, 33);	/* too many statements */
#undef WHY_BAD
	assert_int_equal(proto_answer_decode(buf, n - 1, &b), KMSAUTHZ_EPROTO);
	/* Without the flag the extension is trailing bytes. */
	memcpy(buf2, buf, n);
	buf2[2] = 0;
	assert_int_equal(proto_answer_decode(buf2, n, &b), KMSAUTHZ_EPROTO);

	/* Never in a BATCH_ANSWER. */
	proto_wr_init(&w, buf2, sizeof(buf2));
	proto_batch_encode_begin(&w, 1);
	proto_answer_encode(&w, &a);
	assert_int_equal(proto_batch_answer_begin(&it, buf2, w.off), 0);
	assert_int_equal(proto_batch_answer_next(&it, &b), KMSAUTHZ_EPROTO);
	assert_int_equal(b.decision, KMSAUTHZ_IMPLICIT_DENY);

	/* CHECK: WHY needs EXPLAIN, WHY_FULL needs WHY; no WHY in a batch. */
	memset(&c, 0, sizeof(c));
	c.principal.ptr = "p";
	c.principal.len = 1;
	c.action.ptr = "a";
	c.action.len = 1;
	c.resource.ptr = "*";
	c.resource.len = 1;
	c.flags = KMSAUTHZ_CHECK_EXPLAIN | KMSAUTHZ_CHECK_WHY |
	    KMSAUTHZ_CHECK_WHY_FULL;
	proto_wr_init(&w, body, sizeof(body));
	proto_check_encode(&w, &c);
	assert_int_equal(w.err, 0);
	assert_int_equal(proto_check_decode(body, w.off, &c), 0);
	n = w.off;
	body[0] = KMSAUTHZ_CHECK_WHY;
	assert_int_equal(proto_check_decode(body, n, &c), KMSAUTHZ_EPROTO);
	body[0] = KMSAUTHZ_CHECK_EXPLAIN | KMSAUTHZ_CHECK_WHY_FULL;
	assert_int_equal(proto_check_decode(body, n, &c), KMSAUTHZ_EPROTO);
	body[0] = KMSAUTHZ_CHECK_EXPLAIN | KMSAUTHZ_CHECK_WHY;
	assert_int_equal(proto_check_decode(body, n, &c), 0);
	proto_wr_init(&w, buf2, sizeof(buf2));
	proto_batch_encode_begin(&w, 1);
	proto_wr_bytes(&w, body, n);
	assert_int_equal(proto_batch_begin(&it, buf2, w.off), 0);
	assert_int_equal(proto_batch_next(&it, &c), KMSAUTHZ_EPROTO);
}

static void
test_answer_consistency(void **state)
{
	struct proto_answer	a, *m_ = &a;
	struct proto_wr		w;
	uint8_t			buf[64];
	int			d, r;

	for (d = 0; d <= 3; d++) {
		for (r = 0; r <= 11; r++) {
			int ok = proto_decision_reason_ok((uint8_t)d,
			    (uint8_t)r);
			int want = (d == KMSAUTHZ_ALLOW && r >= 1 && r <= 4) ||
			    (d == KMSAUTHZ_EXPLICIT_DENY && r == 5) ||
			    (d == KMSAUTHZ_IMPLICIT_DENY && r >= 6 &&
			    r <= 10);
			assert_int_equal(ok, want);
		}
	}
	/* The encoder refuses an inconsistent answer too. */
	memset(&a, 0, sizeof(a));
	a.decision = KMSAUTHZ_ALLOW;
	a.reason = KMSAUTHZ_REASON_KEY_NOT_FOUND;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_answer_encode(&w, m_);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	a.decision = KMSAUTHZ_IMPLICIT_DENY;
	a.reason = KMSAUTHZ_REASON_NONE;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_answer_encode(&w, m_);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
}

static void
test_answer_max(void **state)
{
	struct proto_answer	 a, b, *m_ = &a;
	struct proto_batch_rd	 it;
	struct proto_wr		 w;
	static char		 name[KMSAUTHZ_MAX_SOURCE_NAME];
	static char		 sid[KMSAUTHZ_MAX_SID];
	static uint8_t		 buf[KMSAUTHZ_MAX_REPLY_BODY + 1];
	size_t			 n, i;

	memset(name, 'n', sizeof(name));
	memset(sid, 's', sizeof(sid));
	memset(&a, 0, sizeof(a));
	a.decision = KMSAUTHZ_EXPLICIT_DENY;
	a.reason = KMSAUTHZ_REASON_EXPLICIT_DENY;
	a.flags = KMSAUTHZ_ANSWER_TRUNCATED;
	a.nmatch = KMSAUTHZ_MAX_MATCHED;
	for (i = 0; i < KMSAUTHZ_MAX_MATCHED; i++) {
		a.match[i].kind = KMSAUTHZ_SOURCE_KEY;
		a.match[i].flags = KMSAUTHZ_MATCH_HAS_SID;
		a.match[i].index = (uint32_t)i;
		a.match[i].name.ptr = name;
		a.match[i].name.len = sizeof(name);
		a.match[i].sid.ptr = sid;
		a.match[i].sid.len = sizeof(sid);
	}
	n = ENCODE(buf, proto_answer_encode);
	assert_int_equal(n, KMSAUTHZ_MAX_ANSWER_BODY);

	/* A full batch of the largest answers is the reply limit. */
	proto_wr_init(&w, buf, KMSAUTHZ_MAX_REPLY_BODY);
	proto_batch_encode_begin(&w, KMSAUTHZ_MAX_BATCH);
	for (i = 0; i < KMSAUTHZ_MAX_BATCH; i++)
		proto_answer_encode(&w, &a);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.off, KMSAUTHZ_MAX_REPLY_BODY);
	assert_int_equal(proto_batch_answer_begin(&it, buf, w.off), 0);
	for (i = 0; i < KMSAUTHZ_MAX_BATCH; i++) {
		assert_int_equal(proto_batch_answer_next(&it, &b), 0);
		assert_int_equal(b.nmatch, KMSAUTHZ_MAX_MATCHED);
		assert_int_equal(b.flags, KMSAUTHZ_ANSWER_TRUNCATED);
	}
	assert_int_equal(proto_batch_end(&it), 0);
	assert_int_equal(proto_batch_answer_next(&it, &b), KMSAUTHZ_EPROTO);
	assert_int_equal(b.decision, KMSAUTHZ_IMPLICIT_DENY);

	/* Over the name and Sid limits, the encoder refuses. */
	a.match[5].sid.len = KMSAUTHZ_MAX_SID + 1;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_answer_encode(&w, &a);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	a.match[5].sid.len = 1;
	a.match[5].name.len = KMSAUTHZ_MAX_SOURCE_NAME + 1;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_answer_encode(&w, &a);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	a.match[5].name.len = 1;
	a.nmatch = KMSAUTHZ_MAX_MATCHED + 1;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_answer_encode(&w, &a);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
}

static void
test_hello(void **state)
{
	struct proto_hello		 h, *m_ = &h;
	struct proto_hello_reply	 r, r2;
	struct proto_wr			 w;
	uint8_t				 buf[128];
	size_t				 n;

	h.min_version = 1;
	h.max_version = 3;
	n = ENCODE(buf, proto_hello_encode);
	assert_int_equal(n, 4);
	memset(&h, 0, sizeof(h));
	assert_int_equal(proto_hello_decode(buf, n, &h), 0);
	assert_int_equal(h.min_version, 1);
	assert_int_equal(h.max_version, 3);
	assert_int_equal(proto_hello_decode(buf, 3, &h), KMSAUTHZ_EPROTO);
	assert_int_equal(proto_hello_decode(buf, 5, &h), KMSAUTHZ_EPROTO);
	buf[0] = 4;	/* min > max */
	assert_int_equal(proto_hello_decode(buf, 4, &h), KMSAUTHZ_EPROTO);
	buf[0] = 0;	/* version 0 does not exist */
	assert_int_equal(proto_hello_decode(buf, 4, &h), KMSAUTHZ_EPROTO);
	buf[0] = 1;
	buf[3] = 1;	/* reserved */
	assert_int_equal(proto_hello_decode(buf, 4, &h), KMSAUTHZ_EPROTO);

	r.version = 1;
	r.software = S("kmsauthzd 0.1.0");
	proto_wr_init(&w, buf, sizeof(buf));
	proto_hello_reply_encode(&w, &r);
	assert_int_equal(w.err, 0);
	assert_int_equal(proto_hello_reply_decode(buf, w.off, &r2), 0);
	assert_int_equal(r2.version, 1);
	assert_true(streq(&r2.software, "kmsauthzd 0.1.0"));
	buf[0] = 0;
	assert_int_equal(proto_hello_reply_decode(buf, w.off, &r2),
	    KMSAUTHZ_EPROTO);

	assert_int_equal(proto_empty_decode(buf, 0), 0);
	assert_int_equal(proto_empty_decode(buf, 1), KMSAUTHZ_EPROTO);
}

static void
test_status(void **state)
{
	struct proto_status	 s, t, *m_ = &s;
	uint8_t			 buf[256];
	size_t			 n;

	memset(&s, 0, sizeof(s));
	s.generation = 42;
	s.uptime_sec = 3600;
	s.checks = 1ULL << 40;
	s.errors = 3;
	s.keys = 1;
	s.aliases = 2;
	s.policies = 3;
	s.users = 4;
	s.groups = 5;
	s.roles = 6;
	s.connections = 7;
	s.proto_version = 1;
	s.software = S("0.1.0");
	n = ENCODE(buf, proto_status_encode);
	assert_int_equal(n, 4 * 8 + 7 * 4 + 2 + 2 + 5);
	assert_int_equal(proto_status_decode(buf, n, &t), 0);
	assert_int_equal(t.generation, 42);
	assert_int_equal(t.checks, 1ULL << 40);
	assert_int_equal(t.roles, 6);
	assert_int_equal(t.connections, 7);
	assert_true(streq(&t.software, "0.1.0"));
	assert_int_equal(proto_status_decode(buf, n - 1, &t), KMSAUTHZ_EPROTO);
	buf[61] = 1;	/* reserved byte after proto_version */
	assert_int_equal(proto_status_decode(buf, n, &t), KMSAUTHZ_EPROTO);
}

static void
test_error(void **state)
{
	struct proto_error	 e, f, *m_ = &e;
	struct proto_wr		 w;
	static char		 big[KMSAUTHZ_MAX_ERROR_MESSAGE + 1];
	uint8_t			 buf[512];
	size_t			 n;

	e.code = KMSAUTHZ_WERR_UNSUPPORTED;
	e.message = S("ADMIN_REQUEST is not taken on the query socket");
	n = ENCODE(buf, proto_error_encode);
	assert_int_equal(proto_error_decode(buf, n, &f), 0);
	assert_int_equal(f.code, KMSAUTHZ_WERR_UNSUPPORTED);
	buf[1] = 0;		/* code 0 */
	assert_int_equal(proto_error_decode(buf, n, &f), KMSAUTHZ_EPROTO);
	buf[1] = KMSAUTHZ_WERR_MAX + 1;
	assert_int_equal(proto_error_decode(buf, n, &f), KMSAUTHZ_EPROTO);

	memset(big, 'e', sizeof(big));
	e.message.ptr = big;
	e.message.len = sizeof(big);
	proto_wr_init(&w, buf, sizeof(buf));
	proto_error_encode(&w, &e);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	e.code = 0;
	e.message.len = 1;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_error_encode(&w, &e);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
}

static void
test_admin(void **state)
{
	struct proto_admin	 a, b, *m_ = &a;
	struct proto_wr		 w;
	uint8_t			 buf[256];
	size_t			 n;

	memset(&a, 0, sizeof(a));
	a.json = S("{\"Action\":\"Ping\"}");
	n = ENCODE(buf, proto_admin_encode);
	assert_int_equal(n, 8 + a.json.len);
	assert_int_equal(proto_admin_decode(buf, n, n, &b), 0);
	assert_true(streq(&b.json, "{\"Action\":\"Ping\"}"));
	assert_int_equal(b.signature.len, 0);
	assert_int_equal(proto_admin_decode(buf, n, n - 1, &b),
	    KMSAUTHZ_ETOOBIG);
	assert_int_equal(proto_admin_decode(buf, n - 1, n, &b),
	    KMSAUTHZ_EPROTO);

	a.flags = KMSAUTHZ_ADMIN_SIGNED;
	a.signature = S("SIG");
	n = ENCODE(buf, proto_admin_encode);
	assert_int_equal(proto_admin_decode(buf, n, sizeof(buf), &b), 0);
	assert_true(streq(&b.signature, "SIG"));
	assert_int_equal(proto_admin_decode(buf, n + 1, sizeof(buf), &b),
	    KMSAUTHZ_EPROTO);
	buf[0] = 2;		/* unknown flag */
	assert_int_equal(proto_admin_decode(buf, n, sizeof(buf), &b),
	    KMSAUTHZ_EPROTO);
	buf[0] = 0;		/* unsigned: the block is trailing garbage */
	assert_int_equal(proto_admin_decode(buf, n, sizeof(buf), &b),
	    KMSAUTHZ_EPROTO);
	buf[0] = 1;
	buf[7] = 0xff;		/* JSON length past the end */
	assert_int_equal(proto_admin_decode(buf, n, sizeof(buf), &b),
	    KMSAUTHZ_EPROTO);

	/* Empty JSON, a NUL, a signature without the flag. */
	memset(&a, 0, sizeof(a));
	proto_wr_init(&w, buf, sizeof(buf));
	proto_admin_encode(&w, &a);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	a.json.ptr = "{\0}";
	a.json.len = 3;
	proto_wr_init(&w, buf, sizeof(buf));
	proto_admin_encode(&w, &a);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
	a.json = S("{}");
	a.signature = S("x");
	proto_wr_init(&w, buf, sizeof(buf));
	proto_admin_encode(&w, &a);
	assert_int_equal(w.err, KMSAUTHZ_EINVAL);
}

static void
test_cursor_sticky(void **state)
{
	struct proto_rd		rd;
	struct proto_str	s;
	const uint8_t		b[] = { 0x12, 0x34, 0x00, 0x05, 'a' };

	proto_rd_init(&rd, b, sizeof(b));
	assert_int_equal(proto_rd_u16(&rd), 0x1234);
	proto_rd_str(&rd, 10, &s);	/* says 5, has 1 */
	assert_int_equal(rd.err, KMSAUTHZ_EPROTO);
	assert_null(s.ptr);
	assert_int_equal(proto_rd_u8(&rd), 0);	/* sticky: reads zero */
	assert_int_equal(proto_rd_u64(&rd), 0);
	assert_int_equal(proto_rd_end(&rd), KMSAUTHZ_EPROTO);

	/* Unaligned reads are fine (memcpy). */
	proto_rd_init(&rd, b + 1, 4);
	assert_int_equal(proto_rd_u32(&rd), 0x34000561);
	assert_int_equal(proto_rd_end(&rd), 0);
}

/* The hex examples of docs/protocol.md decode as the text says. */
static void
test_doc_examples(void **state)
{
	static const uint8_t	 check[] = {
		0x4b, 0x5a, 0x01, 0x00, 0x00, 0x64, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x81,
		0x03, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x69, 0x55, 0xb9, 0x00,
		0xc0, 0xa8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x17, 'a', 'c', 's', ':', 'r', 'a', 'm', ':', ':',
		'1', '2', '3', ':', 'u', 's', 'e', 'r', '/', 'a', 'l', 'i',
		'c', 'e',
		0x00, 0x0b, 'k', 'm', 's', ':', 'E', 'n', 'c', 'r', 'y', 'p',
		't',
		0x00, 0x1e, 'a', 'c', 's', ':', 'k', 'm', 's', ':', 'c', 'n',
		'-', 'h', 'a', 'n', 'g', 'z', 'h', 'o', 'u', ':', '1', '2',
		'3', ':', 'k', 'e', 'y', '/', 'k', '1',
		0x00, 0x13, 'a', 'c', 's', ':', 'S', 'e', 'c', 'u', 'r', 'e',
		'T', 'r', 'a', 'n', 's', 'p', 'o', 'r', 't',
		0x00, 0x04, 't', 'r', 'u', 'e' };
	static const uint8_t	 answer[] = {
		0x4b, 0x5a, 0x01, 0x00, 0x01, 0x2f, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x20,
		0x01, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x2a,
		0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x02, 'k', '1',
		0x00, 0x08, 'A', 'l', 'l', 'o', 'w', 'A', 'l', 'l' };
	static const uint8_t	 error[] = {
		0x4b, 0x5a, 0x01, 0x00, 0x01, 0x31, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x18,
		0x00, 0x04, 0x00, 0x00, 0x00, 0x12,
		'n', 'o', 't', ' ', 'o', 'n', ' ', 't', 'h', 'i', 's', ' ',
		's', 'o', 'c', 'k', 'e', 't' };
	struct proto_hdr	 h;
	struct proto_check	 c;
	struct proto_answer	 a;
	struct proto_error	 e;

	assert_int_equal(proto_hdr_decode(check, sizeof(check), &h), 0);
	assert_int_equal(h.type, KMSAUTHZ_MSG_CHECK);
	assert_int_equal(h.id, 8);
	assert_int_equal(h.len, sizeof(check) - 16);
	assert_int_equal(proto_check_decode(check + 16, h.len, &c), 0);
	assert_int_equal(c.flags, KMSAUTHZ_CHECK_EXPLAIN | KMSAUTHZ_CHECK_TIME);
	assert_int_equal(c.time_sec, 1767225600);	/* 2026-01-01 */
	assert_int_equal(c.ip_len, 4);
	assert_int_equal(c.ip[0], 192);
	assert_true(streq(&c.principal, "acs:ram::123:user/alice"));
	assert_true(streq(&c.resource, "acs:kms:cn-hangzhou:123:key/k1"));
	assert_int_equal(c.nctx, 1);
	assert_true(streq(&c.ctx[0].value, "true"));

	assert_int_equal(proto_hdr_decode(answer, sizeof(answer), &h), 0);
	assert_int_equal(h.type, KMSAUTHZ_MSG_ANSWER);
	assert_int_equal(h.len, sizeof(answer) - 16);
	assert_int_equal(proto_answer_decode(answer + 16, h.len, &a), 0);
	assert_int_equal(a.decision, KMSAUTHZ_ALLOW);
	assert_int_equal(a.reason, KMSAUTHZ_REASON_ALLOWED_BY_KEY_POLICY);
	assert_int_equal(a.generation, 42);
	assert_int_equal(a.nmatch, 1);
	assert_true(streq(&a.match[0].name, "k1"));
	assert_true(streq(&a.match[0].sid, "AllowAll"));

	assert_int_equal(proto_hdr_decode(error, sizeof(error), &h), 0);
	assert_int_equal(h.len, sizeof(error) - 16);
	assert_int_equal(proto_error_decode(error + 16, h.len, &e), 0);
	assert_int_equal(e.code, KMSAUTHZ_WERR_UNSUPPORTED);
	assert_true(streq(&e.message, "not on this socket"));
}

/*
 * hexdump -C style ("00000000  4b 5a ...  |KZ..|"), the format of the
 * examples in docs/protocol.md.
 */
static void
hexdump(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t	off, i, o = 0;

	for (off = 0; off < len; off += 16) {
		o += (size_t)snprintf(out + o, cap - o, "%08zx ", off);
		for (i = 0; i < 16; i++) {
			if (off + i < len)
				o += (size_t)snprintf(out + o, cap - o, " %02x",
				    p[off + i]);
			else
				o += (size_t)snprintf(out + o, cap - o, "   ");
		}
		o += (size_t)snprintf(out + o, cap - o, "  |");
		for (i = 0; i < 16 && off + i < len; i++)
			o += (size_t)snprintf(out + o, cap - o, "%c",
			    p[off + i] >= 0x20 && p[off + i] < 0x7f ?
			    p[off + i] : '.');
		o += (size_t)snprintf(out + o, cap - o, "|\n");
	}
}

/* docs/protocol.md, whole (NULL when top_srcdir is not set). */
static char *
protocol_md(void)
{
	const char	*top = getenv("top_srcdir");
	char		 path[4096], *buf;
	FILE		*f;
	size_t		 n;

	if (top == NULL)
		top = ".";
	snprintf(path, sizeof(path), "%s/docs/protocol.md", top);
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	buf = malloc(1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

/* 0 when the page shows frame (printed otherwise, to paste). */
static int
doc_has(const char *doc, const char *what, const uint8_t *frame, size_t len)
{
	static char	dump[16384];

	hexdump(frame, len, dump, sizeof(dump));
	if (strstr(doc, dump) != NULL)
		return (0);
	print_error("docs/protocol.md lacks the %s example:\n%s", what,
	    dump);
	return (1);
}

static void
check_req(struct proto_check *c, const char *principal)
{
	memset(c, 0, sizeof(*c));
	c->principal.ptr = principal;
	c->principal.len = strlen(principal);
	c->action.ptr = "kms:Decrypt";
	c->action.len = strlen(c->action.ptr);
	c->resource.ptr = "acs:kms:cn-hangzhou:123:key/k1";
	c->resource.len = strlen(c->resource.ptr);
}

/*
 * The examples of docs/protocol.md that are encoded here: a bare header
 * (PING), HELLO, STATUS_REPLY and CHECK_BATCH must appear in the page
 * byte for byte as the codec writes them.
 */
static void
test_doc_encoded(void **state)
{
	static const char	 sw[] = "kmsauthzd 0.1.0";
	uint8_t			 buf[4096];
	struct proto_wr		 wr;
	struct proto_hello	 hello;
	struct proto_status	 st;
	struct proto_check	 c;
	struct proto_error	 e;
	size_t			 start;
	char			*doc;
	int			 missing = 0;

	assert_non_null(doc = protocol_md());

	proto_wr_init(&wr, buf, sizeof(buf));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_PING, 1);
	proto_frame_end(&wr, start);
	assert_int_equal(wr.err, 0);
	assert_int_equal(wr.off, KMSAUTHZ_HDR_SIZE);
	missing += doc_has(doc, "bare header (PING id 1)", buf, wr.off);

	proto_wr_init(&wr, buf, sizeof(buf));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_HELLO, 1);
	hello.min_version = 1;
	hello.max_version = 1;
	proto_hello_encode(&wr, &hello);
	proto_frame_end(&wr, start);
	assert_int_equal(wr.err, 0);
	missing += doc_has(doc, "HELLO", buf, wr.off);

	memset(&st, 0, sizeof(st));
	st.generation = 42;
	st.uptime_sec = 3600;
	st.checks = 1000;
	st.errors = 2;
	st.keys = 3;
	st.aliases = 1;
	st.policies = 2;
	st.users = 4;
	st.groups = 1;
	st.roles = 1;
	st.connections = 5;
	st.proto_version = 1;
	st.software.ptr = sw;
	st.software.len = strlen(sw);
	proto_wr_init(&wr, buf, sizeof(buf));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_STATUS_REPLY, 2);
	proto_status_encode(&wr, &st);
	proto_frame_end(&wr, start);
	assert_int_equal(wr.err, 0);
	missing += doc_has(doc, "STATUS_REPLY", buf, wr.off);

	proto_wr_init(&wr, buf, sizeof(buf));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_CHECK_BATCH, 3);
	proto_batch_encode_begin(&wr, 2);
	check_req(&c, "acs:ram::123:user/alice");
	proto_check_encode(&wr, &c);
	check_req(&c, "acs:ram::123:user/bob");
	proto_check_encode(&wr, &c);
	proto_frame_end(&wr, start);
	assert_int_equal(wr.err, 0);
	missing += doc_has(doc, "CHECK_BATCH", buf, wr.off);

	proto_wr_init(&wr, buf, sizeof(buf));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_CHECK, 12);
	check_req(&c, "acs:ram::123:user/alice");
	c.flags = KMSAUTHZ_CHECK_MIN_GEN;
	c.min_generation = 43;
	proto_check_encode(&wr, &c);
	proto_frame_end(&wr, start);
	assert_int_equal(wr.err, 0);
	missing += doc_has(doc, "CHECK with a minimum generation", buf,
	    wr.off);

	memset(&e, 0, sizeof(e));
	e.code = KMSAUTHZ_WERR_STALE;
	e.message.ptr = "generation 43 not reached";
	e.message.len = strlen(e.message.ptr);
	proto_wr_init(&wr, buf, sizeof(buf));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_ERROR, 12);
	proto_error_encode(&wr, &e);
	proto_frame_end(&wr, start);
	assert_int_equal(wr.err, 0);
	missing += doc_has(doc, "ERROR STALE", buf, wr.off);
	free(doc);
	assert_int_equal(missing, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_frame_begin_end),
		cmocka_unit_test(test_frame_limit_counting),
		cmocka_unit_test(test_check_layout),
		cmocka_unit_test(test_check_roundtrip),
		cmocka_unit_test(test_check_bad_fields),
		cmocka_unit_test(test_check_limits),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_check_mingen),
		cmocka_unit_test(test_error_stale),
		cmocka_unit_test(test_answer_layout),
		cmocka_unit_test(test_answer_bad),
		cmocka_unit_test(test_answer_why),
		cmocka_unit_test(test_answer_consistency),
		cmocka_unit_test(test_answer_max),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_cursor_sticky),
		cmocka_unit_test(test_doc_examples),
		cmocka_unit_test(test_doc_encoded),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

/* SPDX-License-Identifier: ISC */
/*
 * fuzz-proto.c: the protocol v1 codec on arbitrary bytes.
 *
 * Byte 0 picks the mode.  Even: the rest is a stream of frames, each
 * header decoded and its body handed to the decoder of its type.  Odd:
 * byte 1 picks a decoder and the rest is its body.  Invariants:
 *   - every decoder stays inside its input (ASan) and never accepts a
 *     length over its limit;
 *   - whatever decodes re-encodes to exactly the same bytes (v1 has one
 *     encoding per message: reserved bytes, padding and an unpinned time
 *     are zero), so decode(encode(x)) == x;
 *   - an answer that fails to decode reads as IMPLICIT_DENY, one that
 *     decodes has a decision and reason that agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "fuzz.h"

#define FUZZ_PROTO_MAX	(KMSAUTHZ_HDR_SIZE + KMSAUTHZ_MAX_REPLY_BODY)

static uint8_t	fuzz_buf[FUZZ_PROTO_MAX];

static void	fuzz_same(const struct proto_wr *, const uint8_t *, size_t);
static void	fuzz_body(uint16_t, const uint8_t *, size_t);
static void	fuzz_check_ok(const struct proto_check *);
static void	fuzz_answer_ok(const struct proto_answer *);

static void
fuzz_same(const struct proto_wr *w, const uint8_t *p, size_t len)
{
	if (w->err != 0 || w->off != len || memcmp(fuzz_buf, p, len) != 0)
		abort();
}

static void
fuzz_check_ok(const struct proto_check *c)
{
	uint16_t	i;

	if (c->principal.len > KMSAUTHZ_MAX_PRINCIPAL ||
	    c->action.len > KMSAUTHZ_MAX_ACTION ||
	    c->resource.len > KMSAUTHZ_MAX_RESOURCE ||
	    c->nctx > KMSAUTHZ_MAX_CONTEXT ||
	    (c->ip_len != 0 && c->ip_len != 4 && c->ip_len != 16) ||
	    c->time_nsec >= 1000000000U)
		abort();
	for (i = 0; i < c->nctx; i++) {
		if (c->ctx[i].key.len > KMSAUTHZ_MAX_CONTEXT_KEY ||
		    c->ctx[i].value.len > KMSAUTHZ_MAX_CONTEXT_VALUE ||
		    memchr(c->ctx[i].key.ptr, '\0', c->ctx[i].key.len) != NULL)
			abort();
	}
}

static void
fuzz_answer_ok(const struct proto_answer *a)
{
	if (!proto_decision_reason_ok(a->decision, a->reason) ||
	    a->nmatch > KMSAUTHZ_MAX_MATCHED)
		abort();
}

static void
fuzz_body(uint16_t type, const uint8_t *p, size_t len)
{
	static struct proto_check	c;
	static struct proto_answer	a;
	struct proto_hello		hello;
	struct proto_hello_reply	hr;
	struct proto_status		st;
	struct proto_error		e;
	struct proto_admin		ad;
	struct proto_batch_rd		it;
	struct proto_wr			w;
	int				err;

	proto_wr_init(&w, fuzz_buf, sizeof(fuzz_buf));
	switch (type) {
	case KMSAUTHZ_MSG_HELLO:
		if (proto_hello_decode(p, len, &hello) == 0) {
			proto_hello_encode(&w, &hello);
			fuzz_same(&w, p, len);
		}
		break;
	case KMSAUTHZ_MSG_PING:
	case KMSAUTHZ_MSG_STATUS:
	case KMSAUTHZ_MSG_PONG:
		if (proto_empty_decode(p, len) == 0 && len != 0)
			abort();
		break;
	case KMSAUTHZ_MSG_HELLO_REPLY:
		if (proto_hello_reply_decode(p, len, &hr) == 0) {
			proto_hello_reply_encode(&w, &hr);
			fuzz_same(&w, p, len);
		}
		break;
	case KMSAUTHZ_MSG_STATUS_REPLY:
		if (proto_status_decode(p, len, &st) == 0) {
			proto_status_encode(&w, &st);
			fuzz_same(&w, p, len);
		}
		break;
	case KMSAUTHZ_MSG_CHECK:
		if (proto_check_decode(p, len, &c) == 0) {
			fuzz_check_ok(&c);
			proto_check_encode(&w, &c);
			fuzz_same(&w, p, len);
		}
		break;
	case KMSAUTHZ_MSG_CHECK_BATCH:
		if (proto_batch_begin(&it, p, len) != 0)
			break;
		proto_batch_encode_begin(&w, it.count);
		while (it.done < it.count) {
			if (proto_batch_next(&it, &c) != 0)
				break;
			fuzz_check_ok(&c);
			proto_check_encode(&w, &c);
		}
		if (proto_batch_end(&it) == 0)
			fuzz_same(&w, p, len);
		break;
	case KMSAUTHZ_MSG_ANSWER:
		err = proto_answer_decode(p, len, &a);
		if (err != 0) {
			if (a.decision != KMSAUTHZ_IMPLICIT_DENY)
				abort();
			break;
		}
		fuzz_answer_ok(&a);
		proto_answer_encode(&w, &a);
		fuzz_same(&w, p, len);
		break;
	case KMSAUTHZ_MSG_BATCH_ANSWER:
		if (proto_batch_answer_begin(&it, p, len) != 0)
			break;
		proto_batch_encode_begin(&w, it.count);
		while (it.done < it.count) {
			if (proto_batch_answer_next(&it, &a) != 0) {
				if (a.decision != KMSAUTHZ_IMPLICIT_DENY)
					abort();
				break;
			}
			fuzz_answer_ok(&a);
			proto_answer_encode(&w, &a);
		}
		if (proto_batch_end(&it) == 0)
			fuzz_same(&w, p, len);
		break;
	case KMSAUTHZ_MSG_ERROR:
		if (proto_error_decode(p, len, &e) == 0) {
			proto_error_encode(&w, &e);
			fuzz_same(&w, p, len);
		}
		break;
	case KMSAUTHZ_MSG_ADMIN_REQUEST:
	case KMSAUTHZ_MSG_ADMIN_RESPONSE:
		if (proto_admin_decode(p, len, proto_body_max(type), &ad) == 0) {
			proto_admin_encode(&w, &ad);
			fuzz_same(&w, p, len);
		}
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t	types[] = {
		KMSAUTHZ_MSG_HELLO, KMSAUTHZ_MSG_PING, KMSAUTHZ_MSG_STATUS,
		KMSAUTHZ_MSG_CHECK, KMSAUTHZ_MSG_CHECK_BATCH,
		KMSAUTHZ_MSG_ADMIN_REQUEST, KMSAUTHZ_MSG_HELLO_REPLY,
		KMSAUTHZ_MSG_PONG, KMSAUTHZ_MSG_STATUS_REPLY,
		KMSAUTHZ_MSG_ANSWER, KMSAUTHZ_MSG_BATCH_ANSWER,
		KMSAUTHZ_MSG_ERROR, KMSAUTHZ_MSG_ADMIN_RESPONSE };
	struct proto_hdr	h;
	uint8_t			hb[KMSAUTHZ_HDR_SIZE];
	size_t			off;

	if (size < 2 || size > FUZZ_PROTO_MAX)
		return (0);
	if (data[0] & 1) {
		fuzz_body(types[data[1] % (sizeof(types) / sizeof(types[0]))],
		    data + 2, size - 2);
		return (0);
	}
	for (off = 1; size - off >= KMSAUTHZ_HDR_SIZE;) {
		if (proto_hdr_decode(data + off, size - off, &h) != 0)
			break;
		if (h.len > proto_body_max(h.type))
			abort();
		/* The header re-encodes to itself. */
		proto_hdr_encode(hb, &h);
		if (memcmp(hb, data + off, sizeof(hb)) != 0)
			abort();
		off += KMSAUTHZ_HDR_SIZE;
		if (size - off < h.len)
			break;
		fuzz_body(h.type, data + off, h.len);
		off += h.len;
	}
	return (0);
}

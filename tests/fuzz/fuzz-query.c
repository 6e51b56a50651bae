/*
 * fuzz-query.c: the daemon's query socket on arbitrary bytes: a stream
 * of frames handled as server-conn.c handles them (header checked
 * before the body: magic, version, a type the query socket accepts, the
 * body limit; the body decoded whole; a batch validated whole before any
 * of it is decided), every CHECK decided on the example world the way
 * conn_check does.  The first protocol error ends the stream (the daemon
 * closes).  Invariants:
 *   - a header that decodes has a length within the query limit and a
 *     type the query socket accepts, or it is refused;
 *   - a decoded CHECK keeps the protocol's limits;
 *   - every decision keeps fuzz_decide's invariants (fail closed: an
 *     unusable address is an IMPLICIT_DENY invalid-request);
 *   - its answer encodes and decodes back to the same decision.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eval.h"
#include "engine/value.h"
#include "engine/world.h"
#include "proto/proto.h"
#include "fuzz.h"
#include "fuzz-world.h"

#define FUZZ_QUERY_MAX	(2 * (KMSAUTHZ_HDR_SIZE + KMSAUTHZ_MAX_QUERY_BODY))
/* 2026-01-01T00:00:00Z: the time of a check that pins none. */
#define FUZZ_QUERY_NOW	1767225600

static uint8_t	fuzz_out[KMSAUTHZ_MAX_REPLY_BODY];

static void	fuzz_check(const struct world *, const struct proto_check *);

static void
fuzz_check(const struct world *w, const struct proto_check *c)
{
	static struct eval_answer	a;
	static struct proto_answer	pa, back;
	struct eval_request		req;
	struct eval_ctx			ctx[KMSAUTHZ_MAX_CONTEXT];
	struct proto_wr			wr;
	uint16_t			i;
	int				bad = 0;

	if (c->principal.len > KMSAUTHZ_MAX_PRINCIPAL ||
	    c->action.len > KMSAUTHZ_MAX_ACTION ||
	    c->resource.len > KMSAUTHZ_MAX_RESOURCE ||
	    c->nctx > KMSAUTHZ_MAX_CONTEXT)
		abort();
	memset(&req, 0, sizeof(req));
	req.principal = c->principal.ptr;
	req.principal_len = c->principal.len;
	req.action = c->action.ptr;
	req.action_len = c->action.len;
	req.resource = c->resource.ptr;
	req.resource_len = c->resource.len;
	if (c->ip_len != 0) {
		if (value_ip_from_bytes(c->ip, c->ip_len, &req.source_ip) != 0)
			bad = 1;
		req.has_source_ip = 1;
	}
	for (i = 0; i < c->nctx; i++) {
		ctx[i].key = c->ctx[i].key.ptr;
		ctx[i].keylen = c->ctx[i].key.len;
		ctx[i].value = c->ctx[i].value.ptr;
		ctx[i].valuelen = c->ctx[i].value.len;
	}
	req.ctx = ctx;
	req.nctx = c->nctx;
	if (c->flags & KMSAUTHZ_CHECK_TIME) {
		req.now.sec = c->time_sec;
		req.now.nsec = (int32_t)c->time_nsec;
	} else
		req.now.sec = FUZZ_QUERY_NOW;
	if (bad) {
		/* The daemon answers this without deciding: deny. */
		memset(&a, 0, sizeof(a));
		a.decision = EVAL_IMPLICIT_DENY;
		a.reason = EVAL_R_INVALID_REQUEST;
	} else
		fuzz_decide(w, &req, &a);

	/* On the wire (reasons are numbered from 1 there). */
	memset(&pa, 0, sizeof(pa));
	pa.decision = a.decision == EVAL_ALLOW ? KMSAUTHZ_ALLOW :
	    a.decision == EVAL_EXPLICIT_DENY ? KMSAUTHZ_EXPLICIT_DENY :
	    KMSAUTHZ_IMPLICIT_DENY;
	pa.reason = (uint8_t)(a.reason + 1);
	if (!proto_decision_reason_ok(pa.decision, pa.reason))
		abort();
	pa.generation = a.generation;
	for (i = 0; i < a.nmatched && i < KMSAUTHZ_MAX_MATCHED; i++) {
		pa.match[i].kind = a.matched[i].source == EVAL_SRC_KEY ?
		    KMSAUTHZ_SOURCE_KEY : KMSAUTHZ_SOURCE_POLICY;
		pa.match[i].index = a.matched[i].index;
		pa.match[i].name.ptr = a.matched[i].name;
		pa.match[i].name.len = a.matched[i].namelen;
		if (a.matched[i].sid != NULL) {
			pa.match[i].flags = KMSAUTHZ_MATCH_HAS_SID;
			pa.match[i].sid.ptr = a.matched[i].sid;
			pa.match[i].sid.len = a.matched[i].sidlen;
		}
	}
	pa.nmatch = (uint8_t)i;
	proto_wr_init(&wr, fuzz_out, sizeof(fuzz_out));
	proto_answer_encode(&wr, &pa);
	if (wr.err != 0 || proto_answer_decode(fuzz_out, wr.off, &back) != 0 ||
	    back.decision != pa.decision || back.reason != pa.reason ||
	    back.nmatch != pa.nmatch)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proto_check	c;
	const struct world		*w = fuzz_world();
	struct proto_hdr		h;
	struct proto_hello		hello;
	struct proto_batch_rd		br;
	const uint8_t			*body;
	size_t				off;
	uint16_t			i;

	if (size > FUZZ_QUERY_MAX)
		return (0);
	for (off = 0; size - off >= KMSAUTHZ_HDR_SIZE;) {
		if (proto_hdr_decode(data + off, size - off, &h) != 0)
			return (0);
		if (!proto_type_is_query(h.type))
			return (0);
		if (h.len > KMSAUTHZ_MAX_QUERY_BODY)
			abort();
		off += KMSAUTHZ_HDR_SIZE;
		if (size - off < h.len)
			return (0);
		body = data + off;
		off += h.len;
		switch (h.type) {
		case KMSAUTHZ_MSG_HELLO:
			if (proto_hello_decode(body, h.len, &hello) != 0)
				return (0);
			break;
		case KMSAUTHZ_MSG_PING:
		case KMSAUTHZ_MSG_STATUS:
			if (proto_empty_decode(body, h.len) != 0)
				return (0);
			if (h.len != 0)
				abort();
			break;
		case KMSAUTHZ_MSG_CHECK:
			if (proto_check_decode(body, h.len, &c) != 0)
				return (0);
			fuzz_check(w, &c);
			break;
		case KMSAUTHZ_MSG_CHECK_BATCH:
			if (proto_batch_begin(&br, body, h.len) != 0)
				return (0);
			for (i = 0; i < br.count; i++)
				if (proto_batch_next(&br, &c) != 0)
					return (0);
			if (proto_batch_end(&br) != 0)
				return (0);
			if (br.count == 0 || br.count > KMSAUTHZ_MAX_BATCH)
				abort();
			(void)proto_batch_begin(&br, body, h.len);
			for (i = 0; i < br.count; i++) {
				if (proto_batch_next(&br, &c) != 0)
					abort();
				fuzz_check(w, &c);
			}
			break;
		default:
			/* proto_type_is_query let through a type the
			 * daemon cannot answer. */
			abort();
		}
	}
	return (0);
}

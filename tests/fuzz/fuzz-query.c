/* SPDX-License-Identifier: ISC */
/*
 * fuzz-query.c: the daemon's query socket on arbitrary bytes: the stream
 * goes through the daemon's own framer (src/proto/framer.c, which
 * server-conn.c runs: header checked before the body, partial frames
 * kept at the front of the buffer, the buffer grown to the frame and
 * no further), fed all at once and again in small chunks; each whole
 * frame is handled as conn_frame does (the body decoded whole, a batch
 * validated whole before any of it is decided), every CHECK decided on
 * the example world the way conn_check does.  The first protocol error
 * ends the stream (the daemon closes).  Invariants:
 *   - the framer never buffers more than one maximal frame, always has
 *     room for all of a partial frame, and hands on only headers it
 *     has checked;
 *   - the frames, the closing and the decisions are the same however
 *     the bytes are chunked;
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
#include "proto/framer.h"
#include "proto/proto.h"
#include "fuzz.h"
#include "fuzz-world.h"

#define FUZZ_QUERY_MAX	(2 * (KMSAUTHZ_HDR_SIZE + KMSAUTHZ_MAX_QUERY_BODY))
/* 2026-01-01T00:00:00Z: the time of a check that pins none. */
#define FUZZ_QUERY_NOW	1767225600

static uint8_t	fuzz_out[KMSAUTHZ_MAX_REPLY_BODY];

static unsigned	fuzz_check(const struct world *, const struct proto_check *);
static int	fuzz_frame(void *, const struct proto_hdr *, const uint8_t *);
static void	fuzz_refused(void *, uint32_t, uint16_t, const char *,
		    const uint8_t *, size_t);
struct fuzz_run;
static void	fuzz_feed(const uint8_t *, size_t, size_t, struct fuzz_run *);

/* Decides c; returns the decision and reason, for the run's digest. */
static unsigned
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
	return ((unsigned)pa.decision << 8 | pa.reason);
}

/* What one run over the stream saw: must not depend on the chunking. */
struct fuzz_run {
	const struct world	*w;
	size_t			 frames;
	int			 closed;	/* a frame refused: closed */
	uint64_t		 digest;	/* of the decisions, in order */
};

/*
 * One whole frame from the daemon's framer, handled as conn_frame does
 * (the first bad body closes).  The framer checked the header: a type
 * the query socket takes, a body within the query limit.
 */
static int
fuzz_frame(void *arg, const struct proto_hdr *h, const uint8_t *body)
{
	static struct proto_check	 c;
	struct fuzz_run			*run = arg;
	struct proto_hello		 hello;
	struct proto_batch_rd		 br;
	uint16_t			 i;

	if (!proto_type_is_query(h->type) || h->len > KMSAUTHZ_MAX_QUERY_BODY)
		abort();
	run->frames++;
	run->digest = run->digest * 31 + h->type;
	switch (h->type) {
	case KMSAUTHZ_MSG_HELLO:
		if (proto_hello_decode(body, h->len, &hello) != 0)
			goto bad;
		break;
	case KMSAUTHZ_MSG_PING:
	case KMSAUTHZ_MSG_STATUS:
		if (proto_empty_decode(body, h->len) != 0)
			goto bad;
		if (h->len != 0)
			abort();
		break;
	case KMSAUTHZ_MSG_CHECK:
		if (proto_check_decode(body, h->len, &c) != 0)
			goto bad;
		run->digest = run->digest * 31 + fuzz_check(run->w, &c);
		break;
	case KMSAUTHZ_MSG_CHECK_BATCH:
		if (proto_batch_begin(&br, body, h->len) != 0)
			goto bad;
		for (i = 0; i < br.count; i++)
			if (proto_batch_next(&br, &c) != 0)
				goto bad;
		if (proto_batch_end(&br) != 0)
			goto bad;
		if (br.count == 0 || br.count > KMSAUTHZ_MAX_BATCH)
			abort();
		(void)proto_batch_begin(&br, body, h->len);
		for (i = 0; i < br.count; i++) {
			if (proto_batch_next(&br, &c) != 0)
				abort();
			run->digest = run->digest * 31 + fuzz_check(run->w, &c);
		}
		break;
	default:
		/* proto_type_is_query let through a type the daemon
		 * cannot answer. */
		abort();
	}
	return (0);
bad:
	run->closed = 1;
	return (1);
}

static void
fuzz_refused(void *arg, uint32_t id, uint16_t code, const char *msg,
    const uint8_t *raw, size_t rawlen)
{
	struct fuzz_run	*run = arg;

	if (msg == NULL || rawlen != KMSAUTHZ_HDR_SIZE || raw == NULL ||
	    code == 0)
		abort();
	run->closed = 1;
}

/*
 * The stream fed to the daemon's framer chunk bytes at a time (0: all
 * at once), as recv(2) would hand it over.  The framer's invariants
 * hold after every run: at most one maximal frame buffered, and room
 * for all of a partial frame.
 */
static void
fuzz_feed(const uint8_t *data, size_t size, size_t chunk,
    struct fuzz_run *run)
{
	struct proto_framer	 fr;
	struct proto_hdr	 h;
	uint8_t			*space;
	size_t			 off = 0, n, room, consumed;
	int			 r;

	if (proto_framer_init(&fr, 0) != 0)
		abort();
	while (off < size && !run->closed) {
		space = proto_framer_space(&fr, &room);
		if (room == 0)
			abort();
		n = size - off;
		if (chunk != 0 && n > chunk)
			n = chunk;
		if (n > room)
			n = room;
		memcpy(space, data + off, n);
		off += n;
		proto_framer_added(&fr, n);
		r = proto_framer_run(&fr, fuzz_frame, fuzz_refused, run,
		    &consumed);
		if (r == -1)
			abort();
		if (r == 1 && !run->closed)
			abort();
		if (fr.len > proto_framer_max(&fr) || fr.len > fr.cap)
			abort();
		if (!run->closed && fr.len >= KMSAUTHZ_HDR_SIZE &&
		    (proto_hdr_decode(fr.in, fr.len, &h) != 0 ||
		    fr.cap < KMSAUTHZ_HDR_SIZE + (size_t)h.len ||
		    fr.len >= KMSAUTHZ_HDR_SIZE + (size_t)h.len))
			abort();
	}
	proto_framer_free(&fr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run	whole, chunked;

	if (size > FUZZ_QUERY_MAX)
		return (0);
	memset(&whole, 0, sizeof(whole));
	memset(&chunked, 0, sizeof(chunked));
	whole.w = chunked.w = fuzz_world();
	fuzz_feed(data, size, 0, &whole);
	/* However the bytes arrive, the same frames and decisions. */
	fuzz_feed(data, size, 1 + size % 61, &chunked);
	if (whole.frames != chunked.frames || whole.closed != chunked.closed ||
	    whole.digest != chunked.digest)
		abort();
	return (0);
}

/* SPDX-License-Identifier: ISC */
/*
 * test-framer.c: the daemon's frame loop (src/proto/framer.c): whole
 * frames handed on, a partial one kept at the front with room for all
 * of it, refused headers, a stop after a frame, a big admin frame's
 * room given back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/framer.h"
#include "proto/proto.h"

struct seen {
	unsigned	frames;
	uint32_t	ids[16];
	unsigned	stop_after;	/* 0: never */
	unsigned	errors;
	uint16_t	code;
	uint32_t	err_id;
};

static int
on_frame(void *arg, const struct proto_hdr *h, const uint8_t *body)
{
	struct seen	*s = arg;

	if (s->frames < 16)
		s->ids[s->frames] = h->id;
	s->frames++;
	return (s->stop_after != 0 && s->frames == s->stop_after);
}

static void
on_error(void *arg, uint32_t id, uint16_t code, const char *msg,
    const uint8_t *raw, size_t rawlen)
{
	struct seen	*s = arg;

	assert_non_null(msg);
	assert_int_equal(rawlen, KMSAUTHZ_HDR_SIZE);
	s->errors++;
	s->code = code;
	s->err_id = id;
}

/* A header of type, id, body length len at p. */
static void
put_hdr(uint8_t *p, uint16_t type, uint32_t id, uint32_t len)
{
	struct proto_hdr	h;

	memset(&h, 0, sizeof(h));
	h.version = KMSAUTHZ_PROTO_VERSION;
	h.type = type;
	h.id = id;
	h.len = len;
	proto_hdr_encode(p, &h);
}

static void
feed(struct proto_framer *f, const uint8_t *p, size_t n)
{
	uint8_t	*space;
	size_t	 room;

	space = proto_framer_space(f, &room);
	assert_true(room >= n);
	memcpy(space, p, n);
	proto_framer_added(f, n);
}

static void
test_partial(void **state)
{
	struct proto_framer	f;
	struct seen		s;
	uint8_t			b[48];
	size_t			consumed;

	memset(&s, 0, sizeof(s));
	assert_int_equal(proto_framer_init(&f, 0), 0);
	put_hdr(b, KMSAUTHZ_MSG_PING, 1, 0);
	put_hdr(b + 16, KMSAUTHZ_MSG_PING, 2, 0);
	put_hdr(b + 32, KMSAUTHZ_MSG_PING, 3, 0);
	feed(&f, b, 40);
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 0);
	assert_int_equal(s.frames, 2);
	assert_int_equal(s.ids[1], 2);
	assert_int_equal(consumed, 32);
	/* The half header is at the front now. */
	assert_int_equal(f.len, 8);
	assert_memory_equal(f.in, b + 32, 8);
	feed(&f, b + 40, 8);
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 0);
	assert_int_equal(s.frames, 3);
	assert_int_equal(s.ids[2], 3);
	assert_int_equal(f.len, 0);
	proto_framer_free(&f);
}

static void
test_grow_and_shrink(void **state)
{
	struct proto_framer	 f;
	struct seen		 s;
	uint8_t			 h[KMSAUTHZ_HDR_SIZE];
	uint8_t			*body;
	size_t			 consumed, big = 100 * 1024;

	memset(&s, 0, sizeof(s));
	/* A query CHECK of 40,000 bytes: room for all of it, no more. */
	assert_int_equal(proto_framer_init(&f, 0), 0);
	put_hdr(h, KMSAUTHZ_MSG_CHECK, 5, 40000);
	feed(&f, h, sizeof(h));
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 0);
	assert_int_equal(s.frames, 0);
	assert_int_equal(f.cap, KMSAUTHZ_HDR_SIZE + 40000);
	assert_int_equal(f.pending_id, 5);
	proto_framer_free(&f);

	/* An admin frame over the query limit: grown, then given back. */
	assert_int_equal(proto_framer_init(&f, 1), 0);
	put_hdr(h, KMSAUTHZ_MSG_ADMIN_REQUEST, 6, (uint32_t)big);
	feed(&f, h, sizeof(h));
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 0);
	assert_int_equal(f.cap, KMSAUTHZ_HDR_SIZE + big);
	body = calloc(1, big);
	assert_non_null(body);
	feed(&f, body, big);
	free(body);
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 0);
	assert_int_equal(s.frames, 1);
	assert_int_equal(consumed, KMSAUTHZ_HDR_SIZE + big);
	assert_int_equal(f.cap, PROTO_FRAMER_MIN);
	proto_framer_free(&f);
}

static void
test_refused(void **state)
{
	struct proto_framer	f;
	struct seen		s;
	uint8_t			b[32];
	size_t			consumed;

	/* An admin message on the query socket, after a good PING. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(proto_framer_init(&f, 0), 0);
	put_hdr(b, KMSAUTHZ_MSG_PING, 1, 0);
	put_hdr(b + 16, KMSAUTHZ_MSG_ADMIN_REQUEST, 7, 0);
	feed(&f, b, 32);
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 1);
	assert_int_equal(s.frames, 1);
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.code, KMSAUTHZ_WERR_UNSUPPORTED);
	assert_int_equal(s.err_id, 7);
	proto_framer_free(&f);

	/* Bad magic: refused before any body; the id as sent. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(proto_framer_init(&f, 0), 0);
	put_hdr(b, KMSAUTHZ_MSG_PING, 9, 0);
	b[0] = 'X';
	feed(&f, b, 16);
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 1);
	assert_int_equal(s.frames, 0);
	assert_int_equal(s.code, KMSAUTHZ_WERR_PROTO);
	assert_int_equal(s.err_id, 9);
	proto_framer_free(&f);

	/* A query body over the limit: TOOBIG, nothing grown. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(proto_framer_init(&f, 0), 0);
	put_hdr(b, KMSAUTHZ_MSG_CHECK, 4, KMSAUTHZ_MAX_QUERY_BODY + 1);
	feed(&f, b, 16);
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 1);
	assert_int_equal(s.code, KMSAUTHZ_WERR_TOOBIG);
	assert_int_equal(f.cap, PROTO_FRAMER_MIN);
	proto_framer_free(&f);
}

static void
test_stop(void **state)
{
	struct proto_framer	f;
	struct seen		s;
	uint8_t			b[48];
	size_t			consumed;

	/* Paused after the first: the others stay, whole, at the front. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(proto_framer_init(&f, 0), 0);
	put_hdr(b, KMSAUTHZ_MSG_PING, 1, 0);
	put_hdr(b + 16, KMSAUTHZ_MSG_PING, 2, 0);
	put_hdr(b + 32, KMSAUTHZ_MSG_PING, 3, 0);
	feed(&f, b, 48);
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 0);
	assert_int_equal(s.frames, 1);
	assert_int_equal(consumed, 16);
	assert_int_equal(f.len, 32);
	assert_memory_equal(f.in, b + 16, 32);
	s.stop_after = 0;
	assert_int_equal(proto_framer_run(&f, on_frame, on_error, &s,
	    &consumed), 0);
	assert_int_equal(s.frames, 3);
	assert_int_equal(f.len, 0);
	proto_framer_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_grow_and_shrink),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_stop),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

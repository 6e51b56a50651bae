/* SPDX-License-Identifier: ISC */
/*
 * fuzz-client.c: libkmsauthz's answer decoders (the code every check,
 * batch, pipelined and non-blocking call runs on what the daemon sent) on
 * arbitrary frames.  Byte 0 is the number of answers a batch is expected
 * to hold (1..128); the rest is a stream of frames.  Invariants:
 *   - a failed decode leaves every answer zeroed: IMPLICIT_DENY, no
 *     statements (fail closed);
 *   - a successful one has a decision and reason that agree, at most
 *     KMSAUTHZ_MAX_MATCHED statements, each with a "key/" or "policy/"
 *     source and NUL-terminated strings, and the frame's request id;
 *   - nothing leaks (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmsauthz.h"
#include "lib/client-int.h"
#include "proto/proto.h"
#include "fuzz.h"

#define FUZZ_CLIENT_MAX	(KMSAUTHZ_HDR_SIZE + KMSAUTHZ_MAX_REPLY_BODY + 1)

static struct kmsauthz_answer	fuzz_ans[KMSAUTHZ_MAX_BATCH];

static void
fuzz_denied(const struct kmsauthz_answer *a)
{
	if (a->decision != KMSAUTHZ_IMPLICIT_DENY || a->statements != NULL ||
	    a->nstatements != 0 || a->reason != KMSAUTHZ_REASON_NONE)
		abort();
}

static void
fuzz_valid(const struct kmsauthz_answer *a, uint32_t id)
{
	const struct kmsauthz_statement	*st;
	size_t				 i;

	if (!proto_decision_reason_ok((uint8_t)a->decision,
	    (uint8_t)a->reason) || a->request_id != id ||
	    a->nstatements > KMSAUTHZ_MAX_MATCHED ||
	    (a->nstatements > 0) != (a->statements != NULL))
		abort();
	for (i = 0; i < a->nstatements; i++) {
		st = &a->statements[i];
		if (memchr(st->source, '\0', sizeof(st->source)) == NULL ||
		    memchr(st->sid, '\0', sizeof(st->sid)) == NULL)
			abort();
		if (st->kind == KMSAUTHZ_SOURCE_KEY ?
		    strncmp(st->source, "key/", 4) != 0 :
		    strncmp(st->source, "policy/", 7) != 0)
			abort();
		if (!st->has_sid && st->sid[0] != '\0')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_hdr	h;
	size_t			off, n, i;

	if (size < 1 || size > FUZZ_CLIENT_MAX)
		return (0);
	n = (size_t)data[0] % KMSAUTHZ_MAX_BATCH + 1;
	for (off = 1; size - off >= KMSAUTHZ_HDR_SIZE;) {
		if (proto_hdr_decode(data + off, size - off, &h) != 0)
			break;
		off += KMSAUTHZ_HDR_SIZE;
		if (size - off < h.len)
			break;
		if (h.type == KMSAUTHZ_MSG_BATCH_ANSWER) {
			if (client_decode_batch(&h, data + off, n,
			    fuzz_ans) != 0) {
				for (i = 0; i < n; i++)
					fuzz_denied(&fuzz_ans[i]);
			} else {
				for (i = 0; i < n; i++)
					fuzz_valid(&fuzz_ans[i], h.id);
			}
			for (i = 0; i < n; i++)
				kmsauthz_answer_free(&fuzz_ans[i]);
		} else {
			if (client_decode_answer(&h, data + off,
			    &fuzz_ans[0]) != 0)
				fuzz_denied(&fuzz_ans[0]);
			else
				fuzz_valid(&fuzz_ans[0], h.id);
			kmsauthz_answer_free(&fuzz_ans[0]);
		}
		off += h.len;
	}
	return (0);
}

/* SPDX-License-Identifier: ISC */
/*
 * client-int.h: libkmsauthz internals shared with its fuzz target (not
 * exported: only kmsauthz_* symbols leave the library).
 */
#ifndef KMSAUTHZ_CLIENT_INT_H
#define KMSAUTHZ_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kmsauthz.h"
#include "proto/proto.h"

/*
 * The client's answer decoders: one ANSWER frame (header already checked
 * by proto_hdr_decode, body exactly hdr->len bytes), or a BATCH_ANSWER of
 * exactly n answers.  On any failure every answer is zeroed: denied.
 */
int	client_decode_answer(const struct proto_hdr *, const uint8_t *,
	    struct kmsauthz_answer *);
int	client_decode_batch(const struct proto_hdr *, const uint8_t *,
	    size_t, struct kmsauthz_answer *);
int	client_fill_answer(const struct proto_answer *, uint32_t,
	    struct kmsauthz_answer *);

#endif

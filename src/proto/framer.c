/* SPDX-License-Identifier: ISC */
/*
 * framer.c: a connection's input, split into frames (framer.h).
 *
 * Each 16-byte header is checked (magic, version, a type this socket
 * takes, the body limit) before the body is waited for, so no more
 * than one maximal frame is ever buffered; whole frames only are
 * handed on.  What is left is moved to the front (one memmove per
 * run, not per frame).
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "proto/framer.h"

int
proto_framer_init(struct proto_framer *f, int admin)
{
	memset(f, 0, sizeof(*f));
	f->admin = admin;
	f->cap = PROTO_FRAMER_MIN;
	if ((f->in = malloc(f->cap)) == NULL)
		return (-1);
	return (0);
}

void
proto_framer_free(struct proto_framer *f)
{
	free(f->in);
	f->in = NULL;
	f->len = f->cap = 0;
}

size_t
proto_framer_max(const struct proto_framer *f)
{
	return (KMSAUTHZ_HDR_SIZE + (f->admin ? KMSAUTHZ_MAX_ADMIN_BODY :
	    KMSAUTHZ_MAX_QUERY_BODY));
}

uint8_t *
proto_framer_space(struct proto_framer *f, size_t *room)
{
	*room = f->cap - f->len;
	return (f->in + f->len);
}

void
proto_framer_added(struct proto_framer *f, size_t n)
{
	f->len += n;
}

int
proto_framer_run(struct proto_framer *f, proto_framer_frame_fn frame,
    proto_framer_error_fn error, void *arg, size_t *consumedp)
{
	struct proto_hdr	 hdr;
	const uint8_t		*raw;
	uint8_t			*grown;
	uint32_t		 id;
	size_t			 off = 0, avail, need = 0;
	int			 r, ret = 0;

	for (;;) {
		avail = f->len - off;
		if (avail < KMSAUTHZ_HDR_SIZE)
			break;
		raw = f->in + off;
		memcpy(&id, raw + 8, sizeof(id));
		id = ntohl(id);
		if ((r = proto_hdr_decode(raw, KMSAUTHZ_HDR_SIZE,
		    &hdr)) != 0) {
			error(arg, id, proto_wire_error(r),
			    r == KMSAUTHZ_EVERSION ?
			    "unsupported protocol version" :
			    r == KMSAUTHZ_ETOOBIG ? "frame too large" :
			    "malformed frame header", raw, KMSAUTHZ_HDR_SIZE);
			ret = 1;
			break;
		}
		if (!(f->admin ? proto_type_is_admin(hdr.type) :
		    proto_type_is_query(hdr.type))) {
			error(arg, hdr.id, KMSAUTHZ_WERR_UNSUPPORTED,
			    f->admin ?
			    "message type not accepted on the admin socket" :
			    "message type not accepted on the query socket",
			    raw, KMSAUTHZ_HDR_SIZE);
			ret = 1;
			break;
		}
		need = KMSAUTHZ_HDR_SIZE + (size_t)hdr.len;
		if (need > proto_framer_max(f)) {
			/* proto_hdr_decode bounds it; never trust that. */
			error(arg, hdr.id, KMSAUTHZ_WERR_TOOBIG,
			    "frame too large", raw, KMSAUTHZ_HDR_SIZE);
			ret = 1;
			need = 0;
			break;
		}
		if (avail < need) {
			f->pending_id = hdr.id;
			break;
		}
		need = 0;
		off += KMSAUTHZ_HDR_SIZE + (size_t)hdr.len;
		if (frame(arg, &hdr, raw + KMSAUTHZ_HDR_SIZE) != 0)
			break;
	}
	*consumedp = off;

	/* Keep the partial frame at the front, with room for all of it. */
	if (off != 0) {
		f->len -= off;
		memmove(f->in, f->in + off, f->len);
		if (f->len == 0 && f->cap > KMSAUTHZ_HDR_SIZE +
		    KMSAUTHZ_MAX_QUERY_BODY &&
		    (grown = realloc(f->in, PROTO_FRAMER_MIN)) != NULL) {
			/* A big admin frame is gone: give its room back. */
			f->in = grown;
			f->cap = PROTO_FRAMER_MIN;
		}
	}
	if (ret == 0 && need > f->cap) {
		if ((grown = realloc(f->in, need)) == NULL)
			return (-1);
		f->in = grown;
		f->cap = need;
	}
	return (ret);
}

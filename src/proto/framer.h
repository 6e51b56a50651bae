/* SPDX-License-Identifier: ISC */
/*
 * framer.h: splitting a byte stream into protocol v1 frames, as the
 * daemon reads a connection (pure: no I/O, no libevent).  Used by
 * server-conn.c and by tests/fuzz/fuzz-query.c, so that the fuzzer runs
 * the daemon's own loop.
 */
#ifndef KMSAUTHZ_FRAMER_H
#define KMSAUTHZ_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* First input buffer: a few ordinary frames; grows to one maximal. */
#define PROTO_FRAMER_MIN	(16u * 1024)

/*
 * A connection's input: a linear buffer holding at most one partial
 * frame after proto_framer_run (a frame is always contiguous), with
 * room for all of it.  admin: the socket's kind (which types it takes,
 * which body limit applies).
 */
struct proto_framer {
	uint8_t		*in;
	size_t		 len;
	size_t		 cap;
	int		 admin;
	uint32_t	 pending_id;	/* request id of the partial frame */
};

/*
 * Called for each whole frame, body of hdr->len bytes.  0: go on; 1:
 * stop after this frame (paused or closing: what is left stays
 * buffered).
 */
typedef int (*proto_framer_frame_fn)(void *, const struct proto_hdr *,
    const uint8_t *body);
/*
 * Called once for a header refused before its body is read (bad magic,
 * version, flags, type not taken on this socket, body over the limit):
 * the request id as sent, the wire error code, a static message and
 * the header's bytes.  The run stops; the caller closes.
 */
typedef void (*proto_framer_error_fn)(void *, uint32_t id, uint16_t code,
    const char *msg, const uint8_t *raw, size_t rawlen);

/* 0, or -1 when out of memory. */
int	proto_framer_init(struct proto_framer *, int admin);
void	proto_framer_free(struct proto_framer *);
/* The most input ever buffered: one maximal frame for this socket. */
size_t	proto_framer_max(const struct proto_framer *);
/* Where the next read goes, and how much room there is (never 0). */
uint8_t	*proto_framer_space(struct proto_framer *, size_t *room);
/* n bytes were read into proto_framer_space(). */
void	 proto_framer_added(struct proto_framer *, size_t n);

/*
 * Handle every whole frame buffered (until a callback says stop or a
 * header is refused), then keep what is left at the front with room for
 * all of the frame it begins; give a big admin frame's room back once it
 * is gone.  *consumedp: bytes of whole frames handled.  Returns 0; 1
 * after a refused header; -1 when growing the buffer failed (the caller
 * answers INTERNAL, to pending_id, and closes).
 */
int	proto_framer_run(struct proto_framer *, proto_framer_frame_fn,
	    proto_framer_error_fn, void *, size_t *consumedp);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * proto.h: the pure codec of protocol v1 (libc only, no I/O).
 *
 * Decoders read a complete body (the caller has already read exactly
 * hdr.len bytes after the header) and return views into it: a struct
 * proto_str points into the buffer and is not NUL-terminated (it never
 * contains NUL: the decoder rejects it).  Decoders allocate nothing, check
 * every length against the limits of kmsauthz-proto.h before using it,
 * and must consume the body exactly: trailing bytes are KMSAUTHZ_EPROTO.
 *
 * Encoders write into a struct proto_wr; one initialised with a NULL
 * buffer only counts, which gives the size to allocate.
 *
 * Every function returns 0 or a negative KMSAUTHZ_E* code from
 * kmsauthz.h (EPROTO, EVERSION, ETOOBIG, EINVAL for encoder arguments
 * over a limit).
 */
#ifndef KMSAUTHZ_PROTO_PROTO_H
#define KMSAUTHZ_PROTO_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "kmsauthz-proto.h"
#include "kmsauthz.h"

struct proto_hdr {
	uint8_t		version;
	uint8_t		flags;
	uint16_t	type;
	uint32_t	id;
	uint32_t	len;	/* body length */
};

/* A byte string; ptr may be NULL when len is 0. */
struct proto_str {
	const char	*ptr;
	size_t		 len;
};

/* Sticky-error cursors (Knot's wire_ctx, read with memcpy). */
struct proto_rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	int		 err;
	const char	*msg;	/* static: why, when a decoder says; or NULL */
};

struct proto_wr {
	uint8_t		*p;	/* NULL: count only */
	size_t		 cap;
	size_t		 off;
	int		 err;
	uint16_t	 ftype;	/* the frame begun last (its body limit) */
};

void	proto_rd_init(struct proto_rd *, const void *, size_t);
uint8_t	proto_rd_u8(struct proto_rd *);
uint16_t proto_rd_u16(struct proto_rd *);
uint32_t proto_rd_u32(struct proto_rd *);
uint64_t proto_rd_u64(struct proto_rd *);
void	proto_rd_bytes(struct proto_rd *, void *, size_t);
/* u16 length, then that many bytes (max bytes, no NUL). */
void	proto_rd_str(struct proto_rd *, size_t max, struct proto_str *);
/* 0 when no error and everything was consumed. */
int	proto_rd_end(struct proto_rd *);

void	proto_wr_init(struct proto_wr *, void *, size_t);
void	proto_wr_u8(struct proto_wr *, uint8_t);
void	proto_wr_u16(struct proto_wr *, uint16_t);
void	proto_wr_u32(struct proto_wr *, uint32_t);
void	proto_wr_u64(struct proto_wr *, uint64_t);
void	proto_wr_bytes(struct proto_wr *, const void *, size_t);
void	proto_wr_str(struct proto_wr *, size_t max, const struct proto_str *);

/*
 * Frame header.  proto_hdr_decode() checks the magic, the version
 * (KMSAUTHZ_EVERSION), flags and reserved bits, and that len does not
 * exceed proto_body_max(type) (KMSAUTHZ_ETOOBIG): call it on the first
 * KMSAUTHZ_HDR_SIZE bytes before buffering any body.
 */
int	proto_hdr_decode(const void *, size_t, struct proto_hdr *);
void	proto_hdr_encode(void *, const struct proto_hdr *);
/* The largest body accepted for a message type (unknown: query limit). */
size_t	proto_body_max(uint16_t type);
/* 1 for HELLO/PING/STATUS/CHECK/CHECK_BATCH, the query socket's types. */
int	proto_type_is_query(uint16_t type);
/* 1 for HELLO/PING/STATUS/ADMIN_REQUEST, the admin socket's types. */
int	proto_type_is_admin(uint16_t type);
/* The wire error code for a decoder's KMSAUTHZ_E* result. */
uint16_t proto_wire_error(int err);
/* Static names, NULL when unknown. */
const char *proto_type_name(uint16_t type);

/*
 * Begins a frame (a header with length 0) and returns its offset; end
 * patches the body length.  With a counting writer both just count.
 */
size_t	proto_frame_begin(struct proto_wr *, uint16_t type, uint32_t id);
void	proto_frame_end(struct proto_wr *, size_t start);

/* HELLO: the range of versions the client speaks. */
struct proto_hello {
	uint8_t	min_version;
	uint8_t	max_version;
};
int	proto_hello_decode(const void *, size_t, struct proto_hello *);
void	proto_hello_encode(struct proto_wr *, const struct proto_hello *);

/* HELLO_REPLY: the chosen version and the daemon's software version. */
struct proto_hello_reply {
	uint8_t			version;
	struct proto_str	software;	/* <= MAX_VERSION_STRING */
};
int	proto_hello_reply_decode(const void *, size_t,
	    struct proto_hello_reply *);
void	proto_hello_reply_encode(struct proto_wr *,
	    const struct proto_hello_reply *);

/* PING, STATUS, PONG: empty bodies. */
int	proto_empty_decode(const void *, size_t);

/* STATUS_REPLY. */
struct proto_status {
	uint64_t		generation;
	uint64_t		uptime_sec;
	uint64_t		checks;
	uint64_t		errors;
	uint32_t		keys;
	uint32_t		aliases;
	uint32_t		policies;
	uint32_t		users;
	uint32_t		groups;
	uint32_t		roles;
	uint32_t		connections;
	uint8_t			proto_version;
	struct proto_str	software;	/* <= MAX_VERSION_STRING */
};
int	proto_status_decode(const void *, size_t, struct proto_status *);
void	proto_status_encode(struct proto_wr *, const struct proto_status *);

/* CHECK (also each item of a CHECK_BATCH). */
struct proto_ctx_pair {
	struct proto_str	key;
	struct proto_str	value;
};

struct proto_check {
	uint8_t			flags;		/* KMSAUTHZ_CHECK_* */
	uint8_t			ip_len;		/* 0, 4 or 16 */
	uint8_t			ip[16];
	int64_t			time_sec;	/* if flags & CHECK_TIME */
	uint32_t		time_nsec;	/* < 1000000000 */
	struct proto_str	principal;
	struct proto_str	action;
	struct proto_str	resource;
	uint16_t		nctx;
	struct proto_ctx_pair	ctx[KMSAUTHZ_MAX_CONTEXT];
	/* The extension: non-zero exactly when flags has CHECK_MIN_GEN. */
	uint64_t		min_generation;
};
#define PROTO_CHECK_FIXED_SIZE	32

/*
 * A malformed minimum-generation extension also sets the reader's msg
 * (a static text for the ERROR: which of its fields is wrong).
 */
int	proto_check_decode(const void *, size_t, struct proto_check *);
/* 1 when the WHY flags are consistent (WHY needs EXPLAIN, WHY_FULL WHY). */
int	proto_check_why_ok(uint8_t flags);
void	proto_check_read(struct proto_rd *, struct proto_check *);
void	proto_check_encode(struct proto_wr *, const struct proto_check *);

/*
 * CHECK_BATCH: u16 count (1..MAX_BATCH), u16 reserved, count checks.
 * Read it with an iterator: begin, next count times, then end.
 */
struct proto_batch_rd {
	struct proto_rd	rd;
	uint16_t	count;
	uint16_t	done;
};
int	proto_batch_begin(struct proto_batch_rd *, const void *, size_t);
int	proto_batch_next(struct proto_batch_rd *, struct proto_check *);
int	proto_batch_end(struct proto_batch_rd *);
/* Writes the batch prefix; then proto_check_encode count times. */
void	proto_batch_encode_begin(struct proto_wr *, uint16_t count);

/* ANSWER (also each item of a BATCH_ANSWER). */
struct proto_match {
	uint8_t			kind;		/* KMSAUTHZ_SOURCE_* */
	uint8_t			flags;		/* KMSAUTHZ_MATCH_* */
	uint32_t		index;
	struct proto_str	name;		/* KeyId or PolicyName */
	struct proto_str	sid;		/* if flags & MATCH_HAS_SID */
};

/* The explanation extension, present when flags & ANSWER_WHY. */
struct proto_half {
	uint8_t			result;		/* 0 NONE .. 4 ROOT */
	uint8_t			flags;		/* KMSAUTHZ_WHY_TRUNCATED */
	uint8_t			n;
	struct proto_match	stmt[KMSAUTHZ_MAX_MATCHED];
};

struct proto_miss {
	uint8_t			half;		/* 0 identity, 1 key */
	uint8_t			deny;		/* its effect */
	struct proto_match	stmt;
	struct proto_str	why;		/* 1..MAX_WHY_TEXT */
};

struct proto_why {
	uint8_t			rule;		/* 1 .. WHY_RULE_MAX */
	struct proto_half	half[2];
	uint8_t			flags;		/* KMSAUTHZ_WHY_TRUNCATED */
	uint8_t			nmiss;
	struct proto_miss	miss[KMSAUTHZ_MAX_MISSES];
};

struct proto_answer {
	uint8_t			decision;
	uint8_t			reason;
	uint8_t			flags;		/* KMSAUTHZ_ANSWER_* */
	uint8_t			nmatch;
	uint64_t		generation;
	struct proto_match	match[KMSAUTHZ_MAX_MATCHED];
	struct proto_why	why;		/* if flags & ANSWER_WHY */
};

/*
 * The decoder also checks that decision and reason agree (an ALLOW
 * carries an allowed-* reason, EXPLICIT_DENY explicit-deny, IMPLICIT_DENY
 * one of the deny reasons): a client must never read an ALLOW out of an
 * inconsistent answer.
 */
int	proto_answer_decode(const void *, size_t, struct proto_answer *);
void	proto_answer_read(struct proto_rd *, struct proto_answer *);
void	proto_answer_encode(struct proto_wr *, const struct proto_answer *);
/* 1 when decision and reason agree. */
int	proto_decision_reason_ok(uint8_t decision, uint8_t reason);

/* BATCH_ANSWER: u16 count, u16 reserved, count answers (in order). */
int	proto_batch_answer_begin(struct proto_batch_rd *, const void *,
	    size_t);
int	proto_batch_answer_next(struct proto_batch_rd *,
	    struct proto_answer *);
/* proto_batch_end() ends it; proto_batch_encode_begin() starts one. */

/* ERROR: u16 code, u16 reserved, message string. */
struct proto_error {
	uint16_t		code;		/* KMSAUTHZ_WERR_* */
	struct proto_str	message;	/* <= MAX_ERROR_MESSAGE */
};
int	proto_error_decode(const void *, size_t, struct proto_error *);
void	proto_error_encode(struct proto_wr *, const struct proto_error *);

/*
 * ADMIN_REQUEST / ADMIN_RESPONSE: u8 flags, u8 reserved, u16 reserved,
 * u32 JSON length, the JSON document, and when flags has ADMIN_SIGNED
 * a signature block: u16 length (1..MAX_ADMIN_SIGNATURE) and the block
 * (Ed25519; its contents are specified by a later protocol revision).
 * The codec does not parse the JSON.
 */
struct proto_admin {
	uint8_t			flags;
	struct proto_str	json;
	struct proto_str	signature;
};
int	proto_admin_decode(const void *, size_t, size_t max,
	    struct proto_admin *);
void	proto_admin_encode(struct proto_wr *, const struct proto_admin *);

#endif

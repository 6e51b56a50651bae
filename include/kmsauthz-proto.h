/* SPDX-License-Identifier: ISC */
/*
 * kmsauthz-proto.h: wire constants of the kmsauthzd protocol (version 1).
 *
 * docs/protocol.md describes every byte.  All integers on the wire are
 * big-endian (network byte order).  Every frame starts with a 16-byte
 * header:
 *
 *	offset	size	field
 *	0	2	magic, KMSAUTHZ_PROTO_MAGIC ("KZ")
 *	2	1	version, KMSAUTHZ_PROTO_VERSION
 *	3	1	flags (none defined in version 1: must be 0)
 *	4	2	message type (KMSAUTHZ_MSG_*)
 *	6	2	reserved, must be 0
 *	8	4	request id, chosen by the client, copied into the answer
 *	12	4	body length in bytes (the header not included)
 *
 * This header is installed: it holds only constants, no functions.
 */
#ifndef KMSAUTHZ_PROTO_H
#define KMSAUTHZ_PROTO_H

/*
 * Protocol version.  Don't forget to bump KMSAUTHZ_PROTO_VERSION if
 * anything in this file or in docs/protocol.md changes meaning!
 */
#define KMSAUTHZ_PROTO_VERSION		1
#define KMSAUTHZ_PROTO_MAGIC		0x4b5a	/* "KZ" */
#define KMSAUTHZ_HDR_SIZE		16

/*
 * Message types, in blocks (tmux): 1.. control, 100.. query,
 * 200.. admin, 300.. replies.
 */
enum kmsauthz_msg_type {
	/* Control: accepted on both sockets. */
	KMSAUTHZ_MSG_HELLO = 1,		/* version negotiation */
	KMSAUTHZ_MSG_PING = 2,
	KMSAUTHZ_MSG_STATUS = 3,

	/* Queries: the query socket only. */
	KMSAUTHZ_MSG_CHECK = 100,
	KMSAUTHZ_MSG_CHECK_BATCH = 101,

	/* Admin: the admin socket only (semantics: a later issue). */
	KMSAUTHZ_MSG_ADMIN_REQUEST = 200,

	/* Replies: sent by the daemon only. */
	KMSAUTHZ_MSG_HELLO_REPLY = 300,
	KMSAUTHZ_MSG_PONG = 301,
	KMSAUTHZ_MSG_STATUS_REPLY = 302,
	KMSAUTHZ_MSG_ANSWER = 303,
	KMSAUTHZ_MSG_BATCH_ANSWER = 304,
	KMSAUTHZ_MSG_ERROR = 305,
	KMSAUTHZ_MSG_ADMIN_RESPONSE = 306
};

/*
 * Decisions.  IMPLICIT_DENY is 0 so that a zeroed answer is a deny.
 */
enum kmsauthz_decision {
	KMSAUTHZ_IMPLICIT_DENY = 0,
	KMSAUTHZ_ALLOW = 1,
	KMSAUTHZ_EXPLICIT_DENY = 2
};
#define KMSAUTHZ_DECISION_MAX		2

/*
 * Reasons: the list of docs/semantics.md section 4, in its order,
 * numbered from 1; 0 means "no reason" (only in a zeroed answer, never
 * on the wire).
 */
enum kmsauthz_reason {
	KMSAUTHZ_REASON_NONE = 0,
	KMSAUTHZ_REASON_ALLOWED_BY_IDENTITY_POLICY = 1,
	KMSAUTHZ_REASON_ALLOWED_BY_KEY_POLICY = 2,
	KMSAUTHZ_REASON_ALLOWED_BY_BOTH = 3,
	KMSAUTHZ_REASON_ALLOWED_AS_ACCOUNT_ROOT = 4,
	KMSAUTHZ_REASON_EXPLICIT_DENY = 5,
	KMSAUTHZ_REASON_NO_MATCHING_ALLOW = 6,
	KMSAUTHZ_REASON_CROSS_ACCOUNT_NEEDS_IDENTITY_ALLOW = 7,
	KMSAUTHZ_REASON_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW = 8,
	KMSAUTHZ_REASON_KEY_NOT_FOUND = 9,
	KMSAUTHZ_REASON_INVALID_REQUEST = 10
};
#define KMSAUTHZ_REASON_MAX		10

/* Kind of a deciding statement's source. */
enum kmsauthz_source_kind {
	KMSAUTHZ_SOURCE_KEY = 1,	/* "key/<KeyId>": a key policy */
	KMSAUTHZ_SOURCE_POLICY = 2	/* "policy/<PolicyName>" */
};

/*
 * Error codes carried in an ERROR frame (u16).  After an ERROR the
 * daemon closes the connection when the error is marked "closes".
 */
enum kmsauthz_wire_error {
	KMSAUTHZ_WERR_PROTO = 1,	/* malformed frame (closes) */
	KMSAUTHZ_WERR_VERSION = 2,	/* unsupported version (closes) */
	KMSAUTHZ_WERR_TOOBIG = 3,	/* frame over the limit (closes) */
	KMSAUTHZ_WERR_UNSUPPORTED = 4,	/* type not taken here (closes) */
	KMSAUTHZ_WERR_BUSY = 5,		/* a connection cap is full (closes) */
	KMSAUTHZ_WERR_INTERNAL = 6,	/* daemon failure */
	KMSAUTHZ_WERR_PERM = 7,		/* not permitted (admin) */
	KMSAUTHZ_WERR_SHUTDOWN = 8,	/* daemon stopping (closes) */
	KMSAUTHZ_WERR_STALE = 9		/* minimum generation not reached */
};
#define KMSAUTHZ_WERR_MAX		9

/* CHECK flags (u8). */
#define KMSAUTHZ_CHECK_EXPLAIN		0x01	/* list deciding statements */
#define KMSAUTHZ_CHECK_TIME		0x02	/* time_sec/nsec are pinned */
/* The explanation extension (a CHECK only, never a CHECK_BATCH item):
 * WHY needs EXPLAIN, WHY_FULL needs WHY. */
#define KMSAUTHZ_CHECK_WHY		0x04	/* both halves, the rule */
#define KMSAUTHZ_CHECK_WHY_FULL		0x08	/* and near misses */
/* The minimum-generation extension follows the context pairs (a CHECK
 * or a CHECK_BATCH item): decide at that generation or later. */
#define KMSAUTHZ_CHECK_MIN_GEN		0x10
#define KMSAUTHZ_CHECK_FLAGS		0x1f	/* all defined bits */

/* The minimum-generation extension (docs/protocol.md, "CHECK extension"):
 * u8 version, u8 flags (0), u16 reserved (0), u64 generation (>= 1). */
#define KMSAUTHZ_MINGEN_VERSION		1
#define KMSAUTHZ_MINGEN_SIZE		12

/* ANSWER flags (u8). */
#define KMSAUTHZ_ANSWER_TRUNCATED	0x01	/* more than MAX_MATCHED */
#define KMSAUTHZ_ANSWER_WHY		0x02	/* the extension follows */
#define KMSAUTHZ_ANSWER_FLAGS		0x03

/* The explanation extension (docs/protocol.md, "ANSWER extension"). */
#define KMSAUTHZ_WHY_VERSION		1
#define KMSAUTHZ_WHY_RESULT_MAX		4	/* NONE .. ROOT */
#define KMSAUTHZ_WHY_RULE_MAX		6	/* 1 .. 6 */
#define KMSAUTHZ_WHY_TRUNCATED		0x01	/* half or miss list flag */
#define KMSAUTHZ_MAX_MISSES		8
#define KMSAUTHZ_MAX_WHY_TEXT		255	/* a failed condition */

/* Deciding statement flags (u8). */
#define KMSAUTHZ_MATCH_HAS_SID		0x01	/* the statement has a Sid */
#define KMSAUTHZ_MATCH_FLAGS		0x01

/* ADMIN_REQUEST / ADMIN_RESPONSE flags (u8). */
#define KMSAUTHZ_ADMIN_SIGNED		0x01	/* a signature block follows */
#define KMSAUTHZ_ADMIN_FLAGS		0x01

/*
 * Limits.  Every length is checked against these before anything is
 * allocated or copied.  Strings are counted in bytes and may not
 * contain NUL.
 */
#define KMSAUTHZ_MAX_PRINCIPAL		1024
#define KMSAUTHZ_MAX_ACTION		1024
#define KMSAUTHZ_MAX_RESOURCE		1024
#define KMSAUTHZ_MAX_CONTEXT		64	/* context pairs per check */
#define KMSAUTHZ_MAX_CONTEXT_KEY	128
#define KMSAUTHZ_MAX_CONTEXT_VALUE	512
#define KMSAUTHZ_MAX_MATCHED		32	/* statements per answer */
#define KMSAUTHZ_MAX_SOURCE_NAME	256	/* KeyId or PolicyName */
#define KMSAUTHZ_MAX_SID		512	/* 128 characters of UTF-8 */
#define KMSAUTHZ_MAX_BATCH		128	/* checks per CHECK_BATCH */
#define KMSAUTHZ_MAX_ERROR_MESSAGE	256
#define KMSAUTHZ_MAX_VERSION_STRING	64
#define KMSAUTHZ_MAX_ADMIN_SIGNATURE	1024

/* Body limits per frame class. */
#define KMSAUTHZ_MAX_QUERY_BODY		(64 * 1024)	/* control, query */
#define KMSAUTHZ_MAX_ADMIN_BODY		(1024 * 1024)	/* admin */
/* Replies: a full BATCH_ANSWER of explained answers must fit. */
#define KMSAUTHZ_ANSWER_FIXED_SIZE	12
#define KMSAUTHZ_MATCH_FIXED_SIZE	10
#define KMSAUTHZ_MAX_ANSWER_BODY	(KMSAUTHZ_ANSWER_FIXED_SIZE + \
	KMSAUTHZ_MAX_MATCHED * (KMSAUTHZ_MATCH_FIXED_SIZE + \
	KMSAUTHZ_MAX_SOURCE_NAME + KMSAUTHZ_MAX_SID))
#define KMSAUTHZ_MAX_REPLY_BODY		(4 + KMSAUTHZ_MAX_BATCH * \
	KMSAUTHZ_MAX_ANSWER_BODY)
/* ADMIN_RESPONSE (an exported bundle may be large). */
#define KMSAUTHZ_MAX_ADMIN_REPLY_BODY	(16 * 1024 * 1024)

#endif

/* SPDX-License-Identifier: ISC */
/*
 * kmsauthz.h: client library for the kmsauthzd authorization daemon.
 *
 * libkmsauthz speaks protocol v1 (kmsauthz-proto.h, docs/protocol.md)
 * over the daemon's query socket.  It links nothing but libc.
 *
 * Fail closed: a decision is never an error code.  Every function that
 * fills a struct kmsauthz_answer first zeroes it, so on any failure
 * (negative return) the answer reads KMSAUTHZ_IMPLICIT_DENY.  Only a
 * return of 0 together with decision == KMSAUTHZ_ALLOW means allowed.
 *
 * Thread safety: a handle is not thread-safe; use one handle per thread
 * or serialise every call on a handle yourself.  Different handles may be
 * used from different threads at once.  The functions that take no handle
 * (kmsauthz_strerror, kmsauthz_*_name, kmsauthz_default_socket,
 * kmsauthz_answer_free) are thread-safe.
 *
 * After a failure that leaves the connection in an unknown state
 * (timeout, I/O error, malformed answer, server ERROR, server closing),
 * the handle is broken: every later call on it returns KMSAUTHZ_EBROKEN
 * until kmsauthz_close().  Reconnect with a new handle.  KMSAUTHZ_ESTALE
 * from kmsauthz_check, kmsauthz_check_why or kmsauthz_check_batch
 * leaves the handle usable (the daemon keeps the connection open).
 */
#ifndef KMSAUTHZ_H
#define KMSAUTHZ_H

#include <stddef.h>
#include <stdint.h>

#include <kmsauthz-proto.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define KMSAUTHZ_EXPORT	__attribute__((__visibility__("default")))
#else
#define KMSAUTHZ_EXPORT
#endif

/** Error codes: 0 is success, failures are negative. */
enum kmsauthz_error {
	KMSAUTHZ_OK = 0,
	KMSAUTHZ_EINVAL = -1,	 /**< bad argument or request over a limit */
	KMSAUTHZ_ENOMEM = -2,	 /**< out of memory */
	KMSAUTHZ_ECONNECT = -3,	 /**< cannot connect to the socket */
	KMSAUTHZ_ETIMEDOUT = -4, /**< the deadline passed */
	KMSAUTHZ_EIO = -5,	 /**< read or write failed */
	KMSAUTHZ_ECLOSED = -6,	 /**< the daemon closed the connection */
	KMSAUTHZ_EPROTO = -7,	 /**< malformed frame or answer */
	KMSAUTHZ_EVERSION = -8,	 /**< no common protocol version */
	KMSAUTHZ_ETOOBIG = -9,	 /**< frame over the protocol limit */
	KMSAUTHZ_ESERVER = -10,	 /**< the daemon answered ERROR */
	KMSAUTHZ_EAGAIN = -11,	 /**< non-blocking: try again later */
	KMSAUTHZ_EBUSY = -12,	 /**< too many requests in flight */
	KMSAUTHZ_EBROKEN = -13,	 /**< handle broken by an earlier error */
	KMSAUTHZ_ESTALE = -14	 /**< minimum generation not reached: deny */
};
#define KMSAUTHZ_ERROR_MIN	(-14)

/** One context pair (both NUL-terminated). */
struct kmsauthz_context {
	const char	*key;
	const char	*value;
};

/**
 * A request.  Zero it, then fill what you need.  principal, action and
 * resource are NUL-terminated and required.  source_ip points at 4 (IPv4)
 * or 16 (IPv6) raw bytes in network order, or is NULL with
 * source_ip_len 0 (absent).  flags: KMSAUTHZ_CHECK_EXPLAIN asks for the
 * deciding statements, KMSAUTHZ_CHECK_TIME pins the decision time to
 * time_sec/time_nsec (seconds and nanoseconds since the epoch).
 */
struct kmsauthz_request {
	const char			*principal;
	const char			*action;
	const char			*resource;
	const uint8_t			*source_ip;
	size_t				 source_ip_len;
	const struct kmsauthz_context	*context;
	size_t				 ncontext;
	int64_t				 time_sec;
	uint32_t			 time_nsec;
	unsigned int			 flags;
};

/** A deciding statement. */
struct kmsauthz_statement {
	int		kind;		/**< KMSAUTHZ_SOURCE_KEY or _POLICY */
	/** "key/<KeyId>" or "policy/<PolicyName>" */
	char		source[KMSAUTHZ_MAX_SOURCE_NAME + 8];
	uint32_t	index;		/**< statement index in the document */
	int		has_sid;
	char		sid[KMSAUTHZ_MAX_SID + 1];
};

/**
 * An answer.  statements is allocated by the library (only when the
 * answer lists statements); release it with kmsauthz_answer_free().
 */
struct kmsauthz_answer {
	uint32_t			 request_id;
	int				 decision;	/**< enum kmsauthz_decision */
	int				 reason;	/**< enum kmsauthz_reason */
	uint64_t			 generation;
	int				 truncated;	/**< more than listed */
	size_t				 nstatements;
	struct kmsauthz_statement	*statements;
};

/**
 * An explanation (docs/semantics.md section 4.10, docs/protocol.md
 * "ANSWER extension"): each half of the decision and the rule that
 * combined them.  result: 0 NONE (nothing to read), 1 NO_MATCH, 2 ALLOW,
 * 3 DENY, 4 ROOT (an account root's identity).
 */
struct kmsauthz_half {
	int				 result;
	int				 truncated;
	size_t				 nstatements;
	struct kmsauthz_statement	*statements;	/**< that decided it */
};

/** A statement that nearly applied, with its first failing condition. */
struct kmsauthz_miss {
	int				 half;	/**< 0 identity, 1 key policy */
	int				 deny;	/**< a Deny statement */
	struct kmsauthz_statement	 statement;
	char				 why[KMSAUTHZ_MAX_WHY_TEXT + 1];
};

/**
 * rule: 1 invalid-request, 2 key-not-found, 3 explicit-deny-wins,
 * 4 same-account-either, 5 cross-account-both, 6 account-root.  Lists
 * are allocated by the library: release with kmsauthz_why_free().
 */
struct kmsauthz_why {
	int				 rule;
	struct kmsauthz_half		 identity;
	struct kmsauthz_half		 key_policy;
	int				 misses_truncated;
	size_t				 nmisses;
	struct kmsauthz_miss		*misses;
};

/** What STATUS reports. */
struct kmsauthz_status {
	uint64_t	generation;	/**< store generation being served */
	uint64_t	uptime_sec;
	uint64_t	checks;		/**< decisions answered */
	uint64_t	errors;		/**< ERROR frames sent */
	uint32_t	keys;
	uint32_t	aliases;
	uint32_t	policies;
	uint32_t	users;
	uint32_t	groups;
	uint32_t	roles;
	uint32_t	connections;	/**< open client connections */
	int		proto_version;
	char		version[KMSAUTHZ_MAX_VERSION_STRING + 1];
};

struct kmsauthz;

/**
 * The socket path used when kmsauthz_connect() gets NULL: $KMSAUTHZ_SOCKET
 * if set and non-empty, otherwise the compiled-in
 * "/run/kmsauthzd/query.sock" (the daemon's default, whatever the
 * installation prefix).
 */
KMSAUTHZ_EXPORT const char *kmsauthz_default_socket(void);

/**
 * Connects to path (NULL: kmsauthz_default_socket()) within timeout_ms
 * milliseconds (<= 0: no limit) and keeps timeout_ms as the handle's
 * deadline for every later blocking call.  Returns 0 and sets *hp, or a
 * negative code.  On KMSAUTHZ_ECONNECT errno keeps connect(2)'s reason:
 * ENOENT or ECONNREFUSED (no daemon listens there), EACCES (the caller
 * may not use the socket: query clients must be in its group).
 */
KMSAUTHZ_EXPORT int kmsauthz_connect(struct kmsauthz **hp, const char *path,
    int timeout_ms);
/** Closes the connection and frees the handle (NULL is allowed). */
KMSAUTHZ_EXPORT void kmsauthz_close(struct kmsauthz *h);
/** Changes the per-call deadline (milliseconds, <= 0: no limit). */
KMSAUTHZ_EXPORT int kmsauthz_set_timeout(struct kmsauthz *h, int timeout_ms);

/**
 * A consistency token: every check sent on h from now on (by any of the
 * check calls, and kmsauthz_submit) asks to be decided at generation
 * `generation` or later (0: no minimum, the default), e.g. the
 * generation of the answer to an admin change.  The daemon holds such a
 * check until it serves that generation, at most its
 * min_generation_wait_ms; then the call fails with KMSAUTHZ_ESTALE and
 * the answer reads IMPLICIT_DENY.  Set the handle's deadline above that
 * wait.  A daemon older than the extension answers ERROR PROTO
 * (KMSAUTHZ_ESERVER).
 */
KMSAUTHZ_EXPORT int kmsauthz_set_min_generation(struct kmsauthz *h,
    uint64_t generation);

/**
 * Negotiates the protocol version (HELLO); optional, since every frame
 * carries the version.  *versionp gets the version chosen (may be NULL).
 */
KMSAUTHZ_EXPORT int kmsauthz_hello(struct kmsauthz *h, int *versionp);
/** PING round trip. */
KMSAUTHZ_EXPORT int kmsauthz_ping(struct kmsauthz *h);
/** STATUS round trip. */
KMSAUTHZ_EXPORT int kmsauthz_status(struct kmsauthz *h,
    struct kmsauthz_status *st);

/**
 * Synchronous check: sends one CHECK and waits for its ANSWER.  Returns 0
 * with the whole answer, or a negative code with *ans zeroed (denied).
 */
KMSAUTHZ_EXPORT int kmsauthz_check(struct kmsauthz *h,
    const struct kmsauthz_request *req, struct kmsauthz_answer *ans);

/**
 * An explained check: kmsauthz_check with KMSAUTHZ_CHECK_EXPLAIN, and
 * *why filled with both halves and the combining rule; full: also up to
 * KMSAUTHZ_MAX_MISSES statements that nearly applied.  req->flags may
 * hold only EXPLAIN and TIME.  Returns 0, or a negative code with *ans
 * and *why zeroed (denied).  A daemon older than the extension answers
 * ERROR PROTO (KMSAUTHZ_ESERVER); an answer without the extension
 * leaves *why zeroed (rule 0: not explained).
 */
KMSAUTHZ_EXPORT int kmsauthz_check_why(struct kmsauthz *h,
    const struct kmsauthz_request *req, int full,
    struct kmsauthz_answer *ans, struct kmsauthz_why *why);
/** Frees what an explanation holds and zeroes it (NULL is allowed). */
KMSAUTHZ_EXPORT void kmsauthz_why_free(struct kmsauthz_why *why);

/**
 * Batch: n (1..KMSAUTHZ_MAX_BATCH) checks in one CHECK_BATCH frame,
 * answered by one BATCH_ANSWER; answers[i] answers reqs[i].  All or
 * nothing: on failure every answer is zeroed (denied).
 */
KMSAUTHZ_EXPORT int kmsauthz_check_batch(struct kmsauthz *h,
    const struct kmsauthz_request *reqs, size_t n,
    struct kmsauthz_answer *answers);

/**
 * Pipelined: n checks sent as separate CHECK frames, up to `window` in
 * flight at once (0: a default of 64), answers matched by request id;
 * answers[i] answers reqs[i].  All or nothing like kmsauthz_check_batch.
 */
KMSAUTHZ_EXPORT int kmsauthz_check_pipelined(struct kmsauthz *h,
    const struct kmsauthz_request *reqs, size_t n, size_t window,
    struct kmsauthz_answer *answers);

/*
 * Non-blocking API for event-driven callers.  Watch kmsauthz_fd() for
 * readability, and for writability while kmsauthz_want_write() is 1.
 * kmsauthz_submit() queues a CHECK and writes what the socket takes;
 * kmsauthz_flush() writes more when the fd is writable;
 * kmsauthz_collect() reads what is there and returns complete answers.
 * Do not mix with the blocking calls while requests are in flight
 * (those return KMSAUTHZ_EBUSY then).  The deadline does not apply.
 */
/** The connection's descriptor (non-blocking; do not read or close it). */
KMSAUTHZ_EXPORT int kmsauthz_fd(const struct kmsauthz *h);
/**
 * Queues one CHECK; *idp (may be NULL) gets its request id, which the
 * answer carries.  At most KMSAUTHZ_MAX_INFLIGHT in flight (else
 * KMSAUTHZ_EBUSY).
 */
KMSAUTHZ_EXPORT int kmsauthz_submit(struct kmsauthz *h,
    const struct kmsauthz_request *req, uint32_t *idp);
/** Writes queued bytes: 0 when all written, KMSAUTHZ_EAGAIN if not. */
KMSAUTHZ_EXPORT int kmsauthz_flush(struct kmsauthz *h);
/** 1 while queued bytes wait for the socket to become writable. */
KMSAUTHZ_EXPORT int kmsauthz_want_write(const struct kmsauthz *h);
/** Number of submitted checks not yet collected. */
KMSAUTHZ_EXPORT size_t kmsauthz_inflight(const struct kmsauthz *h);
/**
 * Reads without blocking and stores up to max complete answers in
 * answers, *np of them.  Returns 0 (possibly *np == 0) or a negative
 * code.  On failure the *np answers stored before it are still whole
 * answers, and every check still in flight is lost (treat as denied).
 * When *np == max, more answers may already be buffered inside the
 * handle: call again before waiting on the descriptor.
 */
KMSAUTHZ_EXPORT int kmsauthz_collect(struct kmsauthz *h,
    struct kmsauthz_answer *answers, size_t max, size_t *np);
#define KMSAUTHZ_MAX_INFLIGHT	4096

/** Frees what an answer holds and zeroes it (NULL is allowed). */
KMSAUTHZ_EXPORT void kmsauthz_answer_free(struct kmsauthz_answer *ans);

/** For the last KMSAUTHZ_ESERVER: the wire error code and message. */
KMSAUTHZ_EXPORT int kmsauthz_server_error(const struct kmsauthz *h,
    const char **messagep);

/** A static English text for an error code. */
KMSAUTHZ_EXPORT const char *kmsauthz_strerror(int err);
/** "ALLOW", "EXPLICIT_DENY", "IMPLICIT_DENY" (anything else: NULL). */
KMSAUTHZ_EXPORT const char *kmsauthz_decision_name(int decision);
/** The reason's name of docs/semantics.md section 4, e.g.
 * "explicit-deny" (REASON_NONE or unknown: NULL). */
KMSAUTHZ_EXPORT const char *kmsauthz_reason_name(int reason);

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: ISC */
/*
 * eval.h: the decision of docs/semantics.md section 4 over a compiled
 * world.
 *
 * Pure C.  eval_decide allocates nothing and takes no lock; its cost
 * depends on the request and on the policies that concern it (the
 * principal's attached policies and the key's policy), never on the
 * number of keys, principals or policies in the world: keys, aliases,
 * principals and policies are found by hashed lookups in the world.
 */
#ifndef KMSAUTHZ_EVAL_H
#define KMSAUTHZ_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/value.h"

struct world;

/* The three decisions; IMPLICIT_DENY is 0 so a zeroed answer denies. */
enum eval_decision {
	EVAL_IMPLICIT_DENY = 0,
	EVAL_ALLOW,
	EVAL_EXPLICIT_DENY
};

/* Reasons, in the order of section 4's list. */
enum eval_reason {
	EVAL_R_ALLOWED_BY_IDENTITY_POLICY = 0,	/* allowed-by-identity-policy */
	EVAL_R_ALLOWED_BY_KEY_POLICY,		/* allowed-by-key-policy */
	EVAL_R_ALLOWED_BY_BOTH,			/* allowed-by-both */
	EVAL_R_ALLOWED_AS_ACCOUNT_ROOT,		/* allowed-as-account-root */
	EVAL_R_EXPLICIT_DENY,			/* explicit-deny */
	EVAL_R_NO_MATCHING_ALLOW,		/* no-matching-allow */
	EVAL_R_CROSS_ACCOUNT_NEEDS_IDENTITY_ALLOW,
	EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW,
	EVAL_R_KEY_NOT_FOUND,			/* key-not-found */
	EVAL_R_INVALID_REQUEST			/* invalid-request */
};
#define EVAL_R_COUNT	10

/* "ALLOW", "EXPLICIT_DENY", "IMPLICIT_DENY"; reason codes as in
 * section 4 ("allowed-by-identity-policy", ...).  NULL when out of
 * range. */
const char	*eval_decision_name(enum eval_decision);
const char	*eval_reason_name(enum eval_reason);
/* Exact names back to values: 0 on success, -1 when unknown. */
int	eval_decision_parse(const char *, size_t, enum eval_decision *);
int	eval_reason_parse(const char *, size_t, enum eval_reason *);

/* One context entry (e.g. "acs:SecureTransport" = "true"). */
struct eval_ctx {
	const char	*key;
	size_t		 keylen;
	const char	*value;
	size_t		 valuelen;
};

/* At most this many context entries; more make the request invalid. */
#define EVAL_MAX_CONTEXT	64

/*
 * A request.  Strings are (pointer, length), no NUL needed; they must
 * stay valid for the duration of eval_decide only.
 *  - principal: acs:ram::ACCOUNT:root | user/NAME | role/NAME;
 *  - source_ip: used when has_source_ip (it wins over a context
 *    acs:SourceIp, which is then ignored); without it a context
 *    acs:SourceIp is the address, and one that is not an address makes
 *    the request invalid;
 *  - ctx: the caller's context entries; entries named acs:SourceIp (when
 *    has_source_ip), acs:CurrentTime, kms:tag/... and acs:ResourceTag/...
 *    are ignored; two entries whose names are equal ignoring ASCII case
 *    make the request invalid;
 *  - now: the value of acs:CurrentTime (the daemon passes its clock, a
 *    simulation the pinned time); always set;
 *  - explain: fill the answer's matched statements.
 */
struct eval_request {
	const char		*principal;
	size_t			 principal_len;
	const char		*action;
	size_t			 action_len;
	const char		*resource;
	size_t			 resource_len;
	int			 has_source_ip;
	struct value_ip		 source_ip;
	const struct eval_ctx	*ctx;
	size_t			 nctx;
	struct value_time	 now;
	int			 explain;
};

enum eval_source {
	EVAL_SRC_POLICY = 0,	/* "policy/<name>": an identity policy */
	EVAL_SRC_KEY		/* "key/<key id>": a key policy */
};

/*
 * A deciding statement.  name and sid point into the world the decision
 * was made on and stay valid while the caller holds a reference on it.
 * sid is NULL when the statement has none.
 */
struct eval_match {
	enum eval_source	 source;
	const char		*name;		/* policy name or key id */
	size_t			 namelen;
	uint32_t		 index;		/* statement index */
	const char		*sid;
	size_t			 sidlen;
};

#define EVAL_MAX_MATCHED	32

struct eval_answer {
	enum eval_decision	 decision;
	enum eval_reason	 reason;
	uint64_t		 generation;	/* the world's */
	size_t			 nmatched;
	int			 truncated;	/* more than EVAL_MAX_MATCHED */
	struct eval_match	 matched[EVAL_MAX_MATCHED];
};

/*
 * The explanation of docs/semantics.md section 4.10: both halves of the
 * decision apart, and the rule that combined them.
 */
enum eval_result {
	EVAL_RES_NONE = 0,	/* nothing to read (no key policy, not decided) */
	EVAL_RES_NO_MATCH,	/* policies read, no statement applied */
	EVAL_RES_ALLOW,		/* an Allow applied, no Deny */
	EVAL_RES_DENY,		/* a Deny applied */
	EVAL_RES_ROOT		/* identity of an account root: every permission */
};
#define EVAL_RES_COUNT	5

enum eval_rule {
	EVAL_RULE_INVALID = 0,		/* invalid-request: nothing read */
	EVAL_RULE_KEY_NOT_FOUND,	/* decided before any policy */
	EVAL_RULE_EXPLICIT_DENY,	/* a Deny in either half wins */
	EVAL_RULE_SAME_ACCOUNT,		/* either half allowing is enough */
	EVAL_RULE_CROSS_ACCOUNT,	/* both halves must allow */
	EVAL_RULE_ACCOUNT_ROOT		/* a root in its own account */
};
#define EVAL_RULE_COUNT	6

/* One half: its result and the statements that gave it (the Denies of
 * DENY, the Allows of ALLOW, none otherwise). */
struct eval_half_why {
	enum eval_result	 result;
	size_t			 n;
	int			 truncated;
	struct eval_match	 stmt[EVAL_MAX_MATCHED];
};

#define EVAL_HALF_IDENTITY	0
#define EVAL_HALF_KEY		1
#define EVAL_MAX_MISSES		8
#define EVAL_MAX_WHY		256	/* CPOLICY_MAX_WHY */

/* A statement that nearly applied: all but a condition matched. */
struct eval_miss {
	int			 half;		/* EVAL_HALF_* */
	int			 deny;		/* its effect is Deny */
	struct eval_match	 stmt;
	char			 why[EVAL_MAX_WHY];	/* first failing one */
};

struct eval_why {
	enum eval_rule		 rule;
	struct eval_half_why	 half[2];
	size_t			 nmisses;
	int			 misses_truncated;
	struct eval_miss	 miss[EVAL_MAX_MISSES];
};

/* Names: "NONE", "NO_MATCH", "ALLOW", "DENY", "ROOT"; rules
 * "invalid-request", "key-not-found", "explicit-deny-wins",
 * "same-account-either", "cross-account-both", "account-root".  NULL out
 * of range; parse: 0 or -1. */
const char	*eval_result_name(enum eval_result);
const char	*eval_rule_name(enum eval_rule);
int	eval_result_parse(const char *, size_t, enum eval_result *);
int	eval_rule_parse(const char *, size_t, enum eval_rule *);

/*
 * Decide.  Always fills *answer (fail closed: anything unexpected is an
 * IMPLICIT_DENY) and returns 0; an unusable request (bad principal ARN,
 * too many or duplicate context entries, a context acs:SourceIp that is
 * not an address, NULL pointers) is answered IMPLICIT_DENY with
 * EVAL_R_INVALID_REQUEST.  Every acs:kms:REGION:ACCOUNT:key/... resource
 * that is not a stored key of that region and account is
 * EVAL_R_KEY_NOT_FOUND.  Matched statements are
 * filled only when req->explain, in the order of docs/semantics.md.
 * No allocation, no lock: any number of threads may decide on one world
 * at once.
 */
int	eval_decide(const struct world *, const struct eval_request *,
	    struct eval_answer *);

/*
 * eval_decide with an explanation (docs/semantics.md section 4.10): the
 * same decision and the same answer as eval_decide with explain set,
 * and *why filled: each half's result and deciding statements, the
 * rule that combined them and, when full, up to EVAL_MAX_MISSES
 * statements that nearly applied with their first failing condition.
 * Also no allocation and no lock.
 */
int	eval_decide_why(const struct world *, const struct eval_request *,
	    struct eval_answer *, struct eval_why *, int full);

/*
 * For analysis and explanations (never on the decision path).
 * eval_foreach_identity_image calls cb with every identity policy image
 * of principal (its own, then each group's, section 4.3) and the
 * policy's name: 0, or -1 when principal is not valid.
 * eval_resource_key: 1 with *key when resource names a stored key (or a
 * registered alias of one), 0 for an ordinary resource, -1 for a key
 * that is not found or a resource that is not valid.
 */
struct cpolicy_image;
struct world_key;
int	eval_foreach_identity_image(const struct world *, const char *,
	    size_t, void (*)(const struct cpolicy_image *, const char *,
	    size_t, void *), void *);
int	eval_resource_key(const struct world *, const char *, size_t,
	    struct world_key *);

/*
 * 0 when s is a valid request principal ARN (docs/semantics.md), -1
 * otherwise; callers that must report invalid-request themselves (a
 * front end rejecting a line) may use it.
 */
int	eval_principal_valid(const char *, size_t);
/* 0 when s is a request resource: an acs: ARN or "*"; -1 otherwise. */
int	eval_resource_valid(const char *, size_t);

#endif

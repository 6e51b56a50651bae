/* SPDX-License-Identifier: ISC */
/*
 * cpolicy.h: compiled policies.  A compiled policy is immutable once
 * finished, reference counted (atomically: worlds share it) and holds
 * its statements with precompiled globs and parsed condition values.
 *
 * Pure C.  src/policy/policy-compile.c builds one from a validated
 * json-c tree through the builder below; the engine evaluates it.
 */
#ifndef KMSAUTHZ_CPOLICY_H
#define KMSAUTHZ_CPOLICY_H

#include <stddef.h>
#include <stdint.h>

#include "engine/value.h"

struct cpolicy;

enum cpolicy_kind {
	CPOLICY_KEY = 0,	/* a key policy: Principal, Resource "*" */
	CPOLICY_RAM		/* an identity policy */
};

enum cpolicy_effect {
	CPOLICY_ALLOW = 0,
	CPOLICY_DENY
};

/* The condition operators of section 3. */
enum cpolicy_op {
	CPOLICY_OP_STRING_EQUALS = 0,
	CPOLICY_OP_STRING_NOT_EQUALS,
	CPOLICY_OP_STRING_EQUALS_IGNORE_CASE,
	CPOLICY_OP_STRING_NOT_EQUALS_IGNORE_CASE,
	CPOLICY_OP_STRING_LIKE,
	CPOLICY_OP_STRING_NOT_LIKE,
	CPOLICY_OP_NUMERIC_EQUALS,
	CPOLICY_OP_NUMERIC_NOT_EQUALS,
	CPOLICY_OP_NUMERIC_LESS_THAN,
	CPOLICY_OP_NUMERIC_LESS_THAN_EQUALS,
	CPOLICY_OP_NUMERIC_GREATER_THAN,
	CPOLICY_OP_NUMERIC_GREATER_THAN_EQUALS,
	CPOLICY_OP_DATE_EQUALS,
	CPOLICY_OP_DATE_NOT_EQUALS,
	CPOLICY_OP_DATE_LESS_THAN,
	CPOLICY_OP_DATE_LESS_THAN_EQUALS,
	CPOLICY_OP_DATE_GREATER_THAN,
	CPOLICY_OP_DATE_GREATER_THAN_EQUALS,
	CPOLICY_OP_BOOL,
	CPOLICY_OP_IP_ADDRESS,
	CPOLICY_OP_NOT_IP_ADDRESS
};
#define CPOLICY_OP_COUNT	21

/* Operator names ("StringEquals", ...), exact: 0 or -1. */
int		 cpolicy_op_parse(const char *, size_t, enum cpolicy_op *);
const char	*cpolicy_op_name(enum cpolicy_op);

/*
 * Builder.  cpolicy_new returns an empty policy (one reference) or NULL.
 * cpolicy_add_stmt starts a statement; the stmt_* calls add to the
 * statement last started, cond_value to the condition last started.
 * Strings are copied.  Each returns 0, or -1 (ENOMEM; EINVAL when called
 * out of order or when a condition value cannot be read as its
 * operator's type).  cpolicy_finish makes the policy immutable (0/-1);
 * only a finished policy may be evaluated or put into a world.
 *  - actions are matched ASCII-case-insensitively; negated: NotAction;
 *  - resources: negated: NotResource; in a key policy every resource is
 *    "*" and means "this key";
 *  - principal patterns: acs:ram::UID:root is rewritten to
 *    acs:ram::UID:* (section 2).
 */
struct cpolicy	*cpolicy_new(enum cpolicy_kind);
int	cpolicy_add_stmt(struct cpolicy *, enum cpolicy_effect,
	    const char *sid, size_t sidlen);	/* sid NULL: none */
int	cpolicy_stmt_action(struct cpolicy *, int negated, const char *,
	    size_t);
int	cpolicy_stmt_resource(struct cpolicy *, int negated, const char *,
	    size_t);
int	cpolicy_stmt_principal(struct cpolicy *, const char *, size_t);
int	cpolicy_stmt_cond(struct cpolicy *, enum cpolicy_op, const char *key,
	    size_t keylen);
int	cpolicy_cond_value(struct cpolicy *, const char *, size_t);
int	cpolicy_finish(struct cpolicy *);

struct cpolicy	*cpolicy_ref(const struct cpolicy *);
void		 cpolicy_unref(const struct cpolicy *);
enum cpolicy_kind cpolicy_kind(const struct cpolicy *);
size_t		 cpolicy_nstmts(const struct cpolicy *);
/* Statement i's Sid (NULL when none) and effect. */
const char	*cpolicy_stmt_sid(const struct cpolicy *, size_t i,
	    size_t *lenp);
enum cpolicy_effect cpolicy_stmt_effect(const struct cpolicy *, size_t i);

/*
 * Share quota (section 5): calls cb once per distinct account part
 * (the fourth ':' field, as written, non-empty) of the principal
 * patterns of the Allow statements that differs from own_account.
 * Patterns are those written (before the root rewrite).  On a finished
 * policy the accounts come shorter first, then in bytewise order, and
 * the call is O(distinct accounts).  Returns 0, or the first non-zero
 * value cb returned.
 */
int	cpolicy_foreign_accounts(const struct cpolicy *, const char *own,
	    int (*cb)(const char *, size_t, void *), void *arg);

/*
 * Evaluation (engine-internal, used by eval.c).  A statement applies
 * when its action, resource, principal and conditions all match.
 */
struct world_tag;

struct cpolicy_req {
	const char		*principal;
	size_t			 principal_len;
	const char		*action;
	size_t			 action_len;
	const char		*resource;	/* ignored for key policies */
	size_t			 resource_len;
	const struct value_ip	*source_ip;	/* NULL: absent */
	const struct value_time	*now;
	const void		*ctx;		/* struct eval_ctx[] */
	size_t			 nctx;
	const struct world_tag	*tags;		/* the key's, or NULL */
	size_t			 ntags;
	uint32_t		 action_id;	/* cpolicy_action_id(action) */
};

/*
 * The index of action among the known KMS actions (ASCII case ignored),
 * 1-based; 0 when it is not one of them.  With a non-zero action_id,
 * cpolicy_eval tests each statement's precomputed action bit set instead
 * of matching its Action/NotAction globs (the same answer, by
 * construction); 0 always takes the globs.
 */
uint32_t	cpolicy_action_id(const char *, size_t);
/* The known action of that id ("kms:Encrypt"), NULL beyond the last. */
const char	*cpolicy_action_name(uint32_t);

/*
 * Calls cb(index, effect, arg) for every applying statement, in index
 * order; stops early when cb returns non-zero.  Returns a bit set:
 * 1 an Allow applied, 2 a Deny applied.
 */
typedef int (*cpolicy_match_cb)(uint32_t, enum cpolicy_effect, void *);
unsigned	cpolicy_eval(const struct cpolicy *, const struct cpolicy_req *,
	    cpolicy_match_cb, void *);

/*
 * A finished policy's evaluation image: one block holding its
 * statements (with their action bit sets), globs and conditions, owned
 * by the policy (valid while it is).  Worlds keep the image pointer next
 * to the policy's so that a decision reads the block directly.
 * cpolicy_image is NULL for an unfinished policy (or NULL);
 * cpolicy_image_eval is cpolicy_eval on it (0 for NULL).
 */
struct cpolicy_image;
const struct cpolicy_image *cpolicy_image(const struct cpolicy *);
const struct cpolicy	*cpolicy_image_policy(const struct cpolicy_image *);
unsigned	cpolicy_image_eval(const struct cpolicy_image *,
	    const struct cpolicy_req *, cpolicy_match_cb, void *);

/*
 * Explanations: calls cb(index, effect, why, arg) for every statement
 * whose action and principal (key policy) or resource (identity policy)
 * match the request but whose conditions do not all hold; why is its
 * first failing condition, e.g. "acs:SourceIp 198.51.100.7 not in
 * 192.0.2.0/24" or "kms:tag/Env missing" (a NUL-terminated text of at
 * most CPOLICY_MAX_WHY bytes, valid during the call).  Stops when cb
 * returns non-zero; returns the number of calls.  Slow path only.
 */
#define CPOLICY_MAX_WHY	256
typedef int (*cpolicy_miss_cb)(uint32_t, enum cpolicy_effect, const char *,
    void *);
unsigned	cpolicy_image_misses(const struct cpolicy_image *,
	    const struct cpolicy_req *, cpolicy_miss_cb, void *);

/*
 * Analysis (src/engine/analyze.c).  cpolicy_image_witnesses calls cb
 * with witness values for the conditions, read from the request, of
 * every statement whose target (principal of a key policy, resource of
 * an identity policy) and, unless any_action, action match rq: for each
 * such condition key, values that put the request on each side of every
 * condition value (docs/analysis.md); value NULL stands for "absent".
 * Tag conditions (the key's) have none.
 */
enum cpolicy_wkind {
	CPOLICY_WK_SOURCE_IP = 0,	/* the request's address */
	CPOLICY_WK_TIME,		/* acs:CurrentTime */
	CPOLICY_WK_CONTEXT		/* a context entry */
};
/* Or'ed into a CONTEXT witness that is an instance of a StringLike
 * pattern (two such may be joined to meet two patterns at once). */
#define CPOLICY_WK_PATTERN	0x10
typedef void (*cpolicy_witness_cb)(int, const char *key, size_t,
    const char *value, size_t, void *);
/* stmt_cb (may be NULL) gets each statement's set of known actions
 * (cpolicy_action_id - 1 as a bit of two words) before its witnesses. */
void	cpolicy_image_witnesses(const struct cpolicy_image *,
	    const struct cpolicy_req *, int any_action, cpolicy_witness_cb,
	    void (*stmt_cb)(const uint64_t *, void *), void *);
/* Statement index's conditions read from the request, as text
 * ("IpAddress acs:SourceIp 192.0.2.0/24"). */
void	cpolicy_image_cond_texts(const struct cpolicy_image *, uint32_t,
	    void (*)(const char *, void *), void *);
/* Statement index's principal (key policy) or resource patterns, as
 * compiled (acs:ram::UID:root as acs:ram::UID:*), and whether negated. */
void	cpolicy_image_patterns(const struct cpolicy_image *, uint32_t,
	    void (*)(const char *, size_t, int, void *), void *);
size_t	cpolicy_image_nstmts(const struct cpolicy_image *);
int	cpolicy_image_stmt_deny(const struct cpolicy_image *, uint32_t);

#endif

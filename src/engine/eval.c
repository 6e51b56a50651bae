/* SPDX-License-Identifier: ISC */
/*
 * eval.c: the decision of docs/semantics.md section 4.
 *
 * Everything is found by hashed lookups in the world (the key by id, an
 * alias by region, account and name, the principal by account and name,
 * each attached policy by account and name), so the cost of a decision
 * does not depend on the size of the world.  Nothing is allocated: the
 * deciding statements are gathered in fixed arrays on the stack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/cpolicy.h"
#include "engine/eval.h"
#include "engine/glob.h"
#include "engine/value.h"
#include "engine/world.h"

/*
 * The steps of a decision are inlined into both eval_decide and the
 * explained decision, whatever the compiler would choose for a function
 * used twice, so that a decision without explanation calls nothing more
 * than it did before explanations existed.
 */
#define EVAL_INLINE	static inline __attribute__((__always_inline__))

static const char *const eval_decision_names[] = {
	"IMPLICIT_DENY", "ALLOW", "EXPLICIT_DENY"
};

static const char *const eval_reason_names[EVAL_R_COUNT] = {
	"allowed-by-identity-policy",
	"allowed-by-key-policy",
	"allowed-by-both",
	"allowed-as-account-root",
	"explicit-deny",
	"no-matching-allow",
	"cross-account-needs-identity-allow",
	"cross-account-needs-key-policy-allow",
	"key-not-found",
	"invalid-request"
};

static const char *const eval_result_names[EVAL_RES_COUNT] = {
	"NONE", "NO_MATCH", "ALLOW", "DENY", "ROOT"
};

static const char *const eval_rule_names[EVAL_RULE_COUNT] = {
	"invalid-request",
	"key-not-found",
	"explicit-deny-wins",
	"same-account-either",
	"cross-account-both",
	"account-root"
};

/* The statements gathered while deciding, split by effect. */
struct eval_gather {
	struct eval_match	 allow[EVAL_MAX_MATCHED];
	struct eval_match	 deny[EVAL_MAX_MATCHED];
	size_t			 nallow;
	size_t			 ndeny;
	int			 allow_trunc;
	int			 deny_trunc;
	/* the policy being evaluated */
	enum eval_source	 source;
	const char		*name;
	size_t			 namelen;
	const struct cpolicy_image *img;
	int			 explain;
	unsigned		 bits;
};

static int	eval_gather_cb(uint32_t, enum cpolicy_effect, void *);
static void	eval_run(struct eval_gather *, const struct cpolicy_image *,
		    const struct cpolicy_req *, enum eval_source,
		    const char *, size_t);
static void	eval_principal_policies(const struct world *,
		    const struct world_principal *, const char *, size_t,
		    struct eval_gather *, const struct cpolicy_req *);
static void	eval_finish(struct eval_answer *, enum eval_decision,
		    enum eval_reason);

const char *
eval_decision_name(enum eval_decision d)
{
	if ((unsigned)d > EVAL_EXPLICIT_DENY)
		return (NULL);
	return (eval_decision_names[d]);
}

const char *
eval_reason_name(enum eval_reason r)
{
	if ((unsigned)r >= EVAL_R_COUNT)
		return (NULL);
	return (eval_reason_names[r]);
}

int
eval_decision_parse(const char *s, size_t len, enum eval_decision *out)
{
	unsigned	i;

	for (i = 0; i <= EVAL_EXPLICIT_DENY; i++)
		if (strlen(eval_decision_names[i]) == len &&
		    memcmp(eval_decision_names[i], s, len) == 0) {
			*out = (enum eval_decision)i;
			return (0);
		}
	return (-1);
}

int
eval_reason_parse(const char *s, size_t len, enum eval_reason *out)
{
	unsigned	i;

	for (i = 0; i < EVAL_R_COUNT; i++)
		if (strlen(eval_reason_names[i]) == len &&
		    memcmp(eval_reason_names[i], s, len) == 0) {
			*out = (enum eval_reason)i;
			return (0);
		}
	return (-1);
}

const char *
eval_result_name(enum eval_result r)
{
	if ((unsigned)r >= EVAL_RES_COUNT)
		return (NULL);
	return (eval_result_names[r]);
}

const char *
eval_rule_name(enum eval_rule r)
{
	if ((unsigned)r >= EVAL_RULE_COUNT)
		return (NULL);
	return (eval_rule_names[r]);
}

static int
eval_name_parse(const char *const *names, unsigned n, const char *s,
    size_t len)
{
	unsigned	i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return ((int)i);
	return (-1);
}

int
eval_result_parse(const char *s, size_t len, enum eval_result *out)
{
	int	i;

	if ((i = eval_name_parse(eval_result_names, EVAL_RES_COUNT, s,
	    len)) == -1)
		return (-1);
	*out = (enum eval_result)i;
	return (0);
}

int
eval_rule_parse(const char *s, size_t len, enum eval_rule *out)
{
	int	i;

	if ((i = eval_name_parse(eval_rule_names, EVAL_RULE_COUNT, s,
	    len)) == -1)
		return (-1);
	*out = (enum eval_rule)i;
	return (0);
}

/*
 * acs:ram::ACCOUNT:root | user/NAME | role/NAME, ACCOUNT all digits,
 * NAME non-empty.
 */
/* 1 when the n bytes at s are all ASCII digits: eight at a time. */
static inline int
eval_digits(const char *s, size_t n)
{
	uint64_t	x;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&x, s, 8);
		/* A byte below '0' borrows, one above '9' carries into its
		 * top bit; either leaves a top bit set. */
		if (((x - 0x3030303030303030ULL) |
		    (x + 0x4646464646464646ULL)) & 0x8080808080808080ULL)
			return (0);
	}
	for (; n > 0; s++, n--)
		if (*s < '0' || *s > '9')
			return (0);
	return (1);
}

int
eval_principal_valid(const char *s, size_t len)
{
	const char	*c;
	size_t		 i;

	if (s == NULL || len < 9 || memcmp(s, "acs:ram::", 9) != 0 ||
	    (c = memchr(s + 9, ':', len - 9)) == NULL)
		return (-1);
	i = (size_t)(c - s);
	if (i == 9 || !eval_digits(s + 9, i - 9))
		return (-1);
	i++;
	if (len - i == 4 && memcmp(s + i, "root", 4) == 0)
		return (0);
	if (len - i > 5 && (memcmp(s + i, "user/", 5) == 0 ||
	    memcmp(s + i, "role/", 5) == 0))
		return (0);
	return (-1);
}

/*
 * A request's resource is an ARN, "acs:" then its fields (the prefix in
 * any case: ACS:KMS:... is a resource that matches nothing, and one with
 * fewer fields has an empty account, docs/semantics.md), or "*" for an
 * action that names no resource.  A bare KeyId or alias is no resource:
 * invalid-request, never a decision about "key-...".
 */
int
eval_resource_valid(const char *s, size_t len)
{
	if (s == NULL || len == 0)
		return (-1);
	if (len == 1 && s[0] == '*')
		return (0);
	if (len < 4 || (s[0] | 0x20) != 'a' || (s[1] | 0x20) != 'c' ||
	    (s[2] | 0x20) != 's' || s[3] != ':')
		return (-1);
	return (0);
}

static int
eval_gather_cb(uint32_t index, enum cpolicy_effect effect, void *arg)
{
	struct eval_gather	*g = arg;
	struct eval_match	*m, *v;
	size_t			*n, i;
	int			*trunc;

	g->bits |= effect == CPOLICY_ALLOW ? 1 : 2;
	if (!g->explain)
		return (effect == CPOLICY_DENY);	/* a Deny settles it */
	if (effect == CPOLICY_ALLOW) {
		v = g->allow;
		n = &g->nallow;
		trunc = &g->allow_trunc;
	} else {
		v = g->deny;
		n = &g->ndeny;
		trunc = &g->deny_trunc;
	}
	/* A policy attached twice (own and through a group) is listed
	 * once. */
	for (i = 0; i < *n; i++)
		if (v[i].source == g->source && v[i].index == index &&
		    v[i].namelen == g->namelen &&
		    memcmp(v[i].name, g->name, g->namelen) == 0)
			return (0);
	if (*n == EVAL_MAX_MATCHED) {
		*trunc = 1;
		return (0);
	}
	m = &v[(*n)++];
	m->source = g->source;
	m->name = g->name;
	m->namelen = g->namelen;
	m->index = index;
	m->sid = cpolicy_stmt_sid(cpolicy_image_policy(g->img), index,
	    &m->sidlen);
	return (0);
}

static void
eval_run(struct eval_gather *g, const struct cpolicy_image *img,
    const struct cpolicy_req *rq, enum eval_source source, const char *name,
    size_t namelen)
{
	if (img == NULL)
		return;
	g->source = source;
	g->name = name;
	g->namelen = namelen;
	g->img = img;
	(void)cpolicy_image_eval(img, rq, eval_gather_cb, g);
}

/* A principal's (or group's) attached policies, in its account. */
static void
eval_principal_policies(const struct world *w,
    const struct world_principal *pr, const char *acct, size_t acctlen,
    struct eval_gather *g, const struct cpolicy_req *rq)
{
	struct world_policy	pol;
	size_t			i;

	for (i = 0; i < pr->npolicies; i++) {
		if (world_get_policy(w, acct, acctlen, pr->policies[i],
		    strlen(pr->policies[i]), &pol) == -1)
			continue;
		eval_run(g, pol.image, rq, EVAL_SRC_POLICY, pol.name,
		    strlen(pol.name));
	}
}

static void
eval_finish(struct eval_answer *a, enum eval_decision d, enum eval_reason r)
{
	a->decision = d;
	a->reason = r;
}

/* Split off the next ':' field of [*p, end). */
static const char *
eval_field(const char **p, const char *end, size_t *lenp)
{
	const char	*s = *p, *c;

	if (s == NULL)
		return (NULL);
	if ((c = memchr(s, ':', (size_t)(end - s))) == NULL) {
		*lenp = (size_t)(end - s);
		*p = NULL;
		return (s);
	}
	*lenp = (size_t)(c - s);
	*p = c + 1;
	return (s);
}

/*
 * The request's parts the decision reads: the principal's account and
 * name (kind), the resource's region, account and what follows them.
 */
struct eval_parts {
	const char	*pacct, *pname;
	size_t		 pacctlen, pnamelen;
	int		 is_root, is_user;
	const char	*region, *racct, *rest;
	size_t		 regionlen, racctlen, restlen;
};

/* One half of the decision: what its policies said (section 4.3-4.4). */
enum eval_half {
	EVAL_HALF_NO_MATCH = 0,	/* no applying statement */
	EVAL_HALF_ALLOW,	/* an applying Allow, no Deny */
	EVAL_HALF_DENY		/* an applying Deny */
};

/* What the resource names (section 4.1-4.2). */
enum eval_target {
	EVAL_TARGET_NONE = 0,	/* an ordinary resource: no key policy */
	EVAL_TARGET_KEY,	/* a stored key, itself or by its alias */
	EVAL_TARGET_NOT_FOUND	/* a key ARN no stored key answers */
};

/*
 * Section 4.7: the request is one the model can decide.  0, or -1 for
 * invalid-request.
 */
EVAL_INLINE int
eval_request_check(const struct eval_request *req)
{
	const struct eval_ctx	*ctx = req->ctx;
	struct value_ip		 ip;
	size_t			 i, j, n;

	if (req->action == NULL ||
	    eval_resource_valid(req->resource, req->resource_len) == -1 ||
	    eval_principal_valid(req->principal, req->principal_len) == -1 ||
	    req->nctx > EVAL_MAX_CONTEXT || (req->nctx > 0 && ctx == NULL))
		return (-1);
	for (i = 0; i < req->nctx; i++) {
		if (ctx[i].key == NULL || ctx[i].value == NULL)
			return (-1);
		for (j = 0; j < i; j++) {
			if (ctx[i].keylen != ctx[j].keylen)
				continue;
			for (n = 0; n < ctx[i].keylen; n++)
				if (glob_lower[(unsigned char)ctx[i].key[n]] !=
				    glob_lower[(unsigned char)ctx[j].key[n]])
					break;
			if (n == ctx[i].keylen)
				return (-1);	/* duplicate name */
		}
		/*
		 * Without a request address a context acs:SourceIp is the
		 * source IP: one that is not an address makes the request
		 * invalid (as a bad SourceIp does), rather than every IP
		 * operator false, which would lift a NotIpAddress Deny.
		 */
		if (!req->has_source_ip && ctx[i].keylen == 12) {
			for (n = 0; n < 12; n++)
				if (glob_lower[(unsigned char)ctx[i].key[n]] !=
				    (unsigned char)"acs:sourceip"[n])
					break;
			if (n == 12 && value_ip_parse(ctx[i].value,
			    ctx[i].valuelen, 0, &ip) == -1)
				return (-1);
		}
	}
	return (0);
}

/* A checked request's principal and resource, split (section 2.3-2.4). */
EVAL_INLINE void
eval_split(const struct eval_request *req, struct eval_parts *pt)
{
	const char	*p, *end, *f;
	size_t		 flen;

	/* acs:ram::ACCOUNT:root | user/NAME | role/NAME (checked). */
	pt->pacct = req->principal + 9;
	pt->pacctlen = (size_t)((const char *)memchr(pt->pacct, ':',
	    req->principal_len - 9) - pt->pacct);
	p = pt->pacct + pt->pacctlen + 1;
	pt->is_root = (size_t)(req->principal + req->principal_len - p) == 4;
	pt->is_user = !pt->is_root && memcmp(p, "user/", 5) == 0;
	pt->pname = pt->is_root ? NULL : p + 5;
	pt->pnamelen = pt->is_root ? 0 :
	    (size_t)(req->principal + req->principal_len - pt->pname);

	/* acs:SERVICE:REGION:ACCOUNT:REST; REST only for acs:kms:. */
	pt->regionlen = pt->racctlen = 0;
	p = req->resource;
	end = req->resource + req->resource_len;
	(void)eval_field(&p, end, &flen);			/* acs */
	f = eval_field(&p, end, &flen);				/* service */
	pt->region = eval_field(&p, end, &pt->regionlen);
	pt->racct = eval_field(&p, end, &pt->racctlen);
	if (f != NULL && flen == 3 && memcmp(f, "kms", 3) == 0 &&
	    req->resource_len >= 4 && memcmp(req->resource, "acs:", 4) == 0) {
		pt->rest = p;
		pt->restlen = p != NULL ? (size_t)(end - p) : 0;
	} else {
		pt->rest = NULL;
		pt->restlen = 0;
	}
	if (pt->racct == NULL) {
		pt->racct = "";
		pt->racctlen = 0;
	}
}

/*
 * Sections 4.1 and 4.2: the key the resource names, if any.  Fail
 * closed: whatever follows key/ (empty, with / or :) names a key, and one
 * that is not stored is not found.  A registered alias stands for its
 * key; "alias/" alone is never registered (an ordinary resource).
 */
EVAL_INLINE enum eval_target
eval_find_target(const struct world *w, const struct eval_parts *pt,
    struct world_key *key)
{
	struct world_alias	alias;

	if (pt->rest == NULL)
		return (EVAL_TARGET_NONE);
	if (pt->restlen >= 4 && memcmp(pt->rest, "key/", 4) == 0) {
		if (world_get_key(w, pt->rest + 4, pt->restlen - 4, key) == -1 ||
		    strlen(key->region) != pt->regionlen ||
		    memcmp(key->region, pt->region, pt->regionlen) != 0 ||
		    strlen(key->creator) != pt->racctlen ||
		    memcmp(key->creator, pt->racct, pt->racctlen) != 0)
			return (EVAL_TARGET_NOT_FOUND);
		return (EVAL_TARGET_KEY);
	}
	if (pt->restlen > 6 && memcmp(pt->rest, "alias/", 6) == 0 &&
	    world_get_alias(w, pt->region, pt->regionlen, pt->racct,
	    pt->racctlen, pt->rest, pt->restlen, &alias) == 0 &&
	    world_get_key(w, alias.key_id, strlen(alias.key_id), key) == 0)
		return (EVAL_TARGET_KEY);
	return (EVAL_TARGET_NONE);
}

EVAL_INLINE enum eval_half
eval_half_of(unsigned bits)
{
	return ((bits & 2) ? EVAL_HALF_DENY : (bits & 1) ? EVAL_HALF_ALLOW :
	    EVAL_HALF_NO_MATCH);
}

/*
 * Section 4.3: the identity decision A, the policies attached to the
 * principal (its own, then each group's), in its account.  A root has
 * none of its own to read.  Without an explanation a Deny settles it.
 */
EVAL_INLINE enum eval_half
eval_identity(const struct world *w, const struct eval_parts *pt,
    struct eval_gather *g, const struct cpolicy_req *rq)
{
	const struct world_rpolicy	*rp;
	struct world_principal		 pr, grp;
	size_t				 nrp, i;
	int				 r;

	g->bits = 0;
	if (pt->is_root)
		return (EVAL_HALF_NO_MATCH);
	r = world_principal_policies(w, pt->is_user, pt->pacct, pt->pacctlen,
	    pt->pname, pt->pnamelen, &rp, &nrp);
	if (r == 1) {
		/* Resolved once for this world version.  Their images are
		 * independent loads: issue them all before the first use. */
		for (i = 0; i < nrp && i < 8; i++)
			__builtin_prefetch(rp[i].image);
		for (i = 0; i < nrp && (g->explain || (g->bits & 2) == 0); i++)
			eval_run(g, rp[i].image, rq, EVAL_SRC_POLICY,
			    rp[i].name, rp[i].namelen);
	} else if (r == 0 && (pt->is_user ? world_get_user : world_get_role)(w,
	    pt->pacct, pt->pacctlen, pt->pname, pt->pnamelen, &pr) == 0) {
		eval_principal_policies(w, &pr, pt->pacct, pt->pacctlen, g, rq);
		for (i = 0; i < pr.ngroups && (g->explain ||
		    (g->bits & 2) == 0); i++)
			if (world_get_group(w, pt->pacct, pt->pacctlen,
			    pr.groups[i], strlen(pr.groups[i]), &grp) == 0)
				eval_principal_policies(w, &grp, pt->pacct,
				    pt->pacctlen, g, rq);
	}
	return (eval_half_of(g->bits));
}

/*
 * Section 4.4: the resource decision B, the key policy of the key the
 * resource names (none for any other resource).  Not read when A has
 * already denied and no explanation is asked for.
 */
EVAL_INLINE enum eval_half
eval_resource(const struct world_key *target, enum eval_half ident,
    struct eval_gather *g, const struct cpolicy_req *rq)
{
	g->bits = 0;
	if (target != NULL && target->policy != NULL &&
	    (g->explain || ident != EVAL_HALF_DENY))
		eval_run(g, target->image, rq, EVAL_SRC_KEY, target->id,
		    strlen(target->id));
	return (eval_half_of(g->bits));
}

/*
 * Section 4.5: the final decision from the two halves.  An account root
 * holds every permission of its own account, so its identity side
 * allows; the key policy still decides across accounts.
 */
EVAL_INLINE void
eval_combine(const struct eval_parts *pt, enum eval_half ident,
    enum eval_half res, struct eval_answer *a)
{
	int	root = pt->is_root;
	int	identity_allows = root || ident == EVAL_HALF_ALLOW;
	int	resource_allows = res == EVAL_HALF_ALLOW;

	if (ident == EVAL_HALF_DENY || res == EVAL_HALF_DENY)
		/* An explicit deny on either side wins, whoever calls. */
		eval_finish(a, EVAL_EXPLICIT_DENY, EVAL_R_EXPLICIT_DENY);
	else if (pt->pacctlen == pt->racctlen &&
	    memcmp(pt->pacct, pt->racct, pt->racctlen) == 0) {
		/* Same account: either side is enough. */
		if (root)
			eval_finish(a, EVAL_ALLOW,
			    EVAL_R_ALLOWED_AS_ACCOUNT_ROOT);
		else if (identity_allows)
			eval_finish(a, EVAL_ALLOW,
			    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
		else if (resource_allows)
			eval_finish(a, EVAL_ALLOW, EVAL_R_ALLOWED_BY_KEY_POLICY);
		else
			eval_finish(a, EVAL_IMPLICIT_DENY,
			    EVAL_R_NO_MATCHING_ALLOW);
	} else {
		/* Across accounts: both sides must allow. */
		if (!identity_allows)
			eval_finish(a, EVAL_IMPLICIT_DENY,
			    EVAL_R_CROSS_ACCOUNT_NEEDS_IDENTITY_ALLOW);
		else if (!resource_allows)
			eval_finish(a, EVAL_IMPLICIT_DENY,
			    EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW);
		else
			eval_finish(a, EVAL_ALLOW, EVAL_R_ALLOWED_BY_BOTH);
	}
}

/* The statements that decided: the Denies of a deny, the Allows of an
 * allow, none for an implicit deny (section 4.8). */
EVAL_INLINE void
eval_explain(const struct eval_gather *g, struct eval_answer *a)
{
	if (a->decision == EVAL_EXPLICIT_DENY) {
		memcpy(a->matched, g->deny, g->ndeny * sizeof(g->deny[0]));
		a->nmatched = g->ndeny;
		a->truncated = g->deny_trunc;
	} else if (a->decision == EVAL_ALLOW) {
		memcpy(a->matched, g->allow, g->nallow * sizeof(g->allow[0]));
		a->nmatched = g->nallow;
		a->truncated = g->allow_trunc;
	}
}

/* The request as the compiled policies read it. */
EVAL_INLINE void
eval_policy_req(const struct eval_request *req,
    const struct world_key *target, struct cpolicy_req *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->principal = req->principal;
	rq->principal_len = req->principal_len;
	rq->action = req->action;
	rq->action_len = req->action_len;
	rq->action_id = cpolicy_action_id(req->action, req->action_len);
	rq->resource = req->resource;
	rq->resource_len = req->resource_len;
	rq->source_ip = req->has_source_ip ? &req->source_ip : NULL;
	rq->now = &req->now;
	rq->ctx = req->ctx;
	rq->nctx = req->nctx;
	if (target != NULL) {
		rq->tags = target->tags;
		rq->ntags = target->ntags;
	}
}

/*
 * Section 4.10: one half's result and the statements that gave it, from
 * the gathered arrays' slices [a0, a1) of Allows and [d0, d1) of Denies.
 */
static void
eval_why_half(struct eval_half_why *h, enum eval_result r,
    const struct eval_gather *g, size_t a0, size_t a1, int at, size_t d0,
    size_t d1, int dt)
{
	h->result = r;
	h->n = 0;
	h->truncated = 0;
	if (r == EVAL_RES_DENY) {
		h->n = d1 - d0;
		h->truncated = dt;
		memcpy(h->stmt, g->deny + d0, h->n * sizeof(h->stmt[0]));
	} else if (r == EVAL_RES_ALLOW) {
		h->n = a1 - a0;
		h->truncated = at;
		memcpy(h->stmt, g->allow + a0, h->n * sizeof(h->stmt[0]));
	}
}

static enum eval_result
eval_result_of(enum eval_half h)
{
	return (h == EVAL_HALF_DENY ? EVAL_RES_DENY : h == EVAL_HALF_ALLOW ?
	    EVAL_RES_ALLOW : EVAL_RES_NO_MATCH);
}

/* The statements that nearly applied, gathered for one policy. */
struct eval_misses {
	struct eval_why		*why;
	int			 half;
	enum eval_source	 source;
	const char		*name;
	size_t			 namelen;
	const struct cpolicy_image *img;
};

static int
eval_miss_cb(uint32_t index, enum cpolicy_effect effect, const char *text,
    void *arg)
{
	struct eval_misses	*ms = arg;
	struct eval_why		*why = ms->why;
	struct eval_miss	*m;
	size_t			 i;

	/* A policy attached twice is listed once, as in eval_gather_cb. */
	for (i = 0; i < why->nmisses; i++)
		if (why->miss[i].stmt.source == ms->source &&
		    why->miss[i].stmt.index == index &&
		    why->miss[i].stmt.namelen == ms->namelen &&
		    memcmp(why->miss[i].stmt.name, ms->name, ms->namelen) == 0)
			return (0);
	if (why->nmisses == EVAL_MAX_MISSES) {
		why->misses_truncated = 1;
		return (1);
	}
	m = &why->miss[why->nmisses++];
	m->half = ms->half;
	m->deny = effect == CPOLICY_DENY;
	m->stmt.source = ms->source;
	m->stmt.name = ms->name;
	m->stmt.namelen = ms->namelen;
	m->stmt.index = index;
	m->stmt.sid = cpolicy_stmt_sid(cpolicy_image_policy(ms->img), index,
	    &m->stmt.sidlen);
	snprintf(m->why, sizeof(m->why), "%s", text);
	return (0);
}

static void
eval_misses_run(struct eval_misses *ms, const struct cpolicy_image *img,
    enum eval_source source, const char *name, size_t namelen,
    const struct cpolicy_req *rq)
{
	if (img == NULL || ms->why->misses_truncated)
		return;
	ms->source = source;
	ms->name = name;
	ms->namelen = namelen;
	ms->img = img;
	(void)cpolicy_image_misses(img, rq, eval_miss_cb, ms);
}

/*
 * Every identity policy image of a principal, in the order of section
 * 4.9 (a policy attached twice comes twice).  The decision walks them in
 * eval_identity; this walk is for explanations and analysis, so that a
 * decision without them runs exactly the code it did.
 */
static void
eval_identity_walk(const struct world *w, const struct eval_parts *pt,
    void (*cb)(const struct cpolicy_image *, const char *, size_t, void *),
    void *arg)
{
	const struct world_rpolicy	*rp;
	const struct world_principal	*p;
	struct world_principal		 pr, grp;
	struct world_policy		 pol;
	size_t				 nrp, i, j;
	int				 r;

	r = pt->is_root ? -1 : world_principal_policies(w, pt->is_user,
	    pt->pacct, pt->pacctlen, pt->pname, pt->pnamelen, &rp, &nrp);
	if (r == 1) {
		for (i = 0; i < nrp; i++)
			cb(rp[i].image, rp[i].name, rp[i].namelen, arg);
	} else if (r == 0 && (pt->is_user ? world_get_user : world_get_role)(w,
	    pt->pacct, pt->pacctlen, pt->pname, pt->pnamelen, &pr) == 0) {
		/* Its own policies (j = 0), then each group's. */
		for (j = 0, p = &pr; j <= pr.ngroups; j++) {
			if (j > 0) {
				if (world_get_group(w, pt->pacct, pt->pacctlen,
				    pr.groups[j - 1], strlen(pr.groups[j - 1]),
				    &grp) == -1)
					continue;
				p = &grp;
			}
			for (i = 0; i < p->npolicies; i++)
				if (world_get_policy(w, pt->pacct,
				    pt->pacctlen, p->policies[i],
				    strlen(p->policies[i]), &pol) == 0)
					cb(pol.image, pol.name,
					    strlen(pol.name), arg);
		}
	}
}

struct eval_misses_walk {
	struct eval_misses		*ms;
	const struct cpolicy_req	*rq;
};

static void
eval_misses_identity(const struct cpolicy_image *img, const char *name,
    size_t namelen, void *arg)
{
	struct eval_misses_walk	*mw = arg;

	eval_misses_run(mw->ms, img, EVAL_SRC_POLICY, name, namelen, mw->rq);
}

/* The near misses of both halves, in the order of section 4.8. */
static void
eval_misses(const struct world *w, const struct eval_parts *pt,
    const struct world_key *target, const struct cpolicy_req *rq,
    struct eval_why *why)
{
	struct eval_misses	 ms;
	struct eval_misses_walk	 mw;

	ms.why = why;
	ms.half = EVAL_HALF_IDENTITY;
	mw.ms = &ms;
	mw.rq = rq;
	eval_identity_walk(w, pt, eval_misses_identity, &mw);
	ms.half = EVAL_HALF_KEY;
	if (target != NULL && target->policy != NULL)
		eval_misses_run(&ms, target->image, EVAL_SRC_KEY, target->id,
		    strlen(target->id), rq);
}

/*
 * The explained decision (section 4.10): both halves always read, each
 * half's statements kept apart, the rule that combined them named.
 * Kept out of line so that the plain decision's code does not grow.
 */
static __attribute__((__noinline__)) void
eval_explained(const struct world *w, const struct eval_parts *pt,
    const struct world_key *target, struct eval_gather *g,
    const struct cpolicy_req *rq, struct eval_answer *a,
    struct eval_why *why, int full)
{
	enum eval_half	 ident, res;
	size_t		 na, nd;
	int		 at, dt, same;

	ident = eval_identity(w, pt, g, rq);
	na = g->nallow;
	nd = g->ndeny;
	at = g->allow_trunc;
	dt = g->deny_trunc;
	g->allow_trunc = g->deny_trunc = 0;
	res = eval_resource(target, ident, g, rq);
	eval_why_half(&why->half[EVAL_HALF_IDENTITY], pt->is_root ?
	    EVAL_RES_ROOT : eval_result_of(ident), g, 0, na, at, 0, nd, dt);
	eval_why_half(&why->half[EVAL_HALF_KEY], target == NULL ||
	    target->policy == NULL ? EVAL_RES_NONE : eval_result_of(res), g,
	    na, g->nallow, g->allow_trunc, nd, g->ndeny, g->deny_trunc);
	g->allow_trunc |= at;
	g->deny_trunc |= dt;
	eval_combine(pt, ident, res, a);
	eval_explain(g, a);
	same = pt->pacctlen == pt->racctlen &&
	    memcmp(pt->pacct, pt->racct, pt->racctlen) == 0;
	if (a->decision == EVAL_EXPLICIT_DENY)
		why->rule = EVAL_RULE_EXPLICIT_DENY;
	else if (same)
		why->rule = pt->is_root ? EVAL_RULE_ACCOUNT_ROOT :
		    EVAL_RULE_SAME_ACCOUNT;
	else
		why->rule = EVAL_RULE_CROSS_ACCOUNT;
	if (full)
		eval_misses(w, pt, target, rq, why);
}

/*
 * The decision of docs/semantics.md section 4, step by step; with why,
 * explained.  Always inlined: eval_decide passes a NULL why, so that its
 * code is the decision's alone.
 */
static inline __attribute__((__always_inline__)) int
eval_decide_in(const struct world *w, const struct eval_request *req,
    struct eval_answer *a, struct eval_why *why, int full)
{
	struct eval_gather	 g;
	struct eval_parts	 pt;
	struct cpolicy_req	 rq;
	struct world_key	 key;
	const struct world_key	*target = NULL;
	enum eval_half		 ident, res;

	if (a == NULL)
		return (0);
	memset(a, 0, offsetof(struct eval_answer, matched));
	a->decision = EVAL_IMPLICIT_DENY;
	a->reason = EVAL_R_INVALID_REQUEST;
	if (w == NULL || req == NULL)
		return (0);
	a->generation = world_generation(w);
	/* 4.7: a request the model cannot decide. */
	if (eval_request_check(req) == -1)
		return (0);
	eval_split(req, &pt);

	/* 4.1, 4.2: the key the resource names; an unknown one is denied
	 * before any policy is read. */
	switch (eval_find_target(w, &pt, &key)) {
	case EVAL_TARGET_NOT_FOUND:
		eval_finish(a, EVAL_IMPLICIT_DENY, EVAL_R_KEY_NOT_FOUND);
		if (why != NULL)
			why->rule = EVAL_RULE_KEY_NOT_FOUND;
		return (0);
	case EVAL_TARGET_KEY:
		target = &key;
		/*
		 * The key policy is read last but its image is most likely
		 * out of the cache: start loading it now, so that the load
		 * overlaps the identity decision (no effect on the answer).
		 */
		if (target->image != NULL) {
			__builtin_prefetch(target->image);
			__builtin_prefetch((const char *)target->image + 64);
		}
		break;
	case EVAL_TARGET_NONE:
		break;
	}
	eval_policy_req(req, target, &rq);
	g.nallow = g.ndeny = 0;
	g.allow_trunc = g.deny_trunc = 0;
	g.explain = req->explain != 0;
	if (why != NULL) {
		g.explain = 1;
		eval_explained(w, &pt, target, &g, &rq, a, why, full);
		return (0);
	}

	/* 4.3, 4.4: the two halves; 4.5: their combination. */
	ident = eval_identity(w, &pt, &g, &rq);
	res = eval_resource(target, ident, &g, &rq);
	eval_combine(&pt, ident, res, a);
	if (g.explain)
		eval_explain(&g, a);
	return (0);
}

int
eval_decide(const struct world *w, const struct eval_request *req,
    struct eval_answer *a)
{
	return (eval_decide_in(w, req, a, NULL, 0));
}

int
eval_decide_why(const struct world *w, const struct eval_request *req,
    struct eval_answer *a, struct eval_why *why, int full)
{
	size_t	i;

	if (why == NULL)
		return (eval_decide(w, req, a));
	/* Only the counts: the arrays are read up to them. */
	why->rule = EVAL_RULE_INVALID;
	for (i = 0; i < 2; i++) {
		why->half[i].result = EVAL_RES_NONE;
		why->half[i].n = 0;
		why->half[i].truncated = 0;
	}
	why->nmisses = 0;
	why->misses_truncated = 0;
	return (eval_decide_in(w, req, a, why, full));
}

int
eval_foreach_identity_image(const struct world *w, const char *principal,
    size_t len, void (*cb)(const struct cpolicy_image *, const char *,
    size_t, void *), void *arg)
{
	struct eval_parts	pt;
	struct eval_request	req;

	if (w == NULL || eval_principal_valid(principal, len) == -1)
		return (-1);
	memset(&req, 0, sizeof(req));
	req.principal = principal;
	req.principal_len = len;
	req.resource = "*";
	req.resource_len = 1;
	eval_split(&req, &pt);
	eval_identity_walk(w, &pt, cb, arg);
	return (0);
}

int
eval_resource_key(const struct world *w, const char *resource, size_t len,
    struct world_key *key)
{
	struct eval_parts	pt;
	struct eval_request	req;

	if (w == NULL || eval_resource_valid(resource, len) == -1)
		return (-1);
	memset(&req, 0, sizeof(req));
	req.principal = "acs:ram::0:root";
	req.principal_len = 15;
	req.resource = resource;
	req.resource_len = len;
	eval_split(&req, &pt);
	switch (eval_find_target(w, &pt, key)) {
	case EVAL_TARGET_KEY:
		return (1);
	case EVAL_TARGET_NOT_FOUND:
		return (-1);
	default:
		return (0);
	}
}

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
#include <string.h>

#include "engine/cpolicy.h"
#include "engine/eval.h"
#include "engine/glob.h"
#include "engine/value.h"
#include "engine/world.h"

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

/*
 * acs:ram::ACCOUNT:root | user/NAME | role/NAME, ACCOUNT all digits,
 * NAME non-empty.
 */
int
eval_principal_valid(const char *s, size_t len)
{
	size_t	i;

	if (s == NULL || len < 9 || memcmp(s, "acs:ram::", 9) != 0)
		return (-1);
	for (i = 9; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == 9 || i >= len || s[i] != ':')
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

int
eval_decide(const struct world *w, const struct eval_request *req,
    struct eval_answer *a)
{
	struct eval_gather		 g;
	struct cpolicy_req		 rq;
	struct world_key		 key;
	struct world_alias		 alias;
	struct world_principal		 pr, grp;
	const struct world_key		*target = NULL;
	const struct eval_ctx		*ctx;
	const char			*pacct, *pname, *p, *end, *f;
	const char			*region = NULL, *racct = NULL, *rest;
	size_t				 pacctlen, pnamelen, i, j, flen;
	size_t				 regionlen = 0, racctlen = 0, restlen;
	const struct world_rpolicy	*rp;
	size_t				 nrp;
	int				 is_root, is_user, a_allow, b_allow, r = -1;
	unsigned			 ident_bits = 0, key_bits = 0;
	struct value_ip			 ip;

	if (a == NULL)
		return (0);
	memset(a, 0, offsetof(struct eval_answer, matched));
	a->decision = EVAL_IMPLICIT_DENY;
	a->reason = EVAL_R_INVALID_REQUEST;
	if (w == NULL || req == NULL)
		return (0);
	a->generation = world_generation(w);
	if (req->action == NULL ||
	    eval_resource_valid(req->resource, req->resource_len) == -1 ||
	    eval_principal_valid(req->principal, req->principal_len) == -1 ||
	    req->nctx > EVAL_MAX_CONTEXT || (req->nctx > 0 && req->ctx == NULL))
		return (0);
	ctx = req->ctx;
	for (i = 0; i < req->nctx; i++) {
		if (ctx[i].key == NULL || ctx[i].value == NULL)
			return (0);
		for (j = 0; j < i; j++) {
			if (ctx[i].keylen != ctx[j].keylen)
				continue;
			for (flen = 0; flen < ctx[i].keylen; flen++)
				if (glob_lower[(unsigned char)ctx[i].key[flen]]
				    != glob_lower[(unsigned char)
				    ctx[j].key[flen]])
					break;
			if (flen == ctx[i].keylen)
				return (0);	/* duplicate name */
		}
		/*
		 * Without a request address a context acs:SourceIp is the
		 * source IP: one that is not an address makes the request
		 * invalid (as a bad SourceIp does), rather than every IP
		 * operator false, which would lift a NotIpAddress Deny.
		 */
		if (!req->has_source_ip && ctx[i].keylen == 12) {
			for (flen = 0; flen < 12; flen++)
				if (glob_lower[(unsigned char)ctx[i].key[flen]]
				    != (unsigned char)"acs:sourceip"[flen])
					break;
			if (flen == 12 && value_ip_parse(ctx[i].value,
			    ctx[i].valuelen, 0, &ip) == -1)
				return (0);
		}
	}

	/* The principal: acs:ram::ACCOUNT:KIND[/NAME]. */
	pacct = req->principal + 9;
	pacctlen = (size_t)((const char *)memchr(pacct, ':',
	    req->principal_len - 9) - pacct);
	p = pacct + pacctlen + 1;
	is_root = (size_t)(req->principal + req->principal_len - p) == 4;
	is_user = !is_root && memcmp(p, "user/", 5) == 0;
	pname = is_root ? NULL : p + 5;
	pnamelen = is_root ? 0 :
	    (size_t)(req->principal + req->principal_len - pname);

	/* The resource: acs:kms:REGION:ACCOUNT:key/ID or alias/NAME. */
	p = req->resource;
	end = req->resource + req->resource_len;
	f = eval_field(&p, end, &flen);			/* acs */
	f = eval_field(&p, end, &flen);			/* service */
	if (f != NULL && flen == 3 && memcmp(f, "kms", 3) == 0 &&
	    req->resource_len >= 4 && memcmp(req->resource, "acs:", 4) == 0) {
		region = eval_field(&p, end, &regionlen);
		racct = eval_field(&p, end, &racctlen);
		rest = p;
		restlen = p != NULL ? (size_t)(end - p) : 0;
	} else {
		/* Any other resource: its account is the fourth field. */
		region = eval_field(&p, end, &regionlen);
		racct = eval_field(&p, end, &racctlen);
		rest = NULL;
		restlen = 0;
	}
	if (racct == NULL) {
		racct = "";
		racctlen = 0;
	}
	if (rest != NULL && restlen >= 4 && memcmp(rest, "key/", 4) == 0) {
		/*
		 * 1. A key that is not known is denied before anything.
		 * Fail closed: whatever follows key/ (empty, with / or :)
		 * names a key, and one that is not stored is not found.
		 */
		if (world_get_key(w, rest + 4, restlen - 4, &key) == -1 ||
		    strlen(key.region) != regionlen ||
		    memcmp(key.region, region, regionlen) != 0 ||
		    strlen(key.creator) != racctlen ||
		    memcmp(key.creator, racct, racctlen) != 0) {
			eval_finish(a, EVAL_IMPLICIT_DENY,
			    EVAL_R_KEY_NOT_FOUND);
			return (0);
		}
		target = &key;
	} else if (rest != NULL && restlen > 6 &&
	    memcmp(rest, "alias/", 6) == 0) {
		/* 2. A registered alias stands for its key (an alias name
		 * is never empty: "alias/" alone is unregistered, hence an
		 * ordinary resource, as section 4.2 says). */
		if (world_get_alias(w, region, regionlen, racct, racctlen,
		    rest, restlen, &alias) == 0 &&
		    world_get_key(w, alias.key_id, strlen(alias.key_id),
		    &key) == 0)
			target = &key;
	}

	/*
	 * The key policy is read last but its image is most likely out of
	 * the cache: start loading it now, so that the load overlaps the
	 * identity decision (a hint: no effect on the answer).
	 */
	if (target != NULL && target->image != NULL) {
		__builtin_prefetch(target->image);
		__builtin_prefetch((const char *)target->image + 64);
	}

	memset(&rq, 0, sizeof(rq));
	rq.principal = req->principal;
	rq.principal_len = req->principal_len;
	rq.action = req->action;
	rq.action_len = req->action_len;
	rq.action_id = cpolicy_action_id(req->action, req->action_len);
	rq.resource = req->resource;
	rq.resource_len = req->resource_len;
	rq.source_ip = req->has_source_ip ? &req->source_ip : NULL;
	rq.now = &req->now;
	rq.ctx = req->ctx;
	rq.nctx = req->nctx;
	if (target != NULL) {
		rq.tags = target->tags;
		rq.ntags = target->ntags;
	}

	g.nallow = g.ndeny = 0;
	g.allow_trunc = g.deny_trunc = 0;
	g.explain = req->explain != 0;

	/* 3. The identity decision A. */
	g.bits = 0;
	if (!is_root && (r = world_principal_policies(w, is_user, pacct,
	    pacctlen, pname, pnamelen, &rp, &nrp)) == 1) {
		/* Resolved once for this world version.  Their images are
		 * independent loads: issue them all before the first use. */
		for (i = 0; i < nrp && i < 8; i++)
			__builtin_prefetch(rp[i].image);
		for (i = 0; i < nrp && (g.explain || (g.bits & 2) == 0); i++)
			eval_run(&g, rp[i].image, &rq, EVAL_SRC_POLICY,
			    rp[i].name, rp[i].namelen);
	} else if (!is_root && r == 0) {
		if ((is_user ? world_get_user : world_get_role)(w, pacct,
		    pacctlen, pname, pnamelen, &pr) == 0) {
			eval_principal_policies(w, &pr, pacct, pacctlen, &g,
			    &rq);
			for (i = 0; i < pr.ngroups && (g.explain ||
			    (g.bits & 2) == 0); i++) {
				if (world_get_group(w, pacct, pacctlen,
				    pr.groups[i], strlen(pr.groups[i]),
				    &grp) == 0)
					eval_principal_policies(w, &grp, pacct,
					    pacctlen, &g, &rq);
			}
		}
	}
	ident_bits = g.bits;

	/* 4. The resource decision B: the key policy. */
	g.bits = 0;
	if (target != NULL && target->policy != NULL &&
	    (g.explain || (ident_bits & 2) == 0))
		eval_run(&g, target->image, &rq, EVAL_SRC_KEY, target->id,
		    strlen(target->id));
	key_bits = g.bits;

	/* 5. The final decision. */
	a_allow = is_root || (ident_bits & 1);
	b_allow = (key_bits & 1) != 0;
	if ((ident_bits | key_bits) & 2) {
		eval_finish(a, EVAL_EXPLICIT_DENY, EVAL_R_EXPLICIT_DENY);
		if (g.explain) {
			memcpy(a->matched, g.deny,
			    g.ndeny * sizeof(g.deny[0]));
			a->nmatched = g.ndeny;
			a->truncated = g.deny_trunc;
		}
		return (0);
	}
	if (pacctlen == racctlen && memcmp(pacct, racct, racctlen) == 0) {
		if (is_root)
			eval_finish(a, EVAL_ALLOW,
			    EVAL_R_ALLOWED_AS_ACCOUNT_ROOT);
		else if (a_allow)
			eval_finish(a, EVAL_ALLOW,
			    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
		else if (b_allow)
			eval_finish(a, EVAL_ALLOW, EVAL_R_ALLOWED_BY_KEY_POLICY);
		else
			eval_finish(a, EVAL_IMPLICIT_DENY,
			    EVAL_R_NO_MATCHING_ALLOW);
	} else {
		if (!a_allow)
			eval_finish(a, EVAL_IMPLICIT_DENY,
			    EVAL_R_CROSS_ACCOUNT_NEEDS_IDENTITY_ALLOW);
		else if (!b_allow)
			eval_finish(a, EVAL_IMPLICIT_DENY,
			    EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW);
		else
			eval_finish(a, EVAL_ALLOW, EVAL_R_ALLOWED_BY_BOTH);
	}
	if (g.explain && a->decision == EVAL_ALLOW) {
		memcpy(a->matched, g.allow, g.nallow * sizeof(g.allow[0]));
		a->nmatched = g.nallow;
		a->truncated = g.allow_trunc;
	}
	return (0);
}

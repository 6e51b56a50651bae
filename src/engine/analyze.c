/* SPDX-License-Identifier: ISC */
/*
 * analyze.c: who may do what, over every context (docs/analysis.md).
 *
 * A space is the product of each context key's witnesses, gathered from
 * the conditions of the statements that concern a (principal, resource)
 * pair whatever their action, so one space serves every action.  Each
 * combination is decided by eval_decide itself: the analysis adds no
 * semantics of its own, only the choice of contexts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/analyze.h"
#include "engine/cpolicy.h"
#include "engine/eval.h"
#include "engine/glob.h"
#include "engine/value.h"
#include "engine/world.h"

#define AZ_MAX_KEYS	EVAL_MAX_CONTEXT
#define AZ_MAX_VALUES	256		/* witnesses of one key */

/* One context key and its witnesses (NULL: absent). */
struct az_key {
	int		 kind;		/* CPOLICY_WK_* */
	char		*key;
	char		*vals[AZ_MAX_VALUES];
	uint8_t		 pattern[AZ_MAX_VALUES];	/* a Like instance */
	size_t		 n;
	uint64_t	 amask[2];	/* known actions it matters to */
};

struct analyze_space {
	char			*principal;
	char			*resource;
	char			 acct[64];	/* the principal's account */
	size_t			 acctlen;
	const struct cpolicy_image *key_img;	/* the key policy's */
	uint64_t		 amask[2];	/* the statement's, now */
	struct az_key		 keys[AZ_MAX_KEYS];
	size_t			 nkeys;
	int			 exact;	/* 0: a witness list was full */
};

static int
az_ieq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (glob_lower[(unsigned char)*a] !=
		    glob_lower[(unsigned char)*b])
			return (0);
	return (*a == *b);
}

/* cpolicy_witness_cb: one witness, kept once per key. */
static void
az_witness(int kind, const char *key, size_t keylen, const char *v,
    size_t vlen, void *arg)
{
	struct analyze_space	*sp = arg;
	struct az_key		*k = NULL;
	char			 kb[256];
	size_t			 i;
	int			 pattern = (kind & CPOLICY_WK_PATTERN) != 0;

	kind &= ~CPOLICY_WK_PATTERN;
	if (keylen >= sizeof(kb))
		return;
	memcpy(kb, key, keylen);
	kb[keylen] = '\0';
	for (i = 0; i < sp->nkeys; i++)
		if (sp->keys[i].kind == kind && az_ieq(sp->keys[i].key, kb)) {
			k = &sp->keys[i];
			break;
		}
	if (k == NULL) {
		if (sp->nkeys == AZ_MAX_KEYS) {
			sp->exact = 0;
			return;
		}
		k = &sp->keys[sp->nkeys];
		memset(k, 0, sizeof(*k));
		if ((k->key = strdup(kb)) == NULL) {
			sp->exact = -1;
			return;
		}
		k->kind = kind;
		sp->nkeys++;
	}
	k->amask[0] |= sp->amask[0];
	k->amask[1] |= sp->amask[1];
	for (i = 0; i < k->n; i++)
		if ((v == NULL && k->vals[i] == NULL) || (v != NULL &&
		    k->vals[i] != NULL && strlen(k->vals[i]) == vlen &&
		    memcmp(k->vals[i], v, vlen) == 0)) {
			k->pattern[i] |= (uint8_t)pattern;
			return;
		}
	if (k->n == AZ_MAX_VALUES) {
		sp->exact = 0;
		return;
	}
	if (v != NULL && (k->vals[k->n] = strndup(v, vlen)) == NULL) {
		sp->exact = -1;
		return;
	}
	if (v == NULL)
		k->vals[k->n] = NULL;
	k->pattern[k->n] = (uint8_t)pattern;
	k->n++;
}

/* A statement's known actions: its witnesses matter to those only. */
static void
az_stmt(const uint64_t *amask, void *arg)
{
	struct analyze_space	*sp = arg;

	sp->amask[0] = amask[0];
	sp->amask[1] = amask[1];
}

struct az_walk {
	struct analyze_space		*sp;
	const struct cpolicy_req	*rq;
};

static void
az_identity(const struct cpolicy_image *img, const char *name,
    size_t namelen, void *arg)
{
	struct az_walk	*aw = arg;

	(void)name;
	(void)namelen;
	cpolicy_image_witnesses(img, aw->rq, 1, az_witness, az_stmt, aw->sp);
}

/*
 * Two instances of StringLike patterns of one key joined, both ways: a
 * value that two patterns (a prefix and a suffix) both match.
 */
static void
az_join(struct analyze_space *sp, struct az_key *k)
{
	size_t	i, j, n = k->n, la, lb;
	char	buf[1100];

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			if (i == j || !k->pattern[i] || !k->pattern[j])
				continue;
			la = strlen(k->vals[i]);
			lb = strlen(k->vals[j]);
			if (la + lb >= sizeof(buf))
				continue;
			memcpy(buf, k->vals[i], la);
			memcpy(buf + la, k->vals[j], lb);
			sp->amask[0] = k->amask[0];
			sp->amask[1] = k->amask[1];
			az_witness(k->kind, k->key, strlen(k->key), buf,
			    la + lb, sp);
		}
}

struct analyze_space *
analyze_space_new(const struct world *w, const char *principal,
    const char *resource)
{
	struct analyze_space	*sp;
	struct cpolicy_req	 rq;
	struct world_key	 key;
	struct az_walk		 aw;
	const char		*c;
	size_t			 i;

	if (eval_principal_valid(principal, strlen(principal)) == -1 ||
	    eval_resource_valid(resource, strlen(resource)) == -1) {
		errno = EINVAL;
		return (NULL);
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return (NULL);
	sp->exact = 1;
	if ((sp->principal = strdup(principal)) == NULL ||
	    (sp->resource = strdup(resource)) == NULL)
		goto fail;
	c = strchr(principal + 9, ':');
	sp->acctlen = (size_t)(c - (principal + 9));
	if (sp->acctlen >= sizeof(sp->acct))
		sp->acctlen = sizeof(sp->acct) - 1;
	memcpy(sp->acct, principal + 9, sp->acctlen);
	memset(&rq, 0, sizeof(rq));
	rq.principal = principal;
	rq.principal_len = strlen(principal);
	rq.resource = resource;
	rq.resource_len = strlen(resource);
	aw.sp = sp;
	aw.rq = &rq;
	(void)eval_foreach_identity_image(w, principal, strlen(principal),
	    az_identity, &aw);
	if (eval_resource_key(w, resource, strlen(resource), &key) == 1 &&
	    key.policy != NULL) {
		sp->key_img = key.image;
		cpolicy_image_witnesses(key.image, &rq, 1, az_witness, az_stmt,
		    sp);
	}
	for (i = 0; i < sp->nkeys && sp->exact >= 0; i++)
		if (sp->keys[i].kind == CPOLICY_WK_CONTEXT)
			az_join(sp, &sp->keys[i]);
	if (sp->exact < 0)
		goto fail;
	return (sp);
fail:
	analyze_space_free(sp);
	errno = ENOMEM;
	return (NULL);
}

void
analyze_space_free(struct analyze_space *sp)
{
	size_t	i, j;

	if (sp == NULL)
		return;
	for (i = 0; i < sp->nkeys; i++) {
		for (j = 0; j < sp->keys[i].n; j++)
			free(sp->keys[i].vals[j]);
		free(sp->keys[i].key);
	}
	free(sp->principal);
	free(sp->resource);
	free(sp);
}

int
analyze_space_exact(const struct analyze_space *sp)
{
	return (sp->exact == 1);
}

/*
 * Combination c of the space as a request (ctx: the caller's array).
 * Only the keys marked in rel vary; any other stays at its first
 * witness (no statement of the action reads it).
 */
static void
az_request(const struct analyze_space *sp, size_t c, const uint8_t *rel,
    struct eval_request *er, struct eval_ctx *ctx)
{
	const struct az_key	*k;
	const char		*v;
	size_t			 i;

	memset(er, 0, sizeof(*er));
	er->principal = sp->principal;
	er->principal_len = strlen(sp->principal);
	er->resource = sp->resource;
	er->resource_len = strlen(sp->resource);
	/* Without a time condition any instant will do. */
	er->now.sec = 1767225600;		/* 2026-01-01T00:00:00Z */
	er->ctx = ctx;
	for (i = 0; i < sp->nkeys; i++) {
		k = &sp->keys[i];
		if (k->n == 0)
			continue;
		if (rel[i]) {
			v = k->vals[c % k->n];
			c /= k->n;
		} else
			v = k->vals[0];
		if (v == NULL)
			continue;		/* absent */
		switch (k->kind) {
		case CPOLICY_WK_SOURCE_IP:
			if (value_ip_parse(v, strlen(v), 0, &er->source_ip) ==
			    0)
				er->has_source_ip = 1;
			break;
		case CPOLICY_WK_TIME:
			(void)value_time_parse(v, strlen(v), &er->now);
			break;
		default:
			ctx[er->nctx].key = k->key;
			ctx[er->nctx].keylen = strlen(k->key);
			ctx[er->nctx].value = v;
			ctx[er->nctx].valuelen = strlen(v);
			er->nctx++;
			break;
		}
	}
}

/* Keeps the statements of an explained answer as grants, once each. */
static void
az_grants(const struct world *w, const struct analyze_space *sp,
    const struct eval_match *m, size_t n, int deny, struct analyze_result *r)
{
	struct world_policy	 pol;
	struct analyze_grant	*g;
	size_t			 i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < r->ngrants; j++)
			if (r->grant[j].deny == deny &&
			    r->grant[j].stmt.source == m[i].source &&
			    r->grant[j].stmt.index == m[i].index &&
			    r->grant[j].stmt.namelen == m[i].namelen &&
			    memcmp(r->grant[j].stmt.name, m[i].name,
			    m[i].namelen) == 0)
				break;
		if (j < r->ngrants)
			continue;
		if (r->ngrants == ANALYZE_MAX_GRANTS) {
			r->grants_truncated = 1;
			return;
		}
		g = &r->grant[r->ngrants++];
		g->stmt = m[i];
		g->deny = deny;
		g->img = NULL;
		if (m[i].source == EVAL_SRC_KEY)
			g->img = sp->key_img;
		else if (world_get_policy(w, sp->acct, sp->acctlen,
		    m[i].name, m[i].namelen, &pol) == 0)
			g->img = pol.image;
	}
}

int
analyze_decide(const struct world *w, const struct analyze_space *sp,
    const char *action, int key_half, struct analyze_result *r)
{
	struct eval_ctx		 ctx[AZ_MAX_KEYS];
	struct eval_request	 er;
	struct eval_answer	 a;
	struct eval_why		 why;
	const struct eval_half_why *kh = &why.half[EVAL_HALF_KEY];
	uint8_t			 rel[AZ_MAX_KEYS];
	size_t			 c, allowed = 0, i, keep, ncombos;
	uint32_t		 aid;
	int			 ok, exact;

	memset(r, 0, offsetof(struct analyze_result, grant));
	if (w == NULL || sp == NULL || action == NULL)
		return (-1);
	/* The keys this action's statements read, and their product. */
	aid = cpolicy_action_id(action, strlen(action));
	ncombos = 1;
	exact = sp->exact == 1;
	for (i = 0; i < sp->nkeys; i++) {
		rel[i] = aid == 0 || aid > 128 || (sp->keys[i].amask[(aid - 1) /
		    64] & ((uint64_t)1 << ((aid - 1) % 64))) != 0;
		if (!rel[i] || sp->keys[i].n == 0)
			continue;
		if (ncombos > ANALYZE_MAX_CONTEXTS / sp->keys[i].n) {
			exact = 0;
			rel[i] = 0;
			continue;
		}
		ncombos *= sp->keys[i].n;
	}
	for (c = 0; c < ncombos; c++) {
		az_request(sp, c, rel, &er, ctx);
		er.action = action;
		er.action_len = strlen(action);
		if (key_half) {
			er.explain = 1;
			(void)eval_decide_why(w, &er, &a, &why, 0);
			ok = kh->result == EVAL_RES_ALLOW;
			if (ok)
				az_grants(w, sp, kh->stmt, kh->n, 0, r);
			else if (kh->result == EVAL_RES_DENY)
				az_grants(w, sp, kh->stmt, kh->n, 1, r);
		} else {
			/* Explained: the statements of an allow or a deny
			 * cost less than deciding again. */
			er.explain = 1;
			(void)eval_decide(w, &er, &a);
			ok = a.decision == EVAL_ALLOW;
			if (a.decision != EVAL_IMPLICIT_DENY)
				az_grants(w, sp, a.matched, a.nmatched,
				    !ok, r);
		}
		allowed += ok != 0;
	}
	r->ncontexts = ncombos;
	r->exact = exact;
	r->verdict = allowed == 0 ? ANALYZE_NEVER :
	    allowed == ncombos ? ANALYZE_ALWAYS : ANALYZE_CONDITIONAL;
	if (r->verdict == ANALYZE_NEVER)
		r->ngrants = 0;
	else if (r->verdict == ANALYZE_ALWAYS) {
		/* A Deny that never applied where it mattered: drop it. */
		for (i = keep = 0; i < r->ngrants; i++)
			if (!r->grant[i].deny)
				r->grant[keep++] = r->grant[i];
		r->ngrants = keep;
	}
	return (0);
}

size_t
analyze_action_count(void)
{
	size_t	n = 0;

	while (cpolicy_action_name((uint32_t)(n + 1)) != NULL)
		n++;
	return (n);
}

const char *
analyze_action(size_t i)
{
	return (cpolicy_action_name((uint32_t)(i + 1)));
}

/* The world's principals, gathered by the world's iterators. */
struct az_names {
	char	**v;
	size_t	  n, cap;
	int	  err;
};

/* "acs:ram::" ACCOUNT ":" REST, kept. */
static void
az_names_add(struct az_names *nm, const char *acct, size_t acctlen,
    const char *kind, const char *name)
{
	char	**nv;
	size_t	  len;

	if (nm->err)
		return;
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 64;
		if ((nv = reallocarray(nm->v, nm->cap, sizeof(*nv))) == NULL) {
			nm->err = 1;
			return;
		}
		nm->v = nv;
	}
	len = 9 + acctlen + 1 + strlen(kind) + strlen(name) + 1;
	if ((nm->v[nm->n] = malloc(len)) == NULL) {
		nm->err = 1;
		return;
	}
	snprintf(nm->v[nm->n], len, "acs:ram::%.*s:%s%s", (int)acctlen, acct,
	    kind, name);
	nm->n++;
}

static int
az_digits(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return (0);
	return (len > 0);
}

static void
az_root(struct az_names *nm, const char *acct, size_t len)
{
	if (az_digits(acct, len))
		az_names_add(nm, acct, len, "root", "");
}

static int
az_user(const struct world_principal *p, void *arg)
{
	az_names_add(arg, p->account, strlen(p->account), "user/", p->name);
	az_root(arg, p->account, strlen(p->account));
	return (0);
}

static int
az_role(const struct world_principal *p, void *arg)
{
	az_names_add(arg, p->account, strlen(p->account), "role/", p->name);
	az_root(arg, p->account, strlen(p->account));
	return (0);
}

static int
az_group(const struct world_principal *p, void *arg)
{
	az_root(arg, p->account, strlen(p->account));
	return (0);
}

static int
az_policy(const struct world_policy *p, void *arg)
{
	az_root(arg, p->account, strlen(p->account));
	return (0);
}

static int
az_account(const char *acct, size_t len, void *arg)
{
	az_root(arg, acct, len);
	return (0);
}

static int
az_key(const struct world_key *k, void *arg)
{
	az_root(arg, k->creator, strlen(k->creator));
	if (k->policy != NULL)
		(void)cpolicy_foreign_accounts(k->policy, k->creator,
		    az_account, arg);
	return (0);
}

static int
az_strcmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

int
analyze_principals(const struct world *w, char ***vp, size_t *np)
{
	struct az_names	nm;
	size_t		i, j;

	memset(&nm, 0, sizeof(nm));
	(void)world_foreach_user(w, az_user, &nm);
	(void)world_foreach_role(w, az_role, &nm);
	(void)world_foreach_group(w, az_group, &nm);
	(void)world_foreach_policy(w, az_policy, &nm);
	(void)world_foreach_key(w, az_key, &nm);
	if (nm.err) {
		analyze_principals_free(nm.v, nm.n);
		return (-1);
	}
	if (nm.n > 0)
		qsort(nm.v, nm.n, sizeof(*nm.v), az_strcmp);
	for (i = j = 0; i < nm.n; i++) {
		if (j > 0 && strcmp(nm.v[j - 1], nm.v[i]) == 0) {
			free(nm.v[i]);
			continue;
		}
		nm.v[j++] = nm.v[i];
	}
	*vp = nm.v;
	*np = j;
	return (0);
}

void
analyze_principals_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
analyze_who_can(const struct world *w, const char *resource,
    const char *const *actions, size_t nactions, analyze_who_cb cb,
    void *arg)
{
	struct analyze_space	*sp;
	struct analyze_result	 r;
	char			**prin;
	size_t			 nprin, i, a;
	int			 rc = 0;

	if (analyze_principals(w, &prin, &nprin) == -1)
		return (-1);
	for (i = 0; i < nprin && rc == 0; i++) {
		if ((sp = analyze_space_new(w, prin[i], resource)) == NULL) {
			rc = -1;
			break;
		}
		for (a = 0; a < nactions; a++)
			if (analyze_decide(w, sp, actions[a], 0, &r) == 0 &&
			    r.verdict != ANALYZE_NEVER)
				cb(prin[i], a, &r, arg);
		analyze_space_free(sp);
	}
	analyze_principals_free(prin, nprin);
	return (rc);
}

int
analyze_impact(const struct world *before, const struct world *after,
    char *const *prin, size_t nprin, char *const *res, size_t nres,
    analyze_row_cb cb, void *arg)
{
	struct analyze_space	*s1, *s2;
	struct analyze_result	 r1, r2;
	const char		*action;
	size_t			 i, j, a, na = analyze_action_count();
	int			 rc = 0;

	for (i = 0; i < nprin && rc == 0; i++)
		for (j = 0; j < nres && rc == 0; j++) {
			s1 = analyze_space_new(before, prin[i], res[j]);
			s2 = analyze_space_new(after, prin[i], res[j]);
			if (s1 == NULL || s2 == NULL)
				rc = -1;
			for (a = 0; rc == 0 && a < na; a++) {
				action = analyze_action(a);
				if (analyze_decide(before, s1, action, 0,
				    &r1) == -1 || analyze_decide(after, s2,
				    action, 0, &r2) == -1) {
					rc = -1;
					break;
				}
				if (r1.verdict == r2.verdict)
					continue;
				if (r1.verdict != ANALYZE_NEVER)
					cb(prin[i], action, res[j], 0,
					    r1.verdict == ANALYZE_CONDITIONAL,
					    arg);
				if (r2.verdict != ANALYZE_NEVER)
					cb(prin[i], action, res[j], 1,
					    r2.verdict == ANALYZE_CONDITIONAL,
					    arg);
			}
			analyze_space_free(s1);
			analyze_space_free(s2);
		}
	return (rc);
}

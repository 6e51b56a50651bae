/* SPDX-License-Identifier: ISC */
/*
 * cpolicy.c: compiled policies, their builder and their evaluation.
 *
 * Everything a decision needs is prepared once here: actions are
 * lower-cased and their globs compiled case-insensitively, resource and
 * principal globs compiled, condition keys lower-cased and classified
 * (source IP, current time, resource tag, caller context) and condition
 * values parsed into their types.  Evaluation then only compares.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpolicy.h"
#include "engine/eval.h"
#include "engine/glob.h"
#include "engine/value.h"
#include "engine/world.h"

struct cp_matcher {
	struct glob	**globs;
	uint32_t	  n;
	uint32_t	  cap;
	uint8_t		  negated;
	uint8_t		  any;		/* one pattern matches everything */
	uint8_t		  set;		/* the element was given */
};

enum cp_keykind {
	CP_KEY_SOURCE_IP,
	CP_KEY_CURRENT_TIME,
	CP_KEY_TAG,
	CP_KEY_CONTEXT
};

enum cp_family {
	CP_FAM_STRING,
	CP_FAM_NUMBER,
	CP_FAM_DATE,
	CP_FAM_BOOL,
	CP_FAM_IP
};

union cp_val {
	struct {
		char		*s;
		size_t		 len;
		struct glob	*g;	/* StringLike / StringNotLike */
	} str;
	struct value_num	num;
	struct value_time	time;
	int			bool_;
	struct value_ip		ip;
};

struct cp_cond {
	enum cpolicy_op	 op;
	enum cp_family	 fam;
	int		 negated;
	enum cp_keykind	 keykind;
	char		*key;		/* lower-cased; for tags the tag key */
	size_t		 keylen;
	union cp_val	*vals;
	uint32_t	 nvals;
	uint32_t	 cap;
};

struct cp_stmt {
	enum cpolicy_effect	 effect;
	char			*sid;
	size_t			 sidlen;
	struct cp_matcher	 action;
	struct cp_matcher	 resource;
	struct cp_matcher	 principal;
	struct cp_cond		*conds;
	uint32_t		 nconds;
	uint32_t		 cap;
};

/* An account part of an Allow statement's principal pattern. */
struct cp_account {
	char	*s;
	size_t	 len;
};

/*
 * The evaluation image, built by cpolicy_finish in one block so that a
 * decision walks contiguous memory: one 64-byte record per statement,
 * then each statement's globs (packed one after another), conditions,
 * condition keys and values.
 */
#define CP_AWORDS	2		/* known actions: at most 128 */

struct cp_hmatch {
	const struct glob	*first;	/* n globs, each glob_size() long */
	uint32_t		 n;
	uint8_t			 negated;
	uint8_t			 any;
};

struct cp_hstmt {
	uint64_t		 amask[CP_AWORDS];	/* known actions */
	struct cp_hmatch	 action;
	struct cp_hmatch	 target;	/* principal (key) or resource */
	const struct cp_cond	*conds;
	uint32_t		 nconds;
	uint8_t			 effect;
};

/* The block starts with this header; worlds point at it directly, so a
 * decision does not read the policy's own header. */
struct cpolicy_image {
	const struct cpolicy	*cp;
	uint32_t		 nstmts;
	uint32_t		 kind;
	struct cp_hstmt		 stmt[];
};

struct cpolicy {
	atomic_uint		 refcnt;
	enum cpolicy_kind	 kind;
	int			 finished;
	struct cpolicy_image	*img;		/* NULL until finished */
	struct cp_stmt		*stmts;
	size_t			 nstmts;
	size_t			 cap;
	struct cp_account	*accounts;
	size_t			 naccounts;
	size_t			 acap;
};

static const char *const cpolicy_op_names[CPOLICY_OP_COUNT] = {
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
	"StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan",
	"NumericLessThanEquals", "NumericGreaterThan",
	"NumericGreaterThanEquals", "DateEquals", "DateNotEquals",
	"DateLessThan", "DateLessThanEquals", "DateGreaterThan",
	"DateGreaterThanEquals", "Bool", "IpAddress", "NotIpAddress"
};

static int	cp_grow(void **, uint32_t *, size_t, size_t);
static int	cp_matcher_add(struct cp_matcher *, const char *, size_t, int);
static void	cp_matcher_free(struct cp_matcher *);
static void	cp_cond_free(struct cp_cond *);
static int	cp_cond_holds(const struct cp_cond *,
		    const struct cpolicy_req *);
static int	cp_value_test(const struct cp_cond *, const char *, size_t,
		    const struct value_ip *, const struct value_time *);
static int	cp_all_stars(const char *, size_t);
static int	cp_ieq(const char *, size_t, const char *, size_t);
static size_t	cp_fmt_time(const struct value_time *, char *, size_t);
static void	cp_action_init(void);
static int	cp_pack(struct cpolicy *);
static int	cp_account_cmp(const void *, const void *);
static void	cp_accounts_unique(struct cpolicy *);
static int	cp_hmatch(const struct cp_hmatch *, const char *, size_t);

int
cpolicy_op_parse(const char *s, size_t len, enum cpolicy_op *op)
{
	size_t	i;

	for (i = 0; i < CPOLICY_OP_COUNT; i++) {
		if (strlen(cpolicy_op_names[i]) == len &&
		    memcmp(cpolicy_op_names[i], s, len) == 0) {
			*op = (enum cpolicy_op)i;
			return (0);
		}
	}
	return (-1);
}

const char *
cpolicy_op_name(enum cpolicy_op op)
{
	if ((unsigned)op >= CPOLICY_OP_COUNT)
		return (NULL);
	return (cpolicy_op_names[op]);
}

/* Grow an array of elements of size sz to hold one more. */
static int
cp_grow(void **v, uint32_t *cap, size_t n, size_t sz)
{
	void		*nv;
	uint32_t	 ncap;

	if (n < *cap)
		return (0);
	if (*cap >= UINT32_MAX / 2) {
		errno = ENOMEM;
		return (-1);
	}
	ncap = *cap ? *cap * 2 : 4;
	if ((nv = reallocarray(*v, ncap, sz)) == NULL)
		return (-1);
	*v = nv;
	*cap = ncap;
	return (0);
}

struct cpolicy *
cpolicy_new(enum cpolicy_kind kind)
{
	struct cpolicy	*cp;

	if ((cp = calloc(1, sizeof(*cp))) == NULL)
		return (NULL);
	atomic_init(&cp->refcnt, 1);
	cp->kind = kind;
	return (cp);
}

struct cpolicy *
cpolicy_ref(const struct cpolicy *ccp)
{
	struct cpolicy	*cp = (struct cpolicy *)ccp;

	if (cp != NULL)
		atomic_fetch_add_explicit(&cp->refcnt, 1,
		    memory_order_relaxed);
	return (cp);
}

static void
cp_matcher_free(struct cp_matcher *m)
{
	uint32_t	i;

	for (i = 0; i < m->n; i++)
		glob_free(m->globs[i]);
	free(m->globs);
}

static void
cp_cond_free(struct cp_cond *c)
{
	uint32_t	i;

	if (c->fam == CP_FAM_STRING) {
		for (i = 0; i < c->nvals; i++) {
			free(c->vals[i].str.s);
			glob_free(c->vals[i].str.g);
		}
	}
	free(c->vals);
	free(c->key);
}

void
cpolicy_unref(const struct cpolicy *ccp)
{
	struct cpolicy	*cp = (struct cpolicy *)ccp;
	struct cp_stmt	*st;
	size_t		 i, j;

	if (cp == NULL || atomic_fetch_sub_explicit(&cp->refcnt, 1,
	    memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < cp->nstmts; i++) {
		st = &cp->stmts[i];
		free(st->sid);
		cp_matcher_free(&st->action);
		cp_matcher_free(&st->resource);
		cp_matcher_free(&st->principal);
		for (j = 0; j < st->nconds; j++)
			cp_cond_free(&st->conds[j]);
		free(st->conds);
	}
	free(cp->stmts);
	free(cp->img);
	for (i = 0; i < cp->naccounts; i++)
		free(cp->accounts[i].s);
	free(cp->accounts);
	free(cp);
}

enum cpolicy_kind
cpolicy_kind(const struct cpolicy *cp)
{
	return (cp->kind);
}

size_t
cpolicy_nstmts(const struct cpolicy *cp)
{
	return (cp->nstmts);
}

const char *
cpolicy_stmt_sid(const struct cpolicy *cp, size_t i, size_t *lenp)
{
	if (i >= cp->nstmts) {
		*lenp = 0;
		return (NULL);
	}
	*lenp = cp->stmts[i].sidlen;
	return (cp->stmts[i].sid);
}

enum cpolicy_effect
cpolicy_stmt_effect(const struct cpolicy *cp, size_t i)
{
	return (i < cp->nstmts ? cp->stmts[i].effect : CPOLICY_DENY);
}

int
cpolicy_add_stmt(struct cpolicy *cp, enum cpolicy_effect effect,
    const char *sid, size_t sidlen)
{
	struct cp_stmt	*st;
	uint32_t	 cap;

	if (cp->finished || (effect != CPOLICY_ALLOW &&
	    effect != CPOLICY_DENY) || cp->nstmts >= UINT32_MAX / 4) {
		errno = EINVAL;
		return (-1);
	}
	cap = (uint32_t)cp->cap;
	if (cp_grow((void **)&cp->stmts, &cap, cp->nstmts,
	    sizeof(*cp->stmts)) == -1)
		return (-1);
	cp->cap = cap;
	st = &cp->stmts[cp->nstmts];
	memset(st, 0, sizeof(*st));
	st->effect = effect;
	if (sid != NULL) {
		if ((st->sid = malloc(sidlen + 1)) == NULL)
			return (-1);
		memcpy(st->sid, sid, sidlen);
		st->sid[sidlen] = '\0';
		st->sidlen = sidlen;
	}
	cp->nstmts++;
	return (0);
}

static int
cp_matcher_add(struct cp_matcher *m, const char *p, size_t len, int flags)
{
	struct glob	*g;

	if (cp_grow((void **)&m->globs, &m->cap, m->n, sizeof(*m->globs))
	    == -1)
		return (-1);
	if ((g = glob_compile(p, len, flags)) == NULL)
		return (-1);
	m->globs[m->n++] = g;
	if (cp_all_stars(p, len))
		m->any = 1;
	m->set = 1;
	return (0);
}

static int
cp_all_stars(const char *p, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++)
		if (p[i] != '*')
			return (0);
	return (1);
}

static struct cp_stmt *
cp_cur(struct cpolicy *cp)
{
	if (cp->finished || cp->nstmts == 0) {
		errno = EINVAL;
		return (NULL);
	}
	return (&cp->stmts[cp->nstmts - 1]);
}

int
cpolicy_stmt_action(struct cpolicy *cp, int negated, const char *p,
    size_t len)
{
	struct cp_stmt	*st;

	if ((st = cp_cur(cp)) == NULL)
		return (-1);
	if (st->action.set && st->action.negated != (negated != 0)) {
		errno = EINVAL;
		return (-1);
	}
	st->action.negated = negated != 0;
	return (cp_matcher_add(&st->action, p, len, GLOB_ICASE));
}

int
cpolicy_stmt_resource(struct cpolicy *cp, int negated, const char *p,
    size_t len)
{
	struct cp_stmt	*st;

	if ((st = cp_cur(cp)) == NULL)
		return (-1);
	if ((st->resource.set && st->resource.negated != (negated != 0)) ||
	    (cp->kind == CPOLICY_KEY && (negated || len != 1 || p[0] != '*'))) {
		errno = EINVAL;
		return (-1);
	}
	st->resource.negated = negated != 0;
	return (cp_matcher_add(&st->resource, p, len, 0));
}

int
cpolicy_stmt_principal(struct cpolicy *cp, const char *p, size_t len)
{
	struct cp_stmt		*st;
	struct cp_account	*a;
	char			 buf[1024];
	const char		*f, *acct, *end = p + len;
	size_t			 nf;
	uint32_t		 cap;

	if ((st = cp_cur(cp)) == NULL)
		return (-1);
	if (cp->kind != CPOLICY_KEY) {
		errno = EINVAL;
		return (-1);
	}
	/* The account part: the fourth ':'-separated field. */
	acct = NULL;
	nf = 0;
	for (f = p; f < end && nf < 3; f++)
		if (*f == ':')
			nf++;
	if (nf == 3) {
		acct = f;
		while (f < end && *f != ':')
			f++;
	}
	if (st->effect == CPOLICY_ALLOW && acct != NULL && f > acct) {
		cap = (uint32_t)cp->acap;
		if (cp_grow((void **)&cp->accounts, &cap, cp->naccounts,
		    sizeof(*cp->accounts)) == -1)
			return (-1);
		cp->acap = cap;
		a = &cp->accounts[cp->naccounts];
		if ((a->s = malloc((size_t)(f - acct) + 1)) == NULL)
			return (-1);
		a->len = (size_t)(f - acct);
		memcpy(a->s, acct, a->len);
		a->s[a->len] = '\0';
		cp->naccounts++;
	}
	/* acs:ram::UID:root means every identity of UID (section 2). */
	if (len >= 14 && len < sizeof(buf) && memcmp(p, "acs:ram::", 9) == 0 &&
	    memcmp(p + len - 5, ":root", 5) == 0 &&
	    memchr(p + 9, ':', len - 14) == NULL) {
		memcpy(buf, p, len - 4);
		buf[len - 4] = '*';
		return (cp_matcher_add(&st->principal, buf, len - 3, 0));
	}
	return (cp_matcher_add(&st->principal, p, len, 0));
}

int
cpolicy_stmt_cond(struct cpolicy *cp, enum cpolicy_op op, const char *key,
    size_t keylen)
{
	struct cp_stmt	*st;
	struct cp_cond	*c;
	size_t		 i, off = 0;

	if ((st = cp_cur(cp)) == NULL)
		return (-1);
	if ((unsigned)op >= CPOLICY_OP_COUNT || keylen == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (cp_grow((void **)&st->conds, &st->cap, st->nconds,
	    sizeof(*st->conds)) == -1)
		return (-1);
	c = &st->conds[st->nconds];
	memset(c, 0, sizeof(*c));
	c->op = op;
	switch (op) {
	case CPOLICY_OP_STRING_NOT_EQUALS:
	case CPOLICY_OP_STRING_NOT_EQUALS_IGNORE_CASE:
	case CPOLICY_OP_STRING_NOT_LIKE:
		c->negated = 1;
		__attribute__((__fallthrough__));
	case CPOLICY_OP_STRING_EQUALS:
	case CPOLICY_OP_STRING_EQUALS_IGNORE_CASE:
	case CPOLICY_OP_STRING_LIKE:
		c->fam = CP_FAM_STRING;
		break;
	case CPOLICY_OP_NUMERIC_NOT_EQUALS:
		c->negated = 1;
		__attribute__((__fallthrough__));
	case CPOLICY_OP_NUMERIC_EQUALS:
	case CPOLICY_OP_NUMERIC_LESS_THAN:
	case CPOLICY_OP_NUMERIC_LESS_THAN_EQUALS:
	case CPOLICY_OP_NUMERIC_GREATER_THAN:
	case CPOLICY_OP_NUMERIC_GREATER_THAN_EQUALS:
		c->fam = CP_FAM_NUMBER;
		break;
	case CPOLICY_OP_DATE_NOT_EQUALS:
		c->negated = 1;
		__attribute__((__fallthrough__));
	case CPOLICY_OP_DATE_EQUALS:
	case CPOLICY_OP_DATE_LESS_THAN:
	case CPOLICY_OP_DATE_LESS_THAN_EQUALS:
	case CPOLICY_OP_DATE_GREATER_THAN:
	case CPOLICY_OP_DATE_GREATER_THAN_EQUALS:
		c->fam = CP_FAM_DATE;
		break;
	case CPOLICY_OP_BOOL:
		c->fam = CP_FAM_BOOL;
		break;
	case CPOLICY_OP_NOT_IP_ADDRESS:
		c->negated = 1;
		__attribute__((__fallthrough__));
	case CPOLICY_OP_IP_ADDRESS:
		c->fam = CP_FAM_IP;
		break;
	}
	/* The lower-cased key, then the key as written (explanations). */
	if ((c->key = malloc(2 * keylen + 2)) == NULL)
		return (-1);
	for (i = 0; i < keylen; i++)
		c->key[i] = (char)glob_lower[(unsigned char)key[i]];
	c->key[keylen] = '\0';
	memcpy(c->key + keylen + 1, key, keylen);
	c->key[2 * keylen + 1] = '\0';
	c->keylen = keylen;
	if (strcmp(c->key, "acs:sourceip") == 0)
		c->keykind = CP_KEY_SOURCE_IP;
	else if (strcmp(c->key, "acs:currenttime") == 0)
		c->keykind = CP_KEY_CURRENT_TIME;
	else if (strncmp(c->key, "kms:tag/", 8) == 0)
		off = 8;
	else if (strncmp(c->key, "acs:resourcetag/", 16) == 0)
		off = 16;
	else
		c->keykind = CP_KEY_CONTEXT;
	if (off != 0) {
		/* Keep only the tag key. */
		c->keykind = CP_KEY_TAG;
		memmove(c->key, c->key + off, keylen - off + 1);
		memmove(c->key + keylen - off + 1, c->key + keylen + 1,
		    keylen + 1);
		c->keylen = keylen - off;
	}
	st->nconds++;
	return (0);
}

int
cpolicy_cond_value(struct cpolicy *cp, const char *v, size_t len)
{
	struct cp_stmt	*st;
	struct cp_cond	*c;
	union cp_val	*cv;

	if ((st = cp_cur(cp)) == NULL)
		return (-1);
	if (st->nconds == 0) {
		errno = EINVAL;
		return (-1);
	}
	c = &st->conds[st->nconds - 1];
	if (cp_grow((void **)&c->vals, &c->cap, c->nvals, sizeof(*c->vals))
	    == -1)
		return (-1);
	cv = &c->vals[c->nvals];
	memset(cv, 0, sizeof(*cv));
	switch (c->fam) {
	case CP_FAM_STRING:
		if ((cv->str.s = malloc(len + 1)) == NULL)
			return (-1);
		memcpy(cv->str.s, v, len);
		cv->str.s[len] = '\0';
		cv->str.len = len;
		if (c->op == CPOLICY_OP_STRING_LIKE ||
		    c->op == CPOLICY_OP_STRING_NOT_LIKE) {
			if ((cv->str.g = glob_compile(v, len, 0)) == NULL) {
				free(cv->str.s);
				return (-1);
			}
		}
		break;
	case CP_FAM_NUMBER:
		if (value_num_parse(v, len, &cv->num) == -1)
			goto inval;
		break;
	case CP_FAM_DATE:
		if (value_time_parse(v, len, &cv->time) == -1)
			goto inval;
		break;
	case CP_FAM_BOOL:
		if (value_bool_parse(v, len, &cv->bool_) == -1)
			goto inval;
		break;
	case CP_FAM_IP:
		if (value_ip_parse(v, len, 1, &cv->ip) == -1)
			goto inval;
		break;
	}
	c->nvals++;
	return (0);
inval:
	errno = EINVAL;
	return (-1);
}

int
cpolicy_finish(struct cpolicy *cp)
{
	size_t		 i, j;
	struct cp_stmt	*st;

	if (cp->finished || cp->nstmts == 0) {
		errno = EINVAL;
		return (-1);
	}
	/* Every statement needs actions, resources, and (key policies)
	 * principals; every condition a value. */
	for (i = 0; i < cp->nstmts; i++) {
		st = &cp->stmts[i];
		if (!st->action.set || !st->resource.set ||
		    (cp->kind == CPOLICY_KEY && !st->principal.set)) {
			errno = EINVAL;
			return (-1);
		}
		for (j = 0; j < st->nconds; j++) {
			if (st->conds[j].nvals == 0) {
				errno = EINVAL;
				return (-1);
			}
		}
	}
	if (cp_pack(cp) == -1)
		return (-1);
	cp_accounts_unique(cp);
	cp->finished = 1;
	return (0);
}

/* Shorter first, then bytewise: the order cpolicy_foreign_accounts
 * promises. */
static int
cp_account_cmp(const void *a, const void *b)
{
	const struct cp_account	*x = a, *y = b;

	if (x->len != y->len)
		return (x->len < y->len ? -1 : 1);
	return (memcmp(x->s, y->s, x->len));
}

/*
 * Sort the accounts and drop repeats once, at finish: a policy may name
 * one account in hundreds of patterns, and its foreign accounts are
 * listed on every key change (the share quota index).
 */
static void
cp_accounts_unique(struct cpolicy *cp)
{
	size_t	i, n;

	if (cp->naccounts < 2)
		return;
	qsort(cp->accounts, cp->naccounts, sizeof(*cp->accounts),
	    cp_account_cmp);
	for (i = 1, n = 1; i < cp->naccounts; i++) {
		if (cp_account_cmp(&cp->accounts[i], &cp->accounts[n - 1]) ==
		    0) {
			free(cp->accounts[i].s);
			continue;
		}
		cp->accounts[n++] = cp->accounts[i];
	}
	cp->naccounts = n;
}

int
cpolicy_foreign_accounts(const struct cpolicy *cp, const char *own,
    int (*cb)(const char *, size_t, void *), void *arg)
{
	size_t	i, j, ownlen = strlen(own);
	int	r;

	/* Sorted and without repeats once finished. */
	for (i = 0; i < cp->naccounts; i++) {
		if (cp->accounts[i].len == ownlen &&
		    memcmp(cp->accounts[i].s, own, ownlen) == 0)
			continue;
		for (j = 0; !cp->finished && j < i; j++)
			if (cp_account_cmp(&cp->accounts[j],
			    &cp->accounts[i]) == 0)
				break;
		if (!cp->finished && j < i)
			continue;
		if ((r = cb(cp->accounts[i].s, cp->accounts[i].len, arg)) != 0)
			return (r);
	}
	return (0);
}

/*
 * Known actions: the KMS API operations (the KMS API reference; also the
 * catalog of the lint and of kmsauthzctl analyze, cpolicy_action_name).
 * A request action that is one of them (ignoring ASCII case) is tested
 * against each statement's
 * precomputed bit set instead of its Action/NotAction globs; any other
 * action goes through the globs.  Adding a name changes no decision.
 */
static const char *const cp_action_names[] = {
	"kms:AdvanceDecrypt", "kms:AdvanceEncrypt",
	"kms:AdvanceGenerateDataKey", "kms:AsymmetricDecrypt",
	"kms:AsymmetricEncrypt", "kms:AsymmetricSign", "kms:AsymmetricVerify",
	"kms:CancelKeyDeletion", "kms:CertificatePrivateKeyDecrypt",
	"kms:CertificatePrivateKeySign", "kms:CertificatePublicKeyEncrypt",
	"kms:CertificatePublicKeyVerify", "kms:ConnectKmsInstance",
	"kms:CreateAlias", "kms:CreateApplicationAccessPoint",
	"kms:CreateCertificate", "kms:CreateClientKey", "kms:CreateInstance",
	"kms:CreateKey", "kms:CreateKeyVersion", "kms:CreateNetworkRule",
	"kms:CreatePolicy", "kms:CreateSecret", "kms:Decrypt",
	"kms:DeleteAlias", "kms:DeleteApplicationAccessPoint",
	"kms:DeleteCertificate", "kms:DeleteClientKey",
	"kms:DeleteKeyMaterial", "kms:DeleteNetworkRule", "kms:DeletePolicy",
	"kms:DeleteSecret", "kms:DescribeAccountKmsStatus",
	"kms:DescribeApplicationAccessPoint", "kms:DescribeCertificate",
	"kms:DescribeKey", "kms:DescribeKeyVersion",
	"kms:DescribeNetworkRule", "kms:DescribePolicy",
	"kms:DescribeRegions", "kms:DescribeSecret", "kms:DisableKey",
	"kms:EnableKey", "kms:Encrypt", "kms:ExportCertificate",
	"kms:ExportDataKey", "kms:GenerateAndExportDataKey",
	"kms:GenerateDataKey", "kms:GenerateDataKeyPair",
	"kms:GenerateDataKeyPairWithoutPlaintext",
	"kms:GenerateDataKeyWithoutPlaintext", "kms:GetCertificate",
	"kms:GetClientKey", "kms:GetKeyPolicy", "kms:GetKmsInstance",
	"kms:GetParametersForImport", "kms:GetPublicKey",
	"kms:GetRandomPassword", "kms:GetSecretPolicy", "kms:GetSecretValue",
	"kms:ImportKeyMaterial", "kms:ListAliases", "kms:ListAliasesByKeyId",
	"kms:ListApplicationAccessPoints", "kms:ListCertificates",
	"kms:ListClientKeys", "kms:ListKeyPolicies", "kms:ListKeyVersions",
	"kms:ListKeys", "kms:ListKmsInstances", "kms:ListNetworkRules",
	"kms:ListPolicies", "kms:ListResourceTags",
	"kms:ListSecretVersionIds", "kms:ListSecrets", "kms:ListTagResources",
	"kms:OpenKmsService", "kms:PutSecretValue", "kms:ReEncrypt",
	"kms:RestoreSecret", "kms:RotateSecret", "kms:ScheduleKeyDeletion",
	"kms:SetDeletionProtection", "kms:SetKeyPolicy",
	"kms:SetSecretPolicy", "kms:Sign", "kms:TagResource",
	"kms:TagResources", "kms:UntagResource", "kms:UntagResources",
	"kms:UpdateAlias", "kms:UpdateApplicationAccessPoint",
	"kms:UpdateCertificateStatus", "kms:UpdateKeyDescription",
	"kms:UpdateKmsInstanceBindVpc", "kms:UpdateNetworkRule",
	"kms:UpdatePolicy", "kms:UpdateRotationPolicy", "kms:UpdateSecret",
	"kms:UpdateSecretRotationPolicy", "kms:UpdateSecretVersionStage",
	"kms:UploadCertificate", "kms:Verify"
};
#define CP_NACTIONS	(sizeof(cp_action_names) / sizeof(cp_action_names[0]))
#define CP_ACTION_MAXLEN 64
#define CP_ATAB		256		/* open addressing, > 2 * CP_NACTIONS */

/* Lower-cased names and their hash table (slot: 1 + index, 0 empty). */
static char		cp_action_lc[CP_NACTIONS][CP_ACTION_MAXLEN];
static uint8_t		cp_action_len[CP_NACTIONS];
static uint8_t		cp_action_tab[CP_ATAB];
static pthread_once_t	cp_action_once = PTHREAD_ONCE_INIT;

_Static_assert(CP_NACTIONS <= 64 * CP_AWORDS, "too many known actions");
_Static_assert(CP_NACTIONS < CP_ATAB / 2, "action table too small");

/* Lower-cases s into lc and hashes it, in one pass: the table and the
 * lookup share it, so they cannot disagree. */
static uint32_t
cp_action_fold(const char *s, size_t len, char *lc)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++) {
		lc[i] = (char)glob_lower[(unsigned char)s[i]];
		h = (h ^ (unsigned char)lc[i]) * 16777619u;
	}
	return (h ^ (h >> 15));
}

static void
cp_action_init(void)
{
	size_t		i, len;
	uint32_t	h;

	for (i = 0; i < CP_NACTIONS; i++) {
		len = strlen(cp_action_names[i]);
		h = cp_action_fold(cp_action_names[i], len, cp_action_lc[i]);
		cp_action_len[i] = (uint8_t)len;
		while (cp_action_tab[h % CP_ATAB] != 0)
			h++;
		cp_action_tab[h % CP_ATAB] = (uint8_t)(i + 1);
	}
}

uint32_t
cpolicy_action_id(const char *s, size_t len)
{
	char		lc[CP_ACTION_MAXLEN];
	uint32_t	h;
	unsigned	slot;

	if (s == NULL || len == 0 || len >= CP_ACTION_MAXLEN)
		return (0);
	pthread_once(&cp_action_once, cp_action_init);
	for (h = cp_action_fold(s, len, lc);; h++) {
		if ((slot = cp_action_tab[h % CP_ATAB]) == 0)
			return (0);
		if (cp_action_len[slot - 1] == len &&
		    memcmp(cp_action_lc[slot - 1], lc, len) == 0)
			return (slot);
	}
}

const char *
cpolicy_action_name(uint32_t id)
{
	if (id == 0 || id > CP_NACTIONS)
		return (NULL);
	return (cp_action_names[id - 1]);
}

/*
 * The known actions a statement's Action (or NotAction) matches, by the
 * same rule as the globs: cpolicy_eval's bit test must equal
 * cp_matcher_match on every known action.
 */
static void
cp_action_mask(const struct cp_matcher *m, uint64_t *mask)
{
	const char	*pat;
	size_t		 i, k, len;
	uint32_t	 id;

	memset(mask, 0, CP_AWORDS * sizeof(*mask));
	for (i = 0; i < m->n; i++) {
		if (glob_is_literal(m->globs[i])) {
			/* Lower-cased already: at most one known name. */
			pat = glob_pattern(m->globs[i], &len);
			if ((id = cpolicy_action_id(pat, len)) != 0)
				mask[(id - 1) / 64] |= (uint64_t)1 <<
				    ((id - 1) % 64);
			continue;
		}
		for (k = 0; k < CP_NACTIONS; k++)
			if (glob_match(m->globs[i], cp_action_lc[k],
			    cp_action_len[k]))
				mask[k / 64] |= (uint64_t)1 << (k % 64);
	}
	for (k = 0; k < CP_NACTIONS; k++) {
		if (m->any)
			mask[k / 64] |= (uint64_t)1 << (k % 64);
		if (m->negated)
			mask[k / 64] ^= (uint64_t)1 << (k % 64);
	}
}

/* Two-pass packing: sizing with base NULL, then filling. */
struct cp_packer {
	char	*base;
	size_t	 off;
};

static void *
cp_put(struct cp_packer *pk, const void *src, size_t len)
{
	void	*d = NULL;

	pk->off = (pk->off + 7) & ~(size_t)7;
	if (pk->base != NULL) {
		d = pk->base + pk->off;
		if (src != NULL)
			memcpy(d, src, len);
	}
	pk->off += len;
	return (d);
}

static void
cp_pack_match(struct cp_packer *pk, const struct cp_matcher *m,
    struct cp_hmatch *hm)
{
	const struct glob	*g;
	uint32_t		 i;

	for (i = 0; i < m->n; i++) {
		g = cp_put(pk, m->globs[i], glob_size(m->globs[i]));
		if (hm != NULL && i == 0)
			hm->first = g;
	}
	if (hm != NULL) {
		hm->n = m->n;
		hm->negated = m->negated;
		hm->any = m->any;
	}
}

/* A condition key's bytes: lower-cased, NUL, as written, NUL. */
static size_t
cp_key_size(const struct cp_cond *c)
{
	return (c->keylen + 1 + strlen(c->key + c->keylen + 1) + 1);
}

static void
cp_pack_conds(struct cp_packer *pk, const struct cp_stmt *st,
    struct cp_hstmt *hs)
{
	struct cp_cond		*cv;
	const struct cp_cond	*c;
	union cp_val		*vv;
	uint32_t		 j, k;

	cv = cp_put(pk, st->conds, st->nconds * sizeof(*st->conds));
	for (j = 0; j < st->nconds; j++) {
		c = &st->conds[j];
		vv = cp_put(pk, c->vals, c->nvals * sizeof(*c->vals));
		if (cv != NULL) {
			cv[j].vals = vv;
			cv[j].cap = c->nvals;
			cv[j].key = cp_put(pk, c->key, cp_key_size(c));
		} else
			(void)cp_put(pk, NULL, cp_key_size(c));
		if (c->fam != CP_FAM_STRING)
			continue;
		for (k = 0; k < c->nvals; k++) {
			if (vv != NULL)
				vv[k].str.s = cp_put(pk, c->vals[k].str.s,
				    c->vals[k].str.len + 1);
			else
				(void)cp_put(pk, NULL, c->vals[k].str.len + 1);
			if (c->vals[k].str.g == NULL)
				continue;
			if (vv != NULL)
				vv[k].str.g = cp_put(pk, c->vals[k].str.g,
				    glob_size(c->vals[k].str.g));
			else
				(void)cp_put(pk, NULL,
				    glob_size(c->vals[k].str.g));
		}
	}
	if (hs != NULL) {
		hs->conds = cv;
		hs->nconds = st->nconds;
	}
}

/*
 * Build the evaluation image, then drop the builder's matchers and
 * conditions (the image holds copies); Sids stay in cp->stmts.
 */
static int
cp_pack(struct cpolicy *cp)
{
	struct cp_packer	 pk;
	struct cpolicy_image	*img = NULL;
	struct cp_hstmt		*hs = NULL;
	struct cp_stmt		*st;
	size_t			 i, j, pass;

	pthread_once(&cp_action_once, cp_action_init);
	memset(&pk, 0, sizeof(pk));
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if ((pk.base = calloc(1, pk.off)) == NULL)
				return (-1);
			pk.off = 0;
		}
		img = cp_put(&pk, NULL, sizeof(*img) +
		    cp->nstmts * sizeof(*hs));
		hs = img != NULL ? img->stmt : NULL;
		for (i = 0; i < cp->nstmts; i++) {
			st = &cp->stmts[i];
			cp_pack_match(&pk, &st->action,
			    hs != NULL ? &hs[i].action : NULL);
			cp_pack_match(&pk, cp->kind == CPOLICY_KEY ?
			    &st->principal : &st->resource,
			    hs != NULL ? &hs[i].target : NULL);
			cp_pack_conds(&pk, st, hs != NULL ? &hs[i] : NULL);
			if (hs != NULL) {
				hs[i].effect = (uint8_t)st->effect;
				cp_action_mask(&st->action, hs[i].amask);
			}
		}
	}
	img->cp = cp;
	img->nstmts = (uint32_t)cp->nstmts;
	img->kind = cp->kind;
	cp->img = img;
	for (i = 0; i < cp->nstmts; i++) {
		st = &cp->stmts[i];
		cp_matcher_free(&st->action);
		cp_matcher_free(&st->resource);
		cp_matcher_free(&st->principal);
		for (j = 0; j < st->nconds; j++)
			cp_cond_free(&st->conds[j]);
		free(st->conds);
		memset(&st->action, 0, sizeof(st->action));
		memset(&st->resource, 0, sizeof(st->resource));
		memset(&st->principal, 0, sizeof(st->principal));
		st->conds = NULL;
		st->nconds = 0;
	}
	return (0);
}

/* Evaluation. */

static int
cp_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	i;

	if (alen != blen)
		return (0);
	for (i = 0; i < alen; i++)
		if (glob_lower[(unsigned char)a[i]] !=
		    glob_lower[(unsigned char)b[i]])
			return (0);
	return (1);
}

/* RFC 3339 in UTC, for string operators on acs:CurrentTime. */
static size_t
cp_fmt_time(const struct value_time *t, char *buf, size_t sz)
{
	int64_t		days, secs, y, era, doe, yoe, doy, mp, d, m;
	int		n;

	days = t->sec / 86400;
	secs = t->sec % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* civil_from_days (H. Hinnant). */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	n = snprintf(buf, sz, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
	    (long long)y, (long long)m, (long long)d,
	    (long long)(secs / 3600), (long long)(secs / 60 % 60),
	    (long long)(secs % 60));
	if (n < 0 || (size_t)n >= sz)
		return (0);
	return ((size_t)n);
}

/*
 * Test one request value against the condition's values: 1 when some
 * value matches (before negation), 0 when none does, -1 when the request
 * value cannot be read as the operator's type.  ip / tm: the typed value
 * when the source is typed already (NULL otherwise).
 */
static int
cp_value_test(const struct cp_cond *c, const char *s, size_t len,
    const struct value_ip *ip, const struct value_time *tm)
{
	struct value_num	 num;
	struct value_time	 t;
	struct value_ip		 a;
	const union cp_val	*v;
	uint32_t		 i;
	int			 b, cmp;

	switch (c->fam) {
	case CP_FAM_STRING:
		for (i = 0; i < c->nvals; i++) {
			v = &c->vals[i];
			switch (c->op) {
			case CPOLICY_OP_STRING_EQUALS:
			case CPOLICY_OP_STRING_NOT_EQUALS:
				if (v->str.len == len &&
				    memcmp(v->str.s, s, len) == 0)
					return (1);
				break;
			case CPOLICY_OP_STRING_EQUALS_IGNORE_CASE:
			case CPOLICY_OP_STRING_NOT_EQUALS_IGNORE_CASE:
				if (cp_ieq(v->str.s, v->str.len, s, len))
					return (1);
				break;
			default:
				if (glob_match(v->str.g, s, len))
					return (1);
				break;
			}
		}
		return (0);
	case CP_FAM_NUMBER:
		if (value_num_parse(s, len, &num) == -1)
			return (-1);
		for (i = 0; i < c->nvals; i++) {
			cmp = value_num_cmp(&num, &c->vals[i].num);
			switch (c->op) {
			case CPOLICY_OP_NUMERIC_EQUALS:
			case CPOLICY_OP_NUMERIC_NOT_EQUALS:
				b = cmp == 0;
				break;
			case CPOLICY_OP_NUMERIC_LESS_THAN:
				b = cmp < 0;
				break;
			case CPOLICY_OP_NUMERIC_LESS_THAN_EQUALS:
				b = cmp <= 0;
				break;
			case CPOLICY_OP_NUMERIC_GREATER_THAN:
				b = cmp > 0;
				break;
			default:
				b = cmp >= 0;
				break;
			}
			if (b)
				return (1);
		}
		return (0);
	case CP_FAM_DATE:
		if (tm != NULL)
			t = *tm;
		else if (value_time_parse(s, len, &t) == -1)
			return (-1);
		for (i = 0; i < c->nvals; i++) {
			cmp = value_time_cmp(&t, &c->vals[i].time);
			switch (c->op) {
			case CPOLICY_OP_DATE_EQUALS:
			case CPOLICY_OP_DATE_NOT_EQUALS:
				b = cmp == 0;
				break;
			case CPOLICY_OP_DATE_LESS_THAN:
				b = cmp < 0;
				break;
			case CPOLICY_OP_DATE_LESS_THAN_EQUALS:
				b = cmp <= 0;
				break;
			case CPOLICY_OP_DATE_GREATER_THAN:
				b = cmp > 0;
				break;
			default:
				b = cmp >= 0;
				break;
			}
			if (b)
				return (1);
		}
		return (0);
	case CP_FAM_BOOL:
		if (value_bool_parse(s, len, &b) == -1)
			return (-1);
		for (i = 0; i < c->nvals; i++)
			if (c->vals[i].bool_ == b)
				return (1);
		return (0);
	case CP_FAM_IP:
		if (ip != NULL)
			a = *ip;
		else if (value_ip_parse(s, len, 0, &a) == -1)
			return (-1);
		for (i = 0; i < c->nvals; i++)
			if (value_ip_contains(&c->vals[i].ip, &a))
				return (1);
		return (0);
	}
	return (-1);
}

static int
cp_cond_holds(const struct cp_cond *c, const struct cpolicy_req *rq)
{
	const struct eval_ctx	*ctx = rq->ctx;
	const struct value_ip	*ip = NULL;
	const struct value_time	*tm = NULL;
	const char		*s = NULL;
	size_t			 i, len = 0, tl;
	char			 buf[64];
	int			 r;

	switch (c->keykind) {
	case CP_KEY_SOURCE_IP:
		if (rq->source_ip != NULL) {
			ip = rq->source_ip;
			if (c->fam != CP_FAM_IP) {
				if (inet_ntop(ip->family == 4 ? AF_INET :
				    AF_INET6, ip->addr, buf, sizeof(buf)) ==
				    NULL)
					return (0);
				s = buf;
				len = strlen(buf);
			}
			break;
		}
		/* Without a request address, a context acs:SourceIp. */
		for (i = 0; i < rq->nctx; i++) {
			if (cp_ieq(ctx[i].key, ctx[i].keylen, c->key,
			    c->keylen)) {
				s = ctx[i].value;
				len = ctx[i].valuelen;
				break;
			}
		}
		break;
	case CP_KEY_CURRENT_TIME:
		tm = rq->now;
		if (c->fam != CP_FAM_DATE) {
			if ((len = cp_fmt_time(tm, buf, sizeof(buf))) == 0)
				return (0);
			s = buf;
		}
		break;
	case CP_KEY_TAG:
		for (i = 0; i < rq->ntags; i++) {
			tl = strlen(rq->tags[i].key);
			if (cp_ieq(rq->tags[i].key, tl, c->key, c->keylen)) {
				s = rq->tags[i].value;
				len = strlen(s);
				break;
			}
		}
		break;
	case CP_KEY_CONTEXT:
		for (i = 0; i < rq->nctx; i++) {
			if (cp_ieq(ctx[i].key, ctx[i].keylen, c->key,
			    c->keylen)) {
				s = ctx[i].value;
				len = ctx[i].valuelen;
				break;
			}
		}
		break;
	}
	if (s == NULL && ip == NULL && tm == NULL)
		return (c->negated);		/* a missing key */
	r = cp_value_test(c, s, len, ip, tm);
	if (r == -1)
		return (0);			/* unreadable: false */
	return (c->negated ? !r : r);
}

/* A packed matcher (cp_matcher_match over the image). */
static int
cp_hmatch(const struct cp_hmatch *m, const char *s, size_t len)
{
	const struct glob	*g = m->first;
	uint32_t		 i;
	int			 hit = m->any;

	for (i = 0; !hit && i < m->n; i++) {
		hit = glob_match(g, s, len);
		g = (const struct glob *)(const void *)((const char *)g +
		    glob_size(g));
	}
	return (m->negated ? !hit : hit);
}

unsigned
cpolicy_eval(const struct cpolicy *cp, const struct cpolicy_req *rq,
    cpolicy_match_cb cb, void *arg)
{
	if (cp == NULL)
		return (0);
	return (cpolicy_image_eval(cp->img, rq, cb, arg));
}

const struct cpolicy_image *
cpolicy_image(const struct cpolicy *cp)
{
	return (cp != NULL ? cp->img : NULL);
}

const struct cpolicy *
cpolicy_image_policy(const struct cpolicy_image *img)
{
	return (img->cp);
}

unsigned
cpolicy_image_eval(const struct cpolicy_image *img,
    const struct cpolicy_req *rq, cpolicy_match_cb cb, void *arg)
{
	const struct cp_hstmt	*st;
	const char		*t;
	uint64_t		 abit = 0;
	unsigned		 bits = 0, aw = 0;
	size_t			 i, n, tlen;
	uint32_t		 j;

	if (img == NULL)
		return (0);
	if (rq->action_id > 0 && rq->action_id <= CP_NACTIONS) {
		aw = (rq->action_id - 1) / 64;
		abit = (uint64_t)1 << ((rq->action_id - 1) % 64);
	}
	/* Key policies match the caller, identity policies the resource. */
	if (img->kind == CPOLICY_KEY) {
		t = rq->principal;
		tlen = rq->principal_len;
	} else {
		t = rq->resource;
		tlen = rq->resource_len;
	}
	n = img->nstmts;
	for (i = 0; i < n; i++) {
		st = &img->stmt[i];
		if (abit != 0) {
			if ((st->amask[aw] & abit) == 0)
				continue;
		} else if (!cp_hmatch(&st->action, rq->action, rq->action_len))
			continue;
		if (!cp_hmatch(&st->target, t, tlen))
			continue;
		for (j = 0; j < st->nconds; j++)
			if (!cp_cond_holds(&st->conds[j], rq))
				break;
		if (j < st->nconds)
			continue;
		bits |= st->effect == CPOLICY_ALLOW ? 1 : 2;
		if (cb != NULL && cb((uint32_t)i, (enum cpolicy_effect)st->effect,
		    arg) != 0)
			break;
	}
	return (bits);
}

/*
 * Explanations (the slow path: only asked for, never on a plain
 * decision).  cp_cond_lookup finds a condition's request value the way
 * cp_cond_holds does; it is kept apart so that the decision's own code
 * stays as it is.
 */
static int
cp_cond_lookup(const struct cp_cond *c, const struct cpolicy_req *rq,
    const char **sp, size_t *lenp, char *buf, size_t bufsz)
{
	const struct eval_ctx	*ctx = rq->ctx;
	size_t			 i;

	*sp = NULL;
	*lenp = 0;
	switch (c->keykind) {
	case CP_KEY_SOURCE_IP:
		if (rq->source_ip != NULL) {
			if (inet_ntop(rq->source_ip->family == 4 ? AF_INET :
			    AF_INET6, rq->source_ip->addr, buf,
			    (socklen_t)bufsz) == NULL)
				return (-1);
			*sp = buf;
			*lenp = strlen(buf);
			return (0);
		}
		break;
	case CP_KEY_CURRENT_TIME:
		if ((*lenp = cp_fmt_time(rq->now, buf, bufsz)) == 0)
			return (-1);
		*sp = buf;
		return (0);
	case CP_KEY_TAG:
		for (i = 0; i < rq->ntags; i++)
			if (cp_ieq(rq->tags[i].key, strlen(rq->tags[i].key),
			    c->key, c->keylen)) {
				*sp = rq->tags[i].value;
				*lenp = strlen(*sp);
				return (0);
			}
		return (0);
	case CP_KEY_CONTEXT:
		break;
	}
	for (i = 0; i < rq->nctx; i++)
		if (cp_ieq(ctx[i].key, ctx[i].keylen, c->key, c->keylen)) {
			*sp = ctx[i].value;
			*lenp = ctx[i].valuelen;
			return (0);
		}
	return (0);
}

/* One condition value as text. */
static void
cp_val_text(const struct cp_cond *c, const union cp_val *v, char *buf,
    size_t sz)
{
	char	a[64];
	size_t	n;

	switch (c->fam) {
	case CP_FAM_STRING:
		snprintf(buf, sz, "\"%.*s\"", (int)(v->str.len > 64 ? 64 :
		    v->str.len), v->str.s);
		break;
	case CP_FAM_NUMBER:
		/* Normalised: no leading zeros, so 0.5 has no integer
		 * digit and 0 none at all. */
		n = (size_t)v->num.nint;
		snprintf(buf, sz, "%s%.*s%s%s%.*s", v->num.neg ? "-" : "",
		    (int)n, v->num.digits, n == 0 ? "0" : "",
		    v->num.nfrac ? "." : "", (int)v->num.nfrac,
		    v->num.digits + n);
		break;
	case CP_FAM_DATE:
		if (cp_fmt_time(&v->time, buf, sz) == 0)
			snprintf(buf, sz, "?");
		break;
	case CP_FAM_BOOL:
		snprintf(buf, sz, "%s", v->bool_ ? "true" : "false");
		break;
	case CP_FAM_IP:
		if (inet_ntop(v->ip.family == 4 ? AF_INET : AF_INET6,
		    v->ip.addr, a, sizeof(a)) == NULL)
			snprintf(a, sizeof(a), "?");
		snprintf(buf, sz, "%s/%u", a, (unsigned)v->ip.prefix);
		break;
	}
}

/*
 * Why condition c fails for rq, e.g. "acs:SourceIp 198.51.100.7 not in
 * 192.0.2.0/24", "kms:tag/Env missing", "acs:SecureTransport \"false\"
 * fails Bool true".  At most CPOLICY_MAX_WHY bytes with the NUL.
 */
static void
cp_cond_why(const struct cp_cond *c, const struct cpolicy_req *rq,
    char *out, size_t sz)
{
	const char	*key = c->key + c->keylen + 1, *s;
	char		 buf[64], vals[160], one[96];
	size_t		 len, used = 0;
	uint32_t	 i;

	vals[0] = '\0';
	for (i = 0; i < c->nvals && used + 8 < sizeof(vals); i++) {
		cp_val_text(c, &c->vals[i], one, sizeof(one));
		used += (size_t)snprintf(vals + used, sizeof(vals) - used,
		    "%s%s", i > 0 ? ", " : "", one);
		if (used >= sizeof(vals)) {
			used = sizeof(vals) - 1;
			break;
		}
	}
	if (i < c->nvals && used + 6 < sizeof(vals))
		memcpy(vals + used, ", ...", 6);
	if (cp_cond_lookup(c, rq, &s, &len, buf, sizeof(buf)) == -1 ||
	    s == NULL) {
		snprintf(out, sz, "%s missing", key);
		return;
	}
	if (len > 96)
		len = 96;
	if (c->fam == CP_FAM_IP)
		snprintf(out, sz, "%s %.*s %s %s", key, (int)len, s,
		    c->negated ? "in" : "not in", vals);
	else
		snprintf(out, sz, "%s \"%.*s\" fails %s %s", key, (int)len, s,
		    cpolicy_op_names[c->op], vals);
}

unsigned
cpolicy_image_misses(const struct cpolicy_image *img,
    const struct cpolicy_req *rq, cpolicy_miss_cb cb, void *arg)
{
	const struct cp_hstmt	*st;
	const char		*t;
	char			 why[CPOLICY_MAX_WHY];
	unsigned		 n = 0;
	size_t			 i, tlen;
	uint32_t		 j;

	if (img == NULL)
		return (0);
	if (img->kind == CPOLICY_KEY) {
		t = rq->principal;
		tlen = rq->principal_len;
	} else {
		t = rq->resource;
		tlen = rq->resource_len;
	}
	for (i = 0; i < img->nstmts; i++) {
		st = &img->stmt[i];
		if (!cp_hmatch(&st->action, rq->action, rq->action_len) ||
		    !cp_hmatch(&st->target, t, tlen))
			continue;
		for (j = 0; j < st->nconds; j++)
			if (!cp_cond_holds(&st->conds[j], rq))
				break;
		if (j == st->nconds)
			continue;		/* it applies: no miss */
		cp_cond_why(&st->conds[j], rq, why, sizeof(why));
		n++;
		if (cb((uint32_t)i, (enum cpolicy_effect)st->effect, why,
		    arg) != 0)
			break;
	}
	return (n);
}

/*
 * Analysis (src/engine/analyze.c; never on the decision path).  The
 * statements are read through the image as the decision reads them.
 */

/* A statement's action (unless any_action) and target match rq. */
static int
cp_structural(const struct cp_hstmt *st, const struct cpolicy_req *rq,
    int kind, int any_action)
{
	if (!any_action && !cp_hmatch(&st->action, rq->action, rq->action_len))
		return (0);
	if (kind == CPOLICY_KEY)
		return (cp_hmatch(&st->target, rq->principal,
		    rq->principal_len));
	return (cp_hmatch(&st->target, rq->resource, rq->resource_len));
}

/* The next address after (dir > 0) or before a, 0 when it wraps. */
static int
cp_ip_step(const struct value_ip *a, int dir, struct value_ip *out)
{
	int	i, n = a->family == 4 ? 4 : 16;

	*out = *a;
	out->prefix = (uint8_t)(n * 8);
	for (i = n - 1; i >= 0; i--) {
		if (dir > 0 && out->addr[i]++ != 0xff)
			return (1);
		if (dir < 0 && out->addr[i]-- != 0x00)
			return (1);
	}
	return (0);
}

static void
cp_wit_ip(const struct value_ip *a, const char *key, size_t keylen,
    cpolicy_witness_cb cb, void *arg)
{
	char	buf[64];

	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf,
	    sizeof(buf)) != NULL)
		cb(CPOLICY_WK_SOURCE_IP, key, keylen, buf, strlen(buf), arg);
}

/* The witnesses of one network: its first address, the one before it
 * and the one after its last. */
static void
cp_wit_net(const struct value_ip *net, const char *key, size_t keylen,
    cpolicy_witness_cb cb, void *arg)
{
	struct value_ip	a, b;
	int		n = net->family == 4 ? 4 : 16, bits, i;

	a = *net;
	a.prefix = (uint8_t)(n * 8);
	cp_wit_ip(&a, key, keylen, cb, arg);
	if (cp_ip_step(&a, -1, &b))
		cp_wit_ip(&b, key, keylen, cb, arg);
	/* The last address: host bits set. */
	for (i = 0; i < n; i++) {
		bits = (int)net->prefix - i * 8;
		if (bits <= 0)
			a.addr[i] = 0xff;
		else if (bits < 8)
			a.addr[i] |= (uint8_t)(0xff >> bits);
	}
	if (cp_ip_step(&a, 1, &b))
		cp_wit_ip(&b, key, keylen, cb, arg);
}

/* A time and the seconds either side of it. */
static void
cp_wit_time(const struct value_time *t, int kind, const char *key,
    size_t keylen, cpolicy_witness_cb cb, void *arg)
{
	struct value_time	u;
	char			buf[64], frac[16];
	size_t			n;
	int			d;

	for (d = -1; d <= 1; d++) {
		u.sec = t->sec + d;
		u.nsec = t->nsec;
		if ((n = cp_fmt_time(&u, buf, sizeof(buf))) == 0)
			continue;
		if (u.nsec != 0 && n > 1) {
			/* ...SSZ to ...SS.NNNNNNNNNZ */
			snprintf(frac, sizeof(frac), ".%09dZ", (int)u.nsec);
			snprintf(buf + n - 1, sizeof(buf) - (n - 1), "%s",
			    frac);
			n = strlen(buf);
		}
		cb(kind, key, keylen, buf, n, arg);
	}
}

/* Witness strings of a string condition value: itself, in both cases,
 * and for a pattern an instance of it. */
static void
cp_wit_str(const struct cp_cond *c, const union cp_val *v, int kind,
    const char *key, size_t keylen, cpolicy_witness_cb cb, void *arg)
{
	char	buf[600];
	size_t	i, n;

	n = v->str.len < sizeof(buf) ? v->str.len : sizeof(buf) - 1;
	cb(kind, key, keylen, v->str.s, v->str.len, arg);
	if (c->op == CPOLICY_OP_STRING_EQUALS_IGNORE_CASE ||
	    c->op == CPOLICY_OP_STRING_NOT_EQUALS_IGNORE_CASE) {
		/* The same letters in other cases: equal ignoring case
		 * only. */
		for (i = 0; i < n; i++)
			buf[i] = (char)glob_lower[(unsigned char)v->str.s[i]];
		cb(kind, key, keylen, buf, n, arg);
		for (i = 0; i < n; i++)
			buf[i] = (char)(v->str.s[i] >= 'a' &&
			    v->str.s[i] <= 'z' ? v->str.s[i] - 32 :
			    v->str.s[i]);
		cb(kind, key, keylen, buf, n, arg);
	}
	if (c->op != CPOLICY_OP_STRING_LIKE &&
	    c->op != CPOLICY_OP_STRING_NOT_LIKE)
		return;
	/* '*' as nothing, then as "z"; '?' as "z": instances of the
	 * pattern, which the analysis may join with another's. */
	kind |= CPOLICY_WK_PATTERN;
	for (i = n = 0; i < v->str.len && n < sizeof(buf) - 1; i++)
		if (v->str.s[i] != '*')
			buf[n++] = v->str.s[i] == '?' ? 'z' : v->str.s[i];
	cb(kind, key, keylen, buf, n, arg);
	for (i = n = 0; i < v->str.len && n < sizeof(buf) - 1; i++)
		buf[n++] = v->str.s[i] == '*' || v->str.s[i] == '?' ? 'z' :
		    v->str.s[i];
	cb(kind, key, keylen, buf, n, arg);
}

static void
cp_wit_num(const struct value_num *v, int kind, const char *key,
    size_t keylen, cpolicy_witness_cb cb, void *arg)
{
	char		 buf[160], txt[80];
	long double	 x;
	size_t		 n = v->nint;

	snprintf(txt, sizeof(txt), "%s%.*s%s%s%.*s", v->neg ? "-" : "",
	    (int)n, v->digits, n == 0 ? "0" : "", v->nfrac ? "." : "",
	    (int)v->nfrac, v->digits + n);
	cb(kind, key, keylen, txt, strlen(txt), arg);
	x = strtold(txt, NULL);
	snprintf(buf, sizeof(buf), "%.6Lf", x - 0.5L);
	cb(kind, key, keylen, buf, strlen(buf), arg);
	snprintf(buf, sizeof(buf), "%.6Lf", x + 0.5L);
	cb(kind, key, keylen, buf, strlen(buf), arg);
}

/* The witnesses of one condition whose value comes from the request. */
static void
cp_wit_cond(const struct cp_cond *c, cpolicy_witness_cb cb, void *arg)
{
	const char	*key;
	size_t		 keylen;
	uint32_t	 i;
	int		 kind;

	switch (c->keykind) {
	case CP_KEY_TAG:
		return;			/* the key's, not the request's */
	case CP_KEY_SOURCE_IP:
		kind = CPOLICY_WK_SOURCE_IP;
		key = "acs:SourceIp";
		break;
	case CP_KEY_CURRENT_TIME:
		kind = CPOLICY_WK_TIME;
		key = "acs:CurrentTime";
		break;
	default:
		kind = CPOLICY_WK_CONTEXT;
		key = c->key + c->keylen + 1;
		break;
	}
	keylen = strlen(key);
	/* Absent (a current time is never absent), and unreadable. */
	if (kind != CPOLICY_WK_TIME)
		cb(kind, key, keylen, NULL, 0, arg);
	if (kind == CPOLICY_WK_CONTEXT)
		cb(kind, key, keylen, "kmsauthz-none", 13, arg);
	for (i = 0; i < c->nvals; i++) {
		switch (c->fam) {
		case CP_FAM_IP:
			if (kind == CPOLICY_WK_TIME)
				break;
			cp_wit_net(&c->vals[i].ip, key, keylen, cb, arg);
			break;
		case CP_FAM_DATE:
			cp_wit_time(&c->vals[i].time, kind, key, keylen, cb,
			    arg);
			break;
		case CP_FAM_NUMBER:
			if (kind == CPOLICY_WK_CONTEXT)
				cp_wit_num(&c->vals[i].num, kind, key, keylen,
				    cb, arg);
			break;
		case CP_FAM_BOOL:
			if (kind == CPOLICY_WK_CONTEXT) {
				cb(kind, key, keylen, "true", 4, arg);
				cb(kind, key, keylen, "false", 5, arg);
			}
			break;
		case CP_FAM_STRING:
			if (kind == CPOLICY_WK_CONTEXT)
				cp_wit_str(c, &c->vals[i], kind, key, keylen,
				    cb, arg);
			break;
		}
	}
	if (kind == CPOLICY_WK_SOURCE_IP) {
		/* Both families, whatever the networks. */
		cb(kind, key, keylen, "255.255.255.255", 15, arg);
		cb(kind, key, keylen, "ffff::1", 7, arg);
	}
}

void
cpolicy_image_witnesses(const struct cpolicy_image *img,
    const struct cpolicy_req *rq, int any_action, cpolicy_witness_cb cb,
    void (*stmt_cb)(const uint64_t *, void *), void *arg)
{
	const struct cp_hstmt	*st;
	size_t			 i;
	uint32_t		 j;

	if (img == NULL)
		return;
	for (i = 0; i < img->nstmts; i++) {
		st = &img->stmt[i];
		if (!cp_structural(st, rq, (int)img->kind, any_action) ||
		    st->nconds == 0)
			continue;
		if (stmt_cb != NULL)
			stmt_cb(st->amask, arg);
		for (j = 0; j < st->nconds; j++)
			cp_wit_cond(&st->conds[j], cb, arg);
	}
}

void
cpolicy_image_cond_texts(const struct cpolicy_image *img, uint32_t index,
    void (*cb)(const char *, void *), void *arg)
{
	const struct cp_hstmt	*st;
	const struct cp_cond	*c;
	char			 text[CPOLICY_MAX_WHY], one[96];
	size_t			 used;
	uint32_t		 j, k;

	if (img == NULL || index >= img->nstmts)
		return;
	st = &img->stmt[index];
	for (j = 0; j < st->nconds; j++) {
		c = &st->conds[j];
		if (c->keykind == CP_KEY_TAG)
			continue;	/* decided by the key's tags */
		used = (size_t)snprintf(text, sizeof(text), "%s %s",
		    cpolicy_op_names[c->op], c->key + c->keylen + 1);
		for (k = 0; k < c->nvals && used < sizeof(text) - 8; k++) {
			cp_val_text(c, &c->vals[k], one, sizeof(one));
			used += (size_t)snprintf(text + used,
			    sizeof(text) - used, "%s%s", k == 0 ? " " : ", ",
			    one);
		}
		cb(text, arg);
	}
}

void
cpolicy_image_patterns(const struct cpolicy_image *img, uint32_t index,
    void (*cb)(const char *, size_t, int, void *), void *arg)
{
	const struct cp_hmatch	*m;
	const struct glob	*g;
	const char		*p;
	size_t			 len;
	uint32_t		 i;

	if (img == NULL || index >= img->nstmts)
		return;
	m = &img->stmt[index].target;
	g = m->first;
	for (i = 0; i < m->n; i++) {
		p = glob_pattern(g, &len);
		cb(p, len, m->negated, arg);
		g = (const struct glob *)(const void *)((const char *)g +
		    glob_size(g));
	}
}

size_t
cpolicy_image_nstmts(const struct cpolicy_image *img)
{
	return (img != NULL ? img->nstmts : 0);
}

int
cpolicy_image_stmt_deny(const struct cpolicy_image *img, uint32_t index)
{
	return (img != NULL && index < img->nstmts &&
	    img->stmt[index].effect == CPOLICY_DENY);
}

/* SPDX-License-Identifier: ISC */
/*
 * test-eval.c: the compiled world (builder, lookups, structural sharing,
 * reference counting, the holder) and the decision of section 4.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/cpolicy.h"
#include "engine/eval.h"
#include "engine/value.h"
#include "engine/world.h"

#define A1	"1111111111111111"
#define A2	"2222222222222222"
#define KEY1	"key-aaaa"
#define KEY2	"key-bbbb"
#define KARN1	"acs:kms:cn-hangzhou:" A1 ":key/" KEY1
#define KARN2	"acs:kms:cn-hangzhou:" A1 ":key/" KEY2

/*
 * A statement spec: effect 'A'/'D', a Sid (NULL: none), '|'-separated
 * actions (prefix '!' for NotAction), resources (prefix '!' for
 * NotResource), principals (key policies), and up to two conditions
 * "Operator key value1|value2".
 */
struct sspec {
	char		 effect;
	const char	*sid;
	const char	*actions;
	const char	*resources;
	const char	*principals;
	const char	*cond[2];
};

typedef int (*add_fn)(struct cpolicy *, int, const char *, size_t);

static void
add_list(struct cpolicy *cp, const char *list, int kind)
{
	const char	*p, *bar;
	int		 neg = 0;
	size_t		 len;

	if (list == NULL)
		return;
	p = list;
	if (*p == '!' && kind != 2) {
		neg = 1;
		p++;
	}
	for (;;) {
		bar = strchr(p, '|');
		len = bar ? (size_t)(bar - p) : strlen(p);
		if (kind == 0)
			assert_int_equal(cpolicy_stmt_action(cp, neg, p, len),
			    0);
		else if (kind == 1)
			assert_int_equal(cpolicy_stmt_resource(cp, neg, p,
			    len), 0);
		else
			assert_int_equal(cpolicy_stmt_principal(cp, p, len),
			    0);
		if (bar == NULL)
			break;
		p = bar + 1;
	}
}

static void
add_cond(struct cpolicy *cp, const char *spec)
{
	char		 buf[256], *op, *key, *vals, *v, *save = NULL;
	enum cpolicy_op	 o;

	snprintf(buf, sizeof(buf), "%s", spec);
	op = strtok_r(buf, " ", &save);
	key = strtok_r(NULL, " ", &save);
	vals = strtok_r(NULL, "", &save);
	assert_int_equal(cpolicy_op_parse(op, strlen(op), &o), 0);
	assert_int_equal(cpolicy_stmt_cond(cp, o, key, strlen(key)), 0);
	for (v = strtok_r(vals, "|", &save); v != NULL;
	    v = strtok_r(NULL, "|", &save))
		assert_int_equal(cpolicy_cond_value(cp, v, strlen(v)), 0);
}

static struct cpolicy *
mkpol(enum cpolicy_kind kind, const struct sspec *s, size_t n)
{
	struct cpolicy	*cp;
	size_t		 i;

	cp = cpolicy_new(kind);
	assert_non_null(cp);
	for (i = 0; i < n; i++) {
		assert_int_equal(cpolicy_add_stmt(cp, s[i].effect == 'A' ?
		    CPOLICY_ALLOW : CPOLICY_DENY, s[i].sid,
		    s[i].sid ? strlen(s[i].sid) : 0), 0);
		add_list(cp, s[i].actions, 0);
		add_list(cp, kind == CPOLICY_KEY ? "*" : s[i].resources, 1);
		if (kind == CPOLICY_KEY)
			add_list(cp, s[i].principals, 2);
		if (s[i].cond[0])
			add_cond(cp, s[i].cond[0]);
		if (s[i].cond[1])
			add_cond(cp, s[i].cond[1]);
	}
	assert_int_equal(cpolicy_finish(cp), 0);
	return (cp);
}

static void
put_policy(struct world_txn *t, const char *acct, const char *name,
    const struct sspec *s, size_t n)
{
	struct cpolicy	*cp = mkpol(CPOLICY_RAM, s, n);

	assert_int_equal(world_txn_put_policy(t, acct, name, cp), 0);
	cpolicy_unref(cp);
}

static void
put_key(struct world_txn *t, const char *id, const char *acct,
    const struct sspec *s, size_t n, const struct world_tag *tags,
    size_t ntags)
{
	struct cpolicy	*cp = s ? mkpol(CPOLICY_KEY, s, n) : NULL;

	assert_int_equal(world_txn_put_key(t, id, "cn-hangzhou", acct,
	    s ? "kst-1" : NULL, WORLD_KEY_ENABLED, tags, ntags, cp), 0);
	cpolicy_unref(cp);
}

/* The world of most decision tests. */
static struct world *
base_world(void)
{
	struct world_txn	*t;
	struct world		*w;
	static const struct sspec enc[] = {
		{ 'A', "enc", "kms:Encrypt|kms:GenerateDataKey", KARN1
		    "|acs:kms:cn-hangzhou:" A1 ":alias/plain",
		    NULL, { NULL, NULL } }
	};
	static const struct sspec all[] = {
		{ 'A', NULL, "kms:*", "*", NULL, { NULL, NULL } }
	};
	static const struct sspec denydel[] = {
		{ 'D', "nodel", "kms:ScheduleKeyDeletion", "*", NULL,
		    { NULL, NULL } }
	};
	static const struct sspec ipcond[] = {
		{ 'A', "office", "kms:Decrypt", "*", NULL,
		    { "IpAddress acs:SourceIp 10.0.0.0/8|192.168.1.1",
		    NULL } }
	};
	static const struct sspec kp1[] = {
		{ 'A', "owner", "kms:*", NULL, "acs:ram::" A1 ":root",
		    { NULL, NULL } },
		{ 'A', "partner", "kms:Decrypt|kms:Encrypt", NULL,
		    "acs:ram::" A2 ":user/bob", { NULL, NULL } },
		{ 'D', "no-sign", "kms:Sign", NULL, "*", { NULL, NULL } },
	};
	static const struct sspec kp2[] = {
		{ 'A', "tagged", "kms:Decrypt", NULL, "acs:ram::" A2 ":*",
		    { "StringEquals kms:tag/Project Apollo", NULL } },
	};
	const char *alice_groups[] = { "devs", "ghost" };
	const char *alice_pols[] = { "enc", "missing" };
	const char *devs_pols[] = { "denydel", "enc" };
	const char *bob_pols[] = { "all" };
	const char *carol_pols[] = { "ipcond" };
	struct world_tag tags[] = { { "project", "Apollo" } };

	t = world_txn_begin(NULL);
	assert_non_null(t);
	assert_int_equal(world_txn_put_instance(t, "kst-1",
	    WORLD_INSTANCE_ENABLED, 5, NULL), 0);
	put_policy(t, A1, "enc", enc, 1);
	put_policy(t, A1, "all", all, 1);
	put_policy(t, A1, "denydel", denydel, 1);
	put_policy(t, A1, "ipcond", ipcond, 1);
	put_policy(t, A2, "all", all, 1);
	assert_int_equal(world_txn_put_group(t, A1, "devs", devs_pols, 2), 0);
	assert_int_equal(world_txn_put_user(t, A1, "alice", alice_groups, 2,
	    alice_pols, 2), 0);
	assert_int_equal(world_txn_put_user(t, A1, "carol", NULL, 0,
	    carol_pols, 1), 0);
	assert_int_equal(world_txn_put_role(t, A1, "ops", bob_pols, 1), 0);
	assert_int_equal(world_txn_put_user(t, A2, "bob", NULL, 0, bob_pols,
	    1), 0);
	assert_int_equal(world_txn_put_user(t, A2, "eve", NULL, 0, NULL, 0),
	    0);
	put_key(t, KEY1, A1, kp1, 3, NULL, 0);
	put_key(t, KEY2, A1, kp2, 1, tags, 1);
	put_key(t, "key-plain", A1, NULL, 0, NULL, 0);
	assert_int_equal(world_txn_put_alias(t, "alias/prod", KEY1), 0);
	assert_int_equal(world_txn_put_alias(t, "alias/plain", "key-plain"),
	    0);
	w = world_txn_commit(t, 7);
	assert_non_null(w);
	return (w);
}

static struct eval_answer ans;

static enum eval_reason
decide(const struct world *w, const char *principal, const char *action,
    const char *resource, const char *ip, int explain)
{
	struct eval_request	r;

	memset(&r, 0, sizeof(r));
	r.principal = principal;
	r.principal_len = strlen(principal);
	r.action = action;
	r.action_len = strlen(action);
	r.resource = resource;
	r.resource_len = strlen(resource);
	if (ip != NULL) {
		assert_int_equal(value_ip_parse(ip, strlen(ip), 0,
		    &r.source_ip), 0);
		r.has_source_ip = 1;
	}
	assert_int_equal(value_time_parse("2026-01-01T00:00:00Z", 20,
	    &r.now), 0);
	r.explain = explain;
	assert_int_equal(eval_decide(w, &r, &ans), 0);
	return (ans.reason);
}

#define ALICE	"acs:ram::" A1 ":user/alice"
#define CAROL	"acs:ram::" A1 ":user/carol"
#define ROOT1	"acs:ram::" A1 ":root"
#define BOB	"acs:ram::" A2 ":user/bob"
#define EVE	"acs:ram::" A2 ":user/eve"
#define ROOT2	"acs:ram::" A2 ":root"

static void
test_same_account(void **state)
{
	struct world	*w = base_world();

	/* Identity policy allows (own policy and group's). */
	assert_int_equal(decide(w, ALICE, "kms:encrypt", KARN1, NULL, 1),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	assert_int_equal(ans.decision, EVAL_ALLOW);
	assert_int_equal(ans.generation, 7);
	/* "enc" is attached directly and through devs: listed once; the
	 * key policy's "owner" (every identity of A1) applies too. */
	assert_int_equal(ans.nmatched, 2);
	assert_int_equal(ans.matched[0].source, EVAL_SRC_POLICY);
	assert_memory_equal(ans.matched[0].name, "enc", 3);
	assert_int_equal(ans.matched[0].index, 0);
	assert_memory_equal(ans.matched[0].sid, "enc", 3);
	assert_int_equal(ans.matched[1].source, EVAL_SRC_KEY);
	assert_int_equal(ans.matched[1].index, 0);
	/* Group's explicit deny. */
	assert_int_equal(decide(w, ALICE, "kms:ScheduleKeyDeletion", KARN1,
	    NULL, 1), EVAL_R_EXPLICIT_DENY);
	assert_int_equal(ans.decision, EVAL_EXPLICIT_DENY);
	assert_int_equal(ans.nmatched, 1);
	assert_memory_equal(ans.matched[0].name, "denydel", 7);
	/* Key policy only: the owner account's root pattern covers alice. */
	assert_int_equal(decide(w, ALICE, "kms:Decrypt", KARN1, NULL, 1),
	    EVAL_R_ALLOWED_BY_KEY_POLICY);
	assert_int_equal(ans.nmatched, 1);
	assert_int_equal(ans.matched[0].source, EVAL_SRC_KEY);
	assert_memory_equal(ans.matched[0].name, KEY1, strlen(KEY1));
	assert_memory_equal(ans.matched[0].sid, "owner", 5);
	/* The key policy denies Sign to everyone, even the root. */
	assert_int_equal(decide(w, ROOT1, "kms:Sign", KARN1, NULL, 0),
	    EVAL_R_EXPLICIT_DENY);
	assert_int_equal(ans.nmatched, 0);
	/* The root of the account. */
	assert_int_equal(decide(w, ROOT1, "kms:Decrypt", KARN1, NULL, 1),
	    EVAL_R_ALLOWED_AS_ACCOUNT_ROOT);
	assert_int_equal(ans.decision, EVAL_ALLOW);
	assert_int_equal(ans.nmatched, 1);	/* the key policy's */
	assert_int_equal(decide(w, ROOT1, "ecs:Anything", "acs:ecs:*:" A1
	    ":instance/i-1", NULL, 0), EVAL_R_ALLOWED_AS_ACCOUNT_ROOT);
	/* A key without a key policy, no identity allow. */
	assert_int_equal(decide(w, CAROL, "kms:Encrypt",
	    "acs:kms:cn-hangzhou:" A1 ":key/key-plain", NULL, 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	assert_int_equal(ans.decision, EVAL_IMPLICIT_DENY);
	/* Role. */
	assert_int_equal(decide(w, "acs:ram::" A1 ":role/ops", "kms:Sign",
	    KARN2, NULL, 0), EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	/* Unknown principal: no identity policies; key policy applies. */
	assert_int_equal(decide(w, "acs:ram::" A1 ":user/nobody",
	    "kms:Encrypt", KARN1, NULL, 0), EVAL_R_ALLOWED_BY_KEY_POLICY);
	assert_int_equal(decide(w, "acs:ram::" A1 ":user/nobody",
	    "kms:Encrypt", KARN2, NULL, 0), EVAL_R_NO_MATCHING_ALLOW);
	world_unref(w);
}

static void
test_cross_account(void **state)
{
	struct world	*w = base_world();

	/* Both sides allow. */
	assert_int_equal(decide(w, BOB, "kms:Decrypt", KARN1, NULL, 1),
	    EVAL_R_ALLOWED_BY_BOTH);
	assert_int_equal(ans.nmatched, 2);
	assert_int_equal(ans.matched[0].source, EVAL_SRC_POLICY);
	assert_int_equal(ans.matched[1].source, EVAL_SRC_KEY);
	assert_int_equal(ans.matched[1].index, 1);
	/* Key policy does not allow GenerateDataKey for bob. */
	assert_int_equal(decide(w, BOB, "kms:GenerateDataKey", KARN1, NULL,
	    0), EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW);
	/* Eve has no identity policy: identity is reported first. */
	assert_int_equal(decide(w, EVE, "kms:Decrypt", KARN1, NULL, 0),
	    EVAL_R_CROSS_ACCOUNT_NEEDS_IDENTITY_ALLOW);
	assert_int_equal(decide(w, EVE, "kms:Sign", KARN1, NULL, 0),
	    EVAL_R_EXPLICIT_DENY);
	/* Foreign root: its own A is ALLOW, the key policy decides. */
	assert_int_equal(decide(w, ROOT2, "kms:Decrypt", KARN2, NULL, 0),
	    EVAL_R_ALLOWED_BY_BOTH);
	assert_int_equal(decide(w, ROOT2, "kms:Decrypt", KARN1, NULL, 0),
	    EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW);
	/* A foreign resource without a resource policy. */
	assert_int_equal(decide(w, BOB, "kms:Encrypt", "acs:ecs:*:" A1
	    ":instance/i-1", NULL, 0),
	    EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW);
	assert_int_equal(decide(w, BOB, "kms:Encrypt", "*", NULL, 0),
	    EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW);
	world_unref(w);
}

static void
test_keys_aliases(void **state)
{
	struct world	*w = base_world();

	assert_int_equal(decide(w, ROOT1, "kms:Encrypt",
	    "acs:kms:cn-hangzhou:" A1 ":key/key-none", NULL, 0),
	    EVAL_R_KEY_NOT_FOUND);
	assert_int_equal(ans.decision, EVAL_IMPLICIT_DENY);
	/* Wrong region, wrong account. */
	assert_int_equal(decide(w, ROOT1, "kms:Encrypt",
	    "acs:kms:cn-beijing:" A1 ":key/" KEY1, NULL, 0),
	    EVAL_R_KEY_NOT_FOUND);
	assert_int_equal(decide(w, ROOT2, "kms:Encrypt",
	    "acs:kms:cn-hangzhou:" A2 ":key/" KEY1, NULL, 0),
	    EVAL_R_KEY_NOT_FOUND);
	/* Fail closed: "key/" followed by anything names a key, and one
	 * not stored is not found, even for the root. */
	assert_int_equal(decide(w, ROOT1, "kms:Encrypt",
	    "acs:kms:cn-hangzhou:" A1 ":key/a/b", NULL, 0),
	    EVAL_R_KEY_NOT_FOUND);
	assert_int_equal(decide(w, ROOT1, "kms:Encrypt",
	    "acs:kms:cn-hangzhou:" A1 ":key/", NULL, 0),
	    EVAL_R_KEY_NOT_FOUND);
	assert_int_equal(decide(w, ROOT1, "kms:Encrypt",
	    "acs:kms:cn-hangzhou:" A1 ":key/" KEY1 "/x", NULL, 0),
	    EVAL_R_KEY_NOT_FOUND);
	/* Not the key form (case-sensitive): an ordinary resource. */
	assert_int_equal(decide(w, ROOT1, "kms:Encrypt",
	    "acs:kms:cn-hangzhou:" A1 ":KEY/" KEY1, NULL, 0),
	    EVAL_R_ALLOWED_AS_ACCOUNT_ROOT);
	/* Alias: key policy of the key applies (bob allowed by both). */
	assert_int_equal(decide(w, BOB, "kms:Decrypt",
	    "acs:kms:cn-hangzhou:" A1 ":alias/prod", NULL, 1),
	    EVAL_R_ALLOWED_BY_BOTH);
	assert_memory_equal(ans.matched[1].name, KEY1, strlen(KEY1));
	assert_int_equal(decide(w, ROOT1, "kms:Sign",
	    "acs:kms:cn-hangzhou:" A1 ":alias/prod", NULL, 0),
	    EVAL_R_EXPLICIT_DENY);
	/* Identity policies see the alias ARN: alice's enc names
	 * alias/plain, not key-plain. */
	assert_int_equal(decide(w, ALICE, "kms:GenerateDataKey",
	    "acs:kms:cn-hangzhou:" A1 ":alias/plain", NULL, 0),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	assert_int_equal(decide(w, ALICE, "kms:GenerateDataKey",
	    "acs:kms:cn-hangzhou:" A1 ":key/key-plain", NULL, 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	/* Unregistered alias: ordinary resource. */
	assert_int_equal(decide(w, BOB, "kms:Decrypt",
	    "acs:kms:cn-hangzhou:" A1 ":alias/other", NULL, 0),
	    EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW);
	/* Alias registered in another region: not this one. */
	assert_int_equal(decide(w, BOB, "kms:Decrypt",
	    "acs:kms:cn-beijing:" A1 ":alias/prod", NULL, 0),
	    EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW);
	world_unref(w);
}

static void
test_conditions(void **state)
{
	struct world		*w = base_world();
	struct eval_request	 r;
	struct eval_ctx		 ctx[3];

	assert_int_equal(decide(w, CAROL, "kms:Decrypt", KARN2, "10.1.2.3",
	    0), EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	assert_int_equal(decide(w, CAROL, "kms:Decrypt", KARN2,
	    "::ffff:192.168.1.1", 0), EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	assert_int_equal(decide(w, CAROL, "kms:Decrypt", KARN2, "11.0.0.1",
	    0), EVAL_R_NO_MATCHING_ALLOW);
	/* No address: a positive operator is false. */
	assert_int_equal(decide(w, CAROL, "kms:Decrypt", KARN2, NULL, 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	/* Tag condition (tag keys case-insensitive). */
	assert_int_equal(decide(w, BOB, "kms:Decrypt", KARN2, NULL, 0),
	    EVAL_R_ALLOWED_BY_BOTH);

	/* Context acs:SourceIp when the request has no address. */
	memset(&r, 0, sizeof(r));
	r.principal = CAROL;
	r.principal_len = strlen(CAROL);
	r.action = "kms:Decrypt";
	r.action_len = 11;
	r.resource = KARN2;
	r.resource_len = strlen(KARN2);
	ctx[0].key = "ACS:sourceip";
	ctx[0].keylen = 12;
	ctx[0].value = "10.9.9.9";
	ctx[0].valuelen = 8;
	r.ctx = ctx;
	r.nctx = 1;
	eval_decide(w, &r, &ans);
	assert_int_equal(ans.reason, EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	/* The request address wins over the context's. */
	assert_int_equal(value_ip_parse("11.0.0.1", 8, 0, &r.source_ip), 0);
	r.has_source_ip = 1;
	eval_decide(w, &r, &ans);
	assert_int_equal(ans.reason, EVAL_R_NO_MATCHING_ALLOW);
	/* Duplicate context names (case-insensitive): invalid. */
	ctx[1] = ctx[0];
	ctx[1].key = "acs:SourceIP";
	r.nctx = 2;
	eval_decide(w, &r, &ans);
	assert_int_equal(ans.reason, EVAL_R_INVALID_REQUEST);
	assert_int_equal(ans.decision, EVAL_IMPLICIT_DENY);
	/* Too many. */
	r.nctx = EVAL_MAX_CONTEXT + 1;
	eval_decide(w, &r, &ans);
	assert_int_equal(ans.reason, EVAL_R_INVALID_REQUEST);
	world_unref(w);
}

/* Every operator family on one policy each. */
static void
test_operators(void **state)
{
	struct world_txn	*t;
	struct world		*w;
	struct eval_request	 r;
	struct eval_ctx		 ctx[2];
	size_t			 i;
	static const struct {
		const char	*cond;
		const char	*key;	/* NULL: no context entry */
		const char	*val;
		int		 allow;
	} cases[] = {
		{ "StringEquals k a|b", "k", "b", 1 },
		{ "StringEquals k a|b", "K", "B", 0 },
		{ "StringEquals k a", NULL, NULL, 0 },
		{ "StringNotEquals k a|b", "k", "c", 1 },
		{ "StringNotEquals k a|b", "k", "a", 0 },
		{ "StringNotEquals k a", NULL, NULL, 1 },
		{ "StringEqualsIgnoreCase k Abc", "k", "aBC", 1 },
		{ "StringNotEqualsIgnoreCase k Abc", "k", "aBC", 0 },
		{ "StringLike k a*c|x?", "k", "abbbc", 1 },
		{ "StringLike k a*c|x?", "k", "xy", 1 },
		{ "StringLike k a*c", "k", "ABC", 0 },
		{ "StringNotLike k a*", "k", "ba", 1 },
		{ "StringNotLike k a*", NULL, NULL, 1 },
		{ "NumericEquals k 10", "k", "10.0", 1 },
		{ "NumericEquals k 10", "k", "ten", 0 },
		{ "NumericNotEquals k 10", "k", "ten", 0 },
		{ "NumericNotEquals k 10", "k", "11", 1 },
		{ "NumericNotEquals k 10", NULL, NULL, 1 },
		{ "NumericLessThan k 10", "k", "-3.5", 1 },
		{ "NumericLessThan k 10", "k", "10", 0 },
		{ "NumericLessThanEquals k 10", "k", "10", 1 },
		{ "NumericGreaterThan k 10", "k", "10.01", 1 },
		{ "NumericGreaterThanEquals k 10", "k", "9.99", 0 },
		{ "DateLessThan k 2026-01-01T00:00:00Z", "k",
		    "2025-12-31T23:59:59Z", 1 },
		{ "DateGreaterThan k 2026-01-01T00:00:00Z", "k",
		    "2026-01-01T08:00:01+08:00", 1 },
		{ "DateEquals k 2026-01-01T00:00:00Z", "k",
		    "2026-01-01T08:00:00+08:00", 1 },
		{ "DateNotEquals k 2026-01-01T00:00:00Z", "k", "junk", 0 },
		{ "DateLessThanEquals acs:CurrentTime 2026-01-01T00:00:00Z",
		    NULL, NULL, 1 },
		{ "DateGreaterThan acs:CurrentTime 2026-01-01T00:00:00Z",
		    NULL, NULL, 0 },
		/* A context acs:CurrentTime is ignored: the pinned time. */
		{ "DateGreaterThan acs:CurrentTime 2026-01-01T00:00:00Z",
		    "acs:CurrentTime", "2030-01-01T00:00:00Z", 0 },
		{ "StringLike acs:CurrentTime 2026-01-01T*", NULL, NULL, 1 },
		{ "Bool acs:SecureTransport true", "acs:SecureTransport",
		    "TRUE", 1 },
		{ "Bool acs:SecureTransport true", "acs:SecureTransport",
		    "false", 0 },
		{ "Bool acs:SecureTransport true", "acs:SecureTransport",
		    "yes", 0 },
		{ "Bool acs:SecureTransport true", NULL, NULL, 0 },
		{ "IpAddress acs:SourceIp 2001:db8::/32", "acs:SourceIp",
		    "2001:db8::1", 1 },
		{ "NotIpAddress acs:SourceIp 2001:db8::/32", "acs:SourceIp",
		    "2001:db9::1", 1 },
		{ "NotIpAddress acs:SourceIp 2001:db8::/32", "acs:SourceIp",
		    "bogus", 0 },
		{ "NotIpAddress acs:SourceIp 2001:db8::/32", NULL, NULL, 1 },
		/* Callers cannot supply tags. */
		{ "StringEquals kms:tag/x y", "kms:tag/x", "y", 0 },
		{ "StringNotEquals acs:ResourceTag/x y", "kms:tag/x", "y", 1 },
		/* Condition key names are case-insensitive. */
		{ "StringEquals My:Key v", "my:KEY", "v", 1 },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sspec s = { 'A', NULL, "kms:Encrypt", "*", NULL,
		    { cases[i].cond, NULL } };
		const char *pols[] = { "p" };

		t = world_txn_begin(NULL);
		put_policy(t, A1, "p", &s, 1);
		assert_int_equal(world_txn_put_user(t, A1, "u", NULL, 0, pols,
		    1), 0);
		w = world_txn_commit(t, 1);
		memset(&r, 0, sizeof(r));
		r.principal = "acs:ram::" A1 ":user/u";
		r.principal_len = strlen(r.principal);
		r.action = "kms:Encrypt";
		r.action_len = 11;
		r.resource = "acs:kms:cn-hangzhou:" A1 ":alias/x";
		r.resource_len = strlen(r.resource);
		assert_int_equal(value_time_parse("2026-01-01T00:00:00Z", 20,
		    &r.now), 0);
		if (cases[i].key != NULL) {
			ctx[0].key = cases[i].key;
			ctx[0].keylen = strlen(cases[i].key);
			ctx[0].value = cases[i].val;
			ctx[0].valuelen = strlen(cases[i].val);
			r.ctx = ctx;
			r.nctx = 1;
		}
		eval_decide(w, &r, &ans);
		if ((ans.decision == EVAL_ALLOW) != cases[i].allow)
			fail_msg("case %zu (%s): got %s", i, cases[i].cond,
			    eval_decision_name(ans.decision));
		world_unref(w);
	}
}

/* cpolicy_image_misses: the first failing condition, as text. */
static int
miss_cb(uint32_t index, enum cpolicy_effect effect, const char *why,
    void *arg)
{
	(void)index;
	(void)effect;
	snprintf(arg, 256, "%s", why);
	return (1);
}

static void
test_near_misses(void **state)
{
	static const struct {
		const char	*cond;
		const char	*key;	/* NULL: no context entry */
		const char	*val;
		const char	*why;
	} cases[] = {
		{ "NumericLessThan n 5|10.25", "n", "20",
		    "n \"20\" fails NumericLessThan 5, 10.25" },
		{ "NumericEquals n 0.5", "n", "x",
		    "n \"x\" fails NumericEquals 0.5" },
		{ "DateGreaterThan acs:CurrentTime 2030-01-01T00:00:00Z", NULL,
		    NULL, "acs:CurrentTime \"2026-01-01T00:00:00Z\" fails "
		    "DateGreaterThan 2030-01-01T00:00:00Z" },
		{ "Bool acs:SecureTransport true", "acs:SecureTransport",
		    "false", "acs:SecureTransport \"false\" fails Bool true" },
		{ "IpAddress acs:SourceIp 192.0.2.0/24", NULL, NULL,
		    "acs:SourceIp 198.51.100.7 not in 192.0.2.0/24" },
		{ "NotIpAddress acs:SourceIp 198.51.100.0/24|10.0.0.0/8", NULL,
		    NULL, "acs:SourceIp 198.51.100.7 in 198.51.100.0/24, "
		    "10.0.0.0/8" },
		{ "StringEquals MyKey a", NULL, NULL, "MyKey missing" },
		{ "StringLike k a*c", "k", "xyz",
		    "k \"xyz\" fails StringLike \"a*c\"" },
	};
	struct sspec		 sp;
	struct cpolicy		*cp;
	struct cpolicy_req	 rq;
	struct eval_ctx		 ctx;
	struct value_ip		 ip;
	struct value_time	 now;
	char			 why[256];
	size_t			 i;

	(void)state;
	assert_int_equal(value_ip_parse("198.51.100.7", 12, 0, &ip), 0);
	assert_int_equal(value_time_parse("2026-01-01T00:00:00Z", 20, &now),
	    0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&sp, 0, sizeof(sp));
		sp.effect = 'A';
		sp.actions = "kms:Encrypt";
		sp.resources = "*";
		sp.cond[0] = cases[i].cond;
		cp = mkpol(CPOLICY_RAM, &sp, 1);
		memset(&rq, 0, sizeof(rq));
		rq.action = "kms:Encrypt";
		rq.action_len = 11;
		rq.resource = "acs:kms:cn-hangzhou:1:key/k";
		rq.resource_len = strlen(rq.resource);
		rq.source_ip = &ip;
		rq.now = &now;
		if (cases[i].key != NULL) {
			ctx.key = cases[i].key;
			ctx.keylen = strlen(ctx.key);
			ctx.value = cases[i].val;
			ctx.valuelen = strlen(ctx.value);
			rq.ctx = &ctx;
			rq.nctx = 1;
		}
		why[0] = '\0';
		assert_int_equal(cpolicy_image_misses(cpolicy_image(cp), &rq,
		    miss_cb, why), 1);
		assert_string_equal(why, cases[i].why);
		/* An applying statement is no miss. */
		rq.action = "kms:Decrypt";
		rq.action_len = 11;
		assert_int_equal(cpolicy_image_misses(cpolicy_image(cp), &rq,
		    miss_cb, why), 0);
		cpolicy_unref(cp);
	}
}

static void
test_invalid_requests(void **state)
{
	struct world	*w = base_world();
	static const char *bad[] = {
		"", "acs:ram::", "acs:ram::" A1, "acs:ram::" A1 ":",
		"acs:ram::" A1 ":user/", "acs:ram::" A1 ":group/devs",
		"acs:ram::12a:root", "acs:ram:cn:" A1 ":root",
		"acs:ram::" A1 ":rootx", "acs:ram:::root",
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(eval_principal_valid(bad[i], strlen(bad[i])),
		    -1);
		assert_int_equal(decide(w, bad[i], "kms:Encrypt", KARN1, NULL,
		    0), EVAL_R_INVALID_REQUEST);
		assert_int_equal(ans.decision, EVAL_IMPLICIT_DENY);
	}
	assert_int_equal(eval_decide(NULL, NULL, &ans), 0);
	assert_int_equal(ans.decision, EVAL_IMPLICIT_DENY);
	/* Without a request address, a context acs:SourceIp (any case)
	 * must be an address; with one, the context's is ignored. */
	{
		struct eval_request	r;
		struct eval_ctx		c = { "ACS:sourceip", 12, "10.0.0.300",
					    10 };

		memset(&r, 0, sizeof(r));
		r.principal = ROOT1;
		r.principal_len = strlen(ROOT1);
		r.action = "kms:Encrypt";
		r.action_len = 11;
		r.resource = KARN1;
		r.resource_len = strlen(KARN1);
		r.ctx = &c;
		r.nctx = 1;
		assert_int_equal(eval_decide(w, &r, &ans), 0);
		assert_int_equal(ans.reason, EVAL_R_INVALID_REQUEST);
		c.value = "10.0.0.3";
		c.valuelen = 8;
		assert_int_equal(eval_decide(w, &r, &ans), 0);
		assert_int_equal(ans.reason, EVAL_R_ALLOWED_AS_ACCOUNT_ROOT);
		c.value = "garbage";
		c.valuelen = 7;
		assert_int_equal(value_ip_parse("10.0.0.1", 8, 0,
		    &r.source_ip), 0);
		r.has_source_ip = 1;
		assert_int_equal(eval_decide(w, &r, &ans), 0);
		assert_int_equal(ans.reason, EVAL_R_ALLOWED_AS_ACCOUNT_ROOT);
	}
	world_unref(w);
}

static void
test_names(void **state)
{
	enum eval_reason	r;
	enum eval_decision	d;
	unsigned		i;

	for (i = 0; i < EVAL_R_COUNT; i++) {
		const char *n = eval_reason_name((enum eval_reason)i);

		assert_non_null(n);
		assert_int_equal(eval_reason_parse(n, strlen(n), &r), 0);
		assert_int_equal(r, i);
	}
	assert_string_equal(eval_reason_name(EVAL_R_INVALID_REQUEST),
	    "invalid-request");
	assert_null(eval_reason_name(EVAL_R_COUNT));
	assert_int_equal(eval_decision_parse("ALLOW", 5, &d), 0);
	assert_int_equal(d, EVAL_ALLOW);
	assert_int_equal(eval_decision_parse("allow", 5, &d), -1);
	assert_string_equal(eval_decision_name(EVAL_IMPLICIT_DENY),
	    "IMPLICIT_DENY");
}

static char *
kid(char *buf, size_t sz, int i)
{
	snprintf(buf, sz, "key-%06d", i);
	return (buf);
}

static void
test_world_sharing(void **state)
{
	struct world_txn	*t;
	struct world		*w1, *w2, *w3;
	struct world_key	 k1, k2;
	struct world_counts	 c;
	size_t			 total, unshared, total2;
	char			 buf[32];
	int			 i;

	t = world_txn_begin(NULL);
	for (i = 0; i < 5000; i++)
		assert_int_equal(world_txn_put_key(t, kid(buf, sizeof(buf), i),
		    "r", A1, NULL, WORLD_KEY_ENABLED, NULL, 0, NULL), 0);
	w1 = world_txn_commit(t, 1);
	world_counts(w1, &c);
	assert_int_equal(c.keys, 5000);
	world_node_stats(w1, &total, &unshared);
	assert_int_equal(total, unshared);	/* nobody else holds it */

	/* Change one key: only its path is new. */
	t = world_txn_begin(w1);
	assert_int_equal(world_txn_put_key(t, kid(buf, sizeof(buf), 42), "r2",
	    A1, NULL, WORLD_KEY_DISABLED, NULL, 0, NULL), 0);
	w2 = world_txn_commit(t, 2);
	world_node_stats(w2, &total2, &unshared);
	assert_int_equal(total2, total);
	assert_true(unshared >= 2 && unshared <= 15);
	world_counts(w2, &c);
	assert_int_equal(c.keys, 5000);
	assert_int_equal(world_get_key(w1, "key-000042", 10, &k1), 0);
	assert_int_equal(world_get_key(w2, "key-000042", 10, &k2), 0);
	assert_string_equal(k1.region, "r");
	assert_string_equal(k2.region, "r2");
	assert_int_equal(k2.state, WORLD_KEY_DISABLED);
	/* Other entries are the very same objects. */
	assert_int_equal(world_get_key(w1, "key-000043", 10, &k1), 0);
	assert_int_equal(world_get_key(w2, "key-000043", 10, &k2), 0);
	assert_ptr_equal(k1.id, k2.id);

	/* Delete one; old worlds keep theirs. */
	t = world_txn_begin(w2);
	assert_int_equal(world_txn_del_key(t, "key-000007"), 0);
	assert_int_equal(world_txn_del_key(t, "key-000007"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(world_txn_del_key(t, "nope"), -1);
	w3 = world_txn_commit(t, 3);
	assert_int_equal(world_get_key(w3, "key-000007", 10, &k1), -1);
	assert_int_equal(world_get_key(w2, "key-000007", 10, &k1), 0);
	world_counts(w3, &c);
	assert_int_equal(c.keys, 4999);

	/* Drop the oldest first: the newer ones still work (ASan checks
	 * use after free and leaks). */
	world_unref(w1);
	assert_int_equal(world_get_key(w2, "key-000042", 10, &k2), 0);
	assert_string_equal(k2.region, "r2");
	world_node_stats(w3, &total, &unshared);
	assert_true(unshared < total);
	world_unref(w2);
	for (i = 0; i < 5000; i++) {
		kid(buf, sizeof(buf), i);
		assert_int_equal(world_get_key(w3, buf, strlen(buf), &k1),
		    i == 7 ? -1 : 0);
	}
	world_node_stats(w3, &total, &unshared);
	assert_int_equal(total, unshared);
	world_unref(w3);
}

static void
test_world_entries(void **state)
{
	struct world_txn	*t;
	struct world		*w;
	struct world_instance	 in;
	struct world_alias	 al;
	struct world_principal	 pr;
	struct world_policy	 po;
	struct world_key	 k;
	struct world_tag	 tags[] = { { "b", "2" }, { "a", "1" } };
	struct world_tag	 dup[] = { { "a", "2" }, { "a", "1" } };
	const char		*g[] = { "g1", "g2" }, *p[] = { "p1" };
	static const struct sspec ks[] = {
		{ 'A', NULL, "kms:*", NULL, "acs:ram::" A2 ":*|acs:ram::"
		    "3333:root|*|acs:ram::" A1 ":user/x", { NULL, NULL } },
		{ 'D', NULL, "kms:*", NULL, "acs:ram::4444:*",
		    { NULL, NULL } },
	};
	struct cpolicy		*kp = mkpol(CPOLICY_KEY, ks, 2);
	struct cpolicy		*rp;
	size_t			 n;
	static const struct sspec rs[] = {
		{ 'A', NULL, "kms:*", "*", NULL, { NULL, NULL } }
	};

	rp = mkpol(CPOLICY_RAM, rs, 1);
	t = world_txn_begin(NULL);
	assert_int_equal(world_txn_put_instance(t, "kst-1",
	    WORLD_INSTANCE_EXPIRED, 3, NULL), 0);
	assert_int_equal(world_txn_put_key(t, "k1", "r", A1, "kst-1",
	    WORLD_KEY_PENDING_IMPORT, tags, 2, kp), 0);
	assert_int_equal(world_txn_put_key(t, "k2", "r", A1, "kst-1",
	    WORLD_KEY_ENABLED, dup, 2, kp), -1);
	assert_int_equal(errno, EINVAL);
	/* No policy outside an instance; kinds must match. */
	assert_int_equal(world_txn_put_key(t, "k2", "r", A1, NULL,
	    WORLD_KEY_ENABLED, NULL, 0, kp), -1);
	assert_int_equal(world_txn_put_key(t, "k2", "r", A1, "kst-1",
	    WORLD_KEY_ENABLED, NULL, 0, rp), -1);
	assert_int_equal(world_txn_put_policy(t, A1, "p", kp), -1);
	assert_int_equal(world_txn_put_key(t, "", "r", A1, NULL,
	    WORLD_KEY_ENABLED, NULL, 0, NULL), -1);
	assert_int_equal(world_txn_put_alias(t, "alias/a", "nokey"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(world_txn_put_alias(t, "alias/a", "k1"), 0);
	assert_int_equal(world_txn_put_user(t, A1, "u", g, 2, p, 1), 0);
	assert_int_equal(world_txn_put_group(t, A1, "g1", p, 1), 0);
	assert_int_equal(world_txn_put_role(t, A1, "r", NULL, 0), 0);
	assert_int_equal(world_txn_put_policy(t, A1, "p1", rp), 0);
	/* The transaction's view. */
	assert_int_equal(world_get_alias(world_txn_view(t), "r", 1, A1,
	    strlen(A1), "alias/a", 7, &al), 0);
	w = world_txn_commit(t, 9);
	cpolicy_unref(kp);
	cpolicy_unref(rp);
	assert_int_equal(world_generation(w), 9);
	assert_int_equal(world_get_instance(w, "kst-1", 5, &in), 0);
	assert_int_equal(in.state, WORLD_INSTANCE_EXPIRED);
	assert_int_equal(in.share_quota, 3);
	assert_int_equal(world_get_key(w, "k1", 2, &k), 0);
	assert_string_equal(k.instance, "kst-1");
	assert_int_equal(k.ntags, 2);
	assert_string_equal(k.tags[0].key, "a");	/* sorted */
	assert_non_null(k.policy);
	assert_int_equal(world_get_alias(w, "r", 1, A1, strlen(A1),
	    "alias/a", 7, &al), 0);
	assert_string_equal(al.key_id, "k1");
	assert_int_equal(world_get_user(w, A1, strlen(A1), "u", 1, &pr), 0);
	assert_int_equal(pr.ngroups, 2);
	assert_string_equal(pr.groups[1], "g2");
	assert_string_equal(pr.policies[0], "p1");
	assert_int_equal(world_get_role(w, A1, strlen(A1), "u", 1, &pr), -1);
	assert_int_equal(world_get_role(w, A1, strlen(A1), "r", 1, &pr), 0);
	assert_int_equal(pr.npolicies, 0);
	assert_int_equal(world_get_group(w, A1, strlen(A1), "g1", 2, &pr), 0);
	assert_int_equal(world_get_policy(w, A1, strlen(A1), "p1", 2, &po),
	    0);
	assert_int_equal(world_get_policy(w, A2, strlen(A2), "p1", 2, &po),
	    -1);
	/* Foreign accounts of k1's Allow statements: A2 and 3333 (the
	 * pattern "*" has no account part; A1 is its own; the Deny's
	 * 4444 does not count). */
	assert_int_equal(world_instance_share_count(w, "kst-1", NULL, NULL,
	    NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(world_instance_share_count(w, "kst-1", "k1", NULL,
	    NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(world_instance_share_count(w, "kst-2", NULL, NULL,
	    NULL, &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(world_instance_state_name(WORLD_INSTANCE_EXPIRED),
	    "Expired");
	assert_string_equal(world_key_state_name(WORLD_KEY_PENDING_DELETION),
	    "PendingDeletion");
	world_unref(w);
}

static int
count_cb(const struct world_key *k, void *arg)
{
	(*(size_t *)arg)++;
	return (0);
}

static void
test_world_iter(void **state)
{
	struct world	*w = base_world();
	size_t		 n = 0;

	assert_int_equal(world_foreach_key(w, count_cb, &n), 0);
	assert_int_equal(n, 3);
	world_unref(w);
}

/* Readers acquire while a writer publishes. */
struct holder_arg {
	struct world_holder	*h;
	int			 errors;
};

static void *
reader(void *p)
{
	struct holder_arg	*ha = p;
	struct world		*w;
	struct world_key	 k;
	int			 i;

	for (i = 0; i < 20000; i++) {
		w = world_holder_acquire(ha->h);
		if (world_generation(w) > 0 &&
		    world_get_key(w, "k", 1, &k) == -1)
			ha->errors++;
		world_unref(w);
	}
	return (NULL);
}

static void
test_holder(void **state)
{
	struct world_holder	*h;
	struct world_txn	*t;
	struct world		*w, *cur;
	struct holder_arg	 ha;
	pthread_t		 th[3];
	char			 buf[32];
	int			 i;

	h = world_holder_new(NULL);
	assert_non_null(h);
	assert_int_equal(world_holder_generation(h), 0);
	ha.h = h;
	ha.errors = 0;
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &ha), 0);
	for (i = 1; i <= 300; i++) {
		cur = world_holder_acquire(h);
		t = world_txn_begin(cur);
		world_unref(cur);
		snprintf(buf, sizeof(buf), "r%d", i);
		assert_int_equal(world_txn_put_key(t, "k", buf, A1, NULL,
		    WORLD_KEY_ENABLED, NULL, 0, NULL), 0);
		w = world_txn_commit(t, (uint64_t)i);
		world_holder_publish(h, w);
		assert_int_equal(world_holder_generation(h), i);
	}
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(ha.errors, 0);
	world_holder_free(h);
}

static void
test_txn_abort(void **state)
{
	struct world		*w = base_world();
	struct world_txn	*t;
	struct world_key	 k;

	t = world_txn_begin(w);
	assert_int_equal(world_txn_del_key(t, KEY1), 0);
	assert_int_equal(world_get_key(world_txn_view(t), KEY1,
	    strlen(KEY1), &k), -1);
	world_txn_abort(t);
	assert_int_equal(world_get_key(w, KEY1, strlen(KEY1), &k), 0);
	world_unref(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_account),
		cmocka_unit_test(test_cross_account),
		cmocka_unit_test(test_keys_aliases),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_near_misses),
		cmocka_unit_test(test_invalid_requests),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_world_sharing),
		cmocka_unit_test(test_world_entries),
		cmocka_unit_test(test_world_iter),
		cmocka_unit_test(test_holder),
		cmocka_unit_test(test_txn_abort),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

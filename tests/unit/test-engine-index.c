/* SPDX-License-Identifier: ISC */
/*
 * test-engine-index.c: the engine's speed structures decide exactly as
 * the plain lookups and glob matching do: compiled policies' packed
 * images and action bit sets, and the per-world memo (lookup index and
 * resolved principals) across world versions and threads.
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
#include "engine/glob.h"
#include "engine/value.h"
#include "engine/world.h"

#define A1	"1111111111111111"
#define A2	"2222222222222222"
#define KARN(id) "acs:kms:cn-hangzhou:" A1 ":key/" id
#define ALICE	"acs:ram::" A1 ":user/alice"
#define OPS	"acs:ram::" A1 ":role/ops"
#define BOB	"acs:ram::" A2 ":user/bob"

/* A RAM policy of one statement: effect, '|'-separated actions (a
 * leading '!' for NotAction), resources (a leading '!': NotResource). */
static struct cpolicy *
ram1(char effect, const char *actions, const char *resources)
{
	struct cpolicy	*cp = cpolicy_new(CPOLICY_RAM);
	const char	*p, *bar;
	int		 neg, kind;
	size_t		 len;

	assert_non_null(cp);
	assert_int_equal(cpolicy_add_stmt(cp, effect == 'A' ? CPOLICY_ALLOW :
	    CPOLICY_DENY, "s", 1), 0);
	for (kind = 0; kind < 2; kind++) {
		p = kind == 0 ? actions : resources;
		neg = *p == '!';
		p += neg;
		for (;;) {
			bar = strchr(p, '|');
			len = bar ? (size_t)(bar - p) : strlen(p);
			assert_int_equal(kind == 0 ?
			    cpolicy_stmt_action(cp, neg, p, len) :
			    cpolicy_stmt_resource(cp, neg, p, len), 0);
			if (bar == NULL)
				break;
			p = bar + 1;
		}
	}
	assert_int_equal(cpolicy_finish(cp), 0);
	return (cp);
}

static struct eval_answer ans;

static enum eval_reason
decide(const struct world *w, const char *principal, const char *action,
    const char *resource, int explain)
{
	struct eval_request	r;

	memset(&r, 0, sizeof(r));
	r.principal = principal;
	r.principal_len = strlen(principal);
	r.action = action;
	r.action_len = strlen(action);
	r.resource = resource;
	r.resource_len = strlen(resource);
	assert_int_equal(value_time_parse("2026-01-01T00:00:00Z", 20,
	    &r.now), 0);
	r.explain = explain;
	assert_int_equal(eval_decide(w, &r, &ans), 0);
	return (ans.reason);
}

static void
test_action_ids(void **state)
{
	uint32_t	id, n;
	const char	*name;
	char		 buf[80];
	size_t		 i, len;

	for (n = 1; cpolicy_action_name(n) != NULL; n++) {
		name = cpolicy_action_name(n);
		len = strlen(name);
		assert_int_equal(cpolicy_action_id(name, len), n);
		/* ASCII case is ignored. */
		for (i = 0; i < len; i++)
			buf[i] = (char)(i % 2 ? name[i] | 0x20 :
			    (name[i] >= 'a' && name[i] <= 'z' ?
			    name[i] - 32 : name[i]));
		assert_int_equal(cpolicy_action_id(buf, len), n);
		/* A prefix or an extension is another action. */
		assert_int_not_equal(cpolicy_action_id(name, len - 1), n);
		memcpy(buf, name, len);
		buf[len] = 'x';
		assert_int_equal(cpolicy_action_id(buf, len + 1), 0);
	}
	assert_true(n > 50 && n <= 129);
	assert_null(cpolicy_action_name(0));
	assert_null(cpolicy_action_name(n));
	assert_int_equal(cpolicy_action_id(NULL, 0), 0);
	assert_int_equal(cpolicy_action_id("", 0), 0);
	assert_int_equal(cpolicy_action_id("kms:Nope", 8), 0);
	assert_int_equal(cpolicy_action_id("ecs:Encrypt", 11), 0);
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(cpolicy_action_id(buf, sizeof(buf)), 0);
	id = cpolicy_action_id("kms:encrypt", 11);
	assert_string_equal(cpolicy_action_name(id), "kms:Encrypt");
}

/*
 * Every statement's action bit set answers as its globs: evaluate each
 * pattern on every known action (in two casings) and on unknown ones,
 * once through the bit set and once through the globs.
 */
static void
test_action_bits(void **state)
{
	static const char *const pats[] = {
		"kms:Encrypt", "KMS:DECRYPT", "kms:Generate*", "kms:*", "*",
		"kms:?ncrypt", "kms:*Key*", "!kms:Encrypt", "!kms:List*|kms:Get*",
		"ecs:*", "kms:Nonexistent", "kms:Encrypt|kms:Decrypt|kms:Sign",
		"*:*Secret*", "k*s:*e", "**", "kms:ListKeys?",
		"!*", "kms:Describe*|kms:List*"
	};
	static const char *const extra[] = {
		"kms:Foo", "ecs:DescribeInstances", "kms:", "kms:encryptx",
		"KmS:eNcRyPt", "kms:Generate", "x"
	};
	struct cpolicy_req	 rq;
	struct cpolicy		*cp;
	struct value_time	 now = { 0, 0 };
	const char		*subj[160], *a;
	char			 up[80];
	size_t			 p, i, k, len, nsubj = 0;
	uint32_t		 n;
	unsigned		 b1, b2;
	int			 cas;

	for (n = 1; (a = cpolicy_action_name(n)) != NULL; n++)
		subj[nsubj++] = a;
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		subj[nsubj++] = extra[i];
	for (p = 0; p < sizeof(pats) / sizeof(pats[0]); p++) {
		cp = ram1('A', pats[p], "*");
		for (k = 0; k < nsubj; k++) {
			len = strlen(subj[k]);
			for (cas = 0; cas < 2; cas++) {
				for (i = 0; i < len; i++)
					up[i] = cas && subj[k][i] >= 'a' &&
					    subj[k][i] <= 'z' ?
					    subj[k][i] - 32 : subj[k][i];
				memset(&rq, 0, sizeof(rq));
				rq.action = up;
				rq.action_len = len;
				rq.resource = "r";
				rq.resource_len = 1;
				rq.now = &now;
				b1 = cpolicy_eval(cp, &rq, NULL, NULL);
				rq.action_id = cpolicy_action_id(up, len);
				assert_true(rq.action_id != 0 || k + 1 >= n);
				b2 = cpolicy_eval(cp, &rq, NULL, NULL);
				if (b1 != b2)
					fail_msg("pattern %s action %.*s: "
					    "globs %u, bits %u", pats[p],
					    (int)len, up, b1, b2);
			}
		}
		cpolicy_unref(cp);
	}
	/* The bit sets did answer something: spot checks. */
	cp = ram1('A', "!kms:List*|kms:Get*", "*");
	memset(&rq, 0, sizeof(rq));
	rq.action = "kms:ListKeys";
	rq.action_len = 12;
	rq.action_id = cpolicy_action_id(rq.action, rq.action_len);
	rq.resource = "r";
	rq.resource_len = 1;
	rq.now = &now;
	assert_int_equal(cpolicy_eval(cp, &rq, NULL, NULL), 0);
	rq.action = "kms:Encrypt";
	rq.action_len = 11;
	rq.action_id = cpolicy_action_id(rq.action, rq.action_len);
	assert_int_equal(cpolicy_eval(cp, &rq, NULL, NULL), 1);
	cpolicy_unref(cp);
}

/* A glob copied byte for byte matches as the original. */
static void
test_glob_copy(void **state)
{
	static const char *const pats[] = {
		"", "*", "abc", "ab*", "*bc", "a*b*c", "a?c", "*a?*", "é?x*",
		"acs:kms:*:1111:key/*"
	};
	static const char *const subj[] = {
		"", "a", "abc", "abxc", "zzbc", "aXbYc", "aéc", "éax",
		"acs:kms:cn:1111:key/k1", "acs:kms:cn:2222:key/k1"
	};
	struct glob	*g;
	void		*copy;
	size_t		 i, j, sz;

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		g = glob_compile(pats[i], strlen(pats[i]), 0);
		assert_non_null(g);
		sz = glob_size(g);
		assert_int_equal(sz % 8, 0);
		assert_true(sz >= strlen(pats[i]) + 1);
		copy = malloc(sz);
		assert_non_null(copy);
		memcpy(copy, g, sz);
		glob_free(g);
		g = glob_compile(pats[i], strlen(pats[i]), 0);
		for (j = 0; j < sizeof(subj) / sizeof(subj[0]); j++)
			assert_int_equal(glob_match(copy, subj[j],
			    strlen(subj[j])), glob_match(g, subj[j],
			    strlen(subj[j])));
		glob_free(g);
		free(copy);
	}
}

/* Put policy name (account A1) allowing actions on resources. */
static void
putp(struct world_txn *t, const char *name, char effect,
    const char *actions, const char *resources)
{
	struct cpolicy	*cp = ram1(effect, actions, resources);

	assert_int_equal(world_txn_put_policy(t, A1, name, cp), 0);
	cpolicy_unref(cp);
}

static struct world *
memo_world(void)
{
	struct world_txn	*t;
	struct world		*w;
	const char		*ag[] = { "devs", "ghost", "devs" };
	const char		*ap[] = { "enc", "missing", "enc" };
	const char		*dp[] = { "dec", "enc" };
	const char		*op[] = { "sign" };

	t = world_txn_begin(NULL);
	assert_int_equal(world_txn_put_key(t, "k1", "cn-hangzhou", A1, NULL,
	    WORLD_KEY_ENABLED, NULL, 0, NULL), 0);
	assert_int_equal(world_txn_put_key(t, "k2", "cn-hangzhou", A1, NULL,
	    WORLD_KEY_ENABLED, NULL, 0, NULL), 0);
	putp(t, "enc", 'A', "kms:Encrypt", KARN("k1"));
	putp(t, "dec", 'A', "kms:Decrypt", "*");
	putp(t, "sign", 'A', "kms:Sign", "*");
	assert_int_equal(world_txn_put_group(t, A1, "devs", dp, 2), 0);
	assert_int_equal(world_txn_put_user(t, A1, "alice", ag, 3, ap, 3),
	    0);
	assert_int_equal(world_txn_put_role(t, A1, "ops", op, 1), 0);
	w = world_txn_commit(t, 1);
	assert_non_null(w);
	return (w);
}

/* The answers the memo_world gives; checked on every version that has
 * not changed them. */
static void
check_v1(const struct world *w)
{
	assert_int_equal(decide(w, ALICE, "kms:Encrypt", KARN("k1"), 1),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	/* enc is attached to alice and to devs: listed once. */
	assert_int_equal(ans.nmatched, 1);
	assert_int_equal(ans.matched[0].namelen, 3);
	assert_memory_equal(ans.matched[0].name, "enc", 3);
	assert_int_equal(decide(w, ALICE, "kms:Encrypt", KARN("k2"), 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	assert_int_equal(decide(w, ALICE, "kms:decrypt", KARN("k2"), 1),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	assert_memory_equal(ans.matched[0].name, "dec", 3);
	assert_int_equal(decide(w, ALICE, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	assert_int_equal(decide(w, OPS, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	assert_int_equal(decide(w, OPS, "kms:Encrypt", KARN("k1"), 0),
	    EVAL_R_NO_MATCHING_ALLOW);
}

static void
test_memo_resolve(void **state)
{
	struct world			*w = memo_world();
	struct world_txn		*t;
	const struct world_rpolicy	*v, *v2;
	size_t				 n, n2, ne, np;

	world_memo_stats(w, &ne, &np);
	assert_int_equal(ne, 0);
	assert_int_equal(np, 0);
	assert_int_equal(world_principal_policies(w, 1, A1, 16, "alice", 5,
	    &v, &n), 1);
	/* Own (enc; missing is skipped; enc again is left out), then
	 * devs' (dec; enc again), ghost is no group, devs again adds
	 * nothing. */
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "enc");
	assert_int_equal(v[0].namelen, 3);
	assert_string_equal(v[1].name, "dec");
	assert_non_null(v[0].policy);
	/* The second call is the memoised list itself. */
	assert_int_equal(world_principal_policies(w, 1, A1, 16, "alice", 5,
	    &v2, &n2), 1);
	assert_ptr_equal(v2, v);
	assert_int_equal(n2, n);
	world_memo_stats(w, &ne, &np);
	assert_int_equal(np, 1);
	assert_true(ne >= 4);	/* alice, devs, enc, dec */
	/* A user is not a role; unknown principals are -1. */
	assert_int_equal(world_principal_policies(w, 0, A1, 16, "alice", 5,
	    &v, &n), -1);
	assert_int_equal(world_principal_policies(w, 0, A1, 16, "ops", 3,
	    &v, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(world_principal_policies(w, 1, A2, 16, "alice", 5,
	    &v, &n), -1);
	assert_int_equal(world_principal_policies(NULL, 1, A1, 16, "alice",
	    5, &v, &n), -1);
	/* A transaction's view has no memo: the caller does lookups. */
	t = world_txn_begin(w);
	assert_int_equal(world_principal_policies(world_txn_view(t), 1, A1,
	    16, "alice", 5, &v, &n), 0);
	assert_int_equal(world_principal_policies(world_txn_view(t), 1, A1,
	    16, "nobody", 6, &v, &n), -1);
	world_memo_stats(world_txn_view(t), &ne, &np);
	assert_int_equal(ne + np, 0);
	/* ... and decides the same. */
	check_v1(world_txn_view(t));
	world_txn_abort(t);
	check_v1(w);
	check_v1(w);
	world_unref(w);
}

/*
 * Each later version sees its own change at once; the earlier version,
 * memoised before the change, keeps answering as before.
 */
static void
test_memo_versions(void **state)
{
	struct world		*w1 = memo_world(), *w2, *w3, *w4, *w5, *w6;
	struct world_txn	*t;
	const char		*ag[] = { "devs" }, *ap[] = { "sign" };
	const char		*dp[] = { "enc" };

	check_v1(w1);				/* fills w1's memo */

	/* 2: alice's own attachments change. */
	t = world_txn_begin(w1);
	assert_int_equal(world_txn_put_user(t, A1, "alice", ag, 1, ap, 1),
	    0);
	w2 = world_txn_commit(t, 2);
	assert_int_equal(decide(w2, ALICE, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	/* enc now only through devs, which still has it. */
	assert_int_equal(decide(w2, ALICE, "kms:Encrypt", KARN("k1"), 0),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	check_v1(w1);

	/* 3: the group's policies change (devs loses enc, dec). */
	t = world_txn_begin(w2);
	assert_int_equal(world_txn_put_group(t, A1, "devs", NULL, 0), 0);
	w3 = world_txn_commit(t, 3);
	assert_int_equal(decide(w3, ALICE, "kms:Encrypt", KARN("k1"), 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	assert_int_equal(decide(w3, ALICE, "kms:Decrypt", KARN("k1"), 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	assert_int_equal(decide(w2, ALICE, "kms:Decrypt", KARN("k1"), 0),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);

	/* 4: group membership: the group gets enc back, alice leaves
	 * it; then a new version of the policy sign (a Deny). */
	t = world_txn_begin(w3);
	assert_int_equal(world_txn_put_group(t, A1, "devs", dp, 1), 0);
	assert_int_equal(world_txn_put_user(t, A1, "alice", NULL, 0, ap, 1),
	    0);
	w4 = world_txn_commit(t, 4);
	assert_int_equal(decide(w4, ALICE, "kms:Encrypt", KARN("k1"), 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	t = world_txn_begin(w4);
	putp(t, "sign", 'D', "kms:Sign", "*");
	w5 = world_txn_commit(t, 5);
	assert_int_equal(decide(w5, ALICE, "kms:Sign", KARN("k1"), 1),
	    EVAL_R_EXPLICIT_DENY);
	assert_int_equal(ans.nmatched, 1);
	assert_int_equal(decide(w5, OPS, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_EXPLICIT_DENY);
	assert_int_equal(decide(w4, ALICE, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);

	/* 6: the policy is deleted; the role's attachment dangles. */
	t = world_txn_begin(w5);
	assert_int_equal(world_txn_del_policy(t, A1, "sign"), 0);
	w6 = world_txn_commit(t, 6);
	assert_int_equal(decide(w6, OPS, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	assert_int_equal(decide(w5, OPS, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_EXPLICIT_DENY);

	/* Every old version still answers as it did; dropping them in
	 * any order leaves the others whole (ASan). */
	world_unref(w3);
	check_v1(w1);
	world_unref(w1);
	assert_int_equal(decide(w2, ALICE, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	world_unref(w2);
	world_unref(w5);
	world_unref(w4);
	assert_int_equal(decide(w6, ALICE, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	world_unref(w6);
}

/* A list too long to memoise is resolved by lookups, with the same
 * answer. */
static void
test_memo_long_list(void **state)
{
	struct world_txn		*t;
	struct world			*w;
	const struct world_rpolicy	*v;
	const char			*pv[300];
	char				 names[300][8];
	size_t				 i, n;

	t = world_txn_begin(NULL);
	assert_int_equal(world_txn_put_key(t, "k1", "cn-hangzhou", A1, NULL,
	    WORLD_KEY_ENABLED, NULL, 0, NULL), 0);
	for (i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "p%zu", i);
		pv[i] = names[i];
		putp(t, names[i], 'A', i == 299 ? "kms:Encrypt" : "kms:Sign",
		    i == 299 ? "*" : "nothing");
	}
	assert_int_equal(world_txn_put_user(t, A1, "alice", NULL, 0, pv,
	    300), 0);
	w = world_txn_commit(t, 1);
	assert_int_equal(world_principal_policies(w, 1, A1, 16, "alice", 5,
	    &v, &n), 0);
	assert_int_equal(decide(w, ALICE, "kms:Encrypt", KARN("k1"), 1),
	    EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	assert_int_equal(ans.nmatched, 1);
	assert_memory_equal(ans.matched[0].name, "p299", 4);
	assert_int_equal(decide(w, ALICE, "kms:Sign", KARN("k1"), 0),
	    EVAL_R_NO_MATCHING_ALLOW);
	world_unref(w);
}

/* Threads filling one fresh world's memo at once all decide right. */
struct thr {
	const struct world	*w;
	int			 bad;
};

static void *
thr_run(void *arg)
{
	struct thr		*th = arg;
	struct eval_request	 r;
	struct eval_answer	 a;
	char			 pr[64], res[96];
	int			 i, u, k;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 20000; i++) {
		u = (i * 7) % 200;
		k = (i * 13) % 500;
		snprintf(pr, sizeof(pr), "acs:ram::" A1 ":user/u%d", u);
		snprintf(res, sizeof(res), KARN("k%d"), k);
		r.principal = pr;
		r.principal_len = strlen(pr);
		r.action = u % 2 ? "kms:Encrypt" : "kms:Decrypt";
		r.action_len = 11;
		r.resource = res;
		r.resource_len = strlen(res);
		(void)eval_decide(th->w, &r, &a);
		/* Odd users have p1 (Encrypt on every key), even ones p0
		 * (Decrypt on keys k0..k9 only: "k?" and "k"). */
		if (a.decision != (u % 2 || k < 10 ? EVAL_ALLOW :
		    EVAL_IMPLICIT_DENY))
			th->bad++;
	}
	return (NULL);
}

static void
test_memo_threads(void **state)
{
	struct world_txn	*t;
	struct world		*w;
	struct thr		 th[4];
	pthread_t		 tid[4];
	const char		*pv[1];
	char			 buf[32];
	size_t			 ne, np;
	int			 i;

	t = world_txn_begin(NULL);
	for (i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf), "k%d", i);
		assert_int_equal(world_txn_put_key(t, buf, "cn-hangzhou", A1,
		    NULL, WORLD_KEY_ENABLED, NULL, 0, NULL), 0);
	}
	putp(t, "p0", 'A', "kms:Decrypt", KARN("k?"));
	putp(t, "p1", 'A', "kms:Encrypt", KARN("*"));
	for (i = 0; i < 200; i++) {
		snprintf(buf, sizeof(buf), "u%d", i);
		pv[0] = i % 2 ? "p1" : "p0";
		assert_int_equal(world_txn_put_user(t, A1, buf, NULL, 0, pv,
		    1), 0);
	}
	w = world_txn_commit(t, 1);
	for (i = 0; i < 4; i++) {
		th[i].w = w;
		th[i].bad = 0;
		assert_int_equal(pthread_create(&tid[i], NULL, thr_run,
		    &th[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(th[i].bad, 0);
	}
	world_memo_stats(w, &ne, &np);
	assert_int_equal(np, 200);
	assert_true(ne >= 200 + 500 && ne <= 200 + 500 + 2);
	world_unref(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_action_ids),
		cmocka_unit_test(test_action_bits),
		cmocka_unit_test(test_glob_copy),
		cmocka_unit_test(test_memo_resolve),
		cmocka_unit_test(test_memo_versions),
		cmocka_unit_test(test_memo_long_list),
		cmocka_unit_test(test_memo_threads),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

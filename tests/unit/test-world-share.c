/* SPDX-License-Identifier: ISC */
/*
 * test-world-share.c: the world's per-instance share quota index
 * answers exactly as a walk over every key does: random sequences of
 * key inserts, replacements (policy, creator, instance, state changed)
 * and removals across many world versions, with every older version
 * checked again after newer ones are built, and the "what if" counts
 * (a key left out, another policy counted in its place).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/cpolicy.h"
#include "engine/world.h"

#define NACCT		6
#define NINST		3
#define NKEYS		40
#define NPOOL		48
#define NVERSIONS	24
#define MAXACCT		64

static const char *const acct[NACCT] = {
	"1111111111111111", "2222222222222222", "3333333333333333",
	"4444444444444444", "5555555555555555", "666"
};
static const char *const inst[NINST] = { "kst-a", "kst-b", "kst-c" };

static uint64_t	rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((unsigned)(rng >> 11) % n);
}

/*
 * A random key policy: Allow and Deny statements whose principals are
 * account patterns of any account (the creator's own among them), its
 * root, users and roles, "*", "acs:ram::*:*" (account part "*"), an
 * empty account part and repeats.
 */
static struct cpolicy *
rnd_policy(void)
{
	struct cpolicy	*cp = cpolicy_new(CPOLICY_KEY);
	char		 p[128];
	unsigned	 s, ns = 1 + rnd(3), i, np;
	const char	*a;

	assert_non_null(cp);
	for (s = 0; s < ns; s++) {
		assert_int_equal(cpolicy_add_stmt(cp, rnd(4) == 0 ?
		    CPOLICY_DENY : CPOLICY_ALLOW, NULL, 0), 0);
		assert_int_equal(cpolicy_stmt_action(cp, 0, "kms:*", 5), 0);
		assert_int_equal(cpolicy_stmt_resource(cp, 0, "*", 1), 0);
		np = 1 + rnd(4);
		for (i = 0; i < np; i++) {
			a = acct[rnd(NACCT)];
			switch (rnd(7)) {
			case 0:
				snprintf(p, sizeof(p), "acs:ram::%s:*", a);
				break;
			case 1:
				snprintf(p, sizeof(p), "acs:ram::%s:root", a);
				break;
			case 2:
				snprintf(p, sizeof(p), "acs:ram::%s:user/u%u",
				    a, rnd(3));
				break;
			case 3:
				snprintf(p, sizeof(p), "acs:ram::%s:role/r", a);
				break;
			case 4:
				snprintf(p, sizeof(p), "%s", rnd(2) ? "*" :
				    "acs:ram::*:*");
				break;
			case 5:
				snprintf(p, sizeof(p), "acs:ram:::user/x");
				break;
			default:
				snprintf(p, sizeof(p), "acs:ram::%s:*", a);
				break;
			}
			assert_int_equal(cpolicy_stmt_principal(cp, p,
			    strlen(p)), 0);
		}
	}
	assert_int_equal(cpolicy_finish(cp), 0);
	return (cp);
}

/* The brute force: a set of accounts, filled by walking every key. */
struct set {
	char	 s[MAXACCT][32];
	size_t	 n;
};

static int
set_add(const char *s, size_t len, void *arg)
{
	struct set	*st = arg;
	size_t		 i;

	assert_true(len > 0 && len < sizeof(st->s[0]));
	for (i = 0; i < st->n; i++)
		if (strlen(st->s[i]) == len && memcmp(st->s[i], s, len) == 0)
			return (0);
	assert_true(st->n < MAXACCT);
	memcpy(st->s[st->n], s, len);
	st->s[st->n][len] = '\0';
	st->n++;
	return (0);
}

struct walk {
	const char	*instance;
	const char	*skip;
	struct set	 set;
};

static int
walk_key(const struct world_key *k, void *arg)
{
	struct walk	*wk = arg;

	if (k->instance == NULL || k->policy == NULL ||
	    strcmp(k->instance, wk->instance) != 0 ||
	    (wk->skip != NULL && strcmp(k->id, wk->skip) == 0))
		return (0);
	(void)cpolicy_foreign_accounts(k->policy, k->creator, set_add,
	    &wk->set);
	return (0);
}

static size_t
brute(const struct world *w, const char *instance, const char *skip,
    const struct cpolicy *extra, const char *extra_account)
{
	struct walk	wk;

	memset(&wk, 0, sizeof(wk));
	wk.instance = instance;
	wk.skip = skip;
	(void)world_foreach_key(w, walk_key, &wk);
	if (extra != NULL)
		(void)cpolicy_foreign_accounts(extra, extra_account, set_add,
		    &wk.set);
	return (wk.set.n);
}

static int
set_has(const char *s, size_t len, void *arg)
{
	struct set	*st = arg;
	size_t		 i;

	for (i = 0; i < st->n; i++)
		if (strlen(st->s[i]) == len && memcmp(st->s[i], s, len) == 0)
			return (0);
	return (1);			/* stop: not in the set */
}

/* world_key_share_grows by brute force. */
static int
brute_grows(const struct world *w, const char *key_id,
    const struct cpolicy *cp, const char *account)
{
	struct world_key	k;
	struct set		old;

	memset(&old, 0, sizeof(old));
	if (world_get_key(w, key_id, strlen(key_id), &k) == 0 &&
	    k.policy != NULL)
		(void)cpolicy_foreign_accounts(k.policy, account, set_add,
		    &old);
	return (cpolicy_foreign_accounts(cp, account, set_has, &old) != 0);
}

static struct cpolicy	*pool[NPOOL];

/* Every count of w against the walk; some "what if"s chosen at random. */
static void
check_world(const struct world *w)
{
	struct cpolicy	*extra;
	const char	*ea;
	char		 skip[16];
	size_t		 n;
	unsigned	 i, j;

	for (i = 0; i <= NINST; i++) {
		const char *in = i < NINST ? inst[i] : "kst-none";

		assert_int_equal(world_instance_share_count(w, in, NULL,
		    NULL, NULL, &n), 0);
		assert_int_equal(n, brute(w, in, NULL, NULL, NULL));
		for (j = 0; j < 12; j++) {
			const char *sk = rnd(4) ? skip : NULL;

			snprintf(skip, sizeof(skip), "k%u", rnd(NKEYS + 2));
			extra = rnd(3) ? pool[rnd(NPOOL)] : NULL;
			ea = extra != NULL ? acct[rnd(NACCT)] : NULL;
			assert_int_equal(world_instance_share_count(w, in,
			    sk, extra, ea, &n), 0);
			assert_int_equal(n, brute(w, in, sk, extra, ea));
		}
	}
	/* Deterministic "what if"s: every key left out, with and without
	 * every fourth pool policy in its place. */
	for (i = 0; i <= NINST; i++) {
		const char *in = i < NINST ? inst[i] : "kst-none";

		for (j = 0; j < NKEYS + 2; j++) {
			snprintf(skip, sizeof(skip), "k%u", j);
			assert_int_equal(world_instance_share_count(w, in,
			    skip, NULL, NULL, &n), 0);
			assert_int_equal(n, brute(w, in, skip, NULL, NULL));
			extra = pool[(j * 7 + i) % NPOOL];
			ea = acct[(j + i) % NACCT];
			assert_int_equal(world_instance_share_count(w, in,
			    skip, extra, ea, &n), 0);
			assert_int_equal(n, brute(w, in, skip, extra, ea));
			assert_int_equal(world_instance_share_count(w, in,
			    NULL, extra, ea, &n), 0);
			assert_int_equal(n, brute(w, in, NULL, extra, ea));
			assert_int_equal(world_key_share_grows(w, skip, extra,
			    ea), brute_grows(w, skip, extra, ea));
		}
	}
}

/* One random change in t; returns 1 when something changed. */
static int
rnd_change(struct world_txn *t)
{
	struct world_key	 k;
	struct world_tag	 tag = { "env", "prod" };
	const struct world	*v = world_txn_view(t);
	const struct cpolicy	*cp;
	const char		*in, *creator;
	char			 id[16];
	unsigned		 op = rnd(10);
	int			 have;

	snprintf(id, sizeof(id), "k%u", rnd(NKEYS));
	have = world_get_key(v, id, strlen(id), &k) == 0;
	if (op < 2) {
		/* Remove: an absent key is ENOENT and changes nothing. */
		if (!have) {
			assert_int_equal(world_txn_del_key(t, id), -1);
			assert_int_equal(errno, ENOENT);
			return (0);
		}
		assert_int_equal(world_txn_del_key(t, id), 0);
		return (1);
	}
	if (op == 2 && have) {
		/* Same policy, creator and instance; state and tags
		 * change. */
		assert_int_equal(world_txn_put_key(t, id, k.region, k.creator,
		    k.instance, WORLD_KEY_DISABLED, &tag, 1, k.policy), 0);
		return (1);
	}
	if (op == 3) {
		/* Outside any instance: no policy. */
		assert_int_equal(world_txn_put_key(t, id, "r", acct[rnd(3)],
		    NULL, WORLD_KEY_ENABLED, NULL, 0, NULL), 0);
		return (1);
	}
	if (op == 4 && have && k.instance != NULL) {
		/* Moved to another instance, same policy. */
		assert_int_equal(world_txn_put_key(t, id, "r", k.creator,
		    inst[rnd(NINST)], WORLD_KEY_ENABLED, NULL, 0, k.policy), 0);
		return (1);
	}
	if (op == 5 && have && k.instance != NULL) {
		/* Another creator: the same policy, other accounts are
		 * its own. */
		assert_int_equal(world_txn_put_key(t, id, "r", acct[rnd(NACCT)],
		    k.instance, WORLD_KEY_ENABLED, NULL, 0, k.policy), 0);
		return (1);
	}
	/* Inserted or replaced with a policy from the pool (some keys
	 * then share one policy object) or none, in some instance. */
	in = inst[rnd(NINST)];
	creator = acct[rnd(3)];
	cp = rnd(8) == 0 ? NULL : pool[rnd(NPOOL)];
	assert_int_equal(world_txn_put_key(t, id, "r", creator, in,
	    WORLD_KEY_ENABLED, NULL, 0, cp), 0);
	return (1);
}

static void
test_share_random(void **state)
{
	struct world	*w[NVERSIONS];
	struct world_txn *t;
	unsigned	 round, i, j, nops, v;

	(void)state;
	for (i = 0; i < NPOOL; i++)
		pool[i] = rnd_policy();
	memset(w, 0, sizeof(w));
	for (round = 0; round < 6; round++) {
		for (v = 0; v < NVERSIONS; v++) {
			t = world_txn_begin(v > 0 ? w[v - 1] :
			    (round > 0 ? w[NVERSIONS - 1] : NULL));
			assert_non_null(t);
			nops = 1 + rnd(v == 0 && round == 0 ? 60 : 12);
			for (i = 0; i < nops; i++) {
				(void)rnd_change(t);
				/* The transaction's view counts too. */
				if (rnd(6) == 0)
					check_world(world_txn_view(t));
			}
			if (rnd(10) == 0) {
				/* An aborted transaction leaves nothing. */
				world_txn_abort(t);
				t = world_txn_begin(v > 0 ? w[v - 1] :
				    (round > 0 ? w[NVERSIONS - 1] : NULL));
				(void)rnd_change(t);
			}
			if (round > 0)
				world_unref(w[v]);
			w[v] = world_txn_commit(t, round * NVERSIONS + v + 1);
			assert_non_null(w[v]);
			check_world(w[v]);
			/* Every older version still answers for itself. */
			for (j = 0; j < NVERSIONS; j++)
				if (w[j] != NULL && (j % 5 == v % 5 ||
				    v == NVERSIONS - 1))
					check_world(w[j]);
		}
	}
	/* Dropped in an odd order (ASan: no use after free, no leak). */
	for (i = 0; i < NVERSIONS; i += 2)
		world_unref(w[i]);
	for (i = 1; i < NVERSIONS; i += 2) {
		check_world(w[i]);
		world_unref(w[i]);
	}
	for (i = 0; i < NPOOL; i++)
		cpolicy_unref(pool[i]);
}

/* A key policy whose Allow statements name the given principals. */
static struct cpolicy *
kpol(const char *const *pr, size_t n, const char *deny)
{
	struct cpolicy	*cp = cpolicy_new(CPOLICY_KEY);
	size_t		 i;

	assert_non_null(cp);
	assert_int_equal(cpolicy_add_stmt(cp, CPOLICY_ALLOW, NULL, 0), 0);
	assert_int_equal(cpolicy_stmt_action(cp, 0, "kms:*", 5), 0);
	assert_int_equal(cpolicy_stmt_resource(cp, 0, "*", 1), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(cpolicy_stmt_principal(cp, pr[i],
		    strlen(pr[i])), 0);
	if (deny != NULL) {
		assert_int_equal(cpolicy_add_stmt(cp, CPOLICY_DENY, NULL, 0),
		    0);
		assert_int_equal(cpolicy_stmt_action(cp, 0, "kms:*", 5), 0);
		assert_int_equal(cpolicy_stmt_resource(cp, 0, "*", 1), 0);
		assert_int_equal(cpolicy_stmt_principal(cp, deny,
		    strlen(deny)), 0);
	}
	assert_int_equal(cpolicy_finish(cp), 0);
	return (cp);
}

static size_t
count(const struct world *w, const char *in, const char *skip,
    const struct cpolicy *extra, const char *ea)
{
	size_t	n = 999;

	assert_int_equal(world_instance_share_count(w, in, skip, extra, ea,
	    &n), 0);
	assert_int_equal(n, brute(w, in, skip, extra, ea));
	return (n);
}

struct seen {
	char	s[8][32];
	size_t	n;
};

static int
seen_add(const char *s, size_t len, void *arg)
{
	struct seen	*sn = arg;

	assert_true(sn->n < 8 && len < 32);
	memcpy(sn->s[sn->n], s, len);
	sn->s[sn->n++][len] = '\0';
	return (0);
}

/* Known counts, step by step. */
static void
test_share_known(void **state)
{
	static const char *const p2[] = {
		"acs:ram::2222222222222222:*", "acs:ram::1111111111111111:*"
	};
	static const char *const p23[] = {
		"acs:ram::2222222222222222:user/a",
		"acs:ram::3333333333333333:root", "*", "acs:ram:::x"
	};
	static const char *const pstar[] = { "acs:ram::*:*" };
	struct cpolicy	*c2 = kpol(p2, 2, NULL);
	struct cpolicy	*c23 = kpol(p23, 4, "acs:ram::4444444444444444:*");
	struct cpolicy	*cs = kpol(pstar, 1, NULL);
	struct world_txn *t;
	struct world	*w1, *w2, *w3;
	size_t		 n;

	(void)state;
	t = world_txn_begin(NULL);
	assert_int_equal(world_txn_put_key(t, "k1", "r", acct[0], "i",
	    WORLD_KEY_ENABLED, NULL, 0, c2), 0);
	assert_int_equal(world_txn_put_key(t, "k2", "r", acct[0], "i",
	    WORLD_KEY_ENABLED, NULL, 0, c23), 0);
	assert_int_equal(world_txn_put_key(t, "k3", "r", acct[1], "i",
	    WORLD_KEY_ENABLED, NULL, 0, c2), 0);
	w1 = world_txn_commit(t, 1);
	/* k1: 2; k2: 2, 3 (the Deny's 4 and "*" do not count); k3 (created
	 * by 2): 1. */
	assert_int_equal(count(w1, "i", NULL, NULL, NULL), 3);
	assert_int_equal(count(w1, "i", "k1", NULL, NULL), 3);
	assert_int_equal(count(w1, "i", "k2", NULL, NULL), 2);
	assert_int_equal(count(w1, "i", "k3", NULL, NULL), 2);
	assert_int_equal(count(w1, "i", "k2", cs, acct[0]), 3);
	assert_int_equal(count(w1, "i", "k3", cs, acct[0]), 3);
	assert_int_equal(count(w1, "i", "nokey", cs, acct[0]), 4);
	assert_int_equal(count(w1, "other", "k1", c23, acct[0]), 2);
	assert_int_equal(world_key_share_grows(w1, "k2", c2, acct[0]), 0);
	assert_int_equal(world_key_share_grows(w1, "k1", c23, acct[0]), 1);
	assert_int_equal(world_key_share_grows(w1, "nokey", c2, acct[0]), 1);
	assert_int_equal(world_key_share_grows(w1, "nokey", c2, acct[1]), 1);

	/* Move k2 away, drop k3: w1 keeps its counts. */
	t = world_txn_begin(w1);
	assert_int_equal(world_txn_put_key(t, "k2", "r", acct[0], "j",
	    WORLD_KEY_ENABLED, NULL, 0, c23), 0);
	assert_int_equal(world_txn_del_key(t, "k3"), 0);
	assert_int_equal(world_txn_del_key(t, "k3"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(world_txn_del_key(t, ""), -1);
	assert_int_equal(errno, EINVAL);
	w2 = world_txn_commit(t, 2);
	assert_int_equal(count(w2, "i", NULL, NULL, NULL), 1);
	assert_int_equal(count(w2, "j", NULL, NULL, NULL), 2);
	assert_int_equal(count(w1, "i", NULL, NULL, NULL), 3);
	assert_int_equal(count(w1, "j", NULL, NULL, NULL), 0);

	/* The last keys go: empty counts, and the index with them. */
	t = world_txn_begin(w2);
	assert_int_equal(world_txn_del_key(t, "k1"), 0);
	assert_int_equal(world_txn_put_key(t, "k2", "r", acct[0], NULL,
	    WORLD_KEY_ENABLED, NULL, 0, NULL), 0);
	w3 = world_txn_commit(t, 3);
	assert_int_equal(count(w3, "i", NULL, NULL, NULL), 0);
	assert_int_equal(count(w3, "j", NULL, NULL, NULL), 0);
	assert_int_equal(count(w3, "j", "k2", c23, acct[0]), 2);
	assert_int_equal(count(w2, "j", NULL, NULL, NULL), 2);
	world_unref(w2);
	assert_int_equal(count(w1, "i", NULL, NULL, NULL), 3);
	world_unref(w1);
	world_unref(w3);
	/* No world: only the "what if" policy counts. */
	assert_int_equal(world_instance_share_count(NULL, "i", "k2", c23,
	    acct[0], &n), 0);
	assert_int_equal(n, 2);
	cpolicy_unref(c2);
	cpolicy_unref(c23);
	cpolicy_unref(cs);
}

/* One account named in hundreds of patterns is listed once; accounts
 * come shorter first, then bytewise. */
static void
test_foreign_order(void **state)
{
	struct cpolicy	*cp = cpolicy_new(CPOLICY_KEY);
	struct seen	 sn;
	char		 p[64];
	int		 i;

	(void)state;
	assert_non_null(cp);
	assert_int_equal(cpolicy_add_stmt(cp, CPOLICY_ALLOW, NULL, 0), 0);
	assert_int_equal(cpolicy_stmt_action(cp, 0, "kms:*", 5), 0);
	assert_int_equal(cpolicy_stmt_resource(cp, 0, "*", 1), 0);
	for (i = 0; i < 600; i++) {
		snprintf(p, sizeof(p), "acs:ram::%s:user/u%d",
		    i % 3 == 0 ? "9" : i % 3 == 1 ? "20" : "10", i);
		assert_int_equal(cpolicy_stmt_principal(cp, p, strlen(p)), 0);
	}
	snprintf(p, sizeof(p), "acs:ram::%s:*", acct[0]);
	assert_int_equal(cpolicy_stmt_principal(cp, p, strlen(p)), 0);
	/* Before finish: distinct, in the order written. */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(cpolicy_foreign_accounts(cp, "20", seen_add, &sn),
	    0);
	assert_int_equal(sn.n, 3);
	assert_string_equal(sn.s[0], "9");
	assert_string_equal(sn.s[1], "10");
	assert_string_equal(sn.s[2], acct[0]);
	assert_int_equal(cpolicy_finish(cp), 0);
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(cpolicy_foreign_accounts(cp, "20", seen_add, &sn),
	    0);
	assert_int_equal(sn.n, 3);
	assert_string_equal(sn.s[0], "9");
	assert_string_equal(sn.s[1], "10");
	assert_string_equal(sn.s[2], acct[0]);
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(cpolicy_foreign_accounts(cp, acct[0], seen_add,
	    &sn), 0);
	assert_int_equal(sn.n, 3);
	assert_string_equal(sn.s[1], "10");
	assert_string_equal(sn.s[2], "20");
	cpolicy_unref(cp);
}

/*
 * Among many keys of one instance, a policy naming a new account
 * copies a few index nodes besides the key's path, and the old version
 * keeps its count.
 */
static void
test_share_sharing(void **state)
{
	struct cpolicy	*cp[50], *fresh;
	struct world_txn *t;
	struct world	*w1, *w2;
	char		 id[32], p[64];
	const char	*pp[1] = { p };
	size_t		 total, unshared, n;
	int		 i;

	(void)state;
	for (i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "acs:ram::%d:*", 1000 + i);
		cp[i] = kpol(pp, 1, NULL);
	}
	t = world_txn_begin(NULL);
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "key-%05d", i);
		assert_int_equal(world_txn_put_key(t, id, "r", acct[0], "i",
		    WORLD_KEY_ENABLED, NULL, 0, cp[i % 50]), 0);
	}
	w1 = world_txn_commit(t, 1);
	assert_int_equal(count(w1, "i", NULL, NULL, NULL), 50);
	snprintf(p, sizeof(p), "acs:ram::%d:*", 7777);
	fresh = kpol(pp, 1, NULL);
	assert_int_equal(world_key_share_grows(w1, "key-00003", fresh,
	    acct[0]), 1);
	assert_int_equal(count(w1, "i", "key-00003", fresh, acct[0]), 51);
	t = world_txn_begin(w1);
	assert_int_equal(world_txn_put_key(t, "key-00003", "r", acct[0], "i",
	    WORLD_KEY_ENABLED, NULL, 0, fresh), 0);
	w2 = world_txn_commit(t, 2);
	world_node_stats(w2, &total, &unshared);
	assert_true(total > 5000);
	assert_true(unshared < 40);
	assert_int_equal(world_instance_share_count(w2, "i", NULL, NULL, NULL,
	    &n), 0);
	assert_int_equal(n, 51);
	assert_int_equal(world_instance_share_count(w1, "i", NULL, NULL, NULL,
	    &n), 0);
	assert_int_equal(n, 50);
	world_unref(w1);
	world_unref(w2);
	cpolicy_unref(fresh);
	for (i = 0; i < 50; i++)
		cpolicy_unref(cp[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share_known),
		cmocka_unit_test(test_foreign_order),
		cmocka_unit_test(test_share_sharing),
		cmocka_unit_test(test_share_random),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

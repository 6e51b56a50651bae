/* SPDX-License-Identifier: ISC */
/*
 * test-analyze.c: the analysis against brute force.  On seeded random
 * worlds (accounts, keys with tags and key policies, users, roles and
 * identity policies whose statements carry IP, date, Bool, string and
 * tag conditions), every (principal, catalog action, key) verdict of
 * src/engine/analyze.c is compared with eval_decide over a fixed sample
 * of contexts chosen independently: addresses inside and outside every
 * network, times either side of every date, every Bool value and every
 * string, each absent too.  A principal listed unconditional must be
 * allowed in every sample; one allowed in a sample must be listed; one
 * listed conditional must be allowed in some sample and denied in
 * another (the samples cover every region the conditions make).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/analyze.h"
#include "engine/eval.h"
#include "engine/value.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy.h"

#define TA_WORLDS	12

static const char *const ta_accounts[] = {
	"111111111111", "222222222222", "333333333333"
};
static const char *const ta_actions[] = {
	"\"kms:Encrypt\"", "\"kms:Decrypt\"", "\"kms:Sign\"", "\"kms:*\"",
	"\"kms:Get*\"", "\"kms:Encrypt\", \"kms:Decrypt\""
};
static const char *const ta_conds[] = {
	"",
	", \"Condition\": {\"IpAddress\": {\"acs:SourceIp\": "
	    "[\"192.168.1.0/24\", \"10.0.0.0/8\"]}}",
	", \"Condition\": {\"NotIpAddress\": {\"acs:SourceIp\": "
	    "[\"172.16.0.0/12\"]}}",
	", \"Condition\": {\"DateGreaterThan\": {\"acs:CurrentTime\": "
	    "\"2026-06-01T00:00:00Z\"}}",
	", \"Condition\": {\"DateLessThan\": {\"acs:CurrentTime\": "
	    "\"2025-06-01T00:00:00Z\"}}",
	", \"Condition\": {\"Bool\": {\"acs:SecureTransport\": \"true\"}}",
	", \"Condition\": {\"StringEquals\": {\"kms:tag/Env\": \"prod\"}}",
	", \"Condition\": {\"StringLike\": {\"acs:UserAgent\": \"curl*\"}}",
	", \"Condition\": {\"StringNotEquals\": {\"acs:UserAgent\": "
	    "\"wget\"}, \"Bool\": {\"acs:SecureTransport\": \"false\"}}"
};
#define TA_N(a)	(sizeof(a) / sizeof((a)[0]))

/* The sampled contexts (independent of the analysis's witnesses). */
static const char *const ta_ips[] = {
	NULL, "10.0.0.1", "192.168.1.5", "192.168.2.1", "172.16.0.1",
	"172.15.255.255", "2001:db8::1"
};
static const char *const ta_times[] = {
	"2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z",
	"2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z"
};
static const char *const ta_bools[] = { NULL, "true", "false" };
static const char *const ta_agents[] = { NULL, "curl/8.0", "wget" };

/* Every principal a world may hold or name. */
static const char *const ta_prin[] = {
	"acs:ram::111111111111:root", "acs:ram::222222222222:root",
	"acs:ram::333333333333:root", "acs:ram::111111111111:user/u0",
	"acs:ram::222222222222:user/u1", "acs:ram::111111111111:role/r0"
};

static int
ta_listed(char **v, size_t n, const char *p)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], p) == 0)
			return (1);
	return (0);
}

static unsigned
ta_rand(uint64_t *s, unsigned n)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((unsigned)(*s >> 33) % n);
}

/* A statement: Effect, Action, target, Condition. */
static size_t
ta_stmt(char *p, size_t sz, uint64_t *s, int key)
{
	static const char *const prins[] = {
		"acs:ram::111111111111:*", "acs:ram::222222222222:*",
		"acs:ram::222222222222:user/u1", "*",
		"acs:ram::333333333333:*", "acs:ram::111111111111:role/r0"
	};
	static const char *const res[] = {
		"*", "acs:kms:*:111111111111:key/*", "acs:kms:*:*:key/k1",
		"acs:kms:cn-hangzhou:222222222222:key/*"
	};
	const char	*eff, *act, *tgt, *cond;

	eff = ta_rand(s, 4) == 0 ? "Deny" : "Allow";
	act = ta_actions[ta_rand(s, TA_N(ta_actions))];
	tgt = key ? prins[ta_rand(s, TA_N(prins))] :
	    res[ta_rand(s, TA_N(res))];
	cond = ta_conds[ta_rand(s, TA_N(ta_conds))];
	if (key)
		return ((size_t)snprintf(p, sz, "{\"Effect\": \"%s\", "
		    "\"Action\": [%s], \"Resource\": [\"*\"], "
		    "\"Principal\": {\"RAM\": [\"%s\"]}%s}", eff, act, tgt,
		    cond));
	return ((size_t)snprintf(p, sz, "{\"Effect\": \"%s\", \"Action\": "
	    "[%s], \"Resource\": [\"%s\"]%s}", eff, act, tgt, cond));
}

/* A policy document of 1 to 3 statements. */
static void
ta_doc(char *p, size_t sz, uint64_t *s, int key)
{
	size_t	n = 0, i, k = 1 + ta_rand(s, 3);

	n += (size_t)snprintf(p + n, sz - n, "{\"Version\": \"1\", "
	    "\"Statement\": [");
	for (i = 0; i < k; i++) {
		if (i > 0)
			n += (size_t)snprintf(p + n, sz - n, ", ");
		n += ta_stmt(p + n, sz - n, s, key);
	}
	snprintf(p + n, sz - n, "]}");
}

/* A world's bundle text. */
static char *
ta_bundle(uint64_t seed)
{
	static char	 doc[4096];
	char		*b;
	size_t		 n = 0, sz = 1 << 16, i;
	uint64_t	 s = seed;

	b = malloc(sz);
	assert_non_null(b);
	n += (size_t)snprintf(b + n, sz - n, "{\"FormatVersion\": 1, "
	    "\"Instances\": [{\"InstanceId\": \"kst-ta00000000000000001\", "
	    "\"State\": \"Enabled\", \"ShareQuota\": 10}], \"Keys\": [");
	for (i = 0; i < 4; i++) {
		ta_doc(doc, sizeof(doc), &s, 1);
		n += (size_t)snprintf(b + n, sz - n, "%s{\"KeyId\": \"k%zu\", "
		    "\"Region\": \"cn-hangzhou\", \"Creator\": \"%s\", "
		    "\"DKMSInstanceId\": \"kst-ta00000000000000001\", "
		    "\"KeyState\": \"Enabled\", \"Tags\": {%s}, "
		    "\"KeyPolicy\": %s}", i ? ", " : "", i,
		    ta_accounts[i % 2], ta_rand(&s, 2) ? "\"Env\": \"prod\"" :
		    "\"Env\": \"dev\"", doc);
	}
	n += (size_t)snprintf(b + n, sz - n, "], \"Aliases\": [], "
	    "\"Policies\": [");
	for (i = 0; i < 6; i++) {
		ta_doc(doc, sizeof(doc), &s, 0);
		n += (size_t)snprintf(b + n, sz - n, "%s{\"PolicyName\": "
		    "\"p%zu\", \"Account\": \"%s\", \"PolicyDocument\": %s}",
		    i ? ", " : "", i % 3, ta_accounts[i / 3], doc);
	}
	n += (size_t)snprintf(b + n, sz - n, "], \"Users\": ["
	    "{\"Account\": \"111111111111\", \"UserName\": \"u0\", "
	    "\"Policies\": [\"p%u\"], \"Groups\": [\"g0\"]}, "
	    "{\"Account\": \"222222222222\", \"UserName\": \"u1\", "
	    "\"Policies\": [\"p%u\"], \"Groups\": []}], "
	    "\"Roles\": [{\"Account\": \"111111111111\", \"RoleName\": "
	    "\"r0\", \"Policies\": [\"p%u\", \"p%u\"]}], "
	    "\"Groups\": [{\"Account\": \"111111111111\", \"GroupName\": "
	    "\"g0\", \"Policies\": [\"p%u\"]}]}", ta_rand(&s, 3),
	    ta_rand(&s, 3), ta_rand(&s, 3), ta_rand(&s, 3), ta_rand(&s, 3));
	return (b);
}

static struct world *
ta_world(uint64_t seed)
{
	struct policy_diags	 d;
	struct bundle		*b = NULL;
	struct world		*w = NULL;
	char			*text = ta_bundle(seed);
	size_t			 i;

	policy_diags_init(&d);
	if (bundle_parse(text, strlen(text), 0, &b, &d) == 0)
		w = bundle_to_world(b, 1, &d);
	for (i = 0; i < d.n; i++)
		print_error("%s: %s\n", d.v[i].path, d.v[i].reason);
	policy_diags_free(&d);
	bundle_free(b);
	free(text);
	assert_non_null(w);
	return (w);
}

/* Brute force: allowed in how many of the n samples. */
static size_t
ta_brute(const struct world *w, const char *p, const char *action,
    const char *res, size_t *np)
{
	struct eval_request	er;
	struct eval_answer	a;
	struct eval_ctx		ctx[2];
	size_t			i, t, b, u, allowed = 0, n = 0;

	for (i = 0; i < TA_N(ta_ips); i++)
	for (t = 0; t < TA_N(ta_times); t++)
	for (b = 0; b < TA_N(ta_bools); b++)
	for (u = 0; u < TA_N(ta_agents); u++) {
		memset(&er, 0, sizeof(er));
		er.principal = p;
		er.principal_len = strlen(p);
		er.action = action;
		er.action_len = strlen(action);
		er.resource = res;
		er.resource_len = strlen(res);
		if (ta_ips[i] != NULL) {
			assert_int_equal(value_ip_parse(ta_ips[i],
			    strlen(ta_ips[i]), 0, &er.source_ip), 0);
			er.has_source_ip = 1;
		}
		assert_int_equal(value_time_parse(ta_times[t],
		    strlen(ta_times[t]), &er.now), 0);
		er.ctx = ctx;
		if (ta_bools[b] != NULL) {
			ctx[er.nctx].key = "acs:SecureTransport";
			ctx[er.nctx].keylen = 19;
			ctx[er.nctx].value = ta_bools[b];
			ctx[er.nctx++].valuelen = strlen(ta_bools[b]);
		}
		if (ta_agents[u] != NULL) {
			ctx[er.nctx].key = "acs:UserAgent";
			ctx[er.nctx].keylen = 13;
			ctx[er.nctx].value = ta_agents[u];
			ctx[er.nctx++].valuelen = strlen(ta_agents[u]);
		}
		(void)eval_decide(w, &er, &a);
		allowed += a.decision == EVAL_ALLOW;
		n++;
	}
	*np = n;
	return (allowed);
}

static void
test_differential(void **state)
{
	struct analyze_space	*sp;
	struct analyze_result	 r;
	struct world		*w;
	char			**prin, res[128];
	size_t			 nprin, i, k, a, nact, n, yes;
	size_t			 counts[3] = { 0, 0, 0 };
	uint64_t		 seed;

	(void)state;
	nact = analyze_action_count();
	assert_true(nact > 90);
	for (seed = 1; seed <= TA_WORLDS; seed++) {
		w = ta_world(seed);
		assert_int_equal(analyze_principals(w, &prin, &nprin), 0);
		/* u0, u1, r0, the roots of 111... and 222...; 333...'s
		 * when a key policy names it. */
		assert_true(nprin == 5 || nprin == 6);
		for (i = 0; i < TA_N(ta_prin); i++)
			assert_true(i == 2 || ta_listed(prin, nprin,
			    ta_prin[i]));
		analyze_principals_free(prin, nprin);
		for (i = 0; i < TA_N(ta_prin); i++)
		for (k = 0; k < 4; k++) {
			snprintf(res, sizeof(res), "acs:kms:cn-hangzhou:%s:"
			    "key/k%zu", ta_accounts[k % 2], k);
			sp = analyze_space_new(w, ta_prin[i], res);
			assert_non_null(sp);
			assert_true(analyze_space_exact(sp));
			for (a = 0; a < nact; a++) {
				assert_int_equal(analyze_decide(w, sp,
				    analyze_action(a), 0, &r), 0);
				assert_true(r.exact);
				yes = ta_brute(w, ta_prin[i], analyze_action(a),
				    res, &n);
				counts[r.verdict]++;
				if (r.verdict == ANALYZE_NEVER && yes != 0)
					fail_msg("seed %llu: %s %s %s allowed "
					    "in %zu samples, not listed",
					    (unsigned long long)seed, ta_prin[i],
					    analyze_action(a), res, yes);
				if (r.verdict == ANALYZE_ALWAYS && yes != n)
					fail_msg("seed %llu: %s %s %s listed "
					    "unconditional, denied in %zu",
					    (unsigned long long)seed, ta_prin[i],
					    analyze_action(a), res, n - yes);
				if (r.verdict == ANALYZE_CONDITIONAL &&
				    (yes == 0 || yes == n))
					fail_msg("seed %llu: %s %s %s "
					    "conditional, samples %zu/%zu",
					    (unsigned long long)seed, ta_prin[i],
					    analyze_action(a), res, yes, n);
			}
			analyze_space_free(sp);
		}
		world_unref(w);
	}
	/* The worlds exercise all three verdicts. */
	print_message("# never %zu, conditional %zu, always %zu\n",
	    counts[0], counts[1], counts[2]);
	assert_true(counts[ANALYZE_CONDITIONAL] > 0);
	assert_true(counts[ANALYZE_ALWAYS] > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_differential),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

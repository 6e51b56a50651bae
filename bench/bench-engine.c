/* SPDX-License-Identifier: ISC */
/*
 * bench-engine.c: decisions per second and per-decision latency of
 * eval_decide on a seeded world (make bench-engine; docs/benchmarks.md).
 *
 * World: 10 accounts, 10,000 keys in instances, each with a key policy
 * (the account's own principals; one key in four also grants a user of
 * another account, some with conditions), 1,000 aliases, 2,000 identity
 * policies (five templates: key wildcards, IP and Bool and Date
 * conditions, a Deny), 1,000 principals (800 users in 100 groups, 200
 * roles) with 1 to 5 attached policies each.  1,000,000 requests drawn
 * with a fixed seed (own-account keys, foreign keys, aliases, unknown
 * keys, ten actions, source addresses, a context entry), prepared before
 * timing.  Single thread, pinned to one CPU.
 *
 *   bench-engine [-n REQUESTS] [-s SEED] [-c CPU] [-d DISTINCT]
 * (-d: only DISTINCT different requests, repeated: a hot-cache run)
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/analyze.h"
#include "engine/cpolicy.h"
#include "engine/eval.h"
#include "engine/world.h"
#include "policy/policy-compile.h"
#include "policy/policy.h"

#define NACCT		10
#define NKEYS		10000
#define NALIASES	1000
#define NPOLICIES	2000
#define NUSERS		800
#define NROLES		200
#define NGROUPS		100

static uint64_t	rng_state;

static uint64_t
rng(void)
{
	/* splitmix64 */
	uint64_t	z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static unsigned
rnd(unsigned n)
{
	return ((unsigned)(rng() % n));
}

static char bacct[NACCT][20];

static struct cpolicy *
compile(enum policy_kind kind, const char *text)
{
	struct policy_diags	 d;
	struct cpolicy		*cp;

	policy_diags_init(&d);
	if (policy_compile_text(kind, text, strlen(text), 1 << 20, "", &cp,
	    &d) == -1) {
		fprintf(stderr, "bench-engine: %s: %s\n%s\n",
		    d.n ? d.v[0].path : "", d.n ? d.v[0].reason : "", text);
		exit(1);
	}
	policy_diags_free(&d);
	return (cp);
}

static struct world *
build(void)
{
	struct world_txn	*t;
	struct world		*w;
	struct cpolicy		*cp;
	struct world_tag	 tags[2];
	char			 buf[2048], id[64], name[64], inst[32];
	char			 pols[5][32], grp[1][32];
	const char		*pv[5], *gv[1];
	unsigned		 i, j, a, o, n;

	t = world_txn_begin(NULL);
	for (a = 0; a < NACCT; a++) {
		snprintf(bacct[a], sizeof(bacct[a]), "11928530351%05u", a);
		snprintf(inst, sizeof(inst), "kst-%u", a);
		world_txn_put_instance(t, inst, WORLD_INSTANCE_ENABLED, 100,
		    NULL);
	}
	for (i = 0; i < NKEYS; i++) {
		a = i % NACCT;
		o = (a + 1 + rnd(NACCT - 1)) % NACCT;
		snprintf(id, sizeof(id), "key-%08u", i);
		snprintf(inst, sizeof(inst), "kst-%u", a);
		n = (unsigned)snprintf(buf, sizeof(buf),
		    "{\"Version\":\"1\",\"Statement\":["
		    "{\"Sid\":\"owner\",\"Effect\":\"Allow\",\"Principal\":"
		    "{\"RAM\":[\"acs:ram::%s:*\"]},\"Action\":[\"kms:*\"],"
		    "\"Resource\":[\"*\"]}", bacct[a]);
		if (i % 4 == 0)
			n += (unsigned)snprintf(buf + n, sizeof(buf) - n,
			    ",{\"Sid\":\"partner\",\"Effect\":\"Allow\","
			    "\"Principal\":{\"RAM\":[\"acs:ram::%s:user/u%u\","
			    "\"acs:ram::%s:role/r%u\"]},\"Action\":"
			    "[\"kms:Decrypt\",\"kms:Encrypt\",\"kms:Generate*\"],"
			    "\"Resource\":[\"*\"]%s}", bacct[o], rnd(NUSERS),
			    bacct[o], rnd(NROLES), i % 8 == 0 ?
			    ",\"Condition\":{\"IpAddress\":{\"acs:SourceIp\":"
			    "[\"10.0.0.0/8\",\"192.168.0.0/16\"]}}" : "");
		if (i % 3 == 0)
			n += (unsigned)snprintf(buf + n, sizeof(buf) - n,
			    ",{\"Sid\":\"no-delete\",\"Effect\":\"Deny\","
			    "\"Principal\":{\"RAM\":[\"*\"]},\"Action\":"
			    "[\"kms:ScheduleKeyDeletion\",\"kms:DisableKey\"],"
			    "\"Resource\":[\"*\"],\"Condition\":{\"Bool\":"
			    "{\"acs:MFAPresent\":[\"false\"]}}}");
		snprintf(buf + n, sizeof(buf) - n, "]}");
		cp = compile(POLICY_KIND_KEY, buf);
		tags[0].key = "Project";
		tags[0].value = i % 2 ? "Apollo" : "Hermes";
		tags[1].key = "Env";
		tags[1].value = "prod";
		if (world_txn_put_key(t, id, "cn-hangzhou", bacct[a], inst,
		    WORLD_KEY_ENABLED, tags, 2, cp) == -1)
			exit(1);
		cpolicy_unref(cp);
	}
	for (i = 0; i < NALIASES; i++) {
		snprintf(name, sizeof(name), "alias/a%u", i);
		snprintf(id, sizeof(id), "key-%08u", i * 7 % NKEYS);
		world_txn_put_alias(t, name, id);
	}
	for (i = 0; i < NPOLICIES; i++) {
		a = i % NACCT;
		snprintf(name, sizeof(name), "p%u", i / NACCT);
		switch (i % 5) {
		case 0:
			snprintf(buf, sizeof(buf), "{\"Version\":\"1\","
			    "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
			    "[\"kms:Encrypt\",\"kms:Decrypt\","
			    "\"kms:GenerateDataKey\"],\"Resource\":"
			    "[\"acs:kms:*:%s:key/*\"]}]}", bacct[a]);
			break;
		case 1:
			snprintf(buf, sizeof(buf), "{\"Version\":\"1\","
			    "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
			    "\"kms:*\",\"Resource\":[\"acs:kms:cn-hangzhou:%s:"
			    "key/key-%08u\",\"acs:kms:cn-hangzhou:%s:alias/*\"],"
			    "\"Condition\":{\"IpAddress\":{\"acs:SourceIp\":"
			    "\"10.0.0.0/8\"}}}]}", bacct[a], rnd(NKEYS), bacct[a]);
			break;
		case 2:
			snprintf(buf, sizeof(buf), "{\"Version\":\"1\","
			    "\"Statement\":[{\"Sid\":\"nodel\",\"Effect\":"
			    "\"Deny\",\"Action\":\"kms:ScheduleKeyDeletion\","
			    "\"Resource\":\"*\"},{\"Effect\":\"Allow\","
			    "\"Action\":[\"kms:Describe*\",\"kms:List*\"],"
			    "\"Resource\":\"*\"}]}");
			break;
		case 3:
			snprintf(buf, sizeof(buf), "{\"Version\":\"1\","
			    "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
			    "[\"kms:Get*\",\"kms:Decrypt\"],\"Resource\":\"*\","
			    "\"Condition\":{\"Bool\":{\"acs:SecureTransport\":"
			    "true},\"StringEquals\":{\"kms:tag/Project\":"
			    "\"Apollo\"}}}]}");
			break;
		default:
			snprintf(buf, sizeof(buf), "{\"Version\":\"1\","
			    "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
			    "\"kms:Sign\",\"Resource\":\"acs:kms:cn-hangzhou:"
			    "%s:key/key-0000*\",\"Condition\":{\"DateLessThan\":"
			    "{\"acs:CurrentTime\":\"2030-01-01T00:00:00Z\"}}}]}",
			    bacct[a]);
			break;
		}
		cp = compile(POLICY_KIND_RAM, buf);
		if (world_txn_put_policy(t, bacct[a], name, cp) == -1)
			exit(1);
		cpolicy_unref(cp);
	}
	for (i = 0; i < NGROUPS; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		snprintf(pols[0], sizeof(pols[0]), "p%u", rnd(NPOLICIES /
		    NACCT));
		pv[0] = pols[0];
		world_txn_put_group(t, bacct[i % NACCT], name, pv, 1);
	}
	for (i = 0; i < NUSERS + NROLES; i++) {
		a = i % NACCT;
		n = 1 + rnd(5);
		for (j = 0; j < n; j++) {
			snprintf(pols[j], sizeof(pols[j]), "p%u",
			    rnd(NPOLICIES / NACCT));
			pv[j] = pols[j];
		}
		if (i < NUSERS) {
			snprintf(name, sizeof(name), "u%u", i);
			/* groups of the same account: g(a + 10k) */
			snprintf(grp[0], sizeof(grp[0]), "g%u",
			    a + NACCT * rnd(NGROUPS / NACCT));
			gv[0] = grp[0];
			world_txn_put_user(t, bacct[a], name, gv, 1, pv, n);
		} else {
			snprintf(name, sizeof(name), "r%u", i - NUSERS);
			world_txn_put_role(t, bacct[a], name, pv, n);
		}
	}
	w = world_txn_commit(t, 1);
	if (w == NULL)
		exit(1);
	return (w);
}

struct breq {
	char		principal[64];
	char		resource[96];
	const char	*action;
	int		has_ip;
	struct value_ip	ip;
};

static const char *actions[] = {
	"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:Sign",
	"kms:DescribeKey", "kms:GetPublicKey", "kms:ListKeys",
	"kms:ScheduleKeyDeletion", "kms:encrypt", "kms:TagResource"
};

static void
mkreq(struct breq *r, unsigned i)
{
	unsigned	p = rnd(NUSERS + NROLES), a = p % NACCT, k, kind;

	if (p < NUSERS)
		snprintf(r->principal, sizeof(r->principal),
		    "acs:ram::%s:user/u%u", bacct[a], p);
	else
		snprintf(r->principal, sizeof(r->principal),
		    "acs:ram::%s:role/r%u", bacct[a], p - NUSERS);
	if (i % 97 == 0)
		snprintf(r->principal, sizeof(r->principal),
		    "acs:ram::%s:root", bacct[a]);
	kind = rnd(100);
	if (kind < 75) {		/* a key of its own account */
		k = rnd(NKEYS / NACCT) * NACCT + a;
		snprintf(r->resource, sizeof(r->resource),
		    "acs:kms:cn-hangzhou:%s:key/key-%08u", bacct[a], k);
	} else if (kind < 90) {		/* any key */
		k = rnd(NKEYS);
		snprintf(r->resource, sizeof(r->resource),
		    "acs:kms:cn-hangzhou:%s:key/key-%08u", bacct[k % NACCT], k);
	} else if (kind < 97) {		/* an alias */
		k = rnd(NALIASES);
		snprintf(r->resource, sizeof(r->resource),
		    "acs:kms:cn-hangzhou:%s:alias/a%u",
		    bacct[(k * 7 % NKEYS) % NACCT], k);
	} else				/* an unknown key */
		snprintf(r->resource, sizeof(r->resource),
		    "acs:kms:cn-hangzhou:%s:key/key-x%u", bacct[a], k = rnd(9));
	r->action = actions[rnd(10)];
	r->has_ip = rnd(4) != 0;
	if (r->has_ip) {
		r->ip.family = 4;
		r->ip.prefix = 32;
		memset(r->ip.addr, 0, sizeof(r->ip.addr));
		r->ip.addr[0] = rnd(2) ? 10 : 8;
		r->ip.addr[1] = (uint8_t)rnd(256);
		r->ip.addr[2] = (uint8_t)rnd(256);
		r->ip.addr[3] = (uint8_t)rnd(256);
	}
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static uint64_t
cpu_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static uint64_t
fold(uint64_t h, uint64_t v)
{
	return ((h ^ v) * 0x100000001b3ULL);
}

static int
u32cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

static void
bench_count(const char *p, size_t a, const struct analyze_result *r,
    void *arg)
{
	(void)p;
	(void)a;
	(void)r;
	(*(size_t *)arg)++;
}

/*
 * The analysis (docs/analysis.md) on this world: who-can for one key
 * and one action, for one key and every catalog action, and the impact
 * of one key-policy change (who-can before and after, every action).
 */
static void
bench_analysis(struct world *w)
{
	const char		*acts[160], *one = "kms:Decrypt";
	struct world_txn	*t;
	struct world_key	 k;
	struct world		*w2;
	struct cpolicy		*cp;
	char			 arn[128], buf[512];
	size_t			 n, na, i;
	uint64_t		 t0;

	na = analyze_action_count();
	for (i = 0; i < na && i < 160; i++)
		acts[i] = analyze_action(i);
	snprintf(arn, sizeof(arn), "acs:kms:cn-hangzhou:%s:key/key-00000000",
	    bacct[0]);
	n = 0;
	t0 = now_ns();
	if (analyze_who_can(w, arn, &one, 1, bench_count, &n) == -1)
		exit(1);
	printf("analysis: who-can, one key and one action: %.1f ms "
	    "(%zu principals)\n", (double)(now_ns() - t0) / 1e6, n);
	n = 0;
	t0 = now_ns();
	if (analyze_who_can(w, arn, acts, na, bench_count, &n) == -1)
		exit(1);
	printf("analysis: who-can, one key and every action (%zu): %.1f ms "
	    "(%zu grants)\n", na, (double)(now_ns() - t0) / 1e6, n);
	/* The owner's account loses all but Decrypt; a partner gains. */
	snprintf(buf, sizeof(buf), "{\"Version\":\"1\",\"Statement\":["
	    "{\"Effect\":\"Allow\",\"Principal\":{\"RAM\":"
	    "[\"acs:ram::%s:*\"]},\"Action\":[\"kms:Decrypt\"],"
	    "\"Resource\":[\"*\"]},{\"Effect\":\"Allow\",\"Principal\":"
	    "{\"RAM\":[\"acs:ram::%s:*\"]},\"Action\":[\"kms:Encrypt\"],"
	    "\"Resource\":[\"*\"]}]}", bacct[0], bacct[1]);
	t0 = now_ns();
	cp = compile(POLICY_KIND_KEY, buf);
	if (world_get_key(w, "key-00000000", 12, &k) == -1 ||
	    (t = world_txn_begin(w)) == NULL ||
	    world_txn_put_key(t, k.id, k.region, k.creator, k.instance,
	    k.state, k.tags, k.ntags, cp) == -1 ||
	    (w2 = world_txn_commit(t, 2)) == NULL)
		exit(1);
	cpolicy_unref(cp);
	n = 0;
	if (analyze_who_can(w, arn, acts, na, bench_count, &n) == -1 ||
	    analyze_who_can(w2, arn, acts, na, bench_count, &n) == -1)
		exit(1);
	printf("analysis: impact of one key-policy change: %.1f ms\n",
	    (double)(now_ns() - t0) / 1e6);
	world_unref(w2);
}

int
main(int argc, char **argv)
{
	struct world		*w;
	struct breq		*reqs;
	struct eval_why		*why;
	struct eval_request	 er;
	struct eval_answer	 ans;
	struct eval_ctx		 ctx = { "acs:SecureTransport", 19, "true", 4 };
	struct world_counts	 c;
	cpu_set_t		 set;
	uint32_t		*lat;
	uint64_t		 t0, t1, t2, c0, c1, overhead;
	uint64_t		 dec[3] = { 0, 0, 0 }, digest;
	unsigned		 n = 1000000, seed = 42, i, cpu = 0;
	size_t			 j, k;
	unsigned		 distinct = 0;
	int			 ch;
	double			 secs, wsecs;

	while ((ch = getopt(argc, argv, "n:s:c:d:")) != -1) {
		switch (ch) {
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			seed = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			distinct = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			cpu = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench-engine [-n N] [-s SEED] "
			    "[-c CPU] [-d DISTINCT]\n");
			return (2);
		}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1)
		perror("bench-engine: sched_setaffinity (continuing)");
	rng_state = seed;
	t0 = now_ns();
	w = build();
	t1 = now_ns();
	world_counts(w, &c);
	printf("world: %zu keys, %zu aliases, %zu policies, %zu users, "
	    "%zu roles, %zu groups; built in %.1f ms\n", c.keys, c.aliases,
	    c.policies, c.users, c.roles, c.groups, (double)(t1 - t0) / 1e6);
	if ((reqs = calloc(n, sizeof(*reqs))) == NULL ||
	    (why = malloc(sizeof(*why))) == NULL ||
	    (lat = calloc(n, sizeof(*lat))) == NULL)
		return (1);
	for (i = 0; i < n; i++) {
		if (distinct > 0 && i >= distinct)
			reqs[i] = reqs[i % distinct];
		else
			mkreq(&reqs[i], i);
	}

	memset(&er, 0, sizeof(er));
	er.ctx = &ctx;
	er.nctx = 1;
	value_time_parse("2026-01-01T00:00:00Z", 20, &er.now);
#define SETREQ(r) do {							\
	er.principal = (r)->principal;					\
	er.principal_len = strlen((r)->principal);			\
	er.action = (r)->action;					\
	er.action_len = strlen((r)->action);				\
	er.resource = (r)->resource;					\
	er.resource_len = strlen((r)->resource);			\
	er.has_source_ip = (r)->has_ip;					\
	er.source_ip = (r)->ip;						\
} while (0)

	/* Warm up, then throughput: back-to-back decisions. */
	for (i = 0; i < n && i < 100000; i++) {
		SETREQ(&reqs[i]);
		eval_decide(w, &er, &ans);
	}
	/* A digest of every (decision, reason, matched statements), so
	 * that a change to the engine can be checked to decide alike. */
	digest = 0xcbf29ce484222325ULL;
	for (i = 0; i < n; i++) {
		SETREQ(&reqs[i]);
		er.explain = 1;
		eval_decide(w, &er, &ans);
		er.explain = 0;
		digest = fold(digest, ans.decision);
		digest = fold(digest, ans.reason);
		digest = fold(digest, ans.nmatched);
		for (j = 0; j < ans.nmatched; j++) {
			digest = fold(digest, ans.matched[j].source);
			digest = fold(digest, ans.matched[j].index);
			digest = fold(digest, ans.matched[j].namelen);
			digest = fold(digest, ans.matched[j].sidlen);
			for (k = 0; k < ans.matched[j].namelen; k++)
				digest = fold(digest, (unsigned char)
				    ans.matched[j].name[k]);
		}
	}
	c0 = cpu_ns();
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		SETREQ(&reqs[i]);
		eval_decide(w, &er, &ans);
		dec[ans.decision]++;
	}
	t1 = now_ns();
	c1 = cpu_ns();
	secs = (double)(c1 - c0) / 1e9;
	wsecs = (double)(t1 - t0) / 1e9;

	/* Latency: each decision timed alone, less the timer's cost. */
	t2 = now_ns();
	for (i = 0; i < 1000; i++)
		(void)now_ns();
	overhead = (now_ns() - t2) / 1001;
	for (i = 0; i < n; i++) {
		SETREQ(&reqs[i]);
		t2 = now_ns();
		eval_decide(w, &er, &ans);
		t0 = now_ns() - t2;
		lat[i] = (uint32_t)(t0 > overhead ? t0 - overhead : 0);
	}
	qsort(lat, n, sizeof(*lat), u32cmp);
	printf("requests: %u (ALLOW %llu, EXPLICIT_DENY %llu, IMPLICIT_DENY "
	    "%llu)\n", n, (unsigned long long)dec[EVAL_ALLOW],
	    (unsigned long long)dec[EVAL_EXPLICIT_DENY],
	    (unsigned long long)dec[EVAL_IMPLICIT_DENY]);
	printf("decision digest: %016llx\n", (unsigned long long)digest);
	printf("throughput: %.0f decisions/s of CPU time (%.1f ns per "
	    "decision, one core); %.0f decisions/s of wall-clock time\n",
	    n / secs, secs * 1e9 / n, n / wsecs);
	printf("latency (each decision timed, timer cost %llu ns "
	    "subtracted): median %u ns, p90 %u ns, p99 %u ns, p99.9 %u ns, "
	    "max %u ns\n", (unsigned long long)overhead, lat[n / 2],
	    lat[n * 9 / 10], lat[n / 100 * 99], lat[n / 1000 * 999],
	    lat[n - 1]);
	/* Explained decisions (eval_decide_why): both halves, then with
	 * the near misses; the extra cost per decision over the plain one
	 * (docs/benchmarks.md). */
	for (j = 0; j < 2; j++) {
		c0 = cpu_ns();
		for (i = 0; i < n; i++) {
			SETREQ(&reqs[i]);
			er.explain = 1;
			eval_decide_why(w, &er, &ans, why, (int)j);
		}
		c1 = cpu_ns();
		er.explain = 0;
		printf("explained%s: %.1f ns per decision (%+.1f ns over a "
		    "plain decision)\n", j ? " (full, near misses)" : "",
		    (double)(c1 - c0) / n, (double)(c1 - c0) / n -
		    secs * 1e9 / n);
	}
	free(why);
	bench_analysis(w);
	free(reqs);
	free(lat);
	world_unref(w);
	return (0);
}

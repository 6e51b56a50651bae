/* SPDX-License-Identifier: ISC */
/*
 * bench-store: the store's figures for docs/benchmarks.md.
 *
 *   bench-store [KEYS [RAMPOLICIES [DIR]]]   (default 100000 10000)
 *
 * With DIR, the stores are kept, and a later run with the same DIR
 * reuses them (no build) when BENCH_STORE_REUSE is set in the
 * environment: repeated open measurements and profiles of the open.
 * BENCH_STORE_OPEN_ONLY skips the publication figures.
 *
 * 1. builds a store of KEYS keys, each with its own key policy (no two
 *    texts alike, so nothing is shared: the worst case for memory and
 *    compile time) and RAMPOLICIES RAM policies attached to users;
 * 2. opens and loads it (open + read every record + compile every
 *    policy + build the world), three times, and reports each;
 * 3. measures the heap held by the loaded world, per key policy;
 * 4. publishes single key-policy changes on that store and on a store of
 *    1,000 keys: total time per change, the part inside LMDB's commit
 *    (its write and fsync), and the rest (compile, records, world);
 * 5. on both stores, key policies that each name a foreign account no
 *    key names yet (each grows the instance's share count, so the quota
 *    is counted: the world's per-instance index), first under a quota
 *    high enough (raised to SHARE_QUOTA_HIGH), then refused with the
 *    quota set to the current count (the refusal time).  The accounts
 *    are new on every run (taken from the clock), so a reused store
 *    keeps growing its count (by at most 300 accounts per run).
 *
 * Every figure is also given in the CPU time of the calling thread (the
 * commit's own CPU time included), for a loaded machine.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/world.h"
#include "store/store.h"
#include "policy/bundle.h"
#include "store/store-int.h"

#define KPOL	"{\"Version\":\"1\",\"Statement\":[{\"Sid\":\"key%d\"," \
		"\"Effect\":\"Allow\",\"Principal\":{\"RAM\":" \
		"[\"acs:ram::1192853035118888:*\"]},\"Action\":[\"kms:*\"]," \
		"\"Resource\":[\"*\"]},{\"Sid\":\"ip\",\"Effect\":\"Deny\"," \
		"\"Principal\":{\"RAM\":[\"*\"]},\"Action\":[\"kms:Decrypt\"]," \
		"\"Resource\":[\"*\"],\"Condition\":{\"NotIpAddress\":" \
		"{\"acs:SourceIp\":[\"10.%d.%d.0/24\"]}}}]}"
/* The same with foreign principals (%s) beside the owner's. */
#define KPOLF	"{\"Version\":\"1\",\"Statement\":[{\"Sid\":\"key%d\"," \
		"\"Effect\":\"Allow\",\"Principal\":{\"RAM\":" \
		"[\"acs:ram::1192853035118888:*\",%s]}," \
		"\"Action\":[\"kms:*\"],\"Resource\":[\"*\"]},{\"Sid\":\"ip\"," \
		"\"Effect\":\"Deny\",\"Principal\":{\"RAM\":[\"*\"]}," \
		"\"Action\":[\"kms:Decrypt\"],\"Resource\":[\"*\"]," \
		"\"Condition\":{\"NotIpAddress\":" \
		"{\"acs:SourceIp\":[\"10.%d.%d.0/24\"]}}}]}"
#define SHARE_QUOTA_HIGH	1000000u
#define RPOL	"{\"Version\":\"1\",\"Statement\":[{\"Sid\":\"p%d\"," \
		"\"Effect\":\"Allow\",\"Action\":[\"kms:Encrypt\"," \
		"\"kms:Decrypt\"],\"Resource\":[\"acs:kms:cn-hangzhou:" \
		"1192853035118888:key/key-%06d\"]}]}"

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* CPU time of the process, every thread, user + system. */
static double
cpu(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* CPU time of the calling thread. */
static double
tcpu(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static char *
xs(const char *s)
{
	char	*p = strdup(s);

	if (p == NULL)
		abort();
	return (p);
}

static struct bundle *
mkbundle(int nkeys, int npol)
{
	struct bundle	*b = calloc(1, sizeof(*b));
	char		 buf[1024];
	int		 i;

	b->ninstances = 1;
	b->instances = calloc(1, sizeof(*b->instances));
	b->instances[0].id = xs("kst-bench");
	b->instances[0].share_quota = 1000;
	b->nkeys = nkeys;
	b->keys = calloc(nkeys, sizeof(*b->keys));
	for (i = 0; i < nkeys; i++) {
		snprintf(buf, sizeof(buf), "key-%06d", i);
		b->keys[i].id = xs(buf);
		b->keys[i].region = xs("cn-hangzhou");
		b->keys[i].creator = xs("1192853035118888");
		b->keys[i].instance = xs("kst-bench");
		snprintf(buf, sizeof(buf), KPOL, i, (i >> 8) & 255, i & 255);
		b->keys[i].policy = xs(buf);
		b->keys[i].policy_len = strlen(buf);
		b->keys[i].tags = calloc(1, sizeof(struct bundle_tag));
	}
	b->npolicies = npol;
	b->policies = calloc(npol, sizeof(*b->policies));
	b->nusers = npol;
	b->users = calloc(npol, sizeof(*b->users));
	for (i = 0; i < npol; i++) {
		b->policies[i].account = xs("1192853035118888");
		snprintf(buf, sizeof(buf), "policy-%06d", i);
		b->policies[i].name = xs(buf);
		b->users[i].account = xs("1192853035118888");
		b->users[i].policies = calloc(2, sizeof(char *));
		b->users[i].policies[0] = xs(buf);
		b->users[i].npolicies = 1;
		b->users[i].groups = calloc(1, sizeof(char *));
		snprintf(buf, sizeof(buf), "user-%06d", i);
		b->users[i].name = xs(buf);
		snprintf(buf, sizeof(buf), RPOL, i, i % (nkeys ? nkeys : 1));
		b->policies[i].text = xs(buf);
		b->policies[i].len = strlen(buf);
	}
	return (b);
}

static struct store *
xopen(const char *dir)
{
	struct store_opts	 o;
	struct store		*st;
	char			*cause;

	memset(&o, 0, sizeof(o));
	o.create = 1;
	o.map_size = 1024u * 1024 * 1024;
	if (store_open(dir, &o, &st, &cause) != 0) {
		fprintf(stderr, "bench-store: %s\n", cause);
		exit(1);
	}
	return (st);
}

static void
build(const char *dir, int nkeys, int npol)
{
	struct store	*st = xopen(dir);
	struct bundle	*b = mkbundle(nkeys, npol);
	double		 t0 = now();

	if (store_replace_all(st, b, NULL) != 0) {
		fprintf(stderr, "bench-store: %s\n", store_errmsg(st));
		exit(1);
	}
	printf("build: %d keys, %d RAM policies in one transaction: "
	    "%.2f s\n", nkeys, npol, now() - t0);
	bundle_free(b);
	store_close(st);
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

enum pub {
	PUB_OWN,	/* the owner's account only: no count */
	PUB_FOREIGN,	/* each a new foreign account, under the quota */
	PUB_REFUSED	/* each a new foreign account, over the quota */
};

/* The instance's current share count. */
static size_t
share_count(struct store *st)
{
	struct world	*w = world_holder_acquire(store_holder(st));
	size_t		 n;

	if (world_instance_share_count(w, "kst-bench", NULL, NULL, NULL,
	    &n) != 0)
		abort();
	world_unref(w);
	return (n);
}

static void
quota_set(struct store *st, uint32_t quota)
{
	if (store_instance_quota_set(st, "kst-bench", quota, NULL) != 0) {
		fprintf(stderr, "bench-store: %s\n", store_errmsg(st));
		exit(1);
	}
}

/* n single key-policy changes; reports per-change figures (us). */
static void
publish(struct store *st, const char *label, int nkeys, int n, enum pub how)
{
	static const char *const what[] = {
		"publish one key policy",
		"publish one key policy naming a new foreign account",
		"refuse one key policy naming a new foreign account (over "
		    "the share quota)"
	};
	double		*tot = calloc(n, sizeof(double));
	double		*rest = calloc(n, sizeof(double));
	double		*ct = calloc(n, sizeof(double));
	double		 t0, c0, commit = 0;
	unsigned long long base;
	char		 id[32], text[1024], fa[128];
	size_t		 before = 0, after;
	int		 i, rc;

	/* Foreign accounts no key names yet: new on every run. */
	base = 2000000000000000ULL + ((unsigned long long)time(NULL) %
	    100000) * 10000 + (how == PUB_REFUSED ? 5000 : 0);
	if (how == PUB_FOREIGN)
		quota_set(st, SHARE_QUOTA_HIGH);
	if (how != PUB_OWN)
		before = share_count(st);
	if (how == PUB_REFUSED)
		quota_set(st, (uint32_t)before);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "key-%06d", (i * 7919 +
		    (how == PUB_OWN ? 0 : 13)) % nkeys);
		/* Refused: two new accounts, so that the count grows even
		 * when the key's old policy named the only key's account. */
		if (how == PUB_REFUSED)
			snprintf(fa, sizeof(fa), "\"acs:ram::%016llu:*\","
			    "\"acs:ram::%016llu:*\"", base + 2 * (unsigned)i,
			    base + 2 * (unsigned)i + 1);
		else
			snprintf(fa, sizeof(fa), "\"acs:ram::%016llu:*\"",
			    base + (unsigned)i);
		if (how == PUB_OWN)
			snprintf(text, sizeof(text), KPOL, 1000000 + i,
			    i & 255, 7);
		else
			snprintf(text, sizeof(text), KPOLF, 2000000 + i, fa,
			    i & 255, 9);
		st->commit_ns = 0;
		c0 = tcpu();
		t0 = now();
		rc = store_key_policy_set(st, id, text, strlen(text), NULL,
		    NULL);
		tot[i] = (now() - t0) * 1e6;
		ct[i] = (tcpu() - c0) * 1e6;
		if (how == PUB_REFUSED ? rc != STORE_EQUOTA : rc != 0) {
			fprintf(stderr, "bench-store: %s: %s\n", id,
			    rc == 0 ? "not refused" : store_errmsg(st));
			exit(1);
		}
		/* A refused change never reaches the commit. */
		rest[i] = tot[i] - st->commit_ns / 1e3;
		commit += st->commit_ns / 1e3;
	}
	qsort(tot, n, sizeof(double), cmp_double);
	qsort(rest, n, sizeof(double), cmp_double);
	qsort(ct, n, sizeof(double), cmp_double);
	if (how == PUB_REFUSED)
		printf("%s (%s, %d changes, %zu foreign accounts, quota %zu): "
		    "median %.0f us p99 %.0f us max %.0f us; CPU time median "
		    "%.0f us p99 %.0f us max %.0f us\n", what[how], label, n,
		    before, before, tot[n / 2], tot[n * 99 / 100], tot[n - 1],
		    ct[n / 2], ct[n * 99 / 100], ct[n - 1]);
	else
		printf("%s (%s, %d changes): total median %.0f us p99 %.0f "
		    "us; inside LMDB commit mean %.0f us; beyond the commit "
		    "median %.0f us p99 %.0f us max %.0f us; CPU time (commit "
		    "included) median %.0f us p99 %.0f us max %.0f us\n",
		    what[how], label, n, tot[n / 2], tot[n * 99 / 100],
		    commit / n, rest[n / 2], rest[n * 99 / 100], rest[n - 1],
		    ct[n / 2], ct[n * 99 / 100], ct[n - 1]);
	if (how == PUB_FOREIGN) {
		after = share_count(st);
		printf("  share count of the instance: %zu before, %zu after "
		    "(quota %u)\n", before, after, SHARE_QUOTA_HIGH);
	}
	free(tot);
	free(rest);
	free(ct);
}

int
main(int argc, char **argv)
{
	struct mallinfo2	 m0, m1;
	struct world_counts	 c;
	struct store		*st;
	struct world		*w;
	char			 tmpl[] = "/tmp/bench-store.XXXXXX", *dir, small[600];
	char			 cmd[700];
	double			 t0, c0, t[3], ct[3];
	int			 nkeys = 100000, npol = 10000, i;

	if (argc > 1)
		nkeys = atoi(argv[1]);
	if (argc > 2)
		npol = atoi(argv[2]);
	if (argc > 3) {
		dir = argv[3];
		/* A named directory is made when missing (its parent must
		 * exist); an existing one is used as it is. */
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			fprintf(stderr, "bench-store: %s: %s\n", dir,
			    strerror(errno));
			return (1);
		}
	} else if ((dir = mkdtemp(tmpl)) == NULL)
		return (1);
	snprintf(small, sizeof(small), "%s/small", dir);
	snprintf(cmd, sizeof(cmd), "%s/big", dir);
	if (argc <= 3 || getenv("BENCH_STORE_REUSE") == NULL ||
	    access(cmd, F_OK) != 0) {
		build(cmd, nkeys, npol);
		build(small, 1000, 100);
	}

	for (i = 0; i < 3; i++) {
		m0 = mallinfo2();
		t0 = now();
		c0 = cpu();
		st = xopen(cmd);
		if (store_load(st) != 0) {
			fprintf(stderr, "bench-store: %s\n", store_errmsg(st));
			return (1);
		}
		t[i] = now() - t0;
		ct[i] = cpu() - c0;
		m1 = mallinfo2();
		if (i < 2)
			store_close(st);
	}
	w = world_holder_acquire(store_holder(st));
	world_counts(w, &c);
	world_unref(w);
	printf("open + load + compile: %zu keys with key policies, %zu RAM "
	    "policies, %zu users: %.3f s, %.3f s, %.3f s (CPU time, all "
	    "threads: %.3f s, %.3f s, %.3f s; %ld online cores)\n", c.keys,
	    c.policies, c.users, t[0], t[1], t[2], ct[0], ct[1], ct[2],
	    sysconf(_SC_NPROCESSORS_ONLN));
	printf("heap held by the loaded world: %.1f MiB, %.0f bytes per key "
	    "policy (keys, policies and principals all counted against the "
	    "keys)\n", (m1.uordblks - m0.uordblks) / 1048576.0,
	    (double)(m1.uordblks - m0.uordblks) / (c.keys ? c.keys : 1));
	if (getenv("BENCH_STORE_OPEN_ONLY") != NULL) {
		store_close(st);
		return (0);
	}
	publish(st, "100,000-key store", nkeys, 300, PUB_OWN);
	publish(st, "100,000-key store", nkeys, 300, PUB_FOREIGN);
	publish(st, "100,000-key store", nkeys, 300, PUB_REFUSED);
	store_close(st);
	st = xopen(small);
	if (store_load(st) != 0)
		return (1);
	publish(st, "1,000-key store", 1000, 300, PUB_OWN);
	publish(st, "1,000-key store", 1000, 300, PUB_FOREIGN);
	publish(st, "1,000-key store", 1000, 300, PUB_REFUSED);
	store_close(st);
	if (argc <= 3) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return (1);
	}
	return (0);
}

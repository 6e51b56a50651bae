/* SPDX-License-Identifier: ISC */
/*
 * store-prefetch.c: every key policy record and every RAM policy's
 * default version compiled on all online cores before the load's walk,
 * each distinct text once, each key policy hashed against its digest;
 * the walk then finds them compiled (docs/storage.md).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/xmalloc.h"
#include "engine/cpolicy.h"
#include "policy/policy-compile.h"
#include "store/store-prefetch.h"


static size_t
pf_hash_ptr(const void *p, size_t cap)
{
	uint64_t	 h = (uint64_t)(uintptr_t)p;

	h ^= h >> 29;
	h *= 0x9e3779b97f4a7c15ull;
	return ((size_t)(h >> 17) & (cap - 1));
}

static void
pf_add(struct prefetch *pf, size_t *cap, int kind, const void *val,
    const char *text, size_t len, const unsigned char *digest)
{
	struct pf_rec	*r;

	if (pf->n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		pf->r = xreallocarray(pf->r, *cap, sizeof(*pf->r));
	}
	r = &pf->r[pf->n++];
	memset(r, 0, sizeof(*r));
	r->val = val;
	r->text = text;
	r->len = len;
	r->kind = kind;
	memcpy(r->digest, digest, 32);
}

/* The record whose value is val: its text hashed to its digest. */
int
prefetch_verified(const struct prefetch *pf, const void *val)
{
	size_t	 h, i;

	if (pf == NULL || pf->vcap == 0)
		return (0);
	for (h = pf_hash_ptr(val, pf->vcap); (i = pf->byval[h]) != 0;
	    h = (h + 1) & (pf->vcap - 1))
		if (pf->r[i - 1].val == val)
			return (pf->r[i - 1].kind == POLICY_KIND_KEY &&
			    pf->r[i - 1].verified);
	return (0);
}

static void
pf_one(struct prefetch *pf, struct pf_rec *r)
{
	struct policy_diags	 diags;
	struct cpolicy		*cp;
	unsigned char		 d[32];

	if (r->kind == POLICY_KIND_KEY) {
		store_digest(r->text, r->len, d);
		r->verified = sodium_memcmp(d, r->digest, 32) == 0;
		/* A mismatch is the walk's to report, naming the key. */
		if (!r->owner || !r->verified)
			return;
		if (pf->trusted && policy_compile_trusted(POLICY_KIND_KEY,
		    r->text, r->len, &cp) == 0) {
			r->cp = cp;
			return;
		}
	} else if (!r->owner)
		return;
	/* A failure is left to the walk, which reports it as ever. */
	policy_diags_init(&diags);
	if (policy_compile_text(r->kind, r->text, r->len,
	    pcache_max(pf->st, r->kind, r->len), "", &cp, &diags) == 0)
		r->cp = cp;
	policy_diags_free(&diags);
}

static void *
pf_worker(void *arg)
{
	struct prefetch	*pf = arg;
	size_t		 i, end;

	for (;;) {
		i = atomic_fetch_add(&pf->next, PF_CHUNK);
		if (i >= pf->n)
			break;
		end = pf->n - i < PF_CHUNK ? pf->n : i + PF_CHUNK;
		for (; i < end; i++)
			pf_one(pf, &pf->r[i]);
	}
	return (NULL);
}

/*
 * Compiles every key policy and every RAM policy's default version
 * into cache, on all online cores, and hashes every key policy against
 * its stored digest (prefetch_verified).  Records it cannot read are
 * skipped: the walk reads them again and reports them.  trusted: key
 * policies whose digest matches take the trusted compiler.
 */
void
store_prefetch(struct store *st, MDB_txn *txn, struct prefetch *pf,
    struct pcache *cache, int trusted)
{
	struct store_kprec	 kp;
	struct store_polrec	 pr;
	struct store_pvrec	 pv;
	struct pcache		 seen;
	struct pcache_ent	*e;
	pthread_t		 tid[PF_THREADS_MAX];
	MDB_cursor		*c;
	MDB_val			 k, v;
	char			*p[2];
	size_t			 cap = 0, i, h, nt = 0, want;
	long			 ncpu;
	int			 op;

	memset(pf, 0, sizeof(*pf));
	pf->st = st;
	pf->trusted = trusted;
	atomic_init(&pf->next, 0);
	if (mdb_cursor_open(txn, st->dbi[DBI_KEYPOLICIES], &c) == 0) {
		for (op = MDB_FIRST; mdb_cursor_get(c, &k, &v, op) == 0;
		    op = MDB_NEXT)
			if (store_kprec_decode(&v, &kp) == 0)
				pf_add(pf, &cap, POLICY_KIND_KEY, v.mv_data,
				    kp.text, kp.len, kp.digest);
		mdb_cursor_close(c);
	}
	if (mdb_cursor_open(txn, st->dbi[DBI_POLICIES], &c) == 0) {
		for (op = MDB_FIRST; mdb_cursor_get(c, &k, &v, op) == 0;
		    op = MDB_NEXT) {
			unsigned char	 d[32];

			if (store_split(&k, p, 2) != 0)
				continue;
			if (store_polrec_decode(&v, &pr) == 0 &&
			    store_pv_find(st, txn, p[0], p[1], pr.def,
			    &pv) == 0) {
				store_digest(pv.text, pv.len, d);
				pf_add(pf, &cap, POLICY_KIND_RAM, NULL,
				    pv.text, pv.len, d);
			}
			store_split_free(p, 2);
		}
		mdb_cursor_close(c);
	}
	if (pf->n == 0)
		return;
	/* The first record of each digest compiles it, for all. */
	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < pf->n; i++) {
		pcache_grow(&seen);
		e = pcache_slot(&seen, pf->r[i].kind, pf->r[i].digest);
		if (e->cp != NULL)
			continue;
		memcpy(e->digest, pf->r[i].digest, 32);
		e->kind = pf->r[i].kind;
		e->cp = (struct cpolicy *)&pf->r[i];	/* a mark only */
		seen.n++;
		pf->r[i].owner = 1;
	}
	free(seen.v);
	/* Key policy records by their value, for the walk. */
	for (pf->vcap = 1024; pf->vcap < pf->n * 2; pf->vcap *= 2)
		;
	pf->byval = xcalloc(pf->vcap, sizeof(*pf->byval));
	for (i = 0; i < pf->n; i++) {
		if (pf->r[i].val == NULL)
			continue;
		for (h = pf_hash_ptr(pf->r[i].val, pf->vcap);
		    pf->byval[h] != 0; h = (h + 1) & (pf->vcap - 1))
			;
		pf->byval[h] = i + 1;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	want = pf->n <= PF_SERIAL_MAX || ncpu <= 1 ? 0 :
	    (size_t)ncpu - 1 > PF_THREADS_MAX ? PF_THREADS_MAX :
	    (size_t)ncpu - 1;
	/* The caller works too; a thread that cannot start is not needed. */
	for (nt = 0; nt < want; nt++)
		if (pthread_create(&tid[nt], NULL, pf_worker, pf) != 0)
			break;
	pf_worker(pf);
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	/* Into the cache in record order: the same cache every time. */
	for (i = 0; i < pf->n; i++)
		if (pf->r[i].cp != NULL) {
			pcache_put(cache, pf->r[i].kind, pf->r[i].digest,
			    pf->r[i].cp);
			pf->r[i].cp = NULL;
		}
}

void
prefetch_free(struct prefetch *pf)
{
	size_t	 i;

	for (i = 0; i < pf->n; i++)
		if (pf->r[i].cp != NULL)
			cpolicy_unref(pf->r[i].cp);
	free(pf->r);
	free(pf->byval);
	memset(pf, 0, sizeof(*pf));
}

/* SPDX-License-Identifier: ISC */
/*
 * store-apply.c: change-sets (store-cset.h).  What a change reads and
 * writes is recorded while it is planned; applying one writes its
 * records and reloads every entity they belong to into the world, in
 * the order the world's references need (docs/storage.md,
 * "Change-sets").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/world.h"
#include "store/store-int.h"

/*
 * Per record type: the entity it belongs to (its DBI) and how many
 * NUL-separated parts of its key name that entity.  A tag is part of
 * its key, a version part of its policy, a deletion time part of its
 * key; meta belongs to no entity.
 */
static const struct {
	int	entity;
	int	eparts;
	int	parts;
} store_rt[DBI_COUNT] = {
	[DBI_META] =		{ -1, 0, 0 },
	[DBI_INSTANCES] =	{ DBI_INSTANCES, 1, 1 },
	[DBI_KEYS] =		{ DBI_KEYS, 1, 1 },
	[DBI_KEYPOLICIES] =	{ DBI_KEYS, 1, 1 },
	[DBI_TAGS] =		{ DBI_KEYS, 1, 2 },
	[DBI_ALIASES] =		{ DBI_ALIASES, 3, 3 },
	[DBI_POLICIES] =	{ DBI_POLICIES, 2, 2 },
	[DBI_POLICYVERSIONS] =	{ DBI_POLICIES, 2, 3 },
	[DBI_USERS] =		{ DBI_USERS, 2, 2 },
	[DBI_ROLES] =		{ DBI_ROLES, 2, 2 },
	[DBI_GROUPS] =		{ DBI_GROUPS, 2, 2 },
	[DBI_DELETIONS] =	{ DBI_KEYS, 1, 1 },
};

/* The order entities are reloaded in: what is referred to first. */
static const int store_entity_rank[DBI_COUNT] = {
	[DBI_INSTANCES] = 0, [DBI_KEYS] = 1, [DBI_ALIASES] = 2,
	[DBI_POLICIES] = 3, [DBI_GROUPS] = 4, [DBI_ROLES] = 5,
	[DBI_USERS] = 6
};

const char *
store_rtype_name(int t)
{
	return (t >= 0 && t < DBI_COUNT ? store_dbi_names[t] : NULL);
}

int
store_rtype_find(const char *name)
{
	int	 t;

	for (t = 0; t < DBI_COUNT; t++)
		if (strcmp(store_dbi_names[t], name) == 0)
			return (t);
	return (-1);
}

int
store_rtype_parts(int t)
{
	return (t >= 0 && t < DBI_COUNT ? store_rt[t].parts : -1);
}

void
store_cset_init(struct store_cset *cs)
{
	memset(cs, 0, sizeof(*cs));
}

static void
store_crecs_free(struct store_crec *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].val);
	}
	free(v);
}

void
store_cset_free(struct store_cset *cs)
{
	store_crecs_free(cs->w, cs->nw);
	store_crecs_free(cs->r, cs->nr);
	store_crecs_free(cs->g, cs->ng);
	store_cset_init(cs);
}

static struct store_crec *
store_crec_find(struct store_crec *v, size_t n, int type, const void *k,
    size_t klen)
{
	size_t	 i;

	for (i = n; i-- > 0; )
		if (v[i].type == type && v[i].klen == klen &&
		    memcmp(v[i].key, k, klen) == 0)
			return (&v[i]);
	return (NULL);
}

static void
store_crec_set(struct store_crec *c, int type, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	c->type = type;
	c->key = xmalloc(klen ? klen : 1);
	memcpy(c->key, k, klen);
	c->klen = klen;
	c->val = NULL;
	c->vlen = 0;
	if (v != NULL) {
		c->val = xmalloc(vlen ? vlen : 1);
		memcpy(c->val, v, vlen);
		c->vlen = vlen;
	}
}

/* A new record at the end of v, grown by doubling. */
static struct store_crec *
store_crec_push(struct store_crec **v, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	return (&(*v)[(*n)++]);
}

void
store_cset_add(struct store_cset *cs, int type, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	store_crec_set(store_crec_push(&cs->w, &cs->nw, &cs->wcap), type, k,
	    klen, v, vlen);
}

/*
 * A read while planning: the first read of a record the plan has not
 * written is a precondition (what the plan wrote, it reads back).
 */
void
store_cset_read(struct store *st, int dbi, const void *k, size_t klen,
    const MDB_val *v)
{
	struct store_cset	*cs = st->cs;

	if (cs == NULL || cs->replace ||
	    store_crec_find(cs->w, cs->nw, dbi, k, klen) != NULL ||
	    store_crec_find(cs->r, cs->nr, dbi, k, klen) != NULL)
		return;
	store_crec_set(store_crec_push(&cs->r, &cs->nr, &cs->rcap), dbi, k,
	    klen, v != NULL ? v->mv_data : NULL, v != NULL ? v->mv_size : 0);
}

/*
 * A scan while planning: the records of dbi under prefix, whatever the
 * plan made of them (counted, searched, deleted).  A range inside one
 * recorded already adds nothing.  A local plan has no use for them (its
 * transaction is the only writer); a fleet compares them.
 */
void
store_cset_range(struct store *st, int dbi, const void *prefix, size_t plen)
{
	struct store_cset	*cs = st->cs;
	size_t			 i;

	if (cs == NULL || cs->replace)
		return;
	for (i = 0; i < cs->ng; i++)
		if (cs->g[i].type == dbi && cs->g[i].klen <= plen &&
		    memcmp(cs->g[i].key, prefix, cs->g[i].klen) == 0)
			return;
	store_crec_set(store_crec_push(&cs->g, &cs->ng, &cs->gcap), dbi,
	    prefix, plen, NULL, 0);
}

/* A write while planning; a record written twice keeps its last value. */
void
store_cset_write(struct store *st, int dbi, const void *k, size_t klen,
    const void *v, size_t vlen, int del)
{
	struct store_cset	*cs = st->cs;
	struct store_crec	*c;

	if (cs == NULL || cs->replace)
		return;
	if ((c = store_crec_find(cs->w, cs->nw, dbi, k, klen)) != NULL) {
		free(c->key);
		free(c->val);
		store_crec_set(c, dbi, k, klen, del ? NULL : v, vlen);
		return;
	}
	store_cset_add(cs, dbi, k, klen, del ? NULL : v, vlen);
}

/* --- reloading the entities a change-set touched ------------------ */

struct store_entity {
	int		 dbi;
	const void	*key;
	size_t		 klen;
	int		 reuse;		/* its key policy record unchanged */
};

/* The length of the first n NUL-separated parts of k (-1: too few). */
static ssize_t
store_key_prefix(const unsigned char *k, size_t klen, int n)
{
	size_t	 i;

	for (i = 0; i < klen; i++)
		if (k[i] == '\0' && --n == 0)
			return ((ssize_t)i);
	return (n == 1 ? (ssize_t)klen : -1);
}

static int
store_entity_cmp(const void *a, const void *b)
{
	const struct store_entity	*x = a, *y = b;
	size_t				 n = x->klen < y->klen ? x->klen :
					    y->klen;
	int				 c;

	if (x->dbi != y->dbi)
		return (store_entity_rank[x->dbi] - store_entity_rank[y->dbi]);
	if ((c = memcmp(x->key, y->key, n)) != 0)
		return (c);
	return (x->klen < y->klen ? -1 : x->klen > y->klen);
}

static int
store_entities(struct store *st, const struct store_cset *cs,
    struct store_entity **ep, size_t *np)
{
	struct store_entity	*e;
	const struct store_crec	*c;
	ssize_t			 len;
	size_t			 i, n = 0;

	e = xcalloc(cs->nw ? cs->nw : 1, sizeof(*e));
	for (i = 0; i < cs->nw; i++) {
		c = &cs->w[i];
		if (c->type <= DBI_META || c->type >= DBI_COUNT)
			continue;
		if ((len = store_key_prefix(c->key, c->klen,
		    store_rt[c->type].eparts)) <= 0) {
			free(e);
			return (store_seterr(st, STORE_ECORRUPT, "%s: a %s "
			    "record with a malformed key", st->dir,
			    store_dbi_names[c->type]));
		}
		e[n].dbi = store_rt[c->type].entity;
		e[n].key = c->key;
		e[n].klen = (size_t)len;
		e[n++].reuse = c->type != DBI_KEYPOLICIES;
	}
	qsort(e, n, sizeof(*e), store_entity_cmp);
	/* One entry per entity; its policy is reused only if no write
	 * touched its key policy record. */
	for (i = 0, *np = 0; i < n; i++) {
		if (*np > 0 && store_entity_cmp(&e[*np - 1], &e[i]) == 0) {
			e[*np - 1].reuse &= e[i].reuse;
			continue;
		}
		e[(*np)++] = e[i];
	}
	*ep = e;
	return (STORE_OK);
}

int
store_cset_refresh(struct store *st, MDB_txn *txn, struct world_txn *wt,
    const struct store_cset *cs, struct pcache *cache)
{
	struct store_entity	*e = NULL;
	MDB_val			 k;
	size_t			 i, n = 0;
	int			 rc;

	if (cs->replace)
		return (store_load_into(st, txn, wt));
	if ((rc = store_entities(st, cs, &e, &n)) != STORE_OK)
		return (rc);
	for (i = 0; i < n && rc == STORE_OK; i++) {
		k.mv_data = (void *)e[i].key;
		k.mv_size = e[i].klen;
		rc = store_load_entity(st, txn, wt, cache, e[i].dbi, &k,
		    e[i].reuse);
	}
	free(e);
	return (rc);
}

/* --- applying a change-set planned elsewhere ----------------------- */

struct store_apply_arg {
	const struct store_cset	*cs;
	struct pcache		 cache;
};

static int
store_apply_fn(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct store_apply_arg	*a = arg;
	const struct store_crec	*c;
	MDB_val			 k, v;
	size_t			 i;
	int			 rc, d;

	if (a->cs->replace)
		for (d = 1; d < DBI_COUNT; d++)
			if ((rc = mdb_drop(txn, st->dbi[d], 0)) != 0)
				return (store_err_mdb(st, rc,
				    "emptying the store"));
	for (i = 0; i < a->cs->nw; i++) {
		c = &a->cs->w[i];
		if (c->type < DBI_META || c->type >= DBI_COUNT ||
		    c->klen == 0 || (c->type != DBI_META &&
		    store_key_prefix(c->key, c->klen,
		    store_rt[c->type].parts) < 0) || (c->type == DBI_META &&
		    (c->klen < 6 || memcmp(c->key, "fleet.", 6) != 0)))
			return (store_seterr(st, STORE_ECORRUPT, "%s: a "
			    "record of type %d with a malformed key", st->dir,
			    c->type));
		k.mv_data = c->key;
		k.mv_size = c->klen;
		v.mv_data = c->val;
		v.mv_size = c->vlen;
		rc = c->val != NULL ? mdb_put(txn, st->dbi[c->type], &k, &v,
		    0) : mdb_del(txn, st->dbi[c->type], &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return (store_err_mdb(st, rc,
			    store_dbi_names[c->type]));
	}
	return (store_cset_refresh(st, txn, wt, a->cs, &a->cache));
}

int
store_apply(struct store *st, const struct store_cset *cs, uint64_t gen,
    uint64_t *genp)
{
	struct store_apply_arg	 a;
	int			 rc;

	memset(&a, 0, sizeof(a));
	a.cs = cs;
	st->gen_set = gen;
	st->gen_any = cs->replace;
	rc = store_write(st, store_apply_fn, &a, cs->replace, genp);
	st->gen_set = 0;
	st->gen_any = 0;
	pcache_free(&a.cache);
	return (rc);
}

/* --- every record ------------------------------------------------- */

/* Every record of txn but meta's (store_records, a fleet's bulk change). */
int
store_records_in(struct store *st, MDB_txn *txn, store_record_fn fn,
    void *arg)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc = STORE_OK, mrc, op, t;

	for (t = DBI_META + 1; t < DBI_COUNT && rc == STORE_OK; t++) {
		if ((mrc = mdb_cursor_open(txn, st->dbi[t], &c)) != 0) {
			rc = store_err_mdb(st, mrc, store_dbi_names[t]);
			break;
		}
		for (op = MDB_FIRST; rc == STORE_OK &&
		    (mrc = mdb_cursor_get(c, &k, &v, op)) == 0; op = MDB_NEXT)
			rc = fn(t, k.mv_data, k.mv_size, v.mv_data, v.mv_size,
			    arg);
		mdb_cursor_close(c);
		if (rc == STORE_OK && mrc != MDB_NOTFOUND)
			rc = store_err_mdb(st, mrc, store_dbi_names[t]);
	}
	return (rc);
}

int
store_records(struct store *st, store_record_fn fn, void *arg)
{
	MDB_txn	*txn;
	int	 rc;

	store_errbuf()[0] = '\0';
	if ((rc = store_rtxn(st, &txn)) != 0)
		return (rc);
	rc = store_records_in(st, txn, fn, arg);
	mdb_txn_abort(txn);
	return (rc);
}

int
store_cset_collect(int type, const void *k, size_t klen, const void *v,
    size_t vlen, void *arg)
{
	store_cset_add(arg, type, k, klen, v, vlen);
	return (STORE_OK);
}

void
store_set_sink(struct store *st, store_sink_fn fn, void *arg)
{
	st->sink = fn;
	st->sink_arg = arg;
}

void
store_on_commit(struct store *st, store_committed_fn fn, void *arg)
{
	st->committed = fn;
	st->committed_arg = arg;
}

int
store_fleet_meta(struct store *st, const char *name, char *buf, size_t len)
{
	MDB_txn	*txn;
	MDB_val	 k, v;
	char	 key[64];
	int	 rc;

	buf[0] = '\0';
	snprintf(key, sizeof(key), "fleet.%s", name);
	if ((rc = store_rtxn(st, &txn)) != 0)
		return (rc);
	k.mv_data = key;
	k.mv_size = strlen(key);
	rc = mdb_get(txn, st->dbi[DBI_META], &k, &v);
	if (rc == 0 && v.mv_size < len && memchr(v.mv_data, 0,
	    v.mv_size) == NULL) {
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size] = '\0';
	}
	mdb_txn_abort(txn);
	return (rc == 0 ? STORE_OK : rc == MDB_NOTFOUND ? STORE_ENOTFOUND :
	    store_err_mdb(st, rc, "reading metadata"));
}

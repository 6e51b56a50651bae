/* SPDX-License-Identifier: ISC */
/*
 * store-ops.c: what every change shares: record reads and writes that
 * record the change-set, store_op_change (plan, then reload the world
 * where the change-set wrote, or hand it to a fleet's sink), the key and
 * policy helpers and the checks every change makes.  Documents are
 * validated and compiled before the write transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/cpolicy.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/ident.h"
#include "policy/policy-compile.h"
#include "store/store-int.h"
#include "store/store-ops.h"

const int store_op_prin_dbi[] = { DBI_USERS, DBI_ROLES, DBI_GROUPS };
const char *const store_op_prin_name[] = { "user", "role", "group" };

/* --- small helpers ------------------------------------------------ */

int
store_op_id_ok(struct store *st, const char *what, const char *s)
{
	if (ident_bounded(s, STORE_ID_MAX))
		return (STORE_OK);
	if (s == NULL || *s == '\0')
		return (store_seterr(st, STORE_EINVAL, "%s: empty", what));
	return (store_seterr(st, STORE_EINVAL, "%s: longer than %d bytes",
	    what, STORE_ID_MAX));
}

int
store_op_db_get(struct store *st, MDB_txn *txn, int dbi,
    const struct store_wbuf *k, MDB_val *v)
{
	MDB_val	 kv;
	int	 rc;

	kv.mv_data = k->p;
	kv.mv_size = k->len;
	if (k->len > (size_t)mdb_env_get_maxkeysize(st->env))
		return (STORE_ENOTFOUND);	/* could never be stored */
	if ((rc = mdb_get(txn, st->dbi[dbi], &kv, v)) == MDB_NOTFOUND) {
		store_cset_read(st, dbi, k->p, k->len, NULL);
		return (STORE_ENOTFOUND);
	}
	if (rc != 0)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	store_cset_read(st, dbi, k->p, k->len, v);
	return (STORE_OK);
}

int
store_op_db_put(struct store *st, MDB_txn *txn, int dbi,
    const struct store_wbuf *k, const void *v, size_t vlen, unsigned int flags)
{
	MDB_val	 kv, vv;
	int	 rc;

	if (k->len > (size_t)mdb_env_get_maxkeysize(st->env))
		return (store_seterr(st, STORE_ELIMIT, "%s: identifiers "
		    "longer than %d bytes together", store_dbi_names[dbi],
		    mdb_env_get_maxkeysize(st->env)));
	kv.mv_data = k->p;
	kv.mv_size = k->len;
	vv.mv_data = (void *)v;
	vv.mv_size = vlen;
	if ((rc = mdb_put(txn, st->dbi[dbi], &kv, &vv, flags)) != 0)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	store_cset_write(st, dbi, k->p, k->len, v, vlen, 0);
	return (STORE_OK);
}

int
store_op_db_del(struct store *st, MDB_txn *txn, int dbi,
    const struct store_wbuf *k)
{
	MDB_val	 kv, v;
	int	 rc;

	/*
	 * A delete relies on the record being there (the second of two
	 * deletes of one record is refused): read first, so that the
	 * change-set holds it as a precondition.
	 */
	if ((rc = store_op_db_get(st, txn, dbi, k, &v)) != STORE_OK)
		return (rc);
	kv.mv_data = k->p;
	kv.mv_size = k->len;
	if ((rc = mdb_del(txn, st->dbi[dbi], &kv, NULL)) == MDB_NOTFOUND)
		return (STORE_ENOTFOUND);
	if (rc != 0)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	store_cset_write(st, dbi, k->p, k->len, NULL, 0, 1);
	return (STORE_OK);
}

/*
 * Deletes one record by its composite key (a, b, c joined as store_key
 * joins them); STORE_ENOTFOUND comes back without a message.
 */
int
store_op_rec_del(struct store *st, MDB_txn *txn, int dbi, const char *a,
    const char *b, const char *c)
{
	struct store_wbuf	 k;
	int			 rc;

	store_w_init(&k);
	store_key(&k, a, b, c);
	rc = store_op_db_del(st, txn, dbi, &k);
	store_w_free(&k);
	return (rc);
}

/*
 * Every change: its plan (fn) in store_write's one write transaction,
 * recording the change-set, then the world reloaded where the
 * change-set wrote (from the empty world when o carries a whole
 * bundle); then what o holds is released.
 */
static int
store_op_plan_apply(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op	*o = arg;
	int		 rc;

	store_cset_free(&o->cs);
	o->cs.replace = o->replace;
	st->cs = &o->cs;
	rc = o->plan(st, txn, wt, o);
	st->cs = NULL;
	if (rc == STORE_OK)
		rc = store_cset_refresh(st, txn, wt, &o->cs, &o->cache);
	return (rc);
}

/*
 * A fleet's change: planned in a write transaction that is then
 * aborted (the records it wrote are the change-set; a bulk change's are
 * every record the transaction then holds), and handed to the sink;
 * planned again while the records it read changed meanwhile.
 */
static int
store_op_sink(struct store *st, struct op *o, uint64_t *genp)
{
	struct world		*base;
	struct world_txn	*wt;
	MDB_txn			*txn;
	uint64_t		 gen = 0, ngen = 0;
	char			 why[STORE_ERRMAX];
	int			 rc, mrc, tries = 0, grew;

	for (;;) {
		store_errbuf()[0] = '\0';
		store_cset_free(&o->cs);
		o->cs.replace = o->replace;
		base = world_holder_acquire(st->holder);
		if ((wt = world_txn_begin(base)) == NULL) {
			world_unref(base);
			return (store_op_nomem(st));
		}
		txn = NULL;
		/* The mirror's applies wait while this plan reads. */
		pthread_mutex_lock(&st->wmu);
		if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
			rc = store_err_mdb(st, mrc, "beginning a transaction");
		else if ((rc = store_meta_get_u(st, txn, "generation", 8,
		    &gen)) == STORE_OK) {
			st->cs = &o->cs;
			rc = o->plan(st, txn, wt, o);
			st->cs = NULL;
		}
		/* A bulk change hands on every record it left. */
		if (rc == STORE_OK && o->replace)
			rc = store_records_in(st, txn, store_cset_collect,
			    &o->cs);
		if (txn != NULL)
			mdb_txn_abort(txn);
		grew = rc == STORE_EFULL && (rc = store_grow(st)) == STORE_OK;
		pthread_mutex_unlock(&st->wmu);
		world_txn_abort(wt);
		world_unref(base);
		if (grew)
			continue;	/* the map grew: plan again */
		if (rc != STORE_OK)
			return (rc);
		rc = st->sink(st, &o->cs, gen, st->sink_arg, &ngen);
		if (rc != STORE_ECONFLICT || ++tries == STORE_SINK_TRIES)
			break;
	}
	if (rc == STORE_ECONFLICT) {
		snprintf(why, sizeof(why), "%s", store_errbuf());
		return (store_seterr(st, rc, "the records this change read "
		    "kept changing: gave up after %d tries (%s)", tries, why));
	}
	if (rc == STORE_OK && genp != NULL)
		*genp = ngen;
	return (rc);
}

int
store_op_change(struct store *st, store_op_prep_fn prep, store_op_fn plan,
    void *args, uint64_t *genp)
{
	struct op	 o;
	int		 rc;

	memset(&o, 0, sizeof(o));
	o.plan = plan;
	o.args = args;
	store_cset_init(&o.cs);
	rc = prep != NULL ? prep(st, &o) : STORE_OK;
	if (rc == STORE_OK && st->sink != NULL && !st->readonly)
		rc = store_op_sink(st, &o, genp);
	else if (rc == STORE_OK)
		rc = store_write(st, store_op_plan_apply, &o, o.replace, genp);
	if (rc == STORE_OK && st->committed != NULL)
		st->committed(&o.cs, st->generation, st->committed_arg);
	store_cset_free(&o.cs);
	if (o.cp != NULL)
		cpolicy_unref(o.cp);
	pcache_free(&o.cache);
	return (rc);
}

/*
 * The plan compiled text (o->cp) to check it: the reload after it
 * finds it under the text's digest instead of compiling it again.
 */
void
store_op_seed(struct op *o, int kind, const char *text, size_t len)
{
	unsigned char	 d[32];

	if (o->cp == NULL)
		return;
	store_digest(text, len, d);
	pcache_put(&o->cache, kind, d, cpolicy_ref(o->cp));
}

/* Deletes every record whose key starts with prefix (plen bytes). */
int
store_op_db_del_prefix(struct store *st, MDB_txn *txn, int dbi,
    const void *prefix, size_t plen)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc;

	/* A record put under prefix meanwhile would be left behind. */
	store_cset_range(st, dbi, prefix, plen);
	if ((rc = mdb_cursor_open(txn, st->dbi[dbi], &c)) != 0)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= plen &&
	    memcmp(k.mv_data, prefix, plen) == 0) {
		store_cset_write(st, dbi, k.mv_data, k.mv_size, NULL, 0, 1);
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
		if (rc == MDB_NOTFOUND || rc == EINVAL)
			break;
		/* After a delete the cursor stands on the next record. */
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND && rc != EINVAL)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	return (STORE_OK);
}

/* Counts records with the prefix (up to max + 1). */
int
store_op_db_count_prefix(struct store *st, MDB_txn *txn, int dbi,
    const void *prefix, size_t plen, size_t *np)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc, op = MDB_SET_RANGE;

	*np = 0;
	store_cset_range(st, dbi, prefix, plen);
	if ((rc = mdb_cursor_open(txn, st->dbi[dbi], &c)) != 0)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0 &&
	    k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0) {
		op = MDB_NEXT;
		(*np)++;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	return (STORE_OK);
}

int
store_op_nomem(struct store *st)
{
	return (store_seterr(st, STORE_ENOMEM, "out of memory"));
}

/*
 * The typed records by DBI: what one is called in errors, and its codec
 * (r: the DBI's record structure; a deletion's is an int64_t).
 */
static const char *const op_rec_name[DBI_COUNT] = {
	[DBI_INSTANCES] = "instance", [DBI_KEYS] = "key",
	[DBI_KEYPOLICIES] = "key policy", [DBI_POLICIES] = "policy",
	[DBI_USERS] = "user", [DBI_ROLES] = "role", [DBI_GROUPS] = "group",
	[DBI_DELETIONS] = "deletion"
};

static int
op_rec_decode(int dbi, const MDB_val *v, void *r)
{
	struct store_rbuf	 b;

	if (dbi == DBI_INSTANCES)
		return (store_instrec_decode(v, r));
	if (dbi == DBI_KEYS)
		return (store_keyrec_decode(v, r));
	if (dbi == DBI_KEYPOLICIES)
		return (store_kprec_decode(v, r));
	if (dbi == DBI_POLICIES)
		return (store_polrec_decode(v, r));
	if (dbi != DBI_DELETIONS)
		return (store_prinrec_decode(v, dbi == DBI_USERS, r));
	store_r_init(&b, v->mv_data, v->mv_size);
	*(int64_t *)r = (int64_t)store_r_u64(&b);
	return (store_r_end(&b));
}

static void
op_rec_encode(int dbi, struct store_wbuf *w, const void *r)
{
	if (dbi == DBI_INSTANCES)
		store_instrec_encode(w, r);
	else if (dbi == DBI_KEYS)
		store_keyrec_encode(w, r);
	else if (dbi == DBI_KEYPOLICIES)
		store_kprec_encode(w, r);
	else if (dbi == DBI_POLICIES)
		store_polrec_encode(w, r);
	else if (dbi == DBI_DELETIONS)
		store_w_u64(w, (uint64_t)*(const int64_t *)r);
	else
		store_prinrec_encode(w, dbi == DBI_USERS, r);
}

/* The record (a, b) of dbi does not decode. */
static int
op_malformed(struct store *st, int dbi, const char *a, const char *b)
{
	return (store_seterr(st, STORE_ECORRUPT, "%s: %s \"%s%s%s\": "
	    "malformed", st->dir, store_dbi_names[dbi], a, b != NULL ? "/" : "",
	    b != NULL ? b : ""));
}

/*
 * The record (a, b) of dbi decoded into r: STORE_ENOTFOUND names what
 * is missing ("no such user: b in account a", "no such key: a").
 */
int
store_op_rec_get(struct store *st, MDB_txn *txn, int dbi, const char *a,
    const char *b, void *r)
{
	struct store_wbuf	 k;
	MDB_val			 v;
	int			 rc;

	store_w_init(&k);
	store_key(&k, a, b, NULL);
	rc = store_op_db_get(st, txn, dbi, &k, &v);
	store_w_free(&k);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "no such %s: %s%s%s",
		    op_rec_name[dbi], b != NULL ? b : a,
		    b != NULL ? " in account " : "", b != NULL ? a : ""));
	if (rc == STORE_OK && op_rec_decode(dbi, &v, r) != 0)
		return (op_malformed(st, dbi, a, b));
	return (rc);
}

/* Record r as (a, b) of dbi ("key k already exists": STORE_EEXIST). */
int
store_op_rec_put(struct store *st, MDB_txn *txn, int dbi, const char *a,
    const char *b, const void *r, unsigned int flags)
{
	struct store_wbuf	 k, v;
	int			 rc;

	store_w_init(&k);
	store_w_init(&v);
	store_key(&k, a, b, NULL);
	op_rec_encode(dbi, &v, r);
	rc = store_op_db_put(st, txn, dbi, &k, v.p, v.len, flags);
	store_w_free(&k);
	store_w_free(&v);
	if (rc == STORE_EEXIST)
		return (store_seterr(st, rc, "%s %s already exists%s%s",
		    op_rec_name[dbi], b != NULL ? b : a,
		    b != NULL ? " in account " : "", b != NULL ? a : ""));
	return (rc);
}

int
store_op_kp_put(struct store *st, MDB_txn *txn, const char *id,
    uint64_t version, const char *text, size_t len)
{
	struct store_kprec	 r;

	r.version = version;
	r.time_ms = store_now_ms();
	store_digest(text, len, r.digest);
	r.text = text;
	r.len = len;
	return (store_op_rec_put(st, txn, DBI_KEYPOLICIES, id, NULL, &r, 0));
}

int
store_op_compile(struct store *st, enum policy_kind kind, const char *text,
    size_t len, struct policy_diags *diags, struct cpolicy **cpp)
{
	struct policy_diags	 local;
	size_t			 max;
	int			 rc;

	max = kind == POLICY_KIND_KEY ? POLICY_KEY_MAX_BYTES :
	    (st->ram_policy_max ? st->ram_policy_max :
	    POLICY_RAM_MAX_BYTES_DEFAULT);
	if (text == NULL)
		return (store_seterr(st, STORE_EINVAL, "no policy document"));
	if (diags == NULL)
		policy_diags_init(diags = &local);
	rc = policy_compile_text(kind, text, len, max, "", cpp, diags);
	if (rc != 0)
		store_seterr(st, STORE_EINVAL, "invalid policy document%s%s%s%s",
		    diags->n ? ": " : "", diags->n ? diags->v[0].path : "",
		    diags->n && diags->v[0].path[0] ? ": " : "",
		    diags->n ? diags->v[0].reason : "");
	if (diags == &local)
		policy_diags_free(&local);
	return (rc == 0 ? STORE_OK : STORE_EINVAL);
}


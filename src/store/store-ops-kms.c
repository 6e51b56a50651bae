/* SPDX-License-Identifier: ISC */
/*
 * store-ops-kms.c: the KMS changes, one function each (instances, keys,
 * scheduled deletions, tags, aliases), each a plan taking its own typed
 * arguments: it reads and checks records and writes records; the world
 * follows from the change-set (store_op_change, docs/storage.md).
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

/* The plans' arguments (a key's changes share one structure). */
struct inst_args {
	const char	*id;
	int		 state;
	uint32_t	 quota;
	const char	*account;
};
enum del_step { DEL_SCHEDULE, DEL_CANCEL, DEL_EXPIRE };
struct key_args {
	const char		*id;
	const char		*region;	/* create */
	const char		*creator;	/* create */
	const char		*instance;	/* create */
	int			 state;		/* create, state */
	enum del_step		 step;		/* deletion */
	int64_t			 when_ms;	/* the time; expire: now */
	const char		*text;		/* key policy */
	size_t			 len;
	struct policy_diags	*diags;
	const struct store_tag	*tags;		/* tags */
	size_t			 n;
};
struct alias_args {
	const char	*name;
	const char	*key_id;	/* create, update */
	const char	*region;	/* delete */
	const char	*account;	/* delete */
	int		 update;	/* UpdateAlias: it must exist */
};

static int	key_ok(struct store *, struct op *);

/*
 * Key changes need the key's instance to be Enabled (section 5): its
 * record read, so that the change-set holds what the state came from.
 */
static int
key_instance_ok(struct store *st, MDB_txn *txn, const struct store_keyrec *r)
{
	struct store_instrec	 ir;
	int			 rc;

	if (r->instance == NULL)
		return (STORE_OK);
	if ((rc = store_op_rec_get(st, txn, DBI_INSTANCES, r->instance, NULL,
	    &ir)) == STORE_ENOTFOUND)
		return (store_seterr(st, STORE_ECORRUPT, "%s: instance %s of "
		    "a key is missing", st->dir, r->instance));
	if (rc == STORE_OK && ir.state != WORLD_INSTANCE_ENABLED)
		return (store_seterr(st, STORE_ESTATE, "instance %s is %s",
		    r->instance, world_instance_state_name(ir.state)));
	return (rc);
}

/*
 * The share quota of instance with key skip's policy replaced by extra
 * (O(accounts the two name): the world's per-instance index).  A policy
 * that names no foreign account the key's current one does not cannot
 * raise the count and is not counted.
 */
static int
share_check(struct store *st, struct world_txn *wt,
    const char *instance, const char *skip, const struct cpolicy *extra,
    const char *account, uint32_t quota)
{
	size_t	 n;
	int	 grows;

	if (skip != NULL && extra != NULL) {
		if ((grows = world_key_share_grows(world_txn_view(wt), skip,
		    extra, account)) == -1)
			return (store_op_nomem(st));
		if (!grows)
			return (STORE_OK);
	}
	/* The world's index counts every key policy of the instance. */
	store_cset_range(st, DBI_KEYPOLICIES, "", 0);
	if (world_instance_share_count(world_txn_view(wt), instance, skip,
	    extra, account, &n) != 0)
		return (store_op_nomem(st));
	if (n > quota)
		return (store_seterr(st, STORE_EQUOTA, "instance %s: %zu "
		    "foreign accounts would exceed its share quota of %u",
		    instance, n, quota));
	return (STORE_OK);
}

/* --- instances ---------------------------------------------------- */

static int
op_instance_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct inst_args	*a = o->args;
	struct store_instrec	 r = { a->state, a->quota, "" };

	if (a->account != NULL)
		snprintf(r.account, sizeof(r.account), "%s", a->account);
	return (store_op_rec_put(st, txn, DBI_INSTANCES, a->id, NULL, &r,
	    MDB_NOOVERWRITE));
}

static int
op_instance_state(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct inst_args	*a = o->args;
	struct store_instrec	 r;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_INSTANCES, a->id, NULL,
	    &r)) != 0)
		return (rc);
	r.state = a->state;
	return (store_op_rec_put(st, txn, DBI_INSTANCES, a->id, NULL, &r, 0));
}

static int
op_instance_quota(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct inst_args	*a = o->args;
	struct store_instrec	 r;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_INSTANCES, a->id, NULL,
	    &r)) != 0 || (rc = share_check(st, wt, a->id, NULL, NULL, NULL,
	    a->quota)) != 0)
		return (rc);
	r.quota = a->quota;
	return (store_op_rec_put(st, txn, DBI_INSTANCES, a->id, NULL, &r, 0));
}

static int
inst_has_key(const struct world_key *k, void *arg)
{
	return (k->instance != NULL && strcmp(k->instance, arg) == 0);
}

static int
op_instance_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct inst_args	*a = o->args;
	struct store_instrec	 r;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_INSTANCES, a->id, NULL,
	    &r)) != 0)
		return (rc);
	store_cset_range(st, DBI_KEYS, "", 0);	/* the world's, from them */
	if (world_foreach_key(world_txn_view(wt), inst_has_key,
	    (void *)a->id) != 0)
		return (store_seterr(st, STORE_EINUSE, "instance %s still "
		    "holds keys", a->id));
	return (store_op_rec_del(st, txn, DBI_INSTANCES, a->id, NULL, NULL));
}

int
store_op_state_ok(struct store *st, int state)
{
	if (world_instance_state_name(state) == NULL)
		return (store_seterr(st, STORE_EINVAL, "invalid instance "
		    "state %d", state));
	return (STORE_OK);
}

/*
 * What the instance changes check first (store_op_change's prep): the
 * id, and the state and owner where the call sets them.
 */
static int
inst_ok(struct store *st, struct op *o)
{
	const struct inst_args	*a = o->args;
	int			 rc;

	if ((rc = store_op_id_ok(st, "instance id", a->id)) ||
	    (o->plan != op_instance_create && o->plan != op_instance_state))
		return (rc);
	if ((rc = store_op_state_ok(st, a->state)))
		return (rc);
	if (a->account != NULL && (!ident_account(a->account,
	    strlen(a->account)) || strlen(a->account) >=
	    sizeof(((struct store_instrec *)0)->account)))
		return (store_seterr(st, STORE_EINVAL, "instance %s: account "
		    "%s is not an account id", a->id, a->account));
	return (STORE_OK);
}

int
store_instance_create(struct store *st, const char *id, int state,
    uint32_t quota, const char *account, uint64_t *genp)
{
	struct inst_args a = { id, state, quota, account };

	return (store_op_change(st, inst_ok, op_instance_create, &a, genp));
}

int
store_instance_state_set(struct store *st, const char *id, int state,
    uint64_t *genp)
{
	struct inst_args a = { .id = id, .state = state };

	return (store_op_change(st, inst_ok, op_instance_state, &a, genp));
}

int
store_instance_quota_set(struct store *st, const char *id, uint32_t quota,
    uint64_t *genp)
{
	struct inst_args a = { .id = id, .quota = quota };

	return (store_op_change(st, inst_ok, op_instance_quota, &a, genp));
}

int
store_instance_delete(struct store *st, const char *id, uint64_t *genp)
{
	struct inst_args a = { .id = id };

	return (store_op_change(st, inst_ok, op_instance_delete, &a, genp));
}

/* --- keys --------------------------------------------------------- */

static int
op_key_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct key_args	*a = o->args;
	struct store_keyrec	 r;
	struct store_instrec	 ir;
	char			*text = NULL;
	int			 rc;

	r.state = a->state;
	r.region = (char *)a->region;
	r.creator = (char *)a->creator;
	r.instance = (char *)a->instance;
	if (r.instance != NULL) {
		if ((rc = store_op_rec_get(st, txn, DBI_INSTANCES, r.instance,
		    NULL, &ir)) != 0)
			return (rc);
		if ((rc = key_instance_ok(st, txn, &r)) != 0)
			return (rc);
	}
	if ((rc = store_op_rec_put(st, txn, DBI_KEYS, a->id, NULL, &r,
	    MDB_NOOVERWRITE)) != 0)
		return (rc);
	if (r.instance != NULL) {
		if ((text = policy_default_key_policy(r.creator)) == NULL)
			return (store_op_nomem(st));
		rc = store_op_kp_put(st, txn, a->id, 1, text, strlen(text));
		store_op_seed(o, POLICY_KIND_KEY, text, strlen(text));
		free(text);
	}
	return (rc);
}

int
store_op_key_state_ok(struct store *st, int state)
{
	if (world_key_state_name(state) == NULL)
		return (store_seterr(st, STORE_EINVAL, "invalid key state %d",
		    state));
	return (STORE_OK);
}

/*
 * What a new key checks first (store_op_change's prep); in an instance
 * it gets its creator's default key policy, compiled here.
 */
static int
key_new_ok(struct store *st, struct op *o)
{
	const struct key_args	*a = o->args;
	char			*text;
	int			 rc;

	if ((rc = store_op_id_ok(st, "key id", a->id)) ||
	    (rc = store_op_id_ok(st, "region", a->region)) ||
	    (rc = store_op_id_ok(st, "creator account", a->creator)) ||
	    (a->instance != NULL && (rc = store_op_id_ok(st, "instance id",
	    a->instance))) || (rc = store_op_key_state_ok(st, a->state)))
		return (rc);
	/* A deletion time comes only with store_key_schedule_deletion. */
	if (a->state == WORLD_KEY_PENDING_DELETION)
		return (store_seterr(st, STORE_EINVAL, "key %s: a key is not "
		    "created PendingDeletion (that state needs a deletion "
		    "time: schedule the deletion after creating it)", a->id));
	if (a->instance == NULL)
		return (STORE_OK);
	if ((text = policy_default_key_policy(a->creator)) == NULL)
		return (store_op_nomem(st));
	rc = store_op_compile(st, POLICY_KIND_KEY, text, strlen(text), NULL,
	    &o->cp);
	free(text);
	return (rc);
}

int
store_key_create(struct store *st, const char *id, const char *region,
    const char *creator, const char *instance, int state, uint64_t *genp)
{
	struct key_args	 a = { .id = id, .region = region,
			    .creator = creator, .instance = instance,
			    .state = state };

	return (store_op_change(st, key_new_ok, op_key_create, &a, genp));
}

static int
op_key_state(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct key_args	*a = o->args;
	struct store_keyrec	 r;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_KEYS, a->id, NULL, &r)) != 0)
		return (rc);
	if (r.state == WORLD_KEY_PENDING_DELETION ||
	    a->state == WORLD_KEY_PENDING_DELETION) {
		/* Only with its deletion time (schedule / cancel). */
		store_keyrec_free(&r);
		return (store_seterr(st, STORE_EINVAL, "key %s: "
		    "PendingDeletion is entered by scheduling a deletion and "
		    "left by cancelling it", a->id));
	}
	r.state = a->state;
	if ((rc = key_instance_ok(st, txn, &r)) == 0)
		rc = store_op_rec_put(st, txn, DBI_KEYS, a->id, NULL, &r, 0);
	store_keyrec_free(&r);
	return (rc);
}

int
store_key_state_set(struct store *st, const char *id, int state,
    uint64_t *genp)
{
	struct key_args	 a = { .id = id, .state = state };

	return (store_op_change(st, key_ok, op_key_state, &a, genp));
}

/*
 * Removes key id (record r) with its aliases, key policy, tags and
 * deletion time.
 */
static int
key_remove(struct store *st, MDB_txn *txn, const char *id,
    const struct store_keyrec *r)
{
	static const int	 own[] = { DBI_KEYPOLICIES, DBI_DELETIONS };
	struct store_wbuf	 k;
	MDB_cursor		*c;
	MDB_val			 ck, cv;
	char			**names = NULL;
	size_t			 plen, nnames = 0, i;
	int			 rc = STORE_OK, mrc, op = MDB_SET_RANGE;

	/* Aliases live under the key's region and account. */
	store_w_init(&k);
	store_key(&k, r->region, r->creator, "");
	plen = k.len;
	store_cset_range(st, DBI_ALIASES, k.p, plen);
	if ((mrc = mdb_cursor_open(txn, st->dbi[DBI_ALIASES], &c)) != 0) {
		store_w_free(&k);
		return (store_err_mdb(st, mrc, "aliases"));
	}
	ck.mv_data = k.p;
	ck.mv_size = k.len;
	while (mdb_cursor_get(c, &ck, &cv, op) == 0 && ck.mv_size >= plen &&
	    memcmp(ck.mv_data, k.p, plen) == 0) {
		op = MDB_NEXT;
		if (cv.mv_size != strlen(id) ||
		    memcmp(cv.mv_data, id, cv.mv_size) != 0)
			continue;
		/* Names cannot hold NUL: the rest of the key is one. */
		names = xreallocarray(names, nnames + 1, sizeof(*names));
		names[nnames] = xmalloc(ck.mv_size - plen + 1);
		memcpy(names[nnames], (const char *)ck.mv_data + plen,
		    ck.mv_size - plen);
		names[nnames++][ck.mv_size - plen] = '\0';
	}
	mdb_cursor_close(c);
	for (i = 0; i < nnames && rc == STORE_OK; i++)
		rc = store_op_rec_del(st, txn, DBI_ALIASES, r->region,
		    r->creator, names[i]);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	if (rc == STORE_OK)
		rc = store_op_rec_del(st, txn, DBI_KEYS, id, NULL, NULL);
	/* Its key policy and deletion time, where it has them. */
	for (i = 0; i < 2 && rc == STORE_OK; i++)
		if ((rc = store_op_rec_del(st, txn, own[i], id, NULL,
		    NULL)) == STORE_ENOTFOUND)
			rc = STORE_OK;
	if (rc == STORE_OK) {
		store_key(&k, id, "", NULL);
		rc = store_op_db_del_prefix(st, txn, DBI_TAGS, k.p, k.len);
	}
	store_w_free(&k);
	return (rc);
}

/* --- scheduled deletions ----------------------------------------- */

static int
op_deletion(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct key_args	*a = o->args;
	struct store_keyrec	 r;
	int64_t			 when = 0;
	int			 rc, pending;

	if ((rc = store_op_rec_get(st, txn, DBI_KEYS, a->id, NULL, &r)) != 0)
		return (rc);
	pending = r.state == WORLD_KEY_PENDING_DELETION;
	if (a->step == DEL_SCHEDULE && pending)
		rc = store_seterr(st, STORE_EINVAL, "the deletion of key %s is "
		    "already scheduled", a->id);
	else if (a->step == DEL_CANCEL && !pending)
		rc = store_seterr(st, STORE_EINVAL, "key %s is not "
		    "PendingDeletion", a->id);
	else if (a->step == DEL_EXPIRE && (!pending ||
	    (rc = store_op_rec_get(st, txn, DBI_DELETIONS, a->id, NULL,
	    &when)) == STORE_ENOTFOUND))
		rc = store_seterr(st, STORE_ENOTFOUND, "no deletion of key %s "
		    "is scheduled", a->id);
	else if (a->step == DEL_EXPIRE && rc == STORE_OK && when > a->when_ms)
		rc = store_seterr(st, STORE_EINVAL, "the deletion of key %s "
		    "is not due before %lld ms", a->id, (long long)when);
	if (rc == STORE_OK)
		rc = key_instance_ok(st, txn, &r);
	if (rc != STORE_OK)
		goto out;
	switch (a->step) {
	case DEL_SCHEDULE:
		r.state = WORLD_KEY_PENDING_DELETION;
		if ((rc = store_op_rec_put(st, txn, DBI_KEYS, a->id, NULL, &r,
		    0)) == STORE_OK)
			rc = store_op_rec_put(st, txn, DBI_DELETIONS, a->id,
			    NULL, &a->when_ms, 0);
		break;
	case DEL_CANCEL:
		r.state = WORLD_KEY_ENABLED;
		if ((rc = store_op_rec_put(st, txn, DBI_KEYS, a->id, NULL, &r,
		    0)) == STORE_OK &&
		    (rc = store_op_rec_del(st, txn, DBI_DELETIONS, a->id, NULL,
		    NULL)) == STORE_ENOTFOUND)
			rc = store_seterr(st, STORE_ECORRUPT, "%s: key %s is "
			    "PendingDeletion without a deletion time", st->dir,
			    a->id);
		break;
	case DEL_EXPIRE:
		rc = key_remove(st, txn, a->id, &r);
		break;
	}
out:
	store_keyrec_free(&r);
	return (rc);
}

int
store_key_schedule_deletion(struct store *st, const char *id,
    int64_t when_ms, uint64_t *genp)
{
	struct key_args	 a = { .id = id, .step = DEL_SCHEDULE,
			    .when_ms = when_ms };

	return (store_op_change(st, key_ok, op_deletion, &a, genp));
}

int
store_key_cancel_deletion(struct store *st, const char *id, uint64_t *genp)
{
	struct key_args	 a = { .id = id, .step = DEL_CANCEL };

	return (store_op_change(st, key_ok, op_deletion, &a, genp));
}

int
store_key_expire(struct store *st, const char *id, int64_t now_ms,
    uint64_t *genp)
{
	struct key_args	 a = { .id = id, .step = DEL_EXPIRE,
			    .when_ms = now_ms };

	return (store_op_change(st, key_ok, op_deletion, &a, genp));
}

int
store_key_deletion_get(struct store *st, const char *id, int64_t *whenp)
{
	MDB_txn	*txn;
	int	 rc;

	if ((rc = store_op_id_ok(st, "key id", id)) || (rc = store_rtxn(st,
	    &txn)))
		return (rc);
	if ((rc = store_op_rec_get(st, txn, DBI_DELETIONS, id, NULL,
	    whenp)) == STORE_ENOTFOUND)
		store_seterr(st, rc, "no deletion of key %s is scheduled", id);
	mdb_txn_abort(txn);
	return (rc);
}

int
store_key_deletions_list(struct store *st, struct store_deletion **vp,
    size_t *np)
{
	struct store_deletion	*v = NULL;
	struct store_rbuf	 b;
	MDB_cursor		*c;
	MDB_txn			*txn;
	MDB_val			 k, d;
	size_t			 n = 0, cap = 0;
	int			 rc, mrc, op;

	*vp = NULL;
	*np = 0;
	if ((rc = store_rtxn(st, &txn)))
		return (rc);
	if ((mrc = mdb_cursor_open(txn, st->dbi[DBI_DELETIONS], &c)) != 0) {
		mdb_txn_abort(txn);
		return (store_err_mdb(st, mrc, "deletions"));
	}
	for (op = MDB_FIRST; (mrc = mdb_cursor_get(c, &k, &d, op)) == 0;
	    op = MDB_NEXT) {
		store_r_init(&b, d.mv_data, d.mv_size);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n].when_ms = (int64_t)store_r_u64(&b);
		if (store_r_end(&b) != 0 || memchr(k.mv_data, '\0',
		    k.mv_size) != NULL) {
			rc = store_seterr(st, STORE_ECORRUPT, "%s: a deletions "
			    "record is malformed", st->dir);
			break;
		}
		v[n].key_id = xmalloc(k.mv_size + 1);
		memcpy(v[n].key_id, k.mv_data, k.mv_size);
		v[n++].key_id[k.mv_size] = '\0';
	}
	if (rc == STORE_OK && mrc != MDB_NOTFOUND)
		rc = store_err_mdb(st, mrc, "deletions");
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	if (rc != STORE_OK) {
		store_key_deletions_free(v, n);
		return (rc);
	}
	*vp = v;
	*np = n;
	return (STORE_OK);
}

void
store_key_deletions_free(struct store_deletion *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].key_id);
	free(v);
}

/*
 * Schema 1 -> 2: the deletions DBI, with a time for every key found
 * PendingDeletion (schema 1 kept none: STORE_DELETION_UNKNOWN_DAYS).
 */
int
store_migrate_deletions(struct store *st, MDB_txn *txn)
{
	struct store_keyrec	 r;
	struct store_wbuf	 w;
	MDB_cursor		*c;
	MDB_dbi			 kd, dd;
	MDB_val			 k, v, dv;
	int64_t			 when;
	int			 mrc, op, rc = STORE_OK;

	if ((mrc = mdb_dbi_open(txn, store_dbi_names[DBI_DELETIONS],
	    MDB_CREATE, &dd)) != 0)
		return (store_err_mdb(st, mrc, "migrating: deletions"));
	if ((mrc = mdb_dbi_open(txn, store_dbi_names[DBI_KEYS], 0, &kd)) != 0)
		return (mrc == MDB_NOTFOUND ? store_seterr(st, STORE_ECORRUPT,
		    "%s: database \"keys\" missing", st->dir) :
		    store_err_mdb(st, mrc, "migrating: keys"));
	if ((mrc = mdb_cursor_open(txn, kd, &c)) != 0)
		return (store_err_mdb(st, mrc, "migrating: keys"));
	when = store_now_ms() + (int64_t)STORE_DELETION_UNKNOWN_DAYS *
	    86400 * 1000;
	store_w_init(&w);
	store_w_u64(&w, (uint64_t)when);
	dv.mv_data = w.p;
	dv.mv_size = w.len;
	for (op = MDB_FIRST; rc == STORE_OK &&
	    (mrc = mdb_cursor_get(c, &k, &v, op)) == 0; op = MDB_NEXT) {
		if (store_keyrec_decode(&v, &r) != 0) {
			rc = store_seterr(st, STORE_ECORRUPT, "%s: keys \"%.*s\": "
			    "malformed", st->dir, (int)k.mv_size,
			    (const char *)k.mv_data);
			break;
		}
		if (r.state == WORLD_KEY_PENDING_DELETION &&
		    (mrc = mdb_put(txn, dd, &k, &dv, 0)) != 0)
			rc = store_err_mdb(st, mrc, "migrating: deletions");
		store_keyrec_free(&r);
	}
	if (rc == STORE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = store_err_mdb(st, mrc, "migrating: keys");
	mdb_cursor_close(c);
	store_w_free(&w);
	return (rc);
}

/* A deletion time for exactly the PendingDeletion keys (store_check). */
int
store_deletions_check(struct store *st, MDB_txn *txn)
{
	struct store_keyrec	 r;
	MDB_cursor		*c;
	MDB_val			 k, v, dv;
	int			 mrc, op, rc = STORE_OK, pending, has;

	if ((mrc = mdb_cursor_open(txn, st->dbi[DBI_KEYS], &c)) != 0)
		return (store_err_mdb(st, mrc, "keys"));
	for (op = MDB_FIRST; rc == STORE_OK &&
	    (mrc = mdb_cursor_get(c, &k, &v, op)) == 0; op = MDB_NEXT) {
		if (store_keyrec_decode(&v, &r) != 0) {
			rc = STORE_ECORRUPT;
			break;
		}
		pending = r.state == WORLD_KEY_PENDING_DELETION;
		store_keyrec_free(&r);
		mrc = mdb_get(txn, st->dbi[DBI_DELETIONS], &k, &dv);
		if (mrc != 0 && mrc != MDB_NOTFOUND)
			break;
		has = mrc == 0;
		mrc = 0;
		if (has && dv.mv_size != 8)
			rc = store_seterr(st, STORE_ECORRUPT, "%s: deletions "
			    "\"%.*s\": malformed", st->dir, (int)k.mv_size,
			    (const char *)k.mv_data);
		else if (pending != has)
			rc = store_seterr(st, STORE_ECORRUPT, "%s: key \"%.*s\" "
			    "is %s a deletion time", st->dir, (int)k.mv_size,
			    (const char *)k.mv_data, pending ?
			    "PendingDeletion without" : "not PendingDeletion but "
			    "has");
	}
	mdb_cursor_close(c);
	if (rc == STORE_ECORRUPT && store_errbuf()[0] == '\0')
		return (store_seterr(st, rc, "%s: a keys record is malformed",
		    st->dir));
	if (rc == STORE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		return (store_err_mdb(st, mrc, "checking deletions"));
	if (rc != STORE_OK)
		return (rc);
	/* Every deletion time names a key. */
	if ((mrc = mdb_cursor_open(txn, st->dbi[DBI_DELETIONS], &c)) != 0)
		return (store_err_mdb(st, mrc, "deletions"));
	for (op = MDB_FIRST; rc == STORE_OK &&
	    (mrc = mdb_cursor_get(c, &k, &dv, op)) == 0; op = MDB_NEXT)
		if (mdb_get(txn, st->dbi[DBI_KEYS], &k, &v) != 0)
			rc = store_seterr(st, STORE_ECORRUPT, "%s: deletion "
			    "time of a missing key \"%.*s\"", st->dir,
			    (int)k.mv_size, (const char *)k.mv_data);
	mdb_cursor_close(c);
	return (rc);
}

static int
op_key_policy(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct key_args	*a = o->args;
	struct store_keyrec	 r;
	struct store_instrec	 ir;
	struct store_kprec	 kp;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_KEYS, a->id, NULL, &r)) != 0)
		return (rc);
	if (r.instance == NULL) {
		rc = store_seterr(st, STORE_EUNSUPPORTED, "key %s is outside "
		    "any KMS instance and has no key policy", a->id);
		goto out;
	}
	if ((rc = key_instance_ok(st, txn, &r)) != 0 ||
	    (rc = store_op_rec_get(st, txn, DBI_INSTANCES, r.instance, NULL,
	    &ir)) != 0)
		goto out;
	if ((rc = share_check(st, wt, r.instance, a->id, o->cp,
	    r.creator,
	    ir.quota)) != 0)
		goto out;
	rc = store_op_rec_get(st, txn, DBI_KEYPOLICIES, a->id, NULL, &kp);
	if (rc == STORE_ENOTFOUND)
		rc = store_seterr(st, STORE_ECORRUPT, "%s: key %s has no "
		    "key policy record", st->dir, a->id);
	if (rc == STORE_OK) {
		rc = store_op_kp_put(st, txn, a->id, kp.version + 1, a->text,
		    a->len);
		store_op_seed(o, POLICY_KIND_KEY, a->text, a->len);
	}
out:
	store_keyrec_free(&r);
	return (rc);
}

int
store_key_policy_set(struct store *st, const char *key_id, const char *text,
    size_t len, struct policy_diags *diags, uint64_t *genp)
{
	struct key_args	 a = { .id = key_id, .text = text, .len = len,
			    .diags = diags };

	return (store_op_change(st, key_ok, op_key_policy, &a, genp));
}

int
store_key_policy_get(struct store *st, const char *key_id,
    struct store_key_policy *out)
{
	struct store_kprec	 kp;
	struct store_keyrec	 r;
	MDB_txn			*txn;
	int			 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_op_id_ok(st, "key id", key_id)) || (rc = store_rtxn(st,
	    &txn)))
		return (rc);
	if ((rc = store_op_rec_get(st, txn, DBI_KEYS, key_id, NULL, &r)) != 0) {
		mdb_txn_abort(txn);
		return (rc);
	}
	store_keyrec_free(&r);
	rc = store_op_rec_get(st, txn, DBI_KEYPOLICIES, key_id, NULL, &kp);
	if (rc == STORE_ENOTFOUND)
		rc = store_seterr(st, STORE_EUNSUPPORTED, "key %s is outside "
		    "any KMS instance and has no key policy", key_id);
	if (rc == STORE_OK) {
		out->text = xmalloc(kp.len + 1);
		memcpy(out->text, kp.text, kp.len);
		out->text[kp.len] = '\0';
		out->len = kp.len;
		out->version = kp.version;
		out->set_time_ms = kp.time_ms;
		memcpy(out->digest, kp.digest, 32);
	}
	mdb_txn_abort(txn);
	return (rc);
}

void
store_key_policy_free(struct store_key_policy *p)
{
	free(p->text);
	memset(p, 0, sizeof(*p));
}

/* --- tags --------------------------------------------------------- */

/*
 * After a tag change: no two tags of key id may differ only in case (a
 * condition could not tell them apart; docs/semantics.md "Tags").
 */
static int
tags_case_ok(struct store *st, MDB_txn *txn, const char *id)
{
	struct world_tag	*tags;
	size_t			 i, j, n;
	int			 rc;

	if ((rc = store_tags_read(st, txn, id, &tags, &n)) != 0)
		return (rc);
	for (i = 0; i < n && rc == STORE_OK; i++)
		for (j = 0; j < i && rc == STORE_OK; j++)
			if (world_tag_key_same(tags[i].key, tags[j].key))
				rc = store_seterr(st, STORE_EINVAL, "key %s: "
				    "tag keys %s and %s differ only in case",
				    id, tags[j].key, tags[i].key);
	store_tags_free(tags, n);
	return (rc);
}

int
store_op_tag_ok(struct store *st, const char *tag, const char *value)
{
	int	 rc;

	if ((rc = store_op_id_ok(st, "tag key", tag)))
		return (rc);
	if (strlen(tag) > STORE_TAG_KEY_MAX || (value != NULL &&
	    strlen(value) > STORE_TAG_VALUE_MAX))
		return (store_seterr(st, STORE_EINVAL, "a tag key is 1-%d and "
		    "a value 0-%d bytes", STORE_TAG_KEY_MAX,
		    STORE_TAG_VALUE_MAX));
	return (STORE_OK);
}

static int
op_tags(struct store *st, MDB_txn *txn, struct world_txn *wt, struct op *o)
{
	const struct key_args	*a = o->args;
	struct store_keyrec	 r;
	struct store_wbuf	 k;
	size_t			 i, n;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_KEYS, a->id, NULL, &r)) != 0)
		return (rc);
	if ((rc = key_instance_ok(st, txn, &r)) != 0)
		goto out;
	store_w_init(&k);
	for (i = 0; i < a->n && rc == STORE_OK; i++) {
		store_key(&k, a->id, a->tags[i].key, NULL);
		if (a->tags[i].value == NULL) {
			if ((rc = store_op_db_del(st, txn, DBI_TAGS, &k)) ==
			    STORE_ENOTFOUND)
				rc = STORE_OK;
		} else
			rc = store_op_db_put(st, txn, DBI_TAGS, &k,
			    a->tags[i].value,
			    strlen(a->tags[i].value), 0);
	}
	/* The limit holds for the result, whatever the order of entries. */
	if (rc == STORE_OK) {
		store_key(&k, a->id, "", NULL);
		rc = store_op_db_count_prefix(st, txn, DBI_TAGS, k.p, k.len,
		    &n);
		if (rc == STORE_OK && n > STORE_TAGS_MAX)
			rc = store_seterr(st, STORE_ELIMIT, "key %s would have "
			    "%zu tags; at most %d", a->id, n, STORE_TAGS_MAX);
	}
	if (rc == STORE_OK)
		rc = tags_case_ok(st, txn, a->id);
	store_w_free(&k);
out:
	store_keyrec_free(&r);
	return (rc);
}

/*
 * What the changes of an existing key check first (store_op_change's
 * prep): its id, then what the call sets (a state, a key policy, which
 * is compiled here, tags).
 */
static int
key_ok(struct store *st, struct op *o)
{
	const struct key_args	*a = o->args;
	size_t			 i;
	int			 rc;

	if ((rc = store_op_id_ok(st, "key id", a->id)))
		return (rc);
	if (o->plan == op_key_state)
		return (store_op_key_state_ok(st, a->state));
	if (o->plan == op_key_policy)
		return (store_op_compile(st, POLICY_KIND_KEY, a->text, a->len,
		    a->diags, &o->cp));
	if (o->plan != op_tags)
		return (STORE_OK);
	if (a->n == 0)
		return (store_seterr(st, STORE_EINVAL, "no tags"));
	for (i = 0; i < a->n; i++)
		if ((rc = store_op_tag_ok(st, a->tags[i].key,
		    a->tags[i].value)))
			return (rc);
	return (STORE_OK);
}

int
store_tags_change(struct store *st, const char *key_id,
    const struct store_tag *tags, size_t n, uint64_t *genp)
{
	struct key_args	 a = { .id = key_id, .tags = tags, .n = n };

	return (store_op_change(st, key_ok, op_tags, &a, genp));
}

/* --- aliases ------------------------------------------------------ */

static int
op_alias(struct store *st, MDB_txn *txn, struct world_txn *wt, struct op *o)
{
	const struct alias_args	*a = o->args;
	struct store_keyrec	 r;
	struct store_wbuf	 k;
	MDB_val			 v;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_KEYS, a->key_id, NULL,
	    &r)) != 0)
		return (rc);
	store_w_init(&k);
	store_key(&k, r.region, r.creator, a->name);
	rc = store_op_db_get(st, txn, DBI_ALIASES, &k, &v);
	if (!a->update && rc == STORE_OK)
		rc = store_seterr(st, STORE_EEXIST, "alias %s already exists "
		    "in %s/%s", a->name, r.region, r.creator);
	else if (a->update && rc == STORE_ENOTFOUND)
		rc = store_seterr(st, rc, "no alias %s in %s/%s", a->name,
		    r.region, r.creator);
	else if (rc == STORE_ENOTFOUND || rc == STORE_OK)
		rc = STORE_OK;
	if (rc == STORE_OK)
		rc = store_op_db_put(st, txn, DBI_ALIASES, &k, a->key_id,
		    strlen(a->key_id), 0);
	store_w_free(&k);
	store_keyrec_free(&r);
	return (rc);
}

int
store_op_alias_name_ok(struct store *st, const char *name)
{
	int	 rc;

	if ((rc = store_op_id_ok(st, "alias name", name)) != 0)
		return (rc);
	if (!ident_alias(name, strlen(name)))
		return (store_seterr(st, STORE_EINVAL, "alias name %s: not "
		    "\"alias/NAME\"", name));
	return (STORE_OK);
}

static int
op_alias_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct alias_args	*a = o->args;
	int			 rc;

	rc = store_op_rec_del(st, txn, DBI_ALIASES, a->region, a->account,
	    a->name);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "no alias %s in %s/%s", a->name,
		    a->region, a->account));
	return (rc);
}

/*
 * What the alias changes check first: its name, then its key's id, or
 * for a delete the region and account it is in.
 */
static int
alias_ok(struct store *st, struct op *o)
{
	const struct alias_args	*a = o->args;
	int			 rc;

	if ((rc = store_op_alias_name_ok(st, a->name)))
		return (rc);
	if (o->plan != op_alias_delete)
		return (store_op_id_ok(st, "key id", a->key_id));
	if ((rc = store_op_id_ok(st, "region", a->region)))
		return (rc);
	return (store_op_id_ok(st, "account", a->account));
}

int
store_alias_create(struct store *st, const char *name, const char *key_id,
    uint64_t *genp)
{
	struct alias_args a = { .name = name, .key_id = key_id };

	return (store_op_change(st, alias_ok, op_alias, &a, genp));
}

int
store_alias_update(struct store *st, const char *name, const char *key_id,
    uint64_t *genp)
{
	struct alias_args a = { .name = name, .key_id = key_id, .update = 1 };

	return (store_op_change(st, alias_ok, op_alias, &a, genp));
}

int
store_alias_delete(struct store *st, const char *region, const char *account,
    const char *name, uint64_t *genp)
{
	struct alias_args a = { .name = name, .region = region,
			    .account = account };

	return (store_op_change(st, alias_ok, op_alias_delete, &a, genp));
}


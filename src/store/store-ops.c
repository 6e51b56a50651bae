/*
 * store-ops.c: the changes, one function each.  Every change checks its
 * preconditions against the store, writes its records and puts what
 * changed into the world transaction, all inside store_write's single
 * write transaction; documents are validated and compiled before it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/cpolicy.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy-compile.h"
#include "store/store-int.h"

/* One change's arguments (which fields mean what: see each op). */
struct op {
	const char		*id;
	const char		*a;
	const char		*b;
	const char		*c;
	const char		*text;
	size_t			 len;
	int			 state;
	uint32_t		 num;
	int			 flag;
	enum store_principal	 kind;
	struct cpolicy		*cp;
	int64_t			 when;		/* deletion time, ms */
	uint32_t		 version;	/* out */
	const struct bundle	*bundle;
	const struct store_tag	*tags;
	size_t			 ntags;
	struct pcache		 cache;
};

static int	tag_ok(struct store *, const char *, const char *);
static int	bundle_ok(struct store *, const struct bundle *);

static const int prin_dbi[] = { DBI_USERS, DBI_ROLES, DBI_GROUPS };
static const char *const prin_name[] = { "user", "role", "group" };

/* --- small helpers ------------------------------------------------ */

static int
id_ok(struct store *st, const char *what, const char *s)
{
	size_t	 n;

	if (s == NULL || (n = strlen(s)) == 0)
		return (store_seterr(st, STORE_EINVAL, "%s: empty", what));
	if (n > STORE_ID_MAX)
		return (store_seterr(st, STORE_EINVAL, "%s: longer than %d "
		    "bytes", what, STORE_ID_MAX));
	return (STORE_OK);
}

static int
db_get(struct store *st, MDB_txn *txn, int dbi, const struct store_wbuf *k,
    MDB_val *v)
{
	MDB_val	 kv;
	int	 rc;

	kv.mv_data = k->p;
	kv.mv_size = k->len;
	if (k->len > (size_t)mdb_env_get_maxkeysize(st->env))
		return (STORE_ENOTFOUND);	/* could never be stored */
	if ((rc = mdb_get(txn, st->dbi[dbi], &kv, v)) == MDB_NOTFOUND)
		return (STORE_ENOTFOUND);
	if (rc != 0)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	return (STORE_OK);
}

static int
db_put(struct store *st, MDB_txn *txn, int dbi, const struct store_wbuf *k,
    const void *v, size_t vlen, unsigned int flags)
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
	return (STORE_OK);
}

static int
db_del(struct store *st, MDB_txn *txn, int dbi, const struct store_wbuf *k)
{
	MDB_val	 kv;
	int	 rc;

	kv.mv_data = k->p;
	kv.mv_size = k->len;
	if ((rc = mdb_del(txn, st->dbi[dbi], &kv, NULL)) == MDB_NOTFOUND)
		return (STORE_ENOTFOUND);
	if (rc != 0)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	return (STORE_OK);
}

/*
 * One record by its composite key (a, b, c joined as store_key joins
 * them): read, write and delete.  STORE_ENOTFOUND comes back without a
 * message; the caller names what is missing.  rec_put consumes v.
 */
static int
rec_get(struct store *st, MDB_txn *txn, int dbi, const char *a,
    const char *b, const char *c, MDB_val *v)
{
	struct store_wbuf	 k;
	int			 rc;

	store_w_init(&k);
	store_key(&k, a, b, c);
	rc = db_get(st, txn, dbi, &k, v);
	store_w_free(&k);
	return (rc);
}

static int
rec_put(struct store *st, MDB_txn *txn, int dbi, const char *a,
    const char *b, const char *c, struct store_wbuf *v, unsigned int flags)
{
	struct store_wbuf	 k;
	int			 rc;

	store_w_init(&k);
	store_key(&k, a, b, c);
	rc = db_put(st, txn, dbi, &k, v->p, v->len, flags);
	store_w_free(&k);
	store_w_free(v);
	return (rc);
}

static int
rec_del(struct store *st, MDB_txn *txn, int dbi, const char *a,
    const char *b, const char *c)
{
	struct store_wbuf	 k;
	int			 rc;

	store_w_init(&k);
	store_key(&k, a, b, c);
	rc = db_del(st, txn, dbi, &k);
	store_w_free(&k);
	return (rc);
}

/*
 * Every change: fn over o in store_write's one write transaction (from
 * the empty world when o carries a whole bundle), then what o holds (the
 * compiled document, the policy cache) is released.
 */
static int
change(struct store *st, store_write_fn fn, struct op *o, uint64_t *genp)
{
	int	 rc;

	rc = store_write(st, fn, o, o->bundle != NULL, genp);
	if (o->cp != NULL)
		cpolicy_unref(o->cp);
	pcache_free(&o->cache);
	return (rc);
}

/* Deletes every record whose key starts with prefix (plen bytes). */
static int
db_del_prefix(struct store *st, MDB_txn *txn, int dbi, const void *prefix,
    size_t plen)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[dbi], &c)) != 0)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= plen &&
	    memcmp(k.mv_data, prefix, plen) == 0) {
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
static int
db_count_prefix(struct store *st, MDB_txn *txn, int dbi, const void *prefix,
    size_t plen, size_t *np)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc, op = MDB_SET_RANGE;

	*np = 0;
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

static int
nomem(struct store *st)
{
	return (store_seterr(st, STORE_ENOMEM, "out of memory"));
}

/* The key record of id (STORE_ENOTFOUND with a message). */
static int
key_get(struct store *st, MDB_txn *txn, const char *id,
    struct store_keyrec *r)
{
	MDB_val			 v;
	int			 rc;

	rc = rec_get(st, txn, DBI_KEYS, id, NULL, NULL, &v);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "no such key: %s", id));
	if (rc != STORE_OK)
		return (rc);
	if (store_keyrec_decode(&v, r) != 0)
		return (store_seterr(st, STORE_ECORRUPT, "%s: keys \"%s\": "
		    "malformed", st->dir, id));
	return (STORE_OK);
}

static int
key_put(struct store *st, MDB_txn *txn, const char *id,
    const struct store_keyrec *r, unsigned int flags)
{
	struct store_wbuf	 v;
	int			 rc;

	store_w_init(&v);
	store_keyrec_encode(&v, r);
	rc = rec_put(st, txn, DBI_KEYS, id, NULL, NULL, &v, flags);
	if (rc == STORE_EEXIST)
		return (store_seterr(st, rc, "key %s already exists", id));
	return (rc);
}

/* Key changes need the key's instance to be Enabled (section 5). */
static int
key_instance_ok(struct store *st, struct world_txn *wt,
    const struct store_keyrec *r)
{
	struct world_instance	 wi;

	if (r->instance == NULL)
		return (STORE_OK);
	if (world_get_instance(world_txn_view(wt), r->instance,
	    strlen(r->instance), &wi) != 0)
		return (store_seterr(st, STORE_ECORRUPT, "%s: instance %s of "
		    "a key is missing", st->dir, r->instance));
	if (wi.state != WORLD_INSTANCE_ENABLED)
		return (store_seterr(st, STORE_ESTATE, "instance %s is %s",
		    r->instance, world_instance_state_name(wi.state)));
	return (STORE_OK);
}

/*
 * Puts key id into the world as the txn now stores it; with the
 * compiled policy cp, or (keep) the one the world has.
 */
static int
key_reput(struct store *st, MDB_txn *txn, struct world_txn *wt,
    const char *id, const struct store_keyrec *r, const struct cpolicy *cp,
    int keep)
{
	struct world_key	 wk;
	struct world_tag	*tags;
	struct cpolicy		*ref = NULL;
	size_t			 ntags;
	int			 rc, wrc;

	if ((rc = store_tags_read(st, txn, id, &tags, &ntags)) != 0)
		return (rc);
	if (keep && world_get_key(world_txn_view(wt), id, strlen(id),
	    &wk) == 0 && wk.policy != NULL)
		cp = ref = cpolicy_ref(wk.policy);
	wrc = world_txn_put_key(wt, id, r->region, r->creator, r->instance,
	    r->state, tags, ntags, cp);
	if (wrc != 0)
		rc = errno == ENOMEM ? nomem(st) : store_seterr(st,
		    STORE_EINVAL, "key %s: rejected by the world", id);
	if (ref != NULL)
		cpolicy_unref(ref);
	store_tags_free(tags, ntags);
	return (rc);
}

static int
kp_put(struct store *st, MDB_txn *txn, const char *id, uint64_t version,
    const char *text, size_t len)
{
	struct store_kprec	 r;
	struct store_wbuf	 v;

	r.version = version;
	r.time_ms = store_now_ms();
	store_digest(text, len, r.digest);
	r.text = text;
	r.len = len;
	store_w_init(&v);
	store_kprec_encode(&v, &r);
	return (rec_put(st, txn, DBI_KEYPOLICIES, id, NULL, NULL, &v, 0));
}

/*
 * The share quota of instance with key skip's policy replaced by extra
 * (O(accounts the two name): the world's per-instance index).  A policy
 * that names no foreign account the key's current one does not cannot
 * raise the count and is not counted.
 */
static int
share_check(struct store *st, struct world_txn *wt, const char *instance,
    const char *skip, const struct cpolicy *extra, const char *account,
    uint32_t quota)
{
	size_t	 n;
	int	 grows;

	if (skip != NULL && extra != NULL) {
		if ((grows = world_key_share_grows(world_txn_view(wt), skip,
		    extra, account)) == -1)
			return (nomem(st));
		if (!grows)
			return (STORE_OK);
	}
	if (world_instance_share_count(world_txn_view(wt), instance, skip,
	    extra, account, &n) != 0)
		return (nomem(st));
	if (n > quota)
		return (store_seterr(st, STORE_EQUOTA, "instance %s: %zu "
		    "foreign accounts would exceed its share quota of %u",
		    instance, n, quota));
	return (STORE_OK);
}

static int
compile(struct store *st, enum policy_kind kind, const char *text,
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

/* --- instances ---------------------------------------------------- */

static int
inst_get(struct store *st, MDB_txn *txn, const char *id,
    struct store_instrec *r)
{
	MDB_val			 v;
	int			 rc;

	rc = rec_get(st, txn, DBI_INSTANCES, id, NULL, NULL, &v);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "no such instance: %s", id));
	if (rc == STORE_OK && store_instrec_decode(&v, r) != 0)
		rc = store_seterr(st, STORE_ECORRUPT, "%s: instances \"%s\": "
		    "malformed", st->dir, id);
	return (rc);
}

static int
inst_put(struct store *st, MDB_txn *txn, struct world_txn *wt,
    const char *id, const struct store_instrec *r, unsigned int flags)
{
	struct store_wbuf	 v;
	int			 rc;

	store_w_init(&v);
	store_instrec_encode(&v, r);
	rc = rec_put(st, txn, DBI_INSTANCES, id, NULL, NULL, &v, flags);
	if (rc == STORE_EEXIST)
		return (store_seterr(st, rc, "instance %s already exists",
		    id));
	if (rc == STORE_OK && world_txn_put_instance(wt, id, r->state,
	    r->quota, r->account[0] != '\0' ? r->account : NULL) != 0)
		rc = nomem(st);
	return (rc);
}

static int
op_instance_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_instrec	 r = { o->state, o->num, "" };

	if (o->a != NULL)
		snprintf(r.account, sizeof(r.account), "%s", o->a);
	return (inst_put(st, txn, wt, o->id, &r, MDB_NOOVERWRITE));
}

static int
state_ok(struct store *st, int state)
{
	if (world_instance_state_name(state) == NULL)
		return (store_seterr(st, STORE_EINVAL, "invalid instance "
		    "state %d", state));
	return (STORE_OK);
}

int
store_instance_create(struct store *st, const char *id, int state,
    uint32_t quota, const char *account, uint64_t *genp)
{
	struct op	 o = { .id = id, .state = state, .num = quota,
			    .a = account };
	int		 rc;

	if ((rc = id_ok(st, "instance id", id)) || (rc = state_ok(st, state)))
		return (rc);
	if (account != NULL && (account[0] == '\0' ||
	    strlen(account) >= sizeof(((struct store_instrec *)0)->account) ||
	    strspn(account, "0123456789") != strlen(account)))
		return (store_seterr(st, STORE_EINVAL, "instance %s: account "
		    "%s is not an account id", id, account));
	return (change(st, op_instance_create, &o, genp));
}

static int
op_instance_set(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_instrec	 r;
	int			 rc;

	if ((rc = inst_get(st, txn, o->id, &r)) != 0)
		return (rc);
	if (o->flag) {
		if ((rc = share_check(st, wt, o->id, NULL, NULL, NULL,
		    o->num)) != 0)
			return (rc);
		r.quota = o->num;
	} else
		r.state = o->state;
	return (inst_put(st, txn, wt, o->id, &r, 0));
}

int
store_instance_state_set(struct store *st, const char *id, int state,
    uint64_t *genp)
{
	struct op	 o = { .id = id, .state = state };
	int		 rc;

	if ((rc = id_ok(st, "instance id", id)) || (rc = state_ok(st, state)))
		return (rc);
	return (change(st, op_instance_set, &o, genp));
}

int
store_instance_quota_set(struct store *st, const char *id, uint32_t quota,
    uint64_t *genp)
{
	struct op	 o = { .id = id, .num = quota, .flag = 1 };
	int		 rc;

	if ((rc = id_ok(st, "instance id", id)))
		return (rc);
	return (change(st, op_instance_set, &o, genp));
}

static int
inst_has_key(const struct world_key *k, void *arg)
{
	return (k->instance != NULL && strcmp(k->instance, arg) == 0);
}

static int
op_instance_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_instrec	 r;
	int			 rc;

	if ((rc = inst_get(st, txn, o->id, &r)) != 0)
		return (rc);
	if (world_foreach_key(world_txn_view(wt), inst_has_key,
	    (void *)o->id) != 0)
		return (store_seterr(st, STORE_EINUSE, "instance %s still "
		    "holds keys", o->id));
	rc = rec_del(st, txn, DBI_INSTANCES, o->id, NULL, NULL);
	if (rc == STORE_OK && world_txn_del_instance(wt, o->id) != 0)
		rc = nomem(st);
	return (rc);
}

int
store_instance_delete(struct store *st, const char *id, uint64_t *genp)
{
	struct op	 o = { .id = id };
	int		 rc;

	if ((rc = id_ok(st, "instance id", id)))
		return (rc);
	return (change(st, op_instance_delete, &o, genp));
}

/* --- keys --------------------------------------------------------- */

static int
op_key_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_keyrec	 r;
	struct store_instrec	 ir;
	char			*text = NULL;
	int			 rc;

	r.state = o->state;
	r.region = (char *)o->a;
	r.creator = (char *)o->b;
	r.instance = (char *)o->c;
	if (r.instance != NULL) {
		if ((rc = inst_get(st, txn, r.instance, &ir)) != 0)
			return (rc);
		if ((rc = key_instance_ok(st, wt, &r)) != 0)
			return (rc);
	}
	if ((rc = key_put(st, txn, o->id, &r, MDB_NOOVERWRITE)) != 0)
		return (rc);
	if (r.instance != NULL) {
		if ((text = policy_default_key_policy(r.creator)) == NULL)
			return (nomem(st));
		rc = kp_put(st, txn, o->id, 1, text, strlen(text));
		free(text);
		if (rc != 0)
			return (rc);
	}
	return (key_reput(st, txn, wt, o->id, &r, o->cp, 0));
}

static int
key_state_ok(struct store *st, int state)
{
	if (world_key_state_name(state) == NULL)
		return (store_seterr(st, STORE_EINVAL, "invalid key state %d",
		    state));
	return (STORE_OK);
}

int
store_key_create(struct store *st, const char *id, const char *region,
    const char *creator, const char *instance, int state, uint64_t *genp)
{
	struct op	 o = { .id = id, .a = region, .b = creator,
			    .c = instance, .state = state };
	char		*text;
	int		 rc;

	if ((rc = id_ok(st, "key id", id)) ||
	    (rc = id_ok(st, "region", region)) ||
	    (rc = id_ok(st, "creator account", creator)) ||
	    (instance != NULL && (rc = id_ok(st, "instance id", instance))) ||
	    (rc = key_state_ok(st, state)))
		return (rc);
	/* A deletion time comes only with store_key_schedule_deletion. */
	if (state == WORLD_KEY_PENDING_DELETION)
		return (store_seterr(st, STORE_EINVAL, "key %s: a key is not "
		    "created PendingDeletion (that state needs a deletion "
		    "time: schedule the deletion after creating it)", id));
	if (instance != NULL) {
		if ((text = policy_default_key_policy(creator)) == NULL)
			return (nomem(st));
		rc = compile(st, POLICY_KIND_KEY, text, strlen(text), NULL,
		    &o.cp);
		free(text);
		if (rc != 0)
			return (rc);
	}
	return (change(st, op_key_create, &o, genp));
}

static int
op_key_state(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_keyrec	 r;
	int			 rc;

	if ((rc = key_get(st, txn, o->id, &r)) != 0)
		return (rc);
	if (r.state == WORLD_KEY_PENDING_DELETION ||
	    o->state == WORLD_KEY_PENDING_DELETION) {
		/* Only with its deletion time (schedule / cancel). */
		store_keyrec_free(&r);
		return (store_seterr(st, STORE_EINVAL, "key %s: "
		    "PendingDeletion is entered by scheduling a deletion and "
		    "left by cancelling it", o->id));
	}
	r.state = o->state;
	if ((rc = key_instance_ok(st, wt, &r)) == 0 &&
	    (rc = key_put(st, txn, o->id, &r, 0)) == 0)
		rc = key_reput(st, txn, wt, o->id, &r, NULL, 1);
	store_keyrec_free(&r);
	return (rc);
}

int
store_key_state_set(struct store *st, const char *id, int state,
    uint64_t *genp)
{
	struct op	 o = { .id = id, .state = state };
	int		 rc;

	if ((rc = id_ok(st, "key id", id)) || (rc = key_state_ok(st, state)))
		return (rc);
	return (change(st, op_key_state, &o, genp));
}

/*
 * Removes key id (record r) with its key policy, tags and deletion
 * time.  Its aliases refuse the removal (STORE_EINUSE), or with
 * aliases_too go with it.
 */
static int
key_remove(struct store *st, MDB_txn *txn, struct world_txn *wt,
    const char *id, const struct store_keyrec *r, int aliases_too)
{
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
		if (!aliases_too) {
			rc = store_seterr(st, STORE_EINUSE, "key %s still has "
			    "an alias (%.*s)", id, (int)(ck.mv_size - plen),
			    (const char *)ck.mv_data + plen);
			break;
		}
		/* Names cannot hold NUL: the rest of the key is one. */
		names = xreallocarray(names, nnames + 1, sizeof(*names));
		names[nnames] = xmalloc(ck.mv_size - plen + 1);
		memcpy(names[nnames], (const char *)ck.mv_data + plen,
		    ck.mv_size - plen);
		names[nnames++][ck.mv_size - plen] = '\0';
	}
	mdb_cursor_close(c);
	for (i = 0; i < nnames && rc == STORE_OK; i++) {
		rc = rec_del(st, txn, DBI_ALIASES, r->region, r->creator,
		    names[i]);
		if (rc == STORE_OK && world_txn_del_alias(wt, r->region,
		    r->creator, names[i]) != 0)
			rc = nomem(st);
	}
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	if (rc == STORE_OK &&
	    (rc = rec_del(st, txn, DBI_KEYS, id, NULL, NULL)) == STORE_OK) {
		rc = rec_del(st, txn, DBI_KEYPOLICIES, id, NULL, NULL);
		if (rc == STORE_ENOTFOUND)
			rc = STORE_OK;
	}
	if (rc == STORE_OK) {
		rc = rec_del(st, txn, DBI_DELETIONS, id, NULL, NULL);
		if (rc == STORE_ENOTFOUND)
			rc = STORE_OK;
	}
	if (rc == STORE_OK) {
		store_key(&k, id, "", NULL);
		rc = db_del_prefix(st, txn, DBI_TAGS, k.p, k.len);
	}
	store_w_free(&k);
	if (rc == STORE_OK && world_txn_del_key(wt, id) != 0)
		rc = nomem(st);
	return (rc);
}

static int
op_key_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_keyrec	 r;
	int			 rc;

	if ((rc = key_get(st, txn, o->id, &r)) != 0)
		return (rc);
	if ((rc = key_instance_ok(st, wt, &r)) == STORE_OK)
		rc = key_remove(st, txn, wt, o->id, &r, 0);
	store_keyrec_free(&r);
	return (rc);
}

int
store_key_delete(struct store *st, const char *id, uint64_t *genp)
{
	struct op	 o = { .id = id };
	int		 rc;

	if ((rc = id_ok(st, "key id", id)))
		return (rc);
	return (change(st, op_key_delete, &o, genp));
}

/* --- scheduled deletions ----------------------------------------- */

static int
del_put(struct store *st, MDB_txn *txn, const char *id, int64_t when)
{
	struct store_wbuf	 v;

	store_w_init(&v);
	store_w_u64(&v, (uint64_t)when);
	return (rec_put(st, txn, DBI_DELETIONS, id, NULL, NULL, &v, 0));
}

/* The deletion time of id; STORE_ENOTFOUND without a message. */
static int
del_get(struct store *st, MDB_txn *txn, const char *id, int64_t *whenp)
{
	struct store_rbuf	 b;
	MDB_val			 v;
	int			 rc;

	if ((rc = rec_get(st, txn, DBI_DELETIONS, id, NULL, NULL, &v)) != 0)
		return (rc);
	store_r_init(&b, v.mv_data, v.mv_size);
	*whenp = (int64_t)store_r_u64(&b);
	if (store_r_end(&b) != 0)
		return (store_seterr(st, STORE_ECORRUPT, "%s: deletions "
		    "\"%s\": malformed", st->dir, id));
	return (STORE_OK);
}

/* o->flag: 0 schedule (o->when), 1 cancel, 2 expire (o->when: now). */
static int
op_deletion(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_keyrec	 r;
	int64_t			 when = 0;
	int			 rc, pending;

	if ((rc = key_get(st, txn, o->id, &r)) != 0)
		return (rc);
	pending = r.state == WORLD_KEY_PENDING_DELETION;
	if (o->flag == 0 && pending)
		rc = store_seterr(st, STORE_EINVAL, "the deletion of key %s is "
		    "already scheduled", o->id);
	else if (o->flag == 1 && !pending)
		rc = store_seterr(st, STORE_EINVAL, "key %s is not "
		    "PendingDeletion", o->id);
	else if (o->flag == 2 && (!pending ||
	    (rc = del_get(st, txn, o->id, &when)) == STORE_ENOTFOUND))
		rc = store_seterr(st, STORE_ENOTFOUND, "no deletion of key %s "
		    "is scheduled", o->id);
	else if (o->flag == 2 && rc == STORE_OK && when > o->when)
		rc = store_seterr(st, STORE_EINVAL, "the deletion of key %s "
		    "is not due before %lld ms", o->id, (long long)when);
	if (rc == STORE_OK)
		rc = key_instance_ok(st, wt, &r);
	if (rc != STORE_OK)
		goto out;
	switch (o->flag) {
	case 0:
		r.state = WORLD_KEY_PENDING_DELETION;
		if ((rc = key_put(st, txn, o->id, &r, 0)) == STORE_OK &&
		    (rc = del_put(st, txn, o->id, o->when)) == STORE_OK)
			rc = key_reput(st, txn, wt, o->id, &r, NULL, 1);
		break;
	case 1:
		r.state = WORLD_KEY_ENABLED;
		if ((rc = key_put(st, txn, o->id, &r, 0)) == STORE_OK &&
		    (rc = rec_del(st, txn, DBI_DELETIONS, o->id, NULL,
		    NULL)) == STORE_ENOTFOUND)
			rc = store_seterr(st, STORE_ECORRUPT, "%s: key %s is "
			    "PendingDeletion without a deletion time", st->dir,
			    o->id);
		if (rc == STORE_OK)
			rc = key_reput(st, txn, wt, o->id, &r, NULL, 1);
		break;
	default:
		rc = key_remove(st, txn, wt, o->id, &r, 1);
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
	struct op	 o = { .id = id, .when = when_ms, .flag = 0 };
	int		 rc;

	if ((rc = id_ok(st, "key id", id)))
		return (rc);
	return (change(st, op_deletion, &o, genp));
}

int
store_key_cancel_deletion(struct store *st, const char *id, uint64_t *genp)
{
	struct op	 o = { .id = id, .flag = 1 };
	int		 rc;

	if ((rc = id_ok(st, "key id", id)))
		return (rc);
	return (change(st, op_deletion, &o, genp));
}

int
store_key_expire(struct store *st, const char *id, int64_t now_ms,
    uint64_t *genp)
{
	struct op	 o = { .id = id, .when = now_ms, .flag = 2 };
	int		 rc;

	if ((rc = id_ok(st, "key id", id)))
		return (rc);
	return (change(st, op_deletion, &o, genp));
}

int
store_key_deletion_get(struct store *st, const char *id, int64_t *whenp)
{
	MDB_txn	*txn;
	int	 rc;

	if ((rc = id_ok(st, "key id", id)) || (rc = store_rtxn(st, &txn)))
		return (rc);
	if ((rc = del_get(st, txn, id, whenp)) == STORE_ENOTFOUND)
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
	if (rc == STORE_ECORRUPT && st->errmsg[0] == '\0')
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
    void *arg)
{
	struct op		*o = arg;
	struct store_keyrec	 r;
	struct store_instrec	 ir;
	struct store_kprec	 kp;
	MDB_val			 v;
	int			 rc;

	if ((rc = key_get(st, txn, o->id, &r)) != 0)
		return (rc);
	if (r.instance == NULL) {
		rc = store_seterr(st, STORE_EUNSUPPORTED, "key %s is outside "
		    "any KMS instance and has no key policy", o->id);
		goto out;
	}
	if ((rc = key_instance_ok(st, wt, &r)) != 0 ||
	    (rc = inst_get(st, txn, r.instance, &ir)) != 0)
		goto out;
	if ((rc = share_check(st, wt, r.instance, o->id, o->cp, r.creator,
	    ir.quota)) != 0)
		goto out;
	rc = rec_get(st, txn, DBI_KEYPOLICIES, o->id, NULL, NULL, &v);
	if (rc == STORE_OK && store_kprec_decode(&v, &kp) != 0)
		rc = store_seterr(st, STORE_ECORRUPT, "%s: keypolicies "
		    "\"%s\": malformed", st->dir, o->id);
	else if (rc == STORE_ENOTFOUND)
		rc = store_seterr(st, STORE_ECORRUPT, "%s: key %s has no "
		    "key policy record", st->dir, o->id);
	if (rc == STORE_OK &&
	    (rc = kp_put(st, txn, o->id, kp.version + 1, o->text,
	    o->len)) == STORE_OK)
		rc = key_reput(st, txn, wt, o->id, &r, o->cp, 0);
out:
	store_keyrec_free(&r);
	return (rc);
}

int
store_key_policy_set(struct store *st, const char *key_id, const char *text,
    size_t len, struct policy_diags *diags, uint64_t *genp)
{
	struct op	 o = { .id = key_id, .text = text, .len = len };
	int		 rc;

	if ((rc = id_ok(st, "key id", key_id)) ||
	    (rc = compile(st, POLICY_KIND_KEY, text, len, diags, &o.cp)))
		return (rc);
	return (change(st, op_key_policy, &o, genp));
}

int
store_key_policy_get(struct store *st, const char *key_id,
    struct store_key_policy *out)
{
	struct store_kprec	 kp;
	struct store_keyrec	 r;
	MDB_txn			*txn;
	MDB_val			 v;
	int			 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = id_ok(st, "key id", key_id)) || (rc = store_rtxn(st, &txn)))
		return (rc);
	if ((rc = key_get(st, txn, key_id, &r)) != 0) {
		mdb_txn_abort(txn);
		return (rc);
	}
	store_keyrec_free(&r);
	rc = rec_get(st, txn, DBI_KEYPOLICIES, key_id, NULL, NULL, &v);
	if (rc == STORE_ENOTFOUND)
		rc = store_seterr(st, STORE_EUNSUPPORTED, "key %s is outside "
		    "any KMS instance and has no key policy", key_id);
	else if (rc == STORE_OK && store_kprec_decode(&v, &kp) != 0)
		rc = store_seterr(st, STORE_ECORRUPT, "%s: keypolicies "
		    "\"%s\": malformed", st->dir, key_id);
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

static int
op_tag(struct store *st, MDB_txn *txn, struct world_txn *wt, void *arg)
{
	struct op		*o = arg;
	struct store_keyrec	 r;
	struct store_wbuf	 k;
	MDB_val			 v;
	size_t			 n;
	int			 rc;

	if ((rc = key_get(st, txn, o->id, &r)) != 0)
		return (rc);
	if ((rc = key_instance_ok(st, wt, &r)) != 0)
		goto out;
	store_w_init(&k);
	store_key(&k, o->id, o->a, NULL);
	if (o->b == NULL) {
		if ((rc = db_del(st, txn, DBI_TAGS, &k)) == STORE_ENOTFOUND)
			rc = store_seterr(st, rc, "key %s has no tag %s",
			    o->id, o->a);
	} else {
		rc = db_get(st, txn, DBI_TAGS, &k, &v);
		if (rc == STORE_ENOTFOUND) {
			store_key(&k, o->id, "", NULL);
			rc = db_count_prefix(st, txn, DBI_TAGS, k.p, k.len, &n);
			if (rc == STORE_OK && n >= STORE_TAGS_MAX)
				rc = store_seterr(st, STORE_ELIMIT, "key %s "
				    "has %d tags already", o->id,
				    STORE_TAGS_MAX);
			store_key(&k, o->id, o->a, NULL);
		}
		if (rc == STORE_OK)
			rc = db_put(st, txn, DBI_TAGS, &k, o->b, strlen(o->b),
			    0);
		if (rc == STORE_OK)
			rc = tags_case_ok(st, txn, o->id);
	}
	store_w_free(&k);
	if (rc == STORE_OK)
		rc = key_reput(st, txn, wt, o->id, &r, NULL, 1);
out:
	store_keyrec_free(&r);
	return (rc);
}

int
store_tag_set(struct store *st, const char *key_id, const char *tag,
    const char *value, uint64_t *genp)
{
	struct op	 o = { .id = key_id, .a = tag, .b = value };
	int		 rc;

	if ((rc = id_ok(st, "key id", key_id)))
		return (rc);
	if (value == NULL)
		return (store_seterr(st, STORE_EINVAL, "tag %s: no value",
		    tag != NULL ? tag : ""));
	if ((rc = tag_ok(st, tag, value)))
		return (rc);
	return (change(st, op_tag, &o, genp));
}

int
store_tag_unset(struct store *st, const char *key_id, const char *tag,
    uint64_t *genp)
{
	struct op	 o = { .id = key_id, .a = tag, .b = NULL };
	int		 rc;

	if ((rc = id_ok(st, "key id", key_id)) || (rc = id_ok(st, "tag key",
	    tag)))
		return (rc);
	return (change(st, op_tag, &o, genp));
}

static int
tag_ok(struct store *st, const char *tag, const char *value)
{
	int	 rc;

	if ((rc = id_ok(st, "tag key", tag)))
		return (rc);
	if (strlen(tag) > STORE_TAG_KEY_MAX || (value != NULL &&
	    strlen(value) > STORE_TAG_VALUE_MAX))
		return (store_seterr(st, STORE_EINVAL, "a tag key is 1-%d and "
		    "a value 0-%d bytes", STORE_TAG_KEY_MAX,
		    STORE_TAG_VALUE_MAX));
	return (STORE_OK);
}

static int
op_tags(struct store *st, MDB_txn *txn, struct world_txn *wt, void *arg)
{
	struct op		*o = arg;
	struct store_keyrec	 r;
	struct store_wbuf	 k;
	size_t			 i, n;
	int			 rc;

	if ((rc = key_get(st, txn, o->id, &r)) != 0)
		return (rc);
	if ((rc = key_instance_ok(st, wt, &r)) != 0)
		goto out;
	store_w_init(&k);
	for (i = 0; i < o->ntags && rc == STORE_OK; i++) {
		store_key(&k, o->id, o->tags[i].key, NULL);
		if (o->tags[i].value == NULL) {
			if ((rc = db_del(st, txn, DBI_TAGS, &k)) ==
			    STORE_ENOTFOUND)
				rc = STORE_OK;
		} else
			rc = db_put(st, txn, DBI_TAGS, &k, o->tags[i].value,
			    strlen(o->tags[i].value), 0);
	}
	/* The limit holds for the result, whatever the order of entries. */
	if (rc == STORE_OK) {
		store_key(&k, o->id, "", NULL);
		rc = db_count_prefix(st, txn, DBI_TAGS, k.p, k.len, &n);
		if (rc == STORE_OK && n > STORE_TAGS_MAX)
			rc = store_seterr(st, STORE_ELIMIT, "key %s would have "
			    "%zu tags; at most %d", o->id, n, STORE_TAGS_MAX);
	}
	if (rc == STORE_OK)
		rc = tags_case_ok(st, txn, o->id);
	store_w_free(&k);
	if (rc == STORE_OK)
		rc = key_reput(st, txn, wt, o->id, &r, NULL, 1);
out:
	store_keyrec_free(&r);
	return (rc);
}

int
store_tags_change(struct store *st, const char *key_id,
    const struct store_tag *tags, size_t n, uint64_t *genp)
{
	struct op	 o = { .id = key_id, .tags = tags, .ntags = n };
	size_t		 i;
	int		 rc;

	if ((rc = id_ok(st, "key id", key_id)))
		return (rc);
	if (n == 0)
		return (store_seterr(st, STORE_EINVAL, "no tags"));
	for (i = 0; i < n; i++)
		if ((rc = tag_ok(st, tags[i].key, tags[i].value)))
			return (rc);
	return (change(st, op_tags, &o, genp));
}

/* --- aliases ------------------------------------------------------ */

static int
op_alias(struct store *st, MDB_txn *txn, struct world_txn *wt, void *arg)
{
	struct op		*o = arg;
	struct store_keyrec	 r;
	struct store_wbuf	 k;
	MDB_val			 v;
	int			 rc;

	if ((rc = key_get(st, txn, o->a, &r)) != 0)
		return (rc);
	store_w_init(&k);
	store_key(&k, r.region, r.creator, o->id);
	rc = db_get(st, txn, DBI_ALIASES, &k, &v);
	if (o->flag == 0 && rc == STORE_OK)
		rc = store_seterr(st, STORE_EEXIST, "alias %s already exists "
		    "in %s/%s", o->id, r.region, r.creator);
	else if (o->flag == 1 && rc == STORE_ENOTFOUND)
		rc = store_seterr(st, rc, "no alias %s in %s/%s", o->id,
		    r.region, r.creator);
	else if (rc == STORE_ENOTFOUND || rc == STORE_OK)
		rc = STORE_OK;
	if (rc == STORE_OK)
		rc = db_put(st, txn, DBI_ALIASES, &k, o->a, strlen(o->a), 0);
	store_w_free(&k);
	if (rc == STORE_OK && world_txn_put_alias(wt, o->id, o->a) != 0)
		rc = nomem(st);
	store_keyrec_free(&r);
	return (rc);
}

static int
alias_name_ok(struct store *st, const char *name)
{
	int	 rc;

	if ((rc = id_ok(st, "alias name", name)) != 0)
		return (rc);
	if (strncmp(name, "alias/", 6) != 0 || name[6] == '\0')
		return (store_seterr(st, STORE_EINVAL, "alias name %s: not "
		    "\"alias/NAME\"", name));
	return (STORE_OK);
}

int
store_alias_create(struct store *st, const char *name, const char *key_id,
    uint64_t *genp)
{
	struct op	 o = { .id = name, .a = key_id, .flag = 0 };
	int		 rc;

	if ((rc = alias_name_ok(st, name)) || (rc = id_ok(st, "key id",
	    key_id)))
		return (rc);
	return (change(st, op_alias, &o, genp));
}

int
store_alias_update(struct store *st, const char *name, const char *key_id,
    uint64_t *genp)
{
	struct op	 o = { .id = name, .a = key_id, .flag = 1 };
	int		 rc;

	if ((rc = alias_name_ok(st, name)) || (rc = id_ok(st, "key id",
	    key_id)))
		return (rc);
	return (change(st, op_alias, &o, genp));
}

static int
op_alias_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	int			 rc;

	rc = rec_del(st, txn, DBI_ALIASES, o->a, o->b, o->id);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "no alias %s in %s/%s", o->id,
		    o->a, o->b));
	if (rc == STORE_OK && world_txn_del_alias(wt, o->a, o->b, o->id) != 0)
		rc = nomem(st);
	return (rc);
}

int
store_alias_delete(struct store *st, const char *region, const char *account,
    const char *name, uint64_t *genp)
{
	struct op	 o = { .id = name, .a = region, .b = account };
	int		 rc;

	if ((rc = alias_name_ok(st, name)) || (rc = id_ok(st, "region",
	    region)) || (rc = id_ok(st, "account", account)))
		return (rc);
	return (change(st, op_alias_delete, &o, genp));
}

/* --- users, roles, groups ---------------------------------------- */

static int
prin_get(struct store *st, MDB_txn *txn, enum store_principal kind,
    const char *account, const char *name, struct store_prinrec *r)
{
	MDB_val			 v;
	int			 rc;

	rc = rec_get(st, txn, prin_dbi[kind], account, name, NULL, &v);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "no such %s: %s in account %s",
		    prin_name[kind], name, account));
	if (rc == STORE_OK && store_prinrec_decode(&v, kind == STORE_USER,
	    r) != 0)
		rc = store_seterr(st, STORE_ECORRUPT, "%s: %ss \"%s/%s\": "
		    "malformed", st->dir, prin_name[kind], account, name);
	return (rc);
}

/* Writes the record and puts the principal into the world. */
static int
prin_put(struct store *st, MDB_txn *txn, struct world_txn *wt,
    enum store_principal kind, const char *account, const char *name,
    const struct store_prinrec *r, unsigned int flags)
{
	struct store_wbuf	 v;
	const char * const	*g = (const char * const *)r->groups;
	const char * const	*p = (const char * const *)r->policies;
	int			 rc, wrc;

	store_w_init(&v);
	store_prinrec_encode(&v, kind == STORE_USER, r);
	rc = rec_put(st, txn, prin_dbi[kind], account, name, NULL, &v, flags);
	if (rc == STORE_EEXIST)
		return (store_seterr(st, rc, "%s %s already exists in account "
		    "%s", prin_name[kind], name, account));
	if (rc != STORE_OK)
		return (rc);
	if (kind == STORE_USER)
		wrc = world_txn_put_user(wt, account, name, g, r->ngroups, p,
		    r->npolicies);
	else if (kind == STORE_ROLE)
		wrc = world_txn_put_role(wt, account, name, p, r->npolicies);
	else
		wrc = world_txn_put_group(wt, account, name, p, r->npolicies);
	return (wrc != 0 ? nomem(st) : STORE_OK);
}

static int
op_prin_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_prinrec	 r;

	memset(&r, 0, sizeof(r));
	return (prin_put(st, txn, wt, o->kind, o->a, o->id, &r,
	    MDB_NOOVERWRITE));
}

static int
kind_ok(struct store *st, enum store_principal kind)
{
	if (kind != STORE_USER && kind != STORE_ROLE && kind != STORE_GROUP)
		return (store_seterr(st, STORE_EINVAL, "invalid principal "
		    "kind %d", (int)kind));
	return (STORE_OK);
}

int
store_principal_create(struct store *st, enum store_principal kind,
    const char *account, const char *name, uint64_t *genp)
{
	struct op	 o = { .kind = kind, .a = account, .id = name };
	int		 rc;

	if ((rc = kind_ok(st, kind)) || (rc = id_ok(st, "account",
	    account)) || (rc = id_ok(st, "name", name)))
		return (rc);
	return (change(st, op_prin_create, &o, genp));
}

/*
 * Is name (a group when groups, else a policy) still named by a
 * principal of account?  Scans that account's principals only.
 */
static int
account_refers(struct store *st, MDB_txn *txn, const char *account,
    const char *name, int groups, char *who, size_t wholen)
{
	struct store_prinrec	 r;
	struct store_wbuf	 k;
	MDB_cursor		*c;
	MDB_val			 ck, cv;
	int			 kind, rc = STORE_OK, mrc, op;

	store_w_init(&k);
	store_key(&k, account, "", NULL);
	for (kind = 0; kind < 3 && rc == STORE_OK; kind++) {
		if (groups && kind != STORE_USER)
			break;
		if ((mrc = mdb_cursor_open(txn, st->dbi[prin_dbi[kind]],
		    &c)) != 0) {
			rc = store_err_mdb(st, mrc, "principals");
			break;
		}
		ck.mv_data = k.p;
		ck.mv_size = k.len;
		op = MDB_SET_RANGE;
		while (mdb_cursor_get(c, &ck, &cv, op) == 0 &&
		    ck.mv_size >= k.len &&
		    memcmp(ck.mv_data, k.p, k.len) == 0) {
			op = MDB_NEXT;
			if (store_prinrec_decode(&cv, kind == STORE_USER,
			    &r) != 0) {
				rc = STORE_ECORRUPT;
				break;
			}
			if (store_list_find(groups ? r.groups : r.policies,
			    groups ? r.ngroups : r.npolicies, name) != -1) {
				snprintf(who, wholen, "%s %.*s",
				    prin_name[kind], (int)(ck.mv_size - k.len),
				    (const char *)ck.mv_data + k.len);
				rc = STORE_EINUSE;
			}
			store_prinrec_free(&r);
			if (rc != STORE_OK)
				break;
		}
		mdb_cursor_close(c);
	}
	store_w_free(&k);
	if (rc == STORE_ECORRUPT)
		return (store_seterr(st, rc, "%s: a principal record of "
		    "account %s is malformed", st->dir, account));
	return (rc);
}

static int
op_prin_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_prinrec	 r;
	char			 who[300];
	int			 rc, wrc;

	if ((rc = prin_get(st, txn, o->kind, o->a, o->id, &r)) != 0)
		return (rc);
	store_prinrec_free(&r);
	if (o->kind == STORE_GROUP &&
	    (rc = account_refers(st, txn, o->a, o->id, 1, who,
	    sizeof(who))) != 0) {
		if (rc == STORE_EINUSE)
			store_seterr(st, rc, "group %s still has members (%s)",
			    o->id, who);
		return (rc);
	}
	if ((rc = rec_del(st, txn, prin_dbi[o->kind], o->a, o->id,
	    NULL)) != STORE_OK)
		return (rc);
	if (o->kind == STORE_USER)
		wrc = world_txn_del_user(wt, o->a, o->id);
	else if (o->kind == STORE_ROLE)
		wrc = world_txn_del_role(wt, o->a, o->id);
	else
		wrc = world_txn_del_group(wt, o->a, o->id);
	return (wrc != 0 ? nomem(st) : STORE_OK);
}

int
store_principal_delete(struct store *st, enum store_principal kind,
    const char *account, const char *name, uint64_t *genp)
{
	struct op	 o = { .kind = kind, .a = account, .id = name };
	int		 rc;

	if ((rc = kind_ok(st, kind)) || (rc = id_ok(st, "account",
	    account)) || (rc = id_ok(st, "name", name)))
		return (rc);
	return (change(st, op_prin_delete, &o, genp));
}

/*
 * Adds (flag 1) or removes a name in a principal's list: a group of a
 * user (membership, kind STORE_USER with groups) or a policy of a
 * principal (attachment).  o->a account, o->id principal, o->b name.
 */
static int
op_list(struct store *st, MDB_txn *txn, struct world_txn *wt, void *arg)
{
	struct op		*o = arg;
	struct store_prinrec	 r, g;
	struct store_polrec	 pr;
	MDB_val			 v;
	char			***list;
	size_t			*n;
	int			 rc, groups = o->num;

	if ((rc = prin_get(st, txn, o->kind, o->a, o->id, &r)) != 0)
		return (rc);
	list = groups ? &r.groups : &r.policies;
	n = groups ? &r.ngroups : &r.npolicies;
	if (o->flag) {
		if (groups) {
			rc = prin_get(st, txn, STORE_GROUP, o->a, o->b, &g);
			if (rc == STORE_OK)
				store_prinrec_free(&g);
		} else {
			rc = rec_get(st, txn, DBI_POLICIES, o->a, o->b, NULL,
			    &v);
			if (rc == STORE_OK && store_polrec_decode(&v, &pr) != 0)
				rc = store_seterr(st, STORE_ECORRUPT, "%s: "
				    "policies \"%s/%s\": malformed", st->dir,
				    o->a, o->b);
			if (rc == STORE_ENOTFOUND)
				store_seterr(st, rc, "no such policy: %s in "
				    "account %s", o->b, o->a);
		}
		if (rc == STORE_OK && store_list_find(*list, *n, o->b) != -1)
			rc = store_seterr(st, STORE_EEXIST, "%s %s already "
			    "%s %s", prin_name[o->kind], o->id, groups ?
			    "belongs to group" : "has policy", o->b);
		if (rc == STORE_OK && *n >= STORE_LIST_MAX)
			rc = store_seterr(st, STORE_ELIMIT, "%s %s has %d %s "
			    "already", prin_name[o->kind], o->id,
			    STORE_LIST_MAX, groups ? "groups" : "policies");
		if (rc == STORE_OK)
			store_list_add(list, n, o->b);
	} else if (store_list_del(list, n, o->b) != 0)
		rc = store_seterr(st, STORE_ENOTFOUND, "%s %s %s %s",
		    prin_name[o->kind], o->id, groups ?
		    "does not belong to group" : "has no policy", o->b);
	if (rc == STORE_OK)
		rc = prin_put(st, txn, wt, o->kind, o->a, o->id, &r, 0);
	store_prinrec_free(&r);
	return (rc);
}

static int
list_change(struct store *st, enum store_principal kind, const char *account,
    const char *principal, const char *name, int groups, int add,
    uint64_t *genp)
{
	struct op	 o = { .kind = kind, .a = account, .id = principal,
			    .b = name, .num = groups, .flag = add };
	int		 rc;

	if ((rc = kind_ok(st, kind)) || (rc = id_ok(st, "account",
	    account)) || (rc = id_ok(st, "name", principal)) ||
	    (rc = id_ok(st, groups ? "group" : "policy name", name)))
		return (rc);
	return (change(st, op_list, &o, genp));
}

int
store_membership_add(struct store *st, const char *account, const char *user,
    const char *group, uint64_t *genp)
{
	return (list_change(st, STORE_USER, account, user, group, 1, 1, genp));
}

int
store_membership_remove(struct store *st, const char *account,
    const char *user, const char *group, uint64_t *genp)
{
	return (list_change(st, STORE_USER, account, user, group, 1, 0, genp));
}

int
store_attach(struct store *st, enum store_principal kind, const char *account,
    const char *principal, const char *policy, uint64_t *genp)
{
	return (list_change(st, kind, account, principal, policy, 0, 1, genp));
}

int
store_detach(struct store *st, enum store_principal kind, const char *account,
    const char *principal, const char *policy, uint64_t *genp)
{
	return (list_change(st, kind, account, principal, policy, 0, 0, genp));
}

/* --- RAM policies ------------------------------------------------- */

static int
pol_get(struct store *st, MDB_txn *txn, const char *account,
    const char *name, struct store_polrec *r)
{
	MDB_val			 v;
	int			 rc;

	rc = rec_get(st, txn, DBI_POLICIES, account, name, NULL, &v);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "no such policy: %s in account "
		    "%s", name, account));
	if (rc == STORE_OK && store_polrec_decode(&v, r) != 0)
		rc = store_seterr(st, STORE_ECORRUPT, "%s: policies "
		    "\"%s/%s\": malformed", st->dir, account, name);
	return (rc);
}

static int
pol_put(struct store *st, MDB_txn *txn, const char *account,
    const char *name, const struct store_polrec *r, unsigned int flags)
{
	struct store_wbuf	 v;
	int			 rc;

	store_w_init(&v);
	store_polrec_encode(&v, r);
	rc = rec_put(st, txn, DBI_POLICIES, account, name, NULL, &v, flags);
	if (rc == STORE_EEXIST)
		return (store_seterr(st, rc, "policy %s already exists in "
		    "account %s", name, account));
	return (rc);
}

static void
pv_key(struct store_wbuf *k, const char *account, const char *name,
    uint32_t ver)
{
	store_key(k, account, name, "");
	store_w_u32(k, ver);
}

static int
pv_put(struct store *st, MDB_txn *txn, const char *account,
    const char *name, uint32_t ver, const char *text, size_t len)
{
	struct store_pvrec	 r = { store_now_ms(), text, len };
	struct store_wbuf	 k, v;
	int			 rc;

	store_w_init(&k);
	store_w_init(&v);
	pv_key(&k, account, name, ver);
	store_pvrec_encode(&v, &r);
	rc = db_put(st, txn, DBI_POLICYVERSIONS, &k, v.p, v.len,
	    MDB_NOOVERWRITE);
	store_w_free(&k);
	store_w_free(&v);
	return (rc);
}

static int
op_policy_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_polrec	 r = { 1, 1 };
	int			 rc;

	if ((rc = pol_put(st, txn, o->a, o->id, &r, MDB_NOOVERWRITE)) != 0 ||
	    (rc = pv_put(st, txn, o->a, o->id, 1, o->text, o->len)) != 0)
		return (rc);
	if (world_txn_put_policy(wt, o->a, o->id, o->cp) != 0)
		return (nomem(st));
	return (STORE_OK);
}

static int
policy_name_ok(struct store *st, const char *account, const char *name)
{
	int	 rc;

	if ((rc = id_ok(st, "account", account)) ||
	    (rc = id_ok(st, "policy name", name)))
		return (rc);
	if (!policy_name_valid(name, strlen(name)))
		return (store_seterr(st, STORE_EINVAL, "policy name %s: 1-%d "
		    "characters of A-Z a-z 0-9 . -", name, POLICY_NAME_MAX));
	return (STORE_OK);
}

int
store_policy_create(struct store *st, const char *account, const char *name,
    const char *text, size_t len, struct policy_diags *diags,
    uint64_t *genp)
{
	struct op	 o = { .a = account, .id = name, .text = text,
			    .len = len };
	int		 rc;

	if ((rc = policy_name_ok(st, account, name)) ||
	    (rc = compile(st, POLICY_KIND_RAM, text, len, diags, &o.cp)))
		return (rc);
	return (change(st, op_policy_create, &o, genp));
}

static int
op_policy_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_polrec	 r;
	struct store_wbuf	 k;
	char			 who[300];
	int			 rc;

	if ((rc = pol_get(st, txn, o->a, o->id, &r)) != 0)
		return (rc);
	if ((rc = account_refers(st, txn, o->a, o->id, 0, who,
	    sizeof(who))) != 0) {
		if (rc == STORE_EINUSE)
			store_seterr(st, rc, "policy %s is still attached "
			    "(%s)", o->id, who);
		return (rc);
	}
	store_w_init(&k);
	store_key(&k, o->a, o->id, NULL);
	rc = db_del(st, txn, DBI_POLICIES, &k);
	if (rc == STORE_OK) {
		store_key(&k, o->a, o->id, "");
		rc = db_del_prefix(st, txn, DBI_POLICYVERSIONS, k.p, k.len);
	}
	store_w_free(&k);
	if (rc == STORE_OK && world_txn_del_policy(wt, o->a, o->id) != 0)
		rc = nomem(st);
	return (rc);
}

int
store_policy_delete(struct store *st, const char *account, const char *name,
    uint64_t *genp)
{
	struct op	 o = { .a = account, .id = name };
	int		 rc;

	if ((rc = id_ok(st, "account", account)) ||
	    (rc = id_ok(st, "policy name", name)))
		return (rc);
	return (change(st, op_policy_delete, &o, genp));
}

static int
op_version_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_polrec	 r;
	struct store_wbuf	 k;
	size_t			 n;
	int			 rc;

	if ((rc = pol_get(st, txn, o->a, o->id, &r)) != 0)
		return (rc);
	store_w_init(&k);
	store_key(&k, o->a, o->id, "");
	rc = db_count_prefix(st, txn, DBI_POLICYVERSIONS, k.p, k.len, &n);
	store_w_free(&k);
	if (rc != STORE_OK)
		return (rc);
	if (n >= STORE_POLICY_VERSIONS_MAX)
		return (store_seterr(st, STORE_ELIMIT, "policy %s has %d "
		    "versions already; delete one first", o->id,
		    STORE_POLICY_VERSIONS_MAX));
	if (r.last == UINT32_MAX)
		return (store_seterr(st, STORE_ELIMIT, "policy %s: version "
		    "ids exhausted", o->id));
	r.last++;
	if (o->flag)
		r.def = r.last;
	if ((rc = pv_put(st, txn, o->a, o->id, r.last, o->text, o->len)) ||
	    (rc = pol_put(st, txn, o->a, o->id, &r, 0)))
		return (rc);
	o->version = r.last;
	if (o->flag && world_txn_put_policy(wt, o->a, o->id, o->cp) != 0)
		return (nomem(st));
	return (STORE_OK);
}

int
store_policy_version_create(struct store *st, const char *account,
    const char *name, const char *text, size_t len, int set_default,
    struct policy_diags *diags, uint32_t *versionp, uint64_t *genp)
{
	struct op	 o = { .a = account, .id = name, .text = text,
			    .len = len, .flag = set_default != 0 };
	int		 rc;

	if ((rc = id_ok(st, "account", account)) ||
	    (rc = id_ok(st, "policy name", name)) ||
	    (rc = compile(st, POLICY_KIND_RAM, text, len, diags, &o.cp)))
		return (rc);
	rc = change(st, op_version_create, &o, genp);
	if (rc == STORE_OK && versionp != NULL)
		*versionp = o.version;
	return (rc);
}

static int
op_version_default(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_polrec	 r;
	struct store_pvrec	 pv;
	struct store_wbuf	 k;
	struct cpolicy		*cp;
	MDB_val			 v;
	int			 rc;

	if ((rc = pol_get(st, txn, o->a, o->id, &r)) != 0)
		return (rc);
	store_w_init(&k);
	pv_key(&k, o->a, o->id, o->num);
	rc = db_get(st, txn, DBI_POLICYVERSIONS, &k, &v);
	store_w_free(&k);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "policy %s has no version v%u",
		    o->id, o->num));
	if (rc == STORE_OK && store_pvrec_decode(&v, &pv) != 0)
		rc = store_seterr(st, STORE_ECORRUPT, "%s: policyversions "
		    "\"%s/%s/v%u\": malformed", st->dir, o->a, o->id, o->num);
	if (rc != STORE_OK)
		return (rc);
	/* The one policy whose default changes is recompiled. */
	cp = pcache_compile(st, &o->cache, POLICY_KIND_RAM, pv.text, pv.len,
	    NULL, "policy version", o->id, &rc);
	if (cp == NULL)
		return (rc);
	r.def = o->num;
	if ((rc = pol_put(st, txn, o->a, o->id, &r, 0)) == STORE_OK &&
	    world_txn_put_policy(wt, o->a, o->id, cp) != 0)
		rc = nomem(st);
	cpolicy_unref(cp);
	return (rc);
}

int
store_policy_version_set_default(struct store *st, const char *account,
    const char *name, uint32_t version, uint64_t *genp)
{
	struct op	 o = { .a = account, .id = name, .num = version };
	int		 rc;

	if ((rc = id_ok(st, "account", account)) ||
	    (rc = id_ok(st, "policy name", name)))
		return (rc);
	return (change(st, op_version_default, &o, genp));
}

static int
op_version_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	struct store_polrec	 r;
	struct store_wbuf	 k;
	int			 rc;

	if ((rc = pol_get(st, txn, o->a, o->id, &r)) != 0)
		return (rc);
	if (r.def == o->num)
		return (store_seterr(st, STORE_EINUSE, "v%u is the default "
		    "version of policy %s; it cannot be deleted", o->num,
		    o->id));
	store_w_init(&k);
	pv_key(&k, o->a, o->id, o->num);
	rc = db_del(st, txn, DBI_POLICYVERSIONS, &k);
	store_w_free(&k);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "policy %s has no version v%u",
		    o->id, o->num));
	return (rc);
}

int
store_policy_version_delete(struct store *st, const char *account,
    const char *name, uint32_t version, uint64_t *genp)
{
	struct op	 o = { .a = account, .id = name, .num = version };
	int		 rc;

	if ((rc = id_ok(st, "account", account)) ||
	    (rc = id_ok(st, "policy name", name)))
		return (rc);
	return (change(st, op_version_delete, &o, genp));
}

/* --- reads of policy versions ------------------------------------ */

static int
pv_copy(struct store *st, const MDB_val *v, const char *account,
    const char *name, uint32_t id, uint32_t def,
    struct store_policy_version *out)
{
	struct store_pvrec	 pv;

	if (store_pvrec_decode(v, &pv) != 0)
		return (store_seterr(st, STORE_ECORRUPT, "%s: policyversions "
		    "\"%s/%s/v%u\": malformed", st->dir, account, name, id));
	out->id = id;
	out->is_default = id == def;
	out->create_ms = pv.time_ms;
	out->text = xmalloc(pv.len + 1);
	memcpy(out->text, pv.text, pv.len);
	out->text[pv.len] = '\0';
	out->len = pv.len;
	return (STORE_OK);
}

int
store_policy_version_get(struct store *st, const char *account,
    const char *name, uint32_t version, struct store_policy_version *out)
{
	struct store_polrec	 r;
	struct store_wbuf	 k;
	MDB_txn			*txn;
	MDB_val			 v;
	int			 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = id_ok(st, "account", account)) ||
	    (rc = id_ok(st, "policy name", name)) ||
	    (rc = store_rtxn(st, &txn)))
		return (rc);
	if ((rc = pol_get(st, txn, account, name, &r)) == STORE_OK) {
		if (version == 0)
			version = r.def;
		store_w_init(&k);
		pv_key(&k, account, name, version);
		rc = db_get(st, txn, DBI_POLICYVERSIONS, &k, &v);
		store_w_free(&k);
		if (rc == STORE_ENOTFOUND)
			rc = store_seterr(st, rc, "policy %s has no version "
			    "v%u", name, version);
		else if (rc == STORE_OK)
			rc = pv_copy(st, &v, account, name, version, r.def,
			    out);
	}
	mdb_txn_abort(txn);
	return (rc);
}

int
store_policy_versions_list(struct store *st, const char *account,
    const char *name, struct store_policy_version **vp, size_t *np)
{
	struct store_policy_version	*out;
	struct store_polrec		 r;
	struct store_rbuf		 rb;
	struct store_wbuf		 k;
	MDB_cursor			*c = NULL;
	MDB_txn				*txn;
	MDB_val				 ck, cv;
	size_t				 n = 0;
	uint32_t			 id;
	int				 rc, mrc, op = MDB_SET_RANGE;

	*vp = NULL;
	*np = 0;
	if ((rc = id_ok(st, "account", account)) ||
	    (rc = id_ok(st, "policy name", name)) ||
	    (rc = store_rtxn(st, &txn)))
		return (rc);
	/* A sane store has 1-5; one more slot tells a corrupt one. */
	out = xcalloc(STORE_POLICY_VERSIONS_MAX + 1, sizeof(*out));
	store_w_init(&k);
	store_key(&k, account, name, "");
	if ((rc = pol_get(st, txn, account, name, &r)) != STORE_OK)
		goto done;
	if ((mrc = mdb_cursor_open(txn, st->dbi[DBI_POLICYVERSIONS],
	    &c)) != 0) {
		rc = store_err_mdb(st, mrc, "policyversions");
		goto done;
	}
	ck.mv_data = k.p;
	ck.mv_size = k.len;
	while ((mrc = mdb_cursor_get(c, &ck, &cv, op)) == 0 &&
	    ck.mv_size >= k.len && memcmp(ck.mv_data, k.p, k.len) == 0) {
		op = MDB_NEXT;
		store_r_init(&rb, (const unsigned char *)ck.mv_data + k.len,
		    ck.mv_size - k.len);
		id = store_r_u32(&rb);
		if (store_r_end(&rb) != 0 || n == STORE_POLICY_VERSIONS_MAX) {
			rc = store_seterr(st, STORE_ECORRUPT, "%s: "
			    "policyversions of \"%s/%s\": malformed key or "
			    "more than %d versions", st->dir, account, name,
			    STORE_POLICY_VERSIONS_MAX);
			goto done;
		}
		if ((rc = pv_copy(st, &cv, account, name, id, r.def,
		    &out[n])) != STORE_OK)
			goto done;
		n++;
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		rc = store_err_mdb(st, mrc, "policyversions");
done:
	if (c != NULL)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	store_w_free(&k);
	if (rc != STORE_OK) {
		store_policy_versions_free(out, n);
		return (rc);
	}
	*vp = out;
	*np = n;
	return (STORE_OK);
}

void
store_policy_versions_free(struct store_policy_version *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].text);
	free(v);
}

/* --- the whole state ---------------------------------------------- */

/*
 * A bundle policy in the Versions form (bundle_parse checked the rules:
 * 1 to 5, ids unique, one default): each version with its id and
 * CreateDate (the time of import without one); the last id given is
 * the highest.
 */
static int
pv_put_versions(struct store *st, MDB_txn *txn, const struct bundle_policy *p)
{
	const struct bundle_policy_version	*v;
	struct store_polrec	 pr = { 0, 0 };
	struct store_pvrec	 r;
	struct store_wbuf	 k, w;
	size_t			 j;
	int			 rc = STORE_OK;

	if (p->nversions == 0 || p->nversions > STORE_POLICY_VERSIONS_MAX)
		return (store_seterr(st, STORE_ELIMIT, "policy %s: not 1 to "
		    "%d versions", p->name, STORE_POLICY_VERSIONS_MAX));
	for (j = 0; j < p->nversions; j++) {
		if (p->versions[j].is_default == 1)
			pr.def = p->versions[j].id;
		if (p->versions[j].id > pr.last)
			pr.last = p->versions[j].id;
	}
	if (pr.def == 0)
		return (store_seterr(st, STORE_EINVAL, "policy %s: no default "
		    "version", p->name));
	if ((rc = pol_put(st, txn, p->account, p->name, &pr,
	    MDB_NOOVERWRITE)) != 0)
		return (rc);
	store_w_init(&k);
	store_w_init(&w);
	for (j = 0; j < p->nversions && rc == STORE_OK; j++) {
		v = &p->versions[j];
		r.time_ms = v->has_date ? v->create_ms : store_now_ms();
		r.text = v->text;
		r.len = v->len;
		store_w_free(&k);	/* empties it for the next */
		store_w_free(&w);
		pv_key(&k, p->account, p->name, v->id);
		store_pvrec_encode(&w, &r);
		rc = db_put(st, txn, DBI_POLICYVERSIONS, &k, w.p, w.len,
		    MDB_NOOVERWRITE);
		if (rc == STORE_EEXIST)
			rc = store_seterr(st, rc, "policy %s: version v%u twice",
			    p->name, (unsigned)v->id);
	}
	store_w_free(&k);
	store_w_free(&w);
	return (rc);
}

static int
op_replace_all(struct store *st, MDB_txn *txn, struct world_txn *wt,
    void *arg)
{
	struct op		*o = arg;
	const struct bundle	*b = o->bundle;
	struct store_instrec	 ir;
	struct store_keyrec	 kr;
	struct store_polrec	 pr = { 1, 1 };
	struct store_prinrec	 prr;
	struct store_wbuf	 k;
	struct cpolicy		*cp;
	const struct bundle_principal *bp;
	size_t			 i, j, n;
	int			 d, rc = STORE_OK, kind;

	if ((rc = bundle_ok(st, b)) != STORE_OK)
		return (rc);
	for (d = 1; d < DBI_COUNT; d++)
		if ((rc = mdb_drop(txn, st->dbi[d], 0)) != 0)
			return (store_err_mdb(st, rc, "emptying the store"));
	store_w_init(&k);
	for (i = 0; i < b->ninstances && rc == STORE_OK; i++) {
		ir.state = b->instances[i].state;
		ir.quota = b->instances[i].share_quota;
		snprintf(ir.account, sizeof(ir.account), "%s",
		    b->instances[i].account != NULL ?
		    b->instances[i].account : "");
		rc = inst_put(st, txn, wt, b->instances[i].id, &ir,
		    MDB_NOOVERWRITE);
	}
	for (i = 0; i < b->nkeys && rc == STORE_OK; i++) {
		const struct bundle_key	*bk = &b->keys[i];

		kr.state = bk->state;
		kr.region = bk->region;
		kr.creator = bk->creator;
		kr.instance = bk->instance;
		if ((rc = key_put(st, txn, bk->id, &kr, MDB_NOOVERWRITE)))
			break;
		/* A bundle carries no deletion time (STORE_DELETION_...). */
		if (kr.state == WORLD_KEY_PENDING_DELETION &&
		    (rc = del_put(st, txn, bk->id, store_now_ms() +
		    (int64_t)STORE_DELETION_UNKNOWN_DAYS * 86400 * 1000)))
			break;
		if (bk->ntags > STORE_TAGS_MAX) {
			rc = store_seterr(st, STORE_ELIMIT, "key %s: more than "
			    "%d tags", bk->id, STORE_TAGS_MAX);
			break;
		}
		for (j = 0; j < bk->ntags && rc == STORE_OK; j++) {
			store_key(&k, bk->id, bk->tags[j].key, NULL);
			rc = db_put(st, txn, DBI_TAGS, &k, bk->tags[j].value,
			    strlen(bk->tags[j].value), MDB_NOOVERWRITE);
		}
		cp = NULL;
		if (rc == STORE_OK && bk->instance != NULL) {
			if (bk->policy == NULL) {
				rc = store_seterr(st, STORE_EINVAL, "key %s: "
				    "no key policy", bk->id);
				break;
			}
			if ((rc = kp_put(st, txn, bk->id, 1, bk->policy,
			    bk->policy_len)) != STORE_OK)
				break;
			cp = pcache_compile(st, &o->cache, POLICY_KIND_KEY,
			    bk->policy, bk->policy_len, NULL, "key policy",
			    bk->id, &rc);
			if (cp == NULL) {
				rc = STORE_EINVAL;
				break;
			}
		}
		if (rc == STORE_OK)
			rc = key_reput(st, txn, wt, bk->id, &kr, cp, 0);
		if (cp != NULL)
			cpolicy_unref(cp);
	}
	for (i = 0; i < b->naliases && rc == STORE_OK; i++) {
		struct world_key	 wk;
		const char		*kid = b->aliases[i].key_id;

		if (world_get_key(world_txn_view(wt), kid, strlen(kid),
		    &wk) != 0) {
			rc = store_seterr(st, STORE_EINVAL, "alias %s: no such "
			    "key: %s", b->aliases[i].name, kid);
			break;
		}
		store_key(&k, wk.region, wk.creator, b->aliases[i].name);
		rc = db_put(st, txn, DBI_ALIASES, &k, kid, strlen(kid),
		    MDB_NOOVERWRITE);
		if (rc == STORE_EEXIST)
			rc = store_seterr(st, rc, "alias %s twice",
			    b->aliases[i].name);
		if (rc == STORE_OK &&
		    world_txn_put_alias(wt, b->aliases[i].name, kid) != 0)
			rc = nomem(st);
	}
	for (i = 0; i < b->npolicies && rc == STORE_OK; i++) {
		const struct bundle_policy *p = &b->policies[i];

		if (p->versions != NULL) {
			/* The Versions form: every version. */
			if ((rc = pv_put_versions(st, txn, p)) != 0)
				break;
		} else if ((rc = pol_put(st, txn, p->account, p->name, &pr,
		    MDB_NOOVERWRITE)) != 0 ||
		    (rc = pv_put(st, txn, p->account, p->name, 1, p->text,
		    p->len)) != 0)
			break;
		cp = pcache_compile(st, &o->cache, POLICY_KIND_RAM, p->text,
		    p->len, NULL, "policy", p->name, &rc);
		if (cp == NULL) {
			rc = STORE_EINVAL;
			break;
		}
		if (world_txn_put_policy(wt, p->account, p->name, cp) != 0)
			rc = nomem(st);
		cpolicy_unref(cp);
	}
	for (kind = 0; kind < 3 && rc == STORE_OK; kind++) {
		n = kind == STORE_USER ? b->nusers : kind == STORE_ROLE ?
		    b->nroles : b->ngroups;
		for (i = 0; i < n && rc == STORE_OK; i++) {
			bp = kind == STORE_USER ? &b->users[i] :
			    kind == STORE_ROLE ? &b->roles[i] : &b->groups[i];
			if (bp->ngroups > STORE_LIST_MAX ||
			    bp->npolicies > STORE_LIST_MAX) {
				rc = store_seterr(st, STORE_ELIMIT, "%s %s: "
				    "more than %d groups or policies",
				    prin_name[kind], bp->name, STORE_LIST_MAX);
				break;
			}
			prr.groups = kind == STORE_USER ? bp->groups : NULL;
			prr.ngroups = kind == STORE_USER ? bp->ngroups : 0;
			prr.policies = bp->policies;
			prr.npolicies = bp->npolicies;
			rc = prin_put(st, txn, wt, kind, bp->account, bp->name,
			    &prr, MDB_NOOVERWRITE);
		}
	}
	store_w_free(&k);
	return (rc);
}

/*
 * Every identifier, tag and list of a bundle against the rules the
 * single changes apply (id_ok, tag_ok, the list limits), before
 * op_replace_all writes anything: nothing is stored that a later change would refuse to
 * name.  The message gives the bundle's JSON path.
 */
static int
bundle_ok(struct store *st, const struct bundle *b)
{
	const struct bundle_principal	*bp;
	static const char *const	 kname[] = { "Users", "Roles",
					    "Groups" };
	static const char *const	 nname[] = { "UserName", "RoleName",
					    "GroupName" };
	char				 w[128], why[sizeof(st->errmsg)];
	size_t				 i, j, n;
	int				 rc, kind;

#define BOK(call, ...) do {						\
	snprintf(w, sizeof(w), __VA_ARGS__);				\
	if ((rc = (call)) != STORE_OK)					\
		return (rc);						\
} while (0)
	for (i = 0; i < b->ninstances; i++) {
		BOK(id_ok(st, w, b->instances[i].id),
		    "Instances[%zu].InstanceId", i);
		BOK(state_ok(st, b->instances[i].state), "State");
	}
	for (i = 0; i < b->nkeys; i++) {
		const struct bundle_key	*bk = &b->keys[i];

		BOK(id_ok(st, w, bk->id), "Keys[%zu].KeyId", i);
		BOK(id_ok(st, w, bk->region), "Keys[%zu].Region", i);
		BOK(id_ok(st, w, bk->creator), "Keys[%zu].Creator", i);
		if (bk->instance != NULL)
			BOK(id_ok(st, w, bk->instance),
			    "Keys[%zu].DKMSInstanceId", i);
		BOK(key_state_ok(st, bk->state), "KeyState");
		if (bk->ntags > STORE_TAGS_MAX)
			return (store_seterr(st, STORE_ELIMIT, "Keys[%zu].Tags: "
			    "%zu tags, at most %d", i, bk->ntags,
			    STORE_TAGS_MAX));
		for (j = 0; j < bk->ntags; j++) {
			if (bk->tags[j].value == NULL)
				return (store_seterr(st, STORE_EINVAL,
				    "Keys[%zu].Tags: no value", i));
			if ((rc = tag_ok(st, bk->tags[j].key,
			    bk->tags[j].value)) != STORE_OK) {
				snprintf(why, sizeof(why), "%s", st->errmsg);
				return (store_seterr(st, rc, "Keys[%zu].Tags"
				    "[%zu]: %s", i, j, why));
			}
		}
	}
	for (i = 0; i < b->naliases; i++) {
		if ((rc = alias_name_ok(st, b->aliases[i].name)) != STORE_OK) {
			snprintf(why, sizeof(why), "%s", st->errmsg);
			return (store_seterr(st, rc, "Aliases[%zu].AliasName: "
			    "%s", i, why));
		}
		BOK(id_ok(st, w, b->aliases[i].key_id), "Aliases[%zu].KeyId",
		    i);
	}
	for (i = 0; i < b->npolicies; i++) {
		if ((rc = policy_name_ok(st, b->policies[i].account,
		    b->policies[i].name)) != STORE_OK) {
			snprintf(why, sizeof(why), "%s", st->errmsg);
			return (store_seterr(st, rc, "Policies[%zu]: %s", i,
			    why));
		}
	}
	for (kind = 0; kind < 3; kind++) {
		n = kind == STORE_USER ? b->nusers : kind == STORE_ROLE ?
		    b->nroles : b->ngroups;
		for (i = 0; i < n; i++) {
			bp = kind == STORE_USER ? &b->users[i] :
			    kind == STORE_ROLE ? &b->roles[i] : &b->groups[i];
			BOK(id_ok(st, w, bp->account), "%s[%zu].Account",
			    kname[kind], i);
			BOK(id_ok(st, w, bp->name), "%s[%zu].%s", kname[kind],
			    i, nname[kind]);
			if (bp->ngroups > STORE_LIST_MAX ||
			    bp->npolicies > STORE_LIST_MAX)
				return (store_seterr(st, STORE_ELIMIT, "%s[%zu]: "
				    "more than %d groups or policies",
				    kname[kind], i, STORE_LIST_MAX));
			for (j = 0; kind == STORE_USER && j < bp->ngroups; j++)
				BOK(id_ok(st, w, bp->groups[j]),
				    "%s[%zu].Groups[%zu]", kname[kind], i, j);
			for (j = 0; j < bp->npolicies; j++)
				BOK(id_ok(st, w, bp->policies[j]),
				    "%s[%zu].Policies[%zu]", kname[kind], i, j);
		}
	}
#undef BOK
	return (STORE_OK);
}

int
store_replace_all(struct store *st, const struct bundle *b, uint64_t *genp)
{
	struct op	 o = { .bundle = b };

	return (change(st, op_replace_all, &o, genp));
}

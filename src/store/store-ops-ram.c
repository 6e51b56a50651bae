/* SPDX-License-Identifier: ISC */
/*
 * store-ops-ram.c: the RAM changes, one function each (users, roles,
 * groups and their memberships and attachments, RAM policies and their
 * versions), and the reads of policy versions.
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
#include "store/store-ops.h"

/* The plans' arguments. */
enum list_of { LIST_POLICIES, LIST_GROUPS };
struct prin_args {
	enum store_principal	 kind;
	const char		*account;
	const char		*principal;
	/* A name added to or removed from one of the principal's lists. */
	const char		*name;
	enum list_of		 list;
	int			 add;
};
struct pol_args {
	const char		*account;
	const char		*name;
	const char		*text;
	size_t			 len;
	struct policy_diags	*diags;
	int			 set_default;
	uint32_t		 version;	/* in; out: the new one */
	/* At the limit of versions, the oldest goes. */
	int			 rotate;
};

/* --- users, roles, groups ---------------------------------------- */

static int
op_prin_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct prin_args	*a = o->args;
	struct store_prinrec	 r;

	memset(&r, 0, sizeof(r));
	return (store_op_rec_put(st, txn, store_op_prin_dbi[a->kind],
	    a->account, a->principal, &r, MDB_NOOVERWRITE));
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
	/* Only users have groups. */
	for (kind = 0; kind < (groups ? 1 : 3) && rc == STORE_OK; kind++) {
		store_cset_range(st, store_op_prin_dbi[kind], k.p, k.len);
		if ((mrc = mdb_cursor_open(txn,
		    st->dbi[store_op_prin_dbi[kind]], &c)) != 0) {
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
				    store_op_prin_name[kind],
				    (int)(ck.mv_size - k.len),
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
    struct op *o)
{
	const struct prin_args	*a = o->args;
	struct store_prinrec	 r;
	char			 who[300];
	int			 rc, dbi = store_op_prin_dbi[a->kind];

	if ((rc = store_op_rec_get(st, txn, dbi, a->account, a->principal,
	    &r)) != 0)
		return (rc);
	store_prinrec_free(&r);
	if (a->kind == STORE_GROUP &&
	    (rc = account_refers(st, txn, a->account, a->principal, 1, who,
	    sizeof(who))) != 0) {
		if (rc == STORE_EINUSE)
			store_seterr(st, rc, "group %s still has members (%s)",
			    a->principal, who);
		return (rc);
	}
	return (store_op_rec_del(st, txn, dbi, a->account, a->principal,
	    NULL));
}

/*
 * Adds or removes a name in a principal's list: a group of a user
 * (membership) or a policy of a principal (attachment).
 */
static int
op_list(struct store *st, MDB_txn *txn, struct world_txn *wt, struct op *o)
{
	const struct prin_args	*a = o->args;
	struct store_prinrec	 r, g;
	struct store_polrec	 pr;
	char			***list;
	size_t			*n;
	int			 rc, groups = a->list == LIST_GROUPS;
	int			 dbi = store_op_prin_dbi[a->kind];

	if ((rc = store_op_rec_get(st, txn, dbi, a->account, a->principal,
	    &r)) != 0)
		return (rc);
	list = groups ? &r.groups : &r.policies;
	n = groups ? &r.ngroups : &r.npolicies;
	if (a->add) {
		if (groups && (rc = store_op_rec_get(st, txn, DBI_GROUPS,
		    a->account, a->name, &g)) == STORE_OK)
			store_prinrec_free(&g);
		else if (!groups)
			rc = store_op_rec_get(st, txn, DBI_POLICIES, a->account,
			    a->name, &pr);
		if (rc == STORE_OK && store_list_find(*list, *n, a->name) != -1)
			rc = store_seterr(st, STORE_EEXIST, "%s %s already "
			    "%s %s", store_op_prin_name[a->kind], a->principal,
			    groups ? "belongs to group" : "has policy", a->name);
		if (rc == STORE_OK && *n >= STORE_LIST_MAX)
			rc = store_seterr(st, STORE_ELIMIT, "%s %s has %d %s "
			    "already", store_op_prin_name[a->kind], a->principal,
			    STORE_LIST_MAX, groups ? "groups" : "policies");
		if (rc == STORE_OK)
			store_list_add(list, n, a->name);
	} else if (store_list_del(list, n, a->name) != 0)
		rc = store_seterr(st, STORE_ENOTFOUND, "%s %s %s %s",
		    store_op_prin_name[a->kind], a->principal, groups ?
		    "does not belong to group" : "has no policy", a->name);
	if (rc == STORE_OK)
		rc = store_op_rec_put(st, txn, dbi, a->account, a->principal,
		    &r, 0);
	store_prinrec_free(&r);
	return (rc);
}

/*
 * What the principal changes check first (store_op_change's prep): the
 * principal, and the name a list change adds or removes.
 */
static int
prin_ok(struct store *st, struct op *o)
{
	const struct prin_args	*a = o->args;
	int			 rc;

	if (a->kind != STORE_USER && a->kind != STORE_ROLE &&
	    a->kind != STORE_GROUP)
		return (store_seterr(st, STORE_EINVAL, "invalid principal "
		    "kind %d", (int)a->kind));
	if ((rc = store_op_id_ok(st, "account", a->account)) ||
	    (rc = store_op_id_ok(st, "name", a->principal)) ||
	    o->plan != op_list)
		return (rc);
	return (store_op_id_ok(st, a->list == LIST_GROUPS ? "group" :
	    "policy name", a->name));
}

/* A change of a principal: its plan, and for a list change the name. */
static int
prin_change(struct store *st, store_op_fn plan, enum store_principal kind,
    const char *account, const char *principal, const char *name,
    enum list_of list, int add, uint64_t *genp)
{
	struct prin_args a = { kind, account, principal, name, list, add };

	return (store_op_change(st, prin_ok, plan, &a, genp));
}

int
store_principal_create(struct store *st, enum store_principal kind,
    const char *account, const char *name, uint64_t *genp)
{
	return (prin_change(st, op_prin_create, kind, account, name, NULL, 0,
	    0, genp));
}

int
store_principal_delete(struct store *st, enum store_principal kind,
    const char *account, const char *name, uint64_t *genp)
{
	return (prin_change(st, op_prin_delete, kind, account, name, NULL, 0,
	    0, genp));
}

int
store_membership_add(struct store *st, const char *account, const char *user,
    const char *group, uint64_t *genp)
{
	return (prin_change(st, op_list, STORE_USER, account, user, group,
	    LIST_GROUPS, 1, genp));
}

int
store_membership_remove(struct store *st, const char *account,
    const char *user, const char *group, uint64_t *genp)
{
	return (prin_change(st, op_list, STORE_USER, account, user, group,
	    LIST_GROUPS, 0, genp));
}

int
store_attach(struct store *st, enum store_principal kind, const char *account,
    const char *principal, const char *policy, uint64_t *genp)
{
	return (prin_change(st, op_list, kind, account, principal, policy,
	    LIST_POLICIES, 1, genp));
}

int
store_detach(struct store *st, enum store_principal kind, const char *account,
    const char *principal, const char *policy, uint64_t *genp)
{
	return (prin_change(st, op_list, kind, account, principal, policy,
	    LIST_POLICIES, 0, genp));
}

/* --- RAM policies ------------------------------------------------- */

static void
pv_key(struct store_wbuf *k, const char *account, const char *name,
    uint32_t ver)
{
	store_key(k, account, name, "");
	store_w_u32(k, ver);
}

int
store_op_pv_put(struct store *st, MDB_txn *txn, const char *account,
    const char *name, uint32_t ver, int64_t time_ms, const char *text,
    size_t len)
{
	struct store_pvrec	 r = { time_ms, text, len };
	struct store_wbuf	 k, v;
	int			 rc;

	store_w_init(&k);
	store_w_init(&v);
	pv_key(&k, account, name, ver);
	store_pvrec_encode(&v, &r);
	rc = store_op_db_put(st, txn, DBI_POLICYVERSIONS, &k, v.p, v.len,
	    MDB_NOOVERWRITE);
	store_w_free(&k);
	store_w_free(&v);
	return (rc);
}

static int
op_policy_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	struct pol_args		*a = o->args;
	struct store_polrec	 r = { 1, 1 };
	int			 rc;

	if ((rc = store_op_rec_put(st, txn, DBI_POLICIES, a->account, a->name,
	    &r, MDB_NOOVERWRITE)) != 0 || (rc = store_op_pv_put(st, txn,
	    a->account, a->name, 1, store_now_ms(), a->text, a->len)) != 0)
		return (rc);
	store_op_seed(o, POLICY_KIND_RAM, a->text, a->len);
	return (STORE_OK);
}

/* A policy's account and name, as every call on one checks them first. */
static int
pol_ids_ok(struct store *st, const char *account, const char *name)
{
	int	 rc;

	if ((rc = store_op_id_ok(st, "account", account)))
		return (rc);
	return (store_op_id_ok(st, "policy name", name));
}

int
store_op_policy_name_ok(struct store *st, const char *account,
    const char *name)
{
	int	 rc;

	if ((rc = pol_ids_ok(st, account, name)))
		return (rc);
	if (!ident_policy_name(name, strlen(name)))
		return (store_seterr(st, STORE_EINVAL, "policy name %s: 1-%d "
		    "characters of A-Z a-z 0-9 . -", name, POLICY_NAME_MAX));
	return (STORE_OK);
}

/*
 * What the policy changes check first (store_op_change's prep): the
 * policy's account and name (a new policy's name by the rule for
 * names), then the document a change adds, compiled.
 */
static int
pol_ok(struct store *st, struct op *o)
{
	const struct pol_args	*a = o->args;

	return (pol_ids_ok(st, a->account, a->name));
}

static int
pol_doc_ok(struct store *st, struct op *o)
{
	const struct pol_args	*a = o->args;
	int			 rc;

	if ((rc = o->plan == op_policy_create ? store_op_policy_name_ok(st,
	    a->account, a->name) : pol_ok(st, o)))
		return (rc);
	return (store_op_compile(st, POLICY_KIND_RAM, a->text, a->len,
	    a->diags, &o->cp));
}

int
store_policy_create(struct store *st, const char *account, const char *name,
    const char *text, size_t len, struct policy_diags *diags,
    uint64_t *genp)
{
	struct pol_args	 a = { account, name, text, len, diags, 1, 1, 0 };

	return (store_op_change(st, pol_doc_ok, op_policy_create, &a, genp));
}

static int
op_policy_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	struct pol_args		*a = o->args;
	struct store_polrec	 r;
	struct store_wbuf	 k;
	char			 who[300];
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_POLICIES, a->account, a->name,
	    &r)) != 0)
		return (rc);
	if ((rc = account_refers(st, txn, a->account, a->name, 0, who,
	    sizeof(who))) != 0) {
		if (rc == STORE_EINUSE)
			store_seterr(st, rc, "policy %s is still attached "
			    "(%s)", a->name, who);
		return (rc);
	}
	store_w_init(&k);
	store_key(&k, a->account, a->name, NULL);
	rc = store_op_db_del(st, txn, DBI_POLICIES, &k);
	if (rc == STORE_OK) {
		store_key(&k, a->account, a->name, "");
		rc = store_op_db_del_prefix(st, txn, DBI_POLICYVERSIONS, k.p,
		    k.len);
	}
	store_w_free(&k);
	return (rc);
}

int
store_policy_delete(struct store *st, const char *account, const char *name,
    uint64_t *genp)
{
	struct pol_args	 a = { .account = account, .name = name };

	return (store_op_change(st, pol_ok, op_policy_delete, &a, genp));
}

/*
 * RotateStrategy DeleteOldestNonDefaultVersion: the policy's oldest
 * version that is not its default (the lowest id: keys sort by id) goes.
 */
static int
pv_rotate(struct store *st, MDB_txn *txn, const struct pol_args *a,
    uint32_t def)
{
	struct store_wbuf	 k;
	MDB_cursor		*c;
	MDB_val			 ck, cv;
	const unsigned char	*p;
	uint32_t		 id = 0;
	int			 rc, mrc, op = MDB_SET_RANGE;

	store_w_init(&k);
	store_key(&k, a->account, a->name, "");
	store_cset_range(st, DBI_POLICYVERSIONS, k.p, k.len);
	if ((mrc = mdb_cursor_open(txn, st->dbi[DBI_POLICYVERSIONS], &c)) != 0) {
		store_w_free(&k);
		return (store_err_mdb(st, mrc, "policyversions"));
	}
	ck.mv_data = k.p;
	ck.mv_size = k.len;
	while (mdb_cursor_get(c, &ck, &cv, op) == 0 &&
	    ck.mv_size == k.len + 4 && memcmp(ck.mv_data, k.p, k.len) == 0) {
		op = MDB_NEXT;
		p = (const unsigned char *)ck.mv_data + k.len;
		id = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
		if (id != def)
			break;
		id = 0;
	}
	mdb_cursor_close(c);
	store_w_free(&k);
	if (id == 0)
		return (store_seterr(st, STORE_ELIMIT, "policy %s has no "
		    "version to rotate out", a->name));
	store_w_init(&k);
	pv_key(&k, a->account, a->name, id);
	rc = store_op_db_del(st, txn, DBI_POLICYVERSIONS, &k);
	store_w_free(&k);
	return (rc);
}

static int
pv_decode(struct store *st, const MDB_val *v, const char *account,
    const char *name, uint32_t id, struct store_pvrec *pv)
{
	if (store_pvrec_decode(v, pv) != 0)
		return (store_seterr(st, STORE_ECORRUPT, "%s: policyversions "
		    "\"%s/%s/v%u\": malformed", st->dir, account, name, id));
	return (STORE_OK);
}

/* Version id of a policy, decoded (STORE_ENOTFOUND with a message). */
static int
pv_get(struct store *st, MDB_txn *txn, const char *account,
    const char *name, uint32_t id, struct store_pvrec *pv)
{
	struct store_wbuf	 k;
	MDB_val			 v;
	int			 rc;

	store_w_init(&k);
	pv_key(&k, account, name, id);
	if ((rc = store_op_db_get(st, txn, DBI_POLICYVERSIONS, &k,
	    &v)) == STORE_ENOTFOUND)
		rc = store_seterr(st, rc, "policy %s has no version v%u", name,
		    id);
	else if (rc == STORE_OK)
		rc = pv_decode(st, &v, account, name, id, pv);
	store_w_free(&k);
	return (rc);
}

static int
op_version_create(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	struct pol_args		*a = o->args;
	struct store_polrec	 r;
	struct store_wbuf	 k;
	size_t			 n;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_POLICIES, a->account, a->name,
	    &r)) != 0)
		return (rc);
	store_w_init(&k);
	store_key(&k, a->account, a->name, "");
	rc = store_op_db_count_prefix(st, txn, DBI_POLICYVERSIONS, k.p, k.len,
	    &n);
	store_w_free(&k);
	if (rc != STORE_OK)
		return (rc);
	if (n >= STORE_POLICY_VERSIONS_MAX && a->rotate &&
	    (rc = pv_rotate(st, txn, a, r.def)) != STORE_OK)
		return (rc);
	if (n >= STORE_POLICY_VERSIONS_MAX && !a->rotate)
		return (store_seterr(st, STORE_ELIMIT, "policy %s has %d "
		    "versions already; delete one first", a->name,
		    STORE_POLICY_VERSIONS_MAX));
	if (r.last == UINT32_MAX)
		return (store_seterr(st, STORE_ELIMIT, "policy %s: version "
		    "ids exhausted", a->name));
	r.last++;
	if (a->set_default)
		r.def = r.last;
	if ((rc = store_op_pv_put(st, txn, a->account, a->name, r.last,
	    store_now_ms(), a->text, a->len)) || (rc = store_op_rec_put(st, txn,
	    DBI_POLICIES, a->account, a->name, &r, 0)))
		return (rc);
	a->version = r.last;
	if (a->set_default)
		store_op_seed(o, POLICY_KIND_RAM, a->text, a->len);
	return (STORE_OK);
}

int
store_policy_version_create(struct store *st, const char *account,
    const char *name, const char *text, size_t len, int how,
    struct policy_diags *diags, uint32_t *versionp, uint64_t *genp)
{
	struct pol_args	 a = { account, name, text, len, diags,
			    (how & STORE_VERSION_DEFAULT) != 0, 0,
			    (how & STORE_VERSION_ROTATE) != 0 };
	int		 rc;

	rc = store_op_change(st, pol_doc_ok, op_version_create, &a, genp);
	if (rc == STORE_OK && versionp != NULL)
		*versionp = a.version;
	return (rc);
}

static int
op_version_default(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	struct pol_args		*a = o->args;
	struct store_polrec	 r;
	struct store_pvrec	 pv;
	struct cpolicy		*cp;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_POLICIES, a->account, a->name,
	    &r)) != 0 || (rc = pv_get(st, txn, a->account, a->name,
	    a->version, &pv)) != 0)
		return (rc);
	/* The one policy whose default changes is recompiled. */
	cp = pcache_compile(st, &o->cache, POLICY_KIND_RAM, pv.text, pv.len,
	    NULL, "policy version", a->name, &rc);
	if (cp == NULL)
		return (rc);
	cpolicy_unref(cp);
	r.def = a->version;
	return (store_op_rec_put(st, txn, DBI_POLICIES, a->account, a->name, &r,
	    0));
}

int
store_policy_version_set_default(struct store *st, const char *account,
    const char *name, uint32_t version, uint64_t *genp)
{
	struct pol_args	 a = { .account = account, .name = name,
			    .version = version };

	return (store_op_change(st, pol_ok, op_version_default, &a, genp));
}

static int
op_version_delete(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	struct pol_args		*a = o->args;
	struct store_polrec	 r;
	struct store_wbuf	 k;
	int			 rc;

	if ((rc = store_op_rec_get(st, txn, DBI_POLICIES, a->account, a->name,
	    &r)) != 0)
		return (rc);
	if (r.def == a->version)
		return (store_seterr(st, STORE_EINUSE, "v%u is the default "
		    "version of policy %s; it cannot be deleted", a->version,
		    a->name));
	store_w_init(&k);
	pv_key(&k, a->account, a->name, a->version);
	rc = store_op_db_del(st, txn, DBI_POLICYVERSIONS, &k);
	store_w_free(&k);
	if (rc == STORE_ENOTFOUND)
		return (store_seterr(st, rc, "policy %s has no version v%u",
		    a->name, a->version));
	return (rc);
}

int
store_policy_version_delete(struct store *st, const char *account,
    const char *name, uint32_t version, uint64_t *genp)
{
	struct pol_args	 a = { .account = account, .name = name,
			    .version = version };

	return (store_op_change(st, pol_ok, op_version_delete, &a, genp));
}

/* --- reads of policy versions ------------------------------------ */

static void
pv_copy(const struct store_pvrec *pv, uint32_t id, uint32_t def,
    struct store_policy_version *out)
{
	out->id = id;
	out->is_default = id == def;
	out->create_ms = pv->time_ms;
	out->text = xmalloc(pv->len + 1);
	memcpy(out->text, pv->text, pv->len);
	out->text[pv->len] = '\0';
	out->len = pv->len;
}

int
store_policy_version_get(struct store *st, const char *account,
    const char *name, uint32_t version, struct store_policy_version *out)
{
	struct store_polrec	 r;
	struct store_pvrec	 pv;
	MDB_txn			*txn;
	int			 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = pol_ids_ok(st, account, name)) || (rc = store_rtxn(st,
	    &txn)))
		return (rc);
	if ((rc = store_op_rec_get(st, txn, DBI_POLICIES, account, name,
	    &r)) == STORE_OK) {
		if (version == 0)
			version = r.def;
		if ((rc = pv_get(st, txn, account, name, version,
		    &pv)) == STORE_OK)
			pv_copy(&pv, version, r.def, out);
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
	struct store_pvrec		 pv;
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
	if ((rc = pol_ids_ok(st, account, name)) || (rc = store_rtxn(st,
	    &txn)))
		return (rc);
	/* A sane store has 1-5; one more slot tells a corrupt one. */
	out = xcalloc(STORE_POLICY_VERSIONS_MAX + 1, sizeof(*out));
	store_w_init(&k);
	store_key(&k, account, name, "");
	if ((rc = store_op_rec_get(st, txn, DBI_POLICIES, account, name,
	    &r)) != STORE_OK)
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
		if ((rc = pv_decode(st, &cv, account, name, id,
		    &pv)) != STORE_OK)
			goto done;
		pv_copy(&pv, id, r.def, &out[n++]);
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


/* SPDX-License-Identifier: ISC */
/*
 * store-ops-bundle.c: the whole state at once: a bundle checked against
 * the store's rules and written as one change (ImportBundle, import,
 * the seed), replacing everything.
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

/* --- the whole state ---------------------------------------------- */

/*
 * A bundle policy: its one document as v1, the default, or its
 * Versions (bundle_parse checked the rules: 1 to 5, ids unique, one
 * default), each with its id and CreateDate (the time of import
 * without one); the last id given is the highest.
 */
static int
pol_put(struct store *st, MDB_txn *txn, const struct bundle_policy *p)
{
	const struct bundle_policy_version	*v;
	struct store_polrec	 pr = { 1, 1 };
	size_t			 j;
	int			 rc;

	if (p->versions != NULL && (p->nversions == 0 ||
	    p->nversions > STORE_POLICY_VERSIONS_MAX))
		return (store_seterr(st, STORE_ELIMIT, "policy %s: not 1 to "
		    "%d versions", p->name, STORE_POLICY_VERSIONS_MAX));
	if (p->versions != NULL)
		pr.def = pr.last = 0;
	for (j = 0; j < p->nversions; j++) {
		if (p->versions[j].is_default == 1)
			pr.def = p->versions[j].id;
		if (p->versions[j].id > pr.last)
			pr.last = p->versions[j].id;
	}
	if (pr.def == 0)
		return (store_seterr(st, STORE_EINVAL, "policy %s: no default "
		    "version", p->name));
	if ((rc = store_op_rec_put(st, txn, DBI_POLICIES, p->account, p->name,
	    &pr, MDB_NOOVERWRITE)) != 0)
		return (rc);
	if (p->versions == NULL)
		return (store_op_pv_put(st, txn, p->account, p->name, 1,
		    store_now_ms(), p->text, p->len));
	for (j = 0; j < p->nversions && rc == STORE_OK; j++) {
		v = &p->versions[j];
		if ((rc = store_op_pv_put(st, txn, p->account, p->name, v->id,
		    v->has_date ? v->create_ms : store_now_ms(), v->text,
		    v->len)) == STORE_EEXIST)
			rc = store_seterr(st, rc, "policy %s: version v%u "
			    "twice", p->name, (unsigned)v->id);
	}
	return (rc);
}

static int
op_replace_all(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct op *o)
{
	const struct bundle	*b = o->args;
	struct store_instrec	 ir;
	struct store_keyrec	 kr;
	struct store_prinrec	 prr;
	struct store_wbuf	 k;
	const struct bundle_principal *bp;
	int64_t			 when = store_now_ms() +
			    (int64_t)STORE_DELETION_UNKNOWN_DAYS * 86400 * 1000;
	size_t			 i, j, n;
	int			 d, rc = STORE_OK, kind;

	if ((rc = store_op_bundle_ok(st, b)) != STORE_OK)
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
		rc = store_op_rec_put(st, txn, DBI_INSTANCES,
		    b->instances[i].id, NULL, &ir, MDB_NOOVERWRITE);
	}
	for (i = 0; i < b->nkeys && rc == STORE_OK; i++) {
		const struct bundle_key	*bk = &b->keys[i];

		kr.state = bk->state;
		kr.region = bk->region;
		kr.creator = bk->creator;
		kr.instance = bk->instance;
		if ((rc = store_op_rec_put(st, txn, DBI_KEYS, bk->id, NULL, &kr,
		    MDB_NOOVERWRITE)))
			break;
		/* A bundle carries no deletion time (STORE_DELETION_...). */
		if (kr.state == WORLD_KEY_PENDING_DELETION &&
		    (rc = store_op_rec_put(st, txn, DBI_DELETIONS, bk->id, NULL,
		    &when, 0)))
			break;
		for (j = 0; j < bk->ntags && rc == STORE_OK; j++) {
			store_key(&k, bk->id, bk->tags[j].key, NULL);
			rc = store_op_db_put(st, txn, DBI_TAGS, &k,
			    bk->tags[j].value, strlen(bk->tags[j].value),
			    MDB_NOOVERWRITE);
		}
		if (rc == STORE_OK && bk->instance != NULL) {
			if (bk->policy == NULL) {
				rc = store_seterr(st, STORE_EINVAL, "key %s: "
				    "no key policy", bk->id);
				break;
			}
			rc = store_op_kp_put(st, txn, bk->id, 1, bk->policy,
			    bk->policy_len);
		}
	}
	for (i = 0; i < b->naliases && rc == STORE_OK; i++) {
		const char		*kid = b->aliases[i].key_id;

		if (store_op_rec_get(st, txn, DBI_KEYS, kid, NULL, &kr) != 0) {
			rc = store_seterr(st, STORE_EINVAL, "alias %s: no such "
			    "key: %s", b->aliases[i].name, kid);
			break;
		}
		store_key(&k, kr.region, kr.creator, b->aliases[i].name);
		store_keyrec_free(&kr);
		rc = store_op_db_put(st, txn, DBI_ALIASES, &k, kid, strlen(kid),
		    MDB_NOOVERWRITE);
		if (rc == STORE_EEXIST)
			rc = store_seterr(st, rc, "alias %s twice",
			    b->aliases[i].name);
	}
	for (i = 0; i < b->npolicies && rc == STORE_OK; i++)
		rc = pol_put(st, txn, &b->policies[i]);
	for (kind = 0; kind < 3 && rc == STORE_OK; kind++) {
		n = kind == STORE_USER ? b->nusers : kind == STORE_ROLE ?
		    b->nroles : b->ngroups;
		for (i = 0; i < n && rc == STORE_OK; i++) {
			bp = kind == STORE_USER ? &b->users[i] :
			    kind == STORE_ROLE ? &b->roles[i] : &b->groups[i];
			prr.groups = kind == STORE_USER ? bp->groups : NULL;
			prr.ngroups = kind == STORE_USER ? bp->ngroups : 0;
			prr.policies = bp->policies;
			prr.npolicies = bp->npolicies;
			rc = store_op_rec_put(st, txn, store_op_prin_dbi[kind],
			    bp->account, bp->name, &prr, MDB_NOOVERWRITE);
		}
	}
	store_w_free(&k);
	return (rc);
}

/*
 * Every identifier, tag and list of a bundle against the rules the
 * single changes apply (store_op_id_ok, store_op_tag_ok, the list
 * limits), before op_replace_all writes anything: nothing is stored
 * that a later change would refuse to name.  The message gives the
 * bundle's JSON path.
 */
int
store_op_bundle_ok(struct store *st, const struct bundle *b)
{
	const struct bundle_principal	*bp;
	static const char *const	 kname[] = { "Users", "Roles",
					    "Groups" };
	static const char *const	 nname[] = { "UserName", "RoleName",
					    "GroupName" };
	char				 w[128], why[STORE_ERRMAX];
	size_t				 i, j, n;
	int				 rc, kind;

#define BOK(call, ...) do {						\
	snprintf(w, sizeof(w), __VA_ARGS__);				\
	if ((rc = (call)) != STORE_OK)					\
		return (rc);						\
} while (0)
	for (i = 0; i < b->ninstances; i++) {
		BOK(store_op_id_ok(st, w, b->instances[i].id),
		    "Instances[%zu].InstanceId", i);
		BOK(store_op_state_ok(st, b->instances[i].state), "State");
	}
	for (i = 0; i < b->nkeys; i++) {
		const struct bundle_key	*bk = &b->keys[i];

		BOK(store_op_id_ok(st, w, bk->id), "Keys[%zu].KeyId", i);
		BOK(store_op_id_ok(st, w, bk->region), "Keys[%zu].Region", i);
		BOK(store_op_id_ok(st, w, bk->creator), "Keys[%zu].Creator", i);
		if (bk->instance != NULL)
			BOK(store_op_id_ok(st, w, bk->instance),
			    "Keys[%zu].DKMSInstanceId", i);
		BOK(store_op_key_state_ok(st, bk->state), "KeyState");
		if (bk->ntags > STORE_TAGS_MAX)
			return (store_seterr(st, STORE_ELIMIT, "Keys[%zu].Tags: "
			    "%zu tags, at most %d", i, bk->ntags,
			    STORE_TAGS_MAX));
		for (j = 0; j < bk->ntags; j++) {
			if (bk->tags[j].value == NULL)
				return (store_seterr(st, STORE_EINVAL,
				    "Keys[%zu].Tags: no value", i));
			if ((rc = store_op_tag_ok(st, bk->tags[j].key,
			    bk->tags[j].value)) != STORE_OK) {
				snprintf(why, sizeof(why), "%s", store_errbuf());
				return (store_seterr(st, rc, "Keys[%zu].Tags"
				    "[%zu]: %s", i, j, why));
			}
		}
	}
	for (i = 0; i < b->naliases; i++) {
		if ((rc = store_op_alias_name_ok(st,
		    b->aliases[i].name)) != STORE_OK) {
			snprintf(why, sizeof(why), "%s", store_errbuf());
			return (store_seterr(st, rc, "Aliases[%zu].AliasName: "
			    "%s", i, why));
		}
		BOK(store_op_id_ok(st, w, b->aliases[i].key_id),
		    "Aliases[%zu].KeyId", i);
	}
	for (i = 0; i < b->npolicies; i++) {
		if ((rc = store_op_policy_name_ok(st, b->policies[i].account,
		    b->policies[i].name)) != STORE_OK) {
			snprintf(why, sizeof(why), "%s", store_errbuf());
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
			BOK(store_op_id_ok(st, w, bp->account),
			    "%s[%zu].Account", kname[kind], i);
			BOK(store_op_id_ok(st, w, bp->name), "%s[%zu].%s",
			    kname[kind], i, nname[kind]);
			if (bp->ngroups > STORE_LIST_MAX ||
			    bp->npolicies > STORE_LIST_MAX)
				return (store_seterr(st, STORE_ELIMIT, "%s[%zu]: "
				    "more than %d groups or policies",
				    kname[kind], i, STORE_LIST_MAX));
			for (j = 0; kind == STORE_USER && j < bp->ngroups; j++)
				BOK(store_op_id_ok(st, w, bp->groups[j]),
				    "%s[%zu].Groups[%zu]", kname[kind], i, j);
			for (j = 0; j < bp->npolicies; j++)
				BOK(store_op_id_ok(st, w, bp->policies[j]),
				    "%s[%zu].Policies[%zu]", kname[kind], i, j);
		}
	}
#undef BOK
	return (STORE_OK);
}

/* A bundle replaces the whole state: its plan starts from nothing. */
static int
replace_prep(struct store *st, struct op *o)
{
	o->replace = 1;
	return (STORE_OK);
}

int
store_replace_all(struct store *st, const struct bundle *b, uint64_t *genp)
{
	return (store_op_change(st, replace_prep, op_replace_all, (void *)b,
	    genp));
}


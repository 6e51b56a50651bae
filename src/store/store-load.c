/* SPDX-License-Identifier: ISC */
/*
 * store-load.c: from records to what the rest of the daemon uses: the
 * compiled world (store_load, at start-up), a bundle (store_to_bundle,
 * for export), and the consistency check (store_check).
 *
 * Start-up compiles every stored policy once.  Identical texts (every
 * default key policy of one creator, copies of one RAM policy) are
 * compiled once and shared: compiled policies are immutable and
 * reference counted, and the stored BLAKE2b digest is the cache key.
 *
 * The compiling is done first, on every online core (store_prefetch,
 * store-prefetch.c): the texts are independent, and they are most of
 * the time of an open.
 * A key policy whose text matches the digest stored with it is the text
 * the store validated when it was set, so it takes the trusted compiler
 * (policy_compile_trusted); RAM policy versions carry no digest and
 * take the full path.  The walk that follows builds the world in the
 * store's order, serially, finding every policy compiled; it makes every
 * check it always made, so a failure (a digest that does not match, a
 * text that does not compile) is found and reported exactly as without
 * the prefetch, for the same record.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/xmalloc.h"
#include "engine/cpolicy.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy-compile.h"
#include "store/store-int.h"
#include "store/store-prefetch.h"

/* Splits a key of n parts joined by NUL; 0, or -1 when malformed. */
int
store_split(const MDB_val *k, char **parts, int n)
{
	const char	*p = k->mv_data, *end = p + k->mv_size, *z;
	int		 i;

	for (i = 0; i < n; i++)
		parts[i] = NULL;
	for (i = 0; i < n; i++) {
		z = memchr(p, 0, (size_t)(end - p));
		if ((z == NULL) != (i == n - 1))
			goto bad;
		if (z == NULL)
			z = end;
		if (z == p)
			goto bad;
		parts[i] = xstrndup(p, (size_t)(z - p));
		p = z + 1;
	}
	return (0);
bad:
	store_split_free(parts, n);
	return (-1);
}

void
store_split_free(char **parts, int n)
{
	int	 i;

	for (i = 0; i < n; i++) {
		free(parts[i]);
		parts[i] = NULL;
	}
}

static int
store_corrupt(struct store *st, int dbi, const MDB_val *k, const char *why)
{
	char	 name[512];
	size_t	 i, n = k->mv_size < sizeof(name) - 1 ? k->mv_size :
		    sizeof(name) - 1;

	for (i = 0; i < n; i++) {
		char	 ch = ((const char *)k->mv_data)[i];

		name[i] = ch == '\0' ? '/' : (ch < 0x20 || ch == 0x7f) ?
		    '?' : ch;
	}
	name[n] = '\0';
	return (store_seterr(st, STORE_ECORRUPT, "%s: %s \"%s\": %s",
	    st->dir, store_dbi_names[dbi], name, why));
}

/* Tags of key id, in key order (LMDB's), as malloc'd pairs. */
int
store_tags_read(struct store *st, MDB_txn *txn, const char *id,
    struct world_tag **tp, size_t *np)
{
	struct store_wbuf	 w;
	struct world_tag	*t = NULL;
	MDB_cursor		*c;
	MDB_val			 k, v;
	size_t			 n = 0, plen;
	int			 rc, op = MDB_SET_RANGE;

	*tp = NULL;
	*np = 0;
	store_w_init(&w);
	store_key(&w, id, "", NULL);
	plen = w.len;
	store_cset_range(st, DBI_TAGS, w.p, plen);	/* a plan's check */
	if ((rc = mdb_cursor_open(txn, st->dbi[DBI_TAGS], &c)) != 0) {
		store_w_free(&w);
		return (store_err_mdb(st, rc, "reading tags"));
	}
	k.mv_data = w.p;
	k.mv_size = w.len;
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size <= plen || memcmp(k.mv_data, w.p, plen) != 0)
			break;
		if (memchr((const char *)k.mv_data + plen, 0,
		    k.mv_size - plen) != NULL ||
		    memchr(v.mv_data, 0, v.mv_size) != NULL) {
			rc = store_corrupt(st, DBI_TAGS, &k, "malformed");
			goto out;
		}
		t = xreallocarray(t, n + 1, sizeof(*t));
		t[n].key = xstrndup((const char *)k.mv_data + plen,
		    k.mv_size - plen);
		t[n].value = xstrndup(v.mv_data, v.mv_size);
		n++;
	}
	rc = rc == 0 || rc == MDB_NOTFOUND ? STORE_OK :
	    store_err_mdb(st, rc, "reading tags");
out:
	mdb_cursor_close(c);
	store_w_free(&w);
	*tp = t;
	*np = n;
	return (rc);
}

void
store_tags_free(struct world_tag *t, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free((char *)t[i].key);
		free((char *)t[i].value);
	}
	free(t);
}

/*
 * The text of version ver of RAM policy (account, name).  report: a
 * store error naming the record; else silently 0, or -1 (the walk will
 * say why).
 */
static int
store_pv_read(struct store *st, MDB_txn *txn, const char *account,
    const char *name, uint32_t ver, struct store_pvrec *r, int report)
{
	struct store_wbuf	 w;
	MDB_val			 k, v;
	int			 rc;

	store_w_init(&w);
	store_key(&w, account, name, "");
	store_w_u32(&w, ver);
	k.mv_data = w.p;
	k.mv_size = w.len;
	rc = mdb_get(txn, st->dbi[DBI_POLICYVERSIONS], &k, &v);
	if (!report)
		rc = rc == 0 && store_pvrec_decode(&v, r) == 0 ? 0 : -1;
	else if (rc == 0 && store_pvrec_decode(&v, r) != 0)
		rc = store_corrupt(st, DBI_POLICYVERSIONS, &k, "malformed");
	else if (rc == MDB_NOTFOUND)
		rc = store_corrupt(st, DBI_POLICIES, &k,
		    "the default version is missing");
	else if (rc != 0)
		rc = store_err_mdb(st, rc, "reading a policy version");
	store_w_free(&w);
	return (rc);
}

int
store_pv_find(struct store *st, MDB_txn *txn, const char *account,
    const char *name, uint32_t ver, struct store_pvrec *r)
{
	return (store_pv_read(st, txn, account, name, ver, r, 0));
}

/*
 * Walks one DBI, calling fn for every record (and the DBI, which one
 * loader of several record types needs); stops at the first error.
 */
typedef int (*store_walk_fn)(struct store *, MDB_txn *, int,
    const MDB_val *, const MDB_val *, void *);

static int
store_walk(struct store *st, MDB_txn *txn, int dbi, store_walk_fn fn,
    void *arg)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc, op = MDB_FIRST;

	if ((rc = mdb_cursor_open(txn, st->dbi[dbi], &c)) != 0)
		return (store_err_mdb(st, rc, "opening a cursor"));
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if ((rc = fn(st, txn, dbi, &k, &v, arg)) != STORE_OK)
			break;
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return (STORE_OK);
	if (rc > 0 || (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE))
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	return (rc);
}

/* --- records into a world transaction ---------------------------- */

struct load {
	struct world_txn	*wt;
	struct pcache		 cache;
	struct prefetch		*pf;	/* texts already compiled, or NULL */
	struct bundle		*b;	/* store_to_bundle instead */
	int			 check;	/* store_check: verify only */
};

static int
store_nomem(struct store *st)
{
	return (store_seterr(st, STORE_ENOMEM, "%s: out of memory while "
	    "loading", st->dir));
}

static int
load_instance(struct store *st, MDB_txn *txn, int dbi, const MDB_val *k,
    const MDB_val *v, void *arg)
{
	struct load		*l = arg;
	struct store_instrec	 r;
	struct bundle_instance	*bi;
	char			*id;

	if (store_instrec_decode(v, &r) != 0 ||
	    world_instance_state_name(r.state) == NULL ||
	    memchr(k->mv_data, 0, k->mv_size) != NULL || k->mv_size == 0)
		return (store_corrupt(st, DBI_INSTANCES, k, "malformed"));
	id = xstrndup(k->mv_data, k->mv_size);
	if (l->b != NULL) {
		l->b->instances = xreallocarray(l->b->instances,
		    l->b->ninstances + 1, sizeof(*l->b->instances));
		bi = &l->b->instances[l->b->ninstances++];
		bi->id = id;
		bi->state = r.state;
		bi->share_quota = r.quota;
		bi->account = r.account[0] != '\0' ? xstrdup(r.account) : NULL;
		return (STORE_OK);
	}
	if (l->wt != NULL && world_txn_put_instance(l->wt, id, r.state,
	    r.quota, r.account[0] != '\0' ? r.account : NULL) != 0) {
		free(id);
		return (store_nomem(st));
	}
	free(id);
	return (STORE_OK);
}

static int
load_key(struct store *st, MDB_txn *txn, int dbi, const MDB_val *k,
    const MDB_val *v, void *arg)
{
	struct load		*l = arg;
	struct store_keyrec	 r;
	struct store_kprec	 kp;
	struct world_tag	*tags = NULL;
	struct world_instance	 inst;
	struct bundle_key	*bk;
	struct cpolicy		*cp = NULL;
	unsigned char		 d[32];
	MDB_val			 pv;
	size_t			 ntags = 0, i;
	char			*id;
	int			 rc;

	if (k->mv_size == 0 || memchr(k->mv_data, 0, k->mv_size) != NULL ||
	    store_keyrec_decode(v, &r) != 0)
		return (store_corrupt(st, DBI_KEYS, k, "malformed"));
	if (world_key_state_name(r.state) == NULL || r.region[0] == '\0' ||
	    r.creator[0] == '\0') {
		store_keyrec_free(&r);
		return (store_corrupt(st, DBI_KEYS, k, "malformed"));
	}
	id = xstrndup(k->mv_data, k->mv_size);
	if ((rc = store_tags_read(st, txn, id, &tags, &ntags)) != 0)
		goto out;
	rc = mdb_get(txn, st->dbi[DBI_KEYPOLICIES], (MDB_val *)k, &pv);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		rc = store_err_mdb(st, rc, "reading a key policy");
		goto out;
	}
	if ((rc == 0) != (r.instance != NULL)) {
		rc = store_corrupt(st, DBI_KEYS, k, r.instance != NULL ?
		    "a key in an instance without its key policy" :
		    "a key outside any instance with a key policy");
		goto out;
	}
	rc = STORE_OK;
	if (r.instance != NULL) {
		if (store_kprec_decode(&pv, &kp) != 0) {
			rc = store_corrupt(st, DBI_KEYPOLICIES, k, "malformed");
			goto out;
		}
		/* The prefetch hashed this very record already. */
		if (!prefetch_verified(l->pf, pv.mv_data))
			store_digest(kp.text, kp.len, d);
		else
			memcpy(d, kp.digest, 32);
		if (sodium_memcmp(d, kp.digest, 32) != 0) {
			rc = store_corrupt(st, DBI_KEYPOLICIES, k,
			    "the digest does not match the text");
			goto out;
		}
		if (l->check && l->wt != NULL &&
		    world_get_instance(world_txn_view(l->wt), r.instance,
		    strlen(r.instance), &inst) != 0) {
			rc = store_corrupt(st, DBI_KEYS, k,
			    "its instance does not exist");
			goto out;
		}
		if (l->b == NULL && !l->check && (cp = pcache_compile(st, &l->cache,
		    POLICY_KIND_KEY, kp.text, kp.len, kp.digest,
		    "key policy", id, &rc)) == NULL)
			goto out;
	}
	if (l->b != NULL) {
		l->b->keys = xreallocarray(l->b->keys, l->b->nkeys + 1,
		    sizeof(*l->b->keys));
		bk = &l->b->keys[l->b->nkeys++];
		memset(bk, 0, sizeof(*bk));
		bk->id = id;
		id = NULL;
		bk->region = r.region;
		bk->creator = r.creator;
		bk->instance = r.instance;
		r.region = r.creator = r.instance = NULL;
		bk->state = r.state;
		bk->tags = xcalloc(ntags ? ntags : 1, sizeof(*bk->tags));
		for (i = 0; i < ntags; i++) {
			bk->tags[i].key = (char *)tags[i].key;
			bk->tags[i].value = (char *)tags[i].value;
		}
		bk->ntags = ntags;
		free(tags);
		tags = NULL;
		ntags = 0;
		if (bk->instance != NULL) {
			bk->policy = xmalloc(kp.len + 1);
			memcpy(bk->policy, kp.text, kp.len);
			bk->policy[kp.len] = '\0';
			bk->policy_len = kp.len;
		}
	} else if (l->wt != NULL && !l->check && world_txn_put_key(l->wt, id, r.region,
	    r.creator, r.instance, r.state, tags, ntags, cp) != 0)
		rc = errno == ENOMEM ? store_nomem(st) :
		    store_corrupt(st, DBI_KEYS, k, "rejected by the world "
		    "(duplicate tags?)");
out:
	if (cp != NULL)
		cpolicy_unref(cp);
	store_tags_free(tags, ntags);
	store_keyrec_free(&r);
	free(id);
	return (rc);
}

static int
load_alias(struct store *st, MDB_txn *txn, int dbi, const MDB_val *k,
    const MDB_val *v, void *arg)
{
	struct load		*l = arg;
	struct world_key	 wk;
	struct bundle_alias	*ba;
	char			*p[3], *kid;
	int			 rc = STORE_OK;

	if (store_split(k, p, 3) != 0 || v->mv_size == 0 ||
	    memchr(v->mv_data, 0, v->mv_size) != NULL)
		return (store_corrupt(st, DBI_ALIASES, k, "malformed"));
	kid = xstrndup(v->mv_data, v->mv_size);
	if (l->b != NULL) {
		l->b->aliases = xreallocarray(l->b->aliases,
		    l->b->naliases + 1, sizeof(*l->b->aliases));
		ba = &l->b->aliases[l->b->naliases++];
		ba->name = p[2];
		ba->key_id = kid;
		p[2] = kid = NULL;
	} else if (l->wt != NULL) {
		if (world_get_key(world_txn_view(l->wt), kid, strlen(kid),
		    &wk) != 0 || strcmp(wk.region, p[0]) != 0 ||
		    strcmp(wk.creator, p[1]) != 0)
			rc = store_corrupt(st, DBI_ALIASES, k, "its key does "
			    "not exist in its region and account");
		else if (!l->check && world_txn_put_alias(l->wt, p[2],
		    kid) != 0)
			rc = store_nomem(st);
	}
	store_split_free(p, 3);
	free(kid);
	return (rc);
}

/*
 * Every version of the policy whose record key is k, for export: none
 * (the flat form, PolicyDocument) when its only version is v1, else
 * all of them with their ids and creation times (the Versions form).
 */
static int
store_versions_read(struct store *st, MDB_txn *txn, const MDB_val *k,
    uint32_t def, struct bundle_policy *bp)
{
	struct bundle_policy_version	*v = NULL, *e;
	struct store_pvrec		 pv;
	MDB_cursor			*c;
	MDB_val				 ck, cv;
	const unsigned char		*id;
	unsigned char			 buf[600];
	size_t				 n = 0, i;
	int				 rc, op = MDB_SET_RANGE;

	if (k->mv_size + 1 > sizeof(buf))
		return (store_corrupt(st, DBI_POLICIES, k, "malformed"));
	memcpy(buf, k->mv_data, k->mv_size);
	buf[k->mv_size] = '\0';
	if ((rc = mdb_cursor_open(txn, st->dbi[DBI_POLICYVERSIONS], &c)) != 0)
		return (store_err_mdb(st, rc, "opening a cursor"));
	ck.mv_data = buf;
	ck.mv_size = k->mv_size + 1;
	while ((rc = mdb_cursor_get(c, &ck, &cv, op)) == 0) {
		op = MDB_NEXT;
		if (ck.mv_size != k->mv_size + 5 ||
		    memcmp(ck.mv_data, buf, k->mv_size + 1) != 0)
			break;
		if (store_pvrec_decode(&cv, &pv) != 0 ||
		    n == STORE_POLICY_VERSIONS_MAX) {
			rc = store_corrupt(st, DBI_POLICYVERSIONS, &ck,
			    "malformed, or a sixth version");
			goto out;
		}
		id = (const unsigned char *)ck.mv_data + k->mv_size + 1;
		v = xreallocarray(v, n + 1, sizeof(*v));
		e = &v[n++];
		memset(e, 0, sizeof(*e));
		e->id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 |
		    (uint32_t)id[2] << 8 | id[3];
		e->is_default = e->id == def;
		e->text = xmalloc(pv.len + 1);
		memcpy(e->text, pv.text, pv.len);
		e->text[pv.len] = '\0';
		e->len = pv.len;
		e->has_date = 1;
		e->create_ms = pv.time_ms;
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		rc = store_err_mdb(st, rc, "reading policy versions");
		goto out;
	}
	rc = STORE_OK;
	if (n == 1 && v[0].id == 1)
		goto out;	/* the flat form */
	bp->versions = v;
	bp->nversions = n;
	v = NULL;
	n = 0;
out:
	mdb_cursor_close(c);
	for (i = 0; i < n; i++)
		free(v[i].text);
	free(v);
	return (rc);
}

static int
load_policy(struct store *st, MDB_txn *txn, int dbi, const MDB_val *k,
    const MDB_val *v, void *arg)
{
	struct load		*l = arg;
	struct store_polrec	 r;
	struct store_pvrec	 pv;
	struct bundle_policy	*bp;
	struct cpolicy		*cp;
	char			*p[2];
	int			 rc;

	if (store_split(k, p, 2) != 0)
		return (store_corrupt(st, DBI_POLICIES, k, "malformed"));
	if (store_polrec_decode(v, &r) != 0) {
		rc = store_corrupt(st, DBI_POLICIES, k, "malformed");
		goto out;
	}
	if ((rc = store_pv_read(st, txn, p[0], p[1], r.def, &pv, 1)) != 0)
		goto out;
	if (l->b != NULL) {
		l->b->policies = xreallocarray(l->b->policies,
		    l->b->npolicies + 1, sizeof(*l->b->policies));
		bp = &l->b->policies[l->b->npolicies++];
		bp->account = p[0];
		bp->name = p[1];
		p[0] = p[1] = NULL;
		bp->text = xmalloc(pv.len + 1);
		memcpy(bp->text, pv.text, pv.len);
		bp->text[pv.len] = '\0';
		bp->len = pv.len;
		bp->versions = NULL;
		bp->nversions = 0;
		rc = store_versions_read(st, txn, k, r.def, bp);
		goto out;
	}
	if (l->check || l->wt == NULL)
		goto out;
	if ((cp = pcache_compile(st, &l->cache, POLICY_KIND_RAM, pv.text,
	    pv.len, NULL, "policy", p[1], &rc)) == NULL)
		goto out;
	if (world_txn_put_policy(l->wt, p[0], p[1], cp) != 0)
		rc = store_nomem(st);
	cpolicy_unref(cp);
out:
	store_split_free(p, 2);
	return (rc);
}

/* A user, role or group (dbi says which). */
static int
load_principal(struct store *st, MDB_txn *txn, int dbi, const MDB_val *k,
    const MDB_val *v, void *arg)
{
	struct load		*l = arg;
	struct store_prinrec	 r;
	struct bundle_principal	*bp, **arr;
	size_t			*narr;
	char			*p[2];
	int			 rc = STORE_OK, wrc = 0;

	if (store_split(k, p, 2) != 0)
		return (store_corrupt(st, dbi, k, "malformed"));
	if (store_prinrec_decode(v, dbi == DBI_USERS, &r) != 0) {
		store_split_free(p, 2);
		return (store_corrupt(st, dbi, k, "malformed"));
	}
	if (l->b != NULL) {
		arr = dbi == DBI_USERS ? &l->b->users : dbi == DBI_ROLES ?
		    &l->b->roles : &l->b->groups;
		narr = dbi == DBI_USERS ? &l->b->nusers : dbi == DBI_ROLES ?
		    &l->b->nroles : &l->b->ngroups;
		*arr = xreallocarray(*arr, *narr + 1, sizeof(**arr));
		bp = &(*arr)[(*narr)++];
		bp->account = p[0];
		bp->name = p[1];
		bp->groups = r.groups;
		bp->ngroups = r.ngroups;
		bp->policies = r.policies;
		bp->npolicies = r.npolicies;
		if (bp->groups == NULL)
			bp->groups = xcalloc(1, sizeof(char *));
		return (STORE_OK);
	}
	if (l->wt != NULL && !l->check) {
		if (dbi == DBI_USERS)
			wrc = world_txn_put_user(l->wt, p[0], p[1],
			    (const char * const *)r.groups, r.ngroups,
			    (const char * const *)r.policies, r.npolicies);
		else if (dbi == DBI_ROLES)
			wrc = world_txn_put_role(l->wt, p[0], p[1],
			    (const char * const *)r.policies, r.npolicies);
		else
			wrc = world_txn_put_group(l->wt, p[0], p[1],
			    (const char * const *)r.policies, r.npolicies);
		if (wrc != 0)
			rc = store_nomem(st);
	}
	if (l->check && l->wt != NULL) {
		const struct world	*view = world_txn_view(l->wt);
		struct world_policy	 wp;
		struct world_principal	 wg;
		size_t			 i;

		for (i = 0; i < r.npolicies && rc == STORE_OK; i++)
			if (world_get_policy(view, p[0], strlen(p[0]),
			    r.policies[i], strlen(r.policies[i]), &wp) != 0)
				rc = store_corrupt(st, dbi, k, "an attached "
				    "policy does not exist");
		for (i = 0; i < r.ngroups && rc == STORE_OK; i++)
			if (world_get_group(view, p[0], strlen(p[0]),
			    r.groups[i], strlen(r.groups[i]), &wg) != 0)
				rc = store_corrupt(st, dbi, k, "a group it "
				    "belongs to does not exist");
	}
	store_prinrec_free(&r);
	store_split_free(p, 2);
	return (rc);
}

/* In dependency order: instances before keys before aliases, policies
 * and groups before the principals that name them. */
static int
store_load_walk(struct store *st, MDB_txn *txn, struct load *l)
{
	int	 rc;

	if ((rc = store_walk(st, txn, DBI_INSTANCES, load_instance, l)) ||
	    (rc = store_walk(st, txn, DBI_KEYS, load_key, l)) ||
	    (rc = store_walk(st, txn, DBI_ALIASES, load_alias, l)) ||
	    (rc = store_walk(st, txn, DBI_POLICIES, load_policy, l)) ||
	    (rc = store_walk(st, txn, DBI_GROUPS, load_principal, l)) ||
	    (rc = store_walk(st, txn, DBI_ROLES, load_principal, l)) ||
	    (rc = store_walk(st, txn, DBI_USERS, load_principal, l)))
		return (rc);
	return (STORE_OK);
}

int
store_load_into(struct store *st, MDB_txn *txn, struct world_txn *wt)
{
	struct prefetch	 pf;
	struct load	 l;
	int		 rc;

	memset(&l, 0, sizeof(l));
	l.wt = wt;
	store_prefetch(st, txn, &pf, &l.cache, 1);
	l.pf = &pf;
	rc = store_load_walk(st, txn, &l);
	prefetch_free(&pf);
	pcache_free(&l.cache);
	return (rc);
}

/* An entity whose record is gone leaves the world (if it was there). */
static int
store_unload_entity(struct store *st, struct world_txn *wt, int dbi,
    const MDB_val *k)
{
	char	*p[3] = { NULL, NULL, NULL };
	int	 n, wrc;

	n = store_rtype_parts(dbi);
	if (store_split(k, p, n) != 0)
		return (store_corrupt(st, dbi, k, "malformed"));
	switch (dbi) {
	case DBI_INSTANCES:
		wrc = world_txn_del_instance(wt, p[0]);
		break;
	case DBI_KEYS:
		wrc = world_txn_del_key(wt, p[0]);
		break;
	case DBI_ALIASES:
		wrc = world_txn_del_alias(wt, p[0], p[1], p[2]);
		break;
	case DBI_POLICIES:
		wrc = world_txn_del_policy(wt, p[0], p[1]);
		break;
	case DBI_USERS:
		wrc = world_txn_del_user(wt, p[0], p[1]);
		break;
	case DBI_ROLES:
		wrc = world_txn_del_role(wt, p[0], p[1]);
		break;
	default:
		wrc = world_txn_del_group(wt, p[0], p[1]);
		break;
	}
	store_split_free(p, n);
	if (wrc != 0 && errno != ENOENT)
		return (store_nomem(st));
	return (STORE_OK);
}

/*
 * The compiled key policy the world has for key k, under the digest
 * its unchanged record holds, so that its loader does not compile the
 * same text again.
 */
static void
store_reuse_key_policy(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct pcache *cache, const MDB_val *k)
{
	struct store_kprec	 kp;
	struct world_key	 wk;
	MDB_val			 v;

	if (world_get_key(world_txn_view(wt), k->mv_data, k->mv_size,
	    &wk) != 0 || wk.policy == NULL ||
	    mdb_get(txn, st->dbi[DBI_KEYPOLICIES], (MDB_val *)k, &v) != 0 ||
	    store_kprec_decode(&v, &kp) != 0)
		return;
	pcache_put(cache, POLICY_KIND_KEY, kp.digest,
	    cpolicy_ref(wk.policy));
}

/*
 * One entity of the world as the transaction now stores it: the record
 * k of dbi (an entity's own DBI: instances, keys, aliases, policies,
 * users, roles, groups) put into wt by its loader, or taken out of wt
 * when it is gone.  A key whose key policy record did not change
 * (reuse) keeps the compiled policy the world has.  Compiled policies
 * come from cache (which the planner may have seeded).
 */
int
store_load_entity(struct store *st, MDB_txn *txn, struct world_txn *wt,
    struct pcache *cache, int dbi, const MDB_val *k, int reuse)
{
	static const store_walk_fn	 fn[DBI_COUNT] = {
		[DBI_INSTANCES] = load_instance, [DBI_KEYS] = load_key,
		[DBI_ALIASES] = load_alias, [DBI_POLICIES] = load_policy,
		[DBI_USERS] = load_principal, [DBI_ROLES] = load_principal,
		[DBI_GROUPS] = load_principal
	};
	struct load	 l;
	MDB_val		 v;
	int		 rc;

	if ((rc = mdb_get(txn, st->dbi[dbi], (MDB_val *)k, &v)) ==
	    MDB_NOTFOUND)
		return (store_unload_entity(st, wt, dbi, k));
	if (rc != 0)
		return (store_err_mdb(st, rc, store_dbi_names[dbi]));
	if (dbi == DBI_KEYS && reuse)
		store_reuse_key_policy(st, txn, wt, cache, k);
	memset(&l, 0, sizeof(l));
	l.wt = wt;
	l.cache = *cache;
	rc = fn[dbi](st, txn, dbi, k, &v, &l);
	*cache = l.cache;
	return (rc);
}

int
store_load(struct store *st)
{
	struct world_txn	*wt;
	struct world		*w;
	MDB_txn			*txn;
	uint64_t		 gen;
	int			 rc;

	store_errbuf()[0] = '\0';
	if ((rc = store_rtxn(st, &txn)) != 0)
		return (rc);
	if ((rc = store_meta_get_u(st, txn, "generation", 8, &gen)) != 0) {
		mdb_txn_abort(txn);
		return (rc);
	}
	if ((wt = world_txn_begin(NULL)) == NULL) {
		mdb_txn_abort(txn);
		return (store_nomem(st));
	}
	rc = store_load_into(st, txn, wt);
	mdb_txn_abort(txn);
	if (rc != STORE_OK) {
		world_txn_abort(wt);
		return (rc);
	}
	if ((w = world_txn_commit(wt, gen)) == NULL)
		return (store_nomem(st));
	if (st->holder == NULL) {
		if ((st->holder = world_holder_new(w)) == NULL) {
			world_unref(w);
			return (store_nomem(st));
		}
		st->holder_free = world_holder_free;
	} else
		world_holder_publish(st->holder, w);
	st->generation = gen;
	st->loaded = 1;
	return (STORE_OK);
}

int
store_to_bundle(struct store *st, struct bundle **bp)
{
	struct load	 l;
	MDB_txn		*txn;
	int		 rc;

	*bp = NULL;
	store_errbuf()[0] = '\0';
	if ((rc = store_rtxn(st, &txn)) != 0)
		return (rc);
	memset(&l, 0, sizeof(l));
	l.b = xcalloc(1, sizeof(*l.b));
	rc = store_load_walk(st, txn, &l);
	mdb_txn_abort(txn);
	if (rc != STORE_OK) {
		bundle_free(l.b);
		return (rc);
	}
	*bp = l.b;
	return (STORE_OK);
}

/* --- the consistency check --------------------------------------- */

static int
check_version(struct store *st, MDB_txn *txn, int dbi, const MDB_val *k,
    const MDB_val *v, void *arg)
{
	struct store_pvrec	 pv;
	struct store_polrec	 r;
	MDB_val			 pk, pval;

	if (k->mv_size < 7 || store_pvrec_decode(v, &pv) != 0 ||
	    ((const char *)k->mv_data)[k->mv_size - 5] != '\0')
		return (store_corrupt(st, DBI_POLICYVERSIONS, k, "malformed"));
	pk.mv_data = k->mv_data;
	pk.mv_size = k->mv_size - 5;
	if (mdb_get(txn, st->dbi[DBI_POLICIES], &pk, &pval) != 0 ||
	    store_polrec_decode(&pval, &r) != 0)
		return (store_corrupt(st, DBI_POLICYVERSIONS, k,
		    "a version of a policy that does not exist"));
	return (STORE_OK);
}

/* A key policy (keyed by its key's id) or a tag (id, NUL, tag key). */
static int
check_of_key(struct store *st, MDB_txn *txn, int dbi, const MDB_val *k,
    const MDB_val *v, void *arg)
{
	const char	*z = memchr(k->mv_data, 0, k->mv_size);
	MDB_val		 kk, kv;

	if (dbi == DBI_TAGS && (z == NULL || z == k->mv_data ||
	    z == (const char *)k->mv_data + k->mv_size - 1))
		return (store_corrupt(st, DBI_TAGS, k, "malformed"));
	kk.mv_data = k->mv_data;
	kk.mv_size = dbi == DBI_TAGS ? (size_t)(z - (const char *)k->mv_data) :
	    k->mv_size;
	if (mdb_get(txn, st->dbi[DBI_KEYS], &kk, &kv) != 0)
		return (store_corrupt(st, dbi, k, dbi == DBI_TAGS ?
		    "the tag of a key that does not exist" :
		    "the policy of a key that does not exist"));
	return (STORE_OK);
}

static int
check_policy_versions(struct store *st, MDB_txn *txn, int dbi,
    const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_polrec	 r;
	MDB_cursor		*c;
	MDB_val			 ck, cv;
	size_t			 n = 0;
	int			 rc, op = MDB_SET_RANGE;
	unsigned char		 buf[600];

	if (store_polrec_decode(v, &r) != 0 || k->mv_size + 1 > sizeof(buf))
		return (store_corrupt(st, DBI_POLICIES, k, "malformed"));
	memcpy(buf, k->mv_data, k->mv_size);
	buf[k->mv_size] = '\0';
	if ((rc = mdb_cursor_open(txn, st->dbi[DBI_POLICYVERSIONS], &c)) != 0)
		return (store_err_mdb(st, rc, "opening a cursor"));
	ck.mv_data = buf;
	ck.mv_size = k->mv_size + 1;
	while (mdb_cursor_get(c, &ck, &cv, op) == 0) {
		op = MDB_NEXT;
		if (ck.mv_size != k->mv_size + 5 ||
		    memcmp(ck.mv_data, buf, k->mv_size + 1) != 0)
			break;
		n++;
	}
	mdb_cursor_close(c);
	if (n < 1 || n > STORE_POLICY_VERSIONS_MAX)
		return (store_corrupt(st, DBI_POLICIES, k,
		    "not 1 to 5 versions"));
	return (STORE_OK);
}

int
store_check(struct store *st)
{
	struct prefetch		 pf;
	struct load		 l;
	struct world_txn	*wt;
	MDB_txn			*txn;
	uint64_t		 gen;
	int			 rc;

	store_errbuf()[0] = '\0';
	if ((rc = store_rtxn(st, &txn)) != 0)
		return (rc);
	if ((wt = world_txn_begin(NULL)) == NULL) {
		mdb_txn_abort(txn);
		return (store_nomem(st));
	}
	memset(&l, 0, sizeof(l));
	l.wt = wt;
	/* The check validates every text in full, digests or not. */
	store_prefetch(st, txn, &pf, &l.cache, 0);
	l.pf = &pf;
	/* A full load (every text compiles, every reference resolves),
	 * then the records a load does not visit. */
	if ((rc = store_meta_get_u(st, txn, "generation", 8, &gen)) == 0 &&
	    (rc = store_load_walk(st, txn, &l)) == 0) {
		l.check = 1;
		if ((rc = store_walk(st, txn, DBI_KEYS, load_key, &l)) == 0 &&
		    (rc = store_walk(st, txn, DBI_ALIASES, load_alias,
		    &l)) == 0 &&
		    (rc = store_walk(st, txn, DBI_USERS, load_principal,
		    &l)) == 0 &&
		    (rc = store_walk(st, txn, DBI_KEYPOLICIES, check_of_key,
		    &l)) == 0 &&
		    (rc = store_walk(st, txn, DBI_TAGS, check_of_key, &l)) == 0 &&
		    (rc = store_walk(st, txn, DBI_POLICIES,
		    check_policy_versions, &l)) == 0 &&
		    (rc = store_walk(st, txn, DBI_POLICYVERSIONS,
		    check_version, &l)) == 0)
			rc = store_deletions_check(st, txn);
	}
	prefetch_free(&pf);
	pcache_free(&l.cache);
	world_txn_abort(wt);
	mdb_txn_abort(txn);
	return (rc);
}

/* SPDX-License-Identifier: ISC */
/*
 * world-txn.c: world transactions: a copy of a world's roots that puts
 * and deletes entries (a new path from the root each, sharing the rest),
 * committed as a new world or aborted.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpolicy.h"
#include "engine/world.h"
#include "engine/world-int.h"

struct world_txn *
world_txn_begin(const struct world *base)
{
	struct world_txn	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	atomic_init(&t->view.refcnt, 1);
	if (base != NULL) {
		t->view.root = base->root;
		if (t->view.root != NULL)
			world_trie_ref(t->view.root);
		t->view.sroot = base->sroot;
		if (t->view.sroot != NULL)
			world_trie_ref(t->view.sroot);
		memcpy(t->view.count, base->count, sizeof(t->view.count));
		t->view.generation = base->generation;
	}
	return (t);
}

const struct world *
world_txn_view(struct world_txn *t)
{
	return (&t->view);
}

/* Put e (the caller's reference passes); on failure e is freed. */
static int
txn_put(struct world_txn *t, struct h_entry *e)
{
	struct h_obj	*nr;
	int		 replaced = 0;

	if ((nr = world_trie_insert(t->view.root, 0, e, &replaced)) == NULL) {
		world_trie_unref(&e->h);
		errno = ENOMEM;
		return (-1);
	}
	world_trie_unref(t->view.root);
	t->view.root = nr;
	if (!replaced)
		t->view.count[e->h.kind]++;
	return (0);
}

static int
txn_del(struct world_txn *t, unsigned kind, const char *const *id,
    unsigned n)
{
	struct h_obj	*nr;
	size_t		 len[3];
	unsigned	 i;
	int		 status;

	for (i = 0; i < n; i++) {
		if (id[i] == NULL || id[i][0] == '\0') {
			errno = EINVAL;
			return (-1);
		}
		len[i] = strlen(id[i]);
	}
	nr = world_trie_remove(t->view.root, 0, h_hash(kind, id, len, n), kind, id,
	    len, n, &status);
	if (status == -1) {
		errno = ENOMEM;
		return (-1);
	}
	if (status == 0) {
		world_trie_unref(nr);
		errno = ENOENT;
		return (-1);
	}
	world_trie_unref(t->view.root);
	t->view.root = nr;
	t->view.count[kind]--;
	return (0);
}

static int
txn_bad(const char *s)
{
	if (s == NULL || s[0] == '\0') {
		errno = EINVAL;
		return (1);
	}
	return (0);
}

int
world_txn_put_instance(struct world_txn *t, const char *id,
    enum world_instance_state state, uint32_t quota, const char *account)
{
	struct e_pack	 p = { NULL, sizeof(struct h_entry) };
	struct h_entry	*e;

	if (txn_bad(id) || world_instance_state_name(state) == NULL ||
	    (account != NULL && account[0] == '\0')) {
		errno = EINVAL;
		return (-1);
	}
	world_entry_str(&p, id);
	if (account != NULL)
		world_entry_str(&p, account);
	if ((e = world_entry_alloc(&p, H_INSTANCE)) == NULL)
		return (-1);
	e->v.inst.id = world_entry_str(&p, id);
	e->v.inst.account = account != NULL ? world_entry_str(&p, account) : NULL;
	e->v.inst.state = state;
	e->v.inst.share_quota = quota;
	world_entry_ident(e, 1, e->v.inst.id, NULL, NULL);
	return (txn_put(t, e));
}

int
world_txn_del_instance(struct world_txn *t, const char *id)
{
	const char	*ids[1] = { id };

	return (txn_del(t, H_INSTANCE, ids, 1));
}

static int
tag_cmp(const void *a, const void *b)
{
	const struct world_tag	*x = a, *y = b;

	return (strcmp(x->key, y->key));
}

int
world_txn_put_key(struct world_txn *t, const char *id, const char *region,
    const char *creator, const char *instance, enum world_key_state state,
    const struct world_tag *tags, size_t ntags, const struct cpolicy *policy)
{
	struct e_pack	 p = { NULL, sizeof(struct h_entry) };
	struct h_entry	*e;
	const struct h_entry *old;
	struct h_obj	*sr;
	struct world_tag *tv;
	size_t		 i, j;

	if (txn_bad(id) || txn_bad(region) || txn_bad(creator) ||
	    (instance != NULL && instance[0] == '\0') ||
	    (instance == NULL && policy != NULL) ||
	    (policy != NULL && cpolicy_kind(policy) != CPOLICY_KEY) ||
	    world_key_state_name(state) == NULL ||
	    (ntags > 0 && tags == NULL) || ntags > 1024) {
		errno = EINVAL;
		return (-1);
	}
	for (i = 0; i < ntags; i++) {
		if (tags[i].key == NULL || tags[i].value == NULL) {
			errno = EINVAL;
			return (-1);
		}
		for (j = 0; j < i; j++)
			if (strcmp(tags[i].key, tags[j].key) == 0) {
				errno = EINVAL;
				return (-1);
			}
	}
	/* The id right after the entry: a lookup reads both together. */
	world_entry_str(&p, id);
	world_entry_arr(&p, ntags * sizeof(struct world_tag));
	world_entry_str(&p, region);
	world_entry_str(&p, creator);
	if (instance != NULL)
		world_entry_str(&p, instance);
	for (i = 0; i < ntags; i++) {
		world_entry_str(&p, tags[i].key);
		world_entry_str(&p, tags[i].value);
	}
	if ((e = world_entry_alloc(&p, H_KEY)) == NULL)
		return (-1);
	e->v.key.id = world_entry_str(&p, id);
	tv = world_entry_arr(&p, ntags * sizeof(struct world_tag));
	e->v.key.region = world_entry_str(&p, region);
	e->v.key.creator = world_entry_str(&p, creator);
	e->v.key.instance = instance != NULL ? world_entry_str(&p, instance) : NULL;
	e->v.key.state = state;
	for (i = 0; i < ntags; i++) {
		tv[i].key = world_entry_str(&p, tags[i].key);
		tv[i].value = world_entry_str(&p, tags[i].value);
	}
	if (ntags > 1)
		qsort(tv, ntags, sizeof(*tv), tag_cmp);
	e->v.key.tags = ntags ? tv : NULL;
	e->v.key.ntags = ntags;
	e->v.key.policy = cpolicy_ref(policy);
	e->v.key.image = cpolicy_image(policy);
	world_entry_ident(e, 1, e->v.key.id, NULL, NULL);
	/* The share index first (nothing is changed until both are
	 * built), with the key it replaces, alive as long as the root. */
	old = h_find(t->view.root, e->hash, H_KEY, e->id, e->idlen, 1);
	if (world_share_update(&t->view, old, e, &sr) == -1) {
		world_trie_unref(&e->h);
		return (-1);
	}
	if (txn_put(t, e) == -1) {
		world_trie_unref(sr);
		return (-1);
	}
	world_trie_unref(t->view.sroot);
	t->view.sroot = sr;
	return (0);
}

int
world_txn_del_key(struct world_txn *t, const char *id)
{
	const struct h_entry	*old;
	struct h_obj		*sr;
	const char		*ids[1] = { id };
	size_t			 len;

	if (txn_bad(id))
		return (-1);
	len = strlen(id);
	old = h_find(t->view.root, h_hash(H_KEY, ids, &len, 1), H_KEY, ids,
	    &len, 1);
	if (old == NULL) {
		errno = ENOENT;
		return (-1);
	}
	if (world_share_update(&t->view, old, NULL, &sr) == -1)
		return (-1);
	if (txn_del(t, H_KEY, ids, 1) == -1) {
		world_trie_unref(sr);
		return (-1);
	}
	world_trie_unref(t->view.sroot);
	t->view.sroot = sr;
	return (0);
}

int
world_txn_put_alias(struct world_txn *t, const char *name,
    const char *key_id)
{
	struct e_pack	 p = { NULL, sizeof(struct h_entry) };
	struct h_entry	*e;
	struct world_key k;

	if (txn_bad(name) || txn_bad(key_id))
		return (-1);
	if (world_get_key(&t->view, key_id, strlen(key_id), &k) == -1) {
		errno = ENOENT;
		return (-1);
	}
	world_entry_str(&p, k.region);
	world_entry_str(&p, k.creator);
	world_entry_str(&p, name);
	world_entry_str(&p, key_id);
	if ((e = world_entry_alloc(&p, H_ALIAS)) == NULL)
		return (-1);
	e->v.alias.region = world_entry_str(&p, k.region);
	e->v.alias.account = world_entry_str(&p, k.creator);
	e->v.alias.name = world_entry_str(&p, name);
	e->v.alias.key_id = world_entry_str(&p, key_id);
	world_entry_ident(e, 3, e->v.alias.region, e->v.alias.account, e->v.alias.name);
	return (txn_put(t, e));
}

int
world_txn_del_alias(struct world_txn *t, const char *region,
    const char *account, const char *name)
{
	const char	*ids[3] = { region, account, name };

	return (txn_del(t, H_ALIAS, ids, 3));
}

int
world_txn_put_policy(struct world_txn *t, const char *account,
    const char *name, const struct cpolicy *policy)
{
	struct e_pack	 p = { NULL, sizeof(struct h_entry) };
	struct h_entry	*e;

	if (txn_bad(account) || txn_bad(name) || policy == NULL ||
	    cpolicy_kind(policy) != CPOLICY_RAM) {
		errno = EINVAL;
		return (-1);
	}
	world_entry_str(&p, account);
	world_entry_str(&p, name);
	if ((e = world_entry_alloc(&p, H_POLICY)) == NULL)
		return (-1);
	e->v.pol.account = world_entry_str(&p, account);
	e->v.pol.name = world_entry_str(&p, name);
	e->v.pol.policy = cpolicy_ref(policy);
	e->v.pol.image = cpolicy_image(policy);
	world_entry_ident(e, 2, e->v.pol.account, e->v.pol.name, NULL);
	return (txn_put(t, e));
}

int
world_txn_del_policy(struct world_txn *t, const char *account,
    const char *name)
{
	const char	*ids[2] = { account, name };

	return (txn_del(t, H_POLICY, ids, 2));
}

static int
txn_put_pr(struct world_txn *t, unsigned kind, const char *account,
    const char *name, const char *const *groups, size_t ngroups,
    const char *const *policies, size_t npolicies)
{
	struct e_pack	 p = { NULL, sizeof(struct h_entry) };
	struct h_entry	*e;
	const char	**gv, **pv;
	size_t		 i;

	if (txn_bad(account) || txn_bad(name) ||
	    (ngroups > 0 && groups == NULL) ||
	    (npolicies > 0 && policies == NULL) ||
	    ngroups > 65536 || npolicies > 65536) {
		errno = EINVAL;
		return (-1);
	}
	for (i = 0; i < ngroups; i++)
		if (txn_bad(groups[i]))
			return (-1);
	for (i = 0; i < npolicies; i++)
		if (txn_bad(policies[i]))
			return (-1);
	world_entry_arr(&p, ngroups * sizeof(char *));
	world_entry_arr(&p, npolicies * sizeof(char *));
	world_entry_str(&p, account);
	world_entry_str(&p, name);
	for (i = 0; i < ngroups; i++)
		world_entry_str(&p, groups[i]);
	for (i = 0; i < npolicies; i++)
		world_entry_str(&p, policies[i]);
	if ((e = world_entry_alloc(&p, kind)) == NULL)
		return (-1);
	gv = world_entry_arr(&p, ngroups * sizeof(char *));
	pv = world_entry_arr(&p, npolicies * sizeof(char *));
	e->v.pr.account = world_entry_str(&p, account);
	e->v.pr.name = world_entry_str(&p, name);
	for (i = 0; i < ngroups; i++)
		gv[i] = world_entry_str(&p, groups[i]);
	for (i = 0; i < npolicies; i++)
		pv[i] = world_entry_str(&p, policies[i]);
	e->v.pr.groups = ngroups ? gv : NULL;
	e->v.pr.ngroups = ngroups;
	e->v.pr.policies = npolicies ? pv : NULL;
	e->v.pr.npolicies = npolicies;
	world_entry_ident(e, 2, e->v.pr.account, e->v.pr.name, NULL);
	return (txn_put(t, e));
}

int
world_txn_put_user(struct world_txn *t, const char *account,
    const char *name, const char *const *groups, size_t ngroups,
    const char *const *policies, size_t npolicies)
{
	return (txn_put_pr(t, H_USER, account, name, groups, ngroups,
	    policies, npolicies));
}

int
world_txn_put_role(struct world_txn *t, const char *account,
    const char *name, const char *const *policies, size_t npolicies)
{
	return (txn_put_pr(t, H_ROLE, account, name, NULL, 0, policies,
	    npolicies));
}

int
world_txn_put_group(struct world_txn *t, const char *account,
    const char *name, const char *const *policies, size_t npolicies)
{
	return (txn_put_pr(t, H_GROUP, account, name, NULL, 0, policies,
	    npolicies));
}

int
world_txn_del_user(struct world_txn *t, const char *account,
    const char *name)
{
	const char	*ids[2] = { account, name };

	return (txn_del(t, H_USER, ids, 2));
}

int
world_txn_del_role(struct world_txn *t, const char *account,
    const char *name)
{
	const char	*ids[2] = { account, name };

	return (txn_del(t, H_ROLE, ids, 2));
}

int
world_txn_del_group(struct world_txn *t, const char *account,
    const char *name)
{
	const char	*ids[2] = { account, name };

	return (txn_del(t, H_GROUP, ids, 2));
}

struct world *
world_txn_commit(struct world_txn *t, uint64_t generation)
{
	struct world	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		world_txn_abort(t);
		return (NULL);
	}
	atomic_init(&w->refcnt, 1);
	w->generation = generation;
	w->root = t->view.root;		/* the transaction's references */
	w->sroot = t->view.sroot;
	memcpy(w->count, t->view.count, sizeof(w->count));
	free(t);
	w->memo = world_memo_new(w);		/* NULL: decisions do lookups */
	return (w);
}

void
world_txn_abort(struct world_txn *t)
{
	if (t == NULL)
		return;
	world_trie_unref(t->view.root);
	world_trie_unref(t->view.sroot);
	free(t);
}

/* The holder. */

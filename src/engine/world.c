/* SPDX-License-Identifier: ISC */
/*
 * world.c: the compiled world, a persistent hash array mapped trie.
 *
 * One trie holds every entry; an entry's identity is its kind and up to
 * three strings (an instance or key: its id; an alias: region, account
 * and name; a policy, user, role or group: account and name), hashed
 * together.  Interior nodes have a 32-bit bitmap and a dense child array
 * (5 hash bits per level); hashes equal in all 64 bits share a
 * collision node.
 *
 * Persistence: nothing reachable from a committed world is ever
 * modified.  A change builds new nodes along the path from the root to
 * the entry (at most 14) and takes a reference on every other child it
 * shares.  Every node and entry carries an atomic reference count, one
 * per parent pointer (plus one per world for the root); dropping the
 * last reference frees the object and drops one reference on each of
 * its children.  A transaction owns one reference on its current root;
 * replacing the root by a changed copy and dropping the old one frees
 * exactly the intermediate nodes no world shares.
 *
 * Each world has a second trie of the same nodes, its share quota index
 * (foreign accounts per instance, see "Share quota" below), changed in
 * the same way by the transactions that put or delete keys.
 */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpolicy.h"
#include "engine/world.h"
#include "engine/world-int.h"

static const struct h_entry *w_find_h(const struct world *, uint64_t,
		    unsigned, const char *const *, const size_t *, unsigned);

/* Names. */

static const char *const world_inst_names[] = {
	"Enabled", "Disabled", "Expired"
};
static const char *const world_key_names[] = {
	"Enabled", "Disabled", "PendingDeletion", "PendingImport"
};

const char *
world_instance_state_name(enum world_instance_state s)
{
	if ((unsigned)s >= 3)
		return (NULL);
	return (world_inst_names[s]);
}

const char *
world_key_state_name(enum world_key_state s)
{
	if ((unsigned)s >= 4)
		return (NULL);
	return (world_key_names[s]);
}

int
world_instance_state_parse(const char *s, size_t len,
    enum world_instance_state *out)
{
	unsigned	i;

	for (i = 0; i < 3; i++)
		if (strlen(world_inst_names[i]) == len &&
		    memcmp(world_inst_names[i], s, len) == 0) {
			*out = (enum world_instance_state)i;
			return (0);
		}
	return (-1);
}

int
world_key_state_parse(const char *s, size_t len, enum world_key_state *out)
{
	unsigned	i;

	for (i = 0; i < 4; i++)
		if (strlen(world_key_names[i]) == len &&
		    memcmp(world_key_names[i], s, len) == 0) {
			*out = (enum world_key_state)i;
			return (0);
		}
	return (-1);
}

int
world_tag_key_same(const char *a, const char *b)
{
	unsigned char	x, y;

	do {
		x = (unsigned char)*a++;
		y = (unsigned char)*b++;
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return (0);
	} while (x != '\0');
	return (1);
}

/*
 * The per-world memo.
 *
 * A committed world never changes, so whatever is derived from it may
 * be remembered for as long as the world lives, by any thread, without
 * locks: each world gets its own memo at commit (a new version starts
 * empty, so nothing is ever invalidated).  It holds
 *  - a lookup index: open-addressed slots holding entry pointers found
 *    by trie walks, with 4 hash bits in the low pointer bits, so a
 *    repeated lookup is one slot and one entry instead of 3 to 5
 *    dependent node loads;
 *  - resolved principals: a user's or role's identity policies (own,
 *    then each group's, in the principal's account, duplicates left
 *    out) as one flat array, carved from a bump pool.
 * Slots are filled with a compare-and-swap from 0; a lost race or a full
 * pool only means the next lookup walks the trie again.  The memory is
 * one anonymous mapping: zero-filled and committed page by page as it
 * is used, so a commit costs O(1) whatever the size of the world, and
 * nothing is allocated on the decision path.
 */
#define M_PROBES	8
#define M_TAGMASK	((uintptr_t)15)
#define M_POOL_PER_PR	256		/* pool bytes per user or role */
#define M_MAX_RESOLVED	256		/* longer lists are not memoised */

struct w_resolved {
	const struct h_entry	*pr;
	size_t			 n;
	struct world_rpolicy	 v[];
};

struct w_memo {
	size_t			 mapsize;
	size_t			 emask;		/* entry slots - 1 */
	size_t			 pmask;		/* principal slots - 1 */
	_Atomic uintptr_t	*eslot;
	_Atomic uintptr_t	*pslot;
	char			*pool;
	size_t			 poolsize;
	atomic_size_t		 poolused;
	atomic_size_t		 nentries;	/* memoised, for the tests */
	atomic_size_t		 nresolved;
};

static size_t
m_pow2(size_t n)
{
	size_t	p = 16;

	while (p < n && p < ((size_t)1 << 40))
		p <<= 1;
	return (p);
}

struct w_memo *
world_memo_new(const struct world *w)
{
	struct w_memo	*m;
	size_t		 ne, np, esz, psz, pool, total, i;
	char		*base;

	ne = 0;
	for (i = H_INSTANCE; i <= H_GROUP; i++)
		ne += w->count[i];
	np = w->count[H_USER] + w->count[H_ROLE];
	if (ne == 0 || ne > ((size_t)1 << 32))
		return (NULL);
	esz = m_pow2(2 * ne);
	psz = m_pow2(2 * np);
	pool = (np + 16) * M_POOL_PER_PR;
	total = sizeof(*m) + (esz + psz) * sizeof(uintptr_t) + pool;
	base = mmap(NULL, total, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return (NULL);
	m = (struct w_memo *)(void *)base;
	m->mapsize = total;
	m->emask = esz - 1;
	m->pmask = psz - 1;
	m->eslot = (_Atomic uintptr_t *)(void *)(base + sizeof(*m));
	m->pslot = m->eslot + esz;
	m->pool = (char *)(m->pslot + psz);
	m->poolsize = pool;
	atomic_init(&m->poolused, 0);
	atomic_init(&m->nentries, 0);
	atomic_init(&m->nresolved, 0);
	return (m);
}

static void
m_free(struct w_memo *m)
{
	if (m != NULL)
		munmap(m, m->mapsize);
}

/* The entry memoised for this identity, or NULL. */
static const struct h_entry *
m_get(const struct w_memo *m, uint64_t hash, unsigned kind,
    const char *const *id, const size_t *len, unsigned n)
{
	const struct h_entry	*e;
	uintptr_t		 v, tag = (uintptr_t)(hash >> 60);
	size_t			 i, s = (size_t)(hash >> 20);

	for (i = 0; i < M_PROBES; i++) {
		v = atomic_load_explicit(&m->eslot[(s + i) & m->emask],
		    memory_order_acquire);
		if (v == 0)
			return (NULL);
		if ((v & M_TAGMASK) != tag)
			continue;
		e = (const struct h_entry *)(v & ~M_TAGMASK);
		if (e->hash == hash && h_entry_is(e, kind, id, len, n))
			return (e);
	}
	return (NULL);
}

static void
m_put(struct w_memo *m, const struct h_entry *e)
{
	uintptr_t	 v = (uintptr_t)e, want, cur;
	size_t		 i, s = (size_t)(e->hash >> 20);

	if ((v & M_TAGMASK) != 0)
		return;			/* not 16-aligned: not memoised */
	want = v | (uintptr_t)(e->hash >> 60);
	for (i = 0; i < M_PROBES; i++) {
		cur = 0;
		if (atomic_compare_exchange_strong_explicit(
		    &m->eslot[(s + i) & m->emask], &cur, want,
		    memory_order_release, memory_order_relaxed)) {
			atomic_fetch_add_explicit(&m->nentries, 1,
			    memory_order_relaxed);
			return;
		}
		if (cur == want)
			return;
	}
}

/*
 * Resolve principal e's identity policies into the pool; NULL when the
 * list is too long or the pool is used up (the caller then does the
 * lookups itself).
 */
static struct w_resolved *
m_resolve(const struct world *w, struct w_memo *m, const struct h_entry *e)
{
	const struct world_principal	*pr = &e->v.pr, *gp;
	const struct h_entry		*ge, *pe;
	struct w_resolved		*r;
	const char			*id[2];
	size_t				 len[2], i, j, k, cnt, size, off;

	id[0] = pr->account;
	len[0] = e->idlen[0];
	cnt = pr->npolicies;
	for (i = 0; i < pr->ngroups && cnt <= M_MAX_RESOLVED; i++) {
		id[1] = pr->groups[i];
		len[1] = strlen(id[1]);
		if ((ge = w_find_h(w, h_hash(H_GROUP, id, len, 2), H_GROUP, id,
		    len, 2)) != NULL)
			cnt += ge->v.pr.npolicies;
	}
	if (cnt > M_MAX_RESOLVED)
		return (NULL);
	size = (sizeof(*r) + cnt * sizeof(r->v[0]) + 15) & ~(size_t)15;
	off = atomic_fetch_add_explicit(&m->poolused, size,
	    memory_order_relaxed);
	if (off > m->poolsize || m->poolsize - off < size)
		return (NULL);
	r = (struct w_resolved *)(void *)(m->pool + off);
	r->pr = e;
	r->n = 0;
	/* Own policies first, then each group's, as eval did by lookups. */
	for (i = 0; i <= pr->ngroups; i++) {
		if (i == 0)
			gp = pr;
		else {
			id[1] = pr->groups[i - 1];
			len[1] = strlen(id[1]);
			if ((ge = w_find_h(w, h_hash(H_GROUP, id, len, 2),
			    H_GROUP, id, len, 2)) == NULL)
				continue;
			gp = &ge->v.pr;
		}
		for (j = 0; j < gp->npolicies && r->n < cnt; j++) {
			id[1] = gp->policies[j];
			len[1] = strlen(id[1]);
			if ((pe = w_find_h(w, h_hash(H_POLICY, id, len, 2),
			    H_POLICY, id, len, 2)) == NULL)
				continue;
			for (k = 0; k < r->n; k++)
				if (r->v[k].name == pe->v.pol.name)
					break;
			if (k < r->n)
				continue;	/* attached twice */
			r->v[r->n].policy = pe->v.pol.policy;
			r->v[r->n].image = pe->v.pol.image;
			r->v[r->n].name = pe->v.pol.name;
			r->v[r->n].namelen = pe->idlen[1];
			r->n++;
		}
	}
	return (r);
}

int
world_principal_policies(const struct world *w, int is_user,
    const char *account, size_t alen, const char *name, size_t nlen,
    const struct world_rpolicy **vp, size_t *np)
{
	struct w_memo		*m;
	const struct h_entry	*e;
	struct w_resolved	*r;
	const char		*id[2] = { account, name };
	size_t			 len[2] = { alen, nlen }, i, s;
	unsigned		 kind = is_user ? H_USER : H_ROLE;
	uint64_t		 hash;
	uintptr_t		 v, tag, want, cur;

	if (w == NULL)
		return (-1);
	hash = h_hash(kind, id, len, 2);
	if ((m = w->memo) == NULL)
		return (w_find_h(w, hash, kind, id, len, 2) == NULL ? -1 : 0);
	tag = (uintptr_t)(hash >> 60);
	s = (size_t)(hash >> 20);
	for (i = 0; i < M_PROBES; i++) {
		v = atomic_load_explicit(&m->pslot[(s + i) & m->pmask],
		    memory_order_acquire);
		if (v == 0)
			break;
		if ((v & M_TAGMASK) != tag)
			continue;
		r = (struct w_resolved *)(v & ~M_TAGMASK);
		if (r->pr->hash == hash && h_entry_is(r->pr, kind, id, len,
		    2)) {
			*vp = r->v;
			*np = r->n;
			return (1);
		}
	}
	if ((e = w_find_h(w, hash, kind, id, len, 2)) == NULL)
		return (-1);
	if ((r = m_resolve(w, m, e)) == NULL)
		return (0);
	/* Publish it; losing the race (or a full probe run) is harmless:
	 * this decision uses its own copy. */
	want = (uintptr_t)r | tag;
	for (i = 0; i < M_PROBES; i++) {
		cur = 0;
		if (atomic_compare_exchange_strong_explicit(
		    &m->pslot[(s + i) & m->pmask], &cur, want,
		    memory_order_release, memory_order_relaxed)) {
			atomic_fetch_add_explicit(&m->nresolved, 1,
			    memory_order_relaxed);
			break;
		}
		/* Another thread published this principal first. */
		if ((cur & M_TAGMASK) == tag && ((struct w_resolved *)
		    (cur & ~M_TAGMASK))->pr == e)
			break;
	}
	*vp = r->v;
	*np = r->n;
	return (1);
}

void
world_memo_stats(const struct world *w, size_t *entries, size_t *principals)
{
	*entries = *principals = 0;
	if (w == NULL || w->memo == NULL)
		return;
	*entries = atomic_load_explicit(&w->memo->nentries,
	    memory_order_relaxed);
	*principals = atomic_load_explicit(&w->memo->nresolved,
	    memory_order_relaxed);
}

/* Worlds. */

struct world *
world_new_empty(void)
{
	struct world	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (NULL);
	atomic_init(&w->refcnt, 1);
	return (w);
}

struct world *
world_ref(struct world *w)
{
	if (w != NULL)
		atomic_fetch_add_explicit(&w->refcnt, 1, memory_order_relaxed);
	return (w);
}

void
world_unref(struct world *w)
{
	if (w == NULL || atomic_fetch_sub_explicit(&w->refcnt, 1,
	    memory_order_acq_rel) != 1)
		return;
	world_trie_unref(w->root);
	world_trie_unref(w->sroot);
	m_free(w->memo);
	free(w);
}

uint64_t
world_generation(const struct world *w)
{
	return (w->generation);
}

void
world_counts(const struct world *w, struct world_counts *c)
{
	c->instances = w->count[H_INSTANCE];
	c->keys = w->count[H_KEY];
	c->aliases = w->count[H_ALIAS];
	c->policies = w->count[H_POLICY];
	c->users = w->count[H_USER];
	c->roles = w->count[H_ROLE];
	c->groups = w->count[H_GROUP];
}

static const struct h_entry *
w_find_h(const struct world *w, uint64_t hash, unsigned kind,
    const char *const *id, const size_t *len, unsigned n)
{
	const struct h_entry	*e;

	if (w->memo != NULL && (e = m_get(w->memo, hash, kind, id, len,
	    n)) != NULL)
		return (e);
	e = h_find(w->root, hash, kind, id, len, n);
	if (e != NULL && w->memo != NULL)
		m_put(w->memo, e);
	return (e);
}

const struct h_entry *
world_find(const struct world *w, unsigned kind, const char *a, size_t alen,
    const char *b, size_t blen, const char *c, size_t clen, unsigned n)
{
	const char	*id[3] = { a, b, c };
	size_t		 len[3] = { alen, blen, clen };

	if (w == NULL)
		return (NULL);
	return (w_find_h(w, h_hash(kind, id, len, n), kind, id, len, n));
}

int
world_get_instance(const struct world *w, const char *id, size_t len,
    struct world_instance *out)
{
	const struct h_entry	*e;

	if ((e = world_find(w, H_INSTANCE, id, len, NULL, 0, NULL, 0, 1)) == NULL)
		return (-1);
	*out = e->v.inst;
	return (0);
}

int
world_get_key(const struct world *w, const char *id, size_t len,
    struct world_key *out)
{
	const struct h_entry	*e;

	if ((e = world_find(w, H_KEY, id, len, NULL, 0, NULL, 0, 1)) == NULL)
		return (-1);
	*out = e->v.key;
	return (0);
}

int
world_get_alias(const struct world *w, const char *region, size_t rlen,
    const char *account, size_t alen, const char *name, size_t nlen,
    struct world_alias *out)
{
	const struct h_entry	*e;

	if ((e = world_find(w, H_ALIAS, region, rlen, account, alen, name, nlen,
	    3)) == NULL)
		return (-1);
	*out = e->v.alias;
	return (0);
}

static int
w_get2(const struct world *w, unsigned kind, const char *account,
    size_t alen, const char *name, size_t nlen, const struct h_entry **ep)
{
	*ep = world_find(w, kind, account, alen, name, nlen, NULL, 0, 2);
	return (*ep == NULL ? -1 : 0);
}

int
world_get_policy(const struct world *w, const char *account, size_t alen,
    const char *name, size_t nlen, struct world_policy *out)
{
	const struct h_entry	*e;

	if (w_get2(w, H_POLICY, account, alen, name, nlen, &e) == -1)
		return (-1);
	*out = e->v.pol;
	return (0);
}

int
world_get_user(const struct world *w, const char *account, size_t alen,
    const char *name, size_t nlen, struct world_principal *out)
{
	const struct h_entry	*e;

	if (w_get2(w, H_USER, account, alen, name, nlen, &e) == -1)
		return (-1);
	*out = e->v.pr;
	return (0);
}

int
world_get_role(const struct world *w, const char *account, size_t alen,
    const char *name, size_t nlen, struct world_principal *out)
{
	const struct h_entry	*e;

	if (w_get2(w, H_ROLE, account, alen, name, nlen, &e) == -1)
		return (-1);
	*out = e->v.pr;
	return (0);
}

int
world_get_group(const struct world *w, const char *account, size_t alen,
    const char *name, size_t nlen, struct world_principal *out)
{
	const struct h_entry	*e;

	if (w_get2(w, H_GROUP, account, alen, name, nlen, &e) == -1)
		return (-1);
	*out = e->v.pr;
	return (0);
}

/* Iteration: adapt entry callbacks to the typed ones. */
struct w_iter {
	union {
		world_instance_cb	inst;
		world_key_cb		key;
		world_alias_cb		alias;
		world_policy_cb		pol;
		world_principal_cb	pr;
	} cb;
	void	*arg;
};

static int
w_iter_inst(const struct h_entry *e, void *a)
{
	struct w_iter	*it = a;

	return (it->cb.inst(&e->v.inst, it->arg));
}

static int
w_iter_key(const struct h_entry *e, void *a)
{
	struct w_iter	*it = a;

	return (it->cb.key(&e->v.key, it->arg));
}

static int
w_iter_alias(const struct h_entry *e, void *a)
{
	struct w_iter	*it = a;

	return (it->cb.alias(&e->v.alias, it->arg));
}

static int
w_iter_pol(const struct h_entry *e, void *a)
{
	struct w_iter	*it = a;

	return (it->cb.pol(&e->v.pol, it->arg));
}

static int
w_iter_pr(const struct h_entry *e, void *a)
{
	struct w_iter	*it = a;

	return (it->cb.pr(&e->v.pr, it->arg));
}

int
world_foreach_instance(const struct world *w, world_instance_cb cb,
    void *arg)
{
	struct w_iter	it = { .arg = arg };

	it.cb.inst = cb;
	return (world_trie_walk(w->root, H_INSTANCE, w_iter_inst, &it));
}

int
world_foreach_key(const struct world *w, world_key_cb cb, void *arg)
{
	struct w_iter	it = { .arg = arg };

	it.cb.key = cb;
	return (world_trie_walk(w->root, H_KEY, w_iter_key, &it));
}

int
world_foreach_alias(const struct world *w, world_alias_cb cb, void *arg)
{
	struct w_iter	it = { .arg = arg };

	it.cb.alias = cb;
	return (world_trie_walk(w->root, H_ALIAS, w_iter_alias, &it));
}

int
world_foreach_policy(const struct world *w, world_policy_cb cb, void *arg)
{
	struct w_iter	it = { .arg = arg };

	it.cb.pol = cb;
	return (world_trie_walk(w->root, H_POLICY, w_iter_pol, &it));
}

static int
w_foreach_pr(const struct world *w, unsigned kind, world_principal_cb cb,
    void *arg)
{
	struct w_iter	it = { .arg = arg };

	it.cb.pr = cb;
	return (world_trie_walk(w->root, kind, w_iter_pr, &it));
}

int
world_foreach_user(const struct world *w, world_principal_cb cb, void *arg)
{
	return (w_foreach_pr(w, H_USER, cb, arg));
}

int
world_foreach_role(const struct world *w, world_principal_cb cb, void *arg)
{
	return (w_foreach_pr(w, H_ROLE, cb, arg));
}

int
world_foreach_group(const struct world *w, world_principal_cb cb, void *arg)
{
	return (w_foreach_pr(w, H_GROUP, cb, arg));
}

/* An object is shared when it, or any ancestor, has more than one
 * parent (reference). */
static void
world_trie_stats(const struct h_obj *o, int shared, size_t *total, size_t *unshared)
{
	const struct h_node	*nd;
	const struct h_coll	*co;
	unsigned		 i, n;

	if (o == NULL)
		return;
	(*total)++;
	if (atomic_load_explicit(&((struct h_obj *)o)->refcnt,
	    memory_order_relaxed) > 1)
		shared = 1;
	if (!shared)
		(*unshared)++;
	if (o->kind == H_NODE) {
		nd = (const struct h_node *)o;
		n = (unsigned)h_popcount(nd->bitmap);
		for (i = 0; i < n; i++)
			world_trie_stats(nd->child[i], shared, total, unshared);
	} else if (o->kind == H_COLL) {
		co = (const struct h_coll *)o;
		for (i = 0; i < co->n; i++)
			world_trie_stats(&co->e[i]->h, shared, total, unshared);
	}
}

void
world_node_stats(const struct world *w, size_t *total, size_t *unshared)
{
	*total = *unshared = 0;
	world_trie_stats(w->root, 0, total, unshared);
	world_trie_stats(w->sroot, 0, total, unshared);
}

struct world_holder *
world_holder_new(struct world *w)
{
	struct world_holder	*h;

	if (w == NULL && (w = world_new_empty()) == NULL)
		return (NULL);
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		world_unref(w);
		return (NULL);
	}
	if (pthread_mutex_init(&h->mtx, NULL) != 0) {
		world_unref(w);
		free(h);
		return (NULL);
	}
	h->cur = w;
	atomic_init(&h->gen, w->generation);
	return (h);
}

void
world_holder_free(struct world_holder *h)
{
	if (h == NULL)
		return;
	world_unref(h->cur);
	pthread_mutex_destroy(&h->mtx);
	free(h);
}

void
world_holder_publish(struct world_holder *h, struct world *w)
{
	struct world	*old;

	if (w == NULL)
		return;
	pthread_mutex_lock(&h->mtx);
	old = h->cur;
	h->cur = w;
	atomic_store_explicit(&h->gen, w->generation, memory_order_release);
	pthread_mutex_unlock(&h->mtx);
	/* Outside the lock: freeing a large world takes time. */
	world_unref(old);
}

struct world *
world_holder_acquire(struct world_holder *h)
{
	struct world	*w;

	pthread_mutex_lock(&h->mtx);
	w = world_ref(h->cur);
	pthread_mutex_unlock(&h->mtx);
	return (w);
}

uint64_t
world_holder_generation(struct world_holder *h)
{
	return (atomic_load_explicit(&h->gen, memory_order_acquire));
}

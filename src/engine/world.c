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

enum h_kind {
	H_NODE,
	H_COLL,
	H_INSTANCE,
	H_KEY,
	H_ALIAS,
	H_POLICY,
	H_USER,
	H_ROLE,
	H_GROUP,
	H_SACCT,	/* share index: (instance, account) */
	H_SINST,	/* share index: (instance) */
	H_NKINDS
};

struct h_obj {
	atomic_uint	refcnt;
	uint8_t		kind;
	uint8_t		nid;		/* entries: identifier parts */
};

struct h_node {
	struct h_obj	 h;
	uint32_t	 bitmap;
	struct h_obj	*child[];	/* popcount(bitmap) */
};

struct h_entry;

struct h_coll {
	struct h_obj	 h;
	uint64_t	 hash;
	uint32_t	 n;
	struct h_entry	*e[];
};

struct h_entry {
	struct h_obj	 h;
	uint64_t	 hash;
	const char	*id[3];
	size_t		 idlen[3];
	union {
		struct world_instance	inst;
		struct world_key	key;
		struct world_alias	alias;
		struct world_policy	pol;
		struct world_principal	pr;
		struct {
			const char	*instance;
			const char	*account;	/* H_SINST: NULL */
			size_t		 n;
		} sh;
	} v;
	/* strings and arrays follow in the same allocation */
};

struct w_memo;

struct world {
	atomic_uint	 refcnt;
	uint64_t	 generation;
	struct h_obj	*root;		/* NULL: empty */
	struct h_obj	*sroot;		/* the share index; NULL: empty */
	struct w_memo	*memo;		/* committed worlds only; may be NULL */
	size_t		 count[H_NKINDS];
};

struct world_txn {
	struct world	 view;		/* root owned by the transaction */
};

struct world_holder {
	pthread_mutex_t	 mtx;
	struct world	*cur;
	_Atomic uint64_t gen;
};

#define H_BITS		5
#define H_MAXDEPTH	13		/* 13 * 5 > 64: then collisions */

static uint64_t	h_hash(unsigned, const char *const *, const size_t *,
		    unsigned);
static void	h_ref(struct h_obj *);
static void	h_unref(struct h_obj *);
static const struct h_entry *h_find(const struct h_obj *, uint64_t, unsigned,
		    const char *const *, const size_t *, unsigned);
static int	h_entry_is(const struct h_entry *, unsigned,
		    const char *const *, const size_t *, unsigned);
static struct h_obj *h_insert(struct h_obj *, unsigned, struct h_entry *,
		    int *);
static struct h_obj *h_remove(struct h_obj *, unsigned, uint64_t, unsigned,
		    const char *const *, const size_t *, unsigned, int *);
static int	h_walk(const struct h_obj *, unsigned,
		    int (*)(const struct h_entry *, void *), void *);
static const struct h_entry *w_find_h(const struct world *, uint64_t,
		    unsigned, const char *const *, const size_t *, unsigned);
static int	txn_put(struct world_txn *, struct h_entry *);
static int	s_update(const struct world *, const struct h_entry *,
		    const struct h_entry *, struct h_obj **);
static int	txn_del(struct world_txn *, unsigned, const char *const *,
		    unsigned);

/*
 * Bits set in a 32-bit word.  Without -mpopcnt, __builtin_popcount is a
 * library call; this is a few inline instructions on the lookup path.
 */
static inline unsigned
h_popcount(uint32_t x)
{
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0fu;
	return ((x * 0x01010101u) >> 24);
}

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

/* The trie. */

/*
 * Each part eight bytes at a time (a multiply and a fold per word), its
 * length after it so that parts cannot run into each other, then a
 * mixer so that every 5-bit slice is well distributed.  Names are
 * written by admins, not by requesters: no keyed hash is needed.
 */
static uint64_t
h_hash(unsigned kind, const char *const *id, const size_t *len, unsigned n)
{
	const unsigned char	*p;
	uint64_t		 h = 0xcbf29ce484222325ULL ^ kind, wd;
	uint32_t		 lo, hi;
	unsigned		 i;
	size_t			 j, m;

	for (i = 0; i < n; i++) {
		for (j = 0; j + 8 <= len[i]; j += 8) {
			memcpy(&wd, id[i] + j, 8);
			h = (h ^ wd) * 0x9e3779b97f4a7c15ULL;
			h ^= h >> 29;
		}
		/* The last 1 to 7 bytes in two overlapping loads (or three
		 * bytes): for a given length, every byte is covered. */
		p = (const unsigned char *)id[i] + j;
		if ((m = len[i] - j) >= 4) {
			memcpy(&lo, p, 4);
			memcpy(&hi, p + m - 4, 4);
			wd = lo | (uint64_t)hi << 32;
		} else if (m != 0)
			wd = p[0] | (uint64_t)p[m / 2] << 8 |
			    (uint64_t)p[m - 1] << 16;
		else
			wd = 0;
		h = (h ^ wd ^ ((uint64_t)len[i] << 56)) *
		    0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (h);
}

static void
h_ref(struct h_obj *o)
{
	atomic_fetch_add_explicit(&o->refcnt, 1, memory_order_relaxed);
}

static void
h_entry_free(struct h_entry *e)
{
	if (e->h.kind == H_KEY)
		cpolicy_unref(e->v.key.policy);
	else if (e->h.kind == H_POLICY)
		cpolicy_unref(e->v.pol.policy);
	free(e);
}

static void
h_unref(struct h_obj *o)
{
	struct h_node	*nd;
	struct h_coll	*co;
	unsigned	 i, n;

	if (o == NULL || atomic_fetch_sub_explicit(&o->refcnt, 1,
	    memory_order_acq_rel) != 1)
		return;
	switch (o->kind) {
	case H_NODE:
		nd = (struct h_node *)o;
		n = (unsigned)h_popcount(nd->bitmap);
		for (i = 0; i < n; i++)
			h_unref(nd->child[i]);
		free(nd);
		break;
	case H_COLL:
		co = (struct h_coll *)o;
		for (i = 0; i < co->n; i++)
			h_unref(&co->e[i]->h);
		free(co);
		break;
	default:
		h_entry_free((struct h_entry *)o);
		break;
	}
}

static int
h_entry_is(const struct h_entry *e, unsigned kind, const char *const *id,
    const size_t *len, unsigned n)
{
	unsigned	i;

	if (e->h.kind != kind || e->h.nid != n)
		return (0);
	for (i = 0; i < n; i++)
		if (e->idlen[i] != len[i] ||
		    memcmp(e->id[i], id[i], len[i]) != 0)
			return (0);
	return (1);
}

static const struct h_entry *
h_find(const struct h_obj *o, uint64_t hash, unsigned kind,
    const char *const *id, const size_t *len, unsigned n)
{
	const struct h_node	*nd;
	const struct h_coll	*co;
	unsigned		 depth = 0, bit, i;

	while (o != NULL) {
		switch (o->kind) {
		case H_NODE:
			nd = (const struct h_node *)o;
			bit = (unsigned)(hash >> (depth * H_BITS)) & 31;
			if ((nd->bitmap & (1u << bit)) == 0)
				return (NULL);
			o = nd->child[h_popcount(nd->bitmap &
			    ((1u << bit) - 1))];
			depth++;
			break;
		case H_COLL:
			co = (const struct h_coll *)o;
			for (i = 0; i < co->n; i++)
				if (h_entry_is(co->e[i], kind, id, len, n))
					return (co->e[i]);
			return (NULL);
		default:
			if (h_entry_is((const struct h_entry *)o, kind, id,
			    len, n))
				return ((const struct h_entry *)o);
			return (NULL);
		}
	}
	return (NULL);
}

static struct h_node *
h_node_new(unsigned n)
{
	struct h_node	*nd;

	if ((nd = calloc(1, sizeof(*nd) + n * sizeof(nd->child[0]))) == NULL)
		return (NULL);
	atomic_init(&nd->h.refcnt, 1);
	nd->h.kind = H_NODE;
	return (nd);
}

static uint64_t
h_obj_hash(const struct h_obj *o)
{
	if (o->kind == H_COLL)
		return (((const struct h_coll *)o)->hash);
	return (((const struct h_entry *)o)->hash);
}

/*
 * Two leaves (entries or collision nodes) a and b, both owned by the
 * caller, under one new subtree at depth.  Returns it or NULL.
 */
static struct h_obj *
h_join(struct h_obj *a, struct h_obj *b, unsigned depth)
{
	uint64_t	 ha = h_obj_hash(a), hb = h_obj_hash(b);
	unsigned	 ba, bb;
	struct h_node	*nd;
	struct h_coll	*co;
	struct h_obj	*sub;

	if (depth >= H_MAXDEPTH || ha == hb) {
		/* Same full hash: a collision node of entries (b is an
		 * entry; a an entry or a collision node). */
		if (a->kind == H_COLL) {
			struct h_coll *oc = (struct h_coll *)a;

			if ((co = calloc(1, sizeof(*co) + (oc->n + 1) *
			    sizeof(co->e[0]))) == NULL)
				return (NULL);
			for (ba = 0; ba < oc->n; ba++) {
				co->e[ba] = oc->e[ba];
				h_ref(&oc->e[ba]->h);
			}
			co->n = oc->n;
			h_unref(a);
		} else {
			if ((co = calloc(1, sizeof(*co) + 2 *
			    sizeof(co->e[0]))) == NULL)
				return (NULL);
			co->e[co->n++] = (struct h_entry *)a;
		}
		atomic_init(&co->h.refcnt, 1);
		co->h.kind = H_COLL;
		co->hash = ha;
		co->e[co->n++] = (struct h_entry *)b;
		return (&co->h);
	}
	ba = (unsigned)(ha >> (depth * H_BITS)) & 31;
	bb = (unsigned)(hb >> (depth * H_BITS)) & 31;
	if (ba == bb) {
		if ((nd = h_node_new(1)) == NULL)
			return (NULL);
		if ((sub = h_join(a, b, depth + 1)) == NULL) {
			free(nd);
			return (NULL);
		}
		nd->bitmap = 1u << ba;
		nd->child[0] = sub;
		return (&nd->h);
	}
	if ((nd = h_node_new(2)) == NULL)
		return (NULL);
	nd->bitmap = (1u << ba) | (1u << bb);
	nd->child[ba < bb ? 0 : 1] = a;
	nd->child[ba < bb ? 1 : 0] = b;
	return (&nd->h);
}

/*
 * Insert e (the caller's reference passes to the result) into the
 * subtree o (borrowed) at depth; returns a new subtree with one
 * reference, or NULL (then e is still the caller's).  *replaced is set
 * when an entry of the same identity was replaced.
 */
static struct h_obj *
h_insert(struct h_obj *o, unsigned depth, struct h_entry *e, int *replaced)
{
	struct h_node	*nd, *nn;
	struct h_coll	*co, *nc;
	struct h_entry	*old;
	struct h_obj	*sub;
	unsigned	 bit, idx, n, i;

	if (o == NULL) {
		if ((nd = h_node_new(1)) == NULL)
			return (NULL);
		nd->bitmap = 1u << ((unsigned)(e->hash >> (depth * H_BITS)) &
		    31);
		nd->child[0] = &e->h;
		return (&nd->h);
	}
	switch (o->kind) {
	case H_NODE:
		nd = (struct h_node *)o;
		bit = (unsigned)(e->hash >> (depth * H_BITS)) & 31;
		idx = (unsigned)h_popcount(nd->bitmap &
		    ((1u << bit) - 1));
		n = (unsigned)h_popcount(nd->bitmap);
		if (nd->bitmap & (1u << bit)) {
			sub = nd->child[idx];
			if (sub->kind == H_NODE || sub->kind == H_COLL)
				sub = h_insert(sub, depth + 1, e, replaced);
			else {
				old = (struct h_entry *)sub;
				if (h_entry_is(old, e->h.kind, e->id,
				    e->idlen, e->h.nid)) {
					*replaced = 1;
					sub = &e->h;
				} else {
					h_ref(&old->h);
					sub = h_join(&old->h, &e->h,
					    depth + 1);
					if (sub == NULL)
						h_unref(&old->h);
				}
			}
			if (sub == NULL)
				return (NULL);
			if ((nn = h_node_new(n)) == NULL) {
				if (sub != &e->h) {
					/* Give e back: keep its reference
					 * out of sub's destruction. */
					h_ref(&e->h);
					h_unref(sub);
				}
				return (NULL);
			}
			nn->bitmap = nd->bitmap;
			for (i = 0; i < n; i++) {
				if (i == idx)
					nn->child[i] = sub;
				else {
					nn->child[i] = nd->child[i];
					h_ref(nn->child[i]);
				}
			}
			return (&nn->h);
		}
		if ((nn = h_node_new(n + 1)) == NULL)
			return (NULL);
		nn->bitmap = nd->bitmap | (1u << bit);
		for (i = 0; i < idx; i++) {
			nn->child[i] = nd->child[i];
			h_ref(nn->child[i]);
		}
		nn->child[idx] = &e->h;
		for (i = idx; i < n; i++) {
			nn->child[i + 1] = nd->child[i];
			h_ref(nd->child[i]);
		}
		return (&nn->h);
	case H_COLL:
		co = (struct h_coll *)o;
		if (co->hash != e->hash) {
			h_ref(o);
			if ((sub = h_join(o, &e->h, depth)) == NULL)
				h_unref(o);
			return (sub);
		}
		for (i = 0; i < co->n; i++)
			if (h_entry_is(co->e[i], e->h.kind, e->id, e->idlen,
			    e->h.nid))
				break;
		n = i < co->n ? co->n : co->n + 1;
		if ((nc = calloc(1, sizeof(*nc) + n * sizeof(nc->e[0]))) ==
		    NULL)
			return (NULL);
		atomic_init(&nc->h.refcnt, 1);
		nc->h.kind = H_COLL;
		nc->hash = co->hash;
		nc->n = n;
		for (idx = 0; idx < co->n; idx++) {
			if (idx == i) {
				nc->e[idx] = e;
				*replaced = 1;
			} else {
				nc->e[idx] = co->e[idx];
				h_ref(&co->e[idx]->h);
			}
		}
		if (i == co->n)
			nc->e[co->n] = e;
		return (&nc->h);
	default:
		/* Only reached for a root that is an entry (never). */
		return (NULL);
	}
}

/*
 * Remove the entry of that identity from subtree o (borrowed).  Returns
 * the new subtree (one reference; NULL when it is now empty) and sets
 * *status to 1 when removed, 0 when absent (then the result is o with a
 * new reference), -1 when out of memory.
 */
static struct h_obj *
h_remove(struct h_obj *o, unsigned depth, uint64_t hash, unsigned kind,
    const char *const *id, const size_t *len, unsigned nid, int *status)
{
	struct h_node	*nd, *nn;
	struct h_coll	*co, *nc;
	struct h_obj	*sub, *child;
	unsigned	 bit, idx, n, i, j;

	*status = 0;
	if (o == NULL)
		return (NULL);
	switch (o->kind) {
	case H_NODE:
		nd = (struct h_node *)o;
		bit = (unsigned)(hash >> (depth * H_BITS)) & 31;
		if ((nd->bitmap & (1u << bit)) == 0)
			break;
		idx = (unsigned)h_popcount(nd->bitmap &
		    ((1u << bit) - 1));
		n = (unsigned)h_popcount(nd->bitmap);
		child = nd->child[idx];
		if (child->kind == H_NODE || child->kind == H_COLL) {
			sub = h_remove(child, depth + 1, hash, kind, id, len,
			    nid, status);
			if (*status != 1) {
				if (*status == 0)
					h_unref(sub);
				break;
			}
		} else {
			if (!h_entry_is((struct h_entry *)child, kind, id,
			    len, nid))
				break;
			sub = NULL;
			*status = 1;
		}
		if (sub == NULL && n == 1)
			return (NULL);
		if ((nn = h_node_new(sub == NULL ? n - 1 : n)) == NULL) {
			h_unref(sub);
			*status = -1;
			return (NULL);
		}
		nn->bitmap = sub == NULL ? nd->bitmap & ~(1u << bit) :
		    nd->bitmap;
		for (i = 0, j = 0; i < n; i++) {
			if (i == idx) {
				if (sub != NULL)
					nn->child[j++] = sub;
				continue;
			}
			nn->child[j] = nd->child[i];
			h_ref(nn->child[j++]);
		}
		return (&nn->h);
	case H_COLL:
		co = (struct h_coll *)o;
		for (idx = 0; idx < co->n; idx++)
			if (h_entry_is(co->e[idx], kind, id, len, nid))
				break;
		if (idx == co->n)
			break;
		*status = 1;
		if (co->n == 1)
			return (NULL);
		if (co->n == 2) {
			/* A lone entry stands for itself. */
			sub = &co->e[1 - idx]->h;
			h_ref(sub);
			return (sub);
		}
		if ((nc = calloc(1, sizeof(*nc) + (co->n - 1) *
		    sizeof(nc->e[0]))) == NULL) {
			*status = -1;
			return (NULL);
		}
		atomic_init(&nc->h.refcnt, 1);
		nc->h.kind = H_COLL;
		nc->hash = co->hash;
		for (i = 0, j = 0; i < co->n; i++) {
			if (i == idx)
				continue;
			nc->e[j] = co->e[i];
			h_ref(&nc->e[j++]->h);
		}
		nc->n = j;
		return (&nc->h);
	default:
		break;
	}
	h_ref(o);
	return (o);
}

static int
h_walk(const struct h_obj *o, unsigned kind,
    int (*cb)(const struct h_entry *, void *), void *arg)
{
	const struct h_node	*nd;
	const struct h_coll	*co;
	unsigned		 i, n;
	int			 r;

	if (o == NULL)
		return (0);
	switch (o->kind) {
	case H_NODE:
		nd = (const struct h_node *)o;
		n = (unsigned)h_popcount(nd->bitmap);
		for (i = 0; i < n; i++)
			if ((r = h_walk(nd->child[i], kind, cb, arg)) != 0)
				return (r);
		return (0);
	case H_COLL:
		co = (const struct h_coll *)o;
		for (i = 0; i < co->n; i++)
			if (co->e[i]->h.kind == kind &&
			    (r = cb(co->e[i], arg)) != 0)
				return (r);
		return (0);
	default:
		if (o->kind == kind)
			return (cb((const struct h_entry *)o, arg));
		return (0);
	}
}

/* Entries: one allocation holding the entry, its arrays and strings. */

struct e_pack {
	char	*base;		/* NULL while sizing */
	size_t	 off;
};

static const char *
e_str(struct e_pack *p, const char *s)
{
	size_t	 len = strlen(s) + 1;
	char	*d = NULL;

	if (p->base != NULL) {
		d = p->base + p->off;
		memcpy(d, s, len);
	}
	p->off += len;
	return (d);
}

static void *
e_arr(struct e_pack *p, size_t sz)
{
	void	*d = NULL;

	p->off = (p->off + 7) & ~(size_t)7;
	if (p->base != NULL)
		d = p->base + p->off;
	p->off += sz;
	return (d);
}

static struct h_entry *
e_alloc(struct e_pack *p, unsigned kind)
{
	struct h_entry	*e;

	if ((e = calloc(1, p->off)) == NULL)
		return (NULL);
	atomic_init(&e->h.refcnt, 1);
	e->h.kind = (uint8_t)kind;
	p->base = (char *)e;
	p->off = sizeof(*e);
	return (e);
}

static void
e_ident(struct h_entry *e, unsigned n, const char *a, const char *b,
    const char *c)
{
	unsigned	i;

	e->h.nid = (uint8_t)n;
	e->id[0] = a;
	e->id[1] = b;
	e->id[2] = c;
	for (i = 0; i < n; i++)
		e->idlen[i] = strlen(e->id[i]);
	e->hash = h_hash(e->h.kind, e->id, e->idlen, n);
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

static struct w_memo *
m_new(const struct world *w)
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
	h_unref(w->root);
	h_unref(w->sroot);
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

static const struct h_entry *
w_find(const struct world *w, unsigned kind, const char *a, size_t alen,
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

	if ((e = w_find(w, H_INSTANCE, id, len, NULL, 0, NULL, 0, 1)) == NULL)
		return (-1);
	*out = e->v.inst;
	return (0);
}

int
world_get_key(const struct world *w, const char *id, size_t len,
    struct world_key *out)
{
	const struct h_entry	*e;

	if ((e = w_find(w, H_KEY, id, len, NULL, 0, NULL, 0, 1)) == NULL)
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

	if ((e = w_find(w, H_ALIAS, region, rlen, account, alen, name, nlen,
	    3)) == NULL)
		return (-1);
	*out = e->v.alias;
	return (0);
}

static int
w_get2(const struct world *w, unsigned kind, const char *account,
    size_t alen, const char *name, size_t nlen, const struct h_entry **ep)
{
	*ep = w_find(w, kind, account, alen, name, nlen, NULL, 0, 2);
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
	return (h_walk(w->root, H_INSTANCE, w_iter_inst, &it));
}

int
world_foreach_key(const struct world *w, world_key_cb cb, void *arg)
{
	struct w_iter	it = { .arg = arg };

	it.cb.key = cb;
	return (h_walk(w->root, H_KEY, w_iter_key, &it));
}

int
world_foreach_alias(const struct world *w, world_alias_cb cb, void *arg)
{
	struct w_iter	it = { .arg = arg };

	it.cb.alias = cb;
	return (h_walk(w->root, H_ALIAS, w_iter_alias, &it));
}

int
world_foreach_policy(const struct world *w, world_policy_cb cb, void *arg)
{
	struct w_iter	it = { .arg = arg };

	it.cb.pol = cb;
	return (h_walk(w->root, H_POLICY, w_iter_pol, &it));
}

static int
w_foreach_pr(const struct world *w, unsigned kind, world_principal_cb cb,
    void *arg)
{
	struct w_iter	it = { .arg = arg };

	it.cb.pr = cb;
	return (h_walk(w->root, kind, w_iter_pr, &it));
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
h_stats(const struct h_obj *o, int shared, size_t *total, size_t *unshared)
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
			h_stats(nd->child[i], shared, total, unshared);
	} else if (o->kind == H_COLL) {
		co = (const struct h_coll *)o;
		for (i = 0; i < co->n; i++)
			h_stats(&co->e[i]->h, shared, total, unshared);
	}
}

void
world_node_stats(const struct world *w, size_t *total, size_t *unshared)
{
	*total = *unshared = 0;
	h_stats(w->root, 0, total, unshared);
	h_stats(w->sroot, 0, total, unshared);
}

/*
 * Share quota (section 5): a per-instance index of foreign accounts.
 *
 * A second trie (world.sroot), persistent like the first and changed
 * only by the transaction that changes a key, holds
 *  - H_SACCT (instance, account): n = how many keys of the instance
 *    have a key policy naming that foreign account (never 0: the entry
 *    goes when the last such key does);
 *  - H_SINST (instance): n = how many H_SACCT entries it has, i.e. the
 *    distinct foreign accounts over its key policies.
 * A key change touches the entries of the accounts its old and new
 * policies do not have in common (O(those accounts * log entries)), and
 * a count is one lookup plus one per account named by the skipped key
 * or by the "what if" policy, whatever the number of keys.
 */

struct s_acct {
	const char	*s;
	size_t		 len;
};

#define S_INLINE	8

/* A key policy's foreign accounts: sorted, no repeats. */
struct s_list {
	struct s_acct	*v;
	size_t		 n;
	size_t		 cap;
	int		 oom;
	struct s_acct	 buf[S_INLINE];
};

static void
s_list_init(struct s_list *l)
{
	l->v = l->buf;
	l->n = 0;
	l->cap = S_INLINE;
	l->oom = 0;
}

static void
s_list_free(struct s_list *l)
{
	if (l->v != l->buf)
		free(l->v);
	s_list_init(l);
}

static int
s_list_add(const char *s, size_t len, void *arg)
{
	struct s_list	*l = arg;
	struct s_acct	*nv;

	if (l->n == l->cap) {
		if ((nv = reallocarray(l->v == l->buf ? NULL : l->v,
		    l->cap * 2, sizeof(*nv))) == NULL) {
			l->oom = 1;
			return (1);
		}
		if (l->v == l->buf)
			memcpy(nv, l->buf, sizeof(l->buf));
		l->v = nv;
		l->cap *= 2;
	}
	l->v[l->n].s = s;
	l->v[l->n].len = len;
	l->n++;
	return (0);
}

/* Shorter first, then bytewise (cpolicy_foreign_accounts' order). */
static int
s_acct_cmp(const void *a, const void *b)
{
	const struct s_acct	*x = a, *y = b;

	if (x->len != y->len)
		return (x->len < y->len ? -1 : 1);
	return (memcmp(x->s, y->s, x->len));
}

/* cp's foreign accounts (cp may be NULL: none) into l, initialised by
 * the caller; 0, or -1 with errno ENOMEM. */
static int
s_accounts(const struct cpolicy *cp, const char *own, struct s_list *l)
{
	size_t	i, n;

	if (cp == NULL)
		return (0);
	(void)cpolicy_foreign_accounts(cp, own, s_list_add, l);
	if (l->oom) {
		errno = ENOMEM;
		return (-1);
	}
	/* Already in order for a finished policy; sort anything else. */
	for (i = 1; i < l->n; i++)
		if (s_acct_cmp(&l->v[i - 1], &l->v[i]) >= 0)
			break;
	if (i < l->n) {
		qsort(l->v, l->n, sizeof(*l->v), s_acct_cmp);
		for (i = 1, n = 1; i < l->n; i++)
			if (s_acct_cmp(&l->v[n - 1], &l->v[i]) != 0)
				l->v[n++] = l->v[i];
		l->n = n;
	}
	return (0);
}

/* The count of an index entry; 0 when there is none. */
static size_t
s_get(const struct h_obj *sroot, unsigned kind, const char *inst,
    size_t ilen, const char *acct, size_t alen)
{
	const struct h_entry	*e;
	const char		*id[2] = { inst, acct };
	size_t			 len[2] = { ilen, alen };
	unsigned		 n = kind == H_SACCT ? 2 : 1;

	e = h_find(sroot, h_hash(kind, id, len, n), kind, id, len, n);
	return (e != NULL ? e->v.sh.n : 0);
}

/*
 * Set the count of an index entry to v (0: remove it) in the trie
 * *rootp (one reference, replaced by the new version's).  0, or -1 with
 * errno ENOMEM and *rootp as it was.
 */
static int
s_set(struct h_obj **rootp, unsigned kind, const char *inst, size_t ilen,
    const char *acct, size_t alen, size_t v)
{
	struct h_entry	*e;
	struct h_obj	*nr;
	const char	*id[2] = { inst, acct };
	size_t		 len[2] = { ilen, alen };
	unsigned	 n = kind == H_SACCT ? 2 : 1;
	char		*p;
	int		 status;

	if (v == 0) {
		nr = h_remove(*rootp, 0, h_hash(kind, id, len, n), kind, id,
		    len, n, &status);
		if (status == -1) {
			errno = ENOMEM;
			return (-1);
		}
	} else {
		if ((e = calloc(1, sizeof(*e) + ilen + alen + 2)) == NULL)
			return (-1);
		atomic_init(&e->h.refcnt, 1);
		e->h.kind = (uint8_t)kind;
		e->h.nid = (uint8_t)n;
		p = (char *)(e + 1);
		memcpy(p, inst, ilen);
		e->v.sh.instance = e->id[0] = p;
		e->idlen[0] = ilen;
		if (n == 2) {
			p += ilen + 1;
			memcpy(p, acct, alen);
			e->v.sh.account = e->id[1] = p;
			e->idlen[1] = alen;
		}
		e->v.sh.n = v;
		e->hash = h_hash(kind, e->id, e->idlen, n);
		status = 0;
		if ((nr = h_insert(*rootp, 0, e, &status)) == NULL) {
			h_unref(&e->h);
			errno = ENOMEM;
			return (-1);
		}
	}
	h_unref(*rootp);
	*rootp = nr;
	return (0);
}

/* One more (delta 1) or one fewer (-1) key of inst naming a; *distinct
 * follows the instance's number of distinct accounts. */
static int
s_bump(struct h_obj **rootp, const char *inst, const struct s_acct *a,
    int delta, long *distinct)
{
	size_t	ilen = strlen(inst), r;

	r = s_get(*rootp, H_SACCT, inst, ilen, a->s, a->len);
	if (r == 0 && delta < 0) {
		/* Not indexed: the index would be inconsistent. */
		errno = EINVAL;
		return (-1);
	}
	if (s_set(rootp, H_SACCT, inst, ilen, a->s, a->len,
	    delta > 0 ? r + 1 : r - 1) == -1)
		return (-1);
	if (r == 0)
		(*distinct)++;
	else if (r == 1 && delta < 0)
		(*distinct)--;
	return (0);
}

static int
s_bump_inst(struct h_obj **rootp, const char *inst, long d)
{
	size_t	ilen = strlen(inst), n;

	if (d == 0)
		return (0);
	n = s_get(*rootp, H_SINST, inst, ilen, NULL, 0);
	if (d < 0 && n < (size_t)-d) {
		errno = EINVAL;
		return (-1);
	}
	return (s_set(rootp, H_SINST, inst, ilen, NULL, 0,
	    d < 0 ? n - (size_t)-d : n + (size_t)d));
}

/* A key entry's share in the index: in an instance, with a policy. */
static const struct world_key *
s_key(const struct h_entry *e)
{
	if (e == NULL || e->v.key.instance == NULL ||
	    e->v.key.policy == NULL)
		return (NULL);
	return (&e->v.key);
}

/*
 * The share index of view v after key entry oe (NULL: none) is replaced
 * by ne (NULL: deleted).  Returns 0 and the new index in *outp (one
 * reference; v's is untouched), or -1 with errno set.
 */
static int
s_update(const struct world *v, const struct h_entry *oe,
    const struct h_entry *ne, struct h_obj **outp)
{
	const struct world_key	*ok = s_key(oe), *nk = s_key(ne);
	struct s_list		 fo, fn;
	struct h_obj		*r = v->sroot;
	size_t			 i = 0, j = 0;
	long			 dold = 0, dnew = 0;
	int			 c, same, rc = -1;

	if (r != NULL)
		h_ref(r);
	if (ok == NULL && nk == NULL)
		goto done;
	same = ok != NULL && nk != NULL &&
	    strcmp(ok->instance, nk->instance) == 0;
	/* A state, tag or region change: the same accounts. */
	if (same && ok->policy == nk->policy &&
	    strcmp(ok->creator, nk->creator) == 0)
		goto done;
	s_list_init(&fo);
	s_list_init(&fn);
	if ((ok != NULL && s_accounts(ok->policy, ok->creator, &fo) == -1) ||
	    (nk != NULL && s_accounts(nk->policy, nk->creator, &fn) == -1))
		goto out;
	/* Both sorted: a merge leaves out the accounts both name in one
	 * instance. */
	while (i < fo.n || j < fn.n) {
		if (i == fo.n)
			c = 1;
		else if (j == fn.n || !same)
			c = -1;
		else
			c = s_acct_cmp(&fo.v[i], &fn.v[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			if (s_bump(&r, ok->instance, &fo.v[i++], -1,
			    &dold) == -1)
				goto out;
		} else if (s_bump(&r, nk->instance, &fn.v[j++], 1,
		    &dnew) == -1)
			goto out;
	}
	if (same) {
		if (s_bump_inst(&r, nk->instance, dold + dnew) == -1)
			goto out;
	} else if ((ok != NULL && s_bump_inst(&r, ok->instance, dold) == -1) ||
	    (nk != NULL && s_bump_inst(&r, nk->instance, dnew) == -1))
		goto out;
	rc = 0;
out:
	s_list_free(&fo);
	s_list_free(&fn);
	if (rc == -1) {
		h_unref(r);
		return (-1);
	}
done:
	*outp = r;
	return (0);
}

int
world_key_share_grows(const struct world *w, const char *key_id,
    const struct cpolicy *cp, const char *account)
{
	const struct h_entry	*ke;
	struct s_list		 fo, fn;
	size_t			 i = 0, j = 0;
	int			 c, rc = -1;

	s_list_init(&fo);
	s_list_init(&fn);
	if (w != NULL && (ke = w_find(w, H_KEY, key_id, strlen(key_id), NULL,
	    0, NULL, 0, 1)) != NULL && ke->v.key.policy != NULL &&
	    s_accounts(ke->v.key.policy, account, &fo) == -1)
		goto out;
	if (s_accounts(cp, account, &fn) == -1)
		goto out;
	/* Both sorted: look for one of fn's that fo lacks. */
	for (rc = 0; j < fn.n; ) {
		c = i == fo.n ? 1 : s_acct_cmp(&fo.v[i], &fn.v[j]);
		if (c > 0) {
			rc = 1;
			break;
		}
		if (c == 0)
			j++;
		i++;
	}
out:
	s_list_free(&fo);
	s_list_free(&fn);
	return (rc);
}

int
world_instance_share_count(const struct world *w, const char *instance_id,
    const char *skip_key_id, const struct cpolicy *extra,
    const char *extra_account, size_t *countp)
{
	const struct h_entry	*ke;
	const struct world_key	*k;
	struct s_list		 fs, fe;
	size_t			 ilen = strlen(instance_id), n = 0, i = 0, j = 0;
	int			 c, rc = -1;

	s_list_init(&fs);
	s_list_init(&fe);
	if (w != NULL) {
		n = s_get(w->sroot, H_SINST, instance_id, ilen, NULL, 0);
		if (skip_key_id != NULL && (ke = w_find(w, H_KEY, skip_key_id,
		    strlen(skip_key_id), NULL, 0, NULL, 0, 1)) != NULL &&
		    (k = s_key(ke)) != NULL &&
		    strcmp(k->instance, instance_id) == 0 &&
		    s_accounts(k->policy, k->creator, &fs) == -1)
			goto out;
	}
	if (extra != NULL && s_accounts(extra, extra_account, &fe) == -1)
		goto out;
	/*
	 * Left out: an account only the skipped key names.  Added: one of
	 * extra's that no key (the skipped one aside) names.  Named by
	 * both: unchanged.
	 */
	while (i < fs.n || j < fe.n) {
		if (i == fs.n)
			c = 1;
		else if (j == fe.n)
			c = -1;
		else
			c = s_acct_cmp(&fs.v[i], &fe.v[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			if (s_get(w->sroot, H_SACCT, instance_id, ilen,
			    fs.v[i].s, fs.v[i].len) == 1 && n > 0)
				n--;
			i++;
		} else {
			if (w == NULL || s_get(w->sroot, H_SACCT,
			    instance_id, ilen, fe.v[j].s, fe.v[j].len) == 0)
				n++;
			j++;
		}
	}
	*countp = n;
	rc = 0;
out:
	s_list_free(&fs);
	s_list_free(&fe);
	return (rc);
}

/* Transactions. */

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
			h_ref(t->view.root);
		t->view.sroot = base->sroot;
		if (t->view.sroot != NULL)
			h_ref(t->view.sroot);
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

	if ((nr = h_insert(t->view.root, 0, e, &replaced)) == NULL) {
		h_unref(&e->h);
		errno = ENOMEM;
		return (-1);
	}
	h_unref(t->view.root);
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
	nr = h_remove(t->view.root, 0, h_hash(kind, id, len, n), kind, id,
	    len, n, &status);
	if (status == -1) {
		errno = ENOMEM;
		return (-1);
	}
	if (status == 0) {
		h_unref(nr);
		errno = ENOENT;
		return (-1);
	}
	h_unref(t->view.root);
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
	e_str(&p, id);
	if (account != NULL)
		e_str(&p, account);
	if ((e = e_alloc(&p, H_INSTANCE)) == NULL)
		return (-1);
	e->v.inst.id = e_str(&p, id);
	e->v.inst.account = account != NULL ? e_str(&p, account) : NULL;
	e->v.inst.state = state;
	e->v.inst.share_quota = quota;
	e_ident(e, 1, e->v.inst.id, NULL, NULL);
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
	e_str(&p, id);
	e_arr(&p, ntags * sizeof(struct world_tag));
	e_str(&p, region);
	e_str(&p, creator);
	if (instance != NULL)
		e_str(&p, instance);
	for (i = 0; i < ntags; i++) {
		e_str(&p, tags[i].key);
		e_str(&p, tags[i].value);
	}
	if ((e = e_alloc(&p, H_KEY)) == NULL)
		return (-1);
	e->v.key.id = e_str(&p, id);
	tv = e_arr(&p, ntags * sizeof(struct world_tag));
	e->v.key.region = e_str(&p, region);
	e->v.key.creator = e_str(&p, creator);
	e->v.key.instance = instance != NULL ? e_str(&p, instance) : NULL;
	e->v.key.state = state;
	for (i = 0; i < ntags; i++) {
		tv[i].key = e_str(&p, tags[i].key);
		tv[i].value = e_str(&p, tags[i].value);
	}
	if (ntags > 1)
		qsort(tv, ntags, sizeof(*tv), tag_cmp);
	e->v.key.tags = ntags ? tv : NULL;
	e->v.key.ntags = ntags;
	e->v.key.policy = cpolicy_ref(policy);
	e->v.key.image = cpolicy_image(policy);
	e_ident(e, 1, e->v.key.id, NULL, NULL);
	/* The share index first (nothing is changed until both are
	 * built), with the key it replaces, alive as long as the root. */
	old = h_find(t->view.root, e->hash, H_KEY, e->id, e->idlen, 1);
	if (s_update(&t->view, old, e, &sr) == -1) {
		h_unref(&e->h);
		return (-1);
	}
	if (txn_put(t, e) == -1) {
		h_unref(sr);
		return (-1);
	}
	h_unref(t->view.sroot);
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
	if (s_update(&t->view, old, NULL, &sr) == -1)
		return (-1);
	if (txn_del(t, H_KEY, ids, 1) == -1) {
		h_unref(sr);
		return (-1);
	}
	h_unref(t->view.sroot);
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
	e_str(&p, k.region);
	e_str(&p, k.creator);
	e_str(&p, name);
	e_str(&p, key_id);
	if ((e = e_alloc(&p, H_ALIAS)) == NULL)
		return (-1);
	e->v.alias.region = e_str(&p, k.region);
	e->v.alias.account = e_str(&p, k.creator);
	e->v.alias.name = e_str(&p, name);
	e->v.alias.key_id = e_str(&p, key_id);
	e_ident(e, 3, e->v.alias.region, e->v.alias.account, e->v.alias.name);
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
	e_str(&p, account);
	e_str(&p, name);
	if ((e = e_alloc(&p, H_POLICY)) == NULL)
		return (-1);
	e->v.pol.account = e_str(&p, account);
	e->v.pol.name = e_str(&p, name);
	e->v.pol.policy = cpolicy_ref(policy);
	e->v.pol.image = cpolicy_image(policy);
	e_ident(e, 2, e->v.pol.account, e->v.pol.name, NULL);
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
	e_arr(&p, ngroups * sizeof(char *));
	e_arr(&p, npolicies * sizeof(char *));
	e_str(&p, account);
	e_str(&p, name);
	for (i = 0; i < ngroups; i++)
		e_str(&p, groups[i]);
	for (i = 0; i < npolicies; i++)
		e_str(&p, policies[i]);
	if ((e = e_alloc(&p, kind)) == NULL)
		return (-1);
	gv = e_arr(&p, ngroups * sizeof(char *));
	pv = e_arr(&p, npolicies * sizeof(char *));
	e->v.pr.account = e_str(&p, account);
	e->v.pr.name = e_str(&p, name);
	for (i = 0; i < ngroups; i++)
		gv[i] = e_str(&p, groups[i]);
	for (i = 0; i < npolicies; i++)
		pv[i] = e_str(&p, policies[i]);
	e->v.pr.groups = ngroups ? gv : NULL;
	e->v.pr.ngroups = ngroups;
	e->v.pr.policies = npolicies ? pv : NULL;
	e->v.pr.npolicies = npolicies;
	e_ident(e, 2, e->v.pr.account, e->v.pr.name, NULL);
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
	w->memo = m_new(w);		/* NULL: decisions do lookups */
	return (w);
}

void
world_txn_abort(struct world_txn *t)
{
	if (t == NULL)
		return;
	h_unref(t->view.root);
	h_unref(t->view.sroot);
	free(t);
}

/* The holder. */

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

/* SPDX-License-Identifier: ISC */
/*
 * world-trie.c: the persistent hash array mapped trie under every world
 * (world.c says how it is shared between versions), and the entries'
 * single allocations.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpolicy.h"
#include "engine/world.h"
#include "engine/world-int.h"

/* The trie. */


void
world_trie_ref(struct h_obj *o)
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

void
world_trie_unref(struct h_obj *o)
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
			world_trie_unref(nd->child[i]);
		free(nd);
		break;
	case H_COLL:
		co = (struct h_coll *)o;
		for (i = 0; i < co->n; i++)
			world_trie_unref(&co->e[i]->h);
		free(co);
		break;
	default:
		h_entry_free((struct h_entry *)o);
		break;
	}
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
				world_trie_ref(&oc->e[ba]->h);
			}
			co->n = oc->n;
			world_trie_unref(a);
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
struct h_obj *
world_trie_insert(struct h_obj *o, unsigned depth, struct h_entry *e, int *replaced)
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
				sub = world_trie_insert(sub, depth + 1, e, replaced);
			else {
				old = (struct h_entry *)sub;
				if (h_entry_is(old, e->h.kind, e->id,
				    e->idlen, e->h.nid)) {
					*replaced = 1;
					sub = &e->h;
				} else {
					world_trie_ref(&old->h);
					sub = h_join(&old->h, &e->h,
					    depth + 1);
					if (sub == NULL)
						world_trie_unref(&old->h);
				}
			}
			if (sub == NULL)
				return (NULL);
			if ((nn = h_node_new(n)) == NULL) {
				if (sub != &e->h) {
					/* Give e back: keep its reference
					 * out of sub's destruction. */
					world_trie_ref(&e->h);
					world_trie_unref(sub);
				}
				return (NULL);
			}
			nn->bitmap = nd->bitmap;
			for (i = 0; i < n; i++) {
				if (i == idx)
					nn->child[i] = sub;
				else {
					nn->child[i] = nd->child[i];
					world_trie_ref(nn->child[i]);
				}
			}
			return (&nn->h);
		}
		if ((nn = h_node_new(n + 1)) == NULL)
			return (NULL);
		nn->bitmap = nd->bitmap | (1u << bit);
		for (i = 0; i < idx; i++) {
			nn->child[i] = nd->child[i];
			world_trie_ref(nn->child[i]);
		}
		nn->child[idx] = &e->h;
		for (i = idx; i < n; i++) {
			nn->child[i + 1] = nd->child[i];
			world_trie_ref(nd->child[i]);
		}
		return (&nn->h);
	case H_COLL:
		co = (struct h_coll *)o;
		if (co->hash != e->hash) {
			world_trie_ref(o);
			if ((sub = h_join(o, &e->h, depth)) == NULL)
				world_trie_unref(o);
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
				world_trie_ref(&co->e[idx]->h);
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
struct h_obj *
world_trie_remove(struct h_obj *o, unsigned depth, uint64_t hash, unsigned kind,
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
			sub = world_trie_remove(child, depth + 1, hash, kind, id, len,
			    nid, status);
			if (*status != 1) {
				if (*status == 0)
					world_trie_unref(sub);
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
			world_trie_unref(sub);
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
			world_trie_ref(nn->child[j++]);
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
			world_trie_ref(sub);
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
			world_trie_ref(&nc->e[j++]->h);
		}
		nc->n = j;
		return (&nc->h);
	default:
		break;
	}
	world_trie_ref(o);
	return (o);
}

int
world_trie_walk(const struct h_obj *o, unsigned kind,
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
			if ((r = world_trie_walk(nd->child[i], kind, cb, arg)) != 0)
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



const char *
world_entry_str(struct e_pack *p, const char *s)
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

void *
world_entry_arr(struct e_pack *p, size_t sz)
{
	void	*d = NULL;

	p->off = (p->off + 7) & ~(size_t)7;
	if (p->base != NULL)
		d = p->base + p->off;
	p->off += sz;
	return (d);
}

struct h_entry *
world_entry_alloc(struct e_pack *p, unsigned kind)
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

void
world_entry_ident(struct h_entry *e, unsigned n, const char *a, const char *b,
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

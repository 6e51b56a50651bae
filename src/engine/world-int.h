/* SPDX-License-Identifier: ISC */
/*
 * world-int.h: the compiled world's private parts, shared by its files:
 * the trie (world-trie.c), the share quota index (world-share.c), the
 * transactions (world-txn.c) and the lookups, memo and holder
 * (world.c).  The hash and the trie walk of a lookup are inline here:
 * they are the decision path.
 */
#ifndef KMSAUTHZ_WORLD_INT_H
#define KMSAUTHZ_WORLD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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


/*
 * Each part eight bytes at a time (a multiply and a fold per word), its
 * length after it so that parts cannot run into each other, then a
 * mixer so that every 5-bit slice is well distributed.  Names are
 * written by admins, not by requesters: no keyed hash is needed.
 */
static inline uint64_t
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

static inline int
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

static inline const struct h_entry *
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

/* Entries: one allocation holding the entry, its arrays and strings. */

struct e_pack {
	char	*base;		/* NULL while sizing */
	size_t	 off;
};

/* world-trie.c */
void		 world_trie_ref(struct h_obj *);
void		 world_trie_unref(struct h_obj *);
struct h_obj	*world_trie_insert(struct h_obj *, unsigned, struct h_entry *,
		    int *);
struct h_obj	*world_trie_remove(struct h_obj *, unsigned, uint64_t,
		    unsigned, const char *const *, const size_t *, unsigned,
		    int *);
int		 world_trie_walk(const struct h_obj *, unsigned,
		    int (*)(const struct h_entry *, void *), void *);
const char	*world_entry_str(struct e_pack *, const char *);
void		*world_entry_arr(struct e_pack *, size_t);
struct h_entry	*world_entry_alloc(struct e_pack *, unsigned);
void		 world_entry_ident(struct h_entry *, unsigned, const char *,
		    const char *, const char *);

/* world-share.c */
int		 world_share_update(const struct world *,
		    const struct h_entry *, const struct h_entry *,
		    struct h_obj **);

/* world.c */
struct w_memo	*world_memo_new(const struct world *);
const struct h_entry *world_find(const struct world *, unsigned,
		    const char *, size_t, const char *, size_t, const char *,
		    size_t, unsigned);

#endif

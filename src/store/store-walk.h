/* SPDX-License-Identifier: ISC */
/*
 * store-walk.h: a walk of every page an LMDB 0.9 data.mdb's meta page
 * reaches, read with pread (never the map) and checked before LMDB is
 * trusted with any of them: bounds, headers, nodes, key order, depth,
 * page counts, overflow runs and the free list (store-walk.c).
 */
#ifndef KMSAUTHZ_STORE_WALK_H
#define KMSAUTHZ_STORE_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The pages of one database the walk met (FREE, MAIN, then named). */
struct store_walk_db {
	char		 name[64];	/* "free-page", "main" or the name */
	size_t		 root;		/* its root page, or SIZE_MAX */
	size_t		 branch;	/* branch pages */
	size_t		 leaf;		/* leaf pages */
	size_t		 overflow;	/* overflow pages */
	size_t		 entries;	/* leaf nodes */
	/* What its MDB_db record says (checked against the above). */
	unsigned int	 md_flags;
	unsigned int	 md_depth;
	size_t		 md_branch;
	size_t		 md_leaf;
	size_t		 md_overflow;
	size_t		 md_entries;
	size_t		 leaf_depth;	/* levels down to its leaves */
};

struct store_walk {
	/* In. */
	int			 fd;		/* data.mdb, open for reading */
	off_t			 size;		/* its size */
	unsigned int		 psize;		/* LMDB's page size */
	uint64_t		 txnid;		/* the meta to walk */

	/* Out. */
	size_t			 last_pg;	/* that meta's mm_last_pg */
	int			 newest;	/* it is the newer meta */
	size_t			 top;		/* highest page reached */
	size_t			 visited;	/* pages reached */
	size_t			 nfree;		/* pages on the free list */
	struct store_walk_db	*dbs;		/* [0] FREE, [1] MAIN, ... */
	size_t			 ndbs;
	int			 truncated;	/* failed: a page is missing */
	char			 err[256];	/* why it failed */

	/* Private. */
	unsigned char		*buf[33];	/* one page per tree level */
	void			*keys[33];	/* its keys, as walked */
	size_t			 depth;		/* of the tree being walked */
	unsigned char		*seen;		/* a bit per page reached */
	size_t			*freepg;	/* the free list's pages */
	size_t			 freecap;
};

/* No meta page holds txnid (a writer committed twice meanwhile). */
#define STORE_WALK_EAGAIN	(-100)

int	store_walk(struct store_walk *);
void	store_walk_free(struct store_walk *);

#endif

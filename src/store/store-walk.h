/*
 * store-walk.h: a walk of every page an LMDB 0.9 data.mdb's meta page
 * reaches, read with pread (never the map): the check a data.mdb shorter
 * than its last page number must pass before LMDB maps it.
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
	struct store_walk_db	*dbs;		/* [0] FREE, [1] MAIN, ... */
	size_t			 ndbs;
	int			 truncated;	/* failed: a page is missing */
	char			 err[256];	/* why it failed */

	/* Private. */
	unsigned char		*buf[33];	/* one page per tree level */
	size_t			 depth;		/* of the tree being walked */
};

/* No meta page holds txnid (a writer committed twice meanwhile). */
#define STORE_WALK_EAGAIN	(-100)

int	store_walk(struct store_walk *);
void	store_walk_free(struct store_walk *);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * store-prefetch.h: compiling a store's policy texts on every core
 * before the walk that loads it (store-prefetch.c; docs/storage.md,
 * "Compiling at open, on every core").
 */
#ifndef KMSAUTHZ_STORE_PREFETCH_H
#define KMSAUTHZ_STORE_PREFETCH_H

#include <stdatomic.h>

#include "store/store-int.h"

/*
 * One policy text to compile before the walk: a key policy record (all
 * of them, for their digests) or a RAM policy's default version.
 */
struct pf_rec {
	const void		*val;	/* the record's value, in the map */
	const char		*text;
	size_t			 len;
	unsigned char		 digest[32];	/* stored; RAM: computed */
	int			 kind;
	int			 owner;		/* first of its digest */
	int			 verified;	/* text hashes to digest */
	struct cpolicy		*cp;		/* owner's, when compiled */
};

struct prefetch {
	struct store		*st;
	struct pf_rec		*r;
	size_t			 n;
	size_t			*byval;		/* index + 1, by val */
	size_t			 vcap;
	int			 trusted;	/* 0: full path (check) */
	atomic_size_t		 next;
};

#define PF_CHUNK	32	/* records a worker takes at a time */
#define PF_THREADS_MAX	64
#define PF_SERIAL_MAX	256	/* fewer texts: no threads */

void	 store_prefetch(struct store *, MDB_txn *, struct prefetch *,
		    struct pcache *, int);
void	 prefetch_free(struct prefetch *);
int	 prefetch_verified(const struct prefetch *, const void *);

#endif

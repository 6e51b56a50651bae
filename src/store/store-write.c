/* SPDX-License-Identifier: ISC */
/*
 * store-write.c: the write loop.  One LMDB write transaction per change,
 * the generation raised by exactly one inside it, the new world version
 * built before the commit and published after it, and MDB_MAP_FULL
 * answered by growing the map and running the change again.
 */
#include <stdlib.h>
#include <time.h>

#include "engine/world.h"
#include "store/store-int.h"

struct world_holder *
store_holder(struct store *st)
{
	return (st->loaded ? st->holder : NULL);
}

static int
store_gen_bump(struct store *st, MDB_txn *txn, uint64_t *genp)
{
	uint64_t	 gen = 0;
	int		 rc;

	if ((rc = store_meta_get_u(st, txn, "generation", 8, &gen)) != 0)
		return (rc);
	/* A fleet's mirror sets the generation to the etcd revision. */
	if (st->gen_set != 0) {
		/* A whole new state (another cluster) may start lower. */
		if (st->gen_set <= gen && !st->gen_any)
			return (store_seterr(st, STORE_EINVAL, "%s: generation "
			    "%llu is not past %llu", st->dir,
			    (unsigned long long)st->gen_set,
			    (unsigned long long)gen));
		gen = st->gen_set - 1;
	}
	if ((rc = store_meta_put_u(st, txn, "generation", 8, gen + 1,
	    "writing the generation")) != 0)
		return (rc);
	*genp = gen + 1;
	return (STORE_OK);
}

static int	store_write_locked(struct store *, store_write_fn, void *, int,
		    uint64_t *);

int
store_write(struct store *st, store_write_fn fn, void *arg, int from_empty,
    uint64_t *genp)
{
	int	 rc;

	pthread_mutex_lock(&st->wmu);
	rc = store_write_locked(st, fn, arg, from_empty, genp);
	pthread_mutex_unlock(&st->wmu);
	return (rc);
}

static int
store_write_locked(struct store *st, store_write_fn fn, void *arg,
    int from_empty, uint64_t *genp)
{
	struct world		*base, *w;
	struct world_txn	*wt;
	MDB_txn			*txn;
	uint64_t		 gen = 0;
	struct timespec		 t0, t1;
	int			 rc, mrc;

	if (st->readonly && st->rdonly_why[0] != '\0')
		return (store_seterr(st, STORE_ERDONLY, "%s: the store is "
		    "read-only (%s): change refused", st->dir,
		    st->rdonly_why));
	if (st->readonly)
		return (store_seterr(st, STORE_ERDONLY, "%s: the store was "
		    "opened read-only", st->dir));
	if (!from_empty && !st->loaded)
		return (store_seterr(st, STORE_EINVAL, "%s: the store is not "
		    "loaded", st->dir));
	/* Made before the commit: publishing afterwards cannot fail. */
	if (st->holder == NULL) {
		if ((st->holder = world_holder_new(NULL)) == NULL)
			return (store_seterr(st, STORE_ENOMEM, "out of memory"));
		st->holder_free = world_holder_free;
	}
	for (;;) {
		store_errbuf()[0] = '\0';
		txn = NULL;
		w = NULL;
		base = from_empty ? NULL : world_holder_acquire(st->holder);
		if ((wt = world_txn_begin(base)) == NULL) {
			world_unref(base);
			return (store_seterr(st, STORE_ENOMEM, "out of memory"));
		}
		if ((mrc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0) {
			txn = NULL;
			rc = store_err_mdb(st, mrc, "beginning a transaction");
		} else
			rc = fn(st, txn, wt, arg);
		if (rc == STORE_OK)
			rc = store_gen_bump(st, txn, &gen);
		if (rc == STORE_OK) {
			w = world_txn_commit(wt, gen);
			wt = NULL;
			if (w == NULL)
				rc = store_seterr(st, STORE_ENOMEM,
				    "out of memory compiling the world");
		}
		if (rc == STORE_OK) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			mrc = mdb_txn_commit(txn);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			st->commit_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) *
			    1000000000u + (uint64_t)t1.tv_nsec -
			    (uint64_t)t0.tv_nsec;
			txn = NULL;
			if (mrc != 0)
				rc = store_err_mdb(st, mrc, "commit");
		}
		if (txn != NULL)
			mdb_txn_abort(txn);
		if (wt != NULL)
			world_txn_abort(wt);
		world_unref(base);
		if (rc == STORE_OK) {
			st->generation = gen;
			st->loaded = 1;
			world_holder_publish(st->holder, w);
			if (genp != NULL)
				*genp = gen;
			return (STORE_OK);
		}
		world_unref(w);
		if (rc != STORE_EFULL)
			return (rc);
		/* MDB_MAP_FULL: the transaction is gone; grow and retry. */
		if ((rc = store_grow(st)) != STORE_OK)
			return (rc);
	}
}


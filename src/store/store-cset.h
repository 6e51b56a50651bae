/* SPDX-License-Identifier: ISC */
/*
 * store-cset.h: change-sets, the seam between what a change does and
 * where it is written (docs/storage.md, "Change-sets").
 *
 * A change is planned against the records as they are: the plan reads
 * records and checks them, then writes and deletes records.  The
 * change-set is what the plan did, as records: the writes in order,
 * the reads, each with the value it saw (or "absent"), and the ranges
 * it scanned (a key's tags counted, the members of an account): the
 * preconditions under which the writes are right.  Applying a
 * change-set writes its records in one transaction and brings the
 * compiled world in step with them, entity by entity, through the same
 * loaders that load the store at start.
 *
 * Locally a change is planned inside the write transaction that
 * applies it, so its preconditions hold by construction.  A fleet
 * (docs/fleet.md) sends the change-set to etcd as one transaction
 * whose compares are the preconditions, and every host applies the
 * records etcd returns with store_apply.
 */
#ifndef KMSAUTHZ_STORE_CSET_H
#define KMSAUTHZ_STORE_CSET_H

#include <stddef.h>
#include <stdint.h>

struct store;

/*
 * The record types: one per LMDB database of the schema in store.h,
 * in its order.  A record is (type, key bytes, value bytes).
 */
enum store_rtype {
	STORE_RT_META = 0,
	STORE_RT_INSTANCE,
	STORE_RT_KEY,
	STORE_RT_KEYPOLICY,
	STORE_RT_TAG,
	STORE_RT_ALIAS,
	STORE_RT_POLICY,
	STORE_RT_POLICYVERSION,
	STORE_RT_USER,
	STORE_RT_ROLE,
	STORE_RT_GROUP,
	STORE_RT_DELETION,
	STORE_RT_COUNT
};

/* The type's name ("keys", ...), or NULL for no such type. */
const char	*store_rtype_name(int);
/* The type of a name, or -1. */
int		 store_rtype_find(const char *);
/* The number of NUL-separated parts of the type's keys (0: meta). */
int		 store_rtype_parts(int);

/* One record read (val NULL: it was absent) or written (NULL: deleted). */
struct store_crec {
	int		 type;
	unsigned char	*key;
	size_t		 klen;
	unsigned char	*val;
	size_t		 vlen;
};

struct store_cset {
	struct store_crec	*w;	/* writes, in order */
	size_t			 nw;
	size_t			 wcap;
	struct store_crec	*r;	/* reads: the preconditions */
	size_t			 nr;
	size_t			 rcap;
	/*
	 * Range reads, preconditions too: every record of the type whose
	 * key starts with key (klen bytes; val NULL), as the plan saw them.
	 */
	struct store_crec	*g;
	size_t			 ng;
	size_t			 gcap;
	int			 replace; /* every record replaced (bulk) */
};

void	store_cset_init(struct store_cset *);
void	store_cset_free(struct store_cset *);
/* Appends a write (val NULL: a delete); the bytes are copied. */
void	store_cset_add(struct store_cset *, int type, const void *key,
	    size_t klen, const void *val, size_t vlen);

/*
 * Applies a change-set that was planned elsewhere: every record
 * validated by its type's decoder and key rules, written in one write
 * transaction, the entities it touched reloaded into the world (so a
 * record that does not decode, or names what does not exist, fails the
 * whole change-set with STORE_ECORRUPT naming it, and nothing is
 * written), the generation set to gen (0: raised by one), committed and
 * published.  Preconditions are not checked here: the plan's
 * transaction checked them.
 */
int	store_apply(struct store *, const struct store_cset *, uint64_t gen,
	    uint64_t *genp);

/*
 * Called after every change committed here with its change-set (a bulk
 * import's has no records: replace only) and the new generation.
 */
typedef void (*store_committed_fn)(const struct store_cset *, uint64_t gen,
	    void *arg);
void	store_on_commit(struct store *, store_committed_fn, void *arg);

/*
 * A fleet's store: every change is planned here, against the records
 * as they are (at generation gen), and handed to sink instead of being
 * committed.  sink writes it elsewhere and returns once this store has
 * applied it (store_apply), with the new generation in *genp; or
 * STORE_ECONFLICT (the records it read changed meanwhile: the change is
 * planned again, a bounded number of times, once this store has caught
 * up), STORE_EUNAVAIL, or another error, each with its message set.  A
 * bulk change's change-set carries every record.  NULL: changes are
 * committed here, as a standalone store does.
 */
#define STORE_SINK_TRIES	8
/* A sink's error: sets the store's message (store_errmsg), returns err. */
int	store_seterr(struct store *, int err, const char *, ...)
	    __attribute__((__format__(printf, 3, 4)));
typedef int (*store_sink_fn)(struct store *, const struct store_cset *,
	    uint64_t gen, void *arg, uint64_t *genp);
void	store_set_sink(struct store *, store_sink_fn, void *arg);

/*
 * A fleet's own metadata record "fleet.NAME" (written as a meta record
 * of a change-set it applies), as a string; STORE_ENOTFOUND: none.
 */
int	store_fleet_meta(struct store *, const char *name, char *buf,
	    size_t len);

/*
 * Every record but meta's, by type then key, in one read transaction;
 * fn returns STORE_OK to go on (anything else stops the walk and is
 * returned).
 */
typedef int (*store_record_fn)(int type, const void *key, size_t klen,
	    const void *val, size_t vlen, void *arg);
int	store_records(struct store *, store_record_fn, void *arg);

#endif

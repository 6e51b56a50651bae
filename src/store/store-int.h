/* SPDX-License-Identifier: ISC */
/*
 * store-int.h: what the store's files share and nobody else sees: the
 * store structure, the DBI table, the record codec and the write loop.
 */
#ifndef KMSAUTHZ_STORE_INT_H
#define KMSAUTHZ_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <lmdb.h>

#include "store/store.h"
#include "store/store-cset.h"

/* The DBIs, in the order of the schema table in store.h. */
enum store_dbi {
	DBI_META = 0,
	DBI_INSTANCES,
	DBI_KEYS,
	DBI_KEYPOLICIES,
	DBI_TAGS,
	DBI_ALIASES,
	DBI_POLICIES,
	DBI_POLICYVERSIONS,
	DBI_USERS,
	DBI_ROLES,
	DBI_GROUPS,
	DBI_DELETIONS,
	DBI_COUNT
};

struct world_txn;

/* The files an open may create (store.c's store_files). */
#define STORE_NFILES	4

struct store {
	char			*dir;
	MDB_env			*env;
	int			 lockfd;	/* kmsauthz.lock, flocked */
	int			 lockfd_rw;	/* lockfd is O_RDWR (pid written) */
	int			 readonly;	/* changes refused */
	int			 owner;		/* a writer's open: LOCK_EX */
	int			 fallback;	/* opts.readonly_ok */
	int			 nolock;	/* MDB_NOLOCK (see store_open) */
	int			 lock_err;	/* why kmsauthz.lock did not open */
	char			 rdonly_why[1024]; /* why it fell back */
	size_t			 map_size;
	size_t			 map_max;
	size_t			 ram_policy_max;
	MDB_dbi			 dbi[DBI_COUNT];
	/*
	 * Atomic: a fleet's mirror commits on its own thread while the
	 * admin plane reads them; wmu serializes the write transactions
	 * (a change's plan, the mirror's applies) and the map's growth.
	 */
	_Atomic uint64_t	 generation;
	pthread_mutex_t		 wmu;
	int			 stale_readers;	/* cleared at open */
	_Atomic uint64_t	 commit_ns;	/* the last mdb_txn_commit */
	struct world_holder	*holder;
	_Atomic int		 loaded;	/* holder mirrors the store */
	void			(*holder_free)(struct world_holder *);
	int			 existed[STORE_NFILES]; /* before the open */
	int			 made_dir;	/* the open made st->dir */
	struct store_cset	*cs;		/* the change being planned */
	uint64_t		 gen_set;	/* store_apply's generation */
	int			 gen_any;	/*   lower too (a resync) */
	store_sink_fn		 sink;		/* store_set_sink */
	void			*sink_arg;
	store_committed_fn	 committed;	/* store_on_commit */
	void			*committed_arg;
};

extern const char *const store_dbi_names[DBI_COUNT];

/* A meta record as an unsigned integer of size 4 or 8; put: what names
 * the write in an error. */
int	store_meta_get_u(struct store *, MDB_txn *, const char *, size_t,
	    uint64_t *);
int	store_meta_put_u(struct store *, MDB_txn *, const char *, size_t,
	    uint64_t, const char *what);
/* Doubles the map up to the ceiling (STORE_EFULL past it). */
int	store_grow(struct store *);

/* A read transaction (MDB_MAP_RESIZED handled). */
int	store_rtxn(struct store *, MDB_txn **);

/*
 * The message of the calling thread's last store error (store.c): a
 * fleet's mirror applies changes on a thread of its own while the
 * admin plane plans and reads on another.
 */
#define STORE_ERRMAX	1024
char	*store_errbuf(void);

/* Sets the message; returns err. */
int	store_seterr(struct store *, int err, const char *, ...)
	    __attribute__((__format__(printf, 3, 4)));
/* Translates an LMDB or errno code (store_err of Knot's err_to_knot). */
int	store_err_mdb(struct store *, int rc, const char *what);

/*
 * The write loop.  fn runs inside one write transaction with wt, a
 * world transaction on the current world (or the empty one when
 * from_empty), and returns STORE_OK or an error.  On STORE_OK the loop
 * raises the generation, commits the world (generation + 1), commits
 * LMDB and publishes the world; MDB_MAP_FULL anywhere grows the map (up
 * to the ceiling) and runs fn again on a fresh transaction.  fn must
 * therefore keep its side effects in the two transactions.
 */
typedef int (*store_write_fn)(struct store *, MDB_txn *,
	    struct world_txn *, void *);
int	store_write(struct store *, store_write_fn, void *, int from_empty,
	    uint64_t *genp);

/* Record codec: a growing output buffer and a sticky-error reader. */
struct store_wbuf {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};
void	store_w_init(struct store_wbuf *);
void	store_w_free(struct store_wbuf *);
void	store_w_bytes(struct store_wbuf *, const void *, size_t);
void	store_w_u8(struct store_wbuf *, uint8_t);
void	store_w_u16(struct store_wbuf *, uint16_t);
void	store_w_u32(struct store_wbuf *, uint32_t);
void	store_w_u64(struct store_wbuf *, uint64_t);
void	store_w_str(struct store_wbuf *, const char *);	/* u16 + bytes */
void	store_w_sep(struct store_wbuf *);		/* key "\0" */

struct store_rbuf {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
	int			 err;
};
void		 store_r_init(struct store_rbuf *, const void *, size_t);
uint8_t		 store_r_u8(struct store_rbuf *);
uint16_t	 store_r_u16(struct store_rbuf *);
uint32_t	 store_r_u32(struct store_rbuf *);
uint64_t	 store_r_u64(struct store_rbuf *);
/* A str as a malloc'd NUL-terminated copy (NULL on error or NUL inside). */
char		*store_r_str(struct store_rbuf *);
/* The rest of the value (not copied). */
const unsigned char *store_r_rest(struct store_rbuf *, size_t *lenp);
/* 0 when every byte was read and nothing failed, -1 otherwise. */
int		 store_r_end(struct store_rbuf *);


/*
 * The records of the schema table in store.h.  Decoders return 0, or -1
 * when the value is malformed (the caller reports STORE_ECORRUPT);
 * pointers into the value (text) are valid while the txn is.
 */
struct store_instrec {
	int		 state;
	uint32_t	 quota;
	char		 account[32];	/* "": not recorded (older stores) */
};
struct store_keyrec {
	int		 state;
	char		*region;
	char		*creator;
	char		*instance;	/* NULL: outside any instance */
};
struct store_kprec {
	uint64_t		 version;
	int64_t			 time_ms;
	unsigned char		 digest[32];
	const char		*text;
	size_t			 len;
};
struct store_polrec {
	uint32_t	 def;		/* the default version */
	uint32_t	 last;		/* the last version id given */
};
struct store_pvrec {
	int64_t		 time_ms;
	const char	*text;
	size_t		 len;
};
struct store_prinrec {
	char		**groups;
	size_t		  ngroups;
	char		**policies;
	size_t		  npolicies;
};

void	store_instrec_encode(struct store_wbuf *, const struct store_instrec *);
int	store_instrec_decode(const MDB_val *, struct store_instrec *);
void	store_keyrec_encode(struct store_wbuf *, const struct store_keyrec *);
int	store_keyrec_decode(const MDB_val *, struct store_keyrec *);
void	store_keyrec_free(struct store_keyrec *);
void	store_kprec_encode(struct store_wbuf *, const struct store_kprec *);
int	store_kprec_decode(const MDB_val *, struct store_kprec *);
void	store_polrec_encode(struct store_wbuf *, const struct store_polrec *);
int	store_polrec_decode(const MDB_val *, struct store_polrec *);
void	store_pvrec_encode(struct store_wbuf *, const struct store_pvrec *);
int	store_pvrec_decode(const MDB_val *, struct store_pvrec *);
void	store_prinrec_encode(struct store_wbuf *, int with_groups,
	    const struct store_prinrec *);
int	store_prinrec_decode(const MDB_val *, int with_groups,
	    struct store_prinrec *);
void	store_prinrec_free(struct store_prinrec *);
/* Appends / removes a name of a list; 0, or -1 when absent. */
void	store_list_add(char ***, size_t *, const char *);
int	store_list_del(char ***, size_t *, const char *);
ssize_t	store_list_find(char **, size_t, const char *);

/* BLAKE2b-256 of a policy text (libsodium's crypto_generichash). */
void	store_digest(const char *, size_t, unsigned char[32]);
/* Milliseconds since the epoch. */
int64_t	store_now_ms(void);

/*
 * Composite keys: parts joined by "\0".  store_key returns the number of
 * parts written; the buffer is w.
 */
void	store_key(struct store_wbuf *, const char *, const char *,
	    const char *);

/*
 * Compiled policies by (kind, digest): identical texts are compiled once
 * and shared (store-load.c).  pcache_compile returns a new reference, or
 * NULL with *errp and the message naming dbname/name.
 */
struct cpolicy;
struct world_tag;
struct pcache_ent {
	unsigned char	 digest[32];
	int		 kind;
	struct cpolicy	*cp;
};
struct pcache {
	struct pcache_ent	*v;
	size_t			 cap;	/* a power of two */
	size_t			 n;
};
struct cpolicy	*pcache_compile(struct store *, struct pcache *, int kind,
		    const char *, size_t, const unsigned char *digest,
		    const char *dbname, const char *name, int *errp);
void		 pcache_free(struct pcache *);
/* store-pcache.c, for the prefetch (store-load.c) */
size_t		 pcache_max(const struct store *, int kind, size_t len);
struct pcache_ent *pcache_slot(struct pcache *, int kind,
		    const unsigned char *digest);
void		 pcache_grow(struct pcache *);
void		 pcache_put(struct pcache *, int kind,
		    const unsigned char *digest, struct cpolicy *);

/* The tags of a key as stored (malloc'd pairs). */
int	store_tags_read(struct store *, MDB_txn *, const char *,
	    struct world_tag **, size_t *);
void	store_tags_free(struct world_tag *, size_t);

/*
 * Scheduled deletions (store-ops.c): the migration from schema 1 (a
 * record for every PendingDeletion key) and the consistency rule (a key
 * is PendingDeletion exactly when it has a record) for store_check.
 */
int	store_migrate_deletions(struct store *, MDB_txn *);
int	store_deletions_check(struct store *, MDB_txn *);

/*
 * Ownership (store-own.c): the state directory, then data.mdb, lock.mdb
 * and kmsauthz.lock, owned by the effective uid or root and not
 * writable by group or others; STORE_EIO naming path, owner and mode.
 */
int	store_own_dir(struct store *);
int	store_own_files(struct store *);

/* store-load.c, shared with store-prefetch.c: a key of n parts joined
 * by NUL (0, or -1 when malformed; free with store_split_free), a RAM
 * policy version's record (0, or -1). */
int	store_split(const MDB_val *, char **, int);
void	store_split_free(char **, int);
int	store_pv_find(struct store *, MDB_txn *, const char *, const char *,
	    uint32_t, struct store_pvrec *);

/* Loading (store-load.c): every record into wt (empty world txn). */
int	store_load_into(struct store *, MDB_txn *, struct world_txn *);
/* One entity (record k of its own DBI) into or out of wt. */
int	store_load_entity(struct store *, MDB_txn *, struct world_txn *,
	    struct pcache *, int dbi, const MDB_val *k, int reuse);

/*
 * Change-sets (store-apply.c).  While a change is planned st->cs
 * records what it reads (store_cset_read), the key prefixes it scans
 * (store_cset_range) and what it writes (store_cset_write);
 * store_cset_refresh then brings the world transaction in step with
 * the records the change-set wrote.
 */
void	store_cset_read(struct store *, int dbi, const void *k, size_t klen,
	    const MDB_val *v);
void	store_cset_range(struct store *, int dbi, const void *prefix,
	    size_t plen);
void	store_cset_write(struct store *, int dbi, const void *k, size_t klen,
	    const void *v, size_t vlen, int del);
int	store_cset_refresh(struct store *, MDB_txn *, struct world_txn *,
	    const struct store_cset *, struct pcache *);
/* Every record of txn but meta's; a store_record_fn that adds each to
 * the change-set arg. */
int	store_records_in(struct store *, MDB_txn *, store_record_fn, void *);
int	store_cset_collect(int, const void *, size_t, const void *, size_t,
	    void *);

/* store.c, shared with store-backup.c */
char	*store_path(const char *dir, const char *file);
int	 store_fsync_dir(const char *dir);
int	 store_fsync_parent(const char *path);
/* The environment's pages checked, its map's size read; closed if bad. */
int	 store_map_check(struct store *st, int full);

#endif

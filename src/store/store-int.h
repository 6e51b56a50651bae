/*
 * store-int.h: what the store's files share and nobody else sees: the
 * store structure, the DBI table, the record codec and the write loop.
 */
#ifndef KMSAUTHZ_STORE_INT_H
#define KMSAUTHZ_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store/store.h"

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
	DBI_COUNT
};

struct world_txn;

struct store {
	char			*dir;
	MDB_env			*env;
	int			 lockfd;
	int			 readonly;
	size_t			 map_size;
	size_t			 map_max;
	size_t			 ram_policy_max;
	MDB_dbi			 dbi[DBI_COUNT];
	uint64_t		 generation;
	int			 stale_readers;	/* cleared at open */
	struct world_holder	*holder;
	int			 loaded;	/* holder mirrors the store */
	void			(*holder_free)(struct world_holder *);
	char			 errmsg[1024];
};

extern const char *const store_dbi_names[DBI_COUNT];

/* A meta record as an unsigned integer of size 4 or 8. */
int	store_meta_get_u(struct store *, MDB_txn *, const char *, size_t,
	    uint64_t *);
/* Doubles the map up to the ceiling (STORE_EFULL past it). */
int	store_grow(struct store *);

/* A read transaction (MDB_MAP_RESIZED handled). */
int	store_rtxn(struct store *, MDB_txn **);

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

#endif

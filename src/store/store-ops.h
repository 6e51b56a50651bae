/* SPDX-License-Identifier: ISC */
/*
 * store-ops.h: what the store's changes share (store-ops.c): one
 * change's arguments, record reads and writes by composite key, the key
 * and policy helpers, the checks every change makes.  The changes
 * themselves are in store-ops-kms.c (instances, keys, deletions, tags,
 * aliases), store-ops-ram.c (users, roles, groups, RAM policies and
 * their versions) and store-ops-bundle.c (the whole state).
 */
#ifndef KMSAUTHZ_STORE_OPS_H
#define KMSAUTHZ_STORE_OPS_H

#include "store/store-int.h"

struct bundle;
struct cpolicy;

/*
 * A change being planned: its plan, the plan's own typed arguments
 * (each ops file declares the structures its plans take), the document
 * it compiled before the write transaction, and what store_op_change
 * keeps for it (the policy cache, the change-set).
 */
struct op;
typedef int (*store_op_fn)(struct store *, MDB_txn *, struct world_txn *,
    struct op *);
struct op {
	store_op_fn		 plan;
	void			*args;
	struct cpolicy		*cp;
	struct pcache		 cache;
	struct store_cset	 cs;
	int			 replace;	/* a whole bundle */
};

extern const int		 store_op_prin_dbi[];
extern const char *const	 store_op_prin_name[];

int	store_op_id_ok(struct store *st, const char *what, const char *s);
int	store_op_db_get(struct store *st, MDB_txn *txn, int dbi,
    const struct store_wbuf *k, MDB_val *v);
int	store_op_db_put(struct store *st, MDB_txn *txn, int dbi,
    const struct store_wbuf *k, const void *v, size_t vlen, unsigned int flags);
int	store_op_db_del(struct store *st, MDB_txn *txn, int dbi,
    const struct store_wbuf *k);
/*
 * The typed records (a key of one or two parts, a, b; r the DBI's
 * record structure, an int64_t for a deletion): read and decoded
 * (STORE_ENOTFOUND naming what is missing), encoded and written
 * (STORE_EEXIST naming what exists).
 */
int	store_op_rec_get(struct store *st, MDB_txn *txn, int dbi, const char *a,
    const char *b, void *r);
int	store_op_rec_put(struct store *st, MDB_txn *txn, int dbi, const char *a,
    const char *b, const void *r, unsigned int flags);
int	store_op_rec_del(struct store *st, MDB_txn *txn, int dbi, const char *a,
    const char *b, const char *c);
/*
 * Plans and applies one change (args: the plan's).  prep, when not
 * NULL, runs first, before the change's own checks (the read-only
 * store's refusal): it checks the arguments, compiles a document the
 * plan checks into o->cp, marks a whole bundle (o->replace).
 */
typedef int (*store_op_prep_fn)(struct store *, struct op *);
int	store_op_change(struct store *st, store_op_prep_fn prep,
    store_op_fn plan, void *args, uint64_t *genp);
void	store_op_seed(struct op *o, int kind, const char *text, size_t len);
int	store_op_db_del_prefix(struct store *st, MDB_txn *txn, int dbi,
    const void *prefix, size_t plen);
int	store_op_db_count_prefix(struct store *st, MDB_txn *txn, int dbi,
    const void *prefix, size_t plen, size_t *np);
int	store_op_nomem(struct store *st);
int	store_op_kp_put(struct store *st, MDB_txn *txn, const char *id,
    uint64_t version, const char *text, size_t len);
int	store_op_compile(struct store *st, enum policy_kind kind,
    const char *text, size_t len, struct policy_diags *diags,
        struct cpolicy **cpp);
int	store_op_state_ok(struct store *st, int state);
int	store_op_key_state_ok(struct store *st, int state);
int	store_op_tag_ok(struct store *st, const char *tag, const char *value);
int	store_op_alias_name_ok(struct store *st, const char *name);
int	store_op_pv_put(struct store *st, MDB_txn *txn, const char *account,
    const char *name, uint32_t ver, int64_t time_ms, const char *text,
    size_t len);
int	store_op_policy_name_ok(struct store *st, const char *account,
    const char *name);
int	store_op_bundle_ok(struct store *st, const struct bundle *b);

#endif

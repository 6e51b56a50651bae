/* SPDX-License-Identifier: ISC */
/*
 * world.h: the compiled policy world, an immutable and structurally
 * shared snapshot of every instance, key, alias, policy, user, role and
 * group, and the point where new versions are published.
 *
 * Pure C (libc and pthreads).  The world is a persistent hash array
 * mapped trie (HAMT): every entry lives in one trie keyed by its kind and
 * identifiers; interior nodes and entries carry atomic reference counts.
 * A transaction copies only the path from the root to the entries it
 * changes (O(log n) nodes per change) and shares everything else with
 * the world it started from, so publishing one changed key or policy
 * never copies or rebuilds the rest.
 *
 * Reclamation: a world is freed when its last reference goes
 * (world_unref).  Freeing a world drops one reference on its root node;
 * a node (or entry) whose count falls to zero drops one reference on
 * each child and is freed.  A node still reachable from another world
 * keeps a non-zero count and survives.  Readers therefore need no locks
 * while they evaluate: they hold a world reference (from
 * world_holder_acquire) for as long as they use the world, and every
 * pointer they read from it (names, Sids, entries) stays valid until
 * they drop that reference.
 *
 * Thread safety: a world is immutable and may be read by any number of
 * threads at once; world_ref/world_unref are atomic.  A transaction is
 * owned by one thread.
 */
#ifndef KMSAUTHZ_WORLD_H
#define KMSAUTHZ_WORLD_H

#include <stddef.h>
#include <stdint.h>

struct cpolicy;
struct cpolicy_image;
struct world;
struct world_txn;
struct world_holder;

/* Section 5: instance states. */
enum world_instance_state {
	WORLD_INSTANCE_ENABLED = 0,
	WORLD_INSTANCE_DISABLED,
	WORLD_INSTANCE_EXPIRED
};

/* Section 5: key states (a decision does not depend on them). */
enum world_key_state {
	WORLD_KEY_ENABLED = 0,
	WORLD_KEY_DISABLED,
	WORLD_KEY_PENDING_DELETION,
	WORLD_KEY_PENDING_IMPORT
};

/* "Enabled", ... ; NULL for an out-of-range value. */
const char	*world_instance_state_name(enum world_instance_state);
const char	*world_key_state_name(enum world_key_state);
/* Exact (case-sensitive) names; 0 on success, -1 when unknown. */
int	world_instance_state_parse(const char *, size_t,
	    enum world_instance_state *);
int	world_key_state_parse(const char *, size_t, enum world_key_state *);

/*
 * Read-only views of entries, as returned by the lookups below.  Every
 * string is NUL-terminated and owned by the world; the views stay valid
 * while the caller holds a reference on the world it looked them up in.
 */
struct world_instance {
	const char			*id;
	enum world_instance_state	 state;
	uint32_t			 share_quota;
	/* The account it belongs to; NULL: recorded before instances had
	 * one (the admin configuration's account owns it). */
	const char			*account;
};

struct world_tag {
	const char	*key;
	const char	*value;
};

/*
 * 1 when two tag keys name the same tag for a condition (section 4:
 * tag keys match ASCII case-insensitively), else 0.  Keys that differ
 * only in case make a key's tags ambiguous; the bundle and the store
 * refuse them.
 */
int	world_tag_key_same(const char *, const char *);

struct world_key {
	const char		*id;
	const char		*region;
	const char		*creator;	/* account id */
	const char		*instance;	/* NULL: outside any instance */
	enum world_key_state	 state;
	const struct world_tag	*tags;		/* sorted by key, bytewise */
	size_t			 ntags;
	const struct cpolicy	*policy;	/* NULL: no key policy */
	const struct cpolicy_image *image;	/* its image (eval) */
};

struct world_alias {
	const char	*region;	/* its key's region */
	const char	*account;	/* its key's creator */
	const char	*name;		/* "alias/..." */
	const char	*key_id;
};

struct world_policy {
	const char		*account;
	const char		*name;
	const struct cpolicy	*policy;
	const struct cpolicy_image *image;	/* its image (eval) */
};

/* A user, role or group: its attachments, by name, in given order. */
struct world_principal {
	const char		*account;
	const char		*name;
	const char * const	*groups;	/* users only; else ngroups 0 */
	size_t			 ngroups;
	const char * const	*policies;
	size_t			 npolicies;
};

/*
 * Worlds.  world_new_empty() returns an empty world (generation 0) or
 * NULL when out of memory.  world_ref returns its argument.
 * world_unref(NULL) is a no-op.
 */
struct world	*world_new_empty(void);
struct world	*world_ref(struct world *);
void		 world_unref(struct world *);
uint64_t	 world_generation(const struct world *);

/* Number of entries of each kind (O(1)). */
struct world_counts {
	size_t	instances, keys, aliases, policies, users, roles, groups;
};
void		 world_counts(const struct world *, struct world_counts *);

/*
 * Diagnostics (tests, statistics; O(n)): the number of trie nodes and
 * entries reachable from w, and how many of them no other world or
 * transaction shares (reference count 1).
 */
void		 world_node_stats(const struct world *, size_t *total,
		    size_t *unshared);

/*
 * Lookups (exact, case-sensitive, O(log n), no allocation).  Each fills
 * *out and returns 0, or returns -1 when there is no such entry.  Names
 * are (pointer, length) and need no NUL terminator.
 */
int	world_get_instance(const struct world *, const char *id, size_t,
	    struct world_instance *out);
int	world_get_key(const struct world *, const char *id, size_t,
	    struct world_key *out);
int	world_get_alias(const struct world *, const char *region, size_t,
	    const char *account, size_t, const char *name, size_t,
	    struct world_alias *out);
int	world_get_policy(const struct world *, const char *account, size_t,
	    const char *name, size_t, struct world_policy *out);
int	world_get_user(const struct world *, const char *account, size_t,
	    const char *name, size_t, struct world_principal *out);
int	world_get_role(const struct world *, const char *account, size_t,
	    const char *name, size_t, struct world_principal *out);
int	world_get_group(const struct world *, const char *account, size_t,
	    const char *name, size_t, struct world_principal *out);

/*
 * A principal's identity policies, resolved (the decision's hot path):
 * a user's own then each of its groups' (a role's own), each looked up
 * by name in the principal's account; names that resolve to nothing are
 * left out, and so is a policy attached a second time.  name points to
 * the policy entry's name (valid as long as the world).
 */
struct world_rpolicy {
	const struct cpolicy	*policy;
	const struct cpolicy_image *image;
	const char		*name;
	size_t			 namelen;
};

/*
 * is_user: a user, else a role.  Returns 1 and the list (*vp, *np)
 * when it could be resolved once for this world version and kept in its
 * memo (later calls on the same world return the same list without
 * lookups); 0 when the principal exists but its list is not memoised
 * (no memo: an uncommitted view; the memo's pool is used up; more than
 * 256 policies), so the caller resolves it with the lookups above; -1
 * when there is no such principal.  No allocation, no lock; any number
 * of threads may call it on one world.
 */
int	world_principal_policies(const struct world *, int is_user,
	    const char *account, size_t, const char *name, size_t,
	    const struct world_rpolicy **vp, size_t *np);

/*
 * The memo of a committed world (tests, statistics): how many entries
 * its lookup index holds and how many principals it has resolved.  Both
 * 0 for a transaction's view, which has none.
 */
void	world_memo_stats(const struct world *, size_t *entries,
	    size_t *principals);

/*
 * Iteration over every entry of one kind, in no particular order (O(n),
 * for the admin plane and export).  The callback returns 0 to go on or
 * non-zero to stop; world_foreach_* returns that value (0 when all were
 * visited).
 */
typedef int (*world_instance_cb)(const struct world_instance *, void *);
typedef int (*world_key_cb)(const struct world_key *, void *);
typedef int (*world_alias_cb)(const struct world_alias *, void *);
typedef int (*world_policy_cb)(const struct world_policy *, void *);
typedef int (*world_principal_cb)(const struct world_principal *, void *);
int	world_foreach_instance(const struct world *, world_instance_cb, void *);
int	world_foreach_key(const struct world *, world_key_cb, void *);
int	world_foreach_alias(const struct world *, world_alias_cb, void *);
int	world_foreach_policy(const struct world *, world_policy_cb, void *);
int	world_foreach_user(const struct world *, world_principal_cb, void *);
int	world_foreach_role(const struct world *, world_principal_cb, void *);
int	world_foreach_group(const struct world *, world_principal_cb, void *);

/*
 * Share quota (section 5): the number of distinct foreign accounts over
 * the key policies of every key in instance instance_id, where the key
 * skip_key_id (may be NULL) is left out and, when extra is not NULL, the
 * key policy extra of a key created by extra_account is counted in its
 * place (the "what if" of SetKeyPolicy / CreateKey).  Returns 0 and
 * *countp, or -1 when out of memory.  Each world keeps a per-instance
 * index of its keys' foreign accounts (with how many keys name each),
 * kept up to date by the transactions that change keys, so this costs
 * O(accounts named by skip_key_id's policy and by extra), whatever the
 * number of keys.
 */
int	world_instance_share_count(const struct world *,
	    const char *instance_id, const char *skip_key_id,
	    const struct cpolicy *extra, const char *extra_account,
	    size_t *countp);

/*
 * Whether key policy cp, for a key created by account, names a foreign
 * account that the current policy of key key_id (none when there is no
 * such key or policy; its accounts taken as foreign to account too)
 * does not: only then can SetKeyPolicy raise its instance's count.
 * Returns 1 or 0, or -1 when out of memory.  O(accounts the two name).
 */
int	world_key_share_grows(const struct world *, const char *key_id,
	    const struct cpolicy *cp, const char *account);

/*
 * Transactions: a private, mutable copy-on-write view of base (NULL: the
 * empty world).  Puts replace an existing entry of the same identity.
 * Every string argument is copied; (pointer, NUL-terminated) strings.
 * A cpolicy argument is borrowed: the transaction takes its own
 * reference (cpolicy_ref), the caller keeps and drops its own.
 * Each put/del returns 0, or -1 with errno set: ENOMEM, ENOENT (del of
 * an absent entry; put_alias of a key absent from the transaction) or
 * EINVAL (a NULL or empty identifier).  A failed call leaves the
 * transaction as it was.
 */
struct world_txn *world_txn_begin(const struct world *base);

int	world_txn_put_instance(struct world_txn *, const char *id,
	    enum world_instance_state, uint32_t share_quota,
	    const char *account);
int	world_txn_del_instance(struct world_txn *, const char *id);

/*
 * A key.  instance NULL: outside any instance (policy must then be
 * NULL).  tags: ntags (key, value) pairs; duplicate tag keys are EINVAL.
 */
int	world_txn_put_key(struct world_txn *, const char *id,
	    const char *region, const char *creator, const char *instance,
	    enum world_key_state, const struct world_tag *tags, size_t ntags,
	    const struct cpolicy *policy);
/* Deleting a key does not delete its aliases (they then resolve to no
 * key and the alias resource is ordinary); callers delete them. */
int	world_txn_del_key(struct world_txn *, const char *id);

/*
 * An alias name ("alias/...") for key key_id; its region and account
 * are those of the key as present in the transaction (ENOENT without
 * it).  Aliases are identified by (region, account, name).
 */
int	world_txn_put_alias(struct world_txn *, const char *name,
	    const char *key_id);
int	world_txn_del_alias(struct world_txn *, const char *region,
	    const char *account, const char *name);

/* A RAM identity policy, scoped to its account. */
int	world_txn_put_policy(struct world_txn *, const char *account,
	    const char *name, const struct cpolicy *policy);
int	world_txn_del_policy(struct world_txn *, const char *account,
	    const char *name);

/*
 * Principals.  Attached policies (and a user's groups) are names
 * resolved in the principal's own account at decision time; a name that
 * resolves to nothing contributes nothing.
 */
int	world_txn_put_user(struct world_txn *, const char *account,
	    const char *name, const char * const *groups, size_t ngroups,
	    const char * const *policies, size_t npolicies);
int	world_txn_del_user(struct world_txn *, const char *account,
	    const char *name);
int	world_txn_put_role(struct world_txn *, const char *account,
	    const char *name, const char * const *policies, size_t npolicies);
int	world_txn_del_role(struct world_txn *, const char *account,
	    const char *name);
int	world_txn_put_group(struct world_txn *, const char *account,
	    const char *name, const char * const *policies, size_t npolicies);
int	world_txn_del_group(struct world_txn *, const char *account,
	    const char *name);

/* The transaction's current state, readable with the lookups above
 * (valid until the next change to or the end of the transaction). */
const struct world *world_txn_view(struct world_txn *);

/*
 * world_txn_commit ends the transaction and returns the new world with
 * the given generation (one reference, the caller's), or NULL when out
 * of memory (the transaction is then aborted).  world_txn_abort ends it
 * without a world.  Neither touches base.
 */
struct world	*world_txn_commit(struct world_txn *, uint64_t generation);
void		 world_txn_abort(struct world_txn *);

/*
 * The publication point shared by the daemon's workers and the store.
 * world_holder_new takes over one reference on its argument (which may
 * be NULL: an empty world is used).  world_holder_publish replaces the
 * current world (taking over the caller's reference on w) and drops the
 * holder's reference on the old one; readers still holding it keep it
 * alive.  world_holder_acquire returns the current world with a new
 * reference the caller drops with world_unref.  world_holder_generation
 * reads the current generation with one atomic load, so a worker can
 * keep a cached world and re-acquire only when it is stale.
 * world_holder_free drops the holder's reference.
 */
struct world_holder *world_holder_new(struct world *);
void		 world_holder_free(struct world_holder *);
void		 world_holder_publish(struct world_holder *, struct world *);
struct world	*world_holder_acquire(struct world_holder *);
uint64_t	 world_holder_generation(struct world_holder *);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * store.h: the daemon's state in LMDB.  One environment in a state
 * directory, one named database (DBI) per kind of record, one write
 * transaction per change, and the compiled world (engine/world.h) the
 * evaluator reads, kept in step with every commit.
 *
 * The schema at a glance (version STORE_SCHEMA_VERSION).  Keys are
 * bytes; "\0" separates the parts of a composite key (no identifier may
 * contain a NUL byte), integers are big-endian so that byte order is
 * numeric order.  In values, str is a u16 length and that many bytes,
 * strlist a u16 count and that many str, text the rest of the value.
 *
 *  DBI             key                             value
 *  ---             ---                             -----
 *  meta            "format"                        "kmsauthz-store"
 *                  "schema"                        u32 schema version
 *                  "generation"                    u64 store generation
 *  instances       InstanceId                      u8 state, u32 share quota,
 *                                                  [str account: owner]
 *  keys            KeyId                           u8 KeyState, str region,
 *                                                  str creator account,
 *                                                  str instance ("": none)
 *  keypolicies     KeyId                           u64 version, i64 set time
 *  (the policy                                     (ms since the epoch),
 *   named "default")                               32-byte BLAKE2b of the
 *                                                  text, text as set
 *  tags            KeyId \0 TagKey                 TagValue (raw bytes)
 *  aliases         Region \0 Account \0 AliasName  KeyId (raw bytes)
 *  policies        Account \0 PolicyName           u32 default version,
 *                                                  u32 last version id
 *  policyversions  Account \0 PolicyName \0 u32 V  i64 create time (ms),
 *                                                  text (version "vV")
 *  users           Account \0 UserName             strlist groups,
 *                                                  strlist policies
 *  roles           Account \0 RoleName             strlist policies
 *  groups          Account \0 GroupName            strlist policies
 *  deletions       KeyId                           i64 deletion time (ms)
 *  (schema 2: the keys in PendingDeletion, exactly)
 *
 * Group membership is the user's ordered group list; attachments are
 * each principal's ordered policy list (the order the evaluator lists
 * deciding statements in).  Every committed change raises "generation"
 * by exactly one.  docs/storage.md says why, and what each rule means.
 */
#ifndef KMSAUTHZ_STORE_H
#define KMSAUTHZ_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/limits.h"

#define STORE_SCHEMA_VERSION	2
#define STORE_FORMAT		"kmsauthz-store"
#define STORE_LOCK_FILE		"kmsauthz.lock"
/* Present only while a new store is being created (docs/storage.md). */
#define STORE_CREATING_FILE	"kmsauthz.creating"

/* Default map sizes: the map is address space, not disk. */
#define STORE_MAP_SIZE_DEFAULT	(64u * 1024 * 1024)
#define STORE_MAP_MAX_DEFAULT	((size_t)16 * 1024 * 1024 * 1024)

/*
 * Limits the store enforces itself (docs/storage.md): the numbers live
 * in src/engine/limits.h, shared with the bundle validator, so that an
 * import is refused before anything is written for exactly what the
 * store would refuse.
 */
#define STORE_POLICY_VERSIONS_MAX	LIMITS_POLICY_VERSIONS_MAX
#define STORE_LIST_MAX			LIMITS_LIST_MAX
#define STORE_ID_MAX			LIMITS_ID_MAX
#define STORE_TAGS_MAX			LIMITS_TAGS_MAX
#define STORE_TAG_KEY_MAX		LIMITS_TAG_KEY_MAX
#define STORE_TAG_VALUE_MAX		LIMITS_TAG_VALUE_MAX
/*
 * A key found PendingDeletion without a deletion time (migrated from
 * schema 1, or imported from a bundle, which carries no time) is
 * deleted this many days after the migration or import: the longest
 * window a client can ask for, so no key goes earlier than asked.
 */
#define STORE_DELETION_UNKNOWN_DAYS	366

/*
 * Errors: every store function returns STORE_OK or one of these, and
 * store_errmsg() says what happened (path, name, cause).  LMDB and errno
 * codes are translated in one place, store.c's store_err_mdb().
 */
enum store_err {
	STORE_OK = 0,
	STORE_ENOTFOUND = -1,	/* no such entry */
	STORE_EEXIST = -2,	/* the entry exists already */
	STORE_ELIMIT = -3,	/* a count or size limit */
	STORE_EFULL = -4,	/* the map is at its ceiling and full */
	STORE_EIO = -5,		/* I/O error, permission, disk full */
	STORE_ECORRUPT = -6,	/* foreign or corrupt data */
	STORE_ELOCKED = -7,	/* another process holds the store */
	STORE_EVERSION = -8,	/* schema version not supported */
	STORE_EINVAL = -9,	/* invalid argument or document */
	STORE_ESTATE = -10,	/* the key's instance is not Enabled */
	STORE_EUNSUPPORTED = -11, /* a key outside any instance: no policy */
	STORE_EQUOTA = -12,	/* the instance's share quota */
	STORE_EINUSE = -13,	/* still referenced (alias, member, ...) */
	STORE_ENOMEM = -14,
	STORE_ERDONLY = -15,	/* the store was opened read-only */
	STORE_EUNAVAIL = -16,	/* a fleet's etcd cannot be reached */
	STORE_ECONFLICT = -17	/* changed meanwhile: plan again */
};

/* A short name for an error ("not found", ...). */
const char	*store_strerror(int);

struct store;
struct bundle;
struct world;
struct world_holder;
struct policy_diags;

struct store_opts {
	size_t	map_size;	/* initial map size; 0: the default */
	size_t	map_max;	/* ceiling of map growth; 0: the default */
	size_t	ram_policy_max;	/* identity policy bytes; 0: the default */
	int	readonly;	/* no changes (export, backup) */
	int	create;		/* create the directory if it is missing */
	/*
	 * A writer (the daemon) that may fall back to a read-only open
	 * when the directory or its files cannot be written (EACCES,
	 * EPERM, EROFS) but data.mdb holds a store: changes are then
	 * refused with STORE_ERDONLY and store_reopen() tries again.
	 */
	int	readonly_ok;
};

/*
 * Open the store in directory dir.  A writer takes the lock file
 * dir/kmsauthz.lock (a second writer gets STORE_ELOCKED naming the
 * holder's pid), clears stale reader slots, creates an empty store in an
 * empty directory, migrates an older schema in one transaction, and
 * refuses everything else it does not recognise.  On failure *stp is
 * NULL and *causep (free it) names the path and the cause.
 */
int	store_open(const char *dir, const struct store_opts *,
	    struct store **stp, char **causep);
void	store_close(struct store *);
/*
 * Closes a store and removes what its open created (the files, and
 * the directory when the open made it): for a tool whose work then
 * failed (kmsauthzctl import), so that it leaves the directory as it
 * found it.  Files that were there before the open are kept.
 */
void	store_close_discard(struct store *);

/*
 * 1 when changes are refused (opened read-only, or fallen back to it);
 * store_readonly_cause() then says why (the path and the errno text;
 * "" when read-only was asked for).
 */
int		 store_readonly(const struct store *);
const char	*store_readonly_cause(const struct store *);
/*
 * A store that fell back to read-only: try the writable open again
 * (the daemon's SIGHUP).  STORE_OK: writable now (the world reloaded
 * if the store's generation moved meanwhile); STORE_ERDONLY: still
 * read-only (store_errmsg() names the path and cause), the world and
 * the store as they were; another error: as store_open's.
 */
int		 store_reopen(struct store *);

const char	*store_errmsg(const struct store *);
const char	*store_dir(const struct store *);
uint64_t	 store_generation(const struct store *);
size_t		 store_map_size(const struct store *);
/* 1 when the store holds nothing but its metadata. */
int		 store_is_empty(struct store *);

/*
 * Load every record and compile the world (generation = the store's);
 * the store keeps it in its holder, which the daemon's workers read.
 * Changes need a loaded store (store_replace_all excepted).
 */
int	store_load(struct store *);
struct world_holder *store_holder(struct store *);

/* Every record as a bundle (policies as stored text), for export. */
int	store_to_bundle(struct store *, struct bundle **bp);

/*
 * Consistency check: every record decodes, every reference resolves,
 * every key in an instance has exactly one key policy whose digest
 * matches its text, every RAM policy has 1-5 versions including its
 * default.  STORE_OK or STORE_ECORRUPT with the first problem.
 */
int	store_check(struct store *);

/*
 * A consistent, compacted copy into the empty or new directory dest:
 * dest/data.mdb fsynced, then dest (and its parent when dest was
 * made), before STORE_OK.
 */
int	store_backup(struct store *, const char *dest);

/*
 * Changes.  Each is one write transaction: all of it is stored or none;
 * it raises the generation by exactly one and, when genp is not NULL,
 * returns the new generation there; after the commit the new world,
 * recompiled only where it changed, is published in the holder.  An
 * error leaves the store and the world exactly as they were.  Documents
 * are validated and compiled first (STORE_EINVAL with diags when diags
 * is not NULL).
 */
/* account: the instance's owner (NULL: not recorded). */
int	store_instance_create(struct store *, const char *id, int state,
	    uint32_t share_quota, const char *account, uint64_t *genp);
int	store_instance_state_set(struct store *, const char *id, int state,
	    uint64_t *genp);
int	store_instance_quota_set(struct store *, const char *id,
	    uint32_t share_quota, uint64_t *genp);
int	store_instance_delete(struct store *, const char *id, uint64_t *genp);

/* A key in an instance gets its creator's default key policy. */
int	store_key_create(struct store *, const char *id, const char *region,
	    const char *creator, const char *instance, int state,
	    uint64_t *genp);
int	store_key_state_set(struct store *, const char *id, int state,
	    uint64_t *genp);

/*
 * Scheduled deletion.  A key is PendingDeletion exactly when the
 * deletions DBI has its deletion time (ms since the epoch);
 * store_key_state_set neither enters nor leaves that state.
 * Schedule: the key (not PendingDeletion, instance Enabled) becomes
 * PendingDeletion with when_ms.  Cancel: it becomes Enabled, the time
 * gone.  Expire: when its time is at or before now_ms, the key is
 * deleted with its aliases, tags and key policy, in one change
 * (STORE_ENOTFOUND when the key or its schedule is gone, STORE_EINVAL
 * when not due yet, STORE_ESTATE when its instance is not Enabled).
 */
int	store_key_schedule_deletion(struct store *, const char *id,
	    int64_t when_ms, uint64_t *genp);
int	store_key_cancel_deletion(struct store *, const char *id,
	    uint64_t *genp);
int	store_key_expire(struct store *, const char *id, int64_t now_ms,
	    uint64_t *genp);
/* The deletion time of a key (STORE_ENOTFOUND: none). */
int	store_key_deletion_get(struct store *, const char *id,
	    int64_t *when_msp);
/* Every scheduled deletion, by key id. */
struct store_deletion {
	char	*key_id;
	int64_t	 when_ms;
};
int	store_key_deletions_list(struct store *, struct store_deletion **,
	    size_t *np);
void	store_key_deletions_free(struct store_deletion *, size_t);
int	store_key_policy_set(struct store *, const char *key_id,
	    const char *text, size_t len, struct policy_diags *,
	    uint64_t *genp);
/* The stored key policy: text (malloc'd), version, set time, digest. */
struct store_key_policy {
	char		*text;
	size_t		 len;
	uint64_t	 version;
	int64_t		 set_time_ms;
	unsigned char	 digest[32];
};
int	store_key_policy_get(struct store *, const char *key_id,
	    struct store_key_policy *);
void	store_key_policy_free(struct store_key_policy *);

/*
 * Tags of one key, in one change: each entry sets its tag (value
 * not NULL) or removes it (value NULL; removing an absent tag is no
 * error), in order; the key may end with at most STORE_TAGS_MAX tags.
 */
struct store_tag {
	const char	*key;
	const char	*value;
};
int	store_tags_change(struct store *, const char *key_id,
	    const struct store_tag *, size_t n, uint64_t *genp);

/* Aliases ("alias/..."), in the region and account of their key. */
int	store_alias_create(struct store *, const char *name,
	    const char *key_id, uint64_t *genp);
int	store_alias_update(struct store *, const char *name,
	    const char *key_id, uint64_t *genp);
int	store_alias_delete(struct store *, const char *region,
	    const char *account, const char *name, uint64_t *genp);

enum store_principal {
	STORE_USER = 0,
	STORE_ROLE,
	STORE_GROUP
};
int	store_principal_create(struct store *, enum store_principal,
	    const char *account, const char *name, uint64_t *genp);
int	store_principal_delete(struct store *, enum store_principal,
	    const char *account, const char *name, uint64_t *genp);
#define store_user_create(s, a, n, g)	\
	store_principal_create((s), STORE_USER, (a), (n), (g))
#define store_role_create(s, a, n, g)	\
	store_principal_create((s), STORE_ROLE, (a), (n), (g))
#define store_group_create(s, a, n, g)	\
	store_principal_create((s), STORE_GROUP, (a), (n), (g))
int	store_membership_add(struct store *, const char *account,
	    const char *user, const char *group, uint64_t *genp);
int	store_membership_remove(struct store *, const char *account,
	    const char *user, const char *group, uint64_t *genp);

/* RAM policies: version "v1" is created as the default. */
int	store_policy_create(struct store *, const char *account,
	    const char *name, const char *text, size_t len,
	    struct policy_diags *, uint64_t *genp);
int	store_policy_delete(struct store *, const char *account,
	    const char *name, uint64_t *genp);
/*
 * how: STORE_VERSION_DEFAULT (the new version becomes the default),
 * STORE_VERSION_ROTATE (at the limit of versions, the oldest that is
 * not the default is deleted in the same change instead of refusing).
 */
#define STORE_VERSION_DEFAULT	0x1
#define STORE_VERSION_ROTATE	0x2
int	store_policy_version_create(struct store *, const char *account,
	    const char *name, const char *text, size_t len, int how,
	    struct policy_diags *, uint32_t *versionp, uint64_t *genp);
int	store_policy_version_set_default(struct store *, const char *account,
	    const char *name, uint32_t version, uint64_t *genp);
int	store_policy_version_delete(struct store *, const char *account,
	    const char *name, uint32_t version, uint64_t *genp);

/*
 * Reads of RAM policy versions, each in one read transaction.  A version
 * as stored: its id (N of "vN"), whether it is the default, its creation
 * time and its text exactly as given (malloc'd, NUL-terminated).
 * store_policy_version_get with version 0 reads the default version;
 * STORE_ENOTFOUND (with a message) when the policy or the version does
 * not exist.  store_policy_versions_list returns every version by id.
 */
struct store_policy_version {
	uint32_t	 id;
	int		 is_default;
	int64_t		 create_ms;
	char		*text;
	size_t		 len;
};
int	store_policy_version_get(struct store *, const char *account,
	    const char *name, uint32_t version, struct store_policy_version *);
int	store_policy_versions_list(struct store *, const char *account,
	    const char *name, struct store_policy_version **vp, size_t *np);
void	store_policy_versions_free(struct store_policy_version *, size_t);

int	store_attach(struct store *, enum store_principal,
	    const char *account, const char *principal, const char *policy,
	    uint64_t *genp);
int	store_detach(struct store *, enum store_principal,
	    const char *account, const char *principal, const char *policy,
	    uint64_t *genp);

/*
 * Replace the whole state by a bundle that bundle_parse or
 * bundle_validate accepted, in one transaction.
 */
int	store_replace_all(struct store *, const struct bundle *,
	    uint64_t *genp);

#endif

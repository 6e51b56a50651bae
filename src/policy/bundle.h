/* SPDX-License-Identifier: ISC */
/*
 * bundle.h: the bundle, one JSON document for a whole policy world
 * (docs/bundle-format.md): its parsing with full validation, a plain
 * in-memory model, its compilation into a world and its deterministic
 * export.  The store imports and exports through it.
 *
 * Knows json-c; knows nothing of sockets or LMDB.
 */
#ifndef KMSAUTHZ_BUNDLE_H
#define KMSAUTHZ_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/limits.h"
#include "engine/world.h"
#include "policy/policy.h"

#define BUNDLE_FORMAT_VERSION	1
#define BUNDLE_MAX_BYTES	(256u * 1024 * 1024)	/* whole bundle */

/*
 * The model.  Every string is NUL-terminated and malloc'd; bundle_free
 * frees every field with free(), so code that fills a bundle itself
 * (the store, to export) must allocate with malloc too.
 */
struct bundle_instance {
	char				*id;
	enum world_instance_state	 state;
	uint32_t			 share_quota;
	char				*account;	/* NULL: unrecorded */
};

struct bundle_tag {
	char	*key;
	char	*value;
};

struct bundle_key {
	char			*id;
	char			*region;
	char			*creator;
	char			*instance;	/* NULL: outside any instance */
	enum world_key_state	 state;
	struct bundle_tag	*tags;
	size_t			 ntags;
	/*
	 * The key policy's stored text: as given, or the compact
	 * serialization of a JSON object, or (absent for a key in an
	 * instance) the default key policy of its creator.  NULL exactly
	 * when instance is NULL.
	 */
	char			*policy;
	size_t			 policy_len;
};

struct bundle_alias {
	char	*name;		/* "alias/..." */
	char	*key_id;
};

/*
 * One version of a RAM policy (the Versions form of a bundle policy,
 * as RAM's CreatePolicyVersion keeps them).
 */
#define BUNDLE_POLICY_VERSIONS_MAX	LIMITS_POLICY_VERSIONS_MAX

struct bundle_policy_version {
	uint32_t	 id;		/* N of "vN", 1 or more */
	int		 is_default;
	char		*text;		/* stored text, as for key policies */
	size_t		 len;
	int		 has_date;	/* 0: no CreateDate (import: now) */
	int64_t		 create_ms;	/* CreateDate, ms since the epoch */
};

struct bundle_policy {
	char	*account;
	char	*name;
	/* The default version's stored text (in both forms). */
	char	*text;
	size_t	 len;
	/*
	 * Every version, in bundle order (export: by id), exactly one the
	 * default; NULL (nversions 0) for the flat form, one version
	 * given as PolicyDocument.
	 */
	struct bundle_policy_version	*versions;
	size_t				 nversions;
};

/* A user, role or group (groups only for users). */
struct bundle_principal {
	char	*account;
	char	*name;
	char	**groups;
	size_t	 ngroups;
	char	**policies;
	size_t	 npolicies;
};

struct bundle {
	struct bundle_instance	*instances;
	size_t			 ninstances;
	struct bundle_key	*keys;
	size_t			 nkeys;
	struct bundle_alias	*aliases;
	size_t			 naliases;
	struct bundle_policy	*policies;
	size_t			 npolicies;
	struct bundle_principal	*users;
	size_t			 nusers;
	struct bundle_principal	*roles;
	size_t			 nroles;
	struct bundle_principal	*groups;
	size_t			 ngroups;
	/*
	 * Private to bundle.c: the compiled documents bundle_parse keeps
	 * for bundle_to_world (identical texts share one), NULL for a
	 * bundle built in memory (allocate struct bundle zeroed).
	 */
	struct bundle_compiled	*compiled;
};

/*
 * Parse and validate a bundle (len bytes, no NUL needed).
 * ram_max_bytes: the identity-policy size limit (0: the default,
 * POLICY_RAM_MAX_BYTES_DEFAULT).  On success returns 0 and *bp (free
 * with bundle_free).  Otherwise returns -1 and diags lists every error,
 * each with its JSON path ("Keys[1].KeyPolicy.Statement[0].Effect") and
 * reason; the bundle is rejected whole.
 */
int	bundle_parse(const char *text, size_t len, size_t ram_max_bytes,
	    struct bundle **bp, struct policy_diags *diags);

/*
 * Check a bundle built in memory against every rule bundle_parse
 * enforces beyond JSON syntax (references, uniqueness, states, share
 * quotas, policy documents).  0 when valid, -1 with diags.
 */
int	bundle_validate(const struct bundle *, size_t ram_max_bytes,
	    struct policy_diags *diags);

void	bundle_free(struct bundle *);

/*
 * Compile a valid bundle into a new world with the given generation
 * (one reference, the caller's).  NULL when out of memory or when a
 * policy text fails to compile (then diags says which; never for a
 * bundle from bundle_parse).
 */
struct world *bundle_to_world(const struct bundle *, uint64_t generation,
	    struct policy_diags *diags);

/*
 * Deterministic JSON text of a bundle (malloc'd, NUL-terminated, *lenp
 * its length): every array sorted by its identifiers (instances and keys
 * by id, aliases by name then key id, policies, users, roles and groups
 * by account then name; tags by key), policies as their stored text
 * (embedded as JSON strings), a key policy omitted for keys outside any
 * instance.  NULL when out of memory.
 */
char	*bundle_export(const struct bundle *, size_t *lenp);

/*
 * A CreateDate: RFC 3339 to ms since the epoch (0, or -1 when not an
 * RFC 3339 date-time or out of range), and back, in UTC ("Z"), with
 * milliseconds only when there are any ("2026-01-02T03:04:05Z",
 * "2026-01-02T03:04:05.120Z"); buf of BUNDLE_DATE_MAX bytes; -1 for a
 * time outside the years 0000-9999.
 */
#define BUNDLE_DATE_MAX	64
int	bundle_date_parse(const char *, size_t, int64_t *);
int	bundle_date_format(int64_t, char *);

#endif

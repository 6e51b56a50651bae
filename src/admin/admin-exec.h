/* SPDX-License-Identifier: ISC */
/*
 * admin-exec.h: the admin plane in the daemon.  Who the caller is (peer
 * credentials or a signed request, mapped by the admin configuration),
 * whether it may make the call (superuser, or the policies themselves),
 * and the call's execution through the store, audited.
 *
 * Single-threaded: the daemon calls it from its main thread only.
 */
#ifndef KMSAUTHZ_ADMIN_EXEC_H
#define KMSAUTHZ_ADMIN_EXEC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "admin/admin.h"

struct json_object;
struct store;
struct world_holder;
struct audit;

#define ADMIN_CONF_PEERS_MAX	64
#define ADMIN_CONF_KEYS_MAX	64
#define ADMIN_SUPERUSER		"superuser"

/* A uid or gid mapped to a principal ARN or "superuser". */
struct admin_conf_peer {
	int	is_gid;
	long	id;
	char	principal[256];
};

/*
 * The admin configuration (admin.conf, docs/admin-api.md):
 *   region = cn-hangzhou          region of new keys and ARNs
 *   account = 1234567890          the superuser's acting account
 *   audit_file = /path            the audit trail ("" : log only)
 *   uid = 1000 acs:ram::1234:user/alice   (or: superuser)
 *   gid = 50 superuser
 *   key = BASE64PUBKEY acs:ram::1234:user/bob
 *   replay_cache = 65536          nonces remembered
 *   day_seconds = 86400           length of a PendingWindowInDays day
 *   root_superuser = yes          uid 0 is superuser unless mapped
 */
struct admin_conf {
	char			region[64];
	char			account[32];
	char			audit_file[1024];
	size_t			replay_cache;
	int64_t			day_seconds;
	int			root_superuser;
	size_t			npeers;
	struct admin_conf_peer	peers[ADMIN_CONF_PEERS_MAX];
	size_t			nkeys;
	char			key_pk[ADMIN_CONF_KEYS_MAX][ADMIN_PK_B64_LEN + 1];
	char			key_principal[ADMIN_CONF_KEYS_MAX][256];
};

void	admin_conf_defaults(struct admin_conf *);
/* One "key = value" setting; 0, or -1 with a message in err. */
int	admin_conf_set(struct admin_conf *, const char *key,
	    const char *value, char *err, size_t errlen);
/* A whole file; a missing file is not an error when optional. */
int	admin_conf_load(struct admin_conf *, const char *path, int optional,
	    char *err, size_t errlen);

struct admin_ctx;

/*
 * A new admin plane over store (its holder is where reads look; NULL
 * store: every change is an InternalFailure).  Opens the audit file; one
 * that cannot be opened is logged and every change is refused
 * (ServiceUnavailable) until admin_ctx_reopen() opens it.  NULL with err
 * on failure.
 */
struct admin_ctx *admin_ctx_new(const struct admin_conf *, struct store *,
	    char *err, size_t errlen);
void	admin_ctx_free(struct admin_ctx *);
/* SIGHUP: reopen the audit file.  0 or -1. */
int	admin_ctx_reopen(struct admin_ctx *);
/* 1 when changes are refused (read-only store, no audit file), the
 * cause in cause; else 0. */
int	admin_ctx_unavailable(struct admin_ctx *, char *cause, size_t len);
/* The store was replaced behind the plane (the seed): reload what it
 * mirrors (scheduled deletions). */
void	admin_ctx_resync(struct admin_ctx *);
/* Refuse signed requests dated floor or earlier (admin_replay_set_floor). */
void	admin_ctx_replay_floor(struct admin_ctx *, int64_t floor);

/*
 * 1 when peer credentials alone make a superuser (uid 0, or a uid or
 * gid mapped to "superuser"): the admin socket keeps room for them.
 * A NULL ctx (no plane yet): uid 0 only.
 */
int	admin_ctx_peer_superuser(const struct admin_ctx *, long uid,
	    long gid);

/*
 * The Status call's answer is completed by the daemon: hook(answer, arg)
 * adds its own figures (connections, counters) after the pipeline's
 * RequestId, Generation and Caller.
 */
typedef void (*admin_status_hook)(struct json_object *, void *);
void	admin_ctx_set_status_hook(struct admin_ctx *, admin_status_hook,
	    void *arg);

/* Who is calling: peer credentials of the admin connection. */
struct admin_peer {
	long	uid, gid, pid;
};

/*
 * Answer one request: body (len bytes) and, when signed, its signature
 * block.  Always returns a JSON answer (NULL only when out of memory).
 */
struct json_object *admin_handle(struct admin_ctx *, const struct admin_peer *,
	    const char *body, size_t len, const void *sig, size_t siglen);

/*
 * Remove the keys whose deletion window has passed (now: seconds since
 * the epoch).  Returns how many were deleted.
 */
int	admin_tick(struct admin_ctx *, int64_t now);
/* Seconds until the next scheduled deletion (-1: none). */
int64_t	admin_next_deletion(struct admin_ctx *, int64_t now);

#endif

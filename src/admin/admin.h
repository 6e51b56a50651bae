/* SPDX-License-Identifier: ISC */
/*
 * admin.h: the admin plane.  The API table (every call, its parameters
 * and their limits, what it names and the resources it is authorized
 * on: admin-calls.def), request parsing into typed parameters, the
 * error table of docs/semantics.md section 6, the authorization of each
 * call as a RAM/KMS action on its resources, signed requests.
 *
 * A request body is JSON: {"Action": "SetKeyPolicy", "Parameters":
 * {"KeyId": "...", ...}}.  A response is JSON with a "RequestId", and on
 * error "Code", "Message", "HttpStatus" (and a "Detail" naming the
 * parameter or the JSON path at fault).
 */
#ifndef KMSAUTHZ_ADMIN_H
#define KMSAUTHZ_ADMIN_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* ------------------------------------------------------------------ */
/* admin-err.c: section 6. */

enum admin_err {
	ADMIN_OK = 0,
	ADMIN_E_MISSING_PARAMETER,
	ADMIN_E_INVALID_PARAMETER,
	ADMIN_E_NO_PERMISSION,
	ADMIN_E_KEY_POLICY_UNSUPPORTED,
	ADMIN_E_SHARE_QUOTA,
	ADMIN_E_INSTANCE_STATE,
	ADMIN_E_KEY_NOT_FOUND,
	ADMIN_E_RESOURCE_NOT_FOUND,
	ADMIN_E_INTERNAL,
	ADMIN_E_UNAVAILABLE	/* read-only store, no audit file: no changes */
};
#define ADMIN_E_COUNT	11

/* "MissingParameter", ...; NULL for ADMIN_OK or out of range. */
const char	*admin_err_code(enum admin_err);
/* The message of the API pages ("The parameter needed but no provided."). */
const char	*admin_err_message(enum admin_err);
/* 400, 403, 404 or 500; 200 for ADMIN_OK. */
int		 admin_err_http(enum admin_err);
/* Code string back to the enum: 0, or -1 when unknown. */
int		 admin_err_parse(const char *, enum admin_err *);

/* A RequestId: 36 characters, UUID-shaped upper-case hex, random. */
#define ADMIN_REQUEST_ID_LEN	36
void		 admin_request_id(char buf[ADMIN_REQUEST_ID_LEN + 1]);

/*
 * An error answer: {"RequestId", "Code", "Message", "HttpStatus"} plus
 * "Detail" when detail is not NULL.  Returns a new object, or NULL when
 * out of memory.
 */
struct json_object *admin_err_json(enum admin_err, const char *request_id,
	    const char *detail);

/* ------------------------------------------------------------------ */
/* admin-api.c: the API table and request parsing. */

enum admin_api_id {
#define ADMIN_CALL(name, ...)	ADMIN_##name,
#include "admin/admin-calls.def"
#undef ADMIN_CALL
	ADMIN_API_COUNT
};

enum admin_ptype {
	ADMIN_P_STRING,		/* a string checked by its kind */
	ADMIN_P_INT,		/* a JSON integer or a decimal string */
	ADMIN_P_BOOL,		/* JSON true/false or "true"/"false" */
	ADMIN_P_DOC,		/* a JSON document given as a string */
	ADMIN_P_TAGS,		/* [{"TagKey": k, "TagValue": v}, ...] */
	ADMIN_P_STRLIST		/* ["k1", "k2", ...] */
};

/* What a string parameter must look like. */
enum admin_pkind {
	ADMIN_K_ANY = 0,	/* printable, length limits only */
	ADMIN_K_KEYID,		/* key id or key ARN */
	ADMIN_K_KEYPOLICYNAME,	/* free text; only "default" exists */
	ADMIN_K_ID,		/* [A-Za-z0-9_.-]+ (ids, key ids) */
	ADMIN_K_RAMNAME,	/* [A-Za-z0-9_.@-]+ (user, role, group) */
	ADMIN_K_POLICYNAME,	/* [A-Za-z0-9.-]+ (section 1) */
	ADMIN_K_ALIAS,		/* alias/[A-Za-z0-9_/-]+ */
	ADMIN_K_ACCOUNT,	/* digits */
	ADMIN_K_ENUM		/* one of the values listed in the table */
};

struct admin_param {
	const char		*name;
	enum admin_ptype	 type;
	enum admin_pkind	 kind;
	int			 required;
	size_t			 maxlen;	/* strings, documents, lists */
	int64_t			 min, max;	/* integers */
	const char * const	*values;	/* ADMIN_K_ENUM, NULL ended */
	const char		*help;
};

/* Call flags. */
#define ADMIN_F_CHANGE		0x01	/* changes the state (audited) */
#define ADMIN_F_SUPERUSER	0x02	/* superuser only */
#define ADMIN_F_KMS		0x04	/* action kms:<Name> */
#define ADMIN_F_RAM		0x08	/* action ram:<Name> */

#define ADMIN_MAX_PARAMS	8

/*
 * What a call names, resolved in the world before it is authorized (so
 * that a missing key or alias is reported as such, and the resources'
 * ARNs can be made).
 */
enum admin_target_kind {
	ADMIN_T_NONE = 0,	/* nothing stored (creates, lists, RAM) */
	ADMIN_T_KEY,		/* KeyId: a stored key */
	ADMIN_T_KEY_NEW_ALIAS,	/* KeyId, and an alias to be made for it */
	ADMIN_T_KEY_ALIAS,	/* KeyId, and its account's alias AliasName */
	ADMIN_T_ALIAS		/* AliasName: a stored alias (and its key) */
};

#define ADMIN_MAX_TARGETS	2

struct admin_api {
	enum admin_api_id		 id;
	const char			*name;
	int				 flags;
	const struct admin_param	*params;	/* NULL name ends */
	enum admin_target_kind		 target;
	/* ARN templates a principal must be allowed on (admin-calls.def) */
	const char			*resources[ADMIN_MAX_TARGETS];
	const char			*summary;
};

/* The whole table, in enum order. */
const struct admin_api	*admin_api_table(size_t *countp);
/* A call by exact name; NULL when unknown. */
const struct admin_api	*admin_api_find(const char *);
const struct admin_api	*admin_api_get(enum admin_api_id);
/* The index of a parameter of api, or -1. */
int	admin_api_param_index(const struct admin_api *, const char *);

/* Tags and string lists, bounded. */
#define ADMIN_MAX_TAGS		50
#define ADMIN_TAG_KEY_MAX	128
#define ADMIN_TAG_VALUE_MAX	256

struct admin_tag {
	const char	*key;
	const char	*value;
};

/* One parsed parameter value (pointers into the request's JSON). */
struct admin_val {
	int			 set;
	const char		*s;	/* STRING, DOC: the text */
	size_t			 len;
	int64_t			 i;	/* INT */
	int			 b;	/* BOOL */
	struct admin_tag	*tags;	/* TAGS */
	const char		**list;	/* STRLIST */
	size_t			 n;	/* TAGS, STRLIST */
};

/* A KeyId parameter split into its parts (region/account empty for a
 * bare id). */
struct admin_keyref {
	char	region[64];
	char	account[32];
	char	id[129];
	int	is_arn;
};

/* An AliasName: alias/NAME, or its ARN (region and account then set). */
struct admin_aliasref {
	char	region[64];
	char	account[32];
	char	name[257];	/* alias/NAME */
	int	is_arn;
};

struct admin_req {
	const struct admin_api	*api;
	struct admin_val	 v[ADMIN_MAX_PARAMS];
	struct json_object	*root;		/* owns the strings */
	char			 request_id[ADMIN_REQUEST_ID_LEN + 1];
	/* Set by admin_req_parse for calls that take a KeyId. */
	struct admin_keyref	 key;
	/* ... and for calls that take an AliasName. */
	struct admin_aliasref	 alias;
};

/*
 * Parse a request body of len bytes: strict JSON, an "Action" that names
 * a call, "Parameters" an object (may be absent: no parameters) whose
 * every member is a parameter of that call, with the right type and
 * within its limits, and every required parameter present.  Fills *req
 * (a RequestId is made first, so even a failure has one) and returns
 * ADMIN_OK, or the error with a detail ("KeyId", "Policy: ...") written
 * into detail (detailsize bytes).  admin_req_free releases it in any
 * case.
 */
enum admin_err	admin_req_parse(const char *body, size_t len,
		    struct admin_req *req, char *detail, size_t detailsize);
void		admin_req_free(struct admin_req *);
/* The value of a named parameter, or NULL when the call has no such
 * parameter or it was not given. */
const struct admin_val *admin_req_get(const struct admin_req *,
		    const char *name);
/* Shorthands: the string (NULL when absent). */
const char	*admin_req_str(const struct admin_req *, const char *name);

/* Split a KeyId (id or ARN); 0, or -1 when malformed. */
int	admin_keyref_parse(const char *, size_t, struct admin_keyref *);
/* Split an AliasName (alias/NAME or its ARN); 0, or -1 when malformed. */
int	admin_aliasref_parse(const char *, size_t, struct admin_aliasref *);

/* ------------------------------------------------------------------ */
/* admin-authz.c: who may call what. */

/*
 * The caller of one request: a superuser, or a principal ARN (for
 * policies), with where it came from (for the audit).
 */
struct admin_caller {
	int		 superuser;
	char		 principal[256];	/* "" for a superuser */
	char		 account[32];		/* the principal's account */
	/* Provenance. */
	long		 uid, gid, pid;		/* -1 when unknown */
	char		 pubkey[64];		/* base64 key, "" unless signed */
};

/* 0, or -1 when principal is not acs:ram::ACCOUNT:root|user/N|role/N. */
int	admin_caller_set_principal(struct admin_caller *, const char *);

#define ADMIN_ARN_MAX		512

/* The action and resources one call is authorized on. */
struct admin_target {
	char	action[64];
	size_t	nres;
	char	res[ADMIN_MAX_TARGETS][ADMIN_ARN_MAX];
};

/*
 * The names the target ARNs need: the region and account the call acts
 * in, and, for key calls, the key's region and account as stored
 * (alias calls: the alias's and the key's).
 */
struct admin_scope {
	const char	*region;	/* default region (config) */
	const char	*account;	/* acting account */
	const char	*key_region;	/* the key being acted on */
	const char	*key_account;
	const char	*key_id;
	const char	*alias_region;	/* the alias being acted on */
	const char	*alias_account;
};

/*
 * Compute the action and resources of a parsed request: the row's
 * templates with the scope's names and the request's parameters.
 * Returns 0, or -1 when the call is superuser-only (no policy can grant
 * it), a template names nothing known, or an ARN is too long.
 */
int	admin_authz_target(const struct admin_req *,
	    const struct admin_scope *, struct admin_target *);

/* ------------------------------------------------------------------ */
/* admin-sign.c: Ed25519-signed requests (libsodium). */

/*
 * A signed request is an ADMIN_REQUEST frame with the ADMIN_SIGNED flag
 * and a signature block of ADMIN_SIG_BLOCK_LEN bytes: the timestamp (8
 * bytes big-endian, seconds since the epoch), 16 random nonce bytes, the
 * 32-byte Ed25519 public key and the 64-byte detached signature.  The
 * signature covers "kmsauthz-admin-v1" NUL, the body's length (8 bytes
 * big-endian), the exact request body, the timestamp and the nonce.
 */
#define ADMIN_SIGN_WINDOW	300	/* seconds into the past */
#define ADMIN_SIGN_AHEAD	2	/* seconds into the future (skew) */
#define ADMIN_NONCE_BYTES	16
#define ADMIN_PK_B64_LEN	44	/* base64 of 32 bytes */
#define ADMIN_SK_B64_LEN	88	/* base64 of 64 bytes */
#define ADMIN_SIG_BLOCK_LEN	(8 + ADMIN_NONCE_BYTES + 32 + 64)

enum admin_sign_status {
	ADMIN_SIGN_OK = 0,
	ADMIN_SIGN_MALFORMED,
	ADMIN_SIGN_UNKNOWN_KEY,
	ADMIN_SIGN_STALE,		/* outside the window */
	ADMIN_SIGN_BAD_SIGNATURE,
	ADMIN_SIGN_REPLAYED,
	ADMIN_SIGN_CACHE_FULL,		/* too many live nonces: refused */
	ADMIN_SIGN_BEFORE_START		/* dated before this daemon's start */
};
const char	*admin_sign_status_name(enum admin_sign_status);

/* Public keys and the principal each one acts as ("superuser" or an
 * ARN). */
struct admin_keyring;
struct admin_keyring *admin_keyring_new(void);
void	admin_keyring_free(struct admin_keyring *);
/* 0, or -1 when pk_b64 is not a base64 Ed25519 public key, the key is
 * already there, or out of memory. */
int	admin_keyring_add(struct admin_keyring *, const char *pk_b64,
	    const char *principal);
size_t	admin_keyring_count(const struct admin_keyring *);

/* The bounded cache of nonces seen inside the window. */
struct admin_replay;
struct admin_replay *admin_replay_new(size_t capacity);
void	admin_replay_free(struct admin_replay *);
/*
 * The cache is in memory: a restart forgets it.  The daemon sets the
 * floor to its start time + ADMIN_SIGN_AHEAD, and a request dated at or
 * before the floor (which the previous instance may have accepted) is
 * refused (ADMIN_SIGN_BEFORE_START).  0 (the default): no floor.
 */
void	admin_replay_set_floor(struct admin_replay *, int64_t floor);

/*
 * Check a signed request: body (len bytes) and its signature block, in
 * this order: block shape, key known, timestamp within now +/-
 * ADMIN_SIGN_WINDOW (past) or ADMIN_SIGN_AHEAD (future), signature, not
 * before the floor, nonce unseen (then remembered).  On
 * ADMIN_SIGN_OK *principalp is the key's principal (owned by the
 * keyring) and pk_b64 (ADMIN_PK_B64_LEN + 1 bytes) receives the key.
 */
enum admin_sign_status admin_sign_verify(const struct admin_keyring *,
	    struct admin_replay *, int64_t now, const char *body, size_t len,
	    const void *block, size_t blocklen, const char **principalp,
	    char *pk_b64);

/* A new key pair, both in base64 (NUL-terminated). */
int	admin_sign_keygen(char pk_b64[ADMIN_PK_B64_LEN + 1],
	    char sk_b64[ADMIN_SK_B64_LEN + 1]);
/*
 * Make the signature block (ADMIN_SIG_BLOCK_LEN bytes) for body with the
 * secret key (base64), the time now and a fresh random nonce.  0, or -1
 * when the key is not a base64 Ed25519 secret key.
 */
int	admin_sign_block(const char *sk_b64, int64_t now, const char *body,
	    size_t len, unsigned char block[ADMIN_SIG_BLOCK_LEN]);

#endif

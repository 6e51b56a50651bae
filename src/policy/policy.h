/* SPDX-License-Identifier: ISC */
/*
 * policy.h: strict parsing and validation of policy documents
 * (docs/semantics.md sections 1 to 3), and the diagnostics they report.
 *
 * Knows json-c; knows nothing of sockets or LMDB.
 */
#ifndef KMSAUTHZ_POLICY_H
#define KMSAUTHZ_POLICY_H

#include <stddef.h>

#include "policy/ident.h"

struct json_object;

enum policy_kind {
	POLICY_KIND_KEY,	/* a KMS key policy */
	POLICY_KIND_RAM		/* a RAM identity policy */
};

/* Limits of section 1. */
#define POLICY_KEY_MAX_BYTES		32768
#define POLICY_RAM_MAX_BYTES_DEFAULT	6144
#define POLICY_MAX_DEPTH		32	/* JSON nesting */
#define POLICY_NAME_MAX			IDENT_POLICY_NAME_MAX

/*
 * One violation: an API error code ("InvalidParameter", ...), the JSON
 * path of the offending place ("Statement[1].Condition.IpAddress.
 * acs:SourceIp[0]"; "" for the document as a whole) and a reason a person
 * can act on.
 */
struct policy_diag {
	const char	*code;
	char		*path;
	char		*reason;
};

/* Every violation of a document, in document order. */
struct policy_diags {
	struct policy_diag	*v;
	size_t			 n;
	size_t			 cap;
};

void	policy_diags_init(struct policy_diags *);
void	policy_diags_free(struct policy_diags *);
/* Appends a diagnostic; returns -1 only when out of memory. */
int	policy_diags_add(struct policy_diags *, const char *code,
	    const char *path, const char *fmt, ...)
	    __attribute__((__format__(printf, 4, 5)));

/*
 * Strict JSON: json-c's tokener in strict mode with UTF-8 validation and
 * a depth limit, the whole input consumed, and duplicate object keys
 * rejected.  Returns the tree (the caller puts it) or NULL with the
 * reasons added to diags under path_prefix.
 */
struct json_object *policy_json_parse(const char *text, size_t len,
	    int max_depth, const char *path_prefix, struct policy_diags *);

/*
 * Validate a policy document given as text of len bytes.  max_bytes is
 * the size limit (POLICY_KEY_MAX_BYTES for key policies; configurable for
 * RAM policies).  Every violation is added to diags, with paths prefixed
 * by path_prefix ("" or e.g. "Keys[3].KeyPolicy").  Returns 0 when valid,
 * and then *docp (if not NULL) receives the parsed tree, which the caller
 * puts; -1 when invalid (or out of memory), *docp untouched.
 */
int	policy_validate(enum policy_kind, const char *text, size_t len,
	    size_t max_bytes, const char *path_prefix,
	    struct json_object **docp, struct policy_diags *);

/*
 * Warnings for a document policy_validate() accepted (its parsed tree):
 * what the cloud would accept but is almost certainly wrong
 * (docs/semantics.md section 1.6).  Each is a diag whose code names the
 * warning (UnknownAction, PlaceholderAccount, MalformedAccount,
 * NeverMatches, OpenAllow, OperatorTypeMismatch, DuplicateStatement,
 * ShadowedAllow).  own_account (may be NULL) is the account the
 * document belongs to: an Allow to another account's every identity
 * is reported only when it is known.  0, or -1 when out of memory.
 */
int	policy_lint(enum policy_kind, struct json_object *doc,
	    const char *own_account, struct policy_diags *warnings);

#endif

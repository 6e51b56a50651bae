/* SPDX-License-Identifier: ISC */
/*
 * policy-int.h: helpers shared by the files of src/policy (not an API).
 */
#ifndef KMSAUTHZ_POLICY_INT_H
#define KMSAUTHZ_POLICY_INT_H

#include <stddef.h>

struct json_object;
struct policy_diags;

/* The diagnostic code of every document violation (section 6). */
#define POLICY_CODE_INVALID	"InvalidParameter"

/*
 * A JSON path under construction: "Statement[1].Condition.IpAddress".
 * Push with policy_path_key/_index (they return the length to truncate
 * back to), pop with policy_path_truncate.  On allocation failure oom is
 * set and the path stops growing.
 */
struct policy_path {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

int	policy_path_init(struct policy_path *, const char *prefix);
void	policy_path_free(struct policy_path *);
size_t	policy_path_key(struct policy_path *, const char *, size_t);
size_t	policy_path_index(struct policy_path *, size_t);
void	policy_path_truncate(struct policy_path *, size_t);
const char *policy_path_str(const struct policy_path *);

/*
 * Writes s (len bytes) as a double-quoted, JSON-escaped string into buf,
 * shortened with "..." after 48 characters of text; always
 * NUL-terminates.  Used to show a document's own text in a reason.
 */
#define POLICY_QUOTE_MAX	320
void	policy_quote(char *buf, size_t size, const char *s, size_t len);

/*
 * policy_json_parse, but a document that is well-formed JSON with only
 * "soft" violations (a duplicate key, an integer beyond 64 bits) still
 * yields its tree, and *softp is set, so that the validator can report
 * the rest of the document's violations too.
 */
struct json_object *policy_json_parse_soft(const char *, size_t, int,
	    const char *, struct policy_diags *, int *softp);

#endif

/*
 * policy-compile.h: validated policy documents (json-c trees) to
 * compiled policies (engine/cpolicy.h), and the default key policy.
 */
#ifndef KMSAUTHZ_POLICY_COMPILE_H
#define KMSAUTHZ_POLICY_COMPILE_H

#include <stddef.h>

#include "policy/policy.h"

struct json_object;
struct cpolicy;

/*
 * Compile a document that policy_validate accepted as kind.  Returns a
 * finished compiled policy (one reference) or NULL (out of memory, or a
 * tree that is not valid after all: compile never trusts blindly and
 * fails closed).
 */
struct cpolicy	*policy_compile(enum policy_kind, const struct json_object *);

/*
 * Validate and compile in one step (policy_validate's arguments).
 * Returns 0 and *cpp, or -1 with every violation in diags.
 */
int	policy_compile_text(enum policy_kind, const char *text, size_t len,
	    size_t max_bytes, const char *path_prefix, struct cpolicy **cpp,
	    struct policy_diags *);

/*
 * The default key policy of section 5 for a key created by account, as
 * the exact stored text (malloc'd, NUL-terminated; NULL when out of
 * memory).
 */
char	*policy_default_key_policy(const char *account);

#endif

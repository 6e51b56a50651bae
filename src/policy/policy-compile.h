/* SPDX-License-Identifier: ISC */
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
 * Compile a text known to be valid as kind: one that passed
 * policy_validate when it was stored, and is proven to be that text
 * (the store checks the BLAKE2b digest it recorded then).  Reads the
 * text directly, without json-c, the strict scanner or diagnostics,
 * and builds the same compiled policy as policy_compile_text (the same
 * builder calls in the same order; tests/unit/test-policy-trusted.c
 * proves it on every document of the test tables).  Returns 0 and
 * *cpp; -1 on anything it does not expect (not JSON, an element the
 * validator would refuse, a number: json-c's text of a number is what
 * the compiler uses) or out of memory: the caller then takes
 * policy_compile_text, which decides and reports.
 */
int	policy_compile_trusted(enum policy_kind, const char *text, size_t len,
	    struct cpolicy **cpp);

/*
 * The default key policy of section 5 for a key created by account, as
 * the exact stored text (malloc'd, NUL-terminated; NULL when out of
 * memory).
 */
char	*policy_default_key_policy(const char *account);

#endif

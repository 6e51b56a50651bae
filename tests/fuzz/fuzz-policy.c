/* SPDX-License-Identifier: ISC */
/*
 * fuzz-policy.c: the strict JSON parser and the validator on arbitrary
 * bytes, as both document kinds, with their invariants checked:
 *   - a document is valid exactly when no violation is reported, and then
 *     a tree is returned;
 *   - every violation has a code, a path and a one-line reason, and every
 *     path starts with the caller's prefix;
 *   - a valid document stays valid after json-c serializes it (what the
 *     bundle loader stores), and policy_json_parse agrees with it;
 *   - nothing leaks (ASan) on either path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "policy/policy.h"
#include "fuzz.h"

#define FUZZ_POLICY_MAX	(64 * 1024)

static void	fuzz_policy_check(enum policy_kind, const char *, size_t,
		    size_t, const char *);

static void
fuzz_policy_diags_ok(const struct policy_diags *d, const char *prefix)
{
	size_t	i, plen = strlen(prefix);

	for (i = 0; i < d->n; i++) {
		if (d->v[i].code == NULL || d->v[i].path == NULL ||
		    d->v[i].reason == NULL || d->v[i].reason[0] == '\0' ||
		    strchr(d->v[i].reason, '\n') != NULL ||
		    strchr(d->v[i].path, '\n') != NULL ||
		    strncmp(d->v[i].path, prefix, plen) != 0)
			abort();
	}
}

static void
fuzz_policy_check(enum policy_kind kind, const char *text, size_t len,
    size_t max, const char *prefix)
{
	struct policy_diags	 d, d2;
	struct json_object	*doc = NULL, *o;
	const char		*out;
	size_t			 outlen;
	int			 rc;

	policy_diags_init(&d);
	rc = policy_validate(kind, text, len, max, prefix, &doc, &d);
	fuzz_policy_diags_ok(&d, prefix);
	if (rc == 0) {
		if (d.n != 0 || doc == NULL)
			abort();
		out = json_object_to_json_string_length(doc,
		    JSON_C_TO_STRING_PLAIN, &outlen);
		if (out == NULL)
			abort();
		policy_diags_init(&d2);
		if (policy_validate(kind, out, outlen, SIZE_MAX, "", NULL,
		    &d2) != 0 || d2.n != 0)
			abort();
		policy_diags_free(&d2);
		/* The lint runs on every valid document: bounded, each
		 * warning with a code, a path and a reason. */
		policy_diags_init(&d2);
		if (policy_lint(kind, doc, "1192853035118888", &d2) == 0) {
			if (d2.n > 101)
				abort();
			fuzz_policy_diags_ok(&d2, "");
		}
		policy_diags_free(&d2);
		json_object_put(doc);
		/* The JSON layer alone accepts what the validator did. */
		o = policy_json_parse(text, len, POLICY_MAX_DEPTH, prefix, &d);
		if (o == NULL || d.n != 0)
			abort();
		json_object_put(o);
	} else if (rc != -1 || d.n == 0 || doc != NULL)
		abort();
	policy_diags_free(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*text = (const char *)data;

	if (size > FUZZ_POLICY_MAX)
		return (0);
	fuzz_policy_check(POLICY_KIND_KEY, text, size, POLICY_KEY_MAX_BYTES,
	    "");
	fuzz_policy_check(POLICY_KIND_RAM, text, size,
	    POLICY_RAM_MAX_BYTES_DEFAULT, "Policies[0].PolicyDocument");
	(void)ident_policy_name(text, size);
	return (0);
}

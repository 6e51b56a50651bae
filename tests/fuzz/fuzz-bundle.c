/* SPDX-License-Identifier: ISC */
/*
 * fuzz-bundle.c: the bundle importer (kmsauthzctl import, ImportBundle,
 * seed_bundle) on arbitrary bytes.  Invariants:
 *   - bundle_parse accepts exactly when it reports no diagnostic, and
 *     every diagnostic has a code, a one-line reason and a path;
 *   - an accepted bundle passes bundle_validate, compiles into a world
 *     of the given generation, and its export is a fixed point: the
 *     export parses again and exports to the same bytes (what
 *     ExportBundle then ImportBundle relies on);
 *   - nothing leaks on either path (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "fuzz.h"
#include "fuzz-world.h"

#define FUZZ_BUNDLE_MAX	(128 * 1024)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_diags	 d;
	struct bundle		*b = NULL, *b2 = NULL;
	struct world		*w;
	char			*out, *out2;
	size_t			 len, len2;
	int			 rc;

	if (size > FUZZ_BUNDLE_MAX)
		return (0);
	policy_diags_init(&d);
	rc = bundle_parse((const char *)data, size, 0, &b, &d);
	fuzz_diags_ok(&d, "");
	if (rc != 0) {
		if (rc != -1 || d.n == 0 || b != NULL)
			abort();
		policy_diags_free(&d);
		return (0);
	}
	if (d.n != 0 || b == NULL || bundle_validate(b, 0, &d) != 0 ||
	    d.n != 0)
		abort();
	if ((w = bundle_to_world(b, 42, &d)) == NULL ||
	    world_generation(w) != 42)
		abort();
	world_unref(w);
	if ((out = bundle_export(b, &len)) == NULL ||
	    strlen(out) != len)
		abort();
	if (bundle_parse(out, len, 0, &b2, &d) != 0 || d.n != 0)
		abort();
	if ((out2 = bundle_export(b2, &len2)) == NULL || len2 != len ||
	    memcmp(out, out2, len) != 0)
		abort();
	free(out);
	free(out2);
	bundle_free(b2);
	bundle_free(b);
	policy_diags_free(&d);
	return (0);
}

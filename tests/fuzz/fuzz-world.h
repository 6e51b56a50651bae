/* SPDX-License-Identifier: ISC */
/*
 * fuzz-world.h: what several fuzz targets share: a compiled world to
 * decide on (etc/example-bundle.json, or $KMSAUTHZ_FUZZ_BUNDLE) and the
 * invariants every decision must keep.
 */
#ifndef KMSAUTHZ_FUZZ_WORLD_H
#define KMSAUTHZ_FUZZ_WORLD_H

#include <stddef.h>

struct eval_answer;
struct eval_request;
struct world;
struct policy_diags;

/* The world, loaded on first use; aborts when it cannot be built. */
const struct world	*fuzz_world(void);
/* A bundle file read whole (malloc'd) or NULL. */
char	*fuzz_read_file(const char *, size_t *);
/*
 * Decide req on w twice, with and without explain, and abort unless the
 * two agree and the answer keeps its invariants (decision and reason
 * agree, an IMPLICIT_DENY matches no statement, at most
 * EVAL_MAX_MATCHED statements each naming its source).  Returns the
 * explained answer in *a.
 */
void	fuzz_decide(const struct world *, struct eval_request *,
	    struct eval_answer *);
/* Every diagnostic has a code, a one-line reason and a path that
 * starts with prefix; abort otherwise. */
void	fuzz_diags_ok(const struct policy_diags *, const char *prefix);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * glob.h: precompiled wildcard patterns (docs/semantics.md section 2):
 * '*' is any run of characters (also empty, also across ':' and '/'),
 * '?' exactly one UTF-8 code point.  There is no escape character.
 *
 * Pure C.  A pattern is split once into its literal segments, so that a
 * match is a few comparisons; the common forms (a literal, "*", a prefix
 * followed by '*') take fast paths.
 */
#ifndef KMSAUTHZ_GLOB_H
#define KMSAUTHZ_GLOB_H

#include <stddef.h>

#define GLOB_ICASE	0x1	/* ASCII case-insensitive (actions) */

struct glob;

/* NULL when out of memory. */
struct glob	*glob_compile(const char *, size_t, int flags);
void		 glob_free(struct glob *);
/* 1 when s (len bytes) matches, 0 otherwise.  No allocation. */
int		 glob_match(const struct glob *, const char *s, size_t len);
/* 1 when the pattern has no wildcard at all. */
int		 glob_is_literal(const struct glob *);
/*
 * A compiled glob is one position-independent object of glob_size()
 * bytes (a multiple of 8): a memcpy of it elsewhere is a valid glob for
 * glob_match (engine-internal: compiled policies pack their globs into
 * one block; such a copy is never passed to glob_free).
 */
size_t		 glob_size(const struct glob *);
/* The pattern as compiled (lowercased with GLOB_ICASE). */
const char	*glob_pattern(const struct glob *, size_t *lenp);

/* ASCII lower-case table shared by the engine. */
extern const unsigned char glob_lower[256];

#endif

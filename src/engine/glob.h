/*
 * glob.h: precompiled wildcard patterns (POLICY-SEMANTICS.md section 2):
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
/* The pattern as compiled (lowercased with GLOB_ICASE). */
const char	*glob_pattern(const struct glob *, size_t *lenp);

/* ASCII lower-case table shared by the engine. */
extern const unsigned char glob_lower[256];

#endif

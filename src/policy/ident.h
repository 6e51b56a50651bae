/* SPDX-License-Identifier: ISC */
/*
 * ident.h: the rules for identifiers, in one place (ident.c): which
 * characters an id or name may hold, what an account id and an alias
 * name look like, how long each may be.  The admin API, the bundle
 * reader and the store each apply the rules their input needs (the API
 * is strictest: it takes names from clients; the store takes ids from
 * both and keeps only what it can store) and word their own errors.
 * docs/semantics.md, section 1.2.1.
 */
#ifndef KMSAUTHZ_IDENT_H
#define KMSAUTHZ_IDENT_H

#include <stddef.h>

#include "engine/limits.h"

/* Longest alias name, "alias/" included (the API's limit). */
#define IDENT_ALIAS_MAX		255
/* Longest RAM policy name. */
#define IDENT_POLICY_NAME_MAX	128

/* 1 when s (len bytes, len > 0) is letters, digits and bytes of extra. */
int	ident_chars(const char *s, size_t len, const char *extra);
/* 1 when s is an account id: one or more ASCII digits. */
int	ident_account(const char *s, size_t len);
/* 1 when s is there, not empty and at most max bytes (NUL-terminated). */
int	ident_bounded(const char *s, size_t max);
/* 1 when s is "alias/" and at least one byte more (what the store keeps). */
int	ident_alias(const char *s, size_t len);
/* 1 when s is "alias/" and 1-249 of letters, digits, '-', '_', '/'. */
int	ident_alias_name(const char *s, size_t len);
/* 1 when s is a RAM policy name: 1-128 of letters, digits, '.', '-'. */
int	ident_policy_name(const char *s, size_t len);
/* 1 when s is a key id: 1 or more of letters, digits, '-', '_', '.'. */
int	ident_key_id(const char *s, size_t len);

#endif

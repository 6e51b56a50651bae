/* SPDX-License-Identifier: ISC */
/*
 * store-json.h: records as paths and readable JSON values (store-json.c),
 * the form a fleet keeps them in etcd (docs/fleet.md, "Layout").
 */
#ifndef KMSAUTHZ_STORE_JSON_H
#define KMSAUTHZ_STORE_JSON_H

#include <stddef.h>

#include "store/store-cset.h"

/* "keys/key-1", "aliases/cn-hangzhou/123/alias%2Fa"; NULL: malformed. */
char	*store_json_path(int type, const void *key, size_t klen);
/*
 * Every record of type whose key starts with prefix lies under this
 * path: "tags/key-1/" (the key's tags), "keys/" (every key); NULL: no
 * key has that prefix.
 */
char	*store_json_prefix(int type, const void *prefix, size_t plen);
/* The type and key bytes (malloc'd) of a path; 0, or -1. */
int	 store_json_unpath(const char *path, int *typep, unsigned char **keyp,
	    size_t *klenp);
/* A value as a JSON object (malloc'd); NULL when it does not decode. */
char	*store_json_value(int type, const void *val, size_t vlen);
/*
 * A JSON value back to the store's bytes (malloc'd); 0, or -1 with
 * *whyp naming the field at fault (or the cause).
 */
int	 store_json_unvalue(int type, const char *json, size_t len,
	    unsigned char **valp, size_t *vlenp, const char **whyp);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * limits.h: the sizes and counts the store can hold, in one place so
 * that the bundle validator (src/policy/bundle.c) rejects, with every
 * error listed, exactly what an import into the store would fail on, and
 * so that nothing is ever stored that a later change cannot name.
 * Pure: numbers only.  docs/bundle-format.md ("Limits") lists them.
 */
#ifndef KMSAUTHZ_LIMITS_H
#define KMSAUTHZ_LIMITS_H

/* Bytes of one identifier: an instance id, key id, region, account id,
 * alias name, user, role or group name (a policy name is shorter,
 * POLICY_NAME_MAX). */
#define LIMITS_ID_MAX			255
/* Tags per key, as KMS; bytes of a tag key (1 or more) and value. */
#define LIMITS_TAGS_MAX			20
#define LIMITS_TAG_KEY_MAX		128
#define LIMITS_TAG_VALUE_MAX		256
/* Groups of a user; policies attached to a user, role or group. */
#define LIMITS_LIST_MAX			256
/* Versions of a RAM policy, as RAM's CreatePolicyVersion. */
#define LIMITS_POLICY_VERSIONS_MAX	5
/*
 * Bytes of a composite record key: its parts joined by one separator
 * byte each.  LMDB's default MDB_MAXKEYSIZE; with every part at most
 * LIMITS_ID_MAX only an alias (region, account, name) can exceed it.
 */
#define LIMITS_RECORD_KEY_MAX		511

#endif /* KMSAUTHZ_LIMITS_H */

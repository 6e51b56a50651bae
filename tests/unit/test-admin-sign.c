/* SPDX-License-Identifier: ISC */
/*
 * test-admin-sign: signed admin requests: a good one, a replayed one,
 * stale and future timestamps, a tampered body or block, an unknown
 * key, a malformed block, and the bounded replay cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/admin.h"

static const char body[] = "{\"Action\":\"Status\"}";
static const int64_t now = 1800000000;

struct fix {
	char			 pk[ADMIN_PK_B64_LEN + 1];
	char			 sk[ADMIN_SK_B64_LEN + 1];
	struct admin_keyring	*kr;
	struct admin_replay	*rc;
};

static int
setup(void **state)
{
	struct fix	*f = calloc(1, sizeof(*f));

	if (f == NULL || admin_sign_keygen(f->pk, f->sk) != 0)
		return (-1);
	f->kr = admin_keyring_new();
	f->rc = admin_replay_new(64);
	if (admin_keyring_add(f->kr, f->pk, "acs:ram::1234:user/alice") != 0)
		return (-1);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fix	*f = *state;

	admin_keyring_free(f->kr);
	admin_replay_free(f->rc);
	free(f);
	return (0);
}

static enum admin_sign_status
verify(struct fix *f, int64_t t, const char *b, const unsigned char *blk,
    const char **pp)
{
	char	pk[ADMIN_PK_B64_LEN + 1];

	return (admin_sign_verify(f->kr, f->rc, t, b, strlen(b), blk,
	    ADMIN_SIG_BLOCK_LEN, pp, pk));
}

static void
sign(struct fix *f, const char *sk, int64_t t, const char *b,
    unsigned char *blk)
{
	assert_int_equal(admin_sign_block(sk, t, b, strlen(b), blk), 0);
}

static void
t_good_then_replayed(void **state)
{
	struct fix	*f = *state;
	unsigned char	 blk[ADMIN_SIG_BLOCK_LEN];
	const char	*p;
	char		 pk[ADMIN_PK_B64_LEN + 1];

	sign(f, f->sk, now, body, blk);
	p = NULL;
	assert_int_equal(admin_sign_verify(f->kr, f->rc, now, body,
	    strlen(body), blk, sizeof(blk), &p, pk), ADMIN_SIGN_OK);
	assert_string_equal(p, "acs:ram::1234:user/alice");
	assert_string_equal(pk, f->pk);
	/* The same request again, inside the window: a replay. */
	assert_int_equal(verify(f, now + 10, body, blk, &p),
	    ADMIN_SIGN_REPLAYED);
}

static void
t_window(void **state)
{
	struct fix	*f = *state;
	unsigned char	 blk[ADMIN_SIG_BLOCK_LEN];
	const char	*p;

	/* Exactly at the edges: accepted. */
	sign(f, f->sk, now - 300, body, blk);
	assert_int_equal(verify(f, now, body, blk, &p), ADMIN_SIGN_OK);
	sign(f, f->sk, now + ADMIN_SIGN_AHEAD, body, blk);
	assert_int_equal(verify(f, now, body, blk, &p), ADMIN_SIGN_OK);
	/* One second beyond: stale (or from the future). */
	sign(f, f->sk, now - 301, body, blk);
	assert_int_equal(verify(f, now, body, blk, &p), ADMIN_SIGN_STALE);
	sign(f, f->sk, now + ADMIN_SIGN_AHEAD + 1, body, blk);
	assert_int_equal(verify(f, now, body, blk, &p), ADMIN_SIGN_STALE);
	sign(f, f->sk, now + 300, body, blk);
	assert_int_equal(verify(f, now, body, blk, &p), ADMIN_SIGN_STALE);
}

/*
 * A restart forgets the nonces: a request the previous instance
 * accepted (dated up to its last second + ADMIN_SIGN_AHEAD) is refused
 * by the floor, a fresh one after it is accepted.
 */
static void
t_floor(void **state)
{
	struct fix		*f = *state;
	struct admin_replay	*fresh, *keep = f->rc;
	unsigned char		 blk[ADMIN_SIG_BLOCK_LEN], blk2[ADMIN_SIG_BLOCK_LEN];
	const char		*p;
	int64_t			 start = now + 100;

	/* Accepted by the old instance, ahead of its clock. */
	sign(f, f->sk, now + ADMIN_SIGN_AHEAD, body, blk);
	assert_int_equal(verify(f, now, body, blk, &p), ADMIN_SIGN_OK);
	/* Restarted at "start" (the old one died at "now"). */
	assert_non_null(fresh = admin_replay_new(64));
	f->rc = fresh;
	admin_replay_set_floor(fresh, now + ADMIN_SIGN_AHEAD);
	assert_int_equal(verify(f, now + 1, body, blk, &p),
	    ADMIN_SIGN_BEFORE_START);
	sign(f, f->sk, now, body, blk2);
	assert_int_equal(verify(f, now + 1, body, blk2, &p),
	    ADMIN_SIGN_BEFORE_START);
	/* Without the floor the replay would pass: the cache is new. */
	admin_replay_set_floor(fresh, 0);
	assert_int_equal(verify(f, now + 1, body, blk, &p), ADMIN_SIGN_OK);
	admin_replay_set_floor(fresh, start + ADMIN_SIGN_AHEAD);
	sign(f, f->sk, start + ADMIN_SIGN_AHEAD, body, blk2);
	assert_int_equal(verify(f, start + ADMIN_SIGN_AHEAD, body, blk2, &p),
	    ADMIN_SIGN_BEFORE_START);
	sign(f, f->sk, start + ADMIN_SIGN_AHEAD + 1, body, blk2);
	assert_int_equal(verify(f, start + ADMIN_SIGN_AHEAD + 1, body, blk2,
	    &p), ADMIN_SIGN_OK);
	assert_string_equal(admin_sign_status_name(ADMIN_SIGN_BEFORE_START),
	    "signed before the daemon started (it may have been seen by the "
	    "previous instance): sign it again");
	f->rc = keep;
	admin_replay_free(fresh);
}

static void
t_tampered(void **state)
{
	struct fix	*f = *state;
	unsigned char	 blk[ADMIN_SIG_BLOCK_LEN];
	const char	*p;
	size_t		 i;

	sign(f, f->sk, now, body, blk);
	/* Another body under the same block. */
	assert_int_equal(verify(f, now, "{\"Action\":\"Statuz\"}", blk, &p),
	    ADMIN_SIGN_BAD_SIGNATURE);
	/* Each timestamp, nonce and signature byte changed in turn. */
	for (i = 0; i < ADMIN_SIG_BLOCK_LEN; i++) {
		if (i >= 8 + ADMIN_NONCE_BYTES && i < 8 + ADMIN_NONCE_BYTES +
		    32)
			continue;	/* the key: unknown key, below */
		blk[i] ^= 0x01;
		assert_int_not_equal(verify(f, now, body, blk, &p),
		    ADMIN_SIGN_OK);
		blk[i] ^= 0x01;
	}
	/* A failed signature leaves no nonce behind: the genuine request
	 * is still accepted, once. */
	assert_int_equal(verify(f, now, body, blk, &p), ADMIN_SIGN_OK);
	assert_int_equal(verify(f, now, body, blk, &p), ADMIN_SIGN_REPLAYED);
	/* A changed public key is an unknown key. */
	blk[8 + ADMIN_NONCE_BYTES] ^= 0x01;
	assert_int_equal(verify(f, now, body, blk, &p),
	    ADMIN_SIGN_UNKNOWN_KEY);
	/* A block of another length is malformed. */
	assert_int_equal(admin_sign_verify(f->kr, f->rc, now, body,
	    strlen(body), blk, sizeof(blk) - 1, &p, (char[64]){ 0 }),
	    ADMIN_SIGN_MALFORMED);
	assert_int_equal(admin_sign_block("bad key", now, body, strlen(body),
	    blk), -1);
}

static void
t_unknown_key(void **state)
{
	struct fix	*f = *state;
	char		 pk[ADMIN_PK_B64_LEN + 1], sk[ADMIN_SK_B64_LEN + 1];
	unsigned char	 blk[ADMIN_SIG_BLOCK_LEN];
	const char	*p;

	assert_int_equal(admin_sign_keygen(pk, sk), 0);
	sign(f, sk, now, body, blk);
	assert_int_equal(verify(f, now, body, blk, &p),
	    ADMIN_SIGN_UNKNOWN_KEY);
	/* Once configured, it is known. */
	assert_int_equal(admin_keyring_add(f->kr, pk, "superuser"), 0);
	assert_int_equal(admin_keyring_add(f->kr, pk, "superuser"), -1);
	assert_int_equal(admin_keyring_count(f->kr), 2);
	sign(f, sk, now, body, blk);
	assert_int_equal(verify(f, now, body, blk, &p), ADMIN_SIGN_OK);
	assert_string_equal(p, "superuser");
	assert_int_equal(admin_keyring_add(f->kr, "not base64!", "x"), -1);
	assert_int_equal(admin_keyring_add(f->kr, "AAAA", "x"), -1);
	assert_string_equal(admin_sign_status_name(ADMIN_SIGN_REPLAYED),
	    "nonce already seen (replay)");
}

static void
t_cache_bounded(void **state)
{
	struct fix		*f = *state;
	struct admin_replay	*small, *keep;
	unsigned char		 blk[ADMIN_SIG_BLOCK_LEN];
	const char		*p;
	int			 i, ok = 0, full = 0;

	/* Capacity 8 (one bucket): the ninth live nonce is refused... */
	small = admin_replay_new(8);
	keep = f->rc;
	f->rc = small;
	for (i = 0; i < 9; i++) {
		sign(f, f->sk, now, body, blk);
		switch (verify(f, now, body, blk, &p)) {
		case ADMIN_SIGN_OK:
			ok++;
			break;
		case ADMIN_SIGN_CACHE_FULL:
			full++;
			break;
		default:
			fail();
		}
	}
	assert_int_equal(ok, 8);
	assert_int_equal(full, 1);
	/* ...until the window has passed and the old nonces expire. */
	sign(f, f->sk, now + 301, body, blk);
	assert_int_equal(verify(f, now + 301, body, blk, &p), ADMIN_SIGN_OK);
	f->rc = keep;
	admin_replay_free(small);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_good_then_replayed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_floor, setup, teardown),
		cmocka_unit_test_setup_teardown(t_window, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unknown_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_cache_bounded, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

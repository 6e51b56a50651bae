/*
 * test-admin-sign: signed admin requests: a good one, a replayed one,
 * stale and future timestamps, a tampered body, an unknown key, a
 * malformed envelope, plain bodies, and the bounded replay cache.
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
verify(struct fix *f, int64_t t, const char *env, char **bodyp,
    const char **pp)
{
	char	pk[ADMIN_PK_B64_LEN + 1];
	size_t	len;

	*bodyp = NULL;
	return (admin_sign_verify(f->kr, f->rc, t, env, strlen(env), bodyp,
	    &len, pp, pk));
}

static void
t_good_then_replayed(void **state)
{
	struct fix	*f = *state;
	char		*env, *b;
	const char	*p;
	size_t		 len;

	env = admin_sign_wrap(f->sk, now, body, strlen(body), &len);
	assert_non_null(env);
	assert_int_equal(verify(f, now, env, &b, &p), ADMIN_SIGN_OK);
	assert_string_equal(b, body);
	assert_string_equal(p, "acs:ram::1234:user/alice");
	free(b);
	/* The same envelope again, inside the window: a replay. */
	assert_int_equal(verify(f, now + 10, env, &b, &p),
	    ADMIN_SIGN_REPLAYED);
	assert_null(b);
	free(env);
}

static void
t_window(void **state)
{
	struct fix	*f = *state;
	char		*env, *b;
	const char	*p;
	size_t		 len;

	/* Exactly at the edges: accepted. */
	env = admin_sign_wrap(f->sk, now - 300, body, strlen(body), &len);
	assert_int_equal(verify(f, now, env, &b, &p), ADMIN_SIGN_OK);
	free(b);
	free(env);
	env = admin_sign_wrap(f->sk, now + 300, body, strlen(body), &len);
	assert_int_equal(verify(f, now, env, &b, &p), ADMIN_SIGN_OK);
	free(b);
	free(env);
	/* One second beyond: stale (or from the future). */
	env = admin_sign_wrap(f->sk, now - 301, body, strlen(body), &len);
	assert_int_equal(verify(f, now, env, &b, &p), ADMIN_SIGN_STALE);
	free(env);
	env = admin_sign_wrap(f->sk, now + 301, body, strlen(body), &len);
	assert_int_equal(verify(f, now, env, &b, &p), ADMIN_SIGN_STALE);
	free(env);
}

static void
t_tampered(void **state)
{
	struct fix	*f = *state;
	char		*env, *b, *q;
	const char	*p;
	size_t		 len;

	env = admin_sign_wrap(f->sk, now, body, strlen(body), &len);
	/* Change the body's call name: Status -> Statuz. */
	q = strstr(env, "Status");
	assert_non_null(q);
	q[5] = 'z';
	assert_int_equal(verify(f, now, env, &b, &p),
	    ADMIN_SIGN_BAD_SIGNATURE);
	q[5] = 's';
	/* Change the timestamp by one second. */
	q = strstr(env, "\"Timestamp\":");
	assert_non_null(q);
	q += strlen("\"Timestamp\":");
	q[9] = q[9] == '0' ? '1' : '0';
	assert_int_equal(verify(f, now, env, &b, &p),
	    ADMIN_SIGN_BAD_SIGNATURE);
	free(env);
	/* A failed signature leaves no nonce behind: the genuine request
	 * is still accepted. */
	env = admin_sign_wrap(f->sk, now, body, strlen(body), &len);
	q = strstr(env, "\"Nonce\":\"");
	q += strlen("\"Nonce\":\"");
	q[0] = q[0] == 'a' ? 'b' : 'a';
	assert_int_equal(verify(f, now, env, &b, &p),
	    ADMIN_SIGN_BAD_SIGNATURE);
	q[0] = q[0] == 'a' ? 'b' : 'a';
	free(env);
}

static void
t_unknown_key(void **state)
{
	struct fix	*f = *state;
	char		 pk[ADMIN_PK_B64_LEN + 1], sk[ADMIN_SK_B64_LEN + 1];
	char		*env, *b;
	const char	*p;
	size_t		 len;

	assert_int_equal(admin_sign_keygen(pk, sk), 0);
	env = admin_sign_wrap(sk, now, body, strlen(body), &len);
	assert_int_equal(verify(f, now, env, &b, &p), ADMIN_SIGN_UNKNOWN_KEY);
	free(env);
	/* Once configured, it is known. */
	assert_int_equal(admin_keyring_add(f->kr, pk, "superuser"), 0);
	assert_int_equal(admin_keyring_add(f->kr, pk, "superuser"), -1);
	assert_int_equal(admin_keyring_count(f->kr), 2);
	env = admin_sign_wrap(sk, now, body, strlen(body), &len);
	assert_int_equal(verify(f, now, env, &b, &p), ADMIN_SIGN_OK);
	assert_string_equal(p, "superuser");
	free(b);
	free(env);
	assert_int_equal(admin_keyring_add(f->kr, "not base64!", "x"), -1);
	assert_int_equal(admin_keyring_add(f->kr, "AAAA", "x"), -1);
}

static void
t_malformed(void **state)
{
	struct fix	*f = *state;
	static const char *bad[] = {
		"{\"Signed\":{}}",
		"{\"Signed\":5}",
		"{\"Signed\":{\"Body\":\"x\",\"Timestamp\":\"1\",\"Nonce\":"
		    "\"00\",\"PublicKey\":\"\",\"Signature\":\"\"}}",
		"{\"Signed\":{\"Body\":\"x\",\"Timestamp\":1,\"Nonce\":"
		    "\"00\",\"PublicKey\":\"\",\"Signature\":\"\"}}",
		"{\"Signed\":{\"Body\":\"x\"},\"Action\":\"Status\"}",
		"{\"Signed\":",
		NULL
	};
	char		*b;
	const char	*p;
	size_t		 i;

	for (i = 0; bad[i] != NULL; i++)
		assert_int_equal(verify(f, now, bad[i], &b, &p),
		    ADMIN_SIGN_MALFORMED);
	assert_int_equal(verify(f, now, body, &b, &p),
	    ADMIN_SIGN_NOT_SIGNED);
	assert_int_equal(verify(f, now, "{\"Action\":\"Signed\"}", &b, &p),
	    ADMIN_SIGN_NOT_SIGNED);
	assert_string_equal(admin_sign_status_name(ADMIN_SIGN_REPLAYED),
	    "nonce already seen (replay)");
}

static void
t_cache_bounded(void **state)
{
	struct fix		*f = *state;
	struct admin_replay	*small, *keep;
	char			*env, *b;
	const char		*p;
	size_t			 len;
	int			 i, ok = 0, full = 0;

	/* Capacity 8 (one bucket): the ninth live nonce is refused... */
	small = admin_replay_new(8);
	keep = f->rc;
	f->rc = small;
	for (i = 0; i < 9; i++) {
		env = admin_sign_wrap(f->sk, now, body, strlen(body), &len);
		switch (verify(f, now, env, &b, &p)) {
		case ADMIN_SIGN_OK:
			ok++;
			free(b);
			break;
		case ADMIN_SIGN_CACHE_FULL:
			full++;
			break;
		default:
			fail();
		}
		free(env);
	}
	assert_int_equal(ok, 8);
	assert_int_equal(full, 1);
	/* ...until the window has passed and the old nonces expire. */
	env = admin_sign_wrap(f->sk, now + 301, body, strlen(body), &len);
	assert_int_equal(verify(f, now + 301, env, &b, &p), ADMIN_SIGN_OK);
	free(b);
	free(env);
	f->rc = keep;
	admin_replay_free(small);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_good_then_replayed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_window, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unknown_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_cache_bounded, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

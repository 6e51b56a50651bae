/*
 * test-glob.c: precompiled wildcard patterns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/glob.h"

static int
m(const char *pat, const char *s, int flags)
{
	struct glob	*g;
	int		 r;

	g = glob_compile(pat, strlen(pat), flags);
	assert_non_null(g);
	r = glob_match(g, s, strlen(s));
	glob_free(g);
	return (r);
}

static void
test_literal(void **state)
{
	assert_true(m("kms:Encrypt", "kms:Encrypt", 0));
	assert_false(m("kms:Encrypt", "kms:encrypt", 0));
	assert_false(m("kms:Encrypt", "kms:Encrypt2", 0));
	assert_false(m("kms:Encrypt", "kms:Encryp", 0));
	assert_true(m("", "", 0));
	assert_false(m("", "a", 0));
}

static void
test_icase(void **state)
{
	assert_true(m("kms:Encrypt", "KMS:ENCRYPT", GLOB_ICASE));
	assert_true(m("KMS:*", "kms:decrypt", GLOB_ICASE));
	assert_true(m("kms:*crypt", "kms:DeCRYPT", GLOB_ICASE));
	assert_false(m("kms:*crypt", "kms:Sign", GLOB_ICASE));
	/* Folding is ASCII only. */
	assert_false(m("\xc3\xa9", "\xc3\x89", GLOB_ICASE));
}

static void
test_star(void **state)
{
	assert_true(m("*", "", 0));
	assert_true(m("*", "anything:at/all", 0));
	assert_true(m("**", "x", 0));
	assert_true(m("acs:kms:*:key/*", "acs:kms:cn-hangzhou:123:key/abc", 0));
	assert_false(m("acs:kms:*:key/*", "acs:kms:cn-hangzhou:123:alias/a",
	    0));
	assert_true(m("a*b*c", "abc", 0));
	assert_true(m("a*b*c", "axxbyyc", 0));
	assert_false(m("a*b*c", "axxbyy", 0));
	assert_true(m("*c", "abcc", 0));
	assert_false(m("*c", "abcd", 0));
	assert_true(m("a*", "a", 0));
	assert_false(m("a*", "b", 0));
	assert_true(m("*ab*ab*", "xabyab", 0));
	assert_false(m("*ab*ab*", "xab", 0));
	assert_true(m("*a*", "bab", 0));
	assert_true(m("acs:ram::123:*", "acs:ram::123:user/alice", 0));
	assert_false(m("acs:ram::123:*", "acs:ram::1234:user/alice", 0));
}

static void
test_qmark(void **state)
{
	assert_true(m("a?c", "abc", 0));
	assert_false(m("a?c", "ac", 0));
	assert_false(m("a?c", "abbc", 0));
	/* One UTF-8 code point, whatever its length. */
	assert_true(m("a?c", "a\xc3\xa9" "c", 0));
	assert_true(m("a?c", "a\xe4\xb8\xad" "c", 0));
	assert_true(m("a?c", "a\xf0\x9f\x98\x80" "c", 0));
	assert_false(m("a??c", "a\xc3\xa9" "c", 0));
	assert_true(m("*?", "\xc3\xa9", 0));
	assert_false(m("*??", "\xc3\xa9", 0));
	assert_true(m("?*", "x", 0));
	assert_false(m("?*", "", 0));
	assert_true(m("*x?z*", "aaxyzbb", 0));
	assert_true(m("*x?z", "xxyz", 0));
	assert_true(m("user/???", "user/bob", 0));
	assert_false(m("user/???", "user/bo", 0));
	assert_true(m("K?S:*", "kms:Sign", GLOB_ICASE));
}

static void
test_meta(void **state)
{
	struct glob	*g;
	size_t		 len;

	g = glob_compile("KMS:Encrypt", 11, GLOB_ICASE);
	assert_non_null(g);
	assert_true(glob_is_literal(g));
	assert_string_equal(glob_pattern(g, &len), "kms:encrypt");
	assert_int_equal(len, 11);
	glob_free(g);
	g = glob_compile("a?", 2, 0);
	assert_false(glob_is_literal(g));
	glob_free(g);
	glob_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_icase),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_qmark),
		cmocka_unit_test(test_meta),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

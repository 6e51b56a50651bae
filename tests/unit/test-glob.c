/* SPDX-License-Identifier: ISC */
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

/*
 * The matcher against a plain recursive reference, on random patterns
 * and subjects built of whole code points (ASCII letters of both cases,
 * ':', '/', a 2-byte and a 3-byte character): every form, the memchr
 * skip of middle segments (led by a byte that only matches itself) and
 * the walk (led by a letter under GLOB_ICASE, or by '?').
 */
static const char *const tok[] = { "a", "b", "A", "B", ":", "/",
    "\xc3\xa9", "\xe4\xb8\xad", "*", "?" };
#define NSUBJ_TOK	8	/* subjects use the first 8 */

static int
ref(const int *p, int np, const int *s, int ns, int icase)
{
	int	k;

	if (np == 0)
		return (ns == 0);
	if (p[0] == 8) {		/* '*': any run of code points */
		for (k = 0; k <= ns; k++)
			if (ref(p + 1, np - 1, s + k, ns - k, icase))
				return (1);
		return (0);
	}
	if (ns == 0)
		return (0);
	if (p[0] != 9 && p[0] != s[0] && !(icase && p[0] < 4 && s[0] < 4 &&
	    (p[0] & 1) == (s[0] & 1)))
		return (0);
	return (ref(p + 1, np - 1, s + 1, ns - 1, icase));
}

static void
test_reference(void **state)
{
	uint64_t	 x = 0x9e3779b97f4a7c15ULL;
	char		 pat[64], sub[64];
	int		 p[12], sv[12], np, ns, i, it, icase, want, got;
	size_t		 pl, sl;
	struct glob	*g;

	for (it = 0; it < 200000; it++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		np = (int)(x % 9);
		ns = (int)((x >> 8) % 11);
		icase = (int)((x >> 16) & 1);
		pl = sl = 0;
		for (i = 0; i < np; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			/* Stars and ':' often, so that middle segments abound. */
			p[i] = (int)(x % 14);
			p[i] = p[i] >= 10 ? (p[i] >= 12 ? 8 : 4) : p[i];
			memcpy(pat + pl, tok[p[i]], strlen(tok[p[i]]));
			pl += strlen(tok[p[i]]);
		}
		for (i = 0; i < ns; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			sv[i] = (int)(x % NSUBJ_TOK);
			memcpy(sub + sl, tok[sv[i]], strlen(tok[sv[i]]));
			sl += strlen(tok[sv[i]]);
		}
		want = ref(p, np, sv, ns, icase);
		g = glob_compile(pat, pl, icase ? GLOB_ICASE : 0);
		assert_non_null(g);
		got = glob_match(g, sub, sl);
		glob_free(g);
		if (got != want)
			fail_msg("pattern \"%.*s\" subject \"%.*s\" icase %d: "
			    "got %d, want %d", (int)pl, pat, (int)sl, sub,
			    icase, got, want);
	}
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
		cmocka_unit_test(test_reference),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

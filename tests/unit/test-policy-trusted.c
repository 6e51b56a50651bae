/* SPDX-License-Identifier: ISC */
/*
 * test-policy-trusted.c: policy_compile_trusted builds the same compiled
 * policy as policy_compile_text.
 *
 * The program is linked with -Wl,--wrap for every builder call of
 * engine/cpolicy.h, so each call either compiler makes is appended to a
 * trace (its name and every argument, byte for byte) before it goes to
 * the real builder.  The builder is deterministic, so equal traces mean
 * equal compiled policies.  Checked on every document of tests/policy
 * (valid and invalid) and every policy of the conformance bundles, plus
 * texts written here to reach each fallback and every prefix of each
 * valid document (no read beyond the text: ASan).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "engine/cpolicy.h"
#include "policy/bundle.h"
#include "policy/policy-compile.h"
#include "policy/policy.h"

/* --- the trace ------------------------------------------------------ */

static unsigned char	*tr;
static size_t		 trlen, trcap;

static void
tr_put(const void *p, size_t n)
{
	if (trlen + n > trcap) {
		trcap = (trlen + n) * 2 + 256;
		tr = realloc(tr, trcap);
		assert_non_null(tr);
	}
	memcpy(tr + trlen, p, n);
	trlen += n;
}

static void
tr_call(const char *name, long a, long b, const char *s, size_t len)
{
	tr_put(name, strlen(name) + 1);
	tr_put(&a, sizeof(a));
	tr_put(&b, sizeof(b));
	tr_put(&len, sizeof(len));
	if (s != NULL)
		tr_put(s, len);
	else
		tr_put("(null)", 6);
}

struct cpolicy	*__real_cpolicy_new(enum cpolicy_kind);
int	__real_cpolicy_add_stmt(struct cpolicy *, enum cpolicy_effect,
	    const char *, size_t);
int	__real_cpolicy_stmt_action(struct cpolicy *, int, const char *, size_t);
int	__real_cpolicy_stmt_resource(struct cpolicy *, int, const char *,
	    size_t);
int	__real_cpolicy_stmt_principal(struct cpolicy *, const char *, size_t);
int	__real_cpolicy_stmt_cond(struct cpolicy *, enum cpolicy_op,
	    const char *, size_t);
int	__real_cpolicy_cond_value(struct cpolicy *, const char *, size_t);
int	__real_cpolicy_finish(struct cpolicy *);
struct cpolicy	*__wrap_cpolicy_new(enum cpolicy_kind);
int	__wrap_cpolicy_add_stmt(struct cpolicy *, enum cpolicy_effect,
	    const char *, size_t);
int	__wrap_cpolicy_stmt_action(struct cpolicy *, int, const char *, size_t);
int	__wrap_cpolicy_stmt_resource(struct cpolicy *, int, const char *,
	    size_t);
int	__wrap_cpolicy_stmt_principal(struct cpolicy *, const char *, size_t);
int	__wrap_cpolicy_stmt_cond(struct cpolicy *, enum cpolicy_op,
	    const char *, size_t);
int	__wrap_cpolicy_cond_value(struct cpolicy *, const char *, size_t);
int	__wrap_cpolicy_finish(struct cpolicy *);

struct cpolicy *
__wrap_cpolicy_new(enum cpolicy_kind k)
{
	tr_call("new", (long)k, 0, NULL, 0);
	return (__real_cpolicy_new(k));
}

int
__wrap_cpolicy_add_stmt(struct cpolicy *cp, enum cpolicy_effect e,
    const char *sid, size_t len)
{
	tr_call("stmt", (long)e, sid != NULL, sid, len);
	return (__real_cpolicy_add_stmt(cp, e, sid, len));
}

int
__wrap_cpolicy_stmt_action(struct cpolicy *cp, int neg, const char *s,
    size_t len)
{
	tr_call("action", neg, 0, s, len);
	return (__real_cpolicy_stmt_action(cp, neg, s, len));
}

int
__wrap_cpolicy_stmt_resource(struct cpolicy *cp, int neg, const char *s,
    size_t len)
{
	tr_call("resource", neg, 0, s, len);
	return (__real_cpolicy_stmt_resource(cp, neg, s, len));
}

int
__wrap_cpolicy_stmt_principal(struct cpolicy *cp, const char *s, size_t len)
{
	tr_call("principal", 0, 0, s, len);
	return (__real_cpolicy_stmt_principal(cp, s, len));
}

int
__wrap_cpolicy_stmt_cond(struct cpolicy *cp, enum cpolicy_op op,
    const char *s, size_t len)
{
	tr_call("cond", (long)op, 0, s, len);
	return (__real_cpolicy_stmt_cond(cp, op, s, len));
}

int
__wrap_cpolicy_cond_value(struct cpolicy *cp, const char *s, size_t len)
{
	tr_call("value", 0, 0, s, len);
	return (__real_cpolicy_cond_value(cp, s, len));
}

int
__wrap_cpolicy_finish(struct cpolicy *cp)
{
	int	 rc = __real_cpolicy_finish(cp);

	tr_call("finish", rc, 0, NULL, 0);
	return (rc);
}

/* --- comparing the two compilers ---------------------------------- */

struct tally {
	size_t	 docs;		/* compiled by the full path */
	size_t	 fast;		/* and by the trusted one, same trace */
	size_t	 numbers;	/* trusted fell back: a number */
};

/* 1 when the tree holds a JSON number anywhere. */
static int
has_number(struct json_object *o)
{
	size_t	 i;

	switch (json_object_get_type(o)) {
	case json_type_int:
	case json_type_double:
		return (1);
	case json_type_array:
		for (i = 0; i < json_object_array_length(o); i++)
			if (has_number(json_object_array_get_idx(o, i)))
				return (1);
		return (0);
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (has_number(v))
				return (1);
		}
		return (0);
	}
	default:
		return (0);
	}
}

/*
 * Compiles text both ways.  A text the full path accepts must compile
 * on the trusted path with the same trace, unless it holds a number.
 * A text the full path refuses may do anything on the trusted path but
 * crash or leak (its callers vouch for their texts).
 */
static void
compare(enum policy_kind kind, const char *text, size_t len,
    const char *what, struct tally *t)
{
	struct policy_diags	 d;
	struct json_object	*doc = NULL;
	struct cpolicy		*a = NULL, *b = NULL;
	unsigned char		*ta;
	size_t			 tal;
	int			 ra, rb;

	policy_diags_init(&d);
	trlen = 0;
	ra = policy_compile_text(kind, text, len, len > 32768 ? len : 32768,
	    "", &a, &d);
	policy_diags_free(&d);
	ta = malloc(trlen ? trlen : 1);
	assert_non_null(ta);
	memcpy(ta, tr, trlen);
	tal = trlen;
	trlen = 0;
	rb = policy_compile_trusted(kind, text, len, &b);
	if (ra == 0) {
		t->docs++;
		if (rb == 0) {
			t->fast++;
			if (tal != trlen || memcmp(ta, tr, tal) != 0)
				fail_msg("%s: the trusted compiler's calls "
				    "differ from the full path's", what);
		} else {
			(void)policy_validate(kind, text, len, len, "", &doc,
			    &d);
			policy_diags_free(&d);
			if (doc == NULL || !has_number(doc))
				fail_msg("%s: valid, no number, yet the "
				    "trusted compiler fell back", what);
			json_object_put(doc);
			t->numbers++;
		}
	}
	free(ta);
	if (a != NULL)
		cpolicy_unref(a);
	if (b != NULL)
		cpolicy_unref(b);
}

static char *
read_all(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return (NULL);
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	buf[n] = '\0';		/* for json_tokener_parse; len excludes it */
	*lenp = (size_t)n;
	return (buf);
}

/* Every *.json of dir, as kind; valid ones also in every prefix. */
static void
run_dir(const char *sub, enum policy_kind kind, int prefixes,
    struct tally *t)
{
	struct policy_diags	 d;
	char		 path[1024];
	struct dirent	*de;
	DIR		*dir;
	char		*text;
	size_t		 len, n, cut;

	policy_diags_init(&d);
	snprintf(path, sizeof(path), "%s/tests/policy/%s", TOP_SRCDIR, sub);
	dir = opendir(path);
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/tests/policy/%s/%s",
		    TOP_SRCDIR, sub, de->d_name);
		text = read_all(path, &len);
		assert_non_null(text);
		compare(kind, text, len, path, t);
		if (prefixes)
			for (cut = 0; cut < len; cut++) {
				struct cpolicy	*cp = NULL;

				/* Exactly cut bytes: ASan sees overreads. */
				char	*p = malloc(cut ? cut : 1);

				assert_non_null(p);
				memcpy(p, text, cut);
				/* Only a prefix that is still valid (the
				 * final newline cut) may compile. */
				if (policy_compile_trusted(kind, p, cut,
				    &cp) == 0) {
					cpolicy_unref(cp);
					assert_int_equal(policy_validate(kind,
					    p, cut, cut, "", NULL, &d), 0);
				}
				free(p);
			}
		free(text);
	}
	closedir(dir);
	policy_diags_free(&d);
}

static void
t_tables(void **state)
{
	struct tally	 t;

	(void)state;
	memset(&t, 0, sizeof(t));
	run_dir("valid/key", POLICY_KIND_KEY, 1, &t);
	run_dir("valid/ram", POLICY_KIND_RAM, 1, &t);
	run_dir("invalid/key", POLICY_KIND_KEY, 0, &t);
	run_dir("invalid/ram", POLICY_KIND_RAM, 0, &t);
	/* Both kinds for every file: a key policy is not a RAM policy. */
	run_dir("valid/key", POLICY_KIND_RAM, 0, &t);
	run_dir("valid/ram", POLICY_KIND_KEY, 0, &t);
	assert_true(t.docs >= 38);
	assert_int_equal(t.docs, t.fast + t.numbers);
	print_message("# %zu valid documents, %zu on the trusted path, %zu "
	    "with numbers (full path)\n", t.docs, t.fast, t.numbers);
}

static void
t_conformance(void **state)
{
	static const char *const files[] = { "aliases", "conditions-bool",
	    "conditions-date", "conditions-ip", "conditions-numeric",
	    "conditions-string", "decisions", "examples", "identities",
	    "notaction-notresource", "tags", "wildcards-case" };
	struct policy_diags	 d;
	struct json_object	*o, *bo;
	struct bundle		*b;
	struct tally		 t;
	char			 path[1024], what[1200];
	const char		*bt;
	char			*text;
	size_t			 i, j, len;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/tests/conformance/%s.json",
		    TOP_SRCDIR, files[i]);
		text = read_all(path, &len);
		assert_non_null(text);
		o = json_tokener_parse(text);
		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "Bundle", &bo));
		bt = json_object_to_json_string_ext(bo, JSON_C_TO_STRING_PLAIN);
		policy_diags_init(&d);
		assert_int_equal(bundle_parse(bt, strlen(bt), 0, &b, &d), 0);
		policy_diags_free(&d);
		for (j = 0; j < b->nkeys; j++) {
			if (b->keys[j].policy == NULL)
				continue;
			snprintf(what, sizeof(what), "%s Keys[%zu]", path, j);
			compare(POLICY_KIND_KEY, b->keys[j].policy,
			    b->keys[j].policy_len, what, &t);
		}
		for (j = 0; j < b->npolicies; j++) {
			snprintf(what, sizeof(what), "%s Policies[%zu]", path,
			    j);
			compare(POLICY_KIND_RAM, b->policies[j].text,
			    b->policies[j].len, what, &t);
		}
		bundle_free(b);
		json_object_put(o);
		free(text);
	}
	assert_true(t.docs >= 100);
	assert_int_equal(t.docs, t.fast + t.numbers);
	assert_true(t.fast > t.numbers);
	print_message("# %zu conformance policies, %zu on the trusted path, "
	    "%zu with numbers (full path)\n", t.docs, t.fast, t.numbers);
}

/* Texts written to reach each rule of the trusted reader. */
static void
t_cases(void **state)
{
	static const struct {
		enum policy_kind	 kind;
		const char		*text;
		int			 fast;	/* 1: trusted path */
	} c[] = {
	    /* escapes everywhere, keys included */
	    { POLICY_KIND_RAM, "{\"\\u0056ersion\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Al\\u006cow\",\"Sid\":\"a\\\"b\\\\c\\/\","
		"\"Action\":\"kms:\\u00e9\\ud83d\\ude00\",\"Resource\":\"*\","
		"\"Condition\":{\"StringEquals\":{\"k\\u00c9y\":[\"x\\ny\","
		"\"\\b\\f\\r\\t\"]},\"Bool\":{\"b\":true,\"c\":[false,\"true\"]}}"
		"}]}", 1 },
	    /* whitespace of all four kinds, member order shuffled */
	    { POLICY_KIND_KEY, " \t\r\n{ \"Statement\" : [ { \"Resource\" :"
		" [ \"*\" ] , \"Action\" : \"kms:*\" , \"Principal\" : {"
		" \"ram\" : \"*\" } , \"Effect\" : \"Deny\" } ] , \"Version\""
		" : \"1\" } \n", 1 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"NotAction\":[\"kms:Decrypt\"],"
		"\"NotResource\":\"acs:kms:*:*:key/a\"}]}", 1 },
	    /* numbers: the full path */
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\","
		"\"Condition\":{\"NumericEquals\":{\"n\":-0}}}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\","
		"\"Condition\":{\"NumericEquals\":{\"n\":[\"1\",1.50]}}}]}", 0 },
	    /* what the validator refuses and policy_compile would take */
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"a\",\"NotAction\":\"b\","
		"\"Resource\":\"*\"}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"a\",\"Resource\":\"*\","
		"\"Extra\":1}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"a\",\"Resource\":\"*\","
		"\"Condition\":{}}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"a\",\"Resource\":\"*\","
		"\"Condition\":{\"Bool\":{}}}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"2\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"a\",\"Resource\":\"*\"}]}",
		0 },
	    { POLICY_KIND_RAM, "{\"Statement\":[{\"Effect\":\"Allow\","
		"\"Action\":\"a\",\"Resource\":\"*\"}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Version\":\"1\","
		"\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a\","
		"\"Resource\":\"*\"}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Effect\":\"Deny\",\"Action\":\"a\","
		"\"Resource\":\"*\"}]}", 0 },
	    { POLICY_KIND_KEY, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\","
		"\"Principal\":{\"RAM\":\"*\",\"ram\":\"*\"}}]}", 0 },
	    { POLICY_KIND_KEY, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}"
		"]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"a\",\"Resource\":\"*\","
		"\"Principal\":{\"RAM\":\"*\"}}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"a\\u0000\","
		"\"Resource\":\"*\"}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"\\udc00\","
		"\"Resource\":\"*\"}]}", 0 },
	    { POLICY_KIND_RAM, "{\"Version\":\"1\",\"Statement\":[{"
		"\"Effect\":\"Allow\",\"Action\":\"a\",\"Resource\":\"*\"}]}x",
		0 },
	    { POLICY_KIND_RAM, "[1]", 0 },
	    { POLICY_KIND_RAM, "", 0 },
	};
	struct tally	 t;
	struct cpolicy	*cp;
	char		 what[64];
	size_t		 i, len;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		len = strlen(c[i].text);
		cp = NULL;
		rc = policy_compile_trusted(c[i].kind, c[i].text, len, &cp);
		if (rc != (c[i].fast ? 0 : -1))
			fail_msg("case %zu: trusted path %s", i, rc == 0 ?
			    "taken" : "not taken");
		if (cp != NULL)
			cpolicy_unref(cp);
		memset(&t, 0, sizeof(t));
		snprintf(what, sizeof(what), "case %zu", i);
		compare(c[i].kind, c[i].text, len, what, &t);
		if (c[i].fast && t.fast != 1)
			fail_msg("case %zu: not valid, or other calls", i);
	}
}

/* Nesting beyond the depth limit: refused, no deep recursion. */
static void
t_deep(void **state)
{
	struct cpolicy	*cp = NULL;
	char		*s;
	size_t		 i, n = 100000;

	(void)state;
	s = malloc(2 * n);
	assert_non_null(s);
	for (i = 0; i < n; i++) {
		s[i] = '[';
		s[n + i] = ']';
	}
	assert_int_equal(policy_compile_trusted(POLICY_KIND_RAM, s, 2 * n,
	    &cp), -1);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_tables),
		cmocka_unit_test(t_conformance),
		cmocka_unit_test(t_cases),
		cmocka_unit_test(t_deep),
	};
	int	 rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(tr);
	return (rc);
}

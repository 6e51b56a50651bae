/* SPDX-License-Identifier: ISC */
/*
 * test-policy.c: runs every document under tests/policy (see its
 * README.md): each valid document must validate with no violation; each
 * invalid one must give exactly the (code, path) list of expect.tsv, in
 * order.  Also the diagnostics API, path prefixes, the JSON layer's own
 * rules and policy names.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "policy/policy.h"

struct expect {
	char	*code;
	char	*path;
};

struct doc {
	char		*rel;		/* "invalid/key/foo.json" */
	enum policy_kind kind;
	int		 valid;
	struct expect	*ex;
	size_t		 nex;
};

/* A string literal and its length. */
#define JS(s)	(s), (sizeof(s) - 1)

static const char	*top;
static struct doc	*docs;
static size_t		 ndocs;

static char *
read_all(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return (NULL);
	}
	/* Exactly the document's length, so overreads show under ASan. */
	if ((buf = malloc(n > 0 ? (size_t)n : 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	*lenp = (size_t)n;
	return (buf);
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static struct doc *
doc_find(const char *rel)
{
	size_t	i;

	for (i = 0; i < ndocs; i++)
		if (strcmp(docs[i].rel, rel) == 0)
			return (&docs[i]);
	return (NULL);
}

static void
add_dir(const char *sub, enum policy_kind kind, int valid)
{
	char		 path[4096], **names = NULL;
	DIR		*dir;
	struct dirent	*de;
	size_t		 n = 0, i, l;

	snprintf(path, sizeof(path), "%s/tests/policy/%s", top, sub);
	if ((dir = opendir(path)) == NULL) {
		fprintf(stderr, "test-policy: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((de = readdir(dir)) != NULL) {
		l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);
	docs = realloc(docs, (ndocs + n) * sizeof(*docs));
	for (i = 0; i < n; i++) {
		struct doc	*d = &docs[ndocs++];

		memset(d, 0, sizeof(*d));
		l = strlen(sub) + strlen(names[i]) + 2;
		d->rel = malloc(l);
		snprintf(d->rel, l, "%s/%s", sub, names[i]);
		d->kind = kind;
		d->valid = valid;
		free(names[i]);
	}
	free(names);
}

/*
 * expect.tsv: FILE TAB CODE TAB PATH TAB WHY, FILE relative to
 * tests/policy/invalid, PATH "-" for the document itself.
 */
static void
load_expect(void)
{
	char		 path[4096], line[8192], rel[4096], *f[4], *p;
	FILE		*fp;
	struct doc	*d;
	int		 lineno = 0, nf;

	snprintf(path, sizeof(path), "%s/tests/policy/expect.tsv", top);
	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "test-policy: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (nf = 0, p = line; nf < 4 && p != NULL; nf++) {
			f[nf] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (nf != 4 || f[3][0] == '\0') {
			fprintf(stderr, "expect.tsv:%d: want FILE, CODE, PATH "
			    "and WHY separated by tabs\n", lineno);
			exit(1);
		}
		snprintf(rel, sizeof(rel), "invalid/%s", f[0]);
		if ((d = doc_find(rel)) == NULL) {
			fprintf(stderr, "expect.tsv:%d: no document %s\n",
			    lineno, rel);
			exit(1);
		}
		d->ex = realloc(d->ex, (d->nex + 1) * sizeof(*d->ex));
		d->ex[d->nex].code = strdup(f[1]);
		d->ex[d->nex].path = strdup(strcmp(f[2], "-") == 0 ? "" :
		    f[2]);
		d->nex++;
	}
	fclose(fp);
}

static size_t
max_bytes(enum policy_kind kind)
{
	return (kind == POLICY_KIND_KEY ? POLICY_KEY_MAX_BYTES :
	    POLICY_RAM_MAX_BYTES_DEFAULT);
}

static void
test_doc(void **state)
{
	const struct doc	*d = *state;
	struct policy_diags	 diags;
	struct json_object	*doc = NULL;
	char			 path[4096], *text;
	size_t			 len = 0, i;
	int			 rc;

	snprintf(path, sizeof(path), "%s/tests/policy/%s", top, d->rel);
	text = read_all(path, &len);
	assert_non_null(text);
	policy_diags_init(&diags);
	rc = policy_validate(d->kind, text, len, max_bytes(d->kind), "",
	    &doc, &diags);
	for (i = 0; i < diags.n; i++)
		print_message("# %s\t%s\t%s\n", diags.v[i].code,
		    diags.v[i].path[0] ? diags.v[i].path : "-",
		    diags.v[i].reason);
	if (d->valid) {
		assert_int_equal(rc, 0);
		assert_int_equal(diags.n, 0);
		assert_non_null(doc);
		assert_true(json_object_is_type(doc, json_type_object));
		json_object_put(doc);
	} else {
		assert_int_equal(rc, -1);
		assert_null(doc);
		if (d->nex == 0)
			fail_msg("%s has no line in expect.tsv", d->rel);
		assert_int_equal(diags.n, d->nex);
		for (i = 0; i < diags.n; i++) {
			assert_string_equal(diags.v[i].code, d->ex[i].code);
			assert_string_equal(diags.v[i].path, d->ex[i].path);
			/* A reason a person can act on, on one line. */
			assert_true(strlen(diags.v[i].reason) > 10);
			assert_null(strchr(diags.v[i].reason, '\n'));
		}
	}
	policy_diags_free(&diags);
	free(text);
}

/* The loader's prefix goes in front of every path. */
static void
test_prefix(void **state)
{
	static const char	 bad[] = "{\"Version\":\"2\",\"Statement\":"
	    "[{\"Effect\":\"Allow\",\"Action\":\"kms:Encrypt\","
	    "\"Resource\":\"*\",\"Principal\":{\"RAM\":[\"\"]}}]}";
	struct policy_diags	 diags;
	struct json_object	*doc = NULL;

	policy_diags_init(&diags);
	assert_int_equal(policy_validate(POLICY_KIND_KEY, bad,
	    sizeof(bad) - 1, POLICY_KEY_MAX_BYTES, "Keys[3].KeyPolicy", &doc,
	    &diags), -1);
	assert_null(doc);
	assert_int_equal(diags.n, 2);
	assert_string_equal(diags.v[0].path, "Keys[3].KeyPolicy.Version");
	assert_string_equal(diags.v[1].path,
	    "Keys[3].KeyPolicy.Statement[0].Principal.RAM[0]");
	policy_diags_free(&diags);

	/* A document-level problem has the prefix itself as its path. */
	assert_int_equal(policy_validate(POLICY_KIND_KEY, "{", 1,
	    POLICY_KEY_MAX_BYTES, "Keys[3].KeyPolicy", NULL, &diags), -1);
	assert_int_equal(diags.n, 1);
	assert_string_equal(diags.v[0].path, "Keys[3].KeyPolicy");
	policy_diags_free(&diags);
}

/* Size is measured on len, and reported with the rest. */
static void
test_size(void **state)
{
	static const char	 ok[] = "{\"Version\":\"1\",\"Statement\":"
	    "[{\"Effect\":\"Allow\",\"Action\":\"kms:Encrypt\","
	    "\"Resource\":\"*\"}]}";
	struct policy_diags	 diags;
	size_t			 len = sizeof(ok) - 1;

	policy_diags_init(&diags);
	assert_int_equal(policy_validate(POLICY_KIND_RAM, ok, len, len, "",
	    NULL, &diags), 0);
	assert_int_equal(diags.n, 0);
	assert_int_equal(policy_validate(POLICY_KIND_RAM, ok, len, len - 1,
	    "", NULL, &diags), -1);
	assert_int_equal(diags.n, 1);
	assert_string_equal(diags.v[0].path, "");
	assert_non_null(strstr(diags.v[0].reason, "limit"));
	policy_diags_free(&diags);
}

/* policy_json_parse alone: duplicates make it fail; a tree otherwise. */
static void
test_json(void **state)
{
	struct policy_diags	 diags;
	struct json_object	*o;

	policy_diags_init(&diags);
	o = policy_json_parse(JS("{\"a\":1,\"\\u0061\":2}"), 32, "", &diags);
	assert_null(o);
	assert_int_equal(diags.n, 1);
	assert_string_equal(diags.v[0].path, "a");
	policy_diags_free(&diags);

	o = policy_json_parse(JS(" [1, {\"b\": [true]}] "), 32, "P", &diags);
	assert_non_null(o);
	assert_int_equal(diags.n, 0);
	assert_int_equal(json_object_array_length(o), 2);
	json_object_put(o);

	o = policy_json_parse("[[[]]]", 6, 2, "", &diags);
	assert_null(o);
	assert_int_equal(diags.n, 1);
	assert_string_equal(diags.v[0].path, "[0][0]");
	policy_diags_free(&diags);

	/* Text json-c alone accepts. */
	o = policy_json_parse("{\"a\":1.}", 8, 32, "", &diags);
	assert_null(o);
	o = policy_json_parse("[NaN]", 5, 32, "", &diags);
	assert_null(o);
	o = policy_json_parse("[\"\t\"]", 5, 32, "", &diags);
	assert_null(o);
	o = policy_json_parse("[\"\xed\xa0\x80\"]", 7, 32, "", &diags);
	assert_null(o);
	o = policy_json_parse("[1]\0", 4, 32, "", &diags);
	assert_null(o);
	assert_int_equal(diags.n, 5);
	policy_diags_free(&diags);
}

static void
test_diags(void **state)
{
	struct policy_diags	d;

	policy_diags_init(&d);
	assert_int_equal(policy_diags_add(&d, "InvalidParameter", "A.B",
	    "x %d", 1), 0);
	assert_int_equal(policy_diags_add(&d, "Other", NULL, "y"), 0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].reason, "x 1");
	assert_string_equal(d.v[1].path, "");
	assert_string_equal(d.v[1].code, "Other");
	policy_diags_free(&d);
	assert_int_equal(d.n, 0);
	assert_null(d.v);
}

static void
test_name(void **state)
{
	char	buf[POLICY_NAME_MAX + 2];

	assert_true(ident_policy_name("default", 7));
	assert_true(ident_policy_name("Kms-Read.Only-2", 15));
	assert_false(ident_policy_name("", 0));
	assert_false(ident_policy_name("a b", 3));
	assert_false(ident_policy_name("a_b", 3));
	assert_false(ident_policy_name("a/b", 3));
	assert_false(ident_policy_name("caf\xc3\xa9", 5));
	assert_false(ident_policy_name("a\0b", 3));
	/* The other identifier rules (src/policy/ident.c). */
	assert_true(ident_account("123", 3));
	assert_false(ident_account("", 0));
	assert_false(ident_account("12a", 3));
	assert_false(ident_account("1\0" "2", 3));
	assert_true(ident_key_id("key-1_a.b", 9));
	assert_false(ident_key_id("key/1", 5));
	assert_true(ident_alias("alias/x y", 9));
	assert_false(ident_alias("alias/", 6));
	assert_true(ident_alias_name("alias/a-b_c/d", 13));
	assert_false(ident_alias_name("alias/x y", 9));
	assert_false(ident_alias_name("Alias/x", 7));
	assert_true(ident_bounded("a", 1));
	assert_false(ident_bounded("ab", 1));
	assert_false(ident_bounded("", 1));
	assert_false(ident_bounded(NULL, 1));
	assert_false(ident_chars("a", 1, "") && ident_chars("a-", 2, ""));
	memset(buf, 'a', sizeof(buf));
	assert_true(ident_policy_name(buf, POLICY_NAME_MAX));
	assert_false(ident_policy_name(buf, POLICY_NAME_MAX + 1));
}

int
main(void)
{
	struct CMUnitTest	*tests;
	size_t			 i, n = 0;
	int			 rc;

	if ((top = getenv("top_srcdir")) == NULL)
		top = TOP_SRCDIR;
	add_dir("valid/key", POLICY_KIND_KEY, 1);
	add_dir("valid/ram", POLICY_KIND_RAM, 1);
	add_dir("invalid/key", POLICY_KIND_KEY, 0);
	add_dir("invalid/ram", POLICY_KIND_RAM, 0);
	load_expect();
	tests = calloc(ndocs + 6, sizeof(*tests));
	for (i = 0; i < ndocs; i++) {
		tests[n].name = docs[i].rel;
		tests[n].test_func = test_doc;
		tests[n].initial_state = &docs[i];
		n++;
	}
	tests[n].name = "path prefix";
	tests[n++].test_func = test_prefix;
	tests[n].name = "size limit on len";
	tests[n++].test_func = test_size;
	tests[n].name = "policy_json_parse";
	tests[n++].test_func = test_json;
	tests[n].name = "diagnostics";
	tests[n++].test_func = test_diags;
	tests[n].name = "policy names";
	tests[n++].test_func = test_name;
	rc = _cmocka_run_group_tests("policy", tests, n, NULL, NULL);
	for (i = 0; i < ndocs; i++) {
		size_t	j;

		for (j = 0; j < docs[i].nex; j++) {
			free(docs[i].ex[j].code);
			free(docs[i].ex[j].path);
		}
		free(docs[i].ex);
		free(docs[i].rel);
	}
	free(docs);
	free(tests);
	return (rc);
}

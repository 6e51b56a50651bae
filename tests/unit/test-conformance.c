/* SPDX-License-Identifier: ISC */
/*
 * test-conformance.c: runs the hand-worked conformance tables of
 * tests/conformance (format in its README.md).
 *  - every tests/conformance/NAME.json: load its Bundle, decide every case
 *    and compare Decision, Reason and Matched (as a set);
 *  - every tests/conformance/invalid-bundles/NAME.json: the bundle must be
 *    rejected with exactly the listed error paths (and codes).
 * Every disagreement is printed with the case id; nothing is skipped.
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

#include "engine/eval.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "policy/simreq.h"

static char *
conf_dir(const char *sub)
{
	const char	*top = getenv("top_srcdir");
	char		*p;

	if (top == NULL)
		top = TOP_SRCDIR;
	if (asprintf(&p, "%s/tests/conformance%s", top, sub) == -1)
		return (NULL);
	return (p);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* The sorted *.json file names of dir. */
static size_t
conf_files(const char *dir, char ***out)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL;
	size_t		 n = 0, len;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		v = reallocarray(v, n + 1, sizeof(*v));
		assert_non_null(v);
		assert_non_null(v[n++] = strdup(de->d_name));
	}
	closedir(d);
	qsort(v, n, sizeof(*v), name_cmp);
	*out = v;
	return (n);
}

static struct json_object *
read_json(const char *dir, const char *name)
{
	struct json_object	*o;
	char			*p;

	assert_int_not_equal(asprintf(&p, "%s/%s", dir, name), -1);
	o = json_object_from_file(p);
	if (o == NULL)
		fail_msg("%s: cannot read JSON", p);
	free(p);
	return (o);
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

/* "Source|Index|Sid-or-\x01" for set comparison. */
static char *
match_key(const char *src, int64_t index, const char *sid)
{
	char	*s;

	assert_int_not_equal(asprintf(&s, "%s|%lld|%s", src,
	    (long long)index, sid ? sid : "\x01"), -1);
	return (s);
}

/* Compares the expected Matched with the answer's; 1 when equal. */
/*
 * The explained decision (eval_decide_why, docs/semantics.md 4.10) of
 * every case: the same answer as eval_decide's, a rule that agrees with
 * it, and halves whose statements are exactly the answer's.
 */
static int	why_failed;

/* Field by field: the structures have padding. */
static int
why_match_eq(const struct eval_match *x, const struct eval_match *y)
{
	return (x->source == y->source && x->name == y->name &&
	    x->namelen == y->namelen && x->index == y->index &&
	    x->sid == y->sid && x->sidlen == y->sidlen);
}

static void
why_check(const struct world *w, const struct eval_request *req,
    const struct eval_answer *a, const char *file, const char *id)
{
	static struct eval_why	 why;
	struct eval_answer	 b;
	const struct eval_half_why *h;
	size_t			 n = 0, i, j;
	int			 want = -1;
	const char		*bad = NULL;

	eval_decide_why(w, req, &b, &why, 1);
	if (b.decision != a->decision || b.reason != a->reason ||
	    b.nmatched != a->nmatched || b.truncated != a->truncated)
		bad = "explained answer differs";
	for (i = 0; bad == NULL && i < a->nmatched; i++)
		if (!why_match_eq(&b.matched[i], &a->matched[i]))
			bad = "explained statements differ";
	if (a->reason == EVAL_R_INVALID_REQUEST)
		want = EVAL_RULE_INVALID;
	else if (a->reason == EVAL_R_KEY_NOT_FOUND)
		want = EVAL_RULE_KEY_NOT_FOUND;
	else if (a->decision == EVAL_EXPLICIT_DENY)
		want = EVAL_RULE_EXPLICIT_DENY;
	if (bad == NULL && want != -1 && (int)why.rule != want)
		bad = "rule disagrees with the answer";
	/* The answer's statements are its decision's halves', in order. */
	for (i = 0; bad == NULL && a->decision != EVAL_IMPLICIT_DENY && i < 2;
	    i++) {
		h = &why.half[i];
		if (h->result != (a->decision == EVAL_ALLOW ? EVAL_RES_ALLOW :
		    EVAL_RES_DENY))
			continue;
		for (j = 0; j < h->n && n < a->nmatched; j++, n++)
			if (!why_match_eq(&h->stmt[j], &a->matched[n]))
				bad = "a half's statement is not the answer's";
	}
	if (bad == NULL && a->decision != EVAL_IMPLICIT_DENY && !a->truncated &&
	    n != a->nmatched)
		bad = "the halves' statements are not the answer's";
	if (bad == NULL && a->decision == EVAL_ALLOW &&
	    why.half[0].result != EVAL_RES_ALLOW &&
	    why.half[0].result != EVAL_RES_ROOT &&
	    why.half[1].result != EVAL_RES_ALLOW)
		bad = "an allow with no allowing half";
	if (bad != NULL) {
		why_failed++;
		print_message("# FAIL %s %s: explained: %s\n", file, id, bad);
	}
}

static int
matched_equal(struct json_object *exp, const struct eval_answer *a,
    char *why, size_t whylen)
{
	char		*e[EVAL_MAX_MATCHED * 2], *g[EVAL_MAX_MATCHED];
	char		 src[512];
	size_t		 ne = 0, ng = 0, i, j;
	int		 ok = 1;
	struct json_object *m, *v;

	if (exp != NULL) {
		for (i = 0; i < json_object_array_length(exp) &&
		    ne < EVAL_MAX_MATCHED * 2; i++) {
			m = json_object_array_get_idx(exp, i);
			json_object_object_get_ex(m, "Index", &v);
			e[ne] = match_key(jstr(m, "Source"),
			    json_object_get_int64(v), jstr(m, "Sid"));
			for (j = 0; j < ne; j++)
				if (strcmp(e[j], e[ne]) == 0)
					break;
			if (j < ne)
				free(e[ne]);	/* sets: once */
			else
				ne++;
		}
	}
	for (i = 0; i < a->nmatched; i++) {
		const struct eval_match *mt = &a->matched[i];
		char *sid = NULL;

		snprintf(src, sizeof(src), "%s/%.*s",
		    mt->source == EVAL_SRC_KEY ? "key" : "policy",
		    (int)mt->namelen, mt->name);
		if (mt->sid != NULL)
			sid = strndup(mt->sid, mt->sidlen);
		g[ng++] = match_key(src, mt->index, sid);
		free(sid);
	}
	if (ne != ng)
		ok = 0;
	for (i = 0; ok && i < ne; i++) {
		for (j = 0; j < ng; j++)
			if (strcmp(e[i], g[j]) == 0)
				break;
		if (j == ng)
			ok = 0;
	}
	if (!ok) {
		size_t off = 0;

		off += (size_t)snprintf(why + off, whylen - off,
		    "Matched: expected {");
		for (i = 0; i < ne && off < whylen; i++)
			off += (size_t)snprintf(why + off, whylen - off,
			    "%s%s", i ? ", " : "", e[i]);
		if (off < whylen)
			off += (size_t)snprintf(why + off, whylen - off,
			    "} got {");
		for (i = 0; i < ng && off < whylen; i++)
			off += (size_t)snprintf(why + off, whylen - off,
			    "%s%s", i ? ", " : "", g[i]);
		if (off < whylen)
			snprintf(why + off, whylen - off, "}");
	}
	for (i = 0; i < ne; i++)
		free(e[i]);
	for (i = 0; i < ng; i++)
		free(g[i]);
	return (ok);
}

static struct world *
load_bundle(struct json_object *bo, const char *file)
{
	struct policy_diags	 d;
	struct bundle		*b = NULL;
	struct world		*w = NULL;
	const char		*text;
	size_t			 i;

	text = json_object_to_json_string_ext(bo, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	policy_diags_init(&d);
	if (bundle_parse(text, strlen(text), 0, &b, &d) == 0)
		w = bundle_to_world(b, 1, &d);
	for (i = 0; i < d.n; i++)
		print_message("# %s: bundle error %s: %s\n", file,
		    d.v[i].path, d.v[i].reason);
	policy_diags_free(&d);
	bundle_free(b);
	return (w);
}

static void
test_cases(void **state)
{
	char			*dir, **files, why[2048], err[256];
	struct json_object	*f, *bo, *cases, *c, *req, *exp, *m;
	struct world		*w;
	struct policy_simreq	 sr;
	struct eval_answer	 a;
	struct value_time	 now = { 0, 0 };
	size_t			 nf, i, j, total = 0, failed = 0, fpass;
	const char		*id, *ed, *er;
	int			 bad;

	assert_non_null(dir = conf_dir(""));
	nf = conf_files(dir, &files);
	assert_true(nf > 0);
	for (i = 0; i < nf; i++) {
		f = read_json(dir, files[i]);
		assert_true(json_object_object_get_ex(f, "Bundle", &bo));
		assert_true(json_object_object_get_ex(f, "Cases", &cases));
		if ((w = load_bundle(bo, files[i])) == NULL) {
			print_message("# %s: the bundle does not load: all "
			    "%zu cases fail\n", files[i],
			    json_object_array_length(cases));
			total += json_object_array_length(cases);
			failed += json_object_array_length(cases);
			json_object_put(f);
			continue;
		}
		fpass = 0;
		for (j = 0; j < json_object_array_length(cases); j++) {
			c = json_object_array_get_idx(cases, j);
			id = jstr(c, "Id");
			json_object_object_get_ex(c, "Request", &req);
			json_object_object_get_ex(c, "Expect", &exp);
			total++;
			bad = policy_simreq_parse(req, &now, &sr, err,
			    sizeof(err)) == -1;
			if (bad) {
				memset(&a, 0, sizeof(a));
				a.reason = EVAL_R_INVALID_REQUEST;
			} else {
				sr.req.explain = 1;
				eval_decide(w, &sr.req, &a);
				why_check(w, &sr.req, &a, files[i], id);
			}
			ed = jstr(exp, "Decision");
			er = jstr(exp, "Reason");
			m = NULL;
			json_object_object_get_ex(exp, "Matched", &m);
			why[0] = '\0';
			if (strcmp(ed, eval_decision_name(a.decision)) != 0 ||
			    strcmp(er, eval_reason_name(a.reason)) != 0)
				snprintf(why, sizeof(why), "expected %s %s, "
				    "got %s %s%s%s", ed, er,
				    eval_decision_name(a.decision),
				    eval_reason_name(a.reason),
				    bad ? ": " : "", bad ? err : "");
			else if (!matched_equal(m, &a, why, sizeof(why)))
				;
			else {
				fpass++;
				continue;
			}
			failed++;
			print_message("# FAIL %s %s: %s (%s)\n", files[i], id,
			    why, jstr(c, "Why"));
		}
		print_message("# %s: %zu/%zu cases pass\n", files[i], fpass,
		    json_object_array_length(cases));
		world_unref(w);
		json_object_put(f);
	}
	print_message("# conformance: %zu/%zu cases pass\n", total - failed,
	    total);
	for (i = 0; i < nf; i++)
		free(files[i]);
	free(files);
	free(dir);
	assert_true(total >= 150);
	assert_int_equal(failed, 0);
	assert_int_equal(why_failed, 0);
}

static void
test_invalid_bundles(void **state)
{
	char			*dir, **files, *gp[256];
	struct json_object	*f, *bo, *errs, *e;
	struct policy_diags	 d;
	struct bundle		*b;
	const char		*text, *ep, *ec;
	size_t			 nf, i, j, k, ng, failed = 0;
	int			 ok, rc;

	assert_non_null(dir = conf_dir("/invalid-bundles"));
	nf = conf_files(dir, &files);
	assert_true(nf > 0);
	for (i = 0; i < nf; i++) {
		f = read_json(dir, files[i]);
		if (json_object_object_get_ex(f, "Bundle", &bo))
			text = json_object_to_json_string_ext(bo,
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE);
		else
			text = jstr(f, "BundleText");
		assert_non_null(text);
		assert_true(json_object_object_get_ex(f, "Errors", &errs));
		policy_diags_init(&d);
		b = NULL;
		rc = bundle_parse(text, strlen(text), 0, &b, &d);
		ok = rc == -1 && b == NULL;
		/* The distinct paths reported. */
		ng = 0;
		for (j = 0; j < d.n && ng < 256; j++) {
			for (k = 0; k < ng; k++)
				if (strcmp(gp[k], d.v[j].path) == 0)
					break;
			if (k == ng)
				gp[ng++] = d.v[j].path;
		}
		if (ng != json_object_array_length(errs))
			ok = 0;
		for (j = 0; ok && j < json_object_array_length(errs); j++) {
			e = json_object_array_get_idx(errs, j);
			ep = jstr(e, "Path");
			ec = jstr(e, "Code");
			for (k = 0; k < d.n; k++)
				if (strcmp(d.v[k].path, ep) == 0 &&
				    (ec == NULL ||
				    strcmp(d.v[k].code, ec) == 0))
					break;
			if (k == d.n)
				ok = 0;
		}
		if (!ok) {
			failed++;
			print_message("# FAIL %s (%s): expected %s; got:\n",
			    files[i], jstr(f, "Description"),
			    json_object_to_json_string(errs));
			for (j = 0; j < d.n; j++)
				print_message("#   %s [%s] %s\n",
				    d.v[j].path, d.v[j].code, d.v[j].reason);
		}
		policy_diags_free(&d);
		bundle_free(b);
		json_object_put(f);
	}
	print_message("# invalid bundles: %zu/%zu rejected as expected\n",
	    nf - failed, nf);
	for (i = 0; i < nf; i++)
		free(files[i]);
	free(files);
	free(dir);
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_invalid_bundles),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

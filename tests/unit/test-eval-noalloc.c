/* SPDX-License-Identifier: ISC */
/*
 * test-eval-noalloc.c: eval_decide allocates nothing (issue #3: "no
 * allocation on the evaluation path").
 *
 * malloc, calloc, realloc, reallocarray, free and the aligned
 * allocators are interposed with counters (glibc supports replacing
 * them; its own internal calls, strdup's for instance, go through the
 * replacements too).  Under AddressSanitizer, which owns those symbols,
 * its malloc and free hooks count instead.  Only calls between the
 * markers count: cmocka, json-c and the bundle loader allocate freely
 * outside them.
 *
 * Inside the markers: every request of every conformance table (allow,
 * explicit and implicit deny, key-not-found, aliases, cross-account,
 * roots, every condition family, tags), with and without explain, twice
 * (the first pass fills each world's memo, the second reads it), then
 * explained by eval_decide_why (halves, and with near misses), and
 * hand-made requests that eval_decide itself finds invalid.
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

#include "engine/eval.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "policy/simreq.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NA_ASAN	1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(NA_ASAN)
#define NA_ASAN	1
#endif

static volatile int	na_on;		/* between the markers */
static volatile size_t	na_allocs, na_frees;

#define NA_BEGIN()	do { na_allocs = na_frees = 0; na_on = 1; } while (0)
#define NA_END()	do { na_on = 0; } while (0)

#ifdef NA_ASAN
void	__sanitizer_install_malloc_and_free_hooks(
	    void (*)(const volatile void *, size_t),
	    void (*)(const volatile void *));

static void
na_malloc_hook(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	if (na_on)
		na_allocs++;
}

static void
na_free_hook(const volatile void *p)
{
	(void)p;
	if (na_on)
		na_frees++;
}

static void
na_install(void)
{
	__sanitizer_install_malloc_and_free_hooks(na_malloc_hook,
	    na_free_hook);
}
#else
void	*__libc_malloc(size_t);
void	*__libc_calloc(size_t, size_t);
void	*__libc_realloc(void *, size_t);
void	*__libc_memalign(size_t, size_t);
void	*memalign(size_t, size_t);
void	 __libc_free(void *);

void *
malloc(size_t n)
{
	if (na_on)
		na_allocs++;
	return (__libc_malloc(n));
}

void *
calloc(size_t n, size_t sz)
{
	if (na_on)
		na_allocs++;
	return (__libc_calloc(n, sz));
}

void *
realloc(void *p, size_t n)
{
	if (na_on)
		na_allocs++;
	return (__libc_realloc(p, n));
}

void *
reallocarray(void *p, size_t n, size_t sz)
{
	if (na_on)
		na_allocs++;
	if (sz != 0 && n > SIZE_MAX / sz) {
		errno = ENOMEM;
		return (NULL);
	}
	return (__libc_realloc(p, n * sz));
}

void *
memalign(size_t al, size_t n)
{
	if (na_on)
		na_allocs++;
	return (__libc_memalign(al, n));
}

void *
aligned_alloc(size_t al, size_t n)
{
	if (na_on)
		na_allocs++;
	return (__libc_memalign(al, n));
}

int
posix_memalign(void **pp, size_t al, size_t n)
{
	void	*p;

	if (na_on)
		na_allocs++;
	if ((p = __libc_memalign(al, n)) == NULL)
		return (ENOMEM);
	*pp = p;
	return (0);
}

void
free(void *p)
{
	if (na_on && p != NULL)
		na_frees++;
	__libc_free(p);
}

static void
na_install(void)
{
}
#endif

/* The counters themselves: an allocation between markers is seen. */
static void
test_counter_works(void **state)
{
	void * volatile	p;

	(void)state;
	na_install();
	NA_BEGIN();
	p = malloc(32);
	free(p);
	NA_END();
	assert_int_equal(na_allocs, 1);
	assert_int_equal(na_frees, 1);
	NA_BEGIN();
	NA_END();
	assert_int_equal(na_allocs, 0);
}

struct na_file {
	struct json_object	*f;
	struct world		*w;
	struct policy_simreq	*sr;
	size_t			 n;
};

static struct world *
na_world(struct json_object *bo)
{
	struct policy_diags	 d;
	struct bundle		*b = NULL;
	struct world		*w = NULL;
	const char		*text;

	text = json_object_to_json_string_ext(bo, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	policy_diags_init(&d);
	if (bundle_parse(text, strlen(text), 0, &b, &d) == 0)
		w = bundle_to_world(b, 1, &d);
	policy_diags_free(&d);
	bundle_free(b);
	return (w);
}

/* Every conformance table's world and requests, read before counting. */
static size_t
na_load(struct na_file **out, size_t *nreq)
{
	const char	*top = getenv("top_srcdir");
	char		*dir, *p, err[256];
	struct na_file	*v = NULL;
	struct json_object *bo, *cases, *req;
	struct value_time now = { 1767225600, 0 };
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0, i, len;

	if (top == NULL)
		top = TOP_SRCDIR;
	assert_int_not_equal(asprintf(&dir, "%s/tests/conformance", top), -1);
	assert_non_null(d = opendir(dir));
	*nreq = 0;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		assert_non_null(v = reallocarray(v, n + 1, sizeof(*v)));
		assert_int_not_equal(asprintf(&p, "%s/%s", dir, de->d_name),
		    -1);
		assert_non_null(v[n].f = json_object_from_file(p));
		free(p);
		assert_true(json_object_object_get_ex(v[n].f, "Bundle", &bo));
		assert_true(json_object_object_get_ex(v[n].f, "Cases",
		    &cases));
		assert_non_null(v[n].w = na_world(bo));
		v[n].n = 0;
		assert_non_null(v[n].sr = calloc(json_object_array_length(
		    cases), sizeof(*v[n].sr)));
		for (i = 0; i < json_object_array_length(cases); i++) {
			json_object_object_get_ex(json_object_array_get_idx(
			    cases, i), "Request", &req);
			/* Invalid JSONL requests never reach the engine. */
			if (policy_simreq_parse(req, &now, &v[n].sr[v[n].n],
			    err, sizeof(err)) == 0)
				v[n].n++;
		}
		*nreq += v[n].n;
		n++;
	}
	closedir(d);
	free(dir);
	*out = v;
	return (n);
}

static void
test_decide_allocates_nothing(void **state)
{
	struct na_file		*v;
	struct eval_answer	 a;
	struct eval_request	 r;
	struct eval_ctx		 ctx[EVAL_MAX_CONTEXT + 1];
	size_t			 nf, nreq, i, j, pass, seen[3] = { 0, 0, 0 };
	size_t			 reasons = 0, explained = 0, misses = 0;
	unsigned		 rbits = 0;
	static struct eval_why	 na_why;

	(void)state;
	na_install();
	nf = na_load(&v, &nreq);
	assert_true(nf >= 10);
	assert_true(nreq >= 400);

	NA_BEGIN();
	/* Passes 4 and 5: explained (eval_decide_why), halves, then near
	 * misses: no allocation either. */
	for (pass = 0; pass < 6; pass++)
		for (i = 0; i < nf; i++)
			for (j = 0; j < v[i].n; j++) {
				v[i].sr[j].req.explain = pass & 1;
				if (pass >= 4)
					eval_decide_why(v[i].w,
					    &v[i].sr[j].req, &a, &na_why,
					    pass & 1);
				else
					eval_decide(v[i].w, &v[i].sr[j].req,
					    &a);
				seen[a.decision]++;
				rbits |= 1u << a.reason;
				explained += a.nmatched;
				misses += pass >= 4 ? na_why.nmisses : 0;
			}
	NA_END();
	assert_int_equal(na_allocs, 0);
	assert_int_equal(na_frees, 0);
	/* The requests were varied: every decision, many reasons. */
	assert_true(seen[EVAL_ALLOW] > 0 && seen[EVAL_EXPLICIT_DENY] > 0 &&
	    seen[EVAL_IMPLICIT_DENY] > 0);
	for (i = 0; i < EVAL_R_COUNT; i++)
		reasons += (rbits >> i) & 1;
	assert_true(reasons >= 9);
	assert_true(explained > 0);
	assert_true(misses > 0);

	/* Requests the engine itself finds invalid. */
	memset(&r, 0, sizeof(r));
	r.action = "kms:Encrypt";
	r.action_len = 11;
	r.resource = "acs:kms:cn-hangzhou:1192853035118888:key/x";
	r.resource_len = strlen(r.resource);
	for (i = 0; i <= EVAL_MAX_CONTEXT; i++) {
		ctx[i].key = i % 2 ? "app:a" : "APP:A";
		ctx[i].keylen = 5;
		ctx[i].value = "v";
		ctx[i].valuelen = 1;
	}
	NA_BEGIN();
	r.principal = "acs:ram::1192853035118888:nobody/x";
	r.principal_len = strlen(r.principal);
	eval_decide(v[0].w, &r, &a);
	rbits = a.reason == EVAL_R_INVALID_REQUEST;
	r.principal = "acs:ram::1192853035118888:user/ann";
	r.principal_len = strlen(r.principal);
	r.ctx = ctx;
	r.nctx = 2;			/* equal but for case */
	r.explain = 1;
	eval_decide(v[0].w, &r, &a);
	rbits += a.reason == EVAL_R_INVALID_REQUEST;
	r.nctx = EVAL_MAX_CONTEXT + 1;	/* too many */
	eval_decide(v[0].w, &r, &a);
	rbits += a.reason == EVAL_R_INVALID_REQUEST;
	NA_END();
	assert_int_equal(na_allocs, 0);
	assert_int_equal(rbits, 3);

	for (i = 0; i < nf; i++) {
		world_unref(v[i].w);
		free(v[i].sr);
		json_object_put(v[i].f);
	}
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_works),
		cmocka_unit_test(test_decide_allocates_nothing),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

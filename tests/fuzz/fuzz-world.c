/* SPDX-License-Identifier: ISC */
/*
 * fuzz-world.c: the world the decision fuzzers decide on, and the
 * invariants of a decision (fuzz-world.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eval.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "fuzz-world.h"

static struct world	*fuzz_the_world;

char *
fuzz_read_file(const char *path, size_t *lenp)
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
	buf[n] = '\0';
	*lenp = (size_t)n;
	return (buf);
}

const struct world *
fuzz_world(void)
{
	struct policy_diags	 d;
	struct bundle		*b = NULL;
	const char		*path;
	char			*text;
	size_t			 len;

	if (fuzz_the_world != NULL)
		return (fuzz_the_world);
	if ((path = getenv("KMSAUTHZ_FUZZ_BUNDLE")) == NULL)
		path = FUZZ_BUNDLE;
	if ((text = fuzz_read_file(path, &len)) == NULL) {
		fprintf(stderr, "fuzz: cannot read %s\n", path);
		abort();
	}
	policy_diags_init(&d);
	if (bundle_parse(text, len, 0, &b, &d) != 0 ||
	    (fuzz_the_world = bundle_to_world(b, 1, &d)) == NULL) {
		fprintf(stderr, "fuzz: %s: %s\n", path,
		    d.n > 0 ? d.v[0].reason : "cannot compile");
		abort();
	}
	policy_diags_free(&d);
	bundle_free(b);
	free(text);
	return (fuzz_the_world);
}

static void
fuzz_answer_ok(const struct eval_answer *a, int explain)
{
	size_t	i;

	switch (a->decision) {
	case EVAL_ALLOW:
		if (a->reason > EVAL_R_ALLOWED_AS_ACCOUNT_ROOT)
			abort();
		break;
	case EVAL_EXPLICIT_DENY:
		if (a->reason != EVAL_R_EXPLICIT_DENY)
			abort();
		break;
	case EVAL_IMPLICIT_DENY:
		if (a->reason < EVAL_R_NO_MATCHING_ALLOW ||
		    a->reason >= EVAL_R_COUNT || a->nmatched != 0)
			abort();
		break;
	default:
		abort();
	}
	if (a->nmatched > EVAL_MAX_MATCHED || (!explain && a->nmatched != 0))
		abort();
	for (i = 0; i < a->nmatched; i++)
		if (a->matched[i].name == NULL ||
		    a->matched[i].namelen == 0 ||
		    (a->matched[i].source != EVAL_SRC_KEY &&
		    a->matched[i].source != EVAL_SRC_POLICY))
			abort();
}

void
fuzz_decide(const struct world *w, struct eval_request *req,
    struct eval_answer *a)
{
	static struct eval_answer	plain;

	req->explain = 0;
	if (eval_decide(w, req, &plain) != 0)
		abort();
	fuzz_answer_ok(&plain, 0);
	req->explain = 1;
	if (eval_decide(w, req, a) != 0)
		abort();
	fuzz_answer_ok(a, 1);
	/* Explaining never changes the decision. */
	if (a->decision != plain.decision || a->reason != plain.reason ||
	    a->generation != world_generation(w))
		abort();
}

void
fuzz_diags_ok(const struct policy_diags *d, const char *prefix)
{
	size_t	i, plen = strlen(prefix);

	for (i = 0; i < d->n; i++) {
		if (d->v[i].code == NULL || d->v[i].path == NULL ||
		    d->v[i].reason == NULL || d->v[i].reason[0] == '\0' ||
		    strchr(d->v[i].reason, '\n') != NULL ||
		    strchr(d->v[i].path, '\n') != NULL ||
		    strncmp(d->v[i].path, prefix, plen) != 0)
			abort();
	}
}

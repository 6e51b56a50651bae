/* SPDX-License-Identifier: ISC */
/*
 * fuzz-simreq.c: the simulate request reader (kmsauthzctl simulate,
 * check, the conformance runner) on arbitrary bytes: one JSONL line read
 * the way ctl-simulate.c reads it (strict JSON, then
 * policy_simreq_parse), decided on the example world, answered with
 * policy_answer_json.  Invariants:
 *   - a request that fails to read has an error message and is
 *     answered IMPLICIT_DENY invalid-request, with that message;
 *   - one that reads keeps fuzz_decide's invariants;
 *   - the answer is JSON whose Decision and Reason are the decision's
 *     names, and nothing leaks (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "engine/eval.h"
#include "engine/value.h"
#include "policy/policy.h"
#include "policy/simreq.h"
#include "fuzz.h"
#include "fuzz-world.h"

#define FUZZ_SIMREQ_MAX	(64 * 1024)

static void	fuzz_answer(struct json_object *, const struct eval_answer *,
		    const char *);

static void
fuzz_answer(struct json_object *id, const struct eval_answer *a,
    const char *err)
{
	struct json_object	*o, *v;

	if ((o = policy_answer_json(id, a, 1, err)) == NULL)
		abort();
	if (!json_object_object_get_ex(o, "Decision", &v) ||
	    strcmp(json_object_get_string(v),
	    eval_decision_name(a->decision)) != 0 ||
	    !json_object_object_get_ex(o, "Reason", &v) ||
	    strcmp(json_object_get_string(v),
	    eval_reason_name(a->reason)) != 0 ||
	    (err != NULL) != json_object_object_get_ex(o, "Error", NULL) ||
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) == NULL)
		abort();
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy_simreq	 sr;
	static struct eval_answer	 a;
	const struct world		*w = fuzz_world();
	struct policy_diags		 d;
	struct json_object		*o;
	struct value_time		 now = { 1767225600, 0 };
	char				 err[256];

	if (size > FUZZ_SIMREQ_MAX)
		return (0);
	policy_diags_init(&d);
	o = policy_json_parse((const char *)data, size, POLICY_MAX_DEPTH, "",
	    &d);
	fuzz_diags_ok(&d, "");
	if ((o == NULL) == (d.n == 0))
		abort();
	policy_diags_free(&d);
	if (o == NULL)
		return (0);
	err[0] = '\0';
	if (policy_simreq_parse(o, &now, &sr, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		memset(&a, 0, sizeof(a));
		a.decision = EVAL_IMPLICIT_DENY;
		a.reason = EVAL_R_INVALID_REQUEST;
		fuzz_answer(sr.id, &a, err);
	} else {
		fuzz_decide(w, &sr.req, &a);
		fuzz_answer(sr.id, &a, NULL);
	}
	json_object_put(o);
	return (0);
}

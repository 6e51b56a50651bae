/* SPDX-License-Identifier: ISC */
/*
 * simreq.h: simulation requests and answers as JSON (kmsauthzctl
 * simulate, the conformance runner, kmsauthzctl check).
 *
 * A request is a JSON object {"Id", "Principal", "Action", "Resource",
 * "SourceIp", "Context", "CurrentTime"} (docs/bundle-format.md); an
 * answer {"Id", "Decision", "Reason", "MatchedStatements", "Error"}.
 */
#ifndef KMSAUTHZ_SIMREQ_H
#define KMSAUTHZ_SIMREQ_H

#include <stddef.h>
#include <stdint.h>

#include "engine/eval.h"
#include "engine/value.h"

struct json_object;

/*
 * A parsed request.  Its strings point into the JSON object it was read
 * from, which must outlive it.
 */
struct policy_simreq {
	struct eval_request	 req;
	struct eval_ctx		 ctx[EVAL_MAX_CONTEXT];
	struct json_object	*id;		/* NULL when absent */
};

/*
 * Read o into *out.  now: the time used when the request pins none.
 * Returns 0, or -1 with a message in err (the request is malformed:
 * answer it invalid-request with Error.Code InvalidParameter).
 * A context acs:CurrentTime pins the time when there is no CurrentTime
 * field (it must then be RFC 3339).
 */
int	policy_simreq_parse(struct json_object *o, const struct value_time *now,
	    struct policy_simreq *out, char *err, size_t errlen);

/*
 * An answer as a JSON object (the caller puts it): Id when id is not
 * NULL (taken with a new reference), Decision, Reason, then
 * MatchedStatements when explain, and Error {Code, Message} when
 * errmsg is not NULL.  NULL when out of memory.
 */
struct json_object *policy_answer_json(struct json_object *id,
	    const struct eval_answer *, int explain, const char *errmsg);

/*
 * An explanation as the JSON object of "Explanation" (src/policy/
 * why-json.c): Rule, Identity and KeyPolicy {Result, Statements,
 * Truncated}, and with full NearMisses.  NULL when out of memory.
 */
struct json_object *policy_why_json(const struct eval_why *, int full);
/* Source, Index and Sid (sid may be NULL) added to o: 0 or -1. */
int	policy_stmt_json(struct json_object *o, const char *source,
	    uint32_t index, const char *sid);

#endif

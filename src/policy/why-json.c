/* SPDX-License-Identifier: ISC */
/*
 * why-json.c: an explanation (docs/semantics.md section 4.10) as JSON,
 * for kmsauthzctl simulate, check and test.
 *
 *   "Explanation": {"Rule": RULE,
 *     "Identity": {"Result": R, "Statements": [...], "Truncated": true},
 *     "KeyPolicy": {...},
 *     "NearMisses": [{"Half", "Effect", "Source", "Index", "Sid",
 *       "Failed"}], "NearMissesTruncated": true}
 *
 * "Truncated" only when true; NearMisses only when asked (full).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "engine/eval.h"
#include "policy/simreq.h"

static int
wj_add(struct json_object *o, const char *k, struct json_object *v)
{
	if (v == NULL)
		return (-1);
	if (json_object_object_add(o, k, v) != 0) {
		json_object_put(v);
		return (-1);
	}
	return (0);
}

static int
wj_push(struct json_object *arr, struct json_object *v)
{
	if (v == NULL)
		return (-1);
	if (json_object_array_add(arr, v) != 0) {
		json_object_put(v);
		return (-1);
	}
	return (0);
}

/* One statement's Source, Index and Sid into o. */
int
policy_stmt_json(struct json_object *o, const char *source,
    uint32_t index, const char *sid)
{
	if (wj_add(o, "Source", json_object_new_string(source)) == -1 ||
	    wj_add(o, "Index", json_object_new_int64(index)) == -1 ||
	    (sid != NULL && wj_add(o, "Sid", json_object_new_string(sid)) ==
	    -1))
		return (-1);
	return (0);
}

static struct json_object *
wj_match(const struct eval_match *m)
{
	struct json_object	*o;
	char			 src[512], sid[EVAL_MAX_WHY + 520];

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	snprintf(src, sizeof(src), "%s/%.*s", m->source == EVAL_SRC_KEY ?
	    "key" : "policy", (int)m->namelen, m->name);
	if (m->sid != NULL)
		snprintf(sid, sizeof(sid), "%.*s", (int)m->sidlen, m->sid);
	if (policy_stmt_json(o, src, m->index, m->sid != NULL ? sid : NULL)
	    == -1) {
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

static struct json_object *
wj_half(const struct eval_half_why *h)
{
	struct json_object	*o, *arr;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	if (wj_add(o, "Result", json_object_new_string(
	    eval_result_name(h->result))) == -1 ||
	    (arr = json_object_new_array()) == NULL ||
	    wj_add(o, "Statements", arr) == -1)
		goto fail;
	for (i = 0; i < h->n; i++)
		if (wj_push(arr, wj_match(&h->stmt[i])) == -1)
			goto fail;
	if (h->truncated && wj_add(o, "Truncated",
	    json_object_new_boolean(1)) == -1)
		goto fail;
	return (o);
fail:
	json_object_put(o);
	return (NULL);
}

static struct json_object *
wj_miss(const struct eval_miss *m)
{
	struct json_object	*o;

	if ((o = wj_match(&m->stmt)) == NULL)
		return (NULL);
	if (wj_add(o, "Half", json_object_new_string(m->half ==
	    EVAL_HALF_KEY ? "KeyPolicy" : "Identity")) == -1 ||
	    wj_add(o, "Effect", json_object_new_string(m->deny ? "Deny" :
	    "Allow")) == -1 ||
	    wj_add(o, "Failed", json_object_new_string(m->why)) == -1) {
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

struct json_object *
policy_why_json(const struct eval_why *why, int full)
{
	struct json_object	*o, *arr;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	if (wj_add(o, "Rule", json_object_new_string(
	    eval_rule_name(why->rule))) == -1 ||
	    wj_add(o, "Identity", wj_half(&why->half[EVAL_HALF_IDENTITY])) ==
	    -1 || wj_add(o, "KeyPolicy", wj_half(&why->half[EVAL_HALF_KEY]))
	    == -1)
		goto fail;
	if (full) {
		if ((arr = json_object_new_array()) == NULL ||
		    wj_add(o, "NearMisses", arr) == -1)
			goto fail;
		for (i = 0; i < why->nmisses; i++)
			if (wj_push(arr, wj_miss(&why->miss[i])) == -1)
				goto fail;
		if (why->misses_truncated && wj_add(o, "NearMissesTruncated",
		    json_object_new_boolean(1)) == -1)
			goto fail;
	}
	return (o);
fail:
	json_object_put(o);
	return (NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * simreq.c: simulation requests and answers as JSON.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "engine/eval.h"
#include "engine/value.h"
#include "policy/simreq.h"

static int	sr_str(struct json_object *, const char *, int, const char **,
		    size_t *, char *, size_t);

/* A string field: 0 found, 1 absent (optional), -1 error. */
static int
sr_str(struct json_object *o, const char *field, int required,
    const char **sp, size_t *lenp, char *err, size_t errlen)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, field, &v)) {
		if (!required)
			return (1);
		snprintf(err, errlen, "%s is required", field);
		return (-1);
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "%s must be a string", field);
		return (-1);
	}
	*sp = json_object_get_string(v);
	*lenp = (size_t)json_object_get_string_len(v);
	return (0);
}

int
policy_simreq_parse(struct json_object *o, const struct value_time *now,
    struct policy_simreq *out, char *err, size_t errlen)
{
	static const char *const fields[] = { "Id", "Principal", "Action",
	    "Resource", "SourceIp", "Context", "CurrentTime", NULL };
	struct eval_request	*r = &out->req;
	struct json_object	*ctx;
	struct value_ip		 ip;
	const char		*s, *tstr = NULL;
	size_t			 len, i, j, n = 0, tlen = 0;
	int			 rc;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "a request is a JSON object");
		return (-1);
	}
	json_object_object_get_ex(o, "Id", &out->id);
	json_object_object_foreach(o, k, v) {
		(void)v;
		for (i = 0; fields[i] != NULL; i++)
			if (strcmp(k, fields[i]) == 0)
				break;
		if (fields[i] == NULL) {
			snprintf(err, errlen, "unknown field %.64s", k);
			return (-1);
		}
	}
	if (sr_str(o, "Principal", 1, &r->principal, &r->principal_len, err,
	    errlen) == -1 ||
	    sr_str(o, "Action", 1, &r->action, &r->action_len, err,
	    errlen) == -1 ||
	    sr_str(o, "Resource", 1, &r->resource, &r->resource_len, err,
	    errlen) == -1)
		return (-1);
	if (eval_principal_valid(r->principal, r->principal_len) == -1) {
		snprintf(err, errlen, "Principal %.128s is not "
		    "acs:ram::ACCOUNT:root, user/NAME or role/NAME",
		    r->principal);
		return (-1);
	}
	if (eval_resource_valid(r->resource, r->resource_len) == -1) {
		snprintf(err, errlen, "Resource %.128s is not an ARN "
		    "(acs:SERVICE:REGION:ACCOUNT:RESOURCE, e.g. "
		    "acs:kms:REGION:ACCOUNT:key/KEY-ID) nor *", r->resource);
		return (-1);
	}
	if ((rc = sr_str(o, "SourceIp", 0, &s, &len, err, errlen)) == -1)
		return (-1);
	if (rc == 0) {
		if (value_ip_parse(s, len, 0, &r->source_ip) == -1) {
			snprintf(err, errlen, "SourceIp %.64s is not an IPv4 "
			    "or IPv6 address", s);
			return (-1);
		}
		r->has_source_ip = 1;
	}
	if (json_object_object_get_ex(o, "Context", &ctx)) {
		if (!json_object_is_type(ctx, json_type_object)) {
			snprintf(err, errlen, "Context must be an object");
			return (-1);
		}
		json_object_object_foreach(ctx, ck, cv) {
			if (n == EVAL_MAX_CONTEXT) {
				snprintf(err, errlen, "more than %d context "
				    "entries", EVAL_MAX_CONTEXT);
				return (-1);
			}
			switch (json_object_get_type(cv)) {
			case json_type_string:
				s = json_object_get_string(cv);
				len = (size_t)json_object_get_string_len(cv);
				break;
			case json_type_boolean:
				s = json_object_get_boolean(cv) ? "true" :
				    "false";
				len = strlen(s);
				break;
			case json_type_int:
			case json_type_double:
				/* As written (json-c keeps a double's text). */
				s = json_object_to_json_string_ext(cv,
				    JSON_C_TO_STRING_PLAIN);
				if (s == NULL) {
					snprintf(err, errlen, "out of memory");
					return (-1);
				}
				len = strlen(s);
				break;
			default:
				snprintf(err, errlen, "context value %.64s "
				    "must be a string, number or boolean", ck);
				return (-1);
			}
			for (j = 0; j < n; j++) {
				if (strlen(out->ctx[j].key) == strlen(ck) &&
				    strcasecmp(out->ctx[j].key, ck) == 0) {
					snprintf(err, errlen, "duplicate context "
					    "names %.64s and %.64s",
					    out->ctx[j].key, ck);
					return (-1);
				}
			}
			/* Without SourceIp, the context's is the address:
			 * it must be one (the engine refuses it too). */
			if (!r->has_source_ip &&
			    strcasecmp(ck, "acs:SourceIp") == 0 &&
			    value_ip_parse(s, len, 0, &ip) == -1) {
				snprintf(err, errlen, "context acs:SourceIp "
				    "%.64s is not an IPv4 or IPv6 address", s);
				return (-1);
			}
			out->ctx[n].key = ck;
			out->ctx[n].keylen = strlen(ck);
			out->ctx[n].value = s;
			out->ctx[n].valuelen = len;
			if (strcasecmp(ck, "acs:CurrentTime") == 0) {
				tstr = s;
				tlen = len;
			}
			n++;
		}
	}
	r->ctx = out->ctx;
	r->nctx = n;
	if ((rc = sr_str(o, "CurrentTime", 0, &s, &len, err, errlen)) == -1)
		return (-1);
	if (rc == 0) {
		if (value_time_parse(s, len, &r->now) == -1) {
			snprintf(err, errlen, "CurrentTime %.64s is not an "
			    "RFC 3339 time", s);
			return (-1);
		}
	} else if (tstr != NULL) {
		if (value_time_parse(tstr, tlen, &r->now) == -1) {
			snprintf(err, errlen, "context acs:CurrentTime %.64s "
			    "is not an RFC 3339 time", tstr);
			return (-1);
		}
	} else
		r->now = *now;
	return (0);
}

static int
sr_add(struct json_object *o, const char *k, struct json_object *v)
{
	if (v == NULL)
		return (-1);
	if (json_object_object_add(o, k, v) != 0) {
		json_object_put(v);
		return (-1);
	}
	return (0);
}

struct json_object *
policy_answer_json(struct json_object *id, const struct eval_answer *a,
    int explain, const char *errmsg)
{
	struct json_object	*o, *arr, *m, *e;
	char			 src[512];
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	if (id != NULL && sr_add(o, "Id", json_object_get(id)) == -1)
		goto fail;
	if (sr_add(o, "Decision", json_object_new_string(
	    eval_decision_name(a->decision))) == -1 ||
	    sr_add(o, "Reason", json_object_new_string(
	    eval_reason_name(a->reason))) == -1)
		goto fail;
	if (explain) {
		if ((arr = json_object_new_array()) == NULL ||
		    sr_add(o, "MatchedStatements", arr) == -1)
			goto fail;
		for (i = 0; i < a->nmatched; i++) {
			const struct eval_match *mt = &a->matched[i];

			snprintf(src, sizeof(src), "%s/%.*s",
			    mt->source == EVAL_SRC_KEY ? "key" : "policy",
			    (int)mt->namelen, mt->name);
			if ((m = json_object_new_object()) == NULL ||
			    json_object_array_add(arr, m) != 0 ||
			    sr_add(m, "Source",
			    json_object_new_string(src)) == -1 ||
			    sr_add(m, "Index",
			    json_object_new_int64(mt->index)) == -1 ||
			    (mt->sid != NULL && sr_add(m, "Sid",
			    json_object_new_string_len(mt->sid,
			    (int)mt->sidlen)) == -1))
				goto fail;
		}
		if (a->truncated && sr_add(o, "MatchedTruncated",
		    json_object_new_boolean(1)) == -1)
			goto fail;
	}
	if (errmsg != NULL) {
		if ((e = json_object_new_object()) == NULL ||
		    sr_add(o, "Error", e) == -1 ||
		    sr_add(e, "Code",
		    json_object_new_string("InvalidParameter")) == -1 ||
		    sr_add(e, "Message", json_object_new_string(errmsg)) == -1)
			goto fail;
	}
	return (o);
fail:
	json_object_put(o);
	return (NULL);
}

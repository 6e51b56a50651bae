/* SPDX-License-Identifier: ISC */
/*
 * policy-compile.c: a validated policy document (json-c tree) to a
 * compiled policy.  The validator has checked every rule already; the
 * compiler still checks every type it reads and fails (NULL) rather
 * than guess, so an unvalidated tree can never compile into something
 * more permissive than it says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "engine/cpolicy.h"
#include "policy/policy-compile.h"
#include "policy/policy.h"

static int	pc_strings(struct cpolicy *, struct json_object *, int,
		    int (*)(struct cpolicy *, int, const char *, size_t));
static int	pc_principal(struct cpolicy *, int, const char *, size_t);
static int	pc_condition(struct cpolicy *, struct json_object *);
static int	pc_value(struct cpolicy *, struct json_object *);
static int	pc_statement(struct cpolicy *, enum policy_kind,
		    struct json_object *);

/* A string or a non-empty array of strings, each given to add. */
static int
pc_strings(struct cpolicy *cp, struct json_object *v, int negated,
    int (*add)(struct cpolicy *, int, const char *, size_t))
{
	struct json_object	*e;
	size_t			 i, n;

	if (json_object_is_type(v, json_type_string))
		return (add(cp, negated, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)));
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) == 0)
		return (-1);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string) ||
		    add(cp, negated, json_object_get_string(e),
		    (size_t)json_object_get_string_len(e)) == -1)
			return (-1);
	}
	return (0);
}

static int
pc_principal(struct cpolicy *cp, int negated, const char *s, size_t len)
{
	return (cpolicy_stmt_principal(cp, s, len));
}

/* A condition value as text: strings as they are, numbers as written,
 * booleans as true/false. */
static int
pc_value(struct cpolicy *cp, struct json_object *v)
{
	const char	*s;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return (cpolicy_cond_value(cp, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)));
	case json_type_int:
	case json_type_double:
		if ((s = json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN)) == NULL)
			return (-1);
		return (cpolicy_cond_value(cp, s, strlen(s)));
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "true" : "false";
		return (cpolicy_cond_value(cp, s, strlen(s)));
	default:
		return (-1);
	}
}

static int
pc_condition(struct cpolicy *cp, struct json_object *cond)
{
	struct json_object	*e;
	enum cpolicy_op		 op;
	size_t			 i, n;

	if (!json_object_is_type(cond, json_type_object))
		return (-1);
	json_object_object_foreach(cond, opname, keys) {
		if (cpolicy_op_parse(opname, strlen(opname), &op) == -1 ||
		    !json_object_is_type(keys, json_type_object))
			return (-1);
		json_object_object_foreach(keys, key, vals) {
			if (cpolicy_stmt_cond(cp, op, key, strlen(key)) == -1)
				return (-1);
			if (json_object_is_type(vals, json_type_array)) {
				if ((n = json_object_array_length(vals)) == 0)
					return (-1);
				for (i = 0; i < n; i++) {
					e = json_object_array_get_idx(vals, i);
					if (pc_value(cp, e) == -1)
						return (-1);
				}
			} else if (pc_value(cp, vals) == -1)
				return (-1);
		}
	}
	return (0);
}

static int
pc_statement(struct cpolicy *cp, enum policy_kind kind, struct json_object *st)
{
	struct json_object	*v, *sid = NULL, *ram = NULL;
	const char		*eff;
	enum cpolicy_effect	 effect;

	if (!json_object_is_type(st, json_type_object) ||
	    !json_object_object_get_ex(st, "Effect", &v) ||
	    !json_object_is_type(v, json_type_string))
		return (-1);
	eff = json_object_get_string(v);
	if (strcmp(eff, "Allow") == 0)
		effect = CPOLICY_ALLOW;
	else if (strcmp(eff, "Deny") == 0)
		effect = CPOLICY_DENY;
	else
		return (-1);
	if (json_object_object_get_ex(st, "Sid", &sid) &&
	    !json_object_is_type(sid, json_type_string))
		return (-1);
	if (cpolicy_add_stmt(cp, effect, sid ? json_object_get_string(sid) :
	    NULL, sid ? (size_t)json_object_get_string_len(sid) : 0) == -1)
		return (-1);
	if (json_object_object_get_ex(st, "Action", &v)) {
		if (pc_strings(cp, v, 0, cpolicy_stmt_action) == -1)
			return (-1);
	} else if (json_object_object_get_ex(st, "NotAction", &v)) {
		if (pc_strings(cp, v, 1, cpolicy_stmt_action) == -1)
			return (-1);
	} else
		return (-1);
	if (json_object_object_get_ex(st, "Resource", &v)) {
		if (pc_strings(cp, v, 0, cpolicy_stmt_resource) == -1)
			return (-1);
	} else if (kind == POLICY_KIND_RAM &&
	    json_object_object_get_ex(st, "NotResource", &v)) {
		if (pc_strings(cp, v, 1, cpolicy_stmt_resource) == -1)
			return (-1);
	} else
		return (-1);
	if (kind == POLICY_KIND_KEY) {
		if (!json_object_object_get_ex(st, "Principal", &v) ||
		    !json_object_is_type(v, json_type_object))
			return (-1);
		/* The object's only key is RAM, in any case. */
		json_object_object_foreach(v, pk, pv) {
			if (strcasecmp(pk, "RAM") != 0 || ram != NULL)
				return (-1);
			ram = pv;
		}
		if (ram == NULL || pc_strings(cp, ram, 0, pc_principal) == -1)
			return (-1);
	} else if (json_object_object_get_ex(st, "Principal", &v))
		return (-1);
	if (json_object_object_get_ex(st, "Condition", &v) &&
	    pc_condition(cp, v) == -1)
		return (-1);
	return (0);
}

struct cpolicy *
policy_compile(enum policy_kind kind, const struct json_object *cdoc)
{
	struct json_object	*doc = (struct json_object *)cdoc, *stmts;
	struct cpolicy		*cp;
	size_t			 i, n;

	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "Statement", &stmts) ||
	    !json_object_is_type(stmts, json_type_array) ||
	    (n = json_object_array_length(stmts)) == 0)
		return (NULL);
	if ((cp = cpolicy_new(kind == POLICY_KIND_KEY ? CPOLICY_KEY :
	    CPOLICY_RAM)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		if (pc_statement(cp, kind, json_object_array_get_idx(stmts,
		    i)) == -1)
			goto fail;
	if (cpolicy_finish(cp) == -1)
		goto fail;
	return (cp);
fail:
	cpolicy_unref(cp);
	return (NULL);
}

int
policy_compile_text(enum policy_kind kind, const char *text, size_t len,
    size_t max_bytes, const char *path_prefix, struct cpolicy **cpp,
    struct policy_diags *diags)
{
	struct json_object	*doc = NULL;
	struct cpolicy		*cp;

	if (policy_validate(kind, text, len, max_bytes, path_prefix, &doc,
	    diags) == -1)
		return (-1);
	cp = policy_compile(kind, doc);
	json_object_put(doc);
	if (cp == NULL) {
		(void)policy_diags_add(diags, "InternalFailure", path_prefix,
		    "the policy could not be compiled (out of memory)");
		return (-1);
	}
	*cpp = cp;
	return (0);
}

char *
policy_default_key_policy(const char *account)
{
	char	*s;

	if (asprintf(&s, "{\"Version\":\"1\",\"Statement\":[{\"Sid\":"
	    "\"kms default key policy\",\"Effect\":\"Allow\",\"Principal\":"
	    "{\"RAM\":[\"acs:ram::%s:*\"]},\"Action\":[\"kms:*\"],"
	    "\"Resource\":[\"*\"]}]}", account) == -1)
		return (NULL);
	return (s);
}

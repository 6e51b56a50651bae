/* SPDX-License-Identifier: ISC */
/*
 * policy-validate.c: the rules of docs/semantics.md sections 1 to 3 for
 * key policies and RAM identity policies.  Every violation is reported,
 * with the JSON path of its place, not only the first.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "engine/value.h"
#include "policy/policy.h"
#include "policy/policy-int.h"

#define PV_SID_MAX	128

enum pv_family {
	PV_STRING,
	PV_NUMBER,
	PV_DATE,
	PV_BOOL,
	PV_IP
};

static const struct pv_op {
	const char	*name;
	enum pv_family	 family;
} pv_ops[] = {
	{ "StringEquals", PV_STRING },
	{ "StringNotEquals", PV_STRING },
	{ "StringEqualsIgnoreCase", PV_STRING },
	{ "StringNotEqualsIgnoreCase", PV_STRING },
	{ "StringLike", PV_STRING },
	{ "StringNotLike", PV_STRING },
	{ "NumericEquals", PV_NUMBER },
	{ "NumericNotEquals", PV_NUMBER },
	{ "NumericLessThan", PV_NUMBER },
	{ "NumericLessThanEquals", PV_NUMBER },
	{ "NumericGreaterThan", PV_NUMBER },
	{ "NumericGreaterThanEquals", PV_NUMBER },
	{ "DateEquals", PV_DATE },
	{ "DateNotEquals", PV_DATE },
	{ "DateLessThan", PV_DATE },
	{ "DateLessThanEquals", PV_DATE },
	{ "DateGreaterThan", PV_DATE },
	{ "DateGreaterThanEquals", PV_DATE },
	{ "Bool", PV_BOOL },
	{ "IpAddress", PV_IP },
	{ "NotIpAddress", PV_IP },
};
#define PV_NOPS (sizeof(pv_ops) / sizeof(pv_ops[0]))

static const char *const pv_doc_elems[] = { "Version", "Statement", NULL };
static const char *const pv_stmt_elems[] = { "Sid", "Effect", "Action",
	"NotAction", "Resource", "NotResource", "Principal", "Condition",
	NULL };

struct pv {
	enum policy_kind	 kind;
	struct policy_diags	*d;
	struct policy_path	 path;
	int			 oom;
};

/* What a statement holds, for the checks made after reading it. */
struct pv_stmt {
	int	effect;
	int	action;
	int	notaction;
	int	resource;
	int	notresource;
	int	principal;
};

typedef void	(*pv_elem_fn)(struct pv *, const char *, size_t);

static void	pv_err(struct pv *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	pv_err_at(struct pv *, const char *, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static const char *pv_type(struct json_object *);
static const char *pv_similar(const char *, const char *const *);
static void	pv_unknown(struct pv *, const char *, const char *const *,
		    const char *);
static void	pv_document(struct pv *, struct json_object *);
static void	pv_version(struct pv *, struct json_object *);
static void	pv_statements(struct pv *, struct json_object *);
static void	pv_statement(struct pv *, struct json_object *);
static void	pv_sid(struct pv *, struct json_object *);
static void	pv_effect(struct pv *, struct json_object *);
static void	pv_strings(struct pv *, struct json_object *, const char *,
		    pv_elem_fn);
static void	pv_action_elem(struct pv *, const char *, size_t);
static void	pv_key_action_elem(struct pv *, const char *, size_t);
static void	pv_resource_elem(struct pv *, const char *, size_t);
static void	pv_key_resource(struct pv *, struct json_object *);
static void	pv_principal(struct pv *, struct json_object *);
static void	pv_principal_elem(struct pv *, const char *, size_t);
static void	pv_condition(struct pv *, struct json_object *);
static int	pv_key_cmp(const void *, const void *);
static void	pv_operator(struct pv *, const struct pv_op *,
		    struct json_object *);
static void	pv_cond_value(struct pv *, const struct pv_op *,
		    struct json_object *);
static void	pv_cond_number(struct pv *, struct json_object *);

/* A violation at the current path. */
static void
pv_err(struct pv *pv, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1) {
		va_end(ap);
		pv->oom = 1;
		return;
	}
	va_end(ap);
	if (policy_diags_add(pv->d, POLICY_CODE_INVALID,
	    policy_path_str(&pv->path), "%s", msg) == -1)
		pv->oom = 1;
	free(msg);
}

/* A violation at the current path extended by key (a missing element). */
static void
pv_err_at(struct pv *pv, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	size_t	 old;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1) {
		va_end(ap);
		pv->oom = 1;
		return;
	}
	va_end(ap);
	old = policy_path_key(&pv->path, key, strlen(key));
	if (policy_diags_add(pv->d, POLICY_CODE_INVALID,
	    policy_path_str(&pv->path), "%s", msg) == -1)
		pv->oom = 1;
	policy_path_truncate(&pv->path, old);
	free(msg);
}

static const char *
pv_type(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return ("null");
	case json_type_boolean:
		return ("a boolean");
	case json_type_int:
	case json_type_double:
		return ("a number");
	case json_type_string:
		return ("a string");
	case json_type_array:
		return ("an array");
	case json_type_object:
		return ("an object");
	}
	return ("a value");
}

/* The name in list equal to s but for ASCII case, or NULL. */
static const char *
pv_similar(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(s, *list) == 0)
			return (*list);
	return (NULL);
}

static void
pv_unknown(struct pv *pv, const char *key, const char *const *known,
    const char *where)
{
	char		 q[POLICY_QUOTE_MAX];
	const char	*like;

	policy_quote(q, sizeof(q), key, strlen(key));
	if ((like = pv_similar(key, known)) != NULL)
		pv_err(pv, "unknown element %s in %s: element names are "
		    "case-sensitive, did you mean %s?", q, where, like);
	else if (strcmp(where, "a statement") == 0 &&
	    strcmp(key, "NotPrincipal") == 0)
		pv_err(pv, "NotPrincipal is not supported");
	else
		pv_err(pv, "unknown element %s in %s", q, where);
}

static void
pv_document(struct pv *pv, struct json_object *doc)
{
	int	version = 0, statement = 0;
	size_t	old;

	if (!json_object_is_type(doc, json_type_object)) {
		pv_err(pv, "a policy document must be a JSON object, not %s",
		    pv_type(doc));
		return;
	}
	json_object_object_foreach(doc, key, val) {
		old = policy_path_key(&pv->path, key, strlen(key));
		if (strcmp(key, "Version") == 0) {
			version = 1;
			pv_version(pv, val);
		} else if (strcmp(key, "Statement") == 0) {
			statement = 1;
			pv_statements(pv, val);
		} else
			pv_unknown(pv, key, pv_doc_elems, "the document");
		policy_path_truncate(&pv->path, old);
	}
	if (!version)
		pv_err_at(pv, "Version", "the required element Version is "
		    "missing (it must be \"1\")");
	if (!statement)
		pv_err_at(pv, "Statement", "the required element Statement "
		    "is missing (an array of statements)");
}

static void
pv_version(struct pv *pv, struct json_object *v)
{
	char	q[POLICY_QUOTE_MAX];

	if (!json_object_is_type(v, json_type_string)) {
		pv_err(pv, "Version must be the string \"1\", not %s",
		    pv_type(v));
		return;
	}
	if (strcmp(json_object_get_string(v), "1") != 0) {
		policy_quote(q, sizeof(q), json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
		pv_err(pv, "Version must be \"1\", not %s", q);
	}
}

static void
pv_statements(struct pv *pv, struct json_object *v)
{
	size_t	i, n, old;

	if (json_object_is_type(v, json_type_object)) {
		pv_err(pv, "Statement must be an array of statements; "
		    "write a single statement as [{...}]");
		return;
	}
	if (!json_object_is_type(v, json_type_array)) {
		pv_err(pv, "Statement must be an array of statements, not %s",
		    pv_type(v));
		return;
	}
	if ((n = json_object_array_length(v)) == 0) {
		pv_err(pv, "Statement must not be empty");
		return;
	}
	for (i = 0; i < n; i++) {
		old = policy_path_index(&pv->path, i);
		pv_statement(pv, json_object_array_get_idx(v, i));
		policy_path_truncate(&pv->path, old);
	}
}

static void
pv_statement(struct pv *pv, struct json_object *st)
{
	struct pv_stmt	s;
	size_t		old;

	if (!json_object_is_type(st, json_type_object)) {
		pv_err(pv, "a statement must be an object, not %s",
		    pv_type(st));
		return;
	}
	memset(&s, 0, sizeof(s));
	json_object_object_foreach(st, key, val) {
		old = policy_path_key(&pv->path, key, strlen(key));
		if (strcmp(key, "Sid") == 0)
			pv_sid(pv, val);
		else if (strcmp(key, "Effect") == 0) {
			s.effect = 1;
			pv_effect(pv, val);
		} else if (strcmp(key, "Action") == 0 ||
		    strcmp(key, "NotAction") == 0) {
			if (key[0] == 'A')
				s.action = 1;
			else
				s.notaction = 1;
			pv_strings(pv, val, key, pv->kind == POLICY_KIND_KEY ?
			    pv_key_action_elem : pv_action_elem);
		} else if (strcmp(key, "Resource") == 0) {
			s.resource = 1;
			if (pv->kind == POLICY_KIND_KEY)
				pv_key_resource(pv, val);
			else
				pv_strings(pv, val, key, pv_resource_elem);
		} else if (strcmp(key, "NotResource") == 0) {
			s.notresource = 1;
			if (pv->kind == POLICY_KIND_KEY)
				pv_err(pv, "NotResource is not allowed in a "
				    "key policy (use Resource \"*\")");
			else
				pv_strings(pv, val, key, pv_resource_elem);
		} else if (strcmp(key, "Principal") == 0) {
			s.principal = 1;
			if (pv->kind == POLICY_KIND_KEY)
				pv_principal(pv, val);
			else
				pv_err(pv, "Principal is not allowed in a RAM "
				    "policy (it applies to the identities it "
				    "is attached to)");
		} else if (strcmp(key, "Condition") == 0)
			pv_condition(pv, val);
		else
			pv_unknown(pv, key, pv_stmt_elems, "a statement");
		policy_path_truncate(&pv->path, old);
	}
	if (!s.effect)
		pv_err_at(pv, "Effect", "the required element Effect is "
		    "missing (\"Allow\" or \"Deny\")");
	if (s.action && s.notaction)
		pv_err_at(pv, "NotAction", "a statement has Action or "
		    "NotAction, not both");
	else if (!s.action && !s.notaction)
		pv_err_at(pv, "Action", "the statement needs Action or "
		    "NotAction");
	if (pv->kind == POLICY_KIND_KEY) {
		if (!s.resource)
			pv_err_at(pv, "Resource", "the required element "
			    "Resource is missing (a key policy has "
			    "Resource \"*\")");
		if (!s.principal)
			pv_err_at(pv, "Principal", "the required element "
			    "Principal is missing (a key policy names who "
			    "it applies to: {\"RAM\": [...]})");
	} else {
		if (s.resource && s.notresource)
			pv_err_at(pv, "NotResource", "a statement has "
			    "Resource or NotResource, not both");
		else if (!s.resource && !s.notresource)
			pv_err_at(pv, "Resource", "the statement needs "
			    "Resource or NotResource");
	}
}

static void
pv_sid(struct pv *pv, struct json_object *v)
{
	const unsigned char	*s;
	size_t			 len, i, nchar = 0;
	unsigned char		 c;

	if (!json_object_is_type(v, json_type_string)) {
		pv_err(pv, "Sid must be a string, not %s", pv_type(v));
		return;
	}
	s = (const unsigned char *)json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c & 0xc0) != 0x80)
			nchar++;
		if (pv->kind == POLICY_KIND_KEY) {
			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || (c != '\0' &&
			    strchr(" _/+=.@-", c) != NULL))
				continue;
			if (c < 0x80 && c > 0x20 && c < 0x7f)
				pv_err(pv, "a key policy Sid may contain only "
				    "A-Z a-z 0-9 space and _ / + = . @ -, "
				    "not '%c'", c);
			else
				pv_err(pv, "a key policy Sid may contain only "
				    "A-Z a-z 0-9 space and _ / + = . @ -");
			return;
		}
		/* RAM: printable; C0, DEL and C1 controls are not. */
		if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < len &&
		    s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)) {
			pv_err(pv, "Sid may contain only printable characters "
			    "(no control characters)");
			return;
		}
	}
	if (nchar > PV_SID_MAX)
		pv_err(pv, "Sid is %zu characters long; at most %d are "
		    "allowed", nchar, PV_SID_MAX);
}

static void
pv_effect(struct pv *pv, struct json_object *v)
{
	char		 q[POLICY_QUOTE_MAX];
	const char	*s;

	if (!json_object_is_type(v, json_type_string)) {
		pv_err(pv, "Effect must be \"Allow\" or \"Deny\", not %s",
		    pv_type(v));
		return;
	}
	s = json_object_get_string(v);
	if (strcmp(s, "Allow") == 0 || strcmp(s, "Deny") == 0)
		return;
	policy_quote(q, sizeof(q), s, (size_t)json_object_get_string_len(v));
	if (strcasecmp(s, "Allow") == 0 || strcasecmp(s, "Deny") == 0)
		pv_err(pv, "Effect must be \"Allow\" or \"Deny\" (case "
		    "matters), not %s", q);
	else
		pv_err(pv, "Effect must be \"Allow\" or \"Deny\", not %s", q);
}

/*
 * A string or a non-empty array of strings; each string is checked by
 * fn at its own path.
 */
static void
pv_strings(struct pv *pv, struct json_object *v, const char *what,
    pv_elem_fn fn)
{
	struct json_object	*e;
	size_t			 i, n, old;

	if (json_object_is_type(v, json_type_string)) {
		fn(pv, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
		return;
	}
	if (!json_object_is_type(v, json_type_array)) {
		pv_err(pv, "%s must be a string or an array of strings, not %s",
		    what, pv_type(v));
		return;
	}
	if ((n = json_object_array_length(v)) == 0) {
		pv_err(pv, "%s must not be an empty array", what);
		return;
	}
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		old = policy_path_index(&pv->path, i);
		if (json_object_is_type(e, json_type_string))
			fn(pv, json_object_get_string(e),
			    (size_t)json_object_get_string_len(e));
		else
			pv_err(pv, "each %s value must be a string, not %s",
			    what, pv_type(e));
		policy_path_truncate(&pv->path, old);
	}
}

static void
pv_action_elem(struct pv *pv, const char *s, size_t len)
{
	if (len == 0)
		pv_err(pv, "an action must not be empty (use \"service:Name\" "
		    "or a pattern such as \"kms:*\")");
}

static void
pv_key_action_elem(struct pv *pv, const char *s, size_t len)
{
	char	q[POLICY_QUOTE_MAX];

	if (len >= 4 && strncasecmp(s, "kms:", 4) == 0)
		return;
	policy_quote(q, sizeof(q), s, len);
	if (len == 1 && s[0] == '*')
		pv_err(pv, "in a key policy every action starts with \"kms:\"; "
		    "write \"kms:*\" for all actions, not \"*\"");
	else
		pv_err(pv, "in a key policy every action starts with \"kms:\", "
		    "not %s", q);
}

static void
pv_resource_elem(struct pv *pv, const char *s, size_t len)
{
	if (len == 0)
		pv_err(pv, "a resource must not be empty (use an ARN or a "
		    "pattern such as \"acs:kms:*:*:key/*\")");
}

static void
pv_key_resource(struct pv *pv, struct json_object *v)
{
	struct json_object	*e;

	if (json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) == 1) {
		e = json_object_array_get_idx(v, 0);
		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), "*") == 0)
			return;
	} else if (json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "*") == 0)
		return;
	pv_err(pv, "a key policy's Resource may only be \"*\" or [\"*\"] "
	    "(the key itself)");
}

static void
pv_principal(struct pv *pv, struct json_object *v)
{
	char	q[POLICY_QUOTE_MAX];
	int	ram = 0;
	size_t	old;

	if (!json_object_is_type(v, json_type_object)) {
		pv_err(pv, "Principal must be an object {\"RAM\": [...]}, not "
		    "%s", pv_type(v));
		return;
	}
	json_object_object_foreach(v, key, val) {
		old = policy_path_key(&pv->path, key, strlen(key));
		if (strcasecmp(key, "RAM") != 0) {
			policy_quote(q, sizeof(q), key, strlen(key));
			pv_err(pv, "unknown principal type %s: the only key "
			    "of Principal is RAM", q);
		} else if (ram)
			pv_err(pv, "Principal has RAM twice (the key is "
			    "matched case-insensitively)");
		else {
			ram = 1;
			pv_strings(pv, val, "RAM", pv_principal_elem);
		}
		policy_path_truncate(&pv->path, old);
	}
	if (!ram)
		pv_err(pv, "Principal must have the key RAM with the "
		    "principals the statement applies to");
}

static void
pv_principal_elem(struct pv *pv, const char *s, size_t len)
{
	if (len == 0)
		pv_err(pv, "a principal must not be empty (e.g. "
		    "\"acs:ram::1234567890123456:*\")");
}

static const struct pv_op *
pv_op_find(const char *name)
{
	size_t	i;

	for (i = 0; i < PV_NOPS; i++)
		if (strcmp(pv_ops[i].name, name) == 0)
			return (&pv_ops[i]);
	return (NULL);
}

static void
pv_op_unknown(struct pv *pv, const char *name)
{
	char		 q[POLICY_QUOTE_MAX];
	size_t		 i, len = strlen(name);

	policy_quote(q, sizeof(q), name, len);
	for (i = 0; i < PV_NOPS; i++)
		if (strcasecmp(pv_ops[i].name, name) == 0) {
			pv_err(pv, "unknown condition operator %s: operators "
			    "are case-sensitive, did you mean %s?", q,
			    pv_ops[i].name);
			return;
		}
	if (len > 8 && strcmp(name + len - 8, "IfExists") == 0)
		pv_err(pv, "unknown condition operator %s: IfExists "
		    "operators are not supported", q);
	else if (strncmp(name, "ForAnyValue:", 12) == 0 ||
	    strncmp(name, "ForAllValues:", 13) == 0)
		pv_err(pv, "unknown condition operator %s: set operators "
		    "(ForAnyValue:, ForAllValues:) are not supported", q);
	else if (strcmp(name, "Null") == 0)
		pv_err(pv, "the condition operator \"Null\" is not supported");
	else
		pv_err(pv, "unknown condition operator %s", q);
}

static void
pv_condition(struct pv *pv, struct json_object *v)
{
	const struct pv_op	*op;
	size_t			 old;

	if (!json_object_is_type(v, json_type_object)) {
		pv_err(pv, "Condition must be an object {\"Operator\": "
		    "{\"key\": value}}, not %s", pv_type(v));
		return;
	}
	if (json_object_object_length(v) == 0) {
		pv_err(pv, "Condition must not be an empty object (leave it "
		    "out instead)");
		return;
	}
	json_object_object_foreach(v, key, val) {
		old = policy_path_key(&pv->path, key, strlen(key));
		if ((op = pv_op_find(key)) == NULL)
			pv_op_unknown(pv, key);
		else
			pv_operator(pv, op, val);
		policy_path_truncate(&pv->path, old);
	}
}

/* A condition key and its place in its operator, for sorting. */
struct pv_key {
	const char	*k;
	size_t		 idx;
};

static int
pv_key_cmp(const void *a, const void *b)
{
	const struct pv_key	*x = a, *y = b;
	int			 c;

	if ((c = strcasecmp(x->k, y->k)) != 0)
		return (c);
	return (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static void
pv_operator(struct pv *pv, const struct pv_op *op, struct json_object *v)
{
	char			 q[POLICY_QUOTE_MAX];
	struct json_object	*e;
	struct lh_entry		*le;
	struct pv_key		*keys;
	const char		*key, **dupof;
	size_t			 i, n, nk, first, idx, old, old2;

	if (!json_object_is_type(v, json_type_object)) {
		pv_err(pv, "%s must be an object {\"condition key\": value}, "
		    "not %s", op->name, pv_type(v));
		return;
	}
	if ((nk = (size_t)json_object_object_length(v)) == 0) {
		pv_err(pv, "%s must not be an empty object", op->name);
		return;
	}
	/*
	 * Keys are matched case-insensitively, so one spelling only: sort
	 * them case-insensitively (stable by place) and mark every key
	 * that repeats an earlier one, in O(n log n).
	 */
	keys = calloc(nk, sizeof(*keys));
	dupof = calloc(nk, sizeof(*dupof));
	if (keys == NULL || dupof == NULL) {
		free(keys);
		free(dupof);
		pv->oom = 1;
		return;
	}
	for (i = 0, le = json_object_get_object(v)->head; le != NULL &&
	    i < nk; le = le->next, i++) {
		keys[i].k = (const char *)lh_entry_k(le);
		keys[i].idx = i;
	}
	qsort(keys, nk, sizeof(*keys), pv_key_cmp);
	for (first = 0, i = 1; i < nk; i++) {
		if (strcasecmp(keys[i].k, keys[first].k) == 0)
			dupof[keys[i].idx] = keys[first].k;
		else
			first = i;
	}
	for (idx = 0, le = json_object_get_object(v)->head; le != NULL &&
	    idx < nk; le = le->next, idx++) {
		key = (const char *)lh_entry_k(le);
		e = (struct json_object *)lh_entry_v(le);
		old = policy_path_key(&pv->path, key, strlen(key));
		if (key[0] == '\0') {
			pv_err(pv, "a condition key must not be empty");
			goto next;
		}
		if (dupof[idx] != NULL) {
			policy_quote(q, sizeof(q), dupof[idx],
			    strlen(dupof[idx]));
			pv_err(pv, "this condition key repeats %s in %s (keys "
			    "are matched case-insensitively)", q, op->name);
			goto next;
		}
		if (!json_object_is_type(e, json_type_array)) {
			pv_cond_value(pv, op, e);
			goto next;
		}
		if ((n = json_object_array_length(e)) == 0) {
			pv_err(pv, "the values of a condition key must not be "
			    "an empty array");
			goto next;
		}
		for (i = 0; i < n; i++) {
			old2 = policy_path_index(&pv->path, i);
			pv_cond_value(pv, op, json_object_array_get_idx(e, i));
			policy_path_truncate(&pv->path, old2);
		}
next:
		policy_path_truncate(&pv->path, old);
	}
	free(keys);
	free(dupof);
}

/* One condition value, checked against its operator's family. */
static void
pv_cond_value(struct pv *pv, const struct pv_op *op, struct json_object *v)
{
	char			 q[POLICY_QUOTE_MAX];
	const char		*s = NULL;
	size_t			 len = 0;
	struct value_time	 t;
	struct value_ip		 ip;
	int			 b;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		policy_quote(q, sizeof(q), s, len);
	}
	switch (op->family) {
	case PV_STRING:
		if (s == NULL)
			pv_err(pv, "%s takes strings, not %s%s", op->name,
			    pv_type(v), json_object_is_type(v, json_type_int) ||
			    json_object_is_type(v, json_type_double) ||
			    json_object_is_type(v, json_type_boolean) ?
			    " (write it in double quotes)" : "");
		break;
	case PV_NUMBER:
		if (s != NULL) {
			struct value_num	 num;

			if (value_num_parse(s, len, &num) == -1)
				pv_err(pv, "%s takes numbers: %s is not of the "
				    "form -?DIGITS(.DIGITS)? (no exponent, no "
				    "'+', at most %d digits)", op->name, q,
				    VALUE_NUM_MAXDIGITS);
		} else if (json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double))
			pv_cond_number(pv, v);
		else
			pv_err(pv, "%s takes numbers, not %s", op->name,
			    pv_type(v));
		break;
	case PV_DATE:
		if (s == NULL)
			pv_err(pv, "%s takes RFC 3339 dates as strings "
			    "(\"2019-08-12T17:00:00+08:00\"), not %s", op->name,
			    pv_type(v));
		else if (value_time_parse(s, len, &t) == -1)
			pv_err(pv, "%s takes RFC 3339 dates "
			    "(YYYY-MM-DDThh:mm:ss[.fraction] and Z or +hh:mm), "
			    "not %s", op->name, q);
		break;
	case PV_BOOL:
		if (json_object_is_type(v, json_type_boolean))
			break;
		if (s == NULL)
			pv_err(pv, "Bool takes true or false, not %s",
			    pv_type(v));
		else if (value_bool_parse(s, len, &b) == -1)
			pv_err(pv, "Bool takes true or false, not %s", q);
		break;
	case PV_IP:
		if (s == NULL)
			pv_err(pv, "%s takes IP addresses or CIDR networks as "
			    "strings, not %s", op->name, pv_type(v));
		else if (value_ip_parse(s, len, 1, &ip) == -1)
			pv_err(pv, "%s takes an IPv4 or IPv6 address, optionally "
			    "with /PREFIX, not %s", op->name, q);
		break;
	}
}

/* A JSON number as a Numeric value: an exact decimal, no exponent. */
static void
pv_cond_number(struct pv *pv, struct json_object *v)
{
	struct value_num	 num;
	const char		*text;
	char			 q[POLICY_QUOTE_MAX];

	/* An int prints as its value; a double keeps its text. */
	text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	if (text == NULL) {
		pv->oom = 1;
		return;
	}
	if (strpbrk(text, "eE") != NULL) {
		policy_quote(q, sizeof(q), text, strlen(text));
		pv_err(pv, "a number with an exponent (%s) is not allowed; "
		    "write it out as digits", q);
	} else if (value_num_parse(text, strlen(text), &num) == -1)
		pv_err(pv, "a number may have at most %d significant digits",
		    VALUE_NUM_MAXDIGITS);
}

int
policy_validate(enum policy_kind kind, const char *text, size_t len,
    size_t max_bytes, const char *path_prefix, struct json_object **docp,
    struct policy_diags *d)
{
	struct pv		 pv;
	struct json_object	*doc;
	size_t			 n0 = d->n;
	int			 soft;

	if (path_prefix == NULL)
		path_prefix = "";
	memset(&pv, 0, sizeof(pv));
	pv.kind = kind;
	pv.d = d;
	if (policy_path_init(&pv.path, path_prefix) == -1)
		return (-1);
	/* The size is reported, and the rest is still checked. */
	if (len > max_bytes)
		pv_err(&pv, "the document is %zu bytes long; the limit is %zu "
		    "bytes", len, max_bytes);
	doc = policy_json_parse_soft(text, len, POLICY_MAX_DEPTH,
	    path_prefix, d, &soft);
	if (doc != NULL)
		pv_document(&pv, doc);
	if (pv.path.oom)
		pv.oom = 1;
	policy_path_free(&pv.path);
	if (pv.oom)
		(void)policy_diags_add(d, POLICY_CODE_INVALID, path_prefix,
		    "out of memory while validating");
	if (doc == NULL || d->n != n0 || pv.oom) {
		json_object_put(doc);
		return (-1);
	}
	if (docp != NULL)
		*docp = doc;
	else
		json_object_put(doc);
	return (0);
}

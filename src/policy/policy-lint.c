/* SPDX-License-Identifier: ISC */
/*
 * policy-lint.c: warnings for documents the cloud would accept but that
 * are almost certainly wrong (docs/semantics.md section 1.6): a KMS
 * action that does not exist, a placeholder account id, a statement
 * that can never apply, an Allow open to everyone, a condition operator
 * of another type than its key's values, duplicate statements, an
 * Allow that an unconditional Deny of the same document always beats.
 *
 * Runs on a document policy_validate() accepted: every shape is known.
 * A warning never changes a decision nor refuses a document.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "engine/cpolicy.h"
#include "engine/glob.h"
#include "policy/policy.h"


/* What the values of the well-known condition keys are. */
enum lint_type { LINT_T_ANY = 0, LINT_T_STRING, LINT_T_NUMBER, LINT_T_DATE,
	LINT_T_BOOL, LINT_T_IP };

static const struct {
	const char	*key;
	enum lint_type	 type;
} lint_keys[] = {
	{ "acs:SourceIp", LINT_T_IP },
	{ "acs:CurrentTime", LINT_T_DATE },
	{ "acs:SecureTransport", LINT_T_BOOL },
	{ "acs:MFAPresent", LINT_T_BOOL },
	{ "acs:SourceVpc", LINT_T_STRING },
	{ "acs:AccessId", LINT_T_STRING },
};

static const char *const lint_type_names[] = {
	"any", "string", "number", "date", "boolean", "IP address"
};

/* Warnings past this many are summed up in one (a document of many
 * copies of one mistake). */
#define LINT_MAX_WARNINGS	100

struct lint {
	enum policy_kind	 kind;
	const char		*account;	/* the document's own; may be NULL */
	struct policy_diags	*w;
	struct json_object	*stmts;
	char			**texts;	/* each statement, Sid aside */
	size_t			 nwarn;
	int			 oom;
};

static void	lint_warn(struct lint *, const char *, const char *,
		    const char *, ...) __attribute__((__format__(printf, 4, 5)));

static void
lint_warn(struct lint *l, const char *code, const char *path,
    const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	char	pbuf[512];
	size_t	i;

	if (l->nwarn++ >= LINT_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(pbuf, sizeof(pbuf), "%s", path);
	/* One line each: a document's own strings may hold anything. */
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	for (i = 0; pbuf[i] != '\0'; i++)
		if ((unsigned char)pbuf[i] < 0x20 || pbuf[i] == 0x7f)
			pbuf[i] = '?';
	if (policy_diags_add(l->w, code, pbuf, "%s", buf) != 0)
		l->oom = 1;
}

/* The values of a string-or-array element as an array (borrowed). */
static size_t
lint_values(struct json_object *v, struct json_object **arr)
{
	*arr = v;
	if (v == NULL)
		return (0);
	return (json_object_is_type(v, json_type_array) ?
	    json_object_array_length(v) : 1);
}

static const char *
lint_value_at(struct json_object *arr, size_t i)
{
	struct json_object	*v;

	v = json_object_is_type(arr, json_type_array) ?
	    json_object_array_get_idx(arr, i) : arr;
	return (json_object_get_string(v));
}

/* Levenshtein distance, ASCII case-insensitive, capped at cap + 1. */
static size_t
lint_distance(const char *a, const char *b, size_t cap)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t	row[64];

	if (la >= 64 || lb >= 64)
		return (cap + 1);
	if ((la > lb ? la - lb : lb - la) > cap)
		return (cap + 1);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = prev + (glob_lower[(unsigned char)a[i - 1]] !=
			    glob_lower[(unsigned char)b[j - 1]]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			tmp = row[j];
			row[j] = cur;
			prev = tmp;
		}
	}
	return (row[lb]);
}

/*
 * A kms: action no KMS API has (a typo grants or denies nothing).  A
 * pattern must match at least one.  Other services are not checked.
 */
static void
lint_action(struct lint *l, const char *a, const char *path)
{
	struct glob	*g;
	const char	*best = NULL, *name = a + 4, *k;
	size_t		 i, d, bestd = 4;
	int		 hit = 0;

	if (strncasecmp(a, "kms:", 4) != 0 || strcmp(name, "*") == 0)
		return;
	if ((g = glob_compile(name, strlen(name), GLOB_ICASE)) == NULL) {
		l->oom = 1;
		return;
	}
	/* The engine's catalog of KMS API actions, "kms:" and all. */
	for (i = 1; (k = cpolicy_action_name((uint32_t)i)) != NULL && !hit;
	    i++)
		hit = glob_match(g, k + 4, strlen(k + 4));
	glob_free(g);
	if (hit)
		return;
	if (strchr(name, '*') != NULL || strchr(name, '?') != NULL) {
		lint_warn(l, "UnknownAction", path, "%s matches no KMS API "
		    "action", a);
		return;
	}
	for (i = 1; (k = cpolicy_action_name((uint32_t)i)) != NULL; i++)
		if ((d = lint_distance(name, k + 4, 3)) < bestd) {
			bestd = d;
			best = k + 4;
		}
	if (best != NULL)
		lint_warn(l, "UnknownAction", path, "%s is not a KMS API "
		    "action; did you mean kms:%s?", a, best);
	else
		lint_warn(l, "UnknownAction", path, "%s is not a KMS API "
		    "action", a);
}

/*
 * An account field that is a placeholder (the API pages' masked
 * 1192853035****) or not an account id: as a glob it matches accounts
 * nobody meant.
 */
static void
lint_account_field(struct lint *l, const char *arn, int field,
    const char *path)
{
	const char	*p = arn, *e;
	size_t		 n;
	int		 i;

	if (strncmp(arn, "acs:", 4) != 0)
		return;
	for (i = 0; i < field && p != NULL; i++)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p == NULL)
		return;
	n = (e = strchr(p, ':')) != NULL ? (size_t)(e - p) : strlen(p);
	if (n == 0 || (n == 1 && *p == '*'))
		return;
	if (strspn(p, "0123456789") == n)
		return;
	if (strspn(p, "0123456789") > 0 && strspn(p + strspn(p,
	    "0123456789"), "*") > 0)
		lint_warn(l, "PlaceholderAccount", path, "%s: the account "
		    "%.*s is a masked placeholder, a wildcard over every "
		    "account it starts like; write the whole account id", arn,
		    (int)n, p);
	else
		lint_warn(l, "MalformedAccount", path, "%s: the account %.*s "
		    "is not an account id (digits)", arn, (int)n, p);
}

/* The principal is everyone, or every identity of another account. */
static int
lint_open_principal(struct lint *l, const char *pat)
{
	const char	*acct, *rest;
	size_t		 n;

	if (strcmp(pat, "*") == 0 || strcmp(pat, "acs:ram::*:*") == 0 ||
	    strcmp(pat, "acs:ram:*") == 0)
		return (1);
	if (l->account == NULL || strncmp(pat, "acs:ram::", 9) != 0)
		return (0);
	acct = pat + 9;
	if ((rest = strchr(acct, ':')) == NULL)
		return (0);
	n = (size_t)(rest - acct);
	if (strlen(l->account) == n && strncmp(acct, l->account, n) == 0)
		return (0);
	return (strcmp(rest + 1, "*") == 0 || strcmp(rest + 1, "root") == 0);
}

static enum lint_type
lint_op_type(const char *op)
{
	if (strncmp(op, "String", 6) == 0)
		return (LINT_T_STRING);
	if (strncmp(op, "Numeric", 7) == 0)
		return (LINT_T_NUMBER);
	if (strncmp(op, "Date", 4) == 0)
		return (LINT_T_DATE);
	if (strcmp(op, "Bool") == 0)
		return (LINT_T_BOOL);
	if (strcmp(op, "IpAddress") == 0 || strcmp(op, "NotIpAddress") == 0)
		return (LINT_T_IP);
	return (LINT_T_ANY);
}

static enum lint_type
lint_key_type(const char *key)
{
	size_t	i;

	if (strncasecmp(key, "kms:tag/", 8) == 0 ||
	    strncasecmp(key, "acs:ResourceTag/", 16) == 0)
		return (LINT_T_STRING);
	for (i = 0; i < sizeof(lint_keys) / sizeof(lint_keys[0]); i++)
		if (strcasecmp(key, lint_keys[i].key) == 0)
			return (lint_keys[i].type);
	return (LINT_T_ANY);
}

/*
 * An operator of another type than its key's values: the request's
 * value never reads as the operator's type, so the operator is false
 * forever (negated too, docs/semantics.md section 3.3).  String
 * operators read any value.
 */
static void
lint_conditions(struct lint *l, struct json_object *cond, const char *spath)
{
	enum lint_type	 ot, kt;
	char		 path[512];

	if (cond == NULL)
		return;
	json_object_object_foreach(cond, op, keys) {
		ot = lint_op_type(op);
		json_object_object_foreach(keys, key, vals) {
			(void)vals;
			kt = lint_key_type(key);
			if (ot == LINT_T_ANY || kt == LINT_T_ANY || ot == kt ||
			    ot == LINT_T_STRING)
				continue;
			snprintf(path, sizeof(path), "%s.Condition.%s.%s",
			    spath, op, key);
			lint_warn(l, "OperatorTypeMismatch", path, "%s compares "
			    "%s values, but %s is %s %s: the condition is "
			    "false for every request", op,
			    lint_type_names[ot], key, kt == LINT_T_IP ? "an" :
			    "a", lint_type_names[kt]);
		}
	}
}

/* The statement's document without its Sid: two equal ones duplicate. */
static char *
lint_stmt_text(struct json_object *st)
{
	struct json_object	*copy = NULL;
	char			*t;

	if (json_object_deep_copy(st, &copy, NULL) != 0)
		return (NULL);
	json_object_object_del(copy, "Sid");
	t = strdup(json_object_to_json_string_ext(copy,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(copy);
	return (t);
}

/* 1 when every value of inner is covered by a pattern of outer. */
static int
lint_covers(struct json_object *outer, struct json_object *inner, int icase)
{
	struct json_object	*oa, *ia;
	struct glob		*g;
	const char		*s, *p;
	size_t			 no, ni, i, j;
	int			 all = 1, hit;

	no = lint_values(outer, &oa);
	ni = lint_values(inner, &ia);
	if (no == 0 || ni == 0)
		return (0);
	for (i = 0; i < ni && all; i++) {
		s = lint_value_at(ia, i);
		hit = 0;
		for (j = 0; j < no && !hit; j++) {
			p = lint_value_at(oa, j);
			if ((g = glob_compile(p, strlen(p),
			    icase ? GLOB_ICASE : 0)) == NULL)
				return (0);
			hit = glob_match(g, s, strlen(s));
			glob_free(g);
		}
		all = hit;
	}
	return (all);
}

static struct json_object *
lint_get(struct json_object *o, const char *k)
{
	struct json_object	*v;

	return (json_object_object_get_ex(o, k, &v) ? v : NULL);
}

static struct json_object *
lint_principals(struct json_object *st)
{
	struct json_object	*p = lint_get(st, "Principal");

	if (p == NULL)
		return (NULL);
	json_object_object_foreach(p, k, v) {
		(void)k;
		return (v);
	}
	return (NULL);
}

/*
 * An Allow every request of which an unconditional Deny of the same
 * document (its actions, resources and principals covering the
 * Allow's) denies: the Allow never takes effect.
 */
static void
lint_shadowed(struct lint *l, size_t i, struct json_object *st,
    const char *spath)
{
	struct json_object	*d;
	size_t			 j, n = json_object_array_length(l->stmts);

	for (j = 0; j < n; j++) {
		d = json_object_array_get_idx(l->stmts, j);
		if (j == i || strcmp(json_object_get_string(lint_get(d,
		    "Effect")), "Deny") != 0 || lint_get(d, "Condition") !=
		    NULL || lint_get(d, "Action") == NULL ||
		    lint_get(st, "Action") == NULL)
			continue;
		if (!lint_covers(lint_get(d, "Action"), lint_get(st, "Action"),
		    1))
			continue;
		if (l->kind == POLICY_KIND_RAM && (lint_get(d, "Resource") ==
		    NULL || lint_get(st, "Resource") == NULL ||
		    !lint_covers(lint_get(d, "Resource"), lint_get(st,
		    "Resource"), 0)))
			continue;
		if (l->kind == POLICY_KIND_KEY && !lint_covers(
		    lint_principals(d), lint_principals(st), 0))
			continue;
		lint_warn(l, "ShadowedAllow", spath, "this Allow never takes "
		    "effect: the unconditional Deny Statement[%zu] denies "
		    "every request it allows", j);
		return;
	}
}

static void
lint_statement(struct lint *l, size_t i, struct json_object *st)
{
	struct json_object	*arr, *v;
	const char		*s;
	char			 spath[64], path[128];
	size_t			 n, k;
	int			 allow;

	snprintf(spath, sizeof(spath), "Statement[%zu]", i);
	allow = strcmp(json_object_get_string(lint_get(st, "Effect")),
	    "Allow") == 0;
	/* Actions. */
	for (k = 0, n = lint_values(lint_get(st, "Action"), &arr); k < n; k++) {
		if (json_object_is_type(arr, json_type_array))
			snprintf(path, sizeof(path), "%s.Action[%zu]", spath,
			    k);
		else
			snprintf(path, sizeof(path), "%s.Action", spath);
		lint_action(l, lint_value_at(arr, k), path);
	}
	for (k = 0, n = lint_values(lint_get(st, "NotAction"), &arr); k < n;
	    k++) {
		s = lint_value_at(arr, k);
		snprintf(path, sizeof(path), "%s.NotAction", spath);
		if (strcmp(s, "*") == 0)
			lint_warn(l, "NeverMatches", path, "NotAction \"*\" "
			    "leaves no action: the statement never applies");
		else
			lint_action(l, s, path);
	}
	for (k = 0, n = lint_values(lint_get(st, "NotResource"), &arr); k < n;
	    k++)
		if (strcmp(lint_value_at(arr, k), "*") == 0)
			lint_warn(l, "NeverMatches", spath, "NotResource \"*\" "
			    "leaves no resource: the statement never applies");
	/* Accounts in resources and principals. */
	for (k = 0, n = lint_values(lint_get(st, "Resource"), &arr); k < n;
	    k++) {
		if (json_object_is_type(arr, json_type_array))
			snprintf(path, sizeof(path), "%s.Resource[%zu]", spath,
			    k);
		else
			snprintf(path, sizeof(path), "%s.Resource", spath);
		lint_account_field(l, lint_value_at(arr, k), 3, path);
	}
	v = lint_principals(st);
	for (k = 0, n = lint_values(v, &arr); k < n; k++) {
		s = lint_value_at(arr, k);
		snprintf(path, sizeof(path), "%s.Principal.RAM", spath);
		lint_account_field(l, s, 3, path);
		if (allow && lint_get(st, "Condition") == NULL &&
		    lint_open_principal(l, s))
			lint_warn(l, "OpenAllow", path, "Allow to %s with no "
			    "condition: %s", s, strcmp(s, "*") == 0 ||
			    strstr(s, "::*:") != NULL ? "anyone in any account"
			    : "every identity of another account its own "
			    "policies allow");
	}
	lint_conditions(l, lint_get(st, "Condition"), spath);
	/* Duplicates of an earlier statement, Sid aside. */
	for (k = 0; k < i; k++)
		if (strcmp(l->texts[i], l->texts[k]) == 0) {
			lint_warn(l, "DuplicateStatement", spath, "the same "
			    "statement as Statement[%zu]", k);
			break;
		}
	if (allow)
		lint_shadowed(l, i, st, spath);
}

int
policy_lint(enum policy_kind kind, struct json_object *doc,
    const char *own_account, struct policy_diags *w)
{
	struct lint	l;
	size_t		i, n;

	memset(&l, 0, sizeof(l));
	l.kind = kind;
	l.account = own_account;
	l.w = w;
	if (doc == NULL || !json_object_object_get_ex(doc, "Statement",
	    &l.stmts) || !json_object_is_type(l.stmts, json_type_array))
		return (0);
	n = json_object_array_length(l.stmts);
	if ((l.texts = calloc(n, sizeof(*l.texts))) == NULL)
		return (-1);
	for (i = 0; i < n && !l.oom; i++)
		if ((l.texts[i] = lint_stmt_text(json_object_array_get_idx(
		    l.stmts, i))) == NULL)
			l.oom = 1;
	for (i = 0; i < n && !l.oom; i++)
		lint_statement(&l, i, json_object_array_get_idx(l.stmts, i));
	if (l.nwarn > LINT_MAX_WARNINGS && policy_diags_add(w, "TooManyWarnings",
	    "", "%zu more warnings not listed", l.nwarn - LINT_MAX_WARNINGS)
	    != 0)
		l.oom = 1;
	for (i = 0; i < n; i++)
		free(l.texts[i]);
	free(l.texts);
	return (l.oom ? -1 : 0);
}

/* SPDX-License-Identifier: ISC */
/*
 * admin-api.c: the admin API table (every call, its parameters with
 * their types and limits, as on the KMS and RAM API pages) and the
 * parsing of a request body into typed parameters, with the
 * MissingParameter / InvalidParameter errors of section 6.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin/admin.h"
#include "policy/policy.h"

#define ADMIN_BODY_MAX		(32 * 1024 * 1024)
#define ADMIN_JSON_DEPTH	64
#define ADMIN_DOC_MAX		(256 * 1024)	/* RAM documents; their own
						   limit is checked later */
#define ADMIN_BUNDLE_MAX	(16 * 1024 * 1024)

static int	admin_set_detail(char *, size_t, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static int	admin_kind_ok(const struct admin_param *, const char *,
		    size_t);
static enum admin_err admin_parse_value(const struct admin_param *,
		    struct json_object *, struct admin_val *, char *, size_t);
static struct json_object *admin_json_parse(const char *, size_t,
		    const char *, char *, size_t);
static void	admin_userdata_put(struct json_object *, void *);

static const char * const admin_instance_states[] = {
	"Enabled", "Disabled", "Expired", NULL
};
static const char * const admin_policy_types[] = {
	"Custom", "System", NULL
};
static const char * const admin_rotate[] = {
	"None", "DeleteOldestNonDefaultVersion", NULL
};

/* Shorthands for the table. */
#define P_KEYID { "KeyId", ADMIN_P_STRING, ADMIN_K_KEYID, 1, 600, 0, 0, \
	NULL, "the ID or ARN of the key" }
#define P_END { NULL, 0, 0, 0, 0, 0, 0, NULL, NULL }
#define P_NAME(n, k, max, what) { n, ADMIN_P_STRING, k, 1, max, 0, 0, \
	NULL, what }
#define P_PAGE { "PageNumber", ADMIN_P_INT, 0, 0, 0, 1, 1000000, NULL, \
	"the page to return, from 1 (default 1)" }, \
	{ "PageSize", ADMIN_P_INT, 0, 0, 0, 1, 100, NULL, \
	"entries per page, 1 to 100 (default 10)" }
#define P_USER P_NAME("UserName", ADMIN_K_RAMNAME, 64, "the RAM user name")
#define P_ROLE P_NAME("RoleName", ADMIN_K_RAMNAME, 64, "the RAM role name")
#define P_GROUP P_NAME("GroupName", ADMIN_K_RAMNAME, 64, \
	"the RAM user group name")
#define P_POLICYNAME P_NAME("PolicyName", ADMIN_K_POLICYNAME, 128, \
	"the policy name (1-128 of A-Z a-z 0-9 . -)")
#define P_POLICYTYPE { "PolicyType", ADMIN_P_STRING, ADMIN_K_ENUM, 1, 16, \
	0, 0, admin_policy_types, "Custom (System policies do not exist " \
	"here)" }
#define P_ALIAS P_NAME("AliasName", ADMIN_K_ALIAS, 512, \
	"the alias, alias/ followed by 1-250 of A-Z a-z 0-9 _ / -, or its " \
	"ARN acs:kms:REGION:ACCOUNT:alias/NAME (names one account's alias)")
#define P_VERSION P_NAME("VersionId", ADMIN_K_ID, 16, \
	"a policy version, v1, v2, ...")
#define P_POLICYTYPE_OPT { "PolicyType", ADMIN_P_STRING, ADMIN_K_ENUM, 0, \
	16, 0, 0, admin_policy_types, "Custom (default)" }
#define P_POLICYDOC { "PolicyDocument", ADMIN_P_DOC, 0, 1, ADMIN_DOC_MAX, \
	0, 0, NULL, "the policy document (JSON)" }
#define P_KEYPOLICYNAME { "PolicyName", ADMIN_P_STRING, \
	ADMIN_K_KEYPOLICYNAME, 0, 128, 0, 0, NULL, \
	"the key policy name; only default exists" }

#define P_DRYRUN { "DryRun", ADMIN_P_BOOL, 0, 0, 0, 0, 0, NULL, \
	"true: authorize and check only, change and audit nothing; the " \
	"answer lists the grants gained and lost (Impact)" }

static const struct admin_param p_set_key_policy[] = {
	P_KEYID,
	P_KEYPOLICYNAME,
	{ "Policy", ADMIN_P_DOC, 0, 1, 32768, 0, 0, NULL,
	    "the key policy, a JSON document of at most 32,768 bytes" },
	P_DRYRUN,
	P_END
};
static const struct admin_param p_get_key_policy[] = {
	P_KEYID,
	P_KEYPOLICYNAME,
	P_END
};
static const struct admin_param p_create_instance[] = {
	P_NAME("InstanceId", ADMIN_K_ID, 64, "the KMS instance id (kst-...)"),
	{ "ShareQuota", ADMIN_P_INT, 0, 0, 0, 0, 1000, NULL,
	    "how many foreign accounts its keys may be shared with "
	    "(default 0)" },
	{ "State", ADMIN_P_STRING, ADMIN_K_ENUM, 0, 16, 0, 0,
	    admin_instance_states, "Enabled (default), Disabled or Expired" },
	{ "Account", ADMIN_P_STRING, ADMIN_K_ACCOUNT, 0, 31, 0, 0, NULL,
	    "the account the instance belongs to, whose keys alone it may "
	    "hold (default: the admin configuration's account)" },
	P_END
};
static const struct admin_param p_update_instance_state[] = {
	P_NAME("InstanceId", ADMIN_K_ID, 64, "the KMS instance id"),
	{ "State", ADMIN_P_STRING, ADMIN_K_ENUM, 1, 16, 0, 0,
	    admin_instance_states, "Enabled, Disabled or Expired" },
	P_END
};
static const struct admin_param p_create_key[] = {
	{ "DKMSInstanceId", ADMIN_P_STRING, ADMIN_K_ID, 0, 64, 0, 0, NULL,
	    "the KMS instance to create the key in (none: a key outside "
	    "any instance)" },
	{ "KeyId", ADMIN_P_STRING, ADMIN_K_ID, 0, 128, 0, 0, NULL,
	    "the new key's id (default: key-<random>)" },
	P_END
};
static const struct admin_param p_keyid_only[] = {
	P_KEYID,
	P_END
};
static const struct admin_param p_list[] = {
	P_PAGE,
	P_END
};
static const struct admin_param p_schedule_deletion[] = {
	P_KEYID,
	{ "PendingWindowInDays", ADMIN_P_INT, 0, 1, 0, 7, 366, NULL,
	    "days before the key is deleted, 7 to 366" },
	P_END
};
static const struct admin_param p_tag_resource[] = {
	P_KEYID,
	{ "Tags", ADMIN_P_TAGS, 0, 1, 16384, 0, 0, NULL,
	    "[{\"TagKey\":\"k\",\"TagValue\":\"v\"},...]" },
	P_END
};
static const struct admin_param p_untag_resource[] = {
	P_KEYID,
	{ "TagKeys", ADMIN_P_STRLIST, 0, 1, 16384, 0, 0, NULL,
	    "[\"k1\",\"k2\",...]" },
	P_END
};
static const struct admin_param p_alias_key[] = {
	P_ALIAS,
	P_KEYID,
	P_END
};
static const struct admin_param p_alias_only[] = {
	P_ALIAS,
	P_END
};
static const struct admin_param p_user[] = {
	P_USER,
	P_END
};
static const struct admin_param p_role[] = {
	P_ROLE,
	P_END
};
static const struct admin_param p_group[] = {
	P_GROUP,
	P_END
};
static const struct admin_param p_user_group[] = {
	P_USER,
	P_GROUP,
	P_END
};
static const struct admin_param p_create_policy[] = {
	P_POLICYNAME,
	P_POLICYDOC,
	P_END
};
static const struct admin_param p_policy_typed[] = {
	P_POLICYNAME,
	P_POLICYTYPE_OPT,
	P_END
};
static const struct admin_param p_policy_only[] = {
	P_POLICYNAME,
	P_END
};
static const struct admin_param p_create_policy_version[] = {
	P_POLICYNAME,
	P_POLICYDOC,
	{ "SetAsDefault", ADMIN_P_BOOL, 0, 0, 0, 0, 0, NULL,
	    "true: the new version becomes the default (default false)" },
	{ "RotateStrategy", ADMIN_P_STRING, ADMIN_K_ENUM, 0, 32, 0, 0,
	    admin_rotate, "None (default) or DeleteOldestNonDefaultVersion "
	    "when 5 versions exist" },
	P_DRYRUN,
	P_END
};
static const struct admin_param p_policy_version[] = {
	P_POLICYNAME,
	P_VERSION,
	P_END
};
static const struct admin_param p_get_policy_version[] = {
	P_POLICYNAME,
	P_VERSION,
	P_POLICYTYPE_OPT,
	P_END
};
static const struct admin_param p_attach_user[] = {
	P_POLICYTYPE,
	P_POLICYNAME,
	P_USER,
	P_END
};
static const struct admin_param p_attach_role[] = {
	P_POLICYTYPE,
	P_POLICYNAME,
	P_ROLE,
	P_END
};
static const struct admin_param p_attach_group[] = {
	P_POLICYTYPE,
	P_POLICYNAME,
	P_GROUP,
	P_END
};
static const struct admin_param p_import[] = {
	{ "Bundle", ADMIN_P_DOC, 0, 1, ADMIN_BUNDLE_MAX, 0, 0, NULL,
	    "the whole state, a bundle document (JSON)" },
	P_END
};
static const struct admin_param p_none[] = {
	P_END
};

#define CK	(ADMIN_F_CHANGE | ADMIN_F_KMS)
#define CR	(ADMIN_F_CHANGE | ADMIN_F_RAM)
#define CS	(ADMIN_F_CHANGE | ADMIN_F_SUPERUSER)

static const struct admin_api admin_apis[ADMIN_API_COUNT] = {
#define ADMIN_CALL(name, flags, params, target, r1, r2, check, run,	\
    summary)								\
	{ ADMIN_##name, #name, flags, params, target, { r1, r2 }, summary },
#include "admin/admin-calls.def"
#undef ADMIN_CALL
};

const struct admin_api *
admin_api_table(size_t *countp)
{
	*countp = ADMIN_API_COUNT;
	return (admin_apis);
}

const struct admin_api *
admin_api_find(const char *name)
{
	size_t	i;

	for (i = 0; i < ADMIN_API_COUNT; i++)
		if (strcmp(admin_apis[i].name, name) == 0)
			return (&admin_apis[i]);
	return (NULL);
}

const struct admin_api *
admin_api_get(enum admin_api_id id)
{
	if ((unsigned)id >= ADMIN_API_COUNT)
		return (NULL);
	return (&admin_apis[id]);
}

int
admin_api_param_index(const struct admin_api *api, const char *name)
{
	int	i;

	for (i = 0; api->params[i].name != NULL; i++)
		if (strcmp(api->params[i].name, name) == 0)
			return (i);
	return (-1);
}

static int
admin_set_detail(char *d, size_t dsize, const char *fmt, ...)
{
	va_list	ap;

	if (d == NULL || dsize == 0)
		return (0);
	va_start(ap, fmt);
	vsnprintf(d, dsize, fmt, ap);
	va_end(ap);
	return (0);
}

/*
 * acs:kms:REGION:ACCOUNT:REST: the region and account copied out, REST
 * returned.  -1 when s is not such an ARN or a part does not fit.
 */
static int
admin_kms_arn_split(const char *s, size_t len, char *region, size_t rsz,
    char *account, size_t asz, const char **restp, size_t *restlenp)
{
	const char	*p, *end = s + len, *f[5];
	size_t		 n;

	if (len < 8 || memcmp(s, "acs:kms:", 8) != 0)
		return (-1);
	f[0] = s;
	for (n = 1, p = s; p < end && n < 5; p++)
		if (*p == ':')
			f[n++] = p + 1;
	if (n != 5)
		return (-1);
	if (f[3] - f[2] - 1 <= 0 || (size_t)(f[3] - f[2] - 1) >= rsz ||
	    !ident_chars(f[2], f[3] - f[2] - 1, "-_"))
		return (-1);
	memcpy(region, f[2], f[3] - f[2] - 1);
	region[f[3] - f[2] - 1] = '\0';
	if ((size_t)(f[4] - f[3] - 1) >= asz ||
	    !ident_account(f[3], f[4] - f[3] - 1))
		return (-1);
	memcpy(account, f[3], f[4] - f[3] - 1);
	account[f[4] - f[3] - 1] = '\0';
	*restp = f[4];
	*restlenp = (size_t)(end - f[4]);
	return (0);
}

int
admin_keyref_parse(const char *s, size_t len, struct admin_keyref *kr)
{
	const char	*p;
	size_t		 i;

	memset(kr, 0, sizeof(*kr));
	if (len == 0 || memchr(s, '\0', len) != NULL)
		return (-1);
	if (len < 4 || memcmp(s, "acs:", 4) != 0) {
		/* A bare id. */
		if (len >= sizeof(kr->id) || !ident_key_id(s, len))
			return (-1);
		memcpy(kr->id, s, len);
		return (0);
	}
	/* acs:kms:REGION:ACCOUNT:key/ID */
	if (admin_kms_arn_split(s, len, kr->region, sizeof(kr->region),
	    kr->account, sizeof(kr->account), &p, &i) != 0 ||
	    i <= 4 || memcmp(p, "key/", 4) != 0)
		return (-1);
	p += 4;
	i -= 4;
	if (i >= sizeof(kr->id) || !ident_key_id(p, i))
		return (-1);
	memcpy(kr->id, p, i);
	kr->is_arn = 1;
	return (0);
}

int
admin_aliasref_parse(const char *s, size_t len, struct admin_aliasref *ar)
{
	const char	*p = s;
	size_t		 i = len;

	memset(ar, 0, sizeof(*ar));
	if (len == 0 || memchr(s, '\0', len) != NULL)
		return (-1);
	/* acs:kms:REGION:ACCOUNT:alias/NAME, or alias/NAME */
	if (len >= 4 && memcmp(s, "acs:", 4) == 0) {
		if (admin_kms_arn_split(s, len, ar->region, sizeof(ar->region),
		    ar->account, sizeof(ar->account), &p, &i) != 0)
			return (-1);
		ar->is_arn = 1;
	}
	if (i >= sizeof(ar->name) || !ident_alias_name(p, i))
		return (-1);
	memcpy(ar->name, p, i);
	return (0);
}

/* The name kinds: a fixed prefix and the characters beside A-Z a-z 0-9. */
static const struct {
	const char	*prefix;
	const char	*extra;
} admin_kind_names[] = {
	[ADMIN_K_ID] = { "", "-_." },
	[ADMIN_K_RAMNAME] = { "", "-_.@" },
	[ADMIN_K_POLICYNAME] = { "", "-." },
	[ADMIN_K_ALIAS] = { "alias/", "-_/" },
	[ADMIN_K_ACCOUNT] = { "", "" }
};

static int
admin_kind_ok(const struct admin_param *p, const char *s, size_t len)
{
	struct admin_keyref	kr;
	struct admin_aliasref	ar;
	size_t			i, n;

	if (memchr(s, '\0', len) != NULL)
		return (0);
	switch (p->kind) {
	case ADMIN_K_ANY:
	case ADMIN_K_KEYPOLICYNAME:
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return (0);
		return (1);
	case ADMIN_K_KEYID:
		return (admin_keyref_parse(s, len, &kr) == 0);
	case ADMIN_K_ALIAS:
		return (admin_aliasref_parse(s, len, &ar) == 0);
	case ADMIN_K_ID:
	case ADMIN_K_RAMNAME:
	case ADMIN_K_POLICYNAME:
	case ADMIN_K_ACCOUNT:
		/* A prefix, then letters, digits and the kind's extras. */
		n = strlen(admin_kind_names[p->kind].prefix);
		return (len > n && memcmp(s, admin_kind_names[p->kind].prefix,
		    n) == 0 && ident_chars(s + n, len - n,
		    admin_kind_names[p->kind].extra) &&
		    (p->kind != ADMIN_K_ACCOUNT || ident_account(s, len)));
	case ADMIN_K_ENUM:
		for (i = 0; p->values != NULL && p->values[i] != NULL; i++)
			if (strlen(p->values[i]) == len &&
			    memcmp(p->values[i], s, len) == 0)
				return (1);
		return (0);
	}
	return (0);
}

static void
admin_userdata_put(struct json_object *o, void *ud)
{
	json_object_put(ud);
}

/*
 * The project's strict scanner (policy_json_parse, docs/semantics.md):
 * RFC 8259 exactly, strict UTF-8, no duplicate keys (compared after
 * unescaping), no \u0000, bounded depth, the whole input consumed.  On
 * failure the detail is "what: " and the scanner's first reason (with
 * its place).
 */
static struct json_object *
admin_json_parse(const char *text, size_t len, const char *what, char *d,
    size_t dsize)
{
	struct policy_diags	 diags;
	struct json_object	*o;
	const char		*path;

	if (len > ADMIN_BODY_MAX) {
		admin_set_detail(d, dsize, "%s: larger than %d bytes", what,
		    ADMIN_BODY_MAX);
		return (NULL);
	}
	policy_diags_init(&diags);
	o = policy_json_parse(text, len, ADMIN_JSON_DEPTH, "", &diags);
	if (o == NULL) {
		path = diags.n > 0 && diags.v[0].path != NULL ?
		    diags.v[0].path : "";
		admin_set_detail(d, dsize, "%s: not valid JSON: %s%s%s", what,
		    path, path[0] != '\0' ? ": " : "", diags.n > 0 &&
		    diags.v[0].reason != NULL ? diags.v[0].reason :
		    "out of memory");
	}
	policy_diags_free(&diags);
	return (o);
}

/*
 * One element of a list parameter: a tag object, or a string.  i is its
 * index (for the detail); v->tags / v->list has room for it.
 */
static enum admin_err
admin_elem_tag(const struct admin_param *p, struct json_object *t, size_t i,
    struct admin_val *v, char *d, size_t dsize)
{
	struct json_object	*k, *val;
	const char		*ks, *vs;
	size_t			 j;

	if (!json_object_is_type(t, json_type_object) ||
	    json_object_object_length(t) != 2 ||
	    !json_object_object_get_ex(t, "TagKey", &k) ||
	    !json_object_object_get_ex(t, "TagValue", &val) ||
	    !json_object_is_type(k, json_type_string) ||
	    !json_object_is_type(val, json_type_string)) {
		admin_set_detail(d, dsize, "%s[%zu]: an object with string "
		    "TagKey and TagValue only", p->name, i);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	ks = json_object_get_string(k);
	vs = json_object_get_string(val);
	if (json_object_get_string_len(k) == 0 ||
	    json_object_get_string_len(k) > ADMIN_TAG_KEY_MAX ||
	    json_object_get_string_len(val) > ADMIN_TAG_VALUE_MAX ||
	    strlen(ks) != (size_t)json_object_get_string_len(k) ||
	    strlen(vs) != (size_t)json_object_get_string_len(val)) {
		admin_set_detail(d, dsize, "%s[%zu]: TagKey 1-%d, TagValue "
		    "0-%d characters", p->name, i, ADMIN_TAG_KEY_MAX,
		    ADMIN_TAG_VALUE_MAX);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	for (j = 0; j < i; j++) {
		if (strcmp(v->tags[j].key, ks) == 0) {
			admin_set_detail(d, dsize, "%s[%zu]: duplicate TagKey",
			    p->name, i);
			return (ADMIN_E_INVALID_PARAMETER);
		}
	}
	v->tags[i].key = ks;
	v->tags[i].value = vs;
	return (ADMIN_OK);
}

static enum admin_err
admin_elem_str(const struct admin_param *p, struct json_object *s, size_t i,
    struct admin_val *v, char *d, size_t dsize)
{
	if (!json_object_is_type(s, json_type_string) ||
	    json_object_get_string_len(s) == 0 ||
	    json_object_get_string_len(s) > ADMIN_TAG_KEY_MAX ||
	    strlen(json_object_get_string(s)) !=
	    (size_t)json_object_get_string_len(s)) {
		admin_set_detail(d, dsize, "%s[%zu]: a string of 1-%d "
		    "characters", p->name, i, ADMIN_TAG_KEY_MAX);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	v->list[i] = json_object_get_string(s);
	return (ADMIN_OK);
}

/* STRING and DOC: a JSON string within maxlen; STRING checked by kind. */
static enum admin_err
admin_parse_text(const struct admin_param *p, struct json_object *o,
    struct admin_val *v, char *d, size_t dsize)
{
	const char	*s;
	size_t		 len;

	if (!json_object_is_type(o, json_type_string)) {
		admin_set_detail(d, dsize, "%s: must be a string", p->name);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	s = json_object_get_string(o);
	len = (size_t)json_object_get_string_len(o);
	if (len > p->maxlen) {
		admin_set_detail(d, dsize, "%s: longer than %zu bytes",
		    p->name, p->maxlen);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	if (p->type == ADMIN_P_STRING && (len == 0 ||
	    !admin_kind_ok(p, s, len))) {
		if (p->kind == ADMIN_K_ENUM)
			admin_set_detail(d, dsize, "%s: not one of the "
			    "accepted values", p->name);
		else
			admin_set_detail(d, dsize, "%s: malformed", p->name);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	if (p->type == ADMIN_P_DOC && len == 0) {
		admin_set_detail(d, dsize, "%s: empty", p->name);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	v->s = s;
	v->len = len;
	return (ADMIN_OK);
}

/* INT: a JSON integer or a decimal string, within min..max. */
static enum admin_err
admin_parse_int(const struct admin_param *p, struct json_object *o,
    struct admin_val *v, char *d, size_t dsize)
{
	const char	*s;
	long long	 ll;

	if (json_object_is_type(o, json_type_int)) {
		errno = 0;
		ll = json_object_get_int64(o);
		if (errno != 0)
			goto bad;
	} else if (json_object_is_type(o, json_type_string)) {
		s = json_object_get_string(o);
		if (*s == '\0' || strspn(s, "0123456789") != strlen(s) ||
		    strlen(s) > 18)
			goto bad;
		ll = strtoll(s, NULL, 10);
	} else
		goto bad;
	if (ll < p->min || ll > p->max) {
		admin_set_detail(d, dsize, "%s: must be %lld to %lld",
		    p->name, (long long)p->min, (long long)p->max);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	v->i = ll;
	return (ADMIN_OK);
bad:
	admin_set_detail(d, dsize, "%s: must be an integer", p->name);
	return (ADMIN_E_INVALID_PARAMETER);
}

/* BOOL: JSON true/false or the strings "true"/"false". */
static enum admin_err
admin_parse_bool(const struct admin_param *p, struct json_object *o,
    struct admin_val *v, char *d, size_t dsize)
{
	const char	*s;

	if (json_object_is_type(o, json_type_boolean)) {
		v->b = json_object_get_boolean(o);
		return (ADMIN_OK);
	}
	s = json_object_is_type(o, json_type_string) ?
	    json_object_get_string(o) : "";
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		v->b = s[0] == 't';
		return (ADMIN_OK);
	}
	admin_set_detail(d, dsize, "%s: true or false", p->name);
	return (ADMIN_E_INVALID_PARAMETER);
}

static enum admin_err admin_parse_list(const struct admin_param *,
		    struct json_object *, struct admin_val *, char *, size_t);

/*
 * The parameter types: how a value is parsed and, for lists, what one
 * element is (its parser and its name in details).
 */
static const struct admin_ptype_ops {
	enum admin_err	(*parse)(const struct admin_param *,
			    struct json_object *, struct admin_val *, char *,
			    size_t);
	enum admin_err	(*elem)(const struct admin_param *,
			    struct json_object *, size_t, struct admin_val *,
			    char *, size_t);
	const char	*elems;
} admin_ptypes[] = {
	[ADMIN_P_STRING] = { admin_parse_text, NULL, NULL },
	[ADMIN_P_DOC] = { admin_parse_text, NULL, NULL },
	[ADMIN_P_INT] = { admin_parse_int, NULL, NULL },
	[ADMIN_P_BOOL] = { admin_parse_bool, NULL, NULL },
	[ADMIN_P_TAGS] = { admin_parse_list, admin_elem_tag, "tags" },
	[ADMIN_P_STRLIST] = { admin_parse_list, admin_elem_str, "strings" }
};

/*
 * TAGS and STRLIST: a JSON array of 1 to ADMIN_MAX_TAGS elements, given
 * inline or as JSON text in a string (the cloud API's way).
 */
static enum admin_err
admin_parse_list(const struct admin_param *p, struct json_object *o,
    struct admin_val *v, char *d, size_t dsize)
{
	const struct admin_ptype_ops	*ops = &admin_ptypes[p->type];
	struct json_object		*inner;
	size_t				 i, n, len;
	enum admin_err			 e;

	if (json_object_is_type(o, json_type_string)) {
		len = (size_t)json_object_get_string_len(o);
		if (len > p->maxlen) {
			admin_set_detail(d, dsize, "%s: longer than %zu bytes",
			    p->name, p->maxlen);
			return (ADMIN_E_INVALID_PARAMETER);
		}
		if ((inner = admin_json_parse(json_object_get_string(o), len,
		    p->name, d, dsize)) == NULL)
			return (ADMIN_E_INVALID_PARAMETER);
		/* Keep the tree alive with the request: park it on the
		 * string object. */
		json_object_set_userdata(o, inner, admin_userdata_put);
		o = inner;
	}
	if (!json_object_is_type(o, json_type_array)) {
		admin_set_detail(d, dsize, "%s: a JSON array of %s", p->name,
		    ops->elems);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	n = json_object_array_length(o);
	if (n == 0 || n > ADMIN_MAX_TAGS) {
		admin_set_detail(d, dsize, "%s: 1 to %d %s", p->name,
		    ADMIN_MAX_TAGS, ops->elems);
		return (ADMIN_E_INVALID_PARAMETER);
	}
	if (p->type == ADMIN_P_TAGS ?
	    (v->tags = calloc(n, sizeof(*v->tags))) == NULL :
	    (v->list = calloc(n, sizeof(*v->list))) == NULL)
		return (ADMIN_E_INTERNAL);
	for (i = 0; i < n; i++)
		if ((e = ops->elem(p, json_object_array_get_idx(o, i), i, v, d,
		    dsize)) != ADMIN_OK)
			return (e);
	v->n = n;
	return (ADMIN_OK);
}

static enum admin_err
admin_parse_value(const struct admin_param *p, struct json_object *o,
    struct admin_val *v, char *d, size_t dsize)
{
	enum admin_err	 e;

	if ((unsigned)p->type >= sizeof(admin_ptypes) /
	    sizeof(admin_ptypes[0]) || admin_ptypes[p->type].parse == NULL)
		return (ADMIN_E_INTERNAL);
	if ((e = admin_ptypes[p->type].parse(p, o, v, d, dsize)) != ADMIN_OK)
		return (e);
	v->set = 1;
	return (ADMIN_OK);
}

enum admin_err
admin_req_parse(const char *body, size_t len, struct admin_req *req,
    char *d, size_t dsize)
{
	struct json_object	*action, *params = NULL, *val;
	const struct admin_param *p;
	struct lh_entry		*ent;
	const char		*name;
	enum admin_err		 e;
	int			 i;

	memset(req, 0, sizeof(*req));
	admin_request_id(req->request_id);
	if (d != NULL && dsize > 0)
		*d = '\0';
	if ((req->root = admin_json_parse(body, len, "the request", d,
	    dsize)) == NULL)
		return (ADMIN_E_INVALID_PARAMETER);
	if (!json_object_is_type(req->root, json_type_object)) {
		admin_set_detail(d, dsize, "the request is not a JSON object");
		return (ADMIN_E_INVALID_PARAMETER);
	}
	for (ent = json_object_get_object(req->root)->head; ent != NULL;
	    ent = ent->next) {
		name = ent->k;
		if (strcmp(name, "Action") != 0 &&
		    strcmp(name, "Parameters") != 0) {
			admin_set_detail(d, dsize, "unknown member %.64s",
			    name);
			return (ADMIN_E_INVALID_PARAMETER);
		}
	}
	if (!json_object_object_get_ex(req->root, "Action", &action)) {
		admin_set_detail(d, dsize, "Action");
		return (ADMIN_E_MISSING_PARAMETER);
	}
	if (!json_object_is_type(action, json_type_string) ||
	    (req->api = admin_api_find(json_object_get_string(action))) ==
	    NULL) {
		admin_set_detail(d, dsize, "Action: unknown call");
		return (ADMIN_E_INVALID_PARAMETER);
	}
	if (json_object_object_get_ex(req->root, "Parameters", &params) &&
	    !json_object_is_type(params, json_type_object)) {
		admin_set_detail(d, dsize, "Parameters: must be an object");
		return (ADMIN_E_INVALID_PARAMETER);
	}
	if (params != NULL) {
		for (ent = json_object_get_object(params)->head; ent != NULL;
		    ent = ent->next) {
			name = ent->k;
			if ((i = admin_api_param_index(req->api, name)) < 0) {
				admin_set_detail(d, dsize, "%.64s: not a "
				    "parameter of %s", name, req->api->name);
				return (ADMIN_E_INVALID_PARAMETER);
			}
			val = (struct json_object *)ent->v;
			e = admin_parse_value(&req->api->params[i], val,
			    &req->v[i], d, dsize);
			if (e != ADMIN_OK)
				return (e);
		}
	}
	for (i = 0; req->api->params[i].name != NULL; i++) {
		p = &req->api->params[i];
		if (p->required && !req->v[i].set) {
			admin_set_detail(d, dsize, "%s", p->name);
			return (ADMIN_E_MISSING_PARAMETER);
		}
		if (p->kind == ADMIN_K_KEYID && req->v[i].set &&
		    admin_keyref_parse(req->v[i].s, req->v[i].len,
		    &req->key) != 0) {
			admin_set_detail(d, dsize, "%s: malformed", p->name);
			return (ADMIN_E_INVALID_PARAMETER);
		}
		if (p->kind == ADMIN_K_ALIAS && req->v[i].set &&
		    admin_aliasref_parse(req->v[i].s, req->v[i].len,
		    &req->alias) != 0) {
			admin_set_detail(d, dsize, "%s: malformed", p->name);
			return (ADMIN_E_INVALID_PARAMETER);
		}
	}
	return (ADMIN_OK);
}

void
admin_req_free(struct admin_req *req)
{
	int	i;

	for (i = 0; i < ADMIN_MAX_PARAMS; i++) {
		free(req->v[i].tags);
		free(req->v[i].list);
	}
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

const struct admin_val *
admin_req_get(const struct admin_req *req, const char *name)
{
	int	i;

	if (req->api == NULL || (i = admin_api_param_index(req->api,
	    name)) < 0 || !req->v[i].set)
		return (NULL);
	return (&req->v[i]);
}

const char *
admin_req_str(const struct admin_req *req, const char *name)
{
	const struct admin_val	*v;

	if ((v = admin_req_get(req, name)) == NULL || v->s == NULL)
		return (NULL);
	return (v->s);
}

/* SPDX-License-Identifier: ISC */
/*
 * bundle.c: the bundle (docs/bundle-format.md): parsing into the plain
 * model, validation with every error listed, compilation into a world
 * and deterministic export.
 *
 * Parsing happens in two steps that keep array indices aligned: the
 * JSON is read into the model (types, required and unknown fields;
 * an element with a broken field keeps its place with that field NULL),
 * then the model is checked as a whole (references, uniqueness, policy
 * documents, share quotas).  bundle_validate runs the second step on a
 * model built in memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "engine/cpolicy.h"
#include "engine/value.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy-compile.h"
#include "policy/policy.h"

#define BP_PATH_MAX	512
#define BP_CODE		"InvalidParameter"

/* A small set of strings (uniqueness and reference checks). */
struct bp_set {
	char	**v;
	size_t	  cap;
	size_t	  n;
	int	  oom;
};

struct bp {
	struct policy_diags	*d;
	int			 oom;
	size_t			 n0;
};

static void	bp_path(char *, size_t, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static void	bp_err(struct bp *, const char *, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static void	bp_errc(struct bp *, const char *, const char *, const char *,
		    ...) __attribute__((__format__(printf, 4, 5)));
static int	bp_set_add(struct bp_set *, const char *, const char *,
		    const char *);
static int	bp_set_has(const struct bp_set *, const char *, const char *,
		    const char *);
static void	bp_set_free(struct bp_set *);
static int	bp_check(const struct bundle *, size_t, int, struct bp *,
		    struct bundle_compiled *);
static void	bp_compiled_free(struct bundle_compiled *);

/* Paths longer than BP_PATH_MAX are cut (only in messages). */
static void
bp_path(char *buf, size_t sz, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
}

static void
bp_errc(struct bp *bp, const char *code, const char *path, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1) {
		va_end(ap);
		bp->oom = 1;
		return;
	}
	va_end(ap);
	if (policy_diags_add(bp->d, code, path, "%s", msg) == -1)
		bp->oom = 1;
	free(msg);
}

static void
bp_err(struct bp *bp, const char *path, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1) {
		va_end(ap);
		bp->oom = 1;
		return;
	}
	va_end(ap);
	if (policy_diags_add(bp->d, BP_CODE, path, "%s", msg) == -1)
		bp->oom = 1;
	free(msg);
}

/*
 * A syntax error is about a document as a whole: the diagnostics added
 * since n0 (by the strict JSON parser, which names the place inside the
 * text where it stopped) are reported at path.
 */
static void
bp_reroot(struct bp *bp, size_t n0, const char *path)
{
	char	*p;
	size_t	 i;

	for (i = n0; i < bp->d->n; i++) {
		if ((p = strdup(path)) == NULL) {
			bp->oom = 1;
			return;
		}
		free(bp->d->v[i].path);
		bp->d->v[i].path = p;
	}
}

/*
 * Validate a policy document's text at path: syntax errors at path
 * itself, every other violation where it is.  0 and *docp, or -1.
 */
static int
bp_validate_doc(struct bp *bp, enum policy_kind kind, const char *text,
    size_t len, size_t max, const char *path, struct json_object **docp)
{
	struct json_object	*doc;
	size_t			 n0 = bp->d->n;

	if (len <= max) {
		if ((doc = policy_json_parse(text, len, POLICY_MAX_DEPTH, path,
		    bp->d)) == NULL) {
			if (bp->d->n == n0)
				bp_err(bp, path, "the document is not valid "
				    "JSON");
			bp_reroot(bp, n0, path);
			return (-1);
		}
		json_object_put(doc);
	}
	return (policy_validate(kind, text, len, max, path, docp, bp->d));
}

/* The set: open addressing over "a\x1fb\x1fc". */
static uint64_t
bp_hash(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return (h);
}

static char *
bp_join(const char *a, const char *b, const char *c)
{
	char	*s;

	if (asprintf(&s, "%s\x1f%s\x1f%s", a, b ? b : "", c ? c : "") == -1)
		return (NULL);
	return (s);
}

static int
bp_set_has(const struct bp_set *set, const char *a, const char *b,
    const char *c)
{
	char	*k;
	size_t	 i;
	int	 found = 0;

	if (set->cap == 0 || (k = bp_join(a, b, c)) == NULL)
		return (0);
	for (i = bp_hash(k) & (set->cap - 1); set->v[i] != NULL;
	    i = (i + 1) & (set->cap - 1)) {
		if (strcmp(set->v[i], k) == 0) {
			found = 1;
			break;
		}
	}
	free(k);
	return (found);
}

/* 1 when added, 0 when present already, -1 when out of memory. */
static int
bp_set_add(struct bp_set *set, const char *a, const char *b, const char *c)
{
	char	**nv, *k;
	size_t	  i, j, ncap;

	if ((set->n + 1) * 2 > set->cap) {
		ncap = set->cap ? set->cap * 2 : 64;
		if ((nv = calloc(ncap, sizeof(*nv))) == NULL) {
			set->oom = 1;
			return (-1);
		}
		for (j = 0; j < set->cap; j++) {
			if (set->v[j] == NULL)
				continue;
			for (i = bp_hash(set->v[j]) & (ncap - 1); nv[i] != NULL;
			    i = (i + 1) & (ncap - 1))
				;
			nv[i] = set->v[j];
		}
		free(set->v);
		set->v = nv;
		set->cap = ncap;
	}
	if ((k = bp_join(a, b, c)) == NULL) {
		set->oom = 1;
		return (-1);
	}
	for (i = bp_hash(k) & (set->cap - 1); set->v[i] != NULL;
	    i = (i + 1) & (set->cap - 1)) {
		if (strcmp(set->v[i], k) == 0) {
			free(k);
			return (0);
		}
	}
	set->v[i] = k;
	set->n++;
	return (1);
}

static void
bp_set_free(struct bp_set *set)
{
	size_t	i;

	for (i = 0; i < set->cap; i++)
		free(set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/*
 * An identifier longer than the store can hold (engine/limits.h): an
 * error at path.  1 when reported.
 */
static int
bp_toolong(struct bp *bp, const char *path, const char *what, const char *s,
    size_t max)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) <= max)
		return (0);
	bp_err(bp, path, "%s is %zu bytes, longer than %zu", what, n, max);
	return (1);
}

/*
 * What bundle_parse compiled, by key and policy index (NULL where a key
 * has no policy or a document did not compile).
 */
struct bundle_compiled {
	size_t		  nkeys;
	size_t		  npolicies;
	struct cpolicy	**key;
	struct cpolicy	**pol;
};

static void
bp_compiled_free(struct bundle_compiled *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nkeys; i++)
		cpolicy_unref(c->key[i]);
	for (i = 0; i < c->npolicies; i++)
		cpolicy_unref(c->pol[i]);
	free(c->key);
	free(c->pol);
	free(c);
}

static struct bundle_compiled *
bp_compiled_new(size_t nkeys, size_t npolicies)
{
	struct bundle_compiled	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->key = calloc(nkeys + 1, sizeof(*c->key))) == NULL ||
	    (c->pol = calloc(npolicies + 1, sizeof(*c->pol))) == NULL) {
		if (c != NULL)
			free(c->key);
		free(c);
		return (NULL);
	}
	c->nkeys = nkeys;
	c->npolicies = npolicies;
	return (c);
}

/*
 * Compiled documents by (kind, text): a text met again is neither
 * validated nor compiled again, and its keys or policies share one
 * compiled policy (as the store shares by digest, store-load.c
 * pcache).  Texts belong to the bundle; the table holds a reference
 * on each policy.
 */
struct bp_shent {
	const char	*text;
	size_t		 len;
	int		 kind;
	struct cpolicy	*cp;
};

struct bp_share {
	struct bp_shent	*v;
	size_t		 cap;
	size_t		 n;
};

static uint64_t
bp_hash_text(int kind, const char *s, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return (h);
}

static struct bp_shent *
bp_share_slot(struct bp_shent *v, size_t cap, int kind, const char *text,
    size_t len)
{
	size_t	i;

	for (i = bp_hash_text(kind, text, len) & (cap - 1); v[i].cp != NULL;
	    i = (i + 1) & (cap - 1))
		if (v[i].kind == kind && v[i].len == len &&
		    memcmp(v[i].text, text, len) == 0)
			break;
	return (&v[i]);
}

/* A new reference on the compiled text, or NULL when not met yet. */
static struct cpolicy *
bp_share_get(const struct bp_share *sh, int kind, const char *text,
    size_t len)
{
	const struct bp_shent	*e;

	if (sh->cap == 0)
		return (NULL);
	e = bp_share_slot(sh->v, sh->cap, kind, text, len);
	return (e->cp != NULL ? cpolicy_ref(e->cp) : NULL);
}

/* Remembers cp (takes a reference of its own); -1 when out of memory. */
static int
bp_share_put(struct bp_share *sh, int kind, const char *text, size_t len,
    struct cpolicy *cp)
{
	struct bp_shent	*nv, *e;
	size_t		 i, ncap;

	if ((sh->n + 1) * 2 > sh->cap) {
		ncap = sh->cap ? sh->cap * 2 : 64;
		if ((nv = calloc(ncap, sizeof(*nv))) == NULL)
			return (-1);
		for (i = 0; i < sh->cap; i++)
			if (sh->v[i].cp != NULL)
				*bp_share_slot(nv, ncap, sh->v[i].kind,
				    sh->v[i].text, sh->v[i].len) = sh->v[i];
		free(sh->v);
		sh->v = nv;
		sh->cap = ncap;
	}
	e = bp_share_slot(sh->v, sh->cap, kind, text, len);
	if (e->cp != NULL)
		return (0);
	e->text = text;
	e->len = len;
	e->kind = kind;
	e->cp = cpolicy_ref(cp);
	sh->n++;
	return (0);
}

static void
bp_share_free(struct bp_share *sh)
{
	size_t	i;

	for (i = 0; i < sh->cap; i++)
		cpolicy_unref(sh->v[i].cp);
	free(sh->v);
	memset(sh, 0, sizeof(*sh));
}

/*
 * Validate and compile a document at path, or take the compiled form
 * of the same text met before.  A new reference, or NULL (errors added
 * at path, or out of memory).
 */
static struct cpolicy *
bp_compile_doc(struct bp *bp, struct bp_share *sh, enum policy_kind kind,
    const char *text, size_t len, size_t max, const char *path)
{
	struct json_object	*doc = NULL;
	struct cpolicy		*cp;

	if ((cp = bp_share_get(sh, (int)kind, text, len)) != NULL)
		return (cp);
	if (bp_validate_doc(bp, kind, text, len, max, path, &doc) == -1)
		return (NULL);
	cp = policy_compile(kind, doc);
	json_object_put(doc);
	if (cp == NULL) {
		bp_errc(bp, "InternalFailure", path, "cannot compile");
		return (NULL);
	}
	if (bp_share_put(sh, (int)kind, text, len, cp) == -1)
		bp->oom = 1;
	return (cp);
}

static int
bp_digits(const char *s)
{
	return (s != NULL && ident_account(s, strlen(s)));
}

/* Model. */

static void
bp_principal_free(struct bundle_principal *p)
{
	size_t	i;

	free(p->account);
	free(p->name);
	for (i = 0; i < p->ngroups; i++)
		free(p->groups[i]);
	free(p->groups);
	for (i = 0; i < p->npolicies; i++)
		free(p->policies[i]);
	free(p->policies);
}

void
bundle_free(struct bundle *b)
{
	size_t	i, j;

	if (b == NULL)
		return;
	for (i = 0; i < b->ninstances; i++) {
		free(b->instances[i].id);
		free(b->instances[i].account);
	}
	free(b->instances);
	for (i = 0; i < b->nkeys; i++) {
		free(b->keys[i].id);
		free(b->keys[i].region);
		free(b->keys[i].creator);
		free(b->keys[i].instance);
		for (j = 0; j < b->keys[i].ntags; j++) {
			free(b->keys[i].tags[j].key);
			free(b->keys[i].tags[j].value);
		}
		free(b->keys[i].tags);
		free(b->keys[i].policy);
	}
	free(b->keys);
	for (i = 0; i < b->naliases; i++) {
		free(b->aliases[i].name);
		free(b->aliases[i].key_id);
	}
	free(b->aliases);
	for (i = 0; i < b->npolicies; i++) {
		free(b->policies[i].account);
		free(b->policies[i].name);
		free(b->policies[i].text);
		for (j = 0; j < b->policies[i].nversions; j++)
			free(b->policies[i].versions[j].text);
		free(b->policies[i].versions);
	}
	free(b->policies);
	for (i = 0; i < b->nusers; i++)
		bp_principal_free(&b->users[i]);
	free(b->users);
	for (i = 0; i < b->nroles; i++)
		bp_principal_free(&b->roles[i]);
	free(b->roles);
	for (i = 0; i < b->ngroups; i++)
		bp_principal_free(&b->groups[i]);
	free(b->groups);
	bp_compiled_free(b->compiled);
	free(b);
}

/* JSON reading helpers. */

/* Checks that every key of o is in allowed (NULL-terminated). */
static void
bp_fields(struct bp *bp, struct json_object *o, const char *path,
    const char *const *allowed)
{
	char		 p[BP_PATH_MAX];
	size_t		 i;

	json_object_object_foreach(o, k, v) {
		(void)v;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			bp_path(p, sizeof(p), "%s%s%s", path,
			    *path ? "." : "", k);
			bp_err(bp, p, "unknown field %s", k);
		}
	}
}

/*
 * A required (or optional) string field; returns a malloc'd copy, or
 * NULL with the error reported (not for an absent optional field).
 */
static char *
bp_str(struct bp *bp, struct json_object *o, const char *path,
    const char *field, int required)
{
	struct json_object	*v;
	char			 p[BP_PATH_MAX];
	char			*s;

	bp_path(p, sizeof(p), "%s.%s", path, field);
	if (!json_object_object_get_ex(o, field, &v)) {
		if (required)
			bp_err(bp, p, "%s is required", field);
		return (NULL);
	}
	if (!json_object_is_type(v, json_type_string)) {
		bp_err(bp, p, "%s must be a string", field);
		return (NULL);
	}
	if ((s = strdup(json_object_get_string(v))) == NULL)
		bp->oom = 1;
	return (s);
}

/* An optional array of strings (absent: empty). */
static int
bp_strarr(struct bp *bp, struct json_object *o, const char *path,
    const char *field, char ***vp, size_t *np)
{
	struct json_object	*v, *e;
	char			 p[BP_PATH_MAX];
	size_t			 i, n;

	*vp = NULL;
	*np = 0;
	bp_path(p, sizeof(p), "%s.%s", path, field);
	if (!json_object_object_get_ex(o, field, &v))
		return (0);
	if (!json_object_is_type(v, json_type_array)) {
		bp_err(bp, p, "%s must be an array of names", field);
		return (-1);
	}
	n = json_object_array_length(v);
	if (n == 0)
		return (0);
	if ((*vp = calloc(n, sizeof(char *))) == NULL) {
		bp->oom = 1;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			/* NULL keeps the index: reported here, once. */
			bp_path(p, sizeof(p), "%s.%s[%zu]", path, field, i);
			bp_err(bp, p, "must be a string");
		} else if (((*vp)[*np] = strdup(json_object_get_string(e))) ==
		    NULL) {
			bp->oom = 1;
			return (-1);
		}
		(*np)++;
	}
	return (0);
}

/*
 * A policy document given as an object (stored as its compact
 * serialization) or as JSON text (stored as given).
 */
static char *
bp_doc(struct bp *bp, struct json_object *v, const char *path, size_t *lenp)
{
	const char	*s;
	char		*t;
	size_t		 len;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
	} else if (json_object_is_type(v, json_type_object)) {
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		if (s == NULL) {
			bp->oom = 1;
			return (NULL);
		}
		len = strlen(s);
	} else {
		bp_err(bp, path, "a policy document is a JSON object or its "
		    "text");
		return (NULL);
	}
	if ((t = malloc(len + 1)) == NULL) {
		bp->oom = 1;
		return (NULL);
	}
	memcpy(t, s, len);
	t[len] = '\0';
	*lenp = len;
	return (t);
}

/* The array field name of the top-level object (absent: 0 elements). */
static struct json_object *
bp_array(struct bp *bp, struct json_object *top, const char *name,
    size_t *np)
{
	struct json_object	*v;

	*np = 0;
	if (!json_object_object_get_ex(top, name, &v))
		return (NULL);
	if (!json_object_is_type(v, json_type_array)) {
		bp_err(bp, name, "%s must be an array", name);
		return (NULL);
	}
	*np = json_object_array_length(v);
	return (v);
}

static struct json_object *
bp_elem(struct bp *bp, struct json_object *arr, size_t i, const char *name,
    char *path, size_t pathsz)
{
	struct json_object	*e = json_object_array_get_idx(arr, i);

	snprintf(path, pathsz, "%s[%zu]", name, i);
	if (!json_object_is_type(e, json_type_object)) {
		bp_err(bp, path, "must be an object");
		return (NULL);
	}
	return (e);
}

static void
bp_read_instances(struct bp *bp, struct json_object *top, struct bundle *b)
{
	static const char *const f[] = { "InstanceId", "State", "ShareQuota",
	    "Account", NULL };
	struct json_object	*arr, *e, *v;
	struct bundle_instance	*in;
	char			 path[BP_PATH_MAX], p[BP_PATH_MAX];
	const char		*s;
	int64_t			 q;
	size_t			 i, n;

	if ((arr = bp_array(bp, top, "Instances", &n)) == NULL || n == 0)
		return;
	if ((b->instances = calloc(n, sizeof(*b->instances))) == NULL) {
		bp->oom = 1;
		return;
	}
	b->ninstances = n;
	for (i = 0; i < n; i++) {
		in = &b->instances[i];
		if ((e = bp_elem(bp, arr, i, "Instances", path,
		    sizeof(path))) == NULL)
			continue;
		bp_fields(bp, e, path, f);
		in->id = bp_str(bp, e, path, "InstanceId", 1);
		bp_path(p, sizeof(p), "%s.State", path);
		if (!json_object_object_get_ex(e, "State", &v))
			bp_err(bp, p, "State is required");
		else if (!json_object_is_type(v, json_type_string) ||
		    (s = json_object_get_string(v), world_instance_state_parse(
		    s, strlen(s), &in->state) == -1))
			bp_err(bp, p, "State must be Enabled, Disabled or "
			    "Expired");
		bp_path(p, sizeof(p), "%s.ShareQuota", path);
		if (!json_object_object_get_ex(e, "ShareQuota", &v))
			bp_err(bp, p, "ShareQuota is required");
		else if (!json_object_is_type(v, json_type_int) ||
		    (q = json_object_get_int64(v)) < 0 || q > UINT32_MAX)
			bp_err(bp, p, "ShareQuota must be an integer from 0 to "
			    "%u", UINT32_MAX);
		else
			in->share_quota = (uint32_t)q;
		in->account = bp_str(bp, e, path, "Account", 0);
	}
}

static void
bp_read_keys(struct bp *bp, struct json_object *top, struct bundle *b)
{
	static const char *const f[] = { "KeyId", "Region", "Creator",
	    "DKMSInstanceId", "KeyState", "Tags", "KeyPolicy", NULL };
	struct json_object	*arr, *e, *v;
	struct bundle_key	*k;
	char			 path[BP_PATH_MAX], p[BP_PATH_MAX];
	const char		*s;
	size_t			 i, n, nt;

	if ((arr = bp_array(bp, top, "Keys", &n)) == NULL || n == 0)
		return;
	if ((b->keys = calloc(n, sizeof(*b->keys))) == NULL) {
		bp->oom = 1;
		return;
	}
	b->nkeys = n;
	for (i = 0; i < n; i++) {
		k = &b->keys[i];
		if ((e = bp_elem(bp, arr, i, "Keys", path,
		    sizeof(path))) == NULL)
			continue;
		bp_fields(bp, e, path, f);
		k->id = bp_str(bp, e, path, "KeyId", 1);
		k->region = bp_str(bp, e, path, "Region", 1);
		k->creator = bp_str(bp, e, path, "Creator", 1);
		k->instance = bp_str(bp, e, path, "DKMSInstanceId", 0);
		bp_path(p, sizeof(p), "%s.KeyState", path);
		if (!json_object_object_get_ex(e, "KeyState", &v))
			bp_err(bp, p, "KeyState is required");
		else if (!json_object_is_type(v, json_type_string) ||
		    (s = json_object_get_string(v), world_key_state_parse(s,
		    strlen(s), &k->state) == -1))
			bp_err(bp, p, "KeyState must be Enabled, Disabled, "
			    "PendingDeletion or PendingImport");
		bp_path(p, sizeof(p), "%s.Tags", path);
		if (json_object_object_get_ex(e, "Tags", &v)) {
			if (!json_object_is_type(v, json_type_object))
				bp_err(bp, p, "Tags must be an object of "
				    "strings");
			else if ((nt = (size_t)json_object_object_length(v))
			    > 0) {
				if ((k->tags = calloc(nt, sizeof(*k->tags))) ==
				    NULL) {
					bp->oom = 1;
					return;
				}
				json_object_object_foreach(v, tk, tv) {
					if (!json_object_is_type(tv,
					    json_type_string)) {
						bp_path(p, sizeof(p),
						    "%s.Tags.%s", path, tk);
						bp_err(bp, p, "a tag value is "
						    "a string");
						continue;
					}
					k->tags[k->ntags].key = strdup(tk);
					k->tags[k->ntags].value = strdup(
					    json_object_get_string(tv));
					if (k->tags[k->ntags].key == NULL ||
					    k->tags[k->ntags].value == NULL)
						bp->oom = 1;
					k->ntags++;
				}
			}
		}
		bp_path(p, sizeof(p), "%s.KeyPolicy", path);
		if (json_object_object_get_ex(e, "KeyPolicy", &v)) {
			if (k->instance == NULL &&
			    !json_object_object_get_ex(e, "DKMSInstanceId",
			    NULL))
				bp_errc(bp, "Forbidden.KeyPolicyUnSupported", p,
				    "a key outside any KMS instance has no "
				    "key policy");
			else
				k->policy = bp_doc(bp, v, p, &k->policy_len);
		} else if (k->instance != NULL && k->creator != NULL) {
			/* Section 5: the default key policy. */
			if ((k->policy = policy_default_key_policy(
			    k->creator)) == NULL)
				bp->oom = 1;
			else
				k->policy_len = strlen(k->policy);
		}
	}
}

static void
bp_read_aliases(struct bp *bp, struct json_object *top, struct bundle *b)
{
	static const char *const f[] = { "AliasName", "KeyId", NULL };
	struct json_object	*arr, *e;
	char			 path[BP_PATH_MAX];
	size_t			 i, n;

	if ((arr = bp_array(bp, top, "Aliases", &n)) == NULL || n == 0)
		return;
	if ((b->aliases = calloc(n, sizeof(*b->aliases))) == NULL) {
		bp->oom = 1;
		return;
	}
	b->naliases = n;
	for (i = 0; i < n; i++) {
		if ((e = bp_elem(bp, arr, i, "Aliases", path,
		    sizeof(path))) == NULL)
			continue;
		bp_fields(bp, e, path, f);
		b->aliases[i].name = bp_str(bp, e, path, "AliasName", 1);
		b->aliases[i].key_id = bp_str(bp, e, path, "KeyId", 1);
	}
}

/* "v<N>", N from 1 without leading zeros, into *idp; 0 or -1. */
static int
bp_version_id(const char *s, uint32_t *idp)
{
	uint64_t	 n = 0;
	size_t		 i;

	if (s[0] != 'v' || s[1] < '1' || s[1] > '9')
		return (-1);
	for (i = 1; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i > 10)
			return (-1);
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > UINT32_MAX)
		return (-1);
	*idp = (uint32_t)n;
	return (0);
}

/*
 * The Versions form of policy po at path.  Types and fields here; the
 * rules over the versions (ids unique, one default) in bp_check.  A
 * field that is broken leaves its "unknown" mark (id 0, is_default -1,
 * text NULL) so that bp_check reports nothing that follows from it.
 */
static void
bp_read_versions(struct bp *bp, struct json_object *arr, const char *path,
    struct bundle_policy *po)
{
	static const char *const f[] = { "VersionId", "IsDefaultVersion",
	    "PolicyDocument", "CreateDate", NULL };
	struct bundle_policy_version	*pv;
	struct json_object		*e, *v;
	char				 vp[BP_PATH_MAX], p[BP_PATH_MAX];
	char				*id;
	size_t				 j, n;

	bp_path(p, sizeof(p), "%s.Versions", path);
	if (!json_object_is_type(arr, json_type_array)) {
		bp_err(bp, p, "Versions must be an array of 1 to %d versions",
		    BUNDLE_POLICY_VERSIONS_MAX);
		return;
	}
	n = json_object_array_length(arr);
	if (n == 0 || n > BUNDLE_POLICY_VERSIONS_MAX) {
		bp_err(bp, p, "Versions must hold 1 to %d versions, not %zu",
		    BUNDLE_POLICY_VERSIONS_MAX, n);
		return;
	}
	if ((po->versions = calloc(n, sizeof(*po->versions))) == NULL) {
		bp->oom = 1;
		return;
	}
	po->nversions = n;
	for (j = 0; j < n; j++) {
		pv = &po->versions[j];
		pv->is_default = -1;
		e = json_object_array_get_idx(arr, j);
		bp_path(vp, sizeof(vp), "%s.Versions[%zu]", path, j);
		if (!json_object_is_type(e, json_type_object)) {
			bp_err(bp, vp, "must be an object");
			continue;
		}
		bp_fields(bp, e, vp, f);
		bp_path(p, sizeof(p), "%s.VersionId", vp);
		if ((id = bp_str(bp, e, vp, "VersionId", 1)) != NULL &&
		    bp_version_id(id, &pv->id) == -1)
			bp_err(bp, p, "VersionId must be v1, v2, ... (\"v\" and "
			    "a number from 1, no leading zero)");
		free(id);
		bp_path(p, sizeof(p), "%s.IsDefaultVersion", vp);
		if (!json_object_object_get_ex(e, "IsDefaultVersion", &v))
			bp_err(bp, p, "IsDefaultVersion is required");
		else if (!json_object_is_type(v, json_type_boolean))
			bp_err(bp, p, "IsDefaultVersion must be true or false");
		else
			pv->is_default = json_object_get_boolean(v) ? 1 : 0;
		bp_path(p, sizeof(p), "%s.PolicyDocument", vp);
		if (!json_object_object_get_ex(e, "PolicyDocument", &v))
			bp_err(bp, p, "PolicyDocument is required");
		else
			pv->text = bp_doc(bp, v, p, &pv->len);
		bp_path(p, sizeof(p), "%s.CreateDate", vp);
		if (!json_object_object_get_ex(e, "CreateDate", &v))
			continue;
		if (!json_object_is_type(v, json_type_string) ||
		    bundle_date_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v),
		    &pv->create_ms) == -1)
			bp_err(bp, p, "CreateDate must be an RFC 3339 date and "
			    "time as a string (\"2026-01-02T03:04:05Z\")");
		else
			pv->has_date = 1;
	}
	/* The policy's text is its default version's. */
	for (j = 0; j < n; j++)
		if (po->versions[j].is_default == 1 &&
		    po->versions[j].text != NULL) {
			if ((po->text = strdup(po->versions[j].text)) == NULL)
				bp->oom = 1;
			po->len = po->versions[j].len;
			break;
		}
}

static void
bp_read_policies(struct bp *bp, struct json_object *top, struct bundle *b)
{
	static const char *const f[] = { "PolicyName", "Account",
	    "PolicyDocument", "Versions", NULL };
	struct json_object	*arr, *e, *v, *vv;
	struct bundle_policy	*po;
	char			 path[BP_PATH_MAX], p[BP_PATH_MAX];
	size_t			 i, n;
	int			 hasdoc, hasvers;

	if ((arr = bp_array(bp, top, "Policies", &n)) == NULL || n == 0)
		return;
	if ((b->policies = calloc(n, sizeof(*b->policies))) == NULL) {
		bp->oom = 1;
		return;
	}
	b->npolicies = n;
	for (i = 0; i < n; i++) {
		po = &b->policies[i];
		if ((e = bp_elem(bp, arr, i, "Policies", path,
		    sizeof(path))) == NULL)
			continue;
		bp_fields(bp, e, path, f);
		po->name = bp_str(bp, e, path, "PolicyName", 1);
		po->account = bp_str(bp, e, path, "Account", 1);
		hasdoc = json_object_object_get_ex(e, "PolicyDocument", &v);
		hasvers = json_object_object_get_ex(e, "Versions", &vv);
		if (hasdoc && hasvers) {
			bp_path(p, sizeof(p), "%s.Versions", path);
			bp_err(bp, p, "a policy has PolicyDocument (one "
			    "version) or Versions, not both");
		} else if (hasvers)
			bp_read_versions(bp, vv, path, po);
		else {
			bp_path(p, sizeof(p), "%s.PolicyDocument", path);
			if (!hasdoc)
				bp_err(bp, p, "PolicyDocument (or Versions) "
				    "is required");
			else
				po->text = bp_doc(bp, v, p, &po->len);
		}
	}
}

static void
bp_read_principals(struct bp *bp, struct json_object *top, const char *arrname,
    const char *namefield, int with_groups, struct bundle_principal **vp,
    size_t *np)
{
	static const char *const fu[] = { "Account", "UserName", "Groups",
	    "Policies", NULL };
	static const char *const fr[] = { "Account", "RoleName", "Policies",
	    NULL };
	static const char *const fg[] = { "Account", "GroupName", "Policies",
	    NULL };
	struct json_object	*arr, *e;
	struct bundle_principal	*pr;
	char			 path[BP_PATH_MAX];
	size_t			 i, n;

	if ((arr = bp_array(bp, top, arrname, &n)) == NULL || n == 0)
		return;
	if ((*vp = calloc(n, sizeof(**vp))) == NULL) {
		bp->oom = 1;
		return;
	}
	*np = n;
	for (i = 0; i < n; i++) {
		pr = &(*vp)[i];
		if ((e = bp_elem(bp, arr, i, arrname, path,
		    sizeof(path))) == NULL)
			continue;
		bp_fields(bp, e, path, with_groups ? fu :
		    strcmp(namefield, "RoleName") == 0 ? fr : fg);
		pr->account = bp_str(bp, e, path, "Account", 1);
		pr->name = bp_str(bp, e, path, namefield, 1);
		if (with_groups)
			(void)bp_strarr(bp, e, path, "Groups", &pr->groups,
			    &pr->ngroups);
		(void)bp_strarr(bp, e, path, "Policies", &pr->policies,
		    &pr->npolicies);
	}
}

/* Semantic checks. */

struct bp_quota {
	struct bp_set	accounts;
	int		reported;
};

struct bp_fa {
	struct bp_set	*set;
	int		 oom;
};

static int
bp_fa_add(const char *s, size_t len, void *arg)
{
	struct bp_fa	*fa = arg;
	char		*t;

	if ((t = strndup(s, len)) == NULL) {
		fa->oom = 1;
		return (1);
	}
	if (bp_set_add(fa->set, t, NULL, NULL) == -1)
		fa->oom = 1;
	free(t);
	return (fa->oom);
}

static void
bp_check_principals(struct bp *bp, const struct bundle_principal *v,
    size_t n, const char *arrname, const char *namefield,
    const struct bp_set *policies, const struct bp_set *groups,
    int from_parse)
{
	struct bp_set	 seen;
	char		 path[BP_PATH_MAX], p[BP_PATH_MAX];
	size_t		 i, j;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		bp_path(path, sizeof(path), "%s[%zu]", arrname, i);
		bp_path(p, sizeof(p), "%s.Account", path);
		if (v[i].account == NULL) {
			if (!from_parse)
				bp_err(bp, p, "Account is required");
		} else if (!bp_digits(v[i].account))
			bp_err(bp, p, "Account must be an account id (digits)");
		else
			(void)bp_toolong(bp, p, "Account", v[i].account,
			    LIMITS_ID_MAX);
		bp_path(p, sizeof(p), "%s.%s", path, namefield);
		if (v[i].name == NULL) {
			if (!from_parse)
				bp_err(bp, p, "%s is required", namefield);
		} else if (v[i].name[0] == '\0')
			bp_err(bp, p, "%s must not be empty", namefield);
		else if (bp_toolong(bp, p, namefield, v[i].name,
		    LIMITS_ID_MAX))
			;
		else if (v[i].account != NULL && bp_set_add(&seen,
		    v[i].account, v[i].name, NULL) == 0)
			bp_err(bp, p, "%s %s exists already in account %s",
			    namefield, v[i].name, v[i].account);
		if (v[i].ngroups > LIMITS_LIST_MAX) {
			bp_path(p, sizeof(p), "%s.Groups", path);
			bp_err(bp, p, "%zu groups; at most %d", v[i].ngroups,
			    LIMITS_LIST_MAX);
		}
		if (v[i].npolicies > LIMITS_LIST_MAX) {
			bp_path(p, sizeof(p), "%s.Policies", path);
			bp_err(bp, p, "%zu policies; at most %d",
			    v[i].npolicies, LIMITS_LIST_MAX);
		}
		for (j = 0; j < v[i].ngroups; j++) {
			bp_path(p, sizeof(p), "%s.Groups[%zu]", path, j);
			if (v[i].groups[j] == NULL) {
				if (!from_parse)
					bp_err(bp, p, "must be a string");
			} else if (v[i].groups[j][0] == '\0')
				bp_err(bp, p, "a group name must not be empty");
			else if (groups != NULL && v[i].account != NULL &&
			    !bp_set_has(groups, v[i].account, v[i].groups[j],
			    NULL))
				bp_err(bp, p, "no group %s in account %s",
				    v[i].groups[j], v[i].account);
		}
		for (j = 0; j < v[i].npolicies; j++) {
			bp_path(p, sizeof(p), "%s.Policies[%zu]", path, j);
			if (v[i].policies[j] == NULL) {
				if (!from_parse)
					bp_err(bp, p, "must be a string");
			} else if (v[i].policies[j][0] == '\0')
				bp_err(bp, p, "a policy name must not be "
				    "empty");
			else if (v[i].account != NULL && !bp_set_has(policies,
			    v[i].account, v[i].policies[j], NULL))
				bp_err(bp, p, "no policy %s in account %s",
				    v[i].policies[j], v[i].account);
		}
	}
	if (seen.oom)
		bp->oom = 1;
	bp_set_free(&seen);
}

static int
bp_key_cmp(const void *a, const void *b, void *arg)
{
	const struct bundle	*bd = arg;
	const char		*x = bd->keys[*(const size_t *)a].id;
	const char		*y = bd->keys[*(const size_t *)b].id;

	return (strcmp(x ? x : "", y ? y : ""));
}

/* Key indices sorted by id, for lookups by id. */
static size_t *
bp_key_index(const struct bundle *b)
{
	size_t	*v, i;

	if ((v = calloc(b->nkeys + 1, sizeof(*v))) == NULL)
		return (NULL);
	for (i = 0; i < b->nkeys; i++)
		v[i] = i;
	qsort_r(v, b->nkeys, sizeof(*v), bp_key_cmp, (void *)b);
	return (v);
}

static const struct bundle_key *
bp_key_find(const struct bundle *b, const size_t *kidx, const char *id)
{
	size_t		lo = 0, hi = b->nkeys, mid;
	const char	*k;
	int		c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		k = b->keys[kidx[mid]].id ? b->keys[kidx[mid]].id : "";
		if ((c = strcmp(id, k)) == 0)
			return (&b->keys[kidx[mid]]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

static const struct bundle_instance *
bp_find_instance(const struct bundle *b, const char *id)
{
	size_t	i;

	for (i = 0; i < b->ninstances; i++)
		if (b->instances[i].id != NULL &&
		    strcmp(b->instances[i].id, id) == 0)
			return (&b->instances[i]);
	return (NULL);
}

/*
 * The rules over a policy's versions: 1 to 5, ids unique, exactly one
 * default, every document a valid RAM policy, and (for a bundle built
 * in memory) the policy's text the default's.
 */
static void
bp_check_versions(struct bp *bp, struct bp_share *sh,
    const struct bundle_policy *po, const char *path, size_t ram_max,
    int from_parse, struct cpolicy **cpp)
{
	const struct bundle_policy_version *pv;
	struct cpolicy		*cp;
	char			 p[BP_PATH_MAX];
	size_t			 j, k, def = SIZE_MAX;
	int			 unknown = 0;

	if (po->nversions == 0 || po->nversions > BUNDLE_POLICY_VERSIONS_MAX) {
		bp_path(p, sizeof(p), "%s.Versions", path);
		bp_err(bp, p, "Versions must hold 1 to %d versions, not %zu",
		    BUNDLE_POLICY_VERSIONS_MAX, po->nversions);
		return;
	}
	for (j = 0; j < po->nversions; j++) {
		pv = &po->versions[j];
		bp_path(p, sizeof(p), "%s.Versions[%zu].VersionId", path, j);
		if (pv->id == 0) {
			unknown = 1;
			if (!from_parse)
				bp_err(bp, p, "VersionId must be v1, v2, ...");
		} else
			for (k = 0; k < j; k++)
				if (po->versions[k].id == pv->id) {
					bp_err(bp, p, "duplicate VersionId "
					    "v%" PRIu32, pv->id);
					break;
				}
		bp_path(p, sizeof(p), "%s.Versions[%zu].IsDefaultVersion",
		    path, j);
		if (pv->is_default == -1) {
			unknown = 1;
			if (!from_parse)
				bp_err(bp, p, "IsDefaultVersion must be true "
				    "or false");
		} else if (pv->is_default == 1 && def != SIZE_MAX)
			bp_err(bp, p, "only one version is the default "
			    "(Versions[%zu] is already)", def);
		else if (pv->is_default == 1)
			def = j;
		bp_path(p, sizeof(p), "%s.Versions[%zu].PolicyDocument", path,
		    j);
		if (pv->text == NULL) {
			if (!from_parse)
				bp_err(bp, p, "PolicyDocument is required");
			continue;
		}
		cp = bp_compile_doc(bp, sh, POLICY_KIND_RAM, pv->text,
		    pv->len, ram_max, p);
		/* Kept for the default only (the one that decides). */
		if (cp != NULL && cpp != NULL && pv->is_default == 1 &&
		    *cpp == NULL)
			*cpp = cp;
		else
			cpolicy_unref(cp);
	}
	bp_path(p, sizeof(p), "%s.Versions", path);
	if (def == SIZE_MAX && !unknown)
		bp_err(bp, p, "exactly one version is the default "
		    "(IsDefaultVersion true); none is");
	else if (def != SIZE_MAX && !from_parse &&
	    (po->text == NULL || po->len != po->versions[def].len ||
	    (po->versions[def].text != NULL && memcmp(po->text,
	    po->versions[def].text, po->len) != 0)))
		bp_err(bp, p, "the policy's text is not its default "
		    "version's");
}

/* What the checks over one bundle share. */
struct bp_ck {
	struct bp		*bp;
	const struct bundle	*b;
	size_t			 ram_max;
	int			 from_parse;
	struct bundle_compiled	*keep;
	struct bp_share		 share;
	struct bp_set		 inst, keys, aliases, pols, grps;
	struct bp_quota		*quota;
	size_t			*kidx;
};

static void
bp_check_instances(struct bp_ck *ck)
{
	const struct bundle	*b = ck->b;
	struct bp		*bp = ck->bp;
	char			 p[BP_PATH_MAX];
	size_t			 i;

	for (i = 0; i < b->ninstances; i++) {
		bp_path(p, sizeof(p), "Instances[%zu].InstanceId", i);
		if (b->instances[i].id == NULL) {
			if (!ck->from_parse)
				bp_err(bp, p, "InstanceId is required");
		} else if (b->instances[i].id[0] == '\0')
			bp_err(bp, p, "InstanceId must not be empty");
		else if (bp_toolong(bp, p, "InstanceId", b->instances[i].id,
		    LIMITS_ID_MAX))
			;
		else if (bp_set_add(&ck->inst, b->instances[i].id, NULL,
		    NULL) == 0)
			bp_err(bp, p, "duplicate InstanceId %s",
			    b->instances[i].id);
		if (world_instance_state_name(b->instances[i].state) == NULL)
			bp_err(bp, "Instances", "bad instance state");
		bp_path(p, sizeof(p), "Instances[%zu].Account", i);
		if (b->instances[i].account != NULL &&
		    !bp_toolong(bp, p, "Account", b->instances[i].account,
		    LIMITS_ID_MAX) && !bp_digits(b->instances[i].account))
			bp_err(bp, p, "Account must be an account id (digits)");
	}
}

/* A key's id, region, creator and state. */
static void
bp_check_key_names(struct bp_ck *ck, const struct bundle_key *k,
    const char *path)
{
	struct bp	*bp = ck->bp;
	char		 p[BP_PATH_MAX];

	bp_path(p, sizeof(p), "%s.KeyId", path);
	if (k->id == NULL) {
		if (!ck->from_parse)
			bp_err(bp, p, "KeyId is required");
	} else if (k->id[0] == '\0' || strchr(k->id, '/') != NULL)
		bp_err(bp, p, "KeyId must be non-empty and contain no /");
	else if (bp_toolong(bp, p, "KeyId", k->id, LIMITS_ID_MAX))
		;
	else if (bp_set_add(&ck->keys, k->id, NULL, NULL) == 0)
		bp_err(bp, p, "duplicate KeyId %s", k->id);
	bp_path(p, sizeof(p), "%s.Region", path);
	if (k->region == NULL) {
		if (!ck->from_parse)
			bp_err(bp, p, "Region is required");
	} else if (k->region[0] == '\0' || strchr(k->region, ':'))
		bp_err(bp, p, "Region must be non-empty and contain no :");
	else
		(void)bp_toolong(bp, p, "Region", k->region, LIMITS_ID_MAX);
	bp_path(p, sizeof(p), "%s.Creator", path);
	if (k->creator == NULL) {
		if (!ck->from_parse)
			bp_err(bp, p, "Creator is required");
	} else if (!bp_digits(k->creator))
		bp_err(bp, p, "Creator must be an account id (digits)");
	else
		(void)bp_toolong(bp, p, "Creator", k->creator, LIMITS_ID_MAX);
	if (world_key_state_name(k->state) == NULL)
		bp_err(bp, path, "bad key state");
}

/* A key's tags: bounded, non-empty keys, none equal but for case. */
static void
bp_check_key_tags(struct bp_ck *ck, const struct bundle_key *k,
    const char *path)
{
	struct bp	*bp = ck->bp;
	char		 p[BP_PATH_MAX];
	size_t		 j, t;

	if (k->ntags > LIMITS_TAGS_MAX) {
		bp_path(p, sizeof(p), "%s.Tags", path);
		bp_err(bp, p, "%zu tags; a key has at most %d", k->ntags,
		    LIMITS_TAGS_MAX);
	}
	for (j = 0; j < k->ntags; j++) {
		bp_path(p, sizeof(p), "%s.Tags.%s", path,
		    k->tags[j].key ? k->tags[j].key : "");
		if (k->tags[j].key == NULL || k->tags[j].value == NULL) {
			bp_err(bp, p, "a tag needs a key and a value");
			continue;
		}
		if (k->tags[j].key[0] == '\0') {
			bp_err(bp, p, "a tag key must not be empty");
			continue;
		}
		if (bp_toolong(bp, p, "the tag key", k->tags[j].key,
		    LIMITS_TAG_KEY_MAX) || bp_toolong(bp, p, "the tag value",
		    k->tags[j].value, LIMITS_TAG_VALUE_MAX))
			continue;
		for (t = 0; t < j; t++)
			if (k->tags[t].key != NULL && world_tag_key_same(
			    k->tags[t].key, k->tags[j].key)) {
				bp_err(bp, p, "tag keys %s and %s differ only "
				    "in case (a condition matches tag keys "
				    "case-insensitively)", k->tags[t].key,
				    k->tags[j].key);
				break;
			}
	}
}

/* Share quota, in bundle order: the instance's foreign accounts. */
static void
bp_check_key_quota(struct bp_ck *ck, const struct bundle_key *k,
    const struct bundle_instance *in, struct cpolicy *cp, const char *p)
{
	struct bp_quota	*q = &ck->quota[in - ck->b->instances];
	struct bp_fa	 fa;
	size_t		 before = q->accounts.n;

	fa.set = &q->accounts;
	fa.oom = 0;
	(void)cpolicy_foreign_accounts(cp, k->creator, bp_fa_add, &fa);
	if (fa.oom)
		ck->bp->oom = 1;
	if (!q->reported && q->accounts.n > in->share_quota &&
	    q->accounts.n > before) {
		q->reported = 1;
		bp_errc(ck->bp, "Rejected.ShareQuotaExceedLimit", p, "the key "
		    "policies of instance %s grant %zu foreign accounts, over "
		    "its share quota of %u", in->id, q->accounts.n,
		    in->share_quota);
	}
}

static void
bp_check_key(struct bp_ck *ck, size_t i)
{
	const struct bundle_key		*k = &ck->b->keys[i];
	const struct bundle_instance	*in = NULL;
	struct bp			*bp = ck->bp;
	struct cpolicy			*cp;
	char				 path[BP_PATH_MAX], p[BP_PATH_MAX];

	bp_path(path, sizeof(path), "Keys[%zu]", i);
	bp_check_key_names(ck, k, path);
	bp_check_key_tags(ck, k, path);
	if (k->instance != NULL) {
		bp_path(p, sizeof(p), "%s.DKMSInstanceId", path);
		if ((in = bp_find_instance(ck->b, k->instance)) == NULL)
			bp_err(bp, p, "no instance %s in the bundle",
			    k->instance);
	}
	bp_path(p, sizeof(p), "%s.KeyPolicy", path);
	if (k->policy == NULL) {
		if (k->instance != NULL && !ck->from_parse)
			bp_err(bp, p, "a key in an instance has a key policy");
		return;
	}
	if (k->instance == NULL) {
		if (!ck->from_parse)
			bp_errc(bp, "Forbidden.KeyPolicyUnSupported", p,
			    "a key outside any KMS instance has no key policy");
		return;
	}
	if ((cp = bp_compile_doc(bp, &ck->share, POLICY_KIND_KEY, k->policy,
	    k->policy_len, POLICY_KEY_MAX_BYTES, p)) == NULL)
		return;
	if (in != NULL && k->creator != NULL)
		bp_check_key_quota(ck, k, in, cp, p);
	if (ck->keep != NULL && ck->keep->key[i] == NULL)
		ck->keep->key[i] = cp;
	else
		cpolicy_unref(cp);
}

/* Aliases: unique per account and region of their key. */
static void
bp_check_aliases(struct bp_ck *ck)
{
	const struct bundle	*b = ck->b;
	const struct bundle_key	*k;
	struct bp		*bp = ck->bp;
	char			 path[BP_PATH_MAX], p[BP_PATH_MAX];
	size_t			 i, n;

	for (i = 0; i < b->naliases; i++) {
		bp_path(path, sizeof(path), "Aliases[%zu]", i);
		bp_path(p, sizeof(p), "%s.AliasName", path);
		if (b->aliases[i].name == NULL) {
			if (!ck->from_parse)
				bp_err(bp, p, "AliasName is required");
		} else if (!ident_alias(b->aliases[i].name,
		    strlen(b->aliases[i].name)))
			bp_err(bp, p, "AliasName is alias/ followed by a name");
		else
			(void)bp_toolong(bp, p, "AliasName",
			    b->aliases[i].name, LIMITS_ID_MAX);
		bp_path(p, sizeof(p), "%s.KeyId", path);
		if (b->aliases[i].key_id == NULL) {
			if (!ck->from_parse)
				bp_err(bp, p, "KeyId is required");
			continue;
		}
		if ((k = bp_key_find(b, ck->kidx, b->aliases[i].key_id)) ==
		    NULL) {
			bp_err(bp, p, "no key %s in the bundle",
			    b->aliases[i].key_id);
			continue;
		}
		if (b->aliases[i].name == NULL || k->region == NULL ||
		    k->creator == NULL)
			continue;
		bp_path(p, sizeof(p), "%s.AliasName", path);
		/* Stored under region, account and name together. */
		n = strlen(k->region) + strlen(k->creator) +
		    strlen(b->aliases[i].name) + 2;
		if (strlen(b->aliases[i].name) <= LIMITS_ID_MAX &&
		    strlen(k->region) <= LIMITS_ID_MAX &&
		    strlen(k->creator) <= LIMITS_ID_MAX &&
		    n > LIMITS_RECORD_KEY_MAX)
			bp_err(bp, p, "the alias's region, account and name "
			    "are %zu bytes together, more than %d", n,
			    LIMITS_RECORD_KEY_MAX);
		else if (bp_set_add(&ck->aliases, k->region, k->creator,
		    b->aliases[i].name) == 0)
			bp_err(bp, p, "alias %s exists already in account %s, "
			    "region %s", b->aliases[i].name, k->creator,
			    k->region);
	}
}

/* Identity policies: names, then their document or versions. */
static void
bp_check_policy(struct bp_ck *ck, size_t i)
{
	const struct bundle_policy	*po = &ck->b->policies[i];
	struct bp			*bp = ck->bp;
	struct cpolicy			*cp;
	char				 path[BP_PATH_MAX], p[BP_PATH_MAX];

	bp_path(path, sizeof(path), "Policies[%zu]", i);
	bp_path(p, sizeof(p), "%s.Account", path);
	if (po->account == NULL) {
		if (!ck->from_parse)
			bp_err(bp, p, "Account is required");
	} else if (!bp_digits(po->account))
		bp_err(bp, p, "Account must be an account id (digits)");
	else
		(void)bp_toolong(bp, p, "Account", po->account, LIMITS_ID_MAX);
	bp_path(p, sizeof(p), "%s.PolicyName", path);
	if (po->name == NULL) {
		if (!ck->from_parse)
			bp_err(bp, p, "PolicyName is required");
	} else if (!ident_policy_name(po->name, strlen(po->name)))
		bp_err(bp, p, "a policy name is 1 to %d characters of "
		    "A-Z a-z 0-9 . -", POLICY_NAME_MAX);
	else if (po->account != NULL && bp_set_add(&ck->pols, po->account,
	    po->name, NULL) == 0)
		bp_err(bp, p, "policy %s exists already in account %s",
		    po->name, po->account);
	if (po->versions != NULL) {
		bp_check_versions(bp, &ck->share, po, path, ck->ram_max,
		    ck->from_parse, ck->keep != NULL &&
		    ck->keep->pol[i] == NULL ? &ck->keep->pol[i] : NULL);
		return;
	}
	bp_path(p, sizeof(p), "%s.PolicyDocument", path);
	if (po->text == NULL) {
		if (!ck->from_parse)
			bp_err(bp, p, "PolicyDocument is required");
		return;
	}
	cp = bp_compile_doc(bp, &ck->share, POLICY_KIND_RAM, po->text, po->len,
	    ck->ram_max, p);
	if (ck->keep != NULL && ck->keep->pol[i] == NULL)
		ck->keep->pol[i] = cp;
	else
		cpolicy_unref(cp);
}

/*
 * The checks over the model; keep (from bundle_parse) or NULL receives
 * each document's compiled form.
 */
static int
bp_check(const struct bundle *b, size_t ram_max, int from_parse,
    struct bp *bp, struct bundle_compiled *keep)
{
	struct bp_ck	ck;
	size_t		i;

	memset(&ck, 0, sizeof(ck));
	ck.bp = bp;
	ck.b = b;
	ck.ram_max = ram_max != 0 ? ram_max : POLICY_RAM_MAX_BYTES_DEFAULT;
	ck.from_parse = from_parse;
	ck.keep = keep;
	if ((b->ninstances > 0 && (ck.quota = calloc(b->ninstances,
	    sizeof(*ck.quota))) == NULL) ||
	    (b->naliases > 0 && (ck.kidx = bp_key_index(b)) == NULL))
		bp->oom = 1;
	else {
		bp_check_instances(&ck);
		for (i = 0; i < b->nkeys; i++)
			bp_check_key(&ck, i);
		bp_check_aliases(&ck);
		for (i = 0; i < b->npolicies; i++)
			bp_check_policy(&ck, i);
		/* Groups, then users (their groups) and roles. */
		for (i = 0; i < b->ngroups; i++)
			if (b->groups[i].account != NULL &&
			    b->groups[i].name != NULL)
				(void)bp_set_add(&ck.grps,
				    b->groups[i].account, b->groups[i].name,
				    NULL);
		bp_check_principals(bp, b->groups, b->ngroups, "Groups",
		    "GroupName", &ck.pols, NULL, from_parse);
		bp_check_principals(bp, b->users, b->nusers, "Users",
		    "UserName", &ck.pols, &ck.grps, from_parse);
		bp_check_principals(bp, b->roles, b->nroles, "Roles",
		    "RoleName", &ck.pols, NULL, from_parse);
	}
	if (ck.inst.oom || ck.keys.oom || ck.aliases.oom || ck.pols.oom ||
	    ck.grps.oom)
		bp->oom = 1;
	for (i = 0; ck.quota != NULL && i < b->ninstances; i++)
		bp_set_free(&ck.quota[i].accounts);
	free(ck.quota);
	free(ck.kidx);
	bp_share_free(&ck.share);
	bp_set_free(&ck.inst);
	bp_set_free(&ck.keys);
	bp_set_free(&ck.aliases);
	bp_set_free(&ck.pols);
	bp_set_free(&ck.grps);
	if (bp->oom)
		(void)policy_diags_add(bp->d, "InternalFailure", "",
		    "out of memory");
	return (bp->d->n > bp->n0 ? -1 : 0);
}

int
bundle_validate(const struct bundle *b, size_t ram_max,
    struct policy_diags *d)
{
	struct bp	bp = { d, 0, d->n };

	return (bp_check(b, ram_max, 0, &bp, NULL));
}

int
bundle_parse(const char *text, size_t len, size_t ram_max,
    struct bundle **bp_out, struct policy_diags *d)
{
	static const char *const f[] = { "FormatVersion", "Instances", "Keys",
	    "Aliases", "Policies", "Users", "Roles", "Groups", NULL };
	struct bp		 bp = { d, 0, d->n };
	struct json_object	*top, *v;
	struct bundle		*b;

	if (len > BUNDLE_MAX_BYTES) {
		bp_err(&bp, "", "the bundle is larger than %u bytes",
		    BUNDLE_MAX_BYTES);
		return (-1);
	}
	if ((top = policy_json_parse(text, len, POLICY_MAX_DEPTH + 4, "",
	    d)) == NULL) {
		if (d->n == bp.n0)
			bp_err(&bp, "", "the bundle is not valid JSON");
		bp_reroot(&bp, bp.n0, "");
		return (-1);
	}
	if (!json_object_is_type(top, json_type_object)) {
		bp_err(&bp, "", "the bundle must be a JSON object");
		json_object_put(top);
		return (-1);
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		json_object_put(top);
		bp_err(&bp, "", "out of memory");
		return (-1);
	}
	bp_fields(&bp, top, "", f);
	if (!json_object_object_get_ex(top, "FormatVersion", &v))
		bp_err(&bp, "FormatVersion", "FormatVersion is required");
	else if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != BUNDLE_FORMAT_VERSION)
		bp_err(&bp, "FormatVersion", "FormatVersion must be the number "
		    "%d", BUNDLE_FORMAT_VERSION);
	bp_read_instances(&bp, top, b);
	bp_read_keys(&bp, top, b);
	bp_read_aliases(&bp, top, b);
	bp_read_policies(&bp, top, b);
	bp_read_principals(&bp, top, "Users", "UserName", 1, &b->users,
	    &b->nusers);
	bp_read_principals(&bp, top, "Roles", "RoleName", 0, &b->roles,
	    &b->nroles);
	bp_read_principals(&bp, top, "Groups", "GroupName", 0, &b->groups,
	    &b->ngroups);
	json_object_put(top);
	if (!bp.oom && (b->compiled = bp_compiled_new(b->nkeys,
	    b->npolicies)) == NULL)
		bp.oom = 1;
	if (!bp.oom)
		(void)bp_check(b, ram_max, 1, &bp, b->compiled);
	else
		(void)policy_diags_add(d, "InternalFailure", "",
		    "out of memory");
	if (d->n > bp.n0) {
		bundle_free(b);
		return (-1);
	}
	*bp_out = b;
	return (0);
}

/* Compilation into a world. */

static int
bp_put_principals(struct world_txn *t, const struct bundle_principal *v,
    size_t n, int kind)
{
	size_t	i;
	int	r;

	for (i = 0; i < n; i++) {
		if (kind == 0)
			r = world_txn_put_user(t, v[i].account, v[i].name,
			    (const char *const *)v[i].groups, v[i].ngroups,
			    (const char *const *)v[i].policies,
			    v[i].npolicies);
		else if (kind == 1)
			r = world_txn_put_role(t, v[i].account, v[i].name,
			    (const char *const *)v[i].policies,
			    v[i].npolicies);
		else
			r = world_txn_put_group(t, v[i].account, v[i].name,
			    (const char *const *)v[i].policies,
			    v[i].npolicies);
		if (r == -1)
			return (-1);
	}
	return (0);
}

struct world *
bundle_to_world(const struct bundle *b, uint64_t generation,
    struct policy_diags *d)
{
	const struct bundle_compiled *cc = b->compiled;
	struct world_txn	*t;
	struct world_tag	*tags = NULL;
	struct cpolicy		*cp;
	char			 p[BP_PATH_MAX];
	size_t			 i, j, maxtags = 0;
	int			 r;

	/* Only while the model is as bundle_parse left it. */
	if (cc != NULL && (cc->nkeys != b->nkeys ||
	    cc->npolicies != b->npolicies))
		cc = NULL;

	if ((t = world_txn_begin(NULL)) == NULL)
		goto oom;
	for (i = 0; i < b->ninstances; i++)
		if (world_txn_put_instance(t, b->instances[i].id,
		    b->instances[i].state, b->instances[i].share_quota,
		    b->instances[i].account) == -1)
			goto fail;
	for (i = 0; i < b->nkeys; i++)
		if (b->keys[i].ntags > maxtags)
			maxtags = b->keys[i].ntags;
	if (maxtags > 0 && (tags = calloc(maxtags, sizeof(*tags))) == NULL)
		goto fail;
	for (i = 0; i < b->nkeys; i++) {
		const struct bundle_key *k = &b->keys[i];

		cp = NULL;
		if (cc != NULL && cc->key[i] != NULL)
			cp = cpolicy_ref(cc->key[i]);	/* from bundle_parse */
		else if (k->policy != NULL) {
			bp_path(p, sizeof(p), "Keys[%zu].KeyPolicy", i);
			if (policy_compile_text(POLICY_KIND_KEY, k->policy,
			    k->policy_len, POLICY_KEY_MAX_BYTES, p, &cp, d) ==
			    -1) {
				world_txn_abort(t);
				free(tags);
				return (NULL);
			}
		}
		for (j = 0; j < k->ntags; j++) {
			tags[j].key = k->tags[j].key;
			tags[j].value = k->tags[j].value;
		}
		r = world_txn_put_key(t, k->id, k->region, k->creator,
		    k->instance, k->state, tags, k->ntags, cp);
		cpolicy_unref(cp);
		if (r == -1)
			goto fail;
	}
	free(tags);
	tags = NULL;
	for (i = 0; i < b->naliases; i++)
		if (world_txn_put_alias(t, b->aliases[i].name,
		    b->aliases[i].key_id) == -1)
			goto fail;
	for (i = 0; i < b->npolicies; i++) {
		bp_path(p, sizeof(p), "Policies[%zu].PolicyDocument", i);
		/* The size limit was enforced at parse time. */
		if (cc != NULL && cc->pol[i] != NULL)
			cp = cpolicy_ref(cc->pol[i]);
		else if (policy_compile_text(POLICY_KIND_RAM,
		    b->policies[i].text, b->policies[i].len, SIZE_MAX, p, &cp,
		    d) == -1) {
			world_txn_abort(t);
			return (NULL);
		}
		r = world_txn_put_policy(t, b->policies[i].account,
		    b->policies[i].name, cp);
		cpolicy_unref(cp);
		if (r == -1)
			goto fail;
	}
	if (bp_put_principals(t, b->users, b->nusers, 0) == -1 ||
	    bp_put_principals(t, b->roles, b->nroles, 1) == -1 ||
	    bp_put_principals(t, b->groups, b->ngroups, 2) == -1)
		goto fail;
	return (world_txn_commit(t, generation));
fail:
	(void)policy_diags_add(d, errno == ENOMEM ? "InternalFailure" :
	    "InvalidParameter", "", "the bundle cannot be loaded: %s",
	    strerror(errno));
	free(tags);
	world_txn_abort(t);
	return (NULL);
oom:
	(void)policy_diags_add(d, "InternalFailure", "", "out of memory");
	return (NULL);
}

/* Export. */

static int
bp_cmp_str2(const char *a1, const char *a2, const char *b1, const char *b2)
{
	int	c;

	if ((c = strcmp(a1 ? a1 : "", b1 ? b1 : "")) != 0)
		return (c);
	return (strcmp(a2 ? a2 : "", b2 ? b2 : ""));
}

static int
bp_cmp_inst(const void *a, const void *b)
{
	const struct bundle_instance *const *x = a, *const *y = b;

	return (bp_cmp_str2((*x)->id, NULL, (*y)->id, NULL));
}

static int
bp_cmp_key(const void *a, const void *b)
{
	const struct bundle_key *const *x = a, *const *y = b;

	return (bp_cmp_str2((*x)->id, NULL, (*y)->id, NULL));
}

static int
bp_cmp_alias(const void *a, const void *b)
{
	const struct bundle_alias *const *x = a, *const *y = b;

	return (bp_cmp_str2((*x)->name, (*x)->key_id, (*y)->name,
	    (*y)->key_id));
}

static int
bp_cmp_pol(const void *a, const void *b)
{
	const struct bundle_policy *const *x = a, *const *y = b;

	return (bp_cmp_str2((*x)->account, (*x)->name, (*y)->account,
	    (*y)->name));
}

static int
bp_cmp_pr(const void *a, const void *b)
{
	const struct bundle_principal *const *x = a, *const *y = b;

	return (bp_cmp_str2((*x)->account, (*x)->name, (*y)->account,
	    (*y)->name));
}

static int
bp_cmp_tag(const void *a, const void *b)
{
	const struct bundle_tag *const *x = a, *const *y = b;

	return (bp_cmp_str2((*x)->key, NULL, (*y)->key, NULL));
}

/* Sorted pointers to n elements of size sz. */
static const void **
bp_sorted(const void *base, size_t n, size_t sz,
    int (*cmp)(const void *, const void *))
{
	const void	**v;
	size_t		  i;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		v[i] = (const char *)base + i * sz;
	qsort(v, n, sizeof(*v), cmp);
	return (v);
}

static int
bp_add(struct json_object *o, const char *k, struct json_object *v)
{
	if (v == NULL)
		return (-1);
	if (json_object_object_add(o, k, v) != 0) {
		json_object_put(v);
		return (-1);
	}
	return (0);
}

static struct json_object *
bp_jstr(const char *s)
{
	return (json_object_new_string(s ? s : ""));
}

static struct json_object *
bp_jarr(char *const *v, size_t n)
{
	struct json_object	*a;
	size_t			 i;

	if ((a = json_object_new_array()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (json_object_array_add(a, bp_jstr(v[i])) != 0) {
			json_object_put(a);
			return (NULL);
		}
	}
	return (a);
}

static struct json_object *
bp_export_pr(const struct bundle_principal *v, size_t n, const char *namef,
    int with_groups)
{
	struct json_object	*arr, *o;
	const void		**s;
	const struct bundle_principal *pr;
	size_t			 i;

	if ((arr = json_object_new_array()) == NULL)
		return (NULL);
	if ((s = bp_sorted(v, n, sizeof(*v), bp_cmp_pr)) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		pr = s[i];
		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			goto fail;
		}
		if (bp_add(o, "Account", bp_jstr(pr->account)) == -1 ||
		    bp_add(o, namef, bp_jstr(pr->name)) == -1 ||
		    (with_groups && bp_add(o, "Groups", bp_jarr(pr->groups,
		    pr->ngroups)) == -1) ||
		    bp_add(o, "Policies", bp_jarr(pr->policies,
		    pr->npolicies)) == -1)
			goto fail;
	}
	free(s);
	return (arr);
fail:
	free(s);
	json_object_put(arr);
	return (NULL);
}

static int
bp_cmp_ver(const void *a, const void *b)
{
	const struct bundle_policy_version *const *x = a, *const *y = b;

	return ((*x)->id < (*y)->id ? -1 : (*x)->id > (*y)->id);
}

/* A policy's versions by id, each with its stored text. */
static struct json_object *
bp_export_versions(const struct bundle_policy *po)
{
	struct json_object	*arr, *o;
	const struct bundle_policy_version *pv;
	const void		**s;
	char			 id[16], date[BUNDLE_DATE_MAX];
	size_t			 i;

	if ((arr = json_object_new_array()) == NULL)
		return (NULL);
	if ((s = bp_sorted(po->versions, po->nversions,
	    sizeof(*po->versions), bp_cmp_ver)) == NULL)
		goto fail;
	for (i = 0; i < po->nversions; i++) {
		pv = s[i];
		snprintf(id, sizeof(id), "v%" PRIu32, pv->id);
		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			goto fail;
		}
		if (bp_add(o, "VersionId", bp_jstr(id)) == -1 ||
		    bp_add(o, "IsDefaultVersion", json_object_new_boolean(
		    pv->is_default == 1)) == -1)
			goto fail;
		/* A date beyond RFC 3339's years is left out. */
		if (pv->has_date && bundle_date_format(pv->create_ms,
		    date) == 0 && bp_add(o, "CreateDate", bp_jstr(date)) == -1)
			goto fail;
		if (bp_add(o, "PolicyDocument", json_object_new_string_len(
		    pv->text ? pv->text : "", (int)pv->len)) == -1)
			goto fail;
	}
	free(s);
	return (arr);
fail:
	free(s);
	json_object_put(arr);
	return (NULL);
}

int
bundle_date_parse(const char *s, size_t len, int64_t *msp)
{
	struct value_time	 t;

	if (value_time_parse(s, len, &t) == -1 ||
	    t.sec > INT64_MAX / 1000 - 1 || t.sec < INT64_MIN / 1000 + 1)
		return (-1);
	*msp = t.sec * 1000 + t.nsec / 1000000;
	return (0);
}

int
bundle_date_format(int64_t ms, char *buf)
{
	struct tm	 tm;
	time_t		 sec;
	int64_t		 frac;

	/* Floor division: a date before 1970 has a positive fraction. */
	frac = ms % 1000;
	if (frac < 0)
		frac += 1000;
	sec = (time_t)((ms - frac) / 1000);
	if (gmtime_r(&sec, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0)
		return (-1);
	if (frac == 0)
		snprintf(buf, BUNDLE_DATE_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	else
		snprintf(buf, BUNDLE_DATE_MAX, "%04d-%02d-%02dT%02d:%02d:%02d."
		    "%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
	return (0);
}

char *
bundle_export(const struct bundle *b, size_t *lenp)
{
	struct json_object	*top, *arr, *o, *tags;
	const void		**s = NULL, **ts = NULL;
	const char		*out;
	char			*ret = NULL;
	size_t			 i, j;

	if ((top = json_object_new_object()) == NULL)
		return (NULL);
	if (bp_add(top, "FormatVersion", json_object_new_int(
	    BUNDLE_FORMAT_VERSION)) == -1)
		goto done;

	if ((arr = json_object_new_array()) == NULL ||
	    bp_add(top, "Instances", arr) == -1 ||
	    (s = bp_sorted(b->instances, b->ninstances,
	    sizeof(*b->instances), bp_cmp_inst)) == NULL)
		goto done;
	for (i = 0; i < b->ninstances; i++) {
		const struct bundle_instance *in = s[i];

		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, o) != 0 ||
		    bp_add(o, "InstanceId", bp_jstr(in->id)) == -1 ||
		    bp_add(o, "State", bp_jstr(world_instance_state_name(
		    in->state))) == -1 ||
		    bp_add(o, "ShareQuota", json_object_new_int64(
		    in->share_quota)) == -1 || (in->account != NULL &&
		    bp_add(o, "Account", bp_jstr(in->account)) == -1))
			goto done;
	}
	free(s);

	if ((arr = json_object_new_array()) == NULL ||
	    bp_add(top, "Keys", arr) == -1 ||
	    (s = bp_sorted(b->keys, b->nkeys, sizeof(*b->keys),
	    bp_cmp_key)) == NULL)
		goto done;
	for (i = 0; i < b->nkeys; i++) {
		const struct bundle_key *k = s[i];

		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, o) != 0 ||
		    bp_add(o, "KeyId", bp_jstr(k->id)) == -1 ||
		    bp_add(o, "Region", bp_jstr(k->region)) == -1 ||
		    bp_add(o, "Creator", bp_jstr(k->creator)) == -1 ||
		    (k->instance != NULL && bp_add(o, "DKMSInstanceId",
		    bp_jstr(k->instance)) == -1) ||
		    bp_add(o, "KeyState", bp_jstr(world_key_state_name(
		    k->state))) == -1 ||
		    (tags = json_object_new_object()) == NULL ||
		    bp_add(o, "Tags", tags) == -1 ||
		    (ts = bp_sorted(k->tags, k->ntags, sizeof(*k->tags),
		    bp_cmp_tag)) == NULL)
			goto done;
		for (j = 0; j < k->ntags; j++) {
			const struct bundle_tag *tg = ts[j];

			if (bp_add(tags, tg->key, bp_jstr(tg->value)) == -1)
				goto done;
		}
		free(ts);
		ts = NULL;
		if (k->instance != NULL && k->policy != NULL &&
		    bp_add(o, "KeyPolicy", json_object_new_string_len(
		    k->policy, (int)k->policy_len)) == -1)
			goto done;
	}
	free(s);

	if ((arr = json_object_new_array()) == NULL ||
	    bp_add(top, "Aliases", arr) == -1 ||
	    (s = bp_sorted(b->aliases, b->naliases, sizeof(*b->aliases),
	    bp_cmp_alias)) == NULL)
		goto done;
	for (i = 0; i < b->naliases; i++) {
		const struct bundle_alias *al = s[i];

		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, o) != 0 ||
		    bp_add(o, "AliasName", bp_jstr(al->name)) == -1 ||
		    bp_add(o, "KeyId", bp_jstr(al->key_id)) == -1)
			goto done;
	}
	free(s);

	if ((arr = json_object_new_array()) == NULL ||
	    bp_add(top, "Policies", arr) == -1 ||
	    (s = bp_sorted(b->policies, b->npolicies, sizeof(*b->policies),
	    bp_cmp_pol)) == NULL)
		goto done;
	for (i = 0; i < b->npolicies; i++) {
		const struct bundle_policy *po = s[i];

		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, o) != 0 ||
		    bp_add(o, "PolicyName", bp_jstr(po->name)) == -1 ||
		    bp_add(o, "Account", bp_jstr(po->account)) == -1)
			goto done;
		if (po->versions != NULL) {
			if (bp_add(o, "Versions", bp_export_versions(po)) == -1)
				goto done;
		} else if (bp_add(o, "PolicyDocument",
		    json_object_new_string_len(po->text ? po->text : "",
		    (int)po->len)) == -1)
			goto done;
	}
	free(s);
	s = NULL;

	if (bp_add(top, "Users", bp_export_pr(b->users, b->nusers,
	    "UserName", 1)) == -1 ||
	    bp_add(top, "Roles", bp_export_pr(b->roles, b->nroles,
	    "RoleName", 0)) == -1 ||
	    bp_add(top, "Groups", bp_export_pr(b->groups, b->ngroups,
	    "GroupName", 0)) == -1)
		goto done;
	out = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (out != NULL && (ret = strdup(out)) != NULL && lenp != NULL)
		*lenp = strlen(ret);
done:
	free(s);
	free(ts);
	json_object_put(top);
	return (ret);
}

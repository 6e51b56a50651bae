/* SPDX-License-Identifier: ISC */
/*
 * admin-dry.c: DryRun of SetKeyPolicy and CreatePolicyVersion.  The
 * pipeline (admin_run_call) has identified, resolved, authorized and
 * checked the call exactly as for the change itself, and stops here,
 * before the audit intent: nothing is committed and nothing is audited
 * as a change.  The answer carries the grants the change would gain and
 * lose ("Impact", rows of src/engine/analyze.c's analyze_impact, over
 * the catalog of actions; docs/analysis.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin/admin.h"
#include "admin/admin-run.h"
#include "engine/analyze.h"
#include "engine/cpolicy.h"
#include "engine/eval.h"
#include "engine/world.h"
#include "policy/policy.h"
#include "policy/policy-compile.h"

struct dry_rows {
	struct json_object	*gained;
	struct json_object	*lost;
};

int
admin_dry_run(const struct admin_run *r)
{
	const struct admin_val	*v = admin_req_get(r->req, "DryRun");

	return (v != NULL && v->b);
}

static void
dry_row(const char *principal, const char *action, const char *resource,
    int gained, int conditional, void *arg)
{
	struct dry_rows		*dr = arg;
	struct json_object	*row;

	row = json_object_new_object();
	admin_set_str(row, "Principal", principal);
	admin_set_str(row, "Action", action);
	admin_set_str(row, "Resource", resource);
	json_object_object_add(row, "Conditional",
	    json_object_new_boolean(conditional));
	json_object_array_add(gained ? dr->gained : dr->lost, row);
}

/* The new policy compiled, or NULL with r->detail set. */
static struct cpolicy *
dry_compile(struct admin_run *r, enum policy_kind kind, const char *param,
    size_t max)
{
	const struct admin_val	*v = admin_req_get(r->req, param);
	struct policy_diags	 d;
	struct cpolicy		*cp = NULL;

	policy_diags_init(&d);
	if (v == NULL || policy_compile_text(kind, v->s, v->len, max, param,
	    &cp, &d) == -1) {
		snprintf(r->detail, sizeof(r->detail), "%s%s%s",
		    d.n > 0 && d.v[0].path != NULL ? d.v[0].path : param,
		    ": ", d.n > 0 && d.v[0].reason != NULL ? d.v[0].reason :
		    "invalid");
		cp = NULL;
	}
	policy_diags_free(&d);
	return (cp);
}

/* Both worlds' principals, sorted and unique (a merge). */
static int
dry_principals(const struct world *a, const struct world *b, char ***vp,
    size_t *np)
{
	char	**va, **vb, **v;
	size_t	  na, nb, i = 0, j = 0, n = 0;
	int	  c;

	if (analyze_principals(a, &va, &na) == -1)
		return (-1);
	if (analyze_principals(b, &vb, &nb) == -1) {
		analyze_principals_free(va, na);
		return (-1);
	}
	if ((v = calloc(na + nb + 1, sizeof(*v))) == NULL) {
		analyze_principals_free(va, na);
		analyze_principals_free(vb, nb);
		return (-1);
	}
	while (i < na || j < nb) {
		c = i == na ? 1 : j == nb ? -1 : strcmp(va[i], vb[j]);
		if (c <= 0) {
			v[n++] = va[i++];
			if (c == 0)
				free(vb[j++]);
		} else
			v[n++] = vb[j++];
	}
	free(va);
	free(vb);
	*vp = v;
	*np = n;
	return (0);
}

/* The answer: RequestId, DryRun, Impact {Gained, Lost}. */
static struct json_object *
dry_answer(struct admin_run *r, const struct world *after, char **prin,
    size_t nprin, char **res, size_t nres)
{
	struct dry_rows		 dr;
	struct json_object	*o, *imp;

	dr.gained = json_object_new_array();
	dr.lost = json_object_new_array();
	if (analyze_impact(r->w, after, prin, nprin, res, nres, dry_row,
	    &dr) == -1) {
		json_object_put(dr.gained);
		json_object_put(dr.lost);
		return (admin_fail(r, ADMIN_E_INTERNAL, "out of memory"));
	}
	o = admin_answer(r->req);
	imp = json_object_new_object();
	json_object_object_add(imp, "Gained", dr.gained);
	json_object_object_add(imp, "Lost", dr.lost);
	json_object_object_add(o, "DryRun", json_object_new_boolean(1));
	json_object_object_add(o, "Impact", imp);
	return (o);
}

/* The world after the change (one reference), or NULL. */
static struct world *
dry_world(struct admin_run *r, const struct cpolicy *cp, const char *name)
{
	struct world_txn	*t;
	const struct world_key	*k = &r->key;

	if ((t = world_txn_begin(r->w)) == NULL)
		return (NULL);
	if ((name == NULL ? world_txn_put_key(t, k->id, k->region, k->creator,
	    k->instance, k->state, k->tags, k->ntags, cp) :
	    world_txn_put_policy(t, r->account, name, cp)) == -1) {
		world_txn_abort(t);
		return (NULL);
	}
	return (world_txn_commit(t, world_generation(r->w)));
}

static struct json_object *
dry_key_policy(struct admin_run *r)
{
	struct cpolicy		*cp;
	struct world		*after;
	struct json_object	*o;
	char			**prin, *res[1], arn[1200];
	size_t			 nprin, count;

	if (r->key.instance == NULL)
		return (admin_fail(r, ADMIN_E_KEY_POLICY_UNSUPPORTED, "key %s "
		    "is not in a KMS instance: it has no key policy",
		    r->key.id));
	if ((cp = dry_compile(r, POLICY_KIND_KEY, "Policy",
	    POLICY_KEY_MAX_BYTES)) == NULL)
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER, "%s",
		    r->detail));
	/* The share quota, as the change itself would check it. */
	if (r->has_inst && world_key_share_grows(r->w, r->key.id, cp,
	    r->key.creator) == 1 && world_instance_share_count(r->w,
	    r->key.instance, r->key.id, cp, r->key.creator, &count) == 0 &&
	    count > r->inst.share_quota) {
		cpolicy_unref(cp);
		return (admin_fail(r, ADMIN_E_SHARE_QUOTA, "instance %s would "
		    "share with %zu accounts, over its quota of %u",
		    r->key.instance, count, r->inst.share_quota));
	}
	after = dry_world(r, cp, NULL);
	cpolicy_unref(cp);
	if (after == NULL || dry_principals(r->w, after, &prin, &nprin) ==
	    -1) {
		world_unref(after);
		return (admin_fail(r, ADMIN_E_INTERNAL, "out of memory"));
	}
	admin_key_arn(arn, sizeof(arn), r->key.region, r->key.creator,
	    r->key.id);
	res[0] = arn;
	o = dry_answer(r, after, prin, nprin, res, 1);
	analyze_principals_free(prin, nprin);
	world_unref(after);
	return (o);
}

struct dry_keys {
	char	**v;
	size_t	  n;
	int	  err;
};

static int
dry_key(const struct world_key *k, void *arg)
{
	struct dry_keys	*dk = arg;
	size_t		 len = strlen(k->region) + strlen(k->creator) +
			    strlen(k->id) + 16;

	if ((dk->v[dk->n] = malloc(len)) == NULL) {
		dk->err = 1;
		return (1);
	}
	admin_key_arn(dk->v[dk->n++], len, k->region, k->creator, k->id);
	return (0);
}

struct dry_attached {
	const char	*name;
	int		 yes;
};

static void
dry_attached(const struct cpolicy_image *img, const char *name,
    size_t namelen, void *arg)
{
	struct dry_attached	*da = arg;

	(void)img;
	if (namelen == strlen(da->name) && memcmp(name, da->name, namelen) ==
	    0)
		da->yes = 1;
}

/* The principals of the acting account the policy is attached to. */
static size_t
dry_attached_principals(struct admin_run *r, const char *name, char **prin,
    size_t nprin)
{
	struct dry_attached	 da;
	size_t			 i, n = 0, alen = strlen(r->account);

	for (i = 0; i < nprin; i++) {
		da.name = name;
		da.yes = 0;
		if (strncmp(prin[i] + 9, r->account, alen) == 0 &&
		    prin[i][9 + alen] == ':')
			(void)eval_foreach_identity_image(r->w, prin[i],
			    strlen(prin[i]), dry_attached, &da);
		if (da.yes)
			prin[n++] = prin[i];
		else
			free(prin[i]);
	}
	return (n);
}

static struct json_object *
dry_policy_version(struct admin_run *r)
{
	const struct admin_val	*def = admin_req_get(r->req, "SetAsDefault");
	const char		*name = admin_req_str(r->req, "PolicyName");
	struct world_policy	 pol;
	struct world_counts	 wc;
	struct dry_keys		 dk;
	struct cpolicy		*cp;
	struct world		*after;
	struct json_object	*o;
	char			**prin;
	size_t			 nprin;

	if (world_get_policy(r->w, r->account, strlen(r->account), name,
	    strlen(name), &pol) == -1)
		return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND, "policy %s "
		    "not found", name));
	if ((cp = dry_compile(r, POLICY_KIND_RAM, "PolicyDocument",
	    POLICY_RAM_MAX_BYTES_DEFAULT)) == NULL)
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER, "%s",
		    r->detail));
	/* A version that does not become the default changes nothing. */
	after = def != NULL && def->b ? dry_world(r, cp, name) :
	    world_ref(r->w);
	cpolicy_unref(cp);
	memset(&dk, 0, sizeof(dk));
	world_counts(r->w, &wc);
	if (after == NULL || (dk.v = calloc(wc.keys + 1, sizeof(*dk.v))) ==
	    NULL || world_foreach_key(r->w, dry_key, &dk) != 0 ||
	    analyze_principals(r->w, &prin, &nprin) == -1) {
		analyze_principals_free(dk.v, dk.n);
		world_unref(after);
		return (admin_fail(r, ADMIN_E_INTERNAL, "out of memory"));
	}
	nprin = dry_attached_principals(r, name, prin, nprin);
	o = dry_answer(r, after, prin, nprin, dk.v, dk.n);
	analyze_principals_free(prin, nprin);
	analyze_principals_free(dk.v, dk.n);
	world_unref(after);
	return (o);
}

struct json_object *
admin_dry(struct admin_run *r)
{
	switch (r->req->api->id) {
	case ADMIN_SetKeyPolicy:
		return (dry_key_policy(r));
	case ADMIN_CreatePolicyVersion:
		return (dry_policy_version(r));
	default:
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER, "DryRun is "
		    "not taken by %s", r->req->api->name));
	}
}

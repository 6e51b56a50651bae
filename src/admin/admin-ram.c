/* SPDX-License-Identifier: ISC */
/*
 * admin-ram.c: the RAM calls (admin-calls.def): users, roles, groups,
 * membership, custom policies and their versions, attachments.  Every
 * call acts in the caller's account (the superuser's: the configured
 * account).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin/admin-run.h"
#include "engine/world.h"
#include "policy/policy.h"
#include "store/store.h"

static int	admin_version_parse(const char *, uint32_t *);

static enum store_principal
admin_ptype(enum admin_api_id id, const char **param)
{
	switch (id) {
	case ADMIN_AttachPolicyToRole:
	case ADMIN_DetachPolicyFromRole:
	case ADMIN_CreateRole:
	case ADMIN_DeleteRole:
		*param = "RoleName";
		return (STORE_ROLE);
	case ADMIN_AttachPolicyToGroup:
	case ADMIN_DetachPolicyFromGroup:
	case ADMIN_CreateGroup:
	case ADMIN_DeleteGroup:
		*param = "GroupName";
		return (STORE_GROUP);
	default:
		*param = "UserName";
		return (STORE_USER);
	}
}

static int
admin_version_parse(const char *s, uint32_t *vp)
{
	char		*end;
	unsigned long	 v;

	if (s[0] != 'v' || s[1] < '1' || s[1] > '9')
		return (-1);
	errno = 0;
	v = strtoul(s + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return (-1);
	*vp = (uint32_t)v;
	return (0);
}

/* One policy version as RAM shapes it. */
static struct json_object *
admin_version_json(const struct store_policy_version *pv)
{
	struct json_object	*o;
	char			 buf[32];

	o = json_object_new_object();
	snprintf(buf, sizeof(buf), "v%" PRIu32, pv->id);
	json_object_object_add(o, "VersionId", json_object_new_string(buf));
	json_object_object_add(o, "IsDefaultVersion",
	    json_object_new_boolean(pv->is_default));
	admin_date(pv->create_ms, buf, sizeof(buf));
	json_object_object_add(o, "CreateDate", json_object_new_string(buf));
	json_object_object_add(o, "PolicyDocument",
	    json_object_new_string_len(pv->text, (int)pv->len));
	return (o);
}

/*
 * GetPolicy (the policy and its default version), GetPolicyVersion (one
 * version) and ListPolicyVersions (every version, by id), read from the
 * store: the world holds only the compiled default.
 */
struct json_object *
admin_ram_policy_read(struct admin_run *r)
{
	struct admin_req		*req = r->req;
	struct store_policy_version	*all = NULL, one;
	struct json_object		*o, *t, *arr;
	const char			*name, *type, *vs;
	char				 buf[32];
	uint32_t			 ver = 0;
	size_t				 i, n = 0;
	int				 se;

	name = admin_req_str(req, "PolicyName");
	if ((type = admin_req_str(req, "PolicyType")) != NULL &&
	    strcmp(type, "System") == 0)
		return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND,
		    "no System policy %s", name));
	if ((vs = admin_req_str(req, "VersionId")) != NULL &&
	    admin_version_parse(vs, &ver) != 0)
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
		    "VersionId: v1, v2, ..."));
	if (r->ctx->store == NULL)
		return (admin_fail(r, ADMIN_E_INTERNAL, "no store"));
	if (req->api->id == ADMIN_ListPolicyVersions)
		se = store_policy_versions_list(r->ctx->store, r->account,
		    name, &all, &n);
	else
		se = store_policy_version_get(r->ctx->store, r->account, name,
		    ver, &one);
	if (se != STORE_OK)
		return (admin_fail(r, se == STORE_ENOTFOUND ?
		    ADMIN_E_RESOURCE_NOT_FOUND : ADMIN_E_INTERNAL, "%s",
		    store_errmsg(r->ctx->store)));
	o = admin_answer(req);
	switch (req->api->id) {
	case ADMIN_GetPolicy:
		t = json_object_new_object();
		json_object_object_add(t, "PolicyName",
		    json_object_new_string(name));
		json_object_object_add(t, "PolicyType",
		    json_object_new_string("Custom"));
		snprintf(buf, sizeof(buf), "v%" PRIu32, one.id);
		json_object_object_add(t, "DefaultVersion",
		    json_object_new_string(buf));
		json_object_object_add(t, "PolicyDocument",
		    json_object_new_string_len(one.text, (int)one.len));
		json_object_object_add(o, "Policy", t);
		json_object_object_add(o, "DefaultPolicyVersion",
		    admin_version_json(&one));
		break;
	case ADMIN_GetPolicyVersion:
		json_object_object_add(o, "PolicyVersion",
		    admin_version_json(&one));
		break;
	default:
		arr = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(arr, admin_version_json(&all[i]));
		t = json_object_new_object();
		json_object_object_add(t, "PolicyVersion", arr);
		json_object_object_add(o, "PolicyVersions", t);
		break;
	}
	if (req->api->id == ADMIN_ListPolicyVersions)
		store_policy_versions_free(all, n);
	else
		free(one.text);
	return (o);
}

struct json_object *
admin_ram_create_principal(struct admin_run *r)
{
	enum store_principal	 pt;
	const char		*pname;
	uint64_t		 gen = 0;
	int			 se;

	pt = admin_ptype(r->req->api->id, &pname);
	se = store_principal_create(r->ctx->store, pt, r->account,
	    admin_req_str(r->req, pname), &gen);
	return (admin_done(r, se, gen, NULL, NULL, 0));
}

struct json_object *
admin_ram_delete_principal(struct admin_run *r)
{
	enum store_principal	 pt;
	const char		*pname;
	uint64_t		 gen = 0;
	int			 se;

	pt = admin_ptype(r->req->api->id, &pname);
	se = store_principal_delete(r->ctx->store, pt, r->account,
	    admin_req_str(r->req, pname), &gen);
	return (admin_done(r, se, gen, NULL, NULL, 0));
}

/* AddUserToGroup, RemoveUserFromGroup. */
struct json_object *
admin_ram_membership(struct admin_run *r)
{
	const char	*user = admin_req_str(r->req, "UserName");
	const char	*group = admin_req_str(r->req, "GroupName");
	uint64_t	 gen = 0;
	int		 se;

	if (r->req->api->id == ADMIN_AddUserToGroup)
		se = store_membership_add(r->ctx->store, r->account, user,
		    group, &gen);
	else
		se = store_membership_remove(r->ctx->store, r->account, user,
		    group, &gen);
	return (admin_done(r, se, gen, NULL, NULL, 0));
}

struct json_object *
admin_ram_create_policy(struct admin_run *r)
{
	const struct admin_val	*v = admin_req_get(r->req, "PolicyDocument");
	struct policy_diags	 d;
	struct json_object	*o;
	uint64_t		 gen = 0;
	char			 dg[80];
	int			 se;

	policy_diags_init(&d);
	admin_digest(v->s, v->len, dg, sizeof(dg));
	se = store_policy_create(r->ctx->store, r->account,
	    admin_req_str(r->req, "PolicyName"), v->s, v->len, &d, &gen);
	o = admin_done(r, se, gen, dg, &d, 0);
	if (se == STORE_OK)
		admin_warnings(o, POLICY_KIND_RAM, v->s, v->len, r->account);
	policy_diags_free(&d);
	return (o);
}

struct json_object *
admin_ram_delete_policy(struct admin_run *r)
{
	uint64_t	gen = 0;
	int		se;

	se = store_policy_delete(r->ctx->store, r->account,
	    admin_req_str(r->req, "PolicyName"), &gen);
	return (admin_done(r, se, gen, NULL, NULL, 0));
}

static int
admin_list_policy(const struct world_policy *p, void *arg)
{
	struct admin_list	*l = arg;
	struct json_object	*o;

	if (l->account != NULL && strcmp(p->account, l->account) != 0)
		return (0);
	o = json_object_new_object();
	json_object_object_add(o, "PolicyName", json_object_new_string(p->name));
	json_object_object_add(o, "PolicyType",
	    json_object_new_string("Custom"));
	if (l->account == NULL)
		json_object_object_add(o, "AccountId",
		    json_object_new_string(p->account));
	json_object_array_add(l->arr, o);
	return (0);
}

struct json_object *
admin_ram_list_policies(struct admin_run *r)
{
	struct admin_list	 l;
	struct json_object	*o;

	o = admin_answer(r->req);
	admin_list_init(&l, r);
	world_foreach_policy(r->w, admin_list_policy, &l);
	admin_page(r, o, l.arr, "Policies", "Policy", 0);
	return (o);
}

struct json_object *
admin_ram_version_check(struct admin_run *r)
{
	const char	*s;
	uint32_t	 ver;

	if ((s = admin_req_str(r->req, "VersionId")) != NULL &&
	    admin_version_parse(s, &ver) != 0)
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
		    "VersionId: v1, v2, ..."));
	return (NULL);
}

struct json_object *
admin_ram_create_version(struct admin_run *r)
{
	const struct admin_val		*v, *def;
	struct store_policy_version	 pv;
	struct policy_diags		 d;
	struct json_object		*o;
	const char			*name;
	uint64_t			 gen = 0;
	uint32_t			 ver = 0;
	char				 dg[80];
	int				 se;

	name = admin_req_str(r->req, "PolicyName");
	v = admin_req_get(r->req, "PolicyDocument");
	def = admin_req_get(r->req, "SetAsDefault");
	policy_diags_init(&d);
	admin_digest(v->s, v->len, dg, sizeof(dg));
	se = store_policy_version_create(r->ctx->store, r->account, name, v->s,
	    v->len, def != NULL && def->b, &d, &ver, &gen);
	o = admin_done(r, se, gen, dg, &d, 0);
	policy_diags_free(&d);
	if (se == STORE_OK)
		admin_warnings(o, POLICY_KIND_RAM, v->s, v->len, r->account);
	/* As stored: the answer RAM gives. */
	if (se == STORE_OK && o != NULL && store_policy_version_get(
	    r->ctx->store, r->account, name, ver, &pv) == STORE_OK) {
		json_object_object_add(o, "PolicyVersion",
		    admin_version_json(&pv));
		free(pv.text);
	}
	return (o);
}

/* SetDefaultPolicyVersion, DeletePolicyVersion. */
struct json_object *
admin_ram_change_version(struct admin_run *r)
{
	const char	*name = admin_req_str(r->req, "PolicyName");
	uint64_t	 gen = 0;
	uint32_t	 ver = 0;
	int		 se;

	admin_version_parse(admin_req_str(r->req, "VersionId"), &ver);
	if (r->req->api->id == ADMIN_SetDefaultPolicyVersion)
		se = store_policy_version_set_default(r->ctx->store,
		    r->account, name, ver, &gen);
	else
		se = store_policy_version_delete(r->ctx->store, r->account,
		    name, ver, &gen);
	return (admin_done(r, se, gen, NULL, NULL, 0));
}

struct json_object *
admin_ram_attach_check(struct admin_run *r)
{
	if (strcmp(admin_req_str(r->req, "PolicyType"), "Custom") != 0)
		return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND,
		    "no System policy %s", admin_req_str(r->req,
		    "PolicyName")));
	return (NULL);
}

/* Attach/Detach a policy to/from a user, role or group. */
struct json_object *
admin_ram_attachment(struct admin_run *r)
{
	enum store_principal	 pt;
	const char		*pname, *policy;
	uint64_t		 gen = 0;
	int			 se;

	pt = admin_ptype(r->req->api->id, &pname);
	policy = admin_req_str(r->req, "PolicyName");
	switch (r->req->api->id) {
	case ADMIN_AttachPolicyToUser:
	case ADMIN_AttachPolicyToRole:
	case ADMIN_AttachPolicyToGroup:
		se = store_attach(r->ctx->store, pt, r->account,
		    admin_req_str(r->req, pname), policy, &gen);
		break;
	default:
		se = store_detach(r->ctx->store, pt, r->account,
		    admin_req_str(r->req, pname), policy, &gen);
		break;
	}
	return (admin_done(r, se, gen, NULL, NULL, 0));
}

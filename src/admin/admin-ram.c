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

/*
 * The one user, role or group a call names, found by its parameter (the
 * calls that name a principal name exactly one): its type, its name in
 * *namep.
 */
static enum store_principal
admin_principal(const struct admin_run *r, const char **namep)
{
	if ((*namep = admin_req_str(r->req, "RoleName")) != NULL)
		return (STORE_ROLE);
	if ((*namep = admin_req_str(r->req, "GroupName")) != NULL)
		return (STORE_GROUP);
	*namep = admin_req_str(r->req, "UserName");
	return (STORE_USER);
}

static const char *
admin_policy_name(const struct admin_run *r)
{
	return (admin_req_str(r->req, "PolicyName"));
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

/* The call's VersionId, checked by admin_ram_version_check; 0: none. */
static uint32_t
admin_version(const struct admin_run *r)
{
	const char	*s;
	uint32_t	 ver = 0;

	if ((s = admin_req_str(r->req, "VersionId")) != NULL)
		(void)admin_version_parse(s, &ver);
	return (ver);
}

/* One policy version as RAM shapes it. */
static struct json_object *
admin_version_json(const struct store_policy_version *pv)
{
	struct json_object	*o;
	char			 buf[32];

	o = json_object_new_object();
	snprintf(buf, sizeof(buf), "v%" PRIu32, pv->id);
	admin_set_str(o, "VersionId", buf);
	json_object_object_add(o, "IsDefaultVersion",
	    json_object_new_boolean(pv->is_default));
	admin_date(pv->create_ms, buf, sizeof(buf));
	admin_set_str(o, "CreateDate", buf);
	json_object_object_add(o, "PolicyDocument",
	    json_object_new_string_len(pv->text, (int)pv->len));
	return (o);
}

/* System policies do not exist here. */
struct json_object *
admin_ram_custom_check(struct admin_run *r)
{
	const char	*type = admin_req_str(r->req, "PolicyType");

	if (type != NULL && strcmp(type, "Custom") != 0)
		return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND,
		    "no System policy %s", admin_policy_name(r)));
	return (NULL);
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

/*
 * The policy reads come from the store (the world holds only the
 * compiled default): a custom policy, a well-formed VersionId, a store.
 */
static struct json_object *
admin_ram_read_check(struct admin_run *r)
{
	struct json_object	*o;

	if ((o = admin_ram_custom_check(r)) != NULL ||
	    (o = admin_ram_version_check(r)) != NULL)
		return (o);
	if (r->ctx->store == NULL)
		return (admin_fail(r, ADMIN_E_INTERNAL, "no store"));
	return (NULL);
}

static struct json_object *
admin_ram_read_fail(struct admin_run *r, int se)
{
	return (admin_read_fail(r, se == STORE_ENOTFOUND ?
	    ADMIN_E_RESOURCE_NOT_FOUND : ADMIN_E_INTERNAL));
}

/* The version the call names (the default when none): NULL, or the
 * error answer. */
static struct json_object *
admin_ram_version_get(struct admin_run *r, struct store_policy_version *pv)
{
	struct json_object	*o;
	int			 se;

	if ((o = admin_ram_read_check(r)) != NULL)
		return (o);
	if ((se = store_policy_version_get(r->ctx->store, r->account,
	    admin_policy_name(r), admin_version(r), pv)) != STORE_OK)
		return (admin_ram_read_fail(r, se));
	return (NULL);
}

struct json_object *
admin_ram_get_policy(struct admin_run *r)
{
	struct store_policy_version	 pv;
	struct json_object		*o, *t;
	char				 buf[32];

	if ((o = admin_ram_version_get(r, &pv)) != NULL)
		return (o);
	o = admin_answer(r->req);
	t = json_object_new_object();
	admin_set_str(t, "PolicyName", admin_policy_name(r));
	admin_set_str(t, "PolicyType", "Custom");
	snprintf(buf, sizeof(buf), "v%" PRIu32, pv.id);
	admin_set_str(t, "DefaultVersion", buf);
	json_object_object_add(t, "PolicyDocument",
	    json_object_new_string_len(pv.text, (int)pv.len));
	json_object_object_add(o, "Policy", t);
	json_object_object_add(o, "DefaultPolicyVersion",
	    admin_version_json(&pv));
	free(pv.text);
	return (o);
}

struct json_object *
admin_ram_get_policy_version(struct admin_run *r)
{
	struct store_policy_version	 pv;
	struct json_object		*o;

	if ((o = admin_ram_version_get(r, &pv)) != NULL)
		return (o);
	o = admin_answer(r->req);
	json_object_object_add(o, "PolicyVersion", admin_version_json(&pv));
	free(pv.text);
	return (o);
}

struct json_object *
admin_ram_list_policy_versions(struct admin_run *r)
{
	struct store_policy_version	*all;
	struct json_object		*o, *t, *arr;
	size_t				 i, n;
	int				 se;

	if ((o = admin_ram_read_check(r)) != NULL)
		return (o);
	if ((se = store_policy_versions_list(r->ctx->store, r->account,
	    admin_policy_name(r), &all, &n)) != STORE_OK)
		return (admin_ram_read_fail(r, se));
	o = admin_answer(r->req);
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, admin_version_json(&all[i]));
	t = json_object_new_object();
	json_object_object_add(t, "PolicyVersion", arr);
	json_object_object_add(o, "PolicyVersions", t);
	store_policy_versions_free(all, n);
	return (o);
}

/* CreateUser, CreateRole, CreateGroup. */
struct json_object *
admin_ram_create_principal(struct admin_run *r)
{
	const char		*name;
	enum store_principal	 pt = admin_principal(r, &name);

	return (admin_done(r, store_principal_create(r->ctx->store, pt,
	    r->account, name, &r->gen)));
}

/* DeleteUser, DeleteRole, DeleteGroup. */
struct json_object *
admin_ram_delete_principal(struct admin_run *r)
{
	const char		*name;
	enum store_principal	 pt = admin_principal(r, &name);

	return (admin_done(r, store_principal_delete(r->ctx->store, pt,
	    r->account, name, &r->gen)));
}

struct json_object *
admin_ram_add_user_to_group(struct admin_run *r)
{
	return (admin_done(r, store_membership_add(r->ctx->store, r->account,
	    admin_req_str(r->req, "UserName"),
	    admin_req_str(r->req, "GroupName"), &r->gen)));
}

struct json_object *
admin_ram_remove_user_from_group(struct admin_run *r)
{
	return (admin_done(r, store_membership_remove(r->ctx->store,
	    r->account, admin_req_str(r->req, "UserName"),
	    admin_req_str(r->req, "GroupName"), &r->gen)));
}

struct json_object *
admin_ram_create_policy(struct admin_run *r)
{
	const struct admin_val	*v = admin_req_get(r->req, "PolicyDocument");
	struct json_object	*o;
	int			 se;

	se = store_policy_create(r->ctx->store, r->account,
	    admin_policy_name(r), v->s, v->len, &r->diags, &r->gen);
	o = admin_done(r, se);
	if (se == STORE_OK)
		admin_warnings(o, POLICY_KIND_RAM, v->s, v->len, r->account);
	return (o);
}

struct json_object *
admin_ram_delete_policy(struct admin_run *r)
{
	return (admin_done(r, store_policy_delete(r->ctx->store, r->account,
	    admin_policy_name(r), &r->gen)));
}

static int
admin_list_policy(const struct world_policy *p, void *arg)
{
	struct admin_list	*l = arg;
	struct json_object	*o;

	if ((o = admin_list_row(l, p->account)) == NULL)
		return (0);
	admin_set_str(o, "PolicyName", p->name);
	admin_set_str(o, "PolicyType", "Custom");
	if (l->account == NULL)
		admin_set_str(o, "AccountId", p->account);
	return (0);
}

struct json_object *
admin_ram_list_policies(struct admin_run *r)
{
	struct admin_list	l;

	admin_list_init(&l, r);
	world_foreach_policy(r->w, admin_list_policy, &l);
	return (admin_list_answer(r, &l, "Policies", "Policy", 0));
}

struct json_object *
admin_ram_create_version(struct admin_run *r)
{
	const struct admin_val		*v, *def, *rot;
	struct store_policy_version	 pv;
	struct json_object		*o;
	uint32_t			 ver = 0;
	int				 se;

	v = admin_req_get(r->req, "PolicyDocument");
	def = admin_req_get(r->req, "SetAsDefault");
	rot = admin_req_get(r->req, "RotateStrategy");
	se = store_policy_version_create(r->ctx->store, r->account,
	    admin_policy_name(r), v->s, v->len,
	    (def != NULL && def->b ? STORE_VERSION_DEFAULT : 0) |
	    (rot != NULL && strcmp(rot->s, "DeleteOldestNonDefaultVersion") ==
	    0 ? STORE_VERSION_ROTATE : 0), &r->diags, &ver, &r->gen);
	o = admin_done(r, se);
	if (se == STORE_OK)
		admin_warnings(o, POLICY_KIND_RAM, v->s, v->len, r->account);
	/* As stored: the answer RAM gives. */
	if (se == STORE_OK && o != NULL && store_policy_version_get(
	    r->ctx->store, r->account, admin_policy_name(r), ver, &pv) ==
	    STORE_OK) {
		json_object_object_add(o, "PolicyVersion",
		    admin_version_json(&pv));
		free(pv.text);
	}
	return (o);
}

struct json_object *
admin_ram_set_default_version(struct admin_run *r)
{
	return (admin_done(r, store_policy_version_set_default(r->ctx->store,
	    r->account, admin_policy_name(r), admin_version(r), &r->gen)));
}

struct json_object *
admin_ram_delete_version(struct admin_run *r)
{
	return (admin_done(r, store_policy_version_delete(r->ctx->store,
	    r->account, admin_policy_name(r), admin_version(r), &r->gen)));
}

/* AttachPolicyToUser, AttachPolicyToRole, AttachPolicyToGroup. */
struct json_object *
admin_ram_attach(struct admin_run *r)
{
	const char		*name;
	enum store_principal	 pt = admin_principal(r, &name);

	return (admin_done(r, store_attach(r->ctx->store, pt, r->account,
	    name, admin_policy_name(r), &r->gen)));
}

/* DetachPolicyFromUser, DetachPolicyFromRole, DetachPolicyFromGroup. */
struct json_object *
admin_ram_detach(struct admin_run *r)
{
	const char		*name;
	enum store_principal	 pt = admin_principal(r, &name);

	return (admin_done(r, store_detach(r->ctx->store, pt, r->account,
	    name, admin_policy_name(r), &r->gen)));
}

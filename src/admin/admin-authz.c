/*
 * admin-authz.c: the authorization mapping of the admin plane.  A call
 * by a principal other than a superuser is authorized by the policies
 * themselves, as the real services do: KMS calls as kms:<ApiName> on the
 * key's ARN (CreateKey and ListKeys on acs:kms:REGION:ACCOUNT:key, alias
 * calls on the alias's ARN and the key's), RAM calls as ram:<ApiName> on
 * acs:ram:*:ACCOUNT:user/NAME (role/, group/, policy/ likewise).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"

static int	admin_target_add(struct admin_target *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));

int
admin_caller_set_principal(struct admin_caller *c, const char *arn)
{
	const char	*acct, *rest;
	size_t		 n;

	/* acs:ram::ACCOUNT:root | user/NAME | role/NAME */
	if (strncmp(arn, "acs:ram::", 9) != 0)
		return (-1);
	acct = arn + 9;
	n = strspn(acct, "0123456789");
	if (n == 0 || n >= sizeof(c->account) || acct[n] != ':')
		return (-1);
	rest = acct + n + 1;
	if (strcmp(rest, "root") != 0 &&
	    !(strncmp(rest, "user/", 5) == 0 && rest[5] != '\0') &&
	    !(strncmp(rest, "role/", 5) == 0 && rest[5] != '\0'))
		return (-1);
	if (strlen(arn) >= sizeof(c->principal))
		return (-1);
	c->superuser = 0;
	memcpy(c->principal, arn, strlen(arn) + 1);
	memcpy(c->account, acct, n);
	c->account[n] = '\0';
	return (0);
}

static int
admin_target_add(struct admin_target *t, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (t->nres >= ADMIN_MAX_TARGETS)
		return (-1);
	va_start(ap, fmt);
	n = vsnprintf(t->res[t->nres], ADMIN_ARN_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= ADMIN_ARN_MAX)
		return (-1);
	t->nres++;
	return (0);
}

#define S(x)	((x) != NULL ? (x) : "")

int
admin_authz_target(const struct admin_req *req, const struct admin_scope *sc,
    struct admin_target *t)
{
	const struct admin_api	*api = req->api;
	const char		*acct = S(sc->account), *name;
	int			 r = 0;

	memset(t, 0, sizeof(*t));
	if (api == NULL || (api->flags & ADMIN_F_SUPERUSER))
		return (-1);
	if (api->flags & ADMIN_F_KMS)
		snprintf(t->action, sizeof(t->action), "kms:%s", api->name);
	else if (api->flags & ADMIN_F_RAM)
		snprintf(t->action, sizeof(t->action), "ram:%s", api->name);
	else
		return (0);	/* Status: no resource, any known caller */

	switch (api->id) {
	case ADMIN_CreateKey:
	case ADMIN_ListKeys:
		r = admin_target_add(t, "acs:kms:%s:%s:key", S(sc->region),
		    acct);
		break;
	case ADMIN_ListAliases:
		r = admin_target_add(t, "acs:kms:%s:%s:alias", S(sc->region),
		    acct);
		break;
	case ADMIN_CreateAlias:
	case ADMIN_UpdateAlias:
	case ADMIN_DeleteAlias:
		name = req->alias.name;	/* alias/NAME, an ARN's too */
		r = admin_target_add(t, "acs:kms:%s:%s:%s",
		    S(sc->alias_region), S(sc->alias_account), S(name));
		/* DeleteAlias of an alias whose key is gone: the alias only. */
		if (r == 0 && sc->key_id != NULL)
			r = admin_target_add(t, "acs:kms:%s:%s:key/%s",
			    S(sc->key_region), S(sc->key_account), sc->key_id);
		break;
	case ADMIN_SetKeyPolicy:
	case ADMIN_GetKeyPolicy:
	case ADMIN_DescribeKey:
	case ADMIN_EnableKey:
	case ADMIN_DisableKey:
	case ADMIN_ScheduleKeyDeletion:
	case ADMIN_CancelKeyDeletion:
	case ADMIN_TagResource:
	case ADMIN_UntagResource:
	case ADMIN_ListResourceTags:
		r = admin_target_add(t, "acs:kms:%s:%s:key/%s",
		    S(sc->key_region), S(sc->key_account), S(sc->key_id));
		break;
	case ADMIN_CreateUser:
	case ADMIN_DeleteUser:
		r = admin_target_add(t, "acs:ram:*:%s:user/%s", acct,
		    S(admin_req_str(req, "UserName")));
		break;
	case ADMIN_CreateRole:
	case ADMIN_DeleteRole:
		r = admin_target_add(t, "acs:ram:*:%s:role/%s", acct,
		    S(admin_req_str(req, "RoleName")));
		break;
	case ADMIN_CreateGroup:
	case ADMIN_DeleteGroup:
		r = admin_target_add(t, "acs:ram:*:%s:group/%s", acct,
		    S(admin_req_str(req, "GroupName")));
		break;
	case ADMIN_AddUserToGroup:
	case ADMIN_RemoveUserFromGroup:
		r = admin_target_add(t, "acs:ram:*:%s:user/%s", acct,
		    S(admin_req_str(req, "UserName")));
		if (r == 0)
			r = admin_target_add(t, "acs:ram:*:%s:group/%s", acct,
			    S(admin_req_str(req, "GroupName")));
		break;
	case ADMIN_ListPolicies:
		r = admin_target_add(t, "acs:ram:*:%s:policy/*", acct);
		break;
	case ADMIN_CreatePolicy:
	case ADMIN_GetPolicy:
	case ADMIN_DeletePolicy:
	case ADMIN_CreatePolicyVersion:
	case ADMIN_SetDefaultPolicyVersion:
	case ADMIN_DeletePolicyVersion:
	case ADMIN_ListPolicyVersions:
	case ADMIN_GetPolicyVersion:
		r = admin_target_add(t, "acs:ram:*:%s:policy/%s", acct,
		    S(admin_req_str(req, "PolicyName")));
		break;
	case ADMIN_AttachPolicyToUser:
	case ADMIN_DetachPolicyFromUser:
		r = admin_target_add(t, "acs:ram:*:%s:policy/%s", acct,
		    S(admin_req_str(req, "PolicyName")));
		if (r == 0)
			r = admin_target_add(t, "acs:ram:*:%s:user/%s", acct,
			    S(admin_req_str(req, "UserName")));
		break;
	case ADMIN_AttachPolicyToRole:
	case ADMIN_DetachPolicyFromRole:
		r = admin_target_add(t, "acs:ram:*:%s:policy/%s", acct,
		    S(admin_req_str(req, "PolicyName")));
		if (r == 0)
			r = admin_target_add(t, "acs:ram:*:%s:role/%s", acct,
			    S(admin_req_str(req, "RoleName")));
		break;
	case ADMIN_AttachPolicyToGroup:
	case ADMIN_DetachPolicyFromGroup:
		r = admin_target_add(t, "acs:ram:*:%s:policy/%s", acct,
		    S(admin_req_str(req, "PolicyName")));
		if (r == 0)
			r = admin_target_add(t, "acs:ram:*:%s:group/%s", acct,
			    S(admin_req_str(req, "GroupName")));
		break;
	default:
		return (-1);
	}
	return (r);
}

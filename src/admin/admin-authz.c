/* SPDX-License-Identifier: ISC */
/*
 * admin-authz.c: the authorization mapping of the admin plane.  A call
 * by a principal other than a superuser is authorized by the policies
 * themselves, as the real services do: KMS calls as kms:<ApiName>, RAM
 * calls as ram:<ApiName>, on the resources the call's row declares
 * (admin-calls.def): ARN templates such as
 * acs:kms:{KeyRegion}:{KeyAccount}:key/{KeyId}, expanded here.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"


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

/*
 * One name of a template: the scope's, else the request parameter of
 * that name.  NULL: unknown (the resource is left out).
 */
static const char *
admin_template_var(const struct admin_req *req, const struct admin_scope *sc,
    const char *name, size_t len)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} vars[] = {
#define V(n, f) { n, offsetof(struct admin_scope, f) }
		V("Region", region), V("Account", account),
		V("KeyRegion", key_region), V("KeyAccount", key_account),
		V("KeyId", key_id), V("AliasRegion", alias_region),
		V("AliasAccount", alias_account),
#undef V
	};
	char		buf[64];
	size_t		i;

	/* alias/NAME, as given or out of its ARN. */
	if (len == 9 && memcmp(name, "AliasName", 9) == 0)
		return (req->alias.name[0] != '\0' ? req->alias.name : NULL);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, name, len) == 0)
			return (*(const char *const *)((const char *)sc +
			    vars[i].off));
	if (len >= sizeof(buf))
		return (NULL);
	memcpy(buf, name, len);
	buf[len] = '\0';
	return (admin_req_str(req, buf));
}

/*
 * A template expanded into t's next resource: 1, 0 when it names
 * something unknown (left out), -1 when the ARN does not fit.
 */
static int
admin_template_expand(const struct admin_req *req,
    const struct admin_scope *sc, const char *tpl, struct admin_target *t)
{
	const char	*p, *e, *v;
	char		*out;
	size_t		 n = 0, vl;

	if (t->nres >= ADMIN_MAX_TARGETS)
		return (-1);
	out = t->res[t->nres];
	for (p = tpl; *p != '\0'; p++) {
		if (*p == '{' && (e = strchr(p, '}')) != NULL) {
			if ((v = admin_template_var(req, sc, p + 1,
			    (size_t)(e - p - 1))) == NULL)
				return (0);
			vl = strlen(v);
			p = e;
		} else {
			v = p;
			vl = 1;
		}
		if (n + vl >= ADMIN_ARN_MAX)
			return (-1);
		memcpy(out + n, v, vl);
		n += vl;
	}
	out[n] = '\0';
	t->nres++;
	return (1);
}

int
admin_authz_target(const struct admin_req *req, const struct admin_scope *sc,
    struct admin_target *t)
{
	const struct admin_api	*api = req->api;
	size_t			 i;

	memset(t, 0, sizeof(*t));
	if (api == NULL || (api->flags & ADMIN_F_SUPERUSER))
		return (-1);
	if (api->flags & ADMIN_F_KMS)
		snprintf(t->action, sizeof(t->action), "kms:%s", api->name);
	else if (api->flags & ADMIN_F_RAM)
		snprintf(t->action, sizeof(t->action), "ram:%s", api->name);
	else
		return (0);	/* Status: no resource, any known caller */
	for (i = 0; i < ADMIN_MAX_TARGETS && api->resources[i] != NULL; i++)
		if (admin_template_expand(req, sc, api->resources[i], t) == -1)
			return (-1);
	/* A call authorized on nothing would be allowed to anyone. */
	return (t->nres > 0 ? 0 : -1);
}

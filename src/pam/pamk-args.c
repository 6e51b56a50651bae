/* SPDX-License-Identifier: ISC */
/*
 * pamk-args.c: the arguments of the service file line.
 *
 * Anything unknown, repeated, empty or out of range is a service error
 * with a log line naming it, never a default: a typo in a security
 * module's configuration must not quietly change what it checks.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include <security/pam_ext.h>
#include <syslog.h>

#include "pam/pamk.h"

static int	pamk_args_once(pam_handle_t *, const char *, const char **,
		    const char *);
static int	pamk_args_timeout(pam_handle_t *, const char *, int *);
static int	pamk_args_context(pam_handle_t *, struct pamk_conf *,
		    const char *);
static int	pamk_args_finish(pam_handle_t *, struct pamk_conf *);

/* Sets *dst to a single-valued argument's value (given once, not empty). */
static int
pamk_args_once(pam_handle_t *pamh, const char *name, const char **dst,
    const char *val)
{
	if (*dst != NULL) {
		pam_syslog(pamh, LOG_ERR, "%s= given twice", name);
		return (PAM_SERVICE_ERR);
	}
	if (*val == '\0') {
		pam_syslog(pamh, LOG_ERR, "%s= is empty", name);
		return (PAM_SERVICE_ERR);
	}
	*dst = val;
	return (PAM_SUCCESS);
}

static int
pamk_args_timeout(pam_handle_t *pamh, const char *val, int *msp)
{
	const char	*p;
	long		 v = 0;

	/* Digits only: strtol would take a sign, blanks and "0x". */
	for (p = val; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || v > PAMK_TIMEOUT_MAX)
			break;
		v = v * 10 + (*p - '0');
	}
	if (*val == '\0' || *p != '\0' || v < 1 || v > PAMK_TIMEOUT_MAX) {
		pam_syslog(pamh, LOG_ERR, "timeout_ms=%s: not a number of "
		    "milliseconds from 1 to %d", val, PAMK_TIMEOUT_MAX);
		return (PAM_SERVICE_ERR);
	}
	*msp = (int)v;
	return (PAM_SUCCESS);
}

/* context=KEY=TEMPLATE */
static int
pamk_args_context(pam_handle_t *pamh, struct pamk_conf *c, const char *val)
{
	const char	*eq;
	size_t		 i, klen;

	if ((eq = strchr(val, '=')) == NULL || eq == val) {
		pam_syslog(pamh, LOG_ERR, "context=%s: not KEY=TEMPLATE", val);
		return (PAM_SERVICE_ERR);
	}
	klen = (size_t)(eq - val);
	if (klen > KMSAUTHZ_MAX_CONTEXT_KEY) {
		pam_syslog(pamh, LOG_ERR, "context=%s: key over %d bytes", val,
		    KMSAUTHZ_MAX_CONTEXT_KEY);
		return (PAM_SERVICE_ERR);
	}
	if (memchr(val, '{', klen) != NULL || memchr(val, '}', klen) != NULL) {
		pam_syslog(pamh, LOG_ERR, "context=%s: the key takes no "
		    "variables", val);
		return (PAM_SERVICE_ERR);
	}
	/* The daemon refuses keys equal but for case: say so here. */
	for (i = 0; i < c->ncontext; i++) {
		if (c->context[i].keylen == klen &&
		    strncasecmp(c->context[i].key, val, klen) == 0) {
			pam_syslog(pamh, LOG_ERR, "context=%.*s= given twice",
			    (int)klen, val);
			return (PAM_SERVICE_ERR);
		}
	}
	if (c->ncontext == KMSAUTHZ_MAX_CONTEXT) {
		pam_syslog(pamh, LOG_ERR, "more than %d context= arguments",
		    KMSAUTHZ_MAX_CONTEXT);
		return (PAM_SERVICE_ERR);
	}
	if (pamk_tmpl_check(pamh, "context", eq + 1) != PAM_SUCCESS)
		return (PAM_SERVICE_ERR);
	c->context[c->ncontext].key = val;
	c->context[c->ncontext].keylen = klen;
	c->context[c->ncontext].tmpl = eq + 1;
	c->ncontext++;
	return (PAM_SUCCESS);
}

/* What is required, and the templates' variables. */
static int
pamk_args_finish(pam_handle_t *pamh, struct pamk_conf *c)
{
	struct sockaddr_un	sun;

	if (c->principal == NULL && c->principal_map == NULL) {
		pam_syslog(pamh, LOG_ERR, "neither principal= nor "
		    "principal_map= given");
		return (PAM_SERVICE_ERR);
	}
	if (c->action == NULL || c->resource == NULL) {
		pam_syslog(pamh, LOG_ERR, "%s= is required",
		    c->action == NULL ? "action" : "resource");
		return (PAM_SERVICE_ERR);
	}
	if (strlen(c->action) > KMSAUTHZ_MAX_ACTION) {
		pam_syslog(pamh, LOG_ERR, "action= over %d bytes",
		    KMSAUTHZ_MAX_ACTION);
		return (PAM_SERVICE_ERR);
	}
	if (c->socket != NULL && strlen(c->socket) >= sizeof(sun.sun_path)) {
		pam_syslog(pamh, LOG_ERR, "socket=%s: path over %zu bytes",
		    c->socket, sizeof(sun.sun_path) - 1);
		return (PAM_SERVICE_ERR);
	}
	if (c->principal_map != NULL && c->principal_map[0] != '/') {
		pam_syslog(pamh, LOG_ERR, "principal_map=%s: not an absolute "
		    "path", c->principal_map);
		return (PAM_SERVICE_ERR);
	}
	if ((c->principal != NULL &&
	    pamk_tmpl_check(pamh, "principal", c->principal) != PAM_SUCCESS) ||
	    pamk_tmpl_check(pamh, "action", c->action) != PAM_SUCCESS ||
	    pamk_tmpl_check(pamh, "resource", c->resource) != PAM_SUCCESS)
		return (PAM_SERVICE_ERR);
	return (PAM_SUCCESS);
}

int
pamk_conf_parse(pam_handle_t *pamh, int argc, const char **argv,
    struct pamk_conf *c)
{
	const char	*a, *val, *on_error = NULL, *timeout = NULL;
	int		 i, rc;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = PAMK_TIMEOUT_DEFAULT;
	for (i = 0; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "debug") == 0) {
			c->debug = 1;
			continue;
		}
		if ((val = strchr(a, '=')) == NULL) {
			pam_syslog(pamh, LOG_ERR, "unknown argument \"%s\"",
			    a);
			return (PAM_SERVICE_ERR);
		}
		val++;
#define PAMK_IS(name)	(strncmp(a, name "=", sizeof(name)) == 0)
		if (PAMK_IS("socket"))
			rc = pamk_args_once(pamh, "socket", &c->socket, val);
		else if (PAMK_IS("principal"))
			rc = pamk_args_once(pamh, "principal", &c->principal,
			    val);
		else if (PAMK_IS("principal_map"))
			rc = pamk_args_once(pamh, "principal_map",
			    &c->principal_map, val);
		else if (PAMK_IS("action"))
			rc = pamk_args_once(pamh, "action", &c->action, val);
		else if (PAMK_IS("resource"))
			rc = pamk_args_once(pamh, "resource", &c->resource,
			    val);
		else if (PAMK_IS("context"))
			rc = pamk_args_context(pamh, c, val);
		else if (PAMK_IS("timeout_ms")) {
			if ((rc = pamk_args_once(pamh, "timeout_ms", &timeout,
			    val)) == PAM_SUCCESS)
				rc = pamk_args_timeout(pamh, val,
				    &c->timeout_ms);
		} else if (PAMK_IS("on_error")) {
			if ((rc = pamk_args_once(pamh, "on_error", &on_error,
			    val)) == PAM_SUCCESS &&
			    strcmp(val, "deny") != 0 &&
			    strcmp(val, "ignore") != 0) {
				pam_syslog(pamh, LOG_ERR, "on_error=%s: not "
				    "deny or ignore", val);
				rc = PAM_SERVICE_ERR;
			}
			c->on_error_ignore = strcmp(val, "ignore") == 0;
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown argument \"%s\"",
			    a);
			rc = PAM_SERVICE_ERR;
		}
#undef PAMK_IS
		if (rc != PAM_SUCCESS)
			return (rc);
	}
	return (pamk_args_finish(pamh, c));
}

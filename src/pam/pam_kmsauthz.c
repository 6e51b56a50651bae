/* SPDX-License-Identifier: ISC */
/*
 * pam_kmsauthz.c: the PAM account facility asks kmsauthzd "may this
 * principal call this action on this resource from this address?".
 *
 * ALLOW is PAM_SUCCESS; either deny is PAM_PERM_DENIED; a configuration
 * error is PAM_SERVICE_ERR; a daemon that cannot answer (down, slow,
 * malformed answer) is PAM_PERM_DENIED, or PAM_IGNORE with
 * on_error=ignore.  Nothing but a whole ALLOW answer grants.
 *
 * The module reads no environment variable (the socket is the service
 * file's or the compiled default): PAM runs inside setuid programs whose
 * environment the user chooses.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_modules.h>
#include <security/pam_ext.h>
#include <syslog.h>

#include "pam/pamk.h"

#define PAMK_DEFAULT_SOCKET	KMSAUTHZ_RUNDIR "/query.sock"

/* The request's strings, on the heap: callers' threads may be small. */
struct pamk_req {
	char			principal[KMSAUTHZ_MAX_PRINCIPAL + 1];
	char			action[KMSAUTHZ_MAX_ACTION + 1];
	char			resource[KMSAUTHZ_MAX_RESOURCE + 1];
	char			ctxkey[KMSAUTHZ_MAX_CONTEXT]
				    [KMSAUTHZ_MAX_CONTEXT_KEY + 1];
	char			ctxval[KMSAUTHZ_MAX_CONTEXT]
				    [KMSAUTHZ_MAX_CONTEXT_VALUE + 1];
	struct kmsauthz_context	ctx[KMSAUTHZ_MAX_CONTEXT];
	uint8_t			ip[16];
	char			hostname[HOST_NAME_MAX + 1];
};

__attribute__((__visibility__("default")))
int		pam_sm_acct_mgmt(pam_handle_t *, int, int, const char **);

static int	pamk_vars_get(pam_handle_t *, struct pamk_req *,
		    struct pamk_vars *);
static int	pamk_name_safe(const char *);
static int	pamk_build(pam_handle_t *, const struct pamk_conf *,
		    const struct pamk_vars *, struct pamk_req *,
		    struct kmsauthz_request *);
static int	pamk_ask(pam_handle_t *, const struct pamk_conf *,
		    const struct kmsauthz_request *);
static int	pamk_unavailable(pam_handle_t *, const struct pamk_conf *,
		    const char *, const char *);
static int64_t	pamk_now_ms(void);

static int64_t
pamk_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * A user name taken into an ARN must not change the ARN's shape: no
 * separator, wildcard, brace, blank or control character.
 */
static int
pamk_name_safe(const char *s)
{
	const unsigned char	*p;

	if (*s == '\0')
		return (0);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f || strchr(":/*?{}", *p) != NULL)
			return (0);
	}
	return (1);
}

static int
pamk_vars_get(pam_handle_t *pamh, struct pamk_req *r, struct pamk_vars *vars)
{
	static const int	 items[PAMK_NVARS] = {
		[PAMK_VAR_SERVICE] = PAM_SERVICE,
		[PAMK_VAR_RHOST] = PAM_RHOST,
		[PAMK_VAR_RUSER] = PAM_RUSER,
		[PAMK_VAR_TTY] = PAM_TTY
	};
	const void		*item;
	const char		*user = NULL;
	int			 i;

	memset(vars, 0, sizeof(*vars));
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL ||
	    *user == '\0') {
		pam_syslog(pamh, LOG_ERR, "no user name");
		return (PAM_USER_UNKNOWN);
	}
	if (!pamk_name_safe(user)) {
		pam_syslog(pamh, LOG_NOTICE, "user name \"%s\" has characters "
		    "an ARN cannot take: denied", user);
		return (PAM_USER_UNKNOWN);
	}
	vars->v[PAMK_VAR_USER] = user;
	for (i = 0; i < PAMK_NVARS; i++) {
		if (items[i] == 0)
			continue;
		item = NULL;
		if (pam_get_item(pamh, items[i], &item) == PAM_SUCCESS)
			vars->v[i] = item;
	}
	/* The remote user is the client's word: the same rule as the user. */
	if (vars->v[PAMK_VAR_RUSER] != NULL &&
	    *vars->v[PAMK_VAR_RUSER] != '\0' &&
	    !pamk_name_safe(vars->v[PAMK_VAR_RUSER])) {
		pam_syslog(pamh, LOG_NOTICE, "remote user name has characters "
		    "an ARN cannot take: denied");
		return (PAM_PERM_DENIED);
	}
	if (gethostname(r->hostname, sizeof(r->hostname) - 1) == -1) {
		pam_syslog(pamh, LOG_ERR, "gethostname: %m");
		return (PAM_SERVICE_ERR);
	}
	r->hostname[sizeof(r->hostname) - 1] = '\0';
	vars->v[PAMK_VAR_HOSTNAME] = r->hostname;
	return (PAM_SUCCESS);
}

/* The request of this call: principal, strings, context, source IP. */
static int
pamk_build(pam_handle_t *pamh, const struct pamk_conf *c,
    const struct pamk_vars *vars, struct pamk_req *r,
    struct kmsauthz_request *req)
{
	const char	*user = vars->v[PAMK_VAR_USER];
	const char	*rhost = vars->v[PAMK_VAR_RHOST];
	size_t		 i;
	int		 found = 0;

	if (c->principal_map != NULL && (found = pamk_map_lookup(pamh,
	    c->principal_map, user, r->principal, sizeof(r->principal))) == -1)
		return (PAM_SERVICE_ERR);
	if (!found && c->principal == NULL) {
		pam_syslog(pamh, LOG_NOTICE, "user %s is not in %s and there "
		    "is no principal= template: denied", user,
		    c->principal_map);
		return (PAM_USER_UNKNOWN);
	}
	if ((!found && pamk_tmpl_expand(c->principal, vars, r->principal,
	    sizeof(r->principal)) == -1) ||
	    pamk_tmpl_expand(c->action, vars, r->action,
	    sizeof(r->action)) == -1 ||
	    pamk_tmpl_expand(c->resource, vars, r->resource,
	    sizeof(r->resource)) == -1) {
		pam_syslog(pamh, LOG_NOTICE, "user %s: a principal, action or "
		    "resource over %d bytes: denied", user,
		    KMSAUTHZ_MAX_PRINCIPAL);
		return (PAM_PERM_DENIED);
	}
	for (i = 0; i < c->ncontext; i++) {
		memcpy(r->ctxkey[i], c->context[i].key, c->context[i].keylen);
		r->ctxkey[i][c->context[i].keylen] = '\0';
		if (pamk_tmpl_expand(c->context[i].tmpl, vars, r->ctxval[i],
		    sizeof(r->ctxval[i])) == -1) {
			pam_syslog(pamh, LOG_NOTICE, "user %s: context %s "
			    "over %d bytes: denied", user, r->ctxkey[i],
			    KMSAUTHZ_MAX_CONTEXT_VALUE);
			return (PAM_PERM_DENIED);
		}
		r->ctx[i].key = r->ctxkey[i];
		r->ctx[i].value = r->ctxval[i];
	}
	memset(req, 0, sizeof(*req));
	req->principal = r->principal;
	req->action = r->action;
	req->resource = r->resource;
	req->context = r->ctx;
	req->ncontext = c->ncontext;
	/* Only an address literal is a source IP; a host name is none. */
	if (rhost != NULL && inet_pton(AF_INET, rhost, r->ip) == 1) {
		req->source_ip = r->ip;
		req->source_ip_len = 4;
	} else if (rhost != NULL && inet_pton(AF_INET6, rhost, r->ip) == 1) {
		req->source_ip = r->ip;
		req->source_ip_len = 16;
	}
	return (PAM_SUCCESS);
}

/* The daemon did not answer: on_error decides. */
static int
pamk_unavailable(pam_handle_t *pamh, const struct pamk_conf *c,
    const char *sock, const char *why)
{
	pam_syslog(pamh, LOG_ERR, "kmsauthzd at %s: %s: %s", sock, why,
	    c->on_error_ignore ? "ignored (on_error=ignore)" :
	    "denied (on_error=deny)");
	return (c->on_error_ignore ? PAM_IGNORE : PAM_PERM_DENIED);
}

static int
pamk_ask(pam_handle_t *pamh, const struct pamk_conf *c,
    const struct kmsauthz_request *req)
{
	struct kmsauthz_answer	 ans;
	struct kmsauthz		*h = NULL;
	const char		*sock, *d, *r;
	int64_t			 start, left;
	int			 err, allowed;

	sock = c->socket != NULL ? c->socket : PAMK_DEFAULT_SOCKET;
	start = pamk_now_ms();
	if ((err = kmsauthz_connect(&h, sock, c->timeout_ms)) != 0)
		return (pamk_unavailable(pamh, c, sock,
		    kmsauthz_strerror(err)));
	/* timeout_ms bounds the whole call, connect included. */
	left = c->timeout_ms - (pamk_now_ms() - start);
	if (left <= 0) {
		kmsauthz_close(h);
		return (pamk_unavailable(pamh, c, sock,
		    kmsauthz_strerror(KMSAUTHZ_ETIMEDOUT)));
	}
	kmsauthz_set_timeout(h, (int)left);
	err = kmsauthz_check(h, req, &ans);
	kmsauthz_close(h);
	if (err != 0)
		return (pamk_unavailable(pamh, c, sock,
		    kmsauthz_strerror(err)));
	d = kmsauthz_decision_name(ans.decision);
	r = kmsauthz_reason_name(ans.reason);
	allowed = ans.decision == KMSAUTHZ_ALLOW;
	kmsauthz_answer_free(&ans);
	if (d == NULL || r == NULL)
		return (pamk_unavailable(pamh, c, sock, "unknown decision"));
	if (allowed) {
		if (c->debug)
			pam_syslog(pamh, LOG_INFO, "allowed: principal=%s "
			    "action=%s resource=%s decision=%s reason=%s",
			    req->principal, req->action, req->resource, d, r);
		return (PAM_SUCCESS);
	}
	pam_syslog(pamh, LOG_NOTICE, "denied: principal=%s action=%s "
	    "resource=%s decision=%s reason=%s", req->principal, req->action,
	    req->resource, d, r);
	return (PAM_PERM_DENIED);
}

int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pamk_conf	 c;
	struct pamk_vars	 vars;
	struct kmsauthz_request	 req;
	struct pamk_req		*r;
	int			 rc;

	if ((rc = pamk_conf_parse(pamh, argc, argv, &c)) != PAM_SUCCESS)
		return (rc);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		return (PAM_BUF_ERR);
	}
	if ((rc = pamk_vars_get(pamh, r, &vars)) == PAM_SUCCESS &&
	    (rc = pamk_build(pamh, &c, &vars, r, &req)) == PAM_SUCCESS) {
		if (c.debug)
			pam_syslog(pamh, LOG_DEBUG, "asking: principal=%s "
			    "action=%s resource=%s source_ip=%s contexts=%zu",
			    req.principal, req.action, req.resource,
			    req.source_ip_len != 0 ?
			    vars.v[PAMK_VAR_RHOST] : "(none)", req.ncontext);
		rc = pamk_ask(pamh, &c, &req);
	}
	free(r);
	return (rc);
}

/* SPDX-License-Identifier: ISC */
/*
 * pamk.h: pam_kmsauthz internals (arguments, templates, principal map).
 *
 * Only pam_sm_acct_mgmt leaves the module; everything here is static to
 * the shared object (-fvisibility=hidden and the export regex).
 */
#ifndef PAMK_H
#define PAMK_H

#include <stddef.h>

#include <security/pam_modules.h>

#include "kmsauthz.h"

#define PAMK_TIMEOUT_DEFAULT	1000		/* ms, timeout_ms= */
#define PAMK_TIMEOUT_MAX	600000
/* principal_map= bounds: a map is a small admin file, not a database. */
#define PAMK_MAP_MAX_SIZE	(1024 * 1024)
#define PAMK_MAP_MAX_LINE	2048

/* Template variables, in the order of pamk_var_names. */
enum pamk_var {
	PAMK_VAR_USER,
	PAMK_VAR_SERVICE,
	PAMK_VAR_RHOST,
	PAMK_VAR_RUSER,
	PAMK_VAR_TTY,
	PAMK_VAR_HOSTNAME,
	PAMK_NVARS
};

struct pamk_ctxarg {
	const char	*key;		/* points into argv, not terminated */
	size_t		 keylen;
	const char	*tmpl;
};

/* The service file's arguments; every string points into argv. */
struct pamk_conf {
	const char		*socket;
	const char		*principal;
	const char		*principal_map;
	const char		*action;
	const char		*resource;
	struct pamk_ctxarg	 context[KMSAUTHZ_MAX_CONTEXT];
	size_t			 ncontext;
	int			 timeout_ms;
	int			 on_error_ignore;
	int			 debug;
};

/* The values the templates read (NULL items read as ""). */
struct pamk_vars {
	const char	*v[PAMK_NVARS];
};

/* pamk-args.c: PAM_SUCCESS, or PAM_SERVICE_ERR after a log line. */
int	pamk_conf_parse(pam_handle_t *, int, const char **,
	    struct pamk_conf *);

/* pamk-tmpl.c */
int	pamk_tmpl_check(pam_handle_t *, const char *, const char *);
int	pamk_tmpl_expand(const char *, const struct pamk_vars *, char *,
	    size_t);

/* pamk-map.c: 1 found, 0 absent, -1 broken map (logged). */
int	pamk_map_lookup(pam_handle_t *, const char *, const char *, char *,
	    size_t);

#endif

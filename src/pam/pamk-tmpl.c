/* SPDX-License-Identifier: ISC */
/*
 * pamk-tmpl.c: {variable} templates of the service file's arguments.
 *
 * A template is checked whole when the arguments are read, so that a
 * misspelt variable is a service error even on a path that would not
 * have expanded it: a broken configuration never grants.  Braces are
 * only ever variable delimiters (ARNs have none).
 */
#include <string.h>

#include <security/pam_ext.h>
#include <syslog.h>

#include "pam/pamk.h"

static const char *const pamk_var_names[PAMK_NVARS] = {
	"user", "service", "rhost", "ruser", "tty", "hostname"
};

static int	pamk_tmpl_var(const char *, size_t);

/* The variable named by s[0..len), or -1. */
static int
pamk_tmpl_var(const char *s, size_t len)
{
	int	i;

	for (i = 0; i < PAMK_NVARS; i++) {
		if (strlen(pamk_var_names[i]) == len &&
		    memcmp(pamk_var_names[i], s, len) == 0)
			return (i);
	}
	return (-1);
}

int
pamk_tmpl_check(pam_handle_t *pamh, const char *arg, const char *tmpl)
{
	const char	*p, *end;

	for (p = tmpl; *p != '\0'; p++) {
		if (*p == '}') {
			pam_syslog(pamh, LOG_ERR, "%s: '}' without '{' in "
			    "\"%s\"", arg, tmpl);
			return (PAM_SERVICE_ERR);
		}
		if (*p != '{')
			continue;
		if ((end = strchr(p + 1, '}')) == NULL) {
			pam_syslog(pamh, LOG_ERR, "%s: unterminated '{' in "
			    "\"%s\"", arg, tmpl);
			return (PAM_SERVICE_ERR);
		}
		if (pamk_tmpl_var(p + 1, (size_t)(end - p - 1)) == -1) {
			pam_syslog(pamh, LOG_ERR, "%s: unknown variable "
			    "{%.*s} (known: {user} {service} {rhost} {ruser} "
			    "{tty} {hostname})", arg, (int)(end - p - 1),
			    p + 1);
			return (PAM_SERVICE_ERR);
		}
		p = end;
	}
	return (PAM_SUCCESS);
}

/*
 * Expands a template checked by pamk_tmpl_check into out (outsz bytes,
 * terminated).  -1 when the result would not fit: the caller denies.
 */
int
pamk_tmpl_expand(const char *tmpl, const struct pamk_vars *vars, char *out,
    size_t outsz)
{
	const char	*p, *end, *val;
	size_t		 n = 0, len;
	int		 v;

	for (p = tmpl; *p != '\0'; p++) {
		if (*p == '{' && (end = strchr(p + 1, '}')) != NULL &&
		    (v = pamk_tmpl_var(p + 1, (size_t)(end - p - 1))) != -1) {
			val = vars->v[v] != NULL ? vars->v[v] : "";
			len = strlen(val);
			p = end;
		} else {
			val = p;
			len = 1;
		}
		if (len >= outsz - n)
			return (-1);
		memcpy(out + n, val, len);
		n += len;
	}
	out[n] = '\0';
	return (0);
}

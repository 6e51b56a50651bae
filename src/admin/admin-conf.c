/* SPDX-License-Identifier: ISC */
/*
 * admin-conf.c: the admin configuration (admin-exec.h): who may
 * administer (uids, gids and public keys mapped to principal ARNs or
 * "superuser"), the region and account ARNs are made in, the audit file.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin-exec.h"
#include "admin/admin.h"

static int	admin_conf_principal_ok(const char *);
static int	admin_conf_number(const char *, long long, long long,
		    long long *);

void
admin_conf_defaults(struct admin_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->region, sizeof(c->region), "cn-hangzhou");
	snprintf(c->account, sizeof(c->account), "1000000000000000");
	c->replay_cache = 65536;
	c->day_seconds = 86400;
	c->root_superuser = 1;
}

static int
admin_conf_principal_ok(const char *p)
{
	struct admin_caller	c;

	if (strcmp(p, ADMIN_SUPERUSER) == 0)
		return (1);
	memset(&c, 0, sizeof(c));
	return (admin_caller_set_principal(&c, p) == 0);
}

static int
admin_conf_number(const char *s, long long min, long long max,
    long long *vp)
{
	char		*end;
	long long	 v;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s) ||
	    strlen(s) > 18)
		return (-1);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < min || v > max)
		return (-1);
	*vp = v;
	return (0);
}

int
admin_conf_set(struct admin_conf *c, const char *key, const char *value,
    char *err, size_t errlen)
{
	char		 first[1024], *sp;
	const char	*rest;
	long long	 n;
	size_t		 i;

	if (strcmp(key, "region") == 0) {
		if (*value == '\0' || strlen(value) >= sizeof(c->region) ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(value))
			goto bad;
		snprintf(c->region, sizeof(c->region), "%s", value);
		return (0);
	}
	if (strcmp(key, "account") == 0) {
		if (*value == '\0' || strlen(value) >= sizeof(c->account) ||
		    strspn(value, "0123456789") != strlen(value))
			goto bad;
		snprintf(c->account, sizeof(c->account), "%s", value);
		return (0);
	}
	if (strcmp(key, "audit_file") == 0) {
		if (strlen(value) >= sizeof(c->audit_file) ||
		    (*value != '\0' && *value != '/'))
			goto bad;
		snprintf(c->audit_file, sizeof(c->audit_file), "%s", value);
		return (0);
	}
	if (strcmp(key, "replay_cache") == 0) {
		if (admin_conf_number(value, 8, 16 * 1024 * 1024, &n) != 0)
			goto bad;
		c->replay_cache = (size_t)n;
		return (0);
	}
	if (strcmp(key, "day_seconds") == 0) {
		if (admin_conf_number(value, 1, 86400, &n) != 0)
			goto bad;
		c->day_seconds = n;
		return (0);
	}
	if (strcmp(key, "root_superuser") == 0) {
		if (strcmp(value, "yes") == 0)
			c->root_superuser = 1;
		else if (strcmp(value, "no") == 0)
			c->root_superuser = 0;
		else
			goto bad;
		return (0);
	}
	if (strcmp(key, "uid") != 0 && strcmp(key, "gid") != 0 &&
	    strcmp(key, "key") != 0) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return (-1);
	}
	/* "ID PRINCIPAL" */
	snprintf(first, sizeof(first), "%s", value);
	if ((sp = strchr(first, ' ')) == NULL)
		goto bad;
	*sp = '\0';
	rest = value + (sp - first) + 1;
	while (*rest == ' ')
		rest++;
	if (!admin_conf_principal_ok(rest) || strlen(rest) >= 256)
		goto bad;
	if (strcmp(key, "key") == 0) {
		if (c->nkeys == ADMIN_CONF_KEYS_MAX ||
		    strlen(first) != ADMIN_PK_B64_LEN)
			goto bad;
		for (i = 0; i < c->nkeys; i++)
			if (strcmp(c->key_pk[i], first) == 0)
				goto bad;
		snprintf(c->key_pk[c->nkeys], sizeof(c->key_pk[0]), "%s",
		    first);
		snprintf(c->key_principal[c->nkeys],
		    sizeof(c->key_principal[0]), "%s", rest);
		c->nkeys++;
		return (0);
	}
	if (c->npeers == ADMIN_CONF_PEERS_MAX ||
	    admin_conf_number(first, 0, 4294967294LL, &n) != 0)
		goto bad;
	for (i = 0; i < c->npeers; i++)
		if (c->peers[i].id == n &&
		    c->peers[i].is_gid == (key[0] == 'g'))
			goto bad;
	c->peers[c->npeers].is_gid = key[0] == 'g';
	c->peers[c->npeers].id = (long)n;
	snprintf(c->peers[c->npeers].principal,
	    sizeof(c->peers[0].principal), "%s", rest);
	c->npeers++;
	return (0);
bad:
	snprintf(err, errlen, "bad value for '%s': '%.200s'", key, value);
	return (-1);
}

int
admin_conf_load(struct admin_conf *c, const char *path, int optional,
    char *err, size_t errlen)
{
	FILE	*f;
	char	 line[2048], msg[512], *p, *eq, *k, *v, *e, *buf = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 lineno = 0;

	if ((f = fopen(path, "r")) == NULL) {
		if (optional && errno == ENOENT)
			return (0);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	/* getline: the length is known, so a NUL byte is told apart. */
	while ((n = getline(&buf, &cap, f)) != -1) {
		lineno++;
		if ((size_t)n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			goto fail;
		}
		if (memchr(buf, '\0', (size_t)n) != NULL) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", path,
			    lineno);
			goto fail;
		}
		memcpy(line, buf, (size_t)n + 1);
		line[strcspn(line, "\r\n")] = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p == '#' || *p == '\0')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value",
			    path, lineno);
			goto fail;
		}
		*eq = '\0';
		k = p;
		for (e = eq; e > k && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		for (v = eq + 1; isspace((unsigned char)*v); v++)
			;
		for (e = v + strlen(v); e > v && isspace((unsigned char)e[-1]);
		    e--)
			;
		*e = '\0';
		if (admin_conf_set(c, k, v, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(buf);
	fclose(f);
	return (0);
fail:
	free(buf);
	fclose(f);
	return (-1);
}

/* SPDX-License-Identifier: ISC */
/*
 * pamk-map.c: principal_map=FILE, lines "USER ARN".
 *
 * Blank lines and lines starting with '#' are skipped.  The whole file is
 * read and checked on every call (it is bounded: PAMK_MAP_MAX_SIZE bytes,
 * PAMK_MAP_MAX_LINE per line), so a malformed line is a service error
 * whoever logs in, not only for the user it concerns; so is the user's
 * own name listed twice.  The file decides who acts as which principal,
 * so it must be owned by root (or the module's own user) and writable by
 * its owner only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <syslog.h>

#include "pam/pamk.h"

static int	pamk_map_read(pam_handle_t *, const char *, char **,
		    size_t *);
static int	pamk_map_blank(char);

static int
pamk_map_blank(char c)
{
	return (c == ' ' || c == '\t' || c == '\r');
}

/* The file's bytes, NUL-terminated, in *bufp (free it). */
static int
pamk_map_read(pam_handle_t *pamh, const char *path, char **bufp,
    size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		pam_syslog(pamh, LOG_ERR, "principal_map=%s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    st.st_size > PAMK_MAP_MAX_SIZE) {
		pam_syslog(pamh, LOG_ERR, "principal_map=%s: not a regular "
		    "file owned by root, writable by its owner only, of at "
		    "most %d bytes", path, PAMK_MAP_MAX_SIZE);
		close(fd);
		return (-1);
	}
	if ((buf = malloc(PAMK_MAP_MAX_SIZE + 1)) == NULL) {
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		close(fd);
		return (-1);
	}
	/* One byte past the limit: the file may have grown since fstat. */
	while (len <= PAMK_MAP_MAX_SIZE) {
		n = read(fd, buf + len, PAMK_MAP_MAX_SIZE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n == -1 || len > PAMK_MAP_MAX_SIZE) {
		pam_syslog(pamh, LOG_ERR, "principal_map=%s: %s", path,
		    n == -1 ? strerror(errno) : "over the size limit");
		free(buf);
		return (-1);
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return (0);
}

int
pamk_map_lookup(pam_handle_t *pamh, const char *path, const char *user,
    char *arn, size_t arnsz)
{
	char	*buf, *line, *nl, *u, *a, *p;
	size_t	 len, ulen, alen, lineno = 0;
	int	 found = 0;

	if (pamk_map_read(pamh, path, &buf, &len) == -1)
		return (-1);
	if (memchr(buf, '\0', len) != NULL) {
		pam_syslog(pamh, LOG_ERR, "principal_map=%s: a NUL byte",
		    path);
		goto bad;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL)
			nl = buf + len;
		if ((size_t)(nl - line) > PAMK_MAP_MAX_LINE) {
			pam_syslog(pamh, LOG_ERR, "principal_map=%s:%zu: line "
			    "over %d bytes", path, lineno, PAMK_MAP_MAX_LINE);
			goto bad;
		}
		*nl = '\0';
		for (u = line; pamk_map_blank(*u); u++)
			;
		if (*u == '\0' || *u == '#')
			continue;
		for (p = u; *p != '\0' && !pamk_map_blank(*p); p++)
			;
		ulen = (size_t)(p - u);
		for (a = p; pamk_map_blank(*a); a++)
			;
		for (p = a; *p != '\0' && !pamk_map_blank(*p); p++)
			;
		alen = (size_t)(p - a);
		while (pamk_map_blank(*p))
			p++;
		if (alen == 0 || *p != '\0') {
			pam_syslog(pamh, LOG_ERR, "principal_map=%s:%zu: not "
			    "\"USER ARN\"", path, lineno);
			goto bad;
		}
		if (alen > KMSAUTHZ_MAX_PRINCIPAL || alen >= arnsz) {
			pam_syslog(pamh, LOG_ERR, "principal_map=%s:%zu: ARN "
			    "over %d bytes", path, lineno,
			    KMSAUTHZ_MAX_PRINCIPAL);
			goto bad;
		}
		if (strlen(user) != ulen || memcmp(u, user, ulen) != 0)
			continue;
		if (found) {
			pam_syslog(pamh, LOG_ERR, "principal_map=%s:%zu: user "
			    "%s listed twice", path, lineno, user);
			goto bad;
		}
		memcpy(arn, a, alen);
		arn[alen] = '\0';
		found = 1;
	}
	free(buf);
	return (found);
bad:
	free(buf);
	return (-1);
}

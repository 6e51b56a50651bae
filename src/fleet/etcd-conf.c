/* SPDX-License-Identifier: ISC */
/*
 * etcd-conf.c: the client's configuration: the endpoint list, the
 * password file, and the range end of a prefix.
 */
#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet/etcd-int.h"

static const char *const etcd_errkind_names[] = {
	"none", "unavailable", "compacted", "auth", "invalid", "conflict",
	"canceled", "protocol"
};

const char *
etcd_errkind_name(enum etcd_errkind k)
{
	if ((size_t)k >= sizeof(etcd_errkind_names) /
	    sizeof(etcd_errkind_names[0]))
		return ("unknown");
	return (etcd_errkind_names[k]);
}

/* One "scheme://host:port" (a bracketed IPv6 host), nothing more. */
static int
etcd_endpoint_parse(const char *s, size_t len, struct etcd_endpoint *ep,
    char *err, size_t errlen)
{
	const char	*p, *end = s + len, *colon;
	char		 port[8], *ep_end;
	unsigned long	 n;
	struct in6_addr	 a6;

	memset(ep, 0, sizeof(*ep));
	if (len == 0) {
		snprintf(err, errlen, "empty endpoint");
		return (-1);
	}
	if (len >= sizeof(ep->url)) {
		snprintf(err, errlen, "endpoint \"%.40s...\": longer than %zu "
		    "bytes", s, sizeof(ep->url) - 1);
		return (-1);
	}
	memcpy(ep->url, s, len);
	if (len > 7 && strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (len > 8 && strncmp(s, "https://", 8) == 0) {
		p = s + 8;
		ep->tls = 1;
	} else {
		snprintf(err, errlen, "endpoint \"%s\": not http://HOST:PORT "
		    "or https://HOST:PORT", ep->url);
		return (-1);
	}
	if (*p == '[') {
		if ((colon = memchr(p, ']', end - p)) == NULL ||
		    colon + 1 >= end || colon[1] != ':') {
			snprintf(err, errlen, "endpoint \"%s\": an IPv6 "
			    "address is [ADDRESS]:PORT", ep->url);
			return (-1);
		}
		memcpy(ep->host, p + 1, colon - p - 1);
		if (inet_pton(AF_INET6, ep->host, &a6) != 1) {
			snprintf(err, errlen, "endpoint \"%s\": \"%s\" is not "
			    "an IPv6 address", ep->url, ep->host);
			return (-1);
		}
		colon++;
	} else {
		colon = memchr(p, ':', end - p);
		if (colon == NULL || colon == p) {
			snprintf(err, errlen, "endpoint \"%s\": %s", ep->url,
			    colon == NULL ? "no port (HOST:PORT)" :
			    "no host");
			return (-1);
		}
		memcpy(ep->host, p, colon - p);
		if (strcspn(ep->host, "/?#@[]") != strlen(ep->host)) {
			snprintf(err, errlen, "endpoint \"%s\": bad host "
			    "\"%s\"", ep->url, ep->host);
			return (-1);
		}
	}
	if (end - colon - 1 <= 0 || (size_t)(end - colon - 1) >=
	    sizeof(port)) {
		snprintf(err, errlen, "endpoint \"%s\": bad port", ep->url);
		return (-1);
	}
	memcpy(port, colon + 1, end - colon - 1);
	port[end - colon - 1] = '\0';
	errno = 0;
	n = strtoul(port, &ep_end, 10);
	if (*ep_end != '\0' || port[0] < '0' || port[0] > '9' || n == 0 ||
	    n > 65535) {
		snprintf(err, errlen, "endpoint \"%s\": bad port \"%s\" "
		    "(1 to 65535, no path)", ep->url, port);
		return (-1);
	}
	ep->port = (uint16_t)n;
	return (0);
}

int
etcd_endpoints_parse(const char *list, struct etcd_endpoint *ep,
    size_t max, size_t *n, char *err, size_t errlen)
{
	const char	*p = list, *comma;
	size_t		 len;

	*n = 0;
	if (list == NULL || *list == '\0') {
		snprintf(err, errlen, "no endpoint");
		return (-1);
	}
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		/* Spaces around a comma are a typing habit, not an error. */
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (*n == max) {
			snprintf(err, errlen, "more than %zu endpoints", max);
			return (-1);
		}
		if (etcd_endpoint_parse(p, len, &ep[*n], err, errlen) == -1)
			return (-1);
		(*n)++;
		if (comma == NULL)
			return (0);
		p = comma + 1;
	}
}

int
etcd_password_read(const char *path, char *buf, size_t len, char *err,
    size_t errlen)
{
	struct stat	 st;
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 0077) != 0) {
		snprintf(err, errlen, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "readable or writable by others "
		    "(chmod 600)");
		close(fd);
		return (-1);
	}
	while (got < len - 1 && (r = read(fd, buf + got, len - 1 - got)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return (-1);
		}
		got += r;
	}
	close(fd);
	buf[got] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (got == len - 1 && strlen(buf) == got) {
		snprintf(err, errlen, "%s: longer than %zu bytes", path,
		    len - 2);
		return (-1);
	}
	if (buf[0] == '\0') {
		snprintf(err, errlen, "%s: empty password", path);
		return (-1);
	}
	return (0);
}

size_t
etcd_prefix_end(const void *prefix, size_t len, uint8_t *out, size_t outlen)
{
	const uint8_t	*p = prefix;

	while (len > 0 && p[len - 1] == 0xff)
		len--;
	if (outlen == 0 || len > outlen)
		return (0);
	if (len == 0) {
		out[0] = 0;
		return (1);
	}
	memcpy(out, p, len);
	out[len - 1]++;
	return (len);
}

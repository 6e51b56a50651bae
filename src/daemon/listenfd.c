/* SPDX-License-Identifier: ISC */
/*
 * listenfd.c: systemd socket activation by hand (sd_listen_fds(3)):
 * LISTEN_PID must be ours, LISTEN_FDS counts descriptors from 3 on,
 * LISTEN_FDNAMES names them (colon-separated).  The variables are
 * removed so that children do not inherit them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/daemon.h"

#define LISTENFD_START	3

static int	listenfd_number(const char *, unsigned long *);

static int
listenfd_number(const char *s, unsigned long *v)
{
	char	*end;

	if (s == NULL || *s < '0' || *s > '9')
		return (-1);
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (-1);
	return (0);
}

/*
 * *n = 0 when the variables are absent or meant for another process
 * (fall back to bind); -1 with err on a malformed set.
 */
int
listenfd_collect(struct listenfd *out, size_t max, size_t *n, char *err,
    size_t errlen)
{
	const char	*spid, *sfds, *snames, *p, *q;
	unsigned long	 pid, nfds, i;
	size_t		 len;
	int		 fd, flags, type;
	socklen_t	 tlen;

	*n = 0;
	spid = getenv("LISTEN_PID");
	sfds = getenv("LISTEN_FDS");
	snames = getenv("LISTEN_FDNAMES");
	if (spid == NULL || sfds == NULL)
		goto done;
	if (listenfd_number(spid, &pid) == -1) {
		snprintf(err, errlen, "LISTEN_PID: bad value '%s'", spid);
		return (-1);
	}
	if (pid != (unsigned long)getpid())
		goto done;
	if (listenfd_number(sfds, &nfds) == -1 || nfds > max) {
		snprintf(err, errlen, "LISTEN_FDS: bad value '%s' (at most "
		    "%zu)", sfds, max);
		return (-1);
	}
	p = snames;
	for (i = 0; i < nfds; i++) {
		fd = LISTENFD_START + (int)i;
		memset(&out[i], 0, sizeof(out[i]));
		out[i].fd = fd;
		if (p != NULL) {
			q = strchr(p, ':');
			len = q == NULL ? strlen(p) : (size_t)(q - p);
			if (len >= sizeof(out[i].name)) {
				snprintf(err, errlen,
				    "LISTEN_FDNAMES: name %lu too long", i);
				return (-1);
			}
			memcpy(out[i].name, p, len);
			p = q == NULL ? NULL : q + 1;
		}
		tlen = sizeof(type);
		if ((flags = fcntl(fd, F_GETFD)) == -1 ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1 ||
		    type != SOCK_STREAM) {
			snprintf(err, errlen, "LISTEN_FDS: descriptor %d is "
			    "not a stream socket", fd);
			return (-1);
		}
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	*n = nfds;
done:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (0);
}

/* SPDX-License-Identifier: ISC */
/*
 * notify.c: the systemd notify protocol, by hand (no libsystemd): one
 * datagram per message to $NOTIFY_SOCKET, where a leading '@' names an
 * abstract socket.  The protocol is documented as stable
 * (sd_notify(3), "Interface Portability and Stability").
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/daemon.h"

static int	notify_addr(struct sockaddr_un *, socklen_t *);

static int
notify_addr(struct sockaddr_un *sun, socklen_t *len)
{
	const char	*path;
	size_t		 plen;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return (-1);
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    plen >= sizeof(sun->sun_path))
		return (-1);
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, plen);
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (path[0] == '@' ? 0 : 1));
	return (0);
}

int
notify_enabled(void)
{
	struct sockaddr_un	sun;
	socklen_t		len;

	return (notify_addr(&sun, &len) == 0);
}

/* Returns 0 when sent or when no manager listens (nothing to do). */
int
notify_send(const char *msg)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd;
	ssize_t			n;

	if (notify_addr(&sun, &len) == -1)
		return (0);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("notify: socket");
		return (-1);
	}
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
	if (n == -1) {
		log_warn("notify: sendto %s", getenv("NOTIFY_SOCKET"));
		return (-1);
	}
	log_debug("notify: %s", msg);
	return (0);
}

int
notify_sendf(const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return (notify_send(buf));
}

/*
 * WATCHDOG_USEC applies to us only when WATCHDOG_PID is unset or ours
 * (sd_watchdog_enabled(3)).  0 = no watchdog.
 */
uint64_t
notify_watchdog_usec(void)
{
	const char	*s, *p;
	char		*end;
	unsigned long long v;

	if ((s = getenv("WATCHDOG_USEC")) == NULL || *s == '\0')
		return (0);
	if ((p = getenv("WATCHDOG_PID")) != NULL && *p != '\0') {
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno != 0 || *end != '\0' || v != (unsigned long long)
		    getpid())
			return (0);
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return (0);
	return ((uint64_t)v);
}

uint64_t
notify_monotonic_usec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

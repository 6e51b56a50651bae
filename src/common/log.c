/* SPDX-License-Identifier: ISC */
/*
 * log.c: stderr logging with optional syslog priority prefixes, or
 * syslog(3) once a daemon has detached from its terminal.
 *
 * The verbosity is an atomic: SIGHUP changes it on the main thread while
 * the workers read it in log_debug (relaxed: a message more or less
 * around the change is fine, a data race is not).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/log.h"

static const char	*log_progname = "kmsauthz";
static atomic_int	 log_verbose;
static int		 log_prefix;
static int		 log_to_syslog;

static void	log_vwrite(int, int, const char *, va_list)
	    __attribute__((__format__(printf, 3, 0)));

void
log_init(const char *progname, int verbose, int prefix_priority)
{
	if (progname != NULL)
		log_progname = progname;
	atomic_store_explicit(&log_verbose, verbose, memory_order_relaxed);
	log_prefix = prefix_priority;
}

/* Detached: from now on messages go to syslog, never to a terminal. */
void
log_syslog(void)
{
	openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_to_syslog = 1;
}

void
log_setverbose(int v)
{
	atomic_store_explicit(&log_verbose, v, memory_order_relaxed);
}

int
log_getverbose(void)
{
	return (atomic_load_explicit(&log_verbose, memory_order_relaxed));
}

/* One fprintf per message so that lines from threads do not interleave. */
static void
log_vwrite(int pri, int with_errno, const char *fmt, va_list ap)
{
	char	msg[2048];
	int	saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_syslog) {
		if (with_errno)
			syslog(pri, "%s: %s", msg, strerror(saved_errno));
		else
			syslog(pri, "%s", msg);
	} else if (log_prefix) {
		if (with_errno)
			fprintf(stderr, "<%d>%s: %s\n", pri, msg,
			    strerror(saved_errno));
		else
			fprintf(stderr, "<%d>%s\n", pri, msg);
	} else {
		if (with_errno)
			fprintf(stderr, "%s: %s: %s\n", log_progname, msg,
			    strerror(saved_errno));
		else
			fprintf(stderr, "%s: %s\n", log_progname, msg);
	}
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_getverbose() < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

char *
log_escape(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0;
	unsigned char		 c;

	if (dstsize == 0)
		return (dst);
	for (i = 0; i < srclen; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstsize)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstsize)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	dst[o] = '\0';
	return (dst);
}

/* SPDX-License-Identifier: ISC */
/*
 * log.h: logging for the daemon and the tools (OpenSMTPD's API).
 *
 * Messages go to stderr with a "<N>" syslog priority prefix when
 * log_init() is told so (journald reads it), plain otherwise; to
 * syslog(3) after log_syslog() (a daemon that detached).
 * Never used by libkmsauthz: a library does not write to stderr.
 */
#ifndef KMSAUTHZ_LOG_H
#define KMSAUTHZ_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_PRINTF(a, b) __attribute__((__format__(printf, a, b)))

void	log_init(const char *progname, int verbose, int prefix_priority);
void	log_syslog(void);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);
void	fatal(const char *, ...) LOG_PRINTF(1, 2) __attribute__((__noreturn__));
void	fatalx(const char *, ...) LOG_PRINTF(1, 2) __attribute__((__noreturn__));

/*
 * Copy untrusted text into dst as printable ASCII (C-style escapes for
 * the rest), truncated to fit; returns dst.  For peer-supplied names.
 */
char	*log_escape(char *dst, size_t dstsize, const char *src, size_t srclen);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * xmalloc.h: allocators that die on failure (tmux).  For the daemon and
 * kmsauthzctl only, never for libkmsauthz or the pure engine, which must
 * report ENOMEM to their callers.
 */
#ifndef KMSAUTHZ_XMALLOC_H
#define KMSAUTHZ_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));

#endif

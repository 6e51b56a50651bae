/* SPDX-License-Identifier: ISC */
/*
 * ctl-admin.h: kmsauthzctl's admin commands (ctl-admin.c): one per admin
 * API call, plus keygen.
 */
#ifndef KMSAUTHZ_CTL_ADMIN_H
#define KMSAUTHZ_CTL_ADMIN_H

#include <stddef.h>

/* argv[0] is the call's name (SetKeyPolicy, ...). */
int	ctl_admin_call(int, char **);
int	ctl_keygen(int, char **);
/* The admin socket: opt, else $KMSAUTHZ_ADMIN_SOCKET, else the default. */
const char *ctl_admin_socket_path(const char *opt);
/* One ADMIN_REQUEST; the answer's JSON text (malloc'd) or NULL. */
char	*ctl_admin_send(const char *sockpath, const char *sk_b64,
	    const char *body, size_t len, size_t *outlenp);

#endif

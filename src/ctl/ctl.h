/* SPDX-License-Identifier: ISC */
/*
 * ctl.h: kmsauthzctl's command table and the helpers its commands share.
 * Each command lives in its own ctl-<name>.c and returns the process exit
 * status (by convention 0 success or ALLOW, 1 rejected or denied,
 * 2 usage, I/O or connection error).
 */
#ifndef KMSAUTHZ_CTL_H
#define KMSAUTHZ_CTL_H

#include <stdint.h>

#define CTL_EXIT_OK	0
#define CTL_EXIT_NO	1	/* invalid, rejected, denied */
#define CTL_EXIT_ERROR	2	/* usage, I/O, connection */

struct ctl_cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;		/* one line, after "kmsauthzctl " */
	const char	*help;		/* what it does, for --help */
};

/* ctl-simulate.c */
int	ctl_simulate(int, char **);

/* Reads a whole file ("-" is standard input) into a NUL-terminated
 * buffer; returns NULL with a message on stderr. */
char	*ctl_read_file(const char *path, size_t max, size_t *lenp);

/* Prints a JSON answer as one line on stdout and releases it; NULL (an
 * allocation failed while building it) or a failed write is -1. */
struct json_object;
int	 ctl_json_print(struct json_object *);

/*
 * A connection that failed, in words: no daemon there, not allowed to
 * use the socket (its group), or the daemon refused or dropped it.
 */
void	 ctl_connect_error(const char *path, int errnum);

/* ctl-validate.c */
int	ctl_validate(int, char **);
/* ctl-store.c */
int	ctl_import(int, char **);
int	ctl_export(int, char **);
int	ctl_backup(int, char **);
int	ctl_verify(int, char **);

/* ctl-check.c: online queries through libkmsauthz. */
int	ctl_check(int, char **);
/* --explain's value: 1 (none) or 2 (=full); -1 after a message. */
int	ctl_explain_arg(const char *);
struct kmsauthz;
struct kmsauthz_request;
struct kmsauthz_why;
/* One online check as its answer's JSON (explain: 0, 1, 2 =full); NULL
 * with the error on stderr. */
/* genp: NULL, or where the deciding generation goes (then shown). */
struct json_object *ctl_check_one(struct kmsauthz *,
	    const struct kmsauthz_request *, int explain, int *decision,
	    int *reason, uint64_t *genp);
struct json_object *ctl_why_json(const struct kmsauthz_why *, int full);
int	ctl_check_connect(const char *sock, int timeout_ms,
	    struct kmsauthz **);
#define CTL_CHECK_TIMEOUT_MS	5000	/* check, ping, status, test */
struct world;
/* A bundle file as a world; NULL with every error on stderr. */
struct world *ctl_bundle_world(const char *);
int	ctl_test(int, char **);
int	ctl_analyze(int, char **);
int	ctl_ping(int, char **);
int	ctl_status(int, char **);
int	ctl_query_status(int, char **);
/* ctl-fleet.c */
int	ctl_fleet(int, char **);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * audit.h: the admin audit trail, an append-only file of JSON lines.
 * Every admin change writes an intent record (who, from which uid/pid or
 * key, what, the RequestId), fsynced before the change commits, and an
 * outcome record (the new generation and policy digest, or the error)
 * after.  If the intent cannot be written the change is refused.
 * audit_reopen (on SIGHUP) reopens the file for log rotation.
 * Thread-safe.
 */
#ifndef KMSAUTHZ_AUDIT_H
#define KMSAUTHZ_AUDIT_H

#include <stdint.h>

struct admin_caller;
struct json_object;
struct audit;

/* Opens (creates 0600, appends) path; NULL with errno on failure.  A
 * NULL path gives an audit that only logs (no file configured). */
struct audit	*audit_open(const char *path);
/* Not opened yet (err: why, an errno): every write fails until
 * audit_reopen() succeeds. */
struct audit	*audit_open_later(const char *path, int err);
/* 0 when records can be written (or no file is configured), else the
 * errno of the failed open: changes must then be refused. */
int		 audit_error(struct audit *);
const char	*audit_path(struct audit *);
void		 audit_close(struct audit *);
/* Reopens the same path; 0, or -1 (the old file stays in use). */
int		 audit_reopen(struct audit *);
/* Records written to audit files, and writes that failed (metrics). */
void		 audit_counts(uint64_t *written, uint64_t *failed);

/*
 * The intent record: caller, action, request id and the parameters
 * (params: an object of strings; documents are given as digests by the
 * caller).  Written and fsynced; 0, or -1 when the record could not be
 * made durable (the change must then be refused).
 */
int	audit_intent(struct audit *, const struct admin_caller *,
	    const char *action, const char *request_id,
	    struct json_object *params);

/*
 * The outcome: on success code is NULL and generation (and digest, may
 * be NULL) are recorded; on failure code and detail.  0 or -1.
 */
int	audit_outcome(struct audit *, const char *action,
	    const char *request_id, const char *code, const char *detail,
	    uint64_t generation, const char *digest);

#endif

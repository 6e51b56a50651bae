/* SPDX-License-Identifier: ISC */
/*
 * audit.c: the append-only JSON-lines audit file of admin changes (see
 * audit.h).  One write(2) per record on an O_APPEND descriptor, so lines
 * from concurrent writers never interleave; fsync(2) after the intent so
 * that no change commits without its record on disk.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin/admin.h"
#include "admin/audit.h"
#include "common/log.h"

struct audit {
	pthread_mutex_t	 mtx;
	char		*path;		/* NULL: log only */
	int		 fd;
	int		 err;		/* why fd is -1 (0: open) */
	int		 torn;		/* a fragment could not be cut off */
};

/* Records written to a file and writes that failed (metrics). */
static atomic_uint_fast64_t	audit_nwritten, audit_nfailed;

static int	audit_fd_open(const char *);
static int	audit_write(struct audit *, struct json_object *, int);
static void	audit_now(char *, size_t);

static int
audit_fd_open(const char *path)
{
	return (open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600));
}

struct audit *
audit_open(const char *path)
{
	struct audit	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return (NULL);
	pthread_mutex_init(&a->mtx, NULL);
	a->fd = -1;
	if (path != NULL) {
		if ((a->path = strdup(path)) == NULL ||
		    (a->fd = audit_fd_open(path)) == -1) {
			free(a->path);
			pthread_mutex_destroy(&a->mtx);
			free(a);
			return (NULL);
		}
	}
	return (a);
}

struct audit *
audit_open_later(const char *path, int err)
{
	struct audit	*a;

	if (path == NULL || (a = calloc(1, sizeof(*a))) == NULL)
		return (NULL);
	if ((a->path = strdup(path)) == NULL) {
		free(a);
		return (NULL);
	}
	pthread_mutex_init(&a->mtx, NULL);
	a->fd = -1;
	a->err = err != 0 ? err : EBADF;
	return (a);
}

int
audit_error(struct audit *a)
{
	int	e;

	if (a == NULL)
		return (EBADF);
	pthread_mutex_lock(&a->mtx);
	e = a->fd == -1 && a->path != NULL ? a->err : 0;
	pthread_mutex_unlock(&a->mtx);
	return (e);
}

const char *
audit_path(struct audit *a)
{
	return (a != NULL && a->path != NULL ? a->path : "(none)");
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	free(a->path);
	pthread_mutex_destroy(&a->mtx);
	free(a);
}

int
audit_reopen(struct audit *a)
{
	int	fd, r = 0;

	if (a->path == NULL)
		return (0);
	pthread_mutex_lock(&a->mtx);
	if ((fd = audit_fd_open(a->path)) == -1) {
		if (a->fd == -1)
			a->err = errno;
		log_warn("audit: reopen %s", a->path);
		r = -1;
	} else {
		if (a->fd != -1)
			close(a->fd);
		a->fd = fd;
		a->err = 0;
		log_info("audit: reopened %s", a->path);
	}
	pthread_mutex_unlock(&a->mtx);
	return (r);
}

static void
audit_now(char *buf, size_t size)
{
	struct timespec	ts;
	struct tm	tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000) % 1000);
}

/*
 * After a failed or short write: cut the file back to where the record
 * began, so that it holds whole lines only (a full disk must not leave
 * half a record for the next one to be appended onto).  When even that
 * fails, the next record starts on a line of its own.
 */
static void
audit_cut(struct audit *a, off_t start)
{
	int	saved = errno;

	if (ftruncate(a->fd, start) == -1) {
		log_warn("audit: cannot cut %s back to %lld bytes after a "
		    "failed write", a->path, (long long)start);
		a->torn = 1;
	} else if (fsync(a->fd) == -1)
		a->torn = 1;
	errno = saved;
}

/*
 * One line, one write; fsync when durable.  Logged in any case.  -1
 * leaves the file as it was before (audit_cut): a record is in the file
 * whole or not at all.
 */
static int
audit_write(struct audit *a, struct json_object *rec, int durable)
{
	const char	*txt;
	char		*line;
	size_t		 len, off = 0, skip;
	ssize_t		 n;
	struct stat	 st;
	off_t		 start = -1;
	int		 r = 0;

	txt = json_object_to_json_string_length(rec,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (txt == NULL)
		return (-1);
	log_info("audit: %s", txt);
	if (a == NULL || a->path == NULL)
		return (0);
	if ((line = malloc(len + 2)) == NULL)
		return (-1);
	/* A leading newline ends a fragment that could not be cut off. */
	line[0] = '\n';
	memcpy(line + 1, txt, len);
	line[++len] = '\n';
	len++;
	pthread_mutex_lock(&a->mtx);
	skip = a->torn ? 0 : 1;
	off = skip;
	if (a->fd == -1) {
		errno = EBADF;
		r = -1;
	} else if (fstat(a->fd, &st) == -1)
		r = -1;
	else
		start = st.st_size;	/* O_APPEND: the record's offset */
	while (r == 0 && off < len) {
		n = write(a->fd, line + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			r = -1;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && durable && fsync(a->fd) == -1)
		r = -1;
	if (r == -1) {
		log_warn("audit: write %s", a->path);
		if (start != -1 && off > skip)
			audit_cut(a, start);
		atomic_fetch_add(&audit_nfailed, 1);
	} else {
		a->torn = 0;
		atomic_fetch_add(&audit_nwritten, 1);
	}
	pthread_mutex_unlock(&a->mtx);
	free(line);
	return (r);
}

/* What every record starts with: Time, Record, RequestId, Action. */
static struct json_object *
audit_record(const char *record, const char *action, const char *request_id)
{
	struct json_object	*rec;
	char			 ts[80];

	audit_now(ts, sizeof(ts));
	if ((rec = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(rec, "Time", json_object_new_string(ts));
	json_object_object_add(rec, "Record", json_object_new_string(record));
	json_object_object_add(rec, "RequestId",
	    json_object_new_string(request_id));
	json_object_object_add(rec, "Action", json_object_new_string(action));
	return (rec);
}

int
audit_intent(struct audit *a, const struct admin_caller *c,
    const char *action, const char *request_id, struct json_object *params)
{
	struct json_object	*rec, *who;
	int			 r;

	if ((rec = audit_record("intent", action, request_id)) == NULL ||
	    (who = json_object_new_object()) == NULL) {
		json_object_put(rec);
		return (-1);
	}
	json_object_object_add(who, "Principal", json_object_new_string(
	    c->superuser ? "superuser" : c->principal));
	if (c->uid >= 0)
		json_object_object_add(who, "Uid",
		    json_object_new_int64(c->uid));
	if (c->gid >= 0)
		json_object_object_add(who, "Gid",
		    json_object_new_int64(c->gid));
	if (c->pid >= 0)
		json_object_object_add(who, "Pid",
		    json_object_new_int64(c->pid));
	if (c->pubkey[0] != '\0')
		json_object_object_add(who, "PublicKey",
		    json_object_new_string(c->pubkey));
	json_object_object_add(rec, "Caller", who);
	if (params != NULL)
		json_object_object_add(rec, "Parameters",
		    json_object_get(params));
	r = audit_write(a, rec, 1);
	json_object_put(rec);
	return (r);
}

int
audit_outcome(struct audit *a, const char *action, const char *request_id,
    const char *code, const char *detail, uint64_t generation,
    const char *digest)
{
	struct json_object	*rec;
	int			 r;

	if ((rec = audit_record("outcome", action, request_id)) == NULL)
		return (-1);
	if (code == NULL) {
		json_object_object_add(rec, "Result",
		    json_object_new_string("ok"));
		json_object_object_add(rec, "Generation",
		    json_object_new_int64((int64_t)generation));
		if (digest != NULL)
			json_object_object_add(rec, "PolicyDigest",
			    json_object_new_string(digest));
	} else {
		json_object_object_add(rec, "Result",
		    json_object_new_string("error"));
		json_object_object_add(rec, "Code",
		    json_object_new_string(code));
		if (detail != NULL && *detail != '\0')
			json_object_object_add(rec, "Detail",
			    json_object_new_string(detail));
	}
	r = audit_write(a, rec, 1);
	json_object_put(rec);
	return (r);
}

void
audit_counts(uint64_t *written, uint64_t *failed)
{
	*written = atomic_load(&audit_nwritten);
	*failed = atomic_load(&audit_nfailed);
}

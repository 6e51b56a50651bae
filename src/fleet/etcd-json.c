/* SPDX-License-Identifier: ISC */
/*
 * etcd-json.c: the gateway's JSON.  Bytes (keys, values) are standard
 * base64; int64 and uint64 fields are decimal strings; a field at its
 * default (0, false, empty) is left out; an error is a non-200 answer
 * {"error": ..., "code": GRPC-CODE, "message": ...}.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/xmalloc.h"
#include "fleet/etcd-int.h"

/* gRPC status codes (google.golang.org/grpc/codes). */
#define GRPC_NOT_FOUND		5
#define GRPC_ALREADY_EXISTS	6
#define GRPC_PERMISSION_DENIED	7
#define GRPC_RESOURCE_EXHAUSTED	8
#define GRPC_FAILED_PRECONDITION 9
#define GRPC_ABORTED		10
#define GRPC_OUT_OF_RANGE	11
#define GRPC_UNAVAILABLE	14
#define GRPC_DEADLINE_EXCEEDED	4
#define GRPC_INTERNAL		13
#define GRPC_UNAUTHENTICATED	16

void
etcd_seterr(struct etcd_error *err, enum etcd_errkind kind, const char *fmt,
    ...)
{
	va_list	ap;

	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void
etcd_json_bytes(json_object *o, const char *name, const void *p, size_t len)
{
	size_t	 n = sodium_base64_encoded_len(len,
		    sodium_base64_VARIANT_ORIGINAL);
	char	*b = xmalloc(n);

	sodium_bin2base64(b, n, p, len, sodium_base64_VARIANT_ORIGINAL);
	json_object_object_add(o, name, json_object_new_string(b));
	free(b);
}

/* int64 travels as a string, as the gateway writes it. */
void
etcd_json_int64(json_object *o, const char *name, int64_t v)
{
	char	b[24];

	snprintf(b, sizeof(b), "%lld", (long long)v);
	json_object_object_add(o, name, json_object_new_string(b));
}

/* An absent field is 0; a present one a decimal string (or a number). */
/*
 * An int64 field: a JSON number, or (the gateway's habit) a decimal
 * string; absent is 0.  0, or -1 when it is neither or out of range.
 * unsig: an unsigned field (no sign allowed).
 */
static int
etcd_json_get_num(json_object *o, const char *name, int unsig,
    int64_t *sp, uint64_t *up)
{
	json_object	*f;
	const char	*s;
	char		*end;

	*sp = 0;
	*up = 0;
	if (!json_object_object_get_ex(o, name, &f) || f == NULL)
		return (0);
	if (json_object_is_type(f, json_type_int)) {
		*sp = json_object_get_int64(f);
		*up = json_object_get_uint64(f);
		return (0);
	}
	if (!json_object_is_type(f, json_type_string))
		return (-1);
	s = json_object_get_string(f);
	errno = 0;
	if (unsig) {
		*up = strtoull(s, &end, 10);
		if (*s < '0' || *s > '9')
			return (-1);
	} else {
		*sp = strtoll(s, &end, 10);
		if (*s == '\0')
			return (-1);
	}
	return (*end != '\0' || errno != 0 ? -1 : 0);
}

int
etcd_json_get_int64(json_object *o, const char *name, int64_t *v)
{
	uint64_t	 u;
	int		 rc = etcd_json_get_num(o, name, 0, v, &u);

	if (rc != 0)
		*v = 0;
	return (rc);
}

int
etcd_json_get_uint64(json_object *o, const char *name, uint64_t *v)
{
	int64_t	 s;
	int	 rc = etcd_json_get_num(o, name, 1, &s, v);

	if (rc != 0)
		*v = 0;
	return (rc);
}

/* Base64 to bytes, NUL-terminated (an absent field: empty). */
int
etcd_json_get_bytes(json_object *o, const char *name, uint8_t **p,
    size_t *len)
{
	json_object	*f;
	const char	*s = "";
	size_t		 slen = 0, cap;

	*p = NULL;
	*len = 0;
	if (json_object_object_get_ex(o, name, &f) && f != NULL) {
		if (!json_object_is_type(f, json_type_string))
			return (-1);
		s = json_object_get_string(f);
		slen = (size_t)json_object_get_string_len(f);
	}
	cap = slen / 4 * 3 + 3;
	*p = xmalloc(cap + 1);
	if (sodium_base642bin(*p, cap, s, slen, NULL, len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(*p);
		*p = NULL;
		return (-1);
	}
	(*p)[*len] = '\0';
	return (0);
}

int
etcd_json_header(json_object *o, struct etcd_header *h)
{
	json_object	*hd;

	memset(h, 0, sizeof(*h));
	if (!json_object_object_get_ex(o, "header", &hd) ||
	    !json_object_is_type(hd, json_type_object))
		return (-1);
	if (etcd_json_get_uint64(hd, "cluster_id", &h->cluster_id) == -1 ||
	    etcd_json_get_uint64(hd, "member_id", &h->member_id) == -1 ||
	    etcd_json_get_int64(hd, "revision", &h->revision) == -1 ||
	    etcd_json_get_uint64(hd, "raft_term", &h->raft_term) == -1)
		return (-1);
	return (0);
}

int
etcd_json_kv(json_object *o, struct etcd_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	if (!json_object_is_type(o, json_type_object) ||
	    etcd_json_get_bytes(o, "key", &kv->key, &kv->keylen) == -1 ||
	    etcd_json_get_bytes(o, "value", &kv->value, &kv->valuelen) == -1 ||
	    etcd_json_get_int64(o, "create_revision",
	    &kv->create_revision) == -1 ||
	    etcd_json_get_int64(o, "mod_revision", &kv->mod_revision) == -1 ||
	    etcd_json_get_int64(o, "version", &kv->version) == -1 ||
	    etcd_json_get_int64(o, "lease", &kv->lease) == -1) {
		etcd_kv_clear(kv);
		return (-1);
	}
	return (0);
}

void
etcd_kv_clear(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

/* What a gRPC code (and its message) means to a caller. */
static enum etcd_errkind
etcd_grpc_kind(int code, int status, const char *msg)
{
	switch (code) {
	case GRPC_UNAVAILABLE:
	case GRPC_DEADLINE_EXCEEDED:
	case GRPC_RESOURCE_EXHAUSTED:
	case GRPC_INTERNAL:
		return (ETCD_E_UNAVAILABLE);
	case GRPC_OUT_OF_RANGE:
		if (strstr(msg, "compacted") != NULL)
			return (ETCD_E_COMPACTED);
		return (ETCD_E_INVALID);
	case GRPC_UNAUTHENTICATED:
	case GRPC_PERMISSION_DENIED:
		return (ETCD_E_AUTH);
	case GRPC_NOT_FOUND:
	case GRPC_ALREADY_EXISTS:
	case GRPC_FAILED_PRECONDITION:
	case GRPC_ABORTED:
		return (ETCD_E_CONFLICT);
	}
	/* InvalidArgument also says the token is missing or refused. */
	if (strstr(msg, "authentication failed") != NULL ||
	    strstr(msg, "user name is empty") != NULL ||
	    strstr(msg, "invalid auth token") != NULL)
		return (ETCD_E_AUTH);
	if (status >= 500 || status == 0)
		return (ETCD_E_UNAVAILABLE);
	return (ETCD_E_INVALID);
}

/*
 * A non-200 answer (or an in-stream error object): etcd's message and
 * gRPC code when the body has them, the body's start when not.
 */
void
etcd_error_from_json(struct etcd_error *err, const char *url,
    const char *path, int status, const char *body, size_t len)
{
	json_object		*o, *e = NULL, *f;
	enum json_tokener_error	 jerr;
	json_tokener		*tok;
	const char		*msg = NULL;
	int			 code = 0;

	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (o != NULL && jerr == json_tokener_success &&
	    json_object_is_type(o, json_type_object)) {
		/* A stream's error is {"error": {..}}, a unary one flat. */
		if (json_object_object_get_ex(o, "error", &e) &&
		    json_object_is_type(e, json_type_object)) {
			if (json_object_object_get_ex(e, "grpc_code", &f))
				code = json_object_get_int(f);
			if (json_object_object_get_ex(e, "message", &f))
				msg = json_object_get_string(f);
		} else {
			if (json_object_object_get_ex(o, "code", &f))
				code = json_object_get_int(f);
			if (json_object_object_get_ex(o, "message", &f) ||
			    json_object_object_get_ex(o, "error", &f))
				msg = json_object_get_string(f);
		}
	}
	if (msg != NULL)
		etcd_seterr(err, etcd_grpc_kind(code, status, msg),
		    "%s: %s: %s%.0d%s%s (code %d)", url, path,
		    status != 0 ? "HTTP " : "", status, status != 0 ? ": " : "",
		    msg, code);
	else
		etcd_seterr(err, etcd_grpc_kind(0, status, ""),
		    "%s: %s: HTTP %d: %.*s", url, path, status,
		    (int)(len > 120 ? 120 : len), body);
	err->http_status = status;
	err->grpc_code = code;
	json_object_put(o);
}

int
etcd_error_invalid_token(const struct etcd_error *err)
{
	return (err->kind == ETCD_E_AUTH &&
	    (err->grpc_code == GRPC_UNAUTHENTICATED ||
	    strstr(err->msg, "user name is empty") != NULL));
}

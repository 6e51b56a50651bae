/* SPDX-License-Identifier: ISC */
/*
 * etcd-lease.c: leases (etcd's Lease service through the gateway).  A
 * key put with a lease is deleted when the lease ends: revoked, or not
 * kept alive for its TTL.  Keep-alive is a bidirectional stream in
 * gRPC; the gateway answers a body of one request with one message,
 * {"result": {..}}, and ends the stream, so it is a unary call here.
 */
#include <stdio.h>
#include <string.h>

#include "fleet/etcd-int.h"

static int
etcd_lease_parse(json_object *o, struct etcd_lease *l)
{
	memset(l, 0, sizeof(*l));
	if (etcd_json_header(o, &l->header) == -1 ||
	    etcd_json_get_int64(o, "ID", &l->id) == -1 ||
	    etcd_json_get_int64(o, "TTL", &l->ttl) == -1)
		return (-1);
	return (0);
}

static void
etcd_lease_done(struct etcd_call *call, const struct etcd_error *err,
    json_object *o)
{
	struct etcd_lease	 l;
	struct etcd_error	 e;
	json_object		*r = o;
	const char		*s;

	/* Keep-alive: one message of a stream, or the stream's error. */
	if (err == NULL && strcmp(call->path, "/v3/lease/keepalive") == 0 &&
	    !json_object_object_get_ex(o, "result", &r)) {
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		etcd_error_from_json(&e, etcd_client_endpoint(call->c),
		    call->path, 0, s, strlen(s));
		err = &e;
	}
	if (err == NULL && etcd_lease_parse(r, &l) == -1) {
		etcd_seterr(&e, ETCD_E_PROTOCOL, "%s: %s: malformed answer",
		    etcd_client_endpoint(call->c), call->path);
		err = &e;
	}
	((etcd_lease_cb *)call->cb)(err, err == NULL ? &l : NULL, call->arg);
}

int
etcd_lease_grant(struct etcd_client *c, int64_t ttl, etcd_lease_cb *cb,
    void *arg, struct etcd_error *err)
{
	json_object	*o;

	if (ttl <= 0) {
		etcd_seterr(err, ETCD_E_INVALID, "lease grant: TTL %lld",
		    (long long)ttl);
		return (-1);
	}
	o = json_object_new_object();
	etcd_json_int64(o, "TTL", ttl);
	/* Granted twice (an answer lost), the lease unused only expires. */
	return (etcd_call_start(c, "/v3/lease/grant", o, 0, etcd_lease_done,
	    (void *)cb, arg, err));
}

/* A call on one lease by its id. */
static int
etcd_lease_id_call(struct etcd_client *c, const char *path, int64_t id,
    etcd_lease_cb *cb, void *arg, struct etcd_error *err)
{
	json_object	*o;

	o = json_object_new_object();
	etcd_json_int64(o, "ID", id);
	return (etcd_call_start(c, path, o, 0, etcd_lease_done, (void *)cb,
	    arg, err));
}

int
etcd_lease_keepalive(struct etcd_client *c, int64_t id, etcd_lease_cb *cb,
    void *arg, struct etcd_error *err)
{
	return (etcd_lease_id_call(c, "/v3/lease/keepalive", id, cb, arg,
	    err));
}

int
etcd_lease_revoke(struct etcd_client *c, int64_t id, etcd_lease_cb *cb,
    void *arg, struct etcd_error *err)
{
	return (etcd_lease_id_call(c, "/v3/lease/revoke", id, cb, arg, err));
}

/* SPDX-License-Identifier: ISC */
/*
 * etcd-sync.c: the synchronous wrapper for tools.  A client on an
 * event_base of its own; each call runs that base until its callback
 * came or its deadline passed (every endpoint's timeout, and one more
 * for a token), and a call over its deadline is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/xmalloc.h"
#include "fleet/etcd-int.h"

struct etcd_sync {
	struct event_base	*base;
	struct etcd_client	*c;
};

/* One call's outcome, filled by its callback. */
struct etcd_sync_wait {
	int			 done;
	struct etcd_error	*err;
	struct etcd_range_res	*range;
	struct etcd_txn_res	*txn;
	struct etcd_status	*status;
	struct etcd_header	*header;
	struct etcd_lease	*lease;
};

struct etcd_sync *
etcd_sync_new(const struct etcd_config *conf, char *err, size_t errlen)
{
	struct etcd_sync	*s;

	s = xcalloc(1, sizeof(*s));
	if ((s->base = event_base_new()) == NULL) {
		snprintf(err, errlen, "cannot make an event base");
		free(s);
		return (NULL);
	}
	if ((s->c = etcd_client_new(s->base, conf, err, errlen)) == NULL) {
		event_base_free(s->base);
		free(s);
		return (NULL);
	}
	return (s);
}

void
etcd_sync_free(struct etcd_sync *s)
{
	if (s == NULL)
		return;
	etcd_client_free(s->c);
	event_base_free(s->base);
	free(s);
}

struct etcd_client *
etcd_sync_client(struct etcd_sync *s)
{
	return (s->c);
}

static void
etcd_sync_expire(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* Runs the base until w is done or the deadline; -1 and err if not. */
static int
etcd_sync_run(struct etcd_sync *s, struct etcd_sync_wait *w)
{
	struct etcd_client	*c = s->c;
	struct event		*t;
	struct timeval		 tv;

	tv.tv_sec = (time_t)c->timeout * (time_t)(c->nep + 1);
	tv.tv_usec = 0;
	t = evtimer_new(s->base, etcd_sync_expire, s->base);
	evtimer_add(t, &tv);
	while (!w->done && evtimer_pending(t, NULL))
		event_base_loop(s->base, EVLOOP_ONCE);
	event_free(t);
	if (!w->done) {
		/* Drop what is left of the call: it may not call back. */
		etcd_client_drop(s->c);
		etcd_seterr(w->err, ETCD_E_UNAVAILABLE, "no answer within "
		    "%lld s", (long long)tv.tv_sec);
		return (-1);
	}
	return (w->err->kind == ETCD_E_NONE ? 0 : -1);
}

static void
etcd_sync_note(struct etcd_sync_wait *w, const struct etcd_error *err)
{
	w->done = 1;
	if (err != NULL)
		*w->err = *err;
	else
		memset(w->err, 0, sizeof(*w->err));
}

static void
etcd_sync_range_cb(const struct etcd_error *err,
    const struct etcd_range_res *r, void *arg)
{
	struct etcd_sync_wait	*w = arg;
	struct etcd_range_res	*d;
	size_t			 i;

	etcd_sync_note(w, err);
	if (r == NULL)
		return;
	/* The result is the client's: a copy of its own for the caller. */
	d = xcalloc(1, sizeof(*d));
	*d = *r;
	d->kvs = xcalloc(r->nkvs ? r->nkvs : 1, sizeof(*d->kvs));
	for (i = 0; i < r->nkvs; i++) {
		d->kvs[i] = r->kvs[i];
		d->kvs[i].key = xmalloc(r->kvs[i].keylen + 1);
		memcpy(d->kvs[i].key, r->kvs[i].key, r->kvs[i].keylen + 1);
		d->kvs[i].value = xmalloc(r->kvs[i].valuelen + 1);
		memcpy(d->kvs[i].value, r->kvs[i].value,
		    r->kvs[i].valuelen + 1);
	}
	w->range = d;
}

int
etcd_sync_range(struct etcd_sync *s, const struct etcd_range_req *q,
    struct etcd_range_res **out, struct etcd_error *err)
{
	struct etcd_sync_wait	w = { .err = err };

	*out = NULL;
	if (etcd_range(s->c, q, etcd_sync_range_cb, &w, err) == -1)
		return (-1);
	if (etcd_sync_run(s, &w) == -1) {
		etcd_range_res_free(w.range);
		return (-1);
	}
	*out = w.range;
	return (0);
}

static void
etcd_sync_txn_cb(const struct etcd_error *err, const struct etcd_txn_res *r,
    void *arg)
{
	struct etcd_sync_wait	*w = arg;

	etcd_sync_note(w, err);
	if (r != NULL)
		*w->txn = *r;
}

int
etcd_sync_txn(struct etcd_sync *s, const struct etcd_txn_req *q,
    struct etcd_txn_res *out, struct etcd_error *err)
{
	struct etcd_sync_wait	w = { .err = err, .txn = out };

	memset(out, 0, sizeof(*out));
	if (etcd_txn(s->c, q, etcd_sync_txn_cb, &w, err) == -1)
		return (-1);
	return (etcd_sync_run(s, &w));
}

static void
etcd_sync_status_cb(const struct etcd_error *err,
    const struct etcd_status *st, void *arg)
{
	struct etcd_sync_wait	*w = arg;

	etcd_sync_note(w, err);
	if (st != NULL)
		*w->status = *st;
}

int
etcd_sync_status(struct etcd_sync *s, struct etcd_status *out,
    struct etcd_error *err)
{
	struct etcd_sync_wait	w = { .err = err, .status = out };

	memset(out, 0, sizeof(*out));
	if (etcd_status(s->c, etcd_sync_status_cb, &w, err) == -1)
		return (-1);
	return (etcd_sync_run(s, &w));
}

static void
etcd_sync_header_cb(const struct etcd_error *err,
    const struct etcd_header *h, void *arg)
{
	struct etcd_sync_wait	*w = arg;

	etcd_sync_note(w, err);
	if (h != NULL)
		*w->header = *h;
}

int
etcd_sync_compact(struct etcd_sync *s, int64_t revision,
    struct etcd_header *out, struct etcd_error *err)
{
	struct etcd_sync_wait	w = { .err = err, .header = out };

	memset(out, 0, sizeof(*out));
	if (etcd_compact(s->c, revision, 0, etcd_sync_header_cb, &w,
	    err) == -1)
		return (-1);
	return (etcd_sync_run(s, &w));
}

static void
etcd_sync_done_cb(const struct etcd_error *err, void *arg)
{
	etcd_sync_note(arg, err);
}

int
etcd_sync_authenticate(struct etcd_sync *s, struct etcd_error *err)
{
	struct etcd_sync_wait	w = { .err = err };

	if (etcd_authenticate(s->c, etcd_sync_done_cb, &w, err) == -1)
		return (-1);
	return (etcd_sync_run(s, &w));
}

static void
etcd_sync_lease_cb(const struct etcd_error *err, const struct etcd_lease *l,
    void *arg)
{
	struct etcd_sync_wait	*w = arg;

	etcd_sync_note(w, err);
	if (l != NULL)
		*w->lease = *l;
}

int
etcd_sync_lease(struct etcd_sync *s, int64_t id, int64_t ttl,
    struct etcd_lease *out, struct etcd_error *err)
{
	struct etcd_sync_wait	w = { .err = err, .lease = out };
	int			rc;

	memset(out, 0, sizeof(*out));
	if (ttl > 0)
		rc = etcd_lease_grant(s->c, ttl, etcd_sync_lease_cb, &w, err);
	else if (ttl == 0)
		rc = etcd_lease_keepalive(s->c, id, etcd_sync_lease_cb, &w,
		    err);
	else
		rc = etcd_lease_revoke(s->c, id, etcd_sync_lease_cb, &w, err);
	if (rc == -1)
		return (-1);
	return (etcd_sync_run(s, &w));
}

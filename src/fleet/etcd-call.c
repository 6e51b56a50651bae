/* SPDX-License-Identifier: ISC */
/*
 * etcd-call.c: one unary call, its endpoint failover and its token.
 *
 * A call starts at the endpoint that answered last and moves to the
 * next while endpoints are unavailable, each tried once.  A read goes
 * on after any unavailability; a write (txn, compaction) only when the
 * request provably never left (no connection, no TLS session), since a
 * write that timed out may have been applied.
 *
 * With a user, a call first waits for a token (one authenticate for all
 * the calls that need it), and when etcd refuses the token it asks for
 * a new one and sends the call again, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "fleet/etcd-int.h"

#define ETCD_PATH_AUTH	"/v3/auth/authenticate"

static void	etcd_call_send(struct etcd_call *);
static void	etcd_call_fin(struct etcd_http *, void *);
static void	etcd_call_late(evutil_socket_t, short, void *);
static void	etcd_call_authed(void *, const struct etcd_error *);
static void	etcd_auth_done(struct etcd_call *, const struct etcd_error *,
		    json_object *);

int
etcd_call_start(struct etcd_client *c, const char *path, json_object *body,
    int write, etcd_call_done_cb *done, void *cb, void *arg,
    struct etcd_error *err)
{
	struct etcd_call	*call;

	call = xcalloc(1, sizeof(*call));
	call->c = c;
	snprintf(call->path, sizeof(call->path), "%s", path);
	call->body = xstrdup(json_object_to_json_string_ext(body,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	call->write = write;
	call->noauth = strcmp(path, ETCD_PATH_AUTH) == 0;
	call->done = done;
	call->cb = cb;
	call->arg = arg;
	call->aw.fn = etcd_call_authed;
	call->aw.arg = call;
	/* As xmalloc: the daemon and its tools die out of memory. */
	if ((call->ev = event_new(c->base, -1, 0, etcd_call_late,
	    call)) == NULL)
		fatalx("etcd: event_new: out of memory");
	TAILQ_INSERT_TAIL(&c->calls, call, entry);
	if (!call->noauth && c->user != NULL && c->token == NULL)
		etcd_auth_need(c, &call->aw);
	else
		etcd_call_send(call);
	/* After the authenticate etcd_auth_need may have started. */
	c->last_call = call;
	return (0);
}

void
etcd_call_free(struct etcd_call *call)
{
	struct etcd_client	*c = call->c;

	if (c->auth == call)
		c->auth = NULL;
	etcd_auth_cancel(c, &call->aw);
	TAILQ_REMOVE(&c->calls, call, entry);
	etcd_http_free(call->h);
	event_free(call->ev);
	if (call->state != NULL)
		call->state_free(call->state);
	free(call->body);
	free(call);
}

/* Ends the call: the kind's done, then the call is gone. */
static void
etcd_call_end(struct etcd_call *call, const struct etcd_error *err,
    json_object *o)
{
	struct etcd_error	e;

	if (err != NULL && err->kind == ETCD_E_UNAVAILABLE &&
	    call->c->nep > 1 && call->tried == call->c->nep) {
		e = *err;
		snprintf(e.msg, sizeof(e.msg), "all %zu endpoints "
		    "unavailable; the last: %.400s", call->c->nep, err->msg);
		err = &e;
	}
	call->done(call, err, o);
	etcd_call_free(call);
}

/* The next endpoint, or the last error reported (never from start). */
static void
etcd_call_send(struct etcd_call *call)
{
	struct etcd_client	*c = call->c;
	size_t			 ep;

	while (call->tried < c->nep) {
		ep = (c->cur + call->tried) % c->nep;
		call->tried++;
		call->h = etcd_http_start(c, ep, call->path, call->body, 0,
		    NULL, etcd_call_fin, call, &call->err);
		if (call->h != NULL)
			return;
	}
	event_active(call->ev, 0, 0);
}

static void
etcd_call_late(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_call	*call = arg;

	etcd_call_end(call, &call->err, NULL);
}

static void
etcd_call_fin(struct etcd_http *h, void *arg)
{
	struct etcd_call	*call = arg;
	struct etcd_client	*c = call->c;
	json_object		*o;
	json_tokener		*tok;
	int			 unsent, len, ep = h->ep;

	unsent = etcd_http_unsent(h);
	if (etcd_http_result(h, &call->err) == -1) {
		etcd_http_free(h);
		call->h = NULL;
		if (call->err.kind == ETCD_E_UNAVAILABLE &&
		    (!call->write || unsent) && call->tried < c->nep) {
			etcd_call_send(call);
			return;
		}
		if (!call->noauth && c->user != NULL && !call->reauthed &&
		    etcd_error_invalid_token(&call->err)) {
			call->reauthed = 1;
			call->tried = 0;
			etcd_auth_invalidate(c, c->token);
			etcd_auth_need(c, &call->aw);
			return;
		}
		etcd_call_end(call, &call->err, NULL);
		return;
	}
	c->cur = ep;
	len = (int)evbuffer_get_length(h->body);
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok,
	    (const char *)evbuffer_pullup(h->body, -1), len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		etcd_seterr(&call->err, ETCD_E_PROTOCOL, "%s: %s: answer is "
		    "not a JSON object: %s", c->ep[ep].url, call->path,
		    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	etcd_http_free(h);
	call->h = NULL;
	etcd_call_end(call, o == NULL ? &call->err : NULL, o);
	json_object_put(o);
}

static void
etcd_call_authed(void *arg, const struct etcd_error *err)
{
	struct etcd_call	*call = arg;

	if (err != NULL) {
		call->err = *err;
		etcd_call_end(call, &call->err, NULL);
		return;
	}
	etcd_call_send(call);
}

/* Waits for a token: an authenticate starts when none is in flight. */
void
etcd_auth_need(struct etcd_client *c, struct etcd_authwait *aw)
{
	struct etcd_error	 err;
	json_object		*o;

	if (c->auth != NULL) {
		aw->round = c->auth_round;
		TAILQ_INSERT_TAIL(&c->authq, aw, entry);
		return;
	}
	aw->round = ++c->auth_round;
	TAILQ_INSERT_TAIL(&c->authq, aw, entry);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(c->user));
	json_object_object_add(o, "password",
	    json_object_new_string(c->password));
	if (etcd_call_start(c, ETCD_PATH_AUTH, o, 0, etcd_auth_done, NULL,
	    NULL, &err) == 0)
		c->auth = c->last_call;
	else {
		TAILQ_REMOVE(&c->authq, aw, entry);
		aw->fn(aw->arg, &err);
	}
}

void
etcd_auth_cancel(struct etcd_client *c, struct etcd_authwait *aw)
{
	struct etcd_authwait	*w;

	TAILQ_FOREACH(w, &c->authq, entry) {
		if (w == aw) {
			TAILQ_REMOVE(&c->authq, aw, entry);
			return;
		}
	}
}

/* Drops the token etcd refused (unless a newer one replaced it). */
void
etcd_auth_invalidate(struct etcd_client *c, const char *token)
{
	if (c->token != NULL && token == c->token) {
		free(c->token);
		c->token = NULL;
	}
}

static void
etcd_auth_done(struct etcd_call *call, const struct etcd_error *err,
    json_object *o)
{
	struct etcd_client	*c = call->c;
	struct etcd_authwait	*w;
	struct etcd_error	 e;
	json_object		*t;
	unsigned		 round = c->auth_round;

	if (c->auth == call)
		c->auth = NULL;
	if (err == NULL && (!json_object_object_get_ex(o, "token", &t) ||
	    !json_object_is_type(t, json_type_string))) {
		etcd_seterr(&e, ETCD_E_PROTOCOL, "%s: %s: no token in the "
		    "answer", c->ep[c->cur].url, ETCD_PATH_AUTH);
		err = &e;
	} else if (err != NULL)
		e = *err;
	if (err == NULL) {
		free(c->token);
		c->token = xstrdup(json_object_get_string(t));
	}
	if (call->cb != NULL)
		((etcd_done_cb *)call->cb)(err, call->arg);
	/*
	 * The waiters of this round (or before), one at a time from the
	 * queue itself: a waiter's callback may cancel another waiter, or
	 * queue a new one for the next round.
	 */
	for (;;) {
		TAILQ_FOREACH(w, &c->authq, entry) {
			if (w->round <= round)
				break;
		}
		if (w == NULL)
			break;
		TAILQ_REMOVE(&c->authq, w, entry);
		w->fn(w->arg, err != NULL ? &e : NULL);
	}
}

int
etcd_authenticate(struct etcd_client *c, etcd_done_cb *cb, void *arg,
    struct etcd_error *err)
{
	json_object	*o;

	if (c->user == NULL) {
		etcd_seterr(err, ETCD_E_INVALID, "no user configured");
		return (-1);
	}
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(c->user));
	json_object_object_add(o, "password",
	    json_object_new_string(c->password));
	if (etcd_call_start(c, ETCD_PATH_AUTH, o, 0, etcd_auth_done,
	    (void *)cb, arg, err) == -1)
		return (-1);
	if (c->auth == NULL) {
		c->auth = c->last_call;
		c->auth_round++;
	}
	return (0);
}

/* SPDX-License-Identifier: ISC */
/*
 * etcd-watch.c: a watch over /v3/watch.  The gateway answers one long
 * HTTP response, a stream of JSON objects {"result": {...}} (or
 * {"error": {...}}), which json_tokener reads as they come, across
 * chunk boundaries, one message of at most watch_msg_max bytes at a
 * time.
 *
 * A stream that breaks (a member killed, a timeout, a 5xx) is opened
 * again on the next endpoint after a jittered exponential backoff and
 * resumes at the last revision delivered + 1, so the caller sees every
 * revision once and in order.  A watch from "now" takes the revision of
 * its first answer as its start, so that a reconnection loses nothing
 * either.  progress_notify asks etcd for an empty answer now and then
 * (ten minutes by default), which moves the resume point and keeps an
 * idle stream under the idle timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <sodium.h>

#include "common/xmalloc.h"
#include "fleet/etcd-int.h"

struct etcd_watch {
	struct etcd_client	*c;
	uint8_t			*key;
	size_t			 keylen;
	uint8_t			*end;		/* NULL: one key */
	size_t			 endlen;
	int			 prev_kv;
	int64_t			 next;		/* the revision to resume at */
	struct etcd_watch_cbs	 cbs;
	void			*arg;
	struct etcd_http	*h;
	json_tokener		*tok;
	size_t			 pending;	/* bytes of the message so far */
	struct event		*retry;
	unsigned		 backoff;	/* ms */
	size_t			 ep;
	int			 reauthed;
	int			 in_cb;
	int			 dead;
	struct etcd_authwait	 aw;
	TAILQ_ENTRY(etcd_watch)	 entry;
};

static void	etcd_watch_connect(struct etcd_watch *);
static int	etcd_watch_data(struct etcd_http *, void *);
static void	etcd_watch_fin(struct etcd_http *, void *);

static void
etcd_watch_free(struct etcd_watch *w)
{
	TAILQ_REMOVE(&w->c->watches, w, entry);
	etcd_auth_cancel(w->c, &w->aw);
	etcd_http_free(w->h);
	if (w->tok != NULL)
		json_tokener_free(w->tok);
	if (w->retry != NULL)
		event_free(w->retry);
	free(w->key);
	free(w->end);
	free(w);
}

void
etcd_watch_free_all(struct etcd_client *c)
{
	struct etcd_watch	*w;

	while ((w = TAILQ_FIRST(&c->watches)) != NULL)
		etcd_watch_free(w);
}

void
etcd_watch_cancel(struct etcd_watch *w)
{
	if (w == NULL)
		return;
	if (w->in_cb) {
		w->dead = 1;	/* freed when the callback returns */
		return;
	}
	etcd_watch_free(w);
}

int64_t
etcd_watch_revision(const struct etcd_watch *w)
{
	return (w->next > 0 ? w->next - 1 : 0);
}

/* Ends the watch with its end callback; -1: w is gone. */
static int
etcd_watch_end(struct etcd_watch *w, const struct etcd_error *err,
    int64_t compact)
{
	if (!w->dead) {
		w->in_cb = 1;
		w->cbs.end(err, compact, w->arg);
		w->in_cb = 0;
	}
	etcd_watch_free(w);
	return (-1);
}

/* A stream broke: next endpoint, after a jittered, growing pause. */
static void
etcd_watch_again(struct etcd_watch *w, const struct etcd_error *err)
{
	struct timeval	tv;
	unsigned	ms;

	etcd_http_free(w->h);
	w->h = NULL;
	if (w->cbs.trouble != NULL) {
		w->in_cb = 1;
		w->cbs.trouble(err, w->arg);
		w->in_cb = 0;
		if (w->dead) {
			etcd_watch_free(w);
			return;
		}
	}
	w->ep = (w->ep + 1) % w->c->nep;
	w->backoff = w->backoff == 0 ? ETCD_BACKOFF_MIN_MS :
	    w->backoff * 2 > ETCD_BACKOFF_MAX_MS ? ETCD_BACKOFF_MAX_MS :
	    w->backoff * 2;
	ms = w->backoff / 2 + randombytes_uniform(w->backoff / 2 + 1);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(w->retry, &tv);
}

static void
etcd_watch_retry(evutil_socket_t fd, short what, void *arg)
{
	etcd_watch_connect(arg);
}

static void
etcd_watch_authed(void *arg, const struct etcd_error *err)
{
	struct etcd_watch	*w = arg;

	if (err == NULL) {
		etcd_watch_connect(w);
		return;
	}
	if (err->kind == ETCD_E_UNAVAILABLE)
		etcd_watch_again(w, err);
	else
		etcd_watch_end(w, err, 0);
}

static void
etcd_watch_connect(struct etcd_watch *w)
{
	struct etcd_client	*c = w->c;
	struct etcd_error	 err;
	json_object		*o, *cr;

	if (c->user != NULL && c->token == NULL) {
		etcd_auth_need(c, &w->aw);
		return;
	}
	cr = json_object_new_object();
	etcd_json_bytes(cr, "key", w->key, w->keylen);
	if (w->end != NULL)
		etcd_json_bytes(cr, "range_end", w->end, w->endlen);
	if (w->next > 0)
		etcd_json_int64(cr, "start_revision", w->next);
	if (w->prev_kv)
		json_object_object_add(cr, "prev_kv",
		    json_object_new_boolean(1));
	json_object_object_add(cr, "progress_notify",
	    json_object_new_boolean(1));
	o = json_object_new_object();
	json_object_object_add(o, "create_request", cr);
	json_tokener_reset(w->tok);
	w->pending = 0;
	w->h = etcd_http_start(c, w->ep, "/v3/watch",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), 1,
	    etcd_watch_data, etcd_watch_fin, w, &err);
	json_object_put(o);
	if (w->h == NULL)
		etcd_watch_again(w, &err);
}

struct etcd_watch *
etcd_watch_start(struct etcd_client *c, const struct etcd_watch_req *q,
    const struct etcd_watch_cbs *cbs, void *arg, struct etcd_error *err)
{
	struct etcd_watch	*w;
	struct timeval		 now = { 0, 0 };

	if (q->key == NULL || q->keylen == 0 || q->start_revision < 0 ||
	    cbs->events == NULL || cbs->end == NULL) {
		etcd_seterr(err, ETCD_E_INVALID, "watch: needs a key, a "
		    "revision >= 0, and events and end callbacks");
		return (NULL);
	}
	w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->key = xmalloc(q->keylen);
	memcpy(w->key, q->key, q->keylen);
	w->keylen = q->keylen;
	if (q->range_end != NULL) {
		w->end = xmalloc(q->range_end_len ? q->range_end_len : 1);
		memcpy(w->end, q->range_end, q->range_end_len);
		w->endlen = q->range_end_len;
	}
	w->prev_kv = q->prev_kv;
	w->next = q->start_revision;
	w->cbs = *cbs;
	w->arg = arg;
	w->ep = c->cur;
	w->aw.fn = etcd_watch_authed;
	w->aw.arg = w;
	TAILQ_INSERT_TAIL(&c->watches, w, entry);
	if ((w->tok = json_tokener_new()) == NULL ||
	    (w->retry = evtimer_new(c->base, etcd_watch_retry, w)) == NULL) {
		etcd_seterr(err, ETCD_E_UNAVAILABLE, "out of memory");
		etcd_watch_free(w);
		return (NULL);
	}
	/* Connects from the loop: no callback from inside this call. */
	evtimer_add(w->retry, &now);
	return (w);
}

static void
etcd_events_clear(struct etcd_event *ev, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		etcd_kv_clear(&ev[i].kv);
		etcd_kv_clear(&ev[i].prev_kv);
	}
	free(ev);
}

/* A message's events, one callback per revision; -1: w is gone. */
static int
etcd_watch_events(struct etcd_watch *w, json_object *evs)
{
	struct etcd_event	*ev;
	json_object		*e, *f;
	size_t			 n, i, j, k;
	const char		*type;

	n = json_object_array_length(evs);
	ev = xcalloc(n ? n : 1, sizeof(*ev));
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(evs, i);
		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "kv", &f) ||
		    etcd_json_kv(f, &ev[i].kv) == -1 ||
		    (json_object_object_get_ex(e, "prev_kv", &f) &&
		    (ev[i].has_prev = 1, etcd_json_kv(f, &ev[i].prev_kv)) == -1))
			goto bad;
		type = json_object_object_get_ex(e, "type", &f) ?
		    json_object_get_string(f) : "PUT";
		if (strcmp(type, "PUT") == 0)
			ev[i].type = ETCD_EV_PUT;
		else if (strcmp(type, "DELETE") == 0)
			ev[i].type = ETCD_EV_DELETE;
		else
			goto bad;
		if (i > 0 && ev[i].kv.mod_revision < ev[i - 1].kv.mod_revision)
			goto bad;
	}
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && ev[j].kv.mod_revision ==
		    ev[i].kv.mod_revision; j++)
			;
		/* Never a revision twice (after a reconnection). */
		if (ev[i].kv.mod_revision < w->next)
			continue;
		w->next = ev[i].kv.mod_revision + 1;
		w->in_cb = 1;
		w->cbs.events(ev[i].kv.mod_revision, ev + i, j - i, w->arg);
		w->in_cb = 0;
		if (w->dead) {
			etcd_events_clear(ev, n);
			etcd_watch_free(w);
			return (-1);
		}
	}
	etcd_events_clear(ev, n);
	return (0);
bad:
	for (k = 0; k <= i && k < n; k++) {
		etcd_kv_clear(&ev[k].kv);
		etcd_kv_clear(&ev[k].prev_kv);
	}
	free(ev);
	return (-2);
}

/*
 * etcd refused the token: once, drop the stream and the token, and
 * connect again with a new one; 0 when that is under way.
 */
static int
etcd_watch_reauth(struct etcd_watch *w, const struct etcd_error *err)
{
	if (w->reauthed || w->c->user == NULL ||
	    !etcd_error_invalid_token(err))
		return (-1);
	w->reauthed = 1;
	etcd_http_free(w->h);
	w->h = NULL;
	etcd_auth_invalidate(w->c, w->c->token);
	etcd_auth_need(w->c, &w->aw);
	return (0);
}

/* One message of the stream; -1: w is gone. */
static int
etcd_watch_message(struct etcd_watch *w, json_object *o)
{
	const char		*url = w->c->ep[w->ep].url;
	struct etcd_header	 hd;
	struct etcd_error	 err;
	json_object		*r, *f;
	int64_t			 compact = 0;
	const char		*why;
	int			 rc;

	if (json_object_object_get_ex(o, "error", &f)) {
		why = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		etcd_error_from_json(&err, url, "/v3/watch", 0, why,
		    strlen(why));
		if (etcd_watch_reauth(w, &err) == 0)
			return (-1);
		if (err.kind == ETCD_E_UNAVAILABLE) {
			etcd_watch_again(w, &err);
			return (-1);
		}
		return (etcd_watch_end(w, &err, 0));
	}
	if (!json_object_object_get_ex(o, "result", &r) ||
	    !json_object_is_type(r, json_type_object) ||
	    etcd_json_header(r, &hd) == -1 ||
	    etcd_json_get_int64(r, "compact_revision", &compact) == -1)
		goto bad;
	if (json_object_object_get_ex(r, "canceled", &f) &&
	    json_object_get_boolean(f)) {
		if (compact > 0) {
			etcd_seterr(&err, ETCD_E_COMPACTED, "%s: /v3/watch: "
			    "revision %lld is compacted (compact revision "
			    "%lld)", url, (long long)w->next,
			    (long long)compact);
			return (etcd_watch_end(w, &err, compact));
		}
		why = json_object_object_get_ex(r, "cancel_reason", &f) ?
		    json_object_get_string(f) : "no reason given";
		/* A refused token cancels the watch as it is created. */
		etcd_seterr(&err, strstr(why, "permission denied") != NULL ||
		    strstr(why, "auth token") != NULL ||
		    strstr(why, "user name is empty") != NULL ?
		    ETCD_E_AUTH : ETCD_E_CANCELED, "%s: /v3/watch: canceled "
		    "by etcd: %s", url, why);
		if (strstr(why, "invalid auth token") != NULL)
			err.grpc_code = 16;
		if (etcd_watch_reauth(w, &err) == 0)
			return (-1);
		return (etcd_watch_end(w, &err, 0));
	}
	if (json_object_object_get_ex(r, "created", &f) &&
	    json_object_get_boolean(f)) {
		/* A working stream: the pause starts over. */
		w->backoff = 0;
		w->reauthed = 0;
		etcd_http_stream_started(w->h);
		if (w->next == 0)
			w->next = hd.revision + 1;
		return (0);
	}
	if (json_object_object_get_ex(r, "events", &f)) {
		if (!json_object_is_type(f, json_type_array) ||
		    (rc = etcd_watch_events(w, f)) == -2)
			goto bad;
		return (rc);
	}
	/* Neither events nor a state: a progress notification. */
	if (hd.revision >= w->next) {
		w->next = hd.revision + 1;
		if (w->cbs.progress != NULL) {
			w->in_cb = 1;
			w->cbs.progress(hd.revision, w->arg);
			w->in_cb = 0;
			if (w->dead) {
				etcd_watch_free(w);
				return (-1);
			}
		}
	}
	return (0);
bad:
	etcd_seterr(&err, ETCD_E_PROTOCOL, "%s: /v3/watch: malformed "
	    "message", url);
	return (etcd_watch_end(w, &err, 0));
}

/* Bytes of the stream: every complete message, in order. */
static int
etcd_watch_data(struct etcd_http *h, void *arg)
{
	struct etcd_watch	*w = arg;
	struct etcd_error	 err;
	enum json_tokener_error	 jerr;
	json_object		*o;
	const char		*p;
	size_t			 len, used;
	int			 rc;

	while ((len = evbuffer_get_length(h->body)) > 0) {
		p = (const char *)evbuffer_pullup(h->body, -1);
		o = json_tokener_parse_ex(w->tok, p, (int)len);
		jerr = json_tokener_get_error(w->tok);
		if (jerr == json_tokener_continue) {
			w->pending += len;
			evbuffer_drain(h->body, len);
			if (w->pending > w->c->watch_msg_max) {
				etcd_seterr(&err, ETCD_E_PROTOCOL, "%s: "
				    "/v3/watch: a message longer than %zu "
				    "bytes", w->c->ep[w->ep].url,
				    w->c->watch_msg_max);
				return (etcd_watch_end(w, &err, 0));
			}
			continue;
		}
		if (jerr != json_tokener_success ||
		    !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			etcd_seterr(&err, ETCD_E_PROTOCOL, "%s: /v3/watch: "
			    "not a JSON object: %s", w->c->ep[w->ep].url,
			    json_tokener_error_desc(jerr));
			return (etcd_watch_end(w, &err, 0));
		}
		used = json_tokener_get_parse_end(w->tok);
		evbuffer_drain(h->body, used);
		w->pending = 0;
		rc = etcd_watch_message(w, o);
		json_object_put(o);
		if (rc == -1)
			return (-1);
	}
	return (0);
}

static void
etcd_watch_fin(struct etcd_http *h, void *arg)
{
	struct etcd_watch	*w = arg;
	struct etcd_error	 err;

	if (etcd_http_result(h, &err) == 0)
		etcd_seterr(&err, ETCD_E_UNAVAILABLE, "%s: /v3/watch: the "
		    "stream ended", w->c->ep[w->ep].url);
	if (etcd_watch_reauth(w, &err) == 0)
		return;
	if (err.kind == ETCD_E_UNAVAILABLE)
		etcd_watch_again(w, &err);
	else
		etcd_watch_end(w, &err, 0);
}

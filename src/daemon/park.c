/* SPDX-License-Identifier: ISC */
/*
 * park.c: checks that asked for a minimum generation the served world
 * has not reached (docs/protocol.md, "CHECK extension"), held until a
 * world of that generation or later is published, or until their wait
 * (min_generation_wait_ms) ends with ERROR STALE.
 *
 * A parked request keeps a copy of its frame.  Its connection goes on
 * being read and answered, but every later answer is held behind it
 * (struct park's after buffer), so that answers stay in request order;
 * the worker's other connections never wait.  The held answers count
 * against max_queued_replies and the output bound like any others:
 * beyond them the connection stops reading until the parked request
 * is answered.
 *
 * Waking: a publisher (the admin thread) calls park_notify() after the
 * holder's generation moved; it activates the event of each worker that
 * said it waits (park_waiting), a flag set before the worker reads the
 * generation again, with a full fence on both sides, so no publication
 * is missed.  One timer per worker, armed for the nearest deadline, ends
 * the waits.  Only the first parked request of a connection is ever
 * answered: the ones behind it follow it, in order.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "engine/world.h"
#include "proto/proto.h"

/* Output bytes held behind parked requests before reading stops. */
#define PARK_HELD_MAX		(4u * 1024 * 1024)

enum park_how {
	PARK_DECIDE,		/* the generation was reached */
	PARK_STALE,		/* its wait ended */
	PARK_SHUTDOWN		/* the daemon is stopping */
};

static int64_t	park_now_ms(void);
static void	park_wake_cb(evutil_socket_t, short, void *);
static void	park_run(struct worker *);
static void	park_arm(struct worker *, int64_t);
static void	park_rearm(struct worker *);
static int	park_answer(struct conn *, enum park_how);
static void	park_release(struct conn *, struct park *);
static int	park_refuse(struct conn *, const struct proto_hdr *,
		    uint64_t, const char *);

/* A precise clock: deadlines are compared with what the timer waited. */
static int64_t
park_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
park_init(struct worker *w)
{
	TAILQ_INIT(&w->parked);
	w->park_wake = event_new(w->base, -1, 0, park_wake_cb, w);
	w->park_timer = evtimer_new(w->base, park_wake_cb, w);
	if (w->park_wake == NULL || w->park_timer == NULL) {
		log_warnx("worker %u: park events: out of memory", w->id);
		return (-1);
	}
	return (0);
}

void
park_free(struct worker *w)
{
	if (w->park_wake != NULL)
		event_free(w->park_wake);
	if (w->park_timer != NULL)
		event_free(w->park_timer);
	w->park_wake = w->park_timer = NULL;
}

/* Any thread, after the holder's generation moved. */
void
park_notify(struct server *srv)
{
	struct worker	*w;
	unsigned	 i;

	/* Pairs with the fence in park_request: the flag, or the world. */
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		if (w->park_wake != NULL &&
		    atomic_load_explicit(&w->park_waiting,
		    memory_order_relaxed))
			event_active(w->park_wake, EV_READ, 0);
	}
}

int
park_held_full(struct conn *c)
{
	struct server	*srv = c->worker->srv;

	return (c->held >= atomic_load(&srv->max_queued_replies) ||
	    c->held_bytes > PARK_HELD_MAX);
}

/* STALE at once: no wait configured, or a bound on waiting is full. */
static int
park_refuse(struct conn *c, const struct proto_hdr *hdr, uint64_t min_gen,
    const char *why)
{
	struct server	*srv = c->worker->srv;
	char		 msg[KMSAUTHZ_MAX_ERROR_MESSAGE];

	atomic_fetch_add(&srv->stats.parked_refused, 1);
	snprintf(msg, sizeof(msg), "generation %" PRIu64 " not reached "
	    "(serving %" PRIu64 "): %s", min_gen, c->worker->generation, why);
	return (conn_error(c, hdr->id, KMSAUTHZ_WERR_STALE, 0, msg));
}

/*
 * Hold a request whose minimum generation min_gen is above the world
 * served.  0, or -1 when the connection is closing.
 */
int
park_request(struct conn *c, const struct proto_hdr *hdr,
    const uint8_t *body, uint64_t min_gen)
{
	struct worker	*w = c->worker;
	struct server	*srv = w->srv;
	struct park	*p;
	unsigned	 wait_ms, max;

	wait_ms = atomic_load(&srv->min_generation_wait_ms);
	if (wait_ms == 0)
		return (park_refuse(c, hdr, min_gen,
		    "min_generation_wait_ms is 0"));
	if (c->nparks >= atomic_load(&srv->max_parked_checks_per_connection))
		return (park_refuse(c, hdr, min_gen,
		    "max_parked_checks_per_connection waiting"));
	max = atomic_load(&srv->max_parked_checks);
	if (atomic_fetch_add(&srv->nparked, 1) >= max) {
		atomic_fetch_sub(&srv->nparked, 1);
		return (park_refuse(c, hdr, min_gen,
		    "max_parked_checks waiting"));
	}
	p = xcalloc(1, sizeof(*p) + hdr->len);
	if ((p->after = evbuffer_new()) == NULL) {
		free(p);
		atomic_fetch_sub(&srv->nparked, 1);
		return (conn_error(c, hdr->id, KMSAUTHZ_WERR_INTERNAL, 1,
		    "out of memory"));
	}
	p->type = hdr->type;
	p->id = hdr->id;
	p->min_gen = min_gen;
	p->deadline = park_now_ms() + wait_ms;
	p->len = hdr->len;
	memcpy(p->body, body, hdr->len);
	if (TAILQ_EMPTY(&c->parks))
		TAILQ_INSERT_TAIL(&w->parked, c, park_entry);
	TAILQ_INSERT_TAIL(&c->parks, p, entry);
	c->nparks++;
	w->nparked++;
	atomic_fetch_add(&srv->stats.parked, 1);
	log_debug("uid %u pid %d: request %u parked until generation %"
	    PRIu64 " (serving %" PRIu64 ")", (unsigned)c->uid, (int)c->pid,
	    hdr->id, min_gen, w->generation);

	/* Say we wait, then look again: a publication in between is seen. */
	atomic_store_explicit(&w->park_waiting, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (world_holder_generation(srv->holder) >= min_gen)
		event_active(w->park_wake, EV_READ, 0);
	if (w->park_timer_at == 0 || p->deadline < w->park_timer_at)
		park_arm(w, p->deadline);
	return (0);
}

static void
park_arm(struct worker *w, int64_t at)
{
	struct timeval	tv;
	int64_t		left;

	left = at - park_now_ms();
	if (left < 1)
		left = 1;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	if (evtimer_add(w->park_timer, &tv) == -1) {
		/* The next park or publication arms it again. */
		log_warnx("worker %u: park timer: event_add failed", w->id);
		w->park_timer_at = 0;
		return;
	}
	w->park_timer_at = at;
}

/* The timer for the nearest deadline of a connection's first request. */
static void
park_rearm(struct worker *w)
{
	struct conn	*c;
	int64_t		 at = 0;

	TAILQ_FOREACH(c, &w->parked, park_entry) {
		if (at == 0 || TAILQ_FIRST(&c->parks)->deadline < at)
			at = TAILQ_FIRST(&c->parks)->deadline;
	}
	if (at == 0) {
		evtimer_del(w->park_timer);
		w->park_timer_at = 0;
		atomic_store_explicit(&w->park_waiting, 0,
		    memory_order_relaxed);
		return;
	}
	park_arm(w, at);
}

static void
park_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	park_run(arg);
}

/*
 * Answer, connection by connection, the first parked requests whose
 * generation was reached or whose wait is over, then write them.
 */
static void
park_run(struct worker *w)
{
	struct conn	*c, *next;
	struct park	*p;
	int64_t		 now = park_now_ms();
	uint64_t	 gen;
	int		 moved;

	(void)worker_world(w);
	gen = w->generation;
	for (c = TAILQ_FIRST(&w->parked); c != NULL; c = next) {
		next = TAILQ_NEXT(c, park_entry);
		moved = 0;
		while ((p = TAILQ_FIRST(&c->parks)) != NULL) {
			if (p->min_gen <= gen)
				moved |= park_answer(c, PARK_DECIDE) == 0;
			else if (p->deadline <= now)
				moved |= park_answer(c, PARK_STALE) == 0;
			else
				break;
		}
		/* c may be freed here, and park new requests. */
		if (moved)
			conn_unparked(c);
	}
	park_rearm(w);
}

/*
 * The first parked request of c answered (decided, or an ERROR) into
 * the output, then the answers held behind it.  0, or -1 when its answer
 * could not be encoded (the connection then closes after the flush).
 */
static int
park_answer(struct conn *c, enum park_how how)
{
	struct server		*srv = c->worker->srv;
	struct park		*p = TAILQ_FIRST(&c->parks);
	struct proto_check	 chk;
	char			 msg[KMSAUTHZ_MAX_ERROR_MESSAGE];
	int			 r;

	/* Everything before it is in the output already: its turn. */
	c->sink = c->out;
	switch (how) {
	case PARK_DECIDE:
		atomic_fetch_add(&srv->stats.parked_answered, 1);
		if (p->type == KMSAUTHZ_MSG_CHECK)
			r = proto_check_decode(p->body, p->len, &chk) == 0 ?
			    conn_answer_check(c, p->id, &chk, 0) : -1;
		else
			r = conn_answer_batch(c, p->id, p->body, p->len, 0);
		break;
	case PARK_STALE:
		atomic_fetch_add(&srv->stats.parked_timed_out, 1);
		snprintf(msg, sizeof(msg), "generation %" PRIu64 " not "
		    "reached within min_generation_wait_ms (serving %"
		    PRIu64 ")", p->min_gen, c->worker->generation);
		r = conn_error(c, p->id, KMSAUTHZ_WERR_STALE, 0, msg);
		break;
	default:
		r = conn_error(c, p->id, KMSAUTHZ_WERR_SHUTDOWN, 0,
		    "daemon stopping");
		break;
	}
	if (r == -1 && !c->close_after)
		(void)conn_error(c, p->id, KMSAUTHZ_WERR_INTERNAL, 1,
		    "cannot encode the answer");
	c->sink = NULL;
	if (evbuffer_add_buffer(c->out, p->after) == -1)
		log_warnx("cannot move held answers: out of memory");
	c->queued += p->nafter;
	park_release(c, p);
	return (r);
}

/* Forget p (answered, or its connection is gone). */
static void
park_release(struct conn *c, struct park *p)
{
	struct worker	*w = c->worker;

	TAILQ_REMOVE(&c->parks, p, entry);
	c->held -= p->nafter;
	c->held_bytes -= p->after_bytes;
	c->nparks--;
	w->nparked--;
	atomic_fetch_sub(&w->srv->nparked, 1);
	evbuffer_free(p->after);
	free(p);
	if (TAILQ_EMPTY(&c->parks)) {
		TAILQ_REMOVE(&w->parked, c, park_entry);
		c->held = 0;
		c->held_bytes = 0;
	}
}

void
park_conn_free(struct conn *c)
{
	struct park	*p;

	while ((p = TAILQ_FIRST(&c->parks)) != NULL)
		park_release(c, p);
}

void
park_conn_drain(struct conn *c)
{
	while (!TAILQ_EMPTY(&c->parks))
		(void)park_answer(c, PARK_SHUTDOWN);
}

/* SPDX-License-Identifier: ISC */
/*
 * server-conn.c: one client connection: framing, limits, dispatch.
 *
 * Input is read with one recv(2) per readable event into a linear
 * buffer (no FIONREAD ioctl, no chain of chunks: a frame is always
 * contiguous), which grows to at most one maximal frame.  The framer
 * (src/proto/framer.c, pure, run by the query fuzzer too) checks each
 * 16-byte header (magic, version, type allowed on this socket, body
 * length against the limit) before waiting for the body, and hands on
 * whole frames only.  A protocol error queues an
 * ERROR frame and closes after the flush (Redis CLOSE_AFTER_REPLY).
 *
 * Timers, all on the read event: idle_timeout without a byte closes a
 * connection; once a frame has begun it must be complete within
 * request_timeout, however slowly its bytes trickle in (slowloris).
 *
 * Writing: the answers to everything one read brought in are written
 * at once, before going back to the loop (one writev for a pipelined
 * burst, no extra loop round and no epoll_ctl for a round trip).  The
 * write event is added only while the socket does not take everything;
 * its timeout is slow_client_timeout.  When a client has
 * max_queued_replies answers (or CONN_OUTPUT_MAX bytes) waiting, reading
 * from it stops until it drains.  Nothing here blocks, so a slow client
 * never delays another.
 *
 * Invariants whenever the loop runs (outside conn_process and
 * conn_write_ev): output waiting <=> wev pending (c->writing); paused
 * => output waiting; and a connection always has rev or wev pending,
 * so its timers run and its close is seen.  Only conn_pause sets
 * paused, only conn_resume clears it, and conn_flush, the last step of
 * every read and write, owns the transitions: all written and paused
 * resumes reading and processes what is buffered.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "daemon/declog.h"
#include "daemon/metrics.h"
#include "engine/eval.h"
#include "engine/world.h"
#include "proto/framer.h"
#include "proto/proto.h"

/* Output bytes beyond which reading pauses (whatever the count). */
#define CONN_OUTPUT_MAX		(4u * 1024 * 1024)
/* Bytes of a bad frame quoted in the log (Redis PROTO_DUMP_LEN). */
#define CONN_DUMP_LEN		32

typedef void (*conn_enc_fn)(struct proto_wr *, const void *);

struct conn_batch {
	const struct eval_answer	*answers;
	uint16_t			 count;
};

/* An explained answer (a CHECK with KMSAUTHZ_CHECK_WHY). */
struct conn_why {
	const struct eval_answer	*answer;
	const struct eval_why		*why;
};

static int	conn_arm_read(struct conn *);
static void	conn_stop_read(struct conn *);
static void	conn_read_ev(evutil_socket_t, short, void *);
static void	conn_write_ev(evutil_socket_t, short, void *);
static void	conn_timeout(struct conn *);
static void	conn_process(struct conn *);
static int	conn_parse(struct conn *);
static int	conn_frame_cb(void *, const struct proto_hdr *,
		    const uint8_t *);
static void	conn_error_cb(void *, uint32_t, uint16_t, const char *,
		    const uint8_t *, size_t);
static int	conn_write_now(struct conn *);
static int	conn_flush(struct conn *);
static void	conn_pause(struct conn *);
static int	conn_resume(struct conn *);
static int	conn_arm_write(struct conn *);
static void	conn_stop_write(struct conn *);
static int	conn_frame(struct conn *, const struct proto_hdr *,
		    const uint8_t *);
static int	conn_send(struct conn *, uint16_t, uint32_t, conn_enc_fn,
		    const void *);
static void	conn_protocol_error(struct conn *, uint32_t, uint16_t,
		    const char *, const uint8_t *, size_t);
static void	conn_check(struct conn *, const struct world *,
		    const struct proto_check *, struct eval_answer *, uint32_t,
		    int, struct eval_why *);
static void	conn_status(struct conn *, uint32_t);
static void	conn_count(atomic_uint_fast64_t *);
static void	enc_error(struct proto_wr *, const void *);
static void	enc_empty(struct proto_wr *, const void *);
static void	enc_hello_reply(struct proto_wr *, const void *);
static void	enc_status(struct proto_wr *, const void *);
static void	enc_answer(struct proto_wr *, const void *);
static void	enc_answer_why(struct proto_wr *, const void *);
static int	conn_answer_fill(const struct eval_answer *,
		    struct proto_answer *);
static void	conn_match_fill(const struct eval_match *,
		    struct proto_match *);
static void	enc_batch(struct proto_wr *, const void *);
static void	enc_admin(struct proto_wr *, const void *);

static const char conn_software[] = "kmsauthzd " PACKAGE_VERSION;

/* Takes fd on success; on failure (NULL) the caller still owns it. */
struct conn *
conn_new(struct worker *w, enum server_kind kind, int fd, uid_t uid,
    gid_t gid, pid_t pid)
{
	struct conn	*c;
	int		 fr_ok;

	c = xcalloc(1, sizeof(*c));
	c->worker = w;
	c->kind = kind;
	c->fd = fd;
	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	c->active_ms = conn_now_ms();
	TAILQ_INIT(&c->parks);
	fr_ok = proto_framer_init(&c->fr, kind == SERVER_ADMIN) == 0;
	c->out = evbuffer_new();
	c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, conn_read_ev,
	    c);
	c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST,
	    conn_write_ev, c);
	if (!fr_ok || c->out == NULL || c->rev == NULL ||
	    c->wev == NULL || conn_arm_read(c) == -1) {
		log_warnx("cannot set up a connection: out of memory");
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->wev != NULL)
			event_free(c->wev);
		if (c->out != NULL)
			evbuffer_free(c->out);
		proto_framer_free(&c->fr);
		free(c);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&w->conns, c, entry);
	w->nconns++;
	log_debug("%s connection from uid %u gid %u pid %d (worker %d)",
	    kind == SERVER_ADMIN ? "admin" : "query", (unsigned)uid,
	    (unsigned)gid, (int)pid, (int)w->id);
	return (c);
}

void
conn_free(struct conn *c)
{
	struct worker	*w = c->worker;

	park_conn_free(c);
	TAILQ_REMOVE(&w->conns, c, entry);
	w->nconns--;
	event_free(c->rev);
	event_free(c->wev);
	evbuffer_free(c->out);
	proto_framer_free(&c->fr);
	close(c->fd);
	server_release(w->srv, c->kind, c->uid);
	free(c);
	worker_conn_gone(w);
}

void
conn_active(struct conn *c)
{
	c->active_ms = conn_now_ms();
}

uid_t
conn_uid(const struct conn *c)
{
	return (c->uid);
}

pid_t
conn_pid(const struct conn *c)
{
	return (c->pid);
}

/*
 * Shutdown: read no more, answer what is parked (SHUTDOWN), flush what
 * is queued, then close.
 */
void
conn_drain(struct conn *c)
{
	conn_stop_read(c);
	c->close_after = 1;
	if (!TAILQ_EMPTY(&c->parks)) {
		park_conn_drain(c);
		(void)conn_flush(c);
		return;
	}
	if (evbuffer_get_length(c->out) == 0)
		conn_free(c);
}

/* Milliseconds on a clock that never jumps (coarse: a vDSO read). */
int64_t
conn_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * (Re)start reading with the timer that applies now: idle_timeout, or,
 * while a frame is partly here, what is left of request_timeout if that
 * is sooner.  A persistent event restarts its timer at every read, so a
 * partial frame re-arms it with the time left each time.
 */
static int
conn_arm_read(struct conn *c)
{
	struct server	*srv = c->worker->srv;
	struct timeval	 tv;
	int64_t		 left;
	unsigned	 idle;
	int		 timed;

	idle = atomic_load(&srv->idle_timeout);
	tv.tv_sec = idle;
	tv.tv_usec = 0;
	timed = idle != 0;
	c->deadline = 0;
	if (timed && c->kind == SERVER_ADMIN) {
		/* Idle since the last call that succeeded, not the last byte. */
		left = c->active_ms + (int64_t)idle * 1000 - conn_now_ms();
		if (left < 0)
			left = 0;
		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	}
	if (c->fr.len != 0) {
		left = c->frame_start - conn_now_ms() +
		    (int64_t)atomic_load(&srv->request_timeout) * 1000;
		if (left < 0)
			left = 0;
		if (!timed || left < (int64_t)tv.tv_sec * 1000 +
		    tv.tv_usec / 1000) {
			tv.tv_sec = (time_t)(left / 1000);
			tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
			timed = 1;
		}
		c->deadline = 1;
	}
	if (event_add(c->rev, timed ? &tv : NULL) == -1)
		return (-1);
	c->reading = 1;
	return (0);
}

static void
conn_stop_read(struct conn *c)
{
	if (c->reading) {
		event_del(c->rev);
		c->reading = 0;
	}
}

static void
conn_read_ev(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	uint8_t		*space;
	size_t		 room;
	ssize_t		 n;

	if (what & EV_TIMEOUT) {
		conn_timeout(c);
		return;
	}
	space = proto_framer_space(&c->fr, &room);
	if (room == 0) {
		/* conn_process always leaves room; never spin on a full one. */
		log_warnx("uid %u pid %d: input buffer full", (unsigned)c->uid,
		    (int)c->pid);
		conn_free(c);
		return;
	}
	n = recv(fd, space, room, 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		if (n == -1)
			log_debug("uid %u pid %d: read: %s",
			    (unsigned)c->uid, (int)c->pid, strerror(errno));
		if (n == 0 && (evbuffer_get_length(c->out) != 0 ||
		    !TAILQ_EMPTY(&c->parks))) {
			/* Half-closed: still flush what it asked for. */
			conn_stop_read(c);
			c->close_after = 1;
			return;
		}
		conn_free(c);
		return;
	}
	if (c->fr.len == 0)
		c->frame_start = conn_now_ms();
	proto_framer_added(&c->fr, (size_t)n);
	conn_process(c);
}

static void
conn_timeout(struct conn *c)
{
	struct server	*srv = c->worker->srv;
	unsigned	 rt = atomic_load(&srv->request_timeout);

	if (c->fr.len == 0 && !TAILQ_EMPTY(&c->parks)) {
		/* Not idle: waiting for a generation, bounded by its wait. */
		if (conn_arm_read(c) == -1) {
			log_warnx("event_add failed");
			conn_free(c);
		}
		return;
	}
	if (c->fr.len != 0 &&
	    conn_now_ms() - c->frame_start >= (int64_t)rt * 1000) {
		atomic_fetch_add(&srv->stats.request_timeouts, 1);
		log_info("closing uid %u pid %d: a request took more than "
		    "%u seconds to arrive", (unsigned)c->uid, (int)c->pid,
		    rt);
	} else {
		atomic_fetch_add(&srv->stats.idle_timeouts, 1);
		log_debug("closing uid %u pid %d: idle", (unsigned)c->uid,
		    (int)c->pid);
	}
	conn_free(c);
}

/*
 * Write what is waiting, now.  0: all of it went; 1: some is left (the
 * socket is full); -1: the connection failed.
 */
static int
conn_write_now(struct conn *c)
{
	int	n;

	if (evbuffer_get_length(c->out) == 0)
		return (0);
	n = evbuffer_write(c->out, c->fd);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		log_debug("uid %u pid %d: write: %s", (unsigned)c->uid,
		    (int)c->pid, strerror(errno));
		return (-1);
	}
	return (evbuffer_get_length(c->out) == 0 ? 0 : 1);
}

/* Reading stops until the output drains (conn_flush resumes it). */
static void
conn_pause(struct conn *c)
{
	atomic_fetch_add(&c->worker->srv->stats.queue_full_pauses, 1);
	c->paused = 1;
	conn_stop_read(c);
}

/* The output drained: read again.  -1 when the event cannot be added. */
static int
conn_resume(struct conn *c)
{
	c->paused = 0;
	/* Its deadline did not run while we were not reading. */
	if (c->fr.len != 0)
		c->frame_start = conn_now_ms();
	return (conn_arm_read(c));
}

static int
conn_arm_write(struct conn *c)
{
	struct timeval	tv;

	if (c->writing)
		return (0);
	tv.tv_sec = atomic_load(&c->worker->srv->slow_client_timeout);
	tv.tv_usec = 0;
	if (event_add(c->wev, &tv) == -1)
		return (-1);
	c->writing = 1;
	return (0);
}

static void
conn_stop_write(struct conn *c)
{
	if (c->writing) {
		event_del(c->wev);
		c->writing = 0;
	}
}

/*
 * End of every read and write: write what is waiting and set the events
 * that follow.  Output left: the write event (reading stays as it is:
 * stopped if paused).  All written: no write event; closing if asked
 * to; reading again if paused, and then 1: frames may be buffered that
 * no new byte will announce, the caller processes them.  -1: c is
 * freed.
 */
static int
conn_flush(struct conn *c)
{
	switch (conn_write_now(c)) {
	case -1:
		conn_free(c);
		return (-1);
	case 1:
		if (conn_arm_write(c) == -1) {
			log_warnx("event_add failed");
			conn_free(c);
			return (-1);
		}
		return (0);
	default:
		break;
	}
	c->queued = 0;
	conn_stop_write(c);
	/*
	 * Parked requests hold answers back: closing, or reading again
	 * when their held answers fill the budget, waits for them (their
	 * wait is bounded; park.c flushes again once they are answered).
	 */
	if (c->close_after) {
		if (!TAILQ_EMPTY(&c->parks))
			return (0);
		conn_free(c);
		return (-1);
	}
	if (c->paused) {
		if (!TAILQ_EMPTY(&c->parks) && park_held_full(c))
			return (0);
		if (conn_resume(c) == -1) {
			log_warnx("event_add failed");
			conn_free(c);
			return (-1);
		}
		return (1);
	}
	if (!c->reading) {
		/* Never reached: an idle connection with no event. */
		log_warnx("uid %u pid %d: connection with no event, closed",
		    (unsigned)c->uid, (int)c->pid);
		conn_free(c);
		return (-1);
	}
	return (0);
}

/*
 * Handle what the input buffer holds, then write the answers; again
 * while a pause ends at once (the socket drained as we wrote).  c may
 * be freed on return.
 */
static void
conn_process(struct conn *c)
{
	/* Every frame buffered now is complete from here on (metrics). */
	if (metrics_timing)
		c->worker->frame_t0 = metrics_now_ns();
	do {
		if (conn_parse(c) == -1)
			return;
	} while (conn_flush(c) == 1);
}

/*
 * One whole frame from the framer: answer it; when the answers reach
 * max_queued_replies (or CONN_OUTPUT_MAX bytes), write now and pause
 * only if the peer lags.  1 stops the run (paused, closing, or the
 * connection failed: c->failed, freed by conn_parse).
 */
static int
conn_frame_cb(void *arg, const struct proto_hdr *hdr, const uint8_t *body)
{
	struct conn	*c = arg;
	struct server	*srv = c->worker->srv;
	int		 r;

	if (conn_frame(c, hdr, body) == -1)
		return (1);
	if (!TAILQ_EMPTY(&c->parks) && park_held_full(c)) {
		/* Answers wait behind a parked request: read no more. */
		if (conn_write_now(c) == -1) {
			c->failed = 1;
			return (1);
		}
		conn_pause(c);
		return (1);
	}
	if (c->queued >= atomic_load(&srv->max_queued_replies) ||
	    evbuffer_get_length(c->out) > CONN_OUTPUT_MAX) {
		r = conn_write_now(c);
		if (r == -1) {
			c->failed = 1;
			return (1);
		}
		if (r == 0) {
			c->queued = 0;
			return (0);
		}
		conn_pause(c);
		return (1);
	}
	return (0);
}

/* A header refused before its body: ERROR, then close. */
static void
conn_error_cb(void *arg, uint32_t id, uint16_t code, const char *msg,
    const uint8_t *raw, size_t rawlen)
{
	conn_protocol_error(arg, id, code, msg, raw, rawlen);
}

/*
 * Handle every complete frame in the input buffer (until the queue is
 * full and the socket lags: paused), by the framer (src/proto/framer.c,
 * which the query fuzzer runs too).  What is left is the start of the
 * next frame, at the front, with room for all of it.  -1: c is freed.
 */
static int
conn_parse(struct conn *c)
{
	size_t	consumed = 0;
	int	r = 0;

	if (!c->close_after && !c->paused)
		r = proto_framer_run(&c->fr, conn_frame_cb, conn_error_cb, c,
		    &consumed);
	if (c->failed) {
		conn_free(c);
		return (-1);
	}
	if (consumed != 0 && c->fr.len != 0)
		c->frame_start = conn_now_ms();
	if (r == -1 && !c->close_after)
		conn_protocol_error(c, c->fr.pending_id,
		    KMSAUTHZ_WERR_INTERNAL, "out of memory", NULL, 0);
	/*
	 * The timer, only when it changes: while a frame is partly here its
	 * deadline must not move with each byte; once none is, back to idle.
	 */
	if (c->reading && !c->close_after &&
	    (c->fr.len != 0 || c->deadline || c->kind == SERVER_ADMIN) &&
	    conn_arm_read(c) == -1) {
		log_warnx("event_add failed");
		conn_free(c);
		return (-1);
	}
	return (0);
}

/* The socket took more of the output, or the client stopped reading. */
static void
conn_write_ev(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	struct server	*srv = c->worker->srv;

	if (what & EV_TIMEOUT) {
		atomic_fetch_add(&srv->stats.slow_client_closes, 1);
		log_info("closing uid %u pid %d: not reading its answers for "
		    "%u seconds", (unsigned)c->uid, (int)c->pid,
		    atomic_load(&srv->slow_client_timeout));
		conn_free(c);
		return;
	}
	/* conn_flush writes, and resumes a paused read when all went. */
	if (conn_flush(c) == 1)
		conn_process(c);
}

/*
 * Log a sample of the bad bytes (debug), queue the ERROR, stop reading:
 * the connection closes once the ERROR is written (conn_flush,
 * conn_write_ev).  Called from conn_process only, which flushes.
 */
static void
conn_protocol_error(struct conn *c, uint32_t id, uint16_t code,
    const char *msg, const uint8_t *bytes, size_t len)
{
	struct server		*srv = c->worker->srv;
	struct proto_error	 e;
	char			 dump[CONN_DUMP_LEN * 4 + 1];

	atomic_fetch_add(&srv->stats.proto_errors, 1);
	metrics_error(c->worker->mc, code);
	if (bytes != NULL)
		log_escape(dump, sizeof(dump), (const char *)bytes,
		    len < CONN_DUMP_LEN ? len : CONN_DUMP_LEN);
	else
		dump[0] = '\0';
	log_debug("protocol error from uid %u pid %d: %s (%s)",
	    (unsigned)c->uid, (int)c->pid, msg, dump);
	memset(&e, 0, sizeof(e));
	e.code = code;
	e.message.ptr = msg;
	e.message.len = strlen(msg);
	(void)conn_send(c, KMSAUTHZ_MSG_ERROR, id, enc_error, &e);
	c->close_after = 1;
	conn_stop_read(c);
}

/* An ERROR frame that does not close the connection. */
int
conn_error(struct conn *c, uint32_t id, uint16_t code, int closes,
    const char *msg)
{
	struct proto_error	e;

	if (closes) {
		conn_protocol_error(c, id, code, msg, NULL, 0);
		return (-1);
	}
	metrics_error(c->worker->mc, code);
	memset(&e, 0, sizeof(e));
	e.code = code;
	e.message.ptr = msg;
	e.message.len = strnlen(msg, KMSAUTHZ_MAX_ERROR_MESSAGE);
	return (conn_send(c, KMSAUTHZ_MSG_ERROR, id, enc_error, &e));
}

/* An ADMIN_RESPONSE carrying json (no signature). */
int
conn_reply(struct conn *c, uint16_t type, uint32_t id, const void *body,
    size_t len)
{
	struct proto_admin	a;

	memset(&a, 0, sizeof(a));
	a.json.ptr = body;
	a.json.len = len;
	return (conn_send(c, type, id, enc_admin, &a));
}

/*
 * Encode one frame straight into the output buffer: count first, then
 * write into reserved space.  -1 when the encoder refuses (a value over
 * a protocol limit) or memory is short.
 */
static int
conn_send(struct conn *c, uint16_t type, uint32_t id, conn_enc_fn enc,
    const void *arg)
{
	struct evbuffer		*out;
	struct evbuffer_iovec	 vec;
	struct proto_wr		 wr;
	size_t			 start, size;

	/* Behind a parked request its answer must come first: held. */
	if (c->sink != NULL)
		out = c->sink;
	else if (__builtin_expect(TAILQ_EMPTY(&c->parks), 1))
		out = c->out;
	else
		out = TAILQ_LAST(&c->parks, park_list)->after;
	proto_wr_init(&wr, NULL, 0);
	start = proto_frame_begin(&wr, type, id);
	enc(&wr, arg);
	proto_frame_end(&wr, start);
	if (wr.err != 0)
		return (-1);
	size = wr.off;
	if (evbuffer_reserve_space(out, (ssize_t)size, &vec, 1) < 1 ||
	    vec.iov_len < size)
		return (-1);
	proto_wr_init(&wr, vec.iov_base, size);
	start = proto_frame_begin(&wr, type, id);
	enc(&wr, arg);
	proto_frame_end(&wr, start);
	if (wr.err != 0 || wr.off != size)
		return (-1);
	vec.iov_len = size;
	if (evbuffer_commit_space(out, &vec, 1) == -1)
		return (-1);
	if (out == c->out) {
		c->queued++;
		return (0);
	}
	TAILQ_LAST(&c->parks, park_list)->nafter++;
	TAILQ_LAST(&c->parks, park_list)->after_bytes += size;
	c->held++;
	c->held_bytes += size;
	return (0);
}

/* -1 when the connection is closing (or gone). */
static int
conn_frame(struct conn *c, const struct proto_hdr *hdr, const uint8_t *body)
{
	struct worker		*w = c->worker;
	struct server		*srv = w->srv;
	struct proto_hello	 hello;
	struct proto_hello_reply hr;
	struct proto_batch_rd	 br;
	struct proto_check	 chk;
	struct proto_rd		 rd;
	const char		*why = NULL;
	uint64_t		 min_gen = 0;
	uint16_t		 i;
	int			 r;

	metrics_frame(w->mc, hdr->type);
	switch (hdr->type) {
	case KMSAUTHZ_MSG_HELLO:
		if ((r = proto_hello_decode(body, hdr->len, &hello)) != 0)
			goto bad;
		if (hello.min_version > KMSAUTHZ_PROTO_VERSION ||
		    hello.max_version < KMSAUTHZ_PROTO_VERSION) {
			conn_protocol_error(c, hdr->id, KMSAUTHZ_WERR_VERSION,
			    "no common protocol version", NULL, 0);
			return (-1);
		}
		c->hello = 1;
		memset(&hr, 0, sizeof(hr));
		hr.version = KMSAUTHZ_PROTO_VERSION;
		hr.software.ptr = conn_software;
		hr.software.len = strlen(conn_software);
		break;
	case KMSAUTHZ_MSG_PING:
	case KMSAUTHZ_MSG_STATUS:
		if ((r = proto_empty_decode(body, hdr->len)) != 0)
			goto bad;
		break;
	case KMSAUTHZ_MSG_CHECK:
		proto_rd_init(&rd, body, hdr->len);
		proto_check_read(&rd, &chk);
		why = rd.msg;
		if ((r = proto_rd_end(&rd)) != 0)
			goto bad;
		min_gen = chk.min_generation;
		break;
	case KMSAUTHZ_MSG_CHECK_BATCH:
		/* Validate the whole batch before deciding any of it. */
		if ((r = proto_batch_begin(&br, body, hdr->len)) != 0)
			goto bad;
		for (i = 0; i < br.count; i++) {
			r = proto_batch_next(&br, &chk);
			why = br.rd.msg;
			if (r != 0)
				goto bad;
			/* The batch waits for the largest of its minimums. */
			if (chk.min_generation > min_gen)
				min_gen = chk.min_generation;
		}
		if ((r = proto_batch_end(&br)) != 0)
			goto bad;
		break;
	case KMSAUTHZ_MSG_ADMIN_REQUEST:
		if (server_admin_dispatch(c, srv, hdr->id, body, hdr->len) == -1)
			return (-1);
		return (c->close_after ? -1 : 0);
	default:
		conn_protocol_error(c, hdr->id, KMSAUTHZ_WERR_UNSUPPORTED,
		    "unknown message type", NULL, 0);
		return (-1);
	}

	/* Decoded and valid: answer. */
	switch (hdr->type) {
	case KMSAUTHZ_MSG_HELLO:
		r = conn_send(c, KMSAUTHZ_MSG_HELLO_REPLY, hdr->id,
		    enc_hello_reply, &hr);
		break;
	case KMSAUTHZ_MSG_PING:
		r = conn_send(c, KMSAUTHZ_MSG_PONG, hdr->id, enc_empty, NULL);
		break;
	case KMSAUTHZ_MSG_STATUS:
		conn_status(c, hdr->id);
		r = 0;
		break;
	case KMSAUTHZ_MSG_CHECK:
	case KMSAUTHZ_MSG_CHECK_BATCH:
		/*
		 * The one compare on the hot path: a minimum the served
		 * world has not reached parks the request (park.c).
		 */
		if (__builtin_expect(min_gen != 0, 0)) {
			(void)worker_world(w);
			if (min_gen > w->generation)
				return (park_request(c, hdr, body, min_gen));
		}
		r = hdr->type == KMSAUTHZ_MSG_CHECK ?
		    conn_answer_check(c, hdr->id, &chk, 1) :
		    conn_answer_batch(c, hdr->id, body, hdr->len, 1);
		break;
	default:
		r = -1;
		break;
	}
	if (r == -1) {
		conn_protocol_error(c, hdr->id, KMSAUTHZ_WERR_INTERNAL,
		    "cannot encode the answer", NULL, 0);
		return (-1);
	}
	return (0);
bad:
	conn_protocol_error(c, hdr->id, proto_wire_error(r),
	    why != NULL ? why : "malformed message body", body, hdr->len);
	return (-1);
}

/*
 * Decide one CHECK on the world served now and queue its ANSWER (with
 * the explanation when asked); timed: count it in the latency histogram
 * (not a parked one, whose wait is not the daemon's latency).  -1 when
 * the answer cannot be encoded.
 */
int
conn_answer_check(struct conn *c, uint32_t id, const struct proto_check *chk,
    int timed)
{
	struct worker		*w = c->worker;
	const struct world	*world = worker_world(w);
	struct eval_answer	*ans = &w->scratch[0];
	struct conn_why		 cw;
	int			 r;

	if (chk->flags & KMSAUTHZ_CHECK_WHY) {
		if (w->why == NULL)
			w->why = xcalloc(1, sizeof(*w->why));
		conn_check(c, world, chk, ans, id, -1, w->why);
		cw.answer = ans;
		cw.why = w->why;
		return (conn_send(c, KMSAUTHZ_MSG_ANSWER, id, enc_answer_why,
		    &cw));
	}
	conn_check(c, world, chk, ans, id, -1, NULL);
	r = conn_send(c, KMSAUTHZ_MSG_ANSWER, id, enc_answer, ans);
	if (timed && metrics_timing)
		metrics_check_time(w->mc, metrics_now_ns() - w->frame_t0);
	return (r);
}

/* The same for a CHECK_BATCH body already validated whole. */
int
conn_answer_batch(struct conn *c, uint32_t id, const uint8_t *body,
    size_t len, int timed)
{
	struct worker		*w = c->worker;
	const struct world	*world = worker_world(w);
	struct proto_batch_rd	 br;
	struct proto_check	 chk;
	struct conn_batch	 batch;
	uint16_t		 i;
	int			 r;

	(void)proto_batch_begin(&br, body, len);
	for (i = 0; i < br.count; i++) {
		(void)proto_batch_next(&br, &chk);
		conn_check(c, world, &chk, &w->scratch[i], id, i, NULL);
	}
	batch.answers = w->scratch;
	batch.count = br.count;
	r = conn_send(c, KMSAUTHZ_MSG_BATCH_ANSWER, id, enc_batch, &batch);
	metrics_batch(w->mc, br.count);
	if (timed && metrics_timing)
		metrics_check_time(w->mc, metrics_now_ns() - w->frame_t0);
	return (r);
}

/*
 * park.c moved answers of parked requests (and those held behind them)
 * into the output: write them, and read again if that waited on them.
 * c may be freed.
 */
void
conn_unparked(struct conn *c)
{
	if (conn_flush(c) == 1)
		conn_process(c);
}

/*
 * One decision.  Fail closed: whatever goes wrong here (an unusable
 * address, no world) is an IMPLICIT_DENY, never an error or an allow.
 */
static void
conn_check(struct conn *c, const struct world *world,
    const struct proto_check *chk, struct eval_answer *ans, uint32_t reqid,
    int item, struct eval_why *why)
{
	struct worker		*w = c->worker;
	struct eval_request	 req;
	struct eval_ctx		 ctx[KMSAUTHZ_MAX_CONTEXT];
	struct timespec		 ts;
	uint16_t		 i;
	int			 have_ts = 0;

	conn_count(&w->checks);
	memset(ans, 0, sizeof(*ans));
	ans->decision = EVAL_IMPLICIT_DENY;
	ans->reason = EVAL_R_INVALID_REQUEST;
	if (why != NULL)	/* an undecided request's explanation */
		(void)eval_decide_why(NULL, NULL, ans, why, 0);
	memset(&req, 0, sizeof(req));
	req.principal = chk->principal.ptr;
	req.principal_len = chk->principal.len;
	req.action = chk->action.ptr;
	req.action_len = chk->action.len;
	req.resource = chk->resource.ptr;
	req.resource_len = chk->resource.len;
	if (chk->ip_len != 0) {
		if (value_ip_from_bytes(chk->ip, chk->ip_len,
		    &req.source_ip) != 0)
			goto fail;
		req.has_source_ip = 1;
	}
	if (chk->nctx > KMSAUTHZ_MAX_CONTEXT)
		goto fail;
	for (i = 0; i < chk->nctx; i++) {
		ctx[i].key = chk->ctx[i].key.ptr;
		ctx[i].keylen = chk->ctx[i].key.len;
		ctx[i].value = chk->ctx[i].value.ptr;
		ctx[i].valuelen = chk->ctx[i].value.len;
	}
	req.ctx = ctx;
	req.nctx = chk->nctx;
	if (chk->flags & KMSAUTHZ_CHECK_TIME) {
		req.now.sec = chk->time_sec;
		req.now.nsec = (int32_t)chk->time_nsec;
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		req.now.sec = ts.tv_sec;
		req.now.nsec = (int32_t)ts.tv_nsec;
		have_ts = 1;
	}
	req.explain = (chk->flags & KMSAUTHZ_CHECK_EXPLAIN) != 0;
	if (world == NULL || (why != NULL ? eval_decide_why(world, &req, ans,
	    why, (chk->flags & KMSAUTHZ_CHECK_WHY_FULL) != 0) :
	    eval_decide(world, &req, ans)) != 0)
		goto fail;
	if (ans->decision == EVAL_ALLOW)
		conn_count(&w->allows);
	else
		conn_count(&w->denies);
	goto done;
fail:
	conn_count(&w->check_errors);
	conn_count(&w->denies);
	memset(ans, 0, sizeof(*ans));
	ans->decision = EVAL_IMPLICIT_DENY;
	ans->reason = EVAL_R_INVALID_REQUEST;
	ans->generation = world != NULL ? world_generation(world) : 0;
done:
	metrics_decision(w->mc, (int)ans->decision, (int)ans->reason);
	/* A copy into this worker's ring, or nothing: never a wait. */
	if (declog_enabled)
		declog_record(w->dl, w->mc, c, reqid, item, chk, ans,
		    have_ts ? &ts : NULL);
}

static void
conn_status(struct conn *c, uint32_t id)
{
	struct server		*srv = c->worker->srv;
	struct world		*world;
	struct world_counts	 wc;
	struct proto_status	 st;
	struct server_decisions	 d;

	memset(&st, 0, sizeof(st));
	memset(&wc, 0, sizeof(wc));
	if ((world = world_holder_acquire(srv->holder)) != NULL) {
		st.generation = world_generation(world);
		world_counts(world, &wc);
		world_unref(world);
	}
	st.uptime_sec = (uint64_t)(time(NULL) - srv->started);
	server_decisions(srv, &d);
	st.checks = d.checks;
	st.errors = d.check_errors +
	    atomic_load(&srv->stats.proto_errors);
	st.keys = (uint32_t)wc.keys;
	st.aliases = (uint32_t)wc.aliases;
	st.policies = (uint32_t)wc.policies;
	st.users = (uint32_t)wc.users;
	st.groups = (uint32_t)wc.groups;
	st.roles = (uint32_t)wc.roles;
	st.connections = server_nconns(srv);
	st.proto_version = KMSAUTHZ_PROTO_VERSION;
	st.software.ptr = conn_software;
	st.software.len = strlen(conn_software);
	if (conn_send(c, KMSAUTHZ_MSG_STATUS_REPLY, id, enc_status, &st) == -1)
		(void)conn_error(c, id, KMSAUTHZ_WERR_INTERNAL, 1,
		    "cannot encode status");
}

/* Only the owning thread writes: a relaxed load and store, no lock. */
static void
conn_count(atomic_uint_fast64_t *p)
{
	atomic_store_explicit(p, atomic_load_explicit(p,
	    memory_order_relaxed) + 1, memory_order_relaxed);
}

static void
enc_error(struct proto_wr *wr, const void *arg)
{
	proto_error_encode(wr, arg);
}

static void
enc_empty(struct proto_wr *wr, const void *arg)
{
}

static void
enc_hello_reply(struct proto_wr *wr, const void *arg)
{
	proto_hello_reply_encode(wr, arg);
}

static void
enc_status(struct proto_wr *wr, const void *arg)
{
	proto_status_encode(wr, arg);
}

static void
enc_admin(struct proto_wr *wr, const void *arg)
{
	proto_admin_encode(wr, arg);
}

/*
 * The engine's answer in wire terms (both enums listed explicitly): 0,
 * or -1 when it is inconsistent and *pa is an invalid-request deny.
 * Only the header and the statements are cleared (the extension is
 * filled by enc_answer_why alone).
 */
static int
conn_answer_fill(const struct eval_answer *ans, struct proto_answer *pa)
{
	static const uint8_t decisions[] = {
		[EVAL_IMPLICIT_DENY] = KMSAUTHZ_IMPLICIT_DENY,
		[EVAL_ALLOW] = KMSAUTHZ_ALLOW,
		[EVAL_EXPLICIT_DENY] = KMSAUTHZ_EXPLICIT_DENY,
	};
	static const uint8_t reasons[EVAL_R_COUNT] = {
		[EVAL_R_ALLOWED_BY_IDENTITY_POLICY] =
		    KMSAUTHZ_REASON_ALLOWED_BY_IDENTITY_POLICY,
		[EVAL_R_ALLOWED_BY_KEY_POLICY] =
		    KMSAUTHZ_REASON_ALLOWED_BY_KEY_POLICY,
		[EVAL_R_ALLOWED_BY_BOTH] = KMSAUTHZ_REASON_ALLOWED_BY_BOTH,
		[EVAL_R_ALLOWED_AS_ACCOUNT_ROOT] =
		    KMSAUTHZ_REASON_ALLOWED_AS_ACCOUNT_ROOT,
		[EVAL_R_EXPLICIT_DENY] = KMSAUTHZ_REASON_EXPLICIT_DENY,
		[EVAL_R_NO_MATCHING_ALLOW] =
		    KMSAUTHZ_REASON_NO_MATCHING_ALLOW,
		[EVAL_R_CROSS_ACCOUNT_NEEDS_IDENTITY_ALLOW] =
		    KMSAUTHZ_REASON_CROSS_ACCOUNT_NEEDS_IDENTITY_ALLOW,
		[EVAL_R_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW] =
		    KMSAUTHZ_REASON_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW,
		[EVAL_R_KEY_NOT_FOUND] = KMSAUTHZ_REASON_KEY_NOT_FOUND,
		[EVAL_R_INVALID_REQUEST] = KMSAUTHZ_REASON_INVALID_REQUEST,
	};
	size_t	i;

	memset(pa, 0, offsetof(struct proto_answer, why));
	if ((unsigned)ans->decision < sizeof(decisions) &&
	    (unsigned)ans->reason < EVAL_R_COUNT) {
		pa->decision = decisions[ans->decision];
		pa->reason = reasons[ans->reason];
	}
	if (pa->reason == KMSAUTHZ_REASON_NONE ||
	    !proto_decision_reason_ok(pa->decision, pa->reason)) {
		/* Never send an inconsistent answer: deny. */
		pa->decision = KMSAUTHZ_IMPLICIT_DENY;
		pa->reason = KMSAUTHZ_REASON_INVALID_REQUEST;
		return (-1);
	}
	pa->generation = ans->generation;
	pa->flags = ans->truncated ? KMSAUTHZ_ANSWER_TRUNCATED : 0;
	for (i = 0; i < ans->nmatched && i < KMSAUTHZ_MAX_MATCHED; i++)
		conn_match_fill(&ans->matched[i], &pa->match[i]);
	pa->nmatch = (uint8_t)i;
	return (0);
}

static void
conn_match_fill(const struct eval_match *m, struct proto_match *pm)
{
	pm->kind = m->source == EVAL_SRC_KEY ? KMSAUTHZ_SOURCE_KEY :
	    KMSAUTHZ_SOURCE_POLICY;
	pm->index = m->index;
	pm->name.ptr = m->name;
	pm->name.len = m->namelen;
	pm->flags = 0;
	pm->sid.ptr = NULL;
	pm->sid.len = 0;
	if (m->sid != NULL) {
		pm->flags = KMSAUTHZ_MATCH_HAS_SID;
		pm->sid.ptr = m->sid;
		pm->sid.len = m->sidlen;
	}
}

static void
enc_answer(struct proto_wr *wr, const void *arg)
{
	struct proto_answer	pa;

	(void)conn_answer_fill(arg, &pa);
	proto_answer_encode(wr, &pa);
}

/* The answer and its explanation extension (docs/protocol.md). */
static void
enc_answer_why(struct proto_wr *wr, const void *arg)
{
	const struct conn_why		*cw = arg;
	const struct eval_why		*why = cw->why;
	const struct eval_half_why	*eh;
	struct proto_answer		 pa;
	struct proto_half		*ph;
	struct proto_miss		*pm;
	size_t				 i, j;

	if (conn_answer_fill(cw->answer, &pa) == -1) {
		proto_answer_encode(wr, &pa);
		return;
	}
	pa.flags |= KMSAUTHZ_ANSWER_WHY;
	pa.why.rule = (uint8_t)(why->rule + 1);
	for (i = 0; i < 2; i++) {
		eh = &why->half[i];
		ph = &pa.why.half[i];
		ph->result = (uint8_t)eh->result;
		ph->flags = eh->truncated ? KMSAUTHZ_WHY_TRUNCATED : 0;
		for (j = 0; j < eh->n && j < KMSAUTHZ_MAX_MATCHED; j++)
			conn_match_fill(&eh->stmt[j], &ph->stmt[j]);
		ph->n = (uint8_t)j;
	}
	pa.why.flags = why->misses_truncated ? KMSAUTHZ_WHY_TRUNCATED : 0;
	for (i = 0; i < why->nmisses && i < KMSAUTHZ_MAX_MISSES; i++) {
		pm = &pa.why.miss[i];
		pm->half = (uint8_t)why->miss[i].half;
		pm->deny = (uint8_t)why->miss[i].deny;
		conn_match_fill(&why->miss[i].stmt, &pm->stmt);
		pm->why.ptr = why->miss[i].why;
		pm->why.len = strnlen(why->miss[i].why,
		    KMSAUTHZ_MAX_WHY_TEXT);
	}
	pa.why.nmiss = (uint8_t)i;
	proto_answer_encode(wr, &pa);
}

static void
enc_batch(struct proto_wr *wr, const void *arg)
{
	const struct conn_batch	*b = arg;
	uint16_t		 i;

	proto_batch_encode_begin(wr, b->count);
	for (i = 0; i < b->count; i++)
		enc_answer(wr, &b->answers[i]);
}

/* For the acceptor: a lone ERROR frame in buf (refusing a client). */
int
server_encode_error(uint8_t *buf, size_t cap, uint32_t id, uint16_t code,
    const char *msg, size_t *lenp)
{
	struct proto_wr		wr;
	struct proto_error	e;
	size_t			start;

	memset(&e, 0, sizeof(e));
	e.code = code;
	e.message.ptr = msg;
	e.message.len = strlen(msg);
	proto_wr_init(&wr, buf, cap);
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_ERROR, id);
	proto_error_encode(&wr, &e);
	proto_frame_end(&wr, start);
	if (wr.err != 0)
		return (-1);
	*lenp = wr.off;
	return (0);
}

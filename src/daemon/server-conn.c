/*
 * server-conn.c: one client connection: framing, limits, dispatch.
 *
 * The read callback peeks the 16-byte header, checks it (magic, version,
 * type allowed on this socket, body length against the limit) before
 * waiting for the body, and decodes whole frames only.  A protocol error
 * queues an ERROR frame and closes after the flush (Redis
 * CLOSE_AFTER_REPLY).  Replies go straight into the output evbuffer;
 * when a client has max_queued_replies answers (or OUTPUT_MAX bytes)
 * waiting, reading from it stops until it drains, and if it does not
 * read for slow_client_timeout seconds it is closed.  Nothing here
 * blocks, so a slow client never delays another.
 *
 * Writing: the answers to everything one read brought in are written
 * at once, before going back to the loop (one writev for a pipelined
 * burst, no extra loop round and no epoll_ctl for a round trip).  The
 * bufferevent's write side is enabled only while the socket does not
 * take everything: it then writes the rest, and its write timeout is
 * the slow-client timeout.  Invariant outside conn_process: output
 * waiting <=> EV_WRITE enabled.
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
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "engine/eval.h"
#include "engine/world.h"
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

static size_t	conn_input_max(const struct conn *);
static void	conn_read_cb(struct bufferevent *, void *);
static void	conn_write_cb(struct bufferevent *, void *);
static void	conn_event_cb(struct bufferevent *, short, void *);
static void	conn_process(struct conn *);
static int	conn_write_now(struct conn *);
static void	conn_flush(struct conn *);
static int	conn_frame(struct conn *, const struct proto_hdr *,
		    const uint8_t *);
static int	conn_send(struct conn *, uint16_t, uint32_t, conn_enc_fn,
		    const void *);
static void	conn_protocol_error(struct conn *, uint32_t, uint16_t,
		    const char *, const uint8_t *, size_t);
static void	conn_set_timeouts(struct conn *);
static void	conn_check(struct conn *, const struct world *,
		    const struct proto_check *, struct eval_answer *);
static void	conn_status(struct conn *, uint32_t);
static void	enc_error(struct proto_wr *, const void *);
static void	enc_empty(struct proto_wr *, const void *);
static void	enc_hello_reply(struct proto_wr *, const void *);
static void	enc_status(struct proto_wr *, const void *);
static void	enc_answer(struct proto_wr *, const void *);
static void	enc_batch(struct proto_wr *, const void *);
static void	enc_admin(struct proto_wr *, const void *);

static const char conn_software[] = "kmsauthzd " PACKAGE_VERSION;

struct conn *
conn_new(struct worker *w, enum server_kind kind, int fd, uid_t uid,
    gid_t gid, pid_t pid)
{
	struct conn	*c;
	size_t		 high;

	c = xcalloc(1, sizeof(*c));
	c->worker = w;
	c->kind = kind;
	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("bufferevent_socket_new failed");
		free(c);
		return (NULL);
	}
	/* Never buffer more than one maximal frame of input. */
	high = conn_input_max(c);
	bufferevent_setwatermark(c->bev, EV_READ, KMSAUTHZ_HDR_SIZE, high);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	conn_set_timeouts(c);
	if (bufferevent_enable(c->bev, EV_READ) == -1) {
		log_warnx("bufferevent_enable failed");
		bufferevent_setfd(c->bev, -1);
		bufferevent_free(c->bev);
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

	TAILQ_REMOVE(&w->conns, c, entry);
	w->nconns--;
	bufferevent_free(c->bev);
	server_release(w->srv, c->uid);
	free(c);
	worker_conn_gone(w);
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

/* Shutdown: read no more, flush what is queued, then close. */
void
conn_drain(struct conn *c)
{
	bufferevent_disable(c->bev, EV_READ);
	c->close_after = 1;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void
conn_set_timeouts(struct conn *c)
{
	struct server	*srv = c->worker->srv;
	struct timeval	 rtv, wtv;
	unsigned	 idle;

	idle = atomic_load(&srv->idle_timeout);
	rtv.tv_sec = idle;
	rtv.tv_usec = 0;
	wtv.tv_sec = atomic_load(&srv->slow_client_timeout);
	wtv.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, idle ? &rtv : NULL, &wtv);
}

/* One maximal frame for this socket: the most input ever buffered. */
static size_t
conn_input_max(const struct conn *c)
{
	return (KMSAUTHZ_HDR_SIZE + (c->kind == SERVER_ADMIN ?
	    KMSAUTHZ_MAX_ADMIN_BODY : KMSAUTHZ_MAX_QUERY_BODY));
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

/*
 * Write what is waiting, now.  0: all of it went; 1: some is left (the
 * socket is full); -1: the connection failed.
 */
static int
conn_write_now(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	int		 n, saved;

	if (evbuffer_get_length(out) == 0)
		return (0);
	/* A socket bufferevent keeps its output's front frozen. */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write(out, bufferevent_getfd(c->bev));
	saved = errno;
	evbuffer_freeze(out, 1);
	if (n == -1 && saved != EAGAIN && saved != EWOULDBLOCK &&
	    saved != EINTR) {
		log_debug("uid %u pid %d: write: %s", (unsigned)c->uid,
		    (int)c->pid, strerror(saved));
		return (-1);
	}
	return (evbuffer_get_length(out) == 0 ? 0 : 1);
}

/*
 * End of a read: write the answers; hand what is left to the
 * bufferevent, or close when asked to and nothing is left.  c may be
 * freed on return.
 */
static void
conn_flush(struct conn *c)
{
	switch (conn_write_now(c)) {
	case -1:
		conn_free(c);
		return;
	case 1:
		if (bufferevent_enable(c->bev, EV_WRITE) == -1) {
			log_warnx("bufferevent_enable failed");
			conn_free(c);
		}
		return;
	default:
		c->queued = 0;
		if (c->close_after)
			conn_free(c);
		return;
	}
}

/*
 * Handle every complete frame in the input buffer, then write the
 * answers.  Leaves the read low watermark at what the next frame needs.
 * c may be freed on return.
 */
static void
conn_process(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	struct server		*srv = c->worker->srv;
	struct proto_hdr	 hdr;
	uint8_t			 raw[KMSAUTHZ_HDR_SIZE];
	uint8_t			*frame;
	uint32_t		 id;
	size_t			 avail, need;
	int			 r, allowed;

	while (!c->close_after && !c->paused) {
		avail = evbuffer_get_length(in);
		if (avail < KMSAUTHZ_HDR_SIZE) {
			bufferevent_setwatermark(c->bev, EV_READ,
			    KMSAUTHZ_HDR_SIZE, conn_input_max(c));
			break;
		}
		evbuffer_copyout(in, raw, sizeof(raw));
		memcpy(&id, raw + 8, sizeof(id));
		id = ntohl(id);
		if ((r = proto_hdr_decode(raw, sizeof(raw), &hdr)) != 0) {
			conn_protocol_error(c, id, proto_wire_error(r),
			    r == KMSAUTHZ_EVERSION ?
			    "unsupported protocol version" :
			    r == KMSAUTHZ_ETOOBIG ? "frame too large" :
			    "malformed frame header", raw, sizeof(raw));
			break;
		}
		allowed = c->kind == SERVER_QUERY ?
		    proto_type_is_query(hdr.type) :
		    proto_type_is_admin(hdr.type);
		if (!allowed) {
			conn_protocol_error(c, hdr.id,
			    KMSAUTHZ_WERR_UNSUPPORTED,
			    c->kind == SERVER_QUERY ?
			    "message type not accepted on the query socket" :
			    "message type not accepted on the admin socket",
			    raw, sizeof(raw));
			break;
		}
		need = KMSAUTHZ_HDR_SIZE + (size_t)hdr.len;
		if (avail < need) {
			/* Wake up only when the whole body is here. */
			bufferevent_setwatermark(c->bev, EV_READ, need,
			    need > conn_input_max(c) ? need :
			    conn_input_max(c));
			break;
		}
		if ((frame = evbuffer_pullup(in, (ssize_t)need)) == NULL) {
			conn_protocol_error(c, hdr.id, KMSAUTHZ_WERR_INTERNAL,
			    "out of memory", NULL, 0);
			break;
		}
		r = conn_frame(c, &hdr, frame + KMSAUTHZ_HDR_SIZE);
		evbuffer_drain(in, need);
		if (r == -1)
			break;
		if (c->queued >= atomic_load(&srv->max_queued_replies) ||
		    evbuffer_get_length(out) > CONN_OUTPUT_MAX) {
			/* Full: write now; pause only if the peer lags. */
			r = conn_write_now(c);
			if (r == -1) {
				conn_free(c);
				return;
			}
			if (r == 0) {
				c->queued = 0;
				continue;
			}
			atomic_fetch_add(&srv->stats.queue_full_pauses, 1);
			c->paused = 1;
			bufferevent_disable(c->bev, EV_READ);
		}
	}
	conn_flush(c);
}

/*
 * The bufferevent wrote the rest of the output (the write low watermark
 * is 0): back to writing at once from conn_process.
 */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	c->queued = 0;
	bufferevent_disable(c->bev, EV_WRITE);
	if (c->close_after) {
		conn_free(c);
		return;
	}
	if (c->paused) {
		c->paused = 0;
		bufferevent_enable(c->bev, EV_READ);
		/* Frames may already be buffered: no new bytes will wake us. */
		conn_process(c);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	struct server	*srv = c->worker->srv;

	if (what & BEV_EVENT_TIMEOUT) {
		if (what & BEV_EVENT_WRITING) {
			atomic_fetch_add(&srv->stats.slow_client_closes, 1);
			log_info("closing uid %u pid %d: not reading its "
			    "answers for %u seconds", (unsigned)c->uid,
			    (int)c->pid,
			    atomic_load(&srv->slow_client_timeout));
		} else {
			atomic_fetch_add(&srv->stats.idle_timeouts, 1);
			log_debug("closing uid %u pid %d: idle",
			    (unsigned)c->uid, (int)c->pid);
		}
		conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) != 0) {
		/* Half-closed: still flush what it asked for. */
		c->close_after = 1;
		return;
	}
	conn_free(c);
}

/*
 * Log a sample of the bad bytes (debug), queue the ERROR, stop reading:
 * the connection closes once the ERROR is written (conn_flush,
 * conn_write_cb).  Called from conn_process only, which flushes.
 */
static void
conn_protocol_error(struct conn *c, uint32_t id, uint16_t code,
    const char *msg, const uint8_t *bytes, size_t len)
{
	struct server		*srv = c->worker->srv;
	struct proto_error	 e;
	char			 dump[CONN_DUMP_LEN * 4 + 1];

	atomic_fetch_add(&srv->stats.proto_errors, 1);
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
	bufferevent_disable(c->bev, EV_READ);
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
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec	 vec;
	struct proto_wr		 wr;
	size_t			 start, size;

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
	c->queued++;
	return (0);
}

/* -1 when the connection is closing (or gone). */
static int
conn_frame(struct conn *c, const struct proto_hdr *hdr, const uint8_t *body)
{
	struct worker		*w = c->worker;
	struct server		*srv = w->srv;
	const struct world	*world;
	struct proto_hello	 hello;
	struct proto_hello_reply hr;
	struct proto_batch_rd	 br;
	struct proto_check	 chk;
	struct eval_answer	*ans;
	struct conn_batch	 batch;
	uint16_t		 i;
	int			 r;

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
		if ((r = proto_check_decode(body, hdr->len, &chk)) != 0)
			goto bad;
		break;
	case KMSAUTHZ_MSG_CHECK_BATCH:
		/* Validate the whole batch before deciding any of it. */
		if ((r = proto_batch_begin(&br, body, hdr->len)) != 0)
			goto bad;
		for (i = 0; i < br.count; i++)
			if ((r = proto_batch_next(&br, &chk)) != 0)
				goto bad;
		if ((r = proto_batch_end(&br)) != 0)
			goto bad;
		break;
	case KMSAUTHZ_MSG_ADMIN_REQUEST:
		if (admin_dispatch(c, srv, hdr->id, body, hdr->len) == -1)
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
		world = worker_world(w);
		ans = &w->scratch[0];
		conn_check(c, world, &chk, ans);
		r = conn_send(c, KMSAUTHZ_MSG_ANSWER, hdr->id, enc_answer,
		    ans);
		break;
	case KMSAUTHZ_MSG_CHECK_BATCH:
		world = worker_world(w);
		(void)proto_batch_begin(&br, body, hdr->len);
		for (i = 0; i < br.count; i++) {
			(void)proto_batch_next(&br, &chk);
			conn_check(c, world, &chk, &w->scratch[i]);
		}
		batch.answers = w->scratch;
		batch.count = br.count;
		r = conn_send(c, KMSAUTHZ_MSG_BATCH_ANSWER, hdr->id,
		    enc_batch, &batch);
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
	    "malformed message body", body, hdr->len);
	return (-1);
}

/*
 * One decision.  Fail closed: whatever goes wrong here (an unusable
 * address, no world) is an IMPLICIT_DENY, never an error or an allow.
 */
static void
conn_check(struct conn *c, const struct world *world,
    const struct proto_check *chk, struct eval_answer *ans)
{
	struct server		*srv = c->worker->srv;
	struct eval_request	 req;
	struct eval_ctx		 ctx[KMSAUTHZ_MAX_CONTEXT];
	struct timespec		 ts;
	uint16_t		 i;

	atomic_fetch_add(&srv->stats.checks, 1);
	memset(ans, 0, sizeof(*ans));
	ans->decision = EVAL_IMPLICIT_DENY;
	ans->reason = EVAL_R_INVALID_REQUEST;
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
	}
	req.explain = (chk->flags & KMSAUTHZ_CHECK_EXPLAIN) != 0;
	if (world == NULL || eval_decide(world, &req, ans) != 0)
		goto fail;
	if (ans->decision == EVAL_ALLOW)
		atomic_fetch_add(&srv->stats.allows, 1);
	else
		atomic_fetch_add(&srv->stats.denies, 1);
	return;
fail:
	atomic_fetch_add(&srv->stats.check_errors, 1);
	atomic_fetch_add(&srv->stats.denies, 1);
	memset(ans, 0, sizeof(*ans));
	ans->decision = EVAL_IMPLICIT_DENY;
	ans->reason = EVAL_R_INVALID_REQUEST;
	ans->generation = world != NULL ? world_generation(world) : 0;
}

static void
conn_status(struct conn *c, uint32_t id)
{
	struct server		*srv = c->worker->srv;
	struct world		*world;
	struct world_counts	 wc;
	struct proto_status	 st;

	memset(&st, 0, sizeof(st));
	memset(&wc, 0, sizeof(wc));
	if ((world = world_holder_acquire(srv->holder)) != NULL) {
		st.generation = world_generation(world);
		world_counts(world, &wc);
		world_unref(world);
	}
	st.uptime_sec = (uint64_t)(time(NULL) - srv->started);
	st.checks = atomic_load(&srv->stats.checks);
	st.errors = atomic_load(&srv->stats.check_errors) +
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

/* The engine's answer in wire terms (both enums listed explicitly). */
static void
enc_answer(struct proto_wr *wr, const void *arg)
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
	const struct eval_answer	*ans = arg;
	struct proto_answer		 pa;
	const struct eval_match		*m;
	size_t				 i;

	memset(&pa, 0, sizeof(pa));
	if ((unsigned)ans->decision < sizeof(decisions) &&
	    (unsigned)ans->reason < EVAL_R_COUNT) {
		pa.decision = decisions[ans->decision];
		pa.reason = reasons[ans->reason];
	}
	if (pa.reason == KMSAUTHZ_REASON_NONE ||
	    !proto_decision_reason_ok(pa.decision, pa.reason)) {
		/* Never send an inconsistent answer: deny. */
		pa.decision = KMSAUTHZ_IMPLICIT_DENY;
		pa.reason = KMSAUTHZ_REASON_INVALID_REQUEST;
		proto_answer_encode(wr, &pa);
		return;
	}
	pa.generation = ans->generation;
	pa.flags = ans->truncated ? KMSAUTHZ_ANSWER_TRUNCATED : 0;
	for (i = 0; i < ans->nmatched && i < KMSAUTHZ_MAX_MATCHED; i++) {
		m = &ans->matched[i];
		pa.match[i].kind = m->source == EVAL_SRC_KEY ?
		    KMSAUTHZ_SOURCE_KEY : KMSAUTHZ_SOURCE_POLICY;
		pa.match[i].index = m->index;
		pa.match[i].name.ptr = m->name;
		pa.match[i].name.len = m->namelen;
		if (m->sid != NULL) {
			pa.match[i].flags = KMSAUTHZ_MATCH_HAS_SID;
			pa.match[i].sid.ptr = m->sid;
			pa.match[i].sid.len = m->sidlen;
		}
	}
	pa.nmatch = (uint8_t)i;
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

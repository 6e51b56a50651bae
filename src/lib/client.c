/* SPDX-License-Identifier: ISC */
/*
 * client.c: libkmsauthz, the connection and every call.
 *
 * One non-blocking socket per handle.  Outgoing frames are queued in an
 * output buffer and written as the socket takes them; incoming bytes are
 * gathered in an input buffer until a whole frame is there.  The header
 * is checked (type, length limit) before the buffer grows for its body.
 * Any failure zeroes the caller's answers, so they read as denied.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmsauthz.h"
#include "lib/client-int.h"
#include "proto/proto.h"

#ifndef KMSAUTHZ_RUNDIR
#define KMSAUTHZ_RUNDIR		"/run/kmsauthzd"
#endif
#define CLIENT_DEFAULT_SOCKET	KMSAUTHZ_RUNDIR "/query.sock"
#define CLIENT_OUT_MAX		(4 * 1024 * 1024)	/* queued output */
#define CLIENT_IN_INITIAL	(64 * 1024)
#define CLIENT_WINDOW		64
#define CLIENT_SLOTS		KMSAUTHZ_MAX_INFLIGHT

struct client_slot {
	uint32_t	id;
	int		used;
};

struct kmsauthz {
	int			 fd;
	int			 timeout_ms;
	int			 broken;	/* first fatal error, or 0 */
	uint32_t		 next_id;
	uint64_t		 min_gen;	/* 0: no minimum */

	uint8_t			*out;
	size_t			 outlen;	/* queued bytes */
	size_t			 outoff;	/* of which written */
	size_t			 outcap;

	uint8_t			*in;
	size_t			 inlen;
	size_t			 incap;
	size_t			 inskip;	/* consumed frame to drop */

	size_t			 inflight;	/* non-blocking API */
	struct client_slot	 slots[CLIENT_SLOTS];

	uint16_t		 srv_code;
	char			 srv_msg[KMSAUTHZ_MAX_ERROR_MESSAGE + 1];
};

static int	client_fail(struct kmsauthz *, int);
static int	client_usable(struct kmsauthz *);
static int64_t	client_now_ms(void);
static int64_t	client_deadline(const struct kmsauthz *);
static int	client_wait_fd(struct kmsauthz *, short, int64_t);
static int	client_reserve_out(struct kmsauthz *, size_t);
static int	client_queue_check_flags(struct kmsauthz *,
		    const struct kmsauthz_request *, uint32_t, uint8_t);
static int	client_queue_check(struct kmsauthz *,
		    const struct kmsauthz_request *, uint32_t);
static int	client_queue_simple(struct kmsauthz *, uint16_t, uint32_t,
		    const struct proto_hello *);
static int	client_write(struct kmsauthz *);
static int	client_read_some(struct kmsauthz *);
static int	client_next_frame(struct kmsauthz *, struct proto_hdr *,
		    const uint8_t **);
static int	client_recv_frame(struct kmsauthz *, int64_t,
		    struct proto_hdr *, const uint8_t **);
static int	client_expect(struct kmsauthz *, uint32_t, uint16_t,
		    int64_t, struct proto_hdr *, const uint8_t **);
static int	client_request_to_check(const struct kmsauthz_request *,
		    struct proto_check *);
static void	client_zero_answers(struct kmsauthz_answer *, size_t);
static void	client_min_gen(const struct kmsauthz *, struct proto_check *);
static int	client_server_error(struct kmsauthz *, const uint8_t *,
		    size_t);
static int	client_fail_check(struct kmsauthz *, int);
static uint32_t	client_take_id(struct kmsauthz *);

/* Marks the handle broken; returns err for the caller to pass on. */
static int
client_fail(struct kmsauthz *h, int err)
{
	if (h->broken == 0)
		h->broken = err;
	return (err);
}

static int
client_usable(struct kmsauthz *h)
{
	if (h == NULL)
		return (KMSAUTHZ_EINVAL);
	if (h->broken != 0)
		return (KMSAUTHZ_EBROKEN);
	return (0);
}

static int64_t
client_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* -1: no deadline. */
static int64_t
client_deadline(const struct kmsauthz *h)
{
	if (h->timeout_ms <= 0)
		return (-1);
	return (client_now_ms() + h->timeout_ms);
}

/* Waits until fd is ready for events or the deadline passes. */
static int
client_wait_fd(struct kmsauthz *h, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		n;

	for (;;) {
		left = -1;
		if (deadline >= 0) {
			left = deadline - client_now_ms();
			if (left <= 0)
				return (KMSAUTHZ_ETIMEDOUT);
			if (left > 1000000)
				left = 1000000;
		}
		pfd.fd = h->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (KMSAUTHZ_EIO);
		if (n == 0)
			return (KMSAUTHZ_ETIMEDOUT);
		return (0);
	}
}

const char *
kmsauthz_default_socket(void)
{
	const char	*p;

	if ((p = secure_getenv("KMSAUTHZ_SOCKET")) != NULL && *p != '\0')
		return (p);
	return (CLIENT_DEFAULT_SOCKET);
}

int
kmsauthz_connect(struct kmsauthz **hp, const char *path, int timeout_ms)
{
	struct sockaddr_un	 sun;
	struct kmsauthz		*h;
	int64_t			 deadline;
	socklen_t		 sl;
	int			 fd, err = 0, soerr;
	long			 nap_ns = 1000000;
	struct timespec		 nap;

	if (hp == NULL)
		return (KMSAUTHZ_EINVAL);
	*hp = NULL;
	if (path == NULL)
		path = kmsauthz_default_socket();
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (*path == '\0' || strlen(path) >= sizeof(sun.sun_path))
		return (KMSAUTHZ_EINVAL);
	memcpy(sun.sun_path, path, strlen(path));

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return (KMSAUTHZ_ENOMEM);
	h->fd = -1;
	h->timeout_ms = timeout_ms;
	h->next_id = 1;
	h->incap = CLIENT_IN_INITIAL;
	if ((h->in = malloc(h->incap)) == NULL) {
		free(h);
		return (KMSAUTHZ_ENOMEM);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		err = errno == ENOMEM || errno == ENOBUFS ?
		    KMSAUTHZ_ENOMEM : KMSAUTHZ_ECONNECT;
		goto fail;
	}
	h->fd = fd;
	deadline = client_deadline(h);
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS) {
			if ((err = client_wait_fd(h, POLLOUT, deadline)) != 0)
				goto fail;
			sl = sizeof(soerr);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &sl) == -1 || soerr != 0) {
				if (soerr != 0)
					errno = soerr;
				err = KMSAUTHZ_ECONNECT;
				goto fail;
			}
			break;
		}
		if (errno != EAGAIN) {
			err = KMSAUTHZ_ECONNECT;
			goto fail;
		}
		/* The listen backlog is full: back off and retry. */
		if (deadline >= 0 && client_now_ms() >= deadline) {
			err = KMSAUTHZ_ETIMEDOUT;
			goto fail;
		}
		nap.tv_sec = 0;
		nap.tv_nsec = nap_ns;
		nanosleep(&nap, NULL);
		if (nap_ns < 64000000)
			nap_ns *= 2;
	}
	*hp = h;
	return (0);
fail:
	/* errno says why (ENOENT, ECONNREFUSED, EACCES): keep it. */
	soerr = errno;
	if (err == KMSAUTHZ_ECONNECT && soerr == 0)
		soerr = ECONNREFUSED;
	kmsauthz_close(h);
	errno = soerr;
	return (err);
}

void
kmsauthz_close(struct kmsauthz *h)
{
	if (h == NULL)
		return;
	if (h->fd != -1)
		close(h->fd);
	free(h->out);
	free(h->in);
	free(h);
}

int
kmsauthz_set_timeout(struct kmsauthz *h, int timeout_ms)
{
	if (h == NULL)
		return (KMSAUTHZ_EINVAL);
	h->timeout_ms = timeout_ms;
	return (0);
}

int
kmsauthz_set_min_generation(struct kmsauthz *h, uint64_t generation)
{
	if (h == NULL)
		return (KMSAUTHZ_EINVAL);
	h->min_gen = generation;
	return (0);
}

int
kmsauthz_fd(const struct kmsauthz *h)
{
	return (h == NULL ? -1 : h->fd);
}

int
kmsauthz_want_write(const struct kmsauthz *h)
{
	return (h != NULL && h->broken == 0 && h->outoff < h->outlen);
}

size_t
kmsauthz_inflight(const struct kmsauthz *h)
{
	return (h == NULL ? 0 : h->inflight);
}

int
kmsauthz_server_error(const struct kmsauthz *h, const char **messagep)
{
	if (messagep != NULL)
		*messagep = h == NULL ? "" : h->srv_msg;
	return (h == NULL ? 0 : h->srv_code);
}

/* Output. */

/* Room for n more queued bytes (compacting what was written). */
static int
client_reserve_out(struct kmsauthz *h, size_t n)
{
	uint8_t	*p;
	size_t	 cap;

	if (h->outoff > 0) {
		memmove(h->out, h->out + h->outoff, h->outlen - h->outoff);
		h->outlen -= h->outoff;
		h->outoff = 0;
	}
	if (n > CLIENT_OUT_MAX - h->outlen)
		return (KMSAUTHZ_EAGAIN);
	if (h->outlen + n <= h->outcap)
		return (0);
	cap = h->outcap == 0 ? 4096 : h->outcap;
	while (cap < h->outlen + n)
		cap *= 2;
	if ((p = realloc(h->out, cap)) == NULL)
		return (KMSAUTHZ_ENOMEM);
	h->out = p;
	h->outcap = cap;
	return (0);
}

static uint32_t
client_take_id(struct kmsauthz *h)
{
	uint32_t	id = h->next_id++;

	if (h->next_id == 0)
		h->next_id = 1;	/* 0 is left for daemon errors */
	return (id);
}

static int
client_request_to_check(const struct kmsauthz_request *req,
    struct proto_check *c)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	if (req == NULL || req->principal == NULL || req->action == NULL ||
	    req->resource == NULL)
		return (KMSAUTHZ_EINVAL);
	/* The WHY bits are kmsauthz_check_why's to set, never a caller's:
	 * a batch or pipelined check cannot carry them. */
	if ((req->flags & ~(unsigned int)(KMSAUTHZ_CHECK_EXPLAIN |
	    KMSAUTHZ_CHECK_TIME)) != 0 || req->time_nsec >= 1000000000U)
		return (KMSAUTHZ_EINVAL);
	if (req->source_ip_len != 0 && req->source_ip_len != 4 &&
	    req->source_ip_len != 16)
		return (KMSAUTHZ_EINVAL);
	if (req->source_ip_len != 0 && req->source_ip == NULL)
		return (KMSAUTHZ_EINVAL);
	if (req->ncontext > KMSAUTHZ_MAX_CONTEXT ||
	    (req->ncontext > 0 && req->context == NULL))
		return (KMSAUTHZ_EINVAL);
	c->flags = (uint8_t)req->flags;
	c->ip_len = (uint8_t)req->source_ip_len;
	if (req->source_ip_len > 0)
		memcpy(c->ip, req->source_ip, req->source_ip_len);
	if (req->flags & KMSAUTHZ_CHECK_TIME) {
		c->time_sec = req->time_sec;
		c->time_nsec = req->time_nsec;
	}
	/* strnlen bounds the scan; the encoder rejects len > limit. */
	c->principal.ptr = req->principal;
	c->principal.len = strnlen(req->principal, KMSAUTHZ_MAX_PRINCIPAL + 1);
	c->action.ptr = req->action;
	c->action.len = strnlen(req->action, KMSAUTHZ_MAX_ACTION + 1);
	c->resource.ptr = req->resource;
	c->resource.len = strnlen(req->resource, KMSAUTHZ_MAX_RESOURCE + 1);
	c->nctx = (uint16_t)req->ncontext;
	for (i = 0; i < req->ncontext; i++) {
		if (req->context[i].key == NULL ||
		    req->context[i].value == NULL)
			return (KMSAUTHZ_EINVAL);
		c->ctx[i].key.ptr = req->context[i].key;
		c->ctx[i].key.len = strnlen(req->context[i].key,
		    KMSAUTHZ_MAX_CONTEXT_KEY + 1);
		c->ctx[i].value.ptr = req->context[i].value;
		c->ctx[i].value.len = strnlen(req->context[i].value,
		    KMSAUTHZ_MAX_CONTEXT_VALUE + 1);
	}
	return (0);
}

/* The handle's minimum generation, as the CHECK extension. */
static void
client_min_gen(const struct kmsauthz *h, struct proto_check *c)
{
	if (h->min_gen != 0) {
		c->flags |= KMSAUTHZ_CHECK_MIN_GEN;
		c->min_generation = h->min_gen;
	}
}

/* Queues one CHECK frame; nothing is queued on failure. */
static int
client_queue_check(struct kmsauthz *h, const struct kmsauthz_request *req,
    uint32_t id)
{
	return (client_queue_check_flags(h, req, id, 0));
}

/* The same with extra CHECK flags (the explanation's). */
static int
client_queue_check_flags(struct kmsauthz *h,
    const struct kmsauthz_request *req, uint32_t id, uint8_t extra)
{
	struct proto_check	c;
	struct proto_wr		w;
	size_t			start;
	int			err;

	if ((err = client_request_to_check(req, &c)) != 0)
		return (err);
	c.flags |= extra;
	client_min_gen(h, &c);
	proto_wr_init(&w, NULL, 0);
	start = proto_frame_begin(&w, KMSAUTHZ_MSG_CHECK, id);
	proto_check_encode(&w, &c);
	proto_frame_end(&w, start);
	if (w.err != 0)
		return (w.err == KMSAUTHZ_ETOOBIG ? KMSAUTHZ_EINVAL : w.err);
	if (w.off - KMSAUTHZ_HDR_SIZE > KMSAUTHZ_MAX_QUERY_BODY)
		return (KMSAUTHZ_EINVAL);
	if ((err = client_reserve_out(h, w.off)) != 0)
		return (err);
	proto_wr_init(&w, h->out + h->outlen, h->outcap - h->outlen);
	start = proto_frame_begin(&w, KMSAUTHZ_MSG_CHECK, id);
	proto_check_encode(&w, &c);
	proto_frame_end(&w, start);
	if (w.err != 0)
		return (KMSAUTHZ_EINVAL);
	h->outlen += w.off;
	return (0);
}

/* HELLO (with a body), PING and STATUS (empty). */
static int
client_queue_simple(struct kmsauthz *h, uint16_t type, uint32_t id,
    const struct proto_hello *hello)
{
	struct proto_wr	w;
	size_t		start;
	int		err;

	if ((err = client_reserve_out(h, KMSAUTHZ_HDR_SIZE + 4)) != 0)
		return (err);
	proto_wr_init(&w, h->out + h->outlen, h->outcap - h->outlen);
	start = proto_frame_begin(&w, type, id);
	if (hello != NULL)
		proto_hello_encode(&w, hello);
	proto_frame_end(&w, start);
	if (w.err != 0)
		return (KMSAUTHZ_EINVAL);
	h->outlen += w.off;
	return (0);
}

/* Writes what the socket takes: 0 all written, EAGAIN some left. */
static int
client_write(struct kmsauthz *h)
{
	ssize_t	n;

	while (h->outoff < h->outlen) {
		n = send(h->fd, h->out + h->outoff, h->outlen - h->outoff,
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (KMSAUTHZ_EAGAIN);
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return (KMSAUTHZ_ECLOSED);
		if (n <= 0)
			return (KMSAUTHZ_EIO);
		h->outoff += (size_t)n;
	}
	h->outoff = h->outlen = 0;
	return (0);
}

/* Input. */

/*
 * Reads what is available into the input buffer: 0 something read,
 * EAGAIN nothing there, ECLOSED end of stream, EIO.
 */
static int
client_read_some(struct kmsauthz *h)
{
	ssize_t	n;

	if (h->inskip > 0) {
		memmove(h->in, h->in + h->inskip, h->inlen - h->inskip);
		h->inlen -= h->inskip;
		h->inskip = 0;
	}
	if (h->inlen == h->incap)
		return (0);	/* full: a frame is waiting to be parsed */
	for (;;) {
		n = recv(h->fd, h->in + h->inlen, h->incap - h->inlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (KMSAUTHZ_EAGAIN);
		if (n < 0 && errno == ECONNRESET)
			return (KMSAUTHZ_ECLOSED);
		if (n < 0)
			return (KMSAUTHZ_EIO);
		if (n == 0)
			return (KMSAUTHZ_ECLOSED);
		h->inlen += (size_t)n;
		return (0);
	}
}

/*
 * Takes the next whole frame out of the input buffer: 0 with *hdr and
 * *body set (valid until the next read), EAGAIN when incomplete, or a
 * protocol error.  The header is checked, and the buffer grown, before
 * the body is waited for.
 */
static int
client_next_frame(struct kmsauthz *h, struct proto_hdr *hdr,
    const uint8_t **body)
{
	const uint8_t	*p = h->in + h->inskip;
	size_t		 avail = h->inlen - h->inskip, need;
	uint8_t		*q;
	int		 err;

	if (avail < KMSAUTHZ_HDR_SIZE)
		return (KMSAUTHZ_EAGAIN);
	if ((err = proto_hdr_decode(p, avail, hdr)) != 0)
		return (err);
	switch (hdr->type) {
	case KMSAUTHZ_MSG_HELLO_REPLY:
	case KMSAUTHZ_MSG_PONG:
	case KMSAUTHZ_MSG_STATUS_REPLY:
	case KMSAUTHZ_MSG_ANSWER:
	case KMSAUTHZ_MSG_BATCH_ANSWER:
	case KMSAUTHZ_MSG_ERROR:
		break;
	default:
		return (KMSAUTHZ_EPROTO);	/* not a reply we take */
	}
	need = KMSAUTHZ_HDR_SIZE + (size_t)hdr->len;
	if (avail < need) {
		if (need > h->incap) {
			/* need is bounded by proto_body_max(). */
			if (h->inskip > 0) {
				memmove(h->in, p, avail);
				h->inlen = avail;
				h->inskip = 0;
			}
			if ((q = realloc(h->in, need)) == NULL)
				return (KMSAUTHZ_ENOMEM);
			h->in = q;
			h->incap = need;
		}
		return (KMSAUTHZ_EAGAIN);
	}
	*body = p + KMSAUTHZ_HDR_SIZE;
	h->inskip += need;
	if (h->inskip == h->inlen)
		h->inskip = h->inlen = 0;	/* body stays readable */
	return (0);
}

/* Blocks (until the deadline) for the next frame, writing meanwhile. */
static int
client_recv_frame(struct kmsauthz *h, int64_t deadline,
    struct proto_hdr *hdr, const uint8_t **body)
{
	short	events;
	int	err;

	for (;;) {
		err = client_next_frame(h, hdr, body);
		if (err != KMSAUTHZ_EAGAIN)
			return (err);
		if (h->outoff < h->outlen) {
			err = client_write(h);
			if (err != 0 && err != KMSAUTHZ_EAGAIN)
				return (err);
		}
		err = client_read_some(h);
		if (err == 0)
			continue;
		if (err != KMSAUTHZ_EAGAIN)
			return (err);
		events = POLLIN;
		if (h->outoff < h->outlen)
			events |= POLLOUT;
		if ((err = client_wait_fd(h, events, deadline)) != 0)
			return (err);
	}
}

/*
 * The next frame must be the reply of type want to request id; an ERROR
 * is recorded and reported as ESERVER (ESTALE, EVERSION).
 */
static int
client_expect(struct kmsauthz *h, uint32_t id, uint16_t want,
    int64_t deadline, struct proto_hdr *hdr, const uint8_t **body)
{
	int	err;

	if ((err = client_recv_frame(h, deadline, hdr, body)) != 0)
		return (err);
	if (hdr->type == KMSAUTHZ_MSG_ERROR) {
		err = client_server_error(h, *body, hdr->len);
		/* STALE answers this request only: then it must be ours. */
		if (err == KMSAUTHZ_ESTALE && hdr->id != id)
			return (KMSAUTHZ_EPROTO);
		return (err);
	}
	if (hdr->type != want || (id != 0 && hdr->id != id))
		return (KMSAUTHZ_EPROTO);
	return (0);
}

/*
 * An ERROR frame recorded for kmsauthz_server_error(): ESTALE for STALE
 * (a deny, the connection still usable), EVERSION, else ESERVER.
 */
static int
client_server_error(struct kmsauthz *h, const uint8_t *body, size_t len)
{
	struct proto_error	e;

	if (proto_error_decode(body, len, &e) != 0)
		return (KMSAUTHZ_EPROTO);
	h->srv_code = e.code;
	if (e.message.len > 0)
		memcpy(h->srv_msg, e.message.ptr, e.message.len);
	h->srv_msg[e.message.len] = '\0';
	if (e.code == KMSAUTHZ_WERR_STALE)
		return (KMSAUTHZ_ESTALE);
	return (e.code == KMSAUTHZ_WERR_VERSION ? KMSAUTHZ_EVERSION :
	    KMSAUTHZ_ESERVER);
}

/* A single request's failure: STALE leaves the handle usable. */
static int
client_fail_check(struct kmsauthz *h, int err)
{
	if (err == KMSAUTHZ_ESTALE)
		return (err);
	return (client_fail(h, err));
}

static void
client_zero_answers(struct kmsauthz_answer *a, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		kmsauthz_answer_free(&a[i]);
}

void
kmsauthz_answer_free(struct kmsauthz_answer *ans)
{
	if (ans == NULL)
		return;
	free(ans->statements);
	memset(ans, 0, sizeof(*ans));
}

static void
client_fill_statement(const struct proto_match *m,
    struct kmsauthz_statement *st)
{
	st->kind = m->kind;
	snprintf(st->source, sizeof(st->source), "%s/%.*s",
	    m->kind == KMSAUTHZ_SOURCE_KEY ? "key" : "policy",
	    (int)m->name.len, m->name.ptr);
	st->index = m->index;
	st->has_sid = (m->flags & KMSAUTHZ_MATCH_HAS_SID) != 0;
	if (m->sid.len > 0)
		memcpy(st->sid, m->sid.ptr, m->sid.len);
	st->sid[m->sid.len] = '\0';
}

int
client_fill_answer(const struct proto_answer *pa, uint32_t id,
    struct kmsauthz_answer *ans)
{
	struct kmsauthz_statement	*st;
	size_t				 i;

	memset(ans, 0, sizeof(*ans));
	if (pa->nmatch > 0) {
		if ((st = calloc(pa->nmatch, sizeof(*st))) == NULL)
			return (KMSAUTHZ_ENOMEM);
		for (i = 0; i < pa->nmatch; i++)
			client_fill_statement(&pa->match[i], &st[i]);
		ans->statements = st;
		ans->nstatements = pa->nmatch;
	}
	ans->request_id = id;
	ans->generation = pa->generation;
	ans->truncated = (pa->flags & KMSAUTHZ_ANSWER_TRUNCATED) != 0;
	ans->reason = pa->reason;
	/* Last, once everything else succeeded. */
	ans->decision = pa->decision;
	return (0);
}

/* Synchronous calls. */

int
kmsauthz_hello(struct kmsauthz *h, int *versionp)
{
	struct proto_hello		 hello;
	struct proto_hello_reply	 r;
	struct proto_hdr		 hdr;
	const uint8_t			*body;
	uint32_t			 id;
	int				 err;

	if (versionp != NULL)
		*versionp = 0;
	if ((err = client_usable(h)) != 0)
		return (err);
	if (h->inflight > 0)
		return (KMSAUTHZ_EBUSY);
	hello.min_version = KMSAUTHZ_PROTO_VERSION;
	hello.max_version = KMSAUTHZ_PROTO_VERSION;
	id = client_take_id(h);
	if ((err = client_queue_simple(h, KMSAUTHZ_MSG_HELLO, id,
	    &hello)) != 0)
		return (err);
	if ((err = client_expect(h, id, KMSAUTHZ_MSG_HELLO_REPLY,
	    client_deadline(h), &hdr, &body)) != 0)
		return (client_fail(h, err));
	if (proto_hello_reply_decode(body, hdr.len, &r) != 0)
		return (client_fail(h, KMSAUTHZ_EPROTO));
	if (r.version != KMSAUTHZ_PROTO_VERSION)
		return (client_fail(h, KMSAUTHZ_EVERSION));
	if (versionp != NULL)
		*versionp = r.version;
	return (0);
}

int
kmsauthz_ping(struct kmsauthz *h)
{
	struct proto_hdr	 hdr;
	const uint8_t		*body;
	uint32_t		 id;
	int			 err;

	if ((err = client_usable(h)) != 0)
		return (err);
	if (h->inflight > 0)
		return (KMSAUTHZ_EBUSY);
	id = client_take_id(h);
	if ((err = client_queue_simple(h, KMSAUTHZ_MSG_PING, id, NULL)) != 0)
		return (err);
	if ((err = client_expect(h, id, KMSAUTHZ_MSG_PONG, client_deadline(h),
	    &hdr, &body)) != 0)
		return (client_fail(h, err));
	if (proto_empty_decode(body, hdr.len) != 0)
		return (client_fail(h, KMSAUTHZ_EPROTO));
	return (0);
}

int
kmsauthz_status(struct kmsauthz *h, struct kmsauthz_status *st)
{
	struct proto_status	 s;
	struct proto_hdr	 hdr;
	const uint8_t		*body;
	uint32_t		 id;
	int			 err;

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (st == NULL)
		return (KMSAUTHZ_EINVAL);
	if ((err = client_usable(h)) != 0)
		return (err);
	if (h->inflight > 0)
		return (KMSAUTHZ_EBUSY);
	id = client_take_id(h);
	if ((err = client_queue_simple(h, KMSAUTHZ_MSG_STATUS, id,
	    NULL)) != 0)
		return (err);
	if ((err = client_expect(h, id, KMSAUTHZ_MSG_STATUS_REPLY,
	    client_deadline(h), &hdr, &body)) != 0)
		return (client_fail(h, err));
	if (proto_status_decode(body, hdr.len, &s) != 0)
		return (client_fail(h, KMSAUTHZ_EPROTO));
	st->generation = s.generation;
	st->uptime_sec = s.uptime_sec;
	st->checks = s.checks;
	st->errors = s.errors;
	st->keys = s.keys;
	st->aliases = s.aliases;
	st->policies = s.policies;
	st->users = s.users;
	st->groups = s.groups;
	st->roles = s.roles;
	st->connections = s.connections;
	st->proto_version = s.proto_version;
	if (s.software.len > 0)
		memcpy(st->version, s.software.ptr, s.software.len);
	st->version[s.software.len] = '\0';
	return (0);
}

int
kmsauthz_check(struct kmsauthz *h, const struct kmsauthz_request *req,
    struct kmsauthz_answer *ans)
{
	struct proto_hdr	 hdr;
	const uint8_t		*body;
	uint32_t		 id;
	int			 err;

	if (ans == NULL)
		return (KMSAUTHZ_EINVAL);
	memset(ans, 0, sizeof(*ans));
	if ((err = client_usable(h)) != 0)
		return (err);
	if (h->inflight > 0)
		return (KMSAUTHZ_EBUSY);
	id = client_take_id(h);
	if ((err = client_queue_check(h, req, id)) != 0)
		return (err);
	if ((err = client_expect(h, id, KMSAUTHZ_MSG_ANSWER,
	    client_deadline(h), &hdr, &body)) != 0)
		return (client_fail_check(h, err));
	if ((err = client_decode_answer(&hdr, body, ans)) != 0)
		return (client_fail(h, err));
	return (0);
}

/* The explanation of an ANSWER into *why (allocated lists). */
static int
client_fill_why(const struct proto_why *pw, struct kmsauthz_why *why)
{
	struct kmsauthz_half	*kh;
	size_t			 i, j;

	memset(why, 0, sizeof(*why));
	why->rule = pw->rule;
	why->misses_truncated = (pw->flags & KMSAUTHZ_WHY_TRUNCATED) != 0;
	for (i = 0; i < 2; i++) {
		kh = i == 0 ? &why->identity : &why->key_policy;
		kh->result = pw->half[i].result;
		kh->truncated = (pw->half[i].flags &
		    KMSAUTHZ_WHY_TRUNCATED) != 0;
		if (pw->half[i].n == 0)
			continue;
		if ((kh->statements = calloc(pw->half[i].n,
		    sizeof(*kh->statements))) == NULL)
			goto fail;
		kh->nstatements = pw->half[i].n;
		for (j = 0; j < pw->half[i].n; j++)
			client_fill_statement(&pw->half[i].stmt[j],
			    &kh->statements[j]);
	}
	if (pw->nmiss > 0) {
		if ((why->misses = calloc(pw->nmiss,
		    sizeof(*why->misses))) == NULL)
			goto fail;
		why->nmisses = pw->nmiss;
		for (i = 0; i < pw->nmiss; i++) {
			why->misses[i].half = pw->miss[i].half;
			why->misses[i].deny = pw->miss[i].deny;
			client_fill_statement(&pw->miss[i].stmt,
			    &why->misses[i].statement);
			memcpy(why->misses[i].why, pw->miss[i].why.ptr,
			    pw->miss[i].why.len);
			why->misses[i].why[pw->miss[i].why.len] = '\0';
		}
	}
	return (0);
fail:
	kmsauthz_why_free(why);
	return (KMSAUTHZ_ENOMEM);
}

void
kmsauthz_why_free(struct kmsauthz_why *why)
{
	if (why == NULL)
		return;
	free(why->identity.statements);
	free(why->key_policy.statements);
	free(why->misses);
	memset(why, 0, sizeof(*why));
}

int
kmsauthz_check_why(struct kmsauthz *h, const struct kmsauthz_request *req,
    int full, struct kmsauthz_answer *ans, struct kmsauthz_why *why)
{
	struct proto_answer		*pa;	/* large: not on the stack */
	struct proto_hdr		 hdr;
	const uint8_t			*body;
	uint32_t			 id;
	int				 err = 0;

	if (ans == NULL || why == NULL)
		return (KMSAUTHZ_EINVAL);
	memset(ans, 0, sizeof(*ans));
	memset(why, 0, sizeof(*why));
	if ((err = client_usable(h)) != 0)
		return (err);
	if (h->inflight > 0)
		return (KMSAUTHZ_EBUSY);
	id = client_take_id(h);
	if ((err = client_queue_check_flags(h, req, id,
	    KMSAUTHZ_CHECK_EXPLAIN | KMSAUTHZ_CHECK_WHY |
	    (full ? KMSAUTHZ_CHECK_WHY_FULL : 0))) != 0)
		return (err);
	if ((err = client_expect(h, id, KMSAUTHZ_MSG_ANSWER,
	    client_deadline(h), &hdr, &body)) != 0)
		return (client_fail_check(h, err));
	if ((pa = malloc(sizeof(*pa))) == NULL)
		return (client_fail(h, KMSAUTHZ_ENOMEM));
	if (proto_answer_decode(body, hdr.len, pa) != 0) {
		free(pa);
		return (client_fail(h, KMSAUTHZ_EPROTO));
	}
	/* A server that sent no explanation leaves *why zeroed (rule 0);
	 * the answer stands on its own. */
	if (((pa->flags & KMSAUTHZ_ANSWER_WHY) == 0 ||
	    (err = client_fill_why(&pa->why, why)) == 0) &&
	    (err = client_fill_answer(pa, hdr.id, ans)) != 0)
		kmsauthz_why_free(why);
	free(pa);
	return (err);
}

int
kmsauthz_check_batch(struct kmsauthz *h, const struct kmsauthz_request *reqs,
    size_t n, struct kmsauthz_answer *answers)
{
	struct proto_check	 c;
	struct proto_wr		 w;
	struct proto_hdr	 hdr;
	const uint8_t		*body;
	size_t			 i, start, size;
	uint32_t		 id;
	int			 err, pass;

	if (answers == NULL || n == 0 || n > KMSAUTHZ_MAX_BATCH ||
	    reqs == NULL) {
		/* Over the limit still reads as denied: the caller's n. */
		if (answers != NULL && n <= SIZE_MAX / sizeof(*answers))
			memset(answers, 0, n * sizeof(*answers));
		return (KMSAUTHZ_EINVAL);
	}
	memset(answers, 0, n * sizeof(*answers));
	if ((err = client_usable(h)) != 0)
		return (err);
	if (h->inflight > 0)
		return (KMSAUTHZ_EBUSY);
	id = client_take_id(h);
	/* Pass 0 counts, pass 1 writes into the reserved room. */
	size = 0;
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			proto_wr_init(&w, NULL, 0);
		else {
			if ((err = client_reserve_out(h, size)) != 0)
				return (err);
			proto_wr_init(&w, h->out + h->outlen, size);
		}
		start = proto_frame_begin(&w, KMSAUTHZ_MSG_CHECK_BATCH, id);
		proto_batch_encode_begin(&w, (uint16_t)n);
		for (i = 0; i < n; i++) {
			if ((err = client_request_to_check(&reqs[i], &c)) != 0)
				return (err);
			client_min_gen(h, &c);
			proto_check_encode(&w, &c);
		}
		proto_frame_end(&w, start);
		if (w.err != 0 ||
		    w.off - KMSAUTHZ_HDR_SIZE > KMSAUTHZ_MAX_QUERY_BODY)
			return (KMSAUTHZ_EINVAL);
		size = w.off;
	}
	h->outlen += size;
	if ((err = client_expect(h, id, KMSAUTHZ_MSG_BATCH_ANSWER,
	    client_deadline(h), &hdr, &body)) != 0)
		return (client_fail_check(h, err));
	if ((err = client_decode_batch(&hdr, body, n, answers)) != 0)
		return (client_fail(h, err));
	return (0);
}

int
client_decode_answer(const struct proto_hdr *hdr, const uint8_t *body,
    struct kmsauthz_answer *ans)
{
	struct proto_answer	pa;

	memset(ans, 0, sizeof(*ans));
	if (hdr->type != KMSAUTHZ_MSG_ANSWER ||
	    proto_answer_decode(body, hdr->len, &pa) != 0)
		return (KMSAUTHZ_EPROTO);
	return (client_fill_answer(&pa, hdr->id, ans));
}

int
client_decode_batch(const struct proto_hdr *hdr, const uint8_t *body,
    size_t n, struct kmsauthz_answer *answers)
{
	struct proto_answer	pa;
	struct proto_batch_rd	it;
	size_t			i;
	int			err = KMSAUTHZ_EPROTO;

	memset(answers, 0, n * sizeof(*answers));
	if (hdr->type != KMSAUTHZ_MSG_BATCH_ANSWER ||
	    proto_batch_answer_begin(&it, body, hdr->len) != 0 ||
	    it.count != n)
		return (KMSAUTHZ_EPROTO);
	for (i = 0; i < n; i++) {
		if (proto_batch_answer_next(&it, &pa) != 0) {
			err = KMSAUTHZ_EPROTO;
			goto fail;
		}
		if ((err = client_fill_answer(&pa, hdr->id, &answers[i])) != 0)
			goto fail;
	}
	if (proto_batch_end(&it) != 0) {
		err = KMSAUTHZ_EPROTO;
		goto fail;
	}
	return (0);
fail:
	client_zero_answers(answers, n);
	return (err);
}

int
kmsauthz_check_pipelined(struct kmsauthz *h,
    const struct kmsauthz_request *reqs, size_t n, size_t window,
    struct kmsauthz_answer *answers)
{
	struct proto_hdr	 hdr;
	const uint8_t		*body;
	uint8_t			*done = NULL;
	int64_t			 deadline;
	size_t			 sent = 0, got = 0, i;
	uint32_t		 base;
	int			 err;

	if (answers == NULL || reqs == NULL || n == 0) {
		if (answers != NULL)
			memset(answers, 0, n * sizeof(*answers));
		return (KMSAUTHZ_EINVAL);
	}
	memset(answers, 0, n * sizeof(*answers));
	if ((err = client_usable(h)) != 0)
		return (err);
	if (h->inflight > 0)
		return (KMSAUTHZ_EBUSY);
	if (n > UINT32_MAX / 2)
		return (KMSAUTHZ_EINVAL);
	/* Every request is checked first: nothing is sent on EINVAL. */
	for (i = 0; i < n; i++) {
		struct proto_check	c;

		if ((err = client_request_to_check(&reqs[i], &c)) != 0)
			return (err);
	}
	if (window == 0)
		window = CLIENT_WINDOW;
	if (window > KMSAUTHZ_MAX_INFLIGHT)
		window = KMSAUTHZ_MAX_INFLIGHT;
	if ((done = calloc(n, 1)) == NULL)
		return (KMSAUTHZ_ENOMEM);
	/* Ids base .. base+n-1, consecutive (0 skipped by wrapping). */
	base = h->next_id;
	if ((uint64_t)base + n > UINT32_MAX)
		base = 1;
	h->next_id = base + (uint32_t)n;
	deadline = client_deadline(h);
	while (got < n) {
		while (sent < n && sent - got < window) {
			err = client_queue_check(h, &reqs[sent],
			    base + (uint32_t)sent);
			if (err == KMSAUTHZ_EAGAIN)
				break;	/* output full: read first */
			if (err != 0)
				goto fail;
			sent++;
		}
		if ((err = client_recv_frame(h, deadline, &hdr, &body)) != 0)
			goto fail;
		if (hdr.type == KMSAUTHZ_MSG_ERROR) {
			/* Others are still in flight: all or nothing. */
			err = client_server_error(h, body, hdr.len);
			if (err == KMSAUTHZ_EVERSION)
				err = KMSAUTHZ_ESERVER;
			goto fail;
		}
		i = (uint32_t)(hdr.id - base);
		if (hdr.type != KMSAUTHZ_MSG_ANSWER || i >= sent || done[i]) {
			err = KMSAUTHZ_EPROTO;
			goto fail;
		}
		if ((err = client_decode_answer(&hdr, body, &answers[i])) != 0)
			goto fail;
		done[i] = 1;
		got++;
	}
	free(done);
	return (0);
fail:
	free(done);
	client_zero_answers(answers, n);
	return (client_fail(h, err));
}

/* Non-blocking API. */

int
kmsauthz_submit(struct kmsauthz *h, const struct kmsauthz_request *req,
    uint32_t *idp)
{
	struct client_slot	*s;
	uint32_t		 id;
	size_t			 tries;
	int			 err;

	if (idp != NULL)
		*idp = 0;
	if ((err = client_usable(h)) != 0)
		return (err);
	if (h->inflight >= KMSAUTHZ_MAX_INFLIGHT)
		return (KMSAUTHZ_EBUSY);
	/* A free slot exists; skip ids whose slot an old one holds. */
	for (tries = 0; tries <= CLIENT_SLOTS; tries++) {
		if (!h->slots[h->next_id % CLIENT_SLOTS].used)
			break;
		client_take_id(h);
	}
	id = h->next_id;
	s = &h->slots[id % CLIENT_SLOTS];
	if (s->used)
		return (KMSAUTHZ_EBUSY);
	if ((err = client_queue_check(h, req, id)) != 0)
		return (err);
	client_take_id(h);
	s->used = 1;
	s->id = id;
	h->inflight++;
	if (idp != NULL)
		*idp = id;
	err = client_write(h);
	if (err != 0 && err != KMSAUTHZ_EAGAIN)
		return (client_fail(h, err));
	return (0);
}

int
kmsauthz_flush(struct kmsauthz *h)
{
	int	err;

	if ((err = client_usable(h)) != 0)
		return (err);
	err = client_write(h);
	if (err != 0 && err != KMSAUTHZ_EAGAIN)
		return (client_fail(h, err));
	return (err);
}

int
kmsauthz_collect(struct kmsauthz *h, struct kmsauthz_answer *answers,
    size_t max, size_t *np)
{
	struct proto_hdr	 hdr;
	struct client_slot	*s;
	const uint8_t		*body;
	size_t			 n = 0;
	int			 err, rerr = 0;

	if (np != NULL)
		*np = 0;
	if (answers != NULL)
		memset(answers, 0, max * sizeof(*answers));
	if (np == NULL || (answers == NULL && max > 0))
		return (KMSAUTHZ_EINVAL);
	if ((err = client_usable(h)) != 0)
		return (err);
	if (h->outoff < h->outlen) {
		err = client_write(h);
		if (err != 0 && err != KMSAUTHZ_EAGAIN)
			goto fail;
	}
	while (n < max) {
		err = client_next_frame(h, &hdr, &body);
		if (err == KMSAUTHZ_EAGAIN) {
			if (rerr != 0)
				break;	/* nothing more to read now */
			rerr = client_read_some(h);
			if (rerr == KMSAUTHZ_EAGAIN)
				continue;	/* parse what is there */
			if (rerr != 0) {
				err = rerr;
				goto fail;
			}
			continue;
		}
		if (err != 0)
			goto fail;
		if (hdr.type == KMSAUTHZ_MSG_ERROR) {
			err = client_server_error(h, body, hdr.len);
			if (err == KMSAUTHZ_EVERSION)
				err = KMSAUTHZ_ESERVER;
			goto fail;
		}
		s = &h->slots[hdr.id % CLIENT_SLOTS];
		if (hdr.type != KMSAUTHZ_MSG_ANSWER || !s->used ||
		    s->id != hdr.id) {
			err = KMSAUTHZ_EPROTO;
			goto fail;
		}
		if ((err = client_decode_answer(&hdr, body, &answers[n])) != 0)
			goto fail;
		s->used = 0;
		h->inflight--;
		n++;
		rerr = 0;
	}
	*np = n;
	return (0);
fail:
	/*
	 * Answers already complete stay valid (they are whole, checked
	 * answers); the ones still in flight are lost.
	 */
	*np = n;
	h->inflight = 0;
	memset(h->slots, 0, sizeof(h->slots));
	return (client_fail(h, err));
}

/* SPDX-License-Identifier: ISC */
/*
 * echo-server: the benchmark's floor.  A trivial single-threaded epoll
 * server speaking protocol v1 framing: it checks each frame header and
 * answers every CHECK with one fixed ANSWER (without reading the body),
 * CHECK_BATCH with as many fixed answers, PING, HELLO and STATUS too.
 * Anything malformed gets an ERROR and the connection is closed after it.
 * It is also the stand-in daemon of kmsauthzctl's online tests.
 *
 * usage: echo-server -s PATH [-d allow|explicit|implicit|invalid] [-g GEN]
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/proto.h"

#define ECHO_MAXEVENTS	64
#define ECHO_OUT_MAX	(8 * 1024 * 1024)	/* stop reading above this */

struct echo_conn {
	int		 fd;
	uint8_t		*in;
	size_t		 inlen;
	size_t		 incap;
	uint8_t		*out;
	size_t		 outlen;
	size_t		 outoff;
	size_t		 outcap;
	int		 closing;	/* close once out is flushed */
};

static volatile sig_atomic_t	 echo_quit;
static uint8_t			 echo_answer[KMSAUTHZ_ANSWER_FIXED_SIZE];
static int			 echo_epfd;

static void	echo_sig(int);
static int	echo_out(struct echo_conn *, const void *, size_t);
static int	echo_frame(struct echo_conn *, uint16_t, uint32_t,
		    const void *, size_t);
static void	echo_error(struct echo_conn *, uint32_t, uint16_t,
		    const char *);
static int	echo_dispatch(struct echo_conn *, const struct proto_hdr *,
		    const uint8_t *);
static void	echo_process(struct echo_conn *);
static int	echo_flush(struct echo_conn *);
static void	echo_close(struct echo_conn *);
static void	echo_update(struct echo_conn *);
static void	echo_usage(void);

static void
echo_sig(int sig)
{
	echo_quit = 1;
}

static int
echo_out(struct echo_conn *c, const void *p, size_t n)
{
	uint8_t	*q;
	size_t	 cap;

	if (c->outlen + n > c->outcap) {
		cap = c->outcap == 0 ? 65536 : c->outcap;
		while (cap < c->outlen + n)
			cap *= 2;
		if ((q = realloc(c->out, cap)) == NULL)
			return (-1);
		c->out = q;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
	return (0);
}

static int
echo_frame(struct echo_conn *c, uint16_t type, uint32_t id, const void *body,
    size_t len)
{
	struct proto_hdr	h;
	uint8_t			hb[KMSAUTHZ_HDR_SIZE];

	memset(&h, 0, sizeof(h));
	h.version = KMSAUTHZ_PROTO_VERSION;
	h.type = type;
	h.id = id;
	h.len = (uint32_t)len;
	proto_hdr_encode(hb, &h);
	if (echo_out(c, hb, sizeof(hb)) == -1 ||
	    (len > 0 && echo_out(c, body, len) == -1))
		return (-1);
	return (0);
}

static void
echo_error(struct echo_conn *c, uint32_t id, uint16_t code, const char *msg)
{
	struct proto_error	e;
	struct proto_wr		w;
	uint8_t			buf[KMSAUTHZ_MAX_ERROR_MESSAGE + 8];

	e.code = code;
	e.message.ptr = msg;
	e.message.len = strlen(msg);
	proto_wr_init(&w, buf, sizeof(buf));
	proto_error_encode(&w, &e);
	if (w.err == 0)
		echo_frame(c, KMSAUTHZ_MSG_ERROR, id, buf, w.off);
	c->closing = 1;
}

static int
echo_dispatch(struct echo_conn *c, const struct proto_hdr *h,
    const uint8_t *body)
{
	struct proto_hello_reply	 hr;
	struct proto_status		 st;
	struct proto_wr			 w;
	uint8_t				 buf[256], pre[4];
	uint16_t			 count, i;
	size_t				 start;

	switch (h->type) {
	case KMSAUTHZ_MSG_CHECK:
		return (echo_frame(c, KMSAUTHZ_MSG_ANSWER, h->id, echo_answer,
		    sizeof(echo_answer)));
	case KMSAUTHZ_MSG_CHECK_BATCH:
		if (h->len < 4)
			return (-2);
		count = (uint16_t)(body[0] << 8 | body[1]);
		if (count == 0 || count > KMSAUTHZ_MAX_BATCH)
			return (-2);
		pre[0] = body[0];
		pre[1] = body[1];
		pre[2] = pre[3] = 0;
		start = c->outlen;
		if (echo_frame(c, KMSAUTHZ_MSG_BATCH_ANSWER, h->id, pre,
		    sizeof(pre)) == -1)
			return (-1);
		for (i = 0; i < count; i++) {
			if (echo_out(c, echo_answer, sizeof(echo_answer)) == -1)
				return (-1);
		}
		/* Patch the body length in the header just written. */
		{
			uint32_t len = htobe32((uint32_t)(4 +
			    (size_t)count * sizeof(echo_answer)));

			memcpy(c->out + start + 12, &len, sizeof(len));
		}
		return (0);
	case KMSAUTHZ_MSG_PING:
		return (echo_frame(c, KMSAUTHZ_MSG_PONG, h->id, NULL, 0));
	case KMSAUTHZ_MSG_HELLO:
		hr.version = KMSAUTHZ_PROTO_VERSION;
		hr.software.ptr = "echo-server";
		hr.software.len = strlen(hr.software.ptr);
		proto_wr_init(&w, buf, sizeof(buf));
		proto_hello_reply_encode(&w, &hr);
		return (echo_frame(c, KMSAUTHZ_MSG_HELLO_REPLY, h->id, buf,
		    w.off));
	case KMSAUTHZ_MSG_STATUS:
		memset(&st, 0, sizeof(st));
		st.proto_version = KMSAUTHZ_PROTO_VERSION;
		st.software.ptr = "echo-server";
		st.software.len = strlen(st.software.ptr);
		proto_wr_init(&w, buf, sizeof(buf));
		proto_status_encode(&w, &st);
		return (echo_frame(c, KMSAUTHZ_MSG_STATUS_REPLY, h->id, buf,
		    w.off));
	default:
		return (-3);
	}
}

/* Answers every whole frame in the input buffer. */
static void
echo_process(struct echo_conn *c)
{
	struct proto_hdr	h;
	size_t			off = 0;
	int			err;

	while (!c->closing && c->inlen - off >= KMSAUTHZ_HDR_SIZE) {
		if ((err = proto_hdr_decode(c->in + off, c->inlen - off,
		    &h)) != 0) {
			echo_error(c, 0, proto_wire_error(err),
			    "malformed frame header");
			break;
		}
		/* Refused before its body is waited for. */
		if (!proto_type_is_query(h.type)) {
			echo_error(c, h.id, KMSAUTHZ_WERR_UNSUPPORTED,
			    "message type not taken on this socket");
			break;
		}
		if (c->inlen - off < KMSAUTHZ_HDR_SIZE + (size_t)h.len)
			break;
		err = echo_dispatch(c, &h, c->in + off + KMSAUTHZ_HDR_SIZE);
		if (err == -1) {
			c->closing = 1;
			break;
		}
		if (err == -2)
			echo_error(c, h.id, KMSAUTHZ_WERR_PROTO,
			    "malformed batch");
		else if (err == -3)
			echo_error(c, h.id, KMSAUTHZ_WERR_UNSUPPORTED,
			    "unsupported message type");
		off += KMSAUTHZ_HDR_SIZE + (size_t)h.len;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
}

static int
echo_flush(struct echo_conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return (-1);
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	return (0);
}

static void
echo_close(struct echo_conn *c)
{
	epoll_ctl(echo_epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void
echo_update(struct echo_conn *c)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.data.ptr = c;
	if (!c->closing && c->outlen - c->outoff < ECHO_OUT_MAX)
		ev.events |= EPOLLIN;
	if (c->outoff < c->outlen)
		ev.events |= EPOLLOUT;
	epoll_ctl(echo_epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
echo_usage(void)
{
	fprintf(stderr, "usage: echo-server -s PATH "
	    "[-d allow|explicit|implicit|invalid] [-g GENERATION]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct epoll_event	 ev, evs[ECHO_MAXEVENTS];
	struct sockaddr_un	 sun;
	struct proto_answer	 a;
	struct proto_wr		 w;
	struct echo_conn	*c, lc;
	struct sigaction	 sa;
	const char		*path = NULL;
	ssize_t			 n;
	int			 ch, lfd, fd, i, nev;

	memset(&a, 0, sizeof(a));
	a.decision = KMSAUTHZ_ALLOW;
	a.reason = KMSAUTHZ_REASON_ALLOWED_BY_IDENTITY_POLICY;
	a.generation = 1;
	while ((ch = getopt(argc, argv, "d:g:s:")) != -1) {
		switch (ch) {
		case 'd':
			if (strcmp(optarg, "allow") == 0) {
				a.decision = KMSAUTHZ_ALLOW;
				a.reason =
				    KMSAUTHZ_REASON_ALLOWED_BY_IDENTITY_POLICY;
			} else if (strcmp(optarg, "explicit") == 0) {
				a.decision = KMSAUTHZ_EXPLICIT_DENY;
				a.reason = KMSAUTHZ_REASON_EXPLICIT_DENY;
			} else if (strcmp(optarg, "implicit") == 0) {
				a.decision = KMSAUTHZ_IMPLICIT_DENY;
				a.reason = KMSAUTHZ_REASON_NO_MATCHING_ALLOW;
			} else if (strcmp(optarg, "invalid") == 0) {
				a.decision = KMSAUTHZ_IMPLICIT_DENY;
				a.reason = KMSAUTHZ_REASON_INVALID_REQUEST;
			} else
				echo_usage();
			break;
		case 'g':
			a.generation = strtoull(optarg, NULL, 10);
			break;
		case 's':
			path = optarg;
			break;
		default:
			echo_usage();
		}
	}
	if (path == NULL || optind != argc)
		echo_usage();
	proto_wr_init(&w, echo_answer, sizeof(echo_answer));
	proto_answer_encode(&w, &a);
	if (w.err != 0 || w.off != sizeof(echo_answer))
		return (1);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = echo_sig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "echo-server: %s: path too long\n", path);
		return (1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(lfd, 128) == -1) {
		fprintf(stderr, "echo-server: %s: %s\n", path, strerror(errno));
		return (1);
	}
	if ((echo_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return (1);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	memset(&lc, 0, sizeof(lc));
	lc.fd = lfd;
	ev.data.ptr = &lc;
	epoll_ctl(echo_epfd, EPOLL_CTL_ADD, lfd, &ev);

	while (!echo_quit) {
		nev = epoll_wait(echo_epfd, evs, ECHO_MAXEVENTS, 500);
		if (nev < 0 && errno == EINTR)
			continue;
		if (nev < 0)
			break;
		for (i = 0; i < nev; i++) {
			c = evs[i].data.ptr;
			if (c == &lc) {
				fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd == -1)
					continue;
				if ((c = calloc(1, sizeof(*c))) == NULL) {
					close(fd);
					continue;
				}
				c->fd = fd;
				c->incap = KMSAUTHZ_HDR_SIZE +
				    KMSAUTHZ_MAX_QUERY_BODY;
				if ((c->in = malloc(c->incap)) == NULL) {
					close(fd);
					free(c);
					continue;
				}
				memset(&ev, 0, sizeof(ev));
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(echo_epfd, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				n = recv(c->fd, c->in + c->inlen,
				    c->incap - c->inlen, 0);
				if (n == 0 || (n < 0 && errno != EAGAIN &&
				    errno != EINTR)) {
					echo_close(c);
					continue;
				}
				if (n > 0) {
					c->inlen += (size_t)n;
					echo_process(c);
				}
			}
			if (echo_flush(c) == -1 ||
			    (c->closing && c->outoff == c->outlen)) {
				echo_close(c);
				continue;
			}
			echo_update(c);
		}
	}
	close(lfd);
	unlink(path);
	return (0);
}

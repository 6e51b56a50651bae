/* SPDX-License-Identifier: ISC */
/*
 * test-client.c: libkmsauthz against a fake server thread on a temporary
 * socket: synchronous, batch, pipelined and non-blocking checks,
 * timeouts, a server closing mid-frame, malformed answers.  Whatever
 * goes wrong, the answer must read as denied.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kmsauthz.h"
#include "proto/proto.h"

/* How the fake server behaves. */
enum srv_mode {
	SRV_NORMAL,		/* answers everything correctly */
	SRV_REVERSE,		/* answers CHECKs in reverse, 8 at a time */
	SRV_SILENT,		/* reads, never answers */
	SRV_CLOSE_MID,		/* half an answer, then close */
	SRV_MALFORMED,		/* answers CHECK with srv_bad_bytes */
	SRV_ERROR,		/* answers with ERROR */
	SRV_BIG,		/* BATCH_ANSWER of the largest answers */
	SRV_V2,			/* HELLO_REPLY chooses version 2 */
	SRV_STALE		/* serves generation 5: STALE above it */
};

struct srv {
	char		 dir[64];
	char		 path[128];
	int		 lfd;
	enum srv_mode	 mode;
	int		 bad;		/* SRV_MALFORMED variant */
	pthread_t	 thread;
	int		 failed;	/* the server saw something wrong */
	unsigned	 frames;	/* frames received */
	uint64_t	 min_gen;	/* SRV_STALE: the last check's */
};

static int	readn(int, void *, size_t);
static int	writen(int, const void *, size_t);

static int
readn(int fd, void *buf, size_t n)
{
	uint8_t	*p = buf;
	ssize_t	 r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

static int
writen(int fd, const void *buf, size_t n)
{
	const uint8_t	*p = buf;
	ssize_t		 r;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

static struct proto_str
S(const char *s)
{
	struct proto_str	r;

	r.ptr = s;
	r.len = strlen(s);
	return (r);
}

/* The fake engine: alice may, bob is denied explicitly, others not. */
static void
srv_decide(const struct proto_check *c, struct proto_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->generation = 77;
	if (c->principal.len == 5 && memcmp(c->principal.ptr, "alice", 5) == 0) {
		a->decision = KMSAUTHZ_ALLOW;
		a->reason = KMSAUTHZ_REASON_ALLOWED_BY_IDENTITY_POLICY;
		if (c->flags & KMSAUTHZ_CHECK_EXPLAIN) {
			a->nmatch = 2;
			a->match[0].kind = KMSAUTHZ_SOURCE_POLICY;
			a->match[0].index = 1;
			a->match[0].name = S("p1");
			a->match[0].flags = KMSAUTHZ_MATCH_HAS_SID;
			a->match[0].sid = S("AllowAll");
			a->match[1].kind = KMSAUTHZ_SOURCE_KEY;
			a->match[1].index = 0;
			a->match[1].name = S("k1");
		}
	} else if (c->principal.len == 3 &&
	    memcmp(c->principal.ptr, "bob", 3) == 0) {
		a->decision = KMSAUTHZ_EXPLICIT_DENY;
		a->reason = KMSAUTHZ_REASON_EXPLICIT_DENY;
	} else {
		a->decision = KMSAUTHZ_IMPLICIT_DENY;
		a->reason = KMSAUTHZ_REASON_NO_MATCHING_ALLOW;
	}
	/* The action's length rides in the generation, to tell answers
	 * apart in the pipelined tests. */
	a->generation += c->action.len;
}

static size_t
srv_frame(uint8_t *buf, size_t cap, uint16_t type, uint32_t id,
    const struct proto_answer *a)
{
	struct proto_wr	w;
	size_t		start;

	proto_wr_init(&w, buf, cap);
	start = proto_frame_begin(&w, type, id);
	if (a != NULL)
		proto_answer_encode(&w, a);
	proto_frame_end(&w, start);
	return (w.err == 0 ? w.off : 0);
}

/* Sends one of the malformed answers to a CHECK with request id id. */
static int
srv_send_bad(struct srv *s, int fd, uint32_t id)
{
	struct proto_answer	a;
	struct proto_hdr	h;
	uint8_t			buf[512];
	size_t			n;
	uint32_t		v;

	memset(&a, 0, sizeof(a));
	a.decision = KMSAUTHZ_ALLOW;
	a.reason = KMSAUTHZ_REASON_ALLOWED_BY_KEY_POLICY;
	n = srv_frame(buf, sizeof(buf), KMSAUTHZ_MSG_ANSWER, id, &a);
	switch (s->bad) {
	case 0:		/* ALLOW with a deny reason */
		buf[16 + 1] = KMSAUTHZ_REASON_KEY_NOT_FOUND;
		break;
	case 1:		/* a trailing byte inside the body */
		buf[n] = 0;
		v = htobe32(13);
		memcpy(buf + 12, &v, 4);
		n++;
		break;
	case 2:		/* the wrong request id */
		v = htobe32(id + 1);
		memcpy(buf + 8, &v, 4);
		break;
	case 3:		/* a PONG instead of an ANSWER */
		buf[5] = KMSAUTHZ_MSG_PONG & 0xff;
		buf[4] = KMSAUTHZ_MSG_PONG >> 8;
		break;
	case 4:		/* a body length over the reply limit */
		v = htobe32(KMSAUTHZ_MAX_REPLY_BODY + 1);
		memcpy(buf + 12, &v, 4);
		break;
	case 5:		/* bad magic */
		buf[0] = 'X';
		break;
	case 6:		/* another version */
		buf[2] = 2;
		break;
	case 7:		/* a truncated body (length says 11) */
		v = htobe32(11);
		memcpy(buf + 12, &v, 4);
		n--;
		break;
	case 8:		/* a request type coming back */
		buf[4] = 0;
		buf[5] = KMSAUTHZ_MSG_CHECK;
		break;
	case 9:		/* decision 1 (ALLOW) with nmatch over the limit */
		buf[16 + 3] = KMSAUTHZ_MAX_MATCHED + 1;
		break;
	case 10:	/* an unknown decision */
		buf[16] = 7;
		break;
	case 11:	/* a malformed ERROR */
		memset(&h, 0, sizeof(h));
		h.version = 1;
		h.type = KMSAUTHZ_MSG_ERROR;
		h.id = id;
		h.len = 2;
		proto_hdr_encode(buf, &h);
		buf[16] = 0;
		buf[17] = 1;
		n = 18;
		break;
	default:
		return (-1);
	}
	return (writen(fd, buf, n));
}

static int
srv_answer_check(struct srv *s, int fd, const struct proto_hdr *h,
    const uint8_t *body)
{
	struct proto_check	c;
	struct proto_answer	a;
	uint8_t			buf[4096];
	size_t			n;

	if (proto_check_decode(body, h->len, &c) != 0)
		return (-1);
	srv_decide(&c, &a);
	if ((n = srv_frame(buf, sizeof(buf), KMSAUTHZ_MSG_ANSWER, h->id,
	    &a)) == 0)
		return (-1);
	return (writen(fd, buf, n));
}

static int
srv_answer_batch(struct srv *s, int fd, const struct proto_hdr *h,
    const uint8_t *body)
{
	static char		 name[KMSAUTHZ_MAX_SOURCE_NAME];
	static char		 sid[KMSAUTHZ_MAX_SID];
	struct proto_batch_rd	 it;
	struct proto_check	 c;
	struct proto_answer	 a;
	struct proto_wr		 w;
	uint8_t			*buf;
	size_t			 start, i;
	int			 rc;

	if ((buf = malloc(KMSAUTHZ_HDR_SIZE + KMSAUTHZ_MAX_REPLY_BODY)) == NULL)
		return (-1);
	memset(name, 'n', sizeof(name));
	memset(sid, 's', sizeof(sid));
	proto_wr_init(&w, buf, KMSAUTHZ_HDR_SIZE + KMSAUTHZ_MAX_REPLY_BODY);
	start = proto_frame_begin(&w, KMSAUTHZ_MSG_BATCH_ANSWER, h->id);
	if (proto_batch_begin(&it, body, h->len) != 0)
		goto bad;
	proto_batch_encode_begin(&w, it.count);
	while (it.done < it.count) {
		if (proto_batch_next(&it, &c) != 0)
			goto bad;
		srv_decide(&c, &a);
		if (s->mode == SRV_BIG) {
			a.decision = KMSAUTHZ_EXPLICIT_DENY;
			a.reason = KMSAUTHZ_REASON_EXPLICIT_DENY;
			a.flags = KMSAUTHZ_ANSWER_TRUNCATED;
			a.nmatch = KMSAUTHZ_MAX_MATCHED;
			for (i = 0; i < KMSAUTHZ_MAX_MATCHED; i++) {
				a.match[i].kind = KMSAUTHZ_SOURCE_KEY;
				a.match[i].flags = KMSAUTHZ_MATCH_HAS_SID;
				a.match[i].index = (uint32_t)i;
				a.match[i].name.ptr = name;
				a.match[i].name.len = sizeof(name);
				a.match[i].sid.ptr = sid;
				a.match[i].sid.len = sizeof(sid);
			}
		}
		proto_answer_encode(&w, &a);
	}
	if (proto_batch_end(&it) != 0)
		goto bad;
	proto_frame_end(&w, start);
	if (w.err != 0)
		goto bad;
	rc = writen(fd, buf, w.off);
	free(buf);
	return (rc);
bad:
	free(buf);
	return (-1);
}

static int
srv_simple(int fd, uint16_t type, uint32_t id, int v2)
{
	struct proto_wr			w;
	struct proto_status		st;
	struct proto_hello_reply	hr;
	uint8_t				buf[256];
	size_t				start;

	proto_wr_init(&w, buf, sizeof(buf));
	switch (type) {
	case KMSAUTHZ_MSG_PING:
		start = proto_frame_begin(&w, KMSAUTHZ_MSG_PONG, id);
		break;
	case KMSAUTHZ_MSG_HELLO:
		start = proto_frame_begin(&w, KMSAUTHZ_MSG_HELLO_REPLY, id);
		hr.version = v2 ? 2 : 1;
		hr.software = S("fake 1.0");
		proto_hello_reply_encode(&w, &hr);
		break;
	case KMSAUTHZ_MSG_STATUS:
		start = proto_frame_begin(&w, KMSAUTHZ_MSG_STATUS_REPLY, id);
		memset(&st, 0, sizeof(st));
		st.generation = 9;
		st.uptime_sec = 12;
		st.checks = 1000;
		st.keys = 3;
		st.policies = 4;
		st.connections = 1;
		st.proto_version = 1;
		st.software = S("fake 1.0");
		proto_status_encode(&w, &st);
		break;
	default:
		return (-1);
	}
	proto_frame_end(&w, start);
	return (w.err == 0 ? writen(fd, buf, w.off) : -1);
}

/*
 * SRV_STALE: every check must carry the handle's minimum generation
 * (each item of a batch); above 5, ERROR STALE, the connection kept.
 * 1 when answered here.
 */
static int
srv_stale(struct srv *s, int fd, const struct proto_hdr *h,
    const uint8_t *body)
{
	struct proto_batch_rd	it;
	struct proto_check	c;
	struct proto_error	e;
	struct proto_wr		w;
	uint8_t			buf[128];
	size_t			start;

	if (h->type == KMSAUTHZ_MSG_CHECK) {
		if (proto_check_decode(body, h->len, &c) != 0)
			s->failed = 1;
		s->min_gen = c.min_generation;
	} else if (h->type == KMSAUTHZ_MSG_CHECK_BATCH) {
		if (proto_batch_begin(&it, body, h->len) != 0)
			s->failed = 1;
		while (it.done < it.count) {
			if (proto_batch_next(&it, &c) != 0)
				s->failed = 1;
			if (it.done > 1 && c.min_generation != s->min_gen)
				s->failed = 1;
			s->min_gen = c.min_generation;
		}
	} else
		return (0);
	if (s->min_gen <= 5)
		return (0);
	proto_wr_init(&w, buf, sizeof(buf));
	start = proto_frame_begin(&w, KMSAUTHZ_MSG_ERROR, h->id);
	e.code = KMSAUTHZ_WERR_STALE;
	e.message = S("generation 6 not reached");
	proto_error_encode(&w, &e);
	proto_frame_end(&w, start);
	if (w.err != 0)
		s->failed = 1;
	/* A pipelining client gives up at the first: it may be gone. */
	(void)writen(fd, buf, w.off);
	return (1);
}

static void *
srv_main(void *arg)
{
	struct srv		*s = arg;
	struct proto_hdr	 h;
	struct proto_error	 e;
	struct proto_wr		 w;
	uint8_t			 hb[KMSAUTHZ_HDR_SIZE], *body = NULL;
	uint8_t			 ebuf[128];
	uint8_t			 held_body[8][4096];
	struct proto_hdr	 held[8];
	size_t			 nheld = 0, start, i;
	int			 fd;

	if ((fd = accept(s->lfd, NULL, NULL)) == -1) {
		s->failed = 1;
		return (NULL);
	}
	for (;;) {
		if (readn(fd, hb, sizeof(hb)) != 0)
			break;	/* the client closed */
		if (proto_hdr_decode(hb, sizeof(hb), &h) != 0) {
			s->failed = 1;
			break;
		}
		free(body);
		if ((body = malloc(h.len + 1)) == NULL) {
			s->failed = 1;
			break;
		}
		if (readn(fd, body, h.len) != 0) {
			/*
			 * A silent server's client closes with frames still
			 * half-flushed (the in-flight test fills the socket):
			 * a truncated last frame is then expected.
			 */
			if (s->mode != SRV_SILENT)
				s->failed = 1;
			break;
		}
		s->frames++;
		if (s->mode == SRV_SILENT)
			continue;
		if (s->mode == SRV_CLOSE_MID) {
			struct proto_answer	a;
			uint8_t			buf[64];

			memset(&a, 0, sizeof(a));
			a.decision = KMSAUTHZ_ALLOW;
			a.reason = KMSAUTHZ_REASON_ALLOWED_BY_KEY_POLICY;
			srv_frame(buf, sizeof(buf), KMSAUTHZ_MSG_ANSWER,
			    h.id, &a);
			writen(fd, buf, 20);	/* header + 4 bytes */
			break;
		}
		if (s->mode == SRV_ERROR) {
			proto_wr_init(&w, ebuf, sizeof(ebuf));
			start = proto_frame_begin(&w, KMSAUTHZ_MSG_ERROR, h.id);
			e.code = KMSAUTHZ_WERR_INTERNAL;
			e.message = S("no snapshot");
			proto_error_encode(&w, &e);
			proto_frame_end(&w, start);
			writen(fd, ebuf, w.off);
			break;
		}
		if (s->mode == SRV_STALE && srv_stale(s, fd, &h, body))
			continue;
		if (h.type == KMSAUTHZ_MSG_CHECK && s->mode == SRV_MALFORMED) {
			srv_send_bad(s, fd, h.id);
			break;
		}
		if (h.type == KMSAUTHZ_MSG_CHECK && s->mode == SRV_REVERSE) {
			if (h.len > sizeof(held_body[0])) {
				s->failed = 1;
				break;
			}
			held[nheld] = h;
			memcpy(held_body[nheld], body, h.len);
			if (++nheld < 8)
				continue;
			for (i = nheld; i-- > 0;) {
				if (srv_answer_check(s, fd, &held[i],
				    held_body[i]) != 0)
					s->failed = 1;
			}
			nheld = 0;
			continue;
		}
		switch (h.type) {
		case KMSAUTHZ_MSG_CHECK:
			if (srv_answer_check(s, fd, &h, body) != 0)
				s->failed = 1;
			break;
		case KMSAUTHZ_MSG_CHECK_BATCH:
			if (srv_answer_batch(s, fd, &h, body) != 0)
				s->failed = 1;
			break;
		default:
			if (srv_simple(fd, h.type, h.id,
			    s->mode == SRV_V2) != 0)
				s->failed = 1;
			break;
		}
	}
	/* Flush the rest in reverse mode. */
	for (i = nheld; i-- > 0;)
		srv_answer_check(s, fd, &held[i], held_body[i]);
	free(body);
	close(fd);
	return (NULL);
}

static struct srv *
srv_start(enum srv_mode mode, int bad)
{
	struct sockaddr_un	 sun;
	struct srv		*s;

	s = calloc(1, sizeof(*s));
	assert_non_null(s);
	snprintf(s->dir, sizeof(s->dir), "/tmp/test-client.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/q.sock", s->dir);
	s->mode = mode;
	s->bad = bad;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s->path, strlen(s->path));
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
	return (s);
}

static void
srv_stop(struct srv *s)
{
	int	failed;

	pthread_join(s->thread, NULL);
	close(s->lfd);
	unlink(s->path);
	rmdir(s->dir);
	failed = s->failed;
	free(s);
	assert_int_equal(failed, 0);
}

static struct kmsauthz *
connect_to(struct srv *s, int timeout_ms)
{
	struct kmsauthz	*h = NULL;

	assert_int_equal(kmsauthz_connect(&h, s->path, timeout_ms), 0);
	assert_non_null(h);
	return (h);
}

static void
request(struct kmsauthz_request *r, const char *principal)
{
	memset(r, 0, sizeof(*r));
	r->principal = principal;
	r->action = "kms:Encrypt";
	r->resource = "acs:kms:cn-hangzhou:123:key/k1";
}

static void
test_connect_errors(void **state)
{
	struct kmsauthz	*h = (struct kmsauthz *)1;
	char		 longpath[200];

	assert_int_equal(kmsauthz_connect(&h, "/nonexistent/q.sock", 100),
	    KMSAUTHZ_ECONNECT);
	assert_null(h);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(kmsauthz_connect(&h, longpath, 100), KMSAUTHZ_EINVAL);
	assert_int_equal(kmsauthz_connect(&h, "", 100), KMSAUTHZ_EINVAL);
	assert_int_equal(kmsauthz_connect(NULL, "/x", 100), KMSAUTHZ_EINVAL);
	kmsauthz_close(NULL);
}

static void
test_sync_check(void **state)
{
	struct srv		*s = srv_start(SRV_NORMAL, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	struct kmsauthz_request	 r;
	struct kmsauthz_answer	 a;
	struct kmsauthz_context	 ctx[2] = {
		{ "acs:SecureTransport", "true" }, { "k", "" } };
	uint8_t			 ip[4] = { 10, 0, 0, 1 };

	request(&r, "alice");
	assert_int_equal(kmsauthz_check(h, &r, &a), 0);
	assert_int_equal(a.decision, KMSAUTHZ_ALLOW);
	assert_int_equal(a.reason, KMSAUTHZ_REASON_ALLOWED_BY_IDENTITY_POLICY);
	assert_int_equal(a.generation, 77 + strlen("kms:Encrypt"));
	assert_int_equal(a.nstatements, 0);
	assert_null(a.statements);
	kmsauthz_answer_free(&a);

	/* Explained, with context, a source IP and a pinned time. */
	r.flags = KMSAUTHZ_CHECK_EXPLAIN | KMSAUTHZ_CHECK_TIME;
	r.time_sec = 1700000000;
	r.source_ip = ip;
	r.source_ip_len = 4;
	r.context = ctx;
	r.ncontext = 2;
	assert_int_equal(kmsauthz_check(h, &r, &a), 0);
	assert_int_equal(a.decision, KMSAUTHZ_ALLOW);
	assert_int_equal(a.nstatements, 2);
	assert_string_equal(a.statements[0].source, "policy/p1");
	assert_int_equal(a.statements[0].index, 1);
	assert_true(a.statements[0].has_sid);
	assert_string_equal(a.statements[0].sid, "AllowAll");
	assert_string_equal(a.statements[1].source, "key/k1");
	assert_int_equal(a.statements[1].kind, KMSAUTHZ_SOURCE_KEY);
	assert_false(a.statements[1].has_sid);
	assert_string_equal(a.statements[1].sid, "");
	assert_false(a.truncated);
	kmsauthz_answer_free(&a);
	assert_null(a.statements);

	request(&r, "bob");
	assert_int_equal(kmsauthz_check(h, &r, &a), 0);
	assert_int_equal(a.decision, KMSAUTHZ_EXPLICIT_DENY);
	assert_int_equal(a.reason, KMSAUTHZ_REASON_EXPLICIT_DENY);
	request(&r, "carol");
	assert_int_equal(kmsauthz_check(h, &r, &a), 0);
	assert_int_equal(a.decision, KMSAUTHZ_IMPLICIT_DENY);
	assert_int_equal(a.reason, KMSAUTHZ_REASON_NO_MATCHING_ALLOW);

	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_invalid_requests(void **state)
{
	struct srv		*s = srv_start(SRV_NORMAL, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	struct kmsauthz_request	 r;
	struct kmsauthz_answer	 a;
	struct kmsauthz_context	 ctx[KMSAUTHZ_MAX_CONTEXT + 1];
	static char		 big[KMSAUTHZ_MAX_PRINCIPAL + 2];
	uint8_t			 ip[16] = { 0 };
	size_t			 i;

	for (i = 0; i < KMSAUTHZ_MAX_CONTEXT + 1; i++) {
		ctx[i].key = "k";
		ctx[i].value = "v";
	}
	memset(big, 'x', sizeof(big) - 1);

	request(&r, NULL);
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_EINVAL);
	assert_int_equal(a.decision, KMSAUTHZ_IMPLICIT_DENY);
	request(&r, "alice");
	r.source_ip = ip;
	r.source_ip_len = 5;
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_EINVAL);
	r.source_ip = NULL;
	r.source_ip_len = 4;
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_EINVAL);
	request(&r, "alice");
	r.context = ctx;
	r.ncontext = KMSAUTHZ_MAX_CONTEXT + 1;
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_EINVAL);
	r.ncontext = 1;
	r.context = NULL;
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_EINVAL);
	request(&r, big);
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_EINVAL);
	big[KMSAUTHZ_MAX_PRINCIPAL] = '\0';	/* exactly the limit */
	assert_int_equal(kmsauthz_check(h, &r, &a), 0);
	assert_int_equal(a.decision, KMSAUTHZ_IMPLICIT_DENY);
	request(&r, "alice");
	r.flags = 0x80;
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_EINVAL);
	r.flags = KMSAUTHZ_CHECK_TIME;
	r.time_nsec = 1000000000;
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_EINVAL);
	assert_int_equal(kmsauthz_check(h, NULL, &a), KMSAUTHZ_EINVAL);
	assert_int_equal(kmsauthz_check(h, &r, NULL), KMSAUTHZ_EINVAL);
	assert_int_equal(kmsauthz_check(NULL, &r, &a), KMSAUTHZ_EINVAL);

	/* A refused request leaves the handle usable. */
	assert_int_equal(kmsauthz_ping(h), 0);
	request(&r, "alice");
	assert_int_equal(kmsauthz_check(h, &r, &a), 0);
	assert_int_equal(a.decision, KMSAUTHZ_ALLOW);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_ping_status_hello(void **state)
{
	struct srv		*s = srv_start(SRV_NORMAL, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	struct kmsauthz_status	 st;
	int			 v;

	assert_int_equal(kmsauthz_hello(h, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(kmsauthz_ping(h), 0);
	assert_int_equal(kmsauthz_status(h, &st), 0);
	assert_int_equal(st.generation, 9);
	assert_int_equal(st.uptime_sec, 12);
	assert_int_equal(st.checks, 1000);
	assert_int_equal(st.keys, 3);
	assert_int_equal(st.policies, 4);
	assert_int_equal(st.proto_version, 1);
	assert_string_equal(st.version, "fake 1.0");
	assert_int_equal(kmsauthz_status(h, NULL), KMSAUTHZ_EINVAL);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_batch(void **state)
{
	struct srv		*s = srv_start(SRV_NORMAL, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	struct kmsauthz_request	 r[3];
	struct kmsauthz_answer	 a[KMSAUTHZ_MAX_BATCH + 1];
	size_t			 i;

	request(&r[0], "alice");
	request(&r[1], "bob");
	request(&r[2], "carol");
	r[0].flags = KMSAUTHZ_CHECK_EXPLAIN;
	assert_int_equal(kmsauthz_check_batch(h, r, 3, a), 0);
	assert_int_equal(a[0].decision, KMSAUTHZ_ALLOW);
	assert_int_equal(a[0].nstatements, 2);
	assert_int_equal(a[1].decision, KMSAUTHZ_EXPLICIT_DENY);
	assert_int_equal(a[2].decision, KMSAUTHZ_IMPLICIT_DENY);
	for (i = 0; i < 3; i++)
		kmsauthz_answer_free(&a[i]);

	assert_int_equal(kmsauthz_check_batch(h, r, 0, a), KMSAUTHZ_EINVAL);
	memset(a, 0xa5, sizeof(a));
	assert_int_equal(kmsauthz_check_batch(h, r, KMSAUTHZ_MAX_BATCH + 1,
	    a), KMSAUTHZ_EINVAL);
	/* Refused for its size, every answer still reads as denied. */
	for (i = 0; i < KMSAUTHZ_MAX_BATCH + 1; i++) {
		assert_int_equal(a[i].decision, KMSAUTHZ_IMPLICIT_DENY);
		assert_null(a[i].statements);
	}
	r[1].principal = NULL;
	assert_int_equal(kmsauthz_check_batch(h, r, 3, a), KMSAUTHZ_EINVAL);
	for (i = 0; i < 3; i++)
		assert_int_equal(a[i].decision, KMSAUTHZ_IMPLICIT_DENY);
	/* Nothing was sent for the refused batch. */
	assert_int_equal(kmsauthz_ping(h), 0);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_big_batch(void **state)
{
	struct srv		*s = srv_start(SRV_BIG, 0);
	struct kmsauthz		*h = connect_to(s, 5000);
	struct kmsauthz_request	 r[KMSAUTHZ_MAX_BATCH];
	struct kmsauthz_answer	*a;
	size_t			 i;

	a = calloc(KMSAUTHZ_MAX_BATCH, sizeof(*a));
	assert_non_null(a);
	for (i = 0; i < KMSAUTHZ_MAX_BATCH; i++)
		request(&r[i], "alice");
	/* The reply is the largest a client accepts: the buffer grows. */
	assert_int_equal(kmsauthz_check_batch(h, r, KMSAUTHZ_MAX_BATCH, a), 0);
	for (i = 0; i < KMSAUTHZ_MAX_BATCH; i++) {
		assert_int_equal(a[i].decision, KMSAUTHZ_EXPLICIT_DENY);
		assert_int_equal(a[i].nstatements, KMSAUTHZ_MAX_MATCHED);
		assert_true(a[i].truncated);
		assert_int_equal(strlen(a[i].statements[31].source),
		    4 + KMSAUTHZ_MAX_SOURCE_NAME);
		assert_int_equal(strlen(a[i].statements[31].sid),
		    KMSAUTHZ_MAX_SID);
		kmsauthz_answer_free(&a[i]);
	}
	free(a);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_pipelined(void **state)
{
	struct srv		*s = srv_start(SRV_REVERSE, 0);
	struct kmsauthz		*h = connect_to(s, 5000);
	static const char	*who[3] = { "alice", "bob", "carol" };
	static const char	*act[4] = { "a", "bb", "ccc", "dddd" };
	struct kmsauthz_request	*r;
	struct kmsauthz_answer	*a;
	size_t			 n = 1000, i;

	r = calloc(n, sizeof(*r));
	a = calloc(n, sizeof(*a));
	assert_non_null(r);
	assert_non_null(a);
	for (i = 0; i < n; i++) {
		request(&r[i], who[i % 3]);
		r[i].action = act[i % 4];
	}
	/* The server answers out of order; ids put them back. */
	assert_int_equal(kmsauthz_check_pipelined(h, r, n, 16, a), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(a[i].decision, i % 3 == 0 ? KMSAUTHZ_ALLOW :
		    i % 3 == 1 ? KMSAUTHZ_EXPLICIT_DENY :
		    KMSAUTHZ_IMPLICIT_DENY);
		assert_int_equal(a[i].generation, 77 + (i % 4) + 1);
	}
	/* This server answers 8 at a time: a batch of exactly 8. */
	assert_int_equal(kmsauthz_check_pipelined(h, r, 8, 8, a), 0);
	assert_int_equal(a[3].decision, KMSAUTHZ_ALLOW);
	free(r);
	free(a);
	kmsauthz_close(h);
	srv_stop(s);
}

/* Collects up to 16 answers and checks them; returns how many. */
static size_t
nb_take(struct kmsauthz *h, uint32_t first, size_t n, int *seen)
{
	struct kmsauthz_answer	a[16];
	size_t			k, i, j;

	assert_int_equal(kmsauthz_collect(h, a, 16, &k), 0);
	for (j = 0; j < k; j++) {
		i = a[j].request_id - first;
		assert_true(i < n);
		assert_false(seen[i]);
		seen[i] = 1;
		assert_int_equal(a[j].decision, i % 3 == 0 ? KMSAUTHZ_ALLOW :
		    i % 3 == 1 ? KMSAUTHZ_EXPLICIT_DENY :
		    KMSAUTHZ_IMPLICIT_DENY);
		kmsauthz_answer_free(&a[j]);
	}
	return (k);
}

static void
test_nonblocking(void **state)
{
	struct srv		*s = srv_start(SRV_NORMAL, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	static const char	*who[3] = { "alice", "bob", "carol" };
	struct kmsauthz_request	 r;
	struct kmsauthz_answer	 a[16];
	struct pollfd		 pfd;
	uint32_t		 ids[300], first = 0;
	size_t			 n = 300, i, got = 0, k;
	int			 seen[300] = { 0 };

	assert_true(kmsauthz_fd(h) >= 0);
	for (i = 0; i < n; i++) {
		request(&r, who[i % 3]);
		assert_int_equal(kmsauthz_submit(h, &r, &ids[i]), 0);
		if (i == 0)
			first = ids[0];
		assert_int_equal(ids[i], first + i);
	}
	assert_int_equal(kmsauthz_inflight(h), n);
	/* A blocking call while checks are in flight is refused. */
	assert_int_equal(kmsauthz_ping(h), KMSAUTHZ_EBUSY);
	while (got < n) {
		pfd.fd = kmsauthz_fd(h);
		pfd.events = POLLIN;
		if (kmsauthz_want_write(h))
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 2000) <= 0)
			fail_msg("poll: got %zu inflight %zu", got,
			    kmsauthz_inflight(h));
		if (pfd.revents & POLLOUT) {
			int err = kmsauthz_flush(h);
			assert_true(err == 0 || err == KMSAUTHZ_EAGAIN);
		}
		/* Drain: a full array may leave answers buffered. */
		do {
			k = nb_take(h, first, n, seen);
			got += k;
		} while (k == 16);
	}
	assert_int_equal(kmsauthz_inflight(h), 0);
	/* Nothing left: collect returns 0 answers, and sync works again. */
	assert_int_equal(kmsauthz_collect(h, a, 16, &k), 0);
	assert_int_equal(k, 0);
	assert_int_equal(kmsauthz_ping(h), 0);
	assert_int_equal(kmsauthz_collect(h, a, 16, NULL), KMSAUTHZ_EINVAL);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_timeout(void **state)
{
	struct srv		*s = srv_start(SRV_SILENT, 0);
	struct kmsauthz		*h = connect_to(s, 100);
	struct kmsauthz_request	 r;
	struct kmsauthz_answer	 a;

	request(&r, "alice");
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_ETIMEDOUT);
	assert_int_equal(a.decision, KMSAUTHZ_IMPLICIT_DENY);
	/* The handle is broken now: a late answer cannot be misread. */
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_EBROKEN);
	assert_int_equal(a.decision, KMSAUTHZ_IMPLICIT_DENY);
	assert_int_equal(kmsauthz_ping(h), KMSAUTHZ_EBROKEN);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_close_mid_frame(void **state)
{
	struct srv		*s = srv_start(SRV_CLOSE_MID, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	struct kmsauthz_request	 r;
	struct kmsauthz_answer	 a;

	request(&r, "alice");
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_ECLOSED);
	assert_int_equal(a.decision, KMSAUTHZ_IMPLICIT_DENY);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_malformed_answers(void **state)
{
	struct srv		*s;
	struct kmsauthz		*h;
	struct kmsauthz_request	 r;
	struct kmsauthz_answer	 a[2];
	int			 bad, err;

	for (bad = 0; bad <= 11; bad++) {
		s = srv_start(SRV_MALFORMED, bad);
		h = connect_to(s, 2000);
		request(&r, "alice");
		err = kmsauthz_check(h, &r, &a[0]);
		if (err != KMSAUTHZ_EPROTO && err != KMSAUTHZ_ETOOBIG &&
		    err != KMSAUTHZ_EVERSION)
			fail_msg("malformed answer %d: %s", bad,
			    kmsauthz_strerror(err));
		assert_int_equal(a[0].decision, KMSAUTHZ_IMPLICIT_DENY);
		assert_null(a[0].statements);
		kmsauthz_close(h);
		srv_stop(s);

		/* The same through the pipelined API. */
		s = srv_start(SRV_MALFORMED, bad);
		h = connect_to(s, 2000);
		assert_true(kmsauthz_check_pipelined(h, &r, 1, 1, a) < 0);
		assert_int_equal(a[0].decision, KMSAUTHZ_IMPLICIT_DENY);
		kmsauthz_close(h);
		srv_stop(s);
	}
}

static void
test_malformed_nonblocking(void **state)
{
	struct srv		*s = srv_start(SRV_MALFORMED, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	struct kmsauthz_request	 r;
	struct kmsauthz_answer	 a[4];
	struct pollfd		 pfd;
	size_t			 k;
	int			 err;

	request(&r, "alice");
	assert_int_equal(kmsauthz_submit(h, &r, NULL), 0);
	for (;;) {
		pfd.fd = kmsauthz_fd(h);
		pfd.events = POLLIN;
		assert_true(poll(&pfd, 1, 2000) > 0);
		err = kmsauthz_collect(h, a, 4, &k);
		if (err != 0)
			break;
		assert_int_equal(k, 0);
	}
	assert_int_equal(err, KMSAUTHZ_EPROTO);
	assert_int_equal(k, 0);
	assert_int_equal(a[0].decision, KMSAUTHZ_IMPLICIT_DENY);
	assert_int_equal(kmsauthz_inflight(h), 0);
	assert_int_equal(kmsauthz_submit(h, &r, NULL), KMSAUTHZ_EBROKEN);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_server_error(void **state)
{
	struct srv		*s = srv_start(SRV_ERROR, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	struct kmsauthz_request	 r;
	struct kmsauthz_answer	 a;
	const char		*msg;

	request(&r, "alice");
	assert_int_equal(kmsauthz_check(h, &r, &a), KMSAUTHZ_ESERVER);
	assert_int_equal(a.decision, KMSAUTHZ_IMPLICIT_DENY);
	assert_int_equal(kmsauthz_server_error(h, &msg),
	    KMSAUTHZ_WERR_INTERNAL);
	assert_string_equal(msg, "no snapshot");
	kmsauthz_close(h);
	srv_stop(s);
}

/*
 * kmsauthz_set_min_generation: sent with every check and batch item;
 * STALE is ESTALE, a deny, and the handle stays usable.
 */
static void
test_min_generation(void **state)
{
	struct srv		*s = srv_start(SRV_STALE, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	struct kmsauthz_request	 r[2];
	struct kmsauthz_answer	 a[2];
	const char		*msg;

	request(&r[0], "alice");
	request(&r[1], "alice");
	assert_int_equal(kmsauthz_set_min_generation(NULL, 1),
	    KMSAUTHZ_EINVAL);
	assert_int_equal(kmsauthz_check(h, &r[0], &a[0]), 0);
	assert_int_equal(s->min_gen, 0);
	kmsauthz_answer_free(&a[0]);
	assert_int_equal(kmsauthz_set_min_generation(h, 5), 0);
	assert_int_equal(kmsauthz_check(h, &r[0], &a[0]), 0);
	assert_int_equal(s->min_gen, 5);
	assert_int_equal(a[0].decision, KMSAUTHZ_ALLOW);
	kmsauthz_answer_free(&a[0]);
	assert_int_equal(kmsauthz_set_min_generation(h, 6), 0);
	assert_int_equal(kmsauthz_check(h, &r[0], &a[0]), KMSAUTHZ_ESTALE);
	assert_int_equal(a[0].decision, KMSAUTHZ_IMPLICIT_DENY);
	assert_int_equal(kmsauthz_server_error(h, &msg), KMSAUTHZ_WERR_STALE);
	assert_string_equal(msg, "generation 6 not reached");
	assert_int_equal(kmsauthz_check_batch(h, r, 2, a), KMSAUTHZ_ESTALE);
	assert_int_equal(a[0].decision, KMSAUTHZ_IMPLICIT_DENY);
	assert_int_equal(a[1].decision, KMSAUTHZ_IMPLICIT_DENY);
	/* Still usable: the daemon kept the connection. */
	assert_int_equal(kmsauthz_ping(h), 0);
	assert_int_equal(kmsauthz_set_min_generation(h, 0), 0);
	assert_int_equal(kmsauthz_check_batch(h, r, 2, a), 0);
	assert_int_equal(s->min_gen, 0);
	kmsauthz_answer_free(&a[0]);
	kmsauthz_answer_free(&a[1]);
	/* Pipelined: all or nothing, the handle then broken. */
	assert_int_equal(kmsauthz_set_min_generation(h, 7), 0);
	assert_int_equal(kmsauthz_check_pipelined(h, r, 2, 0, a),
	    KMSAUTHZ_ESTALE);
	assert_int_equal(kmsauthz_ping(h), KMSAUTHZ_EBROKEN);
	assert_string_equal(kmsauthz_strerror(KMSAUTHZ_ESTALE),
	    "kmsauthzd did not reach the minimum generation in time");
	kmsauthz_close(h);
	assert_int_equal(s->failed, 0);
	srv_stop(s);
}

static void
test_hello_version(void **state)
{
	struct srv	*s = srv_start(SRV_V2, 0);
	struct kmsauthz	*h = connect_to(s, 2000);
	int		 v = -1;

	/* A daemon choosing a version we do not speak: refused. */
	assert_int_equal(kmsauthz_hello(h, &v), KMSAUTHZ_EVERSION);
	assert_int_equal(v, 0);
	assert_int_equal(kmsauthz_ping(h), KMSAUTHZ_EBROKEN);
	assert_int_equal(kmsauthz_set_timeout(h, 10), 0);
	assert_int_equal(kmsauthz_set_timeout(NULL, 10), KMSAUTHZ_EINVAL);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_inflight_limit(void **state)
{
	struct srv		*s = srv_start(SRV_SILENT, 0);
	struct kmsauthz		*h = connect_to(s, 2000);
	struct kmsauthz_request	 r;
	struct kmsauthz_answer	 a[4];
	size_t			 i, k;
	uint32_t		 id;
	int			 err;

	request(&r, "alice");
	for (i = 0; i < KMSAUTHZ_MAX_INFLIGHT; i++) {
		err = kmsauthz_submit(h, &r, &id);
		if (err == KMSAUTHZ_EAGAIN) {
			/* The socket is full: let the server read. */
			assert_int_equal(kmsauthz_flush(h) <= 0, 1);
			i--;
			continue;
		}
		assert_int_equal(err, 0);
	}
	assert_int_equal(kmsauthz_inflight(h), KMSAUTHZ_MAX_INFLIGHT);
	assert_int_equal(kmsauthz_submit(h, &r, &id), KMSAUTHZ_EBUSY);
	assert_int_equal(id, 0);
	/* A refused submit does not break the handle; nothing came back. */
	assert_int_equal(kmsauthz_collect(h, a, 4, &k), 0);
	assert_int_equal(k, 0);
	assert_int_equal(kmsauthz_check(h, &r, &a[0]), KMSAUTHZ_EBUSY);
	assert_int_equal(a[0].decision, KMSAUTHZ_IMPLICIT_DENY);
	kmsauthz_close(h);
	srv_stop(s);
}

static void
test_names(void **state)
{
	int	e;

	for (e = KMSAUTHZ_ERROR_MIN; e <= 0; e++)
		assert_string_not_equal(kmsauthz_strerror(e), "unknown error");
	assert_string_equal(kmsauthz_strerror(1), "unknown error");
	assert_string_equal(kmsauthz_strerror(KMSAUTHZ_ERROR_MIN - 1),
	    "unknown error");
	assert_string_equal(kmsauthz_decision_name(KMSAUTHZ_ALLOW), "ALLOW");
	assert_string_equal(kmsauthz_decision_name(KMSAUTHZ_IMPLICIT_DENY),
	    "IMPLICIT_DENY");
	assert_string_equal(kmsauthz_decision_name(KMSAUTHZ_EXPLICIT_DENY),
	    "EXPLICIT_DENY");
	assert_null(kmsauthz_decision_name(3));
	assert_string_equal(kmsauthz_reason_name(1),
	    "allowed-by-identity-policy");
	assert_string_equal(kmsauthz_reason_name(KMSAUTHZ_REASON_MAX),
	    "invalid-request");
	assert_string_equal(kmsauthz_reason_name(
	    KMSAUTHZ_REASON_CROSS_ACCOUNT_NEEDS_KEY_POLICY_ALLOW),
	    "cross-account-needs-key-policy-allow");
	assert_null(kmsauthz_reason_name(0));
	assert_null(kmsauthz_reason_name(KMSAUTHZ_REASON_MAX + 1));
	assert_null(kmsauthz_reason_name(-1));
}

static void
test_default_socket(void **state)
{
	assert_int_equal(setenv("KMSAUTHZ_SOCKET", "/tmp/x.sock", 1), 0);
	assert_string_equal(kmsauthz_default_socket(), "/tmp/x.sock");
	assert_int_equal(setenv("KMSAUTHZ_SOCKET", "", 1), 0);
	assert_non_null(strstr(kmsauthz_default_socket(),
	    "/kmsauthzd/query.sock"));
	assert_int_equal(unsetenv("KMSAUTHZ_SOCKET"), 0);
	assert_non_null(strstr(kmsauthz_default_socket(),
	    "/kmsauthzd/query.sock"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_sync_check),
		cmocka_unit_test(test_invalid_requests),
		cmocka_unit_test(test_ping_status_hello),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_big_batch),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_nonblocking),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_close_mid_frame),
		cmocka_unit_test(test_malformed_answers),
		cmocka_unit_test(test_malformed_nonblocking),
		cmocka_unit_test(test_server_error),
		cmocka_unit_test(test_min_generation),
		cmocka_unit_test(test_hello_version),
		cmocka_unit_test(test_inflight_limit),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_default_socket),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

/* SPDX-License-Identifier: ISC */
/*
 * kzclient.c: a raw protocol client for the end-to-end tests.  It speaks
 * frames directly (with the codec, not libkmsauthz) so that tests can
 * send what a well-behaved library never would.
 *
 *	kzclient ping SOCK
 *	kzclient status SOCK			prints key=value lines
 *	kzclient admin SOCK JSON		prints the response JSON
 *	kzclient admin SOCK JSON SK FRAME	the same, signed with the secret
 *						key in file SK, the frame kept
 *	kzclient admin-replay SOCK FRAME	sends a kept frame again
 *	kzclient check SOCK P A R [IP]		prints DECISION reason gen
 *	kzclient send SOCK HEX			raw bytes, prints the outcome
 *	kzclient malformed QSOCK ASOCK		the malformed-frame table (TAP)
 *	kzclient many SOCK N			N concurrent connections
 *	kzclient slow SOCK SECONDS		a reader that stops reading
 *	kzclient hold SOCK SECONDS		one connection, pinged each 100ms
 *	kzclient trickle SOCK MS		a PING, one byte each MS ms
 *	kzclient flood SOCK K N			K clients pipeline N PINGs each
 *	kzclient drain SOCK N GOFILE		N CHECKs unread until GOFILE
 *	kzclient pipe SOCK P A R ITEM...	ITEMs pipelined in one write, ids
 *						1.., then one line per reply
 *
 * pipe's ITEMs: "check" (P A R), "check@N" (with the minimum generation
 * N), "batch@N" (two checks, the second with minimum N), "ping", and
 * "ext:HEX" (a check with the MIN_GEN flag whose extension bytes are
 * HEX, to send malformed ones).  Replies print as "ID ANSWER DECISION
 * GEN", "ID BATCH COUNT GEN", "ID PONG", "ID ERROR CODE MESSAGE"; then
 * "CLOSED" if the daemon closed.  KZ_TIMEOUT_MS bounds each read.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "proto/proto.h"

#define KZ_TIMEOUT_MS	5000

struct kz_frame {
	struct proto_hdr	 hdr;
	uint8_t			*body;
};

static int	kz_connect(const char *);
static int	kz_write(int, const void *, size_t);
static int	kz_read_full(int, void *, size_t, int);
static int	kz_read_frame(int, struct kz_frame *, int);
static int	kz_send_simple(int, uint16_t, uint32_t);
static int	kz_send_check(int, uint32_t, const char *, const char *,
		    const char *, const char *);
static int	kz_ping(int, uint32_t);
static size_t	kz_hex(const char *, uint8_t *, size_t);
static int	kz_closed_soon(int, int);
static int	cmd_ping(int, char **);
static int	cmd_status(int, char **);
static int	cmd_admin(int, char **);
static int	cmd_admin_replay(int, char **);
static int	kz_admin_exchange(int, const uint8_t *, size_t);
static int	cmd_check(int, char **);
static int	cmd_send(int, char **);
static int	cmd_malformed(int, char **);
static int	cmd_many(int, char **);
static int	cmd_slow(int, char **);
static int	cmd_hold(int, char **);
static int	cmd_trickle(int, char **);
static int	cmd_flood(int, char **);
static int	cmd_drain(int, char **);
static int	cmd_pipe(int, char **);

static int
kz_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (-1);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
kz_write(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* 0 ok, -1 error, -2 EOF, -3 timeout. */
static int
kz_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd	 pfd;
	uint8_t		*p = buf;
	ssize_t		 n;
	int		 r;

	while (len > 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
			continue;
		if (r == 0)
			return (-3);
		if (r == -1)
			return (-1);
		n = recv(fd, p, len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			return (-2);
		if (n == -1)
			return (errno == ECONNRESET ? -2 : -1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

static int
kz_read_frame(int fd, struct kz_frame *f, int timeout_ms)
{
	uint8_t	hdr[KMSAUTHZ_HDR_SIZE];
	int	r;

	memset(f, 0, sizeof(*f));
	if ((r = kz_read_full(fd, hdr, sizeof(hdr), timeout_ms)) != 0)
		return (r);
	/* Replies may exceed the request limits: check only the size. */
	(void)proto_hdr_decode(hdr, sizeof(hdr), &f->hdr);
	memcpy(&f->hdr.len, hdr + 12, 4);
	f->hdr.len = ntohl(f->hdr.len);
	memcpy(&f->hdr.id, hdr + 8, 4);
	f->hdr.id = ntohl(f->hdr.id);
	f->hdr.type = (uint16_t)(hdr[4] << 8 | hdr[5]);
	if (f->hdr.len > KMSAUTHZ_MAX_ADMIN_REPLY_BODY)
		return (-1);
	if ((f->body = malloc(f->hdr.len + 1)) == NULL)
		return (-1);
	if ((r = kz_read_full(fd, f->body, f->hdr.len, timeout_ms)) != 0) {
		free(f->body);
		f->body = NULL;
		return (r);
	}
	return (0);
}

static int
kz_send_simple(int fd, uint16_t type, uint32_t id)
{
	uint8_t			buf[64];
	struct proto_wr		wr;
	struct proto_hello	h;
	size_t			start;

	proto_wr_init(&wr, buf, sizeof(buf));
	start = proto_frame_begin(&wr, type, id);
	if (type == KMSAUTHZ_MSG_HELLO) {
		h.min_version = 1;
		h.max_version = 1;
		proto_hello_encode(&wr, &h);
	}
	proto_frame_end(&wr, start);
	if (wr.err != 0)
		return (-1);
	return (kz_write(fd, buf, wr.off));
}

static int
kz_send_check(int fd, uint32_t id, const char *p, const char *a,
    const char *r, const char *ip)
{
	static uint8_t		buf[8192];
	struct proto_wr		wr;
	struct proto_check	c;
	size_t			start;

	memset(&c, 0, sizeof(c));
	c.principal.ptr = p;
	c.principal.len = strlen(p);
	c.action.ptr = a;
	c.action.len = strlen(a);
	c.resource.ptr = r;
	c.resource.len = strlen(r);
	if (ip != NULL) {
		if (inet_pton(AF_INET, ip, c.ip) == 1)
			c.ip_len = 4;
		else if (inet_pton(AF_INET6, ip, c.ip) == 1)
			c.ip_len = 16;
		else
			return (-1);
	}
	proto_wr_init(&wr, buf, sizeof(buf));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_CHECK, id);
	proto_check_encode(&wr, &c);
	proto_frame_end(&wr, start);
	if (wr.err != 0)
		return (-1);
	return (kz_write(fd, buf, wr.off));
}

/* 0 when a PONG with the id comes back. */
static int
kz_ping(int fd, uint32_t id)
{
	struct kz_frame	f;
	int		ok;

	if (kz_send_simple(fd, KMSAUTHZ_MSG_PING, id) == -1)
		return (-1);
	if (kz_read_frame(fd, &f, KZ_TIMEOUT_MS) != 0)
		return (-1);
	ok = f.hdr.type == KMSAUTHZ_MSG_PONG && f.hdr.id == id &&
	    f.hdr.len == 0;
	free(f.body);
	return (ok ? 0 : -1);
}

static size_t
kz_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t		n = 0;
	unsigned	v;

	while (*s != '\0' && n < cap) {
		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return (n);
}

/* 1 when the peer closes within timeout_ms (data before EOF is read). */
static int
kz_closed_soon(int fd, int timeout_ms)
{
	uint8_t	buf[4096];
	struct pollfd pfd;
	ssize_t	n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return (0);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return (1);
		if (n == -1)
			return (0);
	}
}

static int
cmd_ping(int argc, char **argv)
{
	int	fd, r;

	if (argc != 3 || (fd = kz_connect(argv[2])) == -1)
		return (1);
	r = kz_ping(fd, 7);
	close(fd);
	return (r == 0 ? 0 : 1);
}

static int
cmd_status(int argc, char **argv)
{
	struct kz_frame		f;
	struct proto_status	st;
	int			fd;

	if (argc != 3 || (fd = kz_connect(argv[2])) == -1)
		return (1);
	if (kz_send_simple(fd, KMSAUTHZ_MSG_STATUS, 9) == -1 ||
	    kz_read_frame(fd, &f, KZ_TIMEOUT_MS) != 0)
		return (1);
	close(fd);
	if (f.hdr.type != KMSAUTHZ_MSG_STATUS_REPLY ||
	    proto_status_decode(f.body, f.hdr.len, &st) != 0) {
		fprintf(stderr, "kzclient: bad STATUS_REPLY\n");
		return (1);
	}
	printf("generation=%llu\nconnections=%u\nkeys=%u\npolicies=%u\n"
	    "users=%u\nchecks=%llu\nsoftware=%.*s\n",
	    (unsigned long long)st.generation, st.connections, st.keys,
	    st.policies, st.users, (unsigned long long)st.checks,
	    (int)st.software.len, st.software.ptr);
	free(f.body);
	return (0);
}

static int
cmd_admin(int argc, char **argv)
{
	static uint8_t		buf[65536];
	struct proto_wr		wr;
	struct proto_admin	a;
	unsigned char		blk[ADMIN_SIG_BLOCK_LEN];
	char			sk[256];
	size_t			start, n;
	FILE			*fp;
	int			fd;

	if (argc != 4 && argc != 6)
		return (2);
	memset(&a, 0, sizeof(a));
	a.json.ptr = argv[3];
	a.json.len = strlen(argv[3]);
	if (argc == 6) {
		/* Signed with the key in argv[4]; the frame kept in argv[5]. */
		if ((fp = fopen(argv[4], "r")) == NULL)
			return (1);
		n = fread(sk, 1, sizeof(sk) - 1, fp);
		fclose(fp);
		while (n > 0 && (sk[n - 1] == '\n' || sk[n - 1] == ' '))
			n--;
		sk[n] = '\0';
		if (admin_sign_block(sk, (int64_t)time(NULL), argv[3],
		    strlen(argv[3]), blk) != 0)
			return (1);
		a.flags = KMSAUTHZ_ADMIN_SIGNED;
		a.signature.ptr = (const char *)blk;
		a.signature.len = sizeof(blk);
	}
	proto_wr_init(&wr, buf, sizeof(buf));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_ADMIN_REQUEST, 5);
	proto_admin_encode(&wr, &a);
	proto_frame_end(&wr, start);
	if (wr.err != 0)
		return (1);
	if (argc == 6) {
		if ((fp = fopen(argv[5], "w")) == NULL ||
		    fwrite(buf, 1, wr.off, fp) != wr.off || fclose(fp) != 0)
			return (1);
	}
	if ((fd = kz_connect(argv[2])) == -1)
		return (1);
	return (kz_admin_exchange(fd, buf, wr.off));
}

/* kzclient admin-replay SOCKET FILE: send the frame bytes kept in FILE. */
static int
cmd_admin_replay(int argc, char **argv)
{
	static uint8_t	buf[65536];
	FILE		*fp;
	size_t		 n;
	int		 fd;

	if (argc != 4 || (fp = fopen(argv[3], "r")) == NULL)
		return (1);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	if ((fd = kz_connect(argv[2])) == -1)
		return (1);
	return (kz_admin_exchange(fd, buf, n));
}

/* Write one admin frame, print the answer's JSON (or the ERROR). */
static int
kz_admin_exchange(int fd, const uint8_t *buf, size_t len)
{
	struct proto_admin	a;
	struct proto_error	e;
	struct kz_frame		f;

	if (kz_write(fd, buf, len) == -1 ||
	    kz_read_frame(fd, &f, KZ_TIMEOUT_MS) != 0)
		return (1);
	close(fd);
	if (f.hdr.type == KMSAUTHZ_MSG_ERROR &&
	    proto_error_decode(f.body, f.hdr.len, &e) == 0) {
		printf("ERROR %u %.*s\n", e.code, (int)e.message.len,
		    e.message.ptr);
		free(f.body);
		return (0);
	}
	if (f.hdr.type != KMSAUTHZ_MSG_ADMIN_RESPONSE ||
	    proto_admin_decode(f.body, f.hdr.len,
	    KMSAUTHZ_MAX_ADMIN_REPLY_BODY, &a) != 0)
		return (1);
	printf("%.*s\n", (int)a.json.len, a.json.ptr);
	free(f.body);
	return (0);
}

static int
cmd_check(int argc, char **argv)
{
	static const char *dec[] = { "IMPLICIT_DENY", "ALLOW",
	    "EXPLICIT_DENY" };
	struct kz_frame		f;
	struct proto_answer	ans;
	int			fd;

	if ((argc != 6 && argc != 7) || (fd = kz_connect(argv[2])) == -1)
		return (1);
	if (kz_send_check(fd, 11, argv[3], argv[4], argv[5],
	    argc == 7 ? argv[6] : NULL) == -1 ||
	    kz_read_frame(fd, &f, KZ_TIMEOUT_MS) != 0)
		return (1);
	close(fd);
	if (f.hdr.type != KMSAUTHZ_MSG_ANSWER || f.hdr.id != 11 ||
	    proto_answer_decode(f.body, f.hdr.len, &ans) != 0 ||
	    ans.decision > KMSAUTHZ_DECISION_MAX)
		return (1);
	printf("%s %u %llu\n", dec[ans.decision], ans.reason,
	    (unsigned long long)ans.generation);
	free(f.body);
	return (0);
}

/* Send raw hex bytes; print the first reply and whether it closed. */
static int
cmd_send(int argc, char **argv)
{
	uint8_t			buf[65536 + 64];
	struct kz_frame		f;
	struct proto_error	e;
	size_t			n;
	int			fd, r;

	if (argc != 4 || (fd = kz_connect(argv[2])) == -1)
		return (1);
	n = kz_hex(argv[3], buf, sizeof(buf));
	/* A refused client may find the socket closed: read anyway. */
	(void)kz_write(fd, buf, n);
	r = kz_read_frame(fd, &f, KZ_TIMEOUT_MS);
	if (r == -2)
		printf("CLOSED\n");
	else if (r != 0)
		printf("NOREPLY\n");
	else if (f.hdr.type == KMSAUTHZ_MSG_ERROR &&
	    proto_error_decode(f.body, f.hdr.len, &e) == 0)
		printf("ERROR %u %s\n", e.code,
		    kz_closed_soon(fd, 2000) ? "closed" : "open");
	else
		printf("FRAME %u %s\n", f.hdr.type,
		    kz_closed_soon(fd, 200) ? "closed" : "open");
	if (r == 0)
		free(f.body);
	close(fd);
	return (0);
}

struct kz_case {
	const char	*name;
	int		 admin;		/* send on the admin socket */
	const char	*hex;
	int		 expect;	/* wire error code; 0: just closed */
};

/*
 * Header: magic 4b5a, version 01, flags 00, type, reserved 0000, id,
 * length.  PING is type 0002, CHECK 0064, ADMIN_REQUEST 00c8.
 */
static const struct kz_case kz_cases[] = {
	{ "zero-length frame of an unknown type", 0,
	    "4b5a0100 0000 0000 00000001 00000000", KMSAUTHZ_WERR_UNSUPPORTED },
	{ "bad magic", 0,
	    "4142 0100 0002 0000 00000001 00000000", KMSAUTHZ_WERR_PROTO },
	{ "bad version", 0,
	    "4b5a 0900 0002 0000 00000001 00000000", KMSAUTHZ_WERR_VERSION },
	{ "non-zero flags", 0,
	    "4b5a 0180 0002 0000 00000001 00000000", KMSAUTHZ_WERR_PROTO },
	{ "non-zero reserved", 0,
	    "4b5a 0100 0002 0001 00000001 00000000", KMSAUTHZ_WERR_PROTO },
	{ "oversize body (4 GiB - 1)", 0,
	    "4b5a 0100 0064 0000 00000001 ffffffff", KMSAUTHZ_WERR_TOOBIG },
	{ "oversize body (query limit + 1)", 0,
	    "4b5a 0100 0064 0000 00000001 00010001", KMSAUTHZ_WERR_TOOBIG },
	{ "trailing bytes after PING", 0,
	    "4b5a 0100 0002 0000 00000001 00000002 0000", KMSAUTHZ_WERR_PROTO },
	{ "CHECK with a zero-length body", 0,
	    "4b5a 0100 0064 0000 00000001 00000000", KMSAUTHZ_WERR_PROTO },
	{ "CHECK with a garbage body", 0,
	    "4b5a 0100 0064 0000 00000001 00000008 ffffffffffffffff",
	    KMSAUTHZ_WERR_PROTO },
	{ "unknown type 999", 0,
	    "4b5a 0100 03e7 0000 00000001 00000000",
	    KMSAUTHZ_WERR_UNSUPPORTED },
	{ "a reply type sent to the daemon", 0,
	    "4b5a 0100 012d 0000 00000001 00000000",
	    KMSAUTHZ_WERR_UNSUPPORTED },
	{ "admin message on the query socket", 0,
	    "4b5a 0100 00c8 0000 00000001 00000000",
	    KMSAUTHZ_WERR_UNSUPPORTED },
	{ "CHECK on the admin socket", 1,
	    "4b5a 0100 0064 0000 00000001 00000000",
	    KMSAUTHZ_WERR_UNSUPPORTED },
	{ "CHECK_BATCH on the admin socket", 1,
	    "4b5a 0100 0065 0000 00000001 00000000",
	    KMSAUTHZ_WERR_UNSUPPORTED },
	{ "malformed admin request", 1,
	    "4b5a 0100 00c8 0000 00000001 00000003 000000", KMSAUTHZ_WERR_PROTO },
	{ "truncated body, then EOF", 0,
	    "4b5a 0100 0064 0000 00000001 00000040 0102", 0 },
	{ "truncated header, then EOF", 0, "4b5a01", 0 },
};
#define KZ_NCASES (sizeof(kz_cases) / sizeof(kz_cases[0]))

/*
 * Every malformed case is refused (an ERROR with the right code then a
 * close, or a plain close for a truncated frame at EOF) while a second
 * client, connected throughout, keeps being answered.
 */
static int
cmd_malformed(int argc, char **argv)
{
	uint8_t			 buf[256];
	struct kz_frame		 f;
	struct proto_error	 e;
	const struct kz_case	*k;
	size_t			 i, n;
	int			 keep, fd, r, ok, failed = 0;
	uint32_t		 pid = 100;

	if (argc != 4 || (keep = kz_connect(argv[2])) == -1)
		return (1);
	/* KZ_PLAN_EXTRA: tests the calling script adds after these. */
	printf("1..%zu\n", KZ_NCASES * 2 + (getenv("KZ_PLAN_EXTRA") ?
	    (size_t)atoi(getenv("KZ_PLAN_EXTRA")) : 0));
	fflush(stdout);
	for (i = 0; i < KZ_NCASES; i++) {
		k = &kz_cases[i];
		ok = 0;
		if ((fd = kz_connect(argv[k->admin ? 3 : 2])) == -1)
			goto report;
		n = kz_hex(k->hex, buf, sizeof(buf));
		if (kz_write(fd, buf, n) == -1)
			goto report;
		if (k->expect == 0) {
			shutdown(fd, SHUT_WR);
			ok = kz_closed_soon(fd, KZ_TIMEOUT_MS);
			goto report;
		}
		r = kz_read_frame(fd, &f, KZ_TIMEOUT_MS);
		if (r != 0)
			goto report;
		ok = f.hdr.type == KMSAUTHZ_MSG_ERROR &&
		    proto_error_decode(f.body, f.hdr.len, &e) == 0 &&
		    e.code == k->expect;
		if (!ok)
			fprintf(stderr, "# got type %u code %u\n",
			    f.hdr.type, ok ? e.code : 0);
		free(f.body);
		ok = ok && kz_closed_soon(fd, KZ_TIMEOUT_MS);
report:
		if (fd != -1)
			close(fd);
		printf("%sok %zu - %s: refused%s\n", ok ? "" : "not ",
		    i * 2 + 1, k->name, k->expect ? " with ERROR, closed" :
		    ", closed");
		failed |= !ok;
		ok = kz_ping(keep, pid++) == 0;
		printf("%sok %zu - %s: the other client is still served\n",
		    ok ? "" : "not ", i * 2 + 2, k->name);
		failed |= !ok;
	}
	close(keep);
	return (failed);
}

static int
cmd_many(int argc, char **argv)
{
	struct rlimit	 rl;
	struct timespec	 t0, t1;
	const char	*env;
	long		 budget = 0;
	int		*fds, n, i, bad = 0, wait_ms;

	if (argc != 4 || (n = atoi(argv[3])) <= 0)
		return (1);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((fds = calloc((size_t)n, sizeof(int))) == NULL)
		return (1);
	for (i = 0; i < n; i++) {
		if ((fds[i] = kz_connect(argv[2])) == -1) {
			fprintf(stderr, "kzclient: connect %d: %s\n", i,
			    strerror(errno));
			return (1);
		}
	}
	/* All requests first, then all answers: all open at once. */
	for (i = 0; i < n; i++)
		if (kz_send_simple(fds[i], KMSAUTHZ_MSG_PING,
		    (uint32_t)i) == -1)
			bad++;
	/* KZ_READ_MS: one deadline for all the answers (else 5 s each). */
	if ((env = getenv("KZ_READ_MS")) != NULL)
		budget = atol(env);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		struct kz_frame f;

		wait_ms = KZ_TIMEOUT_MS;
		if (budget > 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			wait_ms = (int)(budget - ((t1.tv_sec - t0.tv_sec) *
			    1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
			if (wait_ms < 0)
				wait_ms = 0;
		}
		if (kz_read_frame(fds[i], &f, wait_ms) != 0 ||
		    f.hdr.type != KMSAUTHZ_MSG_PONG ||
		    f.hdr.id != (uint32_t)i)
			bad++;
		free(f.body);
	}
	printf("%d of %d connections answered\n", n - bad, n);
	/* The caller checks STATUS while these are still open. */
	if (argc == 4 && getenv("KZ_HOLD") != NULL)
		sleep((unsigned)atoi(getenv("KZ_HOLD")));
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return (bad != 0);
}

/*
 * A client that pipelines requests and never reads: the daemon must
 * stop reading it when its queue is full, keep answering another client
 * promptly, and close it after slow_client_timeout.
 */
static int
cmd_slow(int argc, char **argv)
{
	struct timespec	 t0, t1;
	uint8_t		 frame[KMSAUTHZ_HDR_SIZE];
	struct proto_wr	 wr;
	size_t		 start;
	int		 slow, fast, i, flags, sent = 0, maxms = 0, ms;
	int		 secs;

	if (argc != 4 || (secs = atoi(argv[3])) <= 0)
		return (1);
	if ((slow = kz_connect(argv[2])) == -1 ||
	    (fast = kz_connect(argv[2])) == -1)
		return (1);
	i = 4096;
	setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &i, sizeof(i));
	flags = fcntl(slow, F_GETFL);
	fcntl(slow, F_SETFL, flags | O_NONBLOCK);
	proto_wr_init(&wr, frame, sizeof(frame));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_PING, 1);
	proto_frame_end(&wr, start);
	/* Write until the daemon stops reading us (our send blocks). */
	for (i = 0; i < 1000000; i++) {
		if (send(slow, frame, sizeof(frame), MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(frame))
			break;
		sent++;
	}
	printf("slow client queued %d requests before the daemon stopped "
	    "reading it\n", sent);
	if (sent >= 1000000) {
		printf("daemon never stopped reading\n");
		return (1);
	}
	/* The other client is served at once, again and again. */
	for (i = 0; i < 20; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (kz_ping(fast, (uint32_t)(1000 + i)) == -1) {
			printf("fast client not served\n");
			return (1);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (int)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (ms > maxms)
			maxms = ms;
	}
	printf("fast client: 20 pings, slowest %d ms\n", maxms);
	if (maxms > 1000)
		return (1);
	/* Not reading: closed after the timeout (plus slack). */
	fcntl(slow, F_SETFL, flags);
	sleep((unsigned)secs + 1);
	if (!kz_closed_soon(slow, 3000)) {
		printf("slow client not closed\n");
		return (1);
	}
	printf("slow client closed by the daemon\n");
	if (kz_ping(fast, 5000) == -1)
		return (1);
	close(slow);
	close(fast);
	return (0);
}

/* One connection that pings every 100 ms for SECONDS (across SIGHUP). */
static int
cmd_hold(int argc, char **argv)
{
	int	fd, i, n;

	if (argc != 4 || (n = atoi(argv[3]) * 10) <= 0 ||
	    (fd = kz_connect(argv[2])) == -1)
		return (1);
	for (i = 0; i < n; i++) {
		if (kz_ping(fd, (uint32_t)i) == -1) {
			printf("ping %d failed\n", i);
			return (1);
		}
		usleep(100000);
	}
	printf("%d pings on one connection\n", n);
	close(fd);
	return (0);
}

/*
 * A slowloris: a PING frame sent one byte every MS milliseconds.
 * Prints "PONG MS" when the whole frame went and was answered, or
 * "CLOSED after N bytes, MS ms" when the daemon closed it first.
 */
static int
cmd_trickle(int argc, char **argv)
{
	uint8_t			 hdr[KMSAUTHZ_HDR_SIZE];
	struct proto_wr		 wr;
	struct kz_frame		 f;
	struct timespec		 t0, t1;
	size_t			 i, start;
	long			 ms, gap;
	int			 fd, r;

	if (argc != 4 || (gap = strtol(argv[3], NULL, 10)) <= 0 ||
	    (fd = kz_connect(argv[2])) == -1)
		return (1);
	proto_wr_init(&wr, hdr, sizeof(hdr));
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_PING, 9);
	proto_frame_end(&wr, start);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < sizeof(hdr); i++) {
		if (i > 0 && kz_closed_soon(fd, (int)gap))
			break;
		if (kz_write(fd, hdr + i, 1) == -1)
			break;
	}
	if (i == sizeof(hdr)) {
		r = kz_read_frame(fd, &f, KZ_TIMEOUT_MS);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (r == 0 && f.hdr.type == KMSAUTHZ_MSG_PONG)
			printf("PONG %ld\n", ms);
		else
			printf("%s after %zu bytes, %ld ms\n",
			    r == -2 ? "CLOSED" : "NOREPLY", i, ms);
		if (r == 0)
			free(f.body);
	} else {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		printf("CLOSED after %zu bytes, %ld ms\n", i, ms);
	}
	close(fd);
	return (0);
}

/*
 * K clients on one poll loop, each pipelining N PINGs as fast as its
 * socket takes them and reading its PONGs as fast as they come (the
 * pattern that made the daemon pause a connection and then forget it:
 * max_queued_replies reached, a partial write, the client reading in
 * between).  Every PONG must come back, in order; a client that gets
 * nothing for 5 s while answers are owed is stalled.
 */
#define KZ_FLOOD_MAX	64
static int
cmd_flood(int argc, char **argv)
{
	struct kz_flood {
		int		fd;
		long		sent;		/* whole frames written */
		long		got;
		size_t		wpos;		/* bytes of the frame at sent */
		size_t		rlen;
		uint8_t		rbuf[16384];
	} *cl;
	struct pollfd	 pfd[KZ_FLOOD_MAX];
	struct timespec	 now, last;
	uint8_t		 ping[KMSAUTHZ_HDR_SIZE];
	struct proto_wr	 wr;
	size_t		 start, off;
	ssize_t		 n;
	long		 total;
	int		 k, i, np, done, bad = 0, flags;
	uint32_t	 id, len;
	uint16_t	 type;

	if (argc != 5 || (k = atoi(argv[3])) <= 0 || k > KZ_FLOOD_MAX ||
	    (total = atol(argv[4])) <= 0)
		return (1);
	if ((cl = calloc((size_t)k, sizeof(*cl))) == NULL)
		return (1);
	for (i = 0; i < k; i++) {
		if ((cl[i].fd = kz_connect(argv[2])) == -1 ||
		    (flags = fcntl(cl[i].fd, F_GETFL)) == -1 ||
		    fcntl(cl[i].fd, F_SETFL, flags | O_NONBLOCK) == -1) {
			fprintf(stderr, "kzclient: connect %d: %s\n", i,
			    strerror(errno));
			return (1);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &last);
	for (;;) {
		done = 0;
		np = 0;
		for (i = 0; i < k; i++) {
			if (cl[i].got == total) {
				done++;
				continue;
			}
			pfd[np].fd = cl[i].fd;
			pfd[np].events = POLLIN |
			    (cl[i].sent < total ? POLLOUT : 0);
			pfd[np].revents = 0;
			np++;
		}
		if (done == k)
			break;
		if (poll(pfd, (nfds_t)np, 200) == -1 && errno != EINTR)
			return (1);
		clock_gettime(CLOCK_MONOTONIC, &now);
		np = 0;
		for (i = 0; i < k; i++) {
			struct kz_flood *c = &cl[i];

			if (c->got == total)
				continue;
			if (pfd[np++].revents == 0)
				continue;
			/* Write as much as it takes (ids are sent + 1). */
			while (c->sent < total) {
				proto_wr_init(&wr, ping, sizeof(ping));
				start = proto_frame_begin(&wr,
				    KMSAUTHZ_MSG_PING, (uint32_t)c->sent + 1);
				proto_frame_end(&wr, start);
				n = send(c->fd, ping + c->wpos,
				    sizeof(ping) - c->wpos, MSG_NOSIGNAL);
				if (n <= 0)
					break;
				c->wpos += (size_t)n;
				if (c->wpos == sizeof(ping)) {
					c->wpos = 0;
					c->sent++;
				}
			}
			/* Read whatever has come. */
			while ((n = recv(c->fd, c->rbuf + c->rlen,
			    sizeof(c->rbuf) - c->rlen, 0)) > 0) {
				c->rlen += (size_t)n;
				for (off = 0; c->rlen - off >= KMSAUTHZ_HDR_SIZE;
				    off += KMSAUTHZ_HDR_SIZE + len) {
					type = (uint16_t)(c->rbuf[off + 4] << 8 |
					    c->rbuf[off + 5]);
					memcpy(&id, c->rbuf + off + 8, 4);
					memcpy(&len, c->rbuf + off + 12, 4);
					id = ntohl(id);
					len = ntohl(len);
					if (type != KMSAUTHZ_MSG_PONG || len != 0 ||
					    id != (uint32_t)c->got + 1) {
						printf("client %d: frame %u id %u "
						    "after %ld PONGs\n", i, type,
						    id, c->got);
						return (1);
					}
					c->got++;
					last = now;
				}
				c->rlen -= off;
				memmove(c->rbuf, c->rbuf + off, c->rlen);
			}
			if (n == 0) {
				printf("client %d: closed after %ld PONGs\n",
				    i, c->got);
				return (1);
			}
		}
		if (now.tv_sec - last.tv_sec >= 5) {
			for (i = 0; i < k; i++)
				if (cl[i].got != total) {
					printf("STALL client %d: sent %ld, "
					    "got %ld\n", i, cl[i].sent,
					    cl[i].got);
					bad = 1;
				}
			break;
		}
	}
	if (!bad)
		printf("%d clients, %ld PONGs each\n", k, total);
	for (i = 0; i < k; i++)
		close(cl[i].fd);
	free(cl);
	return (bad);
}

/*
 * Shutdown flushes what is queued: write up to N CHECKs (ids 1..) as
 * far as the socket takes them without reading, so that the daemon
 * pauses with answers waiting in its own buffer; print how many were
 * written; wait for GOFILE to exist (the script sends SIGTERM first);
 * then read to EOF.  Prints "sent S got G ids-in-order eof" (or what
 * went wrong) and exits 0 when the answers came in order, then EOF.
 */
static int
cmd_drain(int argc, char **argv)
{
	struct proto_wr		 wr;
	struct proto_check	 c;
	struct kz_frame		 f;
	size_t			 start, off;
	long			 n, sent = 0, got = 0;
	int			 fd, flags, r, i;
	uint8_t			 frame[512];
	struct pollfd		 pfd;
	ssize_t			 w;

	if (argc != 5 || (n = atol(argv[3])) <= 0 ||
	    (fd = kz_connect(argv[2])) == -1)
		return (1);
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return (1);
	memset(&c, 0, sizeof(c));
	c.principal.ptr = "acs:ram::1:user/a";
	c.principal.len = strlen(c.principal.ptr);
	c.action.ptr = "kms:Decrypt";
	c.action.len = strlen(c.action.ptr);
	c.resource.ptr = "acs:kms:cn-hangzhou:1:key/key-1";
	c.resource.len = strlen(c.resource.ptr);
	while (sent < n) {
		proto_wr_init(&wr, frame, sizeof(frame));
		start = proto_frame_begin(&wr, KMSAUTHZ_MSG_CHECK,
		    (uint32_t)sent + 1);
		proto_check_encode(&wr, &c);
		proto_frame_end(&wr, start);
		/* Whole frames only: the rest after a short write. */
		/* Until the socket takes nothing for 500 ms: paused. */
		for (off = 0; off < wr.off; off += (size_t)w) {
			w = send(fd, frame + off, wr.off - off, MSG_NOSIGNAL);
			if (w > 0)
				continue;
			w = 0;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				goto written;
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 500) <= 0 && off == 0)
				goto written;
		}
		sent++;
	}
written:
	printf("sent %ld\n", sent);
	fflush(stdout);
	for (i = 0; i < 3000 && access(argv[4], F_OK) == -1; i++)
		usleep(10000);
	fcntl(fd, F_SETFL, flags);
	for (;;) {
		r = kz_read_frame(fd, &f, KZ_TIMEOUT_MS);
		if (r != 0)
			break;
		if (f.hdr.type != KMSAUTHZ_MSG_ANSWER ||
		    f.hdr.id != (uint32_t)got + 1) {
			printf("frame %u id %u after %ld answers\n",
			    f.hdr.type, f.hdr.id, got);
			free(f.body);
			return (1);
		}
		free(f.body);
		got++;
	}
	printf("sent %ld got %ld in order %s\n", sent, got,
	    r == -2 ? "eof" : r == -3 ? "timeout" : "error");
	close(fd);
	return (r == -2 ? 0 : 1);
}

/* One pipe ITEM encoded into wr (argv[3..5] are P A R). */
static int
kz_pipe_item(struct proto_wr *wr, char **argv, const char *item,
    uint32_t id)
{
	static uint8_t		ext[256];
	struct proto_check	c;
	size_t			start, n = 0;
	uint64_t		gen = 0;
	int			batch = 0;

	if (strcmp(item, "ping") == 0) {
		start = proto_frame_begin(wr, KMSAUTHZ_MSG_PING, id);
		proto_frame_end(wr, start);
		return (wr->err);
	}
	if (strncmp(item, "check@", 6) == 0)
		gen = strtoull(item + 6, NULL, 10);
	else if (strncmp(item, "batch@", 6) == 0) {
		gen = strtoull(item + 6, NULL, 10);
		batch = 1;
	} else if (strncmp(item, "ext:", 4) == 0) {
		n = kz_hex(item + 4, ext, sizeof(ext));
		gen = 1;
	} else if (strcmp(item, "check") != 0)
		return (-1);
	memset(&c, 0, sizeof(c));
	c.principal.ptr = argv[3];
	c.principal.len = strlen(argv[3]);
	c.action.ptr = argv[4];
	c.action.len = strlen(argv[4]);
	c.resource.ptr = argv[5];
	c.resource.len = strlen(argv[5]);
	start = proto_frame_begin(wr, batch ? KMSAUTHZ_MSG_CHECK_BATCH :
	    KMSAUTHZ_MSG_CHECK, id);
	if (batch) {
		proto_batch_encode_begin(wr, 2);
		proto_check_encode(wr, &c);
	}
	if (gen != 0) {
		c.flags = KMSAUTHZ_CHECK_MIN_GEN;
		c.min_generation = gen;
	}
	proto_check_encode(wr, &c);
	if (strncmp(item, "ext:", 4) == 0 && wr->err == 0) {
		/* The extension's 12 bytes replaced by the given ones. */
		wr->off -= KMSAUTHZ_MINGEN_SIZE;
		proto_wr_bytes(wr, ext, n);
	}
	proto_frame_end(wr, start);
	return (wr->err);
}

static int
cmd_pipe(int argc, char **argv)
{
	static const char *dec[] = { "IMPLICIT_DENY", "ALLOW",
	    "EXPLICIT_DENY" };
	static uint8_t		 buf[256 * 1024];
	struct proto_wr		 wr;
	struct kz_frame		 f;
	struct proto_answer	 ans;
	struct proto_batch_rd	 it;
	struct proto_error	 e;
	const char		*env = getenv("KZ_TIMEOUT_MS");
	int			 fd, i, r = 0, timeout;

	timeout = env != NULL ? atoi(env) : 10000;
	if (argc < 7 || (fd = kz_connect(argv[2])) == -1)
		return (1);
	proto_wr_init(&wr, buf, sizeof(buf));
	for (i = 6; i < argc; i++)
		if (kz_pipe_item(&wr, argv, argv[i], (uint32_t)(i - 5)) != 0) {
			fprintf(stderr, "kzclient: pipe: bad item %s\n",
			    argv[i]);
			return (2);
		}
	if (kz_write(fd, buf, wr.off) == -1)
		return (1);
	for (i = 6; i < argc; i++) {
		if ((r = kz_read_frame(fd, &f, timeout)) != 0)
			break;
		printf("%u ", f.hdr.id);
		switch (f.hdr.type) {
		case KMSAUTHZ_MSG_ANSWER:
			if (proto_answer_decode(f.body, f.hdr.len, &ans) == 0)
				printf("ANSWER %s %llu\n", dec[ans.decision],
				    (unsigned long long)ans.generation);
			else
				printf("BADANSWER\n");
			break;
		case KMSAUTHZ_MSG_BATCH_ANSWER:
			if (proto_batch_answer_begin(&it, f.body,
			    f.hdr.len) == 0 &&
			    proto_batch_answer_next(&it, &ans) == 0)
				printf("BATCH %u %llu\n", it.count,
				    (unsigned long long)ans.generation);
			else
				printf("BADBATCH\n");
			break;
		case KMSAUTHZ_MSG_PONG:
			printf("PONG\n");
			break;
		case KMSAUTHZ_MSG_ERROR:
			if (proto_error_decode(f.body, f.hdr.len, &e) == 0)
				printf("ERROR %u %.*s\n", e.code,
				    (int)e.message.len, e.message.ptr);
			else
				printf("BADERROR\n");
			break;
		default:
			printf("FRAME %u\n", f.hdr.type);
			break;
		}
		fflush(stdout);
		free(f.body);
	}
	if (r == -2 || (r == 0 && kz_closed_soon(fd, 100)))
		printf("CLOSED\n");
	else if (r == -3)
		printf("TIMEOUT\n");
	close(fd);
	return (r == 0 || r == -2 ? 0 : 1);
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char **);
	} cmds[] = {
		{ "ping", cmd_ping }, { "status", cmd_status },
		{ "admin", cmd_admin }, { "admin-replay", cmd_admin_replay },
		{ "check", cmd_check },
		{ "send", cmd_send }, { "malformed", cmd_malformed },
		{ "many", cmd_many }, { "slow", cmd_slow },
		{ "hold", cmd_hold }, { "trickle", cmd_trickle },
		{ "flood", cmd_flood }, { "drain", cmd_drain },
		{ "pipe", cmd_pipe },
	};
	size_t	i;

	if (argc >= 2)
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (strcmp(argv[1], cmds[i].name) == 0)
				return (cmds[i].fn(argc, argv));
	fprintf(stderr, "usage: kzclient ping|status|admin|admin-replay|check|"
	    "send|malformed|many|slow|hold|trickle|flood|drain|pipe SOCKET "
	    "...\n");
	return (2);
}

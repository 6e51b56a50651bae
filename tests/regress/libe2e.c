/* SPDX-License-Identifier: ISC */
/*
 * libe2e.c: libkmsauthz against the real daemon (tests/regress/
 * 021-library.sh starts it seeded with etc/example-bundle.json).  Only
 * the public API (include/kmsauthz.h): the synchronous check with
 * EXPLAIN, the batch call at its limit and one past it, pipelined
 * checks, the non-blocking submit/poll/collect calls, an over-long
 * principal, and connect timeouts.  Prints "ok - ..." / "not ok - ..."
 * lines that the script numbers.
 *
 *	libe2e QSOCK DIR	(DIR: a scratch directory for dead sockets)
 *	libe2e load QSOCK MS	one connection, pipelined checks for MS ms
 *	libe2e mingen QSOCK GEN	a check and a batch at generation GEN or
 *				later, then a ping on the same handle
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmsauthz.h"

#define E2E_ACCOUNT	"1192853035118888"
#define E2E_KEY		"acs:kms:cn-hangzhou:" E2E_ACCOUNT \
			":key/key-hzz6304944631ejqjx0002"
#define E2E_ALLOWED	"acs:ram::" E2E_ACCOUNT ":user/alice"
#define E2E_FOREIGN	"acs:ram::2222222222222222:user/eve"
#define E2E_TIMEOUT	5000
#define E2E_PIPELINED	1000
#define E2E_NONBLOCK	600

static int	e2e_failed;

static void
e2e_ok(int cond, const char *fmt, ...)
    __attribute__((__format__(printf, 2, 3)));

static void
e2e_ok(int cond, const char *fmt, ...)
{
	va_list	ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		e2e_failed = 1;
}

static long
e2e_ms_since(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Request i: even ones allowed (alice), odd ones not (eve, another account). */
static void
e2e_request(struct kmsauthz_request *r, size_t i)
{
	memset(r, 0, sizeof(*r));
	r->principal = i % 2 == 0 ? E2E_ALLOWED : E2E_FOREIGN;
	r->action = "kms:Decrypt";
	r->resource = E2E_KEY;
}

static int
e2e_expected(size_t i, const struct kmsauthz_answer *a)
{
	if (i % 2 == 0)
		return (a->decision == KMSAUTHZ_ALLOW && a->generation != 0);
	return (a->decision != KMSAUTHZ_ALLOW && a->generation != 0);
}

static int
e2e_unix_socket(const char *path, int listens, int backlog)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (-1);
	strcpy(sun.sun_path, path);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return (-1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    (listens && listen(fd, backlog) == -1)) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static void
e2e_sync(struct kmsauthz *h)
{
	struct kmsauthz_request	r;
	struct kmsauthz_answer	a;
	int			err, named;

	e2e_request(&r, 0);
	r.flags = KMSAUTHZ_CHECK_EXPLAIN;
	err = kmsauthz_check(h, &r, &a);
	named = err == 0 && a.nstatements > 0 &&
	    (strncmp(a.statements[0].source, "key/", 4) == 0 ||
	    strncmp(a.statements[0].source, "policy/", 7) == 0);
	e2e_ok(err == 0 && a.decision == KMSAUTHZ_ALLOW &&
	    a.generation != 0 && named,
	    "sync check with EXPLAIN: ALLOW (%s), generation %llu, "
	    "%zu deciding statement(s), first %s", kmsauthz_reason_name(
	    a.reason), (unsigned long long)a.generation, a.nstatements,
	    a.nstatements > 0 ? a.statements[0].source : "none");
	kmsauthz_answer_free(&a);

	e2e_request(&r, 1);
	err = kmsauthz_check(h, &r, &a);
	e2e_ok(err == 0 && a.decision != KMSAUTHZ_ALLOW &&
	    a.nstatements == 0, "sync check: another account denied (%s, %s)",
	    kmsauthz_decision_name(a.decision), kmsauthz_reason_name(a.reason));
	kmsauthz_answer_free(&a);
}

static void
e2e_batch(struct kmsauthz *h)
{
	struct kmsauthz_request	r[KMSAUTHZ_MAX_BATCH + 1];
	struct kmsauthz_answer	a[KMSAUTHZ_MAX_BATCH + 1];
	size_t			i, good = 0, zero = 0;
	int			err;

	for (i = 0; i < KMSAUTHZ_MAX_BATCH + 1; i++)
		e2e_request(&r[i], i);
	err = kmsauthz_check_batch(h, r, KMSAUTHZ_MAX_BATCH, a);
	for (i = 0; err == 0 && i < KMSAUTHZ_MAX_BATCH; i++) {
		good += e2e_expected(i, &a[i]);
		kmsauthz_answer_free(&a[i]);
	}
	e2e_ok(err == 0 && good == KMSAUTHZ_MAX_BATCH,
	    "batch of %d (the maximum): %zu answers as expected (%s)",
	    KMSAUTHZ_MAX_BATCH, good, kmsauthz_strerror(err));

	memset(a, 0xa5, sizeof(a));
	err = kmsauthz_check_batch(h, r, KMSAUTHZ_MAX_BATCH + 1, a);
	for (i = 0; i < KMSAUTHZ_MAX_BATCH + 1; i++)
		zero += a[i].decision == KMSAUTHZ_IMPLICIT_DENY &&
		    a[i].statements == NULL;
	e2e_ok(err == KMSAUTHZ_EINVAL && zero == KMSAUTHZ_MAX_BATCH + 1,
	    "batch of %d refused (%s), every answer reads as denied",
	    KMSAUTHZ_MAX_BATCH + 1, kmsauthz_strerror(err));
	e2e_ok(kmsauthz_ping(h) == 0, "the handle still works after it");
}

static void
e2e_pipelined(struct kmsauthz *h)
{
	struct kmsauthz_request	*r;
	struct kmsauthz_answer	*a;
	size_t			 i, good = 0;
	int			 err;

	r = calloc(E2E_PIPELINED, sizeof(*r));
	a = calloc(E2E_PIPELINED, sizeof(*a));
	if (r == NULL || a == NULL)
		abort();
	for (i = 0; i < E2E_PIPELINED; i++)
		e2e_request(&r[i], i);
	err = kmsauthz_check_pipelined(h, r, E2E_PIPELINED, 64, a);
	for (i = 0; err == 0 && i < E2E_PIPELINED; i++) {
		good += e2e_expected(i, &a[i]);
		kmsauthz_answer_free(&a[i]);
	}
	e2e_ok(err == 0 && good == E2E_PIPELINED,
	    "%d pipelined checks (window 64): %zu decisions as expected (%s)",
	    E2E_PIPELINED, good, kmsauthz_strerror(err));
	free(r);
	free(a);
}

static void
e2e_nonblocking(struct kmsauthz *h)
{
	struct kmsauthz_request	r;
	struct kmsauthz_answer	a[32];
	struct pollfd		pfd;
	struct timespec		t0;
	uint32_t		ids[E2E_NONBLOCK], id;
	size_t			i, j, n, sent = 0, got = 0, good = 0;
	int			err = 0, polls = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < E2E_NONBLOCK && e2e_ms_since(&t0) < E2E_TIMEOUT) {
		/* Submit in bursts so that answers come while we submit. */
		for (i = 0; i < 50 && sent < E2E_NONBLOCK; i++, sent++) {
			e2e_request(&r, sent);
			if ((err = kmsauthz_submit(h, &r, &ids[sent])) != 0)
				goto out;
		}
		pfd.fd = kmsauthz_fd(h);
		pfd.events = POLLIN | (kmsauthz_want_write(h) ? POLLOUT : 0);
		if (poll(&pfd, 1, 1000) == -1)
			break;
		polls++;
		if ((pfd.revents & POLLOUT) && (err = kmsauthz_flush(h)) != 0 &&
		    err != KMSAUTHZ_EAGAIN)
			goto out;
		do {
			if ((err = kmsauthz_collect(h, a, 32, &n)) != 0)
				goto out;
			for (i = 0; i < n; i++) {
				id = a[i].request_id;
				for (j = 0; j < sent && ids[j] != id; j++)
					;
				if (j < sent && e2e_expected(j, &a[i]))
					good++;
				kmsauthz_answer_free(&a[i]);
			}
			got += n;
		} while (n == 32);
	}
out:
	e2e_ok(err == 0 && got == E2E_NONBLOCK && good == E2E_NONBLOCK &&
	    kmsauthz_inflight(h) == 0,
	    "non-blocking: %d submitted, %zu collected after %d polls, %zu "
	    "as expected, %zu in flight (%s)", E2E_NONBLOCK, got, polls, good,
	    kmsauthz_inflight(h), kmsauthz_strerror(err));
}

static void
e2e_long_principal(struct kmsauthz *h)
{
	struct kmsauthz_request	r;
	struct kmsauthz_answer	a;
	char			p[KMSAUTHZ_MAX_PRINCIPAL + 2];
	int			err;

	memset(p, 'a', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	e2e_request(&r, 0);
	r.principal = p;
	memset(&a, 0xa5, sizeof(a));
	err = kmsauthz_check(h, &r, &a);
	e2e_ok(err < 0 && a.decision == KMSAUTHZ_IMPLICIT_DENY &&
	    a.statements == NULL && a.generation == 0,
	    "a %d-byte principal refused (%s), the answer reads as denied",
	    KMSAUTHZ_MAX_PRINCIPAL + 1, kmsauthz_strerror(err));
	e2e_ok(kmsauthz_ping(h) == 0, "the handle still works after it");
}

static void
e2e_connect(const char *dir)
{
	struct kmsauthz	*h = NULL;
	struct timespec	 t0;
	char		 path[512];
	long		 ms;
	struct kmsauthz	*fill[64];
	int		 fd, err, nfill = 0, i;

	snprintf(path, sizeof(path), "%s/absent.sock", dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = kmsauthz_connect(&h, path, 2000);
	ms = e2e_ms_since(&t0);
	e2e_ok(err == KMSAUTHZ_ECONNECT && h == NULL && ms < 1000,
	    "connect to a missing socket: %s in %ld ms",
	    kmsauthz_strerror(err), ms);

	snprintf(path, sizeof(path), "%s/bound.sock", dir);
	fd = e2e_unix_socket(path, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = kmsauthz_connect(&h, path, 2000);
	ms = e2e_ms_since(&t0);
	e2e_ok(fd != -1 && err == KMSAUTHZ_ECONNECT && h == NULL && ms < 1000,
	    "connect to a bound socket nobody listens on: %s in %ld ms",
	    kmsauthz_strerror(err), ms);
	if (fd != -1)
		close(fd);

	/* A listener that never accepts, its backlog full: connect waits. */
	snprintf(path, sizeof(path), "%s/full.sock", dir);
	fd = e2e_unix_socket(path, 1, 0);
	for (i = 0; fd != -1 && i < 64; i++) {
		if (kmsauthz_connect(&fill[nfill], path, 100) != 0)
			break;
		nfill++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = kmsauthz_connect(&h, path, 300);
	ms = e2e_ms_since(&t0);
	e2e_ok(fd != -1 && err == KMSAUTHZ_ETIMEDOUT && h == NULL &&
	    ms >= 250 && ms < 2000,
	    "connect to a listener whose backlog is full (%d queued): %s "
	    "after %ld ms (timeout 300)", nfill, kmsauthz_strerror(err), ms);
	for (i = 0; i < nfill; i++)
		kmsauthz_close(fill[i]);
	if (fd != -1)
		close(fd);
}

/*
 * Load on one connection for ms milliseconds (the script sends SIGHUP
 * meanwhile): rounds of 200 pipelined checks, every answer verified.
 * Prints the count and the generations seen; 1 on any failure.
 */
static int
e2e_load(const char *path, long ms)
{
	struct kmsauthz_request	r[200];
	struct kmsauthz_answer	a[200];
	struct kmsauthz		*h;
	struct timespec		 t0;
	uint64_t		 gmin = UINT64_MAX, gmax = 0;
	size_t			 i, checks = 0, wrong = 0;
	int			 err;

	if ((err = kmsauthz_connect(&h, path, E2E_TIMEOUT)) != 0) {
		printf("connect: %s\n", kmsauthz_strerror(err));
		return (1);
	}
	for (i = 0; i < 200; i++)
		e2e_request(&r[i], i);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (e2e_ms_since(&t0) < ms) {
		if ((err = kmsauthz_check_pipelined(h, r, 200, 32, a)) != 0) {
			printf("after %zu checks: %s\n", checks,
			    kmsauthz_strerror(err));
			kmsauthz_close(h);
			return (1);
		}
		for (i = 0; i < 200; i++) {
			wrong += !e2e_expected(i, &a[i]);
			if (a[i].generation < gmin)
				gmin = a[i].generation;
			if (a[i].generation > gmax)
				gmax = a[i].generation;
			kmsauthz_answer_free(&a[i]);
		}
		checks += 200;
	}
	kmsauthz_close(h);
	printf("%zu checks on one connection, %zu wrong, generations "
	    "%llu..%llu\n", checks, wrong, (unsigned long long)gmin,
	    (unsigned long long)gmax);
	return (wrong != 0 || checks == 0);
}

/* What a call with a minimum generation returned, on one line. */
static void
e2e_mingen_line(struct kmsauthz *h, const char *what, int err,
    const struct kmsauthz_answer *a)
{
	const char	*msg;

	if (err == 0)
		printf("%s %s %llu\n", what, kmsauthz_decision_name(a->decision),
		    (unsigned long long)a->generation);
	else {
		(void)kmsauthz_server_error(h, &msg);
		printf("%s %s %s reads %s: %s\n", what,
		    err == KMSAUTHZ_ESTALE ? "ESTALE" : "ERROR",
		    kmsauthz_strerror(err),
		    kmsauthz_decision_name(a->decision), msg);
	}
}

/*
 * kmsauthz_set_min_generation: a check, a batch of two (the daemon
 * waits for the batch whole), then a ping: ESTALE leaves the handle
 * usable.  1 when the ping fails.
 */
static int
e2e_mingen(const char *path, uint64_t gen)
{
	struct kmsauthz_request	r[2];
	struct kmsauthz_answer	a[2];
	struct kmsauthz		*h;
	int			 err;

	if ((err = kmsauthz_connect(&h, path, 30000)) != 0 ||
	    (err = kmsauthz_set_min_generation(h, gen)) != 0) {
		printf("connect: %s\n", kmsauthz_strerror(err));
		return (1);
	}
	e2e_request(&r[0], 0);
	e2e_request(&r[1], 1);
	err = kmsauthz_check(h, &r[0], &a[0]);
	e2e_mingen_line(h, "check", err, &a[0]);
	kmsauthz_answer_free(&a[0]);
	err = kmsauthz_check_batch(h, r, 2, a);
	e2e_mingen_line(h, "batch", err, &a[1]);
	kmsauthz_answer_free(&a[0]);
	kmsauthz_answer_free(&a[1]);
	err = kmsauthz_ping(h);
	printf("ping %s\n", kmsauthz_strerror(err));
	kmsauthz_close(h);
	return (err != 0);
}

int
main(int argc, char *argv[])
{
	struct kmsauthz	*h;
	int		 err;

	if (argc == 4 && strcmp(argv[1], "load") == 0)
		return (e2e_load(argv[2], atol(argv[3])));
	if (argc == 4 && strcmp(argv[1], "mingen") == 0)
		return (e2e_mingen(argv[2], strtoull(argv[3], NULL, 10)));
	if (argc != 3) {
		fprintf(stderr, "usage: libe2e QSOCK DIR\n");
		return (2);
	}
	err = kmsauthz_connect(&h, argv[1], E2E_TIMEOUT);
	e2e_ok(err == 0, "connect to the daemon (%s)", kmsauthz_strerror(err));
	if (err != 0)
		return (1);
	e2e_sync(h);
	e2e_batch(h);
	e2e_pipelined(h);
	e2e_nonblocking(h);
	e2e_long_principal(h);
	kmsauthz_close(h);
	e2e_connect(argv[2]);
	return (e2e_failed);
}

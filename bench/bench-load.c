/* SPDX-License-Identifier: ISC */
/*
 * bench-load: load generator for kmsauthzd (or anything speaking protocol
 * v1, such as bench/echo-server), through libkmsauthz.
 *
 * Phase 1: synchronous round trips on one connection; prints latency
 * percentiles.  Phase 2: C connections (threads), each keeping D checks
 * in flight with the non-blocking API, for T seconds; prints decisions
 * per second.
 *
 * Requests: one fixed request (-p, -a, -r), or with -w FILE the lines of
 * FILE (bench-world's output: principal, action, resource, source
 * address or "-", tab-separated), taken in turn; each pipelined
 * connection starts at its own offset.
 *
 * usage: bench-load -s PATH [-l LABEL] [-n SYNC] [-c C] [-d D] [-t SEC]
 *	      [-p PRINCIPAL] [-a ACTION] [-r RESOURCE] [-w FILE] [-e]
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmsauthz.h"

struct bench_worker {
	pthread_t	 thread;
	const char	*path;
	size_t		 depth;
	size_t		 next;		/* index into bench_reqs */
	uint64_t	 answers;
	uint64_t	 allows;
	int		 err;
};

static struct kmsauthz_request	 bench_req;
static struct kmsauthz_context	 bench_ctx[1] = {
	{ "acs:SecureTransport", "true" } };
static const uint8_t		 bench_ip[4] = { 10, 0, 0, 1 };
static atomic_int		 bench_stop;
static struct kmsauthz_request	*bench_reqs = &bench_req;
static size_t			 bench_nreqs = 1;
static uint8_t			(*bench_ips)[16];

static uint64_t	bench_now_ns(void);
static int	bench_cmp(const void *, const void *);
static void	*bench_worker_main(void *);
static int	bench_sync(const char *, const char *, size_t);
static int	bench_pipelined(const char *, const char *, size_t, size_t,
		    double);
static void	bench_usage(void);
static int	bench_load_requests(const char *, unsigned);

static uint64_t
bench_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static int
bench_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

static int
bench_sync(const char *label, const char *path, size_t n)
{
	struct kmsauthz_answer	 ans;
	struct kmsauthz		*h;
	uint64_t		*lat, t0, allows = 0;
	size_t			 i, warm = n / 10;
	int			 err;

	if ((err = kmsauthz_connect(&h, path, 5000)) != 0) {
		fprintf(stderr, "bench-load: %s: %s\n", path,
		    kmsauthz_strerror(err));
		return (-1);
	}
	if ((lat = calloc(n, sizeof(*lat))) == NULL) {
		kmsauthz_close(h);
		return (-1);
	}
	for (i = 0; i < warm + n; i++) {
		t0 = bench_now_ns();
		err = kmsauthz_check(h, &bench_reqs[i % bench_nreqs], &ans);
		if (i >= warm) {
			lat[i - warm] = bench_now_ns() - t0;
			if (err == 0 && ans.decision == KMSAUTHZ_ALLOW)
				allows++;
		}
		kmsauthz_answer_free(&ans);
		if (err != 0) {
			fprintf(stderr, "bench-load: check: %s\n",
			    kmsauthz_strerror(err));
			free(lat);
			kmsauthz_close(h);
			return (-1);
		}
	}
	kmsauthz_close(h);
	qsort(lat, n, sizeof(*lat), bench_cmp);
	printf("%-8s sync       n=%zu  p50=%.1fus  p90=%.1fus  p99=%.1fus  "
	    "p99.9=%.1fus  max=%.1fus  (%llu allowed)\n", label, n,
	    lat[n * 50 / 100] / 1e3, lat[n * 90 / 100] / 1e3,
	    lat[n * 99 / 100] / 1e3, lat[n * 999 / 1000] / 1e3,
	    lat[n - 1] / 1e3, (unsigned long long)allows);
	free(lat);
	return (0);
}

static void *
bench_worker_main(void *arg)
{
	struct bench_worker	*wk = arg;
	struct kmsauthz_answer	 ans[64];
	struct kmsauthz		*h;
	struct pollfd		 pfd;
	size_t			 k, i;
	int			 err;

	if ((err = kmsauthz_connect(&h, wk->path, 5000)) != 0) {
		wk->err = err;
		return (NULL);
	}
	while (!atomic_load(&bench_stop)) {
		while (kmsauthz_inflight(h) < wk->depth) {
			err = kmsauthz_submit(h, &bench_reqs[wk->next], NULL);
			if (err == 0 && ++wk->next == bench_nreqs)
				wk->next = 0;
			if (err == KMSAUTHZ_EAGAIN || err == KMSAUTHZ_EBUSY)
				break;
			if (err != 0)
				goto fail;
		}
		pfd.fd = kmsauthz_fd(h);
		pfd.events = POLLIN;
		if (kmsauthz_want_write(h))
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			err = KMSAUTHZ_EIO;
			goto fail;
		}
		if (pfd.revents & POLLOUT) {
			err = kmsauthz_flush(h);
			if (err != 0 && err != KMSAUTHZ_EAGAIN)
				goto fail;
		}
		do {
			if ((err = kmsauthz_collect(h, ans, 64, &k)) != 0)
				goto fail;
			for (i = 0; i < k; i++) {
				if (ans[i].decision == KMSAUTHZ_ALLOW)
					wk->allows++;
				kmsauthz_answer_free(&ans[i]);
			}
			wk->answers += k;
		} while (k == 64);
	}
	kmsauthz_close(h);
	return (NULL);
fail:
	wk->err = err;
	kmsauthz_close(h);
	return (NULL);
}

static int
bench_pipelined(const char *label, const char *path, size_t conns,
    size_t depth, double secs)
{
	struct bench_worker	*wk;
	struct timespec		 ts;
	uint64_t		 t0, t1, total = 0, allows = 0;
	size_t			 i;
	int			 rc = 0;

	if ((wk = calloc(conns, sizeof(*wk))) == NULL)
		return (-1);
	atomic_store(&bench_stop, 0);
	t0 = bench_now_ns();
	for (i = 0; i < conns; i++) {
		wk[i].path = path;
		wk[i].depth = depth;
		wk[i].next = bench_nreqs * i / conns;
		if (pthread_create(&wk[i].thread, NULL, bench_worker_main,
		    &wk[i]) != 0) {
			conns = i;
			rc = -1;
			break;
		}
	}
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	atomic_store(&bench_stop, 1);
	for (i = 0; i < conns; i++) {
		pthread_join(wk[i].thread, NULL);
		if (wk[i].err != 0) {
			fprintf(stderr, "bench-load: worker %zu: %s\n", i,
			    kmsauthz_strerror(wk[i].err));
			rc = -1;
		}
		total += wk[i].answers;
		allows += wk[i].allows;
	}
	t1 = bench_now_ns();
	printf("%-8s pipelined  C=%zu D=%zu  %.0f decisions/s  "
	    "(%llu answers, %llu allowed, %.2fs)\n", label, conns, depth,
	    (double)total / ((double)(t1 - t0) / 1e9),
	    (unsigned long long)total, (unsigned long long)allows,
	    (double)(t1 - t0) / 1e9);
	free(wk);
	return (rc);
}

static void
bench_usage(void)
{
	fprintf(stderr, "usage: bench-load -s PATH [-l LABEL] [-n SYNC] "
	    "[-c CONNECTIONS] [-d DEPTH] [-t SECONDS]\n"
	    "\t[-p PRINCIPAL] [-a ACTION] [-r RESOURCE] [-w FILE] [-e]\n");
	exit(2);
}

/*
 * The requests of FILE, all loaded before timing (strings kept for the
 * life of the process).  Every request carries the same context entry
 * and flags as the fixed one.
 */
static int
bench_load_requests(const char *file, unsigned flags)
{
	FILE		*f;
	char		*line = NULL, *fld[4], *p;
	size_t		 cap = 0, n = 0, alloc = 0, k;
	ssize_t		 len;
	unsigned long	 lineno = 0;
	struct kmsauthz_request *r;
	void		*nv;

	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		return (-1);
	}
	bench_reqs = NULL;
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		p = line;
		for (k = 0; k < 4; k++)
			if ((fld[k] = strsep(&p, "\t")) == NULL)
				break;
		if (k != 4 || p != NULL) {
			fprintf(stderr, "bench-load: %s:%lu: expected 4 "
			    "tab-separated fields\n", file, lineno);
			goto fail;
		}
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			if ((nv = realloc(bench_reqs, alloc *
			    sizeof(*bench_reqs))) == NULL)
				goto fail;
			bench_reqs = nv;
			if ((nv = realloc(bench_ips, alloc *
			    sizeof(*bench_ips))) == NULL)
				goto fail;
			bench_ips = nv;
		}
		r = &bench_reqs[n];
		*r = bench_req;
		r->flags = flags;
		if ((r->principal = strdup(fld[0])) == NULL ||
		    (r->action = strdup(fld[1])) == NULL ||
		    (r->resource = strdup(fld[2])) == NULL)
			goto fail;
		if (strcmp(fld[3], "-") == 0) {
			r->source_ip = NULL;
			r->source_ip_len = 0;
		} else if (inet_pton(AF_INET, fld[3], bench_ips[n]) == 1) {
			r->source_ip_len = 4;
		} else if (inet_pton(AF_INET6, fld[3], bench_ips[n]) == 1) {
			r->source_ip_len = 16;
		} else {
			fprintf(stderr, "bench-load: %s:%lu: bad address "
			    "'%s'\n", file, lineno, fld[3]);
			goto fail;
		}
		n++;
	}
	free(line);
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "bench-load: %s: no requests\n", file);
		return (-1);
	}
	/* Addresses last: bench_ips moved while growing. */
	for (k = 0; k < n; k++)
		if (bench_reqs[k].source_ip_len != 0)
			bench_reqs[k].source_ip = bench_ips[k];
	bench_nreqs = n;
	return (0);
fail:
	free(line);
	fclose(f);
	return (-1);
}

int
main(int argc, char **argv)
{
	const char	*path = NULL, *label = "target";
	size_t		 n = 20000, conns = 4, depth = 64;
	double		 secs = 3.0;
	const char	*reqfile = NULL;
	int		 ch;

	bench_req.principal = "acs:ram::1234567890123456:user/bench";
	bench_req.action = "kms:Decrypt";
	bench_req.resource = "acs:kms:cn-hangzhou:1234567890123456:key/"
	    "key-bench";
	bench_req.source_ip = bench_ip;
	bench_req.source_ip_len = sizeof(bench_ip);
	bench_req.context = bench_ctx;
	bench_req.ncontext = 1;
	while ((ch = getopt(argc, argv, "a:c:d:el:n:p:r:s:t:w:")) != -1) {
		switch (ch) {
		case 'a':
			bench_req.action = optarg;
			break;
		case 'c':
			conns = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			depth = strtoul(optarg, NULL, 10);
			break;
		case 'e':
			bench_req.flags |= KMSAUTHZ_CHECK_EXPLAIN;
			break;
		case 'l':
			label = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			bench_req.principal = optarg;
			break;
		case 'r':
			bench_req.resource = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'w':
			reqfile = optarg;
			break;
		default:
			bench_usage();
		}
	}
	if (path == NULL || optind != argc || n == 0 || conns == 0 ||
	    conns > 1024 || depth == 0 || depth > KMSAUTHZ_MAX_INFLIGHT ||
	    !(secs > 0 && secs < 3600))
		bench_usage();
	if (reqfile != NULL && bench_load_requests(reqfile,
	    bench_req.flags) == -1)
		return (1);
	if (bench_sync(label, path, n) == -1)
		return (1);
	if (bench_pipelined(label, path, conns, depth, secs) == -1)
		return (1);
	return (0);
}

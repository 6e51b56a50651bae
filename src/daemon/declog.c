/* SPDX-License-Identifier: ISC */
/*
 * declog.c: decision logs, OPA style: one JSON line per decision in
 * decision_log, written by a background thread.
 *
 * The decision path only copies: each worker owns a ring of bytes
 * (decision_log_ring, a power of two) with one producer (the worker)
 * and one consumer (the writer thread).  A record is a fixed header and
 * its strings, cut to bounded lengths, written in place and published
 * by a release store of the ring's head; the writer reads up to the
 * head (acquire) and hands the room back through the tail.  When the
 * room is short the record is dropped and counted: the worker never
 * waits, locks, allocates or makes a system call for the log.
 *
 * The writer formats the records (JSON, every string escaped, invalid
 * UTF-8 replaced) and appends them to the file, opened non-blocking so
 * that a stalled reader (a FIFO, a hung disk behind a pipe) stalls only
 * the writer: the rings fill and drop.  A file that cannot be opened or
 * written is reported once and retried every second; SIGHUP reopens it
 * (log rotation).
 */
#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "daemon/declog.h"
#include "daemon/declog-fmt.h"
#include "daemon/metrics.h"
#include "engine/eval.h"
#include "proto/proto.h"

#define DECLOG_WRAP		0xffffffffu	/* rest of the ring unused */
/* Big enough that one write(2) carries thousands of lines. */
#define DECLOG_OUT_SIZE		(1024 * 1024)
#define DECLOG_RETRY_MS		1000
#define DECLOG_IDLE_MS		10
#define DECLOG_BUSY_MS		1
#define DECLOG_EXIT_MS		2000

struct declog_ring {
	/* The worker's line. */
	atomic_uint_fast64_t	 head;
	uint64_t		 tail_seen;	/* worker's copy of tail */
	uint64_t		 rng;
	uint8_t			*buf;
	uint64_t		 mask;
	/* The writer's line. */
	atomic_uint_fast64_t	 tail __attribute__((__aligned__(64)));
} __attribute__((__aligned__(64)));

int	declog_enabled;

static struct declog_ring	*declog_rings;
static unsigned			 declog_nrings;
static char			 declog_path[CONFIG_PATH_MAX];
static pthread_t		 declog_thread;
static int			 declog_wake = -1;	/* eventfd */
static atomic_int		 declog_stopping;
static atomic_uint		 declog_reopen_gen;
/* The sampling knobs (SIGHUP may change them). */
static atomic_int		 declog_sample_all;
static atomic_uint_fast64_t	 declog_sample_thr;
static atomic_int		 declog_denies_all;
static atomic_int		 declog_values;
/* Written by the writer thread only. */
static atomic_uint_fast64_t	 declog_written;
static atomic_uint_fast64_t	 declog_errors;
static atomic_uint_fast64_t	 declog_lost;	/* not written at exit */

/* The writer's state. */
struct declog_out {
	int		 fd;
	int		 failing;	/* reported, retried */
	int64_t		 retry_ms;
	unsigned	 reopen_seen;
	char		*buf;
	size_t		 len, off;	/* bytes, bytes written */
	uint64_t	 nrec;		/* records in buf */
	struct declog_fmt fmt;
};

static void	*declog_main(void *);
static void	 declog_knobs(const struct config *);
static size_t	 declog_measure(const struct proto_check *,
		    const struct eval_answer *, int, struct declog_hdr *);
static void	 declog_fill(uint8_t *, const struct declog_hdr *,
		    const struct proto_check *, const struct eval_answer *);
static int64_t	 declog_now_ms(void);
static void	 declog_open(struct declog_out *);
static int	 declog_flush(struct declog_out *);
static size_t	 declog_drain(struct declog_out *, struct declog_ring *,
		    int *);

static size_t
declog_min(size_t a, size_t b)
{
	return (a < b ? a : b);
}

static void
declog_knobs(const struct config *cfg)
{
	double	s = cfg->decision_log_sample;

	atomic_store(&declog_sample_all, s >= 1.0);
	/* s < 1 here is at most 1 - 1e-6: s * 2^64 fits. */
	atomic_store(&declog_sample_thr, s <= 0 ? 0 : s >= 1.0 ? UINT64_MAX :
	    (uint64_t)(s * 18446744073709551616.0));
	atomic_store(&declog_denies_all,
	    strcmp(cfg->decision_log_denies, "all") == 0);
	atomic_store(&declog_values,
	    strcmp(cfg->decision_log_context, "values") == 0);
}

/*
 * The rings and the writer thread, before the workers start.  0, or -1
 * (logged).  A file that cannot be opened yet is not an error: it is
 * reported and retried, and decisions go on.
 */
int
declog_start(const struct config *cfg, unsigned nworkers)
{
	sigset_t	all, old;
	uint64_t	size = 1;
	unsigned	i;
	int		r;

	declog_enabled = 0;
	if (cfg->decision_log[0] == '\0')
		return (0);
	while (size * 2 <= cfg->decision_log_ring)
		size *= 2;
	snprintf(declog_path, sizeof(declog_path), "%s", cfg->decision_log);
	declog_knobs(cfg);
	declog_nrings = nworkers;
	declog_rings = xcalloc(nworkers, sizeof(*declog_rings));
	for (i = 0; i < nworkers; i++) {
		/* Pages are touched as records come: none for an idle one. */
		if ((declog_rings[i].buf = malloc((size_t)size)) == NULL) {
			log_warnx("decision_log: cannot allocate %u rings of "
			    "%" PRIu64 " bytes", nworkers, size);
			return (-1);
		}
		declog_rings[i].mask = size - 1;
		declog_rings[i].rng = 0x9e3779b97f4a7c15ull * (i + 1) ^
		    (uint64_t)time(NULL);
	}
	if ((declog_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		log_warn("decision_log: eventfd");
		return (-1);
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&declog_thread, NULL, declog_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errno = r;
		log_warn("decision_log: pthread_create");
		return (-1);
	}
	declog_enabled = 1;
	log_info("decision_log: %s (sample %.6g, denies %s, context %s, "
	    "%" PRIu64 "-byte ring per worker)", declog_path,
	    cfg->decision_log_sample, cfg->decision_log_denies,
	    cfg->decision_log_context, size);
	return (0);
}

static void
declog_poke(void)
{
	uint64_t	one = 1;

	if (declog_wake != -1 && write(declog_wake, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		log_warn("decision_log: eventfd write");
}

/* After the workers stopped: the writer drains the rings, and exits. */
void
declog_stop(void)
{
	struct declog_counts	dc;
	unsigned		i;

	if (!declog_enabled)
		return;
	atomic_store(&declog_stopping, 1);
	declog_poke();
	pthread_join(declog_thread, NULL);
	declog_counts(&dc);
	log_info("decision_log: %" PRIu64 " records written, %" PRIu64
	    " dropped", dc.written, dc.dropped);
	for (i = 0; i < declog_nrings; i++)
		free(declog_rings[i].buf);
	free(declog_rings);
	declog_rings = NULL;
	close(declog_wake);
	declog_wake = -1;
	declog_enabled = 0;
}

void
declog_reload(const struct config *cfg)
{
	if (!declog_enabled)
		return;
	declog_knobs(cfg);
	atomic_fetch_add(&declog_reopen_gen, 1);
	declog_poke();
}

struct declog_ring *
declog_ring(unsigned id)
{
	if (declog_rings == NULL || id >= declog_nrings)
		return (NULL);
	return (&declog_rings[id]);
}

void
declog_counts(struct declog_counts *dc)
{
	dc->written = atomic_load(&declog_written);
	dc->dropped = metrics_declog_dropped() + atomic_load(&declog_lost);
	dc->errors = atomic_load(&declog_errors);
}

/*
 * The record's size; h gets the lengths of its fields and lists once
 * cut so that it fits DECLOG_REC_MAX, and DL_CUT when anything was cut.
 */
static size_t
declog_measure(const struct proto_check *chk, const struct eval_answer *ans,
    int values, struct declog_hdr *h)
{
	const struct eval_match	*m;
	size_t			 len, more;
	unsigned		 i;

	h->plen = (uint16_t)declog_min(chk->principal.len, DECLOG_FIELD_MAX);
	h->alen = (uint16_t)declog_min(chk->action.len, DECLOG_FIELD_MAX);
	h->rlen = (uint16_t)declog_min(chk->resource.len, DECLOG_FIELD_MAX);
	len = sizeof(struct declog_hdr) + h->plen + h->alen + h->rlen;
	if (h->plen != chk->principal.len || h->alen != chk->action.len ||
	    h->rlen != chk->resource.len)
		h->flags |= DL_CUT;
	for (i = 0; i < chk->nctx && i < KMSAUTHZ_MAX_CONTEXT; i++) {
		more = 1 + declog_min(chk->ctx[i].key.len, 255);
		if (values)
			more += 2 + declog_min(chk->ctx[i].value.len,
			    DECLOG_VALUE_MAX);
		if (len + more > DECLOG_REC_MAX - 7)
			break;
		if (chk->ctx[i].key.len > 255 || (values &&
		    chk->ctx[i].value.len > DECLOG_VALUE_MAX))
			h->flags |= DL_CUT;
		len += more;
	}
	h->nctx = (uint8_t)i;
	if (i < chk->nctx)
		h->flags |= DL_CUT;
	for (i = 0; i < ans->nmatched && i < EVAL_MAX_MATCHED; i++) {
		m = &ans->matched[i];
		more = 1 + 4 + 2 + declog_min(m->namelen, 255) + 2 +
		    declog_min(m->sid != NULL ? m->sidlen : 0, DECLOG_SID_MAX);
		if (len + more > DECLOG_REC_MAX - 7)
			break;
		len += more;
	}
	h->nmatch = (uint8_t)i;
	if (i < ans->nmatched)
		h->flags |= DL_CUT;
	return ((len + 7) & ~(size_t)7);
}

/*
 * Not inlined: with the lengths' bounds in sight the compiler copies
 * with rep movs, whose start-up costs more than a call to memcpy for
 * the tens of bytes a field holds.
 */
static __attribute__((__noinline__)) uint8_t *
declog_put(uint8_t *p, const void *src, size_t len)
{
	memcpy(p, src, len);
	return (p + len);
}

/* The record after its header: the strings and lists h measured. */
static void
declog_fill(uint8_t *p, const struct declog_hdr *h,
    const struct proto_check *chk, const struct eval_answer *ans)
{
	const struct eval_match	*m;
	uint16_t		 n16;
	uint32_t		 n32;
	uint8_t			 n8;
	unsigned		 i;

	p = declog_put(p, chk->principal.ptr, h->plen);
	p = declog_put(p, chk->action.ptr, h->alen);
	p = declog_put(p, chk->resource.ptr, h->rlen);
	for (i = 0; i < h->nctx; i++) {
		n8 = (uint8_t)declog_min(chk->ctx[i].key.len, 255);
		p = declog_put(p, &n8, 1);
		p = declog_put(p, chk->ctx[i].key.ptr, n8);
		if (h->flags & DL_VALUES) {
			n16 = (uint16_t)declog_min(chk->ctx[i].value.len,
			    DECLOG_VALUE_MAX);
			p = declog_put(p, &n16, 2);
			p = declog_put(p, chk->ctx[i].value.ptr, n16);
		}
	}
	for (i = 0; i < h->nmatch; i++) {
		m = &ans->matched[i];
		n8 = m->source == EVAL_SRC_KEY;
		p = declog_put(p, &n8, 1);
		n32 = m->index;
		p = declog_put(p, &n32, 4);
		n16 = (uint16_t)declog_min(m->namelen, 255);
		p = declog_put(p, &n16, 2);
		p = declog_put(p, m->name, n16);
		n16 = (uint16_t)declog_min(m->sid != NULL ? m->sidlen : 0,
		    DECLOG_SID_MAX);
		p = declog_put(p, &n16, 2);
		if (n16 != 0)
			p = declog_put(p, m->sid, n16);
	}
}

/*
 * One decision, on its worker's thread: sampled, measured, copied into
 * the ring and published, or dropped and counted when the ring has no
 * room.  No lock, no allocation, no system call (the clock is vDSO).
 */
void
declog_record(struct declog_ring *r, struct metrics_cell *mc,
    const struct conn *c, uint32_t reqid, int item,
    const struct proto_check *chk, const struct eval_answer *ans,
    const struct timespec *now)
{
	struct declog_hdr	 h, *hp;
	struct timespec		 ts;
	uint64_t		 head, off, need, len, x;
	int			 values;

	if (r == NULL)
		return;
	if (!(ans->decision != EVAL_ALLOW &&
	    atomic_load_explicit(&declog_denies_all, memory_order_relaxed)) &&
	    !atomic_load_explicit(&declog_sample_all, memory_order_relaxed)) {
		/* xorshift64*: a private generator per worker. */
		x = r->rng;
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		r->rng = x;
		if (x * 0x2545f4914f6cdd1dull >= atomic_load_explicit(
		    &declog_sample_thr, memory_order_relaxed))
			return;
	}
	/* h: what the measure needs and finds (the ring's copy: below). */
	values = atomic_load_explicit(&declog_values, memory_order_relaxed);
	h.flags = (values ? DL_VALUES : 0) |
	    ((chk->flags & KMSAUTHZ_CHECK_EXPLAIN) ? DL_EXPLAIN : 0) |
	    (ans->truncated ? DL_MCUT : 0);
	len = declog_measure(chk, ans, values, &h);
	head = atomic_load_explicit(&r->head, memory_order_relaxed);
	off = head & r->mask;
	need = off + len > r->mask + 1 ? len + (r->mask + 1 - off) : len;
	if (need > r->mask + 1 - (head - r->tail_seen)) {
		r->tail_seen = atomic_load_explicit(&r->tail,
		    memory_order_acquire);
		if (need > r->mask + 1 - (head - r->tail_seen)) {
			metrics_add(&mc->declog_dropped, 1);
			return;
		}
	}
	if (need != len) {
		/* No room before the end: mark it skipped, start over. */
		x = DECLOG_WRAP;
		memcpy(r->buf + off, &x, sizeof(uint32_t));
		head += r->mask + 1 - off;
		off = 0;
	}
	if (now == NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = &ts;
	}
	/*
	 * The header is written in place, field by field (off is a
	 * multiple of 8): a copy of it from the stack compiled to a slow
	 * rep movs.
	 */
	hp = (struct declog_hdr *)(void *)(r->buf + off);
	hp->len = (uint32_t)len;
	hp->decision = (uint8_t)ans->decision;
	hp->reason = (uint8_t)ans->reason;
	hp->flags = h.flags;
	hp->ip_len = chk->ip_len <= 16 ? chk->ip_len : 0;
	hp->sec = now->tv_sec;
	hp->usec = (uint32_t)(now->tv_nsec / 1000);
	hp->reqid = reqid;
	hp->generation = ans->generation;
	hp->uid = (uint32_t)c->uid;
	hp->pid = (int32_t)c->pid;
	hp->item = item;
	hp->plen = h.plen;
	hp->alen = h.alen;
	hp->rlen = h.rlen;
	hp->nctx = h.nctx;
	hp->nmatch = h.nmatch;
	memcpy(hp->ip, chk->ip, sizeof(hp->ip));
	declog_fill(r->buf + off + sizeof(*hp), &h, chk, ans);
	atomic_store_explicit(&r->head, head + len, memory_order_release);
	metrics_add(&mc->declog_queued, 1);
}

static int64_t
declog_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * (Re)open the file: append, create 0640, and non-blocking so that a
 * FIFO nobody reads stalls nothing (without a reader its open fails
 * with ENXIO: reported and retried like any other failure).
 */
static void
declog_open(struct declog_out *o)
{
	if (o->fd != -1)
		close(o->fd);
	o->fd = open(declog_path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY, 0640);
	if (o->fd == -1) {
		atomic_fetch_add(&declog_errors, 1);
		if (!o->failing)
			log_warn("decision_log %s: cannot open (decisions go "
			    "on; records wait in the rings, dropped when full; "
			    "retried every second)", declog_path);
		o->failing = 1;
		o->retry_ms = declog_now_ms() + DECLOG_RETRY_MS;
		return;
	}
	if (o->failing)
		log_warnx("decision_log %s: open again", declog_path);
	o->failing = 0;
}

/*
 * Write what is buffered.  1: all of it went; 0: the file takes no more
 * now (EAGAIN); -1: it failed (reported, closed, retried later).
 */
static int
declog_flush(struct declog_out *o)
{
	ssize_t	n;

	while (o->off < o->len) {
		n = write(o->fd, o->buf + o->off, o->len - o->off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (0);
		if (n <= 0) {
			atomic_fetch_add(&declog_errors, 1);
			if (!o->failing)
				log_warn("decision_log %s: write (decisions go "
				    "on; retried every second)", declog_path);
			o->failing = 1;
			close(o->fd);
			o->fd = -1;
			o->retry_ms = declog_now_ms() + DECLOG_RETRY_MS;
			return (-1);
		}
		o->off += (size_t)n;
	}
	atomic_store(&declog_written, atomic_load(&declog_written) + o->nrec);
	o->len = o->off = 0;
	o->nrec = 0;
	return (1);
}

/*
 * Format what ring r holds into o's buffer, as room allows; *more is
 * set when records are left (the buffer is full).
 */
static size_t
declog_drain(struct declog_out *o, struct declog_ring *r, int *more)
{
	uint64_t	 head, tail;
	uint32_t	 len;
	size_t		 n = 0;
	const uint8_t	*rec;

	head = atomic_load_explicit(&r->head, memory_order_acquire);
	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	while (tail != head && DECLOG_OUT_SIZE - o->len >= DECLOG_LINE_MAX) {
		rec = r->buf + (tail & r->mask);
		memcpy(&len, rec, sizeof(len));
		if (len == DECLOG_WRAP) {
			tail += r->mask + 1 - (tail & r->mask);
			continue;
		}
		o->len += declog_fmt_line(&o->fmt, o->buf + o->len, rec);
		o->nrec++;
		tail += len;
		n++;
	}
	if (tail != head)
		*more = 1;
	atomic_store_explicit(&r->tail, tail, memory_order_release);
	return (n);
}

static void *
declog_main(void *arg)
{
	struct declog_out	 o;
	struct pollfd		 pfd[2];
	uint64_t		 v;
	int64_t			 deadline = 0;
	size_t			 got;
	unsigned		 i, gen, first = 0;
	int			 stopping, timeout, flushed, more;

	memset(&o, 0, sizeof(o));
	o.fd = -1;
	declog_fmt_init(&o.fmt);
	o.buf = xmalloc(DECLOG_OUT_SIZE);
	o.reopen_seen = atomic_load(&declog_reopen_gen);
	declog_open(&o);
	for (;;) {
		stopping = atomic_load(&declog_stopping);
		if (stopping && deadline == 0)
			deadline = declog_now_ms() + DECLOG_EXIT_MS;
		gen = atomic_load(&declog_reopen_gen);
		if (gen != o.reopen_seen) {
			/* SIGHUP: what is buffered goes to the old file. */
			o.reopen_seen = gen;
			if (o.fd != -1)
				(void)declog_flush(&o);
			declog_open(&o);
		} else if (o.fd == -1 && declog_now_ms() >= o.retry_ms)
			declog_open(&o);
		flushed = o.fd != -1 ? declog_flush(&o) : -1;
		got = 0;
		more = 0;
		if (flushed == 1) {
			/* Each pass starts at the next ring: none starves. */
			for (i = 0; i < declog_nrings; i++)
				got += declog_drain(&o, &declog_rings[(first +
				    i) % declog_nrings], &more);
			first = (first + 1) % declog_nrings;
		}
		if (got != 0 && o.fd != -1)
			flushed = declog_flush(&o);
		if (stopping && ((got == 0 && o.len == 0) ||
		    declog_now_ms() >= deadline))
			break;
		/* Records left and the file took the last batch: at once. */
		if (more && flushed == 1)
			continue;
		timeout = got != 0 ? DECLOG_BUSY_MS : DECLOG_IDLE_MS;
		pfd[0].fd = declog_wake;
		pfd[0].events = POLLIN;
		pfd[1].fd = o.fd;
		pfd[1].events = POLLOUT;
		/* Waiting for a full pipe to drain, or for a poke. */
		if (poll(pfd, flushed == 0 ? 2 : 1, timeout) > 0 &&
		    (pfd[0].revents & POLLIN))
			(void)read(declog_wake, &v, sizeof(v));
	}
	/* Whatever could not be written in time is counted, not lost. */
	v = o.nrec;
	for (i = 0; i < declog_nrings; i++) {
		o.len = 0;
		o.nrec = 0;
		while (declog_drain(&o, &declog_rings[i], &more) != 0) {
			v += o.nrec;
			o.len = 0;
			o.nrec = 0;
		}
	}
	atomic_store(&declog_lost, v);
	if (o.fd != -1)
		close(o.fd);
	free(o.buf);
	return (NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * metrics.h: the daemon's metrics (metrics.c) and their HTTP endpoint
 * (metrics-http.c): per-thread cells written only by their own thread,
 * summed when scraped (docs/operations.md).
 */
#ifndef KMSAUTHZ_METRICS_H
#define KMSAUTHZ_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "daemon/daemon.h"
#include "engine/eval.h"
#include "kmsauthz-proto.h"

/* One cell per worker, and the last one for the main thread. */
#define METRICS_CELLS		(CONFIG_THREADS_MAX + 1)
#define METRICS_MAIN		CONFIG_THREADS_MAX

/* kmsauthz_check_duration_seconds: 1 us to 10 ms, then +Inf. */
#define METRICS_DUR_BOUNDS	13
/* kmsauthz_batch_size: 1, 2, 4, ... KMSAUTHZ_MAX_BATCH (128). */
#define METRICS_BATCH_BOUNDS	8
/* kmsauthz_admin_request_duration_seconds: 100 us to 10 s. */
#define METRICS_ADMIN_BOUNDS	16

enum metrics_frame {
	METRICS_F_HELLO = 0,
	METRICS_F_PING,
	METRICS_F_STATUS,
	METRICS_F_CHECK,
	METRICS_F_CHECK_BATCH,
	METRICS_F_ADMIN,
	METRICS_F_OTHER,
	METRICS_F_COUNT
};

/*
 * Everything one thread counts, on cache lines of its own: only that
 * thread stores (a relaxed load and store, no read-modify-write), the
 * scrape loads.  No line is shared with another writer.
 */
struct metrics_cell {
	atomic_uint_fast64_t	decisions[3][EVAL_R_COUNT];
	atomic_uint_fast64_t	dur[METRICS_DUR_BOUNDS + 1];
	atomic_uint_fast64_t	dur_sum_ns;
	atomic_uint_fast64_t	frames[METRICS_F_COUNT];
	atomic_uint_fast64_t	errors[KMSAUTHZ_WERR_MAX + 1];
	atomic_uint_fast64_t	batch[METRICS_BATCH_BOUNDS + 1];
	atomic_uint_fast64_t	batch_items;
	atomic_uint_fast64_t	declog_dropped;	/* ring full */
	atomic_uint_fast64_t	declog_queued;
} __attribute__((__aligned__(64)));

/*
 * Set once before any worker starts (then only read): whether frames
 * are timed for kmsauthz_check_duration_seconds.  Off when no
 * metrics_listen is configured, so that the decision path then reads
 * no clock for metrics at all.
 */
extern int	metrics_timing;

/* Only the owning thread stores: a relaxed load and store, no lock. */
static inline void
metrics_add(atomic_uint_fast64_t *p, uint64_t n)
{
	atomic_store_explicit(p, atomic_load_explicit(p,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

static inline uint64_t
metrics_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* metrics.c */
struct metrics_cell *metrics_cell(unsigned);
void	 metrics_decision(struct metrics_cell *, int decision, int reason);
void	 metrics_check_time(struct metrics_cell *, uint64_t ns);
void	 metrics_batch(struct metrics_cell *, unsigned count);
void	 metrics_frame(struct metrics_cell *, uint16_t type);
void	 metrics_error(struct metrics_cell *, uint16_t code);
/* Main thread: one admin call (action name, error code or NULL). */
void	 metrics_admin(const char *action, const char *code, uint64_t ns);
/* A world was published (any thread that publishes). */
void	 metrics_published(void);
void	 metrics_reload_failed(void);
uint64_t metrics_reload_failures(void);
uint64_t metrics_declog_dropped(void);
/* The exposition (text format 0.0.4) into buf. */
struct evbuffer;
int	 metrics_write(struct evbuffer *, struct server *);

/* metrics-http.c */
enum metrics_state {
	METRICS_STARTING = 0,
	METRICS_READY,
	METRICS_DRAINING
};
int	 metrics_http_start(struct server *, const struct config *);
void	 metrics_http_stop(void);
void	 metrics_set_state(enum metrics_state);

#endif

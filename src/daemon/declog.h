/* SPDX-License-Identifier: ISC */
/*
 * declog.h: decision logs (declog.c).  Each worker copies a decision
 * into its own bounded ring (no lock, no allocation, no system call);
 * one background thread formats the rings' records as JSON lines and
 * writes them to decision_log.  A full ring drops the record and counts
 * it; a decision never waits for the log.
 */
#ifndef KMSAUTHZ_DECLOG_H
#define KMSAUTHZ_DECLOG_H

#include <stdint.h>
#include <time.h>

struct config;
struct conn;
struct declog_ring;
struct eval_answer;
struct metrics_cell;
struct proto_check;

/* Bounds (config.c checks decision_log_ring against them). */
#define DECLOG_RING_MIN		(16u * 1024)
#define DECLOG_RING_MAX		(256u * 1024 * 1024)
#define DECLOG_RING_DEFAULT	(4u * 1024 * 1024)
/* A record in a ring, at most: long fields are cut, and flagged. */
#define DECLOG_REC_MAX		4096
#define DECLOG_FIELD_MAX	512	/* principal, action, resource */
#define DECLOG_VALUE_MAX	256	/* a context value */
#define DECLOG_SID_MAX		128

struct declog_counts {
	uint64_t	written;	/* records in the file */
	uint64_t	dropped;	/* ring full, or unwritable at exit */
	uint64_t	errors;		/* failed opens and writes */
};

/*
 * Set before the workers start when decision_log is configured: 1.
 * Read by the workers (never written after they start).
 */
extern int	declog_enabled;

int	 declog_start(const struct config *, unsigned nworkers);
void	 declog_stop(void);
/* SIGHUP: reopen the file (rotation), take the new sampling knobs. */
void	 declog_reload(const struct config *);
struct declog_ring *declog_ring(unsigned worker);
/*
 * One decision (worker thread): copied into the ring when sampled,
 * else nothing; never blocks.  now: the wall clock of the decision.
 */
void	 declog_record(struct declog_ring *, struct metrics_cell *,
	    const struct conn *, uint32_t reqid, int batch_index,
	    const struct proto_check *, const struct eval_answer *,
	    const struct timespec *now);
void	 declog_counts(struct declog_counts *);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * fleet-int.h: what fleet.c, fleet-mirror.c and fleet-write.c share.
 *
 * Two threads meet here: the mirror's (its event_base runs the etcd
 * client, the watch, the resyncs and the writes' transactions) and the
 * admin plane's (the store's sink: it hands a change to the mirror's
 * thread and waits).  Everything under "shared" is read and written
 * with mu held; cv is broadcast whenever applied, state or a request's
 * outcome moves.
 */
#ifndef KMSAUTHZ_FLEET_INT_H
#define KMSAUTHZ_FLEET_INT_H

#include <pthread.h>
#include <time.h>

#include "fleet/etcd.h"
#include "fleet/fleet.h"
#include "store/store-cset.h"

struct event;
struct event_base;
struct fleet_reclaim;

/* A change handed to the mirror's thread (fleet-write.c). */
struct fleet_req {
	/* In. */
	const struct store_cset	*cs;
	uint64_t		 gen;		/* the plan's generation */
	char			 data[FLEET_DATA_ID_MAX]; /* its data set */
	int64_t			 current_mod;	/* "current" as planned */
	/* Out. */
	int			 done;
	int			 rc;		/* STORE_OK, _ECONFLICT, ... */
	int64_t			 revision;	/* of the write, or etcd's */
	char			 why[ETCD_ERR_MAX];
	/* The mirror's thread: a bulk write in progress. */
	struct fleet_stage	 stage;
	size_t			 next;		/* records written so far */
};

struct fleet {
	/* Configuration (copies). */
	char			 prefix[FLEET_PREFIX_MAX];
	char			*endpoints;
	char			*cacert, *cert, *key, *user;
	char			 password[ETCD_PASSWORD_MAX];
	unsigned		 timeout;
	unsigned		 max_staleness;
	unsigned		 stage_ttl;	/* seconds */
	unsigned		 reclaim_interval; /* seconds */
	char			 who[320];	/* this daemon, as a stager */
	char			*key_current;	/* PREFIX current */
	struct store		*st;
	void			(*published)(void *);
	void			*published_arg;

	/* The mirror's thread. */
	pthread_t		 thread;
	int			 running;	/* fleet_run started it */
	struct event_base	*base;
	struct etcd_client	*cli;
	struct etcd_watch	*watch;
	struct event		*tick;		/* every second */
	struct event		*wake;		/* a request, or stop */
	int			 busy;		/* a range, resync or status */
	int			 force_resync;	/* next contact resyncs */
	time_t			 retry_at;	/* backoff of the next try */
	unsigned		 backoff;	/* seconds */
	struct store_cset	 rs;		/* a resync being read */
	int			 rs_bad;	/* it met a refused record */
	int64_t			 rs_rev;	/*   at this revision */
	int64_t			 rs_maxmod;	/* its newest record's */
	int64_t			 rs_curmod;	/* "current"'s mod_revision */
	int			 rs_plain;	/* generation: rs_rev */
	int64_t			 replay_to;	/* deletes only, up to it */
	char			 rs_data[FLEET_DATA_ID_MAX]; /* this set */
	char			*rs_prefix;	/*   whose keys start so */
	struct fleet_req	*active;	/* the write in progress */
	struct event		*stage_ka;	/* keeps its lease alive */
	int64_t			 stage_lease;	/*   that lease; 0: none */
	int			 ka_busy;	/* a keep-alive in flight */
	time_t			 reclaim_at;	/* the next reclaim round */
	int			 reclaiming;	/* calls of a round in flight */
	struct fleet_reclaim	*rc;		/*   and what it found */
	int64_t			 probe_rev;	/* the last probe's revision */
	int64_t			 silent_from;	/* a silent watch's check: */
	int64_t			 silent_upto;	/*   (seen, probe_rev] */
	int64_t			 silent_wrev;	/*   the watch's revision */
	int64_t			 own_rev;	/* this host's last write */
	struct timespec		 own_at;	/*   when etcd took it */

	/* Shared (mu). */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	enum fleet_state	 state;
	int			 connected;
	int			 stop;
	uint64_t		 cluster_id;
	int64_t			 applied;	/* the store's generation */
	int64_t			 seen;		/* every event to here done */
	time_t			 last_contact;
	char			 data[FLEET_DATA_ID_MAX]; /* "" : none yet */
	int64_t			 current_mod;	/* of "current"; 0: absent */
	char			 degraded[ETCD_ERR_MAX]; /* why, or "" */
	char			 last_error[ETCD_ERR_MAX];
	struct fleet_req	*pending;	/* handed over, not taken */
	uint64_t		 reclaimed;	/* data sets this host removed */
	uint64_t		 watch_restarts; /* silent watches reopened */
};

/* fleet.c */
void	fleet_set_state(struct fleet *, enum fleet_state, const char *why);
void	fleet_contact(struct fleet *, int ok, const char *why);
uint64_t fleet_applied(struct fleet *);

/* fleet-mirror.c: the mirror's thread. */
void	fleet_mirror_connect(struct fleet *);
void	fleet_mirror_tick(struct fleet *);
void	fleet_mirror_stop(struct fleet *);

/* fleet-reclaim.c: data sets neither current nor staged, removed. */
void	fleet_reclaim_tick(struct fleet *);
void	fleet_reclaim_soon(struct fleet *);
void	fleet_reclaim_free(struct fleet *);

/* fleet-write.c */
int	fleet_sink(struct store *, const struct store_cset *, uint64_t gen,
	    void *arg, uint64_t *genp);
void	fleet_write_run(struct fleet *);	/* the mirror's thread */
void	fleet_write_abort(struct fleet *);
void	fleet_stage_keepalive(struct fleet *);

#endif

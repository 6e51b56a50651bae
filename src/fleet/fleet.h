/* SPDX-License-Identifier: ISC */
/*
 * fleet.h: fleet mode (docs/fleet.md).  etcd holds the fleet's state;
 * this host mirrors it into its store on a thread of its own (the
 * mirror: fleet-mirror.c) and writes its admin changes there (the
 * store's sink: fleet-write.c).  The layout in etcd, under the prefix:
 *
 *	PREFIX current			{"Data":"ID"}: the live data set
 *	PREFIX data/ID/TYPE/KEY...	one record (store-json.h), as JSON
 *	PREFIX sets/ID			every data set there is (who made it)
 *	PREFIX staging/ID		a set being staged, on the stager's
 *					lease: gone when it stops
 *
 * A bulk import writes a new data set beside the live one and switches
 * "current" in one small transaction, so no host ever sees half of it.
 * A set that is neither current nor staged is reclaimed by any host.
 */
#ifndef KMSAUTHZ_FLEET_H
#define KMSAUTHZ_FLEET_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct json_object;

#define FLEET_PREFIX_DEFAULT	"/kmsauthz/"
#define FLEET_PREFIX_MAX	256
#define FLEET_STALENESS_DEFAULT	30	/* seconds */
#define FLEET_DATA_ID_MAX	40
/* Keys read or written in one page of a resync. */
#define FLEET_PAGE		1000
/* The lease of a set being staged, and the pause between reclaims. */
#define FLEET_STAGE_TTL_DEFAULT	30	/* seconds */
#define FLEET_RECLAIM_DEFAULT	60	/* seconds */

struct fleet_config {
	const char	*endpoints;	/* NULL or "": standalone */
	const char	*prefix;	/* NULL: FLEET_PREFIX_DEFAULT */
	const char	*cacert;
	const char	*cert;
	const char	*key;
	const char	*user;
	const char	*password_file;
	unsigned	 timeout;	/* seconds; 0: the client's default */
	unsigned	 max_staleness;	/* seconds; 0: the default */
	unsigned	 stage_ttl;	/* seconds; 0: the default */
	unsigned	 reclaim_interval; /* seconds; 0: the default */
};

enum fleet_state {
	FLEET_STANDALONE = 0,	/* no etcd_endpoints */
	FLEET_SYNCING,		/* no whole state from etcd yet */
	FLEET_SERVING,		/* in step with etcd */
	FLEET_STALE,		/* serving, but no contact for too long */
	FLEET_DEGRADED		/* a record etcd holds is refused */
};

const char	*fleet_state_name(enum fleet_state);

struct fleet;

/*
 * Makes store st's (loaded) changes go to etcd (refused until the
 * mirror has heard from it) and prepares the mirror; fleet_run starts
 * its thread, once whatever published(arg) touches exists.
 * published(arg) is called on the mirror's thread after each world it
 * publishes in st's holder.  NULL, or -1, with why in err.
 */
struct fleet	*fleet_start(const struct fleet_config *, struct store *st,
		    void (*published)(void *), void *arg, char *err,
		    size_t errlen);
int		 fleet_run(struct fleet *, char *err, size_t errlen);
/* Stops the thread; st is a standalone store again. */
void		 fleet_stop(struct fleet *);

/* The Status "Fleet" object (docs/admin-api.md). */
struct json_object *fleet_status_json(struct fleet *);
enum fleet_state fleet_state(struct fleet *);

/*
 * The prefix's keys (fleet.c): "PREFIX current", "PREFIX data/ID/",
 * "PREFIX sets/ID" (NULL id: "PREFIX sets/"), "PREFIX staging/ID".
 */
char	*fleet_key_current(const char *prefix);
char	*fleet_key_data(const char *prefix, const char *id);
char	*fleet_key_set(const char *prefix, const char *id);
char	*fleet_key_staging(const char *prefix, const char *id);
/* A set's registry value: {"By":who,"Since":"now, UTC"}. */
char	*fleet_stage_json(const char *who);
/* Who this process is, for a set's registry value. */
void	 fleet_who(const char *what, char *out, size_t outlen);
/* A new data set id: 16 random hex digits. */
void	 fleet_data_id(char out[FLEET_DATA_ID_MAX]);
/* The JSON of "current" and its data id back (0, or -1). */
char	*fleet_current_json(const char *id);
int	 fleet_current_parse(const void *, size_t, char *id, size_t);

/*
 * Transactions of the layout, for this host's writes and for tools
 * (kmsauthzctl fleet push): puts of a change-set's records into a data
 * set staged beside the live one, then the switch of "current" to it.
 * The first batch registers the set (sets/ID) and puts staging/ID on
 * the stager's lease; every later batch, and the switch, holds only
 * while staging/ID is there, so a set reclaimed once its lease ended
 * is never written again nor made current.
 */
struct fleet_stage {
	const char	*prefix;
	char		 id[FLEET_DATA_ID_MAX];
	int64_t		 lease;		/* staging/ID's */
	const char	*who;		/* its registry value's "By" */
	size_t		 batches;	/* transactions made so far */
};

struct fleet_txn;
struct etcd_txn_req;
struct store_cset;
struct fleet_txn *fleet_txn_new(void);
void	 fleet_txn_reset(struct fleet_txn *);
void	 fleet_txn_free(struct fleet_txn *);
size_t	 fleet_txn_stage(struct fleet_txn *, struct fleet_stage *,
	    const struct store_cset *, size_t from);
/* After fleet_txn_stage found nothing left to put, on the same txn. */
void	 fleet_txn_switch(struct fleet_txn *, const struct fleet_stage *,
	    int64_t current_mod, const char *old);
/* The removal of a set neither current (mod: "current" as read) nor
 * staged, with its entry. */
void	 fleet_txn_reclaim(struct fleet_txn *, const char *prefix,
	    const char *id, int64_t current_mod);
/* The request the transaction makes (valid while it lives). */
void	 fleet_txn_req(const struct fleet_txn *, struct etcd_txn_req *);

#endif

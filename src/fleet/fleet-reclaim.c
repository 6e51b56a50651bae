/* SPDX-License-Identifier: ISC */
/*
 * fleet-reclaim.c: data sets left behind (docs/fleet.md, "Bulk").  A
 * set is registered (sets/ID) when its staging starts, and staged while
 * staging/ID, on the stager's lease, is there; an importer that dies
 * or stalls stops keeping its lease alive, and etcd deletes staging/ID.
 * Every host, on start, after each switch it sees and then every
 * reclaim interval at most (jittered, so that hosts spread out), reads
 * the registry and the staging keys (keys only) and removes each set
 * that is neither current nor staged, one transaction a set whose
 * compares make it safe against a switch or a staging in between and
 * against other hosts doing the same (the first one removes it, the
 * others' compares fail).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "fleet/fleet-int.h"

/* Sets removed in one round (the rest wait for the next one). */
#define FLEET_RECLAIM_MAX	16

struct fleet_reclaim_one {
	struct fleet		*f;
	char			 id[FLEET_DATA_ID_MAX];
};

struct fleet_reclaim {
	char			 cur[FLEET_DATA_ID_MAX]; /* "current" read */
	int64_t			 curmod;
	size_t			 n;		/* candidates: in one[] */
	struct fleet_reclaim_one one[FLEET_RECLAIM_MAX];
};

/* The next round, between half the interval and all of it from now. */
static void
fleet_reclaim_later(struct fleet *f)
{
	uint32_t	 half = f->reclaim_interval / 2;

	f->reclaim_at = time(NULL) + (time_t)(f->reclaim_interval - half) +
	    (time_t)randombytes_uniform(half + 1);
}

void
fleet_reclaim_soon(struct fleet *f)
{
	f->reclaim_at = 0;
}

void
fleet_reclaim_free(struct fleet *f)
{
	free(f->rc);
	f->rc = NULL;
}

/* The id a key under base names, or NULL when it is not one. */
static const char *
fleet_reclaim_id(const struct etcd_kv *kv, const char *base)
{
	const char	*id;
	size_t		 n, b = strlen(base);

	if (kv->keylen <= b || (n = kv->keylen - b) >= FLEET_DATA_ID_MAX)
		return (NULL);
	id = (const char *)kv->key + b;
	if (strlen(id) != n ||
	    strspn(id, "0123456789abcdefghijklmnopqrstuvwxyz") != n)
		return (NULL);
	return (id);
}

/* The keys under base (keys only, one page), to cb; 0, or -1. */
static int
fleet_reclaim_keys(struct fleet *f, char *base, etcd_range_cb *cb)
{
	struct etcd_range_req	 q;
	struct etcd_error	 e;
	uint8_t			 end[FLEET_PREFIX_MAX + 64];
	int			 rc;

	memset(&q, 0, sizeof(q));
	q.key = base;
	q.keylen = strlen(base);
	q.range_end = end;
	q.range_end_len = etcd_prefix_end(base, strlen(base), end,
	    sizeof(end));
	q.keys_only = 1;
	q.limit = FLEET_PAGE;
	rc = etcd_range(f->cli, &q, cb, f, &e);
	free(base);
	return (rc);
}

static void
fleet_reclaim_done(const struct etcd_error *err,
    const struct etcd_txn_res *res, void *arg)
{
	struct fleet_reclaim_one *o = arg;
	struct fleet		*f = o->f;

	f->reclaiming--;
	if (err != NULL && err->kind != ETCD_E_NONE) {
		log_warnx("fleet: reclaiming data set %s: %s", o->id,
		    err->msg);
		return;
	}
	if (!res->succeeded)
		return;		/* current, staged again, or gone already */
	/* Its records, and its entry. */
	log_info("fleet: data set %s reclaimed at revision %" PRId64
	    " (%" PRId64 " records): neither current nor staged", o->id,
	    res->header.revision, res->deleted > 0 ? res->deleted - 1 : 0);
	pthread_mutex_lock(&f->mu);
	f->reclaimed++;
	pthread_mutex_unlock(&f->mu);
}

static void
fleet_reclaim_staging(const struct etcd_error *err,
    const struct etcd_range_res *res, void *arg)
{
	struct fleet		*f = arg;
	struct fleet_reclaim	*rc = f->rc;
	struct fleet_txn	*t;
	struct etcd_txn_req	 q;
	struct etcd_error	 e;
	char			*base = fleet_key_staging(f->prefix, NULL);
	const char		*id;
	size_t			 i, j;

	f->reclaiming = 0;
	for (i = 0; err == NULL && i < res->nkvs; i++) {
		if ((id = fleet_reclaim_id(&res->kvs[i], base)) == NULL)
			continue;
		for (j = 0; j < rc->n; j++)
			if (strcmp(rc->one[j].id, id) == 0)
				rc->one[j].id[0] = '\0';	/* staged */
	}
	free(base);
	if (err != NULL && err->kind != ETCD_E_NONE)
		return;
	t = fleet_txn_new();
	for (i = 0; i < rc->n; i++) {
		if (rc->one[i].id[0] == '\0')
			continue;
		fleet_txn_reset(t);
		fleet_txn_reclaim(t, f->prefix, rc->one[i].id, rc->curmod);
		fleet_txn_req(t, &q);
		if (etcd_txn(f->cli, &q, fleet_reclaim_done, &rc->one[i],
		    &e) == 0)
			f->reclaiming++;
	}
	fleet_txn_free(t);
}

/* The registry read: every set but the current one is a candidate. */
static void
fleet_reclaim_sets(const struct etcd_error *err,
    const struct etcd_range_res *res, void *arg)
{
	struct fleet		*f = arg;
	struct fleet_reclaim	*rc = f->rc;
	char			*base = fleet_key_set(f->prefix, NULL);
	const char		*id;
	size_t			 i;

	f->reclaiming = 0;
	rc->n = 0;
	for (i = 0; err == NULL && i < res->nkvs &&
	    rc->n < FLEET_RECLAIM_MAX; i++) {
		if ((id = fleet_reclaim_id(&res->kvs[i], base)) == NULL ||
		    strcmp(id, rc->cur) == 0)
			continue;
		rc->one[rc->n].f = f;
		snprintf(rc->one[rc->n].id, sizeof(rc->one[0].id), "%s", id);
		rc->n++;
	}
	free(base);
	if (rc->n > 0 && fleet_reclaim_keys(f, fleet_key_staging(f->prefix,
	    NULL), fleet_reclaim_staging) == 0)
		f->reclaiming = 1;
}

/*
 * Every second: a round when one is due, this host is in step (its
 * watch runs, so "current" is known) and no other round is under way.
 */
void
fleet_reclaim_tick(struct fleet *f)
{
	if (f->watch == NULL || f->reclaiming || time(NULL) < f->reclaim_at)
		return;
	fleet_reclaim_later(f);
	if (f->rc == NULL)
		f->rc = xcalloc(1, sizeof(*f->rc));
	pthread_mutex_lock(&f->mu);
	snprintf(f->rc->cur, sizeof(f->rc->cur), "%s", f->data);
	f->rc->curmod = f->current_mod;
	pthread_mutex_unlock(&f->mu);
	if (fleet_reclaim_keys(f, fleet_key_set(f->prefix, NULL),
	    fleet_reclaim_sets) == 0)
		f->reclaiming = 1;
}

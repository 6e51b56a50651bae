/* SPDX-License-Identifier: ISC */
/*
 * fleet-mirror.c: this host's copy of the fleet's state (docs/fleet.md,
 * "The mirror").  On contact it reads "current": when its store holds
 * that cluster's and that data set's state it resumes the watch at its
 * applied revision + 1, else it resyncs: every record of the data set
 * read at one revision, page by page, and applied whole.  Each watched
 * revision that touches the live data set is one change-set applied in
 * one store transaction at that revision.  A record that is refused
 * stops the mirror at its last good world (degraded) until a resync
 * finds the data set whole again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "fleet/fleet-int.h"
#include "store/store.h"
#include "store/store-json.h"

#define FLEET_BACKOFF_MAX	10	/* seconds between tries */

static void	fleet_watch_start(struct fleet *, int64_t);
static void	fleet_watch_reopen(struct fleet *);

/* Retry later: the next tick at or after retry_at connects again. */
static void
fleet_retry(struct fleet *f)
{
	f->backoff = f->backoff == 0 ? 1 : f->backoff * 2;
	if (f->backoff > FLEET_BACKOFF_MAX)
		f->backoff = FLEET_BACKOFF_MAX;
	f->retry_at = time(NULL) + (time_t)f->backoff;
}

static void
fleet_degraded(struct fleet *f, const char *why)
{
	log_warnx("fleet: not applied: %s", why);
	fleet_set_state(f, FLEET_DEGRADED, why);
	f->force_resync = 1;
	if (f->watch != NULL) {
		etcd_watch_cancel(f->watch);
		f->watch = NULL;
	}
	fleet_retry(f);
}

/* The world moved: say so, and wake writers waiting for it. */
static void
fleet_applied_to(struct fleet *f, int64_t rev)
{
	pthread_mutex_lock(&f->mu);
	f->applied = rev;
	if (rev > f->seen)
		f->seen = rev;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->published != NULL)
		f->published(f->published_arg);
}

static void
fleet_seen(struct fleet *f, int64_t rev)
{
	pthread_mutex_lock(&f->mu);
	if (rev > f->seen)
		f->seen = rev;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/*
 * One etcd record of data set prefix dp into cs (val NULL: deleted);
 * -1 with why (the key and the reason) when it is refused.
 */
static int
fleet_record(struct store_cset *cs, const char *dp, const struct etcd_kv *kv,
    int del, char *why, size_t whylen)
{
	unsigned char	*k, *v = NULL;
	size_t		 klen, vlen = 0, plen = strlen(dp);
	const char	*r = "not a record path";
	int		 type;

	if (kv->keylen <= plen || memchr(kv->key, 0, kv->keylen) != NULL ||
	    store_json_unpath((const char *)kv->key + plen, &type, &k,
	    &klen) != 0)
		goto bad;
	if (!del && store_json_unvalue(type, (const char *)kv->value,
	    kv->valuelen, &v, &vlen, &r) != 0) {
		free(k);
		goto bad;
	}
	store_cset_add(cs, type, k, klen, del ? NULL : v, vlen);
	free(k);
	free(v);
	return (0);
bad:
	snprintf(why, whylen, "%.*s: %s", (int)(kv->keylen > 300 ? 300 :
	    kv->keylen), (const char *)kv->key, r);
	return (-1);
}

/* The meta records that say which cluster and data set a state is. */
static void
fleet_meta(struct store_cset *cs, uint64_t cluster, const char *data)
{
	char	 hex[17];

	snprintf(hex, sizeof(hex), "%016" PRIx64, cluster);
	store_cset_add(cs, STORE_RT_META, "fleet.cluster", 13, hex,
	    strlen(hex));
	store_cset_add(cs, STORE_RT_META, "fleet.data", 10, data,
	    strlen(data));
}

/* --- resync ------------------------------------------------------- */

/*
 * The revision a resync's state is given, so that every host names one
 * state by one revision whether it resynced or followed every change:
 * that of the data set's last put (its newest record, or "current"),
 * g.  A delete after g is not seen in what is left; the watch resumes at
 * g + 1 and, up to the resync's own revision, applies only the deletes
 * (of keys already gone: nothing changes but the revision, which so
 * reaches the last change's).  Every put in that span is of a key gone
 * by the resync (a key still there was last put at or before g), so
 * skipping them never shows a state etcd did not hold.  When g + 1 is
 * compacted, the resync's own revision (rs_plain).
 */
static int64_t
fleet_resync_gen(struct fleet *f)
{
	int64_t	 g = f->rs_maxmod > f->rs_curmod ? f->rs_maxmod : f->rs_curmod;

	f->replay_to = 0;
	if (g <= 0 || f->rs_plain || g >= f->rs_rev)
		return (f->rs_rev);
	f->replay_to = f->rs_rev;
	return (g);
}

static void
fleet_resync_apply(struct fleet *f)
{
	uint64_t	 cluster;

	pthread_mutex_lock(&f->mu);
	cluster = f->cluster_id;
	pthread_mutex_unlock(&f->mu);
	fleet_meta(&f->rs, cluster, f->rs_data);
	f->rs_rev = fleet_resync_gen(f);
	f->rs_plain = 0;
	if (store_apply(f->st, &f->rs, (uint64_t)f->rs_rev, NULL) !=
	    STORE_OK) {
		fleet_degraded(f, store_errmsg(f->st));
		store_cset_free(&f->rs);
		return;
	}
	store_cset_free(&f->rs);
	log_info("fleet: state of data set %s at revision %" PRId64
	    " applied whole", f->rs_data[0] ? f->rs_data : "(empty)",
	    f->rs_rev);
	f->force_resync = 0;
	f->backoff = 0;
	fleet_applied_to(f, f->rs_rev);
	fleet_set_state(f, FLEET_SERVING, NULL);
	fleet_watch_start(f, f->rs_rev + 1);
}

static int
fleet_resync_page(const struct etcd_range_res *res, void *arg)
{
	struct fleet	*f = arg;
	char		 why[ETCD_ERR_MAX];
	size_t		 i;

	for (i = 0; i < res->nkvs; i++) {
		if (fleet_record(&f->rs, f->rs_prefix, &res->kvs[i], 0, why,
		    sizeof(why)) != 0) {
			f->rs_bad = 1;
			fleet_degraded(f, why);
			return (-1);
		}
		if (res->kvs[i].mod_revision > f->rs_maxmod)
			f->rs_maxmod = res->kvs[i].mod_revision;
	}
	return (0);
}

static void
fleet_resync_done(const struct etcd_error *err, int64_t rev, size_t n,
    void *arg)
{
	struct fleet	*f = arg;

	f->busy = 0;
	free(f->rs_prefix);
	f->rs_prefix = NULL;
	if (f->rs_bad) {
		store_cset_free(&f->rs);
		return;
	}
	if (err != NULL && err->kind != ETCD_E_NONE) {
		fleet_contact(f, 0, err->msg);
		store_cset_free(&f->rs);
		if (err->kind == ETCD_E_COMPACTED)
			f->retry_at = 0;	/* read "current" again now */
		else
			fleet_retry(f);
		return;
	}
	fleet_contact(f, 1, NULL);
	fleet_resync_apply(f);
}

static void
fleet_resync(struct fleet *f, int64_t rev, const char *data)
{
	struct etcd_range_req	 q;
	struct etcd_error	 err;
	uint8_t			 end[FLEET_PREFIX_MAX + 64];

	fleet_set_state(f, f->state == FLEET_DEGRADED ? FLEET_DEGRADED :
	    FLEET_SYNCING, NULL);
	store_cset_free(&f->rs);
	f->rs.replace = 1;
	f->rs_bad = 0;
	f->rs_rev = rev;
	f->rs_maxmod = 0;
	f->rs_curmod = f->current_mod;
	snprintf(f->rs_data, sizeof(f->rs_data), "%s", data);
	if (data[0] == '\0') {
		fleet_resync_apply(f);	/* an empty fleet: an empty state */
		return;
	}
	f->rs_prefix = fleet_key_data(f->prefix, data);
	memset(&q, 0, sizeof(q));
	q.key = f->rs_prefix;
	q.keylen = strlen(f->rs_prefix);
	q.range_end = end;
	q.range_end_len = etcd_prefix_end(q.key, q.keylen, end, sizeof(end));
	q.revision = rev;
	q.limit = FLEET_PAGE;
	f->busy = 1;
	if (etcd_range_walk(f->cli, &q, fleet_resync_page, fleet_resync_done,
	    f, &err) != 0) {
		f->busy = 0;
		free(f->rs_prefix);
		f->rs_prefix = NULL;
		fleet_contact(f, 0, err.msg);
		fleet_retry(f);
	}
}

/* --- the first read: where the fleet stands ----------------------- */

/*
 * Whether this host's store already holds the state of (cluster, data)
 * at a revision not past rev: then the watch resumes where it stopped.
 */
static int
fleet_resumable(struct fleet *f, uint64_t cluster, const char *data,
    int64_t rev)
{
	char	 c[64], d[FLEET_DATA_ID_MAX], hex[17];

	snprintf(hex, sizeof(hex), "%016" PRIx64, cluster);
	if (f->force_resync ||
	    store_fleet_meta(f->st, "cluster", c, sizeof(c)) != STORE_OK ||
	    store_fleet_meta(f->st, "data", d, sizeof(d)) != STORE_OK)
		return (0);
	return (strcmp(c, hex) == 0 && strcmp(d, data) == 0 &&
	    (int64_t)store_generation(f->st) <= rev);
}

static void
fleet_connect_cb(const struct etcd_error *err,
    const struct etcd_range_res *res, void *arg)
{
	struct fleet	*f = arg;
	char		 data[FLEET_DATA_ID_MAX] = "", c[64], why[ETCD_ERR_MAX];
	int64_t		 mod = 0;

	f->busy = 0;
	if (err != NULL && err->kind != ETCD_E_NONE) {
		fleet_contact(f, 0, err->msg);
		fleet_retry(f);
		return;
	}
	fleet_contact(f, 1, NULL);
	if (res->nkvs > 0) {
		if (fleet_current_parse(res->kvs[0].value, res->kvs[0].valuelen,
		    data, sizeof(data)) != 0) {
			snprintf(why, sizeof(why), "%s: not {\"Data\":\"ID\"}",
			    f->key_current);
			fleet_degraded(f, why);
			return;
		}
		mod = res->kvs[0].mod_revision;
	}
	pthread_mutex_lock(&f->mu);
	f->cluster_id = res->header.cluster_id;
	snprintf(f->data, sizeof(f->data), "%s", data);
	f->current_mod = mod;
	pthread_mutex_unlock(&f->mu);
	/* A standalone state is never dropped for an empty fleet. */
	if (data[0] == '\0' && store_fleet_meta(f->st, "cluster", c,
	    sizeof(c)) == STORE_ENOTFOUND && !store_is_empty(f->st)) {
		snprintf(why, sizeof(why), "the fleet under %s is empty and "
		    "this host's store holds a standalone state: push it with "
		    "kmsauthzctl fleet push, or start from an empty state "
		    "directory", f->prefix);
		fleet_degraded(f, why);
		return;
	}
	if (fleet_resumable(f, res->header.cluster_id, data,
	    res->header.revision)) {
		fleet_set_state(f, FLEET_SERVING, NULL);
		fleet_seen(f, (int64_t)store_generation(f->st));
		fleet_watch_start(f, (int64_t)store_generation(f->st) + 1);
		return;
	}
	fleet_resync(f, res->header.revision, data);
}

void
fleet_mirror_connect(struct fleet *f)
{
	struct etcd_range_req	 q;
	struct etcd_error	 err;

	if (f->busy || f->watch != NULL)
		return;
	memset(&q, 0, sizeof(q));
	q.key = f->key_current;
	q.keylen = strlen(f->key_current);
	f->busy = 1;
	if (etcd_range(f->cli, &q, fleet_connect_cb, f, &err) != 0) {
		f->busy = 0;
		fleet_contact(f, 0, err.msg);
		fleet_retry(f);
	}
}

/* --- the watch ---------------------------------------------------- */

static void
fleet_watch_events(int64_t rev, const struct etcd_event *ev, size_t n,
    void *arg)
{
	struct fleet		*f = arg;
	struct store_cset	 cs;
	char			*dp, why[ETCD_ERR_MAX];
	size_t			 i, kl = strlen(f->key_current);
	int			 bad = 0;

	fleet_contact(f, 1, NULL);
	pthread_mutex_lock(&f->mu);
	dp = f->data[0] != '\0' ? fleet_key_data(f->prefix, f->data) : NULL;
	pthread_mutex_unlock(&f->mu);
	store_cset_init(&cs);
	for (i = 0; i < n && !bad; i++) {
		if (ev[i].kv.keylen == kl &&
		    memcmp(ev[i].kv.key, f->key_current, kl) == 0) {
			/* Another data set: read it whole. */
			fleet_reclaim_soon(f);
			etcd_watch_cancel(f->watch);
			f->watch = NULL;
			f->force_resync = 1;
			f->retry_at = 0;
			store_cset_free(&cs);
			free(dp);
			fleet_mirror_connect(f);
			return;
		}
		if (dp == NULL || ev[i].kv.keylen < strlen(dp) ||
		    memcmp(ev[i].kv.key, dp, strlen(dp)) != 0)
			continue;	/* a data set being staged */
		/* Replaying below a resync: its puts are gone already. */
		if (rev <= f->replay_to && ev[i].type != ETCD_EV_DELETE)
			continue;
		bad = fleet_record(&cs, dp, &ev[i].kv,
		    ev[i].type == ETCD_EV_DELETE, why, sizeof(why));
	}
	free(dp);
	if (rev >= f->replay_to)
		f->replay_to = 0;
	if (!bad && cs.nw > 0 && store_apply(f->st, &cs, (uint64_t)rev,
	    NULL) != STORE_OK) {
		snprintf(why, sizeof(why), "revision %" PRId64 ": %s", rev,
		    store_errmsg(f->st));
		bad = 1;
	}
	if (bad)
		fleet_degraded(f, why);
	else if (cs.nw > 0)
		fleet_applied_to(f, rev);
	else
		fleet_seen(f, rev);
	store_cset_free(&cs);
}

static void
fleet_watch_progress(int64_t rev, void *arg)
{
	fleet_contact(arg, 1, NULL);
	fleet_seen(arg, rev);
}

static void
fleet_watch_trouble(const struct etcd_error *err, void *arg)
{
	fleet_contact(arg, 0, err->msg);
}

static void
fleet_watch_end(const struct etcd_error *err, int64_t rev, void *arg)
{
	struct fleet	*f = arg;

	f->watch = NULL;
	if (err->kind == ETCD_E_COMPACTED) {
		log_info("fleet: revision %" PRId64 " is compacted: resync",
		    rev);
		f->force_resync = 1;
		/* Resumed below a resync's revision, and that is gone. */
		f->rs_plain = f->replay_to != 0;
		f->replay_to = 0;
		f->retry_at = 0;
		return;
	}
	fleet_contact(f, 0, err->msg);
	fleet_retry(f);
}

static void
fleet_watch_start(struct fleet *f, int64_t from)
{
	static const struct etcd_watch_cbs cbs = { fleet_watch_events,
	    fleet_watch_progress, fleet_watch_trouble, fleet_watch_end };
	struct etcd_watch_req	 q;
	struct etcd_error	 err;
	uint8_t			 end[FLEET_PREFIX_MAX + 64];

	memset(&q, 0, sizeof(q));
	q.key = f->prefix;
	q.keylen = strlen(f->prefix);
	q.range_end = end;
	q.range_end_len = etcd_prefix_end(q.key, q.keylen, end, sizeof(end));
	q.start_revision = from;
	if ((f->watch = etcd_watch_start(f->cli, &q, &cbs, f, &err)) == NULL) {
		fleet_contact(f, 0, err.msg);
		fleet_retry(f);
	}
}

/* A probe or a check answered (err NONE) or not: the contact it was. */
static int
fleet_probe_answered(struct fleet *f, const struct etcd_error *err)
{
	f->busy = 0;
	if (err != NULL && err->kind != ETCD_E_NONE) {
		fleet_contact(f, 0, err->msg);
		return (-1);
	}
	fleet_contact(f, 1, NULL);
	return (0);
}

/* --- a silent watch ----------------------------------------------- */

/*
 * A watch stream can go silent with its connection open (a half-open
 * connection after a partition, a stuck member, a middlebox dropping
 * one flow): the probes, each a request of its own, still answer, and
 * the host would say it is current while it applies nothing until the
 * stream's idle timeout.  So each probe's revision is kept, and at the
 * next probe (a probe interval later at least) a watch that has not
 * reached it is checked: when a key under the prefix was last changed
 * in (seen, that revision], the watch missed a change it should have
 * delivered long ago, and it is opened again after the last revision it
 * delivered (nothing is lost).  Other keys of etcd move its revision
 * with none of ours changed: the range finds nothing, nothing is done.
 */
static void
fleet_silent_cb(const struct etcd_error *err,
    const struct etcd_range_res *res, void *arg)
{
	struct fleet	*f = arg;

	if (fleet_probe_answered(f, err) != 0)
		return;
	/* Nothing missed, or the watch moved meanwhile: it is alive. */
	if (res->nkvs == 0 || f->watch == NULL ||
	    etcd_watch_revision(f->watch) != f->silent_wrev)
		return;
	log_warnx("fleet: the watch is silent: its last revision is %"
	    PRId64 ", %.*s changed at %" PRId64 " (etcd was at %" PRId64
	    " a probe ago): the watch is opened again", f->silent_from,
	    (int)(res->kvs[0].keylen > 300 ? 300 : res->kvs[0].keylen),
	    (const char *)res->kvs[0].key, res->kvs[0].mod_revision,
	    f->silent_upto);
	fleet_watch_reopen(f);
}

/* Opened again after the last revision it delivered: nothing is lost. */
static void
fleet_watch_reopen(struct fleet *f)
{
	pthread_mutex_lock(&f->mu);
	f->watch_restarts++;
	pthread_mutex_unlock(&f->mu);
	etcd_watch_cancel(f->watch);
	f->watch = NULL;
	f->retry_at = 0;
	fleet_mirror_connect(f);
}

/*
 * This host's own write, taken by etcd at own_rev, is a change of the
 * prefix the watch must deliver within milliseconds: not delivered a
 * second on, the watch is silent (no probe interval to wait for, no
 * range to ask), and the writer, waiting for its revision for
 * etcd_timeout, is answered in time.  A watch only slow is opened again
 * for nothing, and loses nothing.
 */
static int
fleet_own_write_check(struct fleet *f)
{
	struct timespec	 now;

	if (f->own_rev == 0 || f->watch == NULL)
		return (0);
	if (etcd_watch_revision(f->watch) >= f->own_rev) {
		f->own_rev = 0;
		return (0);
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - f->own_at.tv_sec) * 1000 +
	    (now.tv_nsec - f->own_at.tv_nsec) / 1000000 < 1000)
		return (0);
	log_warnx("fleet: the watch is silent: its last revision is %"
	    PRId64 ", this host's own write is at %" PRId64 ": the watch is "
	    "opened again", etcd_watch_revision(f->watch), f->own_rev);
	f->own_rev = 0;
	fleet_watch_reopen(f);
	return (1);
}

/* A probe answered at rev: check the watch against the last probe's. */
static void
fleet_silent_check(struct fleet *f, int64_t rev)
{
	struct etcd_changed_req	 q;
	struct etcd_error	 err;
	uint8_t			 end[FLEET_PREFIX_MAX + 64];
	int64_t			 seen, mark = f->probe_rev;

	f->probe_rev = rev;
	pthread_mutex_lock(&f->mu);
	seen = f->seen;
	pthread_mutex_unlock(&f->mu);
	if (f->watch == NULL || mark <= seen)
		return;
	memset(&q, 0, sizeof(q));
	q.key = f->prefix;
	q.keylen = strlen(f->prefix);
	q.range_end = end;
	q.range_end_len = etcd_prefix_end(q.key, q.keylen, end, sizeof(end));
	q.after = seen;
	q.upto = mark;
	f->silent_from = seen;
	f->silent_upto = mark;
	f->silent_wrev = etcd_watch_revision(f->watch);
	f->busy = 1;
	if (etcd_range_changed(f->cli, &q, fleet_silent_cb, f, &err) != 0) {
		f->busy = 0;
		fleet_contact(f, 0, err.msg);
	}
}

/* --- every second ------------------------------------------------- */

static void
fleet_status_cb(const struct etcd_error *err, const struct etcd_status *s,
    void *arg)
{
	struct fleet	*f = arg;
	uint64_t	 cluster;

	if (fleet_probe_answered(f, err) != 0)
		return;
	pthread_mutex_lock(&f->mu);
	cluster = f->cluster_id;
	pthread_mutex_unlock(&f->mu);
	if (s->header.cluster_id != cluster && f->watch != NULL) {
		log_warnx("fleet: etcd is another cluster now: resync");
		etcd_watch_cancel(f->watch);
		f->watch = NULL;
		f->force_resync = 1;
		f->retry_at = 0;
	}
	fleet_silent_check(f, s->header.revision);
}

void
fleet_mirror_tick(struct fleet *f)
{
	struct etcd_error	 err;
	time_t			 now = time(NULL), last;
	time_t			 every = f->max_staleness / 3 ? f->max_staleness / 3 : 1;

	if (f->busy)
		return;
	if (f->watch == NULL) {
		if (now >= f->retry_at)
			fleet_mirror_connect(f);
		return;
	}
	if (fleet_own_write_check(f))
		return;
	/* A quiet watch says nothing: ask, so staleness means something. */
	pthread_mutex_lock(&f->mu);
	last = f->last_contact;
	pthread_mutex_unlock(&f->mu);
	if (now - last < every)
		return;
	f->busy = 1;
	if (etcd_status(f->cli, fleet_status_cb, f, &err) != 0) {
		f->busy = 0;
		fleet_contact(f, 0, err.msg);
	}
}

void
fleet_mirror_stop(struct fleet *f)
{
	if (f->watch != NULL) {
		etcd_watch_cancel(f->watch);
		f->watch = NULL;
	}
}

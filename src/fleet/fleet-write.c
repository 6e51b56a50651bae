/* SPDX-License-Identifier: ISC */
/*
 * fleet-write.c: a change made through this host, written to etcd
 * (docs/fleet.md, "Writes").  The store plans it against this host's
 * mirror at revision R and hands the change-set to fleet_sink, on the
 * admin plane's thread; the mirror's thread turns it into one etcd
 * transaction:
 *
 *	compares	"current" unchanged; every record the plan read:
 *			present (mod_revision <= R, version > 0) or absent
 *			(version 0); every range it scanned: each key
 *			under the range's path at mod_revision <= R
 *	success		a put or a delete per record written
 *
 * and the admin thread waits until the mirror has applied the
 * transaction's revision (read-your-writes), or, on a conflict, until
 * it has moved past R, so that the change is planned again against
 * what etcd holds.  A bulk change (a whole state) is written as a new
 * data set in transactions of bounded size, then switched to with one
 * small transaction; the old set goes in the same one.
 */
#include <errno.h>
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

/* etcd's default --max-request-bytes is 1.5 MiB; base64 adds a third. */
#define FLEET_TXN_BYTES		(768u * 1024)

/* What one transaction's compares and operations point to. */
struct fleet_txn {
	struct etcd_compare	 cmp[ETCD_TXN_OPS_MAX];
	size_t			 ncmp;
	struct etcd_op		 ops[ETCD_TXN_OPS_MAX];
	size_t			 nops;
	char			*mem[4 * ETCD_TXN_OPS_MAX + 4];
	size_t			 nmem;
	size_t			 bytes;
	uint8_t			 end[FLEET_PREFIX_MAX + 64];
};

struct fleet_txn *
fleet_txn_new(void)
{
	return (xcalloc(1, sizeof(struct fleet_txn)));
}

static char *
fleet_txn_keep(struct fleet_txn *t, char *s)
{
	t->mem[t->nmem++] = s;
	return (s);
}

void
fleet_txn_reset(struct fleet_txn *t)
{
	while (t->nmem > 0)
		free(t->mem[--t->nmem]);
	t->ncmp = t->nops = t->bytes = 0;
}

void
fleet_txn_free(struct fleet_txn *t)
{
	if (t == NULL)
		return;
	fleet_txn_reset(t);
	free(t);
}

void
fleet_txn_req(const struct fleet_txn *t, struct etcd_txn_req *q)
{
	memset(q, 0, sizeof(*q));
	q->cmp = t->cmp;
	q->ncmp = t->ncmp;
	q->success = t->ops;
	q->nsuccess = t->nops;
}

static char *
fleet_path(const char *dp, const struct store_crec *c)
{
	char	*p, *full;

	if ((p = store_json_path(c->type, c->key, c->klen)) == NULL)
		return (NULL);
	if (asprintf(&full, "%s%s", dp, p) == -1)
		fatal("asprintf");
	free(p);
	return (full);
}

static void
fleet_cmp(struct fleet_txn *t, const char *key, enum etcd_cmp_target tg,
    enum etcd_cmp_result r, int64_t n)
{
	struct etcd_compare	*c = &t->cmp[t->ncmp++];

	memset(c, 0, sizeof(*c));
	c->key = key;
	c->keylen = strlen(key);
	c->target = tg;
	c->result = r;
	c->number = n;
}

static void
fleet_op(struct fleet_txn *t, const char *key, const char *value,
    const char *range_end, size_t relen)
{
	struct etcd_op	*o = &t->ops[t->nops++];

	memset(o, 0, sizeof(o[0]));
	o->type = value != NULL ? ETCD_OP_PUT : ETCD_OP_DELETE;
	o->key = key;
	o->keylen = strlen(key);
	o->value = value;
	o->valuelen = value != NULL ? strlen(value) : 0;
	o->range_end = range_end;
	o->range_end_len = relen;
	t->bytes += o->keylen + o->valuelen;
}

/*
 * A range the plan scanned, as it saw it: no key under its path created
 * or changed past R (rev, R + 1).  A key deleted from it leaves no
 * trace a compare can see; every plan's use of a range is such that
 * fewer records cannot make it wrong (docs/fleet.md, "Conflicts").
 */
static void
fleet_cmp_range(struct fleet_txn *t, const char *dp,
    const struct store_crec *g, int64_t rev)
{
	struct etcd_compare	*c;
	uint8_t			*end;
	char			*p, *key;
	size_t			 n;

	if ((p = store_json_prefix(g->type, g->key, g->klen)) == NULL)
		return;		/* a prefix no key can have */
	if (asprintf(&key, "%s%s", dp, p) == -1)
		fatal("asprintf");
	free(p);
	n = strlen(key) + 1;
	end = xmalloc(n);
	n = etcd_prefix_end(key, strlen(key), end, n);
	fleet_cmp(t, fleet_txn_keep(t, key), ETCD_CMP_MOD, ETCD_CMP_LESS, rev);
	c = &t->cmp[t->ncmp - 1];
	c->range_end = fleet_txn_keep(t, (char *)end);
	c->range_end_len = n;
}

/* "current" as the change was planned: unchanged, or still absent. */
static void
fleet_cmp_current(struct fleet_txn *t, const char *key, int64_t mod)
{
	if (mod == 0)
		fleet_cmp(t, key, ETCD_CMP_VERSION, ETCD_CMP_EQUAL, 0);
	else
		fleet_cmp(t, key, ETCD_CMP_MOD, ETCD_CMP_EQUAL, mod);
}

/* A record written: its put (its JSON) or its delete; -1 when refused. */
static int
fleet_put_rec(struct fleet_txn *t, const char *dp, const struct store_crec *c)
{
	char	*key, *val = NULL;

	if ((key = fleet_path(dp, c)) == NULL || (c->val != NULL &&
	    (val = store_json_value(c->type, c->val, c->vlen)) == NULL)) {
		free(key);
		return (-1);
	}
	fleet_op(t, fleet_txn_keep(t, key), val != NULL ?
	    fleet_txn_keep(t, val) : NULL, NULL, 0);
	return (0);
}

static void
fleet_finish(struct fleet *f, struct fleet_req *r, int rc, int64_t rev,
    const char *why)
{
	if (rc == STORE_OK && rev > 0) {
		f->own_rev = rev;	/* its watch must bring it soon */
		clock_gettime(CLOCK_MONOTONIC, &f->own_at);
	}
	pthread_mutex_lock(&f->mu);
	r->rc = rc;
	r->revision = rev;
	if (why != NULL)
		snprintf(r->why, sizeof(r->why), "%s", why);
	r->done = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	f->active = NULL;
}

static int
fleet_etcd_rc(struct fleet *f, const struct etcd_error *err)
{
	if (err->kind == ETCD_E_INVALID || err->kind == ETCD_E_PROTOCOL)
		return (STORE_EINVAL);
	if (err->kind == ETCD_E_UNAVAILABLE)
		fleet_contact(f, 0, err->msg);
	return (STORE_EUNAVAIL);
}

/* --- one change, one transaction ---------------------------------- */

static void
fleet_single_cb(const struct etcd_error *err, const struct etcd_txn_res *res,
    void *arg)
{
	struct fleet	*f = arg;
	struct fleet_req *r = f->active;

	if (err != NULL && err->kind != ETCD_E_NONE) {
		fleet_finish(f, r, fleet_etcd_rc(f, err), 0, err->msg);
		return;
	}
	fleet_contact(f, 1, NULL);
	fleet_finish(f, r, res->succeeded ? STORE_OK : STORE_ECONFLICT,
	    res->header.revision, res->succeeded ? NULL : "a record this "
	    "change read was changed through another host");
}

static int
fleet_single(struct fleet *f, struct fleet_req *r, struct fleet_txn *t,
    char *why, size_t whylen)
{
	const struct store_cset	*cs = r->cs;
	char			 id[FLEET_DATA_ID_MAX], *dp, *key;
	size_t			 i;

	/* The first change of an empty fleet makes its data set. */
	if (r->data[0] == '\0')
		fleet_data_id(id);
	else
		snprintf(id, sizeof(id), "%s", r->data);
	dp = fleet_txn_keep(t, fleet_key_data(f->prefix, id));
	fleet_cmp_current(t, f->key_current, r->current_mod);
	if (r->data[0] == '\0') {
		key = fleet_txn_keep(t, fleet_current_json(id));
		fleet_op(t, f->key_current, key, NULL, 0);
		fleet_op(t, fleet_txn_keep(t, fleet_key_set(f->prefix, id)),
		    key, NULL, 0);
	}
	for (i = 0; i < cs->nr && r->data[0] != '\0'; i++) {
		if (t->ncmp + 2 > ETCD_TXN_OPS_MAX)
			goto big;
		if ((key = fleet_path(dp, &cs->r[i])) == NULL)
			continue;	/* a key no record can have */
		fleet_txn_keep(t, key);
		if (cs->r[i].val == NULL)
			fleet_cmp(t, key, ETCD_CMP_VERSION, ETCD_CMP_EQUAL, 0);
		else {
			fleet_cmp(t, key, ETCD_CMP_MOD, ETCD_CMP_LESS,
			    (int64_t)r->gen + 1);
			fleet_cmp(t, key, ETCD_CMP_VERSION, ETCD_CMP_GREATER,
			    0);
		}
	}
	for (i = 0; i < cs->ng && r->data[0] != '\0'; i++) {
		if (t->ncmp == ETCD_TXN_OPS_MAX)
			goto big;
		fleet_cmp_range(t, dp, &cs->g[i], (int64_t)r->gen + 1);
	}
	for (i = 0; i < cs->nw; i++) {
		if (t->nops == ETCD_TXN_OPS_MAX)
			goto big;
		if (fleet_put_rec(t, dp, &cs->w[i]) != 0) {
			snprintf(why, whylen, "a %s record that does not "
			    "encode", store_rtype_name(cs->w[i].type));
			return (STORE_EINVAL);
		}
	}
	return (STORE_OK);
big:
	snprintf(why, whylen, "this change reads %zu records and %zu ranges "
	    "and writes %zu records; one etcd transaction takes at most %d "
	    "comparisons (1 or 2 a record read, 1 a range) and %d writes",
	    cs->nr, cs->ng, cs->nw, ETCD_TXN_OPS_MAX, ETCD_TXN_OPS_MAX);
	return (STORE_ELIMIT);
}

/* --- a whole state: a new data set, then the switch --------------- */

static void	fleet_bulk_next(struct fleet *);

static void
fleet_bulk_ignore_cb(const struct etcd_error *err,
    const struct etcd_txn_res *res, void *arg)
{
	/* Best effort: a set left behind is reclaimed once unstaged. */
}

static void
fleet_lease_ignore_cb(const struct etcd_error *err,
    const struct etcd_lease *l, void *arg)
{
}

/* Drops the staged set (after a failure): its records and its entry. */
static void
fleet_bulk_cleanup(struct fleet *f, const struct fleet_stage *sg)
{
	struct etcd_txn_req	 q;
	struct etcd_op		 op[2];
	struct etcd_error	 err;
	uint8_t			 end[FLEET_PREFIX_MAX + 64];
	char			*dp = fleet_key_data(f->prefix, sg->id);
	char			*sk = fleet_key_set(f->prefix, sg->id);

	memset(&q, 0, sizeof(q));
	memset(op, 0, sizeof(op));
	op[0].type = op[1].type = ETCD_OP_DELETE;
	op[0].key = dp;
	op[0].keylen = strlen(dp);
	op[0].range_end = end;
	op[0].range_end_len = etcd_prefix_end(dp, strlen(dp), end,
	    sizeof(end));
	op[1].key = sk;
	op[1].keylen = strlen(sk);
	q.success = op;
	q.nsuccess = 2;
	(void)etcd_txn(f->cli, &q, fleet_bulk_ignore_cb, f, &err);
	free(dp);
	free(sk);
}

/*
 * The bulk write ends: its lease is no longer kept alive and is revoked
 * (staging/ID goes with it; after a switch it holds nothing), and the
 * staged set, after a failure, is dropped.
 */
static void
fleet_bulk_end(struct fleet *f, struct fleet_req *r, int failed, int rc,
    int64_t rev, const char *why)
{
	struct etcd_error	 err;

	event_del(f->stage_ka);
	if (failed)
		fleet_bulk_cleanup(f, &r->stage);
	if (f->stage_lease != 0)
		(void)etcd_lease_revoke(f->cli, f->stage_lease,
		    fleet_lease_ignore_cb, f, &err);
	f->stage_lease = 0;
	fleet_finish(f, r, rc, rev, why);
}

static void
fleet_stage_ka_cb(const struct etcd_error *err, const struct etcd_lease *l,
    void *arg)
{
	struct fleet	*f = arg;

	f->ka_busy = 0;
	if (err != NULL && err->kind != ETCD_E_NONE)
		log_warnx("fleet: the staged set's lease: %s", err->msg);
	else if (l->ttl <= 0 && f->stage_lease == l->id)
		log_warnx("fleet: the staged set's lease %" PRId64 " has "
		    "ended: the import will fail", l->id);
}

/* Every third of the TTL: the lease of the set staged lives on. */
void
fleet_stage_keepalive(struct fleet *f)
{
	struct etcd_error	 err;

	if (f->stage_lease == 0 || f->ka_busy)
		return;
	if (etcd_lease_keepalive(f->cli, f->stage_lease, fleet_stage_ka_cb,
	    f, &err) == 0)
		f->ka_busy = 1;
}

static void
fleet_bulk_cb(const struct etcd_error *err, const struct etcd_txn_res *res,
    void *arg)
{
	struct fleet	*f = arg;
	struct fleet_req *r = f->active;

	if (err != NULL && err->kind != ETCD_E_NONE) {
		fleet_bulk_end(f, r, 1, fleet_etcd_rc(f, err), 0, err->msg);
		return;
	}
	fleet_contact(f, 1, NULL);
	if (r->next == SIZE_MAX - 1) {	/* the switch */
		if (res->succeeded)
			log_info("fleet: data set %s is current at revision "
			    "%" PRId64 " (%zu records)", r->stage.id,
			    res->header.revision, r->cs->nw);
		fleet_bulk_end(f, r, !res->succeeded, res->succeeded ?
		    STORE_OK : STORE_ECONFLICT, res->header.revision,
		    res->succeeded ? NULL : "the fleet's state was replaced "
		    "through another host, or the staged set's lease ended");
		return;
	}
	if (!res->succeeded) {
		fleet_bulk_end(f, r, 1, STORE_EUNAVAIL, 0, "the staged set's "
		    "lease ended (staging stalled past etcd_stage_ttl) and "
		    "the set was reclaimed");
		return;
	}
	fleet_bulk_next(f);
}

/*
 * Records of cs from index from on, as puts under the data set staged,
 * until a transaction's bound (operations, bytes); the index after the
 * last one taken, or SIZE_MAX when one does not encode.  The first
 * batch registers the set; each holds only while it is staged.
 */
size_t
fleet_txn_stage(struct fleet_txn *t, struct fleet_stage *sg,
    const struct store_cset *cs, size_t from)
{
	char	*dp = fleet_txn_keep(t, fleet_key_data(sg->prefix, sg->id));
	char	*sk = fleet_txn_keep(t, fleet_key_staging(sg->prefix, sg->id));
	char	*v;

	if (sg->batches++ == 0) {
		v = fleet_txn_keep(t, fleet_stage_json(sg->who));
		fleet_cmp(t, sk, ETCD_CMP_VERSION, ETCD_CMP_EQUAL, 0);
		fleet_op(t, sk, v, NULL, 0);
		t->ops[t->nops - 1].lease = sg->lease;
		fleet_op(t, fleet_txn_keep(t, fleet_key_set(sg->prefix,
		    sg->id)), v, NULL, 0);
	} else
		fleet_cmp(t, sk, ETCD_CMP_VERSION, ETCD_CMP_GREATER, 0);
	while (from < cs->nw && t->nops < ETCD_TXN_OPS_MAX &&
	    t->bytes < FLEET_TXN_BYTES)
		if (fleet_put_rec(t, dp, &cs->w[from++]) != 0)
			return (SIZE_MAX);
	return (from);
}

/*
 * The switch: "current" (still as planned: mod, 0 when absent) names
 * the data set staged, which is staged no more, and the set old (NULL:
 * none) goes with its entry.
 */
void
fleet_txn_switch(struct fleet_txn *t, const struct fleet_stage *sg,
    int64_t mod, const char *old)
{
	char	*cur = fleet_txn_keep(t, fleet_key_current(sg->prefix)), *dp;

	fleet_cmp_current(t, cur, mod);
	fleet_op(t, cur, fleet_txn_keep(t, fleet_current_json(sg->id)), NULL,
	    0);
	fleet_op(t, fleet_txn_keep(t, fleet_key_staging(sg->prefix, sg->id)),
	    NULL, NULL, 0);
	if (old != NULL && old[0] != '\0') {
		dp = fleet_txn_keep(t, fleet_key_data(sg->prefix, old));
		fleet_op(t, dp, NULL, (const char *)t->end,
		    etcd_prefix_end(dp, strlen(dp), t->end, sizeof(t->end)));
		fleet_op(t, fleet_txn_keep(t, fleet_key_set(sg->prefix, old)),
		    NULL, NULL, 0);
	}
}

/*
 * The removal of a data set nobody stages (fleet-reclaim.c): it holds
 * while "current" is as read (mod; naming another set, or absent when
 * 0), the set is registered and no staging/ID is there; its records go
 * with its entry.
 */
void
fleet_txn_reclaim(struct fleet_txn *t, const char *prefix, const char *id,
    int64_t mod)
{
	char	*dp = fleet_txn_keep(t, fleet_key_data(prefix, id));
	char	*sk = fleet_txn_keep(t, fleet_key_set(prefix, id));

	fleet_cmp_current(t, fleet_txn_keep(t, fleet_key_current(prefix)),
	    mod);
	fleet_cmp(t, sk, ETCD_CMP_VERSION, ETCD_CMP_GREATER, 0);
	fleet_cmp(t, fleet_txn_keep(t, fleet_key_staging(prefix, id)),
	    ETCD_CMP_VERSION, ETCD_CMP_EQUAL, 0);
	fleet_op(t, dp, NULL, (const char *)t->end, etcd_prefix_end(dp,
	    strlen(dp), t->end, sizeof(t->end)));
	fleet_op(t, sk, NULL, NULL, 0);
}

/* The next batch of the staged set, or, when all is there, the switch. */
static void
fleet_bulk_next(struct fleet *f)
{
	struct fleet_req	*r = f->active;
	struct fleet_txn	*t = fleet_txn_new();
	struct etcd_txn_req	 q;
	struct etcd_error	 err;
	size_t			 next;

	next = fleet_txn_stage(t, &r->stage, r->cs, r->next);
	if (next != SIZE_MAX && t->nops == 0) {
		fleet_txn_switch(t, &r->stage, r->current_mod, r->data);
		next = SIZE_MAX - 1;	/* the switch is on its way */
	}
	fleet_txn_req(t, &q);
	if (next == SIZE_MAX)
		fleet_bulk_end(f, r, 1, STORE_EINVAL, 0, "a record that does "
		    "not encode");
	else {
		r->next = next;
		if (etcd_txn(f->cli, &q, fleet_bulk_cb, f, &err) != 0)
			fleet_bulk_end(f, r, 1, fleet_etcd_rc(f, &err), 0,
			    err.msg);
	}
	fleet_txn_free(t);
}

/* The lease came: staging starts, kept alive every third of its TTL. */
static void
fleet_bulk_granted(const struct etcd_error *err, const struct etcd_lease *l,
    void *arg)
{
	struct fleet		*f = arg;
	struct fleet_req	*r = f->active;
	struct timeval		 tv;

	if (err != NULL && err->kind != ETCD_E_NONE) {
		fleet_finish(f, r, fleet_etcd_rc(f, err), 0, err->msg);
		return;
	}
	r->stage.lease = f->stage_lease = l->id;
	tv.tv_sec = f->stage_ttl / 3 > 0 ? f->stage_ttl / 3 : 1;
	tv.tv_usec = 0;
	event_add(f->stage_ka, &tv);
	fleet_bulk_next(f);
}

static void
fleet_bulk_start(struct fleet *f, struct fleet_req *r)
{
	struct etcd_error	 err;

	fleet_data_id(r->stage.id);
	r->stage.prefix = f->prefix;
	r->stage.who = f->who;
	r->next = 0;
	if (etcd_lease_grant(f->cli, f->stage_ttl, fleet_bulk_granted, f,
	    &err) != 0)
		fleet_finish(f, r, fleet_etcd_rc(f, &err), 0, err.msg);
}

/* --- the mirror's thread: take the change handed over ------------- */

void
fleet_write_run(struct fleet *f)
{
	struct fleet_req	*r;
	struct fleet_txn	*t;
	struct etcd_txn_req	 q;
	struct etcd_error	 err;
	char			 why[ETCD_ERR_MAX];
	int			 rc;

	pthread_mutex_lock(&f->mu);
	r = f->pending;
	f->pending = NULL;
	pthread_mutex_unlock(&f->mu);
	if (r == NULL)
		return;
	f->active = r;
	if (r->cs->replace) {
		fleet_bulk_start(f, r);
		return;
	}
	t = fleet_txn_new();
	if ((rc = fleet_single(f, r, t, why, sizeof(why))) != STORE_OK)
		fleet_finish(f, r, rc, 0, why);
	else {
		fleet_txn_req(t, &q);
		if (etcd_txn(f->cli, &q, fleet_single_cb, f, &err) != 0)
			fleet_finish(f, r, fleet_etcd_rc(f, &err), 0, err.msg);
	}
	fleet_txn_free(t);
}

/* Stopping: the change in progress and the one handed over fail. */
void
fleet_write_abort(struct fleet *f)
{
	struct fleet_req	*r;

	/* A set being staged is left to its lease, then reclaimed. */
	if (f->active != NULL)
		fleet_finish(f, f->active, STORE_EUNAVAIL, 0, "stopping");
	pthread_mutex_lock(&f->mu);
	r = f->pending;
	f->pending = NULL;
	pthread_mutex_unlock(&f->mu);
	if (r != NULL)
		fleet_finish(f, r, STORE_EUNAVAIL, 0, "stopping");
}

/* --- the admin plane's thread ------------------------------------- */

/* What the admin thread waits for (mu held). */
static int
fleet_seen_past(const struct fleet *f, int64_t rev)
{
	return (f->seen >= rev);
}

/* A host that had contact resyncs: its state comes back soon. */
static int
fleet_not_resyncing(const struct fleet *f, int64_t unused)
{
	return (f->state != FLEET_SYNCING || f->cluster_id == 0);
}

/* Waits (mu held) until done(f, arg) or stop, secs at most: done's. */
static int
fleet_wait(struct fleet *f, unsigned secs,
    int (*done)(const struct fleet *, int64_t), int64_t arg)
{
	struct timespec	 dl;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += secs;
	while (!done(f, arg) && !f->stop)
		if (pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT)
			break;
	return (done(f, arg));
}

int
fleet_sink(struct store *st, const struct store_cset *cs, uint64_t gen,
    void *arg, uint64_t *genp)
{
	struct fleet		*f = arg;
	struct fleet_req	 r;
	unsigned		 t = f->timeout ? f->timeout : ETCD_TIMEOUT_DEFAULT;
	int			 rc;

	/* A change that writes nothing has nothing to tell etcd. */
	if (cs->nw == 0 && !cs->replace) {
		*genp = gen;
		return (STORE_OK);
	}
	memset(&r, 0, sizeof(r));
	r.cs = cs;
	r.gen = gen;
	pthread_mutex_lock(&f->mu);
	if (f->cluster_id == 0 && f->state != FLEET_DEGRADED) {
		rc = store_seterr(st, STORE_EUNAVAIL, "fleet: no answer from "
		    "etcd yet%s%s", f->last_error[0] != '\0' ? ": " : "",
		    f->last_error);
		pthread_mutex_unlock(&f->mu);
		return (rc);
	}
	/* A resync in progress (a switch, a compaction) ends soon. */
	(void)fleet_wait(f, t, fleet_not_resyncing, 0);
	if (f->stop || f->state == FLEET_SYNCING ||
	    f->state == FLEET_DEGRADED) {
		rc = store_seterr(st, STORE_EUNAVAIL, "fleet: this host is "
		    "%s%s%s: changes wait until it is in step with etcd",
		    f->stop ? "stopping" : fleet_state_name(f->state),
		    f->degraded[0] != '\0' ? ": " : "", f->degraded);
		pthread_mutex_unlock(&f->mu);
		return (rc);
	}
	snprintf(r.data, sizeof(r.data), "%s", f->data);
	r.current_mod = f->current_mod;
	f->pending = &r;
	pthread_mutex_unlock(&f->mu);
	event_active(f->wake, EV_READ, 0);

	pthread_mutex_lock(&f->mu);
	while (!r.done)		/* every etcd call ends (its timeout) */
		pthread_cond_wait(&f->cv, &f->mu);
	if (r.rc == STORE_ECONFLICT) {
		/* Plan again once this host has moved past what it read. */
		(void)fleet_wait(f, 1, fleet_seen_past, (int64_t)gen + 1);
		pthread_mutex_unlock(&f->mu);
		return (store_seterr(st, STORE_ECONFLICT, "%s", r.why));
	}
	if (r.rc != STORE_OK) {
		pthread_mutex_unlock(&f->mu);
		return (store_seterr(st, r.rc, "fleet: %s", r.why));
	}
	if (!fleet_wait(f, t, fleet_seen_past, r.revision) ||
	    f->applied < r.revision) {
		rc = store_seterr(st, STORE_EUNAVAIL, "fleet: written to etcd "
		    "at revision %" PRId64 ", but this host has not applied it "
		    "(%s%s%s)", r.revision, fleet_state_name(f->state),
		    f->degraded[0] != '\0' ? ": " : "", f->degraded);
		pthread_mutex_unlock(&f->mu);
		return (rc);
	}
	pthread_mutex_unlock(&f->mu);
	*genp = (uint64_t)r.revision;
	return (STORE_OK);
}

/* SPDX-License-Identifier: ISC */
/*
 * etcd-kv.c: the unary calls: range, the paged walk, txn, compaction
 * and the member's status.  Each builds its request as the gateway's
 * JSON and reads its answer into the caller's structures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "fleet/etcd-int.h"

struct etcd_walk {
	struct etcd_client	*c;
	struct etcd_range_req	 req;
	uint8_t			*key;		/* the next page's first key */
	size_t			 keylen;
	uint8_t			*end;
	size_t			 endlen;
	size_t			 seen;
	etcd_page_cb		*page;
	etcd_walk_done_cb	*done;
	void			*arg;
	struct etcd_call	*call;		/* the page's, which owns w */
};

static void	etcd_walk_next(struct etcd_walk *);
static void	etcd_walk_page(const struct etcd_error *,
		    const struct etcd_range_res *, void *);

static void
etcd_range_res_clear(struct etcd_range_res *r)
{
	size_t	i;

	for (i = 0; i < r->nkvs; i++)
		etcd_kv_clear(&r->kvs[i]);
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

void
etcd_range_res_free(struct etcd_range_res *r)
{
	if (r == NULL)
		return;
	etcd_range_res_clear(r);
	free(r);
}

static int
etcd_range_parse(json_object *o, struct etcd_range_res *r)
{
	json_object	*kvs, *f;
	size_t		 i, n;

	memset(r, 0, sizeof(*r));
	if (etcd_json_header(o, &r->header) == -1 ||
	    etcd_json_get_int64(o, "count", &r->count) == -1)
		return (-1);
	if (json_object_object_get_ex(o, "more", &f))
		r->more = json_object_get_boolean(f);
	if (!json_object_object_get_ex(o, "kvs", &kvs))
		return (0);	/* no key: no "kvs" at all */
	if (!json_object_is_type(kvs, json_type_array))
		return (-1);
	n = json_object_array_length(kvs);
	r->kvs = xcalloc(n ? n : 1, sizeof(*r->kvs));
	for (i = 0; i < n; i++) {
		if (etcd_json_kv(json_object_array_get_idx(kvs, i),
		    &r->kvs[i]) == -1) {
			r->nkvs = i;
			etcd_range_res_clear(r);
			return (-1);
		}
	}
	r->nkvs = n;
	return (0);
}

static json_object *
etcd_range_json(const struct etcd_range_req *q)
{
	json_object	*o = json_object_new_object();

	etcd_json_bytes(o, "key", q->key, q->keylen);
	if (q->range_end != NULL)
		etcd_json_bytes(o, "range_end", q->range_end,
		    q->range_end_len);
	if (q->revision > 0)
		etcd_json_int64(o, "revision", q->revision);
	if (q->limit > 0)
		etcd_json_int64(o, "limit", q->limit);
	if (q->keys_only)
		json_object_object_add(o, "keys_only",
		    json_object_new_boolean(1));
	if (q->count_only)
		json_object_object_add(o, "count_only",
		    json_object_new_boolean(1));
	return (o);
}

static void
etcd_range_done(struct etcd_call *call, const struct etcd_error *err,
    json_object *o)
{
	struct etcd_range_res	 r;
	struct etcd_error	 e;

	if (err == NULL && etcd_range_parse(o, &r) == -1) {
		etcd_seterr(&e, ETCD_E_PROTOCOL, "%s: /v3/kv/range: "
		    "malformed answer", etcd_client_endpoint(call->c));
		err = &e;
	}
	((etcd_range_cb *)call->cb)(err, err == NULL ? &r : NULL, call->arg);
	if (err == NULL)
		etcd_range_res_clear(&r);
}

static int
etcd_range_check(const struct etcd_range_req *q, struct etcd_error *err)
{
	if (q->key == NULL || q->keylen == 0) {
		etcd_seterr(err, ETCD_E_INVALID, "range: an empty key");
		return (-1);
	}
	if (q->revision < 0 || q->limit < 0) {
		etcd_seterr(err, ETCD_E_INVALID, "range: a negative "
		    "revision or limit");
		return (-1);
	}
	return (0);
}

int
etcd_range(struct etcd_client *c, const struct etcd_range_req *q,
    etcd_range_cb *cb, void *arg, struct etcd_error *err)
{
	if (etcd_range_check(q, err) == -1)
		return (-1);
	return (etcd_call_start(c, "/v3/kv/range", etcd_range_json(q), 0,
	    etcd_range_done, (void *)cb, arg, err));
}

/*
 * The first key last changed in (after, upto]: keys_only, limit 1 and
 * the mod_revision bounds.  Not count_only: etcd counts the whole range
 * and filters only the keys it returns (etcd-io/etcd#18267).
 */
json_object *
etcd_changed_json(const struct etcd_changed_req *q)
{
	struct etcd_range_req	 r;
	json_object		*o;

	memset(&r, 0, sizeof(r));
	r.key = q->key;
	r.keylen = q->keylen;
	r.range_end = q->range_end;
	r.range_end_len = q->range_end_len;
	r.limit = 1;
	r.keys_only = 1;
	o = etcd_range_json(&r);
	etcd_json_int64(o, "min_mod_revision", q->after + 1);
	etcd_json_int64(o, "max_mod_revision", q->upto);
	return (o);
}

int
etcd_range_changed(struct etcd_client *c, const struct etcd_changed_req *q,
    etcd_range_cb *cb, void *arg, struct etcd_error *err)
{
	if (q->key == NULL || q->keylen == 0 || q->after < 0 ||
	    q->upto <= q->after) {
		etcd_seterr(err, ETCD_E_INVALID, "changed: no key, or not "
		    "0 <= after < upto");
		return (-1);
	}
	return (etcd_call_start(c, "/v3/kv/range", etcd_changed_json(q), 0,
	    etcd_range_done, (void *)cb, arg, err));
}

static void
etcd_walk_free(void *arg)
{
	struct etcd_walk	*w = arg;

	free(w->key);
	free(w->end);
	free(w);
}

/* The walk ends: it no longer belongs to its call. */
static void
etcd_walk_end(struct etcd_walk *w, const struct etcd_error *err)
{
	if (w->call != NULL)
		w->call->state = NULL;
	w->done(err, w->req.revision, w->seen, w->arg);
	etcd_walk_free(w);
}

/*
 * The page's call owns the walk, so that a client dropping its calls
 * frees the walk too; the next page's call takes it over.
 */
static int
etcd_walk_range(struct etcd_walk *w, struct etcd_error *err)
{
	struct etcd_call	*prev = w->call;

	if (etcd_range(w->c, &w->req, etcd_walk_page, w, err) == -1)
		return (-1);
	if (prev != NULL)
		prev->state = NULL;
	w->call = w->c->last_call;
	w->call->state = w;
	w->call->state_free = etcd_walk_free;
	return (0);
}

static void
etcd_walk_page(const struct etcd_error *err, const struct etcd_range_res *r,
    void *arg)
{
	struct etcd_walk	*w = arg;
	const struct etcd_kv	*last;

	if (err != NULL) {
		etcd_walk_end(w, err);
		return;
	}
	/* Every page at the first one's revision. */
	if (w->req.revision == 0)
		w->req.revision = r->header.revision;
	w->seen += r->nkvs;
	if ((r->nkvs > 0 && w->page(r, w->arg) == -1) || !r->more ||
	    r->nkvs == 0) {
		etcd_walk_end(w, NULL);
		return;
	}
	/* The next page starts just after the last key: key + "\0". */
	last = &r->kvs[r->nkvs - 1];
	free(w->key);
	w->keylen = last->keylen + 1;
	w->key = xcalloc(1, w->keylen);
	memcpy(w->key, last->key, last->keylen);
	etcd_walk_next(w);
}

static void
etcd_walk_next(struct etcd_walk *w)
{
	struct etcd_error	err;

	w->req.key = w->key;
	w->req.keylen = w->keylen;
	w->req.range_end = w->end;
	w->req.range_end_len = w->endlen;
	if (etcd_walk_range(w, &err) == -1)
		etcd_walk_end(w, &err);
}

int
etcd_range_walk(struct etcd_client *c, const struct etcd_range_req *q,
    etcd_page_cb *page, etcd_walk_done_cb *done, void *arg,
    struct etcd_error *err)
{
	struct etcd_walk	*w;

	if (etcd_range_check(q, err) == -1)
		return (-1);
	if (q->range_end == NULL || q->limit <= 0 || q->count_only) {
		etcd_seterr(err, ETCD_E_INVALID, "range walk: needs a "
		    "range end and a page size, and keys");
		return (-1);
	}
	w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->req = *q;
	w->page = page;
	w->done = done;
	w->arg = arg;
	w->keylen = q->keylen;
	w->key = xmalloc(q->keylen);
	memcpy(w->key, q->key, q->keylen);
	w->endlen = q->range_end_len;
	w->end = xmalloc(q->range_end_len ? q->range_end_len : 1);
	memcpy(w->end, q->range_end, q->range_end_len);
	w->req.key = w->key;
	w->req.range_end = w->end;
	if (etcd_walk_range(w, err) == -1) {
		etcd_walk_free(w);
		return (-1);
	}
	return (0);
}

static const char *const etcd_targets[] = {
	"VERSION", "CREATE", "MOD", "VALUE"
};
static const char *const etcd_results[] = {
	"EQUAL", "GREATER", "LESS", "NOT_EQUAL"
};
static const char *const etcd_target_fields[] = {
	"version", "create_revision", "mod_revision", NULL
};

static json_object *
etcd_op_json(const struct etcd_op *op)
{
	json_object	*o = json_object_new_object(), *r;

	r = json_object_new_object();
	etcd_json_bytes(r, "key", op->key, op->keylen);
	if (op->type == ETCD_OP_PUT) {
		etcd_json_bytes(r, "value", op->value, op->valuelen);
		if (op->lease != 0)
			etcd_json_int64(r, "lease", op->lease);
		json_object_object_add(o, "request_put", r);
	} else {
		if (op->range_end != NULL)
			etcd_json_bytes(r, "range_end", op->range_end,
			    op->range_end_len);
		json_object_object_add(o, "request_delete_range", r);
	}
	return (o);
}

static int
etcd_ops_json(json_object *o, const char *name, const struct etcd_op *ops,
    size_t n, struct etcd_error *err)
{
	json_object	*a;
	size_t		 i;

	if (n == 0)
		return (0);
	a = json_object_new_array();
	json_object_object_add(o, name, a);
	for (i = 0; i < n; i++) {
		if (ops[i].key == NULL || ops[i].keylen == 0 ||
		    (ops[i].type != ETCD_OP_PUT &&
		    ops[i].type != ETCD_OP_DELETE)) {
			etcd_seterr(err, ETCD_E_INVALID, "txn: %s op %zu: "
			    "no key or an unknown type", name, i);
			return (-1);
		}
		json_object_array_add(a, etcd_op_json(&ops[i]));
	}
	return (0);
}

json_object *
etcd_txn_json(const struct etcd_txn_req *q, struct etcd_error *err)
{
	const struct etcd_compare	*cmp;
	json_object			*o, *a, *co;
	size_t				 i;

	o = json_object_new_object();
	if (q->ncmp > 0) {
		a = json_object_new_array();
		json_object_object_add(o, "compare", a);
	}
	for (i = 0; i < q->ncmp; i++) {
		cmp = &q->cmp[i];
		if (cmp->key == NULL || cmp->keylen == 0 ||
		    (unsigned)cmp->target > ETCD_CMP_VALUE ||
		    (unsigned)cmp->result > ETCD_CMP_NOT_EQUAL) {
			etcd_seterr(err, ETCD_E_INVALID, "txn: compare %zu: "
			    "no key, or an unknown target or result", i);
			json_object_put(o);
			return (NULL);
		}
		co = json_object_new_object();
		etcd_json_bytes(co, "key", cmp->key, cmp->keylen);
		if (cmp->range_end != NULL)
			etcd_json_bytes(co, "range_end", cmp->range_end,
			    cmp->range_end_len);
		json_object_object_add(co, "target",
		    json_object_new_string(etcd_targets[cmp->target]));
		json_object_object_add(co, "result",
		    json_object_new_string(etcd_results[cmp->result]));
		if (cmp->target == ETCD_CMP_VALUE)
			etcd_json_bytes(co, "value", cmp->value,
			    cmp->valuelen);
		else
			etcd_json_int64(co, etcd_target_fields[cmp->target],
			    cmp->number);
		json_object_array_add(a, co);
	}
	if (etcd_ops_json(o, "success", q->success, q->nsuccess, err) == -1 ||
	    etcd_ops_json(o, "failure", q->failure, q->nfailure, err) == -1) {
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

/* What the txn's range deletes removed ("deleted" of each response). */
static int64_t
etcd_txn_deleted(json_object *o)
{
	json_object	*a, *d;
	int64_t		 n, sum = 0;
	size_t		 i;

	if (!json_object_object_get_ex(o, "responses", &a) ||
	    !json_object_is_type(a, json_type_array))
		return (0);
	for (i = 0; i < json_object_array_length(a); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(a, i),
		    "response_delete_range", &d) &&
		    etcd_json_get_int64(d, "deleted", &n) == 0)
			sum += n;
	return (sum);
}

static void
etcd_txn_done(struct etcd_call *call, const struct etcd_error *err,
    json_object *o)
{
	struct etcd_txn_res	 r;
	struct etcd_error	 e;
	json_object		*f;

	memset(&r, 0, sizeof(r));
	if (err == NULL && etcd_json_header(o, &r.header) == -1) {
		etcd_seterr(&e, ETCD_E_PROTOCOL, "%s: /v3/kv/txn: "
		    "malformed answer", etcd_client_endpoint(call->c));
		err = &e;
	}
	if (err == NULL && json_object_object_get_ex(o, "succeeded", &f))
		r.succeeded = json_object_get_boolean(f);
	if (err == NULL)
		r.deleted = etcd_txn_deleted(o);
	((etcd_txn_cb *)call->cb)(err, err == NULL ? &r : NULL, call->arg);
}

int
etcd_txn(struct etcd_client *c, const struct etcd_txn_req *q,
    etcd_txn_cb *cb, void *arg, struct etcd_error *err)
{
	json_object	*o;

	if (q->ncmp > ETCD_TXN_OPS_MAX || q->nsuccess > ETCD_TXN_OPS_MAX ||
	    q->nfailure > ETCD_TXN_OPS_MAX) {
		etcd_seterr(err, ETCD_E_INVALID, "txn: more than %d "
		    "comparisons or operations", ETCD_TXN_OPS_MAX);
		return (-1);
	}
	if ((o = etcd_txn_json(q, err)) == NULL)
		return (-1);
	return (etcd_call_start(c, "/v3/kv/txn", o, 1, etcd_txn_done,
	    (void *)cb, arg, err));
}

static void
etcd_status_done(struct etcd_call *call, const struct etcd_error *err,
    json_object *o)
{
	struct etcd_status	 s;
	struct etcd_error	 e;
	json_object		*f;

	memset(&s, 0, sizeof(s));
	if (err == NULL && (etcd_json_header(o, &s.header) == -1 ||
	    etcd_json_get_uint64(o, "leader", &s.leader) == -1 ||
	    etcd_json_get_int64(o, "dbSize", &s.db_size) == -1)) {
		etcd_seterr(&e, ETCD_E_PROTOCOL, "%s: /v3/maintenance/status: "
		    "malformed answer", etcd_client_endpoint(call->c));
		err = &e;
	}
	if (err == NULL && json_object_object_get_ex(o, "version", &f))
		snprintf(s.version, sizeof(s.version), "%s",
		    json_object_get_string(f));
	((etcd_status_cb *)call->cb)(err, err == NULL ? &s : NULL, call->arg);
}

int
etcd_status(struct etcd_client *c, etcd_status_cb *cb, void *arg,
    struct etcd_error *err)
{
	return (etcd_call_start(c, "/v3/maintenance/status",
	    json_object_new_object(), 0, etcd_status_done, (void *)cb, arg,
	    err));
}

static void
etcd_header_done(struct etcd_call *call, const struct etcd_error *err,
    json_object *o)
{
	struct etcd_header	 h;
	struct etcd_error	 e;

	memset(&h, 0, sizeof(h));
	if (err == NULL && etcd_json_header(o, &h) == -1) {
		etcd_seterr(&e, ETCD_E_PROTOCOL, "%s: %s: malformed answer",
		    etcd_client_endpoint(call->c), call->path);
		err = &e;
	}
	((etcd_header_cb *)call->cb)(err, err == NULL ? &h : NULL, call->arg);
}

int
etcd_compact(struct etcd_client *c, int64_t revision, int physical,
    etcd_header_cb *cb, void *arg, struct etcd_error *err)
{
	json_object	*o;

	if (revision <= 0) {
		etcd_seterr(err, ETCD_E_INVALID, "compact: revision %lld",
		    (long long)revision);
		return (-1);
	}
	o = json_object_new_object();
	etcd_json_int64(o, "revision", revision);
	if (physical)
		json_object_object_add(o, "physical",
		    json_object_new_boolean(1));
	return (etcd_call_start(c, "/v3/kv/compaction", o, 1,
	    etcd_header_done, (void *)cb, arg, err));
}

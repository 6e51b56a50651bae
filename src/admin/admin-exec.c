/*
 * admin-exec.c: one admin request from bytes to answer.  Identify the
 * caller (signed request or peer credentials), parse the call, look up
 * what it names in the current world, authorize it (superuser, or the
 * policies as the real services do), audit the intent (fsynced; refused
 * when it cannot be written), run it as one store change, audit the
 * outcome, answer with the RequestId (and the new generation).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <sodium.h>

#include "admin/admin-exec.h"
#include "admin/admin.h"
#include "admin/audit.h"
#include "common/log.h"
#include "engine/eval.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "store/store.h"

#define ADMIN_SCHED_MAX	65536

struct admin_sched {
	char	key_id[129];
	int64_t	when;
};

struct admin_ctx {
	struct admin_conf	 conf;
	struct store		*store;
	struct audit		*audit;
	struct admin_keyring	*keys;
	struct admin_replay	*replay;
	/* A mirror of the store's scheduled deletions, for the timer. */
	struct admin_sched	*sched;
	size_t			 nsched;
	int			 resync;	/* reload it from the store */
};

/* What one call works on, looked up in the world before it runs. */
struct admin_run {
	struct admin_ctx	*ctx;
	struct admin_caller	*caller;
	struct admin_req	*req;
	struct world		*w;
	const char		*account;	/* acting account */
	struct world_key	 key;
	int			 has_key;
	struct world_instance	 inst;
	int			 has_inst;
	struct world_alias	 alias;
	int			 has_alias;
	char			 detail[512];
};

static struct json_object *admin_answer(const struct admin_req *);
static struct json_object *admin_fail(struct admin_run *, enum admin_err,
		    const char *, ...) __attribute__((__format__(printf, 3, 4)));
static enum admin_err admin_store_err(int, int);
static int	admin_identify(struct admin_ctx *, const struct admin_peer *,
		    const char *, size_t, const void *, size_t,
		    struct admin_caller *, char *, size_t);
static int	admin_allowed(struct admin_run *, const struct admin_target *);
static struct json_object *admin_params_json(const struct admin_req *);
static void	admin_digest(const char *, size_t, char *, size_t);
static int	admin_intent(struct admin_run *);
static struct json_object *admin_done(struct admin_run *, int, uint64_t,
		    const char *, struct policy_diags *, int);
static struct json_object *admin_exec(struct admin_run *);
static void	admin_date(int64_t, char *, size_t);
static struct json_object *admin_version_json(
		    const struct store_policy_version *);
static struct json_object *admin_policy_read(struct admin_run *);
static int	admin_version_parse(const char *, uint32_t *);
static int	admin_sched_add(struct admin_ctx *, const char *, int64_t);
static int	admin_sched_load(struct admin_ctx *);
static void	admin_sched_del(struct admin_ctx *, const char *);

struct admin_ctx *
admin_ctx_new(const struct admin_conf *conf, struct store *st, char *err,
    size_t errlen)
{
	struct admin_ctx	*ctx;
	size_t			 i;
	int			 e;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot start");
		return (NULL);
	}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	ctx->conf = *conf;
	ctx->store = st;
	if ((ctx->keys = admin_keyring_new()) == NULL ||
	    (ctx->replay = admin_replay_new(conf->replay_cache)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < conf->nkeys; i++) {
		if (admin_keyring_add(ctx->keys, conf->key_pk[i],
		    conf->key_principal[i]) != 0) {
			snprintf(err, errlen, "bad admin key %s",
			    conf->key_pk[i]);
			goto fail;
		}
	}
	/* Deletions scheduled before a restart, due or not. */
	if (st != NULL && admin_sched_load(ctx) != 0) {
		snprintf(err, errlen, "scheduled deletions: %s",
		    store_errmsg(st));
		goto fail;
	}
	if ((ctx->audit = audit_open(conf->audit_file[0] != '\0' ?
	    conf->audit_file : NULL)) == NULL) {
		/*
		 * An audit file that cannot be opened (permissions, a
		 * missing directory) does not stop the daemon: queries and
		 * admin reads (never audited) are served, every change is
		 * refused (ServiceUnavailable) until a reopen (SIGHUP)
		 * succeeds.  Serving the state beats not serving.
		 */
		e = errno;
		if (conf->audit_file[0] == '\0' ||
		    (ctx->audit = audit_open_later(conf->audit_file,
		    e)) == NULL) {
			snprintf(err, errlen, "audit file %s: %s",
			    conf->audit_file, strerror(e));
			goto fail;
		}
		log_warnx("admin: audit file %s: %s; every admin change is "
		    "refused (ServiceUnavailable) until it can be opened "
		    "and kmsauthzd gets SIGHUP; queries and admin reads are "
		    "served", conf->audit_file, strerror(e));
	}
	return (ctx);
fail:
	admin_ctx_free(ctx);
	return (NULL);
}

void
admin_ctx_free(struct admin_ctx *ctx)
{
	if (ctx == NULL)
		return;
	audit_close(ctx->audit);
	admin_keyring_free(ctx->keys);
	admin_replay_free(ctx->replay);
	free(ctx->sched);
	free(ctx);
}

int
admin_ctx_reopen(struct admin_ctx *ctx)
{
	return (audit_reopen(ctx->audit));
}

int
admin_ctx_unavailable(struct admin_ctx *ctx, char *cause, size_t len)
{
	int	e;

	if (ctx == NULL)
		return (0);
	if (ctx->store != NULL && store_readonly(ctx->store)) {
		snprintf(cause, len, "%s", store_readonly_cause(ctx->store));
		return (1);
	}
	if ((e = audit_error(ctx->audit)) != 0) {
		snprintf(cause, len, "audit file %s: %s",
		    audit_path(ctx->audit), strerror(e));
		return (1);
	}
	return (0);
}

void
admin_ctx_resync(struct admin_ctx *ctx)
{
	if (admin_sched_load(ctx) != 0)
		ctx->resync = 1;
}

void
admin_ctx_replay_floor(struct admin_ctx *ctx, int64_t floor)
{
	admin_replay_set_floor(ctx->replay, floor);
}

static struct json_object *
admin_answer(const struct admin_req *req)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(o, "RequestId",
	    json_object_new_string(req->request_id));
	return (o);
}

static struct json_object *
admin_fail(struct admin_run *r, enum admin_err e, const char *fmt, ...)
{
	va_list	ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
		va_end(ap);
	}
	return (admin_err_json(e, r->req->request_id,
	    fmt != NULL ? r->detail : NULL));
}

/* Store errors to API errors; on_key: ENOTFOUND means the key. */
static enum admin_err
admin_store_err(int se, int on_key)
{
	switch (se) {
	case STORE_OK:
		return (ADMIN_OK);
	case STORE_ENOTFOUND:
		return (on_key ? ADMIN_E_KEY_NOT_FOUND :
		    ADMIN_E_RESOURCE_NOT_FOUND);
	case STORE_EEXIST:
	case STORE_ELIMIT:
	case STORE_EINVAL:
	case STORE_EINUSE:
		return (ADMIN_E_INVALID_PARAMETER);
	case STORE_ESTATE:
		return (ADMIN_E_INSTANCE_STATE);
	case STORE_EUNSUPPORTED:
		return (ADMIN_E_KEY_POLICY_UNSUPPORTED);
	case STORE_EQUOTA:
		return (ADMIN_E_SHARE_QUOTA);
	case STORE_ERDONLY:
		return (ADMIN_E_UNAVAILABLE);
	default:
		return (ADMIN_E_INTERNAL);
	}
}

/*
 * What peer credentials map to: the uid's line, then the gid's, then
 * uid 0 as superuser (unless root_superuser = no); NULL: nobody.
 */
static const char *
admin_peer_principal(const struct admin_conf *conf, long uid, long gid)
{
	size_t	i;

	for (i = 0; i < conf->npeers; i++)
		if (!conf->peers[i].is_gid && conf->peers[i].id == uid)
			return (conf->peers[i].principal);
	for (i = 0; i < conf->npeers; i++)
		if (conf->peers[i].is_gid && conf->peers[i].id == gid)
			return (conf->peers[i].principal);
	if (uid == 0 && conf->root_superuser)
		return (ADMIN_SUPERUSER);
	return (NULL);
}

int
admin_ctx_peer_superuser(const struct admin_ctx *ctx, long uid, long gid)
{
	const char	*p;

	if (ctx == NULL)
		return (uid == 0);
	p = admin_peer_principal(&ctx->conf, uid, gid);
	return (p != NULL && strcmp(p, ADMIN_SUPERUSER) == 0);
}

/*
 * The caller: a signed request names its key's principal; otherwise the
 * peer's uid, then its gid, is looked up; uid 0 is superuser unless
 * mapped otherwise.  0, or -1 (refused) with the reason in why.
 */
static int
admin_identify(struct admin_ctx *ctx, const struct admin_peer *peer,
    const char *body, size_t len, const void *sig, size_t siglen,
    struct admin_caller *c, char *why, size_t whylen)
{
	enum admin_sign_status	 s;
	const char		*principal = NULL;

	memset(c, 0, sizeof(*c));
	c->uid = peer != NULL ? peer->uid : -1;
	c->gid = peer != NULL ? peer->gid : -1;
	c->pid = peer != NULL ? peer->pid : -1;
	if (sig != NULL) {
		s = admin_sign_verify(ctx->keys, ctx->replay,
		    (int64_t)time(NULL), body, len, sig, siglen, &principal,
		    c->pubkey);
		if (s != ADMIN_SIGN_OK) {
			snprintf(why, whylen, "signed request refused: %s",
			    admin_sign_status_name(s));
			return (-1);
		}
	} else if (peer != NULL)
		principal = admin_peer_principal(&ctx->conf, peer->uid,
		    peer->gid);
	if (principal == NULL) {
		snprintf(why, whylen, "uid %ld gid %ld is not an "
		    "administrator", c->uid, c->gid);
		return (-1);
	}
	if (strcmp(principal, ADMIN_SUPERUSER) == 0) {
		c->superuser = 1;
		return (0);
	}
	if (admin_caller_set_principal(c, principal) != 0) {
		snprintf(why, whylen, "mapped principal is not valid");
		return (-1);
	}
	return (0);
}

/* 1 when every resource of the target is allowed to the caller. */
static int
admin_allowed(struct admin_run *r, const struct admin_target *t)
{
	struct eval_request	 q;
	struct eval_answer	 a;
	size_t			 i;

	if (r->caller->superuser)
		return (1);
	if (t->action[0] == '\0')
		return (1);	/* Status: any administrator */
	for (i = 0; i < t->nres; i++) {
		memset(&q, 0, sizeof(q));
		q.principal = r->caller->principal;
		q.principal_len = strlen(q.principal);
		q.action = t->action;
		q.action_len = strlen(t->action);
		q.resource = t->res[i];
		q.resource_len = strlen(t->res[i]);
		q.now.sec = (int64_t)time(NULL);
		if (eval_decide(r->w, &q, &a) != 0 ||
		    a.decision != EVAL_ALLOW) {
			snprintf(r->detail, sizeof(r->detail), "%s on %s: %s",
			    t->action, t->res[i],
			    eval_reason_name(a.reason) != NULL ?
			    eval_reason_name(a.reason) : "denied");
			return (0);
		}
	}
	return (1);
}

static void
admin_digest(const char *text, size_t len, char *out, size_t outlen)
{
	unsigned char	h[crypto_hash_sha256_BYTES];
	char		hex[crypto_hash_sha256_BYTES * 2 + 1];

	crypto_hash_sha256(h, (const unsigned char *)text, len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, outlen, "sha256:%s", hex);
}

/* The parameters as the audit records them: documents as digests. */
static struct json_object *
admin_params_json(const struct admin_req *req)
{
	const struct admin_param	*p;
	const struct admin_val		*v;
	struct json_object		*o, *a, *t;
	char				 dg[80];
	size_t				 j;
	int				 i;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	for (i = 0; req->api->params[i].name != NULL; i++) {
		p = &req->api->params[i];
		v = &req->v[i];
		if (!v->set)
			continue;
		switch (p->type) {
		case ADMIN_P_STRING:
			json_object_object_add(o, p->name,
			    json_object_new_string_len(v->s, (int)v->len));
			break;
		case ADMIN_P_DOC:
			admin_digest(v->s, v->len, dg, sizeof(dg));
			json_object_object_add(o, p->name,
			    json_object_new_string(dg));
			break;
		case ADMIN_P_INT:
			json_object_object_add(o, p->name,
			    json_object_new_int64(v->i));
			break;
		case ADMIN_P_BOOL:
			json_object_object_add(o, p->name,
			    json_object_new_boolean(v->b));
			break;
		case ADMIN_P_TAGS:
			a = json_object_new_array();
			for (j = 0; j < v->n; j++) {
				t = json_object_new_object();
				json_object_object_add(t, "TagKey",
				    json_object_new_string(v->tags[j].key));
				json_object_object_add(t, "TagValue",
				    json_object_new_string(v->tags[j].value));
				json_object_array_add(a, t);
			}
			json_object_object_add(o, p->name, a);
			break;
		case ADMIN_P_STRLIST:
			a = json_object_new_array();
			for (j = 0; j < v->n; j++)
				json_object_array_add(a,
				    json_object_new_string(v->list[j]));
			json_object_object_add(o, p->name, a);
			break;
		}
	}
	return (o);
}

/* The intent record; -1: it could not be made durable (refuse). */
static int
admin_intent(struct admin_run *r)
{
	struct json_object	*p;
	int			 rv;

	p = admin_params_json(r->req);
	rv = audit_intent(r->ctx->audit, r->caller, r->req->api->name,
	    r->req->request_id, p);
	json_object_put(p);
	return (rv);
}

/*
 * After a store change: the outcome record and the answer.  digest: of
 * the document set (may be NULL); on_key: ENOTFOUND names the key.
 */
static struct json_object *
admin_done(struct admin_run *r, int se, uint64_t gen, const char *digest,
    struct policy_diags *diags, int on_key)
{
	struct json_object	*o;
	enum admin_err		 e;

	if (se == STORE_OK) {
		audit_outcome(r->ctx->audit, r->req->api->name,
		    r->req->request_id, NULL, NULL, gen, digest);
		if ((o = admin_answer(r->req)) != NULL)
			json_object_object_add(o, "Generation",
			    json_object_new_uint64(gen));
		return (o);
	}
	e = admin_store_err(se, on_key);
	if (diags != NULL && diags->n > 0)
		snprintf(r->detail, sizeof(r->detail), "%s%s%s",
		    diags->v[0].path != NULL ? diags->v[0].path : "",
		    diags->v[0].path != NULL && diags->v[0].path[0] != '\0' ?
		    ": " : "", diags->v[0].reason != NULL ?
		    diags->v[0].reason : "invalid");
	else
		snprintf(r->detail, sizeof(r->detail), "%s",
		    r->ctx->store != NULL ? store_errmsg(r->ctx->store) :
		    "no store");
	audit_outcome(r->ctx->audit, r->req->api->name, r->req->request_id,
	    admin_err_code(e), r->detail, 0, NULL);
	if (e == ADMIN_E_INTERNAL)
		log_warnx("admin: %s %s: %s", r->req->api->name,
		    r->req->request_id, r->detail);
	return (admin_err_json(e, r->req->request_id, r->detail));
}

static int
admin_sched_add(struct admin_ctx *ctx, const char *id, int64_t when)
{
	struct admin_sched	*n;

	admin_sched_del(ctx, id);
	if (ctx->nsched == ADMIN_SCHED_MAX)
		return (-1);
	if ((n = reallocarray(ctx->sched, ctx->nsched + 1,
	    sizeof(*n))) == NULL)
		return (-1);
	ctx->sched = n;
	snprintf(n[ctx->nsched].key_id, sizeof(n[0].key_id), "%s", id);
	n[ctx->nsched].when = when;
	ctx->nsched++;
	return (0);
}

static void
admin_sched_del(struct admin_ctx *ctx, const char *id)
{
	size_t	i;

	for (i = 0; i < ctx->nsched; i++) {
		if (strcmp(ctx->sched[i].key_id, id) == 0) {
			ctx->sched[i] = ctx->sched[--ctx->nsched];
			return;
		}
	}
}

int64_t
admin_next_deletion(struct admin_ctx *ctx, int64_t now)
{
	int64_t	best = -1, d;
	size_t	i;

	for (i = 0; i < ctx->nsched; i++) {
		d = ctx->sched[i].when - now;
		if (d < 0)
			d = 0;
		if (best == -1 || d < best)
			best = d;
	}
	return (best);
}

/*
 * The mirror from the store: times in seconds, rounded up so that a
 * deletion found due at second t is due at t * 1000 ms too.
 */
static int
admin_sched_load(struct admin_ctx *ctx)
{
	struct store_deletion	*d;
	size_t			 n, i;

	if (store_key_deletions_list(ctx->store, &d, &n) != STORE_OK)
		return (-1);
	ctx->nsched = 0;
	for (i = 0; i < n; i++) {
		if (admin_sched_add(ctx, d[i].key_id,
		    (d[i].when_ms + 999) / 1000) != 0) {
			store_key_deletions_free(d, n);
			return (-1);
		}
	}
	store_key_deletions_free(d, n);
	return (0);
}

int
admin_tick(struct admin_ctx *ctx, int64_t now)
{
	struct admin_caller	 sys;
	struct world		*w;
	struct world_key	 k;
	char			 rid[ADMIN_REQUEST_ID_LEN + 1];
	char			 id[129];
	struct json_object	*p;
	uint64_t		 gen = 0;
	size_t			 i;
	int			 n = 0, se, pending;

	/* A read-only store or no audit: deletions wait (SIGHUP). */
	if (ctx->store == NULL || store_readonly(ctx->store) ||
	    audit_error(ctx->audit) != 0)
		return (0);
	if (ctx->resync && admin_sched_load(ctx) == 0)
		ctx->resync = 0;
	memset(&sys, 0, sizeof(sys));
	sys.superuser = 1;
	sys.uid = sys.gid = sys.pid = -1;
	for (i = 0; i < ctx->nsched;) {
		if (ctx->sched[i].when > now) {
			i++;
			continue;
		}
		snprintf(id, sizeof(id), "%s", ctx->sched[i].key_id);
		w = world_holder_acquire(store_holder(ctx->store));
		pending = w != NULL && world_get_key(w, id, strlen(id),
		    &k) == 0 && k.state == WORLD_KEY_PENDING_DELETION;
		world_unref(w);
		if (!pending) {
			/* Gone or cancelled meanwhile. */
			ctx->sched[i] = ctx->sched[--ctx->nsched];
			continue;
		}
		admin_request_id(rid);
		p = json_object_new_object();
		json_object_object_add(p, "KeyId", json_object_new_string(id));
		if (audit_intent(ctx->audit, &sys, "DeleteKey", rid, p) != 0) {
			/* Fail closed: retry on a later tick. */
			json_object_put(p);
			ctx->sched[i].when = now + 1;
			break;
		}
		json_object_put(p);
		/* The key, its aliases, tags and policy: one change. */
		se = store_key_expire(ctx->store, id, now * 1000, &gen);
		audit_outcome(ctx->audit, "DeleteKey", rid,
		    se == STORE_OK ? NULL : admin_err_code(admin_store_err(se,
		    1)), se == STORE_OK ? NULL : store_errmsg(ctx->store), gen,
		    NULL);
		if (se == STORE_OK || se == STORE_ENOTFOUND) {
			if (se == STORE_OK)
				n++;
			ctx->sched[i] = ctx->sched[--ctx->nsched];
			continue;
		}
		/* E.g. its instance is Disabled: try again in a minute. */
		log_warnx("admin: scheduled deletion of %s: %s", id,
		    store_errmsg(ctx->store));
		ctx->sched[i].when = now + 60;
		if (se == STORE_EINVAL)
			ctx->resync = 1;	/* not due: our copy is off */
		i++;
	}
	return (n);
}

/* ------------------------------------------------------------------ */
/* Reads. */

struct admin_list {
	struct json_object	*arr;
	const char		*account;	/* NULL: every account */
	const char		*region;
};

static int
admin_list_key(const struct world_key *k, void *arg)
{
	struct admin_list	*l = arg;
	struct json_object	*o;
	char			 arn[ADMIN_ARN_MAX];

	if (l->account != NULL && strcmp(k->creator, l->account) != 0)
		return (0);
	o = json_object_new_object();
	snprintf(arn, sizeof(arn), "acs:kms:%s:%s:key/%s", k->region,
	    k->creator, k->id);
	json_object_object_add(o, "KeyId", json_object_new_string(k->id));
	json_object_object_add(o, "KeyArn", json_object_new_string(arn));
	json_object_array_add(l->arr, o);
	return (0);
}

static int
admin_list_alias(const struct world_alias *a, void *arg)
{
	struct admin_list	*l = arg;
	struct json_object	*o;
	char			 arn[ADMIN_ARN_MAX];

	if (l->account != NULL && strcmp(a->account, l->account) != 0)
		return (0);
	o = json_object_new_object();
	snprintf(arn, sizeof(arn), "acs:kms:%s:%s:%s", a->region, a->account,
	    a->name);
	json_object_object_add(o, "AliasName", json_object_new_string(a->name));
	json_object_object_add(o, "AliasArn", json_object_new_string(arn));
	json_object_object_add(o, "KeyId", json_object_new_string(a->key_id));
	json_object_array_add(l->arr, o);
	return (0);
}

static int
admin_list_policy(const struct world_policy *p, void *arg)
{
	struct admin_list	*l = arg;
	struct json_object	*o;

	if (l->account != NULL && strcmp(p->account, l->account) != 0)
		return (0);
	o = json_object_new_object();
	json_object_object_add(o, "PolicyName", json_object_new_string(p->name));
	json_object_object_add(o, "PolicyType",
	    json_object_new_string("Custom"));
	if (l->account == NULL)
		json_object_object_add(o, "AccountId",
		    json_object_new_string(p->account));
	json_object_array_add(l->arr, o);
	return (0);
}

static int
admin_cmp_first(const void *a, const void *b)
{
	struct json_object *const	*x = a, *const *y = b;
	struct json_object		*vx, *vy;
	const char			*k[] = { "KeyId", "AliasName",
					    "PolicyName" };
	int				 i, c;

	for (i = 0; i < 3; i++) {
		if (json_object_object_get_ex(*x, k[i], &vx) &&
		    json_object_object_get_ex(*y, k[i], &vy) &&
		    (c = strcmp(json_object_get_string(vx),
		    json_object_get_string(vy))) != 0)
			return (c);
	}
	return (0);
}

/* Sorted, then one page of it under {outer: {inner: [...]}}. */
static void
admin_page(struct admin_run *r, struct json_object *o, struct json_object *all,
    const char *outer, const char *inner, int paged)
{
	const struct admin_val	*v;
	struct json_object	*page, *wrap;
	int64_t			 pn = 1, ps = 10, i, n;

	json_object_array_sort(all, admin_cmp_first);
	n = (int64_t)json_object_array_length(all);
	if (!paged) {
		wrap = json_object_new_object();
		json_object_object_add(wrap, inner, all);
		json_object_object_add(o, outer, wrap);
		return;
	}
	if ((v = admin_req_get(r->req, "PageNumber")) != NULL)
		pn = v->i;
	if ((v = admin_req_get(r->req, "PageSize")) != NULL)
		ps = v->i;
	page = json_object_new_array();
	for (i = (pn - 1) * ps; i < n && i < pn * ps; i++)
		json_object_array_add(page,
		    json_object_get(json_object_array_get_idx(all, i)));
	json_object_put(all);
	wrap = json_object_new_object();
	json_object_object_add(wrap, inner, page);
	json_object_object_add(o, outer, wrap);
	json_object_object_add(o, "TotalCount", json_object_new_int64(n));
	json_object_object_add(o, "PageNumber", json_object_new_int64(pn));
	json_object_object_add(o, "PageSize", json_object_new_int64(ps));
}

static struct json_object *
admin_describe(struct admin_run *r)
{
	struct json_object	*o, *m;
	char			 arn[ADMIN_ARN_MAX], date[32];
	int64_t			 when;

	o = admin_answer(r->req);
	m = json_object_new_object();
	snprintf(arn, sizeof(arn), "acs:kms:%s:%s:key/%s", r->key.region,
	    r->key.creator, r->key.id);
	json_object_object_add(m, "KeyId", json_object_new_string(r->key.id));
	json_object_object_add(m, "Arn", json_object_new_string(arn));
	json_object_object_add(m, "KeyState", json_object_new_string(
	    world_key_state_name(r->key.state)));
	json_object_object_add(m, "Creator",
	    json_object_new_string(r->key.creator));
	json_object_object_add(m, "Region",
	    json_object_new_string(r->key.region));
	if (r->key.instance != NULL)
		json_object_object_add(m, "DKMSInstanceId",
		    json_object_new_string(r->key.instance));
	if (r->key.state == WORLD_KEY_PENDING_DELETION &&
	    r->ctx->store != NULL &&
	    store_key_deletion_get(r->ctx->store, r->key.id, &when) ==
	    STORE_OK) {
		admin_date(when, date, sizeof(date));
		json_object_object_add(m, "DeleteDate",
		    json_object_new_string(date));
	}
	json_object_object_add(o, "KeyMetadata", m);
	return (o);
}

/* ------------------------------------------------------------------ */

struct admin_find_alias {
	const char		*name;
	const char		*account;	/* NULL: any */
	struct world_alias	 a;
	int			 n;
};

static int
admin_find_alias_cb(const struct world_alias *a, void *arg)
{
	struct admin_find_alias	*f = arg;

	if (strcmp(a->name, f->name) != 0 ||
	    (f->account != NULL && strcmp(a->account, f->account) != 0))
		return (0);
	f->a = *a;
	f->n++;
	return (0);
}

static int
admin_is_key_call(enum admin_api_id id)
{
	switch (id) {
	case ADMIN_SetKeyPolicy:
	case ADMIN_GetKeyPolicy:
	case ADMIN_DescribeKey:
	case ADMIN_EnableKey:
	case ADMIN_DisableKey:
	case ADMIN_ScheduleKeyDeletion:
	case ADMIN_CancelKeyDeletion:
	case ADMIN_TagResource:
	case ADMIN_UntagResource:
	case ADMIN_ListResourceTags:
	case ADMIN_CreateAlias:
	case ADMIN_UpdateAlias:
		return (1);
	default:
		return (0);
	}
}

/*
 * TagResource / UntagResource: every tag of the call in one store change
 * (one transaction, one generation).
 */
static int
admin_tags_change(struct admin_run *r, const struct admin_val *v,
    int untag, uint64_t *genp)
{
	struct store_tag	*t;
	size_t			 i;
	int			 se;

	if ((t = calloc(v->n, sizeof(*t))) == NULL)
		return (STORE_ENOMEM);
	for (i = 0; i < v->n; i++) {
		t[i].key = untag ? v->list[i] : v->tags[i].key;
		t[i].value = untag ? NULL : v->tags[i].value;
	}
	se = store_tags_change(r->ctx->store, r->key.id, t, v->n, genp);
	free(t);
	return (se);
}

/* A RAM date: ISO 8601 in UTC to the second ("2015-01-23T12:33:18Z"). */
static void
admin_date(int64_t ms, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

/* One policy version as RAM shapes it. */
static struct json_object *
admin_version_json(const struct store_policy_version *pv)
{
	struct json_object	*o;
	char			 buf[32];

	o = json_object_new_object();
	snprintf(buf, sizeof(buf), "v%" PRIu32, pv->id);
	json_object_object_add(o, "VersionId", json_object_new_string(buf));
	json_object_object_add(o, "IsDefaultVersion",
	    json_object_new_boolean(pv->is_default));
	admin_date(pv->create_ms, buf, sizeof(buf));
	json_object_object_add(o, "CreateDate", json_object_new_string(buf));
	json_object_object_add(o, "PolicyDocument",
	    json_object_new_string_len(pv->text, (int)pv->len));
	return (o);
}

/*
 * GetPolicy (the policy and its default version), GetPolicyVersion (one
 * version) and ListPolicyVersions (every version, by id), read from the
 * store: the world holds only the compiled default.
 */
static struct json_object *
admin_policy_read(struct admin_run *r)
{
	struct admin_req		*req = r->req;
	struct store_policy_version	*all = NULL, one;
	struct json_object		*o, *t, *arr;
	const char			*name, *type, *vs;
	char				 buf[32];
	uint32_t			 ver = 0;
	size_t				 i, n = 0;
	int				 se;

	name = admin_req_str(req, "PolicyName");
	if ((type = admin_req_str(req, "PolicyType")) != NULL &&
	    strcmp(type, "System") == 0)
		return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND,
		    "no System policy %s", name));
	if ((vs = admin_req_str(req, "VersionId")) != NULL &&
	    admin_version_parse(vs, &ver) != 0)
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
		    "VersionId: v1, v2, ..."));
	if (r->ctx->store == NULL)
		return (admin_fail(r, ADMIN_E_INTERNAL, "no store"));
	if (req->api->id == ADMIN_ListPolicyVersions)
		se = store_policy_versions_list(r->ctx->store, r->account,
		    name, &all, &n);
	else
		se = store_policy_version_get(r->ctx->store, r->account, name,
		    ver, &one);
	if (se != STORE_OK)
		return (admin_fail(r, se == STORE_ENOTFOUND ?
		    ADMIN_E_RESOURCE_NOT_FOUND : ADMIN_E_INTERNAL, "%s",
		    store_errmsg(r->ctx->store)));
	o = admin_answer(req);
	switch (req->api->id) {
	case ADMIN_GetPolicy:
		t = json_object_new_object();
		json_object_object_add(t, "PolicyName",
		    json_object_new_string(name));
		json_object_object_add(t, "PolicyType",
		    json_object_new_string("Custom"));
		snprintf(buf, sizeof(buf), "v%" PRIu32, one.id);
		json_object_object_add(t, "DefaultVersion",
		    json_object_new_string(buf));
		json_object_object_add(t, "PolicyDocument",
		    json_object_new_string_len(one.text, (int)one.len));
		json_object_object_add(o, "Policy", t);
		json_object_object_add(o, "DefaultPolicyVersion",
		    admin_version_json(&one));
		break;
	case ADMIN_GetPolicyVersion:
		json_object_object_add(o, "PolicyVersion",
		    admin_version_json(&one));
		break;
	default:
		arr = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(arr, admin_version_json(&all[i]));
		t = json_object_new_object();
		json_object_object_add(t, "PolicyVersion", arr);
		json_object_object_add(o, "PolicyVersions", t);
		break;
	}
	if (req->api->id == ADMIN_ListPolicyVersions)
		store_policy_versions_free(all, n);
	else
		free(one.text);
	return (o);
}

static int
admin_version_parse(const char *s, uint32_t *vp)
{
	char		*end;
	unsigned long	 v;

	if (s[0] != 'v' || s[1] < '1' || s[1] > '9')
		return (-1);
	errno = 0;
	v = strtoul(s + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return (-1);
	*vp = (uint32_t)v;
	return (0);
}

static enum store_principal
admin_ptype(enum admin_api_id id, const char **param)
{
	switch (id) {
	case ADMIN_AttachPolicyToRole:
	case ADMIN_DetachPolicyFromRole:
	case ADMIN_CreateRole:
	case ADMIN_DeleteRole:
		*param = "RoleName";
		return (STORE_ROLE);
	case ADMIN_AttachPolicyToGroup:
	case ADMIN_DetachPolicyFromGroup:
	case ADMIN_CreateGroup:
	case ADMIN_DeleteGroup:
		*param = "GroupName";
		return (STORE_GROUP);
	default:
		*param = "UserName";
		return (STORE_USER);
	}
}

/* Everything after the caller was authorized. */
static struct json_object *
admin_exec(struct admin_run *r)
{
	struct admin_ctx	*ctx = r->ctx;
	struct admin_req	*req = r->req;
	struct store_key_policy	 kp;
	struct policy_diags	 d;
	struct admin_list	 l;
	struct bundle		*b;
	struct json_object	*o, *arr, *t;
	const struct admin_val	*v;
	const char		*s, *pname, *acct = r->account;
	char			 dg[80], kid[129], *txt;
	enum store_principal	 pt;
	uint64_t		 gen = 0;
	int64_t			 when;
	uint32_t		 ver;
	size_t			 i, len;
	enum world_instance_state ist;
	int			 se, e;

	/* Reads. */
	switch (req->api->id) {
	case ADMIN_Status:
		o = admin_answer(req);
		json_object_object_add(o, "Generation",
		    json_object_new_uint64(world_generation(r->w)));
		json_object_object_add(o, "Caller", json_object_new_string(
		    r->caller->superuser ? ADMIN_SUPERUSER :
		    r->caller->principal));
		return (o);
	case ADMIN_GetKeyPolicy:
		if (r->key.instance == NULL)
			return (admin_fail(r, ADMIN_E_KEY_POLICY_UNSUPPORTED,
			    "key %s is outside any KMS instance", r->key.id));
		if ((s = admin_req_str(req, "PolicyName")) != NULL &&
		    strcmp(s, "default") != 0)
			return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND,
			    "PolicyName: only default exists"));
		if (ctx->store == NULL || (se = store_key_policy_get(
		    ctx->store, r->key.id, &kp)) != STORE_OK)
			return (admin_fail(r, ADMIN_E_INTERNAL, "%s",
			    ctx->store != NULL ? store_errmsg(ctx->store) :
			    "no store"));
		o = admin_answer(req);
		json_object_object_add(o, "Policy",
		    json_object_new_string_len(kp.text, (int)kp.len));
		store_key_policy_free(&kp);
		return (o);
	case ADMIN_DescribeKey:
		return (admin_describe(r));
	case ADMIN_ListResourceTags:
		o = admin_answer(req);
		arr = json_object_new_array();
		for (i = 0; i < r->key.ntags; i++) {
			t = json_object_new_object();
			json_object_object_add(t, "KeyId",
			    json_object_new_string(r->key.id));
			json_object_object_add(t, "TagKey",
			    json_object_new_string(r->key.tags[i].key));
			json_object_object_add(t, "TagValue",
			    json_object_new_string(r->key.tags[i].value));
			json_object_array_add(arr, t);
		}
		t = json_object_new_object();
		json_object_object_add(t, "Tag", arr);
		json_object_object_add(o, "Tags", t);
		return (o);
	case ADMIN_ListKeys:
	case ADMIN_ListAliases:
	case ADMIN_ListPolicies:
		o = admin_answer(req);
		l.arr = json_object_new_array();
		l.account = r->caller->superuser ? NULL : acct;
		l.region = ctx->conf.region;
		if (req->api->id == ADMIN_ListKeys) {
			world_foreach_key(r->w, admin_list_key, &l);
			admin_page(r, o, l.arr, "Keys", "Key", 1);
		} else if (req->api->id == ADMIN_ListAliases) {
			world_foreach_alias(r->w, admin_list_alias, &l);
			admin_page(r, o, l.arr, "Aliases", "Alias", 1);
		} else {
			world_foreach_policy(r->w, admin_list_policy, &l);
			admin_page(r, o, l.arr, "Policies", "Policy", 0);
		}
		return (o);
	case ADMIN_GetPolicy:
	case ADMIN_GetPolicyVersion:
	case ADMIN_ListPolicyVersions:
		return (admin_policy_read(r));
	case ADMIN_ExportBundle:
		if (ctx->store == NULL ||
		    store_to_bundle(ctx->store, &b) != STORE_OK)
			return (admin_fail(r, ADMIN_E_INTERNAL, "%s",
			    ctx->store != NULL ? store_errmsg(ctx->store) :
			    "no store"));
		txt = bundle_export(b, &len);
		bundle_free(b);
		if (txt == NULL)
			return (admin_fail(r, ADMIN_E_INTERNAL,
			    "out of memory"));
		o = admin_answer(req);
		json_object_object_add(o, "Generation",
		    json_object_new_uint64(world_generation(r->w)));
		json_object_object_add(o, "Bundle",
		    json_object_new_string_len(txt, (int)len));
		free(txt);
		return (o);
	default:
		break;
	}

	/* Changes: checks that need no store, then intent, then commit. */
	if (r->has_key && r->key.instance != NULL && r->has_inst &&
	    r->inst.state != WORLD_INSTANCE_ENABLED)
		return (admin_fail(r, ADMIN_E_INSTANCE_STATE,
		    "instance %s is %s", r->inst.id,
		    world_instance_state_name(r->inst.state)));
	switch (req->api->id) {
	case ADMIN_SetKeyPolicy:
		if (r->key.instance == NULL)
			return (admin_fail(r, ADMIN_E_KEY_POLICY_UNSUPPORTED,
			    "key %s is outside any KMS instance", r->key.id));
		if ((s = admin_req_str(req, "PolicyName")) != NULL &&
		    strcmp(s, "default") != 0)
			return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND,
			    "PolicyName: only default exists"));
		break;
	case ADMIN_EnableKey:
	case ADMIN_DisableKey:
		if (r->key.state == WORLD_KEY_PENDING_DELETION ||
		    r->key.state == WORLD_KEY_PENDING_IMPORT)
			return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
			    "KeyId: the key is %s",
			    world_key_state_name(r->key.state)));
		break;
	case ADMIN_ScheduleKeyDeletion:
		if (r->key.state == WORLD_KEY_PENDING_DELETION)
			return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
			    "KeyId: deletion is already scheduled"));
		break;
	case ADMIN_CancelKeyDeletion:
		if (r->key.state != WORLD_KEY_PENDING_DELETION)
			return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
			    "KeyId: the key is not PendingDeletion"));
		break;
	case ADMIN_CreateKey:
		if ((s = admin_req_str(req, "DKMSInstanceId")) != NULL) {
			/*
			 * An instance holds its own account's keys: another
			 * account's instance is not there for the caller
			 * (one without a recorded owner is the admin
			 * configuration's account's).  The superuser may
			 * name any.
			 */
			if (world_get_instance(r->w, s, strlen(s),
			    &r->inst) != 0 || (!r->caller->superuser &&
			    strcmp(r->inst.account != NULL ? r->inst.account :
			    r->ctx->conf.account, r->account) != 0))
				return (admin_fail(r,
				    ADMIN_E_INVALID_PARAMETER,
				    "DKMSInstanceId: no instance %s in account "
				    "%s", s, r->account));
			if (r->inst.state != WORLD_INSTANCE_ENABLED)
				return (admin_fail(r, ADMIN_E_INSTANCE_STATE,
				    "instance %s is %s", s,
				    world_instance_state_name(
				    r->inst.state)));
		}
		break;
	case ADMIN_CreatePolicyVersion:
	case ADMIN_SetDefaultPolicyVersion:
	case ADMIN_DeletePolicyVersion:
		if ((s = admin_req_str(req, "VersionId")) != NULL &&
		    admin_version_parse(s, &ver) != 0)
			return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
			    "VersionId: v1, v2, ..."));
		break;
	case ADMIN_AttachPolicyToUser:
	case ADMIN_AttachPolicyToRole:
	case ADMIN_AttachPolicyToGroup:
	case ADMIN_DetachPolicyFromUser:
	case ADMIN_DetachPolicyFromRole:
	case ADMIN_DetachPolicyFromGroup:
		if (strcmp(admin_req_str(req, "PolicyType"), "Custom") != 0)
			return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND,
			    "no System policy %s",
			    admin_req_str(req, "PolicyName")));
		break;
	default:
		break;
	}
	if (ctx->store == NULL)
		return (admin_fail(r, ADMIN_E_INTERNAL, "no store"));
	/* Refused before the intent: nothing to audit, nothing changes. */
	if (store_readonly(ctx->store))
		return (admin_fail(r, ADMIN_E_UNAVAILABLE, "%s: the store is "
		    "read-only (%s): change refused; reads and queries are "
		    "answered from generation %" PRIu64, store_dir(ctx->store),
		    store_readonly_cause(ctx->store),
		    store_generation(ctx->store)));
	if ((e = audit_error(ctx->audit)) != 0)
		return (admin_fail(r, ADMIN_E_UNAVAILABLE, "audit file %s: %s: "
		    "change refused (it could not be audited); reads and "
		    "queries are answered from generation %" PRIu64,
		    audit_path(ctx->audit), strerror(e),
		    store_generation(ctx->store)));
	if (admin_intent(r) != 0)
		return (admin_fail(r, ADMIN_E_INTERNAL, "the audit record "
		    "could not be written: change refused"));

	policy_diags_init(&d);
	dg[0] = '\0';
	switch (req->api->id) {
	case ADMIN_SetKeyPolicy:
		v = admin_req_get(req, "Policy");
		admin_digest(v->s, v->len, dg, sizeof(dg));
		se = store_key_policy_set(ctx->store, r->key.id, v->s, v->len,
		    &d, &gen);
		o = admin_done(r, se, gen, dg, &d, 1);
		break;
	case ADMIN_CreateInstance:
		ist = WORLD_INSTANCE_ENABLED;
		if ((s = admin_req_str(req, "State")) != NULL)
			world_instance_state_parse(s, strlen(s), &ist);
		v = admin_req_get(req, "ShareQuota");
		if ((s = admin_req_str(req, "Account")) == NULL)
			s = ctx->conf.account;
		se = store_instance_create(ctx->store,
		    admin_req_str(req, "InstanceId"), (int)ist,
		    v != NULL ? (uint32_t)v->i : 0, s, &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_UpdateInstanceState:
		s = admin_req_str(req, "State");
		ist = WORLD_INSTANCE_ENABLED;
		world_instance_state_parse(s, strlen(s), &ist);
		se = store_instance_state_set(ctx->store,
		    admin_req_str(req, "InstanceId"), (int)ist, &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_CreateKey:
		if ((s = admin_req_str(req, "KeyId")) != NULL)
			snprintf(kid, sizeof(kid), "%s", s);
		else {
			unsigned char rb[12];
			char hex[25];

			randombytes_buf(rb, sizeof(rb));
			sodium_bin2hex(hex, sizeof(hex), rb, sizeof(rb));
			snprintf(kid, sizeof(kid), "key-%s", hex);
		}
		se = store_key_create(ctx->store, kid, ctx->conf.region, acct,
		    admin_req_str(req, "DKMSInstanceId"), WORLD_KEY_ENABLED,
		    &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		if (se == STORE_OK && o != NULL) {
			struct json_object *m = json_object_new_object();
			char arn[ADMIN_ARN_MAX];

			snprintf(arn, sizeof(arn), "acs:kms:%s:%s:key/%s",
			    ctx->conf.region, acct, kid);
			json_object_object_add(m, "KeyId",
			    json_object_new_string(kid));
			json_object_object_add(m, "Arn",
			    json_object_new_string(arn));
			json_object_object_add(m, "KeyState",
			    json_object_new_string("Enabled"));
			json_object_object_add(o, "KeyMetadata", m);
		}
		break;
	case ADMIN_EnableKey:
	case ADMIN_DisableKey:
		se = store_key_state_set(ctx->store, r->key.id,
		    req->api->id == ADMIN_DisableKey ? WORLD_KEY_DISABLED :
		    WORLD_KEY_ENABLED, &gen);
		o = admin_done(r, se, gen, NULL, NULL, 1);
		break;
	case ADMIN_CancelKeyDeletion:
		se = store_key_cancel_deletion(ctx->store, r->key.id, &gen);
		if (se == STORE_OK)
			admin_sched_del(ctx, r->key.id);
		o = admin_done(r, se, gen, NULL, NULL, 1);
		break;
	case ADMIN_ScheduleKeyDeletion:
		/* The time is stored with the state: it survives restarts. */
		v = admin_req_get(req, "PendingWindowInDays");
		when = (int64_t)time(NULL) + v->i * ctx->conf.day_seconds;
		se = store_key_schedule_deletion(ctx->store, r->key.id,
		    when * 1000, &gen);
		if (se == STORE_OK && admin_sched_add(ctx, r->key.id,
		    when) != 0)
			ctx->resync = 1;
		o = admin_done(r, se, gen, NULL, NULL, 1);
		break;
	case ADMIN_TagResource:
	case ADMIN_UntagResource:
		v = admin_req_get(req, req->api->id == ADMIN_TagResource ?
		    "Tags" : "TagKeys");
		se = admin_tags_change(r, v,
		    req->api->id == ADMIN_UntagResource, &gen);
		o = admin_done(r, se, gen, NULL, NULL, 1);
		break;
	case ADMIN_CreateAlias:
		se = store_alias_create(ctx->store, req->alias.name,
		    r->key.id, &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_UpdateAlias:
		se = store_alias_update(ctx->store, req->alias.name,
		    r->key.id, &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_DeleteAlias:
		se = store_alias_delete(ctx->store, r->alias.region,
		    r->alias.account, r->alias.name, &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_CreateUser:
	case ADMIN_CreateRole:
	case ADMIN_CreateGroup:
		pt = admin_ptype(req->api->id, &pname);
		se = store_principal_create(ctx->store, pt, acct,
		    admin_req_str(req, pname), &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_DeleteUser:
	case ADMIN_DeleteRole:
	case ADMIN_DeleteGroup:
		pt = admin_ptype(req->api->id, &pname);
		se = store_principal_delete(ctx->store, pt, acct,
		    admin_req_str(req, pname), &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_AddUserToGroup:
		se = store_membership_add(ctx->store, acct,
		    admin_req_str(req, "UserName"),
		    admin_req_str(req, "GroupName"), &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_RemoveUserFromGroup:
		se = store_membership_remove(ctx->store, acct,
		    admin_req_str(req, "UserName"),
		    admin_req_str(req, "GroupName"), &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_CreatePolicy:
		v = admin_req_get(req, "PolicyDocument");
		admin_digest(v->s, v->len, dg, sizeof(dg));
		se = store_policy_create(ctx->store, acct,
		    admin_req_str(req, "PolicyName"), v->s, v->len, &d, &gen);
		o = admin_done(r, se, gen, dg, &d, 0);
		break;
	case ADMIN_DeletePolicy:
		se = store_policy_delete(ctx->store, acct,
		    admin_req_str(req, "PolicyName"), &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_CreatePolicyVersion:
		v = admin_req_get(req, "PolicyDocument");
		admin_digest(v->s, v->len, dg, sizeof(dg));
		se = store_policy_version_create(ctx->store, acct,
		    admin_req_str(req, "PolicyName"), v->s, v->len,
		    admin_req_get(req, "SetAsDefault") != NULL &&
		    admin_req_get(req, "SetAsDefault")->b, &d, &ver, &gen);
		o = admin_done(r, se, gen, dg, &d, 0);
		if (se == STORE_OK && o != NULL) {
			struct store_policy_version pv;

			/* As stored: the answer RAM gives. */
			if (store_policy_version_get(ctx->store, acct,
			    admin_req_str(req, "PolicyName"), ver,
			    &pv) == STORE_OK) {
				json_object_object_add(o, "PolicyVersion",
				    admin_version_json(&pv));
				free(pv.text);
			}
		}
		break;
	case ADMIN_SetDefaultPolicyVersion:
	case ADMIN_DeletePolicyVersion:
		admin_version_parse(admin_req_str(req, "VersionId"), &ver);
		if (req->api->id == ADMIN_SetDefaultPolicyVersion)
			se = store_policy_version_set_default(ctx->store, acct,
			    admin_req_str(req, "PolicyName"), ver, &gen);
		else
			se = store_policy_version_delete(ctx->store, acct,
			    admin_req_str(req, "PolicyName"), ver, &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_AttachPolicyToUser:
	case ADMIN_AttachPolicyToRole:
	case ADMIN_AttachPolicyToGroup:
	case ADMIN_DetachPolicyFromUser:
	case ADMIN_DetachPolicyFromRole:
	case ADMIN_DetachPolicyFromGroup:
		pt = admin_ptype(req->api->id, &pname);
		if (strncmp(req->api->name, "Attach", 6) == 0)
			se = store_attach(ctx->store, pt, acct,
			    admin_req_str(req, pname),
			    admin_req_str(req, "PolicyName"), &gen);
		else
			se = store_detach(ctx->store, pt, acct,
			    admin_req_str(req, pname),
			    admin_req_str(req, "PolicyName"), &gen);
		o = admin_done(r, se, gen, NULL, NULL, 0);
		break;
	case ADMIN_ImportBundle:
		v = admin_req_get(req, "Bundle");
		admin_digest(v->s, v->len, dg, sizeof(dg));
		b = NULL;
		if (bundle_parse(v->s, v->len, 0, &b, &d) != 0)
			se = STORE_EINVAL;
		else {
			se = store_replace_all(ctx->store, b, &gen);
			bundle_free(b);
			/* The new state's deletions (store_replace_all). */
			if (se == STORE_OK && admin_sched_load(ctx) != 0)
				ctx->resync = 1;
		}
		o = admin_done(r, se, gen, dg, &d, 0);
		break;
	default:
		o = admin_fail(r, ADMIN_E_INTERNAL, "unhandled call");
		audit_outcome(ctx->audit, req->api->name, req->request_id,
		    "InternalFailure", "unhandled call", 0, NULL);
		break;
	}
	policy_diags_free(&d);
	return (o);
}

struct json_object *
admin_handle(struct admin_ctx *ctx, const struct admin_peer *peer,
    const char *body, size_t len, const void *sig, size_t siglen)
{
	struct admin_caller	 caller;
	struct admin_req	 req;
	struct admin_run	 r;
	struct admin_scope	 sc;
	struct admin_target	 t;
	struct admin_find_alias	 fa;
	struct json_object	*o;
	char			 why[256], detail[512];
	const char		*s;
	enum admin_err		 e;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.caller = &caller;
	r.req = &req;
	detail[0] = '\0';
	e = admin_req_parse(body, len, &req, detail, sizeof(detail));
	/* Identity first: a refused caller learns nothing else. */
	if (admin_identify(ctx, peer, body, len, sig, siglen, &caller, why,
	    sizeof(why)) != 0) {
		log_warnx("admin: refused (uid %ld pid %ld): %s", peer != NULL ?
		    peer->uid : -1, peer != NULL ? peer->pid : -1, why);
		o = admin_err_json(ADMIN_E_NO_PERMISSION, req.request_id, why);
		admin_req_free(&req);
		return (o);
	}
	if (e != ADMIN_OK) {
		o = admin_err_json(e, req.request_id, detail);
		admin_req_free(&req);
		return (o);
	}
	r.account = caller.superuser ? ctx->conf.account : caller.account;
	if (ctx->store != NULL)
		r.w = world_holder_acquire(store_holder(ctx->store));
	else
		r.w = world_new_empty();
	if (r.w == NULL) {
		o = admin_err_json(ADMIN_E_INTERNAL, req.request_id,
		    "out of memory");
		admin_req_free(&req);
		return (o);
	}

	/* What the call names. */
	memset(&sc, 0, sizeof(sc));
	sc.region = ctx->conf.region;
	sc.account = r.account;
	if (admin_is_key_call(req.api->id)) {
		if (world_get_key(r.w, req.key.id, strlen(req.key.id),
		    &r.key) != 0 || (req.key.is_arn &&
		    (strcmp(req.key.region, r.key.region) != 0 ||
		    strcmp(req.key.account, r.key.creator) != 0))) {
			o = admin_fail(&r, ADMIN_E_KEY_NOT_FOUND, "KeyId: %s",
			    req.key.id);
			goto out;
		}
		r.has_key = 1;
		if (r.key.instance != NULL && world_get_instance(r.w,
		    r.key.instance, strlen(r.key.instance), &r.inst) == 0)
			r.has_inst = 1;
		sc.key_region = r.key.region;
		sc.key_account = r.key.creator;
		sc.key_id = r.key.id;
		sc.alias_region = r.key.region;
		sc.alias_account = r.key.creator;
	}
	/* An alias ARN names the key's own region and account. */
	if (req.api->id == ADMIN_CreateAlias && req.alias.is_arn &&
	    (strcmp(req.alias.region, r.key.region) != 0 ||
	    strcmp(req.alias.account, r.key.creator) != 0)) {
		o = admin_fail(&r, ADMIN_E_INVALID_PARAMETER, "AliasName: "
		    "an alias is made in its key's region and account "
		    "(acs:kms:%s:%s:%s)", r.key.region, r.key.creator,
		    req.alias.name);
		goto out;
	}
	if (req.api->id == ADMIN_UpdateAlias ||
	    req.api->id == ADMIN_DeleteAlias) {
		/*
		 * Which account's alias: the ARN's; else the key's (Update),
		 * the caller's own (a principal), or the only one with that
		 * name (the superuser: two accounts' aliases need the ARN).
		 */
		memset(&fa, 0, sizeof(fa));
		fa.name = req.alias.name;
		fa.account = req.alias.is_arn ? req.alias.account :
		    req.api->id == ADMIN_UpdateAlias ? r.key.creator :
		    (caller.superuser ? NULL : r.account);
		world_foreach_alias(r.w, admin_find_alias_cb, &fa);
		if (fa.n != 1 || (req.alias.is_arn &&
		    strcmp(fa.a.region, req.alias.region) != 0) ||
		    (req.api->id == ADMIN_UpdateAlias &&
		    (strcmp(fa.a.region, r.key.region) != 0 ||
		    strcmp(fa.a.account, r.key.creator) != 0))) {
			o = fa.n > 1 ? admin_fail(&r,
			    ADMIN_E_INVALID_PARAMETER, "AliasName: %s exists "
			    "in several accounts: name it by its ARN, "
			    "acs:kms:REGION:ACCOUNT:%s", fa.name, fa.name) :
			    admin_fail(&r, ADMIN_E_RESOURCE_NOT_FOUND,
			    "AliasName: no alias %s", req.alias.is_arn ?
			    admin_req_str(&req, "AliasName") : fa.name);
			goto out;
		}
		r.alias = fa.a;
		r.has_alias = 1;
		sc.alias_region = fa.a.region;
		sc.alias_account = fa.a.account;
		if (req.api->id == ADMIN_DeleteAlias) {
			s = fa.a.key_id;
			if (world_get_key(r.w, s, strlen(s), &r.key) == 0) {
				sc.key_region = r.key.region;
				sc.key_account = r.key.creator;
				sc.key_id = r.key.id;
			}
		}
	}

	/* Who may. */
	if (!caller.superuser) {
		if (req.api->flags & ADMIN_F_SUPERUSER) {
			o = admin_fail(&r, ADMIN_E_NO_PERMISSION,
			    "%s is for the superuser only", req.api->name);
			goto out;
		}
		if (admin_authz_target(&req, &sc, &t) != 0) {
			o = admin_fail(&r, ADMIN_E_NO_PERMISSION,
			    "no resource to authorize");
			goto out;
		}
		if (!admin_allowed(&r, &t)) {
			o = admin_err_json(ADMIN_E_NO_PERMISSION,
			    req.request_id, r.detail);
			if (req.api->flags & ADMIN_F_CHANGE)
				log_info("admin: %s refused to %s: %s",
				    req.api->name, caller.principal, r.detail);
			goto out;
		}
	}
	o = admin_exec(&r);
out:
	world_unref(r.w);
	admin_req_free(&req);
	return (o);
}

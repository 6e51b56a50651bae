/* SPDX-License-Identifier: ISC */
/*
 * admin-exec.c: the admin pipeline, one request from bytes to answer.
 * Identify the caller (signed request or peer credentials), parse the
 * call (the API table), resolve what its row says it names in the
 * current world, authorize it (superuser, or the policies on the row's
 * resources, as the real services do), then run the row's handlers
 * (admin-kms.c, admin-ram.c, admin-state.c): for a change, its check,
 * the audit intent (fsynced; refused when it cannot be written), the
 * change as one store transaction, the audit outcome; the answer with
 * the RequestId (and the new generation).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <sodium.h>

#include "admin/admin-run.h"
#include "admin/audit.h"
#include "common/log.h"
#include "engine/eval.h"
#include "engine/world.h"
#include "policy/policy.h"
#include "store/store.h"

/* The handlers of every call, from its row (admin-calls.def). */
static const struct admin_ops {
	admin_handler	 check;		/* before the intent; may be NULL */
	admin_handler	 run;
} admin_ops[ADMIN_API_COUNT] = {
#define ADMIN_CALL(name, flags, params, target, r1, r2, check, run,	\
    summary)								\
	[ADMIN_##name] = { check, run },
#include "admin/admin-calls.def"
#undef ADMIN_CALL
};

static int	admin_identify(struct admin_ctx *, const struct admin_peer *,
		    const char *, size_t, const void *, size_t,
		    struct admin_caller *, char *, size_t);
static int	admin_allowed(struct admin_run *, const struct admin_target *);
static void	admin_digest(const char *, size_t, char *, size_t);
static struct json_object *admin_params_json(const struct admin_req *);
static int	admin_intent(struct admin_run *);

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
admin_ctx_set_status_hook(struct admin_ctx *ctx, admin_status_hook hook,
    void *arg)
{
	ctx->status_hook = hook;
	ctx->status_arg = arg;
}

void
admin_ctx_replay_floor(struct admin_ctx *ctx, int64_t floor)
{
	admin_replay_set_floor(ctx->replay, floor);
}

struct json_object *
admin_answer(const struct admin_req *req)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	admin_set_str(o, "RequestId", req->request_id);
	return (o);
}

struct json_object *
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
enum admin_err
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
	case STORE_EUNAVAIL:
	case STORE_ECONFLICT:
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
			admin_set_str(o, p->name, dg);
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
				admin_set_str(t, "TagKey", v->tags[j].key);
				admin_set_str(t, "TagValue", v->tags[j].value);
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

/* The digest of the call's document (the row's ADMIN_P_DOC), or NULL. */
static const char *
admin_doc_digest(const struct admin_req *req, char *out, size_t outlen)
{
	int	i;

	for (i = 0; req->api->params[i].name != NULL; i++)
		if (req->api->params[i].type == ADMIN_P_DOC && req->v[i].set) {
			admin_digest(req->v[i].s, req->v[i].len, out, outlen);
			return (out);
		}
	return (NULL);
}

/*
 * After a change's store call: the outcome record (with the digest of
 * the document it set) and the answer.  ENOTFOUND is the key's for a
 * call that names one, the resource's otherwise.
 */
struct json_object *
admin_done(struct admin_run *r, int se)
{
	const struct policy_diags	*diags = &r->diags;
	struct json_object		*o;
	enum admin_err			 e;
	char				 dg[80];

	if (se == STORE_OK) {
		audit_outcome(r->ctx->audit, r->req->api->name,
		    r->req->request_id, NULL, NULL, r->gen,
		    admin_doc_digest(r->req, dg, sizeof(dg)));
		if ((o = admin_answer(r->req)) != NULL)
			json_object_object_add(o, "Generation",
			    json_object_new_uint64(r->gen));
		return (o);
	}
	e = admin_store_err(se, r->req->api->target == ADMIN_T_KEY);
	if (diags->n > 0)
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

struct json_object *
admin_read_fail(struct admin_run *r, enum admin_err e)
{
	return (admin_fail(r, e, "%s", r->ctx->store != NULL ?
	    store_errmsg(r->ctx->store) : "no store"));
}

/*
 * A document a change stored, linted (policy_lint): its warnings as the
 * answer's "Warnings" array, when there are any.  The call succeeded as
 * the cloud's would; the warnings only say what is probably wrong.
 */
void
admin_warnings(struct json_object *o, enum policy_kind kind,
    const char *text, size_t len, const char *account)
{
	struct policy_diags	 d, w;
	struct json_object	*doc, *arr, *e;
	size_t			 i;

	if (o == NULL)
		return;
	policy_diags_init(&d);
	policy_diags_init(&w);
	if ((doc = policy_json_parse(text, len, POLICY_MAX_DEPTH, "",
	    &d)) != NULL && policy_lint(kind, doc, account, &w) == 0 &&
	    w.n > 0 && (arr = json_object_new_array()) != NULL) {
		for (i = 0; i < w.n; i++) {
			e = json_object_new_object();
			admin_set_str(e, "Warning", w.v[i].code);
			admin_set_str(e, "Path", w.v[i].path);
			admin_set_str(e, "Reason", w.v[i].reason);
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "Warnings", arr);
	}
	json_object_put(doc);
	policy_diags_free(&d);
	policy_diags_free(&w);
}

/* A RAM date: ISO 8601 in UTC to the second ("2015-01-23T12:33:18Z"). */
void
admin_date(int64_t ms, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

void
admin_key_arn(char *buf, size_t len, const char *region,
    const char *account, const char *id)
{
	snprintf(buf, len, "acs:kms:%s:%s:key/%s", region, account, id);
}

void
admin_set_str(struct json_object *o, const char *name, const char *s)
{
	json_object_object_add(o, name, json_object_new_string(s));
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

/* A listing's walk state: every account for a superuser, the caller's
 * own otherwise. */
void
admin_list_init(struct admin_list *l, const struct admin_run *r)
{
	l->arr = json_object_new_array();
	l->account = r->caller->superuser ? NULL : r->account;
}

struct json_object *
admin_list_row(struct admin_list *l, const char *account)
{
	struct json_object	*o;

	if (l->account != NULL && strcmp(account, l->account) != 0)
		return (NULL);
	o = json_object_new_object();
	json_object_array_add(l->arr, o);
	return (o);
}

struct json_object *
admin_list_answer(struct admin_run *r, struct admin_list *l,
    const char *outer, const char *inner, int paged)
{
	const struct admin_val	*v;
	struct json_object	*o, *page, *wrap;
	int64_t			 pn = 1, ps = 10, i, n;

	o = admin_answer(r->req);
	json_object_array_sort(l->arr, admin_cmp_first);
	n = (int64_t)json_object_array_length(l->arr);
	if (!paged) {
		wrap = json_object_new_object();
		json_object_object_add(wrap, inner, l->arr);
		json_object_object_add(o, outer, wrap);
		return (o);
	}
	if ((v = admin_req_get(r->req, "PageNumber")) != NULL)
		pn = v->i;
	if ((v = admin_req_get(r->req, "PageSize")) != NULL)
		ps = v->i;
	page = json_object_new_array();
	for (i = (pn - 1) * ps; i < n && i < pn * ps; i++)
		json_object_array_add(page,
		    json_object_get(json_object_array_get_idx(l->arr, i)));
	json_object_put(l->arr);
	wrap = json_object_new_object();
	json_object_object_add(wrap, inner, page);
	json_object_object_add(o, outer, wrap);
	json_object_object_add(o, "TotalCount", json_object_new_int64(n));
	json_object_object_add(o, "PageNumber", json_object_new_int64(pn));
	json_object_object_add(o, "PageSize", json_object_new_int64(ps));
	return (o);
}

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

/*
 * The key a KeyId names, by id or by ARN (whose region and account must
 * be the key's), and its instance.
 */
static struct json_object *
admin_resolve_key(struct admin_run *r, struct admin_scope *sc)
{
	const struct admin_keyref	*kr = &r->req->key;

	if (world_get_key(r->w, kr->id, strlen(kr->id), &r->key) != 0 ||
	    (kr->is_arn && (strcmp(kr->region, r->key.region) != 0 ||
	    strcmp(kr->account, r->key.creator) != 0)))
		return (admin_fail(r, ADMIN_E_KEY_NOT_FOUND, "KeyId: %s",
		    kr->id));
	r->has_key = 1;
	if (r->key.instance != NULL && world_get_instance(r->w,
	    r->key.instance, strlen(r->key.instance), &r->inst) == 0)
		r->has_inst = 1;
	sc->key_region = r->key.region;
	sc->key_account = r->key.creator;
	sc->key_id = r->key.id;
	sc->alias_region = r->key.region;
	sc->alias_account = r->key.creator;
	return (NULL);
}

/*
 * The stored alias an AliasName names.  Which account's: the ARN's; else
 * the key's (ADMIN_T_KEY_ALIAS: UpdateAlias), the caller's own (a
 * principal), or the only one with that name (the superuser: two
 * accounts' aliases need the ARN).  An alias alone (DeleteAlias) brings
 * its key's names for the authorization, when the key is still there.
 */
static struct json_object *
admin_resolve_alias(struct admin_run *r, struct admin_scope *sc)
{
	const struct admin_aliasref	*ar = &r->req->alias;
	struct admin_find_alias		 fa;
	int				 keyed;
	const char			*s;

	keyed = r->req->api->target == ADMIN_T_KEY_ALIAS;
	memset(&fa, 0, sizeof(fa));
	fa.name = ar->name;
	fa.account = ar->is_arn ? ar->account : keyed ? r->key.creator :
	    (r->caller->superuser ? NULL : r->account);
	world_foreach_alias(r->w, admin_find_alias_cb, &fa);
	if (fa.n > 1)
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER, "AliasName: "
		    "%s exists in several accounts: name it by its ARN, "
		    "acs:kms:REGION:ACCOUNT:%s", fa.name, fa.name));
	if (fa.n != 1 || (ar->is_arn &&
	    strcmp(fa.a.region, ar->region) != 0) || (keyed &&
	    (strcmp(fa.a.region, r->key.region) != 0 ||
	    strcmp(fa.a.account, r->key.creator) != 0)))
		return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND,
		    "AliasName: no alias %s", ar->is_arn ?
		    admin_req_str(r->req, "AliasName") : fa.name));
	r->alias = fa.a;
	r->has_alias = 1;
	sc->alias_region = fa.a.region;
	sc->alias_account = fa.a.account;
	if (!keyed) {
		s = fa.a.key_id;
		if (world_get_key(r->w, s, strlen(s), &r->key) == 0) {
			sc->key_region = r->key.region;
			sc->key_account = r->key.creator;
			sc->key_id = r->key.id;
		}
	}
	return (NULL);
}

/* What the call's row says it names, in the world (admin-calls.def). */
static struct json_object *
admin_resolve(struct admin_run *r, struct admin_scope *sc)
{
	const struct admin_aliasref	*ar = &r->req->alias;
	struct json_object		*o;

	switch (r->req->api->target) {
	case ADMIN_T_NONE:
		return (NULL);
	case ADMIN_T_KEY:
		return (admin_resolve_key(r, sc));
	case ADMIN_T_KEY_NEW_ALIAS:
		if ((o = admin_resolve_key(r, sc)) != NULL)
			return (o);
		/* An alias ARN names the key's own region and account. */
		if (ar->is_arn && (strcmp(ar->region, r->key.region) != 0 ||
		    strcmp(ar->account, r->key.creator) != 0))
			return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
			    "AliasName: an alias is made in its key's region "
			    "and account (acs:kms:%s:%s:%s)", r->key.region,
			    r->key.creator, ar->name));
		return (NULL);
	case ADMIN_T_KEY_ALIAS:
		if ((o = admin_resolve_key(r, sc)) != NULL)
			return (o);
		return (admin_resolve_alias(r, sc));
	case ADMIN_T_ALIAS:
		return (admin_resolve_alias(r, sc));
	}
	return (admin_fail(r, ADMIN_E_INTERNAL, "unknown target kind"));
}

/* Who may: a superuser, or a principal its policies allow on every
 * resource of the row.  NULL: go on. */
static struct json_object *
admin_authorize(struct admin_run *r, const struct admin_scope *sc)
{
	const struct admin_api	*api = r->req->api;
	struct admin_target	 t;

	if (r->caller->superuser)
		return (NULL);
	if (api->flags & ADMIN_F_SUPERUSER)
		return (admin_fail(r, ADMIN_E_NO_PERMISSION,
		    "%s is for the superuser only", api->name));
	if (admin_authz_target(r->req, sc, &t) != 0)
		return (admin_fail(r, ADMIN_E_NO_PERMISSION,
		    "no resource to authorize"));
	if (!admin_allowed(r, &t)) {
		if (api->flags & ADMIN_F_CHANGE)
			log_info("admin: %s refused to %s: %s", api->name,
			    r->caller->principal, r->detail);
		return (admin_err_json(ADMIN_E_NO_PERMISSION,
		    r->req->request_id, r->detail));
	}
	return (NULL);
}

/*
 * The row's handlers.  A read runs at once.  A change: the key's
 * instance must be Enabled, the call's own check must pass, the store
 * must be writable and the audit file open (refused before the intent:
 * nothing to audit, nothing changes), the intent must be durable; then
 * it runs as one store change.
 */
static struct json_object *
admin_run_call(struct admin_run *r)
{
	const struct admin_ops	*ops = &admin_ops[r->req->api->id];
	struct admin_ctx	*ctx = r->ctx;
	struct json_object	*o;
	int			 e;

	if (!(r->req->api->flags & ADMIN_F_CHANGE))
		return (ops->run(r));
	if (r->has_key && r->key.instance != NULL && r->has_inst &&
	    r->inst.state != WORLD_INSTANCE_ENABLED)
		return (admin_fail(r, ADMIN_E_INSTANCE_STATE,
		    "instance %s is %s", r->inst.id,
		    world_instance_state_name(r->inst.state)));
	if (ops->check != NULL && (o = ops->check(r)) != NULL)
		return (o);
	/* Authorized and checked like the change: a DryRun stops here,
	 * before the audit intent, and commits nothing. */
	if (admin_dry_run(r))
		return (admin_dry(r));
	if (ctx->store == NULL)
		return (admin_fail(r, ADMIN_E_INTERNAL, "no store"));
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
	return (ops->run(r));
}

struct json_object *
admin_handle(struct admin_ctx *ctx, const struct admin_peer *peer,
    const char *body, size_t len, const void *sig, size_t siglen)
{
	struct admin_caller	 caller;
	struct admin_req	 req;
	struct admin_run	 r;
	struct admin_scope	 sc;
	struct json_object	*o;
	char			 why[256], detail[512];
	enum admin_err		 e;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.caller = &caller;
	r.req = &req;
	policy_diags_init(&r.diags);
	detail[0] = '\0';
	e = admin_req_parse(body, len, &req, detail, sizeof(detail));
	/* Identity first: a refused caller learns nothing else. */
	if (admin_identify(ctx, peer, body, len, sig, siglen, &caller, why,
	    sizeof(why)) != 0) {
		log_warnx("admin: refused (uid %ld pid %ld): %s", peer != NULL ?
		    peer->uid : -1, peer != NULL ? peer->pid : -1, why);
		o = admin_err_json(ADMIN_E_NO_PERMISSION, req.request_id, why);
		goto done;
	}
	if (e != ADMIN_OK) {
		o = admin_err_json(e, req.request_id, detail);
		goto done;
	}
	r.account = caller.superuser ? ctx->conf.account : caller.account;
	if (ctx->store != NULL)
		r.w = world_holder_acquire(store_holder(ctx->store));
	else
		r.w = world_new_empty();
	if (r.w == NULL) {
		o = admin_err_json(ADMIN_E_INTERNAL, req.request_id,
		    "out of memory");
		goto done;
	}
	memset(&sc, 0, sizeof(sc));
	sc.region = ctx->conf.region;
	sc.account = r.account;
	if ((o = admin_resolve(&r, &sc)) == NULL &&
	    (o = admin_authorize(&r, &sc)) == NULL)
		o = admin_run_call(&r);
done:
	world_unref(r.w);
	policy_diags_free(&r.diags);
	admin_req_free(&req);
	return (o);
}

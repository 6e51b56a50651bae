/* SPDX-License-Identifier: ISC */
/*
 * admin-sched.c: scheduled key deletions.  The store keeps each
 * deletion time (schema 2); the admin plane mirrors them here for its
 * timer, and deletes a key whose time has come as one audited change
 * (DeleteKey by superuser: the key, its aliases, tags and policy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin/admin-run.h"
#include "admin/audit.h"
#include "common/log.h"
#include "engine/world.h"
#include "store/store.h"

int
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

void
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
int
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

/* SPDX-License-Identifier: ISC */
/*
 * admin-state.c: the calls on the daemon's whole state
 * (admin-calls.def): ImportBundle (all or nothing), ExportBundle, and
 * Status (the daemon adds its own counters to the answer).
 */
#include <stdlib.h>

#include <json-c/json.h>

#include "admin/admin-run.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "store/store.h"

struct json_object *
admin_state_import(struct admin_run *r)
{
	const struct admin_val	*v = admin_req_get(r->req, "Bundle");
	struct bundle		*b = NULL;
	int			 se;

	if (bundle_parse(v->s, v->len, 0, &b, &r->diags) != 0)
		se = STORE_EINVAL;
	else {
		se = store_replace_all(r->ctx->store, b, &r->gen);
		bundle_free(b);
		/* The new state's deletions (store_replace_all). */
		if (se == STORE_OK && admin_sched_load(r->ctx) != 0)
			r->ctx->resync = 1;
	}
	return (admin_done(r, se));
}

struct json_object *
admin_state_export(struct admin_run *r)
{
	struct json_object	*o;
	struct bundle		*b;
	char			*txt;
	size_t			 len;

	if (r->ctx->store == NULL ||
	    store_to_bundle(r->ctx->store, &b) != STORE_OK)
		return (admin_read_fail(r, ADMIN_E_INTERNAL));
	txt = bundle_export(b, &len);
	bundle_free(b);
	if (txt == NULL)
		return (admin_fail(r, ADMIN_E_INTERNAL, "out of memory"));
	o = admin_answer(r->req);
	json_object_object_add(o, "Generation",
	    json_object_new_uint64(world_generation(r->w)));
	json_object_object_add(o, "Bundle",
	    json_object_new_string_len(txt, (int)len));
	free(txt);
	return (o);
}

struct json_object *
admin_state_status(struct admin_run *r)
{
	struct json_object	*o;

	o = admin_answer(r->req);
	json_object_object_add(o, "Generation",
	    json_object_new_uint64(world_generation(r->w)));
	admin_set_str(o, "Caller", r->caller->superuser ? ADMIN_SUPERUSER :
	    r->caller->principal);
	if (o != NULL && r->ctx->status_hook != NULL)
		r->ctx->status_hook(o, r->ctx->status_arg);
	return (o);
}

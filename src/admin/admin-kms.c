/* SPDX-License-Identifier: ISC */
/*
 * admin-kms.c: the KMS calls (admin-calls.def): keys, their policies,
 * states, deletion, tags and aliases, and instances.  The pipeline
 * (admin-exec.c) has resolved the key or alias the call names and
 * authorized it; a change's check runs before its audit intent, its run
 * after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <sodium.h>

#include "admin/admin-run.h"
#include "engine/world.h"
#include "policy/policy.h"
#include "store/store.h"

/* Only the key policy named default exists; a key outside any instance
 * has none. */
struct json_object *
admin_kms_key_policy_check(struct admin_run *r)
{
	const char	*s;

	if (r->key.instance == NULL)
		return (admin_fail(r, ADMIN_E_KEY_POLICY_UNSUPPORTED,
		    "key %s is outside any KMS instance", r->key.id));
	if ((s = admin_req_str(r->req, "PolicyName")) != NULL &&
	    strcmp(s, "default") != 0)
		return (admin_fail(r, ADMIN_E_RESOURCE_NOT_FOUND,
		    "PolicyName: only default exists"));
	return (NULL);
}

struct json_object *
admin_kms_set_key_policy(struct admin_run *r)
{
	const struct admin_val	*v = admin_req_get(r->req, "Policy");
	struct json_object	*o;
	int			 se;

	se = store_key_policy_set(r->ctx->store, r->key.id, v->s, v->len,
	    &r->diags, &r->gen);
	o = admin_done(r, se);
	if (se == STORE_OK)
		admin_warnings(o, POLICY_KIND_KEY, v->s, v->len,
		    r->key.creator);
	return (o);
}

struct json_object *
admin_kms_get_key_policy(struct admin_run *r)
{
	struct store_key_policy	 kp;
	struct json_object	*o;

	if ((o = admin_kms_key_policy_check(r)) != NULL)
		return (o);
	if (r->ctx->store == NULL || store_key_policy_get(r->ctx->store,
	    r->key.id, &kp) != STORE_OK)
		return (admin_read_fail(r, ADMIN_E_INTERNAL));
	o = admin_answer(r->req);
	json_object_object_add(o, "Policy",
	    json_object_new_string_len(kp.text, (int)kp.len));
	store_key_policy_free(&kp);
	return (o);
}

struct json_object *
admin_kms_create_instance(struct admin_run *r)
{
	enum world_instance_state	 ist = WORLD_INSTANCE_ENABLED;
	const struct admin_val		*v;
	const char			*s;

	if ((s = admin_req_str(r->req, "State")) != NULL)
		world_instance_state_parse(s, strlen(s), &ist);
	v = admin_req_get(r->req, "ShareQuota");
	if ((s = admin_req_str(r->req, "Account")) == NULL)
		s = r->ctx->conf.account;
	return (admin_done(r, store_instance_create(r->ctx->store,
	    admin_req_str(r->req, "InstanceId"), (int)ist,
	    v != NULL ? (uint32_t)v->i : 0, s, &r->gen)));
}

struct json_object *
admin_kms_update_instance_state(struct admin_run *r)
{
	enum world_instance_state	 ist = WORLD_INSTANCE_ENABLED;
	const char			*s = admin_req_str(r->req, "State");

	world_instance_state_parse(s, strlen(s), &ist);
	return (admin_done(r, store_instance_state_set(r->ctx->store,
	    admin_req_str(r->req, "InstanceId"), (int)ist, &r->gen)));
}

/*
 * An instance holds its own account's keys: another account's instance
 * is not there for the caller (one without a recorded owner is the
 * admin configuration's account's).  The superuser may name any.
 */
struct json_object *
admin_kms_create_key_check(struct admin_run *r)
{
	const char	*s;

	if ((s = admin_req_str(r->req, "DKMSInstanceId")) == NULL)
		return (NULL);
	if (world_get_instance(r->w, s, strlen(s), &r->inst) != 0 ||
	    (!r->caller->superuser && strcmp(r->inst.account != NULL ?
	    r->inst.account : r->ctx->conf.account, r->account) != 0))
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
		    "DKMSInstanceId: no instance %s in account %s", s,
		    r->account));
	if (r->inst.state != WORLD_INSTANCE_ENABLED)
		return (admin_fail(r, ADMIN_E_INSTANCE_STATE,
		    "instance %s is %s", s,
		    world_instance_state_name(r->inst.state)));
	return (NULL);
}

struct json_object *
admin_kms_create_key(struct admin_run *r)
{
	struct json_object	*o, *m;
	const char		*s, *acct = r->account;
	char			 kid[129], hex[25], arn[ADMIN_ARN_MAX];
	unsigned char		 rb[12];
	int			 se;

	if ((s = admin_req_str(r->req, "KeyId")) != NULL)
		snprintf(kid, sizeof(kid), "%s", s);
	else {
		randombytes_buf(rb, sizeof(rb));
		sodium_bin2hex(hex, sizeof(hex), rb, sizeof(rb));
		snprintf(kid, sizeof(kid), "key-%s", hex);
	}
	se = store_key_create(r->ctx->store, kid, r->ctx->conf.region, acct,
	    admin_req_str(r->req, "DKMSInstanceId"), WORLD_KEY_ENABLED,
	    &r->gen);
	o = admin_done(r, se);
	if (se == STORE_OK && o != NULL) {
		m = json_object_new_object();
		admin_key_arn(arn, sizeof(arn), r->ctx->conf.region, acct, kid);
		admin_set_str(m, "KeyId", kid);
		admin_set_str(m, "Arn", arn);
		admin_set_str(m, "KeyState", "Enabled");
		json_object_object_add(o, "KeyMetadata", m);
	}
	return (o);
}

struct json_object *
admin_kms_describe_key(struct admin_run *r)
{
	struct json_object	*o, *m;
	char			 arn[ADMIN_ARN_MAX], date[32];
	int64_t			 when;

	o = admin_answer(r->req);
	m = json_object_new_object();
	admin_key_arn(arn, sizeof(arn), r->key.region, r->key.creator,
	    r->key.id);
	admin_set_str(m, "KeyId", r->key.id);
	admin_set_str(m, "Arn", arn);
	admin_set_str(m, "KeyState", world_key_state_name(r->key.state));
	admin_set_str(m, "Creator", r->key.creator);
	admin_set_str(m, "Region", r->key.region);
	if (r->key.instance != NULL)
		admin_set_str(m, "DKMSInstanceId", r->key.instance);
	if (r->key.state == WORLD_KEY_PENDING_DELETION &&
	    r->ctx->store != NULL &&
	    store_key_deletion_get(r->ctx->store, r->key.id, &when) ==
	    STORE_OK) {
		admin_date(when, date, sizeof(date));
		admin_set_str(m, "DeleteDate", date);
	}
	json_object_object_add(o, "KeyMetadata", m);
	return (o);
}

static int
admin_list_key(const struct world_key *k, void *arg)
{
	struct json_object	*o;
	char			 arn[ADMIN_ARN_MAX];

	if ((o = admin_list_row(arg, k->creator)) == NULL)
		return (0);
	admin_key_arn(arn, sizeof(arn), k->region, k->creator, k->id);
	admin_set_str(o, "KeyId", k->id);
	admin_set_str(o, "KeyArn", arn);
	return (0);
}

struct json_object *
admin_kms_list_keys(struct admin_run *r)
{
	struct admin_list	l;

	admin_list_init(&l, r);
	world_foreach_key(r->w, admin_list_key, &l);
	return (admin_list_answer(r, &l, "Keys", "Key", 1));
}

struct json_object *
admin_kms_key_state_check(struct admin_run *r)
{
	if (r->key.state == WORLD_KEY_PENDING_DELETION ||
	    r->key.state == WORLD_KEY_PENDING_IMPORT)
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
		    "KeyId: the key is %s", world_key_state_name(r->key.state)));
	return (NULL);
}

struct json_object *
admin_kms_set_key_state(struct admin_run *r)
{
	return (admin_done(r, store_key_state_set(r->ctx->store, r->key.id,
	    r->req->api->id == ADMIN_DisableKey ? WORLD_KEY_DISABLED :
	    WORLD_KEY_ENABLED, &r->gen)));
}

struct json_object *
admin_kms_schedule_check(struct admin_run *r)
{
	if (r->key.state == WORLD_KEY_PENDING_DELETION)
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
		    "KeyId: deletion is already scheduled"));
	return (NULL);
}

/* The time is stored with the state: it survives restarts. */
struct json_object *
admin_kms_schedule_deletion(struct admin_run *r)
{
	const struct admin_val	*v;
	int64_t			 when;
	int			 se;

	v = admin_req_get(r->req, "PendingWindowInDays");
	when = (int64_t)time(NULL) + v->i * r->ctx->conf.day_seconds;
	se = store_key_schedule_deletion(r->ctx->store, r->key.id, when * 1000,
	    &r->gen);
	if (se == STORE_OK && admin_sched_add(r->ctx, r->key.id, when) != 0)
		r->ctx->resync = 1;
	return (admin_done(r, se));
}

struct json_object *
admin_kms_cancel_check(struct admin_run *r)
{
	if (r->key.state != WORLD_KEY_PENDING_DELETION)
		return (admin_fail(r, ADMIN_E_INVALID_PARAMETER,
		    "KeyId: the key is not PendingDeletion"));
	return (NULL);
}

struct json_object *
admin_kms_cancel_deletion(struct admin_run *r)
{
	int	se;

	se = store_key_cancel_deletion(r->ctx->store, r->key.id, &r->gen);
	if (se == STORE_OK)
		admin_sched_del(r->ctx, r->key.id);
	return (admin_done(r, se));
}

/*
 * TagResource / UntagResource: every tag of the call in one store change
 * (one transaction, one generation).
 */
struct json_object *
admin_kms_tags_change(struct admin_run *r)
{
	int			 untag = r->req->api->id == ADMIN_UntagResource;
	const struct admin_val	*v;
	struct store_tag	*t;
	size_t			 i;
	int			 se;

	v = admin_req_get(r->req, untag ? "TagKeys" : "Tags");
	if ((t = calloc(v->n, sizeof(*t))) == NULL)
		se = STORE_ENOMEM;
	else {
		for (i = 0; i < v->n; i++) {
			t[i].key = untag ? v->list[i] : v->tags[i].key;
			t[i].value = untag ? NULL : v->tags[i].value;
		}
		se = store_tags_change(r->ctx->store, r->key.id, t, v->n,
		    &r->gen);
		free(t);
	}
	return (admin_done(r, se));
}

struct json_object *
admin_kms_list_tags(struct admin_run *r)
{
	struct json_object	*o, *arr, *t;
	size_t			 i;

	o = admin_answer(r->req);
	arr = json_object_new_array();
	for (i = 0; i < r->key.ntags; i++) {
		t = json_object_new_object();
		admin_set_str(t, "KeyId", r->key.id);
		admin_set_str(t, "TagKey", r->key.tags[i].key);
		admin_set_str(t, "TagValue", r->key.tags[i].value);
		json_object_array_add(arr, t);
	}
	t = json_object_new_object();
	json_object_object_add(t, "Tag", arr);
	json_object_object_add(o, "Tags", t);
	return (o);
}

struct json_object *
admin_kms_create_alias(struct admin_run *r)
{
	return (admin_done(r, store_alias_create(r->ctx->store,
	    r->req->alias.name, r->key.id, &r->gen)));
}

struct json_object *
admin_kms_update_alias(struct admin_run *r)
{
	return (admin_done(r, store_alias_update(r->ctx->store,
	    r->req->alias.name, r->key.id, &r->gen)));
}

struct json_object *
admin_kms_delete_alias(struct admin_run *r)
{
	return (admin_done(r, store_alias_delete(r->ctx->store,
	    r->alias.region, r->alias.account, r->alias.name, &r->gen)));
}

static int
admin_list_alias(const struct world_alias *a, void *arg)
{
	struct json_object	*o;
	char			 arn[ADMIN_ARN_MAX];

	if ((o = admin_list_row(arg, a->account)) == NULL)
		return (0);
	snprintf(arn, sizeof(arn), "acs:kms:%s:%s:%s", a->region, a->account,
	    a->name);
	admin_set_str(o, "AliasName", a->name);
	admin_set_str(o, "AliasArn", arn);
	admin_set_str(o, "KeyId", a->key_id);
	return (0);
}

struct json_object *
admin_kms_list_aliases(struct admin_run *r)
{
	struct admin_list	l;

	admin_list_init(&l, r);
	world_foreach_alias(r->w, admin_list_alias, &l);
	return (admin_list_answer(r, &l, "Aliases", "Alias", 1));
}

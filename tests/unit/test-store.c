/* SPDX-License-Identifier: ISC */
/*
 * test-store.c: every change of the store, every error path, the state
 * proven unchanged after each error (the raw records byte for byte, the
 * generation, the published world), generations, reload, structural
 * sharing, map growth and its ceiling.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "engine/cpolicy.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy-compile.h"
#include "store/store-int.h"
#include "store/store-json.h"
#include "store-test.h"

#define KP(acct)							\
	"{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\","	\
	"\"Principal\":{\"RAM\":[\"acs:ram::" acct ":*\"]},"		\
	"\"Action\":[\"kms:*\"],\"Resource\":[\"*\"]}]}"
#define RP(sid)								\
	"{\"Version\":\"1\",\"Statement\":[{\"Sid\":\"" sid "\","	\
	"\"Effect\":\"Allow\",\"Action\":[\"kms:Encrypt\"],"		\
	"\"Resource\":[\"*\"]}]}"

struct fx {
	char		*tmp;
	char		*db;
	struct store	*st;
};

static struct store *
xopen(const char *dir, size_t map, size_t max)
{
	struct store_opts	 o = { 0 };
	struct store		*st;
	char			*cause;

	o.create = 1;
	o.map_size = map;
	o.map_max = max;
	if (store_open(dir, &o, &st, &cause) != 0)
		fail_msg("open: %s", cause);
	if (store_load(st) != 0)
		fail_msg("load: %s", store_errmsg(st));
	return (st);
}

static int
setup(void **state)
{
	struct fx	*fx = calloc(1, sizeof(*fx));

	fx->tmp = st_tmpdir();
	fx->db = st_join(fx->tmp, "db");
	fx->st = xopen(fx->db, 0, 0);
	*state = fx;
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	store_close(fx->st);
	st_rmrf(fx->tmp);
	free(fx->tmp);
	free(fx->db);
	free(fx);
	return (0);
}

/* Every record of every DBI, hex, in order: the state, byte for byte. */
static char *
dump(struct store *st)
{
	struct store_wbuf	 w;
	MDB_txn			*txn;
	MDB_cursor		*c;
	MDB_val			 k, v;
	size_t			 i;
	int			 d, op;
	char			 hx[3];

	store_w_init(&w);
	assert_int_equal(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), 0);
	for (d = 0; d < DBI_COUNT; d++) {
		store_w_bytes(&w, store_dbi_names[d],
		    strlen(store_dbi_names[d]));
		store_w_bytes(&w, ":\n", 2);
		assert_int_equal(mdb_cursor_open(txn, st->dbi[d], &c), 0);
		for (op = MDB_FIRST; mdb_cursor_get(c, &k, &v, op) == 0;
		    op = MDB_NEXT) {
			for (i = 0; i < k.mv_size; i++) {
				snprintf(hx, 3, "%02x",
				    ((unsigned char *)k.mv_data)[i]);
				store_w_bytes(&w, hx, 2);
			}
			store_w_bytes(&w, "=", 1);
			for (i = 0; i < v.mv_size; i++) {
				snprintf(hx, 3, "%02x",
				    ((unsigned char *)v.mv_data)[i]);
				store_w_bytes(&w, hx, 2);
			}
			store_w_bytes(&w, "\n", 1);
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	store_w_bytes(&w, "", 1);
	return ((char *)w.p);
}

/*
 * Runs a change expected to fail with err, and checks that the records,
 * the generation and the published world are exactly as before.
 */
#define FAILS(st, err, call) do {					\
	char		*b4_ = dump(st), *af_;				\
	uint64_t	 g_ = store_generation(st);			\
	struct world	*w_ = world_holder_acquire(store_holder(st));	\
	struct world	*w2_;						\
	int		 rc_ = (call);					\
	if (rc_ != (err))						\
		fail_msg("%s: %d (%s) instead of %d", #call, rc_,	\
		    store_errmsg(st), (err));				\
	assert_true(store_errmsg(st)[0] != '\0');			\
	af_ = dump(st);							\
	assert_string_equal(b4_, af_);					\
	assert_true(store_generation(st) == g_);			\
	w2_ = world_holder_acquire(store_holder(st));			\
	assert_ptr_equal(w_, w2_);					\
	world_unref(w_);						\
	world_unref(w2_);						\
	free(b4_);							\
	free(af_);							\
} while (0)

/* Runs a change expected to succeed and raise the generation by one. */
#define OK(st, call) do {						\
	uint64_t	 g_ = store_generation(st), ng_ = 0;		\
	int		 rc_ = (call);					\
	if (rc_ != STORE_OK)						\
		fail_msg("%s: %d: %s", #call, rc_, store_errmsg(st));	\
	assert_true(store_generation(st) == g_ + 1);			\
	assert_true(world_holder_generation(store_holder(st)) ==	\
	    g_ + 1);							\
	(void)ng_;							\
} while (0)

static struct world *
cur(struct store *st)
{
	struct world	*w = world_holder_acquire(store_holder(st));

	world_unref(w);		/* the holder keeps it while we look */
	return (w);
}

/* One tag of key id set (value) or removed (NULL), in one change. */
static int
tag1(struct store *st, const char *id, const char *key, const char *value)
{
	struct store_tag	 t = { key, value };

	return (store_tags_change(st, id, &t, 1, NULL));
}

static const char *
stmt0_sid(const struct cpolicy *cp)
{
	size_t	 len;

	return (cpolicy_stmt_sid(cp, 0, &len));
}

static void
t_instances(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct world_instance	 wi;
	uint64_t		 gen;

	assert_int_equal(store_instance_create(st, "kst-1", 0, 2, NULL, &gen), 0);
	assert_true(gen == 1);
	assert_int_equal(world_get_instance(cur(st), "kst-1", 5, &wi), 0);
	assert_int_equal(wi.share_quota, 2);
	FAILS(st, STORE_EEXIST, store_instance_create(st, "kst-1", 0, 1, NULL, NULL));
	FAILS(st, STORE_EINVAL, store_instance_create(st, "kst-2", 9, 1, NULL, NULL));
	FAILS(st, STORE_EINVAL, store_instance_create(st, "", 0, 1, NULL, NULL));
	FAILS(st, STORE_ENOTFOUND, store_instance_state_set(st, "nope", 1,
	    NULL));
	FAILS(st, STORE_EINVAL, store_instance_state_set(st, "kst-1", -1,
	    NULL));
	OK(st, store_instance_state_set(st, "kst-1", WORLD_INSTANCE_DISABLED,
	    NULL));
	assert_int_equal(world_get_instance(cur(st), "kst-1", 5, &wi), 0);
	assert_int_equal(wi.state, WORLD_INSTANCE_DISABLED);
	OK(st, store_instance_quota_set(st, "kst-1", 5, NULL));
	FAILS(st, STORE_ENOTFOUND, store_instance_quota_set(st, "x", 5, NULL));
	OK(st, store_instance_state_set(st, "kst-1", 0, NULL));
	OK(st, store_key_create(st, "k1", "cn-hangzhou", "111", "kst-1", 0,
	    NULL));
	FAILS(st, STORE_EINUSE, store_instance_delete(st, "kst-1", NULL));
	OK(st, store_key_schedule_deletion(st, "k1", store_now_ms(), NULL));
	OK(st, store_key_expire(st, "k1", store_now_ms(), NULL));
	OK(st, store_instance_delete(st, "kst-1", NULL));
	FAILS(st, STORE_ENOTFOUND, store_instance_delete(st, "kst-1", NULL));
	assert_int_equal(world_get_instance(cur(st), "kst-1", 5, &wi), -1);
}

static void
t_keys(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct store_key_policy	 kp;
	struct world_key	 wk;
	struct policy_diags	 diags;
	int64_t			 t;
	unsigned char		 d[32];
	char			*def;
	const char		*text = "  " KP("222") "\n";

	OK(st, store_instance_create(st, "kst-1", 0, 1, NULL, NULL));
	OK(st, store_instance_create(st, "kst-off", WORLD_INSTANCE_EXPIRED, 1, NULL,
	    NULL));
	OK(st, store_key_create(st, "k1", "cn-hangzhou", "111", "kst-1",
	    WORLD_KEY_ENABLED, NULL));
	OK(st, store_key_create(st, "k-free", "cn-hangzhou", "111", NULL,
	    WORLD_KEY_ENABLED, NULL));
	FAILS(st, STORE_EEXIST, store_key_create(st, "k1", "cn-hangzhou",
	    "111", "kst-1", 0, NULL));
	FAILS(st, STORE_ENOTFOUND, store_key_create(st, "k2", "cn-hangzhou",
	    "111", "kst-none", 0, NULL));
	FAILS(st, STORE_ESTATE, store_key_create(st, "k2", "cn-hangzhou",
	    "111", "kst-off", 0, NULL));
	FAILS(st, STORE_EINVAL, store_key_create(st, "k2", "", "111",
	    "kst-1", 0, NULL));
	FAILS(st, STORE_EINVAL, store_key_create(st, "k2", "r", "111",
	    "kst-1", 7, NULL));

	/* The default key policy, exactly. */
	assert_int_equal(store_key_policy_get(st, "k1", &kp), 0);
	def = policy_default_key_policy("111");
	assert_string_equal(kp.text, def);
	assert_true(kp.version == 1);
	free(def);
	store_key_policy_free(&kp);
	assert_int_equal(world_get_key(cur(st), "k1", 2, &wk), 0);
	assert_non_null(wk.policy);
	assert_string_equal(wk.instance, "kst-1");
	assert_int_equal(world_get_key(cur(st), "k-free", 6, &wk), 0);
	assert_null(wk.policy);
	assert_null(wk.instance);
	assert_int_equal(store_key_policy_get(st, "k-free", &kp),
	    STORE_EUNSUPPORTED);
	assert_int_equal(store_key_policy_get(st, "zz", &kp), STORE_ENOTFOUND);

	/* SetKeyPolicy: text as set, version, digest, time. */
	OK(st, store_key_policy_set(st, "k1", text, strlen(text), NULL, NULL));
	assert_int_equal(store_key_policy_get(st, "k1", &kp), 0);
	assert_string_equal(kp.text, text);
	assert_true(kp.version == 2);
	crypto_generichash(d, 32, (const unsigned char *)text, strlen(text),
	    NULL, 0);
	assert_memory_equal(kp.digest, d, 32);
	assert_true(kp.set_time_ms > 1600000000000LL);
	store_key_policy_free(&kp);
	FAILS(st, STORE_EUNSUPPORTED, store_key_policy_set(st, "k-free", text,
	    strlen(text), NULL, NULL));
	FAILS(st, STORE_ENOTFOUND, store_key_policy_set(st, "zz", text,
	    strlen(text), NULL, NULL));
	policy_diags_init(&diags);
	FAILS(st, STORE_EINVAL, store_key_policy_set(st, "k1",
	    "{\"Version\":\"2\"}", 15, &diags, NULL));
	assert_true(diags.n > 0);
	policy_diags_free(&diags);
	FAILS(st, STORE_EINVAL, store_key_policy_set(st, "k1", "{", 1, NULL,
	    NULL));
	/* Quota 1: a second foreign account is refused. */
	OK(st, store_key_create(st, "k3", "cn-hangzhou", "111", "kst-1", 0,
	    NULL));
	FAILS(st, STORE_EQUOTA, store_key_policy_set(st, "k3", KP("333"),
	    strlen(KP("333")), NULL, NULL));
	OK(st, store_key_policy_set(st, "k3", KP("222"), strlen(KP("222")),
	    NULL, NULL));
	FAILS(st, STORE_EQUOTA, store_instance_quota_set(st, "kst-1", 0,
	    NULL));
	/* An instance that is not Enabled refuses key changes. */
	OK(st, store_instance_state_set(st, "kst-1", WORLD_INSTANCE_DISABLED,
	    NULL));
	FAILS(st, STORE_ESTATE, store_key_policy_set(st, "k1", text,
	    strlen(text), NULL, NULL));
	FAILS(st, STORE_ESTATE, store_key_state_set(st, "k1", 1, NULL));
	FAILS(st, STORE_ESTATE, tag1(st, "k1", "a", "b"));
	FAILS(st, STORE_ESTATE, store_key_schedule_deletion(st, "k1",
	    store_now_ms(), NULL));
	OK(st, store_instance_state_set(st, "kst-1", 0, NULL));

	/* PendingDeletion only with a deletion time. */
	FAILS(st, STORE_EINVAL, store_key_state_set(st, "k1",
	    WORLD_KEY_PENDING_DELETION, NULL));
	OK(st, store_key_schedule_deletion(st, "k1", store_now_ms() + 1000000,
	    NULL));
	FAILS(st, STORE_EINVAL, store_key_state_set(st, "k1", 0, NULL));
	assert_int_equal(world_get_key(cur(st), "k1", 2, &wk), 0);
	assert_int_equal(wk.state, WORLD_KEY_PENDING_DELETION);
	assert_non_null(wk.policy);	/* kept */
	FAILS(st, STORE_EINVAL, store_key_state_set(st, "k1", 99, NULL));
	FAILS(st, STORE_ENOTFOUND, store_key_state_set(st, "zz", 0, NULL));
	OK(st, tag1(st, "k1", "env", "prod"));
	OK(st, store_alias_create(st, "alias/one", "k1", NULL));
	OK(st, store_alias_delete(st, "cn-hangzhou", "111", "alias/one",
	    NULL));
	OK(st, store_key_expire(st, "k1", INT64_MAX, NULL));
	assert_int_equal(world_get_key(cur(st), "k1", 2, &wk), -1);
	/* Its deletion time went with it. */
	assert_int_equal(store_key_deletion_get(st, "k1", &t), STORE_ENOTFOUND);
	assert_int_equal(store_key_policy_get(st, "k1", &kp), STORE_ENOTFOUND);
	FAILS(st, STORE_ENOTFOUND, store_key_expire(st, "k1", INT64_MAX, NULL));
	assert_int_equal(store_check(st), 0);
}

static void
t_tags(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct world_key	 wk;
	char			 name[32], big[STORE_TAG_VALUE_MAX + 2];
	int			 i;

	OK(st, store_instance_create(st, "i", 0, 0, NULL, NULL));
	OK(st, store_key_create(st, "k", "r", "1", "i", 0, NULL));
	OK(st, tag1(st, "k", "b", "2"));
	OK(st, tag1(st, "k", "a", "1"));
	OK(st, tag1(st, "k", "a", "one"));
	assert_int_equal(world_get_key(cur(st), "k", 1, &wk), 0);
	assert_int_equal(wk.ntags, 2);
	assert_string_equal(wk.tags[0].key, "a");
	assert_string_equal(wk.tags[0].value, "one");
	assert_non_null(wk.policy);
	OK(st, tag1(st, "k", "a", NULL));
	OK(st, tag1(st, "k", "a", NULL));	/* absent: no error */
	assert_int_equal(world_get_key(cur(st), "k", 1, &wk), 0);
	assert_int_equal(wk.ntags, 1);
	FAILS(st, STORE_ENOTFOUND, tag1(st, "zz", "a", "1"));
	FAILS(st, STORE_EINVAL, tag1(st, "k", "", "1"));
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	FAILS(st, STORE_EINVAL, tag1(st, "k", "x", big));
	for (i = 1; i < STORE_TAGS_MAX; i++) {
		snprintf(name, sizeof(name), "t%02d", i);
		OK(st, tag1(st, "k", name, "v"));
	}
	FAILS(st, STORE_ELIMIT, tag1(st, "k", "one-more", "v"));
	OK(st, tag1(st, "k", "t01", "changed"));
	assert_int_equal(world_get_key(cur(st), "k", 1, &wk), 0);
	assert_int_equal(wk.ntags, STORE_TAGS_MAX);
	assert_int_equal(store_check(st), 0);
}

/*
 * Scheduled deletions: the time is stored with the state, survives a
 * reopen, goes with a cancel; expiry deletes the key with its aliases,
 * tags and policy in one change, only when due and only when its
 * instance is Enabled.
 */
static void
t_deletions(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct store_deletion	*dl;
	struct world_key	 wk;
	struct world_alias	 wa;
	size_t			 n;
	int64_t			 t, now = store_now_ms();
	uint64_t		 g;

	OK(st, store_instance_create(st, "i", 0, 0, NULL, NULL));
	OK(st, store_key_create(st, "k1", "r", "1", "i", 0, NULL));
	OK(st, store_key_create(st, "k2", "r", "1", NULL, 0, NULL));
	OK(st, tag1(st, "k1", "t", "v"));
	OK(st, store_alias_create(st, "alias/a", "k1", NULL));
	OK(st, store_alias_create(st, "alias/b", "k1", NULL));
	OK(st, store_alias_create(st, "alias/c", "k2", NULL));
	OK(st, store_key_schedule_deletion(st, "k1", now + 5000, NULL));
	OK(st, store_key_schedule_deletion(st, "k2", now + 9000, NULL));
	FAILS(st, STORE_EINVAL, store_key_schedule_deletion(st, "k1",
	    now, NULL));
	FAILS(st, STORE_ENOTFOUND, store_key_schedule_deletion(st, "zz",
	    now, NULL));
	assert_int_equal(world_get_key(cur(st), "k1", 2, &wk), 0);
	assert_int_equal(wk.state, WORLD_KEY_PENDING_DELETION);
	assert_int_equal(store_key_deletion_get(st, "k1", &t), STORE_OK);
	assert_true(t == now + 5000);
	assert_int_equal(store_check(st), 0);

	/* A reopen keeps them. */
	store_close(st);
	st = fx->st = xopen(fx->db, 0, 0);
	assert_int_equal(store_key_deletions_list(st, &dl, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(dl[0].key_id, "k1");
	assert_true(dl[0].when_ms == now + 5000);
	assert_string_equal(dl[1].key_id, "k2");
	store_key_deletions_free(dl, n);

	/* Not due yet; then due but its instance is Disabled. */
	FAILS(st, STORE_EINVAL, store_key_expire(st, "k1", now + 4999, NULL));
	assert_non_null(strstr(store_errmsg(st), "not due"));
	OK(st, store_instance_state_set(st, "i", WORLD_INSTANCE_DISABLED,
	    NULL));
	FAILS(st, STORE_ESTATE, store_key_expire(st, "k1", now + 5000, NULL));
	FAILS(st, STORE_ESTATE, store_key_cancel_deletion(st, "k1", NULL));
	OK(st, store_instance_state_set(st, "i", 0, NULL));
	/* Due: the key, both aliases, its tags, policy, time: one change. */
	g = store_generation(st);
	OK(st, store_key_expire(st, "k1", now + 5000, NULL));
	assert_true(store_generation(st) == g + 1);
	assert_int_equal(world_get_key(cur(st), "k1", 2, &wk), -1);
	assert_int_equal(world_get_alias(cur(st), "r", 1, "1", 1, "alias/a",
	    7, &wa), -1);
	assert_int_equal(world_get_alias(cur(st), "r", 1, "1", 1, "alias/b",
	    7, &wa), -1);
	assert_int_equal(world_get_alias(cur(st), "r", 1, "1", 1, "alias/c",
	    7, &wa), 0);
	assert_int_equal(store_key_deletion_get(st, "k1", &t),
	    STORE_ENOTFOUND);
	FAILS(st, STORE_ENOTFOUND, store_key_expire(st, "k1", now + 5000,
	    NULL));
	assert_int_equal(store_check(st), 0);

	/* Cancel: Enabled again, no time; then nothing to expire. */
	OK(st, store_key_cancel_deletion(st, "k2", NULL));
	FAILS(st, STORE_EINVAL, store_key_cancel_deletion(st, "k2", NULL));
	assert_int_equal(world_get_key(cur(st), "k2", 2, &wk), 0);
	assert_int_equal(wk.state, WORLD_KEY_ENABLED);
	FAILS(st, STORE_ENOTFOUND, store_key_expire(st, "k2", now + 99999,
	    NULL));
	assert_int_equal(store_key_deletions_list(st, &dl, &n), STORE_OK);
	assert_int_equal(n, 0);
	store_key_deletions_free(dl, n);
	assert_int_equal(store_check(st), 0);
}

/* Several tags in one change: one generation, all or nothing. */
static void
t_tags_change(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct world_key	 wk;
	struct store_tag	 t[STORE_TAGS_MAX + 2];
	char			 names[STORE_TAGS_MAX + 2][8];
	int			 i;

	OK(st, store_instance_create(st, "i", 0, 0, NULL, NULL));
	OK(st, store_key_create(st, "k", "r", "1", "i", 0, NULL));
	t[0].key = "a";
	t[0].value = "1";
	t[1].key = "b";
	t[1].value = "2";
	t[2].key = "c";
	t[2].value = "3";
	OK(st, store_tags_change(st, "k", t, 3, NULL));
	assert_int_equal(world_get_key(cur(st), "k", 1, &wk), 0);
	assert_int_equal(wk.ntags, 3);
	/* Set one, remove one and one that is absent, in one change. */
	t[0].value = "one";
	t[1].value = NULL;
	t[2].key = "absent";
	t[2].value = NULL;
	OK(st, store_tags_change(st, "k", t, 3, NULL));
	assert_int_equal(world_get_key(cur(st), "k", 1, &wk), 0);
	assert_int_equal(wk.ntags, 2);
	assert_string_equal(wk.tags[0].key, "a");
	assert_string_equal(wk.tags[0].value, "one");
	assert_string_equal(wk.tags[1].key, "c");
	/* Past the limit: nothing of it is stored. */
	for (i = 0; i < STORE_TAGS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "n%02d", i);
		t[i].key = names[i];
		t[i].value = "v";
	}
	FAILS(st, STORE_ELIMIT, store_tags_change(st, "k", t, STORE_TAGS_MAX,
	    NULL));
	assert_non_null(strstr(store_errmsg(st), "would have 22 tags"));
	/* The limit is on the result: removing two makes room for 20. */
	t[STORE_TAGS_MAX].key = "a";
	t[STORE_TAGS_MAX].value = NULL;
	t[STORE_TAGS_MAX + 1].key = "c";
	t[STORE_TAGS_MAX + 1].value = NULL;
	OK(st, store_tags_change(st, "k", t, STORE_TAGS_MAX + 2, NULL));
	assert_int_equal(world_get_key(cur(st), "k", 1, &wk), 0);
	assert_int_equal(wk.ntags, STORE_TAGS_MAX);
	/* A bad entry anywhere refuses the whole change. */
	t[0].key = "";
	FAILS(st, STORE_EINVAL, store_tags_change(st, "k", t, 2, NULL));
	FAILS(st, STORE_EINVAL, store_tags_change(st, "k", t, 0, NULL));
	t[0].key = "x";
	FAILS(st, STORE_ENOTFOUND, store_tags_change(st, "zz", t, 1, NULL));
	OK(st, store_instance_state_set(st, "i", 1, NULL));
	FAILS(st, STORE_ESTATE, store_tags_change(st, "k", t, 1, NULL));
	assert_int_equal(store_check(st), 0);
}

/*
 * Tag keys that differ only in case are refused (InvalidParameter at
 * the API): a condition matches tag keys case-insensitively, so the
 * two would be ambiguous.  Nothing of a refused change is stored.
 */
static void
t_tags_case(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct world_key	 wk;
	struct store_tag	 t[2];

	OK(st, store_instance_create(st, "i", 0, 0, NULL, NULL));
	OK(st, store_key_create(st, "k", "r", "1", "i", 0, NULL));
	OK(st, tag1(st, "k", "Env", "prod"));
	FAILS(st, STORE_EINVAL, tag1(st, "k", "ENV", "x"));
	assert_non_null(strstr(store_errmsg(st), "differ only in case"));
	t[0].key = "Team";
	t[0].value = "a";
	t[1].key = "env";
	t[1].value = "x";
	FAILS(st, STORE_EINVAL, store_tags_change(st, "k", t, 2, NULL));
	/* Two of one call differing in case. */
	t[1].key = "TEAM";
	FAILS(st, STORE_EINVAL, store_tags_change(st, "k", t, 2, NULL));
	assert_int_equal(world_get_key(cur(st), "k", 1, &wk), 0);
	assert_int_equal(wk.ntags, 1);
	assert_string_equal(wk.tags[0].key, "Env");
	assert_string_equal(wk.tags[0].value, "prod");
	/* The same key, same case: a new value, as before. */
	OK(st, tag1(st, "k", "Env", "test"));
	/* Renaming the case: untag, then tag, in one change. */
	t[0].key = "Env";
	t[0].value = NULL;
	t[1].key = "ENV";
	t[1].value = "test";
	OK(st, store_tags_change(st, "k", t, 2, NULL));
	assert_int_equal(world_get_key(cur(st), "k", 1, &wk), 0);
	assert_int_equal(wk.ntags, 1);
	assert_string_equal(wk.tags[0].key, "ENV");
	assert_int_equal(store_check(st), 0);
}

static void
t_aliases(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct world_alias	 wa;

	OK(st, store_key_create(st, "k1", "r1", "111", NULL, 0, NULL));
	OK(st, store_key_create(st, "k2", "r1", "111", NULL, 0, NULL));
	OK(st, store_key_create(st, "k3", "r2", "111", NULL, 0, NULL));
	OK(st, store_alias_create(st, "alias/a", "k1", NULL));
	assert_int_equal(world_get_alias(cur(st), "r1", 2, "111", 3,
	    "alias/a", 7, &wa), 0);
	assert_string_equal(wa.key_id, "k1");
	FAILS(st, STORE_EEXIST, store_alias_create(st, "alias/a", "k2", NULL));
	/* The same name in another region is another alias. */
	OK(st, store_alias_create(st, "alias/a", "k3", NULL));
	FAILS(st, STORE_EINVAL, store_alias_create(st, "a", "k1", NULL));
	FAILS(st, STORE_EINVAL, store_alias_create(st, "alias/", "k1", NULL));
	FAILS(st, STORE_ENOTFOUND, store_alias_create(st, "alias/b", "zz",
	    NULL));
	OK(st, store_alias_update(st, "alias/a", "k2", NULL));
	assert_int_equal(world_get_alias(cur(st), "r1", 2, "111", 3,
	    "alias/a", 7, &wa), 0);
	assert_string_equal(wa.key_id, "k2");
	FAILS(st, STORE_ENOTFOUND, store_alias_update(st, "alias/none", "k2",
	    NULL));
	FAILS(st, STORE_ENOTFOUND, store_alias_delete(st, "r1", "222",
	    "alias/a", NULL));
	OK(st, store_alias_delete(st, "r1", "111", "alias/a", NULL));
	assert_int_equal(world_get_alias(cur(st), "r1", 2, "111", 3,
	    "alias/a", 7, &wa), -1);
	assert_int_equal(store_check(st), 0);
}

static void
t_principals(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct world_principal	 wp;

	OK(st, store_user_create(st, "111", "alice", NULL));
	OK(st, store_role_create(st, "111", "ops", NULL));
	OK(st, store_group_create(st, "111", "g1", NULL));
	OK(st, store_group_create(st, "111", "g2", NULL));
	OK(st, store_user_create(st, "222", "alice", NULL));
	FAILS(st, STORE_EEXIST, store_user_create(st, "111", "alice", NULL));
	FAILS(st, STORE_EINVAL, store_user_create(st, "111", "", NULL));
	FAILS(st, STORE_EINVAL, store_principal_create(st, 7, "111", "x",
	    NULL));
	OK(st, store_membership_add(st, "111", "alice", "g2", NULL));
	OK(st, store_membership_add(st, "111", "alice", "g1", NULL));
	FAILS(st, STORE_EEXIST, store_membership_add(st, "111", "alice", "g1",
	    NULL));
	FAILS(st, STORE_ENOTFOUND, store_membership_add(st, "111", "alice",
	    "g3", NULL));
	FAILS(st, STORE_ENOTFOUND, store_membership_add(st, "111", "bob",
	    "g1", NULL));
	FAILS(st, STORE_ENOTFOUND, store_membership_add(st, "222", "alice",
	    "g1", NULL));
	assert_int_equal(world_get_user(cur(st), "111", 3, "alice", 5, &wp),
	    0);
	assert_int_equal(wp.ngroups, 2);
	assert_string_equal(wp.groups[0], "g2");	/* given order */
	assert_string_equal(wp.groups[1], "g1");
	FAILS(st, STORE_EINUSE, store_principal_delete(st, STORE_GROUP, "111",
	    "g1", NULL));
	OK(st, store_membership_remove(st, "111", "alice", "g1", NULL));
	FAILS(st, STORE_ENOTFOUND, store_membership_remove(st, "111", "alice",
	    "g1", NULL));
	OK(st, store_principal_delete(st, STORE_GROUP, "111", "g1", NULL));
	FAILS(st, STORE_ENOTFOUND, store_principal_delete(st, STORE_GROUP,
	    "111", "g1", NULL));

	/* Attachments. */
	OK(st, store_policy_create(st, "111", "P1", RP("one"),
	    strlen(RP("one")), NULL, NULL));
	OK(st, store_policy_create(st, "111", "P2", RP("two"),
	    strlen(RP("two")), NULL, NULL));
	OK(st, store_attach(st, STORE_USER, "111", "alice", "P2", NULL));
	OK(st, store_attach(st, STORE_USER, "111", "alice", "P1", NULL));
	OK(st, store_attach(st, STORE_ROLE, "111", "ops", "P1", NULL));
	OK(st, store_attach(st, STORE_GROUP, "111", "g2", "P1", NULL));
	FAILS(st, STORE_EEXIST, store_attach(st, STORE_USER, "111", "alice",
	    "P1", NULL));
	FAILS(st, STORE_ENOTFOUND, store_attach(st, STORE_USER, "111",
	    "alice", "P9", NULL));
	FAILS(st, STORE_ENOTFOUND, store_attach(st, STORE_USER, "222",
	    "alice", "P1", NULL));	/* policies are per account */
	FAILS(st, STORE_ENOTFOUND, store_attach(st, STORE_ROLE, "111", "nope",
	    "P1", NULL));
	assert_int_equal(world_get_user(cur(st), "111", 3, "alice", 5, &wp),
	    0);
	assert_int_equal(wp.npolicies, 2);
	assert_string_equal(wp.policies[0], "P2");
	assert_int_equal(world_get_role(cur(st), "111", 3, "ops", 3, &wp), 0);
	assert_int_equal(wp.npolicies, 1);
	FAILS(st, STORE_EINUSE, store_policy_delete(st, "111", "P1", NULL));
	OK(st, store_detach(st, STORE_USER, "111", "alice", "P1", NULL));
	FAILS(st, STORE_ENOTFOUND, store_detach(st, STORE_USER, "111",
	    "alice", "P1", NULL));
	OK(st, store_detach(st, STORE_ROLE, "111", "ops", "P1", NULL));
	FAILS(st, STORE_EINUSE, store_policy_delete(st, "111", "P1", NULL));
	OK(st, store_detach(st, STORE_GROUP, "111", "g2", "P1", NULL));
	OK(st, store_policy_delete(st, "111", "P1", NULL));
	OK(st, store_principal_delete(st, STORE_ROLE, "111", "ops", NULL));
	assert_int_equal(world_get_role(cur(st), "111", 3, "ops", 3, &wp), -1);
	OK(st, store_principal_delete(st, STORE_USER, "111", "alice", NULL));
	assert_int_equal(store_check(st), 0);
}

static void
t_policies(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct world_policy	 wp;
	struct policy_diags	 diags;
	uint32_t		 v;
	int			 i;

	OK(st, store_policy_create(st, "111", "P", RP("v1"), strlen(RP("v1")),
	    NULL, NULL));
	FAILS(st, STORE_EEXIST, store_policy_create(st, "111", "P", RP("x"),
	    strlen(RP("x")), NULL, NULL));
	FAILS(st, STORE_EINVAL, store_policy_create(st, "111", "bad name!",
	    RP("x"), strlen(RP("x")), NULL, NULL));
	policy_diags_init(&diags);
	FAILS(st, STORE_EINVAL, store_policy_create(st, "111", "Q", KP("1"),
	    strlen(KP("1")), &diags, NULL));	/* Principal in RAM */
	assert_true(diags.n > 0);
	policy_diags_free(&diags);
	assert_int_equal(world_get_policy(cur(st), "111", 3, "P", 1, &wp), 0);
	assert_string_equal(stmt0_sid(wp.policy), "v1");

	/* Versions: up to five, one default. */
	OK(st, store_policy_version_create(st, "111", "P", RP("v2"),
	    strlen(RP("v2")), 0, NULL, &v, NULL));
	assert_int_equal(v, 2);
	assert_int_equal(world_get_policy(cur(st), "111", 3, "P", 1, &wp), 0);
	assert_string_equal(stmt0_sid(wp.policy), "v1");
	OK(st, store_policy_version_create(st, "111", "P", RP("v3"),
	    strlen(RP("v3")), 1, NULL, &v, NULL));
	assert_int_equal(v, 3);
	assert_int_equal(world_get_policy(cur(st), "111", 3, "P", 1, &wp), 0);
	assert_string_equal(stmt0_sid(wp.policy), "v3");
	for (i = 4; i <= STORE_POLICY_VERSIONS_MAX; i++)
		OK(st, store_policy_version_create(st, "111", "P", RP("vn"),
		    strlen(RP("vn")), 0, NULL, &v, NULL));
	FAILS(st, STORE_ELIMIT, store_policy_version_create(st, "111", "P",
	    RP("v6"), strlen(RP("v6")), 0, NULL, &v, NULL));
	FAILS(st, STORE_ENOTFOUND, store_policy_version_create(st, "111",
	    "Z", RP("v6"), strlen(RP("v6")), 0, NULL, &v, NULL));
	FAILS(st, STORE_EINVAL, store_policy_version_create(st, "111", "P",
	    "[]", 2, 0, NULL, &v, NULL));
	FAILS(st, STORE_EINUSE, store_policy_version_delete(st, "111", "P", 3,
	    NULL));
	OK(st, store_policy_version_set_default(st, "111", "P", 2, NULL));
	assert_int_equal(world_get_policy(cur(st), "111", 3, "P", 1, &wp), 0);
	assert_string_equal(stmt0_sid(wp.policy), "v2");
	FAILS(st, STORE_ENOTFOUND, store_policy_version_set_default(st, "111",
	    "P", 9, NULL));
	OK(st, store_policy_version_delete(st, "111", "P", 1, NULL));
	FAILS(st, STORE_ENOTFOUND, store_policy_version_delete(st, "111", "P",
	    1, NULL));
	FAILS(st, STORE_ENOTFOUND, store_policy_version_set_default(st, "111",
	    "P", 1, NULL));
	/* Ids are never reused: the next is v6. */
	OK(st, store_policy_version_create(st, "111", "P", RP("v6"),
	    strlen(RP("v6")), 0, NULL, &v, NULL));
	assert_int_equal(v, 6);
	assert_int_equal(store_check(st), 0);
	/* Full (v2 default, v3..v6): the rotation drops v3, the oldest
	 * that is not the default, in the same change. */
	FAILS(st, STORE_ELIMIT, store_policy_version_create(st, "111", "P",
	    RP("v7"), strlen(RP("v7")), 0, NULL, &v, NULL));
	OK(st, store_policy_version_create(st, "111", "P", RP("v7"),
	    strlen(RP("v7")), STORE_VERSION_ROTATE, NULL, &v, NULL));
	assert_int_equal(v, 7);
	FAILS(st, STORE_ENOTFOUND, store_policy_version_set_default(st, "111",
	    "P", 3, NULL));
	OK(st, store_policy_version_set_default(st, "111", "P", 2, NULL));
	assert_int_equal(store_check(st), 0);
	OK(st, store_policy_delete(st, "111", "P", NULL));
	FAILS(st, STORE_ENOTFOUND, store_policy_delete(st, "111", "P", NULL));
	assert_int_equal(world_get_policy(cur(st), "111", 3, "P", 1, &wp), -1);
	assert_int_equal(store_check(st), 0);
	assert_true(store_is_empty(st));
}

/* The ids of a policy's versions as store_policy_versions_list gives
 * them, "3*" marking the default: "1 3* 4". */
static void
versions_are(struct store *st, const char *name, const char *want)
{
	struct store_policy_version	*v;
	size_t				 n, i;
	char				 got[128] = "", one[16];

	if (store_policy_versions_list(st, "111", name, &v, &n) != STORE_OK)
		fail_msg("list: %s", store_errmsg(st));
	for (i = 0; i < n; i++) {
		snprintf(one, sizeof(one), "%s%u%s", i ? " " : "", v[i].id,
		    v[i].is_default ? "*" : "");
		assert_true(strlen(got) + strlen(one) < sizeof(got));
		strcat(got, one);
		assert_int_equal(v[i].len, strlen(v[i].text));
	}
	store_policy_versions_free(v, n);
	assert_string_equal(got, want);
}

/* Reads of policy versions: each version as stored, the default marked,
 * after SetDefault, Delete and a reopen; errors name what is missing. */
static void
t_policy_version_reads(void **state)
{
	struct fx			*fx = *state;
	struct store			*st = fx->st;
	struct store_policy_version	 pv, *vv;
	const char			*doc2 = "{ \"Statement\": [{\"Effect\": "
					    "\"Allow\", \"Action\": \"kms:*\", "
					    "\"Resource\": \"*\"}],\n \"Version\": \"1\" }";
	size_t				 n;
	int64_t				 t0 = store_now_ms();

	OK(st, store_policy_create(st, "111", "P", RP("v1"), strlen(RP("v1")),
	    NULL, NULL));
	versions_are(st, "P", "1*");
	/* Text exactly as given (spacing, order, newline). */
	OK(st, store_policy_version_create(st, "111", "P", doc2, strlen(doc2),
	    0, NULL, NULL, NULL));
	OK(st, store_policy_version_create(st, "111", "P", RP("v3"),
	    strlen(RP("v3")), 1, NULL, NULL, NULL));
	versions_are(st, "P", "1 2 3*");
	assert_int_equal(store_policy_version_get(st, "111", "P", 2, &pv),
	    STORE_OK);
	assert_int_equal(pv.id, 2);
	assert_false(pv.is_default);
	assert_string_equal(pv.text, doc2);
	assert_true(pv.create_ms >= t0 - 1000 &&
	    pv.create_ms <= store_now_ms() + 1000);
	free(pv.text);
	/* Version 0: the default. */
	assert_int_equal(store_policy_version_get(st, "111", "P", 0, &pv),
	    STORE_OK);
	assert_int_equal(pv.id, 3);
	assert_true(pv.is_default);
	assert_string_equal(pv.text, RP("v3"));
	free(pv.text);
	OK(st, store_policy_version_set_default(st, "111", "P", 1, NULL));
	versions_are(st, "P", "1* 2 3");
	OK(st, store_policy_version_delete(st, "111", "P", 2, NULL));
	versions_are(st, "P", "1* 3");
	assert_int_equal(store_policy_version_get(st, "111", "P", 2, &pv),
	    STORE_ENOTFOUND);
	assert_non_null(strstr(store_errmsg(st), "no version v2"));
	assert_null(pv.text);
	assert_int_equal(store_policy_version_get(st, "111", "Q", 0, &pv),
	    STORE_ENOTFOUND);
	assert_non_null(strstr(store_errmsg(st), "no such policy: Q"));
	assert_int_equal(store_policy_versions_list(st, "111", "Q", &vv, &n),
	    STORE_ENOTFOUND);
	assert_null(vv);
	assert_int_equal(n, 0);
	assert_int_equal(store_policy_versions_list(st, "222", "P", &vv, &n),
	    STORE_ENOTFOUND);
	assert_int_equal(store_policy_version_get(st, "", "P", 0, &pv),
	    STORE_EINVAL);
	/* A policy whose name is a prefix of another's lists only its own. */
	OK(st, store_policy_create(st, "111", "PP", RP("x"), strlen(RP("x")),
	    NULL, NULL));
	versions_are(st, "P", "1* 3");
	versions_are(st, "PP", "1*");
	/* After a reopen, the same. */
	store_close(st);
	st = fx->st = xopen(fx->db, 0, 0);
	versions_are(st, "P", "1* 3");
	assert_int_equal(store_policy_version_get(st, "111", "P", 3, &pv),
	    STORE_OK);
	assert_string_equal(pv.text, RP("v3"));
	free(pv.text);
	assert_int_equal(store_check(st), 0);
}

/* Reopen: the generation and the world come back as they were. */
static void
t_reload(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct world_counts	 a, b;
	struct world_key	 wk;
	uint64_t		 gen;

	OK(st, store_instance_create(st, "i", 0, 3, NULL, NULL));
	OK(st, store_key_create(st, "k", "r", "1", "i", 0, NULL));
	OK(st, store_key_policy_set(st, "k", KP("2"), strlen(KP("2")), NULL,
	    NULL));
	OK(st, tag1(st, "k", "t", "v"));
	OK(st, store_alias_create(st, "alias/k", "k", NULL));
	OK(st, store_policy_create(st, "1", "P", RP("a"), strlen(RP("a")),
	    NULL, NULL));
	OK(st, store_user_create(st, "1", "u", NULL));
	OK(st, store_attach(st, STORE_USER, "1", "u", "P", NULL));
	gen = store_generation(st);
	assert_true(gen == 8);
	world_counts(cur(st), &a);
	store_close(st);
	st = fx->st = xopen(fx->db, 0, 0);
	assert_true(store_generation(st) == gen);
	assert_true(world_generation(cur(st)) == gen);
	world_counts(cur(st), &b);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(world_get_key(cur(st), "k", 1, &wk), 0);
	assert_int_equal(wk.ntags, 1);
	assert_non_null(wk.policy);
	assert_int_equal(store_check(st), 0);
}

static void
t_unloaded_and_readonly(void **state)
{
	struct fx		*fx = *state;
	struct store_opts	 o = { 0 };
	struct store		*st;
	char			*cause;

	store_close(fx->st);
	assert_int_equal(store_open(fx->db, NULL, &st, &cause), 0);
	assert_null(store_holder(st));
	assert_int_equal(store_user_create(st, "1", "u", NULL), STORE_EINVAL);
	store_close(st);
	o.readonly = 1;
	assert_int_equal(store_open(fx->db, &o, &st, &cause), 0);
	assert_int_equal(store_load(st), 0);
	assert_int_equal(store_user_create(st, "1", "u", NULL), STORE_ERDONLY);
	assert_non_null(strstr(store_errmsg(st), "read-only"));
	store_close(st);
	fx->st = xopen(fx->db, 0, 0);
	assert_true(store_generation(fx->st) == 0);
}

/* One change among many keys copies about one key's path, no more. */
static void
t_sharing(void **state)
{
	struct fx	*fx = *state;
	struct store	*st = fx->st;
	struct world	*before, *after;
	size_t		 total, unshared;
	char		 id[32];
	int		 i;

	OK(st, store_instance_create(st, "i", 0, 10, NULL, NULL));
	for (i = 0; i < 2000; i++) {
		snprintf(id, sizeof(id), "key-%05d", i);
		OK(st, store_key_create(st, id, "r", "1", "i", 0, NULL));
	}
	before = world_holder_acquire(store_holder(st));
	OK(st, store_key_policy_set(st, "key-01000", KP("2"),
	    strlen(KP("2")), NULL, NULL));
	after = world_holder_acquire(store_holder(st));
	assert_ptr_not_equal(before, after);
	world_node_stats(after, &total, &unshared);
	assert_true(total > 2000);
	assert_true(unshared < 40);
	world_unref(before);
	world_unref(after);
}

/* --- bundles, map growth, the ceiling ---------------------------- */

static char *
xs(const char *s)
{
	char	*p = strdup(s);

	if (p == NULL)
		abort();
	return (p);
}

/* A bundle of n keys with distinct key policies, and a few others. */
static struct bundle *
mkbundle(int n)
{
	struct bundle	*b = calloc(1, sizeof(*b));
	char		 buf[256];
	int		 i;

	b->ninstances = 1;
	b->instances = calloc(1, sizeof(*b->instances));
	b->instances[0].id = xs("kst-1");
	b->instances[0].share_quota = 1000000;
	b->nkeys = n;
	b->keys = calloc(n, sizeof(*b->keys));
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "key-%06d", i);
		b->keys[i].id = xs(buf);
		b->keys[i].region = xs("cn-hangzhou");
		b->keys[i].creator = xs("111");
		b->keys[i].instance = xs("kst-1");
		snprintf(buf, sizeof(buf), KP("%d"), 200000 + i);
		b->keys[i].policy = xs(buf);
		b->keys[i].policy_len = strlen(buf);
		b->keys[i].tags = calloc(1, sizeof(*b->keys[i].tags));
		b->keys[i].ntags = 1;
		b->keys[i].tags[0].key = xs("owner");
		b->keys[i].tags[0].value = xs("team");
	}
	b->naliases = 1;
	b->aliases = calloc(1, sizeof(*b->aliases));
	b->aliases[0].name = xs("alias/first");
	b->aliases[0].key_id = xs("key-000000");
	b->npolicies = 1;
	b->policies = calloc(1, sizeof(*b->policies));
	b->policies[0].account = xs("111");
	b->policies[0].name = xs("P");
	b->policies[0].text = xs(RP("p"));
	b->policies[0].len = strlen(RP("p"));
	b->nusers = 1;
	b->users = calloc(1, sizeof(*b->users));
	b->users[0].account = xs("111");
	b->users[0].name = xs("alice");
	b->users[0].groups = calloc(2, sizeof(char *));
	b->users[0].groups[0] = xs("G");
	b->users[0].ngroups = 1;
	b->users[0].policies = calloc(2, sizeof(char *));
	b->users[0].policies[0] = xs("P");
	b->users[0].npolicies = 1;
	b->ngroups = 1;
	b->groups = calloc(1, sizeof(*b->groups));
	b->groups[0].account = xs("111");
	b->groups[0].name = xs("G");
	b->groups[0].policies = calloc(1, sizeof(char *));
	b->groups[0].groups = calloc(1, sizeof(char *));
	return (b);
}

static void
t_replace_and_bundle(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct bundle		*b, *b2;
	struct world_counts	 c;

	OK(st, store_user_create(st, "9", "old", NULL));
	b = mkbundle(50);
	OK(st, store_replace_all(st, b, NULL));
	world_counts(cur(st), &c);
	assert_int_equal(c.keys, 50);
	assert_int_equal(c.users, 1);
	assert_int_equal(c.aliases, 1);
	assert_int_equal(store_check(st), 0);
	assert_int_equal(store_to_bundle(st, &b2), 0);
	assert_int_equal(b2->nkeys, 50);
	assert_string_equal(b2->keys[7].policy, b->keys[7].policy);
	assert_int_equal(b2->keys[7].ntags, 1);
	assert_string_equal(b2->users[0].name, "alice");
	assert_string_equal(b2->users[0].groups[0], "G");
	assert_string_equal(b2->policies[0].text, RP("p"));
	assert_int_equal(b2->naliases, 1);
	bundle_free(b2);
	/* A bundle with a dangling alias is refused whole. */
	free(b->aliases[0].key_id);
	b->aliases[0].key_id = xs("nope");
	FAILS(st, STORE_EINVAL, store_replace_all(st, b, NULL));
	bundle_free(b);
}


/* A string of n copies of c (caller frees). */
static char *
rep(int c, size_t n)
{
	char	*p = malloc(n + 1);

	if (p == NULL)
		abort();
	memset(p, c, n);
	p[n] = '\0';
	return (p);
}

/* Writes a record straight into the store's environment (forgery). */
static void
forge(struct store *st, int dbi, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	MDB_txn	*txn;
	MDB_val	 kv, vv;

	kv.mv_data = (void *)k;
	kv.mv_size = klen;
	vv.mv_data = (void *)v;
	vv.mv_size = vlen;
	assert_int_equal(mdb_txn_begin(st->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, st->dbi[dbi], &kv, &vv, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
}

/*
 * Limits of single changes, each refusal leaving the state as it was:
 * identifiers of 256 bytes, tag keys of 129 and values of 257, a
 * composite key past LMDB's 511 bytes, a 257th group or policy, version
 * ids run out, a key created PendingDeletion, records found malformed
 * in the middle of a change.
 */
static void
t_limits(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st;
	struct store_polrec	 pr;
	struct store_wbuf	 w;
	struct bundle		*b;
	char			*id255, *id256, *t128, *t129, *v256, *v257;
	char			*r255, *c255, name[32];
	uint32_t		 v;
	int			 i;

	id255 = rep('k', 255);
	id256 = rep('k', 256);
	t128 = rep('t', 128);
	t129 = rep('t', 129);
	v256 = rep('v', 256);
	v257 = rep('v', 257);
	OK(st, store_instance_create(st, "i", 0, 1, NULL, NULL));
	FAILS(st, STORE_EINVAL, store_instance_create(st, id256, 0, 1, NULL, NULL));
	FAILS(st, STORE_EINVAL, store_key_create(st, id256, "r", "1", "i", 0,
	    NULL));
	assert_non_null(strstr(store_errmsg(st), "longer than 255"));
	FAILS(st, STORE_EINVAL, store_key_create(st, "k", id256, "1", "i", 0,
	    NULL));
	FAILS(st, STORE_EINVAL, store_user_create(st, id256, "u", NULL));
	FAILS(st, STORE_EINVAL, store_user_create(st, "1", id256, NULL));
	OK(st, store_key_create(st, id255, "r", "1", "i", 0, NULL));
	/* No key is created PendingDeletion: it needs a deletion time. */
	FAILS(st, STORE_EINVAL, store_key_create(st, "kpd", "r", "1", "i",
	    WORLD_KEY_PENDING_DELETION, NULL));
	assert_non_null(strstr(store_errmsg(st), "PendingDeletion"));
	FAILS(st, STORE_EINVAL, store_key_create(st, "kpd", "r", "1", NULL,
	    WORLD_KEY_PENDING_DELETION, NULL));

	/* Tags: keys 1-128 bytes, values 0-256. */
	OK(st, tag1(st, id255, t128, v256));
	FAILS(st, STORE_EINVAL, tag1(st, id255, t129, "v"));
	FAILS(st, STORE_EINVAL, tag1(st, id255, "t", v257));
	{
		struct store_tag	 t[2] = { { "a", "b" }, { t129, "c" } };

		FAILS(st, STORE_EINVAL, store_tags_change(st, id255, t, 2,
		    NULL));
	}
	assert_int_equal(store_check(st), 0);

	/* Region \0 Account \0 AliasName past 511 bytes: ELIMIT. */
	r255 = rep('r', 255);
	c255 = rep('1', 255);
	OK(st, store_key_create(st, "klong", r255, c255, NULL, 0, NULL));
	FAILS(st, STORE_ELIMIT, store_alias_create(st, "alias/a", "klong",
	    NULL));
	assert_non_null(strstr(store_errmsg(st), "511"));
	OK(st, store_key_schedule_deletion(st, "klong", store_now_ms(), NULL));
	OK(st, store_key_expire(st, "klong", store_now_ms(), NULL));

	/* 256 groups and 256 policies on a principal, then no more. */
	b = calloc(1, sizeof(*b));
	b->nusers = 1;
	b->users = calloc(1, sizeof(*b->users));
	b->users[0].account = xs("1");
	b->users[0].name = xs("u");
	b->users[0].groups = calloc(STORE_LIST_MAX, sizeof(char *));
	b->users[0].policies = calloc(STORE_LIST_MAX, sizeof(char *));
	b->ngroups = STORE_LIST_MAX + 1;
	b->groups = calloc(b->ngroups, sizeof(*b->groups));
	b->npolicies = STORE_LIST_MAX + 1;
	b->policies = calloc(b->npolicies, sizeof(*b->policies));
	for (i = 0; i <= STORE_LIST_MAX; i++) {
		snprintf(name, sizeof(name), "g%03d", i);
		b->groups[i].account = xs("1");
		b->groups[i].name = xs(name);
		if (i < STORE_LIST_MAX)
			b->users[0].groups[b->users[0].ngroups++] = xs(name);
		snprintf(name, sizeof(name), "P%03d", i);
		b->policies[i].account = xs("1");
		b->policies[i].name = xs(name);
		b->policies[i].text = xs(RP("p"));
		b->policies[i].len = strlen(RP("p"));
		if (i < STORE_LIST_MAX)
			b->users[0].policies[b->users[0].npolicies++] =
			    xs(name);
	}
	OK(st, store_replace_all(st, b, NULL));
	bundle_free(b);
	FAILS(st, STORE_ELIMIT, store_membership_add(st, "1", "u", "g256",
	    NULL));
	FAILS(st, STORE_ELIMIT, store_attach(st, STORE_USER, "1", "u", "P256",
	    NULL));
	OK(st, store_attach(st, STORE_GROUP, "1", "g000", "P256", NULL));
	assert_int_equal(store_check(st), 0);

	/* Version ids run out (forged: the last id given is the largest). */
	OK(st, store_policy_create(st, "1", "PV", RP("a"), strlen(RP("a")),
	    NULL, NULL));
	pr.def = 1;
	pr.last = UINT32_MAX;
	store_w_init(&w);
	store_polrec_encode(&w, &pr);
	forge(st, DBI_POLICIES, "1\0PV", 4, w.p, w.len);
	store_w_free(&w);
	FAILS(st, STORE_ELIMIT, store_policy_version_create(st, "1", "PV",
	    RP("b"), strlen(RP("b")), 0, NULL, &v, NULL));
	assert_non_null(strstr(store_errmsg(st), "exhausted"));

	/* Malformed records met by a change: ECORRUPT, nothing changed. */
	forge(st, DBI_KEYS, "kbad", 4, "\1", 1);
	FAILS(st, STORE_ECORRUPT, store_key_state_set(st, "kbad", 1, NULL));
	FAILS(st, STORE_ECORRUPT, tag1(st, "kbad", "a", "b"));
	FAILS(st, STORE_ECORRUPT, store_key_expire(st, "kbad", INT64_MAX,
	    NULL));
	FAILS(st, STORE_ECORRUPT, store_alias_create(st, "alias/b", "kbad",
	    NULL));
	assert_non_null(strstr(store_errmsg(st), "malformed"));
	forge(st, DBI_USERS, "1\0ubad", 6, "\0\1\0", 3);
	FAILS(st, STORE_ECORRUPT, store_attach(st, STORE_USER, "1", "ubad",
	    "P000", NULL));
	FAILS(st, STORE_ECORRUPT, store_membership_add(st, "1", "ubad",
	    "g000", NULL));
	FAILS(st, STORE_ECORRUPT, store_policy_delete(st, "1", "P256", NULL));
	free(id255);
	free(id256);
	free(t128);
	free(t129);
	free(v256);
	free(v257);
	free(r255);
	free(c255);
}

/*
 * store_replace_all applies the single changes' rules to every
 * identifier, tag and list of the bundle, naming its JSON path: nothing
 * a later change would refuse is ever stored.  The state is unchanged
 * after each refusal.
 */
static void
t_replace_limits(void **state)
{
	struct fx	*fx = *state;
	struct store	*st = fx->st;
	struct bundle	*b;
	char		*p;
	int		 i, which, err;
	const char	*path;

	b = mkbundle(3);
	OK(st, store_replace_all(st, b, NULL));
	bundle_free(b);
	for (which = 0; which < 11; which++) {
		b = mkbundle(3);
		err = STORE_EINVAL;
		switch (which) {
		case 0:		/* a KeyId of 404 bytes */
			free(b->keys[1].id);
			b->keys[1].id = rep('k', 404);
			path = "Keys[1].KeyId";
			break;
		case 1:		/* past LMDB's key size too */
			free(b->keys[1].id);
			b->keys[1].id = rep('k', 600);
			path = "Keys[1].KeyId";
			break;
		case 2:		/* a tag key of 200 bytes */
			free(b->keys[2].tags[0].key);
			b->keys[2].tags[0].key = rep('t', 200);
			path = "Keys[2].Tags[0]";
			break;
		case 3:		/* a tag value of 1000 bytes */
			free(b->keys[2].tags[0].value);
			b->keys[2].tags[0].value = rep('v', 1000);
			path = "Keys[2].Tags[0]";
			break;
		case 4:		/* 21 tags */
			b->keys[0].tags = realloc(b->keys[0].tags,
			    (STORE_TAGS_MAX + 1) * sizeof(*b->keys[0].tags));
			for (i = 1; i <= STORE_TAGS_MAX; i++) {
				if (asprintf(&p, "tag%d", i) == -1)
					abort();
				b->keys[0].tags[i].key = p;
				b->keys[0].tags[i].value = xs("v");
			}
			b->keys[0].ntags = STORE_TAGS_MAX + 1;
			err = STORE_ELIMIT;
			path = "Keys[0].Tags";
			break;
		case 5:		/* 300 policies on a user */
			b->users[0].policies = realloc(b->users[0].policies,
			    300 * sizeof(char *));
			for (i = 1; i < 300; i++)
				b->users[0].policies[i] = xs("P");
			b->users[0].npolicies = 300;
			err = STORE_ELIMIT;
			path = "Users[0]";
			break;
		case 6:		/* an alias name without "alias/" */
			free(b->aliases[0].name);
			b->aliases[0].name = xs("first");
			path = "Aliases[0].AliasName";
			break;
		case 7:		/* an account of 256 bytes */
			free(b->policies[0].account);
			b->policies[0].account = rep('1', 256);
			path = "Policies[0]";
			break;
		case 8:		/* a group name of 256 bytes in a list */
			free(b->users[0].groups[0]);
			b->users[0].groups[0] = rep('g', 256);
			path = "Users[0].Groups[0]";
			break;
		case 9:		/* an empty user name */
			free(b->users[0].name);
			b->users[0].name = xs("");
			path = "Users[0].UserName";
			break;
		default:	/* a region of 256 bytes */
			free(b->keys[2].region);
			b->keys[2].region = rep('r', 256);
			path = "Keys[2].Region";
			break;
		}
		FAILS(st, err, store_replace_all(st, b, NULL));
		if (strstr(store_errmsg(st), path) == NULL)
			fail_msg("case %d: \"%s\" lacks \"%s\"", which,
			    store_errmsg(st), path);
		bundle_free(b);
	}
	assert_int_equal(store_check(st), 0);
}

static void
t_growth(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	struct bundle	*b;
	size_t		 before;

	store_close(fx->st);
	st_rmrf(fx->db);
	/* 64 KiB to start, a large bundle: the map must double often. */
	st = fx->st = xopen(fx->db, 64 * 1024, 512 * 1024 * 1024);
	before = store_map_size(st);
	b = mkbundle(5000);
	OK(st, store_replace_all(st, b, NULL));
	bundle_free(b);
	assert_true(store_map_size(st) >= 16 * before);
	assert_int_equal(store_check(st), 0);
	store_close(st);
	st = fx->st = xopen(fx->db, 64 * 1024, 512 * 1024 * 1024);
	assert_true(store_generation(st) == 1);
	assert_int_equal(store_check(st), 0);
}

static void
t_ceiling(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	struct bundle	*b;
	char		 id[32];
	int		 i, rc;

	store_close(fx->st);
	st_rmrf(fx->db);
	st = fx->st = xopen(fx->db, 64 * 1024, 256 * 1024);
	b = mkbundle(5000);
	FAILS(st, STORE_EFULL, store_replace_all(st, b, NULL));
	assert_non_null(strstr(store_errmsg(st), "ceiling"));
	bundle_free(b);
	assert_true(store_map_size(st) == 256 * 1024);
	/* Small changes still fit until they do not; then each is refused
	 * alone and the store stays consistent and usable. */
	for (i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "user-with-a-longish-name-%06d", i);
		if ((rc = store_user_create(st, "111", id, NULL)) != 0)
			break;
	}
	assert_int_equal(rc, STORE_EFULL);
	FAILS(st, STORE_EFULL, store_user_create(st, "111", id, NULL));
	assert_int_equal(store_check(st), 0);
	OK(st, store_principal_delete(st, STORE_USER, "111",
	    "user-with-a-longish-name-000000", NULL));
	store_close(st);
	st = fx->st = xopen(fx->db, 64 * 1024, 256 * 1024);
	assert_int_equal(store_check(st), 0);
	assert_true(store_generation(st) == (uint64_t)i + 1);
}

/* Tampering is found by the check and refused by the load. */
static void
t_check_corrupt(void **state)
{
	struct fx	*fx = *state;
	struct store	*st = fx->st;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	struct store_opts o = { 0 };
	char		*cause, *copy;

	OK(st, store_instance_create(st, "i", 0, 3, NULL, NULL));
	OK(st, store_key_create(st, "k", "r", "1", "i", 0, NULL));
	store_close(st);
	fx->st = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, fx->db, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "keypolicies", 0, &dbi), 0);
	k.mv_data = (void *)"k";
	k.mv_size = 1;
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	copy = malloc(v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size - 3] ^= 1;	/* the text, not its digest */
	v.mv_data = copy;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	free(copy);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(fx->db, &o, &st, &cause), 0);
	assert_int_equal(store_check(st), STORE_ECORRUPT);
	assert_non_null(strstr(store_errmsg(st), "digest"));
	assert_int_equal(store_load(st), STORE_ECORRUPT);
	assert_null(store_holder(st));
	fx->st = st;
}

/* --- change-sets: applied elsewhere, as JSON, they give the same store */

/* The records of every DBI but meta (dump without the generation). */
static char *
dump_records(struct store *st)
{
	char	*d = dump(st), *p = strstr(d, "instances:\n");

	assert_non_null(p);
	memmove(d, p, strlen(p) + 1);
	return (d);
}

/* Through JSON and back: the path and the value give the same bytes. */
static void
cs_roundtrip(struct store_cset *out, int type, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	unsigned char	*k2, *v2 = NULL;
	size_t		 k2len, v2len = 0;
	const char	*why;
	char		*path, *json = NULL;
	int		 t2;

	assert_non_null(path = store_json_path(type, k, klen));
	assert_int_equal(store_json_unpath(path, &t2, &k2, &k2len), 0);
	assert_int_equal(t2, type);
	assert_true(k2len == klen && memcmp(k2, k, klen) == 0);
	if (v != NULL) {
		if ((json = store_json_value(type, v, vlen)) == NULL)
			fail_msg("%s: no JSON", path);
		if (store_json_unvalue(type, json, strlen(json), &v2, &v2len,
		    &why) != 0)
			fail_msg("%s: %s: %s", path, json, why);
		if (v2len != vlen || memcmp(v2, v, vlen) != 0)
			fail_msg("%s: %s: not the same bytes", path, json);
	}
	store_cset_add(out, type, k2, k2len, v2, v2len);
	free(path);
	free(json);
	free(k2);
	free(v2);
}

static int
cs_collect(int type, const void *k, size_t klen, const void *v, size_t vlen,
    void *arg)
{
	cs_roundtrip(arg, type, k, klen, v, vlen);
	return (STORE_OK);
}

/* Each change committed on one store, applied to the mirror. */
static void
cs_mirror(const struct store_cset *cs, uint64_t gen, void *arg)
{
	struct store		*m = arg;
	struct store_cset	 j;
	size_t			 i;

	store_cset_init(&j);
	for (i = 0; i < cs->nw; i++)
		cs_roundtrip(&j, cs->w[i].type, cs->w[i].key, cs->w[i].klen,
		    cs->w[i].val, cs->w[i].vlen);
	if (store_apply(m, &j, gen + 1000, NULL) != STORE_OK)
		fail_msg("apply: %s", store_errmsg(m));
	assert_true(store_generation(m) == gen + 1000);
	store_cset_free(&j);
}

static void
t_cset_mirror(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = fx->st, *m;
	struct store_cset	 cs;
	struct bundle		*b;
	char			*mdir = st_join(fx->tmp, "mirror"), *a, *c;
	struct world_counts	 x, y;

	m = xopen(mdir, 0, 0);
	b = mkbundle(20);
	OK(st, store_replace_all(st, b, NULL));
	bundle_free(b);
	/* The whole state, through JSON, replaces the mirror's. */
	store_cset_init(&cs);
	cs.replace = 1;
	assert_int_equal(store_records(st, cs_collect, &cs), 0);
	assert_int_equal(store_apply(m, &cs, 1001, NULL), 0);
	assert_true(store_generation(m) == 1001);
	store_cset_free(&cs);
	/* Then every single change, as the change-set it recorded. */
	store_on_commit(st, cs_mirror, m);
	st->gen_set = 0;
	OK(st, store_instance_create(st, "kst-2", 0, 3, "123", NULL));
	OK(st, store_key_create(st, "kx", "cn-hangzhou", "123", "kst-2", 0,
	    NULL));
	OK(st, tag1(st, "kx", "Env", "prod"));
	OK(st, store_key_policy_set(st, "kx", KP("123"), strlen(KP("123")),
	    NULL, NULL));
	OK(st, store_alias_create(st, "alias/x", "kx", NULL));
	OK(st, store_key_schedule_deletion(st, "kx", store_now_ms() + 100000,
	    NULL));
	OK(st, store_policy_create(st, "123", "pp", RP("a"), strlen(RP("a")),
	    NULL, NULL));
	OK(st, store_policy_version_create(st, "123", "pp", RP("b"),
	    strlen(RP("b")), 1, NULL, NULL, NULL));
	OK(st, store_user_create(st, "123", "bob", NULL));
	OK(st, store_group_create(st, "123", "devs", NULL));
	OK(st, store_membership_add(st, "123", "bob", "devs", NULL));
	OK(st, store_attach(st, STORE_USER, "123", "bob", "pp", NULL));
	OK(st, store_key_expire(st, "kx", store_now_ms() + 1000000, NULL));
	OK(st, store_policy_version_delete(st, "123", "pp", 1, NULL));
	a = dump_records(st);
	c = dump_records(m);
	assert_string_equal(a, c);
	world_counts(cur(st), &x);
	world_counts(cur(m), &y);
	assert_memory_equal(&x, &y, sizeof(x));
	assert_int_equal(store_check(m), 0);
	free(a);
	free(c);
	store_on_commit(st, NULL, NULL);
	/* A record that names what is not there fails whole. */
	store_cset_init(&cs);
	store_cset_add(&cs, STORE_RT_TAG, "k1\0T", 4, "v", 1);
	store_cset_add(&cs, STORE_RT_ALIAS, "r\0" "1\0alias/a", 11, "nokey", 5);
	FAILS(m, STORE_ECORRUPT, store_apply(m, &cs, 0, NULL));
	/* A generation not past the store's is refused. */
	cs.nw = 1;
	FAILS(m, STORE_EINVAL, store_apply(m, &cs, 5, NULL));
	cs.nw = 2;
	store_cset_free(&cs);
	store_close(m);
	free(mdir);
}

static void
t_cset_json_refused(void **state)
{
	static const struct {
		int		 type;
		const char	*json;
	} bad[] = {
		{ STORE_RT_INSTANCE, "{\"State\":\"Enabled\"}" },
		{ STORE_RT_INSTANCE, "{\"State\":\"On\",\"ShareQuota\":1}" },
		{ STORE_RT_INSTANCE, "{\"State\":\"Enabled\",\"ShareQuota\":1,"
		    "\"X\":1}" },
		{ STORE_RT_KEY, "{\"KeyState\":\"Enabled\",\"Region\":\"r\"}" },
		{ STORE_RT_KEYPOLICY, "{\"Version\":1,\"SetTime\":0,"
		    "\"Digest\":\"00\",\"Policy\":\"{}\"}" },
		{ STORE_RT_POLICY, "{\"DefaultVersion\":3,\"LastVersion\":2}" },
		{ STORE_RT_USER, "{\"Groups\":[1]}" },
		{ STORE_RT_ALIAS, "{\"KeyId\":\"\"}" },
		{ STORE_RT_TAG, "[\"Value\"]" },
		{ STORE_RT_TAG, "{\"Value\":\"a\"} {}" },
		{ STORE_RT_META, "{}" },
	};
	static const char *const badpath[] = {
		"keys", "keys/", "keys/a/b", "nope/a", "aliases/r/1",
		"tags/k/a%2", "tags/k/%61", "policyversions/1/p/v0",
		"policyversions/1/p/x", "meta/generation",
	};
	unsigned char	*v, *k;
	size_t		 n, i;
	const char	*why;
	int		 t;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (store_json_unvalue(bad[i].type, bad[i].json,
		    strlen(bad[i].json), &v, &n, &why) == 0)
			fail_msg("accepted %s", bad[i].json);
	for (i = 0; i < sizeof(badpath) / sizeof(badpath[0]); i++)
		if (store_json_unpath(badpath[i], &t, &k, &n) == 0)
			fail_msg("accepted %s", badpath[i]);
	assert_int_equal(store_json_unpath("aliases/cn/123/alias%2Fx", &t, &k,
	    &n), 0);
	assert_int_equal(t, STORE_RT_ALIAS);
	assert_true(n == 14 && memcmp(k, "cn\0" "123\0alias/x", 14) == 0);
	free(k);
}

/*
 * A range's path: the whole parts and '/', a part begun, the whole type;
 * every path of a key with the prefix starts with it.
 */
static void
t_json_prefix(void **state)
{
	static const struct {
		int		 type;
		const char	*prefix;
		size_t		 plen;
		const char	*path;
	} v[] = {
		{ STORE_RT_TAG, "key-1", 6, "tags/key-1/" },
		{ STORE_RT_TAG, "key-1", 5, "tags/key-1" },
		{ STORE_RT_KEY, "", 0, "keys/" },
		{ STORE_RT_ALIAS, "cn\0" "1%2\0", 7, "aliases/cn/1%252/" },
		{ STORE_RT_ALIAS, "cn\0" "1\0al/", 8, "aliases/cn/1/al%2F" },
		{ STORE_RT_POLICYVERSION, "1\0p q\0", 6, "policyversions/1/"
		    "p%20q/" },
		{ STORE_RT_POLICYVERSION, "1\0p\0\0\0", 6,
		    "policyversions/1/p/" },
		{ STORE_RT_USER, "1\0", 2, "users/1/" },
	};
	static const struct {
		int		 type;
		const char	*prefix;
		size_t		 plen;
	} bad[] = {
		{ STORE_RT_META, "", 0 }, { STORE_RT_TAG, "\0", 1 },
		{ STORE_RT_TAG, "k\0t\0", 4 }, { STORE_RT_KEY, "k\0", 2 },
		{ STORE_RT_COUNT, "", 0 },
	};
	unsigned char	 k[] = "cn\0" "1%2\0alias/x";
	char		*p, *full;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		p = store_json_prefix(v[i].type, v[i].prefix, v[i].plen);
		if (p == NULL || strcmp(p, v[i].path) != 0)
			fail_msg("%s: %s", v[i].path, p ? p : "NULL");
		free(p);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if ((p = store_json_prefix(bad[i].type, bad[i].prefix,
		    bad[i].plen)) != NULL)
			fail_msg("%zu: %s", i, p);
	for (i = 0; i <= sizeof(k) - 1; i++) {
		assert_non_null(p = store_json_prefix(STORE_RT_ALIAS, k, i));
		assert_non_null(full = store_json_path(STORE_RT_ALIAS, k,
		    sizeof(k) - 1));
		if (strncmp(full, p, strlen(p)) != 0)
			fail_msg("%s does not start with %s", full, p);
		free(p);
		free(full);
	}
}

/* A sink that writes every change back into its own store (as a fleet's
 * etcd and mirror would), after refusing the first *conflicts tries. */
struct loop {
	int	conflicts;
	int	calls;
	char	seen[512];	/* the last change's reads, then its ranges */
};

/* The paths of n records (keys, or prefixes when ranges), after out. */
static void
loop_paths(char *out, size_t len, const struct store_crec *v, size_t n,
    int ranges)
{
	char	*p;
	size_t	 i;

	for (i = 0; i < n; i++) {
		p = ranges ? store_json_prefix(v[i].type, v[i].key, v[i].klen) :
		    store_json_path(v[i].type, v[i].key, v[i].klen);
		snprintf(out + strlen(out), len - strlen(out), "%s%s ",
		    ranges && i == 0 ? "| " : "", p ? p : "?");
		free(p);
	}
}

static int
loop_sink(struct store *st, const struct store_cset *cs, uint64_t gen,
    void *arg, uint64_t *genp)
{
	struct loop	*l = arg;

	l->seen[0] = '\0';
	loop_paths(l->seen, sizeof(l->seen), cs->r, cs->nr, 0);
	loop_paths(l->seen, sizeof(l->seen), cs->g, cs->ng, 1);
	l->calls++;
	assert_true(gen == store_generation(st));
	if (l->conflicts > 0) {
		l->conflicts--;
		return (store_seterr(st, STORE_ECONFLICT, "changed meanwhile"));
	}
	return (store_apply(st, cs, gen + 10, genp));
}

static void
t_cset_sink(void **state)
{
	struct fx	*fx = *state;
	struct store	*st = fx->st;
	struct loop	 l = { 2, 0, "" };
	struct bundle	*b;
	char		*before;
	uint64_t	 g0, g;

	store_set_sink(st, loop_sink, &l);
	g0 = store_generation(st);
	assert_int_equal(store_instance_create(st, "kst-9", 0, 1, NULL, &g),
	    0);
	assert_int_equal(l.calls, 3);
	assert_true(g == g0 + 10 && store_generation(st) == g);
	/* A bulk change hands on every record. */
	b = mkbundle(5);
	assert_int_equal(store_replace_all(st, b, &g), 0);
	bundle_free(b);
	assert_int_equal(store_check(st), 0);
	/*
	 * What a plan scanned reaches the sink beside what it read: a tag
	 * change counts and reads back the key's tags, and reads the
	 * instance whose state it needs; a new version counts the policy's.
	 */
	assert_int_equal(store_tags_change(st, "key-000001", &(struct
	    store_tag){ "env", "prod" }, 1, &g), 0);
	assert_string_equal(l.seen, "keys/key-000001 instances/kst-1 | "
	    "tags/key-000001/ ");
	assert_int_equal(store_policy_version_create(st, "111", "P", RP("q"),
	    strlen(RP("q")), 0, NULL, NULL, &g), 0);
	assert_string_equal(l.seen, "policies/111/P | policyversions/111/P/ ");
	/* A change refused by its plan never reaches the sink. */
	l.calls = 0;
	FAILS(st, STORE_EEXIST, store_user_create(st, "111", "alice", NULL));
	assert_int_equal(l.calls, 0);
	/* Conflicts without end: a bounded number of tries, then an error
	 * naming them, and nothing changed. */
	l.conflicts = 1000;
	before = dump(st);
	l.calls = 0;
	assert_int_equal(store_user_create(st, "9", "zed", NULL),
	    STORE_ECONFLICT);
	assert_non_null(strstr(store_errmsg(st), "gave up after 8 tries"));
	assert_int_equal(l.calls, STORE_SINK_TRIES);
	{
		char	*after = dump(st);

		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	store_set_sink(st, NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_instances, setup, teardown),
		cmocka_unit_test_setup_teardown(t_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(t_deletions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_tags_change, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_tags_case, setup, teardown),
		cmocka_unit_test_setup_teardown(t_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(t_principals, setup, teardown),
		cmocka_unit_test_setup_teardown(t_policies, setup, teardown),
		cmocka_unit_test_setup_teardown(t_policy_version_reads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unloaded_and_readonly, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_sharing, setup, teardown),
		cmocka_unit_test_setup_teardown(t_replace_and_bundle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(t_replace_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(t_cset_mirror, setup, teardown),
		cmocka_unit_test(t_cset_json_refused),
		cmocka_unit_test(t_json_prefix),
		cmocka_unit_test_setup_teardown(t_cset_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ceiling, setup, teardown),
		cmocka_unit_test_setup_teardown(t_check_corrupt, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

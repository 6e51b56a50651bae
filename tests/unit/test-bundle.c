/* SPDX-License-Identifier: ISC */
/*
 * test-bundle.c: bundle parsing and validation (the error paths conf's
 * invalid bundles do not cover), the default key policy, compilation
 * into a world, deterministic export, simulation requests and answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "engine/cpolicy.h"
#include "engine/eval.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy-compile.h"
#include "policy/policy.h"
#include "policy/simreq.h"

#define A1	"1192853035118888"
#define A2	"1903253031268888"

static const char good[] =
    "{\"FormatVersion\": 1,"
    " \"Instances\": [{\"InstanceId\": \"kst-1\", \"State\": \"Enabled\","
    "   \"ShareQuota\": 1}],"
    " \"Keys\": ["
    "  {\"KeyId\": \"key-b\", \"Region\": \"cn-hangzhou\", \"Creator\": \""
    A1 "\", \"DKMSInstanceId\": \"kst-1\", \"KeyState\": \"Enabled\","
    "   \"Tags\": {\"Project\": \"Apollo\", \"Env\": \"prod\"}},"
    "  {\"KeyId\": \"key-a\", \"Region\": \"cn-hangzhou\", \"Creator\": \""
    A1 "\", \"KeyState\": \"Disabled\"},"
    "  {\"KeyId\": \"key-c\", \"Region\": \"cn-hangzhou\", \"Creator\": \""
    A1 "\", \"DKMSInstanceId\": \"kst-1\", \"KeyState\": \"Enabled\","
    "   \"KeyPolicy\": {\"Version\": \"1\", \"Statement\": [{\"Sid\": \"x\","
    "    \"Effect\": \"Allow\", \"Principal\": {\"RAM\": [\"acs:ram::" A2
    ":user/bob\"]}, \"Action\": [\"kms:Decrypt\"], \"Resource\": [\"*\"]}]}}"
    " ],"
    " \"Aliases\": [{\"AliasName\": \"alias/app\", \"KeyId\": \"key-c\"}],"
    " \"Policies\": ["
    "  {\"PolicyName\": \"Enc\", \"Account\": \"" A1 "\", \"PolicyDocument\":"
    "   \"{\\\"Version\\\":\\\"1\\\",\\\"Statement\\\":[{\\\"Effect\\\":"
    "\\\"Allow\\\",\\\"Action\\\":\\\"kms:Encrypt\\\",\\\"Resource\\\":"
    "\\\"*\\\"}]}\"},"
    "  {\"PolicyName\": \"All\", \"Account\": \"" A2 "\", \"PolicyDocument\":"
    "   {\"Version\": \"1\", \"Statement\": [{\"Effect\": \"Allow\","
    "    \"Action\": \"kms:*\", \"Resource\": \"acs:kms:*:*:key/*\"}]}}"
    " ],"
    " \"Users\": [{\"Account\": \"" A1 "\", \"UserName\": \"alice\","
    "   \"Groups\": [\"devs\"], \"Policies\": []},"
    "  {\"Account\": \"" A2 "\", \"UserName\": \"bob\", \"Policies\": "
    "   [\"All\"]}],"
    " \"Roles\": [{\"Account\": \"" A1 "\", \"RoleName\": \"app\","
    "   \"Policies\": [\"Enc\"]}],"
    " \"Groups\": [{\"Account\": \"" A1 "\", \"GroupName\": \"devs\","
    "   \"Policies\": [\"Enc\"]}]}";

static struct bundle *
parse_ok(const char *text)
{
	struct policy_diags	 d;
	struct bundle		*b = NULL;
	size_t			 i;

	policy_diags_init(&d);
	if (bundle_parse(text, strlen(text), 0, &b, &d) == -1) {
		for (i = 0; i < d.n; i++)
			print_message("%s: %s\n", d.v[i].path, d.v[i].reason);
		fail_msg("bundle rejected");
	}
	policy_diags_free(&d);
	return (b);
}

/* Rejected with exactly these paths (NULL-terminated), in this order. */
static void
parse_bad(const char *text, ...)
{
	struct policy_diags	 d;
	struct bundle		*b = NULL;
	va_list			 ap;
	const char		*p;
	size_t			 i = 0;

	policy_diags_init(&d);
	assert_int_equal(bundle_parse(text, strlen(text), 0, &b, &d), -1);
	assert_null(b);
	va_start(ap, text);
	while ((p = va_arg(ap, const char *)) != NULL) {
		if (i >= d.n)
			fail_msg("missing error at %s", p);
		if (strcmp(d.v[i].path, p) != 0)
			fail_msg("error %zu at %s (%s), expected %s", i,
			    d.v[i].path, d.v[i].reason, p);
		i++;
	}
	va_end(ap);
	if (i != d.n)
		fail_msg("unexpected error at %s: %s", d.v[i].path,
		    d.v[i].reason);
	policy_diags_free(&d);
}

static void
test_parse_good(void **state)
{
	struct bundle	*b = parse_ok(good);
	char		*def;

	assert_int_equal(b->ninstances, 1);
	assert_int_equal(b->instances[0].share_quota, 1);
	assert_int_equal(b->nkeys, 3);
	assert_string_equal(b->keys[0].id, "key-b");
	assert_int_equal(b->keys[0].ntags, 2);
	/* A key in an instance without KeyPolicy: the default policy. */
	def = policy_default_key_policy(A1);
	assert_string_equal(b->keys[0].policy, def);
	assert_string_equal(def, "{\"Version\":\"1\",\"Statement\":[{\"Sid\":"
	    "\"kms default key policy\",\"Effect\":\"Allow\",\"Principal\":"
	    "{\"RAM\":[\"acs:ram::" A1 ":*\"]},\"Action\":[\"kms:*\"],"
	    "\"Resource\":[\"*\"]}]}");
	free(def);
	assert_null(b->keys[1].policy);
	assert_int_equal(b->keys[1].state, WORLD_KEY_DISABLED);
	/* An object document is stored compact, slashes unescaped. */
	assert_non_null(strstr(b->keys[2].policy, "\"acs:ram::" A2
	    ":user/bob\""));
	assert_null(strchr(b->keys[2].policy, ' '));
	/* A text document is stored as given. */
	assert_string_equal(b->policies[0].text, "{\"Version\":\"1\","
	    "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Encrypt\","
	    "\"Resource\":\"*\"}]}");
	assert_int_equal(b->users[0].ngroups, 1);
	assert_int_equal(b->users[0].npolicies, 0);
	assert_int_equal(b->users[1].npolicies, 1);
	bundle_free(b);
	/* Every array is optional. */
	b = parse_ok("{\"FormatVersion\": 1}");
	assert_int_equal(b->nkeys, 0);
	bundle_free(b);
	b = parse_ok("{\"FormatVersion\": 1, \"Keys\": [], \"Users\": []}");
	bundle_free(b);
}

static void
test_parse_bad(void **state)
{
	parse_bad("", "", NULL);
	parse_bad("[]", "", NULL);
	parse_bad("{\"FormatVersion\": 1.0}", "FormatVersion", NULL);
	parse_bad("{\"FormatVersion\": 1, \"Keys\": [7]}", "Keys[0]", NULL);
	parse_bad("{\"FormatVersion\": 1, \"Users\": [{\"Account\": \"1\","
	    " \"UserName\": \"u\", \"Roles\": []}]}", "Users[0].Roles", NULL);
	parse_bad("{\"FormatVersion\": 1, \"Roles\": [{\"Account\": \"1\","
	    " \"RoleName\": \"r\", \"Groups\": []}]}", "Roles[0].Groups", NULL);
	parse_bad("{\"FormatVersion\": 1, \"Groups\": [{\"Account\": \"x\","
	    " \"GroupName\": \"\"}]}", "Groups[0].Account",
	    "Groups[0].GroupName", NULL);
	parse_bad("{\"FormatVersion\": 1, \"Users\": [{\"Account\": \"1\","
	    " \"UserName\": \"u\", \"Policies\": [\"p\", 3]}]}",
	    "Users[0].Policies[1]", "Users[0].Policies[0]", NULL);
	/* Every error is listed, not only the first. */
	parse_bad("{\"FormatVersion\": 2, \"Instances\": [{\"InstanceId\":"
	    " \"i\", \"State\": \"On\", \"ShareQuota\": -1}], \"Keys\":"
	    " [{\"KeyId\": \"k\", \"Region\": \"r\", \"Creator\": \"1\","
	    " \"KeyState\": \"Enabled\", \"DKMSInstanceId\": \"i\","
	    " \"KeyPolicy\": {\"Version\": \"1\", \"Statement\": [{\"Effect\":"
	    " \"Allow\", \"Principal\": {\"RAM\": \"*\"}, \"Action\":"
	    " \"kms:*\", \"Resource\": \"*\"}]}, \"Tags\": {\"a\": 1}}]}",
	    "FormatVersion", "Instances[0].State", "Instances[0].ShareQuota",
	    "Keys[0].Tags.a", NULL);
	/* Region with ':' would break its ARN. */
	parse_bad("{\"FormatVersion\": 1, \"Keys\": [{\"KeyId\": \"k\","
	    " \"Region\": \"a:b\", \"Creator\": \"1\", \"KeyState\":"
	    " \"Enabled\"}]}", "Keys[0].Region", NULL);
	/* Quota 0: one foreign account is over it. */
	parse_bad("{\"FormatVersion\": 1, \"Instances\": [{\"InstanceId\":"
	    " \"i\", \"State\": \"Enabled\", \"ShareQuota\": 0}], \"Keys\":"
	    " [{\"KeyId\": \"k\", \"Region\": \"r\", \"Creator\": \"1\","
	    " \"KeyState\": \"Enabled\", \"DKMSInstanceId\": \"i\","
	    " \"KeyPolicy\": {\"Version\": \"1\", \"Statement\": [{\"Effect\":"
	    " \"Allow\", \"Principal\": {\"RAM\": \"acs:ram::2:*\"},"
	    " \"Action\": \"kms:*\", \"Resource\": \"*\"}]}}]}",
	    "Keys[0].KeyPolicy", NULL);
}

static void
test_validate_model(void **state)
{
	struct bundle		*b = parse_ok(good);
	struct policy_diags	 d;
	char			*s;

	policy_diags_init(&d);
	assert_int_equal(bundle_validate(b, 0, &d), 0);
	/* Break the model in memory. */
	s = b->keys[1].creator;
	b->keys[1].creator = NULL;
	free(b->aliases[0].key_id);
	b->aliases[0].key_id = strdup("nope");
	assert_int_equal(bundle_validate(b, 0, &d), -1);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].path, "Keys[1].Creator");
	assert_string_equal(d.v[1].path, "Aliases[0].KeyId");
	b->keys[1].creator = s;
	policy_diags_free(&d);
	/* A smaller identity-policy limit. */
	policy_diags_init(&d);
	free(b->aliases[0].key_id);
	b->aliases[0].key_id = strdup("key-c");
	assert_int_equal(bundle_validate(b, 50, &d), -1);
	assert_string_equal(d.v[0].path, "Policies[0].PolicyDocument");
	policy_diags_free(&d);
	bundle_free(b);
}

static void
test_to_world(void **state)
{
	struct bundle		*b = parse_ok(good);
	struct policy_diags	 d;
	struct world		*w;
	struct world_counts	 c;
	struct world_key	 k;
	struct eval_request	 r;
	struct eval_answer	 a;
	size_t			 n;

	policy_diags_init(&d);
	w = bundle_to_world(b, 42, &d);
	assert_non_null(w);
	assert_int_equal(d.n, 0);
	assert_int_equal(world_generation(w), 42);
	world_counts(w, &c);
	assert_int_equal(c.keys, 3);
	assert_int_equal(c.aliases, 1);
	assert_int_equal(c.policies, 2);
	assert_int_equal(c.users, 2);
	assert_int_equal(c.roles, 1);
	assert_int_equal(c.groups, 1);
	assert_int_equal(world_get_key(w, "key-b", 5, &k), 0);
	assert_non_null(k.policy);
	assert_int_equal(world_instance_share_count(w, "kst-1", NULL, NULL,
	    NULL, &n), 0);
	assert_int_equal(n, 1);
	/* bob (other account) through the alias: both allow. */
	memset(&r, 0, sizeof(r));
	r.principal = "acs:ram::" A2 ":user/bob";
	r.principal_len = strlen(r.principal);
	r.action = "kms:Decrypt";
	r.action_len = 11;
	r.resource = "acs:kms:cn-hangzhou:" A1 ":key/key-c";
	r.resource_len = strlen(r.resource);
	eval_decide(w, &r, &a);
	assert_int_equal(a.reason, EVAL_R_ALLOWED_BY_BOTH);
	/* alice through her group's text policy. */
	r.principal = "acs:ram::" A1 ":user/alice";
	r.principal_len = strlen(r.principal);
	r.action = "kms:Encrypt";
	r.action_len = 11;
	r.resource = "acs:kms:cn-hangzhou:" A1 ":key/key-a";
	r.resource_len = strlen(r.resource);
	eval_decide(w, &r, &a);
	assert_int_equal(a.reason, EVAL_R_ALLOWED_BY_IDENTITY_POLICY);
	world_unref(w);
	policy_diags_free(&d);
	bundle_free(b);
}

static char *
rep(char c, size_t n)
{
	char	*s;

	assert_non_null(s = malloc(n + 1));
	memset(s, c, n);
	s[n] = '\0';
	return (s);
}

/*
 * Every store limit (engine/limits.h) at its edge loads; one past it is
 * an error (the invalid bundles 90-106 of tests/conformance).
 */
static void
test_limits_edge(void **state)
{
	struct json_object	*top, *o, *arr, *tags, *g, *p;
	struct policy_diags	 d;
	struct bundle		*b;
	struct world		*w;
	struct world_key	 k;
	char			*kid, *reg, *al, *tk, *tv, *un, name[16];
	const char		*text;
	size_t			 i;

	(void)state;
	kid = rep('k', LIMITS_ID_MAX);
	/* region + account (16) + alias name + 2 separators = 511 */
	reg = rep('r', LIMITS_ID_MAX);
	al = rep('a', LIMITS_RECORD_KEY_MAX - LIMITS_ID_MAX - 16 - 2);
	memcpy(al, "alias/", 6);
	tk = rep('t', LIMITS_TAG_KEY_MAX);
	tv = rep('v', LIMITS_TAG_VALUE_MAX);
	un = rep('u', LIMITS_ID_MAX);
	top = json_object_new_object();
	json_object_object_add(top, "FormatVersion", json_object_new_int(1));
	arr = json_object_new_array();
	o = json_object_new_object();
	json_object_object_add(o, "KeyId", json_object_new_string(kid));
	json_object_object_add(o, "Region", json_object_new_string(reg));
	json_object_object_add(o, "Creator", json_object_new_string(A1));
	json_object_object_add(o, "KeyState", json_object_new_string(
	    "Enabled"));
	tags = json_object_new_object();
	for (i = 0; i < LIMITS_TAGS_MAX; i++) {
		snprintf(tk, 4, "%03zu", i);
		tk[3] = 't';
		json_object_object_add(tags, tk, json_object_new_string(tv));
	}
	json_object_object_add(o, "Tags", tags);
	json_object_array_add(arr, o);
	json_object_object_add(top, "Keys", arr);
	arr = json_object_new_array();
	o = json_object_new_object();
	json_object_object_add(o, "AliasName", json_object_new_string(al));
	json_object_object_add(o, "KeyId", json_object_new_string(kid));
	json_object_array_add(arr, o);
	json_object_object_add(top, "Aliases", arr);
	arr = json_object_new_array();
	g = json_object_new_array();
	p = json_object_new_array();
	for (i = 0; i < LIMITS_LIST_MAX; i++) {
		snprintf(name, sizeof(name), "P%03zu", i);
		o = json_object_new_object();
		json_object_object_add(o, "PolicyName",
		    json_object_new_string(name));
		json_object_object_add(o, "Account", json_object_new_string(A1));
		json_object_object_add(o, "PolicyDocument",
		    json_object_new_string("{\"Version\":\"1\",\"Statement\":"
		    "[{\"Effect\":\"Allow\",\"Action\":\"kms:List*\","
		    "\"Resource\":\"*\"}]}"));
		json_object_array_add(arr, o);
		json_object_array_add(p, json_object_new_string(name));
		json_object_array_add(g, json_object_new_string(name));
	}
	json_object_object_add(top, "Policies", arr);
	arr = json_object_new_array();
	o = json_object_new_object();
	json_object_object_add(o, "Account", json_object_new_string(A1));
	json_object_object_add(o, "UserName", json_object_new_string(un));
	json_object_object_add(o, "Groups", g);
	json_object_object_add(o, "Policies", p);
	json_object_array_add(arr, o);
	json_object_object_add(top, "Users", arr);
	arr = json_object_new_array();
	for (i = 0; i < LIMITS_LIST_MAX; i++) {
		snprintf(name, sizeof(name), "P%03zu", i);
		o = json_object_new_object();
		json_object_object_add(o, "Account", json_object_new_string(A1));
		json_object_object_add(o, "GroupName",
		    json_object_new_string(name));
		json_object_object_add(o, "Policies", json_object_new_array());
		json_object_array_add(arr, o);
	}
	json_object_object_add(top, "Groups", arr);
	text = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN);
	b = parse_ok(text);
	policy_diags_init(&d);
	assert_non_null(w = bundle_to_world(b, 1, &d));
	assert_int_equal(world_get_key(w, kid, strlen(kid), &k), 0);
	assert_int_equal(k.ntags, LIMITS_TAGS_MAX);
	world_unref(w);
	bundle_free(b);
	/* One more byte of alias name: over the record key. */
	o = json_object_array_get_idx(json_object_object_get(top, "Aliases"),
	    0);
	free(al);
	al = rep('a', LIMITS_RECORD_KEY_MAX - LIMITS_ID_MAX - 16 - 1);
	memcpy(al, "alias/", 6);
	json_object_object_add(o, "AliasName", json_object_new_string(al));
	parse_bad(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN),
	    "Aliases[0].AliasName", NULL);
	policy_diags_free(&d);
	json_object_put(top);
	free(kid);
	free(reg);
	free(al);
	free(tk);
	free(tv);
	free(un);
}

/*
 * Each document is compiled once, by bundle_parse, and identical texts
 * share one compiled policy, which bundle_to_world puts in the world as
 * it is (no second compilation).
 */
static void
test_compile_once_shared(void **state)
{
	static const char text[] =
	    "{\"FormatVersion\": 1,"
	    " \"Instances\": [{\"InstanceId\": \"kst-1\", \"State\":"
	    "   \"Enabled\", \"ShareQuota\": 0}],"
	    " \"Keys\": ["
	    "  {\"KeyId\": \"k1\", \"Region\": \"r\", \"Creator\": \"" A1
	    "\", \"DKMSInstanceId\": \"kst-1\", \"KeyState\": \"Enabled\"},"
	    "  {\"KeyId\": \"k2\", \"Region\": \"r\", \"Creator\": \"" A1
	    "\", \"DKMSInstanceId\": \"kst-1\", \"KeyState\": \"Enabled\"},"
	    "  {\"KeyId\": \"k3\", \"Region\": \"r\", \"Creator\": \"" A2
	    "\", \"DKMSInstanceId\": \"kst-1\", \"KeyState\": \"Enabled\"},"
	    "  {\"KeyId\": \"k4\", \"Region\": \"r\", \"Creator\": \"" A1
	    "\", \"KeyState\": \"Enabled\"}],"
	    " \"Policies\": ["
	    "  {\"PolicyName\": \"P\", \"Account\": \"" A1 "\","
	    "   \"PolicyDocument\": {\"Version\": \"1\", \"Statement\":"
	    "   [{\"Effect\": \"Allow\", \"Action\": \"kms:*\","
	    "   \"Resource\": \"*\"}]}},"
	    "  {\"PolicyName\": \"P\", \"Account\": \"" A2 "\","
	    "   \"PolicyDocument\": {\"Version\": \"1\", \"Statement\":"
	    "   [{\"Effect\": \"Allow\", \"Action\": \"kms:*\","
	    "   \"Resource\": \"*\"}]}},"
	    "  {\"PolicyName\": \"V\", \"Account\": \"" A1 "\", \"Versions\": ["
	    "   {\"VersionId\": \"v1\", \"IsDefaultVersion\": false,"
	    "    \"PolicyDocument\": {\"Version\": \"1\", \"Statement\":"
	    "    [{\"Effect\": \"Deny\", \"Action\": \"kms:*\","
	    "    \"Resource\": \"*\"}]}},"
	    "   {\"VersionId\": \"v2\", \"IsDefaultVersion\": true,"
	    "    \"PolicyDocument\": {\"Version\": \"1\", \"Statement\":"
	    "    [{\"Effect\": \"Allow\", \"Action\": \"kms:*\","
	    "    \"Resource\": \"*\"}]}}]}]}";
	struct bundle		*b = parse_ok(text);
	struct policy_diags	 d;
	struct world		*w;
	struct world_key	 k1, k2, k3, k4;
	struct world_policy	 p1, p2, pv;

	(void)state;
	assert_non_null(b->compiled);
	policy_diags_init(&d);
	assert_non_null(w = bundle_to_world(b, 1, &d));
	/* Freed before the lookups: the world holds its own references. */
	bundle_free(b);
	assert_int_equal(world_get_key(w, "k1", 2, &k1), 0);
	assert_int_equal(world_get_key(w, "k2", 2, &k2), 0);
	assert_int_equal(world_get_key(w, "k3", 2, &k3), 0);
	assert_int_equal(world_get_key(w, "k4", 2, &k4), 0);
	/* The default key policies of one creator: one compiled policy. */
	assert_non_null(k1.policy);
	assert_ptr_equal(k1.policy, k2.policy);
	assert_ptr_equal(k1.image, k2.image);
	/* Another creator's default policy is another text. */
	assert_non_null(k3.policy);
	assert_ptr_not_equal(k1.policy, k3.policy);
	assert_null(k4.policy);			/* no key policy */
	/* Identity policies: the same text in two accounts, and a
	 * Versions policy whose default is that text too. */
	assert_int_equal(world_get_policy(w, A1, strlen(A1), "P", 1, &p1), 0);
	assert_int_equal(world_get_policy(w, A2, strlen(A2), "P", 1, &p2), 0);
	assert_int_equal(world_get_policy(w, A1, strlen(A1), "V", 1, &pv), 0);
	assert_ptr_equal(p1.policy, p2.policy);
	assert_ptr_equal(p1.policy, pv.policy);
	world_unref(w);
	policy_diags_free(&d);
}

static void
test_export(void **state)
{
	struct bundle	*b = parse_ok(good), *b2;
	char		*e1, *e2;
	size_t		 l1, l2;

	e1 = bundle_export(b, &l1);
	assert_non_null(e1);
	assert_int_equal(strlen(e1), l1);
	/* Sorted: key-a before key-b before key-c; tags by key. */
	assert_true(strstr(e1, "\"key-a\"") < strstr(e1, "\"key-b\""));
	assert_true(strstr(e1, "\"key-b\"") < strstr(e1, "\"key-c\""));
	assert_true(strstr(e1, "\"Env\"") < strstr(e1, "\"Project\""));
	/* Users sorted by account then name. */
	assert_true(strstr(e1, "\"alice\"") < strstr(e1, "\"bob\""));
	/* The export is a bundle; exporting it again gives the same text. */
	b2 = parse_ok(e1);
	e2 = bundle_export(b2, &l2);
	assert_string_equal(e1, e2);
	/* Policies keep their stored text exactly. */
	assert_string_equal(b2->policies[1].text, b->policies[1].text);
	assert_string_equal(b2->policies[0].text, b->policies[0].text);
	assert_string_equal(b2->keys[1].policy, b->keys[0].policy);
	free(e1);
	free(e2);
	bundle_free(b);
	bundle_free(b2);
}

static void
test_simreq(void **state)
{
	struct policy_simreq	 sr;
	struct value_time	 now = { 1000, 0 };
	struct json_object	*o, *ans;
	struct eval_answer	 a;
	char			 err[256];
	const char		*s;
	static const struct {
		const char	*json;
		int		 ok;
	} cases[] = {
		{ "{\"Principal\": \"acs:ram::1:root\", \"Action\": \"a\","
		    " \"Resource\": \"acs:x:r\"}", 1 },
		{ "{\"Principal\": \"acs:ram::1:root\", \"Action\": \"a\"}", 0 },
		{ "{\"Principal\": \"acs:ram::1:rootx\", \"Action\": \"a\","
		    " \"Resource\": \"acs:x:r\"}", 0 },
		{ "{\"Principal\": \"acs:ram::1:root\", \"Action\": \"a\","
		    " \"Resource\": \"acs:x:r\", \"Extra\": 1}", 0 },
		{ "{\"Principal\": \"acs:ram::1:root\", \"Action\": \"a\","
		    " \"Resource\": \"acs:x:r\", \"SourceIp\": \"1.2.3.4/8\"}", 0 },
		{ "{\"Principal\": \"acs:ram::1:root\", \"Action\": \"a\","
		    " \"Resource\": \"acs:x:r\", \"CurrentTime\": \"2020\"}", 0 },
		{ "{\"Principal\": \"acs:ram::1:root\", \"Action\": \"a\","
		    " \"Resource\": \"acs:x:r\", \"Context\": {\"a\": [1]}}", 0 },
		{ "{\"Principal\": \"acs:ram::1:root\", \"Action\": \"a\","
		    " \"Resource\": \"acs:x:r\", \"Context\": {\"a\": 1, \"A\": 2}}",
		    0 },
		/* A bare KeyId is not a resource (invalid-request). */
		{ "{\"Principal\": \"acs:ram::1:user/u\", \"Action\": \"a\","
		    " \"Resource\": \"key-hzz6304944631ejqjx0002\"}", 0 },
		{ "{\"Principal\": \"acs:ram::1:user/u\", \"Action\": \"a\","
		    " \"Resource\": \"*\"}", 1 },
		{ "{\"Principal\": 5, \"Action\": \"a\", \"Resource\": \"acs:x:r\"}",
		    0 },
		{ "[1]", 0 },
	};
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = json_tokener_parse(cases[i].json);
		assert_non_null(o);
		if ((policy_simreq_parse(o, &now, &sr, err, sizeof(err)) ==
		    0) != cases[i].ok)
			fail_msg("case %zu: %s", i, err);
		json_object_put(o);
	}
	/* Context values: numbers as written, booleans, the pinned time
	 * from a context acs:CurrentTime. */
	o = json_tokener_parse("{\"Id\": \"r1\", \"Principal\":"
	    " \"acs:ram::1:user/u\", \"Action\": \"a\", \"Resource\": \"acs:x:r\","
	    " \"Context\": {\"n\": 10.50, \"b\": true, \"acs:CurrentTime\":"
	    " \"1970-01-01T00:00:05Z\"}, \"SourceIp\": \"::ffff:10.0.0.1\"}");
	assert_int_equal(policy_simreq_parse(o, &now, &sr, err, sizeof(err)),
	    0);
	assert_int_equal(sr.req.nctx, 3);
	assert_memory_equal(sr.ctx[0].value, "10.50", 5);
	assert_memory_equal(sr.ctx[1].value, "true", 4);
	assert_int_equal(sr.req.now.sec, 5);
	assert_int_equal(sr.req.source_ip.family, 4);
	assert_string_equal(json_object_get_string(sr.id), "r1");
	/* The answer. */
	memset(&a, 0, sizeof(a));
	a.decision = EVAL_ALLOW;
	a.reason = EVAL_R_ALLOWED_BY_KEY_POLICY;
	a.nmatched = 2;
	a.matched[0].source = EVAL_SRC_KEY;
	a.matched[0].name = "key-1";
	a.matched[0].namelen = 5;
	a.matched[0].index = 3;
	a.matched[0].sid = "s";
	a.matched[0].sidlen = 1;
	a.matched[1].source = EVAL_SRC_POLICY;
	a.matched[1].name = "P";
	a.matched[1].namelen = 1;
	ans = policy_answer_json(sr.id, &a, 1, NULL);
	s = json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	assert_string_equal(s, "{\"Id\":\"r1\",\"Decision\":\"ALLOW\","
	    "\"Reason\":\"allowed-by-key-policy\",\"MatchedStatements\":["
	    "{\"Source\":\"key/key-1\",\"Index\":3,\"Sid\":\"s\"},"
	    "{\"Source\":\"policy/P\",\"Index\":0}]}");
	json_object_put(ans);
	ans = policy_answer_json(NULL, &a, 0, "bad");
	s = json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN);
	assert_string_equal(s, "{\"Decision\":\"ALLOW\",\"Reason\":"
	    "\"allowed-by-key-policy\",\"Error\":{\"Code\":"
	    "\"InvalidParameter\",\"Message\":\"bad\"}}");
	json_object_put(ans);
	json_object_put(o);
}

static void
test_compile(void **state)
{
	struct policy_diags	 d;
	struct cpolicy		*cp = NULL;
	const char		*t = "{\"Version\":\"1\",\"Statement\":["
	    "{\"Effect\":\"Deny\",\"NotAction\":[\"kms:Get*\"],"
	    "\"NotResource\":\"x\",\"Condition\":{\"NumericLessThan\":"
	    "{\"n\":[1,2.5]},\"Bool\":{\"b\":false}}}]}";
	size_t			 len;

	policy_diags_init(&d);
	assert_int_equal(policy_compile_text(POLICY_KIND_RAM, t, strlen(t),
	    6144, "", &cp, &d), 0);
	assert_int_equal(cpolicy_nstmts(cp), 1);
	assert_int_equal(cpolicy_stmt_effect(cp, 0), CPOLICY_DENY);
	assert_null(cpolicy_stmt_sid(cp, 0, &len));
	cpolicy_unref(cp);
	assert_int_equal(policy_compile_text(POLICY_KIND_KEY, t, strlen(t),
	    32768, "K", &cp, &d), -1);
	assert_true(d.n > 0);
	assert_int_equal(strncmp(d.v[0].path, "K", 1), 0);
	policy_diags_free(&d);
	/* A tree that skipped validation does not compile. */
	{
		struct json_object *o = json_tokener_parse("{\"Statement\":"
		    "[{\"Effect\":\"allow\",\"Action\":\"a\",\"Resource\":"
		    "\"r\"}]}");

		assert_null(policy_compile(POLICY_KIND_RAM, o));
		json_object_put(o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_validate_model),
		cmocka_unit_test(test_to_world),
		cmocka_unit_test(test_limits_edge),
		cmocka_unit_test(test_compile_once_shared),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_simreq),
		cmocka_unit_test(test_compile),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

/* SPDX-License-Identifier: ISC */
/*
 * test-admin-api: the error table of section 6, RequestIds, the API
 * table, request parsing (MissingParameter / InvalidParameter for every
 * parameter type and limit) and the authorization mapping.
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

#include "admin/admin.h"

static enum admin_err
parse(const char *body, struct admin_req *req, char *d, size_t dsize)
{
	return (admin_req_parse(body, strlen(body), req, d, dsize));
}

static void
t_err_table(void **state)
{
	static const struct {
		enum admin_err	 e;
		const char	*code;
		int		 http;
		const char	*msg;
	} want[] = {
		{ ADMIN_E_MISSING_PARAMETER, "MissingParameter", 400,
		    "The parameter needed but no provided." },
		{ ADMIN_E_INVALID_PARAMETER, "InvalidParameter", 400,
		    "The specified parameter is not valid." },
		{ ADMIN_E_NO_PERMISSION, "Forbidden.NoPermission", 400,
		    "This operation is forbidden by permission system." },
		{ ADMIN_E_KEY_POLICY_UNSUPPORTED,
		    "Forbidden.KeyPolicyUnSupported", 400,
		    "The specified key does not support key policy." },
		{ ADMIN_E_SHARE_QUOTA, "Rejected.ShareQuotaExceedLimit", 400,
		    "Instance Share Quota Exceed Limit." },
		{ ADMIN_E_INSTANCE_STATE, "Forbidden.DKMSInstanceStateInvalid",
		    403, "The DKMS instance state is invalid." },
		{ ADMIN_E_KEY_NOT_FOUND, "Forbidden.KeyNotFound", 404,
		    "The specified Key is not found." },
		{ ADMIN_E_RESOURCE_NOT_FOUND, "Forbidden.ResourceNotFound",
		    404, "Policy not found." },
		{ ADMIN_E_INTERNAL, "InternalFailure", 500,
		    "Internal Failure" },
		{ ADMIN_E_UNAVAILABLE, "ServiceUnavailable", 503,
		    "The request has failed due to a temporary failure of "
		    "the server." },
	};
	enum admin_err	e;
	size_t		i;

	assert_int_equal(sizeof(want) / sizeof(want[0]), ADMIN_E_COUNT - 1);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(admin_err_code(want[i].e), want[i].code);
		assert_int_equal(admin_err_http(want[i].e), want[i].http);
		assert_string_equal(admin_err_message(want[i].e), want[i].msg);
		assert_int_equal(admin_err_parse(want[i].code, &e), 0);
		assert_int_equal(e, want[i].e);
	}
	assert_null(admin_err_code(ADMIN_OK));
	assert_null(admin_err_code((enum admin_err)99));
	assert_int_equal(admin_err_http(ADMIN_OK), 200);
	assert_int_equal(admin_err_parse("NoSuchCode", &e), -1);
}

static void
t_request_id(void **state)
{
	char	a[ADMIN_REQUEST_ID_LEN + 1], b[ADMIN_REQUEST_ID_LEN + 1];
	size_t	i;

	admin_request_id(a);
	admin_request_id(b);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789ABCDEF", a[i]));
	}
	assert_int_equal(a[14], '4');
}

static void
t_err_json(void **state)
{
	struct json_object	*o, *v;

	o = admin_err_json(ADMIN_E_KEY_NOT_FOUND, "RID", "key-1");
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "Code", &v));
	assert_string_equal(json_object_get_string(v),
	    "Forbidden.KeyNotFound");
	assert_true(json_object_object_get_ex(o, "HttpStatus", &v));
	assert_int_equal(json_object_get_int(v), 404);
	assert_true(json_object_object_get_ex(o, "RequestId", &v));
	assert_string_equal(json_object_get_string(v), "RID");
	assert_true(json_object_object_get_ex(o, "Message", &v));
	assert_true(json_object_object_get_ex(o, "Detail", &v));
	json_object_put(o);
	o = admin_err_json(ADMIN_E_INTERNAL, "RID", NULL);
	assert_false(json_object_object_get_ex(o, "Detail", &v));
	json_object_put(o);
}

static void
t_table(void **state)
{
	const struct admin_api	*t;
	size_t			 n, i, j;

	t = admin_api_table(&n);
	assert_int_equal(n, ADMIN_API_COUNT);
	for (i = 0; i < n; i++) {
		assert_int_equal(t[i].id, (enum admin_api_id)i);
		assert_ptr_equal(admin_api_find(t[i].name), &t[i]);
		assert_ptr_equal(admin_api_get(t[i].id), &t[i]);
		for (j = 0; t[i].params[j].name != NULL; j++)
			assert_non_null(t[i].params[j].help);
		assert_true(j <= ADMIN_MAX_PARAMS);
	}
	assert_null(admin_api_find("setkeypolicy"));
	assert_null(admin_api_get(ADMIN_API_COUNT));
	assert_true(admin_api_find("ImportBundle")->flags & ADMIN_F_SUPERUSER);
	assert_true(admin_api_find("CreateInstance")->flags &
	    ADMIN_F_SUPERUSER);
	assert_true(admin_api_find("SetKeyPolicy")->flags & ADMIN_F_CHANGE);
	assert_false(admin_api_find("GetKeyPolicy")->flags & ADMIN_F_CHANGE);
}

static void
t_parse_set_key_policy(void **state)
{
	struct admin_req	 req;
	char			 d[256];
	const struct admin_val	*v;

	assert_int_equal(parse("{\"Action\":\"SetKeyPolicy\",\"Parameters\":"
	    "{\"KeyId\":\"key-abc\",\"PolicyName\":\"default\",\"Policy\":"
	    "\"{\\\"Version\\\":\\\"1\\\"}\"}}", &req, d, sizeof(d)),
	    ADMIN_OK);
	assert_int_equal(req.api->id, ADMIN_SetKeyPolicy);
	assert_string_equal(admin_req_str(&req, "KeyId"), "key-abc");
	assert_string_equal(admin_req_str(&req, "Policy"),
	    "{\"Version\":\"1\"}");
	assert_string_equal(req.key.id, "key-abc");
	assert_int_equal(req.key.is_arn, 0);
	assert_int_equal(strlen(req.request_id), 36);
	assert_null(admin_req_get(&req, "Nope"));
	admin_req_free(&req);

	/* An ARN, PolicyName absent. */
	assert_int_equal(parse("{\"Action\":\"SetKeyPolicy\",\"Parameters\":"
	    "{\"KeyId\":\"acs:kms:cn-hangzhou:1234:key/key-x\",\"Policy\":"
	    "\"{}\"}}", &req, d, sizeof(d)), ADMIN_OK);
	assert_int_equal(req.key.is_arn, 1);
	assert_string_equal(req.key.region, "cn-hangzhou");
	assert_string_equal(req.key.account, "1234");
	assert_string_equal(req.key.id, "key-x");
	assert_null(admin_req_get(&req, "PolicyName"));
	v = admin_req_get(&req, "Policy");
	assert_int_equal(v->len, 2);
	admin_req_free(&req);
}

static void
t_parse_missing(void **state)
{
	struct admin_req	req;
	char			d[256];

	assert_int_equal(parse("{\"Action\":\"SetKeyPolicy\",\"Parameters\":"
	    "{\"Policy\":\"{}\"}}", &req, d, sizeof(d)),
	    ADMIN_E_MISSING_PARAMETER);
	assert_string_equal(d, "KeyId");
	assert_int_equal(strlen(req.request_id), 36);
	admin_req_free(&req);
	assert_int_equal(parse("{\"Action\":\"SetKeyPolicy\",\"Parameters\":"
	    "{\"KeyId\":\"k\"}}", &req, d, sizeof(d)),
	    ADMIN_E_MISSING_PARAMETER);
	assert_string_equal(d, "Policy");
	admin_req_free(&req);
	assert_int_equal(parse("{\"Action\":\"GetKeyPolicy\"}", &req, d,
	    sizeof(d)), ADMIN_E_MISSING_PARAMETER);
	assert_string_equal(d, "KeyId");
	admin_req_free(&req);
	assert_int_equal(parse("{\"Parameters\":{}}", &req, d, sizeof(d)),
	    ADMIN_E_MISSING_PARAMETER);
	assert_string_equal(d, "Action");
	admin_req_free(&req);
	assert_int_equal(parse("{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"k\"}}", &req, d, sizeof(d)),
	    ADMIN_E_MISSING_PARAMETER);
	assert_string_equal(d, "PendingWindowInDays");
	admin_req_free(&req);
	/* Calls without parameters parse without "Parameters". */
	assert_int_equal(parse("{\"Action\":\"Status\"}", &req, d,
	    sizeof(d)), ADMIN_OK);
	admin_req_free(&req);
}

static void
t_parse_invalid(void **state)
{
	static const char *bad[] = {
		"",
		"[]",
		"{\"Action\":\"SetKeyPolicy\"",
		"{\"Action\":\"SetKeyPolicy\"} x",
		"{\"Action\":5}",
		"{\"Action\":\"NoSuchCall\"}",
		"{\"Action\":\"Status\",\"Parameters\":[]}",
		"{\"Action\":\"Status\",\"Extra\":1}",
		"{\"Action\":\"Status\",\"Parameters\":{\"KeyId\":\"k\"}}",
		/* wrong types */
		"{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":5}}",
		"{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":\"\"}}",
		"{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"key x\"}}",
		"{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"acs:kms:r:12a:key/k\"}}",
		"{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"acs:kms:r:12:alias/k\"}}",
		"{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"acs:ram::12:key/k\"}}",
		"{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"acs:kms::12:key/k\"}}",
		"{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"acs:kms:r:12:key/\"}}",
		"{\"Action\":\"SetKeyPolicy\",\"Parameters\":{\"KeyId\":\"k\","
		    "\"Policy\":{}}}",
		"{\"Action\":\"SetKeyPolicy\",\"Parameters\":{\"KeyId\":\"k\","
		    "\"Policy\":\"\"}}",
		/* integers */
		"{\"Action\":\"ScheduleKeyDeletion\",\"Parameters\":{\"KeyId\":"
		    "\"k\",\"PendingWindowInDays\":6}}",
		"{\"Action\":\"ScheduleKeyDeletion\",\"Parameters\":{\"KeyId\":"
		    "\"k\",\"PendingWindowInDays\":\"367\"}}",
		"{\"Action\":\"ScheduleKeyDeletion\",\"Parameters\":{\"KeyId\":"
		    "\"k\",\"PendingWindowInDays\":\"7d\"}}",
		"{\"Action\":\"ScheduleKeyDeletion\",\"Parameters\":{\"KeyId\":"
		    "\"k\",\"PendingWindowInDays\":7.5}}",
		"{\"Action\":\"ListKeys\",\"Parameters\":{\"PageSize\":101}}",
		/* enums, booleans */
		"{\"Action\":\"UpdateInstanceState\",\"Parameters\":{"
		    "\"InstanceId\":\"kst-1\",\"State\":\"enabled\"}}",
		"{\"Action\":\"CreatePolicyVersion\",\"Parameters\":{"
		    "\"PolicyName\":\"p\",\"PolicyDocument\":\"{}\","
		    "\"SetAsDefault\":\"yes\"}}",
		/* names */
		"{\"Action\":\"CreateUser\",\"Parameters\":{\"UserName\":"
		    "\"a/b\"}}",
		"{\"Action\":\"CreatePolicy\",\"Parameters\":{\"PolicyName\":"
		    "\"a_b\",\"PolicyDocument\":\"{}\"}}",
		"{\"Action\":\"CreateAlias\",\"Parameters\":{\"AliasName\":"
		    "\"foo\",\"KeyId\":\"k\"}}",
		"{\"Action\":\"CreateAlias\",\"Parameters\":{\"AliasName\":"
		    "\"alias/\",\"KeyId\":\"k\"}}",
		/* tags */
		"{\"Action\":\"TagResource\",\"Parameters\":{\"KeyId\":\"k\","
		    "\"Tags\":\"[]\"}}",
		"{\"Action\":\"TagResource\",\"Parameters\":{\"KeyId\":\"k\","
		    "\"Tags\":\"[{\\\"TagKey\\\":\\\"a\\\"}]\"}}",
		"{\"Action\":\"TagResource\",\"Parameters\":{\"KeyId\":\"k\","
		    "\"Tags\":\"[{\\\"TagKey\\\":\\\"a\\\",\\\"TagValue\\\":1}]\""
		    "}}",
		"{\"Action\":\"TagResource\",\"Parameters\":{\"KeyId\":\"k\","
		    "\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"1\"},"
		    "{\"TagKey\":\"a\",\"TagValue\":\"2\"}]}}",
		"{\"Action\":\"TagResource\",\"Parameters\":{\"KeyId\":\"k\","
		    "\"Tags\":\"not json\"}}",
		"{\"Action\":\"UntagResource\",\"Parameters\":{\"KeyId\":\"k\","
		    "\"TagKeys\":\"[1]\"}}",
		"{\"Action\":\"UntagResource\",\"Parameters\":{\"KeyId\":\"k\","
		    "\"TagKeys\":\"{}\"}}",
		NULL
	};
	struct admin_req	req;
	char			d[256];
	size_t			i;

	for (i = 0; bad[i] != NULL; i++) {
		enum admin_err e = parse(bad[i], &req, d, sizeof(d));
		if (e != ADMIN_E_INVALID_PARAMETER)
			fail_msg("%s: %d", bad[i], e);
		assert_true(d[0] != '\0');
		admin_req_free(&req);
	}
}

/*
 * The envelope and JSON-text parameters go through the project's strict
 * scanner: duplicates (also after unescaping), bad UTF-8, surrogates,
 * NUL escapes and json-c's leniencies are InvalidParameter, and the
 * detail says where and why.
 */
static void
t_parse_strict(void **state)
{
	static const struct {
		const char	*body;
		const char	*detail;	/* a part of it */
	} bad[] = {
		{ "{\"Action\":\"Status\",\"Action\":\"Status\"}",
		    "the request: not valid JSON: Action: duplicate key" },
		{ "{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"a\"},\"Parameters\":{\"KeyId\":\"b\"}}",
		    "Parameters: duplicate key" },
		{ "{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"a\",\"KeyId\":\"b\"}}",
		    "Parameters.KeyId: duplicate key" },
		/* Equal after unescaping. */
		{ "{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"a\",\"Key\\u0049d\":\"b\"}}", "duplicate key" },
		{ "{\"Action\":\"TagResource\",\"Parameters\":{\"KeyId\":"
		    "\"k\",\"Tags\":[{\"TagKey\":\"a\",\"TagKey\":\"b\","
		    "\"TagValue\":\"1\"}]}}", "Tags[0].TagKey: duplicate key" },
		/* JSON text inside a string parameter: the same scanner. */
		{ "{\"Action\":\"TagResource\",\"Parameters\":{\"KeyId\":"
		    "\"k\",\"Tags\":\"[{\\\"TagKey\\\":\\\"a\\\","
		    "\\\"TagKey\\\":\\\"b\\\",\\\"TagValue\\\":"
		    "\\\"1\\\"}]\"}}",
		    "Tags: not valid JSON: [0].TagKey: duplicate key" },
		{ "{\"Action\":\"Status\",}", "the request: not valid JSON" },
		{ "{'Action':\"Status\"}", "the request: not valid JSON" },
		{ "{\"Action\":\"Status\"}\n{}", "after the end" },
		{ "\xef\xbb\xbf{\"Action\":\"Status\"}", "not valid JSON" },
		{ "{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"\xff\"}}", "invalid UTF-8 (byte 0xff)" },
		{ "{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"\xc0\xaf\"}}", "invalid UTF-8" },
		{ "{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"\xed\xa0\x80\"}}", "invalid UTF-8" },
		{ "{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"\\ud800\"}}", "not valid JSON" },
		{ "{\"Action\":\"GetKeyPolicy\",\"Parameters\":{\"KeyId\":"
		    "\"k\\u0000\"}}", "not valid JSON" },
		{ "{\"Action\":\"ListKeys\",\"Parameters\":{\"PageSize\":"
		    "NaN}}", "not valid JSON" },
		{ "{\"Action\":\"ListKeys\",\"Parameters\":{\"PageSize\":"
		    "1.}}", "not valid JSON" },
		{ NULL, NULL }
	};
	struct admin_req	req;
	char			d[512];
	size_t			i;
	enum admin_err		e;

	for (i = 0; bad[i].body != NULL; i++) {
		e = parse(bad[i].body, &req, d, sizeof(d));
		if (e != ADMIN_E_INVALID_PARAMETER ||
		    strstr(d, bad[i].detail) == NULL)
			fail_msg("%zu: %s: %d \"%s\"", i, bad[i].body, e, d);
		assert_int_equal(strlen(req.request_id), 36);
		admin_req_free(&req);
	}
	/* The same requests without the fault parse. */
	assert_int_equal(parse("{\"Action\":\"GetKeyPolicy\",\"Parameters\":"
	    "{\"Key\\u0049d\":\"a\"}}", &req, d, sizeof(d)), ADMIN_OK);
	assert_string_equal(admin_req_str(&req, "KeyId"), "a");
	admin_req_free(&req);
}

static void
t_parse_limits(void **state)
{
	struct admin_req	 req;
	char			 d[256], *body, *pol;
	size_t			 n;

	/* A Policy of exactly 32,768 bytes parses; one more does not. */
	for (n = 32768; n <= 32769; n++) {
		pol = malloc(n + 1);
		memset(pol, 'a', n);
		pol[n] = '\0';
		body = malloc(n + 200);
		snprintf(body, n + 200, "{\"Action\":\"SetKeyPolicy\","
		    "\"Parameters\":{\"KeyId\":\"k\",\"Policy\":\"%s\"}}", pol);
		assert_int_equal(parse(body, &req, d, sizeof(d)),
		    n == 32768 ? ADMIN_OK : ADMIN_E_INVALID_PARAMETER);
		if (n == 32769)
			assert_non_null(strstr(d, "Policy"));
		admin_req_free(&req);
		free(body);
		free(pol);
	}
	/* Integers as JSON numbers or decimal strings. */
	assert_int_equal(parse("{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"k\",\"PendingWindowInDays\":\"7\"}}",
	    &req, d, sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_req_get(&req, "PendingWindowInDays")->i, 7);
	admin_req_free(&req);
	assert_int_equal(parse("{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"k\",\"PendingWindowInDays\":366}}",
	    &req, d, sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_req_get(&req, "PendingWindowInDays")->i, 366);
	admin_req_free(&req);
	/* Booleans, tags (string and inline), string lists. */
	assert_int_equal(parse("{\"Action\":\"CreatePolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p-1.x\",\"PolicyDocument\":"
	    "\"{}\",\"SetAsDefault\":\"true\"}}", &req, d, sizeof(d)),
	    ADMIN_OK);
	assert_int_equal(admin_req_get(&req, "SetAsDefault")->b, 1);
	admin_req_free(&req);
	assert_int_equal(parse("{\"Action\":\"TagResource\",\"Parameters\":"
	    "{\"KeyId\":\"k\",\"Tags\":\"[{\\\"TagKey\\\":\\\"env\\\","
	    "\\\"TagValue\\\":\\\"prod\\\"},{\\\"TagKey\\\":\\\"o\\\","
	    "\\\"TagValue\\\":\\\"\\\"}]\"}}", &req, d, sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_req_get(&req, "Tags")->n, 2);
	assert_string_equal(admin_req_get(&req, "Tags")->tags[0].key, "env");
	assert_string_equal(admin_req_get(&req, "Tags")->tags[0].value,
	    "prod");
	assert_string_equal(admin_req_get(&req, "Tags")->tags[1].value, "");
	admin_req_free(&req);
	assert_int_equal(parse("{\"Action\":\"UntagResource\",\"Parameters\":"
	    "{\"KeyId\":\"k\",\"TagKeys\":[\"a\",\"b\"]}}", &req, d,
	    sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_req_get(&req, "TagKeys")->n, 2);
	assert_string_equal(admin_req_get(&req, "TagKeys")->list[1], "b");
	admin_req_free(&req);
}

static void
t_keyref(void **state)
{
	struct admin_keyref	kr;

	assert_int_equal(admin_keyref_parse("key-1", 5, &kr), 0);
	assert_string_equal(kr.id, "key-1");
	assert_int_equal(admin_keyref_parse("acs:kms:cn-hangzhou:1:key/a",
	    27, &kr), 0);
	assert_string_equal(kr.region, "cn-hangzhou");
	assert_int_equal(admin_keyref_parse("acs:kms:r:1:key/a/b", 19, &kr),
	    -1);
	assert_int_equal(admin_keyref_parse("acs:kms:r:1:key/a:b", 19, &kr),
	    -1);
	assert_int_equal(admin_keyref_parse("a\0b", 3, &kr), -1);
	assert_int_equal(admin_keyref_parse("", 0, &kr), -1);
}

static void
t_caller(void **state)
{
	struct admin_caller	c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(admin_caller_set_principal(&c,
	    "acs:ram::1234:user/alice"), 0);
	assert_string_equal(c.account, "1234");
	assert_string_equal(c.principal, "acs:ram::1234:user/alice");
	assert_int_equal(admin_caller_set_principal(&c, "acs:ram::9:root"), 0);
	assert_int_equal(admin_caller_set_principal(&c, "acs:ram::9:role/r"),
	    0);
	assert_int_equal(admin_caller_set_principal(&c, "acs:ram::9:user/"),
	    -1);
	assert_int_equal(admin_caller_set_principal(&c, "acs:ram::x:root"),
	    -1);
	assert_int_equal(admin_caller_set_principal(&c, "acs:ram::9:group/g"),
	    -1);
	assert_int_equal(admin_caller_set_principal(&c, "superuser"), -1);
}

static void
t_targets(void **state)
{
	struct admin_req	 req;
	struct admin_target	 t;
	struct admin_scope	 sc;
	char			 d[256];

	memset(&sc, 0, sizeof(sc));
	sc.region = "cn-hangzhou";
	sc.account = "1234";
	sc.key_region = "cn-shanghai";
	sc.key_account = "5678";
	sc.key_id = "key-1";
	sc.alias_region = "cn-shanghai";
	sc.alias_account = "5678";

	assert_int_equal(parse("{\"Action\":\"SetKeyPolicy\",\"Parameters\":"
	    "{\"KeyId\":\"key-1\",\"Policy\":\"{}\"}}", &req, d, sizeof(d)),
	    ADMIN_OK);
	assert_int_equal(admin_authz_target(&req, &sc, &t), 0);
	assert_string_equal(t.action, "kms:SetKeyPolicy");
	assert_int_equal(t.nres, 1);
	assert_string_equal(t.res[0], "acs:kms:cn-shanghai:5678:key/key-1");
	admin_req_free(&req);

	assert_int_equal(parse("{\"Action\":\"CreateKey\"}", &req, d,
	    sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_authz_target(&req, &sc, &t), 0);
	assert_string_equal(t.action, "kms:CreateKey");
	assert_string_equal(t.res[0], "acs:kms:cn-hangzhou:1234:key");
	admin_req_free(&req);

	assert_int_equal(parse("{\"Action\":\"CreateAlias\",\"Parameters\":"
	    "{\"AliasName\":\"alias/a\",\"KeyId\":\"key-1\"}}", &req, d,
	    sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_authz_target(&req, &sc, &t), 0);
	assert_int_equal(t.nres, 2);
	assert_string_equal(t.res[0], "acs:kms:cn-shanghai:5678:alias/a");
	assert_string_equal(t.res[1], "acs:kms:cn-shanghai:5678:key/key-1");
	admin_req_free(&req);

	assert_int_equal(parse("{\"Action\":\"AttachPolicyToUser\","
	    "\"Parameters\":{\"PolicyType\":\"Custom\",\"PolicyName\":\"p\","
	    "\"UserName\":\"u\"}}", &req, d, sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_authz_target(&req, &sc, &t), 0);
	assert_string_equal(t.action, "ram:AttachPolicyToUser");
	assert_string_equal(t.res[0], "acs:ram:*:1234:policy/p");
	assert_string_equal(t.res[1], "acs:ram:*:1234:user/u");
	admin_req_free(&req);

	assert_int_equal(parse("{\"Action\":\"CreateRole\",\"Parameters\":"
	    "{\"RoleName\":\"r\"}}", &req, d, sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_authz_target(&req, &sc, &t), 0);
	assert_string_equal(t.res[0], "acs:ram:*:1234:role/r");
	admin_req_free(&req);

	/* Superuser-only calls have no grantable target. */
	assert_int_equal(parse("{\"Action\":\"ExportBundle\"}", &req, d,
	    sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_authz_target(&req, &sc, &t), -1);
	admin_req_free(&req);
	assert_int_equal(parse("{\"Action\":\"UpdateInstanceState\","
	    "\"Parameters\":{\"InstanceId\":\"kst-1\",\"State\":\"Expired\"}}",
	    &req, d, sizeof(d)), ADMIN_OK);
	assert_int_equal(admin_authz_target(&req, &sc, &t), -1);
	admin_req_free(&req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_err_table),
		cmocka_unit_test(t_request_id),
		cmocka_unit_test(t_err_json),
		cmocka_unit_test(t_table),
		cmocka_unit_test(t_parse_set_key_policy),
		cmocka_unit_test(t_parse_missing),
		cmocka_unit_test(t_parse_invalid),
		cmocka_unit_test(t_parse_strict),
		cmocka_unit_test(t_parse_limits),
		cmocka_unit_test(t_keyref),
		cmocka_unit_test(t_caller),
		cmocka_unit_test(t_targets),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

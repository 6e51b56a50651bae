/* SPDX-License-Identifier: ISC */
/*
 * test-admin-exec: the admin plane end to end below the socket: a real
 * store in a temporary directory, the admin context, requests as bytes.
 * Every call, every error code of section 6 with the state proven
 * unchanged after each error (the exported bundle and the generation),
 * authorization by policies (the SetKeyPolicy page's admin statement),
 * signed requests, the audit trail (and failing closed), scheduled
 * deletion.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "admin/admin-exec.h"
#include "admin/admin.h"
#include "store/store.h"

#define ACCT	"1234567890"
#define FOREIGN	"5555555555"

struct fix {
	char			 dir[64];
	char			 audit[128];
	struct store		*st;
	struct admin_ctx	*ctx;
	struct admin_conf	 conf;
	char			 pk[ADMIN_PK_B64_LEN + 1];
	char			 sk[ADMIN_SK_B64_LEN + 1];
};

static struct json_object *last;

static const char *call_as(struct fix *, long, const char *, ...)
    __attribute__((__format__(printf, 3, 4)));

/*
 * With ADMIN_TRANSCRIPT=FILE every request and its answer are appended
 * to FILE, the RequestId left out: two builds' transcripts must be the
 * same byte for byte (a restructure of the admin plane changes no
 * answer).
 */
static void
transcript(long uid, const char *body, struct json_object *ans)
{
	struct json_object	*copy = NULL;
	const char		*path;
	FILE			*fp;

	if ((path = getenv("ADMIN_TRANSCRIPT")) == NULL || *path == '\0')
		return;
	assert_int_equal(json_object_deep_copy(ans, &copy, NULL), 0);
	json_object_object_del(copy, "RequestId");
	assert_non_null(fp = fopen(path, "a"));
	fprintf(fp, "uid %ld: %s\n=> %s\n", uid, body,
	    json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	fclose(fp);
	json_object_put(copy);
}

static const char *
call_as(struct fix *f, long uid, const char *fmt, ...)
{
	struct admin_peer	 p = { uid, uid, 4242 };
	struct json_object	*code;
	va_list			 ap;
	char			*body;

	va_start(ap, fmt);
	assert_true(vasprintf(&body, fmt, ap) > 0);
	va_end(ap);
	json_object_put(last);
	last = admin_handle(f->ctx, &p, body, strlen(body), NULL, 0);
	assert_non_null(last);
	transcript(uid, body, last);
	free(body);
	assert_true(json_object_object_get_ex(last, "RequestId", &code));
	assert_int_equal(json_object_get_string_len(code), 36);
	if (!json_object_object_get_ex(last, "Code", &code))
		return ("OK");
	return (json_object_get_string(code));
}

#define call(f, ...)	call_as((f), 0, __VA_ARGS__)

static const char *
field(const char *k)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(last, k, &v))
		return (NULL);
	return (json_object_get_string(v));
}

/* The whole state, to prove an error changed nothing. */
static char *
snapshot(struct fix *f)
{
	char	*s;

	assert_string_equal(call(f, "{\"Action\":\"ExportBundle\"}"), "OK");
	assert_non_null(s = malloc(strlen(field("Bundle")) + 64));
	sprintf(s, "%s|%" PRIu64, field("Bundle"), store_generation(f->st));
	return (s);
}

static void
unchanged(struct fix *f, char *before)
{
	char	*after = snapshot(f);

	assert_string_equal(before, after);
	free(before);
	free(after);
}

static int
setup(void **state)
{
	struct fix		*f = calloc(1, sizeof(*f));
	struct store_opts	 o;
	char			 err[256], *cause = NULL, line[400];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test-admin-exec.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	snprintf(f->audit, sizeof(f->audit), "%s/audit.jsonl", f->dir);
	memset(&o, 0, sizeof(o));
	o.create = 1;
	snprintf(line, sizeof(line), "%s/db", f->dir);
	if (store_open(line, &o, &f->st, &cause) != STORE_OK ||
	    store_load(f->st) != STORE_OK) {
		fprintf(stderr, "store: %s\n", cause);
		return (-1);
	}
	admin_conf_defaults(&f->conf);
	admin_conf_set(&f->conf, "account", ACCT, err, sizeof(err));
	admin_conf_set(&f->conf, "audit_file", f->audit, err, sizeof(err));
	admin_conf_set(&f->conf, "day_seconds", "1", err, sizeof(err));
	admin_conf_set(&f->conf, "uid", "1000 acs:ram::" ACCT
	    ":user/for_test_policy", err, sizeof(err));
	admin_conf_set(&f->conf, "uid", "1001 acs:ram::" ACCT ":user/nobody",
	    err, sizeof(err));
	admin_conf_set(&f->conf, "gid", "2000 superuser", err, sizeof(err));
	admin_sign_keygen(f->pk, f->sk);
	snprintf(line, sizeof(line), "%s acs:ram::" ACCT
	    ":user/for_test_policy", f->pk);
	if (admin_conf_set(&f->conf, "key", line, err, sizeof(err)) != 0)
		return (-1);
	if ((f->ctx = admin_ctx_new(&f->conf, f->st, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "ctx: %s\n", err);
		return (-1);
	}
	*state = f;
	/* An instance and a key in it, a key outside. */
	if (strcmp(call(f, "{\"Action\":\"CreateInstance\",\"Parameters\":"
	    "{\"InstanceId\":\"kst-1\",\"ShareQuota\":\"1\"}}"), "OK") != 0 ||
	    strcmp(call(f, "{\"Action\":\"CreateKey\",\"Parameters\":"
	    "{\"DKMSInstanceId\":\"kst-1\",\"KeyId\":\"key-1\"}}"), "OK") != 0
	    || strcmp(call(f, "{\"Action\":\"CreateKey\",\"Parameters\":"
	    "{\"KeyId\":\"key-out\"}}"), "OK") != 0)
		return (-1);
	return (0);
}

static int
teardown(void **state)
{
	struct fix	*f = *state;
	char		 cmd[128];

	json_object_put(last);
	last = NULL;
	admin_ctx_free(f->ctx);
	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return (-1);
	free(f);
	return (0);
}

static const char default_policy[] = "{\"Version\":\"1\",\"Statement\":"
    "[{\"Sid\":\"kms default key policy\",\"Effect\":\"Allow\","
    "\"Principal\":{\"RAM\":[\"acs:ram::" ACCT ":*\"]},\"Action\":"
    "[\"kms:*\"],\"Resource\":[\"*\"]}]}";

static void
t_key_policy(void **state)
{
	struct fix	*f = *state;
	uint64_t	 g;

	/* A new key in an instance has the default key policy, exactly. */
	assert_string_equal(call(f, "{\"Action\":\"GetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_string_equal(field("Policy"), default_policy);
	/* Set, then get back byte for byte (spaces, key order kept). */
	g = store_generation(f->st);
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"acs:kms:cn-hangzhou:" ACCT
	    ":key/key-1\",\"PolicyName\":\"default\",\"Policy\":"
	    "\"{ \\\"Statement\\\": [{\\\"Effect\\\": \\\"Allow\\\", "
	    "\\\"Principal\\\": {\\\"RAM\\\": [\\\"acs:ram::" ACCT ":*\\\"]}, "
	    "\\\"Action\\\": [\\\"kms:*\\\"], \\\"Resource\\\": [\\\"*\\\"]}], "
	    "\\\"Version\\\": \\\"1\\\" }\"}}"), "OK");
	assert_int_equal(atoll(field("Generation")), g + 1);
	assert_int_equal(store_generation(f->st), g + 1);
	assert_string_equal(call(f, "{\"Action\":\"GetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"PolicyName\":"
	    "\"default\"}}"), "OK");
	assert_string_equal(field("Policy"), "{ \"Statement\": [{\"Effect\": "
	    "\"Allow\", \"Principal\": {\"RAM\": [\"acs:ram::" ACCT ":*\"]}, "
	    "\"Action\": [\"kms:*\"], \"Resource\": [\"*\"]}], \"Version\": "
	    "\"1\" }");
}

static void
t_errors(void **state)
{
	struct fix	*f = *state;
	char		*s, *big;
	size_t		 i;

	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "MissingParameter");
	assert_string_equal(field("HttpStatus"), "400");
	assert_string_equal(field("Detail"), "Policy");
	unchanged(f, s);

	s = snapshot(f);
	/* A missing Effect is InvalidParameter, with its path. */
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":\"{\\\"Version\\\":"
	    "\\\"1\\\",\\\"Statement\\\":[{\\\"Principal\\\":{\\\"RAM\\\":"
	    "\\\"*\\\"},\\\"Action\\\":\\\"kms:*\\\",\\\"Resource\\\":"
	    "\\\"*\\\"}]}\"}}"), "InvalidParameter");
	assert_non_null(strstr(field("Detail"), "Statement[0]"));
	unchanged(f, s);

	s = snapshot(f);
	big = malloc(40000);
	memset(big, ' ', 39999);
	big[39999] = '\0';
	memcpy(big, "{}", 2);
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":\"%s\"}}", big),
	    "InvalidParameter");
	free(big);
	unchanged(f, s);

	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-out\",\"Policy\":\"{}\"}}"),
	    "Forbidden.KeyPolicyUnSupported");
	assert_string_equal(call(f, "{\"Action\":\"GetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-out\"}}"),
	    "Forbidden.KeyPolicyUnSupported");
	unchanged(f, s);

	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-9\",\"Policy\":\"{}\"}}"),
	    "Forbidden.KeyNotFound");
	assert_string_equal(field("HttpStatus"), "404");
	/* An ARN of another account names no key. */
	assert_string_equal(call(f, "{\"Action\":\"GetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"acs:kms:cn-hangzhou:" FOREIGN
	    ":key/key-1\"}}"), "Forbidden.KeyNotFound");
	unchanged(f, s);

	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"PolicyName\":\"other\","
	    "\"Policy\":\"%s\"}}", "{}"), "Forbidden.ResourceNotFound");
	assert_string_equal(call(f, "{\"Action\":\"GetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"PolicyName\":\"x\"}}"),
	    "Forbidden.ResourceNotFound");
	assert_string_equal(field("HttpStatus"), "404");
	unchanged(f, s);

	/* Share quota 1: one foreign account fits, two do not. */
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":\"{\\\"Version\\\":"
	    "\\\"1\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\","
	    "\\\"Principal\\\":{\\\"RAM\\\":[\\\"acs:ram::" FOREIGN ":*\\\"]},"
	    "\\\"Action\\\":\\\"kms:*\\\",\\\"Resource\\\":\\\"*\\\"}]}\"}}"),
	    "OK");
	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":\"{\\\"Version\\\":"
	    "\\\"1\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\","
	    "\\\"Principal\\\":{\\\"RAM\\\":[\\\"acs:ram::" FOREIGN ":*\\\","
	    "\\\"acs:ram::777:*\\\"]},\\\"Action\\\":\\\"kms:*\\\","
	    "\\\"Resource\\\":\\\"*\\\"}]}\"}}"),
	    "Rejected.ShareQuotaExceedLimit");
	unchanged(f, s);

	/* A disabled instance refuses key changes. */
	assert_string_equal(call(f, "{\"Action\":\"UpdateInstanceState\","
	    "\"Parameters\":{\"InstanceId\":\"kst-1\",\"State\":\"Disabled\"}}"),
	    "OK");
	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":\"%s\"}}", "{}"),
	    "Forbidden.DKMSInstanceStateInvalid");
	assert_string_equal(field("HttpStatus"), "403");
	assert_string_equal(call(f, "{\"Action\":\"CreateKey\","
	    "\"Parameters\":{\"DKMSInstanceId\":\"kst-1\"}}"),
	    "Forbidden.DKMSInstanceStateInvalid");
	unchanged(f, s);

	/* Unknown callers and superuser-only calls. */
	s = snapshot(f);
	assert_string_equal(call_as(f, 999, "{\"Action\":\"Status\"}"),
	    "Forbidden.NoPermission");
	assert_string_equal(call_as(f, 1001, "{\"Action\":\"ImportBundle\","
	    "\"Parameters\":{\"Bundle\":\"{}\"}}"), "Forbidden.NoPermission");
	assert_string_equal(call_as(f, 1001, "{\"Action\":\"CreateUser\","
	    "\"Parameters\":{\"UserName\":\"x\"}}"), "Forbidden.NoPermission");
	unchanged(f, s);
	for (i = 0; i < 3; i++)
		assert_string_equal(call_as(f, 1001, "{\"Action\":\"Status\"}"),
		    "OK");
}

/* The SetKeyPolicy page's admin statement is a real grant. */
static void
t_policy_grant(void **state)
{
	struct fix	*f = *state;
	char		*s;
	const char	*pol = "{\\\"Statement\\\":[{\\\"Action\\\":"
	    "[\\\"kms:*\\\"],\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":"
	    "{\\\"RAM\\\":[\\\"acs:ram::" FOREIGN ":*\\\"]},\\\"Resource\\\":"
	    "[\\\"*\\\"],\\\"Sid\\\":\\\"kms default key policy\\\"},"
	    "{\\\"Action\\\":[\\\"kms:List*\\\",\\\"kms:Describe*\\\","
	    "\\\"kms:Create*\\\",\\\"kms:Enable*\\\",\\\"kms:Disable*\\\","
	    "\\\"kms:Get*\\\",\\\"kms:Set*\\\",\\\"kms:Update*\\\","
	    "\\\"kms:Delete*\\\",\\\"kms:Cancel*\\\",\\\"kms:TagResource\\\","
	    "\\\"kms:UntagResource\\\",\\\"kms:ImportKeyMaterial\\\","
	    "\\\"kms:ScheduleKeyDeletion\\\"],\\\"Effect\\\":\\\"Allow\\\","
	    "\\\"Principal\\\":{\\\"RAM\\\":[\\\"acs:ram::" ACCT
	    ":user/for_test_policy\\\"]},\\\"Resource\\\":[\\\"*\\\"]}],"
	    "\\\"Version\\\":\\\"1\\\"}";

	/* Before: the user has no grant on key-1 but the default policy
	 * allows its whole account; narrow it to a foreign account. */
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":\"{\\\"Version\\\":"
	    "\\\"1\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\","
	    "\\\"Principal\\\":{\\\"RAM\\\":[\\\"acs:ram::" FOREIGN ":*\\\"]},"
	    "\\\"Action\\\":\\\"kms:*\\\",\\\"Resource\\\":\\\"*\\\"}]}\"}}"),
	    "OK");
	s = snapshot(f);
	assert_string_equal(call_as(f, 1000, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":\"%s\"}}", pol),
	    "Forbidden.NoPermission");
	assert_string_equal(call_as(f, 1000, "{\"Action\":\"GetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "Forbidden.NoPermission");
	unchanged(f, s);
	/* The superuser sets the page's policy; now the user may. */
	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":\"%s\"}}", pol),
	    "OK");
	assert_string_equal(call_as(f, 1000, "{\"Action\":\"GetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_string_equal(call_as(f, 1000, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":\"%s\"}}", pol),
	    "OK");
	assert_string_equal(call_as(f, 1000, "{\"Action\":\"DisableKey\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	/* Another user of the same account is not in the statement. */
	assert_string_equal(call_as(f, 1001, "{\"Action\":\"EnableKey\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "Forbidden.NoPermission");
	/* The gid mapping makes a superuser. */
	assert_string_equal(call_as(f, 3000, "{\"Action\":\"Status\"}"),
	    "Forbidden.NoPermission");
	{
		struct admin_peer p = { 3000, 2000, 1 };
		const char *b = "{\"Action\":\"EnableKey\",\"Parameters\":"
		    "{\"KeyId\":\"key-1\"}}";

		json_object_put(last);
		last = admin_handle(f->ctx, &p, b, strlen(b), NULL, 0);
		assert_null(field("Code"));
	}
}

static void
t_signed(void **state)
{
	struct fix	*f = *state;
	unsigned char	 blk[ADMIN_SIG_BLOCK_LEN];
	const char	*b = "{\"Action\":\"GetKeyPolicy\",\"Parameters\":"
	    "{\"KeyId\":\"key-1\"}}";
	char		 pk[ADMIN_PK_B64_LEN + 1], sk[ADMIN_SK_B64_LEN + 1];
	struct admin_peer p = { 65534, 65534, 7 };	/* an unmapped peer */

	/* Good: acts as the key's principal (the default policy allows
	 * its account). */
	assert_int_equal(admin_sign_block(f->sk, time(NULL), b, strlen(b),
	    blk), 0);
	json_object_put(last);
	last = admin_handle(f->ctx, &p, b, strlen(b), blk, sizeof(blk));
	assert_null(field("Code"));
	assert_non_null(field("Policy"));
	/* Replayed. */
	json_object_put(last);
	last = admin_handle(f->ctx, &p, b, strlen(b), blk, sizeof(blk));
	assert_string_equal(field("Code"), "Forbidden.NoPermission");
	assert_non_null(strstr(field("Detail"), "replay"));
	/* Stale. */
	admin_sign_block(f->sk, time(NULL) - 400, b, strlen(b), blk);
	json_object_put(last);
	last = admin_handle(f->ctx, &p, b, strlen(b), blk, sizeof(blk));
	assert_non_null(strstr(field("Detail"), "window"));
	/* Tampered: another body under the signature. */
	admin_sign_block(f->sk, time(NULL), b, strlen(b), blk);
	json_object_put(last);
	last = admin_handle(f->ctx, &p, "{\"Action\":\"Status\"}", 19, blk,
	    sizeof(blk));
	assert_non_null(strstr(field("Detail"), "bad signature"));
	/* Unknown key. */
	admin_sign_keygen(pk, sk);
	admin_sign_block(sk, time(NULL), b, strlen(b), blk);
	json_object_put(last);
	last = admin_handle(f->ctx, &p, b, strlen(b), blk, sizeof(blk));
	assert_non_null(strstr(field("Detail"), "unknown key"));
}

static void
t_calls(void **state)
{
	struct fix		*f = *state;
	struct json_object	*v;

	/* KMS. */
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_true(json_object_object_get_ex(last, "KeyMetadata", &v));
	assert_string_equal(call(f, "{\"Action\":\"ListKeys\",\"Parameters\":"
	    "{\"PageSize\":\"1\"}}"), "OK");
	assert_string_equal(field("TotalCount"), "2");
	assert_string_equal(call(f, "{\"Action\":\"TagResource\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Tags\":\"[{\\\"TagKey\\\":"
	    "\\\"env\\\",\\\"TagValue\\\":\\\"prod\\\"},{\\\"TagKey\\\":"
	    "\\\"team\\\",\\\"TagValue\\\":\\\"a\\\"}]\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"ListResourceTags\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_non_null(strstr(json_object_to_json_string(last), "team"));
	assert_string_equal(call(f, "{\"Action\":\"UntagResource\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"TagKeys\":"
	    "\"[\\\"team\\\"]\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"ListResourceTags\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_null(strstr(json_object_to_json_string(last), "team"));
	assert_string_equal(call(f, "{\"Action\":\"CreateAlias\","
	    "\"Parameters\":{\"AliasName\":\"alias/a\",\"KeyId\":\"key-1\"}}"),
	    "OK");
	assert_string_equal(call(f, "{\"Action\":\"CreateAlias\","
	    "\"Parameters\":{\"AliasName\":\"alias/a\",\"KeyId\":\"key-1\"}}"),
	    "InvalidParameter");
	assert_string_equal(call(f, "{\"Action\":\"UpdateAlias\","
	    "\"Parameters\":{\"AliasName\":\"alias/a\",\"KeyId\":"
	    "\"key-out\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"ListAliases\"}"), "OK");
	assert_non_null(strstr(json_object_to_json_string(last), "key-out"));
	assert_string_equal(call(f, "{\"Action\":\"DeleteAlias\","
	    "\"Parameters\":{\"AliasName\":\"alias/a\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DeleteAlias\","
	    "\"Parameters\":{\"AliasName\":\"alias/a\"}}"),
	    "Forbidden.ResourceNotFound");
	assert_string_equal(call(f, "{\"Action\":\"DisableKey\","
	    "\"Parameters\":{\"KeyId\":\"key-out\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"EnableKey\","
	    "\"Parameters\":{\"KeyId\":\"key-out\"}}"), "OK");

	/* RAM. */
	assert_string_equal(call(f, "{\"Action\":\"CreateUser\","
	    "\"Parameters\":{\"UserName\":\"alice\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"CreateUser\","
	    "\"Parameters\":{\"UserName\":\"alice\"}}"), "InvalidParameter");
	assert_string_equal(call(f, "{\"Action\":\"CreateRole\","
	    "\"Parameters\":{\"RoleName\":\"r\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"CreateGroup\","
	    "\"Parameters\":{\"GroupName\":\"g\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"AddUserToGroup\","
	    "\"Parameters\":{\"UserName\":\"alice\",\"GroupName\":\"g\"}}"),
	    "OK");
	assert_string_equal(call(f, "{\"Action\":\"CreatePolicy\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"PolicyDocument\":"
	    "\"{\\\"Version\\\":\\\"1\\\",\\\"Statement\\\":[{\\\"Effect\\\":"
	    "\\\"Allow\\\",\\\"Action\\\":\\\"kms:*\\\",\\\"Resource\\\":"
	    "\\\"*\\\"}]}\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"CreatePolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"SetAsDefault\":\"true\","
	    "\"PolicyDocument\":\"{\\\"Version\\\":\\\"1\\\",\\\"Statement\\\":"
	    "[{\\\"Effect\\\":\\\"Deny\\\",\\\"Action\\\":\\\"kms:*\\\","
	    "\\\"Resource\\\":\\\"*\\\"}]}\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"GetPolicy\","
	    "\"Parameters\":{\"PolicyName\":\"p\"}}"), "OK");
	assert_non_null(strstr(json_object_to_json_string(last), "Deny"));
	assert_string_equal(call(f, "{\"Action\":\"SetDefaultPolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v1\"}}"),
	    "OK");
	assert_string_equal(call(f, "{\"Action\":\"DeletePolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v1\"}}"),
	    "InvalidParameter");		/* the default */
	assert_string_equal(call(f, "{\"Action\":\"DeletePolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v2\"}}"),
	    "OK");
	assert_string_equal(call(f, "{\"Action\":\"AttachPolicyToUser\","
	    "\"Parameters\":{\"PolicyType\":\"Custom\",\"PolicyName\":\"p\","
	    "\"UserName\":\"alice\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"AttachPolicyToRole\","
	    "\"Parameters\":{\"PolicyType\":\"Custom\",\"PolicyName\":\"p\","
	    "\"RoleName\":\"r\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"AttachPolicyToGroup\","
	    "\"Parameters\":{\"PolicyType\":\"Custom\",\"PolicyName\":\"p\","
	    "\"GroupName\":\"g\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"AttachPolicyToUser\","
	    "\"Parameters\":{\"PolicyType\":\"System\",\"PolicyName\":\"p\","
	    "\"UserName\":\"alice\"}}"), "Forbidden.ResourceNotFound");
	assert_string_equal(call(f, "{\"Action\":\"ListPolicies\"}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DetachPolicyFromUser\","
	    "\"Parameters\":{\"PolicyType\":\"Custom\",\"PolicyName\":\"p\","
	    "\"UserName\":\"alice\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DetachPolicyFromRole\","
	    "\"Parameters\":{\"PolicyType\":\"Custom\",\"PolicyName\":\"p\","
	    "\"RoleName\":\"r\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DetachPolicyFromGroup\","
	    "\"Parameters\":{\"PolicyType\":\"Custom\",\"PolicyName\":\"p\","
	    "\"GroupName\":\"g\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"RemoveUserFromGroup\","
	    "\"Parameters\":{\"UserName\":\"alice\",\"GroupName\":\"g\"}}"),
	    "OK");
	assert_string_equal(call(f, "{\"Action\":\"DeletePolicy\","
	    "\"Parameters\":{\"PolicyName\":\"p\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DeleteUser\","
	    "\"Parameters\":{\"UserName\":\"alice\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DeleteRole\","
	    "\"Parameters\":{\"RoleName\":\"r\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DeleteGroup\","
	    "\"Parameters\":{\"GroupName\":\"g\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DeleteUser\","
	    "\"Parameters\":{\"UserName\":\"alice\"}}"),
	    "Forbidden.ResourceNotFound");
}

/* The daemon restarts: the admin plane and the store closed and opened
 * again from the directory. */
static void
restart(struct fix *f)
{
	struct store_opts	 o;
	char			 err[256], path[128], *cause = NULL;

	admin_ctx_free(f->ctx);
	store_close(f->st);
	memset(&o, 0, sizeof(o));
	snprintf(path, sizeof(path), "%s/db", f->dir);
	if (store_open(path, &o, &f->st, &cause) != STORE_OK)
		fail_msg("reopen: %s", cause);
	assert_int_equal(store_load(f->st), STORE_OK);
	f->ctx = admin_ctx_new(&f->conf, f->st, err, sizeof(err));
	assert_non_null(f->ctx);
}

/* A member of the answer by a dotted path ("PolicyVersion.VersionId"). */
static struct json_object *
at(const char *path)
{
	struct json_object	*o = last;
	char			 buf[128], *p, *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; o != NULL && p != NULL; p = dot) {
		if ((dot = strchr(p, '.')) != NULL)
			*dot++ = '\0';
		if (!json_object_object_get_ex(o, p, &o))
			return (NULL);
	}
	return (o);
}

static const char *
at_str(const char *path)
{
	struct json_object	*o = at(path);

	return (o != NULL ? json_object_get_string(o) : NULL);
}

#define DOC(sid) "{\\\"Version\\\":\\\"1\\\",\\\"Statement\\\":[{" \
	"\\\"Sid\\\":\\\"" sid "\\\",\\\"Effect\\\":\\\"Allow\\\"," \
	"\\\"Action\\\":\\\"kms:*\\\",\\\"Resource\\\":\\\"*\\\"}]}"
#define DOC_TEXT(sid) "{\"Version\":\"1\",\"Statement\":[{\"Sid\":\"" sid \
	"\",\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"

/* "v1 v3*": the versions ListPolicyVersions answers, the default
 * starred; each has a CreateDate and its document as stored. */
static void
list_is(struct fix *f, const char *want)
{
	struct json_object	*arr, *e, *x;
	char			 got[128] = "", one[32];
	size_t			 i;

	assert_string_equal(call(f, "{\"Action\":\"ListPolicyVersions\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"PolicyType\":"
	    "\"Custom\"}}"), "OK");
	assert_non_null(arr = at("PolicyVersions.PolicyVersion"));
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		assert_true(json_object_object_get_ex(e, "IsDefaultVersion",
		    &x));
		assert_true(json_object_is_type(x, json_type_boolean));
		snprintf(one, sizeof(one), "%s%s%s", i ? " " : "",
		    json_object_get_string(json_object_object_get(e,
		    "VersionId")), json_object_get_boolean(x) ? "*" : "");
		strcat(got, one);
		assert_true(json_object_object_get_ex(e, "CreateDate", &x));
		assert_int_equal(json_object_get_string_len(x), 20);
		assert_true(json_object_object_get_ex(e, "PolicyDocument", &x));
	}
	assert_string_equal(got, want);
}

static void
t_policy_versions(void **state)
{
	struct fix	*f = *state;
	char		*s;

	assert_string_equal(call(f, "{\"Action\":\"CreatePolicy\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"PolicyDocument\":"
	    "\"" DOC("one") "\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"CreatePolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"PolicyDocument\":"
	    "\"" DOC("two") "\"}}"), "OK");
	/* CreatePolicyVersion answers the version as RAM does. */
	assert_string_equal(at_str("PolicyVersion.VersionId"), "v2");
	assert_string_equal(at_str("PolicyVersion.IsDefaultVersion"),
	    "false");
	assert_string_equal(at_str("PolicyVersion.PolicyDocument"),
	    DOC_TEXT("two"));
	assert_non_null(at_str("PolicyVersion.CreateDate"));
	assert_string_equal(call(f, "{\"Action\":\"CreatePolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"SetAsDefault\":true,"
	    "\"PolicyDocument\":\"" DOC("three") "\"}}"), "OK");
	assert_string_equal(at_str("PolicyVersion.IsDefaultVersion"), "true");
	list_is(f, "v1 v2 v3*");

	/* GetPolicy: the policy and its default version. */
	assert_string_equal(call(f, "{\"Action\":\"GetPolicy\","
	    "\"Parameters\":{\"PolicyName\":\"p\"}}"), "OK");
	assert_string_equal(at_str("Policy.PolicyName"), "p");
	assert_string_equal(at_str("Policy.DefaultVersion"), "v3");
	assert_string_equal(at_str("DefaultPolicyVersion.VersionId"), "v3");
	assert_string_equal(at_str("DefaultPolicyVersion.PolicyDocument"),
	    DOC_TEXT("three"));
	assert_string_equal(at_str("DefaultPolicyVersion.IsDefaultVersion"),
	    "true");
	/* GetPolicyVersion: any version, as stored. */
	assert_string_equal(call(f, "{\"Action\":\"GetPolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v1\"}}"),
	    "OK");
	assert_string_equal(at_str("PolicyVersion.VersionId"), "v1");
	assert_string_equal(at_str("PolicyVersion.IsDefaultVersion"),
	    "false");
	assert_string_equal(at_str("PolicyVersion.PolicyDocument"),
	    DOC_TEXT("one"));

	/* After SetDefaultPolicyVersion and DeletePolicyVersion. */
	assert_string_equal(call(f, "{\"Action\":\"SetDefaultPolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v2\"}}"),
	    "OK");
	list_is(f, "v1 v2* v3");
	assert_string_equal(call(f, "{\"Action\":\"GetPolicy\","
	    "\"Parameters\":{\"PolicyName\":\"p\"}}"), "OK");
	assert_string_equal(at_str("DefaultPolicyVersion.PolicyDocument"),
	    DOC_TEXT("two"));
	assert_string_equal(call(f, "{\"Action\":\"DeletePolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v1\"}}"),
	    "OK");
	list_is(f, "v2* v3");

	/* Errors: each names what is missing, and changes nothing. */
	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"GetPolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v1\"}}"),
	    "Forbidden.ResourceNotFound");
	assert_non_null(strstr(field("Detail"), "no version v1"));
	assert_string_equal(call(f, "{\"Action\":\"GetPolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\"}}"), "MissingParameter");
	assert_string_equal(call(f, "{\"Action\":\"GetPolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v0\"}}"),
	    "InvalidParameter");
	assert_string_equal(call(f, "{\"Action\":\"GetPolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v2\","
	    "\"PolicyType\":\"System\"}}"), "Forbidden.ResourceNotFound");
	assert_string_equal(call(f, "{\"Action\":\"ListPolicyVersions\","
	    "\"Parameters\":{\"PolicyName\":\"nope\"}}"),
	    "Forbidden.ResourceNotFound");
	assert_non_null(strstr(field("Detail"), "no such policy: nope"));
	assert_string_equal(call(f, "{\"Action\":\"GetPolicy\","
	    "\"Parameters\":{\"PolicyName\":\"nope\"}}"),
	    "Forbidden.ResourceNotFound");
	/* A principal without ram:GetPolicyVersion on the policy. */
	assert_string_equal(call_as(f, 1001, "{\"Action\":\"GetPolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v2\"}}"),
	    "Forbidden.NoPermission");
	unchanged(f, s);

	/* After a restart, every version as it was. */
	restart(f);
	list_is(f, "v2* v3");
	assert_string_equal(call(f, "{\"Action\":\"GetPolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"p\",\"VersionId\":\"v3\"}}"),
	    "OK");
	assert_string_equal(at_str("PolicyVersion.PolicyDocument"),
	    DOC_TEXT("three"));
}

/* Tags of one call are one store change: one generation, all or none. */
static void
t_tags_atomic(void **state)
{
	struct fix	*f = *state;
	uint64_t	 g;
	char		*s, tags[4096];
	size_t		 i, off;

	g = store_generation(f->st);
	assert_string_equal(call(f, "{\"Action\":\"TagResource\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Tags\":[{\"TagKey\":"
	    "\"a\",\"TagValue\":\"1\"},{\"TagKey\":\"b\",\"TagValue\":"
	    "\"2\"},{\"TagKey\":\"c\",\"TagValue\":\"3\"}]}}"), "OK");
	assert_true(store_generation(f->st) == g + 1);
	assert_true(strtoull(field("Generation"), NULL, 10) == g + 1);
	/* 3 + 18 new ones would be 21 tags: refused whole. */
	off = (size_t)snprintf(tags, sizeof(tags), "[");
	for (i = 0; i < 18; i++)
		off += (size_t)snprintf(tags + off, sizeof(tags) - off,
		    "%s{\"TagKey\":\"n%02zu\",\"TagValue\":\"v\"}",
		    i ? "," : "", i);
	snprintf(tags + off, sizeof(tags) - off, "]");
	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"TagResource\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Tags\":%s}}", tags),
	    "InvalidParameter");
	assert_non_null(strstr(field("Detail"), "would have 21 tags"));
	unchanged(f, s);
	/* Untag two, one of them absent: one change. */
	g = store_generation(f->st);
	assert_string_equal(call(f, "{\"Action\":\"UntagResource\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"TagKeys\":"
	    "[\"a\",\"zz\",\"c\"]}}"), "OK");
	assert_true(store_generation(f->st) == g + 1);
	assert_string_equal(call(f, "{\"Action\":\"ListResourceTags\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_int_equal(json_object_array_length(at("Tags.Tag")), 1);
	/* In a Disabled instance the whole call is refused. */
	assert_string_equal(call(f, "{\"Action\":\"UpdateInstanceState\","
	    "\"Parameters\":{\"InstanceId\":\"kst-1\",\"State\":"
	    "\"Disabled\"}}"), "OK");
	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"UntagResource\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"TagKeys\":"
	    "[\"b\",\"x\"]}}"), "Forbidden.DKMSInstanceStateInvalid");
	unchanged(f, s);
}

/*
 * Scheduled deletions live in the store: after a restart the key is
 * still PendingDeletion with its DeleteDate, a window that passed while
 * the daemon was down is run at the first tick, a cancel survives too,
 * and the key goes with its aliases in one change.  day_seconds = 1 and
 * admin_tick's clock argument make the window seconds long.
 */
static void
t_deletion_persists(void **state)
{
	struct fix	*f = *state;
	int64_t		 now = time(NULL), after;
	uint64_t	 g;
	char		 date[32];

	assert_string_equal(call(f, "{\"Action\":\"CreateAlias\","
	    "\"Parameters\":{\"AliasName\":\"alias/x\",\"KeyId\":"
	    "\"key-out\"}}"), "OK");
	/* The range stays 7-366 whatever the length of a day. */
	assert_string_equal(call(f, "{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"key-out\",\"PendingWindowInDays\":"
	    "6}}"), "InvalidParameter");
	assert_string_equal(call(f, "{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"key-out\",\"PendingWindowInDays\":"
	    "367}}"), "InvalidParameter");
	now = time(NULL);
	assert_string_equal(call(f, "{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"key-out\",\"PendingWindowInDays\":"
	    "7}}"), "OK");
	after = time(NULL);
	assert_string_equal(call(f, "{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"PendingWindowInDays\":"
	    "30}}"), "OK");
	restart(f);
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-out\"}}"), "OK");
	assert_string_equal(at_str("KeyMetadata.KeyState"), "PendingDeletion");
	/* DeleteDate: now + 7 "days" of one second, ISO 8601 UTC. */
	assert_non_null(at_str("KeyMetadata.DeleteDate"));
	assert_int_equal(strlen(at_str("KeyMetadata.DeleteDate")), 20);
	{
		/* Between the second before the call and the one after:
		 * a loaded machine may cross a second (or a minute). */
		struct tm	tm;
		time_t		t;

		memset(&tm, 0, sizeof(tm));
		snprintf(date, sizeof(date), "%s",
		    at_str("KeyMetadata.DeleteDate"));
		assert_non_null(strptime(date, "%Y-%m-%dT%H:%M:%SZ", &tm));
		t = timegm(&tm);
		assert_true(t >= now + 7 && t <= after + 7);
	}
	assert_true(admin_next_deletion(f->ctx, now) <= 7);
	assert_int_equal(admin_tick(f->ctx, now), 0);
	/* Cancel key-1 after the restart; it stays cancelled after another. */
	assert_string_equal(call(f, "{\"Action\":\"CancelKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	restart(f);
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_string_equal(at_str("KeyMetadata.KeyState"), "Enabled");
	assert_null(at_str("KeyMetadata.DeleteDate"));
	/* The window passed while "down": the first tick deletes the key
	 * and its alias, in one change. */
	g = store_generation(f->st);
	assert_int_equal(admin_tick(f->ctx, now + 8), 1);
	assert_true(store_generation(f->st) == g + 1);
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-out\"}}"),
	    "Forbidden.KeyNotFound");
	assert_string_equal(call(f, "{\"Action\":\"ListAliases\"}"), "OK");
	assert_null(strstr(json_object_to_json_string(last), "alias/x"));
	assert_int_equal(admin_tick(f->ctx, now + 1000), 0);
	assert_int_equal(admin_next_deletion(f->ctx, now), -1);
	assert_int_equal(store_check(f->st), STORE_OK);
	/* The audit names the deletion. */
	{
		FILE	*fp = fopen(f->audit, "r");
		char	 line[2048];
		int	 seen = 0;

		assert_non_null(fp);
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strstr(line, "\"DeleteKey\"") != NULL &&
			    strstr(line, "\"Result\":\"ok\"") != NULL)
				seen++;
		fclose(fp);
		assert_int_equal(seen, 1);
	}
}

/* A deletion waits while the key's instance is Disabled. */
static void
t_deletion_instance_disabled(void **state)
{
	struct fix	*f = *state;
	int64_t		 now = time(NULL);

	assert_string_equal(call(f, "{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"PendingWindowInDays\":"
	    "7}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"UpdateInstanceState\","
	    "\"Parameters\":{\"InstanceId\":\"kst-1\",\"State\":"
	    "\"Disabled\"}}"), "OK");
	assert_int_equal(admin_tick(f->ctx, now + 8), 0);
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"UpdateInstanceState\","
	    "\"Parameters\":{\"InstanceId\":\"kst-1\",\"State\":"
	    "\"Enabled\"}}"), "OK");
	/* Retried a minute later. */
	assert_int_equal(admin_tick(f->ctx, now + 9), 0);
	assert_int_equal(admin_tick(f->ctx, now + 8 + 60), 1);
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"),
	    "Forbidden.KeyNotFound");
}

static void
t_bundle_and_deletion(void **state)
{
	struct fix	*f = *state;
	char		*s, *bundle, *esc, *p, *q;

	/* Export, change, import the export back: the old state again. */
	assert_string_equal(call(f, "{\"Action\":\"ExportBundle\"}"), "OK");
	bundle = strdup(field("Bundle"));
	assert_string_equal(call(f, "{\"Action\":\"CreateUser\","
	    "\"Parameters\":{\"UserName\":\"temp\"}}"), "OK");
	esc = malloc(strlen(bundle) * 2 + 1);
	for (p = bundle, q = esc; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			*q++ = '\\';
		if (*p == '\n') {
			*q++ = '\\';
			*q++ = 'n';
			continue;
		}
		*q++ = *p;
	}
	*q = '\0';
	assert_string_equal(call(f, "{\"Action\":\"ImportBundle\","
	    "\"Parameters\":{\"Bundle\":\"%s\"}}", esc), "OK");
	assert_string_equal(call(f, "{\"Action\":\"ExportBundle\"}"), "OK");
	assert_string_equal(field("Bundle"), bundle);
	/* An invalid bundle changes nothing (all or nothing). */
	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"ImportBundle\","
	    "\"Parameters\":{\"Bundle\":\"{\\\"Keys\\\":5}\"}}"),
	    "InvalidParameter");
	unchanged(f, s);
	free(esc);
	free(bundle);

	/* Deletion after the window (day_seconds = 1). */
	assert_string_equal(call(f, "{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"key-out\",\"PendingWindowInDays\":"
	    "\"7\"}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-out\"}}"), "OK");
	assert_non_null(strstr(json_object_to_json_string(last),
	    "PendingDeletion"));
	assert_string_equal(call(f, "{\"Action\":\"EnableKey\","
	    "\"Parameters\":{\"KeyId\":\"key-out\"}}"), "InvalidParameter");
	assert_int_equal(admin_tick(f->ctx, time(NULL)), 0);
	assert_true(admin_next_deletion(f->ctx, time(NULL)) <= 7);
	assert_int_equal(admin_tick(f->ctx, time(NULL) + 8), 1);
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-out\"}}"),
	    "Forbidden.KeyNotFound");
	/* Cancelled deletions do not happen. */
	assert_string_equal(call(f, "{\"Action\":\"ScheduleKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"PendingWindowInDays\":"
	    "7}}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"CancelKeyDeletion\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_int_equal(admin_tick(f->ctx, time(NULL) + 100), 0);
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_non_null(strstr(json_object_to_json_string(last),
	    "\"Enabled\""));
}

static void
t_audit(void **state)
{
	struct fix		*f = *state;
	struct admin_conf	 c;
	struct admin_ctx	*ok_ctx;
	FILE			*fp;
	char			 line[8192], rid[64], err[256], *s;
	int			 intent = 0, outcome = 0;

	assert_string_equal(call(f, "{\"Action\":\"CreateUser\","
	    "\"Parameters\":{\"UserName\":\"audited\"}}"), "OK");
	snprintf(rid, sizeof(rid), "%s", field("RequestId"));
	assert_non_null(fp = fopen(f->audit, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, rid) == NULL)
			continue;
		if (strstr(line, "\"Record\":\"intent\"") != NULL) {
			assert_int_equal(outcome, 0);	/* intent first */
			assert_non_null(strstr(line, "\"Pid\":4242"));
			intent++;
		}
		if (strstr(line, "\"Record\":\"outcome\"") != NULL) {
			assert_non_null(strstr(line, "\"Generation\""));
			outcome++;
		}
	}
	fclose(fp);
	assert_int_equal(intent, 1);
	assert_int_equal(outcome, 1);

	/* Fail closed: an audit file that cannot be written. */
	c = f->conf;
	admin_conf_set(&c, "audit_file", "/dev/full", err, sizeof(err));
	ok_ctx = f->ctx;
	assert_non_null(f->ctx = admin_ctx_new(&c, f->st, err, sizeof(err)));
	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"CreateUser\","
	    "\"Parameters\":{\"UserName\":\"unaudited\"}}"), "InternalFailure");
	assert_non_null(strstr(field("Detail"), "audit"));
	assert_string_equal(field("HttpStatus"), "500");
	unchanged(f, s);
	/* Reads still work. */
	assert_string_equal(call(f, "{\"Action\":\"Status\"}"), "OK");
	admin_ctx_free(f->ctx);

	/*
	 * An audit file that cannot be opened (its directory missing): the
	 * plane starts, every change is ServiceUnavailable naming the file,
	 * reads work, nothing changes; once it can be opened, the reopen
	 * (SIGHUP) makes changes work again.
	 */
	snprintf(line, sizeof(line), "%s/later/audit.jsonl", f->dir);
	admin_conf_set(&c, "audit_file", line, err, sizeof(err));
	assert_non_null(f->ctx = admin_ctx_new(&c, f->st, err, sizeof(err)));
	assert_int_equal(admin_ctx_unavailable(f->ctx, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "No such file or directory"));
	s = snapshot(f);
	assert_string_equal(call(f, "{\"Action\":\"CreateUser\","
	    "\"Parameters\":{\"UserName\":\"unaudited\"}}"),
	    "ServiceUnavailable");
	assert_non_null(strstr(field("Detail"), line));
	assert_string_equal(field("HttpStatus"), "503");
	unchanged(f, s);
	assert_string_equal(call(f, "{\"Action\":\"ListPolicies\"}"), "OK");
	assert_int_equal(admin_ctx_reopen(f->ctx), -1);
	snprintf(line, sizeof(line), "%s/later", f->dir);
	assert_int_equal(mkdir(line, 0700), 0);
	assert_int_equal(admin_ctx_reopen(f->ctx), 0);
	assert_int_equal(admin_ctx_unavailable(f->ctx, err, sizeof(err)), 0);
	assert_string_equal(call(f, "{\"Action\":\"CreateUser\","
	    "\"Parameters\":{\"UserName\":\"audited2\"}}"), "OK");
	admin_ctx_free(f->ctx);
	f->ctx = ok_ctx;
	assert_int_equal(admin_ctx_reopen(f->ctx), 0);
}

/* A store at its map ceiling: InternalFailure, and it keeps serving. */
static void
t_storage_full(void **state)
{
	struct fix		*f = *state;
	struct store		*small;
	struct store_opts	 o;
	struct admin_ctx	*keep;
	char			 dir[128], err[256], *cause = NULL, *s;
	int			 i;
	const char		*code = "OK";

	memset(&o, 0, sizeof(o));
	o.create = 1;
	o.map_size = 64 * 1024;
	o.map_max = 128 * 1024;
	snprintf(dir, sizeof(dir), "%s/small", f->dir);
	assert_int_equal(store_open(dir, &o, &small, &cause), STORE_OK);
	assert_int_equal(store_load(small), STORE_OK);
	keep = f->ctx;
	assert_non_null(f->ctx = admin_ctx_new(&f->conf, small, err,
	    sizeof(err)));
	assert_string_equal(call(f, "{\"Action\":\"CreateInstance\","
	    "\"Parameters\":{\"InstanceId\":\"kst-s\"}}"), "OK");
	for (i = 0; i < 5000 && strcmp(code, "OK") == 0; i++)
		code = call(f, "{\"Action\":\"CreateKey\",\"Parameters\":"
		    "{\"DKMSInstanceId\":\"kst-s\",\"KeyId\":\"key-%06d-%s\"}}",
		    i, "padding-padding-padding-padding-padding-padding-"
		    "padding-padding-padding");
	assert_string_equal(code, "InternalFailure");
	assert_string_equal(field("HttpStatus"), "500");
	/* Still serving: reads answer, the failed change left nothing. */
	assert_string_equal(call(f, "{\"Action\":\"Status\"}"), "OK");
	assert_string_equal(call(f, "{\"Action\":\"DescribeKey\","
	    "\"Parameters\":{\"KeyId\":\"key-%06d-%s\"}}", i - 1,
	    "padding-padding-padding-padding-padding-padding-padding-padding-"
	    "padding"), "Forbidden.KeyNotFound");
	s = snapshot(f);
	free(s);
	admin_ctx_free(f->ctx);
	f->ctx = keep;
	store_close(small);
}

/*
 * A policy the cloud would accept but that is probably wrong is stored,
 * and the answer carries the lint's Warnings (a clean one has none).
 */
static void
t_warnings(void **state)
{
	struct fix		*f = *state;
	struct json_object	*w;

	assert_string_equal(call(f, "{\"Action\":\"SetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\",\"Policy\":"
	    "\"{\\\"Version\\\":\\\"1\\\",\\\"Statement\\\":[{"
	    "\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":"
	    "{\\\"RAM\\\":[\\\"acs:ram::" ACCT ":*\\\"]},"
	    "\\\"Action\\\":[\\\"kms:Decrpyt\\\"],"
	    "\\\"Resource\\\":[\\\"*\\\"]}]}\"}}"), "OK");
	assert_non_null(w = at("Warnings"));
	assert_int_equal(json_object_array_length(w), 1);
	json_object_object_get_ex(json_object_array_get_idx(w, 0), "Warning", &w);
	assert_string_equal(json_object_get_string(w), "UnknownAction");
	assert_string_equal(call(f, "{\"Action\":\"GetKeyPolicy\","
	    "\"Parameters\":{\"KeyId\":\"key-1\"}}"), "OK");
	assert_non_null(strstr(field("Policy"), "kms:Decrpyt"));
	/* A RAM policy and a version of it. */
	assert_string_equal(call(f, "{\"Action\":\"CreatePolicy\","
	    "\"Parameters\":{\"PolicyName\":\"lint\",\"PolicyDocument\":"
	    "\"{\\\"Version\\\":\\\"1\\\",\\\"Statement\\\":[{"
	    "\\\"Effect\\\":\\\"Allow\\\",\\\"NotAction\\\":"
	    "\\\"*\\\",\\\"Resource\\\":\\\"*\\\"}]}\"}}"), "OK");
	assert_non_null(w = at("Warnings"));
	json_object_object_get_ex(json_object_array_get_idx(w, 0), "Warning", &w);
	assert_string_equal(json_object_get_string(w), "NeverMatches");
	assert_string_equal(call(f, "{\"Action\":\"CreatePolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"lint\",\"PolicyDocument\":"
	    "\"" DOC("clean") "\"}}"), "OK");
	assert_null(at("Warnings"));
	assert_string_equal(call(f, "{\"Action\":\"CreatePolicyVersion\","
	    "\"Parameters\":{\"PolicyName\":\"lint\",\"PolicyDocument\":"
	    "\"{\\\"Version\\\":\\\"1\\\",\\\"Statement\\\":[{"
	    "\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":"
	    "\\\"kms:Encrpyt\\\",\\\"Resource\\\":\\\"*\\\"}]}\"}}"),
	    "OK");
	assert_non_null(at("Warnings"));
	assert_string_equal(at_str("PolicyVersion.VersionId"), "v3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_key_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(t_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(t_policy_grant, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_signed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(t_policy_versions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_tags_atomic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_deletion_persists, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_deletion_instance_disabled,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_bundle_and_deletion, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(t_storage_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_warnings, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

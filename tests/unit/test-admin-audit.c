/* SPDX-License-Identifier: ISC */
/*
 * test-admin-audit: the audit trail: intent then outcome as JSON lines,
 * appended; reopen after rotation; failure to write is reported (so the
 * caller refuses the change).
 */
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "admin/admin.h"
#include "admin/audit.h"
#include "common/log.h"

static char	dir[] = "/tmp/test-admin-audit.XXXXXX";
static char	path[256], rotated[256];

static struct json_object *
line(const char *file, int n)
{
	FILE		*f = fopen(file, "r");
	char		 buf[8192];
	int		 i;

	assert_non_null(f);
	for (i = 0; i <= n; i++)
		if (fgets(buf, sizeof(buf), f) == NULL) {
			fclose(f);
			return (NULL);
		}
	fclose(f);
	return (json_tokener_parse(buf));
}

static const char *
field(struct json_object *o, const char *k)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, k, &v))
		return (NULL);
	return (json_object_get_string(v));
}

static void
t_intent_outcome(void **state)
{
	struct audit		*a;
	struct admin_caller	 c;
	struct json_object	*p, *o, *who;
	struct stat		 st;

	memset(&c, 0, sizeof(c));
	c.uid = 1000;
	c.gid = 1000;
	c.pid = 42;
	c.pubkey[0] = '\0';
	admin_caller_set_principal(&c, "acs:ram::1234:user/alice");
	assert_non_null(a = audit_open(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	p = json_object_new_object();
	json_object_object_add(p, "KeyId", json_object_new_string("key-1"));
	assert_int_equal(audit_intent(a, &c, "SetKeyPolicy", "RID-1", p), 0);
	json_object_put(p);
	assert_int_equal(audit_outcome(a, "SetKeyPolicy", "RID-1", NULL, NULL,
	    7, "sha256:ab"), 0);
	assert_int_equal(audit_outcome(a, "SetKeyPolicy", "RID-2",
	    "InvalidParameter", "Policy: bad", 0, NULL), 0);

	o = line(path, 0);
	assert_string_equal(field(o, "Record"), "intent");
	assert_string_equal(field(o, "RequestId"), "RID-1");
	assert_string_equal(field(o, "Action"), "SetKeyPolicy");
	assert_true(json_object_object_get_ex(o, "Caller", &who));
	assert_string_equal(field(who, "Principal"),
	    "acs:ram::1234:user/alice");
	assert_string_equal(field(who, "Uid"), "1000");
	assert_string_equal(field(who, "Pid"), "42");
	assert_non_null(field(o, "Time"));
	json_object_put(o);
	o = line(path, 1);
	assert_string_equal(field(o, "Record"), "outcome");
	assert_string_equal(field(o, "Result"), "ok");
	assert_string_equal(field(o, "Generation"), "7");
	assert_string_equal(field(o, "PolicyDigest"), "sha256:ab");
	json_object_put(o);
	o = line(path, 2);
	assert_string_equal(field(o, "Result"), "error");
	assert_string_equal(field(o, "Code"), "InvalidParameter");
	json_object_put(o);
	assert_null(line(path, 3));

	/* Rotation: rename, reopen, the next record goes to a new file. */
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(audit_reopen(a), 0);
	c.superuser = 1;
	c.pubkey[0] = 'K';
	c.pubkey[1] = '\0';
	assert_int_equal(audit_intent(a, &c, "CreateKey", "RID-3", NULL), 0);
	o = line(path, 0);
	assert_string_equal(field(o, "RequestId"), "RID-3");
	assert_true(json_object_object_get_ex(o, "Caller", &who));
	assert_string_equal(field(who, "Principal"), "superuser");
	assert_string_equal(field(who, "PublicKey"), "K");
	json_object_put(o);
	assert_null(line(rotated, 3));
	audit_close(a);
	unlink(path);
	unlink(rotated);
}

static void
t_fail_closed(void **state)
{
	struct audit		*a;
	struct admin_caller	 c;
	char			 sub[300];

	memset(&c, 0, sizeof(c));
	c.superuser = 1;
	c.uid = c.gid = c.pid = -1;
	/* A file that cannot be written: /dev/full fails every write. */
	a = audit_open("/dev/full");
	if (a != NULL) {
		assert_int_equal(audit_intent(a, &c, "CreateKey", "R", NULL),
		    -1);
		audit_close(a);
	}
	/* A directory that is gone: reopen fails, the old file stays. */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/sub/audit.log", dir);
	assert_non_null(a = audit_open(sub));
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(audit_reopen(a), -1);
	assert_int_equal(audit_error(a), 0);	/* the old one in use */
	audit_close(a);
	/* Not opened yet: every write fails, until a reopen succeeds. */
	snprintf(sub, sizeof(sub), "%s/later/audit.log", dir);
	assert_non_null(a = audit_open_later(sub, ENOENT));
	assert_int_equal(audit_error(a), ENOENT);
	assert_string_equal(audit_path(a), sub);
	assert_int_equal(audit_intent(a, &c, "CreateKey", "R", NULL), -1);
	assert_int_equal(audit_reopen(a), -1);
	assert_int_equal(audit_error(a), ENOENT);
	snprintf(sub, sizeof(sub), "%s/later", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(audit_reopen(a), 0);
	assert_int_equal(audit_error(a), 0);
	assert_int_equal(audit_intent(a, &c, "CreateKey", "R", NULL), 0);
	audit_close(a);
	snprintf(sub, sizeof(sub), "%s/later/audit.log", dir);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/later", dir);
	rmdir(sub);
	/* Cannot open: NULL. */
	assert_null(audit_open("/nonexistent-dir/audit.log"));
	/* No file configured: records only go to the log. */
	assert_non_null(a = audit_open(NULL));
	assert_int_equal(audit_intent(a, &c, "CreateKey", "R", NULL), 0);
	assert_int_equal(audit_reopen(a), 0);
	audit_close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_intent_outcome),
		cmocka_unit_test(t_fail_closed),
	};
	int	r;

	log_init("test-admin-audit", 0, 0);
	if (mkdtemp(dir) == NULL)
		return (1);
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	snprintf(rotated, sizeof(rotated), "%s/audit.log.1", dir);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return (r);
}

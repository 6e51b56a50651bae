/* SPDX-License-Identifier: ISC */
/*
 * test-admin-conf: the admin configuration: every setting, its bounds,
 * the uid/gid/key mappings and the file reader's errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin/admin-exec.h"
#include "admin/admin.h"

static void
t_set(void **state)
{
	struct admin_conf	c;
	char			err[256];
	char			pk[ADMIN_PK_B64_LEN + 1], sk[ADMIN_SK_B64_LEN + 1];
	char			v[400];

	admin_conf_defaults(&c);
	assert_int_equal(c.root_superuser, 1);
	assert_int_equal(c.day_seconds, 86400);
	assert_int_equal(admin_conf_set(&c, "region", "cn-shanghai", err,
	    sizeof(err)), 0);
	assert_string_equal(c.region, "cn-shanghai");
	assert_int_equal(admin_conf_set(&c, "region", "CN", err,
	    sizeof(err)), -1);
	assert_int_equal(admin_conf_set(&c, "account", "123", err,
	    sizeof(err)), 0);
	assert_int_equal(admin_conf_set(&c, "account", "12a", err,
	    sizeof(err)), -1);
	assert_int_equal(admin_conf_set(&c, "audit_file", "/tmp/a", err,
	    sizeof(err)), 0);
	assert_int_equal(admin_conf_set(&c, "audit_file", "rel", err,
	    sizeof(err)), -1);
	assert_int_equal(admin_conf_set(&c, "replay_cache", "7", err,
	    sizeof(err)), -1);
	assert_int_equal(admin_conf_set(&c, "replay_cache", "1024", err,
	    sizeof(err)), 0);
	assert_int_equal(admin_conf_set(&c, "day_seconds", "0", err,
	    sizeof(err)), -1);
	assert_int_equal(admin_conf_set(&c, "day_seconds", "1", err,
	    sizeof(err)), 0);
	assert_int_equal(admin_conf_set(&c, "root_superuser", "no", err,
	    sizeof(err)), 0);
	assert_int_equal(c.root_superuser, 0);
	assert_int_equal(admin_conf_set(&c, "root_superuser", "maybe", err,
	    sizeof(err)), -1);
	assert_int_equal(admin_conf_set(&c, "nope", "1", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "unknown setting"));

	assert_int_equal(admin_conf_set(&c, "uid", "1000 "
	    "acs:ram::1234:user/alice", err, sizeof(err)), 0);
	assert_int_equal(admin_conf_set(&c, "uid", "1000 superuser", err,
	    sizeof(err)), -1);		/* mapped twice */
	assert_int_equal(admin_conf_set(&c, "gid", "1000 superuser", err,
	    sizeof(err)), 0);		/* a gid is another space */
	assert_int_equal(admin_conf_set(&c, "uid", "x superuser", err,
	    sizeof(err)), -1);
	assert_int_equal(admin_conf_set(&c, "uid", "5 acs:ram::1:group/g",
	    err, sizeof(err)), -1);
	assert_int_equal(admin_conf_set(&c, "uid", "5", err, sizeof(err)),
	    -1);
	assert_int_equal(c.npeers, 2);
	assert_int_equal(c.peers[0].id, 1000);
	assert_int_equal(c.peers[1].is_gid, 1);

	assert_int_equal(admin_sign_keygen(pk, sk), 0);
	snprintf(v, sizeof(v), "%s acs:ram::1234:user/bob", pk);
	assert_int_equal(admin_conf_set(&c, "key", v, err, sizeof(err)), 0);
	assert_int_equal(admin_conf_set(&c, "key", v, err, sizeof(err)), -1);
	assert_int_equal(admin_conf_set(&c, "key", "short superuser", err,
	    sizeof(err)), -1);
	assert_int_equal(c.nkeys, 1);
	assert_string_equal(c.key_principal[0], "acs:ram::1234:user/bob");
}

static void
t_load(void **state)
{
	struct admin_conf	 c;
	char			 path[] = "/tmp/test-admin-conf.XXXXXX";
	char			 err[256];
	FILE			*f;
	int			 fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "# comment\n\n  region = us-east-1  \naccount=42\n"
	    "uid = 0 acs:ram::42:root\n");
	fclose(f);
	admin_conf_defaults(&c);
	assert_int_equal(admin_conf_load(&c, path, 0, err, sizeof(err)), 0);
	assert_string_equal(c.region, "us-east-1");
	assert_string_equal(c.account, "42");
	assert_int_equal(c.npeers, 1);
	f = fopen(path, "a");
	fprintf(f, "region us\n");
	fclose(f);
	admin_conf_defaults(&c);
	assert_int_equal(admin_conf_load(&c, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":6:"));
	/* A NUL byte is named as such, an over-long line as such. */
	f = fopen(path, "w");
	fprintf(f, "account = 42\n");
	fwrite("region = us\0x\n", 1, 15, f);
	fclose(f);
	admin_conf_defaults(&c);
	assert_int_equal(admin_conf_load(&c, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: NUL byte in line"));
	f = fopen(path, "w");
	fprintf(f, "account = 42\nregion = %02100d\n", 0);
	fclose(f);
	admin_conf_defaults(&c);
	assert_int_equal(admin_conf_load(&c, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: line too long"));
	unlink(path);
	assert_int_equal(admin_conf_load(&c, path, 1, err, sizeof(err)), 0);
	assert_int_equal(admin_conf_load(&c, path, 0, err, sizeof(err)), -1);
}

/*
 * ADMIN_CONF_PEERS_MAX mappings (uid and gid lines together) and
 * ADMIN_CONF_KEYS_MAX keys load; one more of either is refused, naming
 * the file and its line.
 */
static void
t_limits(void **state)
{
	struct admin_conf	 c;
	char			 path[] = "/tmp/test-admin-conf.XXXXXX";
	char			 err[512], want[64];
	char			 pk[ADMIN_PK_B64_LEN + 1], sk[ADMIN_SK_B64_LEN + 1];
	FILE			*f;
	int			 fd, i, extra;

	for (extra = 0; extra <= 1; extra++) {
		/* Mappings: 32 uid lines and 32 (+1) gid lines. */
		snprintf(path, sizeof(path), "/tmp/test-admin-conf.XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_non_null(f = fdopen(fd, "w"));
		fprintf(f, "account = 42\n");
		for (i = 0; i < ADMIN_CONF_PEERS_MAX + extra; i++)
			fprintf(f, "%s = %d acs:ram::42:user/u%d\n",
			    i % 2 ? "gid" : "uid", 1000 + i, i);
		fclose(f);
		admin_conf_defaults(&c);
		if (!extra) {
			assert_int_equal(admin_conf_load(&c, path, 0, err,
			    sizeof(err)), 0);
			assert_int_equal(c.npeers, ADMIN_CONF_PEERS_MAX);
		} else {
			assert_int_equal(admin_conf_load(&c, path, 0, err,
			    sizeof(err)), -1);
			snprintf(want, sizeof(want), ":%d: ",
			    ADMIN_CONF_PEERS_MAX + 2);
			assert_non_null(strstr(err, path));
			assert_non_null(strstr(err, want));
			assert_non_null(strstr(err, "'uid'"));
		}
		unlink(path);

		/* Keys. */
		snprintf(path, sizeof(path), "/tmp/test-admin-conf.XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_non_null(f = fdopen(fd, "w"));
		fprintf(f, "account = 42\n");
		for (i = 0; i < ADMIN_CONF_KEYS_MAX + extra; i++) {
			assert_int_equal(admin_sign_keygen(pk, sk), 0);
			fprintf(f, "key = %s acs:ram::42:user/k%d\n", pk, i);
		}
		fclose(f);
		admin_conf_defaults(&c);
		if (!extra) {
			assert_int_equal(admin_conf_load(&c, path, 0, err,
			    sizeof(err)), 0);
			assert_int_equal(c.nkeys, ADMIN_CONF_KEYS_MAX);
		} else {
			assert_int_equal(admin_conf_load(&c, path, 0, err,
			    sizeof(err)), -1);
			snprintf(want, sizeof(want), ":%d: ",
			    ADMIN_CONF_KEYS_MAX + 2);
			assert_non_null(strstr(err, path));
			assert_non_null(strstr(err, want));
			assert_non_null(strstr(err, "'key'"));
		}
		unlink(path);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_set),
		cmocka_unit_test(t_load),
		cmocka_unit_test(t_limits),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

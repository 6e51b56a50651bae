/* SPDX-License-Identifier: ISC */
/*
 * test-store-ro.c: a store its user cannot write.  The daemon's open
 * (readonly_ok) falls back to read-only: reads and the world as stored,
 * every change refused with STORE_ERDONLY naming the directory and the
 * cause, nothing in the directory touched; store_reopen() goes back to
 * writable once the directory is.  Also: a change whose commit fails
 * (the file cannot grow) is refused with the world and the generation
 * as they were.
 *
 * Permissions mean nothing to root, so when started as root the
 * program drops to uid/gid 65534 first (as tests/store/perm.sh does
 * with setpriv).
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/world.h"
#include "policy/bundle.h"
#include "store/store.h"
#include "store-test.h"

#define NOBODY	65534

struct fx {
	char	*tmp;
	char	*db;
};

static int
setup(void **state)
{
	struct fx	*fx = calloc(1, sizeof(*fx));

	fx->tmp = st_tmpdir();
	fx->db = st_join(fx->tmp, "db");
	*state = fx;
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	chmod(fx->db, 0700);
	st_rmrf(fx->tmp);
	free(fx->tmp);
	free(fx->db);
	free(fx);
	return (0);
}

static void
chmod_in(const char *dir, const char *name, mode_t mode)
{
	char	*p = st_join(dir, name);

	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

/* The store's three files and the directory to the given modes. */
static void
modes(const char *dir, mode_t dmode, mode_t fmode)
{
	if (dmode & 0200)
		assert_int_equal(chmod(dir, dmode), 0);
	chmod_in(dir, "data.mdb", fmode);
	chmod_in(dir, "lock.mdb", fmode);
	chmod_in(dir, STORE_LOCK_FILE, fmode);
	if (!(dmode & 0200))
		assert_int_equal(chmod(dir, dmode), 0);
}

static struct store *
xopen(const char *dir, int readonly, int readonly_ok, int want, ...)
{
	struct store_opts	 o = { 0 };
	struct store		*st;
	const char		*needle;
	char			*cause;
	va_list			 ap;
	int			 rc;

	o.create = !readonly;
	o.readonly = readonly;
	o.readonly_ok = readonly_ok;
	rc = store_open(dir, &o, &st, &cause);
	if (rc != want)
		fail_msg("open %s: %d (%s), wanted %d", dir, rc,
		    cause != NULL ? cause : "", want);
	va_start(ap, want);
	while ((needle = va_arg(ap, const char *)) != NULL)
		if (strstr(cause, needle) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", cause, needle);
	va_end(ap);
	free(cause);
	return (st);
}

/* A store with one user and one instance, generation 2. */
static void
make_store(const char *dir)
{
	struct store	*st;

	st = xopen(dir, 0, 0, STORE_OK, NULL);
	assert_int_equal(store_load(st), STORE_OK);
	assert_int_equal(store_user_create(st, "1", "alice", NULL), 0);
	assert_int_equal(store_instance_create(st, "kst-1", 0, 5, NULL, NULL), 0);
	assert_true(store_generation(st) == 2);
	store_close(st);
}

/* The number of users in the published world. */
static int
n_users(struct store *st)
{
	struct world		*w;
	struct world_counts	 wc;
	int			 r;

	w = world_holder_acquire(store_holder(st));
	assert_non_null(w);
	world_counts(w, &wc);
	r = (int)wc.users;
	world_unref(w);
	return (r);
}

static void
t_fallback(void **state)
{
	struct fx	*fx = *state;
	struct store	*st, *st2;
	struct bundle	*b;
	struct world	*w0, *w1;
	char		*data, *before, *after, *lb, *la;
	size_t		 l0, l1;
	uint64_t	 gen;

	make_store(fx->db);
	modes(fx->db, 0555, 0444);
	data = st_join(fx->db, "data.mdb");
	before = st_slurp(data, &l0);
	lb = st_listing(fx->db);

	/* Without readonly_ok a writer is refused, as before. */
	st = xopen(fx->db, 0, 0, STORE_EIO, fx->db, STORE_LOCK_FILE,
	    "Permission denied", NULL);
	assert_null(st);

	st = xopen(fx->db, 0, 1, STORE_OK, NULL);
	assert_int_equal(store_readonly(st), 1);
	assert_non_null(strstr(store_readonly_cause(st), STORE_LOCK_FILE));
	assert_non_null(strstr(store_readonly_cause(st), "Permission denied"));
	assert_true(store_generation(st) == 2);
	assert_int_equal(store_load(st), STORE_OK);
	assert_int_equal(n_users(st), 1);
	w0 = world_holder_acquire(store_holder(st));

	/* Every change refused, precisely; the world as it was. */
	assert_int_equal(store_user_create(st, "1", "bob", &gen),
	    STORE_ERDONLY);
	assert_non_null(strstr(store_errmsg(st), fx->db));
	assert_non_null(strstr(store_errmsg(st), "read-only"));
	assert_non_null(strstr(store_errmsg(st), "Permission denied"));
	assert_int_equal(store_instance_state_set(st, "kst-1", 1, NULL),
	    STORE_ERDONLY);
	assert_int_equal(store_replace_all(st, NULL, NULL), STORE_ERDONLY);
	w1 = world_holder_acquire(store_holder(st));
	assert_ptr_equal(w0, w1);
	world_unref(w1);
	assert_true(store_generation(st) == 2);

	/* Reads work. */
	assert_int_equal(store_to_bundle(st, &b), STORE_OK);
	bundle_free(b);
	assert_int_equal(store_is_empty(st), 0);

	/* A second owner is refused; so is a reader without lock.mdb. */
	st2 = xopen(fx->db, 0, 1, STORE_ELOCKED, "in use", NULL);
	assert_null(st2);
	st2 = xopen(fx->db, 1, 0, STORE_ELOCKED, "in use", "lock.mdb",
	    NULL);
	assert_null(st2);

	/* Still read-only: reopen says so and changes nothing. */
	assert_int_equal(store_reopen(st), STORE_ERDONLY);
	assert_non_null(strstr(store_errmsg(st), "still read-only"));
	assert_int_equal(store_readonly(st), 1);
	w1 = world_holder_acquire(store_holder(st));
	assert_ptr_equal(w0, w1);
	world_unref(w1);
	assert_int_equal(store_user_create(st, "1", "bob", NULL),
	    STORE_ERDONLY);

	after = st_slurp(data, &l1);
	assert_int_equal(l0, l1);
	assert_memory_equal(before, after, l0);
	free(after);
	la = st_listing(fx->db);
	assert_string_equal(lb, la);
	free(la);

	/* Writable again: reopen, and the next change is stored. */
	modes(fx->db, 0700, 0600);
	assert_int_equal(store_reopen(st), STORE_OK);
	assert_int_equal(store_readonly(st), 0);
	assert_string_equal(store_readonly_cause(st), "");
	assert_int_equal(store_user_create(st, "1", "bob", &gen), STORE_OK);
	assert_true(gen == 3);
	assert_int_equal(n_users(st), 2);
	world_unref(w0);
	store_close(st);

	/* And it is there after a reopen. */
	st = xopen(fx->db, 0, 0, STORE_OK, NULL);
	assert_int_equal(store_load(st), STORE_OK);
	assert_true(store_generation(st) == 3);
	store_close(st);
	free(before);
	free(lb);
	free(data);
}

/* export/backup (a reader) on a store nobody may write. */
static void
t_reader(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	struct bundle	*b;
	char		*dest, *lb, *la;

	make_store(fx->db);
	modes(fx->db, 0555, 0444);
	lb = st_listing(fx->db);
	st = xopen(fx->db, 1, 0, STORE_OK, NULL);
	assert_int_equal(store_readonly(st), 1);
	assert_int_equal(store_to_bundle(st, &b), STORE_OK);
	bundle_free(b);
	dest = st_join(fx->tmp, "copy");
	assert_int_equal(store_backup(st, dest), STORE_OK);
	/* The reader excludes writers meanwhile (no lock.mdb). */
	chmod(fx->db, 0700);
	chmod_in(fx->db, STORE_LOCK_FILE, 0600);
	assert_null(xopen(fx->db, 0, 0, STORE_ELOCKED, "in use", NULL));
	chmod_in(fx->db, STORE_LOCK_FILE, 0444);
	chmod(fx->db, 0555);
	store_close(st);
	la = st_listing(fx->db);
	assert_string_equal(lb, la);
	free(la);
	free(lb);
	st = xopen(dest, 0, 0, STORE_OK, NULL);
	assert_int_equal(store_load(st), STORE_OK);
	assert_true(store_generation(st) == 2);
	store_close(st);
	free(dest);
}

/* Nothing to serve: an empty directory, an unlocked copy. */
static void
t_refused(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	char		*p;

	/* An empty read-only directory: nothing to serve or seed. */
	assert_int_equal(mkdir(fx->db, 0555), 0);
	st = xopen(fx->db, 0, 1, STORE_ENOTFOUND, fx->db, "no data.mdb",
	    "nothing to serve", "Permission denied", NULL);
	assert_null(st);
	p = st_listing(fx->db);
	assert_string_equal(p, "");
	free(p);
	assert_int_equal(rmdir(fx->db), 0);

	/* No usable lock.mdb and no kmsauthz.lock to exclude writers. */
	make_store(fx->db);
	p = st_join(fx->db, STORE_LOCK_FILE);
	assert_int_equal(unlink(p), 0);
	free(p);
	chmod_in(fx->db, "data.mdb", 0444);
	chmod_in(fx->db, "lock.mdb", 0444);
	assert_int_equal(chmod(fx->db, 0555), 0);
	st = xopen(fx->db, 0, 1, STORE_EIO, "lock.mdb", STORE_LOCK_FILE,
	    "refusing to read without excluding writers", NULL);
	assert_null(st);
	st = xopen(fx->db, 1, 0, STORE_EIO, "lock.mdb",
	    "refusing to read without excluding writers", NULL);
	assert_null(st);

	/* lock.mdb usable: LMDB's reader table, no kmsauthz.lock needed. */
	assert_int_equal(chmod(fx->db, 0700), 0);
	chmod_in(fx->db, "lock.mdb", 0600);
	assert_int_equal(chmod(fx->db, 0555), 0);
	st = xopen(fx->db, 0, 1, STORE_OK, NULL);
	assert_int_equal(store_readonly(st), 1);
	assert_int_equal(store_load(st), STORE_OK);
	assert_int_equal(store_user_create(st, "1", "bob", NULL),
	    STORE_ERDONLY);
	store_close(st);
}

/* A commit that cannot write (the file may not grow): refused whole. */
static void
t_commit_fails(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	struct world	*w0, *w1;
	struct rlimit	 rl, old;
	struct stat	 sb;
	char		*data, name[32];
	uint64_t	 gen, gen0 = 0;
	int		 i, rc = STORE_OK;

	make_store(fx->db);
	st = xopen(fx->db, 0, 0, STORE_OK, NULL);
	assert_int_equal(store_load(st), STORE_OK);
	data = st_join(fx->db, "data.mdb");
	assert_int_equal(stat(data, &sb), 0);
	free(data);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)sb.st_size;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	for (i = 0; i < 20000 && rc == STORE_OK; i++) {
		gen0 = store_generation(st);
		w0 = world_holder_acquire(store_holder(st));
		snprintf(name, sizeof(name), "user%05d", i);
		rc = store_user_create(st, "1", name, &gen);
		if (rc != STORE_OK) {
			w1 = world_holder_acquire(store_holder(st));
			assert_ptr_equal(w0, w1);
			world_unref(w1);
		}
		world_unref(w0);
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(rc, STORE_EIO);
	assert_non_null(strstr(store_errmsg(st), fx->db));
	assert_non_null(strstr(store_errmsg(st), strerror(EFBIG)));
	assert_true(store_generation(st) == gen0);
	/* The same change goes through once the file may grow. */
	assert_int_equal(store_user_create(st, "1", name, &gen), STORE_OK);
	assert_true(gen == gen0 + 1);
	store_close(st);
	st = xopen(fx->db, 0, 0, STORE_OK, NULL);
	assert_int_equal(store_load(st), STORE_OK);
	assert_true(store_generation(st) == gen0 + 1);
	store_close(st);
	signal(SIGXFSZ, SIG_DFL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(t_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(t_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(t_commit_fails, setup,
		    teardown),
	};

	if (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setresgid(NOBODY, NOBODY, NOBODY) == -1 ||
	    setresuid(NOBODY, NOBODY, NOBODY) == -1)) {
		printf("1..0 # SKIP cannot drop to uid %d: %s\n", NOBODY,
		    strerror(errno));
		return (0);
	}
	if (geteuid() == 0) {
		printf("1..0 # SKIP still root\n");
		return (0);
	}
	return (cmocka_run_group_tests(tests, NULL, NULL));
}

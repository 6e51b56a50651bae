/* SPDX-License-Identifier: ISC */
/*
 * test-store-core.c: opening, locking and refusing stores; the record
 * codec.  Every refusal is checked to leave the files as they were.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <lmdb.h>

#include "common/xmalloc.h"
#include "engine/world.h"
#include "store/store-int.h"
#include "store/store-walk.h"
#include "store-test.h"

struct fx {
	char	*tmp;
	char	*db;
};

/*
 * fsync, wrapped (-Wl,--wrap=fsync): the store's own fsyncs, recorded
 * by path, so that a test can see what was made durable.
 */
int	__real_fsync(int);
int	__wrap_fsync(int);
static char	fsynced[64][PATH_MAX];
static int	nfsynced;

int
__wrap_fsync(int fd)
{
	char	 link[64];
	ssize_t	 n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (nfsynced < 64 && (n = readlink(link, fsynced[nfsynced],
	    PATH_MAX - 1)) > 0)
		fsynced[nfsynced++][n] = '\0';
	return (__real_fsync(fd));
}

/* 1 when path (made canonical: /tmp may be a link) was fsynced. */
static int
was_fsynced(const char *path)
{
	char	 real[PATH_MAX];
	int	 i;

	if (realpath(path, real) == NULL)
		return (0);
	for (i = 0; i < nfsynced; i++)
		if (strcmp(fsynced[i], real) == 0)
			return (1);
	return (0);
}

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

	st_rmrf(fx->tmp);
	free(fx->tmp);
	free(fx->db);
	free(fx);
	return (0);
}

static struct store *
open_ok(const char *dir, int readonly)
{
	struct store_opts	 o = { 0 };
	struct store		*st;
	char			*cause;
	int			 rc;

	o.create = 1;
	o.readonly = readonly;
	rc = store_open(dir, &o, &st, &cause);
	if (rc != 0)
		fprintf(stderr, "open %s: %s\n", dir, cause);
	assert_int_equal(rc, STORE_OK);
	assert_null(cause);
	return (st);
}

/* Expects a refusal with err and a message containing each needle. */
static void
open_fails(const char *dir, int readonly, int create, int err, ...)
{
	struct store_opts	 o = { 0 };
	struct store		*st;
	char			*cause;
	const char		*needle;
	va_list			 ap;

	o.create = create;
	o.readonly = readonly;
	assert_int_equal(store_open(dir, &o, &st, &cause), err);
	assert_null(st);
	assert_non_null(cause);
	va_start(ap, err);
	while ((needle = va_arg(ap, const char *)) != NULL) {
		if (strstr(cause, needle) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", cause, needle);
	}
	va_end(ap);
	free(cause);
}

/* Raw LMDB access to forge what the store must refuse. */
static void
raw_put(const char *dir, const char *dbname, const char *key,
    const void *val, size_t len)
{
	MDB_env	*env;
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 k, v;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, dbname, MDB_CREATE, &dbi), 0);
	k.mv_data = (void *)key;
	k.mv_size = strlen(key);
	v.mv_data = (void *)val;
	v.mv_size = len;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
t_create_and_reopen(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	struct stat	 sb;
	char		*p;

	st = open_ok(fx->db, 0);
	assert_int_equal(store_generation(st), 0);
	assert_int_equal(store_is_empty(st), 1);
	assert_string_equal(store_dir(st), fx->db);
	store_close(st);
	assert_int_equal(stat(fx->db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	p = st_join(fx->db, STORE_LOCK_FILE);
	assert_int_equal(access(p, F_OK), 0);
	free(p);
	/* The creation marker lives only while the store is made. */
	p = st_join(fx->db, STORE_CREATING_FILE);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	st = open_ok(fx->db, 0);
	assert_int_equal(store_generation(st), 0);
	store_close(st);
	st = open_ok(fx->db, 1);
	assert_int_equal(store_generation(st), 0);
	store_close(st);
}

static void
t_missing_dir(void **state)
{
	struct fx	*fx = *state;

	open_fails(fx->db, 0, 0, STORE_ENOTFOUND, fx->db,
	    "No such file", NULL);
	open_fails(fx->db, 1, 1, STORE_ENOTFOUND, fx->db, NULL);
	assert_int_equal(access(fx->db, F_OK), -1);
}

static void
t_not_a_dir(void **state)
{
	struct fx	*fx = *state;

	st_spew(fx->db, "x", 1);
	open_fails(fx->db, 0, 1, STORE_EIO, fx->db, "not a directory", NULL);
}

static void
t_readonly_empty_dir(void **state)
{
	struct fx	*fx = *state;

	assert_int_equal(mkdir(fx->db, 0700), 0);
	open_fails(fx->db, 1, 0, STORE_ENOTFOUND, fx->db, "no data.mdb",
	    NULL);
}

static void
t_lock_same_process(void **state)
{
	struct fx	*fx = *state;
	struct store	*st, *st2;
	char		 pid[32];

	st = open_ok(fx->db, 0);
	snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	open_fails(fx->db, 0, 1, STORE_ELOCKED, fx->db, pid,
	    STORE_LOCK_FILE, NULL);
	/* Readers take no lock. */
	st2 = open_ok(fx->db, 1);
	store_close(st2);
	store_close(st);
	st = open_ok(fx->db, 0);
	store_close(st);
}

static void
t_lock_other_process(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	char		 pid[32];
	int		 p[2], status;
	pid_t		 child;
	char		 c;

	assert_int_equal(pipe(p), 0);
	if ((child = fork()) == 0) {
		struct store_opts	 o = { 0 };
		char			*cause;

		o.create = 1;
		close(p[0]);
		if (store_open(fx->db, &o, &st, &cause) != 0)
			_exit(1);
		(void)write(p[1], "k", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	snprintf(pid, sizeof(pid), "pid %ld", (long)child);
	open_fails(fx->db, 0, 1, STORE_ELOCKED, pid, NULL);
	/* The kernel drops a killed holder's lock. */
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	close(p[0]);
	st = open_ok(fx->db, 0);
	store_close(st);
}

static void
t_foreign_dir(void **state)
{
	struct fx	*fx = *state;
	char		*p, *buf;
	size_t		 len;

	assert_int_equal(mkdir(fx->db, 0700), 0);
	p = st_join(fx->db, "notes.txt");
	st_spew(p, "mine", 4);
	open_fails(fx->db, 0, 1, STORE_ECORRUPT, fx->db, "notes.txt",
	    "refusing", NULL);
	buf = st_slurp(p, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "mine", 4);
	free(buf);
	free(p);
	p = st_join(fx->db, "data.mdb");
	assert_int_equal(access(p, F_OK), -1);
	free(p);
}

static void
t_foreign_file(void **state)
{
	struct fx	*fx = *state;
	char		*p, *buf, junk[8192];
	size_t		 len;

	assert_int_equal(mkdir(fx->db, 0700), 0);
	p = st_join(fx->db, "data.mdb");
	memset(junk, 'Z', sizeof(junk));
	st_spew(p, junk, sizeof(junk));
	open_fails(fx->db, 0, 1, STORE_ECORRUPT, "data.mdb",
	    "not an LMDB file", NULL);
	open_fails(fx->db, 1, 0, STORE_ECORRUPT, "data.mdb", NULL);
	buf = st_slurp(p, &len);
	assert_int_equal(len, sizeof(junk));
	assert_memory_equal(buf, junk, len);
	free(buf);
	free(p);
}

static void
t_foreign_lmdb(void **state)
{
	struct fx	*fx = *state;

	assert_int_equal(mkdir(fx->db, 0700), 0);
	raw_put(fx->db, "stuff", "k", "v", 1);
	open_fails(fx->db, 0, 1, STORE_ECORRUPT, fx->db,
	    "not a kmsauthz store", NULL);
	open_fails(fx->db, 1, 0, STORE_ECORRUPT, NULL);
}

static void
t_wrong_format_mark(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;

	st = open_ok(fx->db, 0);
	store_close(st);
	raw_put(fx->db, "meta", "format", "other", 5);
	open_fails(fx->db, 0, 1, STORE_ECORRUPT, "format mark", NULL);
}

static void
t_newer_schema(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	unsigned char	 v[4] = { 0, 0, 0, STORE_SCHEMA_VERSION + 1 };
	char		*p, *before, *after;
	size_t		 lb, la;

	st = open_ok(fx->db, 0);
	store_close(st);
	raw_put(fx->db, "meta", "schema", v, 4);
	p = st_join(fx->db, "data.mdb");
	before = st_slurp(p, &lb);
	open_fails(fx->db, 0, 1, STORE_EVERSION, fx->db, "newer", NULL);
	open_fails(fx->db, 1, 0, STORE_EVERSION, "newer", NULL);
	after = st_slurp(p, &la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, la);
	free(before);
	free(after);
	free(p);
}

/* Remove a file of the store directory (a copy without its locks). */
static void
rm_in(const char *dir, const char *name)
{
	char	*p = st_join(dir, name);

	assert_int_equal(unlink(p), 0);
	free(p);
}

/*
 * A refused directory is left exactly as found: no kmsauthz.lock, no
 * lock.mdb created by the open that refused it (writer or reader).
 */
static void
t_refused_leaves_nothing(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	unsigned char	 v[4] = { 0, 0, 0, STORE_SCHEMA_VERSION + 1 };
	char		*p, *before, *after, junk[8192];
	int		 i;

	/* Four refused directories, none with lock files. */
	for (i = 0; i < 4; i++) {
		st_rmrf(fx->db);
		assert_int_equal(mkdir(fx->db, 0700), 0);
		switch (i) {
		case 0:		/* somebody else's file */
			p = st_join(fx->db, "notes.txt");
			st_spew(p, "mine", 4);
			free(p);
			break;
		case 1:		/* data.mdb that is not LMDB */
			p = st_join(fx->db, "data.mdb");
			memset(junk, 'Z', sizeof(junk));
			st_spew(p, junk, sizeof(junk));
			free(p);
			break;
		case 2:		/* LMDB, not ours */
			raw_put(fx->db, "stuff", "k", "v", 1);
			rm_in(fx->db, "lock.mdb");
			break;
		case 3:		/* ours, a newer schema (a bare copy) */
			st = open_ok(fx->db, 0);
			store_close(st);
			raw_put(fx->db, "meta", "schema", v, 4);
			rm_in(fx->db, "lock.mdb");
			rm_in(fx->db, STORE_LOCK_FILE);
			break;
		}
		before = st_listing(fx->db);
		open_fails(fx->db, 0, 1, i == 3 ? STORE_EVERSION :
		    STORE_ECORRUPT, fx->db, NULL);
		after = st_listing(fx->db);
		assert_string_equal(before, after);
		free(after);
		if (i > 0) {	/* a reader (export) too */
			open_fails(fx->db, 1, 0, i == 3 ? STORE_EVERSION :
			    STORE_ECORRUPT, fx->db, NULL);
			after = st_listing(fx->db);
			assert_string_equal(before, after);
			free(after);
		}
		free(before);
	}
}

static void
t_older_schema(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	unsigned char	 v[4] = { 0, 0, 0, 0 };

	st = open_ok(fx->db, 0);
	store_close(st);
	raw_put(fx->db, "meta", "schema", v, 4);
	open_fails(fx->db, 0, 1, STORE_EVERSION, "older", NULL);
}

/*
 * A schema-1 store (made by forging one: no deletions DBI, schema 1) is
 * migrated at the first writable open, in one transaction: the DBI, a
 * deletion time for its PendingDeletion key, schema 2; the generation and
 * every other record as they were.  A read-only open refuses it.
 */
static void
t_migrate_from_1(void **state)
{
	struct fx		*fx = *state;
	struct store		*st;
	struct store_deletion	*dl;
	struct world_key	 wk;
	struct world		*w;
	unsigned char		 one[4] = { 0, 0, 0, 1 };
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k, v;
	size_t			 n;
	uint64_t		 gen;
	int64_t			 t0;

	st = open_ok(fx->db, 0);
	assert_int_equal(store_load(st), STORE_OK);
	assert_int_equal(store_instance_create(st, "i", 0, 0, NULL, NULL), 0);
	assert_int_equal(store_key_create(st, "kp", "r", "1", "i", 0, NULL),
	    0);
	assert_int_equal(store_key_create(st, "ke", "r", "1", "i", 0, NULL),
	    0);
	assert_int_equal(store_key_schedule_deletion(st, "kp", 1, NULL), 0);
	gen = store_generation(st);
	store_close(st);
	/* Back to schema 1. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, fx->db, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "deletions", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	raw_put(fx->db, "meta", "schema", one, 4);

	open_fails(fx->db, 1, 0, STORE_EVERSION, "needs migration", NULL);
	t0 = store_now_ms();
	st = open_ok(fx->db, 0);
	assert_int_equal(store_load(st), STORE_OK);
	assert_true(store_generation(st) == gen);
	assert_int_equal(store_check(st), STORE_OK);
	w = world_holder_acquire(store_holder(st));
	assert_int_equal(world_get_key(w, "kp", 2, &wk), 0);
	assert_int_equal(wk.state, WORLD_KEY_PENDING_DELETION);
	world_unref(w);
	assert_int_equal(store_key_deletions_list(st, &dl, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(dl[0].key_id, "kp");
	/* Schema 1 kept no time: the longest window, from the migration. */
	assert_true(dl[0].when_ms >= t0 + (int64_t)STORE_DELETION_UNKNOWN_DAYS *
	    86400000 && dl[0].when_ms <= store_now_ms() +
	    (int64_t)STORE_DELETION_UNKNOWN_DAYS * 86400000);
	store_key_deletions_free(dl, n);
	store_close(st);
	/* Schema 2 is written. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, fx->db, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	k.mv_data = (void *)"schema";
	k.mv_size = 6;
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(v.mv_size, 4);
	assert_int_equal(((unsigned char *)v.mv_data)[3], STORE_SCHEMA_VERSION);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	/* And a second open has nothing to migrate. */
	st = open_ok(fx->db, 1);
	store_close(st);
}

static void
t_bad_meta_record(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;

	st = open_ok(fx->db, 0);
	store_close(st);
	raw_put(fx->db, "meta", "generation", "abc", 3);
	open_fails(fx->db, 0, 1, STORE_ECORRUPT, "generation",
	    "malformed", NULL);
}

static void
t_missing_dbi(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;

	st = open_ok(fx->db, 0);
	store_close(st);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, fx->db, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "tags", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	open_fails(fx->db, 0, 1, STORE_ECORRUPT, "\"tags\" missing", NULL);
}

/* A child that opens the environment (a reader txn when txn) and then
 * either waits for a byte on fd or exits at once. */
static pid_t
raw_reader(const char *dir, int txn, int waitfd, int readyfd)
{
	pid_t	 child;
	char	 c;

	if ((child = fork()) == 0) {
		MDB_env	*env;
		MDB_txn	*t;

		if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 32) ||
		    mdb_env_open(env, dir, MDB_RDONLY, 0600))
			_exit(1);
		if (txn && mdb_txn_begin(env, NULL, MDB_RDONLY, &t))
			_exit(1);
		if (readyfd != -1)
			(void)write(readyfd, "r", 1);
		if (waitfd != -1)
			(void)read(waitfd, &c, 1);
		_exit(0);	/* without closing: a stale slot if txn */
	}
	return (child);
}

static void
t_stale_readers(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	pid_t		 keeper, dier;
	int		 status, hold[2], ready[2];
	char		 c;

	st = open_ok(fx->db, 0);
	store_close(st);
	/* A live process keeps the lock region, so LMDB cannot reset it;
	 * the dead reader's slot must be cleared by mdb_reader_check. */
	assert_int_equal(pipe(hold), 0);
	assert_int_equal(pipe(ready), 0);
	keeper = raw_reader(fx->db, 0, hold[0], ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	dier = raw_reader(fx->db, 1, -1, -1);
	waitpid(dier, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	st = open_ok(fx->db, 0);
	assert_int_equal(st->stale_readers, 1);
	store_close(st);
	(void)write(hold[1], "x", 1);
	waitpid(keeper, &status, 0);
	close(hold[0]);
	close(hold[1]);
	close(ready[0]);
	close(ready[1]);
}


/* A store with enough pages that losing some matters. */
static void
make_store(const char *dir, int n)
{
	struct store	*st;
	char		 name[64];
	int		 i;

	st = open_ok(dir, 0);
	assert_int_equal(store_load(st), STORE_OK);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "user-%04d-with-a-long-name", i);
		assert_int_equal(store_user_create(st, "111", name, NULL), 0);
	}
	store_close(st);
}

/*
 * Walks DIR/data.mdb as the store's open does, as if the file were size
 * bytes long (-1: its size).  Returns store_walk's code; w is filled
 * (store_walk_free it).  *lastp: LMDB's me_last_pgno.
 */
static int
walk_dir(const char *dir, off_t size, struct store_walk *w, size_t *lastp)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_envinfo	 info;
	MDB_stat	 ms;
	struct stat	 sb;
	char		*p;
	int		 rc;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_env_info(env, &info), 0);
	assert_int_equal(mdb_env_stat(env, &ms), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	memset(w, 0, sizeof(*w));
	p = st_join(dir, "data.mdb");
	w->fd = open(p, O_RDONLY);
	assert_true(w->fd != -1);
	assert_int_equal(fstat(w->fd, &sb), 0);
	w->size = size == -1 ? sb.st_size : size;
	w->psize = ms.ms_psize;
	w->txnid = mdb_txn_id(txn);
	rc = store_walk(w);
	close(w->fd);
	free(p);
	if (rc == 0) {
		assert_true(w->newest);
		assert_int_equal(w->last_pg, info.me_last_pgno);
	}
	*lastp = info.me_last_pgno;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return (rc);
}

/* Every record of every database of DIR, as one string (raw LMDB). */
static char *
dump_dir(const char *dir)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_cursor	*c, *c2;
	MDB_dbi		 main, dbi;
	MDB_val		 k, v, k2, v2;
	char		*out = NULL, *name, *t;
	int		 rc;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &main), 0);
	assert_int_equal(mdb_cursor_open(txn, main, &c), 0);
	out = xstrdup("");
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		name = xstrndup(k.mv_data, k.mv_size);
		assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
		assert_int_equal(mdb_cursor_open(txn, dbi, &c2), 0);
		while (mdb_cursor_get(c2, &k2, &v2, MDB_NEXT) == 0) {
			xasprintf(&t, "%s%s/", out, name);
			free(out);
			out = t;
			/* The key's and the value's bytes, hex. */
			for (size_t i = 0; i < k2.mv_size; i++) {
				xasprintf(&t, "%s%02x", out,
				    ((unsigned char *)k2.mv_data)[i]);
				free(out);
				out = t;
			}
			xasprintf(&t, "%s=", out);
			free(out);
			out = t;
			for (size_t i = 0; i < v2.mv_size; i++) {
				xasprintf(&t, "%s%02x", out,
				    ((unsigned char *)v2.mv_data)[i]);
				free(out);
				out = t;
			}
			xasprintf(&t, "%s\n", out);
			free(out);
			out = t;
		}
		mdb_cursor_close(c2);
		free(name);
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return (out);
}

/*
 * A store whose highest pages are free (unreachable from its meta),
 * as a commit whose top pages were loose leaves it: 400 users, the
 * first 200 deleted (the tree shrinks), then single changes until the
 * pages in use have moved below me_last_pgno.  Returns the highest
 * reachable page; *lastp is me_last_pgno.
 */
static size_t
make_top_free_store(const char *dir, size_t *lastp)
{
	struct store_walk	 w;
	struct store		*st;
	char			 name[64];
	size_t			 top;
	int			 i;

	make_store(dir, 400);
	st = open_ok(dir, 0);
	assert_int_equal(store_load(st), STORE_OK);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "user-%04d-with-a-long-name", i);
		assert_int_equal(store_principal_delete(st, STORE_USER, "111",
		    name, NULL), 0);
	}
	for (i = 0; i < 200; i++) {
		store_close(st);
		assert_int_equal(walk_dir(dir, -1, &w, lastp), 0);
		top = w.top;
		store_walk_free(&w);
		if (top + 1 < *lastp)
			return (top);
		st = open_ok(dir, 0);
		assert_int_equal(store_load(st), STORE_OK);
		assert_int_equal(store_user_create(st, "111", "tmp", NULL), 0);
		assert_int_equal(store_principal_delete(st, STORE_USER, "111",
		    "tmp", NULL), 0);
	}
	store_close(st);
	fail_msg("no store with free pages at the top");
	return (0);
}

/*
 * A data.mdb shorter than me_last_pgno whose every reachable page is
 * inside (ITS#7886: loose pages at the top are never written) is a
 * valid store: it opens, writer and reader, every record as before, and
 * it takes changes.
 */
static void
t_short_valid(void **state)
{
	struct fx		*fx = *state;
	struct store_walk	 w;
	struct store		*st;
	struct stat		 sb;
	char			*p, *before, *after;
	size_t			 top, last, last2;
	int			 j;

	top = make_top_free_store(fx->db, &last);
	p = st_join(fx->db, "data.mdb");
	before = dump_dir(fx->db);
	assert_int_equal(truncate(p, (off_t)(top + 1) * 4096), 0);
	/* The walk sees every page inside, and nothing to spare. */
	assert_int_equal(walk_dir(fx->db, -1, &w, &last2), 0);
	assert_int_equal(last2, last);
	assert_int_equal(w.top, top);
	store_walk_free(&w);
	for (j = 1; j >= 0; j--) {
		st = open_ok(fx->db, j);
		assert_int_equal(store_load(st), STORE_OK);
		assert_int_equal(store_check(st), STORE_OK);
		store_close(st);
		assert_int_equal(stat(p, &sb), 0);
		assert_int_equal(sb.st_size, (off_t)(top + 1) * 4096);
		after = dump_dir(fx->db);
		assert_string_equal(before, after);
		free(after);
	}
	/* A change on it, then it opens again with the change. */
	st = open_ok(fx->db, 0);
	assert_int_equal(store_load(st), STORE_OK);
	assert_int_equal(store_user_create(st, "111", "after", NULL), 0);
	store_close(st);
	st = open_ok(fx->db, 0);
	assert_int_equal(store_load(st), STORE_OK);
	assert_int_equal(store_check(st), STORE_OK);
	assert_int_equal(store_user_create(st, "111", "after", NULL),
	    STORE_EEXIST);
	store_close(st);
	after = dump_dir(fx->db);
	assert_string_not_equal(before, after);
	assert_non_null(strstr(after, "6166746572"));	/* "after" */
	free(after);
	free(before);
	free(p);
}

/* Writes 8 bytes at off in path. */
static void
poke64(const char *path, off_t off, uint64_t v)
{
	int	fd;

	fd = open(path, O_RDWR);
	assert_true(fd != -1);
	assert_int_equal(pwrite(fd, &v, sizeof(v), off), (ssize_t)sizeof(v));
	close(fd);
}

/* The database named name in w (a test failure if absent). */
static const struct store_walk_db *
walk_db(const struct store_walk *w, const char *name)
{
	size_t	i;

	for (i = 0; i < w->ndbs; i++) {
		if (strcmp(w->dbs[i].name, name) == 0)
			return (&w->dbs[i]);
	}
	fail_msg("no database %s", name);
	return (NULL);
}

/*
 * A malformed page reachable in a short file is refused, not followed:
 * a branch's child whose header names another page; a branch whose
 * child is itself (a cycle); a page beyond LMDB's last page.
 */
static void
t_short_malformed(void **state)
{
	struct fx			*fx = *state;
	struct store_walk		 w;
	const struct store_walk_db	*d;
	char				*p, *good;
	size_t				 top, last, glen = 0, root, child;
	unsigned char			 page[4096];
	int				 fd, j, k;

	top = make_top_free_store(fx->db, &last);
	p = st_join(fx->db, "data.mdb");
	assert_int_equal(truncate(p, (off_t)(top + 1) * 4096), 0);
	good = st_slurp(p, &glen);
	assert_int_equal(walk_dir(fx->db, -1, &w, &last), 0);
	d = walk_db(&w, "users");
	assert_true(d->branch >= 1);
	root = d->root;
	store_walk_free(&w);
	fd = open(p, O_RDONLY);
	assert_int_equal(pread(fd, page, sizeof(page), (off_t)root * 4096),
	    (ssize_t)sizeof(page));
	close(fd);
	assert_int_equal(page[10], 0x01);		/* P_BRANCH */
	/* Node 0: mn_lo, mn_hi at mp_ptrs[0]. */
	child = (size_t)page[page[16] | page[17] << 8] |
	    (size_t)page[(page[16] | page[17] << 8) + 1] << 8 |
	    (size_t)page[(page[16] | page[17] << 8) + 2] << 16 |
	    (size_t)page[(page[16] | page[17] << 8) + 3] << 24;
	assert_true(child > 1 && child <= top);
	for (k = 0; k < 3; k++) {
		st_spew(p, good, glen);
		if (k == 0)		/* the child says it is another page */
			poke64(p, (off_t)child * 4096, child + 7);
		else {			/* the child is the root, or too far */
			size_t	to = k == 1 ? root : last + 5;
			off_t	n = (off_t)root * 4096 +
			    (page[16] | page[17] << 8);
			uint16_t lo = to & 0xffff, hi = (to >> 16) & 0xffff;
			fd = open(p, O_RDWR);
			assert_int_equal(pwrite(fd, &lo, 2, n), 2);
			assert_int_equal(pwrite(fd, &hi, 2, n + 2), 2);
			close(fd);
		}
		for (j = 0; j < 2; j++)
			open_fails(fx->db, j, 0, STORE_ECORRUPT, fx->db,
			    "data.mdb: corrupt: ", "users database",
			    k == 0 ? "says it is page" : k == 1 ?
			    "(a cycle" : "not a data page", NULL);
	}
	st_spew(p, good, glen);
	{
		struct store	*st = open_ok(fx->db, 0);

		assert_int_equal(store_load(st), STORE_OK);
		store_close(st);
	}
	free(good);
	free(p);
}

/*
 * The walk counts the branch, leaf and overflow pages and the entries
 * mdb_stat reports for every database (FREE, MAIN, each named one, and
 * a record big enough for overflow pages); a duplicate-data node is
 * refused.
 */
static void
t_walk_counts(void **state)
{
	struct fx		*fx = *state;
	struct store_walk	 w;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_stat		 ms;
	char			*big;
	size_t			 i, last, over = 0, named = 0;

	make_store(fx->db, 300);
	big = xcalloc(1, 20000);
	memset(big, 'x', 20000);
	raw_put(fx->db, "big", "k", big, 20000);
	free(big);
	assert_int_equal(walk_dir(fx->db, -1, &w, &last), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, fx->db, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_txn_id(txn), w.txnid);
	assert_int_equal(w.ndbs, 2 + DBI_COUNT + 1);
	for (i = 0; i < w.ndbs; i++) {
		if (i < 2)
			dbi = (MDB_dbi)i;	/* FREE_DBI, MAIN_DBI */
		else {
			assert_int_equal(mdb_dbi_open(txn, w.dbs[i].name, 0,
			    &dbi), 0);
			named++;
		}
		assert_int_equal(mdb_stat(txn, dbi, &ms), 0);
		assert_int_equal(w.dbs[i].branch, ms.ms_branch_pages);
		assert_int_equal(w.dbs[i].leaf, ms.ms_leaf_pages);
		assert_int_equal(w.dbs[i].overflow, ms.ms_overflow_pages);
		assert_int_equal(w.dbs[i].entries, ms.ms_entries);
		over += w.dbs[i].overflow;
	}
	assert_int_equal(named, DBI_COUNT + 1);
	assert_int_equal(over, 5);		/* 20000 bytes, 4096 a page */
	assert_true(walk_db(&w, "users")->branch >= 1);
	mdb_txn_abort(txn);
	store_walk_free(&w);

	/* No database of the store holds duplicates: one that does is not
	 * the store's (F_DUPDATA is refused, not followed). */
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "dups", MDB_CREATE | MDB_DUPSORT,
	    &dbi), 0);
	{
		MDB_val	k = { 1, (void *)"k" }, v1 = { 1, (void *)"a" };
		MDB_val	v2 = { 1, (void *)"b" };

		assert_int_equal(mdb_put(txn, dbi, &k, &v1, 0), 0);
		assert_int_equal(mdb_put(txn, dbi, &k, &v2, 0), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(walk_dir(fx->db, -1, &w, &last), STORE_ECORRUPT);
	assert_false(w.truncated);
	assert_non_null(strstr(w.err, "dups database"));
	assert_non_null(strstr(w.err, "holds duplicates"));
	store_walk_free(&w);
}

/*
 * A truncated data.mdb (to 0, to one page, two pages, half, up to the
 * highest page in use) is refused at open, writer and reader, with the file named and
 * the cause: never a crash (LMDB maps the file: a page past its end is
 * SIGBUS), never a re-initialisation; not a byte and not a name of the
 * directory changed.
 */
static void
t_truncated(void **state)
{
	struct fx		*fx = *state;
	struct store_walk	 w;
	struct stat		 sb;
	char			*p, *good, *buf, *before, *after;
	size_t			 len, glen = 0, sizes[5], last;
	int			 i, j;

	make_store(fx->db, 300);
	p = st_join(fx->db, "data.mdb");
	good = st_slurp(p, &glen);
	assert_non_null(good);
	assert_true(glen >= 16 * 4096);
	sizes[0] = 0;
	sizes[1] = 4096;
	sizes[2] = 8192;
	sizes[3] = glen / 2 - (glen / 2) % 4096;
	/* Up to the highest page reachable, which is cut off. */
	assert_int_equal(walk_dir(fx->db, -1, &w, &last), 0);
	sizes[4] = w.top * 4096;
	store_walk_free(&w);
	for (i = 0; i < 5; i++) {
		st_spew(p, good, glen);
		if (i >= 2) {	/* each cuts off a page in use */
			assert_int_equal(walk_dir(fx->db, (off_t)sizes[i], &w,
			    &last), STORE_ECORRUPT);
			assert_true(w.truncated);
			store_walk_free(&w);
		}
		assert_int_equal(truncate(p, (off_t)sizes[i]), 0);
		before = st_listing(fx->db);
		for (j = 0; j < 2; j++) {
			open_fails(fx->db, j, 0, STORE_ECORRUPT, fx->db,
			    "data.mdb", i == 0 ? "empty (0 bytes)" : i == 1 ?
			    "not an LMDB file" : "data.mdb: truncated: page",
			    i < 2 ? NULL : "lies past the end of the file",
			    NULL);
			assert_int_equal(stat(p, &sb), 0);
			assert_int_equal(sb.st_size, (off_t)sizes[i]);
			buf = st_slurp(p, &len);
			assert_int_equal(len, sizes[i]);
			assert_memory_equal(buf, good, len);
			free(buf);
			after = st_listing(fx->db);
			assert_string_equal(before, after);
			free(after);
		}
		free(before);
	}
	/* Put back, it opens and loads as before. */
	st_spew(p, good, glen);
	{
		struct store	*st = open_ok(fx->db, 0);

		assert_int_equal(store_load(st), STORE_OK);
		assert_int_equal(store_check(st), STORE_OK);
		assert_true(store_generation(st) == 300);
		store_close(st);
	}
	free(good);
	free(p);
}

/*
 * An empty data.mdb: re-initialised only beside the creation marker (an
 * interrupted creation), refused otherwise, writer and reader.
 */
static void
t_empty_data_mdb(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	char		*p, *m, *before, *after;
	struct stat	 sb;

	make_store(fx->db, 1);
	p = st_join(fx->db, "data.mdb");
	m = st_join(fx->db, STORE_CREATING_FILE);
	assert_int_equal(truncate(p, 0), 0);
	before = st_listing(fx->db);
	open_fails(fx->db, 0, 1, STORE_ECORRUPT, "data.mdb",
	    "empty (0 bytes)", STORE_CREATING_FILE, "refusing to "
	    "re-initialise", NULL);
	open_fails(fx->db, 1, 0, STORE_ECORRUPT, "data.mdb",
	    "empty (0 bytes)", NULL);
	after = st_listing(fx->db);
	assert_string_equal(before, after);
	free(after);
	free(before);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_size, 0);

	/* An interrupted creation: the marker, an empty data.mdb. */
	st_spew(m, "", 0);
	open_fails(fx->db, 1, 0, STORE_ENOTFOUND, "creation was interrupted",
	    NULL);
	st = open_ok(fx->db, 0);
	assert_int_equal(store_generation(st), 0);
	assert_int_equal(store_is_empty(st), 1);
	store_close(st);
	assert_int_equal(access(m, F_OK), -1);	/* done: the marker gone */
	assert_int_equal(stat(p, &sb), 0);
	assert_true(sb.st_size > 0);
	/* A marker left by a creation that died after its commit goes at
	 * the next writable open: a later empty data.mdb is refused. */
	st_spew(m, "", 0);
	st = open_ok(fx->db, 1);	/* a reader leaves it */
	store_close(st);
	assert_int_equal(access(m, F_OK), 0);
	st = open_ok(fx->db, 0);
	store_close(st);
	assert_int_equal(access(m, F_OK), -1);
	assert_int_equal(truncate(p, 0), 0);
	open_fails(fx->db, 0, 1, STORE_ECORRUPT, "empty (0 bytes)", NULL);
	free(p);
	free(m);
}

/*
 * A migration that needs more room than the map has grows the map and
 * runs again (as a change does), instead of failing the open.
 */
static void
t_migrate_grows(void **state)
{
	struct fx		*fx = *state;
	struct store_opts	 o = { 0 };
	struct store		*st;
	struct store_deletion	*dl;
	unsigned char		 one[4] = { 0, 0, 0, 1 };
	char			 id[64], *copy, *cause;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	size_t			 n;
	int			 i;

	st = open_ok(fx->db, 0);
	assert_int_equal(store_load(st), STORE_OK);
	assert_int_equal(store_instance_create(st, "i", 0, 0, NULL, NULL), 0);
	for (i = 0; i < 400; i++) {
		snprintf(id, sizeof(id), "key-%04d-xxxxxxxxxxxxxxxxxxxxxxxx", i);
		assert_int_equal(store_key_create(st, id, "r", "1", NULL, 0,
		    NULL), 0);
		assert_int_equal(store_key_schedule_deletion(st, id,
		    store_now_ms() + 100000, NULL), 0);
	}
	store_close(st);
	/* Back to schema 1, then a compact copy: no free pages left. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, fx->db, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "deletions", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	raw_put(fx->db, "meta", "schema", one, 4);
	copy = st_join(fx->tmp, "copy");
	assert_int_equal(mkdir(copy, 0700), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, fx->db, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_env_copy2(env, copy, MDB_CP_COMPACT), 0);
	mdb_env_close(env);
	/* A map of one page: LMDB raises it to the pages in use, exactly. */
	o.map_size = 4096;
	o.map_max = 64 * 1024 * 1024;
	assert_int_equal(store_open(copy, &o, &st, &cause), STORE_OK);
	assert_true(store_map_size(st) > 4096);
	assert_int_equal(store_load(st), STORE_OK);
	assert_int_equal(store_check(st), STORE_OK);
	assert_int_equal(store_key_deletions_list(st, &dl, &n), STORE_OK);
	assert_int_equal(n, 400);
	store_key_deletions_free(dl, n);
	store_close(st);
	/* Past the ceiling the open is refused with the reason. */
	st_rmrf(copy);
	assert_int_equal(mkdir(copy, 0700), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, fx->db, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_env_copy2(env, copy, MDB_CP_COMPACT), 0);
	mdb_env_close(env);
	o.map_max = 4096;
	assert_int_equal(store_open(copy, &o, &st, &cause), STORE_EFULL);
	assert_non_null(strstr(cause, "ceiling"));
	free(cause);
	free(copy);
}

/*
 * Durability of names: a new store fsyncs its directory and, when it
 * made the directory, the parent; a backup fsyncs its copy, DEST and,
 * when it made DEST, DEST's parent.
 */
static void
t_fsync_names(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	char		*dest, *copy;

	nfsynced = 0;
	st = open_ok(fx->db, 0);
	assert_true(was_fsynced(fx->db));
	assert_true(was_fsynced(fx->tmp));
	assert_int_equal(store_load(st), STORE_OK);
	assert_int_equal(store_user_create(st, "1", "u", NULL), 0);
	dest = st_join(fx->tmp, "bk");
	copy = st_join(dest, "data.mdb");
	nfsynced = 0;
	assert_int_equal(store_backup(st, dest), STORE_OK);
	assert_true(was_fsynced(copy));
	assert_true(was_fsynced(dest));
	assert_true(was_fsynced(fx->tmp));
	/* A second backup into it is refused, the copy kept. */
	assert_int_equal(store_backup(st, dest), STORE_EEXIST);
	assert_int_equal(access(copy, F_OK), 0);
	store_close(st);
	st = open_ok(dest, 1);
	assert_int_equal(store_load(st), STORE_OK);
	assert_true(store_generation(st) == 1);
	store_close(st);
	free(copy);
	free(dest);
}

/*
 * store_close_discard: a tool's open that made the directory leaves
 * nothing; one that found files keeps them and removes only its own.
 */
static void
t_close_discard(void **state)
{
	struct fx	*fx = *state;
	struct store	*st;
	char		*p, *before, *after;

	st = open_ok(fx->db, 0);
	store_close_discard(st);
	assert_int_equal(access(fx->db, F_OK), -1);
	/* An empty directory that was there stays, empty. */
	assert_int_equal(mkdir(fx->db, 0700), 0);
	st = open_ok(fx->db, 0);
	store_close_discard(st);
	after = st_listing(fx->db);
	assert_string_equal(after, "");
	free(after);
	/* A bare copy of a store (no lock files): the copy stays. */
	make_store(fx->db, 2);
	rm_in(fx->db, "lock.mdb");
	rm_in(fx->db, STORE_LOCK_FILE);
	p = st_join(fx->db, "data.mdb");
	before = st_listing(fx->db);
	st = open_ok(fx->db, 0);
	store_close_discard(st);
	after = st_listing(fx->db);
	assert_string_equal(before, after);
	free(before);
	free(after);
	st = open_ok(fx->db, 0);
	assert_int_equal(store_load(st), STORE_OK);
	assert_true(store_generation(st) == 2);
	store_close(st);
	free(p);
}

static void
t_codec(void **state)
{
	struct store_wbuf	 w;
	struct store_rbuf	 r;
	const unsigned char	*rest;
	char			*s;
	size_t			 n;

	store_w_init(&w);
	store_w_u8(&w, 7);
	store_w_u16(&w, 0x1234);
	store_w_u32(&w, 0xdeadbeef);
	store_w_u64(&w, 0x0102030405060708ull);
	store_w_str(&w, "hello");
	store_w_bytes(&w, "tail", 4);
	assert_memory_equal(w.p + 3, "\xde\xad\xbe\xef", 4);
	store_r_init(&r, w.p, w.len);
	assert_int_equal(store_r_u8(&r), 7);
	assert_int_equal(store_r_u16(&r), 0x1234);
	assert_int_equal(store_r_u32(&r), 0xdeadbeef);
	assert_true(store_r_u64(&r) == 0x0102030405060708ull);
	s = store_r_str(&r);
	assert_string_equal(s, "hello");
	free(s);
	rest = store_r_rest(&r, &n);
	assert_int_equal(n, 4);
	assert_memory_equal(rest, "tail", 4);
	assert_int_equal(store_r_end(&r), 0);

	/* Leftover bytes, truncation, a NUL inside a string. */
	store_r_init(&r, w.p, 2);
	store_r_u8(&r);
	assert_int_equal(store_r_end(&r), -1);
	store_r_init(&r, w.p, 3);
	store_r_u32(&r);
	assert_int_equal(store_r_end(&r), -1);
	assert_int_equal(store_r_u8(&r), 0);	/* sticky */
	store_r_init(&r, "\0\3a\0b", 5);
	assert_null(store_r_str(&r));
	assert_int_equal(store_r_end(&r), -1);
	store_w_free(&w);
}

static void
t_strerror(void **state)
{
	int	 e;

	for (e = STORE_OK; e >= STORE_ERDONLY; e--)
		assert_string_not_equal(store_strerror(e), "unknown error");
	assert_string_equal(store_strerror(1), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_create_and_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_missing_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(t_not_a_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(t_refused_leaves_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_readonly_empty_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_lock_same_process, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_lock_other_process, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_foreign_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(t_foreign_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_foreign_lmdb, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_wrong_format_mark, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_newer_schema, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_migrate_from_1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_older_schema, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_bad_meta_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_missing_dbi, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_stale_readers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(t_short_valid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_short_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_walk_counts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_empty_data_mdb, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_migrate_grows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_fsync_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(t_close_discard, setup,
		    teardown),
		cmocka_unit_test(t_codec),
		cmocka_unit_test(t_strerror),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

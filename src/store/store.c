/*
 * store.c: the LMDB environment and its lifecycle: the owner lock, the
 * checks that refuse foreign, corrupt or newer stores, schema migration,
 * map growth and error translation.  It knows nothing of the world:
 * store-write.c has the write loop that keeps the two in step.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/xmalloc.h"
#include "store/store-int.h"

const char *const store_dbi_names[DBI_COUNT] = {
	"meta", "instances", "keys", "keypolicies", "tags", "aliases",
	"policies", "policyversions", "users", "roles", "groups",
	"deletions"
};

/*
 * Migrations: migrations[v] turns schema v into v + 1 inside the open
 * write transaction.  A store older than STORE_SCHEMA_MIN is refused.
 * 1 -> 2: the deletions DBI (scheduled key deletions).
 */
#define STORE_SCHEMA_MIN	1
typedef int (*store_migrate_fn)(struct store *, MDB_txn *);
static const store_migrate_fn store_migrations[STORE_SCHEMA_VERSION + 1] = {
	[1] = store_migrate_deletions
};

static int	store_lock(struct store *);
static int	store_dir_check(struct store *);
static int	store_env_open(struct store *, const struct store_opts *);
static int	store_meta_init(struct store *, MDB_txn *);
static int	store_meta_check(struct store *, MDB_txn *);
static int	store_fsync_dir(const char *);

const char *
store_strerror(int err)
{
	switch (err) {
	case STORE_OK:		return ("success");
	case STORE_ENOTFOUND:	return ("not found");
	case STORE_EEXIST:	return ("already exists");
	case STORE_ELIMIT:	return ("limit exceeded");
	case STORE_EFULL:	return ("store full");
	case STORE_EIO:		return ("I/O error");
	case STORE_ECORRUPT:	return ("corrupt or foreign store");
	case STORE_ELOCKED:	return ("store locked");
	case STORE_EVERSION:	return ("unsupported schema version");
	case STORE_EINVAL:	return ("invalid argument");
	case STORE_ESTATE:	return ("instance not enabled");
	case STORE_EUNSUPPORTED: return ("key policy not supported");
	case STORE_EQUOTA:	return ("share quota exceeded");
	case STORE_EINUSE:	return ("still in use");
	case STORE_ENOMEM:	return ("out of memory");
	case STORE_ERDONLY:	return ("store is read-only");
	}
	return ("unknown error");
}

int
store_seterr(struct store *st, int err, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return (err);
}

/* The one place where LMDB and errno codes become store errors. */
int
store_err_mdb(struct store *st, int rc, const char *what)
{
	int	 err;

	switch (rc) {
	case MDB_SUCCESS:
		return (STORE_OK);
	case MDB_NOTFOUND:
		err = STORE_ENOTFOUND;
		break;
	case MDB_KEYEXIST:
		err = STORE_EEXIST;
		break;
	case MDB_MAP_FULL:
		err = STORE_EFULL;	/* the write loop grows and retries */
		break;
	case MDB_TXN_FULL:
		err = STORE_ELIMIT;
		break;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INCOMPATIBLE:
	case MDB_PANIC:
		err = STORE_ECORRUPT;
		break;
	case MDB_VERSION_MISMATCH:
		err = STORE_EVERSION;
		break;
	case MDB_BAD_VALSIZE:
		err = STORE_ELIMIT;
		break;
	case ENOMEM:
		err = STORE_ENOMEM;
		break;
	case EROFS:
		err = STORE_EIO;
		break;
	default:
		err = STORE_EIO;
		break;
	}
	return (store_seterr(st, err, "%s: %s: %s", st->dir, what,
	    mdb_strerror(rc)));
}

static char *
store_path(const char *dir, const char *file)
{
	char	*p;

	xasprintf(&p, "%s/%s", dir, file);
	return (p);
}

/*
 * The owner lock: flock on dir/kmsauthz.lock (per open file, so a second
 * open in the same process is refused too), the holder's pid written in
 * the file for the next one to name.  The kernel drops the lock when the
 * holder dies, however it dies.
 */
static int
store_lock(struct store *st)
{
	char	*path, buf[32];
	ssize_t	 n;
	int	 fd, len, saved;

	path = store_path(st->dir, STORE_LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		store_seterr(st, STORE_EIO, "%s: cannot open lock file: %s",
		    path, strerror(errno));
		free(path);
		return (STORE_EIO);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		if (saved == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			store_seterr(st, STORE_ELOCKED, "%s: store is in use "
			    "by pid %s (lock file %s)", st->dir,
			    buf[0] != '\0' ? buf : "unknown", path);
		} else
			store_seterr(st, STORE_EIO, "%s: cannot lock: %s",
			    path, strerror(saved));
		close(fd);
		free(path);
		return (saved == EWOULDBLOCK ? STORE_ELOCKED : STORE_EIO);
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, len, 0) != len) {
		store_seterr(st, STORE_EIO, "%s: cannot write lock file: %s",
		    path, strerror(errno));
		close(fd);
		free(path);
		return (STORE_EIO);
	}
	free(path);
	st->lockfd = fd;
	return (STORE_OK);
}

/*
 * A directory without data.mdb becomes a store only when it holds
 * nothing else than what a store (or an interrupted creation) leaves:
 * never initialise over somebody else's files.
 */
static int
store_dir_check(struct store *st)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		*path;
	int		 rc = STORE_OK;

	path = store_path(st->dir, "data.mdb");
	if (stat(path, &sb) == 0) {
		free(path);
		if (!S_ISREG(sb.st_mode))
			return (store_seterr(st, STORE_ECORRUPT, "%s/data.mdb: "
			    "not a regular file", st->dir));
		return (STORE_OK);
	}
	free(path);
	if (errno != ENOENT)
		return (store_seterr(st, STORE_EIO, "%s/data.mdb: %s",
		    st->dir, strerror(errno)));
	if (st->readonly)
		return (store_seterr(st, STORE_ENOTFOUND, "%s: no store here "
		    "(no data.mdb)", st->dir));
	if ((d = opendir(st->dir)) == NULL)
		return (store_seterr(st, STORE_EIO, "%s: %s", st->dir,
		    strerror(errno)));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, STORE_LOCK_FILE) == 0 ||
		    strcmp(de->d_name, "lock.mdb") == 0)
			continue;
		rc = store_seterr(st, STORE_ECORRUPT, "%s: not a kmsauthz "
		    "store: the directory holds \"%s\" but no data.mdb; "
		    "refusing to initialise it", st->dir, de->d_name);
		break;
	}
	closedir(d);
	return (rc);
}

static int
store_fsync_dir(const char *dir)
{
	int	 fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rc = fsync(fd);
	close(fd);
	return (rc);
}

static int
store_env_open(struct store *st, const struct store_opts *o)
{
	MDB_envinfo	 info;
	unsigned int	 flags = MDB_NOTLS;
	int		 rc;

	if ((rc = mdb_env_create(&st->env)) != 0)
		return (store_err_mdb(st, rc, "mdb_env_create"));
	if ((rc = mdb_env_set_maxdbs(st->env, DBI_COUNT + 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, st->map_size)) != 0)
		return (store_err_mdb(st, rc, "configuring the environment"));
	if (st->readonly)
		flags |= MDB_RDONLY;
	if ((rc = mdb_env_open(st->env, st->dir, flags, 0600)) != 0) {
		if (rc == MDB_INVALID)
			return (store_seterr(st, STORE_ECORRUPT, "%s/data.mdb: "
			    "not an LMDB file (foreign or corrupt)", st->dir));
		if (rc == MDB_VERSION_MISMATCH)
			return (store_seterr(st, STORE_EVERSION, "%s/data.mdb: "
			    "LMDB format version mismatch", st->dir));
		return (store_err_mdb(st, rc, "opening the environment"));
	}
	if ((rc = mdb_env_info(st->env, &info)) != 0)
		return (store_err_mdb(st, rc, "mdb_env_info"));
	st->map_size = info.me_mapsize;
	return (STORE_OK);
}

/* A brand-new store: every DBI, the format mark, schema, generation 0. */
static int
store_meta_init(struct store *st, MDB_txn *txn)
{
	struct store_wbuf	 w;
	MDB_val			 k, v;
	int			 i, rc;
	uint32_t		 schema = STORE_SCHEMA_VERSION;

	for (i = 0; i < DBI_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_dbi_names[i], MDB_CREATE,
		    &st->dbi[i]);
		if (rc != 0)
			return (store_err_mdb(st, rc, "creating the databases"));
	}
	k.mv_data = (void *)"format";
	k.mv_size = 6;
	v.mv_data = (void *)STORE_FORMAT;
	v.mv_size = strlen(STORE_FORMAT);
	if ((rc = mdb_put(txn, st->dbi[DBI_META], &k, &v, 0)) != 0)
		return (store_err_mdb(st, rc, "writing metadata"));
	store_w_init(&w);
	store_w_u32(&w, schema);
	k.mv_data = (void *)"schema";
	k.mv_size = 6;
	v.mv_data = w.p;
	v.mv_size = w.len;
	rc = mdb_put(txn, st->dbi[DBI_META], &k, &v, 0);
	store_w_free(&w);
	if (rc != 0)
		return (store_err_mdb(st, rc, "writing metadata"));
	store_w_u64(&w, 0);
	k.mv_data = (void *)"generation";
	k.mv_size = 10;
	v.mv_data = w.p;
	v.mv_size = w.len;
	rc = mdb_put(txn, st->dbi[DBI_META], &k, &v, 0);
	store_w_free(&w);
	if (rc != 0)
		return (store_err_mdb(st, rc, "writing metadata"));
	st->generation = 0;
	return (STORE_OK);
}

int
store_meta_get_u(struct store *st, MDB_txn *txn, const char *name,
    size_t size, uint64_t *vp)
{
	struct store_rbuf	 r;
	MDB_val			 k, v;
	int			 rc;

	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	if ((rc = mdb_get(txn, st->dbi[DBI_META], &k, &v)) != 0) {
		if (rc == MDB_NOTFOUND)
			return (store_seterr(st, STORE_ECORRUPT, "%s: metadata "
			    "record \"%s\" missing", st->dir, name));
		return (store_err_mdb(st, rc, "reading metadata"));
	}
	store_r_init(&r, v.mv_data, v.mv_size);
	*vp = size == 4 ? store_r_u32(&r) : store_r_u64(&r);
	if (store_r_end(&r) != 0)
		return (store_seterr(st, STORE_ECORRUPT, "%s: metadata record "
		    "\"%s\" malformed", st->dir, name));
	return (STORE_OK);
}

/* An existing store: ours, not newer, migrated if older, complete. */
static int
store_meta_check(struct store *st, MDB_txn *txn)
{
	struct store_wbuf	 w;
	MDB_val			 k, v;
	uint64_t		 schema;
	int			 i, rc;

	rc = mdb_dbi_open(txn, "meta", 0, &st->dbi[DBI_META]);
	if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE)
		return (store_seterr(st, STORE_ECORRUPT, "%s: not a kmsauthz "
		    "store (an LMDB environment without kmsauthz metadata)",
		    st->dir));
	if (rc != 0)
		return (store_err_mdb(st, rc, "opening metadata"));
	k.mv_data = (void *)"format";
	k.mv_size = 6;
	rc = mdb_get(txn, st->dbi[DBI_META], &k, &v);
	if (rc == MDB_NOTFOUND || (rc == 0 &&
	    (v.mv_size != strlen(STORE_FORMAT) ||
	    memcmp(v.mv_data, STORE_FORMAT, v.mv_size) != 0)))
		return (store_seterr(st, STORE_ECORRUPT, "%s: not a kmsauthz "
		    "store (format mark missing or wrong)", st->dir));
	if (rc != 0)
		return (store_err_mdb(st, rc, "reading metadata"));
	if ((rc = store_meta_get_u(st, txn, "schema", 4, &schema)) != 0)
		return (rc);
	if (schema > STORE_SCHEMA_VERSION)
		return (store_seterr(st, STORE_EVERSION, "%s: schema version "
		    "%llu is newer than this build supports (%d); use a newer "
		    "kmsauthz", st->dir, (unsigned long long)schema,
		    STORE_SCHEMA_VERSION));
	if (schema < STORE_SCHEMA_MIN)
		return (store_seterr(st, STORE_EVERSION, "%s: schema version "
		    "%llu is older than the oldest this build can migrate "
		    "(%d)", st->dir, (unsigned long long)schema,
		    STORE_SCHEMA_MIN));
	if (schema < STORE_SCHEMA_VERSION && st->readonly)
		return (store_seterr(st, STORE_EVERSION, "%s: schema version "
		    "%llu needs migration to %d; open it for writing first",
		    st->dir, (unsigned long long)schema, STORE_SCHEMA_VERSION));
	for (; schema < STORE_SCHEMA_VERSION; schema++) {
		if (store_migrations[schema] == NULL)
			return (store_seterr(st, STORE_EVERSION, "%s: no "
			    "migration from schema version %llu", st->dir,
			    (unsigned long long)schema));
		if ((rc = store_migrations[schema](st, txn)) != 0)
			return (rc);
		store_w_init(&w);
		store_w_u32(&w, (uint32_t)schema + 1);
		k.mv_data = (void *)"schema";
		k.mv_size = 6;
		v.mv_data = w.p;
		v.mv_size = w.len;
		rc = mdb_put(txn, st->dbi[DBI_META], &k, &v, 0);
		store_w_free(&w);
		if (rc != 0)
			return (store_err_mdb(st, rc, "migrating"));
	}
	for (i = 1; i < DBI_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_dbi_names[i], 0, &st->dbi[i]);
		if (rc == MDB_NOTFOUND)
			return (store_seterr(st, STORE_ECORRUPT, "%s: database "
			    "\"%s\" missing", st->dir, store_dbi_names[i]));
		if (rc != 0)
			return (store_err_mdb(st, rc, "opening the databases"));
	}
	return (store_meta_get_u(st, txn, "generation", 8, &st->generation));
}

int
store_open(const char *dir, const struct store_opts *o, struct store **stp,
    char **causep)
{
	struct store_opts	 defopts;
	struct store		*st;
	struct stat		 sb;
	MDB_txn			*txn = NULL;
	MDB_stat		 ms;
	MDB_dbi			 main;
	int			 rc, dead, fresh = 0;

	*stp = NULL;
	*causep = NULL;
	if (o == NULL) {
		memset(&defopts, 0, sizeof(defopts));
		o = &defopts;
	}
	if (sodium_init() < 0) {
		xasprintf(causep, "%s: libsodium failed to initialise", dir);
		return (STORE_EIO);
	}
	st = xcalloc(1, sizeof(*st));
	st->dir = xstrdup(dir);
	st->lockfd = -1;
	st->readonly = o->readonly;
	st->map_max = o->map_max ? o->map_max : STORE_MAP_MAX_DEFAULT;
	st->map_size = o->map_size ? o->map_size : STORE_MAP_SIZE_DEFAULT;
	if (st->map_size > st->map_max)
		st->map_size = st->map_max;
	st->ram_policy_max = o->ram_policy_max;

	if (stat(dir, &sb) == -1) {
		if (errno != ENOENT || !o->create || o->readonly) {
			rc = store_seterr(st, errno == ENOENT ? STORE_ENOTFOUND :
			    STORE_EIO, "%s: %s", dir, strerror(errno));
			goto fail;
		}
		if (mkdir(dir, 0700) == -1) {
			rc = store_seterr(st, STORE_EIO, "%s: cannot create: "
			    "%s", dir, strerror(errno));
			goto fail;
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		rc = store_seterr(st, STORE_EIO, "%s: not a directory", dir);
		goto fail;
	}
	if (!st->readonly && (rc = store_lock(st)) != 0)
		goto fail;
	if ((rc = store_dir_check(st)) != 0)
		goto fail;
	if ((rc = store_env_open(st, o)) != 0)
		goto fail;
	if ((rc = mdb_reader_check(st->env, &dead)) != 0) {
		rc = store_err_mdb(st, rc, "clearing stale readers");
		goto fail;
	}
	st->stale_readers = dead;
	rc = mdb_txn_begin(st->env, NULL, st->readonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		rc = store_err_mdb(st, rc, "beginning the first transaction");
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0 ||
	    (rc = mdb_stat(txn, main, &ms)) != 0) {
		rc = store_err_mdb(st, rc, "reading the main database");
		goto fail;
	}
	if (ms.ms_entries == 0) {
		if (st->readonly) {
			rc = store_seterr(st, STORE_ENOTFOUND, "%s: the store "
			    "is empty (never initialised)", dir);
			goto fail;
		}
		fresh = 1;
		rc = store_meta_init(st, txn);
	} else
		rc = store_meta_check(st, txn);
	if (rc != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		rc = store_err_mdb(st, rc, "committing the first transaction");
		goto fail;
	}
	/* Make the new files' names durable too. */
	if (fresh && store_fsync_dir(dir) == -1) {
		rc = store_seterr(st, STORE_EIO, "%s: fsync: %s", dir,
		    strerror(errno));
		goto fail;
	}
	st->errmsg[0] = '\0';
	*stp = st;
	return (STORE_OK);
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	*causep = xstrdup(st->errmsg);
	store_close(st);
	return (rc);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->holder != NULL && st->holder_free != NULL)
		st->holder_free(st->holder);
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->lockfd != -1)
		close(st->lockfd);	/* releases the lock */
	free(st->dir);
	free(st);
}

const char *
store_errmsg(const struct store *st)
{
	return (st->errmsg);
}

const char *
store_dir(const struct store *st)
{
	return (st->dir);
}

uint64_t
store_generation(const struct store *st)
{
	return (st->generation);
}

size_t
store_map_size(const struct store *st)
{
	return (st->map_size);
}

/* A read transaction; picks up a map another process has grown. */
int
store_rtxn(struct store *st, MDB_txn **txnp)
{
	int	 rc;

	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txnp);
	if (rc == MDB_MAP_RESIZED) {
		if ((rc = mdb_env_set_mapsize(st->env, 0)) == 0)
			rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txnp);
	}
	if (rc != 0) {
		*txnp = NULL;
		return (store_err_mdb(st, rc, "beginning a read transaction"));
	}
	return (STORE_OK);
}

/*
 * Doubles the map, up to the ceiling.  Only called with no transaction
 * open in this process (LMDB's condition for mdb_env_set_mapsize).
 */
int
store_grow(struct store *st)
{
	MDB_envinfo	 info;
	size_t		 cur, next;
	long		 pg;
	int		 rc;

	if ((rc = mdb_env_info(st->env, &info)) != 0)
		return (store_err_mdb(st, rc, "mdb_env_info"));
	cur = info.me_mapsize;
	if (cur >= st->map_max)
		return (store_seterr(st, STORE_EFULL, "%s: the store is full: "
		    "the map reached its ceiling of %zu bytes (raise "
		    "map_size_max); the change was not stored", st->dir,
		    st->map_max));
	next = cur > st->map_max / 2 ? st->map_max : cur * 2;
	pg = sysconf(_SC_PAGESIZE);
	if (pg > 0)
		next -= next % (size_t)pg;
	if (next <= cur)
		next = st->map_max;
	if ((rc = mdb_env_set_mapsize(st->env, next)) != 0)
		return (store_err_mdb(st, rc, "growing the map"));
	if ((rc = mdb_env_info(st->env, &info)) != 0)
		return (store_err_mdb(st, rc, "mdb_env_info"));
	st->map_size = info.me_mapsize;
	return (STORE_OK);
}

int
store_is_empty(struct store *st)
{
	MDB_txn		*txn;
	MDB_stat	 ms;
	int		 i, empty = 1;

	if (store_rtxn(st, &txn) != STORE_OK)
		return (0);
	for (i = 1; i < DBI_COUNT && empty; i++)
		if (mdb_stat(txn, st->dbi[i], &ms) != 0 || ms.ms_entries != 0)
			empty = 0;
	mdb_txn_abort(txn);
	return (empty);
}

int
store_backup(struct store *st, const char *dest)
{
	struct stat	 sb;
	char		*path;
	int		 rc;

	if (stat(dest, &sb) == -1) {
		if (errno != ENOENT || mkdir(dest, 0700) == -1)
			return (store_seterr(st, STORE_EIO, "%s: %s", dest,
			    strerror(errno)));
	} else if (!S_ISDIR(sb.st_mode))
		return (store_seterr(st, STORE_EIO, "%s: not a directory",
		    dest));
	path = store_path(dest, "data.mdb");
	if (access(path, F_OK) == 0) {
		store_seterr(st, STORE_EEXIST, "%s: already holds a store",
		    dest);
		free(path);
		return (STORE_EEXIST);
	}
	/* A copy, with compaction, from one read transaction. */
	rc = mdb_env_copy2(st->env, dest, MDB_CP_COMPACT);
	if (rc != 0) {
		unlink(path);
		free(path);
		return (store_seterr(st, rc == MDB_MAP_FULL ? STORE_EFULL :
		    STORE_EIO, "%s: backup failed: %s", dest,
		    mdb_strerror(rc)));
	}
	free(path);
	if (store_fsync_dir(dest) == -1)
		return (store_seterr(st, STORE_EIO, "%s: fsync: %s", dest,
		    strerror(errno)));
	return (STORE_OK);
}

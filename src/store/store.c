/* SPDX-License-Identifier: ISC */
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
#include "store/store-walk.h"

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

static int	store_unwritable(int);
static int	store_lock(struct store *, int, int *);
static int	store_dir_check(struct store *);
static void	store_set_rdonly(struct store *, const char *, int);
static int	store_can_open(const struct store *, const char *, int, int *);
static int	store_env_open(struct store *);
static void	store_exist(const char *, int *);
static void	store_open_undo(struct store *, const int *, int);
static int	store_meta_init(struct store *, MDB_txn *);
static int	store_meta_check(struct store *, MDB_txn *);
static int	store_marker(struct store *, int);
static int	store_first_txn(struct store *, int *);

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
	case STORE_EUNAVAIL:	return ("fleet unavailable");
	case STORE_ECONFLICT:	return ("conflicting change");
	}
	return ("unknown error");
}

char *
store_errbuf(void)
{
	static _Thread_local char	 buf[STORE_ERRMAX];

	return (buf);
}

int
store_seterr(struct store *st, int err, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(store_errbuf(), STORE_ERRMAX, fmt, ap);
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

char *
store_path(const char *dir, const char *file)
{
	char	*p;

	xasprintf(&p, "%s/%s", dir, file);
	return (p);
}

/* errno values that say "not writable here", not "broken". */
static int
store_unwritable(int e)
{
	return (e == EACCES || e == EPERM || e == EROFS);
}

/*
 * The owner lock: flock on dir/kmsauthz.lock (per open file, so a second
 * open in the same process is refused too), the holder's pid written in
 * the file for the next one to name.  The kernel drops the lock when the
 * holder dies, however it dies.
 *
 * how: STORE_LOCK_OWNER, a writer: O_RDWR|O_CREAT, LOCK_EX, the pid
 * written.  STORE_LOCK_RDONLY, a read-only owner (the daemon on a store
 * it cannot write): the existing file O_RDONLY (flock works on any open
 * file), LOCK_EX, no pid.  STORE_LOCK_SHARED, a reader that cannot use
 * LMDB's lock file: O_RDONLY, LOCK_SH (writers excluded, readers not).
 * For the two read-only ways the file may be absent or unreadable: then
 * STORE_ENOTFOUND with *errnop set, and no message.
 */
#define STORE_LOCK_OWNER	0
#define STORE_LOCK_RDONLY	1
#define STORE_LOCK_SHARED	2
static int
store_lock(struct store *st, int how, int *errnop)
{
	char	*path, buf[32];
	ssize_t	 n;
	int	 fd, len, saved;

	*errnop = 0;
	path = store_path(st->dir, STORE_LOCK_FILE);
	if (how == STORE_LOCK_OWNER)
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		*errnop = st->lock_err = errno;
		if (how != STORE_LOCK_OWNER &&
		    (errno == ENOENT || store_unwritable(errno))) {
			free(path);
			return (STORE_ENOTFOUND);
		}
		store_seterr(st, STORE_EIO, "%s: cannot open lock file: %s",
		    path, strerror(errno));
		free(path);
		return (STORE_EIO);
	}
	if (flock(fd, (how == STORE_LOCK_SHARED ? LOCK_SH : LOCK_EX) |
	    LOCK_NB) == -1) {
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
	if (how == STORE_LOCK_OWNER) {
		len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) == -1 ||
		    pwrite(fd, buf, len, 0) != len) {
			store_seterr(st, STORE_EIO, "%s: cannot write lock "
			    "file: %s", path, strerror(errno));
			close(fd);
			free(path);
			return (STORE_EIO);
		}
	}
	free(path);
	st->lockfd = fd;
	st->lockfd_rw = how == STORE_LOCK_OWNER;
	return (STORE_OK);
}

/*
 * A directory without data.mdb becomes a store only when it holds
 * nothing else than what a store (or an interrupted creation) leaves:
 * never initialise over somebody else's files.  Runs before anything is
 * created in the directory.
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
		if (sb.st_size != 0)
			return (STORE_OK);
		/*
		 * Empty: an interrupted creation only when the creation
		 * marker says so (written before data.mdb existed, removed
		 * after the first commit).  Without it the store may have
		 * existed and been truncated: never re-initialise that.
		 */
		path = store_path(st->dir, STORE_CREATING_FILE);
		rc = lstat(path, &sb) == 0;
		free(path);
		if (!rc)
			return (store_seterr(st, STORE_ECORRUPT, "%s/data.mdb: "
			    "empty (0 bytes), and no %s marks an interrupted "
			    "creation: the store was truncated or lost; "
			    "refusing to re-initialise it (move the directory "
			    "away to start a new store)", st->dir,
			    STORE_CREATING_FILE));
		if (st->readonly)
			return (store_seterr(st, STORE_ENOTFOUND, "%s: the "
			    "store is empty: its creation was interrupted "
			    "(data.mdb is 0 bytes, %s present)%s%s%s", st->dir,
			    STORE_CREATING_FILE, st->rdonly_why[0] != '\0' ?
			    "; not writable (" : "", st->rdonly_why,
			    st->rdonly_why[0] != '\0' ? "): cannot initialise "
			    "it" : ""));
		return (STORE_OK);
	}
	free(path);
	if (errno != ENOENT)
		return (store_seterr(st, STORE_EIO, "%s/data.mdb: %s",
		    st->dir, strerror(errno)));
	if (st->readonly && st->rdonly_why[0] != '\0')
		return (store_seterr(st, STORE_ENOTFOUND, "%s: not writable "
		    "(%s) and no store to serve read-only (no data.mdb): "
		    "nothing to serve, cannot initialise it", st->dir,
		    st->rdonly_why));
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
		    strcmp(de->d_name, STORE_CREATING_FILE) == 0 ||
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

int
store_fsync_dir(const char *dir)
{
	int	 fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rc = fsync(fd);
	close(fd);
	return (rc);
}

/* The directory holding path (a new directory's name is in it). */
int
store_fsync_parent(const char *path)
{
	char	*p, *slash;
	int	 rc;

	p = xstrdup(path);
	while ((slash = strrchr(p, '/')) != NULL && slash[1] == '\0' &&
	    slash != p)
		*slash = '\0';		/* trailing slashes */
	if ((slash = strrchr(p, '/')) == NULL)
		rc = store_fsync_dir(".");
	else {
		slash[slash == p ? 1 : 0] = '\0';
		rc = store_fsync_dir(p);
	}
	free(p);
	return (rc);
}

/*
 * The creation marker: written (and its name made durable) before LMDB
 * creates data.mdb, removed after the first commit made the store
 * durable.  A zero-length data.mdb is an interrupted creation only
 * beside it (store_dir_check).
 */
static int
store_marker(struct store *st, int create)
{
	char	*path;
	int	 fd, e;

	path = store_path(st->dir, STORE_CREATING_FILE);
	if (create) {
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		e = errno;
		if (fd != -1)
			close(fd);
		if (fd == -1 || store_fsync_dir(st->dir) == -1) {
			if (fd != -1)
				e = errno;
			store_seterr(st, STORE_EIO, "%s: %s", path,
			    strerror(e));
			free(path);
			return (STORE_EIO);
		}
	} else if (unlink(path) == -1 && errno != ENOENT) {
		store_seterr(st, STORE_EIO, "%s: cannot remove: %s", path,
		    strerror(errno));
		free(path);
		return (STORE_EIO);
	}
	free(path);
	return (STORE_OK);
}

/*
 * Every page LMDB may read is checked before it reads one: LMDB trusts
 * its pages, and a damaged one is SIGBUS or SIGSEGV anywhere (a page
 * number past the end of the file, a node offset or size out of its
 * page, a free-list record longer than its data).  LMDB reads the two
 * meta pages with pread at open (a shorter file is MDB_INVALID there)
 * and maps the rest; store_walk reads every page reachable from the
 * meta of a read transaction with pread (that transaction keeps a
 * writer from reusing one meanwhile) and refuses the store, naming the
 * database and the page, at the first fault.
 *
 * full: the whole walk (every open).  Without it (after the map grew,
 * the pages already walked) only a file shorter than its last page is
 * walked: it may still be valid (loose pages at the top are never
 * written: ITS#7886, store-walk.c).
 */
static int
store_size_check(struct store *st, int full)
{
	struct store_walk w;
	MDB_envinfo	 info;
	MDB_stat	 ms;
	MDB_txn		*txn;
	struct stat	 sb;
	mdb_filehandle_t fd;
	size_t		 need;
	int		 rc, try;

	if ((rc = mdb_env_info(st->env, &info)) != 0 ||
	    (rc = mdb_env_stat(st->env, &ms)) != 0 ||
	    (rc = mdb_env_get_fd(st->env, &fd)) != 0)
		return (store_err_mdb(st, rc, "reading the environment"));
	if (fstat(fd, &sb) == -1)
		return (store_seterr(st, STORE_EIO, "%s/data.mdb: %s", st->dir,
		    strerror(errno)));
	need = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
	if (!full && (uintmax_t)sb.st_size >= (uintmax_t)need)
		return (STORE_OK);

	/* Retried only if a writer commits twice while the walk starts. */
	for (try = 0;; try++) {
		if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
			return (store_err_mdb(st, rc, "mdb_txn_begin"));
		memset(&w, 0, sizeof(w));
		w.fd = fd;
		w.psize = ms.ms_psize;
		w.txnid = mdb_txn_id(txn);
		if (fstat(fd, &sb) == -1) {
			mdb_txn_abort(txn);
			return (store_seterr(st, STORE_EIO, "%s/data.mdb: %s",
			    st->dir, strerror(errno)));
		}
		w.size = sb.st_size;
		rc = store_walk(&w);
		/*
		 * The meta walked is the read transaction's.  When it is also
		 * the newer one, mdb_env_info describes it too: a different
		 * last page would mean the walk misreads the layout.
		 */
		if (rc == STORE_OK && w.newest &&
		    mdb_env_info(st->env, &info) == 0 &&
		    info.me_last_txnid == w.txnid &&
		    info.me_last_pgno != w.last_pg) {
			snprintf(w.err, sizeof(w.err), "the meta page of "
			    "transaction %ju says its last page is %zu, LMDB "
			    "%zu", (uintmax_t)w.txnid, w.last_pg,
			    (size_t)info.me_last_pgno);
			rc = STORE_ECORRUPT;
		}
		mdb_txn_abort(txn);
		store_walk_free(&w);
		if (rc != STORE_WALK_EAGAIN || try == 3)
			break;
	}
	if (rc == STORE_OK)
		return (STORE_OK);
	if (rc == STORE_EIO)
		return (store_seterr(st, STORE_EIO, "%s/data.mdb: %s", st->dir,
		    w.err));
	if (w.truncated)
		return (store_seterr(st, STORE_ECORRUPT, "%s/data.mdb: "
		    "truncated: %s: the file is truncated (restore it from a "
		    "backup)", st->dir, w.err));
	return (store_seterr(st, STORE_ECORRUPT, "%s/data.mdb: corrupt: %s "
	    "(restore it from a backup, or import an export into a new "
	    "store)", st->dir, w.err));
}

/*
 * The environment just opened or grown: its pages checked
 * (store_size_check; a refused one is closed), its map's size as LMDB
 * has it.
 */
int
store_map_check(struct store *st, int full)
{
	MDB_envinfo	 info;
	int		 rc;

	if ((rc = store_size_check(st, full)) != STORE_OK) {
		mdb_env_close(st->env);
		st->env = NULL;
		return (rc);
	}
	if ((rc = mdb_env_info(st->env, &info)) != 0)
		return (store_err_mdb(st, rc, "mdb_env_info"));
	st->map_size = info.me_mapsize;
	return (STORE_OK);
}

/* Falls back to read-only, recording why (the first reason wins). */
static void
store_set_rdonly(struct store *st, const char *file, int err)
{
	st->readonly = 1;
	if (st->rdonly_why[0] == '\0')
		snprintf(st->rdonly_why, sizeof(st->rdonly_why), "%s/%s: %s",
		    st->dir, file, strerror(err));
}

/* 1 when DIR/file can be opened with flags (nothing created). */
static int
store_can_open(const struct store *st, const char *file, int flags,
    int *errp)
{
	char	*path;
	int	 fd;

	path = store_path(st->dir, file);
	fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
	*errp = fd == -1 ? errno : 0;
	free(path);
	if (fd == -1)
		return (0);
	close(fd);
	return (1);
}

/*
 * The environment, with st->readonly's flags.  A writer with
 * readonly_ok that meets EACCES/EPERM/EROFS falls back to read-only.
 * Read-only, LMDB still opens lock.mdb for writing (its reader table;
 * it skips the file only on EROFS); when that file cannot be opened
 * the environment is opened MDB_NOLOCK, which is safe only while no
 * writer can exist: the caller then holds kmsauthz.lock (LOCK_EX as a
 * read-only owner, LOCK_SH as a reader), which every writer must take
 * exclusively first, or refuses.
 */
static int
store_env_open(struct store *st)
{
	unsigned int	 flags;
	char		 why[STORE_ERRMAX];
	int		 rc, e, lrc;

	for (;;) {
		flags = MDB_NOTLS;
		if (st->readonly)
			flags |= MDB_RDONLY;
		if (st->nolock)
			flags |= MDB_NOLOCK;
		if ((rc = mdb_env_create(&st->env)) != 0)
			return (store_err_mdb(st, rc, "mdb_env_create"));
		if ((rc = mdb_env_set_maxdbs(st->env, DBI_COUNT + 4)) != 0 ||
		    (rc = mdb_env_set_mapsize(st->env, st->map_size)) != 0)
			return (store_err_mdb(st, rc,
			    "configuring the environment"));
		if ((rc = mdb_env_open(st->env, st->dir, flags, 0600)) == 0)
			break;
		mdb_env_close(st->env);
		st->env = NULL;
		if (rc == MDB_INVALID)
			return (store_seterr(st, STORE_ECORRUPT, "%s/data.mdb: "
			    "not an LMDB file (foreign or corrupt)", st->dir));
		if (rc == MDB_VERSION_MISMATCH)
			return (store_seterr(st, STORE_EVERSION, "%s/data.mdb: "
			    "LMDB format version mismatch", st->dir));
		if (!store_unwritable(rc) || st->nolock)
			return (store_err_mdb(st, rc,
			    "opening the environment"));
		/* Which file: data.mdb named first, then LMDB's lock file. */
		if (!store_can_open(st, "data.mdb", st->readonly ? O_RDONLY :
		    O_RDWR, &e) && e != ENOENT) {
			if (st->readonly || !st->fallback ||
			    !store_unwritable(e))
				return (store_seterr(st, STORE_EIO,
				    "%s/data.mdb: %s", st->dir, strerror(e)));
			store_set_rdonly(st, "data.mdb", e);
			continue;
		}
		/* A new store, or no fall-back: lock.mdb refused. */
		if (e == ENOENT || (!st->readonly && !st->fallback))
			return (store_seterr(st, STORE_EIO, "%s/lock.mdb: %s",
			    st->dir, strerror(rc)));
		if (!st->readonly) {
			store_set_rdonly(st, "lock.mdb", rc);
			continue;
		}
		/* Read-only and lock.mdb unusable: MDB_NOLOCK, if locked. */
		if (st->lockfd == -1 && !st->owner) {
			lrc = store_lock(st, STORE_LOCK_SHARED, &e);
			if (lrc != STORE_OK && lrc != STORE_ENOTFOUND) {
				snprintf(why, sizeof(why), "%s", store_errbuf());
				return (store_seterr(st, lrc, "%s; and its "
				    "LMDB lock file lock.mdb cannot be opened "
				    "(%s), so it can be read only while nobody "
				    "holds it (read it through the daemon, or "
				    "as a user who may write lock.mdb)", why,
				    strerror(rc)));
			}
		}
		if (st->lockfd == -1)
			return (store_seterr(st, STORE_EIO, "%s/lock.mdb: %s, "
			    "and the owner lock %s/%s cannot be taken (%s): "
			    "refusing to read without excluding writers",
			    st->dir, strerror(rc), st->dir, STORE_LOCK_FILE,
			    strerror(st->lock_err != 0 ? st->lock_err :
			    ENOENT)));
		st->nolock = 1;
	}
	return (store_map_check(st, 1));
}

/* A brand-new store: every DBI, the format mark, schema, generation 0. */
static int
store_meta_init(struct store *st, MDB_txn *txn)
{
	MDB_val	 k, v;
	int	 i, rc;

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
	if ((rc = store_meta_put_u(st, txn, "schema", 4, STORE_SCHEMA_VERSION,
	    "writing metadata")) != 0 ||
	    (rc = store_meta_put_u(st, txn, "generation", 8, 0,
	    "writing metadata")) != 0)
		return (rc);
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

int
store_meta_put_u(struct store *st, MDB_txn *txn, const char *name,
    size_t size, uint64_t val, const char *what)
{
	struct store_wbuf	 w;
	MDB_val			 k, v;
	int			 rc;

	store_w_init(&w);
	if (size == 4)
		store_w_u32(&w, (uint32_t)val);
	else
		store_w_u64(&w, val);
	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	v.mv_data = w.p;
	v.mv_size = w.len;
	rc = mdb_put(txn, st->dbi[DBI_META], &k, &v, 0);
	store_w_free(&w);
	return (rc != 0 ? store_err_mdb(st, rc, what) : STORE_OK);
}

/* An existing store: ours, not newer, migrated if older, complete. */
static int
store_meta_check(struct store *st, MDB_txn *txn)
{
	MDB_val		 k, v;
	uint64_t	 schema, gen;
	int		 i, rc;

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
		if ((rc = store_meta_put_u(st, txn, "schema", 4, schema + 1,
		    "migrating")) != 0)
			return (rc);
	}
	for (i = 1; i < DBI_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_dbi_names[i], 0, &st->dbi[i]);
		if (rc == MDB_NOTFOUND)
			return (store_seterr(st, STORE_ECORRUPT, "%s: database "
			    "\"%s\" missing", st->dir, store_dbi_names[i]));
		if (rc != 0)
			return (store_err_mdb(st, rc, "opening the databases"));
	}
	if ((rc = store_meta_get_u(st, txn, "generation", 8, &gen)) == 0)
		st->generation = gen;
	return (rc);
}

/*
 * The first transaction: a new store initialised, an existing one
 * checked and migrated.  A migration can need room the map does not
 * have: MDB_MAP_FULL grows the map and runs it again from the start,
 * as the write loop does for a change.
 */
static int
store_first_txn(struct store *st, int *freshp)
{
	MDB_txn		*txn;
	MDB_stat	 ms;
	MDB_dbi		 main;
	int		 rc;

	for (;;) {
		*freshp = 0;
		rc = mdb_txn_begin(st->env, NULL, st->readonly ? MDB_RDONLY :
		    0, &txn);
		if (rc != 0)
			return (store_err_mdb(st, rc, "beginning the first "
			    "transaction"));
		if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0 ||
		    (rc = mdb_stat(txn, main, &ms)) != 0) {
			mdb_txn_abort(txn);
			return (store_err_mdb(st, rc, "reading the main "
			    "database"));
		}
		if (ms.ms_entries == 0 && st->readonly)
			rc = store_seterr(st, STORE_ENOTFOUND, "%s: the store "
			    "is empty (never initialised)%s%s%s", st->dir,
			    st->rdonly_why[0] != '\0' ? " and not writable (" :
			    "", st->rdonly_why, st->rdonly_why[0] != '\0' ?
			    "): nothing to serve, cannot initialise it" : "");
		else if (ms.ms_entries == 0) {
			*freshp = 1;
			rc = store_meta_init(st, txn);
		} else
			rc = store_meta_check(st, txn);
		if (rc != STORE_OK)
			mdb_txn_abort(txn);
		else if ((rc = mdb_txn_commit(txn)) != 0)
			rc = store_err_mdb(st, rc, "committing the first "
			    "transaction");
		if (rc != STORE_EFULL || st->readonly)
			return (rc);
		/* The transaction is gone: grow, then from the start. */
		if ((rc = store_grow(st)) != STORE_OK)
			return (rc);
	}
}

/*
 * What a refused open must not leave behind: the files (and the
 * directory) that did not exist before it.
 */
static const char *const store_files[STORE_NFILES] = {
	STORE_LOCK_FILE, STORE_CREATING_FILE, "lock.mdb", "data.mdb"
};

static void
store_exist(const char *dir, int *exist)
{
	struct stat	 sb;
	char		*path;
	int		 i;

	for (i = 0; i < STORE_NFILES; i++) {
		path = store_path(dir, store_files[i]);
		exist[i] = lstat(path, &sb) == 0;
		free(path);
	}
}

/* Undoes a refused open: closes, then removes what it created. */
static void
store_open_undo(struct store *st, const int *existed, int made_dir)
{
	char	*path;
	int	 i;

	if (st->env != NULL)
		mdb_env_close(st->env);
	st->env = NULL;
	/* kmsauthz.lock last, while we still hold it. */
	for (i = STORE_NFILES - 1; i >= 0; i--) {
		if (existed[i])
			continue;
		path = store_path(st->dir, store_files[i]);
		(void)unlink(path);	/* best effort: the refusal stands */
		free(path);
	}
	if (st->lockfd != -1)
		close(st->lockfd);
	st->lockfd = -1;
	if (made_dir)
		(void)rmdir(st->dir);
}

int
store_open(const char *dir, const struct store_opts *o, struct store **stp,
    char **causep)
{
	struct store_opts	 defopts;
	struct store		*st;
	struct stat		 sb;
	char			*path;
	int			 existed[STORE_NFILES] = { 1, 1, 1, 1 };
	int			 rc, dead, e, fresh = 0, made_dir = 0;

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
	pthread_mutex_init(&st->wmu, NULL);
	st->dir = xstrdup(dir);
	st->lockfd = -1;
	st->readonly = o->readonly;
	st->owner = !o->readonly;
	st->fallback = !o->readonly && o->readonly_ok;
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
		made_dir = 1;
	} else if (!S_ISDIR(sb.st_mode)) {
		rc = store_seterr(st, STORE_EIO, "%s: not a directory", dir);
		goto fail;
	}
	/* Another user's directory or files: refused before any use. */
	if ((rc = store_own_dir(st)) != STORE_OK ||
	    (rc = store_own_files(st)) != STORE_OK)
		goto fail;
	store_exist(dir, existed);
	/* Refuse a foreign directory before creating anything in it. */
	if ((rc = store_dir_check(st)) != 0)
		goto fail;
	if (!st->readonly) {
		rc = store_lock(st, STORE_LOCK_OWNER, &e);
		if (rc == STORE_EIO && st->fallback && store_unwritable(e)) {
			store_set_rdonly(st, STORE_LOCK_FILE, e);
			/* An empty directory has nothing to serve. */
			if ((rc = store_dir_check(st)) != 0)
				goto fail;
		} else if (rc != STORE_OK)
			goto fail;
	}
	if (st->readonly && st->owner && st->lockfd == -1) {
		/* A read-only owner still excludes writers when it can. */
		rc = store_lock(st, STORE_LOCK_RDONLY, &e);
		if (rc != STORE_OK && rc != STORE_ENOTFOUND)
			goto fail;
	}
	/* A new store: the creation marker first (store_marker). */
	if (!st->readonly) {
		path = store_path(dir, "data.mdb");
		e = stat(path, &sb) == -1 ? errno : 0;
		free(path);
		if ((e == ENOENT || (e == 0 && sb.st_size == 0)) &&
		    (rc = store_marker(st, 1)) != STORE_OK)
			goto fail;
	}
	if ((rc = store_env_open(st)) != 0)
		goto fail;
	if ((rc = mdb_reader_check(st->env, &dead)) != 0) {
		rc = store_err_mdb(st, rc, "clearing stale readers");
		goto fail;
	}
	st->stale_readers = dead;
	if ((rc = store_first_txn(st, &fresh)) != STORE_OK)
		goto fail;
	/*
	 * Make the new files' names durable too (and a new directory's
	 * in its parent), then drop the creation marker.
	 */
	if (fresh && (store_fsync_dir(dir) == -1 ||
	    (made_dir && store_fsync_parent(dir) == -1))) {
		rc = store_seterr(st, STORE_EIO, "%s: fsync: %s", dir,
		    strerror(errno));
		goto fail;
	}
	/* Also a marker left by a creation that died after its commit. */
	path = store_path(dir, STORE_CREATING_FILE);
	e = lstat(path, &sb) == 0;
	free(path);
	if (!st->readonly && (fresh || e) &&
	    ((rc = store_marker(st, 0)) != STORE_OK ||
	    (store_fsync_dir(dir) == -1 && (rc = store_seterr(st, STORE_EIO,
	    "%s: fsync: %s", dir, strerror(errno))) != STORE_OK)))
		goto fail;
	memcpy(st->existed, existed, sizeof(st->existed));
	st->made_dir = made_dir;
	store_errbuf()[0] = '\0';
	*stp = st;
	return (STORE_OK);
fail:
	*causep = xstrdup(store_errbuf());
	store_open_undo(st, existed, made_dir);
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
	pthread_mutex_destroy(&st->wmu);
	free(st->dir);
	free(st);
}

void
store_close_discard(struct store *st)
{
	int	 existed[STORE_NFILES];

	if (st == NULL)
		return;
	memcpy(existed, st->existed, sizeof(existed));
	store_open_undo(st, existed, st->made_dir);
	store_close(st);
}

int
store_readonly(const struct store *st)
{
	return (st->readonly);
}

const char *
store_readonly_cause(const struct store *st)
{
	return (st->readonly ? st->rdonly_why : "");
}

/*
 * Back to writable after a fall-back.  The read-only environment is
 * closed before the writable one opens (LMDB: one environment per file
 * per process: its fcntl locks on lock.mdb belong to the process), and
 * reopened read-only if the writable open fails; kmsauthz.lock stays
 * held throughout, so no writer can slip in between.
 */
int
store_reopen(struct store *st)
{
	struct stat	 a, b;
	MDB_txn		*txn;
	char		*path, buf[32], why[sizeof(st->rdonly_why)];
	uint64_t	 gen = st->generation;
	int		 fd, len, rc, e;

	store_errbuf()[0] = '\0';
	if (!st->readonly)
		return (STORE_OK);
	if (!st->fallback)
		return (store_seterr(st, STORE_ERDONLY, "%s: the store was "
		    "opened read-only", st->dir));
	/* Owners and modes may have changed since the open. */
	if ((rc = store_own_dir(st)) != STORE_OK ||
	    (rc = store_own_files(st)) != STORE_OK) {
		snprintf(why, sizeof(why), "%s", store_errbuf());
		return (store_seterr(st, STORE_ERDONLY, "%s: still read-only: "
		    "%s", st->dir, why));
	}
	path = store_path(st->dir, STORE_LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	e = errno;
	free(path);
	if (fd == -1)
		return (store_seterr(st, STORE_ERDONLY, "%s: still read-only: "
		    "%s/%s: %s", st->dir, st->dir, STORE_LOCK_FILE,
		    strerror(e)));
	/* flock is per open file: ours already holds this inode's lock. */
	if (st->lockfd == -1 || fstat(st->lockfd, &a) == -1 ||
	    fstat(fd, &b) == -1 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			e = errno;
			close(fd);
			return (store_seterr(st, e == EWOULDBLOCK ?
			    STORE_ELOCKED : STORE_EIO, "%s: cannot take the "
			    "owner lock %s: %s", st->dir, STORE_LOCK_FILE,
			    e == EWOULDBLOCK ? "in use by another process" :
			    strerror(e)));
		}
		if (st->lockfd != -1)
			close(st->lockfd);
		st->lockfd = fd;
		st->lockfd_rw = 1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, len, 0) != len) {
		e = errno;
		if (fd != st->lockfd)
			close(fd);
		return (store_seterr(st, STORE_ERDONLY, "%s: still read-only: "
		    "%s/%s: %s", st->dir, st->dir, STORE_LOCK_FILE,
		    strerror(e)));
	}
	if (fd != st->lockfd)
		close(fd);
	/* Not even data.mdb: keep the environment we have. */
	if (!store_can_open(st, "data.mdb", O_RDWR, &e))
		return (store_seterr(st, STORE_ERDONLY, "%s: still read-only: "
		    "%s/data.mdb: %s", st->dir, st->dir, strerror(e)));
	mdb_env_close(st->env);
	st->env = NULL;
	st->readonly = 0;
	st->nolock = 0;
	st->rdonly_why[0] = '\0';
	/* Falls back to read-only by itself when still not writable. */
	if ((rc = store_env_open(st)) == STORE_OK && !st->readonly) {
		if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
			rc = store_err_mdb(st, rc, "beginning a transaction");
		else if ((rc = store_meta_check(st, txn)) != STORE_OK)
			mdb_txn_abort(txn);
		else if ((rc = mdb_txn_commit(txn)) != 0)
			rc = store_err_mdb(st, rc, "commit");
		/* Changed by someone else meanwhile: the world follows. */
		if (rc == STORE_OK && st->generation != gen)
			rc = store_load(st);
		if (rc == STORE_OK)
			return (STORE_OK);
	}
	if (rc != STORE_OK) {
		/* Back to read-only as it was; the world is untouched. */
		snprintf(why, sizeof(why), "%s", store_errbuf());
		if (st->env != NULL)
			mdb_env_close(st->env);
		st->env = NULL;
		st->readonly = 1;
		st->nolock = 0;
		snprintf(st->rdonly_why, sizeof(st->rdonly_why), "%s", why);
		if ((rc = store_env_open(st)) != STORE_OK)
			return (rc);
	}
	/* The read-only environment's DBI handles. */
	if ((rc = store_rtxn(st, &txn)) != STORE_OK)
		return (rc);
	rc = store_meta_check(st, txn);
	mdb_txn_abort(txn);
	if (rc == STORE_OK && st->generation != gen)
		rc = store_load(st);
	if (rc != STORE_OK)
		return (rc);
	return (store_seterr(st, STORE_ERDONLY, "%s: still read-only: %s",
	    st->dir, st->rdonly_why));
}

const char *
store_errmsg(const struct store *st)
{
	return (store_errbuf());
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

/* SPDX-License-Identifier: ISC */
/*
 * store-backup.c: read transactions, growing the map, the empty test,
 * and backups: a consistent copy of the store while it is in use
 * (mdb_env_copy2 with compaction), made durable before it is named.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "store/store-int.h"

/* A read transaction; picks up a map another process has grown. */
int
store_rtxn(struct store *st, MDB_txn **txnp)
{
	int	 rc;

	if (st->env == NULL) {
		*txnp = NULL;
		return (store_seterr(st, STORE_EIO, "%s: the store is closed "
		    "(a reopen failed; see the log)", st->dir));
	}
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
	return (store_map_check(st, 0));
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

/*
 * mdb_env_copy2 closes the copy without syncing it: the copy goes to a
 * file opened here, fsynced before success is reported, then its name
 * (and a new DEST's in its parent).
 */
int
store_backup(struct store *st, const char *dest)
{
	struct stat	 sb;
	char		*path;
	int		 rc, fd, made = 0;

	if (stat(dest, &sb) == -1) {
		if (errno != ENOENT || mkdir(dest, 0700) == -1)
			return (store_seterr(st, STORE_EIO, "%s: %s", dest,
			    strerror(errno)));
		made = 1;
	} else if (!S_ISDIR(sb.st_mode))
		return (store_seterr(st, STORE_EIO, "%s: not a directory",
		    dest));
	if (st->env == NULL)
		return (store_seterr(st, STORE_EIO, "%s: the store is closed",
		    st->dir));
	path = store_path(dest, "data.mdb");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		rc = errno == EEXIST ? STORE_EEXIST : STORE_EIO;
		if (rc == STORE_EEXIST)
			store_seterr(st, rc, "%s: already holds a store", dest);
		else
			store_seterr(st, rc, "%s: %s", path, strerror(errno));
		free(path);
		if (made)
			(void)rmdir(dest);
		return (rc);
	}
	/* A copy, with compaction, from one read transaction. */
	if ((rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT)) != 0) {
		close(fd);
		unlink(path);
		free(path);
		if (made)
			(void)rmdir(dest);
		return (store_seterr(st, rc == MDB_MAP_FULL ? STORE_EFULL :
		    STORE_EIO, "%s: backup failed: %s", dest,
		    mdb_strerror(rc)));
	}
	rc = fsync(fd) == -1 ? errno : 0;
	if (close(fd) == -1 && rc == 0)
		rc = errno;
	if (rc != 0) {
		unlink(path);
		free(path);
		return (store_seterr(st, STORE_EIO, "%s: fsync: %s", dest,
		    strerror(rc)));
	}
	free(path);
	if (store_fsync_dir(dest) == -1 ||
	    (made && store_fsync_parent(dest) == -1))
		return (store_seterr(st, STORE_EIO, "%s: fsync: %s", dest,
		    strerror(errno)));
	return (STORE_OK);
}

/* SPDX-License-Identifier: ISC */
/*
 * store-own.c: who owns the state directory and its files.  The store
 * trusts everything in them, so another user able to create or write
 * them could put a store of its own in place (a world-writable parent,
 * a directory made before the daemon's first start): refused at open.
 *
 * The rule: the directory, data.mdb, lock.mdb and kmsauthz.lock are
 * owned by the effective uid or by root, and not writable by group or
 * others.  Root is accepted as an owner because root can replace the
 * daemon itself; it is how an administrator hands a read-only state to
 * an unprivileged daemon (root's files, 0555/0444).  A process running
 * as root accepts root's files only.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "store/store-int.h"

/* The owner and mode of what path names (a link is judged itself). */
static int
store_own_one(struct store *st, const char *path, const char *what,
    const struct stat *sb)
{
	uid_t	 me = geteuid();

	if (sb->st_uid != me && sb->st_uid != 0)
		return (store_seterr(st, STORE_EIO, "%s: %sowned by "
		    "uid %lu (not %lu%s), mode 0%03o: refusing to use it",
		    path, what, (unsigned long)sb->st_uid, (unsigned long)me,
		    me != 0 ? " or root" : "",
		    (unsigned int)(sb->st_mode & 07777)));
	if (!S_ISLNK(sb->st_mode) && (sb->st_mode & (S_IWGRP | S_IWOTH)))
		return (store_seterr(st, STORE_EIO, "%s: %sowned by "
		    "uid %lu, mode 0%03o, writable by %s: refusing to use it",
		    path, what, (unsigned long)sb->st_uid,
		    (unsigned int)(sb->st_mode & 07777),
		    (sb->st_mode & S_IWOTH) ? "others" : "its group"));
	return (STORE_OK);
}

/*
 * The state directory.  A symbolic link to it is followed only when the
 * link itself passes the same rule (a link planted by another user in a
 * shared parent is refused); the directory it names must pass it too.
 */
int
store_own_dir(struct store *st)
{
	struct stat	 sb;
	int		 rc;

	if (lstat(st->dir, &sb) == -1)
		return (store_seterr(st, errno == ENOENT ? STORE_ENOTFOUND :
		    STORE_EIO, "%s: %s", st->dir, strerror(errno)));
	if (S_ISLNK(sb.st_mode)) {
		if ((rc = store_own_one(st, st->dir, "a symbolic link ",
		    &sb)) != STORE_OK)
			return (rc);
		if (stat(st->dir, &sb) == -1)
			return (store_seterr(st, STORE_EIO, "%s: %s", st->dir,
			    strerror(errno)));
	}
	if (!S_ISDIR(sb.st_mode))
		return (store_seterr(st, STORE_EIO, "%s: not a directory",
		    st->dir));
	return (store_own_one(st, st->dir, "", &sb));
}

/*
 * The files LMDB and the lock open by name.  Each must be a regular
 * file, not a link (LMDB opens without O_NOFOLLOW).  A file that is
 * absent, or that cannot be looked at (a directory this user may not
 * search), is left to the open, which names the cause as before.
 */
int
store_own_files(struct store *st)
{
	static const char *const files[] = {
		"data.mdb", "lock.mdb", STORE_LOCK_FILE
	};
	struct stat	 sb;
	char		*path;
	size_t		 i;
	int		 rc = STORE_OK;

	for (i = 0; i < sizeof(files) / sizeof(files[0]) && rc == 0; i++) {
		xasprintf(&path, "%s/%s", st->dir, files[i]);
		if (lstat(path, &sb) == -1) {
			if (errno != ENOENT && errno != EACCES)
				rc = store_seterr(st, STORE_EIO, "%s: %s",
				    path, strerror(errno));
		} else if (S_ISLNK(sb.st_mode))
			rc = store_seterr(st, STORE_EIO, "%s: a "
			    "symbolic link: refusing to follow it", path);
		else if (!S_ISREG(sb.st_mode))
			rc = store_seterr(st, STORE_ECORRUPT, "%s: not a "
			    "regular file", path);
		else
			rc = store_own_one(st, path, "", &sb);
		free(path);
	}
	return (rc);
}

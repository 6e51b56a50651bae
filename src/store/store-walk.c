/*
 * store-walk.c: every page reachable from one meta page of an LMDB 0.9
 * data.mdb, read with pread and checked, never through LMDB's map (a
 * mapped page past the end of the file is SIGBUS).
 *
 * Why: a data.mdb may legitimately end before the meta's last page
 * number.  mdb_page_flush skips loose pages (allocated and freed in the
 * same transaction) and mdb_freelist_save hands them back to the free
 * list unwritten, so when the highest page a commit allocated is loose
 * the file stops short of it (OpenLDAP ITS#7886).  Such a file is valid
 * exactly when every page the meta reaches lies inside it.
 *
 * The layout is LMDB 0.9's (mdb.c, 64-bit: pgno_t is size_t):
 *   MDB_page: mp_pgno (8), mp_pad (2), mp_flags (2), then mp_lower and
 *     mp_upper (2 each), or mp_pages (4) on an overflow page; the node
 *     offsets mp_ptrs[] follow the 16-byte header.
 *   MDB_node: mn_lo, mn_hi, mn_flags, mn_ksize (2 each), the key, then
 *     (leaf) the data; a branch's child is mn_lo | mn_hi << 16 |
 *     mn_flags << 32, a leaf's data size mn_lo | mn_hi << 16.
 *   MDB_meta, after a page header: mm_magic, mm_version (4 each),
 *     mm_address, mm_mapsize (8 each), mm_dbs[FREE, MAIN] (MDB_db, 48
 *     each), mm_last_pg, mm_txnid (8 each).
 *   MDB_db: md_pad (4), md_flags, md_depth (2 each), md_branch_pages,
 *     md_leaf_pages, md_overflow_pages, md_entries, md_root (8 each).
 * The store opens no database MDB_DUPSORT, so a duplicate-data node is
 * corruption here, as is a LEAF2 page.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "store/store.h"
#include "store/store-walk.h"

#define WALK_PAGEHDRSZ	16
#define WALK_NODESIZE	8
#define WALK_DBSIZE	48
#define WALK_NUM_METAS	2
#define WALK_MAGIC	0xBEEFC0DEU
#define WALK_VERSION	1		/* MDB_DATA_VERSION */
#define WALK_INVALID	SIZE_MAX	/* P_INVALID: an empty database */
#define WALK_MAXDEPTH	32		/* LMDB's CURSOR_STACK */

#define P_BRANCH	0x01
#define P_LEAF		0x02
#define P_OVERFLOW	0x04
#define P_META		0x08
#define P_DIRTY		0x10
#define P_LEAF2		0x20

#define F_BIGDATA	0x01
#define F_SUBDATA	0x02
#define F_DUPDATA	0x04

/* Offsets in MDB_meta (from the end of the page header) and MDB_db. */
#define META_MAGIC	0
#define META_VERSION	4
#define META_DBS	24
#define META_LAST_PG	(META_DBS + 2 * WALK_DBSIZE)
#define META_TXNID	(META_LAST_PG + 8)
#define DB_ROOT		40

static uint16_t
store_walk_u16(const unsigned char *p)
{
	uint16_t	v;

	memcpy(&v, p, sizeof(v));
	return (v);
}

static uint32_t
store_walk_u32(const unsigned char *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return (v);
}

static uint64_t
store_walk_u64(const unsigned char *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return (v);
}

static int __attribute__((format(printf, 3, 4)))
store_walk_fail(struct store_walk *w, int truncated, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	w->truncated = truncated;
	return (STORE_ECORRUPT);
}

/* Reads len bytes of page pgno into buf: the page must lie inside. */
static int
store_walk_read(struct store_walk *w, size_t db, size_t pgno,
    unsigned char *buf, size_t len)
{
	const char	*name = w->dbs[db].name;
	ssize_t		 n;

	if (pgno < WALK_NUM_METAS || pgno > w->last_pg)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database) is not a data page (the last is %zu)", pgno,
		    name, w->last_pg));
	if ((uintmax_t)(pgno + 1) * w->psize > (uintmax_t)w->size)
		return (store_walk_fail(w, 1, "page %zu (reachable from the "
		    "%s database) lies past the end of the file (%jd bytes)",
		    pgno, name, (intmax_t)w->size));
	/* A tree has no cycle: more pages than the file holds is one. */
	if (++w->visited > w->last_pg + 1)
		return (store_walk_fail(w, 0, "more pages reachable than "
		    "exist (a cycle, at page %zu of the %s database)", pgno,
		    name));
	n = pread(w->fd, buf, len, (off_t)pgno * w->psize);
	if (n == -1) {
		snprintf(w->err, sizeof(w->err), "page %zu: %s", pgno,
		    strerror(errno));
		return (STORE_EIO);
	}
	if ((size_t)n != len)
		return (store_walk_fail(w, 1, "page %zu (reachable from the "
		    "%s database): short read, the file shrank", pgno, name));
	if (store_walk_u64(buf) != pgno)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database) says it is page %ju", pgno, name,
		    (uintmax_t)store_walk_u64(buf)));
	if (pgno > w->top)
		w->top = pgno;
	return (STORE_OK);
}

/* An overflow run of dsz data bytes from pgno: every page inside. */
static int
store_walk_overflow(struct store_walk *w, size_t db, size_t pgno,
    size_t dsz)
{
	unsigned char	 hdr[WALK_PAGEHDRSZ];
	size_t		 n, want, last;
	int		 rc;

	if ((rc = store_walk_read(w, db, pgno, hdr, sizeof(hdr))) != 0)
		return (rc);
	n = store_walk_u32(hdr + 12);
	want = (WALK_PAGEHDRSZ - 1 + dsz) / w->psize + 1;	/* OVPAGES */
	if ((store_walk_u16(hdr + 10) & ~P_DIRTY) != P_OVERFLOW || n != want)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database) is not the overflow run of %zu pages its "
		    "node says (flags 0x%x, %zu pages)", pgno, w->dbs[db].name,
		    want, store_walk_u16(hdr + 10), n));
	last = pgno + n - 1;
	if (last > w->last_pg)
		return (store_walk_fail(w, 0, "overflow run %zu-%zu (reachable "
		    "from the %s database) ends past the last page %zu", pgno,
		    last, w->dbs[db].name, w->last_pg));
	if ((uintmax_t)(last + 1) * w->psize > (uintmax_t)w->size)
		return (store_walk_fail(w, 1, "page %zu (reachable from the "
		    "%s database) lies past the end of the file (%jd bytes)",
		    (size_t)(w->size / w->psize) > pgno ?
		    (size_t)(w->size / w->psize) : pgno, w->dbs[db].name,
		    (intmax_t)w->size));
	w->visited += n - 1;
	if (w->visited > w->last_pg + 1)
		return (store_walk_fail(w, 0, "more pages reachable than "
		    "exist (a cycle, at page %zu of the %s database)", pgno,
		    w->dbs[db].name));
	if (last > w->top)
		w->top = last;
	w->dbs[db].overflow += n;
	return (STORE_OK);
}

/* A named database's record in the main database: walked later. */
static int
store_walk_subdb(struct store_walk *w, size_t pgno, const unsigned char *key,
    size_t ksize, const unsigned char *rec)
{
	struct store_walk_db	*d;
	size_t			 i;

	w->dbs = xreallocarray(w->dbs, w->ndbs + 1, sizeof(*w->dbs));
	d = &w->dbs[w->ndbs];
	memset(d, 0, sizeof(*d));
	for (i = 0; i < ksize && i < sizeof(d->name) - 1; i++)
		d->name[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
	d->root = store_walk_u64(rec + DB_ROOT);
	if (d->root != WALK_INVALID && d->root > w->last_pg)
		return (store_walk_fail(w, 0, "page %zu: the %s database's "
		    "root %zu is past the last page %zu", pgno, d->name,
		    d->root, w->last_pg));
	w->ndbs++;
	return (STORE_OK);
}

/* The tree of database db from pgno, depth levels down. */
static int
store_walk_page(struct store_walk *w, size_t db, size_t pgno, size_t depth)
{
	unsigned char	*p, *node;
	const char	*name = w->dbs[db].name;
	size_t		 i, nkeys, off, ksize, dsize, child;
	uint16_t	 flags, lower, upper, nflags;
	int		 rc;

	if (depth >= WALK_MAXDEPTH)
		return (store_walk_fail(w, 0, "page %zu: the %s database is "
		    "deeper than %d levels (a cycle)", pgno, name,
		    WALK_MAXDEPTH));
	if (w->buf[depth] == NULL)
		w->buf[depth] = xmalloc(w->psize);
	p = w->buf[depth];
	if ((rc = store_walk_read(w, db, pgno, p, w->psize)) != 0)
		return (rc);
	/* P_DIRTY is LMDB's in-memory mark, cleared before a write. */
	flags = store_walk_u16(p + 10) & ~P_DIRTY;
	lower = store_walk_u16(p + 12);
	upper = store_walk_u16(p + 14);
	if (flags != P_BRANCH && flags != P_LEAF)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database) has flags 0x%x, not a branch or leaf page",
		    pgno, name, flags));
	if (lower < WALK_PAGEHDRSZ || (lower - WALK_PAGEHDRSZ) % 2 != 0 ||
	    lower > upper || upper > w->psize)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): lower %u, upper %u out of the page", pgno,
		    name, lower, upper));
	nkeys = (lower - WALK_PAGEHDRSZ) / 2;		/* NUMKEYS */
	if (flags == P_BRANCH && nkeys == 0)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): a branch page without a child", pgno, name));
	if (flags == P_BRANCH)
		w->dbs[db].branch++;
	else
		w->dbs[db].leaf++;
	for (i = 0; i < nkeys; i++) {
		off = store_walk_u16(p + WALK_PAGEHDRSZ + 2 * i);
		if (off < upper || off + WALK_NODESIZE > w->psize)
			return (store_walk_fail(w, 0, "page %zu (reachable "
			    "from the %s database): node %zu at offset %zu, "
			    "outside the page's nodes", pgno, name, i, off));
		node = p + off;
		nflags = store_walk_u16(node + 4);
		ksize = store_walk_u16(node + 6);
		dsize = store_walk_u16(node) |
		    (size_t)store_walk_u16(node + 2) << 16;
		if (off + WALK_NODESIZE + ksize > w->psize)
			return (store_walk_fail(w, 0, "page %zu (reachable "
			    "from the %s database): node %zu's key runs past "
			    "the page", pgno, name, i));
		if (flags == P_BRANCH) {
			child = dsize | (size_t)nflags << 32;	/* NODEPGNO */
			rc = store_walk_page(w, db, child, depth + 1);
			if (rc != 0)
				return (rc);
			/* The recursion may have grown w->dbs. */
			name = w->dbs[db].name;
			continue;
		}
		w->dbs[db].entries++;
		if ((nflags & ~(F_BIGDATA | F_SUBDATA | F_DUPDATA)) != 0 ||
		    (nflags & F_DUPDATA) != 0 ||
		    nflags == (F_BIGDATA | F_SUBDATA))
			return (store_walk_fail(w, 0, "page %zu (reachable "
			    "from the %s database): node %zu has flags 0x%x "
			    "(no database here holds duplicates)", pgno, name,
			    i, nflags));
		if (off + WALK_NODESIZE + ksize + ((nflags & F_BIGDATA) ?
		    sizeof(uint64_t) : dsize) > w->psize)
			return (store_walk_fail(w, 0, "page %zu (reachable "
			    "from the %s database): node %zu's data runs past "
			    "the page", pgno, name, i));
		node += WALK_NODESIZE + ksize;			/* NODEDATA */
		if (nflags & F_BIGDATA) {
			rc = store_walk_overflow(w, db,
			    store_walk_u64(node), dsize);
			if (rc != 0)
				return (rc);
		} else if (nflags & F_SUBDATA) {
			if (db != 1 || dsize != WALK_DBSIZE)
				return (store_walk_fail(w, 0, "page %zu "
				    "(reachable from the %s database): node "
				    "%zu is a misplaced database record", pgno,
				    name, i));
			rc = store_walk_subdb(w, pgno, node - ksize, ksize,
			    node);
			if (rc != 0)
				return (rc);
			name = w->dbs[db].name;
		}
	}
	return (STORE_OK);
}

/* The meta page holding w->txnid, into w->dbs[0..1] and w->last_pg. */
static int
store_walk_meta(struct store_walk *w)
{
	unsigned char	*p, *m;
	uint64_t	 txnid[WALK_NUM_METAS];
	size_t		 i, found = WALK_NUM_METAS;
	ssize_t		 n;

	p = xmalloc(w->psize);
	for (i = 0; i < WALK_NUM_METAS; i++) {
		txnid[i] = 0;
		n = pread(w->fd, p, w->psize, (off_t)i * w->psize);
		if (n == -1) {
			snprintf(w->err, sizeof(w->err), "meta page %zu: %s",
			    i, strerror(errno));
			free(p);
			return (STORE_EIO);
		}
		m = p + WALK_PAGEHDRSZ;				/* METADATA */
		if ((size_t)n != w->psize || store_walk_u64(p) != i ||
		    (store_walk_u16(p + 10) & P_META) == 0 ||
		    store_walk_u32(m + META_MAGIC) != WALK_MAGIC ||
		    store_walk_u32(m + META_VERSION) != WALK_VERSION)
			continue;
		txnid[i] = store_walk_u64(m + META_TXNID);
		if (txnid[i] != w->txnid)
			continue;
		found = i;
		w->last_pg = store_walk_u64(m + META_LAST_PG);
		w->dbs[0].root = store_walk_u64(m + META_DBS + DB_ROOT);
		w->dbs[1].root = store_walk_u64(m + META_DBS + WALK_DBSIZE +
		    DB_ROOT);
	}
	free(p);
	if (found == WALK_NUM_METAS) {
		snprintf(w->err, sizeof(w->err), "no meta page holds "
		    "transaction %ju", (uintmax_t)w->txnid);
		return (STORE_WALK_EAGAIN);
	}
	w->newest = txnid[found] >= txnid[1 - found];
	return (STORE_OK);
}

/*
 * Walks every page reachable from the meta page of transaction w->txnid:
 * STORE_OK when each lies inside the file and is well formed, else
 * STORE_ECORRUPT (w->truncated says whether a page is missing), STORE_EIO
 * or STORE_WALK_EAGAIN, with w->err.
 */
int
store_walk(struct store_walk *w)
{
	size_t	i;
	int	rc;

	w->dbs = xcalloc(2, sizeof(*w->dbs));
	w->ndbs = 2;
	snprintf(w->dbs[0].name, sizeof(w->dbs[0].name), "free-page");
	snprintf(w->dbs[1].name, sizeof(w->dbs[1].name), "main");
	w->top = WALK_NUM_METAS - 1;
	w->visited = WALK_NUM_METAS;
	w->truncated = 0;
	w->err[0] = '\0';
	if (w->psize < 256 || w->psize > 65536)
		return (store_walk_fail(w, 0, "page size %u", w->psize));
	if ((rc = store_walk_meta(w)) != 0)
		return (rc);
	/* Named databases are appended to w->dbs while MAIN is walked. */
	for (i = 0; i < w->ndbs; i++) {
		if (w->dbs[i].root == WALK_INVALID)
			continue;
		if ((rc = store_walk_page(w, i, w->dbs[i].root, 0)) != 0)
			return (rc);
	}
	return (STORE_OK);
}

void
store_walk_free(struct store_walk *w)
{
	size_t	i;

	for (i = 0; i < sizeof(w->buf) / sizeof(w->buf[0]); i++) {
		free(w->buf[i]);
		w->buf[i] = NULL;
	}
	free(w->dbs);
	w->dbs = NULL;
	w->ndbs = 0;
}

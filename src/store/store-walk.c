/* SPDX-License-Identifier: ISC */
/*
 * store-walk.c: every page reachable from one meta page of an LMDB 0.9
 * data.mdb, read with pread and checked, never through LMDB's map.
 *
 * Why: LMDB trusts its pages.  A page number past the end of the file
 * is SIGBUS when the map is touched there, a node offset or size that
 * runs out of its page, a free-list record longer than its data or an
 * empty leaf is a read anywhere in the map (SIGSEGV).  So every open
 * walks the whole environment first and refuses a damaged one with the
 * database and the page named; only then does LMDB read a page.
 *
 * A data.mdb may also legitimately end before the meta's last page
 * number: mdb_page_flush skips loose pages (allocated and freed in the
 * same transaction) and mdb_freelist_save hands them back to the free
 * list unwritten, so when the highest page a commit allocated is loose
 * the file stops short of it (OpenLDAP ITS#7886).  Such a file is valid
 * exactly when every page the meta reaches lies inside it.
 *
 * What is checked, per page: its number between 2 and mm_last_pg and
 * inside the file, its mp_pgno, its flags (branch or leaf; overflow
 * where a node says so), mp_lower/mp_upper, every node offset at or
 * above mp_upper with its key and data inside the page, the keys in
 * strictly ascending order and within the bounds the parent's
 * separators give, no empty page; per tree: every leaf at md_depth,
 * the branch, leaf and overflow pages and the entries its MDB_db record
 * counts, no page reached twice (a cycle or a shared page); overflow
 * runs of the length their node says; the free list's records (sorted
 * page lists of the length their data holds, of pages in range, used
 * by no tree and listed once).
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
 *   The free list (FREE_DBI, MDB_INTEGERKEY): key a txnid (8), data an
 *     MDB_IDL: a count n, then n page numbers in descending order.
 * The store opens no database with flags (MDB_DUPSORT and the others),
 * so a database record with flags, a duplicate-data node or a LEAF2
 * page is corruption here; keys are ordered by memcmp, shorter first.
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
#define WALK_FREE	0		/* FREE_DBI */
#define WALK_MAIN	1		/* MAIN_DBI */

#define P_BRANCH	0x01
#define P_LEAF		0x02
#define P_OVERFLOW	0x04
#define P_META		0x08
#define P_DIRTY		0x10
#define P_LEAF2		0x20

#define F_BIGDATA	0x01
#define F_SUBDATA	0x02
#define F_DUPDATA	0x04

#define MDB_INTEGERKEY_	0x08		/* the free list's md_flags */
#define WALK_DBFLAGS	0x7f		/* the persistent database flags */

/* Offsets in MDB_meta (from the end of the page header) and MDB_db. */
#define META_MAGIC	0
#define META_VERSION	4
#define META_MAPSIZE	16
#define META_DBS	24
#define META_LAST_PG	(META_DBS + 2 * WALK_DBSIZE)
#define META_TXNID	(META_LAST_PG + 8)
#define DB_FLAGS	4
#define DB_DEPTH	6
#define DB_BRANCH	8
#define DB_LEAF		16
#define DB_OVERFLOW	24
#define DB_ENTRIES	32
#define DB_ROOT		40

/* A key bound handed down a tree: NULL p is no bound. */
struct walk_key {
	const unsigned char	*p;
	size_t			 len;
	size_t			 child;		/* a branch node's page */
};

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

/* Marks pgno reached; a page reached twice is a cycle or shared. */
static int
store_walk_mark(struct store_walk *w, size_t db, size_t pgno)
{
	unsigned char	bit = 1u << (pgno & 7);

	if (w->seen[pgno >> 3] & bit)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database) is reached twice (a cycle, or a page two "
		    "trees share)", pgno, w->dbs[db].name));
	w->seen[pgno >> 3] |= bit;
	w->visited++;
	if (pgno > w->top)
		w->top = pgno;
	return (STORE_OK);
}

/* Reads len bytes of page pgno into buf: the page must lie inside. */
static int
store_walk_read(struct store_walk *w, size_t db, size_t pgno,
    unsigned char *buf, size_t len)
{
	const char	*name = w->dbs[db].name;
	ssize_t		 n;
	int		 rc;

	if (pgno < WALK_NUM_METAS || pgno > w->last_pg)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database) is not a data page (the last is %zu)", pgno,
		    name, w->last_pg));
	if ((uintmax_t)(pgno + 1) * w->psize > (uintmax_t)w->size)
		return (store_walk_fail(w, 1, "page %zu (reachable from the "
		    "%s database) lies past the end of the file (%jd bytes)",
		    pgno, name, (intmax_t)w->size));
	if ((rc = store_walk_mark(w, db, pgno)) != STORE_OK)
		return (rc);
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
	return (STORE_OK);
}

/*
 * An overflow run of dsz data bytes from pgno: every page inside and
 * reached once.  With datap (the free list), its data is read too.
 */
static int
store_walk_overflow(struct store_walk *w, size_t db, size_t pgno,
    size_t dsz, unsigned char **datap)
{
	unsigned char	 hdr[WALK_PAGEHDRSZ];
	size_t		 n, want, last, i;
	ssize_t		 got;
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
	for (i = pgno + 1; i <= last; i++)
		if ((rc = store_walk_mark(w, db, i)) != STORE_OK)
			return (rc);
	w->dbs[db].overflow += n;
	if (datap == NULL)
		return (STORE_OK);
	*datap = xmalloc(dsz > 0 ? dsz : 1);
	got = pread(w->fd, *datap, dsz, (off_t)pgno * w->psize +
	    WALK_PAGEHDRSZ);
	if (got == -1 || (size_t)got != dsz) {
		free(*datap);
		*datap = NULL;
		return (store_walk_fail(w, 1, "overflow run %zu-%zu (reachable "
		    "from the %s database): short read", pgno, last,
		    w->dbs[db].name));
	}
	return (STORE_OK);
}

/* A database record (MDB_db) into d. */
static void
store_walk_dbrec(struct store_walk_db *d, const unsigned char *rec)
{
	d->md_flags = store_walk_u16(rec + DB_FLAGS);
	d->md_depth = store_walk_u16(rec + DB_DEPTH);
	d->md_branch = store_walk_u64(rec + DB_BRANCH);
	d->md_leaf = store_walk_u64(rec + DB_LEAF);
	d->md_overflow = store_walk_u64(rec + DB_OVERFLOW);
	d->md_entries = store_walk_u64(rec + DB_ENTRIES);
	d->root = store_walk_u64(rec + DB_ROOT);
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
	store_walk_dbrec(d, rec);
	if (d->md_flags != 0)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "main database): the %s database has flags 0x%x: it holds "
		    "duplicates or keys no database of this store has", pgno,
		    d->name, d->md_flags));
	if (d->root != WALK_INVALID && d->root > w->last_pg)
		return (store_walk_fail(w, 0, "page %zu: the %s database's "
		    "root %zu is past the last page %zu", pgno, d->name,
		    d->root, w->last_pg));
	w->ndbs++;
	return (STORE_OK);
}

/*
 * One record of the free list (transaction txnid): a count, then that
 * many page numbers in strictly descending order, each a data page;
 * kept to be checked against the trees once every tree is walked.
 */
static int
store_walk_idl(struct store_walk *w, size_t pgno, uint64_t txnid,
    const unsigned char *data, size_t dsz)
{
	size_t	 n, i, pg, prev = SIZE_MAX;

	if (dsz < 8 || dsz % 8 != 0 ||
	    (n = store_walk_u64(data)) != dsz / 8 - 1)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "free-page database): the free list of transaction %ju "
		    "does not hold the count its data size says (%zu bytes)",
		    pgno, (uintmax_t)txnid, dsz));
	for (i = 1; i <= n; i++) {
		pg = store_walk_u64(data + 8 * i);
		if (pg < WALK_NUM_METAS || pg > w->last_pg || pg >= prev)
			return (store_walk_fail(w, 0, "page %zu (reachable "
			    "from the free-page database): the free list of "
			    "transaction %ju lists page %zu (out of range or "
			    "out of order)", pgno, (uintmax_t)txnid, pg));
		prev = pg;
		if (w->nfree == w->freecap) {
			w->freecap = w->freecap ? w->freecap * 2 : 256;
			w->freepg = xreallocarray(w->freepg, w->freecap,
			    sizeof(*w->freepg));
		}
		w->freepg[w->nfree++] = pg;
	}
	return (STORE_OK);
}

/* memcmp order, a prefix first (mdb_cmp_memn); txnids as integers. */
static int
store_walk_cmp(size_t db, const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen)
{
	uint64_t	x, y;
	int		c;

	if (db == WALK_FREE) {
		x = store_walk_u64(a);
		y = store_walk_u64(b);
		return (x < y ? -1 : x > y);
	}
	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return (c);
	return (alen < blen ? -1 : alen > blen);
}

/* The data of leaf node i (key at key, dsize bytes after it). */
static int
store_walk_leaf(struct store_walk *w, size_t db, size_t pgno, size_t i,
    uint16_t nflags, const unsigned char *key, size_t ksize, size_t dsize)
{
	const unsigned char	*data = key + ksize;	/* NODEDATA */
	unsigned char		*big = NULL;
	int			 rc;

	w->dbs[db].entries++;
	if ((nflags & F_DUPDATA) != 0)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): node %zu has flags 0x%x (no database here "
		    "holds duplicates)", pgno, w->dbs[db].name, i, nflags));
	if ((nflags & ~(F_BIGDATA | F_SUBDATA)) != 0 ||
	    nflags == (F_BIGDATA | F_SUBDATA) ||
	    ((nflags & F_SUBDATA) && (db != WALK_MAIN || dsize != WALK_DBSIZE)))
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): node %zu has flags 0x%x here (a misplaced "
		    "database record)", pgno, w->dbs[db].name, i, nflags));
	if (nflags & F_BIGDATA) {
		rc = store_walk_overflow(w, db, store_walk_u64(data), dsize,
		    db == WALK_FREE ? &big : NULL);
		if (rc == STORE_OK && db == WALK_FREE)
			rc = store_walk_idl(w, pgno, store_walk_u64(key), big,
			    dsize);
		free(big);
		return (rc);
	}
	if (db == WALK_FREE)
		return (store_walk_idl(w, pgno, store_walk_u64(key), data,
		    dsize));
	if (nflags & F_SUBDATA)
		return (store_walk_subdb(w, pgno, key, ksize, data));
	return (STORE_OK);
}

/*
 * Node i of page p: inside the page, its key in order (at or after lo,
 * before hi); a leaf's data inside too, a branch's child in k->child.
 */
static int
store_walk_node(struct store_walk *w, size_t db, size_t pgno,
    const unsigned char *p, size_t i, int leaf, const struct walk_key *lo,
    const struct walk_key *hi, struct walk_key *k)
{
	const char	*name = w->dbs[db].name;
	size_t		 off, dsize;
	uint16_t	 nflags;

	off = store_walk_u16(p + WALK_PAGEHDRSZ + 2 * i);
	if (off < store_walk_u16(p + 14) || off + WALK_NODESIZE > w->psize)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): node %zu at offset %zu, outside the page's "
		    "nodes", pgno, name, i, off));
	nflags = store_walk_u16(p + off + 4);
	k->len = store_walk_u16(p + off + 6);
	k->p = p + off + WALK_NODESIZE;
	dsize = store_walk_u16(p + off) |
	    (size_t)store_walk_u16(p + off + 2) << 16;
	k->child = dsize | (size_t)nflags << 32;	/* NODEPGNO */
	if (off + WALK_NODESIZE + k->len > w->psize)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): node %zu's key runs past the page", pgno,
		    name, i));
	if (leaf && off + WALK_NODESIZE + k->len + ((nflags & F_BIGDATA) ?
	    sizeof(uint64_t) : dsize) > w->psize)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): node %zu's data runs past the page", pgno,
		    name, i));
	/* A branch's first key is never compared (LMDB leaves it empty). */
	if (!leaf && i == 0)
		return (STORE_OK);
	if (db == WALK_FREE && k->len != sizeof(uint64_t))
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "free-page database): node %zu has a key of %zu bytes, "
		    "not a transaction id", pgno, i, k->len));
	if ((lo->p != NULL &&
	    store_walk_cmp(db, k->p, k->len, lo->p, lo->len) < 0) ||
	    (hi->p != NULL &&
	    store_walk_cmp(db, k->p, k->len, hi->p, hi->len) >= 0))
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): node %zu's key is out of order", pgno,
		    name, i));
	if (!leaf)
		return (STORE_OK);
	return (store_walk_leaf(w, db, pgno, i, nflags, k->p, k->len, dsize));
}

/* Page pgno's header: a branch or leaf page with nodes; counted. */
static int
store_walk_header(struct store_walk *w, size_t db, size_t pgno,
    const unsigned char *p, size_t depth, size_t *nkeysp)
{
	struct store_walk_db	*d = &w->dbs[db];
	uint16_t		 flags, lower, upper;

	/* P_DIRTY is LMDB's in-memory mark, cleared before a write. */
	flags = store_walk_u16(p + 10) & ~P_DIRTY;
	lower = store_walk_u16(p + 12);
	upper = store_walk_u16(p + 14);
	if (flags != P_BRANCH && flags != P_LEAF)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database) has flags 0x%x, not a branch or leaf page",
		    pgno, d->name, flags));
	if (lower < WALK_PAGEHDRSZ || (lower - WALK_PAGEHDRSZ) % 2 != 0 ||
	    lower > upper || upper > w->psize)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): lower %u, upper %u out of the page", pgno,
		    d->name, lower, upper));
	*nkeysp = (lower - WALK_PAGEHDRSZ) / 2;		/* NUMKEYS */
	/* LMDB reads node 0 of any page it lands on: none is empty. */
	if (*nkeysp == 0)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): an empty %s page", pgno, d->name,
		    flags == P_LEAF ? "leaf" : "branch"));
	if (flags == P_BRANCH) {
		d->branch++;
		return (STORE_OK);
	}
	if (++d->leaf == 1)
		d->leaf_depth = depth + 1;
	else if (d->leaf_depth != depth + 1)
		return (store_walk_fail(w, 0, "page %zu (reachable from the "
		    "%s database): a leaf %zu levels down, another %zu", pgno,
		    d->name, depth + 1, d->leaf_depth));
	return (STORE_OK);
}

/*
 * The tree of database db from pgno, depth levels down, its keys in
 * [lo, hi).  Every node of the page is checked first, then each child
 * is walked with the bounds its separators give.
 */
static int
store_walk_page(struct store_walk *w, size_t db, size_t pgno, size_t depth,
    const struct walk_key *lo, const struct walk_key *hi)
{
	struct walk_key	*keys;
	unsigned char	*p;
	size_t		 i, nkeys = 0;
	int		 rc, leaf;

	if (depth >= WALK_MAXDEPTH)
		return (store_walk_fail(w, 0, "page %zu: the %s database is "
		    "deeper than %d levels (a cycle)", pgno, w->dbs[db].name,
		    WALK_MAXDEPTH));
	if (w->buf[depth] == NULL) {
		w->buf[depth] = xmalloc(w->psize);
		w->keys[depth] = xreallocarray(NULL, w->psize / 2,
		    sizeof(struct walk_key));
	}
	p = w->buf[depth];
	keys = w->keys[depth];
	if ((rc = store_walk_read(w, db, pgno, p, w->psize)) != 0 ||
	    (rc = store_walk_header(w, db, pgno, p, depth, &nkeys)) != 0)
		return (rc);
	leaf = (store_walk_u16(p + 10) & P_LEAF) != 0;
	for (i = 0; i < nkeys; i++) {
		/* Each key at or after the one before (or lo), before hi. */
		rc = store_walk_node(w, db, pgno, p, i, leaf,
		    i > (leaf ? 0 : 1) ? &keys[i - 1] : lo, hi, &keys[i]);
		if (rc != STORE_OK)
			return (rc);
		if (i > (leaf ? 0 : 1) && store_walk_cmp(db, keys[i].p,
		    keys[i].len, keys[i - 1].p, keys[i - 1].len) == 0)
			return (store_walk_fail(w, 0, "page %zu (reachable "
			    "from the %s database): node %zu repeats the key "
			    "before it", pgno, w->dbs[db].name, i));
	}
	for (i = 0; !leaf && i < nkeys; i++) {
		rc = store_walk_page(w, db, keys[i].child, depth + 1,
		    i == 0 ? lo : &keys[i], i + 1 < nkeys ? &keys[i + 1] : hi);
		if (rc != STORE_OK)
			return (rc);
	}
	return (STORE_OK);
}

/* The meta page holding w->txnid, into w->dbs[0..1] and w->last_pg. */
static int
store_walk_meta(struct store_walk *w)
{
	unsigned char	*p, *m;
	uint64_t	 txnid[WALK_NUM_METAS], mapsize = 0;
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
		mapsize = store_walk_u64(m + META_MAPSIZE);
		store_walk_dbrec(&w->dbs[WALK_FREE], m + META_DBS);
		store_walk_dbrec(&w->dbs[WALK_MAIN], m + META_DBS +
		    WALK_DBSIZE);
	}
	free(p);
	if (found == WALK_NUM_METAS) {
		snprintf(w->err, sizeof(w->err), "no meta page holds "
		    "transaction %ju", (uintmax_t)w->txnid);
		return (STORE_WALK_EAGAIN);
	}
	w->newest = txnid[found] >= txnid[1 - found];
	/* The page bitmap is sized by it: the map must hold every page. */
	if (w->last_pg < WALK_NUM_METAS - 1 ||
	    w->last_pg >= mapsize / w->psize)
		return (store_walk_fail(w, 0, "meta page %zu: last page %zu "
		    "does not fit its map of %ju bytes", found, w->last_pg,
		    (uintmax_t)mapsize));
	if ((w->dbs[WALK_FREE].md_flags & WALK_DBFLAGS) != MDB_INTEGERKEY_ ||
	    (w->dbs[WALK_MAIN].md_flags & WALK_DBFLAGS) != 0)
		return (store_walk_fail(w, 0, "meta page %zu: database flags "
		    "0x%x (free-page), 0x%x (main) are not this store's", found,
		    w->dbs[WALK_FREE].md_flags, w->dbs[WALK_MAIN].md_flags));
	return (STORE_OK);
}

/*
 * Database db's tree, then what its record says of it: the depth, the
 * branch, leaf and overflow pages and the entries the walk counted.
 */
static int
store_walk_tree(struct store_walk *w, size_t db)
{
	struct walk_key		 none = { NULL, 0, 0 };
	struct store_walk_db	*d = &w->dbs[db];
	int			 rc;

	if (d->root == WALK_INVALID) {
		if (d->md_depth != 0 || d->md_branch != 0 || d->md_leaf != 0 ||
		    d->md_overflow != 0 || d->md_entries != 0)
			return (store_walk_fail(w, 0, "the %s database is "
			    "empty but its record counts pages or entries",
			    d->name));
		return (STORE_OK);
	}
	if ((rc = store_walk_page(w, db, d->root, 0, &none, &none)) != 0)
		return (rc);
	d = &w->dbs[db];		/* MAIN's walk grew w->dbs */
	if (d->leaf_depth != d->md_depth || d->branch != d->md_branch ||
	    d->leaf != d->md_leaf || d->overflow != d->md_overflow ||
	    d->entries != d->md_entries)
		return (store_walk_fail(w, 0, "page %zu (the %s database's "
		    "root): its record says depth %u, %zu branch, %zu leaf, "
		    "%zu overflow pages, %zu entries; the tree has %zu, %zu, "
		    "%zu, %zu, %zu", d->root, d->name, d->md_depth,
		    d->md_branch, d->md_leaf, d->md_overflow, d->md_entries,
		    d->leaf_depth, d->branch, d->leaf, d->overflow,
		    d->entries));
	return (STORE_OK);
}

/* Each page of the free list: in no tree, on the list once. */
static int
store_walk_freecheck(struct store_walk *w)
{
	size_t	i, pg;

	for (i = 0; i < w->nfree; i++) {
		pg = w->freepg[i];
		if (w->seen[pg >> 3] & (1u << (pg & 7)))
			return (store_walk_fail(w, 0, "page %zu is on the "
			    "free list (of the free-page database) and also "
			    "in use, or listed twice", pg));
		w->seen[pg >> 3] |= 1u << (pg & 7);
	}
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
	w->nfree = 0;
	w->truncated = 0;
	w->err[0] = '\0';
	if (w->psize < 256 || w->psize > 65536 ||
	    (w->psize & (w->psize - 1)) != 0)
		return (store_walk_fail(w, 0, "page size %u", w->psize));
	if ((rc = store_walk_meta(w)) != 0)
		return (rc);
	w->seen = xcalloc(w->last_pg / 8 + 1, 1);
	w->seen[0] |= (1u << WALK_NUM_METAS) - 1;
	/* Named databases are appended to w->dbs while MAIN is walked. */
	for (i = 0; i < w->ndbs; i++)
		if ((rc = store_walk_tree(w, i)) != STORE_OK)
			return (rc);
	return (store_walk_freecheck(w));
}

void
store_walk_free(struct store_walk *w)
{
	size_t	i;

	for (i = 0; i < sizeof(w->buf) / sizeof(w->buf[0]); i++) {
		free(w->buf[i]);
		free(w->keys[i]);
		w->buf[i] = NULL;
		w->keys[i] = NULL;
	}
	free(w->dbs);
	free(w->seen);
	free(w->freepg);
	w->dbs = NULL;
	w->seen = NULL;
	w->freepg = NULL;
	w->ndbs = 0;
	w->nfree = w->freecap = 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * glob.c: precompiled wildcard patterns.
 *
 * A pattern is its literal segments (text between '*'s, possibly holding
 * '?'), with flags telling whether the first segment is anchored at the
 * start and the last at the end.  Matching takes each middle segment at
 * its leftmost position: since a segment consumes a determined length
 * at a given position, leftmost is always safe, so a match costs at most
 * O(len * pattern) and never backtracks across segments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/glob.h"

enum glob_form {
	GLOB_LITERAL,		/* no wildcard */
	GLOB_ANY,		/* only '*'s */
	GLOB_PREFIX,		/* literal then one trailing '*' */
	GLOB_GENERAL
};

struct glob_seg {
	uint32_t	off;
	uint32_t	len;
	uint32_t	has_q;	/* contains '?' */
};

/*
 * One allocation, position-independent (offsets, no pointers), so a
 * compiled policy can copy it into its own block: the header, nseg
 * segments, then the pattern and its NUL, padded to 8 bytes.
 */
struct glob {
	uint8_t		 form;
	uint8_t		 icase;
	uint8_t		 anchor_start;
	uint8_t		 anchor_end;
	uint32_t	 len;
	uint32_t	 nseg;
	uint32_t	 size;		/* bytes of the whole object */
	struct glob_seg	 seg[];
};

#define GLOB_PAT(g)	((const char *)((g)->seg + (g)->nseg))

static size_t	glob_cp_len(const char *, size_t);
static int	glob_seg_at(const struct glob *, const struct glob_seg *,
		    const char *, size_t, size_t *);
static int	glob_eq(const struct glob *, const char *, const char *,
		    size_t);

const unsigned char glob_lower[256] = {
#define L4(n) L1(n), L1(n + 1), L1(n + 2), L1(n + 3)
#define L1(n) (unsigned char)((n) >= 'A' && (n) <= 'Z' ? (n) + 32 : (n))
#define L16(n) L4(n), L4(n + 4), L4(n + 8), L4(n + 12)
	L16(0), L16(16), L16(32), L16(48), L16(64), L16(80), L16(96),
	L16(112), L16(128), L16(144), L16(160), L16(176), L16(192),
	L16(208), L16(224), L16(240)
#undef L1
#undef L4
#undef L16
};

struct glob *
glob_compile(const char *p, size_t len, int flags)
{
	struct glob	*g;
	char		*pat;
	size_t		 i, start, nstar = 0, n, size;

	if (len > UINT32_MAX / 2) {
		errno = ENOMEM;
		return (NULL);
	}
	for (i = 0; i < len; i++)
		if (p[i] == '*')
			nstar++;
	/* Segments: the non-empty runs between stars (empty only for ""). */
	n = 0;
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != '*')
			continue;
		if (i > start || len == 0)
			n++;
		start = i + 1;
	}
	size = sizeof(*g) + n * sizeof(g->seg[0]) + len + 1;
	size = (size + 7) & ~(size_t)7;
	if ((g = calloc(1, size)) == NULL)
		return (NULL);
	g->size = (uint32_t)size;
	g->icase = (flags & GLOB_ICASE) != 0;
	g->len = (uint32_t)len;
	g->nseg = (uint32_t)n;
	pat = (char *)(g->seg + n);
	for (i = 0; i < len; i++)
		pat[i] = g->icase ? (char)glob_lower[(unsigned char)p[i]] :
		    p[i];
	pat[len] = '\0';
	g->anchor_start = len == 0 || p[0] != '*';
	g->anchor_end = len == 0 || p[len - 1] != '*';
	n = 0;
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != '*')
			continue;
		if (i > start || len == 0) {
			g->seg[n].off = (uint32_t)start;
			g->seg[n].len = (uint32_t)(i - start);
			g->seg[n].has_q =
			    memchr(p + start, '?', i - start) != NULL;
			n++;
		}
		start = i + 1;
	}
	if (nstar == 0 && !g->seg[0].has_q)
		g->form = GLOB_LITERAL;
	else if (n == 0)
		g->form = GLOB_ANY;
	else if (nstar == 1 && n == 1 && g->anchor_start && !g->seg[0].has_q)
		g->form = GLOB_PREFIX;
	else
		g->form = GLOB_GENERAL;
	return (g);
}

void
glob_free(struct glob *g)
{
	free(g);
}

size_t
glob_size(const struct glob *g)
{
	return (g->size);
}

int
glob_is_literal(const struct glob *g)
{
	return (g->form == GLOB_LITERAL);
}

const char *
glob_pattern(const struct glob *g, size_t *lenp)
{
	*lenp = g->len;
	return (GLOB_PAT(g));
}

/* Length in bytes of the code point at s (1 for a malformed byte). */
static size_t
glob_cp_len(const char *s, size_t avail)
{
	unsigned char	c = (unsigned char)s[0];
	size_t		n, i;

	if (c < 0x80)
		return (1);
	if ((c & 0xe0) == 0xc0)
		n = 2;
	else if ((c & 0xf0) == 0xe0)
		n = 3;
	else if ((c & 0xf8) == 0xf0)
		n = 4;
	else
		return (1);
	if (n > avail)
		return (1);
	for (i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return (1);
	return (n);
}

static int
glob_eq(const struct glob *g, const char *pat, const char *s, size_t n)
{
	size_t	i;

	if (!g->icase)
		return (memcmp(pat, s, n) == 0);
	for (i = 0; i < n; i++)
		if ((unsigned char)pat[i] != glob_lower[(unsigned char)s[i]])
			return (0);
	return (1);
}

/*
 * Match segment sg at the start of s (avail bytes); on success *usedp is
 * the number of bytes it consumed.
 */
static int
glob_seg_at(const struct glob *g, const struct glob_seg *sg, const char *s,
    size_t avail, size_t *usedp)
{
	const char	*p = GLOB_PAT(g) + sg->off;
	size_t		 i, j = 0, cl;

	if (!sg->has_q) {
		if (sg->len > avail || !glob_eq(g, p, s, sg->len))
			return (0);
		*usedp = sg->len;
		return (1);
	}
	for (i = 0; i < sg->len; i++) {
		if (j >= avail)
			return (0);
		if (p[i] == '?') {
			cl = glob_cp_len(s + j, avail - j);
			j += cl;
			continue;
		}
		if (g->icase ? (unsigned char)p[i] !=
		    glob_lower[(unsigned char)s[j]] : p[i] != s[j])
			return (0);
		j++;
	}
	*usedp = j;
	return (1);
}

int
glob_match(const struct glob *g, const char *s, size_t len)
{
	size_t			 pos = 0, used, k, first, last, q;
	const struct glob_seg	*sg;
	const char		*hit;
	unsigned char		 c;
	int			 skip;

	switch (g->form) {
	case GLOB_LITERAL:
		return (len == g->len && glob_eq(g, GLOB_PAT(g), s, len));
	case GLOB_ANY:
		return (1);
	case GLOB_PREFIX:
		return (len >= g->seg[0].len &&
		    glob_eq(g, GLOB_PAT(g), s, g->seg[0].len));
	case GLOB_GENERAL:
		break;
	}
	first = 0;
	last = g->nseg;
	if (g->anchor_start) {
		if (!glob_seg_at(g, &g->seg[0], s, len, &used))
			return (0);
		pos = used;
		first = 1;
		if (g->nseg == 1 && g->anchor_end)
			return (pos == len);
	}
	if (g->anchor_end)
		last--;
	for (k = first; k < last; k++) {
		sg = &g->seg[k];
		c = (unsigned char)GLOB_PAT(g)[sg->off];
		/*
		 * A segment led by an ASCII byte that only matches itself
		 * can start only where that byte is: memchr finds the next
		 * candidate.  Stepping by code points never skips an ASCII
		 * byte (glob_cp_len consumes only continuation bytes after
		 * a lead), so no position the slow walk would try is lost.
		 */
		skip = c != '?' && c < 0x80 && !(g->icase && c >= 'a' &&
		    c <= 'z');
		for (;;) {
			if (pos >= len)
				return (0);
			if (skip) {
				if ((hit = memchr(s + pos, (int)c, len - pos)) ==
				    NULL)
					return (0);
				pos = (size_t)(hit - s);
			}
			if (glob_seg_at(g, sg, s + pos, len - pos, &used))
				break;
			pos += glob_cp_len(s + pos, len - pos);
		}
		pos += used;
	}
	if (!g->anchor_end)
		return (1);
	/* The last segment must end exactly at the end of s. */
	sg = &g->seg[g->nseg - 1];
	if (!sg->has_q) {
		if (len - pos < sg->len)
			return (0);
		return (glob_eq(g, GLOB_PAT(g) + sg->off, s + len - sg->len,
		    sg->len));
	}
	for (q = pos; q < len; q += glob_cp_len(s + q, len - q))
		if (glob_seg_at(g, sg, s + q, len - q, &used) &&
		    q + used == len)
			return (1);
	return (0);
}

/*
 * store-rec.c: the record codec.  Integers big-endian, strings with a
 * u16 length; the reader has a sticky error (Knot's wire_ctx) so that
 * decoding code stays linear, and reads with memcpy (no unaligned
 * loads).
 */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "store/store-int.h"

void
store_w_init(struct store_wbuf *w)
{
	w->p = NULL;
	w->len = w->cap = 0;
}

void
store_w_free(struct store_wbuf *w)
{
	free(w->p);
	store_w_init(w);
}

void
store_w_bytes(struct store_wbuf *w, const void *p, size_t n)
{
	size_t	 cap;

	if (w->cap - w->len < n) {
		cap = w->cap ? w->cap : 64;
		while (cap - w->len < n)
			cap *= 2;
		w->p = xreallocarray(w->p, 1, cap);
		w->cap = cap;
	}
	if (n > 0)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void
store_w_u8(struct store_wbuf *w, uint8_t v)
{
	store_w_bytes(w, &v, 1);
}

void
store_w_u16(struct store_wbuf *w, uint16_t v)
{
	unsigned char	 b[2] = { v >> 8, v & 0xff };

	store_w_bytes(w, b, 2);
}

void
store_w_u32(struct store_wbuf *w, uint32_t v)
{
	unsigned char	 b[4];
	int		 i;

	for (i = 3; i >= 0; i--, v >>= 8)
		b[i] = v & 0xff;
	store_w_bytes(w, b, 4);
}

void
store_w_u64(struct store_wbuf *w, uint64_t v)
{
	unsigned char	 b[8];
	int		 i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = v & 0xff;
	store_w_bytes(w, b, 8);
}

/* Callers bound identifiers to STORE_ID_MAX, far below 65535. */
void
store_w_str(struct store_wbuf *w, const char *s)
{
	size_t	 n = strlen(s);

	if (n > UINT16_MAX)
		n = UINT16_MAX;
	store_w_u16(w, (uint16_t)n);
	store_w_bytes(w, s, n);
}

void
store_w_sep(struct store_wbuf *w)
{
	store_w_u8(w, 0);
}

void
store_r_init(struct store_rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static const unsigned char *
store_r_take(struct store_rbuf *r, size_t n)
{
	const unsigned char	*p;

	if (r->err || r->len - r->off < n) {
		r->err = 1;
		return (NULL);
	}
	p = r->p + r->off;
	r->off += n;
	return (p);
}

uint8_t
store_r_u8(struct store_rbuf *r)
{
	const unsigned char	*p;

	if ((p = store_r_take(r, 1)) == NULL)
		return (0);
	return (p[0]);
}

uint16_t
store_r_u16(struct store_rbuf *r)
{
	const unsigned char	*p;

	if ((p = store_r_take(r, 2)) == NULL)
		return (0);
	return ((uint16_t)((p[0] << 8) | p[1]));
}

uint32_t
store_r_u32(struct store_rbuf *r)
{
	const unsigned char	*p;
	uint32_t		 v = 0;
	int			 i;

	if ((p = store_r_take(r, 4)) == NULL)
		return (0);
	for (i = 0; i < 4; i++)
		v = (v << 8) | p[i];
	return (v);
}

uint64_t
store_r_u64(struct store_rbuf *r)
{
	const unsigned char	*p;
	uint64_t		 v = 0;
	int			 i;

	if ((p = store_r_take(r, 8)) == NULL)
		return (0);
	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
}

char *
store_r_str(struct store_rbuf *r)
{
	const unsigned char	*p;
	uint16_t		 n;
	char			*s;

	n = store_r_u16(r);
	if ((p = store_r_take(r, n)) == NULL)
		return (NULL);
	if (memchr(p, 0, n) != NULL) {
		r->err = 1;
		return (NULL);
	}
	s = xmalloc((size_t)n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return (s);
}

const unsigned char *
store_r_rest(struct store_rbuf *r, size_t *lenp)
{
	const unsigned char	*p;

	*lenp = r->err ? 0 : r->len - r->off;
	p = store_r_take(r, *lenp);
	return (p);
}

int
store_r_end(struct store_rbuf *r)
{
	return (r->err || r->off != r->len ? -1 : 0);
}

/* SPDX-License-Identifier: ISC */
/*
 * store-rec.c: the record codec.  Integers big-endian, strings with a
 * u16 length; the reader has a sticky error (Knot's wire_ctx) so that
 * decoding code stays linear, and reads with memcpy (no unaligned
 * loads).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

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

/* v's low n bytes, big-endian. */
static void
store_w_be(struct store_wbuf *w, uint64_t v, int n)
{
	unsigned char	 b[8];
	int		 i;

	for (i = n - 1; i >= 0; i--, v >>= 8)
		b[i] = v & 0xff;
	store_w_bytes(w, b, (size_t)n);
}

void
store_w_u8(struct store_wbuf *w, uint8_t v)
{
	store_w_be(w, v, 1);
}

void
store_w_u16(struct store_wbuf *w, uint16_t v)
{
	store_w_be(w, v, 2);
}

void
store_w_u32(struct store_wbuf *w, uint32_t v)
{
	store_w_be(w, v, 4);
}

void
store_w_u64(struct store_wbuf *w, uint64_t v)
{
	store_w_be(w, v, 8);
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

/* n bytes, big-endian; 0 past the end. */
static uint64_t
store_r_be(struct store_rbuf *r, int n)
{
	const unsigned char	*p;
	uint64_t		 v = 0;
	int			 i;

	if ((p = store_r_take(r, (size_t)n)) == NULL)
		return (0);
	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return (v);
}

uint8_t
store_r_u8(struct store_rbuf *r)
{
	return ((uint8_t)store_r_be(r, 1));
}

uint16_t
store_r_u16(struct store_rbuf *r)
{
	return ((uint16_t)store_r_be(r, 2));
}

uint32_t
store_r_u32(struct store_rbuf *r)
{
	return ((uint32_t)store_r_be(r, 4));
}

uint64_t
store_r_u64(struct store_rbuf *r)
{
	return (store_r_be(r, 8));
}

char *
store_r_str(struct store_rbuf *r)
{
	const unsigned char	*p;
	uint16_t		 n;

	n = store_r_u16(r);
	if ((p = store_r_take(r, n)) == NULL)
		return (NULL);
	if (memchr(p, 0, n) != NULL) {
		r->err = 1;
		return (NULL);
	}
	return (xstrndup((const char *)p, n));
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

void
store_instrec_encode(struct store_wbuf *w, const struct store_instrec *r)
{
	store_w_u8(w, (uint8_t)r->state);
	store_w_u32(w, r->quota);
	/* The owner, when known: absent in records written before it was. */
	if (r->account[0] != '\0')
		store_w_str(w, r->account);
}

int
store_instrec_decode(const MDB_val *v, struct store_instrec *r)
{
	struct store_rbuf	 b;
	char			*a;
	size_t			 n;

	store_r_init(&b, v->mv_data, v->mv_size);
	r->state = store_r_u8(&b);
	r->quota = store_r_u32(&b);
	r->account[0] = '\0';
	if (!b.err && b.off < b.len) {
		if ((a = store_r_str(&b)) == NULL)
			return (-1);
		n = strlen(a);
		if (n == 0 || n >= sizeof(r->account) ||
		    strspn(a, "0123456789") != n) {
			free(a);
			return (-1);
		}
		memcpy(r->account, a, n + 1);
		free(a);
	}
	return (store_r_end(&b));
}

void
store_keyrec_encode(struct store_wbuf *w, const struct store_keyrec *r)
{
	store_w_u8(w, (uint8_t)r->state);
	store_w_str(w, r->region);
	store_w_str(w, r->creator);
	store_w_str(w, r->instance != NULL ? r->instance : "");
}

int
store_keyrec_decode(const MDB_val *v, struct store_keyrec *r)
{
	struct store_rbuf	 b;

	store_r_init(&b, v->mv_data, v->mv_size);
	r->state = store_r_u8(&b);
	r->region = store_r_str(&b);
	r->creator = store_r_str(&b);
	r->instance = store_r_str(&b);
	if (r->instance != NULL && r->instance[0] == '\0') {
		free(r->instance);
		r->instance = NULL;
	}
	if (store_r_end(&b) != 0) {
		store_keyrec_free(r);
		return (-1);
	}
	return (0);
}

void
store_keyrec_free(struct store_keyrec *r)
{
	free(r->region);
	free(r->creator);
	free(r->instance);
	r->region = r->creator = r->instance = NULL;
}

void
store_kprec_encode(struct store_wbuf *w, const struct store_kprec *r)
{
	store_w_u64(w, r->version);
	store_w_u64(w, (uint64_t)r->time_ms);
	store_w_bytes(w, r->digest, sizeof(r->digest));
	store_w_bytes(w, r->text, r->len);
}

int
store_kprec_decode(const MDB_val *v, struct store_kprec *r)
{
	struct store_rbuf	 b;
	int			 i;

	store_r_init(&b, v->mv_data, v->mv_size);
	r->version = store_r_u64(&b);
	r->time_ms = (int64_t)store_r_u64(&b);
	for (i = 0; i < 32; i++)
		r->digest[i] = store_r_u8(&b);
	r->text = (const char *)store_r_rest(&b, &r->len);
	return (store_r_end(&b) != 0 || r->version == 0 ? -1 : 0);
}

void
store_polrec_encode(struct store_wbuf *w, const struct store_polrec *r)
{
	store_w_u32(w, r->def);
	store_w_u32(w, r->last);
}

int
store_polrec_decode(const MDB_val *v, struct store_polrec *r)
{
	struct store_rbuf	 b;

	store_r_init(&b, v->mv_data, v->mv_size);
	r->def = store_r_u32(&b);
	r->last = store_r_u32(&b);
	if (store_r_end(&b) != 0 || r->def == 0 || r->def > r->last)
		return (-1);
	return (0);
}

void
store_pvrec_encode(struct store_wbuf *w, const struct store_pvrec *r)
{
	store_w_u64(w, (uint64_t)r->time_ms);
	store_w_bytes(w, r->text, r->len);
}

int
store_pvrec_decode(const MDB_val *v, struct store_pvrec *r)
{
	struct store_rbuf	 b;

	store_r_init(&b, v->mv_data, v->mv_size);
	r->time_ms = (int64_t)store_r_u64(&b);
	r->text = (const char *)store_r_rest(&b, &r->len);
	return (store_r_end(&b));
}

static void
store_w_list(struct store_wbuf *w, char **v, size_t n)
{
	size_t	 i;

	store_w_u16(w, (uint16_t)n);
	for (i = 0; i < n; i++)
		store_w_str(w, v[i]);
}

static int
store_r_list(struct store_rbuf *b, char ***vp, size_t *np)
{
	size_t	 i, n;

	n = store_r_u16(b);
	*vp = NULL;
	*np = 0;
	if (b->err || n > STORE_LIST_MAX)
		return (-1);
	*vp = xcalloc(n + 1, sizeof(**vp));
	for (i = 0; i < n; i++) {
		if (((*vp)[i] = store_r_str(b)) == NULL)
			return (-1);
		*np = i + 1;
	}
	return (0);
}

void
store_prinrec_encode(struct store_wbuf *w, int with_groups,
    const struct store_prinrec *r)
{
	if (with_groups)
		store_w_list(w, r->groups, r->ngroups);
	store_w_list(w, r->policies, r->npolicies);
}

int
store_prinrec_decode(const MDB_val *v, int with_groups,
    struct store_prinrec *r)
{
	struct store_rbuf	 b;

	memset(r, 0, sizeof(*r));
	store_r_init(&b, v->mv_data, v->mv_size);
	if ((with_groups && store_r_list(&b, &r->groups, &r->ngroups) != 0) ||
	    store_r_list(&b, &r->policies, &r->npolicies) != 0 ||
	    store_r_end(&b) != 0) {
		store_prinrec_free(r);
		return (-1);
	}
	return (0);
}

static void
store_list_free(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
store_prinrec_free(struct store_prinrec *r)
{
	store_list_free(r->groups, r->ngroups);
	store_list_free(r->policies, r->npolicies);
	memset(r, 0, sizeof(*r));
}

ssize_t
store_list_find(char **v, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return ((ssize_t)i);
	return (-1);
}

void
store_list_add(char ***vp, size_t *np, const char *s)
{
	*vp = xreallocarray(*vp, *np + 2, sizeof(**vp));
	(*vp)[(*np)++] = xstrdup(s);
	(*vp)[*np] = NULL;
}

int
store_list_del(char ***vp, size_t *np, const char *s)
{
	ssize_t	 i;

	if ((i = store_list_find(*vp, *np, s)) == -1)
		return (-1);
	free((*vp)[i]);
	memmove(*vp + i, *vp + i + 1, (*np - (size_t)i - 1) * sizeof(**vp));
	(*np)--;
	(*vp)[*np] = NULL;
	return (0);
}

void
store_digest(const char *text, size_t len, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)text, len, NULL, 0);
}

int64_t
store_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
store_key(struct store_wbuf *w, const char *a, const char *b, const char *c)
{
	w->len = 0;
	store_w_bytes(w, a, strlen(a));
	if (b != NULL) {
		store_w_sep(w);
		store_w_bytes(w, b, strlen(b));
	}
	if (c != NULL) {
		store_w_sep(w);
		store_w_bytes(w, c, strlen(c));
	}
}

/* SPDX-License-Identifier: ISC */
/*
 * store-pcache.c: the compiled-policy cache of one load or change: one
 * compiled form per (kind, digest), so that identical texts are
 * compiled once and shared (store-int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/cpolicy.h"
#include "policy/policy.h"
#include "policy/policy-compile.h"
#include "store/store-int.h"

void
pcache_free(struct pcache *c)
{
	size_t	 i;

	for (i = 0; i < c->cap; i++)
		if (c->v[i].cp != NULL)
			cpolicy_unref(c->v[i].cp);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* Limits apply when a document comes in, not to what is stored. */
size_t
pcache_max(const struct store *st, int kind, size_t len)
{
	size_t	 max;

	max = kind == POLICY_KIND_KEY ? POLICY_KEY_MAX_BYTES :
	    (st->ram_policy_max ? st->ram_policy_max :
	    POLICY_RAM_MAX_BYTES_DEFAULT);
	return (len > max ? len : max);
}

struct pcache_ent *
pcache_slot(struct pcache *c, int kind, const unsigned char *d)
{
	size_t	 h;

	memcpy(&h, d, sizeof(h));
	for (h &= c->cap - 1;; h = (h + 1) & (c->cap - 1)) {
		if (c->v[h].cp == NULL || (c->v[h].kind == kind &&
		    memcmp(c->v[h].digest, d, 32) == 0))
			return (&c->v[h]);
	}
}

void
pcache_grow(struct pcache *c)
{
	struct pcache_ent	*old;
	size_t			 i, ocap;

	if (c->n + 1 <= c->cap / 2)
		return;
	old = c->v;
	ocap = c->cap;
	c->cap = ocap ? ocap * 2 : 1024;
	c->v = xcalloc(c->cap, sizeof(*c->v));
	for (i = 0; i < ocap; i++)
		if (old[i].cp != NULL)
			*pcache_slot(c, old[i].kind, old[i].digest) = old[i];
	free(old);
}

/* Adds cp (the caller's reference passes) unless the digest is in. */
void
pcache_put(struct pcache *c, int kind, const unsigned char *digest,
    struct cpolicy *cp)
{
	struct pcache_ent	*e;

	pcache_grow(c);
	e = pcache_slot(c, kind, digest);
	if (e->cp != NULL) {
		cpolicy_unref(cp);
		return;
	}
	memcpy(e->digest, digest, 32);
	e->kind = kind;
	e->cp = cp;
	c->n++;
}

/*
 * Returns a new reference on the compiled policy of text, or NULL with
 * *errp (the record's name and the reason in st's message).
 */
struct cpolicy *
pcache_compile(struct store *st, struct pcache *c, int kind,
    const char *text, size_t len, const unsigned char *digest,
    const char *dbname, const char *name, int *errp)
{
	struct policy_diags	 diags;
	struct pcache_ent	*e;
	struct cpolicy		*cp;
	unsigned char		 d[32];
	size_t			 max;

	if (digest == NULL) {
		store_digest(text, len, d);
		digest = d;
	}
	pcache_grow(c);
	e = pcache_slot(c, kind, digest);
	if (e->cp != NULL)
		return (cpolicy_ref(e->cp));
	max = pcache_max(st, kind, len);
	policy_diags_init(&diags);
	if (policy_compile_text(kind, text, len, max, "", &cp, &diags) != 0) {
		*errp = store_seterr(st, STORE_ECORRUPT, "%s: %s \"%s\": the "
		    "stored policy does not compile: %s%s%s", st->dir, dbname,
		    name, diags.n ? diags.v[0].path : "",
		    diags.n ? ": " : "", diags.n ? diags.v[0].reason :
		    "out of memory");
		policy_diags_free(&diags);
		return (NULL);
	}
	policy_diags_free(&diags);
	pcache_put(c, kind, digest, cp);
	return (cpolicy_ref(cp));
}

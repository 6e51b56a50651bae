/* SPDX-License-Identifier: ISC */
/*
 * world-share.c: the share quota index of a world (docs/semantics.md
 * section 5): the foreign accounts of each instance's key policies,
 * kept by the transactions that put or delete keys.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpolicy.h"
#include "engine/world.h"
#include "engine/world-int.h"

/*
 * Share quota (section 5): a per-instance index of foreign accounts.
 *
 * A second trie (world.sroot), persistent like the first and changed
 * only by the transaction that changes a key, holds
 *  - H_SACCT (instance, account): n = how many keys of the instance
 *    have a key policy naming that foreign account (never 0: the entry
 *    goes when the last such key does);
 *  - H_SINST (instance): n = how many H_SACCT entries it has, i.e. the
 *    distinct foreign accounts over its key policies.
 * A key change touches the entries of the accounts its old and new
 * policies do not have in common (O(those accounts * log entries)), and
 * a count is one lookup plus one per account named by the skipped key
 * or by the "what if" policy, whatever the number of keys.
 */

struct s_acct {
	const char	*s;
	size_t		 len;
};

#define S_INLINE	8

/* A key policy's foreign accounts: sorted, no repeats. */
struct s_list {
	struct s_acct	*v;
	size_t		 n;
	size_t		 cap;
	int		 oom;
	struct s_acct	 buf[S_INLINE];
};

static void
s_list_init(struct s_list *l)
{
	l->v = l->buf;
	l->n = 0;
	l->cap = S_INLINE;
	l->oom = 0;
}

static void
s_list_free(struct s_list *l)
{
	if (l->v != l->buf)
		free(l->v);
	s_list_init(l);
}

static int
s_list_add(const char *s, size_t len, void *arg)
{
	struct s_list	*l = arg;
	struct s_acct	*nv;

	if (l->n == l->cap) {
		if ((nv = reallocarray(l->v == l->buf ? NULL : l->v,
		    l->cap * 2, sizeof(*nv))) == NULL) {
			l->oom = 1;
			return (1);
		}
		if (l->v == l->buf)
			memcpy(nv, l->buf, sizeof(l->buf));
		l->v = nv;
		l->cap *= 2;
	}
	l->v[l->n].s = s;
	l->v[l->n].len = len;
	l->n++;
	return (0);
}

/* Shorter first, then bytewise (cpolicy_foreign_accounts' order). */
static int
s_acct_cmp(const void *a, const void *b)
{
	const struct s_acct	*x = a, *y = b;

	if (x->len != y->len)
		return (x->len < y->len ? -1 : 1);
	return (memcmp(x->s, y->s, x->len));
}

/* cp's foreign accounts (cp may be NULL: none) into l, initialised by
 * the caller; 0, or -1 with errno ENOMEM. */
static int
s_accounts(const struct cpolicy *cp, const char *own, struct s_list *l)
{
	size_t	i, n;

	if (cp == NULL)
		return (0);
	(void)cpolicy_foreign_accounts(cp, own, s_list_add, l);
	if (l->oom) {
		errno = ENOMEM;
		return (-1);
	}
	/* Already in order for a finished policy; sort anything else. */
	for (i = 1; i < l->n; i++)
		if (s_acct_cmp(&l->v[i - 1], &l->v[i]) >= 0)
			break;
	if (i < l->n) {
		qsort(l->v, l->n, sizeof(*l->v), s_acct_cmp);
		for (i = 1, n = 1; i < l->n; i++)
			if (s_acct_cmp(&l->v[n - 1], &l->v[i]) != 0)
				l->v[n++] = l->v[i];
		l->n = n;
	}
	return (0);
}

/* The count of an index entry; 0 when there is none. */
static size_t
s_get(const struct h_obj *sroot, unsigned kind, const char *inst,
    size_t ilen, const char *acct, size_t alen)
{
	const struct h_entry	*e;
	const char		*id[2] = { inst, acct };
	size_t			 len[2] = { ilen, alen };
	unsigned		 n = kind == H_SACCT ? 2 : 1;

	e = h_find(sroot, h_hash(kind, id, len, n), kind, id, len, n);
	return (e != NULL ? e->v.sh.n : 0);
}

/*
 * Set the count of an index entry to v (0: remove it) in the trie
 * *rootp (one reference, replaced by the new version's).  0, or -1 with
 * errno ENOMEM and *rootp as it was.
 */
static int
s_set(struct h_obj **rootp, unsigned kind, const char *inst, size_t ilen,
    const char *acct, size_t alen, size_t v)
{
	struct h_entry	*e;
	struct h_obj	*nr;
	const char	*id[2] = { inst, acct };
	size_t		 len[2] = { ilen, alen };
	unsigned	 n = kind == H_SACCT ? 2 : 1;
	char		*p;
	int		 status;

	if (v == 0) {
		nr = world_trie_remove(*rootp, 0, h_hash(kind, id, len, n), kind, id,
		    len, n, &status);
		if (status == -1) {
			errno = ENOMEM;
			return (-1);
		}
	} else {
		if ((e = calloc(1, sizeof(*e) + ilen + alen + 2)) == NULL)
			return (-1);
		atomic_init(&e->h.refcnt, 1);
		e->h.kind = (uint8_t)kind;
		e->h.nid = (uint8_t)n;
		p = (char *)(e + 1);
		memcpy(p, inst, ilen);
		e->v.sh.instance = e->id[0] = p;
		e->idlen[0] = ilen;
		if (n == 2) {
			p += ilen + 1;
			memcpy(p, acct, alen);
			e->v.sh.account = e->id[1] = p;
			e->idlen[1] = alen;
		}
		e->v.sh.n = v;
		e->hash = h_hash(kind, e->id, e->idlen, n);
		status = 0;
		if ((nr = world_trie_insert(*rootp, 0, e, &status)) == NULL) {
			world_trie_unref(&e->h);
			errno = ENOMEM;
			return (-1);
		}
	}
	world_trie_unref(*rootp);
	*rootp = nr;
	return (0);
}

/* One more (delta 1) or one fewer (-1) key of inst naming a; *distinct
 * follows the instance's number of distinct accounts. */
static int
s_bump(struct h_obj **rootp, const char *inst, const struct s_acct *a,
    int delta, long *distinct)
{
	size_t	ilen = strlen(inst), r;

	r = s_get(*rootp, H_SACCT, inst, ilen, a->s, a->len);
	if (r == 0 && delta < 0) {
		/* Not indexed: the index would be inconsistent. */
		errno = EINVAL;
		return (-1);
	}
	if (s_set(rootp, H_SACCT, inst, ilen, a->s, a->len,
	    delta > 0 ? r + 1 : r - 1) == -1)
		return (-1);
	if (r == 0)
		(*distinct)++;
	else if (r == 1 && delta < 0)
		(*distinct)--;
	return (0);
}

static int
s_bump_inst(struct h_obj **rootp, const char *inst, long d)
{
	size_t	ilen = strlen(inst), n;

	if (d == 0)
		return (0);
	n = s_get(*rootp, H_SINST, inst, ilen, NULL, 0);
	if (d < 0 && n < (size_t)-d) {
		errno = EINVAL;
		return (-1);
	}
	return (s_set(rootp, H_SINST, inst, ilen, NULL, 0,
	    d < 0 ? n - (size_t)-d : n + (size_t)d));
}

/* A key entry's share in the index: in an instance, with a policy. */
static const struct world_key *
s_key(const struct h_entry *e)
{
	if (e == NULL || e->v.key.instance == NULL ||
	    e->v.key.policy == NULL)
		return (NULL);
	return (&e->v.key);
}

/*
 * The share index of view v after key entry oe (NULL: none) is replaced
 * by ne (NULL: deleted).  Returns 0 and the new index in *outp (one
 * reference; v's is untouched), or -1 with errno set.
 */
int
world_share_update(const struct world *v, const struct h_entry *oe,
    const struct h_entry *ne, struct h_obj **outp)
{
	const struct world_key	*ok = s_key(oe), *nk = s_key(ne);
	struct s_list		 fo, fn;
	struct h_obj		*r = v->sroot;
	size_t			 i = 0, j = 0;
	long			 dold = 0, dnew = 0;
	int			 c, same, rc = -1;

	if (r != NULL)
		world_trie_ref(r);
	if (ok == NULL && nk == NULL)
		goto done;
	same = ok != NULL && nk != NULL &&
	    strcmp(ok->instance, nk->instance) == 0;
	/* A state, tag or region change: the same accounts. */
	if (same && ok->policy == nk->policy &&
	    strcmp(ok->creator, nk->creator) == 0)
		goto done;
	s_list_init(&fo);
	s_list_init(&fn);
	if ((ok != NULL && s_accounts(ok->policy, ok->creator, &fo) == -1) ||
	    (nk != NULL && s_accounts(nk->policy, nk->creator, &fn) == -1))
		goto out;
	/* Both sorted: a merge leaves out the accounts both name in one
	 * instance. */
	while (i < fo.n || j < fn.n) {
		if (i == fo.n)
			c = 1;
		else if (j == fn.n || !same)
			c = -1;
		else
			c = s_acct_cmp(&fo.v[i], &fn.v[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			if (s_bump(&r, ok->instance, &fo.v[i++], -1,
			    &dold) == -1)
				goto out;
		} else if (s_bump(&r, nk->instance, &fn.v[j++], 1,
		    &dnew) == -1)
			goto out;
	}
	if (same) {
		if (s_bump_inst(&r, nk->instance, dold + dnew) == -1)
			goto out;
	} else if ((ok != NULL && s_bump_inst(&r, ok->instance, dold) == -1) ||
	    (nk != NULL && s_bump_inst(&r, nk->instance, dnew) == -1))
		goto out;
	rc = 0;
out:
	s_list_free(&fo);
	s_list_free(&fn);
	if (rc == -1) {
		world_trie_unref(r);
		return (-1);
	}
done:
	*outp = r;
	return (0);
}

int
world_key_share_grows(const struct world *w, const char *key_id,
    const struct cpolicy *cp, const char *account)
{
	const struct h_entry	*ke;
	struct s_list		 fo, fn;
	size_t			 i = 0, j = 0;
	int			 c, rc = -1;

	s_list_init(&fo);
	s_list_init(&fn);
	if (w != NULL && (ke = world_find(w, H_KEY, key_id, strlen(key_id), NULL,
	    0, NULL, 0, 1)) != NULL && ke->v.key.policy != NULL &&
	    s_accounts(ke->v.key.policy, account, &fo) == -1)
		goto out;
	if (s_accounts(cp, account, &fn) == -1)
		goto out;
	/* Both sorted: look for one of fn's that fo lacks. */
	for (rc = 0; j < fn.n; ) {
		c = i == fo.n ? 1 : s_acct_cmp(&fo.v[i], &fn.v[j]);
		if (c > 0) {
			rc = 1;
			break;
		}
		if (c == 0)
			j++;
		i++;
	}
out:
	s_list_free(&fo);
	s_list_free(&fn);
	return (rc);
}

int
world_instance_share_count(const struct world *w, const char *instance_id,
    const char *skip_key_id, const struct cpolicy *extra,
    const char *extra_account, size_t *countp)
{
	const struct h_entry	*ke;
	const struct world_key	*k;
	struct s_list		 fs, fe;
	size_t			 ilen = strlen(instance_id), n = 0, i = 0, j = 0;
	int			 c, rc = -1;

	s_list_init(&fs);
	s_list_init(&fe);
	if (w != NULL) {
		n = s_get(w->sroot, H_SINST, instance_id, ilen, NULL, 0);
		if (skip_key_id != NULL && (ke = world_find(w, H_KEY, skip_key_id,
		    strlen(skip_key_id), NULL, 0, NULL, 0, 1)) != NULL &&
		    (k = s_key(ke)) != NULL &&
		    strcmp(k->instance, instance_id) == 0 &&
		    s_accounts(k->policy, k->creator, &fs) == -1)
			goto out;
	}
	if (extra != NULL && s_accounts(extra, extra_account, &fe) == -1)
		goto out;
	/*
	 * Left out: an account only the skipped key names.  Added: one of
	 * extra's that no key (the skipped one aside) names.  Named by
	 * both: unchanged.
	 */
	while (i < fs.n || j < fe.n) {
		if (i == fs.n)
			c = 1;
		else if (j == fe.n)
			c = -1;
		else
			c = s_acct_cmp(&fs.v[i], &fe.v[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			if (s_get(w->sroot, H_SACCT, instance_id, ilen,
			    fs.v[i].s, fs.v[i].len) == 1 && n > 0)
				n--;
			i++;
		} else {
			if (w == NULL || s_get(w->sroot, H_SACCT,
			    instance_id, ilen, fe.v[j].s, fe.v[j].len) == 0)
				n++;
			j++;
		}
	}
	*countp = n;
	rc = 0;
out:
	s_list_free(&fs);
	s_list_free(&fe);
	return (rc);
}

/* Transactions. */

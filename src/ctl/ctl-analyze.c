/* SPDX-License-Identifier: ISC */
/*
 * ctl-analyze.c: kmsauthzctl analyze, who may do what on a bundle
 * (docs/analysis.md; the verdicts are src/engine/analyze.c's).
 *
 *   analyze who-can --bundle FILE --resource ARN [--action ACTION]
 *   analyze what-can --bundle FILE --principal ARN
 *   analyze impact --bundle FILE (--KeyId ID --Policy file://NEW.json |
 *       --PolicyName NAME [--Account ID] --PolicyDocument file://NEW.json)
 *
 * One JSON object on stdout; exit 0, or 2 on an error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/ctl.h"
#include "engine/analyze.h"
#include "engine/cpolicy.h"
#include "engine/eval.h"
#include "engine/glob.h"
#include "engine/world.h"
#include "policy/policy.h"
#include "policy/policy-compile.h"
#include "policy/simreq.h"

#define AZ_VALUE_MAX	(1024 * 1024)
#define AZ_PROBE	"kmsauthz-probe"

struct az_opts {
	const char	*bundle, *resource, *action, *principal;
	const char	*key_id, *policy, *policy_name, *account, *document;
};

/* One verdict as {Principal|Action|Pattern: name, Conditional,
 * Conditions, Statements}. */
static void
az_cond_cb(const char *text, void *arg)
{
	json_object_array_add(arg, json_object_new_string(text));
}

static struct json_object *
az_entry(const char *field, const char *name, const struct analyze_result *r)
{
	const struct analyze_grant	*g;
	struct json_object		*o, *conds, *stmts, *m, *one, *c;
	char				 src[512], sid[600];
	size_t				 i, j;

	o = json_object_new_object();
	json_object_object_add(o, field, json_object_new_string(name));
	json_object_object_add(o, "Conditional", json_object_new_boolean(
	    r->verdict == ANALYZE_CONDITIONAL));
	conds = json_object_new_array();
	stmts = json_object_new_array();
	json_object_object_add(o, "Conditions", conds);
	json_object_object_add(o, "Statements", stmts);
	for (i = 0; i < r->ngrants; i++) {
		g = &r->grant[i];
		snprintf(src, sizeof(src), "%s/%.*s", g->stmt.source ==
		    EVAL_SRC_KEY ? "key" : "policy", (int)g->stmt.namelen,
		    g->stmt.name);
		if (g->stmt.sid != NULL)
			snprintf(sid, sizeof(sid), "%.*s", (int)g->stmt.sidlen,
			    g->stmt.sid);
		if (!g->deny) {
			m = json_object_new_object();
			(void)policy_stmt_json(m, src, g->stmt.index,
			    g->stmt.sid != NULL ? sid : NULL);
			json_object_array_add(stmts, m);
		}
		if (r->verdict != ANALYZE_CONDITIONAL)
			continue;
		/* What must hold (an Allow's) or not (a Deny's). */
		one = json_object_new_array();
		cpolicy_image_cond_texts(g->img, g->stmt.index, az_cond_cb,
		    one);
		for (j = 0; j < json_object_array_length(one); j++) {
			c = json_object_new_object();
			json_object_object_add(c, "Condition", json_object_get(
			    json_object_array_get_idx(one, j)));
			json_object_object_add(c, "Effect",
			    json_object_new_string(g->deny ? "Deny" : "Allow"));
			json_object_object_add(c, "Statement",
			    json_object_new_string(src));
			json_object_object_add(c, "Index",
			    json_object_new_int64(g->stmt.index));
			json_object_array_add(conds, c);
		}
		json_object_put(one);
	}
	if (!r->exact)
		json_object_object_add(o, "Exact", json_object_new_boolean(0));
	return (o);
}

/* The catalog's actions, or the one given. */
static size_t
az_actions(const char *action, const char **v, size_t max)
{
	size_t	i, n;

	if (action != NULL) {
		v[0] = action;
		return (1);
	}
	n = analyze_action_count();
	for (i = 0; i < n && i < max; i++)
		v[i] = analyze_action(i);
	return (i);
}

/* Principal patterns outside the world that the key policy lets in. */
struct az_pat {
	const struct world	*w;
	char			**prin;
	size_t			 nprin;
	const char		*key_acct;
	char			 probe[1200];
	char			 pattern[1100];
	struct json_object	*seen;
	void			(*found)(struct az_pat *);
	void			*arg;
};

static int
az_in(char **v, size_t n, const char *s)
{
	size_t	lo = 0, hi = n, mid;
	int	c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(v[mid], s)) == 0)
			return (1);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (0);
}

/* A principal the pattern matches that the world does not hold. */
static int
az_probe(struct az_pat *ap, const char *p, size_t len)
{
	struct glob	*g;
	const char	*f;
	char		 acct[64] = "000000000000", cand[3][1200];
	size_t		 i, n, nf;

	/* The pattern's account, or one the world does not name. */
	for (f = p, nf = 0; f < p + len && nf < 3; f++)
		if (*f == ':')
			nf++;
	for (n = 0; nf == 3 && f + n < p + len && f[n] != ':' &&
	    n < sizeof(acct) - 1 && f[n] >= '0' && f[n] <= '9'; n++)
		;
	if (nf == 3 && n > 0 && (f + n == p + len || f[n] == ':')) {
		memcpy(acct, f, n);
		acct[n] = '\0';
	}
	for (i = n = 0; i < len && n < sizeof(cand[0]) - 16; i++)
		n += (size_t)snprintf(cand[0] + n, sizeof(cand[0]) - n, "%s",
		    p[i] == '*' ? AZ_PROBE : p[i] == '?' ? "x" :
		    (char[2]){ p[i], '\0' });
	snprintf(cand[1], sizeof(cand[1]), "acs:ram::%s:user/" AZ_PROBE,
	    acct);
	snprintf(cand[2], sizeof(cand[2]), "acs:ram::%s:role/" AZ_PROBE,
	    acct);
	if ((g = glob_compile(p, len, 0)) == NULL)
		return (-1);
	for (i = 0; i < 3; i++)
		if (eval_principal_valid(cand[i], strlen(cand[i])) == 0 &&
		    glob_match(g, cand[i], strlen(cand[i])) &&
		    !az_in(ap->prin, ap->nprin, cand[i]) &&
		    strcmp(cand[i] + strlen(cand[i]) - 5, ":root") != 0)
			break;
	glob_free(g);
	if (i == 3)
		return (0);
	snprintf(ap->probe, sizeof(ap->probe), "%s", cand[i]);
	return (1);
}

static void
az_pattern_cb(const char *p, size_t len, int negated, void *arg)
{
	struct az_pat	*ap = arg;

	if (negated || len >= sizeof(ap->pattern))
		return;
	memcpy(ap->pattern, p, len);
	ap->pattern[len] = '\0';
	if (json_object_object_get_ex(ap->seen, ap->pattern, NULL))
		return;
	json_object_object_add(ap->seen, ap->pattern, NULL);
	if (az_probe(ap, p, len) == 1)
		ap->found(ap);
}

static void
az_patterns(struct az_pat *ap, const struct world_key *k)
{
	size_t	i, n = cpolicy_image_nstmts(k->image);

	ap->key_acct = k->creator;
	ap->seen = json_object_new_object();
	for (i = 0; i < n; i++)
		if (!cpolicy_image_stmt_deny(k->image, (uint32_t)i))
			cpolicy_image_patterns(k->image, (uint32_t)i,
			    az_pattern_cb, ap);
	json_object_put(ap->seen);
}

/* who-can: every principal and pattern, per action. */
struct az_who {
	const struct world	*w;
	const char		*resource;
	const char		*acts[160];
	size_t			 nacts;
	struct json_object	*princ[160];
	struct json_object	*pats[160];
	int			 err;
};

/* A pattern's verdicts: its key-policy half over the contexts. */
static void
az_who_pattern(struct az_pat *ap)
{
	struct az_who		*wc = ap->arg;
	struct analyze_space	*sp;
	struct analyze_result	 r;
	struct json_object	*e;
	size_t			 a;
	int			 same;

	if ((sp = analyze_space_new(wc->w, ap->probe, wc->resource)) ==
	    NULL) {
		wc->err = 1;
		return;
	}
	same = strncmp(ap->probe + 9, ap->key_acct, strlen(ap->key_acct)) ==
	    0 && ap->probe[9 + strlen(ap->key_acct)] == ':';
	for (a = 0; a < wc->nacts; a++) {
		if (analyze_decide(wc->w, sp, wc->acts[a], 1, &r) == -1 ||
		    r.verdict == ANALYZE_NEVER)
			continue;
		e = az_entry("Pattern", ap->pattern, &r);
		json_object_object_add(e, "Needs", json_object_new_string(
		    same ? "nothing more: the key policy allows in the key's "
		    "own account" : "an Allow for the action on this key in "
		    "an identity policy of its own account (an account root "
		    "has it)"));
		json_object_array_add(wc->pats[a], e);
	}
	analyze_space_free(sp);
}

static void
az_who_cb(const char *principal, size_t a, const struct analyze_result *r,
    void *arg)
{
	struct az_who	*wc = arg;

	json_object_array_add(wc->princ[a], az_entry("Principal", principal,
	    r));
}

/* Every verdict of resource (one action, or the catalog) as JSON. */
static struct json_object *
az_who_can(const struct world *w, const char *resource, const char *action)
{
	struct az_who		 wc;
	struct az_pat		 ap;
	struct world_key	 key;
	struct json_object	*o, *acts, *one;
	char			**prin;
	size_t			 nprin, a;

	memset(&wc, 0, sizeof(wc));
	wc.w = w;
	wc.resource = resource;
	wc.nacts = az_actions(action, wc.acts, 160);
	for (a = 0; a < wc.nacts; a++) {
		wc.princ[a] = json_object_new_array();
		wc.pats[a] = json_object_new_array();
	}
	if (analyze_who_can(w, resource, wc.acts, wc.nacts, az_who_cb,
	    &wc) == -1 || analyze_principals(w, &prin, &nprin) == -1) {
		wc.err = 1;
		prin = NULL;
		nprin = 0;
	}
	if (!wc.err && eval_resource_key(w, resource, strlen(resource),
	    &key) == 1 && key.policy != NULL) {
		memset(&ap, 0, sizeof(ap));
		ap.w = w;
		ap.prin = prin;
		ap.nprin = nprin;
		ap.found = az_who_pattern;
		ap.arg = &wc;
		az_patterns(&ap, &key);
	}
	analyze_principals_free(prin, nprin);
	o = json_object_new_object();
	json_object_object_add(o, "Resource", json_object_new_string(resource));
	if (action != NULL) {
		json_object_object_add(o, "Action",
		    json_object_new_string(action));
		json_object_object_add(o, "Principals", wc.princ[0]);
		json_object_object_add(o, "Patterns", wc.pats[0]);
	} else {
		acts = json_object_new_object();
		json_object_object_add(o, "Actions", acts);
		for (a = 0; a < wc.nacts; a++) {
			one = json_object_new_object();
			json_object_object_add(one, "Principals", wc.princ[a]);
			json_object_object_add(one, "Patterns", wc.pats[a]);
			json_object_object_add(acts, wc.acts[a], one);
		}
	}
	if (wc.err) {
		fprintf(stderr, "kmsauthzctl: analyze: out of memory\n");
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

/* what-can: every (action, key) pair of principal, grouped by key. */
struct az_what {
	const struct world	*w;
	const char		*principal;
	const char		*acts[160];
	size_t			 nacts;
	struct json_object	*keys;
	int			 err;
};

static int
az_what_key(const struct world_key *k, void *arg)
{
	struct az_what		*wt = arg;
	struct analyze_space	*sp;
	struct analyze_result	 r;
	struct json_object	*arr = NULL;
	char			 arn[1200];
	size_t			 a;

	snprintf(arn, sizeof(arn), "acs:kms:%s:%s:key/%s", k->region,
	    k->creator, k->id);
	if ((sp = analyze_space_new(wt->w, wt->principal, arn)) == NULL) {
		wt->err = 1;
		return (1);
	}
	for (a = 0; a < wt->nacts; a++) {
		if (analyze_decide(wt->w, sp, wt->acts[a], 0, &r) == -1 ||
		    r.verdict == ANALYZE_NEVER)
			continue;
		if (arr == NULL) {
			arr = json_object_new_array();
			json_object_object_add(wt->keys, arn, arr);
		}
		json_object_array_add(arr, az_entry("Action", wt->acts[a], &r));
	}
	analyze_space_free(sp);
	return (0);
}

static struct json_object *
az_what_can(const struct world *w, const char *principal)
{
	struct az_what		 wt;
	struct json_object	*o;

	memset(&wt, 0, sizeof(wt));
	wt.w = w;
	wt.principal = principal;
	wt.nacts = az_actions(NULL, wt.acts, 160);
	wt.keys = json_object_new_object();
	o = json_object_new_object();
	json_object_object_add(o, "Principal",
	    json_object_new_string(principal));
	json_object_object_add(o, "Keys", wt.keys);
	(void)world_foreach_key(w, az_what_key, &wt);
	if (wt.err) {
		fprintf(stderr, "kmsauthzctl: analyze: out of memory\n");
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

/* file://PATH or the text itself, NUL-terminated; NULL after a message. */
static char *
az_value(const char *arg, size_t *lenp)
{
	char	*s;

	if (strncmp(arg, "file://", 7) == 0)
		return (ctl_read_file(arg + 7, AZ_VALUE_MAX, lenp));
	if ((s = strdup(arg)) != NULL)
		*lenp = strlen(s);
	return (s);
}

/* A new policy text compiled, or NULL with its violations on stderr. */
static struct cpolicy *
az_compile(enum policy_kind kind, const char *arg, const char *opt)
{
	struct policy_diags	 d;
	struct cpolicy		*cp = NULL;
	char			*text;
	size_t			 len, i;

	if ((text = az_value(arg, &len)) == NULL)
		return (NULL);
	policy_diags_init(&d);
	if (policy_compile_text(kind, text, len, kind == POLICY_KIND_KEY ?
	    POLICY_KEY_MAX_BYTES : POLICY_RAM_MAX_BYTES_DEFAULT, opt, &cp,
	    &d) == -1) {
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "kmsauthzctl: %s: %s%s%s [%s]\n", opt,
			    d.v[i].path, d.v[i].path[0] ? ": " : "",
			    d.v[i].reason, d.v[i].code);
		cp = NULL;
	}
	policy_diags_free(&d);
	free(text);
	return (cp);
}

/* who-can's verdicts as rows "KIND\tNAME\tACTION\tCONDITIONAL" in rows. */
static void
az_rows(struct json_object *who, const char *resource,
    struct json_object *rows)
{
	static const char *const kinds[] = { "Principals", "Patterns" };
	static const char *const fields[] = { "Principal", "Pattern" };
	struct json_object	*acts, *arr, *e, *v, *row;
	char			 k[2400];
	size_t			 i, j;

	if (!json_object_object_get_ex(who, "Actions", &acts))
		return;
	json_object_object_foreach(acts, action, one) {
		for (i = 0; i < 2; i++) {
			if (!json_object_object_get_ex(one, kinds[i], &arr))
				continue;
			for (j = 0; j < json_object_array_length(arr); j++) {
				e = json_object_array_get_idx(arr, j);
				json_object_object_get_ex(e, fields[i], &v);
				snprintf(k, sizeof(k), "%zu\t%s\t%s\t%d", i,
				    json_object_get_string(v), action,
				    json_object_get_boolean(json_object_object_get(
				    e, "Conditional")));
				row = json_object_new_object();
				json_object_object_add(row, fields[i],
				    json_object_get(v));
				json_object_object_add(row, "Action",
				    json_object_new_string(action));
				if (resource != NULL)
					json_object_object_add(row, "Resource",
					    json_object_new_string(resource));
				json_object_object_add(row, "Conditional",
				    json_object_get(json_object_object_get(e,
				    "Conditional")));
				json_object_object_add(rows, k, row);
			}
		}
	}
}

/* Rows of b not in a, into arr. */
static void
az_minus(struct json_object *b, struct json_object *a, struct json_object *arr)
{
	json_object_object_foreach(b, k, row)
		if (!json_object_object_get_ex(a, k, NULL))
			json_object_array_add(arr, json_object_get(row));
}

/* The new world: w with key k's policy, or policy (account, name), cp. */
static struct world *
az_changed(const struct world *w, const struct world_key *k,
    const char *account, const char *name, const struct cpolicy *cp)
{
	struct world_txn	*txn;

	if ((txn = world_txn_begin(w)) == NULL)
		return (NULL);
	if ((k != NULL ? world_txn_put_key(txn, k->id, k->region, k->creator,
	    k->instance, k->state, k->tags, k->ntags, cp) :
	    world_txn_put_policy(txn, account, name, cp)) == -1) {
		world_txn_abort(txn);
		return (NULL);
	}
	return (world_txn_commit(txn, world_generation(w) + 1));
}

/* impact of a key policy: who-can on the key before and after. */
static struct json_object *
az_impact_key(struct world *w, const char *key_id, const char *policy)
{
	struct world_key	 k;
	struct world		*w2;
	struct cpolicy		*cp;
	struct json_object	*o, *before, *after, *rb, *ra, *g, *l;
	char			 arn[1200];

	if (world_get_key(w, key_id, strlen(key_id), &k) == -1) {
		fprintf(stderr, "kmsauthzctl: analyze: no key %s\n", key_id);
		return (NULL);
	}
	if (k.instance == NULL) {
		fprintf(stderr, "kmsauthzctl: analyze: %s is outside any "
		    "instance: it has no key policy\n", key_id);
		return (NULL);
	}
	if ((cp = az_compile(POLICY_KIND_KEY, policy, "Policy")) == NULL)
		return (NULL);
	w2 = az_changed(w, &k, NULL, NULL, cp);
	cpolicy_unref(cp);
	if (w2 == NULL)
		return (NULL);
	snprintf(arn, sizeof(arn), "acs:kms:%s:%s:key/%s", k.region,
	    k.creator, k.id);
	before = az_who_can(w, arn, NULL);
	after = az_who_can(w2, arn, NULL);
	world_unref(w2);
	if (before == NULL || after == NULL) {
		json_object_put(before);
		json_object_put(after);
		return (NULL);
	}
	rb = json_object_new_object();
	ra = json_object_new_object();
	az_rows(before, NULL, rb);
	az_rows(after, NULL, ra);
	o = json_object_new_object();
	json_object_object_add(o, "KeyId", json_object_new_string(key_id));
	json_object_object_add(o, "Resource", json_object_new_string(arn));
	json_object_object_add(o, "Gained", g = json_object_new_array());
	json_object_object_add(o, "Lost", l = json_object_new_array());
	az_minus(ra, rb, g);
	az_minus(rb, ra, l);
	json_object_put(before);
	json_object_put(after);
	json_object_put(rb);
	json_object_put(ra);
	return (o);
}

/* impact of a RAM policy's new version: its principals, every key. */
struct az_ram {
	const char		*name;
	int			 attached;
	struct json_object	*gained, *lost;
	char			**keys;
	size_t			 nkeys;
	int			 err;
};

static void
az_attached(const struct cpolicy_image *img, const char *name,
    size_t namelen, void *arg)
{
	struct az_ram	*ar = arg;

	(void)img;
	if (namelen == strlen(ar->name) && memcmp(name, ar->name, namelen) ==
	    0)
		ar->attached = 1;
}

/* analyze_row_cb: one row gained or lost. */
static void
az_ram_row(const char *principal, const char *action, const char *arn,
    int gained, int conditional, void *arg)
{
	struct az_ram		*ar = arg;
	struct json_object	*row;

	row = json_object_new_object();
	json_object_object_add(row, "Principal",
	    json_object_new_string(principal));
	json_object_object_add(row, "Action", json_object_new_string(action));
	json_object_object_add(row, "Resource", json_object_new_string(arn));
	json_object_object_add(row, "Conditional",
	    json_object_new_boolean(conditional));
	json_object_array_add(gained ? ar->gained : ar->lost, row);
}

static int
az_ram_key(const struct world_key *k, void *arg)
{
	struct az_ram	*ar = arg;
	char		**v;
	size_t		  len;

	if ((v = reallocarray(ar->keys, ar->nkeys + 1, sizeof(*v))) == NULL) {
		ar->err = 1;
		return (1);
	}
	ar->keys = v;
	len = strlen(k->region) + strlen(k->creator) + strlen(k->id) + 16;
	if ((v[ar->nkeys] = malloc(len)) == NULL) {
		ar->err = 1;
		return (1);
	}
	snprintf(v[ar->nkeys++], len, "acs:kms:%s:%s:key/%s", k->region,
	    k->creator, k->id);
	return (0);
}

/* The one account holding a policy named name (NULL: none or several). */
struct az_find {
	const char	*name;
	const char	*account;
	int		 n;
};

static int
az_find_policy(const struct world_policy *p, void *arg)
{
	struct az_find	*f = arg;

	if (strcmp(p->name, f->name) == 0) {
		f->account = p->account;
		f->n++;
	}
	return (0);
}

static struct json_object *
az_impact_ram(struct world *w, const char *name, const char *account,
    const char *doc)
{
	struct az_ram		 ar;
	struct az_find		 f;
	struct world_policy	 pol;
	struct world		*w2;
	struct cpolicy		*cp;
	struct json_object	*o;
	char			**prin;
	size_t			 nprin, i, n, alen;

	memset(&f, 0, sizeof(f));
	f.name = name;
	(void)world_foreach_policy(w, az_find_policy, &f);
	if (account == NULL && f.n != 1) {
		fprintf(stderr, "kmsauthzctl: analyze: %s policy %s: give "
		    "--Account\n", f.n == 0 ? "no" : "more than one", name);
		return (NULL);
	}
	if (account == NULL)
		account = f.account;
	if (world_get_policy(w, account, strlen(account), name, strlen(name),
	    &pol) == -1) {
		fprintf(stderr, "kmsauthzctl: analyze: no policy %s in account "
		    "%s\n", name, account);
		return (NULL);
	}
	if ((cp = az_compile(POLICY_KIND_RAM, doc, "PolicyDocument")) == NULL)
		return (NULL);
	w2 = az_changed(w, NULL, account, name, cp);
	cpolicy_unref(cp);
	if (w2 == NULL || analyze_principals(w, &prin, &nprin) == -1) {
		world_unref(w2);
		return (NULL);
	}
	memset(&ar, 0, sizeof(ar));
	ar.name = name;
	ar.gained = json_object_new_array();
	ar.lost = json_object_new_array();
	/* Only its principals: attached in its own account. */
	alen = strlen(account);
	for (i = n = 0; i < nprin; i++) {
		ar.attached = 0;
		if (strncmp(prin[i] + 9, account, alen) == 0 &&
		    prin[i][9 + alen] == ':')
			(void)eval_foreach_identity_image(w, prin[i],
			    strlen(prin[i]), az_attached, &ar);
		if (ar.attached)
			prin[n++] = prin[i];
		else
			free(prin[i]);
	}
	(void)world_foreach_key(w, az_ram_key, &ar);
	if (!ar.err && analyze_impact(w, w2, prin, n, ar.keys, ar.nkeys,
	    az_ram_row, &ar) == -1)
		ar.err = 1;
	analyze_principals_free(prin, n);
	analyze_principals_free(ar.keys, ar.nkeys);
	world_unref(w2);
	o = json_object_new_object();
	json_object_object_add(o, "PolicyName", json_object_new_string(name));
	json_object_object_add(o, "Account", json_object_new_string(account));
	json_object_object_add(o, "Gained", ar.gained);
	json_object_object_add(o, "Lost", ar.lost);
	if (ar.err) {
		fprintf(stderr, "kmsauthzctl: analyze: out of memory\n");
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

static int
az_usage(void)
{
	fprintf(stderr, "usage: kmsauthzctl analyze who-can --bundle FILE "
	    "--resource ARN [--action ACTION]\n"
	    "       kmsauthzctl analyze what-can --bundle FILE --principal "
	    "ARN\n"
	    "       kmsauthzctl analyze impact --bundle FILE (--KeyId ID "
	    "--Policy file://NEW.json |\n"
	    "           --PolicyName NAME [--Account ID] --PolicyDocument "
	    "file://NEW.json)\n");
	return (CTL_EXIT_ERROR);
}

static int
az_parse(int argc, char **argv, struct az_opts *op)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "resource", required_argument, NULL, 'r' },
		{ "action", required_argument, NULL, 'a' },
		{ "principal", required_argument, NULL, 'p' },
		{ "KeyId", required_argument, NULL, 'k' },
		{ "Policy", required_argument, NULL, 'P' },
		{ "PolicyName", required_argument, NULL, 'n' },
		{ "Account", required_argument, NULL, 'A' },
		{ "PolicyDocument", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char	**slot;
	int		  ch;

	memset(op, 0, sizeof(*op));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': slot = &op->bundle; break;
		case 'r': slot = &op->resource; break;
		case 'a': slot = &op->action; break;
		case 'p': slot = &op->principal; break;
		case 'k': slot = &op->key_id; break;
		case 'P': slot = &op->policy; break;
		case 'n': slot = &op->policy_name; break;
		case 'A': slot = &op->account; break;
		case 'd': slot = &op->document; break;
		default:
			return (-1);
		}
		*slot = optarg;
	}
	return (optind == argc && op->bundle != NULL ? 0 : -1);
}

int
ctl_analyze(int argc, char **argv)
{
	struct az_opts		 op;
	struct world		*w;
	struct world_key	 key;
	struct json_object	*o = NULL;
	const char		*cmd;

	if (argc < 2)
		return (az_usage());
	cmd = argv[1];
	if (az_parse(argc - 1, argv + 1, &op) == -1)
		return (az_usage());
	if (strcmp(cmd, "who-can") == 0) {
		if (op.resource == NULL || op.principal || op.key_id ||
		    op.policy_name)
			return (az_usage());
		if (eval_resource_valid(op.resource, strlen(op.resource)) ==
		    -1) {
			fprintf(stderr, "kmsauthzctl: --resource %s: not an "
			    "ARN\n", op.resource);
			return (CTL_EXIT_ERROR);
		}
	} else if (strcmp(cmd, "what-can") == 0) {
		if (op.principal == NULL || op.resource || op.action)
			return (az_usage());
		if (eval_principal_valid(op.principal,
		    strlen(op.principal)) == -1) {
			fprintf(stderr, "kmsauthzctl: --principal %s: not "
			    "acs:ram::ACCOUNT:root, user/NAME or role/NAME\n",
			    op.principal);
			return (CTL_EXIT_ERROR);
		}
	} else if (strcmp(cmd, "impact") == 0) {
		if ((op.key_id == NULL) == (op.policy_name == NULL) ||
		    (op.key_id != NULL && (op.policy == NULL ||
		    op.document || op.account)) ||
		    (op.policy_name != NULL && (op.document == NULL ||
		    op.policy)) || op.resource || op.principal || op.action)
			return (az_usage());
	} else
		return (az_usage());
	if ((w = ctl_bundle_world(op.bundle)) == NULL)
		return (CTL_EXIT_ERROR);
	if (strcmp(cmd, "who-can") == 0 && eval_resource_key(w, op.resource,
	    strlen(op.resource), &key) == -1) {
		/* Every decision on it would be key-not-found. */
		fprintf(stderr, "kmsauthzctl: analyze: %s: no such key in "
		    "%s\n", op.resource, op.bundle);
		world_unref(w);
		return (CTL_EXIT_ERROR);
	}
	if (strcmp(cmd, "who-can") == 0)
		o = az_who_can(w, op.resource, op.action);
	else if (strcmp(cmd, "what-can") == 0)
		o = az_what_can(w, op.principal);
	else if (op.key_id != NULL)
		o = az_impact_key(w, op.key_id, op.policy);
	else
		o = az_impact_ram(w, op.policy_name, op.account, op.document);
	world_unref(w);
	if (o == NULL)
		return (CTL_EXIT_ERROR);
	return (ctl_json_print(o) == -1 ? CTL_EXIT_ERROR : CTL_EXIT_OK);
}

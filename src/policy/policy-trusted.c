/* SPDX-License-Identifier: ISC */
/*
 * policy-trusted.c: compiling a policy text that is known to be valid
 * (the store proves it with the BLAKE2b digest it recorded when it
 * stored the validated text) straight from its bytes.
 *
 * policy_compile_text spends most of its time building json-c objects
 * (a hash table per object, a malloc per string), scanning the text a
 * second time for strict JSON and running the validator with its
 * diagnostics machinery.  A valid text needs none of that: this file
 * tokenizes it once into a flat array and drives the compiled-policy
 * builder with exactly the calls, in exactly the order, that
 * policy_compile makes on the json-c tree of the same text, so the
 * compiled policy is the same.
 *
 * It still trusts nothing it does not need to: any surprise (text that
 * is not JSON, an element policy_compile would refuse or the validator
 * would reject, a number, whose text json-c normalises) returns -1 and
 * the caller takes the full path, which decides and reports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/cpolicy.h"
#include "policy/policy-compile.h"
#include "policy/policy.h"

enum pt_type {
	PT_OBJECT,
	PT_ARRAY,
	PT_STRING,
	PT_NUMBER,
	PT_TRUE,
	PT_FALSE,
	PT_NULL
};

/*
 * One token.  A string's start and len are its bytes between the
 * quotes (escaped).  An object's members follow it as key, value
 * subtree, key, value subtree ...; an array's elements follow it; next
 * is the index one past the token's whole subtree.
 */
struct pt_tok {
	uint32_t	start;
	uint32_t	len;
	uint32_t	next;
	uint32_t	n;	/* members or elements */
	uint8_t		type;
	uint8_t		esc;	/* a string with a backslash */
};

#define PT_STACK_TOKS	128

struct pt {
	const unsigned char	*s;
	size_t			 len;
	size_t			 pos;
	struct pt_tok		*t;
	size_t			 nt;
	size_t			 cap;
	int			 heap;	/* t is malloc'd */
	char			*scratch;	/* unescaped strings */
};

static int	pt_value(struct pt *, int);
static int	pt_tok_new(struct pt *, enum pt_type, size_t *);
static int	pt_string(struct pt *);
static int	pt_str(struct pt *, const struct pt_tok *, const char **,
		    size_t *);
static int	pt_is(struct pt *, const struct pt_tok *, const char *);
static int	pt_strings(struct pt *, struct cpolicy *, size_t, int,
		    int (*)(struct cpolicy *, int, const char *, size_t));
static int	pt_principal_add(struct cpolicy *, int, const char *, size_t);
static int	pt_cond_value(struct pt *, struct cpolicy *, size_t);
static int	pt_condition(struct pt *, struct cpolicy *, size_t);
static int	pt_statement(struct pt *, struct cpolicy *, enum policy_kind,
		    size_t);

static void
pt_ws(struct pt *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' ||
	    p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	    p->s[p->pos] == '\r'))
		p->pos++;
}

static int
pt_tok_new(struct pt *p, enum pt_type type, size_t *ip)
{
	struct pt_tok	*nt;
	size_t		 ncap;

	if (p->nt == p->cap) {
		ncap = p->cap * 2;
		if ((nt = reallocarray(p->heap ? p->t : NULL, ncap,
		    sizeof(*nt))) == NULL)
			return (-1);
		if (!p->heap)
			memcpy(nt, p->t, p->nt * sizeof(*nt));
		p->t = nt;
		p->cap = ncap;
		p->heap = 1;
	}
	*ip = p->nt++;
	memset(&p->t[*ip], 0, sizeof(p->t[*ip]));
	p->t[*ip].type = (uint8_t)type;
	p->t[*ip].start = (uint32_t)p->pos;
	return (0);
}

/* A string at p->pos (its opening quote); control bytes refused. */
static int
pt_string(struct pt *p)
{
	size_t		 i;
	unsigned char	 c;

	if (pt_tok_new(p, PT_STRING, &i) == -1)
		return (-1);
	p->pos++;
	p->t[i].start = (uint32_t)p->pos;
	for (;;) {
		if (p->pos >= p->len)
			return (-1);
		c = p->s[p->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return (-1);
		if (c == '\\') {
			p->t[i].esc = 1;
			if (++p->pos >= p->len)
				return (-1);
		}
		p->pos++;
	}
	p->t[i].len = (uint32_t)(p->pos - p->t[i].start);
	p->pos++;
	p->t[i].next = (uint32_t)p->nt;
	return (0);
}

static int
pt_value(struct pt *p, int depth)
{
	size_t		 i, n;
	unsigned char	 c;

	pt_ws(p);
	if (p->pos >= p->len || depth > POLICY_MAX_DEPTH)
		return (-1);
	c = p->s[p->pos];
	if (c == '"')
		return (pt_string(p));
	if (c == '{' || c == '[') {
		if (pt_tok_new(p, c == '{' ? PT_OBJECT : PT_ARRAY, &i) == -1)
			return (-1);
		p->pos++;
		pt_ws(p);
		n = 0;
		if (p->pos < p->len && p->s[p->pos] == (c == '{' ? '}' : ']'))
			p->pos++;
		else
			for (;;) {
				if (c == '{') {
					pt_ws(p);
					if (p->pos >= p->len ||
					    p->s[p->pos] != '"' ||
					    pt_string(p) == -1)
						return (-1);
					pt_ws(p);
					if (p->pos >= p->len ||
					    p->s[p->pos] != ':')
						return (-1);
					p->pos++;
				}
				if (pt_value(p, depth + 1) == -1)
					return (-1);
				n++;
				pt_ws(p);
				if (p->pos >= p->len)
					return (-1);
				if (p->s[p->pos] == ',') {
					p->pos++;
					continue;
				}
				if (p->s[p->pos] != (c == '{' ? '}' : ']'))
					return (-1);
				p->pos++;
				break;
			}
		p->t[i].n = (uint32_t)n;
		p->t[i].next = (uint32_t)p->nt;
		return (0);
	}
	if (pt_tok_new(p, PT_NUMBER, &i) == -1)
		return (-1);
	if (p->len - p->pos >= 4 && memcmp(p->s + p->pos, "true", 4) == 0) {
		p->t[i].type = PT_TRUE;
		p->pos += 4;
	} else if (p->len - p->pos >= 5 &&
	    memcmp(p->s + p->pos, "false", 5) == 0) {
		p->t[i].type = PT_FALSE;
		p->pos += 5;
	} else if (p->len - p->pos >= 4 &&
	    memcmp(p->s + p->pos, "null", 4) == 0) {
		p->t[i].type = PT_NULL;
		p->pos += 4;
	} else {
		/* Never used: the compiler falls back on numbers. */
		while (p->pos < p->len && (p->s[p->pos] == '-' ||
		    p->s[p->pos] == '+' || p->s[p->pos] == '.' ||
		    p->s[p->pos] == 'e' || p->s[p->pos] == 'E' ||
		    (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')))
			p->pos++;
		if (p->pos == p->t[i].start)
			return (-1);
	}
	p->t[i].len = (uint32_t)(p->pos - p->t[i].start);
	p->t[i].next = (uint32_t)p->nt;
	return (0);
}

static int
pt_hex4(const unsigned char *s, unsigned *out)
{
	unsigned	 i, c;

	*out = 0;
	for (i = 0; i < 4; i++) {
		c = s[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return (-1);
		*out = *out * 16 + c;
	}
	return (0);
}

/*
 * A string token's unescaped bytes: the text itself when it has no
 * escape, else the scratch buffer (valid until the next call).  An
 * escaped NUL or an unpaired surrogate is refused (the strict scanner
 * refuses them too).
 */
static int
pt_str(struct pt *p, const struct pt_tok *t, const char **sp, size_t *lenp)
{
	const unsigned char	*s = p->s + t->start, *end = s + t->len;
	unsigned char		*o = (unsigned char *)p->scratch;
	unsigned		 cp, lo;

	if (t->type != PT_STRING)
		return (-1);
	if (!t->esc) {
		*sp = (const char *)s;
		*lenp = t->len;
		return (0);
	}
	while (s < end) {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s++) {
		case '"':
			*o++ = '"';
			continue;
		case '\\':
			*o++ = '\\';
			continue;
		case '/':
			*o++ = '/';
			continue;
		case 'b':
			*o++ = '\b';
			continue;
		case 'f':
			*o++ = '\f';
			continue;
		case 'n':
			*o++ = '\n';
			continue;
		case 'r':
			*o++ = '\r';
			continue;
		case 't':
			*o++ = '\t';
			continue;
		case 'u':
			break;
		default:
			return (-1);
		}
		if (end - s < 4 || pt_hex4(s, &cp) == -1)
			return (-1);
		s += 4;
		if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
			return (-1);
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - s < 6 || s[0] != '\\' || s[1] != 'u' ||
			    pt_hex4(s + 2, &lo) == -1 || lo < 0xdc00 ||
			    lo > 0xdfff)
				return (-1);
			s += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		/* Never longer than the escape it replaces. */
		if (cp < 0x80)
			*o++ = (unsigned char)cp;
		else if (cp < 0x800) {
			*o++ = (unsigned char)(0xc0 | (cp >> 6));
			*o++ = (unsigned char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			*o++ = (unsigned char)(0xe0 | (cp >> 12));
			*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			*o++ = (unsigned char)(0x80 | (cp & 0x3f));
		} else {
			*o++ = (unsigned char)(0xf0 | (cp >> 18));
			*o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
			*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			*o++ = (unsigned char)(0x80 | (cp & 0x3f));
		}
	}
	*sp = p->scratch;
	*lenp = (size_t)(o - (unsigned char *)p->scratch);
	return (0);
}

/* 1 when string token t is exactly word (after unescaping). */
static int
pt_is(struct pt *p, const struct pt_tok *t, const char *word)
{
	const char	*s;
	size_t		 len;

	if (pt_str(p, t, &s, &len) == -1)
		return (0);
	return (len == strlen(word) && memcmp(s, word, len) == 0);
}

/* pc_strings: a string or a non-empty array of strings, each to add. */
static int
pt_strings(struct pt *p, struct cpolicy *cp, size_t v, int negated,
    int (*add)(struct cpolicy *, int, const char *, size_t))
{
	const char	*s;
	size_t		 len, e;
	uint32_t	 i;

	if (p->t[v].type == PT_STRING)
		return (pt_str(p, &p->t[v], &s, &len) == -1 ? -1 :
		    add(cp, negated, s, len));
	if (p->t[v].type != PT_ARRAY || p->t[v].n == 0)
		return (-1);
	for (i = 0, e = v + 1; i < p->t[v].n; i++, e = p->t[e].next)
		if (pt_str(p, &p->t[e], &s, &len) == -1 ||
		    add(cp, negated, s, len) == -1)
			return (-1);
	return (0);
}

static int
pt_principal_add(struct cpolicy *cp, int negated, const char *s, size_t len)
{
	return (cpolicy_stmt_principal(cp, s, len));
}

/* pc_value: strings as they are, booleans as true/false; numbers fall
 * back to the full path (json-c's text for them is what counts). */
static int
pt_cond_value(struct pt *p, struct cpolicy *cp, size_t v)
{
	const char	*s;
	size_t		 len;

	switch (p->t[v].type) {
	case PT_STRING:
		if (pt_str(p, &p->t[v], &s, &len) == -1)
			return (-1);
		return (cpolicy_cond_value(cp, s, len));
	case PT_TRUE:
		return (cpolicy_cond_value(cp, "true", 4));
	case PT_FALSE:
		return (cpolicy_cond_value(cp, "false", 5));
	default:
		return (-1);
	}
}

static int
pt_condition(struct pt *p, struct cpolicy *cp, size_t c)
{
	enum cpolicy_op	 op;
	const char	*s;
	size_t		 len, k, ks, e;
	uint32_t	 i, j, m;

	/* The validator refuses empty ones; policy_compile would not. */
	if (p->t[c].type != PT_OBJECT || p->t[c].n == 0)
		return (-1);
	for (i = 0, k = c + 1; i < p->t[c].n; i++, k = p->t[k + 1].next) {
		if (pt_str(p, &p->t[k], &s, &len) == -1 ||
		    memchr(s, '\0', len) != NULL ||
		    cpolicy_op_parse(s, len, &op) == -1 ||
		    p->t[k + 1].type != PT_OBJECT || p->t[k + 1].n == 0)
			return (-1);
		for (j = 0, ks = k + 2; j < p->t[k + 1].n; j++,
		    ks = p->t[ks + 1].next) {
			if (pt_str(p, &p->t[ks], &s, &len) == -1 ||
			    cpolicy_stmt_cond(cp, op, s, len) == -1)
				return (-1);
			e = ks + 1;
			if (p->t[e].type != PT_ARRAY) {
				if (pt_cond_value(p, cp, e) == -1)
					return (-1);
				continue;
			}
			if ((m = p->t[e].n) == 0)
				return (-1);
			for (e++; m > 0; m--, e = p->t[e].next)
				if (pt_cond_value(p, cp, e) == -1)
					return (-1);
		}
	}
	return (0);
}

/* The elements a statement may have, and where each is. */
enum {
	PT_SID, PT_EFFECT, PT_ACTION, PT_NOTACTION, PT_RESOURCE,
	PT_NOTRESOURCE, PT_PRINCIPAL, PT_CONDITION, PT_NELEMS
};
static const char *const pt_elems[PT_NELEMS] = {
	"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
	"Principal", "Condition"
};

/*
 * pc_statement's calls in pc_statement's order.  What the validator
 * refuses and pc_statement would silently resolve (both Action and
 * NotAction, an unknown element) falls back instead.
 */
static int
pt_statement(struct pt *p, struct cpolicy *cp, enum policy_kind kind,
    size_t st)
{
	enum cpolicy_effect	 effect;
	const char		*sid = NULL, *s;
	size_t			 at[PT_NELEMS], k, sidlen = 0, pk;
	uint32_t		 i, e;

	if (p->t[st].type != PT_OBJECT)
		return (-1);
	for (e = 0; e < PT_NELEMS; e++)
		at[e] = 0;
	for (i = 0, k = st + 1; i < p->t[st].n; i++, k = p->t[k + 1].next) {
		for (e = 0; e < PT_NELEMS; e++)
			if (pt_is(p, &p->t[k], pt_elems[e]))
				break;
		if (e == PT_NELEMS || at[e] != 0)
			return (-1);
		at[e] = k + 1;
	}
	if (at[PT_EFFECT] == 0)
		return (-1);
	if (pt_is(p, &p->t[at[PT_EFFECT]], "Allow"))
		effect = CPOLICY_ALLOW;
	else if (pt_is(p, &p->t[at[PT_EFFECT]], "Deny"))
		effect = CPOLICY_DENY;
	else
		return (-1);
	if ((at[PT_ACTION] != 0) == (at[PT_NOTACTION] != 0) ||
	    (at[PT_RESOURCE] != 0) == (at[PT_NOTRESOURCE] != 0) ||
	    (kind == POLICY_KIND_KEY && (at[PT_NOTRESOURCE] != 0 ||
	    at[PT_PRINCIPAL] == 0)) ||
	    (kind == POLICY_KIND_RAM && at[PT_PRINCIPAL] != 0))
		return (-1);
	/* Read last: the scratch buffer may hold it. */
	if (at[PT_SID] != 0 && pt_str(p, &p->t[at[PT_SID]], &sid,
	    &sidlen) == -1)
		return (-1);
	if (cpolicy_add_stmt(cp, effect, sid, sidlen) == -1)
		return (-1);
	if (at[PT_ACTION] != 0 ? pt_strings(p, cp, at[PT_ACTION], 0,
	    cpolicy_stmt_action) == -1 : pt_strings(p, cp, at[PT_NOTACTION],
	    1, cpolicy_stmt_action) == -1)
		return (-1);
	if (at[PT_RESOURCE] != 0 ? pt_strings(p, cp, at[PT_RESOURCE], 0,
	    cpolicy_stmt_resource) == -1 : pt_strings(p, cp,
	    at[PT_NOTRESOURCE], 1, cpolicy_stmt_resource) == -1)
		return (-1);
	if (kind == POLICY_KIND_KEY) {
		/* The object's only key is RAM, in any case. */
		pk = at[PT_PRINCIPAL];
		if (p->t[pk].type != PT_OBJECT || p->t[pk].n != 1 ||
		    pt_str(p, &p->t[pk + 1], &s, &k) == -1 || k != 3 ||
		    strncasecmp(s, "RAM", 3) != 0 ||
		    pt_strings(p, cp, pk + 2, 0, pt_principal_add) == -1)
			return (-1);
	}
	if (at[PT_CONDITION] != 0 && pt_condition(p, cp,
	    at[PT_CONDITION]) == -1)
		return (-1);
	return (0);
}

int
policy_compile_trusted(enum policy_kind kind, const char *text, size_t len,
    struct cpolicy **cpp)
{
	struct pt_tok	 stack[PT_STACK_TOKS];
	struct pt	 p;
	struct cpolicy	*cp = NULL;
	size_t		 k, stmts = 0, e;
	uint32_t	 i;
	int		 rc = -1, version = 0;

	/* Offsets are 32 bits; the limits are far below. */
	if (len > UINT32_MAX / 2)
		return (-1);
	memset(&p, 0, sizeof(p));
	p.s = (const unsigned char *)text;
	p.len = len;
	p.t = stack;
	p.cap = PT_STACK_TOKS;
	if ((p.scratch = malloc(len + 1)) == NULL)
		return (-1);
	if (pt_value(&p, 1) == -1)
		goto out;
	pt_ws(&p);
	if (p.pos != len || p.t[0].type != PT_OBJECT)
		goto out;
	/* The document: Version "1" and Statement, nothing else. */
	for (i = 0, k = 1; i < p.t[0].n; i++, k = p.t[k + 1].next) {
		if (pt_is(&p, &p.t[k], "Version") && !version)
			version = pt_is(&p, &p.t[k + 1], "1");
		else if (pt_is(&p, &p.t[k], "Statement") && stmts == 0)
			stmts = k + 1;
		else
			goto out;
	}
	if (!version || stmts == 0 || p.t[stmts].type != PT_ARRAY ||
	    p.t[stmts].n == 0)
		goto out;
	if ((cp = cpolicy_new(kind == POLICY_KIND_KEY ? CPOLICY_KEY :
	    CPOLICY_RAM)) == NULL)
		goto out;
	for (i = 0, e = stmts + 1; i < p.t[stmts].n; i++, e = p.t[e].next)
		if (pt_statement(&p, cp, kind, e) == -1)
			goto out;
	if (cpolicy_finish(cp) == -1)
		goto out;
	*cpp = cp;
	cp = NULL;
	rc = 0;
out:
	if (cp != NULL)
		cpolicy_unref(cp);
	if (p.heap)
		free(p.t);
	free(p.scratch);
	return (rc);
}

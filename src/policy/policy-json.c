/* SPDX-License-Identifier: ISC */
/*
 * policy-json.c: strict JSON.
 *
 * json-c 0.16's tokener, even with JSON_TOKENER_STRICT and
 * JSON_TOKENER_VALIDATE_UTF8, accepts text that is not JSON ('single
 * quotes', NaN, Infinity, "1.", raw control characters in strings,
 * overlong and surrogate UTF-8), silently replaces an unpaired \ud800
 * escape, cuts object keys at \u0000, clamps integers beyond 64 bits and
 * keeps only the last of two equal keys.  So the text first goes through
 * a scanner for RFC 8259 that also tracks the keys of every object (by
 * their unescaped bytes); only text it accepts is given to json-c, in
 * strict mode with UTF-8 validation and the same depth limit, to build
 * the tree.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "policy/policy.h"
#include "policy/policy-int.h"

#define PJ_DEPTH_CAP	1024	/* bounds the scanner's recursion */

struct pj_frame {
	int		obj;
	int		inval;	/* a member or element is being read */
	size_t		index;	/* array: current element */
	size_t		koff;	/* object: current key, in the arena */
	size_t		klen;
	uint32_t	id;	/* object: its number, for the key set */
};

/* One key of one object in the key set. */
struct pj_ent {
	uint32_t	obj;
	uint32_t	hash;
	uint32_t	off;
	uint32_t	len;	/* UINT32_MAX: empty slot */
};

struct pj {
	const unsigned char	*s;
	size_t			 len;
	size_t			 pos;
	int			 maxdepth;
	struct pj_frame		*fr;
	size_t			 depth;
	char			*arena;	/* unescaped keys */
	size_t			 alen;
	struct pj_ent		*tab;
	size_t			 tcap;
	size_t			 tn;
	uint32_t		 nobj;
	const char		*prefix;
	struct policy_diags	*d;
	int			 fatal;
	int			 soft;
	int			 oom;
};

static void	pj_diag(struct pj *, int, size_t, const char *, va_list)
		    __attribute__((__format__(printf, 4, 0)));
static int	pj_error(struct pj *, size_t, const char *, ...)
		    __attribute__((__format__(printf, 3, 4)));
static void	pj_soft(struct pj *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	pj_ws(struct pj *);
static int	pj_value(struct pj *);
static int	pj_object(struct pj *);
static int	pj_array(struct pj *);
static int	pj_string(struct pj *, int, size_t *, size_t *);
static int	pj_number(struct pj *);
static int	pj_literal(struct pj *, const char *);
static int	pj_hex4(struct pj *, size_t, unsigned *);
static int	pj_utf8(struct pj *, size_t *);
static int	pj_key_add(struct pj *, uint32_t, size_t, size_t);
static void	pj_put(struct pj *, unsigned);

/*
 * Adds a diagnostic at the current path.  at != SIZE_MAX adds the place
 * in the text (line, column, byte offset) to the reason.
 */
static void
pj_diag(struct pj *pj, int fatal, size_t at, const char *fmt, va_list ap)
{
	struct policy_path	 p;
	char			*msg;
	size_t			 i, line = 1, col = 1;
	int			 r;

	if (fatal)
		pj->fatal = 1;
	else
		pj->soft = 1;
	if (policy_path_init(&p, pj->prefix) == -1) {
		pj->oom = 1;
		return;
	}
	for (i = 0; i < pj->depth; i++) {
		const struct pj_frame	*f = &pj->fr[i];

		if (!f->inval)
			break;
		if (f->obj)
			policy_path_key(&p, pj->arena + f->koff, f->klen);
		else
			policy_path_index(&p, f->index);
	}
	if (vasprintf(&msg, fmt, ap) == -1) {
		pj->oom = 1;
		policy_path_free(&p);
		return;
	}
	if (at != SIZE_MAX) {
		for (i = 0; i < at && i < pj->len; i++) {
			if (pj->s[i] == '\n') {
				line++;
				col = 1;
			} else if ((pj->s[i] & 0xc0) != 0x80)
				col++;
		}
		r = policy_diags_add(pj->d, POLICY_CODE_INVALID,
		    policy_path_str(&p), "invalid JSON at line %zu column %zu "
		    "(byte %zu): %s", line, col, at, msg);
	} else
		r = policy_diags_add(pj->d, POLICY_CODE_INVALID,
		    policy_path_str(&p), "%s", msg);
	if (r == -1 || p.oom)
		pj->oom = 1;
	free(msg);
	policy_path_free(&p);
}

static int
pj_error(struct pj *pj, size_t at, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	pj_diag(pj, 1, at, fmt, ap);
	va_end(ap);
	return (-1);
}

static void
pj_soft(struct pj *pj, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	pj_diag(pj, 0, SIZE_MAX, fmt, ap);
	va_end(ap);
}

static void
pj_ws(struct pj *pj)
{
	while (pj->pos < pj->len && (pj->s[pj->pos] == ' ' ||
	    pj->s[pj->pos] == '\t' || pj->s[pj->pos] == '\n' ||
	    pj->s[pj->pos] == '\r'))
		pj->pos++;
}

static int
pj_unexpected(struct pj *pj, const char *what)
{
	unsigned char	c;

	if (pj->pos >= pj->len)
		return (pj_error(pj, pj->pos, "the document ends where %s "
		    "was expected", what));
	c = pj->s[pj->pos];
	if (c == '\'')
		return (pj_error(pj, pj->pos, "unexpected ' where %s was "
		    "expected (JSON strings use double quotes)", what));
	if (c > 0x20 && c < 0x7f)
		return (pj_error(pj, pj->pos, "unexpected '%c' where %s was "
		    "expected", c, what));
	return (pj_error(pj, pj->pos, "unexpected byte 0x%02x where %s was "
	    "expected", c, what));
}

static int
pj_value(struct pj *pj)
{
	unsigned char	c;

	pj_ws(pj);
	if (pj->pos >= pj->len)
		return (pj_unexpected(pj, "a value"));
	c = pj->s[pj->pos];
	switch (c) {
	case '{':
		return (pj_object(pj));
	case '[':
		return (pj_array(pj));
	case '"':
		return (pj_string(pj, 0, NULL, NULL));
	case 't':
		return (pj_literal(pj, "true"));
	case 'f':
		return (pj_literal(pj, "false"));
	case 'n':
		return (pj_literal(pj, "null"));
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return (pj_number(pj));
		return (pj_unexpected(pj, "a value"));
	}
}

static int
pj_push(struct pj *pj, int obj)
{
	struct pj_frame	*f;

	if (pj->depth >= (size_t)pj->maxdepth)
		return (pj_error(pj, pj->pos, "nesting deeper than %d levels",
		    pj->maxdepth));
	f = &pj->fr[pj->depth++];
	memset(f, 0, sizeof(*f));
	f->obj = obj;
	if (obj)
		f->id = pj->nobj++;
	return (0);
}

static int
pj_object(struct pj *pj)
{
	struct pj_frame	*f;
	size_t		 koff, klen;

	if (pj_push(pj, 1) == -1)
		return (-1);
	f = &pj->fr[pj->depth - 1];
	pj->pos++;
	pj_ws(pj);
	if (pj->pos < pj->len && pj->s[pj->pos] == '}') {
		pj->pos++;
		pj->depth--;
		return (0);
	}
	for (;;) {
		pj_ws(pj);
		if (pj->pos >= pj->len || pj->s[pj->pos] != '"')
			return (pj_unexpected(pj, "a key in double quotes"));
		if (pj_string(pj, 1, &koff, &klen) == -1)
			return (-1);
		f->koff = koff;
		f->klen = klen;
		f->inval = 1;
		if (pj_key_add(pj, f->id, koff, klen) == 1)
			pj_soft(pj, "duplicate key: a key may appear only once "
			    "in an object");
		pj_ws(pj);
		if (pj->pos >= pj->len || pj->s[pj->pos] != ':')
			return (pj_unexpected(pj, "':' after a key"));
		pj->pos++;
		if (pj_value(pj) == -1)
			return (-1);
		f->inval = 0;
		pj_ws(pj);
		if (pj->pos < pj->len && pj->s[pj->pos] == ',') {
			pj->pos++;
			continue;
		}
		if (pj->pos < pj->len && pj->s[pj->pos] == '}') {
			pj->pos++;
			break;
		}
		return (pj_unexpected(pj, "',' or '}'"));
	}
	pj->depth--;
	return (0);
}

static int
pj_array(struct pj *pj)
{
	struct pj_frame	*f;

	if (pj_push(pj, 0) == -1)
		return (-1);
	f = &pj->fr[pj->depth - 1];
	pj->pos++;
	pj_ws(pj);
	if (pj->pos < pj->len && pj->s[pj->pos] == ']') {
		pj->pos++;
		pj->depth--;
		return (0);
	}
	for (;;) {
		f->inval = 1;
		if (pj_value(pj) == -1)
			return (-1);
		f->inval = 0;
		pj_ws(pj);
		if (pj->pos < pj->len && pj->s[pj->pos] == ',') {
			pj->pos++;
			f->index++;
			continue;
		}
		if (pj->pos < pj->len && pj->s[pj->pos] == ']') {
			pj->pos++;
			break;
		}
		return (pj_unexpected(pj, "',' or ']'"));
	}
	pj->depth--;
	return (0);
}

static int
pj_literal(struct pj *pj, const char *word)
{
	size_t	n = strlen(word);

	if (pj->len - pj->pos < n || memcmp(pj->s + pj->pos, word, n) != 0)
		return (pj_unexpected(pj, "a value"));
	pj->pos += n;
	return (0);
}

static int
pj_number(struct pj *pj)
{
	static const char	 i64min[] = "9223372036854775808";
	static const char	 u64max[] = "18446744073709551615";
	const unsigned char	*s = pj->s;
	size_t			 start = pj->pos, dstart, ndig;
	int			 isint = 1, neg = 0;

#define PJ_DIGIT(i)	((i) < pj->len && s[i] >= '0' && s[i] <= '9')
	if (s[pj->pos] == '-') {
		neg = 1;
		pj->pos++;
	}
	dstart = pj->pos;
	if (!PJ_DIGIT(pj->pos))
		return (pj_error(pj, pj->pos, "a digit must follow '-'"));
	if (s[pj->pos] == '0') {
		pj->pos++;
		if (PJ_DIGIT(pj->pos))
			return (pj_error(pj, start, "a number may not have "
			    "leading zeros"));
	} else
		while (PJ_DIGIT(pj->pos))
			pj->pos++;
	ndig = pj->pos - dstart;
	if (pj->pos < pj->len && s[pj->pos] == '.') {
		isint = 0;
		pj->pos++;
		if (!PJ_DIGIT(pj->pos))
			return (pj_error(pj, pj->pos, "a digit must follow "
			    "the decimal point"));
		while (PJ_DIGIT(pj->pos))
			pj->pos++;
	}
	if (pj->pos < pj->len && (s[pj->pos] == 'e' || s[pj->pos] == 'E')) {
		isint = 0;
		pj->pos++;
		if (pj->pos < pj->len && (s[pj->pos] == '+' ||
		    s[pj->pos] == '-'))
			pj->pos++;
		if (!PJ_DIGIT(pj->pos))
			return (pj_error(pj, pj->pos, "a digit must follow "
			    "the exponent mark"));
		while (PJ_DIGIT(pj->pos))
			pj->pos++;
	}
#undef PJ_DIGIT
	/* json-c would clamp these silently. */
	if (isint && (neg ? (ndig > 19 || (ndig == 19 &&
	    memcmp(s + dstart, i64min, 19) > 0)) : (ndig > 20 ||
	    (ndig == 20 && memcmp(s + dstart, u64max, 20) > 0))))
		pj_soft(pj, "the integer %.*s%s does not fit in 64 bits; "
		    "write a long number as a string", ndig > 24 ? 24 :
		    (int)(pj->pos - start), (const char *)s + start,
		    ndig > 24 ? "..." : "");
	return (0);
}

static int
pj_hex4(struct pj *pj, size_t at, unsigned *out)
{
	size_t	i;
	int	c;

	*out = 0;
	if (pj->len - at < 4)
		return (pj_error(pj, at, "\\u needs four hex digits"));
	for (i = at; i < at + 4; i++) {
		c = pj->s[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return (pj_error(pj, at, "\\u needs four hex digits"));
		*out = *out * 16 + (unsigned)c;
	}
	return (0);
}

/*
 * One UTF-8 sequence at pj->pos, strictly (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF); its length goes to *np.
 */
static int
pj_utf8(struct pj *pj, size_t *np)
{
	const unsigned char	*s = pj->s + pj->pos;
	size_t		 avail = pj->len - pj->pos, n, i;
	unsigned		 cp, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		goto bad;
	if (avail < n)
		goto bad;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		goto bad;
	*np = n;
	return (0);
bad:
	return (pj_error(pj, pj->pos, "invalid UTF-8 (byte 0x%02x)", s[0]));
}

/* Appends code point cp to the key being unescaped. */
static void
pj_put(struct pj *pj, unsigned cp)
{
	char	*a = pj->arena + pj->alen;

	if (cp < 0x80) {
		a[0] = (char)cp;
		pj->alen += 1;
	} else if (cp < 0x800) {
		a[0] = (char)(0xc0 | (cp >> 6));
		a[1] = (char)(0x80 | (cp & 0x3f));
		pj->alen += 2;
	} else if (cp < 0x10000) {
		a[0] = (char)(0xe0 | (cp >> 12));
		a[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		a[2] = (char)(0x80 | (cp & 0x3f));
		pj->alen += 3;
	} else {
		a[0] = (char)(0xf0 | (cp >> 18));
		a[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		a[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		a[3] = (char)(0x80 | (cp & 0x3f));
		pj->alen += 4;
	}
}

/*
 * A string at pj->pos (on its opening quote).  A key (key != 0) is
 * unescaped into the arena, at *offp, *lenp bytes.  Unescaped text is
 * never longer than its escaped form, so the arena (as long as the
 * text) cannot overflow.
 */
static int
pj_string(struct pj *pj, int key, size_t *offp, size_t *lenp)
{
	const unsigned char	*s = pj->s;
	size_t			 start = pj->alen, n, at;
	unsigned		 cp, lo;
	unsigned char		 c;

	n = 0;
	pj->pos++;
	for (;;) {
		if (pj->pos >= pj->len)
			return (pj_error(pj, pj->pos, "unterminated string"));
		c = s[pj->pos];
		if (c == '"') {
			pj->pos++;
			break;
		}
		if (c < 0x20)
			return (pj_error(pj, pj->pos, "control character "
			    "U+%04X in a string must be escaped", c));
		if (c >= 0x80) {
			if (pj_utf8(pj, &n) == -1)
				return (-1);
			if (key) {
				memcpy(pj->arena + pj->alen, s + pj->pos, n);
				pj->alen += n;
			}
			pj->pos += n;
			continue;
		}
		if (c != '\\') {
			if (key)
				pj->arena[pj->alen++] = (char)c;
			pj->pos++;
			continue;
		}
		at = pj->pos++;
		if (pj->pos >= pj->len)
			return (pj_error(pj, pj->pos, "unterminated string"));
		c = s[pj->pos++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			cp = c;
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (pj_hex4(pj, pj->pos, &cp) == -1)
				return (-1);
			pj->pos += 4;
			if (cp == 0)
				return (pj_error(pj, at, "\\u0000 is not "
				    "allowed in a policy"));
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return (pj_error(pj, at, "unpaired surrogate "
				    "\\u%04x", cp));
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (pj->len - pj->pos < 6 ||
				    s[pj->pos] != '\\' || s[pj->pos + 1] != 'u')
					return (pj_error(pj, at, "unpaired "
					    "surrogate \\u%04x", cp));
				if (pj_hex4(pj, pj->pos + 2, &lo) == -1)
					return (-1);
				if (lo < 0xdc00 || lo > 0xdfff)
					return (pj_error(pj, at, "unpaired "
					    "surrogate \\u%04x", cp));
				pj->pos += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			break;
		default:
			return (pj_error(pj, at, "invalid escape \\%c%s",
			    c > 0x20 && c < 0x7f ? c : '?', c == '\'' ?
			    " (a ' needs no escape)" : ""));
		}
		if (key)
			pj_put(pj, cp);
	}
	if (key) {
		*offp = start;
		*lenp = pj->alen - start;
	}
	return (0);
}

static uint32_t
pj_hash(uint32_t obj, const char *k, size_t len)
{
	uint32_t	h = 2166136261u ^ obj;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)k[i];
		h *= 16777619u;
	}
	return (h);
}

/*
 * Adds key (arena off, len) to the key set of object obj.  Returns 1
 * when the object already has that key, 0 when added, -1 out of memory.
 */
static int
pj_key_add(struct pj *pj, uint32_t obj, size_t off, size_t len)
{
	struct pj_ent	*nt, *e;
	uint32_t	 h = pj_hash(obj, pj->arena + off, len);
	size_t		 i, j, ncap;

	if ((pj->tn + 1) * 2 > pj->tcap) {
		ncap = pj->tcap == 0 ? 64 : pj->tcap * 2;
		if ((nt = calloc(ncap, sizeof(*nt))) == NULL) {
			pj->oom = 1;
			return (-1);
		}
		for (i = 0; i < ncap; i++)
			nt[i].len = UINT32_MAX;
		for (i = 0; i < pj->tcap; i++) {
			if (pj->tab[i].len == UINT32_MAX)
				continue;
			j = pj->tab[i].hash & (ncap - 1);
			while (nt[j].len != UINT32_MAX)
				j = (j + 1) & (ncap - 1);
			nt[j] = pj->tab[i];
		}
		free(pj->tab);
		pj->tab = nt;
		pj->tcap = ncap;
	}
	for (i = h & (pj->tcap - 1); pj->tab[i].len != UINT32_MAX;
	    i = (i + 1) & (pj->tcap - 1)) {
		e = &pj->tab[i];
		if (e->obj == obj && e->hash == h && e->len == len &&
		    memcmp(pj->arena + e->off, pj->arena + off, len) == 0)
			return (1);
	}
	e = &pj->tab[i];
	e->obj = obj;
	e->hash = h;
	e->off = (uint32_t)off;
	e->len = (uint32_t)len;
	pj->tn++;
	return (0);
}

struct json_object *
policy_json_parse_soft(const char *text, size_t len, int max_depth,
    const char *prefix, struct policy_diags *d, int *softp)
{
	struct pj		 pj;
	struct json_tokener	*tok = NULL;
	struct json_object	*o = NULL;
	enum json_tokener_error	 jerr;

	*softp = 0;
	memset(&pj, 0, sizeof(pj));
	pj.s = (const unsigned char *)text;
	pj.len = len;
	pj.prefix = prefix != NULL ? prefix : "";
	pj.d = d;
	pj.maxdepth = max_depth < 1 ? 1 : max_depth > PJ_DEPTH_CAP ?
	    PJ_DEPTH_CAP : max_depth;
	/* json-c takes an int length; key offsets are 32 bits. */
	if (len > INT_MAX - 1) {
		pj_error(&pj, SIZE_MAX, "the document is too large to parse");
		goto out;
	}
	if ((pj.fr = calloc((size_t)pj.maxdepth, sizeof(*pj.fr))) == NULL ||
	    (pj.arena = malloc(len + 1)) == NULL) {
		pj.oom = 1;
		goto out;
	}
	pj_ws(&pj);
	if (pj.pos == len) {
		pj_error(&pj, SIZE_MAX, "the document is empty");
		goto out;
	}
	if (pj_value(&pj) == -1 || pj.oom)
		goto out;
	pj_ws(&pj);
	if (pj.pos != len) {
		pj_error(&pj, pj.pos, "unexpected text after the end of the "
		    "document");
		goto out;
	}
	if ((tok = json_tokener_new_ex(pj.maxdepth)) == NULL) {
		pj.oom = 1;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (o == NULL || jerr != json_tokener_success) {
		/* The scanner is stricter; reaching here is a bug. */
		pj_error(&pj, json_tokener_get_parse_end(tok), "json-c: %s",
		    json_tokener_error_desc(jerr));
		json_object_put(o);
		o = NULL;
	}
out:
	if (tok != NULL)	/* json-c 0.16 does not accept NULL */
		json_tokener_free(tok);
	free(pj.fr);
	free(pj.arena);
	free(pj.tab);
	if (o != NULL && (pj.fatal || pj.oom)) {
		json_object_put(o);
		o = NULL;
	}
	if (pj.oom && !pj.fatal)
		(void)policy_diags_add(d, POLICY_CODE_INVALID, pj.prefix,
		    "out of memory while parsing");
	*softp = pj.soft;
	return (o);
}

struct json_object *
policy_json_parse(const char *text, size_t len, int max_depth,
    const char *path_prefix, struct policy_diags *d)
{
	struct json_object	*o;
	int			 soft;

	o = policy_json_parse_soft(text, len, max_depth, path_prefix, d,
	    &soft);
	if (o != NULL && soft) {
		json_object_put(o);
		o = NULL;
	}
	return (o);
}

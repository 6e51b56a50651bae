/* SPDX-License-Identifier: ISC */
/*
 * policy-diag.c: the list of violations a document has, JSON paths, and
 * quoting of a document's own text inside a reason.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/policy-int.h"

static int	policy_path_grow(struct policy_path *, size_t);
static int	policy_path_bare(const char *, size_t);

void
policy_diags_init(struct policy_diags *d)
{
	d->v = NULL;
	d->n = 0;
	d->cap = 0;
}

void
policy_diags_free(struct policy_diags *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].path);
		free(d->v[i].reason);
	}
	free(d->v);
	policy_diags_init(d);
}

static void
policy_diag_oneline(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int
policy_diags_add(struct policy_diags *d, const char *code, const char *path,
    const char *fmt, ...)
{
	struct policy_diag	*nv;
	va_list			 ap;
	char			*p, *r;
	size_t			 ncap;
	int			 n;

	if (d->n == d->cap) {
		ncap = d->cap == 0 ? 8 : d->cap * 2;
		if (ncap > SIZE_MAX / sizeof(*nv))
			return (-1);
		if ((nv = realloc(d->v, ncap * sizeof(*nv))) == NULL)
			return (-1);
		d->v = nv;
		d->cap = ncap;
	}
	if ((p = strdup(path != NULL ? path : "")) == NULL)
		return (-1);
	va_start(ap, fmt);
	n = vasprintf(&r, fmt, ap);
	va_end(ap);
	if (n == -1) {
		free(p);
		return (-1);
	}
	/* A diagnostic is one line: input echoed into it (a bad id, a
	 * JSON key) must not carry control characters to a log or a tty. */
	policy_diag_oneline(p);
	policy_diag_oneline(r);
	d->v[d->n].code = code;
	d->v[d->n].path = p;
	d->v[d->n].reason = r;
	d->n++;
	return (0);
}

int
policy_path_init(struct policy_path *p, const char *prefix)
{
	size_t	len = strlen(prefix);

	p->buf = NULL;
	p->len = 0;
	p->cap = 0;
	p->oom = 0;
	if (policy_path_grow(p, len + 64) == -1)
		return (-1);
	memcpy(p->buf, prefix, len + 1);
	p->len = len;
	return (0);
}

void
policy_path_free(struct policy_path *p)
{
	free(p->buf);
	p->buf = NULL;
	p->len = p->cap = 0;
}

/* Room for need more bytes and a NUL. */
static int
policy_path_grow(struct policy_path *p, size_t need)
{
	char	*nb;
	size_t	 ncap;

	if (p->oom)
		return (-1);
	if (p->len + need + 1 <= p->cap)
		return (0);
	ncap = p->cap == 0 ? 128 : p->cap;
	while (ncap < p->len + need + 1) {
		if (ncap > SIZE_MAX / 2)
			goto fail;
		ncap *= 2;
	}
	if ((nb = realloc(p->buf, ncap)) == NULL)
		goto fail;
	p->buf = nb;
	p->cap = ncap;
	return (0);
fail:
	p->oom = 1;
	return (-1);
}

/*
 * A key is written bare (".acs:SourceIp") when it is printable ASCII
 * without the path's own punctuation; otherwise as ["json-escaped"].
 */
static int
policy_path_bare(const char *k, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)k[i];

		if (c <= 0x20 || c >= 0x7f || c == '.' || c == '[' ||
		    c == ']' || c == '"' || c == '\\')
			return (0);
	}
	return (1);
}

size_t
policy_path_key(struct policy_path *p, const char *k, size_t len)
{
	size_t	old = p->len, i;

	if (policy_path_bare(k, len)) {
		if (policy_path_grow(p, len + 1) == -1)
			return (old);
		if (p->len > 0)
			p->buf[p->len++] = '.';
		memcpy(p->buf + p->len, k, len);
		p->len += len;
	} else {
		/* Worst case every byte becomes \u00XX. */
		if (len > (SIZE_MAX - 8) / 6 ||
		    policy_path_grow(p, len * 6 + 8) == -1)
			return (old);
		p->buf[p->len++] = '[';
		p->buf[p->len++] = '"';
		for (i = 0; i < len; i++) {
			unsigned char	c = (unsigned char)k[i];

			if (c == '"' || c == '\\') {
				p->buf[p->len++] = '\\';
				p->buf[p->len++] = (char)c;
			} else if (c < 0x20 || c == 0x7f) {
				snprintf(p->buf + p->len, 7, "\\u%04x", c);
				p->len += 6;
			} else
				p->buf[p->len++] = (char)c;
		}
		p->buf[p->len++] = '"';
		p->buf[p->len++] = ']';
	}
	p->buf[p->len] = '\0';
	return (old);
}

size_t
policy_path_index(struct policy_path *p, size_t i)
{
	size_t	old = p->len;
	int	n;

	if (policy_path_grow(p, 24) == -1)
		return (old);
	n = snprintf(p->buf + p->len, 24, "[%zu]", i);
	if (n > 0 && n < 24)
		p->len += (size_t)n;
	p->buf[p->len] = '\0';
	return (old);
}

void
policy_path_truncate(struct policy_path *p, size_t len)
{
	if (p->buf != NULL && len <= p->len) {
		p->len = len;
		p->buf[len] = '\0';
	}
}

const char *
policy_path_str(const struct policy_path *p)
{
	return (p->buf != NULL ? p->buf : "");
}

void
policy_quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t	i, o = 0, shown = 0;

	if (size < 8) {
		if (size > 0)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i];

		/* Stop at a character boundary once enough is shown. */
		if (shown >= 48 && (c & 0xc0) != 0x80) {
			if (o + 4 < size) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (o + 10 >= size)
			break;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(buf + o, 7, "\\u%04x", c);
			o += 6;
		} else
			buf[o++] = (char)c;
		if ((c & 0xc0) != 0x80)
			shown++;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

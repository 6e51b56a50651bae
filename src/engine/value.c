/* SPDX-License-Identifier: ISC */
/*
 * value.c: parsers and comparators for typed condition values.
 */
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "engine/value.h"

static int	value_digits(const char *, size_t, size_t *, size_t);
static int64_t	value_days_from_civil(int64_t, unsigned, unsigned);

/* The 12 bytes that prefix an IPv4-mapped IPv6 address. */
static const uint8_t value_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static void
value_ip_mask(struct value_ip *ip)
{
	unsigned	i, bits = ip->prefix;
	unsigned	len = ip->family == 4 ? 4 : 16;

	for (i = 0; i < len; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			ip->addr[i] &= (uint8_t)(0xff00u >> bits);
			bits = 0;
		}
	}
	for (i = len; i < 16; i++)
		ip->addr[i] = 0;
}

/* Collapse ::ffff:a.b.c.d into the IPv4 address it carries. */
static void
value_ip_unmap(struct value_ip *ip)
{
	if (ip->family != 6 || ip->prefix < 96 ||
	    memcmp(ip->addr, value_v4mapped, sizeof(value_v4mapped)) != 0)
		return;
	memmove(ip->addr, ip->addr + 12, 4);
	memset(ip->addr + 4, 0, 12);
	ip->family = 4;
	ip->prefix -= 96;
}

int
value_ip_parse(const char *s, size_t len, int allow_prefix,
    struct value_ip *out)
{
	char		 buf[INET6_ADDRSTRLEN + 8];
	const char	*slash;
	size_t		 alen, i;
	unsigned	 prefix, max;
	struct value_ip	 ip;

	/* inet_pton would stop at an embedded NUL and accept a prefix. */
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return (-1);
	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	if (alen == 0)
		return (-1);
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(&ip, 0, sizeof(ip));
	if (memchr(buf, ':', alen) != NULL) {
		if (inet_pton(AF_INET6, buf, ip.addr) != 1)
			return (-1);
		ip.family = 6;
		max = 128;
	} else {
		if (inet_pton(AF_INET, buf, ip.addr) != 1)
			return (-1);
		ip.family = 4;
		max = 32;
	}
	prefix = max;
	if (slash != NULL) {
		if (!allow_prefix)
			return (-1);
		/* 1 to 3 decimal digits, no sign, no leading zero but "0". */
		i = alen + 1;
		if (i >= len || len - i > 3)
			return (-1);
		if (s[i] == '0' && len - i > 1)
			return (-1);
		prefix = 0;
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return (-1);
			prefix = prefix * 10 + (unsigned)(s[i] - '0');
		}
		if (prefix > max)
			return (-1);
	}
	ip.prefix = (uint8_t)prefix;
	value_ip_unmap(&ip);
	value_ip_mask(&ip);
	*out = ip;
	return (0);
}

int
value_ip_from_bytes(const uint8_t *b, size_t len, struct value_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 4) {
		out->family = 4;
		out->prefix = 32;
	} else if (len == 16) {
		out->family = 6;
		out->prefix = 128;
	} else
		return (-1);
	memcpy(out->addr, b, len);
	value_ip_unmap(out);
	return (0);
}

int
value_ip_contains(const struct value_ip *net, const struct value_ip *addr)
{
	unsigned	full, rest;

	if (net->family != addr->family)
		return (0);
	full = net->prefix / 8;
	rest = net->prefix % 8;
	if (memcmp(net->addr, addr->addr, full) != 0)
		return (0);
	if (rest != 0 && ((net->addr[full] ^ addr->addr[full]) &
	    (uint8_t)(0xff00u >> rest)) != 0)
		return (0);
	return (1);
}

/* Count a run of decimal digits at s[*pos]; at least min of them. */
static int
value_digits(const char *s, size_t len, size_t *pos, size_t min)
{
	size_t	start = *pos;

	while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9')
		(*pos)++;
	return (*pos - start >= min ? 0 : -1);
}

int
value_num_parse(const char *s, size_t len, struct value_num *out)
{
	size_t		 pos = 0, istart, iend, fstart = 0, fend = 0;
	struct value_num n;

	memset(&n, 0, sizeof(n));
	if (pos < len && s[pos] == '-') {
		n.neg = 1;
		pos++;
	}
	istart = pos;
	if (value_digits(s, len, &pos, 1) == -1)
		return (-1);
	iend = pos;
	if (pos < len && s[pos] == '.') {
		pos++;
		fstart = pos;
		if (value_digits(s, len, &pos, 1) == -1)
			return (-1);
		fend = pos;
	}
	if (pos != len)
		return (-1);
	while (istart < iend && s[istart] == '0')
		istart++;
	while (fend > fstart && s[fend - 1] == '0')
		fend--;
	if ((iend - istart) + (fend - fstart) > VALUE_NUM_MAXDIGITS)
		return (-1);
	n.nint = (uint8_t)(iend - istart);
	n.nfrac = (uint8_t)(fend - fstart);
	memcpy(n.digits, s + istart, n.nint);
	memcpy(n.digits + n.nint, s + fstart, n.nfrac);
	if (n.nint == 0 && n.nfrac == 0)
		n.neg = 0;	/* -0 is 0 */
	*out = n;
	return (0);
}

/* Compare magnitudes. */
static int
value_num_cmpabs(const struct value_num *a, const struct value_num *b)
{
	int	c;
	size_t	i, na, nb;

	if (a->nint != b->nint)
		return (a->nint < b->nint ? -1 : 1);
	if ((c = memcmp(a->digits, b->digits, a->nint)) != 0)
		return (c);
	na = a->nfrac;
	nb = b->nfrac;
	for (i = 0; i < na || i < nb; i++) {
		char	da = i < na ? a->digits[a->nint + i] : '0';
		char	db = i < nb ? b->digits[b->nint + i] : '0';

		if (da != db)
			return (da < db ? -1 : 1);
	}
	return (0);
}

int
value_num_cmp(const struct value_num *a, const struct value_num *b)
{
	if (a->neg != b->neg)
		return (a->neg ? -1 : 1);
	return (a->neg ? -value_num_cmpabs(a, b) : value_num_cmpabs(a, b));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
value_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era;
	unsigned	yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + (int64_t)doe - 719468);
}

static int
value_fixed(const char *s, size_t len, size_t pos, size_t n, unsigned *out)
{
	size_t	i;

	if (pos + n > len)
		return (-1);
	*out = 0;
	for (i = pos; i < pos + n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		*out = *out * 10 + (unsigned)(s[i] - '0');
	}
	return (0);
}

int
value_time_parse(const char *s, size_t len, struct value_time *out)
{
	static const unsigned	mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };
	unsigned		y, mo, d, h, mi, sec, oh, om, dim;
	size_t			pos;
	int32_t			nsec = 0;
	int			scale = 100000000;
	int64_t			t, off = 0;

	if (value_fixed(s, len, 0, 4, &y) == -1 || len < 20 ||
	    s[4] != '-' || value_fixed(s, len, 5, 2, &mo) == -1 ||
	    s[7] != '-' || value_fixed(s, len, 8, 2, &d) == -1 ||
	    (s[10] != 'T' && s[10] != 't') ||
	    value_fixed(s, len, 11, 2, &h) == -1 || s[13] != ':' ||
	    value_fixed(s, len, 14, 2, &mi) == -1 || s[16] != ':' ||
	    value_fixed(s, len, 17, 2, &sec) == -1)
		return (-1);
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
		return (-1);
	dim = mdays[mo - 1];
	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	if (d > dim)
		return (-1);
	if (sec == 60)		/* a leap second reads as the next second */
		sec = 59, nsec = 999999999;
	pos = 19;
	if (pos < len && s[pos] == '.') {
		size_t	start = ++pos;

		while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
			if (scale > 0) {
				nsec += (int32_t)(s[pos] - '0') * scale;
				scale /= 10;
			}
			pos++;
		}
		if (pos == start)
			return (-1);
		if (nsec > 999999999)
			nsec = 999999999;
	}
	if (pos < len && (s[pos] == 'Z' || s[pos] == 'z'))
		pos++;
	else if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
		if (value_fixed(s, len, pos + 1, 2, &oh) == -1 ||
		    pos + 3 >= len || s[pos + 3] != ':' ||
		    value_fixed(s, len, pos + 4, 2, &om) == -1 ||
		    oh > 23 || om > 59)
			return (-1);
		off = (int64_t)oh * 3600 + (int64_t)om * 60;
		if (s[pos] == '-')
			off = -off;
		pos += 6;
	} else
		return (-1);
	if (pos != len)
		return (-1);
	t = value_days_from_civil(y, mo, d) * 86400 +
	    (int64_t)h * 3600 + (int64_t)mi * 60 + sec - off;
	out->sec = t;
	out->nsec = nsec;
	return (0);
}

int
value_time_cmp(const struct value_time *a, const struct value_time *b)
{
	if (a->sec != b->sec)
		return (a->sec < b->sec ? -1 : 1);
	if (a->nsec != b->nsec)
		return (a->nsec < b->nsec ? -1 : 1);
	return (0);
}

static int
value_ieq(const char *s, size_t len, const char *word)
{
	size_t	i;

	if (strlen(word) != len)
		return (0);
	for (i = 0; i < len; i++) {
		char	c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return (0);
	}
	return (1);
}

int
value_bool_parse(const char *s, size_t len, int *out)
{
	if (value_ieq(s, len, "true"))
		*out = 1;
	else if (value_ieq(s, len, "false"))
		*out = 0;
	else
		return (-1);
	return (0);
}

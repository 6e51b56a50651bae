/* SPDX-License-Identifier: ISC */
/*
 * value.h: the typed condition values of docs/semantics.md section 3.
 *
 * Pure C, no allocation: the validator uses these parsers to check a
 * policy's condition values, the compiler to store them parsed once, and
 * the evaluator to read request values at decision time.  Every parser
 * takes (pointer, length), needs no NUL terminator, and returns 0 on
 * success or -1 when the text is not of the type.
 */
#ifndef KMSAUTHZ_VALUE_H
#define KMSAUTHZ_VALUE_H

#include <stddef.h>
#include <stdint.h>

/*
 * An IPv4 or IPv6 address or network.  family is 4 or 6; prefix is the
 * network length (32 or 128 for a single address).  Host bits beyond the
 * prefix are cleared when parsed.  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is normalised to family 4 (its prefix reduced by 96).
 */
struct value_ip {
	uint8_t	family;
	uint8_t	prefix;
	uint8_t	addr[16];
};

/* allow_prefix: accept "/N"; without it only a single address parses. */
int	value_ip_parse(const char *, size_t, int allow_prefix,
	    struct value_ip *);
/* Raw request bytes: 4 (IPv4) or 16 (IPv6, mapped form normalised). */
int	value_ip_from_bytes(const uint8_t *, size_t, struct value_ip *);
/* 1 when addr (a single address) lies inside net, 0 otherwise. */
int	value_ip_contains(const struct value_ip *net,
	    const struct value_ip *addr);

/*
 * An exact decimal: -?DIGITS(.DIGITS)?, no exponent, no '+', no spaces.
 * Stored normalised (no leading zeros in the integer part, no trailing
 * zeros in the fraction, -0 == 0), so comparison is exact.
 */
#define VALUE_NUM_MAXDIGITS	64
struct value_num {
	uint8_t	neg;
	uint8_t	nint;		/* digits before the point */
	uint8_t	nfrac;		/* digits after the point */
	char	digits[VALUE_NUM_MAXDIGITS];	/* nint + nfrac digits */
};

int	value_num_parse(const char *, size_t, struct value_num *);
/* <0, 0, >0 like strcmp. */
int	value_num_cmp(const struct value_num *, const struct value_num *);

/*
 * An instant from RFC 3339: YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm),
 * 'T' and 'Z' in either case.  Fractions beyond nanoseconds are truncated.
 */
struct value_time {
	int64_t	sec;		/* seconds since 1970-01-01T00:00:00Z */
	int32_t	nsec;
};

int	value_time_parse(const char *, size_t, struct value_time *);
int	value_time_cmp(const struct value_time *, const struct value_time *);

/* "true"/"false" in any ASCII case. */
int	value_bool_parse(const char *, size_t, int *);

#endif

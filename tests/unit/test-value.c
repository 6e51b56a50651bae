/* SPDX-License-Identifier: ISC */
/*
 * test-value.c: the typed condition values of docs/semantics.md
 * section 3 (IP, exact decimal, RFC 3339 instant, bool).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/value.h"

/* A string literal and its length. */
#define S(s)	(s), strlen(s)

static int
ip_ok(const char *s, int allow_prefix, struct value_ip *ip)
{
	return (value_ip_parse(s, strlen(s), allow_prefix, ip) == 0);
}

static void
test_ip_parse(void **state)
{
	struct value_ip	ip;
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/33",
		"1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/08",
		"1.2.3.4/8/8", "/8", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/ 8",
		"01.2.3.4", "0x1.2.3.4", "::1/129", "::1/1000", "1:2:3",
		"fe80::1%eth0", "::g", "1.2.3.4/3x", "localhost",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999", NULL
	};
	size_t	i;

	assert_true(ip_ok("192.168.0.0/16", 1, &ip));
	assert_int_equal(ip.family, 4);
	assert_int_equal(ip.prefix, 16);
	assert_memory_equal(ip.addr, "\xc0\xa8\0\0", 4);

	/* Host bits are cleared. */
	assert_true(ip_ok("10.1.2.3/8", 1, &ip));
	assert_memory_equal(ip.addr, "\x0a\0\0\0", 4);
	assert_true(ip_ok("10.255.255.255/9", 1, &ip));
	assert_memory_equal(ip.addr, "\x0a\x80\0\0", 4);
	assert_true(ip_ok("1.2.3.4/0", 1, &ip));
	assert_int_equal(ip.prefix, 0);
	assert_memory_equal(ip.addr, "\0\0\0\0", 4);

	assert_true(ip_ok("172.16.215.218", 1, &ip));
	assert_int_equal(ip.prefix, 32);
	assert_true(ip_ok("172.16.215.218", 0, &ip));
	assert_false(ip_ok("172.16.215.218/32", 0, &ip));

	assert_true(ip_ok("2001:db8::/32", 1, &ip));
	assert_int_equal(ip.family, 6);
	assert_int_equal(ip.prefix, 32);
	assert_true(ip_ok("2001:db8::1:2/127", 1, &ip));
	assert_int_equal(ip.addr[15], 2);
	assert_true(ip_ok("2001:db8::1:3/127", 1, &ip));
	assert_int_equal(ip.addr[15], 2);
	assert_true(ip_ok("::", 0, &ip));
	assert_int_equal(ip.prefix, 128);
	assert_true(ip_ok("::1/128", 1, &ip));

	/* IPv4-mapped forms are IPv4. */
	assert_true(ip_ok("::ffff:1.2.3.4", 0, &ip));
	assert_int_equal(ip.family, 4);
	assert_int_equal(ip.prefix, 32);
	assert_memory_equal(ip.addr, "\x01\x02\x03\x04", 4);
	assert_true(ip_ok("::ffff:10.0.0.0/104", 1, &ip));
	assert_int_equal(ip.family, 4);
	assert_int_equal(ip.prefix, 8);
	assert_true(ip_ok("::ffff:0:0/95", 1, &ip));
	assert_int_equal(ip.family, 6);

	for (i = 0; bad[i] != NULL; i++) {
		if (ip_ok(bad[i], 1, &ip))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* Length is honoured: no NUL needed, none read past. */
	assert_int_equal(value_ip_parse("1.2.3.45", 7, 0, &ip), 0);
	assert_memory_equal(ip.addr, "\x01\x02\x03\x04", 4);
	assert_int_equal(value_ip_parse("1.2.3.4\0", 8, 0, &ip), -1);
}

static void
test_ip_contains(void **state)
{
	struct value_ip	net, a;
	uint8_t		b4[4] = { 192, 168, 7, 9 };
	uint8_t		b6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
			    192, 168, 7, 9 };

	assert_true(ip_ok("192.168.0.0/16", 1, &net));
	assert_int_equal(value_ip_from_bytes(b4, 4, &a), 0);
	assert_true(value_ip_contains(&net, &a));
	assert_int_equal(value_ip_from_bytes(b6, 16, &a), 0);
	assert_int_equal(a.family, 4);
	assert_true(value_ip_contains(&net, &a));
	assert_int_equal(value_ip_from_bytes(b6, 5, &a), -1);

	assert_true(ip_ok("192.169.0.1", 0, &a));
	assert_false(value_ip_contains(&net, &a));
	assert_true(ip_ok("10.0.0.0/9", 1, &net));
	assert_true(ip_ok("10.127.255.255", 0, &a));
	assert_true(value_ip_contains(&net, &a));
	assert_true(ip_ok("10.128.0.0", 0, &a));
	assert_false(value_ip_contains(&net, &a));
	assert_true(ip_ok("0.0.0.0/0", 1, &net));
	assert_true(value_ip_contains(&net, &a));

	/* Families never mix. */
	assert_true(ip_ok("::/0", 1, &net));
	assert_false(value_ip_contains(&net, &a));
	assert_true(ip_ok("2001:db8::/33", 1, &net));
	assert_true(ip_ok("2001:db8:7fff::1", 0, &a));
	assert_true(value_ip_contains(&net, &a));
	assert_true(ip_ok("2001:db8:8000::1", 0, &a));
	assert_false(value_ip_contains(&net, &a));
	assert_true(ip_ok("2001:db8::5", 0, &net));
	assert_true(ip_ok("2001:db8::5", 0, &a));
	assert_true(value_ip_contains(&net, &a));
}

static int
num(const char *s, struct value_num *n)
{
	return (value_num_parse(s, strlen(s), n));
}

static int
numcmp(const char *a, const char *b)
{
	struct value_num	x, y;

	assert_int_equal(num(a, &x), 0);
	assert_int_equal(num(b, &y), 0);
	return (value_num_cmp(&x, &y));
}

static void
test_num(void **state)
{
	static const char *const bad[] = {
		"", "-", ".", "1.", ".5", "+1", "1e3", "1E3", " 1", "1 ",
		"0x10", "1.2.3", "--1", "1,5", "NaN", "Infinity", "١", NULL
	};
	char		 big[80];
	struct value_num n;
	size_t		 i;

	for (i = 0; bad[i] != NULL; i++)
		if (num(bad[i], &n) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(num("007.500", &n), 0);
	assert_int_equal(n.nint, 1);
	assert_int_equal(n.nfrac, 1);
	assert_int_equal(numcmp("007.500", "7.5"), 0);
	assert_int_equal(numcmp("-0", "0"), 0);
	assert_int_equal(numcmp("-0.000", "0"), 0);
	assert_true(numcmp("-1", "0") < 0);
	assert_true(numcmp("-2", "-1") < 0);
	assert_true(numcmp("10", "9") > 0);
	assert_true(numcmp("1.05", "1.5") < 0);
	assert_true(numcmp("1.5", "1.49999") > 0);
	assert_true(numcmp("-1.5", "-1.49999") < 0);
	assert_true(numcmp("0.1", "0") > 0);
	assert_true(numcmp("100", "99.999") > 0);

	/* 64 significant digits, leading and trailing zeros aside. */
	memset(big, '9', 64);
	big[64] = '\0';
	assert_int_equal(num(big, &n), 0);
	big[64] = '9';
	big[65] = '\0';
	assert_int_equal(num(big, &n), -1);
	memcpy(big, "0000000000.", 11);
	memset(big + 11, '1', 64);
	memcpy(big + 75, "000", 4);
	assert_int_equal(num(big, &n), 0);
	assert_int_equal(n.nint, 0);
	assert_int_equal(n.nfrac, 64);
	assert_int_equal(value_num_parse("12x", 2, &n), 0);
}

static int
tm(const char *s, struct value_time *t)
{
	return (value_time_parse(s, strlen(s), t));
}

static void
test_time(void **state)
{
	static const char *const bad[] = {
		"", "2019-08-12", "2019-08-12T17:00:00", "2019-08-12 17:00:00Z",
		"2019-8-12T17:00:00Z", "2019-08-12T17:00Z", "2019-13-01T00:00:00Z",
		"2019-00-01T00:00:00Z", "2019-02-29T00:00:00Z",
		"2019-04-31T00:00:00Z", "2019-08-00T00:00:00Z",
		"2019-08-12T24:00:00Z", "2019-08-12T17:60:00Z",
		"2019-08-12T17:00:61Z", "2019-08-12T17:00:00.Z",
		"2019-08-12T17:00:00+0800", "2019-08-12T17:00:00+08",
		"2019-08-12T17:00:00+24:00", "2019-08-12T17:00:00+08:60",
		"2019-08-12T17:00:00Zjunk", "2019-08-12T17:00:00ZZ",
		"+2019-08-12T17:00:00Z", "1565600400", "2019-08-12T17:00:00 Z",
		NULL
	};
	struct value_time	a, b;
	size_t			i;

	for (i = 0; bad[i] != NULL; i++)
		if (tm(bad[i], &a) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(tm("1970-01-01T00:00:00Z", &a), 0);
	assert_int_equal(a.sec, 0);
	assert_int_equal(a.nsec, 0);
	assert_int_equal(tm("2019-08-12T17:00:00+08:00", &a), 0);
	assert_int_equal(a.sec, 1565600400);
	assert_int_equal(tm("2019-08-12T09:00:00Z", &b), 0);
	assert_int_equal(value_time_cmp(&a, &b), 0);
	assert_int_equal(tm("2019-08-12t09:00:00z", &b), 0);
	assert_int_equal(value_time_cmp(&a, &b), 0);
	assert_int_equal(tm("2019-08-12T04:00:00-05:00", &b), 0);
	assert_int_equal(value_time_cmp(&a, &b), 0);
	assert_int_equal(tm("2019-08-12T09:00:00.5Z", &b), 0);
	assert_int_equal(b.nsec, 500000000);
	assert_true(value_time_cmp(&a, &b) < 0);
	assert_int_equal(tm("2019-08-12T09:00:00.1234567891234Z", &b), 0);
	assert_int_equal(b.nsec, 123456789);
	assert_int_equal(tm("1969-12-31T23:59:59Z", &b), 0);
	assert_int_equal(b.sec, -1);
	assert_int_equal(tm("2000-02-29T00:00:00Z", &b), 0);
	assert_int_equal(tm("2024-02-29T00:00:00Z", &b), 0);
	assert_int_equal(tm("1900-02-29T00:00:00Z", &b), -1);
	assert_int_equal(tm("9999-12-31T23:59:59Z", &b), 0);
	assert_int_equal(b.sec, 253402300799);
	assert_int_equal(tm("0000-01-01T00:00:00Z", &b), 0);
	assert_int_equal(b.sec, -62167219200);

	/* A leap second is the last instant of second 59. */
	assert_int_equal(tm("2016-12-31T23:59:60Z", &a), 0);
	assert_int_equal(tm("2016-12-31T23:59:59.999999999Z", &b), 0);
	assert_int_equal(value_time_cmp(&a, &b), 0);
	assert_int_equal(tm("2016-12-31T23:59:60.5Z", &a), 0);
	assert_int_equal(value_time_cmp(&a, &b), 0);
	assert_int_equal(tm("2017-01-01T00:00:00Z", &a), 0);
	assert_true(value_time_cmp(&b, &a) < 0);
}

static void
test_bool(void **state)
{
	int	b = -1;

	assert_int_equal(value_bool_parse(S("true"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(value_bool_parse(S("FALSE"), &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(value_bool_parse(S("TrUe"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(value_bool_parse(S("yes"), &b), -1);
	assert_int_equal(value_bool_parse(S("1"), &b), -1);
	assert_int_equal(value_bool_parse(S(""), &b), -1);
	assert_int_equal(value_bool_parse(S("true "), &b), -1);
	assert_int_equal(value_bool_parse(S("truex"), &b), -1);
	assert_int_equal(value_bool_parse("truex", 4, &b), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_parse),
		cmocka_unit_test(test_ip_contains),
		cmocka_unit_test(test_num),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_bool),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

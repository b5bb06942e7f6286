/*
 * check_addr.c: addr_parse/addr_format/addr_equal, cidr_parse, and the
 * test oracle cidr_match (test/cidr_oracle.h), table-driven.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "../cidr_oracle.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Text that parses, its family and port, and how addr_format prints it. */
static const struct {
	const char	*text;
	int		 family;
	unsigned	 port;
	const char	*formatted;
} addr_ok[] = {
	{ "1.2.3.4:80", AF_INET, 80, "1.2.3.4:80" },
	{ "127.0.0.1:8080", AF_INET, 8080, "127.0.0.1:8080" },
	{ "[::1]:80", AF_INET6, 80, "[::1]:80" },
	{ "[::]:80", AF_INET6, 80, "[::]:80" },
	{ "[2001:DB8:0:0::1]:443", AF_INET6, 443, "[2001:db8::1]:443" },
	{ "[::ffff:1.2.3.4]:80", AF_INET6, 80, "[::ffff:1.2.3.4]:80" },
	{ "127.0.0.1:080", AF_INET, 80, "127.0.0.1:80" },
	{ "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", AF_INET6,
	    65535, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
};

/* Text that does not parse, and why. */
static const struct {
	const char	*text;
	const char	*why;
} addr_bad[] = {
	{ "", "empty address" },
	{ "1.2.3.4", "missing port" },
	{ "1.2.3.4:", "missing port" },
	{ "1.2.3.4:http", "bad port" },
	{ "1.2.3.4:8a", "bad port" },
	{ "1.2.3.4:+80", "bad port" },
	{ "1.2.3.4: 80", "bad port" },
	{ "1.2.3:80", "bad IPv4 address" },
	{ "1.2.3.4.5:80", "bad IPv4 address" },
	{ "localhost:80", "bad IPv4 address" },
	{ " 1.2.3.4:80", "bad IPv4 address" },
	{ ":80", "bad IPv4 address" },
	{ "::1:80", "IPv6 address needs brackets" },
	{ "::1", "IPv6 address needs brackets" },
	{ "[::1]", "missing port" },
	{ "[::1]80", "expected ':' after ']'" },
	{ "[::1:80", "missing ']'" },
	{ "[::1]:", "missing port" },
	{ "[1.2.3.4]:80", "bad IPv6 address" },
	{ "[]:80", "bad IPv6 address" },
	{ "[fe80::1%eth0]:80", "bad IPv6 address" },
	{ "[0:0:0:0:0:0:0:0:0]:1", "bad IPv6 address" },
	{ "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]:80",
	    "address too long" },		/* 64 bytes */
};

/* Port boundaries: 1..65535, nothing else, never wrapped. */
static const struct {
	const char	*text;
	int		 port;		/* -1: refused, out of range */
} addr_ports[] = {
	{ "1.2.3.4:1", 1 },
	{ "1.2.3.4:65535", 65535 },
	{ "[::1]:65535", 65535 },
	{ "1.2.3.4:0", -1 },
	{ "[::1]:0", -1 },
	{ "1.2.3.4:65536", -1 },
	{ "1.2.3.4:131152", -1 },	/* 65536 * 2 + 80 */
	{ "1.2.3.4:99999999999999999999", -1 },
	{ "1.2.3.4:00000", -1 },
	{ "1.2.3.4:0000080", 80 },
};

static const struct {
	const char	*a;
	const char	*b;
	int		 equal;
} addr_eq[] = {
	{ "1.2.3.4:80", "1.2.3.4:80", 1 },
	{ "1.2.3.4:80", "1.2.3.4:81", 0 },
	{ "1.2.3.4:80", "1.2.3.5:80", 0 },
	{ "[::1]:80", "[0:0:0::1]:80", 1 },
	{ "[::1]:80", "[::2]:80", 0 },
	{ "1.2.3.4:80", "[::ffff:1.2.3.4]:80", 0 },
	{ "0.0.0.0:80", "[::]:80", 0 },
};

/* A prefix that parses: family and length. */
static const struct {
	const char	*text;
	int		 family;
	int		 prefix;
} cidr_ok[] = {
	{ "0.0.0.0/0", AF_INET, 0 },
	{ "::/0", AF_INET6, 0 },
	{ "10.0.0.0/8", AF_INET, 8 },
	{ "192.168.1.128/25", AF_INET, 25 },
	{ "1.2.3.4/32", AF_INET, 32 },
	{ "1.2.3.4", AF_INET, 32 },
	{ "::1/128", AF_INET6, 128 },
	{ "::1", AF_INET6, 128 },
	{ "2001:db8::/32", AF_INET6, 32 },
	{ "2001:db8:8000::/33", AF_INET6, 33 },
	{ "::ffff:10.0.0.0/104", AF_INET6, 104 },
	{ "10.0.0.0/08", AF_INET, 8 },
};

static const struct {
	const char	*text;
	const char	*why;
} cidr_bad[] = {
	{ "", "empty CIDR" },
	{ "10.0.0.1/8", "host bits set" },
	{ "0.0.0.1/0", "host bits set" },
	{ "192.168.1.129/25", "host bits set" },
	{ "::1/127", "host bits set" },
	{ "::1/0", "host bits set" },
	{ "2001:db8::1/64", "host bits set" },
	{ "1.2.3.4/33", "prefix out of range 0..32" },
	{ "1.2.3.4/99999999999", "prefix out of range 0..32" },
	{ "::/129", "prefix out of range 0..128" },
	{ "1.2.3.4/", "missing prefix length" },
	{ "1.2.3.4/a", "bad prefix length" },
	{ "1.2.3.4/-1", "bad prefix length" },
	{ "1.2.3.4/8/8", "bad prefix length" },
	{ "1.2.3/8", "bad IPv4 address" },
	{ "10.0.0.0 /8", "bad IPv4 address" },
	{ "/8", "bad IPv4 address" },
	{ "::g/64", "bad IPv6 address" },
	{ "[::1]/128", "bad IPv6 address" },
};

/* Whether a client (an "ip:port") lies inside a prefix. */
static const struct {
	const char	*cidr;
	const char	*client;
	int		 match;
} cidr_matches[] = {
	{ "10.0.0.0/8", "10.1.2.3:1", 1 },
	{ "10.0.0.0/8", "11.0.0.0:1", 0 },
	{ "10.0.0.0/8", "9.255.255.255:1", 0 },
	{ "0.0.0.0/0", "203.0.113.9:1", 1 },
	{ "0.0.0.0/0", "[::1]:1", 0 },
	{ "1.2.3.4/32", "1.2.3.4:1", 1 },
	{ "1.2.3.4/32", "1.2.3.5:1", 0 },
	{ "192.168.1.128/25", "192.168.1.200:1", 1 },
	{ "192.168.1.128/25", "192.168.1.127:1", 0 },
	{ "::/0", "[2001:db8::1]:1", 1 },
	{ "::/0", "1.2.3.4:1", 0 },
	{ "::1/128", "[::1]:1", 1 },
	{ "::1/128", "[::2]:1", 0 },
	{ "2001:db8:8000::/33", "[2001:db8:ffff::1]:1", 1 },
	{ "2001:db8:8000::/33", "[2001:db8:7fff::1]:1", 0 },
	/* IPv4-mapped clients are IPv4 clients. */
	{ "10.0.0.0/8", "[::ffff:10.1.2.3]:1", 1 },
	{ "10.0.0.0/8", "[::ffff:11.1.2.3]:1", 0 },
	{ "0.0.0.0/0", "[::ffff:1.2.3.4]:1", 1 },
	{ "::/0", "[::ffff:1.2.3.4]:1", 0 },
	/* A rule written as mapped is the IPv4 rule it means. */
	{ "::ffff:10.0.0.0/104", "10.9.9.9:1", 1 },
	{ "::ffff:10.0.0.0/104", "[::ffff:10.9.9.9]:1", 1 },
	{ "::ffff:10.0.0.0/104", "11.9.9.9:1", 0 },
	{ "::ffff:0:0/96", "1.2.3.4:1", 1 },
	/* ::a.b.c.d (deprecated IPv4-compatible) is plain IPv6. */
	{ "10.0.0.0/8", "[::10.1.2.3]:1", 0 },
};

START_TEST(test_addr_ok)
{
	struct addr	 a;
	const char	*why = NULL;
	char		 buf[ADDR_TEXT_MAX];

	ck_assert_msg(addr_parse(addr_ok[_i].text, &a, &why) == 0, "%s: %s",
	    addr_ok[_i].text, why);
	ck_assert_int_eq(a.ss.ss_family, addr_ok[_i].family);
	ck_assert_uint_eq(addr_port(&a), addr_ok[_i].port);
	ck_assert_uint_eq(a.len, addr_ok[_i].family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	ck_assert_str_eq(a.text, addr_ok[_i].text);
	addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, addr_ok[_i].formatted);
}
END_TEST

START_TEST(test_addr_bad)
{
	struct addr	 a;
	const char	*why = NULL;

	ck_assert_msg(addr_parse(addr_bad[_i].text, &a, &why) == -1,
	    "'%s' parsed", addr_bad[_i].text);
	ck_assert_str_eq(why, addr_bad[_i].why);
	ck_assert_uint_eq(a.len, 0);
}
END_TEST

START_TEST(test_addr_equal)
{
	struct addr	 a, b;
	const char	*why;

	ck_assert_int_eq(addr_parse(addr_eq[_i].a, &a, &why), 0);
	ck_assert_int_eq(addr_parse(addr_eq[_i].b, &b, &why), 0);
	ck_assert_int_eq(addr_equal(&a, &b), addr_eq[_i].equal);
	ck_assert_int_eq(addr_equal(&b, &a), addr_eq[_i].equal);
}
END_TEST

START_TEST(test_cidr_ok)
{
	struct cidr	 c;
	const char	*why = NULL;

	ck_assert_msg(cidr_parse(cidr_ok[_i].text, &c, &why) == 0, "%s: %s",
	    cidr_ok[_i].text, why);
	ck_assert_int_eq(c.family, cidr_ok[_i].family);
	ck_assert_int_eq(c.prefix, cidr_ok[_i].prefix);
}
END_TEST

START_TEST(test_cidr_bad)
{
	struct cidr	 c;
	const char	*why = NULL;

	ck_assert_msg(cidr_parse(cidr_bad[_i].text, &c, &why) == -1,
	    "'%s' parsed", cidr_bad[_i].text);
	ck_assert_str_eq(why, cidr_bad[_i].why);
}
END_TEST

START_TEST(test_cidr_match)
{
	struct cidr	 c;
	struct addr	 a;
	const char	*why = NULL;

	ck_assert_int_eq(cidr_parse(cidr_matches[_i].cidr, &c, &why), 0);
	ck_assert_int_eq(addr_parse(cidr_matches[_i].client, &a, &why), 0);
	ck_assert_msg(cidr_match(&c, (struct sockaddr *)&a.ss) ==
	    cidr_matches[_i].match, "%s in %s: expected %d",
	    cidr_matches[_i].client, cidr_matches[_i].cidr,
	    cidr_matches[_i].match);
}
END_TEST

START_TEST(test_addr_ports)
{
	struct addr	 a;
	const char	*why = NULL;
	int		 r = addr_parse(addr_ports[_i].text, &a, &why);

	if (addr_ports[_i].port == -1) {
		ck_assert_int_eq(r, -1);
		ck_assert_str_eq(why, "port out of range 1..65535");
	} else {
		ck_assert_int_eq(r, 0);
		ck_assert_uint_eq(addr_port(&a), addr_ports[_i].port);
	}
}
END_TEST

/* /0, /32 and /128 at both ends of the address space. */
START_TEST(test_cidr_edges)
{
	struct cidr	 c;
	struct addr	 a;
	const char	*why;

	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c, &why), 0);
	ck_assert_int_eq(addr_parse("0.0.0.0:1", &a, &why), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&a.ss), 1);
	ck_assert_int_eq(addr_parse("255.255.255.255:1", &a, &why), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&a.ss), 1);

	ck_assert_int_eq(cidr_parse("255.255.255.255/32", &c, &why), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&a.ss), 1);
	ck_assert_int_eq(addr_parse("255.255.255.254:1", &a, &why), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&a.ss), 0);

	ck_assert_int_eq(cidr_parse(
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", &c, &why), 0);
	ck_assert_int_eq(addr_parse(
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1", &a, &why), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&a.ss), 1);
	ck_assert_int_eq(addr_parse(
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:1", &a, &why), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&a.ss), 0);

	ck_assert_int_eq(cidr_parse("::/0", &c, &why), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&a.ss), 1);
	ck_assert_int_eq(cidr_parse("128.0.0.0/1", &c, &why), 0);
	ck_assert_int_eq(cidr_parse("::/1", &c, &why), 0);
	ck_assert_int_eq(cidr_parse("8000::/1", &c, &why), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&a.ss), 1);
}
END_TEST

/* Other families match nothing and print as "-"; short buffers truncate. */
START_TEST(test_format_edges)
{
	struct sockaddr_storage	 ss;
	struct cidr		 c;
	struct addr		 a;
	const char		*why;
	char			 buf[8];

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-");
	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c, &why), 0);
	ck_assert_int_eq(cidr_match(&c, (struct sockaddr *)&ss), 0);

	ck_assert_int_eq(addr_parse("192.168.100.100:65535", &a, &why), 0);
	addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.168");
	addr_format((struct sockaddr *)&a.ss, buf, 0);	/* must not write */
	ck_assert_uint_eq(addr_port(&(struct addr){ .len = 0 }), 0);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite	*s = suite_create("addr");
	TCase	*tc;

	tc = tcase_create("core");
	tcase_add_loop_test(tc, test_addr_ok, 0, nitems(addr_ok));
	tcase_add_loop_test(tc, test_addr_bad, 0, nitems(addr_bad));
	tcase_add_loop_test(tc, test_addr_equal, 0, nitems(addr_eq));
	tcase_add_loop_test(tc, test_cidr_ok, 0, nitems(cidr_ok));
	tcase_add_loop_test(tc, test_cidr_bad, 0, nitems(cidr_bad));
	tcase_add_loop_test(tc, test_cidr_match, 0, nitems(cidr_matches));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_loop_test(tc, test_addr_ports, 0, nitems(addr_ports));
	tcase_add_test(tc, test_cidr_edges);
	tcase_add_test(tc, test_format_edges);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(addr_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * check_proxy.c: PROXY protocol headers, byte for byte.  The v1 lines are
 * the examples and worst cases of haproxy's doc/proxy-protocol.txt
 * (section 2.1); the v2 buffers follow section 2.2's layout, and one is a
 * header captured from haproxy itself (172.19.0.1:42578 -> 172.19.0.3:80).
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "proxy.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static struct sockaddr *
sa(const char *ip, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else {
		ck_assert_msg(inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1,
		    "bad test address %s", ip);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
	}
	return (struct sockaddr *)ss;
}

static const struct {
	const char	*src;
	unsigned	 sport;
	const char	*dst;
	unsigned	 dport;
	const char	*line;
} v1[] = {
	/* The spec's example line. */
	{ "192.168.0.1", 56324, "192.168.0.11", 443,
	    "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n" },
	/* The spec's longest TCP4 line: 56 chars. */
	{ "255.255.255.255", 65535, "255.255.255.255", 65535,
	    "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n" },
	/* The spec's longest TCP6 line: 104 chars. */
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
	    "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n" },
	{ "0.0.0.0", 0, "0.0.0.0", 1, "PROXY TCP4 0.0.0.0 0.0.0.0 0 1\r\n" },
	{ "127.0.0.2", 40000, "127.0.0.1", 8080,
	    "PROXY TCP4 127.0.0.2 127.0.0.1 40000 8080\r\n" },
	/* IPv6 in RFC 5952 form: lower case, longest zero run as "::". */
	{ "::1", 51000, "::1", 443, "PROXY TCP6 ::1 ::1 51000 443\r\n" },
	{ "2001:DB8:0:0:1:0:0:1", 1, "2001:db8::", 2,
	    "PROXY TCP6 2001:db8::1:0:0:1 2001:db8:: 1 2\r\n" },
	{ "2001:db8:0:1:1:1:1:1", 1, "::", 2,
	    "PROXY TCP6 2001:db8:0:1:1:1:1:1 :: 1 2\r\n" },
	{ "1:0:0:2:0:0:0:3", 1, "fe80::abcd:0:0:1", 2,
	    "PROXY TCP6 1:0:0:2::3 fe80::abcd:0:0:1 1 2\r\n" },
	/* IPv4-compatible (not mapped): hex groups, never a dotted quad. */
	{ "::102:304", 1, "::1", 2, "PROXY TCP6 ::102:304 ::1 1 2\r\n" },
	/* Both ends mapped (a dual-stack listener): plain TCP4. */
	{ "::ffff:192.0.2.7", 33000, "::ffff:192.0.2.1", 80,
	    "PROXY TCP4 192.0.2.7 192.0.2.1 33000 80\r\n" },
	/* A mix cannot come from one socket; written as TCP6, mapped. */
	{ "192.0.2.7", 33000, "2001:db8::1", 80,
	    "PROXY TCP6 ::ffff:c000:207 2001:db8::1 33000 80\r\n" },
	{ "::ffff:192.0.2.7", 33000, "2001:db8::1", 80,
	    "PROXY TCP6 ::ffff:c000:207 2001:db8::1 33000 80\r\n" },
};

START_TEST(test_v1)
{
	struct sockaddr_storage	 s, d;
	char			 buf[PROXY_HEADER_MAX];
	int			 n;

	n = proxy_header(SEND_PROXY_V1, sa(v1[_i].src, v1[_i].sport, &s),
	    sa(v1[_i].dst, v1[_i].dport, &d), buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(v1[_i].line));
	ck_assert_mem_eq(buf, v1[_i].line, (size_t)n);
}
END_TEST

static const uint8_t v2_spec_tcp4[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21,				/* version 2, PROXY */
	0x11,				/* AF_INET, STREAM */
	0x00, 0x0c,			/* 12 address bytes */
	192, 168, 0, 1,			/* src */
	192, 168, 0, 11,		/* dst */
	0xdc, 0x04,			/* 56324 */
	0x01, 0xbb,			/* 443 */
};

/* As haproxy 2.x sent it (send-proxy-v2, no TLV). */
static const uint8_t v2_haproxy_tcp4[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21, 0x11, 0x00, 0x0c, 0xac, 0x13, 0x00, 0x01, 0xac, 0x13, 0x00, 0x03,
	0xa6, 0x52, 0x00, 0x50,
};

static const uint8_t v2_tcp6[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21,				/* version 2, PROXY */
	0x21,				/* AF_INET6, STREAM */
	0x00, 0x24,			/* 36 address bytes */
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0xff, 0xff,			/* 65535 */
	0x00, 0x50,			/* 80 */
};

/* Mapped on both ends: TCP4 with the IPv4 addresses. */
static const uint8_t v2_mapped[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21, 0x11, 0x00, 0x0c,
	127, 0, 0, 2, 127, 0, 0, 1,
	0x9c, 0x40,			/* 40000 */
	0x1f, 0x90,			/* 8080 */
};

static const struct {
	const char	*src;
	unsigned	 sport;
	const char	*dst;
	unsigned	 dport;
	const uint8_t	*bytes;
	size_t		 len;
} v2[] = {
	{ "192.168.0.1", 56324, "192.168.0.11", 443, v2_spec_tcp4,
	    sizeof(v2_spec_tcp4) },
	{ "172.19.0.1", 42578, "172.19.0.3", 80, v2_haproxy_tcp4,
	    sizeof(v2_haproxy_tcp4) },
	{ "2001:db8::1", 65535, "::1", 80, v2_tcp6, sizeof(v2_tcp6) },
	{ "::ffff:127.0.0.2", 40000, "::ffff:127.0.0.1", 8080, v2_mapped,
	    sizeof(v2_mapped) },
};

START_TEST(test_v2)
{
	struct sockaddr_storage	 s, d;
	char			 buf[PROXY_HEADER_MAX];
	int			 n;

	n = proxy_header(SEND_PROXY_V2, sa(v2[_i].src, v2[_i].sport, &s),
	    sa(v2[_i].dst, v2[_i].dport, &d), buf, sizeof(buf));
	ck_assert_int_eq(n, (int)v2[_i].len);
	ck_assert_mem_eq(buf, v2[_i].bytes, v2[_i].len);
	/* 16 + the length field, always. */
	ck_assert_int_eq(n, 16 + ((uint8_t)buf[14] << 8 | (uint8_t)buf[15]));
}
END_TEST

/* No usable address: v1 UNKNOWN, v2 LOCAL with no address. */
START_TEST(test_unknown)
{
	static const uint8_t	 local[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a, 0x20, 0x00, 0x00, 0x00,
	};
	struct sockaddr_storage	 s;
	struct sockaddr_un	 un = { .sun_family = AF_UNIX };
	char			 buf[PROXY_HEADER_MAX];
	int			 n;

	n = proxy_header(SEND_PROXY_V1, (struct sockaddr *)&un,
	    sa("1.2.3.4", 1, &s), buf, sizeof(buf));
	ck_assert_int_eq(n, 15);
	ck_assert_mem_eq(buf, "PROXY UNKNOWN\r\n", 15);
	n = proxy_header(SEND_PROXY_V2, sa("1.2.3.4", 1, &s),
	    (struct sockaddr *)&un, buf, sizeof(buf));
	ck_assert_int_eq(n, 16);
	ck_assert_mem_eq(buf, local, 16);
}
END_TEST

START_TEST(test_limits)
{
	struct sockaddr_storage	 s, d;
	char			 buf[PROXY_HEADER_MAX];
	const char		*f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

	sa(f, 65535, &s);
	sa(f, 65535, &d);
	ck_assert_int_eq(proxy_header(SEND_PROXY_NONE, (struct sockaddr *)&s,
	    (struct sockaddr *)&d, buf, sizeof(buf)), -1);
	/* 104 bytes and a NUL: 105 fits, 104 does not. */
	ck_assert_int_eq(proxy_header(SEND_PROXY_V1, (struct sockaddr *)&s,
	    (struct sockaddr *)&d, buf, 105), 104);
	ck_assert_int_eq(proxy_header(SEND_PROXY_V1, (struct sockaddr *)&s,
	    (struct sockaddr *)&d, buf, 104), -1);
	ck_assert_int_eq(proxy_header(SEND_PROXY_V2, (struct sockaddr *)&s,
	    (struct sockaddr *)&d, buf, 52), 52);
	ck_assert_int_eq(proxy_header(SEND_PROXY_V2, (struct sockaddr *)&s,
	    (struct sockaddr *)&d, buf, 51), -1);
}
END_TEST

static Suite *
proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc;

	tc = tcase_create("core");
	tcase_add_loop_test(tc, test_v1, 0, nitems(v1));
	tcase_add_loop_test(tc, test_v2, 0, nitems(v2));
	tcase_add_test(tc, test_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(proxy_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

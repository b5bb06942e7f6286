/*
 * check_acl.c: allow/deny semantics (deny wins, empty allow = everyone,
 * IPv4-mapped clients and rules), range edges (/0, /32, /128, the top and
 * bottom of each space), a cross-check against addr.c's linear
 * cidr_match() on random rules, and 10,000 rules.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl.h"
#include "addr.h"
#include "../cidr_oracle.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_RULES	8

/* A client address (IPv4 or IPv6 text, no port) as a sockaddr. */
static struct sockaddr *
client(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(40000);
	} else {
		ck_assert_msg(inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1,
		    "bad test address %s", text);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(40000);
	}
	return (struct sockaddr *)ss;
}

/* Parses up to MAX_RULES CIDR strings (NULL-terminated) into <out>. */
static int
rules(const char *const *text, struct cidr *out)
{
	const char	*why;
	int		 n;

	for (n = 0; n < MAX_RULES && text[n] != NULL; n++)
		ck_assert_msg(cidr_parse(text[n], &out[n], &why) == 0,
		    "bad test CIDR %s: %s", text[n], why);
	return n;
}

static const struct {
	const char	*allow[MAX_RULES];
	const char	*deny[MAX_RULES];
	const char	*client;
	int		 allowed;
} cases[] = {
	/* Empty allow = everyone; empty everything too. */
	{ { NULL }, { NULL }, "192.0.2.1", 1 },
	{ { NULL }, { NULL }, "2001:db8::1", 1 },
	{ { NULL }, { "192.0.2.1" }, "192.0.2.1", 0 },
	{ { NULL }, { "192.0.2.1" }, "192.0.2.2", 1 },
	{ { NULL }, { "192.0.2.1" }, "192.0.2.0", 1 },
	/* /32 and /128 are exact. */
	{ { "127.0.0.1/32" }, { NULL }, "127.0.0.1", 1 },
	{ { "127.0.0.1/32" }, { NULL }, "127.0.0.2", 0 },
	{ { "::1/128" }, { NULL }, "::1", 1 },
	{ { "::1/128" }, { NULL }, "::2", 0 },
	{ { "::1/128" }, { NULL }, "::", 0 },
	/* /0 covers its own family only. */
	{ { "0.0.0.0/0" }, { NULL }, "0.0.0.0", 1 },
	{ { "0.0.0.0/0" }, { NULL }, "255.255.255.255", 1 },
	{ { "0.0.0.0/0" }, { NULL }, "::1", 0 },
	{ { "::/0" }, { NULL }, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
	{ { "::/0" }, { NULL }, "::", 1 },
	{ { "::/0" }, { NULL }, "127.0.0.1", 0 },
	{ { "::/0" }, { NULL }, "::ffff:127.0.0.1", 0 },
	{ { NULL }, { "0.0.0.0/0" }, "10.1.2.3", 0 },
	{ { NULL }, { "0.0.0.0/0" }, "2001:db8::1", 1 },
	{ { NULL }, { "::/0" }, "2001:db8::1", 0 },
	{ { NULL }, { "::/0" }, "10.1.2.3", 1 },
	{ { "0.0.0.0/0", "::/0" }, { NULL }, "::ffff:10.0.0.1", 1 },
	/* Deny wins over allow, whichever is wider. */
	{ { "10.0.0.0/8" }, { "10.1.0.0/16" }, "10.1.2.3", 0 },
	{ { "10.0.0.0/8" }, { "10.1.0.0/16" }, "10.2.0.1", 1 },
	{ { "10.1.0.0/16" }, { "10.0.0.0/8" }, "10.1.2.3", 0 },
	{ { "10.0.0.1" }, { "10.0.0.1" }, "10.0.0.1", 0 },
	{ { "2001:db8::/32" }, { "2001:db8:1::/48" }, "2001:db8:1::5", 0 },
	{ { "2001:db8::/32" }, { "2001:db8:1::/48" }, "2001:db8:2::5", 1 },
	{ { "2001:db8::/32" }, { "2001:db8:1::/48" }, "2001:db9::", 0 },
	/* Range edges. */
	{ { "10.0.0.0/8" }, { NULL }, "9.255.255.255", 0 },
	{ { "10.0.0.0/8" }, { NULL }, "10.0.0.0", 1 },
	{ { "10.0.0.0/8" }, { NULL }, "10.255.255.255", 1 },
	{ { "10.0.0.0/8" }, { NULL }, "11.0.0.0", 0 },
	{ { "255.255.255.255/32" }, { NULL }, "255.255.255.255", 1 },
	{ { "255.255.255.254/31" }, { NULL }, "255.255.255.253", 0 },
	{ { "::/64" }, { NULL }, "::ffff:ffff:ffff:ffff", 1 },
	{ { "::/64" }, { NULL }, "0:0:0:1::", 0 },
	{ { "8000::/1" }, { NULL }, "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    0 },
	{ { "8000::/1" }, { NULL }, "8000::", 1 },
	{ { "ffff:ffff:ffff:ffff::/64" }, { NULL },
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
	{ { "2001:db8:0:0:8000::/65" }, { NULL },
	    "2001:db8::7fff:ffff:ffff:ffff", 0 },
	{ { "2001:db8:0:0:8000::/65" }, { NULL }, "2001:db8::8000:0:0:0", 1 },
	/* IPv4-mapped clients match IPv4 rules ... */
	{ { "127.0.0.1/32" }, { NULL }, "::ffff:127.0.0.1", 1 },
	{ { "127.0.0.1/32" }, { NULL }, "::ffff:127.0.0.2", 0 },
	{ { NULL }, { "127.0.0.2" }, "::ffff:127.0.0.2", 0 },
	{ { NULL }, { "127.0.0.0/8" }, "::ffff:127.9.9.9", 0 },
	/* ... and mapped rules (prefix >= 96) are IPv4 rules. */
	{ { NULL }, { "::ffff:127.0.0.2/128" }, "127.0.0.2", 0 },
	{ { NULL }, { "::ffff:127.0.0.2/128" }, "127.0.0.1", 1 },
	{ { NULL }, { "::ffff:10.0.0.0/104" }, "10.200.0.1", 0 },
	{ { NULL }, { "::ffff:0.0.0.0/96" }, "203.0.113.9", 0 },
	{ { NULL }, { "::ffff:0.0.0.0/96" }, "::1", 1 },
	{ { "::ffff:0.0.0.0/96" }, { NULL }, "::ffff:1.2.3.4", 1 },
	/* A wider IPv6 rule around ::ffff:0:0/96 is not an IPv4 rule. */
	{ { NULL }, { "::/80" }, "::ffff:1.2.3.4", 1 },
	{ { NULL }, { "::/80" }, "1.2.3.4", 1 },
	{ { NULL }, { "::/80" }, "::1", 0 },
	/* IPv4-compatible ::a.b.c.d is plain IPv6. */
	{ { "1.2.3.4" }, { NULL }, "::1.2.3.4", 0 },
	/* Overlapping and adjacent rules merged correctly. */
	{ { "10.0.0.0/9", "10.128.0.0/9", "10.64.0.0/10" }, { NULL },
	    "10.127.255.255", 1 },
	{ { "10.0.0.0/9", "10.128.0.0/9" }, { NULL }, "11.0.0.0", 0 },
	{ { "10.0.0.0/24", "10.0.2.0/24" }, { NULL }, "10.0.1.7", 0 },
	{ { "10.0.0.0/24", "10.0.2.0/24" }, { NULL }, "10.0.2.7", 1 },
	{ { "10.0.0.5", "10.0.0.0/24", "10.0.0.9" }, { NULL }, "10.0.0.77", 1 },
	{ { NULL }, { "192.0.2.0/25", "192.0.2.128/25" }, "192.0.2.200", 0 },
	{ { NULL }, { "::/1", "8000::/1" }, "ffff::", 0 },
	/* A non-empty allow for one family shuts out the other. */
	{ { "10.0.0.0/8" }, { NULL }, "::1", 0 },
	{ { "::1" }, { NULL }, "127.0.0.1", 0 },
};

START_TEST(test_acl_cases)
{
	struct cidr		 allow[MAX_RULES], deny[MAX_RULES];
	struct sockaddr_storage	 ss;
	struct acl		*acl;
	int			 na, nd;

	na = rules(cases[_i].allow, allow);
	nd = rules(cases[_i].deny, deny);
	acl = acl_new(allow, na, deny, nd);
	ck_assert_ptr_nonnull(acl);
	ck_assert_msg(acl_allows(acl, client(cases[_i].client, &ss)) ==
	    cases[_i].allowed, "case %d: client %s: expected %s", _i,
	    cases[_i].client, cases[_i].allowed ? "allowed" : "denied");
	acl_free(acl);
}
END_TEST

START_TEST(test_acl_null)
{
	struct sockaddr_storage	 ss;
	struct sockaddr		 un = { .sa_family = AF_UNIX };
	struct cidr		 c[1];
	struct acl		*acl;

	ck_assert_int_eq(acl_allows(NULL, client("1.2.3.4", &ss)), 1);
	acl_free(NULL);
	acl = acl_new(NULL, 0, NULL, 0);
	ck_assert_int_eq(acl_allows(acl, client("1.2.3.4", &ss)), 1);
	ck_assert_int_eq(acl_allows(acl, &un), 1);
	acl_free(acl);
	rules((const char *const []){ "10.0.0.0/8", NULL }, c);
	acl = acl_new(c, 1, NULL, 0);
	ck_assert_int_eq(acl_allows(acl, &un), 0);
	acl_free(acl);
}
END_TEST

/* xorshift64*: deterministic, seeded per run and printed on failure. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* A random rule near a few hot spots, so rules overlap and nest. */
static void
random_cidr(uint64_t *s, struct cidr *c)
{
	uint64_t	r = rnd(s);
	int		i, bits;

	memset(c, 0, sizeof(*c));
	switch (r % 3) {
	case 0:
		c->family = AF_INET;
		c->bytes[0] = 10;
		c->bytes[1] = (uint8_t)(rnd(s) % 4);
		c->bytes[2] = (uint8_t)rnd(s);
		c->bytes[3] = (uint8_t)rnd(s);
		c->prefix = (int)(rnd(s) % 33);
		break;
	case 1:
		c->family = AF_INET6;
		c->bytes[0] = 0x20;
		c->bytes[1] = 0x01;
		c->bytes[2] = (uint8_t)(rnd(s) % 2);
		for (i = 3; i < 16; i++)
			c->bytes[i] = (uint8_t)rnd(s);
		c->prefix = (int)(rnd(s) % 129);
		break;
	default:		/* mapped rules */
		c->family = AF_INET6;
		c->bytes[10] = c->bytes[11] = 0xff;
		c->bytes[12] = 10;
		c->bytes[13] = (uint8_t)(rnd(s) % 4);
		c->bytes[14] = (uint8_t)rnd(s);
		c->bytes[15] = (uint8_t)rnd(s);
		c->prefix = 96 + (int)(rnd(s) % 33);
		break;
	}
	bits = c->family == AF_INET ? 32 : 128;
	for (i = c->prefix; i < bits; i++)	/* host bits zero */
		c->bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static void
random_client(uint64_t *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	uint8_t			*ip;
	int			 i;

	memset(ss, 0, sizeof(*ss));
	switch (rnd(s) % 3) {
	case 0:
		sin->sin_family = AF_INET;
		ip = (uint8_t *)&sin->sin_addr;
		ip[0] = 10;
		ip[1] = (uint8_t)(rnd(s) % 4);
		ip[2] = (uint8_t)rnd(s);
		ip[3] = (uint8_t)rnd(s);
		break;
	case 1:
		sin6->sin6_family = AF_INET6;
		ip = sin6->sin6_addr.s6_addr;
		ip[0] = 0x20;
		ip[1] = 0x01;
		ip[2] = (uint8_t)(rnd(s) % 2);
		for (i = 3; i < 16; i++)
			ip[i] = (uint8_t)rnd(s);
		break;
	default:
		sin6->sin6_family = AF_INET6;
		ip = sin6->sin6_addr.s6_addr;
		ip[10] = ip[11] = 0xff;
		ip[12] = 10;
		ip[13] = (uint8_t)(rnd(s) % 4);
		ip[14] = (uint8_t)rnd(s);
		ip[15] = (uint8_t)rnd(s);
		break;
	}
}

/* The rule of acl.h, spelled out with addr.c's one-rule cidr_match(). */
static int
linear_allows(const struct cidr *allow, int na, const struct cidr *deny,
    int nd, const struct sockaddr *sa)
{
	int	i;

	for (i = 0; i < nd; i++)
		if (cidr_match(&deny[i], sa))
			return 0;
	if (na == 0)
		return 1;
	for (i = 0; i < na; i++)
		if (cidr_match(&allow[i], sa))
			return 1;
	return 0;
}

/* Random lists of 0..64 rules against 2,000 random clients each. */
START_TEST(test_acl_vs_linear)
{
	struct cidr		 allow[64], deny[64];
	struct sockaddr_storage	 ss;
	struct acl		*acl;
	uint64_t		 seed = 0x9e3779b97f4a7c15ULL + (uint64_t)_i;
	uint64_t		 s = seed;
	int			 na, nd, i, want;

	na = (int)(rnd(&s) % 65);
	nd = (int)(rnd(&s) % 65);
	for (i = 0; i < na; i++)
		random_cidr(&s, &allow[i]);
	for (i = 0; i < nd; i++)
		random_cidr(&s, &deny[i]);
	acl = acl_new(allow, na, deny, nd);
	ck_assert_ptr_nonnull(acl);
	for (i = 0; i < 2000; i++) {
		random_client(&s, &ss);
		want = linear_allows(allow, na, deny, nd,
		    (struct sockaddr *)&ss);
		ck_assert_msg(acl_allows(acl, (struct sockaddr *)&ss) == want,
		    "seed %llx client %d: acl says %d, linear says %d",
		    (unsigned long long)seed, i, !want, want);
	}
	acl_free(acl);
}
END_TEST

/*
 * 10,000 deny rules (every other /32 of 10.0.0.0/17, then /120s of
 * 2001:db8::/96) and 2 allow rules: exact answers on and around every
 * rule, and lookups that stay fast (a linear scan would be thousands of
 * times slower; the bound is loose on purpose, for valgrind).
 */
START_TEST(test_acl_10000)
{
	enum { N = 10000, N4 = 6000 };
	struct cidr		*deny, allow[2];
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct acl		*acl;
	struct timespec		 t0, t1;
	uint32_t		 a;
	long			 ns;
	int			 i, lookups = 0;

	deny = calloc(N, sizeof(*deny));
	ck_assert_ptr_nonnull(deny);
	/* Shuffled input order: acl_new sorts. */
	for (i = 0; i < N; i++) {
		int	j = (int)(((uint64_t)i * 7919) % N);

		if (j < N4) {
			a = 0x0a000000u + 2u * (uint32_t)j;
			deny[i].family = AF_INET;
			deny[i].bytes[0] = (uint8_t)(a >> 24);
			deny[i].bytes[1] = (uint8_t)(a >> 16);
			deny[i].bytes[2] = (uint8_t)(a >> 8);
			deny[i].bytes[3] = (uint8_t)a;
			deny[i].prefix = 32;
		} else {
			deny[i].family = AF_INET6;
			deny[i].bytes[0] = 0x20;
			deny[i].bytes[1] = 0x01;
			deny[i].bytes[2] = 0x0d;
			deny[i].bytes[3] = 0xb8;
			/* every other /120: byte 14 = 2 * k */
			deny[i].bytes[13] = (uint8_t)((j - N4) >> 7);
			deny[i].bytes[14] = (uint8_t)(((j - N4) & 0x7f) << 1);
			deny[i].prefix = 120;
		}
	}
	rules((const char *const []){ "10.0.0.0/8", "2001:db8::/32", NULL },
	    allow);
	acl = acl_new(allow, 2, deny, N);
	ck_assert_ptr_nonnull(acl);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	for (i = 0; i < N4; i++) {
		a = 0x0a000000u + 2u * (uint32_t)i;
		sin->sin_addr.s_addr = htonl(a);
		ck_assert_int_eq(acl_allows(acl, (struct sockaddr *)&ss), 0);
		sin->sin_addr.s_addr = htonl(a + 1);
		ck_assert_int_eq(acl_allows(acl, (struct sockaddr *)&ss), 1);
		lookups += 2;
	}
	sin->sin_addr.s_addr = htonl(0x0b000000u);
	ck_assert_int_eq(acl_allows(acl, (struct sockaddr *)&ss), 0);
	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr.s6_addr[0] = 0x20;
	sin6->sin6_addr.s6_addr[1] = 0x01;
	sin6->sin6_addr.s6_addr[2] = 0x0d;
	sin6->sin6_addr.s6_addr[3] = 0xb8;
	for (i = 0; i < N - N4; i++) {
		sin6->sin6_addr.s6_addr[13] = (uint8_t)(i >> 7);
		sin6->sin6_addr.s6_addr[14] = (uint8_t)((i & 0x7f) << 1);
		sin6->sin6_addr.s6_addr[15] = 0xff;
		ck_assert_int_eq(acl_allows(acl, (struct sockaddr *)&ss), 0);
		sin6->sin6_addr.s6_addr[14] |= 1;
		sin6->sin6_addr.s6_addr[15] = 0;
		ck_assert_int_eq(acl_allows(acl, (struct sockaddr *)&ss), 1);
		lookups += 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
	/* ~100 ns per lookup natively; 50 us would mean a linear scan. */
	ck_assert_msg(ns / lookups < 50000, "%ld ns per lookup", ns / lookups);
	acl_free(acl);
	free(deny);
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite	*s = suite_create("acl");
	TCase	*tc;

	tc = tcase_create("core");
	tcase_add_loop_test(tc, test_acl_cases, 0, nitems(cases));
	tcase_add_test(tc, test_acl_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_loop_test(tc, test_acl_vs_linear, 0, 50);
	tcase_add_test(tc, test_acl_10000);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(acl_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

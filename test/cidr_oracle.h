/*
 * cidr_oracle.h: one CIDR rule matched the plain way, bit by bit: the
 * oracle that the unit tests (check_addr, check_acl) and the fuzzers
 * (fuzz_addr, fuzz_acl) hold acl.c's compiled ranges to.  lb4 itself
 * never calls it; it lives with the tests, not in the daemon.
 */
#ifndef LB4_CIDR_ORACLE_H
#define LB4_CIDR_ORACLE_H

#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "addr.h"

/* 1 when the first <prefix> bits of <a> and <b> are equal. */
static inline int
cidr_bits_equal(const uint8_t *a, const uint8_t *b, int prefix)
{
	int	 whole = prefix / 8, rest = prefix % 8;
	uint8_t	 mask;

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/*
 * 1 when <sa> lies inside <c>.  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) matches IPv4 prefixes.
 */
static inline int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	const uint8_t	*ip, *net = c->bytes;
	int		 family = sa->sa_family, prefix = c->prefix;
	int		 cfamily = c->family;

	if (family == AF_INET)
		ip = (const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
	else if (family == AF_INET6)
		ip = (const uint8_t *)
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		return 0;

	/*
	 * A dual-stack [::] listener sees IPv4 clients as ::ffff:a.b.c.d.
	 * Treat them as the IPv4 clients they are, and treat a rule written
	 * inside ::ffff:0:0/96 as the IPv4 rule it means, so "::/0" does not
	 * silently cover IPv4 and "10.0.0.0/8" still covers mapped clients.
	 */
	if (family == AF_INET6 && addr_is_v4mapped(ip)) {
		family = AF_INET;
		ip += 12;
	}
	if (cfamily == AF_INET6 && prefix >= 96 && addr_is_v4mapped(net)) {
		cfamily = AF_INET;
		net += 12;
		prefix -= 96;
	}
	if (family != cfamily)
		return 0;
	return cidr_bits_equal(ip, net, prefix);
}

#endif

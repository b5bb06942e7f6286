/*
 * addr.h: socket addresses and CIDR prefixes, parsed from and printed to
 * text.  Pure functions; no allocation.
 */
#ifndef LB4_ADDR_H
#define LB4_ADDR_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define ADDR_TEXT_MAX	64	/* "[ffff:...:ffff]:65535" fits */

struct addr {
	struct sockaddr_storage	ss;
	socklen_t		len;		/* 0 when unset */
	char			text[ADDR_TEXT_MAX];	/* as written */
};

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		bytes[16];	/* network, host bits zeroed */
	int		prefix;		/* 0..32 or 0..128 */
};

/*
 * Parses "1.2.3.4:80", "[::1]:80" or "[::]:80" into <out>.  Returns 0, or
 * -1 with a static reason in *<why> ("missing port", "port out of range
 * 1..65535", "bad IPv4 address", ...).
 */
int	addr_parse(const char *text, struct addr *out, const char **why);

/* Formats <sa> as "ip:port" or "[ip]:port" into <buf> of <len> bytes. */
void	addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* 1 when both addresses have the same family, IP and port. */
int	addr_equal(const struct addr *a, const struct addr *b);

/* The port of <a> in host byte order. */
uint16_t addr_port(const struct addr *a);

/*
 * Parses "10.0.0.0/8", "::/0" or a bare address (a /32 or /128).  Host bits
 * set beyond the prefix are an error ("host bits set").  Returns 0 or -1
 * with *<why>.
 */
int	cidr_parse(const char *text, struct cidr *out, const char **why);

/*
 * IPv4-mapped IPv6 addresses, ::ffff:0:0/96 (RFC 4291 2.5.5.2): how a
 * dual-stack socket shows an IPv4 peer.  The one copy of the prefix.
 */
#define ADDR_V4MAPPED_PREFIX	"\0\0\0\0\0\0\0\0\0\0\xff\xff"
#define ADDR_V4MAPPED_LEN	12

/* 1 when the 16 bytes at <ip6> are ::ffff:a.b.c.d (a.b.c.d at ip6 + 12). */
static inline int
addr_is_v4mapped(const void *ip6)
{
	return memcmp(ip6, ADDR_V4MAPPED_PREFIX, ADDR_V4MAPPED_LEN) == 0;
}

/* Writes the 4 bytes at <ip4> as ::ffff:a.b.c.d into the 16 at <ip6>. */
static inline void
addr_v4mapped(void *ip6, const void *ip4)
{
	memcpy(ip6, ADDR_V4MAPPED_PREFIX, ADDR_V4MAPPED_LEN);
	memcpy((uint8_t *)ip6 + ADDR_V4MAPPED_LEN, ip4, 4);
}

#endif

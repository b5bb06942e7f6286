/*
 * proxy.c: PROXY protocol v1 (text) and v2 (binary) headers, written from
 * the spec (haproxy doc/proxy-protocol.txt, sections 2.1 and 2.2).  See
 * proxy.h for how families are chosen.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"
#include "addr.h"

#define V2_SIG_LEN	12
#define V2_VERSION	0x20
#define V2_CMD_LOCAL	0x00
#define V2_CMD_PROXY	0x01
#define V2_FAM_UNSPEC	0x00
#define V2_TCP4		0x11	/* AF_INET, STREAM */
#define V2_TCP6		0x21	/* AF_INET6, STREAM */

static const uint8_t v2_sig[V2_SIG_LEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* One end of the connection, as the header spells it. */
struct end {
	int		family;		/* AF_INET, AF_INET6, or 0: unknown */
	uint8_t		ip[16];		/* 4 bytes for AF_INET */
	uint16_t	port;		/* host order */
};

/* Reads <sa> into <e>; an IPv4-mapped address becomes AF_INET. */
static void
end_of(const struct sockaddr *sa, struct end *e)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(e, 0, sizeof(*e));
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		e->family = AF_INET;
		memcpy(e->ip, &sin->sin_addr, 4);
		e->port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		e->port = ntohs(sin6->sin6_port);
		if (addr_is_v4mapped(&sin6->sin6_addr)) {
			e->family = AF_INET;
			memcpy(e->ip, sin6->sin6_addr.s6_addr +
			    ADDR_V4MAPPED_LEN, 4);
		} else {
			e->family = AF_INET6;
			memcpy(e->ip, &sin6->sin6_addr, 16);
		}
	}
}

/* Writes an IPv4 end as ::ffff:a.b.c.d. */
static void
end_map(struct end *e)
{
	uint8_t	ip4[4];

	if (e->family != AF_INET)
		return;
	memcpy(ip4, e->ip, sizeof(ip4));
	addr_v4mapped(e->ip, ip4);
	e->family = AF_INET6;
}

/*
 * Formats a 16-byte address in the RFC 5952 form: lower-case hex groups
 * without leading zeros, the leftmost longest run of two or more zero
 * groups as "::".  Never a dotted quad: the v1 spec asks for hex groups
 * only.  <buf> needs 40 bytes.
 */
static void
ip6_format(const uint8_t *ip, char *buf)
{
	unsigned	g[8];
	int		i, best = -1, bestlen = 1, run = 0, n = 0;

	for (i = 0; i < 8; i++) {
		g[i] = (unsigned)ip[2 * (size_t)i] << 8 | ip[2 * (size_t)i + 1];
		run = g[i] == 0 ? run + 1 : 0;
		if (run > bestlen) {
			bestlen = run;
			best = i - run + 1;
		}
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			n += sprintf(buf + n, "::");
			i += bestlen - 1;
			continue;
		}
		n += sprintf(buf + n, "%s%x",
		    i == 0 || i == best + bestlen ? "" : ":", g[i]);
	}
	buf[n] = '\0';
}

static void
ip_format(const struct end *e, char *buf)
{
	if (e->family == AF_INET)
		sprintf(buf, "%u.%u.%u.%u", e->ip[0], e->ip[1], e->ip[2],
		    e->ip[3]);
	else
		ip6_format(e->ip, buf);
}

static int
header_v1(const struct end *s, const struct end *d, char *buf, size_t len)
{
	char	sip[40], dip[40];
	int	n;

	if (s->family == 0)
		n = snprintf(buf, len, "PROXY UNKNOWN\r\n");
	else {
		ip_format(s, sip);
		ip_format(d, dip);
		n = snprintf(buf, len, "PROXY %s %s %s %u %u\r\n",
		    s->family == AF_INET ? "TCP4" : "TCP6", sip, dip,
		    s->port, d->port);
	}
	return n < 0 || (size_t)n >= len ? -1 : n;
}

static int
header_v2(const struct end *s, const struct end *d, char *buf, size_t len)
{
	uint8_t		*p = (uint8_t *)buf;
	size_t		 alen, iplen;

	iplen = s->family == AF_INET ? 4 : s->family == AF_INET6 ? 16 : 0;
	alen = iplen == 0 ? 0 : 2 * iplen + 4;
	if (len < 16 + alen)
		return -1;
	memcpy(p, v2_sig, V2_SIG_LEN);
	if (iplen == 0) {
		/* Nothing to tell: the receiver uses the real endpoints. */
		p[12] = V2_VERSION | V2_CMD_LOCAL;
		p[13] = V2_FAM_UNSPEC;
	} else {
		p[12] = V2_VERSION | V2_CMD_PROXY;
		p[13] = iplen == 4 ? V2_TCP4 : V2_TCP6;
	}
	p[14] = (uint8_t)(alen >> 8);
	p[15] = (uint8_t)alen;
	p += 16;
	if (iplen != 0) {
		memcpy(p, s->ip, iplen);
		memcpy(p + iplen, d->ip, iplen);
		p += 2 * iplen;
		*p++ = (uint8_t)(s->port >> 8);
		*p++ = (uint8_t)s->port;
		*p++ = (uint8_t)(d->port >> 8);
		*p++ = (uint8_t)d->port;
	}
	return (int)(16 + alen);
}

int
proxy_header(enum send_proxy version, const struct sockaddr *src,
    const struct sockaddr *dst, char *buf, size_t len)
{
	struct end	s, d;

	end_of(src, &s);
	end_of(dst, &d);
	if (s.family == 0 || d.family == 0)
		s.family = d.family = 0;
	else if (s.family != d.family) {
		end_map(&s);
		end_map(&d);
	}
	switch (version) {
	case SEND_PROXY_V1:
		return header_v1(&s, &d, buf, len);
	case SEND_PROXY_V2:
		return header_v2(&s, &d, buf, len);
	default:
		return -1;
	}
}

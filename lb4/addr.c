/*
 * addr.c: "ip:port" and CIDR text to sockaddrs and prefixes, and back.
 *
 * Only numeric addresses are accepted: lb4 never resolves names, so that a
 * config means the same thing whatever DNS says at reload time.
 */
#include <arpa/inet.h>
#include <string.h>
#include <stdio.h>

#include "addr.h"

/*
 * Parses the decimal port in <s> (the whole string).  Returns 1..65535, or
 * -1 with *<why>.
 */
static int
addr_parse_port(const char *s, const char **why)
{
	long	 port = 0;

	if (*s == '\0') {
		*why = "missing port";
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			*why = "bad port";
			return -1;
		}
		/* Saturate: "99999999999" is out of range, not wrapped. */
		if (port <= 65535)
			port = port * 10 + (*s - '0');
	}
	if (port < 1 || port > 65535) {
		*why = "port out of range 1..65535";
		return -1;
	}
	return (int)port;
}

/*
 * Splits "[v6]:port" or "v4:port" into <host> (of <hostlen> bytes) and a
 * pointer to the port text.  Returns the family, or -1 with *<why>.
 */
static int
addr_split(const char *text, char *host, size_t hostlen, const char **port,
    const char **why)
{
	const char	*end, *colon;
	size_t		 n;

	if (text[0] == '[') {
		if ((end = strchr(text, ']')) == NULL) {
			*why = "missing ']'";
			return -1;
		}
		if (end[1] != ':') {
			*why = end[1] == '\0' ? "missing port" :
			    "expected ':' after ']'";
			return -1;
		}
		n = (size_t)(end - text - 1);
		if (n >= hostlen) {
			*why = "bad IPv6 address";
			return -1;
		}
		memcpy(host, text + 1, n);
		host[n] = '\0';
		*port = end + 2;
		return AF_INET6;
	}
	if ((colon = strrchr(text, ':')) == NULL) {
		*why = "missing port";
		return -1;
	}
	if (memchr(text, ':', (size_t)(colon - text)) != NULL) {
		/* Without brackets "::1:80" is ambiguous; refuse it. */
		*why = "IPv6 address needs brackets";
		return -1;
	}
	n = (size_t)(colon - text);
	if (n >= hostlen) {
		*why = "bad IPv4 address";
		return -1;
	}
	memcpy(host, text, n);
	host[n] = '\0';
	*port = colon + 1;
	return AF_INET;
}

int
addr_parse(const char *text, struct addr *out, const char **why)
{
	char			 host[INET6_ADDRSTRLEN];
	const char		*port_text;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&out->ss;
	int			 family, port;

	memset(out, 0, sizeof(*out));
	if (text == NULL || *text == '\0') {
		*why = "empty address";
		return -1;
	}
	if (strlen(text) >= sizeof(out->text)) {
		*why = "address too long";
		return -1;
	}
	family = addr_split(text, host, sizeof(host), &port_text, why);
	if (family == -1)
		return -1;
	if (family == AF_INET &&
	    inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		*why = "bad IPv4 address";
		return -1;
	}
	if (family == AF_INET6 &&
	    inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
		*why = "bad IPv6 address";
		return -1;
	}
	if ((port = addr_parse_port(port_text, why)) == -1)
		return -1;
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		out->len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*sin6);
	}
	memcpy(out->text, text, strlen(text) + 1);	/* length checked */
	return 0;
}

void
addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	if (len == 0)
		return;
	if (sa == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(buf, len, "-");
		break;
	}
}

int
addr_equal(const struct addr *a, const struct addr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return 0;
	switch (a->ss.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	default:
		return 0;
	}
}

uint16_t
addr_port(const struct addr *a)
{
	switch (a->ss.ss_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	default:
		return 0;
	}
}

/* Parses the decimal prefix length in <s>, 0..<max>, or -1 with *<why>. */
static int
cidr_parse_prefix(const char *s, int max, const char **why)
{
	int	 prefix = 0;

	if (*s == '\0') {
		*why = "missing prefix length";
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			*why = "bad prefix length";
			return -1;
		}
		if (prefix <= 128)
			prefix = prefix * 10 + (*s - '0');
	}
	if (prefix > max) {
		*why = max == 32 ? "prefix out of range 0..32" :
		    "prefix out of range 0..128";
		return -1;
	}
	return prefix;
}

/* 1 when any bit of <bytes> past the first <prefix> bits is set. */
static int
cidr_host_bits(const uint8_t *bytes, int nbytes, int prefix)
{
	int	 i;

	for (i = prefix / 8; i < nbytes; i++) {
		uint8_t mask = i == prefix / 8 ?
		    (uint8_t)(0xff >> (prefix % 8)) : 0xff;

		if (bytes[i] & mask)
			return 1;
	}
	return 0;
}

int
cidr_parse(const char *text, struct cidr *out, const char **why)
{
	char		 host[INET6_ADDRSTRLEN];
	const char	*slash;
	size_t		 n;
	int		 max;

	memset(out, 0, sizeof(*out));
	if (text == NULL || *text == '\0') {
		*why = "empty CIDR";
		return -1;
	}
	slash = strchr(text, '/');
	n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	out->family = memchr(text, ':', n) != NULL ? AF_INET6 : AF_INET;
	max = out->family == AF_INET ? 32 : 128;
	if (n < sizeof(host)) {
		memcpy(host, text, n);
		host[n] = '\0';
	}
	if (n >= sizeof(host) ||
	    inet_pton(out->family, host, out->bytes) != 1) {
		*why = max == 32 ? "bad IPv4 address" : "bad IPv6 address";
		return -1;
	}
	out->prefix = max;
	if (slash != NULL &&
	    (out->prefix = cidr_parse_prefix(slash + 1, max, why)) == -1)
		return -1;
	if (cidr_host_bits(out->bytes, max / 8, out->prefix)) {
		*why = "host bits set";
		return -1;
	}
	return 0;
}

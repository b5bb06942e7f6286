/*
 * fuzz_addr.c: "ip:port" and CIDR text, addr_parse() and cidr_parse()
 * (addr.h), through their round trips.
 *
 * The input is tried as an address and as a CIDR.  What parses must
 * print back (addr_format(), inet_ntop() + "/prefix") to text that parses
 * to the same thing; what fails must say why.  The input is also read as
 * a raw socket address (family, 16 bytes, port) that addr_format() turns
 * into text addr_parse() must accept as the same address.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "../cidr_oracle.h"
#include "fuzz.h"

static const uint8_t mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static void
check_addr(const char *text)
{
	struct addr	 a, b;
	char		 buf[ADDR_TEXT_MAX];
	const char	*why = NULL;

	if (addr_parse(text, &a, &why) == -1) {
		FUZZ_CHECK(why != NULL && *why != '\0', "no reason for '%s'",
		    text);
		FUZZ_CHECK(a.len == 0, "failed parse left len %u", a.len);
		return;
	}
	FUZZ_CHECK(a.ss.ss_family == AF_INET ?
	    a.len == sizeof(struct sockaddr_in) :
	    a.ss.ss_family == AF_INET6 && a.len == sizeof(struct sockaddr_in6),
	    "family %d with len %u", a.ss.ss_family, a.len);
	FUZZ_CHECK(strcmp(a.text, text) == 0, "text '%s' for '%s'", a.text,
	    text);
	FUZZ_CHECK(addr_port(&a) >= 1, "port 0 accepted in '%s'", text);
	FUZZ_CHECK(addr_equal(&a, &a), "'%s' differs from itself", text);
	addr_format((struct sockaddr *)&a.ss, buf, sizeof(buf));
	FUZZ_CHECK(addr_parse(buf, &b, &why) == 0, "'%s' (from '%s') does "
	    "not parse: %s", buf, text, why);
	FUZZ_CHECK(addr_equal(&a, &b), "'%s' and its print '%s' differ",
	    text, buf);
}

/* The raw socket address in <data> to text and back. */
static void
check_format(const uint8_t *data, size_t size)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct addr		 a;
	uint8_t			 raw[19];
	char			 buf[ADDR_TEXT_MAX];
	const char		*why = NULL;
	uint16_t		 port;

	memset(raw, 0, sizeof(raw));
	memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
	memset(&ss, 0, sizeof(ss));
	port = (uint16_t)(raw[17] << 8 | raw[18]);
	if (raw[0] & 1) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, raw + 1, 16);
		sin6->sin6_port = htons(port);
	} else {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, raw + 1, 4);
		sin->sin_port = htons(port);
	}
	addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	if (port == 0) {
		FUZZ_CHECK(addr_parse(buf, &a, &why) == -1, "port 0 in '%s' "
		    "accepted", buf);
		return;
	}
	FUZZ_CHECK(addr_parse(buf, &a, &why) == 0, "'%s' does not parse: %s",
	    buf, why);
	FUZZ_CHECK(a.ss.ss_family == ss.ss_family && addr_port(&a) == port &&
	    memcmp(a.ss.ss_family == AF_INET ?
	    (const void *)&((struct sockaddr_in *)&a.ss)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)&a.ss)->sin6_addr,
	    ss.ss_family == AF_INET ? (const void *)&sin->sin_addr :
	    (const void *)&sin6->sin6_addr,
	    ss.ss_family == AF_INET ? 4 : 16) == 0,
	    "'%s' parses to another address", buf);
}

/* A socket address of family <family> at <bytes>. */
static void
make_sa(struct sockaddr_storage *ss, int family, const uint8_t *bytes)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, bytes, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, bytes, 16);
}

/*
 * What cidr_match(<c>, address <ip>) must say for an address of the
 * rule's own family that lies inside the prefix: yes, unless the
 * address is IPv4-mapped and the rule an IPv6 one not inside
 * ::ffff:0:0/96 (acl.h: such rules never cover IPv4 clients).
 */
static int
inside_matches(const struct cidr *c, const uint8_t *ip)
{
	if (c->family == AF_INET6 && memcmp(ip, mapped, 12) == 0 &&
	    (c->prefix < 96 || memcmp(c->bytes, mapped, 12) != 0))
		return 0;
	return 1;
}

static void
check_cidr(const char *text)
{
	struct sockaddr_storage	 ss;
	struct cidr		 c, d;
	uint8_t			 ip[16];
	char			 host[INET6_ADDRSTRLEN], buf[64];
	const char		*why = NULL;
	int			 max, nbytes, i;

	if (cidr_parse(text, &c, &why) == -1) {
		FUZZ_CHECK(why != NULL && *why != '\0', "no reason for '%s'",
		    text);
		return;
	}
	FUZZ_CHECK(c.family == AF_INET || c.family == AF_INET6,
	    "family %d", c.family);
	max = c.family == AF_INET ? 32 : 128;
	nbytes = max / 8;
	FUZZ_CHECK(c.prefix >= 0 && c.prefix <= max, "prefix %d", c.prefix);
	for (i = nbytes; i < 16; i++)
		FUZZ_CHECK(c.bytes[i] == 0, "byte %d set past the address", i);
	for (i = 0; i < nbytes; i++) {
		int	 keep = c.prefix - 8 * i;
		uint8_t	 host_mask = keep >= 8 ? 0 : keep <= 0 ? 0xff :
		    (uint8_t)(0xff >> keep);

		FUZZ_CHECK((c.bytes[i] & host_mask) == 0, "host bits set in "
		    "'%s'", text);
	}
	inet_ntop(c.family, c.bytes, host, sizeof(host));
	snprintf(buf, sizeof(buf), "%s/%d", host, c.prefix);
	FUZZ_CHECK(cidr_parse(buf, &d, &why) == 0, "'%s' (from '%s') does "
	    "not parse: %s", buf, text, why);
	FUZZ_CHECK(memcmp(&c, &d, sizeof(c)) == 0, "'%s' and its print "
	    "'%s' differ", text, buf);

	/* The first and the last address of the prefix are inside it... */
	memcpy(ip, c.bytes, 16);
	make_sa(&ss, c.family, ip);
	FUZZ_CHECK(cidr_match(&c, (struct sockaddr *)&ss) ==
	    inside_matches(&c, ip), "'%s' vs its first address", text);
	for (i = c.prefix; i < max; i++)
		ip[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	make_sa(&ss, c.family, ip);
	FUZZ_CHECK(cidr_match(&c, (struct sockaddr *)&ss) ==
	    inside_matches(&c, ip), "'%s' vs its last address", text);
	/* ...and flipping the last bit of the prefix leaves it. */
	if (c.prefix > 0) {
		memcpy(ip, c.bytes, 16);
		ip[(c.prefix - 1) / 8] ^= (uint8_t)(0x80 >>
		    ((c.prefix - 1) % 8));
		make_sa(&ss, c.family, ip);
		FUZZ_CHECK(cidr_match(&c, (struct sockaddr *)&ss) == 0,
		    "'%s' matches an address outside it", text);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text = fuzz_string(data, size);

	check_addr(text);
	check_cidr(text);
	check_format(data, size);
	free(text);
	return 0;
}

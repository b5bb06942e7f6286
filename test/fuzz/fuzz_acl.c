/*
 * fuzz_acl.c: a listener's compiled access list, acl_new() and
 * acl_allows() (acl.h), against the rule it is documented to follow.
 *
 * The input is text, one item a line: "allow CIDR", "deny CIDR" or
 * "probe IP".  Rules go through cidr_parse() as conf.c does.  Every
 * probe, and the edges of every rule (its first and last address, one
 * before and one after, each also as an IPv4-mapped IPv6 or plain IPv4
 * twin), must get from acl_allows() the answer of the plain rule read
 * from acl.h: refused if any deny prefix matches (cidr_match()), else
 * allowed if there is no allow rule or one matches.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "../cidr_oracle.h"
#include "fuzz.h"

#define MAX_RULES	64
#define MAX_PROBES	512

struct probe {
	int	 family;
	uint8_t	 ip[16];
};

struct lists {
	struct cidr	 allow[MAX_RULES], deny[MAX_RULES];
	int		 nallow, ndeny;
	struct probe	 probes[MAX_PROBES];
	int		 nprobes;
};

static const uint8_t mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static void
add_probe(struct lists *l, int family, const uint8_t *ip)
{
	struct probe	*p;

	if (l->nprobes == MAX_PROBES)
		return;
	p = &l->probes[l->nprobes++];
	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(p->ip, ip, family == AF_INET ? 4 : 16);
}

/* Adds <ip> and its twin in the other family, if it has one. */
static void
add_probe_twins(struct lists *l, int family, const uint8_t *ip)
{
	uint8_t	 twin[16];

	add_probe(l, family, ip);
	if (family == AF_INET) {
		memcpy(twin, mapped, 12);
		memcpy(twin + 12, ip, 4);
		add_probe(l, AF_INET6, twin);
	} else if (memcmp(ip, mapped, 12) == 0)
		add_probe(l, AF_INET, ip + 12);
}

/* <ip> of <n> bytes plus <delta> (+1 or -1), wrapping. */
static void
step(uint8_t *ip, int n, int delta)
{
	int	 i;

	for (i = n - 1; i >= 0; i--) {
		ip[i] = (uint8_t)(ip[i] + delta);
		if ((delta > 0 && ip[i] != 0) || (delta < 0 && ip[i] != 0xff))
			break;
	}
}

/* The edges of rule <c> as probes. */
static void
add_edges(struct lists *l, const struct cidr *c)
{
	uint8_t	 first[16], last[16], ip[16];
	int	 n = c->family == AF_INET ? 4 : 16, i;

	memcpy(first, c->bytes, 16);
	memcpy(last, c->bytes, 16);
	for (i = c->prefix; i < 8 * n; i++)
		last[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	add_probe_twins(l, c->family, first);
	add_probe_twins(l, c->family, last);
	memcpy(ip, first, 16);
	step(ip, n, -1);
	add_probe_twins(l, c->family, ip);
	memcpy(ip, last, 16);
	step(ip, n, 1);
	add_probe_twins(l, c->family, ip);
}

static void
parse_line(struct lists *l, char *line)
{
	struct cidr	 c;
	uint8_t		 ip[16];
	const char	*why;
	char		*arg;

	if ((arg = strchr(line, ' ')) == NULL)
		return;
	*arg++ = '\0';
	if (strcmp(line, "probe") == 0) {
		if (inet_pton(AF_INET, arg, ip) == 1)
			add_probe_twins(l, AF_INET, ip);
		else if (inet_pton(AF_INET6, arg, ip) == 1)
			add_probe_twins(l, AF_INET6, ip);
		return;
	}
	if (cidr_parse(arg, &c, &why) == -1)
		return;
	if (strcmp(line, "allow") == 0 && l->nallow < MAX_RULES)
		l->allow[l->nallow++] = c;
	else if (strcmp(line, "deny") == 0 && l->ndeny < MAX_RULES)
		l->deny[l->ndeny++] = c;
	else
		return;
	add_edges(l, &c);
}

/* acl.h's rule, read plainly, over cidr_match(). */
static int
ref_allows(const struct lists *l, const struct sockaddr *sa)
{
	int	 i;

	for (i = 0; i < l->ndeny; i++)
		if (cidr_match(&l->deny[i], sa))
			return 0;
	if (l->nallow == 0)
		return 1;
	for (i = 0; i < l->nallow; i++)
		if (cidr_match(&l->allow[i], sa))
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lists	 l;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct acl		*acl;
	char			*text, *line, *save = NULL, ip[INET6_ADDRSTRLEN];
	const struct probe	*p;
	int			 i, got, want;

	memset(&l, 0, sizeof(l));
	text = fuzz_string(data, size);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		parse_line(&l, line);
	free(text);
	if ((acl = acl_new(l.allow, l.nallow, l.deny, l.ndeny)) == NULL)
		abort();
	for (i = 0; i < l.nprobes; i++) {
		p = &l.probes[i];
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = (sa_family_t)p->family;
		if (p->family == AF_INET)
			memcpy(&sin->sin_addr, p->ip, 4);
		else
			memcpy(&sin6->sin6_addr, p->ip, 16);
		got = acl_allows(acl, (struct sockaddr *)&ss);
		want = ref_allows(&l, (struct sockaddr *)&ss);
		inet_ntop(p->family, p->ip, ip, sizeof(ip));
		FUZZ_CHECK(got == want, "acl says %d for %s, the rules %d "
		    "(%d allow, %d deny)", got, ip, want, l.nallow, l.ndeny);
	}
	/* Another family: allowed only without allow rules (acl.h). */
	ss.ss_family = AF_UNIX;
	FUZZ_CHECK(acl_allows(acl, (struct sockaddr *)&ss) ==
	    (l.nallow == 0), "family AF_UNIX with %d allow rules", l.nallow);
	acl_free(acl);
	return 0;
}

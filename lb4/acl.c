/*
 * acl.c: allow/deny lists as sorted ranges (see acl.h).
 *
 * A prefix is a range [lo, hi] of addresses.  Ranges of one list and one
 * family are sorted by lo and merged where they overlap or touch, so that
 * they end up disjoint and ascending; the one range that can hold an
 * address x is then the last one with lo <= x, found by binary search.
 * Addresses are 128-bit keys (an IPv4 address sits in the low 32 bits), so
 * both families share the code.  10,000 rules take 14 comparisons.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "addr.h"

enum acl_family {
	ACL_V4 = 0,		/* IPv4, and IPv4-mapped IPv6 */
	ACL_V6 = 1,		/* every other IPv6 address */
	ACL_NFAMILIES
};

struct key {
	uint64_t	hi;
	uint64_t	lo;
};

struct range {
	struct key	first;
	struct key	last;
};

struct ranges {
	struct range	*v;
	int		 n;
};

struct acl {
	struct ranges	 allow[ACL_NFAMILIES];
	struct ranges	 deny[ACL_NFAMILIES];
	int		 allow_all;	/* no allow rule: everyone not denied */
};

static uint64_t
be64(const uint8_t *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int
key_cmp(const struct key *a, const struct key *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

/* The key of the <bits>-bit address at <ip> (4 or 16 bytes). */
static struct key
key_of(const uint8_t *ip, int bits)
{
	struct key	k;

	if (bits == 32) {
		k.hi = 0;
		k.lo = (uint64_t)ip[0] << 24 | (uint64_t)ip[1] << 16 |
		    (uint64_t)ip[2] << 8 | ip[3];
	} else {
		k.hi = be64(ip);
		k.lo = be64(ip + 8);
	}
	return k;
}

/* Host-part mask of a <prefix> in a <bits>-bit space, as a key. */
static struct key
host_mask(int prefix, int bits)
{
	struct key	m;
	int		host = bits - prefix;	/* 0..128 */

	if (host >= 128) {
		m.hi = m.lo = UINT64_MAX;
	} else if (host >= 64) {
		m.lo = UINT64_MAX;
		m.hi = host == 64 ? 0 : UINT64_MAX >> (128 - host);
	} else {
		m.hi = 0;
		m.lo = host == 0 ? 0 : UINT64_MAX >> (64 - host);
	}
	return m;
}

/*
 * Which table <c> belongs to, and its range.  A rule inside
 * ::ffff:0:0/96 is an IPv4 rule.  Returns -1 for a bad rule.
 */
static int
cidr_range(const struct cidr *c, struct range *r)
{
	const uint8_t	*net = c->bytes;
	int		 prefix = c->prefix, bits, family;
	struct key	 m;

	if (c->family == AF_INET && prefix >= 0 && prefix <= 32) {
		family = ACL_V4;
		bits = 32;
	} else if (c->family == AF_INET6 && prefix >= 0 && prefix <= 128) {
		if (prefix >= 96 && addr_is_v4mapped(net)) {
			family = ACL_V4;
			bits = 32;
			net += 12;
			prefix -= 96;
		} else {
			family = ACL_V6;
			bits = 128;
		}
	} else
		return -1;
	m = host_mask(prefix, bits);
	r->first = key_of(net, bits);
	/* Host bits are zero (cidr_parse), but do not rely on it. */
	r->first.hi &= ~m.hi;
	r->first.lo &= ~m.lo;
	r->last.hi = r->first.hi | m.hi;
	r->last.lo = r->first.lo | m.lo;
	return family;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct range	*x = a, *y = b;
	int			 c;

	if ((c = key_cmp(&x->first, &y->first)) != 0)
		return c;
	/* Wider first, so a nested range is absorbed by the merge. */
	return -key_cmp(&x->last, &y->last);
}

/* 1 when <b> starts at most one address after <a> ends. */
static int
touches(const struct key *a_last, const struct key *b_first)
{
	struct key	next = *a_last;

	if (key_cmp(b_first, a_last) <= 0)
		return 1;
	if (++next.lo == 0 && ++next.hi == 0)
		return 1;	/* a ends at the top of the space */
	return key_cmp(b_first, &next) == 0;
}

/* Sorts and merges <rs> in place into disjoint ascending ranges. */
static void
ranges_merge(struct ranges *rs)
{
	int	i, j = 0;

	if (rs->n == 0)
		return;
	qsort(rs->v, (size_t)rs->n, sizeof(*rs->v), range_cmp);
	for (i = 1; i < rs->n; i++) {
		if (touches(&rs->v[j].last, &rs->v[i].first)) {
			if (key_cmp(&rs->v[i].last, &rs->v[j].last) > 0)
				rs->v[j].last = rs->v[i].last;
		} else
			rs->v[++j] = rs->v[i];
	}
	rs->n = j + 1;
}

/* Fills the per-family tables <out> from <n> rules.  Returns 0 or -1. */
static int
ranges_build(struct ranges out[ACL_NFAMILIES], const struct cidr *c, int n)
{
	struct range	r;
	int		i, f;

	for (f = 0; f < ACL_NFAMILIES; f++)
		out[f].n = 0;
	if (n == 0)
		return 0;
	for (f = 0; f < ACL_NFAMILIES; f++)
		if ((out[f].v = calloc((size_t)n, sizeof(*out[f].v))) == NULL)
			return -1;
	for (i = 0; i < n; i++) {
		if ((f = cidr_range(&c[i], &r)) == -1)
			continue;
		/* v is set for every family above; the analyzer loses it
		 * through the computed index. */
		// NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
		out[f].v[out[f].n++] = r;
	}
	for (f = 0; f < ACL_NFAMILIES; f++)
		ranges_merge(&out[f]);
	return 0;
}

struct acl *
acl_new(const struct cidr *allow, int nallow, const struct cidr *deny,
    int ndeny)
{
	struct acl	*acl;

	if ((acl = calloc(1, sizeof(*acl))) == NULL)
		return NULL;
	if (ranges_build(acl->allow, allow, nallow) == -1 ||
	    ranges_build(acl->deny, deny, ndeny) == -1) {
		acl_free(acl);
		return NULL;
	}
	acl->allow_all = nallow == 0;
	return acl;
}

void
acl_free(struct acl *acl)
{
	int	f;

	if (acl == NULL)
		return;
	for (f = 0; f < ACL_NFAMILIES; f++) {
		free(acl->allow[f].v);
		free(acl->deny[f].v);
	}
	free(acl);
}

/* 1 when <k> lies in one of the disjoint ascending ranges <rs>. */
static int
ranges_find(const struct ranges *rs, const struct key *k)
{
	int	lo = 0, hi = rs->n - 1, mid, found = -1;

	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if (key_cmp(&rs->v[mid].first, k) <= 0) {
			found = mid;
			lo = mid + 1;
		} else
			hi = mid - 1;
	}
	return found != -1 && key_cmp(k, &rs->v[found].last) <= 0;
}

int
acl_allows(const struct acl *acl, const struct sockaddr *sa)
{
	const uint8_t	*ip;
	struct key	 k;
	int		 f;

	if (acl == NULL)
		return 1;
	if (sa->sa_family == AF_INET) {
		ip = (const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
		f = ACL_V4;
		k = key_of(ip, 32);
	} else if (sa->sa_family == AF_INET6) {
		ip = (const uint8_t *)
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (addr_is_v4mapped(ip)) {
			f = ACL_V4;
			k = key_of(ip + 12, 32);
		} else {
			f = ACL_V6;
			k = key_of(ip, 128);
		}
	} else
		return acl->allow_all;
	if (ranges_find(&acl->deny[f], &k))
		return 0;
	return acl->allow_all || ranges_find(&acl->allow[f], &k);
}

/*
 * acl.h: a listener's source access list (allow/deny CIDRs, lb4.conf(5)
 * LISTENERS), compiled once into an immutable object that workers read
 * without a lock.  Lookup is a binary search over sorted, merged address
 * ranges, one table per family and list: O(log n) in the number of rules.
 *
 * Rules: deny wins over allow; no allow rule at all means everyone.  An
 * IPv4-mapped IPv6 client (::ffff:a.b.c.d) is the IPv4 client a.b.c.d, and
 * a rule inside ::ffff:0:0/96 (prefix 96 or more) is the IPv4 rule it
 * spells; other IPv6 rules, "::/0" included, never cover IPv4 clients.
 * The tests hold acl_allows() to this rule spelled out plainly, over
 * test/cidr_oracle.h.
 */
#ifndef LB4_ACL_H
#define LB4_ACL_H

#include <sys/socket.h>

#include "addr.h"

struct acl;

/*
 * Compiles <nallow> allow and <ndeny> deny prefixes (as checked by
 * conf.c: AF_INET or AF_INET6, prefix in range) into a new acl.  Returns
 * NULL on ENOMEM.
 */
struct acl	*acl_new(const struct cidr *allow, int nallow,
		    const struct cidr *deny, int ndeny);

/* Frees <acl>.  NULL is a no-op. */
void		 acl_free(struct acl *acl);

/*
 * 1 when a client at <sa> may connect, 0 when it is refused.  A NULL <acl>
 * allows everyone.  A family other than AF_INET/AF_INET6 is allowed only
 * when there is no allow rule.
 */
int		 acl_allows(const struct acl *acl, const struct sockaddr *sa);

#endif

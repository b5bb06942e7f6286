/*
 * vrrp.h: what keepalived last reported for each VRRP instance of this
 * node.  keepalived's notify script (vrrp-hooks/notify) runs
 * "lb4ctl vrrp INSTANCE STATE" on each transition; lb4 only keeps and
 * exports it (lb4_vrrp_state), so that alert rules can see a pair with
 * the VIP on both nodes or on neither.  It changes nothing else.
 *
 * Main thread only (control socket and metrics): no locking.  Not kept
 * across a restart of lb4: until keepalived's next transition an instance
 * is simply not exported.
 */
#ifndef LB4_VRRP_H
#define LB4_VRRP_H

#include <stddef.h>

#include "text.h"

#define VRRP_INSTANCES_MAX	32
#define VRRP_NAME_MAX		64	/* with the NUL */

/*
 * Records that <instance> is now in <state> (MASTER, BACKUP, FAULT or
 * STOP; DELETED forgets it).  Returns 0, or -1 with a one-line reason in
 * <err>: a bad name or state, or VRRP_INSTANCES_MAX instances known.
 */
int	vrrp_report(const char *instance, const char *state, char *err,
	    size_t errlen);

/* "vrrp INSTANCE STATE since=SECONDS" lines for lb4ctl show vrrp. */
void	vrrp_show(struct text *t);

/* "vrrp":[{"instance":..,"state":..,"since_s":..},..] for status.json. */
void	vrrp_json(struct text *t);

/* The lb4_vrrp_state family: one 0/1 series per instance and state. */
void	vrrp_metrics(struct text *t);

#endif

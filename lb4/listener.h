/*
 * listener.h: named listeners and their bound sockets.  A listener (one per
 * name in the config) carries the pool, the idle timeout and the counters;
 * an lsock is one bound address.  Both outlive a reload when they stayed:
 * an lsock is matched by address and keeps its fd, so no connection is
 * refused while the config changes.
 */
#ifndef LB4_LISTENER_H
#define LB4_LISTENER_H

#include "addr.h"
#include "conf.h"
#include "stats.h"

struct pool;
struct acl;

struct listener {
	char		*name;
	/* Read by workers with atomics; written by the main thread. */
	struct pool	*pool;
	struct acl	*acl;		/* NULL = everyone */
	int		 idle_timeout_ms;
	int		 ka_idle_s;	/* tcp_keepalive toward clients, */
	int		 ka_interval_s;	/* ka_idle_s 0 = off */
	int		 ka_count;
	struct stats_slot *stats;	/* one slot per worker */
	/* Main thread only. */
	int		 in_conf;	/* 0 once a reload removed it */
	int		 lsocks;	/* lsocks pointing here */
	uint64_t	 denied_logged;	/* STAT_DENIED sum at the last log */
	uint64_t	 denied_log_at;	/* ms of that log, 0 = never */
};

struct lsock {
	int		 kind;		/* EV_LISTEN: first, for dispatch */
	int		 fd;
	struct addr	 addr;
	struct listener	*listener;	/* atomic pointer */
};

struct listener	*listener_new(const char *name, int nworkers);

/* Main thread: the tcp_keepalive settings new clients of <l> get. */
void		 listener_set_keepalive(struct listener *l,
		    const struct conf_keepalive *k);
void		 listener_free(struct listener *l);

/*
 * Main thread, called often: logs how many clients <l>'s allow/deny
 * refused since the last such line, at most once per 10 s (<now> in ms).
 */
void		 listener_log_denied(struct listener *l, int nworkers,
		    uint64_t now);

/* Connections on <l> still open, summed over the workers' slots. */
long		 listener_active(const struct listener *l, int nworkers);

/*
 * Binds and listens on <a> (non-blocking, IP_FREEBIND so a VIP the node
 * does not hold yet can be bound, IPV6_V6ONLY for IPv6).  Returns a new
 * lsock, or NULL with errno set.
 */
struct lsock	*lsock_open(const struct addr *a);
void		 lsock_free(struct lsock *ls);

#endif

/*
 * listener.h: named listeners, their routes, their bound sockets, and
 * accepting (relayd relay_accept; nginx ngx_event_accept.c).
 *
 * A listener (one per name in the config) carries the name and the
 * counters.  A route is one reload's immutable view of a listener: the
 * pool it sends to, its allow/deny and its timeouts.  Every reload builds
 * a new route for every listener and publishes it through the lsocks (one
 * per bound address); a connection pins the route that accepted it until
 * it closes, so what it reads through the route stays valid however many
 * reloads pass (the lifetime rule is in reload.c).  An lsock that stayed
 * in the config keeps its fd, so nothing is refused while it changes.
 */
#ifndef LB4_LISTENER_H
#define LB4_LISTENER_H

#include <stdint.h>

#include "addr.h"
#include "atomic.h"
#include "conf.h"
#include "stats.h"

struct pool;
struct acl;
struct worker;

/* A worker's count of connections pinning a route: its own cache line. */
struct route_pin {
	long		n;
} __attribute__((aligned(64)));

struct route {
	struct listener	*listener;
	struct pool	*pool;
	struct acl	*acl;		/* NULL = everyone */
	int		 idle_timeout_ms;
	int		 connect_timeout_ms;	/* the pool's, at this reload */
	int		 retries;
	int		 send_proxy;	/* enum send_proxy */
	int		 log;		/* a connlog record per connection */
	struct conf_keepalive client_ka;	/* the listener's tcp_keepalive */
	struct conf_keepalive server_ka;	/* the pool's */
	struct route_pin *pins;		/* one per worker */
	int		 npins;
};

struct listener {
	char		*name;
	struct stats_slot *stats;	/* one slot per worker, + main */
	/* Main thread only. */
	struct route	*route;		/* the one in force */
	int		 refs;		/* the config (or the reload plan
					   that made it), and each route
					   naming it */
	uint64_t	 denied_logged;	/* STAT_DENIED sum at the last log */
	uint64_t	 denied_log_at;	/* ms of that log, 0 = never */
};

struct lsock {
	int		 kind;		/* EV_LISTEN: first, for dispatch */
	int		 fd;
	struct addr	 addr;
	struct route	*route;		/* atomic pointer, set by reload.c */
};

#define ACCEPT_FD_RESERVE	4

/*
 * A worker's accepting state: the lsocks it watches, the pause, and the
 * fd reserve (relayd's accept_reserve): spare descriptors given up so
 * that a client already accepted still gets its server socket.
 */
struct acceptor {
	struct lsock	**reg;		/* lsocks registered in the epoll set */
	int		 nreg;
	int		 paused;
	uint64_t	 resume_at;
	uint64_t	 last_pause_log;
	int		 reserve[ACCEPT_FD_RESERVE];	/* spare fds */
	int		 nreserve;
};

struct listener	*listener_new(const char *name, int nworkers);

/* Drops a reference to <l>; frees it with the last.  NULL is a no-op. */
void		 listener_unref(struct listener *l);

/*
 * A new route for <l> from <cl> (allow/deny, idle timeout) and <cp> (the
 * pool's connect options), sending to <pool>.  Takes a reference on <l>
 * and <pool>.  NULL on ENOMEM.
 */
struct route	*route_new(struct listener *l, struct pool *pool,
		    const struct conf_listener *cl, const struct conf_pool *cp,
		    int nworkers);

/* Frees <r> and drops its references.  NULL is a no-op. */
void		 route_free(struct route *r);

/* Connections pinning <r>, summed over the workers (main thread). */
long		 route_pinned(const struct route *r);

/*
 * Worker <id> pins or unpins <r> (only that worker writes its slot).  The
 * store releases: every read the conn made through <r> happens before
 * route_pinned() (acquire) can see the pin gone.
 */
static inline void
route_pin(struct route *r, int id, long delta)
{
	long	*n = &r->pins[id].n;

	store_release(n, load_relaxed(n) + delta);
}

/*
 * Main thread, called often: logs how many clients <l>'s allow/deny
 * refused since the last such line, at most once per 10 s (<now> in ms).
 */
void		 listener_log_denied(struct listener *l, int nworkers,
		    uint64_t now);

/*
 * Binds and listens on <a> (non-blocking, IP_FREEBIND so a VIP the node
 * does not hold yet can be bound, IPV6_V6ONLY for IPv6).  Returns a new
 * lsock, or NULL with errno set.
 */
struct lsock	*lsock_open(const struct addr *a);
void		 lsock_free(struct lsock *ls);

/*
 * Worker side.  acceptor_sync() registers the lsocks of <set> (n of them)
 * in the worker's epoll set and drops the others; with <stopping> it drops
 * all.  acceptor_run() accepts a batch on <ls>: each client is checked
 * against the route's allow/deny and handed to conn_start() with the
 * route pinned.  acceptor_tick() ends a pause that is over.
 */
void		 acceptor_sync(struct worker *w, struct lsock *const *set,
		    int n, int stopping);
void		 acceptor_run(struct worker *w, struct lsock *ls);
void		 acceptor_tick(struct worker *w);
void		 acceptor_free(struct acceptor *a);

/* Opens the missing reserved fds.  Returns 0 when the reserve is whole. */
int		 acceptor_reserve_fill(struct acceptor *a);

/*
 * Out of file descriptors while opening the server socket of a client
 * already accepted: gives up one reserved fd so that the caller can try
 * again, counts a local error and pauses accepting until the reserve is
 * whole again.  Returns 0, or -1 when the reserve is empty.
 */
int		 acceptor_reserve_use(struct worker *w);

/* ms until the pause ends (0 when it is over), -1 when not paused. */
long		 acceptor_wait_ms(const struct acceptor *a, uint64_t now);

#endif

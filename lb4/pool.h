/*
 * pool.h: pools of servers, their health and admin state, and the shared
 * smooth-WRR pick.  One mutex per pool, held briefly (a pick, a commit, a
 * weight change, a count) and never across a syscall.  Pools and servers are long-lived objects: a reload updates a
 * pool in place (pool_prepare, then pool_commit) so that servers which
 * stayed keep their state, counters and SWRR score.
 *
 * Lifetime: a pool is owned by the config and the routes that name it
 * (refs, main thread); a server by its pool while it is listed, and by
 * every connection that picked it (active).  A server that left its pool
 * is freed by reload.c once active is 0.
 */
#ifndef LB4_POOL_H
#define LB4_POOL_H

#include <pthread.h>

#include "addr.h"
#include "conf.h"
#include "stats.h"
#include "swrr.h"

enum server_health {
	SERVER_DOWN = 0,	/* failing its checks (or never checked yet) */
	SERVER_UP = 1,		/* passing, or not checked at all */
};

enum server_admin {
	SERVER_ENABLED = 0,	/* normal */
	SERVER_DISABLED = 1,	/* operator: no new connections */
	SERVER_DRAINING = 2,	/* operator: no new connections, old ones run */
};

struct server {
	struct addr	 addr;
	char		*pool_name;	/* copy, for logs */
	/* Written by the main thread under the pool lock, read by picks. */
	int		 weight;
	int		 backup;
	int		 max_connections;	/* 0 = unlimited */
	unsigned	 source_next;	/* its turn over the pool's sources */
	/* Shared with the workers. */
	int		 active;	/* atomic: connections holding it (a pin) */
	int		 health;	/* atomic: enum server_health */
	int		 admin;		/* atomic: enum server_admin */
	int		 passive_fails;	/* atomic: consecutive connect errors */
	int		 passive_fall;	/* atomic: the pool's fall, 0 = unchecked */
	int		 on_down;	/* atomic: enum on_server_down */
	unsigned	 down_gen;	/* atomic: bumped when checks mark it
					   down (conns to reset compare it) */
	struct stats_slot *stats;	/* one slot per worker */
	/* Main thread only. */
	void		*check;		/* health.c's state */
	int		 health_port;	/* 0 = the pool's health.port */
};

struct pool {
	char		*name;
	pthread_mutex_t	 lock;
	/* Under lock. */
	struct server	**servers;
	struct swrr_peer *peers;	/* parallel to servers */
	unsigned char	*eligible;	/* scratch for the pick */
	int		 nservers;
	struct addr	*sources;	/* source = [ ... ], port 0 */
	int		 nsources;
	int		 mode;		/* enum pool_mode */
	struct server	*current;	/* mode single: the server new
					   connections go to; NULL = none */
	/* Main thread only. */
	struct conf_health health;
	int		 refs;		/* the config (or the reload plan
					   that made it), and each route
					   naming it (listener.c) */
	int		 servers_up;	/* atomic: passing their checks */
	struct server	*logged;	/* mode single: current, as last logged */
};

/* What a pick hands the connection. */
struct pick {
	struct server	*server;
	uint64_t	 tried;		/* in: servers to skip; out: + this one */
	struct sockaddr_storage source;	/* bind to this first, */
	socklen_t	 source_len;	/* when not 0 */
	int		 nsources;	/* the pool's, read under its lock:
					   a reload may change them */
};

/* A pool's next server list, built but not yet in force. */
struct pool_update;

/*
 * Builds a pool from <cp> with stats for <nworkers>, with no reference
 * (the caller takes them); NULL on ENOMEM.
 */
struct pool	*pool_new(const struct conf_pool *cp, int nworkers);

/*
 * Prepares bringing <pool> in line with <cp>: servers with the same
 * address will be kept (state, counters); new ones are created now.
 * <pool> is not touched.  Returns NULL on ENOMEM.
 */
struct pool_update *pool_prepare(const struct pool *pool,
		    const struct conf_pool *cp, int nworkers);

/* How many servers pool_commit() of <u> will hand back as gone. */
int		 pool_update_ngone(const struct pool_update *u);

/*
 * Puts <u> in force on <pool> (under its lock; cannot fail) and frees
 * <u>.  The SWRR scores carry over only when the list of servers and
 * weights is unchanged.  The servers that left are stored in <gone>
 * (room for pool_update_ngone()); the caller frees each once no
 * connection holds it.
 */
void		 pool_commit(struct pool *pool, struct pool_update *u,
		    struct server **gone);

/* Frees a prepared update that will not be committed.  NULL: no-op. */
void		 pool_update_free(struct pool_update *u);

/*
 * Drops a reference; the last frees the pool and its servers (no
 * connection can hold one then: each holds a route naming the pool).
 */
void		 pool_unref(struct pool *pool);
void		 server_free(struct server *s);

/*
 * Picks a server for a new connection: primaries by SWRR among those up,
 * enabled and below max_connections; backups the same way only when no
 * primary can take it.  In mode single: the current server while it is
 * usable (up and enabled), else the first usable primary in file order,
 * else the first usable backup; a current backup gives way to a usable
 * primary; a current server at max_connections refuses (no spill), and
 * out->tried is not consulted (a retry goes to the same server: another
 * one may be a second "primary").  The server's active count is taken;
 * give it back with pool_release().  Servers whose index bit is set in out->tried were
 * already tried for this connection and are skipped, as nginx does, so a
 * retry goes to another server (indexes past 63 are never skipped).
 * Returns 0, or -1 when no server can take it.
 */
int		 pool_pick(struct pool *pool, struct pick *out);

/*
 * Tries to bind every source address of every pool of <conf> (port 0,
 * IP_BIND_ADDRESS_NO_PORT: nothing is reserved).  Returns 0, or -1 with a
 * one-line reason in *<err> (free it) naming the pool and the address:
 * the start fails, or the reload keeps the old config.
 */
int		 pool_check_sources(const struct conf *conf, char **err);

/*
 * The next source address of <pool> for <s>, in its turn, into <ss>/<len>
 * (after a bind of the one pool_pick() gave failed).  0, or -1 when the
 * pool has no source of <s>'s family.
 */
int		 pool_another_source(struct pool *pool, struct server *s,
		    struct sockaddr_storage *ss, socklen_t *len);

/* Gives back a connection taken by pool_pick(). */
void		 pool_release(struct server *s);

/*
 * A worker's connect to <s> failed (<ok> = 0) or succeeded.  Returns the
 * consecutive failures counted now (0 after a success).
 */
int		 pool_report(struct server *s, int ok);

/* 1 when some server of <pool> could take a connection now. */
int		 pool_can_serve(struct pool *pool);

/*
 * Main thread, after health changes: counts the servers of <pool> that
 * pass their checks (lb4_pool_servers_up) and, in mode single, logs when
 * more than one does and when new connections move to another server.
 */
void		 pool_tick(struct pool *pool);

/* Finds a server of <pool> by its address text; NULL when none. */
struct server	*pool_find_server(struct pool *pool, const char *addr);

/* Sets a server's weight (1..1000) under the lock; resets SWRR scores. */
void		 pool_set_weight(struct pool *pool, struct server *s, int w);

/*
 * The one place that changes a server's state (main thread; the workers
 * only read it).  server_set_health() sets <s> up or down; taking it down
 * moves its down generation, so that a pool with on_server_down = "reset"
 * resets the connections to it, and returns 1 when its pool does (the
 * workers must be woken), else 0.  server_set_admin() sets the operator's
 * state and returns 1 when it changed, 0 when <s> had it already.
 */
int		 server_set_health(struct server *s, enum server_health h);
int		 server_set_admin(struct server *s, enum server_admin a);

/*
 * 1 when <s> can take a connection: up and enabled (its max_connections
 * aside).  What pool_pick() and lb4ctl/metrics' "up" mean.
 */
int		 server_usable(const struct server *s);

/* "up", "down", "disabled" or "draining", for people. */
const char	*server_state_name(const struct server *s);

/*
 * The one "each pool, each server" walk, for the main thread:
 *
 *	struct server	*s;
 *
 *	POOL_EACH_SERVER(s, st->pools, st->npools)
 *		...;
 *
 * sets <s> to every server of <pools>[0..<npools>-1], pool by pool, in
 * config order.  One loop, not two: break and continue mean what they say.
 */
struct pool_walk {
	struct pool *const	*pools;
	int			 npools;
	int			 i;	/* the pool */
	int			 j;	/* its next server */
};

static inline struct server *
pool_walk_next(struct pool_walk *w)
{
	for (; w->i < w->npools; w->i++, w->j = 0)
		if (w->j < w->pools[w->i]->nservers)
			return w->pools[w->i]->servers[w->j++];
	return NULL;
}

#define POOL_EACH_SERVER(s, pools, npools)				\
	for (struct pool_walk pool_walk_ = { (pools), (npools), 0, 0 };	\
	    ((s) = pool_walk_next(&pool_walk_)) != NULL; )

#endif

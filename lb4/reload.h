/*
 * reload.h: the running configuration and how it changes (nginx
 * ngx_cycle.c, keepalived's reload).  The main thread owns struct state;
 * workers see only what it publishes in struct runtime and the listener
 * and pool objects.  state_apply() is both start-up and SIGHUP: it matches
 * listening sockets by address, listeners and pools by name, servers by
 * pool and address, keeps what stayed and retires what went.  Retired
 * objects are freed by state_collect() once no worker can hold them.
 */
#ifndef LB4_RELOAD_H
#define LB4_RELOAD_H

#include "conf.h"
#include "worker.h"

struct pool;
struct listener;
struct lsock;
struct retired;

struct state {
	struct conf	 *conf;		/* the one in force */
	struct runtime	  rt;
	struct worker	 *workers;
	int		  nworkers;
	struct pool	**pools;
	int		  npools;
	struct listener	**listeners;
	int		  nlisteners;
	struct retired	 *retired;
	int		  nretired;
	unsigned long	  reloads_ok;
	unsigned long	  reloads_failed;
	int		  last_reload_ok;
};

/* Sets up an empty state for <nworkers> workers (not started). */
int		 state_init(struct state *st, int nworkers);

/*
 * Puts <conf> in force.  On success the state owns <conf>, the old one is
 * freed, and 0 is returned.  On failure (a new address cannot be bound,
 * ENOMEM) nothing changes, *<err> holds a one-line reason to free, -1 is
 * returned, and the caller still owns <conf>.
 */
int		 state_apply(struct state *st, struct conf *conf, char **err);

/* Frees retired objects that no worker or connection can reach now. */
void		 state_collect(struct state *st);

/* Stops accepting on every socket (graceful stop), then closes them. */
void		 state_stop_accepting(struct state *st);

/*
 * Closes the listening sockets once every worker stopped watching them
 * (after state_stop_accepting()).  Returns 1 when closed, 0 to try later.
 */
int		 state_close_listeners(struct state *st);

/* 1 when every listener has a server that can take a connection. */
int		 state_healthy(struct state *st, char *why, size_t whylen);

/* Frees everything; the workers must have been joined. */
void		 state_free(struct state *st);

struct pool	*state_find_pool(struct state *st, const char *name);

#endif

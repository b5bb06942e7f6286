/*
 * reload.h: the running configuration and how it changes (nginx
 * ngx_cycle.c, keepalived's reload).  The main thread owns struct state;
 * workers see only what it publishes: struct runtime, the lsocks and
 * their routes.  state_apply() is both start-up and SIGHUP, and is one
 * transaction: it prepares everything the new config needs, then
 * publishes it, or changes nothing.  Retired objects are freed by
 * state_collect() once nothing can reach or pin them (see reload.c).
 */
#ifndef LB4_RELOAD_H
#define LB4_RELOAD_H

#include "conf.h"
#include "worker.h"

struct pool;
struct listener;
struct retired;

struct state {
	struct conf	 *conf;		/* the one in force */
	struct runtime	  rt;
	struct worker	 *workers;
	int		  nworkers;
	int		  nstarted;	/* workers[0..nstarted) run */
	struct pool	**pools;	/* conf order */
	int		  npools;
	struct listener	**listeners;	/* conf order; ->route in force */
	int		  nlisteners;
	struct retired	 *retired;
	int		  nretired;
	int		  retired_cap;
	unsigned long	  stop_epoch;	/* 0 until state_stop_accepting() */
	unsigned long	  reloads_ok;
	unsigned long	  reloads_failed;
	int		  last_reload_ok;
};

/* What is retired but still pinned by connections (for ctl and metrics). */
struct pinned {
	int		 routes;	/* old generations of a listener */
	int		 servers;	/* servers removed from their pool */
};

/*
 * Sets up an empty state for <nworkers> workers (not started); workers
 * with news for the main thread write to the eventfd <main_wakefd>.
 */
int		 state_init(struct state *st, int nworkers, int main_wakefd);

/*
 * Puts <conf> in force.  On success the state owns <conf>, the old one is
 * freed, and 0 is returned.  On failure (a new address cannot be bound,
 * ENOMEM, a stop under way) nothing changes, *<err> holds a one-line
 * reason to free, -1 is returned, and the caller still owns <conf>.
 */
int		 state_apply(struct state *st, struct conf *conf, char **err);

/* Starts the workers (after the first state_apply()).  0 or -1, logged. */
int		 state_start_workers(struct state *st);

/* Tells the workers to close every connection, and joins them. */
void		 state_stop_workers(struct state *st);

/*
 * on_server_down = "reset": tells every started worker to reset its
 * connections to servers whose down generation moved since they connected.
 */
void		 state_reset_downed(struct state *st);

/* Formats what the workers' connection-log rings hold (connlog.h). */
void		 state_drain_log(struct state *st);

/* Connection-log records and lines dropped so far. */
uint64_t	 state_log_dropped(struct state *st);

/* Frees retired objects that nothing can reach or pin any more. */
void		 state_collect(struct state *st);

/* Counts what is retired but pinned. */
void		 state_pinned(const struct state *st, struct pinned *p);

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

/*
 * reload.c: build, publish and retire configuration state.
 *
 * Lifetime, one rule.  Workers reach config objects only through the
 * published lsock set and each lsock's route, and keep what they read
 * there only until their next quiescent point (the top of their loop)
 * unless a connection pins it: a connection pins its route (per-worker
 * counts in struct route) and its server (server->active).  Whatever a
 * reload replaces or drops goes on the retired list, stamped with the
 * epoch that reload publishes, and state_collect() frees it when
 *   (1) every worker has passed a quiescent point in that epoch or later,
 *       so none holds a pointer it read before or watches a removed
 *       socket, and
 *   (2) nothing pins it.
 * After (1) no new pin can be taken, so (2) only ever falls.  Pools,
 * listeners and allow/deny lists belong to the routes that name them (and
 * to the config): they go with the last of those.  A connection's route,
 * pool, listener and server therefore outlive it by construction.
 *
 * A reload is one transaction: plan_build() prepares everything the new
 * config needs (sockets, the pools' next server lists, listeners, routes,
 * health checks, room on the retired list) without touching anything
 * published; plan_commit() publishes it and cannot fail.  When anything
 * fails the plan is thrown away and the old state serves on, untouched.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "clock.h"
#include "connlog.h"
#include "health.h"
#include "listener.h"
#include "log.h"
#include "pool.h"
#include "reload.h"

enum retired_kind {
	RETIRED_ROUTE = 0,	/* a listener's replaced route: pinned by conns */
	RETIRED_SERVER = 1,	/* left its pool: pinned by its active conns */
	RETIRED_LSOCK = 2,	/* a socket no longer bound */
	RETIRED_LSOCK_SET = 3,	/* a replaced array of sockets */
};

struct retired {
	enum retired_kind kind;
	void		*obj;
	unsigned long	 epoch;		/* published when it was retired */
};

/* Everything a new config needs, built but not published. */
struct plan {
	struct conf		 *conf;
	struct lsock_set	 *set;		/* conf order of binds */
	unsigned char		 *opened;	/* set->v[i] bound by this plan */
	struct pool		**pools;	/* conf order */
	struct pool_update	**updates;	/* kept pools; NULL for new */
	unsigned char		 *new_pool;
	struct server		**gone;		/* room for the servers leaving */
	int			  ngone;
	struct pool		**dropped;	/* old pools the config lets go */
	int			  ndropped;
	struct listener		**listeners;	/* conf order */
	unsigned char		 *new_listener;
	struct route		**routes;	/* conf order */
	int			  health_ready;
};

int
state_init(struct state *st, int nworkers, int main_wakefd)
{
	memset(st, 0, sizeof(*st));
	st->nworkers = nworkers;
	st->rt.nworkers = nworkers;
	st->rt.main_wakefd = main_wakefd;
	st->last_reload_ok = 1;
	st->workers = calloc((size_t)nworkers, sizeof(*st->workers));
	return st->workers == NULL ? -1 : 0;
}

struct pool *
state_find_pool(struct state *st, const char *name)
{
	int	i;

	for (i = 0; i < st->npools; i++)
		if (strcmp(st->pools[i]->name, name) == 0)
			return st->pools[i];
	return NULL;
}

static struct listener *
find_listener(struct state *st, const char *name)
{
	int	i;

	for (i = 0; i < st->nlisteners; i++)
		if (strcmp(st->listeners[i]->name, name) == 0)
			return st->listeners[i];
	return NULL;
}

static int
contains(void *const *v, int n, const void *obj)
{
	int	i;

	for (i = 0; i < n; i++)
		if (v[i] == obj)
			return 1;
	return 0;
}

static struct lsock *
find_lsock(const struct lsock_set *set, const struct addr *a)
{
	int	i;

	for (i = 0; set != NULL && i < set->n; i++)
		if (addr_equal(&set->v[i]->addr, a))
			return set->v[i];
	return NULL;
}

/*
 * A socket that a reload removed is closed only once every worker has let
 * go of it.  A reload in between that binds the same address again takes
 * that socket back: binding anew would fail with EADDRINUSE while the old
 * one still listens.
 */
static struct lsock *
find_retired_lsock(struct state *st, const struct addr *a)
{
	struct lsock	*ls;
	int		 i;

	for (i = 0; i < st->nretired; i++) {
		if (st->retired[i].kind != RETIRED_LSOCK)
			continue;
		ls = st->retired[i].obj;
		if (addr_equal(&ls->addr, a))
			return ls;
	}
	return NULL;
}

/* ----------------------------------------------------------- the plan */

static void
plan_free(struct plan *p)
{
	int	i;

	if (p->health_ready)
		health_abort();
	for (i = 0; p->routes != NULL && i < p->conf->nlisteners; i++)
		route_free(p->routes[i]);
	/* The plan's own references on what it created. */
	for (i = 0; p->listeners != NULL && p->new_listener != NULL &&
	    i < p->conf->nlisteners; i++)
		if (p->new_listener[i])
			listener_unref(p->listeners[i]);
	for (i = 0; p->pools != NULL && p->updates != NULL &&
	    p->new_pool != NULL && i < p->conf->npools; i++) {
		pool_update_free(p->updates[i]);
		if (p->new_pool[i])
			pool_unref(p->pools[i]);
	}
	for (i = 0; p->set != NULL && i < p->set->n; i++)
		if (p->opened[i])
			lsock_free(p->set->v[i]);
	free(p->set);
	free(p->opened);
	free(p->pools);
	free(p->updates);
	free(p->new_pool);
	free(p->gone);
	free(p->dropped);
	free(p->listeners);
	free(p->new_listener);
	free(p->routes);
	memset(p, 0, sizeof(*p));
}

static int
plan_alloc(struct plan *p, struct conf *conf)
{
	int	i, nbinds = 0, nl = conf->nlisteners, np = conf->npools;

	for (i = 0; i < nl; i++)
		nbinds += conf->listeners[i].nbinds;
	p->conf = conf;
	p->set = calloc(1, sizeof(*p->set) +
	    sizeof(struct lsock *) * (size_t)nbinds);
	p->opened = calloc((size_t)nbinds + 1, 1);
	p->pools = calloc((size_t)np + 1, sizeof(struct pool *));
	p->updates = calloc((size_t)np + 1,
	    sizeof(struct pool_update *));
	p->new_pool = calloc((size_t)np + 1, 1);
	p->listeners = calloc((size_t)nl + 1,
	    sizeof(struct listener *));
	p->new_listener = calloc((size_t)nl + 1, 1);
	p->routes = calloc((size_t)nl + 1, sizeof(struct route *));
	return p->set == NULL || p->opened == NULL || p->pools == NULL ||
	    p->updates == NULL || p->new_pool == NULL || p->listeners == NULL ||
	    p->new_listener == NULL || p->routes == NULL ? -1 : 0;
}

/* Kept pools get their next server list, new ones are built.  0 or -1. */
static int
plan_pools(struct state *st, struct plan *p)
{
	const struct conf_pool	*cp;
	struct pool		*kept;
	int			 i;

	for (i = 0; i < p->conf->npools; i++) {
		cp = &p->conf->pools[i];
		if ((kept = state_find_pool(st, cp->name)) != NULL) {
			p->pools[i] = kept;
			if ((p->updates[i] = pool_prepare(kept, cp,
			    st->nworkers)) == NULL)
				return -1;
			p->ngone += pool_update_ngone(p->updates[i]);
		} else {
			if ((p->pools[i] = pool_new(cp, st->nworkers)) == NULL)
				return -1;
			p->pools[i]->refs = 1;	/* the plan's, then the config's */
			p->new_pool[i] = 1;
		}
	}
	p->gone = calloc((size_t)p->ngone + 1, sizeof(struct server *));
	p->dropped = calloc((size_t)st->npools + 1,
	    sizeof(struct pool *));
	return p->gone == NULL || p->dropped == NULL ? -1 : 0;
}

/* Listeners kept by name or new, and a new route for each.  0 or -1. */
static int
plan_routes(struct state *st, struct plan *p)
{
	const struct conf_listener *cl;
	struct listener		*l;
	int			 i;

	for (i = 0; i < p->conf->nlisteners; i++) {
		cl = &p->conf->listeners[i];
		if ((l = find_listener(st, cl->name)) == NULL) {
			if ((l = listener_new(cl->name, st->nworkers)) == NULL)
				return -1;
			l->refs = 1;	/* the plan's, then the config's */
			p->new_listener[i] = 1;
		}
		p->listeners[i] = l;
		if ((p->routes[i] = route_new(l, p->pools[cl->pool], cl,
		    &p->conf->pools[cl->pool], st->nworkers)) == NULL)
			return -1;
	}
	return 0;
}

/* The sockets of every bind: kept, taken back, or bound now.  0 or -1. */
static int
plan_sockets(struct state *st, struct plan *p, char **err)
{
	const struct conf_listener *cl;
	const struct addr	*a;
	struct lsock		*ls;
	int			 i, j;

	for (i = 0; i < p->conf->nlisteners; i++) {
		cl = &p->conf->listeners[i];
		for (j = 0; j < cl->nbinds; j++) {
			a = &cl->binds[j];
			if ((ls = find_lsock(st->rt.lsocks, a)) == NULL &&
			    (ls = find_retired_lsock(st, a)) == NULL) {
				if ((ls = lsock_open(a)) == NULL) {
					if (asprintf(err, "%s:%d: cannot bind "
					    "%s: %s", p->conf->path, cl->line,
					    a->text, log_strerror(errno)) == -1)
						*err = NULL;
					return -1;
				}
				p->opened[p->set->n] = 1;
			}
			p->set->v[p->set->n++] = ls;
		}
	}
	return 0;
}

/* Room on the retired list for everything plan_commit() will retire. */
static int
reserve_retired(struct state *st, const struct plan *p)
{
	struct retired	*r;
	int		 need;

	need = st->nretired + st->nlisteners + p->ngone + 1 +
	    (st->rt.lsocks != NULL ? st->rt.lsocks->n : 0);
	if (need <= st->retired_cap)
		return 0;
	if ((r = realloc(st->retired, sizeof(*r) * (size_t)need)) == NULL)
		return -1;
	st->retired = r;
	st->retired_cap = need;
	return 0;
}

static int
plan_build(struct state *st, struct plan *p, struct conf *conf, char **err)
{
	/* Before anything is built: a source address this host cannot
	 * bind fails the start or the reload, with its pool named. */
	if (pool_check_sources(conf, err) == -1)
		return -1;
	if (plan_alloc(p, conf) == -1 || plan_pools(st, p) == -1 ||
	    plan_routes(st, p) == -1)
		goto nomem;
	if (plan_sockets(st, p, err) == -1)
		return -1;
	if (reserve_retired(st, p) == -1 || health_prepare(conf) == -1)
		goto nomem;
	p->health_ready = 1;
	return 0;
nomem:
	if (asprintf(err, "%s: out of memory", conf->path) == -1)
		*err = NULL;
	return -1;
}

/* ---------------------------------------------------------- publishing */

/* Room was reserved by reserve_retired(): this cannot fail. */
static void
retire(struct state *st, enum retired_kind kind, void *obj)
{
	struct retired	*r = &st->retired[st->nretired++];

	r->kind = kind;
	r->obj = obj;
	r->epoch = 0;		/* stamped when the reload publishes */
}

/* Takes the sockets of <set> that were retired off the retired list. */
static void
unretire_lsocks(struct state *st, const struct lsock_set *set)
{
	int	i, j = 0;

	for (i = 0; i < st->nretired; i++) {
		if (st->retired[i].kind == RETIRED_LSOCK &&
		    contains((void *const *)set->v, set->n,
		    st->retired[i].obj))
			continue;
		st->retired[j++] = st->retired[i];
	}
	st->nretired = j;
}

static void
commit_pools(struct state *st, struct plan *p)
{
	int	i, j, k = 0;

	for (i = 0; i < p->conf->npools; i++) {
		if (p->updates[i] == NULL)
			continue;	/* new: the plan's ref is the config's */
		j = pool_update_ngone(p->updates[i]);
		pool_commit(p->pools[i], p->updates[i], p->gone + k);
		p->updates[i] = NULL;
		k += j;
	}
	for (i = 0; i < k; i++)
		retire(st, RETIRED_SERVER, p->gone[i]);
	/* Their config reference goes after health_sync(): a pool no route
	 * names is freed with it, and its servers' checks must be detached
	 * first. */
	for (i = 0; i < st->npools; i++)
		if (!contains((void *const *)p->pools, p->conf->npools,
		    st->pools[i]))
			p->dropped[p->ndropped++] = st->pools[i];
	free(st->pools);
	st->pools = p->pools;
	st->npools = p->conf->npools;
	p->pools = NULL;
}

static void
commit_listeners(struct state *st, struct plan *p)
{
	struct listener	*l;
	int		 i;

	for (i = 0; i < st->nlisteners; i++) {
		l = st->listeners[i];
		retire(st, RETIRED_ROUTE, l->route);
		l->route = NULL;
		if (!contains((void *const *)p->listeners,
		    p->conf->nlisteners, l))
			listener_unref(l);	/* the config's */
	}
	for (i = 0; i < p->conf->nlisteners; i++)
		p->listeners[i]->route = p->routes[i];
	free(st->listeners);
	st->listeners = p->listeners;
	st->nlisteners = p->conf->nlisteners;
	p->listeners = NULL;
	free(p->routes);
	p->routes = NULL;
}

static void
commit_sockets(struct state *st, struct plan *p)
{
	struct lsock_set	*old = st->rt.lsocks;
	int			 i, j, k = 0;

	for (i = 0; i < p->conf->nlisteners; i++)
		for (j = 0; j < p->conf->listeners[i].nbinds; j++)
			store_release(&p->set->v[k++]->route,
			    st->listeners[i]->route);
	unretire_lsocks(st, p->set);
	store_release(&st->rt.lsocks, p->set);
	for (i = 0; old != NULL && i < old->n; i++)
		if (!contains((void *const *)p->set->v, p->set->n, old->v[i]))
			retire(st, RETIRED_LSOCK, old->v[i]);
	if (old != NULL)
		retire(st, RETIRED_LSOCK_SET, old);
	p->set = NULL;
}

/* Publishes a new epoch and stamps what was retired before it. */
static unsigned long
publish(struct state *st)
{
	unsigned long	epoch;
	int		i;

	epoch = add_release(&st->rt.epoch, 1);
	for (i = 0; i < st->nretired; i++)
		if (st->retired[i].epoch == 0)
			st->retired[i].epoch = epoch;
	for (i = 0; i < st->nstarted; i++)
		worker_wake(&st->workers[i]);
	return epoch;
}

static void
plan_commit(struct state *st, struct plan *p)
{
	commit_pools(st, p);
	commit_listeners(st, p);
	commit_sockets(st, p);
	store_release(&st->rt.max_connections, p->conf->global.max_connections);
	store_release(&st->rt.splice, p->conf->global.splice);
	(void)publish(st);
	log_set_level(p->conf->global.log_level);
	conf_free(st->conf);
	st->conf = p->conf;
	health_sync(st);	/* uses what health_prepare() built */
	p->health_ready = 0;
	while (p->ndropped > 0)
		pool_unref(p->dropped[--p->ndropped]);	/* the config's */
	plan_free(p);		/* what is left: nothing but arrays */
}

int
state_apply(struct state *st, struct conf *conf, char **err)
{
	struct plan	plan;

	*err = NULL;
	if (st->stop_epoch != 0) {
		if (asprintf(err, "lb4 is stopping: reload refused") == -1)
			*err = NULL;
		return -1;
	}
	if (st->conf != NULL && conf->global.workers != st->nworkers)
		log_warnx("%s: workers = %d needs a restart; keeping %d",
		    conf->path, conf->global.workers, st->nworkers);
	memset(&plan, 0, sizeof(plan));
	if (plan_build(st, &plan, conf, err) == -1) {
		plan_free(&plan);
		return -1;
	}
	plan_commit(st, &plan);
	return 0;
}

/* ----------------------------------------------------------- retiring */

/* 1 when every worker passed a quiescent point in <epoch> or later. */
static int
epoch_passed(const struct state *st, unsigned long epoch)
{
	int	i;

	for (i = 0; i < st->nstarted; i++)
		if (worker_quiescent_epoch(&st->workers[i]) < epoch)
			return 0;
	return 1;
}

void
state_drain_log(struct state *st)
{
	struct connlog_ring	*rings[CONF_WORKERS_MAX];
	int			 i;

	for (i = 0; i < st->nstarted && i < CONF_WORKERS_MAX; i++)
		rings[i] = st->workers[i].log;
	connlog_drain(rings, i, st->conf != NULL && st->conf->global.log_json);
}

uint64_t
state_log_dropped(struct state *st)
{
	struct connlog_ring	*rings[CONF_WORKERS_MAX];
	int			 i;

	for (i = 0; i < st->nworkers && i < CONF_WORKERS_MAX; i++)
		rings[i] = i < st->nstarted ? st->workers[i].log : NULL;
	/* And lb4's own messages that a stalled reader did not take. */
	return connlog_dropped(rings, i) + log_dropped();
}

int
state_start_workers(struct state *st)
{
	for (; st->nstarted < st->nworkers; st->nstarted++)
		if (worker_init(&st->workers[st->nstarted], st->nstarted,
		    &st->rt) == -1 ||
		    worker_start(&st->workers[st->nstarted]) == -1)
			return -1;
	return 0;
}

void
state_stop_workers(struct state *st)
{
	int	i;

	store_release(&st->rt.exiting, 1);
	for (i = 0; i < st->nstarted; i++)
		worker_wake(&st->workers[i]);
	for (i = 0; i < st->nstarted; i++)
		worker_join(&st->workers[i]);
	/* The connections cut at exit (end=shutdown) are in the rings. */
	state_drain_log(st);
	for (i = 0; i < st->nstarted; i++) {
		connlog_ring_free(st->workers[i].log);
		st->workers[i].log = NULL;
	}
	st->nstarted = 0;
}

static long
retired_pins(const struct retired *r)
{
	switch (r->kind) {
	case RETIRED_ROUTE:
		return route_pinned(r->obj);
	case RETIRED_SERVER:
		return load_acquire(&((struct server *)r->obj)->active);
	case RETIRED_LSOCK:
	case RETIRED_LSOCK_SET:
		break;
	}
	return 0;
}

static void
retired_free(struct retired *r)
{
	switch (r->kind) {
	case RETIRED_ROUTE:
		route_free(r->obj);
		break;
	case RETIRED_SERVER:
		server_free(r->obj);
		break;
	case RETIRED_LSOCK:
		lsock_free(r->obj);
		break;
	case RETIRED_LSOCK_SET:
		free(r->obj);
		break;
	}
}

void
state_collect(struct state *st)
{
	int	i, j = 0;

	for (i = 0; i < st->nretired; i++) {
		if (epoch_passed(st, st->retired[i].epoch) &&
		    retired_pins(&st->retired[i]) == 0)
			retired_free(&st->retired[i]);
		else
			st->retired[j++] = st->retired[i];
	}
	st->nretired = j;
	for (i = 0; i < st->nlisteners; i++)
		listener_log_denied(st->listeners[i], st->nworkers,
		    clock_ms());
}

void
state_pinned(const struct state *st, struct pinned *p)
{
	int	i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < st->nretired; i++) {
		if (retired_pins(&st->retired[i]) == 0)
			continue;
		if (st->retired[i].kind == RETIRED_ROUTE)
			p->routes++;
		else if (st->retired[i].kind == RETIRED_SERVER)
			p->servers++;
	}
}

void
state_stop_accepting(struct state *st)
{
	if (st->stop_epoch != 0)
		return;
	store_release(&st->rt.stopping, 1);
	st->stop_epoch = publish(st);
}

int
state_close_listeners(struct state *st)
{
	struct lsock_set	*set = st->rt.lsocks;
	int			 i;

	if (st->stop_epoch == 0 || !epoch_passed(st, st->stop_epoch))
		return 0;
	for (i = 0; set != NULL && i < set->n; i++) {
		if (set->v[i]->fd != -1)
			close(set->v[i]->fd);
		set->v[i]->fd = -1;
	}
	return 1;
}

int
state_healthy(struct state *st, char *why, size_t whylen)
{
	struct pool	*pool;
	int		 i;

	for (i = 0; i < st->nlisteners; i++) {
		pool = st->listeners[i]->route->pool;
		if (!pool_can_serve(pool)) {
			snprintf(why, whylen, "listener %s: no server of pool "
			    "%s can take a connection", st->listeners[i]->name,
			    pool->name);
			return 0;
		}
	}
	return 1;
}

void
state_free(struct state *st)
{
	struct lsock_set	*set = st->rt.lsocks;
	int			 i;

	for (i = 0; i < st->nretired; i++)
		retired_free(&st->retired[i]);
	free(st->retired);
	for (i = 0; set != NULL && i < set->n; i++)
		lsock_free(set->v[i]);
	free(set);
	for (i = 0; i < st->nlisteners; i++) {
		route_free(st->listeners[i]->route);
		listener_unref(st->listeners[i]);
	}
	free(st->listeners);
	for (i = 0; i < st->npools; i++)
		pool_unref(st->pools[i]);
	free(st->pools);
	free(st->workers);
	conf_free(st->conf);
	memset(st, 0, sizeof(*st));
}

void
state_reset_downed(struct state *st)
{
	int	i;

	/* Read by each worker at its wake (worker.c, conn_reset_downed). */
	add_release(&st->rt.down_seq, 1);
	for (i = 0; i < st->nstarted; i++)
		worker_wake(&st->workers[i]);
}

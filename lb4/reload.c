/*
 * reload.c: build, diff, publish and retire configuration state.
 *
 * Freeing is two-phase.  An object that left the config is "retired"; it
 * becomes "ready" when nothing counts on it any more (its connections are
 * gone, the workers acknowledged that they stopped watching its socket,
 * no listener points at its pool).  A ready object is stamped with a new
 * epoch and freed once every worker has passed a quiescent point (the top
 * of its loop) in that epoch: by then no worker can hold a pointer it read
 * before.  This is QSBR with the ready test in front.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "health.h"
#include "listener.h"
#include "log.h"
#include "loop.h"
#include "pool.h"
#include "reload.h"

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

enum retired_kind {
	RETIRED_LSOCK = 0,	/* a socket no longer bound */
	RETIRED_LSOCK_SET = 1,	/* a published array of sockets */
	RETIRED_LISTENER = 2,
	RETIRED_POOL = 3,
	RETIRED_SERVER = 4,
	RETIRED_ACL = 5,	/* a listener's replaced allow/deny */
};

struct retired {
	enum retired_kind kind;
	void		*obj;
	unsigned long	 lsock_seq;	/* workers must have seen this */
	unsigned long	 epoch;		/* 0 until ready */
};

int
state_init(struct state *st, int nworkers)
{
	memset(st, 0, sizeof(*st));
	st->nworkers = nworkers;
	st->rt.nworkers = nworkers;
	st->rt.main_wakefd = -1;
	st->last_reload_ok = 1;
	st->workers = calloc((size_t)nworkers, sizeof(*st->workers));
	return st->workers == NULL ? -1 : 0;
}

static int
retire(struct state *st, enum retired_kind kind, void *obj)
{
	struct retired	*r;

	r = realloc(st->retired, sizeof(*r) * (size_t)(st->nretired + 1));
	if (r == NULL)
		return -1;
	st->retired = r;
	r = &st->retired[st->nretired++];
	r->kind = kind;
	r->obj = obj;
	r->lsock_seq = st->rt.lsock_seq;
	r->epoch = 0;
	return 0;
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

static struct lsock *
find_lsock(struct lsock_set *set, const struct addr *a)
{
	int	i;

	for (i = 0; set != NULL && i < set->n; i++)
		if (addr_equal(&set->v[i]->addr, a))
			return set->v[i];
	return NULL;
}

/*
 * A socket that a reload removed is closed only once every worker has let
 * go of it (the next tick, at the earliest).  A reload in between that
 * binds the same address again takes that socket back: binding anew would
 * fail with EADDRINUSE while the old one still listens.
 */
static struct lsock *
find_retired_lsock(struct state *st, const struct addr *a)
{
	int	i;

	for (i = 0; i < st->nretired; i++)
		if (st->retired[i].kind == RETIRED_LSOCK &&
		    addr_equal(&((struct lsock *)st->retired[i].obj)->addr, a))
			return st->retired[i].obj;
	return NULL;
}

/* 1 when <ls> was opened for this reload (not kept, not taken back). */
static int
lsock_is_new(struct state *st, struct lsock *ls)
{
	return find_lsock(st->rt.lsocks, &ls->addr) != ls &&
	    find_retired_lsock(st, &ls->addr) != ls;
}

/* Takes the sockets of <set> that were retired out of the retired list. */
static void
unretire_lsocks(struct state *st, struct lsock_set *set)
{
	int	i, j = 0;

	for (i = 0; i < st->nretired; i++) {
		if (st->retired[i].kind == RETIRED_LSOCK &&
		    find_lsock(set, &((struct lsock *)
		    st->retired[i].obj)->addr) == st->retired[i].obj)
			continue;
		st->retired[j++] = st->retired[i];
	}
	st->nretired = j;
}

static int
count_binds(const struct conf *conf)
{
	int	i, n = 0;

	for (i = 0; i < conf->nlisteners; i++)
		n += conf->listeners[i].nbinds;
	return n;
}

/*
 * The sockets <conf> needs: kept ones from the current set, new ones bound
 * now.  Returns the new set, or NULL with *<err> (new sockets closed).
 */
static struct lsock_set *
bind_all(struct state *st, const struct conf *conf, char **err)
{
	struct lsock_set	*old = st->rt.lsocks, *set;
	struct lsock		*ls;
	const struct addr	*a;
	int			 i, j, k;

	set = calloc(1, sizeof(*set) +
	    sizeof(set->v[0]) * (size_t)count_binds(conf));
	if (set == NULL)
		goto nomem;
	for (i = 0; i < conf->nlisteners; i++) {
		for (j = 0; j < conf->listeners[i].nbinds; j++) {
			a = &conf->listeners[i].binds[j];
			if ((ls = find_lsock(old, a)) == NULL &&
			    (ls = find_retired_lsock(st, a)) == NULL &&
			    (ls = lsock_open(a)) == NULL) {
				if (asprintf(err, "%s:%d: cannot bind %s: %s",
				    conf->path, conf->listeners[i].line,
				    a->text, strerror(errno)) == -1)
					*err = NULL;
				goto fail;
			}
			set->v[set->n++] = ls;
		}
	}
	return set;
nomem:
	if (asprintf(err, "out of memory") == -1)
		*err = NULL;
fail:
	for (k = 0; set != NULL && k < set->n; k++)
		if (lsock_is_new(st, set->v[k]))
			lsock_free(set->v[k]);
	free(set);
	return NULL;
}

/* Pools of <conf>, existing ones updated in place.  Returns 0 or -1. */
static int
apply_pools(struct state *st, const struct conf *conf)
{
	struct pool	**pools, *p;
	struct server	**gone = NULL;
	int		 i, ngone = 0;

	pools = calloc((size_t)conf->npools + 1, sizeof(*pools));
	if (pools == NULL)
		return -1;
	for (i = 0; i < conf->npools; i++) {
		p = state_find_pool(st, conf->pools[i].name);
		if (p != NULL) {
			if (pool_apply(p, &conf->pools[i], st->nworkers,
			    &gone, &ngone) == -1)
				log_warnx("pool %s: out of memory, kept as it "
				    "was", p->name);
		} else if ((p = pool_new(&conf->pools[i], st->nworkers)) ==
		    NULL)
			fatalx(2, "out of memory");
		pools[i] = p;
	}
	for (i = 0; i < ngone; i++)
		if (retire(st, RETIRED_SERVER, gone[i]) == -1)
			fatalx(2, "out of memory");
	free(gone);
	for (i = 0; i < st->npools; i++) {
		if (conf_pool_find((struct conf *)conf, st->pools[i]->name) !=
		    NULL)
			continue;
		if (retire(st, RETIRED_POOL, st->pools[i]) == -1)
			fatalx(2, "out of memory");
	}
	free(st->pools);
	st->pools = pools;
	st->npools = conf->npools;
	return 0;
}

static void
listener_set_pool(struct listener *l, struct pool *p)
{
	struct pool	*old = l->pool;

	if (old == p)
		return;
	p->refs++;
	STORE(&l->pool, p);
	if (old != NULL)
		old->refs--;
}

/*
 * Publishes <cl>'s allow/deny as <l>'s new acl (NULL when there is no
 * rule) and retires the old one: a worker may be reading it.  Rebuilt on
 * every apply; it is cheap (a sort) and keeps no state worth keeping.
 */
static void
listener_set_acl(struct state *st, struct listener *l,
    const struct conf_listener *cl)
{
	struct acl	*acl = NULL, *old = l->acl;

	if ((cl->nallow > 0 || cl->ndeny > 0) && (acl = acl_new(cl->allow,
	    cl->nallow, cl->deny, cl->ndeny)) == NULL)
		fatalx(2, "out of memory");
	STORE(&l->acl, acl);
	if (old != NULL && retire(st, RETIRED_ACL, old) == -1)
		fatalx(2, "out of memory");
}

static void
apply_listeners(struct state *st, const struct conf *conf)
{
	struct listener		**ls, *l;
	const struct conf_listener *cl;
	int			 i, j;

	ls = calloc((size_t)conf->nlisteners + 1, sizeof(*ls));
	if (ls == NULL)
		fatalx(2, "out of memory");
	for (i = 0; i < conf->nlisteners; i++) {
		cl = &conf->listeners[i];
		l = find_listener(st, cl->name);
		if (l == NULL &&
		    (l = listener_new(cl->name, st->nworkers)) == NULL)
			fatalx(2, "out of memory");
		listener_set_pool(l, st->pools[cl->pool]);
		STORE(&l->idle_timeout_ms, cl->idle_timeout_ms);
		listener_set_keepalive(l, &cl->keepalive);
		listener_set_acl(st, l, cl);
		ls[i] = l;
	}
	for (i = 0; i < st->nlisteners; i++) {
		for (j = 0; j < conf->nlisteners; j++)
			if (ls[j] == st->listeners[i])
				break;
		if (j < conf->nlisteners)
			continue;
		st->listeners[i]->in_conf = 0;
		if (retire(st, RETIRED_LISTENER, st->listeners[i]) == -1)
			fatalx(2, "out of memory");
	}
	free(st->listeners);
	st->listeners = ls;
	st->nlisteners = conf->nlisteners;
}

/* Points every socket at its listener, retires the sockets that went. */
static void
apply_lsocks(struct state *st, const struct conf *conf,
    struct lsock_set *set)
{
	struct lsock_set	*old = st->rt.lsocks;
	struct lsock		*ls;
	int			 i, j, k = 0;

	for (i = 0; i < conf->nlisteners; i++)
		for (j = 0; j < conf->listeners[i].nbinds; j++) {
			ls = set->v[k++];
			STORE(&ls->listener, st->listeners[i]);
		}
	unretire_lsocks(st, set);
	STORE(&st->rt.lsocks, set);
	__atomic_add_fetch(&st->rt.lsock_seq, 1, __ATOMIC_RELEASE);
	for (i = 0; old != NULL && i < old->n; i++)
		if (find_lsock(set, &old->v[i]->addr) == NULL &&
		    retire(st, RETIRED_LSOCK, old->v[i]) == -1)
			fatalx(2, "out of memory");
	if (old != NULL && retire(st, RETIRED_LSOCK_SET, old) == -1)
		fatalx(2, "out of memory");
}

int
state_apply(struct state *st, struct conf *conf, char **err)
{
	struct lsock_set	*set;
	int			 i;

	*err = NULL;
	if (st->conf != NULL && conf->global.workers != st->nworkers)
		log_warnx("%s: workers = %d needs a restart; keeping %d",
		    conf->path, conf->global.workers, st->nworkers);
	if ((set = bind_all(st, conf, err)) == NULL)
		return -1;
	if (apply_pools(st, conf) == -1) {
		/* Nothing was changed yet but the new sockets. */
		for (i = 0; i < set->n; i++)
			if (lsock_is_new(st, set->v[i]))
				lsock_free(set->v[i]);
		free(set);
		if (asprintf(err, "out of memory") == -1)
			*err = NULL;
		return -1;
	}
	apply_listeners(st, conf);
	apply_lsocks(st, conf, set);
	STORE(&st->rt.max_connections, conf->global.max_connections);
	STORE(&st->rt.splice, conf->global.splice);
	log_set_level(conf->global.log_level);
	conf_free(st->conf);
	st->conf = conf;
	/* Before state_collect() can free a server that left. */
	health_sync(st);
	for (i = 0; i < st->nworkers; i++)
		if (st->workers[i].epfd > 0)
			worker_wake(&st->workers[i]);
	return 0;
}

/* 1 when every started worker has acknowledged lsock sequence <seq>. */
static int
workers_saw_seq(struct state *st, unsigned long seq)
{
	int	i;

	for (i = 0; i < st->nworkers; i++)
		if (st->workers[i].epfd > 0 &&
		    LOAD(&st->workers[i].seen_lsock_seq) < seq)
			return 0;
	return 1;
}

static int
workers_saw_epoch(struct state *st, unsigned long epoch)
{
	int	i;

	for (i = 0; i < st->nworkers; i++)
		if (st->workers[i].epfd > 0 &&
		    LOAD(&st->workers[i].seen_epoch) < epoch)
			return 0;
	return 1;
}

static int
retired_ready(struct state *st, struct retired *r)
{
	struct listener	*l;

	switch (r->kind) {
	case RETIRED_LSOCK:
	case RETIRED_LSOCK_SET:
		return workers_saw_seq(st, r->lsock_seq);
	case RETIRED_LISTENER:
		l = r->obj;
		return workers_saw_seq(st, r->lsock_seq) &&
		    listener_active(l, st->nworkers) == 0;
	case RETIRED_POOL:
		return ((struct pool *)r->obj)->refs == 0;
	case RETIRED_SERVER:
		return LOAD(&((struct server *)r->obj)->active) == 0;
	case RETIRED_ACL:
		return 1;	/* only the epoch below protects it */
	}
	return 0;
}

static void
retired_free(struct retired *r)
{
	struct listener	*l;

	switch (r->kind) {
	case RETIRED_LSOCK:
		lsock_free(r->obj);
		break;
	case RETIRED_LSOCK_SET:
		free(r->obj);
		break;
	case RETIRED_LISTENER:
		l = r->obj;
		if (l->pool != NULL)
			l->pool->refs--;
		listener_free(l);
		break;
	case RETIRED_POOL:
		pool_free(r->obj);
		break;
	case RETIRED_SERVER:
		server_free(r->obj);
		break;
	case RETIRED_ACL:
		acl_free(r->obj);
		break;
	}
}

void
state_collect(struct state *st)
{
	int	i, j = 0, stamped = 0;

	for (i = 0; i < st->nretired; i++) {
		struct retired	*r = &st->retired[i];

		if (r->epoch == 0 && retired_ready(st, r)) {
			if (!stamped)
				__atomic_add_fetch(&st->rt.epoch, 1,
				    __ATOMIC_RELEASE);
			stamped = 1;
			r->epoch = LOAD(&st->rt.epoch);
		}
		if (r->epoch != 0 && workers_saw_epoch(st, r->epoch)) {
			retired_free(r);
			continue;
		}
		st->retired[j++] = *r;
	}
	st->nretired = j;
	for (i = 0; i < st->nlisteners; i++)
		listener_log_denied(st->listeners[i], st->nworkers,
		    loop_now_ms());
	/* Sleeping workers pass no quiescent point: wake them. */
	for (i = 0; stamped && i < st->nworkers; i++)
		if (st->workers[i].epfd > 0)
			worker_wake(&st->workers[i]);
}

void
state_stop_accepting(struct state *st)
{
	int	i;

	STORE(&st->rt.stopping, 1);
	__atomic_add_fetch(&st->rt.lsock_seq, 1, __ATOMIC_RELEASE);
	for (i = 0; i < st->nworkers; i++)
		worker_wake(&st->workers[i]);
}

int
state_close_listeners(struct state *st)
{
	struct lsock_set	*set = st->rt.lsocks;
	int			 i;

	if (!workers_saw_seq(st, LOAD(&st->rt.lsock_seq)))
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
	int	i;

	for (i = 0; i < st->nlisteners; i++) {
		if (!pool_can_serve(st->listeners[i]->pool)) {
			snprintf(why, whylen, "listener %s: no server of pool "
			    "%s can take a connection", st->listeners[i]->name,
			    st->listeners[i]->pool->name);
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
	for (i = 0; i < st->nlisteners; i++)
		listener_free(st->listeners[i]);
	free(st->listeners);
	for (i = 0; i < st->npools; i++)
		pool_free(st->pools[i]);
	free(st->pools);
	free(st->workers);
	conf_free(st->conf);
	memset(st, 0, sizeof(*st));
}

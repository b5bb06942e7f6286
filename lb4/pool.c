/*
 * pool.c: servers, their states, and the pick.  Modelled on nginx's
 * ngx_stream_upstream_round_robin.c: one lock per pool, held for the pick
 * only.  The workers read health/admin/active with atomics; everything that
 * shapes the pick (the server array, weights) changes under the lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "log.h"
#include "pool.h"

static struct server *
server_new(const struct conf_server *cs, const char *pool_name,
    const struct conf_health *health, int nworkers)
{
	struct server	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->pool_name = strdup(pool_name)) == NULL ||
	    (s->stats = stats_new(nworkers)) == NULL) {
		server_free(s);
		return NULL;
	}
	s->addr = cs->addr;
	s->weight = cs->weight;
	s->backup = cs->backup;
	s->max_connections = cs->max_connections;
	/* A checked server proves itself first (lb4(8), "Health checks"). */
	s->health = health->type == HEALTH_NONE ? SERVER_UP : SERVER_DOWN;
	s->admin = SERVER_ENABLED;
	return s;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	free(s->pool_name);
	stats_free(s->stats);
	free(s);
}

struct pool_update {
	struct server	**next;		/* the new list, in <cp> order */
	struct swrr_peer *peers;
	unsigned char	*eligible;
	int		 n;
	struct server	**created;	/* servers made for it (freed on abort) */
	int		 ncreated;
	struct server	**gone;		/* servers of the pool that leave */
	int		 ngone;
	struct addr	*sources;	/* copy of cp->sources */
	const struct conf_pool *cp;
};

struct pool *
pool_new(const struct conf_pool *cp, int nworkers)
{
	struct pool		*pool;
	struct pool_update	*u;

	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return NULL;
	if ((pool->name = strdup(cp->name)) == NULL) {
		free(pool);
		return NULL;
	}
	pthread_mutex_init(&pool->lock, NULL);
	if ((u = pool_prepare(pool, cp, nworkers)) == NULL) {
		pool->refs = 1;
		pool_unref(pool);
		return NULL;
	}
	pool_commit(pool, u, NULL);
	return pool;
}

void
pool_unref(struct pool *pool)
{
	int	i;

	if (pool == NULL || --pool->refs > 0)
		return;
	for (i = 0; i < pool->nservers; i++)
		server_free(pool->servers[i]);
	free(pool->servers);
	free(pool->peers);
	free(pool->eligible);
	free(pool->sources);
	pthread_mutex_destroy(&pool->lock);
	free(pool->name);
	free(pool);
}

static struct server *
find_by_addr(struct server *const *servers, int n, const struct addr *a)
{
	int	i;

	for (i = 0; i < n; i++)
		if (servers[i] != NULL && addr_equal(&servers[i]->addr, a))
			return servers[i];
	return NULL;
}

/* 1 when <cp> lists the same servers, in order, with the same weights. */
static int
same_shape(const struct pool *pool, const struct conf_pool *cp)
{
	int	i;

	if (pool->nservers != cp->nservers)
		return 0;
	for (i = 0; i < cp->nservers; i++)
		if (!addr_equal(&pool->servers[i]->addr, &cp->servers[i].addr) ||
		    pool->servers[i]->weight != cp->servers[i].weight ||
		    pool->servers[i]->backup != cp->servers[i].backup)
			return 0;
	return 1;
}

void
pool_update_free(struct pool_update *u)
{
	int	i;

	if (u == NULL)
		return;
	for (i = 0; i < u->ncreated; i++)
		server_free(u->created[i]);
	free(u->created);
	free(u->next);
	free(u->peers);
	free(u->eligible);
	free(u->gone);
	free(u->sources);
	free(u);
}

struct pool_update *
pool_prepare(const struct pool *pool, const struct conf_pool *cp,
    int nworkers)
{
	struct pool_update	*u;
	struct server		*s;
	int			 i, n = cp->nservers;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->cp = cp;
	u->n = n;
	u->next = calloc((size_t)n + 1, sizeof(struct server *));
	u->peers = calloc((size_t)n + 1, sizeof(*u->peers));
	u->eligible = calloc((size_t)n + 1, 1);
	u->created = calloc((size_t)n + 1, sizeof(struct server *));
	u->gone = calloc((size_t)pool->nservers + 1,
	    sizeof(struct server *));
	if (u->next == NULL || u->peers == NULL || u->eligible == NULL ||
	    u->created == NULL || u->gone == NULL)
		goto fail;
	if (cp->nsources > 0) {
		if ((u->sources = calloc((size_t)cp->nsources,
		    sizeof(*u->sources))) == NULL)
			goto fail;
		memcpy(u->sources, cp->sources,
		    sizeof(*u->sources) * (size_t)cp->nsources);
	}
	for (i = 0; i < n; i++) {
		u->next[i] = find_by_addr(pool->servers, pool->nservers,
		    &cp->servers[i].addr);
		if (u->next[i] != NULL)
			continue;
		if ((s = server_new(&cp->servers[i], cp->name, &cp->health,
		    nworkers)) == NULL)
			goto fail;
		u->next[i] = u->created[u->ncreated++] = s;
	}
	for (i = 0; i < pool->nservers; i++)
		if (find_by_addr(u->next, n, &pool->servers[i]->addr) == NULL)
			u->gone[u->ngone++] = pool->servers[i];
	return u;
fail:
	pool_update_free(u);
	return NULL;
}

int
pool_update_ngone(const struct pool_update *u)
{
	return u->ngone;
}

void
pool_commit(struct pool *pool, struct pool_update *u, struct server **gone)
{
	const struct conf_pool	*cp = u->cp;
	struct server		**old_servers;
	struct swrr_peer	*old_peers;
	struct addr		*old_sources;
	unsigned char		*old_eligible;
	int			 i, keep_scores;

	pthread_mutex_lock(&pool->lock);
	keep_scores = same_shape(pool, cp);
	for (i = 0; i < u->n; i++) {
		u->next[i]->weight = cp->servers[i].weight;
		u->next[i]->backup = cp->servers[i].backup;
		u->next[i]->max_connections = cp->servers[i].max_connections;
		u->next[i]->health_port = cp->servers[i].health_port;
		store_relaxed(&u->next[i]->on_down, (int)cp->on_server_down);
		/* Passive counting only where an active check can bring the
		 * server back up. */
		store_relaxed(&u->next[i]->passive_fall, cp->health.type ==
		    HEALTH_NONE ? 0 : cp->health.fall);
		u->peers[i].weight = u->next[i]->weight;
		u->peers[i].current = keep_scores ? pool->peers[i].current : 0;
	}
	old_servers = pool->servers;
	old_peers = pool->peers;
	old_eligible = pool->eligible;
	pool->servers = u->next;
	pool->peers = u->peers;
	pool->eligible = u->eligible;
	pool->nservers = u->n;
	/* Picks copy a source under the lock: the old array is free after. */
	old_sources = pool->sources;
	pool->sources = u->sources;
	pool->nsources = cp->nsources;
	pool->mode = (int)cp->mode;
	/* A reload keeps the current server while it is still listed (its
	 * usability is judged at the next pick, as always). */
	if (pool->current != NULL &&
	    find_by_addr(u->next, u->n, &pool->current->addr) != pool->current)
		pool->current = pool->logged = NULL;
	pthread_mutex_unlock(&pool->lock);

	pool->health = cp->health;
	for (i = 0; gone != NULL && i < u->ngone; i++)
		gone[i] = u->gone[i];
	free(old_servers);
	free(old_peers);
	free(old_eligible);
	free(old_sources);
	/* The arrays and servers now belong to the pool. */
	u->sources = NULL;
	u->next = NULL;
	u->peers = NULL;
	u->eligible = NULL;
	u->ncreated = 0;
	pool_update_free(u);
}

int
server_usable(const struct server *s)
{
	return load_relaxed(&s->health) == SERVER_UP &&
	    load_relaxed(&s->admin) == SERVER_ENABLED;
}

/* 1 when <s> may take one more connection. */
static int
server_available(const struct server *s)
{
	int	max = s->max_connections;

	return server_usable(s) && (max == 0 || load_relaxed(&s->active) < max);
}

/* Marks the eligible servers of one class; returns how many. */
static int
mark_eligible(struct pool *pool, int backup, uint64_t tried)
{
	int	i, count = 0;

	for (i = 0; i < pool->nservers; i++) {
		pool->eligible[i] = pool->servers[i]->backup == backup &&
		    (i >= 64 || !(tried & (1ULL << i))) &&
		    server_available(pool->servers[i]);
		count += pool->eligible[i];
	}
	return count;
}

/*
 * Under the lock: the next source of <s>'s family in <s>'s own turn (a
 * turn per server: TIME_WAIT ports are per source and server, and one
 * turn for the pool would pair each server with one source whenever the
 * pick alternates in step with it), or len 0.
 */
static void
next_source(struct pool *pool, struct server *s, struct sockaddr_storage *ss,
    socklen_t *len)
{
	const struct addr	*a;
	int			 i;

	*len = 0;
	for (i = 0; i < pool->nsources; i++) {
		a = &pool->sources[s->source_next++ %
		    (unsigned)pool->nsources];
		if (a->ss.ss_family == s->addr.ss.ss_family) {
			*ss = a->ss;
			*len = a->len;
			return;
		}
	}
}

/*
 * mode single, under the lock: the index of the server for a new
 * connection (see pool_pick() in pool.h), updating pool->current; -1 when
 * none is usable or the current one is full.
 */
static int
pick_single(struct pool *pool)
{
	struct server	*s;
	int		 i, cur = -1, first = -1, cur_backup = 0;
	int		 first_backup = 0, max;

	for (i = 0; i < pool->nservers; i++) {
		s = pool->servers[i];
		if (!server_usable(s))
			continue;
		if (pool->current != NULL && s == pool->current) {
			cur = i;
			cur_backup = s->backup;
		}
		if (first == -1 || (first_backup && !s->backup)) {
			first = i;
			first_backup = s->backup;
		}
	}
	/* The current one stays, unless it is a backup and a primary is back. */
	i = cur != -1 && (!cur_backup || first_backup) ? cur : first;
	if (i == -1) {
		pool->current = NULL;
		return -1;
	}
	s = pool->current = pool->servers[i];
	max = s->max_connections;
	return max != 0 && load_relaxed(&s->active) >= max ? -1 : i;
}

int
pool_pick(struct pool *pool, struct pick *out)
{
	int	i = -1;

	pthread_mutex_lock(&pool->lock);
	if (pool->mode == POOL_MODE_SINGLE)
		i = pick_single(pool);
	else if (mark_eligible(pool, 0, out->tried) > 0 ||
	    mark_eligible(pool, 1, out->tried) > 0)
		i = swrr_pick(pool->peers, pool->eligible, pool->nservers);
	if (i != -1) {
		out->server = pool->servers[i];
		if (i < 64)
			out->tried |= 1ULL << i;
		/* Under the lock, so max_connections is never overshot. */
		add_relaxed(&out->server->active, 1);
		next_source(pool, out->server, &out->source,
		    &out->source_len);
		out->nsources = pool->nsources;
	}
	pthread_mutex_unlock(&pool->lock);
	return i == -1 ? -1 : 0;
}

int
pool_another_source(struct pool *pool, struct server *s,
    struct sockaddr_storage *ss, socklen_t *len)
{
	pthread_mutex_lock(&pool->lock);
	next_source(pool, s, ss, len);
	pthread_mutex_unlock(&pool->lock);
	return *len != 0 ? 0 : -1;
}

void
pool_release(struct server *s)
{
	sub_release(&s->active, 1);
}

int
pool_report(struct server *s, int ok)
{
	if (!ok)
		return add_relaxed(&s->passive_fails, 1);
	if (load_relaxed(&s->passive_fails) != 0)
		store_relaxed(&s->passive_fails, 0);
	return 0;
}

int
pool_can_serve(struct pool *pool)
{
	int	i, ok = 0;

	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < pool->nservers && !ok; i++)
		ok = server_available(pool->servers[i]);
	pthread_mutex_unlock(&pool->lock);
	return ok;
}

void
pool_tick(struct pool *pool)
{
	struct server	*cur;
	int		 i, up = 0, was = load_relaxed(&pool->servers_up);

	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < pool->nservers; i++)
		up += load_relaxed(&pool->servers[i]->health) == SERVER_UP;
	if (pool->mode == POOL_MODE_SINGLE && (pool->current == NULL ||
	    !server_usable(pool->current)))
		(void)pick_single(pool);	/* as the next pick would */
	cur = pool->mode == POOL_MODE_SINGLE ? pool->current : NULL;
	pthread_mutex_unlock(&pool->lock);
	store_relaxed(&pool->servers_up, up);
	if (pool->mode != POOL_MODE_SINGLE)
		return;
	if (cur != pool->logged) {
		if (cur != NULL)
			log_info("pool %s: new connections go to %s (mode "
			    "single)", pool->name, cur->addr.text);
		else
			log_warnx("pool %s: no server can take new "
			    "connections (mode single)", pool->name);
		pool->logged = cur;
	}
	if (up > 1 && up != was)
		log_warnx("pool %s: %d servers pass their checks; mode single "
		    "keeps new connections on %s", pool->name, up,
		    cur != NULL ? cur->addr.text : "none");
}

struct server *
pool_find_server(struct pool *pool, const char *text)
{
	struct addr	 a;
	const char	*why;

	if (addr_parse(text, &a, &why) == -1)
		return NULL;
	return find_by_addr(pool->servers, pool->nservers, &a);
}

void
pool_set_weight(struct pool *pool, struct server *s, int w)
{
	int	i;

	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < pool->nservers; i++) {
		if (pool->servers[i] == s)
			pool->peers[i].weight = w;
		pool->peers[i].current = 0;
	}
	s->weight = w;
	pthread_mutex_unlock(&pool->lock);
}

int
server_set_health(struct server *s, enum server_health h)
{
	if (load_relaxed(&s->health) == (int)h)
		return 0;
	store_relaxed(&s->health, (int)h);
	if (h == SERVER_UP)
		return 0;
	/* Release: a worker that sees the new generation sees it down. */
	add_release(&s->down_gen, 1);
	return load_relaxed(&s->on_down) == ON_DOWN_RESET;
}

int
server_set_admin(struct server *s, enum server_admin a)
{
	if (load_relaxed(&s->admin) == (int)a)
		return 0;
	store_relaxed(&s->admin, (int)a);
	return 1;
}

const char *
server_state_name(const struct server *s)
{
	switch (load_relaxed(&s->admin)) {
	case SERVER_DISABLED:
		return "disabled";
	case SERVER_DRAINING:
		return "draining";
	default:
		return load_relaxed(&s->health) == SERVER_UP ? "up" : "down";
	}
}

/* 0 when <a> can be bound as a source, else -1 with errno. */
static int
source_bindable(const struct addr *a)
{
	int	fd, r, err;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	r = setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &(int){1},
	    sizeof(int));
	if (r == 0)
		r = bind(fd, (const struct sockaddr *)&a->ss, a->len);
	err = errno;
	close(fd);
	errno = err;
	return r;
}

int
pool_check_sources(const struct conf *conf, char **err)
{
	const struct conf_pool	*cp;
	int			 i, j;

	*err = NULL;
	for (i = 0; i < conf->npools; i++) {
		cp = &conf->pools[i];
		for (j = 0; j < cp->nsources; j++) {
			if (source_bindable(&cp->sources[j]) == 0)
				continue;
			if (asprintf(err, "pool '%s': cannot bind source "
			    "address %s: %s%s", cp->name, cp->sources[j].text,
			    log_strerror(errno), errno == EADDRNOTAVAIL ?
			    " (not an address of this host)" : "") == -1)
				*err = NULL;
			return -1;
		}
	}
	return 0;
}

/*
 * health.c: the core of the active checks (keepalived check_api.c + the
 * checkers' shared scheduling): when each check runs, rise/fall, state
 * changes and passive counting.  What one check does is its kind's
 * (health_kind.h): health_tcp.c (tcp, send-expect, http, the probe) and
 * health_exec.c (exec).
 *
 * One struct check per checked server, reached through server->check.
 * A check is always armed in the timer heap: while idle its timer is the
 * next start, while running it is the deadline.  One timerfd, armed at the
 * heap's first deadline, wakes the main loop.
 *
 * Freeing: health_sync() runs inside an epoll batch (a SIGHUP handler), so
 * a dropped check may still have an event queued in that batch.  It is
 * marked dead, its fds closed, and freed by health_tick() after the batch.
 * A stale event for a reused fd number is harmless: every kind checks its
 * phase and treats EAGAIN/ENOTCONN as "not yet".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "atomic.h"
#include "clock.h"
#include "health.h"
#include "health_kind.h"
#include "local.h"
#include "log.h"
#include "loop.h"
#include "pool.h"
#include "reload.h"
#include "timer.h"

#define SPREAD_MAX_MS	100	/* first checks spread over at most this */

static struct {
	struct timer_heap heap;
	struct handler	 tfd;
	uint64_t	 armed_at;	/* what the timerfd is set to, 0 = off */
	struct check	*all;		/* live checks, and killed commands
					   still to reap */
	struct check	*dead;		/* to free after the batch */
	unsigned	 spread;	/* counter for first-check offsets */
	int		 polling;	/* some check has nothing to watch */
	int		 resets;	/* a server of a reset pool went down */
	/* health_prepare(): one spare per server of a checked pool, in
	 * config order, for health_sync() to take from. */
	struct check	**spares;
	int		 nspares;
} hc = { .tfd = { NULL, NULL, -1 } };

/* The kinds, by enum health_type (HEALTH_NONE has no check). */
static const struct health_kind *const kinds[] = {
	[HEALTH_TCP] = &health_tcp_kind,
	[HEALTH_SEND_EXPECT] = &health_send_expect_kind,
	[HEALTH_HTTP] = &health_http_kind,
	[HEALTH_EXEC] = &health_exec_kind,
};

/* ---------------------------------------------------------------- util */

static void
rearm(void)
{
	struct itimerspec	 its;
	struct timer		*t = timer_first(&hc.heap);
	uint64_t		 at = t != NULL ? t->at : 0, poll;

	if (hc.polling) {
		poll = clock_ms() + POLL_MS;
		if (at == 0 || poll < at)
			at = poll;
	}
	if (hc.tfd.fd == -1 || at == hc.armed_at)
		return;
	memset(&its, 0, sizeof(its));
	if (at != 0) {
		/* 0 would disarm: a deadline at the epoch fires at once. */
		its.it_value.tv_sec = (time_t)(at / 1000);
		its.it_value.tv_nsec = (long)(at % 1000) * 1000000 + 1;
	}
	if (timerfd_settime(hc.tfd.fd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		log_warn("health: timerfd_settime");
	else
		hc.armed_at = at;
}

void
health_arm(struct check *c, uint64_t at)
{
	timer_move(&hc.heap, &c->timer, at);
}

int
health_poll_on(void)
{
	int	was = hc.polling;

	hc.polling = 1;
	return was;
}

void
health_errno_reason(struct check *c, const char *what, int err)
{
	int	n;

	n = snprintf(c->reason, sizeof(c->reason), "%s%s%s",
	    what ? what : "", what ? ": " : "", log_strerror(err));
	if (n > 0 && what == NULL && c->reason[0] >= 'A' &&
	    c->reason[0] <= 'Z')
		c->reason[0] = (char)(c->reason[0] - 'A' + 'a');
}

void
health_quote(char *out, size_t outlen, const char *in, size_t max)
{
	size_t	o = 0, i;
	char	tmp[8];
	unsigned char ch;

	for (i = 0; i < max && in[i] != '\0'; i++) {
		ch = (unsigned char)in[i];
		if (ch == '\r')
			snprintf(tmp, sizeof(tmp), "\\r");
		else if (ch == '\n')
			snprintf(tmp, sizeof(tmp), "\\n");
		else if (ch == '\t')
			snprintf(tmp, sizeof(tmp), "\\t");
		else if (ch < 0x20 || ch >= 0x7f || ch == '\'' || ch == '\\')
			snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
		else
			snprintf(tmp, sizeof(tmp), "%c", ch);
		if (o + strlen(tmp) + 4 >= outlen)
			break;
		memcpy(out + o, tmp, strlen(tmp));
		o += strlen(tmp);
	}
	if (in[i] != '\0')
		o += (size_t)snprintf(out + o, outlen - o, "...");
	out[o] = '\0';
}

/* ------------------------------------------------------------- verdicts */

/* Takes the server of <c> up or down (pool.c does the bookkeeping). */
static void
set_health(struct check *c, int up)
{
	/*
	 * on_server_down = "reset": the main loop wakes the workers
	 * (health_resets()) to reset the server's connections.
	 */
	if (server_set_health(c->server, up ? SERVER_UP : SERVER_DOWN))
		hc.resets = 1;
}

void
health_verdict(struct check *c, int ok)
{
	int	up = load_relaxed(&c->server->health) == SERVER_UP;

	if (ok && c->marked_at != 0 && c->started <= c->marked_at) {
		/*
		 * Passed, but it began before the workers' connects failed:
		 * it says nothing about the server since (health.h).
		 */
		c->nok++;
		log_debug("server %s: check passed but began before the "
		    "passive mark-down: not counted", c->name);
		return;
	}
	if (ok) {
		c->nok++;
		c->oks++;
		c->fails = 0;
		log_debug("server %s: check passed (%d in a row)", c->name,
		    c->oks);
		if (!up && (!c->spoken || c->oks >= c->cfg.rise)) {
			set_health(c, 1);
			c->marked_at = 0;
			log_info("server %s is up", c->name);
		}
	} else {
		c->nfail++;
		c->fails++;
		c->oks = 0;
		log_debug("server %s: check failed (%d in a row): %s",
		    c->name, c->fails, c->reason);
		if (up && c->fails >= c->cfg.fall) {
			set_health(c, 0);
			log_warnx("server %s is down: %s", c->name, c->reason);
		} else if (!up && !c->spoken) {
			/* Down from the start: say why, once. */
			log_warnx("server %s is down: %s", c->name, c->reason);
		}
	}
	c->spoken = 1;
}

void
health_close(struct handler *h)
{
	if (h->fd == -1)
		return;
	loop_del(h);
	close(h->fd);
	h->fd = -1;
}

static void
free_req(struct check *c)
{
	free(c->req);
	c->req = NULL;
	c->reqlen = c->reqoff = 0;
	c->nbuf = 0;
}

void
health_finish(struct check *c, int ok)
{
	uint64_t	now = clock_ms(), next;

	health_close(&c->h);
	health_close(&c->out);
	free_req(c);
	c->phase = PHASE_IDLE;
	c->run = c->kind;
	if (c->server != NULL)
		health_verdict(c, ok);
	next = c->started + (uint64_t)c->cfg.interval_ms;
	health_arm(c, next > now ? next : now);
}

void
health_finish_local(struct check *c, int err)
{
	uint64_t	now = clock_ms(), next;

	local_error(LOCAL_MAIN_SLOT, (enum local_reason)local_reason_of(err),
	    err, c->name, now);
	health_close(&c->h);
	free_req(c);
	c->phase = PHASE_IDLE;
	next = c->started + (uint64_t)c->cfg.interval_ms;
	health_arm(c, next > now ? next : now);
}

/* ------------------------------------------------------------- events */

static void
check_event(struct handler *h, uint32_t events)
{
	struct check	*c = h->arg;

	(void)events;
	/* Idle or dead: stale, the check ended in this batch. */
	if (c->phase != PHASE_IDLE && c->phase != PHASE_DEAD)
		c->run->event(c);
	rearm();
}

static void
start(struct check *c, uint64_t now)
{
	c->started = now;
	c->reason[0] = '\0';
	health_arm(c, now + (uint64_t)c->cfg.timeout_ms);
	/*
	 * Marked down by the workers' failed connects: the check proper may
	 * ask another port (a Patroni REST API that still says 200 while its
	 * PostgreSQL shuts down), so the server's own port must accept a
	 * connection first; only that disproves what the workers saw.
	 */
	c->run = c->marked_at != 0 ? &health_probe_kind : c->kind;
	c->run->start(c);
}

/* Handles the timer of <c>: a start, or a deadline of what runs. */
static void
timer_due(struct check *c, uint64_t now)
{
	switch (c->phase) {
	case PHASE_IDLE:
		if (c->server != NULL)
			start(c, now);
		else
			timer_del(&hc.heap, &c->timer);
		break;
	case PHASE_DEAD:
		timer_del(&hc.heap, &c->timer);
		break;
	default:
		c->run->expire(c, now);
	}
}

/* Polls the checks that have nothing to watch; clears hc.polling when
 * none is left. */
static void
poll_checks(void)
{
	struct check	*c;
	int		 left = 0;

	if (!hc.polling)
		return;
	for (c = hc.all; c != NULL; c = c->next)
		if (c->run->poll != NULL)
			left += c->run->poll(c);
	hc.polling = left > 0;
}

static void
run_due(uint64_t now)
{
	struct timer	*t;
	struct check	*c;

	while ((t = timer_first(&hc.heap)) != NULL && t->at <= now) {
		c = (struct check *)((char *)t - offsetof(struct check,
		    timer));
		timer_due(c, now);
		/* A handler always moves its timer forward or drops it. */
	}
}

static void
on_timer(struct handler *h, uint32_t events)
{
	uint64_t	expirations;

	(void)events;
	while (read(h->fd, &expirations, sizeof(expirations)) > 0)
		;
	hc.armed_at = 0;
	poll_checks();
	run_due(clock_ms());
	rearm();
}

/* ------------------------------------------------------------- life */

/* A check of <pool>/<addr> with <cfg>, not attached yet; NULL on ENOMEM. */
static struct check *
check_build(const char *pool, const char *addr, const struct conf_health *cfg)
{
	struct check	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (conf_health_copy(&c->cfg, cfg) == -1) {	/* c->cfg left empty */
		free(c);
		return NULL;
	}
	if (asprintf(&c->name, "%s/%s", pool, addr) == -1) {
		conf_health_free(&c->cfg);
		free(c);
		return NULL;
	}
	c->kind = c->run = kinds[cfg->type];
	c->h = (struct handler){ check_event, c, -1 };
	c->out = (struct handler){ NULL, c, -1 };
	c->timer.idx = -1;
	return c;
}

/* Copies the source addresses of <cp> into <c>.  Returns 0 or -1. */
static int
check_sources(struct check *c, const struct conf_pool *cp)
{
	if (cp->nsources == 0)
		return 0;
	if ((c->sources = calloc((size_t)cp->nsources,
	    sizeof(*c->sources))) == NULL)
		return -1;
	memcpy(c->sources, cp->sources,
	    sizeof(*c->sources) * (size_t)cp->nsources);
	c->nsources = cp->nsources;
	return 0;
}

/* Attaches the spare <c> to <s> and arms it (room reserved: cannot fail). */
static void
check_attach(struct check *c, struct server *s, uint64_t now)
{
	unsigned	spread;

	c->server = s;
	c->port = s->health_port != 0 ? s->health_port : c->cfg.port;
	/* The first check runs at once (health.h); many spread over some
	 * ms. */
	spread = (unsigned)c->cfg.interval_ms / 4;
	if (spread > SPREAD_MAX_MS)
		spread = SPREAD_MAX_MS;
	if (spread == 0)
		spread = 1;
	(void)timer_add(&hc.heap, &c->timer, now + hc.spread++ % spread);
	/* Up already (a kept server that was not checked): fall applies. */
	c->spoken = load_relaxed(&s->health) == SERVER_UP;
	c->next = hc.all;
	hc.all = c;
	s->check = c;
}

/* Ends whatever <c> is running, without a verdict. */
static void
check_abort(struct check *c)
{
	if (c->run->abort != NULL)
		c->run->abort(c);
	if (c->phase != PHASE_REAP) {
		health_close(&c->h);
		health_close(&c->out);
		c->phase = PHASE_IDLE;
	}
	free_req(c);
}

/*
 * Detaches <c> from its server.  It is freed after the batch, or once its
 * killed command has been reaped.
 */
static void
check_drop(struct check *c)
{
	check_abort(c);
	if (c->server != NULL)
		c->server->check = NULL;
	c->server = NULL;
	if (c->phase != PHASE_REAP) {
		c->phase = PHASE_DEAD;
		timer_del(&hc.heap, &c->timer);
	}
}

static void
check_free(struct check *c)
{
	if (c == NULL)
		return;
	timer_del(&hc.heap, &c->timer);
	health_close(&c->h);
	health_close(&c->out);
	free_req(c);
	conf_health_free(&c->cfg);
	free(c->sources);
	free(c->name);
	free(c);
}

/* Moves dead checks from hc.all to hc.dead. */
static void
collect_dead(void)
{
	struct check	**pp = &hc.all, *c;

	while ((c = *pp) != NULL) {
		if (c->phase == PHASE_DEAD) {
			*pp = c->next;
			c->next = hc.dead;
			hc.dead = c;
		} else
			pp = &c->next;
	}
}

int
health_init(void)
{
	timer_heap_init(&hc.heap);
	hc.tfd.fn = on_timer;
	hc.tfd.arg = NULL;
	hc.tfd.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC);
	if (hc.tfd.fd == -1)
		return -1;
	if (loop_add(&hc.tfd, EPOLLIN) == -1) {
		close(hc.tfd.fd);
		hc.tfd.fd = -1;
		return -1;
	}
	return 0;
}

/*
 * Brings the check of server <s> of <pool> in line with the pool, with
 * <spare> (from health_prepare(), NULL for an unchecked pool) as the new
 * check or the source of the new settings.  Returns 1 when it used
 * <spare> as a check, 0 when the spare is still the caller's.
 */
static int
sync_server(struct pool *pool, struct server *s, struct check *spare,
    uint64_t now)
{
	struct check		*c = s->check;
	struct conf_health	 old;
	struct addr		*sources;
	int			 nsources;
	int			 port;

	if (pool->health.type == HEALTH_NONE) {
		if (c == NULL)
			return 0;
		check_drop(c);
		if (load_relaxed(&s->health) != SERVER_UP) {
			(void)server_set_health(s, SERVER_UP);
			log_info("server %s/%s is up: its pool has no health "
			    "check any more", s->pool_name, s->addr.text);
		}
		return 0;
	}
	if (spare == NULL)	/* no health_prepare(): cannot happen */
		return 0;
	if (c == NULL) {
		check_attach(spare, s, now);
		return 1;
	}
	/* The pool's source addresses, prepared in the spare. */
	sources = c->sources;
	nsources = c->nsources;
	c->sources = spare->sources;
	c->nsources = spare->nsources;
	spare->sources = sources;
	spare->nsources = nsources;
	port = s->health_port != 0 ? s->health_port : pool->health.port;
	if (conf_health_equal(&c->cfg, &pool->health) && c->port == port)
		return 0;
	/* New settings: restart the check, keep the state and counts.  The
	 * spare, freed by the caller, takes the old settings with it.  A
	 * command still to reap keeps c->run (exec) until it is. */
	check_abort(c);
	old = c->cfg;
	c->cfg = spare->cfg;
	spare->cfg = old;
	c->kind = kinds[c->cfg.type];
	c->port = port;
	c->oks = c->fails = 0;
	health_arm(c, now);
	return 0;
}

static void
spares_free(void)
{
	int	i;

	for (i = 0; i < hc.nspares; i++)
		check_free(hc.spares[i]);
	free(hc.spares);
	hc.spares = NULL;
	hc.nspares = 0;
}

int
health_prepare(const struct conf *conf)
{
	const struct conf_pool	*cp;
	struct check		*c;
	int			 i, j, n = 0;

	spares_free();
	for (i = 0; i < conf->npools; i++)
		if (conf->pools[i].health.type != HEALTH_NONE)
			n += conf->pools[i].nservers;
	if (timer_reserve(&hc.heap, n) == -1 ||
	    (hc.spares = calloc((size_t)n + 1, sizeof(struct check *))) == NULL)
		return -1;
	for (i = 0; i < conf->npools; i++) {
		cp = &conf->pools[i];
		for (j = 0; cp->health.type != HEALTH_NONE &&
		    j < cp->nservers; j++) {
			c = check_build(cp->name, cp->servers[j].addr.text,
			    &cp->health);
			if (c != NULL)
				hc.spares[hc.nspares++] = c;
			if (c == NULL || check_sources(c, cp) == -1) {
				spares_free();
				return -1;
			}
		}
	}
	return 0;
}

void
health_abort(void)
{
	spares_free();
}

void
health_sync(struct state *st)
{
	struct check	*c, *spare;
	struct server	*s;
	uint64_t	 now = clock_ms();
	int		 i, j, k = 0;

	for (c = hc.all; c != NULL; c = c->next)
		c->seen = 0;
	for (i = 0; i < st->npools; i++)
		for (j = 0; j < st->pools[i]->nservers; j++) {
			s = st->pools[i]->servers[j];
			spare = NULL;
			if (st->pools[i]->health.type != HEALTH_NONE &&
			    k < hc.nspares)
				spare = hc.spares[k++];
			if (sync_server(st->pools[i], s, spare, now))
				hc.spares[k - 1] = NULL;
			if (s->check != NULL)
				((struct check *)s->check)->seen = 1;
		}
	spares_free();
	/*
	 * The others belong to servers that left (retired, not freed yet:
	 * state_collect() runs after this) or to pools that went.
	 */
	for (c = hc.all; c != NULL; c = c->next)
		if (c->server != NULL && !c->seen)
			check_drop(c);
	rearm();
}

/*
 * Passive counting: a server up whose workers counted <fall> failed
 * connects in a row goes down, marked at <now> (health.h).
 */
static void
passive_mark(struct check *c, uint64_t now)
{
	int	fails;

	fails = load_relaxed(&c->server->passive_fails);
	if (fails < c->cfg.fall)
		return;
	store_relaxed(&c->server->passive_fails, 0);
	if (load_relaxed(&c->server->health) != SERVER_UP)
		return;
	snprintf(c->reason, sizeof(c->reason), "%d failed connects from "
	    "workers", fails);
	set_health(c, 0);
	c->oks = 0;
	c->fails = 0;
	c->spoken = 1;
	c->marked_at = now;
	log_warnx("server %s is down: %s", c->name, c->reason);
}

void
health_tick(uint64_t now)
{
	struct check	*c;

	for (c = hc.all; c != NULL; c = c->next)
		if (c->server != NULL)
			passive_mark(c, now);
	poll_checks();
	run_due(now);
	collect_dead();
	while ((c = hc.dead) != NULL) {
		hc.dead = c->next;
		check_free(c);
	}
	rearm();
}

void
health_shutdown(void)
{
	struct check	*c;

	collect_dead();
	while ((c = hc.all) != NULL) {
		hc.all = c->next;
		if (c->run->exit != NULL)
			c->run->exit(c);
		if (c->server != NULL)
			c->server->check = NULL;
		check_free(c);
	}
	while ((c = hc.dead) != NULL) {
		hc.dead = c->next;
		check_free(c);
	}
	timer_heap_free(&hc.heap);
	health_close(&hc.tfd);
	hc.armed_at = 0;
}

int
health_resets(void)
{
	int	r = hc.resets;

	hc.resets = 0;
	return r;
}

void
health_checks(const struct server *s, uint64_t *ok, uint64_t *fail)
{
	const struct check	*c = s->check;

	*ok = c != NULL ? c->nok : 0;
	*fail = c != NULL ? c->nfail : 0;
}

const char *
health_reason(const struct server *s)
{
	const struct check	*c = s->check;

	return c != NULL ? c->reason : "";
}

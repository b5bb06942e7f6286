/*
 * ctl.c: control commands (relayd control.c).  Every reply ends with
 * "ok" or "error: ..." on its own line, so lb4ctl can turn it into an
 * exit status without knowing the command.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "health.h"
#include "listener.h"
#include "log.h"
#include "oneshot.h"
#include "pool.h"
#include "reload.h"
#include "vrrp.h"

#define MAX_WORDS	8
#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

struct ctl {
	struct state	*st;
	ctl_reload_fn	 reload;
};

static struct ctl	ctl;

static int
split(char *line, char **words)
{
	int	n = 0;
	char	*w, *save = NULL;

	for (w = strtok_r(line, " \t\r\n", &save); w != NULL;
	    w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_WORDS)
			return -1;
		words[n++] = w;
	}
	return n;
}

static void
show_servers(struct state *st, struct text *r)
{
	struct server	*s;
	int		 i, j, n = st->nworkers + 1;

	for (i = 0; i < st->npools; i++) {
		for (j = 0; j < st->pools[i]->nservers; j++) {
			s = st->pools[i]->servers[j];
			text_printf(r, "%s %s %s weight=%d%s active=%d "
			    "total=%llu", s->pool_name, s->addr.text,
			    server_state_name(s), s->weight,
			    s->backup ? " backup" : "", LOAD(&s->active),
			    (unsigned long long)stats_sum(s->stats, n,
			    STAT_CONNS_TOTAL));
			/* Why a server is down, last, so parsers of the
			 * fields before it are not disturbed. */
			if (LOAD(&s->health) == SERVER_DOWN &&
			    *health_reason(s) != '\0')
				text_printf(r, " reason=\"%s\"",
				    health_reason(s));
			text_printf(r, "\n");
		}
	}
	text_printf(r, "ok\n");
}

static void
show_stats(struct state *st, struct text *r)
{
	struct listener	*l;
	struct pool	*p;
	struct pinned	 pinned;
	int		 i, j, up, n = st->nworkers + 1;

	for (i = 0; i < st->nlisteners; i++) {
		l = st->listeners[i];
		text_printf(r, "listener %s pool=%s connections=%llu "
		    "active=%llu bytes_in=%llu bytes_out=%llu denied=%llu\n",
		    l->name, l->route->pool->name,
		    (unsigned long long)stats_sum(l->stats, n, STAT_CONNS_TOTAL),
		    (unsigned long long)stats_sum(l->stats, n,
		    STAT_CONNS_ACTIVE),
		    (unsigned long long)stats_sum(l->stats, n, STAT_BYTES_C2S),
		    (unsigned long long)stats_sum(l->stats, n, STAT_BYTES_S2C),
		    (unsigned long long)stats_sum(l->stats, n, STAT_DENIED));
	}
	for (i = 0; i < st->npools; i++) {
		p = st->pools[i];
		for (j = up = 0; j < p->nservers; j++)
			up += strcmp(server_state_name(p->servers[j]), "up")
			    == 0;
		text_printf(r, "pool %s servers=%d up=%d\n", p->name,
		    p->nservers, up);
	}
	text_printf(r, "reloads ok=%lu failed=%lu last=%s\n", st->reloads_ok,
	    st->reloads_failed, st->last_reload_ok ? "success" : "failure");
	state_pinned(st, &pinned);
	text_printf(r, "pinned generations=%d servers=%d\n", pinned.routes,
	    pinned.servers);
	text_printf(r, "ok\n");
}

/* Finds POOL ADDRESS or says why not. */
static struct server *
find_server(struct state *st, const char *pool, const char *addr,
    struct text *r)
{
	struct pool	*p;
	struct server	*s;

	if ((p = state_find_pool(st, pool)) == NULL) {
		text_printf(r, "error: no pool '%s'\n", pool);
		return NULL;
	}
	if ((s = pool_find_server(p, addr)) == NULL)
		text_printf(r, "error: pool '%s' has no server '%s'\n", pool,
		    addr);
	return s;
}

static void
set_admin(struct state *st, char **w, int admin, struct text *r)
{
	struct server	*s;

	if ((s = find_server(st, w[2], w[3], r)) == NULL)
		return;
	if (LOAD(&s->admin) != admin)
		log_info("server %s/%s %s by the operator", s->pool_name,
		    s->addr.text, admin == SERVER_ENABLED ? "enabled" :
		    admin == SERVER_DISABLED ? "disabled" : "draining");
	STORE(&s->admin, admin);
	text_printf(r, "ok\n");
}

static void
set_weight(struct state *st, char **w, struct text *r)
{
	struct server	*s;
	char		*end;
	long		 weight;

	errno = 0;
	weight = strtol(w[4], &end, 10);
	if (errno != 0 || *end != '\0' || end == w[4] || weight < 1 ||
	    weight > 1000) {
		text_printf(r, "error: weight must be an integer between 1 "
		    "and 1000\n");
		return;
	}
	if ((s = find_server(st, w[2], w[3], r)) == NULL)
		return;
	pool_set_weight(state_find_pool(st, w[2]), s, (int)weight);
	log_info("server %s/%s weight set to %ld by the operator",
	    s->pool_name, s->addr.text, weight);
	text_printf(r, "ok\n");
}

static void
health(struct state *st, struct text *r)
{
	char	why[256];

	if (LOAD(&st->rt.stopping))
		text_printf(r, "error: unhealthy: stopping\n");
	else if (!state_healthy(st, why, sizeof(why)))
		text_printf(r, "error: unhealthy: %s\n", why);
	else
		text_printf(r, "ok\n");
}

static void
do_reload(ctl_reload_fn reload, struct text *r)
{
	if (reload(r) == 0)
		text_printf(r, "ok\n");
	else
		text_printf(r, "error: reload failed; the previous "
		    "configuration is still in force\n");
}

/*
 * "vrrp INSTANCE STATE": keepalived's notify script reports a transition.
 * It only records what lb4 exports (lb4_vrrp_state); nothing is changed.
 */
static void
vrrp(char **w, struct text *r)
{
	char	err[128];

	if (vrrp_report(w[1], w[2], err, sizeof(err)) == -1)
		text_printf(r, "error: %s\n", err);
	else
		text_printf(r, "ok\n");
}

void
ctl_execute(struct state *st, ctl_reload_fn reload, const char *line,
    struct text *r)
{
	char	 copy[1024], *w[MAX_WORDS];
	int	 n;

	snprintf(copy, sizeof(copy), "%s", line);
	n = split(copy, w);
	if (n == 2 && !strcmp(w[0], "show") && !strcmp(w[1], "servers"))
		show_servers(st, r);
	else if (n == 2 && !strcmp(w[0], "show") && !strcmp(w[1], "stats"))
		show_stats(st, r);
	else if (n == 4 && !strcmp(w[1], "server") && !strcmp(w[0], "enable"))
		set_admin(st, w, SERVER_ENABLED, r);
	else if (n == 4 && !strcmp(w[1], "server") &&
	    !strcmp(w[0], "disable"))
		set_admin(st, w, SERVER_DISABLED, r);
	else if (n == 4 && !strcmp(w[1], "server") && !strcmp(w[0], "drain"))
		set_admin(st, w, SERVER_DRAINING, r);
	else if (n == 5 && !strcmp(w[0], "set") && !strcmp(w[1], "weight"))
		set_weight(st, w, r);
	else if (n == 1 && !strcmp(w[0], "health"))
		health(st, r);
	else if (n == 1 && !strcmp(w[0], "reload"))
		do_reload(reload, r);
	else if (n == 3 && !strcmp(w[0], "vrrp"))
		vrrp(w, r);
	else if (n == 2 && !strcmp(w[0], "show") && !strcmp(w[1], "vrrp")) {
		vrrp_show(r);
		text_printf(r, "ok\n");
	} else
		text_printf(r, "error: unknown command (try: show servers, "
		    "show stats, show vrrp, enable|disable|drain server POOL "
		    "ADDRESS, set weight POOL ADDRESS N, health, reload, "
		    "vrrp INSTANCE STATE)\n");
}

static void
on_request(void *arg, const char *request, struct text *reply)
{
	struct ctl	*c = arg;

	ctl_execute(c->st, c->reload, request, reply);
}

/* 1 when something accepts connections on <sun> (a live lb4). */
static int
socket_live(const struct sockaddr_un *sun)
{
	int	fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

static void
set_group(const char *path, const char *group)
{
	struct group	*gr;

	if ((gr = getgrnam(group != NULL ? group : "lb4")) == NULL)
		return;
	if (chown(path, (uid_t)-1, gr->gr_gid) == -1)
		log_warn("%s: cannot give the control socket to group %s",
		    path, gr->gr_name);
}

struct oneshot *
ctl_open(const char *path, const char *group, struct state *st,
    ctl_reload_fn reload)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (socket_live(&sun)) {
		log_warnx("control socket %s is in use by another process",
		    path);
		return NULL;
	}
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return NULL;
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 16) == -1) {
		umask(old);
		log_warn("cannot listen on control socket %s", path);
		close(fd);
		return NULL;
	}
	umask(old);
	set_group(path, group);
	ctl.st = st;
	ctl.reload = reload;
	return oneshot_new("control socket", fd, "\n", on_request, &ctl);
}

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
#include "atomic.h"
#include "health.h"
#include "listener.h"
#include "log.h"
#include "oneshot.h"
#include "pool.h"
#include "reload.h"
#include "vrrp.h"

#define MAX_WORDS	8

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

/* The weight text <s> as 1..1000, or -1 (the reply says the range). */
static int
parse_weight(const char *s)
{
	char	*end;
	long	 weight;

	errno = 0;
	weight = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || weight < 1 ||
	    weight > 1000)
		return -1;
	return (int)weight;
}

int
ctl_parse(const char *line, struct ctl_cmd *cmd)
{
	char	*w[MAX_WORDS] = { NULL };
	int	 n;

	memset(cmd, 0, sizeof(*cmd));
	cmd->verb = CTL_UNKNOWN;
	snprintf(cmd->buf, sizeof(cmd->buf), "%s", line);
	n = split(cmd->buf, w);
	if (n == 2 && !strcmp(w[0], "show") && !strcmp(w[1], "servers"))
		cmd->verb = CTL_SHOW_SERVERS;
	else if (n == 2 && !strcmp(w[0], "show") && !strcmp(w[1], "stats"))
		cmd->verb = CTL_SHOW_STATS;
	else if (n == 4 && !strcmp(w[1], "server") && !strcmp(w[0], "enable"))
		cmd->verb = CTL_ENABLE;
	else if (n == 4 && !strcmp(w[1], "server") &&
	    !strcmp(w[0], "disable"))
		cmd->verb = CTL_DISABLE;
	else if (n == 4 && !strcmp(w[1], "server") && !strcmp(w[0], "drain"))
		cmd->verb = CTL_DRAIN;
	else if (n == 5 && !strcmp(w[0], "set") && !strcmp(w[1], "weight")) {
		cmd->verb = CTL_SET_WEIGHT;
		cmd->weight = parse_weight(w[4]);
	} else if (n == 1 && !strcmp(w[0], "health"))
		cmd->verb = CTL_HEALTH;
	else if (n == 1 && !strcmp(w[0], "reload"))
		cmd->verb = CTL_RELOAD;
	if (cmd->verb >= CTL_ENABLE && cmd->verb <= CTL_SET_WEIGHT) {
		cmd->pool = w[2];
		cmd->addr = w[3];
	}
	return cmd->verb == CTL_UNKNOWN ? -1 : 0;
}

static void
show_servers(struct state *st, struct text *r)
{
	struct server	*s;
	int		 n = st->nworkers + 1;

	POOL_EACH_SERVER(s, st->pools, st->npools) {
		text_printf(r, "%s %s %s weight=%d%s active=%d total=%llu",
		    s->pool_name, s->addr.text, server_state_name(s),
		    s->weight, s->backup ? " backup" : "",
		    load_relaxed(&s->active),
		    (unsigned long long)stats_sum(s->stats, n,
		    STAT_CONNS_TOTAL));
		/* Why a server is down, last, so parsers of the fields
		 * before it are not disturbed. */
		if (load_relaxed(&s->health) == SERVER_DOWN &&
		    *health_reason(s) != '\0')
			text_printf(r, " reason=\"%s\"", health_reason(s));
		text_printf(r, "\n");
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
			up += server_usable(p->servers[j]);
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
set_admin(struct state *st, const struct ctl_cmd *cmd,
    enum server_admin admin, struct text *r)
{
	struct server	*s;

	if ((s = find_server(st, cmd->pool, cmd->addr, r)) == NULL)
		return;
	if (server_set_admin(s, admin))
		log_info("server %s/%s %s by the operator", s->pool_name,
		    s->addr.text, admin == SERVER_ENABLED ? "enabled" :
		    admin == SERVER_DISABLED ? "disabled" : "draining");
	text_printf(r, "ok\n");
}

static void
set_weight(struct state *st, const struct ctl_cmd *cmd, struct text *r)
{
	struct server	*s;

	if (cmd->weight == -1) {
		text_printf(r, "error: weight must be an integer between 1 "
		    "and 1000\n");
		return;
	}
	if ((s = find_server(st, cmd->pool, cmd->addr, r)) == NULL)
		return;
	pool_set_weight(state_find_pool(st, cmd->pool), s, cmd->weight);
	log_info("server %s/%s weight set to %d by the operator",
	    s->pool_name, s->addr.text, cmd->weight);
	text_printf(r, "ok\n");
}

static void
health(struct state *st, struct text *r)
{
	char	why[256];

	if (load_relaxed(&st->rt.stopping))
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

/*
 * 1 when the command <v> changes lb4's state.
 * Who may connect is the socket's mode and group (0660, group lb4), so
 * keepalived's script user (lb4-vrrp, in group lb4) can ask for health;
 * changing state is for lb4's own uid and root alone, so that a script
 * user, or any other member of the group, cannot drain or reload lb4.
 */
static int
changes_state(enum ctl_verb v)
{
	return v == CTL_ENABLE || v == CTL_DISABLE || v == CTL_DRAIN ||
	    v == CTL_SET_WEIGHT || v == CTL_RELOAD;
}

void
ctl_execute(struct state *st, ctl_reload_fn reload, uid_t peer,
    const char *line, struct text *r)
{
	struct ctl_cmd	 cmd;
	char		 word[16] = "", copy[1024], *w[MAX_WORDS];
	int		 n;

	ctl_parse(line, &cmd);
	if (changes_state(cmd.verb) && peer != 0 && peer != geteuid()) {
		(void)sscanf(line, "%15s", word);
		if (peer == (uid_t)-1)
			text_printf(r, "error: permission denied: '%s' "
			    "changes lb4's state; the client's uid is "
			    "unknown\n", word);
		else
			text_printf(r, "error: permission denied: '%s' "
			    "changes lb4's state and is accepted only from "
			    "uid %u (lb4's own) or root, not uid %u\n", word,
			    (unsigned)geteuid(), (unsigned)peer);
		log_info("control socket: refused '%s' from uid %ld", word,
		    peer == (uid_t)-1 ? -1L : (long)peer);
		return;
	}
	switch (cmd.verb) {
	case CTL_SHOW_SERVERS:
		show_servers(st, r);
		break;
	case CTL_SHOW_STATS:
		show_stats(st, r);
		break;
	case CTL_ENABLE:
		set_admin(st, &cmd, SERVER_ENABLED, r);
		break;
	case CTL_DISABLE:
		set_admin(st, &cmd, SERVER_DISABLED, r);
		break;
	case CTL_DRAIN:
		set_admin(st, &cmd, SERVER_DRAINING, r);
		break;
	case CTL_SET_WEIGHT:
		set_weight(st, &cmd, r);
		break;
	case CTL_HEALTH:
		health(st, r);
		break;
	case CTL_RELOAD:
		do_reload(reload, r);
		break;
	case CTL_UNKNOWN:
	default:
		/* Reports and reads, for anyone who may connect: not in
		 * ctl_parse(), which knows the commands that act. */
		snprintf(copy, sizeof(copy), "%s", line);
		n = split(copy, w);
		if (n == 3 && !strcmp(w[0], "vrrp"))
			vrrp(w, r);
		else if (n == 2 && !strcmp(w[0], "show") &&
		    !strcmp(w[1], "vrrp")) {
			vrrp_show(r);
			text_printf(r, "ok\n");
		} else
			text_printf(r, "error: unknown command (try: show "
			    "servers, show stats, show vrrp, enable|disable|"
			    "drain server POOL ADDRESS, set weight POOL ADDRESS "
			    "N, health, reload, vrrp INSTANCE STATE)\n");
		break;
	}
}

static void
on_request(void *arg, uid_t peer_uid, const char *request, struct text *reply)
{
	struct ctl	*c = arg;

	ctl_execute(c->st, c->reload, peer_uid, request, reply);
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

	/* Only the main thread reads the group database (see priv.c). */
	/* NOLINTNEXTLINE(concurrency-mt-unsafe) */
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

/*
 * metrics.c: the Prometheus exposition.  Each family gets # HELP and
 * # TYPE once, then one sample per label set.  Label values (names from
 * the config, addresses) contain no quote, backslash or newline: conf.c
 * accepts no such names... but escape anyway, an operator may try.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomic.h"
#include "connlog.h"
#include "health.h"
#include "listener.h"
#include "local.h"
#include "log.h"
#include "metrics.h"
#include "oneshot.h"
#include "pool.h"
#include "reload.h"
#include "statuspage.h"
#include "version.h"
#include "vrrp.h"

/* Escapes a label value into <buf> per the exposition format. */
static const char *
esc(const char *s, char *buf, size_t len)
{
	size_t	i = 0;

	for (; *s != '\0' && i + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[i++] = '\\';
		if (*s == '\n') {
			buf[i++] = '\\';
			buf[i++] = 'n';
			continue;
		}
		buf[i++] = *s;
	}
	buf[i] = '\0';
	return buf;
}

static void
family(struct text *t, const char *name, const char *type, const char *help)
{
	text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
listener_metrics(struct state *st, struct text *t)
{
	static const struct {
		const char	*name, *type, *help;
		int		 stat;
	} fams[] = {
		{ "lb4_connections_total", "counter",
		    "Client connections accepted.", STAT_CONNS_TOTAL },
		{ "lb4_connections_active", "gauge",
		    "Client connections open now.", STAT_CONNS_ACTIVE },
		{ "lb4_connections_denied_total", "counter",
		    "Client connections refused by allow/deny.", STAT_DENIED },
	};
	char		 b[256];
	struct listener	*l;
	size_t		 f;
	int		 i, n = st->nworkers + 1;

	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(t, fams[f].name, fams[f].type, fams[f].help);
		for (i = 0; i < st->nlisteners; i++) {
			l = st->listeners[i];
			text_printf(t, "%s{listener=\"%s\"} %llu\n",
			    fams[f].name, esc(l->name, b, sizeof(b)),
			    (unsigned long long)stats_sum(l->stats, n,
			    fams[f].stat));
		}
	}
	family(t, "lb4_bytes_total", "counter",
	    "Bytes forwarded, by listener and direction.");
	for (i = 0; i < st->nlisteners; i++) {
		l = st->listeners[i];
		esc(l->name, b, sizeof(b));
		text_printf(t, "lb4_bytes_total{listener=\"%s\","
		    "direction=\"client_to_server\"} %llu\n", b,
		    (unsigned long long)stats_sum(l->stats, n, STAT_BYTES_C2S));
		text_printf(t, "lb4_bytes_total{listener=\"%s\","
		    "direction=\"server_to_client\"} %llu\n", b,
		    (unsigned long long)stats_sum(l->stats, n, STAT_BYTES_S2C));
	}
}

/*
 * Writes one histogram sample set: cumulative buckets from per-bucket
 * counters <first>.. of <stats> (<n> slots), the bounds in <unit>s.
 */
static void
histogram(struct text *t, const char *name, const char *labels,
    const struct stats_slot *stats, int n, int first, int nb,
    const uint64_t *bounds, double unit, int sum_stat)
{
	unsigned long long	cum = 0;
	int			i;

	for (i = 0; i < nb; i++) {
		cum += stats_sum(stats, n, (enum stat_id)(first + i));
		if (bounds[i] == UINT64_MAX)
			text_printf(t, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name,
			    labels, cum);
		else
			text_printf(t, "%s_bucket{%s,le=\"%g\"} %llu\n", name,
			    labels, (double)bounds[i] * unit, cum);
	}
	text_printf(t, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels,
	    (double)stats_sum(stats, n, (enum stat_id)sum_stat) * unit, name,
	    labels, cum);
}

static void
end_metrics(struct state *st, struct text *t)
{
	char		 b[256], labels[300];
	struct listener	*l;
	int		 i, e, n = st->nworkers + 1;

	family(t, "lb4_connections_ended_total", "counter",
	    "Client connections ended, by listener and how they ended.");
	for (i = 0; i < st->nlisteners; i++) {
		l = st->listeners[i];
		esc(l->name, b, sizeof(b));
		for (e = 0; e < END_MAX; e++)
			text_printf(t, "lb4_connections_ended_total{listener="
			    "\"%s\",end=\"%s\"} %llu\n", b,
			    connlog_end_name((enum conn_end)e),
			    (unsigned long long)stats_sum(l->stats, n,
			    (enum stat_id)(STAT_END_0 + e)));
	}
	family(t, "lb4_connection_duration_seconds", "histogram",
	    "How long client connections lasted, by listener.");
	for (i = 0; i < st->nlisteners; i++) {
		l = st->listeners[i];
		snprintf(labels, sizeof(labels), "listener=\"%s\"",
		    esc(l->name, b, sizeof(b)));
		histogram(t, "lb4_connection_duration_seconds", labels,
		    l->stats, n, STAT_DURATION_0, STATS_DURATION_BUCKETS,
		    stats_duration_ms, 1e-3, STAT_DURATION_SUM_MS);
	}
}

static void
connect_time_metrics(struct state *st, struct text *t)
{
	char		 pb[256], sb[128], labels[400];
	struct server	*s;

	family(t, "lb4_server_connect_seconds", "histogram",
	    "Time from connect() to the server's answer, by server.");
	POOL_EACH_SERVER(s, st->pools, st->npools) {
		snprintf(labels, sizeof(labels), "pool=\"%s\",server=\"%s\"",
		    esc(s->pool_name, pb, sizeof(pb)),
		    esc(s->addr.text, sb, sizeof(sb)));
		histogram(t, "lb4_server_connect_seconds", labels, s->stats,
		    st->nworkers + 1, STAT_CONNECT_0, STATS_CONNECT_BUCKETS,
		    stats_connect_us, 1e-6, STAT_CONNECT_SUM_US);
	}
}

/* The node as a whole: what alert rules compare against. */
static void
node_metrics(struct state *st, struct text *t)
{
	char	why[256];

	family(t, "lb4_build_info", "gauge",
	    "Always 1; the version is in the label.");
	text_printf(t, "lb4_build_info{version=\"%s\"} 1\n", LB4_VERSION);
	family(t, "lb4_max_connections", "gauge",
	    "global.max_connections in force.");
	text_printf(t, "lb4_max_connections %d\n",
	    load_relaxed(&st->rt.max_connections));
	family(t, "lb4_healthy", "gauge",
	    "1 when lb4 serves and every listener has a server that can "
	    "take a connection (what the health file and lb4ctl health say).");
	text_printf(t, "lb4_healthy %d\n", !load_relaxed(&st->rt.stopping) &&
	    state_healthy(st, why, sizeof(why)));
	family(t, "lb4_log_dropped_total", "counter",
	    "Log lines (connection log and messages) dropped because the "
	    "log reader could not keep up.");
	text_printf(t, "lb4_log_dropped_total %llu\n",
	    (unsigned long long)state_log_dropped(st));
}

typedef unsigned long long (*server_value)(struct state *, struct server *);

static unsigned long long
v_up(struct state *st, struct server *s)
{
	(void)st;
	return (unsigned long long)server_usable(s);
}

static unsigned long long
v_active(struct state *st, struct server *s)
{
	(void)st;
	return (unsigned long long)load_relaxed(&s->active);
}

static unsigned long long
v_total(struct state *st, struct server *s)
{
	return stats_sum(s->stats, st->nworkers + 1, STAT_CONNS_TOTAL);
}

static unsigned long long
v_errors(struct state *st, struct server *s)
{
	return stats_sum(s->stats, st->nworkers + 1, STAT_CONNECT_ERRORS);
}

static unsigned long long
v_down_resets(struct state *st, struct server *s)
{
	return stats_sum(s->stats, st->nworkers + 1, STAT_DOWN_RESETS);
}

static void
pool_metrics(struct state *st, struct text *t)
{
	char	 pb[256];
	int	 i;

	family(t, "lb4_pool_servers_up", "gauge",
	    "Servers of the pool that pass their checks (in mode single, "
	    "more than 1 means two claim to be the one).");
	for (i = 0; i < st->npools; i++)
		text_printf(t, "lb4_pool_servers_up{pool=\"%s\"} %d\n",
		    esc(st->pools[i]->name, pb, sizeof(pb)),
		    load_relaxed(&st->pools[i]->servers_up));
}

static void
server_family(struct state *st, struct text *t, const char *name,
    const char *type, const char *help, server_value fn)
{
	char		 pb[256], sb[128];
	struct server	*s;

	family(t, name, type, help);
	POOL_EACH_SERVER(s, st->pools, st->npools)
		text_printf(t, "%s{pool=\"%s\",server=\"%s\"} %llu\n", name,
		    esc(s->pool_name, pb, sizeof(pb)),
		    esc(s->addr.text, sb, sizeof(sb)), fn(st, s));
}

static void
check_metrics(struct state *st, struct text *t)
{
	char		 pb[256], sb[128];
	struct server	*s;
	uint64_t	 ok, fail;

	family(t, "lb4_health_checks_total", "counter",
	    "Active health checks run, by result.");
	POOL_EACH_SERVER(s, st->pools, st->npools) {
		health_checks(s, &ok, &fail);
		esc(s->pool_name, pb, sizeof(pb));
		esc(s->addr.text, sb, sizeof(sb));
		text_printf(t, "lb4_health_checks_total{pool=\"%s\","
		    "server=\"%s\",result=\"success\"} %llu\n", pb, sb,
		    (unsigned long long)ok);
		text_printf(t, "lb4_health_checks_total{pool=\"%s\","
		    "server=\"%s\",result=\"failure\"} %llu\n", pb, sb,
		    (unsigned long long)fail);
	}
}

/* Local errors by reason, and the pipes against their budget. */
static void
local_metrics(struct state *st, struct text *t)
{
	unsigned long long	fallbacks = 0;
	long			in_use = 0;
	int			r, i;

	family(t, "lb4_local_errors_total", "counter",
	    "Failures of this host, not of a server (never counted toward "
	    "fall), by reason: source_port, fd, memory, pipe.");
	for (r = 0; r < LOCAL_MAX; r++)
		text_printf(t, "lb4_local_errors_total{reason=\"%s\"} %llu\n",
		    local_reason_name((enum local_reason)r),
		    (unsigned long long)local_errors((enum local_reason)r));
	for (i = 0; i < st->nworkers; i++) {
		in_use += pipe_cache_in_use(&st->workers[i].pipes);
		fallbacks += pipe_cache_fallbacks(&st->workers[i].pipes);
	}
	family(t, "lb4_pipes_in_use", "gauge",
	    "Pipes held by connections now (splice path).");
	text_printf(t, "lb4_pipes_in_use %ld\n", in_use);
	family(t, "lb4_pipe_pages", "gauge",
	    "Pages of every pipe lb4 holds, cached ones included.");
	text_printf(t, "lb4_pipe_pages %ld\n", pipe_pages_held());
	family(t, "lb4_pipe_budget_pages", "gauge",
	    "The most pipe pages lb4 holds (from fs.pipe-user-pages-soft); "
	    "0 = no budget.");
	text_printf(t, "lb4_pipe_budget_pages %ld\n", pipe_budget_pages());
	family(t, "lb4_pipe_fallbacks_total", "counter",
	    "Times a connection wanted a pipe and took the copy path.");
	text_printf(t, "lb4_pipe_fallbacks_total %llu\n", fallbacks);
}

void
metrics_render(struct state *st, struct text *t)
{
	struct pinned	pinned;

	listener_metrics(st, t);
	server_family(st, t, "lb4_server_up", "gauge",
	    "1 when the server can take connections (up and enabled).", v_up);
	server_family(st, t, "lb4_server_connections_active", "gauge",
	    "Connections to the server open now.", v_active);
	server_family(st, t, "lb4_server_connections_total", "counter",
	    "Connections sent to the server.", v_total);
	server_family(st, t, "lb4_connect_errors_total", "counter",
	    "Connects to the server that were refused or timed out.",
	    v_errors);
	server_family(st, t, "lb4_server_down_resets_total", "counter",
	    "Connections reset because checks marked the server down "
	    "(on_server_down = \"reset\").", v_down_resets);
	pool_metrics(st, t);
	check_metrics(st, t);
	local_metrics(st, t);
	end_metrics(st, t);
	connect_time_metrics(st, t);
	node_metrics(st, t);
	vrrp_metrics(t);
	family(t, "lb4_reloads_total", "counter",
	    "Configuration reloads, by result.");
	text_printf(t, "lb4_reloads_total{result=\"success\"} %lu\n"
	    "lb4_reloads_total{result=\"failure\"} %lu\n", st->reloads_ok,
	    st->reloads_failed);
	family(t, "lb4_config_last_reload_success", "gauge",
	    "1 when the last reload was applied.");
	text_printf(t, "lb4_config_last_reload_success %d\n",
	    st->last_reload_ok);
	state_pinned(st, &pinned);
	family(t, "lb4_reload_pinned", "gauge",
	    "Objects a reload replaced or removed that open connections "
	    "still use: old generations of a listener's settings, and "
	    "servers removed from their pool.");
	text_printf(t, "lb4_reload_pinned{kind=\"generation\"} %d\n"
	    "lb4_reload_pinned{kind=\"server\"} %d\n", pinned.routes,
	    pinned.servers);
}

/* "GET <path>" with <path> whole: followed by a space or a query. */
static int
is_get(const char *request, const char *path)
{
	size_t	n = strlen(path);

	return strncmp(request, "GET ", 4) == 0 &&
	    strncmp(request + 4, path, n) == 0 &&
	    (request[4 + n] == ' ' || request[4 + n] == '?');
}

static void
on_request(void *arg, uid_t peer_uid, const char *request, struct text *reply)
{
	struct text	 body = { 0 };
	const char	*type, *extra = "";

	(void)peer_uid;
	if (is_get(request, "/metrics")) {
		metrics_render(arg, &body);
		type = "text/plain; version=0.0.4";
	} else if (is_get(request, "/status.json")) {
		statuspage_json(arg, &body);
		type = "application/json";
		extra = "Cache-Control: no-store\r\n";
	} else if (is_get(request, "/")) {
		statuspage_html(&body);
		type = "text/html; charset=utf-8";
		/* The page is whole in itself: nothing else may load. */
		extra = "Cache-Control: no-store\r\nContent-Security-Policy: "
		    "default-src 'none'; script-src 'unsafe-inline'; "
		    "style-src 'unsafe-inline'; connect-src 'self'\r\n"
		    "X-Content-Type-Options: nosniff\r\n";
	} else {
		text_printf(reply, "HTTP/1.0 404 Not Found\r\n"
		    "Content-Type: text/plain\r\nContent-Length: 10\r\n"
		    "Connection: close\r\n\r\nnot found\n");
		return;
	}
	text_printf(reply, "HTTP/1.0 200 OK\r\nContent-Type: %s\r\n%s"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%.*s", type,
	    extra, body.len, (int)body.len, body.p ? body.p : "");
	reply->failed |= body.failed;
	text_free(&body);
}

struct oneshot *
metrics_open(const struct addr *a, struct state *st)
{
	int	fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 || bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
	    listen(fd, 64) == -1) {
		log_warn("cannot listen for metrics on %s", a->text);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	return oneshot_new("metrics", fd, "\r\n\r\n", on_request, st);
}

/*
 * statuspage.c: GET / and GET /status.json of the metrics address
 * (statuspage.h).  The page is lb4/status.html, turned into a C string at
 * build time (Makefile: status_html.h), so it is one self-contained file
 * to edit and nothing outside lb4 is needed to serve it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "atomic.h"
#include "health.h"
#include "listener.h"
#include "pool.h"
#include "reload.h"
#include "stats.h"
#include "statuspage.h"
#include "version.h"
#include "vrrp.h"

static const char status_html[] =
#include "status_html.h"
    ;

void
statuspage_html(struct text *t)
{
	text_printf(t, "%s", status_html);
}

/* <s> as a JSON string, quotes included (names come from the config). */
static void
json_str(struct text *t, const char *s)
{
	text_printf(t, "\"");
	for (; *s != '\0'; s++) {
		unsigned char	c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			text_printf(t, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			text_printf(t, "\\u%04x", c);
		else
			text_printf(t, "%c", c);
	}
	text_printf(t, "\"");
}

static unsigned long long
sum(const struct stats_slot *stats, int n, enum stat_id id)
{
	return (unsigned long long)stats_sum(stats, n, id);
}

static void
listeners_json(struct state *st, struct text *t, int n)
{
	struct listener	*l;
	int		 i;

	text_printf(t, "\"listeners\":[");
	for (i = 0; i < st->nlisteners; i++) {
		l = st->listeners[i];
		text_printf(t, "%s{\"name\":", i ? "," : "");
		json_str(t, l->name);
		text_printf(t, ",\"pool\":");
		json_str(t, l->route->pool->name);
		text_printf(t, ",\"connections\":%llu,\"active\":%llu,"
		    "\"bytes_in\":%llu,\"bytes_out\":%llu,\"denied\":%llu}",
		    sum(l->stats, n, STAT_CONNS_TOTAL),
		    sum(l->stats, n, STAT_CONNS_ACTIVE),
		    sum(l->stats, n, STAT_BYTES_C2S),
		    sum(l->stats, n, STAT_BYTES_S2C),
		    sum(l->stats, n, STAT_DENIED));
	}
	text_printf(t, "]");
}

static void
pools_json(struct state *st, struct text *t, int n)
{
	struct pool	*p;
	struct server	*s;
	int		 i, j;

	text_printf(t, "\"pools\":[");
	for (i = 0; i < st->npools; i++) {
		p = st->pools[i];
		text_printf(t, "%s{\"name\":", i ? "," : "");
		json_str(t, p->name);
		text_printf(t, ",\"servers\":[");
		for (j = 0; j < p->nservers; j++) {
			s = p->servers[j];
			text_printf(t, "%s{\"address\":", j ? "," : "");
			json_str(t, s->addr.text);
			text_printf(t, ",\"state\":");
			json_str(t, server_state_name(s));
			text_printf(t, ",\"weight\":%d,\"backup\":%s,"
			    "\"active\":%d,\"total\":%llu,"
			    "\"connect_errors\":%llu,\"reason\":", s->weight,
			    s->backup ? "true" : "false",
			    load_relaxed(&s->active),
			    sum(s->stats, n, STAT_CONNS_TOTAL),
			    sum(s->stats, n, STAT_CONNECT_ERRORS));
			/* Why it is down, as lb4ctl show servers says. */
			json_str(t, load_relaxed(&s->health) == SERVER_DOWN ?
			    health_reason(s) : "");
			text_printf(t, "}");
		}
		text_printf(t, "]}");
	}
	text_printf(t, "]");
}

void
statuspage_json(struct state *st, struct text *t)
{
	char	why[256] = "";
	int	healthy, n = st->nworkers + 1;

	healthy = !load_relaxed(&st->rt.stopping) && state_healthy(st, why,
	    sizeof(why));
	text_printf(t, "{\"version\":\"%s\",\"healthy\":%s,\"unhealthy_reason\":",
	    LB4_VERSION, healthy ? "true" : "false");
	json_str(t, healthy ? "" :
	    load_relaxed(&st->rt.stopping) ? "stopping" : why);
	text_printf(t, ",\"max_connections\":%d,\"reloads_ok\":%lu,"
	    "\"reloads_failed\":%lu,\"last_reload_ok\":%s,"
	    "\"log_dropped\":%llu,", load_relaxed(&st->rt.max_connections),
	    st->reloads_ok, st->reloads_failed,
	    st->last_reload_ok ? "true" : "false",
	    (unsigned long long)state_log_dropped(st));
	listeners_json(st, t, n);
	text_printf(t, ",");
	pools_json(st, t, n);
	text_printf(t, ",");
	vrrp_json(t);
	text_printf(t, "}\n");
}

/*
 * statuspage.h: the status page for a person (GET / on the metrics
 * address) and the JSON it reads (GET /status.json).  Read-only: built
 * from the same state as /metrics and lb4ctl show, on the main thread.
 */
#ifndef LB4_STATUSPAGE_H
#define LB4_STATUSPAGE_H

#include "text.h"

struct state;

/* The whole page (lb4/status.html, built in): HTML, CSS and script. */
void	statuspage_html(struct text *t);

/* Listeners, pools, servers and the node, as one JSON object. */
void	statuspage_json(struct state *st, struct text *t);

#endif

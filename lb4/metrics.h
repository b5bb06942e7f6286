/*
 * metrics.h: GET /metrics in the Prometheus text format (README,
 * "Operating it").  Counters are summed over the per-worker slots at
 * scrape time only.
 */
#ifndef LB4_METRICS_H
#define LB4_METRICS_H

#include "addr.h"
#include "text.h"

struct state;
struct oneshot;

/* Listens on <a> for scrapes.  NULL with a logged reason on failure. */
struct oneshot	*metrics_open(const struct addr *a, struct state *st);

/* Writes every metric family of <st> into <t>. */
void		 metrics_render(struct state *st, struct text *t);

#endif

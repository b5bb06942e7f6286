/*
 * stats.h: counters with one slot per worker thread.  A worker writes only
 * its own slot (relaxed stores, no RMW, no shared cache line); readers sum
 * the slots.  Slots are cache-line aligned.
 */
#ifndef LB4_STATS_H
#define LB4_STATS_H

#include <stdint.h>

#include "atomic.h"

/* Histogram buckets: upper bounds, the last one +Inf (stats.c). */
#define STATS_ENDS		12	/* END_MAX of connlog.h */
#define STATS_DURATION_BUCKETS	9	/* ms, per listener */
#define STATS_CONNECT_BUCKETS	12	/* us, per server */

enum stat_id {
	STAT_CONNS_TOTAL = 0,	/* connections accepted or sent */
	STAT_CONNS_ACTIVE,	/* gauge: opened minus closed */
	STAT_BYTES_C2S,		/* client to server */
	STAT_BYTES_S2C,		/* server to client */
	STAT_CONNECT_ERRORS,	/* refused or timed-out connects */
	STAT_DENIED,		/* refused by allow/deny */
	STAT_END_0,		/* + enum conn_end: connections ended so */
	STAT_DURATION_0 = STAT_END_0 + STATS_ENDS,	/* + bucket */
	STAT_DURATION_SUM_MS = STAT_DURATION_0 + STATS_DURATION_BUCKETS,
	STAT_CONNECT_0,		/* + bucket: connect times */
	STAT_CONNECT_SUM_US = STAT_CONNECT_0 + STATS_CONNECT_BUCKETS,
	STAT_DOWN_RESETS,	/* reset by on_server_down = "reset" */
	STAT_MAX
};

/* Upper bounds of the buckets, the last one UINT64_MAX (+Inf). */
extern const uint64_t stats_duration_ms[STATS_DURATION_BUCKETS];
extern const uint64_t stats_connect_us[STATS_CONNECT_BUCKETS];

/* The bucket of <v> among <n> <bounds>. */
static inline int
stats_bucket(const uint64_t *bounds, int n, uint64_t v)
{
	int	i;

	for (i = 0; i < n - 1 && v > bounds[i]; i++)
		;
	return i;
}

struct stats_slot {
	uint64_t	v[STAT_MAX];
} __attribute__((aligned(64)));

/* Adds <n> to slot <s>'s counter <id>; only the slot's owner calls this. */
static inline void
stats_add(struct stats_slot *s, enum stat_id id, int64_t n)
{
	store_relaxed(&s->v[id], load_relaxed(&s->v[id]) + (uint64_t)n);
}

/* Sums counter <id> over <nslots> slots. */
static inline uint64_t
stats_sum(const struct stats_slot *s, int nslots, enum stat_id id)
{
	uint64_t	sum = 0;
	int		i;

	for (i = 0; i < nslots; i++)
		sum += load_relaxed(&s[i].v[id]);
	return sum;
}

/* Slot array for <n> workers plus one for the main thread (index n). */
struct stats_slot *stats_new(int nworkers);
void	stats_free(struct stats_slot *s);

#endif

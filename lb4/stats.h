/*
 * stats.h: counters with one slot per worker thread.  A worker writes only
 * its own slot (relaxed stores, no RMW, no shared cache line); readers sum
 * the slots.  Slots are cache-line aligned.
 */
#ifndef LB4_STATS_H
#define LB4_STATS_H

#include <stdint.h>

enum stat_id {
	STAT_CONNS_TOTAL = 0,	/* connections accepted or sent */
	STAT_CONNS_ACTIVE,	/* gauge: opened minus closed */
	STAT_BYTES_C2S,		/* client to server */
	STAT_BYTES_S2C,		/* server to client */
	STAT_CONNECT_ERRORS,	/* refused or timed-out connects */
	STAT_DENIED,		/* refused by allow/deny */
	STAT_DOWN_RESETS,	/* reset by on_server_down = "reset" */
	STAT_MAX
};

struct stats_slot {
	uint64_t	v[STAT_MAX];
} __attribute__((aligned(64)));

/* Adds <n> to slot <s>'s counter <id>; only the slot's owner calls this. */
static inline void
stats_add(struct stats_slot *s, enum stat_id id, int64_t n)
{
	__atomic_store_n(&s->v[id],
	    __atomic_load_n(&s->v[id], __ATOMIC_RELAXED) + (uint64_t)n,
	    __ATOMIC_RELAXED);
}

/* Sums counter <id> over <nslots> slots. */
static inline uint64_t
stats_sum(const struct stats_slot *s, int nslots, enum stat_id id)
{
	uint64_t	sum = 0;
	int		i;

	for (i = 0; i < nslots; i++)
		sum += __atomic_load_n(&s[i].v[id], __ATOMIC_RELAXED);
	return sum;
}

/* Slot array for <n> workers plus one for the main thread (index n). */
struct stats_slot *stats_new(int nworkers);
void	stats_free(struct stats_slot *s);

#endif

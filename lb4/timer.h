/*
 * timer.h: a binary min-heap of deadlines, one per worker and one for the
 * health checks.  Insert, remove and update are O(log n), so 10,000 idle
 * connections cost nothing per new one.  Callers re-arm lazily: they move
 * their own deadline forward with a plain store and fix the heap only when
 * the old deadline pops.  Deadlines are in ms on the owner's clock
 * (clock.h): clock_coarse_ms() in a worker, clock_ms() in health.c.
 */
#ifndef LB4_TIMER_H
#define LB4_TIMER_H

#include <stdint.h>

struct timer {
	uint64_t	at;		/* ms, the owner's clock */
	int		idx;		/* heap slot, -1 when not armed */
};

struct timer_heap {
	struct timer	**v;
	int		  n;
	int		  cap;
};

void		 timer_heap_init(struct timer_heap *h);
void		 timer_heap_free(struct timer_heap *h);

/* Makes room for <n> more timers.  Returns 0, or -1 on ENOMEM. */
int		 timer_reserve(struct timer_heap *h, int n);

/* Arms <t> at <at>.  Returns 0, or -1 on ENOMEM (never after a
 * timer_reserve() that made room). */
int		 timer_add(struct timer_heap *h, struct timer *t, uint64_t at);

/* Disarms <t>; a no-op when it is not armed. */
void		 timer_del(struct timer_heap *h, struct timer *t);

/* Moves armed <t> to <at>. */
void		 timer_move(struct timer_heap *h, struct timer *t, uint64_t at);

/* The earliest timer, or NULL. */
static inline struct timer *
timer_first(const struct timer_heap *h)
{
	return h->n > 0 ? h->v[0] : (struct timer *)0;
}

#endif

/*
 * timer.c: the min-heap behind every worker's connect and idle timeouts.
 */
#include <stdlib.h>

#include "timer.h"

void
timer_heap_init(struct timer_heap *h)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
}

void
timer_heap_free(struct timer_heap *h)
{
	free(h->v);
	timer_heap_init(h);
}

static void
place(struct timer_heap *h, int i, struct timer *t)
{
	h->v[i] = t;
	t->idx = i;
}

static void
sift_up(struct timer_heap *h, int i)
{
	struct timer	*t = h->v[i];
	int		 parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (h->v[parent]->at <= t->at)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, t);
}

static void
sift_down(struct timer_heap *h, int i)
{
	struct timer	*t = h->v[i];
	int		 child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= h->n)
			break;
		if (child + 1 < h->n && h->v[child + 1]->at < h->v[child]->at)
			child++;
		if (t->at <= h->v[child]->at)
			break;
		place(h, i, h->v[child]);
		i = child;
	}
	place(h, i, t);
}

int
timer_reserve(struct timer_heap *h, int n)
{
	struct timer	**v;
	int		  cap = h->cap ? h->cap : 256;

	while (cap < h->n + n)
		cap *= 2;
	if (cap == h->cap)
		return 0;
	if ((v = realloc(h->v, sizeof(struct timer *) * (size_t)cap)) == NULL)
		return -1;
	h->v = v;
	h->cap = cap;
	return 0;
}

int
timer_add(struct timer_heap *h, struct timer *t, uint64_t at)
{
	if (h->n == h->cap && timer_reserve(h, 1) == -1)
		return -1;
	t->at = at;
	place(h, h->n++, t);
	sift_up(h, t->idx);
	return 0;
}

void
timer_del(struct timer_heap *h, struct timer *t)
{
	int		 i = t->idx;
	struct timer	*last;

	if (i < 0)
		return;
	t->idx = -1;
	last = h->v[--h->n];
	if (i == h->n)
		return;
	place(h, i, last);
	if (i > 0 && h->v[(i - 1) / 2]->at > last->at)
		sift_up(h, i);
	else
		sift_down(h, i);
}

void
timer_move(struct timer_heap *h, struct timer *t, uint64_t at)
{
	uint64_t	old = t->at;

	t->at = at;
	if (at < old)
		sift_up(h, t->idx);
	else
		sift_down(h, t->idx);
}

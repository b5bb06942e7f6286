/*
 * pipe.h: a per-worker cache of pipes for splice(2), within a budget.
 * Only empty pipes go back to the cache; a pipe that may still hold bytes
 * is closed (HAProxy src/pipe.c does the same).  Not thread-safe: one
 * cache per worker; the budget is shared by all of them.
 *
 * The budget: an unprivileged user's pipes share fs.pipe-user-pages-soft
 * (16384 pages by default); past it the kernel hands out 2-page pipes and
 * F_SETPIPE_SZ fails.  pipe_budget_init() takes part of that limit (or
 * none when lb4 has CAP_SYS_RESOURCE or the limit is off), every pipe lb4
 * holds, in a connection or in a cache, counts against it, and past it
 * pipe_get() says NULL: the connection takes the copy path, which is
 * slower but never resets anything.
 */
#ifndef LB4_PIPE_H
#define LB4_PIPE_H

#include <stdint.h>

struct pipe {
	int		 rfd;
	int		 wfd;
	int		 size;		/* bytes, as the kernel reports it */
	struct pipe	*next;		/* free list */
};

struct pipe_cache {
	struct pipe	*free;
	int		 nfree;
	int		 max_free;	/* pipes kept beyond this are closed */
	int		 size;		/* F_SETPIPE_SZ, 0 = kernel default */
	int		 slot;		/* local error slot (the worker's id) */
	uint64_t	 retry_at;	/* ms: no new pipe before (refused) */
	/* Written by the owner with relaxed stores, read by metrics. */
	long		 in_use;	/* pipes held by connections */
	uint64_t	 fallbacks;	/* a pipe was wanted, none was had */
};

/*
 * Computes the pipe budget from fs.pipe-user-pages-soft (and -hard) and
 * this process's capabilities; call once privileges are final.  Logs it.
 */
void		 pipe_budget_init(void);

/* The budget in pages (0 = none), and the pages lb4 holds now. */
long		 pipe_budget_pages(void);
long		 pipe_pages_held(void);

void		 pipe_cache_init(struct pipe_cache *pc, int max_free, int size,
		    int slot);
void		 pipe_cache_clear(struct pipe_cache *pc);

/*
 * An empty pipe of the cache's size, or NULL when none can be had within
 * the budget (or the kernel refused one, or gave a smaller one: counted as
 * a local error).  A NULL counts as a fallback.  <now> is in ms.
 */
struct pipe	*pipe_get(struct pipe_cache *pc, uint64_t now);

/* Returns <p> to the cache when <empty>, else closes it. */
void		 pipe_put(struct pipe_cache *pc, struct pipe *p, int empty);

/* The cache's counters, for metrics (any thread). */
long		 pipe_cache_in_use(const struct pipe_cache *pc);
uint64_t	 pipe_cache_fallbacks(const struct pipe_cache *pc);

#endif

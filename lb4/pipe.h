/*
 * pipe.h: a per-worker cache of pipes for splice(2).  Only empty pipes go
 * back to the cache; a pipe that may still hold bytes is closed (HAProxy
 * src/pipe.c does the same).  Not thread-safe: one cache per worker.
 */
#ifndef LB4_PIPE_H
#define LB4_PIPE_H

struct pipe {
	int		 rfd;
	int		 wfd;
	struct pipe	*next;		/* free list */
};

struct pipe_cache {
	struct pipe	*free;
	int		 nfree;
	int		 max_free;	/* pipes kept beyond this are closed */
	int		 size;		/* F_SETPIPE_SZ, 0 = kernel default */
	int		 failed_at;	/* not used by the cache itself */
};

void		 pipe_cache_init(struct pipe_cache *pc, int max_free, int size);
void		 pipe_cache_clear(struct pipe_cache *pc);

/* An empty pipe, or NULL when none can be had (EMFILE, ENOMEM...). */
struct pipe	*pipe_get(struct pipe_cache *pc);

/* Returns <p> to the cache when <empty>, else closes it. */
void		 pipe_put(struct pipe_cache *pc, struct pipe *p, int empty);

#endif

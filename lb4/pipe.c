/*
 * pipe.c: pipe cache.  Creating a pipe costs two fds and a syscall or two;
 * reusing one costs a pointer swap, which matters at tens of thousands of
 * connections a second.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "pipe.h"

void
pipe_cache_init(struct pipe_cache *pc, int max_free, int size)
{
	pc->free = NULL;
	pc->nfree = 0;
	pc->max_free = max_free;
	pc->size = size;
	pc->failed_at = 0;
}

static void
pipe_destroy(struct pipe *p)
{
	close(p->rfd);
	close(p->wfd);
	free(p);
}

void
pipe_cache_clear(struct pipe_cache *pc)
{
	struct pipe	*p;

	while ((p = pc->free) != NULL) {
		pc->free = p->next;
		pipe_destroy(p);
	}
	pc->nfree = 0;
}

struct pipe *
pipe_get(struct pipe_cache *pc)
{
	struct pipe	*p;
	int		 fds[2];

	if ((p = pc->free) != NULL) {
		pc->free = p->next;
		pc->nfree--;
		return p;
	}
	if ((p = malloc(sizeof(*p))) == NULL)
		return NULL;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
		free(p);
		return NULL;
	}
	/* A bigger pipe means fewer splice calls per megabyte. */
	if (pc->size > 0)
		(void)fcntl(fds[1], F_SETPIPE_SZ, pc->size);
	p->rfd = fds[0];
	p->wfd = fds[1];
	p->next = NULL;
	return p;
}

void
pipe_put(struct pipe_cache *pc, struct pipe *p, int empty)
{
	if (p == NULL)
		return;
	if (!empty || pc->nfree >= pc->max_free) {
		pipe_destroy(p);
		return;
	}
	p->next = pc->free;
	pc->free = p;
	pc->nfree++;
}

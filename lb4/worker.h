/*
 * worker.h: the data plane.  Each worker is a thread with its own epoll
 * loop, connection free list, pipe cache and timer heap.  It accepts,
 * connects and moves bytes, and nothing else: it never blocks, never parses
 * config, never logs per byte.  The main thread talks to it through
 * struct runtime (published state) and the worker's eventfd.
 */
#ifndef LB4_WORKER_H
#define LB4_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "pipe.h"
#include "timer.h"

struct lsock;
struct conn;

/* The bound sockets workers should accept on; immutable once published. */
struct lsock_set {
	int		 n;
	struct lsock	*v[];
};

/* State the main thread publishes; workers read it with atomics. */
struct runtime {
	int		 nworkers;
	int		 max_connections;
	int		 splice;	/* 0 forces the copy path */
	long		 conns;		/* client connections open, all workers */
	struct lsock_set *lsocks;
	unsigned long	 lsock_seq;	/* bumped when lsocks or stopping change */
	unsigned long	 epoch;		/* bumped when main retires objects */
	unsigned long	 down_seq;	/* bumped when checks took down a server
					   of an on_server_down reset pool */
	int		 main_wakefd;	/* eventfd: a worker has news for main */
	int		 stopping;	/* 1: accept nothing more */
	int		 exiting;	/* 1: close everything and return */
};

struct buf {
	struct buf	*next;
	char		 data[];
};

struct worker {
	int		 wake_kind;	/* EV_WAKE, for epoll dispatch */
	int		 id;		/* stats slot */
	int		 epfd;
	int		 wakefd;	/* eventfd */
	pthread_t	 thread;
	struct runtime	*rt;
	uint64_t	 now;		/* ms, refreshed once per loop */

	/* Acknowledged to the main thread (atomics). */
	unsigned long	 seen_lsock_seq;
	unsigned long	 seen_epoch;
	unsigned long	 seen_down_seq;	/* worker only */

	/* Accepting. */
	struct lsock	**reg;		/* lsocks registered in epfd */
	int		 nreg;
	int		 paused;
	uint64_t	 resume_at;
	uint64_t	 last_pause_log;

	/* Connections. */
	struct conn	*free_conns;
	struct conn	*closing;	/* freed after the epoll batch */
	struct conn	*again;		/* ran out of budget: pump again */
	void		**slabs;
	int		 nslabs;
	struct timer_heap timers;
	struct pipe_cache pipes;
	char		*scratch;	/* WORKER_SCRATCH bytes */
	struct buf	*free_bufs;
	int		 nfree_bufs;
};

#define WORKER_SCRATCH	16384

/* Creates the worker's epoll set and eventfd.  Returns 0 or -1 (logged). */
int		 worker_init(struct worker *w, int id, struct runtime *rt);

/* Starts the thread. */
int		 worker_start(struct worker *w);

/* Wakes the worker so it re-reads struct runtime. */
void		 worker_wake(struct worker *w);

/* Joins the thread and frees what the worker owns. */
void		 worker_join(struct worker *w);

/* Wakes the main thread (runtime.main_wakefd), e.g. to act on health news. */
void		 worker_wake_main(struct worker *w);

/* A copy buffer of WORKER_SCRATCH bytes from the worker's cache, or NULL. */
struct buf	*worker_buf_get(struct worker *w);
void		 worker_buf_put(struct worker *w, struct buf *b);

#endif

/*
 * worker.h: the data plane.  Each worker is a thread with its own epoll
 * loop, connections, pipe cache and timer heap.  It accepts, connects and
 * moves bytes, and nothing else: it never blocks, never parses config,
 * never logs per byte.  The main thread (reload.c) publishes state in
 * struct runtime and wakes the worker through its eventfd; the worker
 * answers by passing quiescent points (worker_quiescent_epoch()).
 */
#ifndef LB4_WORKER_H
#define LB4_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "conn.h"
#include "connlog.h"
#include "listener.h"
#include "pipe.h"
#include "timer.h"

/* The bound sockets workers should accept on; immutable once published. */
struct lsock_set {
	int		 n;
	struct lsock	*v[];
};

/*
 * State the main thread publishes (reload.c writes it, workers read it
 * with atomics), except <conns>, which every worker adds to and takes
 * from (listener.c, conn.c).
 */
struct runtime {
	int		 nworkers;
	int		 max_connections;
	int		 splice;	/* 0 forces the copy path */
	long		 conns;		/* client connections open, all workers */
	struct lsock_set *lsocks;
	unsigned long	 epoch;		/* bumped when lsocks or stopping change */
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
	unsigned long	 quiescent;	/* atomic: see worker_quiescent_epoch */
	unsigned long	 synced;	/* epoch the acceptor was synced to */
	unsigned long	 seen_down_seq;	/* rt->down_seq acted on */
	struct acceptor	 acceptor;	/* listener.c's */
	struct conn_cache conns;	/* conn.c's */
	struct connlog_ring *log;	/* connlog.c's: ended connections */
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

/*
 * The runtime epoch the worker saw at its last quiescent point (the top of
 * its loop, where it holds no pointer read earlier and has synced its
 * listening sockets to what was published before that epoch).
 * ULONG_MAX while the thread is not running: it holds nothing.
 */
unsigned long	 worker_quiescent_epoch(const struct worker *w);

/* Wakes the main thread (runtime.main_wakefd), e.g. to act on health news. */
void		 worker_wake_main(struct worker *w);

/* A copy buffer of WORKER_SCRATCH bytes from the worker's cache, or NULL. */
struct buf	*worker_buf_get(struct worker *w);
void		 worker_buf_put(struct worker *w, struct buf *b);

#endif

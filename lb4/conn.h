/*
 * conn.h: one proxied connection: a client socket, a server socket, and the
 * bytes in flight between them.  A conn belongs to the worker that accepted
 * it; conn_close() (inside conn.c) is the only way one ends.  The conns of
 * a worker come from its struct conn_cache, which only conn.c touches.
 */
#ifndef LB4_CONN_H
#define LB4_CONN_H

#include <stdint.h>
#include <sys/socket.h>

struct worker;
struct route;
struct timer;
struct conn;

/* A worker's conns: slabs, the free list, and this batch's lists. */
struct conn_cache {
	struct conn	*free;
	struct conn	*closing;	/* freed after the epoll batch */
	struct conn	*again;		/* ran out of budget: pump again */
	void		**slabs;
	int		 nslabs;
};

/*
 * Takes the accepted <fd> from a client at <peer> on route <r>: pins <r>
 * for the conn's life, picks a server and connects.  On any failure the
 * client fd is closed and nothing stays pinned.
 */
void		 conn_start(struct worker *w, struct route *r, int fd,
		    const struct sockaddr *peer, socklen_t peerlen);

/* Handles epoll <events> for the side object <ptr> (EV_CLIENT/EV_SERVER). */
void		 conn_io(struct worker *w, void *ptr, uint32_t events);

/* Handles the conn whose timer fired at w->now. */
void		 conn_timeout(struct worker *w, struct timer *t);

/* Pumps the conns that ran out of budget in the last batch; 1 when some
 * still wait (the next epoll_wait must not sleep). */
void		 conn_run_again(struct worker *w);
int		 conn_have_again(const struct worker *w);

/* Returns the closed conns of this batch to the free list. */
void		 conn_reap(struct worker *w);

/*
 * Resets (both sides) every established conn of the worker whose server's
 * pool says on_server_down = "reset" and whose server checks marked down
 * since the conn was connected.
 */
void		 conn_reset_downed(struct worker *w);

/* Closes every conn of the worker (exit). */
void		 conn_close_all(struct worker *w);

/* Frees the worker's conn slabs. */
void		 conn_cache_free(struct conn_cache *cc);

#endif

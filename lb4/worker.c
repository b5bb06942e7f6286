/*
 * worker.c: a data-plane thread (redis ae_epoll.c, nginx
 * ngx_epoll_module.c).  The loop: pass a quiescent point (and follow what
 * the main thread published), wait, dispatch the batch, pump what ran out
 * of budget, fire timers, free what closed.  Accepting is listener.c's,
 * connections are conn.c's; this file owns the thread, its epoll set, its
 * clock and its caches.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "atomic.h"
#include "clock.h"
#include "conn.h"
#include "ev.h"
#include "listener.h"
#include "log.h"
#include "worker.h"

#define MAX_EVENTS	256
#define MAX_FREE_BUFS	64
#define MAX_FREE_PIPES	256
#define PIPE_SIZE	(256 * 1024)	/* fewer splices per GB; only busy flows hold one */

int
worker_init(struct worker *w, int id, struct runtime *rt)
{
	struct epoll_event	ev;

	memset(w, 0, sizeof(*w));
	w->wake_kind = EV_WAKE;
	w->id = id;
	w->rt = rt;
	w->epfd = -1;
	w->wakefd = -1;
	w->quiescent = ULONG_MAX;
	timer_heap_init(&w->timers);
	pipe_cache_init(&w->pipes, MAX_FREE_PIPES, PIPE_SIZE, id);
	if ((w->scratch = malloc(WORKER_SCRATCH)) == NULL ||
	    (w->log = connlog_ring_new()) == NULL ||
	    (w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("worker %d: cannot set up", id);
		return -1;
	}
	if (acceptor_reserve_fill(&w->acceptor) == -1) {
		log_warn("worker %d: cannot open its %d reserved fds", id,
		    ACCEPT_FD_RESERVE);
		return -1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &w->wake_kind;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) == -1) {
		log_warn("worker %d: epoll_ctl", id);
		return -1;
	}
	return 0;
}

void
worker_wake(struct worker *w)
{
	uint64_t	one = 1;

	if (w->wakefd != -1 && write(w->wakefd, &one, sizeof(one)) == -1) {
		/* EAGAIN: the counter is already non-zero, the worker wakes. */
	}
}

void
worker_wake_main(struct worker *w)
{
	uint64_t	one = 1;

	if (w->rt->main_wakefd != -1 &&
	    write(w->rt->main_wakefd, &one, sizeof(one)) == -1) {
		/* EAGAIN: main is already due to wake. */
	}
}

unsigned long
worker_quiescent_epoch(const struct worker *w)
{
	return load_acquire(&w->quiescent);
}

struct buf *
worker_buf_get(struct worker *w)
{
	struct buf	*b;

	if ((b = w->free_bufs) != NULL) {
		w->free_bufs = b->next;
		w->nfree_bufs--;
		return b;
	}
	return malloc(sizeof(*b) + WORKER_SCRATCH);
}

void
worker_buf_put(struct worker *w, struct buf *b)
{
	if (w->nfree_bufs >= MAX_FREE_BUFS) {
		free(b);
		return;
	}
	b->next = w->free_bufs;
	w->free_bufs = b;
	w->nfree_bufs++;
}

/*
 * The quiescent point, at the top of the loop: nothing read in an earlier
 * batch is held any more.  The epoch is read first and acknowledged last,
 * so "this worker saw epoch E" also means its listening sockets follow
 * what was published before E (reload.c frees a removed socket only then).
 */
static void
quiescent(struct worker *w)
{
	struct runtime		*rt = w->rt;
	unsigned long		 epoch = load_acquire(&rt->epoch);
	struct lsock_set	*set;

	if (epoch != w->synced) {
		set = load_acquire(&rt->lsocks);
		acceptor_sync(w, set != NULL ? set->v : NULL,
		    set != NULL ? set->n : 0, load_acquire(&rt->stopping));
		w->synced = epoch;
	}
	store_release(&w->quiescent, epoch);
}

static void
dispatch(struct worker *w, struct epoll_event *ev)
{
	int	kind = *(int *)ev->data.ptr;
	uint64_t drain;

	switch (kind) {
	case EV_WAKE:
		/* What main published is read at the next quiescent point. */
		if (read(w->wakefd, &drain, sizeof(drain)) == -1) {
			/* EAGAIN: another wake drained it first. */
		}
		/* on_server_down = "reset": a health check moved a server's
		 * down generation (server_set_health); reset our conns that
		 * began before it. */
		if (load_acquire(&w->rt->down_seq) != w->seen_down_seq) {
			w->seen_down_seq = load_acquire(&w->rt->down_seq);
			conn_reset_downed(w);
		}
		break;
	case EV_LISTEN:
		acceptor_run(w, ev->data.ptr);
		break;
	default:
		conn_io(w, ev->data.ptr, ev->events);
		break;
	}
}

static void
run_timers(struct worker *w)
{
	struct timer	*t;

	while ((t = timer_first(&w->timers)) != NULL && t->at <= w->now)
		conn_timeout(w, t);
	acceptor_tick(w);
}

static int
next_timeout(struct worker *w)
{
	struct timer	*t = timer_first(&w->timers);
	uint64_t	 at = t != NULL ? t->at : UINT64_MAX;
	long		 pause = acceptor_wait_ms(&w->acceptor, w->now);

	if (conn_have_again(w))
		return 0;
	if (pause >= 0 && w->now + (uint64_t)pause < at)
		at = w->now + (uint64_t)pause;
	if (at == UINT64_MAX)
		return -1;
	if (at <= w->now)
		return 0;
	/* +1: the coarse clock may lag by a tick; never wake early. */
	return at - w->now > 60000 ? 60000 : (int)(at - w->now) + 1;
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct epoll_event	 events[MAX_EVENTS];
	int			 n, i;

	w->now = clock_coarse_ms();
	while (!load_acquire(&w->rt->exiting)) {
		quiescent(w);
		n = epoll_wait(w->epfd, events, MAX_EVENTS, next_timeout(w));
		if (n == -1 && errno != EINTR)
			fatal(2, "worker %d: epoll_wait", w->id);
		w->now = clock_coarse_ms();
		for (i = 0; i < n; i++)
			dispatch(w, &events[i]);
		conn_run_again(w);
		run_timers(w);
		conn_reap(w);
	}
	conn_close_all(w);
	return NULL;
}

int
worker_start(struct worker *w)
{
	int	err;

	/* Until its first quiescent point the thread may hold what was
	 * published up to now: no older. */
	w->synced = ULONG_MAX;
	store_release(&w->quiescent, load_acquire(&w->rt->epoch));
	if ((err = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		store_release(&w->quiescent, ULONG_MAX);
		errno = err;
		log_warn("worker %d: pthread_create", w->id);
		return -1;
	}
	return 0;
}

void
worker_join(struct worker *w)
{
	struct buf	*b;

	pthread_join(w->thread, NULL);
	store_release(&w->quiescent, ULONG_MAX);
	conn_cache_free(&w->conns);
	pipe_cache_clear(&w->pipes);
	timer_heap_free(&w->timers);
	while ((b = w->free_bufs) != NULL) {
		w->free_bufs = b->next;
		free(b);
	}
	acceptor_free(&w->acceptor);
	/* w->log outlives the thread: what its last closes queued is
	 * drained and freed by state_stop_workers(). */
	free(w->scratch);
	if (w->epfd != -1)
		close(w->epfd);
	if (w->wakefd != -1)
		close(w->wakefd);
}

/*
 * worker.c: a data-plane thread (redis ae_epoll.c, nginx
 * ngx_epoll_module.c).  The loop: wait, dispatch the batch, pump what ran
 * out of budget, free what closed, fire timers, tell the main thread it
 * passed a quiescent point.
 *
 * Accepting: every worker registers the same listening socket with
 * EPOLLEXCLUSIVE rather than each binding its own SO_REUSEPORT socket.
 * With SO_REUSEPORT, closing one socket of the group drops the connections
 * queued on it, and a reload or a stop would have to drain N sockets per
 * address; with one socket per address, a reload that keeps the address
 * keeps the fd and its queue, and nothing is ever refused or reset.
 * EPOLLEXCLUSIVE wakes one waiter per connection, so there is no
 * thundering herd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "conn.h"
#include "ev.h"
#include "listener.h"
#include "log.h"
#include "worker.h"

#define MAX_EVENTS	256
#define ACCEPT_BATCH	64	/* then let other workers and conns run */
#define PAUSE_MS	100	/* accepting pauses this long when full */
#define PAUSE_LOG_MS	10000
#define MAX_FREE_BUFS	64
#define MAX_FREE_PIPES	256
#define PIPE_SIZE	(256 * 1024)	/* fewer splices per GB; only busy flows hold one */

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	/* COARSE is a vDSO read with no syscall; ms timeouts need no more. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
	timer_heap_init(&w->timers);
	pipe_cache_init(&w->pipes, MAX_FREE_PIPES, PIPE_SIZE);
	if ((w->scratch = malloc(WORKER_SCRATCH)) == NULL ||
	    (w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("worker %d: cannot set up", id);
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

	if (write(w->wakefd, &one, sizeof(one)) == -1) {
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

static int
reg_find(struct worker *w, struct lsock *ls)
{
	int	i;

	for (i = 0; i < w->nreg; i++)
		if (w->reg[i] == ls)
			return i;
	return -1;
}

static void
reg_add(struct worker *w, struct lsock *ls)
{
	struct epoll_event	 ev;
	struct lsock		**reg;

	reg = realloc(w->reg, sizeof(*reg) * (size_t)(w->nreg + 1));
	if (reg == NULL) {
		log_warnx("worker %d: out of memory registering a listener",
		    w->id);
		return;
	}
	w->reg = reg;
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = ls;
	if (!w->paused &&
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, ls->fd, &ev) == -1) {
		log_warn("worker %d: cannot watch %s", w->id, ls->addr.text);
		return;
	}
	w->reg[w->nreg++] = ls;
}

static void
reg_del(struct worker *w, int i)
{
	if (!w->paused)
		(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->reg[i]->fd, NULL);
	w->reg[i] = w->reg[--w->nreg];
}

/* Brings the registered listening sockets in line with the runtime. */
static void
sync_lsocks(struct worker *w)
{
	struct runtime		*rt = w->rt;
	unsigned long		 seq = LOAD(&rt->lsock_seq);
	struct lsock_set	*set = LOAD(&rt->lsocks);
	int			 i, j, stopping = LOAD(&rt->stopping);

	for (i = w->nreg - 1; i >= 0; i--) {
		for (j = 0; !stopping && set != NULL && j < set->n; j++)
			if (set->v[j] == w->reg[i])
				break;
		if (stopping || set == NULL || j == set->n)
			reg_del(w, i);
	}
	for (j = 0; !stopping && set != NULL && j < set->n; j++)
		if (reg_find(w, set->v[j]) == -1)
			reg_add(w, set->v[j]);
	/* Main closes removed sockets only after every worker said so. */
	STORE(&w->seen_lsock_seq, seq);
}

static void
set_paused(struct worker *w, int paused)
{
	struct epoll_event	ev;
	int			i;

	if (w->paused == paused)
		return;
	for (i = 0; i < w->nreg; i++) {
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = w->reg[i];
		(void)epoll_ctl(w->epfd, paused ? EPOLL_CTL_DEL :
		    EPOLL_CTL_ADD, w->reg[i]->fd, &ev);
	}
	w->paused = paused;
	w->resume_at = w->now + PAUSE_MS;
}

static void
pause_accepting(struct worker *w, const char *why)
{
	set_paused(w, 1);
	if (w->last_pause_log == 0 ||
	    w->now - w->last_pause_log >= PAUSE_LOG_MS) {
		log_warnx("worker %d: %s: accepting paused for %d ms", w->id,
		    why, PAUSE_MS);
		w->last_pause_log = w->now;
	}
}

/* Takes one slot of global.max_connections; 0 when full. */
static int
take_slot(struct worker *w)
{
	struct runtime	*rt = w->rt;

	if (__atomic_add_fetch(&rt->conns, 1, __ATOMIC_RELAXED) <=
	    rt->max_connections)
		return 1;
	__atomic_sub_fetch(&rt->conns, 1, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Refuses the client on <fd> that <l>'s allow/deny turned away: a reset at
 * once, before any server is picked, and a count in the listener's slot.
 * No log line here: the main thread logs a rate-limited summary
 * (listener_log_denied()), so a flood cannot fill the journal.  The reset
 * (SO_LINGER 0) leaves no TIME_WAIT behind on lb4's side.
 */
static void
refuse(struct worker *w, struct listener *l, int fd)
{
	struct linger	lin = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(fd);
	__atomic_sub_fetch(&w->rt->conns, 1, __ATOMIC_RELAXED);
	stats_add(&l->stats[w->id], STAT_DENIED, 1);
}

static void
accept_batch(struct worker *w, struct lsock *ls)
{
	struct sockaddr_storage	 peer;
	struct listener		*l;
	socklen_t		 len;
	int			 fd, i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		if (!take_slot(w)) {
			pause_accepting(w, "max_connections reached");
			return;
		}
		len = sizeof(peer);
		fd = accept4(ls->fd, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			__atomic_sub_fetch(&w->rt->conns, 1, __ATOMIC_RELAXED);
			switch (errno) {
			case EAGAIN:
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				pause_accepting(w, strerror(errno));
				return;
			default:
				log_warn("worker %d: accept on %s", w->id,
				    ls->addr.text);
				return;
			}
		}
		l = LOAD(&ls->listener);
		if (!acl_allows(LOAD(&l->acl), (struct sockaddr *)&peer)) {
			refuse(w, l, fd);
			continue;
		}
		conn_start(w, l, fd, (struct sockaddr *)&peer, len);
	}
}

static void
dispatch(struct worker *w, struct epoll_event *ev)
{
	int	kind = *(int *)ev->data.ptr;
	uint64_t drain;

	switch (kind) {
	case EV_WAKE:
		if (read(w->wakefd, &drain, sizeof(drain)) == -1) {
			/* EAGAIN: another wake drained it first. */
		}
		sync_lsocks(w);
		if (LOAD(&w->rt->down_seq) != w->seen_down_seq) {
			w->seen_down_seq = LOAD(&w->rt->down_seq);
			conn_reset_downed(w);
		}
		break;
	case EV_LISTEN:
		if (!w->paused)
			accept_batch(w, ev->data.ptr);
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
	if (w->paused && w->now >= w->resume_at)
		set_paused(w, 0);
}

static int
next_timeout(struct worker *w)
{
	struct timer	*t = timer_first(&w->timers);
	uint64_t	 at = t != NULL ? t->at : UINT64_MAX;

	if (w->again != NULL)
		return 0;
	if (w->paused && w->resume_at < at)
		at = w->resume_at;
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

	w->now = now_ms();
	sync_lsocks(w);
	while (!LOAD(&w->rt->exiting)) {
		/* Quiescent: nothing from an earlier batch is held. */
		STORE(&w->seen_epoch, LOAD(&w->rt->epoch));
		n = epoll_wait(w->epfd, events, MAX_EVENTS, next_timeout(w));
		if (n == -1 && errno != EINTR)
			fatal(2, "worker %d: epoll_wait", w->id);
		w->now = now_ms();
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

	if ((err = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
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
	conn_free_slabs(w);
	pipe_cache_clear(&w->pipes);
	timer_heap_free(&w->timers);
	while ((b = w->free_bufs) != NULL) {
		w->free_bufs = b->next;
		free(b);
	}
	free(w->reg);
	free(w->scratch);
	if (w->epfd != -1)
		close(w->epfd);
	if (w->wakefd != -1)
		close(w->wakefd);
}

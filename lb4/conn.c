/*
 * conn.c: the life of a proxied connection (relayd relay.c, nginx
 * ngx_stream_proxy_module.c).
 *
 *   accept -> CONNECTING -> ESTABLISHED -> CLOSED
 *                 |  ^ retry the next pick on refusal or timeout
 *                 +--+
 *
 * Both sockets are registered once, edge-triggered, for their whole life;
 * the side structs remember readiness between events.  Bytes move in two
 * flows (up: client to server, down: server to client).  Small reads are
 * copied through the worker's scratch buffer and sent at once, so a quiet
 * connection holds no pipe and no buffer; a read that fills the scratch
 * buffer switches the flow to splice(2) through a pooled pipe.  Bytes that
 * could not be sent wait in a pipe (or a buffer when no pipe can be had)
 * and are flushed before anything else is read.
 *
 * TCP urgent data: both sockets have SO_OOBINLINE, so an urgent byte stays
 * in the stream and is relayed as an ordinary byte (the urgency itself is
 * not, as in every proxy).  A read stops short at the urgent mark and
 * splice(2) does not cross it at all (it says EAGAIN there, or 0 once the
 * peer's FIN is in), so once epoll reports EPOLLPRI the side is read with
 * recv() until EAGAIN for the rest of its life, and a splice that says 0
 * is checked with a recv().
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "conn.h"
#include "atomic.h"
#include "clock.h"
#include "connlog.h"
#include "ev.h"
#include "listener.h"
#include "local.h"
#include "log.h"
#include "pool.h"
#include "proxy.h"
#include "stats.h"
#include "worker.h"

#define SPLICE_CHUNK	(1 << 20)	/* the pipe bounds it anyway */
#define SMALL_READ	4096		/* below this a flow goes back to copying */
#define PUMP_BUDGET	16		/* reads per flow per event, for fairness */
#define SLAB_CONNS	256

enum conn_state {
	CONN_FREE = 0,		/* on the free list */
	CONN_CONNECTING = 1,	/* waiting for the server's connect */
	CONN_ESTABLISHED = 2,	/* moving bytes */
	CONN_CLOSED = 3,	/* closed in this batch, freed after it */
};

struct side {
	int		 kind;		/* EV_CLIENT or EV_SERVER: first */
	int		 fd;
	struct conn	*conn;
	unsigned	 readable:1;	/* until read says EAGAIN */
	unsigned	 writable:1;	/* until write says EAGAIN */
	unsigned	 eof:1;		/* read returned 0 */
	unsigned	 hup:1;		/* epoll saw RDHUP/HUP/ERR: read to EOF */
	unsigned	 shut:1;	/* we sent SHUT_WR to this socket */
	unsigned	 urgent:1;	/* EPOLLPRI seen: recv() to EAGAIN */
};

struct flow {
	struct pipe	*pipe;		/* holds <piped> bytes, or NULL */
	struct buf	*buf;		/* holds <len> bytes from <off>, or NULL */
	uint32_t	 piped;
	uint32_t	 off;
	uint32_t	 len;
	unsigned	 bulk:1;	/* last read filled the scratch buffer */
	int		 stat;		/* STAT_BYTES_C2S or STAT_BYTES_S2C */
};

struct conn {
	struct side	 client;
	struct side	 backend;
	struct flow	 up;		/* client to server */
	struct flow	 down;		/* server to client */
	int		 state;		/* enum conn_state */
	uint8_t		 end;		/* enum conn_end of a failure */
	uint8_t		 end_known;	/* <end> is set */
	uint8_t		 fin_side;	/* EV_CLIENT/EV_SERVER: first EOF */
	uint16_t	 tries;		/* connect attempts */
	int32_t		 connect_ms;	/* -1 until a server answered */
	int		 retries_left;
	int		 idle_timeout_ms;
	unsigned	 in_again:1;
	unsigned	 local_fail:1;	/* the last connect failed locally */
	unsigned	 send_proxy:2;	/* enum send_proxy, the route's */
	uint64_t	 deadline;	/* real expiry; timer.at may lag */
	uint32_t	 queued;	/* socket queues at the last idle look */
	uint64_t	 tried;		/* pool indexes tried (struct pick) */
	unsigned	 down_gen;	/* server->down_gen when connected */
	uint64_t	 started;	/* ms, accept */
	uint64_t	 connect_at;	/* us, this attempt's connect() */
	uint64_t	 bytes[2];	/* c2s, s2c: for the log */
	struct timer	 timer;
	struct route	*route;		/* pinned: pool, listener, settings */
	struct server	*server;	/* pinned by its active count */
	struct conn	*next;		/* free or closing list */
	struct conn	*next_again;	/* again list; a closed conn stays on it */
	union {				/* the client, for a PROXY header */
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}		 peer;
};

#define CONN_OF_TIMER(t) \
	((struct conn *)((char *)(t) - offsetof(struct conn, timer)))

static void	conn_close(struct worker *, struct conn *, int, enum conn_end);
static void	conn_connect(struct worker *, struct conn *, int);
static void	set_keepalive(int, const struct conf_keepalive *);

/* Notes why <c> failed, the first reason only. */
static void
conn_note_end(struct conn *c, enum conn_end end)
{
	if (c->end_known)
		return;
	c->end = (uint8_t)end;
	c->end_known = 1;
}

/* A syscall on side <s> failed with <err>: whose failure it was. */
static void
side_failed(struct side *s, int err)
{
	if (err == ETIMEDOUT)
		conn_note_end(s->conn, END_KEEPALIVE);
	else if (err == ENOBUFS || err == ENOMEM)
		conn_note_end(s->conn, END_LOCAL_ERROR);
	else
		conn_note_end(s->conn, s->kind == EV_CLIENT ?
		    END_CLIENT_RESET : END_SERVER_RESET);
}

/* A conn from the free list, which grows a slab at a time; NULL on ENOMEM. */
static struct conn *
conn_alloc(struct conn_cache *cc)
{
	struct conn	*c, *slab;
	void		**slabs;
	int		 i;

	if (cc->free == NULL) {
		slabs = realloc(cc->slabs, sizeof(*slabs) *
		    (size_t)(cc->nslabs + 1));
		if (slabs == NULL)
			return NULL;
		cc->slabs = slabs;
		if ((slab = calloc(SLAB_CONNS, sizeof(*slab))) == NULL)
			return NULL;
		cc->slabs[cc->nslabs++] = slab;
		for (i = SLAB_CONNS - 1; i >= 0; i--) {
			slab[i].next = cc->free;
			cc->free = &slab[i];
		}
	}
	c = cc->free;
	cc->free = c->next;
	return c;
}

void
conn_cache_free(struct conn_cache *cc)
{
	int	i;

	for (i = 0; i < cc->nslabs; i++)
		free(cc->slabs[i]);
	free(cc->slabs);
	memset(cc, 0, sizeof(*cc));
}

static void
side_init(struct side *s, int kind, int fd, struct conn *c)
{
	s->kind = kind;
	s->fd = fd;
	s->conn = c;
	s->readable = 0;
	s->writable = 1;
	s->eof = 0;
	s->hup = 0;
	s->shut = 0;
	s->urgent = 0;
}

static void
flow_init(struct flow *f, int stat)
{
	memset(f, 0, sizeof(*f));
	f->stat = stat;
}

static int
flow_pending(const struct flow *f)
{
	return f->piped != 0 || f->len != 0;
}

/* Gives back the flow's pipe and buffer; a pipe with bytes is closed. */
static void
flow_release(struct worker *w, struct flow *f)
{
	if (f->pipe != NULL) {
		pipe_put(&w->pipes, f->pipe, f->piped == 0);
		f->pipe = NULL;
		f->piped = 0;
	}
	if (f->buf != NULL) {
		worker_buf_put(w, f->buf);
		f->buf = NULL;
		f->len = 0;
	}
}

/* A byte moved, either way: the idle timer starts again (lb4(8), "Idle
 * connections"). */
static void
conn_touch(struct worker *w, struct conn *c)
{
	c->deadline = w->now + (uint64_t)c->idle_timeout_ms;
}

static void
count_bytes(struct worker *w, struct conn *c, struct flow *f, ssize_t n)
{
	stats_add(&c->route->listener->stats[w->id], f->stat, n);
	stats_add(&c->server->stats[w->id], f->stat, n);
	c->bytes[f->stat == STAT_BYTES_S2C] += (uint64_t)n;
	conn_touch(w, c);
}

/*
 * Keeps <len> unsent bytes of <data> in the flow, which holds nothing
 * yet: in a pipe when splicing is on (the next flush splices them out),
 * else in a buffer.  A pipe that takes only part (a short pipe the kernel
 * gave past fs.pipe-user-pages-soft) keeps that part and the rest waits
 * in a buffer, flushed after the pipe: nothing is reset for lack of a
 * pipe.  Returns 0, or -1 when no buffer can be had (out of memory).
 */
static int
flow_stash(struct worker *w, struct flow *f, const char *data, size_t len)
{
	ssize_t	n = 0;

	if (load_relaxed(&w->rt->splice) && (f->pipe != NULL ||
	    (f->pipe = pipe_get(&w->pipes, w->now)) != NULL)) {
		if ((n = write(f->pipe->wfd, data, len)) == -1)
			n = 0;
		f->piped = (uint32_t)n;
		if ((size_t)n == len)
			return 0;
		if (n == 0) {
			pipe_put(&w->pipes, f->pipe, 1);
			f->pipe = NULL;
		}
	}
	if (f->buf == NULL && (f->buf = worker_buf_get(w)) == NULL) {
		local_error(w->id, LOCAL_MEMORY, ENOMEM, NULL, w->now);
		return -1;
	}
	memcpy(f->buf->data, data + n, len - (size_t)n);
	f->off = 0;
	f->len = (uint32_t)(len - (size_t)n);
	return 0;
}

/* Sends what the flow holds to <dst>.  Returns 0 (done or blocked), -1. */
static int
flow_flush(struct worker *w, struct flow *f, struct side *dst)
{
	ssize_t	n;

	while (flow_pending(f)) {
		if (f->piped != 0)
			n = splice(f->pipe->rfd, NULL, dst->fd, NULL, f->piped,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		else
			n = send(dst->fd, f->buf->data + f->off, f->len,
			    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				dst->writable = 0;
				return 0;
			}
			side_failed(dst, errno);
			return -1;
		}
		if (f->piped != 0)
			f->piped -= (uint32_t)n;
		else {
			f->off += (uint32_t)n;
			f->len -= (uint32_t)n;
		}
	}
	/* Drained: an idle connection holds no pipe and no buffer. */
	flow_release(w, f);
	return 0;
}

/* Splices up to a pipe's worth from <src>.  Returns bytes, 0 at EOF, -1. */
static ssize_t
flow_read_splice(struct flow *f, struct side *src)
{
	ssize_t	n;

	n = splice(src->fd, NULL, f->pipe->wfd, NULL, SPLICE_CHUNK,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		f->piped = (uint32_t)n;
		if (n < SMALL_READ)
			f->bulk = 0;
	}
	return n;
}

/* Copies one read from <src> straight to <dst>, stashing what's left. */
static ssize_t
flow_read_copy(struct worker *w, struct flow *f, struct side *src,
    struct side *dst)
{
	ssize_t	n, sent;

	n = recv(src->fd, w->scratch, WORKER_SCRATCH, 0);
	if (n <= 0)
		return n;
	if (n == WORKER_SCRATCH && load_relaxed(&w->rt->splice))
		f->bulk = 1;
	/*
	 * A short read emptied the socket: with edge triggering, new bytes
	 * raise a new event, so the recv() that would say EAGAIN is saved.
	 * Not once a FIN was signalled: that event is spent, read to EOF;
	 * nor after urgent data, where a read also stops at the mark.
	 */
	if (n < WORKER_SCRATCH && !src->hup && !src->urgent)
		src->readable = 0;
	sent = send(dst->fd, w->scratch, (size_t)n, MSG_NOSIGNAL);
	if (sent == -1) {
		if (errno != EAGAIN) {
			side_failed(dst, errno);
			return -1;
		}
		sent = 0;
	}
	if (sent < n) {
		dst->writable = 0;
		if (flow_stash(w, f, w->scratch + sent, (size_t)(n - sent)) ==
		    -1) {
			conn_note_end(src->conn, END_LOCAL_ERROR);
			errno = ENOBUFS;
			return -1;
		}
	}
	return n;
}

/*
 * Moves bytes from <src> to <dst> until one of them would block, the
 * budget runs out, or <src> ends (then <dst> gets SHUT_WR once flushed).
 * Returns 0, 1 when out of budget, or -1 when the connection must be
 * reset.
 */
static int
flow_pump(struct worker *w, struct conn *c, struct flow *f, struct side *src,
    struct side *dst)
{
	ssize_t	 n;
	uint64_t before;
	int	 budget = PUMP_BUDGET;

	for (;;) {
		if (flow_pending(f)) {
			if (!dst->writable)
				return 0;
			before = (uint64_t)f->piped + f->len;
			if (flow_flush(w, f, dst) == -1)
				return -1;
			/* A slow reader draining a backlog is not idle. */
			if ((uint64_t)f->piped + f->len != before)
				conn_touch(w, c);
			if (flow_pending(f))
				return 0;
		}
		if (src->eof) {
			if (!dst->shut) {
				/* The other way is over too: close() sends the
				 * FIN, so save the shutdown() call. */
				if (!(dst->eof && src->shut &&
				    !flow_pending(f == &c->up ? &c->down :
				    &c->up)))
					(void)shutdown(dst->fd, SHUT_WR);
				dst->shut = 1;
			}
			return 0;
		}
		if (!src->readable || !dst->writable)
			return 0;
		if (budget-- == 0)
			return 1;
		if (f->bulk && !src->urgent && f->pipe == NULL &&
		    (f->pipe = pipe_get(&w->pipes, w->now)) == NULL)
			f->bulk = 0;	/* no pipe: copy, ask again later */
		if (f->bulk && !src->urgent) {
			n = flow_read_splice(f, src);
			/* 0 is EOF, or the urgent mark once the peer's FIN
			 * is in: only recv() tells them apart. */
			if (n == 0 &&
			    (n = flow_read_copy(w, f, src, dst)) > 0)
				src->urgent = 1;
		} else
			n = flow_read_copy(w, f, src, dst);
		if (n > 0)
			count_bytes(w, c, f, n);
		else if (n == 0) {
			src->eof = 1;
			if (c->fin_side == 0)
				c->fin_side = (uint8_t)src->kind;
		} else if (errno == EAGAIN) {
			src->readable = 0;
			flow_release(w, f);
		} else if (errno != EINTR) {
			/* A failed send was noted already; else the read. */
			side_failed(src, errno);
			return -1;
		}
	}
}

static void
again_push(struct worker *w, struct conn *c)
{
	if (c->in_again)
		return;
	c->in_again = 1;
	c->next_again = w->conns.again;
	w->conns.again = c;
}

/* Runs both flows; closes the conn when both are done or one fails. */
static void
conn_pump(struct worker *w, struct conn *c)
{
	int	up, down;

	up = flow_pump(w, c, &c->up, &c->client, &c->backend);
	down = up == -1 ? 0 : flow_pump(w, c, &c->down, &c->backend,
	    &c->client);
	if (up == -1 || down == -1) {
		conn_close(w, c, 1, END_SERVER_RESET);	/* noted already */
		return;
	}
	if (up == 1 || down == 1)
		again_push(w, c);
	else if (c->client.eof && c->backend.eof && c->client.shut &&
	    c->backend.shut && !flow_pending(&c->up) &&
	    !flow_pending(&c->down))
		conn_close(w, c, 0, c->fin_side == EV_SERVER ?
		    END_SERVER_FIN : END_CLIENT_FIN);
}

int
conn_have_again(const struct worker *w)
{
	return w->conns.again != NULL;
}

void
conn_run_again(struct worker *w)
{
	struct conn	*c, *next;

	c = w->conns.again;
	w->conns.again = NULL;
	for (; c != NULL; c = next) {
		next = c->next_again;
		c->in_again = 0;
		if (c->state == CONN_ESTABLISHED)
			conn_pump(w, c);
	}
}

static void
set_linger_zero(int fd)
{
	struct linger	lin = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
}

/* Gives back the conn's server (pick, counters); a no-op without one. */
static void
conn_drop_server(struct worker *w, struct conn *c)
{
	if (c->server == NULL)
		return;
	stats_add(&c->server->stats[w->id], STAT_CONNS_ACTIVE, -1);
	pool_release(c->server);
	c->server = NULL;
}

/*
 * Counts how <c> ended (always) and queues its log record (when its
 * listener logs).  Before the server is given back: the record names it.
 */
static void
conn_account(struct worker *w, struct conn *c, enum conn_end end)
{
	struct stats_slot	*ls = &c->route->listener->stats[w->id];
	struct conn_record	 rec;
	uint64_t		 ms = w->now - c->started;

	stats_add(ls, STAT_END_0 + end, 1);
	stats_add(ls, STAT_DURATION_0 + stats_bucket(stats_duration_ms,
	    STATS_DURATION_BUCKETS, ms), 1);
	stats_add(ls, STAT_DURATION_SUM_MS, (int64_t)ms);
	if (!c->route->log || w->log == NULL)
		return;
	memset(&rec, 0, sizeof(rec));
	strncpy(rec.listener, c->route->listener->name,
	    sizeof(rec.listener) - 1);
	memcpy(&rec.client, &c->peer, sizeof(rec.client) < sizeof(c->peer) ?
	    sizeof(rec.client) : sizeof(c->peer));
	if (c->server != NULL && c->connect_ms >= 0 &&
	    c->server->addr.len <= sizeof(rec.server))
		memcpy(&rec.server, &c->server->addr.ss, c->server->addr.len);
	rec.c2s = c->bytes[0];
	rec.s2c = c->bytes[1];
	rec.duration_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	rec.connect_ms = rec.server.sa.sa_family == AF_UNSPEC ? -1 :
	    c->connect_ms;
	rec.tries = c->tries;
	rec.end = (uint8_t)end;
	(void)connlog_push(w->log, &rec);	/* full: counted there */
}

/*
 * The single end of a conn: counts how it ended (<end>, unless a failure
 * noted a more precise one), closes both sockets (with a reset when
 * <reset>, so the peer sees what the other side did), gives back pipes,
 * buffers, the server and the connection slot.  The memory itself is
 * reused only after the current epoll batch.
 */
static void
conn_close(struct worker *w, struct conn *c, int reset, enum conn_end end)
{
	struct stats_slot	*ls = &c->route->listener->stats[w->id];

	if (c->state == CONN_CLOSED)
		return;
	conn_account(w, c, c->end_known ? (enum conn_end)c->end : end);
	if (reset) {
		set_linger_zero(c->client.fd);
		if (c->backend.fd != -1)
			set_linger_zero(c->backend.fd);
	}
	close(c->client.fd);
	if (c->backend.fd != -1)
		close(c->backend.fd);
	flow_release(w, &c->up);
	flow_release(w, &c->down);
	conn_drop_server(w, c);
	timer_del(&w->timers, &c->timer);
	stats_add(ls, STAT_CONNS_ACTIVE, -1);
	route_pin(c->route, w->id, -1);
	sub_relaxed(&w->rt->conns, 1);
	c->state = CONN_CLOSED;
	c->next = w->conns.closing;
	w->conns.closing = c;
}

void
conn_reap(struct worker *w)
{
	struct conn	*c;

	while ((c = w->conns.closing) != NULL) {
		w->conns.closing = c->next;
		c->state = CONN_FREE;
		c->next = w->conns.free;
		w->conns.free = c;
	}
}

void
conn_reset_downed(struct worker *w)
{
	struct conn	*c;
	struct server	*s;
	int		 i, j;

	/* Rare (a server went down), so a walk over every slot is fine. */
	for (i = 0; i < w->conns.nslabs; i++)
		for (j = 0; j < SLAB_CONNS; j++) {
			c = (struct conn *)w->conns.slabs[i] + j;
			if (c->state != CONN_ESTABLISHED ||
			    (s = c->server) == NULL ||
			    load_relaxed(&s->on_down) != ON_DOWN_RESET ||
			    load_acquire(&s->down_gen) == c->down_gen)
				continue;
			stats_add(&s->stats[w->id], STAT_DOWN_RESETS, 1);
			conn_close(w, c, 1, END_SERVER_DOWN);
		}
}

void
conn_close_all(struct worker *w)
{
	struct timer	*t;

	while ((t = timer_first(&w->timers)) != NULL)
		conn_close(w, CONN_OF_TIMER(t), 1, END_SHUTDOWN);
	conn_reap(w);
}

/* Re-arms the conn's heap entry at its deadline (lazily moved). */
static void
conn_arm(struct worker *w, struct conn *c, uint64_t deadline)
{
	c->deadline = deadline;
	if (deadline < c->timer.at)
		timer_move(&w->timers, &c->timer, deadline);
}

static int
epoll_add(struct worker *w, struct side *s)
{
	struct epoll_event	ev;

	ev.events = EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = s;
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->fd, &ev);
}

/*
 * The connect to c->server failed with <err> (0: refused or timed out, as
 * epoll or the timer said).  A local error (local.h: no source port, fd,
 * memory) is counted as ours, never toward the server's fall; anything
 * else is the server's.  Then the next pick, within retries; when they
 * run out the client is closed, with a reset after a local error (lb4(8),
 * "Local errors").
 */
static void
connect_failed(struct worker *w, struct conn *c, int err)
{
	struct server	*s = c->server;
	int		 reason = err != 0 ? local_reason_of(err) : -1;
	char		 peer[ADDR_TEXT_MAX + 128];

	c->local_fail = reason != -1;
	if (reason != -1) {
		snprintf(peer, sizeof(peer), "%s/%s", s->pool_name,
		    s->addr.text);
		local_error(w->id, (enum local_reason)reason, err, peer,
		    w->now);
	} else {
		/* Reaching fall: wake the main thread now rather than at its
		 * next tick, so the server leaves the pick (and keepalived
		 * learns of an empty pool) without waiting. */
		if (pool_report(s, 0) == load_relaxed(&s->passive_fall))
			worker_wake_main(w);
		stats_add(&s->stats[w->id], STAT_CONNECT_ERRORS, 1);
	}
	conn_drop_server(w, c);
	if (c->backend.fd != -1) {
		close(c->backend.fd);
		c->backend.fd = -1;
	}
	if (c->retries_left-- > 0)
		conn_connect(w, c, 0);
	else
		conn_close(w, c, c->local_fail, c->local_fail ?
		    END_LOCAL_ERROR : END_CONNECT_FAILED);
}

/*
 * A non-blocking socket toward the picked server, bound to the pick's
 * source address when the pool has some (IP_BIND_ADDRESS_NO_PORT: the
 * port is chosen at connect() per destination, so each source address
 * adds a whole port range toward each server).  Out of descriptors, one
 * of the worker's reserve is given up so that the accepted client still
 * gets its server socket, and accepting pauses.  Returns the fd, or -1
 * with errno.
 */
static int
conn_socket(struct worker *w, struct pool *pool, const struct pick *pick,
    int family)
{
	struct sockaddr_storage	 src = pick->source;
	socklen_t		 srclen = pick->source_len;
	int			 fd, err, left = pick->nsources;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 && (errno == EMFILE || errno == ENFILE) &&
	    acceptor_reserve_use(w) == 0)
		fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	(void)setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &(int){1}, sizeof(int));
	if (srclen == 0)
		return fd;
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &(int){1},
	    sizeof(int));
	/*
	 * With IP_BIND_ADDRESS_NO_PORT, bind() takes no port: EADDRNOTAVAIL
	 * here means the address left this host (a VIP moved away): the
	 * server's other sources are tried before a retry is spent.
	 */
	while (bind(fd, (const struct sockaddr *)&src, srclen) == -1) {
		err = errno;
		if (err != EADDRNOTAVAIL || --left <= 0 ||
		    pool_another_source(pool, pick->server, &src, &srclen) ==
		    -1) {
			close(fd);
			errno = err;
			return -1;
		}
	}
	return fd;
}

/*
 * Bytes waiting in the sockets of <c>: sent by lb4 and not yet
 * acknowledged by the peer (SIOCOUTQ), plus received and not read
 * (SIOCINQ), both sides.
 */
static uint32_t
conn_queued(const struct conn *c)
{
	const struct side	*sides[2] = { &c->client, &c->backend };
	uint32_t		 sum = 0;
	int			 i, n;

	for (i = 0; i < 2; i++) {
		if (sides[i]->fd == -1)
			continue;
		if (ioctl(sides[i]->fd, SIOCOUTQ, &n) == 0 && n > 0)
			sum += (uint32_t)n;
		if (ioctl(sides[i]->fd, SIOCINQ, &n) == 0 && n > 0)
			sum += (uint32_t)n;
	}
	return sum;
}

/*
 * The idle timer of an established <c> fired.  A peer that took bytes
 * out of the socket queues since the last look is not idle (a slow
 * reader draining what lb4 wrote long ago, which raises no event): the
 * timer starts again.  Otherwise the connection is closed: with a reset
 * when bytes still wait in either direction (in lb4's pipes or buffers,
 * or in the queues), so that a cut stream cannot pass for a complete
 * one, else with a FIN.
 */
static void
conn_idle(struct worker *w, struct conn *c)
{
	uint32_t	queued = conn_queued(c);

	if (queued != 0 && queued != c->queued) {
		c->queued = queued;
		conn_touch(w, c);
		timer_move(&w->timers, &c->timer, c->deadline);
		return;
	}
	conn_close(w, c, queued != 0 || flow_pending(&c->up) ||
	    flow_pending(&c->down), END_IDLE_TIMEOUT);
}

/*
 * Sends the PROXY header (client -> the address it reached on lb4) as the
 * first bytes to the server.  Nothing has been read from the client yet,
 * so nothing can go before it; what the socket does not take at once
 * waits in the up flow, which is flushed before any client byte is read.
 * Returns 0, or -1 when the conn must be reset.
 */
static int
conn_send_proxy(struct worker *w, struct conn *c)
{
	struct sockaddr_storage	 local;
	socklen_t		 len = sizeof(local);
	char			 hdr[PROXY_HEADER_MAX];
	ssize_t			 n, sent;

	if (getsockname(c->client.fd, (struct sockaddr *)&local, &len) == -1)
		return -1;
	n = proxy_header(c->send_proxy, &c->peer.sa,
	    (struct sockaddr *)&local, hdr, sizeof(hdr));
	if (n == -1)
		return -1;
	sent = send(c->backend.fd, hdr, (size_t)n, MSG_NOSIGNAL);
	if (sent == -1) {
		if (errno != EAGAIN)
			return -1;
		sent = 0;
	}
	if (sent < n) {
		c->backend.writable = 0;
		return flow_stash(w, &c->up, hdr + sent, (size_t)(n - sent));
	}
	return 0;
}

static void
conn_established(struct worker *w, struct conn *c)
{
	struct stats_slot	*ss = &c->server->stats[w->id];
	uint64_t		 us = clock_us() - c->connect_at;

	pool_report(c->server, 1);
	c->state = CONN_ESTABLISHED;
	c->connect_ms = (int32_t)((us + 500) / 1000);
	stats_add(ss, STAT_CONNECT_0 + stats_bucket(stats_connect_us,
	    STATS_CONNECT_BUCKETS, us), 1);
	stats_add(ss, STAT_CONNECT_SUM_US, (int64_t)us);
	conn_arm(w, c, w->now + (uint64_t)c->idle_timeout_ms);
	if (c->send_proxy != SEND_PROXY_NONE && conn_send_proxy(w, c) == -1) {
		conn_close(w, c, 1, END_SERVER_RESET);
		return;
	}
	conn_pump(w, c);
}

/*
 * Picks a server from the pool of the conn's route and starts a
 * non-blocking connect.  A retry after a reload still picks from the
 * route that accepted the conn, with its settings.
 */
static void
conn_connect(struct worker *w, struct conn *c, int first)
{
	struct pick	 pick;
	struct server	*s;
	int		 fd, family;

	memset(&pick, 0, sizeof(pick));
	pick.tried = first ? 0 : c->tried;
	if (pool_pick(c->route->pool, &pick) == -1) {
		/* After a failed attempt the retries ran out of servers;
		 * after a local error, the client gets a reset. */
		conn_close(w, c, !first && c->local_fail, !first &&
		    c->local_fail ? END_LOCAL_ERROR : c->tries == 0 ?
		    END_NO_SERVER : END_CONNECT_FAILED);
		return;
	}
	s = c->server = pick.server;
	c->tried = pick.tried;
	/* Before the connect: a mark-down from now on resets this conn. */
	c->down_gen = load_acquire(&s->down_gen);
	stats_add(&s->stats[w->id], STAT_CONNS_TOTAL, 1);
	stats_add(&s->stats[w->id], STAT_CONNS_ACTIVE, 1);
	if (first)
		c->retries_left = c->route->retries;
	family = s->addr.ss.ss_family;
	if ((fd = conn_socket(w, c->route->pool, &pick, family)) == -1) {
		c->backend.fd = -1;
		connect_failed(w, c, local_reason_of(errno) != -1 ? errno :
		    ENOBUFS);
		return;
	}
	side_init(&c->backend, EV_SERVER, fd, c);
	set_keepalive(fd, &c->route->server_ka);
	c->tries++;
	c->connect_at = clock_us();
	if (connect(fd, (struct sockaddr *)&s->addr.ss, s->addr.len) == -1 &&
	    errno != EINPROGRESS) {
		/* EAGAIN: no free port on kernels before 4.x said so. */
		connect_failed(w, c, errno == EAGAIN ? EADDRNOTAVAIL : errno);
		return;
	}
	if (epoll_add(w, &c->backend) == -1) {
		conn_close(w, c, 0, END_LOCAL_ERROR);
		return;
	}
	conn_arm(w, c, w->now + (uint64_t)c->route->connect_timeout_ms);
}

/*
 * SO_KEEPALIVE with <k> on <fd> (tcp_keepalive): a peer that vanished
 * without a reset (a crashed host, a firewall that drops) makes the socket
 * fail with ETIMEDOUT after idle + interval x count seconds of silence,
 * and the conn ends with a reset on both sides.  idle_s 0 leaves the
 * socket as it is.
 */
static void
set_keepalive(int fd, const struct conf_keepalive *k)
{
	if (k->idle_s == 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &(int){1},
	    sizeof(int));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &k->idle_s,
	    sizeof(int));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &k->interval_s,
	    sizeof(int));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &k->count,
	    sizeof(int));
}

void
conn_start(struct worker *w, struct route *r, int fd,
    const struct sockaddr *peer, socklen_t peerlen)
{
	struct stats_slot *ls = &r->listener->stats[w->id];
	struct conn	*c;

	if ((c = conn_alloc(&w->conns)) == NULL) {
		/* Out of memory: give back the max_connections slot too. */
		close(fd);
		sub_relaxed(&w->rt->conns, 1);
		stats_add(ls, STAT_END_0 + END_LOCAL_ERROR, 1);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->started = w->now;
	c->connect_ms = -1;
	if (peerlen <= sizeof(c->peer))
		memcpy(&c->peer, peer, peerlen);
	c->route = r;
	route_pin(r, w->id, 1);
	c->idle_timeout_ms = r->idle_timeout_ms;
	c->send_proxy = (unsigned)r->send_proxy & 3;
	set_keepalive(fd, &r->client_ka);
	side_init(&c->client, EV_CLIENT, fd, c);
	c->backend.fd = -1;
	flow_init(&c->up, STAT_BYTES_C2S);
	flow_init(&c->down, STAT_BYTES_S2C);
	c->timer.idx = -1;
	stats_add(ls, STAT_CONNS_TOTAL, 1);
	stats_add(ls, STAT_CONNS_ACTIVE, 1);
	/* From here on conn_close() accounts for the connection. */
	c->state = CONN_CONNECTING;
	c->deadline = UINT64_MAX;
	if (timer_add(&w->timers, &c->timer, UINT64_MAX) == -1 ||
	    epoll_add(w, &c->client) == -1) {
		conn_close(w, c, 0, END_LOCAL_ERROR);
		return;
	}
	conn_connect(w, c, 1);
}

static void
side_event(struct side *s, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->readable = 1;
	if (events & EPOLLPRI)
		s->urgent = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->hup = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		s->writable = 1;
}

void
conn_io(struct worker *w, void *ptr, uint32_t events)
{
	struct side	*s = ptr;
	struct conn	*c = s->conn;

	if (c->state == CONN_CLOSED || c->state == CONN_FREE)
		return;
	side_event(s, events);
	if (c->state == CONN_CONNECTING) {
		if (s->kind == EV_CLIENT) {
			/* A client that resets while we connect is gone. */
			if (events & EPOLLERR)
				conn_close(w, c, 1, END_CLIENT_RESET);
			return;
		}
		if (events & (EPOLLERR | EPOLLHUP))
			connect_failed(w, c, 0);
		else if (events & EPOLLOUT)
			conn_established(w, c);
		return;
	}
	conn_pump(w, c);
}

void
conn_timeout(struct worker *w, struct timer *t)
{
	struct conn	*c = CONN_OF_TIMER(t);

	if (c->deadline > w->now) {
		timer_move(&w->timers, t, c->deadline);
		return;
	}
	if (c->state == CONN_CONNECTING) {
		c->deadline = UINT64_MAX;
		timer_move(&w->timers, t, UINT64_MAX);
		connect_failed(w, c, 0);
	} else
		conn_idle(w, c);
}

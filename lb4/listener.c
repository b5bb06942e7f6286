/*
 * listener.c: listeners, routes, bound sockets, and accepting.
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
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "acl.h"
#include "atomic.h"
#include "conn.h"
#include "connlog.h"
#include "ev.h"
#include "listener.h"
#include "local.h"
#include "log.h"
#include "pool.h"
#include "worker.h"

#define LISTEN_BACKLOG	4096
#define DENIED_LOG_MS	10000
#define ACCEPT_BATCH	64	/* then let other workers and conns run */
#define PAUSE_MS	100	/* accepting pauses this long when full */
#define PAUSE_LOG_MS	10000

struct listener *
listener_new(const char *name, int nworkers)
{
	struct listener	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->name = strdup(name)) == NULL ||
	    (l->stats = stats_new(nworkers)) == NULL) {
		free(l->name);
		free(l);
		return NULL;
	}
	return l;
}

void
listener_unref(struct listener *l)
{
	if (l == NULL || --l->refs > 0)
		return;
	free(l->name);
	stats_free(l->stats);
	free(l);
}

struct route *
route_new(struct listener *l, struct pool *pool,
    const struct conf_listener *cl, const struct conf_pool *cp,
    int nworkers)
{
	struct route	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->pins = aligned_alloc(sizeof(*r->pins),
	    sizeof(*r->pins) * (size_t)(nworkers > 0 ? nworkers : 1));
	if (r->pins == NULL)
		goto fail;
	memset(r->pins, 0, sizeof(*r->pins) * (size_t)(nworkers > 0 ?
	    nworkers : 1));
	r->npins = nworkers;
	if ((cl->nallow > 0 || cl->ndeny > 0) && (r->acl = acl_new(cl->allow,
	    cl->nallow, cl->deny, cl->ndeny)) == NULL)
		goto fail;
	r->idle_timeout_ms = cl->idle_timeout_ms;
	r->connect_timeout_ms = cp->connect_timeout_ms;
	r->retries = cp->retries;
	r->send_proxy = (int)cp->send_proxy;
	r->log = cl->log;
	r->client_ka = cl->keepalive;
	r->server_ka = cp->keepalive;
	r->listener = l;
	r->pool = pool;
	l->refs++;
	pool->refs++;
	return r;
fail:
	free(r->pins);
	free(r);
	return NULL;
}

void
route_free(struct route *r)
{
	if (r == NULL)
		return;
	listener_unref(r->listener);
	pool_unref(r->pool);
	acl_free(r->acl);
	free(r->pins);
	free(r);
}

long
route_pinned(const struct route *r)
{
	long	n = 0;
	int	i;

	for (i = 0; i < r->npins; i++)
		n += load_acquire(&r->pins[i].n);
	return n;
}

void
listener_log_denied(struct listener *l, int nworkers, uint64_t now)
{
	uint64_t	denied, n;

	if (l->denied_log_at != 0 && now - l->denied_log_at < DENIED_LOG_MS)
		return;
	denied = stats_sum(l->stats, nworkers + 1, STAT_DENIED);
	if (denied == l->denied_logged)
		return;
	n = denied - l->denied_logged;
	if (l->denied_log_at == 0)
		log_info("listener %s: refused %llu connection%s by allow/deny "
		    "(further refusals are summed up every %d s)", l->name,
		    (unsigned long long)n, n == 1 ? "" : "s",
		    DENIED_LOG_MS / 1000);
	else
		log_info("listener %s: refused %llu connection%s by allow/deny "
		    "in the last %llu s", l->name, (unsigned long long)n,
		    n == 1 ? "" : "s",
		    (unsigned long long)(now - l->denied_log_at + 500) / 1000);
	l->denied_logged = denied;
	l->denied_log_at = now;
}

static int
set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

struct lsock *
lsock_open(const struct addr *a)
{
	struct lsock	*ls;
	int		 fd, family = a->ss.ss_family, saved;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) == -1 ||
	    (family == AF_INET6 &&
	    set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == -1) ||
	    set_int(fd, family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
	    family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, 1) == -1 ||
	    /* Inherited by accepted sockets: one setsockopt per listener
	     * instead of one per connection.  OOBINLINE keeps a byte sent
	     * as TCP urgent data in the stream (conn.c). */
	    set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1) == -1 ||
	    set_int(fd, SOL_SOCKET, SO_OOBINLINE, 1) == -1 ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1)
		goto fail;
	ls->kind = EV_LISTEN;
	ls->fd = fd;
	ls->addr = *a;
	return ls;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	free(ls);
	errno = saved;
	return NULL;
}

void
lsock_free(struct lsock *ls)
{
	if (ls == NULL)
		return;
	if (ls->fd != -1)
		close(ls->fd);
	free(ls);
}

/* ------------------------------------------------------------ accepting */

static int
watch(struct worker *w, struct lsock *ls, int on)
{
	struct epoll_event	ev;

	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = ls;
	return epoll_ctl(w->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, ls->fd,
	    &ev);
}

static int
reg_find(const struct acceptor *a, const struct lsock *ls)
{
	int	i;

	for (i = 0; i < a->nreg; i++)
		if (a->reg[i] == ls)
			return i;
	return -1;
}

static void
reg_add(struct worker *w, struct lsock *ls)
{
	struct acceptor	*a = &w->acceptor;
	struct lsock	**reg;

	reg = realloc(a->reg, sizeof(struct lsock *) * (size_t)(a->nreg + 1));
	if (reg == NULL) {
		log_warnx("worker %d: out of memory registering a listener",
		    w->id);
		return;
	}
	a->reg = reg;
	if (!a->paused && watch(w, ls, 1) == -1) {
		log_warn("worker %d: cannot watch %s", w->id, ls->addr.text);
		return;
	}
	a->reg[a->nreg++] = ls;
}

static void
reg_del(struct worker *w, int i)
{
	struct acceptor	*a = &w->acceptor;

	if (!a->paused)
		(void)watch(w, a->reg[i], 0);
	a->reg[i] = a->reg[--a->nreg];
}

static int
in_set(struct lsock *const *set, int n, const struct lsock *ls)
{
	int	i;

	for (i = 0; i < n; i++)
		if (set[i] == ls)
			return 1;
	return 0;
}

void
acceptor_sync(struct worker *w, struct lsock *const *set, int n,
    int stopping)
{
	struct acceptor	*a = &w->acceptor;
	int		 i;

	for (i = a->nreg - 1; i >= 0; i--)
		if (stopping || !in_set(set, n, a->reg[i]))
			reg_del(w, i);
	for (i = 0; !stopping && i < n; i++)
		if (reg_find(a, set[i]) == -1)
			reg_add(w, set[i]);
}

static void
set_paused(struct worker *w, int paused)
{
	struct acceptor	*a = &w->acceptor;
	int		 i;

	if (a->paused == paused)
		return;
	for (i = 0; i < a->nreg; i++)
		(void)watch(w, a->reg[i], !paused);
	a->paused = paused;
	a->resume_at = w->now + PAUSE_MS;
}

static void
pause_accepting(struct worker *w, const char *why)
{
	struct acceptor	*a = &w->acceptor;

	set_paused(w, 1);
	if (a->last_pause_log == 0 ||
	    w->now - a->last_pause_log >= PAUSE_LOG_MS) {
		log_warnx("worker %d: %s: accepting paused for %d ms", w->id,
		    why, PAUSE_MS);
		a->last_pause_log = w->now;
	}
}

void
acceptor_tick(struct worker *w)
{
	struct acceptor	*a = &w->acceptor;

	if (!a->paused || w->now < a->resume_at)
		return;
	/* Accept again only with the fd reserve whole. */
	if (acceptor_reserve_fill(a) == 0)
		set_paused(w, 0);
	else
		a->resume_at = w->now + PAUSE_MS;
}

int
acceptor_reserve_fill(struct acceptor *a)
{
	int	fd;

	while (a->nreserve < ACCEPT_FD_RESERVE) {
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
			return -1;
		a->reserve[a->nreserve++] = fd;
	}
	return 0;
}

int
acceptor_reserve_use(struct worker *w)
{
	struct acceptor	*a = &w->acceptor;

	if (a->nreserve == 0)
		return -1;
	close(a->reserve[--a->nreserve]);
	local_error(w->id, LOCAL_FD, EMFILE, NULL, w->now);
	pause_accepting(w, "out of file descriptors, the reserve answered "
	    "an accepted client");
	return 0;
}

long
acceptor_wait_ms(const struct acceptor *a, uint64_t now)
{
	if (!a->paused)
		return -1;
	return a->resume_at > now ? (long)(a->resume_at - now) : 0;
}

void
acceptor_free(struct acceptor *a)
{
	while (a->nreserve > 0)
		close(a->reserve[--a->nreserve]);
	free(a->reg);
	a->reg = NULL;
	a->nreg = 0;
}

/* Takes one slot of global.max_connections; 0 when full. */
static int
take_slot(struct worker *w)
{
	struct runtime	*rt = w->rt;

	if (add_relaxed(&rt->conns, 1) <= load_relaxed(&rt->max_connections))
		return 1;
	sub_relaxed(&rt->conns, 1);
	return 0;
}

/*
 * Refuses the client on <fd> that <r>'s allow/deny turned away: a reset at
 * once, before any server is picked, and a count in the listener's slot.
 * No log line here: the main thread logs a rate-limited summary
 * (listener_log_denied()), so a flood cannot fill the journal.  The reset
 * (SO_LINGER 0) leaves no TIME_WAIT behind on lb4's side.
 */
static void
refuse(struct worker *w, struct route *r, int fd,
    const struct sockaddr *peer, socklen_t len)
{
	struct stats_slot	*ls = &r->listener->stats[w->id];
	struct linger		 lin = { 1, 0 };
	struct conn_record	 rec;

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(fd);
	sub_relaxed(&w->rt->conns, 1);
	stats_add(ls, STAT_DENIED, 1);
	stats_add(ls, STAT_END_0 + END_DENIED, 1);
	stats_add(ls, STAT_DURATION_0, 1);
	if (!r->log || w->log == NULL)
		return;
	memset(&rec, 0, sizeof(rec));
	strncpy(rec.listener, r->listener->name, sizeof(rec.listener) - 1);
	if (len <= sizeof(rec.client))
		memcpy(&rec.client, peer, len);
	rec.connect_ms = -1;
	rec.end = END_DENIED;
	(void)connlog_push(w->log, &rec);
}

void
acceptor_run(struct worker *w, struct lsock *ls)
{
	struct sockaddr_storage	 peer;
	struct route		*r;
	socklen_t		 len;
	int			 fd, i;

	for (i = 0; i < ACCEPT_BATCH && !w->acceptor.paused; i++) {
		if (!take_slot(w)) {
			pause_accepting(w, "max_connections reached");
			return;
		}
		len = sizeof(peer);
		fd = accept4(ls->fd, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			sub_relaxed(&w->rt->conns, 1);
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
				local_error(w->id, errno == EMFILE ||
				    errno == ENFILE ? LOCAL_FD : LOCAL_MEMORY,
				    errno, NULL, w->now);
				pause_accepting(w, log_strerror(errno));
				return;
			default:
				log_warn("worker %d: accept on %s", w->id,
				    ls->addr.text);
				return;
			}
		}
		/* The route is valid for this batch (reload.c); the pin
		 * keeps it for the connection's life. */
		r = load_acquire(&ls->route);
		if (!acl_allows(r->acl, (struct sockaddr *)&peer)) {
			refuse(w, r, fd, (struct sockaddr *)&peer, len);
			continue;
		}
		conn_start(w, r, fd, (struct sockaddr *)&peer, len);
	}
}

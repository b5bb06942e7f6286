/*
 * listener.c: bind and listen.  Accepting is the workers' job (worker.c);
 * this file only makes and unmakes the sockets.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "ev.h"
#include "listener.h"
#include "log.h"

#define LISTEN_BACKLOG	4096
#define DENIED_LOG_MS	10000

struct listener *
listener_new(const char *name, int nworkers)
{
	struct listener	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->name = strdup(name)) == NULL ||
	    (l->stats = stats_new(nworkers)) == NULL) {
		listener_free(l);
		return NULL;
	}
	l->in_conf = 1;
	return l;
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	free(l->name);
	stats_free(l->stats);
	acl_free(l->acl);
	free(l);
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

long
listener_active(const struct listener *l, int nworkers)
{
	return (long)stats_sum(l->stats, nworkers + 1, STAT_CONNS_ACTIVE);
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

void
listener_set_keepalive(struct listener *l, const struct conf_keepalive *k)
{
	/* Workers read each field with an atomic load per new client. */
	__atomic_store_n(&l->ka_interval_s, k->interval_s, __ATOMIC_RELAXED);
	__atomic_store_n(&l->ka_count, k->count, __ATOMIC_RELAXED);
	__atomic_store_n(&l->ka_idle_s, k->idle_s, __ATOMIC_RELAXED);
}

/*
 * health_tcp.c: the checks over a TCP connection (keepalived check_tcp.c
 * and check_http.c; relayd check_tcp.c): tcp (the connect succeeds),
 * send-expect (send `send`, read until `expect` appears), http (GET
 * `path`, compare the status line's code with `status`), and the probe
 * that a server marked down passively passes first (its own port accepts
 * a connection; then the check proper of its kind starts).
 *
 * One non-blocking socket per check, watched by the main loop: CONNECT,
 * then SEND and RECV for the kinds with a request or a reply to judge.
 * A stale event for a reused fd number is harmless: each step treats
 * EAGAIN (and a connect not done yet) as "not yet".
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "health_kind.h"
#include "local.h"
#include "log.h"
#include "pool.h"

#define PROBE_WHAT	"server port"	/* reason prefix of a failed probe */

/*
 * The address to connect <c> to: the server's, with the check port
 * (c->port) unless <c> probes the server's own port.
 */
static void
target(const struct check *c, struct sockaddr_storage *ss, socklen_t *len)
{
	*ss = c->server->addr.ss;
	*len = c->server->addr.len;
	if (c->port != 0 && !health_probing(c)) {
		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port =
			    htons((uint16_t)c->port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port =
			    htons((uint16_t)c->port);
	}
}

/* Watches c->h for <events> (added, or modified when already added). */
static int
watch(struct check *c, uint32_t events, int added)
{
	int	r = added ? loop_mod(&c->h, events) : loop_add(&c->h, events);

	if (r == -1)
		health_errno_reason(c, "epoll", errno);
	return r;
}

static void
want_reply(struct check *c)
{
	c->phase = PHASE_RECV;
	c->nbuf = 0;
	if (watch(c, EPOLLIN, 1) == -1)
		health_finish(c, 0);
}

static void
try_send(struct check *c)
{
	ssize_t	n;

	while (c->reqoff < c->reqlen) {
		n = send(c->h.fd, c->req + c->reqoff, c->reqlen - c->reqoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (watch(c, EPOLLOUT, 1) == -1)
				health_finish(c, 0);
			return;
		}
		if (n == -1) {
			health_errno_reason(c, NULL, errno);
			health_finish(c, 0);
			return;
		}
		c->reqoff += (size_t)n;
	}
	want_reply(c);
}

static void
connected(struct check *c)
{
	if (health_probing(c)) {
		/* The server's own port accepts: now the check proper. */
		c->run = c->kind;
		health_close(&c->h);
		log_debug("server %s: its own port accepts connections again",
		    c->name);
		c->run->start(c);
		return;
	}
	if (c->run->request == NULL) {
		health_finish(c, 1);
		return;
	}
	if (c->run->request(c) == -1) {
		health_finish(c, 0);
		return;
	}
	c->reqoff = 0;
	c->phase = PHASE_SEND;
	if (c->req == NULL)
		want_reply(c);
	else
		try_send(c);
}

static void
on_readable(struct check *c)
{
	ssize_t	n;
	int	r;

	for (;;) {
		/* Room is left: a judge keeps the buffer from filling up or
		 * decides once it is full. */
		n = recv(c->h.fd, c->buf + c->nbuf, sizeof(c->buf) - 1 -
		    c->nbuf, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			health_errno_reason(c, NULL, errno);
			health_finish(c, 0);
			return;
		}
		c->nbuf += (size_t)n;
		if ((r = c->run->judge(c, n == 0)) != -1) {
			health_finish(c, r);
			return;
		}
	}
}

/*
 * Binds c->h.fd to the next source address of <family>, as connections
 * do (IP_BIND_ADDRESS_NO_PORT).  Returns 0 (also when there is none), or
 * -1 with errno.
 */
static int
bind_source(struct check *c, int family)
{
	const struct addr	*a;
	int			 i;

	for (i = 0; i < c->nsources; i++) {
		a = &c->sources[c->source_next++ % (unsigned)c->nsources];
		if (a->ss.ss_family != family)
			continue;
		if (setsockopt(c->h.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
		    &(int){1}, sizeof(int)) == -1 ||
		    bind(c->h.fd, (const struct sockaddr *)&a->ss, a->len) ==
		    -1)
			return -1;
		return 0;
	}
	return 0;
}

/* start of every socket kind: a non-blocking connect. */
static void
tcp_start(struct check *c)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	target(c, &ss, &len);
	c->h.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->h.fd == -1 || bind_source(c, ss.ss_family) == -1) {
		if (local_reason_of(errno) != -1) {
			health_finish_local(c, errno);
			return;
		}
		health_errno_reason(c, "socket", errno);
		health_finish(c, 0);
		return;
	}
	c->phase = PHASE_CONNECT;
	if (connect(c->h.fd, (struct sockaddr *)&ss, len) == 0) {
		if (watch(c, EPOLLIN, 0) == -1)
			health_finish(c, 0);
		else
			connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		if (local_reason_of(errno) != -1 || errno == EAGAIN) {
			health_finish_local(c, errno == EAGAIN ?
			    EADDRNOTAVAIL : errno);
			return;
		}
		health_errno_reason(c, health_probing(c) ? PROBE_WHAT : NULL,
		    errno);
		health_finish(c, 0);
		return;
	}
	if (watch(c, EPOLLOUT, 0) == -1)
		health_finish(c, 0);
}

static void
on_connect_event(struct check *c)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(int);
	int			err = 0;

	if (getsockopt(c->h.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		health_errno_reason(c, health_probing(c) ? PROBE_WHAT : NULL,
		    err);
		health_finish(c, 0);
		return;
	}
	len = sizeof(ss);
	if (getpeername(c->h.fd, (struct sockaddr *)&ss, &len) == -1)
		return;		/* still connecting: a stale event */
	connected(c);
}

/* event of every socket kind. */
static void
tcp_event(struct check *c)
{
	switch (c->phase) {
	case PHASE_CONNECT:
		on_connect_event(c);
		break;
	case PHASE_SEND:
		try_send(c);
		break;
	case PHASE_RECV:
		on_readable(c);
		break;
	default:
		break;		/* not a socket phase: stale */
	}
}

/* expire of every socket kind: a timeout is a failure. */
static void
tcp_expire(struct check *c, uint64_t now)
{
	(void)now;
	snprintf(c->reason, sizeof(c->reason), "timeout after %d ms",
	    c->cfg.timeout_ms);
	health_finish(c, 0);
}

/* ---------------------------------------------------------- send-expect */

static int
send_expect_request(struct check *c)
{
	if (c->cfg.send == NULL || c->cfg.send[0] == '\0')
		return 0;		/* only read */
	if ((c->req = strdup(c->cfg.send)) == NULL) {
		snprintf(c->reason, sizeof(c->reason), "out of memory");
		return -1;
	}
	c->reqlen = strlen(c->req);
	return 0;
}

/*
 * Passes once `expect` is among the bytes read.  A full buffer keeps only
 * its tail that a match could start in, so the reply is read to its end
 * in bounded memory.
 */
static int
send_expect_judge(struct check *c, int eof)
{
	char	q[96];
	size_t	keep;

	c->buf[c->nbuf] = '\0';
	if (memmem(c->buf, c->nbuf, c->cfg.expect,
	    strlen(c->cfg.expect)) != NULL)
		return 1;
	if (!eof) {
		if (c->nbuf == sizeof(c->buf) - 1) {
			keep = strlen(c->cfg.expect) - 1;
			if (keep >= c->nbuf)
				keep = c->nbuf / 2;
			memmove(c->buf, c->buf + c->nbuf - keep, keep);
			c->nbuf = keep;
		}
		return -1;
	}
	health_quote(q, sizeof(q), c->cfg.expect, 40);
	snprintf(c->reason, sizeof(c->reason), "expect '%s' not seen "
	    "(connection closed)", q);
	return 0;
}

/* ----------------------------------------------------------------- http */

static int
http_request(struct check *c)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			host[ADDR_TEXT_MAX];
	int			n;

	target(c, &ss, &len);
	addr_format((struct sockaddr *)&ss, host, sizeof(host));
	n = asprintf(&c->req, "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "User-Agent: lb4-health\r\nConnection: close\r\n\r\n",
	    c->cfg.path ? c->cfg.path : "/", host);
	if (n == -1) {
		c->req = NULL;
		snprintf(c->reason, sizeof(c->reason), "out of memory");
		return -1;
	}
	c->reqlen = (size_t)n;
	return 0;
}

/*
 * The status line, "HTTP/1.x NNN reason", once its end (or the reply's,
 * or a full buffer) is read: passes when NNN is `status`.
 */
static int
http_judge(struct check *c, int eof)
{
	char	q[96], *nl;
	int	code, len;

	c->buf[c->nbuf] = '\0';
	nl = memchr(c->buf, '\n', c->nbuf);
	if (nl == NULL && !eof && c->nbuf < sizeof(c->buf) - 1)
		return -1;
	len = 0;
	if (sscanf(c->buf, "HTTP/%*u.%*u %3d%n", &code, &len) != 1 ||
	    len == 0 || code < 100 || code > 999) {
		if (nl != NULL)
			*nl = '\0';
		if (nl != NULL && nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		health_quote(q, sizeof(q), c->buf, 60);
		if (c->nbuf == 0)
			snprintf(c->reason, sizeof(c->reason),
			    "connection closed before an http status line");
		else
			snprintf(c->reason, sizeof(c->reason),
			    "bad http status line '%s'", q);
		return 0;
	}
	if (code == c->cfg.status)
		return 1;
	snprintf(c->reason, sizeof(c->reason), "http status %d", code);
	return 0;
}

/* ---------------------------------------------------------------- kinds */

const struct health_kind health_tcp_kind = {
	.start = tcp_start,
	.event = tcp_event,
	.expire = tcp_expire,
};

const struct health_kind health_send_expect_kind = {
	.start = tcp_start,
	.event = tcp_event,
	.expire = tcp_expire,
	.request = send_expect_request,
	.judge = send_expect_judge,
};

const struct health_kind health_http_kind = {
	.start = tcp_start,
	.event = tcp_event,
	.expire = tcp_expire,
	.request = http_request,
	.judge = http_judge,
};

/* Connected is passed, and then the check proper of c->kind starts. */
const struct health_kind health_probe_kind = {
	.start = tcp_start,
	.event = tcp_event,
	.expire = tcp_expire,
};

/*
 * health.c: active checks on the main loop, rise/fall, passive counting.
 *
 * One struct check per checked server, reached through server->check.
 * A check is always armed in the timer heap: while idle its timer is the
 * next start, while running it is the deadline.  One timerfd, armed at the
 * heap's first deadline, wakes the main loop.
 *
 * Freeing: health_sync() runs inside an epoll batch (a SIGHUP handler), so
 * a dropped check may still have an event queued in that batch.  It is
 * marked dead, its fds closed, and freed by health_tick() after the batch.
 * A stale event for a reused fd number is harmless: every handler checks
 * its phase and treats EAGAIN/ENOTCONN as "not yet".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "health.h"
#include "local.h"
#include "log.h"
#include "loop.h"
#include "pool.h"
#include "reload.h"
#include "timer.h"

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

#define CHECK_BUF	4096	/* reply bytes kept (send-expect, http) */
#define OUT_MAX		200	/* exec output kept for the reason */
#define REASON_MAX	256
#define SPREAD_MAX_MS	100	/* first checks spread over at most this */
#define REAP_RETRY_MS	100	/* a killed command not reaped yet */
#define POLL_MS		20	/* waitid() polling when pidfds fail */
#define PROBE_WHAT	"server port"	/* reason prefix of a failed probe */

extern char	**environ;

enum check_phase {
	PHASE_IDLE = 0,		/* waiting for the next start */
	PHASE_CONNECT = 1,	/* non-blocking connect in progress */
	PHASE_SEND = 2,		/* writing the request */
	PHASE_RECV = 3,		/* reading the reply */
	PHASE_EXEC = 4,		/* command running */
	PHASE_REAP = 5,		/* command killed, verdict given, not reaped */
	PHASE_DEAD = 6,		/* dropped; freed after the batch */
};

struct check {
	struct server	*server;	/* NULL once dropped */
	char		*name;		/* "POOL/ADDRESS", for logs */
	struct conf_health cfg;		/* own copy of the pool's settings */
	int		 port;		/* the server's health_port, else
					   cfg.port; 0 = the server's */
	struct handler	 h;		/* socket or pidfd; fd -1 when none */
	struct handler	 out;		/* exec: its stdout+stderr pipe */
	struct timer	 timer;		/* next start, or the deadline */
	enum check_phase phase;
	int		 spoken;	/* some verdict set the state already */
	int		 seen;		/* health_sync(): still in a pool */
	int		 oks, fails;	/* consecutive results */
	uint64_t	 nok, nfail;	/* every result */
	uint64_t	 started;
	uint64_t	 marked_at;	/* passive mark-down; 0 = none since
					   it came up */
	int		 probing;	/* connecting to the server's own port
					   first (marked_at set) */
	pid_t		 pid;
	char		*req;		/* send-expect or http request */
	size_t		 reqlen, reqoff;
	char		 buf[CHECK_BUF];
	size_t		 nbuf;
	char		 reason[REASON_MAX];	/* last failure */
	struct addr	*sources;	/* the pool's source = [ ... ] */
	int		 nsources;
	unsigned	 source_next;
	struct check	*next;
};

static struct {
	struct timer_heap heap;
	struct handler	 tfd;
	uint64_t	 armed_at;	/* what the timerfd is set to, 0 = off */
	struct check	*all;		/* live checks, and killed commands
					   still to reap */
	struct check	*dead;		/* to free after the batch */
	unsigned	 spread;	/* counter for first-check offsets */
	int		 polling;	/* some command has no pidfd */
	int		 no_pidfd;	/* pidfd_open() is ENOSYS here */
	int		 changed;
	int		 resets;	/* a server of a reset pool went down */
	/* health_prepare(): one spare per server of a checked pool, in
	 * config order, for health_sync() to take from. */
	struct check	**spares;
	int		 nspares;
} hc = { .tfd = { NULL, NULL, -1 } };

static void	check_event(struct handler *h, uint32_t events);
static void	check_out_event(struct handler *h, uint32_t events);
static void	run_due(uint64_t now);

/* ---------------------------------------------------------------- util */

/* SIGKILL to the process group of command <pid>; never to our own. */
static void
kill_group(pid_t pid)
{
	if (pid > 0)
		(void)kill(-pid, SIGKILL);
}

static void
rearm(void)
{
	struct itimerspec	 its;
	struct timer		*t = timer_first(&hc.heap);
	uint64_t		 at = t != NULL ? t->at : 0, poll;

	if (hc.polling) {
		poll = loop_now_ms() + POLL_MS;
		if (at == 0 || poll < at)
			at = poll;
	}
	if (hc.tfd.fd == -1 || at == hc.armed_at)
		return;
	memset(&its, 0, sizeof(its));
	if (at != 0) {
		/* 0 would disarm: a deadline at the epoch fires at once. */
		its.it_value.tv_sec = (time_t)(at / 1000);
		its.it_value.tv_nsec = (long)(at % 1000) * 1000000 + 1;
	}
	if (timerfd_settime(hc.tfd.fd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		log_warn("health: timerfd_settime");
	else
		hc.armed_at = at;
}

static void
arm(struct check *c, uint64_t at)
{
	timer_move(&hc.heap, &c->timer, at);
}

/* "Connection refused" -> "connection refused", for log lines. */
static void
errno_reason(struct check *c, const char *what, int err)
{
	int	n;

	n = snprintf(c->reason, sizeof(c->reason), "%s%s%s",
	    what ? what : "", what ? ": " : "", log_strerror(err));
	if (n > 0 && what == NULL && c->reason[0] >= 'A' &&
	    c->reason[0] <= 'Z')
		c->reason[0] = (char)(c->reason[0] - 'A' + 'a');
}

/* Copies <in> into <out> with C escapes, cut at <max> input bytes. */
static void
quote(char *out, size_t outlen, const char *in, size_t max)
{
	size_t	o = 0, i;
	char	tmp[8];
	unsigned char ch;

	for (i = 0; i < max && in[i] != '\0'; i++) {
		ch = (unsigned char)in[i];
		if (ch == '\r')
			snprintf(tmp, sizeof(tmp), "\\r");
		else if (ch == '\n')
			snprintf(tmp, sizeof(tmp), "\\n");
		else if (ch == '\t')
			snprintf(tmp, sizeof(tmp), "\\t");
		else if (ch < 0x20 || ch >= 0x7f || ch == '\'' || ch == '\\')
			snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
		else
			snprintf(tmp, sizeof(tmp), "%c", ch);
		if (o + strlen(tmp) + 4 >= outlen)
			break;
		memcpy(out + o, tmp, strlen(tmp));
		o += strlen(tmp);
	}
	if (in[i] != '\0')
		o += (size_t)snprintf(out + o, outlen - o, "...");
	out[o] = '\0';
}

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
cfg_free(struct conf_health *h)
{
	free(h->send);
	free(h->expect);
	free(h->path);
	free(h->command);
	memset(h, 0, sizeof(*h));
}

/* Deep copy of <from>; returns 0 or -1 (ENOMEM, <to> left empty). */
static int
cfg_copy(struct conf_health *to, const struct conf_health *from)
{
	*to = *from;
	to->send = xstrdup(from->send);
	to->expect = xstrdup(from->expect);
	to->path = xstrdup(from->path);
	to->command = xstrdup(from->command);
	if ((from->send && !to->send) || (from->expect && !to->expect) ||
	    (from->path && !to->path) || (from->command && !to->command)) {
		cfg_free(to);
		return -1;
	}
	return 0;
}

static int
str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
cfg_same(const struct conf_health *a, const struct conf_health *b)
{
	return a->type == b->type && a->interval_ms == b->interval_ms &&
	    a->timeout_ms == b->timeout_ms && a->rise == b->rise &&
	    a->fall == b->fall && a->status == b->status &&
	    a->port == b->port && str_same(a->send, b->send) &&
	    str_same(a->expect, b->expect) && str_same(a->path, b->path) &&
	    str_same(a->command, b->command);
}

/* ------------------------------------------------------------- verdicts */

static void
set_health(struct check *c, int up)
{
	STORE(&c->server->health, up ? SERVER_UP : SERVER_DOWN);
	hc.changed = 1;
	if (up)
		return;
	/*
	 * on_server_down = "reset": a new generation tells each worker which
	 * of its connections to reset (those that began under an older one);
	 * the main loop wakes them (health_resets()).
	 */
	__atomic_add_fetch(&c->server->down_gen, 1, __ATOMIC_RELEASE);
	if (LOAD(&c->server->on_down) == ON_DOWN_RESET)
		hc.resets = 1;
}

/*
 * Counts one result of <c> and moves the server's state by rise/fall.
 * A failure's reason is in c->reason.
 */
static void
verdict(struct check *c, int ok)
{
	int	up = LOAD(&c->server->health) == SERVER_UP;

	if (ok && c->marked_at != 0 && c->started <= c->marked_at) {
		/*
		 * Passed, but it began before the workers' connects failed:
		 * it says nothing about the server since (health.h).
		 */
		c->nok++;
		log_debug("server %s: check passed but began before the "
		    "passive mark-down: not counted", c->name);
		return;
	}
	if (ok) {
		c->nok++;
		c->oks++;
		c->fails = 0;
		log_debug("server %s: check passed (%d in a row)", c->name,
		    c->oks);
		if (!up && (!c->spoken || c->oks >= c->cfg.rise)) {
			set_health(c, 1);
			c->marked_at = 0;
			log_info("server %s is up", c->name);
		}
	} else {
		c->nfail++;
		c->fails++;
		c->oks = 0;
		log_debug("server %s: check failed (%d in a row): %s",
		    c->name, c->fails, c->reason);
		if (up && c->fails >= c->cfg.fall) {
			set_health(c, 0);
			log_warnx("server %s is down: %s", c->name, c->reason);
		} else if (!up && !c->spoken) {
			/* Down from the start: say why, once. */
			log_warnx("server %s is down: %s", c->name, c->reason);
		}
	}
	c->spoken = 1;
}

/* Closes the socket (or pidfd) of <c>, if any. */
static void
close_fd(struct handler *h)
{
	if (h->fd == -1)
		return;
	loop_del(h);
	close(h->fd);
	h->fd = -1;
}

static void
free_req(struct check *c)
{
	free(c->req);
	c->req = NULL;
	c->reqlen = c->reqoff = 0;
	c->nbuf = 0;
}

/* The check of <c> ended: count it, close up, schedule the next. */
static void
finish(struct check *c, int ok)
{
	uint64_t	now = loop_now_ms(), next;

	close_fd(&c->h);
	close_fd(&c->out);
	free_req(c);
	c->phase = PHASE_IDLE;
	c->probing = 0;
	if (c->server != NULL)
		verdict(c, ok);
	next = c->started + (uint64_t)c->cfg.interval_ms;
	arm(c, next > now ? next : now);
}

/*
 * The check of <c> could not run because of this host (no source port,
 * no fd, no memory: errno <err>): counted and logged as a local error,
 * never as the server's failure, and the next check is at its time.
 */
static void
finish_local(struct check *c, int err)
{
	uint64_t	now = loop_now_ms(), next;

	local_error(LOCAL_MAIN_SLOT, (enum local_reason)local_reason_of(err),
	    err, c->name, now);
	close_fd(&c->h);
	free_req(c);
	c->phase = PHASE_IDLE;
	next = c->started + (uint64_t)c->cfg.interval_ms;
	arm(c, next > now ? next : now);
}

/* ---------------------------------------------------- socket checks */

static int
target(const struct check *c, struct sockaddr_storage *ss, socklen_t *len)
{
	*ss = c->server->addr.ss;
	*len = c->server->addr.len;
	if (c->port != 0 && c->cfg.type != HEALTH_EXEC && !c->probing) {
		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port =
			    htons((uint16_t)c->port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port =
			    htons((uint16_t)c->port);
	}
	return 0;
}

static int
build_request(struct check *c)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			host[ADDR_TEXT_MAX];
	int			n;

	if (c->cfg.type == HEALTH_SEND_EXPECT) {
		if (c->cfg.send == NULL || c->cfg.send[0] == '\0')
			return 0;
		c->req = strdup(c->cfg.send);
		n = c->req != NULL ? (int)strlen(c->req) : -1;
	} else {
		target(c, &ss, &len);
		addr_format((struct sockaddr *)&ss, host, sizeof(host));
		n = asprintf(&c->req, "GET %s HTTP/1.0\r\nHost: %s\r\n"
		    "User-Agent: lb4-health\r\nConnection: close\r\n\r\n",
		    c->cfg.path ? c->cfg.path : "/", host);
		if (n == -1)
			c->req = NULL;
	}
	if (n == -1) {
		snprintf(c->reason, sizeof(c->reason), "out of memory");
		return -1;
	}
	c->reqlen = (size_t)n;
	c->reqoff = 0;
	return 0;
}

/* Watches c->h for <events> (added, or modified when already added). */
static int
watch(struct check *c, uint32_t events, int added)
{
	int	r = added ? loop_mod(&c->h, events) : loop_add(&c->h, events);

	if (r == -1)
		errno_reason(c, "epoll", errno);
	return r;
}

static void
want_reply(struct check *c)
{
	c->phase = PHASE_RECV;
	c->nbuf = 0;
	if (watch(c, EPOLLIN, 1) == -1)
		finish(c, 0);
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
				finish(c, 0);
			return;
		}
		if (n == -1) {
			errno_reason(c, NULL, errno);
			finish(c, 0);
			return;
		}
		c->reqoff += (size_t)n;
	}
	want_reply(c);
}

static void	start_exec(struct check *);
static void	start_socket(struct check *);

static void
connected(struct check *c)
{
	if (c->probing) {
		/* The server's own port accepts: now the check proper. */
		c->probing = 0;
		close_fd(&c->h);
		log_debug("server %s: its own port accepts connections again",
		    c->name);
		if (c->cfg.type == HEALTH_EXEC)
			start_exec(c);
		else
			start_socket(c);
		return;
	}
	switch (c->cfg.type) {
	case HEALTH_SEND_EXPECT:
	case HEALTH_HTTP:
		if (build_request(c) == -1) {
			finish(c, 0);
			return;
		}
		c->phase = PHASE_SEND;
		if (c->req == NULL)
			want_reply(c);
		else
			try_send(c);
		break;
	default:
		finish(c, 1);
	}
}

/*
 * Judges the reply bytes so far.  Returns 1 (up), 0 (down, reason set) or
 * -1 (undecided: read more).  <eof> says no more bytes will come.
 */
static int
judge(struct check *c, int eof)
{
	char	q[96], *nl;
	int	code, len;

	c->buf[c->nbuf] = '\0';
	if (c->cfg.type == HEALTH_SEND_EXPECT) {
		if (memmem(c->buf, c->nbuf, c->cfg.expect,
		    strlen(c->cfg.expect)) != NULL)
			return 1;
		if (!eof)
			return -1;
		quote(q, sizeof(q), c->cfg.expect, 40);
		snprintf(c->reason, sizeof(c->reason), "expect '%s' not seen "
		    "(connection closed)", q);
		return 0;
	}
	/* http: the status line, "HTTP/1.x NNN reason". */
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
		quote(q, sizeof(q), c->buf, 60);
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

static void
on_readable(struct check *c)
{
	size_t	keep, room;
	ssize_t	n;
	int	r;

	for (;;) {
		room = sizeof(c->buf) - 1 - c->nbuf;
		if (room == 0 && c->cfg.type == HEALTH_SEND_EXPECT) {
			/* Bounded: keep only what a match could start in. */
			keep = strlen(c->cfg.expect) - 1;
			if (keep >= c->nbuf)
				keep = c->nbuf / 2;
			memmove(c->buf, c->buf + c->nbuf - keep, keep);
			c->nbuf = keep;
			room = sizeof(c->buf) - 1 - c->nbuf;
		}
		n = recv(c->h.fd, c->buf + c->nbuf, room, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			errno_reason(c, NULL, errno);
			finish(c, 0);
			return;
		}
		c->nbuf += (size_t)n;
		if ((r = judge(c, n == 0)) != -1) {
			finish(c, r);
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
check_bind_source(struct check *c, int family)
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

static void
start_socket(struct check *c)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	target(c, &ss, &len);
	c->h.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->h.fd == -1 || check_bind_source(c, ss.ss_family) == -1) {
		if (local_reason_of(errno) != -1) {
			finish_local(c, errno);
			return;
		}
		errno_reason(c, "socket", errno);
		finish(c, 0);
		return;
	}
	c->phase = PHASE_CONNECT;
	if (connect(c->h.fd, (struct sockaddr *)&ss, len) == 0) {
		if (watch(c, EPOLLIN, 0) == -1)
			finish(c, 0);
		else
			connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		if (local_reason_of(errno) != -1 || errno == EAGAIN) {
			finish_local(c, errno == EAGAIN ? EADDRNOTAVAIL :
			    errno);
			return;
		}
		errno_reason(c, c->probing ? PROBE_WHAT : NULL, errno);
		finish(c, 0);
		return;
	}
	if (watch(c, EPOLLOUT, 0) == -1)
		finish(c, 0);
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
		errno_reason(c, c->probing ? PROBE_WHAT : NULL, err);
		finish(c, 0);
		return;
	}
	len = sizeof(ss);
	if (getpeername(c->h.fd, (struct sockaddr *)&ss, &len) == -1)
		return;		/* still connecting: a stale event */
	connected(c);
}

/* ------------------------------------------------------- exec checks */

/*
 * The environment of a command: ours plus LB4_SERVER_*, LB4_POOL and, when
 * the server or its pool sets a check port, LB4_HEALTH_PORT (e.g. the
 * Patroni REST port of this node, for a check over HTTPS).
 */
static char **
exec_env(const struct check *c, char **own)
{
	const struct sockaddr_storage *ss = &c->server->addr.ss;
	char		 ip[INET6_ADDRSTRLEN], **env;
	size_t		 n = 0, i, j = 0;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = calloc(n + 5, sizeof(*env))) == NULL)
		return NULL;
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    ip, sizeof(ip));
	else
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, ip,
		    sizeof(ip));
	if (asprintf(&own[0], "LB4_SERVER_ADDRESS=%s", ip) == -1)
		own[0] = NULL;
	if (asprintf(&own[1], "LB4_SERVER_PORT=%u",
	    (unsigned)addr_port(&c->server->addr)) == -1)
		own[1] = NULL;
	if (asprintf(&own[2], "LB4_POOL=%s", c->server->pool_name) == -1)
		own[2] = NULL;
	if (c->port != 0 && asprintf(&own[3], "LB4_HEALTH_PORT=%d",
	    c->port) == -1)
		own[3] = NULL;
	if (own[0] == NULL || own[1] == NULL || own[2] == NULL ||
	    (c->port != 0 && own[3] == NULL)) {
		free(env);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "LB4_SERVER_ADDRESS=", 19) != 0 &&
		    strncmp(environ[i], "LB4_SERVER_PORT=", 16) != 0 &&
		    strncmp(environ[i], "LB4_POOL=", 9) != 0 &&
		    strncmp(environ[i], "LB4_HEALTH_PORT=", 16) != 0)
			env[j++] = environ[i];
	env[j++] = own[0];
	env[j++] = own[1];
	env[j++] = own[2];
	if (own[3] != NULL)
		env[j++] = own[3];
	env[j] = NULL;
	return env;
}

/*
 * Spawns c->cfg.command in its own process group, stdin /dev/null, stdout
 * and stderr into a pipe we read (its first line goes into the reason),
 * signals unblocked and at their defaults.  Returns the pid or -1 with
 * c->reason set.
 */
static pid_t
spawn(struct check *c, int outfd)
{
	posix_spawnattr_t	  attr;
	posix_spawn_file_actions_t fa;
	sigset_t		  none, def;
	char			 *argv[2], *own[4] = { NULL, NULL, NULL, NULL };
	char			**env;
	pid_t			  pid = -1;
	int			  err;

	if ((env = exec_env(c, own)) == NULL) {
		snprintf(c->reason, sizeof(c->reason), "out of memory");
		errno = ENOMEM;
		goto out;
	}
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outfd, 1);
	posix_spawn_file_actions_adddup2(&fa, outfd, 2);
	argv[0] = c->cfg.command;
	argv[1] = NULL;
	err = posix_spawn(&pid, c->cfg.command, &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err != 0) {
		errno_reason(c, c->cfg.command, err);
		pid = -1;
	}
	errno = err;	/* for start_exec(): whose failure it was */
out:
	free(own[0]);
	free(own[1]);
	free(own[2]);
	free(own[3]);
	free(env);
	return pid;
}

static void
start_exec(struct check *c)
{
	int	p[2], err;

	c->nbuf = 0;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		if (local_reason_of(errno) != -1) {
			finish_local(c, errno);	/* this host's, not the server's */
			return;
		}
		errno_reason(c, "pipe", errno);
		finish(c, 0);
		return;
	}
	c->pid = spawn(c, p[1]);
	err = errno;
	close(p[1]);
	if (c->pid == -1) {
		close(p[0]);
		/* No process or memory left here (EAGAIN: RLIMIT_NPROC). */
		if (err == EAGAIN || local_reason_of(err) != -1)
			finish_local(c, err == EAGAIN ? ENOMEM : err);
		else
			finish(c, 0);
		return;
	}
	c->out.fd = p[0];
	c->phase = PHASE_EXEC;
	if (loop_add(&c->out, EPOLLIN) == -1)
		close_fd(&c->out);	/* no output in the reason, that's all */
	/*
	 * Without a pidfd (kernel before 5.3, seccomp, valgrind) the child is
	 * polled with waitid(WNOHANG) every POLL_MS instead.
	 */
	c->h.fd = hc.no_pidfd ? -1 : pidfd_open(c->pid, 0);
	if (c->h.fd == -1 && errno == ENOSYS)
		hc.no_pidfd = 1;
	if (c->h.fd != -1 && loop_add(&c->h, EPOLLIN) == -1) {
		close(c->h.fd);
		c->h.fd = -1;
	}
	if (c->h.fd == -1) {
		if (!hc.polling)
			log_debug("health: no pidfd (%s): polling exec checks "
			    "every %d ms", log_strerror(errno), POLL_MS);
		hc.polling = 1;
	}
}

/* Reads what the command wrote; keeps the first OUT_MAX bytes. */
static void
drain_out(struct check *c)
{
	char	junk[512];
	ssize_t	n;

	while (c->out.fd != -1) {
		if (c->nbuf < OUT_MAX)
			n = read(c->out.fd, c->buf + c->nbuf, OUT_MAX - c->nbuf);
		else
			n = read(c->out.fd, junk, sizeof(junk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n > 0 && c->nbuf < OUT_MAX) {
			c->nbuf += (size_t)n;
			continue;
		}
		if (n > 0)
			continue;
		if (n == 0 || errno != EAGAIN)
			close_fd(&c->out);
		return;
	}
}

static void
check_out_event(struct handler *h, uint32_t events)
{
	struct check	*c = h->arg;

	(void)events;
	if (c->phase == PHASE_EXEC)
		drain_out(c);
}

/* The command's first output line, quoted, for the reason; or "". */
static void
out_line(struct check *c, char *q, size_t qlen)
{
	char	*nl;

	c->buf[c->nbuf] = '\0';
	if ((nl = strchr(c->buf, '\n')) != NULL)
		*nl = '\0';
	q[0] = '\0';
	if (c->buf[0] != '\0') {
		memcpy(q, ": ", 3);
		quote(q + 2, qlen - 2, c->buf, 120);
	}
}

static void
on_exited(struct check *c)
{
	siginfo_t	si;
	char		q[160];
	int		status;
	pid_t		r;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == 0)
		return;		/* stale event: still running */
	/* The leader is a zombie: its group id cannot be reused yet. */
	kill_group(c->pid);
	r = waitpid(c->pid, &status, WNOHANG);
	if (r == 0 || (r == -1 && errno == EINTR))
		return;
	c->pid = 0;
	if (c->phase == PHASE_REAP) {
		close_fd(&c->h);
		c->phase = PHASE_IDLE;
		if (c->server == NULL)
			c->phase = PHASE_DEAD;
		return;
	}
	drain_out(c);
	out_line(c, q, sizeof(q));
	if (r == -1)
		errno_reason(c, "waitpid", errno);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		finish(c, 1);
		return;
	} else if (WIFEXITED(status))
		snprintf(c->reason, sizeof(c->reason), "exit status %d%s",
		    WEXITSTATUS(status), q);
	else if (WIFSIGNALED(status))
		snprintf(c->reason, sizeof(c->reason), "killed by signal "
		    "%d%s", WTERMSIG(status), q);
	finish(c, 0);
}

/*
 * Kills the command of <c> (its whole group).  It stays in PHASE_REAP,
 * with its pidfd watched, until it is reaped.
 */
static void
kill_exec(struct check *c)
{
	close_fd(&c->out);
	kill_group(c->pid);
	c->phase = PHASE_REAP;
}

/* ------------------------------------------------------------- events */

static void
check_event(struct handler *h, uint32_t events)
{
	struct check	*c = h->arg;

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
	case PHASE_EXEC:
	case PHASE_REAP:
		on_exited(c);
		break;
	default:
		break;		/* stale: the check ended in this batch */
	}
	(void)events;
	rearm();
}

static void
start(struct check *c, uint64_t now)
{
	c->started = now;
	c->reason[0] = '\0';
	arm(c, now + (uint64_t)c->cfg.timeout_ms);
	/*
	 * Marked down by the workers' failed connects: the check proper may
	 * ask another port (a Patroni REST API that still says 200 while its
	 * PostgreSQL shuts down), so the server's own port must accept a
	 * connection first; only that disproves what the workers saw.
	 */
	c->probing = c->marked_at != 0;
	if (c->cfg.type == HEALTH_EXEC && !c->probing)
		start_exec(c);
	else
		start_socket(c);
}

/* Handles the timer of <c>: a start, a deadline, or a reap to retry. */
static void
timer_due(struct check *c, uint64_t now)
{
	switch (c->phase) {
	case PHASE_IDLE:
		if (c->server != NULL)
			start(c, now);
		else
			timer_del(&hc.heap, &c->timer);
		break;
	case PHASE_REAP:
		/* The next start is due but the killed command lingers. */
		arm(c, now + REAP_RETRY_MS);
		break;
	case PHASE_EXEC:
		snprintf(c->reason, sizeof(c->reason), "timeout after %d ms",
		    c->cfg.timeout_ms);
		kill_exec(c);
		if (c->server != NULL)
			verdict(c, 0);
		arm(c, c->started + (uint64_t)c->cfg.interval_ms > now ?
		    c->started + (uint64_t)c->cfg.interval_ms : now);
		break;
	case PHASE_DEAD:
		timer_del(&hc.heap, &c->timer);
		break;
	default:
		snprintf(c->reason, sizeof(c->reason), "timeout after %d ms",
		    c->cfg.timeout_ms);
		finish(c, 0);
	}
}

/* Reaps commands that have no pidfd; clears hc.polling when none is left. */
static void
poll_children(void)
{
	struct check	*c;
	int		 left = 0;

	if (!hc.polling)
		return;
	for (c = hc.all; c != NULL; c = c->next) {
		if ((c->phase != PHASE_EXEC && c->phase != PHASE_REAP) ||
		    c->h.fd != -1 || c->pid <= 0)
			continue;
		on_exited(c);
		left += c->pid > 0;
	}
	hc.polling = left > 0;
}

static void
run_due(uint64_t now)
{
	struct timer	*t;
	struct check	*c;

	while ((t = timer_first(&hc.heap)) != NULL && t->at <= now) {
		c = (struct check *)((char *)t - offsetof(struct check,
		    timer));
		timer_due(c, now);
		/* A handler always moves its timer forward or drops it. */
	}
}

static void
on_timer(struct handler *h, uint32_t events)
{
	uint64_t	expirations;

	(void)events;
	while (read(h->fd, &expirations, sizeof(expirations)) > 0)
		;
	hc.armed_at = 0;
	poll_children();
	run_due(loop_now_ms());
	rearm();
}

/* ------------------------------------------------------------- life */

/* A check of <pool>/<addr> with <cfg>, not attached yet; NULL on ENOMEM. */
static struct check *
check_build(const char *pool, const char *addr, const struct conf_health *cfg)
{
	struct check	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (cfg_copy(&c->cfg, cfg) == -1) {	/* it left c->cfg empty */
		free(c);
		return NULL;
	}
	if (asprintf(&c->name, "%s/%s", pool, addr) == -1) {
		cfg_free(&c->cfg);
		free(c);
		return NULL;
	}
	c->h = (struct handler){ check_event, c, -1 };
	c->out = (struct handler){ check_out_event, c, -1 };
	c->timer.idx = -1;
	return c;
}

/* Copies the source addresses of <cp> into <c>.  Returns 0 or -1. */
static int
check_sources(struct check *c, const struct conf_pool *cp)
{
	if (cp->nsources == 0)
		return 0;
	if ((c->sources = calloc((size_t)cp->nsources,
	    sizeof(*c->sources))) == NULL)
		return -1;
	memcpy(c->sources, cp->sources,
	    sizeof(*c->sources) * (size_t)cp->nsources);
	c->nsources = cp->nsources;
	return 0;
}

/* Attaches the spare <c> to <s> and arms it (room reserved: cannot fail). */
static void
check_attach(struct check *c, struct server *s, uint64_t now)
{
	unsigned	spread;

	c->server = s;
	c->port = s->health_port != 0 ? s->health_port : c->cfg.port;
	/* SPEC: the first check runs at once; many spread over some ms. */
	spread = (unsigned)c->cfg.interval_ms / 4;
	if (spread > SPREAD_MAX_MS)
		spread = SPREAD_MAX_MS;
	if (spread == 0)
		spread = 1;
	(void)timer_add(&hc.heap, &c->timer, now + hc.spread++ % spread);
	/* Up already (a kept server that was not checked): fall applies. */
	c->spoken = LOAD(&s->health) == SERVER_UP;
	c->next = hc.all;
	hc.all = c;
	s->check = c;
}

/* Ends whatever <c> is running, without a verdict. */
static void
check_abort(struct check *c)
{
	if (c->phase == PHASE_EXEC)
		kill_exec(c);
	if (c->phase != PHASE_REAP) {
		close_fd(&c->h);
		close_fd(&c->out);
		c->phase = PHASE_IDLE;
	}
	free_req(c);
}

/*
 * Detaches <c> from its server.  It is freed after the batch, or once its
 * killed command has been reaped.
 */
static void
check_drop(struct check *c)
{
	check_abort(c);
	if (c->server != NULL)
		c->server->check = NULL;
	c->server = NULL;
	if (c->phase != PHASE_REAP) {
		c->phase = PHASE_DEAD;
		timer_del(&hc.heap, &c->timer);
	}
}

static void
check_free(struct check *c)
{
	if (c == NULL)
		return;
	timer_del(&hc.heap, &c->timer);
	close_fd(&c->h);
	close_fd(&c->out);
	free_req(c);
	cfg_free(&c->cfg);
	free(c->sources);
	free(c->name);
	free(c);
}

/* Moves dead checks from hc.all to hc.dead. */
static void
collect_dead(void)
{
	struct check	**pp = &hc.all, *c;

	while ((c = *pp) != NULL) {
		if (c->phase == PHASE_DEAD) {
			*pp = c->next;
			c->next = hc.dead;
			hc.dead = c;
		} else
			pp = &c->next;
	}
}

int
health_init(void)
{
	timer_heap_init(&hc.heap);
	hc.tfd.fn = on_timer;
	hc.tfd.arg = NULL;
	hc.tfd.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC);
	if (hc.tfd.fd == -1)
		return -1;
	if (loop_add(&hc.tfd, EPOLLIN) == -1) {
		close(hc.tfd.fd);
		hc.tfd.fd = -1;
		return -1;
	}
	return 0;
}

/*
 * Brings the check of server <s> of <pool> in line with the pool, with
 * <spare> (from health_prepare(), NULL for an unchecked pool) as the new
 * check or the source of the new settings.  Returns 1 when it used
 * <spare> as a check, 0 when the spare is still the caller's.
 */
static int
sync_server(struct pool *pool, struct server *s, struct check *spare,
    uint64_t now)
{
	struct check		*c = s->check;
	struct conf_health	 old;
	struct addr		*sources;
	int			 nsources;
	int			 port;

	if (pool->health.type == HEALTH_NONE) {
		if (c == NULL)
			return 0;
		check_drop(c);
		if (LOAD(&s->health) != SERVER_UP) {
			STORE(&s->health, SERVER_UP);
			hc.changed = 1;
			log_info("server %s/%s is up: its pool has no health "
			    "check any more", s->pool_name, s->addr.text);
		}
		return 0;
	}
	if (spare == NULL)	/* no health_prepare(): cannot happen */
		return 0;
	if (c == NULL) {
		check_attach(spare, s, now);
		return 1;
	}
	/* The pool's source addresses, prepared in the spare. */
	sources = c->sources;
	nsources = c->nsources;
	c->sources = spare->sources;
	c->nsources = spare->nsources;
	spare->sources = sources;
	spare->nsources = nsources;
	port = s->health_port != 0 ? s->health_port : pool->health.port;
	if (cfg_same(&c->cfg, &pool->health) && c->port == port)
		return 0;
	/* New settings: restart the check, keep the state and counts.  The
	 * spare, freed by the caller, takes the old settings with it. */
	check_abort(c);
	old = c->cfg;
	c->cfg = spare->cfg;
	spare->cfg = old;
	c->port = port;
	c->oks = c->fails = 0;
	arm(c, now);
	return 0;
}

static void
spares_free(void)
{
	int	i;

	for (i = 0; i < hc.nspares; i++)
		check_free(hc.spares[i]);
	free(hc.spares);
	hc.spares = NULL;
	hc.nspares = 0;
}

int
health_prepare(const struct conf *conf)
{
	const struct conf_pool	*cp;
	struct check		*c;
	int			 i, j, n = 0;

	spares_free();
	for (i = 0; i < conf->npools; i++)
		if (conf->pools[i].health.type != HEALTH_NONE)
			n += conf->pools[i].nservers;
	if (timer_reserve(&hc.heap, n) == -1 ||
	    (hc.spares = calloc((size_t)n + 1, sizeof(struct check *))) == NULL)
		return -1;
	for (i = 0; i < conf->npools; i++) {
		cp = &conf->pools[i];
		for (j = 0; cp->health.type != HEALTH_NONE &&
		    j < cp->nservers; j++) {
			c = check_build(cp->name, cp->servers[j].addr.text,
			    &cp->health);
			if (c != NULL)
				hc.spares[hc.nspares++] = c;
			if (c == NULL || check_sources(c, cp) == -1) {
				spares_free();
				return -1;
			}
		}
	}
	return 0;
}

void
health_abort(void)
{
	spares_free();
}

void
health_sync(struct state *st)
{
	struct check	*c, *spare;
	struct server	*s;
	uint64_t	 now = loop_now_ms();
	int		 i, j, k = 0;

	for (c = hc.all; c != NULL; c = c->next)
		c->seen = 0;
	for (i = 0; i < st->npools; i++)
		for (j = 0; j < st->pools[i]->nservers; j++) {
			s = st->pools[i]->servers[j];
			spare = NULL;
			if (st->pools[i]->health.type != HEALTH_NONE &&
			    k < hc.nspares)
				spare = hc.spares[k++];
			if (sync_server(st->pools[i], s, spare, now))
				hc.spares[k - 1] = NULL;
			if (s->check != NULL)
				((struct check *)s->check)->seen = 1;
		}
	spares_free();
	/*
	 * The others belong to servers that left (retired, not freed yet:
	 * state_collect() runs after this) or to pools that went.
	 */
	for (c = hc.all; c != NULL; c = c->next)
		if (c->server != NULL && !c->seen)
			check_drop(c);
	rearm();
}

void
health_tick(uint64_t now)
{
	struct check	*c;
	int		 fails;

	for (c = hc.all; c != NULL; c = c->next) {
		if (c->server == NULL)
			continue;
		fails = LOAD(&c->server->passive_fails);
		if (fails < c->cfg.fall)
			continue;
		STORE(&c->server->passive_fails, 0);
		if (LOAD(&c->server->health) != SERVER_UP)
			continue;
		snprintf(c->reason, sizeof(c->reason), "%d failed connects "
		    "from workers", fails);
		set_health(c, 0);
		c->oks = 0;
		c->fails = 0;
		c->spoken = 1;
		c->marked_at = now;
		log_warnx("server %s is down: %s", c->name, c->reason);
	}
	poll_children();
	run_due(now);
	collect_dead();
	while ((c = hc.dead) != NULL) {
		hc.dead = c->next;
		check_free(c);
	}
	rearm();
}

void
health_shutdown(void)
{
	struct check	*c;

	collect_dead();
	while ((c = hc.all) != NULL) {
		hc.all = c->next;
		if (c->phase == PHASE_EXEC || c->phase == PHASE_REAP) {
			kill_group(c->pid);
			/* SIGKILL is quick; a D-state command is left. */
			(void)waitpid(c->pid, NULL, WNOHANG);
		}
		if (c->server != NULL)
			c->server->check = NULL;
		check_free(c);
	}
	while ((c = hc.dead) != NULL) {
		hc.dead = c->next;
		check_free(c);
	}
	timer_heap_free(&hc.heap);
	close_fd(&hc.tfd);
	hc.armed_at = 0;
}

int
health_resets(void)
{
	int	r = hc.resets;

	hc.resets = 0;
	return r;
}

int
health_changed(void)
{
	int	r = hc.changed;

	hc.changed = 0;
	return r;
}

void
health_checks(const struct server *s, uint64_t *ok, uint64_t *fail)
{
	const struct check	*c = s->check;

	*ok = c != NULL ? c->nok : 0;
	*fail = c != NULL ? c->nfail : 0;
}

const char *
health_reason(const struct server *s)
{
	const struct check	*c = s->check;

	return c != NULL ? c->reason : "";
}

/*
 * ecmptool: the ECMP test's backend server and client load.
 *
 *   ecmptool serve [-T SECONDS] ADDR:PORT...
 *	Echo server, one listening socket per ADDR:PORT.  Every chunk a
 *	client sends is answered with "PEER DATA", PEER being the address the
 *	connection came from: the lb4 node that served it.
 *
 *   ecmptool spread -n COUNT [-c CONCURRENT] [-w MS] TARGET
 *	COUNT connections (each from a new ephemeral source port), CONCURRENT
 *	at a time (default 32): connect, "s\n", read the reply, close.
 *	Prints "node PEER COUNT" per node, then "failed N".
 *
 *   ecmptool load -o FILE [-T SECONDS] [-i MS] [-L LONG] [-l MIN_MS:MAX_MS]
 *		   [-p MS] TARGET
 *	Until SIGTERM/SIGINT or -T (default 120) s:
 *	- a probe every -i MS (default 5): a new connection, "p\n", the
 *	  reply awaited for 3 s.  Line: "A START_US OK LATENCY_US PEER".
 *	  Probes this process had no CPU for are skipped, not sent late.
 *	- LONG (default 200) long connections, each sending "seq N\n" every
 *	  -p MS (default 200) and expecting each echoed within 2 s; each lives
 *	  a random time in -l (default 4000:12000 ms), ends with a clean close
 *	  (FIN), and is replaced by a new one.  Line per long connection when
 *	  it ends: "L OPEN_US END_US STATE ORIGIN" with STATE "done" (ended as
 *	  planned), "reset", "eof", "timeout" (no echo for 2 s), "connfail"
 *	  (never got a first reply) or "open" (still open at the end; not
 *	  cut).  ORIGIN is the node of its first reply.
 *
 * TARGET is A.B.C.D:PORT or [V6]:PORT.  Times are CLOCK_REALTIME
 * microseconds, to line up with the test script's `date +%s%N`.  Every loop
 * is bounded in count and time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXFD		65536
#define PEERLEN		48

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char buf[80], *p;
	long port;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((p = strrchr(buf, ':')) == NULL)
		return -1;
	*p++ = '\0';
	port = strtol(p, NULL, 10);
	if (port <= 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (buf[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		size_t n = strlen(buf);

		if (n < 3 || buf[n - 1] != ']')
			return -1;
		buf[n - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, buf + 1, &s6->sin6_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return inet_pton(AF_INET, buf, &s4->sin_addr) == 1 ? 0 : -1;
	}
}

static void
addr_str(const struct sockaddr_storage *ss, char *out, size_t len)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
			    len);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out, len);
	} else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    out, len);
}

static int
start_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)ss, len) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	if (fd >= MAXFD) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The first word of a reply: the node that served the connection. */
static void
reply_peer(const char *buf, ssize_t n, char *peer)
{
	ssize_t i;

	for (i = 0; i < n && i < PEERLEN - 1 && buf[i] != ' ' &&
	    buf[i] != '\n'; i++)
		peer[i] = buf[i];
	peer[i] = '\0';
}

/* ---- serve ---------------------------------------------------------- */

static int
serve(int argc, char **argv)
{
	static char peers[MAXFD][PEERLEN];
	static unsigned char listening[MAXFD];
	struct epoll_event ev, evs[128];
	int ep, i, n, opt, secs = 3600;
	int64_t end;

	while ((opt = getopt(argc, argv, "T:")) != -1) {
		if (opt != 'T')
			return 2;
		secs = atoi(optarg);
	}
	if (optind >= argc) {
		fprintf(stderr, "serve: no address\n");
		return 2;
	}
	end = now_us() + (int64_t)secs * 1000000;
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = optind; i < argc; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd, one = 1;

		if (parse_addr(argv[i], &ss, &len) == -1) {
			fprintf(stderr, "serve: bad address %s\n", argv[i]);
			return 2;
		}
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			return 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
		    listen(fd, 4096) == -1) {
			fprintf(stderr, "serve: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		listening[fd] = 1;
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	while (!stop && now_us() < end) {
		n = epoll_wait(ep, evs, 128, 200);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			char buf[4096], out[4200];
			ssize_t r;
			int l;

			if (listening[fd]) {
				struct sockaddr_storage peer;
				socklen_t len = sizeof(peer);
				int nfd, k;

				for (k = 0; k < 64; k++) {
					nfd = accept4(fd, (struct sockaddr *)&peer,
					    &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (nfd == -1)
						break;
					if (nfd >= MAXFD) {
						close(nfd);
						continue;
					}
					addr_str(&peer, peers[nfd], PEERLEN);
					ev.events = EPOLLIN;
					ev.data.fd = nfd;
					epoll_ctl(ep, EPOLL_CTL_ADD, nfd, &ev);
					len = sizeof(peer);
				}
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r <= 0) {
				if (r == -1 && errno == EAGAIN)
					continue;
				close(fd);
				continue;
			}
			l = snprintf(out, sizeof(out), "%s %.*s", peers[fd],
			    (int)r, buf);
			if (l > (int)sizeof(out))
				l = sizeof(out);
			/* Small replies into an empty send buffer: a short
			 * write would mean the client stopped reading. */
			if (write(fd, out, (size_t)l) != l)
				close(fd);
		}
	}
	return 0;
}

/* ---- per-node counts ------------------------------------------------ */

#define MAXNODES	16
static char	node_name[MAXNODES][PEERLEN];
static long	node_count[MAXNODES];
static int	nnodes;

static void
count_node(const char *peer)
{
	int i;

	for (i = 0; i < nnodes; i++)
		if (strcmp(node_name[i], peer) == 0) {
			node_count[i]++;
			return;
		}
	if (nnodes < MAXNODES) {
		snprintf(node_name[nnodes], PEERLEN, "%s", peer);
		node_count[nnodes++] = 1;
	}
}

/* ---- spread --------------------------------------------------------- */

struct sp {
	int	 fd;
	int	 sent;
	int64_t	 start;
};

static int
spread(int argc, char **argv)
{
	static struct sp conns[MAXFD];
	struct sockaddr_storage ss;
	struct epoll_event ev, evs[128];
	socklen_t len;
	long total = 0, started = 0, done = 0, failed = 0;
	int opt, conc = 32, wait_ms = 3000, inflight = 0, ep, i, n;
	int64_t end;

	while ((opt = getopt(argc, argv, "n:c:w:")) != -1) {
		switch (opt) {
		case 'n': total = atol(optarg); break;
		case 'c': conc = atoi(optarg); break;
		case 'w': wait_ms = atoi(optarg); break;
		default: return 2;
		}
	}
	if (optind + 1 != argc || total <= 0 || conc <= 0 || conc > 1024 ||
	    parse_addr(argv[optind], &ss, &len) == -1) {
		fprintf(stderr, "usage: spread -n COUNT [-c CONC] [-w MS] "
		    "TARGET\n");
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	/* Bound: every connection gets wait_ms, plus slack. */
	end = now_us() + (int64_t)(total / conc + 2) * wait_ms * 1000 +
	    60000000;
	while (done < total && !stop && now_us() < end) {
		while (inflight < conc && started < total) {
			int fd = start_connect(&ss, len);

			started++;
			if (fd == -1) {
				failed++;
				done++;
				continue;
			}
			conns[fd].fd = fd;
			conns[fd].sent = 0;
			conns[fd].start = now_us();
			ev.events = EPOLLOUT | EPOLLIN;
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			inflight++;
		}
		n = epoll_wait(ep, evs, 128, 50);
		for (i = 0; i < n; i++) {
			struct sp *c = &conns[evs[i].data.fd];
			char buf[512], peer[PEERLEN];
			ssize_t r;

			if (c->fd <= 0)
				continue;
			if (!c->sent && (evs[i].events & EPOLLOUT) &&
			    !(evs[i].events & (EPOLLERR | EPOLLHUP))) {
				if (write(c->fd, "s\n", 2) == 2) {
					c->sent = 1;
					ev.events = EPOLLIN;
					ev.data.fd = c->fd;
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				}
				continue;
			}
			r = read(c->fd, buf, sizeof(buf));
			if (r == -1 && errno == EAGAIN)
				continue;
			if (r > 0) {
				reply_peer(buf, r, peer);
				count_node(peer);
			} else
				failed++;
			close(c->fd);
			c->fd = 0;
			inflight--;
			done++;
		}
		/* Time out slow ones. */
		if (n == 0 || (done & 63) == 0) {
			int64_t t = now_us();

			for (i = 0; i < MAXFD; i++)
				if (conns[i].fd > 0 && t - conns[i].start >
				    (int64_t)wait_ms * 1000) {
					close(conns[i].fd);
					conns[i].fd = 0;
					inflight--;
					failed++;
					done++;
				}
		}
	}
	for (i = 0; i < nnodes; i++)
		printf("node %s %ld\n", node_name[i], node_count[i]);
	printf("failed %ld\n", failed + (total - done));
	return 0;
}

/* ---- load ----------------------------------------------------------- */

enum kind { K_NONE, K_PROBE, K_LONG };

struct lc {
	enum kind kind;
	int	 fd;
	int	 connected;
	int64_t	 open_us;	/* connect started */
	int64_t	 end_us;	/* planned end (long) */
	int64_t	 next_send;	/* long: next message */
	int64_t	 waiting_since;	/* long: oldest unanswered message, 0 none */
	long	 seq;
	char	 origin[PEERLEN];
};

static struct lc lcs[MAXFD];
static int lcs_hi;		/* highest fd used + 1: bounds the scans */
static FILE *out;

static void
lc_close(int ep, struct lc *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->kind = K_NONE;
	c->fd = 0;
}

static void
long_end(int ep, struct lc *c, const char *state)
{
	fprintf(out, "L %lld %lld %s %s\n", (long long)c->open_us,
	    (long long)now_us(), c->origin[0] ? state : "connfail",
	    c->origin[0] ? c->origin : "-");
	lc_close(ep, c);
}

static int
new_conn(int ep, const struct sockaddr_storage *ss, socklen_t len,
    enum kind kind, int64_t t)
{
	struct epoll_event ev;
	struct lc *c;
	int fd = start_connect(ss, len);

	if (fd == -1)
		return -1;
	c = &lcs[fd];
	memset(c, 0, sizeof(*c));
	if (fd >= lcs_hi)
		lcs_hi = fd + 1;
	c->kind = kind;
	c->fd = fd;
	c->open_us = t;
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.fd = fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	return fd;
}

static int64_t
rnd_between(int64_t lo, int64_t hi)
{
	return lo + (hi > lo ? (int64_t)(random() % (hi - lo)) : 0);
}

static int
load(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct epoll_event ev, evs[256];
	socklen_t len;
	const char *file = NULL;
	int opt, secs = 120, probe_ms = 5, nlong = 200, period_ms = 200;
	int64_t lmin = 4000, lmax = 12000, t, end, next_probe, next_scan;
	int64_t next_long;
	int ep, i, n, nlive = 0;

	while ((opt = getopt(argc, argv, "o:T:i:L:l:p:")) != -1) {
		switch (opt) {
		case 'o': file = optarg; break;
		case 'T': secs = atoi(optarg); break;
		case 'i': probe_ms = atoi(optarg); break;
		case 'L': nlong = atoi(optarg); break;
		case 'l':
			if (sscanf(optarg, "%ld:%ld", (long *)&lmin,
			    (long *)&lmax) != 2)
				return 2;
			break;
		case 'p': period_ms = atoi(optarg); break;
		default: return 2;
		}
	}
	if (file == NULL || optind + 1 != argc || probe_ms <= 0 ||
	    nlong < 0 || nlong > 4096 || period_ms <= 0 || lmin <= 0 ||
	    lmax < lmin || parse_addr(argv[optind], &ss, &len) == -1) {
		fprintf(stderr, "usage: load -o FILE [-T S] [-i MS] [-L N] "
		    "[-l MIN:MAX] [-p MS] TARGET\n");
		return 2;
	}
	if ((out = fopen(file, "w")) == NULL) {
		perror(file);
		return 1;
	}
	/* Line by line: what was measured survives a KILL. */
	setvbuf(out, NULL, _IOLBF, 0);
	srandom((unsigned)getpid());
	ep = epoll_create1(EPOLL_CLOEXEC);
	t = now_us();
	end = t + (int64_t)secs * 1000000;
	next_probe = t;
	next_scan = t;
	next_long = t;
	while (!stop && (t = now_us()) < end) {
		/* Keep nlong long connections, opening one at most every
		 * 2 ms: a node that refuses them must not turn the
		 * replacements into a connection storm. */
		while (nlive < nlong && next_long <= t) {
			int fd = new_conn(ep, &ss, len, K_LONG, t);

			next_long += 2000;
			if (fd == -1)
				break;
			lcs[fd].end_us = t + rnd_between(lmin, lmax) * 1000;
			lcs[fd].next_send = t;
			nlive++;
		}
		if (next_long < t - 2000)
			next_long = t - 2000;
		/* A probe's time is when it really started: if this process
		 * was not scheduled for a while (a busy host), the probes it
		 * missed are skipped, not sent late and counted as slow. */
		if (next_probe < t - (int64_t)probe_ms * 1000 * 4)
			next_probe = t;
		while (next_probe <= t) {
			if (new_conn(ep, &ss, len, K_PROBE, t) == -1)
				fprintf(out, "A %lld 0 0 -\n", (long long)t);
			next_probe += (int64_t)probe_ms * 1000;
		}
		n = epoll_wait(ep, evs, 256, probe_ms < 10 ? probe_ms : 10);
		t = now_us();
		for (i = 0; i < n; i++) {
			struct lc *c = &lcs[evs[i].data.fd];
			char buf[4096], peer[PEERLEN];
			ssize_t r;

			if (c->kind == K_NONE)
				continue;
			if (!c->connected && (evs[i].events & EPOLLOUT) &&
			    !(evs[i].events & (EPOLLERR | EPOLLHUP))) {
				c->connected = 1;
				ev.events = EPOLLIN;
				ev.data.fd = c->fd;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				if (c->kind == K_PROBE &&
				    write(c->fd, "p\n", 2) != 2) {
					fprintf(out, "A %lld 0 0 -\n",
					    (long long)c->open_us);
					lc_close(ep, c);
				}
				continue;
			}
			r = read(c->fd, buf, sizeof(buf));
			if (r == -1 && errno == EAGAIN)
				continue;
			if (c->kind == K_PROBE) {
				if (r > 0)
					reply_peer(buf, r, peer);
				fprintf(out, "A %lld %d %lld %s\n",
				    (long long)c->open_us, r > 0,
				    (long long)(t - c->open_us),
				    r > 0 ? peer : "-");
				lc_close(ep, c);
				continue;
			}
			if (r > 0) {
				if (!c->origin[0])
					reply_peer(buf, r, c->origin);
				c->waiting_since = 0;
				continue;
			}
			long_end(ep, c, r == 0 ? "eof" : "reset");
			nlive--;
		}
		if (t < next_scan)
			continue;
		next_scan = t + 10000;
		for (i = 0; i < lcs_hi; i++) {
			struct lc *c = &lcs[i];
			char msg[64];
			int l;

			if (c->kind == K_PROBE && t - c->open_us > 3000000) {
				fprintf(out, "A %lld 0 %lld -\n",
				    (long long)c->open_us,
				    (long long)(t - c->open_us));
				lc_close(ep, c);
			}
			if (c->kind != K_LONG)
				continue;
			if (!c->connected) {
				if (t - c->open_us > 3000000) {
					long_end(ep, c, "connfail");
					nlive--;
				}
				continue;
			}
			if (c->waiting_since && t - c->waiting_since > 2000000) {
				long_end(ep, c, "timeout");
				nlive--;
				continue;
			}
			if (t >= c->end_us && !c->waiting_since &&
			    c->origin[0]) {
				/* Planned end: a clean close, replaced. */
				long_end(ep, c, "done");
				nlive--;
				continue;
			}
			if (t >= c->next_send && !c->waiting_since) {
				l = snprintf(msg, sizeof(msg), "seq %ld\n",
				    c->seq++);
				if (write(c->fd, msg, (size_t)l) != l) {
					long_end(ep, c, "reset");
					nlive--;
					continue;
				}
				c->waiting_since = t;
				c->next_send = t + (int64_t)period_ms * 1000;
			}
		}
	}
	for (i = 0; i < lcs_hi; i++) {
		if (lcs[i].kind == K_LONG)
			long_end(ep, &lcs[i], "open");
		else if (lcs[i].kind == K_PROBE)
			lc_close(ep, &lcs[i]);
	}
	fclose(out);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		fprintf(stderr, "usage: ecmptool serve|spread|load ...\n");
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	if (strcmp(argv[0], "serve") == 0)
		return serve(argc, argv);
	if (strcmp(argv[0], "spread") == 0)
		return spread(argc, argv);
	if (strcmp(argv[0], "load") == 0)
		return load(argc, argv);
	fprintf(stderr, "ecmptool: unknown command %s\n", argv[0]);
	return 2;
}

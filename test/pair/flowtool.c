/*
 * flowtool: long, byte-exact TCP flows for the VIP-move tests (issue 18).
 *
 *   flowtool serve [-T SECONDS] [-X OFFSET] ADDR:PORT...
 *	The backend: one listening socket per ADDR:PORT (A.B.C.D:PORT or
 *	[V6]:PORT).  A client's first line names the kind of flow:
 *	    data SEED | idle SEED | bulk SEED | half SEED TOTAL MS | ping
 *	The server answers "flowtool PEER\n", PEER being the address the
 *	connection came from (the lb4 node that served it), then echoes every
 *	byte the client sends, through a bounded buffer (when the client stops
 *	reading, the server stops reading too), with a 16 KiB receive buffer.
 *	On "bulk" flows both sides keep small socket buffers and stop reading
 *	for 1 s in every 3 s, each at its own phase: the receiver's window
 *	fills.  A
 *	"half" flow, once the client has shut down its sending side and the
 *	echo is drained, gets TOTAL more bytes of the server's own stream,
 *	paced evenly over MS milliseconds, then a FIN.  The other kinds get a
 *	FIN once the client's FIN came and the echo is drained.  -X OFFSET
 *	(a test of the tester): flip one bit of the byte at OFFSET of every
 *	flow's server-to-client stream.
 *
 *   flowtool probe -o FILE [-i MS] [-w MS] [-T SECONDS] [-s SRC] TARGET...
 *	pairtool probe's new-connection attempts, for IPv6 too, against
 *	flowtool serve (or pairtool serve): every -i MS (default 20) one
 *	attempt per target: a new connection, "ping\n", a reply line awaited
 *	for -w MS (default 500).  FILE: "S START_US", a line per attempt
 *	    A IDX START_US OK LATENCY_US INFO
 *	(IDX: the target's index from 0; INFO NODE/flowtool when OK is 1,
 *	else refused, reset, eof, write, connect-timeout, reply-timeout,
 *	stopped or an errno word), "E END_US".  The same format as pairtool
 *	probe, so the same scripts read both.
 *
 *   flowtool run -o FILE [-T SECONDS] [-n N] [-k KINDS] [-s SRC] [-w MS]
 *		  [-r BYTES_PER_S] [-K IDLE,INTVL,CNT] TARGET...
 *	N (default 50) long connections per TARGET (A.B.C.D:PORT or
 *	[V6]:PORT), all opened at the start, the kinds of -k (default
 *	data,idle,bulk,half) dealt round-robin:
 *	  data  16..199 bytes every 100 ms, each echoed within -w MS
 *		(default 3000, at least 1500);
 *	  idle  nothing after the hello line: TCP keepalive only (every flow
 *		has it: -K, default 2,1,3 = idle 2 s, probes 1 s apart, 3 of
 *		them), so a dead path shows as etimedout;
 *	  bulk  -r bytes/s (default 262144) each way, at most 256 KiB not
 *		yet echoed, 16 KiB socket buffers, each reader stopping 1 s
 *		in every 3 s: the windows fill; cut when -w passes reading,
 *		owed bytes, none coming;
 *	  half  64 KiB sent, then our FIN; the server's stream (16 bytes
 *		per ms until 1.5 s before the end) read to its FIN; cut when
 *		nothing comes for -w.
 *	-s SRC binds the flows to targets of its family to SRC.  Runs -T
 *	(default 60) s, or until SIGTERM/SIGINT; then every flow makes a
 *	final exchange (idle: 32 bytes echoed; data, bulk: all owed bytes
 *	echoed), sends its FIN and is ok when the server's FIN follows, each
 *	within -w + 2 s; a half-closed flow stopped by a signal before its
 *	stream ended is "ok stopped".  Never reconnects: a cut flow stays
 *	cut.  FILE gets "start US", a line per flow as it ends (flow_end()),
 *	"end US", then the summary, which stdout gets too:
 *	    summary TARGET KIND total N ok N cut N fail N
 *	    summary all all total N ok N cut N fail N
 *
 * Every byte either way is checked, by the client: the echo of its own
 * stream (a byte changed on the way in or out shows) and the server's own
 * stream, both functions of (SEED, direction, offset), so nothing is
 * stored.  Times are CLOCK_REALTIME microseconds, to line up with a test
 * script's `date +%s%N`.  Every loop is bounded in count and time.
 * Exit: 0 all flows ok, 1 any cut or failed, 2 usage or local errors.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXFD		65536
#define PEERLEN		48
#define RING		16384	/* server echo buffer per connection */
#define HDRMAX		128	/* header and hello lines */
#define MAXQ		64	/* data flow: unanswered chunks */
#define TICK_US		20000	/* timer granularity of both sides */
/* Bulk readers, both sides, read for 2 s then stop for 1 s: windows fill.
 * Each flow and side has its own phase. */
#define BULK_CYCLE	3000000
#define BULK_READ	2000000
#define BULK_OWED	262144

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

/* Thousands of flows need more than the default 1024 descriptors. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < MAXFD ? rl.rlim_max : MAXFD;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ---- the streams ---------------------------------------------------- */

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Byte <off> of stream <dir> (0 client to server, 1 server's own). */
static uint64_t
stream_word(uint64_t seed, int dir, uint64_t off)
{
	return mix((seed << 1 | (uint64_t)dir) ^ mix(off >> 3));
}

static void
stream_fill(uint8_t *p, uint64_t seed, int dir, uint64_t off, size_t n)
{
	uint64_t w = stream_word(seed, dir, off);
	size_t i;

	for (i = 0; i < n; i++, off++) {
		if ((off & 7) == 0)
			w = stream_word(seed, dir, off);
		p[i] = (uint8_t)(w >> ((off & 7) * 8));
	}
}

/* Index of the first byte of <p> that differs from the stream, or -1. */
static ssize_t
stream_check(const uint8_t *p, uint64_t seed, int dir, uint64_t off,
    size_t n)
{
	uint64_t w = stream_word(seed, dir, off);
	size_t i;

	for (i = 0; i < n; i++, off++) {
		if ((off & 7) == 0)
			w = stream_word(seed, dir, off);
		if (p[i] != (uint8_t)(w >> ((off & 7) * 8)))
			return (ssize_t)i;
	}
	return -1;
}

/* ---- addresses ------------------------------------------------------ */

static int
parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char buf[80], *p;
	long port;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
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
		return inet_pton(AF_INET6, buf + 1, &s6->sin6_addr) == 1 ?
		    0 : -1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return inet_pton(AF_INET, buf, &s4->sin_addr) == 1 ? 0 : -1;
	}
}

/* A source address (v4 or v6, no port) for bind(). */
static int
parse_src(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char buf[80];

	/* Reuse the parser with a dummy port, then clear it. */
	snprintf(buf, sizeof(buf), strchr(s, ':') ? "[%s]:1" : "%s:1", s);
	if (parse_addr(buf, ss, len) == -1)
		return -1;
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = 0;
	else
		((struct sockaddr_in *)ss)->sin_port = 0;
	return 0;
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

static uint16_t
addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* A word for an errno in the output (no spaces). */
static const char *
err_word(int e)
{
	static char buf[32];

	switch (e) {
	case ECONNRESET:
	case EPIPE:		return "reset";
	case ETIMEDOUT:		return "etimedout";
	case ECONNREFUSED:	return "refused";
	case ECONNABORTED:	return "aborted";
	case EHOSTUNREACH:	return "hostunreach";
	case ENETUNREACH:	return "netunreach";
	case EADDRNOTAVAIL:	return "addrnotavail";
	default:
		snprintf(buf, sizeof(buf), "errno%d", e);
		return buf;
	}
}

/* ---- serve ---------------------------------------------------------- */

enum sstate {
	S_HDR = 0,	/* waiting for the client's first line */
	S_ECHO,		/* echoing */
	S_STREAM,	/* half: the client's FIN came, sending our stream */
};

struct sconn {
	enum sstate	state;
	int		fd;
	uint32_t	events;		/* what epoll watches now */
	int		rd_eof;		/* the client's FIN came */
	int		half;
	int		bulk;
	int64_t		phase;		/* bulk: offset into its read cycle */
	char		hdr[HDRMAX];
	size_t		hlen;
	char		peer[PEERLEN];
	uint8_t		ring[RING];
	size_t		rhead, rlen;
	uint64_t	s2c;		/* bytes sent after the hello line */
	int		flipped;
	uint64_t	seed, total, sent;
	int64_t		ms, t0;
};

static struct sconn *sconns[MAXFD];
static int sconn_hi;
static int64_t flip_at = -1;	/* -X */

static void
s_close(int ep, struct sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	sconns[c->fd] = NULL;
	free(c);
}

/* Watch what <c> can use now: reads while the ring has room (so that a
 * client that does not read stops us reading: full windows), writes while
 * something waits to be sent. */
static void
s_arm(int ep, struct sconn *c, int stream_due)
{
	struct epoll_event ev;
	uint32_t want = 0;

	if (!c->rd_eof && (c->state == S_HDR || c->rlen < RING) &&
	    (!c->bulk || (now_us() + c->phase) % BULK_CYCLE < BULK_READ))
		want |= EPOLLIN;
	if (c->rlen > 0 || stream_due)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	c->events = want;
	ev.events = want;
	ev.data.fd = c->fd;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send <n> bytes of <p>, the next of <c>'s server-to-client stream;
 * returns the count sent, or -1 on a socket error. */
static ssize_t
s_send(struct sconn *c, uint8_t *p, size_t n)
{
	ssize_t w;

	if (flip_at >= 0 && !c->flipped && (uint64_t)flip_at >= c->s2c &&
	    (uint64_t)flip_at < c->s2c + n) {
		p[flip_at - (int64_t)c->s2c] ^= 0x10;
		c->flipped = 1;
	}
	w = write(c->fd, p, n);
	if (w == -1 && errno != EAGAIN)
		return -1;
	if (w == -1)
		w = 0;
	if (c->flipped == 1 && (uint64_t)flip_at >= c->s2c + (uint64_t)w) {
		/* The flipped byte was not sent: unflip, it is resent. */
		p[flip_at - (int64_t)c->s2c] ^= 0x10;
		c->flipped = 0;
	}
	c->s2c += (uint64_t)w;
	return w;
}

/* The first line: the flow's kind; then the hello line.  -1: bad. */
static int
s_header(struct sconn *c)
{
	char kind[16], *nl;
	unsigned long long seed = 0, total = 0, ms = 0;
	size_t used, rest;
	char hello[HDRMAX];
	int n, m;

	if ((nl = memchr(c->hdr, '\n', c->hlen)) == NULL)
		return c->hlen < sizeof(c->hdr) ? 0 : -1;
	*nl = '\0';
	n = sscanf(c->hdr, "%15s %llu %llu %llu", kind, &seed, &total, &ms);
	if (n < 2 && strcmp(kind, "ping") != 0)
		return -1;
	if (strcmp(kind, "ping") == 0) {
		/* A probe (flowtool probe, pairtool probe): the hello line
		 * answers it; then an echo like "idle". */
	} else if (strcmp(kind, "half") == 0) {
		if (n != 4 || ms == 0)
			return -1;
		c->half = 1;
	} else if (strcmp(kind, "bulk") == 0) {
		/* A small send buffer (the receive buffer is the listener's:
		 * shrunk after the handshake, it stalls a sender that was
		 * offered the larger window, as lb4 was, to ~180 KB/s). */
		int sz = 16384;

		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		c->bulk = 1;
		c->phase = (int64_t)(mix(seed) % BULK_CYCLE);
	} else if (strcmp(kind, "data") != 0 && strcmp(kind, "idle") != 0)
		return -1;
	c->seed = seed;
	c->total = total;
	c->ms = (int64_t)ms;
	m = snprintf(hello, sizeof(hello), "flowtool %s\n", c->peer);
	/* Into an empty send buffer: a short write is an error. */
	if (write(c->fd, hello, (size_t)m) != m)
		return -1;
	/* Bytes after the line are the first of the echo. */
	used = (size_t)(nl - c->hdr) + 1;
	rest = c->hlen - used;
	memcpy(c->ring, c->hdr + used, rest);
	c->rhead = 0;
	c->rlen = rest;
	c->state = S_ECHO;
	return 1;
}

/* Reads what there is room for.  -1: close the connection. */
static int
s_read(struct sconn *c)
{
	int k;

	for (k = 0; k < 8 && !c->rd_eof; k++) {
		size_t tail, room;
		ssize_t r;
		uint8_t *dst;

		if (c->state == S_HDR) {
			dst = (uint8_t *)c->hdr + c->hlen;
			room = sizeof(c->hdr) - c->hlen;
		} else {
			if (c->rlen == RING)
				return 0;
			tail = (c->rhead + c->rlen) % RING;
			room = tail >= c->rhead ? RING - tail :
			    c->rhead - tail;
			if (room > RING - c->rlen)
				room = RING - c->rlen;
			dst = c->ring + tail;
		}
		r = read(c->fd, dst, room);
		if (r == -1)
			return errno == EAGAIN ? 0 : -1;
		if (r == 0) {
			if (c->state == S_HDR)
				return -1;
			c->rd_eof = 1;
			c->t0 = now_us();
			return 0;
		}
		if (c->state == S_HDR) {
			int h;

			c->hlen += (size_t)r;
			if ((h = s_header(c)) == -1) {
				fprintf(stderr, "serve: %s: bad first line\n",
				    c->peer);
				return -1;
			}
			if (h == 0)
				continue;
		} else
			c->rlen += (size_t)r;
	}
	return 0;
}

/* Writes what can be written.  -1: close; 1: finished (close). */
static int
s_write(struct sconn *c, int64_t t)
{
	int k;

	for (k = 0; k < 8 && c->rlen > 0; k++) {
		size_t n = c->rlen;
		ssize_t w;

		if (c->rhead + n > RING)
			n = RING - c->rhead;
		if ((w = s_send(c, c->ring + c->rhead, n)) == -1)
			return -1;
		if (w == 0)
			return 0;
		c->rhead = (c->rhead + (size_t)w) % RING;
		c->rlen -= (size_t)w;
	}
	if (c->rlen > 0 || !c->rd_eof)
		return 0;
	if (!c->half)
		return 1;
	if (c->state == S_ECHO) {
		c->state = S_STREAM;
		c->t0 = t;
	}
	for (k = 0; k < 8 && c->sent < c->total; k++) {
		uint8_t buf[16384];
		uint64_t due;
		size_t n;
		ssize_t w;

		due = c->total;
		if (t - c->t0 < c->ms * 1000)
			due = c->total * (uint64_t)(t - c->t0) /
			    (uint64_t)(c->ms * 1000);
		if (due <= c->sent)
			return 0;
		n = due - c->sent > sizeof(buf) ? sizeof(buf) :
		    (size_t)(due - c->sent);
		stream_fill(buf, c->seed, 1, c->sent, n);
		if ((w = s_send(c, buf, n)) == -1)
			return -1;
		if (w == 0)
			return 0;
		c->sent += (uint64_t)w;
	}
	return c->sent == c->total ? 1 : 0;
}

static int
s_due(const struct sconn *c, int64_t t)
{
	return c->state == S_STREAM && c->sent < c->total &&
	    (t - c->t0 >= c->ms * 1000 || c->total * (uint64_t)(t - c->t0) /
	    (uint64_t)(c->ms * 1000) > c->sent);
}

static void
s_accept(int ep, int lfd)
{
	struct epoll_event ev;
	int k, one = 1;

	for (k = 0; k < 64; k++) {
		struct sockaddr_storage peer = { 0 };
		socklen_t len = sizeof(peer);
		struct sconn *c;
		int fd;

		fd = accept4(lfd, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		if (fd >= MAXFD || (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		c->fd = fd;
		c->events = EPOLLIN;
		addr_str(&peer, c->peer, sizeof(c->peer));
		sconns[fd] = c;
		if (fd >= sconn_hi)
			sconn_hi = fd + 1;
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

static int
serve(int argc, char **argv)
{
	static unsigned char listening[MAXFD];
	struct epoll_event ev, evs[256];
	int ep, i, n, opt, secs = 3600;
	int64_t end, t, next_tick;

	while ((opt = getopt(argc, argv, "T:X:")) != -1) {
		switch (opt) {
		case 'T': secs = atoi(optarg); break;
		case 'X': flip_at = atoll(optarg); break;
		default: goto usage;
		}
	}
	if (optind >= argc || secs <= 0)
		goto usage;
	raise_nofile();
	end = now_us() + (int64_t)secs * 1000000;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 2;
	for (i = optind; i < argc; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd, one = 1, rcvbuf = 16384;

		if (parse_addr(argv[i], &ss, &len) == -1) {
			fprintf(stderr, "serve: bad address %s\n", argv[i]);
			return 2;
		}
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1 || fd >= MAXFD)
			return 2;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* Inherited by accepted sockets before their handshake: our
		 * read pauses fill the (small) window to us. */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
		    listen(fd, 4096) == -1) {
			fprintf(stderr, "serve: %s: %s\n", argv[i],
			    strerror(errno));
			return 2;
		}
		listening[fd] = 1;
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	next_tick = now_us();
	while (!stop && now_us() < end) {
		n = epoll_wait(ep, evs, 256, TICK_US / 1000);
		t = now_us();
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, rc = 0;
			struct sconn *c;

			if (listening[fd]) {
				s_accept(ep, fd);
				continue;
			}
			if ((c = sconns[fd]) == NULL)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				rc = s_read(c);
			if (rc == 0 && c->state != S_HDR)
				rc = s_write(c, t);
			if (rc != 0) {
				s_close(ep, c);
				continue;
			}
			s_arm(ep, c, s_due(c, t));
		}
		if (t < next_tick)
			continue;
		/* The paced streams of half-closed flows. */
		next_tick = t + TICK_US;
		for (i = 0; i < sconn_hi; i++) {
			struct sconn *c = sconns[i];

			if (c == NULL)
				continue;
			if (c->bulk)
				s_arm(ep, c, 0);	/* its read pauses */
			else if (c->state == S_STREAM && s_due(c, t))
				s_arm(ep, c, 1);
		}
	}
	return 0;
usage:
	fprintf(stderr, "usage: flowtool serve [-T SECONDS] [-X OFFSET] "
	    "ADDR:PORT...\n");
	return 2;
}

/* ---- run ------------------------------------------------------------ */

enum kind { K_DATA = 0, K_IDLE, K_BULK, K_HALF, K_N };
static const char *kind_name[K_N] = { "data", "idle", "bulk", "half" };

enum fstate {
	F_CONNECTING = 0,	/* SYN sent */
	F_HELLO,		/* first line sent, the hello line awaited */
	F_RUN,			/* the flow's traffic */
	F_FINAL,		/* the final exchange: the rest echoed */
	F_SHUT,			/* our FIN sent, the server's awaited */
	F_DONE			/* recorded and closed */
};

enum outcome { O_OK = 0, O_CUT, O_FAIL, O_N };
static const char *outcome_name[O_N] = { "ok", "cut", "fail" };

struct flow {
	enum fstate	state;
	enum kind	kind;
	int		fd;
	int		target;
	uint32_t	events;
	uint64_t	seed;
	uint16_t	lport;
	char		node[PEERLEN];
	char		hello[HDRMAX];
	size_t		hlen;
	int64_t		open_us, last_us, since;
	uint64_t	tx, tx_goal, rx;
	uint64_t	echo_len;	/* half: bytes we send before our FIN */
	uint64_t	total;		/* half: the server's own stream */
	int		shut;		/* our FIN sent */
	int		wr_blocked;
	/* data and idle: the chunks not yet echoed, oldest first */
	uint64_t	q_end[MAXQ];
	int64_t		q_t[MAXQ];
	int		qh, qn;
	int64_t		next_send;
	int64_t		ms;		/* half: the server's stream lasts */
	int64_t		phase;		/* bulk: offset into its read cycle */
	int64_t		tok_t;		/* bulk: pacing of the writer */
	uint64_t	tokens;
	int64_t		stall;		/* bulk: reading, nothing came */
	int64_t		tick_t;
};

struct target {
	char			name[80];
	struct sockaddr_storage	ss;
	socklen_t		len;
	long			count[K_N][O_N];
};

static struct flow *flows;
static int nflows;
static struct target *targets;
static FILE *out;
static int64_t bound_us = 3000000;	/* -w */
static int64_t bulk_rate = 262144;	/* -r, bytes/s */
static int ka_idle = 2, ka_intvl = 1, ka_cnt = 3;	/* -K */


static int
bulk_paused(const struct flow *f, int64_t t)
{
	return f->kind == K_BULK && f->state == F_RUN &&
	    (t + f->phase) % BULK_CYCLE >= BULK_READ;
}

/*
 * Records <f>'s end and closes it.  The line:
 *   flow TARGET KIND LPORT NODE OUTCOME REASON OPEN_US END_US LAST_US TX RX
 *	SEED
 * OUTCOME ok|cut|fail ("fail": never got the hello line: not a flow the
 * balancer held); REASON "-" when ok, "stopped" for a half-closed flow
 * ended early by a signal, else reset, eof-early, timeout (no answer
 * within -w), timeout-final (the final exchange did not finish), etimedout
 * (the kernel gave up: keepalive), corrupt@OFFSET (first wrong byte of the
 * server-to-client stream), extra@OFFSET (more bytes than sent), connect:ERR,
 * no-hello, bad-hello, not-started.  LAST_US: the last time bytes came.
 */
static void
flow_end(int ep, struct flow *f, enum outcome o, const char *reason)
{
	struct target *tg = &targets[f->target];
	int64_t t = now_us();

	fprintf(out, "flow %s %s %u %s %s %s %lld %lld %lld %llu %llu %llu\n",
	    tg->name, kind_name[f->kind], f->lport,
	    f->node[0] ? f->node : "-", outcome_name[o], reason,
	    (long long)f->open_us, (long long)t, (long long)f->last_us,
	    (unsigned long long)f->tx, (unsigned long long)f->rx,
	    (unsigned long long)f->seed);
	tg->count[f->kind][o]++;
	if (f->fd != -1) {
		epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
		if (o != O_OK) {
			/* A cut flow ends with a reset, not a FIN that
			 * would wait on a dead path. */
			struct linger lg = { 1, 0 };

			setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof(lg));
		}
		close(f->fd);
	}
	f->fd = -1;
	f->state = F_DONE;
}

static void
flow_cut(int ep, struct flow *f, const char *reason)
{
	flow_end(ep, f, f->state <= F_HELLO ? O_FAIL : O_CUT, reason);
}

static void
flow_arm(int ep, struct flow *f, int64_t t)
{
	struct epoll_event ev;
	uint32_t want = 0;

	if (f->state == F_DONE)
		return;
	if (f->state == F_CONNECTING)
		want = EPOLLOUT;
	else {
		if (!bulk_paused(f, t))
			want |= EPOLLIN;
		if (f->wr_blocked)
			want |= EPOLLOUT;
	}
	if (want == f->events)
		return;
	f->events = want;
	ev.events = want;
	ev.data.u32 = (uint32_t)(f - flows);
	epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &ev);
}

static int
flow_open(int ep, struct flow *f, const struct sockaddr_storage *src,
    socklen_t srclen, int64_t t)
{
	struct target *tg = &targets[f->target];
	struct epoll_event ev;
	int one = 1;

	f->fd = -1;
	f->open_us = t;
	f->since = t;
	f->state = F_CONNECTING;
	f->fd = socket(tg->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (f->fd == -1) {
		flow_cut(ep, f, "connect:socket");
		return -1;
	}
	setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Every kind: a dead path shows even when no data flows. */
	setsockopt(f->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(f->fd, IPPROTO_TCP, TCP_KEEPIDLE, &ka_idle,
	    sizeof(ka_idle));
	setsockopt(f->fd, IPPROTO_TCP, TCP_KEEPINTVL, &ka_intvl,
	    sizeof(ka_intvl));
	setsockopt(f->fd, IPPROTO_TCP, TCP_KEEPCNT, &ka_cnt, sizeof(ka_cnt));
	if (f->kind == K_BULK) {
		/* Small buffers (before connect: the window scale) so that
		 * a pause of the reader closes the window. */
		int sz = 16384;

		setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(f->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (src != NULL && src->ss_family == tg->ss.ss_family &&
	    bind(f->fd, (const struct sockaddr *)src, srclen) == -1) {
		flow_cut(ep, f, "connect:bind");
		return -1;
	}
	if (connect(f->fd, (const struct sockaddr *)&tg->ss, tg->len) == -1 &&
	    errno != EINPROGRESS) {
		char r[48];

		snprintf(r, sizeof(r), "connect:%s", err_word(errno));
		flow_cut(ep, f, r);
		return -1;
	}
	f->events = EPOLLOUT;
	ev.events = EPOLLOUT;
	ev.data.u32 = (uint32_t)(f - flows);
	epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &ev);
	return 0;
}

/* Sends the client stream up to tx_goal.  -1: cut (recorded). */
static int
flow_flush(int ep, struct flow *f)
{
	int k;

	f->wr_blocked = 0;
	for (k = 0; k < 8 && f->tx < f->tx_goal; k++) {
		uint8_t buf[16384];
		size_t n = f->tx_goal - f->tx > sizeof(buf) ? sizeof(buf) :
		    (size_t)(f->tx_goal - f->tx);
		ssize_t w;

		stream_fill(buf, f->seed, 0, f->tx, n);
		if ((w = write(f->fd, buf, n)) == -1) {
			if (errno == EAGAIN) {
				f->wr_blocked = 1;
				return 0;
			}
			flow_cut(ep, f, err_word(errno));
			return -1;
		}
		f->tx += (uint64_t)w;
	}
	if (f->tx < f->tx_goal)
		f->wr_blocked = 1;
	return 0;
}

/* Our FIN, once everything sent was echoed (half: once it was sent). */
static int
flow_shut_if_done(int ep, struct flow *f, int64_t t)
{
	if (f->shut || f->tx < f->tx_goal)
		return 0;
	if (f->kind != K_HALF && f->rx < f->tx)
		return 0;
	if (shutdown(f->fd, SHUT_WR) == -1) {
		flow_cut(ep, f, err_word(errno));
		return -1;
	}
	f->shut = 1;
	f->since = t;
	if (f->kind != K_HALF)
		f->state = F_SHUT;
	return 0;
}

/* Checks <n> received bytes of the server-to-client stream.  -1: cut. */
static int
flow_verify(int ep, struct flow *f, const uint8_t *p, size_t n, int64_t t)
{
	char r[48];
	size_t done = 0;

	while (done < n) {
		uint64_t lim;
		size_t m = n - done;
		ssize_t bad;
		int dir = 0;
		uint64_t off = f->rx;

		/* The echo of what we sent, then (half) the server's own. */
		lim = f->tx;
		if (f->kind == K_HALF && f->rx >= f->echo_len) {
			dir = 1;
			off = f->rx - f->echo_len;
			lim = f->echo_len + f->total;
		}
		if (f->rx >= lim) {
			snprintf(r, sizeof(r), "extra@%llu",
			    (unsigned long long)f->rx);
			flow_cut(ep, f, r);
			return -1;
		}
		if (m > lim - f->rx)
			m = (size_t)(lim - f->rx);
		if ((bad = stream_check(p + done, f->seed, dir, off, m)) != -1) {
			snprintf(r, sizeof(r), "corrupt@%llu",
			    (unsigned long long)(f->rx + (uint64_t)bad));
			f->rx += (uint64_t)bad;
			flow_cut(ep, f, r);
			return -1;
		}
		f->rx += m;
		done += m;
	}
	f->last_us = t;
	while (f->qn > 0 && f->q_end[f->qh] <= f->rx) {
		f->qh = (f->qh + 1) % MAXQ;
		f->qn--;
	}
	return 0;
}

/* The hello line: "flowtool NODE".  -1: failed (recorded). */
static int
flow_hello(int ep, struct flow *f, const uint8_t *p, size_t n, size_t *used,
    int64_t t)
{
	char *nl;
	size_t take = n;

	if (take > sizeof(f->hello) - 1 - f->hlen)
		take = sizeof(f->hello) - 1 - f->hlen;
	memcpy(f->hello + f->hlen, p, take);
	f->hlen += take;
	f->hello[f->hlen] = '\0';
	if ((nl = strchr(f->hello, '\n')) == NULL) {
		*used = take;
		if (f->hlen == sizeof(f->hello) - 1) {
			flow_cut(ep, f, "bad-hello");
			return -1;
		}
		return 0;
	}
	*used = take - (f->hlen - (size_t)(nl - f->hello) - 1);
	*nl = '\0';
	if (sscanf(f->hello, "flowtool %47s", f->node) != 1) {
		flow_cut(ep, f, "bad-hello");
		return -1;
	}
	f->state = F_RUN;
	f->since = t;
	f->last_us = t;
	f->next_send = t;
	if (f->kind == K_HALF)
		f->tx_goal = f->echo_len;
	return 0;
}

static void
flow_push(struct flow *f, uint64_t len, int64_t t)
{
	int i;

	if (f->qn == MAXQ)
		return;
	f->tx_goal += len;
	i = (f->qh + f->qn) % MAXQ;
	f->q_end[i] = f->tx_goal;
	f->q_t[i] = t;
	f->qn++;
}

/* Bytes are readable (or an error is pending). */
static void
flow_read(int ep, struct flow *f, int64_t t)
{
	int k;

	for (k = 0; k < 8 && f->state != F_DONE; k++) {
		uint8_t buf[65536];
		size_t used = 0;
		ssize_t r;

		r = read(f->fd, buf, sizeof(buf));
		if (r == -1) {
			if (errno != EAGAIN)
				flow_cut(ep, f, err_word(errno));
			return;
		}
		if (r == 0) {
			if ((f->state == F_SHUT && f->rx == f->tx) ||
			    (f->kind == K_HALF && f->shut &&
			    f->rx == f->echo_len + f->total))
				flow_end(ep, f, O_OK, "-");
			else
				flow_cut(ep, f, f->state == F_HELLO ?
				    "no-hello" : "eof-early");
			return;
		}
		if (f->state == F_HELLO &&
		    flow_hello(ep, f, buf, (size_t)r, &used, t) == -1)
			return;
		if (f->state == F_HELLO || (size_t)r == used)
			continue;
		if (flow_verify(ep, f, buf + used, (size_t)r - used, t) == -1)
			return;
		if (f->state == F_FINAL && flow_shut_if_done(ep, f, t) == -1)
			return;
	}
}

/* Connected (or not). */
static void
flow_connected(int ep, struct flow *f, int64_t t)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char hdr[HDRMAX], r[48];
	int err = 0, m;

	getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		snprintf(r, sizeof(r), "connect:%s", err_word(err));
		flow_cut(ep, f, r);
		return;
	}
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(f->fd, (struct sockaddr *)&ss, &len) == 0)
		f->lport = addr_port(&ss);
	if (f->kind == K_HALF)
		m = snprintf(hdr, sizeof(hdr), "half %llu %llu %lld\n",
		    (unsigned long long)f->seed,
		    (unsigned long long)f->total, (long long)f->ms);
	else
		m = snprintf(hdr, sizeof(hdr), "%s %llu\n",
		    kind_name[f->kind], (unsigned long long)f->seed);
	/* Into an empty send buffer: all of it or an error. */
	if (write(f->fd, hdr, (size_t)m) != m) {
		flow_cut(ep, f, "connect:write");
		return;
	}
	f->state = F_HELLO;
	f->since = t;
}

/* Timers: sends, pacing, and the bounds.  <final_us>: when the final
 * exchange began (0: not yet). */
static void
flow_tick(int ep, struct flow *f, int64_t t, int64_t final_us)
{
	switch (f->state) {
	case F_CONNECTING:
		if (t - f->since > 5000000)
			flow_cut(ep, f, "connect:timeout");
		return;
	case F_HELLO:
		if (t - f->since > bound_us)
			flow_cut(ep, f, "no-hello");
		return;
	case F_FINAL:
	case F_SHUT:
		if (t - final_us > bound_us + 2000000) {
			flow_cut(ep, f, "timeout-final");
			return;
		}
		break;
	case F_RUN:
		break;
	case F_DONE:
		return;
	}
	/* Chunks not echoed within the bound. */
	if (f->qn > 0 && t - f->q_t[f->qh] > bound_us) {
		flow_cut(ep, f, f->state == F_RUN ? "timeout" :
		    "timeout-final");
		return;
	}
	if (f->state == F_RUN && f->kind == K_DATA && t >= f->next_send) {
		/* 16..199 bytes every 100 ms. */
		flow_push(f, 16 + (f->seed + f->tx_goal) % 184, t);
		f->next_send += 100000;
		if (f->next_send < t)
			f->next_send = t + 100000;
	}
	if (f->state == F_RUN && f->kind == K_BULK) {
		/* A token bucket: -r on average, bursts of 64 KiB at most
		 * (a writer blocked by a full window does not catch up). */
		if (f->tok_t == 0)
			f->tok_t = t;
		f->tokens += (uint64_t)((t - f->tok_t) * bulk_rate / 1000000);
		f->tok_t = t;
		if (f->tokens > 65536)
			f->tokens = 65536;
		/* At most BULK_OWED not yet echoed: what a balancer in
		 * between buffers stays bounded, and so does the final
		 * exchange's drain. */
		if (f->tx == f->tx_goal && f->tx - f->rx < BULK_OWED) {
			f->tx_goal += f->tokens;
			f->tokens = 0;
		}
		/* The time spent reading while owed an echo and getting
		 * none: the pauses do not count. */
		if (f->rx >= f->tx || f->last_us >= f->tick_t)
			f->stall = 0;
		else if (!bulk_paused(f, t) && f->tick_t != 0)
			f->stall += t - f->tick_t;
		f->tick_t = t;
		if (f->stall > bound_us) {
			flow_cut(ep, f, "timeout");
			return;
		}
	}
	/* Half-closed: its 64 KiB not sent within the bound (f->since:
	 * the hello), or nothing of the rest coming for the bound. */
	if (f->state == F_RUN && f->kind == K_HALF &&
	    t - f->last_us > bound_us && t - f->since > bound_us) {
		flow_cut(ep, f, "timeout");
		return;
	}
	if (f->tx < f->tx_goal && !f->wr_blocked &&
	    flow_flush(ep, f) == -1)
		return;
	if (f->kind == K_HALF && f->state == F_RUN)
		flow_shut_if_done(ep, f, t);
	else if (f->state == F_FINAL)
		flow_shut_if_done(ep, f, t);
}

/* The end: every flow's final exchange.  <early>: by a signal. */
static void
flow_final(int ep, struct flow *f, int64_t t, int early)
{
	switch (f->state) {
	case F_CONNECTING:
	case F_HELLO:
		flow_cut(ep, f, "not-started");
		return;
	case F_RUN:
		break;
	default:
		return;
	}
	f->since = t;
	switch (f->kind) {
	case K_DATA:
		break;
	case K_IDLE:
		/* The one exchange that shows the idle flow still works. */
		flow_push(f, 32, t);
		break;
	case K_BULK:
		/* Stop sending, read the rest at full speed. */
		f->tx_goal = f->tx;
		break;
	case K_HALF:
		if (early) {
			/* Its stream was to last the whole run. */
			flow_end(ep, f, O_OK, "stopped");
			return;
		}
		/* The server's stream ends by itself; F_FINAL only bounds
		 * the wait. */
		break;
	case K_N:
		break;
	}
	f->state = F_FINAL;
	if (f->kind != K_HALF)
		flow_shut_if_done(ep, f, t);
}

static int
parse_kinds(const char *s, enum kind *ks, int *nk)
{
	char buf[128], *tok, *save = NULL;
	int k;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	*nk = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < K_N; k++)
			if (strcmp(tok, kind_name[k]) == 0)
				break;
		if (k == K_N || *nk == K_N)
			return -1;
		ks[(*nk)++] = (enum kind)k;
	}
	return *nk > 0 ? 0 : -1;
}

static void
summary(FILE *f, int ntg)
{
	long all[O_N] = { 0 };
	int i, k, o;

	for (i = 0; i < ntg; i++)
		for (k = 0; k < K_N; k++) {
			long *c = targets[i].count[k];

			if (c[O_OK] + c[O_CUT] + c[O_FAIL] == 0)
				continue;
			fprintf(f, "summary %s %s total %ld ok %ld cut %ld "
			    "fail %ld\n", targets[i].name, kind_name[k],
			    c[O_OK] + c[O_CUT] + c[O_FAIL], c[O_OK], c[O_CUT],
			    c[O_FAIL]);
			for (o = 0; o < O_N; o++)
				all[o] += c[o];
		}
	fprintf(f, "summary all all total %ld ok %ld cut %ld fail %ld\n",
	    all[O_OK] + all[O_CUT] + all[O_FAIL], all[O_OK], all[O_CUT],
	    all[O_FAIL]);
}

static int
run(int argc, char **argv)
{
	struct sockaddr_storage src, *srcp = NULL;
	socklen_t srclen = 0;
	struct epoll_event evs[256];
	enum kind kinds[K_N] = { K_DATA, K_IDLE, K_BULK, K_HALF };
	const char *file = NULL;
	int opt, secs = 60, per = 50, nk = K_N, ntg, ep, i, n, live;
	int64_t t, start, deadline, final_us = 0, next_tick;

	while ((opt = getopt(argc, argv, "o:T:n:k:s:w:r:K:")) != -1) {
		switch (opt) {
		case 'o': file = optarg; break;
		case 'T': secs = atoi(optarg); break;
		case 'n': per = atoi(optarg); break;
		case 'k':
			if (parse_kinds(optarg, kinds, &nk) == -1)
				goto usage;
			break;
		case 's':
			if (parse_src(optarg, &src, &srclen) == -1)
				goto usage;
			srcp = &src;
			break;
		case 'w': bound_us = atoll(optarg) * 1000; break;
		case 'r': bulk_rate = atoll(optarg); break;
		case 'K':
			if (sscanf(optarg, "%d,%d,%d", &ka_idle, &ka_intvl,
			    &ka_cnt) != 3 || ka_idle < 1 || ka_intvl < 1 ||
			    ka_cnt < 1)
				goto usage;
			break;
		default: goto usage;
		}
	}
	ntg = argc - optind;
	if (file == NULL || ntg < 1 || secs <= 0 || per < 1 ||
	    (long)per * ntg > 30000 || bound_us < 1500000 || bulk_rate < 1024)
		goto usage;
	targets = calloc((size_t)ntg, sizeof(*targets));
	flows = calloc((size_t)per * (size_t)ntg, sizeof(*flows));
	if (targets == NULL || flows == NULL)
		return 2;
	for (i = 0; i < ntg; i++) {
		snprintf(targets[i].name, sizeof(targets[i].name), "%s",
		    argv[optind + i]);
		if (parse_addr(argv[optind + i], &targets[i].ss,
		    &targets[i].len) == -1) {
			fprintf(stderr, "run: bad target %s\n",
			    argv[optind + i]);
			return 2;
		}
	}
	if ((out = fopen(file, "w")) == NULL) {
		fprintf(stderr, "run: %s: %s\n", file, strerror(errno));
		return 2;
	}
	/* Line by line: what was measured survives a KILL. */
	setvbuf(out, NULL, _IOLBF, 0);
	raise_nofile();
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 2;
	start = now_us();
	deadline = start + (int64_t)secs * 1000000;
	fprintf(out, "start %lld\n", (long long)start);
	nflows = per * ntg;
	for (i = 0; i < nflows; i++) {
		struct flow *f = &flows[i];

		f->target = i / per;
		f->kind = kinds[(i % per) % nk];
		f->seed = mix((uint64_t)start ^ (uint64_t)i << 40 ^
		    (uint64_t)getpid() << 20);
		f->phase = (int64_t)(f->seed % BULK_CYCLE);
		if (f->kind == K_HALF) {
			/* 64 KiB up, then the server's stream, 16 KiB/s
			 * until 1 s before the end. */
			int64_t ms = (int64_t)secs * 1000 - 1500;

			if (ms < 500)
				ms = 500;
			f->echo_len = 65536;
			f->total = (uint64_t)ms * 16;
			f->ms = ms;
		}
		flow_open(ep, f, srcp, srclen, start);
	}
	next_tick = start;
	for (;;) {
		t = now_us();
		if (final_us == 0 && (stop || t >= deadline)) {
			final_us = t;
			for (i = 0; i < nflows; i++)
				flow_final(ep, &flows[i], t, t < deadline);
		}
		if (final_us != 0 && t - final_us > bound_us + 3000000)
			break;		/* a last bound: flow_tick ends all */
		live = 0;
		for (i = 0; i < nflows; i++)
			live += flows[i].state != F_DONE;
		if (live == 0)
			break;
		n = epoll_wait(ep, evs, 256, TICK_US / 1000);
		t = now_us();
		for (i = 0; i < n; i++) {
			struct flow *f = &flows[evs[i].data.u32];

			if (f->state == F_DONE)
				continue;
			if (f->state == F_CONNECTING) {
				flow_connected(ep, f, t);
				flow_arm(ep, f, t);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				flow_read(ep, f, t);
			if (f->state != F_DONE &&
			    (evs[i].events & EPOLLOUT) &&
			    flow_flush(ep, f) == -1)
				continue;
			if (f->state == F_FINAL)
				flow_shut_if_done(ep, f, t);
			if (f->state == F_RUN && f->kind == K_HALF)
				flow_shut_if_done(ep, f, t);
			flow_arm(ep, f, t);
		}
		if (t < next_tick)
			continue;
		next_tick = t + TICK_US;
		for (i = 0; i < nflows; i++) {
			flow_tick(ep, &flows[i], t, final_us);
			flow_arm(ep, &flows[i], t);
		}
	}
	for (i = 0; i < nflows; i++)
		if (flows[i].state != F_DONE)
			flow_cut(ep, &flows[i], "timeout-final");
	fprintf(out, "end %lld\n", (long long)now_us());
	summary(out, ntg);
	summary(stdout, ntg);
	fclose(out);
	for (i = 0; i < ntg; i++)
		for (n = 0; n < K_N; n++)
			if (targets[i].count[n][O_CUT] +
			    targets[i].count[n][O_FAIL] > 0)
				return 1;
	return 0;
usage:
	fprintf(stderr, "usage: flowtool run -o FILE [-T SECONDS] [-n N] "
	    "[-k data,idle,bulk,half] [-s SRC] [-w MS] [-r BYTES_PER_S] "
	    "[-K IDLE,INTVL,CNT] TARGET...\n");
	return 2;
}

/* ---- probe --------------------------------------------------------- */

#define MAXA		1024

enum astate {
	A_FREE = 0,	/* slot unused */
	A_CONNECTING,	/* SYN sent */
	A_WAITING	/* "ping" sent, the reply line awaited */
};

struct attempt {
	enum astate	state;
	int		fd;
	int		target;
	int64_t		start;
	size_t		got;
	char		buf[HDRMAX];
};

static struct attempt att[MAXA];

static void
a_finish(struct attempt *a, int ok, const char *info)
{
	fprintf(out, "A %d %lld %d %lld %s\n", a->target, (long long)a->start,
	    ok, (long long)(now_us() - a->start), info);
	if (a->fd != -1)
		close(a->fd);	/* removes it from the epoll set */
	a->fd = -1;
	a->state = A_FREE;
}

/* One attempt's event: connected (send "ping") or the reply. */
static void
a_event(int ep, struct attempt *a, uint32_t k)
{
	struct epoll_event ev;
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t r;
	char *nl, node[PEERLEN], info[PEERLEN + 16];

	if (a->state == A_CONNECTING) {
		getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			a_finish(a, 0, err_word(err));
			return;
		}
		if (write(a->fd, "ping\n", 5) != 5) {
			a_finish(a, 0, "write");
			return;
		}
		a->state = A_WAITING;
		ev.events = EPOLLIN;
		ev.data.u32 = k;
		epoll_ctl(ep, EPOLL_CTL_MOD, a->fd, &ev);
		return;
	}
	r = read(a->fd, a->buf + a->got, sizeof(a->buf) - 1 - a->got);
	if (r == -1 && errno == EAGAIN)
		return;
	if (r <= 0) {
		a_finish(a, 0, r == 0 ? "eof" : (errno == ECONNRESET ?
		    "reset" : err_word(errno)));
		return;
	}
	a->got += (size_t)r;
	a->buf[a->got] = '\0';
	if ((nl = strchr(a->buf, '\n')) == NULL) {
		if (a->got == sizeof(a->buf) - 1)
			a_finish(a, 0, "bad-reply");
		return;
	}
	*nl = '\0';
	/* "flowtool NODE" (flowtool serve) or "NAME NODE ..." (pairtool). */
	if (sscanf(a->buf, "%*s %47s", node) != 1) {
		a_finish(a, 0, "bad-reply");
		return;
	}
	snprintf(info, sizeof(info), "%s/flowtool", node);
	a_finish(a, 1, info);
}

static int
probe(int argc, char **argv)
{
	struct sockaddr_storage src, *srcp = NULL;
	socklen_t srclen = 0;
	struct epoll_event ev, evs[256];
	const char *file = NULL;
	int opt, ntg, ep, i, n, interval = 20, wait_ms = 500, secs = 300;
	int64_t t, next, end;

	while ((opt = getopt(argc, argv, "o:i:w:T:s:")) != -1) {
		switch (opt) {
		case 'o': file = optarg; break;
		case 'i': interval = atoi(optarg); break;
		case 'w': wait_ms = atoi(optarg); break;
		case 'T': secs = atoi(optarg); break;
		case 's':
			if (parse_src(optarg, &src, &srclen) == -1)
				goto usage;
			srcp = &src;
			break;
		default: goto usage;
		}
	}
	ntg = argc - optind;
	if (file == NULL || ntg < 1 || ntg > 64 || interval < 1 ||
	    wait_ms < 1 || secs <= 0)
		goto usage;
	if ((targets = calloc((size_t)ntg, sizeof(*targets))) == NULL)
		return 2;
	for (i = 0; i < ntg; i++)
		if (parse_addr(argv[optind + i], &targets[i].ss,
		    &targets[i].len) == -1) {
			fprintf(stderr, "probe: bad target %s\n",
			    argv[optind + i]);
			return 2;
		}
	if ((out = fopen(file, "w")) == NULL) {
		fprintf(stderr, "probe: %s: %s\n", file, strerror(errno));
		return 2;
	}
	setvbuf(out, NULL, _IOLBF, 0);
	raise_nofile();
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 2;
	for (i = 0; i < MAXA; i++)
		att[i].fd = -1;
	t = now_us();
	next = t;
	end = t + (int64_t)secs * 1000000;
	fprintf(out, "S %lld\n", (long long)t);
	while (!stop && (t = now_us()) < end) {
		int timeout;

		if (t >= next) {
			for (i = 0; i < ntg; i++) {
				struct target *tg = &targets[i];
				struct attempt *a = NULL;
				int k, one = 1;

				for (k = 0; k < MAXA; k++)
					if (att[k].state == A_FREE) {
						a = &att[k];
						break;
					}
				if (a == NULL)
					break;
				a->target = i;
				a->start = t;
				a->got = 0;
				a->fd = socket(tg->ss.ss_family, SOCK_STREAM |
				    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
				if (a->fd == -1) {
					a_finish(a, 0, err_word(errno));
					continue;
				}
				setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY,
				    &one, sizeof(one));
				if ((srcp != NULL && srcp->ss_family ==
				    tg->ss.ss_family && bind(a->fd,
				    (struct sockaddr *)srcp, srclen) == -1) ||
				    (connect(a->fd, (struct sockaddr *)&tg->ss,
				    tg->len) == -1 && errno != EINPROGRESS)) {
					a_finish(a, 0, errno == ECONNREFUSED ?
					    "refused" : err_word(errno));
					continue;
				}
				a->state = A_CONNECTING;
				ev.events = EPOLLOUT;
				ev.data.u32 = (uint32_t)k;
				epoll_ctl(ep, EPOLL_CTL_ADD, a->fd, &ev);
			}
			next += (int64_t)interval * 1000;
			if (next < t)
				next = t + (int64_t)interval * 1000;
		}
		for (i = 0; i < MAXA; i++)
			if (att[i].state != A_FREE &&
			    t - att[i].start > (int64_t)wait_ms * 1000)
				a_finish(&att[i], 0, att[i].state ==
				    A_CONNECTING ? "connect-timeout" :
				    "reply-timeout");
		timeout = (int)((next - now_us()) / 1000);
		if (timeout < 0)
			timeout = 0;
		if (timeout > 10)
			timeout = 10;
		n = epoll_wait(ep, evs, 256, timeout);
		for (i = 0; i < n; i++) {
			uint32_t k = evs[i].data.u32;

			if (k < MAXA && att[k].state != A_FREE)
				a_event(ep, &att[k], k);
		}
	}
	for (i = 0; i < MAXA; i++)
		if (att[i].state != A_FREE)
			a_finish(&att[i], 0, "stopped");
	fprintf(out, "E %lld\n", (long long)now_us());
	fclose(out);
	return 0;
usage:
	fprintf(stderr, "usage: flowtool probe -o FILE [-i MS] [-w MS] "
	    "[-T SECONDS] [-s SRC] TARGET...\n");
	return 2;
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
		fprintf(stderr, "usage: flowtool serve|run|probe ...\n");
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	if (strcmp(argv[0], "serve") == 0)
		return serve(argc, argv);
	if (strcmp(argv[0], "run") == 0)
		return run(argc, argv);
	if (strcmp(argv[0], "probe") == 0)
		return probe(argc, argv);
	fprintf(stderr, "flowtool: unknown command %s\n", argv[0]);
	return 2;
}

/*
 * pairtool: the pair test's backend server and client prober.
 *
 *   pairtool serve [-T SECONDS] ADDR:PORT...
 *	One process, one listening socket per ADDR:PORT.  Every chunk a
 *	client sends is answered with "NAME PEER DATA", NAME being the
 *	listening address and PEER the address the connection came from (the
 *	lb4 node), so the prober can tell which node served it.
 *
 *   pairtool probe -o FILE [-i MS] [-w MS] [-T SECONDS] [-L ADDR:PORT]
 *		    [-m LINE] ADDR:PORT...
 *	Every MS milliseconds (default 20) starts one attempt per target: a
 *	new TCP connection, "ping\n" (or LINE and a newline: -m "idle 1"
 *	probes flowtool's servers, whose hello line "flowtool PEER" names the
 *	node) sent, a reply line awaited; each attempt
 *	has -w MS (default 500) to finish.  Writes one line per attempt:
 *	    A IDX START_US OK LATENCY_US INFO
 *	With -L, also holds one long connection that sends "seq N\n" every
 *	100 ms and expects it echoed within 1 s; a reset, EOF or timeout is
 *	written as "L START_US cut INFO" and the connection reopened.
 *	Stops on SIGTERM/SIGINT or after -T SECONDS (default 300).
 *
 *   pairtool connect [-w MS] [-s SRC] [-q] [-H PATH] ADDR:PORT
 *	One attempt.  -q: connect only.  -H: send an HTTP GET and print the
 *	reply.  Exit 0 on success, 1 on refusal or timeout.
 *
 *   pairtool vrrp -s SRC -r VRID -p PRIO -a VIP [-c CS] [-n COUNT] [-i MS]
 *		   [-F IFNAME]
 *	Sends COUNT (default 20) forged VRRPv3 adverts, one every MS (default
 *	50), from SRC to 224.0.0.18 claiming VRID with priority PRIO for VIP
 *	and an advert interval of CS centiseconds (default 100): a rogue
 *	router, to show the firewall keeps it out.  -F: SRC is not ours (a
 *	forged source address, IP_TRANSPARENT), sent out of IFNAME.
 *
 * Times are CLOCK_REALTIME microseconds so that the test script's
 * `date +%s%N` marks line up with them.  Every loop is bounded in time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXT		8
#define MAXA		1024

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
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char buf[64], *colon;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((colon = strrchr(buf, ':')) == NULL)
		return -1;
	*colon = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1 ||
	    sin->sin_port == 0)
		return -1;
	return 0;
}

/* Non-blocking connect to <sin> (from <src> when not NULL); fd or -1. */
static int
start_connect(const struct sockaddr_in *sin, const struct sockaddr_in *src)
{
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != NULL && bind(fd, (const struct sockaddr *)src,
	    sizeof(*src)) == -1) {
		close(fd);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1 &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* ---- serve ---------------------------------------------------------- */

struct sconn {
	int	fd;
	char	name[32];
	char	peer[32];
	int	listening;
};

static int
serve(int argc, char **argv)
{
	struct sconn *tab[4096] = { 0 };
	struct epoll_event ev, evs[64];
	int ep, i, n, opt, secs = 3600;
	int64_t end;

	while ((opt = getopt(argc, argv, "T:")) != -1) {
		if (opt == 'T')
			secs = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "serve: no address\n");
		return 2;
	}
	end = now_us() + (int64_t)secs * 1000000;
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = optind; i < argc; i++) {
		struct sockaddr_in sin;
		struct sconn *c;
		int fd, one = 1;

		if (parse_addr(argv[i], &sin) == -1) {
			fprintf(stderr, "serve: bad address %s\n", argv[i]);
			return 2;
		}
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd == -1 || fd >= 4096 || bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == -1 || listen(fd, 512) == -1) {
			fprintf(stderr, "serve: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		c = calloc(1, sizeof(*c));
		c->fd = fd;
		c->listening = 1;
		inet_ntop(AF_INET, &sin.sin_addr, c->name, sizeof(c->name));
		tab[fd] = c;
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	while (!stop && now_us() < end) {
		n = epoll_wait(ep, evs, 64, 200);
		for (i = 0; i < n; i++) {
			struct sconn *c = tab[evs[i].data.fd];
			char buf[4096], out[4200];
			ssize_t r;

			if (c == NULL)
				continue;
			if (c->listening) {
				struct sockaddr_in peer;
				socklen_t len = sizeof(peer);
				struct sconn *nc;
				int fd;

				fd = accept4(c->fd, (struct sockaddr *)&peer,
				    &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd == -1)
					continue;
				if (fd >= 4096) {
					close(fd);
					continue;
				}
				nc = calloc(1, sizeof(*nc));
				nc->fd = fd;
				snprintf(nc->name, sizeof(nc->name), "%s",
				    c->name);
				inet_ntop(AF_INET, &peer.sin_addr, nc->peer,
				    sizeof(nc->peer));
				tab[fd] = nc;
				ev.events = EPOLLIN;
				ev.data.fd = fd;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			r = read(c->fd, buf, sizeof(buf) - 1);
			if (r > 0) {
				int m = snprintf(out, sizeof(out), "%s %s %.*s",
				    c->name, c->peer, (int)r, buf);

				if (write(c->fd, out, (size_t)m) == m)
					continue;
			} else if (r == -1 && errno == EAGAIN)
				continue;
			tab[c->fd] = NULL;
			close(c->fd);
			free(c);
		}
	}
	return 0;
}

/* ---- probe ---------------------------------------------------------- */

enum astate {
	A_FREE = 0,	/* slot unused */
	A_CONNECTING,	/* SYN sent */
	A_WAITING	/* "ping" sent, reply awaited */
};

struct attempt {
	enum astate	state;
	int		fd;
	int		target;
	int64_t		start;
	size_t		got;
	char		buf[256];
};

static struct attempt att[MAXA];
static FILE *out;

static void
finish(struct attempt *a, int ok, const char *info)
{
	fprintf(out, "A %d %lld %d %lld %s\n", a->target, (long long)a->start,
	    ok, (long long)(now_us() - a->start), info);
	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
	a->state = A_FREE;
}

/* The long connection. */
static struct {
	int		fd;
	int		connected;
	unsigned	seq, acked;
	int64_t		sent_at;	/* 0: nothing outstanding */
	int64_t		next_send;
	int64_t		opened;
	size_t		got;
	char		buf[512];
	struct sockaddr_in addr;
	int		on;
} lc = { .fd = -1 };

static void
long_cut(const char *why)
{
	fprintf(out, "L %lld cut %s seq=%u opened=%lld\n",
	    (long long)now_us(), why, lc.seq, (long long)lc.opened);
	fflush(out);
	if (lc.fd != -1)
		close(lc.fd);
	lc.fd = -1;
	lc.connected = 0;
	lc.sent_at = 0;
}

static void
long_open(int ep)
{
	struct epoll_event ev;

	lc.fd = start_connect(&lc.addr, NULL);
	lc.opened = now_us();
	lc.got = 0;
	lc.sent_at = 0;
	lc.next_send = lc.opened;
	lc.connected = 0;
	if (lc.fd == -1) {
		lc.fd = -1;
		return;
	}
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.u32 = MAXA;
	epoll_ctl(ep, EPOLL_CTL_ADD, lc.fd, &ev);
}

static void
long_event(int ep)
{
	struct epoll_event ev;
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t r;

	if (!lc.connected) {
		getsockopt(lc.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			/* Not yet established: not a cut, just retry. */
			close(lc.fd);
			lc.fd = -1;
			return;
		}
		lc.connected = 1;
		fprintf(out, "L %lld open\n", (long long)now_us());
		ev.events = EPOLLIN;
		ev.data.u32 = MAXA;
		epoll_ctl(ep, EPOLL_CTL_MOD, lc.fd, &ev);
		return;
	}
	r = read(lc.fd, lc.buf + lc.got, sizeof(lc.buf) - 1 - lc.got);
	if (r == 0) {
		long_cut("eof");
		return;
	}
	if (r == -1) {
		if (errno != EAGAIN)
			long_cut(strerror(errno));
		return;
	}
	lc.got += (size_t)r;
	lc.buf[lc.got] = '\0';
	if (strchr(lc.buf, '\n') != NULL) {
		char want[32];

		snprintf(want, sizeof(want), "seq %u\n", lc.seq);
		if (strstr(lc.buf, want) == NULL) {
			long_cut("bad-echo");
			return;
		}
		lc.acked = lc.seq;
		lc.sent_at = 0;
		lc.got = 0;
	}
}

static void
long_tick(int ep, int64_t t)
{
	char msg[32];
	int m;

	if (!lc.on)
		return;
	if (lc.fd == -1) {
		if (t >= lc.next_send)
			long_open(ep);
		if (lc.fd == -1)
			lc.next_send = t + 100000;
		return;
	}
	if (!lc.connected) {
		if (t - lc.opened > 1000000) {
			close(lc.fd);
			lc.fd = -1;
			lc.next_send = t + 100000;
		}
		return;
	}
	if (lc.sent_at != 0) {
		if (t - lc.sent_at > 1000000)
			long_cut("timeout");
		return;
	}
	if (t < lc.next_send)
		return;
	lc.seq++;
	m = snprintf(msg, sizeof(msg), "seq %u\n", lc.seq);
	if (write(lc.fd, msg, (size_t)m) != m) {
		long_cut(strerror(errno));
		return;
	}
	lc.sent_at = t;
	lc.next_send = t + 100000;
}

/* What each attempt sends (-m). */
static char probe_msg[64] = "ping\n";
static size_t probe_len = 5;

static int
probe(int argc, char **argv)
{
	struct sockaddr_in tgt[MAXT];
	struct epoll_event ev, evs[64];
	int ntgt = 0, opt, ep, i, n, interval = 20, wait_ms = 500, secs = 300;
	const char *outpath = NULL;
	int64_t t, next, end;

	while ((opt = getopt(argc, argv, "o:i:w:T:L:m:")) != -1) {
		switch (opt) {
		case 'm':
			snprintf(probe_msg, sizeof(probe_msg), "%s\n", optarg);
			probe_len = strlen(probe_msg);
			break;
		case 'o': outpath = optarg; break;
		case 'i': interval = atoi(optarg); break;
		case 'w': wait_ms = atoi(optarg); break;
		case 'T': secs = atoi(optarg); break;
		case 'L':
			if (parse_addr(optarg, &lc.addr) == -1)
				return 2;
			lc.on = 1;
			break;
		default: return 2;
		}
	}
	for (i = optind; i < argc && ntgt < MAXT; i++)
		if (parse_addr(argv[i], &tgt[ntgt++]) == -1) {
			fprintf(stderr, "probe: bad target %s\n", argv[i]);
			return 2;
		}
	if (outpath == NULL || (ntgt == 0 && !lc.on) || interval < 1 ||
	    wait_ms < 1) {
		fprintf(stderr, "probe: usage: probe -o FILE [-i MS] [-w MS] "
		    "[-T SECONDS] [-L ADDR:PORT] ADDR:PORT...\n");
		return 2;
	}
	if ((out = fopen(outpath, "w")) == NULL) {
		perror(outpath);
		return 1;
	}
	setvbuf(out, NULL, _IOLBF, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < MAXA; i++)
		att[i].fd = -1;
	t = now_us();
	next = t;
	end = t + (int64_t)secs * 1000000;
	fprintf(out, "S %lld\n", (long long)t);
	while (!stop && (t = now_us()) < end) {
		int timeout;

		if (t >= next) {
			for (i = 0; i < ntgt; i++) {
				struct attempt *a = NULL;
				int k;

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
				a->fd = start_connect(&tgt[i], NULL);
				if (a->fd == -1) {
					finish(a, 0, strerror(errno));
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
		long_tick(ep, t);
		for (i = 0; i < MAXA; i++)
			if (att[i].state != A_FREE &&
			    t - att[i].start > (int64_t)wait_ms * 1000)
				finish(&att[i], 0, att[i].state ==
				    A_CONNECTING ? "connect-timeout" :
				    "reply-timeout");
		timeout = (int)((next - now_us()) / 1000);
		if (timeout < 0)
			timeout = 0;
		if (timeout > 10)
			timeout = 10;
		n = epoll_wait(ep, evs, 64, timeout);
		for (i = 0; i < n; i++) {
			uint32_t k = evs[i].data.u32;
			struct attempt *a;
			int err = 0;
			socklen_t len = sizeof(err);
			ssize_t r;

			if (k == MAXA) {
				if (lc.fd != -1)
					long_event(ep);
				continue;
			}
			a = &att[k];
			if (a->state == A_CONNECTING) {
				getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err,
				    &len);
				if (err != 0) {
					finish(a, 0, err == ECONNREFUSED ?
					    "refused" : strerror(err));
					continue;
				}
				if (write(a->fd, probe_msg, probe_len) !=
				    (ssize_t)probe_len) {
					finish(a, 0, "write");
					continue;
				}
				a->state = A_WAITING;
				ev.events = EPOLLIN;
				ev.data.u32 = k;
				epoll_ctl(ep, EPOLL_CTL_MOD, a->fd, &ev);
				continue;
			}
			r = read(a->fd, a->buf + a->got,
			    sizeof(a->buf) - 1 - a->got);
			if (r <= 0) {
				if (r == -1 && errno == EAGAIN)
					continue;
				finish(a, 0, r == 0 ? "eof" : "reset");
				continue;
			}
			a->got += (size_t)r;
			a->buf[a->got] = '\0';
			if (strchr(a->buf, '\n') != NULL) {
				char name[64] = "?", peer[64] = "?";
				char info[140];

				sscanf(a->buf, "%63s %63s", name, peer);
				snprintf(info, sizeof(info), "%s/%s", peer,
				    name);
				finish(a, 1, info);
			}
		}
	}
	for (i = 0; i < MAXA; i++)
		if (att[i].state != A_FREE)
			finish(&att[i], 0, "stopped");
	if (lc.on && lc.fd != -1)
		fprintf(out, "L %lld end seq=%u acked=%u\n",
		    (long long)now_us(), lc.seq, lc.acked);
	fprintf(out, "E %lld\n", (long long)now_us());
	fclose(out);
	return 0;
}

/* ---- connect -------------------------------------------------------- */

static int
one_connect(int argc, char **argv)
{
	struct sockaddr_in sin, src, *srcp = NULL;
	struct pollfd pfd;
	int opt, wait_ms = 500, quiet = 0, fd, err = 0;
	socklen_t len = sizeof(err);
	const char *path = NULL;
	char buf[65536];
	size_t got = 0;
	int64_t end;

	while ((opt = getopt(argc, argv, "w:s:qH:")) != -1) {
		switch (opt) {
		case 'w': wait_ms = atoi(optarg); break;
		case 's':
			memset(&src, 0, sizeof(src));
			src.sin_family = AF_INET;
			if (inet_pton(AF_INET, optarg, &src.sin_addr) != 1)
				return 2;
			srcp = &src;
			break;
		case 'q': quiet = 1; break;
		case 'H': path = optarg; break;
		default: return 2;
		}
	}
	if (optind >= argc || parse_addr(argv[optind], &sin) == -1) {
		fprintf(stderr, "connect: usage: connect [-w MS] [-s SRC] "
		    "[-q] [-H PATH] ADDR:PORT\n");
		return 2;
	}
	end = now_us() + (int64_t)wait_ms * 1000;
	if ((fd = start_connect(&sin, srcp)) == -1) {
		printf("error: %s\n", strerror(errno));
		return 1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, wait_ms) != 1) {
		printf("timeout\n");
		return 1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		printf("error: %s\n", strerror(err));
		return 1;
	}
	if (quiet) {
		printf("connected\n");
		return 0;
	}
	if (path != NULL) {
		int m = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\n"
		    "Host: x\r\n\r\n", path);
		if (write(fd, buf, (size_t)m) != m)
			return 1;
	} else if (write(fd, "ping\n", 5) != 5)
		return 1;
	pfd.events = POLLIN;
	while (got < sizeof(buf) - 1) {
		int left = (int)((end - now_us()) / 1000);
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, left) != 1)
			break;
		r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (path == NULL && memchr(buf, '\n', got) != NULL)
			break;
	}
	buf[got] = '\0';
	fputs(buf, stdout);
	return got > 0 ? 0 : 1;
}

/* ---- vrrp ----------------------------------------------------------- */

static uint16_t
cksum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len == 1)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int
vrrp(int argc, char **argv)
{
	struct in_addr src = { 0 }, vip = { 0 }, grp;
	struct sockaddr_in dst;
	uint8_t pkt[12], pseudo[12 + sizeof(pkt)];
	int opt, fd, ttl = 255, vrid = 0, prio = 0, count = 20, ms = 50, i;
	int cs = 100, one = 1;
	const char *forge_if = NULL;
	struct ip_mreqn mr;
	uint16_t c;

	while ((opt = getopt(argc, argv, "s:r:p:a:c:n:i:F:")) != -1) {
		switch (opt) {
		case 's': inet_pton(AF_INET, optarg, &src); break;
		case 'r': vrid = atoi(optarg); break;
		case 'p': prio = atoi(optarg); break;
		case 'a': inet_pton(AF_INET, optarg, &vip); break;
		case 'c': cs = atoi(optarg); break;
		case 'n': count = atoi(optarg); break;
		case 'i': ms = atoi(optarg); break;
		case 'F': forge_if = optarg; break;
		default: return 2;
		}
	}
	if (src.s_addr == 0 || vip.s_addr == 0 || vrid < 1 || vrid > 255 ||
	    prio < 1 || prio > 255 || cs < 1 || cs > 4095) {
		fprintf(stderr, "vrrp: usage: vrrp -s SRC -r VRID -p PRIO "
		    "-a VIP [-c CS] [-n COUNT] [-i MS]\n");
		return 2;
	}
	inet_pton(AF_INET, "224.0.0.18", &grp);
	/* RFC 5798 5.1: version 3, type 1; one IPv4 address. */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x31;
	pkt[1] = (uint8_t)vrid;
	pkt[2] = (uint8_t)prio;
	pkt[3] = 1;
	pkt[4] = (uint8_t)(cs >> 8);
	pkt[5] = (uint8_t)cs;
	memcpy(pkt + 8, &vip, 4);
	/* Checksum over the IPv4 pseudo-header and the message. */
	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &grp, 4);
	pseudo[8] = 0;
	pseudo[9] = 112;
	pseudo[10] = 0;
	pseudo[11] = sizeof(pkt);
	memcpy(pseudo + 12, pkt, sizeof(pkt));
	c = cksum(pseudo, sizeof(pseudo), 0);
	pkt[6] = (uint8_t)(c >> 8);
	pkt[7] = (uint8_t)c;

	if ((fd = socket(AF_INET, SOCK_RAW, 112)) == -1) {
		perror("vrrp: socket");
		return 1;
	}
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
	if (forge_if != NULL) {
		memset(&mr, 0, sizeof(mr));
		mr.imr_ifindex = (int)if_nametoindex(forge_if);
		if (setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one,
		    sizeof(one)) == -1 || mr.imr_ifindex == 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
		    sizeof(mr)) == -1) {
			perror("vrrp: -F");
			return 1;
		}
	} else
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &src, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_addr = src;
	if (bind(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1) {
		perror("vrrp: bind");
		return 1;
	}
	dst.sin_addr = grp;
	for (i = 0; i < count && !stop; i++) {
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst,
		    sizeof(dst)) == -1) {
			perror("vrrp: sendto");
			return 1;
		}
		usleep((useconds_t)ms * 1000);
	}
	close(fd);
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
		fprintf(stderr, "usage: pairtool serve|probe|connect|vrrp ...\n");
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "probe") == 0)
		return probe(argc - 1, argv + 1);
	if (strcmp(argv[1], "connect") == 0)
		return one_connect(argc - 1, argv + 1);
	if (strcmp(argv[1], "vrrp") == 0)
		return vrrp(argc - 1, argv + 1);
	fprintf(stderr, "pairtool: unknown command %s\n", argv[1]);
	return 2;
}

/*
 * tclient: the client side of lb4's integration tests.  Every wait is
 * bounded; the exit status says how it went:
 *
 *   0 ok   1 data mismatch or early EOF   2 usage   3 connection refused
 *   4 reset (ECONNRESET/EPIPE)   5 timeout   6 other error
 *
 * Modes (default: stream):
 *   stream  -c CONNS connections at once; connection i sends -n BYTES of
 *           gen(SEED+i) while reading, then FIN (unless --no-shut), and
 *           reads to EOF.  One line per connection:
 *             conn I sent N HEX recv M HEX end eof|rst|timeout|... ms T
 *   --seq COUNT   COUNT connections one after the other, each reads to
 *           EOF; the first line of each reply is an id.  Prints
 *             first ID ID ...      (the first --show K ids)
 *             count ID N           (per id, in order of first appearance)
 *             errors N
 *   --ping K  send "ping I\n" K times (every --interval MS), each must
 *           come back; prints "ping connect_ms=.. first_reply_ms=..
 *           last_reply_ms=.. replies=K end=.. ms=.."  (times since start)
 *   --hold MS  connect, send nothing, wait for the peer to close:
 *           "hold end=eof|rst|open ms=T"; exit 0 eof, 4 rst, 5 still open
 *   --rate BPS  (stream) send at most BPS bytes per second per connection
 *           SIGUSR1 (stream): stop generating data (the -n bytes not sent
 *           yet are dropped), FIN, and finish as usual: with --expect-echo
 *           what was sent is still checked against what came back
 *   --loop SECS  load: -c CONNS threads, each opening stream connections
 *           one after the other for SECS seconds (-n BYTES each, checked
 *           with --expect-echo etc., --interval MS pause between them;
 *           0 by default).  Prints
 *             loop conns=N ok=N failed=N refused=N reset=N timeout=N
 *                  mismatch=N other=N ms=T
 *           and one "fail I end ... ms T" line for each of the first 20
 *           failures (I = ms since start); exit 0 when none failed, else
 *           the first failure's status.  SIGUSR1 ends the loop early
 *           (each thread finishes its connection first).
 *   --gen N SEED  print the SHA-256 of gen(SEED)'s first N bytes; no network
 */
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include "tcommon.h"

#define BUFSZ		(64 * 1024)
#define MAX_CONNS	256
#define MAX_IDS		64

enum rc {
	RC_OK = 0,
	RC_MISMATCH = 1,
	RC_USAGE = 2,
	RC_REFUSED = 3,
	RC_RESET = 4,
	RC_TIMEOUT = 5,
	RC_ERROR = 6,
};

static struct sockaddr_storage	dst;
static socklen_t		dstlen;
static const char		*dsttext;
static int64_t			t0;		/* process start, ms */
static int64_t			deadline;	/* t0 + -T */
static int			connect_timeout = 5000;
static uint64_t			nbytes;
static uint64_t			seed = 1;
static int			no_shut;
static int			after_eof;	/* send only after EOF */
static int			rst_after_echo;
static const char		*greeting;
static int			expect_echo;
static int			expect_reply_hash;
static int64_t			expect_recv = -1;
static uint64_t			rate;		/* --rate, bytes/s; 0 = off */
static int			run_mode_stream;	/* SIGUSR1 stops sending */

struct conn {
	int		idx;
	int		fd;
	uint64_t	sent, recv;
	struct sha256	ssha, rsha;
	char		shex[65], rhex[65];
	const char	*end;
	enum rc		rc;
	int64_t		ms;
	char		reply[160];	/* first bytes received */
	size_t		nreply;
};

static enum rc
errno_rc(int err, const char **end)
{
	switch (err) {
	case ECONNREFUSED:
		*end = "refused";
		return RC_REFUSED;
	case ECONNRESET:
	case EPIPE:
		*end = "rst";
		return RC_RESET;
	case ETIMEDOUT:
		*end = "timeout";
		return RC_TIMEOUT;
	default:
		*end = strerror(err);
		return RC_ERROR;
	}
}

static int
left_ms(void)
{
	int64_t l = deadline - now_ms();

	return l < 0 ? 0 : (int)l;
}

/*
 * Connects a non-blocking socket to dst within connect_timeout (and the
 * overall deadline).  Returns the fd, or -1 with *<rc> and *<end> set.
 */
static int
dial(enum rc *rc, const char **end)
{
	struct pollfd pfd;
	int fd, err = 0, wait, one = 1;
	socklen_t elen = sizeof(err);

	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		*rc = errno_rc(errno, end);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&dst, dstlen) == -1) {
		if (errno != EINPROGRESS) {
			*rc = errno_rc(errno, end);
			close(fd);
			return -1;
		}
		wait = left_ms() < connect_timeout ? left_ms() : connect_timeout;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		while (poll(&pfd, 1, wait) == -1 && errno == EINTR)
			;
		if (pfd.revents == 0) {
			*rc = RC_TIMEOUT;
			*end = "connect-timeout";
			close(fd);
			return -1;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err != 0) {
			*rc = errno_rc(err, end);
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * Waits for <events> on <fd> until the overall deadline.  Returns revents,
 * or 0 on timeout.
 */
static int
wait_fd(int fd, short events, int max_ms)
{
	struct pollfd pfd = { fd, events, 0 };
	int ms = left_ms();

	if (max_ms >= 0 && max_ms < ms)
		ms = max_ms;
	while (poll(&pfd, 1, ms) == -1 && errno == EINTR)
		;
	return pfd.revents;
}

/* Reads into <c>'s hashes.  Returns >0, 0 on EOF, -2 again, -1 error. */
static ssize_t
conn_read(struct conn *c, uint8_t *buf, size_t len)
{
	ssize_t r = read(c->fd, buf, len);

	if (r == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return -2;
		c->rc = errno_rc(errno, &c->end);
		return -1;
	}
	if (r == 0) {
		c->end = "eof";
		return 0;
	}
	if (c->nreply < sizeof(c->reply) - 1) {
		size_t k = sizeof(c->reply) - 1 - c->nreply;

		if (k > (size_t)r)
			k = (size_t)r;
		memcpy(c->reply + c->nreply, buf, k);
		c->nreply += k;
		c->reply[c->nreply] = '\0';
	}
	sha256_update(&c->rsha, buf, (size_t)r);
	c->recv += (uint64_t)r;
	return r;
}

/* Reads exactly strlen(greeting)+1 bytes and checks them. */
static int
read_greeting(struct conn *c, uint8_t *buf)
{
	size_t want = strlen(greeting) + 1;

	while (c->recv < want) {
		ssize_t r;

		if (wait_fd(c->fd, POLLIN, -1) == 0) {
			c->rc = RC_TIMEOUT;
			c->end = "timeout-before-greeting";
			return -1;
		}
		r = conn_read(c, buf, want - c->recv);
		if (r == -1)
			return -1;
		if (r == 0) {
			c->rc = RC_MISMATCH;
			c->end = "eof-before-greeting";
			return -1;
		}
	}
	if (memcmp(c->reply, greeting, want - 1) != 0 ||
	    c->reply[want - 1] != '\n') {
		c->rc = RC_MISMATCH;
		c->end = "bad-greeting";
		return -1;
	}
	return 0;
}

/*
 * SIGUSR1: end --loop, or stop sending in stream mode.  The handler runs
 * on the main thread and the connection threads read the flag, so it is
 * an atomic (lock-free, hence async-signal-safe): a volatile sig_atomic_t
 * only covers a handler and the thread it interrupted.
 */
static int	loop_stop;

static void
on_usr1(int sig)
{
	(void)sig;
	__atomic_store_n(&loop_stop, 1, __ATOMIC_RELAXED);
}

static int
stopped(void)
{
	return __atomic_load_n(&loop_stop, __ATOMIC_RELAXED);
}

/* The stream mode's connection: full duplex with poll(2). */
static void *
stream_main(void *arg)
{
	struct conn *c = arg;
	uint8_t *rx = malloc(BUFSZ), *tx = malloc(BUFSZ);
	struct gen g;
	size_t txoff = 0, txlen = 0;
	uint64_t left = nbytes;
	int eof = 0, shut = 0;
	int64_t start = now_ms();

	if (rx == NULL || tx == NULL)
		die(RC_ERROR, "tclient: out of memory");
	sha256_init(&c->ssha);
	sha256_init(&c->rsha);
	gen_init(&g, seed + (uint64_t)c->idx);
	c->end = NULL;
	c->rc = RC_OK;
	c->fd = dial(&c->rc, &c->end);
	if (c->fd == -1)
		goto done;
	if (greeting != NULL) {
		if (read_greeting(c, rx) == -1)
			goto done;
		/* Count only what follows the greeting. */
		sha256_init(&c->rsha);
		c->recv = 0;
		c->nreply = 0;
		c->reply[0] = '\0';
	}
	for (;;) {
		int rev, wait;
		short ev = 0;

		if (stopped() && run_mode_stream)
			left = 0;
		if (txoff == txlen && left > 0) {
			txlen = left < BUFSZ ? (size_t)left : BUFSZ;
			gen_fill(&g, tx, txlen);
			txoff = 0;
			left -= txlen;
		}
		if (txoff == txlen && left == 0 && !shut) {
			if (rst_after_echo) {
				if (c->recv >= c->sent) {
					struct linger lg = { 1, 0 };

					setsockopt(c->fd, SOL_SOCKET,
					    SO_LINGER, &lg, sizeof(lg));
					close(c->fd);
					c->fd = -1;
					c->end = "rst-sent";
					break;
				}
			} else if (!no_shut) {
				shutdown(c->fd, SHUT_WR);
				shut = 1;
			} else
				shut = 1;	/* done sending, no FIN */
		}
		if (eof && (shut || txoff == txlen))
			break;
		if (!eof)
			ev |= POLLIN;
		wait = -1;
		if (txoff < txlen && (!after_eof || eof)) {
			int64_t el = now_ms() - start;

			if (rate == 0 || c->sent < rate * (uint64_t)el / 1000)
				ev |= POLLOUT;
			else
				wait = 10;	/* paced: look again soon */
		}
		rev = wait_fd(c->fd, ev, wait);
		if (rev == 0 && wait != -1 && left_ms() > 0)
			continue;
		if (rev == 0) {
			c->rc = RC_TIMEOUT;
			c->end = "timeout";
			break;
		}
		if ((rev & (POLLIN | POLLHUP | POLLERR)) && !eof) {
			ssize_t r = conn_read(c, rx, BUFSZ);

			if (r == -1)
				break;
			if (r == 0)
				eof = 1;
		}
		if ((rev & (POLLOUT | POLLERR)) && txoff < txlen &&
		    (!after_eof || eof)) {
			size_t k = txlen - txoff;
			ssize_t w;

			/* Paced: small writes so the rate stays smooth. */
			if (rate != 0 && k > 4096)
				k = 4096;
			w = write(c->fd, tx + txoff, k);

			if (w == -1) {
				if (errno != EAGAIN && errno != EINTR) {
					c->rc = errno_rc(errno, &c->end);
					break;
				}
			} else {
				sha256_update(&c->ssha, tx + txoff, (size_t)w);
				c->sent += (uint64_t)w;
				txoff += (size_t)w;
			}
		}
	}
done:
	c->ms = now_ms() - start;
	if (c->end == NULL)
		c->end = "eof";
	if (c->fd != -1)
		close(c->fd);
	sha256_hex(&c->ssha, c->shex);
	sha256_hex(&c->rsha, c->rhex);
	if (c->rc == RC_OK && strcmp(c->end, "eof") == 0) {
		if (expect_echo && (c->recv != c->sent ||
		    strcmp(c->rhex, c->shex) != 0))
			c->rc = RC_MISMATCH;
		if (expect_recv >= 0 && c->recv != (uint64_t)expect_recv)
			c->rc = RC_MISMATCH;
		if (expect_reply_hash) {
			char want[160];

			snprintf(want, sizeof(want), "%llu %s\n",
			    (unsigned long long)c->sent, c->shex);
			if (strcmp(c->reply, want) != 0)
				c->rc = RC_MISMATCH;
		}
	}
	free(rx);
	free(tx);
	return NULL;
}

static int
run_stream(int nconns)
{
	static struct conn conns[MAX_CONNS];
	pthread_t th[MAX_CONNS];
	int i, rc = RC_OK;

	for (i = 0; i < nconns; i++) {
		conns[i].idx = i;
		if (pthread_create(&th[i], NULL, stream_main, &conns[i]) != 0)
			die(RC_ERROR, "tclient: pthread_create failed");
	}
	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];

		pthread_join(th[i], NULL);
		printf("conn %d sent %llu %s recv %llu %s end %s ms %lld",
		    i, (unsigned long long)c->sent, c->shex,
		    (unsigned long long)c->recv, c->rhex, c->end,
		    (long long)c->ms);
		if (expect_reply_hash)
			printf(" reply \"%.*s\"", (int)strcspn(c->reply, "\n"),
			    c->reply);
		printf(" rc %d\n", c->rc);
		if (rc == RC_OK && c->rc != RC_OK)
			rc = c->rc;
	}
	return rc;
}

/* --loop: the counters shared by the load threads. */
static struct {
	pthread_mutex_t	lock;
	int64_t		until;		/* stop opening connections then */
	long		conns, ok, byrc[RC_ERROR + 1];
	int		first_rc, nlogged;
} load = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, { 0 }, RC_OK, 0 };

static void *
loop_main(void *arg)
{
	struct conn c;
	int idx = *(int *)arg, interval = *((int *)arg + 1);
	long n = 0;

	while (!stopped() && now_ms() < load.until && left_ms() > 0) {
		memset(&c, 0, sizeof(c));
		/* Distinct data per connection: thread and round in the seed. */
		c.idx = idx + 1000 * (int)(n++ % 1000000);
		stream_main(&c);
		pthread_mutex_lock(&load.lock);
		load.conns++;
		if (c.rc == RC_OK)
			load.ok++;
		else {
			load.byrc[c.rc]++;
			if (load.first_rc == RC_OK)
				load.first_rc = c.rc;
			if (load.nlogged++ < 20)
				printf("fail %lld end %s sent %llu recv %llu "
				    "ms %lld rc %d\n",
				    (long long)(now_ms() - t0), c.end,
				    (unsigned long long)c.sent,
				    (unsigned long long)c.recv,
				    (long long)c.ms, c.rc);
		}
		pthread_mutex_unlock(&load.lock);
		if (interval > 0)
			sleep_ms(interval);
	}
	return NULL;
}

static int
run_loop(int secs, int nthreads, int interval)
{
	static int args[MAX_CONNS][2];
	pthread_t th[MAX_CONNS];
	long failed;
	int i;

	load.until = now_ms() + (int64_t)secs * 1000;
	for (i = 0; i < nthreads; i++) {
		args[i][0] = i;
		args[i][1] = interval;
		if (pthread_create(&th[i], NULL, loop_main, args[i]) != 0)
			die(RC_ERROR, "tclient: pthread_create failed");
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	failed = load.conns - load.ok;
	printf("loop conns=%ld ok=%ld failed=%ld refused=%ld reset=%ld "
	    "timeout=%ld mismatch=%ld other=%ld ms=%lld\n", load.conns, load.ok,
	    failed, load.byrc[RC_REFUSED], load.byrc[RC_RESET],
	    load.byrc[RC_TIMEOUT], load.byrc[RC_MISMATCH],
	    load.byrc[RC_ERROR], (long long)(now_ms() - t0));
	if (load.conns == 0)
		return RC_ERROR;
	return load.first_rc;
}

/* Sequential connections; each reply's first line is an id. */
static int
run_seq(long count, int show)
{
	static char ids[MAX_IDS][64];
	static long counts[MAX_IDS];
	int nids = 0, i;
	long n, errors = 0;
	uint8_t buf[512];

	printf("first");
	for (n = 0; n < count; n++) {
		struct conn c;
		char id[64];
		size_t len;

		memset(&c, 0, sizeof(c));
		sha256_init(&c.rsha);
		c.fd = dial(&c.rc, &c.end);
		while (c.fd != -1) {
			ssize_t r;

			if (wait_fd(c.fd, POLLIN, -1) == 0) {
				c.rc = RC_TIMEOUT;
				c.end = "timeout";
				break;
			}
			r = conn_read(&c, buf, sizeof(buf));
			if (r == 0 || r == -1)
				break;
		}
		if (c.fd != -1)
			close(c.fd);
		len = strcspn(c.reply, "\r\n");
		if (c.rc != RC_OK)
			snprintf(id, sizeof(id), "!%s", c.end);
		else if (len == 0)
			snprintf(id, sizeof(id), "!empty");
		else
			snprintf(id, sizeof(id), "%.*s", (int)(len < 60 ? len :
			    60), c.reply);
		if (id[0] == '!')
			errors++;
		if (n < show)
			printf(" %s", id);
		for (i = 0; i < nids; i++)
			if (strcmp(ids[i], id) == 0)
				break;
		if (i == nids && nids < MAX_IDS)
			snprintf(ids[nids++], sizeof(ids[0]), "%s", id);
		if (i < MAX_IDS)
			counts[i]++;
		if (left_ms() == 0) {
			n++;
			errors += count - n;
			printf(" ... deadline after %ld connections", n);
			break;
		}
	}
	printf("\n");
	for (i = 0; i < nids; i++)
		printf("count %s %ld\n", ids[i], counts[i]);
	printf("errors %ld\n", errors);
	return errors == 0 ? RC_OK : RC_MISMATCH;
}

/* "ping I\n" K times, each echoed back before the next. */
static int
run_ping(long k, int interval)
{
	struct conn c;
	uint8_t buf[256];
	char line[64];
	int64_t connect_ms = -1, first = -1, last = -1;
	long i, replies = 0;

	memset(&c, 0, sizeof(c));
	sha256_init(&c.rsha);
	c.fd = dial(&c.rc, &c.end);
	if (c.fd == -1)
		goto done;
	connect_ms = now_ms() - t0;
	for (i = 0; i < k; i++) {
		size_t want;
		int n;

		if (i > 0)
			sleep_ms(interval);
		n = snprintf(line, sizeof(line), "ping %ld\n", i);
		if (write_all(c.fd, line, (size_t)n) == -1) {
			c.rc = errno_rc(errno, &c.end);
			break;
		}
		c.nreply = 0;
		c.reply[0] = '\0';
		want = (size_t)n;
		while (c.nreply < want) {
			ssize_t r;

			if (wait_fd(c.fd, POLLIN, -1) == 0) {
				c.rc = RC_TIMEOUT;
				c.end = "timeout";
				goto done;
			}
			r = conn_read(&c, buf, want - c.nreply);
			if (r == -1)
				goto done;
			if (r == 0) {
				c.rc = RC_MISMATCH;
				c.end = "early-eof";
				goto done;
			}
		}
		if (strcmp(c.reply, line) != 0) {
			c.rc = RC_MISMATCH;
			c.end = "bad-echo";
			goto done;
		}
		last = now_ms() - t0;
		if (first == -1)
			first = last;
		replies++;
	}
	/* Done: FIN, then the echo server's FIN. */
	shutdown(c.fd, SHUT_WR);
	for (;;) {
		ssize_t r;

		if (wait_fd(c.fd, POLLIN, -1) == 0) {
			c.rc = RC_TIMEOUT;
			c.end = "timeout-after-fin";
			break;
		}
		r = conn_read(&c, buf, sizeof(buf));
		if (r == 0 || r == -1)
			break;
	}
done:
	if (c.fd != -1)
		close(c.fd);
	if (c.end == NULL)
		c.end = "eof";
	printf("ping connect_ms=%lld first_reply_ms=%lld last_reply_ms=%lld "
	    "replies=%ld end=%s ms=%lld\n", (long long)connect_ms,
	    (long long)first, (long long)last, replies, c.end,
	    (long long)(now_ms() - t0));
	return c.rc;
}

/* Connects and waits up to <ms> for the peer to close. */
static int
run_hold(int ms)
{
	struct conn c;
	uint8_t buf[512];
	int64_t start = now_ms();

	memset(&c, 0, sizeof(c));
	sha256_init(&c.rsha);
	c.fd = dial(&c.rc, &c.end);
	if (c.fd == -1) {
		printf("hold end=%s ms=%lld\n", c.end,
		    (long long)(now_ms() - start));
		return c.rc;
	}
	start = now_ms();
	for (;;) {
		int64_t left = start + ms - now_ms();
		ssize_t r;

		if (left <= 0 || wait_fd(c.fd, POLLIN, (int)left) == 0) {
			c.rc = RC_TIMEOUT;
			c.end = "open";
			break;
		}
		r = conn_read(&c, buf, sizeof(buf));
		if (r == 0 || r == -1)
			break;
	}
	close(c.fd);
	printf("hold end=%s recv=%llu ms=%lld\n", c.end,
	    (unsigned long long)c.recv, (long long)(now_ms() - start));
	return c.rc;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tclient [-T MS] [--connect-timeout MS] ADDR  (stream)\n"
	    "         [-c CONNS] [-n BYTES] [-s SEED] [--no-shut] [--after-eof]\n"
	    "         [--greeting TEXT] [--expect-echo] [--expect-recv N]\n"
	    "         [--expect-reply-hash] [--rst-after-echo] [--rate BPS]\n"
	    "       tclient [-T MS] --seq COUNT [--show K] ADDR\n"
	    "       tclient [-T MS] --ping K [--interval MS] ADDR\n"
	    "       tclient [-T MS] --hold MS ADDR\n"
	    "       tclient [-T MS] --loop SECS [-c THREADS] [--interval MS]\n"
	    "         [-n BYTES] [--expect-echo] ... ADDR\n"
	    "       tclient --gen N SEED\n");
	exit(RC_USAGE);
}

int
main(int argc, char **argv)
{
	long seq = -1, ping = -1, loop = -1;
	int show = 20, interval = -1, hold = -1, conns = 1, i, rc;
	int timeout = 30000;

	t0 = now_ms();
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = argc - i - 1;

		if (strcmp(a, "-T") == 0 && more >= 1)
			timeout = (int)parse_u64(argv[++i], "timeout");
		else if (strcmp(a, "--connect-timeout") == 0 && more >= 1)
			connect_timeout = (int)parse_u64(argv[++i], "timeout");
		else if (strcmp(a, "-c") == 0 && more >= 1)
			conns = (int)parse_u64(argv[++i], "connections");
		else if (strcmp(a, "-n") == 0 && more >= 1)
			nbytes = parse_u64(argv[++i], "byte count");
		else if (strcmp(a, "-s") == 0 && more >= 1)
			seed = parse_u64(argv[++i], "seed");
		else if (strcmp(a, "--no-shut") == 0)
			no_shut = 1;
		else if (strcmp(a, "--after-eof") == 0)
			after_eof = 1;
		else if (strcmp(a, "--rst-after-echo") == 0)
			rst_after_echo = 1;
		else if (strcmp(a, "--greeting") == 0 && more >= 1)
			greeting = argv[++i];
		else if (strcmp(a, "--expect-echo") == 0)
			expect_echo = 1;
		else if (strcmp(a, "--expect-recv") == 0 && more >= 1)
			expect_recv = (int64_t)parse_u64(argv[++i], "count");
		else if (strcmp(a, "--expect-reply-hash") == 0)
			expect_reply_hash = 1;
		else if (strcmp(a, "--seq") == 0 && more >= 1)
			seq = (long)parse_u64(argv[++i], "count");
		else if (strcmp(a, "--show") == 0 && more >= 1)
			show = (int)parse_u64(argv[++i], "count");
		else if (strcmp(a, "--ping") == 0 && more >= 1)
			ping = (long)parse_u64(argv[++i], "count");
		else if (strcmp(a, "--interval") == 0 && more >= 1)
			interval = (int)parse_u64(argv[++i], "interval");
		else if (strcmp(a, "--loop") == 0 && more >= 1)
			loop = (long)parse_u64(argv[++i], "seconds");
		else if (strcmp(a, "--rate") == 0 && more >= 1)
			rate = parse_u64(argv[++i], "rate");
		else if (strcmp(a, "--hold") == 0 && more >= 1)
			hold = (int)parse_u64(argv[++i], "hold");
		else if (strcmp(a, "--gen") == 0 && more >= 2) {
			struct sha256 s;
			struct gen g;
			uint8_t buf[BUFSZ];
			uint64_t n = parse_u64(argv[i + 1], "byte count");
			char hex[65];

			gen_init(&g, parse_u64(argv[i + 2], "seed"));
			sha256_init(&s);
			while (n > 0) {
				size_t k = n < BUFSZ ? (size_t)n : BUFSZ;

				gen_fill(&g, buf, k);
				sha256_update(&s, buf, k);
				n -= k;
			}
			sha256_hex(&s, hex);
			printf("%s\n", hex);
			return 0;
		} else if (a[0] != '-' && dsttext == NULL)
			dsttext = a;
		else
			usage();
	}
	if (dsttext == NULL || conns < 1 || conns > MAX_CONNS)
		usage();
	if (parse_addr(dsttext, &dst, &dstlen) == -1)
		die(RC_USAGE, "tclient: bad address %s", dsttext);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline = t0 + timeout;
	if (seq >= 0)
		rc = run_seq(seq, show);
	else if (ping >= 0)
		rc = run_ping(ping, interval < 0 ? 200 : interval);
	else if (loop >= 0)
		rc = run_loop((int)loop, conns, interval < 0 ? 0 : interval);
	else if (hold >= 0)
		rc = run_hold(hold);
	else {
		run_mode_stream = 1;
		rc = run_stream(conns);
	}
	return rc;
}

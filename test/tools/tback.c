/*
 * tback: a backend server for lb4's integration tests.
 *
 * One thread per connection; every connection ends with one line on
 * stdout, so tests can assert on what the server saw:
 *
 *   conn K peer=ADDR recv=N rsha=HEX sent=M ssha=HEX end=eof|rst|err ms=T
 *
 * (K counts accepted connections from 0; rsha/ssha hash the bytes received
 * and sent.)  The pid file is written once every socket listens, so its
 * existence means "ready".  SIGTERM or SIGINT ends the process with 0.
 */
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>

#include "tcommon.h"

enum mode {
	MODE_ECHO = 0,		/* echo everything; FIN answered with FIN */
	MODE_ID = 1,		/* write "NAME\n", FIN, drain to EOF */
	MODE_SERVER_FIRST = 2,	/* write "GREETING\n", then echo */
	MODE_SINK_HASH = 3,	/* read to EOF, reply "N HEX\n", close */
	MODE_SOURCE = 4,	/* send N bytes while reading to EOF */
	MODE_RST = 5,		/* read K bytes, then reset */
	MODE_SILENT = 6,	/* read and discard, never write */
	MODE_HTTP = 7,		/* answer one HTTP/1.x request, close */
	MODE_FULL_BACKLOG = 8,	/* listen(0), fill the queue, never accept */
};

#define MAX_LISTEN	8
#define BUFSZ		(64 * 1024)

static enum mode	 mode = MODE_ECHO;
static const char	*text = "tback";	/* id, greeting or HTTP body */
static uint64_t		 src_bytes;		/* --source N */
static uint64_t		 src_seed;		/* --source SEED: + conn index */
static uint64_t		 rst_after = 1;		/* --rst K */
static int		 http_status = 200;
static int		 backlog = 4096;
static const char	*pidfile;
static int		 quiet;			/* no per-connection lines */

static pthread_mutex_t	 out_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t		 nconns;

struct conn {
	int		fd;
	uint64_t	id;
	char		peer[80];
	int64_t		start;
	uint64_t	recv, sent;
	struct sha256	rsha, ssha;
	const char	*end;		/* "eof", "rst", "err:..." */
};

static void
out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One write(2) per line: lines from threads never interleave. */
static void
out(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	pthread_mutex_lock(&out_lock);
	(void)write_all(STDOUT_FILENO, line, (size_t)n);
	pthread_mutex_unlock(&out_lock);
}

static void
conn_done(struct conn *c)
{
	char rh[65], sh[65];

	sha256_hex(&c->rsha, rh);
	sha256_hex(&c->ssha, sh);
	if (!quiet || strcmp(c->end, "eof") != 0)
		out("conn %llu peer=%s recv=%llu rsha=%s sent=%llu ssha=%s "
		    "end=%s ms=%lld", (unsigned long long)c->id, c->peer,
		    (unsigned long long)c->recv, rh,
		    (unsigned long long)c->sent, sh, c->end,
		    (long long)(now_ms() - c->start));
	close(c->fd);
	free(c);
}

static const char *
err_end(int err)
{
	static __thread char buf[64];

	if (err == ECONNRESET || err == EPIPE)
		return "rst";
	snprintf(buf, sizeof(buf), "err:%s", strerror(err));
	return buf;
}

/*
 * Reads once.  Returns bytes (>0), 0 on EOF, -2 when a non-blocking read
 * would block, -1 with c->end set.
 */
static ssize_t
conn_read(struct conn *c, char *buf, size_t len)
{
	ssize_t r;

	do
		r = read(c->fd, buf, len);
	while (r == -1 && errno == EINTR);
	if (r == -1 && errno == EAGAIN)
		return -2;
	if (r == -1) {
		c->end = err_end(errno);
		return -1;
	}
	if (r == 0)
		c->end = "eof";
	sha256_update(&c->rsha, buf, (size_t)r);
	c->recv += (uint64_t)r;
	return r;
}

static int
conn_write(struct conn *c, const void *p, size_t n)
{
	if (write_all(c->fd, p, n) == -1) {
		c->end = err_end(errno);
		return -1;
	}
	sha256_update(&c->ssha, p, n);
	c->sent += n;
	return 0;
}

/* Echoes until EOF (then FIN) or an error. */
static void
do_echo(struct conn *c, char *buf)
{
	ssize_t r;

	while ((r = conn_read(c, buf, BUFSZ)) > 0)
		if (conn_write(c, buf, (size_t)r) == -1)
			return;
	if (r == 0)
		shutdown(c->fd, SHUT_WR);
}

/* Reads until EOF or error, discarding. */
static void
do_drain(struct conn *c, char *buf)
{
	while (conn_read(c, buf, BUFSZ) > 0)
		;
}

/*
 * Sends src_bytes of gen(src_seed + id) while reading to EOF, with poll(2)
 * on a non-blocking socket so neither direction waits for the other.
 * FIN after the last byte sent; the conn ends once both are done.
 */
static void	do_source_loop(struct conn *, char *, uint8_t *);

static void
do_source(struct conn *c, char *buf)
{
	uint8_t *tx = malloc(BUFSZ);

	if (tx == NULL) {
		c->end = "err:malloc";
		return;
	}
	do_source_loop(c, buf, tx);
	free(tx);
}

static void
do_source_loop(struct conn *c, char *buf, uint8_t *tx)
{
	struct gen g;
	size_t txoff = 0, txlen = 0;
	uint64_t left = src_bytes;
	int eof = 0, shut = 0;

	gen_init(&g, src_seed + c->id);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd pfd = { c->fd, 0, 0 };

		if (txoff == txlen && left > 0) {
			txlen = left < BUFSZ ? (size_t)left : BUFSZ;
			gen_fill(&g, tx, txlen);
			txoff = 0;
			left -= txlen;
		}
		if (txoff == txlen && left == 0 && !shut) {
			shutdown(c->fd, SHUT_WR);
			shut = 1;
		}
		if (shut && eof)
			return;
		if (!eof)
			pfd.events |= POLLIN;
		if (txoff < txlen)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			c->end = err_end(errno);
			return;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR) && !eof) {
			ssize_t r = conn_read(c, buf, BUFSZ);

			if (r == -1)
				return;
			if (r == 0)
				eof = 1;
		}
		if (pfd.revents & (POLLOUT | POLLERR) && txoff < txlen) {
			ssize_t w = write(c->fd, tx + txoff, txlen - txoff);

			if (w == -1) {
				if (errno != EAGAIN && errno != EINTR) {
					c->end = err_end(errno);
					return;
				}
			} else {
				sha256_update(&c->ssha, tx + txoff, (size_t)w);
				c->sent += (uint64_t)w;
				txoff += (size_t)w;
			}
		}
	}
}

static void
do_http(struct conn *c, char *buf)
{
	char resp[1024], reqline[256];
	size_t have = 0;
	ssize_t r;
	char *eol;
	int n;

	while (have < 8192) {
		r = conn_read(c, buf + have, 8192 - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL)
			break;
	}
	buf[have] = '\0';
	eol = strpbrk(buf, "\r\n");
	n = eol != NULL ? (int)(eol - buf) : (int)have;
	snprintf(reqline, sizeof(reqline), "%.*s", n, buf);
	out("http conn %llu request \"%s\"", (unsigned long long)c->id,
	    reqline);
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s\n", http_status,
	    http_status == 200 ? "OK" : "Status", strlen(text) + 1, text);
	if (conn_write(c, resp, (size_t)n) == 0) {
		shutdown(c->fd, SHUT_WR);
		do_drain(c, buf);
	}
}

static void *
conn_main(void *arg)
{
	struct conn *c = arg;
	char *buf = malloc(BUFSZ + 1);
	char line[512];
	int n;

	if (buf == NULL) {
		c->end = "err:malloc";
		conn_done(c);
		return NULL;
	}
	switch (mode) {
	case MODE_ECHO:
		do_echo(c, buf);
		break;
	case MODE_ID:
	case MODE_SERVER_FIRST:
		n = snprintf(line, sizeof(line), "%s\n", text);
		if (conn_write(c, line, (size_t)n) == -1)
			break;
		if (mode == MODE_SERVER_FIRST) {
			do_echo(c, buf);
			break;
		}
		shutdown(c->fd, SHUT_WR);
		do_drain(c, buf);
		break;
	case MODE_SINK_HASH: {
		struct sha256 copy;
		char hex[65];

		do_drain(c, buf);
		if (c->end == NULL || strcmp(c->end, "eof") != 0)
			break;
		copy = c->rsha;
		sha256_hex(&copy, hex);
		n = snprintf(line, sizeof(line), "%llu %s\n",
		    (unsigned long long)c->recv, hex);
		if (conn_write(c, line, (size_t)n) == 0)
			shutdown(c->fd, SHUT_WR);
		break;
	}
	case MODE_SOURCE:
		do_source(c, buf);
		break;
	case MODE_RST: {
		struct linger lg = { 1, 0 };

		while (c->recv < rst_after)
			if (conn_read(c, buf, BUFSZ) <= 0)
				break;
		if (c->recv >= rst_after) {
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof(lg));
			c->end = "rst-sent";
		}
		break;
	}
	case MODE_SILENT:
		do_drain(c, buf);
		break;
	case MODE_HTTP:
		do_http(c, buf);
		break;
	case MODE_FULL_BACKLOG:
		break;
	}
	if (c->end == NULL)
		c->end = "done";
	free(buf);
	conn_done(c);
	return NULL;
}

static void *
accept_main(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct conn *c;
		pthread_t t;
		int fd;

		fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				out("accept: %s", strerror(errno));
				sleep_ms(50);
				continue;
			}
			die(1, "tback: accept: %s", strerror(errno));
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			die(1, "tback: out of memory");
		c->fd = fd;
		c->start = now_ms();
		format_addr((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
		sha256_init(&c->rsha);
		sha256_init(&c->ssha);
		pthread_mutex_lock(&out_lock);
		c->id = nconns++;
		pthread_mutex_unlock(&out_lock);
		if (pthread_create(&t, &attr, conn_main, c) != 0) {
			out("pthread_create failed; closing %s", c->peer);
			close(fd);
			free(c);
		}
	}
	return NULL;
}

/*
 * Fills the accept queue of <lfd> (listen backlog 0 holds one connection)
 * with a connection from ourselves, so the kernel drops every further SYN:
 * a server that never answers a connect, on loopback.
 */
static void
fill_backlog(const struct sockaddr_storage *ss, socklen_t len)
{
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd == -1)
		die(1, "tback: socket: %s", strerror(errno));
	if (connect(fd, (const struct sockaddr *)ss, len) == -1 &&
	    errno != EINPROGRESS)
		die(1, "tback: filler connect: %s", strerror(errno));
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 2000) != 1)
		die(1, "tback: filler connect timed out");
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err != 0)
		die(1, "tback: filler connect: %s", strerror(err));
	/* fd stays open: the queued connection must stay queued. */
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tback -l ADDR [-l ADDR ...] [--pidfile FILE] [--quiet]\n"
	    "             [--backlog N] MODE\n"
	    "MODE: --echo | --id NAME | --server-first GREETING | --sink-hash\n"
	    "      | --source N SEED | --rst K | --silent\n"
	    "      | --http [--status N] [--body TEXT] | --full-backlog\n"
	    "ADDR: 127.0.0.1:PORT or [::1]:PORT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss[MAX_LISTEN];
	socklen_t sslen[MAX_LISTEN];
	int lfd[MAX_LISTEN], nl = 0, i, one = 1, sig;
	sigset_t set;
	pthread_t t;
	uint64_t total;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = argc - i - 1;

		if (strcmp(a, "-l") == 0 && more >= 1) {
			if (nl == MAX_LISTEN)
				die(2, "tback: too many -l");
			if (parse_addr(argv[++i], &ss[nl], &sslen[nl]) == -1)
				die(2, "tback: bad address %s", argv[i]);
			nl++;
		} else if (strcmp(a, "--pidfile") == 0 && more >= 1)
			pidfile = argv[++i];
		else if (strcmp(a, "--backlog") == 0 && more >= 1)
			backlog = (int)parse_u64(argv[++i], "backlog");
		else if (strcmp(a, "--quiet") == 0)
			quiet = 1;
		else if (strcmp(a, "--echo") == 0)
			mode = MODE_ECHO;
		else if (strcmp(a, "--id") == 0 && more >= 1) {
			mode = MODE_ID;
			text = argv[++i];
		} else if (strcmp(a, "--server-first") == 0 && more >= 1) {
			mode = MODE_SERVER_FIRST;
			text = argv[++i];
		} else if (strcmp(a, "--sink-hash") == 0)
			mode = MODE_SINK_HASH;
		else if (strcmp(a, "--source") == 0 && more >= 2) {
			mode = MODE_SOURCE;
			src_bytes = parse_u64(argv[++i], "byte count");
			src_seed = parse_u64(argv[++i], "seed");
		} else if (strcmp(a, "--rst") == 0 && more >= 1) {
			mode = MODE_RST;
			rst_after = parse_u64(argv[++i], "byte count");
		} else if (strcmp(a, "--silent") == 0)
			mode = MODE_SILENT;
		else if (strcmp(a, "--http") == 0)
			mode = MODE_HTTP;
		else if (strcmp(a, "--status") == 0 && more >= 1)
			http_status = (int)parse_u64(argv[++i], "status");
		else if (strcmp(a, "--body") == 0 && more >= 1)
			text = argv[++i];
		else if (strcmp(a, "--full-backlog") == 0)
			mode = MODE_FULL_BACKLOG;
		else
			usage();
	}
	if (nl == 0)
		usage();

	/* Signals are taken by sigwait() in main; threads never see them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < nl; i++) {
		char at[80];

		lfd[i] = socket(ss[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd[i] == -1)
			die(1, "tback: socket: %s", strerror(errno));
		setsockopt(lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ss[i].ss_family == AF_INET6)
			setsockopt(lfd[i], IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		format_addr((struct sockaddr *)&ss[i], at, sizeof(at));
		if (bind(lfd[i], (struct sockaddr *)&ss[i], sslen[i]) == -1)
			die(1, "tback: bind %s: %s", at, strerror(errno));
		if (listen(lfd[i], mode == MODE_FULL_BACKLOG ? 0 : backlog)
		    == -1)
			die(1, "tback: listen %s: %s", at, strerror(errno));
		if (mode == MODE_FULL_BACKLOG)
			fill_backlog(&ss[i], sslen[i]);
		else if (pthread_create(&t, NULL, accept_main,
		    (void *)(intptr_t)lfd[i]) != 0)
			die(1, "tback: pthread_create failed");
		out("listening %s pid %d", at, (int)getpid());
	}
	if (pidfile != NULL) {
		char tmp[4096];
		FILE *f;

		/* Written whole, then renamed: seen means ready. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", pidfile);
		f = fopen(tmp, "w");
		if (f == NULL || fprintf(f, "%d\n", (int)getpid()) < 0 ||
		    fclose(f) != 0 || rename(tmp, pidfile) == -1)
			die(1, "tback: pidfile %s: %s", pidfile,
			    strerror(errno));
	}
	while (sigwait(&set, &sig) != 0)
		;
	/* The accept thread may still be counting. */
	pthread_mutex_lock(&out_lock);
	total = nconns;
	pthread_mutex_unlock(&out_lock);
	out("exit on signal %d after %llu connections", sig,
	    (unsigned long long)total);
	if (pidfile != NULL)
		unlink(pidfile);
	_exit(0);
}

/*
 * tbulk: the bulk-download client of make bench.  CONNS keep-alive
 * connections send "GET PATH HTTP/1.1" again and again for SECS seconds
 * and read each response.  Bodies are thrown away inside the kernel (recv
 * with MSG_TRUNC copies nothing to user space) and one thread serves all
 * connections with poll(), so the client core spends little next to the
 * proxy.  Prints one line:
 *
 *   bytes=N secs=S responses=R errors=E
 *
 * bytes: all bytes received (headers and bodies) before the deadline;
 * responses: the complete ones; errors: connections that failed (refused,
 * reset, EOF, a status other than 200, or 5 s without a byte).
 * Exit 0 when bytes > 0 and no connection failed, 1 otherwise, 2 on usage.
 *
 * usage: tbulk [-c CONNS] [-d SECS] HOST:PORT PATH
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>

#include "tcommon.h"

#define MAX_CONNS	64
#define STALL_MS	5000

struct bulk {
	int		fd;		/* -1 once failed */
	int64_t		left;		/* body bytes to come; -1: in header */
	char		head[4096];
	size_t		nhead;
};

static struct sockaddr_storage	addr;
static socklen_t		addrlen;
static char			request[1024];
static size_t			reqlen;
static uint64_t			bytes, responses;

/* Returns a nonblocking socket connected to <addr> (5 s at most), or -1. */
static int
bulk_connect(void)
{
	struct timeval tv = { STALL_MS / 1000, 0 };
	int fd;

	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&addr, addrlen) == -1 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the request on <b> (it always fits in an empty socket buffer). */
static int
bulk_request(struct bulk *b)
{
	b->left = -1;
	b->nhead = 0;
	return send(b->fd, request, reqlen, MSG_NOSIGNAL) == (ssize_t)reqlen ?
	    0 : -1;
}

/*
 * Reads header bytes into <b>.  Once the header is whole, sets <b>->left
 * to the body bytes still to come.  Returns 0, or -1 on EOF, an error, a
 * status other than 200 or no Content-Length.
 */
static int
bulk_head(struct bulk *b)
{
	char *end, *cl;
	ssize_t r;

	r = recv(b->fd, b->head + b->nhead, sizeof(b->head) - 1 - b->nhead, 0);
	if (r == -1 && errno == EAGAIN)
		return 0;
	if (r <= 0)
		return -1;
	b->nhead += (size_t)r;
	bytes += (uint64_t)r;
	if ((end = memmem(b->head, b->nhead, "\r\n\r\n", 4)) == NULL)
		return b->nhead == sizeof(b->head) - 1 ? -1 : 0;
	*end = '\0';
	if (strncmp(b->head, "HTTP/1.1 200 ", 13) != 0 ||
	    (cl = strcasestr(b->head, "\r\nContent-Length:")) == NULL)
		return -1;
	b->left = strtoll(cl + 17, NULL, 10) -
	    (int64_t)(b->nhead - (size_t)(end + 4 - b->head));
	return 0;
}

/* Reads what <b> has: header, then body.  Returns 0, or -1 on failure. */
static int
bulk_read(struct bulk *b)
{
	ssize_t r;

	if (b->left < 0 && bulk_head(b) == -1)
		return -1;
	if (b->left > 0) {
		r = recv(b->fd, NULL, (size_t)b->left, MSG_TRUNC);
		if (r == -1 && errno == EAGAIN)
			return 0;
		if (r <= 0)
			return -1;
		b->left -= r;
		bytes += (uint64_t)r;
	}
	if (b->left == 0) {
		responses++;
		return bulk_request(b);
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tbulk [-c CONNS] [-d SECS] HOST:PORT PATH\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct bulk b[MAX_CONNS];
	struct pollfd pfd[MAX_CONNS];
	int conns = 4, errors = 0, live = 0, i, ch, n;
	double secs = 5;
	int64_t start, deadline, last, now;

	while ((ch = getopt(argc, argv, "c:d:")) != -1) {
		switch (ch) {
		case 'c':
			conns = (int)parse_u64(optarg, "connection count");
			break;
		case 'd':
			secs = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || conns < 1 || conns > MAX_CONNS ||
	    secs <= 0 || secs > 3600)
		usage();
	if (parse_addr(argv[optind], &addr, &addrlen) == -1)
		die(2, "tbulk: bad address %s", argv[optind]);
	reqlen = (size_t)snprintf(request, sizeof(request),
	    "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", argv[optind + 1],
	    argv[optind]);
	if (reqlen >= sizeof(request))
		die(2, "tbulk: path too long");

	start = last = now_ms();
	deadline = start + (int64_t)(secs * 1000);
	for (i = 0; i < conns; i++) {
		b[i].fd = bulk_connect();
		if (b[i].fd == -1 || bulk_request(&b[i]) == -1) {
			fprintf(stderr, "tbulk: connection %d: %s\n", i,
			    strerror(errno));
			errors++;
		}
		pfd[i].fd = b[i].fd;
		pfd[i].events = POLLIN;
		live += b[i].fd != -1;
	}
	while (live > 0 && (now = now_ms()) < deadline) {
		if (now - last > STALL_MS) {
			fprintf(stderr, "tbulk: no byte for %d ms\n", STALL_MS);
			errors++;
			break;
		}
		n = poll(pfd, (nfds_t)conns, (int)(deadline - now < STALL_MS ?
		    deadline - now : STALL_MS));
		if (n == -1 && errno != EINTR)
			die(1, "tbulk: poll: %s", strerror(errno));
		for (i = 0; i < conns && n > 0; i++) {
			if (pfd[i].revents == 0)
				continue;
			n--;
			last = now_ms();
			errno = 0;
			if (bulk_read(&b[i]) == -1) {
				fprintf(stderr, "tbulk: connection %d: %s\n",
				    i, errno != 0 ? strerror(errno) :
				    "EOF or bad response");
				close(b[i].fd);
				b[i].fd = pfd[i].fd = -1;
				errors++;
				live--;
			}
		}
	}
	printf("bytes=%llu secs=%.3f responses=%llu errors=%d\n",
	    (unsigned long long)bytes, (double)(now_ms() - start) / 1000,
	    (unsigned long long)responses, errors);
	return bytes > 0 && errors == 0 ? 0 : 1;
}

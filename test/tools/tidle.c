/*
 * tidle: holds idle connections for make bench.  Opens CONNS TCP
 * connections to HOST:PORT without waiting on any of them (nonblocking
 * connect), BATCH at a time with a 10 ms pause between batches so that a
 * listener's accept queue does not overflow, and never sends a byte.
 * Whether a pending connect has finished is asked by calling connect()
 * again (0 or EISCONN: established; EALREADY: pending), so there is no
 * poll loop.  Once every connect has finished, or after WAIT_S seconds,
 * it prints one line:
 *
 *   opened=N established=M failed=F
 *
 * and holds the connections, silent, until SIGTERM or SIGINT or until
 * LIMIT_S seconds have passed since it started.  Exit 0, or 1 when no
 * connection was established, 2 on usage.
 *
 * usage: tidle [-n CONNS] [-b BATCH] [-w WAIT_S] [-t LIMIT_S] HOST:PORT
 */
#include <signal.h>
#include <sys/resource.h>

#include "tcommon.h"

enum state {
	ST_PENDING = 0,		/* connect in progress */
	ST_UP,			/* established */
	ST_FAILED,		/* refused, reset, timed out, ... */
};

static volatile sig_atomic_t	stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Asks whether <fd>'s connect to <addr> finished by connecting again
 * (never with AF_UNSPEC: that would disconnect).  Returns a state.
 */
static enum state
idle_check(int fd, const struct sockaddr_storage *addr, socklen_t len)
{
	if (connect(fd, (const struct sockaddr *)addr, len) == 0 ||
	    errno == EISCONN)
		return ST_UP;
	if (errno == EALREADY || errno == EINPROGRESS)
		return ST_PENDING;
	return ST_FAILED;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tidle [-n CONNS] [-b BATCH] [-w WAIT_S] "
	    "[-t LIMIT_S] HOST:PORT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct rlimit rl;
	struct sigaction sa;
	sigset_t mask, old;
	int *fds, *state;
	int n = 1000, batch = 500, wait_s = 60, limit_s = 600;
	int opened = 0, up = 0, failed = 0, pending, i, ch;
	int64_t until;

	while ((ch = getopt(argc, argv, "n:b:w:t:")) != -1) {
		switch (ch) {
		case 'n':
			n = (int)parse_u64(optarg, "connection count");
			break;
		case 'b':
			batch = (int)parse_u64(optarg, "batch size");
			break;
		case 'w':
			wait_s = (int)parse_u64(optarg, "wait");
			break;
		case 't':
			limit_s = (int)parse_u64(optarg, "time limit");
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || n < 1 || n > 1000000 || batch < 1 ||
	    limit_s < 1)
		usage();
	if (parse_addr(argv[optind], &addr, &addrlen) == -1)
		die(2, "tidle: bad address %s", argv[optind]);

	/* SIGTERM, SIGINT and the time limit only set <stop>. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)limit_s);

	/* One fd per connection: take the hard limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fds = calloc((size_t)n, sizeof(*fds));
	state = calloc((size_t)n, sizeof(*state));
	if (fds == NULL || state == NULL)
		die(1, "tidle: out of memory");

	for (opened = 0; opened < n && !stop; opened++) {
		int fd = socket(addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd == -1) {
			fprintf(stderr, "tidle: socket after %d: %s\n",
			    opened, strerror(errno));
			break;
		}
		fds[opened] = fd;
		if (connect(fd, (struct sockaddr *)&addr, addrlen) == 0)
			state[opened] = ST_UP;
		else if (errno != EINPROGRESS)
			state[opened] = ST_FAILED;
		if ((opened + 1) % batch == 0)
			sleep_ms(10);
	}

	/* Wait, bounded, until no connect is pending. */
	until = now_ms() + (int64_t)wait_s * 1000;
	do {
		pending = 0;
		for (i = 0; i < opened; i++) {
			if (state[i] == ST_PENDING)
				state[i] = idle_check(fds[i], &addr,
				    addrlen);
			pending += state[i] == ST_PENDING;
		}
		if (pending > 0)
			sleep_ms(50);
	} while (pending > 0 && !stop && now_ms() < until);
	for (i = 0; i < opened; i++) {
		up += state[i] == ST_UP;
		failed += state[i] == ST_FAILED;
	}
	printf("opened=%d established=%d failed=%d\n", opened, up, failed);
	fflush(stdout);

	/* Hold: sleep until a signal; the check and the sleep are atomic. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGALRM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	while (!stop)
		sigsuspend(&old);
	return up > 0 ? 0 : 1;
}

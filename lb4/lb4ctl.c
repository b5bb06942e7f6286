/*
 * lb4ctl.c: the control client (relayd relayctl).  Sends one command line
 * to lb4's control socket, prints the reply, and maps the reply's last
 * line to the exit status: "ok" 0, "error: ..." 1; usage errors and an
 * unreachable lb4 give 2.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"

#define DEFAULT_SOCKET	"/run/lb4/lb4.sock"
#define TIMEOUT_MS	5000
#define REPLY_MAX	(4 << 20)

static void
usage(void)
{
	fprintf(stderr, "usage: lb4ctl [-s SOCKET] COMMAND [ARGS]\n"
	    "commands:\n"
	    "  show servers | show stats\n"
	    "  enable server POOL ADDRESS | disable server POOL ADDRESS\n"
	    "  drain server POOL ADDRESS | set weight POOL ADDRESS N\n"
	    "  health | reload\n");
	exit(2);
}

static int
connect_to(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "lb4ctl: socket path too long: %s\n", path);
		exit(2);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "lb4ctl: cannot reach lb4 at %s: %s\n", path,
		    strerror(errno));
		exit(2);
	}
	return fd;
}

/* Reads the whole reply (lb4 closes after it) within the timeout. */
static char *
read_reply(int fd, const char *path)
{
	uint64_t	 start;
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	long		 left;

	if ((buf = malloc(REPLY_MAX + 1)) == NULL) {
		fprintf(stderr, "lb4ctl: out of memory\n");
		exit(2);
	}
	start = clock_ms();
	for (;;) {
		left = TIMEOUT_MS - (long)(clock_ms() - start);
		if (left <= 0 ||
		    poll(&pfd, 1, (int)left) == 0) {
			fprintf(stderr, "lb4ctl: no answer from lb4 at %s "
			    "within %d ms\n", path, TIMEOUT_MS);
			exit(2);
		}
		n = read(fd, buf + len, REPLY_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == REPLY_MAX)
			break;
	}
	buf[len] = '\0';
	return buf;
}

/* Prints the body, and maps the final status line to an exit code. */
static int
finish(char *reply, const char *path)
{
	char	*last, *end;

	end = reply + strlen(reply);
	while (end > reply && end[-1] == '\n')
		*--end = '\0';
	last = strrchr(reply, '\n');
	last = last ? last + 1 : reply;
	fwrite(reply, 1, (size_t)(last - reply), stdout);
	if (strcmp(last, "ok") == 0)
		return 0;
	if (strncmp(last, "error: ", 7) == 0) {
		fprintf(stderr, "lb4ctl: %s\n", last + 7);
		return 1;
	}
	fprintf(stderr, "lb4ctl: unexpected reply from lb4 at %s\n", path);
	return 2;
}

int
main(int argc, char *argv[])
{
	const char	*path = getenv("LB4_SOCKET");
	char		 line[1024], *reply;
	size_t		 len = 0;
	int		 ch, fd, i, n;

	while ((ch = getopt(argc, argv, "+s:h")) != -1) {
		if (ch == 's')
			path = optarg;
		else
			usage();
	}
	if (optind == argc)
		usage();
	if (path == NULL || *path == '\0')
		path = DEFAULT_SOCKET;
	for (i = optind; i < argc; i++) {
		n = snprintf(line + len, sizeof(line) - len, "%s%s",
		    i > optind ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(line) - len - 1)
			usage();
		len += (size_t)n;
	}
	line[len++] = '\n';
	fd = connect_to(path);
	if (write(fd, line, len) != (ssize_t)len) {
		fprintf(stderr, "lb4ctl: cannot send to lb4 at %s: %s\n", path,
		    strerror(errno));
		return 2;
	}
	reply = read_reply(fd, path);
	close(fd);
	n = finish(reply, path);
	free(reply);
	return n;
}

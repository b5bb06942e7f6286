/*
 * connlog.c: termination records from the workers to the log stream.
 *
 * The ring is a single-producer single-consumer queue: the worker writes
 * the slot and then publishes <head> (release); the main thread reads
 * <head> (acquire), copies the slot, and publishes <tail> (release) so the
 * worker may reuse it.  Neither side ever waits for the other.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "connlog.h"
#include "atomic.h"
#include "stats.h"

_Static_assert(END_MAX == STATS_ENDS, "stats.h counts every conn_end");

#define RING_SLOTS	8192		/* a power of two */
#define OUT_MAX		(1 << 20)	/* bytes waiting for the writer */
#define LINE_MAX_LEN	512

struct connlog_ring {
	uint64_t	 head;		/* worker: next slot to fill */
	char		 pad1[56];
	uint64_t	 tail;		/* main: next slot to read */
	char		 pad2[56];
	uint64_t	 dropped;	/* worker writes, main reads */
	struct conn_record slot[RING_SLOTS];
};

static const char *const end_names[END_MAX] = {
	[END_CLIENT_FIN] = "client_fin",
	[END_SERVER_FIN] = "server_fin",
	[END_CLIENT_RESET] = "client_reset",
	[END_SERVER_RESET] = "server_reset",
	[END_IDLE_TIMEOUT] = "idle_timeout",
	[END_CONNECT_FAILED] = "connect_failed",
	[END_NO_SERVER] = "no_server",
	[END_DENIED] = "denied",
	[END_LOCAL_ERROR] = "local_error",
	[END_SERVER_DOWN] = "server_down",
	[END_KEEPALIVE] = "keepalive",
	[END_SHUTDOWN] = "shutdown",
};

/* The writer thread and the bytes it has still to write. */
static struct {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	char		*buf;		/* under lock: OUT_MAX bytes */
	size_t		 len;
	int		 stop;
	int		 running;
	uint64_t	 dropped;	/* lines that did not fit (main) */
} out = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER };

const char *
connlog_end_name(enum conn_end end)
{
	return (unsigned)end < END_MAX ? end_names[end] : "unknown";
}

struct connlog_ring *
connlog_ring_new(void)
{
	struct connlog_ring	*r;

	if (posix_memalign((void **)&r, 64, sizeof(*r)) != 0)
		return NULL;
	/* The slots stay untouched (not resident) until a record needs one. */
	memset(r, 0, offsetof(struct connlog_ring, slot));
	return r;
}

void
connlog_ring_free(struct connlog_ring *r)
{
	free(r);
}

int
connlog_push(struct connlog_ring *r, const struct conn_record *rec)
{
	uint64_t	head = r->head;

	if (head - load_acquire(&r->tail) >= RING_SLOTS) {
		store_relaxed(&r->dropped, r->dropped + 1);
		return -1;
	}
	r->slot[head & (RING_SLOTS - 1)] = *rec;
	store_release(&r->head, head + 1);
	return 0;
}

uint64_t
connlog_dropped(struct connlog_ring *const *rings, int n)
{
	uint64_t	sum = out.dropped;
	int		i;

	for (i = 0; i < n; i++)
		if (rings[i] != NULL)
			sum += load_relaxed(&rings[i]->dropped);
	return sum;
}

/* "IP:PORT" or "[IP6]:PORT" of <sa> into <buf>; "-" for AF_UNSPEC. */
static void
addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char	ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, len, "-");
}

/* <s> as the inside of a JSON string (names come from the config). */
static void
json_text(const char *s, char *buf, size_t len)
{
	size_t	o = 0;

	for (; *s != '\0' && o + 7 < len; s++) {
		unsigned char	c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20)
			o += (size_t)snprintf(buf + o, len - o, "\\u%04x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
}

static int
format(const struct conn_record *r, int json, char *line, size_t len)
{
	char	client[64], server[64], name[sizeof(r->listener) * 6 + 1];
	char	connect[16];

	addr_text(&r->client.sa, client, sizeof(client));
	addr_text(&r->server.sa, server, sizeof(server));
	if (r->connect_ms < 0)
		snprintf(connect, sizeof(connect), json ? "null" : "-");
	else
		snprintf(connect, sizeof(connect), "%d", (int)r->connect_ms);
	if (!json)
		return snprintf(line, len, "<6>conn listener=%s client=%s "
		    "server=%s tries=%u connect_ms=%s duration_ms=%u c2s=%llu "
		    "s2c=%llu end=%s\n", r->listener, client, server,
		    (unsigned)r->tries, connect, (unsigned)r->duration_ms,
		    (unsigned long long)r->c2s, (unsigned long long)r->s2c,
		    connlog_end_name(r->end));
	json_text(r->listener, name, sizeof(name));
	return snprintf(line, len, "<6>{\"msg\":\"conn\",\"listener\":\"%s\","
	    "\"client\":\"%s\",\"server\":%s%s%s,\"tries\":%u,"
	    "\"connect_ms\":%s,\"duration_ms\":%u,\"c2s\":%llu,\"s2c\":%llu,"
	    "\"end\":\"%s\"}\n", name, client,
	    r->server.sa.sa_family == AF_UNSPEC ? "" : "\"",
	    r->server.sa.sa_family == AF_UNSPEC ? "null" : server,
	    r->server.sa.sa_family == AF_UNSPEC ? "" : "\"",
	    (unsigned)r->tries, connect, (unsigned)r->duration_ms,
	    (unsigned long long)r->c2s, (unsigned long long)r->s2c,
	    connlog_end_name(r->end));
}

/*
 * Writes <len> bytes of whole lines to stderr, at most PIPE_BUF at a time
 * and each piece ending at a line's end: a pipe takes such a write whole
 * or not at all, so lb4's other messages (log.c, one write a line) never
 * land inside a connection line.  stderr is non-blocking when it is a
 * pipe or a socket (log_nonblocking()): a full one is waited for here, in
 * this thread only.
 */
static void
write_lines(const char *p, size_t len)
{
	struct pollfd	 pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	const char	*nl;
	size_t		 chunk;
	ssize_t		 n;

	while (len > 0) {
		chunk = len < PIPE_BUF ? len : PIPE_BUF;
		if (chunk < len && (nl = memrchr(p, '\n', chunk)) != NULL)
			chunk = (size_t)(nl - p) + 1;
		n = write(STDERR_FILENO, p, chunk);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == -1 && errno == EAGAIN)
			(void)poll(&pfd, 1, 1000);
		else if (n != -1 || errno != EINTR)
			return;		/* stderr gone: nothing to do */
	}
}

static void *
writer_main(void *arg)
{
	char	*mine, *p;
	size_t	 len;

	(void)arg;
	if ((mine = malloc(OUT_MAX)) == NULL)
		return NULL;
	pthread_mutex_lock(&out.lock);
	for (;;) {
		while (out.len == 0 && !out.stop)
			pthread_cond_wait(&out.cond, &out.lock);
		if (out.len == 0 && out.stop)
			break;
		/* Swap buffers: main fills the other one meanwhile. */
		p = out.buf;
		out.buf = mine;
		mine = p;
		len = out.len;
		out.len = 0;
		pthread_mutex_unlock(&out.lock);
		write_lines(mine, len);
		pthread_mutex_lock(&out.lock);
	}
	pthread_mutex_unlock(&out.lock);
	free(mine);
	return NULL;
}

int
connlog_start(void)
{
	if (out.running)
		return 0;
	if ((out.buf = malloc(OUT_MAX)) == NULL)
		return -1;
	out.len = 0;
	out.stop = 0;
	if (pthread_create(&out.thread, NULL, writer_main, NULL) != 0) {
		free(out.buf);
		out.buf = NULL;
		return -1;
	}
	out.running = 1;
	return 0;
}

void
connlog_drain(struct connlog_ring *const *rings, int n, int json)
{
	struct conn_record	 rec;
	char			 line[LINE_MAX_LEN];
	uint64_t		 head, tail;
	int			 i, len, added = 0;

	for (i = 0; i < n; i++) {
		if (rings[i] == NULL)
			continue;
		head = load_acquire(&rings[i]->head);
		for (tail = rings[i]->tail; tail != head; tail++) {
			rec = rings[i]->slot[tail & (RING_SLOTS - 1)];
			store_release(&rings[i]->tail, tail + 1);
			len = format(&rec, json, line, sizeof(line));
			if (len <= 0 || (size_t)len >= sizeof(line)) {
				out.dropped++;
				continue;
			}
			pthread_mutex_lock(&out.lock);
			if (!out.running || out.len + (size_t)len > OUT_MAX)
				out.dropped++;
			else {
				memcpy(out.buf + out.len, line, (size_t)len);
				out.len += (size_t)len;
				added = 1;
			}
			pthread_mutex_unlock(&out.lock);
		}
	}
	if (added)
		pthread_cond_signal(&out.cond);
}

void
connlog_stop(void)
{
	struct timespec	deadline;

	if (!out.running)
		return;
	pthread_mutex_lock(&out.lock);
	out.stop = 1;
	pthread_cond_signal(&out.cond);
	pthread_mutex_unlock(&out.lock);
	/* A reader that stopped reading must not keep lb4 from exiting. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	if (pthread_timedjoin_np(out.thread, NULL, &deadline) != 0)
		return;		/* left to exit() with the process */
	out.running = 0;
	free(out.buf);
	out.buf = NULL;
}

/*
 * oneshot.c: one request, one reply, close.  Clients live at most
 * CLIENT_TIMEOUT_MS; requests are bounded by REQUEST_MAX bytes; at most
 * MAX_CLIENTS are served at once (more are closed at accept), so no client
 * can pin memory, fds or the main loop.  Closed clients are freed on the
 * next tick, never inside the epoll batch that may still name them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "loop.h"
#include "oneshot.h"

#define REQUEST_MAX		4096
#define CLIENT_TIMEOUT_MS	5000
#define MAX_CLIENTS		64

struct client {
	struct handler	 h;		/* h.arg = this */
	struct oneshot	*os;
	char		 in[REQUEST_MAX + 1];
	size_t		 inlen;
	struct text	 reply;
	uid_t		 peer_uid;	/* SO_PEERCRED, (uid_t)-1: unknown */
	size_t		 sent;
	uint64_t	 deadline;
	int		 dead;
	struct client	*next;
};

struct oneshot {
	struct handler	 h;
	char		*name;
	const char	*terminator;
	oneshot_fn	 fn;
	void		*arg;
	struct client	*clients;
	int		 nclients;
};

static void
client_close(struct client *c)
{
	if (c->dead)
		return;
	loop_del(&c->h);
	close(c->h.fd);
	c->h.fd = -1;
	c->dead = 1;
}

static void
client_write(struct client *c)
{
	ssize_t	n;

	while (c->sent < c->reply.len) {
		n = send(c->h.fd, c->reply.p + c->sent,
		    c->reply.len - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			(void)loop_mod(&c->h, EPOLLOUT);
			return;
		}
		if (n <= 0)
			break;
		c->sent += (size_t)n;
	}
	client_close(c);
}

static void
client_read(struct client *c)
{
	ssize_t	n;

	for (;;) {
		n = recv(c->h.fd, c->in + c->inlen, REQUEST_MAX - c->inlen,
		    MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->inlen += (size_t)n;
		c->in[c->inlen] = '\0';
		/* memmem: a NUL in the request must not hide its end. */
		if (memmem(c->in, c->inlen, c->os->terminator,
		    strlen(c->os->terminator)) != NULL)
			break;
		if (c->inlen == REQUEST_MAX) {
			text_printf(&c->reply, "error: request too long\n");
			client_write(c);
			return;
		}
	}
	c->os->fn(c->os->arg, c->peer_uid, c->in, &c->reply);
	if (c->reply.failed) {
		text_free(&c->reply);
		text_printf(&c->reply, "error: out of memory\n");
	}
	client_write(c);
}

static void
on_client(struct handler *h, uint32_t events)
{
	struct client	*c = h->arg;

	if (c->dead)
		return;
	if (c->sent < c->reply.len || (events & EPOLLOUT))
		client_write(c);
	else
		client_read(c);
}

/*
 * The uid of the process that connected to a unix socket, taken by the
 * kernel at connect(2): the control socket lets only lb4's own uid and
 * root change state.  (uid_t)-1 for anything else.
 */
static uid_t
peer_uid(int fd)
{
	struct sockaddr_storage	ss = { 0 };
	struct ucred		cr = { 0 };
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    ss.ss_family != AF_UNIX)
		return (uid_t)-1;
	len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return (uid_t)-1;
	return cr.uid;
}

static void
on_accept(struct handler *h, uint32_t events)
{
	struct oneshot	*os = h->arg;
	struct client	*c;
	int		 fd;

	(void)events;
	while ((fd = accept4(h->fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		if (os->nclients >= MAX_CLIENTS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->peer_uid = peer_uid(fd);
		c->h.fn = on_client;
		c->h.arg = c;
		c->h.fd = fd;
		c->os = os;
		c->deadline = clock_ms() + CLIENT_TIMEOUT_MS;
		if (loop_add(&c->h, EPOLLIN) == -1) {
			close(fd);
			free(c);
			continue;
		}
		c->next = os->clients;
		os->clients = c;
		os->nclients++;
	}
}

struct oneshot *
oneshot_new(const char *name, int fd, const char *terminator, oneshot_fn fn,
    void *arg)
{
	struct oneshot	*os;

	if ((os = calloc(1, sizeof(*os))) == NULL ||
	    (os->name = strdup(name)) == NULL) {
		free(os);
		close(fd);
		log_warnx("%s: out of memory", name);
		return NULL;
	}
	os->h.fn = on_accept;
	os->h.arg = os;
	os->h.fd = fd;
	os->terminator = terminator;
	os->fn = fn;
	os->arg = arg;
	if (loop_add(&os->h, EPOLLIN) == -1) {
		log_warn("%s: epoll", name);
		oneshot_free(os);
		return NULL;
	}
	return os;
}

void
oneshot_tick(struct oneshot *os)
{
	struct client	**cp, *c;
	uint64_t	  now = clock_ms();

	if (os == NULL)
		return;
	for (cp = &os->clients; (c = *cp) != NULL;) {
		if (!c->dead && now >= c->deadline)
			client_close(c);
		if (!c->dead) {
			cp = &c->next;
			continue;
		}
		*cp = c->next;
		os->nclients--;
		text_free(&c->reply);
		free(c);
	}
}

void
oneshot_free(struct oneshot *os)
{
	struct client	*c;

	if (os == NULL)
		return;
	while ((c = os->clients) != NULL) {
		os->clients = c->next;
		client_close(c);
		text_free(&c->reply);
		free(c);
	}
	loop_del(&os->h);
	close(os->h.fd);
	free(os->name);
	free(os);
}

/*
 * loop.c: a plain epoll loop for the main thread.  Handlers are small
 * structs owned by their modules, so a module can stop watching an fd
 * without this file knowing what it is.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

static int	loop_fd = -1;

int
loop_init(void)
{
	loop_fd = epoll_create1(EPOLL_CLOEXEC);
	return loop_fd == -1 ? -1 : 0;
}

int
loop_add(struct handler *h, uint32_t events)
{
	struct epoll_event	ev = { .events = events, .data.ptr = h };

	return epoll_ctl(loop_fd, EPOLL_CTL_ADD, h->fd, &ev);
}

int
loop_mod(struct handler *h, uint32_t events)
{
	struct epoll_event	ev = { .events = events, .data.ptr = h };

	return epoll_ctl(loop_fd, EPOLL_CTL_MOD, h->fd, &ev);
}

void
loop_del(struct handler *h)
{
	(void)epoll_ctl(loop_fd, EPOLL_CTL_DEL, h->fd, NULL);
}

void
loop_run_once(int timeout_ms)
{
	struct epoll_event	 events[64];
	struct handler		*h;
	int			 n, i;

	n = epoll_wait(loop_fd, events, 64, timeout_ms);
	if (n == -1 && errno != EINTR)
		fatal(2, "epoll_wait");
	for (i = 0; i < n; i++) {
		h = events[i].data.ptr;
		h->fn(h, events[i].events);
	}
}

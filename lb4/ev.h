/*
 * ev.h: what an epoll event's data.ptr points to.  Every such object starts
 * with an int holding one of these kinds, so a worker can dispatch on it.
 */
#ifndef LB4_EV_H
#define LB4_EV_H

enum ev_kind {
	EV_WAKE = 0,		/* the worker's eventfd: main has news */
	EV_LISTEN = 1,		/* a listening socket: accept */
	EV_CLIENT = 2,		/* a connection's client side */
	EV_SERVER = 3,		/* a connection's server side */
};

#endif

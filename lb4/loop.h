/*
 * loop.h: the main thread's event loop (signals, control socket, metrics,
 * health checks, timers).  Workers have their own loops (worker.c).
 */
#ifndef LB4_LOOP_H
#define LB4_LOOP_H

#include <stdint.h>

#include "clock.h"

struct handler {
	void	(*fn)(struct handler *h, uint32_t events);
	void	 *arg;
	int	  fd;
};

int		 loop_init(void);
/* Watches h->fd for <events>, calling h->fn.  Returns 0 or -1. */
int		 loop_add(struct handler *h, uint32_t events);
int		 loop_mod(struct handler *h, uint32_t events);
void		 loop_del(struct handler *h);
/* Waits at most <timeout_ms> and runs the handlers that are ready. */
void		 loop_run_once(int timeout_ms);

#endif

/*
 * notify.h: what lb4 tells its supervisor (systemd's sd_notify protocol),
 * named after what it means.  Every call is a no-op without NOTIFY_SOCKET.
 */
#ifndef LB4_NOTIFY_H
#define LB4_NOTIFY_H

#include <stdint.h>

void		 notify_ready(const char *status);
void		 notify_reloading(void);
void		 notify_stopping(void);

/* The watchdog period in ms (half of WATCHDOG_USEC), or 0 when unset. */
uint64_t	 notify_watchdog_ms(void);
void		 notify_watchdog(void);

#endif

/*
 * notify.c: sd_notify(3) wrappers (keepalived lib/systemd.c).  libsystemd
 * does the socket work, including abstract and unset NOTIFY_SOCKET.
 */
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "notify.h"
#include "clock.h"

void
notify_ready(const char *status)
{
	(void)sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
notify_reloading(void)
{
	/* systemd >= 253 wants MONOTONIC_USEC with RELOADING=1. */
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)clock_us());
}

void
notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}

uint64_t
notify_watchdog_ms(void)
{
	uint64_t	usec;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 2000;
}

void
notify_watchdog(void)
{
	(void)sd_notify(0, "WATCHDOG=1");
}

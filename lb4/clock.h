/*
 * clock.h: the one home of lb4's clocks.  All are CLOCK_MONOTONIC: lb4's
 * timeouts, intervals and durations must not jump with the wall clock.
 */
#ifndef LB4_CLOCK_H
#define LB4_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds, exact: the main thread's timers and health checks. */
static inline uint64_t
clock_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Milliseconds at the kernel tick's resolution (1-4 ms): a vDSO read with
 * no syscall, for the workers' per-loop idle bookkeeping.
 */
static inline uint64_t
clock_coarse_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Microseconds, exact: durations in the histograms and the connection log. */
static inline uint64_t
clock_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

#endif

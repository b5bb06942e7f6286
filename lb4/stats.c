/*
 * stats.c: allocation of per-worker counter slots.
 */
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* A LAN: connects take well under a millisecond; connections live from
 * milliseconds (HTTP/1.0) to hours (database sessions). */
const uint64_t stats_duration_ms[STATS_DURATION_BUCKETS] = {
	10, 100, 1000, 10000, 60000, 600000, 3600000, 86400000, UINT64_MAX
};
const uint64_t stats_connect_us[STATS_CONNECT_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000,
	3000000, UINT64_MAX
};

struct stats_slot *
stats_new(int nworkers)
{
	struct stats_slot	*s;
	size_t			 size = sizeof(*s) * (size_t)(nworkers + 1);

	if (posix_memalign((void **)&s, 64, size) != 0)
		return NULL;
	memset(s, 0, size);
	return s;
}

void
stats_free(struct stats_slot *s)
{
	free(s);
}

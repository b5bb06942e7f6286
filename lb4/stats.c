/*
 * stats.c: allocation of per-worker counter slots.
 */
#include <stdlib.h>
#include <string.h>

#include "stats.h"

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

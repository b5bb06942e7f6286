/*
 * swrr.c: smooth weighted round robin (nginx).  For weights 5,1,1 it yields
 * a a b a c a a: the heavy server is spread out instead of picked in a run.
 */
#include "swrr.h"

int
swrr_pick(struct swrr_peer *peers, const unsigned char *eligible, int n)
{
	int	 best = -1, total = 0, i;

	for (i = 0; i < n; i++) {
		if (!eligible[i])
			continue;
		peers[i].current += peers[i].weight;
		total += peers[i].weight;
		if (best == -1 || peers[i].current > peers[best].current)
			best = i;
	}
	if (best != -1)
		peers[best].current -= total;
	return best;
}

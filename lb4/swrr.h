/*
 * swrr.h: nginx's smooth weighted round robin as a pure function over an
 * array.  The caller owns the array and any locking.
 */
#ifndef LB4_SWRR_H
#define LB4_SWRR_H

struct swrr_peer {
	int	weight;		/* configured, >= 1 */
	int	current;	/* running score; starts at 0 */
};

/*
 * Picks one peer among those with <eligible>[i] != 0, following nginx's
 * ngx_http_upstream_get_peer(): every eligible peer gains its weight, the
 * highest score wins and pays back the total.  Peers not eligible keep their
 * score untouched.  Returns the index, or -1 when none is eligible.
 */
int	swrr_pick(struct swrr_peer *peers, const unsigned char *eligible, int n);

#endif

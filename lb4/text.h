/*
 * text.h: a growable text buffer for replies built on the main thread
 * (control socket, metrics).  Never used on the data plane.
 */
#ifndef LB4_TEXT_H
#define LB4_TEXT_H

#include <stddef.h>

struct text {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 failed;	/* an append ran out of memory */
};

void	text_printf(struct text *t, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	text_free(struct text *t);

#endif

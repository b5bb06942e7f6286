/*
 * text.c: printf into a growing buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "text.h"

void
text_printf(struct text *t, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 cap;
	char	*p;
	int	 n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p ? t->p + t->len : NULL,
		    t->p ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if (t->p != NULL && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		cap = t->cap ? t->cap * 2 : 4096;
		while (cap < t->len + (size_t)n + 1)
			cap *= 2;
		if ((p = realloc(t->p, cap)) == NULL) {
			t->failed = 1;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
}

void
text_free(struct text *t)
{
	free(t->p);
	t->p = NULL;
	t->len = t->cap = 0;
	t->failed = 0;
}

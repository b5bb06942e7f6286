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

	va_start(ap, fmt);
	/* clang-tidy 14 misreads va_start here, as in log.c. */
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || t->failed) {
		t->failed = 1;
		return;
	}
	if (t->len + (size_t)n + 1 > t->cap) {
		cap = t->cap ? t->cap : 4096;
		while (cap < t->len + (size_t)n + 1)
			cap *= 2;
		if ((p = realloc(t->p, cap)) == NULL) {
			t->failed = 1;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	va_start(ap, fmt);
	(void)vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

void
text_free(struct text *t)
{
	free(t->p);
	t->p = NULL;
	t->len = t->cap = 0;
	t->failed = 0;
}

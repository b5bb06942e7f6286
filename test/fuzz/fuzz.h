/*
 * fuzz.h: what the libFuzzer targets of test/fuzz/ share.
 *
 * A broken invariant must stop the run the way a sanitizer does, with the
 * input saved as a crash artifact: FUZZ_CHECK() prints the condition and
 * aborts, which libFuzzer reports as a deadly signal.
 */
#ifndef LB4_FUZZ_H
#define LB4_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* <data> of <size> bytes as a NUL-terminated string (malloc'd). */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif

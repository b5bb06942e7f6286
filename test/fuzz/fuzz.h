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
#include <sys/mman.h>
#include <unistd.h>

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

#ifdef FUZZ_LIBCONFIG
const char	*__lsan_default_suppressions(void);

/*
 * libconfig 1.5 leaks the string token its scanner made (or was still
 * building) when a syntax error stops the parse: the grammar has no
 * destructor for it.  A reproducer with libconfig alone: config_read_string
 * of 'a = ( { n"x"' (strbuf_append), or of 'name =6v "";' (the empty
 * string, calloc'd in libconfig_yylex).  Fixed upstream after 1.5 by
 * f2e951c "Fix memory leak when parsing invalid syntax".  Only the
 * scanner's own allocations are suppressed: a config_t that conf.c forgot
 * to destroy would still be reported through the parser's settings.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}
#endif

/*
 * <data> of <size> bytes as the whole content of this fuzzer's file (one
 * memfd, rewritten for each input).  Returns the path that opens it.
 */
static inline const char *
fuzz_file(const void *data, size_t size)
{
	static int	fd = -1;
	static char	path[64];

	if (fd == -1) {
		if ((fd = memfd_create("lb4-fuzz.conf", MFD_CLOEXEC)) == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	return path;
}

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

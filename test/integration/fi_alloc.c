/* Allocation failure injection for lb4's own code (-Wl,--wrap).  When the
 * file FI_ARM exists (main thread only), it is read (N) and removed; the
 * Nth main-thread allocation after that fails once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

void *__real_malloc(size_t); void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t); char *__real_strdup(const char *);
void *__real_aligned_alloc(size_t, size_t);
static long countdown = -1; static int inside;
struct state; struct conf;
int __real_state_apply(struct state *, struct conf *, char **);
int __wrap_state_apply(struct state *st, struct conf *c, char **e) { int r; inside = 1; r = __real_state_apply(st, c, e); inside = 0; return r; }


static int
fail_now(void)
{
	char buf[32]; int fd; ssize_t n; const char *f = getenv("FI_ARM");
	if (f == NULL || syscall(SYS_gettid) != getpid())
		return 0;
	if ((fd = open(f, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1); close(fd); unlink(f);
		buf[n > 0 ? n : 0] = 0; countdown = atol(buf);
	}
	if (inside && countdown > 0 && --countdown == 0) { errno = ENOMEM; return 1; }
	return 0;
}
void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { return fail_now() ? NULL : __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }
void *__wrap_aligned_alloc(size_t a, size_t n) { return fail_now() ? NULL : __real_aligned_alloc(a, n); }

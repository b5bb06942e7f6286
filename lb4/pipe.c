/*
 * pipe.c: pipe cache and budget.  Creating a pipe costs two fds and a
 * syscall or two; reusing one costs a pointer swap, which matters at tens
 * of thousands of connections a second.  The budget (pipe.h) is one
 * atomic page count, touched only when a pipe is created or destroyed,
 * never on a cache hit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "local.h"
#include "log.h"
#include "pipe.h"

#define PAGE		4096
#define DEFAULT_PAGES	16	/* a pipe the kernel sizes itself */
#define RETRY_MS	1000	/* after the kernel refused a pipe */
#define CAP_SYS_ADMIN_BIT	21
#define CAP_SYS_RESOURCE_BIT	24

static long	budget;		/* pages; 0 = no budget */
static long	held;		/* atomic: pages of every pipe lb4 holds */

/* The number in /proc/sys/<path>, or -1. */
static long
read_long(const char *path)
{
	FILE	*f;
	long	 v = -1;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* 1 when the effective capabilities free us of the per-user limit. */
static int
unlimited_by_caps(void)
{
	FILE			*f;
	char			 line[256];
	unsigned long long	 eff = 0;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff & (1ULL << CAP_SYS_RESOURCE_BIT)) != 0 ||
	    (eff & (1ULL << CAP_SYS_ADMIN_BIT)) != 0;
}

void
pipe_budget_init(void)
{
	long	soft, hard;

	soft = read_long("/proc/sys/fs/pipe-user-pages-soft");
	hard = read_long("/proc/sys/fs/pipe-user-pages-hard");
	if (hard > 0 && (soft <= 0 || hard < soft))
		soft = hard;
	if (soft <= 0 || unlimited_by_caps()) {
		budget = 0;
		log_info("pipes: no budget (%s)", soft <= 0 ?
		    "fs.pipe-user-pages-soft is off" : "CAP_SYS_RESOURCE");
		return;
	}
	/*
	 * Three quarters of the user's limit: the rest is for the health
	 * checks' command pipes and anything else this user runs.  Past the
	 * limit the kernel would give tiny pipes that a copy-path leftover
	 * does not fit in.
	 */
	budget = soft * 3 / 4;
	log_info("pipes: budget %ld pages of the user's %ld "
	    "(fs.pipe-user-pages-%s); past it connections copy", budget,
	    soft, soft == hard ? "hard" : "soft");
}

long
pipe_budget_pages(void)
{
	return budget;
}

long
pipe_pages_held(void)
{
	return load_relaxed(&held);
}

void
pipe_cache_init(struct pipe_cache *pc, int max_free, int size, int slot)
{
	memset(pc, 0, sizeof(*pc));
	pc->max_free = max_free;
	pc->size = size;
	pc->slot = slot;
}

static long
pages_of(int bytes)
{
	return bytes > 0 ? (bytes + PAGE - 1) / PAGE : DEFAULT_PAGES;
}

static void
pipe_destroy(struct pipe *p)
{
	close(p->rfd);
	close(p->wfd);
	sub_relaxed(&held, pages_of(p->size));
	free(p);
}

void
pipe_cache_clear(struct pipe_cache *pc)
{
	struct pipe	*p;

	while ((p = pc->free) != NULL) {
		pc->free = p->next;
		pipe_destroy(p);
	}
	pc->nfree = 0;
}

/* A new pipe within the budget, or NULL (errno set for a local error). */
static struct pipe *
pipe_create(struct pipe_cache *pc)
{
	struct pipe	*p;
	long		 want = pages_of(pc->size);
	int		 fds[2], got;

	if (add_relaxed(&held, want) > budget && budget != 0) {
		sub_relaxed(&held, want);
		errno = 0;		/* the budget, not an error */
		return NULL;
	}
	if ((p = malloc(sizeof(*p))) == NULL)
		goto fail;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
		free(p);
		goto fail;
	}
	/* A bigger pipe means fewer splice calls per megabyte. */
	if (pc->size > 0)
		(void)fcntl(fds[1], F_SETPIPE_SZ, pc->size);
	got = fcntl(fds[1], F_GETPIPE_SZ);
	p->rfd = fds[0];
	p->wfd = fds[1];
	p->size = got;
	p->next = NULL;
	add_relaxed(&held, pages_of(got) - want);
	/*
	 * Smaller than asked: the user is past fs.pipe-user-pages-soft (or
	 * fs.pipe-max-size is below our size).  Such a pipe would cost a
	 * splice per few KiB; the copy path does as well and leaves the
	 * pages to others.
	 */
	if (got == -1 || (pc->size > 0 && got < pc->size)) {
		pipe_destroy(p);
		errno = ENOBUFS;
		return NULL;
	}
	return p;
fail:
	sub_relaxed(&held, want);
	return NULL;
}

struct pipe *
pipe_get(struct pipe_cache *pc, uint64_t now)
{
	struct pipe	*p;

	if ((p = pc->free) != NULL) {
		pc->free = p->next;
		pc->nfree--;
		store_relaxed(&pc->in_use, load_relaxed(&pc->in_use) + 1);
		return p;
	}
	if (now < pc->retry_at) {
		store_relaxed(&pc->fallbacks, load_relaxed(&pc->fallbacks) + 1);
		return NULL;
	}
	if ((p = pipe_create(pc)) == NULL) {
		store_relaxed(&pc->fallbacks, load_relaxed(&pc->fallbacks) + 1);
		if (errno != 0) {
			/* Refused by the kernel: not before a while. */
			pc->retry_at = now + RETRY_MS;
			local_error(pc->slot, LOCAL_PIPE, errno, NULL, now);
		}
		return NULL;
	}
	store_relaxed(&pc->in_use, load_relaxed(&pc->in_use) + 1);
	return p;
}

void
pipe_put(struct pipe_cache *pc, struct pipe *p, int empty)
{
	if (p == NULL)
		return;
	store_relaxed(&pc->in_use, load_relaxed(&pc->in_use) - 1);
	/*
	 * With a budget, a cache may not sit on more than half of it: the
	 * other workers' connections need pipes too.
	 */
	if (!empty || pc->nfree >= pc->max_free ||
	    (budget != 0 && load_relaxed(&held) > budget / 2)) {
		pipe_destroy(p);
		return;
	}
	p->next = pc->free;
	pc->free = p;
	pc->nfree++;
}

long
pipe_cache_in_use(const struct pipe_cache *pc)
{
	return load_relaxed(&pc->in_use);
}

uint64_t
pipe_cache_fallbacks(const struct pipe_cache *pc)
{
	return load_relaxed(&pc->fallbacks);
}

/*
 * local.c: counting and logging local errors (see local.h).  One counter
 * slot per thread, like stats.c, so the data plane never shares a cache
 * line; the log limit is one atomic timestamp, taken by compare-and-swap
 * so that two workers never both log in the same 10 s.
 */
#include <errno.h>
#include <string.h>

#include "local.h"
#include "atomic.h"
#include "log.h"

#define LOG_EVERY_MS	10000
#define NSLOTS		(LOCAL_MAIN_SLOT + 1)

struct local_slot {
	uint64_t	v[LOCAL_MAX];
} __attribute__((aligned(64)));

static struct local_slot	slots[NSLOTS];
static uint64_t			last_log_ms;	/* atomic; 0 = never */
static uint64_t			logged_sum;	/* atomic: sum at the last log */

static const struct {
	const char	*name;
	const char	*cause;
	const char	*remedy;
} reasons[LOCAL_MAX] = {
	[LOCAL_SOURCE_PORT] = { "source_port", "no free source port",
	    "add source addresses to the pool (source = [ ... ]), widen "
	    "net.ipv4.ip_local_port_range and set net.ipv4.tcp_tw_reuse = 1 "
	    "(see /usr/share/doc/lb4/examples/sysctl.d/60-lb4.conf)" },
	[LOCAL_FD] = { "fd", "out of file descriptors",
	    "raise LimitNOFILE= of the unit (or ulimit -n) and fs.file-max" },
	[LOCAL_MEMORY] = { "memory", "out of socket buffers or memory",
	    "check free memory and net.ipv4.tcp_mem" },
	[LOCAL_PIPE] = { "pipe", "no pipe of the asked size (the copy path "
	    "took over)", "raise fs.pipe-user-pages-soft (see "
	    "/usr/share/doc/lb4/examples/sysctl.d/60-lb4.conf)" },
};

int
local_reason_of(int err)
{
	switch (err) {
	case EADDRNOTAVAIL:
	case EADDRINUSE:	/* bind() of a source address with no port */
		return LOCAL_SOURCE_PORT;
	case EMFILE:
	case ENFILE:
		return LOCAL_FD;
	case ENOBUFS:
	case ENOMEM:
		return LOCAL_MEMORY;
	default:
		return -1;
	}
}

const char *
local_reason_name(enum local_reason reason)
{
	return reason < LOCAL_MAX ? reasons[reason].name : "?";
}

uint64_t
local_errors(enum local_reason reason)
{
	uint64_t	sum = 0;
	int		i;

	for (i = 0; i < NSLOTS; i++)
		sum += load_relaxed(&slots[i].v[reason]);
	return sum;
}

static uint64_t
local_total(void)
{
	uint64_t	sum = 0;
	int		r;

	for (r = 0; r < LOCAL_MAX; r++)
		sum += local_errors((enum local_reason)r);
	return sum;
}

void
local_error(int slot, enum local_reason reason, int err, const char *peer,
    uint64_t now)
{
	uint64_t	*v, last, total, before;

	if (slot < 0 || slot >= NSLOTS || reason >= LOCAL_MAX)
		return;
	v = &slots[slot].v[reason];
	store_relaxed(v, load_relaxed(v) + 1);
	last = load_relaxed(&last_log_ms);
	/* Workers' coarse clock may lag main's by a tick: no underflow. */
	if (last != 0 && now < last + LOG_EVERY_MS)
		return;
	if (!cas_relaxed(&last_log_ms, &last, now ? now : 1))
		return;		/* another thread logs this round */
	total = local_total();
	before = exchange_relaxed(&logged_sum, total);
	log_warnx("local error, not the server's fault%s%s: %s%s%s "
	    "(%llu local errors since the last such line); remedy: %s",
	    peer != NULL ? ": toward " : "", peer != NULL ? peer : "",
	    reasons[reason].cause, err != 0 ? ": " : "",
	    err != 0 ? log_strerror(err) : "",
	    (unsigned long long)(total - before), reasons[reason].remedy);
}

/*
 * local.h: local errors, the failures of this host rather than of a server
 * (lb4(8), "Local errors"; README, "Connection churn, local errors and
 * pipes"; HAProxy's "no free ports").  A connect or a health check that fails
 * because lb4 ran out of source ports, file descriptors, socket memory or
 * pipes never counts toward a server's fall: it is counted here, by reason,
 * for lb4_local_errors_total{reason}, and logged at most once per 10 s with
 * the cause and the remedy.
 *
 * The reasons are a fixed list (README, "Connection churn, local errors
 * and pipes"):
 *   source_port  EADDRNOTAVAIL (or EADDRINUSE binding a source address):
 *                no free source port toward the server
 *   fd           EMFILE/ENFILE: no file descriptor for the server socket
 *                (the reserve answered it) or for an accept
 *   memory       ENOBUFS/ENOMEM from socket(), connect() or a buffer
 *   pipe         the kernel refused a pipe or gave one smaller than asked
 *                (fs.pipe-user-pages-soft): the copy path took over
 */
#ifndef LB4_LOCAL_H
#define LB4_LOCAL_H

#include <stdint.h>

enum local_reason {
	LOCAL_SOURCE_PORT = 0,	/* no free source port */
	LOCAL_FD = 1,		/* no file descriptor */
	LOCAL_MEMORY = 2,	/* no socket buffer or memory */
	LOCAL_PIPE = 3,		/* no pipe, or a short one */
	LOCAL_MAX
};

/* The slot of the main thread (health checks); workers use their id. */
#define LOCAL_MAIN_SLOT	256

/*
 * The local reason for errno <err> from socket(), bind() or connect(),
 * or -1 when <err> is not a local error (the server's, or the network's).
 */
int		 local_reason_of(int err);

/*
 * Counts one local error of <reason> in slot <slot> (a worker's id, or
 * LOCAL_MAIN_SLOT; only that thread writes it), and logs it unless a
 * local error was logged less than 10 s before <now_ms>.  <peer> names
 * what was being reached ("pool/address"), <err> is the errno (0: none).
 */
void		 local_error(int slot, enum local_reason reason, int err,
		    const char *peer, uint64_t now_ms);

/* The label value of <reason> ("source_port", ...). */
const char	*local_reason_name(enum local_reason reason);

/* Local errors of <reason> so far, all threads. */
uint64_t	 local_errors(enum local_reason reason);

#endif

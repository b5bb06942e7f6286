/*
 * health_kind.h: what the health check core (health.c) and the kinds of
 * check (health_tcp.c: tcp, send-expect, http and the passive probe;
 * health_exec.c: exec) share, after keepalived's check_api.h.  Private to
 * the health*.c files: the rest of lb4 sees health.h only.
 *
 * The core owns a check's life, its timer, its counters and the server's
 * state (rise/fall, passive mark-down).  A kind runs one check at a time:
 * it is started by the core, watches c->h (and c->out), and ends the check
 * with health_finish() (a verdict) or health_finish_local() (this host's
 * failure, no verdict).  Every callback runs on the main loop.
 */
#ifndef LB4_HEALTH_KIND_H
#define LB4_HEALTH_KIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "conf.h"
#include "loop.h"
#include "timer.h"

#define CHECK_BUF	4096	/* reply bytes kept (send-expect, http) */
#define REASON_MAX	256
#define POLL_MS		20	/* waitid() polling when pidfds fail */

enum check_phase {
	PHASE_IDLE = 0,		/* waiting for the next start */
	PHASE_CONNECT = 1,	/* non-blocking connect in progress */
	PHASE_SEND = 2,		/* writing the request */
	PHASE_RECV = 3,		/* reading the reply */
	PHASE_EXEC = 4,		/* command running */
	PHASE_REAP = 5,		/* command killed, verdict given, not reaped */
	PHASE_DEAD = 6,		/* dropped; freed after the batch */
};

struct check;

/*
 * One kind of check.  Its ops are called through c->run, the kind running
 * now: c->kind, or health_probe_kind while a server marked down passively
 * must first accept a connection on its own port (health.h).  A command
 * still to reap keeps c->run even when a reload changes c->kind.
 */
struct health_kind {
	/*
	 * Starts the check proper of <c> (c->started and the deadline are
	 * set): watches c->h and sets c->phase, or ends the check at once.
	 */
	void		(*start)(struct check *c);
	/* c->h is ready while <c> runs (phase neither IDLE nor DEAD); the
	 * event may be stale (an fd closed and reused in this batch). */
	void		(*event)(struct check *c);
	/* The timer of <c> fired while it runs: its deadline passed.  It
	 * must end the check or move the timer forward. */
	void		(*expire)(struct check *c, uint64_t now);
	/* Optional: ends what <c> runs with no verdict, before the core
	 * closes its fds; a kind that leaves c->phase at PHASE_REAP keeps
	 * them (a command still to be reaped). */
	void		(*abort)(struct check *c);
	/* Optional: lb4 exits; leave nothing running behind. */
	void		(*exit)(struct check *c);
	/* Optional: <c> runs with nothing to watch (no pidfd); called every
	 * POLL_MS while health_poll_on() holds.  Returns 1 while <c> still
	 * needs polling. */
	int		(*poll)(struct check *c);
	/* Socket kinds: the request once connected into c->req (NULL:
	 * nothing to send).  NULL: connected means passed.  Returns 0, or
	 * -1 with c->reason set. */
	int		(*request)(struct check *c);
	/* Socket kinds: judges the c->nbuf reply bytes in c->buf (room for
	 * a NUL).  Returns 1 (up), 0 (down, c->reason set) or -1 (read
	 * more).  <eof>: no more bytes will come.  It may drop bytes that
	 * can no longer matter, and never returns -1 with c->buf full. */
	int		(*judge)(struct check *c, int eof);
};

/* One per checked server (server->check); written by health*.c only. */
struct check {
	struct server	*server;	/* NULL once dropped */
	char		*name;		/* "POOL/ADDRESS", for logs */
	struct conf_health cfg;		/* own copy of the pool's settings */
	const struct health_kind *kind;	/* of cfg.type */
	const struct health_kind *run;	/* running now: kind or the probe */
	int		 port;		/* the server's health_port, else
					   cfg.port; 0 = the server's */
	struct handler	 h;		/* socket or pidfd; fd -1 when none */
	struct handler	 out;		/* exec: its stdout+stderr pipe */
	struct timer	 timer;		/* next start, or the deadline */
	enum check_phase phase;
	int		 spoken;	/* some verdict set the state already */
	int		 seen;		/* health_sync(): still in a pool */
	int		 oks, fails;	/* consecutive results */
	uint64_t	 nok, nfail;	/* every result */
	uint64_t	 started;
	uint64_t	 marked_at;	/* passive mark-down; 0 = none since
					   it came up */
	pid_t		 pid;		/* exec: the command, 0 = none */
	char		*req;		/* send-expect or http request */
	size_t		 reqlen, reqoff;
	char		 buf[CHECK_BUF];	/* reply, or exec output */
	size_t		 nbuf;
	char		 reason[REASON_MAX];	/* last failure */
	struct addr	*sources;	/* the pool's source = [ ... ] */
	int		 nsources;
	unsigned	 source_next;
	struct check	*next;
};

extern const struct health_kind health_tcp_kind;
extern const struct health_kind health_send_expect_kind;
extern const struct health_kind health_http_kind;
extern const struct health_kind health_exec_kind;
extern const struct health_kind health_probe_kind;

/* 1 while <c> connects to its server's own port before the check proper. */
static inline int
health_probing(const struct check *c)
{
	return c->run == &health_probe_kind;
}

/*
 * The check of <c> ended: closes its fds, counts <ok> (1 passed, 0 failed
 * with c->reason set) into rise/fall, and schedules the next one.
 */
void		 health_finish(struct check *c, int ok);

/*
 * The check of <c> could not run because of this host (no source port,
 * no fd, no memory: errno <err>): counted and logged as a local error,
 * never as the server's failure, and the next check is at its time.
 */
void		 health_finish_local(struct check *c, int err);

/* Counts one result of <c> and moves its server by rise/fall (no close). */
void		 health_verdict(struct check *c, int ok);

/* Moves the timer of <c> to <at> (ms, clock_ms()'s clock). */
void		 health_arm(struct check *c, uint64_t at);

/* Closes the fd of <h> if any, and stops watching it. */
void		 health_close(struct handler *h);

/* Asks for health's poll callbacks every POLL_MS; returns 1 when some
 * check had asked already. */
int		 health_poll_on(void);

/* c->reason = "<what>: <strerror(err)>", or "connection refused" when
 * <what> is NULL (lower-cased, for log lines). */
void		 health_errno_reason(struct check *c, const char *what,
		    int err);

/* Copies <in> into <out> with C escapes, cut at <max> input bytes. */
void		 health_quote(char *out, size_t outlen, const char *in,
		    size_t max);

#endif

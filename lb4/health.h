/*
 * health.h: active health checks and passive counting, on the main thread
 * (relayd check_tcp.c + hce.c; keepalived check_tcp.c).  Nothing here
 * blocks: sockets are non-blocking and watched by the main loop, exec
 * checks are reaped through a pidfd, and timing comes from one timerfd
 * armed at the earliest deadline of a heap.
 *
 * Check types (struct conf_health): tcp (connect), send-expect (connect,
 * send `send`, read until `expect` appears), http (GET `path`, compare the
 * status line's code with `status`), exec (run `command`, exit 0 = up).
 * `rise` consecutive successes bring a down server up, `fall` consecutive
 * failures take an up server down.  A checked server starts down and its
 * first check runs at once (spread over a few ms so that many servers do
 * not fire together); its first success brings it up.
 *
 * Passive counting: the workers count consecutive connect errors per server
 * (pool_report); when that count reaches the pool's `fall`, health_tick()
 * takes the server down.  Only pools with an active check do this: without
 * one nothing could bring the server back, so passive counting needs an
 * active check.  A server marked down passively comes back only after
 * `rise` active checks that began after the mark passed, and each of them
 * first connects to the server's own port (the check proper may ask
 * another one): a Patroni REST API still answering 200 while its
 * PostgreSQL shuts down cannot undo what the workers saw, and neither can
 * a check already running when the connects failed: the two kinds of
 * check never take turns.
 *
 * Every state change is logged once: "server POOL/ADDRESS is down: REASON"
 * (warning) or "server POOL/ADDRESS is up" (info).
 *
 * health.c is the core (scheduling, rise/fall, passive counting);
 * each kind of check is in its own file behind health_kind.h.
 */
#ifndef LB4_HEALTH_H
#define LB4_HEALTH_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct server;
struct state;

/* Sets up the timer; call once after loop_init().  Returns 0 or -1. */
int		 health_init(void);

/*
 * A reload's first half: builds, for every server of <conf>'s checked
 * pools, what health_sync() may need (a check, or its new settings), so
 * that health_sync() cannot fail.  Returns 0, or -1 on ENOMEM with nothing
 * kept.  health_abort() drops it when the reload fails later.
 */
int		 health_prepare(const struct conf *conf);
void		 health_abort(void);

/*
 * The second half, once <st> holds the pools of the conf given to
 * health_prepare(): starts checks for servers of checked pools, stops them
 * for servers that left (or whose pool lost its check: such a server is
 * set up), keeps the state and counters of the others, and restarts a
 * check whose settings changed (its state stays, its rise/fall streaks
 * restart).
 */
void		 health_sync(struct state *st);

/*
 * Runs on every main-loop tick (after the epoll batch): passive counting,
 * any check that is due, and freeing of checks dropped during the batch.
 */
void		 health_tick(uint64_t now_ms);

/* Stops every check, kills running commands, frees everything. */
void		 health_shutdown(void);

/*
 * 1 when checks took down a server whose pool has on_server_down =
 * "reset" since the last call (the workers must be woken), and clears it.
 */
int		 health_resets(void);


/*
 * Checks run against <s> so far, into *<ok> and *<fail> (0 and 0 when <s>
 * has no check).  For lb4_health_checks_total{result}.
 */
void		 health_checks(const struct server *s, uint64_t *ok,
		    uint64_t *fail);

/* Why the last check of <s> failed; "" when none did or it has none. */
const char	*health_reason(const struct server *s);

#endif

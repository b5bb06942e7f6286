/*
 * main.c: command line, start-up order, the main thread's loop, and exit
 * codes (0 clean stop, 1 config error, 2 start-up error).
 *
 * Start-up: parse and check the config; bind every listener; start the
 * workers; tell systemd READY=1.  The main thread then runs signals,
 * reloads, retiring of old objects and (in their modules) health checks,
 * the control socket and metrics.  Workers never block on any of it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "atomic.h"
#include "clock.h"
#include "conf.h"
#include "connlog.h"
#include "ctl.h"
#include "health.h"
#include "healthfile.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "notify.h"
#include "oneshot.h"
#include "pool.h"
#include "priv.h"
#include "reload.h"
#include "version.h"
#include "worker.h"

#define TICK_MS		100

static struct state	 state;
static const char	*conf_path = CONF_DEFAULT_PATH;
static int		 stopping;
static uint64_t		 stop_deadline;
static int		 listeners_closed;
static uint64_t		 watchdog_ms, watchdog_last;
static int		 health_written = -1;	/* last value, -1 = none */

/* The control socket and the metrics endpoint a config asks for. */
struct side_channels {
	struct oneshot	*ctl;
	char		*ctl_path;	/* what ctl is bound to */
	struct oneshot	*metrics;
	struct addr	 metrics_addr;	/* what metrics is bound to */
	int		 opened_ctl;	/* side_prepare() opened ctl */
	int		 opened_metrics;	/* ... and metrics */
};

static struct side_channels	side;	/* in force */
/* Replaced by a reload, freed at the next tick: the reload may run inside
 * the control socket's own callback (lb4ctl reload). */
static struct oneshot		*side_retired[2];

static int	ctl_reload(struct text *errors);

static void
usage(FILE *out, int status)
{
	fprintf(out, "usage: lb4 [-c FILE] [-t] [-V] [-h]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -t       check the configuration and exit (0 valid, 1 not)\n"
	    "  -V       print the version and exit\n"
	    "  -h       this help\n", CONF_DEFAULT_PATH);
	/* Before any thread: exit(3) cannot race. */
	/* NOLINTNEXTLINE(concurrency-mt-unsafe) */
	exit(status);
}

/* Logs every "FILE:LINE: message" line of <errors> at error level. */
static void
log_lines(const char *errors)
{
	const char	*p = errors, *nl;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		log_err("%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		p = nl ? nl + 1 : NULL;
	}
}

static void
summary(char *buf, size_t len)
{
	snprintf(buf, len, "%d listeners, %d pools, %ld connections",
	    state.nlisteners, state.npools,
	    load_relaxed(&state.rt.conns));
}

/* Closes what <next> opened for a reload that failed. */
static void
side_abort(struct side_channels *next)
{
	/* Only a socket this reload bound is unlinked: another path may be
	 * another process's. */
	if (next->opened_ctl) {
		oneshot_free(next->ctl);
		(void)unlink(next->ctl_path);
		free(next->ctl_path);
	}
	if (next->opened_metrics)
		oneshot_free(next->metrics);
	memset(next, 0, sizeof(*next));
}

/*
 * Fills <next> with the side channels <conf> asks for: those in force
 * where they stay the same, new ones opened now where they change.
 * Nothing in force is touched.  Returns 0, or -1 with *<err> set (what
 * was opened is closed).
 */
static int
side_prepare(const struct conf *conf, struct side_channels *next, char **err)
{
	const char		*path = conf->global.control_socket;
	const struct addr	*maddr = &conf->global.metrics;

	memset(next, 0, sizeof(*next));
	if (path != NULL && side.ctl_path != NULL &&
	    strcmp(path, side.ctl_path) == 0) {
		next->ctl = side.ctl;
		next->ctl_path = side.ctl_path;
	} else if (path != NULL) {
		if ((next->ctl_path = strdup(path)) == NULL ||
		    (next->ctl = ctl_open(path, conf->global.group, &state,
		    ctl_reload)) == NULL) {
			if (asprintf(err, "%s: cannot open control socket %s",
			    conf->path, path) == -1)
				*err = NULL;
			free(next->ctl_path);
			next->ctl_path = NULL;
			return -1;	/* nothing else was opened yet */
		}
		next->opened_ctl = 1;
	}
	if (maddr->len != 0 && side.metrics != NULL &&
	    addr_equal(maddr, &side.metrics_addr)) {
		next->metrics = side.metrics;
		next->metrics_addr = side.metrics_addr;
	} else if (maddr->len != 0) {
		if ((next->metrics = metrics_open(maddr, &state)) == NULL) {
			if (asprintf(err, "%s: cannot listen for metrics on %s",
			    conf->path, maddr->text) == -1)
				*err = NULL;
			goto fail;
		}
		next->metrics_addr = *maddr;
		next->opened_metrics = 1;
	}
	return 0;
fail:
	side_abort(next);
	return -1;
}

/* Frees the side channels a reload replaced. */
static void
side_collect(void)
{
	oneshot_free(side_retired[0]);
	oneshot_free(side_retired[1]);
	side_retired[0] = side_retired[1] = NULL;
}

/*
 * Puts <next> in force.  What it replaced stops being reachable at once
 * (the socket path is removed) and is freed by side_collect().
 */
static void
side_commit(struct side_channels *next)
{
	side_collect();
	if (side.ctl != next->ctl) {
		side_retired[0] = side.ctl;
		if (side.ctl_path != NULL)
			(void)unlink(side.ctl_path);
		free(side.ctl_path);
	}
	if (side.metrics != next->metrics)
		side_retired[1] = side.metrics;
	side = *next;
}

/*
 * Reloads the config file, as one transaction with the side channels.
 * Returns 0 when applied; else -1, with every problem logged and, when
 * <errors> is not NULL, copied there.
 */
static int
reload(struct text *errors)
{
	struct side_channels	 next;
	struct conf		*conf = NULL;
	char			*problems = NULL, status[128];

	if (stopping) {
		log_warnx("reload refused: lb4 is stopping");
		if (errors != NULL)
			text_printf(errors, "reload refused: lb4 is "
			    "stopping\n");
		return -1;
	}
	notify_reloading();
	log_info("reloading %s", conf_path);
	if ((conf = conf_load(conf_path, &problems)) == NULL)
		goto fail;
	if (side_prepare(conf, &next, &problems) == -1)
		goto fail;
	if (state_apply(&state, conf, &problems) == -1) {
		side_abort(&next);
		goto fail;
	}
	side_commit(&next);
	state.reloads_ok++;
	state.last_reload_ok = 1;
	summary(status, sizeof(status));
	log_info("reloaded %s: %s", conf_path, status);
	notify_ready(status);
	return 0;
fail:
	if (problems == NULL)
		problems = strdup("out of memory");
	log_lines(problems);
	if (errors != NULL && problems != NULL)
		text_printf(errors, "%s%s", problems,
		    problems[strlen(problems) - 1] == '\n' ? "" : "\n");
	conf_free(conf);
	free(problems);
	state.reloads_failed++;
	state.last_reload_ok = 0;
	log_err("reload failed; still serving the previous configuration");
	notify_ready("reload failed; serving the previous configuration");
	return -1;
}

static int
ctl_reload(struct text *errors)
{
	return reload(errors);
}

/* Rewrites the health file when the answer changed (or is forced). */
static void
sync_health_file(int force_down)
{
	const char	*path = state.conf->global.health_file;
	char		 why[256];
	int		 healthy;

	if (path == NULL)
		return;
	healthy = !force_down && state_healthy(&state, why, sizeof(why));
	if (healthy == health_written)
		return;
	if (healthy)
		log_info("healthy: every listener has a server");
	else if (!force_down)
		log_warnx("unhealthy: %s", why);
	if (healthfile_write(path, healthy) == 0)
		health_written = healthy;
}

static void
begin_stop(void)
{
	if (stopping)
		return;
	stopping = 1;
	notify_stopping();
	log_info("stopping: no new connections; waiting up to %d ms for "
	    "%ld open ones", state.conf->global.shutdown_timeout_ms,
	    load_relaxed(&state.rt.conns));
	sync_health_file(1);
	stop_deadline = clock_ms() +
	    (uint64_t)state.conf->global.shutdown_timeout_ms;
	state_stop_accepting(&state);
}

static void
on_signal(struct handler *h, uint32_t events)
{
	struct signalfd_siginfo	si;

	(void)events;
	while (read(h->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			(void)reload(NULL);
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			begin_stop();
	}
}

/* 1 when the stop is complete: sockets closed and conns gone or late. */
static int
stop_done(void)
{
	long	conns = load_relaxed(&state.rt.conns);

	if (!listeners_closed)
		listeners_closed = state_close_listeners(&state);
	if (!listeners_closed)
		return 0;
	if (conns == 0)
		return 1;
	if (clock_ms() >= stop_deadline) {
		log_warnx("shutdown_timeout_ms passed: closing %ld "
		    "connections", conns);
		return 1;
	}
	return 0;
}

static void
on_tick(void)
{
	uint64_t	now = clock_ms();
	int		i;

	side_collect();
	health_tick(now);
	state_drain_log(&state);
	if (health_resets())
		state_reset_downed(&state);
	for (i = 0; i < state.npools; i++)
		pool_tick(state.pools[i]);
	state_collect(&state);
	oneshot_tick(side.ctl);
	oneshot_tick(side.metrics);
	if (!stopping)
		sync_health_file(0);
	if (watchdog_ms != 0 && now - watchdog_last >= watchdog_ms) {
		notify_watchdog();
		watchdog_last = now;
	}
}

/* A worker woke us (a server reached fall): on_tick() acts on it. */
static void
on_worker_news(struct handler *h, uint32_t events)
{
	uint64_t	n;

	(void)events;
	if (read(h->fd, &n, sizeof(n)) == -1) {
		/* EAGAIN: drained already. */
	}
}

static int
signals_open(void)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Blocked before the workers start, so they inherit the mask. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Two fds per connection plus room: ask for as many as we may have. */
static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Start-up: the control socket, metrics and the health file's directory
 * come up before privileges are dropped (their directories may be
 * root's); failing to open any of them is a start-up error, not something
 * to run without.
 */
static void
open_side_channels(void)
{
	const struct conf_global *g = &state.conf->global;
	struct side_channels	  next;
	char			 *err = NULL;

	if ((g->control_socket != NULL &&
	    priv_make_parent(g->control_socket, g->user) == -1) ||
	    (g->health_file != NULL &&
	    priv_make_parent(g->health_file, g->user) == -1))
		/* No thread yet.  NOLINTNEXTLINE(concurrency-mt-unsafe) */
		exit(2);
	if (side_prepare(state.conf, &next, &err) == -1)
		fatalx(2, "%s", err != NULL ? err : "out of memory");
	side_commit(&next);
}

/*
 * The health file is first written after privileges are dropped: lb4
 * rewrites it as that user for the rest of its life (every health change,
 * "1" on stop), so a directory only root can write must stop the start
 * rather than leave a "0" that can never turn into "1".
 */
static void
open_health_file(void)
{
	const struct conf_global *g = &state.conf->global;

	if (g->health_file == NULL)
		return;
	sync_health_file(0);
	if (health_written == -1)
		fatalx(2, "cannot write health file %s%s%s%s", g->health_file,
		    g->user != NULL ? " as user " : "",
		    g->user != NULL ? g->user : "",
		    g->user != NULL ? ": its directory must be writable by "
		    "that user" : "");
}

static struct conf *
load_or_exit(int check_only)
{
	struct conf	*conf;
	char		*errors = NULL;

	if ((conf = conf_load(conf_path, &errors)) == NULL) {
		if (check_only)
			fputs(errors != NULL ? errors : "out of memory\n", stderr);
		else
			log_lines(errors);
		free(errors);
		/* No thread yet.  NOLINTNEXTLINE(concurrency-mt-unsafe) */
		exit(1);
	}
	return conf;
}

int
main(int argc, char *argv[])
{
	struct conf	*conf;
	struct handler	 sig_handler = { on_signal, NULL, -1 };
	struct handler	 news_handler = { on_worker_news, NULL, -1 };
	struct side_channels empty;
	char		*err = NULL, status[128];
	int		 ch, check_only = 0;

	/* The only caller, before any thread. */
	/* NOLINTNEXTLINE(concurrency-mt-unsafe) */
	while ((ch = getopt(argc, argv, "c:tVh")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 't':
			check_only = 1;
			break;
		case 'V':
			printf("lb4 %s\n", LB4_VERSION);
			return 0;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	conf = load_or_exit(check_only);
	if (check_only) {
		printf("%s: configuration is valid\n", conf_path);
		conf_free(conf);
		return 0;
	}
	log_set_level(conf->global.log_level);
	log_nonblocking();
	raise_nofile();
	if (loop_init() == -1 || (sig_handler.fd = signals_open()) == -1 ||
	    loop_add(&sig_handler, EPOLLIN) == -1 || health_init() == -1)
		fatal(2, "cannot set up the main loop");
	if ((news_handler.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    loop_add(&news_handler, EPOLLIN) == -1)
		fatal(2, "cannot set up the main loop");
	if (state_init(&state, conf->global.workers, news_handler.fd) == -1)
		fatalx(2, "out of memory");
	if (state_apply(&state, conf, &err) == -1)
		fatalx(2, "%s", err ? err : "cannot apply the configuration");
	open_side_channels();
	if (priv_drop(state.conf->global.user, state.conf->global.group) ==
	    -1)
		/* No thread yet.  NOLINTNEXTLINE(concurrency-mt-unsafe) */
		exit(2);
	open_health_file();
	pipe_budget_init();	/* under the final user's limits */
	if (connlog_start() == -1 || state_start_workers(&state) == -1)
		fatalx(2, "cannot start the workers");
	watchdog_ms = notify_watchdog_ms();
	summary(status, sizeof(status));
	log_info("lb4 %s started with %d workers: %s", LB4_VERSION,
	    state.nworkers, status);
	notify_ready(status);
	while (!stopping || !stop_done()) {
		loop_run_once(TICK_MS);
		on_tick();
	}
	state_stop_workers(&state);	/* drains the log a last time */
	connlog_stop();
	close(news_handler.fd);
	memset(&empty, 0, sizeof(empty));
	side_commit(&empty);
	side_collect();
	health_shutdown();
	state_free(&state);
	log_info("stopped");
	return 0;
}

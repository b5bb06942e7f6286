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
#include <sys/signalfd.h>
#include <unistd.h>

#include "conf.h"
#include "health.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "reload.h"
#include "worker.h"

#define LB4_VERSION	"0.1.0"
#define TICK_MS		100

static struct state	 state;
static const char	*conf_path = CONF_DEFAULT_PATH;
static int		 stopping;
static uint64_t		 stop_deadline;
static int		 listeners_closed;
static uint64_t		 watchdog_ms, watchdog_last;

static void
usage(FILE *out, int status)
{
	fprintf(out, "usage: lb4 [-c FILE] [-t] [-V] [-h]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -t       check the configuration and exit (0 valid, 1 not)\n"
	    "  -V       print the version and exit\n"
	    "  -h       this help\n", CONF_DEFAULT_PATH);
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
	    __atomic_load_n(&state.rt.conns, __ATOMIC_RELAXED));
}

static void
reload(void)
{
	struct conf	*conf;
	char		*errors = NULL, status[128];

	notify_reloading();
	log_info("reloading %s", conf_path);
	if ((conf = conf_load(conf_path, &errors)) == NULL ||
	    state_apply(&state, conf, &errors) == -1) {
		log_lines(errors);
		conf_free(conf);
		free(errors);
		state.reloads_failed++;
		state.last_reload_ok = 0;
		log_err("reload failed; still serving the previous "
		    "configuration");
		notify_ready("reload failed; serving the previous "
		    "configuration");
		return;
	}
	state.reloads_ok++;
	state.last_reload_ok = 1;
	summary(status, sizeof(status));
	log_info("reloaded %s: %s", conf_path, status);
	notify_ready(status);
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
	    __atomic_load_n(&state.rt.conns, __ATOMIC_RELAXED));
	stop_deadline = loop_now_ms() +
	    (uint64_t)state.conf->global.shutdown_timeout_ms;
	state_stop_accepting(&state);
}

static void
on_signal(struct handler *h, uint32_t events)
{
	struct signalfd_siginfo	si;

	(void)events;
	while (read(h->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP && !stopping)
			reload();
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			begin_stop();
	}
}

/* 1 when the stop is complete: sockets closed and conns gone or late. */
static int
stop_done(void)
{
	long	conns = __atomic_load_n(&state.rt.conns, __ATOMIC_RELAXED);

	if (!listeners_closed)
		listeners_closed = state_close_listeners(&state);
	if (!listeners_closed)
		return 0;
	if (conns == 0)
		return 1;
	if (loop_now_ms() >= stop_deadline) {
		log_warnx("shutdown_timeout_ms passed: closing %ld "
		    "connections", conns);
		return 1;
	}
	return 0;
}

static void
on_tick(void)
{
	uint64_t	now = loop_now_ms();

	health_tick(now);
	state_collect(&state);
	if (watchdog_ms != 0 && now - watchdog_last >= watchdog_ms) {
		notify_watchdog();
		watchdog_last = now;
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

static int
start_workers(void)
{
	int	i;

	for (i = 0; i < state.nworkers; i++)
		if (worker_init(&state.workers[i], i, &state.rt) == -1 ||
		    worker_start(&state.workers[i]) == -1)
			return -1;
	return 0;
}

static void
stop_workers(void)
{
	int	i;

	__atomic_store_n(&state.rt.exiting, 1, __ATOMIC_RELEASE);
	for (i = 0; i < state.nworkers; i++)
		worker_wake(&state.workers[i]);
	for (i = 0; i < state.nworkers; i++)
		worker_join(&state.workers[i]);
}

static struct conf *
load_or_exit(int check_only)
{
	struct conf	*conf;
	char		*errors = NULL;

	if ((conf = conf_load(conf_path, &errors)) == NULL) {
		if (check_only)
			fputs(errors, stderr);
		else
			log_lines(errors);
		free(errors);
		exit(1);
	}
	return conf;
}

int
main(int argc, char *argv[])
{
	struct conf	*conf;
	struct handler	 sig_handler = { on_signal, NULL, -1 };
	char		*err = NULL, status[128];
	int		 ch, check_only = 0;

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
	raise_nofile();
	if (loop_init() == -1 || (sig_handler.fd = signals_open()) == -1 ||
	    loop_add(&sig_handler, EPOLLIN) == -1 || health_init() == -1)
		fatal(2, "cannot set up the main loop");
	if (state_init(&state, conf->global.workers) == -1)
		fatalx(2, "out of memory");
	if (state_apply(&state, conf, &err) == -1)
		fatalx(2, "%s", err ? err : "cannot apply the configuration");
	if (start_workers() == -1)
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
	stop_workers();
	health_shutdown();
	state_free(&state);
	log_info("stopped");
	return 0;
}

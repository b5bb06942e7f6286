/*
 * health_exec.c: the exec check (keepalived check_misc.c): run `command`
 * with the server in its environment; exit status 0 means up.
 *
 * The command runs in its own process group, so a timeout kills whatever
 * it started too.  Its exit is watched through a pidfd; without one
 * (kernel before 5.3, seccomp, valgrind) it is polled with
 * waitid(WNOHANG) every POLL_MS instead.  A command killed at its deadline
 * has its verdict at once and stays in PHASE_REAP, its pidfd watched,
 * until it is reaped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "health_kind.h"
#include "local.h"
#include "log.h"
#include "pool.h"

#define OUT_MAX		200	/* exec output kept for the reason */
#define REAP_RETRY_MS	100	/* a killed command not reaped yet */

extern char	**environ;

static int	no_pidfd;	/* pidfd_open() is ENOSYS here */

/* SIGKILL to the process group of command <pid>; never to our own. */
static void
kill_group(pid_t pid)
{
	if (pid > 0)
		(void)kill(-pid, SIGKILL);
}

/*
 * The environment of a command: ours plus LB4_SERVER_*, LB4_POOL and, when
 * the server or its pool sets a check port, LB4_HEALTH_PORT (e.g. the
 * Patroni REST port of this node, for a check over HTTPS).
 */
static char **
exec_env(const struct check *c, char **own)
{
	const struct sockaddr_storage *ss = &c->server->addr.ss;
	char		 ip[INET6_ADDRSTRLEN], **env;
	size_t		 n = 0, i, j = 0;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = calloc(n + 5, sizeof(*env))) == NULL)
		return NULL;
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    ip, sizeof(ip));
	else
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, ip,
		    sizeof(ip));
	if (asprintf(&own[0], "LB4_SERVER_ADDRESS=%s", ip) == -1)
		own[0] = NULL;
	if (asprintf(&own[1], "LB4_SERVER_PORT=%u",
	    (unsigned)addr_port(&c->server->addr)) == -1)
		own[1] = NULL;
	if (asprintf(&own[2], "LB4_POOL=%s", c->server->pool_name) == -1)
		own[2] = NULL;
	if (c->port != 0 && asprintf(&own[3], "LB4_HEALTH_PORT=%d",
	    c->port) == -1)
		own[3] = NULL;
	if (own[0] == NULL || own[1] == NULL || own[2] == NULL ||
	    (c->port != 0 && own[3] == NULL)) {
		free(env);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "LB4_SERVER_ADDRESS=", 19) != 0 &&
		    strncmp(environ[i], "LB4_SERVER_PORT=", 16) != 0 &&
		    strncmp(environ[i], "LB4_POOL=", 9) != 0 &&
		    strncmp(environ[i], "LB4_HEALTH_PORT=", 16) != 0)
			env[j++] = environ[i];
	env[j++] = own[0];
	env[j++] = own[1];
	env[j++] = own[2];
	if (own[3] != NULL)
		env[j++] = own[3];
	env[j] = NULL;
	return env;
}

/*
 * Spawns c->cfg.command in its own process group, stdin /dev/null, stdout
 * and stderr into a pipe we read (its first line goes into the reason),
 * signals unblocked and at their defaults.  Returns the pid or -1 with
 * c->reason set.
 */
static pid_t
spawn(struct check *c, int outfd)
{
	posix_spawnattr_t	  attr;
	posix_spawn_file_actions_t fa;
	sigset_t		  none, def;
	char			 *argv[2], *own[4] = { NULL, NULL, NULL, NULL };
	char			**env;
	pid_t			  pid = -1;
	int			  err;

	if ((env = exec_env(c, own)) == NULL) {
		snprintf(c->reason, sizeof(c->reason), "out of memory");
		errno = ENOMEM;
		goto out;
	}
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outfd, 1);
	posix_spawn_file_actions_adddup2(&fa, outfd, 2);
	argv[0] = c->cfg.command;
	argv[1] = NULL;
	err = posix_spawn(&pid, c->cfg.command, &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err != 0) {
		health_errno_reason(c, c->cfg.command, err);
		pid = -1;
	}
	errno = err;	/* for exec_start(): whose failure it was */
out:
	free(own[0]);
	free(own[1]);
	free(own[2]);
	free(own[3]);
	free(env);
	return pid;
}

/* Reads what the command wrote; keeps the first OUT_MAX bytes. */
static void
drain_out(struct check *c)
{
	char	junk[512];
	ssize_t	n;

	while (c->out.fd != -1) {
		if (c->nbuf < OUT_MAX)
			n = read(c->out.fd, c->buf + c->nbuf, OUT_MAX - c->nbuf);
		else
			n = read(c->out.fd, junk, sizeof(junk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n > 0 && c->nbuf < OUT_MAX) {
			c->nbuf += (size_t)n;
			continue;
		}
		if (n > 0)
			continue;
		if (n == 0 || errno != EAGAIN)
			health_close(&c->out);
		return;
	}
}

static void
on_out(struct handler *h, uint32_t events)
{
	struct check	*c = h->arg;

	(void)events;
	if (c->phase == PHASE_EXEC)
		drain_out(c);
}

static void
exec_start(struct check *c)
{
	int	p[2], err;

	c->nbuf = 0;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		if (local_reason_of(errno) != -1) {
			/* this host's, not the server's */
			health_finish_local(c, errno);
			return;
		}
		health_errno_reason(c, "pipe", errno);
		health_finish(c, 0);
		return;
	}
	c->pid = spawn(c, p[1]);
	err = errno;
	close(p[1]);
	if (c->pid == -1) {
		close(p[0]);
		/* No process or memory left here (EAGAIN: RLIMIT_NPROC). */
		if (err == EAGAIN || local_reason_of(err) != -1)
			health_finish_local(c, err == EAGAIN ? ENOMEM : err);
		else
			health_finish(c, 0);
		return;
	}
	c->out = (struct handler){ on_out, c, p[0] };
	c->phase = PHASE_EXEC;
	if (loop_add(&c->out, EPOLLIN) == -1)
		health_close(&c->out);	/* no output in the reason, that's all */
	/* <err>: why there is no pidfd, for the log (errno moves on). */
	err = ENOSYS;
	c->h.fd = no_pidfd ? -1 : pidfd_open(c->pid, 0);
	if (c->h.fd == -1 && !no_pidfd && (err = errno) == ENOSYS)
		no_pidfd = 1;
	if (c->h.fd != -1 && loop_add(&c->h, EPOLLIN) == -1) {
		err = errno;
		close(c->h.fd);
		c->h.fd = -1;
	}
	if (c->h.fd == -1 && !health_poll_on())
		log_debug("health: no pidfd (%s): polling exec checks every "
		    "%d ms", log_strerror(err), POLL_MS);
}

/* The command's first output line, quoted, for the reason; or "". */
static void
out_line(struct check *c, char *q, size_t qlen)
{
	char	*nl;

	c->buf[c->nbuf] = '\0';
	if ((nl = strchr(c->buf, '\n')) != NULL)
		*nl = '\0';
	q[0] = '\0';
	if (c->buf[0] != '\0') {
		memcpy(q, ": ", 3);
		health_quote(q + 2, qlen - 2, c->buf, 120);
	}
}

/* event: the command may have exited (pidfd readable, or polled). */
static void
exec_event(struct check *c)
{
	siginfo_t	si;
	char		q[160];
	int		status;
	pid_t		r;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == 0)
		return;		/* stale event: still running */
	/* The leader is a zombie: its group id cannot be reused yet. */
	kill_group(c->pid);
	r = waitpid(c->pid, &status, WNOHANG);
	if (r == 0 || (r == -1 && errno == EINTR))
		return;
	c->pid = 0;
	if (c->phase == PHASE_REAP) {
		health_close(&c->h);
		c->phase = PHASE_IDLE;
		if (c->server == NULL)
			c->phase = PHASE_DEAD;
		return;
	}
	drain_out(c);
	out_line(c, q, sizeof(q));
	if (r == -1)
		health_errno_reason(c, "waitpid", errno);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		health_finish(c, 1);
		return;
	} else if (WIFEXITED(status))
		snprintf(c->reason, sizeof(c->reason), "exit status %d%s",
		    WEXITSTATUS(status), q);
	else if (WIFSIGNALED(status))
		snprintf(c->reason, sizeof(c->reason), "killed by signal "
		    "%d%s", WTERMSIG(status), q);
	health_finish(c, 0);
}

/* Kills the command of <c> (its whole group); it is reaped later. */
static void
kill_exec(struct check *c)
{
	health_close(&c->out);
	kill_group(c->pid);
	c->phase = PHASE_REAP;
}

static void
exec_expire(struct check *c, uint64_t now)
{
	uint64_t	next;

	if (c->phase == PHASE_REAP) {
		/* The next start is due but the killed command lingers. */
		health_arm(c, now + REAP_RETRY_MS);
		return;
	}
	snprintf(c->reason, sizeof(c->reason), "timeout after %d ms",
	    c->cfg.timeout_ms);
	kill_exec(c);
	if (c->server != NULL)
		health_verdict(c, 0);
	next = c->started + (uint64_t)c->cfg.interval_ms;
	health_arm(c, next > now ? next : now);
}

static void
exec_abort(struct check *c)
{
	if (c->phase == PHASE_EXEC)
		kill_exec(c);
}

static void
exec_exit(struct check *c)
{
	if (c->phase == PHASE_EXEC || c->phase == PHASE_REAP) {
		kill_group(c->pid);
		/* SIGKILL is quick; a D-state command is left. */
		(void)waitpid(c->pid, NULL, WNOHANG);
	}
}

/* poll: a command with no pidfd; 1 while it is not reaped. */
static int
exec_poll(struct check *c)
{
	if ((c->phase != PHASE_EXEC && c->phase != PHASE_REAP) ||
	    c->h.fd != -1 || c->pid <= 0)
		return 0;
	exec_event(c);
	return c->pid > 0;
}

const struct health_kind health_exec_kind = {
	.start = exec_start,
	.event = exec_event,
	.expire = exec_expire,
	.abort = exec_abort,
	.exit = exec_exit,
	.poll = exec_poll,
};

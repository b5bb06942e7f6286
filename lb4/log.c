/*
 * log.c: one line per event on stderr, prefixed with the sd-daemon "<N>"
 * level so that journald keeps the level when lb4 runs under systemd.
 *
 * Each line is formatted into a stack buffer and written with a single
 * write(2): worker threads log concurrently, and a single write of a short
 * buffer to a pipe or the journal stream is not interleaved with others.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "atomic.h"

#define LOG_LINE_MAX	1024

/* Read on every call from every thread; a relaxed atomic is enough. */
static _Atomic int log_level = LOG_LEVEL_INFO;

/* Lines that a full stderr pipe or socket did not take (log_nonblocking). */
static uint64_t log_lost;

static const char *const log_prefix[] = {
	[LOG_LEVEL_ERROR] = "<3>",
	[LOG_LEVEL_WARNING] = "<4>",
	[LOG_LEVEL_INFO] = "<6>",
	[LOG_LEVEL_DEBUG] = "<7>",
};

static const char *const log_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_set_level(enum log_level level)
{
	if (level < LOG_LEVEL_ERROR)
		level = LOG_LEVEL_ERROR;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	log_level = level;
}

/*
 * Parses "error", "warning", "info" or "debug" into *<out>.  Returns 0, or
 * -1 for anything else.
 */
int
log_level_parse(const char *name, enum log_level *out)
{
	size_t	i;

	if (name == NULL)
		return -1;
	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/*
 * The bytes (v)snprintf() stored into <room> bytes when it returned <r>:
 * it returns the length it wanted, and truncates to <room> - 1.
 */
static size_t
log_written(int r, size_t room)
{
	if (r <= 0 || room == 0)
		return 0;
	return (size_t)r < room ? (size_t)r : room - 1;
}

/*
 * A stream socket took part of a line: the rest gets a few short waits
 * (a socket frees room quickly unless its reader stalled), then the line
 * is counted as lost.  A pipe never takes part of a line this short.
 */
static void
log_finish(const char *p, size_t len)
{
	struct pollfd	pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	ssize_t		n;
	int		tries;

	for (tries = 0; len > 0 && tries < 3; tries++) {
		if (poll(&pfd, 1, 10) != 1)
			continue;
		if ((n = write(STDERR_FILENO, p, len)) > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	if (len > 0)
		add_relaxed(&log_lost, 1);
}

void
log_nonblocking(void)
{
	struct stat	sb;
	int		fl;

	/* A terminal's file description is the shell's too: left alone. */
	if (fstat(STDERR_FILENO, &sb) == -1 ||
	    !(S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode)))
		return;
	if ((fl = fcntl(STDERR_FILENO, F_GETFL)) != -1)
		(void)fcntl(STDERR_FILENO, F_SETFL, fl | O_NONBLOCK);
}

uint64_t
log_dropped(void)
{
	return load_relaxed(&log_lost);
}

/*
 * Formats and writes one line at <level>.  <errnum> >= 0 appends its
 * message.  The caller has already checked the level.  Embedded newlines
 * become spaces: one event must stay one journal entry.  errno is kept for
 * the caller.
 */
static void
log_line(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char	 buf[LOG_LINE_MAX];
	size_t	 len, max = sizeof(buf) - 1;	/* room for '\n' */
	ssize_t	 n;
	int	 r, saved = errno;
	char	*p;

	len = strlen(log_prefix[level]);
	memcpy(buf, log_prefix[level], len);
	/*
	 * clang-tidy 14's valist checker loses va_start() when it inlines
	 * this into fatal() or fatalx() and reports <ap> uninitialized.
	 */
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
	r = vsnprintf(buf + len, max - len, fmt, ap);
	len += log_written(r, max - len);
	if (errnum >= 0 && len < max) {
		r = snprintf(buf + len, max - len, ": %s",
		    log_strerror(errnum));
		len += log_written(r, max - len);
	}
	for (p = buf; p < buf + len; p++)
		if (*p == '\n')
			*p = ' ';
	buf[len++] = '\n';

	/* Nothing sensible to do if stderr is gone; retry only EINTR. */
	do {
		n = write(STDERR_FILENO, buf, len);
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		add_relaxed(&log_lost, 1);
	else if (n >= 0 && (size_t)n < len)
		log_finish(buf + n, len - (size_t)n);
	errno = saved;
}

const char *
log_strerror(int errnum)
{
	static _Thread_local char	 buf[128];

	/* The GNU strerror_r(): returns a static message or fills <buf>. */
	return strerror_r(errnum, buf, sizeof(buf));
}

void
log_err(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_line(LOG_LEVEL_ERROR, -1, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 errnum = errno;

	if (LOG_LEVEL_WARNING > log_level)
		return;
	va_start(ap, fmt);
	log_line(LOG_LEVEL_WARNING, errnum, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	if (LOG_LEVEL_WARNING > log_level)
		return;
	va_start(ap, fmt);
	log_line(LOG_LEVEL_WARNING, -1, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	if (LOG_LEVEL_INFO > log_level)
		return;
	va_start(ap, fmt);
	log_line(LOG_LEVEL_INFO, -1, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (LOG_LEVEL_DEBUG > log_level)
		return;
	va_start(ap, fmt);
	log_line(LOG_LEVEL_DEBUG, -1, fmt, ap);
	va_end(ap);
}

void
fatalx(int status, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_line(LOG_LEVEL_ERROR, -1, fmt, ap);
	va_end(ap);
	_exit(status);
}

void
fatal(int status, const char *fmt, ...)
{
	va_list	 ap;
	int	 errnum = errno;

	va_start(ap, fmt);
	log_line(LOG_LEVEL_ERROR, errnum, fmt, ap);
	va_end(ap);
	_exit(status);
}

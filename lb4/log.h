/*
 * log.h: one line per event on stderr, with the sd-daemon "<N>" level
 * prefix so journald keeps the level.  Thread-safe (one write(2) a line).
 */
#ifndef LB4_LOG_H
#define LB4_LOG_H

#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,	/* <3> */
	LOG_LEVEL_WARNING = 1,	/* <4> */
	LOG_LEVEL_INFO = 2,	/* <6> */
	LOG_LEVEL_DEBUG = 3,	/* <7> */
};

void	log_set_level(enum log_level level);

/*
 * Makes stderr non-blocking when it is a pipe or a socket (journald's):
 * a log reader that stalls must not stop the main loop or a worker, so a
 * line that does not fit is dropped and counted (log_dropped()) instead.
 * Call before any thread starts.
 */
void	log_nonblocking(void);
uint64_t log_dropped(void);

int	log_level_parse(const char *name, enum log_level *out);

/*
 * The message of <errnum>, in a buffer of the calling thread that the
 * thread's next call reuses: strerror(3) need not be thread-safe, and
 * workers log concurrently.
 */
const char *log_strerror(int errnum);

/* log_warn and fatal append ": " and the message of errno. */
void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Log at error level and _exit(<status>): exit(3) is not thread-safe (it
 * runs atexit handlers and flushes stdio under the other threads' feet),
 * and a worker may be the caller.
 */
void	fatal(int status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	fatalx(int status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#endif

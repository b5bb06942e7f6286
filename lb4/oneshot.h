/*
 * oneshot.h: a tiny server on the main loop for one request per
 * connection: read until a terminator, answer, close.  The control socket
 * (line protocol) and the metrics endpoint (HTTP GET) are both this.  A
 * client that sends too much, too slowly, or nothing at all is dropped
 * without affecting anyone else; nothing blocks.
 */
#ifndef LB4_ONESHOT_H
#define LB4_ONESHOT_H

#include <sys/types.h>

#include "text.h"

struct oneshot;

/*
 * Builds the reply to <request> (NUL-terminated, terminator included)
 * into <reply>.  <arg> is what oneshot_new() was given.  <peer_uid> is the
 * client's uid from SO_PEERCRED on a unix socket, (uid_t)-1 when unknown
 * (a TCP client).
 */
typedef void	(*oneshot_fn)(void *arg, uid_t peer_uid, const char *request,
		    struct text *reply);

/*
 * Serves on the listening socket <fd> (taken over), calling <fn> for each
 * request ending with <terminator> ("\n" or "\r\n\r\n").  Returns NULL on
 * failure (logged).
 */
struct oneshot	*oneshot_new(const char *name, int fd, const char *terminator,
		    oneshot_fn fn, void *arg);

/* Drops idle clients; call every tick. */
void		 oneshot_tick(struct oneshot *os);

/* Closes the socket and every client.  NULL is a no-op. */
void		 oneshot_free(struct oneshot *os);

#endif

/*
 * ctl.h: the control socket (SPEC section 6): a unix stream socket, one
 * command line per connection, a reply whose last line is "ok" or
 * "error: MESSAGE".  lb4ctl is its client.
 */
#ifndef LB4_CTL_H
#define LB4_CTL_H

#include <sys/types.h>

#include "text.h"

struct state;
struct oneshot;

/* Runs a reload; returns 0 when applied, else -1 with the errors in <t>. */
typedef int	(*ctl_reload_fn)(struct text *errors);

/*
 * Binds <path> (mode 0660, group <group> when it exists; a stale socket is
 * replaced, a live one is an error).  Returns NULL with a logged reason.
 */
struct oneshot	*ctl_open(const char *path, const char *group,
		    struct state *st, ctl_reload_fn reload);

/*
 * Executes one command line from a client of uid <peer> against <st> into
 * <reply>.  Commands that change state (enable, disable, drain, set weight,
 * reload) are refused unless <peer> is root or lb4's own effective uid;
 * health and show are for anyone who can connect.
 */
void		 ctl_execute(struct state *st, ctl_reload_fn reload,
		    uid_t peer, const char *line, struct text *reply);

#endif

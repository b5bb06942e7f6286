/*
 * ctl.h: the control socket (lb4ctl(8), PROTOCOL): a unix stream socket, one
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

enum ctl_verb {
	CTL_UNKNOWN = 0,	/* not a command: the reply lists them */
	CTL_SHOW_SERVERS = 1,	/* show servers */
	CTL_SHOW_STATS = 2,	/* show stats */
	CTL_ENABLE = 3,		/* enable server POOL ADDRESS */
	CTL_DISABLE = 4,	/* disable server POOL ADDRESS */
	CTL_DRAIN = 5,		/* drain server POOL ADDRESS */
	CTL_SET_WEIGHT = 6,	/* set weight POOL ADDRESS N */
	CTL_HEALTH = 7,		/* health */
	CTL_RELOAD = 8,		/* reload */
};

/* One command line, parsed; the words point into <buf>. */
struct ctl_cmd {
	enum ctl_verb	 verb;
	char		*pool;		/* enable..set weight, else NULL */
	char		*addr;		/* enable..set weight, else NULL */
	int		 weight;	/* set weight: 1..1000, -1 when bad */
	char		 buf[1024];	/* the line, truncated, split */
};

/*
 * Parses command line <line> into <cmd> without touching any state.
 * Returns 0, or -1 when it is no command (cmd->verb is CTL_UNKNOWN).
 */
int		 ctl_parse(const char *line, struct ctl_cmd *cmd);

/*
 * Executes one command line from a client of uid <peer> against <st> into
 * <reply>.  Commands that change state (enable, disable, drain, set weight,
 * reload) are refused unless <peer> is root or lb4's own effective uid;
 * health and show are for anyone who can connect.
 */
void		 ctl_execute(struct state *st, ctl_reload_fn reload,
		    uid_t peer, const char *line, struct text *reply);

#endif

/*
 * priv.h: least privilege outside systemd.  Started as root with
 * global.user set, lb4 drops to that user and group after binding and
 * keeps only CAP_NET_BIND_SERVICE (so a reload can still bind a new port
 * below 1024).
 */
#ifndef LB4_PRIV_H
#define LB4_PRIV_H

/*
 * Drops to <user>/<group> (group NULL = the user's primary group).  With
 * <user> NULL: warns once when running as root.  Returns 0, or -1 with a
 * logged reason.
 */
int	priv_drop(const char *user, const char *group);

/* Creates the parent directory of <path> when missing, owned by <user>. */
int	priv_make_parent(const char *path, const char *user);

#endif

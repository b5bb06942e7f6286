/*
 * priv.c: setuid with one capability kept.  The kernel clears the
 * permitted set on setuid() unless PR_SET_KEEPCAPS is on; then capset()
 * trims it to CAP_NET_BIND_SERVICE.  Raw capset(2) rather than libcap:
 * one call, no new dependency.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

static int
keep_bind_cap(void)
{
	struct __user_cap_header_struct	hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct	data[2];
	unsigned int			bit = 1U << CAP_NET_BIND_SERVICE;

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = bit;
	return (int)syscall(SYS_capset, &hdr, data);
}

static int
lookup(const char *user, const char *group, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	struct group	*gr;

	/*
	 * getpwnam() and getgrnam() share static buffers, but only the main
	 * thread ever calls them, one lookup at a time.
	 */
	/* NOLINTNEXTLINE(concurrency-mt-unsafe) */
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("user '%s' does not exist", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group != NULL) {
		/* NOLINTNEXTLINE(concurrency-mt-unsafe) */
		if ((gr = getgrnam(group)) == NULL) {
			log_warnx("group '%s' does not exist", group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int
priv_drop(const char *user, const char *group)
{
	uid_t	uid;
	gid_t	gid;

	if (user == NULL) {
		if (geteuid() == 0)
			log_warnx("running as root with full privileges: set "
			    "global.user to drop them");
		return 0;
	}
	if (geteuid() != 0) {
		log_warnx("global.user is set but lb4 is not root: running "
		    "as uid %d", (int)geteuid());
		return 0;
	}
	if (lookup(user, group, &uid, &gid) == -1)
		return -1;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 ||
	    setresuid(uid, uid, uid) == -1 || keep_bind_cap() == -1 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1) {
		log_warn("cannot drop privileges to %s", user);
		return -1;
	}
	log_info("running as %s (uid %d, gid %d) with CAP_NET_BIND_SERVICE",
	    user, (int)uid, (int)gid);
	return 0;
}

int
priv_make_parent(const char *path, const char *user)
{
	struct passwd	*pw;
	char		*dir, *slash;
	int		 rc = 0;

	if ((dir = strdup(path)) == NULL)
		return -1;
	/* As in lookup(): getpwnam() below is the main thread's alone. */
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == 0) {
			/* Ours: the unprivileged user writes in it later. */
			if (user != NULL && geteuid() == 0 &&
			    /* NOLINTNEXTLINE(concurrency-mt-unsafe) */
			    (pw = getpwnam(user)) != NULL &&
			    chown(dir, pw->pw_uid, pw->pw_gid) == -1)
				rc = -1;
		} else if (errno != EEXIST)
			rc = -1;
	}
	if (rc == -1)
		log_warn("cannot create %s", dir);
	free(dir);
	return rc;
}

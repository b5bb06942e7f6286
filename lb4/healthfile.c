/*
 * healthfile.c: the atomic rewrite.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "healthfile.h"
#include "log.h"

int
healthfile_write(const char *path, int healthy)
{
	char	tmp[4096];
	int	fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("cannot write health file %s", tmp);
		return -1;
	}
	ok = write(fd, healthy ? "0\n" : "1\n", 2) == 2;
	if (close(fd) == -1)
		ok = 0;
	if (!ok || rename(tmp, path) == -1) {
		log_warn("cannot write health file %s", path);
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

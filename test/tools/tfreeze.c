/*
 * tfreeze: stops every thread of a process but its main thread, for the
 * reload race tests (issue 12).  With ptrace(PTRACE_SEIZE) and
 * PTRACE_INTERRUPT each thread is stopped on its own, so lb4's main
 * thread goes on (signals, reloads, state_collect) while its workers
 * stand still, which turns a scheduling race into a fixed order.
 *
 *   usage: tfreeze [-t MS] PID
 *
 * Prints "frozen N" once N threads are stopped, then holds them until
 * SIGUSR1, SIGTERM or MS milliseconds (default 10000), detaches (the
 * threads go on where they were) and prints "thawed N".  Exit 0, 1 when
 * no thread could be stopped, 2 on usage.  Needs CAP_SYS_PTRACE or a
 * ptrace_scope that allows it; "SKIP: ..." and exit 77 when it cannot.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "tcommon.h"

#define MAX_TIDS	256

static volatile sig_atomic_t	go;

static void
on_signal(int sig)
{
	(void)sig;
	go = 1;
}

int
main(int argc, char **argv)
{
	pid_t tids[MAX_TIDS], pid;
	int ntids = 0, nstopped = 0, i, limit = 10000, status;
	char path[64];
	struct dirent *de;
	DIR *d;
	int64_t end;

	if (argc == 4 && strcmp(argv[1], "-t") == 0) {
		limit = (int)parse_u64(argv[2], "ms");
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: tfreeze [-t MS] PID\n");
		return 2;
	}
	pid = (pid_t)parse_u64(argv[1], "pid");
	signal(SIGUSR1, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "tfreeze: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL && ntids < MAX_TIDS) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || tid == pid)
			continue;
		if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) == -1) {
			if (errno == EPERM) {
				printf("SKIP: tfreeze: ptrace not allowed: %s\n",
				    strerror(errno));
				return 77;
			}
			continue;	/* the thread has gone */
		}
		tids[ntids++] = tid;
	}
	closedir(d);
	for (i = 0; i < ntids; i++)
		if (ptrace(PTRACE_INTERRUPT, tids[i], NULL, NULL) == 0 &&
		    waitpid(tids[i], &status, __WALL) == tids[i] &&
		    WIFSTOPPED(status))
			nstopped++;
	printf("frozen %d\n", nstopped);
	end = now_ms() + limit;
	while (!go && now_ms() < end)
		sleep_ms(10);
	for (i = 0; i < ntids; i++)
		(void)ptrace(PTRACE_DETACH, tids[i], NULL, NULL);
	printf("thawed %d\n", ntids);
	return nstopped > 0 ? 0 : 1;
}

/*
 * fuzz_ctl.c: the control-socket command parser, ctl_parse() (ctl.h).
 *
 * The oracle is the dispatch ctl_execute() had before the parser was split
 * out of it (kept below as ref_verb()), so the refactor is proven to keep
 * the behaviour, and the parsed words are checked to be what a reply
 * would name: whole words of the line, without blanks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fuzz.h"

#define REF_MAX_WORDS	8

/* ctl.c's dispatch before ctl_parse() existed, verbatim but for the
 * results. */
static enum ctl_verb
ref_verb(const char *line, char **weight)
{
	static char	 copy[1024];
	char		*w[REF_MAX_WORDS], *t, *save = NULL;
	int		 n = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (t = strtok_r(copy, " \t\r\n", &save); t != NULL;
	    t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == REF_MAX_WORDS) {
			n = -1;
			break;
		}
		w[n++] = t;
	}
	*weight = NULL;
	if (n == 2 && !strcmp(w[0], "show") && !strcmp(w[1], "servers"))
		return CTL_SHOW_SERVERS;
	if (n == 2 && !strcmp(w[0], "show") && !strcmp(w[1], "stats"))
		return CTL_SHOW_STATS;
	if (n == 4 && !strcmp(w[1], "server") && !strcmp(w[0], "enable"))
		return CTL_ENABLE;
	if (n == 4 && !strcmp(w[1], "server") && !strcmp(w[0], "disable"))
		return CTL_DISABLE;
	if (n == 4 && !strcmp(w[1], "server") && !strcmp(w[0], "drain"))
		return CTL_DRAIN;
	if (n == 5 && !strcmp(w[0], "set") && !strcmp(w[1], "weight")) {
		*weight = w[4];
		return CTL_SET_WEIGHT;
	}
	if (n == 1 && !strcmp(w[0], "health"))
		return CTL_HEALTH;
	if (n == 1 && !strcmp(w[0], "reload"))
		return CTL_RELOAD;
	return CTL_UNKNOWN;
}

/* The weight check set_weight() made before ctl_parse(). */
static int
ref_weight(const char *s)
{
	char	*end;
	long	 weight;

	errno = 0;
	weight = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || weight < 1 ||
	    weight > 1000)
		return -1;
	return (int)weight;
}

/* A parsed word: non-empty, blank-free, inside <cmd>'s buffer. */
static void
check_word(const struct ctl_cmd *cmd, const char *w, const char *what)
{
	FUZZ_CHECK(w != NULL, "%s missing", what);
	FUZZ_CHECK(w >= cmd->buf && w < cmd->buf + sizeof(cmd->buf),
	    "%s points outside the command buffer", what);
	FUZZ_CHECK(*w != '\0', "%s is empty", what);
	FUZZ_CHECK(strpbrk(w, " \t\r\n") == NULL, "%s '%s' holds a blank",
	    what, w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_cmd	 cmd;
	enum ctl_verb	 want;
	char		*line, *weight;
	int		 r;

	line = fuzz_string(data, size);
	r = ctl_parse(line, &cmd);
	want = ref_verb(line, &weight);
	FUZZ_CHECK(cmd.verb == want, "verb %d, the old dispatch says %d",
	    cmd.verb, want);
	FUZZ_CHECK((r == -1) == (cmd.verb == CTL_UNKNOWN), "returned %d for "
	    "verb %d", r, cmd.verb);
	if (cmd.verb >= CTL_ENABLE && cmd.verb <= CTL_SET_WEIGHT) {
		check_word(&cmd, cmd.pool, "pool");
		check_word(&cmd, cmd.addr, "address");
	} else
		FUZZ_CHECK(cmd.pool == NULL && cmd.addr == NULL,
		    "words set for verb %d", cmd.verb);
	if (cmd.verb == CTL_SET_WEIGHT) {
		FUZZ_CHECK(cmd.weight == -1 ||
		    (cmd.weight >= 1 && cmd.weight <= 1000),
		    "weight %d", cmd.weight);
		FUZZ_CHECK(cmd.weight == ref_weight(weight),
		    "weight %d for '%s'", cmd.weight, weight);
	}
	free(line);
	return 0;
}

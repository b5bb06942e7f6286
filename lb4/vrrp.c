/*
 * vrrp.c: the VRRP states keepalived reported (vrrp.h).
 */
#include <stdio.h>
#include <string.h>

#include "vrrp.h"
#include "clock.h"

/* The states of an instance, as keepalived's notify names them. */
static const char *const vrrp_states[] = {
	"MASTER", "BACKUP", "FAULT", "STOP",
};
#define NSTATES	((int)(sizeof(vrrp_states) / sizeof(vrrp_states[0])))

static struct {
	char		 name[VRRP_NAME_MAX];
	int		 state;		/* index in vrrp_states */
	uint64_t	 since;		/* seconds, clock_ms() / 1000 */
} known[VRRP_INSTANCES_MAX];
static int	nknown;

/* keepalived's instance names; no quoting needed in a label or a line. */
static int
name_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n >= VRRP_NAME_MAX)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == n;
}

int
vrrp_report(const char *instance, const char *state, char *err,
    size_t errlen)
{
	int	i, s;

	if (!name_ok(instance)) {
		snprintf(err, errlen, "bad VRRP instance name (1 to %d of "
		    "A-Z a-z 0-9 _ . -)", VRRP_NAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < nknown && strcmp(known[i].name, instance) != 0; i++)
		;
	if (strcmp(state, "DELETED") == 0) {
		if (i < nknown)
			known[i] = known[--nknown];
		return 0;
	}
	for (s = 0; s < NSTATES && strcmp(vrrp_states[s], state) != 0; s++)
		;
	if (s == NSTATES) {
		snprintf(err, errlen, "unknown VRRP state '%.20s' (MASTER, "
		    "BACKUP, FAULT, STOP or DELETED)", state);
		return -1;
	}
	if (i == nknown) {
		if (nknown == VRRP_INSTANCES_MAX) {
			snprintf(err, errlen, "more than %d VRRP instances",
			    VRRP_INSTANCES_MAX);
			return -1;
		}
		snprintf(known[nknown++].name, VRRP_NAME_MAX, "%s", instance);
	} else if (known[i].state == s)
		return 0;	/* a repeat keeps its "since" */
	known[i].state = s;
	known[i].since = clock_ms() / 1000;
	return 0;
}

void
vrrp_show(struct text *t)
{
	uint64_t	now = clock_ms() / 1000;
	int		i;

	for (i = 0; i < nknown; i++)
		text_printf(t, "vrrp %s %s since=%lld\n", known[i].name,
		    vrrp_states[known[i].state],
		    (long long)(now - known[i].since));
}

void
vrrp_json(struct text *t)
{
	uint64_t	now = clock_ms() / 1000;
	int		i;

	/* Names are checked by name_ok(): nothing to escape. */
	text_printf(t, "\"vrrp\":[");
	for (i = 0; i < nknown; i++)
		text_printf(t, "%s{\"instance\":\"%s\",\"state\":\"%s\","
		    "\"since_s\":%lld}", i ? "," : "", known[i].name,
		    vrrp_states[known[i].state],
		    (long long)(now - known[i].since));
	text_printf(t, "]");
}

void
vrrp_metrics(struct text *t)
{
	int	i, s;

	/* The label is vrrp_instance: "instance" is Prometheus's own
	 * target label, and a scrape would rename ours exported_instance. */
	text_printf(t, "# HELP lb4_vrrp_state 1 for the state keepalived "
	    "last reported for a VRRP instance of this node, 0 for the "
	    "others.\n# TYPE lb4_vrrp_state gauge\n");
	for (i = 0; i < nknown; i++)
		for (s = 0; s < NSTATES; s++)
			text_printf(t, "lb4_vrrp_state{vrrp_instance=\"%s\","
			    "state=\"%s\"} %d\n", known[i].name,
			    vrrp_states[s], known[i].state == s);
}

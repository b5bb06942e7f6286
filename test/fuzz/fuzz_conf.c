/*
 * fuzz_conf.c: the config loader, conf_load() (conf.h), whole files.
 *
 * Each input is written to a memfd and loaded through its /proc/self/fd
 * path, the way lb4 reads /etc/lb4/lb4.conf.  Either a conf comes back
 * that holds every promise conf.h makes (what later stages rely on without
 * checking again), or an error list whose every line names the file and a
 * line that exists.  Inputs with "@include" are skipped: they would read
 * whatever file the fuzzer names, which is neither repeatable nor lb4's
 * code.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#define FUZZ_LIBCONFIG
#include "fuzz.h"

static const char *fuzz_path;	/* fuzz_file()'s, for the checks */

/* The number of lines in <data>: newlines plus one. */
static unsigned
count_lines(const uint8_t *data, size_t size)
{
	unsigned	 n = 1;
	size_t		 i;

	for (i = 0; i < size && data[i] != '\0'; i++)
		n += data[i] == '\n';
	return n;
}

/* Each line of <errors> is "PATH:LINE: msg" or "PATH: msg". */
static void
check_errors(const char *errors, unsigned nlines)
{
	const char	*p = errors, *nl;
	size_t		 plen = strlen(fuzz_path);
	char		*end;
	unsigned long	 line;

	FUZZ_CHECK(*errors != '\0', "an empty error list");
	for (; *p != '\0'; p = nl + 1) {
		FUZZ_CHECK((nl = strchr(p, '\n')) != NULL, "unterminated "
		    "error line '%s'", p);
		FUZZ_CHECK(strncmp(p, fuzz_path, plen) == 0 && p[plen] == ':',
		    "error line '%.*s' does not name the file", (int)(nl - p),
		    p);
		if (p[plen + 1] == ' ')
			continue;	/* about the whole file */
		line = strtoul(p + plen + 1, &end, 10);
		FUZZ_CHECK(*end == ':' && end[1] == ' ' && end + 2 < nl,
		    "error line '%.*s' is not PATH:LINE: msg",
		    (int)(nl - p), p);
		FUZZ_CHECK(line >= 1 && line <= nlines, "error at line %lu "
		    "of a %u-line file: '%.*s'", line, nlines, (int)(nl - p),
		    p);
	}
}

static void
check_conf(const struct conf *c)
{
	const struct conf_listener	*l;
	const struct conf_pool		*p;
	const struct conf_server	*s;
	int				 i, j, k, m;

	FUZZ_CHECK(c->global.workers >= 1 && c->global.workers <= 256,
	    "workers %d", c->global.workers);
	FUZZ_CHECK(c->global.max_connections >= 1, "max_connections %d",
	    c->global.max_connections);
	FUZZ_CHECK(c->global.shutdown_timeout_ms >= 1, "shutdown timeout");
	FUZZ_CHECK(c->global.control_socket == NULL ||
	    strlen(c->global.control_socket) < 108, "control socket length");
	FUZZ_CHECK(c->nlisteners >= 1, "no listener");
	for (i = 0; i < c->npools; i++) {
		p = &c->pools[i];
		FUZZ_CHECK(p->name != NULL && *p->name != '\0', "pool name");
		FUZZ_CHECK(p->nservers >= 1, "pool %s has no servers",
		    p->name);
		FUZZ_CHECK(p->connect_timeout_ms >= 1 && p->retries >= 0,
		    "pool %s timeouts", p->name);
		FUZZ_CHECK(p->send_proxy >= SEND_PROXY_NONE &&
		    p->send_proxy <= SEND_PROXY_V2, "send_proxy");
		FUZZ_CHECK(p->health.interval_ms >= 1 &&
		    p->health.timeout_ms >= 1 && p->health.rise >= 1 &&
		    p->health.fall >= 1 && p->health.port >= 0 &&
		    p->health.port <= 65535 && p->health.status >= 100 &&
		    p->health.status <= 599, "pool %s health", p->name);
		FUZZ_CHECK(p->health.type != HEALTH_EXEC ||
		    (p->health.command != NULL && *p->health.command == '/'),
		    "exec check without an absolute command");
		FUZZ_CHECK(p->health.type != HEALTH_SEND_EXPECT ||
		    (p->health.expect != NULL && *p->health.expect != '\0'),
		    "send-expect check without expect");
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(c->pools[j].name, p->name) != 0,
			    "pool %s twice", p->name);
		for (j = 0; j < p->nservers; j++) {
			s = &p->servers[j];
			FUZZ_CHECK(s->addr.len != 0 && addr_port(&s->addr) != 0,
			    "server without an address");
			FUZZ_CHECK(s->weight >= 1 && s->weight <= 1000,
			    "weight %d", s->weight);
			FUZZ_CHECK(s->max_connections >= 0, "server max");
			FUZZ_CHECK(s->backup == 0 || s->backup == 1, "backup");
			for (k = 0; k < j; k++)
				FUZZ_CHECK(!addr_equal(&p->servers[k].addr,
				    &s->addr), "server %s twice in %s",
				    s->addr.text, p->name);
		}
	}
	for (i = 0; i < c->nlisteners; i++) {
		l = &c->listeners[i];
		FUZZ_CHECK(l->name != NULL && *l->name != '\0', "name");
		FUZZ_CHECK(l->pool >= 0 && l->pool < c->npools &&
		    strcmp(c->pools[l->pool].name, l->pool_name) == 0,
		    "listener %s pool %d", l->name, l->pool);
		FUZZ_CHECK(l->nbinds >= 1, "listener %s binds nothing",
		    l->name);
		FUZZ_CHECK(l->idle_timeout_ms >= 1, "idle timeout");
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(c->listeners[j].name, l->name) != 0,
			    "listener %s twice", l->name);
		for (j = 0; j < l->nbinds; j++) {
			FUZZ_CHECK(l->binds[j].len != 0, "unset bind");
			/* No address bound twice, across all listeners. */
			for (k = 0; k <= i; k++)
				for (m = 0; m < (k == i ? j :
				    c->listeners[k].nbinds); m++)
					FUZZ_CHECK(!addr_equal(
					    &c->listeners[k].binds[m],
					    &l->binds[j]), "bind %s twice",
					    l->binds[j].text);
		}
		for (j = 0; j < l->nallow; j++)
			FUZZ_CHECK(l->allow[j].family == AF_INET ||
			    l->allow[j].family == AF_INET6, "allow family");
		for (j = 0; j < l->ndeny; j++)
			FUZZ_CHECK(l->deny[j].family == AF_INET ||
			    l->deny[j].family == AF_INET6, "deny family");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c;
	char		*errors = NULL;

	if (memmem(data, size, "@include", 8) != NULL)
		return -1;
	fuzz_path = fuzz_file(data, size);
	c = conf_load(fuzz_path, &errors);
	FUZZ_CHECK((c == NULL) != (errors == NULL), "conf %p with errors %p",
	    (void *)c, (void *)errors);
	if (c != NULL)
		check_conf(c);
	else
		check_errors(errors, count_lines(data, size));
	conf_free(c);
	free(errors);
	return 0;
}

/*
 * check_conf.c: conf_load() against the corpus in test/unit/conf/ and
 * against generated configs at the edges of every range.
 *
 * Run from the repository root: the corpus paths are relative to it, and
 * they are the FILE part of each expected "FILE:LINE: message" line.
 */
#include <check.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

#define CONF_DIR	"test/unit/conf"
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Every file in bad/, by name; test_bad_all_listed keeps this honest. */
static const char *const bad_confs[] = {
	"bad-bind-addresses",
	"bad-cidrs",
	"bad-metrics",
	"bad-ports",
	"control-socket-long",
	"dup-bind-ipv6",
	"dup-bind-listeners",
	"dup-bind-multiline",
	"dup-listener-name",
	"dup-pool-name",
	"dup-server",
	"dup-server-ipv6",
	"empty-listeners",
	"empty-names",
	"enum-case",
	"exec-no-command",
	"exec-relative-command",
	"http-health",
	"http-status-600",
	"int-wrapped",
	"int64-out-of-range",
	"many-errors",
	"max-connections",
	"missing-listener-keys",
	"missing-pool-keys",
	"no-listeners",
	"pool-empty-servers",
	"pool-no-servers",
	"rise-fall-retries",
	"send-expect-empty",
	"send-expect-no-expect",
	"sources",
	"single-keys",
	"syntax-duplicate-setting",
	"syntax-error",
	"timeouts",
	"type-aggregates",
	"type-bool",
	"type-float-for-int",
	"type-string",
	"type-string-for-int",
	"unknown-enums",
	"unknown-key-listener",
	"unknown-key-top",
	"unknown-keys-everywhere",
	"unknown-pool",
	"value-newline",
	"weights",
	"workers",
	"workers-negative",
};

/* Reads <path> whole into a new NUL-terminated string. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 len;

	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: cannot open (run from the repo root)",
	    path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

/* What conf_global resolves workers = 0 to. */
static int
nproc(void)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

static struct conf *
load_good(const char *name)
{
	char		 path[256];
	char		*errors = (char *)"unset";
	struct conf	*conf;

	snprintf(path, sizeof(path), CONF_DIR "/good/%s.conf", name);
	conf = conf_load(path, &errors);
	ck_assert_msg(conf != NULL, "%s:\n%s", path, errors);
	ck_assert_ptr_null(errors);
	ck_assert_str_eq(conf->path, path);
	return conf;
}

START_TEST(test_bad)
{
	const char	*name = bad_confs[_i];
	char		 path[256], errpath[256];
	char		*errors = NULL, *want;
	struct conf	*conf;

	snprintf(path, sizeof(path), CONF_DIR "/bad/%s.conf", name);
	snprintf(errpath, sizeof(errpath), CONF_DIR "/bad/%s.err", name);
	want = slurp(errpath);
	conf = conf_load(path, &errors);
	ck_assert_msg(conf == NULL, "%s: loaded, expected:\n%s", path, want);
	ck_assert_ptr_nonnull(errors);
	ck_assert_msg(strcmp(errors, want) == 0, "%s:\ngot:\n%swant:\n%s",
	    path, errors, want);
	free(errors);
	free(want);
}
END_TEST

/* A new file in bad/ that nobody listed would never run. */
START_TEST(test_bad_all_listed)
{
	glob_t	 g;
	size_t	 i, j;
	char	 name[256], err[300];

	ck_assert_int_eq(glob(CONF_DIR "/bad/*.conf", 0, NULL, &g), 0);
	ck_assert_uint_eq(g.gl_pathc, nitems(bad_confs));
	for (i = 0; i < g.gl_pathc; i++) {
		snprintf(name, sizeof(name), "%s",
		    g.gl_pathv[i] + strlen(CONF_DIR "/bad/"));
		name[strlen(name) - strlen(".conf")] = '\0';
		for (j = 0; j < nitems(bad_confs); j++)
			if (strcmp(bad_confs[j], name) == 0)
				break;
		ck_assert_msg(j < nitems(bad_confs), "%s not listed", name);
		snprintf(err, sizeof(err), CONF_DIR "/bad/%s.err", name);
		ck_assert_msg(access(err, R_OK) == 0, "%s missing", err);
	}
	globfree(&g);
}
END_TEST

static void
check_minimal(struct conf *c)
{
	struct conf_listener	*l = &c->listeners[0];
	struct conf_pool	*p = &c->pools[0];

	ck_assert_int_eq(c->global.workers, nproc());
	ck_assert_int_eq(c->global.max_connections, 100000);
	ck_assert_ptr_null(c->global.user);
	ck_assert_ptr_null(c->global.group);
	ck_assert_str_eq(c->global.control_socket, "/run/lb4/lb4.sock");
	ck_assert_str_eq(c->global.health_file, "/run/lb4/health");
	ck_assert_int_eq(c->global.metrics.len, 0);
	ck_assert_int_eq(c->global.shutdown_timeout_ms, 30000);
	ck_assert_int_eq(c->global.log_level, LOG_LEVEL_INFO);
	ck_assert_int_eq(c->global.splice, 1);

	ck_assert_int_eq(c->nlisteners, 1);
	ck_assert_str_eq(l->name, "web");
	ck_assert_int_eq(l->nbinds, 1);
	ck_assert_str_eq(l->binds[0].text, "127.0.0.1:8080");
	ck_assert_int_eq(l->binds[0].ss.ss_family, AF_INET);
	ck_assert_uint_eq(addr_port(&l->binds[0]), 8080);
	ck_assert_str_eq(l->pool_name, "web");
	ck_assert_int_eq(l->pool, 0);
	ck_assert_int_eq(l->idle_timeout_ms, 600000);
	ck_assert_int_eq(l->nallow, 0);
	ck_assert_int_eq(l->ndeny, 0);
	ck_assert_int_eq(l->line, 2);

	ck_assert_int_eq(c->npools, 1);
	ck_assert_str_eq(p->name, "web");
	ck_assert_int_eq(p->send_proxy, SEND_PROXY_NONE);
	ck_assert_int_eq(p->connect_timeout_ms, 3000);
	ck_assert_int_eq(p->retries, 2);
	ck_assert_int_eq(p->health.type, HEALTH_NONE);
	ck_assert_int_eq(p->health.interval_ms, 2000);
	ck_assert_int_eq(p->health.timeout_ms, 1000);
	ck_assert_int_eq(p->health.rise, 2);
	ck_assert_int_eq(p->health.fall, 3);
	ck_assert_str_eq(p->health.path, "/");
	ck_assert_int_eq(p->health.status, 200);
	ck_assert_int_eq(p->health.port, 0);
	ck_assert_ptr_null(p->health.send);
	ck_assert_ptr_null(p->health.expect);
	ck_assert_ptr_null(p->health.command);
	ck_assert_int_eq(p->line, 3);
	ck_assert_int_eq(p->nservers, 1);
	ck_assert_str_eq(p->servers[0].addr.text, "127.0.0.1:9001");
	ck_assert_int_eq(p->servers[0].weight, 1);
	ck_assert_int_eq(p->servers[0].backup, 0);
	ck_assert_int_eq(p->servers[0].max_connections, 0);
	ck_assert_int_eq(p->servers[0].line, 3);
	ck_assert_ptr_eq(conf_pool_find(c, "web"), p);
	ck_assert_ptr_null(conf_pool_find(c, "api"));
}

static void
check_spec(struct conf *c)
{
	struct conf_listener	*l = &c->listeners[0];
	struct conf_pool	*p = &c->pools[0];
	static const int	 weights[] = { 5, 1, 1 };
	static const int	 maxconns[] = { 0, 500, 0 };
	static const int	 backups[] = { 0, 0, 1 };
	int			 i;

	ck_assert_int_eq(c->global.workers, nproc());
	ck_assert_str_eq(c->global.user, "lb4");
	ck_assert_str_eq(c->global.group, "lb4");
	ck_assert_str_eq(c->global.metrics.text, "127.0.0.1:9404");
	ck_assert_uint_eq(addr_port(&c->global.metrics), 9404);
	ck_assert_int_eq(c->nlisteners, 1);
	ck_assert_int_eq(l->nbinds, 3);
	ck_assert_str_eq(l->binds[2].text, "[::]:80");
	ck_assert_int_eq(l->binds[2].ss.ss_family, AF_INET6);
	ck_assert_int_eq(l->nallow, 2);
	ck_assert_int_eq(l->allow[0].family, AF_INET);
	ck_assert_int_eq(l->allow[0].prefix, 0);
	ck_assert_int_eq(l->allow[1].family, AF_INET6);
	ck_assert_int_eq(l->allow[1].prefix, 0);
	ck_assert_int_eq(l->ndeny, 0);
	ck_assert_int_eq(l->idle_timeout_ms, 600000);
	ck_assert_int_eq(p->health.type, HEALTH_TCP);
	ck_assert_int_eq(p->health.rise, 2);
	ck_assert_int_eq(p->health.fall, 3);
	ck_assert_int_eq(p->nservers, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(p->servers[i].weight, weights[i]);
		ck_assert_int_eq(p->servers[i].max_connections, maxconns[i]);
		ck_assert_int_eq(p->servers[i].backup, backups[i]);
	}
}

static void
check_ipv6(struct conf *c)
{
	struct conf_listener	*l = &c->listeners[0];
	struct conf_pool	*p = &c->pools[0];

	ck_assert_int_eq(c->global.metrics.ss.ss_family, AF_INET6);
	ck_assert_uint_eq(addr_port(&c->global.metrics), 9404);
	ck_assert_int_eq(l->nbinds, 3);
	ck_assert_int_eq(l->binds[0].ss.ss_family, AF_INET6);
	ck_assert_int_eq(l->binds[1].ss.ss_family, AF_INET6);
	ck_assert_int_eq(l->binds[2].ss.ss_family, AF_INET);
	ck_assert_uint_eq(addr_port(&l->binds[1]), 443);
	ck_assert_int_eq(l->nallow, 3);
	ck_assert_int_eq(l->allow[0].prefix, 32);
	ck_assert_int_eq(l->allow[1].prefix, 128);
	ck_assert_int_eq(l->allow[2].family, AF_INET6);
	ck_assert_int_eq(l->allow[2].prefix, 104);
	ck_assert_int_eq(l->ndeny, 2);
	ck_assert_int_eq(l->deny[0].prefix, 48);
	ck_assert_int_eq(l->deny[1].family, AF_INET);
	ck_assert_int_eq(p->nservers, 3);
	ck_assert_int_eq(p->servers[1].weight, 1000);
	ck_assert_str_eq(p->servers[2].addr.text, "[::ffff:192.0.2.1]:9001");
	ck_assert_int_eq(p->servers[2].addr.ss.ss_family, AF_INET6);
}

static void
check_health(struct conf *c)
{
	static const enum health_type types[] = { HEALTH_NONE, HEALTH_TCP,
	    HEALTH_SEND_EXPECT, HEALTH_HTTP, HEALTH_EXEC };
	struct conf_health	*h;
	int			 i;

	ck_assert_int_eq(c->npools, 5);
	ck_assert_int_eq(c->nlisteners, 5);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(c->pools[i].health.type, types[i]);
		ck_assert_int_eq(c->listeners[i].pool, i);
	}
	ck_assert_int_eq(c->pools[1].health.port, 7000);
	ck_assert_int_eq(c->pools[1].health.interval_ms, 2000);

	h = &c->pools[2].health;
	ck_assert_str_eq(h->send, "PING\r\n");
	ck_assert_str_eq(h->expect, "+PONG");
	ck_assert_int_eq(h->interval_ms, 500);
	ck_assert_int_eq(h->timeout_ms, 250);
	ck_assert_int_eq(h->rise, 1);
	ck_assert_int_eq(h->fall, 1);

	h = &c->pools[3].health;
	ck_assert_str_eq(h->path, "/primary");
	ck_assert_int_eq(h->status, 200);
	ck_assert_int_eq(h->port, 8008);
	ck_assert_int_eq(c->pools[3].nservers, 2);

	h = &c->pools[4].health;
	ck_assert_str_eq(h->command, "/usr/local/bin/check-app");
	ck_assert_int_eq(h->timeout_ms, 5000);
	ck_assert_int_eq(h->interval_ms, 10000);
	ck_assert_int_eq(h->rise, 2);
}

static void
check_defaults(struct conf *c)
{
	struct conf_global	*g = &c->global;
	struct conf_pool	*p;

	ck_assert_int_eq(g->workers, 3);
	ck_assert_int_eq(g->max_connections, 1);
	ck_assert_str_eq(g->user, "nobody");
	ck_assert_str_eq(g->group, "nogroup");
	ck_assert_ptr_null(g->control_socket);
	ck_assert_str_eq(g->health_file, "/tmp/lb4-health");
	ck_assert_int_eq(g->metrics.len, 0);
	ck_assert_int_eq(g->shutdown_timeout_ms, 5000);
	ck_assert_int_eq(g->log_level, LOG_LEVEL_DEBUG);
	ck_assert_int_eq(g->splice, 0);

	ck_assert_int_eq(c->listeners[0].idle_timeout_ms, 60000);
	ck_assert_int_eq(c->listeners[1].idle_timeout_ms, 5);
	p = &c->pools[0];
	ck_assert_int_eq(p->connect_timeout_ms, 1500);
	ck_assert_int_eq(p->retries, 0);
	ck_assert_int_eq(p->send_proxy, SEND_PROXY_NONE);
	p = &c->pools[1];
	ck_assert_int_eq(p->connect_timeout_ms, 250);
	ck_assert_int_eq(p->retries, 5);
	ck_assert_int_eq(p->send_proxy, SEND_PROXY_V2);
	ck_assert_int_eq(p->servers[0].weight, 1);
	ck_assert_int_eq(p->servers[1].weight, 16);
	ck_assert_int_eq(p->servers[1].max_connections, INT_MAX);
	ck_assert_int_eq(p->servers[2].backup, 1);
	ck_assert_int_eq(p->servers[2].max_connections, 0);
}

static void
check_tricky(struct conf *c)
{
	ck_assert_int_eq(c->global.workers, nproc());
	ck_assert_int_eq(c->global.log_level, LOG_LEVEL_ERROR);
	ck_assert_str_eq(c->pools[0].name, "b");
	ck_assert_str_eq(c->pools[1].name, "a");
	ck_assert_int_eq(c->listeners[0].pool, 1);
	ck_assert_int_eq(c->listeners[1].pool, 0);
	ck_assert_int_eq(c->listeners[1].nbinds, 2);
	ck_assert_int_eq(c->pools[0].send_proxy, SEND_PROXY_V1);
	ck_assert_str_eq(c->pools[0].health.send,
	    "SET k 99999999999 4294967297\r\n");
	ck_assert_str_eq(c->pools[0].health.expect, "OK");
}

static void
check_sources(struct conf *c)
{
	struct conf_pool	*p = &c->pools[0];
	static const char *const text[] = { "192.0.2.1", "192.0.2.2",
	    "2001:db8::1", "[2001:db8::2]" };
	static const int fam[] = { AF_INET, AF_INET, AF_INET6, AF_INET6 };
	int			 i;

	ck_assert_int_eq(p->nsources, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(p->sources[i].text, text[i]);
		ck_assert_int_eq(p->sources[i].ss.ss_family, fam[i]);
		/* Port 0: the kernel picks it at connect() (NO_PORT). */
		ck_assert_int_eq(addr_port(&p->sources[i]), 0);
	}
	ck_assert_int_eq(p->sources[0].len, sizeof(struct sockaddr_in));
	ck_assert_int_eq(p->sources[3].len, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(c->pools[1].nsources, 0);
	ck_assert_ptr_null(c->pools[1].sources);
}

static void
check_single(struct conf *c)
{
	struct conf_pool	*w = &c->pools[0], *r = &c->pools[1];

	ck_assert_int_eq(c->listeners[0].keepalive.idle_s, 30);
	ck_assert_int_eq(c->listeners[0].keepalive.interval_s, 10);
	ck_assert_int_eq(c->listeners[0].keepalive.count, 6);
	ck_assert_int_eq(c->listeners[1].keepalive.idle_s, 0);
	ck_assert_int_eq(w->mode, POOL_MODE_SINGLE);
	ck_assert_int_eq(w->on_server_down, ON_DOWN_RESET);
	ck_assert_int_eq(w->keepalive.idle_s, 5);
	ck_assert_int_eq(w->keepalive.interval_s, 2);
	ck_assert_int_eq(w->keepalive.count, 3);
	ck_assert_int_eq(w->health.port, 8008);
	ck_assert_int_eq(w->servers[0].health_port, 8009);
	ck_assert_int_eq(w->servers[1].health_port, 0);
	ck_assert_int_eq(w->servers[2].health_port, 65535);
	ck_assert_int_eq(w->servers[2].backup, 1);
	ck_assert_int_eq(r->mode, POOL_MODE_WRR);
	ck_assert_int_eq(r->on_server_down, ON_DOWN_KEEP);
	ck_assert_int_eq(r->keepalive.idle_s, 0);
	ck_assert_int_eq(r->servers[0].health_port, 8010);
}

static const struct {
	const char	*name;
	void		(*check)(struct conf *);
} good_confs[] = {
	{ "minimal", check_minimal },
	{ "spec", check_spec },
	{ "ipv6", check_ipv6 },
	{ "health", check_health },
	{ "defaults", check_defaults },
	{ "tricky", check_tricky },
	{ "sources", check_sources },
	{ "single", check_single },
};

START_TEST(test_good)
{
	struct conf	*conf = load_good(good_confs[_i].name);

	good_confs[_i].check(conf);
	conf_free(conf);
}
END_TEST

/* The shipped examples are valid, and the Patroni one says what it means. */
START_TEST(test_examples)
{
	static const char *const paths[] = { "etc/lb4.conf",
	    "etc/lb4-pair.conf", "etc/lb4-patroni.conf" };
	struct conf	*c;
	char		*errors = NULL;
	size_t		 i;

	for (i = 0; i < nitems(paths); i++) {
		c = conf_load(paths[i], &errors);
		ck_assert_msg(c != NULL, "%s:\n%s", paths[i], errors);
		if (i == 2) {
			ck_assert_int_eq(c->pools[0].mode, POOL_MODE_SINGLE);
			ck_assert_int_eq(c->pools[0].on_server_down,
			    ON_DOWN_RESET);
			ck_assert_str_eq(c->pools[0].health.path, "/primary");
			ck_assert_str_eq(c->pools[1].health.path, "/replica");
			ck_assert_int_eq(c->pools[1].mode, POOL_MODE_WRR);
			ck_assert_int_eq(c->pools[1].on_server_down,
			    ON_DOWN_RESET);
			ck_assert_int_eq(c->pools[0].keepalive.idle_s, 60);
			ck_assert_int_eq(c->listeners[0].keepalive.count, 6);
		}
		conf_free(c);
	}
}
END_TEST

START_TEST(test_missing_file)
{
	char	*errors = NULL;

	ck_assert_ptr_null(conf_load(CONF_DIR "/nonexistent.conf", &errors));
	ck_assert_str_eq(errors, CONF_DIR "/nonexistent.conf: cannot read: "
	    "No such file or directory\n");
	free(errors);
	ck_assert_ptr_null(conf_load(CONF_DIR, &errors));
	ck_assert_str_eq(errors, CONF_DIR ": cannot read: Is a directory\n");
	free(errors);
}
END_TEST

START_TEST(test_free_null)
{
	conf_free(NULL);
}
END_TEST

/* A health block with every string set, as health checks copy it. */
static struct conf_health
health_sample(void)
{
	struct conf_health	h = {
		.type = HEALTH_SEND_EXPECT, .interval_ms = 2000,
		.timeout_ms = 1000, .rise = 2, .fall = 3, .status = 200,
		.port = 8008, .send = (char *)"PING\r\n",
		.expect = (char *)"+PONG", .path = (char *)"/",
		.command = (char *)"/bin/true",
	};

	return h;
}

/* conf_health_copy(): deep (no string shared), equal, freed to NULLs. */
START_TEST(test_health_copy)
{
	struct conf_health	from = health_sample(), to;

	ck_assert_int_eq(conf_health_copy(&to, &from), 0);
	ck_assert_int_eq(conf_health_equal(&to, &from), 1);
	ck_assert_ptr_ne(to.send, from.send);
	ck_assert_ptr_ne(to.expect, from.expect);
	ck_assert_ptr_ne(to.path, from.path);
	ck_assert_ptr_ne(to.command, from.command);
	ck_assert_str_eq(to.expect, "+PONG");
	ck_assert_int_eq(to.port, 8008);
	conf_health_free(&to);
	ck_assert_ptr_null(to.send);
	ck_assert_ptr_null(to.expect);
	ck_assert_ptr_null(to.path);
	ck_assert_ptr_null(to.command);
	/* NULL strings stay NULL, and still compare equal. */
	from.send = from.command = NULL;
	ck_assert_int_eq(conf_health_copy(&to, &from), 0);
	ck_assert_ptr_null(to.send);
	ck_assert_ptr_null(to.command);
	ck_assert_int_eq(conf_health_equal(&to, &from), 1);
	conf_health_free(&to);
}
END_TEST

/* conf_health_equal(): each field changed alone makes a new check. */
static void
health_change(struct conf_health *h, int which)
{
	switch (which) {
	case 0: h->type = HEALTH_HTTP; break;
	case 1: h->interval_ms = 2001; break;
	case 2: h->timeout_ms = 999; break;
	case 3: h->rise = 1; break;
	case 4: h->fall = 4; break;
	case 5: h->status = 204; break;
	case 6: h->port = 0; break;
	case 7: h->send = (char *)"PING\n"; break;
	case 8: h->send = NULL; break;
	case 9: h->expect = (char *)"+PONG "; break;
	case 10: h->path = (char *)"/health"; break;
	case 11: h->command = NULL; break;
	case 12: h->command = (char *)"/bin/false"; break;
	}
}
#define HEALTH_CHANGES	13

START_TEST(test_health_equal)
{
	struct conf_health	a = health_sample(), b = health_sample();

	ck_assert_int_eq(conf_health_equal(&a, &b), 1);
	health_change(&b, _i);
	ck_assert_msg(!conf_health_equal(&a, &b), "change %d unseen", _i);
	ck_assert_msg(!conf_health_equal(&b, &a), "change %d unseen", _i);
}
END_TEST

/*
 * Limits: one setting at a time, dropped into a template at a known line.
 * <where> is the line of the template it goes to; <err> the message
 * expected on that line, or NULL when the value is accepted.
 */
enum { IN_GLOBAL = 1, IN_DEFAULTS, IN_LISTENER, IN_POOL, IN_HEALTH, IN_SERVER };

static const char conf_template[] =
    "global = { %s };\n"
    "defaults = { %s };\n"
    "listeners = ( { name = \"l\"; bind = [ \"127.0.0.1:1\" ];"
    " pool = \"p\"; %s } );\n"
    "pools = ( { name = \"p\"; %s\n"
    "  health = { type = \"http\"; %s };\n"
    "  servers = ( { address = \"127.0.0.1:2\"; %s } ); } );\n";

static const struct {
	int		 where;
	const char	*setting;
	const char	*err;
} limits[] = {
	{ IN_GLOBAL, "workers = 0;", NULL },
	{ IN_GLOBAL, "workers = 256;", NULL },
	{ IN_GLOBAL, "workers = 257;", "workers must be between 0 and 256" },
	{ IN_GLOBAL, "workers = -1;", "workers must be between 0 and 256" },
	{ IN_GLOBAL, "max_connections = 1;", NULL },
	{ IN_GLOBAL, "max_connections = 0;",
	    "max_connections must be at least 1" },
	{ IN_GLOBAL, "shutdown_timeout_ms = 1;", NULL },
	{ IN_GLOBAL, "shutdown_timeout_ms = 0;",
	    "shutdown_timeout_ms must be at least 1" },
	{ IN_GLOBAL, "metrics = \"127.0.0.1:65535\";", NULL },
	{ IN_GLOBAL, "metrics = \"127.0.0.1:65536\";",
	    "bad metrics '127.0.0.1:65536': port out of range 1..65535" },
	{ IN_GLOBAL, "splice = false;", NULL },
	{ IN_GLOBAL, "splice = 0;", "'splice' must be a boolean" },
	{ IN_DEFAULTS, "retries = 0;", NULL },
	{ IN_DEFAULTS, "retries = -1;", "retries must not be negative" },
	{ IN_DEFAULTS, "connect_timeout_ms = 1;", NULL },
	{ IN_DEFAULTS, "connect_timeout_ms = 0;",
	    "connect_timeout_ms must be at least 1" },
	{ IN_DEFAULTS, "idle_timeout_ms = 2147483647;", NULL },
	{ IN_DEFAULTS, "idle_timeout_ms = 2147483648;",
	    "integer 2147483648 is out of range" },
	{ IN_DEFAULTS, "idle_timeout_ms = 2147483648L;",
	    "idle_timeout_ms must be at most 2147483647" },
	{ IN_DEFAULTS, "idle_timeout_ms = 0x7fffffff;", NULL },
	{ IN_DEFAULTS, "idle_timeout_ms = 0x80000000;",
	    "integer 0x80000000 is out of range" },
	{ IN_LISTENER, "idle_timeout_ms = 1;", NULL },
	{ IN_LISTENER, "log = true;", NULL },
	{ IN_LISTENER, "log = 1;", "'log' must be a boolean" },
	{ IN_GLOBAL, "log_connections = true;", NULL },
	{ IN_GLOBAL, "log_format = \"json\";", NULL },
	{ IN_GLOBAL, "log_format = \"text\";", NULL },
	{ IN_GLOBAL, "log_format = \"xml\";",
	    "unknown log_format 'xml' (text or json)" },
	{ IN_LISTENER, "idle_timeout_ms = 0;",
	    "idle_timeout_ms must be at least 1" },
	{ IN_LISTENER, "allow = [ \"0.0.0.0/0\" ];", NULL },
	{ IN_LISTENER, "deny = [ \"1.2.3.4/32\" ];", NULL },
	{ IN_LISTENER, "deny = [ \"1.2.3.4/33\" ];",
	    "bad deny '1.2.3.4/33': prefix out of range 0..32" },
	{ IN_POOL, "retries = 0;", NULL },
	{ IN_POOL, "retries = -1;", "retries must not be negative" },
	{ IN_POOL, "send_proxy = \"v1\";", NULL },
	{ IN_POOL, "mode = \"single\";", NULL },
	{ IN_POOL, "mode = \"wrr\";", NULL },
	{ IN_POOL, "mode = \"Single\";",
	    "unknown mode 'Single' (wrr or single)" },
	{ IN_POOL, "on_server_down = \"reset\";", NULL },
	{ IN_POOL, "on_server_down = 1;", "'on_server_down' must be a string" },
	{ IN_DEFAULTS, "on_server_down = \"keep\";", NULL },
	{ IN_DEFAULTS, "on_server_down = \"\";",
	    "unknown on_server_down '' (keep or reset)" },
	{ IN_POOL, "tcp_keepalive = { };", NULL },
	{ IN_POOL, "tcp_keepalive = { idle_s = 32767; interval_s = 1; "
	    "count = 127; };", NULL },
	{ IN_POOL, "tcp_keepalive = { count = 0; };",
	    "count must be between 1 and 127" },
	{ IN_LISTENER, "tcp_keepalive = { idle_s = 1; interval_s = 32767; "
	    "count = 1; };", NULL },
	{ IN_LISTENER, "tcp_keepalive = { idle_s = 32768; };",
	    "idle_s must be between 1 and 32767" },
	{ IN_LISTENER, "tcp_keepalive = [ 1 ];",
	    "'tcp_keepalive' must be a group" },
	{ IN_POOL, "send_proxy = \"\";",
	    "unknown send_proxy '' (none, v1 or v2)" },
	{ IN_HEALTH, "status = 100;", NULL },
	{ IN_HEALTH, "status = 599;", NULL },
	{ IN_HEALTH, "status = 99;", "status must be between 100 and 599" },
	{ IN_HEALTH, "status = 600;", "status must be between 100 and 599" },
	{ IN_HEALTH, "port = 0;", NULL },
	{ IN_HEALTH, "port = 65535;", NULL },
	{ IN_HEALTH, "port = 65536;", "port must be between 0 and 65535" },
	{ IN_HEALTH, "port = -1;", "port must be between 0 and 65535" },
	{ IN_HEALTH, "rise = 1; fall = 1;", NULL },
	{ IN_HEALTH, "rise = 0;", "rise must be at least 1" },
	{ IN_HEALTH, "fall = 0;", "fall must be at least 1" },
	{ IN_HEALTH, "interval_ms = 1; timeout_ms = 1;", NULL },
	{ IN_HEALTH, "interval_ms = 0;", "interval_ms must be at least 1" },
	{ IN_HEALTH, "timeout_ms = 0;", "timeout_ms must be at least 1" },
	{ IN_HEALTH, "path = \"/\";", NULL },
	{ IN_HEALTH, "path = \"\";", "path must start with '/'" },
	{ IN_SERVER, "weight = 1;", NULL },
	{ IN_SERVER, "weight = 1000;", NULL },
	{ IN_SERVER, "weight = 1000L;", NULL },
	{ IN_SERVER, "weight = 0;", "weight must be between 1 and 1000" },
	{ IN_SERVER, "weight = 1001;", "weight must be between 1 and 1000" },
	{ IN_SERVER, "weight = -2147483648;",
	    "weight must be between 1 and 1000" },
	{ IN_SERVER, "weight = 1e3;", "'weight' must be an integer" },
	{ IN_SERVER, "weight = 4294967297;",
	    "integer 4294967297 is out of range" },
	{ IN_SERVER, "max_connections = 0;", NULL },
	{ IN_SERVER, "max_connections = -1;",
	    "max_connections must not be negative" },
	{ IN_SERVER, "backup = true;", NULL },
	{ IN_SERVER, "health_port = 1;", NULL },
	{ IN_SERVER, "health_port = 65535;", NULL },
	{ IN_SERVER, "health_port = 0;",
	    "health_port must be between 1 and 65535" },
	{ IN_SERVER, "health_port = 65536;",
	    "health_port must be between 1 and 65535" },
	{ IN_SERVER, "backup = \"true\";", "'backup' must be a boolean" },
};

START_TEST(test_limits)
{
	char		 path[] = "/tmp/check_conf.XXXXXX", want[512];
	const char	*s[IN_SERVER + 1] = { 0 };
	char		*errors = NULL;
	struct conf	*conf;
	FILE		*f;
	int		 fd, i;

	for (i = IN_GLOBAL; i <= IN_SERVER; i++)
		s[i] = i == limits[_i].where ? limits[_i].setting : "";
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	fprintf(f, conf_template, s[IN_GLOBAL], s[IN_DEFAULTS],
	    s[IN_LISTENER], s[IN_POOL], s[IN_HEALTH], s[IN_SERVER]);
	fclose(f);
	conf = conf_load(path, &errors);
	unlink(path);
	if (limits[_i].err == NULL) {
		ck_assert_msg(conf != NULL, "%s: %s", limits[_i].setting,
		    errors);
		conf_free(conf);
		return;
	}
	snprintf(want, sizeof(want), "%s:%d: %s\n", path, limits[_i].where,
	    limits[_i].err);
	ck_assert_msg(conf == NULL, "%s: accepted", limits[_i].setting);
	ck_assert_str_eq(errors, want);
	free(errors);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("core");
	tcase_add_loop_test(tc, test_good, 0, nitems(good_confs));
	tcase_add_loop_test(tc, test_bad, 0, nitems(bad_confs));
	tcase_add_test(tc, test_bad_all_listed);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_examples);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_health_copy);
	tcase_add_loop_test(tc, test_health_equal, 0, HEALTH_CHANGES);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_loop_test(tc, test_limits, 0, nitems(limits));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(conf_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

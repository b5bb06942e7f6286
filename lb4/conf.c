/*
 * conf.c: the libconfig file (lb4.conf(5)) to a plain struct conf.
 *
 * Every check runs even after one fails, and every problem is kept as
 * "FILE:LINE: message", so that `lb4 -t` shows the whole list at once.
 * libconfig is only used inside conf_load(): every string is copied out and
 * the config_t destroyed before returning.
 *
 * libconfig is lenient where lb4 must not be: its lookup helpers convert
 * between int, int64, float and bool, so every value here is read by its
 * exact type with config_setting_type() instead.  Where libconfig 1.5 is
 * wrong (ints it wraps, string lines it misplaces), confscan.c finds the
 * truth in the text again.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "confscan.h"
#include "log.h"

#define CONF_FILE_MAX		(16L * 1024 * 1024)
#define CONF_SUN_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)

struct conf_err {
	unsigned	 line;
	int		 seq;		/* keeps equal lines in report order */
	char		*text;		/* "FILE:LINE: message" */
};

/* A bind already seen, to find the same address bound twice. */
struct conf_seen {
	const struct addr *addr;
	unsigned	 line;
};

struct conf_ctx {
	jmp_buf		 nomem;		/* conf_nomem() jumps back here */
	config_t	 cfg;
	int		 cfg_live;	/* cfg needs config_destroy() */
	const char	*path;
	const char	*text;		/* the main file, while parsing */
	struct conf	*conf;
	struct conf_err	*errs;
	int		 nerrs;
	unsigned	*wrapped;	/* lines of ints libconfig wrapped */
	int		 nwrapped;
	struct conf_seen *binds;
	int		 nbinds;
	/* The defaults group, inherited by listeners and pools. */
	int		 connect_timeout_ms;
	int		 idle_timeout_ms;
	int		 retries;
	enum on_server_down on_server_down;
};

static const char *const conf_top_keys[] = {
	"global", "defaults", "listeners", "pools", NULL
};
static const char *const conf_global_keys[] = {
	"workers", "max_connections", "user", "group", "control_socket",
	"health_file", "metrics", "shutdown_timeout_ms", "log_level",
	"splice", "log_connections", "log_format", NULL
};
static const char *const conf_defaults_keys[] = {
	"connect_timeout_ms", "idle_timeout_ms", "retries", "on_server_down",
	NULL
};
static const char *const conf_listener_keys[] = {
	"name", "bind", "pool", "allow", "deny", "idle_timeout_ms", "log",
	"tcp_keepalive", NULL
};
static const char *const conf_pool_keys[] = {
	"name", "send_proxy", "connect_timeout_ms", "retries", "health",
	"servers", "source", "mode", "on_server_down", "tcp_keepalive", NULL
};
static const char *const conf_health_keys[] = {
	"type", "interval_ms", "timeout_ms", "rise", "fall", "send", "expect",
	"path", "status", "port", "command", NULL
};
static const char *const conf_server_keys[] = {
	"address", "weight", "backup", "max_connections", "health_port", NULL
};
static const char *const conf_keepalive_keys[] = {
	"idle_s", "interval_s", "count", NULL
};

/* Enum names, indexed by value; NULL-terminated. */
static const char *const conf_health_types[] = {
	[HEALTH_NONE] = "", [HEALTH_TCP] = "tcp",
	[HEALTH_SEND_EXPECT] = "send-expect", [HEALTH_HTTP] = "http",
	[HEALTH_EXEC] = "exec", NULL
};
static const char *const conf_send_proxies[] = {
	[SEND_PROXY_NONE] = "none", [SEND_PROXY_V1] = "v1",
	[SEND_PROXY_V2] = "v2", NULL
};
static const char *const conf_pool_modes[] = {
	[POOL_MODE_WRR] = "wrr", [POOL_MODE_SINGLE] = "single", NULL
};
static const char *const conf_on_downs[] = {
	[ON_DOWN_KEEP] = "keep", [ON_DOWN_RESET] = "reset", NULL
};

/*
 * Allocation failures while loading a config are not config errors: the
 * load is abandoned (conf_load() returns "out of memory"), so a reload
 * fails and the running config stays; lb4 itself is not killed.  Loading
 * happens on the main thread only, one file at a time.
 */
static struct conf_ctx	*conf_loading;

static void __attribute__((noreturn))
conf_nomem(void)
{
	if (conf_loading != NULL)
		longjmp(conf_loading->nomem, 1);
	fatalx(2, "out of memory");
}

static void *
conf_calloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size)) == NULL)
		conf_nomem();
	return p;
}

static char *
conf_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		conf_nomem();
	return p;
}

/* reallocarray() that keeps <p> on failure (it is freed with the ctx). */
static void *
conf_grow(void *p, size_t n, size_t size)
{
	void	*q;

	if ((q = reallocarray(p, n, size)) == NULL)
		conf_nomem();
	return q;
}

/*
 * A copy of <msg> with each control character spelled \n, \t, \r or \xHH.
 * Messages quote values from the file, and a string may hold a newline:
 * an error stays one line, and no value can pass for another error line.
 */
static char *
conf_escape(const char *msg)
{
	const unsigned char	*p;
	char			*out, *q;

	out = q = conf_calloc(strlen(msg) * 4 + 1, 1);
	for (p = (const unsigned char *)msg; *p != '\0'; p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			*q++ = (char)*p;
			continue;
		}
		*q++ = '\\';
		if (*p == '\n')
			*q++ = 'n';
		else if (*p == '\t')
			*q++ = 't';
		else if (*p == '\r')
			*q++ = 'r';
		else
			q += sprintf(q, "x%02x", *p);
	}
	*q = '\0';
	return out;
}

/* Records one problem at <file>:<line>. */
static void
conf_verror(struct conf_ctx *ctx, const char *file, unsigned line,
    const char *fmt, va_list ap)
{
	struct conf_err	*e;
	char		*raw, *msg;

	if (vasprintf(&raw, fmt, ap) == -1)
		conf_nomem();
	msg = conf_escape(raw);
	free(raw);
	ctx->errs = conf_grow(ctx->errs, (size_t)ctx->nerrs + 1,
	    sizeof(*ctx->errs));
	e = &ctx->errs[ctx->nerrs];
	e->line = line;
	e->seq = ctx->nerrs++;
	/* Line 0: the file itself, e.g. it cannot be read. */
	if ((line != 0 ? asprintf(&e->text, "%s:%u: %s", file, line, msg) :
	    asprintf(&e->text, "%s: %s", file, msg)) == -1) {
		free(msg);
		conf_nomem();
	}
	free(msg);
}

static void __attribute__((format(printf, 4, 5)))
conf_error_at(struct conf_ctx *ctx, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verror(ctx, file, line, fmt, ap);
	va_end(ap);
}

/* The line of setting <s> (confscan.c repairs libconfig's). */
static unsigned
conf_line(const struct conf_ctx *ctx, const config_setting_t *s)
{
	return confscan_line(ctx->text, s);
}

/* Records one problem at the line of setting <s>. */
static void __attribute__((format(printf, 3, 4)))
conf_error(struct conf_ctx *ctx, const config_setting_t *s,
    const char *fmt, ...)
{
	const char	*file = config_setting_source_file(s);
	va_list		 ap;

	va_start(ap, fmt);
	conf_verror(ctx, file != NULL ? file : ctx->path, conf_line(ctx, s),
	    fmt, ap);
	va_end(ap);
}

/* Reports each member of group <g> whose name is not in <keys>. */
static void
conf_check_keys(struct conf_ctx *ctx, const config_setting_t *g,
    const char *const *keys, const char *where)
{
	const config_setting_t	*s;
	const char *const	*k;
	int			 i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		for (k = keys; *k != NULL; k++)
			if (strcmp(*k, config_setting_name(s)) == 0)
				break;
		if (*k == NULL)
			conf_error(ctx, s, "unknown key '%s' %s",
			    config_setting_name(s), where);
	}
}

/* confscan_ints() found a literal libconfig wrapped: report it, once. */
static void
conf_wrapped_int(void *arg, unsigned line, const char *lit, int len)
{
	struct conf_ctx	*ctx = arg;

	conf_error_at(ctx, ctx->path, line, "integer %.*s is out of range",
	    len, lit);
	ctx->wrapped = conf_grow(ctx->wrapped, (size_t)ctx->nwrapped + 1,
	    sizeof(*ctx->wrapped));
	ctx->wrapped[ctx->nwrapped++] = line;
}

/*
 * 1 when setting <s> is on a line where conf_wrapped_int() already
 * reported an integer libconfig wrapped: its value is meaningless, say
 * nothing more.
 */
static int
conf_wrapped(const struct conf_ctx *ctx, const config_setting_t *s)
{
	int	 i;

	/* Only the main file is scanned; included files name themselves. */
	if (config_setting_source_file(s) != NULL)
		return 0;
	for (i = 0; i < ctx->nwrapped; i++)
		if (ctx->wrapped[i] == conf_line(ctx, s))
			return 1;
	return 0;
}

/*
 * Reports <v>, the value of <s>, outside <min>..<max>.  An unbounded range
 * (max INT_MAX) names only the bound crossed.
 */
static void
conf_range_error(struct conf_ctx *ctx, const config_setting_t *s,
    const char *name, long long v, int min, int max)
{
	if (v > max && max == INT_MAX)
		conf_error(ctx, s, "%s must be at most %d", name, max);
	else if (max == INT_MAX && min == 0)
		conf_error(ctx, s, "%s must not be negative", name);
	else if (max == INT_MAX)
		conf_error(ctx, s, "%s must be at least %d", name, min);
	else
		conf_error(ctx, s, "%s must be between %d and %d", name, min,
		    max);
}

/*
 * Reads integer <name> of group <g> into *<out> when it lies in
 * <min>..<max>.  Returns 1 when set, 0 when absent, -1 when reported.
 */
static int
conf_int(struct conf_ctx *ctx, const config_setting_t *g, const char *name,
    int min, int max, int *out)
{
	const config_setting_t	*s;
	long long		 v;

	if ((s = config_setting_get_member(g, name)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		conf_error(ctx, s, "'%s' must be an integer", name);
		return -1;
	}
	if (conf_wrapped(ctx, s))
		return -1;
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		conf_range_error(ctx, s, name, v, min, max);
		return -1;
	}
	*out = (int)v;
	return 1;
}

/* Reads boolean <name> of <g> into *<out> as 0 or 1; returns as conf_int. */
static int
conf_bool(struct conf_ctx *ctx, const config_setting_t *g, const char *name,
    int *out)
{
	const config_setting_t	*s;

	if ((s = config_setting_get_member(g, name)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		conf_error(ctx, s, "'%s' must be a boolean", name);
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

/*
 * Finds string <name> of <g>; *<out> points into libconfig and *<sp> (may
 * be NULL) is the setting, for error lines.  Returns as conf_int.
 */
static int
conf_str(struct conf_ctx *ctx, const config_setting_t *g, const char *name,
    const char **out, const config_setting_t **sp)
{
	const config_setting_t	*s;

	if ((s = config_setting_get_member(g, name)) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_error(ctx, s, "'%s' must be a string", name);
		return -1;
	}
	*out = config_setting_get_string(s);
	if (sp != NULL)
		*sp = s;
	return 1;
}

/*
 * Replaces *<out> with a copy of string <name> of <g>; "" means off and
 * gives NULL.  Returns as conf_int.
 */
static int
conf_str_opt(struct conf_ctx *ctx, const config_setting_t *g,
    const char *name, char **out)
{
	const char	*v;
	int		 r;

	if ((r = conf_str(ctx, g, name, &v, NULL)) != 1)
		return r;
	free(*out);
	*out = *v != '\0' ? conf_strdup(v) : NULL;
	return 1;
}

/*
 * Reads enum <name> of <g>: the index of its value in <names>, listed as
 * <expected> in the error.  Returns as conf_int.
 */
static int
conf_enum(struct conf_ctx *ctx, const config_setting_t *g, const char *name,
    const char *const *names, const char *expected, int *out)
{
	const config_setting_t	*s;
	const char		*v;
	int			 i, r;

	if ((r = conf_str(ctx, g, name, &v, &s)) != 1)
		return r;
	for (i = 0; names[i] != NULL; i++) {
		if (*names[i] != '\0' && strcmp(names[i], v) == 0) {
			*out = i;
			return 1;
		}
	}
	conf_error(ctx, s, "unknown %s '%s' (%s)", name, v, expected);
	return -1;
}

/*
 * Copies the required, non-empty string <name> of <g> into *<out>;
 * <what> names the block for "<what> needs a 'name'".
 */
static void
conf_name(struct conf_ctx *ctx, const config_setting_t *g, const char *what,
    char **out)
{
	const config_setting_t	*s;
	const char		*v;
	int			 r;

	if ((r = conf_str(ctx, g, "name", &v, &s)) == 0)
		conf_error(ctx, g, "%s needs a 'name'", what);
	if (r != 1)
		return;
	if (*v == '\0') {
		conf_error(ctx, s, "name must not be empty");
		return;
	}
	*out = conf_strdup(v);
}

/*
 * The group <name> of <g>, or NULL when absent or not a group (reported).
 */
static const config_setting_t *
conf_group(struct conf_ctx *ctx, const config_setting_t *g, const char *name)
{
	const config_setting_t	*s;

	if ((s = config_setting_get_member(g, name)) == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		conf_error(ctx, s, "'%s' must be a group", name);
		return NULL;
	}
	return s;
}

/*
 * The list <name> of <g>, or NULL when absent or not a list (reported).
 * An empty array "[ ]" is taken as an empty list.
 */
static const config_setting_t *
conf_list(struct conf_ctx *ctx, const config_setting_t *g, const char *name)
{
	const config_setting_t	*s;

	if ((s = config_setting_get_member(g, name)) == NULL)
		return NULL;
	if (config_setting_type(s) == CONFIG_TYPE_LIST ||
	    (config_setting_type(s) == CONFIG_TYPE_ARRAY &&
	    config_setting_length(s) == 0))
		return s;
	conf_error(ctx, s, "'%s' must be a list", name);
	return NULL;
}

/*
 * The array of strings <name> of <g>, or NULL when absent or of another
 * type (reported).
 */
static const config_setting_t *
conf_strings(struct conf_ctx *ctx, const config_setting_t *g,
    const char *name)
{
	const config_setting_t	*s;
	int			 i, n;

	if ((s = config_setting_get_member(g, name)) == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		goto bad;
	n = config_setting_length(s);
	for (i = 0; i < n; i++)
		if (config_setting_type(config_setting_get_elem(s,
		    (unsigned)i)) != CONFIG_TYPE_STRING)
			goto bad;
	return s;
bad:
	conf_error(ctx, s, "'%s' must be an array of strings", name);
	return NULL;
}

/* One per online CPU, within 1..CONF_WORKERS_MAX. */
static int
conf_nproc(void)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > CONF_WORKERS_MAX ? CONF_WORKERS_MAX : (int)n;
}

static void
conf_global_defaults(struct conf_global *g)
{
	g->workers = 0;
	g->max_connections = 100000;
	g->control_socket = conf_strdup("/run/lb4/lb4.sock");
	g->health_file = conf_strdup("/run/lb4/health");
	g->shutdown_timeout_ms = 30000;
	g->log_level = LOG_LEVEL_INFO;
	g->splice = 1;
}

/* metrics = "ip:port"; "" leaves it off. */
static void
conf_metrics(struct conf_ctx *ctx, const config_setting_t *g,
    struct addr *out)
{
	const config_setting_t	*s;
	const char		*v, *why;

	if (conf_str(ctx, g, "metrics", &v, &s) != 1 || *v == '\0')
		return;
	if (addr_parse(v, out, &why) == -1)
		conf_error(ctx, s, "bad metrics '%s': %s", v, why);
}

static void
conf_log_level(struct conf_ctx *ctx, const config_setting_t *g,
    enum log_level *out)
{
	const config_setting_t	*s;
	const char		*v;

	if (conf_str(ctx, g, "log_level", &v, &s) != 1)
		return;
	if (log_level_parse(v, out) == -1)
		conf_error(ctx, s, "unknown log_level '%s' "
		    "(error, warning, info or debug)", v);
}

static void
conf_log_format(struct conf_ctx *ctx, const config_setting_t *g, int *json)
{
	const config_setting_t	*s;
	const char		*v;

	if (conf_str(ctx, g, "log_format", &v, &s) != 1)
		return;
	if (strcmp(v, "json") == 0)
		*json = 1;
	else if (strcmp(v, "text") == 0)
		*json = 0;
	else
		conf_error(ctx, s, "unknown log_format '%s' (text or json)", v);
}

static void
conf_control_socket(struct conf_ctx *ctx, const config_setting_t *g,
    char **out)
{
	if (conf_str_opt(ctx, g, "control_socket", out) != 1 || *out == NULL)
		return;
	/* Caught here, not at bind time, so that -t sees it. */
	if (strlen(*out) >= CONF_SUN_PATH_MAX)
		conf_error(ctx, config_setting_get_member(g, "control_socket"),
		    "control_socket must be shorter than %zu bytes",
		    CONF_SUN_PATH_MAX);
}

static void
conf_global(struct conf_ctx *ctx, const config_setting_t *root)
{
	struct conf_global	*cg = &ctx->conf->global;
	const config_setting_t	*g;

	conf_global_defaults(cg);
	if ((g = conf_group(ctx, root, "global")) != NULL) {
		conf_check_keys(ctx, g, conf_global_keys, "in global");
		conf_int(ctx, g, "workers", 0, CONF_WORKERS_MAX, &cg->workers);
		conf_int(ctx, g, "max_connections", 1, INT_MAX,
		    &cg->max_connections);
		conf_str_opt(ctx, g, "user", &cg->user);
		conf_str_opt(ctx, g, "group", &cg->group);
		conf_control_socket(ctx, g, &cg->control_socket);
		conf_str_opt(ctx, g, "health_file", &cg->health_file);
		conf_metrics(ctx, g, &cg->metrics);
		conf_int(ctx, g, "shutdown_timeout_ms", 1, INT_MAX,
		    &cg->shutdown_timeout_ms);
		conf_log_level(ctx, g, &cg->log_level);
		conf_bool(ctx, g, "splice", &cg->splice);
		conf_bool(ctx, g, "log_connections", &cg->log_connections);
		conf_log_format(ctx, g, &cg->log_json);
	}
	if (cg->workers == 0)
		cg->workers = conf_nproc();
}

static void
conf_on_server_down(struct conf_ctx *ctx, const config_setting_t *g,
    enum on_server_down *out)
{
	int	 v = (int)*out;

	if (conf_enum(ctx, g, "on_server_down", conf_on_downs,
	    "keep or reset", &v) == 1)
		*out = (enum on_server_down)v;
}

/*
 * The tcp_keepalive group of <g> (a listener or a pool) into <k>; absent
 * leaves it off.  The kernel takes TCP_KEEPIDLE and TCP_KEEPINTVL up to
 * 32767 s and TCP_KEEPCNT up to 127.
 */
static void
conf_keepalive(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_keepalive *k)
{
	const config_setting_t	*kg;

	k->idle_s = k->interval_s = k->count = 0;
	if ((kg = conf_group(ctx, g, "tcp_keepalive")) == NULL)
		return;
	k->idle_s = 60;
	k->interval_s = 10;
	k->count = 6;
	conf_check_keys(ctx, kg, conf_keepalive_keys, "in tcp_keepalive");
	conf_int(ctx, kg, "idle_s", 1, 32767, &k->idle_s);
	conf_int(ctx, kg, "interval_s", 1, 32767, &k->interval_s);
	conf_int(ctx, kg, "count", 1, 127, &k->count);
}

static void
conf_defaults(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t	*g;

	ctx->connect_timeout_ms = 3000;
	ctx->idle_timeout_ms = 600000;
	ctx->retries = 2;
	ctx->on_server_down = ON_DOWN_KEEP;
	if ((g = conf_group(ctx, root, "defaults")) == NULL)
		return;
	conf_check_keys(ctx, g, conf_defaults_keys, "in defaults");
	conf_int(ctx, g, "connect_timeout_ms", 1, INT_MAX,
	    &ctx->connect_timeout_ms);
	conf_int(ctx, g, "idle_timeout_ms", 1, INT_MAX, &ctx->idle_timeout_ms);
	conf_int(ctx, g, "retries", 0, INT_MAX, &ctx->retries);
	conf_on_server_down(ctx, g, &ctx->on_server_down);
}

/* The strings of a health check; they need checks beyond their type. */
static void
conf_health_strings(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_health *h)
{
	const config_setting_t	*s;
	const char		*v;

	if (conf_str(ctx, g, "send", &v, NULL) == 1)
		h->send = conf_strdup(v);
	if (conf_str(ctx, g, "expect", &v, &s) == 1) {
		if (*v == '\0')
			conf_error(ctx, s, "expect must not be empty");
		else
			h->expect = conf_strdup(v);
	}
	if (conf_str(ctx, g, "path", &v, &s) == 1) {
		if (*v != '/')
			conf_error(ctx, s, "path must start with '/'");
		free(h->path);
		h->path = conf_strdup(v);
	}
	if (conf_str(ctx, g, "command", &v, &s) == 1) {
		/* Run without a shell or $PATH search: say exactly what. */
		if (*v != '/')
			conf_error(ctx, s, "command must be an absolute path");
		else
			h->command = conf_strdup(v);
	}
}

/*
 * The health group of pool <pg> into <h>.  Without one the pool has no
 * active check; with one, type defaults to tcp.
 */
static void
conf_health(struct conf_ctx *ctx, const config_setting_t *pg,
    struct conf_health *h)
{
	const config_setting_t	*g;
	int			 type = HEALTH_TCP, r;

	h->type = HEALTH_NONE;
	h->interval_ms = 2000;
	h->timeout_ms = 1000;
	h->rise = 2;
	h->fall = 3;
	h->path = conf_strdup("/");
	h->status = 200;
	h->port = 0;
	if ((g = conf_group(ctx, pg, "health")) == NULL)
		return;
	conf_check_keys(ctx, g, conf_health_keys, "in health");
	r = conf_enum(ctx, g, "type", conf_health_types,
	    "tcp, send-expect, http or exec", &type);
	h->type = (enum health_type)type;
	conf_int(ctx, g, "interval_ms", 1, INT_MAX, &h->interval_ms);
	conf_int(ctx, g, "timeout_ms", 1, INT_MAX, &h->timeout_ms);
	conf_int(ctx, g, "rise", 1, INT_MAX, &h->rise);
	conf_int(ctx, g, "fall", 1, INT_MAX, &h->fall);
	conf_int(ctx, g, "status", 100, 599, &h->status);
	conf_int(ctx, g, "port", 0, 65535, &h->port);
	conf_health_strings(ctx, g, h);
	if (r == -1)
		return;		/* unknown type: its needs are unknown */
	if (h->type == HEALTH_SEND_EXPECT &&
	    config_setting_get_member(g, "expect") == NULL)
		conf_error(ctx, g, "send-expect health check needs an "
		    "'expect'");
	if (h->type == HEALTH_EXEC &&
	    config_setting_get_member(g, "command") == NULL)
		conf_error(ctx, g, "exec health check needs a 'command'");
}

/*
 * One server group <g> into <sv>.  Returns its address setting, or NULL
 * when it has no usable address.
 */
static const config_setting_t *
conf_server(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_server *sv)
{
	const config_setting_t	*s;
	const char		*v, *why;
	int			 r;

	sv->line = (int)conf_line(ctx, g);
	sv->weight = 1;
	conf_check_keys(ctx, g, conf_server_keys, "in server");
	conf_int(ctx, g, "weight", 1, 1000, &sv->weight);
	conf_bool(ctx, g, "backup", &sv->backup);
	conf_int(ctx, g, "max_connections", 0, INT_MAX,
	    &sv->max_connections);
	conf_int(ctx, g, "health_port", 1, 65535, &sv->health_port);
	if ((r = conf_str(ctx, g, "address", &v, &s)) == 0)
		conf_error(ctx, g, "server needs an 'address'");
	if (r != 1)
		return NULL;
	if (addr_parse(v, &sv->addr, &why) == -1) {
		conf_error(ctx, s, "bad address '%s': %s", v, why);
		return NULL;
	}
	return s;
}

static void
conf_no_servers(struct conf_ctx *ctx, const config_setting_t *s,
    const struct conf_pool *p)
{
	if (p->name != NULL)
		conf_error(ctx, s, "pool '%s' has no servers", p->name);
	else
		conf_error(ctx, s, "pool has no servers");
}

/*
 * Reports the last server of <p> if an earlier one has its address.
 * <addrs> are the servers' address settings, NULL where unusable.
 */
static void
conf_server_dup(struct conf_ctx *ctx, const struct conf_pool *p,
    const config_setting_t **addrs)
{
	const struct conf_server	*last = &p->servers[p->nservers - 1];
	int				 i;

	for (i = 0; i < p->nservers - 1; i++) {
		if (addrs[i] != NULL &&
		    addr_equal(&p->servers[i].addr, &last->addr)) {
			conf_error(ctx, addrs[p->nservers - 1],
			    "duplicate server '%s' (first at line %u)",
			    last->addr.text, conf_line(ctx, addrs[i]));
			return;
		}
	}
}

/* The servers list of pool group <pg> into <p>. */
static void
conf_servers(struct conf_ctx *ctx, const config_setting_t *pg,
    struct conf_pool *p)
{
	const config_setting_t	*list, *g, **addrs;
	int			 i, n;

	if (config_setting_get_member(pg, "servers") == NULL) {
		conf_no_servers(ctx, pg, p);
		return;
	}
	if ((list = conf_list(ctx, pg, "servers")) == NULL)
		return;
	if ((n = config_setting_length(list)) == 0) {
		conf_no_servers(ctx, list, p);
		return;
	}
	p->servers = conf_calloc((size_t)n, sizeof(*p->servers));
	addrs = conf_calloc((size_t)n, sizeof(const config_setting_t *));
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_error(ctx, g, "server must be a group");
			continue;
		}
		addrs[p->nservers] = conf_server(ctx, g,
		    &p->servers[p->nservers]);
		/* A port for checks that do not run: a mistake, say so. */
		if (p->servers[p->nservers].health_port != 0 &&
		    p->health.type == HEALTH_NONE)
			conf_error(ctx, config_setting_get_member(g,
			    "health_port"), "health_port needs a health "
			    "check in the pool");
		if (addrs[p->nservers++] != NULL)
			conf_server_dup(ctx, p, addrs);
	}
	free(addrs);
}

/*
 * Parses a source address, "192.0.2.1", "2001:db8::1" or "[2001:db8::1]"
 * (no port: the kernel picks it per destination), into <a>.  Returns 0,
 * or -1 with a static reason in *<why>.
 */
static int
conf_source_parse(const char *text, struct addr *a, const char **why)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a->ss;
	char			 buf[INET6_ADDRSTRLEN + 2];
	size_t			 len = strlen(text);

	memset(a, 0, sizeof(*a));
	*why = "not an IPv4 or IPv6 address (a source has no port)";
	if (len == 0 || len >= sizeof(buf) || len >= sizeof(a->text))
		return -1;
	memcpy(buf, text, len + 1);
	if (buf[0] == '[' && buf[len - 1] == ']') {
		buf[len - 1] = '\0';
		memmove(buf, buf + 1, len - 1);
		if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
			return -1;
	} else if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		a->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
		return -1;
	if (a->len == 0) {
		sin6->sin6_family = AF_INET6;
		a->len = sizeof(*sin6);
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr)) {
			*why = "unspecified or multicast address";
			return -1;
		}
	} else if (sin->sin_addr.s_addr == htonl(INADDR_ANY) ||
	    IN_MULTICAST(ntohl(sin->sin_addr.s_addr)) ||
	    sin->sin_addr.s_addr == htonl(INADDR_BROADCAST)) {
		*why = "unspecified, broadcast or multicast address";
		return -1;
	}
	memcpy(a->text, text, len + 1);
	return 0;
}

/*
 * The "source" array of pool group <g> into <p>: each address once, and
 * one of each family the pool's servers have (a connection leaves from an
 * address of its server's family).
 */
static void
conf_sources(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_pool *p)
{
	const config_setting_t	*list, *s;
	const char		*why;
	struct addr		*a;
	int			 i, j, n, fam[2] = { 0, 0 };

	if (config_setting_get_member(g, "source") == NULL)
		return;
	if ((list = conf_strings(ctx, g, "source")) == NULL)
		return;
	n = config_setting_length(list);
	p->sources = conf_calloc((size_t)n, sizeof(*p->sources));
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(list, (unsigned)i);
		a = &p->sources[p->nsources];
		if (conf_source_parse(config_setting_get_string(s), a,
		    &why) == -1) {
			conf_error(ctx, s, "bad source '%s': %s",
			    config_setting_get_string(s), why);
			continue;
		}
		for (j = 0; j < p->nsources; j++)
			if (addr_equal(&p->sources[j], a))
				break;
		if (j < p->nsources) {
			conf_error(ctx, s, "duplicate source '%s'", a->text);
			continue;
		}
		fam[a->ss.ss_family == AF_INET6]++;
		p->nsources++;
	}
	if (p->nsources == 0) {
		if (n == 0)
			conf_error(ctx, list, "empty 'source': leave it out "
			    "to let the kernel choose");
		return;
	}
	for (i = 0; i < p->nservers; i++) {
		j = p->servers[i].addr.ss.ss_family == AF_INET6;
		if (p->servers[i].addr.len != 0 && fam[j] == 0) {
			conf_error(ctx, list, "server '%s' is %s but no "
			    "source address is", p->servers[i].addr.text,
			    j ? "IPv6" : "IPv4");
			return;
		}
	}
}

/* One pool group <g> into <p>. */
static void
conf_pool(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_pool *p)
{
	int	 send_proxy = SEND_PROXY_NONE, mode = POOL_MODE_WRR;

	p->line = (int)conf_line(ctx, g);
	p->connect_timeout_ms = ctx->connect_timeout_ms;
	p->retries = ctx->retries;
	p->on_server_down = ctx->on_server_down;
	conf_check_keys(ctx, g, conf_pool_keys, "in pool");
	conf_name(ctx, g, "pool", &p->name);
	conf_enum(ctx, g, "send_proxy", conf_send_proxies, "none, v1 or v2",
	    &send_proxy);
	p->send_proxy = (enum send_proxy)send_proxy;
	conf_int(ctx, g, "connect_timeout_ms", 1, INT_MAX,
	    &p->connect_timeout_ms);
	conf_int(ctx, g, "retries", 0, INT_MAX, &p->retries);
	conf_enum(ctx, g, "mode", conf_pool_modes, "wrr or single", &mode);
	p->mode = (enum pool_mode)mode;
	conf_on_server_down(ctx, g, &p->on_server_down);
	conf_keepalive(ctx, g, &p->keepalive);
	conf_health(ctx, g, &p->health);
	conf_servers(ctx, g, p);
	conf_sources(ctx, g, p);
}

/*
 * Reports each group of <list> whose name a group before it already has:
 * at the second one's name, naming the first one's line.
 */
static void
conf_dup_names(struct conf_ctx *ctx, const config_setting_t *list,
    const char *what)
{
	const config_setting_t	*a, *b;
	int			 i, j, n = config_setting_length(list);

	for (i = 1; i < n; i++) {
		a = config_setting_get_member(
		    config_setting_get_elem(list, (unsigned)i), "name");
		if (a == NULL || config_setting_type(a) != CONFIG_TYPE_STRING)
			continue;
		for (j = 0; j < i; j++) {
			b = config_setting_get_member(
			    config_setting_get_elem(list, (unsigned)j), "name");
			if (b == NULL ||
			    config_setting_type(b) != CONFIG_TYPE_STRING ||
			    strcmp(config_setting_get_string(a),
			    config_setting_get_string(b)) != 0)
				continue;
			conf_error(ctx, a, "duplicate %s name '%s' "
			    "(first at line %u)", what,
			    config_setting_get_string(a), conf_line(ctx, b));
			break;
		}
	}
}

static void
conf_pools(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t	*list, *g;
	struct conf		*conf = ctx->conf;
	int			 i, n;

	if ((list = conf_list(ctx, root, "pools")) == NULL)
		return;
	n = config_setting_length(list);
	conf->pools = conf_calloc((size_t)n, sizeof(*conf->pools));
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_error(ctx, g, "pool must be a group");
			continue;
		}
		conf_pool(ctx, g, &conf->pools[conf->npools++]);
	}
	conf_dup_names(ctx, list, "pool");
}

/*
 * Reports bind <a>, parsed from element <s>, if any listener binds it
 * already; else remembers it.  ctx->binds has room for it.
 */
static void
conf_bind_seen(struct conf_ctx *ctx, const config_setting_t *s,
    const struct addr *a)
{
	int	 i;

	for (i = 0; i < ctx->nbinds; i++) {
		if (addr_equal(ctx->binds[i].addr, a)) {
			conf_error(ctx, s, "duplicate bind '%s' (first at "
			    "line %u)", a->text, ctx->binds[i].line);
			return;
		}
	}
	ctx->binds[ctx->nbinds].addr = a;
	ctx->binds[ctx->nbinds++].line = conf_line(ctx, s);
}

/*
 * Parses the bind addresses of listener group <g> into <l>, and reports
 * any address bound before, by this listener or another.
 */
static void
conf_binds(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_listener *l)
{
	const config_setting_t	*list, *s;
	struct addr		*a;
	const char		*why;
	int			 i, n;

	if (config_setting_get_member(g, "bind") == NULL) {
		conf_error(ctx, g, "listener needs a 'bind'");
		return;
	}
	if ((list = conf_strings(ctx, g, "bind")) == NULL)
		return;
	if ((n = config_setting_length(list)) == 0) {
		conf_error(ctx, list, "listener needs a 'bind'");
		return;
	}
	l->binds = conf_calloc((size_t)n, sizeof(*l->binds));
	ctx->binds = conf_grow(ctx->binds, (size_t)ctx->nbinds + (size_t)n,
	    sizeof(*ctx->binds));
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(list, (unsigned)i);
		a = &l->binds[l->nbinds];
		if (addr_parse(config_setting_get_string(s), a, &why) == -1) {
			conf_error(ctx, s, "bad bind '%s': %s",
			    config_setting_get_string(s), why);
			continue;
		}
		l->nbinds++;
		conf_bind_seen(ctx, s, a);
	}
}

/* Parses the CIDR array <name> ("allow", "deny") of <g>. */
static void
conf_cidrs(struct conf_ctx *ctx, const config_setting_t *g, const char *name,
    struct cidr **out, int *nout)
{
	const config_setting_t	*list, *s;
	const char		*v, *why;
	int			 i, n;

	if ((list = conf_strings(ctx, g, name)) == NULL)
		return;
	n = config_setting_length(list);
	*out = conf_calloc((size_t)n, sizeof(**out));
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(list, (unsigned)i);
		v = config_setting_get_string(s);
		if (cidr_parse(v, &(*out)[*nout], &why) == -1)
			conf_error(ctx, s, "bad %s '%s': %s", name, v, why);
		else
			(*nout)++;
	}
}

/* Resolves the pool named by listener group <g> to an index. */
static void
conf_listener_pool(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_listener *l)
{
	const config_setting_t	*s;
	const struct conf_pool	*p;
	const char		*v;
	int			 r;

	l->pool = -1;
	if ((r = conf_str(ctx, g, "pool", &v, &s)) == 0)
		conf_error(ctx, g, "listener needs a 'pool'");
	if (r != 1)
		return;
	l->pool_name = conf_strdup(v);
	if ((p = conf_pool_find(ctx->conf, v)) == NULL)
		conf_error(ctx, s, "unknown pool '%s'", v);
	else
		l->pool = (int)(p - ctx->conf->pools);
}

static void
conf_listener(struct conf_ctx *ctx, const config_setting_t *g,
    struct conf_listener *l)
{
	l->line = (int)conf_line(ctx, g);
	l->idle_timeout_ms = ctx->idle_timeout_ms;
	l->log = ctx->conf->global.log_connections;
	conf_check_keys(ctx, g, conf_listener_keys, "in listener");
	conf_name(ctx, g, "listener", &l->name);
	conf_binds(ctx, g, l);
	conf_listener_pool(ctx, g, l);
	conf_cidrs(ctx, g, "allow", &l->allow, &l->nallow);
	conf_cidrs(ctx, g, "deny", &l->deny, &l->ndeny);
	conf_int(ctx, g, "idle_timeout_ms", 1, INT_MAX, &l->idle_timeout_ms);
	conf_bool(ctx, g, "log", &l->log);
	conf_keepalive(ctx, g, &l->keepalive);
}

/* The listeners; pools must be read first, to resolve their names. */
static void
conf_listeners(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t	*list, *g;
	struct conf		*conf = ctx->conf;
	int			 i, n;

	if (config_setting_get_member(root, "listeners") == NULL) {
		conf_error_at(ctx, ctx->path, 1, "config has no listeners");
		return;
	}
	if ((list = conf_list(ctx, root, "listeners")) == NULL)
		return;
	if ((n = config_setting_length(list)) == 0) {
		conf_error(ctx, list, "config has no listeners");
		return;
	}
	conf->listeners = conf_calloc((size_t)n, sizeof(*conf->listeners));
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_error(ctx, g, "listener must be a group");
			continue;
		}
		conf_listener(ctx, g, &conf->listeners[conf->nlisteners++]);
	}
	conf_dup_names(ctx, list, "listener");
}

/*
 * Reads <path> whole into a NUL-terminated buffer, or returns NULL after
 * reporting why.
 */
static char *
conf_read(struct conf_ctx *ctx, const char *path)
{
	struct stat	 st;
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if (st.st_size > CONF_FILE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	buf = conf_calloc(1, (size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;	/* shrank meanwhile: take what is there */
		len += (size_t)n;
	}
	close(fd);
	return buf;
fail:
	conf_error_at(ctx, path, 0, "cannot read: %s", log_strerror(errno));
	if (fd != -1)
		close(fd);
	free(buf);
	return NULL;
}

/* Sort by line, then report order: errors read top to bottom. */
static int
conf_err_cmp(const void *a, const void *b)
{
	const struct conf_err	*x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Joins the errors into one newline-terminated string, freeing them. */
static char *
conf_join_errors(struct conf_ctx *ctx)
{
	char	*out, *p;
	size_t	 len = 1;
	int	 i;

	qsort(ctx->errs, (size_t)ctx->nerrs, sizeof(*ctx->errs), conf_err_cmp);
	for (i = 0; i < ctx->nerrs; i++)
		len += strlen(ctx->errs[i].text) + 1;
	p = out = conf_calloc(1, len);
	for (i = 0; i < ctx->nerrs; i++) {
		p = stpcpy(p, ctx->errs[i].text);
		*p++ = '\n';
		free(ctx->errs[i].text);
	}
	free(ctx->errs);
	ctx->errs = NULL;
	ctx->nerrs = 0;
	return out;
}

/* Parses <text>, read from ctx->path, into ctx->conf. */
static void
conf_parse(struct conf_ctx *ctx, const char *text)
{
	config_t			*cfg = &ctx->cfg;
	const config_setting_t		*root;
	char				 dir[PATH_MAX];
	const char			*file;

	config_init(cfg);
	ctx->cfg_live = 1;
	/* "@include" is relative to the config's directory, not the cwd. */
	snprintf(dir, sizeof(dir), "%s", ctx->path);
	/* glibc's dirname() only writes into <dir>, our own buffer. */
	/* NOLINTNEXTLINE(concurrency-mt-unsafe) */
	config_set_include_dir(cfg, dirname(dir));
	if (config_read_string(cfg, text) == CONFIG_FALSE) {
		/* Past a syntax error nothing else can be trusted. */
		file = config_error_file(cfg);
		conf_error_at(ctx, file != NULL ? file : ctx->path,
		    (unsigned)config_error_line(cfg), "%s",
		    config_error_text(cfg));
		goto done;
	}
	ctx->text = text;
	confscan_ints(text, conf_wrapped_int, ctx);
	root = config_root_setting(cfg);
	conf_check_keys(ctx, root, conf_top_keys, "at top level");
	conf_global(ctx, root);
	conf_defaults(ctx, root);
	conf_pools(ctx, root);
	conf_listeners(ctx, root);
done:
	ctx->text = NULL;
	config_destroy(cfg);
	ctx->cfg_live = 0;
}

/* Frees what the ctx holds besides the conf. */
static void
conf_ctx_clear(struct conf_ctx *ctx)
{
	int	i;

	if (ctx->cfg_live)
		config_destroy(&ctx->cfg);
	ctx->cfg_live = 0;
	for (i = 0; i < ctx->nerrs; i++)
		free(ctx->errs[i].text);
	free(ctx->errs);
	free(ctx->binds);
	free(ctx->wrapped);
}

struct conf *
conf_load(const char *path, char **errors)
{
	struct conf_ctx	*ctx;
	struct conf	*conf;
	char		*text = NULL;

	*errors = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		goto nomem;
	ctx->path = path;
	conf_loading = ctx;
	if (setjmp(ctx->nomem) != 0) {
		/* Only the pointers held in *ctx are trusted here. */
		free(ctx->text == NULL ? NULL : (char *)ctx->text);
		conf_ctx_clear(ctx);
		conf_free(ctx->conf);
		free(ctx);
		conf_loading = NULL;
		goto nomem;
	}
	ctx->conf = conf_calloc(1, sizeof(*ctx->conf));
	ctx->conf->path = conf_strdup(path);
	if ((text = conf_read(ctx, path)) != NULL) {
		ctx->text = text;	/* freed above if memory runs out */
		conf_parse(ctx, text);
	}
	free(text);
	ctx->text = NULL;
	conf = ctx->conf;
	if (ctx->nerrs != 0) {
		*errors = conf_join_errors(ctx);
		conf_free(conf);
		conf = NULL;
	}
	conf_loading = NULL;
	conf_ctx_clear(ctx);
	free(ctx);
	return conf;
nomem:
	if (asprintf(errors, "%s: out of memory", path) == -1)
		*errors = NULL;
	return NULL;
}

void
conf_health_free(struct conf_health *h)
{
	free(h->send);
	free(h->expect);
	free(h->path);
	free(h->command);
	h->send = h->expect = h->path = h->command = NULL;
}

static char *
conf_health_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
conf_health_copy(struct conf_health *to, const struct conf_health *from)
{
	*to = *from;
	to->send = conf_health_strdup(from->send);
	to->expect = conf_health_strdup(from->expect);
	to->path = conf_health_strdup(from->path);
	to->command = conf_health_strdup(from->command);
	if ((from->send && !to->send) || (from->expect && !to->expect) ||
	    (from->path && !to->path) || (from->command && !to->command)) {
		conf_health_free(to);
		return -1;
	}
	return 0;
}

static int
conf_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
conf_health_equal(const struct conf_health *a, const struct conf_health *b)
{
	return a->type == b->type && a->interval_ms == b->interval_ms &&
	    a->timeout_ms == b->timeout_ms && a->rise == b->rise &&
	    a->fall == b->fall && a->status == b->status &&
	    a->port == b->port && conf_str_equal(a->send, b->send) &&
	    conf_str_equal(a->expect, b->expect) &&
	    conf_str_equal(a->path, b->path) &&
	    conf_str_equal(a->command, b->command);
}

void
conf_free(struct conf *conf)
{
	int	 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nlisteners; i++) {
		free(conf->listeners[i].name);
		free(conf->listeners[i].binds);
		free(conf->listeners[i].pool_name);
		free(conf->listeners[i].allow);
		free(conf->listeners[i].deny);
	}
	free(conf->listeners);
	for (i = 0; i < conf->npools; i++) {
		free(conf->pools[i].name);
		free(conf->pools[i].servers);
		free(conf->pools[i].sources);
		conf_health_free(&conf->pools[i].health);
	}
	free(conf->pools);
	free(conf->global.user);
	free(conf->global.group);
	free(conf->global.control_socket);
	free(conf->global.health_file);
	free(conf->path);
	free(conf);
}

struct conf_pool *
conf_pool_find(struct conf *conf, const char *name)
{
	int	 i;

	for (i = 0; i < conf->npools; i++)
		if (conf->pools[i].name != NULL &&
		    strcmp(conf->pools[i].name, name) == 0)
			return &conf->pools[i];
	return NULL;
}

/*
 * conf.h: the configuration file (libconfig syntax, lb4.conf(5)) turned
 * into a plain struct conf.  conf_load() checks everything and collects
 * every problem as "FILE:LINE: message"; the rest of lb4 never sees
 * libconfig.
 */
#ifndef LB4_CONF_H
#define LB4_CONF_H

#include "addr.h"
#include "log.h"

#define CONF_DEFAULT_PATH	"/etc/lb4/lb4.conf"

enum health_type {
	HEALTH_NONE = 0,	/* no active check: the server starts up */
	HEALTH_TCP = 1,		/* connect() succeeds */
	HEALTH_SEND_EXPECT = 2,	/* send bytes, expect a substring */
	HEALTH_HTTP = 3,	/* GET path, expect a status */
	HEALTH_EXEC = 4,	/* run a command, exit 0 means up */
};

enum send_proxy {
	SEND_PROXY_NONE = 0,
	SEND_PROXY_V1 = 1,	/* text header */
	SEND_PROXY_V2 = 2,	/* binary header */
};

enum pool_mode {
	POOL_MODE_WRR = 0,	/* smooth weighted round robin */
	POOL_MODE_SINGLE = 1,	/* one server at a time, sticky (lb4.conf(5)) */
};

enum on_server_down {
	ON_DOWN_KEEP = 0,	/* established connections run on */
	ON_DOWN_RESET = 1,	/* reset them when checks mark it down */
};

/* SO_KEEPALIVE settings; idle_s 0 = off (the kernel's default). */
struct conf_keepalive {
	int		idle_s;		/* TCP_KEEPIDLE, default 60 */
	int		interval_s;	/* TCP_KEEPINTVL, default 10 */
	int		count;		/* TCP_KEEPCNT, default 6 */
};

struct conf_health {
	enum health_type type;
	int		interval_ms;	/* default 2000 */
	int		timeout_ms;	/* default 1000 */
	int		rise;		/* default 2 */
	int		fall;		/* default 3 */
	char		*send;		/* send-expect: may be NULL */
	char		*expect;	/* send-expect: required */
	char		*path;		/* http: default "/" */
	int		status;		/* http: default 200 */
	int		port;		/* http, tcp, send-expect: 0 = server's */
	char		*command;	/* exec: required, absolute path */
};

struct conf_server {
	struct addr	addr;
	int		weight;		/* 1..1000, default 1 */
	int		backup;		/* 0 or 1 */
	int		max_connections; /* 0 = unlimited */
	int		health_port;	/* 0 = the pool's health.port */
	int		line;
};

struct conf_pool {
	char		*name;
	enum send_proxy	send_proxy;
	int		connect_timeout_ms;	/* from defaults unless set */
	int		retries;		/* from defaults unless set */
	enum pool_mode	mode;			/* default wrr */
	enum on_server_down on_server_down;	/* from defaults unless set */
	struct conf_keepalive keepalive;	/* toward the servers */
	struct conf_health health;
	struct conf_server *servers;
	int		nservers;
	struct addr	*sources;	/* source = [ "IP", ... ]: port 0 */
	int		nsources;
	int		line;
};

struct conf_listener {
	char		*name;
	struct addr	*binds;
	int		nbinds;
	char		*pool_name;
	int		pool;		/* index into conf.pools */
	int		idle_timeout_ms;	/* from defaults unless set */
	int		log;		/* one line per connection */
	struct conf_keepalive keepalive;	/* toward the clients */
	struct cidr	*allow;		/* empty = everyone */
	int		nallow;
	struct cidr	*deny;
	int		ndeny;
	int		line;
};

/* global.workers is at most this (0 in the file = one per CPU). */
#define CONF_WORKERS_MAX	256

struct conf_global {
	int		workers;	/* resolved: 0 in the file = nproc,
					   at most 256 */
	int		max_connections;	/* default 100000 */
	char		*user;		/* NULL = do not drop privileges */
	char		*group;		/* NULL = user's primary group */
	char		*control_socket;	/* default /run/lb4/lb4.sock;
						   NULL = off ("") */
	char		*health_file;	/* default /run/lb4/health; NULL = off */
	struct addr	metrics;	/* len 0 = off */
	int		shutdown_timeout_ms;	/* default 30000 */
	enum log_level	log_level;	/* default info */
	int		splice;		/* default 1; 0 forces the copy path */
	int		log_connections;	/* default 0: listeners' log */
	int		log_json;	/* log_format = "json" */
};

struct conf {
	char		*path;
	struct conf_global global;
	struct conf_listener *listeners;
	int		nlisteners;
	struct conf_pool *pools;
	int		npools;
};

/*
 * Reads and checks <path>.  Returns a new conf, or NULL when the file has
 * any problem; then *<errors> holds every problem, one "FILE:LINE: message"
 * per line, newline-terminated (free it).  On success *<errors> is NULL.
 */
struct conf	*conf_load(const char *path, char **errors);

/* Frees everything conf_load() allocated.  NULL is a no-op. */
void		 conf_free(struct conf *conf);

/*
 * A health block of its own (health checks keep one per server, so that a
 * reload can compare it with the new one): conf_health_copy() deep-copies
 * <from> into <to> and returns 0, or -1 on ENOMEM with nothing kept;
 * conf_health_equal() says 1 when <a> and <b> ask for the same check;
 * conf_health_free() frees the strings of <h> (not <h>) and clears them.
 */
int		 conf_health_copy(struct conf_health *to,
		    const struct conf_health *from);
int		 conf_health_equal(const struct conf_health *a,
		    const struct conf_health *b);
void		 conf_health_free(struct conf_health *h);

/* Finds a pool by name, or NULL. */
struct conf_pool *conf_pool_find(struct conf *conf, const char *name);

#endif

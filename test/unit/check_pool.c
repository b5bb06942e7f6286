/*
 * check_pool.c: the smooth WRR sequences (swrr.c) and the pool's pick
 * rules (pool.c): skipping servers that are down, disabled, draining or
 * full; backups only when no primary can take a connection; retries skip
 * servers already tried; reloads keep scores only when nothing changed.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "pool.h"
#include "swrr.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Weights, and the sequence of letters (a = index 0) they must give. */
static const struct {
	int		 weights[8];
	int		 n;
	const char	*seq;
} sequences[] = {
	{ { 5, 1, 1 }, 3, "aabacaa" "aabacaa" },
	{ { 1, 1, 1 }, 3, "abcabcabc" },
	{ { 3, 2, 7, 1 }, 4, "cacbcdcacbcac" "cacbcdcacbcac" },
	{ { 4 }, 1, "aaaa" },
	{ { 2, 1 }, 2, "abaaba" },
	{ { 1000, 1 }, 2, "aaaaaaaa" },
};

START_TEST(test_swrr_sequences)
{
	struct swrr_peer	peers[8];
	unsigned char		eligible[8];
	const char		*want = sequences[_i].seq;
	char			got[64];
	int			i, n = sequences[_i].n;
	size_t			k;

	memset(peers, 0, sizeof(peers));
	for (i = 0; i < n; i++) {
		peers[i].weight = sequences[_i].weights[i];
		eligible[i] = 1;
	}
	for (k = 0; k < strlen(want); k++)
		got[k] = (char)('a' + swrr_pick(peers, eligible, n));
	got[k] = '\0';
	ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(test_swrr_none_eligible)
{
	struct swrr_peer	peers[2] = { { 1, 0 }, { 1, 0 } };
	unsigned char		eligible[2] = { 0, 0 };

	ck_assert_int_eq(swrr_pick(peers, eligible, 2), -1);
	ck_assert_int_eq(peers[0].current, 0);
}
END_TEST

/* Makes a pool of servers 10.0.0.1..N:80 with <weights> and <backup>. */
static struct pool *
make_pool(const int *weights, const int *backup, const int *maxc, int n)
{
	struct conf_server	servers[16];
	struct conf_pool	cp;
	struct pool		*p;
	const char		*why;
	char			text[32];
	int			i;

	memset(&cp, 0, sizeof(cp));
	memset(servers, 0, sizeof(servers));
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "10.0.0.%d:80", i + 1);
		ck_assert_int_eq(addr_parse(text, &servers[i].addr, &why), 0);
		servers[i].weight = weights[i];
		servers[i].backup = backup ? backup[i] : 0;
		servers[i].max_connections = maxc ? maxc[i] : 0;
	}
	cp.name = (char *)"web";
	cp.servers = servers;
	cp.nservers = n;
	cp.retries = 2;
	cp.connect_timeout_ms = 3000;
	p = pool_new(&cp, 1);
	ck_assert_ptr_nonnull(p);
	p->refs = 1;	/* the test's */
	return p;
}

/* Picks <count> times (releasing each), returning the letters. */
static void
picks(struct pool *p, int count, char *out)
{
	struct pick	pk;
	int		i, j;

	for (i = 0; i < count; i++) {
		pk.tried = 0;
		if (pool_pick(p, &pk) == -1) {
			out[i] = '-';
			continue;
		}
		for (j = 0; j < p->nservers; j++)
			if (p->servers[j] == pk.server)
				out[i] = (char)('a' + j);
		pool_release(pk.server);
	}
	out[count] = '\0';
}

START_TEST(test_pool_skip_mid_sequence)
{
	int		 w[] = { 5, 1, 1 };
	struct pool	*p = make_pool(w, NULL, NULL, 3);
	char		 got[32];

	picks(p, 3, got);
	ck_assert_str_eq(got, "aab");
	/* c goes down: the sequence continues among a and b only. */
	p->servers[2]->health = SERVER_DOWN;
	picks(p, 6, got);
	ck_assert_str_eq(got, "aaaaab");
	p->servers[2]->health = SERVER_UP;
	p->servers[0]->admin = SERVER_DRAINING;
	p->servers[1]->admin = SERVER_DISABLED;
	picks(p, 3, got);
	ck_assert_str_eq(got, "ccc");
	pool_unref(p);
}
END_TEST

START_TEST(test_pool_backups)
{
	int		 w[] = { 1, 2, 1 }, b[] = { 0, 1, 1 };
	struct pool	*p = make_pool(w, b, NULL, 3);
	char		 got[32];

	picks(p, 3, got);
	ck_assert_str_eq(got, "aaa");
	p->servers[0]->health = SERVER_DOWN;
	picks(p, 6, got);
	ck_assert_str_eq(got, "bcbbcb");
	/* Back to the primary as soon as it is up. */
	p->servers[0]->health = SERVER_UP;
	picks(p, 2, got);
	ck_assert_str_eq(got, "aa");
	p->servers[0]->health = SERVER_DOWN;
	p->servers[1]->health = SERVER_DOWN;
	p->servers[2]->health = SERVER_DOWN;
	picks(p, 1, got);
	ck_assert_str_eq(got, "-");
	ck_assert_int_eq(pool_can_serve(p), 0);
	pool_unref(p);
}
END_TEST

START_TEST(test_pool_max_connections)
{
	int		 w[] = { 5, 1 }, m[] = { 1, 0 };
	struct pool	*p = make_pool(w, NULL, m, 2);
	struct pick	 first = { 0 }, next = { 0 };

	ck_assert_int_eq(pool_pick(p, &first), 0);
	ck_assert_ptr_eq(first.server, p->servers[0]);
	/* a is full while first holds it: b takes the next ones. */
	ck_assert_int_eq(pool_pick(p, &next), 0);
	ck_assert_ptr_eq(next.server, p->servers[1]);
	pool_release(next.server);
	pool_release(first.server);
	next.tried = 0;
	ck_assert_int_eq(pool_pick(p, &next), 0);
	ck_assert_ptr_eq(next.server, p->servers[0]);
	pool_release(next.server);
	pool_unref(p);
}
END_TEST

START_TEST(test_pool_retry_skips_tried)
{
	int		 w[] = { 1, 1, 1 };
	struct pool	*p = make_pool(w, NULL, NULL, 3);
	struct pick	 pk = { 0 };
	int		 seen = 0, i, j;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pool_pick(p, &pk), 0);
		for (j = 0; j < 3; j++)
			if (p->servers[j] == pk.server)
				seen |= 1 << j;
		pool_release(pk.server);
	}
	ck_assert_int_eq(seen, 7);
	ck_assert_int_eq(pool_pick(p, &pk), -1);
	pool_unref(p);
}
END_TEST

START_TEST(test_pool_apply_keeps_state)
{
	int			 w[] = { 5, 1, 1 };
	struct pool		*p = make_pool(w, NULL, NULL, 3);
	struct pool_update	*u;
	struct server		*gone[3] = { NULL }, *kept;
	struct conf_server	 servers[3];
	struct conf_pool	 cp;
	const char		*why;
	char			 got[32];
	int			 i;

	picks(p, 3, got);
	ck_assert_str_eq(got, "aab");
	kept = p->servers[1];
	kept->admin = SERVER_DISABLED;
	/* Same servers and weights: scores carry over. */
	memset(&cp, 0, sizeof(cp));
	memset(servers, 0, sizeof(servers));
	for (i = 0; i < 3; i++) {
		servers[i].addr = p->servers[i]->addr;
		servers[i].weight = w[i];
	}
	cp.name = (char *)"web";
	cp.servers = servers;
	cp.nservers = 3;
	kept->admin = SERVER_ENABLED;
	ck_assert_ptr_nonnull(u = pool_prepare(p, &cp, 1));
	ck_assert_int_eq(pool_update_ngone(u), 0);
	pool_commit(p, u, gone);
	picks(p, 4, got);
	ck_assert_str_eq(got, "acaa");
	/* Drop the third server: it is handed back, the others kept. */
	kept->admin = SERVER_DRAINING;
	cp.nservers = 2;
	ck_assert_int_eq(addr_parse("10.0.0.2:80", &servers[1].addr, &why), 0);
	ck_assert_ptr_nonnull(u = pool_prepare(p, &cp, 1));
	/* Prepared, not committed: the pool is untouched. */
	ck_assert_int_eq(p->nservers, 3);
	ck_assert_int_eq(pool_update_ngone(u), 1);
	pool_commit(p, u, gone);
	ck_assert_int_eq(p->nservers, 2);
	ck_assert_ptr_nonnull(gone[0]);
	ck_assert_ptr_ne(gone[0], p->servers[0]);
	ck_assert_ptr_ne(gone[0], p->servers[1]);
	ck_assert_ptr_eq(p->servers[1], kept);
	ck_assert_int_eq(kept->admin, SERVER_DRAINING);
	server_free(gone[0]);
	/* An update thrown away frees what it created, not the pool's. */
	cp.nservers = 3;
	ck_assert_int_eq(addr_parse("10.0.0.9:80", &servers[2].addr, &why), 0);
	ck_assert_ptr_nonnull(u = pool_prepare(p, &cp, 1));
	pool_update_free(u);
	ck_assert_int_eq(p->nservers, 2);
	ck_assert_ptr_eq(p->servers[1], kept);
	pool_unref(p);
}
END_TEST

/* Sources of <text> (bare IPs) into <out>; the conf parser's job. */
static void
make_sources(const char *const *text, int n, struct addr *out)
{
	const char	*why;
	char		 buf[80];
	int		 i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), strchr(text[i], ':') ? "[%s]:1" :
		    "%s:1", text[i]);
		ck_assert_int_eq(addr_parse(buf, &out[i], &why), 0);
		/* Port 0, as conf.c leaves it. */
		if (out[i].ss.ss_family == AF_INET)
			((struct sockaddr_in *)&out[i].ss)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&out[i].ss)->sin6_port = 0;
		snprintf(out[i].text, sizeof(out[i].text), "%s", text[i]);
	}
}

/* The source of each of <count> picks, as "IP " words, into <out>. */
static void
source_picks(struct pool *p, int count, char *out, size_t len)
{
	struct pick	pk;
	char		ip[64];
	int		i;
	size_t		o = 0;

	out[0] = '\0';
	for (i = 0; i < count; i++) {
		memset(&pk, 0, sizeof(pk));
		ck_assert_int_eq(pool_pick(p, &pk), 0);
		if (pk.source_len == 0)
			snprintf(ip, sizeof(ip), "-");
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)
			    &pk.source)->sin_addr, ip, sizeof(ip));
		o += (size_t)snprintf(out + o, len - o, "%s ", ip);
		pool_release(pk.server);
	}
}

/*
 * Source addresses are used in turn, only those of the server's family,
 * and a reload that changes them takes effect at the next pick.
 */
START_TEST(test_pool_sources_in_turn)
{
	static const char *const v1[] = { "192.0.2.1", "2001:db8::1",
	    "192.0.2.2" };
	static const char *const v2[] = { "192.0.2.9" };
	struct pool_update	*u;
	struct conf_server	 server;
	struct conf_pool	 cp;
	struct addr		 src[3];
	struct pool		*p;
	const char		*why;
	char			 got[256];

	memset(&cp, 0, sizeof(cp));
	memset(&server, 0, sizeof(server));
	ck_assert_int_eq(addr_parse("10.0.0.1:80", &server.addr, &why), 0);
	server.weight = 1;
	cp.name = (char *)"web";
	cp.servers = &server;
	cp.nservers = 1;
	cp.retries = 2;
	cp.connect_timeout_ms = 3000;
	p = pool_new(&cp, 1);
	source_picks(p, 2, got, sizeof(got));
	ck_assert_str_eq(got, "- - ");
	make_sources(v1, 3, src);
	cp.sources = src;
	cp.nsources = 3;
	ck_assert_ptr_nonnull(u = pool_prepare(p, &cp, 1));
	/* Prepared, not committed: the pool has no source yet. */
	source_picks(p, 1, got, sizeof(got));
	ck_assert_str_eq(got, "- ");
	pool_commit(p, u, NULL);
	source_picks(p, 5, got, sizeof(got));
	ck_assert_str_eq(got, "192.0.2.1 192.0.2.2 192.0.2.1 192.0.2.2 "
	    "192.0.2.1 ");
	make_sources(v2, 1, src);
	cp.nsources = 1;
	ck_assert_ptr_nonnull(u = pool_prepare(p, &cp, 1));
	pool_commit(p, u, NULL);
	source_picks(p, 2, got, sizeof(got));
	ck_assert_str_eq(got, "192.0.2.9 192.0.2.9 ");
	p->refs = 1;	/* the test's */
	pool_unref(p);
}
END_TEST

/* mode single: one server at a time, the first usable, and it sticks. */
START_TEST(test_single_sticky)
{
	int		 w[] = { 1, 5, 1 };
	struct pool	*p = make_pool(w, NULL, NULL, 3);
	char		 got[32];

	p->mode = POOL_MODE_SINGLE;
	picks(p, 4, got);
	ck_assert_str_eq(got, "aaaa");
	p->servers[0]->health = SERVER_DOWN;
	picks(p, 3, got);
	ck_assert_str_eq(got, "bbb");
	/* a passes its checks again: b stays (a second "primary"). */
	p->servers[0]->health = SERVER_UP;
	picks(p, 3, got);
	ck_assert_str_eq(got, "bbb");
	/* b drained by the operator: the first usable in file order. */
	p->servers[1]->admin = SERVER_DRAINING;
	picks(p, 2, got);
	ck_assert_str_eq(got, "aa");
	p->servers[1]->admin = SERVER_ENABLED;
	picks(p, 2, got);
	ck_assert_str_eq(got, "aa");
	p->servers[0]->health = SERVER_DOWN;
	p->servers[1]->health = SERVER_DOWN;
	p->servers[2]->health = SERVER_DOWN;
	picks(p, 1, got);
	ck_assert_str_eq(got, "-");
	ck_assert_ptr_null(p->current);
	pool_unref(p);
}
END_TEST

/*
 * Each server takes the sources in its own turn: with two servers picked
 * in alternation and two sources, a single turn for the pool would pair
 * each server with one source for ever (half the ports toward each).
 */
START_TEST(test_pool_sources_per_server)
{
	static const char *const v[] = { "192.0.2.1", "192.0.2.2" };
	int			 w[] = { 1, 1 };
	struct pool		*p = make_pool(w, NULL, NULL, 2);
	struct conf_server	 servers[2];
	struct conf_pool	 cp;
	struct addr		 src[2];
	struct pick		 pk;
	char			 got[128], ip[64];
	size_t			 o = 0;
	int			 i;

	memset(&cp, 0, sizeof(cp));
	memset(servers, 0, sizeof(servers));
	for (i = 0; i < 2; i++) {
		servers[i].addr = p->servers[i]->addr;
		servers[i].weight = 1;
	}
	make_sources(v, 2, src);
	cp.name = (char *)"web";
	cp.servers = servers;
	cp.nservers = 2;
	cp.sources = src;
	cp.nsources = 2;
	pool_commit(p, pool_prepare(p, &cp, 1), NULL);
	for (i = 0; i < 4; i++) {
		memset(&pk, 0, sizeof(pk));
		ck_assert_int_eq(pool_pick(p, &pk), 0);
		inet_ntop(AF_INET, &((struct sockaddr_in *)&pk.source)->sin_addr,
		    ip, sizeof(ip));
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%c%s ",
		    pk.server == p->servers[0] ? 'a' : 'b', ip + 8);
		pool_release(pk.server);
	}
	ck_assert_str_eq(got, "a1 b1 a2 b2 ");
	pool_unref(p);
}
END_TEST

START_TEST(test_single_backup)
{
	int		 w[] = { 1, 1, 1 }, b[] = { 1, 0, 1 };
	struct pool	*p = make_pool(w, b, NULL, 3);
	char		 got[32];

	p->mode = POOL_MODE_SINGLE;
	picks(p, 2, got);
	ck_assert_str_eq(got, "bb");
	p->servers[1]->health = SERVER_DOWN;
	picks(p, 2, got);
	ck_assert_str_eq(got, "aa");
	/* A backup gives way to a primary, as in other pools. */
	p->servers[1]->health = SERVER_UP;
	picks(p, 2, got);
	ck_assert_str_eq(got, "bb");
	pool_unref(p);
}
END_TEST

START_TEST(test_single_no_spill)
{
	int		 w[] = { 1, 1 }, m[] = { 1, 0 };
	struct pool	*p = make_pool(w, NULL, m, 2);
	struct pick	 first = { 0 }, next = { 0 };

	p->mode = POOL_MODE_SINGLE;
	ck_assert_int_eq(pool_pick(p, &first), 0);
	ck_assert_ptr_eq(first.server, p->servers[0]);
	/* a is full: refused, never spilled to b. */
	ck_assert_int_eq(pool_pick(p, &next), -1);
	/* A retry (a already tried) still goes to a, not to another. */
	pool_release(first.server);
	next.tried = 1;
	ck_assert_int_eq(pool_pick(p, &next), 0);
	ck_assert_ptr_eq(next.server, p->servers[0]);
	pool_release(next.server);
	pool_unref(p);
}
END_TEST

/* A reload keeps the current server while it is still listed. */
START_TEST(test_single_reload_keeps_current)
{
	int			 w[] = { 1, 1, 1 };
	struct pool		*p = make_pool(w, NULL, NULL, 3);
	struct server		*gone[3] = { NULL };
	struct pool_update	*u;
	struct conf_server	 servers[3];
	struct conf_pool	 cp;
	char			 got[32];
	int			 i;

	p->mode = POOL_MODE_SINGLE;
	p->servers[0]->health = SERVER_DOWN;
	picks(p, 1, got);
	ck_assert_str_eq(got, "b");
	p->servers[0]->health = SERVER_UP;
	memset(&cp, 0, sizeof(cp));
	memset(servers, 0, sizeof(servers));
	for (i = 0; i < 3; i++) {
		servers[i].addr = p->servers[i]->addr;
		servers[i].weight = 1;
	}
	cp.name = (char *)"web";
	cp.mode = POOL_MODE_SINGLE;
	cp.servers = servers;
	cp.nservers = 3;
	ck_assert_ptr_nonnull(u = pool_prepare(p, &cp, 1));
	pool_commit(p, u, gone);
	picks(p, 2, got);
	ck_assert_str_eq(got, "bb");
	/* b leaves the file: the first usable one takes over. */
	servers[1] = servers[2];
	cp.nservers = 2;
	ck_assert_ptr_nonnull(u = pool_prepare(p, &cp, 1));
	ck_assert_int_eq(pool_update_ngone(u), 1);
	pool_commit(p, u, gone);
	picks(p, 2, got);
	ck_assert_str_eq(got, "aa");
	server_free(gone[0]);
	pool_unref(p);
}
END_TEST

/* An address of this host binds; one that is not fails, named. */
START_TEST(test_pool_check_sources)
{
	static const char *const ok[] = { "127.0.0.1" };
	static const char *const bad[] = { "127.0.0.1", "192.0.2.77" };
	struct conf_pool	 cp;
	struct conf		 conf;
	struct addr		 src[2];
	char			*err = NULL;

	memset(&conf, 0, sizeof(conf));
	memset(&cp, 0, sizeof(cp));
	cp.name = (char *)"db";
	conf.pools = &cp;
	conf.npools = 1;
	make_sources(ok, 1, src);
	cp.sources = src;
	cp.nsources = 1;
	ck_assert_int_eq(pool_check_sources(&conf, &err), 0);
	ck_assert_ptr_null(err);
	make_sources(bad, 2, src);
	cp.nsources = 2;
	ck_assert_int_eq(pool_check_sources(&conf, &err), -1);
	ck_assert_str_eq(err, "pool 'db': cannot bind source address "
	    "192.0.2.77: Cannot assign requested address (not an address "
	    "of this host)");
	free(err);
}
END_TEST

/*
 * The setters and server_usable(): up and enabled take connections;
 * going down (only) moves down_gen, and asks for a reset when the pool
 * resets; a setter that changes nothing says so and moves nothing.
 */
START_TEST(test_server_state)
{
	int		 w[] = { 1 };
	struct pool	*p = make_pool(w, NULL, NULL, 1);
	struct server	*s = p->servers[0];
	unsigned	 gen = s->down_gen;

	ck_assert_int_eq(server_usable(s), 1);
	ck_assert_str_eq(server_state_name(s), "up");
	ck_assert_int_eq(server_set_health(s, SERVER_UP), 0);
	ck_assert_uint_eq(s->down_gen, gen);
	ck_assert_int_eq(server_set_health(s, SERVER_DOWN), 0);	/* keep */
	ck_assert_uint_eq(s->down_gen, gen + 1);
	ck_assert_int_eq(server_usable(s), 0);
	ck_assert_str_eq(server_state_name(s), "down");
	ck_assert_int_eq(server_set_health(s, SERVER_DOWN), 0);
	ck_assert_uint_eq(s->down_gen, gen + 1);
	ck_assert_int_eq(server_set_health(s, SERVER_UP), 0);
	ck_assert_uint_eq(s->down_gen, gen + 1);
	s->on_down = ON_DOWN_RESET;
	ck_assert_int_eq(server_set_health(s, SERVER_DOWN), 1);
	ck_assert_uint_eq(s->down_gen, gen + 2);
	ck_assert_int_eq(server_set_health(s, SERVER_UP), 0);

	ck_assert_int_eq(server_set_admin(s, SERVER_ENABLED), 0);
	ck_assert_int_eq(server_set_admin(s, SERVER_DRAINING), 1);
	ck_assert_int_eq(server_usable(s), 0);
	ck_assert_str_eq(server_state_name(s), "draining");
	ck_assert_int_eq(pool_can_serve(p), 0);
	ck_assert_int_eq(server_set_admin(s, SERVER_DISABLED), 1);
	ck_assert_int_eq(server_usable(s), 0);
	ck_assert_int_eq(server_set_admin(s, SERVER_DISABLED), 0);
	ck_assert_int_eq(server_set_admin(s, SERVER_ENABLED), 1);
	ck_assert_int_eq(server_usable(s), 1);
	ck_assert_int_eq(pool_can_serve(p), 1);
	ck_assert_uint_eq(s->down_gen, gen + 2);
	pool_unref(p);
}
END_TEST

/*
 * server_usable() answers what lb4ctl show stats and lb4_server_up used
 * to compute as server_state_name() == "up": for each health x admin.
 */
START_TEST(test_server_usable_is_up)
{
	static const int	 adm[] = { SERVER_ENABLED, SERVER_DISABLED,
				    SERVER_DRAINING };
	int			 w[] = { 1 };
	struct pool		*p = make_pool(w, NULL, NULL, 1);
	struct server		*s = p->servers[0];

	(void)server_set_health(s, _i / 3 ? SERVER_UP : SERVER_DOWN);
	(void)server_set_admin(s, adm[_i % 3]);
	ck_assert_int_eq(server_usable(s),
	    strcmp(server_state_name(s), "up") == 0);
	ck_assert_int_eq(server_usable(s), _i == 3);
	pool_unref(p);
}
END_TEST

static Suite *
pool_suite(void)
{
	Suite	*s = suite_create("pool");
	TCase	*core = tcase_create("core"), *limits = tcase_create("limits");

	tcase_add_loop_test(core, test_swrr_sequences, 0, nitems(sequences));
	tcase_add_test(core, test_pool_skip_mid_sequence);
	tcase_add_test(core, test_pool_backups);
	tcase_add_test(core, test_server_state);
	tcase_add_loop_test(core, test_server_usable_is_up, 0, 6);
	tcase_add_test(core, test_pool_apply_keeps_state);
	tcase_add_test(core, test_pool_sources_in_turn);
	tcase_add_test(core, test_pool_sources_per_server);
	tcase_add_test(limits, test_pool_check_sources);
	tcase_add_test(core, test_single_sticky);
	tcase_add_test(core, test_single_backup);
	tcase_add_test(core, test_single_reload_keeps_current);
	tcase_add_test(limits, test_single_no_spill);
	tcase_add_test(limits, test_swrr_none_eligible);
	tcase_add_test(limits, test_pool_max_connections);
	tcase_add_test(limits, test_pool_retry_skips_tried);
	suite_add_tcase(s, core);
	suite_add_tcase(s, limits);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(pool_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#!/bin/bash
# test/db/t_patroni.sh: lb4 in front of a Patroni cluster, as production
# runs the seed's database (issue 16).  One etcd and three Patroni nodes
# (PostgreSQL 15, synchronous_mode) on 127.0.0.1, all under a directory of
# build/, with ports from the integration tests' lock scheme.  lb4 has a
# db-write listener (mode single, on_server_down reset, checks /primary on
# each node's REST port through health_port) and a db-read listener
# (/replica).  Cases:
#   pgbench through db-write; switchover and failover (DB_RUNS times each)
#   under a write load of one fresh connection per insert, with a held
#   session; the leader's Patroni frozen (SIGSTOP): lb4 must reset the
#   session it holds to the marked-down node; a second node claiming
#   /primary (a stub REST endpoint) while mode single keeps every write on
#   one node; stickiness; and at the end every acknowledged write must be
#   on the final leader.
# Needs root (PostgreSQL runs as user postgres); installs patroni, etcd and
# PostgreSQL 15 with apt-get when they are missing.  Exit 0 pass, 1 fail,
# 77 skip.  DB_RUNS=3 for the report (default 1); KEEP=1 keeps the dir.
set -u
DBROOT=${LB4_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
ROOT=$DBROOT
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: t_patroni: needs root (PostgreSQL and Patroni run as user postgres, apt-get installs them)"
	exit 77
fi
mkdir -p "$ROOT/build"
TMPDIR=$ROOT/build
. "$ROOT/test/integration/lib.sh"
ROOT=$DBROOT	# lib.sh derives its own from $0
. "$ROOT/test/integration/hlib.sh"
unset TMPDIR
PORT_LOCKS=/tmp/lb4-itest-ports	# shared with every other test run
DBTOOL=$ROOT/test/db/dbtool.py
PY=/usr/bin/python3	# Debian's, with python3-psycopg2
DB_RUNS=${DB_RUNS:-1}
PGV=15
PGBIN=/usr/lib/postgresql/$PGV/bin

# ---------------------------------------------------------------- set-up

need=()
command -v patroni > /dev/null || need+=(patroni)
command -v etcd > /dev/null || need+=(etcd-server)
command -v etcdctl > /dev/null || need+=(etcd-client)
[ -x "$PGBIN/initdb" ] || need+=("postgresql-$PGV")
command -v pgbench > /dev/null || need+=("postgresql-client-$PGV")
/usr/bin/python3 -c "import psycopg2" 2> /dev/null || need+=(python3-psycopg2)
command -v curl > /dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
	    install -y -q "${need[@]}" > "$T/apt.log" 2>&1 ||
	    skip "apt-get install ${need[*]} failed: $(tail -n 3 "$T/apt.log")"
fi
# Debian starts a cluster and etcd when it installs them; ours are private.
id postgres > /dev/null 2>&1 || skip "no user postgres"
command -v setpriv > /dev/null || skip "setpriv (util-linux) is missing"

# free_port (lib.sh) asks ss once per candidate; on a loaded host each ss
# takes seconds, and this test needs 15 ports: one ss for all of them, the
# same lock directories (so no other test run takes them meanwhile).
USED_PORTS=" $(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u | tr '\n' ' ') "
free_port() {
	local p _
	mkdir -p "$PORT_LOCKS" 2>/dev/null
	for _ in $(seq 1 500); do
		p=$((21000 + (RANDOM * 32768 + RANDOM) % 9000))
		case $USED_PORTS in *" $p "*) continue ;; esac
		if mkdir "$PORT_LOCKS/$p" 2>/dev/null; then
			echo $$ > "$PORT_LOCKS/$p/owner"
			echo "$p"
			return 0
		fi
	done
	echo "free_port: no free port in 21000-29999" >&2
	echo 1
	return 1
}

chmod 0711 "$T"
install -d -o postgres -g postgres -m 0700 "$T/n1" "$T/n2" "$T/n3"
install -d -o postgres -g postgres -m 0755 "$T/run" "$T/sock"
install -d -m 0700 "$T/etcd"
EC=$(free_port); EP=$(free_port)
declare -A PG RP PAT_PID
for n in n1 n2 n3; do
	PG[$n]=$(free_port)
	RP[$n]=$(free_port)
done
LW=$(free_port); LR=$(free_port); LS=$(free_port)
STUB1=$(free_port); STUB2=$(free_port); METRICS=$(free_port)

say "etcd on $EC"
etcd --name lb4db --data-dir "$T/etcd" \
    --listen-client-urls "http://127.0.0.1:$EC" \
    --advertise-client-urls "http://127.0.0.1:$EC" \
    --listen-peer-urls "http://127.0.0.1:$EP" \
    --initial-advertise-peer-urls "http://127.0.0.1:$EP" \
    --initial-cluster "lb4db=http://127.0.0.1:$EP" \
    --initial-cluster-state new > "$T/etcd.log" 2>&1 &
ETCD_PID=$!
PIDS+=("$ETCD_PID")
wait_until 20 curl -sf "http://127.0.0.1:$EC/health" -o /dev/null ||
    fatal "etcd did not come up: $(tail -n 5 "$T/etcd.log")"

# Patroni: ttl 20 s, loop_wait 1 s (loop_wait + 2 x retry_timeout <= ttl).
# fsync is off: processes are killed in this test, never the host.
for n in n1 n2 n3; do
	cat > "$T/$n.yml" <<YML
scope: lb4db
name: $n
restapi:
  listen: 127.0.0.1:${RP[$n]}
  connect_address: 127.0.0.1:${RP[$n]}
etcd3:
  hosts: 127.0.0.1:$EC
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 1
    retry_timeout: 8
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    # Without strict, a primary left without a synchronous standby goes on
    # acknowledging commits that no standby has.
    synchronous_mode_strict: true
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_log_hints: "on"
        fsync: "off"
        max_connections: 100
  initdb:
  - encoding: UTF8
  - auth: trust
  pg_hba:
  - local all all trust
  - host all all 127.0.0.1/32 trust
  - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:${PG[$n]}
  connect_address: 127.0.0.1:${PG[$n]}
  data_dir: $T/$n/data
  bin_dir: $PGBIN
  pgpass: $T/run/pgpass.$n
  authentication:
    superuser: { username: postgres, password: postgres }
    replication: { username: postgres, password: postgres }
    rewind: { username: postgres, password: postgres }
  parameters:
    unix_socket_directories: $T/sock
log:
  level: INFO
YML
	chown postgres "$T/$n.yml"
done

# start_node N: its Patroni, as postgres; PAT_PID[N].
start_node() {
	# setpriv execs: $! is Patroni's own pid (a function would fork).
	setpriv --reuid postgres --regid postgres --init-groups -- \
	    patroni "$T/$1.yml" >> "$T/patroni-$1.log" 2>&1 &
	PAT_PID[$1]=$!
	PIDS+=("$!")
}

# postmaster N: the pid of node N's postgres, or nothing.
postmaster() {
	head -n 1 "$T/$1/data/postmaster.pid" 2>/dev/null
}

# Stops what is left, by pid: Patroni first (it stops its postgres), then
# any postgres still running; runs before lib.sh's cleanup.
db_stop_all() {
	say "stopping the cluster (patroni ${PAT_PID[*]:-none})"
	local n pid
	for n in n1 n2 n3; do
		pid=${PAT_PID[$n]:-}
		[ -n "$pid" ] || continue
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	for n in n1 n2 n3; do
		pid=${PAT_PID[$n]:-}
		[ -n "$pid" ] && { wait_until 15 eval '! alive '"$pid" ||
		    kill -KILL "$pid" 2>/dev/null; }
		pid=$(postmaster "$n")
		[ -n "$pid" ] && alive "$pid" && kill -QUIT "$pid" 2>/dev/null
	done
	[ -n "${NFT_TABLE:-}" ] && nft delete table inet "$NFT_TABLE" 2>/dev/null
	true
}
trap 'rc=$?; db_stop_all; (exit $rc); cleanup' EXIT

# role N: "primary", "replica" or "-" from node N's REST API.
role() {
	local c
	c=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:${RP[$1]}/primary")
	[ "$c" = 200 ] && { echo primary; return; }
	c=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:${RP[$1]}/replica")
	[ "$c" = 200 ] && { echo replica; return; }
	echo -
}

leader() {
	local n
	for n in n1 n2 n3; do
		[ "$(role $n)" = primary ] && { echo "$n"; return 0; }
	done
	return 1
}

# healthy: one primary, two streaming replicas, one of them synchronous.
healthy() {
	local n p=0 r=0
	for n in n1 n2 n3; do
		case $(role "$n") in
		primary) p=$((p + 1)) ;;
		replica) r=$((r + 1)) ;;
		esac
	done
	[ "$p" = 1 ] && [ "$r" = 2 ] || return 1
	curl -s -m 2 "http://127.0.0.1:${RP[$(leader)]}/cluster" |
	    grep -q '"sync_standby"'
}

node_of_port() {
	local n
	for n in n1 n2 n3; do
		[ "${PG[$n]}" = "$1" ] && { echo "$n"; return; }
	done
	echo "?$1"
}

psql_at() {	# psql_at PORT SQL
	PGCONNECT_TIMEOUT=3 timeout 15 psql -X -q -t -A -v ON_ERROR_STOP=1 \
	    -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2" 2>&1
}

t0=$(now_ms)
start_node n1
wait_until 150 eval '[ "$(role n1)" = primary ]' ||
    fatal "n1 did not bootstrap: $(tail -n 5 "$T/patroni-n1.log")"
start_node n2
start_node n3
wait_until 150 healthy ||
    fatal "the cluster did not get healthy: $(tail -n 3 "$T"/patroni-n*.log)"
say "cluster up in $(( $(now_ms) - t0 )) ms: leader $(leader); pg ${PG[*]}, rest ${RP[*]}"

# ------------------------------------------------------------------ lb4

L1=$(leader)
R1=n2; [ "$L1" = n2 ] && R1=n1
# DB_COMPAT=1: a config an lb4 without issue 16's keys reads (exec checks
# map a server's port to its REST port), to measure the flapping of an
# older binary (LB4=...) on the same switchovers.
cat > "$T/restmap" <<MAP
${PG[n1]} ${RP[n1]}
${PG[n2]} ${RP[n2]}
${PG[n3]} ${RP[n3]}
MAP
cat > "$T/check-rest" <<SH
#!/bin/sh
# exec check: GET /\$1 on the server's Patroni REST API (its port from
# restmap); exit 0 on 200.
rp=\$(awk -v p="\$LB4_SERVER_PORT" '\$1 == p { print \$2 }' "$T/restmap")
code=\$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:\$rp/\$1")
[ "\$code" = 200 ] && exit 0
echo "http status \$code"
exit 1
SH
printf '#!/bin/sh\nexec %s/check-rest primary\n' "$T" > "$T/check-primary"
printf '#!/bin/sh\nexec %s/check-rest replica\n' "$T" > "$T/check-replica"
chmod 0755 "$T/check-rest" "$T/check-primary" "$T/check-replica"

HC='interval_ms = 500; timeout_ms = 1000; rise = 2; fall = 2;'
srv() {		# srv NODE [HEALTH_PORT]: one server group
	if [ "${DB_COMPAT:-0}" = 1 ]; then
		echo "{ address = \"127.0.0.1:${PG[$1]}\"; }"
	else
		echo "{ address = \"127.0.0.1:${PG[$1]}\"; health_port = ${2:-${RP[$1]}}; }"
	fi
}
if [ "${DB_COMPAT:-0}" = 1 ]; then
	WRITE_KEYS=
	CHECK_W="type = \"exec\"; command = \"$T/check-primary\"; $HC"
	CHECK_R="type = \"exec\"; command = \"$T/check-replica\"; $HC"
	CHECK_S=$CHECK_W
	DEFAULTS=
else
	WRITE_KEYS='mode = "single";'
	CHECK_W="type = \"http\"; path = \"/primary\"; $HC"
	CHECK_R="type = \"http\"; path = \"/replica\"; $HC"
	CHECK_S=$CHECK_W
	DEFAULTS='on_server_down = "reset";'
fi
write_conf lb4 <<CONF
global = { workers = 2; log_level = "debug"; metrics = "127.0.0.1:$METRICS"; };
defaults = { retries = 1; connect_timeout_ms = 1000; $DEFAULTS };
listeners = (
  { name = "db-write"; bind = [ "127.0.0.1:$LW" ]; pool = "db-write"; },
  { name = "db-read"; bind = [ "127.0.0.1:$LR" ]; pool = "db-read"; },
  { name = "db-stub"; bind = [ "127.0.0.1:$LS" ]; pool = "db-stub"; }
);
pools = (
  { name = "db-write"; $WRITE_KEYS
    health = { $CHECK_W };
    servers = ( $(srv n1), $(srv n2), $(srv n3) ); },
  { name = "db-read";
    health = { $CHECK_R };
    servers = ( $(srv n1), $(srv n2), $(srv n3) ); },
  { name = "db-stub"; $WRITE_KEYS
    health = { $CHECK_S };
    servers = ( $(srv "$L1" "$STUB1"), $(srv "$R1" "$STUB2") ); }
);
CONF
start_lb4 lb4
expect_log "db-write: the leader $L1 is up" 10 "server db-write/127\.0\.0\.1:${PG[$L1]} is up"
wait_until 10 eval '[ "$(psql_at $LR "SELECT pg_is_in_recovery()")" = t ]' ||
    fail "db-read does not reach a replica"

psql_at "$LW" "CREATE TABLE w (id bigint PRIMARY KEY, at timestamptz DEFAULT now())" > /dev/null

# ------------------------------------------------------------ pgbench

say "pgbench through db-write: a new connection per transaction"
pgbench -i -q -s 1 -h 127.0.0.1 -p "$LW" -U postgres postgres > "$T/pgbench-init.log" 2>&1 ||
    fail "pgbench -i through db-write: $(tail -n 3 "$T/pgbench-init.log")"
pgbench -C -c 4 -j 2 -T 5 -h 127.0.0.1 -p "$LW" -U postgres postgres > "$T/pgbench.log" 2>&1 ||
    fail "pgbench through db-write: $(tail -n 3 "$T/pgbench.log")"
tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$T/pgbench.log")
bad=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$T/pgbench.log")
say "pgbench: $tx transactions, ${bad:-?} failed"
assert_eq "pgbench through db-write: failed transactions" 0 "${bad:-missing}"
[ "${tx:-0}" -gt 0 ] || fail "pgbench processed no transaction"
reads=$(for _ in 1 2 3 4 5 6; do psql_at "$LR" "SELECT pg_is_in_recovery()"; done | sort | uniq -c | tr -s ' ')
assert_eq "six reads through db-read all on replicas" " 6 t" "$reads"

# ------------------------------------------------- one writer at a time

NEXT_ID=1
# load NAME SECONDS: the write load in the background, ids from NEXT_ID.
load() {
	"$PY" "$DBTOOL" load "$LW" "$2" "$NEXT_ID" "$T/$1.w" &
	LOAD_PID=$!
	PIDS+=("$!")
	NEXT_ID=$((NEXT_ID + 100000))
}
hold() {	# hold NAME PORT: a held session
	"$PY" "$DBTOOL" hold "$2" 120 "$T/$1.h" &
	HOLD_PID=$!
	PIDS+=("$!")
	wait_until 20 grep -q '^open' "$T/$1.h" 2>/dev/null ||
	    fail "$1: no held session"
}
stop_bg() {
	local p
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
		wait_until 10 eval '! alive '"$p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
# ports_of FILE: "PORT COUNT" of the acknowledged writes (or reads).
ports_of() {
	awk '$1 == "ok" { n[$4]++ } END { for (p in n) print p, n[p] }' "$1" | sort
}
# sel N: N new connections through db-stub, the server port of each.
sel() {
	local _
	for _ in $(seq 1 "$1"); do
		psql_at "$LS" "SELECT inet_server_port()"
	done | sort | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' '
}
# mark_log, then expect_new WHAT SECONDS ERE: a line matching ERE written
# to the lb4 log after the mark (a server checked since start-up has an
# "is down" line from its first check already).
mark_log() {
	LOG_MARK=$(wc -l < "$LB4_LOG")
}
expect_new() {
	local limit=$(( $(now_ms) + $2 * 1000 ))
	while ! tail -n +"$((LOG_MARK + 1))" "$LB4_LOG" | grep -qE -- "$3"; do
		if [ "$(now_ms)" -ge "$limit" ]; then
			fail "$1: no new line matching /$3/ within $2 s"
			return 1
		fi
		sleep 0.05
	done
	say "ok: $1"
}
metric() {	# metric NAME POOL
	curl -s -m 2 "http://127.0.0.1:$METRICS/metrics" |
	    sed -n "s/^$1{pool=\"$2\"} //p"
}

if [ "${DB_COMPAT:-0}" != 1 ]; then
	touch "$T/flag1"
	"$PY" "$DBTOOL" stub "$STUB1" "$T/flag1" > "$T/stub1.log" 2>&1 &
	PIDS+=("$!")
	"$PY" "$DBTOOL" stub "$STUB2" "$T/flag2" > "$T/stub2.log" 2>&1 &
	PIDS+=("$!")
	expect_log "db-stub: $L1 (its stub says primary) is up" 10 \
	    "server db-stub/127\.0\.0\.1:${PG[$L1]} is up"
	assert_eq "db-stub: every connection to ${PG[$L1]} ($L1)" "${PG[$L1]}x6 " "$(sel 6)"
	assert_eq "lb4_pool_servers_up{pool=db-stub} with one primary" 1 "$(metric lb4_pool_servers_up db-stub)"

	say "two primaries: the stub of $R1 says primary too"
	mark_log
	touch "$T/flag2"
	expect_new "db-stub: $R1 (wrongly) up" 10 "server db-stub/127\.0\.0\.1:${PG[$R1]} is up"
	expect_log "mode single says two servers pass" 5 \
	    "pool db-stub: 2 servers pass their checks; mode single keeps new connections on 127\.0\.0\.1:${PG[$L1]}"
	assert_eq "lb4_pool_servers_up{pool=db-stub} with two primaries" 2 "$(metric lb4_pool_servers_up db-stub)"
	"$PY" "$DBTOOL" load "$LS" 3 900000 "$T/two.w"
	assert_eq "two primaries: every write on ${PG[$L1]}, none failed" \
	    "${PG[$L1]} $(grep -c '^ok' "$T/two.w")" "$(ports_of "$T/two.w")"
	assert_eq "two primaries: failed writes" 0 "$(grep -c '^fail' "$T/two.w")"

	say "stickiness: $L1 goes down (its stub says replica), then comes back"
	hold stick "$LS"
	mark_log
	rm -f "$T/flag1"
	expect_new "db-stub: $L1 down" 10 "server db-stub/127\.0\.0\.1:${PG[$L1]} is down"
	assert_eq "db-stub: connections moved to ${PG[$R1]} ($R1)" "${PG[$R1]}x4 " "$(sel 4)"
	wait_until 5 grep -q '^closed' "$T/stick.h" ||
	    fail "on_server_down reset: the session held to $L1 was not reset"
	say "held session: $(tail -n 1 "$T/stick.h")"
	stop_bg "$HOLD_PID"
	mark_log
	touch "$T/flag1"
	expect_new "db-stub: $L1 up again" 10 "server db-stub/127\.0\.0\.1:${PG[$L1]} is up"
	assert_eq "sticky: connections stay on ${PG[$R1]} ($R1)" "${PG[$R1]}x4 " "$(sel 4)"
fi

server_metric() {	# server_metric NAME POOL PORT
	curl -s -m 2 "http://127.0.0.1:$METRICS/metrics" |
	    sed -n "s/^$1{pool=\"$2\",server=\"127.0.0.1:$3\"} //p"
}

# ------------------------------------------------ switchover, failover

# event_report NAME T0: gap and failures of the load NAME after T0.
event_report() {
	local r
	local h held
	r=$("$PY" "$DBTOOL" gap "$T/$1.w" "$2")
	h=$(tail -n 1 "$T/$1.h" 2>/dev/null)
	case $h in
	closed*) held="closed $(( $(echo "$h" | cut -d' ' -f2) - $2 )) ms after the event: $(echo "$h" | cut -d' ' -f3- | cut -c1-60)" ;;
	*) held="not closed ($h)" ;;
	esac
	echo "$1 $r; held session $held" >> "$T/report"
	say "$1: $r; held session $held"
}
# flaps NODE SINCE_LINE: up/down lines of db-write for NODE after a line.
flaps() {
	tail -n +"$2" "$LB4_LOG" | grep -cE "server db-write/127\.0\.0\.1:${PG[$1]} is (up|down)"
}

for run in $(seq 1 "$DB_RUNS"); do
	old=$(leader)
	line=$(($(wc -l < "$LB4_LOG") + 1))
	say "switchover $run: from $old"
	hold "so$run" "$LW"
	load "so$run" 60
	sleep 2
	t0=$(now_ms)
	curl -s -m 10 -XPOST "http://127.0.0.1:${RP[$old]}/switchover" \
	    -d "{\"leader\": \"$old\"}" > "$T/so$run.out"
	wait_until 30 eval 'n=$(leader) && [ "$n" != "$old" ]' ||
	    fail "switchover $run: no new leader: $(cat "$T/so$run.out")"
	new=$(leader)
	wait_until 30 eval 'awk -v t=$t0 '"'"'$1 == "ok" && $3 > t { f = 1 } END { exit !f }'"'"' "$T/so$run.w"' ||
	    fail "switchover $run: no write acknowledged after it"
	sleep 2
	stop_bg "$LOAD_PID" "$HOLD_PID"
	event_report "so$run" "$t0"
	echo "flaps so$run $(flaps "$old" "$line")" >> "$T/report"
	say "switchover $run: $old -> $new, $(flaps "$old" "$line") up/down lines for $old"
	wait_until 60 healthy || fail "switchover $run: the cluster did not get healthy"
done
[ "${DB_COMPAT:-0}" = 1 ] && { stop_lb4; finish; }

for run in $(seq 1 "$DB_RUNS"); do
	old=$(leader)
	say "failover $run: $old crashes (Patroni and PostgreSQL killed)"
	hold "fo$run" "$LW"
	load "fo$run" 90
	sleep 2
	t0=$(now_ms)
	pm=$(postmaster "$old")
	kill -KILL "${PAT_PID[$old]}"
	# shellcheck disable=SC2046 # one word per child pid
	kill -KILL "$pm" $(cat /proc/"$pm"/task/"$pm"/children 2>/dev/null)
	wait_until 60 eval 'n=$(leader) && [ "$n" != "$old" ]' ||
	    fail "failover $run: no new leader"
	wait_until 30 eval 'awk -v t=$t0 '"'"'$1 == "ok" && $3 > t { f = 1 } END { exit !f }'"'"' "$T/fo$run.w"' ||
	    fail "failover $run: no write acknowledged after it"
	sleep 2
	stop_bg "$LOAD_PID" "$HOLD_PID"
	event_report "fo$run" "$t0"
	say "failover $run: $old -> $(leader); $old rejoins"
	start_node "$old"
	wait_until 90 healthy || fail "failover $run: the cluster did not get healthy"
done

# -------------------------------------------------------- frozen Patroni

old=$(leader)
say "frozen: SIGSTOP $old's Patroni; its PostgreSQL stays up"
hold frozen "$LW"
load frozen 90
sleep 1
t0=$(now_ms)
resets0=$(server_metric lb4_server_down_resets_total db-write "${PG[$old]}")
mark_log
kill -STOP "${PAT_PID[$old]}"
expect_new "frozen: lb4 marks $old down" 10 "server db-write/127\.0\.0\.1:${PG[$old]} is down"
say "frozen: $(tail -n +"$((LOG_MARK + 1))" "$LB4_LOG" | grep -m1 -E "server db-write/127\.0\.0\.1:${PG[$old]} is down")"
wait_until 5 grep -q '^closed' "$T/frozen.h" ||
    fail "frozen: lb4 did not reset its session to the marked-down $old"
resets1=$(server_metric lb4_server_down_resets_total db-write "${PG[$old]}")
if [ "${resets1:-0}" -gt "${resets0:-0}" ]; then
	say "ok: lb4_server_down_resets_total{db-write, $old}: $resets0 -> $resets1"
else
	fail "frozen: lb4_server_down_resets_total{db-write, $old} did not move ($resets0 -> $resets1)"
fi
say "frozen: held session $(tail -n 1 "$T/frozen.h" | cut -c1-100) ($(( $(awk '$1 == "closed" { print $2 }' "$T/frozen.h") - t0 )) ms after SIGSTOP)"
wait_until 60 eval 'n=$(leader) && [ "$n" != "$old" ]' ||
    fail "frozen: no new leader"
wait_until 30 eval 'awk -v t=$t0 '"'"'$1 == "ok" && $3 > t + 1000 && $4 != '"${PG[$old]}"' { f = 1 } END { exit !f }'"'"' "$T/frozen.w"' ||
    fail "frozen: writes did not move to the new leader"
stop_bg "$LOAD_PID" "$HOLD_PID"
event_report frozen "$t0"
late=$(awk -v t="$t0" -v p="${PG[$old]}" '$1 == "ok" && $4 == p && $3 > t + 3000' "$T/frozen.w" | wc -l)
assert_eq "frozen: writes acknowledged by $old 3 s after the freeze" 0 "$late"
# Fence the frozen node as Patroni's watchdog would (kill it, then let it
# rejoin) instead of SIGCONT: Debian 12's Patroni 3.0.2 with etcd3 lets a
# resumed leader whose lease expired write a new leader key over its
# successor's (fixed in Patroni 3.0.3, patroni/patroni#2689), and the
# successor's acknowledged writes were rewound away.
pm=$(postmaster "$old")
kill -KILL "${PAT_PID[$old]}"
# shellcheck disable=SC2046 # one word per child pid
kill -KILL "$pm" $(cat /proc/"$pm"/task/"$pm"/children 2>/dev/null) 2>/dev/null
wait_until 10 eval '! alive '"$pm"
start_node "$old"
wait_until 150 healthy || fail "frozen: the cluster did not get healthy after the fence"

# ---------------------------------------------- no acknowledged write lost

# The leader by the DCS (what Patroni decided), not the first node that
# answers /primary: after a failed step two may.
final=$(curl -s -m 2 "http://127.0.0.1:${RP[n1]}/cluster" | "$PY" -c '
import json, sys
print([m["name"] for m in json.load(sys.stdin)["members"] if m["role"] == "leader"][0])') ||
    final=$(leader)
cat "$T"/*.w | awk '$1 == "ok" { print $2 }' | sort -n > "$T/acked"
psql_at "${PG[$final]}" "SELECT id FROM w ORDER BY id" | sort -n > "$T/present"
lost=$(comm -23 "$T/acked" "$T/present" | wc -l)
say "$(wc -l < "$T/acked") acknowledged writes, $(wc -l < "$T/present") rows on the final leader $final"
assert_eq "acknowledged writes missing on the final leader" 0 "$lost"
sed 's/^/report: /' "$T/report"
stop_lb4
finish

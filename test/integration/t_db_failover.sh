#!/bin/bash
# The database scenario with real PostgreSQL: a primary and a streaming
# replica on loopback.  Listener db-write: a pool of both nodes whose exec
# check asks pg_is_in_recovery() (only the primary passes).  Listener
# db-read: the replica, with the primary as backup.  Writes go through
# db-write, reads come back through db-read; while the replica is not there
# yet db-read falls back to the primary.  Then the primary stops and the
# replica is promoted: within fall x interval plus a margin, writes through
# db-write succeed on the new primary and reads still work.
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to run PostgreSQL as user postgres"
PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
{ [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ]; } ||
    skip "PostgreSQL is not installed (Debian package postgresql)"
id postgres > /dev/null 2>&1 || skip "no user postgres"
command -v runuser > /dev/null || skip "runuser (util-linux) is missing"

INTERVAL=1000 FALL=2 RISE=2
P1=$(free_port); P2=$(free_port); LW=$(free_port); LR=$(free_port)
chmod 0711 "$T"
install -d -o postgres -g postgres -m 0700 "$T/pg1" "$T/pg2"
install -d -o postgres -g postgres -m 0755 "$T/sock" "$T/pglog"

pg() {		# pg CMD ARGS...: a PostgreSQL program as user postgres
	local cmd=$1
	shift
	(cd "$T" && runuser -u postgres -- "$PGBIN/$cmd" "$@")
}

# Stops whatever postgres is left, fast; runs before lib.sh's cleanup.
pg_stop_all() {
	local d pid
	for d in pg1 pg2; do
		[ -f "$T/$d/postmaster.pid" ] || continue
		pg pg_ctl -D "$T/$d" -m immediate -w -t 10 stop > /dev/null 2>&1
		pid=$(head -n 1 "$T/$d/postmaster.pid" 2>/dev/null)
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	done
}
trap 'rc=$?; pg_stop_all; (exit $rc); cleanup' EXIT

# sql PORT SQL: one statement through lb4 (or a node); prints the result.
sql() {
	PGCONNECT_TIMEOUT=3 timeout 10 "$PGBIN/psql" -X -q -t -A \
	    -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres \
	    -c "$2" 2>&1
}

say "initdb and start the primary on $P1"
pg initdb -D "$T/pg1" -A trust -U postgres --no-sync > "$T/pglog/initdb.log" 2>&1 ||
    fatal "initdb failed: $(tail -n 5 "$T/pglog/initdb.log")"
cat >> "$T/pg1/postgresql.conf" <<PGC
listen_addresses = '127.0.0.1'
port = $P1
unix_socket_directories = '$T/sock'
fsync = off
wal_level = replica
max_wal_senders = 4
hot_standby = on
PGC
pg pg_ctl -D "$T/pg1" -l "$T/pglog/pg1.log" -w -t 30 start > /dev/null ||
    fatal "primary did not start: $(tail -n 5 "$T/pglog/pg1.log")"

# The checks: exit 0 = up.  Output (first line) goes into lb4's reason.
cat > "$T/pg-primary" <<SH
#!/bin/sh
r=\$(PGCONNECT_TIMEOUT=2 "$PGBIN/psql" -X -q -t -A -h "\$LB4_SERVER_ADDRESS" \\
    -p "\$LB4_SERVER_PORT" -U postgres -d postgres \\
    -c 'SELECT pg_is_in_recovery()' 2>&1) || { echo "\$r"; exit 2; }
[ "\$r" = f ] && exit 0
echo "in recovery: \$r"
exit 1
SH
cat > "$T/pg-alive" <<SH
#!/bin/sh
r=\$(PGCONNECT_TIMEOUT=2 "$PGBIN/psql" -X -q -t -A -h "\$LB4_SERVER_ADDRESS" \\
    -p "\$LB4_SERVER_PORT" -U postgres -d postgres -c 'SELECT 1' 2>&1) ||
    { echo "\$r"; exit 2; }
exit 0
SH
chmod 0755 "$T/pg-primary" "$T/pg-alive"

write_conf lb4 <<CONF
global = { workers = 2; log_level = "debug"; };
defaults = { retries = 1; connect_timeout_ms = 1000; };
listeners = (
  { name = "db-write"; bind = [ "127.0.0.1:$LW" ]; pool = "db-write"; },
  { name = "db-read"; bind = [ "127.0.0.1:$LR" ]; pool = "db-read"; }
);
pools = (
  { name = "db-write";
    health = { type = "exec"; command = "$T/pg-primary";
      interval_ms = $INTERVAL; timeout_ms = 2000; rise = $RISE; fall = $FALL; };
    servers = ( { address = "127.0.0.1:$P1"; }, { address = "127.0.0.1:$P2"; } ); },
  { name = "db-read";
    health = { type = "exec"; command = "$T/pg-alive";
      interval_ms = $INTERVAL; timeout_ms = 2000; rise = $RISE; fall = $FALL; };
    servers = ( { address = "127.0.0.1:$P2"; },
      { address = "127.0.0.1:$P1"; backup = true; } ); }
);
CONF
start_lb4 lb4
expect_log "db-write: the primary is up" 10 "server db-write/127\.0\.0\.1:$P1 is up$"
expect_log "db-write: the replica (not there yet) is down, psql says why" 10 \
    "server db-write/127\.0\.0\.1:$P2 is down: exit status 2: psql: error: "
expect_log "db-read: the backup (primary) is up" 10 "server db-read/127\.0\.0\.1:$P1 is up$"
assert_eq "db-read without its replica reads from the backup (primary)" f \
    "$(sql "$LR" 'SELECT pg_is_in_recovery()')"
out=$(sql "$LW" "CREATE TABLE t (v text); INSERT INTO t VALUES ('one')")
assert_eq "create and insert through db-write" "" "$out"

say "pg_basebackup -R and start the replica on $P2"
pg pg_basebackup -h 127.0.0.1 -p "$P1" -U postgres -D "$T/pg2" -R -X stream \
    --no-sync > "$T/pglog/basebackup.log" 2>&1 ||
    fatal "pg_basebackup failed: $(tail -n 5 "$T/pglog/basebackup.log")"
echo "port = $P2" >> "$T/pg2/postgresql.conf"
pg pg_ctl -D "$T/pg2" -l "$T/pglog/pg2.log" -w -t 30 start > /dev/null ||
    fatal "replica did not start: $(tail -n 5 "$T/pglog/pg2.log")"
expect_log "db-read: the replica is up" 10 "server db-read/127\.0\.0\.1:$P2 is up$"
assert_eq "db-read now reads from the replica" t \
    "$(sql "$LR" 'SELECT pg_is_in_recovery()')"
assert_eq "db-write still writes to the primary" f \
    "$(sql "$LW" 'SELECT pg_is_in_recovery()')"
out=$(sql "$LW" "INSERT INTO t VALUES ('two')")
assert_eq "insert through db-write" "" "$out"
wait_until 10 eval '[ "$(sql $LR "SELECT count(*) FROM t")" = 2 ]' ||
    fail "the rows did not reach the replica"
assert_eq "the rows read back through db-read (replica)" "one two" \
    "$(sql "$LR" 'SELECT v FROM t ORDER BY v' | tr '\n' ' ' | sed 's/ $//')"
assert_no_grep "db-write never marked the replica up" \
    "server db-write/127\.0\.0\.1:$P2 is up" "$LB4_LOG"

say "failover: stop the primary, promote the replica"
t0=$(now_ms)
pg pg_ctl -D "$T/pg1" -m fast -w -t 30 stop > /dev/null || fail "primary did not stop"
pg pg_ctl -D "$T/pg2" -w -t 30 promote > /dev/null || fail "promote failed"
t_promoted=$(( $(now_ms) - t0 ))
say "primary stopped and replica promoted after $t_promoted ms"
limit=$(( t_promoted + FALL * INTERVAL + 3000 ))
tries=0
while :; do
	tries=$((tries + 1))
	out=$(sql "$LW" "INSERT INTO t VALUES ('three')") && [ -z "$out" ] && break
	[ $(( $(now_ms) - t0 )) -gt $((limit + 10000)) ] && break
	sleep 0.1
done
dt=$(( $(now_ms) - t0 ))
say "first write through db-write after the failover: $dt ms after the stop ($tries tries; last error: ${out:-none})"
assert_range "writes through db-write work again within promote + fall x interval + 3 s (ms)" \
    0 "$limit" "$dt"
# By its check ("exit status 2: psql: ...") or, when the writes above
# came first, by passive counting ("N failed connects from workers").
expect_log "db-write: the old primary is down" 5 \
    "server db-write/127\.0\.0\.1:$P1 is down: "
say "$(grep -E "server db-write/127\.0\.0\.1:$P1 is down" "$LB4_LOG")"
expect_log "db-write: the promoted replica is up" 5 \
    "server db-write/127\.0\.0\.1:$P2 is up$"
assert_eq "db-write now reaches a primary" f "$(sql "$LW" 'SELECT pg_is_in_recovery()')"
assert_eq "reads through db-read see every row" "one three two" \
    "$(sql "$LR" 'SELECT v FROM t ORDER BY v' | tr '\n' ' ' | sed 's/ $//')"
stop_lb4
pg_stop_all
finish

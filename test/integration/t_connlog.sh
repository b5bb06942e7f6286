#!/bin/bash
# The connection log and the termination counters (lb4.conf(5) CONNECTION
# LOG): every `end` value that lb4 can produce without
# on_server_down/tcp_keepalive is made by the situation it names, its log line
# has the fields of lb4.conf(5) in their order with the values of that
# situation, the JSON form parses as JSON with the same keys in the same
# order, and lb4_connections_ended_total counts exactly the lines logged.
# Then a stalled log reader: lb4's stderr is a FIFO nobody reads; connections
# keep flowing, health checks and the control socket keep answering, and
# lb4_log_dropped_total rises.
. "$(dirname "$0")/lib.sh"

command -v python3 > /dev/null || skip "python3 is not installed"
command -v prlimit > /dev/null || skip "prlimit (util-linux) is not installed"

PE=$(free_port); PI=$(free_port); PR=$(free_port); PT=$(free_port)
PD=$(free_port); PN=$(free_port); PX=$(free_port); M=$(free_port)
E=$(free_port); ID=$(free_port); RST=$(free_port); NONE=$(free_port)
DEAD=$(free_port); DEAD2=$(free_port)
start_back echo -l 127.0.0.1:"$E" --echo
start_back id -l 127.0.0.1:"$ID" --id srv
start_back rst -l 127.0.0.1:"$RST" --rst 100
start_back none -l 127.0.0.1:"$NONE" --echo

# conf NAME FORMAT: every listener logs (global.log_connections) except
# "echo", which turns it on for itself, so both switches are used.
conf() {
	write_conf "$1" <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; log_connections = true;
  log_format = "$2"; shutdown_timeout_ms = 1000; };
listeners = (
  { name = "echo"; bind = [ "127.0.0.1:$PE" ]; pool = "echo"; log = true; },
  { name = "id"; bind = [ "127.0.0.1:$PI" ]; pool = "id"; },
  { name = "rst"; bind = [ "127.0.0.1:$PR" ]; pool = "rst"; },
  { name = "idle"; bind = [ "127.0.0.1:$PT" ]; pool = "echo";
    idle_timeout_ms = 300; },
  { name = "dead"; bind = [ "127.0.0.1:$PD" ]; pool = "dead"; },
  { name = "none"; bind = [ "127.0.0.1:$PN" ]; pool = "none"; },
  { name = "deny"; bind = [ "127.0.0.1:$PX" ]; pool = "echo";
    deny = [ "127.0.0.0/8" ]; }
);
pools = (
  { name = "echo"; servers = ( { address = "127.0.0.1:$E"; } ); },
  { name = "id"; servers = ( { address = "127.0.0.1:$ID"; } ); },
  { name = "rst"; servers = ( { address = "127.0.0.1:$RST"; } ); },
  { name = "dead"; retries = 1; servers = ( { address = "127.0.0.1:$DEAD"; },
    { address = "127.0.0.1:$DEAD2"; } ); },
  { name = "none"; servers = ( { address = "127.0.0.1:$NONE"; } ); }
);
CONF
}

ctl() {
	LB4_SOCKET=$T/lb4.sock timeout 10 "$LB4CTL" "$@"
}

scrape() {
	curl -sS --max-time 5 "http://127.0.0.1:$M/metrics" > "$T/m.txt" ||
	    fail "scrape failed"
}

# ended LISTENER END: lb4_connections_ended_total of the last scrape.
ended() {
	awk -v k="lb4_connections_ended_total{listener=\"$1\",end=\"$2\"}" \
	    '$1 == k { print $2 }' "$T/m.txt"
}

# The lines of the connection log, without the <6> prefix.
conn_lines() {
	sed -n 's/^<6>\(conn .*\)$/\1/p' "$LB4_LOG"
}

# wait_lines N: the log holds N conn lines (the main thread drains the
# workers' rings every tick, the writer thread writes them).
wait_lines() {
	wait_until 5 eval '[ "$(conn_lines | wc -l)" -ge '"$1"' ]' ||
	    fail "expected $1 conn lines, have $(conn_lines | wc -l)"
}

# The lowest two free descriptor numbers of lb4: with the soft limit at
# the second, exactly one more descriptor can be opened.
second_free_fd() {
	local fd n=0
	for fd in $(seq 0 4096); do
		[ -e "/proc/$LB4_PID/fd/$fd" ] && continue
		n=$((n + 1))
		[ $n = 2 ] && { echo "$fd"; return; }
	done
}

# ------------------------------------------------------------------ text

conf text text
start_lb4 text
n=0

# client_fin: the client sends 1000 bytes, FIN; the echo answers, FIN.
for i in 1 2; do
	"$TCLIENT" -T 5000 -n 1000 -s $i --expect-echo 127.0.0.1:"$PE" > /dev/null
	assert_rc "client_fin #$i: echoed" 0 $?
done
n=$((n + 2)); wait_lines $n

# server_fin: the server writes its id and closes first.
out=$("$TCLIENT" -T 5000 --seq 1 127.0.0.1:"$PI")
assert_rc "server_fin: the server's id came back" 0 $?
echo "$out"
n=$((n + 1)); wait_lines $n

# client_reset: the client resets after its echo came back.
"$TCLIENT" -T 5000 -n 1000 --rst-after-echo 127.0.0.1:"$PE" > /dev/null
assert_rc "client_reset: echoed, then reset" 0 $?
n=$((n + 1)); wait_lines $n

# server_reset: the server resets after 100 bytes.
"$TCLIENT" -T 5000 -n 100 --no-shut 127.0.0.1:"$PR" > /dev/null
assert_rc "server_reset reaches the client" 4 $?
n=$((n + 1)); wait_lines $n

# idle_timeout: nothing moves for 300 ms.
out=$("$TCLIENT" -T 5000 --hold 3000 127.0.0.1:"$PT")
assert_rc "idle_timeout: lb4 closed the idle connection" 0 $?
n=$((n + 1)); wait_lines $n

# connect_failed: two servers, nothing listens, retries = 1: 2 attempts.
"$TCLIENT" -T 5000 -n 10 127.0.0.1:"$PD" > /dev/null
n=$((n + 1)); wait_lines $n

# no_server: the pool's only server is disabled.
ctl disable server none 127.0.0.1:"$NONE" > /dev/null ||
    fail "lb4ctl disable server"
"$TCLIENT" -T 5000 -n 10 127.0.0.1:"$PN" > /dev/null
ctl enable server none 127.0.0.1:"$NONE" > /dev/null ||
    fail "lb4ctl enable server"
n=$((n + 1)); wait_lines $n

# denied: deny = 127.0.0.0/8.
"$TCLIENT" -T 5000 -n 10 127.0.0.1:"$PX" > /dev/null
assert_rc "denied: the client is reset" 4 $?
n=$((n + 1)); wait_lines $n

# A local error answered by the fd reserve (issue 13): lb4 may open
# exactly one more descriptor: the client's is accepted, the socket()
# towards the server fails with EMFILE, a reserve descriptor is given up
# and the connection is served: this host's failure is counted (reason
# fd), never the server's, and the client never notices.  (end=local_error
# itself, a client reset once every retry met a local error, is what
# t_churn's port exhaustion produces.)
soft=$(prlimit --pid "$LB4_PID" --nofile --noheadings --output SOFT)
hard=$(prlimit --pid "$LB4_PID" --nofile --noheadings --output HARD)
lim=$(second_free_fd)
say "lb4 RLIMIT_NOFILE $soft:$hard; soft limit $lim for one connection"
prlimit --pid "$LB4_PID" --nofile="$lim:$hard" ||
    fail "prlimit --nofile=$lim"
"$TCLIENT" -T 5000 -n 10 --expect-echo 127.0.0.1:"$PE" > /dev/null
assert_rc "a connection whose server socket came from the fd reserve" 0 $?
prlimit --pid "$LB4_PID" --nofile="$soft:$hard" ||
    fatal "prlimit: cannot give lb4 its limit back"
n=$((n + 1)); wait_lines $n
assert_grep "the reserve answered" "the reserve answered an accepted client" \
    "$LB4_LOG"
"$TCLIENT" -T 5000 -n 1000 --expect-echo 127.0.0.1:"$PE" > /dev/null
assert_rc "a connection after the descriptor limit is given back" 0 $?
n=$((n + 1)); wait_lines $n

# The counters equal the lines, per listener and end, before shutdown.
scrape
conn_lines > "$T/lines.txt"
sed 's/^/    /' "$T/lines.txt"
for le in echo:client_fin id:server_fin echo:client_reset rst:server_reset \
    idle:idle_timeout dead:connect_failed none:no_server deny:denied; do
	l=${le%%:*} e=${le#*:}
	got=$(grep -c "^conn listener=$l .* end=$e\$" "$T/lines.txt")
	assert_eq "lb4_connections_ended_total{$l,$e} = its log lines" \
	    "$got" "$(ended "$l" "$e")"
	[ "$got" -ge 1 ] || fail "no $e line for listener $l"
done
total_lines=$(wc -l < "$T/lines.txt")
total_counted=$(awk '$1 ~ /^lb4_connections_ended_total\{/ { s += $2 }
    END { print s + 0 }' "$T/m.txt")
assert_eq "every ended connection was logged once" "$total_lines" \
    "$total_counted"
assert_eq "nothing dropped" 0 "$(awk '$1 == "lb4_log_dropped_total" {
    print $2 }' "$T/m.txt")"

# shutdown: a connection still open at shutdown_timeout_ms is cut.
bg_client hold -T 10000 --hold 8000 127.0.0.1:"$PE"
wait_until 5 eval '[ "$(ctl show stats | grep -c "^listener echo .* active=1 ")" = 1 ]' ||
    fail "the held connection did not start"
stop_lb4 0 10
wait_client hold > /dev/null
conn_lines > "$T/lines.txt"

# Each end: its line, the fields in lb4.conf(5)'s order, the situation's values.
A='127\.0\.0\.1'
C="client=$A:[0-9]+"
D='duration_ms=[0-9]+'
expect_line() {
	local what=$1 re=$2
	if grep -qE "^$re\$" "$T/lines.txt"; then
		say "ok: $what: $(grep -E -m1 "^$re\$" "$T/lines.txt")"
	else
		fail "$what: no line matching /^$re\$/"
	fi
}
expect_line client_fin "conn listener=echo $C server=$A:$E tries=1 connect_ms=[0-9]+ $D c2s=1000 s2c=1000 end=client_fin"
expect_line server_fin "conn listener=id $C server=$A:$ID tries=1 connect_ms=[0-9]+ $D c2s=0 s2c=4 end=server_fin"
expect_line client_reset "conn listener=echo $C server=$A:$E tries=1 connect_ms=[0-9]+ $D c2s=1000 s2c=1000 end=client_reset"
expect_line server_reset "conn listener=rst $C server=$A:$RST tries=1 connect_ms=[0-9]+ $D c2s=100 s2c=0 end=server_reset"
expect_line idle_timeout "conn listener=idle $C server=$A:$E tries=1 connect_ms=[0-9]+ duration_ms=(2[89][0-9]|[3-9][0-9][0-9]|[0-9]{4}) c2s=0 s2c=0 end=idle_timeout"
expect_line connect_failed "conn listener=dead $C server=- tries=2 connect_ms=- $D c2s=0 s2c=0 end=connect_failed"
expect_line no_server "conn listener=none $C server=- tries=0 connect_ms=- $D c2s=0 s2c=0 end=no_server"
expect_line denied "conn listener=deny $C server=- tries=0 connect_ms=- duration_ms=0 c2s=0 s2c=0 end=denied"
expect_line shutdown "conn listener=echo $C server=$A:$E tries=1 connect_ms=[0-9]+ duration_ms=[0-9]+ c2s=0 s2c=0 end=shutdown"
assert_eq "idle_timeout lines: the idle listener's only" 1 \
    "$(grep -c 'end=idle_timeout' "$T/lines.txt")"
cp "$T/lines.txt" "$T/text-lines.txt"

# ------------------------------------------------------------------ json

conf json json
start_lb4 json json
"$TCLIENT" -T 5000 -n 1000 --expect-echo 127.0.0.1:"$PE" > /dev/null
assert_rc "json: client_fin" 0 $?
"$TCLIENT" -T 5000 --seq 1 127.0.0.1:"$PI" > /dev/null
assert_rc "json: server_fin" 0 $?
"$TCLIENT" -T 5000 -n 10 127.0.0.1:"$PD" > /dev/null
"$TCLIENT" -T 5000 -n 10 127.0.0.1:"$PX" > /dev/null
wait_until 5 eval '[ "$(grep -c "^<6>{" "$LB4_LOG")" -ge 4 ]' ||
    fail "json: expected 4 lines"
python3 - "$LB4_LOG" "$E" "$ID" > "$T/json.out" 2>&1 <<'PY'
import json, sys
keys = ["msg", "listener", "client", "server", "tries", "connect_ms",
        "duration_ms", "c2s", "s2c", "end"]
ends = {}
for line in open(sys.argv[1]):
    if not line.startswith("<6>{"):
        continue
    o = json.loads(line[3:])
    assert list(o) == keys, "keys %s" % list(o)
    for k in ("tries", "duration_ms", "c2s", "s2c"):
        assert isinstance(o[k], int), k
    ends[o["end"]] = o
    print(line.strip())
e = ends["client_fin"]
assert e["server"] == "127.0.0.1:" + sys.argv[2] and e["c2s"] == 1000, e
assert isinstance(e["connect_ms"], int), e
e = ends["server_fin"]
assert e["server"] == "127.0.0.1:" + sys.argv[3] and e["s2c"] == 4, e
e = ends["connect_failed"]
assert e["server"] is None and e["connect_ms"] is None and e["tries"] == 2, e
e = ends["denied"]
assert e["server"] is None and e["tries"] == 0, e
print("json ok")
PY
rc=$?
cat "$T/json.out"
assert_rc "json lines parse, keys in lb4.conf(5) order, values right" 0 $rc
stop_lb4

# -------------------------------------------------------- stalled reader

# lb4's stderr is a FIFO that this shell holds open on fd 3 and never
# reads: the pipe fills (64 KiB), the writer thread blocks in write(), then
# its buffer fills and lines are dropped.  Health checks, the control
# socket and the workers must not notice.
S1=$(free_port); S2=$(free_port)
start_back s1 -l 127.0.0.1:"$S1" --echo --quiet
start_back s2 -l 127.0.0.1:"$S2" --echo --quiet
write_conf stall <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; log_connections = true; };
listeners = (
  { name = "echo-with-a-long-name-to-fill-the-log-sooner-xx";
    bind = [ "127.0.0.1:$PE" ]; pool = "p"; },
  { name = "deny-with-a-long-name-to-fill-the-log-sooner-xx";
    bind = [ "127.0.0.1:$PX" ]; pool = "p"; deny = [ "127.0.0.0/8" ]; }
);
pools = ( { name = "p";
  health = { type = "tcp"; interval_ms = 200; timeout_ms = 500; fall = 2; };
  servers = ( { address = "127.0.0.1:$S1"; }, { address = "127.0.0.1:$S2"; } ); } );
CONF
mkfifo "$T/fifo"
exec 3<> "$T/fifo"		# a reader, so that lb4's open does not wait
"$LB4" -c "$T/stall.conf" 2> "$T/fifo" 3>&- &
LB4_PID=$!
PIDS+=("$LB4_PID")
exec 4< "$T/fifo"		# the reader that never reads
exec 3>&-
wait_until 10 is_listening "$PE" || fatal "stall: lb4 did not start"
wait_until 10 eval '[ "$(ctl show servers | grep -c " up ")" = 2 ]' ||
    fail "stall: both servers up"

# Fill it: denied connections are the cheapest lines to make.
dropped=0
for round in $(seq 1 20); do
	"$TCLIENT" -T 20000 --loop 2 -c 4 -n 1 127.0.0.1:"$PX" > /dev/null 2>&1
	scrape
	dropped=$(awk '$1 == "lb4_log_dropped_total" { print $2 }' "$T/m.txt")
	say "round $round: lb4_log_dropped_total $dropped"
	[ "${dropped:-0}" -gt 0 ] && break
done
[ "${dropped:-0}" -gt 0 ] || fail "the log never filled up (no drop counted)"
# The writer thread is stuck in write(2) on the full FIFO.
grep -q pipe_write "/proc/$LB4_PID/task/"*/wchan 2>/dev/null &&
    say "a thread of lb4 waits in pipe_write"

# Connections keep flowing: a bounded load, every connection echoed.
out=$("$TCLIENT" -T 20000 --loop 3 -c 4 -n 2000 --expect-echo 127.0.0.1:"$PE")
rc=$?
echo "$out"
assert_rc "stall: a 3 s echo load while the log is stalled" 0 $rc
ok=$(kv "$out" ok)
[ "${ok:-0}" -ge 10 ] || fail "stall: only ${ok:-0} connections in 3 s"

# The control socket answers, and health checks still run: a server that
# stops is marked down (its "is down" message cannot be written either).
t0=$(now_ms)
ctl show stats > "$T/stats.out"
assert_rc "stall: lb4ctl show stats" 0 $?
assert_range "stall: lb4ctl show stats answered within (ms)" 0 \
    $((5000 * SLOW)) \
    $(( $(now_ms) - t0 ))
stop_pid "${BACK_PID[s2]}"
if wait_until 10 eval 'ctl show servers | grep -q "$S2 down"'; then
	say "ok: stall: the stopped server is marked down"
else
	fail "stall: the stopped server is not marked down within 10 s"
fi
scrape
assert_eq "stall: lb4_healthy while one server is up" 1 \
    "$(awk '$1 == "lb4_healthy" { print $2 }' "$T/m.txt")"
d2=$(awk '$1 == "lb4_log_dropped_total" { print $2 }' "$T/m.txt")
[ "${d2:-0}" -gt "$dropped" ] ||
    fail "stall: lb4_log_dropped_total did not rise ($dropped, then $d2)"
say "lb4_log_dropped_total: $dropped after the fill, $d2 after the load"

# The reader comes back: what was kept is whole lines, and lb4 stops.
timeout 20 cat <&4 > "$T/stall.log" &
catpid=$!
exec 4<&-
kill -TERM "$LB4_PID"
wait_until 10 eval '! alive $LB4_PID' || fail "stall: lb4 did not exit"
wait "$LB4_PID"
assert_eq "stall: lb4 exit status" 0 $?
LB4_PID=
wait "$catpid"
say "stall: $(wc -l < "$T/stall.log") lines read after the stall"
check_lb4_log "$T/stall.log"
finish

#!/bin/bash
# test/pair/flowtool-selftest.sh: the test of the tester (issue 18).
#
# test/pair/flowtool.c is what the VIP-move tests count cut connections
# with; a tool that never reports a cut proves nothing.  On loopback
# (127.0.0.1 and ::1, ports from the lock scheme of test/integration/lib.sh)
# this shows that it
#   clean    runs 20 flows of each kind per address family for 10 s and
#            reports every one ok, byte-exact, with the serving node;
#   kill     reports every flow cut (reset or eof-early) when the server is
#            killed mid-run, at the time it was killed;
#   freeze   reports timeouts when the server stops answering (SIGSTOP):
#            data, bulk and half-closed flows within -w, idle flows at
#            their final exchange;
#   corrupt  reports corrupt@OFFSET, the exact byte, when the server flips
#            one bit (serve -X): at offset 100000 only the bulk and
#            half-closed flows get that far; at offset 5 every kind does;
#   lb4      runs 10 flows of each kind per family through a real lb4
#            (build/lb4) for 10 s, all ok;
#   probe    (flowtool probe, pairtool probe's format for IPv6 too) sees
#            the node before the server is killed, refusals after;
#   keepalive  (root: a network namespace "v18t-PID" of its own) reports an
#            idle flow whose peer goes silent (its packets dropped) as
#            etimedout, by TCP keepalive alone, within the -K time.
# The parts run in parallel: about 15 s.  Exit 0 pass, 1 fail.

TNAME=flowtool-selftest
# lib.sh (ports, asserts, cleanup) wants the integration test tools.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${TOOLS:-$ROOT/build/tools}
if [ ! -x "$TOOLS/tback" ] || [ ! -x "$TOOLS/tclient" ]; then
	make -s -C "$ROOT" tools >&2 || { echo "FAIL: $TNAME: make tools" >&2; exit 1; }
fi
. "$ROOT/test/integration/lib.sh"

CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || skip "no C compiler ($CC)"
FT=$T/flowtool
"$CC" -O2 -Wall -Wextra -Werror -std=gnu11 -o "$FT" \
    "$ROOT/test/pair/flowtool.c" || fatal "cannot build test/pair/flowtool.c"

# start_serve NAME ARGS...: a server, ready once it listens.
start_serve() {
	local name=$1 port=$2 pid
	shift 2
	"$FT" serve -T 60 "$@" "127.0.0.1:$port" "[::1]:$port" \
	    > "$T/$name.serve.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	SERVE[$name]=$pid
	wait_until 5 is_listening "$port" || fatal "$name: server did not start"
}

# start_run NAME PORT ARGS...: a client in the background.
start_run() {
	local name=$1 port=$2 pid
	shift 2
	"$FT" run -o "$T/$name.out" "$@" "127.0.0.1:$port" "[::1]:$port" \
	    > "$T/$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	RUN[$name]=$pid
}

# flows NAME AWK-CONDITION: the count of flow lines matching.
flows() {
	awk '$1 == "flow" && ('"$2"') { n++ } END { print n + 0 }' "$T/$1.out"
}

ns_cleanup() { ip netns del "$NS" 2>/dev/null; }
declare -A SERVE RUN	# name -> pid
P_CLEAN=$(free_port) P_KILL=$(free_port) P_FREEZE=$(free_port)
P_C1=$(free_port) P_C5=$(free_port)
start_serve clean "$P_CLEAN"
start_serve kill "$P_KILL"
start_serve freeze "$P_FREEZE"
start_serve c1 "$P_C1" -X 100000
start_serve c5 "$P_C5" -X 5

start_run clean "$P_CLEAN" -T 10 -n 80
start_run kill "$P_KILL" -T 8 -n 16
start_run freeze "$P_FREEZE" -T 8 -n 16 -w 1500
start_run c1 "$P_C1" -T 7 -n 16
start_run c5 "$P_C5" -T 7 -n 16
# Through a real lb4 (both families on its listener, one backend): the
# tool must not see cuts that are its own artefacts (a balancer buffers
# far more than a direct path; that once made bulk flows fail their final
# exchange).
if [ -x "$LB4" ]; then
	P_LB=$(free_port) P_LBB=$(free_port)
	"$FT" serve -T 60 "127.0.0.1:$P_LBB" > "$T/lbb.serve.log" 2>&1 &
	PIDS+=($!)
	write_conf lb4 <<-CONF
	global = { workers = 2; };
	listeners = ( { name = "l"; bind = [ "127.0.0.1:$P_LB", "[::1]:$P_LB" ];
	    pool = "p"; } );
	pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$P_LBB"; } ); } );
	CONF
	start_lb4 lb4
	start_run lb "$P_LB" -T 10 -n 40
else
	echo "SKIP: $TNAME: the part through lb4: no $LB4 (make all)"
fi
# New connections to the killed server: answered, then refused.
"$FT" probe -o "$T/probe.out" -i 50 -T 5 "127.0.0.1:$P_KILL" \
    "[::1]:$P_KILL" > "$T/probe.log" 2>&1 &
RUN[probe]=$!
PIDS+=("${RUN[probe]}")

# keepalive: needs a namespace of its own (dropping packets on the host's
# loopback would touch every other test on this machine).
KA=skip
NS=v18t-$$
if [ "$(id -u)" != 0 ]; then
	KA_WHY="not root"
elif ! command -v nft >/dev/null 2>&1; then
	KA_WHY="no nft"
elif ! ip netns add "$NS" 2>/dev/null; then
	KA_WHY="cannot create a network namespace"
else
	KA=run
	# lib.sh's cleanup keeps the exit status; the namespace goes first.
	ns_exit() {
		local rc=$?
		ns_cleanup
		(exit "$rc")
		cleanup
	}
	trap ns_exit EXIT
	ip netns exec "$NS" ip link set lo up
	ip netns exec "$NS" "$FT" serve -T 60 127.0.0.1:7000 \
	    > "$T/ka.serve.log" 2>&1 &
	PIDS+=($!)
	sleep 0.3
	ip netns exec "$NS" "$FT" run -o "$T/ka.out" -T 12 -n 4 -k idle \
	    -K 1,1,2 127.0.0.1:7000 > "$T/ka.log" 2>&1 &
	RUN[ka]=$!
	PIDS+=("${RUN[ka]}")
fi

sleep 2.5
KILL_US=${EPOCHREALTIME/./}
{ kill -KILL "${SERVE[kill]}"; wait "${SERVE[kill]}"; } 2>/dev/null
FREEZE_US=${EPOCHREALTIME/./}
kill -STOP "${SERVE[freeze]}"
if [ $KA = run ]; then
	# The server's side goes silent: its keepalive answers are dropped.
	DROP_US=${EPOCHREALTIME/./}
	ip netns exec "$NS" nft -f - <<-EOF
	table inet v18t {
		chain out {
			type filter hook output priority 0;
			tcp sport 7000 drop
		}
	}
	EOF
fi

wait "${RUN[clean]}"; rc_clean=$?
wait "${RUN[kill]}"; rc_kill=$?
wait "${RUN[freeze]}"; rc_freeze=$?
wait "${RUN[c1]}"; rc_c1=$?
wait "${RUN[c5]}"; rc_c5=$?
wait "${RUN[probe]}"; rc_probe=$?
[ -n "${RUN[lb]:-}" ] && { wait "${RUN[lb]}"; rc_lb=$?; }
kill -CONT "${SERVE[freeze]}"
for n in clean kill freeze c1 c5; do
	say "$n: $(grep '^summary all' "$T/$n.out")"
done

# ---- clean: every flow ok, byte-exact, the node named.
assert_eq "clean: exit status" 0 "$rc_clean"
assert_eq "clean: flows" 160 "$(flows clean 1)"
assert_eq "clean: flows ok" 160 "$(flows clean '$6 == "ok" && $7 == "-"')"
for k in data idle bulk half; do
	for a in "127.0.0.1:$P_CLEAN" "[::1]:$P_CLEAN"; do
		assert_grep "clean: summary $a $k" \
		    "^summary ${a//[/\\[} $k total 20 ok 20 cut 0 fail 0\$" \
		    "$T/clean.out"
	done
done
assert_eq "clean: the node is the peer address the server saw" 160 \
    "$(flows clean '($2 ~ /^127/ && $5 == "127.0.0.1") || ($2 ~ /^\[/ && $5 == "::1")')"
# Each kind moved what it should: data echoed both ways, half-closed got
# 64 KiB echoed plus the server's stream (16 bytes per ms of 8.5 s), bulk
# at least 200 KB each way, idle only its final 32 bytes.
assert_eq "clean: data flows sent and got the same, >= 3000 bytes" 40 \
    "$(flows clean '$3 == "data" && $11 == $12 && $11 >= 3000')"
assert_eq "clean: half-closed flows got 65536 + 136000 bytes" 40 \
    "$(flows clean '$3 == "half" && $11 == 65536 && $12 == 65536 + 136000')"
assert_eq "clean: bulk flows moved >= 200 KB" 40 \
    "$(flows clean '$3 == "bulk" && $11 == $12 && $11 >= 200000')"
assert_eq "clean: idle flows exchanged only the final 32 bytes" 40 \
    "$(flows clean '$3 == "idle" && $11 == 32 && $12 == 32')"
assert_eq "clean: stdout has the summary" 9 "$(grep -c '^summary ' "$T/clean.log")"

# ---- kill: every flow cut, at the kill, by a reset or an early EOF.
assert_eq "kill: exit status" 1 "$rc_kill"
assert_eq "kill: flows cut" 32 "$(flows kill '$6 == "cut"')"
assert_eq "kill: reasons are reset or eof-early" 32 \
    "$(flows kill '$7 == "reset" || $7 == "eof-early"')"
# Seen within 1.5 s (a bulk reader may be in its 1 s pause).
assert_eq "kill: cut seen within 1.5 s of the kill" 32 \
    "$(flows kill '$9 >= '"$KILL_US"' && $9 < '"$KILL_US"' + 1500000')"
assert_grep "kill: summary counts them" \
    "^summary all all total 32 ok 0 cut 32 fail 0\$" "$T/kill.out"

# ---- through lb4: all ok, served by lb4's address.
if [ -n "${RUN[lb]:-}" ]; then
	say "lb4: $(grep '^summary all' "$T/lb.out")"
	assert_eq "lb4: exit status" 0 "$rc_lb"
	assert_eq "lb4: flows ok, node 127.0.0.1" 80 \
	    "$(flows lb '$6 == "ok" && $7 == "-" && $5 == "127.0.0.1"')"
	assert_eq "lb4: bulk flows moved >= 200 KB" 20 \
	    "$(flows lb '$3 == "bulk" && $11 == $12 && $11 >= 200000')"
	stop_lb4
fi

# ---- probe: the node before the kill, refused after it, both families.
assert_eq "probe: exit status" 0 "$rc_probe"
for i in 0 1; do
	node=127.0.0.1
	[ $i = 1 ] && node=::1
	before=$(awk -v i=$i -v k="$KILL_US" '$1 == "A" && $2 == i && $3 < k - 200000' "$T/probe.out" | wc -l)
	assert_range "probe $node: attempts before the kill" 10 120 "$before"
	assert_eq "probe $node: all answered by $node before the kill" "$before" \
	    "$(awk -v i=$i -v k="$KILL_US" -v n="$node/flowtool" '$1 == "A" && $2 == i && $3 < k - 200000 && $4 == 1 && $6 == n' "$T/probe.out" | wc -l)"
	after=$(awk -v i=$i -v k="$KILL_US" '$1 == "A" && $2 == i && $3 > k + 200000 && $6 != "stopped"' "$T/probe.out" | wc -l)
	assert_range "probe $node: attempts after the kill" 10 120 "$after"
	assert_eq "probe $node: all refused after the kill" "$after" \
	    "$(awk -v i=$i -v k="$KILL_US" '$1 == "A" && $2 == i && $3 > k + 200000 && $4 == 0 && $6 == "refused"' "$T/probe.out" | wc -l)"
done

# ---- freeze: timeouts, not resets.
assert_eq "freeze: exit status" 1 "$rc_freeze"
for k in data bulk half; do
	# Bulk flows may have waited up to 1 s before the freeze (the
	# server's read pause): 0.4 s after it at the earliest.
	assert_eq "freeze: $k flows timed out (-w 1500) while running" 8 \
	    "$(flows freeze '$3 == "'$k'" && $7 == "timeout" && $9 > '"$FREEZE_US"' + 400000 && $9 < '"$FREEZE_US"' + 5000000')"
done
assert_eq "freeze: idle flows failed their final exchange" 8 \
    "$(flows freeze '$3 == "idle" && $7 == "timeout-final"')"

# ---- corrupt: the exact byte.
assert_eq "corrupt@100000: exit status" 1 "$rc_c1"
assert_eq "corrupt@100000: bulk and half-closed flows cut there" 16 \
    "$(flows c1 '($3 == "bulk" || $3 == "half") && $6 == "cut" && $7 == "corrupt@100000" && $12 == 100000')"
assert_eq "corrupt@100000: data and idle flows (not that far) ok" 16 \
    "$(flows c1 '($3 == "data" || $3 == "idle") && $6 == "ok"')"
assert_eq "corrupt@5: exit status" 1 "$rc_c5"
assert_eq "corrupt@5: every flow cut there" 32 \
    "$(flows c5 '$6 == "cut" && $7 == "corrupt@5"')"

# ---- keepalive
if [ $KA = run ]; then
	wait "${RUN[ka]}"; rc_ka=$?
	say "keepalive: $(grep '^summary all' "$T/ka.out")"
	ns_cleanup
	assert_eq "keepalive: exit status" 1 "$rc_ka"
	# -K 1,1,2: idle 1 s, then 2 unanswered probes 1 s apart: ~3 s.
	assert_eq "keepalive: idle flows cut by keepalive within 2-6 s" 4 \
	    "$(flows ka '$7 == "etimedout" && $9 > '"$DROP_US"' + 2000000 && $9 < '"$DROP_US"' + 6000000')"
else
	echo "SKIP: $TNAME: keepalive part: $KA_WHY"
fi
finish

#!/bin/bash
# ok() and bad() always return 0, so "test && ok || bad" is safe here.
# shellcheck disable=SC2015
# test/ecmp/run.sh: lb4 nodes behind an ECMP router (make check-ecmp).
#
# Builds, in network namespaces it creates and deletes (all named e19...):
#
#   client 10.19.0.100 --- router 10.19.0.1 (BIRD, ECMP, L4 hash)
#                          router 10.19.1.1 --- switch (bridge) --- node1..4
#                          router 10.19.2.1 --- servers 10.19.2.11-13:8080
#   nodes 10.19.1.21-24 / fd19:1::21-24, each: lb4, BIRD, bgp-gate, nftables
#   VIPs 10.19.9.10 and fd19:9::10 on every node's lo, announced over eBGP
#
# with the shipped files (etc/bird/bird-node.conf, bird-router.conf,
# etc/lb4-ecmp.conf, etc/ecmp/lb4-ecmp.nft, node-sysctl.conf,
# router-sysctl.conf, etc/ecmp/lb4-resilient-ecmp, vrrp-hooks/bgp-gate and
# ecmp), only addresses, interface names and paths substituted.  For each
# router mode (plain multipath; resilient nexthop groups through the helper)
# it runs, under load (test/ecmp/ecmptool.c: a new connection every few ms
# from a new source port, and long connections that send every 200 ms and
# end after 4-12 s, each replaced):
#
#   steady      spread of 4,000 new IPv4 connections (each node within 10 %
#               of its share) and 400 IPv6; nothing cut
#   lb4-kill    SIGKILL lb4 on node2, the test (as supervisor) runs mark-down
#   lb4-hang    SIGSTOP lb4 on node2 (SIGCONT afterwards)
#   node-crash  node3's switch port down (BFD notices)
#   drain       `ecmp drain` on node4: no connection cut, the drain ends
#   join        `ecmp join` on node4: no connection cut
#
# and measures route convergence at the router (from the event to the ECMP
# route without/with the node), the new-connection gap, connections cut per
# node they were on, and the spread of new connections.
#
# Needs root, ip netns, bird2 (bird, birdc), nft, a C compiler; prints
# "SKIP: ..." and exits 77 without them.  Traffic stays inside the
# namespaces.  Every process is stopped by PID, every namespace deleted (trap).
#
# Environment:
#   ECMP_MODES="plain resilient"   router modes (default: both)
#   ECMP_SCENARIOS="steady lb4-kill lb4-hang node-crash drain join"
#   ECMP_RUNS=N                    runs of the scenario list per mode (1)
#   ECMP_SPREAD=N                  IPv4 connections for the spread (4000)
#   ECMP_PROBE_MS, ECMP_LONG       probe interval (5), long connections (160)
#   ECMP_OUT=DIR                   results and logs (default build/ecmp)
#   ECMP_FORWARD=off               run with second-chance forwarding off
#                                  (`ecmp forward off` on every node): to
#                                  measure what the forwarding saves; the
#                                  cut counts are then reported, not asserted
# Ends with "N passed, N failed, N skipped".

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/proc.sh
. "$ROOT/test/proc.sh"
MODES=${ECMP_MODES:-plain resilient}
SCENARIOS=${ECMP_SCENARIOS:-steady lb4-kill lb4-hang node-crash drain join}
RUNS=${ECMP_RUNS:-1}
SPREAD_N=${ECMP_SPREAD:-4000}
PROBE_MS=${ECMP_PROBE_MS:-5}
NLONG=${ECMP_LONG:-160}
FORWARD=${ECMP_FORWARD:-on}
MLABEL=''
[ "$FORWARD" = off ] && MLABEL=', no forwarding'
OUT=${ECMP_OUT:-$ROOT/build/ecmp}
LB4_BIN=$ROOT/build/lb4
LB4CTL_BIN=$ROOT/build/lb4ctl

# Targets (issue 19), in ms, with slack for a loaded 2-CPU host.
CHECK_TIMEOUT=2					# bgp-gate -t
BOUND_KILL=1000					# health file 1 -> route gone
BOUND_HANG=$(( (CHECK_TIMEOUT + 1) * 1000 + 1000 ))	# + polling, loaded host
BOUND_CRASH=2000				# BFD 3 x 100 ms + BIRD, loaded host

BOUND_MOVE=2000					# drain/join: flag, gate, BIRD
# BIRD's scheduling (see build_topology): SCHED_FIFO 1 when chrt works.
if command -v chrt >/dev/null 2>&1 && chrt -f 1 true 2>/dev/null; then
	BIRD_PRIO='chrt -f 1'
else
	BIRD_PRIO='nice -n -10'
fi

VIP4=10.19.9.10
VIP6=fd19:9::10
NODES="1 2 3 4"

pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
say() { echo "---- $*"; }
summary() { echo "$pass passed, $fail failed, $skip skipped"; }

skip_all() {
	echo
	echo "######################################################################"
	echo "SKIP: ecmp test: $*"
	echo "######################################################################"
	skip=$((skip + 1))
	summary
	exit 77
}

[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, BIRD)"
for c in ip bird birdc nft sysctl; do
	command -v $c >/dev/null 2>&1 ||
	    skip_all "$c not installed (apt-get install bird2 nftables iproute2 procps)"
done
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || skip_all "no C compiler ($CC)"
ip netns add "e19chk$$" 2>/dev/null || skip_all "cannot create network namespaces here"
ip -n "e19chk$$" link set lo up
ip -n "e19chk$$" nexthop add id 1 blackhole 2>/dev/null ||
    { ip netns del "e19chk$$"; skip_all "the kernel has no nexthop objects (5.3+ needed, 5.13+ for resilient groups)"; }
ip netns del "e19chk$$"
for b in "$LB4_BIN" "$LB4CTL_BIN"; do
	[ -x "$b" ] || { bad "$b missing: build it first (make all)"; summary; exit 1; }
done
mkdir -p "$OUT"
TOOL=$OUT/ecmptool
"$CC" -O2 -Wall -Wextra -Werror -std=gnu11 -o "$TOOL" "$ROOT/test/ecmp/ecmptool.c" ||
    { bad "cannot build test/ecmp/ecmptool.c"; summary; exit 1; }

# ---- state, cleanup ---------------------------------------------------------
T=$(mktemp -d /tmp/e19-ecmp.XXXXXX) || { bad "mktemp"; summary; exit 1; }
P=e19$$
NS_SW=${P}sw NS_RT=${P}rt NS_CL=${P}cl NS_SV=${P}sv
ALL_NS="$NS_SW $NS_RT $NS_CL $NS_SV ${P}n1 ${P}n2 ${P}n3 ${P}n4"
declare -A LB4_PID=() BIRD_PID=() GATE_PID=()
RT_BIRD='' HELPER_PID='' WATCH_PID='' SRV_PID='' LOAD_PID=''
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$OUT/results-$STAMP.txt
TABLE=$OUT/table-$STAMP.md
: >"$RESULTS"
echo "| mode | scenario | convergence ms | new-conn gap ms | probes failed / delayed | cut per node (n1 n2 n3 n4) | long conns | spread of new conns (n1 n2 n3 n4) | notes |" >"$TABLE"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |" >>"$TABLE"


teardown() {
	local n ns p
	stop_pid "$LOAD_PID"; LOAD_PID=''
	for n in $NODES; do
		stop_pid "${GATE_PID[$n]-}"; GATE_PID[$n]=''
		stop_pid "${LB4_PID[$n]-}"; LB4_PID[$n]=''
		stop_pid "${BIRD_PID[$n]-}"; BIRD_PID[$n]=''
	done
	stop_pid "$WATCH_PID"; WATCH_PID=''
	stop_pid "$HELPER_PID"; HELPER_PID=''
	stop_pid "$RT_BIRD"; RT_BIRD=''
	stop_pid "$SRV_PID"; SRV_PID=''
	for ns in $ALL_NS; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	sleep 0.2
	for ns in $ALL_NS; do
		ip netns del "$ns" 2>/dev/null
	done
}

cleanup() {
	trap - EXIT INT TERM
	set +e
	teardown
	if [ -d "$T" ]; then
		rm -rf "$OUT/logs"
		cp -r "$T" "$OUT/logs" 2>/dev/null
		rm -rf "$T"
	fi
	local left
	left=$(ip netns list | grep -c "^$P")
	[ "$left" -eq 0 ] || echo "WARNING: $left namespaces left: $(ip netns list | grep "^$P")"
}
trap cleanup EXIT
trap 'bad "interrupted"; summary; exit 130' INT TERM

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# wait_until MS CMD...: poll CMD every 50 ms for at most MS ms.
wait_until() {
	local ms=$1 end
	shift
	end=$(($(now_us) + ms * 1000))
	while :; do
		"$@" && return 0
		[ "$(now_us)" -lt $end ] || return 1
		sleep 0.05
	done
}

# The shipped files, with only addresses, interfaces and paths substituted.
subst() {
	sed -e 's/2001:db8:10::/fd19:9::/g' -e 's/2001:db8::/fd19:1::/g' \
	    -e 's/203\.0\.113\.0\/24/10.19.9.0\/24/g' \
	    -e 's/203\.0\.113\.10/10.19.9.10/g' \
	    -e 's/192\.0\.2\./10.19.1./g' -e 's/198\.51\.100\./10.19.2./g' \
	    -e 's/"eth0"/"e19n0"/g' -e 's/"eth1"/"e19up"/g' "$@"
}

# ---- topology ----------------------------------------------------------------
build_topology() {	# build_topology MODE
	local mode=$1 n ns
	for ns in $ALL_NS; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	# The switch: a bridge joining the router and the nodes.
	ip -n "$NS_SW" link add e19br type bridge stp_state 0 forward_delay 0 || return 1
	ip -n "$NS_SW" link set e19br up
	ip -n "$NS_SW" link add e19pr type veth peer name e19up netns "$NS_RT" || return 1
	ip -n "$NS_SW" link set e19pr master e19br up
	for n in $NODES; do
		ip -n "$NS_SW" link add e19p"$n" type veth peer name e19n0 netns "${P}n$n" || return 1
		ip -n "$NS_SW" link set e19p"$n" master e19br up
	done
	# Router: client side, node side, server side.
	ip -n "$NS_RT" link add e19cl type veth peer name e19c0 netns "$NS_CL" || return 1
	ip -n "$NS_RT" link add e19sv type veth peer name e19s0 netns "$NS_SV" || return 1
	nsx "$NS_RT" sh -c '
		ip addr add 10.19.0.1/24 dev e19cl && ip -6 addr add fd19::1/64 dev e19cl nodad &&
		ip addr add 10.19.1.1/24 dev e19up && ip -6 addr add fd19:1::1/64 dev e19up nodad &&
		ip addr add 10.19.2.1/24 dev e19sv &&
		ip link set e19cl up && ip link set e19up up && ip link set e19sv up' || return 1
	subst "$ROOT/etc/ecmp/router-sysctl.conf" >"$T/router-sysctl.conf"
	nsx "$NS_RT" sysctl -q -p "$T/router-sysctl.conf" || return 1
	nsx "$NS_CL" sh -c '
		ip addr add 10.19.0.100/24 dev e19c0 && ip -6 addr add fd19::100/64 dev e19c0 nodad &&
		ip link set e19c0 up && ip route add default via 10.19.0.1 &&
		ip -6 route add default via fd19::1' || return 1
	nsx "$NS_SV" sh -c '
		ip addr add 10.19.2.11/24 dev e19s0 && ip addr add 10.19.2.12/24 dev e19s0 &&
		ip addr add 10.19.2.13/24 dev e19s0 && ip link set e19s0 up &&
		ip route add default via 10.19.2.1' || return 1
	ip netns exec "$NS_SV" "$TOOL" serve -T 7200 10.19.2.11:8080 10.19.2.12:8080 10.19.2.13:8080 \
	    >"$T/serve.log" 2>&1 &
	SRV_PID=$!
	for n in $NODES; do
		ns=${P}n$n
		mkdir -p "$T/n$n"
		nsx "$ns" sh -c "
			ip addr add 10.19.1.2$n/24 dev e19n0 && ip -6 addr add fd19:1::2$n/64 dev e19n0 nodad &&
			ip link set e19n0 up && ip route add default via 10.19.1.1 &&
			ip -6 route add default via fd19:1::1 &&
			ip addr add $VIP4/32 dev lo && ip -6 addr add $VIP6/128 dev lo" || return 1
	done
	# Router BIRD.  Every BIRD runs at a real-time priority ($BIRD_PRIO):
	# BFD declares a peer dead after 3 x 100 ms of silence, and on a host
	# starved of CPU (other jobs, load average 20-60) a BIRD at normal
	# priority, or even at nice -10, misses that now and then and takes
	# sessions down.  Routers give their routing daemon that priority too.
	subst "$ROOT/etc/bird/bird-router.conf" |
	    sed -e "s|^log syslog all;|log \"$T/router-bird.log\" all;|" >"$T/router-bird.conf"
	[ "$mode" = resilient ] && sed -i 's/^\t#kernel table 19;/\tkernel table 19;/' "$T/router-bird.conf"
	$BIRD_PRIO ip netns exec "$NS_RT" bird -f -c "$T/router-bird.conf" -s "$T/router-bird.ctl" -P "$T/router-bird.pid" \
	    >"$T/router-bird.out" 2>&1 &
	RT_BIRD=$!
	if [ "$mode" = resilient ]; then
		ip netns exec "$NS_RT" "$ROOT/etc/ecmp/lb4-resilient-ecmp" -t 19 -i 900 \
		    >"$T/helper.log" 2>&1 &
		HELPER_PID=$!
	fi
	for n in $NODES; do
		node_setup "$n" || return 1
		start_bird "$n"
		start_lb4 "$n"
		start_gate "$n"
		if [ "$FORWARD" = off ]; then
			ecmp_cmd "$n" forward off >/dev/null || bad "n$n: ecmp forward off"
		fi
	done
	start_watch
}

node_setup() {	# the node's shipped files with its addresses
	local n=$1 ns=${P}n$1 d=$T/n$1
	subst "$ROOT/etc/bird/bird-node.conf" |
	    sed -e "s/^router id 10.19.1.21;/router id 10.19.1.2$n;/" \
		-e "s|^log syslog all;|log \"$d/bird.log\" all;|" >"$d/bird.conf"
	subst "$ROOT/etc/lb4-ecmp.conf" |
	    sed -e "s|/run/lb4/lb4.sock|$d/lb4.sock|" -e "s|/run/lb4/health|$d/health|" \
		-e 's|workers = 0;|workers = 1;|' -e 's|"0.0.0.0:9404"|"127.0.0.1:9404"|' \
		>"$d/lb4.conf"
	# The forwarding targets: every node but this one (the shipped file is
	# node 1's, whose list is nodes 2-4).
	subst "$ROOT/etc/ecmp/lb4-ecmp.nft" |
	    sed -e "s/dup to 10\.19\.1\.2$n /dup to 10.19.1.21 /" \
		-e "s/dup to fd19:1::2$n /dup to fd19:1::21 /" >"$d/lb4-ecmp.nft"
	nsx "$ns" nft -f "$d/lb4-ecmp.nft" || { bad "n$n: nft -f lb4-ecmp.nft"; return 1; }
	subst "$ROOT/etc/ecmp/node-sysctl.conf" >"$d/sysctl.conf"
	nsx "$ns" sysctl -q -p "$d/sysctl.conf" || { bad "n$n: sysctl -p node-sysctl.conf"; return 1; }
	"$ROOT/vrrp-hooks/mark-down" "$d/health"
}

start_bird() {
	local n=$1 d=$T/n$1
	$BIRD_PRIO ip netns exec "${P}n$n" bird -f -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid" >>"$d/bird.out" 2>&1 &
	BIRD_PID[$n]=$!
}

start_lb4() {
	local n=$1 d=$T/n$1
	ip netns exec "${P}n$n" "$LB4_BIN" -c "$d/lb4.conf" >>"$d/lb4.log" 2>&1 &
	LB4_PID[$n]=$!
}

# The supervisor's part (lb4.service ExecStopPost=): lb4 gone -> health 1.
lb4_gone() {
	local n=$1
	wait "${LB4_PID[$n]}" 2>/dev/null
	LB4_PID[$n]=''
	"$ROOT/vrrp-hooks/mark-down" "$T/n$n/health"
}

start_gate() {
	local n=$1 d=$T/n$1
	ip netns exec "${P}n$n" env LB4CTL="$LB4CTL_BIN" "$ROOT/vrrp-hooks/bgp-gate" \
	    -f "$d/health" -s "$d/lb4.sock" -b "$d/bird.ctl" -d "$d/drain" \
	    -t $CHECK_TIMEOUT >>"$d/gate.log" 2>&1 &
	GATE_PID[$n]=$!
}

ecmp_cmd() {	# ecmp_cmd N ARGS...: vrrp-hooks/ecmp on node N
	local n=$1 d=$T/n$1
	shift
	nsx "${P}n$n" env LB4CTL="$LB4CTL_BIN" "$ROOT/vrrp-hooks/ecmp" -f "$d/health" \
	    -s "$d/lb4.sock" -b "$d/bird.ctl" -d "$d/drain" -n "$d/lb4-ecmp.nft" "$@"
}

# The router's forwarding state for VIP4, every 25 ms, one line per change:
# "US n1,n2,..." (node numbers).  Plain: the route's next hops; resilient:
# the members of the nexthop group the route points to.
start_watch() {
	# Bash builtins only, apart from ip itself: this runs 40 times a second.
	ip netns exec "$NS_RT" bash -c '
		declare -A via
		last=x
		exec {sfd}<> <(:)	# read -t on it: a sleep without a fork
		while :; do
			r=$(ip -o route show '"$VIP4"'/32 table main 2>/dev/null)
			hops=()
			if [[ $r =~ nhid\ ([0-9]+) ]]; then
				gid=${BASH_REMATCH[1]} members=
				while read -r _ id k rest; do
					if [ "$k" = via ]; then via[$id]=${rest%% *}
					elif [ "$id" = "$gid" ] && [ "$k" = group ]; then members=${rest%% *}
					fi
				done < <(ip nexthop show 2>/dev/null)
				IFS=/ read -ra m <<<"$members"
				for x in "${m[@]}"; do hops+=("${via[${x%%,*}]-}"); done
			else
				for w in $r; do
					[[ $w == 10.19.1.2? ]] && hops+=("$w")
				done
			fi
			s=
			for k in 1 2 3 4; do
				for h in "${hops[@]}"; do
					[ "$h" = 10.19.1.2$k ] && { s=${s:+$s,}$k; break; }
				done
			done
			[ -n "$s" ] || s=none
			if [ "$s" != "$last" ]; then
				echo "${EPOCHREALTIME//[!0-9]/} $s"
				last=$s
			fi
			read -r -t 0.025 -u $sfd
		done' >>"$T/watch.log" 2>&1 &
	WATCH_PID=$!
}

route_set() { tail -1 "$T/watch.log" 2>/dev/null | awk '{ print $2 }'; }
route_is() { [ "$(route_set)" = "$1" ]; }

# converged SINCE_US SET: ms from SINCE_US to the first watcher line after
# it showing SET; empty when none.
converged() {
	awk -v t0="$1" -v want="$2" '$1 >= t0 && $2 == want { printf "%d\n", ($1 - t0) / 1000; exit }' "$T/watch.log"
}

all_up() { route_is 1,2,3,4; }

# ---- analysis ------------------------------------------------------------------
# cut_by_node FILE T0: "c1 c2 c3 c4 total_long" (cut after T0 - 1 s)
cut_by_node() {
	awk -v t0="$2" '
	    $1 == "L" { total++ }
	    $1 == "L" && ($4 == "reset" || $4 == "eof" || $4 == "timeout") && $3 >= t0 - 1000000 {
		split($5, a, "."); c[a[4] - 20]++ }
	    END { printf "%d %d %d %d %d\n", c[1], c[2], c[3], c[4], total }' "$1"
}
cut_before() {	# cuts before T0 - 1 s (must be 0: nothing was happening)
	awk -v t0="$2" '$1 == "L" && ($4 == "reset" || $4 == "eof" || $4 == "timeout") && $3 < t0 - 1000000 { n++ }
	    END { print n + 0 }' "$1"
}
connfails() { awk '$1 == "L" && $4 == "connfail" { n++ } END { print n + 0 }' "$1"; }
# probes FILE T0: "failed delayed gap_ms" for probes started after T0 - 1 s;
# bad = failed or answered after more than 500 ms; gap = first bad start to
# the first good start after the last bad one.
probes() {
	awk -v t0="$2" '
	    $1 == "A" && $2 >= t0 - 1000000 {
		bad = ($3 == 0 || $4 > 500000)
		if ($3 == 0) f++; else if ($4 > 500000) d++
		if (bad) { if (!first) first = $2; last = $2; goodafter = 0 }
		else if (first && !goodafter && $2 > last) goodafter = $2
	    }
	    END { g = 0; if (first) g = ((goodafter ? goodafter : last) - first) / 1000
		  printf "%d %d %d\n", f, d, g }' "$1"
}
# spread_after FILE FROM_US: new connections per node n1..n4 from FROM_US on
spread_after() {
	awk -v t0="$2" '$1 == "A" && $2 >= t0 && $3 == 1 { split($5, a, "."); c[a[4] - 20]++ }
	    END { printf "%d %d %d %d\n", c[1], c[2], c[3], c[4] }' "$1"
}

record() {	# record MODE SCENARIO CONV GAP FAILED/DELAYED CUTS LONG SPREAD NOTES
	echo "$*" >>"$RESULTS"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$@" >>"$TABLE"
}

start_load() {	# start_load FILE SECONDS
	ip netns exec "$NS_CL" "$TOOL" load -o "$1" -T "$2" -i "$PROBE_MS" -L "$NLONG" -l 4000:12000 \
	    "$VIP4:80" >>"$T/load.err" 2>&1 &
	LOAD_PID=$!
}
stop_load() { stop_pid "$LOAD_PID"; LOAD_PID=''; }

# ---- scenarios -----------------------------------------------------------------
sc_steady() {
	local mode=$1 f out c1 c2 c3 c4 share lo hi okn=1 t0 cuts
	out=$(nsx "$NS_CL" "$TOOL" spread -n "$SPREAD_N" -c 32 "$VIP4:80")
	# shellcheck disable=SC2001 # a prefix on every line
	echo "$out" | sed 's/^/    v4 spread: /'
	share=$((SPREAD_N / 4)); lo=$((share * 90 / 100)); hi=$((share * 110 / 100))
	for n in $NODES; do
		c=$(awk -v a="10.19.1.2$n" '$1 == "node" && $2 == a { print $3 }' <<<"$out")
		eval "c$n=${c:-0}"
		[ "${c:-0}" -ge $lo ] && [ "${c:-0}" -le $hi ] || okn=0
	done
	[ $okn -eq 1 ] && ok "$mode steady: $SPREAD_N IPv4 connections: $c1 $c2 $c3 $c4 (each within 10 % of $share)" ||
	    bad "$mode steady: IPv4 spread $c1 $c2 $c3 $c4, not each within $lo-$hi"
	grep -q '^failed 0$' <<<"$out" && ok "$mode steady: no IPv4 connection failed" ||
	    bad "$mode steady: IPv4 $(grep failed <<<"$out")"
	out=$(nsx "$NS_CL" "$TOOL" spread -n 400 -c 16 "[$VIP6]:80")
	# shellcheck disable=SC2001 # a prefix on every line
	echo "$out" | sed 's/^/    v6 spread: /'
	[ "$(grep -c '^node ' <<<"$out")" -eq 4 ] && grep -q '^failed 0$' <<<"$out" &&
	    ok "$mode steady: IPv6 VIP served by all 4 nodes, none failed" ||
	    bad "$mode steady: IPv6 spread: $(tr '\n' ' ' <<<"$out")"
	# Load with nothing happening: nothing may be cut.
	f=$T/$mode-steady.load
	t0=$(now_us)
	start_load "$f" 8
	wait "$LOAD_PID"; LOAD_PID=''
	read -r fl dl gap <<<"$(probes "$f" "$t0")"
	cuts=$(cut_by_node "$f" "$t0")
	[ "$fl" -eq 0 ] && [ "$(awk '{ print $1 + $2 + $3 + $4 }' <<<"$cuts")" -eq 0 ] &&
	    ok "$mode steady under load: 0 probes failed, 0 long connections cut" ||
	    bad "$mode steady under load: $fl probes failed, cuts $cuts"
	record "$mode$MLABEL" steady - "$gap" "$fl / $dl" "${cuts% *}" "${cuts##* }" "$c1 $c2 $c3 $c4" \
	    "$SPREAD_N IPv4 conns; IPv6: $(awk '$1 == "node" { printf "%s ", $3 }' <<<"$out")"
}

# event SCENARIO MODE NODE WANT_SET BOUND ACTION: load, action, measure.
sc_event() {
	local sc=$1 mode=$2 node=$3 want=$4 bound=$5 action=$6
	local f=$T/$mode-$sc.load t0 conv cuts others fl dl gap sp before
	start_load "$f" 40
	sleep 5
	t0=$(now_us)
	$action "$node" || bad "$mode $sc: action failed"
	wait_until 10000 route_is "$want"
	conv=$(converged "$t0" "$want")
	sleep 6
	stop_load
	read -r fl dl gap <<<"$(probes "$f" "$t0")"
	cuts=$(cut_by_node "$f" "$t0")
	before=$(cut_before "$f" "$t0")
	sp=$(spread_after "$f" $((t0 + 2000000)))
	echo "    convergence ${conv:-none} ms, probes failed $fl delayed $dl gap $gap ms, cut per node (n1..n4 total) $cuts, new conns after: $sp"
	if [ -z "$conv" ]; then
		bad "$mode $sc: the router never showed next hops $want (now $(route_set))"
	elif [ "$bound" != - ] && [ "$conv" -gt "$bound" ]; then
		bad "$mode $sc: route converged after $conv ms, more than $bound ms"
	else
		ok "$mode $sc: route converged after $conv ms${bound:+ (bound $bound)}"
	fi
	others=$(awk -v n="$node" '{ s = 0; for (i = 1; i <= 4; i++) if (i != n) s += $i; print s }' <<<"$cuts")
	[ "$before" -eq 0 ] || bad "$mode $sc: $before long connections cut before the event"
	if [ "$FORWARD" = off ]; then
		echo "    (forwarding off: cuts reported, not asserted)"
	else
	case $sc in
	drain|join)
		[ "$(awk '{ print $1 + $2 + $3 + $4 }' <<<"$cuts")" -eq 0 ] &&
		    ok "$mode $sc: no connection cut" ||
		    bad "$mode $sc: connections cut: $cuts" ;;
	*)
		[ "$others" -eq 0 ] &&
		    ok "$mode $sc: only node $node's connections cut (others: 0)" ||
		    bad "$mode $sc: $others connections of other nodes cut ($cuts)" ;;
	esac
	fi
	record "$mode$MLABEL" "$sc" "${conv:-none}" "$gap" "$fl / $dl" "${cuts% *}" "${cuts##* }" "$sp" "${NOTE-}"
	NOTE=''
}

act_kill() {
	kill -KILL "${LB4_PID[$1]}" && lb4_gone "$1"
}
act_hang() { kill -STOP "${LB4_PID[$1]}"; }
act_crash() { ip -n "$NS_SW" link set "e19p$1" down; }
act_drain() {
	# The drain waits for the node's connections to end (long ones live
	# up to 12 s); it runs in the background so the measure goes on.
	ecmp_cmd "$1" drain -w 30 >"$T/drain.out" 2>&1 &
	DRAIN_PID=$!
}
act_join() { ecmp_cmd "$1" join >"$T/join.out" 2>&1; }

repair_kill() { start_lb4 "$1"; wait_until 15000 all_up; }
repair_hang() { kill -CONT "${LB4_PID[$1]}"; wait_until 15000 all_up; }
repair_crash() { ip -n "$NS_SW" link set "e19p$1" up; wait_until 30000 all_up; }

# revive: a daemon of ours that died outside a scenario (this host's PIDs
# wrap quickly and other sessions stop processes by PID) is restarted, as
# systemd would, and said so; the scenario then starts from 4 nodes again.
revive() {
	local n dead=0
	for n in $NODES; do
		if [ -n "${BIRD_PID[$n]-}" ] && ! kill -0 "${BIRD_PID[$n]}" 2>/dev/null; then
			echo "NOTE: BIRD on node $n ended outside the test's control; restarted"
			start_bird "$n"; dead=1
		fi
		if [ -n "${GATE_PID[$n]-}" ] && ! kill -0 "${GATE_PID[$n]}" 2>/dev/null; then
			echo "NOTE: bgp-gate on node $n ended outside the test's control; restarted"
			start_gate "$n"; dead=1
		fi
		if [ -n "${LB4_PID[$n]-}" ] && ! kill -0 "${LB4_PID[$n]}" 2>/dev/null; then
			echo "NOTE: lb4 on node $n ended outside the test's control; restarted"
			lb4_gone "$n"; start_lb4 "$n"; dead=1
		fi
	done
	[ $dead -eq 0 ] || wait_until 30000 all_up
}

reset_router() {	# resilient: fresh groups, so that each scenario starts even
	[ "$1" = resilient ] || return 0
	stop_pid "$HELPER_PID"
	nsx "$NS_RT" "$ROOT/etc/ecmp/lb4-resilient-ecmp" -t 19 --flush >>"$T/helper.log" 2>&1
	ip netns exec "$NS_RT" "$ROOT/etc/ecmp/lb4-resilient-ecmp" -t 19 -i 900 >>"$T/helper.log" 2>&1 &
	HELPER_PID=$!
	wait_until 5000 all_up
}

run_mode() {
	local mode=$1 sc r
	say "mode $mode: building the topology"
	build_topology "$mode" || { bad "$mode: topology"; teardown; return; }
	if wait_until 40000 all_up; then
		ok "$mode: all 4 nodes announce the VIP; router: $(route_set)"
	else
		bad "$mode: the router has next hops '$(route_set)' after 40 s, not 1,2,3,4"
		nsx "$NS_RT" birdc -s "$T/router-bird.ctl" show protocols | sed 's/^/    /'
		teardown
		return
	fi
	v6_up() { [ "$(nsx "$NS_RT" ip -6 route show "$VIP6" | grep -c 'fd19:1::2')" -ge 4 ] ||
		  [ "$(nsx "$NS_RT" ip -6 route show "$VIP6" | grep -c nhid)" -ge 1 ]; }
	wait_until 10000 v6_up && ok "$mode: the router has the IPv6 VIP route" ||
	    bad "$mode: no IPv6 route for $VIP6 at the router"
	nsx "$NS_RT" birdc -s "$T/router-bird.ctl" show route | sed 's/^/    router: /'
	for r in $(seq "$RUNS"); do
	for sc in $SCENARIOS; do
		say "$mode: $sc (run $r)"
		revive
		reset_router "$mode"
		case $sc in
		steady) sc_steady "$mode" ;;
		lb4-kill) sc_event lb4-kill "$mode" 2 1,3,4 $BOUND_KILL act_kill; repair_kill 2 ||
			bad "$mode: node 2 did not come back after lb4-kill" ;;
		lb4-hang) sc_event lb4-hang "$mode" 2 1,3,4 $BOUND_HANG act_hang; repair_hang 2 ||
			bad "$mode: node 2 did not come back after lb4-hang" ;;
		node-crash) sc_event node-crash "$mode" 3 1,2,4 $BOUND_CRASH act_crash; repair_crash 3 ||
			bad "$mode: node 3 did not come back after node-crash" ;;
		drain)
			DRAIN_PID=''
			sc_event drain "$mode" 4 1,2,3 $BOUND_MOVE act_drain
			wait_until 30000 sh -c "! kill -0 $DRAIN_PID 2>/dev/null"
			wait "$DRAIN_PID"; rc=$?
			sed 's/^/    /' "$T/drain.out"
			if [ "$FORWARD" = off ]; then
				echo "    (forwarding off: ecmp drain exit $rc, not asserted)"
			elif [ $rc -eq 0 ] && grep -q 'drained: no connection left' "$T/drain.out"; then
				ok "$mode drain: ecmp drain finished, node 4 has no connection left"
			else
				bad "$mode drain: ecmp drain exit $rc"
			fi ;;
		join)
			# Node 4 starts out drained (the drain scenario, or now).
			if ! [ -e "$T/n4/drain" ]; then
				ecmp_cmd 4 drain -w 30 >/dev/null 2>&1
				wait_until 5000 route_is 1,2,3
				reset_router "$mode"
				route_is 1,2,3 || wait_until 5000 route_is 1,2,3
			fi
			sc_event join "$mode" 4 1,2,3,4 $BOUND_MOVE act_join
			sed 's/^/    /' "$T/join.out" ;;
		*) bad "unknown scenario $sc" ;;
		esac
	done
	done
	teardown
	sleep 1
}

for mode in $MODES; do
	run_mode "$mode"
done

echo
echo "Results ($RESULTS):"
cat "$TABLE"
cp "$TABLE" "$OUT/table-latest.md"
summary
[ $fail -eq 0 ]

#!/bin/bash
# ok() and bad() always return 0, so "test && ok || bad" is safe here.
# shellcheck disable=SC2015
# test/pair/vipmove.sh: VIP moves that cut nothing (issue 18, SPEC 10).
#
# Builds the pair of test/pair/run.sh in network namespaces of its own
# (prefix v18), per keepalived profile:
#
#   client 10.99.0.100 --+-- br0 (10.99.0.0/24) --+-- node A eth0 .1
#                        |                        +-- node B eth0 .2
#   VIP1 10.99.0.10 (home A), VIP2 10.99.0.11 (home B)
#   servers 10.99.1.11-13:8080 -- br1 (10.99.1.0/24) -- A eth1 .1, B eth1 .2
#
# Each node runs lb4, keepalived, vrrp-hooks/notify and `pair-forward watch`
# with the shipped files (etc/lb4-pair.conf, etc/keepalived/node-*.conf,
# etc/nftables/lb4.nft, etc/nftables/lb4-pair.nft, etc/sysctl.d/
# 61-lb4-pair.conf), only addresses, interface names and paths
# substituted.  A client holds long byte-exact connections through both
# VIPs (test/pair/flowtool.c: data every 100 ms, idle with TCP keepalive,
# bulk with full windows, half-closed) and probes each VIP with a new
# connection every 20 ms (pairtool probe), while the scenarios move VIP1:
#
#   held         flows opened before the pair ruleset was first loaded,
#                then `conntrack -F` on both nodes, then the nodes' VIP
#                traffic untracked (what a full conntrack table leaves: no
#                entry): no flow is forwarded away from its node, none cut
#   lb4-restart  lb4 killed on A (VIP1 to B), flows opened on VIP1 through
#                B, lb4 restarted: VIP1 home after preempt_delay, none of
#                B's flows cut
#   node-return  node A dies (its links down, keepalived, lb4 and the
#                watcher killed): A's flows get resets; flows opened through
#                B; A returns: VIP1 home, none of B's flows cut
#   maintenance  `maintenance on` on A with flows through A: VIP1 to B, A's
#                flows served on to their end, `on` returns 0; flows opened
#                through B; `maintenance off`: VIP1 home, nothing cut
#   peer-dead    A in maintenance, its flows forwarded to it by B; node A
#                dies: time from its death to the first reset of its flows
#                (target: master-down time + 3 s default, + 1 s fast)
#   split-brain  VRRP between the nodes blocked (both hold both VIPs) then
#                allowed again, flows through both nodes: none cut
#   ipv6         IPv6 VIPs (fd00:99::10, ::11): the first moved A -> B -> A
#                by hand (the shipped keepalived configs have IPv4
#                instances only), the client asking again (NS) each time:
#                only the holder answers (the other has it on lo); none cut
#
# Measured per scenario: flows cut (by the node that served them), the
# new-connection gap and failed/delayed attempts on VIP1, time to resets,
# packets forwarded (the ruleset's counters).  A table at the end.
#
# Needs root, ip netns, keepalived, nft, conntrack, setpriv, a C compiler;
# prints "SKIP: ..." and exits 77 without them.  Traffic stays inside the
# namespaces it creates.  Every process it starts is stopped by PID and
# every namespace deleted (trap).
#
# Environment:
#   VIPMOVE_PROFILES="default fast"  run concurrently, one namespace set each
#   VIPMOVE_RUNS=N                   runs of every scenario (default 1)
#   VIPMOVE_SCENARIOS="..."          held lb4-restart node-return
#                                    maintenance peer-dead split-brain ipv6
#   VIPMOVE_FLOWS=N                  long connections per VIP (default 50)
#   VIPMOVE_FORWARD=off              today's pair: no pair ruleset, no VIPs
#                                    on lo, lb4 bound to the VIPs (the
#                                    figures to compare with); assertions
#                                    about cuts are then not made
#   PAIR_LB4, PAIR_LB4CTL            binaries (default build/lb4, build/lb4ctl)
#   VIPMOVE_OUT=DIR                  results and logs (default build/vipmove)
# Ends with "N passed, N failed, N skipped".

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/proc.sh
. "$ROOT/test/proc.sh"
STOP_PID_TENTHS=50	# flowtool ends its flows cleanly: give it 5 s
PROFILES=${VIPMOVE_PROFILES:-default fast}
RUNS=${VIPMOVE_RUNS:-1}
SCENARIOS=${VIPMOVE_SCENARIOS:-held lb4-restart node-return maintenance peer-dead split-brain ipv6}
NFLOWS=${VIPMOVE_FLOWS:-50}
FORWARD=${VIPMOVE_FORWARD:-on}
LB4_BIN=${PAIR_LB4:-$ROOT/build/lb4}
LB4CTL_BIN=${PAIR_LB4CTL:-$ROOT/build/lb4ctl}
OUT=${VIPMOVE_OUT:-$ROOT/build/vipmove}

pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
say() { echo "---- $(date +%T) $*"; }
summary() { echo "$pass passed, $fail failed, $skip skipped"; }
skip_all() {
	echo
	echo "######################################################################"
	echo "SKIP: vipmove test: $*"
	echo "######################################################################"
	skip=$((skip + 1))
	summary
	exit 77
}

# ---- the parent: one child per profile, concurrently -----------------------
if [ -z "${VIPMOVE_CHILD-}" ]; then
	[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, keepalived)"
	for c in ip keepalived nft conntrack setpriv ss ping; do
		command -v $c >/dev/null 2>&1 ||
		    skip_all "$c not installed (apt-get install keepalived nftables conntrack iproute2 util-linux iputils-ping)"
	done
	command -v "${CC:-cc}" >/dev/null 2>&1 || skip_all "no C compiler"
	ip netns add "v18-chk-$$" 2>/dev/null || skip_all "cannot create network namespaces here"
	ip netns del "v18-chk-$$"
	for b in "$LB4_BIN" "$LB4CTL_BIN"; do
		[ -x "$b" ] || { bad "$b missing: build it first (make all)"; summary; exit 1; }
	done
	# The users the package makes (etc/lb4.sysusers): lb4 runs lb4,
	# lb4-vrrp (in group lb4) runs keepalived's scripts.  Created when
	# missing, removed afterwards.
	CREATED_USERS=
	if ! getent passwd lb4 >/dev/null; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin lb4 || skip_all "no lb4 user and cannot create it"
		CREATED_USERS="lb4"
	fi
	if ! getent passwd lb4-vrrp >/dev/null; then
		useradd --system --user-group --groups lb4 --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin lb4-vrrp ||
		    skip_all "no lb4-vrrp user and cannot create it"
		CREATED_USERS="lb4-vrrp $CREATED_USERS"
	elif ! id -nG lb4-vrrp | grep -qw lb4; then
		usermod -a -G lb4 lb4-vrrp || skip_all "cannot put lb4-vrrp in group lb4"
	fi
	# shellcheck disable=SC2317 # called by the traps
	remove_users() {
		local u
		for u in $CREATED_USERS; do userdel "$u" 2>/dev/null; groupdel "$u" 2>/dev/null; done
	}
	trap remove_users EXIT
	mkdir -p "$OUT"
	for t in flowtool pairtool; do
		if ! "${CC:-cc}" -O2 -Wall -Wextra -Werror -std=gnu11 -o "$OUT/$t" \
		    "$ROOT/test/pair/$t.c"; then
			bad "cannot build test/pair/$t.c"; summary; exit 1
		fi
	done
	pids=
	for prof in $PROFILES; do
		VIPMOVE_CHILD=$prof "$0" >"$OUT/$prof.log" 2>&1 &
		pids="$pids $!"
	done
	trap 'kill $pids 2>/dev/null; wait; remove_users; exit 130' INT TERM
	for p in $pids; do wait "$p"; done
	for prof in $PROFILES; do
		grep -E '^(FAIL|SKIP):' "$OUT/$prof.log" | sed "s/^/$prof: /"
		line=$(tail -1 "$OUT/$prof.log")
		if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
			pass=$((pass + BASH_REMATCH[1]))
			fail=$((fail + BASH_REMATCH[2]))
			skip=$((skip + BASH_REMATCH[3]))
		else
			bad "$prof: did not finish: $line (log: $OUT/$prof.log)"
		fi
	done
	echo
	echo "| profile | forwarding | scenario | run | flows cut (A/B) of | new-conn gap ms | failed/delayed | resets after death ms (A's flows, first/last) | forwarded A/B | notes |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for prof in $PROFILES; do
		sed -n 's/^ROW //p' "$OUT/$prof.log"
	done
	echo "logs: $OUT/<profile>.log, $OUT/<profile>/"
	summary
	[ $fail -eq 0 ]
	exit
fi

# ---- the child: one profile ------------------------------------------------------
PROF=$VIPMOVE_CHILD
[ -n "$(sed -n 's/^Environment="WATCH_OPTS=\(.*\)"$/\1/p' "$ROOT/etc/lb4-pair-forward.service")" ] ||
	{ bad "etc/lb4-pair-forward.service has no WATCH_OPTS"; }
case $PROF in
default) MD_MS=3600 PD_S=10 RESET_BOUND_MS=6600 ;;
fast) MD_MS=360 PD_S=3 RESET_BOUND_MS=1360 ;;
*) bad "unknown profile $PROF"; summary; exit 1 ;;
esac
FLOWTOOL=$OUT/flowtool
PAIRTOOL=$OUT/pairtool
VIP1=10.99.0.10 VIP2=10.99.0.11 PORT=80
NODE_ADDR_a=10.99.0.1 NODE_ADDR_b=10.99.0.2
BACK_a=10.99.1.1 BACK_b=10.99.1.2
CLIENT=10.99.0.100
VIP6_1=fd00:99::10 VIP6_2=fd00:99::11
NODE6_a=fd00:99::1 NODE6_b=fd00:99::2 CLIENT6=fd00:99::100
P=v18${PROF:0:1}$$
NS_BR=$P-br NS_a=$P-a NS_b=$P-b NS_C=$P-c NS_S=$P-s
ALL_NS="$NS_a $NS_b $NS_C $NS_S $NS_BR"
# keepalived's enable_script_security refuses scripts below /tmp.
T=$(mktemp -d /run/lb4-v18.XXXXXX) || { bad "mktemp"; summary; exit 1; }
chmod 755 "$T"
declare -A KA_PID=() LB4_SUP=() WATCH_PID=()
SRV_PID='' PROBE_PID=''


cleanup() {
	local x ns p
	trap - EXIT INT TERM
	set +e
	stop_pid "$PROBE_PID"
	stop_all_flows
	for x in a b; do
		stop_pid "${WATCH_PID[$x]-}"
		stop_pid "${KA_PID[$x]-}"
		stop_lb4 "$x"
	done
	stop_pid "$SRV_PID"
	for ns in $ALL_NS; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	sleep 0.2
	for ns in $ALL_NS; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "${OUT:?}/$PROF"
	mkdir -p "$OUT/$PROF"
	cp -r "$T"/. "$OUT/$PROF/" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'bad "interrupted"; summary; exit 130' INT TERM

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
wait_until() {	# wait_until MS CMD...
	local end=$(($(now_us) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_us)" -lt $end ] || return 1
		sleep 0.05
	done
}
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ns_of() { local v=NS_$1; echo "${!v}"; }

# ---- topology ---------------------------------------------------------------------
setup_topology() {
	local ns x
	for ns in $ALL_NS; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		if [ "$FORWARD" = on ] && [ "$ns" != "$NS_S" ]; then
			# IPv6 on the front segment, for the IPv6 VIPs;
			# addresses usable at once (no DAD).
			nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
			nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
			nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
			nsx "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=0
		else
			nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
			nsx "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		fi
	done
	for b in br0 br1; do
		ip -n "$NS_BR" link add $b type bridge stp_state 0 forward_delay 0 || return 1
		ip -n "$NS_BR" link set $b up
	done
	veth() {
		ip -n "$NS_BR" link add "$3" type veth peer name "$2" netns "$1" || return 1
		ip -n "$NS_BR" link set "$3" master "$4" up
		ip -n "$1" link set "$2" up
	}
	veth "$NS_a" eth0 a0 br0 && veth "$NS_a" eth1 a1 br1 &&
	veth "$NS_b" eth0 b0 br0 && veth "$NS_b" eth1 b1 br1 &&
	veth "$NS_C" eth0 c0 br0 && veth "$NS_S" eth0 s0 br1 || return 1
	ip -n "$NS_a" addr add $NODE_ADDR_a/24 dev eth0
	ip -n "$NS_a" addr add $BACK_a/24 dev eth1
	ip -n "$NS_b" addr add $NODE_ADDR_b/24 dev eth0
	ip -n "$NS_b" addr add $BACK_b/24 dev eth1
	ip -n "$NS_C" addr add $CLIENT/24 dev eth0
	if [ "$FORWARD" = on ]; then
		ip -n "$NS_a" addr add $NODE6_a/64 dev eth0 nodad
		ip -n "$NS_b" addr add $NODE6_b/64 dev eth0 nodad
		ip -n "$NS_C" addr add $CLIENT6/64 dev eth0 nodad
	fi
	for x in 11 12 13; do ip -n "$NS_S" addr add 10.99.1.$x/24 dev eth0; done
	# The client's view of a VIP move is its ARP cache: keep entries
	# short-lived as a busy client's are refreshed by the GARPs anyway.
	nsx "$NS_C" sysctl -qw net.ipv4.neigh.eth0.base_reachable_time_ms=5000
}

# ---- files: the shipped ones, substituted -----------------------------------------
subst() {	# subst NODE < shipped > substituted
	sed -e 's/192\.0\.2\./10.99.0./g' -e 's/198\.51\.100\./10.99.1./g' \
	    -e "s#/usr/lib/lb4/vrrp-hooks/#$T/hooks/#g" \
	    -e "s#/run/lb4/#$T/$1/run/lb4/#g" \
	    -e "s#/etc/lb4/maintenance#$T/$1/maintenance#g" \
	    -e "s#/run/keepalived-lb4.fifo#$T/$1/notify.fifo#g"
}

prepare_files() {
	local x peer
	mkdir -p "$T/hooks" "$T/bin"
	cp "$ROOT"/vrrp-hooks/check-lb4 "$ROOT"/vrrp-hooks/mark-down \
	    "$ROOT"/vrrp-hooks/notify "$ROOT"/vrrp-hooks/pair-forward \
	    "$ROOT"/vrrp-hooks/maintenance "$T/hooks/"
	cp "$LB4_BIN" "$T/bin/lb4"
	cp "$LB4CTL_BIN" "$T/bin/lb4ctl"
	chmod 755 "$T/hooks"/* "$T/bin"/*
	for x in a b; do
		mkdir -p "$T/$x/vrrp.d"
		sed "s#/run/lb4#$T/$x/run/lb4#g" "$ROOT/etc/lb4.tmpfiles" >"$T/$x/lb4.tmpfiles"
		systemd-tmpfiles --create "$T/$x/lb4.tmpfiles" >/dev/null 2>&1 ||
		    { bad "node $x: systemd-tmpfiles"; return 1; }
		: >"$T/$x/events"
		chown lb4-vrrp:lb4-vrrp "$T/$x/events"
		cat >"$T/$x/vrrp.d/10-record" <<-EOF
		#!/bin/sh
		echo "\$(date +%s%N) \$*" >>$T/$x/events
		EOF
		chmod 755 "$T/$x/vrrp.d/10-record"
		subst $x <"$ROOT/etc/lb4-pair.conf" >"$T/$x/lb4.conf"
		if [ "$FORWARD" = off ]; then
			# Today's pair: lb4 bound to the VIPs.
			sed -i 's#bind = \[ "0.0.0.0:80", "\[::\]:80" \];#bind = [ "10.99.0.10:80", "10.99.0.11:80" ];#' "$T/$x/lb4.conf"
		fi
		subst $x <"$ROOT/etc/keepalived/node-$x.conf" >"$T/$x/ka-default.conf"
		subst $x <"$ROOT/etc/keepalived/node-$x-fast.conf" >"$T/$x/ka-fast.conf"
		[ $x = a ] && peer=$NODE_ADDR_b || peer=$NODE_ADDR_a
		# The peer's link-local address, as the shipped files ask.
		peer6=fe80::2
		if [ "$FORWARD" = on ]; then
			peer6=$(ip -n "$(ns_of "$([ $x = a ] && echo b || echo a)")" -6 -o addr show dev eth0 scope link |
			    awk '{ split($4, p, "/"); print p[1]; exit }')
		fi
		subst $x <"$ROOT/etc/nftables/lb4.nft" |
		    sed -e "s#^define peer = .*#define peer = $peer#" \
			-e "s#^define monitoring_net = .*#define monitoring_net = { $CLIENT/32 }#" \
			-e "s#^define admin_net = .*#define admin_net = { $CLIENT/32 }#" \
			-e "s#^define admin_net6 = .*#define admin_net6 = { 2001:db8:0:198::/64 }#" \
			-e "s#^define peer6 = .*#define peer6 = $peer6#" \
			-e "s#^define vips6 = .*#define vips6 = { $VIP6_1, $VIP6_2 }#" \
			>"$T/$x/lb4.nft"
		subst $x <"$ROOT/etc/nftables/lb4-pair.nft" |
		    sed -e "s#^define peer4 = .*#define peer4 = $peer#" \
			-e "s#^define peer6 = .*#define peer6 = $peer6#" \
			-e "s#^define vips6 = .*#define vips6 = { $VIP6_1, $VIP6_2 }#" \
			>"$T/$x/lb4-pair.nft"
		subst $x <"$ROOT/etc/sysctl.d/61-lb4-pair.conf" >"$T/$x/sysctl.conf"
	done
	for f in "$T"/[ab]/*.conf "$T"/[ab]/*.nft; do
		if grep -nE '192\.0\.2\.|198\.51\.100\.|(^|[ "=])(/usr/lib/lb4|/run/lb4/|/run/keepalived-lb4|/etc/lb4)' \
		    "$f" | grep -v '^[0-9]*:[[:space:]]*#'; then
			bad "substitution left a shipped address or path in $f"
			return 1
		fi
	done
	ok "shipped files substituted (lb4-pair.conf, keepalived $PROF, lb4.nft, lb4-pair.nft, 61-lb4-pair.conf)"
}

# ---- processes ----------------------------------------------------------------------
start_lb4() {
	local x=$1 ns
	ns=$(ns_of "$x")
	rm -f "$T/$x/lb4.pid"
	(
		ip netns exec "$ns" setpriv --reuid=lb4 --regid=lb4 --init-groups \
		    --inh-caps=+net_bind_service --ambient-caps=+net_bind_service -- \
		    "$T/bin/lb4" -c "$T/$x/lb4.conf" >>"$T/$x/lb4.log" 2>&1 &
		echo $! >"$T/$x/lb4.pid"
		wait $!
		setpriv --reuid=lb4 --regid=lb4 --init-groups -- \
		    "$T/hooks/mark-down" "$T/$x/run/lb4/health" >>"$T/$x/lb4.log" 2>&1
	) 2>>"$T/$x/lb4.log" &
	LB4_SUP[$x]=$!
	wait_until 3000 test -s "$T/$x/lb4.pid"
}
stop_lb4() {
	local x=$1
	[ -n "${LB4_SUP[$x]-}" ] || return 0
	stop_pid "$(cat "$T/$x/lb4.pid" 2>/dev/null)"
	stop_pid "${LB4_SUP[$x]}"
	LB4_SUP[$x]=
}
kill_lb4() {	# SIGKILL; the supervisor runs mark-down
	local x=$1
	kill -KILL "$(cat "$T/$x/lb4.pid")" 2>/dev/null
	wait "${LB4_SUP[$x]}" 2>/dev/null
	LB4_SUP[$x]=
}
start_ka() {
	local x=$1 ns
	ns=$(ns_of "$x")
	rm -f "$T/$x/ka.pid" "$T/$x/vrrp.pid"
	ip netns exec "$ns" env LB4CTL="$T/bin/lb4ctl" \
	    LB4_SOCKET="$T/$x/run/lb4/lb4.sock" \
	    LB4_VRRP_HOOK_DIR="$T/$x/vrrp.d" LB4_VRRP_HOOK_TIMEOUT=5 \
	    keepalived -n -l -D -P -G -f "$T/$x/ka-$PROF.conf" \
	    -p "$T/$x/ka.pid" -r "$T/$x/vrrp.pid" >>"$T/$x/keepalived.log" 2>&1 &
	KA_PID[$x]=$!
	wait_until 5000 test -s "$T/$x/vrrp.pid"
}
kill_ka() {
	local x=$1 child
	child=$(cat "$T/$x/vrrp.pid" 2>/dev/null)
	[ -n "$child" ] && kill -KILL "$child" 2>/dev/null
	kill -KILL "${KA_PID[$x]}" 2>/dev/null
	wait "${KA_PID[$x]}" 2>/dev/null
	KA_PID[$x]=
}
# start_watch NODE: `pair-forward watch` as lb4-pair-forward.service runs
# it, at the unit's real-time priority (CPUSchedulingPolicy/Priority).
UNIT_POLICY=$(sed -n 's/^CPUSchedulingPolicy=//p' "$ROOT/etc/lb4-pair-forward.service")
UNIT_PRIO=$(sed -n 's/^CPUSchedulingPriority=//p' "$ROOT/etc/lb4-pair-forward.service")
# The watcher's thresholds: the unit's WATCH_OPTS in the default profile,
# the script's own defaults in the fast one (the unit's comment says so).
UNIT_WATCH_OPTS=$(sed -n 's/^Environment="WATCH_OPTS=\(.*\)"$/\1/p' "$ROOT/etc/lb4-pair-forward.service")
start_watch() {
	local x=$1 rt=() opts=()
	[ -n "$UNIT_POLICY" ] && rt=(chrt "--$UNIT_POLICY" "${UNIT_PRIO:-1}")
	[ "$PROF" = default ] && read -r -a opts <<<"$UNIT_WATCH_OPTS"
	ip netns exec "$(ns_of "$x")" env PAIR_FORWARD_TIMESTAMPS=1 "${rt[@]}" \
	    "$T/hooks/pair-forward" -n "$T/$x/lb4-pair.nft" \
	    watch "${opts[@]}" -m "$T/$x/metrics.prom" >>"$T/$x/watch.log" 2>&1 &
	WATCH_PID[$x]=$!
}
pair_on() {	# as a node's boot would: sysctl file, ruleset, watcher
	local x=$1 ns
	ns=$(ns_of "$x")
	[ "$FORWARD" = on ] || return 0
	nsx "$ns" sysctl -q -p "$T/$x/sysctl.conf" >/dev/null || return 1
	nsx "$ns" nft -f "$T/$x/lb4-pair.nft" || return 1
	start_watch "$x"
}
kill_watch() { kill -KILL "${WATCH_PID[$1]-}" 2>/dev/null; wait "${WATCH_PID[$1]-}" 2>/dev/null; WATCH_PID[$1]=; }
maint() {	# maint NODE ARGS...
	local x=$1
	shift
	ip netns exec "$(ns_of "$x")" env LB4CTL="$T/bin/lb4ctl" \
	    "$T/hooks/maintenance" -f "$T/$x/maintenance" \
	    -s "$T/$x/run/lb4/lb4.sock" "$@"
}

node_down() {	# node A dies: links cut, its processes killed at once
	local x=$1
	ip -n "$NS_BR" link set "${x}0" down
	ip -n "$NS_BR" link set "${x}1" down
	kill_watch "$x"
	kill_ka "$x"
	kill_lb4 "$x"
}
node_up() {
	local x=$1
	ip -n "$NS_BR" link set "${x}0" up
	ip -n "$NS_BR" link set "${x}1" up
	start_lb4 "$x"
	[ "$FORWARD" = on ] && start_watch "$x"
	start_ka "$x"
}

# ---- observations ------------------------------------------------------------------
holders() {	# holders VIP: "a", "b", "ab" or "" (on eth0, where keepalived puts it)
	local x h=
	for x in a b; do
		ip -n "$(ns_of $x)" -4 -o addr show dev eth0 2>/dev/null | grep -q " $1/" && h=$h$x
	done
	echo "$h"
}
health_is() { [ "$(cat "$T/$1/run/lb4/health" 2>/dev/null)" = "$2" ]; }
home() { [ "$(holders $VIP1)" = a ] && [ "$(holders $VIP2)" = b ]; }
steady() { home && health_is a 0 && health_is b 0; }
vip1_on() { [ "$(holders $VIP1)" = "$1" ]; }
vip2_on() { [ "$(holders $VIP2)" = "$1" ]; }
both_everywhere() { [ "$(holders $VIP1)$(holders $VIP2)" = abab ]; }
fwd_count() {	# fwd_count NODE COUNTER [FAMILY]
	[ "$FORWARD" = on ] || { echo 0; return; }
	nsx "$(ns_of "$1")" nft list counter "${3:-ip}" lb4_pair "$2" 2>/dev/null |
	    awk '$1 == "packets" { print $2; f = 1 } END { if (!f) print 0 }'
}

# flows: start N per VIP under a name; stop them (each ends with a final
# exchange and a clean close); several sets may run at once
declare -A FLOWS=()
start_flows() {	# start_flows NAME [TARGET...]
	local n=$1
	shift
	[ $# -gt 0 ] || set -- $VIP1:$PORT $VIP2:$PORT
	ip netns exec "$NS_C" "$FLOWTOOL" run -o "$T/$n.flows" -T 600 -n "$NFLOWS" \
	    -w 8000 "$@" >"$T/$n.flowtool.log" 2>&1 &
	FLOWS[$n]=$!
	# Every flow has had its hello line from a server by then.
	sleep 2
}
stop_flows() {	# stop_flows NAME...
	local n
	for n; do
		stop_pid "${FLOWS[$n]-}"
		FLOWS[$n]=
	done
}
stop_all_flows() { local n; for n in "${!FLOWS[@]}"; do stop_flows "$n"; done; }
# cut_by FILE NODE_BACK: flows cut that NODE served; cut_other: flows that
# failed before any node served them
cut_by() { awk -v n="$2" '$1 == "flow" && $6 != "ok" && $5 == n { c++ } END { print c + 0 }' "$1"; }
flows_total() { awk '$1 == "flow" { c++ } END { print c + 0 }' "$1"; }
cut_other() { awk -v a="$BACK_a" -v b="$BACK_b" '$1 == "flow" && $6 != "ok" && $5 != a && $5 != b { c++ } END { print c + 0 }' "$1"; }
cut_list() { awk '$1 == "flow" && $6 != "ok" { print "  " $0 }' "$1" | head -5; }

start_probe() {
	rm -f "$T/probe"
	ip netns exec "$NS_C" "$PAIRTOOL" probe -o "$T/probe" -i 20 -w 3000 -T 300 \
	    -m "idle 1" $VIP1:$PORT $VIP2:$PORT &
	PROBE_PID=$!
}
stop_probe() { stop_pid "$PROBE_PID"; PROBE_PID=; }
# gap FROM_US TO_US: "GAP_MS FAILED DELAYED" on VIP1 (target 0 in the
# probe): failed = refused, reset or no answer in 3 s; delayed = answered
# after 0.9 s or more, i.e. after a SYN was lost and retransmitted (1 s).
# (test/pair/run.sh counts from 0.3 s; here 100-200 long flows, bulk ones
# among them, load the host, and answers after 0.3-0.6 s are that load.)
gap() {
	awk -v from="$1" -v to="$2" '$1 == "A" && $2 == 0 && $3 >= from && $3 < to && $6 != "stopped" { print $3, $4, $5 }' "$T/probe" |
	sort -n | awk '
	BEGIN { n = 0 }
	{ t[n] = $1; ok[n] = $2; lat[n] = $3; n++ }
	END {
		ff = -1; lf = -1; nf = 0; nd = 0
		for (i = 0; i < n; i++) {
			b = !ok[i] || lat[i] > 900000
			if (!ok[i]) nf++; else if (lat[i] > 900000) nd++
			if (b) { if (ff < 0) ff = t[i]; lf = t[i] }
		}
		g = 0
		if (ff >= 0) {
			g = -1
			for (i = 0; i < n; i++)
				if (ok[i] && lat[i] <= 900000 && t[i] > lf) { g = int((t[i] - ff) / 1000); break }
		}
		print g, nf, nd
	}'
}

# ---- setting up ------------------------------------------------------------------------
say "$PROF: topology in namespaces $P-*"
setup_topology || { bad "topology"; summary; exit 1; }
prepare_files || { summary; exit 1; }
ip netns exec "$NS_S" "$FLOWTOOL" serve -T 3600 10.99.1.11:8080 10.99.1.12:8080 \
    10.99.1.13:8080 >"$T/servers.log" 2>&1 &
SRV_PID=$!
for x in a b; do
	nsx "$(ns_of $x)" nft -f "$T/$x/lb4.nft" || bad "node $x: lb4.nft does not load"
	start_lb4 $x
done
for x in a b; do start_ka $x; done
if wait_until 40000 steady; then
	ok "$PROF: VIP1 on A, VIP2 on B, both healthy (pair ruleset not loaded yet)"
else
	bad "$PROF: not steady: VIP1 on '$(holders $VIP1)', VIP2 on '$(holders $VIP2)'"
	summary; exit 1
fi
start_probe

# ---- scenarios -------------------------------------------------------------------------
ROW_NOTES=
row() {	# row SCENARIO RUN CUT_A CUT_B TOTAL GAP FAILED DELAYED RESETS FWD_A FWD_B NOTES
	echo "ROW | $PROF | $FORWARD | $1 | $2 | $3/$4 of $5 | $6 | $7/$8 | $9 | ${10}/${11} | ${12} |"
}
fwd0_a=0 fwd0_b=0
fwd_snapshot() { fwd0_a=$(fwd_count a forwarded); fwd0_b=$(fwd_count b forwarded); }
fwd_delta() { echo "$(($(fwd_count a forwarded) - fwd0_a)) $(($(fwd_count b forwarded) - fwd0_b))"; }

# check_cuts SCENARIO RUN FILE [dead]: no flow cut; with "dead", A died
# and only B's flows count.  Sets CUT_A CUT_B TOT.
check_cuts() {
	local sc=$1 r=$2 f=$3 co
	CUT_A=$(cut_by "$f" "$BACK_a") CUT_B=$(cut_by "$f" "$BACK_b")
	co=$(cut_other "$f") TOT=$(flows_total "$f")
	[ "$FORWARD" = on ] || return 0
	[ "$TOT" -eq $((2 * NFLOWS)) ] && [ "$co" -eq 0 ] ||
	    bad "$PROF/$sc#$r: $TOT flows recorded in $f, $co failed before any node served them"
	if [ "${4-}" = dead ]; then
		[ "$CUT_B" -eq 0 ] && ok "$PROF/$sc#$r: none of B's flows cut ($CUT_A of A's: A died)" ||
		    { bad "$PROF/$sc#$r: $CUT_B of B's flows cut"; cut_list "$f"; }
	else
		[ "$CUT_A" -eq 0 ] && [ "$CUT_B" -eq 0 ] && ok "$PROF/$sc#$r: $TOT flows ($f), none cut" ||
		    { bad "$PROF/$sc#$r: flows cut: $CUT_A served by A, $CUT_B by B, of $TOT"; cut_list "$f"; }
	fi
}

# first_reset FILE NODE_BACK DEATH_US: "FIRST_MS LAST_MS N" of NODE's
# flows ended by a reset, from DEATH; not_reset: NODE's cut flows that
# ended otherwise (timeouts: black-holed)
first_reset() {
	awk -v n="$2" -v t0="$3" '$1 == "flow" && $5 == n && $6 == "cut" && $7 == "reset" {
		d = int(($9 - t0) / 1000); if (c == 0 || d < lo) lo = d; if (d > hi) hi = d; c++ }
	    END { if (c) printf "%d %d %d\n", lo, hi, c; else print "- - 0" }' "$1"
}
not_reset() { awk -v n="$2" '$1 == "flow" && $5 == n && $6 == "cut" && $7 != "reset" { c++ } END { print c + 0 }' "$1"; }

# check_resets SCENARIO RUN FILE DEATH_US: A's flows must all get resets,
# the first within the bound.  Sets RESETS for the table.
check_resets() {
	local fr lr nr nb
	read -r fr lr nr nb <<<"$(first_reset "$3" "$BACK_a" "$4") $(not_reset "$3" "$BACK_a")"
	RESETS="$fr / $lr ($nr reset, $nb timed out)"
	[ "$FORWARD" = on ] || return 0
	[ "$nr" -gt 0 ] && [ "$fr" -le "$RESET_BOUND_MS" ] &&
	    ok "$PROF/$1#$2: A's flows reset $fr-$lr ms after its death (first within $RESET_BOUND_MS ms), $nr reset, $nb timed out" ||
	    bad "$PROF/$1#$2: A's flows: first reset at $fr ms (bound $RESET_BOUND_MS ms), $nr reset, $nb timed out"
}

check_gap() {	# check_gap SCENARIO RUN FROM_US: sets GAP NF ND
	read -r GAP NF ND <<<"$(gap "$3" "$(now_us)")"
	[ "$FORWARD" = on ] || return 0
	[ "$NF" -eq 0 ] && ok "$PROF/$1#$2: no new connection failed on VIP1 ($ND delayed, gap $GAP ms)" ||
	    bad "$PROF/$1#$2: $NF new connections failed on VIP1 ($ND delayed, gap $GAP ms)"
}

wait_home() {	# before each scenario
	wait_until $((PD_S * 1000 + 30000)) steady ||
	    bad "$PROF: not home before '$1': VIP1 '$(holders $VIP1)', VIP2 '$(holders $VIP2)'"
}

sc_held() {	# flows before the ruleset; conntrack -F; no entries
	local r=$1 x d da db
	# No new connections meanwhile: their closing packets (after the
	# socket is gone) are rightly forwarded, and with no conntrack entry
	# a handshake's last ACK is too (what the conntrack rule is for; with
	# a really full table the SYN is dropped before that anyway).
	stop_probe
	start_flows held
	if [ "$FORWARD" = on ] && ! nsx "$NS_a" nft list table ip lb4_pair >/dev/null 2>&1; then
		for x in a b; do pair_on $x || bad "$PROF: node $x: the pair ruleset does not load"; done
		ROW_NOTES="flows opened before the ruleset was loaded; "
	fi
	sleep 3
	fwd_snapshot
	for x in a b; do nsx "$(ns_of $x)" conntrack -F >/dev/null 2>&1; done
	sleep 3
	# No entry at all for the VIP traffic, as when the conntrack table
	# is full: each node must still find its own flows by their sockets.
	for x in a b; do
		nsx "$(ns_of $x)" nft -f - <<-EOF
		table ip v18notrack {
			chain raw {
				type filter hook prerouting priority raw; policy accept;
				ip daddr { $VIP1, $VIP2 } tcp dport $PORT notrack
			}
		}
		EOF
	done
	sleep 3
	for x in a b; do nsx "$(ns_of $x)" nft delete table ip v18notrack; done
	read -r da db <<<"$(fwd_delta)"
	stop_flows held
	check_cuts held "$r" "$T/held.flows"
	if [ "$FORWARD" = on ]; then
		[ "$da" -eq 0 ] && [ "$db" -eq 0 ] &&
		    ok "$PROF/held#$r: no packet of a node's own flow forwarded (conntrack flushed, then no entries)" ||
		    bad "$PROF/held#$r: packets of held flows forwarded: A $da, B $db"
		for x in a b; do
			d=$(ip -n "$(ns_of $x)" -o addr show dev lo | grep -cE " (10\.99\.0\.1[01]/32|fd00:99::1[01]/128)")
			[ "$d" -eq 4 ] && ok "$PROF: node $x: both VIPs on lo, IPv4 and IPv6 (pair-forward)" ||
			    bad "$PROF: node $x: $d of 4 VIPs on lo"
		done
		# lb4 listens on the wildcard: lb4.nft keeps the service off the
		# nodes' own addresses.
		if nsx "$NS_C" "$PAIRTOOL" connect -w 1000 -q $NODE_ADDR_a:$PORT >/dev/null 2>&1; then
			bad "$PROF: the service answers on A's own address (lb4.nft should drop it)"
		else
			ok "$PROF: the service is closed on A's own address (lb4.nft)"
		fi
		# Only the holder answers ARP for a VIP (arp_ignore=1).
		ip -n "$NS_C" neigh flush dev eth0
		nsx "$NS_C" ping -c 2 -i 0.2 -W 1 $VIP1 >/dev/null 2>&1
		d=$(nsx "$NS_C" ip neigh show $VIP1 | awk '{ print $5 }')
		[ "$d" = "$(ip -n "$NS_a" -br link show eth0 | awk '{ print $3 }')" ] &&
		    ok "$PROF: VIP1's ARP answered by A, its holder" ||
		    bad "$PROF: VIP1's ARP answered by $d (A is $(ip -n "$NS_a" -br link show eth0 | awk '{ print $3 }'))"
	fi
	start_probe
	row held "$r" "$CUT_A" "$CUT_B" "$TOT" - - - - "$da" "$db" "${ROW_NOTES}conntrack -F; no conntrack entries"
	ROW_NOTES=
}

sc_lb4_restart() {	# flows through B on VIP1 while A's lb4 is down; failback
	local r=$1 t1 da db
	kill_lb4 a
	wait_until 5000 vip1_on b || bad "$PROF/lb4-restart#$r: VIP1 not on B after lb4 died on A"
	start_flows lb4-restart
	fwd_snapshot
	t1=$(now_us)
	start_lb4 a
	wait_until $((PD_S * 1000 + 15000)) vip1_on a || bad "$PROF/lb4-restart#$r: VIP1 not home"
	sleep 4
	read -r da db <<<"$(fwd_delta)"
	check_gap lb4-restart "$r" "$t1"
	stop_flows lb4-restart
	check_cuts lb4-restart "$r" "$T/lb4-restart.flows"
	row lb4-restart "$r" "$CUT_A" "$CUT_B" "$TOT" "$GAP" "$NF" "$ND" - "$da" "$db" "flows on VIP1 through B (A's lb4 down), then failback"
}

sc_node_return() {	# A dies (its flows get resets); flows through B; A returns
	local r=$1 td t1 da db
	start_flows node-return-old
	td=$(now_us)
	node_down a
	wait_until $((MD_MS + 3000)) vip1_on b || bad "$PROF/node-return#$r: VIP1 not on B after A died"
	start_flows node-return
	fwd_snapshot
	sleep $((MD_MS / 1000 + 5))
	stop_flows node-return-old
	check_resets node-return "$r" "$T/node-return-old.flows" "$td"
	check_cuts node-return "$r" "$T/node-return-old.flows" dead
	t1=$(now_us)
	node_up a
	wait_until $((PD_S * 1000 + 20000)) vip1_on a || bad "$PROF/node-return#$r: VIP1 not home"
	sleep 4
	read -r da db <<<"$(fwd_delta)"
	check_gap node-return "$r" "$t1"
	stop_flows node-return
	check_cuts node-return "$r" "$T/node-return.flows"
	row node-return "$r" "$CUT_A" "$CUT_B" "$TOT" "$GAP" "$NF" "$ND" "$RESETS" "$da" "$db" "A dead, flows on VIP1 through B, A returns"
}

sc_maintenance() {
	local r=$1 t1 rc da db out
	start_flows maint-old		# through A (VIP1) and B (VIP2)
	fwd_snapshot
	if [ "$FORWARD" = on ]; then
		# Refused when the peer cannot take over: B in maintenance
		# itself (then A is BACKUP of nothing).
		echo 1 >"$T/b/maintenance"
		wait_until 5000 vip1_on a && wait_until 8000 vip2_on a
		out=$(maint a on --deadline 5 2>&1); rc=$?
		[ $rc -eq 3 ] && ok "$PROF/maintenance#$r: refused while the peer is in maintenance (exit 3)" ||
		    bad "$PROF/maintenance#$r: on with the peer out: exit $rc: $out"
		echo 0 >"$T/b/maintenance"
		wait_home maintenance
		# The old flows end 6 s from now: `on` waits for them.
		( sleep 6; stop_flows maint-old ) &
		local stopper=$! ts te
		ts=$(now_us)
		maint a on --deadline 60 >"$T/maint-on.out" 2>&1; rc=$?
		te=$(now_us)
		wait $stopper
		FLOWS[maint-old]=
		# It must have waited for the flows (they end 6 s after the
		# stopper started), with progress lines.
		[ $rc -eq 0 ] && grep -q 'no connection left' "$T/maint-on.out" &&
		    grep -q 'connections open on the VIPs' "$T/maint-on.out" &&
		    [ $((te - ts)) -ge 4000000 ] &&
		    ok "$PROF/maintenance#$r: on: VIP1 to B, waited $(((te - ts) / 1000)) ms for A's flows to end, then 0: $(tail -1 "$T/maint-on.out")" ||
		    bad "$PROF/maintenance#$r: on: exit $rc: $(tr '\n' ' ' <"$T/maint-on.out")"
		maint a status >"$T/maint-status.out" 2>&1 &&
		    ok "$PROF/maintenance#$r: status says on" || bad "$PROF/maintenance#$r: status: $(cat "$T/maint-status.out")"
	else
		echo 1 >"$T/a/maintenance"
		wait_until 8000 vip1_on b
		sleep 4
		stop_flows maint-old
	fi
	[ "$(holders $VIP1)" = b ] || bad "$PROF/maintenance#$r: VIP1 on '$(holders $VIP1)' in maintenance"
	check_cuts maintenance-on "$r" "$T/maint-old.flows"
	local ca=$CUT_A cb=$CUT_B tot=$TOT
	start_flows maint-new		# VIP1 through B now
	t1=$(now_us)
	if [ "$FORWARD" = on ]; then
		maint a off >/dev/null || bad "$PROF/maintenance#$r: off failed"
	else
		echo 0 >"$T/a/maintenance"
	fi
	wait_until $((PD_S * 1000 + 15000)) vip1_on a || bad "$PROF/maintenance#$r: VIP1 not home after off"
	sleep 4
	read -r da db <<<"$(fwd_delta)"
	check_gap maintenance-off "$r" "$t1"
	stop_flows maint-new
	check_cuts maintenance-off "$r" "$T/maint-new.flows"
	row maintenance "$r" "$((ca + CUT_A))" "$((cb + CUT_B))" "$((tot + TOT))" "$GAP" "$NF" "$ND" - "$da" "$db" "on (A's flows to their end through B's forwarding), flows through B, off"
}

sc_peer_dead() {	# A in maintenance, its flows forwarded to it by B; A dies
	local r=$1 td da db
	start_flows peer-dead
	if [ "$FORWARD" = on ]; then
		maint a on --deadline 1 >/dev/null 2>&1
	else
		echo 1 >"$T/a/maintenance"
	fi
	wait_until 8000 vip1_on b || bad "$PROF/peer-dead#$r: VIP1 not on B"
	sleep 2
	fwd_snapshot
	td=$(now_us)
	node_down a
	sleep $((MD_MS / 1000 + 6))
	read -r da db <<<"$(fwd_delta)"
	stop_flows peer-dead
	check_resets peer-dead "$r" "$T/peer-dead.flows" "$td"
	check_cuts peer-dead "$r" "$T/peer-dead.flows" dead
	echo 0 >"$T/a/maintenance"
	node_up a
	row peer-dead "$r" "$CUT_A" "$CUT_B" "$TOT" - - - "$RESETS" "$da" "$db" "A in maintenance (B forwards A's flows to A), then A dies"
}

sc_split_brain() {
	local r=$1 t1 x da db
	start_flows split-old
	fwd_snapshot
	for x in a b; do
		nsx "$(ns_of $x)" nft -f - <<-EOF
		table ip v18split {
			chain in { type filter hook input priority -10; policy accept; meta l4proto vrrp drop; }
		}
		EOF
	done
	wait_until $((MD_MS + 5000)) both_everywhere ||
	    bad "$PROF/split-brain#$r: no split brain: VIP1 '$(holders $VIP1)', VIP2 '$(holders $VIP2)'"
	start_flows split-new
	sleep 3
	t1=$(now_us)
	for x in a b; do nsx "$(ns_of $x)" nft delete table ip v18split; done
	wait_until 10000 home || bad "$PROF/split-brain#$r: not healed: VIP1 '$(holders $VIP1)', VIP2 '$(holders $VIP2)'"
	sleep 4
	read -r da db <<<"$(fwd_delta)"
	check_gap split-brain "$r" "$t1"
	stop_flows split-old split-new
	check_cuts split-brain "$r" "$T/split-old.flows"
	local ca=$CUT_A cb=$CUT_B tot=$TOT
	check_cuts split-brain "$r" "$T/split-new.flows"
	row split-brain "$r" "$((ca + CUT_A))" "$((cb + CUT_B))" "$((tot + TOT))" "$GAP" "$NF" "$ND" - "$da" "$db" "VRRP blocked both ways (both nodes hold both VIPs), flows, healed"
}

mac_of() { ip -n "$(ns_of "$1")" -br link show eth0 | awk '{ print $3 }'; }
v6_on() {	# v6_on NODE: the IPv6 VIP1 on NODE's eth0 only (keepalived's part)
	local o=b
	[ "$1" = b ] && o=a
	ip -n "$(ns_of $o)" addr del $VIP6_1/64 dev eth0 2>/dev/null
	ip -n "$(ns_of "$1")" addr add $VIP6_1/64 dev eth0 nodad
	# What keepalived's unsolicited NA does to the client: forget the
	# old holder; it asks again (NS), and only the holder must answer.
	ip -n "$NS_C" -6 neigh flush dev eth0
	nsx "$NS_C" ping -6 -c 3 -i 0.2 -W 2 $VIP6_1 >/dev/null 2>&1
	wait_until 3000 v6_resolved
}
v6_resolved() { nsx "$NS_C" ip -6 neigh show $VIP6_1 | grep -q lladdr; }
sc_ipv6() {	# IPv6 VIPs: VIP6_1 moves A -> B -> A by hand, flows on both
	local r=$1 d db0 db ab0 ab
	if [ "$FORWARD" != on ]; then
		row ipv6 "$r" - - - - - - - - - "not run without the ruleset (IPv6 off)"
		return
	fi
	v6_on a
	ip -n "$NS_b" addr add $VIP6_2/64 dev eth0 nodad
	start_flows ipv6 "[$VIP6_1]:$PORT" "[$VIP6_2]:$PORT"
	db0=$(fwd_count b forwarded ip6) ab0=$(fwd_count a forwarded ip6)
	v6_on b
	d=$(nsx "$NS_C" ip -6 neigh show $VIP6_1 | awk '{ print $5 }')
	[ "$d" = "$(mac_of b)" ] && ok "$PROF/ipv6#$r: VIP6 moved to B: only B answered the client's NS (A has it on lo)" ||
	    bad "$PROF/ipv6#$r: the client's NS for the IPv6 VIP answered by $d (B is $(mac_of b), A $(mac_of a))"
	sleep 4
	v6_on a
	sleep 4
	db=$(($(fwd_count b forwarded ip6) - db0)) ab=$(($(fwd_count a forwarded ip6) - ab0))
	stop_flows ipv6
	ip -n "$NS_a" addr del $VIP6_1/64 dev eth0
	ip -n "$NS_b" addr del $VIP6_2/64 dev eth0
	check_cuts ipv6 "$r" "$T/ipv6.flows"
	[ "$db" -gt 0 ] && ok "$PROF/ipv6#$r: B forwarded $db packets of A's IPv6 flows to A" ||
	    bad "$PROF/ipv6#$r: B forwarded no IPv6 packet"
	row ipv6 "$r" "$CUT_A" "$CUT_B" "$TOT" - - - - "$ab" "$db" "IPv6 VIP moved A -> B -> A (by hand, as keepalived would), flows through both"
}

for r in $(seq "$RUNS"); do
	for sc in $SCENARIOS; do
		wait_home "$sc"
		# The ruleset is first loaded by "held" (under traffic); when
		# that is not run first, now.
		if [ "$sc" != held ] && [ "$FORWARD" = on ] &&
		    ! nsx "$NS_a" nft list table ip lb4_pair >/dev/null 2>&1; then
			for x in a b; do pair_on $x || bad "$PROF: node $x: the pair ruleset does not load"; done
			sleep 1
		fi
		say "$PROF/$sc#$r"
		case $sc in
		held) sc_held "$r" ;;
		lb4-restart) sc_lb4_restart "$r" ;;
		node-return) sc_node_return "$r" ;;
		maintenance) sc_maintenance "$r" ;;
		peer-dead) sc_peer_dead "$r" ;;
		split-brain) sc_split_brain "$r" ;;
		ipv6) sc_ipv6 "$r" ;;
		*) bad "unknown scenario $sc" ;;
		esac
	done
done
stop_probe
if [ "$FORWARD" = on ]; then
	# Node B never dies: A's watcher must never have taken it for dead
	# (a false alarm resets B's forwarded connections).
	n=$(grep -c 'silent for' "$T/a/watch.log")
	[ "$n" -eq 0 ] && ok "$PROF: A's watcher never took B (alive) for dead" ||
	    bad "$PROF: A's watcher took B (alive all along) for dead $n times: $(grep 'silent for' "$T/a/watch.log" | head -3 | tr '\n' ' ')"
	for x in a b; do
		if grep -q '^lb4_pair_packets_total{family="ip",counter="forwarded"} [0-9]' "$T/$x/metrics.prom" 2>/dev/null &&
		    grep -q '^lb4_pair_peer_up 1' "$T/$x/metrics.prom"; then
			ok "$PROF: node $x: metrics written ($(grep -c '^lb4_pair' "$T/$x/metrics.prom") series)"
		else
			bad "$PROF: node $x: metrics file: $(head -c 300 "$T/$x/metrics.prom" 2>&1)"
		fi
	done
fi
summary
[ $fail -eq 0 ]

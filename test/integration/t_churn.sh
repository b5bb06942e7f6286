#!/bin/bash
# Connection churn over a real link: clients that close first make lb4 the
# side that closes toward the servers, so lb4 keeps the TIME_WAIT and runs out
# of source ports.  That is a local error (lb4(8), "Local errors"): no server
# may be marked down, the error is counted in lb4_local_errors_total, the
# client gets a reset, and a second source address doubles what gets through.
#
# Two network namespaces joined by a veth pair (TIME_WAIT reuse on
# loopback would hide the problem):
#   l13l$$  lb4, 10.213.0.1 and 10.213.0.2 (sources), port range narrowed
#           to CHURN_PORTS ports to stand in for a busy host
#   l13s$$  the servers (10.213.0.10) and the clients
#
# CHURN=short (make check): two bursts of a few seconds: one source, then
#   two sources toward fresh server ports; about twice as many succeed.
# CHURN=long PART (make check-stress; TIME_WAIT lasts 60 s, so each part
#   runs 70 s at a fixed offered rate and counts failures):
#   defaults  tcp_tw_reuse as the kernel ships it, one source: an offered
#             rate under ports/60 s per server passes, one above fails
#   sources   two sources: twice the first rate passes
#   tuned     the shipped etc/sysctl.d/60-lb4.conf net.* settings: a rate
#             far above ports/60 s passes with zero failures
. "$(dirname "$0")/lib.sh"

CHURN=${CHURN:-short}
PART=${PART:-all}
PORTS=${CHURN_PORTS:-300}
NSL=l13l$$
NSS=l13s$$
VL=l13a$$
VS=l13b$$
LB=10.213.0.1
LB2=10.213.0.2
SV=10.213.0.10

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
ip netns add "$NSL" 2>/dev/null || skip "cannot create network namespaces"

churn_cleanup() {
	ip netns del "$NSL" 2>/dev/null
	ip netns del "$NSS" 2>/dev/null
}
# cleanup() takes the status from $?: keep it across ours.
trap 'r=$?; churn_cleanup; (exit $r); cleanup' EXIT

ip netns add "$NSS" || fatal "cannot create namespace $NSS"
ip link add "$VL" type veth peer name "$VS" || fatal "cannot create veth"
ip link set "$VL" netns "$NSL"
ip link set "$VS" netns "$NSS"
ip -n "$NSL" addr add $LB/24 dev "$VL"
ip -n "$NSL" addr add $LB2/24 dev "$VL"
ip -n "$NSS" addr add $SV/24 dev "$VS"
for ns in "$NSL" "$NSS"; do
	ip -n "$ns" link set lo up
done
ip -n "$NSL" link set "$VL" up
ip -n "$NSS" link set "$VS" up
wait_until 5 eval 'ip -n "$NSL" link show "$VL" | grep -q LOWER_UP' ||
    fatal "the veth link does not come up"
nsl() { ip netns exec "$NSL" "$@"; }
nss() { ip netns exec "$NSS" "$@"; }
nsl sysctl -qw net.ipv4.ip_local_port_range="40000 $((40000 + PORTS - 1))"

# lb4 and its checks of the port live in the lb namespace.  SLOW: start-up
# waits with slack, namespaces on a loaded machine are slow to answer.
LB4_WRAP="ip netns exec $NSL"
SLOW=$((SLOW * 3))
is_listening() {
	[ -n "$(nsl ss -Htln "( sport = :$1 )" 2>/dev/null | head -n 1)" ]
}

# back NAME PORT: an echo server in the server namespace.
back() {
	nss "$TBACK" --pidfile "$T/$1.pid" --quiet -l $SV:"$2" --echo \
	    > "$T/$1.log" 2>&1 &
	PIDS+=("$!")
	wait_until 5 test -s "$T/$1.pid" || fatal "backend $1 did not start"
}

# metric NAME_AND_LABELS: its value from lb4's /metrics (inside the ns).
metric() {
	nsl curl -s --max-time 5 "http://127.0.0.1:$M/metrics" |
	    awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }'
}

# conf NAME SOURCES SERVER_PORTS...: the lb4 config.
conf() {
	local name=$1 src=$2 servers='' p
	shift 2
	for p in "$@"; do
		servers+="{ address = \"$SV:$p\"; },"
	done
	write_conf "$name" <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; };
defaults = { retries = 2; connect_timeout_ms = 2000; };
listeners = ( { name = "c"; bind = [ "$LB:$P" ]; pool = "p"; } );
pools = ( {
  name = "p";
  $src
  # Slack for a loaded machine: a slow check must not be what fails.
  # Checks take source ports too (lb4 closes them): $HC_MS apart.
  health = { type = "tcp"; interval_ms = $HC_MS; timeout_ms = 3000;
             rise = 1; fall = 3; };
  servers = ( ${servers%,} );
} );
CONF
}

# load NAME SECONDS THREADS INTERVAL_MS: tclient --loop from the server
# namespace; sets OK FAILED RESET.
load() {
	local out=$T/$1.out line
	nss "$TCLIENT" --loop "$2" -c "$3" --interval "$4" -n 64 \
	    --expect-echo -T $(($2 * 1000 + 20000)) $LB:$P > "$out" 2>&1
	line=$(grep '^loop ' "$out")
	say "$1: $line"
	OK=$(kv "$line" ok)
	FAILED=$(kv "$line" failed)
	RESET=$(kv "$line" reset)
	[ -n "$OK" ] || fatal "$1: no loop line from tclient: $(tail -3 "$out")"
}

no_server_down() {
	assert_no_grep "$1: no server marked down" ' is down' "$LB4_LOG"
	for p in "${@:2}"; do
		assert_eq "$1: lb4_server_up of $SV:$p" 1 \
		    "$(metric "lb4_server_up{pool=\"p\",server=\"$SV:$p\"}")"
	done
}

# Fixed ports: both namespaces are this test's own, nothing else binds
# there (and free_port asks the host's namespace, which is slow when it
# holds many sockets).
P=8000; M=9404
# Health checks use source ports as connections do: the long form checks
# every 2 s (30 ports a minute per server) so that the offered rate is
# what fills the range.
if [ "$CHURN" = long ]; then HC_MS=2000; else HC_MS=300; fi
E1=7001; E2=7002; E3=7003; E4=7004; NEXT_E=7005
back b1 $E1; back b2 $E2; back b3 $E3; back b4 $E4

short() {
	# No source: the kernel picks $LB, as before source existed.
	conf one "" $E1 $E2
	start_lb4 one
	wait_until 5 eval '[ "$(metric "lb4_server_up{pool=\"p\",server=\"'$SV:$E2'\"}")" = 1 ]' ||
	    fatal "servers not up"
	# 2 servers x $PORTS ports: the burst offers several times that.
	load one-source 4 8 0
	A=$OK
	assert_range "one source: connections that got through" \
	    $((PORTS * 2 / 2)) $((PORTS * 2 + 50)) "$A"
	[ "$FAILED" -gt 0 ] || fail "one source: no connection failed: the port range is not exhausted, the test proves nothing"
	assert_eq "one source: every failure is a reset" "$FAILED" "$RESET"
	LE=$(metric 'lb4_local_errors_total{reason="source_port"}')
	assert_range "lb4_local_errors_total{reason=\"source_port\"}" 1 1000000 "$LE"
	assert_eq "no connect error blamed on a server" 0 \
	    "$(metric "lb4_connect_errors_total{pool=\"p\",server=\"$SV:$E1\"}")"
	assert_grep "local error logged with cause and remedy" \
	    "local error, not the server's fault.*no free source port.*remedy: add source addresses" \
	    "$LB4_LOG"
	no_server_down "one source" $E1 $E2

	# Fresh server ports (the old ones are in TIME_WAIT for 60 s) and
	# two sources: twice the ports toward each server.
	conf two "source = [ \"$LB\", \"$LB2\" ];" $E3 $E4
	cp "$T/two.conf" "$T/one.conf"
	kill -HUP "$LB4_PID"
	wait_until 5 grep -q 'reloaded' "$LB4_LOG"
	wait_until 5 eval '[ "$(metric "lb4_server_up{pool=\"p\",server=\"'$SV:$E4'\"}")" = 1 ]' ||
	    fatal "new servers not up after the reload"
	load two-sources 5 8 0
	B=$OK
	[ "$FAILED" -gt 0 ] || fail "two sources: no connection failed: the burst was too short to compare"
	say "one source: $A, two sources: $B"
	assert_range "two sources / one source, in percent" 160 240 \
	    $((B * 100 / (A > 0 ? A : 1)))
	no_server_down "two sources" $E3 $E4
	stop_lb4
}

# long_part NAME SOURCES RATE_PER_SERVER WANT: 70 s at RATE_PER_SERVER
# connections a second to each of two servers; WANT = pass (no failure)
# or fail (some).
long_part() {
	local name=$1 src=$2 rate=$3 want=$4 threads interval
	conf "$name" "$src" $E1 $E2
	start_lb4 "$name" "$name"
	wait_until 5 eval '[ "$(metric "lb4_server_up{pool=\"p\",server=\"'$SV:$E2'\"}")" = 1 ]' ||
	    fatal "servers not up"
	# One thread per 50/s; each waits INTERVAL between connections.
	threads=$(((rate * 2 + 49) / 50))
	interval=$((1000 * threads / (rate * 2)))
	load "$name" 70 $threads $interval
	say "$name: offered $rate/s per server for 70 s through $PORTS ports: ok=$OK failed=$FAILED ($(awk -v n="$OK" 'BEGIN { printf "%.1f", n / 140 }')/s per server got through)"
	if [ "$want" = pass ]; then
		assert_eq "$name: failures at $rate/s per server" 0 "$FAILED"
	else
		[ "$FAILED" -gt 0 ] || fail "$name: $rate/s per server is above $PORTS ports/60 s, yet nothing failed"
	fi
	no_server_down "$name" $E1 $E2
	stop_lb4
	# Fresh ports for the next part.
	E1=$NEXT_E; E2=$((NEXT_E + 1)); NEXT_E=$((NEXT_E + 2))
	back "b1$name" $E1; back "b2$name" $E2
}

case $CHURN in
short)
	short
	;;
long)
	# ports/60 s per source and server: under and over it.
	under=$((PORTS * 7 / 10 / 60)); [ $under -ge 1 ] || under=1
	over=$((PORTS * 2 / 60))
	case $PART in all|defaults)
		long_part defaults-under "source = [ \"$LB\" ];" $under pass
		long_part defaults-over "source = [ \"$LB\" ];" $over fail
	esac
	case $PART in all|sources)
		long_part sources-2x "source = [ \"$LB\", \"$LB2\" ];" \
		    $((under * 2)) pass
	esac
	case $PART in all|tuned)
		grep -E '^[[:space:]]*net\.' "$ROOT/etc/sysctl.d/60-lb4.conf" |
		    grep -v ip_local_port_range | sed 's/[[:space:]]//g' |
		    while read -r kv; do nsl sysctl -qw "$kv"; done
		nsl sysctl -q net.ipv4.tcp_tw_reuse
		long_part tuned "source = [ \"$LB\" ];" $((PORTS / 3)) pass
	esac
	;;
*)
	fatal "CHURN must be short or long"
	;;
esac
finish

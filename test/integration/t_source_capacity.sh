#!/bin/bash
# The capacity that source = [ ... ] promises (README "Connection churn":
# each source address adds a whole port range toward each server).  In a
# namespace of its own whose ip_local_port_range holds 6 ports, two echo
# servers and two source addresses give 2 x 2 x 6 = 24 (source, server)
# port slots; 20 connections held open must all get through.  A pool-wide
# source turn that advances in step with the SWRR pick gives server 1
# only source 1 and server 2 only source 2 (12 slots): the rest are reset
# as local errors although half the port space is unused.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
NS=b13cap$$
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
trap 'r=$?; ip netns del "$NS" 2>/dev/null; (exit $r); cleanup' EXIT
ip -n "$NS" link set lo up
nsx() { ip netns exec "$NS" "$@"; }
nsx sysctl -qw net.ipv4.ip_local_port_range="40000 40005" ||
    fatal "cannot narrow the port range"
LB4_WRAP="ip netns exec $NS $LB4_WRAP"
SLOW=$((SLOW * 3))
# The namespace is this test's own: fixed ports cannot collide.
E1=7001; E2=7002; M=9405
for e in 1 2; do
	v=E$e
	nsx "$TBACK" --pidfile "$T/e$e.pid" -l 127.0.0.1:${!v} --echo \
	    > "$T/e$e.log" 2>&1 &
	PIDS+=("$!")
	wait_until 10 test -s "$T/e$e.pid" || fatal "backend e$e did not start"
done
write_conf lb4 <<CONF
global = { workers = 1; metrics = "127.0.0.1:$M"; };
listeners = ( { name = "s"; bind = [ "127.0.0.1:8000", "127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003", "127.0.0.1:8004" ]; pool = "p"; } );
pools = ( { name = "p"; retries = 3; source = [ "127.0.0.2", "127.0.0.3" ];
  servers = ( { address = "127.0.0.1:$E1"; },
              { address = "127.0.0.1:$E2"; } ); } );
CONF
is_listening() {
	[ -n "$(nsx ss -Htln "( sport = :$1 )" 2>/dev/null | head -n 1)" ]
}
start_lb4 lb4
N=20
for i in $(seq 1 $N); do
	# one at a time, so that the picks are in order
	# the clients' own ports come from the same range: one listening
	# port per 4 clients
	nsx "$TCLIENT" -T 20000 --hold 8000 127.0.0.1:$((8000 + i % 5)) \
	    > "$T/h$i.out" 2>&1 &
	PIDS+=("$!"); H[i]=$!
	sleep 0.15
done
sleep 1
nsx ss -Htn state established "( dport = :$E1 or dport = :$E2 )" |
    awk '{ print $3, "->", $4 }' | sed 's/:[0-9]* ->/ ->/' | sort | uniq -c
le=$(nsx curl -s --max-time 5 "http://127.0.0.1:$M/metrics" |
    awk '$1 == "lb4_local_errors_total{reason=\"source_port\"}" { print $2 }')
say "local errors (source_port): $le"
ok=0
for i in $(seq 1 $N); do
	wait "${H[$i]}"
	# 5: still open when the hold ended (lb4 kept it), the success here
	[ $? = 5 ] && ok=$((ok + 1))
done
assert_eq "held connections through 24 (source, server) port slots" $N $ok
stop_lb4
finish

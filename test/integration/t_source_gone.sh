#!/bin/bash
# A source address that leaves the host while lb4 runs (a VRRP address
# that moved to the peer, an address an operator removed): bind() says
# EADDRNOTAVAIL for every connection that takes it.  That source must not
# cost clients while another source works: a pool with one server and
# sources [ A, B ], B removed, must still serve every client (from A).
# lb4 counts the failure as source_port and retries another *server*
# (pool_pick excludes the one tried), so with one server every client
# whose turn is B is reset.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
NS=b13gone$$
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
trap 'r=$?; ip netns del "$NS" 2>/dev/null; (exit $r); cleanup' EXIT
nsx() { ip netns exec "$NS" "$@"; }
ip -n "$NS" link set lo up
ip -n "$NS" addr add 10.13.0.2/32 dev lo
ip -n "$NS" addr add 10.13.0.3/32 dev lo
LB4_WRAP="ip netns exec $NS $LB4_WRAP"
SLOW=$((SLOW * 3))
is_listening() {
	[ -n "$(nsx ss -Htln "( sport = :$1 )" 2>/dev/null | head -n 1)" ]
}
P=8000; E=7001; M=9406
nsx "$TBACK" --pidfile "$T/e.pid" -l 127.0.0.1:$E --echo > "$T/e.log" 2>&1 &
PIDS+=("$!")
wait_until 10 test -s "$T/e.pid" || fatal "backend did not start"
write_conf lb4 <<CONF
global = { workers = 1; metrics = "127.0.0.1:$M"; };
listeners = ( { name = "s"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; retries = 2; source = [ "10.13.0.2", "10.13.0.3" ];
  servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
start_lb4 lb4
nsx "$TCLIENT" -n 100 --expect-echo -T 10000 127.0.0.1:$P > /dev/null 2>&1 ||
    fail "a client with both sources present"
ip -n "$NS" addr del 10.13.0.3/32 dev lo
ok=0
for i in $(seq 1 10); do
	nsx "$TCLIENT" -n 100 --expect-echo -T 10000 127.0.0.1:$P \
	    > "$T/c$i.out" 2>&1 && ok=$((ok + 1))
done
sort "$T"/c*.out | uniq -c | sed 's/^/    /'
grep "local error" "$LB4_LOG" | sed 's/^/    /'
assert_eq "clients served with one of two sources gone" 10 "$ok"
stop_lb4
finish

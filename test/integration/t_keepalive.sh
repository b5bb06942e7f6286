#!/bin/bash
# tcp_keepalive (lb4.conf(5)): a peer that vanishes without a reset (a crashed
# host, a firewall that drops) is noticed after idle + interval x count
# seconds and both sides are reset.  An nftables rule in a table of this
# test's own, matching only this test's ports, drops the traffic of one
# idle connection on loopback:
#   server side: pool tcp_keepalive {1, 1, 2}; the server's port is cut:
#     the client gets a reset within 1 + 1 x 2 s (plus slack), while the
#     same cut on a pool without keepalive leaves its client waiting;
#   client side: listener tcp_keepalive {1, 1, 2}; the client's port is
#     cut: lb4 closes the server side within the same time.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root for an nftables rule"
command -v nft > /dev/null || skip "nft (Debian package nftables) is missing"
NFT_TABLE=lb4ka$$
nft add table inet "$NFT_TABLE" 2> /dev/null ||
    skip "cannot create an nftables table (no CAP_NET_ADMIN?)"
nft add chain inet "$NFT_TABLE" out \
    '{ type filter hook output priority 0; policy accept; }' ||
    fatal "cannot add an output chain"
trap 'rc=$?; nft delete table inet "$NFT_TABLE" 2>/dev/null; (exit $rc); cleanup' EXIT

# cut PORT: drops every TCP segment to or from PORT (output hook: on
# loopback every packet passes it once).
cut_port() {
	{ nft add rule inet "$NFT_TABLE" out tcp dport "$1" drop &&
	nft add rule inet "$NFT_TABLE" out tcp sport "$1" drop; } ||
	    fatal "cannot add the drop rules for port $1"
}

PS=$(free_port); PN=$(free_port); PC=$(free_port)
BS=$(free_port); BN=$(free_port); BC=$(free_port)
start_back s -l 127.0.0.1:"$BS" --echo
start_back n -l 127.0.0.1:"$BN" --echo
start_back c -l 127.0.0.1:"$BC" --echo
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = (
  { name = "s"; bind = [ "127.0.0.1:$PS" ]; pool = "s"; },
  { name = "n"; bind = [ "127.0.0.1:$PN" ]; pool = "n"; },
  { name = "c"; bind = [ "127.0.0.1:$PC" ]; pool = "c";
    tcp_keepalive = { idle_s = 1; interval_s = 1; count = 2; }; }
);
pools = (
  { name = "s"; tcp_keepalive = { idle_s = 1; interval_s = 1; count = 2; };
    servers = ( { address = "127.0.0.1:$BS"; } ); },
  { name = "n"; servers = ( { address = "127.0.0.1:$BN"; } ); },
  { name = "c"; servers = ( { address = "127.0.0.1:$BC"; } ); }
);
CONF
start_lb4 lb4

# established PORT: TCP connections in state established with PORT at
# either end (lb4 <-> a backend, or a client <-> lb4).
established() {
	ss -Htn state established "( sport = :$1 or dport = :$1 )" | wc -l
}

say "server side: the backends of pools s (keepalive) and n (none) vanish"
bg_client s -T 15000 --hold 14000 127.0.0.1:"$PS"
bg_client n -T 15000 --hold 14000 127.0.0.1:"$PN"
wait_until 5 eval '[ "$(established $BS)" -ge 2 ] && [ "$(established $BN)" -ge 2 ]' ||
    fatal "the held connections did not reach the backends"
t0=$(now_ms)
cut_port "$BS"
cut_port "$BN"
wait_client s
rc=$?
dt=$(( $(now_ms) - t0 ))
assert_rc "client of pool s: reset by lb4 when the server vanished" 4 "$rc"
assert_range "reset within idle + interval x count = 3 s (+ slack), ms" \
    2000 $((7000 * SLOW)) "$dt"
if alive "${CLIENT_PID[n]}"; then
	say "ok: pool n (no keepalive): its client still waits after $dt ms"
else
	fail "pool n (no keepalive): its client ended: $(cat "$T/n.out")"
fi
kill -TERM "${CLIENT_PID[n]}" 2>/dev/null

say "client side: the client of listener c (keepalive) vanishes"
bg_client c -T 15000 --hold 14000 127.0.0.1:"$PC"
wait_until 5 eval '[ "$(established $BC)" -ge 2 ]' ||
    fatal "the held connection did not reach the backend"
t0=$(now_ms)
cut_port "$PC"
wait_until 10 eval '[ "$(established $BC)" = 0 ]' ||
    fail "lb4 kept its connection to the backend of listener c"
dt=$(( $(now_ms) - t0 ))
assert_range "server side closed within idle + interval x count = 3 s (+ slack), ms" \
    2000 $((7000 * SLOW)) "$dt"
wait_until 5 eval 'grep -q "^conn " "$T/c.log"'
assert_grep "the backend saw lb4 reset its connection" '^conn 0 .* end=rst ' "$T/c.log"
kill -TERM "${CLIENT_PID[c]}" 2>/dev/null
nft delete table inet "$NFT_TABLE"

stop_lb4
finish

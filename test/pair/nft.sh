#!/bin/bash
# ok() and bad() always return 0, so "test && ok || bad" is safe here.
# shellcheck disable=SC2015
# test/pair/nft.sh: etc/nftables/lb4.nft on its own, IPv4 and IPv6, in
# network namespaces it creates and deletes (issue 14, findings 4 and 5):
#
#   client C (10.98.0.100, .101; 2001:db8:98::100, ::101; fe80::100)
#   peer P   (10.98.0.2; fe80::2)              --+-- br0 in namespace "br":
#   node N   (10.98.0.1, VIP 10.98.0.10;         |   MLD snooping on, the
#             2001:db8:98::1, VIP ::10; fe80::1)--+   bridge is the querier
#
#   - the shipped file, unedited, fails `nft -c` (admin_net placeholders);
#   - first load on a serving node: a download into N, started before the
#     ruleset is loaded, completes (conntrack picks it up mid-stream);
#   - both families: the service on the VIPs from anyone, metrics and SSH
#     from the monitoring and admin networks only, another port dropped;
#   - router advertisements only from a link-local source;
#   - VRRP over IPv6 from the peer's link-local address only, hop limit 255;
#   - MLD: with a snooping bridge and its queries, N's memberships stay
#     known (bridge mdb), and neighbour discovery to N still works after
#     the membership interval.
#
# Needs root, ip, nft, python3; prints "SKIP: ..." and exits 77 without.
# NFT_FILE=... tests another ruleset (e.g. an older release's).
# Ends with "N passed, N failed, N skipped".
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NFT_FILE=${NFT_FILE:-$ROOT/etc/nftables/lb4.nft}
TOOL=$ROOT/test/pair/nfttool.py
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "PASS: nft: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: nft: $*"; }
summary() { echo "$pass passed, $fail failed, $skip skipped"; }
skip_all() {
	echo "SKIP: nft: $*"
	skip=$((skip + 1))
	summary
	exit 77
}

[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"
for c in ip nft python3 bridge; do
	command -v $c >/dev/null 2>&1 || skip_all "$c not installed"
done

P=p14n$$
NS_BR=$P-br NS_N=$P-n NS_C=$P-c NS_P=$P-p
ALL_NS="$NS_N $NS_C $NS_P $NS_BR"
T=$(mktemp -d /tmp/lb4-nft.XXXXXX)
PIDS=()
cleanup() {
	local p ns
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for ns in $ALL_NS; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'bad "interrupted"; summary; exit 130' INT TERM
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# wait_file FILE: up to 30 s (python starts slowly on a loaded machine).
wait_file() {
	for _ in $(seq 300); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
dropped() {
	nsx "$NS_N" nft list chain inet lb4 input 2>/dev/null |
	    sed -n 's/.*counter packets \([0-9]*\) .*dropped by lb4.nft.*/\1/p'
}

# ---- the unedited file must not load -------------------------------------
ip netns add "$NS_N" || skip_all "cannot create network namespaces"
if nsx "$NS_N" nft -c -f "$NFT_FILE" >"$T/c.out" 2>&1; then
	bad "the unedited ruleset passes nft -c (admin_net is a placeholder that would lock out a remote admin)"
else
	grep -q "unknown identifier 'admin_net" "$T/c.out" &&
	    ok "the unedited ruleset fails nft -c: $(grep -m1 Error "$T/c.out")" ||
	    bad "nft -c fails, but not on admin_net: $(head -3 "$T/c.out")"
fi

# ---- topology ---------------------------------------------------------------
for ns in $NS_C $NS_P $NS_BR; do ip netns add "$ns" || exit 1; done
for ns in $ALL_NS; do
	ip -n "$ns" link set lo up
	nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
	nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
done
# Snooping on, the bridge as MLD querier (queries every second), and a
# membership that expires 3 s after the last report: a node that drops the
# queries stops reporting and is forgotten within seconds.  Times in
# centiseconds.
ip -n "$NS_BR" link add br0 type bridge stp_state 0 forward_delay 0 \
    mcast_snooping 1 mcast_querier 1 mcast_query_interval 100 \
    mcast_query_response_interval 50 mcast_membership_interval 300 \
    mcast_startup_query_interval 50 mcast_startup_query_count 2 ||
    skip_all "cannot create a snooping bridge"
ip -n "$NS_BR" link set br0 up
for x in n c p; do
	ns=$P-$x
	ip -n "$NS_BR" link add ${x}0 type veth peer name eth0 netns "$ns"
	ip -n "$NS_BR" link set ${x}0 master br0 up
	ip -n "$ns" link set eth0 up
done
ip -n "$NS_N" addr add 10.98.0.1/24 dev eth0
ip -n "$NS_N" addr add 10.98.0.10/24 dev eth0
ip -n "$NS_N" addr add 2001:db8:98::1/64 dev eth0
ip -n "$NS_N" addr add 2001:db8:98::10/64 dev eth0
ip -n "$NS_N" addr add fe80::1/64 dev eth0
ip -n "$NS_P" addr add 10.98.0.2/24 dev eth0
ip -n "$NS_P" addr add fe80::2/64 dev eth0
for a in 10.98.0.100/24 10.98.0.101/24 2001:db8:98::100/64 \
    2001:db8:98::101/64 fe80::100/64; do
	ip -n "$NS_C" addr add $a dev eth0
done
# The node takes router advertisements (a host, not a router).
nsx "$NS_N" sysctl -qw net.ipv6.conf.eth0.accept_ra=1
# Until the kernel's link watcher has seen the carrier (it runs late on a
# loaded machine), a new link drops what it sends (ENOBUFS).
links_up() {
	local x
	for x in n c p; do
		ip -n "$P-$x" -br link show eth0 | grep -q ' UP ' || return 1
		ip -n "$NS_BR" -br link show ${x}0 | grep -q ' UP ' || return 1
	done
	ip -n "$NS_BR" -br link show br0 | grep -q ' UP '
}
for _ in $(seq 300); do links_up && break; sleep 0.1; done
links_up || bad "links not up after 30 s"
sleep 1

sed -e 's/^define peer = .*/define peer = 10.98.0.2/' \
    -e 's/^define peer6 = .*/define peer6 = fe80::2/' \
    -e 's/^define vips = .*/define vips = { 10.98.0.10 }/' \
    -e 's/^define vips6 = .*/define vips6 = { 2001:db8:98::10 }/' \
    -e 's/^define monitoring_net = .*/define monitoring_net = { 10.98.0.100\/32 }/' \
    -e 's/^define monitoring_net6 = .*/define monitoring_net6 = { 2001:db8:98::100\/128 }/' \
    -e 's/^define admin_net = .*/define admin_net = { 10.98.0.100\/32 }/' \
    -e 's/^define admin_net6 = .*/define admin_net6 = { 2001:db8:98::100\/128 }/' \
    -e 's/^\([[:space:]]*\)counter comment "dropped by lb4.nft"/\1icmpv6 type nd-router-advert counter comment "RA not accepted"\n&/' \
    "$NFT_FILE" >"$T/lb4.nft"
# (The test's own counter, just before the final drop, counts the router
# advertisements that no rule accepted.)

# ---- first load on a serving node ------------------------------------------
# A download into N from C:8080 (a server of lb4's, say), 200,000 bytes in
# chunks 0.25 s apart, running when the ruleset is first loaded in N, in a
# quiet gap: the next segment conntrack sees is the server's, unknown to it.
loose=$(nsx "$NS_N" sysctl -n net.netfilter.nf_conntrack_tcp_loose 2>/dev/null || echo '?')
NFTTOOL_READY=$T/r.send nsx "$NS_C" python3 "$TOOL" slowsend 10.98.0.100 8080 200000 &
PIDS+=($!)
wait_file "$T/r.send" || bad "the download's sender did not start"
NFTTOOL_READY=$T/r.recv nsx "$NS_N" python3 "$TOOL" recv 10.98.0.100 8080 \
    200000 40 >"$T/recv" &
rp=$!
wait_file "$T/r.recv" || bad "the download did not start"
d0=$(nsx "$NS_N" nft list ruleset | grep -c .)
if [ "$d0" -ne 0 ]; then
	bad "N has a ruleset before the first load: the test proves nothing"
fi
if nsx "$NS_N" nft -f "$T/lb4.nft"; then
	ok "ruleset loaded in N while a download runs"
else
	bad "the edited ruleset does not load"
fi
wait $rp
got=$(cat "$T/recv")
[ "$got" = 200000 ] &&
    ok "first load: the download opened before it completed ($got of 200000 bytes; nf_conntrack_tcp_loose=$loose)" ||
    bad "first load: the download opened before it stalled ($got of 200000 bytes; $(dropped) packets dropped by the ruleset)"

# ---- both families ------------------------------------------------------------
NFTTOOL_READY=$T/r.serve nsx "$NS_N" python3 "$TOOL" serve 900 0.0.0.0,80 \
    ::,80 0.0.0.0,9404 ::,9404 0.0.0.0,22 ::,22 0.0.0.0,2222 ::,2222 &
PIDS+=($!)
wait_file "$T/r.serve" || bad "N's listeners did not start"
# conn WANT SRC DST PORT WHAT: 4 s to connect (a SYN lost on a loaded
# machine is sent again after 1 s, then 3 s), 1.5 s to show it is dropped.
conn() {
	local r ms=4000
	[ "$1" = timeout ] && ms=1500
	r=$(nsx "$NS_C" python3 "$TOOL" connect -s "$2" "$3" "$4" $ms)
	# Once more for a lost SYN on a loaded machine.
	[ "$1" = connected ] && [ "$r" != connected ] &&
	    r=$(nsx "$NS_C" python3 "$TOOL" connect -s "$2" "$3" "$4" $ms)
	[ "$r" = "$1" ] && ok "$5: $r" || bad "$5: '$r', want $1"
}
for f in 4 6; do
	if [ $f = 4 ]; then
		me=10.98.0.100 other=10.98.0.101 node=10.98.0.1 vip=10.98.0.10
	else
		me=2001:db8:98::100 other=2001:db8:98::101 node=2001:db8:98::1
		vip=2001:db8:98::10
	fi
	conn connected "$other" "$vip" 80 "IPv$f: service port on the VIP from anyone"
	conn timeout "$other" "$node" 80 "IPv$f: service port on the node's own address dropped"
	conn connected "$me" "$node" 9404 "IPv$f: metrics from the monitoring network"
	conn timeout "$other" "$node" 9404 "IPv$f: metrics from elsewhere dropped"
	conn connected "$me" "$node" 22 "IPv$f: SSH from the admin network"
	conn timeout "$other" "$node" 22 "IPv$f: SSH from elsewhere dropped"
	conn timeout "$me" "$vip" 2222 "IPv$f: a port not in the ruleset dropped (something listens)"
done

# ---- router advertisements ---------------------------------------------------
ra_dropped() {
	nsx "$NS_N" nft list chain inet lb4 input 2>/dev/null |
	    sed -n 's/.*counter packets \([0-9]*\) .*RA not accepted.*/\1/p'
}
d0=$(ra_dropped)
nsx "$NS_C" python3 "$TOOL" ra 2001:db8:98::100 eth0 3
sleep 0.3
d1=$(ra_dropped)
[ -n "$d0" ] && [ $((d1 - d0)) -ge 3 ] &&
    ok "router advertisements from a global address dropped ($((d1 - d0)) counted)" ||
    bad "router advertisements from a global address not dropped (RA counter '$d0' -> '$d1')"
nsx "$NS_C" python3 "$TOOL" ra fe80::100 eth0 3
for _ in $(seq 20); do
	ip -n "$NS_N" -6 route show default | grep -q 'via fe80::100' && break
	sleep 0.1
done
ip -n "$NS_N" -6 route show default | grep -q 'via fe80::100' &&
    ok "a router advertisement from a link-local address is taken (default route via fe80::100)" ||
    bad "the link-local router advertisement was not taken: $(ip -n "$NS_N" -6 route show default)"

# ---- VRRP over IPv6 -------------------------------------------------------------
# vrrp6 WANT SRCNS SRC HOPS WHAT: adverts to N's link-local address.
vrrp6() {
	local n
	rm -f "$T/r.v6"
	NFTTOOL_READY=$T/r.v6 nsx "$NS_N" python3 "$TOOL" vrrp6listen 3 >"$T/v6" &
	local lp=$!
	wait_file "$T/r.v6"
	nsx "$2" python3 "$TOOL" vrrp6 "$3" fe80::1 eth0 "$4" 5
	wait $lp
	n=$(cat "$T/v6")
	if [ "$1" = yes ]; then
		# The first may wait on neighbour discovery (and be lost).
		[ "$n" -ge 3 ] && ok "$5 ($n of 5 received)" ||
		    bad "$5: $n of 5 received ($(dropped) dropped by the ruleset; $(ip -n "$2" -6 neigh show fe80::1 dev eth0))"
	else
		[ "$n" -eq 0 ] && ok "$5" || bad "$5: $n received, want 0"
	fi
}
vrrp6 yes "$NS_P" fe80::2 255 "VRRPv3 over IPv6 from the peer's link-local address accepted"
vrrp6 no "$NS_C" fe80::100 255 "VRRPv3 over IPv6 from another address dropped"
vrrp6 no "$NS_P" fe80::2 64 "VRRPv3 over IPv6 with hop limit 64 (not from this link) dropped"

# ---- MLD with a snooping bridge ---------------------------------------------------
# By now the ruleset has been loaded for well over the membership interval
# (3 s): N's memberships are known only if it answered the bridge's
# queries.  Its solicited-node group for 2001:db8:98::1 is ff02::1:ff00:1.
for _ in $(seq 30); do
	[ "$(($(date +%s) - $(stat -c %Y "$T/recv")))" -ge 6 ] && break
	sleep 0.2
done
mdb=$(bridge -n "$NS_BR" mdb show 2>/dev/null)
grep -q 'port n0 grp ff02::1:ff00:1' <<<"$mdb" &&
    ok "MLD: the snooping bridge still knows N's solicited-node group (N answers its queries)" ||
    bad "MLD: the bridge forgot N's groups (queries dropped?): $(grep -c 'port n0' <<<"$mdb") entries for N"
ip -n "$NS_C" neigh flush dev eth0
r=$(nsx "$NS_C" python3 "$TOOL" connect -s 2001:db8:98::100 2001:db8:98::1 22 3000)
[ "$r" = connected ] &&
    ok "MLD: neighbour discovery to N works after the membership interval (SSH connects)" ||
    bad "MLD: neighbour discovery to N fails after the membership interval: '$r' ($(ip -n "$NS_C" -6 neigh show 2001:db8:98::1))"

summary
[ $fail -eq 0 ]

#!/bin/bash
# test/bench/pairfwd.sh: what the pair's second-chance forwarding
# (etc/nftables/lb4-pair.nft) costs on the data path.  In a network
# namespace of its own (so the rulesets touch nothing else on the host), the
# blib.sh setup (lb4, one worker on PROXY_CPU, in front of nginx; wrk -c50
# new connections, "Connection: close", on CLIENT_CPU) runs R rounds of
# three modes, in rotating order:
#   none  no nftables at all (no conntrack either)
#   ct    a firewall that uses conntrack, as lb4.nft does (`ct state
#         established,related accept` in an input chain)
#   pair  ct, plus lb4-pair.nft with lo as its interface, 127.0.0.1 as its
#         only VIP and lb4's port as its service port: every packet from
#         the client to lb4 but the SYN goes through `held_here` (a socket
#         lookup, found: this node's connection) and is kept
# and prints, per mode, connections per second, lb4's CPU per connection,
# and CLIENT_CPU's busy time per connection (/proc/stat: the client's
# loopback packets are received, and filtered, in softirq on the sender's
# CPU, so the rules' cost lands there; other load on that CPU counts too).
#   sudo R=5 test/bench/pairfwd.sh
# Env: as blib.sh, and PAIRFWD_NS (the namespace's name, default
# lb4-pairfwd-PID).  Needs root.
set -u
if [ "${1-}" != inner ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a network namespace)"; exit 77; }
	command -v nft > /dev/null || { echo "SKIP: nft is not installed"; exit 77; }
	NS=${PAIRFWD_NS:-lb4-pairfwd-$$}
	ip netns add "$NS" || exit 1
	trap 'ip netns del "$NS"' EXIT
	ip -n "$NS" link set lo up
	ip netns exec "$NS" "$0" inner
	exit
fi
# shellcheck source=test/bench/blib.sh
. "$(dirname "$0")/blib.sh"

sed -e 's/^define iface = .*/define iface = "lo"/' \
    -e 's/^define peer4 = .*/define peer4 = 127.0.0.2/' \
    -e 's/^define peer6 = .*/define peer6 = ::2/' \
    -e 's/^define vips4 = .*/define vips4 = { 127.0.0.1 }/' \
    -e 's/^define vips6 = .*/define vips6 = { ::1 }/' \
    -e "s/^define service_ports = .*/define service_ports = { $LPORT }/" \
    "$ROOT/etc/nftables/lb4-pair.nft" > "$T/pair.nft"
cat > "$T/ct.nft" <<'NFT'
table inet bench_ct {
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
	}
}
NFT
mode() {
	nft flush ruleset
	case $1 in
	none) ;;
	ct) nft -f "$T/ct.nft" ;;
	pair) nft -f "$T/ct.nft" && nft -f "$T/pair.nft" ;;
	esac
}
cpu_busy() {	# busy ticks of CPU $CLIENT_CPU
	awk -v c="cpu$CLIENT_CPU" '$1 == c { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

cat > "$T/lb4.conf" <<CONF
global = { workers = 1; health_file = ""; log_level = "warning"; control_socket = "$T/lb4.sock"; };
listeners = ( { name = "b"; bind = [ "127.0.0.1:$LPORT" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$BPORT"; } ); } );
CONF
lb4_start
run() {
	timeout $(($1 + 10)) taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d"${1}s" \
	    -H "Connection: close" "http://127.0.0.1:$LPORT/" > "$2"
}
modes=(none ct pair)
printf '%-6s %-5s %10s %12s %14s\n' round mode conn/s "lb4 us/conn" "client us/conn"
for ((r = 1; r <= R; r++)); do
	for ((k = 0; k < 3; k++)); do
		m=${modes[$(( (r + k) % 3 ))]}
		mode "$m" || { echo "cannot load mode $m" >&2; exit 1; }
		run "$WARMUP" /dev/null
		t0=$(cpu_ticks); c0=$(cpu_busy)
		run "$DURATION" "$T/wrk.out"
		t1=$(cpu_ticks); c1=$(cpu_busy)
		n=$(awk '/ requests in / { print $1 }' "$T/wrk.out")
		[ "$m" != pair ] || nft list chain ip lb4_pair held_here > "$T/held_here"
		printf '%-6s %-5s %10s %12s %14s\n' "$r" "$m" \
		    "$(awk -v n="$n" -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }')" \
		    "$(awk -v u="$(( (t1 - t0) * 1000000 / HZ ))" -v n="$n" 'BEGIN { printf "%.2f", n ? u / n : 0 }')" \
		    "$(awk -v u="$(( (c1 - c0) * 1000000 / HZ ))" -v n="$n" 'BEGIN { printf "%.2f", n ? u / n : 0 }')" |
		    tee -a "$T/rounds"
	done
done
# Proof that the pair mode exercised the rule: a copy with a counter on
# the socket rule, 1 s of the same load.
sed 's/socket wildcard 0 goto held/socket wildcard 0 counter goto held/' "$T/pair.nft" > "$T/pair-count.nft"
nft flush ruleset && nft -f "$T/ct.nft" && nft -f "$T/pair-count.nft"
run 1 "$T/wrk.out"
echo "check: $(awk '/ requests in / { print $1 }' "$T/wrk.out") connections in 1 s," \
    "$(nft list chain ip lb4_pair held_here | sed -n 's/.*socket wildcard 0 counter packets \([0-9]*\).*/\1/p')" \
    "packets held by their socket, forwarded: $(nft list counter ip lb4_pair forwarded | awk '$1 == "packets" { print $2 }')"
nft flush ruleset
echo "medians (R=$R, ${DURATION}s each):"
for m in "${modes[@]}"; do
	for col in 3 4 5; do
		awk -v m="$m" -v c="$col" '$2 == m { print $c }' "$T/rounds" | sort -n |
		    awk '{ v[NR] = $1 } END { i = int((NR + 1) / 2); j = int(NR / 2) + 1; printf "%s ", (v[i] + v[j]) / 2 }'
	done | awk -v m="$m" '{ printf "  %-5s %10.0f conn/s %8.2f lb4 us/conn %8.2f client us/conn\n", m, $1, $2, $3 }'
done

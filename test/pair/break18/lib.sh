#!/bin/bash
# test/pair/break18/lib.sh: a minimal pair for attacking lb4-pair.nft
# (issue 18) without keepalived: namespaces x18c (client), x18a, x18b
# (nodes), x18n (holds the bridge).  VIP 10.98.0.10 on lo of both nodes
# and on eth0 of the holder (A), the shipped lb4-pair.nft and
# 61-lb4-pair.conf with addresses substituted, a Python echo server on
# 0.0.0.0:80 in each node (as lb4 binds in etc/lb4-pair.conf).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
T=$(mktemp -d /tmp/x18.XXXXXX)
NSS="x18c x18a x18b x18n"
PIDS=
VIP=10.98.0.10
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for ns in $NSS; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

setup() {
	for ns in $NSS; do ip netns add "$ns" || exit 1; nsx "$ns" ip link set lo up; done
	nsx x18n ip link add x18br type bridge
	nsx x18n ip link set x18br up
	local i=0
	for ns in x18c x18a x18b; do
		i=$((i + 1))
		nsx x18n ip link add "x18p$i" type veth peer name eth0 netns "$ns"
		nsx x18n ip link set "x18p$i" master x18br up
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	done
	nsx x18c ip addr add 10.98.0.100/24 dev eth0
	nsx x18a ip addr add 10.98.0.1/24 dev eth0
	nsx x18b ip addr add 10.98.0.2/24 dev eth0
	for ns in x18c x18a x18b; do nsx "$ns" ip link set eth0 up; done
	for x in a b; do
		if [ $x = a ]; then peer=10.98.0.2; else peer=10.98.0.1; fi
		sed -e "s/^define iface = .*/define iface = \"eth0\"/" \
		    -e "s/^define peer4 = .*/define peer4 = $peer/" \
		    -e "s/^define vips4 = .*/define vips4 = { $VIP }/" \
		    "$ROOT/etc/nftables/lb4-pair.nft" >"$T/$x.nft"
		grep -v '^#' "$ROOT/etc/sysctl.d/61-lb4-pair.conf" | grep . >"$T/sysctl.conf"
		nsx "x18$x" sysctl -q -p "$T/sysctl.conf" >/dev/null
		nsx "x18$x" nft -f "$T/$x.nft" || exit 1
		nsx "x18$x" ip addr add $VIP/32 dev lo
	done
	nsx x18a ip addr add $VIP/24 dev eth0	# A holds the VIP
	cat >"$T/srv.py" <<'PY'
import socket, threading, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 80)); s.listen(128)
def h(c):
    try:
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d)
            if len(sys.argv) > 2: break	# closes first (close-first.sh)
    except OSError: pass
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=h, args=(c,), daemon=True).start()
PY
	for x in a b; do
		nsx "x18$x" python3 "$T/srv.py" "${SRV_BIND:-0.0.0.0}" ${SRV_CLOSE:+close} &
		PIDS="$PIDS $!"
	done
	sleep 0.5
}
counter() {	# counter NODE NAME: packets of a ruleset counter
	nsx "x18$1" nft list counter ip lb4_pair "$2" | awk '$1 == "packets" { print $2 }'
}

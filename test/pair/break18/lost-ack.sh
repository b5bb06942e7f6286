#!/bin/bash
# Finding 1: a connection whose handshake-completing pure ACK is lost (the
# client's next segment, carrying its first data, completes the handshake:
# HTTP, TLS) is reset by the VIP holder's own peer, with no VIP move at all.
# The request socket is not a full socket (`socket wildcard 0` does not
# match) and conntrack gives a data segment the "unacknowledged" timeout
# (300 s), so `ct expiration > 1d` does not match either: forwarded, the
# peer resets it.  SYNCOOKIES=1: every handshake by SYN cookie on A.
# Exit 0 when no connection was reset.
. "$(dirname "$0")/lib.sh"
setup
[ -n "${SYNCOOKIES-}" ] && nsx x18a sysctl -qw net.ipv4.tcp_syncookies=2	# every handshake by cookie
# The client loses its first pure ACK to the VIP (one lost packet).
nsx x18c nft -f - <<'NFT'
table ip x18loss {
	chain out {
		type filter hook output priority 0;
		ip daddr 10.98.0.10 tcp dport 80 tcp flags == ack ip length 52 quota until 60 bytes counter drop
	}
}
NFT
cat >"$T/cli.py" <<'PY'
import socket, sys
s = socket.create_connection(("10.98.0.10", 80), timeout=5)
try:
    s.sendall(b"hello")
    d = s.recv(5)
    print("ok" if d == b"hello" else "short %r" % d)
except OSError as e:
    print("cut: %s" % e)
PY
n_cut=0
for i in 1 2 3 4 5; do
	# Re-arm the quota: one lost ACK per connection.
	nsx x18c nft flush chain ip x18loss out
	nsx x18c nft add rule ip x18loss out ip daddr $VIP tcp dport 80 tcp flags == ack ip length 52 quota until 60 bytes counter drop
	r=$(nsx x18c python3 "$T/cli.py")
	# The test means nothing unless the ACK was lost.
	lost=$(nsx x18c nft list chain ip x18loss out | awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')
	[ "$lost" = 1 ] || { echo "FAIL: try $i: $lost pure ACKs dropped, not 1"; exit 1; }
	echo "try $i: $r"
	case $r in ok) ;; *) n_cut=$((n_cut + 1)) ;; esac
done
echo "A forwarded=$(counter a forwarded) B not_held=$(counter b not_held)"
echo "cut: $n_cut of 5"
if [ "$n_cut" -eq 0 ]; then echo "PASS: lost-ack"; exit 0; fi
echo "FAIL: lost-ack: $n_cut of 5 connections reset"; exit 1

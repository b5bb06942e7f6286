#!/bin/bash
# Finding: with an lb4.nft from before this branch (ping accepted at 10/s
# for everyone, no rule for the peer's pings: what a pair that adds step 4
# keeps unless told), anyone who pings a node faster than 10/s (its
# address or a VIP: no spoofing needed) makes the peer's watcher take it
# for dead: the node's moved flows are reset.  PEER_RULE=1 adds the peer
# rule of the new lb4.nft: then nothing is cut.  Exit 0 when no flow cut.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-move.sh"
setup
trap "" PIPE
peer_rule=
[ -n "${PEER_RULE-}" ] && peer_rule="ip saddr 10.98.0.2 icmp type echo-request accept"
nsx x18a nft -f - <<NFT
table inet lb4 {	# lb4.nft before this branch, its ping rules
	chain input {
		type filter hook input priority filter; policy accept;
		$peer_rule
		icmp type echo-request limit rate 10/second accept
		icmp type echo-request drop
	}
}
NFT
nsx x18b "$ROOT/vrrp-hooks/pair-forward" -n "$T/b.nft" watch -m "$T/b.prom" 2>"$T/watch.log" &
PIDS="$PIDS $!"
mkfifo "$T/in"
nsx x18c python3 "$T/hold.py" <"$T/in" >"$T/out" & PIDS="$PIDS $!"
exec 5>"$T/in"
sleep 1; echo >&5; sleep 0.3
move_vip_to_b
sleep 0.3; echo >&5; sleep 0.5
# 3 s of pings at 500/s to A's address, the client sending meanwhile.
ip netns exec x18c ping -q -i 0.002 -w 3 10.98.0.1 >/dev/null 2>&1 & PIDS="$PIDS $!"
for _ in $(seq 1 30); do echo >&5 2>/dev/null; sleep 0.1; done
sleep 0.5
sort "$T/out" | uniq -c | sort -rn | head -3; cat "$T/watch.log"
# A's own watcher warns about the old lb4.nft (and not about the new one).
timeout 1.5 ip netns exec x18a "$ROOT/vrrp-hooks/pair-forward" -n "$T/a.nft" watch -m "$T/a.prom" 2>"$T/a.log"
if [ -n "${PEER_RULE-}" ]; then
	! grep -q "does not accept the peer's" "$T/a.log" || { echo "FAIL: pingflood: warning with the peer rule"; exit 1; }
else
	grep "does not accept the peer's" "$T/a.log" || { echo "FAIL: pingflood: no warning about the old lb4.nft"; exit 1; }
fi
if ! grep -q '^cut' "$T/out"; then echo "PASS: pingflood${PEER_RULE:+ (peer rule)}"; exit 0; fi
echo "FAIL: pingflood: a ping flood from a client cut a moved flow${PEER_RULE:+ (peer rule)}"; exit 1

#!/bin/bash
# Finding: `pair-forward watch` takes a live peer for dead after 3 pings
# unanswered within 0.1 s each: a 0.5 s stall of the peer (its link, its
# softirqs, a VM pause; TCP rides it out with one retransmission) lifts
# forwarding, and the peer's moved flows whose packets come meanwhile are
# reset by this node.  Exit 0 when the moved flow survives the stall.
# BLIP_MS (default 500): how long A sends nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-move.sh"
setup
trap "" PIPE
BLIP_MS=${BLIP_MS:-500}
# shellcheck disable=SC2086 # WATCH_ARGS: options, split on purpose
nsx x18b "$ROOT/vrrp-hooks/pair-forward" -n "$T/b.nft" watch ${WATCH_ARGS:-} -m "$T/b.prom" 2>"$T/watch.log" &
PIDS="$PIDS $!"
mkfifo "$T/in"
nsx x18c python3 "$T/hold.py" <"$T/in" >"$T/out" & PIDS="$PIDS $!"
exec 5>"$T/in"
sleep 1; echo >&5; sleep 0.3
move_vip_to_b
sleep 0.3; echo >&5; sleep 1
# A sends nothing for BLIP_MS; the client keeps sending.
nsx x18a nft -f - <<'NFT'
table ip x18blip {
	chain out {
		type filter hook output priority 0;
		oif "eth0" counter drop
	}
}
NFT
( for _ in 1 2 3 4 5 6; do echo >&5; sleep 0.1; done ) &
sleep "$(echo "$BLIP_MS" | awk '{ print $1 / 1000 }')"
dropped=$(nsx x18a nft list table ip x18blip | awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')
nsx x18a nft delete table ip x18blip
wait $!
sleep 2; echo >&5; sleep 1
exec 5>&-; sleep 0.3
cat "$T/out"; cat "$T/watch.log"
echo "B forwarded=$(counter b forwarded) not_held=$(counter b not_held); A dropped $dropped packets in the stall"
[ "${dropped:-0}" -gt 3 ] || { echo "FAIL: blip: no stall happened"; exit 1; }
if ! grep -q '^cut' "$T/out" && [ "$(grep -c '^ok' "$T/out")" -ge 3 ]; then echo "PASS: blip ($BLIP_MS ms)"; exit 0; fi
echo "FAIL: blip: a live peer's moved flow was cut by a $BLIP_MS ms stall"; exit 1

#!/bin/bash
# The other side of blip.sh: the peer that holds moved flows dies (all its
# traffic dropped); the time from its death to the first reset its flow
# gets from this node (the client sends every 0.1 s).  Prints it; exit 0
# when it is within MAX_S (default 1.0: the fast profile's bound is
# master-down, about 0.3 s, plus 1 s).  WATCH_ARGS: pair-forward watch's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-move.sh"
setup
trap "" PIPE
# shellcheck disable=SC2086 # WATCH_ARGS: options, split on purpose
nsx x18b "$ROOT/vrrp-hooks/pair-forward" -n "$T/b.nft" watch ${WATCH_ARGS:-} -m "$T/b.prom" 2>"$T/watch.log" &
PIDS="$PIDS $!"
mkfifo "$T/in"
nsx x18c python3 "$T/hold.py" <"$T/in" >"$T/out" & PIDS="$PIDS $!"
exec 5>"$T/in"
sleep 1; echo >&5; sleep 0.3
move_vip_to_b
sleep 0.3; echo >&5; sleep 1
nsx x18a nft -f - <<'NFT'
table ip x18dead {
	chain in { type filter hook input priority -300; iif "eth0" drop; }
	chain out { type filter hook output priority -300; oif "eth0" drop; }
}
NFT
t0=$(date +%s.%N)
for _ in $(seq 1 100); do
	echo >&5 2>/dev/null || break
	grep -q '^cut' "$T/out" && break
	sleep 0.1
done
t1=$(date +%s.%N)
tail -2 "$T/out"; cat "$T/watch.log"
dt=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
echo "death to reset: $dt s (${WATCH_ARGS:-defaults})"
grep -q '^cut.*reset' "$T/out" || { echo "FAIL: deadpeer: no reset"; exit 1; }
if awk -v d="$dt" -v m="${MAX_S:-1.0}" 'BEGIN { exit !(d <= m) }'; then echo "PASS: deadpeer"; exit 0; fi
echo "FAIL: deadpeer: $dt s"; exit 1

#!/bin/bash
# Finding: a listener bound to the VIP (lb4.conf binding the VIPs, as
# etc/lb4-pair.conf did before the forwarding: every pair upgraded to it)
# silently disables the forwarding for that VIP: `socket wildcard 0` finds
# the listener for every flow, so a moved flow is reset (move.sh with
# SRV_BIND=VIP: cut), while `pair-forward status` says "forwarding on".
# Exit 0 when pair-forward status warns about it, and does not with a
# wildcard listener.
. "$(dirname "$0")/lib.sh"
SRV_BIND=$VIP setup
nsx x18a "$ROOT/vrrp-hooks/pair-forward" -n "$T/a.nft" status >"$T/st" 2>&1
cat "$T/st"
grep -q "WARNING: listening on $VIP:80 bound to a VIP" "$T/st" || { echo "FAIL: listener: no warning"; exit 1; }
for p in $(ip netns pids x18a); do kill "$p"; done	# our server, bound to the VIP
sleep 0.3
nsx x18a python3 "$T/srv.py" 0.0.0.0 & PIDS="$PIDS $!"
sleep 0.5
nsx x18a "$ROOT/vrrp-hooks/pair-forward" -n "$T/a.nft" status >"$T/st" 2>&1
! grep -q WARNING "$T/st" || { cat "$T/st"; echo "FAIL: listener: warning with a wildcard listener"; exit 1; }
echo "PASS: listener"

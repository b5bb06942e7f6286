#!/bin/bash
# Baseline: a connection through A survives the VIP moving to B (B
# forwards its packets to A).  Exit 0 when it does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-move.sh"
setup
trap "" PIPE
mkfifo "$T/in"
nsx x18c python3 "$T/hold.py" <"$T/in" >"$T/out" & PIDS="$PIDS $!"
exec 5>"$T/in"
sleep 0.5; echo >&5; sleep 0.3
move_vip_to_b
sleep 0.3; echo >&5; sleep 0.5; echo >&5; sleep 0.5
exec 5>&-; sleep 0.3
cat "$T/out"
echo "B forwarded=$(counter b forwarded) A received=$(counter a received)"
if [ "$(grep -c '^ok' "$T/out")" = 3 ] && [ "$(counter a received)" -gt 0 ]; then echo "PASS: move"; exit 0; fi
echo "FAIL: move"; exit 1

#!/bin/bash
# Passive counting: connect failures seen by workers take a checked server
# down once they reach `fall`, long before its slow active check would,
# with the reason "N failed connects from workers"; the active check then
# brings it back after `rise`.  A pool without an active check is never
# taken down passively (nothing could bring it back).
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

P=$(free_port); A=$(free_port); Q=$(free_port); U=$(free_port)
start_back a -l 127.0.0.1:"$A" --id a
start_back u -l 127.0.0.1:"$U" --id u
write_conf lb4 <<CONF
global = { workers = 2; log_level = "debug"; };
defaults = { retries = 0; };
listeners = (
  { name = "web"; bind = [ "127.0.0.1:$P" ]; pool = "web"; },
  { name = "plain"; bind = [ "127.0.0.1:$Q" ]; pool = "plain"; }
);
pools = (
  { name = "web";
    health = { type = "tcp"; interval_ms = 4000; fall = 3; rise = 1; };
    servers = ( { address = "127.0.0.1:$A"; } ); },
  { name = "plain";
    servers = ( { address = "127.0.0.1:$U"; } ); }
);
CONF
start_lb4 lb4
expect_log "a is up" 3 "server web/127\.0\.0\.1:$A is up$"
# Let the first active check finish well before a dies.
sleep 0.2
stop_pid "${BACK_PID[a]}"
stop_pid "${BACK_PID[u]}"
t0=$(now_ms)
for _ in 1 2 3; do
	"$TCLIENT" -T 3000 --seq 1 127.0.0.1:"$P" > /dev/null
	"$TCLIENT" -T 3000 --seq 1 127.0.0.1:"$Q" > /dev/null
done
expect_log "a is down from the workers' failed connects" 2 \
    "^<4>server web/127\.0\.0\.1:$A is down: 3 failed connects from workers$"
dt=$(( $(now_ms) - t0 ))
assert_range "down well before the active check (interval 4000 ms) could" \
    0 $((1500 * SLOW)) "$dt"
assert_no_grep "no active check failed before it went down" \
    "web/127\.0\.0\.1:$A: check failed" "$LB4_LOG"
assert_no_grep "a pool without checks is never taken down passively" \
    "server plain/.* is down" "$LB4_LOG"

# The active check brings it back (rise = 1) once it listens again.
start_back a2 -l 127.0.0.1:"$A" --id a
expect_count "a is up again by its active check" 6 2 \
    "server web/127\.0\.0\.1:$A is up$"
out=$("$TCLIENT" -T 3000 --seq 3 127.0.0.1:"$P")
assert_eq "traffic reaches a again" "count a 3" "$(grep '^count' <<< "$out")"
stop_lb4
finish

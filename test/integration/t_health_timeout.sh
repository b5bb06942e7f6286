#!/bin/bash
# Timeouts: a server that accepts and never answers (http and
# send-expect), and one whose accept queue is full so the connect itself
# hangs (tcp), are down with "timeout after N ms", measured; meanwhile the
# checks of another pool keep their pace: nothing blocks the main loop.
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

P=$(free_port); S=$(free_port); F=$(free_port); G=$(free_port)
start_back silent -l 127.0.0.1:"$S" --silent
start_back full -l 127.0.0.1:"$F" --full-backlog
start_back good -l 127.0.0.1:"$G" --echo
write_conf lb4 <<CONF
global = { workers = 1; log_level = "debug"; };
listeners = ( { name = "x"; bind = [ "127.0.0.1:$P" ]; pool = "good"; } );
pools = (
  { name = "http";
    health = { type = "http"; interval_ms = 1000; timeout_ms = 700; };
    servers = ( { address = "127.0.0.1:$S"; } ); },
  { name = "expect";
    health = { type = "send-expect"; send = "x"; expect = "y";
      interval_ms = 1000; timeout_ms = 700; };
    servers = ( { address = "127.0.0.1:$S"; } ); },
  { name = "connect";
    health = { type = "tcp"; interval_ms = 1000; timeout_ms = 700; };
    servers = ( { address = "127.0.0.1:$F"; } ); },
  { name = "good";
    health = { type = "tcp"; interval_ms = 100; timeout_ms = 100; };
    servers = ( { address = "127.0.0.1:$G"; } ); }
);
CONF
t0=$(now_ms)
start_lb4 lb4
# The three time out together, about 700 ms after the start: WAIT s (x
# SLOW) for them is ample, and the same bound caps the time they took.
WAIT=4
for pool in http expect connect; do
	port=$S
	[ $pool = connect ] && port=$F
	expect_log "$pool: timeout" $WAIT \
	    "^<4>server $pool/127\.0\.0\.1:$port is down: timeout after 700 ms$"
done
dt=$(( $(now_ms) - t0 ))
# The lower bound is the point (no early verdict); the upper one only
# catches a check that never times out, on a loaded machine too.
assert_range "the three timed out after about 700 ms (ms since start)" 650 \
    $(((WAIT + 1) * 1000 * SLOW)) "$dt"
# Meanwhile and for 1.5 s more, the 100 ms checks of "good" kept going.
# The bounds follow the time it really took (dt may be up to WAIT s):
# never more than one check per interval_ms, and no fewer than half as
# many (SLOW times fewer on a slow machine).
sleep 1.5
dt=$(( $(now_ms) - t0 ))
n=$(count_log "good/127\.0\.0\.1:$G: check passed")
assert_range "good's 100 ms checks kept their pace over $dt ms" \
    $((dt / (200 * SLOW))) $((dt / 100 + 3)) "$n"
assert_no_grep "good never failed" "good/.*(check failed|is down)" "$LB4_LOG"
# Every timed-out check closed its connection (the silent peer saw EOFs):
# two pools check it, each at most once per second.
n=$(grep -c '^conn .*end=eof' "$T/silent.log")
assert_range "silent saw its check connections closed" 2 \
    $((2 * (dt / 1000 + 1))) "$n"
stop_lb4
finish

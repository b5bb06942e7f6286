#!/bin/bash
# global.max_connections = 2: a third client is not served while two are
# open (it waits; it is not closed), and is served as soon as one of them
# ends.  While full, lb4 does not spin: its CPU time over 2 s stays low,
# and it logs the condition once, not in a loop.
. "$(dirname "$0")/lib.sh"

P=$(free_port); E=$(free_port)
start_back echo -l 127.0.0.1:"$E" --echo
write_conf lb4 <<CONF
global = { workers = 2; max_connections = 2; };
listeners = ( { name = "m"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
start_lb4 lb4

# A and B: 15 pings 250 ms apart, about 3.5 s each.
bg_client a -T 10000 --ping 15 --interval 250 127.0.0.1:"$P"
bg_client b -T 10000 --ping 15 --interval 250 127.0.0.1:"$P"
sleep 0.4
bg_client c -T 12000 --ping 1 127.0.0.1:"$P"
sleep 0.5
lines0=$(wc -l < "$LB4_LOG")
cpu0=$(cpu_ms "$LB4_PID")
sleep 2
cpu1=$(cpu_ms "$LB4_PID")
lines1=$(wc -l < "$LB4_LOG")
assert_range "lb4 CPU ms used in 2 s while full" 0 $((200 * SLOW)) \
    $((cpu1 - cpu0))
assert_range "lb4 log lines written in 2 s while full" 0 2 $((lines1 - lines0))
alive "${CLIENT_PID[c]}" ||
    fail "client c finished while lb4 was full: $(cat "$T/c.out")"

wait_client a; assert_rc "client a" 0 $?
wait_client b; assert_rc "client b" 0 $?
wait_client c
assert_rc "client c served once a slot was free" 0 $?
first=$(kv "$(cat "$T/c.out")" first_reply_ms)
# a and b end about 3.1 s after c started
assert_range "client c's first reply (ms after it started)" 2500 \
    $((5000 * SLOW)) "${first:--1}"

# and lb4 recovered by itself: two more at once, served promptly
bg_client d -T 5000 --ping 2 --interval 100 127.0.0.1:"$P"
bg_client e -T 5000 --ping 2 --interval 100 127.0.0.1:"$P"
wait_client d; assert_rc "client d after the limit lifted" 0 $?
wait_client e; assert_rc "client e after the limit lifted" 0 $?
assert_range "client d's first reply (ms)" 0 $((500 * SLOW)) \
    "$(kv "$(cat "$T/d.out")" first_reply_ms)"
sed 's/^/lb4: /' "$LB4_LOG"
stop_lb4
finish

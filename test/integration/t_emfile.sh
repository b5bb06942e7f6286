#!/bin/bash
# Out of file descriptors (lb4(8), "Limits", "Local errors"): lb4 runs with
# a tiny RLIMIT_NOFILE (prlimit), and more clients come at once than it has
# descriptors for.  A client lb4 accepted always gets its server socket
# (the fd reserve answers it) instead of a FIN; accepting pauses, the rest
# wait in the listen queue, and every client is served in the end with
# its bytes intact.  The local error is counted, no server is blamed.
. "$(dirname "$0")/lib.sh"

command -v prlimit > /dev/null || skip "needs prlimit"
P=$(free_port); E=$(free_port); M=$(free_port)
start_back echo -l 127.0.0.1:"$E" --echo --quiet
write_conf lb4 <<CONF
global = { workers = 1; metrics = "127.0.0.1:$M"; };
defaults = { idle_timeout_ms = 20000; };
listeners = ( { name = "f"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p";
  health = { type = "tcp"; interval_ms = 300; timeout_ms = 2000; fall = 2; };
  servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
NOFILE=48
# Last in the wrapper: under LB4_AS_UNIT the unit's limit is set first,
# and lowering it needs no privilege.
LB4_WRAP="$LB4_WRAP prlimit --nofile=$NOFILE:$NOFILE"
start_lb4 lb4
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$M/metrics" |
	    awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }'
}
wait_until 10 eval '[ "$(metric "lb4_server_up{pool=\"p\",server=\"127.0.0.1:$E\"}")" = 1 ]' ||
    fatal "server not up"
base=$(find "/proc/$LB4_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
say "lb4 holds $base fds of $NOFILE before any client"

# 40 clients at once, each sending 3000 bytes over 2 s: about twice what
# the descriptors left allow.
"$TCLIENT" -c 40 -n 3000 --rate 1500 --expect-echo -T 60000 \
    127.0.0.1:"$P" > "$T/many.out" 2>&1
rc=$?
grep -v '^conn .* end eof' "$T/many.out" | head -20
assert_rc "40 clients through $((NOFILE - base)) spare fds" 0 $rc
assert_eq "clients served whole" 40 "$(grep -c '^conn .* end eof' "$T/many.out")"
assert_range 'lb4_local_errors_total{reason="fd"}' 1 100000 \
    "$(metric 'lb4_local_errors_total{reason="fd"}')"
assert_grep "accepting paused, logged" "accepting paused" "$LB4_LOG"
assert_no_grep "no server marked down" " is down" "$LB4_LOG"
assert_eq "no connect error blamed on the server" 0 \
    "$(metric "lb4_connect_errors_total{pool=\"p\",server=\"127.0.0.1:$E\"}")"
# Recovered: a later client is served at once.
"$TCLIENT" -n 1000 --expect-echo -T 5000 127.0.0.1:"$P" > "$T/after.out" 2>&1
assert_rc "a client after the storm" 0 $?
stop_lb4
finish

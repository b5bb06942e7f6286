#!/bin/bash
# A reload that drops a pool while connections hold its servers (issue 12,
# finding 1).  Listener l moves from pool p to pool q and p leaves the
# file; pool r is renamed r2 (same server, so r's server objects go too).
# Eight long connections (four through l to p's server, four through m to
# r's) stream echo data across the reload and for two seconds after it,
# when the dropped pools' objects have long been collected, then close.
#   - every long connection is byte-exact to the end (SHA-256 both ways);
#   - lb4 is alive, new connections on l reach q's server, and its log
#     holds no sanitizer report.
# Before the fix, the ASan build dies with heap-use-after-free in
# count_bytes / conn_drop_server on the first byte or close after the
# collection (~100 ms after the reload).  Done twice: SIGHUP, then
# lb4ctl reload back and forth.
. "$(dirname "$0")/lib.sh"
. "$HERE/rlib.sh"

L=$(free_port); LM=$(free_port)
S1=$(free_port); S2=$(free_port); S3=$(free_port)
start_back s1 -l 127.0.0.1:"$S1" --echo --quiet
start_back s2 -l 127.0.0.1:"$S2" --echo --quiet
start_back s3 -l 127.0.0.1:"$S3" --echo --quiet

write_conf A <<CONF
global = { workers = 2; };
listeners = (
  { name = "l"; bind = [ "127.0.0.1:$L" ]; pool = "p"; },
  { name = "m"; bind = [ "127.0.0.1:$LM" ]; pool = "r"; }
);
pools = (
  { name = "p"; servers = ( { address = "127.0.0.1:$S1"; } ); },
  { name = "q"; servers = ( { address = "127.0.0.1:$S2"; } ); },
  { name = "r"; servers = ( { address = "127.0.0.1:$S3"; } ); }
);
CONF
# B: l re-pointed at q, p gone; r renamed r2.
write_conf B <<CONF
global = { workers = 2; };
listeners = (
  { name = "l"; bind = [ "127.0.0.1:$L" ]; pool = "q"; },
  { name = "m"; bind = [ "127.0.0.1:$LM" ]; pool = "r2"; }
);
pools = (
  { name = "q"; servers = ( { address = "127.0.0.1:$S2"; } ); },
  { name = "r2"; servers = ( { address = "127.0.0.1:$S3"; } ); }
);
CONF
use_conf A
start_lb4 lb4

# round N HOW: long connections on A's pools, reload to B, traffic for
# 2 s, they finish; then back to A (HOW: sighup or ctl).
round() {
	local n=$1 how=$2 c want=$(( $1 * 2 ))
	use_conf A
	if [ "$n" -gt 1 ]; then
		ctl reload > /dev/null || fail "round $n: reload back to A"
	fi
	# 4 s at 50 kB/s: about 200 kB each way per connection.
	bg_client longl"$n" -T 20000 -c 4 -s $((n * 10)) -n 200000 \
	    --rate 50000 --expect-echo 127.0.0.1:"$L"
	bg_client longm"$n" -T 20000 -c 4 -s $((n * 10 + 5)) -n 200000 \
	    --rate 50000 --expect-echo 127.0.0.1:"$LM"
	sleep 1
	ctl show servers > "$T/before$n.out"
	assert_grep "round $n: p's server holds the 4 connections of l" \
	    "^p 127.0.0.1:$S1 up weight=1 active=4 " "$T/before$n.out"
	use_conf B
	if [ "$how" = sighup ]; then
		kill -HUP "$LB4_PID"
		wait_until 5 eval '[ "$(reloads_ok)" -ge '"$((want - 1))"' ]' ||
		    fail "round $n: SIGHUP reload to B not applied"
	else
		ctl reload > "$T/reload$n.out" 2>&1
		assert_rc "round $n: lb4ctl reload to B" 0 $?
	fi
	say "round $n: reloaded to B ($how); pools p and r are gone"
	sleep 2		# pools collected; bytes still flow, then FINs
	lb4_gone "after the reload that dropped pools p and r" && finish
	for c in longl$n longm$n; do
		wait_client "$c" > /dev/null
		assert_rc "round $n: $c: 4 long connections across the reload" \
		    0 $?
		assert_eq "round $n: $c: byte-exact (200000 bytes each way)" 4 \
		    "$(long_ok "$T/$c.out" 200000)"
	done
	lb4_gone "when the connections of the dropped pools closed" && finish
	"$TCLIENT" -T 5000 -n 1000 --expect-echo 127.0.0.1:"$L" > /dev/null
	assert_rc "round $n: a new connection on l (now pool q)" 0 $?
	ctl show servers > "$T/after$n.out"
	assert_grep "round $n: it went to q's server" \
	    "^q 127.0.0.1:$S2 up weight=1 active=0 total=[1-9]" "$T/after$n.out"
	assert_no_grep "round $n: pool p is gone" "^p " "$T/after$n.out"
}
round 1 sighup
round 2 ctl

stop_lb4
finish

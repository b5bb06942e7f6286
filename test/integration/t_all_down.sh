#!/bin/bash
# Every server refuses: after its retries lb4 closes the client promptly
# (refusals are immediate, far under connect_timeout_ms), and keeps running.
. "$(dirname "$0")/lib.sh"

P=$(free_port); PE=$(free_port); E=$(free_port)
D1=$(free_port); D2=$(free_port)	# nothing listens
start_back echo -l 127.0.0.1:"$E" --echo
write_conf lb4 <<CONF
global = { workers = 2; };
defaults = { retries = 2; connect_timeout_ms = 5000; };
listeners = (
  { name = "down"; bind = [ "127.0.0.1:$P" ]; pool = "down"; },
  { name = "up"; bind = [ "127.0.0.1:$PE" ]; pool = "up"; }
);
pools = (
  { name = "down"; servers = (
    { address = "127.0.0.1:$D1"; }, { address = "127.0.0.1:$D2"; }
  ); },
  { name = "up"; servers = ( { address = "127.0.0.1:$E"; } ); }
);
CONF
start_lb4 lb4

for i in 1 2 3 4 5; do
	# --no-shut: the client sends nothing and no FIN; only lb4 can end it.
	out=$("$TCLIENT" -T 4000 --no-shut -n 0 127.0.0.1:"$P")
	rc=$?
	echo "$out"
	end=$(awk '{ print $10 }' <<< "$out")
	ms=$(awk '{ print $12 }' <<< "$out")
	if [ "$rc" = 0 ] || [ "$rc" = 4 ]; then
		say "ok: client #$i closed by lb4 ($end)"
	else
		fail "client #$i: expected lb4 to close it (EOF or reset), got exit $rc ($(rc_name $rc)), end '$end'"
	fi
	assert_range "client #$i closed within (ms; connect_timeout is 5000)" \
	    0 $((1000 * SLOW)) "$ms"
	assert_eq "client #$i received nothing" "recv 0" \
	    "$(grep -oE 'recv [0-9]+' <<< "$out")"
done
alive "$LB4_PID" || fail "lb4 died"
out=$("$TCLIENT" -T 5000 -n 10000 --expect-echo 127.0.0.1:"$PE")
assert_rc "another listener still serves" 0 $?
stop_lb4
finish

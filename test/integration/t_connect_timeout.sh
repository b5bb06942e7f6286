#!/bin/bash
# A connect that is never answered is given up after connect_timeout_ms and
# retried on the next server.  A server that drops SYNs on loopback: tback
# --full-backlog listens with backlog 0 and fills its accept queue itself,
# so the kernel drops every further SYN.
. "$(dirname "$0")/lib.sh"

P1=$(free_port); P2=$(free_port); H=$(free_port); E=$(free_port)
start_back hole -l 127.0.0.1:"$H" --full-backlog
start_back echo -l 127.0.0.1:"$E" --echo

# Is it really a black hole here?
"$TCLIENT" --connect-timeout 300 -T 1000 127.0.0.1:"$H" > "$T/probe.out"
rc=$?
[ $rc = 5 ] || skip "a full accept queue does not drop SYNs on this kernel (probe exit $rc: $(cat "$T/probe.out"))"

write_conf lb4 <<CONF
global = { workers = 2; };
listeners = (
  { name = "retry"; bind = [ "127.0.0.1:$P1" ]; pool = "retry"; },
  { name = "hole"; bind = [ "127.0.0.1:$P2" ]; pool = "hole"; }
);
pools = (
  { name = "retry"; connect_timeout_ms = 600; retries = 2; servers = (
    { address = "127.0.0.1:$H"; }, { address = "127.0.0.1:$E"; }
  ); },
  { name = "hole"; connect_timeout_ms = 600; retries = 0; servers = (
    { address = "127.0.0.1:$H"; }
  ); }
);
CONF
start_lb4 lb4

# Four sequential connections over weights 1,1.  nginx's SWRR (lb4(8))
# leaves a server already tried for this connection out of the retry
# pick (its weight is not added), so the picks alternate: two
# connections go to the black hole first and are retried on the echo
# server after ~600 ms, two are served at once, whatever the tie-break.
slow=0 fast=0
for i in 1 2 3 4; do
	"$TCLIENT" -T 5000 --ping 1 127.0.0.1:"$P1" > "$T/c$i.out"
	rc=$?
	echo "c$i: $(cat "$T/c$i.out")"
	assert_rc "connection $i through a pool with a black hole in it" 0 $rc
	r=$(kv "$(cat "$T/c$i.out")" first_reply_ms)
	if [ "${r:--1}" -ge 550 ] && [ "${r:--1}" -le 2500 ]; then
		slow=$((slow + 1))
	elif [ "${r:--1}" -ge 0 ] && [ "${r:--1}" -lt 400 ]; then
		fast=$((fast + 1))
	else
		fail "connection $i: first reply after '$r' ms, neither at once (<400) nor after one connect timeout (550..2500)"
	fi
done
assert_eq "connections retried after one connect timeout (550..2500 ms)" 2 $slow
assert_eq "connections served at once (< 400 ms)" 2 $fast

# Only the black hole, no retries: the client is closed after ~600 ms.
out=$("$TCLIENT" -T 5000 --no-shut -n 0 127.0.0.1:"$P2")
rc=$?
echo "$out"
ms=$(awk '{ print $12 }' <<< "$out")
if [ "$rc" = 0 ] || [ "$rc" = 4 ]; then
	say "ok: client closed by lb4 ($(awk '{ print $10 }' <<< "$out"))"
else
	fail "client: expected lb4 to close it (EOF or reset), got exit $rc ($(rc_name $rc))"
fi
assert_range "close after connect_timeout_ms = 600 (ms)" 550 \
    $((2500 * SLOW)) "$ms"

alive "$LB4_PID" || fail "lb4 died"
stop_lb4
finish

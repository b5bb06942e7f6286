#!/bin/bash
# A reset from one side resets the other: the client sees ECONNRESET, not
# a clean EOF; and a client's reset reaches the server as a reset.
. "$(dirname "$0")/lib.sh"

P1=$(free_port); P2=$(free_port); B1=$(free_port); B2=$(free_port)
# Resets after exactly 100 bytes: nothing is left unread anywhere, so a
# plain close() by lb4 would be a clean FIN, and the test would see it.
start_back rst -l 127.0.0.1:"$B1" --rst 100
start_back echo -l 127.0.0.1:"$B2" --echo
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = (
  { name = "rst"; bind = [ "127.0.0.1:$P1" ]; pool = "rst"; },
  { name = "echo"; bind = [ "127.0.0.1:$P2" ]; pool = "echo"; }
);
pools = (
  { name = "rst"; servers = ( { address = "127.0.0.1:$B1"; } ); },
  { name = "echo"; servers = ( { address = "127.0.0.1:$B2"; } ); }
);
CONF
start_lb4 lb4

# 1. server resets -> client sees a reset (3 times, each a fresh conn)
for i in 1 2 3; do
	out=$("$TCLIENT" -T 5000 -n 100 --no-shut 127.0.0.1:"$P1")
	rc=$?
	echo "$out"
	assert_rc "server reset #$i reaches the client as a reset" 4 $rc
done
assert_eq "server reset connections" 3 \
    "$(grep -c 'recv=100 .* end=rst-sent' "$T/rst.log")"

# 2. client resets (after its 1000 bytes came back) -> server sees a reset
for i in 1 2 3; do
	out=$("$TCLIENT" -T 5000 -n 1000 --rst-after-echo 127.0.0.1:"$P2")
	rc=$?
	echo "$out"
	assert_rc "client #$i echoed, then reset" 0 $rc
done
wait_until 5 eval '[ $(grep -c "^conn " "$T/echo.log") -ge 3 ]'
grep '^conn ' "$T/echo.log"
assert_eq "server connections that ended in a reset" 3 \
    "$(grep -c '^conn .* recv=1000 .* end=rst' "$T/echo.log")"

# lb4 is fine afterwards
out=$("$TCLIENT" -T 5000 -n 5000 --expect-echo 127.0.0.1:"$P2")
assert_rc "a normal connection after the resets" 0 $?
stop_lb4
finish

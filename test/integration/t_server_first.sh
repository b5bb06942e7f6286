#!/bin/bash
# The server speaks first: lb4 must connect to the server as soon as the
# client is accepted, without waiting for client bytes, and relay the
# greeting to a client that has sent nothing.
. "$(dirname "$0")/lib.sh"

P=$(free_port); B=$(free_port)
start_back greet -l 127.0.0.1:"$B" --server-first "220 tback ready"
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = ( { name = "smtp"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$B"; } ); } );
CONF
start_lb4 lb4

# tclient reads the greeting before it writes anything: without the
# greeting it times out (exit 5).
for n in 0 1 300000; do
	out=$("$TCLIENT" -T 5000 --greeting "220 tback ready" -n $n -s 3 \
	    --expect-echo 127.0.0.1:"$P")
	rc=$?
	echo "$out"
	assert_rc "greeting first, then $n bytes echoed" 0 $rc
done
# a client that never sends: greeting arrives, connection stays usable
out=$("$TCLIENT" -T 1500 --greeting "220 tback ready" --no-shut -n 0 \
    127.0.0.1:"$P")
rc=$?
echo "$out"
assert_rc "silent client gets the greeting, then waits for EOF" 5 $rc
assert_eq "silent client: greeting read, connection still open at the end" \
    "end timeout" "$(grep -oE 'end [a-z-]+' <<< "$out")"
assert_grep "server sent the greeting to every connection" \
    '^conn 3 .*sent=16 ' "$T/greet.log"

stop_lb4
finish

#!/bin/bash
# source = [ ... ] with several servers: every server must see every
# source address.  The port limit is per (source, server) pair, so a
# second source address doubles the connections toward *each* server
# only when each server is reached from both.  One turn counter for the
# whole pool, advanced together with the SWRR pick under the same lock,
# locks the two cycles together: with 2 equal servers and 2 sources,
# server A always gets source a and B always b (each server keeps one
# source's port range, and a retry after EADDRNOTAVAIL on A/a lands on
# B/b, never on A/b).
. "$(dirname "$0")/lib.sh"

P=$(free_port); E1=$(free_port); E2=$(free_port); M=$(free_port)
start_back e1 -l 127.0.0.1:"$E1" --echo
start_back e2 -l 127.0.0.1:"$E2" --echo
write_conf lb4 <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; };
listeners = ( { name = "s"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; source = [ "127.0.0.2", "127.0.0.3" ];
  servers = ( { address = "127.0.0.1:$E1"; }, { address = "127.0.0.1:$E2"; } ); } );
CONF
start_lb4 lb4
for i in $(seq 1 8); do
	"$TCLIENT" -n 100 --expect-echo -T 10000 127.0.0.1:"$P" > /dev/null 2>&1 ||
	    fail "connection $i failed"
done
sleep 1
for b in e1 e2; do
	for s in 2 3; do
		n=$(grep -c "^conn .* peer=127\.0\.0\.$s:.* recv=100 " "$T/$b.log")
		say "$b from 127.0.0.$s: $n"
		assert_range "$b is reached from 127.0.0.$s" 1 8 "$n"
	done
done
stop_lb4
finish

#!/bin/bash
# source = [ ... ] with both families: every IPv4 source must be used for
# the IPv4 servers.  The pool-wide turn is shared by both families and a
# pick skips (and consumes) the other family's entries, so with sources
# [ 127.0.0.2, 127.0.0.3, ::1 ] and one IPv4 and one IPv6 server picked
# in alternation, 127.0.0.3 is never used: the IPv4 server keeps one
# source's port range.
. "$(dirname "$0")/lib.sh"

P=$(free_port); E1=$(free_port); E2=$(free_port)
start_back e4 -l 127.0.0.1:"$E1" --echo
start_back e6 -l "[::1]:$E2" --echo
write_conf lb4 <<CONF
global = { workers = 1; };
listeners = ( { name = "s"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; source = [ "127.0.0.2", "127.0.0.3", "::1" ];
  servers = ( { address = "127.0.0.1:$E1"; }, { address = "[::1]:$E2"; } ); } );
CONF
start_lb4 lb4
for i in $(seq 1 8); do
	"$TCLIENT" -n 100 --expect-echo -T 10000 127.0.0.1:"$P" > /dev/null 2>&1 ||
	    fail "connection $i failed"
done
sleep 1
for s in 2 3; do
	n=$(grep -c "^conn .* peer=127\.0\.0\.$s:.* recv=100 " "$T/e4.log")
	assert_range "the IPv4 server is reached from 127.0.0.$s" 1 4 "$n"
done
assert_eq "the IPv6 server served its half" 4 \
    "$(grep -c '^conn .* peer=\[::1\]:.* recv=100 ' "$T/e6.log")"
stop_lb4
finish

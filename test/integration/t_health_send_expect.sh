#!/bin/bash
# send-expect checks: the expected bytes seen (even split over reads or
# after other bytes) bring a server up; a server that closes without them
# is down with "expect '...' not seen"; one that never answers is down
# with a timeout; `send` bytes reach the server; `port` redirects the check.
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

P=$(free_port); A=$(free_port); B=$(free_port); C=$(free_port)
E=$(free_port); D=$(free_port)
start_back a -l 127.0.0.1:"$A" --server-first "hello +PONG redis"
start_back b -l 127.0.0.1:"$B" --id nope
start_back c -l 127.0.0.1:"$C" --silent
start_back e -l 127.0.0.1:"$E" --echo
write_conf lb4 <<CONF
global = { workers = 1; log_level = "debug"; };
listeners = ( { name = "kv"; bind = [ "127.0.0.1:$P" ]; pool = "kv"; } );
pools = (
  { name = "kv";
    health = { type = "send-expect"; send = "PING\r\n"; expect = "+PONG";
      interval_ms = 200; timeout_ms = 300; rise = 1; fall = 1; };
    servers = ( { address = "127.0.0.1:$A"; }, { address = "127.0.0.1:$B"; },
      { address = "127.0.0.1:$C"; } ); },
  { name = "echo";
    health = { type = "send-expect"; send = "hello lb4\n"; expect = "lb4";
      port = $E; interval_ms = 200; };
    servers = ( { address = "127.0.0.1:$D"; } ); }
);
CONF
start_lb4 lb4
expect_log "a (greets with +PONG) is up" 3 "server kv/127\.0\.0\.1:$A is up$"
expect_log "b (closes with 'nope') is down" 3 \
    "^<4>server kv/127\.0\.0\.1:$B is down: expect '\+PONG' not seen \(connection closed\)$"
expect_log "c (silent) is down by timeout" 3 \
    "^<4>server kv/127\.0\.0\.1:$C is down: timeout after 300 ms$"
expect_log "echo pool: the check goes to port $E, its echo matches" 3 \
    "server echo/127\.0\.0\.1:$D is up$"
sleep 0.5
# The sent bytes reached the servers: "PING\r\n" is 6 bytes.
n=$(grep -cE '^conn [0-9]+ .*recv=6 ' "$T/c.log")
assert_range "c received 'PING\\r\\n' on its checks" 2 100 "$n"
# Timed-out checks closed their sockets (tback logs a line per close).
n=$(grep -c '^conn ' "$T/c.log")
assert_range "c's check connections were closed" 2 100 "$n"
for i in 1 2 3 4 5 6; do
	"$TCLIENT" -T 3000 --greeting "hello +PONG redis" -n 1000 -s $i \
	    127.0.0.1:"$P" > /dev/null
	assert_rc "connection $i goes to a (greeting, then echo)" 0 $?
done
stop_lb4
finish

#!/bin/bash
# A pool that no listener names (allowed: kept ready for a later reload)
# and that has a health check is dropped by a reload.  Only the config
# holds a reference on it, so commit_pools() frees it and its servers at
# once, before health_sync() drops the checks still attached to those
# servers: health_sync() must not write into a freed server.  lb4 keeps
# serving and (ASan build) reports nothing.
. "$(dirname "$0")/lib.sh"

P=$(free_port); A=$(free_port); B=$(free_port)
start_back a -l 127.0.0.1:"$A" --echo --quiet
start_back b -l 127.0.0.1:"$B" --echo --quiet
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = ( { name = "l"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = (
  { name = "p"; servers = ( { address = "127.0.0.1:$A"; } ); },
  { name = "spare"; health = { type = "tcp"; interval_ms = 200; };
    servers = ( { address = "127.0.0.1:$B"; } ); }
);
CONF
start_lb4 lb4
wait_until 10 grep -q "server spare/127.0.0.1:$B is up" "$LB4_LOG" ||
    fail "the spare pool's server never came up"
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = ( { name = "l"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$A"; } ); } );
CONF
kill -HUP "$LB4_PID"
wait_until 10 eval 'grep -q "reloaded" "$LB4_LOG" || ! alive '"$LB4_PID"
sleep 1
alive "$LB4_PID" || fatal "lb4 died dropping an unused pool: $(grep -m1 -A4 'ERROR: Addr' "$LB4_LOG")"
"$TCLIENT" -n 1000 --expect-echo 127.0.0.1:"$P" > "$T/c.out" 2>&1
assert_eq "a client through the listener after the reload" 0 $?
stop_lb4
finish

#!/bin/bash
# tcp checks: a listening server comes up on its first check (which runs
# at once, long before interval_ms), a refusing one is logged down once
# with the reason, a server that starts listening comes up after `rise`,
# one that stops is taken down after `fall`, and traffic follows.
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

P=$(free_port); A=$(free_port); B=$(free_port)
start_back a -l 127.0.0.1:"$A" --id a
write_conf lb4 <<CONF
global = { workers = 2; log_level = "debug"; };
defaults = { retries = 2; };
listeners = ( { name = "web"; bind = [ "127.0.0.1:$P" ]; pool = "web"; } );
pools = (
  { name = "web";
    health = { type = "tcp"; interval_ms = 200; timeout_ms = 200;
      rise = 2; fall = 2; };
    servers = ( { address = "127.0.0.1:$A"; }, { address = "127.0.0.1:$B"; } ); },
  { name = "slow";
    health = { type = "tcp"; interval_ms = 60000; rise = 5; };
    servers = ( { address = "127.0.0.1:$A"; } ); }
);
CONF
t0=$(now_ms)
start_lb4 lb4
expect_log "a is up" 3 "server web/127\.0\.0\.1:$A is up$"
expect_log "slow pool: first check at once, its success brings it up (rise 5)" \
    2 "server slow/127\.0\.0\.1:$A is up$"
assert_range "slow pool up long before interval_ms=60000 (ms)" 0 $((1500 * SLOW)) \
    $(( $(now_ms) - t0 ))
expect_log "b is down with the reason" 3 \
    "^<4>server web/127\.0\.0\.1:$B is down: connection refused$"

LB4_SOCKET=$T/lb4.sock "$LB4CTL" show servers > "$T/servers.out"
assert_grep "show servers gives the reason b is down" \
    "^web 127\.0\.0\.1:$B down weight=1 active=0 total=0 reason=\"connection refused\"\$" \
    "$T/servers.out"
assert_grep "no reason on a server that is up" \
    "^web 127\.0\.0\.1:$A up weight=1 active=0 total=0\$" "$T/servers.out"

out=$("$TCLIENT" -T 10000 --seq 20 127.0.0.1:"$P")
echo "$out"
assert_eq "all 20 connections to a" "count a 20" "$(grep '^count' <<< "$out" | tr '\n' ' ' | sed 's/ $//')"

# b starts listening: up after exactly rise=2 passes.  The lines read end
# at the change (sed q): checks go on meanwhile, and a slow run would
# otherwise see the next one as the last.
start_back b -l 127.0.0.1:"$B" --id b
expect_log "b is up" 3 "server web/127\.0\.0\.1:$B is up$"
assert_eq "b passed twice before it came up" \
    "passed (1 in a row) passed (2 in a row) is up" \
    "$(grep -E "web/127\.0\.0\.1:$B(:| is up)" "$LB4_LOG" |
      sed '/ is up$/q' | tail -n 3 |
      sed -E 's/.*check (passed \([0-9]+ in a row\)).*/\1/; s/.* is up$/is up/' | tr '\n' ' ' | sed 's/ $//')"
out=$("$TCLIENT" -T 10000 --seq 20 127.0.0.1:"$P")
echo "$out"
assert_eq "connections spread over a and b" "count a 10 count b 10 errors 0" \
    "$(grep -E '^(count|errors)' <<< "$out" | sort | tr '\n' ' ' | sed 's/ $//')"

# a stops: down after fall=2 failures, then every connection goes to b.
stop_pid "${BACK_PID[a]}"
expect_log "a is down" 3 "^<4>server web/127\.0\.0\.1:$A is down: connection refused$"
n=$(grep -E "web/127\.0\.0\.1:$A(:| is down)" "$LB4_LOG" |
    sed '/ is down/q' | tail -n 3 |
    sed -E 's/.*check (failed \([0-9]+ in a row\)).*/\1/; s/.* is down.*/is down/' | tr '\n' ' ')
assert_eq "a failed twice before it went down" \
    "failed (1 in a row) failed (2 in a row) is down " "$n"
out=$("$TCLIENT" -T 10000 --seq 20 127.0.0.1:"$P")
echo "$out"
assert_eq "all 20 connections to b" "count b 20 errors 0" \
    "$(grep -E '^(count|errors)' <<< "$out" | tr '\n' ' ' | sed 's/ $//')"

# Each change is logged once.
assert_eq "one 'a is up' line" 1 "$(count_log "web/127\.0\.0\.1:$A is up")"
assert_eq "one 'a is down' line" 1 "$(count_log "web/127\.0\.0\.1:$A is down")"
assert_eq "one 'b is down' line" 1 "$(count_log "web/127\.0\.0\.1:$B is down")"
assert_eq "one 'b is up' line" 1 "$(count_log "web/127\.0\.0\.1:$B is up")"
stop_lb4
finish

#!/bin/bash
# Smooth weighted round robin, exactly nginx's, across worker threads:
# weights 5,1,1 with 2 workers give a a b a c a a and repeat, so 7000
# sequential connections split exactly 5000/1000/1000.
. "$(dirname "$0")/lib.sh"

P=$(free_port); A=$(free_port); B=$(free_port); C=$(free_port)
start_back a -l 127.0.0.1:"$A" --id a --quiet
start_back b -l 127.0.0.1:"$B" --id b --quiet
start_back c -l 127.0.0.1:"$C" --id c --quiet
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = ( { name = "w"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = (
  { address = "127.0.0.1:$A"; weight = 5; },
  { address = "127.0.0.1:$B"; weight = 1; },
  { address = "127.0.0.1:$C"; weight = 1; }
); } );
CONF
start_lb4 lb4

t0=$(now_ms)
out=$("$TCLIENT" -T 90000 --seq 7000 --show 21 127.0.0.1:"$P")
rc=$?
say "7000 sequential connections in $(( $(now_ms) - t0 )) ms"
echo "$out"
assert_rc "7000 sequential connections" 0 $rc
assert_eq "first 21 picks" \
    "first a a b a c a a a a b a c a a a a b a c a a" \
    "$(grep '^first' <<< "$out")"
assert_eq "picks of a (weight 5)" "count a 5000" "$(grep '^count a ' <<< "$out")"
assert_eq "picks of b (weight 1)" "count b 1000" "$(grep '^count b ' <<< "$out")"
assert_eq "picks of c (weight 1)" "count c 1000" "$(grep '^count c ' <<< "$out")"
assert_eq "failed connections" "errors 0" "$(grep '^errors' <<< "$out")"

stop_lb4
finish

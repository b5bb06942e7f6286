#!/bin/bash
# A refused connect is retried on the next pick, invisibly to the client
# (retries = 2): with one server of three refusing, and then two of three,
# every client connection still succeeds, spread over the live servers.
. "$(dirname "$0")/lib.sh"

P1=$(free_port); P2=$(free_port)
A=$(free_port); B=$(free_port); C=$(free_port)
D1=$(free_port); D2=$(free_port); D3=$(free_port)	# nothing listens
start_back a -l 127.0.0.1:"$A" --id a --quiet
start_back b -l 127.0.0.1:"$B" --id b --quiet
start_back c -l 127.0.0.1:"$C" --id c --quiet
write_conf lb4 <<CONF
global = { workers = 2; };
defaults = { retries = 2; connect_timeout_ms = 2000; };
listeners = (
  { name = "one-down"; bind = [ "127.0.0.1:$P1" ]; pool = "one-down"; },
  { name = "two-down"; bind = [ "127.0.0.1:$P2" ]; pool = "two-down"; }
);
pools = (
  { name = "one-down"; servers = (
    { address = "127.0.0.1:$A"; },
    { address = "127.0.0.1:$D1"; },
    { address = "127.0.0.1:$B"; }
  ); },
  { name = "two-down"; servers = (
    { address = "127.0.0.1:$D2"; },
    { address = "127.0.0.1:$D3"; },
    { address = "127.0.0.1:$C"; }
  ); }
);
CONF
start_lb4 lb4

out=$("$TCLIENT" -T 30000 --seq 300 --show 12 127.0.0.1:"$P1")
rc=$?
echo "$out"
assert_rc "300 connections with one server of three refusing" 0 $rc
assert_eq "failed connections" "errors 0" "$(grep '^errors' <<< "$out")"
na=$(sed -n 's/^count a //p' <<< "$out")
nb=$(sed -n 's/^count b //p' <<< "$out")
assert_eq "every connection served by a or b" 300 $((${na:-0} + ${nb:-0}))
assert_range "connections served by a" 100 200 "${na:-0}"
assert_range "connections served by b" 100 200 "${nb:-0}"

out=$("$TCLIENT" -T 30000 --seq 100 --show 12 127.0.0.1:"$P2")
rc=$?
echo "$out"
assert_rc "100 connections with two servers of three refusing" 0 $rc
assert_eq "all served by c" "count c 100" "$(grep '^count' <<< "$out")"

alive "$LB4_PID" || fail "lb4 died"
stop_lb4
finish

#!/bin/bash
# IPv6: a listener on [::1] reaches servers on 127.0.0.1 and on [::1]
# alike (SWRR over 1,1 alternates exactly), and bytes survive both ways.
. "$(dirname "$0")/lib.sh"

grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null ||
    skip "no ::1 on this host"

P1=$(free_port); P2=$(free_port); A=$(free_port); B=$(free_port); E=$(free_port)
start_back v4 -l 127.0.0.1:"$A" --id v4 --quiet
start_back v6 -l "[::1]:$B" --id v6
start_back echo -l "[::1]:$E" --echo
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = (
  { name = "mixed"; bind = [ "[::1]:$P1" ]; pool = "mixed"; },
  { name = "echo6"; bind = [ "[::1]:$P2" ]; pool = "echo6"; }
);
pools = (
  { name = "mixed"; servers = (
    { address = "127.0.0.1:$A"; }, { address = "[::1]:$B"; }
  ); },
  { name = "echo6"; servers = ( { address = "[::1]:$E"; } ); }
);
CONF
start_lb4 lb4

out=$("$TCLIENT" -T 20000 --seq 100 --show 6 "[::1]:$P1")
rc=$?
echo "$out"
assert_rc "100 connections to [::1]:$P1" 0 $rc
assert_eq "served by the IPv4 server" "count v4 50" "$(grep '^count v4' <<< "$out")"
assert_eq "served by the IPv6 server" "count v6 50" "$(grep '^count v6' <<< "$out")"
assert_grep "the IPv6 server saw lb4 connect from ::1" '^conn .* peer=\[::1\]:' \
    "$T/v6.log"

out=$("$TCLIENT" -T 20000 -c 4 -n 3000001 -s 66 --expect-echo "[::1]:$P2")
rc=$?
echo "$out"
assert_rc "4 x 3000001 bytes echoed over IPv6 on both legs" 0 $rc
# the listener is [::1] only: 127.0.0.1 on that port is not lb4's
out=$("$TCLIENT" -T 2000 --connect-timeout 1000 127.0.0.1:"$P2")
assert_rc "127.0.0.1 on the [::1]-only port" 3 $?

stop_lb4
finish

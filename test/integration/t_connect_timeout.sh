#!/bin/bash
# A connect that is never answered is given up after connect_timeout_ms and
# retried on the next server.  A server that drops SYNs on loopback: tback
# --full-backlog listens with backlog 0 and fills its accept queue itself,
# so the kernel drops every further SYN.
. "$(dirname "$0")/lib.sh"

P1=$(free_port); P2=$(free_port); H=$(free_port); E=$(free_port)
start_back hole -l 127.0.0.1:$H --full-backlog
start_back echo -l 127.0.0.1:$E --echo

# Is it really a black hole here?
"$TCLIENT" --connect-timeout 300 -T 1000 127.0.0.1:$H > "$T/probe.out"
rc=$?
[ $rc = 5 ] || skip "a full accept queue does not drop SYNs on this kernel (probe exit $rc: $(cat "$T/probe.out"))"

write_conf lb4 <<CONF
global = { workers = 2; };
listeners = (
  { name = "retry"; bind = [ "127.0.0.1:$P1" ]; pool = "retry"; },
  { name = "hole"; bind = [ "127.0.0.1:$P2" ]; pool = "hole"; }
);
pools = (
  { name = "retry"; connect_timeout_ms = 600; retries = 2; servers = (
    { address = "127.0.0.1:$H"; }, { address = "127.0.0.1:$E"; }
  ); },
  { name = "hole"; connect_timeout_ms = 600; retries = 0; servers = (
    { address = "127.0.0.1:$H"; }
  ); }
);
CONF
start_lb4 lb4

# Two connections: SWRR over 1,1 sends one of them to the black hole first
# (whichever tie-break), and that one is retried on the echo server after
# about 600 ms; the other is served at once.
for i in 1 2; do
	"$TCLIENT" -T 5000 --ping 1 127.0.0.1:$P1 > "$T/c$i.out"
	rc=$?
	echo "c$i: $(cat "$T/c$i.out")"
	assert_rc "connection $i through a pool whose first server is a black hole" 0 $rc
done
r1=$(kv "$(cat "$T/c1.out")" first_reply_ms)
r2=$(kv "$(cat "$T/c2.out")" first_reply_ms)
if [ "${r1:--1}" -gt "${r2:--1}" ]; then slow=$r1 fast=$r2; else slow=$r2 fast=$r1; fi
assert_range "the retried connection's first reply (ms)" 550 2500 "$slow"
assert_range "the other connection's first reply (ms)" 0 400 "$fast"
assert_eq "both connections answered" "replies=1 replies=1" \
    "$(kv "$(cat "$T/c1.out")" replies | sed 's/^/replies=/') $(kv "$(cat "$T/c2.out")" replies | sed 's/^/replies=/')"

# Only the black hole, no retries: the client is closed after ~600 ms.
out=$("$TCLIENT" -T 5000 --no-shut -n 0 127.0.0.1:$P2)
rc=$?
echo "$out"
ms=$(awk '{ print $12 }' <<< "$out")
if [ "$rc" = 0 ] || [ "$rc" = 4 ]; then
	say "ok: client closed by lb4 ($(awk '{ print $10 }' <<< "$out"))"
else
	fail "client: expected lb4 to close it (EOF or reset), got exit $rc ($(rc_name $rc))"
fi
assert_range "close after connect_timeout_ms = 600 (ms)" 550 2500 "$ms"

alive "$LB4_PID" || fail "lb4 died"
stop_lb4
finish

#!/bin/bash
# SIGTERM: lb4 stops accepting at once (new connections are refused), lets
# open connections finish, and exits 0 as soon as they have, or when
# shutdown_timeout_ms has passed, whichever is first.
. "$(dirname "$0")/lib.sh"

P=$(free_port); E=$(free_port)
start_back echo -l 127.0.0.1:"$E" --echo

# 1. The open connection ends by itself before shutdown_timeout_ms.
write_conf lb4 <<CONF
global = { workers = 2; shutdown_timeout_ms = 6000; };
listeners = ( { name = "s"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
start_lb4 lb4 lb4-1
bg_client a -T 10000 --ping 10 --interval 200 127.0.0.1:"$P"	# ~1.8 s
sleep 0.5
t_term=$(now_ms)
kill -TERM "$LB4_PID"
sleep 0.3
out=$("$TCLIENT" -T 2000 --connect-timeout 1000 -n 0 127.0.0.1:"$P")
rc=$?
echo "new connection after SIGTERM: $out"
assert_rc "a new connection after SIGTERM is refused" 3 $rc
alive "$LB4_PID" || fail "lb4 exited while a connection was open"
wait_client a
assert_rc "the open connection kept working after SIGTERM" 0 $?
assert_eq "every ping answered" 10 "$(kv "$(cat "$T/a.out")" replies)"
lb4_wait_exit 8
ms=$(( $(now_ms) - t_term ))
assert_eq "lb4 exit status" 0 "$LB4_STATUS"
# a ends ~1.3 s after SIGTERM; the timeout would be 6 s
assert_range "lb4 exited after SIGTERM (ms), once the connection ended" \
    1000 $((3500 * SLOW)) $ms
check_lb4_log

# 2. The open connection outlives shutdown_timeout_ms = 1000.
write_conf lb4b <<CONF
global = { workers = 2; shutdown_timeout_ms = 1000; };
listeners = ( { name = "s"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
start_lb4 lb4b lb4-2
bg_client h -T 15000 --hold 10000 127.0.0.1:"$P"
sleep 0.3
t_term=$(now_ms)
kill -TERM "$LB4_PID"
lb4_wait_exit 8
ms=$(( $(now_ms) - t_term ))
assert_eq "lb4 exit status" 0 "$LB4_STATUS"
assert_range "lb4 exited after shutdown_timeout_ms = 1000 (ms)" 900 \
    $((3000 * SLOW)) $ms
wait_client h
rc=$?
if [ "$rc" = 0 ] || [ "$rc" = 4 ]; then
	say "ok: the held connection was closed ($(kv "$(cat "$T/h.out")" end))"
else
	fail "held connection: expected it closed, got exit $rc ($(rc_name $rc))"
fi
assert_range "held connection closed after (ms)" 900 $((3500 * SLOW)) \
    "$(kv "$(cat "$T/h.out")" ms)"
check_lb4_log

finish

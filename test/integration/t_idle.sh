#!/bin/bash
# idle_timeout_ms = 1000: an idle connection is closed by lb4 after about
# a second (both sides), while an active one that lives three times as long
# is left alone: the timer counts from the last activity.
. "$(dirname "$0")/lib.sh"

P=$(free_port); E=$(free_port)
start_back echo -l 127.0.0.1:"$E" --echo
write_conf lb4 <<CONF
global = { workers = 2; };
defaults = { idle_timeout_ms = 1000; };
listeners = ( { name = "i"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
start_lb4 lb4

bg_client idle -T 8000 --hold 6000 127.0.0.1:"$P"
bg_client active -T 8000 --ping 13 --interval 250 127.0.0.1:"$P"
wait_client idle
rc=$?
line=$(cat "$T/idle.out")
if [ "$rc" = 0 ] || [ "$rc" = 4 ]; then
	say "ok: idle connection closed by lb4 ($(kv "$line" end))"
else
	fail "idle connection: expected lb4 to close it, got exit $rc ($(rc_name $rc)): $line"
fi
assert_range "idle connection closed after (ms)" 900 $((3000 * SLOW)) \
    "$(kv "$line" ms)"
wait_client active
assert_rc "active connection (13 pings over 3 s) kept open" 0 $?
assert_eq "active connection: every ping answered" 13 \
    "$(kv "$(cat "$T/active.out")" replies)"

# the server side of the idle connection was closed too
wait_until 3 eval '[ $(grep -c "^conn " "$T/echo.log") -ge 2 ]'
grep '^conn ' "$T/echo.log"
assert_grep "server side of the idle connection closed after about 1 s" \
    '^conn [0-9]+ .* recv=0 .* end=(eof|rst) ms=(9[0-9][0-9]|[12][0-9][0-9][0-9])$' \
    "$T/echo.log"

stop_lb4
finish

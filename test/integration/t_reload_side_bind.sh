#!/bin/bash
# A reload whose control socket or metrics address cannot be bound
# (issue 12, finding 4).  Three reloads that are valid files but cannot
# be put in force:
#   1. lb4ctl reload: control_socket moves under a regular file (ENOTDIR);
#   2. SIGHUP: metrics moves to a port another process listens on;
#   3. lb4ctl reload: the same metrics file again.
# After each:
#   - the reload failed: lb4ctl reload exits 1 naming the address, lb4's
#     log says so, lb4_reloads_total{result="failure"} counts it and
#     lb4_config_last_reload_success is 0;
#   - the old control socket and metrics endpoint still answer and the
#     listener still serves;
#   - the bind is not retried in a loop: over 2 s lb4 logs at most two
#     lines about it (before the fix: one every 100 ms tick, the old
#     control socket is gone and lb4ctl cannot reach lb4 any more).
. "$(dirname "$0")/lib.sh"
. "$HERE/rlib.sh"

P=$(free_port); E=$(free_port); M=$(free_port); BUSY=$(free_port)
start_back e -l 127.0.0.1:"$E" --echo --quiet
start_back busy -l 127.0.0.1:"$BUSY" --echo --quiet	# holds $BUSY
touch "$T/file"

conf() {	# conf NAME CONTROL_SOCKET METRICS_PORT
	write_conf "$1" <<CONF
global = { workers = 2; control_socket = "$2"; metrics = "127.0.0.1:$3"; };
listeners = ( { name = "a"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
}
conf A "$T/lb4.sock" "$M"
conf badctl "$T/file/lb4.sock" "$M"
conf badmetrics "$T/lb4.sock" "$BUSY"
use_conf A
start_lb4 lb4

# check N WHAT RC OUTFILE PATTERN: the checks after failed reload N.
check() {
	local n=$1 what=$2 rc=$3 out=$4 pat=$5 warn0 warn
	if [ -n "$out" ]; then
		sed "s/^/lb4ctl reload ($what): /" "$out"
		assert_eq "$what: lb4ctl reload exits" 1 "$rc"
		assert_grep "$what: lb4ctl reload names the address" "$pat" "$out"
	fi
	warn0=$(grep -cE "$pat" "$LB4_LOG")
	sleep 2
	warn=$(grep -cE "$pat" "$LB4_LOG")
	say "$what: $warn0 log lines name it right after the reload, $warn after 2 s"
	assert_range "$what: lines about it 2 s after the reload (no retry loop)" \
	    1 $((warn0 + 2)) "$warn"
	lb4_gone "after the reload ($what)" && finish
	assert_grep "$what: lb4 logs that the reload failed" \
	    'reload failed' "$LB4_LOG"
	ctl show stats > "$T/stats$n.out" 2>&1
	assert_rc "$what: the old control socket still answers" 0 $?
	assert_grep "$what: show stats counts $n failed reload(s)" \
	    "^reloads ok=0 failed=$n last=failure" "$T/stats$n.out"
	assert_eq "$what: lb4_reloads_total{result=\"failure\"}" "$n" \
	    "$(metric 'lb4_reloads_total{result="failure"}')"
	assert_eq "$what: lb4_config_last_reload_success" 0 \
	    "$(metric lb4_config_last_reload_success)"
	out=$("$TCLIENT" -T 5000 -n 1000 --expect-echo 127.0.0.1:"$P")
	assert_rc "$what: the listener still serves" 0 $?
}

use_conf badctl
ctl reload > "$T/r1.out" 2>&1
check 1 "control socket under a file" $? "$T/r1.out" "$T/file/lb4.sock"

use_conf badmetrics
kill -HUP "$LB4_PID"
sleep 0.5
check 2 "metrics on a busy port (SIGHUP)" 0 "" "127.0.0.1:$BUSY"

ctl reload > "$T/r3.out" 2>&1
check 3 "metrics on a busy port (lb4ctl)" $? "$T/r3.out" "127.0.0.1:$BUSY"

# A good file applies again and resets the gauge.
use_conf A
ctl reload > /dev/null
assert_rc "lb4ctl reload of the first file again" 0 $?
assert_eq "lb4_config_last_reload_success after it" 1 \
    "$(metric lb4_config_last_reload_success)"
stop_lb4
finish

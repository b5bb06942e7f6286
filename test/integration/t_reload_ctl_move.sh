#!/bin/bash
# `lb4ctl reload` whose new config moves the control socket: the reload
# runs inside the control socket's own request handler, and side_commit()
# must not free that handler's oneshot (and the client it is answering)
# under it.  lb4ctl gets its answer ("ok": exit 0), lb4 keeps running, the new
# socket answers, and (ASan build) there is no report.
. "$(dirname "$0")/lib.sh"

P=$(free_port); A=$(free_port)
start_back a -l 127.0.0.1:"$A" --echo --quiet
conf() {
	write_conf lb4 <<CONF
global = { workers = 2; control_socket = "$T/$1"; };
listeners = ( { name = "l"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$A"; } ); } );
CONF
}
conf one.sock
start_lb4 lb4
wait_until 10 test -S "$T/one.sock" || fatal "no control socket"
conf two.sock
LB4_SOCKET=$T/one.sock "$LB4CTL" reload > "$T/ctl.out" 2>&1
# Exit 0 is lb4ctl's reading of an "ok" answer (it prints no "ok").
assert_eq "lb4ctl reload moving the control socket: exit" 0 $?
wait_until 5 eval '! alive '"$LB4_PID" && sleep 0
alive "$LB4_PID" || fatal "lb4 died after the reload; log: $(tail -30 "$LB4_LOG")"
LB4_SOCKET=$T/two.sock "$LB4CTL" show stats > /dev/null 2>&1
assert_eq "the moved control socket answers" 0 $?
stop_lb4
finish

#!/bin/bash
# A reload requested during a graceful stop (issue 12, finding 3).  lb4
# gets SIGTERM with shutdown_timeout_ms = 20000 while one client
# connection is open; once the listening socket is closed, the file gains
# a listener on a new port and `lb4ctl reload` is asked for:
#   - lb4ctl reload exits 1 with a line that says lb4 is stopping;
#   - nothing listens on the new port and a connect there is refused
#     (before the fix: lb4 binds it, the kernel completes handshakes that
#     are never served, and the connect is accepted);
#   - a SIGHUP then changes nothing either;
#   - systemd hears no READY=1 after STOPPING=1;
#   - the open connection keeps working to its end, and lb4 exits 0 when
#     it has ended.
. "$(dirname "$0")/lib.sh"
. "$HERE/rlib.sh"

command -v python3 > /dev/null || skip "python3 is needed for the notify receiver"
P=$(free_port); PN=$(free_port); E=$(free_port)
start_back e -l 127.0.0.1:"$E" --echo --quiet

cat > "$T/notify.py" <<'PY'
import signal, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
end = time.monotonic() + 120
with open(sys.argv[2], "w", buffering=1) as f:
    f.write("ready\n")
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        f.write("%s\n" % msg.decode(errors="replace").replace("\n", "|"))
PY
python3 "$T/notify.py" "$T/notify.sock" "$T/notify.out" &
PIDS+=("$!")
wait_until 30 grep -q ready "$T/notify.out" || fatal "notify receiver did not start"

write_conf A <<CONF
global = { workers = 2; shutdown_timeout_ms = 20000; };
listeners = ( { name = "a"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
write_conf B <<CONF
global = { workers = 2; shutdown_timeout_ms = 20000; };
listeners = (
  { name = "a"; bind = [ "127.0.0.1:$P" ]; pool = "p"; },
  { name = "new"; bind = [ "127.0.0.1:$PN" ]; pool = "p"; }
);
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
use_conf A
export NOTIFY_SOCKET=$T/notify.sock
start_lb4 lb4
unset NOTIFY_SOCKET

# ~6 s of pings, one every 200 ms, through the stop.
bg_client hold -T 20000 --ping 30 --interval 200 127.0.0.1:"$P"
sleep 0.5
kill -TERM "$LB4_PID"
wait_until 5 eval '! is_listening '"$P" ||
    fail "listener :$P still listens 5 s after SIGTERM"
say "stopping, listener closed"

use_conf B
ctl reload > "$T/reload.out" 2>&1
rc=$?
sed 's/^/lb4ctl reload: /' "$T/reload.out"
assert_eq "lb4ctl reload during the stop exits" 1 $rc
assert_grep "lb4ctl reload says lb4 is stopping" "[Ss]topping|shutting down" \
    "$T/reload.out"
sleep 0.3
is_listening "$PN" && fail "the new address :$PN listens during the stop"
"$TCLIENT" -T 2000 --connect-timeout 1000 -n 0 127.0.0.1:"$PN" > /dev/null
assert_rc "a connect to the new address during the stop" 3 $?
kill -HUP "$LB4_PID"
sleep 0.5
is_listening "$PN" && fail "SIGHUP during the stop: :$PN listens"
is_listening "$P" && fail "SIGHUP during the stop: :$P listens again"
lb4_gone "during the stop" && finish

wait_client hold
assert_rc "the connection open at SIGTERM kept working" 0 $?
lb4_wait_exit 10
assert_eq "lb4 exit status once the connection ended" 0 "$LB4_STATUS"
check_lb4_log
sed 's/^/notify: /' "$T/notify.out"
after=$(sed -n '/STOPPING=1/,$p' "$T/notify.out" | grep -c 'READY=1')
assert_eq "READY=1 sent after STOPPING=1" 0 "$after"
finish

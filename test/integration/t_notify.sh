#!/bin/bash
# sd_notify without systemd (issue 8): the test binds a unix datagram
# socket, runs lb4 with NOTIFY_SOCKET and WATCHDOG_USEC=400000, and checks
# the exact sequence of messages (WATCHDOG=1 aside):
#   READY=1 STATUS=...                       start, once listening
#   RELOADING=1 MONOTONIC_USEC=N, READY=1 STATUS=...          SIGHUP
#   RELOADING=1 MONOTONIC_USEC=N, READY=1 STATUS=...failed... invalid file
#   RELOADING=1 MONOTONIC_USEC=N, READY=1 STATUS=...   lb4ctl reload
#   STOPPING=1                                                SIGTERM
# and WATCHDOG=1 every WATCHDOG_USEC/2 = 200 ms from the main loop (its
# 100 ms tick: each gap 150..350 ms), none before READY=1 is needed.
# Prints the reload latency (signal to READY=1) it saw.
. "$(dirname "$0")/lib.sh"

command -v python3 > /dev/null || skip "python3 is needed for the receiver"
P=$(free_port); E=$(free_port)
start_back e -l 127.0.0.1:"$E" --echo --quiet

# The receiver: one line per datagram, "MONOTONIC_USEC MSG" with the
# message's newlines as '|'.  Bounded: exits after 120 s or on SIGTERM.
cat > "$T/notify.py" <<'PY'
import os, signal, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
end = time.monotonic() + 120
with open(out, "w", buffering=1) as f:
    f.write("ready\n")
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        t = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        f.write("%d %s\n" % (t, msg.decode(errors="replace").replace("\n", "|")))
PY
python3 "$T/notify.py" "$T/notify.sock" "$T/notify.out" &
PIDS+=("$!")
wait_until 5 grep -q ready "$T/notify.out" || fatal "receiver did not start"

write_conf lb4 <<CONF
global = { workers = 2; };
listeners = ( { name = "n"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
write_conf bad <<CONF
global = { workers = 2; };
listeners = ( { name = "n"; bind = [ "127.0.0.1:$P" ]; pool = "nosuch"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
cp "$T/lb4.conf" "$T/good.conf"

mono_us() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)'; }
# sig_at SIG PID: sends SIG, prints CLOCK_MONOTONIC (us) just before it.
sig_at() {
	python3 -c 'import os, sys, time
t = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
os.kill(int(sys.argv[2]), int(sys.argv[1]))
print(t)' "$(kill -l "$1")" "$2"
}
msgs() { grep -v ' WATCHDOG=1$' "$T/notify.out" | grep -v '^ready$'; }
nmsgs() { msgs | wc -l; }

export NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000
t_start=$(mono_us)
start_lb4 lb4
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_until 5 eval '[ "$(nmsgs)" -ge 1 ]' || fail "no READY=1"
sleep 1.2

declare -a T_SIG
T_SIG[1]=$(sig_at HUP "$LB4_PID")
wait_until 5 eval '[ "$(nmsgs)" -ge 3 ]' || fail "no reload messages"
sleep 0.3
cp "$T/bad.conf" "$T/lb4.conf"
T_SIG[2]=$(sig_at HUP "$LB4_PID")
wait_until 5 eval '[ "$(nmsgs)" -ge 5 ]' ||
    fail "no messages for the failed reload"
sleep 0.3
cp "$T/good.conf" "$T/lb4.conf"
T_SIG[3]=$(mono_us)
"$LB4CTL" -s "$T/lb4.sock" reload > /dev/null
assert_rc "lb4ctl reload" 0 $?
wait_until 5 eval '[ "$(nmsgs)" -ge 7 ]' ||
    fail "no messages for lb4ctl reload"
sleep 0.5
stop_lb4
sleep 0.2
sed 's/^/notify: /' "$T/notify.out" | grep -v WATCHDOG
echo "notify: ... and $(grep -c ' WATCHDOG=1$' "$T/notify.out") WATCHDOG=1"

# The sequence, WATCHDOG=1 aside, with the variable parts generalised.
got=$(msgs | cut -d' ' -f2- | sed -E \
    -e 's/MONOTONIC_USEC=[0-9]+$/MONOTONIC_USEC=N/' \
    -e 's/^READY=1\|STATUS=1 listeners, 1 pools, [0-9]+ connections$/READY=1|STATUS=SUMMARY/')
want="READY=1|STATUS=SUMMARY
RELOADING=1|MONOTONIC_USEC=N
READY=1|STATUS=SUMMARY
RELOADING=1|MONOTONIC_USEC=N
READY=1|STATUS=reload failed; serving the previous configuration
RELOADING=1|MONOTONIC_USEC=N
READY=1|STATUS=SUMMARY
STOPPING=1"
assert_eq "the sequence of sd_notify messages" "$want" "$got"

# MONOTONIC_USEC is the reload's own time: after the signal, before or at
# the datagram's arrival.  Latency: signal to READY=1.
mapfile -t lines < <(msgs)
for i in 1 2 3; do
	rl=${lines[$((2 * i - 1))]}
	rd=${lines[$((2 * i))]}
	mus=${rl##*MONOTONIC_USEC=}
	assert_range "reload $i: MONOTONIC_USEC after the signal and before its arrival" \
	    "${T_SIG[$i]}" "${rl%% *}" "$mus"
	say "reload $i: signal to READY=1: $(( ${rd%% *} - T_SIG[i] )) us" \
	    "(RELOADING=1 to READY=1: $(( ${rd%% *} - mus )) us)"
done
rd=${lines[0]}
say "start: exec to READY=1: $(( ${rd%% *} - t_start )) us"

# Watchdog: first ping within 350 ms of READY=1, then every 200 ms.
awk -v lo=$((150 * 1000)) -v hi=$((350 * 1000 * SLOW)) '
    / READY=1/ && !ready { ready = $1 }
    / STOPPING=1$/ { stop = $1 }
    / WATCHDOG=1$/ {
	n++
	if (n == 1) first = $1 - ready
	else { g = $1 - last; if (g < lo || g > hi) bad++; if (g > max) max = g
	       if (min == 0 || g < min) min = g }
	last = $1
    }
    END { printf "%d %d %d %d %d %d\n", n, bad, min, max, first,
	  (stop - ready) / 200000 }' "$T/notify.out" > "$T/wd"
read -r n bad min max first expect < "$T/wd"
say "watchdog: $n pings, gaps $((min / 1000))..$((max / 1000)) ms," \
    "first $((first / 1000)) ms after READY=1; ~$expect expected"
assert_eq "watchdog gaps outside 150..$((350 * SLOW)) ms" 0 "$bad"
assert_range "watchdog pings (one per 200 ms of the run)" \
    $((expect * 7 / 10)) $((expect + 2)) "$n"
assert_range "first watchdog ping after READY=1 (us)" 0 $((350000 * SLOW)) "$first"

finish

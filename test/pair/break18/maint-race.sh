#!/bin/bash
# shellcheck disable=SC2015 # "test && ok || bad": the echo cannot fail
# Finding: `maintenance on` run on both nodes at once (two shells, a
# parallel Ansible run: its default) passes its checks on both (each is
# BACKUP of the other's instance at that moment), both write 1, both go
# FAULT: no node holds a VIP, and `on` said "new connections go to the
# peer".  The fix: once the VIPs left, the peer's VRRP adverts must keep
# coming (ruleset counter peer_adverts); when they do not, `on` writes 0
# again and exits 5.
# keepalived is mocked here (the file's 1 takes the VIP off A's eth0, 0
# puts it back; lb4ctl says A is BACKUP of VI_2); B's adverts are real
# VRRP packets (IP protocol 112) or none: both cases are checked.
. "$(dirname "$0")/lib.sh"
setup
trap "" PIPE
printf '#!/bin/sh\necho "vrrp VI_1 MASTER 200"\necho "vrrp VI_2 BACKUP 100"\n' >"$T/lb4ctl"
chmod +x "$T/lb4ctl"
echo 0 >"$T/maint"
( while :; do	# mock keepalived on A: track_file lb4_maintenance
	if [ "$(cat "$T/maint")" = 1 ]; then
		nsx x18a ip addr del $VIP/24 dev eth0 2>/dev/null
	else
		nsx x18a ip -4 addr show dev eth0 | grep -q " $VIP/24 " ||
		    nsx x18a ip addr add $VIP/24 dev eth0
	fi
	sleep 0.1
done ) & PIDS="$PIDS $!"
cat >"$T/adv.py" <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
for _ in range(200):	# 20 s at most
    s.sendto(b"\x31\x02\xc8\x01\x00\x64\x00\x00" + socket.inet_aton("10.98.0.10"), ("10.98.0.1", 0))
    time.sleep(0.1)
PY
maint() { nsx x18a env LB4CTL="$T/lb4ctl" "$ROOT/vrrp-hooks/maintenance" -f "$T/maint" -s /nonexistent on --deadline 5; }
fails=0
# 1. B took the VIPs (it advertises): on succeeds.
ip netns exec x18b python3 "$T/adv.py" & adv=$!; PIDS="$PIDS $adv"	# exec: $! is python
maint; rc=$?
kill $adv 2>/dev/null
echo "with adverts from B: exit $rc, file $(cat "$T/maint")"
[ $rc = 0 ] && [ "$(cat "$T/maint")" = 1 ] || { echo "FAIL: maint-race: the peer advertises, yet on exit $rc"; fails=1; }
echo 0 >"$T/maint"; sleep 0.5
# 2. B in maintenance too (no adverts): on must take the VIP back.
maint; rc=$?
sleep 0.5
echo "without adverts: exit $rc, file $(cat "$T/maint"), VIP on A's eth0: $(nsx x18a ip -4 -br addr show dev eth0)"
[ $rc = 5 ] && [ "$(cat "$T/maint")" = 0 ] || { echo "FAIL: maint-race: nobody holds the VIP, yet on exit $rc"; fails=1; }
# 3. `off` while `on` waits for a connection to end: `on` stops (exit 6);
# SIGTERM while it waits: exit 130, saying the node stays in maintenance.
. "$(dirname "$0")/lib-move.sh"
mkfifo "$T/in"
nsx x18c python3 "$T/hold.py" <"$T/in" >"$T/out" & PIDS="$PIDS $!"
exec 5>"$T/in"
sleep 0.5
ip netns exec x18b python3 "$T/adv.py" & adv=$!; PIDS="$PIDS $adv"
ip netns exec x18a env LB4CTL="$T/lb4ctl" "$ROOT/vrrp-hooks/maintenance" -f "$T/maint" -s /nonexistent on --deadline 30 >"$T/on.out" 2>&1 &
on=$!
sleep 5	# VIP gone, adverts checked (3 s): waiting for the connection
nsx x18a "$ROOT/vrrp-hooks/maintenance" -f "$T/maint" off >/dev/null
t=0; while kill -0 $on 2>/dev/null && [ $t -lt 30 ]; do sleep 0.1; t=$((t + 1)); done
wait $on; rc=$?
echo "off while on waits: on exit $rc after $t ticks: $(tail -n 1 "$T/on.out")"
[ $rc = 6 ] || { echo "FAIL: maint-race: on went on waiting after off (exit $rc)"; fails=1; }
sleep 0.5
ip netns exec x18a env LB4CTL="$T/lb4ctl" "$ROOT/vrrp-hooks/maintenance" -f "$T/maint" -s /nonexistent on --deadline 30 >"$T/on.out" 2>&1 &
on=$!
sleep 5
kill -TERM $on; wait $on; rc=$?
kill $adv 2>/dev/null
echo "SIGTERM while on waits: exit $rc: $(tail -n 1 "$T/on.out"); file $(cat "$T/maint")"
[ $rc = 130 ] && grep -q "stays in maintenance" "$T/on.out" || { echo "FAIL: maint-race: interrupted on (exit $rc)"; fails=1; }
[ $fails = 0 ] && echo "PASS: maint-race"
exit $fails

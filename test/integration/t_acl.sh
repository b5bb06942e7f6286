#!/bin/bash
# allow/deny: a denied source (127.0.0.2, ::1) is reset at accept, before
# any server is picked or connected, while an allowed one (127.0.0.1) is
# served; no log line per refused client but a rate-limited summary per
# listener; allow/deny changes on SIGHUP apply to the next connection.
. "$(dirname "$0")/lib.sh"

PPEER=$HERE/ppeer.py
command -v python3 > /dev/null || skip "python3 is not installed"
grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null ||
    skip "no ::1 on this host"

P1=$(free_port); P2=$(free_port); P3=$(free_port); B=$(free_port)
M=$(free_port)

python3 "$PPEER" back --plain --listen 127.0.0.1:"$B" --pidfile "$T/back.pid" \
    --log "$T/back.log" > "$T/back.out" 2>&1 &
PIDS+=("$!")
wait_until 5 test -s "$T/back.pid" || fatal "ppeer backend did not start"

# conf NAME DENY4: v4 denies DENY4; v6 denies ::1; v6ok allows only ::1.
conf() {
	write_conf "$1" <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; };
listeners = (
  { name = "v4"; bind = [ "127.0.0.1:$P1" ]; pool = "p";
    allow = [ "127.0.0.0/8", "::1" ]; deny = [ "$2", "192.0.2.0/24" ]; },
  { name = "v6"; bind = [ "[::1]:$P2" ]; pool = "p"; deny = [ "::1/128" ]; },
  { name = "v6ok"; bind = [ "[::1]:$P3" ]; pool = "p";
    allow = [ "::1/128" ]; deny = [ "127.0.0.0/8", "::2" ]; }
);
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$B"; } ); } );
CONF
}

# try NAME EXPECTED_RC FROM TO: one connection, asserts its exit status.
try() {
	local out rc
	out=$(python3 "$PPEER" client --timeout 10 --bind "$3" --connect "$4")
	rc=$?
	printf '%s\n' "$out" | sed "s/^/$1: /"
	assert_rc "$1 ($3 -> $4)" "$2" "$rc"
}

served() { grep -c '^pp=none' "$T/back.log" 2>/dev/null || echo 0; }

conf lb4 127.0.0.2/32
start_lb4 lb4

try "allowed v4 client" 0 127.0.0.1 127.0.0.1:"$P1"
try "denied v4 client" 4 127.0.0.2 127.0.0.1:"$P1"
try "denied v6 client" 4 ::1 "[::1]:$P2"
try "allowed v6 client" 0 ::1 "[::1]:$P3"
sleep 0.3
assert_eq "only the two allowed clients reached the server" 2 "$(served)"

# A flood of refusals: every one reset, none served, one line each listener.
out=$(python3 "$PPEER" client --count 300 --timeout 10 --bind 127.0.0.2 \
    --connect 127.0.0.1:"$P1")
assert_eq "300 connections from 127.0.0.2" "results reset=300" "$out"
assert_eq "still only two served" 2 "$(served)"
wait_until 3 grep -q 'listener v4: refused' "$LB4_LOG" ||
    fail "no refusal summary for listener v4"
assert_grep "listener v6's first refusal is logged" \
    '^<6>.*listener v6: refused 1 connection by allow/deny' "$LB4_LOG"
assert_eq "one summary line for v4 so far, not one per client" 1 \
    "$(grep -c 'listener v4: refused' "$LB4_LOG")"
assert_no_grep "no refused client's address in the log" '127\.0\.0\.2' \
    "$LB4_LOG"
# The rest of the flood is summed up once the 10 s window has passed.
wait_until 13 grep -qE 'listener v4: refused [0-9]+ connections by allow/deny in the last 1[01] s' \
    "$LB4_LOG" || fail "no 10 s summary for listener v4"
total=0
while read -r n; do
	total=$((total + n))
done < <(grep -oE 'listener v4: refused [0-9]+' "$LB4_LOG" |
    grep -oE '[0-9]+$')
assert_eq "the summaries add up to 301 refusals" 301 "$total"

# Counted per listener: in "show stats" and in the metrics.
out=$("$LB4CTL" -s "$T/lb4.sock" show stats)
printf '%s\n' "$out" | sed 's/^/ctl: /'
assert_eq "lb4ctl: v4 served 1, refused 301" "connections=1 denied=301" \
    "$(grep '^listener v4 ' <<< "$out" | grep -oE 'connections=[0-9]+|denied=[0-9]+' |
    tr '\n' ' ' | sed 's/ $//')"
assert_eq "lb4ctl: v6 served 0, refused 1" "connections=0 denied=1" \
    "$(grep '^listener v6 ' <<< "$out" | grep -oE 'connections=[0-9]+|denied=[0-9]+' |
    tr '\n' ' ' | sed 's/ $//')"
if command -v curl > /dev/null; then
	out=$(curl -sS --max-time 5 "http://127.0.0.1:$M/metrics")
	assert_eq "lb4_connections_denied_total of v4" 301 \
	    "$(grep -E '^lb4_connections_denied_total\{listener="v4"\}' <<< "$out" |
	    awk '{ print $2 }')"
fi

# Reload: now 127.0.0.1 is denied and 127.0.0.2 allowed.
conf lb4 127.0.0.1/32
kill -HUP "$LB4_PID"
wait_until 5 grep -q 'reloaded' "$LB4_LOG" || fail "no reload line"
try "127.0.0.1 after the reload denies it" 4 127.0.0.1 127.0.0.1:"$P1"
try "127.0.0.2 after the reload allows it" 0 127.0.0.2 127.0.0.1:"$P1"
assert_grep "the server saw the connection lb4 made for 127.0.0.2" \
    'pp=none .* peer=127\.0\.0\.1' "$T/back.log"

stop_lb4
finish

#!/bin/bash
# source = [ ... ] (lb4.conf(5) POOLS): connections and health checks leave
# from the pool's source addresses in turn; an address this host does not have
# fails the start (exit 2, one line naming the pool) and a reload (the old
# config keeps serving, the failure is counted).  On loopback every
# 127.0.0.0/8 address is this host's, so 127.0.0.2 and 127.0.0.3 serve as the
# two sources; 192.0.2.77 (TEST-NET-1) is nobody's.
. "$(dirname "$0")/lib.sh"

P=$(free_port); E=$(free_port); M=$(free_port)
start_back echo -l 127.0.0.1:"$E" --echo
conf() {
	write_conf lb4 <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; };
listeners = ( { name = "s"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; $1
  health = { type = "tcp"; interval_ms = 200; timeout_ms = 2000; };
  servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
}

# lb4 -t: syntax and family.
conf 'source = [ "[::1]", "127.0.0.2:80" ];'
"$LB4" -t -c "$T/lb4.conf" > "$T/t.out" 2>&1
assert_eq "lb4 -t exit status on a bad source" 1 $?
assert_grep "the port is refused" "bad source '127.0.0.2:80'" "$T/t.out"
assert_grep "the family is checked" "server '127.0.0.1:$E' is IPv4 but no source address is" "$T/t.out"

# An address this host does not have: the start fails.
conf 'source = [ "127.0.0.2", "192.0.2.77" ];'
"$LB4" -c "$T/lb4.conf" > "$T/start.log" 2>&1 &
PIDS+=("$!")
LB4_PID=$!
lb4_wait_exit 10
assert_eq "exit status with an unbindable source" 2 "$LB4_STATUS"
assert_grep "the start names pool and address" \
    "pool 'p': cannot bind source address 192.0.2.77: Cannot assign requested address" \
    "$T/start.log"

# Two sources in turn, for connections and for checks.
conf 'source = [ "127.0.0.2", "127.0.0.3" ];'
start_lb4 lb4
"$TCLIENT" -c 6 -n 100 --expect-echo -T 20000 127.0.0.1:"$P" > "$T/seq.out" 2>&1
assert_rc "six connections through two sources" 0 $?
sleep 1
grep '^conn ' "$T/echo.log" | sed 's/^/    /'
n2=$(grep -c '^conn .* peer=127\.0\.0\.2:.* recv=100 ' "$T/echo.log")
n3=$(grep -c '^conn .* peer=127\.0\.0\.3:.* recv=100 ' "$T/echo.log")
assert_eq "connections from 127.0.0.2" 3 "$n2"
assert_eq "connections from 127.0.0.3" 3 "$n3"
assert_grep "health checks leave from a source too" \
    '^conn .* peer=127\.0\.0\.[23]:.* recv=0 ' "$T/echo.log"
assert_no_grep "nothing leaves from 127.0.0.1" \
    '^conn .* peer=127\.0\.0\.1:' "$T/echo.log"

# A reload to an unbindable source fails and the old config serves on.
conf 'source = [ "192.0.2.77" ];'
kill -HUP "$LB4_PID"
wait_until 10 grep -q "reload.*fail\|cannot bind source" "$LB4_LOG" ||
    fail "no reload failure logged"
assert_grep "the reload failure names pool and address" \
    "pool 'p': cannot bind source address 192.0.2.77" "$LB4_LOG"
before=$(grep -c '^conn ' "$T/echo.log")
"$TCLIENT" -n 100 --expect-echo -T 10000 127.0.0.1:"$P" > /dev/null 2>&1
assert_rc "still serving after the failed reload" 0 $?
sleep 0.5
assert_grep "still from the old sources" \
    '^conn .* peer=127\.0\.0\.[23]:.* recv=100 ' \
    <(grep '^conn ' "$T/echo.log" | tail -n +$((before + 1)))
stop_lb4
finish

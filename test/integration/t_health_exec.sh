#!/bin/bash
# exec checks: the command runs with LB4_SERVER_ADDRESS, LB4_SERVER_PORT
# and LB4_POOL in its environment and stdin from /dev/null; exit 0 is up,
# another status is down with "exit status N: FIRST OUTPUT LINE" (its
# output never reaches lb4's log); a command that outlives timeout_ms is
# killed with its whole process group; a missing command is reported.
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

P=$(free_port); A=$(free_port); B=$(free_port); S=$(free_port)
MARK="sleep 3$RANDOM.5"
start_back a -l 127.0.0.1:"$A" --id a
start_back b -l 127.0.0.1:"$B" --id b
cat > "$T/check.sh" <<SH
#!/bin/sh
env | grep -E '^LB4_(SERVER_|POOL=)' | sort > "$T/env.\$LB4_SERVER_PORT"
# stdin is /dev/null: this read ends at once.
cat > "$T/stdin.\$LB4_SERVER_PORT"
if [ -e "$T/up.\$LB4_SERVER_PORT" ]; then
	echo "fine"
	exit 0
fi
echo "no flag for \$LB4_SERVER_ADDRESS port \$LB4_SERVER_PORT"
echo "second line" >&2
exit 3
SH
cat > "$T/hang.sh" <<SH
#!/bin/sh
# A child in the same process group, and a parent that waits for it.
$MARK &
wait
SH
chmod +x "$T/check.sh" "$T/hang.sh"
touch "$T/up.$A"
write_conf lb4 <<CONF
global = { workers = 1; log_level = "debug"; };
listeners = ( { name = "app"; bind = [ "127.0.0.1:$P" ]; pool = "app"; } );
pools = (
  { name = "app";
    health = { type = "exec"; command = "$T/check.sh"; interval_ms = 200;
      timeout_ms = 2000; rise = 2; fall = 2; };
    servers = ( { address = "127.0.0.1:$A"; }, { address = "127.0.0.1:$B"; } ); },
  { name = "hang";
    health = { type = "exec"; command = "$T/hang.sh"; interval_ms = 300;
      timeout_ms = 250; };
    servers = ( { address = "127.0.0.1:$S"; } ); },
  { name = "missing";
    health = { type = "exec"; command = "$T/no-such-command"; };
    servers = ( { address = "127.0.0.1:$S"; } ); }
);
CONF
start_lb4 lb4
expect_log "a (flag present) is up" 3 "server app/127\.0\.0\.1:$A is up$"
expect_log "b (no flag) is down, with the exit status and first output line" 3 \
    "^<4>server app/127\.0\.0\.1:$B is down: exit status 3: no flag for 127\.0\.0\.1 port $B$"
expect_log "a command that hangs is killed at timeout_ms" 3 \
    "^<4>server hang/127\.0\.0\.1:$S is down: timeout after 250 ms$"
# (valgrind runs posix_spawn's child as a fork: it reports exit 127)
expect_log "a missing command is reported" 3 \
    "^<4>server missing/127\.0\.0\.1:$S is down: ($T/no-such-command: No such file or directory|exit status 127)$"
assert_eq "environment of the check of b" \
    "LB4_POOL=app LB4_SERVER_ADDRESS=127.0.0.1 LB4_SERVER_PORT=$B" \
    "$(tr '\n' ' ' < "$T/env.$B" | sed 's/ $//')"
assert_eq "stdin of the check is empty" 0 "$(stat -c %s "$T/stdin.$B")"

# b gets its flag: up after rise = 2; a loses its: down after fall = 2.
touch "$T/up.$B"
rm -f "$T/up.$A"
expect_log "b is up after its flag appears" 3 "server app/127\.0\.0\.1:$B is up$"
expect_log "a is down after its flag goes" 3 \
    "^<4>server app/127\.0\.0\.1:$A is down: exit status 3: no flag"
out=$("$TCLIENT" -T 5000 --seq 5 127.0.0.1:"$P")
assert_eq "traffic to b only" "count b 5" "$(grep '^count' <<< "$out")"

# Several hang checks have been killed by now.  Were their children (same
# process group) left behind, they would pile up: one runs at a time.
wait_count 3 3 "hang/.*check failed .*timeout after 250 ms" ||
    fail "fewer than 3 timed-out hang checks"
max=0
for _ in $(seq 1 20); do
	n=$(pgrep -f -c "^$MARK\$")
	[ "${n:-0}" -gt "$max" ] && max=$n
	sleep 0.05
done
assert_range "children of killed checks do not pile up (most at once)" 0 1 "$max"
stop_lb4
n=$(pgrep -f -c "^$MARK\$")
assert_eq "no child left after lb4 stopped" 0 "${n:-0}"
assert_no_grep "command output never reaches lb4's log" '^(fine|second line)' "$LB4_LOG"
finish

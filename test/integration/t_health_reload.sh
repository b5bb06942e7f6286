#!/bin/bash
# Checks across reloads (SIGHUP): kept servers keep their state (no new
# up/down line), changed settings take effect, a new server is checked at
# once, a removed server's running exec check is killed and its check
# forgotten before the server is freed, a pool that loses its check has its
# servers up, a pool that gains one keeps them up until `fall` failures.
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

P=$(free_port); A=$(free_port); B=$(free_port); C=$(free_port)
H=$(free_port); D=$(free_port); Q=$(free_port)
MARK="sleep 4$RANDOM.5"
start_back a -l 127.0.0.1:"$A" --id a
start_back b -l 127.0.0.1:"$B" --id b
start_back c -l 127.0.0.1:"$C" --id c
start_back d -l 127.0.0.1:"$D" --id d
cat > "$T/hang.sh" <<SH
#!/bin/sh
$MARK &
wait
SH
chmod +x "$T/hang.sh"
conf() {	# conf GENERATION
	if [ "$1" = 1 ]; then
		write_conf lb4 <<CONF
global = { workers = 2; log_level = "debug"; };
listeners = ( { name = "web"; bind = [ "127.0.0.1:$P" ]; pool = "web"; },
  { name = "d"; bind = [ "127.0.0.1:$Q" ]; pool = "dpool"; } );
pools = (
  { name = "web"; health = { type = "tcp"; interval_ms = 200; };
    servers = ( { address = "127.0.0.1:$A"; }, { address = "127.0.0.1:$B"; } ); },
  { name = "hang"; health = { type = "exec"; command = "$T/hang.sh";
      interval_ms = 100; timeout_ms = 60000; };
    servers = ( { address = "127.0.0.1:$H"; } ); },
  { name = "dpool"; health = { type = "http"; interval_ms = 200; };
    servers = ( { address = "127.0.0.1:$D"; } ); }
);
CONF
	else
		write_conf lb4 <<CONF
global = { workers = 2; log_level = "debug"; };
listeners = ( { name = "web"; bind = [ "127.0.0.1:$P" ]; pool = "web"; },
  { name = "d"; bind = [ "127.0.0.1:$Q" ]; pool = "dpool"; } );
pools = (
  { name = "web"; health = { type = "tcp"; interval_ms = 100; fall = 2; };
    servers = ( { address = "127.0.0.1:$A"; }, { address = "127.0.0.1:$C"; } ); },
  { name = "dpool";
    servers = ( { address = "127.0.0.1:$D"; } ); }
);
CONF
	fi
}
conf 1
start_lb4 lb4
expect_log "a is up" 3 "server web/127\.0\.0\.1:$A is up$"
expect_log "b is up" 3 "server web/127\.0\.0\.1:$B is up$"
expect_log "d (not http) is down" 3 "server dpool/127\.0\.0\.1:$D is down: bad http status line 'd'$"
wait_until 3 pgrep -f "^$MARK\$" > /dev/null || fail "the hang check did not start"

conf 2
kill -HUP "$LB4_PID"
expect_log "reloaded" 5 "reloaded .*lb4\.conf"
expect_log "c (new) is checked at once and up" 3 "server web/127\.0\.0\.1:$C is up$"
expect_log "d is up: its pool lost its check" 3 \
    "server dpool/127\.0\.0\.1:$D is up: its pool has no health check any more$"
wait_until 3 eval '! pgrep -f "^$MARK\$" > /dev/null' ||
    fail "the removed pool's running command was not killed"
say "ok: the removed pool's running command was killed"
assert_eq "a kept its state: one 'is up' line" 1 \
    "$(count_log "server web/127\.0\.0\.1:$A is up")"
out=$("$TCLIENT" -T 5000 --seq 10 127.0.0.1:"$Q")
assert_eq "d takes traffic" "count d 10" "$(grep '^count' <<< "$out")"

# The new interval (100 ms) and fall (2) are in force for kept a.
stop_pid "${BACK_PID[a]}"
t0=$(now_ms)
expect_log "a is down after fall = 2 at 100 ms" 3 \
    "server web/127\.0\.0\.1:$A is down: connection refused$"
assert_range "a's detection took 100..300 ms plus polling" 0 \
    $((600 * SLOW)) \
    $(( $(now_ms) - t0 ))
sleep 0.3	# let lb4 free the retired servers (state_collect)
# b was removed: its check stopped.
n1=$(grep -c "web/127\.0\.0\.1:$B: check" "$LB4_LOG")
sleep 0.5
n2=$(grep -c "web/127\.0\.0\.1:$B: check" "$LB4_LOG")
assert_eq "no check of removed b after the reload" "$n1" "$n2"

# Back to generation 1: the hang pool returns, dpool gains a check while d
# is up: d stays up until its checks fail `fall` (3) times.
conf 1
kill -HUP "$LB4_PID"
expect_count "reloaded again" 5 2 "reloaded .*lb4\.conf"
expect_count "d is down after 3 failed http checks" 3 2 \
    "^<4>server dpool/127\.0\.0\.1:$D is down: bad http status line 'd'$"
# The lines read end at d's second "is down" (awk exit): checks go on
# meanwhile, and a slow run (TSan) would otherwise see the next one as
# the last (as in t_health_tcp.sh).
n=$(grep -E "dpool/127\.0\.0\.1:$D(:| is)" "$LB4_LOG" |
    awk '{ print } / is down/ && ++downs == 2 { exit }' | tail -n 4 |
    sed -E 's/.*(failed \([0-9]+ in a row\)).*/\1/; s/.* is down.*/down/' | tr '\n' ' ')
assert_eq "d failed 3 times in a row before it went down" \
    "failed (1 in a row) failed (2 in a row) failed (3 in a row) down " "$n"
wait_until 3 pgrep -f "^$MARK\$" > /dev/null || fail "the hang check did not start again"
stop_lb4
n=$(pgrep -f -c "^$MARK\$")
assert_eq "no command left after lb4 stopped" 0 "${n:-0}"
finish

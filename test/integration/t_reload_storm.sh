#!/bin/bash
# Reload storm (issue 8): while two load clients open new connections
# continuously on the two listeners present in both configs and 20 long
# connections stream data through them, lb4 gets RELOADS SIGHUPs (50; 10
# under LB4_WRAP) alternating between two valid configs that change
# weights, add and remove servers, add one listener and remove another.
#   - not one new connection on the stable listeners fails (refused,
#     reset, timeout or wrong bytes);
#   - the 20 long connections are byte-exact to the end (SHA-256 both ways);
#   - after each reload the listener only in the new config accepts and
#     the one only in the old config refuses;
# then an invalid file: lb4 keeps serving the old config, `lb4ctl reload`
# exits 1 printing the FILE:LINE errors, SIGHUP logs them, and the
# failures are counted in /metrics.
. "$(dirname "$0")/lib.sh"

if [ -n "$LB4_WRAP" ]; then
	RELOADS=${RELOADS:-10}
else
	RELOADS=${RELOADS:-50}
fi
GAP_MS=${GAP_MS:-100}			# between reloads
# A reload step (reload, probe both listeners, pause) takes about 0.5 s.
# The load clients and the long connections (100 kB/s each) run until
# SIGUSR1 after the storm; LOAD_S and LONG_BYTES only bound them.
LOAD_S=$(( RELOADS * 2 * SLOW + 20 ))
LONG_BYTES=$(( LOAD_S * 100000 ))
M=$(free_port)
. "$HERE/storm.sh"
storm_setup "metrics = \"127.0.0.1:$M\";"
# Three problems: an unknown key, a weight out of range, an unknown pool.
write_conf bad <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; };
listeners = (
  { name = "l1"; bind = [ "127.0.0.1:$L1" ]; pool = "p"; colour = "red"; },
  { name = "l2"; bind = [ "127.0.0.1:$L2" ]; pool = "nosuch"; }
);
pools = (
  { name = "p"; servers = (
    { address = "127.0.0.1:$S1"; weight = 0; } ); }
);
CONF
CONF=$T/lb4.conf
use_conf() { cp "$T/$1.conf" "$CONF.tmp" && mv "$CONF.tmp" "$CONF"; }
use_conf A
start_lb4 lb4
CTL=("$LB4CTL" -s "$T/lb4.sock")

reloads_done() { grep -c '^<6>reloaded ' "$LB4_LOG"; }
reloads_failed() { grep -c 'reload failed' "$LB4_LOG"; }

# Load on the stable listeners; long connections split over both.
bg_client load1 -T $(( (LOAD_S + 30) * 1000 )) --loop $LOAD_S -c 3 \
    --interval 5 -n 300 --expect-echo 127.0.0.1:"$L1"
bg_client load2 -T $(( (LOAD_S + 30) * 1000 )) --loop $LOAD_S -c 3 \
    --interval 5 -n 300 --expect-echo 127.0.0.1:"$L2"
bg_client long1 -T $(( (LOAD_S + 40) * 1000 )) -c 10 -s 100 \
    -n $LONG_BYTES --rate 100000 --expect-echo 127.0.0.1:"$L1"
bg_client long2 -T $(( (LOAD_S + 40) * 1000 )) -c 10 -s 200 \
    -n $LONG_BYTES --rate 100000 --expect-echo 127.0.0.1:"$L2"
sleep 1

# The storm.  Reload i loads B when i is odd, A when even; each waits for
# the previous one to be applied (its "reloaded" log line).
t_storm=$(now_ms)
bad_listener=0 bad_refuse=0
for i in $(seq 1 "$RELOADS"); do
	if [ $((i % 2)) = 1 ]; then
		use_conf B; added=$LB; removed=$LA
	else
		use_conf A; added=$LA; removed=$LB
	fi
	kill -HUP "$LB4_PID"
	if ! wait_until 5 eval '[ "$(reloads_done)" -ge '"$i"' ]'; then
		fatal "reload $i was not applied within $((5 * SLOW)) s"
	fi
	# The added listener accepts at once; the removed one's socket is
	# closed once the workers have let go of it (the next tick).
	out=$("$TCLIENT" -T 3000 -n 100 --expect-echo 127.0.0.1:"$added")
	rc=$?
	if [ $rc != 0 ]; then
		fail "reload $i: added listener :$added: exit $rc ($(rc_name $rc)): $out"
		bad_listener=$((bad_listener + 1))
	fi
	if ! wait_until 3 eval '! is_listening '"$removed"; then
		fail "reload $i: removed listener :$removed still listens"
	fi
	"$TCLIENT" -T 3000 --connect-timeout 1000 -n 0 127.0.0.1:"$removed" \
	    > /dev/null 2>&1
	rc=$?
	if [ $rc != 3 ]; then
		fail "reload $i: removed listener :$removed: expected refused, got exit $rc ($(rc_name $rc))"
		bad_refuse=$((bad_refuse + 1))
	fi
	sleep "$(printf '0.%03d' "$GAP_MS")"
done
storm_ms=$(( $(now_ms) - t_storm ))
say "$RELOADS reloads in $storm_ms ms"
for c in load1 load2 long1 long2; do
	alive "${CLIENT_PID[$c]}" ||
	    fail "$c ended before the storm did: it does not cover it all"
done
# Load clients: finish; long connections: stop sending, FIN, drain.
kill -USR1 "${CLIENT_PID[load1]}" "${CLIENT_PID[load2]}" \
    "${CLIENT_PID[long1]}" "${CLIENT_PID[long2]}"
assert_eq "reloads applied" "$RELOADS" "$(reloads_done)"
assert_eq "reloads failed" 0 "$(reloads_failed)"
assert_eq "added listener accepted after every reload (failures)" 0 $bad_listener
assert_eq "removed listener refused after every reload (failures)" 0 $bad_refuse

for c in load1 load2; do
	wait_client $c
	rc=$?
	line=$(grep '^loop ' "$T/$c.out")
	assert_rc "$c: new connections during the storm" 0 $rc
	assert_eq "$c: failed new connections" 0 "$(kv "$line" failed)"
	assert_range "$c: new connections made" $((RELOADS * 10)) 100000000 \
	    "$(kv "$line" conns)"
done
for c in long1 long2; do
	wait_client $c > /dev/null
	rc=$?
	assert_rc "$c: 10 long connections, echo SHA-256 checked" 0 $rc
	# conn I sent N HEX recv M HEX end eof ms T rc R; each streamed
	# through the whole storm (at least half the rate for its length).
	min=$(( storm_ms * 50 ))
	ok=$(awk -v min="$min" '$1 == "conn" && $4 >= min && $7 == $4 &&
	    $5 == $8 && $10 == "eof" && $14 == 0' "$T/$c.out" | wc -l)
	say "$c: bytes each way: $(awk '$1 == "conn" { printf "%s ", $4 }' "$T/$c.out")"
	assert_eq "$c: connections byte-exact to the end (>= $min bytes each way)" 10 "$ok"
done
alive "$LB4_PID" || fatal "lb4 died during the storm"

# The last config is A when RELOADS is even: la listens, lb does not.
if [ $((RELOADS % 2)) = 0 ]; then final=A; else final=B; fi
[ $final = A ] || use_conf A	# for the back-to-back check below
say "final config: $final"
"${CTL[@]}" show servers > "$T/servers.out"
cat "$T/servers.out"
if [ $final = A ]; then
	assert_grep "pool p has s3 (weight 1) again" "^p 127.0.0.1:$S3 up weight=1 " "$T/servers.out"
	assert_no_grep "pool p no longer has s4" "^p 127.0.0.1:$S4 " "$T/servers.out"
	assert_grep "pool p's s1 has weight 5 again" "^p 127.0.0.1:$S1 up weight=5 " "$T/servers.out"
fi
assert_grep "servers kept their counters across the storm" \
    "^p 127.0.0.1:$S1 up weight=[0-9]+ active=[0-9]+ total=[1-9][0-9]{2,}" "$T/servers.out"

# ------------------------------------------- remove and re-add in one tick
# The removed listener's socket closes at the main loop's next tick; a
# reload before that which binds the same address again must take the
# socket back, not fail with EADDRINUSE.  Back to back: to B, then to A.
use_conf B
"${CTL[@]}" reload > "$T/quick1.out" 2>&1
rc1=$?
use_conf A
"${CTL[@]}" reload > "$T/quick2.out" 2>&1
rc2=$?
cat "$T/quick1.out" "$T/quick2.out"
assert_rc "back-to-back reload 1 (removes la)" 0 $rc1
assert_rc "back-to-back reload 2 (adds la again at once)" 0 $rc2
out=$("$TCLIENT" -T 3000 -n 100 --expect-echo 127.0.0.1:"$LA")
assert_rc "la serves after the back-to-back reloads" 0 $?
wait_until 3 eval '! is_listening '"$LB" || fail "lb still listens"
RELOADS=$((RELOADS + 2))

# ------------------------------------------------------------ invalid file
use_conf bad
bg_client load3 -T 30000 --loop 3 -c 2 --interval 5 -n 300 --expect-echo \
    127.0.0.1:"$L1"
"${CTL[@]}" reload > "$T/ctl.out" 2> "$T/ctl.err"
rc=$?
sed 's/^/lb4ctl reload: /' "$T/ctl.out" "$T/ctl.err"
assert_eq "lb4ctl reload of an invalid file exits" 1 $rc
cat "$T/ctl.out" "$T/ctl.err" > "$T/ctl.all"
n=$(grep -cE "^$CONF:[0-9]+: " "$T/ctl.all")
assert_range "lb4ctl reload printed the FILE:LINE errors" 3 50 "$n"
assert_grep "unknown key named with its line" "^$CONF:3: .*colour" "$T/ctl.all"
assert_grep "weight 0 named with its line" "^$CONF:8: .*weight" "$T/ctl.all"
assert_grep "unknown pool named with its line" "^$CONF:4: .*nosuch" "$T/ctl.all"
kill -HUP "$LB4_PID"
wait_until 5 eval '[ "$(reloads_failed)" -ge 2 ]' ||
    fail "SIGHUP with the invalid file: no 'reload failed' in the log"
assert_grep "the SIGHUP reload logged FILE:LINE errors at error level" \
    "^<3>$CONF:3: " "$LB4_LOG"
wait_client load3
rc=$?
assert_rc "new connections while reloads fail" 0 $rc
assert_eq "failed connections while reloads fail" 0 \
    "$(kv "$(grep '^loop ' "$T/load3.out")" failed)"
# Still the old config: its listener there, pool q untouched.
out=$("$TCLIENT" -T 3000 -n 100 --expect-echo 127.0.0.1:"$L2")
assert_rc "listener l2 (absent from the invalid file) still serves" 0 $?
"${CTL[@]}" show servers > "$T/servers2.out"
assert_grep "pool q still has its servers" "^q 127.0.0.1:$S2 " "$T/servers2.out"
curl -s --max-time 5 "http://127.0.0.1:$M/metrics" > "$T/metrics.out"
assert_grep "metrics count $RELOADS successful reloads" \
    "^lb4_reloads_total\{result=\"success\"\} $RELOADS\$" "$T/metrics.out"
assert_grep "metrics count 2 failed reloads" \
    "^lb4_reloads_total\{result=\"failure\"\} 2\$" "$T/metrics.out"
assert_grep "metrics: the last reload failed" \
    "^lb4_config_last_reload_success 0\$" "$T/metrics.out"

# A valid file again applies.
use_conf A
"${CTL[@]}" reload > "$T/ctl2.out" 2>&1
assert_rc "lb4ctl reload of a valid file" 0 $?

stop_lb4
finish

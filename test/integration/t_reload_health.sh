#!/bin/bash
# Health state carry-over (issue 8): a server marked down by its checks
# stays down, and one up stays up, across a reload that does not touch
# their pool: no new "is up"/"is down" transition is logged for them, no
# connection goes to the down one, and the check counters in /metrics go
# on from where they were.  Skips when health checks are not in the build
# (a server with health = tcp never comes up).
. "$(dirname "$0")/lib.sh"

L=$(free_port); LO=$(free_port); M=$(free_port)
U=$(free_port); D=$(free_port); G=$(free_port)
start_back u -l 127.0.0.1:"$U" --id u --quiet
start_back d -l 127.0.0.1:"$D" --id d --quiet
start_back g -l 127.0.0.1:"$G" --id g --quiet

conf() {	# conf NAME WEIGHT_OF_G
	write_conf "$1" <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; };
listeners = (
  { name = "lh"; bind = [ "127.0.0.1:$L" ]; pool = "hc"; },
  { name = "lo"; bind = [ "127.0.0.1:$LO" ]; pool = "o"; }
);
pools = (
  { name = "hc";
    health = { type = "tcp"; interval_ms = 300; timeout_ms = 200;
               rise = 2; fall = 2; };
    servers = (
      { address = "127.0.0.1:$U"; },
      { address = "127.0.0.1:$D"; } ); },
  { name = "o"; servers = ( { address = "127.0.0.1:$G"; weight = $2; } ); }
);
CONF
}
conf one 1
conf two 9
CONF=$T/lb4.conf
cp "$T/one.conf" "$CONF"
start_lb4 lb4
CTL=("$LB4CTL" -s "$T/lb4.sock")

state_of() {	# state_of PORT
	"${CTL[@]}" show servers | awk -v a="127.0.0.1:$1" '$2 == a { print $3 }'
}
transitions() {
	grep -cE "server hc/127\.0\.0\.1:($U|$D) is (up|down)" "$LB4_LOG"
}
checks() {	# checks PORT RESULT
	curl -s --max-time 5 "http://127.0.0.1:$M/metrics" | grep -F \
	    "lb4_health_checks_total{pool=\"hc\",server=\"127.0.0.1:$1\",result=\"$2\"}" |
	    awk '{print $2}'
}

if ! wait_until 5 eval '[ "$(state_of $U)" = up ] &&
    [ "$(state_of $D)" = up ]'; then
	"${CTL[@]}" show servers | sed 's/^/    /'
	stop_lb4
	skip "health checks are not in this build: servers with" \
	    "health = { type = \"tcp\"; } never came up in 5 s"
fi
say "both checked servers are up"
stop_pid "${BACK_PID[d]}"
wait_until 5 eval '[ "$(state_of $D)" = down ]' ||
    fatal "server d did not go down after its backend stopped"
say "d is down by its checks"
sleep 0.7		# let the checks settle (two more intervals)
n0=$(transitions)
ok0=$(checks "$U" success)
fail0=$(checks "$D" failure)
assert_range "transitions logged before the reload" 3 3 "$n0"

cp "$T/two.conf" "$CONF"
"${CTL[@]}" reload > /dev/null
assert_rc "lb4ctl reload (pool o changes, hc does not)" 0 $?
assert_eq "u right after the reload" up "$(state_of "$U")"
assert_eq "d right after the reload" down "$(state_of "$D")"
out=$("$TCLIENT" -T 10000 --seq 4 --show 4 127.0.0.1:"$L")
assert_eq "picks right after the reload go to u only" "first u u u u" \
    "$(grep '^first' <<< "$out")"
sleep 1.5		# five check intervals
assert_eq "u after the reload" up "$(state_of "$U")"
assert_eq "d after the reload" down "$(state_of "$D")"
assert_eq "no new up/down transition logged for hc's servers" "$n0" \
    "$(transitions)"
ok1=$(checks "$U" success)
fail1=$(checks "$D" failure)
assert_range "u's successful checks went on counting" $((ok0 + 2)) \
    $((ok0 + 100)) "$ok1"
assert_range "d's failed checks went on counting" $((fail0 + 2)) \
    $((fail0 + 100)) "$fail1"

stop_lb4
finish

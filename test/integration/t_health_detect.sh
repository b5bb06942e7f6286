#!/bin/bash
# Detection time, measured: from a backend's death (its listener closed:
# connects are refused) to lb4's "is down" line, with no traffic (active
# checks only), for the default profile (interval 2000, timeout 1000,
# fall 3) and an aggressive one (interval 200, timeout 200, fall 2).
# Expected: (fall - 1) x interval plus up to one interval.
# SAMPLES (default 3) deaths are measured.
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

SAMPLES=${SAMPLES:-3}
A=$(free_port); P=$(free_port)
write_conf lb4 <<CONF
global = { workers = 1; };
listeners = ( { name = "x"; bind = [ "127.0.0.1:$P" ]; pool = "default"; } );
pools = (
  { name = "default"; health = { type = "tcp"; };
    servers = ( { address = "127.0.0.1:$A"; } ); },
  { name = "aggressive";
    health = { type = "tcp"; interval_ms = 200; timeout_ms = 200; fall = 2; };
    servers = ( { address = "127.0.0.1:$A"; } ); }
);
CONF
start_back a0 -l 127.0.0.1:"$A" --echo --quiet
start_lb4 lb4
all_d="" all_a=""
for i in $(seq 1 "$SAMPLES"); do
	expect_count "sample $i: default is up" 10 "$i" "server default/.* is up$"
	expect_count "sample $i: aggressive is up" 10 "$i" "server aggressive/.* is up$"
	# A random phase against the check cadence.
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	kill -TERM "${BACK_PID[a$((i - 1))]}"
	t0=$(now_ms)
	wait_until 5 eval '! alive '"${BACK_PID[a$((i - 1))]}"
	d="" a=""
	while [ -z "$d" ] || [ -z "$a" ]; do
		now=$(now_ms)
		[ $((now - t0)) -gt $((15000 * SLOW)) ] && break
		[ -z "$a" ] && [ "$(count_log "server aggressive/.* is down")" -ge "$i" ] &&
		    a=$((now - t0))
		[ -z "$d" ] && [ "$(count_log "server default/.* is down")" -ge "$i" ] &&
		    d=$((now - t0))
		sleep 0.01
	done
	say "sample $i: default detected in ${d:-?} ms, aggressive in ${a:-?} ms"
	assert_range "sample $i: default profile (2000 x (3 - 1) .. 2000 x 3)" 3900 \
	    $((6500 * SLOW)) "${d:-x}"
	assert_range "sample $i: aggressive profile (200 x (2 - 1) .. 200 x 2)" 150 \
	    $((700 * SLOW)) "${a:-x}"
	all_d+="${d:-?} " all_a+="${a:-?} "
	[ "$i" -lt "$SAMPLES" ] && start_back a"$i" -l 127.0.0.1:"$A" --echo --quiet
done
say "DETECTION default (interval 2000, fall 3): ${all_d}ms"
say "DETECTION aggressive (interval 200, timeout 200, fall 2): ${all_a}ms"
stop_lb4
finish

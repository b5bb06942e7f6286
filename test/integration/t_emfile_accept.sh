#!/bin/bash
# EMFILE at accept() is a local error too (README "Local errors": reason
# fd is "EMFILE/ENFILE at socket() or accept()").  lb4 gets exactly enough
# descriptors for K held connections (2 fds each) with its fd reserve
# whole, so the (K+1)th client meets EMFILE in accept() itself, not in
# socket(): accepting pauses, and lb4_local_errors_total{reason="fd"} must
# count it.
. "$(dirname "$0")/lib.sh"

command -v prlimit > /dev/null || skip "needs prlimit"
P=$(free_port); E=$(free_port); M=$(free_port)
start_back echo -l 127.0.0.1:"$E" --echo --quiet
write_conf lb4 <<CONF
global = { workers = 1; metrics = "127.0.0.1:$M"; };
listeners = ( { name = "f"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$M/metrics" |
	    awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }'
}
WRAP0=$LB4_WRAP
# A first run to learn how many fds lb4 holds idle (a metrics scrape
# opens and closes one of them).
start_lb4 lb4
metric lb4_up > /dev/null
base=$(find "/proc/$LB4_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
stop_lb4
K=6
seen=0
# Which of the last descriptors accept() or socket() meets first
# depends on lb4's exact count (a scrape, the log): three rounds, one fd
# apart, and every round in which accept() met EMFILE must count it.
for off in -1 0 1; do
	NOFILE=$((base + 2 * K + off))
	say "round $off: RLIMIT_NOFILE $NOFILE ($base idle + room for $K connections)"
	LB4_WRAP="prlimit --nofile=$NOFILE:$NOFILE $WRAP0"
	start_lb4 "lb4" "lb4.$((off + 1))"
	for i in $(seq 1 $((K + 1))); do
		"$TCLIENT" -T 20000 --hold 2000 127.0.0.1:"$P" > "$T/h$i.out" 2>&1 &
		PIDS+=("$!"); H[i]=$!
		sleep 0.2
	done
	for i in $(seq 1 $((K + 1))); do wait "${H[$i]}"; done
	if grep -q "Too many open files: accepting paused" "$LB4_LOG"; then
		seen=$((seen + 1))
		assert_range "round $off: lb4_local_errors_total{reason=\"fd\"} counts the EMFILE at accept()" \
		    1 1000 "$(metric 'lb4_local_errors_total{reason="fd"}')"
	fi
	stop_lb4
done
assert_range "rounds in which accept() met EMFILE" 1 3 "$seen"
finish

#!/bin/bash
# test/bench/connlog.sh: lb4's CPU per new connection with the connection
# log on (global.log_connections, text, stderr to a file on tmpfs, so the
# disk does not count) against off.  Issue 17's budget: at most 5 % more.
# The log is formatted on the main thread and written by a thread of its
# own, both counted in lb4's CPU (all threads, /proc/PID/stat); a reader
# such as journald is not lb4 and is not counted.  The two configs
# alternate for R rounds so drift hits both.  Setup and environment:
# blib.sh; LOGDIR (/dev/shm) holds the log while a round runs.
. "$(dirname "$0")/blib.sh"
LOGDIR=${LOGDIR:-/dev/shm}

# run LOG(0|1): prints "conns cpu_us us_per_conn lines dropped".
run() {
	local log=false dropped lines
	[ "$1" = 1 ] && log=true
	cat > "$T/lb4.conf" <<CONF
global = { workers = 1; control_socket = "$T/lb4.sock"; health_file = "";
  metrics = "127.0.0.1:$((LPORT + 2))"; log_level = "warning";
  log_connections = $log; };
listeners = ( { name = "b"; bind = [ "127.0.0.1:$LPORT" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$BPORT"; } ); } );
CONF
	LB4_STDERR=$LOGDIR/lb4-bench-connlog.$$.log
	lb4_start
	# shellcheck disable=SC2046  # wrk_window's three fields
	printf '%s ' $(wrk_window connections)
	dropped=$(curl -s "http://127.0.0.1:$((LPORT + 2))/metrics" |
	    awk '$1 == "lb4_log_dropped_total" { print $2 }')
	lb4_stop
	lines=$(grep -c '^<6>conn ' "$LB4_STDERR")
	rm -f "$LB4_STDERR"
	echo "$lines ${dropped:-?}"
}

printf '%-6s %-5s %10s %12s %10s %10s %8s\n' round log conns cpu_us us/conn \
    lines dropped
# shellcheck disable=SC2046,SC2183  # run prints the five last fields
for ((r = 1; r <= R; r++)); do
	printf '%-6s %-5s %10s %12s %10s %10s %8s\n' "$r" off $(run 0)
	printf '%-6s %-5s %10s %12s %10s %10s %8s\n' "$r" on $(run 1)
done

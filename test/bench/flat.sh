#!/bin/bash
# test/bench/flat.sh: does the cost of a new connection grow with the
# connections already held?  lb4's CPU per new connection with no idle
# connection held, then with IDLE (default 9000; 2 fds each) idle
# connections held open through lb4, alternating for R rounds so drift hits
# both.  Also prints lb4's RSS growth per idle connection (the first round
# shows it; later rounds reuse the same connection slabs).  Setup and
# environment: blib.sh.
. "$(dirname "$0")/blib.sh"
IDLE=${IDLE:-9000}

cat > "$T/lb4.conf" <<CONF
global = { workers = 1; control_socket = "$T/lb4.sock"; health_file = "";
  log_level = "warning"; max_connections = 200000; };
listeners = ( { name = "b"; bind = [ "127.0.0.1:$LPORT" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$BPORT"; } ); } );
CONF
lb4_start
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$LB4_PID/status"; }

# hold: IDLE connections through lb4, opened and then left silent.
hold() {
	local i
	taskset -c "$CLIENT_CPU" python3 - "$LPORT" "$IDLE" <<'PY' &
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = [socket.create_connection(("127.0.0.1", port), timeout=5)
        for _ in range(n)]
print("held", len(held), flush=True)
time.sleep(600)
PY
	HOLD_PID=$!
	for ((i = 0; i < 300; i++)); do
		[ "$(listener_sum active)" -ge "$IDLE" ] && return 0
		sleep 0.1
	done
	echo "could not hold $IDLE connections (active $(listener_sum active))" >&2
	return 1
}
unhold() {
	local i
	kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null; HOLD_PID=
	for ((i = 0; i < 100; i++)); do
		[ "$(listener_sum active)" = 0 ] && return 0
		sleep 0.1
	done
}

printf '%-6s %-6s %10s %12s %10s\n' round idle conns cpu_us us/conn
for ((r = 1; r <= R; r++)); do
	# shellcheck disable=SC2046,SC2183 # wrk_window prints the last three columns
	printf '%-6s %-6s %10s %12s %10s\n' "$r" 0 $(wrk_window connections)
	rss0=$(rss_kib)
	hold || exit 1
	rss1=$(rss_kib)
	# shellcheck disable=SC2046,SC2183 # wrk_window prints the last three columns
	printf '%-6s %-6s %10s %12s %10s\n' "$r" "$IDLE" $(wrk_window connections)
	unhold
	echo "       RSS: +$((rss1 - rss0)) KiB for $IDLE idle connections" \
	    "($(awk -v d=$((rss1 - rss0)) -v n="$IDLE" 'BEGIN { printf "%.3f", d / n }') KiB each)"
done

#!/bin/bash
# test/bench/checks.sh: lb4's CPU per new connection with active health
# checks running (tcp, every INTERVAL ms, default 100, on the pool's
# server) against none.  Checks run on the main thread and workers never
# wait for them; this measures that claim.  The two configs alternate for
# R rounds so drift hits both.  Setup and environment: blib.sh.
. "$(dirname "$0")/blib.sh"
INTERVAL=${INTERVAL:-100}

# run CHECKS(0|1): prints "conns cpu_us us_per_conn".
run() {
	local health=""
	[ "$1" = 1 ] && health="health = { type = \"tcp\"; interval_ms = $INTERVAL; timeout_ms = $INTERVAL; rise = 1; fall = 3; };"
	cat > "$T/lb4.conf" <<CONF
global = { workers = 1; control_socket = "$T/lb4.sock"; health_file = "";
  log_level = "warning"; };
listeners = ( { name = "b"; bind = [ "127.0.0.1:$LPORT" ]; pool = "p"; } );
pools = ( { name = "p"; $health
  servers = ( { address = "127.0.0.1:$BPORT"; } ); } );
CONF
	lb4_start
	# A checked server starts down: wait for its first check.
	for ((i = 0; i < 50; i++)); do
		"$LB4CTL" -s "$T/lb4.sock" health > /dev/null 2>&1 && break
		sleep 0.1
	done
	wrk_window connections
	lb4_stop
}

printf '%-6s %-14s %10s %12s %10s\n' round checks conns cpu_us us/conn
for ((r = 1; r <= R; r++)); do
	# shellcheck disable=SC2046,SC2183 # run prints the last three columns
	printf '%-6s %-14s %10s %12s %10s\n' "$r" none $(run 0)
	# shellcheck disable=SC2046,SC2183 # run prints the last three columns
	printf '%-6s %-14s %10s %12s %10s\n' "$r" "tcp/${INTERVAL}ms" $(run 1)
done

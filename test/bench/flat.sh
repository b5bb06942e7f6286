#!/bin/bash
# test/bench/flat.sh: does the cost of a new connection grow with the
# connections already held?  lb4 (one worker, pinned to PROXY_CPU) in front
# of nginx ("return 200"); wrk -c50 -H "Connection: close" measures lb4's
# CPU per new connection (utime+stime from /proc/PID/stat, connections
# from lb4ctl show stats) with no idle connection held, then with IDLE
# idle connections held open through lb4 (default 9000; each is 2 fds).
# The two alternate for R rounds so drift hits both.  Also prints lb4's RSS
# growth per idle connection.  Loops are bounded; processes are stopped by
# PID.  Env: R (3), DURATION (6), WARMUP (2), IDLE (9000), PROXY_CPU (0),
# CLIENT_CPU (1), LB4, LB4CTL.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LB4=${LB4:-$ROOT/build/lb4}
LB4CTL=${LB4CTL:-$ROOT/build/lb4ctl}
R=${R:-3}; DURATION=${DURATION:-6}; WARMUP=${WARMUP:-2}; IDLE=${IDLE:-9000}
PROXY_CPU=${PROXY_CPU:-0}; CLIENT_CPU=${CLIENT_CPU:-1}
LPORT=${LPORT:-18290}; BPORT=${BPORT:-18291}
HZ=$(getconf CLK_TCK)
for t in wrk nginx taskset python3; do
	command -v $t > /dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
ulimit -n "$(ulimit -Hn)"
T=$(mktemp -d /tmp/lb4-bench-flat.XXXXXX)
NGINX_PID=; LB4_PID=; HOLD_PID=
cleanup() {
	for p in $HOLD_PID $LB4_PID $NGINX_PID; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $HOLD_PID $LB4_PID $NGINX_PID; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T/ngx"
cat > "$T/nginx.conf" <<NGX
daemon off; master_process off; worker_processes 1; pid $T/nginx.pid;
worker_rlimit_nofile 40000;
error_log $T/nginx.err; events { worker_connections 30000; }
http { access_log off; client_body_temp_path $T/ngx/b; proxy_temp_path $T/ngx/p;
  fastcgi_temp_path $T/ngx/f; uwsgi_temp_path $T/ngx/u; scgi_temp_path $T/ngx/s;
  keepalive_timeout 600s;
  server { listen 127.0.0.1:$BPORT reuseport backlog=4096;
    location / { return 200 "ok\n"; } } }
NGX
taskset -c "$CLIENT_CPU" nginx -p "$T/ngx" -e "$T/nginx.err" -c "$T/nginx.conf" &
NGINX_PID=$!
cat > "$T/lb4.conf" <<CONF
global = { workers = 1; control_socket = "$T/lb4.sock"; health_file = "";
  log_level = "warning"; max_connections = 200000; };
listeners = ( { name = "b"; bind = [ "127.0.0.1:$LPORT" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$BPORT"; } ); } );
CONF
taskset -c "$PROXY_CPU" "$LB4" -c "$T/lb4.conf" 2> "$T/lb4.log" &
LB4_PID=$!
for ((i = 0; i < 50; i++)); do
	"$LB4CTL" -s "$T/lb4.sock" show stats > /dev/null 2>&1 && break
	sleep 0.1
done

conns() {
	"$LB4CTL" -s "$T/lb4.sock" show stats | awk '/^listener b / {
	    for (i = 1; i <= NF; i++) if ($i ~ /^connections=/) {
	    split($i, kv, "="); print kv[2] } }'
}
active() {
	"$LB4CTL" -s "$T/lb4.sock" show stats | awk '/^listener b / {
	    for (i = 1; i <= NF; i++) if ($i ~ /^active=/) {
	    split($i, kv, "="); print kv[2] } }'
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$LB4_PID/status"; }
cpu_ticks() {
	local f
	read -r -a f < <(sed 's/^.*) //' "/proc/$LB4_PID/stat")
	echo $((f[11] + f[12]))
}

# measure: prints "conns cpu_us us_per_conn" for one wrk window.
measure() {
	local s0 s1 c0 c1
	taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d$((WARMUP + DURATION))s \
	    -H "Connection: close" "http://127.0.0.1:$LPORT/" > "$T/wrk.out" 2>&1 &
	local wrk=$!
	sleep "$WARMUP"
	s0=$(cpu_ticks); c0=$(conns)
	sleep "$DURATION"
	s1=$(cpu_ticks); c1=$(conns)
	wait $wrk
	local n=$((c1 - c0)) us=$(( (s1 - s0) * 1000000 / HZ ))
	echo "$n $us $(awk -v u=$us -v c=$n 'BEGIN { printf "%.2f", c ? u / c : 0 }')"
}

# hold: IDLE connections through lb4, opened and then left silent.
hold() {
	taskset -c "$CLIENT_CPU" python3 - "$LPORT" "$IDLE" <<'PY' &
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    held.append(s)
print("held", len(held), flush=True)
time.sleep(600)
PY
	HOLD_PID=$!
	for ((i = 0; i < 300; i++)); do
		[ "$(active)" -ge "$IDLE" ] 2>/dev/null && return 0
		sleep 0.1
	done
	echo "could not hold $IDLE connections (active $(active))" >&2
	return 1
}
unhold() {
	kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null; HOLD_PID=
	for ((i = 0; i < 100; i++)); do
		[ "$(active)" = 0 ] && return 0
		sleep 0.1
	done
}

printf '%-6s %-6s %10s %12s %10s\n' round idle conns cpu_us us/conn
for ((r = 1; r <= R; r++)); do
	printf '%-6s %-6s %10s %12s %10s\n' "$r" 0 $(measure)
	rss0=$(rss_kib)
	hold || exit 1
	rss1=$(rss_kib)
	printf '%-6s %-6s %10s %12s %10s\n' "$r" "$IDLE" $(measure)
	unhold
	echo "       RSS: +$((rss1 - rss0)) KiB for $IDLE idle connections" \
	    "($(awk -v d=$((rss1 - rss0)) -v n=$IDLE 'BEGIN { printf "%.3f", d / n }') KiB each)"
done

#!/bin/bash
# test/bench/checks.sh: lb4's CPU per new connection with active health
# checks running (tcp, every INTERVAL ms, on the pool's server) against
# none.  Checks run on the main thread, workers never wait for them; this
# measures that claim.  lb4 (one worker, pinned to PROXY_CPU) in front of
# nginx; wrk -c50 -H "Connection: close" on CLIENT_CPU; CPU is lb4's
# utime+stime (all threads) from /proc/PID/stat; connections from lb4ctl.
# The two configs alternate for R rounds.  Env: R (3), DURATION (6),
# WARMUP (2), INTERVAL (100), PROXY_CPU (0), CLIENT_CPU (1), LB4, LB4CTL.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LB4=${LB4:-$ROOT/build/lb4}
LB4CTL=${LB4CTL:-$ROOT/build/lb4ctl}
R=${R:-3}; DURATION=${DURATION:-6}; WARMUP=${WARMUP:-2}
INTERVAL=${INTERVAL:-100}
PROXY_CPU=${PROXY_CPU:-0}; CLIENT_CPU=${CLIENT_CPU:-1}
LPORT=${LPORT:-18390}; BPORT=${BPORT:-18391}
HZ=$(getconf CLK_TCK)
for t in wrk nginx taskset; do
	command -v $t > /dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
T=$(mktemp -d /tmp/lb4-bench-checks.XXXXXX)
NGINX_PID=; LB4_PID=
cleanup() {
	for p in $LB4_PID $NGINX_PID; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $LB4_PID $NGINX_PID; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T/ngx"
cat > "$T/nginx.conf" <<NGX
daemon off; master_process off; worker_processes 1; pid $T/nginx.pid;
error_log $T/nginx.err; events { worker_connections 4096; }
http { access_log off; client_body_temp_path $T/ngx/b; proxy_temp_path $T/ngx/p;
  fastcgi_temp_path $T/ngx/f; uwsgi_temp_path $T/ngx/u; scgi_temp_path $T/ngx/s;
  server { listen 127.0.0.1:$BPORT reuseport backlog=4096;
    location / { return 200 "ok\n"; } } }
NGX
taskset -c "$CLIENT_CPU" nginx -p "$T/ngx" -e "$T/nginx.err" -c "$T/nginx.conf" &
NGINX_PID=$!
sleep 0.5

conns() {
	"$LB4CTL" -s "$T/lb4.sock" show stats | awk '/^listener b / {
	    for (i = 1; i <= NF; i++) if ($i ~ /^connections=/) {
	    split($i, kv, "="); print kv[2] } }'
}
cpu_ticks() {
	local f
	read -r -a f < <(sed 's/^.*) //' "/proc/$LB4_PID/stat")
	echo $((f[11] + f[12]))
}

# run CHECKS(0|1): prints "conns cpu_us us_per_conn checks".
run() {
	local health="" s0 s1 c0 c1 i
	[ "$1" = 1 ] && health="health = { type = \"tcp\"; interval_ms = $INTERVAL; timeout_ms = $INTERVAL; rise = 1; fall = 3; };"
	cat > "$T/lb4.conf" <<CONF
global = { workers = 1; control_socket = "$T/lb4.sock"; health_file = "";
  log_level = "warning"; };
listeners = ( { name = "b"; bind = [ "127.0.0.1:$LPORT" ]; pool = "p"; } );
pools = ( { name = "p"; $health
  servers = ( { address = "127.0.0.1:$BPORT"; } ); } );
CONF
	taskset -c "$PROXY_CPU" "$LB4" -c "$T/lb4.conf" 2> "$T/lb4.log" &
	LB4_PID=$!
	for ((i = 0; i < 50; i++)); do
		"$LB4CTL" -s "$T/lb4.sock" health > /dev/null 2>&1 && break
		sleep 0.1
	done
	taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d$((WARMUP + DURATION))s \
	    -H "Connection: close" "http://127.0.0.1:$LPORT/" > "$T/wrk.out" 2>&1 &
	local wrk=$!
	sleep "$WARMUP"
	s0=$(cpu_ticks); c0=$(conns)
	sleep "$DURATION"
	s1=$(cpu_ticks); c1=$(conns)
	wait $wrk
	kill "$LB4_PID"; wait "$LB4_PID" 2>/dev/null; LB4_PID=
	local n=$((c1 - c0)) us=$(( (s1 - s0) * 1000000 / HZ ))
	echo "$n $us $(awk -v u=$us -v c=$n 'BEGIN { printf "%.2f", c ? u / c : 0 }')"
}

printf '%-6s %-14s %10s %12s %10s\n' round checks conns cpu_us us/conn
for ((r = 1; r <= R; r++)); do
	printf '%-6s %-14s %10s %12s %10s\n' "$r" none $(run 0)
	printf '%-6s %-14s %10s %12s %10s\n' "$r" "tcp/${INTERVAL}ms" $(run 1)
done

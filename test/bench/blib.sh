# shellcheck shell=bash
# test/bench/blib.sh: sourced by acl.sh, checks.sh, connlog.sh and
# flat.sh.  One lb4 worker pinned to PROXY_CPU in front of one nginx
# ("return 200") on CLIENT_CPU; wrk -c50 -H "Connection: close" on CLIENT_CPU drives new
# connections; lb4's CPU is its utime+stime (all threads) from
# /proc/PID/stat and its connection count comes from `lb4ctl show stats`.
# Every process is stopped by PID on exit; every wait is bounded.
#
# Env: R (rounds, 3), DURATION (s, 6), WARMUP (s, 2), PROXY_CPU (0),
# CLIENT_CPU (1), LB4 (build/lb4), LB4CTL (build/lb4ctl), LPORT, BPORT;
# LB4_STDERR: where lb4_start sends lb4's stderr ($T/lb4.log).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LB4=${LB4:-$ROOT/build/lb4}
LB4CTL=${LB4CTL:-$ROOT/build/lb4ctl}
R=${R:-3}; DURATION=${DURATION:-6}; WARMUP=${WARMUP:-2}
PROXY_CPU=${PROXY_CPU:-0}; CLIENT_CPU=${CLIENT_CPU:-1}
LPORT=${LPORT:-18190}; BPORT=${BPORT:-18191}
HZ=$(getconf CLK_TCK)
for t in wrk nginx taskset python3; do
	command -v $t > /dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
ulimit -n "$(ulimit -Hn)"
T=$(mktemp -d "/tmp/lb4-bench-$(basename "$0" .sh).XXXXXX")
NGINX_PID=; LB4_PID=; HOLD_PID=
cleanup() {
	for p in $HOLD_PID $LB4_PID $NGINX_PID; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $HOLD_PID $LB4_PID $NGINX_PID; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The backend, on BPORT; it keeps idle connections for 10 minutes.  It
# answers "ok" to everything but /www/FILE, served from $T/www.
mkdir -p "$T/ngx"
cat > "$T/nginx.conf" <<NGX
daemon off; master_process off; worker_processes 1; pid $T/nginx.pid;
worker_rlimit_nofile 40000;
error_log $T/nginx.err; events { worker_connections 30000; }
http { access_log off; client_body_temp_path $T/ngx/b; proxy_temp_path $T/ngx/p;
  fastcgi_temp_path $T/ngx/f; uwsgi_temp_path $T/ngx/u; scgi_temp_path $T/ngx/s;
  keepalive_timeout 600s;
  server { listen 127.0.0.1:$BPORT reuseport backlog=4096;
    location / { return 200 "ok\n"; }
    location /www/ { root $T; sendfile on; tcp_nopush on; } } }
NGX
taskset -c "$CLIENT_CPU" nginx -p "$T/ngx" -e "$T/nginx.err" -c "$T/nginx.conf" &
NGINX_PID=$!
sleep 0.5

# lb4_start: runs lb4 on $T/lb4.conf (which must set control_socket to
# $T/lb4.sock), pinned; returns once its control socket answers.
lb4_start() {
	local i
	taskset -c "$PROXY_CPU" "$LB4" -c "$T/lb4.conf" 2> "${LB4_STDERR:-$T/lb4.log}" &
	LB4_PID=$!
	for ((i = 0; i < 50; i++)); do
		"$LB4CTL" -s "$T/lb4.sock" show stats > /dev/null 2>&1 && return
		sleep 0.1
	done
}
lb4_stop() {
	kill "$LB4_PID"; wait "$LB4_PID" 2>/dev/null; LB4_PID=
}

# listener_sum FIELD...: the sum of FIELD= over listener b's stats line.
listener_sum() {
	"$LB4CTL" -s "$T/lb4.sock" show stats | awk -v f="^($(IFS='|'; echo "$*"))=" \
	    '/^listener b / { for (i = 1; i <= NF; i++) if ($i ~ f) {
	    split($i, kv, "="); s += kv[2] } } END { print s + 0 }'
}
cpu_ticks() {
	local f
	read -r -a f < <(sed 's/^.*) //' "/proc/$LB4_PID/stat")
	echo $((f[11] + f[12]))
}

# wrk_window FIELD...: one wrk run; prints "conns cpu_us us_per_conn",
# counting connections as the sum of listener b's FIELDs.
wrk_window() {
	local s0 s1 c0 c1 wrk n us
	taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d$((WARMUP + DURATION))s \
	    -H "Connection: close" "http://127.0.0.1:$LPORT/" > "$T/wrk.out" 2>&1 &
	wrk=$!
	sleep "$WARMUP"
	s0=$(cpu_ticks); c0=$(listener_sum "$@")
	sleep "$DURATION"
	s1=$(cpu_ticks); c1=$(listener_sum "$@")
	wait $wrk
	n=$((c1 - c0)); us=$(( (s1 - s0) * 1000000 / HZ ))
	echo "$n $us $(awk -v u=$us -v c=$n 'BEGIN { printf "%.2f", c ? u / c : 0 }')"
}

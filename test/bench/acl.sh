#!/bin/bash
# test/bench/acl.sh: lb4's CPU per connection with 0, 10 and 10,000 deny
# rules, for allowed clients (every rule misses) and for refused ones
# (127.0.0.1 is among the rules).  wrk -c50 -H "Connection: close" against
# nginx ("return 200"), lb4 with one worker pinned to PROXY_CPU, nginx and
# wrk on CLIENT_CPU.  CPU is utime+stime of lb4 from /proc/PID/stat over the
# measured window; connections come from "lb4ctl show stats" (connections=
# or denied=).  Every process is stopped by PID; loops are bounded.
#
# Environment: R (rounds, default 3), DURATION (s, 8), WARMUP (s, 2),
# PROXY_CPU (0), CLIENT_CPU (1), LB4 (build/lb4), LB4CTL (build/lb4ctl).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LB4=${LB4:-$ROOT/build/lb4}
LB4CTL=${LB4CTL:-$ROOT/build/lb4ctl}
R=${R:-3}; DURATION=${DURATION:-8}; WARMUP=${WARMUP:-2}
PROXY_CPU=${PROXY_CPU:-0}; CLIENT_CPU=${CLIENT_CPU:-1}
LPORT=${LPORT:-18190}; BPORT=${BPORT:-18191}
HZ=$(getconf CLK_TCK)
for t in wrk nginx taskset; do
	command -v $t > /dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
T=$(mktemp -d /tmp/lb4-bench-acl.XXXXXX)
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

# rules N DENY_LOCALHOST: N deny rules, /32s spread over 10.0.0.0/8, the
# last one 127.0.0.1 when DENY_LOCALHOST is 1.
rules() {
	local n=$1 i
	for ((i = 0; i < n - $2; i++)); do
		printf '"10.%d.%d.%d", ' $((i >> 16 & 255)) $((i >> 8 & 255)) \
		    $((i * 2 & 255))
	done
	[ "$2" = 1 ] && printf '"127.0.0.1"'
}

# run NRULES DENY_LOCALHOST: prints "conns cpu_us us_per_conn".
run() {
	local deny s0 s1 c0 c1 f
	deny=$(rules "$1" "$2" | sed 's/, $//')
	cat > "$T/lb4.conf" <<CONF
global = { workers = 1; control_socket = "$T/lb4.sock"; health_file = "";
  log_level = "warning"; max_connections = 200000; };
listeners = ( { name = "b"; bind = [ "127.0.0.1:$LPORT" ]; pool = "p";
  deny = [ $deny ]; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$BPORT"; } ); } );
CONF
	taskset -c "$PROXY_CPU" "$LB4" -c "$T/lb4.conf" 2> "$T/lb4.log" &
	LB4_PID=$!
	for ((i = 0; i < 50; i++)); do
		"$LB4CTL" -s "$T/lb4.sock" show stats > /dev/null 2>&1 && break
		sleep 0.1
	done
	taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d$((WARMUP + DURATION))s \
	    -H "Connection: close" "http://127.0.0.1:$LPORT/" > "$T/wrk.out" 2>&1 &
	local wrk=$!
	sleep "$WARMUP"
	read -r -a f < <(sed 's/^.*) //' "/proc/$LB4_PID/stat")
	s0=$((f[11] + f[12]))
	c0=$(stat_conns)
	sleep "$DURATION"
	read -r -a f < <(sed 's/^.*) //' "/proc/$LB4_PID/stat")
	s1=$((f[11] + f[12]))
	c1=$(stat_conns)
	wait $wrk
	kill "$LB4_PID"; wait "$LB4_PID" 2>/dev/null; LB4_PID=
	local conns=$((c1 - c0)) us=$(( (s1 - s0) * 1000000 / HZ ))
	echo "$conns $us $(awk -v u=$us -v c=$conns 'BEGIN { printf "%.2f", c ? u / c : 0 }')"
}

# connections= plus denied= of listener b.
stat_conns() {
	"$LB4CTL" -s "$T/lb4.sock" show stats | awk '/^listener b / {
	    for (i = 1; i <= NF; i++) if ($i ~ /^(connections|denied)=/) {
	    split($i, kv, "="); s += kv[2] } } END { print s + 0 }'
}

printf '%-8s %-7s %6s %10s %12s %10s\n' round rules path conns cpu_us us/conn
for ((r = 1; r <= R; r++)); do
	for spec in "0 0" "10 0" "10000 0" "10 1" "10000 1"; do
		set -- $spec
		path=allowed; [ "$2" = 1 ] && path=refused
		printf '%-8s %-7s %6s %10s %12s %10s\n' "$r" "$1" "$path" $(run "$1" "$2")
	done
done

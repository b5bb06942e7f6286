#!/bin/bash
# The web scenario: three nginx backends behind lb4 with http checks; one
# is stopped while a rate-limited curl load runs.  No client request fails
# (lb4 retries the refused connects), after detection no connection
# reaches the stopped backend's port (an impostor listening there sees
# only health checks), and the backend takes traffic again after `rise`.
# The backend is stopped gracefully (SIGQUIT: requests in flight finish);
# a SIGKILL would reset them, which no L4 balancer can hide.
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip "nginx is not installed (Debian package nginx-light)"
command -v curl > /dev/null || skip "curl is not installed"

P=$(free_port)
declare -A PORT
for n in a b c; do PORT[$n]=$(free_port); done
LONG=$(printf 'x%.0s' $(seq 1 300))	# client paths are > 300 bytes

start_nginx() {		# start_nginx NAME
	local n=$1 pid
	mkdir -p "$T/ngx-$n"
	cat > "$T/ngx-$n/nginx.conf" <<NGX
daemon off;
master_process on;
worker_processes 1;
pid $T/ngx-$n/nginx.pid;
error_log $T/ngx-$n/error.log warn;
events { worker_connections 512; }
http {
  access_log $T/ngx-$n/access.log;
  client_body_temp_path $T/ngx-$n/body;
  proxy_temp_path $T/ngx-$n/proxy;
  fastcgi_temp_path $T/ngx-$n/fastcgi;
  uwsgi_temp_path $T/ngx-$n/uwsgi;
  scgi_temp_path $T/ngx-$n/scgi;
  server {
    listen 127.0.0.1:${PORT[$n]};
    location = /health { return 200 "ok\n"; }
    location / { return 200 "$n"; }
  }
}
NGX
	"$NGINX" -p "$T/ngx-$n" -e "$T/ngx-$n/error.log" \
	    -c "$T/ngx-$n/nginx.conf" > "$T/ngx-$n.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	NGX_PID[$n]=$pid
	wait_until 10 is_listening "${PORT[$n]}" ||
	    fatal "nginx $n did not start: $(cat "$T/ngx-$n/error.log")"
}
declare -A NGX_PID

# load NAME COUNT RATE: COUNT requests, one connection each, RATE a second;
# one line per request: "BODY CODE CURL_EXIT".
load() {
	timeout 120 curl -s -H 'Connection: close' --connect-timeout 2 \
	    --max-time 5 --rate "$3/s" -w ' %{http_code} %{exitcode}\n' \
	    "http://127.0.0.1:$P/${LONG}[1-$2]" > "$T/$1.out" 2>&1
}

# summary NAME: "a=N b=N c=N failed=N total=N"
summary() {
	awk '{ t++ } $2 == 200 && $3 == 0 { n[$1]++; next } { f++ }
	    END { printf "a=%d b=%d c=%d failed=%d total=%d\n",
	    n["a"], n["b"], n["c"], f, t }' "$T/$1.out"
}

for n in a b c; do start_nginx $n; done
write_conf lb4 <<CONF
global = { workers = 2; log_level = "debug"; };
defaults = { retries = 2; };
listeners = ( { name = "web"; bind = [ "127.0.0.1:$P" ]; pool = "web"; } );
pools = ( { name = "web";
  health = { type = "http"; path = "/health"; interval_ms = 200;
    timeout_ms = 200; rise = 2; fall = 2; };
  servers = ( { address = "127.0.0.1:${PORT[a]}"; },
    { address = "127.0.0.1:${PORT[b]}"; },
    { address = "127.0.0.1:${PORT[c]}"; } ); } );
CONF
start_lb4 lb4
for n in a b c; do
	expect_log "$n is up" 3 "server web/127\.0\.0\.1:${PORT[$n]} is up$"
done

load l1 1000 250 &
LOAD_PID=$!
PIDS+=("$LOAD_PID")
sleep 1.5
say "stopping nginx b (SIGQUIT, graceful)"
kill -QUIT "${NGX_PID[b]}"
t0=$(now_ms)
wait_until 10 eval '! alive '"${NGX_PID[b]}" || fail "nginx b did not stop"
expect_log "b is down" 5 "^<4>server web/127\.0\.0\.1:${PORT[b]} is down: "
say "b detected down $(( $(now_ms) - t0 )) ms after SIGQUIT: $(grep -E "is down" "$LB4_LOG" | tail -n 1)"
# From now on nothing may reach b's port: an impostor that is not HTTP
# listens there.  Health checks find it (and stay down); a client request
# would reach it with its > 300-byte path.
start_back impostor -l 127.0.0.1:"${PORT[b]}" --id impostor
wait "$LOAD_PID"
s1=$(summary l1)
say "load during the failure: $s1"
[[ "$s1" =~ failed=0\ total=1000$ ]] || fail "load during the failure: $s1"
b1=$(sed -E 's/.* b=([0-9]+) .*/\1/' <<< "$s1")
assert_range "b served requests before it stopped" 50 600 "$b1"

load l2 300 300
s2=$(summary l2)
say "after detection: $s2"
assert_eq "after detection: a and c only, none failed" \
    "b=0 failed=0 total=300" "$(sed -E 's/a=[0-9]+ //; s/c=[0-9]+ //' <<< "$s2")"
n=$(awk '/^conn / { for (i = 1; i <= NF; i++) if ($i ~ /^recv=/) {
    split($i, v, "="); if (v[2] > 250) c++ } } END { print c + 0 }' "$T/impostor.log")
assert_eq "no client connection reached b's port after detection" 0 "$n"
n=$(grep -c '^conn ' "$T/impostor.log")
assert_range "health checks kept probing b's port" 2 1000 "$n"
assert_eq "b is down once (no flapping against the impostor)" 1 \
    "$(count_log "server web/127\.0\.0\.1:${PORT[b]} is down")"

# b comes back: up after rise = 2, and takes its share again.
stop_pid "${BACK_PID[impostor]}"
start_nginx b
expect_count "b is up again" 5 2 "server web/127\.0\.0\.1:${PORT[b]} is up$"
load l3 300 300
s3=$(summary l3)
say "after recovery: $s3"
[[ "$s3" =~ failed=0\ total=300$ ]] || fail "after recovery: $s3"
b3=$(sed -E 's/.* b=([0-9]+) .*/\1/' <<< "$s3")
assert_range "b takes its third again" 90 110 "$b3"
stop_lb4
for n in a b c; do stop_pid "${NGX_PID[$n]}"; done
finish

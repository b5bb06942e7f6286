#!/bin/bash
# GET /metrics (README, "Operating it"): after known traffic the counters
# equal the traffic made, every family has # HELP and # TYPE, and promtool
# accepts it.
. "$(dirname "$0")/lib.sh"

command -v promtool > /dev/null ||
    fatal "promtool not installed (apt-get install prometheus; test/deps.sh does)"
P=$(free_port); M=$(free_port); E=$(free_port); DEAD=$(free_port)
start_back e -l 127.0.0.1:"$E" --echo --quiet
write_conf lb4 <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; };
listeners = ( { name = "web"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; retries = 1; servers = (
  { address = "127.0.0.1:$DEAD"; }, { address = "127.0.0.1:$E"; } ); } );
CONF
start_lb4 lb4

scrape() {
	curl -sS --max-time 5 "http://127.0.0.1:$M/metrics" > "$T/m.txt" ||
	    fail "scrape failed"
}
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$T/m.txt"
}

# 20 echo connections of 1000 bytes each way.  Weights 1,1 with the dead
# server tried first on every other pick: each of those connects is
# refused once and retried on the echo server.
for i in $(seq 1 20); do
	"$TCLIENT" -T 5000 -n 1000 -s "$i" --expect-echo 127.0.0.1:"$P" > /dev/null ||
	    fail "echo connection $i"
done
wait_until 5 eval '[ "$(LB4_SOCKET=$T/lb4.sock "$LB4CTL" show stats |
    grep -c "active=0 ")" = 1 ]'
scrape
assert_eq "lb4_connections_total" 20 \
    "$(metric 'lb4_connections_total{listener="web"}')"
assert_eq "lb4_connections_active" 0 \
    "$(metric 'lb4_connections_active{listener="web"}')"
assert_eq "lb4_bytes_total client_to_server" 20000 \
    "$(metric 'lb4_bytes_total{listener="web",direction="client_to_server"}')"
assert_eq "lb4_bytes_total server_to_client" 20000 \
    "$(metric 'lb4_bytes_total{listener="web",direction="server_to_client"}')"
assert_eq "lb4_server_connections_total of the echo server" 20 \
    "$(metric "lb4_server_connections_total{pool=\"p\",server=\"127.0.0.1:$E\"}")"
errs=$(metric "lb4_connect_errors_total{pool=\"p\",server=\"127.0.0.1:$DEAD\"}")
assert_eq "lb4_connect_errors_total of the dead server = its picks" \
    "$(metric "lb4_server_connections_total{pool=\"p\",server=\"127.0.0.1:$DEAD\"}")" \
    "$errs"
assert_range "connect errors (every other first pick)" 9 11 "$errs"
assert_eq "lb4_server_up of the echo server" 1 \
    "$(metric "lb4_server_up{pool=\"p\",server=\"127.0.0.1:$E\"}")"
assert_eq "lb4_reloads_total success before any reload" 0 \
    "$(metric 'lb4_reloads_total{result="success"}')"

# One good and one bad reload.
kill -HUP "$LB4_PID"
wait_until 5 eval 'grep -q "reloaded" "$LB4_LOG"'
echo "garbage" >> "$T/lb4.conf"
LB4_SOCKET=$T/lb4.sock "$LB4CTL" reload > /dev/null 2>&1
assert_rc "lb4ctl reload of a bad file" 1 $?
scrape
assert_eq "lb4_reloads_total success" 1 \
    "$(metric 'lb4_reloads_total{result="success"}')"
assert_eq "lb4_reloads_total failure" 1 \
    "$(metric 'lb4_reloads_total{result="failure"}')"
assert_eq "lb4_config_last_reload_success" 0 \
    "$(metric lb4_config_last_reload_success)"
assert_eq "counters survive reloads" 20 \
    "$(metric 'lb4_connections_total{listener="web"}')"

# Format: every family documented and typed; promtool agrees.
for f in lb4_connections_total lb4_connections_active lb4_bytes_total \
    lb4_connect_errors_total lb4_server_up lb4_server_connections_active \
    lb4_health_checks_total lb4_reloads_total lb4_config_last_reload_success \
    lb4_connections_denied_total lb4_pool_servers_up \
    lb4_server_down_resets_total; do
	assert_grep "# HELP $f" "^# HELP $f " "$T/m.txt"
	assert_grep "# TYPE $f" "^# TYPE $f (counter|gauge)$" "$T/m.txt"
done
promtool check metrics < "$T/m.txt" > "$T/promtool.out" 2>&1
assert_rc "promtool check metrics" 0 $?
cat "$T/promtool.out"
assert_eq "promtool has no complaint" "" "$(cat "$T/promtool.out")"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$M/other")
assert_eq "other paths: 404" 404 "$code"

stop_lb4
finish

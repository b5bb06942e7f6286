#!/bin/bash
# Every series that the Grafana dashboard (etc/grafana/lb4.json) and the
# alert rules (etc/prometheus/lb4-alerts.yml) query exists in a real lb4's
# /metrics, after traffic and failures that make them move: connections
# through a pool with a dead server (connect errors), a denied client, a
# good and a bad reload, health checks, and keepalived transitions reported
# through vrrp-hooks/notify (lb4ctl vrrp).  A name with no sample fails the
# test, naming it.
. "$(dirname "$0")/lib.sh"

# Exported by work not merged yet; each must be missing now, and the test
# fails once it is exported, so that this list stays short and true.
EXPECTED_MISSING=""

command -v python3 > /dev/null || skip "python3 is not installed"
python3 -c 'import yaml' 2> /dev/null || skip "python3-yaml is not installed"
command -v promtool > /dev/null ||
    fatal "promtool not installed (apt-get install prometheus; test/deps.sh does)"
DASH=$ROOT/etc/grafana/lb4.json
RULES=$ROOT/etc/prometheus/lb4-alerts.yml
QUERIES=$ROOT/test/monitoring/queries.py

P=$(free_port); X=$(free_port); M=$(free_port); E=$(free_port)
DEAD=$(free_port); PD=$(free_port)
start_back e -l 127.0.0.1:"$E" --echo --quiet
write_conf lb4 <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; log_connections = true; };
listeners = (
  { name = "web"; bind = [ "127.0.0.1:$P" ]; pool = "p"; },
  { name = "deny"; bind = [ "127.0.0.1:$X" ]; pool = "p"; deny = [ "127.0.0.0/8" ]; },
  { name = "dead"; bind = [ "127.0.0.1:$PD" ]; pool = "d"; }
);
pools = ( { name = "p"; retries = 1;
  health = { type = "tcp"; interval_ms = 200; timeout_ms = 300; };
  servers = ( { address = "127.0.0.1:$DEAD"; }, { address = "127.0.0.1:$E"; } ); },
  { name = "d"; retries = 0; servers = ( { address = "127.0.0.1:$DEAD"; } ); } );
CONF
start_lb4 lb4
ctl() {
	LB4_SOCKET=$T/lb4.sock timeout 10 "$LB4CTL" "$@"
}

# Traffic; and connects refused by a server with no health check.
for i in $(seq 1 10); do
	"$TCLIENT" -T 5000 -n 2000 -s "$i" --expect-echo 127.0.0.1:"$P" > /dev/null ||
	    fail "echo connection $i"
done
"$TCLIENT" -T 5000 -n 10 127.0.0.1:"$X" > /dev/null
for i in 1 2 3; do
	"$TCLIENT" -T 5000 -n 10 127.0.0.1:"$PD" > /dev/null
done
wait_until 5 eval 'ctl show servers | grep -q "$DEAD down"' ||
    fail "the dead server is not marked down"

# keepalived's transitions, through the notify script as keepalived runs it.
printf '%s\n' 'INSTANCE "VI_1" BACKUP 100' 'INSTANCE "VI_1" MASTER 200' \
    'INSTANCE "VI_2" FAULT 0' |
    LB4CTL=$LB4CTL LB4_SOCKET=$T/lb4.sock LB4_VRRP_LOG=stderr \
    "$ROOT/vrrp-hooks/notify" -d "$T/no-hooks" > "$T/notify.out" 2>&1
assert_rc "vrrp-hooks/notify" 0 $?
cat "$T/notify.out"
assert_no_grep "notify reached lb4" 'failed' "$T/notify.out"
ctl show vrrp > "$T/vrrp.out"
cat "$T/vrrp.out"
assert_grep "show vrrp: VI_1 MASTER" '^vrrp VI_1 MASTER since=[0-9]+$' "$T/vrrp.out"
assert_grep "show vrrp: VI_2 FAULT" '^vrrp VI_2 FAULT since=[0-9]+$' "$T/vrrp.out"
ctl vrrp VI_3 NOTASTATE > /dev/null 2>&1
assert_rc "lb4ctl vrrp with an unknown state" 1 $?
ctl vrrp 'bad"name' MASTER > /dev/null 2>&1
assert_rc "lb4ctl vrrp with a bad name" 1 $?

# A good reload, then a bad one (the old configuration keeps serving).
kill -HUP "$LB4_PID"
wait_until 5 eval 'grep -q "reloaded" "$LB4_LOG"' || fail "no reload"
cp "$T/lb4.conf" "$T/good.conf"
echo "garbage" >> "$T/lb4.conf"
ctl reload > /dev/null 2>&1
assert_rc "lb4ctl reload of a bad file" 1 $?

curl -sS --max-time 5 "http://127.0.0.1:$M/metrics" > "$T/m.txt" ||
    fatal "scrape failed"
promtool check metrics < "$T/m.txt" > "$T/promtool.out" 2>&1
assert_rc "promtool check metrics" 0 $?
cat "$T/promtool.out"
assert_grep "lb4_vrrp_state of VI_1 MASTER is 1" \
    '^lb4_vrrp_state\{vrrp_instance="VI_1",state="MASTER"\} 1$' "$T/m.txt"
assert_grep "lb4_vrrp_state of VI_1 BACKUP is 0" \
    '^lb4_vrrp_state\{vrrp_instance="VI_1",state="BACKUP"\} 0$' "$T/m.txt"

# value NAME: the sum of NAME's samples.
value() {
	awk -v n="$1" '{ s = $1; sub(/\{.*/, "", s) } s == n { v += $NF; f = 1 }
	    END { if (f) printf "%.0f\n", v }' "$T/m.txt"
}

python3 "$QUERIES" names "$DASH" "$RULES" > "$T/names" ||
    fatal "cannot read the queries of the dashboard and the rules"
say "$(wc -l < "$T/names") names queried: $(tr '\n' ' ' < "$T/names")"
[ "$(wc -l < "$T/names")" -ge 15 ] || fail "too few names read from the queries"
missing=
while read -r n <&3; do
	v=$(value "$n")
	case " $EXPECTED_MISSING " in
	*" $n "*)
		if [ -n "$v" ]; then
			fail "$n is exported now: remove it from EXPECTED_MISSING"
		else
			say "ok: $n: no sample, as expected until its branch lands"
		fi
		continue ;;
	esac
	if [ -z "$v" ]; then
		missing+=" $n"
		fail "$n: queried by the dashboard or the alert rules, no sample in /metrics"
	else
		say "ok: $n has samples (sum $v)"
	fi
done 3< "$T/names"
[ -z "$missing" ] || say "missing:$missing"

# What this test drove must also have moved.
for n in lb4_connections_total lb4_bytes_total lb4_connect_errors_total \
    lb4_connections_denied_total lb4_connections_ended_total \
    lb4_connection_duration_seconds_count lb4_server_connect_seconds_bucket \
    lb4_reloads_total lb4_health_checks_total lb4_server_connections_total \
    lb4_max_connections lb4_build_info lb4_server_up; do
	v=$(value "$n")
	[ "${v:-0}" -gt 0 ] || fail "$n: expected above 0 after the traffic, got '${v}'"
done
assert_eq "lb4_config_last_reload_success after the bad reload" 0 \
    "$(value lb4_config_last_reload_success)"
assert_eq "lb4_healthy" 1 "$(value lb4_healthy)"

stop_lb4
finish

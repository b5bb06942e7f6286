#!/bin/bash
# test/bench/acl.sh: lb4's CPU per connection with 0, 10 and 10,000 deny
# rules, for allowed clients (every rule misses) and for refused ones
# (127.0.0.1 is among the rules).  wrk -c50 -H "Connection: close" against
# nginx ("return 200"), lb4 with one worker pinned to PROXY_CPU, nginx and
# wrk on CLIENT_CPU.  CPU is utime+stime of lb4 from /proc/PID/stat over the
# measured window; connections come from "lb4ctl show stats" (connections=
# or denied=).  Every process is stopped by PID; loops are bounded.
#
# Environment: see blib.sh.
. "$(dirname "$0")/blib.sh"

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
	local deny
	deny=$(rules "$1" "$2" | sed 's/, $//')
	cat > "$T/lb4.conf" <<CONF
global = { workers = 1; control_socket = "$T/lb4.sock"; health_file = "";
  log_level = "warning"; max_connections = 200000; };
listeners = ( { name = "b"; bind = [ "127.0.0.1:$LPORT" ]; pool = "p";
  deny = [ $deny ]; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$BPORT"; } ); } );
CONF
	lb4_start
	wrk_window connections denied
	lb4_stop
}

printf '%-8s %-7s %6s %10s %12s %10s\n' round rules path conns cpu_us us/conn
for ((r = 1; r <= R; r++)); do
	for spec in "0 0" "10 0" "10000 0" "10 1" "10000 1"; do
		# shellcheck disable=SC2086 # two words: rules, refused
		set -- $spec
		path=allowed; [ "$2" = 1 ] && path=refused
		# shellcheck disable=SC2046,SC2183 # run prints the last three columns
		printf '%-8s %-7s %6s %10s %12s %10s\n' "$r" "$1" "$path" $(run "$1" "$2")
	done
done

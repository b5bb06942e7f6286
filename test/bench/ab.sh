#!/bin/bash
# test/bench/ab.sh: before/after for a change to the data plane.  Two lb4
# binaries (LB4_A, LB4_B: e.g. a build of main and one of the change) and
# HAProxy (mode tcp, forced splice, one thread) take turns, in an order
# that rotates each round, in front of the same nginx; each gets a fresh
# process, WARMUP seconds of wrk, then a DURATION-second wrk whose
# connections (or requests) are divided into the process's CPU over that
# second run.  Prints each round and the medians; only ratios within one
# run mean anything on this shared machine.
#   LB4_A=build-main/lb4 LB4_B=build/lb4 R=5 test/bench/ab.sh
#   WORKLOAD=ka ... (keep-alive requests instead of new connections)
#   WORKLOAD=bulk ... (4 connections downloading a 64 MiB file over and
#       over with build/tools/tbulk: CPU us per MB instead)
# Setup and environment: blib.sh (lb4's own nginx, CPUs, ports).
# shellcheck source=test/bench/blib.sh
. "$(dirname "$0")/blib.sh"
LB4_A=${LB4_A:?set LB4_A to the lb4 binary before the change}
LB4_B=${LB4_B:-$ROOT/build/lb4}
WORKLOAD=${WORKLOAD:-conn}
command -v haproxy > /dev/null || { echo "SKIP: haproxy is not installed"; exit 77; }
if [ "$WORKLOAD" = bulk ]; then
	[ -x "$ROOT/build/tools/tbulk" ] || { echo "ab: run make tools first" >&2; exit 1; }
	mkdir -p "$T/www"
	head -c $((64 << 20)) /dev/urandom > "$T/www/big.bin"
fi

cat > "$T/lb4.conf" <<CONF
global = { workers = 1; health_file = ""; log_level = "warning"; };
listeners = ( { name = "b"; bind = [ "127.0.0.1:$LPORT" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$BPORT"; } ); } );
CONF
cat > "$T/haproxy.cfg" <<CFG
global
    nbthread 1
    maxconn 4000
defaults
    mode tcp
    timeout connect 5s
    timeout client 600s
    timeout server 600s
    option splice-request
    option splice-response
frontend b
    bind 127.0.0.1:$LPORT backlog 4096
    default_backend p
backend p
    server s1 127.0.0.1:$BPORT
CFG

PROXY_PID=
proxy_start() {
	local i
	case $1 in
	A) taskset -c "$PROXY_CPU" "$LB4_A" -c "$T/lb4.conf" 2> "$T/a.log" & ;;
	B) taskset -c "$PROXY_CPU" "$LB4_B" -c "$T/lb4.conf" 2> "$T/b.log" & ;;
	haproxy) taskset -c "$PROXY_CPU" haproxy -db -f "$T/haproxy.cfg" \
	    2> "$T/h.log" & ;;
	esac
	PROXY_PID=$!
	LB4_PID=$PROXY_PID	# blib's cleanup stops it; cpu_ticks reads it
	for ((i = 0; i < 50; i++)); do
		curl -s -o /dev/null "http://127.0.0.1:$LPORT/" && return 0
		sleep 0.1
	done
	echo "$1 did not start" >&2
	return 1
}
proxy_stop() {
	kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
	PROXY_PID=; LB4_PID=	# blib's cleanup stops LB4_PID
}

# client SECONDS OUT: one bounded client run of the workload.
client() {
	local hdr=()
	if [ "$WORKLOAD" = bulk ]; then
		timeout $(($1 + 10)) taskset -c "$CLIENT_CPU" "$ROOT/build/tools/tbulk" \
		    -c 4 -d "$1" "127.0.0.1:$LPORT" /www/big.bin > "$2"
		return
	fi
	[ "$WORKLOAD" = conn ] && hdr=(-H "Connection: close")
	timeout $(($1 + 10)) taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d"${1}s" \
	    "${hdr[@]}" "http://127.0.0.1:$LPORT/" > "$2"
}

# measure NAME: prints "units cpu_us us_per_unit" (units: connections,
# requests, or MB for bulk).
measure() {
	local t0 t1 n us
	proxy_start "$1" || return 1
	client "$WARMUP" /dev/null
	t0=$(cpu_ticks)
	client "$DURATION" "$T/client.out"
	t1=$(cpu_ticks)
	proxy_stop
	if [ "$WORKLOAD" = bulk ]; then
		n=$(sed -n 's/^bytes=\([0-9]*\) .*/\1/p' "$T/client.out")
		n=$((n / 1000000))
	else
		n=$(awk '/ requests in / { print $1 }' "$T/client.out")
	fi
	us=$(( (t1 - t0) * 1000000 / HZ ))
	echo "$n $us $(awk -v u="$us" -v c="$n" 'BEGIN { printf "%.2f", c ? u / c : 0 }')"
}

names=(A B haproxy)
printf '%-6s %-8s %10s %12s %10s\n' round proxy units cpu_us "us/unit"
for ((r = 1; r <= R; r++)); do
	for ((k = 0; k < 3; k++)); do
		name=${names[$(( (r + k) % 3 ))]}
		# shellcheck disable=SC2046,SC2183 # measure prints three numbers
		printf '%-6s %-8s %10s %12s %10s\n' "$r" "$name" $(measure "$name") |
		    tee -a "$T/rounds"
	done
done
echo "medians ($WORKLOAD, us of proxy CPU per unit; A=$LB4_A B=$LB4_B):"
for name in "${names[@]}"; do
	awk -v n="$name" '$2 == n { print $5 }' "$T/rounds" | sort -n |
	    awk -v n="$name" '{ v[NR] = $1 }
	    END { i = int((NR + 1) / 2); j = int(NR / 2) + 1
	    printf "  %-8s %8.2f\n", n, (v[i] + v[j]) / 2 }'
done | tee "$T/medians"
awk '{ m[$1] = $2 } END { printf "  B/A %.3f  A/haproxy %.3f  B/haproxy %.3f\n",
    m["B"] / m["A"], m["A"] / m["haproxy"], m["B"] / m["haproxy"] }' "$T/medians"

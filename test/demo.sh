#!/bin/bash
# make demo: lb4 in front of three demo backends on 127.0.0.1 with weights
# 5,1,1; prints the spread of 35 connections, then keeps serving until
# Ctrl-C.  Everything started here is stopped by PID on exit.
set -u
cd "$(dirname "$0")/.." || exit 1
B=build
dir=$(mktemp -d "${TMPDIR:-/tmp}/lb4-demo.XXXXXX") || exit 1
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# bash: /dev/tcp is a bash feature (dash, /bin/sh on Debian, has none and
# would call every port free).
port_free() {
	! (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null
}
base=18480
while ! port_free $base || ! port_free $((base + 1)) ||
    ! port_free $((base + 2)) || ! port_free $((base + 3)); do
	base=$((base + 10))
	[ $base -lt 18980 ] || { echo "demo: no free ports" >&2; exit 1; }
done

for i in 1 2 3; do
	name=$(echo "a b c" | cut -d' ' -f$i)
	"$B/tools/tback" -l 127.0.0.1:$((base + i)) --quiet --id "$name" \
	    >"$dir/back$i.log" 2>&1 &
	pids="$pids $!"
done
cat >"$dir/lb4.conf" <<CONF
# The demo's config: see etc/lb4.conf for every key.
global = {
  workers = 2;
  control_socket = "$dir/lb4.sock";
  health_file = "$dir/health";
  metrics = "127.0.0.1:$((base + 4))";
};
listeners = ( { name = "demo"; bind = [ "127.0.0.1:$base" ]; pool = "demo"; } );
pools = ( { name = "demo"; servers = (
  { address = "127.0.0.1:$((base + 1))"; weight = 5; },
  { address = "127.0.0.1:$((base + 2))"; weight = 1; },
  { address = "127.0.0.1:$((base + 3))"; weight = 1; } ); } );
CONF
"$B/lb4" -c "$dir/lb4.conf" 2>"$dir/lb4.log" &
lb4_pid=$!
pids="$pids $lb4_pid"
i=0
while ! [ -S "$dir/lb4.sock" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$dir/lb4.log"; exit 1; }
	sleep 0.1
done
echo "lb4 (pid $lb4_pid) listens on 127.0.0.1:$base; servers a b c" \
    "on ports $((base + 1))-$((base + 3)) with weights 5,1,1"
echo "35 connections, in order (each backend answers its name):"
"$B/tools/tclient" -T 5000 --seq 35 --show 35 127.0.0.1:$base
echo
LB4_SOCKET="$dir/lb4.sock" "$B/lb4ctl" show servers
echo
# Only tools that are here: make demo built tclient and lb4ctl; curl
# (or nc) only when this machine has it.
echo "Try: $B/tools/tclient --seq 7 --show 7 127.0.0.1:$base"
echo "     LB4_SOCKET=$dir/lb4.sock $B/lb4ctl show stats"
if command -v curl >/dev/null 2>&1; then
	echo "     curl -s 127.0.0.1:$((base + 4))/metrics"
fi
if command -v nc >/dev/null 2>&1; then
	echo "     nc 127.0.0.1 $base"
fi
echo "Serving until Ctrl-C."
wait "$lb4_pid"

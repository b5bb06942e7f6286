#!/bin/sh
# make bench: lb4 side by side with HAProxy (mode tcp, splice), HAProxy
# without splice, nginx stream and direct, in one run, through the shared
# harness (../shared/bench/peers.sh: same backends, one worker each pinned
# to CPU 0, order rotating, medians and ratios).  Knobs pass through:
#   CONTENDERS="haproxy lb4" R=5 make bench
#   R=1 DURATION=2 WARMUP=1 IDLE_CONNS=1000 make bench    (1-minute smoke)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
harness=${LB4_BENCH_HARNESS:-$top/../shared/bench/peers.sh}
if ! [ -x "$harness" ] && ! [ -f "$harness" ]; then
	echo "bench: harness not found at $harness (set LB4_BENCH_HARNESS)" >&2
	exit 1
fi
"$top/test/deps.sh" build test
export LB4_BIN="$top/build/lb4"
exec bash "$harness" "$@"

#!/bin/sh
# make bench: lb4 side by side with haproxy (mode tcp, splice forced),
# haproxy without splice, nginx stream and direct, in one run
# (test/bench/compare.sh: same backends, one worker each pinned to CPU 0,
# order rotating, medians and lb4 / haproxy ratios).  Knobs pass through
# the environment:
#   CONTENDERS="haproxy lb4" R=5 make bench
#   R=1 DURATION=2 WARMUP=1 IDLE_CONNS=1000 make bench    (2-minute smoke)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/test/deps.sh" build test
exec "$top/test/bench/compare.sh" "$@"

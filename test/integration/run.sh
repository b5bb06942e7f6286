#!/bin/bash
# test/integration/run.sh [t_NAME ...]
#
# Runs every test/integration/t_*.sh (or the ones named) twice: with
# LB4_SPLICE=true and with LB4_SPLICE=false (global.splice in each
# config).  A test exits 0 (pass), 77 (skip, prints "SKIP: why") or
# anything else (fail).  Ends with "N passed, N failed, N skipped"; exits
# 1 when anything failed.
#
# Environment: LB4, LB4CTL, LB4_WRAP, TOOLS (see lib.sh);
#   LB4_SPLICE_MODES  default "true false"
#   LB4_TEST_TIMEOUT  seconds per test (default 120, 600 with LB4_WRAP)
#   LB4_TEST_LOGS     where each test's output is kept (default
#                     build/itest-logs)

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export LB4=${LB4:-$ROOT/build/lb4}
export LB4CTL=${LB4CTL:-$ROOT/build/lb4ctl}
export TOOLS=${TOOLS:-$ROOT/build/tools}
export LB4_WRAP=${LB4_WRAP:-}
MODES=${LB4_SPLICE_MODES:-true false}
LOGS=${LB4_TEST_LOGS:-$ROOT/build/itest-logs}
if [ -n "$LB4_WRAP" ]; then
	LIMIT=${LB4_TEST_TIMEOUT:-600}
else
	LIMIT=${LB4_TEST_TIMEOUT:-120}
fi

tests=()
if [ $# -gt 0 ]; then
	for a in "$@"; do
		a=$(basename "$a" .sh)
		if [ ! -f "$HERE/$a.sh" ]; then
			echo "run.sh: no test $HERE/$a.sh" >&2
			exit 2
		fi
		tests+=("$a")
	done
else
	for f in "$HERE"/t_*.sh; do
		[ -f "$f" ] && tests+=("$(basename "$f" .sh)")
	done
fi

if [ ! -x "$TOOLS/tback" ] || [ ! -x "$TOOLS/tclient" ]; then
	make -s -C "$ROOT" tools >&2 || { echo "run.sh: cannot build the test tools" >&2; exit 1; }
fi
if [ ! -x "$LB4" ]; then
	echo "run.sh: no lb4 binary at $LB4 (run make, or set LB4=)" >&2
	echo "0 passed, ${#tests[@]} failed, 0 skipped"
	exit 1
fi
mkdir -p "$LOGS"

ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# run_one NAME MODE: runs one test in its own session (so that whatever it
# leaves behind can be stopped by its process group id) with a time limit.
run_one() {
	local name=$1 mode=$2 log=$LOGS/$1.splice-$2.log pid rc=0 end
	LB4_SPLICE=$mode setsid bash "$HERE/$name.sh" > "$log" 2>&1 < /dev/null &
	pid=$!
	end=$(( $(ms) + LIMIT * 1000 ))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(ms)" -ge "$end" ]; then
			echo "run.sh: $name exceeded $LIMIT s; stopping it" >> "$log"
			kill -TERM -- "-$pid" 2>/dev/null
			sleep 5
			kill -KILL -- "-$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	wait "$pid"
	rc=$?
	[ "$(ms)" -ge "$end" ] && rc=124
	# Anything still in the test's process group is a leftover.
	kill -KILL -- "-$pid" 2>/dev/null
	return "$rc"
}

pass=0 failn=0 skipn=0
failed=()
for mode in $MODES; do
	mstart=$(ms)
	for t in "${tests[@]}"; do
		tstart=$(ms)
		run_one "$t" "$mode"
		rc=$?
		secs=$(( ($(ms) - tstart) / 100 ))
		secs="$((secs / 10)).$((secs % 10))s"
		log=$LOGS/$t.splice-$mode.log
		case $rc in
		0)
			pass=$((pass + 1))
			printf 'PASS  %-20s splice=%-5s %s\n' "$t" "$mode" "$secs" ;;
		77)
			skipn=$((skipn + 1))
			printf 'SKIP  %-20s splice=%-5s %s  %s\n' "$t" "$mode" \
			    "$secs" "$(grep -m1 '^SKIP:' "$log")" ;;
		*)
			failn=$((failn + 1))
			failed+=("$t/splice=$mode")
			printf 'FAIL  %-20s splice=%-5s %s  (exit %d, log %s)\n' \
			    "$t" "$mode" "$secs" "$rc" "$log"
			grep -E '^FAIL:|^    \|' "$log" | head -n 40 | sed 's/^/      /' ;;
		esac
	done
	secs=$(( ($(ms) - mstart) / 100 ))
	echo "mode splice=$mode took $((secs / 10)).$((secs % 10))s"
done
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]

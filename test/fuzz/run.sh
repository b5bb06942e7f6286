#!/bin/sh
# test/fuzz/run.sh check BINARY...
# test/fuzz/run.sh fuzz SECONDS BINARY...
#
# check: replays test/fuzz/corpus/NAME/* once through each fuzz_NAME
#   binary (no mutation): a regression test that takes seconds.  A crash,
#   a sanitizer report or a broken invariant fails it, as does a target
#   with no corpus (a test that did not run is never counted as passed).
# fuzz: runs each target for SECONDS from its committed corpus; new
#   inputs go to build-fuzz/corpus/NAME (never into the repository),
#   crashes to build-fuzz/artifacts/NAME/; then replays them all with
#   leak checks.  Prints each target's final executions, cov and ft
#   (libFuzzer's coverage: edges and features).
#   To keep a crash as a regression input, copy it into the corpus.
#
# Ends with "N passed, N failed, N skipped"; exits 1 when anything failed.
# Environment: FUZZ_B (default build-fuzz), FUZZ_ARGS (more libFuzzer
# flags, e.g. -jobs or -dict).

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
FUZZ_B=${FUZZ_B:-build-fuzz}
FUZZ_ARGS=${FUZZ_ARGS:-}

usage() {
	echo "usage: $0 check BINARY... | fuzz SECONDS BINARY..." >&2
	exit 2
}

[ $# -ge 2 ] || usage
mode=$1
shift
case $mode in
check)	;;
fuzz)	secs=$1; shift
	case $secs in ''|*[!0-9]*) usage ;; esac ;;
*)	usage ;;
esac
[ $# -gt 0 ] || usage

passed=0
failed=0
log=$(mktemp "${TMPDIR:-/tmp}/fuzz-run.XXXXXX") || exit 2
trap 'rm -f "$log"' EXIT
trap 'exit 2' HUP INT TERM

for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	corpus=$HERE/corpus/$name
	if [ ! -x "$bin" ]; then
		echo "FAIL  $name: $bin not built"
		failed=$((failed + 1))
		continue
	fi
	n=$(find "$corpus" -maxdepth 1 -type f 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "FAIL  $name: no corpus in $corpus"
		failed=$((failed + 1))
		continue
	fi
	if [ "$mode" = check ]; then
		# Each file once; libFuzzer exits non-zero on the first crash.
		# FUZZ_ARGS is a word list; one word per corpus file (ours).
		# shellcheck disable=SC2046,SC2086
		"$bin" $FUZZ_ARGS $(find "$corpus" -maxdepth 1 -type f | sort) \
		    > "$log" 2>&1
		rc=$?
		ran=$(grep -c '^Executed ' "$log")
		if [ "$rc" -eq 0 ] && [ "$ran" -eq "$n" ]; then
			echo "PASS  $name: $n inputs"
			passed=$((passed + 1))
		else
			echo "FAIL  $name: exit $rc, $ran of $n inputs ran"
			grep -v '^Executed \|^Running: \|^INFO: ' "$log" | \
			    head -n 60 | sed 's/^/      /'
			failed=$((failed + 1))
		fi
		continue
	fi
	work=$FUZZ_B/corpus/$name
	art=$FUZZ_B/artifacts/$name
	mkdir -p "$work" "$art"
	# Leak checks run LeakSanitizer after every input that leaks, and
	# libconfig 1.5 leaks on each syntax error (fuzz.h): they would cut
	# the config targets' speed tenfold.  So the timed run looks for
	# crashes only, and every input it kept is then replayed once with
	# leak checks on (-runs=0 executes the corpus and stops).
	# shellcheck disable=SC2086 # FUZZ_ARGS is a word list
	"$bin" -detect_leaks=0 $FUZZ_ARGS -max_total_time="$secs" \
	    -timeout=10 -print_final_stats=1 -artifact_prefix="$art/" \
	    "$work" "$corpus" > "$FUZZ_B/$name.log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		# shellcheck disable=SC2086
		"$bin" -detect_leaks=1 $FUZZ_ARGS -runs=0 \
		    -artifact_prefix="$art/" "$work" "$corpus" \
		    > "$FUZZ_B/$name.leaks.log" 2>&1
		rc=$?
		if [ "$rc" -ne 0 ] || grep -q 'leak has been found' \
		    "$FUZZ_B/$name.leaks.log"; then
			echo "FAIL  $name: a kept input leaks (log" \
			    "$FUZZ_B/$name.leaks.log)"
			grep -A 12 'ERROR: LeakSanitizer' \
			    "$FUZZ_B/$name.leaks.log" | head -n 30 | \
			    sed 's/^/      /'
			failed=$((failed + 1))
			continue
		fi
	fi
	last=$(grep -E '^#[0-9]+' "$FUZZ_B/$name.log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$FUZZ_B/$name.log")
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		echo "PASS  $name: ${secs}s, ${execs:-?} execs, cov ${cov:-?}," \
		    "ft ${ft:-?} (log $FUZZ_B/$name.log)"
		passed=$((passed + 1))
	else
		echo "FAIL  $name: exit $rc after ${execs:-?} execs; crash in" \
		    "$art/ (log $FUZZ_B/$name.log)"
		grep -A 30 -E '^==[0-9]+==ERROR|invariant broken|runtime error' \
		    "$FUZZ_B/$name.log" | head -n 40 | sed 's/^/      /'
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]

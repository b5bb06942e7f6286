#!/bin/sh
# run-unit.sh BINARY...: runs each check(3) unit test binary, shows its
# output, and ends with "N passed, N failed, N skipped" summed over every
# binary's checks.  Exits 1 when anything failed.
#
# A binary that is missing, crashes before its summary, or exits non-zero
# with no failed check counts as one failure: a test that did not run is
# never counted as passed.  check(3) has no skipped tests, so the skipped
# count stays 0; it is printed for the same last line as the other runners.

set -u

if [ $# -eq 0 ]; then
	echo "usage: $0 BINARY..." >&2
	exit 2
fi

out=$(mktemp "${TMPDIR:-/tmp}/run-unit.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
trap 'exit 2' HUP INT TERM

passed=0
failed=0
skipped=0

for bin in "$@"; do
	echo "== $bin"
	case $bin in
	*/*)	path=$bin ;;
	*)	path=./$bin ;;
	esac
	if [ ! -x "$path" ]; then
		echo "FAIL: $bin: not built or not executable"
		failed=$((failed + 1))
		continue
	fi
	"$path" >"$out" 2>&1
	status=$?
	cat "$out"
	# check prints "100%: Checks: 12, Failures: 0, Errors: 0".
	summary=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\)$/\1 \2 \3/p' "$out" | tail -n 1)
	if [ -z "$summary" ]; then
		echo "FAIL: $bin: exited $status without a check summary"
		failed=$((failed + 1))
		continue
	fi
	checks=${summary%% *}
	errors=${summary##* }
	failures=${summary#* }
	failures=${failures%% *}
	passed=$((passed + checks - failures - errors))
	failed=$((failed + failures + errors))
	if [ "$status" -ne 0 ] && [ $((failures + errors)) -eq 0 ]; then
		echo "FAIL: $bin: exited $status with no failed check"
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/bin/sh
# test/tsan.sh [t_NAME ...]: the reload and SWRR integration tests (or the
# ones named) against a ThreadSanitizer build of lb4, lb4ctl and the test
# tools, in build-tsan/ (`make B=build-tsan SANITIZE=thread all tools`).
#
# lb4 runs with halt_on_error=1 and exitcode=66, so the first race report
# kills it and fails the test (its exit status and the "no sanitizer
# report" check of lib.sh both catch it).  test/tsan.supp lists the races
# that are benign by design, each by function name with the reason.
#
# Environment:
#   TSAN_B       build directory (default build-tsan)
#   TSAN_SURVEY  1: do not halt on the first report, so that one run lists
#                every race (each test still fails on any report)
#   plus run.sh's (LB4_SPLICE_MODES, LB4_TEST_TIMEOUT, LB4_TEST_LOGS).
# Ends with run.sh's "N passed, N failed, N skipped"; exits 1 on failure.
# The reports are in each test's log (build-tsan/itest-logs/ by default).

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TSAN_B=${TSAN_B:-build-tsan}
case $TSAN_B in /*) B=$TSAN_B ;; *) B=$ROOT/$TSAN_B ;; esac

make -s -C "$ROOT" B="$B" SANITIZE=thread all tools || exit 1

halt=1
[ "${TSAN_SURVEY:-0}" = 1 ] && halt=0
# ':'-separated: LB4_WRAP is split on blanks.  history_size=4 keeps
# enough of the past to name the other access of a race on a busy worker.
opts="halt_on_error=$halt:exitcode=66:history_size=4"
opts="$opts:second_deadlock_stack=1:suppressions=$ROOT/test/tsan.supp"
case $ROOT in *[[:space:]:]*)
	echo "tsan.sh: $ROOT: a path with blanks or ':' cannot be passed" \
	    "in TSAN_OPTIONS" >&2
	exit 2 ;;
esac

export LB4="$B/lb4" LB4CTL="$B/lb4ctl" TOOLS="$B/tools"
# Through LB4_WRAP the options reach lb4 alone (the tools keep TSan's
# defaults: a race in them still fails their exit status), and lib.sh
# gives a wrapped lb4 six times the time to start, stop and converge.
export LB4_WRAP="env TSAN_OPTIONS=$opts"
export LB4_TEST_LOGS="${LB4_TEST_LOGS:-$B/itest-logs}"

if [ $# -eq 0 ]; then
	set -- t_reload_health t_reload_state t_reload_storm t_swrr \
	    t_health_reload
fi
exec "$ROOT/test/integration/run.sh" "$@"

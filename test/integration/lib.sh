# shellcheck shell=bash
# test/integration/lib.sh: sourced by every test/integration/t_*.sh.
#
# A test starts backends (build/tools/tback) and lb4 with a config written
# from a here-doc, drives build/tools/tclient, and asserts on exit codes,
# bytes and log lines.  Everything runs on 127.0.0.1 / ::1, every wait is
# bounded, every process is stopped by PID, and the EXIT trap kills what is
# left and removes the temp dir.
#
# Exit status of a test: 0 pass, 1 fail, 77 skip ("SKIP: why" printed).
#
# Environment:
#   LB4         the daemon (default: build/lb4 of this tree)
#   LB4CTL      the control client (default: build/lb4ctl)
#   LB4_SPLICE  true|false, written as global.splice into every config
#   LB4_WRAP    a command prefix for lb4, e.g. "valgrind --error-exitcode=99"
#   LB4_AS_UNIT=1  run lb4 as the shipped unit does (etc/lb4.service): an
#               unprivileged user (LB4_UNIT_UID, default 61313, a uid of its
#               own so that no other process shares its per-user pipe
#               pages), only CAP_NET_BIND_SERVICE, LimitNOFILE=1048576;
#               needs root to set up (else the test SKIPs)
#   TOOLS       where tback and tclient are (default: build/tools)
#   LB4_SLOW    the slow-machine multiplier SLOW (a positive integer;
#               default 1, or 6 with a LB4_WRAP such as valgrind)
#   KEEP=1      keep the temp dir (its path is printed)

set -u

TNAME=$(basename "$0" .sh)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LB4=${LB4:-$ROOT/build/lb4}
LB4CTL=${LB4CTL:-$ROOT/build/lb4ctl}
TOOLS=${TOOLS:-$ROOT/build/tools}
TBACK=$TOOLS/tback
TCLIENT=$TOOLS/tclient
LB4_SPLICE=${LB4_SPLICE:-true}
LB4_WRAP=${LB4_WRAP:-}
LB4_AS_UNIT=${LB4_AS_UNIT:-0}
LB4_UNIT_UID=${LB4_UNIT_UID:-61313}
PORT_LOCKS=${TMPDIR:-/tmp}/lb4-itest-ports
CLK_TCK=$(getconf CLK_TCK)

# SLOW, the slow-machine multiplier: every time limit a test waits for
# (wait_until, wait_log, stop_lb4) is multiplied by it, and so is every
# upper time bound a test asserts ($((N * SLOW))).  Lower bounds are not:
# they are the point (nothing happens early).  A wrapper such as valgrind
# makes start-up and shutdown slower; a sanitizer build (make check) or a
# loaded machine sets LB4_SLOW.  A test that needs more (namespaces)
# multiplies it, never resets it.
if [ -n "${LB4_SLOW:-}" ]; then
	SLOW=$LB4_SLOW
elif [ -n "$LB4_WRAP" ]; then
	SLOW=6
else
	SLOW=1
fi
[[ $SLOW =~ ^[1-9][0-9]*$ ]] || {
	echo "LB4_SLOW must be a positive integer, not '$SLOW'" >&2; exit 1; }

case $LB4_SPLICE in
true|false) ;;
*) echo "LB4_SPLICE must be true or false, not '$LB4_SPLICE'" >&2; exit 1 ;;
esac

T=$(mktemp -d "${TMPDIR:-/tmp}/lb4-it.$TNAME.XXXXXX") || exit 1
PIDS=()			# every background process started, stopped in cleanup
FAILS=0
LB4_PID=
LB4_LOG=
declare -A BACK_PID	# tback name -> pid
T_START=${EPOCHREALTIME/./}

# ------------------------------------------------------------------ output

# Milliseconds since the epoch, without forking.
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

say() {
	local t=${EPOCHREALTIME/./}
	printf '[%s +%d.%03ds] %s\n' "$TNAME" $(((t - T_START) / 1000000)) \
	    $(((t - T_START) / 1000 % 1000)) "$*"
}

# A failed check: printed at once, counted, and the test goes on so that
# one run shows every problem.  finish() turns the count into the status.
fail() {
	echo "FAIL: $TNAME (splice=$LB4_SPLICE): $*" >&2
	FAILS=$((FAILS + 1))
}

# A failure after which the test cannot go on.
fatal() {
	fail "$@"
	exit 1
}

skip() {
	echo "SKIP: $TNAME: $*"
	exit 77
}

finish() {
	if [ "$FAILS" -gt 0 ]; then
		echo "$TNAME (splice=$LB4_SPLICE): $FAILS check(s) failed"
		exit 1
	fi
	echo "PASS: $TNAME (splice=$LB4_SPLICE)"
	exit 0
}

# ------------------------------------------------------------- assertions

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: expected '$2', got '$3'"
		return 1
	fi
	say "ok: $1 = '$3'"
}

# assert_rc WHAT EXPECTED ACTUAL  (exit statuses, with tclient's meanings)
assert_rc() {
	if [ "$2" != "$3" ]; then
		fail "$1: expected exit $2 ($(rc_name "$2")), got $3 ($(rc_name "$3"))"
		return 1
	fi
	say "ok: $1: exit $3 ($(rc_name "$3"))"
}

rc_name() {
	case $1 in
	0) echo ok ;; 1) echo "data mismatch/early EOF" ;; 2) echo usage ;;
	3) echo refused ;; 4) echo reset ;; 5) echo timeout ;; 6) echo error ;;
	77) echo skip ;; 124) echo "killed by timeout(1)" ;;
	*) echo "?" ;;
	esac
}

# assert_range WHAT LO HI ACTUAL  (integers, inclusive)
assert_range() {
	if ! [[ "$4" =~ ^-?[0-9]+$ ]] || [ "$4" -lt "$2" ] || [ "$4" -gt "$3" ]; then
		fail "$1: expected $2..$3, got '$4'"
		return 1
	fi
	say "ok: $1 = $4 (within $2..$3)"
}

# assert_grep WHAT ERE FILE
assert_grep() {
	if ! grep -qE -- "$2" "$3"; then
		fail "$1: no line matching /$2/ in $(basename "$3"); it holds:"
		sed 's/^/    | /' "$3" | tail -n 20 >&2
		return 1
	fi
	say "ok: $1"
}

# assert_no_grep WHAT ERE FILE
assert_no_grep() {
	if grep -qE -- "$2" "$3"; then
		fail "$1: unexpected line(s) matching /$2/ in $(basename "$3"):"
		grep -E -- "$2" "$3" | head -n 10 | sed 's/^/    | /' >&2
		return 1
	fi
	say "ok: $1"
}

# kv LINE KEY: the value of KEY=VALUE in LINE (tclient's ping/hold lines).
kv() {
	local w
	for w in $1; do
		case $w in
		"$2"=*) echo "${w#*=}"; return 0 ;;
		esac
	done
	echo ""
}

# ------------------------------------------------------------------- ports

# ss(8) asks the kernel to filter (netlink); reading /proc/net/tcp is the
# fallback, and slow when the host holds many sockets (TIME_WAIT after a
# busy test run can leave tens of thousands).
if command -v ss > /dev/null 2>&1; then
	HAVE_SS=1
else
	HAVE_SS=0
fi

# port_in_use PORT: any TCP socket, in any state, has PORT as local port.
port_in_use() {
	local hex
	if [ $HAVE_SS = 1 ]; then
		[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null | head -n 1)" ]
		return
	fi
	hex=$(printf ':%04X ' "$1")
	grep -qF -- "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Prints a port in 21000-29999 that nothing uses and no other test run
# has reserved (a directory in $PORT_LOCKS, owned by this test's $$).
free_port() {
	local p _ owner
	mkdir -p "$PORT_LOCKS" 2>/dev/null
	for _ in $(seq 1 500); do
		p=$((21000 + (RANDOM * 32768 + RANDOM) % 9000))
		port_in_use "$p" && continue
		if mkdir "$PORT_LOCKS/$p" 2>/dev/null; then
			echo $$ > "$PORT_LOCKS/$p/owner"
			echo "$p"
			return 0
		fi
		owner=$(cat "$PORT_LOCKS/$p/owner" 2>/dev/null)
		if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
			rm -rf "${PORT_LOCKS:?}/$p"	# left by a killed run
		fi
	done
	echo "free_port: no free port in 21000-29999" >&2
	echo 1
	return 1
}

release_ports() {
	local d
	for d in "$PORT_LOCKS"/*/; do
		[ -f "$d/owner" ] || continue
		[ "$(cat "$d/owner" 2>/dev/null)" = "$$" ] && rm -rf "$d"
	done
}

# is_listening PORT: some socket listens on PORT (v4 or v6).  Asks the
# kernel, never connects: a probe connection through lb4 would consume a pick.
is_listening() {
	local hex
	if [ $HAVE_SS = 1 ]; then
		[ -n "$(ss -Htln "( sport = :$1 )" 2>/dev/null | head -n 1)" ]
		return
	fi
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'substr($2, length($2) - 4) == p && $4 == "0A" \
	    { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# ------------------------------------------------------------- processes

# alive PID: the process exists and is not a zombie.
alive() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# cpu_ms PID: user+system CPU time used so far, in ms.
cpu_ms() {
	local s fld
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	read -r -a fld <<< "$s"
	# After "comm)", field 3 (state) is fld[0]; utime is 14, stime 15.
	echo $(((fld[11] + fld[12]) * 1000 / CLK_TCK))
}

# wait_until SECONDS CMD...: runs CMD every 50 ms until it succeeds, for
# at most SECONDS x SLOW.
wait_until() {
	local limit=$(( $(now_ms) + $1 * SLOW * 1000 ))
	shift
	while ! "$@"; do
		[ "$(now_ms)" -ge "$limit" ] && return 1
		sleep 0.05
	done
	return 0
}

# start_back NAME ARGS...: tback ARGS, log $T/NAME.log, ready when it has
# written its pid file (after listen()).  Sets BACK_PID[NAME].
start_back() {
	local name=$1 pid
	shift
	"$TBACK" --pidfile "$T/$name.pid" "$@" > "$T/$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	# shellcheck disable=SC2034 # read by the tests
	BACK_PID[$name]=$pid
	if ! wait_until 5 test -s "$T/$name.pid"; then
		cat "$T/$name.log" >&2
		fatal "backend $name ($*) did not start"
	fi
}

# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 5).
stop_pid() {
	local pid=$1 limit=${2:-5}
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	if ! wait_until "$limit" eval '! alive '"$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait_until 2 eval '! alive '"$pid"
	fi
}

# ----------------------------------------------------------------- configs

# write_conf NAME < here-doc: writes $T/NAME.conf.  global.splice is set
# from LB4_SPLICE, and control_socket, health_file and shutdown_timeout_ms
# get test-local values unless the here-doc sets them.  They go on the
# "global = {" line (or a new first line when there is no global block).
write_conf() {
	local f=$T/$1.conf body inject=
	body=$(cat)
	grep -qw splice <<< "$body" || inject+=" splice = $LB4_SPLICE;"
	grep -qw control_socket <<< "$body" ||
	    inject+=" control_socket = \"$T/lb4.sock\";"
	grep -qw health_file <<< "$body" ||
	    inject+=" health_file = \"$T/health\";"
	grep -qw shutdown_timeout_ms <<< "$body" ||
	    inject+=" shutdown_timeout_ms = 3000;"
	if grep -qE '^[[:space:]]*global[[:space:]]*[=:][[:space:]]*\{' \
	    <<< "$body"; then
		body=$(sed -E "0,/^([[:space:]]*global[[:space:]]*[=:][[:space:]]*\{)/s##\1$inject#" <<< "$body")
	else
		body="global = {$inject };"$'\n'"$body"
	fi
	printf '%s\n' "$body" > "$f"
}

# The ports of every "bind = [ ... ]" of a config (each on one line).
conf_ports() {
	grep -oE 'bind[[:space:]]*=[[:space:]]*\[("[^"]*"|[[:space:],])*\]' "$1" |
	    grep -oE ':[0-9]+"' | tr -d ':"'
}

# start_lb4 CONFNAME [LOGNAME]: runs lb4 (under LB4_WRAP) on $T/CONFNAME.conf
# with its stderr in $T/LOGNAME.log (default lb4); ready when every bind
# port listens.  Sets LB4_PID and LB4_LOG.
start_lb4() {
	local conf=$T/$1.conf p
	LB4_LOG=$T/${2:-lb4}.log
	[ -x "$LB4" ] || fatal "no lb4 binary at $LB4 (build it, or set LB4=)"
	# shellcheck disable=SC2086  # LB4_WRAP is a word list on purpose
	$LB4_WRAP "$LB4" -c "$conf" > "$LB4_LOG" 2>&1 &
	LB4_PID=$!
	PIDS+=("$LB4_PID")
	for p in $(conf_ports "$conf"); do
		if ! wait_until 10 eval \
		    'is_listening '"$p"' || ! alive '"$LB4_PID"; then
			fatal "lb4 is not listening on port $p after $((10 * SLOW)) s"
		fi
		if ! alive "$LB4_PID"; then
			wait "$LB4_PID"
			echo "lb4 exited with status $? at start-up; its log:" >&2
			sed 's/^/    | /' "$LB4_LOG" >&2
			fatal "lb4 did not start"
		fi
	done
	say "lb4 pid $LB4_PID listening on $(conf_ports "$conf" | tr '\n' ' ')"
	if [ "$LB4_AS_UNIT" = 1 ]; then
		# As the unit runs it, or the test proves nothing about it.
		{ [ "$(awk '/^Uid:/ { print $3 }' /proc/$LB4_PID/status)" = \
		    "$LB4_UNIT_UID" ] &&
		    grep -q '^CapEff:[[:space:]]*0*400$' /proc/$LB4_PID/status; } ||
		    fatal "lb4 does not run as uid $LB4_UNIT_UID with only CAP_NET_BIND_SERVICE"
	fi
}

# lb4_wait_exit SECONDS: waits (SECONDS x SLOW) for lb4 to exit by itself; kills
# it (and fails) when it does not.  Sets LB4_STATUS (its exit status) and
# clears LB4_PID.  Returns 1 when it had to be killed.
lb4_wait_exit() {
	local r=0
	if ! wait_until "$1" eval '! alive '"$LB4_PID"; then
		fail "lb4 (pid $LB4_PID) still running after $(($1 * SLOW)) s; killing it"
		kill -KILL "$LB4_PID" 2>/dev/null
		r=1
	fi
	wait "$LB4_PID"
	LB4_STATUS=$?
	LB4_PID=
	return $r
}

# stop_lb4 [EXPECTED_STATUS] [SECONDS]: SIGTERM, wait (SECONDS x SLOW,
# default 10), check the
# exit status (0 by default; a LB4_WRAP such as valgrind reports its
# findings through it) and the log.  Sets LB4_STOP_MS and LB4_STATUS.
stop_lb4() {
	local want=${1:-0} limit=${2:-10} t0
	[ -n "$LB4_PID" ] || return 0
	t0=$(now_ms)
	kill -TERM "$LB4_PID" 2>/dev/null
	lb4_wait_exit "$limit"
	# shellcheck disable=SC2034 # read by the tests
	LB4_STOP_MS=$(( $(now_ms) - t0 ))
	assert_eq "lb4 exit status after SIGTERM" "$want" "$LB4_STATUS"
	check_lb4_log
}

# bg_client NAME ARGS...: tclient ARGS in the background, its output in
# $T/NAME.out.  tclient bounds itself (-T, 30 s by default).
declare -A CLIENT_PID
bg_client() {
	local name=$1
	shift
	"$TCLIENT" "$@" > "$T/$name.out" 2>&1 &
	CLIENT_PID[$name]=$!
	PIDS+=("$!")
}

# wait_client NAME: waits for a bg_client, prints its output, returns its
# exit status.
wait_client() {
	local rc
	wait "${CLIENT_PID[$1]}"
	rc=$?
	sed "s/^/$1: /" "$T/$1.out"
	return $rc
}

# check_lb4_log [LOG]: every line lb4 wrote has a "<N>" level prefix (lines
# of a LB4_WRAP tool such as valgrind's "==PID==" aside) and there is no
# sanitizer or valgrind error report.
check_lb4_log() {
	local log=${1:-$LB4_LOG}
	assert_no_grep "lb4 log lines all carry a <3>/<4>/<6>/<7> prefix" \
	    '^([^<=]|<[^3467]|=[^=]|$)' "$log"
	assert_no_grep "no sanitizer or valgrind report in the lb4 log" \
	    'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:|ERROR SUMMARY: [1-9]|definitely lost: [1-9]' \
	    "$log"
}

# ----------------------------------------------------------------- cleanup

# The first line of a sanitizer report (ASan, LSan, UBSan, TSan).
SAN_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|ThreadSanitizer|ERROR: UndefinedBehaviorSanitizer'

cleanup() {
	local rc=$? pid f
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait_until 3 eval '! alive '"$pid" || kill -KILL "$pid" 2>/dev/null
	done
	# A sanitizer report in any log of the test (an lb4 it stopped, one
	# the loop above stopped, a second lb4) fails a test that passed its
	# checks: the lb4 of a sanitizer build may go on after a report (a
	# leak is reported at exit), so its exit status alone is not enough.
	for f in "$T"/*.log; do
		{ [ "$rc" -eq 0 ] && [ -f "$f" ]; } || continue
		grep -qE "$SAN_RE" "$f" || continue
		echo "FAIL: $TNAME (splice=$LB4_SPLICE): a sanitizer report in" \
		    "$(basename "$f"):" >&2
		grep -m 1 -A 12 -E "$SAN_RE" "$f" | sed 's/^/    | /' >&2
		rc=1
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- last lines of $(basename "$f")" >&2
			tail -n 25 "$f" | sed 's/^/    | /' >&2
		done
	fi
	release_ports
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The shipped unit's user, capabilities and limits (etc/lb4.service:
# User=lb4, AmbientCapabilities= and CapabilityBoundingSet=
# CAP_NET_BIND_SERVICE, LimitNOFILE=1048576), prepended to LB4_WRAP.  The
# temp dir is opened to that user (control socket, health file).
if [ "$LB4_AS_UNIT" = 1 ]; then
	if [ "$(id -u)" != 0 ] || ! command -v setpriv > /dev/null ||
	    ! command -v prlimit > /dev/null; then
		echo "SKIP: $TNAME: LB4_AS_UNIT=1 needs root, setpriv and prlimit"
		exit 77
	fi
	chmod 0777 "$T"
	# The unit's 1048576, or the hard limit this test runs under when
	# lower (raising it needs CAP_SYS_RESOURCE, which a container may
	# not grant even to root).
	UNIT_NOFILE=$(ulimit -Hn)
	[ "$UNIT_NOFILE" = unlimited ] || [ "$UNIT_NOFILE" -gt 1048576 ] &&
	    UNIT_NOFILE=1048576
	LB4_WRAP="prlimit --nofile=$UNIT_NOFILE setpriv --reuid=$LB4_UNIT_UID \
	    --regid=$LB4_UNIT_UID --clear-groups --inh-caps=-all,+net_bind_service \
	    --ambient-caps=-all,+net_bind_service \
	    --bounding-set=-all,+net_bind_service $LB4_WRAP"
fi

{ [ -x "$TBACK" ] && [ -x "$TCLIENT" ]; } ||
    fatal "test tools missing in $TOOLS (run: make tools)"

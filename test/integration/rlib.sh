# shellcheck shell=bash
# test/integration/rlib.sh: sourced after lib.sh by the reload lifetime
# tests (issue 12: t_reload_*.sh regressions and reload_torture.sh).
#
#   use_conf NAME      makes $T/NAME.conf the file lb4 reads ($CONF), by
#                      rename, so lb4 never reads half a file
#   ctl ARGS...        lb4ctl on the test's control socket
#   reloads_ok         "reloaded" lines in lb4's log so far
#   sanitizer_report   prints the first lines of a sanitizer report in
#                      lb4's log (empty when there is none)
#   lb4_gone WHAT      fails (with the report) when lb4 is dead
#   metric NAME        a value from /metrics at $M (empty when absent)

CONF=$T/lb4.conf
use_conf() { cp "$T/$1.conf" "$CONF.tmp" && mv "$CONF.tmp" "$CONF"; }
ctl() { "$LB4CTL" -s "$T/lb4.sock" "$@"; }
reloads_ok() { grep -c '^<6>reloaded ' "$LB4_LOG"; }

# SAN_RE (the first line of a sanitizer report) is lib.sh's.

# shellcheck disable=SC2120  # LOG is optional
sanitizer_report() {
	local log=${1:-$LB4_LOG}
	awk -v re="$SAN_RE" '
	    !on && $0 ~ re { on = 1 }
	    !on { next }
	    /^SUMMARY:/ { print; exit }
	    $0 ~ re || /^(READ|WRITE) of|freed by|previously allocated/ {
		print; k = 0; next }
	    /^ *#[0-9]+ / && k++ < 3 { print }' "$log" 2>/dev/null |
	    head -n 20
}

# lb4_gone WHAT: 0 (and a FAIL naming WHAT, the sanitizer's report, or
# the exit status) when lb4 is no longer running; 1 when it is alive.
lb4_gone() {
	local rep
	alive "$LB4_PID" && return 1
	rep=$(sanitizer_report)
	if [ -n "$rep" ]; then
		fail "lb4 died $1 with a sanitizer report:"
		# shellcheck disable=SC2001 # a prefix on every line
		sed 's/^/    | /' <<< "$rep" >&2
	else
		fail "lb4 died $1; last log lines:"
		tail -n 10 "$LB4_LOG" | sed 's/^/    | /' >&2
	fi
	return 0
}

metric() {
	curl -s --max-time 5 "http://127.0.0.1:$M/metrics" 2>/dev/null |
	    awk -v n="$1" '$1 == n { print $2; exit }'
}

# long_ok OUTFILE MIN: how many "conn" lines of a stream tclient ended
# byte-exact (sent == received, same SHA-256, eof, rc 0) with at least
# MIN bytes each way.
long_ok() {
	awk -v min="$2" '$1 == "conn" && $4 >= min && $7 == $4 &&
	    $5 == $8 && $10 == "eof" && $14 == 0' "$1" | wc -l
}

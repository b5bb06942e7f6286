# shellcheck shell=bash
# test/integration/hlib.sh: helpers for the health check tests, sourced
# after lib.sh.  lb4 runs with log_level = "debug" in these tests, so every
# check result is a line: "server POOL/ADDR: check passed|failed (N in a
# row)...", and every change "server POOL/ADDR is up|down...".

# wait_log SECONDS ERE [FILE]: polls (every 20 ms, for at most SECONDS x
# SLOW) until a line of the lb4 log matches.  Returns 1 on timeout.
wait_log() {
	local limit=$(( $(now_ms) + $1 * SLOW * 1000 )) f=${3:-$LB4_LOG}
	while ! grep -qE -- "$2" "$f" 2>/dev/null; do
		[ "$(now_ms)" -ge "$limit" ] && return 1
		sleep 0.02
	done
	return 0
}

# expect_log WHAT SECONDS ERE: wait_log, failing the test on timeout.
expect_log() {
	if wait_log "$2" "$3"; then
		say "ok: $1"
	else
		fail "$1: no line matching /$3/ within $(($2 * SLOW)) s; the log ends:"
		tail -n 15 "$LB4_LOG" | sed 's/^/    | /' >&2
	fi
}

# count_log ERE [FILE]: how many lines of the lb4 log match.
count_log() {
	grep -cE -- "$1" "${2:-$LB4_LOG}"
}

# Escapes the dots of an address for an ERE.
re() {
	printf '%s' "$1" | sed 's/[.[\]]/\\&/g'
}

# wait_count SECONDS N ERE: polls (bounded) until at least N lines of the
# lb4 log match.  Returns 1 on timeout.
wait_count() {
	local limit=$(( $(now_ms) + $1 * 1000 ))
	while [ "$(grep -cE -- "$3" "$LB4_LOG" 2>/dev/null)" -lt "$2" ]; do
		[ "$(now_ms)" -ge "$limit" ] && return 1
		sleep 0.02
	done
	return 0
}

# expect_count WHAT SECONDS N ERE: wait_count, failing the test on timeout.
expect_count() {
	if wait_count "$2" "$3" "$4"; then
		say "ok: $1"
	else
		fail "$1: fewer than $3 lines matching /$4/ within $2 s; the log ends:"
		tail -n 15 "$LB4_LOG" | sed 's/^/    | /' >&2
	fi
}

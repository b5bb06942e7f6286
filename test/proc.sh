# shellcheck shell=bash
# test/proc.sh: process helpers shared by the namespace tests
# (test/pair/run.sh, test/pair/vipmove.sh, test/ecmp/run.sh,
# test/packages/deploy.sh).  Source it; bash.

# stop_pid PID: CONT (a test may have frozen it), TERM, up to
# STOP_PID_TENTHS tenths of a second (default 30) for it to go, then KILL;
# reaped when it is a child of this shell.  An empty PID is a no-op.
stop_pid() {
	local p=$1
	[ -n "$p" ] || return 0
	kill -CONT "$p" 2>/dev/null
	kill -TERM "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
	for _ in $(seq "${STOP_PID_TENTHS:-30}"); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

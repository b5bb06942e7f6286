#!/bin/bash
# ok() and bad() always return 0, so "test && ok || bad" is safe here.
# shellcheck disable=SC2015
# test/pair/hooks.sh: the VRRP hooks (vrrp-hooks/) on their own, against a
# stub lb4ctl: missing lb4ctl, missing socket, unhealthy, unreachable, hung,
# garbage, FIFO ordering, failing and hanging site hooks.  Needs no root and
# no network; every wait is bounded.  Ends with "N passed, N failed, N
# skipped".
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
H=$ROOT/vrrp-hooks
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "PASS: hooks: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: hooks: $*"; }
skipped() { skip=$((skip + 1)); echo "SKIP: hooks: $*"; }

W=$(mktemp -d /tmp/lb4-hooks.XXXXXX)
BG=
cleanup() {
	[ -n "$BG" ] && kill "$BG" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# expect NAME WANT_RC GREP_RE CMD...: run CMD (stdin from /dev/null), check
# its status and that its stderr matches GREP_RE ('' = must be empty).
expect() {
	local name=$1 want=$2 re=$3 rc
	shift 3
	"$@" </dev/null >"$W/out" 2>"$W/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		bad "$name: status $rc, want $want ($(head -c 300 "$W/err"))"
	elif [ -z "$re" ] && [ -s "$W/err" ]; then
		bad "$name: unexpected message: $(head -c 300 "$W/err")"
	elif [ -n "$re" ] && ! grep -Eq "$re" "$W/err"; then
		bad "$name: message '$(head -c 300 "$W/err")' does not match /$re/"
	elif [ -n "$re" ] && [ "$(wc -l <"$W/err")" -ne 1 ]; then
		bad "$name: want one line, got: $(cat "$W/err")"
	else
		ok "$name"
	fi
}

# ---- shellcheck -------------------------------------------------------
if command -v shellcheck >/dev/null 2>&1; then
	for f in check-lb4 mark-down notify; do
		if shellcheck -s sh "$H/$f" >"$W/sc" 2>&1; then
			ok "shellcheck $f"
		else
			bad "shellcheck $f: $(head -c 500 "$W/sc")"
		fi
	done
else
	skipped "shellcheck not installed"
fi
for f in check-lb4 mark-down notify; do
	if head -1 "$H/$f" | grep -qx '#!/bin/sh' && sh -n "$H/$f"; then
		ok "$f is POSIX sh (#!/bin/sh, sh -n)"
	else
		bad "$f: not a /bin/sh script"
	fi
done

# ---- check-lb4 ----------------------------------------------------------
mkdir -p "$W/bin" "$W/empty"
cat >"$W/bin/lb4ctl" <<'STUB'
#!/bin/sh
# stub lb4ctl: behaviour from $STUB_MODE; records its arguments.
echo "$*" >"$STUB_ARGS"
case $STUB_MODE in
ok) exit 0 ;;
unhealthy) echo "lb4ctl: unhealthy: no server can take a connection (pool web)" >&2; exit 1 ;;
unreachable) echo "lb4ctl: cannot reach lb4: Connection refused" >&2; exit 2 ;;
hang) sleep 30; exit 0 ;;
crash) exit 139 ;;
esac
STUB
chmod 755 "$W/bin/lb4ctl"
export STUB_ARGS=$W/stub.args
sock=$W/lb4.sock
# A real unix socket file (nothing needs to listen: the stub never connects).
if perl -MSocket -e 'socket(S, PF_UNIX, SOCK_STREAM, 0) or die;
    bind(S, pack_sockaddr_un($ARGV[0])) or die' "$sock" 2>/dev/null &&
    [ -S "$sock" ]; then
	have_sock=1
else
	have_sock=0
fi

expect "check-lb4: LB4CTL not executable" 1 'LB4CTL=.*not an executable' \
    env LB4CTL="$W/nope" LB4_SOCKET="$sock" "$H/check-lb4"
if [ -e /usr/sbin/lb4ctl ] || [ -e /usr/local/sbin/lb4ctl ]; then
	skipped "check-lb4: lb4ctl not found (an lb4ctl is installed here)"
else
	expect "check-lb4: lb4ctl not on PATH" 1 'lb4ctl not found' \
	    env -u LB4CTL PATH="$W/empty:/usr/bin:/bin" LB4_SOCKET="$sock" \
	    /bin/sh "$H/check-lb4"
fi
expect "check-lb4: missing socket" 1 "control socket $W/none.sock missing" \
    env LB4CTL="$W/bin/lb4ctl" STUB_MODE=ok LB4_SOCKET="$W/none.sock" \
    "$H/check-lb4"
expect "check-lb4: not a socket" 1 'not a unix socket' \
    env LB4CTL="$W/bin/lb4ctl" STUB_MODE=ok "$H/check-lb4" -s "$W/bin/lb4ctl"
expect "check-lb4: garbage argument" 2 "unexpected argument 'foo'" \
    env LB4CTL="$W/bin/lb4ctl" "$H/check-lb4" foo
expect "check-lb4: bad timeout" 2 "timeout 'x'" \
    env LB4CTL="$W/bin/lb4ctl" "$H/check-lb4" -t x
if [ $have_sock -eq 1 ]; then
	expect "check-lb4: healthy" 0 '' \
	    env LB4CTL="$W/bin/lb4ctl" STUB_MODE=ok LB4_SOCKET="$sock" \
	    "$H/check-lb4"
	if [ "$(cat "$STUB_ARGS")" = "-s $sock health" ]; then
		ok "check-lb4: runs 'lb4ctl -s SOCKET health'"
	else
		bad "check-lb4: ran lb4ctl with '$(cat "$STUB_ARGS")'"
	fi
	expect "check-lb4: -s overrides LB4_SOCKET" 0 '' \
	    env LB4CTL="$W/bin/lb4ctl" STUB_MODE=ok LB4_SOCKET="$W/none" \
	    "$H/check-lb4" -s "$sock"
	PATH="$W/bin:$PATH" expect "check-lb4: lb4ctl from PATH" 0 '' \
	    env -u LB4CTL STUB_MODE=ok LB4_SOCKET="$sock" "$H/check-lb4"
	expect "check-lb4: unhealthy" 1 'lb4 reports unhealthy: .*no server' \
	    env LB4CTL="$W/bin/lb4ctl" STUB_MODE=unhealthy LB4_SOCKET="$sock" \
	    "$H/check-lb4"
	expect "check-lb4: unreachable" 1 "cannot reach lb4 at $sock" \
	    env LB4CTL="$W/bin/lb4ctl" STUB_MODE=unreachable \
	    LB4_SOCKET="$sock" "$H/check-lb4"
	expect "check-lb4: lb4ctl crashes" 1 'unexpected status 139' \
	    env LB4CTL="$W/bin/lb4ctl" STUB_MODE=crash LB4_SOCKET="$sock" \
	    "$H/check-lb4"
	t0=$(date +%s%N)
	expect "check-lb4: hung lb4ctl" 1 'no answer from lb4 within 1s' \
	    env LB4CTL="$W/bin/lb4ctl" STUB_MODE=hang LB4_SOCKET="$sock" \
	    "$H/check-lb4" -t 1
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ $ms -lt 2900 ]; then
		ok "check-lb4: hung lb4ctl given up after ${ms} ms"
	else
		bad "check-lb4: hung lb4ctl took ${ms} ms (timeout 1 s)"
	fi
else
	skipped "check-lb4: cannot make a unix socket file (perl Socket)"
fi

# ---- mark-down ------------------------------------------------------------
f=$W/run/lb4/health
expect "mark-down: creates directory and file" 0 '' "$H/mark-down" "$f"
[ "$(cat "$f" 2>/dev/null)" = 1 ] && ok "mark-down: file says 1" ||
    bad "mark-down: file says '$(cat "$f" 2>/dev/null)'"
printf '0\n' >"$f"
expect "mark-down: overwrites 0" 0 '' "$H/mark-down" "$f"
[ "$(od -An -c "$f" | tr -d ' ')" = '1\n' ] &&
    ok "mark-down: exactly \"1\\n\"" || bad "mark-down: content $(od -c "$f")"
[ -z "$(find "$W/run/lb4" -name '.health*')" ] &&
    ok "mark-down: no temporary file left" ||
    bad "mark-down: left $(ls -a "$W/run/lb4")"
printf '0\n' >"$f"
expect "mark-down -n: existing file kept" 0 '' "$H/mark-down" -n "$f"
[ "$(cat "$f")" = 0 ] && ok "mark-down -n: still 0" ||
    bad "mark-down -n: changed to $(cat "$f")"
expect "mark-down -n: missing file created" 0 '' \
    "$H/mark-down" --if-missing "$W/new/health"
[ "$(cat "$W/new/health" 2>/dev/null)" = 1 ] &&
    ok "mark-down -n: new file says 1" || bad "mark-down -n: no new file"
expect "mark-down: LB4_HEALTH_FILE" 0 '' \
    env LB4_HEALTH_FILE="$W/env/health" "$H/mark-down"
[ "$(cat "$W/env/health" 2>/dev/null)" = 1 ] &&
    ok "mark-down: LB4_HEALTH_FILE written" ||
    bad "mark-down: LB4_HEALTH_FILE not written"
expect "mark-down: directory given" 2 'is a directory' "$H/mark-down" "$W"
expect "mark-down: garbage arguments" 2 'usage' "$H/mark-down" a b
expect "mark-down: unknown option" 2 "unknown option '-x'" \
    "$H/mark-down" -x
expect "mark-down: cannot create directory" 1 'cannot create directory' \
    "$H/mark-down" /dev/null/lb4/health
# Atomicity: a reader polling the file never sees it empty or missing.
printf '0\n' >"$f"
(for _ in $(seq 200); do "$H/mark-down" "$f"; printf '0\n' >"$f.t";
    mv "$f.t" "$f"; done) &
w=$!
bad_reads=0
for _ in $(seq 2000); do
	v=$(cat "$f" 2>/dev/null)
	case $v in 0|1) ;; *) bad_reads=$((bad_reads + 1)) ;; esac
	kill -0 $w 2>/dev/null || break
done
wait $w
[ $bad_reads -eq 0 ] && ok "mark-down: readers never see a partial file" ||
    bad "mark-down: $bad_reads reads saw neither 0 nor 1"

# ---- notify ---------------------------------------------------------------
D=$W/vrrp.d
mkdir -p "$D"
cat >"$D/10-record" <<STUB
#!/bin/sh
echo "\$*" >>$W/events
STUB
cat >"$D/20-fail" <<'STUB'
#!/bin/sh
exit 3
STUB
cat >"$D/30-hang" <<STUB
#!/bin/sh
[ "\$3" = HANG ] && exec sleep 60
echo "\$2" >>$W/hang-ran
STUB
printf '#!/bin/sh\necho BAD >>%s/events\n' "$W" >"$D/40-old.dpkg-old"
printf '#!/bin/sh\necho BAD >>%s/events\n' "$W" >"$D/50-notexec"
printf '#!/bin/sh\necho BAD >>%s/events\n' "$W" >"$D/.hidden"
chmod 755 "$D/10-record" "$D/20-fail" "$D/30-hang" "$D/40-old.dpkg-old" \
    "$D/.hidden"

export LB4_VRRP_LOG=stderr LB4_VRRP_HOOK_DIR=$D LB4_VRRP_HOOK_TIMEOUT=1
t0=$(date +%s%N)
printf '%s\n' 'INSTANCE "VI_1" MASTER 200' 'garbage line' \
    'INSTANCE "VI_2" HANG 100' 'GROUP "G 1" BACKUP 0' \
    'INSTANCE "VI_1" FAULT 99x' 'INSTANCE VI_1 FAULT 200' \
    'INSTANCE "VI_1" STOP 0' | "$H/notify" >"$W/out" 2>"$W/err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
want='INSTANCE VI_1 MASTER 200
INSTANCE VI_2 HANG 100
GROUP G 1 BACKUP 0
INSTANCE VI_1 STOP 0'
[ $rc -eq 0 ] && ok "notify: stdin mode exits 0 at EOF" ||
    bad "notify: exit $rc"
[ "$(cat "$W/events" 2>/dev/null)" = "$want" ] &&
    ok "notify: hooks got every good event, in order, same arguments" ||
    bad "notify: hooks got: $(cat "$W/events" 2>/dev/null)"
[ "$(grep -c '(priority [0-9]*)$' "$W/err")" -eq 4 ] &&
    grep -q 'lb4-vrrp: INSTANCE VI_2: HANG (priority 100)' "$W/err" &&
    grep -q 'lb4-vrrp: INSTANCE VI_1 is now MASTER (priority 200)' \
    "$W/err" && ok "notify: each transition logged" ||
    bad "notify: log: $(cat "$W/err")"
[ "$(grep -c 'ignoring malformed line' "$W/err")" -eq 3 ] &&
    ok "notify: 3 garbage lines reported and skipped" ||
    bad "notify: garbage: $(grep malformed "$W/err")"
grep -q "20-fail INSTANCE VI_1 MASTER 200: failed with status 3" "$W/err" &&
    ok "notify: failing hook reported" || bad "notify: no failure logged"
grep -q "30-hang INSTANCE VI_2 HANG 100: killed after 1s" "$W/err" &&
    ok "notify: hanging hook killed at its timeout" ||
    bad "notify: hang not reported: $(cat "$W/err")"
[ "$(tr '\n' ' ' <"$W/hang-ran" 2>/dev/null)" = "VI_1 G 1 VI_1 " ] &&
    ok "notify: hooks after the hang still ran" ||
    bad "notify: 30-hang ran for: $(cat "$W/hang-ran" 2>/dev/null)"
[ $ms -lt 6000 ] && ok "notify: whole run took ${ms} ms (one 1 s hang)" ||
    bad "notify: took ${ms} ms"
grep -q BAD "$W/events" && bad "notify: ran a skipped file" ||
    ok "notify: skips non-executable, hidden and .dpkg-old files"

# FIFO mode, as keepalived runs it: lines in order, SIGTERM does not lose
# the lines written after it, exit at close.
rm -f "$W/events" "$W/hang-ran"
mkfifo "$W/fifo"
"$H/notify" "$W/fifo" 2>"$W/err" &
BG=$!
exec 7>"$W/fifo"
for i in $(seq 1 50); do
	printf 'INSTANCE "VI_%d" BACKUP 100\n' "$i" >&7
done
sleep 0.3
kill -TERM $BG
sleep 0.2
echo 'INSTANCE "VI_1" STOP 0' >&7
exec 7>&-
for _ in $(seq 100); do
	kill -0 $BG 2>/dev/null || break
	sleep 0.1
done
if kill -0 $BG 2>/dev/null; then
	bad "notify: still running 10 s after its FIFO closed"
	kill $BG
fi
wait $BG
BG=
n=$(wc -l <"$W/events" 2>/dev/null || echo 0)
[ "$n" -eq 51 ] && [ "$(tail -1 "$W/events")" = "INSTANCE VI_1 STOP 0" ] &&
    [ "$(sed -n 50p "$W/events")" = "INSTANCE VI_50 BACKUP 100" ] &&
    ok "notify: FIFO: 51 events in order, the one after SIGTERM too" ||
    bad "notify: FIFO: $n events, last: $(tail -1 "$W/events" 2>/dev/null)"
expect "notify: missing FIFO" 1 "FIFO $W/nofifo does not exist" \
    "$H/notify" "$W/nofifo"
expect "notify: not a FIFO" 1 "is not a FIFO" "$H/notify" "$W/events"
expect "notify: garbage option" 2 "unknown option '-z'" "$H/notify" -z
expect "notify: bad timeout" 2 "timeout '0'" "$H/notify" -t 0 "$W/fifo"

echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

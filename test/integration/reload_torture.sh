#!/bin/bash
# Reload torture (issue 12): random config mutations under load, for the
# lifetime rules of reload.  Meant for the ASan/UBSan build (make
# check-torture builds it and runs this; make check-stress runs the long
# form).  Not a t_*.sh: check-integration does not run it with the plain
# build.
#
# Six listening ports: P0 and P1 are in every config (the listener that
# owns them changes), P2..P5 come and go.  Six echo backends.  Before each
# reload the script applies 1-3 random mutations to its model of the
# config and writes the file from it:
#   pools added, removed (their listeners re-pointed first), renamed
#   (listeners follow) and listeners re-pointed at another pool;
#   listeners swapped between ports (names trade places), renamed, moved
#   to a free port, added and removed; servers added, removed and
#   re-weighted; allow/deny and idle_timeout_ms changed (the rules always
#   let 127.0.0.1 in).
# Reloads alternate at random between SIGHUP and lb4ctl reload; every
# 25th file is invalid (an unknown pool) and must be refused with the old
# config still serving.  Meanwhile:
#   - load clients open echo connections continuously on P0 and P1
#     (SHA-256 both ways): not one may fail;
#   - long connections, opened on every listener at the start and again
#     half-way, stream rate-limited echo data through every reload: each
#     must be byte-exact to the end and never cut, even after its
#     listener left the file and its pool was dropped or renamed;
#   - after each reload a listener of the new file is probed (every
#     10th reload: all of them, and the ports that left the file must
#     refuse);
#   - lb4 must stay alive with no sanitizer report in its log.
# The mutation sequence is a function of the seed alone: the seed is
# printed first and RELOAD_TORTURE_SEED=N replays it (timing differs).
#
# Environment: RELOAD_TORTURE_SEED, TORTURE_RELOADS (default 100),
# TORTURE_S (time bound of the reload loop, default 75 s), TORTURE_WORKERS
# (default 4), TORTURE_SAFE=1 (no pool is removed or renamed: what
# today's code survives, to check the harness itself).  Ends with one
# line of figures:
#   torture: seed=S reloads=N sighup=N ctl=N invalid=N connections=N
#            bytes=N sanitizer_reports=N seconds=N
. "$(dirname "$0")/lib.sh"
. "$HERE/rlib.sh"

SEED=${RELOAD_TORTURE_SEED:-$(( (${EPOCHREALTIME/./} ^ $$) % 1000000000 ))}
RELOADS=${TORTURE_RELOADS:-100}
LIMIT_S=${TORTURE_S:-75}
WORKERS=${TORTURE_WORKERS:-4}
SAFE=${TORTURE_SAFE:-0}
say "seed $SEED (replay: RELOAD_TORTURE_SEED=$SEED), $RELOADS reloads or $LIMIT_S s"
echo "RELOAD_TORTURE_SEED=$SEED"
if ! grep -aq __asan_init "$LB4" 2>/dev/null; then
	say "note: $LB4 is not an ASan build; use-after-free may go unseen"
fi

# ------------------------------------------------------------------ PRNG
# A 64-bit LCG (Knuth's MMIX constants); rnd N sets R to 0..N-1.  Pure
# bash arithmetic, no subshell, so the sequence depends on the seed only.
X=$SEED
rnd() {
	X=$(( X * 6364136223846793005 + 1442695040888963407 ))
	R=$(( ((X >> 33) & 0x7fffffff) % $1 ))
}

# ------------------------------------------------------------- the model
NP=6; NB=6
for i in $(seq 0 $((NP - 1))); do PORT[i]=$(free_port); done
for i in $(seq 0 $((NB - 1))); do
	SPORT[i]=$(free_port)
	start_back s"$i" -l 127.0.0.1:"${SPORT[$i]}" --echo --quiet
done
M=$(free_port)
# shellcheck disable=SC2034  # read through free_name's nameref
LNAMES=(l0 l1 l2 l3 l4 l5 l6 l7 l8 l9)
# shellcheck disable=SC2034  # read through free_name's nameref
PNAMES=(p0 p1 p2 p3 p4 p5 p6 p7 p8 p9 p10 p11)
ACLS=(""
    'allow = [ "127.0.0.0/8" ];'
    'allow = [ "127.0.0.1", "10.0.0.0/8" ]; deny = [ "192.0.2.0/24" ];'
    'deny = [ "192.0.2.0/24", "10.1.0.0/16" ];')
IDLES=("" "idle_timeout_ms = 60000;" "idle_timeout_ms = 30000;")
declare -a PLN		# port index -> listener name, "" when absent
declare -A LPOOL LACL LIDLE	# listener name -> pool name, ACLS idx, IDLES idx
declare -A PSRV		# pool name -> "server:weight ..."
# Start: six listeners, three pools.
PSRV[p0]="0:1 1:1"; PSRV[p1]="2:3 3:1"; PSRV[p2]="4:1 5:2 0:1"
for i in $(seq 0 $((NP - 1))); do
	PLN[i]=l$i; LPOOL[l$i]=p$((i % 3)); LACL[l$i]=0; LIDLE[l$i]=0
done

lname_used() {
	local i
	for i in $(seq 0 $((NP - 1))); do [ "${PLN[$i]}" = "$1" ] && return 0; done
	return 1
}
# Sets N to a random name of list $1 (LNAMES|PNAMES) not in use.
free_name() {
	local -n names=$1
	local k
	for k in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		rnd ${#names[@]}
		N=${names[$R]}
		if [ "$1" = LNAMES ]; then
			lname_used "$N" || return 0
		else
			[ -z "${PSRV[$N]+x}" ] && return 0
		fi
	done
	N=
	return 1
}
pool_list() { printf '%s\n' "${!PSRV[@]}" | sort -V; }
# Sets N to a random existing pool.
any_pool() {
	local -a ps
	mapfile -t ps < <(pool_list)
	rnd ${#ps[@]}
	N=${ps[$R]}
}
# Sets I to a random port index with a listener (or without one: $1 = 0),
# among the churn ports only when $2 = churn.  Returns 1 if there is none.
any_port() {
	local -a c=()
	local i lo=0
	[ "${2:-}" = churn ] && lo=2
	for i in $(seq $lo $((NP - 1))); do
		if [ "$1" = 1 ] && [ -n "${PLN[$i]}" ]; then c+=("$i"); fi
		if [ "$1" = 0 ] && [ -z "${PLN[$i]}" ]; then c+=("$i"); fi
	done
	[ ${#c[@]} -gt 0 ] || return 1
	rnd ${#c[@]}
	I=${c[$R]}
}
repoint_all() {	# repoint_all FROM TO: listeners of pool FROM go to TO
	local i n
	for i in $(seq 0 $((NP - 1))); do
		n=${PLN[$i]}
		[ -n "$n" ] && [ "${LPOOL[$n]}" = "$1" ] && LPOOL[$n]=$2
	done
}

# One random mutation of the model; appends a word to MUT.
mutate() {
	local a b n s w srv list
	rnd 15
	case $R in
	0)	# add a pool
		free_name PNAMES || return
		rnd $NB; s=$R; rnd 5
		PSRV[$N]="$s:$((R + 1))"
		rnd 2; [ $R = 1 ] && PSRV[$N]+=" $(( (s + 1) % NB )):1"
		MUT+=" +pool:$N" ;;
	1|2)	# remove a pool (its listeners to another one)
		[ ${#PSRV[@]} -gt 1 ] && [ "$SAFE" = 0 ] || return
		any_pool; a=$N
		unset "PSRV[$a]"
		any_pool; repoint_all "$a" "$N"
		MUT+=" -pool:$a(->$N)" ;;
	3)	# rename a pool
		[ "$SAFE" = 0 ] || return
		any_pool; a=$N
		free_name PNAMES || return
		PSRV[$N]=${PSRV[$a]}; unset "PSRV[$a]"
		repoint_all "$a" "$N"
		MUT+=" pool:$a=>$N" ;;
	4|5)	# re-point a listener
		any_port 1 || return
		any_pool
		MUT+=" ${PLN[$I]}:${LPOOL[${PLN[$I]}]}->$N"
		LPOOL[${PLN[$I]}]=$N ;;
	6)	# swap two listeners between their ports
		any_port 1 || return; a=$I
		any_port 1 || return; b=$I
		[ "$a" != "$b" ] || return
		n=${PLN[$a]}; PLN[a]=${PLN[$b]}; PLN[b]=$n
		MUT+=" swap:${PLN[$a]}<->${PLN[$b]}" ;;
	7)	# rename a listener
		any_port 1 || return
		free_name LNAMES || return
		n=${PLN[$I]}
		LPOOL[$N]=${LPOOL[$n]}; LACL[$N]=${LACL[$n]}; LIDLE[$N]=${LIDLE[$n]}
		PLN[I]=$N
		MUT+=" listener:$n=>$N" ;;
	8)	# move a listener from a churn port to a free one
		any_port 1 churn || return; a=$I
		any_port 0 churn || return
		PLN[I]=${PLN[$a]}; PLN[a]=
		MUT+=" move:${PLN[$I]}:P$a->P$I" ;;
	9)	# add a listener on a free churn port
		any_port 0 churn || return
		free_name LNAMES || return
		PLN[I]=$N; any_pool; LPOOL[${PLN[$I]}]=$N
		rnd ${#ACLS[@]}; LACL[${PLN[$I]}]=$R; LIDLE[${PLN[$I]}]=0
		MUT+=" +listener:${PLN[$I]}@P$I" ;;
	10)	# remove a listener from a churn port
		any_port 1 churn || return
		MUT+=" -listener:${PLN[$I]}@P$I"
		PLN[I]= ;;
	11)	# add a server to a pool
		any_pool; rnd $NB; s=$R
		[[ " ${PSRV[$N]}" == *" $s:"* ]] && return
		rnd 4; PSRV[$N]+=" $s:$((R + 1))"
		MUT+=" $N:+s$s" ;;
	12)	# remove a server from a pool (one stays)
		any_pool
		read -r -a list <<< "${PSRV[$N]}"
		[ ${#list[@]} -gt 1 ] || return
		rnd ${#list[@]}; srv=${list[$R]}
		unset "list[$R]"
		PSRV[$N]="${list[*]}"
		MUT+=" $N:-s${srv%%:*}" ;;
	13)	# re-weight a server
		any_pool
		read -r -a list <<< "${PSRV[$N]}"
		rnd ${#list[@]}; a=$R; rnd 9; w=$((R + 1))
		list[a]="${list[$a]%%:*}:$w"
		PSRV[$N]="${list[*]}"
		MUT+=" $N:w" ;;
	14)	# allow/deny or idle timeout of a listener
		any_port 1 || return
		rnd ${#ACLS[@]}; LACL[${PLN[$I]}]=$R
		rnd ${#IDLES[@]}; LIDLE[${PLN[$I]}]=$R
		MUT+=" acl:${PLN[$I]}" ;;
	esac
}

# render NAME [BADPOOL]: writes $T/NAME.conf from the model; with
# BADPOOL, one listener names a pool that does not exist.
render() {
	local i n p s w sep="" lsep="" body srv bad=${2:-}
	body="global = { workers = $WORKERS; metrics = \"127.0.0.1:$M\"; };"$'\n'
	body+="listeners = ("$'\n'
	for i in $(seq 0 $((NP - 1))); do
		n=${PLN[$i]}
		[ -n "$n" ] || continue
		p=${LPOOL[$n]}
		[ -n "$bad" ] && p=$bad && bad=
		body+="$lsep  { name = \"$n\"; bind = [ \"127.0.0.1:${PORT[$i]}\" ];"
		body+=" pool = \"$p\"; ${ACLS[${LACL[$n]}]} ${IDLES[${LIDLE[$n]}]} }"
		lsep=","$'\n'
	done
	body+=$'\n'");"$'\n'"pools = ("$'\n'
	lsep=""
	for p in $(pool_list); do
		srv="" sep=""
		for s in ${PSRV[$p]}; do
			w=${s#*:}
			srv+="$sep{ address = \"127.0.0.1:${SPORT[${s%%:*}]}\"; weight = $w; }"
			sep=", "
		done
		body+="$lsep  { name = \"$p\"; servers = ( $srv ); }"
		lsep=","$'\n'
	done
	body+=$'\n'");"
	write_conf "$1" <<< "$body"
}

# ------------------------------------------------------------ the run
render cur
use_conf cur
start_lb4 lb4
LOAD_S=$(( LIMIT_S + 60 ))
RATE=20000
LONG_N=$(( (LOAD_S + 60) * RATE ))
bg_client load0 -T $(( (LOAD_S + 30) * 1000 )) --loop $LOAD_S -c 2 \
    --interval 5 -n 2000 --expect-echo 127.0.0.1:"${PORT[0]}"
bg_client load1 -T $(( (LOAD_S + 30) * 1000 )) --loop $LOAD_S -c 2 \
    --interval 5 -n 2000 --expect-echo 127.0.0.1:"${PORT[1]}"
LONGS=()
open_longs() {	# open_longs WAVE: 3 long connections on each listener
	local i c
	for i in $(seq 0 $((NP - 1))); do
		[ -n "${PLN[$i]}" ] || continue
		c=long$1p$i
		bg_client "$c" -T $(( (LOAD_S + 90) * 1000 )) -c 3 \
		    -s $(( $1 * 100 + i * 10 )) -n $LONG_N --rate $RATE \
		    --expect-echo 127.0.0.1:"${PORT[$i]}"
		LONGS+=("$c")
	done
}
open_longs 1
sleep 1

t0=$(now_ms)
n=0 nhup=0 nctl=0 ninvalid=0 probes=0 probe_fail=0 dead=0
while [ $n -lt "$RELOADS" ] && [ $(( $(now_ms) - t0 )) -lt $((LIMIT_S * 1000)) ]
do
	# Every 25th: an invalid file, refused, the old config stays.
	if [ $(( (n + ninvalid + 1) % 25 )) = 0 ]; then
		render bad nosuch_pool
		use_conf bad
		ctl reload > "$T/invalid.out" 2>&1
		rc=$?
		ninvalid=$((ninvalid + 1))
		[ $rc = 1 ] || fail "invalid file $ninvalid: lb4ctl reload exit $rc, expected 1"
		grep -q 'nosuch_pool' "$T/invalid.out" ||
		    fail "invalid file $ninvalid: lb4ctl did not name the unknown pool"
		use_conf cur
		continue
	fi
	MUT=""
	rnd 3
	for k in $(seq 0 "$R"); do
		# A mutation that does not apply (no free name, ...) returns
		# without a word: try another, a bounded number of times.
		for t in 1 2 3 4 5; do
			before=$MUT
			mutate
			[ "$MUT" != "$before" ] && break
		done
	done
	render cur
	use_conf cur
	n=$((n + 1))
	rnd 2
	if [ $R = 0 ]; then
		how=sighup; nhup=$((nhup + 1))
		kill -HUP "$LB4_PID" 2>/dev/null
		wait_until 20 eval '[ "$(reloads_ok)" -ge '"$n"' ] || ! alive '"$LB4_PID" ||
		    fail "reload $n (SIGHUP) not applied within 20 s"
	else
		how=ctl; nctl=$((nctl + 1))
		ctl reload > "$T/reload.out" 2>&1 ||
		    { fail "reload $n (lb4ctl) failed:"; sed 's/^/    | /' "$T/reload.out" >&2; }
	fi
	echo "reload $n ($how):$MUT"
	if lb4_gone "at reload $n ($how:$MUT), seed $SEED"; then
		dead=1
		break
	fi
	# Probe: one listener (every 10th reload: all, and absent ports).
	rnd $NP; one=$R
	for i in $(seq 0 $((NP - 1))); do
		if [ $((n % 10)) != 0 ] && [ "$i" != "$one" ]; then continue; fi
		if [ -n "${PLN[$i]}" ]; then
			probes=$((probes + 1))
			out=$("$TCLIENT" -T 15000 -n 500 -s $n --expect-echo \
			    127.0.0.1:"${PORT[$i]}")
			rc=$?
			if [ $rc != 0 ]; then
				probe_fail=$((probe_fail + 1))
				fail "reload $n: ${PLN[$i]} on P$i: exit $rc ($(rc_name $rc)): $out"
			fi
		elif [ $((n % 10)) = 0 ]; then
			wait_until 3 eval '! is_listening '"${PORT[$i]}" ||
			    fail "reload $n: P$i left the file but still listens"
			"$TCLIENT" -T 3000 --connect-timeout 1000 -n 0 \
			    127.0.0.1:"${PORT[$i]}" > /dev/null 2>&1
			rc=$?
			[ $rc = 3 ] || fail "reload $n: P$i left the file: exit $rc ($(rc_name $rc)), expected refused"
		fi
	done
	[ $n = $((RELOADS / 2)) ] && open_longs 2
	rnd 4
	[ $R = 0 ] && sleep 0.1	# now and then a tick between reloads
done
secs=$(( ($(now_ms) - t0) / 1000 ))
say "$n reloads ($nhup SIGHUP, $nctl lb4ctl) and $ninvalid invalid files in $secs s"

# The ends: load clients finish, long connections FIN and drain.
for c in load0 load1 "${LONGS[@]}"; do
	kill -USR1 "${CLIENT_PID[$c]}" 2>/dev/null
done
conns=$probes bytes=$((probes * 1000)) nlong=0
for c in load0 load1; do
	wait_client $c > /dev/null
	rc=$?
	line=$(grep '^loop ' "$T/$c.out")
	say "$c: $line"
	k=$(kv "$line" ok); k=${k:-0}
	conns=$((conns + k)); bytes=$((bytes + k * 4000))
	[ $dead = 1 ] && continue
	assert_rc "$c: new connections on P${c#load} through every reload" 0 $rc
	assert_eq "$c: failed connections" 0 "$(kv "$line" failed)"
done
for c in "${LONGS[@]}"; do
	wait_client "$c" > /dev/null
	rc=$?
	nlong=$((nlong + 3)); conns=$((conns + 3))
	bytes=$((bytes + $(awk '$1 == "conn" { s += $4 + $7 } END { print s + 0 }' "$T/$c.out")))
	[ $dead = 1 ] && continue
	[ $rc = 0 ] || fail "$c: exit $rc ($(rc_name $rc)): $(grep -v ' rc 0$' "$T/$c.out" | head -n 3)"
	# Wave 1 streamed through the whole loop, wave 2 for a second at least.
	min=$RATE
	[[ $c == long1* ]] && min=$(( secs * RATE / 2 ))
	ok=$(long_ok "$T/$c.out" $min)
	[ "$ok" = 3 ] || fail "$c: $ok of 3 long connections byte-exact to the end (>= $min bytes each way)"
done
[ $dead = 1 ] || say "ok: $nlong long connections checked (SHA-256 both ways)"
if [ $dead = 0 ]; then
	assert_eq "lb4_reloads_total{result=\"success\"}" $n \
	    "$(metric 'lb4_reloads_total{result="success"}')"
	assert_eq "lb4_reloads_total{result=\"failure\"}" $ninvalid \
	    "$(metric 'lb4_reloads_total{result="failure"}')"
	assert_eq "probes that failed" 0 $probe_fail
	stop_lb4 0 30
fi
san=$(grep -cE "$SAN_RE" "$LB4_LOG")
echo "torture: seed=$SEED reloads=$n sighup=$nhup ctl=$nctl" \
    "invalid=$ninvalid connections=$conns bytes=$bytes" \
    "sanitizer_reports=$san seconds=$secs"
finish

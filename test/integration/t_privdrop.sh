#!/bin/bash
# Privilege drop (issue 8; root only): lb4 started as root with
# user = "nobody", group = "nogroup" binds a port below 1024 on 127.0.0.1,
# serves, and then runs (every thread) as uid/gid 65534 with exactly
# CAP_NET_BIND_SERVICE (0x400) permitted and effective; a reload that adds
# a listener on another port below 1024 succeeds and serves.  Run twice:
# the control socket and health file in a directory made beforehand and
# given to nobody, and in one that does not exist yet (lb4 makes it and
# gives it to nobody).  The health file reads 0 while serving and 1 after
# the stop, written by lb4 as nobody.  A directory only root can write is
# a start-up error (exit 2, one clear line), never a health file stuck
# at 0 that lb4 can no longer rewrite.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (runs as uid $(id -u))"
getent passwd nobody > /dev/null || skip "no user nobody"
getent group nogroup > /dev/null || skip "no group nogroup"
NOBODY=$(id -u nobody)
NOGROUP=$(getent group nogroup | cut -d: -f3)

# low_port: a free port in 81..1023, reserved like free_port's.
low_port() {
	local p _
	mkdir -p "$PORT_LOCKS"
	for _ in $(seq 1 300); do
		p=$((81 + RANDOM % 943))
		port_in_use "$p" && continue
		if mkdir "$PORT_LOCKS/$p" 2>/dev/null; then
			echo $$ > "$PORT_LOCKS/$p/owner"
			echo "$p"
			return 0
		fi
	done
	return 1
}
P1=$(low_port) || skip "no free port below 1024"
P2=$(low_port) || skip "no free port below 1024"
E=$(free_port)
start_back e -l 127.0.0.1:"$E" --echo --quiet
# nobody reads the config on reload: let it through $T.
chmod 711 "$T"

# caps_of PID: one line per thread, "uid gid groups CapPrm CapEff".
caps_of() {
	local st
	for st in /proc/"$1"/task/*/status; do
		awk '/^Uid:/ { u = $2 "/" $3 "/" $4 "/" $5 }
		     /^Gid:/ { g = $2 "/" $3 "/" $4 "/" $5 }
		     /^Groups:/ { $1 = ""; gr = $0 }
		     /^CapPrm:/ { p = $2 } /^CapEff:/ { e = $2 }
		     END { print u, g, gr, p, e }' "$st"
	done | sed 's/  */ /g' | sort | uniq -c | sed 's/^ *//'
}

run_case() {	# run_case NAME RUNDIR
	local name=$1 run=$2 want rc
	write_conf "$name" <<CONF
global = { workers = 2; user = "nobody"; group = "nogroup";
  control_socket = "$run/lb4.sock"; health_file = "$run/health"; };
listeners = ( { name = "low"; bind = [ "127.0.0.1:$P1" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
	sed "s/listeners = ( /listeners = ( { name = \"low2\"; bind = [ \"127.0.0.1:$P2\" ]; pool = \"p\"; }, /" \
	    "$T/$name.conf" > "$T/$name-2.conf"
	chmod 644 "$T/$name.conf" "$T/$name-2.conf"
	cp "$T/$name.conf" "$T/$name-live.conf"
	chmod 644 "$T/$name-live.conf"
	start_lb4 "$name"-live lb4-"$name"
	assert_grep "$name: lb4 says it dropped to nobody" \
	    "^<6>running as nobody \\(uid $NOBODY, gid $NOGROUP\\)" "$LB4_LOG"
	"$TCLIENT" -T 5000 -n 10000 --expect-echo 127.0.0.1:"$P1" > /dev/null
	assert_rc "$name: serves on port $P1 (below 1024)" 0 $?
	caps_of "$LB4_PID" > "$T/caps"
	sed "s/^/$name: threads: /" "$T/caps"
	want="$NOBODY/$NOBODY/$NOBODY/$NOBODY $NOGROUP/$NOGROUP/$NOGROUP/$NOGROUP $NOGROUP 0000000000000400 0000000000000400"
	assert_eq "$name: every thread: uids gids groups CapPrm CapEff" \
	    "$want" "$(sed -E 's/^[0-9]+ //' "$T/caps" | sort -u)"
	assert_range "$name: threads checked (main + 2 workers at least)" 3 64 \
	    "$(awk '{ n += $1 } END { print n }' "$T/caps")"
	assert_eq "$name: owner of the run directory" "$NOBODY" \
	    "$(stat -c %u "$run")"
	assert_eq "$name: health file while serving" 0 "$(cat "$run/health")"

	cp "$T/$name-2.conf" "$T/$name-live.conf"
	"$LB4CTL" -s "$run/lb4.sock" reload > "$T/$name-reload.out" 2>&1
	rc=$?
	sed "s/^/$name: lb4ctl reload: /" "$T/$name-reload.out"
	assert_rc "$name: reload adding a listener on port $P2 (below 1024)" 0 $rc
	wait_until 3 is_listening "$P2" || fail "$name: nothing listens on $P2"
	"$TCLIENT" -T 5000 -n 10000 --expect-echo 127.0.0.1:"$P2" > /dev/null
	assert_rc "$name: serves on the added port $P2" 0 $?
	"$TCLIENT" -T 5000 -n 10000 --expect-echo 127.0.0.1:"$P1" > /dev/null
	assert_rc "$name: still serves on port $P1" 0 $?
	assert_eq "$name: still CapEff 0x400 after the reload" \
	    "0000000000000400" \
	    "$(awk '/^CapEff:/ { print $2 }' /proc/$LB4_PID/status)"
	stop_lb4
	assert_eq "$name: health file after the stop" 1 "$(cat "$run/health")"
	assert_no_grep "$name: no warning about the health file or socket" \
	    "cannot (write|give|create|listen)" "$LB4_LOG"
}

mkdir "$T/run1"
chown nobody:nogroup "$T/run1"
run_case given "$T/run1"
run_case made "$T/run2"

mkdir -m 755 "$T/run3"
write_conf rootdir <<CONF
global = { workers = 2; user = "nobody"; group = "nogroup";
  control_socket = "$T/run3/lb4.sock"; health_file = "$T/run3/health"; };
listeners = ( { name = "low"; bind = [ "127.0.0.1:$P1" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
$LB4_WRAP "$LB4" -c "$T/rootdir.conf" > "$T/lb4-rootdir.log" 2>&1 &
LB4_PID=$!
PIDS+=("$LB4_PID")
LB4_LOG=$T/lb4-rootdir.log
lb4_wait_exit 10
sed 's/^/rootdir: /' "$LB4_LOG"
assert_eq "root-owned run directory: lb4 exit status" 2 "$LB4_STATUS"
assert_grep "root-owned run directory: one clear line" \
    "^<3>cannot write health file $T/run3/health as user nobody" "$LB4_LOG"
if [ -e "$T/run3/health" ]; then
	fail "root-owned run directory: a health file was left: $(cat "$T/run3/health")"
else
	say "ok: no health file left in the root-owned directory"
fi

finish

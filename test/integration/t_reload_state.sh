#!/bin/bash
# State carry-over across reloads that do not touch a pool (issue 8):
#   - a server disabled or draining through lb4ctl stays so;
#   - counters (lb4ctl show servers total=, show stats, /metrics) go on
#     from where they were;
#   - the SWRR sequence of an unchanged pool continues: weights 5,1,1 give
#     a a b | reload | a c a a | reload | a a b.
# The reloads change another pool (a weight, a server added) and add,
# then remove, a listener.  (Servers marked down by health checks:
# t_reload_health.)
. "$(dirname "$0")/lib.sh"

LW=$(free_port); LD=$(free_port); LO=$(free_port); LO2=$(free_port)
M=$(free_port)
P_a=$(free_port); P_b=$(free_port); P_c=$(free_port); P_d=$(free_port)
P_e=$(free_port); P_f=$(free_port); P_g=$(free_port); P_h=$(free_port)
for n in a b c d e f g h; do
	v=P_$n
	start_back "$n" -l 127.0.0.1:"${!v}" --id "$n" --quiet
done

conf() {	# conf NAME OTHER_POOL_SERVERS EXTRA_LISTENER
	write_conf "$1" <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; };
listeners = (
  { name = "lw"; bind = [ "127.0.0.1:$LW" ]; pool = "w"; },
  { name = "ld"; bind = [ "127.0.0.1:$LD" ]; pool = "adm"; },
  { name = "lo"; bind = [ "127.0.0.1:$LO" ]; pool = "other"; }$3
);
pools = (
  { name = "w"; servers = (
    { address = "127.0.0.1:$P_a"; weight = 5; },
    { address = "127.0.0.1:$P_b"; weight = 1; },
    { address = "127.0.0.1:$P_c"; weight = 1; } ); },
  { name = "adm"; servers = (
    { address = "127.0.0.1:$P_d"; },
    { address = "127.0.0.1:$P_e"; },
    { address = "127.0.0.1:$P_f"; } ); },
  { name = "other"; servers = ( $2 ); }
);
CONF
}
conf one "{ address = \"127.0.0.1:$P_g\"; weight = 1; }" ""
conf two "{ address = \"127.0.0.1:$P_g\"; weight = 7; },
    { address = \"127.0.0.1:$P_h\"; }" ",
  { name = \"lo2\"; bind = [ \"127.0.0.1:$LO2\" ]; pool = \"other\"; }"
CONF=$T/lb4.conf
cp "$T/one.conf" "$CONF"
start_lb4 lb4
CTL=("$LB4CTL" -s "$T/lb4.sock")

picks() {	# picks PORT COUNT: the ids, space-separated
	"$TCLIENT" -T 20000 --seq "$2" --show "$2" 127.0.0.1:"$1" |
	    sed -n 's/^first //p'
}
# server_line POOL NAME: "STATE total=N" from lb4ctl show servers
server_line() {
	local v=P_$2 line
	line=$("${CTL[@]}" show servers | grep "^$1 127.0.0.1:${!v} ")
	echo "$(awk '{print $3}' <<< "$line") $(grep -oE 'total=[0-9]+' <<< "$line")"
}
metric() {	# metric NAME POOL SERVERNAME
	local v=P_$3
	curl -s --max-time 5 "http://127.0.0.1:$M/metrics" |
	    grep -F "$1{pool=\"$2\",server=\"127.0.0.1:${!v}\"}" | awk '{print $2}'
}
sighup_reload() {	# waits for the N-th "reloaded" line
	local want=$1
	kill -HUP "$LB4_PID"
	wait_until 5 eval \
	    '[ "$(grep -c "^<6>reloaded " "$LB4_LOG")" -ge '"$want"' ]' ||
	    fatal "reload $want was not applied"
}

# ---- before the first reload
assert_eq "pool w, first 3 picks" "a a b" "$(picks "$LW" 3)"
assert_eq "pool adm, first 3 picks" "d e f" "$(picks "$LD" 3)"
"${CTL[@]}" disable server adm 127.0.0.1:"$P_d" > /dev/null ||
    fail "lb4ctl disable server"
"${CTL[@]}" drain server adm 127.0.0.1:"$P_e" > /dev/null ||
    fail "lb4ctl drain server"
assert_eq "pool adm with d disabled, e draining" "f f f" "$(picks "$LD" 3)"
assert_eq "d before the reload" "disabled total=1" "$(server_line adm d)"
assert_eq "e before the reload" "draining total=1" "$(server_line adm e)"
assert_eq "f before the reload" "up total=4" "$(server_line adm f)"
assert_eq "a before the reload (metrics)" 2 \
    "$(metric lb4_server_connections_total w a)"

# ---- reload 1 (SIGHUP): pool other changes, listener lo2 appears
cp "$T/two.conf" "$CONF"
sighup_reload 1
"${CTL[@]}" show servers | sed 's/^/after reload 1: /'
assert_eq "d after reload 1" "disabled total=1" "$(server_line adm d)"
assert_eq "e after reload 1" "draining total=1" "$(server_line adm e)"
assert_eq "f after reload 1" "up total=4" "$(server_line adm f)"
assert_eq "g after reload 1 (weight changed, counters kept)" "up total=0" \
    "$(server_line other g)"
assert_eq "pool w after reload 1, 4 picks (the sequence goes on)" \
    "a c a a" "$(picks "$LW" 4)"
assert_eq "pool adm after reload 1" "f f f" "$(picks "$LD" 3)"
assert_eq "the added listener lo2 serves pool other (g 7, h 1)" \
    "g g g g h g g g" "$(picks "$LO2" 8)"

# ---- reload 2 (lb4ctl reload): back to the first file
cp "$T/one.conf" "$CONF"
"${CTL[@]}" reload > "$T/reload2.out" 2>&1
assert_rc "lb4ctl reload" 0 $?
assert_eq "d after reload 2" "disabled total=1" "$(server_line adm d)"
assert_eq "e after reload 2" "draining total=1" "$(server_line adm e)"
assert_eq "f after reload 2" "up total=7" "$(server_line adm f)"
assert_eq "g after reload 2" "up total=7" "$(server_line other g)"
assert_eq "pool w after reload 2, 3 picks" "a a b" "$(picks "$LW" 3)"
assert_eq "a after reload 2 (metrics: 2 + 3 + 2)" 7 \
    "$(metric lb4_server_connections_total w a)"
assert_eq "b after reload 2 (metrics)" 2 \
    "$(metric lb4_server_connections_total w b)"
assert_eq "c after reload 2 (metrics)" 1 \
    "$(metric lb4_server_connections_total w c)"
assert_eq "f after reload 2 (metrics)" 7 \
    "$(metric lb4_server_connections_total adm f)"
assert_eq "d is still out (metrics: lb4_server_up)" 0 \
    "$(metric lb4_server_up adm d)"
"${CTL[@]}" show stats > "$T/stats.out"
assert_grep "listener lw counted 10 connections across both reloads" \
    "^listener lw pool=w connections=10 " "$T/stats.out"
assert_grep "listener ld counted 9 connections across both reloads" \
    "^listener ld pool=adm connections=9 " "$T/stats.out"
assert_grep "reloads counted" "^reloads ok=2 failed=0 " "$T/stats.out"

# The admin state is live, not a copy: enabling d brings it back.
"${CTL[@]}" enable server adm 127.0.0.1:"$P_d" > /dev/null
"${CTL[@]}" enable server adm 127.0.0.1:"$P_e" > /dev/null
assert_eq "pool adm after enabling d and e" "d e f" "$(picks "$LD" 3)"

stop_lb4
finish

#!/bin/bash
# Pipes within the budget, as the shipped unit runs lb4 (an unprivileged
# user with only CAP_NET_BIND_SERVICE, so fs.pipe-user-pages-soft applies:
# past it the kernel hands out 8 KiB pipes).  2,000 parked downloads (the
# clients read nothing for a while) make lb4 hold a leftover for each:
# far more pipes than the budget allows.  None may be reset: past the
# budget lb4 copies (lb4_pipe_fallbacks_total), never holds more pipe
# pages than the budget, and every client finally gets all its bytes.
#
# In a network namespace of its own whose lo has a 1500-byte MTU: with
# loopback's 64 KiB segments each parked connection would first fill
# megabytes of socket buffers.
LB4_AS_UNIT=1
. "$(dirname "$0")/lib.sh"

command -v python3 > /dev/null || skip "needs python3"
NS=l13p$$
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
trap 'r=$?; ip netns del "$NS" 2>/dev/null; (exit $r); cleanup' EXIT
ip -n "$NS" link set lo mtu 1500 up
nsx() { ip netns exec "$NS" "$@"; }
LB4_WRAP="ip netns exec $NS $LB4_WRAP"
SLOW=$((SLOW * 3))	# namespaces on a loaded machine are slow to answer
is_listening() {
	[ -n "$(nsx ss -Htln "( sport = :$1 )" 2>/dev/null | head -n 1)" ]
}
metric() {
	nsx curl -s --max-time 5 "http://127.0.0.1:$M/metrics" |
	    awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }'
}

CONNS=${PARKED:-2000}
N=$((512 * 1024))
# The namespace is this test's own: fixed ports cannot collide.
P=8000; E=7000; M=9404
ulimit -Sn $((CONNS * 2 + 1000)) 2>/dev/null || skip "cannot raise the fd limit"
nsx python3 "$HERE/dpeer.py" serve --listen 127.0.0.1:$E --bytes $N \
    --pidfile "$T/d.pid" > "$T/d.log" 2>&1 &
PIDS+=("$!")
wait_until 10 test -s "$T/d.pid" || fatal "dpeer serve did not start"
write_conf lb4 <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; };
listeners = ( { name = "d"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
start_lb4 lb4
soft=$(cat /proc/sys/fs/pipe-user-pages-soft)
if [ "$LB4_SPLICE" = true ] && [ "$soft" != 0 ]; then
	assert_grep "lb4 took a pipe budget from fs.pipe-user-pages-soft" \
	    "pipes: budget [0-9]+ pages of the user's $soft" "$LB4_LOG"
fi

nsx python3 "$HERE/dpeer.py" park --connect 127.0.0.1:$P --conns "$CONNS" \
    --bytes $N --park 4 --timeout 100 > "$T/park.out" 2>&1 &
PARK=$!
PIDS+=("$PARK")
wait_until 60 grep -q '^parked ' "$T/park.out" ||
    fatal "the clients did not connect: $(tail -3 "$T/park.out")"
sleep 2
# While parked: within the budget, and the rest on the copy path.
budget=$(metric lb4_pipe_budget_pages)
pages=$(metric lb4_pipe_pages)
inuse=$(metric lb4_pipes_in_use)
fallbacks=$(metric lb4_pipe_fallbacks_total)
active=$(metric 'lb4_connections_active{listener="d"}')
say "parked: connections=$active pipes_in_use=$inuse pipe_pages=$pages budget=$budget fallbacks=$fallbacks"
assert_eq "every download is parked in lb4" "$CONNS" "$active"
[[ "$budget" =~ ^[0-9]+$ ]] || { fail "no lb4_pipe_budget_pages"; budget=0; }
if [ "$LB4_SPLICE" = true ]; then
	assert_range "pipe pages held, within the budget" 1 "$budget" "$pages"
	assert_range "pipes in use, within the budget (64 pages each)" 1 \
	    $((budget / 64)) "$inuse"
	assert_range "lb4_pipe_fallbacks_total" 1 100000000 "$fallbacks"
else
	assert_eq "no pipe with splice = false" 0 "$pages"
fi
wait "$PARK"
rc=$?
cat "$T/park.out"
line=$(grep '^park ' "$T/park.out")
assert_eq "downloads reset" 0 "$(kv "$line" reset)"
assert_eq "downloads complete and intact" "$CONNS" "$(kv "$line" ok)"
assert_rc "parked downloads" 0 $rc
say "after: pipes_in_use=$(metric lb4_pipes_in_use) pipe_pages=$(metric lb4_pipe_pages) fallbacks=$(metric lb4_pipe_fallbacks_total) local_errors_pipe=$(metric 'lb4_local_errors_total{reason="pipe"}')"
stop_lb4
finish

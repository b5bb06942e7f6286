#!/bin/bash
# Local errors are not server failures, for exec checks too (lb4(8), "Local
# errors": never counted toward fall, passive or active checks).  lb4 runs
# with just enough descriptors for K held connections; while they are held, an
# exec check cannot get its output pipe (EMFILE at pipe2()): that is this
# host's failure, and must not mark the server down.
. "$(dirname "$0")/lib.sh"

command -v prlimit > /dev/null || skip "needs prlimit"
P=$(free_port); E=$(free_port); M=$(free_port)
start_back echo -l 127.0.0.1:"$E" --echo --quiet
printf '#!/bin/sh\nexit 0\n' > "$T/check.sh"
chmod +x "$T/check.sh"
write_conf lb4 <<CONF
global = { workers = 1; metrics = "127.0.0.1:$M"; };
listeners = ( { name = "f"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p";
  health = { type = "exec"; command = "$T/check.sh"; interval_ms = 100;
             timeout_ms = 2000; rise = 1; fall = 2; };
  servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$M/metrics" |
	    awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }'
}
WRAP0=$LB4_WRAP
start_lb4 lb4
wait_until 10 eval '[ "$(metric "lb4_server_up{pool=\"p\",server=\"127.0.0.1:$E\"}")" = 1 ]' ||
    fatal "server not up"
base=$(find "/proc/$LB4_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
stop_lb4
K=6
NOFILE=$((base + 2 * K))
say "lb4 holds $base fds idle; RLIMIT_NOFILE $NOFILE: room for $K connections"
LB4_WRAP="prlimit --nofile=$NOFILE:$NOFILE $WRAP0"
start_lb4 lb4
wait_until 10 eval '[ "$(metric "lb4_server_up{pool=\"p\",server=\"127.0.0.1:$E\"}")" = 1 ]' ||
    fatal "server not up"
for i in $(seq 1 $((K + 2))); do
	"$TCLIENT" -T 20000 --hold 3000 127.0.0.1:"$P" > "$T/h$i.out" 2>&1 &
	PIDS+=("$!"); H[i]=$!
	sleep 0.1
done
for i in $(seq 1 $((K + 2))); do wait "${H[$i]}"; done
grep -E "is down|is up|local error|paused" "$LB4_LOG" | sed 's/^/    /'
assert_no_grep "the server is not marked down for lack of fds" " is down" "$LB4_LOG"
stop_lb4
finish

#!/bin/bash
# Idle means idle both ways (lb4(8)): an 8 MB download read steadily at
# 400 KB/s through idle_timeout_ms = 2000 takes 20 s, far longer than the
# timeout, while lb4 reads nothing from the server for seconds at a time
# (its socket queue toward the slow client is full).  Bytes written, or
# taken out of the queues by the peer, count as activity: the client gets
# all 8 MB and then a clean EOF.  A client that stops reading altogether
# is idle, and with bytes still waiting the close is a reset, never a FIN
# that would pass a cut stream for a complete one.
. "$(dirname "$0")/lib.sh"

command -v python3 > /dev/null || skip "needs python3"
DPEER=$HERE/dpeer.py
P=$(free_port); E=$(free_port)
N=$((8 * 1024 * 1024))
start_back src -l 127.0.0.1:"$E" --source $N 7
write_conf lb4 <<CONF
global = { workers = 2; };
defaults = { idle_timeout_ms = 2000; };
listeners = ( { name = "s"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
start_lb4 lb4

python3 "$DPEER" slow --connect 127.0.0.1:"$P" --bytes $N --rate 409600 \
    --timeout 90 > "$T/slow.out" 2>&1
rc=$?
cat "$T/slow.out"
line=$(grep '^slow ' "$T/slow.out")
assert_rc "8 MB read at 400 KB/s through a 2 s idle timeout" 0 $rc
assert_eq "bytes the slow reader got" $N "$(kv "$line" got)"
assert_eq "bytes intact (sha256)" "$("$TCLIENT" --gen $N 7)" \
    "$(kv "$line" sha256)"
assert_range "download took (ms), far past the idle timeout" 15000 \
    $((90000 * SLOW)) \
    "$(kv "$line" ms)"

# A reader that stops reading for 8 s after 64 KiB: idle, with bytes
# waiting: a reset.
python3 "$DPEER" slow --connect 127.0.0.1:"$P" --bytes $N --rate 409600 \
    --stop-after 65536 --stop-for 8 --timeout 30 > "$T/stuck.out" 2>&1
rc=$?
cat "$T/stuck.out"
assert_rc "a reader that stops is cut by the idle timeout with a reset" 4 $rc

stop_lb4
finish

#!/bin/bash
# idle_timeout_ms = 1000 and a client that reads nothing while the server
# sends 20 MB: no byte moves after the first few hundred ms, bytes wait
# in the queues, so lb4 must reset both sides (never a FIN: lb4(8)).  When
# the idle timeout finds bytes queued, lb4 cannot tell whether a peer drained
# some since the last byte it moved, so it samples the queues and looks
# again one timeout later (a slow reader emptying the kernel's buffers is
# not idle): a stalled connection is reset between 1 and 2 idle timeouts
# after its last byte (lb4.conf(5)).
. "$(dirname "$0")/lib.sh"

command -v python3 > /dev/null || skip "needs python3"
P=$(free_port); E=$(free_port)
start_back src -l 127.0.0.1:"$E" --source 20000000 7
write_conf lb4 <<CONF
global = { workers = 1; };
defaults = { idle_timeout_ms = 1000; };
listeners = ( { name = "i"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$E"; } ); } );
CONF
start_lb4 lb4
python3 - "$P" > "$T/stall.out" 2>&1 <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
time.sleep(4)			# reads nothing
got = 0
s.settimeout(5)
try:
    while True:
        b = s.recv(1 << 20)
        if not b:
            print("end=eof got=%d" % got); break
        got += len(b)
except ConnectionResetError:
    print("end=rst got=%d" % got)
except socket.timeout:
    print("end=timeout got=%d" % got)
PY
cat "$T/stall.out"
assert_grep "the stalled client sees a reset" "^end=rst" "$T/stall.out"
wait_until 3 grep -q '^conn ' "$T/src.log"
line=$(grep '^conn ' "$T/src.log" | head -1)
say "server side: $line"
assert_grep "the server side is reset" "end=rst" <(echo "$line")
ms=$(echo "$line" | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
assert_range "reset after (ms; the bytes stopped moving within ~300 ms; 1 to 2 timeouts)" 900 \
    $((2900 * SLOW)) "$ms"
stop_lb4
finish

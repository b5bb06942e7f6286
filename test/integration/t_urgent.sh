#!/bin/bash
# TCP urgent data (MSG_OOB) is relayed as an ordinary byte, in order, both
# ways, and never stalls a flow: the urgent byte first, in the middle of
# a small message, and between two multi-megabyte runs (which lb4 splices
# in splice mode, and splice(2) stops at the urgent mark).  Peers:
# upeer.py.  Without SO_OOBINLINE the kernel takes the byte out of the
# stream; with the short-read shortcut or splice a flow would stop at the
# mark until more bytes arrived.
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || skip "python3 is not installed"

P=$(free_port); B=$(free_port)
python3 "$HERE/upeer.py" back --listen 127.0.0.1:"$B" --pidfile "$T/back.pid" \
    > "$T/back.log" 2>&1 &
PIDS+=("$!")
wait_until 5 test -s "$T/back.pid" || fatal "upeer.py back did not start"
write_conf lb4 <<CONF
global = { workers = 1; };
listeners = ( { name = "u"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$B"; } ); } );
CONF
start_lb4 lb4

# The multi-megabyte plans run several times: the backend sends its FIN
# right after its urgent byte, and how far splice got by then varies.
for plan in 0,10 4,4 1000,0 3000000,3000000 70000,5000000 \
    2000000,1 2000000,1 2000000,1 2000000,1 1000000,100 1000000,100; do
	out=$(timeout 30 python3 "$HERE/upeer.py" client --connect 127.0.0.1:"$P" \
	    --plan $plan)
	rc=$?
	echo "$out"
	assert_rc "plan $plan: every byte, the urgent one inline, both ways" 0 $rc
done

stop_lb4
finish

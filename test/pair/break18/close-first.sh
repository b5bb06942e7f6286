#!/bin/bash
# Finding (minor): the node that holds a flow forwards its packets away
# once its socket is a TIME_WAIT mini-socket (not a full socket: `socket
# wildcard` does not match, and conntrack's closing timeouts are short),
# with no VIP move at all.  Here the server closes first (an orphaned
# FIN_WAIT2 is a TIME_WAIT mini-socket in Linux); the client's FIN then
# goes to the peer, which answers it with a reset instead of this node's
# ACK.  Exit 0 when nothing was forwarded.
. "$(dirname "$0")/lib.sh"
SRV_CLOSE=1 setup
cat >"$T/c.py" <<'PY'
import socket, time
s = socket.create_connection(("10.98.0.10", 80), timeout=5)
s.sendall(b"hi"); s.recv(2)
print("server EOF:", s.recv(10) == b"")
time.sleep(0.2)
s.close()
time.sleep(0.3)
PY
nsx x18c python3 "$T/c.py"
echo "A forwarded=$(counter a forwarded), B not_held=$(counter b not_held) (no VIP move)"
if [ "$(counter a forwarded)" = 0 ]; then echo "PASS: close-first"; exit 0; fi
echo "FAIL: close-first: A forwarded packets of a flow it holds"; exit 1

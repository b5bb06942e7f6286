# shellcheck shell=bash
# lib-move.sh: move the VIP from A to B by hand (what keepalived does) and
# make the client learn it (what its gratuitous ARP does).
move_vip_to_b() {
	nsx x18a ip addr del "$VIP/24" dev eth0
	nsx x18b ip addr add "$VIP/24" dev eth0
	nsx x18c ip neigh flush dev eth0
}
# A client that holds one connection through the VIP: sends a line when
# it reads one on its stdin (a fifo), prints "ok N" or "cut ..." for each.
cat >"$T/hold.py" <<'PY'
import socket, sys
s = socket.create_connection(("10.98.0.10", 80), timeout=10)
print("open", flush=True)
for n, line in enumerate(sys.stdin):
    try:
        s.sendall(b"x" * 100)
        d = b""
        while len(d) < 100:
            b = s.recv(100 - len(d))
            if not b: raise OSError("EOF")
            d += b
        print("ok %d" % n, flush=True)
    except OSError as e:
        print("cut %s" % e, flush=True)
        break
PY

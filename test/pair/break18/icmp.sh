#!/bin/bash
# Held: an ICMP "fragmentation needed" sent to the VIP for a moved flow
# (A holds the flow, B the VIP) reaches A's socket: B copies it to A
# (counter icmp_forwarded), and A's TCP finds the connection (the error
# is checked against its sequence window: TcpExtOutOfWindowIcmps counts
# one with a made-up sequence number, proving the lookup found it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-move.sh"
setup
trap "" PIPE
mkfifo "$T/in"
nsx x18c python3 "$T/hold.py" <"$T/in" >"$T/out" & PIDS="$PIDS $!"
exec 5>"$T/in"
sleep 0.5; echo >&5; sleep 0.3
move_vip_to_b
sleep 0.3; echo >&5; sleep 0.3
cport=$(nsx x18c ss -Htn state established dst $VIP | awk '{ split($3, a, ":"); print a[2] }' | head -n 1)
cat >"$T/icmp.py" <<'PY'
import socket, struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
vip, cli, cport = sys.argv[1], sys.argv[2], int(sys.argv[3])
# The offending packet: VIP:80 -> client, as the holder of the flow sent it.
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1500, 1, 0x4000, 63, 6, 0, socket.inet_aton(vip), socket.inet_aton(cli))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
tcp8 = struct.pack("!HHI", 80, cport, 1)
icmp = struct.pack("!BBHHH", 3, 4, 0, 0, 1200) + ip + tcp8
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(icmp, (vip, 0))
PY
before=$(nsx x18a nstat -az TcpExtOutOfWindowIcmps | awk '/OutOfWindowIcmps/ { print $2 }')
nsx x18c python3 "$T/icmp.py" $VIP 10.98.0.100 "$cport"
sleep 0.5
after=$(nsx x18a nstat -az TcpExtOutOfWindowIcmps | awk '/OutOfWindowIcmps/ { print $2 }')
echo "client port $cport; B icmp_forwarded=$(counter b icmp_forwarded); A OutOfWindowIcmps $before -> $after"
echo >&5; sleep 0.3; cat "$T/out"
if [ "$(counter b icmp_forwarded)" = 1 ] && [ "$after" -gt "$before" ]; then echo "PASS: icmp"; exit 0; fi
echo "FAIL: icmp"; exit 1

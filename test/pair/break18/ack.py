# ack.py DST SPORT [TTL]: send one TCP ACK (no SYN) from this namespace's
# eth0 address to DST:80, for a flow nobody holds.
import socket, struct, sys
dst, sport = sys.argv[1], int(sys.argv[2])
ttl = int(sys.argv[3]) if len(sys.argv) > 3 else 64
src = "10.98.0.100"
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
tcp = struct.pack("!HHIIBBHHH", sport, 80, 12345, 67890, 5 << 4, 0x10, 65535, 0, 0)
ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
s.sendto(tcp, (dst, 0))

#!/usr/bin/env python3
"""nfttool: the helpers of test/pair/nft.sh (IPv4 and IPv6); every call is
bounded in time.

  serve SECONDS ADDR,PORT...        accept and close, on each address/port
  connect [-s SRC] ADDR PORT MS     prints connected, refused or timeout
  slowsend ADDR PORT NBYTES         on one connection, NBYTES in 10,000-byte
                                    chunks 0.25 s apart (quiet gaps)
  recv ADDR PORT NBYTES SECONDS     connects, reads until NBYTES or the
                                    time is up; prints the bytes read
With NFTTOOL_READY=FILE, serve, slowsend and vrrp6listen create FILE once
listening, recv once the first bytes arrived.
  ra SRC IFACE [COUNT]              sends router advertisements to ff02::1
  vrrp6 SRC DST IFACE HOPLIMIT [N]  sends VRRPv3 adverts (protocol 112)
  vrrp6listen SECONDS               counts protocol-112 packets received
"""
import errno
import os
import select
import socket
import struct
import sys
import time


def ready():
    """Creates $NFTTOOL_READY, if set: the test waits for it."""
    f = os.environ.get("NFTTOOL_READY")
    if f:
        open(f, "w").close()


def send_retry(s, msg, dst):
    """sendto, retried on ENOBUFS (a loaded machine's full veth queue)."""
    for _ in range(50):
        try:
            s.sendto(msg, dst)
            return
        except OSError as e:
            if e.errno != errno.ENOBUFS:
                raise
            time.sleep(0.02)


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(secs, specs):
    socks = []
    for spec in specs:
        addr, port = spec.rsplit(",", 1)
        s = socket.socket(fam(addr), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam(addr) == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, int(port)))
        s.listen(64)
        socks.append(s)
    ready()
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select(socks, [], [], 0.5)
        for s in r:
            c, _ = s.accept()
            c.close()


def connect(args):
    src = None
    if args[0] == "-s":
        src, args = args[1], args[2:]
    addr, port, ms = args[0], int(args[1]), int(args[2])
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(ms / 1000)
    try:
        s.connect((addr, port))
        print("connected")
    except ConnectionRefusedError:
        print("refused")
    except (socket.timeout, OSError):
        print("timeout")


def slowsend(addr, port, nbytes):
    ls = socket.socket(fam(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ready()
    ls.settimeout(60)
    c, _ = ls.accept()
    c.settimeout(30)
    sent = 0
    while sent < nbytes:
        n = min(10000, nbytes - sent)
        c.sendall(b"x" * n)
        sent += n
        time.sleep(0.25)
    time.sleep(1)
    c.close()


def recv(addr, port, nbytes, secs):
    # Retried: on a loaded machine the first ARP or neighbour discovery
    # can fail (EHOSTUNREACH) before the path is up.
    for _ in range(30):
        s = socket.socket(fam(addr), socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((addr, port))
            break
        except OSError:
            s.close()
            time.sleep(0.5)
    end = time.time() + secs
    got = 0
    while got < nbytes and time.time() < end:
        s.settimeout(max(0.1, end - time.time()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        if got == 0:
            ready()
        got += len(d)
    print(got)


def ra(src, iface, count):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    idx = socket.if_nametoindex(iface)
    s.bind((src, 0, 0, idx if src.startswith("fe80") else 0))
    prefix = socket.inet_pton(socket.AF_INET6, "2001:db8:77::")
    # type 134, code 0, checksum (kernel), hop limit 64, flags 0,
    # router lifetime 1800 s, reachable 0, retrans 0; prefix option.
    msg = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
    msg += struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + prefix
    for _ in range(count):
        send_retry(s, msg, ("ff02::1", 0, 0, idx))
        time.sleep(0.05)


def vrrp6(src, dst, iface, hops, count):
    # The kernel does not fill in the checksum of protocol 112; the test
    # only needs the packet to reach (or not) a raw socket on the node.
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hops)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
    idx = socket.if_nametoindex(iface)
    s.bind((src, 0, 0, idx))
    vip = socket.inet_pton(socket.AF_INET6, "2001:db8:98::10")
    msg = struct.pack("!BBBBHH", 0x31, 51, 254, 1, 100, 0) + vip
    for _ in range(count):
        send_retry(s, msg, (dst, 0, 0, idx))
        time.sleep(0.05)


def vrrp6listen(secs):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
    s.settimeout(0.2)
    ready()
    end = time.time() + secs
    n = 0
    while time.time() < end:
        try:
            s.recvfrom(2048)
            n += 1
        except socket.timeout:
            pass
    print(n)


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd, a = a[0], a[1:]
    if cmd == "serve":
        serve(float(a[0]), a[1:])
    elif cmd == "connect":
        connect(a)
    elif cmd == "slowsend":
        slowsend(a[0], int(a[1]), int(a[2]))
    elif cmd == "recv":
        recv(a[0], int(a[1]), int(a[2]), float(a[3]))
    elif cmd == "ra":
        ra(a[0], a[1], int(a[2]) if len(a) > 2 else 3)
    elif cmd == "vrrp6":
        vrrp6(a[0], a[1], a[2], int(a[3]), int(a[4]) if len(a) > 4 else 5)
    elif cmd == "vrrp6listen":
        vrrp6listen(float(a[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
